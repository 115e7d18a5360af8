/*
 * daemon_metrics.c - the daemon's side of metrics: registry, endpoint,
 * scrape-time values, the periodic stats line
 *
 * DESCRIPTION
 *	Part of the program, not the library: it reads milter.c's gauges.
 *	main.c calls daemon_metrics_start() once the engine is current and
 *	privileges are dropped (so the endpoint is bound as the service
 *	user: a port from 1024, or a unix socket in a directory of that
 *	user), daemon_metrics_reload() after each SIGHUP, and
 *	daemon_stats_tick() from its signal thread at least once a second:
 *	besides the stats line, it keeps the snapshots that the counts of
 *	the last minute and hour are taken from at scrape time.
 *
 *	DNS counters live in each engine's resolver.  A reload makes a new
 *	resolver, so the retiring one's counters are added to a base kept
 *	here, and the exposed counters never go backwards (lookups that
 *	messages still in flight make on the old resolver after the swap
 *	are not counted).
 */
#include "config.h"

#define PCRE2_CODE_UNIT_WIDTH 8

#include <hiredis/hiredis.h>
#include <ldns/ldns.h>
#include <libmilter/mfapi.h>
#include <lmdb.h>
#include <openssl/crypto.h>
#include <pcre2.h>

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "bayes_store.h"
#include "buf.h"
#include "clock.h"
#include "daemon_metrics.h"
#include "dns.h"
#include "engine.h"
#include "log.h"
#include "metrics.h"
#include "metrics_http.h"
#include "milter.h"

static struct metrics *registry;
static struct metrics_server *server;
static pthread_mutex_t retired_lock = PTHREAD_MUTEX_INITIALIZER;
static struct dns_stats retired;
static struct metrics_snap last_snap;
static double last_snap_at;
/* snapshots for the last minute (one a second) and hour (one a minute):
 * written by the signal thread, read by the endpoint's */
static pthread_mutex_t ring_lock = PTHREAD_MUTEX_INITIALIZER;
static struct metrics_ring minute_ring = { .step = 1 };
static struct metrics_ring hour_ring = { .step = 60 };

/* thread_count - Threads: of /proc/self/status, or -1 */
static long
thread_count(void)
{
	char line[256];
	long n = -1;
	FILE *f = fopen("/proc/self/status", "re");

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Threads: %ld", &n) == 1)
			break;
	fclose(f);
	return n;
}

#define STR_(x)	#x
#define STR(x)	STR_(x)

/* lib_versions - the libraries the daemon runs with, for build_info */
static void
lib_versions(struct metrics_live *l)
{
	static char pcre[64], milter[32], lmdb[32];
	unsigned int maj, min, pl;
	int lmaj, lmin, lpat;

	if (pcre[0] == '\0' &&
	    pcre2_config(PCRE2_CONFIG_VERSION, pcre) < 0)
		snprintf(pcre, sizeof(pcre), "unknown");
	if (milter[0] == '\0' && smfi_version(&maj, &min, &pl) == MI_SUCCESS)
		snprintf(milter, sizeof(milter), "%u.%u.%u", maj, min, pl);
	if (lmdb[0] == '\0') {
		(void)mdb_version(&lmaj, &lmin, &lpat);
		snprintf(lmdb, sizeof(lmdb), "%d.%d.%d", lmaj, lmin, lpat);
	}
	l->libs[0].name = "openssl";
	l->libs[0].version = OpenSSL_version(OPENSSL_VERSION);
	l->libs[1].name = "ldns";
	l->libs[1].version = ldns_version();
	l->libs[2].name = "pcre2";
	l->libs[2].version = pcre;
	l->libs[3].name = "libmilter";
	l->libs[3].version = milter;
	l->libs[4].name = "lmdb";
	l->libs[4].version = lmdb;
	/* hiredis has no run-time version call: the headers built with */
	l->libs[5].name = "hiredis";
	l->libs[5].version = STR(HIREDIS_MAJOR) "." STR(HIREDIS_MINOR) "."
	    STR(HIREDIS_PATCH);
	l->nlibs = 6;
}

/* lmdb_usage - the engine's Bayes map, if it is an LMDB store now open */
static void
lmdb_usage(struct engine *e, struct metrics_live *l)
{
	pthread_mutex_lock(&e->bayes_lock);
	l->have_lmdb = e->bayes && bayes_store_usage(e->bayes,
	    &l->lmdb_map_bytes, &l->lmdb_used_bytes) == 0;
	pthread_mutex_unlock(&e->bayes_lock);
}

/* recent - messages by action since the ring's snapshot of secs ago */
static void
recent(const struct metrics_ring *r, const struct metrics_snap *cur,
    double now, double secs, uint64_t *out)
{
	struct metrics_snap old;
	double age;
	size_t a;

	if (!metrics_ring_since(r, now, secs, &old, &age))
		old = *cur;
	for (a = 0; a < METRICS_NACTIONS; a++)
		out[a] = cur->actions[a] - old.actions[a];
}

/* collect - metrics_collect_fn: gauges and DNS counters at scrape time */
static void
collect(struct metrics_live *l, void *arg)
{
	struct engine *e = engine_current();
	struct dns_stats st;

	(void)arg;
	memset(&st, 0, sizeof(st));
	if (e && e->dns)
		dns_resolver_stats(e->dns, &st);
	if (e)
		lmdb_usage(e, l);
	engine_unref(e);
	pthread_mutex_lock(&retired_lock);
	l->dns_lookups = st.lookups + retired.lookups;
	l->dns_hits = st.hits + retired.hits;
	l->dns_queries = st.queries + retired.queries;
	l->dns_timeouts = st.timeouts + retired.timeouts;
	l->dns_servfails = st.servfails + retired.servfails;
	pthread_mutex_unlock(&retired_lock);
	l->have_dns = true;
	{
		struct metrics_snap cur;
		double now = clock_mono_s();

		metrics_snap(registry, &cur);
		pthread_mutex_lock(&ring_lock);
		recent(&minute_ring, &cur, now, 60, l->last_minute);
		recent(&hour_ring, &cur, now, 3600, l->last_hour);
		pthread_mutex_unlock(&ring_lock);
		l->have_recent = true;
	}
	l->inflight = milter_busy();
	l->connections = milter_active();
	l->threads = thread_count();
	l->version = PACKAGE_VERSION;
	lib_versions(l);
}

int
daemon_metrics_start(const struct conf *c, struct buf *why)
{
	struct engine *e = engine_current();

	registry = metrics_new();
	metrics_set_global(registry);
	metrics_engine(registry, e);
	engine_unref(e);
	metrics_reload(registry, true, clock_wall_s());
	metrics_snap(registry, &last_snap);
	last_snap_at = clock_mono_s();
	metrics_ring_push(&minute_ring, &last_snap, last_snap_at);
	metrics_ring_push(&hour_ring, &last_snap, last_snap_at);
	if (c->metrics_listen[0] == '\0')
		return 0;
	if ((server = metrics_server_start(c->metrics_listen, registry,
	    collect, NULL, why)) == NULL)
		return -1;
	log_info("metrics endpoint on %s", c->metrics_listen);
	return 0;
}

void
daemon_metrics_stop(void)
{
	metrics_server_stop(&server);
}

void
daemon_metrics_reload(const struct engine *old, const struct engine *cur)
{
	struct dns_stats st;

	if (cur == NULL) {
		metrics_reload(registry, false, clock_wall_s());
		return;
	}
	if (old && old->dns && old->dns != cur->dns) {
		dns_resolver_stats(old->dns, &st);
		pthread_mutex_lock(&retired_lock);
		retired.lookups += st.lookups;
		retired.hits += st.hits;
		retired.queries += st.queries;
		retired.timeouts += st.timeouts;
		retired.servfails += st.servfails;
		pthread_mutex_unlock(&retired_lock);
	}
	if (old && strcmp(old->conf->metrics_listen,
	    cur->conf->metrics_listen) != 0)
		log_warn("metrics_listen changed: the endpoint moves at the "
		    "next restart (it stays on %s)", old->conf->metrics_listen[0]
		    ? old->conf->metrics_listen : "nothing");
	metrics_engine(registry, cur);
	metrics_reload(registry, true, clock_wall_s());
}

void
daemon_stats_tick(unsigned interval)
{
	struct metrics_snap cur;
	struct buf line = BUF_INIT;
	double now = clock_mono_s();

	if (registry == NULL)
		return;
	metrics_snap(registry, &cur);
	pthread_mutex_lock(&ring_lock);
	metrics_ring_push(&minute_ring, &cur, now);
	metrics_ring_push(&hour_ring, &cur, now);
	pthread_mutex_unlock(&ring_lock);
	if (interval == 0 || now - last_snap_at < (double)interval)
		return;
	metrics_stats_line(&last_snap, &cur, now - last_snap_at, &line);
	log_info("%s", buf_cstr(&line));
	last_snap = cur;
	last_snap_at = now;
	buf_release(&line);
}
