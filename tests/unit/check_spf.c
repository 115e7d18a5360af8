/*
 * check_spf.c - SPF: record parsing, check_host() with each limit and
 * hostile records, and the scan step (symbols, actions, headers, log)
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "dns.h"
#include "helpers.h"
#include "spf.h"
#include "strmap.h"

/* ---- parse ---- */

static const struct {
	const char *name;
	const char *rec;
	bool	 ok;
	size_t	 nterms;
	const char *why;	/* substring of the error */
} parse_cases[] = {
	{ "empty record", "v=spf1", true, 0, NULL },
	{ "case-insensitive version", "V=SpF1 -ALL", true, 1, NULL },
	{ "every mechanism", "v=spf1 all include:a.example a a:b.example/24 "
	  "mx mx:c.example//64 mx/24//48 ptr ptr:d.example ip4:192.0.2.0/24 "
	  "ip6:2001:db8::/32 exists:%{i}.e.example", true, 12, NULL },
	{ "qualifiers", "v=spf1 +a -a ~a ?a", true, 4, NULL },
	{ "modifiers", "v=spf1 redirect=a.example exp=b.example", true, 0,
	  NULL },
	{ "unknown modifier ignored", "v=spf1 moo.cow-far_out=man:dog/cat -all",
	  true, 1, NULL },
	{ "extra spaces", "v=spf1  a   -all  ", true, 2, NULL },
	{ "missing separator", "v=spf1a", false, 0, "not an SPF record" },
	{ "unknown mechanism", "v=spf1 foo", false, 0, "unknown mechanism" },
	{ "redirect with colon", "v=spf1 redirect:a.example", false, 0,
	  "unknown mechanism" },
	{ "redirect twice", "v=spf1 redirect=a.example redirect=b.example",
	  false, 0, "twice" },
	{ "exp twice", "v=spf1 exp=a.example exp=b.example", false, 0,
	  "twice" },
	{ "empty exp", "v=spf1 exp=", false, 0, "empty" },
	{ "bad modifier name", "v=spf1 moo.cow/far_out=man -all", false, 0,
	  "unknown mechanism" },
	{ "modifier name starts with a digit", "v=spf1 1up=foo", false, 0,
	  "unknown mechanism" },
	{ "empty modifier name", "v=spf1 =all", false, 0, NULL },
	{ "bad macro in unknown modifier", "v=spf1 foo=%abc", false, 0, NULL },
	{ "all with argument", "v=spf1 -all:foo", false, 0, NULL },
	{ "all with cidr", "v=spf1 -all/8", false, 0, NULL },
	{ "include without domain", "v=spf1 include", false, 0, NULL },
	{ "include empty domain", "v=spf1 include:", false, 0, "empty" },
	{ "include with cidr", "v=spf1 include:a.example/24", false, 0,
	  "top label" },
	{ "exists with cidr", "v=spf1 exists:a.example/24", false, 0,
	  "top label" },
	{ "ptr with cidr", "v=spf1 ptr/0", false, 0, NULL },
	{ "a cidr 33", "v=spf1 a/33", false, 0, "CIDR" },
	{ "a cidr6 129", "v=spf1 a//129", false, 0, "CIDR" },
	{ "a cidr leading zero", "v=spf1 a/032", false, 0, "CIDR" },
	{ "a dual cidr without //", "v=spf1 a/24/64", false, 0, "CIDR" },
	{ "a numeric top label", "v=spf1 a:192.0.2.1", false, 0, "top label" },
	{ "a single label", "v=spf1 a:museum", false, 0, "top label" },
	{ "a bad top label", "v=spf1 a:example.-com", false, 0, "top label" },
	{ "a colon in domain", "v=spf1 a:foo:bar/baz.example.com", true, 1,
	  NULL },
	{ "a macro domain end", "v=spf1 a:%{d}", true, 1, NULL },
	{ "exp-only macro in domain", "v=spf1 a:%{r}.example", false, 0,
	  "only allowed in explanations" },
	{ "ip4 bare", "v=spf1 ip4", false, 0, "ip4" },
	{ "ip4 short", "v=spf1 ip4:1.2.3", false, 0, "ip4" },
	{ "ip4 port", "v=spf1 ip4:1.2.3.4:8080", false, 0, "ip4" },
	{ "ip4 dual cidr", "v=spf1 ip4:1.2.3.4//32", false, 0, "ip4" },
	{ "ip6 bad", "v=spf1 ip6::CAFE::BABE", false, 0, "ip6" },
	{ "ip6 v4-compatible", "v=spf1 ip6:::1.1.1.1/0", true, 1, NULL },
	{ "control character", "v=spf1 a:ctrl.example.com\rptr -all", false, 0,
	  "0x0d" },
	{ "newline", "v=spf1 ip4:192.0.2.5\n include:a.example ~all", false, 0,
	  "ip4" },
	{ "non-ascii", "v=spf1 a:\xef\xbb\xbfgarbage.example.net -all", false,
	  0, NULL },
	{ "syntax error after a match", "v=spf1 ip4:1.2.3.4 -all moo", false,
	  0, "unknown mechanism" },
};

START_TEST(test_spf_parse_table)
{
	struct spf_record *r;
	struct buf why = BUF_INIT;
	int rc;

	rc = spf_parse(parse_cases[_i].rec, strlen(parse_cases[_i].rec), &r,
	    &why);
	ck_assert_msg((rc == 0) == parse_cases[_i].ok, "%s: rc %d (%s)",
	    parse_cases[_i].name, rc, buf_cstr(&why));
	if (rc == 0) {
		ck_assert_msg(r->nterms == parse_cases[_i].nterms,
		    "%s: %zu terms", parse_cases[_i].name, r->nterms);
		spf_record_free(r);
	} else {
		ck_assert_ptr_null(r);
		if (parse_cases[_i].why)
			ck_assert_msg(strstr(buf_cstr(&why),
			    parse_cases[_i].why) != NULL, "%s: got '%s', want "
			    "'%s'", parse_cases[_i].name, buf_cstr(&why),
			    parse_cases[_i].why);
	}
	buf_release(&why);
}
END_TEST

START_TEST(test_spf_parse_nul_byte_is_an_error)
{
	struct spf_record *r;
	struct buf why = BUF_INIT;

	ck_assert_int_eq(spf_parse("v=spf1 a:foo.example.com\0", 25, &r, &why),
	    -1);
	buf_release(&why);
}
END_TEST

START_TEST(test_spf_parse_fields)
{
	struct spf_record *r;
	struct buf why = BUF_INIT;

	static const char rec[] = "v=spf1 ~mx:m.example/24//48 "
	    "redirect=%{d}.r.example";

	ck_assert_int_eq(spf_parse(rec, sizeof(rec) - 1, &r, &why), 0);
	ck_assert_uint_eq(r->nterms, 1);
	ck_assert_int_eq(r->terms[0].mech, SPF_MECH_MX);
	ck_assert_int_eq(r->terms[0].qual, SPF_SOFTFAIL);
	ck_assert_str_eq(r->terms[0].domain_spec, "m.example");
	ck_assert_int_eq(r->terms[0].cidr4, 24);
	ck_assert_int_eq(r->terms[0].cidr6, 48);
	ck_assert_str_eq(r->redirect, "%{d}.r.example");
	ck_assert_ptr_null(r->exp);
	spf_record_free(r);
	buf_release(&why);
}
END_TEST

/* ---- check_host over tests/data/spf/spf.zone ---- */

static struct dns_resolver *
spf_zone(void)
{
	const char *path = test_data("spf/spf.zone");
	struct dns_resolver *r;
	struct buf why = BUF_INIT;

	if (dns_zone_open(&path, 1, NULL, &r, &why) < 0)
		ck_abort_msg("%s", buf_cstr(&why));
	buf_release(&why);
	return r;
}

static const struct {
	const char *name;
	const char *ip;
	const char *sender;
	const char *helo;
	enum spf_result want;
	const char *detail;	/* mechanism, or problem substring */
	int	 lookups;	/* -1: not checked */
} eval_cases[] = {
	{ "ip4 pass", "192.0.2.5", "a@pass.example.org", "h.example", SPF_PASS,
	  "ip4:192.0.2.0/24", 0 },
	{ "ip6 pass", "2001:db8::5", "a@pass.example.org", "h.example",
	  SPF_PASS, "ip6:2001:db8::/32", 0 },
	{ "mapped client is ipv4", "::ffff:192.0.2.5", "a@pass.example.org",
	  "h.example", SPF_PASS, "ip4:192.0.2.0/24", 0 },
	{ "fail", "198.51.100.1", "a@pass.example.org", "h.example", SPF_FAIL,
	  "-all", 0 },
	{ "upper-case sender domain", "192.0.2.5", "a@PASS.Example.ORG",
	  "h.example", SPF_PASS, NULL, 0 },
	{ "mx", "192.0.2.10", "a@mx.example.org", "h.example", SPF_PASS, "mx",
	  1 },
	{ "mx ipv6", "2001:db8::10", "a@mx.example.org", "h.example", SPF_PASS,
	  "mx", 1 },
	{ "a with cidr", "192.0.2.12", "a@acidr.example.org", "h.example",
	  SPF_PASS, "a:mx1.example.org/28", 1 },
	{ "a outside cidr", "192.0.2.17", "a@acidr.example.org", "h.example",
	  SPF_FAIL, "-all", 1 },
	{ "include pass", "192.0.2.5", "a@inc.example.org", "h.example",
	  SPF_PASS, "include:pass.example.org", 1 },
	{ "include fail is no match", "198.51.100.1", "a@inc.example.org",
	  "h.example", SPF_FAIL, "-all", 1 },
	{ "softfail", "192.0.2.5", "a@soft.example.org", "h.example",
	  SPF_SOFTFAIL, "~all", 0 },
	{ "neutral", "192.0.2.5", "a@neutral.example.org", "h.example",
	  SPF_NEUTRAL, "?all", 0 },
	{ "no match is neutral", "192.0.2.5", "a@d13.example.org", "h.example",
	  SPF_PASS, "+all", 0 },
	{ "cname to a record", "192.0.2.5", "a@alias.example.org", "h.example",
	  SPF_PASS, NULL, 0 },
	{ "macros in exists", "192.0.2.5", "fred@exists.example.org",
	  "h.example", SPF_PASS, NULL, 1 },
	{ "domain without spf", "192.0.2.5", "a@nospf.example.org", "h.example",
	  SPF_NONE, NULL, 0 },
	{ "nxdomain", "192.0.2.5", "a@nowhere.example.org", "h.example",
	  SPF_NONE, NULL, 0 },
	{ "missing v=spf1 separator", "192.0.2.5", "a@nosep.example.org",
	  "h.example", SPF_NONE, NULL, 0 },
	{ "include loop", "192.0.2.5", "a@loop1.example.org", "h.example",
	  SPF_PERMERROR, "more than 10 DNS-querying terms", 11 },
	{ "redirect loop", "192.0.2.5", "a@rloop.example.org", "h.example",
	  SPF_PERMERROR, "more than 10 DNS-querying terms", 11 },
	{ "deep include chain", "192.0.2.5", "a@d1.example.org", "h.example",
	  SPF_PERMERROR, "more than 10", 11 },
	{ "include of a name without spf", "192.0.2.5",
	  "a@incnone.example.org", "h.example", SPF_PERMERROR,
	  "has no SPF record", 1 },
	{ "redirect to a name without spf", "192.0.2.5",
	  "a@redirnone.example.org", "h.example", SPF_PERMERROR,
	  "has no SPF record", 1 },
	{ "two spf records", "192.0.2.5", "a@two.example.org", "h.example",
	  SPF_PERMERROR, "2 SPF records", 0 },
	{ "non-ascii record", "192.0.2.5", "a@nonascii.example.org",
	  "h.example", SPF_PERMERROR, "unknown mechanism", 0 },
	{ "bad cidr", "192.0.2.5", "a@perm.example.org", "h.example",
	  SPF_PERMERROR, "bad ip4 network", 0 },
	{ "two void lookups allowed", "192.0.2.5", "a@void2.example.org",
	  "h.example", SPF_FAIL, "-all", 2 },
	{ "third void lookup", "192.0.2.5", "a@void3.example.org", "h.example",
	  SPF_PERMERROR, "more than 2 void lookups", 3 },
	{ "more than 10 mx names", "203.0.113.1", "a@manymx.example.org",
	  "h.example", SPF_PERMERROR, "11 MX names", 1 },
	{ "ptr names past 10 ignored", "192.0.2.77", "a@ptr11.example.org",
	  "h.example", SPF_FAIL, "-all", 1 },
	{ "ptr lookup error is no match", "192.0.2.78",
	  "a@ptrfail.example.org", "h.example", SPF_FAIL, "-all", 1 },
	{ "txt timeout", "192.0.2.5", "a@txtto.example.org", "h.example",
	  SPF_TEMPERROR, "timeout for TXT txtto.example.org", 0 },
	{ "txt servfail", "192.0.2.5", "a@txtsf.example.org", "h.example",
	  SPF_TEMPERROR, "servfail for TXT", 0 },
	{ "include target timeout", "192.0.2.5", "a@incto.example.org",
	  "h.example", SPF_TEMPERROR, "timeout", 1 },
	{ "a lookup timeout", "192.0.2.5", "a@ato.example.org", "h.example",
	  SPF_TEMPERROR, "timeout for A slowhost", 1 },
	{ "mx host timeout", "192.0.2.5", "a@mxto.example.org", "h.example",
	  SPF_TEMPERROR, "timeout for A slowhost", 1 },
	{ "exists servfail", "192.0.2.5", "a@existsf.example.org", "h.example",
	  SPF_TEMPERROR, "servfail", 1 },
	{ "exp lookup timeout keeps the fail", "192.0.2.5",
	  "a@expto.example.org", "h.example", SPF_FAIL, "-all", 0 },
	{ "lookups counted", "192.0.2.5", "a@count.example.org", "h.example",
	  SPF_PASS, "include:pass.example.org", 3 },
	{ "null sender checks helo", "192.0.2.20", "", "helo.example.org",
	  SPF_PASS, "a", 1 },
	{ "null sender helo literal", "192.0.2.20", "", "[192.0.2.20]",
	  SPF_NONE, NULL, 0 },
	{ "null sender single-label helo", "192.0.2.20", "", "localhost",
	  SPF_NONE, NULL, 0 },
	{ "null sender no helo", "192.0.2.20", "", NULL, SPF_NONE, NULL, 0 },
	{ "empty local part", "192.0.2.5", "@pass.example.org", "h.example",
	  SPF_PASS, NULL, 0 },
	{ "domain literal sender", "192.0.2.5", "a@[192.0.2.5]", "h.example",
	  SPF_NONE, NULL, 0 },
};

START_TEST(test_spf_eval_table)
{
	struct dns_resolver *r = spf_zone();
	struct spf_request req;
	struct spf_outcome o;
	struct buf tr = BUF_INIT;

	memset(&req, 0, sizeof(req));
	ck_assert_int_eq(netaddr_parse(eval_cases[_i].ip, &req.ip), 0);
	req.sender = eval_cases[_i].sender;
	req.helo = eval_cases[_i].helo;
	req.receiver = "mx.receiver.example";
	req.now = 1700000000;
	spf_check(r, NULL, &req, SPF_ID_MAILFROM, NULL, &o, &tr);
	ck_assert_msg(o.result == eval_cases[_i].want, "%s: got %s, want %s "
	    "(problem %s)\n%s", eval_cases[_i].name, spf_result_name(o.result),
	    spf_result_name(eval_cases[_i].want), o.problem ? o.problem : "-",
	    buf_cstr(&tr));
	if (eval_cases[_i].detail) {
		const char *d = o.problem ? o.problem : o.mechanism;

		ck_assert_msg(d && strstr(d, eval_cases[_i].detail), "%s: got "
		    "'%s', want '%s'", eval_cases[_i].name, d ? d : "(null)",
		    eval_cases[_i].detail);
	}
	if (eval_cases[_i].lookups >= 0)
		ck_assert_msg(o.lookups == (unsigned)eval_cases[_i].lookups,
		    "%s: %u lookups, want %d", eval_cases[_i].name, o.lookups,
		    eval_cases[_i].lookups);
	if (o.result != SPF_TEMPERROR && o.result != SPF_PERMERROR)
		ck_assert_ptr_null(o.problem);
	if (o.result == SPF_FAIL)
		ck_assert_ptr_nonnull(o.explanation);
	else
		ck_assert_ptr_null(o.explanation);
	spf_outcome_release(&o);
	buf_release(&tr);
	dns_resolver_free(r);
}
END_TEST

START_TEST(test_spf_explanation_from_exp_and_default)
{
	struct dns_resolver *r = spf_zone();
	struct spf_request req;
	struct spf_outcome o;

	memset(&req, 0, sizeof(req));
	netaddr_parse("198.51.100.7", &req.ip);
	req.sender = "joe@exp.example.org";
	req.helo = "h.example";
	ck_assert_int_eq(spf_check(r, NULL, &req, SPF_ID_MAILFROM, NULL, &o,
	    NULL), SPF_FAIL);
	ck_assert_str_eq(o.explanation,
	    "198.51.100.7 may not send for exp.example.org (joe)");
	ck_assert(o.exp_from_domain);
	spf_outcome_release(&o);

	req.sender = "joe@expto.example.org";	/* exp= lookup times out */
	req.default_exp = "no: %{i} for %{o}";
	ck_assert_int_eq(spf_check(r, NULL, &req, SPF_ID_MAILFROM, NULL, &o,
	    NULL), SPF_FAIL);
	ck_assert_str_eq(o.explanation, "no: 198.51.100.7 for expto.example.org");
	ck_assert(!o.exp_from_domain);
	spf_outcome_release(&o);
	dns_resolver_free(r);
}
END_TEST

START_TEST(test_spf_helo_identity)
{
	struct dns_resolver *r = spf_zone();
	struct spf_request req;
	struct spf_outcome o;

	memset(&req, 0, sizeof(req));
	netaddr_parse("198.51.100.7", &req.ip);
	req.sender = "a@pass.example.org";
	req.helo = "helo.example.org";
	ck_assert_int_eq(spf_check(r, NULL, &req, SPF_ID_HELO, NULL, &o, NULL),
	    SPF_FAIL);
	ck_assert_int_eq(o.identity, SPF_ID_HELO);
	ck_assert_str_eq(o.sender, "postmaster@helo.example.org");
	ck_assert_str_eq(o.domain, "helo.example.org");
	spf_outcome_release(&o);
	dns_resolver_free(r);
}
END_TEST

START_TEST(test_spf_limits_are_configurable)
{
	struct dns_resolver *r = spf_zone();
	struct spf_request req;
	struct spf_outcome o;
	struct spf_limits lim;

	memset(&req, 0, sizeof(req));
	netaddr_parse("192.0.2.5", &req.ip);
	req.sender = "a@d1.example.org";	/* 12 nested includes */
	spf_limits_default(&lim);
	lim.max_dns_terms = 20;
	ck_assert_int_eq(spf_check(r, NULL, &req, SPF_ID_MAILFROM, &lim, &o,
	    NULL), SPF_PASS);
	ck_assert_uint_eq(o.lookups, 12);
	spf_outcome_release(&o);
	req.sender = "a@void3.example.org";
	lim.max_void = 3;
	ck_assert_int_eq(spf_check(r, NULL, &req, SPF_ID_MAILFROM, &lim, &o,
	    NULL), SPF_FAIL);
	spf_outcome_release(&o);
	dns_resolver_free(r);
}
END_TEST

START_TEST(test_spf_include_depth_is_bounded)
{
	struct buf z = BUF_INIT, why = BUF_INIT;
	struct dns_resolver *r;
	struct spf_request req;
	struct spf_outcome o;
	struct spf_limits lim;
	int i;

	for (i = 0; i < 40; i++)
		buf_printf(&z, "n%d.example. TXT \"v=spf1 include:n%d.example\"\n",
		    i, i + 1);
	ck_assert_int_eq(dns_zone_open_text(z.data, z.len, "deep", NULL, &r,
	    &why), 0);
	memset(&req, 0, sizeof(req));
	netaddr_parse("192.0.2.5", &req.ip);
	req.sender = "a@n0.example";
	spf_limits_default(&lim);
	lim.max_dns_terms = 100;
	ck_assert_int_eq(spf_check(r, NULL, &req, SPF_ID_MAILFROM, &lim, &o,
	    NULL), SPF_PERMERROR);
	ck_assert(strstr(o.problem, "nested deeper") != NULL);
	spf_outcome_release(&o);
	dns_resolver_free(r);
	buf_release(&z);
	buf_release(&why);
}
END_TEST

/* a_record_zone - one TXT record of about len bytes, split in strings */
static struct dns_resolver *
long_record_zone(const char *term_fmt, size_t len)
{
	struct buf rec = BUF_INIT, z = BUF_INIT, why = BUF_INIT;
	struct dns_resolver *r;
	size_t i, n = 0;

	buf_adds(&rec, "v=spf1");
	while (rec.len < len)
		buf_printf(&rec, term_fmt, (unsigned)(n++ % 250));
	buf_adds(&rec, " ip4:192.0.2.200 -all");
	buf_adds(&z, "long.example. TXT");
	for (i = 0; i < rec.len; i += 255)
		buf_printf(&z, " \"%.*s\"", (int)(rec.len - i < 255 ?
		    rec.len - i : 255), rec.data + i);
	buf_adds(&z, "\n");
	ck_assert_int_eq(dns_zone_open_text(z.data, z.len, "long", NULL, &r,
	    &why), 0);
	buf_release(&rec);
	buf_release(&z);
	buf_release(&why);
	return r;
}

START_TEST(test_spf_ten_thousand_character_record)
{
	struct dns_resolver *r = long_record_zone(" ip4:203.0.113.%u", 10000);
	struct spf_request req;
	struct spf_outcome o;

	memset(&req, 0, sizeof(req));
	req.sender = "a@long.example";
	netaddr_parse("192.0.2.200", &req.ip);
	ck_assert_int_eq(spf_check(r, NULL, &req, SPF_ID_MAILFROM, NULL, &o,
	    NULL), SPF_PASS);
	spf_outcome_release(&o);
	netaddr_parse("198.51.100.1", &req.ip);
	ck_assert_int_eq(spf_check(r, NULL, &req, SPF_ID_MAILFROM, NULL, &o,
	    NULL), SPF_FAIL);
	spf_outcome_release(&o);
	dns_resolver_free(r);

	/* thousands of DNS terms stop at the limit, not at the end */
	r = long_record_zone(" a:h%u.example", 10000);
	ck_assert_int_eq(spf_check(r, NULL, &req, SPF_ID_MAILFROM, NULL, &o,
	    NULL), SPF_PERMERROR);
	ck_assert_uint_le(o.queries, 12);
	spf_outcome_release(&o);
	dns_resolver_free(r);
}
END_TEST

START_TEST(test_spf_budget_exhausted_is_temperror)
{
	const char *path = test_data("spf/spf.zone");
	struct dns_resolver *r;
	struct dns_budget b;
	struct spf_request req;
	struct spf_outcome o;
	struct timespec t0, t1;
	double ms;

	ck_assert_int_eq(dns_zone_open(&path, 1, NULL, &r, NULL), 0);
	memset(&req, 0, sizeof(req));
	netaddr_parse("192.0.2.5", &req.ip);
	req.sender = "a@slowspf.example.org";	/* answers after 400 ms */
	dns_budget_init(&b, 50);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ck_assert_int_eq(spf_check(r, &b, &req, SPF_ID_MAILFROM, NULL, &o,
	    NULL), SPF_TEMPERROR);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (double)(t1.tv_sec - t0.tv_sec) * 1000 +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
	ck_assert_msg(ms < 200, "took %.1f ms", ms);
	ck_assert(strstr(o.problem, "timeout") != NULL);
	ck_assert_uint_eq(b.failures, 1);
	spf_outcome_release(&o);
	dns_budget_release(&b);
	dns_resolver_free(r);
}
END_TEST

START_TEST(test_spf_received_spf_value)
{
	struct spf_request req;
	struct spf_outcome o;
	struct buf v = BUF_INIT;

	memset(&req, 0, sizeof(req));
	memset(&o, 0, sizeof(o));
	netaddr_parse("192.0.2.1", &req.ip);
	req.sender = "a\"b@example.org";
	req.helo = "mx(evil).example";
	o.result = SPF_PASS;
	o.identity = SPF_ID_MAILFROM;
	o.sender = xstrdup("a\"b@example.org");
	o.mechanism = xstrdup("ip4:192.0.2.0/24");
	spf_received_value(&o, &req, "mx.receiver.example", &v);
	ck_assert_str_eq(buf_cstr(&v), "pass (mx.receiver.example: domain of "
	    "a?b@example.org designates 192.0.2.1 as permitted sender)\n"
	    "\tclient-ip=192.0.2.1; envelope-from=\"a?b@example.org\"; "
	    "helo=\"mx?evil?.example\"; receiver=\"mx.receiver.example\"; "
	    "identity=mailfrom; mechanism=\"ip4:192.0.2.0/24\";");
	spf_outcome_release(&o);
	buf_release(&v);
}
END_TEST

/* ---- the scan step ---- */

static const char msgtext[] = "From: a@pass.example.org\r\n"
    "To: b@example.net\r\nSubject: hi\r\n\r\nhello\r\n";

static struct engine *
spf_engine(const char *extra)
{
	char *zone = xstrdup(test_data("spf/spf.zone"));
	struct buf text = BUF_INIT;
	struct engine *e;

	/* DMARC off unless a test turns it on: the From here is fixed */
	buf_printf(&text, "dns_zone_files = %s\nauthserv_id = mx.test\n"
	    "dmarc = no\n%s", zone, extra);
	e = test_engine(text.data);
	buf_release(&text);
	free(zone);
	return e;
}

static const struct {
	const char *name;
	const char *conf;
	const char *ip, *helo, *from;
	enum action action;
	const char *code;	/* "550 5.7.23" or NULL */
	const char *symbol;
	const char *authres;
	const char *reply;	/* substring of the reply text */
} scan_cases[] = {
	{ "pass", "", "192.0.2.5", "h.example", "a@pass.example.org",
	  ACTION_ACCEPT, NULL, "SPF_PASS",
	  "spf=pass smtp.mailfrom=a@pass.example.org", NULL },
	{ "fail scores only by default", "", "198.51.100.1", "h.example",
	  "a@pass.example.org", ACTION_ACCEPT, NULL, "SPF_FAIL",
	  "spf=fail smtp.mailfrom=a@pass.example.org", NULL },
	{ "fail reject", "spf_fail_action = reject\n", "198.51.100.9",
	  "h.example", "joe@exp.example.org", ACTION_REJECT, "550 5.7.23",
	  "SPF_FAIL", "spf=fail",
	  "198.51.100.9 may not send for exp.example.org (joe)" },
	{ "fail reject default explanation", "spf_fail_action = reject\n",
	  "198.51.100.9", "h.example", "joe@pass.example.org", ACTION_REJECT,
	  "550 5.7.23", "SPF_FAIL", "spf=fail", "pass.example.org does not "
	  "designate 198.51.100.9 as permitted sender" },
	{ "fail tag", "spf_fail_action = tag\n", "198.51.100.1", "h.example",
	  "a@pass.example.org", ACTION_TAG, NULL, "SPF_FAIL", "spf=fail",
	  NULL },
	{ "softfail is not fail", "spf_fail_action = reject\n", "192.0.2.5",
	  "h.example", "a@soft.example.org", ACTION_ACCEPT, NULL,
	  "SPF_SOFTFAIL", "spf=softfail", NULL },
	{ "permerror reject", "spf_permerror_action = reject\n", "192.0.2.5",
	  "h.example", "a@two.example.org", ACTION_REJECT, "550 5.7.24",
	  "SPF_PERMERROR", "spf=permerror (two.example.org has 2 SPF records)",
	  "2 SPF records" },
	{ "temperror tempfail", "spf_temperror_action = tempfail\n",
	  "192.0.2.5", "h.example", "a@txtto.example.org", ACTION_TEMPFAIL,
	  "451 4.4.3", "SPF_TEMPERROR", "spf=temperror (DNS timeout", "could "
	  "not complete" },
	{ "temperror accept", "", "192.0.2.5", "h.example",
	  "a@txtto.example.org", ACTION_ACCEPT, NULL, "SPF_TEMPERROR",
	  "spf=temperror", NULL },
	{ "temperror never becomes a reject",
	  "spf_fail_action = reject\nspf_permerror_action = reject\n",
	  "192.0.2.5", "h.example", "a@incto.example.org", ACTION_ACCEPT, NULL,
	  "SPF_TEMPERROR", "spf=temperror", NULL },
	{ "null sender uses helo", "spf_fail_action = reject\n", "198.51.100.1",
	  "helo.example.org", "", ACTION_REJECT, "550 5.7.23", "SPF_FAIL",
	  "spf=fail smtp.helo=helo.example.org", "SPF HELO check failed" },
	{ "helo checked too", "", "192.0.2.20", "helo.example.org",
	  "a@pass.example.org", ACTION_ACCEPT, NULL, "SPF_HELO_PASS",
	  "spf=pass smtp.mailfrom=a@pass.example.org", NULL },
	{ "score override rejects", "symbol_scores = SPF_FAIL=20\n",
	  "198.51.100.1", "h.example", "a@pass.example.org", ACTION_REJECT,
	  "550 5.7.1", "SPF_FAIL", "spf=fail", "SPF_FAIL" },
	{ "message deadline", "dns_message_timeout = 50\n"
	  "spf_temperror_action = tempfail\n", "192.0.2.5", "h.example",
	  "a@slowspf.example.org", ACTION_TEMPFAIL, "451 4.4.3",
	  "SPF_TEMPERROR", "spf=temperror", "timeout" },
};

START_TEST(test_spf_scan_table)
{
	struct engine *e = spf_engine(scan_cases[_i].conf);
	struct msg *m;
	struct scan *s;
	struct buf ar = BUF_INIT, code = BUF_INIT;
	const char *n = scan_cases[_i].name;

	s = test_scan_text(e, scan_cases[_i].ip, scan_cases[_i].helo,
	    scan_cases[_i].from, "b@example.net", msgtext, sizeof(msgtext) - 1,
	    &m);
	ck_assert_msg(s->verdict.action == scan_cases[_i].action, "%s: action "
	    "%s", n, action_name(s->verdict.action));
	ck_assert_msg(verdict_symbol(&s->verdict, scan_cases[_i].symbol) !=
	    NULL, "%s: no %s", n, scan_cases[_i].symbol);
	verdict_authres_value(&s->verdict, "mx.test", &ar);
	ck_assert_msg(strstr(buf_cstr(&ar), scan_cases[_i].authres) != NULL,
	    "%s: A-R '%s'", n, buf_cstr(&ar));
	if (scan_cases[_i].code) {
		buf_printf(&code, "%s %s", s->verdict.smtp_code,
		    s->verdict.smtp_xcode);
		ck_assert_msg(strcmp(buf_cstr(&code), scan_cases[_i].code) == 0,
		    "%s: code '%s'", n, buf_cstr(&code));
	}
	if (scan_cases[_i].reply)
		ck_assert_msg(s->verdict.reply_text && strstr(
		    s->verdict.reply_text, scan_cases[_i].reply), "%s: reply "
		    "'%s'", n, s->verdict.reply_text ? s->verdict.reply_text :
		    "(none)");
	ck_assert_ptr_nonnull(s->spf);
	ck_assert_msg(s->verdict.dns_degraded == (s->spf->mailfrom.result ==
	    SPF_TEMPERROR), "%s: dns_degraded %d", n, s->verdict.dns_degraded);
	buf_release(&ar);
	buf_release(&code);
	scan_free(&s);
	msg_free(&m);
	engine_unref(e);
}
END_TEST

START_TEST(test_spf_scan_outcome_for_dmarc_and_log)
{
	struct engine *e = spf_engine("");
	struct msg *m;
	struct scan *s;
	struct buf line = BUF_INIT;

	s = test_scan_text(e, "192.0.2.20", "helo.example.org",
	    "a@acidr.example.org", "b@example.net", msgtext,
	    sizeof(msgtext) - 1, &m);
	ck_assert_ptr_nonnull(s->spf);
	ck_assert_int_eq(s->spf->mailfrom.result, SPF_FAIL);
	ck_assert_int_eq(s->spf->mailfrom.identity, SPF_ID_MAILFROM);
	ck_assert_str_eq(s->spf->mailfrom.domain, "acidr.example.org");
	ck_assert(s->spf->helo_checked);
	ck_assert_int_eq(s->spf->helo.result, SPF_PASS);
	scan_log_line(s, &line);
	ck_assert_msg(strstr(buf_cstr(&line), "\"spf\":{\"result\":\"fail\","
	    "\"identity\":\"mailfrom\",\"sender\":\"a@acidr.example.org\","
	    "\"domain\":\"acidr.example.org\",\"mechanism\":\"-all\","
	    "\"record_domain\":\"acidr.example.org\",\"explanation\":") !=
	    NULL,
	    "%s", buf_cstr(&line));
	ck_assert(strstr(buf_cstr(&line), "\"lookups\":1,\"void_lookups\":0,"
	    "\"queries\":2,\"helo\":{\"result\":\"pass\"") != NULL);
	buf_release(&line);
	scan_free(&s);
	msg_free(&m);
	engine_unref(e);
}
END_TEST

/* the SPF outcome reaches DMARC (step_dmarc's adapter reads s->spf) */
START_TEST(test_spf_scan_feeds_dmarc)
{
	struct engine *e = spf_engine("dmarc = yes\n");
	struct msg *m;
	struct scan *s;
	struct buf line = BUF_INIT;

	s = test_scan_text(e, "192.0.2.5", "h.example", "a@pass.example.org",
	    "b@example.net", msgtext, sizeof(msgtext) - 1, &m);
	ck_assert_ptr_nonnull(verdict_symbol(&s->verdict, "DMARC_PASS"));
	ck_assert_int_eq(s->verdict.action, ACTION_ACCEPT);
	scan_log_line(s, &line);
	ck_assert_msg(strstr(buf_cstr(&line), "\"domain\":\"pass.example.org\","
	    "\"result\":\"pass\"") != NULL, "%s", buf_cstr(&line));
	buf_release(&line);
	scan_free(&s);
	msg_free(&m);
	s = test_scan_text(e, "198.51.100.1", "h.example",
	    "a@pass.example.org", "b@example.net", msgtext,
	    sizeof(msgtext) - 1, &m);
	ck_assert_ptr_nonnull(verdict_symbol(&s->verdict, "DMARC_REJECT"));
	ck_assert_int_eq(s->verdict.action, ACTION_REJECT);
	scan_free(&s);
	msg_free(&m);
	engine_unref(e);
}
END_TEST

START_TEST(test_spf_scan_received_spf_header)
{
	struct engine *e = spf_engine("spf_received_header = yes\n");
	struct msg *m;
	struct scan *s;
	struct hdr_edits ed;
	size_t i;
	bool found = false;

	s = test_scan_text(e, "192.0.2.5", "h.example", "a@pass.example.org",
	    "b@example.net", msgtext, sizeof(msgtext) - 1, &m);
	verdict_header_edits(&s->verdict, m, e->conf, &ed);
	for (i = 0; i < ed.n; i++)
		if (strcmp(ed.v[i].name, "Received-SPF") == 0) {
			found = true;
			ck_assert_int_eq(ed.v[i].op, EDIT_PREPEND);
			ck_assert_msg(strstr(ed.v[i].value, "pass (mx.test: "
			    "domain of a@pass.example.org designates 192.0.2.5 "
			    "as permitted sender)") == ed.v[i].value, "%s",
			    ed.v[i].value);
		}
	ck_assert(found);
	hdr_edits_release(&ed);
	scan_free(&s);
	msg_free(&m);
	engine_unref(e);
}
END_TEST

START_TEST(test_spf_scan_without_client_address)
{
	struct engine *e = spf_engine("");
	struct msg *m;
	struct scan *s;
	struct buf line = BUF_INIT;

	s = test_scan_text(e, NULL, "h.example", "a@pass.example.org",
	    "b@example.net", msgtext, sizeof(msgtext) - 1, &m);
	ck_assert_ptr_null(s->spf);
	ck_assert_ptr_null(verdict_symbol(&s->verdict, "SPF_NONE"));
	scan_log_line(s, &line);
	ck_assert(strstr(buf_cstr(&line), "\"spf\":{\"result\":\"none\","
	    "\"problem\":\"no client address\"}") != NULL);
	buf_release(&line);
	scan_free(&s);
	msg_free(&m);
	engine_unref(e);
}
END_TEST

START_TEST(test_spf_scan_disabled_and_trusted)
{
	struct engine *e = spf_engine("spf = no\n");
	struct msg *m;
	struct scan *s;

	s = test_scan_text(e, "198.51.100.1", "h.example", "a@pass.example.org",
	    "b@example.net", msgtext, sizeof(msgtext) - 1, &m);
	ck_assert_ptr_null(s->spf);
	ck_assert_ptr_null(verdict_symbol(&s->verdict, "SPF_FAIL"));
	scan_free(&s);
	msg_free(&m);
	engine_unref(e);
	e = spf_engine("trusted_networks = 198.51.100.0/24\n");
	s = test_scan_text(e, "198.51.100.1", "h.example", "a@pass.example.org",
	    "b@example.net", msgtext, sizeof(msgtext) - 1, &m);
	ck_assert_ptr_null(s->spf);
	scan_free(&s);
	msg_free(&m);
	engine_unref(e);
}
END_TEST

START_TEST(test_spf_scan_prefetches_first_txt)
{
	struct engine *e = spf_engine("");
	struct msg *m;
	struct scan *s;
	struct dns_stats st;

	s = test_scan_text(e, "192.0.2.5", "helo.example.org",
	    "a@pass.example.org", "b@example.net", msgtext,
	    sizeof(msgtext) - 1, &m);
	dns_resolver_stats(e->dns, &st);
	ck_assert_uint_eq(st.prefetches, 2);	/* sender and HELO TXT */
	ck_assert_uint_eq(st.queries, 3);	/* + the A of the HELO's "a" */
	scan_free(&s);
	msg_free(&m);
	engine_unref(e);
}
END_TEST

static Suite *
spf_suite(void)
{
	Suite *s = suite_create("spf");
	TCase *tc;

	tc = tcase_create("parse");
	tcase_add_loop_test(tc, test_spf_parse_table, 0,
	    sizeof(parse_cases) / sizeof(parse_cases[0]));
	tcase_add_test(tc, test_spf_parse_nul_byte_is_an_error);
	tcase_add_test(tc, test_spf_parse_fields);
	suite_add_tcase(s, tc);

	tc = tcase_create("eval");
	tcase_add_loop_test(tc, test_spf_eval_table, 0,
	    sizeof(eval_cases) / sizeof(eval_cases[0]));
	tcase_add_test(tc, test_spf_explanation_from_exp_and_default);
	tcase_add_test(tc, test_spf_helo_identity);
	tcase_add_test(tc, test_spf_received_spf_value);
	suite_add_tcase(s, tc);

	tc = tcase_create("limits");
	tcase_add_test(tc, test_spf_limits_are_configurable);
	tcase_add_test(tc, test_spf_include_depth_is_bounded);
	tcase_add_test(tc, test_spf_ten_thousand_character_record);
	tcase_add_test(tc, test_spf_budget_exhausted_is_temperror);
	suite_add_tcase(s, tc);

	tc = tcase_create("scan");
	tcase_set_timeout(tc, 20);
	tcase_add_loop_test(tc, test_spf_scan_table, 0,
	    sizeof(scan_cases) / sizeof(scan_cases[0]));
	tcase_add_test(tc, test_spf_scan_outcome_for_dmarc_and_log);
	tcase_add_test(tc, test_spf_scan_feeds_dmarc);
	tcase_add_test(tc, test_spf_scan_received_spf_header);
	tcase_add_test(tc, test_spf_scan_without_client_address);
	tcase_add_test(tc, test_spf_scan_disabled_and_trusted);
	tcase_add_test(tc, test_spf_scan_prefetches_first_txt);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(spf_suite());
}
