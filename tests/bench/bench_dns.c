/*
 * bench_dns.c - SPF and per-message DNS latency benchmark (by hand)
 *
 * DESCRIPTION
 *	Run through tests/bench/run_dns_bench.py, which starts nsd (and a
 *	delaying proxy in front of it) and passes the server address.
 *
 *	bench_dns spf SERVER N THREADS warm|cold
 *	    N SPF evaluations (spf_check, MAIL FROM identity) spread over
 *	    THREADS threads; cold: no cache, every query goes to SERVER;
 *	    warm: cache on and filled first.  Prints evaluations/s and
 *	    the mean latency.
 *
 *	bench_dns message SERVER N seq|overlap PREFETCH_THREADS
 *	    N messages, each with the DNS work of a full scan: SPF for a
 *	    fresh sender domain (TXT, then an include that is cached after
 *	    the first message), a DKIM key, the _dmarc record and two DNSBL
 *	    queries for the client.  seq runs them one after another;
 *	    overlap first dns_prefetch()es the five first queries (what
 *	    the pipeline does at scan_begin) and then runs the same code.
 *	    Prints mean / median / p95 per-message latency.
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "dns.h"
#include "spf.h"
#include "str.h"

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static struct dns_resolver *
open_resolver(const char *server, size_t cache, unsigned prefetch)
{
	const char *servers[] = { server };
	struct dns_ldns_conf lc;
	struct dns_opts o;
	struct dns_resolver *r;
	struct buf why = BUF_INIT;

	memset(&lc, 0, sizeof(lc));
	lc.servers = servers;
	lc.nservers = 1;
	lc.timeout_ms = 2000;
	lc.retries = 1;
	lc.edns_size = 1232;
	dns_opts_default(&o);
	o.cache_size = cache;
	o.prefetch_threads = prefetch;
	o.query_timeout_ms = 0;
	if (dns_ldns_open(&lc, &o, &r, &why) < 0) {
		fprintf(stderr, "%s\n", buf_cstr(&why));
		exit(1);
	}
	buf_release(&why);
	return r;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* ---- SPF evaluations per second ---- */

struct spf_job {
	struct dns_resolver *r;
	unsigned first, n;
	unsigned bad;
};

static void
one_spf(struct dns_resolver *r, unsigned i, unsigned *bad)
{
	struct spf_request req;
	struct spf_outcome o;
	char sender[128];

	memset(&req, 0, sizeof(req));
	netaddr_parse("192.0.2.77", &req.ip);
	/* 200 sender domains: a warm cache holds them all */
	snprintf(sender, sizeof(sender), "u%u@d%u.senders.bench.test", i,
	    i % 200);
	req.sender = sender;
	req.helo = "client.bench.test";
	if (spf_check(r, NULL, &req, SPF_ID_MAILFROM, NULL, &o, NULL) !=
	    SPF_PASS)
		(*bad)++;
	spf_outcome_release(&o);
}

static void *
spf_thread(void *arg)
{
	struct spf_job *j = arg;
	unsigned i;

	for (i = 0; i < j->n; i++)
		one_spf(j->r, j->first + i, &j->bad);
	return NULL;
}

static int
bench_spf(const char *server, unsigned n, unsigned threads, bool warm)
{
	struct dns_resolver *r = open_resolver(server, warm ? 100000 : 0, 0);
	struct spf_job *jobs = calloc(threads, sizeof(*jobs));
	pthread_t *tids = calloc(threads, sizeof(*tids));
	unsigned i, bad = 0;
	double t0, ms;

	if (warm)
		for (i = 0; i < 200; i++)
			one_spf(r, i, &bad);
	t0 = now_ms();
	for (i = 0; i < threads; i++) {
		jobs[i].r = r;
		jobs[i].first = i * (n / threads);
		jobs[i].n = n / threads;
		pthread_create(&tids[i], NULL, spf_thread, &jobs[i]);
	}
	for (i = 0; i < threads; i++) {
		pthread_join(tids[i], NULL);
		bad += jobs[i].bad;
	}
	ms = now_ms() - t0;
	printf("spf %s threads=%u: %u evaluations in %.0f ms = %.0f/s, "
	    "mean %.3f ms per evaluation per thread, %u not pass\n",
	    warm ? "warm" : "cold", threads, n, ms, n / (ms / 1000),
	    ms * threads / n, bad);
	dns_resolver_free(r);
	free(jobs);
	free(tids);
	return bad ? 1 : 0;
}

/* ---- per-message latency ---- */

struct msgnames {
	char	 spf_domain[64];
	char	 sender[80];
	char	 dkim[128];
	char	 dmarc[80];
	char	 bl1[64], bl2[64];
};

static void
names_for(unsigned i, struct msgnames *m)
{
	unsigned a = (i >> 8) & 255, b = i & 255;

	snprintf(m->spf_domain, sizeof(m->spf_domain), "m%u.senders.bench.test",
	    i);
	snprintf(m->sender, sizeof(m->sender), "u@%s", m->spf_domain);
	snprintf(m->dkim, sizeof(m->dkim), "s%u._domainkey.%s", i,
	    m->spf_domain);
	snprintf(m->dmarc, sizeof(m->dmarc), "_dmarc.%s", m->spf_domain);
	snprintf(m->bl1, sizeof(m->bl1), "%u.%u.2.0.zen.bench.test", b, a);
	snprintf(m->bl2, sizeof(m->bl2), "%u.%u.2.0.bl.bench.test", b, a);
}

/* one_message - the DNS work of one scan; returns its latency in ms */
static double
one_message(struct dns_resolver *r, unsigned i, bool overlap, unsigned *bad)
{
	struct msgnames m;
	struct spf_request req;
	struct spf_outcome o;
	struct dns_answer *a;
	struct dns_budget b;
	const char *txt[2], *addr[2];
	double t0 = now_ms();
	int k;

	names_for(i, &m);
	txt[0] = m.dkim;
	txt[1] = m.dmarc;
	addr[0] = m.bl1;
	addr[1] = m.bl2;
	dns_budget_init(&b, 10000);
	if (overlap) {		/* what scan_begin does */
		dns_prefetch(r, m.spf_domain, DNS_T_TXT);
		for (k = 0; k < 2; k++) {
			dns_prefetch(r, txt[k], DNS_T_TXT);
			dns_prefetch(r, addr[k], DNS_T_A);
		}
	}
	memset(&req, 0, sizeof(req));
	netaddr_parse("192.0.2.77", &req.ip);
	req.sender = m.sender;
	if (spf_check(r, &b, &req, SPF_ID_MAILFROM, NULL, &o, NULL) != SPF_PASS)
		(*bad)++;
	spf_outcome_release(&o);
	for (k = 0; k < 2; k++) {
		if (dns_lookup(r, txt[k], DNS_T_TXT, &b, &a) != DNS_OK)
			(*bad)++;
		dns_answer_free(a);
		if (dns_status_is_temp(dns_lookup(r, addr[k], DNS_T_A, &b, &a)))
			(*bad)++;
		dns_answer_free(a);
	}
	dns_budget_release(&b);
	return now_ms() - t0;
}

static int
bench_message(const char *server, unsigned n, bool overlap, unsigned threads)
{
	struct dns_resolver *r = open_resolver(server, 100000, threads);
	double *lat = calloc(n, sizeof(double)), sum = 0;
	unsigned i, bad = 0;

	(void)one_message(r, 1000000, false, &bad);	/* warm the include */
	for (i = 0; i < n; i++) {
		lat[i] = one_message(r, i, overlap, &bad);
		sum += lat[i];
	}
	qsort(lat, n, sizeof(double), cmp_double);
	printf("message %s prefetch_threads=%u: %u messages, mean %.1f ms, "
	    "median %.1f ms, p95 %.1f ms, %u failures\n", overlap ? "overlap" :
	    "seq", threads, n, sum / n, lat[n / 2], lat[n * 95 / 100], bad);
	dns_resolver_free(r);
	free(lat);
	return bad ? 1 : 0;
}

/* num - a count argument, or exit */
static unsigned
num(const char *s, uint64_t max)
{
	uint64_t v;

	if (parse_uint(s, 1, max, &v) < 0) {
		fprintf(stderr, "bench_dns: bad number %s\n", s);
		exit(2);
	}
	return (unsigned)v;
}

int
main(int argc, char **argv)
{
	if (argc == 6 && strcmp(argv[1], "spf") == 0)
		return bench_spf(argv[2], num(argv[3], 10000000),
		    num(argv[4], 256), strcmp(argv[5], "warm") == 0);
	if (argc == 6 && strcmp(argv[1], "message") == 0)
		return bench_message(argv[2], num(argv[3], 1000000),
		    strcmp(argv[4], "overlap") == 0, num(argv[5], 64));
	fprintf(stderr, "usage: bench_dns spf SERVER N THREADS warm|cold\n"
	    "       bench_dns message SERVER N seq|overlap PREFETCH_THREADS\n");
	return 2;
}
