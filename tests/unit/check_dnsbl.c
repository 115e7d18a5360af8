/*
 * check_dnsbl.c - DNS blocklists: configuration, query names, answer
 * mapping, and the scan step over a fake DNS backend
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "buf.h"
#include "dns.h"
#include "dnsbl.h"
#include "engine.h"
#include "helpers.h"
#include "log.h"
#include "psl.h"
#include "punycode.h"

/* ------------------------------------------------------------------ */
/* a fake backend: A answers from a table, every query logged          */
/* ------------------------------------------------------------------ */

struct fake_rec {
	char	 name[256];
	enum dns_status status;
	char	 addrs[4][16];
	size_t	 naddrs;
};

struct fake {
	pthread_mutex_t lock;		/* prefetch threads query too */
	struct fake_rec recs[64];
	size_t	 nrecs;
	char	 asked[128][256];
	size_t	 nasked;
};

static void
fake_query(void *impl, const char *name, uint16_t type, double timeout_ms,
    struct dns_answer *out)
{
	struct fake *f = impl;
	size_t i, k;

	(void)timeout_ms;
	pthread_mutex_lock(&f->lock);
	if (f->nasked < 128)
		snprintf(f->asked[f->nasked++], 256, "%s", name);
	pthread_mutex_unlock(&f->lock);
	out->status = DNS_NXDOMAIN;
	for (i = 0; i < f->nrecs; i++) {
		if (strcasecmp(f->recs[i].name, name) != 0)
			continue;
		out->status = f->recs[i].status;
		if (out->status != DNS_OK)
			return;
		if (type != DNS_T_A) {
			out->status = DNS_NODATA;
			return;
		}
		out->rrs = xcalloc(f->recs[i].naddrs, sizeof(*out->rrs));
		for (k = 0; k < f->recs[i].naddrs; k++) {
			out->rrs[k].type = DNS_T_A;
			out->rrs[k].ttl = 300;
			ck_assert_int_eq(netaddr_parse(f->recs[i].addrs[k],
			    &out->rrs[k].addr), 0);
		}
		out->n = f->recs[i].naddrs;
		return;
	}
}

static void
fake_free(void *impl)
{
	(void)impl;
}

static const struct dns_backend fake_backend = { "fake", fake_query,
    fake_free };

static void
fake_add(struct fake *f, const char *name, enum dns_status st,
    const char *a1, const char *a2)
{
	struct fake_rec *r = &f->recs[f->nrecs++];

	snprintf(r->name, sizeof(r->name), "%s", name);
	r->status = st;
	if (a1)
		snprintf(r->addrs[r->naddrs++], 16, "%s", a1);
	if (a2)
		snprintf(r->addrs[r->naddrs++], 16, "%s", a2);
}

/* fake_distinct - names asked, each once (a prefetch and the lookup
 * that follows may both reach the backend when nothing is cached) */
static size_t
fake_distinct(const struct fake *f)
{
	size_t i, k, n = 0;

	for (i = 0; i < f->nasked; i++) {
		for (k = 0; k < i; k++)
			if (strcasecmp(f->asked[k], f->asked[i]) == 0)
				break;
		n += k == i;
	}
	return n;
}

static bool
fake_asked(const struct fake *f, const char *name)
{
	size_t i;

	for (i = 0; i < f->nasked; i++)
		if (strcasecmp(f->asked[i], name) == 0)
			return true;
	return false;
}

/* ------------------------------------------------------------------ */
/* configuration                                                       */
/* ------------------------------------------------------------------ */

static const struct {
	const char *entry;
	const char *error;	/* substring, or NULL if valid */
} entry_cases[] = {
	{ "zen.spamhaus.org/127.0.0.2=RBL_SBL:4", NULL },
	{ "zen.spamhaus.org/127.0.0.4-127.0.0.7=RBL_XBL:5.5:reject", NULL },
	{ "bl.example.net/127.0.0.0/24=RBL_ANY24:1", NULL },
	{ "multi.uribl.example/&2=URIBL_BLACK:4", NULL },
	{ "multi.uribl.example/&0x08=URIBL_GREY:0.5", NULL },
	{ "bl.example.net/*=RBL_ANY:-1", NULL },
	{ "bl.example.net=RBL:1", "expected ZONE/RESULT" },
	{ "bl.example.net/127.0.0.2", "expected ZONE/RESULT" },
	{ "bl.example.net/127.0.0.2=RBL", "missing :SCORE" },
	{ "bl.example.net/127.0.0.2=RBL:x", "bad score" },
	{ "bl.example.net/127.0.0.2=R-B:1", "bad symbol" },
	{ "bl.example.net/127.0.0.2=RBL:1:drop", "unknown flag" },
	{ "bl.example.net/127.0.0.9-127.0.0.2=RBL:1", "bad result" },
	{ "bl.example.net/&0=RBL:1", "bad result" },
	{ "bl.example.net/&300=RBL:1", "bad result" },
	{ "bl.example.net/::1=RBL:1", "bad result" },
	{ "bl..example/127.0.0.2=RBL:1", "bad zone" },
	{ "localhost/127.0.0.2=RBL:1", "bad zone" },
};

START_TEST(test_dnsbl_entry_syntax)
{
	struct buf why = BUF_INIT;
	int rc = dnsbl_check_entry(entry_cases[_i].entry, &why);

	if (entry_cases[_i].error == NULL)
		ck_assert_msg(rc == 0, "%s: %s", entry_cases[_i].entry,
		    buf_cstr(&why));
	else
		ck_assert_msg(rc < 0 && strstr(buf_cstr(&why),
		    entry_cases[_i].error), "%s: got %d '%s'",
		    entry_cases[_i].entry, rc, buf_cstr(&why));
	buf_release(&why);
}
END_TEST

/* :ip belongs to URI lists; both kinds take :reject */
START_TEST(test_uribl_ip_flag_only_on_uri_lists)
{
	struct buf why = BUF_INIT;

	ck_assert_int_eq(dnsbl_check_uri_entry(
	    "multi.surbl.example/&8=URIBL_PH:4:ip", &why), 0);
	ck_assert_int_eq(dnsbl_check_uri_entry(
	    "multi.surbl.example/&8=URIBL_PH:4:reject:ip", &why), 0);
	ck_assert_int_eq(dnsbl_check_uri_entry(
	    "multi.surbl.example/&8=URIBL_PH:4:ip:reject", &why), 0);
	ck_assert_int_eq(dnsbl_check_uri_entry(
	    "multi.surbl.example/&8=URIBL_PH:4:ip:", &why), -1);
	ck_assert_ptr_nonnull(strstr(buf_cstr(&why), "unknown flag ''"));
	buf_reset(&why);
	ck_assert_int_eq(dnsbl_check_entry("zen.example/127.0.0.2=RBL:1:ip",
	    &why), -1);
	ck_assert_ptr_nonnull(strstr(buf_cstr(&why), "unknown flag 'ip' "
	    "(only reject)"));
	buf_release(&why);
}
END_TEST

START_TEST(test_dnsbl_bad_entry_is_a_config_error_with_line)
{
	struct conf *c;
	struct buf why = BUF_INIT;
	static const char text[] = "tag_score = 5\n"
	    "dnsbl = zen.spamhaus.org/127.0.0.2=RBL:1\n"
	    "  bl.example.net/127.0.0.2=RBL:oops\n";

	ck_assert_int_eq(conf_parse(text, sizeof(text) - 1, "t.conf", &c,
	    &why), -1);
	ck_assert_msg(strstr(buf_cstr(&why), "t.conf:") &&
	    strstr(buf_cstr(&why), "dnsbl") && strstr(buf_cstr(&why),
	    "bad score"), "%s", buf_cstr(&why));
	buf_release(&why);
}
END_TEST

static const struct {
	const char *ip, *want;
} name_cases[] = {
	{ "192.0.2.99", "99.2.0.192.bl.example" },
	{ "2001:db8:1:2::ab", "b.a.0.0.0.0.0.0.0.0.0.0.0.0.0.0.2.0.0.0.1.0.0.0."
	  "8.b.d.0.1.0.0.2.bl.example" },
	{ "::ffff:198.51.100.7", "7.100.51.198.bl.example" },
	{ "127.0.0.1", NULL }, { "10.1.2.3", NULL }, { "192.168.0.1", NULL },
	{ "172.20.0.1", NULL }, { "169.254.1.1", NULL }, { "100.64.0.1", NULL },
	{ "::1", NULL }, { "fe80::1", NULL }, { "fd00::1", NULL },
};

START_TEST(test_dnsbl_query_names)
{
	struct netaddr a;
	struct buf out = BUF_INIT;
	int rc;

	ck_assert_int_eq(netaddr_parse(name_cases[_i].ip, &a), 0);
	rc = dnsbl_client_name(&a, "bl.example", &out);
	if (name_cases[_i].want == NULL)
		ck_assert_msg(rc < 0, "%s: queried as %s", name_cases[_i].ip,
		    buf_cstr(&out));
	else
		ck_assert_msg(rc == 0 && strcmp(buf_cstr(&out),
		    name_cases[_i].want) == 0, "%s: got %s", name_cases[_i].ip,
		    buf_cstr(&out));
	buf_release(&out);
}
END_TEST

static const struct {
	const char *answer;
	enum dnsbl_verdict want;
	uint64_t matched;
} classify_cases[] = {
	/* entries: 0 = .2 exact, 1 = .4-.7, 2 = 127.0.1.0/24, 3 = &8, 4 = * */
	{ "127.0.0.2", DNSBL_LISTED, 0x01 | 0x10 },
	{ "127.0.0.5", DNSBL_LISTED, 0x02 | 0x10 },
	{ "127.0.0.8", DNSBL_LISTED, 0x08 | 0x10 },
	{ "127.0.1.9", DNSBL_LISTED, 0x04 | 0x08 | 0x10 },
	{ "127.0.0.3", DNSBL_LISTED, 0x10 },
	{ "127.0.0.1", DNSBL_ERROR, 0 },
	{ "127.255.255.254", DNSBL_ERROR, 0 },
	{ "127.255.255.252", DNSBL_ERROR, 0 },
	{ "198.51.100.1", DNSBL_ERROR, 0 },
	{ "::1", DNSBL_ERROR, 0 },
};

/*
 * check_classify - the one zone configured by text (n entries, allow or
 * not) classifies answer as want, with the entries matched
 */
static void
check_classify(const char *text, size_t n, bool allow, const char *answer,
    enum dnsbl_verdict want, uint64_t matched)
{
	struct conf *c;
	struct dnsbl *d;
	struct netaddr a;
	struct buf why = BUF_INIT;
	uint64_t m = 0;
	enum dnsbl_verdict v;

	ck_assert_int_eq(conf_parse(text, strlen(text), "t", &c, &why), 0);
	ck_assert_int_eq(dnsbl_new(c, &d, &why), 0);
	ck_assert_uint_eq(d->nzones, 1);
	ck_assert_uint_eq(d->zones[0].n, n);
	ck_assert(d->zones[0].allow == allow);
	ck_assert_int_eq(d->zones[0].kind, DNSBL_K_CLIENT);
	ck_assert_int_eq(netaddr_parse(answer, &a), 0);
	v = dnsbl_classify(d, &d->zones[0], &a, &m);
	ck_assert_msg(v == want, "%s: verdict %d", answer, v);
	if (v != DNSBL_ERROR)
		ck_assert_msg(m == matched, "%s: matched %llx", answer,
		    (unsigned long long)m);
	dnsbl_free(d);
	conf_free(c);
	buf_release(&why);
}

START_TEST(test_dnsbl_classify_answers)
{
	check_classify("dnsbl = bl.example/127.0.0.2=A:1 "
	    "bl.example/127.0.0.4-127.0.0.7=B:1 bl.example/127.0.1.0/24=C:1 "
	    "bl.example/&8=D:1 bl.example/*=E:1\n", 5, false,
	    classify_cases[_i].answer, classify_cases[_i].want,
	    classify_cases[_i].matched);
}
END_TEST

/* ------------------------------------------------------------------ */
/* the scan step                                                       */
/* ------------------------------------------------------------------ */

static struct engine *
bl_engine(struct fake *f, const char *extra)
{
	struct buf text = BUF_INIT;
	struct engine *e;
	char *psl = xstrdup(test_data("dnsbl/psl.dat"));

	buf_printf(&text, "rules_dir =\nrules_site_dir =\n"
	    "dmarc = no\nspf = no\ndmarc_psl_file = %s\n"
	    "dnsbl = zen.example/127.0.0.2-127.0.0.3=RBL_SBL:3 "
	    "zen.example/127.0.0.4-127.0.0.7=RBL_XBL:2:reject "
	    "bl.example/127.0.0.2=RBL_OTHER:1.5\n"
	    "uribl = uribl.example/&2=URIBL_BLACK:4 "
	    "dbl.example/127.0.1.2=URIBL_DBL:2.5\n%s", psl, extra);
	e = test_engine(text.data);
	dns_resolver_free(e->dns);	/* the engine's own resolver */
	pthread_mutex_init(&f->lock, NULL);
	e->dns = dns_resolver_new(&fake_backend, f);
	buf_release(&text);
	free(psl);
	return e;
}

static const char plain[] = "From: a@sender.example\r\nTo: b@rcpt.example\r\n"
    "Subject: hello\r\nMessage-ID: <1@sender.example>\r\n\r\nhi there\r\n";

static struct scan *
run(struct engine *e, const char *ip, const char *text, struct msg **m)
{
	return test_scan_text(e, ip, "mx.sender.example", "a@sender.example",
	    "b@rcpt.example", text, strlen(text), m);
}

START_TEST(test_dnsbl_listing_becomes_symbols)
{
	struct fake f;
	struct engine *e;
	struct scan *s;
	struct msg *m;
	const struct symbol *sym;

	memset(&f, 0, sizeof(f));
	fake_add(&f, "9.2.0.192.zen.example", DNS_OK, "127.0.0.2", NULL);
	fake_add(&f, "9.2.0.192.bl.example", DNS_OK, "127.0.0.2", NULL);
	e = bl_engine(&f, "");
	s = run(e, "192.0.2.9", plain, &m);
	sym = verdict_symbol(&s->verdict, "RBL_SBL");
	ck_assert_ptr_nonnull(sym);
	ck_assert_double_eq(sym->score, 3);
	ck_assert_ptr_nonnull(strstr(sym->detail, "192.0.2.9 listed in "
	    "zen.example"));
	ck_assert_ptr_nonnull(verdict_symbol(&s->verdict, "RBL_OTHER"));
	ck_assert_ptr_null(verdict_symbol(&s->verdict, "RBL_XBL"));
	ck_assert(!s->verdict.dns_degraded);
	ck_assert_int_eq(s->verdict.action, ACTION_ACCEPT);	/* 4.5 < 5 */
	scan_free(&s);
	msg_free(&m);
	engine_unref(e);
}
END_TEST

START_TEST(test_dnsbl_reject_entry_refuses_with_zone)
{
	struct fake f;
	struct engine *e;
	struct scan *s;
	struct msg *m;

	memset(&f, 0, sizeof(f));
	/* two records: each matching entry's symbol once */
	fake_add(&f, "9.2.0.192.zen.example", DNS_OK, "127.0.0.4", "127.0.0.3");
	e = bl_engine(&f, "");
	s = run(e, "192.0.2.9", plain, &m);
	ck_assert_ptr_nonnull(verdict_symbol(&s->verdict, "RBL_XBL"));
	ck_assert_ptr_nonnull(verdict_symbol(&s->verdict, "RBL_SBL"));
	ck_assert_int_eq(s->verdict.action, ACTION_REJECT);
	ck_assert_str_eq(s->verdict.smtp_code, "550");
	ck_assert_ptr_nonnull(strstr(s->verdict.reply_text,
	    "192.0.2.9 is listed in zen.example"));
	scan_free(&s);
	msg_free(&m);
	engine_unref(e);
}
END_TEST

START_TEST(test_dnsbl_allowlist_beats_dnsbl_reject)
{
	struct fake f;
	struct engine *e;
	struct scan *s;
	struct msg *m;
	char *dir = xstrdup(test_data("lists"));
	struct buf extra = BUF_INIT;

	memset(&f, 0, sizeof(f));
	fake_add(&f, "9.2.0.192.zen.example", DNS_OK, "127.0.0.4", NULL);
	buf_printf(&extra, "sender_list = %s/sender.list\n", dir);
	e = bl_engine(&f, extra.data);
	s = test_scan_text(e, "192.0.2.9", "h", "friend@partner.example",
	    "b@rcpt.example", plain, strlen(plain), &m);
	ck_assert_ptr_nonnull(verdict_symbol(&s->verdict, "RBL_XBL"));
	ck_assert_int_eq(s->verdict.action, ACTION_ACCEPT);
	scan_free(&s);
	msg_free(&m);
	engine_unref(e);
	buf_release(&extra);
	free(dir);
}
END_TEST

static const struct {
	const char *name;
	enum dns_status st;
	const char *answer;
	const char *symbol;	/* DNSBL_DEGRADED or DNSBL_ERROR */
	const char *detail;
} failure_cases[] = {
	{ "timeout", DNS_TIMEOUT, NULL, "DNSBL_DEGRADED", "zen.example: timeout" },
	{ "servfail", DNS_SERVFAIL, NULL, "DNSBL_DEGRADED",
	  "zen.example: servfail" },
	{ "malformed", DNS_MALFORMED, NULL, "DNSBL_DEGRADED",
	  "zen.example: malformed" },
	{ "query refused", DNS_OK, "127.0.0.1", "DNSBL_ERROR",
	  "answer 127.0.0.1 is an error code" },
	{ "spamhaus public resolver", DNS_OK, "127.255.255.254", "DNSBL_ERROR",
	  "answer 127.255.255.254" },
	{ "nxdomain rewritten", DNS_OK, "203.0.113.80", "DNSBL_ERROR",
	  "answer 203.0.113.80" },
};

START_TEST(test_dnsbl_failures_never_list_and_mark_degraded)
{
	struct fake f;
	struct engine *e;
	struct scan *s;
	struct msg *m;
	const struct symbol *sym;
	struct buf line = BUF_INIT;

	memset(&f, 0, sizeof(f));
	fake_add(&f, "9.2.0.192.zen.example", failure_cases[_i].st,
	    failure_cases[_i].answer, NULL);
	e = bl_engine(&f, "");
	log_set_sink(LOG_SINK_CAPTURE);
	s = run(e, "192.0.2.9", plain, &m);
	free(log_capture_take());
	log_set_sink(LOG_SINK_STDERR);
	ck_assert_ptr_null(verdict_symbol(&s->verdict, "RBL_SBL"));
	ck_assert_ptr_null(verdict_symbol(&s->verdict, "RBL_XBL"));
	sym = verdict_symbol(&s->verdict, failure_cases[_i].symbol);
	ck_assert_msg(sym != NULL, "%s: no %s", failure_cases[_i].name,
	    failure_cases[_i].symbol);
	ck_assert_double_eq(sym->score, 0);
	ck_assert_msg(strstr(sym->detail, failure_cases[_i].detail) != NULL,
	    "%s: detail %s", failure_cases[_i].name, sym->detail);
	ck_assert(s->verdict.dns_degraded);
	ck_assert_int_eq(s->verdict.action, ACTION_ACCEPT);
	scan_log_line(s, &line);
	ck_assert_ptr_nonnull(strstr(buf_cstr(&line), "\"dns_degraded\":true"));
	scan_free(&s);
	msg_free(&m);
	engine_unref(e);
	buf_release(&line);
}
END_TEST

START_TEST(test_dnsbl_ipv6_client_nibbles_and_private_skipped)
{
	struct fake f;
	struct engine *e;
	struct scan *s;
	struct msg *m;

	memset(&f, 0, sizeof(f));
	e = bl_engine(&f, "");
	s = run(e, "2001:db8::25", plain, &m);
	ck_assert(fake_asked(&f, "5.2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0."
	    "0.0.8.b.d.0.1.0.0.2.zen.example"));
	scan_free(&s);
	msg_free(&m);
	f.nasked = 0;
	s = run(e, "10.9.8.7", plain, &m);
	ck_assert_uint_eq(f.nasked, 0);
	ck_assert(!s->verdict.dns_degraded);
	scan_free(&s);
	msg_free(&m);
	engine_unref(e);
}
END_TEST

START_TEST(test_uribl_registered_domains_once_each)
{
	static const char msg[] = "From: a@sender.example\r\nSubject: x\r\n"
	    "Content-Type: text/html\r\n\r\n"
	    "<a href=\"http://www.shop.spam.co.uk/buy\">buy</a> "
	    "<a href=\"https://deals.spam.co.uk/\">deals</a> "
	    "<img src=\"http://cdn.clean.com/i.png\"> "
	    "http://192.0.2.80/x http://[2001:db8::1]/y "
	    "http://x.y.ck/ http://www.ck/\r\n";
	struct fake f;
	struct engine *e;
	struct scan *s;
	struct msg *m;
	const struct symbol *sym;
	size_t i, n = 0;

	memset(&f, 0, sizeof(f));
	fake_add(&f, "spam.co.uk.uribl.example", DNS_OK, "127.0.0.2", NULL);
	fake_add(&f, "spam.co.uk.dbl.example", DNS_OK, "127.0.1.2", NULL);
	fake_add(&f, "clean.com.uribl.example", DNS_OK, "127.0.0.1", NULL);
	e = bl_engine(&f, "");
	log_set_sink(LOG_SINK_CAPTURE);
	s = run(e, "10.0.0.1", msg, &m);
	free(log_capture_take());
	log_set_sink(LOG_SINK_STDERR);
	sym = verdict_symbol(&s->verdict, "URIBL_BLACK");
	ck_assert_ptr_nonnull(sym);
	ck_assert_ptr_nonnull(strstr(sym->detail, "spam.co.uk listed in "
	    "uribl.example"));
	ck_assert_ptr_nonnull(verdict_symbol(&s->verdict, "URIBL_DBL"));
	/* 127.0.0.1 from a URI list is "query refused": an error */
	ck_assert_ptr_nonnull(verdict_symbol(&s->verdict, "DNSBL_ERROR"));
	ck_assert(fake_asked(&f, "clean.com.dbl.example"));
	ck_assert(fake_asked(&f, "x.y.ck.uribl.example"));	/* *.ck */
	ck_assert(fake_asked(&f, "www.ck.uribl.example"));	/* !www.ck */
	for (i = 0; i < f.nasked; i++) {
		ck_assert_msg(strstr(f.asked[i], "192.0.2.80") == NULL &&
		    strstr(f.asked[i], "2001") == NULL, "IP host looked up: "
		    "%s", f.asked[i]);
		/* registered domains only: never www.shop.spam.co.uk */
		ck_assert_msg(strstr(f.asked[i], "shop.spam") == NULL &&
		    strstr(f.asked[i], "deals.spam") == NULL &&
		    strstr(f.asked[i], "cdn.clean") == NULL, "asked %s",
		    f.asked[i]);
		if (strncmp(f.asked[i], "spam.co.uk.", 11) == 0)
			n++;
	}
	ck_assert_uint_ge(n, 2);	/* both zones */
	scan_free(&s);
	msg_free(&m);
	engine_unref(e);
}
END_TEST

/*
 * IPv4 hosts, however written, are looked up reversed in the :ip zones
 * only, once per address, within uribl_max_lookups
 */
START_TEST(test_uribl_ip_hosts_in_ip_zones_only)
{
	static const char msg[] = "From: a@sender.example\r\nSubject: x\r\n"
	    "Content-Type: text/html\r\n\r\n"
	    "<a href=\"http://3221225985/login\">bank</a> "
	    "http://0xc0.0.2.1/again http://192.0.2.80:8080/x "
	    "http://[2001:db8::1]/y http://spam.co.uk/ http://10.1.2.3/ "
	    "http://0x7f000001/\r\n";
	struct fake f;
	struct engine *e;
	struct scan *s;
	struct msg *m;
	const struct symbol *sym;
	size_t i, n1 = 0;

	memset(&f, 0, sizeof(f));
	fake_add(&f, "1.2.0.192.surbl.example", DNS_OK, "127.0.0.8", NULL);
	e = bl_engine(&f, "uribl = uribl.example/&2=URIBL_BLACK:4 "
	    "surbl.example/&8=URIBL_PH:3.5:ip\n");
	s = run(e, "10.0.0.1", msg, &m);
	sym = verdict_symbol(&s->verdict, "URIBL_PH");
	ck_assert_ptr_nonnull(sym);
	ck_assert_msg(strstr(sym->detail, "192.0.2.1 listed in surbl.example")
	    != NULL, "%s", sym->detail);
	ck_assert(fake_asked(&f, "80.2.0.192.surbl.example"));
	ck_assert(fake_asked(&f, "spam.co.uk.surbl.example"));
	ck_assert(fake_asked(&f, "spam.co.uk.uribl.example"));
	for (i = 0; i < f.nasked; i++) {
		ck_assert_msg(strstr(f.asked[i], "uribl.example") == NULL ||
		    strncmp(f.asked[i], "spam.co.uk.", 11) == 0,
		    "IP looked up in a zone without :ip: %s", f.asked[i]);
		/* private and loopback addresses are never asked about */
		ck_assert_msg(strstr(f.asked[i], "3.2.1.10.") == NULL &&
		    strstr(f.asked[i], "1.0.0.127.") == NULL, "asked %s",
		    f.asked[i]);
		ck_assert_msg(strstr(f.asked[i], "2001") == NULL &&
		    strstr(f.asked[i], "0xc0") == NULL &&
		    strstr(f.asked[i], "3221225985") == NULL, "asked %s",
		    f.asked[i]);
		n1 += strcmp(f.asked[i], "1.2.0.192.surbl.example") == 0;
	}
	ck_assert_uint_ge(n1, 1);
	ck_assert_uint_le(n1, 2);	/* a prefetch and its lookup */
	ck_assert_uint_eq(fake_distinct(&f), 4);
	scan_free(&s);
	msg_free(&m);
	engine_unref(e);
}
END_TEST

START_TEST(test_uribl_lookups_capped_visibly)
{
	struct buf msg = BUF_INIT;
	struct fake f;
	struct engine *e;
	struct scan *s;
	struct msg *m;
	const struct symbol *sym;
	int i;

	memset(&f, 0, sizeof(f));
	buf_adds(&msg, "From: a@sender.example\r\nSubject: x\r\n\r\n");
	for (i = 0; i < 12; i++)
		buf_printf(&msg, "http://site%d.example/\r\n", i);
	e = bl_engine(&f, "uribl_max_lookups = 5\n");
	s = run(e, "10.0.0.1", msg.data, &m);
	ck_assert_uint_eq(fake_distinct(&f), 10);	/* 5 domains x 2 zones */
	sym = verdict_symbol(&s->verdict, "URIBL_LOOKUPS_CAPPED");
	ck_assert_ptr_nonnull(sym);
	ck_assert_ptr_nonnull(strstr(sym->detail, "5 of 12"));
	scan_free(&s);
	msg_free(&m);
	engine_unref(e);
	buf_release(&msg);
}
END_TEST

START_TEST(test_dnsbl_trusted_client_not_queried)
{
	struct fake f;
	struct engine *e;
	struct scan *s;
	struct msg *m;

	memset(&f, 0, sizeof(f));
	fake_add(&f, "9.2.0.192.zen.example", DNS_OK, "127.0.0.4", NULL);
	e = bl_engine(&f, "trusted_networks = 192.0.2.0/24\n");
	s = run(e, "192.0.2.9", plain, &m);
	ck_assert_uint_eq(f.nasked, 0);
	ck_assert_int_eq(s->verdict.action, ACTION_ACCEPT);
	scan_free(&s);
	msg_free(&m);
	engine_unref(e);
}
END_TEST

START_TEST(test_dnsbl_without_resolver_is_degraded_not_silent)
{
	struct fake f;
	struct engine *e;
	struct scan *s;
	struct msg *m;

	memset(&f, 0, sizeof(f));
	e = bl_engine(&f, "");
	dns_resolver_free(e->dns);
	e->dns = NULL;
	s = run(e, "192.0.2.9", plain, &m);
	ck_assert_ptr_nonnull(verdict_symbol(&s->verdict, "DNSBL_DEGRADED"));
	ck_assert(s->verdict.dns_degraded);
	scan_free(&s);
	msg_free(&m);
	engine_unref(e);
}
END_TEST

/* ------------------------------------------------------------------ */
/* allowlists, domain lists, hashed lists                              */
/* ------------------------------------------------------------------ */

static const struct {
	int	 key;		/* 0 dnswl, 1 dbl */
	const char *entry;
	const char *error;	/* substring, or NULL if valid */
} rep_entry_cases[] = {
	{ 0, "list.dnswl.example/127.0.*.3=RCVD_IN_DNSWL_HI:-5", NULL },
	{ 0, "list.dnswl.example/127.0.*.0=RCVD_IN_DNSWL_NONE:0", NULL },
	{ 0, "list.dnswl.example/127.0.*.1=DNSWL_LOW:1", "not be positive" },
	{ 0, "list.dnswl.example/127.0.*.1=DNSWL_LOW:-1:reject",
	  "unknown flag 'reject'" },
	{ 0, "list.dnswl.example/127.*.*=DNSWL:-1", "bad result" },
	{ 0, "list.dnswl.example/127.0.*.256=DNSWL:-1", "bad result" },
	{ 1, "dbl.example/127.0.1.2=DBL_SPAM:4:envfrom:from:helo", NULL },
	{ 1, "dbl.example/127.0.1.2=DBL_RDNS:1:rdns:full", NULL },
	{ 1, "dbl.example/127.0.1.2=DBL_DKIM:2:dkim:reject", NULL },
	{ 1, "hbl.example/127.0.3.2=HBL_EMAIL:3:envfrom:from:hashed", NULL },
	{ 1, "dbl.example/127.0.1.2=DBL_SPAM:4", "name the identities" },
	{ 1, "hbl.example/127.0.3.2=HBL:3:helo:hashed", "only :envfrom" },
	{ 1, "hbl.example/127.0.3.2=HBL:3:from:hashed:full", "exclude" },
	{ 1, "dbl.example/127.0.1.2=DBL:4:from:ip", "unknown flag 'ip'" },
};

START_TEST(test_rep_entry_syntax)
{
	struct buf why = BUF_INIT;
	int rc = rep_entry_cases[_i].key == 0 ?
	    dnsbl_check_allow_entry(rep_entry_cases[_i].entry, &why) :
	    dnsbl_check_domain_entry(rep_entry_cases[_i].entry, &why);

	if (rep_entry_cases[_i].error == NULL)
		ck_assert_msg(rc == 0, "%s: %s", rep_entry_cases[_i].entry,
		    buf_cstr(&why));
	else {
		ck_assert_int_eq(rc, -1);
		ck_assert_msg(strstr(buf_cstr(&why),
		    rep_entry_cases[_i].error) != NULL, "%s: %s",
		    rep_entry_cases[_i].entry, buf_cstr(&why));
	}
	buf_release(&why);
}
END_TEST

START_TEST(test_dbl_zone_flags_must_agree)
{
	static const char text[] = "dbl = d.example/127.0.1.2=A:1:from "
	    "d.example/127.0.1.3=B:1:helo:full\n";
	struct conf *c;
	struct dnsbl *d;
	struct buf why = BUF_INIT;

	ck_assert_int_eq(conf_parse(text, sizeof(text) - 1, "t", &c, &why), 0);
	ck_assert_int_eq(dnsbl_new(c, &d, &why), -1);
	ck_assert_ptr_nonnull(strstr(buf_cstr(&why), "same :full"));
	conf_free(c);
	buf_release(&why);
}
END_TEST

static const struct {
	const char *answer;
	enum dnsbl_verdict want;
	uint64_t matched;
} wl_cases[] = {
	{ "127.0.15.0", DNSBL_LISTED, 1 },
	{ "127.0.2.2", DNSBL_LISTED, 4 },
	{ "127.0.20.3", DNSBL_LISTED, 8 },
	{ "127.0.0.255", DNSBL_ERROR, 0 },	/* DNSWL: refused */
	{ "127.0.0.1", DNSBL_ERROR, 0 },	/* dnsbl_refused */
	{ "10.0.0.3", DNSBL_ERROR, 0 },		/* not 127/8 */
	{ "127.0.5.7", DNSBL_NOT_LISTED, 0 },
};

START_TEST(test_dnswl_trust_levels)
{
	check_classify("dnswl = wl.example/127.0.*.0=W0:0 "
	    "wl.example/127.0.*.1=W1:-1 wl.example/127.0.*.2=W2:-2 "
	    "wl.example/127.0.*.3=W3:-5\n", 4, true, wl_cases[_i].answer,
	    wl_cases[_i].want, wl_cases[_i].matched);
}
END_TEST

static const struct {
	const char *host;
	bool full;
	const char *want;	/* NULL: not looked up */
} domain_cases[] = {
	{ "mail.spam.co.uk", false, "spam.co.uk" },
	{ "mail.spam.co.uk", true, "mail.spam.co.uk" },
	{ "MX.Sender.EXAMPLE", false, "sender.example" },
	{ "[192.0.2.1]", false, NULL },
	{ "192.0.2.1", true, NULL },
	{ "2001:db8::1", false, NULL },
	{ "co.uk", false, NULL },		/* a public suffix */
	{ "localhost", true, NULL },		/* one label */
	{ "bad_host!.com", false, NULL },
	{ "", false, NULL },
};

START_TEST(test_dbl_domain_names)
{
	struct psl *psl;
	struct buf why = BUF_INIT;
	char out[DOMAIN_MAX + 1];
	int rc;

	ck_assert_int_eq(psl_load(test_data("dnsbl/psl.dat"), &psl, &why), 0);
	rc = dnsbl_domain(psl, domain_cases[_i].host, domain_cases[_i].full,
	    out, sizeof(out));
	if (domain_cases[_i].want == NULL)
		ck_assert_msg(rc == -1, "%s: %s", domain_cases[_i].host, out);
	else {
		ck_assert_int_eq(rc, 0);
		ck_assert_str_eq(out, domain_cases[_i].want);
	}
	psl_free(psl);
	buf_release(&why);
}
END_TEST

START_TEST(test_hbl_hash_names)
{
	struct buf b = BUF_INIT;

	/* SHA-1 of "spammer@bad.example", lower-cased first */
	ck_assert_int_eq(dnsbl_hash_name("Spammer@BAD.example",
	    "_email.hbl.example", &b), 0);
	ck_assert_str_eq(buf_cstr(&b), "86851c79306bed218940ba4542ae0c8ce32"
	    "0264e._email.hbl.example");
	buf_reset(&b);
	ck_assert_int_eq(dnsbl_hash_name("", "h.example", &b), -1);
	ck_assert_int_eq(dnsbl_hash_name("nobody", "h.example", &b), -1);
	ck_assert_int_eq(dnsbl_hash_name("user@", "h.example", &b), -1);
	ck_assert_int_eq(dnsbl_hash_name("@dom.example", "h.example", &b), -1);
	buf_release(&b);
}
END_TEST

static const struct {
	const char *value;
	const char *want;	/* NULL: no address */
} from_cases[] = {
	{ " \"Bob <x>\" <bob@example.org>", "bob@example.org" },
	{ " bob@example.org (Bob)", "bob@example.org" },
	{ " Bob <bob@example.org>\r\n", "bob@example.org" },
	{ " <>", NULL },
	{ " Bob", NULL },
	{ " <a@b@c>", NULL },
	{ " <@example.org>", NULL },
	{ " <bo\x01b@example.org>", NULL },
	{ " <\"a b\"@example.org>", NULL },
};

START_TEST(test_from_address)
{
	char out[256];
	int rc = dnsbl_from_address(from_cases[_i].value, out, sizeof(out));

	if (from_cases[_i].want == NULL)
		ck_assert_msg(rc == -1, "%s: %s", from_cases[_i].value, out);
	else {
		ck_assert_int_eq(rc, 0);
		ck_assert_str_eq(out, from_cases[_i].want);
	}
}
END_TEST

START_TEST(test_dnswl_listing_lowers_score_refused_does_not)
{
	struct fake f;
	struct engine *e;
	struct scan *s;
	struct msg *m;
	const struct symbol *sym;

	memset(&f, 0, sizeof(f));
	fake_add(&f, "9.2.0.192.wl.example", DNS_OK, "127.0.10.2", NULL);
	fake_add(&f, "10.2.0.192.wl.example", DNS_OK, "127.0.0.255", NULL);
	e = bl_engine(&f, "dnswl = wl.example/127.0.*.2=DNSWL_MED:-2 "
	    "wl.example/127.0.*.3=DNSWL_HI:-5\n");
	s = run(e, "192.0.2.9", plain, &m);
	sym = verdict_symbol(&s->verdict, "DNSWL_MED");
	ck_assert_ptr_nonnull(sym);
	ck_assert_double_eq(sym->score, -2);
	ck_assert_ptr_null(verdict_symbol(&s->verdict, "DNSWL_HI"));
	ck_assert(!s->verdict.dns_degraded);
	scan_free(&s);
	msg_free(&m);
	s = run(e, "192.0.2.10", plain, &m);
	ck_assert_ptr_null(verdict_symbol(&s->verdict, "DNSWL_MED"));
	ck_assert_ptr_null(verdict_symbol(&s->verdict, "DNSWL_HI"));
	ck_assert_ptr_nonnull(verdict_symbol(&s->verdict, "DNSBL_ERROR"));
	ck_assert(s->verdict.dns_degraded);
	scan_free(&s);
	msg_free(&m);
	engine_unref(e);
}
END_TEST

static const char from_other[] = "From: Boss <Boss@Other.example>\r\n"
    "To: b@rcpt.example\r\nSubject: hi\r\n"
    "Message-ID: <2@other.example>\r\n\r\nhello\r\n";

START_TEST(test_dbl_identities_each_once)
{
	struct fake f;
	struct engine *e;
	struct scan *s;
	struct msg *m;
	const struct symbol *sym;

	memset(&f, 0, sizeof(f));
	fake_add(&f, "sender.example.dbl.example", DNS_OK, "127.0.1.2", NULL);
	fake_add(&f, "other.example.dbl.example", DNS_OK, "127.0.1.2", NULL);
	fake_add(&f, "client.example.dbl.example", DNS_SERVFAIL, NULL, NULL);
	e = bl_engine(&f, "dbl = dbl.example/127.0.1.2=DBL_ENV:2:envfrom "
	    "dbl.example/127.0.1.2=DBL_FROM:3:from "
	    "dbl.example/127.0.1.2=DBL_HELO:1:helo "
	    "dbl.example/127.0.1.2=DBL_RDNS:1:rdns\n");
	s = run(e, "192.0.2.9", from_other, &m);
	/* envelope a@sender.example and HELO mx.sender.example: one query */
	ck_assert(fake_asked(&f, "sender.example.dbl.example"));
	ck_assert(fake_asked(&f, "other.example.dbl.example"));
	ck_assert(fake_asked(&f, "client.example.dbl.example"));
	/* and the two dnsbl zones' client queries */
	ck_assert_uint_eq(fake_distinct(&f), 5);
	ck_assert_ptr_nonnull(verdict_symbol(&s->verdict, "DBL_ENV"));
	ck_assert_ptr_nonnull(verdict_symbol(&s->verdict, "DBL_HELO"));
	sym = verdict_symbol(&s->verdict, "DBL_FROM");
	ck_assert_ptr_nonnull(sym);
	ck_assert_ptr_nonnull(strstr(sym->detail, "other.example (from) listed in "
	    "dbl.example"));
	/* SERVFAIL: degraded, never a listing */
	ck_assert_ptr_null(verdict_symbol(&s->verdict, "DBL_RDNS"));
	ck_assert_ptr_nonnull(verdict_symbol(&s->verdict, "DNSBL_DEGRADED"));
	ck_assert(s->verdict.dns_degraded);
	scan_free(&s);
	msg_free(&m);
	engine_unref(e);
}
END_TEST

START_TEST(test_dbl_full_names_and_hashed_addresses)
{
	struct fake f;
	struct engine *e;
	struct scan *s;
	struct msg *m;

	memset(&f, 0, sizeof(f));
	fake_add(&f, "mx.sender.example.full.example", DNS_OK, "127.0.1.2",
	    NULL);
	/* sha1("boss@other.example") */
	fake_add(&f, "bc3ff3a16d5c99e781882ba1b2b50774c1ae6148.hbl.example",
	    DNS_OK, "127.0.3.2", NULL);
	e = bl_engine(&f, "dbl = "
	    "full.example/127.0.1.2=DBL_HELO_FULL:1:helo:full "
	    "hbl.example/127.0.3.2=HBL_FROM:3:from:hashed "
	    "hbl.example/127.0.3.2=HBL_ENV:3:envfrom:hashed\n");
	s = run(e, "192.0.2.9", from_other, &m);
	ck_assert(fake_asked(&f, "mx.sender.example.full.example"));
	ck_assert_ptr_nonnull(verdict_symbol(&s->verdict, "DBL_HELO_FULL"));
	/* sha1("a@sender.example"): asked, not listed */
	ck_assert(fake_asked(&f,
	    "da38175b0e8a2c317db9cb35f864e2ebf7385299.hbl.example"));
	ck_assert_ptr_null(verdict_symbol(&s->verdict, "HBL_ENV"));
	ck_assert_ptr_nonnull(verdict_symbol(&s->verdict, "HBL_FROM"));
	scan_free(&s);
	msg_free(&m);
	engine_unref(e);
}
END_TEST

static Suite *
dnsbl_suite(void)
{
	Suite *s = suite_create("dnsbl");
	TCase *tc;

#define N(a)	((int)(sizeof(a) / sizeof(a[0])))
	tc = tcase_create("config");
	tcase_add_loop_test(tc, test_dnsbl_entry_syntax, 0, N(entry_cases));
	tcase_add_test(tc, test_uribl_ip_flag_only_on_uri_lists);
	tcase_add_test(tc, test_dnsbl_bad_entry_is_a_config_error_with_line);
	tcase_add_loop_test(tc, test_dnsbl_query_names, 0, N(name_cases));
	tcase_add_loop_test(tc, test_dnsbl_classify_answers, 0,
	    N(classify_cases));
	tcase_add_loop_test(tc, test_rep_entry_syntax, 0, N(rep_entry_cases));
	tcase_add_test(tc, test_dbl_zone_flags_must_agree);
	tcase_add_loop_test(tc, test_dnswl_trust_levels, 0, N(wl_cases));
	tcase_add_loop_test(tc, test_dbl_domain_names, 0, N(domain_cases));
	tcase_add_test(tc, test_hbl_hash_names);
	tcase_add_loop_test(tc, test_from_address, 0, N(from_cases));
	suite_add_tcase(s, tc);

	tc = tcase_create("step");
	tcase_add_test(tc, test_dnsbl_listing_becomes_symbols);
	tcase_add_test(tc, test_dnsbl_reject_entry_refuses_with_zone);
	tcase_add_test(tc, test_dnsbl_allowlist_beats_dnsbl_reject);
	tcase_add_loop_test(tc, test_dnsbl_failures_never_list_and_mark_degraded,
	    0, N(failure_cases));
	tcase_add_test(tc, test_dnsbl_ipv6_client_nibbles_and_private_skipped);
	tcase_add_test(tc, test_uribl_registered_domains_once_each);
	tcase_add_test(tc, test_uribl_ip_hosts_in_ip_zones_only);
	tcase_add_test(tc, test_uribl_lookups_capped_visibly);
	tcase_add_test(tc, test_dnsbl_trusted_client_not_queried);
	tcase_add_test(tc, test_dnsbl_without_resolver_is_degraded_not_silent);
	tcase_add_test(tc, test_dnswl_listing_lowers_score_refused_does_not);
	tcase_add_test(tc, test_dbl_identities_each_once);
	tcase_add_test(tc, test_dbl_full_names_and_hashed_addresses);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(dnsbl_suite());
}
