/*
 * metrics.c - the counter registry, its Prometheus exposition, stats line
 *
 * DESCRIPTION
 *	Counters are C11 atomics updated with relaxed order: a message
 *	costs a few dozen uncontended atomic increments and one hash probe
 *	per symbol, and no lock.  metrics_message() is the only hook of the
 *	mail path: it reads the finished verdict (action, Authentication-
 *	Results pieces, symbols, the Bayes JSON, times), so the checks
 *	themselves know nothing of metrics.
 *
 *	What the verdict does not show is counted where it happens, through
 *	metrics_global(): lookups per DNS list zone (step_dnsbl.c), Redis
 *	failures and reconnects (bayes_store_redis.c), DMARC failure reports
 *	spooled or dropped (step_dmarc.c).  Zones get series in a bounded
 *	table like symbols; metrics_engine() gives the configured ones
 *	theirs at start and reload, so rates work from the first lookup.
 *
 *	The families are the rows of families[] below; the exposition and
 *	the reference table in doc/metrics.md both come from it.
 *
 * SECURITY
 *	Label values come from closed sets.  Authentication-Results pieces
 *	are our own text, but only a known method and a known RFC 8601
 *	result are counted.  A symbol becomes a series only if the engine
 *	defines it and the table has room (METRICS_MAX_SYMBOLS); other hits
 *	go to one overflow counter.  Label values are escaped anyway.
 *
 * SEE ALSO
 *	metrics_http.c (the responder), daemon_metrics.c (values read at
 *	scrape time: DNS counters, the LMDB map), doc/metrics.md
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "clock.h"
#include "dnsbl.h"
#include "engine.h"
#include "metrics.h"
#include "pstore.h"
#include "scan.h"
#include "symbols.h"
#include "verdict.h"

static struct metrics *global;

static const char *const action_label[METRICS_NACTIONS] = {
	"accept", "tag", "reject", "tempfail"
};
static const char *const method_name[MA_NMETHODS] = { "spf", "dkim", "dmarc" };
static const char *const result_name[METRICS_NRESULTS] = {
	"none", "pass", "fail", "softfail", "neutral", "temperror",
	"permerror", "policy"
};
static const char *const disp_name[METRICS_NDISP] = {
	"none", "pass", "quarantine", "reject"
};
static const double bucket_le[METRICS_NBUCKETS - 1] = {
	0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10
};

#define INC(x)		atomic_fetch_add_explicit(&(x), 1, memory_order_relaxed)
#define ADD(x, n)	atomic_fetch_add_explicit(&(x), (n), memory_order_relaxed)
#define GET(x)		atomic_load_explicit(&(x), memory_order_relaxed)

struct metrics *
metrics_new(void)
{
	struct metrics *m = xcalloc(1, sizeof(*m));

	m->start_time = clock_wall_s();
	atomic_store(&m->last_reload_ok, true);
	return m;
}

void
metrics_free(struct metrics **mp)
{
	struct metrics *m = *mp;
	size_t i;

	if (m == NULL)
		return;
	for (i = 0; i < METRICS_SYM_SLOTS; i++)
		free(atomic_load(&m->sym[i]));
	for (i = 0; i < METRICS_ZONE_SLOTS; i++)
		free(atomic_load(&m->zone[i]));
	free(m);
	*mp = NULL;
}

void
metrics_set_global(struct metrics *m)
{
	global = m;
}

struct metrics *
metrics_global(void)
{
	return global;
}

void
metrics_hist_observe(struct metrics_hist *h, double seconds)
{
	size_t i;

	for (i = 0; i < METRICS_NBUCKETS - 1; i++)
		if (seconds <= bucket_le[i])
			break;
	INC(h->bucket[i]);
	ADD(h->sum_us, seconds > 0 ? (uint_fast64_t)(seconds * 1e6) : 0);
}

void
metrics_health_note(struct metrics_health *h, bool failed, double now)
{
	unsigned i = atomic_fetch_add_explicit(&h->pos, 1,
	    memory_order_relaxed) % METRICS_HEALTH_N;
	uint_fast64_t ms = now > 0 ? (uint_fast64_t)(now * 1000) : 0;

	/* + 1: a slot never written is 0 */
	atomic_store_explicit(&h->slot[i], ((ms + 1) << 1) | (failed ? 1 : 0),
	    memory_order_relaxed);
}

bool
metrics_health_ok(struct metrics_health *h, double now)
{
	double since = (now - METRICS_HEALTH_WINDOW) * 1000;
	unsigned i, seen = 0, bad = 0;
	uint_fast64_t v;

	for (i = 0; i < METRICS_HEALTH_N; i++) {
		v = GET(h->slot[i]);
		if (v == 0 || (double)((v >> 1) - 1) < since)
			continue;
		seen++;
		bad += (unsigned)(v & 1);
	}
	return bad < METRICS_HEALTH_MIN_BAD || bad * METRICS_HEALTH_SHARE <
	    seen;
}

/* sym_hash - FNV-1a of the name */
static uint32_t
sym_hash(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

/* named_new - a table entry for name, or NULL when n reached max */
static struct metrics_named *
named_new(atomic_uint *n, unsigned max, const char *name, size_t len)
{
	struct metrics_named *e;

	if (atomic_fetch_add(n, 1) >= max) {
		atomic_fetch_sub(n, 1);
		return NULL;
	}
	e = xcalloc(1, sizeof(*e) + len + 1);
	memcpy(e->name, name, len);
	return e;
}

/*
 * named_get - the entry of name in an insert-only table of nslots (a
 * power of two) holding at most max entries (count n), added if
 * defined(name, arg) says so; NULL: no series for it
 */
static struct metrics_named *
named_get(_Atomic(struct metrics_named *) *slot, size_t nslots,
    atomic_uint *count, unsigned max, const char *name,
    bool (*defined)(const char *, const void *), const void *arg)
{
	size_t len = strlen(name), i, n;
	struct metrics_named *e, *mine = NULL, *found = NULL;

	if (len == 0 || len > METRICS_MAX_SYMLEN)
		return NULL;
	i = sym_hash(name) & (nslots - 1);
	for (n = 0; n < nslots; n++, i = (i + 1) & (nslots - 1)) {
		e = atomic_load_explicit(&slot[i], memory_order_acquire);
		if (e == NULL) {
			if (mine == NULL && (!defined(name, arg) ||
			    (mine = named_new(count, max, name, len)) == NULL))
				return NULL;
			if (atomic_compare_exchange_strong(&slot[i], &e, mine))
				return mine;
			/* another thread took the slot: e is its entry */
		}
		if (strcmp(e->name, name) == 0) {
			found = e;
			break;
		}
	}
	if (mine) {			/* lost a race for this name, or full */
		free(mine);
		atomic_fetch_sub(count, 1);
	}
	return found;
}

void
metrics_symbol_hit(struct metrics *m, const char *name,
    bool (*defined)(const char *, const void *), const void *arg)
{
	struct metrics_named *e = named_get(m->sym, METRICS_SYM_SLOTS,
	    &m->nsyms, METRICS_MAX_SYMBOLS, name, defined, arg);

	if (e)
		INC(e->v[0]);
	else
		INC(m->sym_overflow);
}

/* any_zone - zones come from the configuration only (the callers') */
static bool
any_zone(const char *name, const void *arg)
{
	(void)name;
	(void)arg;
	return true;
}

/* zone_entry - the entry of zone of list key, made if new; or NULL */
static struct metrics_named *
zone_entry(struct metrics *m, const char *key, const char *zone)
{
	char name[METRICS_MAX_SYMLEN + 1];

	if ((size_t)snprintf(name, sizeof(name), "%s %s", key, zone) >=
	    sizeof(name))
		return NULL;
	return named_get(m->zone, METRICS_ZONE_SLOTS, &m->nzones,
	    METRICS_MAX_ZONES, name, any_zone, NULL);
}

void
metrics_dnsbl(struct metrics *m, const char *key, const char *zone,
    enum metrics_dnsbl_outcome o)
{
	struct metrics_named *e;

	if (m == NULL)
		return;
	if ((e = zone_entry(m, key, zone)) == NULL) {
		INC(m->zone_overflow);
		return;
	}
	INC(e->v[0]);
	if (o == MD_LISTED || o == MD_FAILED)
		INC(e->v[o]);
}

void
metrics_engine(struct metrics *m, const struct engine *e)
{
	const struct dnsbl *d = e ? e->dnsbl : NULL;
	const char *ps = e ? e->conf->policy_store : "";
	size_t i;

	if (m == NULL)
		return;
	atomic_store(&m->policy_backend, ps[0] == '\0' ? 0 :
	    pstore_is_redis(ps) ? 2 : 1);
	if (d == NULL)
		return;
	for (i = 0; i < d->nzones; i++)
		(void)zone_entry(m, dnsbl_zone_key(&d->zones[i]),
		    d->zones[i].zone);
}

void
metrics_redis(struct metrics *m, enum metrics_redis what)
{
	if (m && (unsigned)what < MR_N)
		INC(m->redis[what]);
}

void
metrics_failure_report(struct metrics *m, enum metrics_failrep what)
{
	if (m && (unsigned)what < MF_N)
		INC(m->failrep[what]);
}

int
metrics_auth_result(const char *p, size_t n)
{
	int i;

	for (i = 0; i < METRICS_NRESULTS; i++)
		if (strlen(result_name[i]) == n && strncmp(p, result_name[i],
		    n) == 0)
			return i;
	return -1;
}

/* word_len - length of the token at p (up to space, '(' or ';') */
static size_t
word_len(const char *p)
{
	return strcspn(p, " \t(;");
}

/* count_disposition - "dis=X" in the comment of a dmarc= piece */
static void
count_disposition(struct metrics *m, const char *piece)
{
	const char *d = strchr(piece, '(');
	size_t n, i;

	if (d == NULL || (d = strstr(d, " dis=")) == NULL)
		return;
	d += 5;
	n = strcspn(d, " );");
	for (i = 0; i < METRICS_NDISP; i++)
		if (strlen(disp_name[i]) == n && strncmp(d, disp_name[i], n) ==
		    0)
			INC(m->dmarc_disp[i]);
}

/* count_authres - "method=result ..." pieces of the verdict */
static void
count_authres(struct metrics *m, const struct verdict *v)
{
	size_t i, mlen;
	int meth, res;

	for (i = 0; i < v->nauthres; i++) {
		const char *p = v->authres[i], *eq = strchr(p, '=');

		if (eq == NULL)
			continue;
		mlen = (size_t)(eq - p);
		for (meth = 0; meth < MA_NMETHODS; meth++)
			if (strlen(method_name[meth]) == mlen &&
			    strncmp(p, method_name[meth], mlen) == 0)
				break;
		if (meth == MA_NMETHODS ||
		    (res = metrics_auth_result(eq + 1, word_len(eq + 1))) < 0)
			continue;
		INC(m->auth[meth][res]);
		if (meth == MA_DMARC)
			count_disposition(m, p);
	}
}

/*
 * count_bayes - from the step's JSON (step_bayes.c): the prefixes it
 * writes, and "autolearn" as a key (inside JSON strings every quote is
 * escaped, so a token cannot fake it).  The step's "none" value
 * ({"probability":null}) or no value: Bayes did not run.
 */
/*
 * count_policy - from the "policy" verdict-log value (policy.c): a
 * deferral by a rate limit, a block or greylisting; a failed store
 */
static void
count_policy(struct metrics *m, const struct scan *s)
{
	const char *j = NULL;
	size_t i;

	for (i = 0; i < s->verdict.noutputs && j == NULL; i++)
		if (strcmp(s->verdict.outputs[i].key, "policy") == 0)
			j = buf_cstr(&s->verdict.outputs[i].json);
	if (j == NULL)
		return;
	if (strstr(j, "\"ratelimit\":\"over\""))
		INC(m->policy[MP_RATELIMIT]);
	else if (strstr(j, "\"ratelimit\":\"blocked\""))
		INC(m->policy[MP_BLOCKED]);
	else if (strstr(j, "\"greylist\":\"new\"") ||
	    strstr(j, "\"greylist\":\"early\""))
		INC(m->policy[MP_GREYLIST]);
	if (strstr(j, "\"degraded\":true"))
		INC(m->policy[MP_DEGRADED]);
	if (s->trap_client && strcmp(s->trap_client, "listed") == 0)
		INC(m->policy[MP_TRAP]);
	if (s->pstore_state)
		metrics_health_note(&m->policy_health, s->pstore_state < 0,
		    clock_mono_s());
}

static void
count_bayes(struct metrics *m, const struct scan *s)
{
	const char *j = "";
	size_t i;

	for (i = 0; i < s->verdict.noutputs; i++)
		if (strcmp(s->verdict.outputs[i].key, "bayes") == 0)
			j = buf_cstr(&s->verdict.outputs[i].json);

	if (s->bayes_classified)
		INC(m->bayes[MB_CLASSIFIED]);
	else if (strncmp(j, "{\"probability\":null,\"degraded\":true",
	    35) == 0) {
		INC(m->bayes[MB_DEGRADED]);
		metrics_health_note(&m->bayes_health, true, clock_mono_s());
		return;
	} else if (strncmp(j, "{\"probability\":null,\"skipped\"", 29) == 0)
		INC(m->bayes[MB_UNTRAINED]);
	else if (!s->verdict.scored)
		INC(m->bayes[MB_UNSCORED]);
	else {
		INC(m->bayes[MB_OFF]);
		return;
	}
	if (s->verdict.scored)
		metrics_health_note(&m->bayes_health, false, clock_mono_s());
	if (strstr(j, "\"autolearn\":\"spam\""))
		INC(m->bayes[MB_LEARNED_SPAM]);
	else if (strstr(j, "\"autolearn\":\"ham\""))
		INC(m->bayes[MB_LEARNED_HAM]);
}

/* engine_defines - does the engine define the symbol (see SECURITY) */
static bool
engine_defines(const char *name, const void *arg)
{
	const struct engine *e = arg;

	return symbols_emitted(e->rules, e->dnsbl, name);
}

void
metrics_message(struct metrics *m, const struct scan *s, int vlog_rc)
{
	const struct verdict *v = &s->verdict;
	size_t i;

	if (m == NULL)
		return;
	if ((unsigned)v->action < METRICS_NACTIONS)
		INC(m->messages[v->action][v->scored ? 1 : 0]);
	count_authres(m, v);
	for (i = 0; i < v->nsyms; i++) {
		metrics_symbol_hit(m, v->syms[i].name, engine_defines,
		    s->eng);
		if (strcmp(v->syms[i].name, "DKIM_SIGNED") == 0)
			INC(m->dkim_signed);
	}
	count_bayes(m, s);
	count_policy(m, s);
	if (v->dns_degraded)
		INC(m->dns_degraded);
	if (v->dns_ms > 0 || v->dns_degraded)
		metrics_health_note(&m->dns_health, v->dns_degraded,
		    clock_mono_s());
	if (vlog_rc == 0)
		INC(m->vlog_written);
	else if (vlog_rc < 0)
		INC(m->vlog_dropped);
	for (i = 0; i < scan_step_count() && i < METRICS_MAX_STEPS; i++)
		if (s->step_ms[i] >= 0)
			metrics_hist_observe(&m->step[i], s->step_ms[i] / 1000.0);
	metrics_hist_observe(&m->eval, v->elapsed_ms / 1000.0);
	metrics_hist_observe(&m->dns_wait, v->dns_ms / 1000.0);
}

void
metrics_connection(struct metrics *m)
{
	if (m)
		INC(m->connections);
}

void
metrics_abort(struct metrics *m)
{
	if (m)
		INC(m->aborts);
}

void
metrics_reload(struct metrics *m, bool ok, double now)
{
	if (m == NULL)
		return;
	atomic_store(&m->last_reload_ok, ok);
	if (!ok) {
		INC(m->reloads_failed);
		return;
	}
	if (atomic_fetch_add(&m->generation, 1) > 0)
		INC(m->reloads_ok);
	atomic_store(&m->last_reload, now);
}

/* ---- exposition ---- */

enum fam_type { F_COUNTER, F_GAUGE, F_HISTOGRAM };

struct family {
	const char *name;
	enum fam_type type;
	const char *labels;		/* for the reference table */
	const char *help;
};

/* the one table of metric families (doc/metrics.md is printed from it) */
static const struct family families[] = {
#define FAM_BUILD 0
	[FAM_BUILD] = { "mailwarden_build_info", F_GAUGE,
	  "version, openssl, ldns, pcre2, libmilter, lmdb, hiredis",
	  "Always 1; the version of the running daemon and of the libraries "
	  "it runs with (hiredis: the one it was built with)" },
#define FAM_START 1
	[FAM_START] = { "mailwarden_start_time_seconds", F_GAUGE, "",
	  "When the daemon started (Unix time)" },
#define FAM_MESSAGES 2
	[FAM_MESSAGES] = { "mailwarden_messages_total", F_COUNTER, "action, scored",
	  "Messages that reached a verdict, by action (accept, tag, reject, "
	  "tempfail) and scored (yes; no for trusted networks and "
	  "authenticated senders)" },
#define FAM_CONNS 3
	[FAM_CONNS] = { "mailwarden_connections_total", F_COUNTER, "",
	  "MTA connections to the milter" },
#define FAM_ABORTS 4
	[FAM_ABORTS] = { "mailwarden_milter_aborts_total", F_COUNTER, "",
	  "Transactions the MTA aborted before end of message" },
#define FAM_INFLIGHT 5
	[FAM_INFLIGHT] = { "mailwarden_messages_in_flight", F_GAUGE, "",
	  "Transactions between MAIL FROM and their end now" },
#define FAM_OPEN 6
	[FAM_OPEN] = { "mailwarden_connections_open", F_GAUGE, "",
	  "MTA connections open now" },
#define FAM_THREADS 7
	[FAM_THREADS] = { "mailwarden_threads", F_GAUGE, "", "Threads of the daemon process" },
#define FAM_SYMS 8
	[FAM_SYMS] = { "mailwarden_symbol_hits_total", F_COUNTER, "symbol",
	  "Messages on which a symbol was set (names the configuration, "
	  "the rules or the built-in table define)" },
#define FAM_SYMOVER 9
	[FAM_SYMOVER] = { "mailwarden_symbol_hits_unlabelled_total", F_COUNTER, "",
	  "Symbol hits not given a series (table full, or a name the "
	  "engine does not define)" },
#define FAM_SPF 10
	[FAM_SPF] = { "mailwarden_spf_results_total", F_COUNTER, "result",
	  "SPF results (RFC 8601 names)" },
#define FAM_DKIM 11
	[FAM_DKIM] = { "mailwarden_dkim_results_total", F_COUNTER, "result",
	  "DKIM results, one per signature evaluated (none: unsigned)" },
#define FAM_DMARC 12
	[FAM_DMARC] = { "mailwarden_dmarc_results_total", F_COUNTER, "result",
	  "DMARC results" },
#define FAM_DISP 13
	[FAM_DISP] = { "mailwarden_dmarc_dispositions_total", F_COUNTER, "disposition",
	  "DMARC dispositions applied (none, pass, quarantine, reject)" },
#define FAM_SIGNED 14
	[FAM_SIGNED] = { "mailwarden_dkim_signatures_made_total", F_COUNTER, "",
	  "Messages mailwarden signed with DKIM" },
#define FAM_DNS_LOOKUPS 15
	[FAM_DNS_LOOKUPS] = { "mailwarden_dns_lookups_total", F_COUNTER, "",
	  "DNS lookups by the checks (the cache's view)" },
#define FAM_DNS_HITS 16
	[FAM_DNS_HITS] = { "mailwarden_dns_cache_hits_total", F_COUNTER, "",
	  "DNS lookups answered from the cache" },
#define FAM_DNS_QUERIES 17
	[FAM_DNS_QUERIES] = { "mailwarden_dns_queries_total", F_COUNTER, "",
	  "Queries sent to the DNS servers" },
#define FAM_DNS_TIMEOUTS 18
	[FAM_DNS_TIMEOUTS] = { "mailwarden_dns_timeouts_total", F_COUNTER, "",
	  "Lookups the servers left without an answer: every query timed "
	  "out or failed at the network (a server refusing at the port, an "
	  "unreachable network); error answers such as SERVFAIL and REFUSED "
	  "are counted in mailwarden_dns_servfails_total" },
#define FAM_DNS_SERVFAILS 19
	[FAM_DNS_SERVFAILS] = { "mailwarden_dns_servfails_total", F_COUNTER, "",
	  "Queries answered SERVFAIL or REFUSED" },
#define FAM_DNS_DEGRADED 20
	[FAM_DNS_DEGRADED] = { "mailwarden_dns_degraded_messages_total", F_COUNTER, "",
	  "Messages marked dns_degraded (a lookup failed or the per-message "
	  "DNS budget ran out)" },
#define FAM_DNS_HEALTHY 21
	[FAM_DNS_HEALTHY] = { "mailwarden_dns_healthy", F_GAUGE, "",
	  "0 when DNS is failing: of the last 16 messages that used DNS, "
	  "those of the last 60 seconds include at least 2 dns_degraded "
	  "ones and a quarter or more are; else 1" },
#define FAM_BAYES_CLS 22
	[FAM_BAYES_CLS] = { "mailwarden_bayes_classified_total", F_COUNTER, "",
	  "Messages Bayes gave a probability" },
#define FAM_BAYES_SKIP 23
	[FAM_BAYES_SKIP] = { "mailwarden_bayes_skipped_total", F_COUNTER, "reason",
	  "Messages without a Bayes probability: untrained (too little "
	  "learned), unscored (trusted source), off (no bayes_store)" },
#define FAM_BAYES_DEG 24
	[FAM_BAYES_DEG] = { "mailwarden_bayes_degraded_total", F_COUNTER, "",
	  "Messages Bayes could not classify because the store failed "
	  "(Redis down or slow, LMDB error)" },
#define FAM_BAYES_HEALTHY 25
	[FAM_BAYES_HEALTHY] = { "mailwarden_bayes_healthy", F_GAUGE, "",
	  "0 when the Bayes store is failing: of the last 16 messages that "
	  "looked it up, those of the last 60 seconds include at least 2 "
	  "failed lookups and a quarter or more failed; else 1" },
#define FAM_BAYES_LEARN 26
	[FAM_BAYES_LEARN] = { "mailwarden_bayes_autolearned_total", F_COUNTER, "class",
	  "Messages autolearned as spam or ham" },
#define FAM_EVAL 27
	[FAM_EVAL] = { "mailwarden_evaluation_seconds", F_HISTOGRAM, "",
	  "Time spent evaluating each message (DNS waits included)" },
#define FAM_DNSWAIT 28
	[FAM_DNSWAIT] = { "mailwarden_dns_wait_seconds", F_HISTOGRAM, "",
	  "Time each message waited for DNS" },
#define FAM_VLOG 29
	[FAM_VLOG] = { "mailwarden_verdict_log_lines_total", F_COUNTER, "",
	  "Verdict log lines written" },
#define FAM_VLOG_DROP 30
	[FAM_VLOG_DROP] = { "mailwarden_verdict_log_dropped_total", F_COUNTER, "",
	  "Verdict log lines dropped because the write failed" },
#define FAM_GEN 31
	[FAM_GEN] = { "mailwarden_config_generation", F_GAUGE, "",
	  "Configurations loaded: 1 at start, +1 per successful reload" },
#define FAM_RELOAD_TS 32
	[FAM_RELOAD_TS] = { "mailwarden_config_last_reload_success_timestamp_seconds", F_GAUGE,
	  "", "When the running configuration was loaded (Unix time)" },
#define FAM_RELOAD_OK 33
	[FAM_RELOAD_OK] = { "mailwarden_config_last_reload_successful", F_GAUGE, "",
	  "1 if the last load (start or SIGHUP) succeeded, 0 if it failed" },
#define FAM_RELOADS 34
	[FAM_RELOADS] = { "mailwarden_config_reloads_total", F_COUNTER, "",
	  "Successful reloads (SIGHUP)" },
#define FAM_RELOAD_FAIL 35
	[FAM_RELOAD_FAIL] = { "mailwarden_config_reload_failures_total", F_COUNTER, "",
	  "Reloads refused (the running configuration stayed)" },
#define FAM_STEP 36
	[FAM_STEP] = { "mailwarden_step_seconds", F_HISTOGRAM, "step",
	  "Time each step spent on a message at end of message (steps that "
	  "did not run, e.g. for trusted mail, are not observed)" },
#define FAM_DNSBL_LOOKUPS 37
	[FAM_DNSBL_LOOKUPS] = { "mailwarden_dnsbl_lookups_total", F_COUNTER,
	  "list, zone", "Lookups in a DNS list zone; list is the "
	  "configuration key (dnsbl, dnswl, uribl, dbl), zone a zone it "
	  "names (the configuration's zones only)" },
#define FAM_DNSBL_LISTED 38
	[FAM_DNSBL_LISTED] = { "mailwarden_dnsbl_listed_total", F_COUNTER,
	  "list, zone", "Lookups a zone answered with a listing that "
	  "matched one of its entries" },
#define FAM_DNSBL_FAILED 39
	[FAM_DNSBL_FAILED] = { "mailwarden_dnsbl_failures_total", F_COUNTER,
	  "list, zone", "Lookups that failed: timeout, SERVFAIL, or an "
	  "answer that is an error code (DNSBL_DEGRADED, DNSBL_ERROR)" },
#define FAM_DNSBL_OVER 40
	[FAM_DNSBL_OVER] = { "mailwarden_dnsbl_lookups_unlabelled_total",
	  F_COUNTER, "", "DNS list lookups not given a series (more than "
	  "256 zones configured since start)" },
#define FAM_REDIS_ERR 41
	[FAM_REDIS_ERR] = { "mailwarden_bayes_redis_errors_total", F_COUNTER,
	  "", "Calls to Redis that failed (connect, timeout, broken reply); "
	  "each starts a bayes_redis_retry window whose calls fail at once, "
	  "uncounted" },
#define FAM_REDIS_RECON 42
	[FAM_REDIS_RECON] = { "mailwarden_bayes_redis_reconnects_total",
	  F_COUNTER, "", "Connections made to Redis again after a failure or "
	  "after the server closed idle ones (a restart)" },
#define FAM_LMDB_MAP 43
	[FAM_LMDB_MAP] = { "mailwarden_bayes_lmdb_map_size_bytes", F_GAUGE, "",
	  "Map size of the LMDB Bayes store (it doubles when full); absent "
	  "for Redis or before the store is opened" },
#define FAM_LMDB_USED 44
	[FAM_LMDB_USED] = { "mailwarden_bayes_lmdb_used_bytes", F_GAUGE, "",
	  "Bytes of the LMDB Bayes store's map in use (pages up to the last "
	  "one written)" },
#define FAM_FAILREP 45
	[FAM_FAILREP] = { "mailwarden_dmarc_failure_reports_spooled_total",
	  F_COUNTER, "", "DMARC failure reports written to the spool" },
#define FAM_FAILREP_DROP 46
	[FAM_FAILREP_DROP] = { "mailwarden_dmarc_failure_reports_dropped_total",
	  F_COUNTER, "reason", "DMARC failure reports not spooled: "
	  "rate_limit (dmarc_failure_reports_max per hour reached), "
	  "write_error (the spool could not be written)" },
#define FAM_POLICY_DEFER 47
	[FAM_POLICY_DEFER] = { "mailwarden_policy_deferred_total", F_COUNTER,
	  "reason", "Messages answered 451 4.7.1 by a rate limit (ratelimit), "
	  "a blocked user (blocked) or greylisting (greylist)" },
#define FAM_POLICY_DEG 48
	[FAM_POLICY_DEG] = { "mailwarden_policy_degraded_total", F_COUNTER, "",
	  "Messages whose rate limits, greylisting or spam-trap client check "
	  "were skipped because the policy store failed (Redis down or slow, "
	  "LMDB error)" },
#define FAM_POLICY_TRAP 49
	[FAM_POLICY_TRAP] = { "mailwarden_policy_trap_client_total", F_COUNTER,
	  "", "Messages from a client a spam trap recorded (MW_TRAP_CLIENT)" },
#define FAM_POLICY_HEALTHY 50
	[FAM_POLICY_HEALTHY] = { "mailwarden_policy_store_healthy", F_GAUGE,
	  "backend", "0 when the policy store is failing: of the last 16 "
	  "messages that used it, those of the last 60 seconds include at "
	  "least 2 failed calls and a quarter or more failed; else 1; backend "
	  "lmdb or redis; absent without policy_store" },
#define FAM_LAST_MINUTE 51
	[FAM_LAST_MINUTE] = { "mailwarden_messages_last_minute", F_GAUGE,
	  "action", "Messages that reached a verdict in the last 60 seconds "
	  "(since the start if the daemon is younger), by action; from "
	  "snapshots taken each second" },
#define FAM_LAST_HOUR 52
	[FAM_LAST_HOUR] = { "mailwarden_messages_last_hour", F_GAUGE,
	  "action", "Messages that reached a verdict in the last hour (since "
	  "the start if the daemon is younger), by action; from snapshots "
	  "taken each minute, so up to a minute more" },
};

#define NFAMILIES	(sizeof(families) / sizeof(families[0]))

static const char *const type_name[] = { "counter", "gauge", "histogram" };

static void
head(struct buf *o, int f)
{
	buf_printf(o, "# HELP %s %s\n# TYPE %s %s\n", families[f].name,
	    families[f].help, families[f].name, type_name[families[f].type]);
}

/* label_value - a label value with \ " and newline escaped */
static void
label_value(struct buf *o, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			buf_addc(o, '\\');
		if (*v == '\n')
			buf_adds(o, "\\n");
		else
			buf_addc(o, *v);
	}
}

static void
sample(struct buf *o, int f, uint64_t v)
{
	buf_printf(o, "%s %llu\n", families[f].name, (unsigned long long)v);
}

static void
one(struct buf *o, int f, uint64_t v)
{
	head(o, f);
	sample(o, f, v);
}

static void
labelled(struct buf *o, int f, const char *label, const char *const *names,
    atomic_uint_fast64_t *v, size_t n)
{
	size_t i;

	head(o, f);
	for (i = 0; i < n; i++)
		buf_printf(o, "%s{%s=\"%s\"} %llu\n", families[f].name, label,
		    names[i], (unsigned long long)GET(v[i]));
}

/* hist_series - the series of one histogram; label is "" or `k="v",` */
static void
hist_series(struct buf *o, int f, const char *label, struct metrics_hist *h)
{
	uint64_t cum = 0;
	size_t i, n = strlen(label);

	for (i = 0; i < METRICS_NBUCKETS; i++) {
		cum += GET(h->bucket[i]);
		if (i < METRICS_NBUCKETS - 1)
			buf_printf(o, "%s_bucket{%sle=\"%g\"} %llu\n",
			    families[f].name, label, bucket_le[i],
			    (unsigned long long)cum);
		else
			buf_printf(o, "%s_bucket{%sle=\"+Inf\"} %llu\n",
			    families[f].name, label, (unsigned long long)cum);
	}
	/* _sum and _count carry the label without the trailing comma */
	if (n)
		buf_printf(o, "%s_sum{%.*s} %.6f\n%s_count{%.*s} %llu\n",
		    families[f].name, (int)n - 1, label,
		    (double)GET(h->sum_us) / 1e6, families[f].name,
		    (int)n - 1, label, (unsigned long long)cum);
	else
		buf_printf(o, "%s_sum %.6f\n%s_count %llu\n",
		    families[f].name, (double)GET(h->sum_us) / 1e6,
		    families[f].name, (unsigned long long)cum);
}

static void
histogram(struct buf *o, int f, struct metrics_hist *h)
{
	head(o, f);
	hist_series(o, f, "", h);
}

/* step_histograms - one series per step of scan.c's table */
static void
step_histograms(struct metrics *m, struct buf *o)
{
	char label[64];
	size_t i;

	head(o, FAM_STEP);
	for (i = 0; i < scan_step_count() && i < METRICS_MAX_STEPS; i++) {
		snprintf(label, sizeof(label), "step=\"%s\",",
		    scan_step_name(i));
		hist_series(o, FAM_STEP, label, &m->step[i]);
	}
}

static int
sym_cmp(const void *a, const void *b)
{
	const struct metrics_named *x =
	    *(const struct metrics_named *const *)a;
	const struct metrics_named *y =
	    *(const struct metrics_named *const *)b;

	return strcmp(x->name, y->name);
}

/* named_sorted - the entries of a table into v (max), by name; count */
static size_t
named_sorted(_Atomic(struct metrics_named *) *slot, size_t nslots,
    struct metrics_named **v, size_t max)
{
	struct metrics_named *e;
	size_t i, n = 0;

	for (i = 0; i < nslots && n < max; i++)
		if ((e = atomic_load_explicit(&slot[i],
		    memory_order_acquire)) != NULL)
			v[n++] = e;
	qsort(v, n, sizeof(v[0]), sym_cmp);
	return n;
}

static void
symbols(struct metrics *m, struct buf *o)
{
	struct metrics_named *v[METRICS_MAX_SYMBOLS];
	size_t i, n = named_sorted(m->sym, METRICS_SYM_SLOTS, v,
	    METRICS_MAX_SYMBOLS);

	head(o, FAM_SYMS);
	for (i = 0; i < n; i++) {
		buf_printf(o, "%s{symbol=\"", families[FAM_SYMS].name);
		label_value(o, v[i]->name);
		buf_printf(o, "\"} %llu\n", (unsigned long long)GET(v[i]->v[0]));
	}
	one(o, FAM_SYMOVER, GET(m->sym_overflow));
}

/* zones - lookups, listings, failures per DNS list zone ("KEY ZONE") */
static void
zones(struct metrics *m, struct buf *o)
{
	static const int fam[] = { FAM_DNSBL_LOOKUPS, FAM_DNSBL_LISTED,
	    FAM_DNSBL_FAILED };
	struct metrics_named *v[METRICS_MAX_ZONES];
	size_t i, k, n = named_sorted(m->zone, METRICS_ZONE_SLOTS, v,
	    METRICS_MAX_ZONES);
	const char *sp;

	for (k = 0; k < 3; k++) {
		head(o, fam[k]);
		for (i = 0; i < n; i++) {
			if ((sp = strchr(v[i]->name, ' ')) == NULL)
				continue;
			buf_printf(o, "%s{list=\"%.*s\",zone=\"",
			    families[fam[k]].name, (int)(sp - v[i]->name),
			    v[i]->name);
			label_value(o, sp + 1);
			buf_printf(o, "\"} %llu\n",
			    (unsigned long long)GET(v[i]->v[k]));
		}
	}
	one(o, FAM_DNSBL_OVER, GET(m->zone_overflow));
}

static void
render_messages(struct metrics *m, struct buf *o)
{
	size_t a, s;

	head(o, FAM_MESSAGES);
	for (a = 0; a < METRICS_NACTIONS; a++)
		for (s = 0; s < 2; s++)
			buf_printf(o, "%s{action=\"%s\",scored=\"%s\"} %llu\n",
			    families[FAM_MESSAGES].name, action_label[a],
			    s ? "yes" : "no",
			    (unsigned long long)GET(m->messages[a][s]));
}

/* render_recent - messages of the last minute and hour, if known */
static void
render_recent(const struct metrics_live *l, struct buf *o)
{
	static const int fam[] = { FAM_LAST_MINUTE, FAM_LAST_HOUR };
	const uint64_t *v;
	size_t a, k;

	if (!l->have_recent)
		return;
	for (k = 0; k < 2; k++) {
		v = k == 0 ? l->last_minute : l->last_hour;
		head(o, fam[k]);
		for (a = 0; a < METRICS_NACTIONS; a++)
			buf_printf(o, "%s{action=\"%s\"} %llu\n",
			    families[fam[k]].name, action_label[a],
			    (unsigned long long)v[a]);
	}
}

static void
render_dns(const struct metrics_live *l, struct metrics *m, struct buf *o)
{
	one(o, FAM_DNS_LOOKUPS, l->dns_lookups);
	one(o, FAM_DNS_HITS, l->dns_hits);
	one(o, FAM_DNS_QUERIES, l->dns_queries);
	one(o, FAM_DNS_TIMEOUTS, l->dns_timeouts);
	one(o, FAM_DNS_SERVFAILS, l->dns_servfails);
	one(o, FAM_DNS_DEGRADED, GET(m->dns_degraded));
	one(o, FAM_DNS_HEALTHY, metrics_health_ok(&m->dns_health,
	    clock_mono_s()));
}

static void
render_bayes(struct metrics *m, struct buf *o)
{
	static const char *const skip[] = { "untrained", "unscored", "off" };
	static const char *const cls[] = { "spam", "ham" };

	one(o, FAM_BAYES_CLS, GET(m->bayes[MB_CLASSIFIED]));
	labelled(o, FAM_BAYES_SKIP, "reason", skip, &m->bayes[MB_UNTRAINED],
	    3);
	one(o, FAM_BAYES_DEG, GET(m->bayes[MB_DEGRADED]));
	one(o, FAM_BAYES_HEALTHY, metrics_health_ok(&m->bayes_health,
	    clock_mono_s()));
	labelled(o, FAM_BAYES_LEARN, "class", cls,
	    &m->bayes[MB_LEARNED_SPAM], 2);
}

static void
render_policy(struct metrics *m, struct buf *o)
{
	static const char *const why[] = { "ratelimit", "blocked",
	    "greylist" };
	int backend;

	labelled(o, FAM_POLICY_DEFER, "reason", why,
	    &m->policy[MP_RATELIMIT], 3);
	one(o, FAM_POLICY_DEG, GET(m->policy[MP_DEGRADED]));
	one(o, FAM_POLICY_TRAP, GET(m->policy[MP_TRAP]));
	if ((backend = atomic_load(&m->policy_backend)) != 0) {
		head(o, FAM_POLICY_HEALTHY);
		buf_printf(o, "%s{backend=\"%s\"} %d\n",
		    families[FAM_POLICY_HEALTHY].name, backend == 2 ? "redis" :
		    "lmdb", metrics_health_ok(&m->policy_health,
		    clock_mono_s()) ? 1 : 0);
	}
}

static void
render_redis_lmdb(struct metrics *m, const struct metrics_live *l,
    struct buf *o)
{
	one(o, FAM_REDIS_ERR, GET(m->redis[MR_ERROR]));
	one(o, FAM_REDIS_RECON, GET(m->redis[MR_RECONNECT]));
	if (!l->have_lmdb)
		return;
	one(o, FAM_LMDB_MAP, l->lmdb_map_bytes);
	one(o, FAM_LMDB_USED, l->lmdb_used_bytes);
}

static void
render_failure_reports(struct metrics *m, struct buf *o)
{
	static const char *const why[] = { "rate_limit", "write_error" };

	one(o, FAM_FAILREP, GET(m->failrep[MF_SPOOLED]));
	labelled(o, FAM_FAILREP_DROP, "reason", why, &m->failrep[MF_CAPPED],
	    2);
}

static void
render_config(struct metrics *m, struct buf *o)
{
	one(o, FAM_GEN, GET(m->generation));
	head(o, FAM_RELOAD_TS);
	buf_printf(o, "%s %.3f\n", families[FAM_RELOAD_TS].name,
	    atomic_load(&m->last_reload));
	one(o, FAM_RELOAD_OK, atomic_load(&m->last_reload_ok));
	one(o, FAM_RELOADS, GET(m->reloads_ok));
	one(o, FAM_RELOAD_FAIL, GET(m->reloads_failed));
}

void
metrics_render(struct metrics *m, const struct metrics_live *l,
    struct buf *o)
{
	size_t i;

	head(o, FAM_BUILD);
	buf_printf(o, "%s{version=\"", families[FAM_BUILD].name);
	label_value(o, l->version ? l->version : PACKAGE_VERSION);
	for (i = 0; i < l->nlibs && i < 8; i++) {
		buf_printf(o, "\",%s=\"", l->libs[i].name);
		label_value(o, l->libs[i].version);
	}
	buf_adds(o, "\"} 1\n");
	head(o, FAM_START);
	buf_printf(o, "%s %.3f\n", families[FAM_START].name, m->start_time);
	render_messages(m, o);
	render_recent(l, o);
	one(o, FAM_CONNS, GET(m->connections));
	one(o, FAM_ABORTS, GET(m->aborts));
	one(o, FAM_INFLIGHT, (uint64_t)(l->inflight > 0 ? l->inflight : 0));
	one(o, FAM_OPEN, (uint64_t)(l->connections > 0 ? l->connections : 0));
	if (l->threads >= 0)
		one(o, FAM_THREADS, (uint64_t)l->threads);
	symbols(m, o);
	labelled(o, FAM_SPF, "result", result_name, m->auth[MA_SPF],
	    METRICS_NRESULTS);
	labelled(o, FAM_DKIM, "result", result_name, m->auth[MA_DKIM],
	    METRICS_NRESULTS);
	labelled(o, FAM_DMARC, "result", result_name, m->auth[MA_DMARC],
	    METRICS_NRESULTS);
	labelled(o, FAM_DISP, "disposition", disp_name, m->dmarc_disp,
	    METRICS_NDISP);
	one(o, FAM_SIGNED, GET(m->dkim_signed));
	render_failure_reports(m, o);
	render_dns(l, m, o);
	zones(m, o);
	render_bayes(m, o);
	render_redis_lmdb(m, l, o);
	render_policy(m, o);
	histogram(o, FAM_EVAL, &m->eval);
	histogram(o, FAM_DNSWAIT, &m->dns_wait);
	step_histograms(m, o);
	one(o, FAM_VLOG, GET(m->vlog_written));
	one(o, FAM_VLOG_DROP, GET(m->vlog_dropped));
	render_config(m, o);
}

void
metrics_reference(struct buf *o)
{
	size_t i;

	buf_adds(o, "| name | type | labels | meaning |\n"
	    "| --- | --- | --- | --- |\n");
	for (i = 0; i < NFAMILIES; i++)
		buf_printf(o, "| `%s` | %s | %s | %s |\n", families[i].name,
		    type_name[families[i].type], families[i].labels[0] ?
		    families[i].labels : "-", families[i].help);
}

/* ---- stats line ---- */

void
metrics_snap(struct metrics *m, struct metrics_snap *s)
{
	size_t a;

	memset(s, 0, sizeof(*s));
	for (a = 0; a < METRICS_NACTIONS; a++) {
		s->actions[a] = GET(m->messages[a][0]) + GET(m->messages[a][1]);
		s->unscored += GET(m->messages[a][0]);
		s->messages += s->actions[a];
	}
	s->eval_us = GET(m->eval.sum_us);
	s->dns_degraded = GET(m->dns_degraded);
	s->bayes_degraded = GET(m->bayes[MB_DEGRADED]);
	s->vlog_dropped = GET(m->vlog_dropped);
	s->reloads_ok = GET(m->reloads_ok);
	s->reloads_failed = GET(m->reloads_failed);
}

void
metrics_stats_line(const struct metrics_snap *p, const struct metrics_snap *c,
    double secs, struct buf *o)
{
	uint64_t n = c->messages - p->messages;
	size_t a;

	buf_printf(o, "stats: %.0fs messages=%llu (%.2f/s)", secs,
	    (unsigned long long)n, secs > 0 ? (double)n / secs : 0.0);
	for (a = 0; a < METRICS_NACTIONS; a++)
		buf_printf(o, " %s=%llu", action_label[a],
		    (unsigned long long)(c->actions[a] - p->actions[a]));
	buf_printf(o, " unscored=%llu eval_avg=%.1fms dns_degraded=%llu "
	    "bayes_degraded=%llu vlog_dropped=%llu reloads=%llu "
	    "reload_failures=%llu",
	    (unsigned long long)(c->unscored - p->unscored),
	    n ? (double)(c->eval_us - p->eval_us) / 1000.0 / (double)n : 0.0,
	    (unsigned long long)(c->dns_degraded - p->dns_degraded),
	    (unsigned long long)(c->bayes_degraded - p->bayes_degraded),
	    (unsigned long long)(c->vlog_dropped - p->vlog_dropped),
	    (unsigned long long)(c->reloads_ok - p->reloads_ok),
	    (unsigned long long)(c->reloads_failed - p->reloads_failed));
}

void
metrics_ring_push(struct metrics_ring *r, const struct metrics_snap *snap,
    double now)
{
	size_t newest = (r->next + METRICS_RING_N - 1) % METRICS_RING_N;

	if (r->n > 0 && now - r->at[newest] < r->step)
		return;
	r->snap[r->next] = *snap;
	r->at[r->next] = now;
	r->next = (r->next + 1) % METRICS_RING_N;
	if (r->n < METRICS_RING_N)
		r->n++;
}

bool
metrics_ring_since(const struct metrics_ring *r, double now, double secs,
    struct metrics_snap *out, double *age)
{
	size_t k, i = 0;

	if (r->n == 0)
		return false;
	/* newest first; stop at the first one old enough */
	for (k = 1; k <= r->n; k++) {
		i = (r->next + METRICS_RING_N - k) % METRICS_RING_N;
		if (now - r->at[i] >= secs)
			break;
	}
	*out = r->snap[i];		/* else the oldest kept */
	*age = now - r->at[i];
	return true;
}
