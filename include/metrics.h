/*
 * metrics.h - the daemon's counters, Prometheus text format, stats line
 *
 * DESCRIPTION
 *	A struct metrics holds every counter of a running daemon as C11
 *	atomics (relaxed increments: no lock on the hot path).  The milter
 *	records each finished message once, from its verdict
 *	(metrics_message(), at end of message); the signal thread records
 *	reloads; the HTTP responder (metrics_http.h) renders the registry
 *	with values that are read at scrape time (struct metrics_live:
 *	messages in flight, DNS cache counters, ...).
 *
 *	Every family is a row of one table (metrics.c): name, type, labels,
 *	help.  The exposition's # HELP / # TYPE lines and the reference
 *	table of doc/metrics.md (`mailwarden status --list-metrics`) are
 *	printed from it.
 *
 *	Label values form closed sets: actions, RFC 8601 results, and
 *	symbol names.  A symbol gets a series only when the engine that
 *	scored the message defines it (symbols_emitted(): a built-in
 *	symbol, a rule, a DNS list entry), and at most METRICS_MAX_SYMBOLS
 *	of them; anything else is counted in one overflow counter.  So no
 *	message can create series.
 */
#ifndef MW_METRICS_H
#define MW_METRICS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct buf;
struct engine;
struct scan;

#define METRICS_MAX_SYMBOLS	2048
#define METRICS_SYM_SLOTS	4096	/* open addressing, power of two */
#define METRICS_MAX_SYMLEN	128
#define METRICS_NBUCKETS	14	/* histogram buckets, +Inf included */
#define METRICS_MAX_STEPS	16	/* SCAN_MAX_STEPS */

enum metrics_auth_method { MA_SPF, MA_DKIM, MA_DMARC, MA_NMETHODS };
/* RFC 8601 result values (section 2.7), in this order */
#define METRICS_NRESULTS	8
#define METRICS_NDISP		4	/* DMARC dis=: none pass quarantine reject */
#define METRICS_NACTIONS	4	/* enum action */

enum metrics_bayes {
	MB_CLASSIFIED, MB_UNTRAINED, MB_UNSCORED, MB_OFF, MB_DEGRADED,
	MB_LEARNED_SPAM, MB_LEARNED_HAM, MB_N
};

/*
 * Health of a store the messages depend on (DNS, Bayes): the outcome of
 * the last METRICS_HEALTH_N messages that used it, each with the time it
 * finished.  It is unhealthy when, of those that finished within the
 * last METRICS_HEALTH_WINDOW seconds, at least METRICS_HEALTH_MIN_BAD
 * failed and the failures are at least 1/METRICS_HEALTH_SHARE of them:
 * so one failed lookup does not flag it, a failing store does within a
 * few messages, and it is healthy again once the failures are older
 * than the window or outnumbered by successes.  Lock-free (one slot per
 * message, written with an atomic store).
 */
#define METRICS_HEALTH_N	16
#define METRICS_HEALTH_WINDOW	60
#define METRICS_HEALTH_MIN_BAD	2
#define METRICS_HEALTH_SHARE	4
struct metrics_health {
	atomic_uint_fast64_t slot[METRICS_HEALTH_N]; /* ms << 1 | failed */
	atomic_uint pos;
};
/* metrics_health_note - one message's outcome at now (monotonic s) */
void	 metrics_health_note(struct metrics_health *, bool failed, double now);
/* metrics_health_ok - the rule above at now */
bool	 metrics_health_ok(struct metrics_health *, double now);

struct metrics_hist {
	atomic_uint_fast64_t bucket[METRICS_NBUCKETS];	/* not cumulative */
	atomic_uint_fast64_t count;
	atomic_uint_fast64_t sum_us;			/* microseconds */
};

/* an entry of a named table: symbols (v[0] hits), DNS list zones
 * (v[0] lookups, v[1] listed, v[2] failed) */
struct metrics_named {
	atomic_uint_fast64_t v[3];
	char	 name[];
};

#define METRICS_MAX_ZONES	256	/* DNS list zones given series */
#define METRICS_ZONE_SLOTS	512

/* what one DNS list lookup found (metrics_dnsbl) */
enum metrics_dnsbl_outcome { MD_NOT_LISTED, MD_LISTED, MD_FAILED };
/* rate limits, greylisting, spam-trap clients (policy.h): deferrals,
 * store failures, messages of recorded trap clients */
enum metrics_policy { MP_RATELIMIT, MP_BLOCKED, MP_GREYLIST, MP_DEGRADED,
	MP_TRAP, MP_N };
/* Redis store events (metrics_redis) */
enum metrics_redis { MR_ERROR, MR_RECONNECT, MR_N };
/* DMARC failure reports (metrics_failure_report) */
enum metrics_failrep { MF_SPOOLED, MF_CAPPED, MF_WRITE_ERROR, MF_N };

struct metrics {
	double	 start_time;			/* wall clock, seconds */
	atomic_uint_fast64_t messages[METRICS_NACTIONS][2]; /* [action][scored] */
	atomic_uint_fast64_t connections;
	atomic_uint_fast64_t aborts;
	atomic_uint_fast64_t auth[MA_NMETHODS][METRICS_NRESULTS];
	atomic_uint_fast64_t dmarc_disp[METRICS_NDISP];
	atomic_uint_fast64_t dkim_signed;
	atomic_uint_fast64_t dns_degraded;	/* messages */
	atomic_uint_fast64_t bayes[MB_N];
	atomic_uint_fast64_t policy[MP_N];
	struct metrics_health bayes_health;	/* Bayes store lookups */
	struct metrics_health policy_health;	/* messages that used the
						   policy store */
	atomic_int policy_backend;		/* of the current generation:
						   0 none, 1 LMDB, 2 Redis */
	struct metrics_health dns_health;	/* messages that used DNS */
	atomic_uint_fast64_t vlog_written, vlog_dropped;
	atomic_uint_fast64_t reloads_ok, reloads_failed;
	atomic_uint_fast64_t generation;
	_Atomic double last_reload;		/* wall clock of the last good
						   load (start counts) */
	atomic_bool last_reload_ok;
	struct metrics_hist eval, dns_wait;
	struct metrics_hist step[METRICS_MAX_STEPS];	/* scan.c's table */
	/* symbols: insert-only table, names never freed before metrics_free */
	_Atomic(struct metrics_named *) sym[METRICS_SYM_SLOTS];
	atomic_uint nsyms;
	atomic_uint_fast64_t sym_overflow;	/* hits not given a series */
	/* DNS list zones, named "KEY ZONE" (dnsbl zen.spamhaus.org) */
	_Atomic(struct metrics_named *) zone[METRICS_ZONE_SLOTS];
	atomic_uint nzones;
	atomic_uint_fast64_t zone_overflow;	/* lookups without a series */
	atomic_uint_fast64_t redis[MR_N];
	atomic_uint_fast64_t failrep[MF_N];
};

/* values read when a scrape is answered, not counted on the hot path */
struct metrics_live {
	long	 inflight;			/* transactions in progress */
	long	 connections;			/* MTA connections open */
	long	 threads;			/* of the process, -1 unknown */
	bool	 have_dns;
	uint64_t dns_lookups, dns_hits, dns_queries, dns_timeouts,
		 dns_servfails;
	bool	 have_lmdb;			/* the Bayes store is LMDB */
	uint64_t lmdb_map_bytes, lmdb_used_bytes;
	bool	 have_recent;			/* messages by action in the
						   last minute and hour */
	uint64_t last_minute[METRICS_NACTIONS], last_hour[METRICS_NACTIONS];
	const char *version;
	struct {			/* build info labels: name (a label
					   name) and the library's version */
		const char *name, *version;
	}	 libs[8];
	size_t	 nlibs;
};

/* metrics_new - a zeroed registry, start time now; metrics_free(&m) */
struct metrics *metrics_new(void);
void	 metrics_free(struct metrics **);
/* the daemon's registry (made by main.c; NULL outside the daemon) */
void	 metrics_set_global(struct metrics *);
struct metrics *metrics_global(void);

/*
 * metrics_message - count one finished message from its scan (after
 * scan_end()): action, scored, auth results (from the verdict's
 * Authentication-Results pieces), DMARC disposition, symbols, Bayes
 * outcome, DNS degradation, latency.  vlog_rc is vlog_write()'s return
 * (0 written, -1 dropped; 1: no verdict log).  m may be NULL.
 */
void	 metrics_message(struct metrics *, const struct scan *, int vlog_rc);
void	 metrics_connection(struct metrics *);
void	 metrics_abort(struct metrics *);
/*
 * Hooks for what the verdict does not show, called where it happens
 * with metrics_global() (NULL outside the daemon: then no-ops).
 * metrics_dnsbl - one lookup in zone of list key ("dnsbl", "dnswl",
 * "uribl", "dbl"; the configuration's zones only, at most
 * METRICS_MAX_ZONES get series): MD_NOT_LISTED, MD_LISTED (an entry
 * matched), MD_FAILED (a timeout, SERVFAIL or error answer).
 * metrics_redis - a Redis failure that starts a retry window, or a
 * connection made again after one.
 * metrics_failure_report - a DMARC failure report spooled or dropped.
 */
void	 metrics_dnsbl(struct metrics *, const char *key, const char *zone,
	    enum metrics_dnsbl_outcome);
void	 metrics_redis(struct metrics *, enum metrics_redis);
/* metrics_engine - give the engine's DNS list zones their series (at 0)
 * before their first lookup; at start and after each reload */
void	 metrics_engine(struct metrics *, const struct engine *);
void	 metrics_failure_report(struct metrics *, enum metrics_failrep);
/* metrics_reload - a load of the configuration: ok or failed, at now */
void	 metrics_reload(struct metrics *, bool ok, double now);

/*
 * metrics_symbol_hit - one hit of name.  A name without a series yet
 * gets one only if defined(name, arg) says the engine defines it (called
 * then only, not per hit) and the table has room.
 */
void	 metrics_symbol_hit(struct metrics *, const char *name,
	    bool (*defined)(const char *, const void *), const void *arg);
/* metrics_hist_observe - one observation of seconds */
void	 metrics_hist_observe(struct metrics_hist *, double seconds);
/* metrics_auth_result - index of an RFC 8601 result name, or -1 */
int	 metrics_auth_result(const char *, size_t);

/* metrics_render - the exposition (text format 0.0.4) into out */
void	 metrics_render(struct metrics *, const struct metrics_live *,
	    struct buf *out);
/* metrics_reference - the table of families as Markdown (doc/metrics.md) */
void	 metrics_reference(struct buf *out);

/*
 * Stats line: metrics_snap() copies the main counters; metrics_stats_line()
 * formats what changed between two copies taken secs apart, as
 * "stats: 300s messages=N (0.10/s) accept=N tag=N reject=N tempfail=N
 * unscored=N eval_avg=Nms dns_degraded=N bayes_degraded=N
 * vlog_dropped=N reloads=N reload_failures=N".
 */
struct metrics_snap {
	uint64_t actions[METRICS_NACTIONS];
	uint64_t unscored, messages, eval_us, dns_degraded, bayes_degraded,
		 vlog_dropped, reloads_ok, reloads_failed;
};
void	 metrics_snap(struct metrics *, struct metrics_snap *);

/*
 * A ring of snapshots at least step seconds apart (the newest replaces
 * the oldest), for counts over the last minute or hour without waiting:
 * metrics_ring_push() keeps snap taken at now unless the newest kept is
 * less than step old; metrics_ring_since() finds the newest snapshot at
 * least secs old (or, when the daemon is younger, the oldest: its start)
 * and gives its age in *age; false if the ring is empty.
 */
#define METRICS_RING_N	61
struct metrics_ring {
	struct metrics_snap snap[METRICS_RING_N];
	double	 at[METRICS_RING_N];		/* monotonic seconds */
	size_t	 n, next;
	double	 step;
};
void	 metrics_ring_push(struct metrics_ring *, const struct metrics_snap *,
	    double now);
bool	 metrics_ring_since(const struct metrics_ring *, double now,
	    double secs, struct metrics_snap *out, double *age);
void	 metrics_stats_line(const struct metrics_snap *prev,
	    const struct metrics_snap *cur, double secs, struct buf *out);

#endif
