/*
 * check_dns.c - the resolver layer: names, zone backend, cache,
 * in-flight sharing, prefetch, budgets, reply validation
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "dns.h"
#include "dns_int.h"
#include "helpers.h"

static double
ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

/* ---- names ---- */

static const struct {
	const char *name;
	unsigned flags;
	bool want;
} name_cases[] = {
	{ "example.com", 0, true },
	{ "example.com.", 0, true },
	{ "_dmarc.example.com", 0, true },
	{ "sel._domainkey.example.com", 0, true },
	{ "a-b.c", 0, true },
	{ "", 0, false },
	{ ".", 0, false },
	{ "a..b", 0, false },
	{ ".a", 0, false },
	{ "a b.example", 0, false },
	{ "a b.example", DNS_F_ANYNAME, true },
	{ "foo:bar/baz.example.com", 0, false },
	{ "foo:bar/baz.example.com", DNS_F_ANYNAME, true },
	{ "a\001b.example", DNS_F_ANYNAME, false },
	{ "caf\xc3\xa9.example", DNS_F_ANYNAME, false },
	{ "a..b", DNS_F_ANYNAME, false },
	{ "example.net(.example.com", 0, false },	/* CVE-2020-12272 */
	{ "a123456789012345678901234567890123456789012345678901234567890123"
	  ".example", 0, false },			/* 64-byte label */
	{ "a12345678901234567890123456789012345678901234567890123456789012"
	  ".example", 0, true },			/* 63-byte label */
};

START_TEST(test_dns_name_check_table)
{
	ck_assert_msg(dns_name_check(name_cases[_i].name, name_cases[_i].flags)
	    == name_cases[_i].want, "%s: got %d", name_cases[_i].name,
	    !name_cases[_i].want);
}
END_TEST

START_TEST(test_dns_name_over_253_is_invalid)
{
	struct buf b = BUF_INIT;

	while (b.len < 250)
		buf_adds(&b, "abcdefghi.");
	buf_adds(&b, "com");		/* 253 would be fine, this is 253 */
	ck_assert(b.len == 253);
	ck_assert(dns_name_valid(buf_cstr(&b)));
	buf_addc(&b, 'x');
	ck_assert(!dns_name_valid(buf_cstr(&b)));
	buf_release(&b);
}
END_TEST

/* ---- zone backend ---- */

static const char zone[] =
    "$ORIGIN example.com.\n"
    "$TTL 300\n"
    "@ SOA ns hostmaster 1 3600 600 86400 60\n"
    "@ TXT \"v=spf1 ip4:192.0.2.0/24\" \" -all\"\n"
    "@ MX 10 mx1\n"
    "@ MX 20 mx2.example.net.\n"
    "mx1 A 192.0.2.1\n"
    "mx1 AAAA 2001:db8::1\n"
    "alias CNAME mx1\n"
    "loop1 CNAME loop2\n"
    "loop2 CNAME loop1\n"
    "a.b.c TXT \"deep\"\n"
    "*.wild TXT \"wildcard\"\n"
    "dead TIMEOUT\n"
    "half A 192.0.2.7\n"
    "half TIMEOUT\n"
    "broken SERVFAIL TXT\n"
    "broken A 192.0.2.10\n"
    "gone NXDOMAIN\n"
    "empty TYPE16 \\# 0\n"
    "null MX 0 .\n"
    "short 5 A 192.0.2.5\n"
    "slow DELAY 150\n"
    "slow A 192.0.2.9\n"
    "slower DELAY 1500\n"
    "slower A 192.0.2.8\n"
    "space\\032name A 192.0.2.11\n"
    "Upper TXT \"case\"\n"
    "1.2.0.192.in-addr.arpa. PTR mx1.example.com.\n"
    "; comment\n"
    "nosoa.test. A 198.51.100.1 ; a name in no zone with an SOA\n";

static struct dns_resolver *
zone_resolver(size_t cache, unsigned threads)
{
	struct dns_resolver *r;
	struct dns_opts o;
	struct buf why = BUF_INIT;

	dns_opts_default(&o);
	o.cache_size = cache;
	o.prefetch_threads = threads;
	if (dns_zone_open_text(zone, sizeof(zone) - 1, "test.zone", &o, &r,
	    &why) < 0)
		ck_abort_msg("zone: %s", buf_cstr(&why));
	buf_release(&why);
	return r;
}

static const struct {
	const char *name;
	uint16_t type;
	enum dns_status want;
	size_t n;
	const char *first;	/* text of the first record */
	uint32_t ttl;
} zone_cases[] = {
	{ "example.com", DNS_T_TXT, DNS_OK, 1, "v=spf1 ip4:192.0.2.0/24 -all",
	  300 },
	{ "EXAMPLE.COM.", DNS_T_TXT, DNS_OK, 1, NULL, 300 },
	{ "example.com", DNS_T_MX, DNS_OK, 2, "10 mx1.example.com", 300 },
	{ "mx1.example.com", DNS_T_A, DNS_OK, 1, "192.0.2.1", 300 },
	{ "mx1.example.com", DNS_T_AAAA, DNS_OK, 1, "2001:db8::1", 300 },
	{ "mx1.example.com", DNS_T_TXT, DNS_NODATA, 0, NULL, 60 },
	{ "alias.example.com", DNS_T_A, DNS_OK, 1, "192.0.2.1", 300 },
	{ "alias.example.com", DNS_T_CNAME, DNS_OK, 1, "mx1.example.com",
	  300 },
	{ "loop1.example.com", DNS_T_A, DNS_SERVFAIL, 0, NULL, 0 },
	{ "b.c.example.com", DNS_T_TXT, DNS_NODATA, 0, NULL, 60 },
	{ "x.c.example.com", DNS_T_TXT, DNS_NXDOMAIN, 0, NULL, 60 },
	{ "any.wild.example.com", DNS_T_TXT, DNS_OK, 1, "wildcard", 300 },
	{ "dead.example.com", DNS_T_A, DNS_TIMEOUT, 0, NULL, 0 },
	{ "half.example.com", DNS_T_A, DNS_OK, 1, "192.0.2.7", 300 },
	{ "half.example.com", DNS_T_TXT, DNS_TIMEOUT, 0, NULL, 0 },
	{ "broken.example.com", DNS_T_TXT, DNS_SERVFAIL, 0, NULL, 0 },
	{ "broken.example.com", DNS_T_A, DNS_OK, 1, "192.0.2.10", 300 },
	{ "gone.example.com", DNS_T_A, DNS_NXDOMAIN, 0, NULL, 60 },
	{ "empty.example.com", DNS_T_TXT, DNS_OK, 1, "", 300 },
	{ "null.example.com", DNS_T_MX, DNS_OK, 1, "0 ", 300 },
	{ "short.example.com", DNS_T_A, DNS_OK, 1, "192.0.2.5", 5 },
	{ "space name.example.com", DNS_T_A, DNS_INVALID_NAME, 0, NULL, 0 },
	{ "upper.example.com", DNS_T_TXT, DNS_OK, 1, "case", 300 },
	{ "1.2.0.192.in-addr.arpa", DNS_T_PTR, DNS_OK, 1, "mx1.example.com",
	  300 },
	{ "nosoa.test", DNS_T_TXT, DNS_NODATA, 0, NULL, 0 },
	{ "none.test", DNS_T_TXT, DNS_NXDOMAIN, 0, NULL, 0 },
	{ "bad..name", DNS_T_A, DNS_INVALID_NAME, 0, NULL, 0 },
};

static void
rr_text(const struct dns_rr *rr, struct buf *out)
{
	char ip[NETADDR_STRLEN];

	switch (rr->type) {
	case DNS_T_A:
	case DNS_T_AAAA:
		netaddr_format(&rr->addr, ip, sizeof(ip));
		buf_adds(out, ip);
		break;
	case DNS_T_MX:
		buf_printf(out, "%u %s", rr->pref, rr->name);
		break;
	case DNS_T_TXT:
		buf_add(out, rr->txt, rr->txt_len);
		break;
	default:
		buf_adds(out, rr->name);
	}
}

START_TEST(test_dns_zone_answers_table)
{
	struct dns_resolver *r = zone_resolver(100, 0);
	struct dns_answer *a;
	struct buf t = BUF_INIT;

	dns_lookup(r, zone_cases[_i].name, zone_cases[_i].type, NULL, &a);
	ck_assert_msg(a->status == zone_cases[_i].want, "%s %s: got %s, want "
	    "%s", zone_cases[_i].name, dns_type_name(zone_cases[_i].type),
	    dns_status_name(a->status), dns_status_name(zone_cases[_i].want));
	ck_assert_msg(a->n == zone_cases[_i].n, "%s: %zu records, want %zu",
	    zone_cases[_i].name, a->n, zone_cases[_i].n);
	if (zone_cases[_i].first) {
		rr_text(&a->rrs[0], &t);
		ck_assert_msg(strcmp(buf_cstr(&t), zone_cases[_i].first) == 0,
		    "%s: got '%s', want '%s'", zone_cases[_i].name,
		    buf_cstr(&t), zone_cases[_i].first);
	}
	if (a->status != DNS_INVALID_NAME)
		ck_assert_msg(a->ttl == zone_cases[_i].ttl, "%s: ttl %u, want "
		    "%u", zone_cases[_i].name, a->ttl, zone_cases[_i].ttl);
	buf_release(&t);
	dns_answer_free(a);
	dns_resolver_free(r);
}
END_TEST

START_TEST(test_dns_zone_txt_strings_joined_without_separator)
{
	struct dns_resolver *r = zone_resolver(100, 0);
	struct dns_answer *a;

	ck_assert_int_eq(dns_lookup(r, "example.com", DNS_T_TXT, NULL, &a),
	    DNS_OK);
	ck_assert_uint_eq(a->rrs[0].txt_nstrings, 2);
	ck_assert_str_eq(a->rrs[0].txt, "v=spf1 ip4:192.0.2.0/24 -all");
	dns_answer_free(a);
	ck_assert_int_eq(dns_lookup(r, "empty.example.com", DNS_T_TXT, NULL,
	    &a), DNS_OK);
	ck_assert_uint_eq(a->rrs[0].txt_nstrings, 0);
	ck_assert_uint_eq(a->rrs[0].txt_len, 0);
	dns_answer_free(a);
	dns_resolver_free(r);
}
END_TEST

START_TEST(test_dns_zone_any_name_reaches_odd_labels)
{
	struct dns_resolver *r = zone_resolver(100, 0);
	struct dns_answer *a;

	ck_assert_int_eq(dns_lookup_ex(r, "space name.example.com", DNS_T_A,
	    DNS_F_ANYNAME, NULL, &a), DNS_OK);
	dns_answer_free(a);
	dns_resolver_free(r);
}
END_TEST

static const struct {
	const char *text;
	const char *why;	/* substring of the error */
} bad_zones[] = {
	{ "a.example. A 999.1.1.1\n", "bad.zone:1:" },
	{ "\n\na.example. TIMEOUT BOGUS\n", "bad.zone:3: bad TIMEOUT" },
	{ "a.example. DELAY\n", "bad.zone:1: bad DELAY" },
	{ "a.example. NXDOMAIN A\n", "bad.zone:1: bad NXDOMAIN" },
	{ "a.example. CH TXT \"x\"\n", "bad.zone:1:" },
	{ "a.example. TXT \"x\"\0\n", "NUL byte" },
};

START_TEST(test_dns_zone_errors_name_file_and_line)
{
	struct dns_resolver *r = NULL;
	struct buf why = BUF_INIT;
	size_t len = strlen(bad_zones[_i].text);

	if (strstr(bad_zones[_i].why, "NUL"))
		len += 2;
	ck_assert_int_eq(dns_zone_open_text(bad_zones[_i].text, len,
	    "bad.zone", NULL, &r, &why), -1);
	ck_assert_ptr_null(r);
	ck_assert_msg(strstr(buf_cstr(&why), bad_zones[_i].why) != NULL,
	    "got '%s', want '%s'", buf_cstr(&why), bad_zones[_i].why);
	buf_release(&why);
}
END_TEST

START_TEST(test_dns_zone_missing_file_is_an_error)
{
	const char *paths[] = { "/nonexistent/zone" };
	struct dns_resolver *r;
	struct buf why = BUF_INIT;

	ck_assert_int_eq(dns_zone_open(paths, 1, NULL, &r, &why), -1);
	ck_assert(strstr(buf_cstr(&why), "/nonexistent/zone") != NULL);
	buf_release(&why);
}
END_TEST

/* ---- cache ---- */

static const struct {
	const char *name;
	uint16_t type;
	size_t servfail_ttl, timeout_ttl;
	bool cached;
} cache_cases[] = {
	{ "mx1.example.com", DNS_T_A, 30, 5, true },		/* positive */
	{ "gone.example.com", DNS_T_A, 30, 5, true },		/* NXDOMAIN+SOA */
	{ "mx1.example.com", DNS_T_TXT, 30, 5, true },		/* NODATA+SOA */
	{ "none.test", DNS_T_A, 30, 5, false },		/* no SOA */
	{ "nosoa.test", DNS_T_TXT, 30, 5, false },		/* no SOA */
	{ "broken.example.com", DNS_T_TXT, 30, 5, true },	/* SERVFAIL */
	{ "broken.example.com", DNS_T_TXT, 0, 5, false },
	{ "dead.example.com", DNS_T_A, 30, 5, true },		/* TIMEOUT */
	{ "dead.example.com", DNS_T_A, 30, 0, false },
	{ "loop1.example.com", DNS_T_A, 30, 5, true },		/* SERVFAIL */
};

START_TEST(test_dns_cache_keeps_statuses_as_configured)
{
	struct dns_resolver *r;
	struct dns_opts o;
	struct dns_answer *a, *b;
	struct dns_stats st;
	struct buf why = BUF_INIT;

	dns_opts_default(&o);
	o.servfail_ttl = (uint32_t)cache_cases[_i].servfail_ttl;
	o.timeout_ttl = (uint32_t)cache_cases[_i].timeout_ttl;
	ck_assert_int_eq(dns_zone_open_text(zone, sizeof(zone) - 1, "t", &o,
	    &r, &why), 0);
	dns_lookup(r, cache_cases[_i].name, cache_cases[_i].type, NULL, &a);
	dns_lookup(r, cache_cases[_i].name, cache_cases[_i].type, NULL, &b);
	dns_resolver_stats(r, &st);
	ck_assert_msg(a->status == b->status, "%s: %s then %s",
	    cache_cases[_i].name, dns_status_name(a->status),
	    dns_status_name(b->status));
	ck_assert_msg(b->from_cache == cache_cases[_i].cached,
	    "%s %s: from_cache %d", cache_cases[_i].name,
	    dns_status_name(a->status), b->from_cache);
	ck_assert_uint_eq(st.queries, cache_cases[_i].cached ? 1 : 2);
	dns_answer_free(a);
	dns_answer_free(b);
	dns_resolver_free(r);
	buf_release(&why);
}
END_TEST

START_TEST(test_dns_cache_honours_ttl)
{
	static const char z[] = "x.test. 1 A 192.0.2.1\n";
	struct dns_resolver *r;
	struct dns_answer *a;
	struct dns_stats st;

	ck_assert_int_eq(dns_zone_open_text(z, strlen(z), "t", NULL, &r, NULL),
	    0);
	dns_lookup(r, "x.test", DNS_T_A, NULL, &a);
	dns_answer_free(a);
	dns_lookup(r, "x.test", DNS_T_A, NULL, &a);
	ck_assert(a->from_cache);
	dns_answer_free(a);
	nanosleep(&(struct timespec){ 1, 100000000 }, NULL);
	dns_lookup(r, "x.test", DNS_T_A, NULL, &a);
	ck_assert(!a->from_cache);
	ck_assert_int_eq(a->status, DNS_OK);
	dns_answer_free(a);
	dns_resolver_stats(r, &st);
	ck_assert_uint_eq(st.queries, 2);
	dns_resolver_free(r);
}
END_TEST

/* record_trace - a dns_trace_fn appending "name type status cached" */
static void
record_trace(void *arg, const char *name, uint16_t type,
    const struct dns_answer *a, double ms)
{
	buf_printf(arg, "%s %s %s%s;", name, dns_type_name(type),
	    dns_status_name(a->status), a->from_cache ? " cached" : "");
	ck_assert(ms >= 0);
}

START_TEST(test_dns_trace_sees_every_lookup)
{
	static const char z[] = "x.test. 60 A 192.0.2.1\n";
	struct dns_resolver *r;
	struct dns_answer *a;
	struct buf log = BUF_INIT;

	ck_assert_int_eq(dns_zone_open_text(z, strlen(z), "t", NULL, &r, NULL),
	    0);
	dns_resolver_trace(r, record_trace, &log);
	dns_lookup(r, "X.Test.", DNS_T_A, NULL, &a);
	dns_answer_free(a);
	dns_lookup(r, "x.test", DNS_T_A, NULL, &a);
	dns_answer_free(a);
	dns_lookup(r, "y.test", DNS_T_TXT, NULL, &a);
	dns_answer_free(a);
	dns_lookup(r, "bad..name", DNS_T_TXT, NULL, &a);	/* never sent */
	dns_answer_free(a);
	dns_resolver_trace(r, NULL, NULL);
	dns_lookup(r, "x.test", DNS_T_A, NULL, &a);
	dns_answer_free(a);
	ck_assert_str_eq(buf_cstr(&log), "x.test A ok;x.test A ok cached;"
	    "y.test TXT nxdomain;");
	buf_release(&log);
	dns_resolver_free(r);
}
END_TEST

START_TEST(test_dns_cache_is_bounded_lru)
{
	struct dns_resolver *r = zone_resolver(3, 0);
	static const char *const names[] = {
		"mx1.example.com", "alias.example.com", "half.example.com",
		"short.example.com", "broken.example.com"
	};
	struct dns_answer *a;
	struct dns_stats st;
	size_t i;

	for (i = 0; i < 5; i++) {
		dns_lookup(r, names[i], DNS_T_A, NULL, &a);
		dns_answer_free(a);
		if (i == 2) {	/* touch the first: the second is now oldest */
			dns_lookup(r, names[0], DNS_T_A, NULL, &a);
			ck_assert(a->from_cache);
			dns_answer_free(a);
		}
	}
	dns_resolver_stats(r, &st);
	ck_assert_uint_eq(st.entries, 3);
	ck_assert_uint_eq(st.evictions, 2);
	dns_lookup(r, names[0], DNS_T_A, NULL, &a);	/* survived */
	ck_assert(a->from_cache);
	dns_answer_free(a);
	dns_lookup(r, names[1], DNS_T_A, NULL, &a);	/* evicted */
	ck_assert(!a->from_cache);
	dns_answer_free(a);
	dns_resolver_free(r);
}
END_TEST

START_TEST(test_dns_cache_size_zero_caches_nothing)
{
	struct dns_resolver *r = zone_resolver(0, 0);
	struct dns_answer *a;
	struct dns_stats st;

	dns_lookup(r, "mx1.example.com", DNS_T_A, NULL, &a);
	dns_answer_free(a);
	dns_lookup(r, "mx1.example.com", DNS_T_A, NULL, &a);
	ck_assert(!a->from_cache);
	dns_answer_free(a);
	dns_resolver_stats(r, &st);
	ck_assert_uint_eq(st.queries, 2);
	ck_assert_uint_eq(st.entries, 0);
	dns_resolver_free(r);
}
END_TEST

/* ---- concurrency: sharing, deadlines, prefetch ---- */

struct worker {
	struct dns_resolver *r;
	const char *name;
	double budget_ms;
	double start_delay_ms;
	enum dns_status got;
	double took;
};

static void *
lookup_thread(void *arg)
{
	struct worker *w = arg;
	struct dns_budget b;
	struct dns_answer *a;
	double t0;

	if (w->start_delay_ms > 0)
		nanosleep(&(struct timespec){ 0,
		    (long)(w->start_delay_ms * 1e6) }, NULL);
	dns_budget_init(&b, w->budget_ms);
	t0 = ms_now();
	w->got = dns_lookup(w->r, w->name, DNS_T_A, &b, &a);
	w->took = ms_now() - t0;
	dns_answer_free(a);
	dns_budget_release(&b);
	return NULL;
}

START_TEST(test_dns_concurrent_lookups_share_one_query)
{
	struct dns_resolver *r = zone_resolver(100, 0);
	struct worker w[8];
	pthread_t t[8];
	struct dns_stats st;
	int i;

	for (i = 0; i < 8; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].r = r;
		w[i].name = "slow.example.com";
		pthread_create(&t[i], NULL, lookup_thread, &w[i]);
	}
	for (i = 0; i < 8; i++) {
		pthread_join(t[i], NULL);
		ck_assert_int_eq(w[i].got, DNS_OK);
	}
	dns_resolver_stats(r, &st);
	ck_assert_uint_eq(st.queries, 1);
	ck_assert_uint_eq(st.shared + st.hits, 7);
	dns_resolver_free(r);
}
END_TEST

START_TEST(test_dns_waiter_deadline_times_out_alone)
{
	struct dns_resolver *r = zone_resolver(100, 0);
	struct worker slow = { r, "slow.example.com", 0, 0, 0, 0 };
	struct worker hurried = { r, "slow.example.com", 40, 20, 0, 0 };
	pthread_t t1, t2;

	pthread_create(&t1, NULL, lookup_thread, &slow);
	pthread_create(&t2, NULL, lookup_thread, &hurried);
	pthread_join(t1, NULL);
	pthread_join(t2, NULL);
	ck_assert_int_eq(slow.got, DNS_OK);
	ck_assert_int_eq(hurried.got, DNS_TIMEOUT);
	ck_assert_msg(hurried.took < 120, "took %.1f ms", hurried.took);
	dns_resolver_free(r);
}
END_TEST

START_TEST(test_dns_deadline_cut_query_is_retried_by_waiters)
{
	struct dns_resolver *r = zone_resolver(100, 0);
	struct worker hurried = { r, "slow.example.com", 40, 0, 0, 0 };
	struct worker patient = { r, "slow.example.com", 0, 10, 0, 0 };
	struct dns_answer *a;
	struct dns_stats st;
	pthread_t t1, t2;

	pthread_create(&t1, NULL, lookup_thread, &hurried);
	pthread_create(&t2, NULL, lookup_thread, &patient);
	pthread_join(t1, NULL);
	pthread_join(t2, NULL);
	ck_assert_int_eq(hurried.got, DNS_TIMEOUT);
	ck_assert_int_eq(patient.got, DNS_OK);
	/* the deadline's timeout was not cached */
	dns_lookup(r, "slow.example.com", DNS_T_A, NULL, &a);
	ck_assert_int_eq(a->status, DNS_OK);
	dns_answer_free(a);
	dns_resolver_stats(r, &st);
	ck_assert_uint_eq(st.queries, 2);
	dns_resolver_free(r);
}
END_TEST

START_TEST(test_dns_budget_exhausted_sends_nothing)
{
	struct dns_resolver *r = zone_resolver(100, 0);
	struct dns_budget b;
	struct dns_answer *a;
	struct dns_stats st;

	dns_budget_init(&b, 1);
	nanosleep(&(struct timespec){ 0, 5000000 }, NULL);
	ck_assert_int_eq(dns_lookup(r, "mx1.example.com", DNS_T_A, &b, &a),
	    DNS_TIMEOUT);
	dns_answer_free(a);
	dns_resolver_stats(r, &st);
	ck_assert_uint_eq(st.queries, 0);
	ck_assert_uint_eq(b.queries, 1);
	ck_assert_uint_eq(b.failures, 1);
	ck_assert(dns_budget_left_ms(&b) == 0);
	dns_budget_release(&b);
	dns_resolver_free(r);
}
END_TEST

START_TEST(test_dns_budget_counts_time_and_failures)
{
	struct dns_resolver *r = zone_resolver(100, 0);
	struct dns_budget b;
	struct dns_answer *a;

	dns_budget_init(&b, 0);
	ck_assert(dns_budget_left_ms(&b) < 0);
	dns_lookup(r, "slow.example.com", DNS_T_A, &b, &a);
	dns_answer_free(a);
	dns_lookup(r, "dead.example.com", DNS_T_A, &b, &a);
	dns_answer_free(a);
	dns_lookup(r, "bad..name", DNS_T_A, &b, &a);	/* not charged */
	dns_answer_free(a);
	ck_assert_uint_eq(b.queries, 2);
	ck_assert_uint_eq(b.failures, 1);
	ck_assert_msg(b.spent_ms >= 140, "spent %.1f", b.spent_ms);
	dns_budget_release(&b);
	dns_resolver_free(r);
}
END_TEST

START_TEST(test_dns_prefetch_overlaps_and_is_shared)
{
	struct dns_resolver *r = zone_resolver(100, 2);
	struct dns_answer *a;
	struct dns_stats st;
	double t0;

	t0 = ms_now();
	dns_prefetch(r, "slow.example.com", DNS_T_A);
	ck_assert_msg(ms_now() - t0 < 50, "prefetch blocked");
	nanosleep(&(struct timespec){ 0, 200000000 }, NULL);
	t0 = ms_now();
	ck_assert_int_eq(dns_lookup(r, "slow.example.com", DNS_T_A, NULL, &a),
	    DNS_OK);
	ck_assert_msg(ms_now() - t0 < 50, "lookup after prefetch took %.1f",
	    ms_now() - t0);
	ck_assert(a->from_cache);
	dns_answer_free(a);
	/* a lookup right after a prefetch waits for it, no second query */
	dns_resolver_flush(r);
	dns_prefetch(r, "slow.example.com", DNS_T_A);
	dns_prefetch(r, "slow.example.com", DNS_T_A);	/* already queued */
	ck_assert_int_eq(dns_lookup(r, "slow.example.com", DNS_T_A, NULL, &a),
	    DNS_OK);
	dns_answer_free(a);
	dns_resolver_stats(r, &st);
	ck_assert_uint_eq(st.queries, 2);
	ck_assert_uint_eq(st.prefetches, 2);
	dns_resolver_free(r);
}
END_TEST

START_TEST(test_dns_prefetch_without_threads_does_nothing)
{
	struct dns_resolver *r = zone_resolver(100, 0);
	struct dns_stats st;

	dns_prefetch(r, "mx1.example.com", DNS_T_A);
	dns_prefetch(r, "bad..name", DNS_T_A);
	dns_resolver_stats(r, &st);
	ck_assert_uint_eq(st.prefetches, 0);
	ck_assert_uint_eq(st.queries, 0);
	dns_resolver_free(r);
}
END_TEST

START_TEST(test_dns_free_does_not_wait_for_prefetches)
{
	struct dns_resolver *r = zone_resolver(100, 2);
	double t0;

	dns_prefetch(r, "slower.example.com", DNS_T_A);
	nanosleep(&(struct timespec){ 0, 20000000 }, NULL);	/* running */
	t0 = ms_now();
	dns_resolver_free(r);
	ck_assert_msg(ms_now() - t0 < 200, "free waited %.1f ms",
	    ms_now() - t0);
	/* the worker finishes in the background and frees the resolver */
	nanosleep(&(struct timespec){ 1, 600000000 }, NULL);
}
END_TEST

START_TEST(test_dns_free_with_prefetches_in_flight)
{
	struct dns_resolver *r = zone_resolver(100, 1);
	char name[64];
	int i;

	dns_prefetch(r, "slow.example.com", DNS_T_A);
	for (i = 0; i < 50; i++) {
		snprintf(name, sizeof(name), "n%d.example.com", i);
		dns_prefetch(r, name, DNS_T_TXT);
	}
	dns_resolver_free(r);	/* joins the worker, drops the queue */
}
END_TEST

struct stress {
	struct dns_resolver *r;
	unsigned seed;
	int bad;
};

static void *
stress_thread(void *arg)
{
	struct stress *s = arg;
	static const char *const names[] = {
		"mx1.example.com", "alias.example.com", "gone.example.com",
		"dead.example.com", "broken.example.com", "any.wild.example.com",
		"none.test", "x.c.example.com", "half.example.com",
	};
	struct dns_answer *a;
	char name[64];
	int i, k;

	for (i = 0; i < 2000; i++) {
		k = (int)(rand_r(&s->seed) % 12);
		if (k < 9)
			snprintf(name, sizeof(name), "%s", names[k]);
		else
			snprintf(name, sizeof(name), "h%u.wild.example.com",
			    rand_r(&s->seed) % 40);
		if (rand_r(&s->seed) % 7 == 0)
			dns_prefetch(s->r, name, DNS_T_A);
		dns_lookup(s->r, name, DNS_T_A, NULL, &a);
		if (strcmp(name, "mx1.example.com") == 0 &&
		    (a->status != DNS_OK || a->n != 1))
			s->bad++;
		dns_answer_free(a);
	}
	return NULL;
}

/* churn - six stress threads on r, seeds from seed0; every answer right */
static void
churn(struct dns_resolver *r, unsigned seed0)
{
	struct stress s[6];
	pthread_t t[6];
	int i;

	for (i = 0; i < 6; i++) {
		s[i].r = r;
		s[i].seed = (unsigned)i + seed0;
		s[i].bad = 0;
		pthread_create(&t[i], NULL, stress_thread, &s[i]);
	}
	for (i = 0; i < 6; i++) {
		pthread_join(t[i], NULL);
		ck_assert_int_eq(s[i].bad, 0);
	}
}

START_TEST(test_dns_cache_survives_concurrent_churn)
{
	struct dns_resolver *r = zone_resolver(8, 2);
	struct dns_stats st;

	churn(r, 1);
	dns_resolver_stats(r, &st);
	ck_assert(st.entries <= 8);
	ck_assert(st.evictions > 0);
	dns_resolver_free(r);
}
END_TEST

/*
 * A cache of 1024 entries or more is split into shards with a lock
 * each: the bound still holds over all of them and the statistics are
 * the sums of the shards'.
 */
START_TEST(test_dns_sharded_cache_bounded_and_counted)
{
	struct dns_resolver *r = zone_resolver(1024, 0);
	struct dns_answer *a;
	struct dns_stats st;
	char name[64];
	int i;

	for (i = 0; i < 3000; i++) {
		snprintf(name, sizeof(name), "h%d.wild.example.com", i);
		dns_lookup(r, name, DNS_T_TXT, NULL, &a);
		ck_assert_int_eq(a->status, DNS_OK);
		ck_assert(!a->from_cache);
		dns_answer_free(a);
	}
	dns_lookup(r, name, DNS_T_TXT, NULL, &a);	/* the last one: kept */
	ck_assert(a->from_cache);
	dns_answer_free(a);
	dns_resolver_stats(r, &st);
	ck_assert_uint_eq(st.lookups, 3001);
	ck_assert_uint_eq(st.hits, 1);
	ck_assert_uint_eq(st.queries, 3000);
	ck_assert_uint_le(st.entries, 1024);
	ck_assert_uint_gt(st.entries, 900);
	ck_assert_uint_eq(st.evictions, 3000 - st.entries);
	dns_resolver_flush(r);
	dns_resolver_stats(r, &st);
	ck_assert_uint_eq(st.entries, 0);
	dns_resolver_free(r);
}
END_TEST

START_TEST(test_dns_sharded_cache_survives_concurrent_churn)
{
	struct dns_resolver *r = zone_resolver(2048, 2);
	struct dns_stats st;

	churn(r, 11);
	dns_resolver_stats(r, &st);
	ck_assert_uint_eq(st.lookups, 6 * 2000);
	ck_assert(st.hits > 6 * 2000 / 2);
	dns_resolver_free(r);
}
END_TEST

/* ---- reply validation (dns_reply_parse) ---- */

struct pkt_spec {
	const char *name;
	uint16_t id;		/* id in the reply; the question uses 4242 */
	bool	 qr, tc, aa;
	int	 rcode;
	const char *question;	/* "name type", NULL: none */
	const char *answer[4];
	const char *authority[2];
	const char *qname;	/* what we asked */
	uint16_t qtype;
	enum dns_reply want;
	enum dns_status status;
	size_t	 n;
	uint32_t ttl;
	const char *next;
};

#define SOA_AUTH "example.com. 900 IN SOA ns.example.com. h.example.com. " \
	"1 3600 600 86400 120"

static const struct pkt_spec pkt_cases[] = {
	{ "plain answer", 4242, true, false, false, 0, "example.com. TXT",
	  { "example.com. 300 IN TXT \"v=spf1\" \" -all\"" }, { NULL },
	  "example.com", DNS_T_TXT, DNS_REPLY_DONE, DNS_OK, 1, 300, NULL },
	{ "other id ignored", 4243, true, false, false, 0, "example.com. TXT",
	  { "example.com. 300 IN TXT \"x\"" }, { NULL }, "example.com",
	  DNS_T_TXT, DNS_REPLY_IGNORE, DNS_OK, 0, 0, NULL },
	{ "query, not reply", 4242, false, false, false, 0, "example.com. TXT",
	  { NULL }, { NULL }, "example.com", DNS_T_TXT, DNS_REPLY_MALFORMED,
	  DNS_OK, 0, 0, NULL },
	{ "other question name", 4242, true, false, false, 0,
	  "evil.example. TXT", { "evil.example. 300 IN TXT \"x\"" }, { NULL },
	  "example.com", DNS_T_TXT, DNS_REPLY_MALFORMED, DNS_OK, 0, 0, NULL },
	{ "other question type", 4242, true, false, false, 0, "example.com. A",
	  { NULL }, { NULL }, "example.com", DNS_T_TXT, DNS_REPLY_MALFORMED,
	  DNS_OK, 0, 0, NULL },
	{ "no question", 4242, true, false, false, 0, NULL,
	  { "example.com. 300 IN TXT \"x\"" }, { NULL }, "example.com",
	  DNS_T_TXT, DNS_REPLY_MALFORMED, DNS_OK, 0, 0, NULL },
	{ "question case differs", 4242, true, false, false, 0,
	  "ExAmPlE.CoM. TXT", { "EXAMPLE.com. 300 IN TXT \"x\"" }, { NULL },
	  "example.com", DNS_T_TXT, DNS_REPLY_DONE, DNS_OK, 1, 300, NULL },
	{ "servfail", 4242, true, false, false, 2, "example.com. TXT",
	  { NULL }, { NULL }, "example.com", DNS_T_TXT, DNS_REPLY_SERVFAIL,
	  DNS_OK, 0, 0, NULL },
	{ "refused without question", 4242, true, false, false, 5, NULL,
	  { NULL }, { NULL }, "example.com", DNS_T_TXT, DNS_REPLY_SERVFAIL,
	  DNS_OK, 0, 0, NULL },
	{ "truncated", 4242, true, true, false, 0, "example.com. TXT",
	  { NULL }, { NULL }, "example.com", DNS_T_TXT, DNS_REPLY_TRUNCATED,
	  DNS_OK, 0, 0, NULL },
	{ "nxdomain with soa", 4242, true, false, true, 3, "x.example.com. A",
	  { NULL }, { SOA_AUTH }, "x.example.com", DNS_T_A, DNS_REPLY_DONE,
	  DNS_NXDOMAIN, 0, 120, NULL },
	{ "nodata with soa", 4242, true, false, false, 0, "example.com. A",
	  { NULL }, { SOA_AUTH }, "example.com", DNS_T_A, DNS_REPLY_DONE,
	  DNS_NODATA, 0, 120, NULL },
	{ "empty authoritative answer", 4242, true, false, true, 0,
	  "example.com. A", { NULL }, { NULL }, "example.com", DNS_T_A,
	  DNS_REPLY_DONE, DNS_NODATA, 0, 0, NULL },
	{ "referral is not nodata", 4242, true, false, false, 0,
	  "example.com. A", { NULL },
	  { "example.com. 300 IN NS ns.example.com." }, "example.com", DNS_T_A,
	  DNS_REPLY_SERVFAIL, DNS_OK, 0, 0, NULL },
	{ "cname chain inside reply", 4242, true, false, false, 0,
	  "www.example.com. A", { "www.example.com. 60 IN CNAME a.example.com.",
	  "a.example.com. 300 IN A 192.0.2.1",
	  "a.example.com. 300 IN A 192.0.2.2" }, { NULL }, "www.example.com",
	  DNS_T_A, DNS_REPLY_DONE, DNS_OK, 2, 60, NULL },
	{ "cname leaves reply", 4242, true, false, false, 0,
	  "www.example.com. A", { "www.example.com. 60 IN CNAME b.other.test." },
	  { NULL }, "www.example.com", DNS_T_A, DNS_REPLY_FOLLOW, DNS_OK, 0, 60,
	  "b.other.test" },
	{ "cname to nxdomain", 4242, true, false, false, 3,
	  "www.example.com. A", { "www.example.com. 60 IN CNAME b.example.com." },
	  { SOA_AUTH }, "www.example.com", DNS_T_A, DNS_REPLY_DONE,
	  DNS_NXDOMAIN, 0, 60, NULL },
	{ "cname loop in reply", 4242, true, false, false, 0, "a.example. A",
	  { "a.example. 60 IN CNAME b.example.", "b.example. 60 IN CNAME a.example." },
	  { NULL }, "a.example", DNS_T_A, DNS_REPLY_MALFORMED, DNS_OK, 0, 0,
	  NULL },
	{ "records of other owners ignored", 4242, true, false, false, 0,
	  "example.com. A", { "evil.example. 300 IN A 203.0.113.66",
	  "example.com. 300 IN A 192.0.2.1" }, { NULL }, "example.com", DNS_T_A,
	  DNS_REPLY_DONE, DNS_OK, 1, 300, NULL },
	{ "only other owners: referral", 4242, true, false, false, 0,
	  "example.com. A", { "evil.example. 300 IN A 203.0.113.66" }, { NULL },
	  "example.com", DNS_T_A, DNS_REPLY_SERVFAIL, DNS_OK, 0, 0, NULL },
	{ "mx with root exchange", 4242, true, false, false, 0,
	  "example.com. MX", { "example.com. 300 IN MX 0 ." }, { NULL },
	  "example.com", DNS_T_MX, DNS_REPLY_DONE, DNS_OK, 1, 300, NULL },
};

static uint8_t *
build_reply(const struct pkt_spec *c, size_t *len)
{
	ldns_pkt *p = ldns_pkt_new();
	ldns_rr *rr;
	uint8_t *wire;
	size_t i;

	ldns_pkt_set_id(p, c->id);
	ldns_pkt_set_qr(p, c->qr);
	ldns_pkt_set_tc(p, c->tc);
	ldns_pkt_set_aa(p, c->aa);
	ldns_pkt_set_rcode(p, (uint8_t)c->rcode);
	if (c->question) {
		ck_assert(ldns_rr_new_question_frm_str(&rr, c->question, NULL,
		    NULL) == LDNS_STATUS_OK);
		ldns_pkt_push_rr(p, LDNS_SECTION_QUESTION, rr);
	}
	for (i = 0; i < 4 && c->answer[i]; i++) {
		ck_assert(ldns_rr_new_frm_str(&rr, c->answer[i], 0, NULL,
		    NULL) == LDNS_STATUS_OK);
		ldns_pkt_push_rr(p, LDNS_SECTION_ANSWER, rr);
	}
	for (i = 0; i < 2 && c->authority[i]; i++) {
		ck_assert(ldns_rr_new_frm_str(&rr, c->authority[i], 0, NULL,
		    NULL) == LDNS_STATUS_OK);
		ldns_pkt_push_rr(p, LDNS_SECTION_AUTHORITY, rr);
	}
	ck_assert(ldns_pkt2wire(&wire, p, len) == LDNS_STATUS_OK);
	ldns_pkt_free(p);
	return wire;
}

START_TEST(test_dns_reply_validation_table)
{
	const struct pkt_spec *c = &pkt_cases[_i];
	struct dns_answer *a = xcalloc(1, sizeof(*a));
	char next[1024] = "";
	enum dns_reply got;
	uint8_t *wire;
	size_t len;

	wire = build_reply(c, &len);
	got = dns_reply_parse(wire, len, 4242, c->qname, c->qtype, a, next,
	    sizeof(next));
	ck_assert_msg(got == c->want, "%s: got %d, want %d", c->name, got,
	    c->want);
	if (got == DNS_REPLY_DONE) {
		ck_assert_msg(a->status == c->status, "%s: status %s",
		    c->name, dns_status_name(a->status));
		ck_assert_msg(a->n == c->n, "%s: %zu records", c->name, a->n);
		ck_assert_msg(a->ttl == c->ttl, "%s: ttl %u", c->name, a->ttl);
	}
	if (c->next)
		ck_assert_str_eq(next, c->next);
	free(wire);
	dns_answer_free(a);
}
END_TEST

START_TEST(test_dns_reply_cut_short_is_malformed)
{
	const struct pkt_spec *c = &pkt_cases[0];
	struct dns_answer *a = xcalloc(1, sizeof(*a));
	char next[1024];
	uint8_t *wire;
	size_t len, cut;

	wire = build_reply(c, &len);
	for (cut = 12; cut < len; cut++) {
		ck_assert_msg(dns_reply_parse(wire, cut, 4242, "example.com",
		    DNS_T_TXT, a, next, sizeof(next)) == DNS_REPLY_MALFORMED,
		    "cut at %zu", cut);
		while (a->n > 0) {
			a->n--;
			free(a->rrs[a->n].txt);
		}
	}
	ck_assert_int_eq(dns_reply_parse(wire, 11, 4242, "example.com",
	    DNS_T_TXT, a, next, sizeof(next)), DNS_REPLY_IGNORE);
	free(wire);
	dns_answer_free(a);
}
END_TEST

START_TEST(test_dns_reply_bad_rdata_is_malformed)
{
	/* id 4242, QR, 1 question, 1 answer: an A record with 3 bytes */
	static const uint8_t wire[] = {
		0x10, 0x92, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0,
		1, 'a', 4, 't', 'e', 's', 't', 0, 0, 1, 0, 1,
		0xc0, 12, 0, 1, 0, 1, 0, 0, 1, 0x2c, 0, 3, 192, 0, 2
	};
	struct dns_answer *a = xcalloc(1, sizeof(*a));
	char next[1024];

	ck_assert_int_eq(dns_reply_parse(wire, sizeof(wire), 4242, "a.test",
	    DNS_T_A, a, next, sizeof(next)), DNS_REPLY_MALFORMED);
	dns_answer_free(a);
}
END_TEST

START_TEST(test_dns_server_spec_table)
{
	ck_assert(dns_server_valid("127.0.0.1"));
	ck_assert(dns_server_valid("127.0.0.1:5353"));
	ck_assert(dns_server_valid("::1"));
	ck_assert(dns_server_valid("[::1]:53"));
	ck_assert(dns_server_valid("[2001:db8::1]"));
	ck_assert(!dns_server_valid("127.0.0.1:0"));
	ck_assert(!dns_server_valid("127.0.0.1:65536"));
	ck_assert(!dns_server_valid("localhost"));
	ck_assert(!dns_server_valid("[::1"));
	ck_assert(!dns_server_valid("[::1]x"));
	ck_assert(!dns_server_valid(""));
}
END_TEST

START_TEST(test_dns_ldns_rejects_bad_resolv_conf)
{
	struct dns_ldns_conf lc;
	struct dns_resolver *r;
	struct buf why = BUF_INIT;

	memset(&lc, 0, sizeof(lc));
	lc.resolv_conf = "/nonexistent/resolv.conf";
	ck_assert_int_eq(dns_ldns_open(&lc, NULL, &r, &why), -1);
	ck_assert(strstr(buf_cstr(&why), "/nonexistent/resolv.conf"));
	buf_release(&why);
}
END_TEST

START_TEST(test_dns_ldns_refused_port_fails_fast)
{
	/* a port nobody listens on: refused at once, every try fails fast */
	static const char *const servers[] = { "127.0.0.1:9" };
	struct dns_ldns_conf lc;
	struct dns_resolver *r;
	struct dns_answer *a;
	struct buf why = BUF_INIT;
	double t0;

	memset(&lc, 0, sizeof(lc));
	lc.servers = servers;
	lc.nservers = 1;
	lc.timeout_ms = 2000;
	lc.retries = 2;
	ck_assert_int_eq(dns_ldns_open(&lc, NULL, &r, &why), 0);
	t0 = ms_now();
	ck_assert_int_eq(dns_lookup(r, "example.com", DNS_T_TXT, NULL, &a),
	    DNS_TIMEOUT);
	ck_assert_msg(ms_now() - t0 < 1000, "took %.1f ms", ms_now() - t0);
	dns_answer_free(a);
	dns_resolver_free(r);
	buf_release(&why);
}
END_TEST

START_TEST(test_dns_ldns_silent_server_times_out_by_deadline)
{
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);
	char server[64];
	const char *servers[] = { server };
	struct dns_ldns_conf lc;
	struct dns_resolver *r;
	struct dns_budget b;
	struct dns_answer *a;
	struct buf why = BUF_INIT;
	double t0, took;
	int fd;

	/* bound and silent: what a dead server looks like */
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sin, &sl), 0);
	snprintf(server, sizeof(server), "127.0.0.1:%u", ntohs(sin.sin_port));
	memset(&lc, 0, sizeof(lc));
	lc.servers = servers;
	lc.nservers = 1;
	lc.timeout_ms = 200;
	lc.retries = 5;
	ck_assert_int_eq(dns_ldns_open(&lc, NULL, &r, &why), 0);
	dns_budget_init(&b, 300);
	t0 = ms_now();
	ck_assert_int_eq(dns_lookup(r, "example.com", DNS_T_TXT, &b, &a),
	    DNS_TIMEOUT);
	took = ms_now() - t0;
	ck_assert_msg(took >= 290 && took < 450, "took %.1f ms", took);
	dns_answer_free(a);
	dns_budget_release(&b);
	dns_resolver_free(r);
	buf_release(&why);
	close(fd);
}
END_TEST

static Suite *
dns_suite(void)
{
	Suite *s = suite_create("dns");
	TCase *tc;

	tc = tcase_create("names");
	tcase_add_loop_test(tc, test_dns_name_check_table, 0,
	    sizeof(name_cases) / sizeof(name_cases[0]));
	tcase_add_test(tc, test_dns_name_over_253_is_invalid);
	tcase_add_test(tc, test_dns_server_spec_table);
	suite_add_tcase(s, tc);

	tc = tcase_create("zone");
	tcase_add_loop_test(tc, test_dns_zone_answers_table, 0,
	    sizeof(zone_cases) / sizeof(zone_cases[0]));
	tcase_add_test(tc, test_dns_zone_txt_strings_joined_without_separator);
	tcase_add_test(tc, test_dns_zone_any_name_reaches_odd_labels);
	tcase_add_loop_test(tc, test_dns_zone_errors_name_file_and_line, 0,
	    sizeof(bad_zones) / sizeof(bad_zones[0]));
	tcase_add_test(tc, test_dns_zone_missing_file_is_an_error);
	suite_add_tcase(s, tc);

	tc = tcase_create("cache");
	tcase_set_timeout(tc, 30);
	tcase_add_loop_test(tc, test_dns_cache_keeps_statuses_as_configured, 0,
	    sizeof(cache_cases) / sizeof(cache_cases[0]));
	tcase_add_test(tc, test_dns_cache_honours_ttl);
	tcase_add_test(tc, test_dns_trace_sees_every_lookup);
	tcase_add_test(tc, test_dns_cache_is_bounded_lru);
	tcase_add_test(tc, test_dns_cache_size_zero_caches_nothing);
	tcase_add_test(tc, test_dns_sharded_cache_bounded_and_counted);
	suite_add_tcase(s, tc);

	tc = tcase_create("concurrency");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_dns_concurrent_lookups_share_one_query);
	tcase_add_test(tc, test_dns_waiter_deadline_times_out_alone);
	tcase_add_test(tc, test_dns_deadline_cut_query_is_retried_by_waiters);
	tcase_add_test(tc, test_dns_budget_exhausted_sends_nothing);
	tcase_add_test(tc, test_dns_budget_counts_time_and_failures);
	tcase_add_test(tc, test_dns_prefetch_overlaps_and_is_shared);
	tcase_add_test(tc, test_dns_prefetch_without_threads_does_nothing);
	tcase_add_test(tc, test_dns_free_with_prefetches_in_flight);
	tcase_add_test(tc, test_dns_sharded_cache_survives_concurrent_churn);
	tcase_add_test(tc, test_dns_free_does_not_wait_for_prefetches);
	tcase_add_test(tc, test_dns_cache_survives_concurrent_churn);
	suite_add_tcase(s, tc);

	tc = tcase_create("reply");
	tcase_add_loop_test(tc, test_dns_reply_validation_table, 0,
	    sizeof(pkt_cases) / sizeof(pkt_cases[0]));
	tcase_add_test(tc, test_dns_reply_cut_short_is_malformed);
	tcase_add_test(tc, test_dns_reply_bad_rdata_is_malformed);
	tcase_add_test(tc, test_dns_ldns_rejects_bad_resolv_conf);
	tcase_add_test(tc, test_dns_ldns_refused_port_fails_fast);
	tcase_add_test(tc, test_dns_ldns_silent_server_times_out_by_deadline);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(dns_suite());
}
