/*
 * engine.c - load, share and swap configuration generations
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bayes_learn.h"
#include "bayes_store.h"
#include "buf.h"
#include "dkim.h"
#include "dns.h"
#include "dnsbl.h"
#include "engine.h"
#include "log.h"
#include "psl.h"
#include "rules.h"
#include "str.h"
#include "strmap.h"

static pthread_mutex_t current_lock = PTHREAD_MUTEX_INITIALIZER;
static struct engine *current;

static void
engine_destroy(struct engine *e)
{
	int i;

	bayes_learner_free(e->autolearn);	/* before its store */
	bayes_store_close(&e->bayes);
	pthread_mutex_destroy(&e->bayes_lock);
	for (i = 0; i < LIST_NKINDS; i++)
		list_free(e->lists[i]);
	strmap_free(e->scores, free);
	rules_free(e->rules);
	dnsbl_free(e->dnsbl);
	dns_resolver_free(e->dns);
	dkim_signconf_free(e->dkim_sign);
	psl_free(e->psl);
	conf_free(e->conf);
	free(e);
}

/* load_dkim_keys - signing keys of dkim_sign_domains (file I/O here) */
static int
load_dkim_keys(struct engine *e, struct buf *why)
{
	const struct conf *c = e->conf;
	struct dkim_signopts o;
	struct buf reason = BUF_INIT;

	if (c->dkim_sign_domains.n == 0)
		return 0;
	o.keys = &c->dkim_sign_domains;
	o.headers = &c->dkim_sign_headers;
	o.oversign = &c->dkim_oversign_headers;
	o.canon = c->dkim_sign_canon;
	o.expire = c->dkim_sign_expire;
	if (dkim_signconf_load(&o, &e->dkim_sign, &reason) < 0) {
		buf_printf(why, "%s: dkim_sign_domains: %s", c->path,
		    buf_cstr(&reason));
		buf_release(&reason);
		return -1;
	}
	buf_release(&reason);
	return 0;
}

#define BAYES_RETRY_S	10.0

static double
mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * check_bayes - what can be said about the store at load time without
 * creating anything: an LMDB store must be a directory or be creatable
 * in an existing one (Redis URLs were checked by conf.c)
 */
static int
check_bayes(const struct conf *c, struct buf *why)
{
	struct buf reason = BUF_INIT;
	int rc = 0;

	if (c->bayes_store[0] == '\0')
		return 0;
	if (bayes_store_check(c->bayes_store, &reason) < 0) {
		buf_printf(why, "%s: bayes_store: %s", c->path,
		    buf_cstr(&reason));
		rc = -1;
	}
	buf_release(&reason);
	return rc;
}

struct bayes_store *
engine_bayes(struct engine *e, struct buf *why)
{
	const struct conf *c = e->conf;
	struct bayes_store *st;
	struct buf reason = BUF_INIT;
	double now;

	if (c->bayes_store[0] == '\0') {
		if (why)
			buf_adds(why, "no Bayes store configured");
		return NULL;
	}
	pthread_mutex_lock(&e->bayes_lock);
	if (e->bayes == NULL && (now = mono_s()) >= e->bayes_retry) {
		if (bayes_store_open_conf(c, NULL, false, &e->bayes,
		    &reason) != BAYES_OK) {
			e->bayes_retry = now + BAYES_RETRY_S;
			log_err("bayes_store: %s", buf_cstr(&reason));
		} else if (c->bayes_autolearn)
			e->autolearn = bayes_learner_new(e->bayes,
			    (unsigned)c->bayes_autolearn_rate);
	}
	st = e->bayes;
	pthread_mutex_unlock(&e->bayes_lock);
	if (st == NULL && why)
		buf_printf(why, "store cannot be opened: %s", reason.len ?
		    buf_cstr(&reason) : "see the log (retried every 10 s)");
	buf_release(&reason);
	return st;
}

/* put_score - a rule file's score for a built-in symbol; the main
 * configuration's symbol_scores, already in the map, take precedence */
static void
put_score(const char *name, const double *four, void *arg)
{
	struct engine *e = arg;
	double *d;

	if (strmap_get(e->scores, name) != NULL)
		return;
	d = xcalloc(4, sizeof(*d));
	memcpy(d, four, 4 * sizeof(*d));
	strmap_put(e->scores, name, d);
}

/*
 * engine_load_rules - rules_dir then rules_site_dir.  A directory left
 * at its default may be missing (nothing installed yet); one the
 * configuration names must exist.  Any error in a file fails the load
 * (the caller keeps its old engine) with the first one as reason.
 */
static int
engine_load_rules(struct engine *e, struct buf *why)
{
	const struct conf *c = e->conf;
	const char *paths[2];
	const char *dirs[2] = { c->rules_dir, c->rules_site_dir };
	const char *defs[2] = { MW_RULES_DIR, SYSCONFDIR "/mailwarden/rules.d" };
	const char *keys[2] = { "rules_dir", "rules_site_dir" };
	struct rules_options opt;
	struct rules_report rep;
	const struct rules_diag *d;
	size_t n = 0, i;
	int rc = 0;

	for (i = 0; i < 2; i++) {
		if (dirs[i][0] == '\0')
			continue;
		if (access(dirs[i], F_OK) < 0 && strcmp(dirs[i], defs[i]) == 0)
			continue;
		if (access(dirs[i], R_OK) < 0) {
			buf_printf(why, "%s: %s: %s", keys[i], dirs[i],
			    strerror(errno));
			return -1;
		}
		paths[n++] = dirs[i];
	}
	if (n == 0)
		return 0;
	memset(&opt, 0, sizeof(opt));
	opt.match_limit = (unsigned long)c->rules_match_limit;
	opt.body_part_max = (size_t)c->rules_body_part_max;
	opt.rawbody_part_max = (size_t)c->rules_rawbody_part_max;
	opt.score_set = e->score_set;
	if (rules_load(paths, n, &opt, &e->rules, &rep) < 0) {
		d = rules_report_first_error(&rep);
		buf_adds(why, "rules: ");
		rules_diag_format(d, why);
		if (rep.nerrors > 1)
			buf_printf(why, " (and %zu more errors; see "
			    "'mailwarden rules check')", rep.nerrors - 1);
		rc = -1;
	} else {
		rules_score_overrides(e->rules, put_score, e);
		if (rep.nwarnings || rep.nunsupported)
			log_warn("rules: %zu warning(s), %zu unsupported "
			    "construct(s) skipped; see 'mailwarden rules "
			    "check'", rep.nwarnings, rep.nunsupported);
	}
	rules_report_release(&rep);
	return rc;
}

/* engine_dns - the resolver: zone files when configured, else ldns */
static int
engine_dns(struct engine *e, struct buf *why)
{
	const struct conf *c = e->conf;
	struct dns_ldns_conf lc;
	struct dns_opts o;

	dns_opts_default(&o);
	o.cache_size = (size_t)c->dns_cache_size;
	o.max_ttl = (uint32_t)c->dns_cache_max_ttl;
	o.servfail_ttl = (uint32_t)c->dns_servfail_ttl;
	o.timeout_ttl = (uint32_t)c->dns_timeout_ttl;
	o.prefetch_threads = (unsigned)c->dns_prefetch_threads;
	if (c->dns_zone_files.n > 0)
		return dns_zone_open((const char *const *)c->dns_zone_files.v,
		    c->dns_zone_files.n, &o, &e->dns, why);
	memset(&lc, 0, sizeof(lc));
	lc.servers = (const char *const *)c->dns_servers.v;
	lc.nservers = c->dns_servers.n;
	lc.resolv_conf = c->dns_resolv_conf;
	lc.timeout_ms = (double)c->dns_timeout;
	lc.retries = (unsigned)c->dns_retries;
	lc.edns_size = (unsigned)c->dns_edns_size;
	o.query_timeout_ms = 0;		/* timeout * tries * servers */
	return dns_ldns_open(&lc, &o, &e->dns, why);
}

/* engine_scores - symbol_scores into the override map */
static void
engine_scores(struct engine *e)
{
	char name[128];
	double d, *p;
	size_t i;

	for (i = 0; i < e->conf->symbol_scores.n; i++) {
		if (conf_symbol_score(e->conf->symbol_scores.v[i], name,
		    sizeof(name), &d) < 0)
			continue;	/* conf_parse() checked it */
		p = xcalloc(4, sizeof(*p));
		p[0] = p[1] = p[2] = p[3] = d;
		free(strmap_put(e->scores, name, p));
	}
}

int
engine_new(struct conf *c, struct engine **out, struct buf *why)
{
	struct engine *e = xcalloc(1, sizeof(*e));
	const char *paths[LIST_NKINDS];
	int i;

	atomic_init(&e->refs, 1);
	pthread_mutex_init(&e->bayes_lock, NULL);
	e->conf = c;
	e->score_set = conf_score_set_base(c);
	e->score_set_auto = conf_score_set(c) < 0;
	e->scores = strmap_new();
	engine_scores(e);
	paths[LIST_CLIENT] = c->client_list;
	paths[LIST_SENDER] = c->sender_list;
	paths[LIST_HELO] = c->helo_list;
	for (i = 0; i < LIST_NKINDS; i++) {
		if (paths[i][0] == '\0')
			continue;
		if (list_load((enum list_kind)i, paths[i], &e->lists[i],
		    why) < 0)
			goto fail;
	}
	if (load_dkim_keys(e, why) < 0)
		goto fail;
	if (engine_dns(e, why) < 0)
		goto fail;
	if (c->dmarc && str_ieq(c->dmarc_org_domain, "psl") &&
	    psl_load(c->dmarc_psl_file, &e->psl, why) < 0)
		goto fail;
	if (engine_load_rules(e, why) < 0)
		goto fail;
	if (c->dnsbl.n || c->uribl.n) {
		if (dnsbl_new(c, &e->dnsbl, why) < 0)
			goto fail;
		/* URI lists take registered domains: they need the PSL */
		if (e->dnsbl->any_uri && e->psl == NULL &&
		    psl_load(c->dmarc_psl_file, &e->psl, why) < 0)
			goto fail;
	}
	if (check_bayes(c, why) < 0)
		goto fail;
	*out = e;
	return 0;
fail:
	engine_destroy(e);
	*out = NULL;
	return -1;
}

int
engine_load(const char *path, struct engine **out, struct buf *why)
{
	struct conf *c;

	if (conf_load(path, &c, why) < 0) {
		*out = NULL;
		return -1;
	}
	return engine_new(c, out, why);
}

struct engine *
engine_ref(struct engine *e)
{
	if (e)
		atomic_fetch_add(&e->refs, 1);
	return e;
}

void
engine_unref(struct engine *e)
{
	if (e && atomic_fetch_sub(&e->refs, 1) == 1)
		engine_destroy(e);
}

double
engine_score(const struct engine *e, const char *sym, double def)
{
	return engine_score_in(e, sym, def, e->score_set);
}

double
engine_score_in(const struct engine *e, const char *sym, double def,
    unsigned set)
{
	const double *d = strmap_get(e->scores, sym);

	return d ? d[set < 4 ? set : 3] : def;
}

void
engine_set_current(struct engine *e)
{
	struct engine *old;

	engine_ref(e);
	pthread_mutex_lock(&current_lock);
	old = current;
	current = e;
	pthread_mutex_unlock(&current_lock);
	engine_unref(old);
}

struct engine *
engine_current(void)
{
	struct engine *e;

	pthread_mutex_lock(&current_lock);
	e = engine_ref(current);
	pthread_mutex_unlock(&current_lock);
	return e;
}
