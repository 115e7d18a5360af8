/*
 * dns_cache_bench.c - warm DNS cache lookups on 1, 2, 4 and 8 threads
 *
 * DESCRIPTION
 *	Measures what the resolver's cache (filter/dns.c) costs when every
 *	answer is in it, as in a daemon whose checks ask for the same SPF,
 *	DKIM key, DMARC and DNSBL names message after message: NAMES names
 *	(TXT records from an in-memory backend that answers at once) are
 *	looked up once to fill the cache, then each of T threads runs
 *	dns_lookup() over them for SECONDS seconds.  Printed per thread
 *	count: lookups per second of wall time (all threads together) and
 *	CPU microseconds per lookup (the process's CPU time: waiting on a
 *	contended lock shows up here as spinning and futex calls).
 *
 *	Two caches are measured in the same run: one of 10,000 entries
 *	(the default dns_cache_size: split into 16 shards) and one of 512
 *	entries (a single shard).  Hits take no lock in either (see the top
 *	of filter/dns.c); before that, every hit took its shard's lock and
 *	wrote the shard's counters and LRU list.  On a machine with fewer
 *	cores than threads, wall-time throughput cannot grow past the core
 *	count; the CPU per lookup then shows what the threads cost each
 *	other (lock waits, cache lines moving between cores).
 *
 *	usage: dns_cache_bench [seconds per measurement, default 1]
 *	Built on request (make contrib/bench/dns_cache_bench); never part
 *	of make check.
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

#define NAMES	256

static char names[NAMES][64];
static atomic_bool stop;

/* backend: every name has one TXT record, answered at once */
static void
mem_query(void *impl, const char *name, uint16_t type, double timeout_ms,
    struct dns_answer *out)
{
	struct dns_rr *rr;

	(void)impl;
	(void)timeout_ms;
	out->status = DNS_OK;
	out->ttl = 3600;
	rr = dns_answer_add(out, type);
	rr->name = xstrdup(name);
	rr->ttl = 3600;
	rr->txt = xstrdup("v=spf1 ip4:198.51.100.0/24 -all");
	rr->txt_len = strlen(rr->txt);
}

static const struct dns_backend mem_backend = { "memory", mem_query, NULL };

struct worker {
	pthread_t tid;
	struct dns_resolver *r;
	unsigned seed;
	unsigned long n;
};

static void *
run(void *arg)
{
	struct worker *w = arg;
	struct dns_answer *a;
	unsigned long n = 0;
	unsigned i = w->seed;

	/* counted in a local: the workers' structs share cache lines */
	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		i = i * 1103515245u + 12345u;
		if (dns_lookup(w->r, names[(i >> 8) % NAMES], DNS_T_TXT, NULL,
		    &a) != DNS_OK || !a->from_cache) {
			fprintf(stderr, "dns_cache_bench: not a cache hit\n");
			exit(1);
		}
		dns_answer_free(a);
		n++;
	}
	w->n = n;
	return NULL;
}

static double
secs(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
measure(struct dns_resolver *r, unsigned nthreads, double seconds,
    double *rate, double *cpu_us)
{
	struct worker w[8];
	struct timespec pause;
	double t0, c0, t1, c1;
	unsigned long total = 0;
	unsigned i;

	atomic_store(&stop, false);
	t0 = secs(CLOCK_MONOTONIC);
	c0 = secs(CLOCK_PROCESS_CPUTIME_ID);
	for (i = 0; i < nthreads; i++) {
		w[i].r = r;
		w[i].seed = i + 1;
		w[i].n = 0;
		if (pthread_create(&w[i].tid, NULL, run, &w[i]) != 0) {
			fprintf(stderr, "dns_cache_bench: pthread_create\n");
			exit(1);
		}
	}
	pause.tv_sec = (time_t)seconds;
	pause.tv_nsec = (long)((seconds - (double)pause.tv_sec) * 1e9);
	nanosleep(&pause, NULL);
	atomic_store(&stop, true);
	for (i = 0; i < nthreads; i++) {
		pthread_join(w[i].tid, NULL);
		total += w[i].n;
	}
	t1 = secs(CLOCK_MONOTONIC);
	c1 = secs(CLOCK_PROCESS_CPUTIME_ID);
	*rate = (double)total / (t1 - t0);
	*cpu_us = (c1 - c0) * 1e6 / (double)total;
}

int
main(int argc, char **argv)
{
	static const unsigned threads[] = { 1, 2, 4, 8 };
	static const size_t sizes[] = { 10000, 512 };
	struct dns_resolver *r;
	struct dns_answer *a;
	struct dns_opts o;
	double seconds = argc > 1 ? atof(argv[1]) : 1.0, rate, cpu;
	size_t s, i;

	if (seconds <= 0) {
		fprintf(stderr, "usage: dns_cache_bench [seconds]\n");
		return 2;
	}
	for (i = 0; i < NAMES; i++)
		snprintf(names[i], sizeof(names[i]), "name%zu.bench.example", i);
	printf("| cache | threads | lookups/s | CPU us/lookup |\n");
	printf("| --- | ---: | ---: | ---: |\n");
	for (s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		dns_opts_default(&o);
		o.cache_size = sizes[s];
		o.prefetch_threads = 0;
		r = dns_resolver_new_opts(&mem_backend, NULL, &o);
		for (i = 0; i < NAMES; i++) {
			dns_lookup(r, names[i], DNS_T_TXT, NULL, &a);
			dns_answer_free(a);
		}
		for (i = 0; i < sizeof(threads) / sizeof(threads[0]); i++) {
			measure(r, threads[i], seconds, &rate, &cpu);
			printf("| %zu entries (%s) | %u | %.0f | %.3f |\n",
			    sizes[s], sizes[s] >= 1024 ? "sharded" : "one lock",
			    threads[i], rate, cpu);
			fflush(stdout);
		}
		dns_resolver_free(r);
	}
	return 0;
}
