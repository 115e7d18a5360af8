/*
 * check_dns_cache.c - the resolver cache's hit path without locks:
 * CLOCK eviction, per-thread statistics summed right, hits on many
 * threads while entries expire, are evicted and flushed
 */
#include "config.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "dns.h"
#include "dns_int.h"
#include "helpers.h"

/*
 * mem backend: every name has one TXT record "answer for NAME"; a name
 * beginning with 's' ("short") lives 1 s, others an hour.  Queries are
 * counted.
 */
static atomic_uint mem_queries;

static void
mem_query(void *impl, const char *name, uint16_t type, double timeout_ms,
    struct dns_answer *out)
{
	struct dns_rr *rr;
	struct buf b = BUF_INIT;

	(void)impl;
	(void)timeout_ms;
	atomic_fetch_add(&mem_queries, 1);
	out->status = DNS_OK;
	out->ttl = name[0] == 's' ? 1 : 3600;
	rr = dns_answer_add(out, type);
	rr->ttl = out->ttl;
	buf_printf(&b, "answer for %s", name);
	rr->txt = xstrdup(buf_cstr(&b));
	rr->txt_len = strlen(rr->txt);
	rr->txt_nstrings = 1;
	buf_release(&b);
}

static const struct dns_backend mem_backend = { "memory", mem_query, NULL };

static struct dns_resolver *
mem_resolver(size_t cache_size, unsigned prefetch_threads)
{
	struct dns_opts o;

	dns_opts_default(&o);
	o.cache_size = cache_size;
	o.prefetch_threads = prefetch_threads;
	atomic_store(&mem_queries, 0);
	return dns_resolver_new_opts(&mem_backend, NULL, &o);
}

/* lookup - name's TXT; true when it came from the cache */
static bool
lookup(struct dns_resolver *r, const char *name)
{
	struct dns_answer *a;
	bool cached;

	ck_assert_int_eq(dns_lookup(r, name, DNS_T_TXT, NULL, &a), DNS_OK);
	cached = a->from_cache;
	dns_answer_free(a);
	return cached;
}

/* misses - look up PREFIXi.test for i in [from, to): none cached yet */
static void
misses(struct dns_resolver *r, const char *prefix, int from, int to)
{
	char name[32];
	int i;

	for (i = from; i < to; i++) {
		snprintf(name, sizeof(name), "%s%d.test", prefix, i);
		ck_assert_msg(!lookup(r, name), "%s cached", name);
	}
}

/* ---- CLOCK ---- */

/*
 * The oldest entry was hit after the others came in: the hand passes
 * over it (clearing its bit) and takes the next oldest, never hit.
 */
START_TEST(test_clock_keeps_a_hit_entry_over_an_unused_one)
{
	static const char *const n[] = {
		"n0.test", "n1.test", "n2.test", "n3.test", "n4.test",
		"n5.test"
	};
	struct dns_resolver *r = mem_resolver(4, 0);
	struct dns_stats st;
	size_t i;

	for (i = 0; i < 4; i++)
		ck_assert(!lookup(r, n[i]));
	ck_assert(lookup(r, n[0]));		/* n0: oldest, but hit */
	ck_assert(!lookup(r, n[4]));		/* pushes n1 out */
	ck_assert(!lookup(r, n[5]));		/* pushes n2 out */
	dns_resolver_stats(r, &st);
	ck_assert_uint_eq(st.entries, 4);
	ck_assert_uint_eq(st.evictions, 2);
	ck_assert(lookup(r, n[0]));
	ck_assert(lookup(r, n[3]));
	ck_assert(lookup(r, n[4]));
	ck_assert(lookup(r, n[5]));
	ck_assert(!lookup(r, n[1]));
	dns_resolver_stats(r, &st);
	ck_assert_uint_eq(st.queries, 7);
	ck_assert_uint_eq(st.hits, 5);
	dns_resolver_free(r);
}
END_TEST

/*
 * The second chance is one sweep long: an entry not hit again is
 * pushed out when the hand comes round, and a full cache of entries
 * all hit still takes a new one (the hand clears every bit in a turn).
 */
START_TEST(test_clock_second_chance_is_one_sweep)
{
	struct dns_resolver *r = mem_resolver(3, 0);
	struct dns_stats st;
	char name[32];
	int i;

	for (i = 0; i < 3; i++) {
		snprintf(name, sizeof(name), "n%d.test", i);
		ck_assert(!lookup(r, name));
		ck_assert(lookup(r, name));	/* every bit set */
	}
	misses(r, "n", 3, 6);
	dns_resolver_stats(r, &st);
	ck_assert_uint_eq(st.entries, 3);
	ck_assert_uint_eq(st.evictions, 3);
	ck_assert(lookup(r, "n3.test"));	/* the new one was taken */
	ck_assert(!lookup(r, "n0.test"));	/* no second hit: gone */
	dns_resolver_free(r);
}
END_TEST

/* ---- statistics from many threads ---- */

#define WAVE_THREADS	80	/* more than the resolver's 64 stripes */
#define WAVE_LOOKUPS	500

struct wave {
	struct dns_resolver *r;
	pthread_barrier_t *start;
	unsigned seed;
	unsigned long bad;
};

static void *
wave_thread(void *arg)
{
	struct wave *w = arg;
	char name[32];
	int i;

	pthread_barrier_wait(w->start);		/* all alive at once */
	for (i = 0; i < WAVE_LOOKUPS; i++) {
		snprintf(name, sizeof(name), "w%u.test",
		    (unsigned)rand_r(&w->seed) % 64);
		if (!lookup(w->r, name))
			w->bad++;
	}
	return NULL;
}

/* run_wave - WAVE_THREADS threads, alive together, then gone */
static void
run_wave(struct dns_resolver *r, unsigned seed0)
{
	static struct wave w[WAVE_THREADS];
	static pthread_t t[WAVE_THREADS];
	pthread_barrier_t start;
	int i;

	pthread_barrier_init(&start, NULL, WAVE_THREADS);
	for (i = 0; i < WAVE_THREADS; i++) {
		w[i].r = r;
		w[i].start = &start;
		w[i].seed = seed0 + (unsigned)i;
		w[i].bad = 0;
		ck_assert_int_eq(pthread_create(&t[i], NULL, wave_thread,
		    &w[i]), 0);
	}
	for (i = 0; i < WAVE_THREADS; i++) {
		pthread_join(t[i], NULL);
		ck_assert_uint_eq(w[i].bad, 0);
	}
	pthread_barrier_destroy(&start);
}

/*
 * Lookups and hits are counted per thread and summed when read: not
 * one is lost, whether threads share a counter (more threads than
 * stripes) or come and go (a second wave takes the first's slots).
 */
START_TEST(test_stats_summed_over_threads_that_come_and_go)
{
	struct dns_resolver *r = mem_resolver(2048, 0);
	struct dns_stats st;

	misses(r, "w", 0, 64);
	run_wave(r, 1);
	dns_resolver_stats(r, &st);
	ck_assert_uint_eq(st.lookups, 64 + WAVE_THREADS * WAVE_LOOKUPS);
	ck_assert_uint_eq(st.hits, WAVE_THREADS * WAVE_LOOKUPS);
	run_wave(r, 1000);
	dns_resolver_stats(r, &st);
	ck_assert_uint_eq(st.lookups, 64 + 2 * WAVE_THREADS * WAVE_LOOKUPS);
	ck_assert_uint_eq(st.hits, 2 * WAVE_THREADS * WAVE_LOOKUPS);
	ck_assert_uint_eq(st.queries, 64);
	ck_assert_uint_eq(st.entries, 64);
	dns_resolver_free(r);
}
END_TEST

static void *
one_lookup_thread(void *arg)
{
	ck_assert(lookup(arg, "w1.test"));
	return NULL;
}

/*
 * Threads that come and go one after another (as libmilter's do) give
 * their reader slot back when they end: 200 of them make one slot at
 * the most, not 200.
 */
START_TEST(test_reader_slots_reused_by_threads_that_come_and_go)
{
	struct dns_resolver *r = mem_resolver(2048, 0);
	pthread_t t;
	unsigned before;
	int i;

	misses(r, "w", 0, 2);
	before = dns_reader_slots();
	for (i = 0; i < 200; i++) {
		ck_assert_int_eq(pthread_create(&t, NULL, one_lookup_thread,
		    r), 0);
		pthread_join(t, NULL);
	}
	ck_assert_uint_le(dns_reader_slots(), before + 1);
	dns_resolver_free(r);
}
END_TEST

/* ---- hits while entries expire, are evicted and flushed ---- */

#define CHURN_THREADS	8

struct churner {
	struct dns_resolver *r;
	atomic_bool *stop;
	unsigned seed;
	unsigned nnames;
	unsigned long lookups, bad;
};

/* churn_thread - look names up until told to stop; check every answer */
static void *
churn_thread(void *arg)
{
	struct churner *c = arg;
	struct dns_answer *a;
	char name[32], want[64];
	unsigned k;

	do {	/* at least one round, however soon the stop comes */
		k = (unsigned)rand_r(&c->seed) % c->nnames;
		/* a quarter live one second: they expire while hit */
		snprintf(name, sizeof(name), "%c%u.test", k % 4 ? 'l' : 's', k);
		snprintf(want, sizeof(want), "answer for %s", name);
		if (rand_r(&c->seed) % 16 == 0)
			dns_prefetch(c->r, name, DNS_T_TXT);
		dns_lookup(c->r, name, DNS_T_TXT, NULL, &a);
		if (a->status != DNS_OK || a->n != 1 ||
		    a->rrs[0].txt_len != strlen(want) ||
		    strcmp(a->rrs[0].txt, want) != 0)
			c->bad++;
		dns_answer_free(a);
		c->lookups++;
	} while (!atomic_load(c->stop));
	return NULL;
}

/* flush_thread - empty the cache again and again while others read */
static void *
flush_thread(void *arg)
{
	struct churner *c = arg;

	while (!atomic_load(c->stop)) {
		dns_resolver_flush(c->r);
		nanosleep(&(struct timespec){ 0, 2000000 }, NULL);
	}
	return NULL;
}

/*
 * run_churners - nreaders churn_thread()s over nnames names (and a
 * flush_thread() if flush) on r for a little over two seconds, so that
 * every short-lived entry expires at least once while being hit.  Every
 * answer must be the right one for its name: a reader copying from an
 * entry freed under it would see another's, or ASan would stop it.
 * Returns the lookups made.
 */
static unsigned long
run_churners(struct dns_resolver *r, int nreaders, unsigned nnames,
    bool flush)
{
	struct churner c[CHURN_THREADS + 1];
	pthread_t t[CHURN_THREADS + 1];
	atomic_bool stop = false;
	unsigned long total = 0;
	int i, n = nreaders + (flush ? 1 : 0);

	ck_assert_int_le(n, CHURN_THREADS + 1);
	for (i = 0; i < n; i++) {
		c[i].r = r;
		c[i].stop = &stop;
		c[i].seed = (unsigned)i * 7919u + 1;
		c[i].nnames = nnames;
		c[i].lookups = c[i].bad = 0;
		ck_assert_int_eq(pthread_create(&t[i], NULL,
		    i < nreaders ? churn_thread : flush_thread, &c[i]), 0);
	}
	nanosleep(&(struct timespec){ 2, 200000000 }, NULL);
	atomic_store(&stop, true);
	for (i = 0; i < n; i++) {
		pthread_join(t[i], NULL);
		ck_assert_uint_eq(c[i].bad, 0);
		total += c[i].lookups;
	}
	return total;
}

/*
 * churn_hits - readers and a flusher on a cache far smaller than the
 * names: entries expire, are evicted and flushed while others copy them
 * out; the statistics must add up.
 */
static void
churn_hits(size_t cache_size, unsigned nnames)
{
	struct dns_resolver *r = mem_resolver(cache_size, 2);
	struct dns_stats st;
	unsigned long total;

	total = run_churners(r, CHURN_THREADS, nnames, true);
	dns_resolver_stats(r, &st);
	ck_assert_uint_eq(st.lookups, total);
	ck_assert_uint_le(st.hits, st.lookups);
	ck_assert_uint_gt(st.hits, 0);
	ck_assert_uint_gt(st.evictions, 0);
	ck_assert_uint_le(st.entries, cache_size);
	dns_resolver_free(r);
}

START_TEST(test_hits_survive_expiry_eviction_flush_one_shard)
{
	churn_hits(32, 200);
}
END_TEST

START_TEST(test_hits_survive_expiry_eviction_flush_sharded)
{
	churn_hits(1024, 3000);
}
END_TEST

/*
 * Entries that expire while threads hit them are asked again: with a
 * cache big enough for every name, more queries than names can only
 * come from expiry (this test flushes nothing).
 */
START_TEST(test_expired_entries_are_asked_again_under_hits)
{
	struct dns_resolver *r = mem_resolver(4096, 0);
	struct dns_stats st;

	run_churners(r, 4, 40, false);
	dns_resolver_stats(r, &st);
	ck_assert_uint_eq(st.evictions, 0);
	ck_assert_uint_le(st.entries, 40);
	/* 10 short-lived names, each expired at least twice in 2.2 s */
	ck_assert_uint_ge(st.queries, 40 + 10);
	ck_assert_uint_eq(st.queries, atomic_load(&mem_queries));
	dns_resolver_free(r);
}
END_TEST

static Suite *
dns_cache_suite(void)
{
	Suite *s = suite_create("dns_cache");
	TCase *tc;

	tc = tcase_create("clock");
	tcase_add_test(tc, test_clock_keeps_a_hit_entry_over_an_unused_one);
	tcase_add_test(tc, test_clock_second_chance_is_one_sweep);
	suite_add_tcase(s, tc);

	tc = tcase_create("threads");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_stats_summed_over_threads_that_come_and_go);
	tcase_add_test(tc, test_reader_slots_reused_by_threads_that_come_and_go);
	tcase_add_test(tc, test_hits_survive_expiry_eviction_flush_one_shard);
	tcase_add_test(tc, test_hits_survive_expiry_eviction_flush_sharded);
	tcase_add_test(tc, test_expired_entries_are_asked_again_under_hits);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(dns_cache_suite());
}
