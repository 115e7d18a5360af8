/*
 * check_dmarc.c - record parsing, tree walk, alignment, policy, PSL
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "dmarc.h"
#include "smtpaddr.h"
#include "fakedns.h"
#include "helpers.h"
#include "psl.h"

/* ------------------------------------------------------------------ */
/* record parsing                                                      */
/* ------------------------------------------------------------------ */

static const struct {
	const char *name, *txt;
	enum dmarc_parse want;
	const char *p, *sp, *np;	/* NULL: tag not set (valid) */
	char adkim, aspf, t, psd;
	const char *fo;
	size_t nrua, nruf;
	unsigned removed;
	bool p_bad;
} recs[] = {
	{ "minimal", "v=DMARC1; p=none", DMARC_REC_OK, "none", NULL, NULL,
	  'r', 'r', 'n', 'u', "0", 0, 0, 0, false },
	{ "every tag", "v=DMARC1; p=reject; sp=quarantine; np=reject; "
	  "adkim=s; aspf=s; t=y; psd=n; fo=1:d:s; rua=mailto:a@example.com; "
	  "ruf=mailto:f@example.com", DMARC_REC_OK, "reject", "quarantine",
	  "reject", 's', 's', 'y', 'n', "1:d:s", 1, 1, 0, false },
	{ "white space around tags", "  v = DMARC1 ;p = quarantine ; ; aspf=s;",
	  DMARC_REC_OK, "quarantine", NULL, NULL, 'r', 's', 'n', 'u', "0", 0, 0,
	  0, false },
	{ "case of tag names and values", "v=DMARC1; P=Reject; ADKIM=S",
	  DMARC_REC_OK, "reject", NULL, NULL, 's', 'r', 'n', 'u', "0", 0, 0, 0,
	  false },
	{ "removed tags are ignored", "v=DMARC1; p=reject; pct=0; rf=afrf; "
	  "ri=86400", DMARC_REC_OK, "reject", NULL, NULL, 'r', 'r', 'n', 'u',
	  "0", 0, 0, DMARC_RM_PCT | DMARC_RM_RF | DMARC_RM_RI, false },
	{ "bad removed tags are ignored too", "v=DMARC1; p=none; pct=500; "
	  "rf=bob; ri=bob", DMARC_REC_OK, "none", NULL, NULL, 'r', 'r', 'n',
	  'u', "0", 0, 0, DMARC_RM_PCT | DMARC_RM_RF | DMARC_RM_RI, false },
	{ "unknown tags are ignored", "v=DMARC1; p=none; foo=bar; buzz=happy;",
	  DMARC_REC_OK, "none", NULL, NULL, 'r', 'r', 'n', 'u', "0", 0, 0, 0,
	  false },
	{ "bad p value", "v=DMARC1; p=bob", DMARC_REC_OK, NULL, NULL, NULL,
	  'r', 'r', 'n', 'u', "0", 0, 0, 0, true },
	{ "abbreviated p is not a value", "v=DMARC1; p=n", DMARC_REC_OK, NULL,
	  NULL, NULL, 'r', 'r', 'n', 'u', "0", 0, 0, 0, true },
	{ "bad adkim falls back to relaxed", "v=DMARC1; p=none; adkim=bob",
	  DMARC_REC_OK, "none", NULL, NULL, 'r', 'r', 'n', 'u', "0", 0, 0, 0,
	  false },
	{ "bad fo falls back to 0", "v=DMARC1; p=none; fo=0:1", DMARC_REC_OK,
	  "none", NULL, NULL, 'r', 'r', 'n', 'u', "0", 0, 0, 0, false },
	{ "first of a repeated tag wins", "v=DMARC1; p=reject; p=none",
	  DMARC_REC_OK, "reject", NULL, NULL, 'r', 'r', 'n', 'u', "0", 0, 0, 0,
	  false },
	{ "several URIs, size suffix dropped, junk skipped",
	  "v=DMARC1; p=none; rua=mailto:a@example.com!10m, mailto:b@example.net,"
	  "not a uri, https://r.example/x", DMARC_REC_OK, "none", NULL, NULL,
	  'r', 'r', 'n', 'u', "0", 3, 0, 0, false },
	{ "no p tag", "v=DMARC1; rua=mailto:a@example.com", DMARC_REC_OK, NULL,
	  NULL, NULL, 'r', 'r', 'n', 'u', "0", 1, 0, 0, false },
	{ "version must be first", "p=reject; v=DMARC1", DMARC_REC_NOT_DMARC,
	  NULL, NULL, NULL, 'r', 'r', 'n', 'u', "0", 0, 0, 0, false },
	{ "version value is case sensitive", "v=dmarc1; p=reject",
	  DMARC_REC_NOT_DMARC, NULL, NULL, NULL, 'r', 'r', 'n', 'u', "0", 0, 0,
	  0, false },
	{ "version with trailing junk", "v=DMARC10; p=reject",
	  DMARC_REC_NOT_DMARC, NULL, NULL, NULL, 'r', 'r', 'n', 'u', "0", 0, 0,
	  0, false },
	{ "SPF record", "v=spf1 -all", DMARC_REC_NOT_DMARC, NULL, NULL, NULL,
	  'r', 'r', 'n', 'u', "0", 0, 0, 0, false },
	{ "bad version", "V=BOB", DMARC_REC_NOT_DMARC, NULL, NULL, NULL, 'r',
	  'r', 'n', 'u', "0", 0, 0, 0, false },
	{ "empty", "", DMARC_REC_EMPTY, NULL, NULL, NULL, 'r', 'r', 'n', 'u',
	  "0", 0, 0, 0, false },
};

static void
check_policy(const char *what, bool set, enum dmarc_policy got,
    const char *want)
{
	if (want == NULL) {
		ck_assert_msg(!set, "%s set to %s", what, dmarc_policy_name(got));
	} else {
		ck_assert_msg(set, "%s not set", what);
		ck_assert_str_eq(dmarc_policy_name(got), want);
	}
}

START_TEST(test_dmarc_record_parse_table)
{
	struct dmarc_record r;
	enum dmarc_parse st = dmarc_record_parse(recs[_i].txt,
	    strlen(recs[_i].txt), &r);

	ck_assert_msg(st == recs[_i].want, "%s: status %d", recs[_i].name, st);
	if (st == DMARC_REC_OK) {
		check_policy("p", r.p_set, r.p, recs[_i].p);
		check_policy("sp", r.sp_set, r.sp, recs[_i].sp);
		check_policy("np", r.np_set, r.np, recs[_i].np);
		ck_assert_int_eq(r.adkim == DMARC_STRICT ? 's' : 'r',
		    recs[_i].adkim);
		ck_assert_int_eq(r.aspf == DMARC_STRICT ? 's' : 'r',
		    recs[_i].aspf);
		ck_assert_int_eq(r.testing ? 'y' : 'n', recs[_i].t);
		ck_assert_int_eq(r.psd, recs[_i].psd);
		ck_assert_str_eq(r.fo, recs[_i].fo);
		ck_assert_uint_eq(r.nrua, recs[_i].nrua);
		ck_assert_uint_eq(r.nruf, recs[_i].nruf);
		ck_assert_uint_eq(r.removed, recs[_i].removed);
		ck_assert_int_eq(r.p_bad, recs[_i].p_bad);
	}
	dmarc_record_release(&r);
}
END_TEST

START_TEST(test_dmarc_record_urls_are_stored_without_size)
{
	struct dmarc_record r;
	const char *t = "v=DMARC1;p=none;rua=mailto:a@example.com!10m";

	ck_assert_int_eq(dmarc_record_parse(t, strlen(t), &r), DMARC_REC_OK);
	ck_assert_str_eq(r.rua[0], "mailto:a@example.com");
	dmarc_record_release(&r);
}
END_TEST

/* every finding is named, and the record reads as without notes */
START_TEST(test_dmarc_record_notes_name_each_problem)
{
	static const char txt[] = "v=DMARC1; p=rejct; sp=none; p=reject; "
	    "adkim=x; t=maybe; psd=q; fo=2; foo=bar; pct=50; junk; "
	    "rua=mailto:a@example.com,not a uri,x:y!5q; ruf=mailto:f@x.example";
	static const char *const want[] = {
		"p: not none, quarantine or reject: 'rejct'",
		"repeated tag ignored (the first one counts): 'p=reject'",
		"adkim: not r or s, r used: 'x'",
		"t: not y or n, n used: 'maybe'",
		"psd: not y, n or u, u used: 'q'",
		"fo: not a list of 0, 1, d, s; 0 used: '2'",
		"unknown tag ignored: 'foo=bar'",
		"tag removed by RFC 9989, ignored: 'pct=50'",
		"not tag=value, ignored: 'junk'",
		"rua: not a URI, ignored: 'not a uri'",
		"rua: bad size suffix, URI ignored: 'x:y!5q'",
	};
	struct dmarc_record r, plain;
	struct buf notes = BUF_INIT, expect = BUF_INIT;
	size_t i;

	ck_assert_int_eq(dmarc_record_parse_notes(txt, strlen(txt), &r,
	    &notes), DMARC_REC_OK);
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		buf_printf(&expect, "%s\n", want[i]);
	ck_assert_str_eq(buf_cstr(&notes), buf_cstr(&expect));
	ck_assert_int_eq(dmarc_record_parse(txt, strlen(txt), &plain),
	    DMARC_REC_OK);
	ck_assert(r.p_bad && !r.p_set && plain.p_bad && !plain.p_set);
	ck_assert_uint_eq(r.bad, plain.bad);
	ck_assert_uint_eq(r.unknown, 1);
	ck_assert_uint_eq(r.nrua, 1);
	ck_assert_uint_eq(r.nruf, 1);
	dmarc_record_release(&r);
	dmarc_record_release(&plain);

	/* untrusted bytes are escaped */
	buf_reset(&notes);
	ck_assert_int_eq(dmarc_record_parse_notes("v=DMARC1; p=\x1b[2J", 15,
	    &r, &notes), DMARC_REC_OK);
	ck_assert_ptr_null(strchr(buf_cstr(&notes), '\x1b'));
	dmarc_record_release(&r);
	buf_release(&notes);
	buf_release(&expect);
}
END_TEST

START_TEST(test_dmarc_record_parse_stops_at_length)
{
	struct dmarc_record r;
	const char t[] = "v=DMARC1; p=none; sp=reject";

	/* the length cuts "sp=reject" to "sp=re": a bad value */
	ck_assert_int_eq(dmarc_record_parse(t, sizeof(t) - 5, &r),
	    DMARC_REC_OK);
	ck_assert(r.sp_bad);
	dmarc_record_release(&r);
}
END_TEST

/* ------------------------------------------------------------------ */
/* zones                                                               */
/* ------------------------------------------------------------------ */

/* txt: a DMARC TXT value, or one of "!timeout" "!servfail" "!exists" */
struct zrr {
	const char *name, *txt;
};

static struct fakedns *
zone(const struct zrr *z)
{
	struct fakedns *f = fakedns_new();

	for (; z && z->name; z++) {
		if (strcmp(z->txt, "!timeout") == 0)
			fakedns_status(f, z->name, DNS_T_TXT, DNS_TIMEOUT);
		else if (strcmp(z->txt, "!servfail") == 0)
			fakedns_status(f, z->name, DNS_T_TXT, DNS_SERVFAIL);
		else if (strcmp(z->txt, "!a-timeout") == 0)
			fakedns_status(f, z->name, DNS_T_A, DNS_TIMEOUT);
		else if (strcmp(z->txt, "!exists") == 0)
			fakedns_exists(f, z->name);
		else
			fakedns_txt(f, z->name, z->txt);
	}
	return f;
}

static const struct dmarc_opts walk_opts = { DMARC_ORG_TREEWALK, NULL, 24 };

/* ------------------------------------------------------------------ */
/* Organizational Domain by tree walk (RFC 9989 4.10.2, B.4)          */
/* ------------------------------------------------------------------ */

static const struct zrr z_b41[] = {
	{ "_dmarc.example.com", "v=DMARC1; p=reject" },
	{ "_dmarc.signing.example.com", "v=DMARC1; p=none" },
	{ NULL, NULL }
};

static const struct zrr z_b43[] = {
	{ "_dmarc.bank.example", "v=DMARC1; p=reject; psd=y" },
	{ "_dmarc.giant.bank.example", "v=DMARC1; p=quarantine" },
	{ NULL, NULL }
};

static const struct zrr z_psdn[] = {
	{ "_dmarc.mail.example.com", "v=DMARC1; p=none; psd=n" },
	{ "_dmarc.example.com", "v=DMARC1; p=reject" },
	{ NULL, NULL }
};

static const struct zrr z_psdy_top[] = {
	{ "_dmarc.com", "v=DMARC1; p=reject; psd=y" },
	{ NULL, NULL }
};

static const struct zrr z_bad_tld[] = {
	/* a TLD record without psd=y: the spec makes "com" the org domain */
	{ "_dmarc.com", "v=DMARC1; p=none" },
	{ NULL, NULL }
};

static const struct zrr z_two_records[] = {
	{ "_dmarc.example.com", "v=DMARC1; p=reject" },
	{ "_dmarc.mail.example.com", "v=DMARC1; p=none" },
	{ "_dmarc.mail.example.com", "v=DMARC1; p=reject" },
	{ NULL, NULL }
};

static const struct {
	const char *name;
	const struct zrr *z;
	const char *domain, *want;	/* want NULL: temporary failure */
	unsigned queries;
} orgs[] = {
	{ "B.4.1 author", z_b41, "example.com", "example.com", 2 },
	{ "B.4.1 DKIM identifier", z_b41, "signing.example.com", "example.com",
	  3 },
	{ "B.4.2 deep name (8 queries)", z_b41,
	  "a.b.c.d.e.f.g.h.i.j.k.example.com", "example.com", 8 },
	{ "B.4.3 author below psd=y", z_b43, "giant.bank.example",
	  "giant.bank.example", 2 },
	{ "B.4.3 MAIL FROM", z_b43, "mail.giant.bank.example",
	  "giant.bank.example", 3 },
	{ "B.4.3 DKIM identifier", z_b43, "mail.mega.bank.example",
	  "mega.bank.example", 3 },
	{ "psd=y at the start domain itself", z_b43, "bank.example",
	  "bank.example", 1 },
	{ "psd=n stops the walk", z_psdn, "a.mail.example.com",
	  "mail.example.com", 2 },
	{ "record only at a psd=y TLD", z_psdy_top, "a.mail.example.com",
	  "example.com", 4 },
	{ "TLD record without psd", z_bad_tld, "a.mail.example.com", "com",
	  4 },
	{ "no record anywhere", NULL, "a.mail.example.org",
	  "a.mail.example.org", 4 },
	{ "several records at one name are ignored", z_two_records,
	  "mail.example.com", "example.com", 3 },
};

START_TEST(test_dmarc_org_domain_tree_walk)
{
	struct fakedns *f = zone(orgs[_i].z);
	struct dns_resolver *r = fakedns_resolver(f);
	char out[DOMAIN_MAX + 1];
	unsigned q = 0;
	int rc = dmarc_org_domain(r, NULL, &walk_opts, orgs[_i].domain, out,
	    &q);

	ck_assert_msg(rc == 0, "%s: rc %d", orgs[_i].name, rc);
	ck_assert_msg(strcmp(out, orgs[_i].want) == 0, "%s: got %s",
	    orgs[_i].name, out);
	ck_assert_msg(q == orgs[_i].queries, "%s: %u queries", orgs[_i].name,
	    q);
	ck_assert_uint_eq(fakedns_queries(f), q);
	dns_resolver_free(r);
	fakedns_free(f);
}
END_TEST

START_TEST(test_dmarc_tree_walk_skips_to_seven_labels)
{
	static const char *const want[] = {
		"_dmarc.a.b.c.d.e.f.g.h.i.j.mail.example.com",
		"_dmarc.g.h.i.j.mail.example.com",
		"_dmarc.h.i.j.mail.example.com",
		"_dmarc.i.j.mail.example.com",
		"_dmarc.j.mail.example.com",
		"_dmarc.mail.example.com",
		"_dmarc.example.com",
		"_dmarc.com",
	};
	struct fakedns *f = fakedns_new();
	struct dns_resolver *r = fakedns_resolver(f);
	char out[DOMAIN_MAX + 1];
	unsigned i;

	ck_assert_int_eq(dmarc_org_domain(r, NULL, &walk_opts,
	    "a.b.c.d.e.f.g.h.i.j.mail.example.com", out, NULL), 0);
	ck_assert_uint_eq(fakedns_queries(f), 8);
	for (i = 0; i < 8; i++)
		ck_assert_str_eq(fakedns_query_name(f, i), want[i]);
	dns_resolver_free(r);
	fakedns_free(f);
}
END_TEST

START_TEST(test_dmarc_tree_walk_temp_failure_is_not_an_answer)
{
	static const struct zrr z[] = {
		{ "_dmarc.example.com", "!servfail" },
		{ NULL, NULL }
	};
	struct fakedns *f = zone(z);
	struct dns_resolver *r = fakedns_resolver(f);
	char out[DOMAIN_MAX + 1];

	ck_assert_int_eq(dmarc_org_domain(r, NULL, &walk_opts,
	    "mail.example.com", out, NULL), -1);
	dns_resolver_free(r);
	fakedns_free(f);
}
END_TEST

/* ------------------------------------------------------------------ */
/* evaluation                                                          */
/* ------------------------------------------------------------------ */

static const struct zrr z_reject[] = {
	{ "_dmarc.example.com", "v=DMARC1; p=reject; sp=quarantine; "
	  "rua=mailto:d@example.com" },
	{ "mail.example.com", "!exists" },
	{ NULL, NULL }
};

static const struct zrr z_np[] = {
	{ "_dmarc.example.com", "v=DMARC1; p=none; sp=quarantine; np=reject" },
	{ "real.example.com", "!exists" },
	{ NULL, NULL }
};

static const struct zrr z_np_temp[] = {
	{ "_dmarc.example.com", "v=DMARC1; p=none; np=reject" },
	{ "ghost.example.com", "!a-timeout" },
	{ NULL, NULL }
};

static const struct zrr z_testing[] = {
	{ "_dmarc.example.com", "v=DMARC1; p=reject; t=y" },
	{ "_dmarc.q.example", "v=DMARC1; p=quarantine; t=y" },
	{ NULL, NULL }
};

static const struct zrr z_badp[] = {
	{ "_dmarc.norua.example", "v=DMARC1; p=bob" },
	{ "_dmarc.rua.example", "v=DMARC1; p=bob; rua=mailto:r@rua.example" },
	{ "_dmarc.nop.example", "v=DMARC1; rua=mailto:r@nop.example" },
	{ "_dmarc.badsp.example", "v=DMARC1; p=reject; sp=bad" },
	{ NULL, NULL }
};

static const struct zrr z_multi[] = {
	{ "_dmarc.example.com", "v=DMARC1; p=reject" },
	{ "_dmarc.example.com", "v=DMARC1; p=none" },
	{ "_dmarc.example.com", "v=spf1 -all" },
	{ NULL, NULL }
};

static const struct zrr z_psd_policy[] = {
	{ "_dmarc.bank.example", "v=DMARC1; p=quarantine; np=reject; psd=y; "
	  "rua=mailto:psd@bank.example" },
	{ "giant.bank.example", "!exists" },
	{ NULL, NULL }
};

static const struct zrr z_walk_temp[] = {
	{ "_dmarc.example.com", "!timeout" },
	{ NULL, NULL }
};

static const struct zrr z_own_and_parent[] = {
	{ "_dmarc.mail.example.com", "v=DMARC1; p=reject" },
	{ "_dmarc.example.com", "v=DMARC1; p=none" },
	{ NULL, NULL }
};

static const struct zrr z_relaxed_temp[] = {
	{ "_dmarc.example.com", "v=DMARC1; p=reject" },
	{ "_dmarc.com", "!timeout" },
	{ NULL, NULL }
};

static const struct zrr z_split[] = {
	{ "_dmarc.example.com", "v=DMARC1; p=rej" "ect; adkim=s" },
	{ NULL, NULL }
};

struct dk {
	const char *d;
	enum auth_result r;
};

static const struct {
	const char *name;
	const struct zrr *z;
	const char *author, *spf_domain;
	enum auth_result spf;
	struct dk dkim[3];
	enum dmarc_result want;
	const char *policy_domain, *tag;	/* NULL: no record */
	enum dmarc_policy applied;
	bool dkim_aligned, spf_aligned;
} evals[] = {
	{ "DKIM identical", z_reject, "example.com", NULL, AUTH_NONE,
	  { { "example.com", AUTH_PASS } }, DMARC_RES_PASS, "example.com", "p",
	  DMARC_POLICY_REJECT, true, false },
	{ "SPF relaxed from child", z_reject, "example.com",
	  "bounce.example.com", AUTH_PASS, { { NULL, 0 } }, DMARC_RES_PASS,
	  "example.com", "p", DMARC_POLICY_REJECT, false, true },
	{ "SPF fail does not align", z_reject, "example.com", "example.com",
	  AUTH_FAIL, { { NULL, 0 } }, DMARC_RES_FAIL, "example.com", "p",
	  DMARC_POLICY_REJECT, false, false },
	{ "DKIM fail does not align", z_reject, "example.com", NULL, AUTH_NONE,
	  { { "example.com", AUTH_FAIL } }, DMARC_RES_FAIL, "example.com", "p",
	  DMARC_POLICY_REJECT, false, false },
	{ "other domains only", z_reject, "example.com", "example.net",
	  AUTH_PASS, { { "example.org", AUTH_PASS } }, DMARC_RES_FAIL,
	  "example.com", "p", DMARC_POLICY_REJECT, false, false },
	{ "label boundary: notexample.com", z_reject, "example.com",
	  "notexample.com", AUTH_PASS, { { NULL, 0 } }, DMARC_RES_FAIL,
	  "example.com", "p", DMARC_POLICY_REJECT, false, false },
	{ "existing subdomain takes sp", z_reject, "mail.example.com", NULL,
	  AUTH_NONE, { { NULL, 0 } }, DMARC_RES_FAIL, "example.com", "sp",
	  DMARC_POLICY_QUARANTINE, false, false },
	{ "subdomain aligned by parent DKIM", z_reject, "mail.example.com",
	  NULL, AUTH_NONE, { { "example.com", AUTH_PASS } }, DMARC_RES_PASS,
	  "example.com", "sp", DMARC_POLICY_QUARANTINE, true, false },
	{ "np for a non-existent subdomain", z_np, "ghost.example.com", NULL,
	  AUTH_NONE, { { NULL, 0 } }, DMARC_RES_FAIL, "example.com", "np",
	  DMARC_POLICY_REJECT, false, false },
	{ "sp for an existing subdomain", z_np, "real.example.com", NULL,
	  AUTH_NONE, { { NULL, 0 } }, DMARC_RES_FAIL, "example.com", "sp",
	  DMARC_POLICY_QUARANTINE, false, false },
	{ "np never for the domain itself", z_np, "example.com", NULL,
	  AUTH_NONE, { { NULL, 0 } }, DMARC_RES_FAIL, "example.com", "p",
	  DMARC_POLICY_NONE, false, false },
	{ "existence unknown: temperror", z_np_temp, "ghost.example.com",
	  NULL, AUTH_NONE, { { NULL, 0 } }, DMARC_RES_TEMPERROR, "example.com",
	  NULL, DMARC_POLICY_NONE, false, false },
	{ "t=y lowers reject to quarantine", z_testing, "example.com", NULL,
	  AUTH_NONE, { { NULL, 0 } }, DMARC_RES_FAIL, "example.com", "p",
	  DMARC_POLICY_QUARANTINE, false, false },
	{ "t=y lowers quarantine to none", z_testing, "q.example", NULL,
	  AUTH_NONE, { { NULL, 0 } }, DMARC_RES_FAIL, "q.example", "p",
	  DMARC_POLICY_NONE, false, false },
	{ "bad p without rua: no policy", z_badp, "norua.example", NULL,
	  AUTH_NONE, { { NULL, 0 } }, DMARC_RES_PERMERROR, "norua.example",
	  NULL, DMARC_POLICY_NONE, false, false },
	{ "bad p with rua: as p=none", z_badp, "rua.example", NULL, AUTH_NONE,
	  { { NULL, 0 } }, DMARC_RES_FAIL, "rua.example", "p",
	  DMARC_POLICY_NONE, false, false },
	{ "no p with rua: as p=none", z_badp, "nop.example", NULL, AUTH_NONE,
	  { { NULL, 0 } }, DMARC_RES_FAIL, "nop.example", "p",
	  DMARC_POLICY_NONE, false, false },
	{ "bad sp without rua: no policy", z_badp, "badsp.example", NULL,
	  AUTH_NONE, { { NULL, 0 } }, DMARC_RES_PERMERROR, "badsp.example",
	  NULL, DMARC_POLICY_NONE, false, false },
	{ "several records: none", z_multi, "example.com", NULL, AUTH_NONE,
	  { { "example.com", AUTH_PASS } }, DMARC_RES_NONE, NULL, NULL,
	  DMARC_POLICY_NONE, false, false },
	{ "no record: none", NULL, "example.com", "example.com", AUTH_PASS,
	  { { NULL, 0 } }, DMARC_RES_NONE, NULL, NULL, DMARC_POLICY_NONE,
	  false, false },
	{ "PSD policy for a domain without its own", z_psd_policy,
	  "giant.bank.example", NULL, AUTH_NONE, { { NULL, 0 } },
	  DMARC_RES_FAIL, "bank.example", "p", DMARC_POLICY_QUARANTINE, false,
	  false },
	{ "PSD np for a non-existent domain", z_psd_policy,
	  "ghost.bank.example", NULL, AUTH_NONE, { { NULL, 0 } },
	  DMARC_RES_FAIL, "bank.example", "np", DMARC_POLICY_REJECT, false,
	  false },
	{ "PSD org domain keeps siblings apart", z_psd_policy,
	  "giant.bank.example", NULL, AUTH_NONE,
	  { { "mega.bank.example", AUTH_PASS } }, DMARC_RES_FAIL,
	  "bank.example", "p", DMARC_POLICY_QUARANTINE, false, false },
	{ "timeout during the walk: temperror", z_walk_temp,
	  "mail.example.com", NULL, AUTH_NONE, { { NULL, 0 } },
	  DMARC_RES_TEMPERROR, NULL, NULL, DMARC_POLICY_NONE, false, false },
	{ "own record wins over the parent's", z_own_and_parent,
	  "mail.example.com", NULL, AUTH_NONE, { { NULL, 0 } }, DMARC_RES_FAIL,
	  "mail.example.com", "p", DMARC_POLICY_REJECT, false, false },
	{ "relaxed: org of both is example.com", z_own_and_parent,
	  "mail.example.com", NULL, AUTH_NONE,
	  { { "other.example.com", AUTH_PASS } }, DMARC_RES_PASS,
	  "mail.example.com", "p", DMARC_POLICY_REJECT, true, false },
	{ "timeout in an alignment walk: temperror", z_relaxed_temp,
	  "example.com", NULL, AUTH_NONE, { { "mail.example.com", AUTH_PASS } },
	  DMARC_RES_TEMPERROR, "example.com", NULL, DMARC_POLICY_NONE, false,
	  false },
	{ "timeout elsewhere cannot undo a pass", z_relaxed_temp,
	  "example.com", NULL, AUTH_NONE, { { "mail.example.com", AUTH_PASS },
	  { "example.com", AUTH_PASS } }, DMARC_RES_PASS, "example.com", "p",
	  DMARC_POLICY_REJECT, true, false },
	{ "SPF temperror that would align: temperror", z_reject,
	  "example.com", "bounce.example.com", AUTH_TEMPERROR, { { NULL, 0 } },
	  DMARC_RES_TEMPERROR, "example.com", NULL, DMARC_POLICY_NONE, false,
	  false },
	{ "DKIM temperror that would align: temperror", z_reject,
	  "example.com", NULL, AUTH_NONE, { { "example.com", AUTH_TEMPERROR } },
	  DMARC_RES_TEMPERROR, "example.com", NULL, DMARC_POLICY_NONE, false,
	  false },
	{ "SPF temperror of another domain: fail", z_reject, "example.com",
	  "example.net", AUTH_TEMPERROR, { { "example.org", AUTH_TEMPERROR } },
	  DMARC_RES_FAIL, "example.com", "p", DMARC_POLICY_REJECT, false,
	  false },
	{ "SPF temperror cannot undo a DKIM pass", z_reject, "example.com",
	  "example.com", AUTH_TEMPERROR, { { "example.com", AUTH_PASS } },
	  DMARC_RES_PASS, "example.com", "p", DMARC_POLICY_REJECT, true,
	  false },
	{ "split TXT strings joined, strict DKIM", z_split, "mail.example.com",
	  NULL, AUTH_NONE, { { "example.com", AUTH_PASS } }, DMARC_RES_FAIL,
	  "example.com", "p", DMARC_POLICY_REJECT, false, false },
};

START_TEST(test_dmarc_evaluate_table)
{
	struct fakedns *f = zone(evals[_i].z);
	struct dns_resolver *r = fakedns_resolver(f);
	struct dmarc_dkim_sig sigs[3];
	struct dmarc_input in;
	struct dmarc_outcome o;
	size_t n = 0;

	memset(sigs, 0, sizeof(sigs));
	for (n = 0; n < 3 && evals[_i].dkim[n].d; n++) {
		strcpy(sigs[n].domain, evals[_i].dkim[n].d);
		strcpy(sigs[n].selector, "sel");
		sigs[n].result = evals[_i].dkim[n].r;
	}
	in.author = evals[_i].author;
	in.spf_domain = evals[_i].spf_domain;
	in.spf = evals[_i].spf;
	in.dkim = sigs;
	in.ndkim = n;
	dmarc_evaluate(r, NULL, &walk_opts, &in, &o);
	ck_assert_msg(o.result == evals[_i].want, "%s: got %s (%s)",
	    evals[_i].name, dmarc_result_name(o.result), o.detail);
	if (evals[_i].policy_domain) {
		ck_assert_msg(o.have_record, "%s: no record", evals[_i].name);
		ck_assert_str_eq(o.policy_domain, evals[_i].policy_domain);
	} else {
		ck_assert_msg(!o.have_record, "%s: record", evals[_i].name);
	}
	if (evals[_i].tag) {
		ck_assert_msg(o.policy_tag && strcmp(o.policy_tag,
		    evals[_i].tag) == 0, "%s: tag %s", evals[_i].name,
		    o.policy_tag ? o.policy_tag : "(null)");
		ck_assert_msg(o.applied == evals[_i].applied, "%s: applied %s",
		    evals[_i].name, dmarc_policy_name(o.applied));
	}
	ck_assert_int_eq(o.dkim_aligned, evals[_i].dkim_aligned);
	ck_assert_int_eq(o.spf_aligned, evals[_i].spf_aligned);
	ck_assert_uint_eq(o.queries, fakedns_queries(f));
	dmarc_outcome_release(&o);
	dns_resolver_free(r);
	fakedns_free(f);
}
END_TEST

START_TEST(test_dmarc_query_bound_holds_with_many_signatures)
{
	static const struct zrr z[] = {
		{ "_dmarc.example.com", "v=DMARC1; p=reject" },
		/* every signer's org domain: g.example.com, never aligned */
		{ "_dmarc.g.example.com", "v=DMARC1; p=none; psd=n" },
		{ NULL, NULL }
	};
	struct fakedns *f = zone(z);
	struct dns_resolver *r = fakedns_resolver(f);
	struct dmarc_dkim_sig sigs[40];
	struct dmarc_opts opts = { DMARC_ORG_TREEWALK, NULL, 12 };
	struct dmarc_input in = { "example.com", NULL, AUTH_NONE, sigs, 40 };
	struct dmarc_outcome o;
	int i;

	memset(sigs, 0, sizeof(sigs));
	for (i = 0; i < 40; i++) {
		snprintf(sigs[i].domain, sizeof(sigs[i].domain),
		    "a%d.b%d.c.d.e.f.g.example.com", i, i);
		sigs[i].result = AUTH_PASS;
	}
	dmarc_evaluate(r, NULL, &opts, &in, &o);
	ck_assert_uint_le(fakedns_queries(f), 12);
	ck_assert(o.limit_hit);
	ck_assert_int_eq(o.result, DMARC_RES_FAIL);
	dmarc_outcome_release(&o);
	dns_resolver_free(r);
	fakedns_free(f);
}
END_TEST

START_TEST(test_dmarc_unrelated_identifiers_cost_no_queries)
{
	struct fakedns *f = zone(z_reject);
	struct dns_resolver *r = fakedns_resolver(f);
	struct dmarc_dkim_sig sigs[20];
	struct dmarc_input in = { "example.com", "x.example.net", AUTH_PASS,
	    sigs, 20 };
	struct dmarc_outcome o;
	int i;

	memset(sigs, 0, sizeof(sigs));
	for (i = 0; i < 20; i++) {
		snprintf(sigs[i].domain, sizeof(sigs[i].domain),
		    "s%d.attacker.example", i);
		sigs[i].result = AUTH_PASS;
	}
	dmarc_evaluate(r, NULL, &walk_opts, &in, &o);
	ck_assert_int_eq(o.result, DMARC_RES_FAIL);
	/* _dmarc.example.com and _dmarc.com for example.com's org domain */
	ck_assert_uint_eq(fakedns_queries(f), 2);
	dmarc_outcome_release(&o);
	dns_resolver_free(r);
	fakedns_free(f);
}
END_TEST

/* ------------------------------------------------------------------ */
/* PSL                                                                 */
/* ------------------------------------------------------------------ */

static const char mini_psl[] =
    "// comment\n"
    "com\n"
    "uk\n"
    "co.uk\n"
    "*.ck\n"
    "!www.ck\n"
    "\xe4\xb8\xad\xe5\x9b\xbd\n"			/* 中国 */
    "\n"
    "// ===BEGIN PRIVATE DOMAINS===\n"
    "blogspot.com\n";

static const struct {
	const char *in, *want;	/* want NULL: a public suffix */
} psl_cases[] = {
	{ "example.com", "example.com" },
	{ "a.b.example.com", "example.com" },
	{ "com", NULL },
	{ "example.co.uk", "example.co.uk" },
	{ "www.example.co.uk", "example.co.uk" },
	{ "co.uk", NULL },
	{ "foo.ck", NULL },
	{ "a.foo.ck", "a.foo.ck" },
	{ "www.ck", "www.ck" },
	{ "a.www.ck", "www.ck" },
	{ "x.blogspot.com", "x.blogspot.com" },
	{ "blogspot.com", NULL },
	{ "a.xn--fiqs8s", "a.xn--fiqs8s" },
	{ "xn--fiqs8s", NULL },
	{ "example", NULL },
	{ "example.example", "example.example" },
	{ ".com", NULL },
	{ "a..com", NULL },
};

START_TEST(test_dmarc_psl_lookup)
{
	struct psl *l;
	struct buf why = BUF_INIT;
	char out[DOMAIN_MAX + 1];
	int rc;

	ck_assert_int_eq(psl_parse(mini_psl, sizeof(mini_psl) - 1, "mini",
	    &l, &why), 0);
	rc = psl_registrable(l, psl_cases[_i].in, out, sizeof(out));
	if (psl_cases[_i].want == NULL) {
		ck_assert_msg(rc < 0, "%s -> %s", psl_cases[_i].in, out);
	} else {
		ck_assert_msg(rc == 0, "%s: none", psl_cases[_i].in);
		ck_assert_str_eq(out, psl_cases[_i].want);
	}
	psl_free(l);
	buf_release(&why);
}
END_TEST

START_TEST(test_dmarc_psl_bad_rule_names_line)
{
	struct psl *l;
	struct buf why = BUF_INIT;
	const char t[] = "com\nbad_rule.example\n";

	ck_assert_int_eq(psl_parse(t, sizeof(t) - 1, "list.dat", &l, &why), -1);
	ck_assert_ptr_null(l);
	ck_assert_ptr_nonnull(strstr(buf_cstr(&why), "list.dat:2"));
	buf_release(&why);
}
END_TEST

START_TEST(test_dmarc_psl_mode_discovery_and_alignment)
{
	static const struct zrr z[] = {
		{ "_dmarc.example.co.uk", "v=DMARC1; p=reject; sp=none" },
		{ NULL, NULL }
	};
	struct fakedns *f = zone(z);
	struct dns_resolver *r = fakedns_resolver(f);
	struct psl *l;
	struct buf why = BUF_INIT;
	struct dmarc_opts opts = { DMARC_ORG_PSL, NULL, 24 };
	struct dmarc_dkim_sig sig = { "mail.example.co.uk", "s", AUTH_PASS };
	struct dmarc_input in = { "a.b.example.co.uk", NULL, AUTH_NONE, &sig,
	    1 };
	struct dmarc_outcome o;

	ck_assert_int_eq(psl_parse(mini_psl, sizeof(mini_psl) - 1, "mini",
	    &l, &why), 0);
	opts.psl = l;
	dmarc_evaluate(r, NULL, &opts, &in, &o);
	ck_assert_int_eq(o.result, DMARC_RES_PASS);
	ck_assert_str_eq(o.policy_domain, "example.co.uk");
	ck_assert_str_eq(o.org_domain, "example.co.uk");
	ck_assert_int_eq(o.method, DMARC_ORG_PSL);
	/* _dmarc.a.b.example.co.uk then _dmarc.example.co.uk only */
	ck_assert_uint_eq(fakedns_queries(f), 2);
	dmarc_outcome_release(&o);
	psl_free(l);
	buf_release(&why);
	dns_resolver_free(r);
	fakedns_free(f);
}
END_TEST

/* ------------------------------------------------------------------ */
/* report destinations                                                 */
/* ------------------------------------------------------------------ */

/* a host name of 252 octets: with "a@", an address of 254 */
#define LONG_DOMAIN_252 \
	"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx." \
	"yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy." \
	"zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz." \
	"wwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwww.ex"

/*
 * Issue 14, item 11: report addresses an MTA would read otherwise are
 * refused.  Postfix and Sendmail parse a recipient as an RFC 822 list,
 * so "all-staff(@evil.example" is the local mailbox all-staff.
 */
static const struct {
	const char *name, *uri, *want;	/* want NULL: refused */
} mailtos[] = {
	{ "plain", "mailto:d@Reports.Example.NET", "d@reports.example.net" },
	{ "atext and dots", "mailto:Dmarc.Rua+x_y-z=1~@example.org",
	  "Dmarc.Rua+x_y-z=1~@example.org" },
	{ "hfields ignored", "mailto:d@example.org?subject=x&to=root",
	  "d@example.org" },
	{ "quoted, round-trips", "mailto:\"a..b\"@example.org",
	  "\"a..b\"@example.org" },
	{ "quoted leading dot", "mailto:\".a\"@example.org",
	  "\".a\"@example.org" },
	{ "U-label domain", "mailto:r@b\xc3\xbc" "cher.example",
	  "r@xn--bcher-kva.example" },
	{ "trailing dot of the domain", "mailto:r@example.org.",
	  "r@example.org" },
	{ "64-octet local part", "mailto:"
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "@example.org", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "aaaaaaaaaaaaaaaa@example.org" },
	{ "comment open", "mailto:all-staff(@evil.example", NULL },
	{ "comment", "mailto:all-staff(x)@evil.example", NULL },
	{ "comment close", "mailto:a)b@evil.example", NULL },
	{ "quote that does not round-trip", "mailto:\"abc\"@evil.example",
	  NULL },
	{ "open quote", "mailto:\"all-staff@evil.example", NULL },
	{ "quote inside", "mailto:a\"b\"@evil.example", NULL },
	{ "quoted-pair", "mailto:\"a\\\"b\"@evil.example", NULL },
	{ "quoted space", "mailto:\"all staff\"@evil.example", NULL },
	{ "quoted comma", "mailto:\"a,root\"@evil.example", NULL },
	{ "quoted at", "mailto:\"root@localhost\"@evil.example", NULL },
	{ "empty quotes", "mailto:\"\"@evil.example", NULL },
	{ "CR LF", "mailto:a\r\nBcc: root@evil.example", NULL },
	{ "LF", "mailto:a\n@evil.example", NULL },
	{ "space", "mailto:all staff@evil.example", NULL },
	{ "tab", "mailto:all\tstaff@evil.example", NULL },
	{ "angle brackets", "mailto:<root>@evil.example", NULL },
	{ "angle address", "mailto:x<root@localhost>@evil.example", NULL },
	{ "comma", "mailto:root,a@evil.example", NULL },
	{ "semicolon", "mailto:list:root;@evil.example", NULL },
	{ "colon", "mailto:list:a@evil.example", NULL },
	{ "backslash", "mailto:a\\b@evil.example", NULL },
	{ "leading dot", "mailto:.root@evil.example", NULL },
	{ "trailing dot", "mailto:root.@evil.example", NULL },
	{ "double dot", "mailto:a..b@evil.example", NULL },
	{ "empty local part", "mailto:@evil.example", NULL },
	{ "only a dot", "mailto:.@evil.example", NULL },
	{ "65-octet local part", "mailto:"
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "@example.org", NULL },
	{ "254 octets in all", "mailto:a@" LONG_DOMAIN_252,
	  "a@" LONG_DOMAIN_252 },
	{ "255 octets in all", "mailto:ab@" LONG_DOMAIN_252, NULL },
	{ "percent hack", "mailto:root%localhost@evil.example", NULL },
	{ "bang path", "mailto:localhost!root@evil.example", NULL },
	{ "8-bit local part", "mailto:r\xc3\xa9@evil.example", NULL },
	{ "NUL-free control", "mailto:a\x01@evil.example", NULL },
	{ "two at signs", "mailto:a@b@evil.example", NULL },
	{ "no at sign", "mailto:nobody", NULL },
	{ "domain literal", "mailto:root@[127.0.0.1]", NULL },
	{ "bad domain", "mailto:root@evil_example.org", NULL },
	{ "single-label domain", "mailto:root@localhost", NULL },
	{ "empty domain", "mailto:root@", NULL },
	{ "another scheme", "https://x.example/", NULL },
};

START_TEST(test_dmarc_mailto_refuses_what_an_mta_reads_otherwise)
{
	char addr[SMTPADDR_MAX + 1];
	int rc;

	memset(addr, 'X', sizeof(addr));
	rc = dmarc_mailto(mailtos[_i].uri, addr, sizeof(addr));
	if (mailtos[_i].want == NULL) {
		ck_assert_msg(rc == -1, "%s: accepted as %s", mailtos[_i].name,
		    addr);
		return;
	}
	ck_assert_msg(rc == 0, "%s: refused", mailtos[_i].name);
	ck_assert_msg(strcmp(addr, mailtos[_i].want) == 0, "%s: got %s, "
	    "want %s", mailtos[_i].name, addr, mailtos[_i].want);
	/* what is mailed is canonical: parsing it again gives itself */
	ck_assert(smtpaddr_canonical(addr, SMTPADDR_FQDN));
}
END_TEST

START_TEST(test_dmarc_external_destination_check)
{
	static const struct zrr z[] = {
		{ "_dmarc.example.com", "v=DMARC1; p=none" },
		{ "example.com._report._dmarc.reports.example.net", "v=DMARC1" },
		{ "other.example._report._dmarc.t.example", "!timeout" },
		{ NULL, NULL }
	};
	struct fakedns *f = zone(z);
	struct dns_resolver *r = fakedns_resolver(f);
	char addr[SMTPADDR_MAX + 1];

	ck_assert_int_eq(dmarc_verify_external(r, NULL, &walk_opts,
	    "example.com", "mx.example.com"), 1);
	ck_assert_int_eq(dmarc_verify_external(r, NULL, &walk_opts,
	    "example.com", "reports.example.net"), 1);
	ck_assert_int_eq(dmarc_verify_external(r, NULL, &walk_opts,
	    "example.com", "evil.example.org"), 0);
	ck_assert_int_eq(dmarc_verify_external(r, NULL, &walk_opts,
	    "other.example", "t.example"), -1);
	/* the check runs on the domain of the address that is mailed */
	ck_assert_int_eq(dmarc_report_destination(r, NULL, &walk_opts,
	    "example.com", "mailto:d@Reports.Example.NET", addr,
	    sizeof(addr)), DMARC_DEST_OK);
	ck_assert_str_eq(addr, "d@reports.example.net");
	ck_assert_int_eq(dmarc_report_destination(r, NULL, &walk_opts,
	    "example.com", "mailto:d@sub.example.com?to=x@evil.example",
	    addr, sizeof(addr)), DMARC_DEST_OK);
	ck_assert_str_eq(addr, "d@sub.example.com");
	ck_assert_int_eq(dmarc_report_destination(r, NULL, &walk_opts,
	    "example.com", "mailto:d@evil.example.org", addr, sizeof(addr)),
	    DMARC_DEST_DENIED);
	ck_assert_int_eq(dmarc_report_destination(r, NULL, &walk_opts,
	    "other.example", "mailto:d@t.example", addr, sizeof(addr)),
	    DMARC_DEST_TEMP);
	ck_assert_int_eq(dmarc_report_destination(NULL, NULL, &walk_opts,
	    "example.com", "mailto:d@reports.example.net", addr,
	    sizeof(addr)), DMARC_DEST_TEMP);
	/* inside the policy domain, but not an address we can use */
	ck_assert_int_eq(dmarc_report_destination(r, NULL, &walk_opts,
	    "example.com", "mailto:all-staff(@example.com", addr,
	    sizeof(addr)), DMARC_DEST_BAD);
	/* the authorized domain hidden in a local part does not count */
	ck_assert_int_eq(dmarc_report_destination(r, NULL, &walk_opts,
	    "example.com", "mailto:\"x@reports.example.net\"@evil.example",
	    addr, sizeof(addr)), DMARC_DEST_BAD);
	dns_resolver_free(r);
	fakedns_free(f);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("dmarc");
	TCase *tc = tcase_create("record");

	tcase_add_loop_test(tc, test_dmarc_record_parse_table, 0,
	    sizeof(recs) / sizeof(recs[0]));
	tcase_add_test(tc, test_dmarc_record_urls_are_stored_without_size);
	tcase_add_test(tc, test_dmarc_record_parse_stops_at_length);
	tcase_add_test(tc, test_dmarc_record_notes_name_each_problem);
	suite_add_tcase(s, tc);
	tc = tcase_create("treewalk");
	tcase_add_loop_test(tc, test_dmarc_org_domain_tree_walk, 0,
	    sizeof(orgs) / sizeof(orgs[0]));
	tcase_add_test(tc, test_dmarc_tree_walk_skips_to_seven_labels);
	tcase_add_test(tc, test_dmarc_tree_walk_temp_failure_is_not_an_answer);
	suite_add_tcase(s, tc);
	tc = tcase_create("evaluate");
	tcase_add_loop_test(tc, test_dmarc_evaluate_table, 0,
	    sizeof(evals) / sizeof(evals[0]));
	tcase_add_test(tc, test_dmarc_query_bound_holds_with_many_signatures);
	tcase_add_test(tc, test_dmarc_unrelated_identifiers_cost_no_queries);
	suite_add_tcase(s, tc);
	tc = tcase_create("psl");
	tcase_add_loop_test(tc, test_dmarc_psl_lookup, 0,
	    sizeof(psl_cases) / sizeof(psl_cases[0]));
	tcase_add_test(tc, test_dmarc_psl_bad_rule_names_line);
	tcase_add_test(tc, test_dmarc_psl_mode_discovery_and_alignment);
	suite_add_tcase(s, tc);
	tc = tcase_create("reports");
	tcase_add_loop_test(tc,
	    test_dmarc_mailto_refuses_what_an_mta_reads_otherwise, 0,
	    sizeof(mailtos) / sizeof(mailtos[0]));
	tcase_add_test(tc, test_dmarc_external_destination_check);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
