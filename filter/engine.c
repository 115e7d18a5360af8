/*
 * engine.c - load, share and swap configuration generations
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bayes_learn.h"
#include "bayes_store.h"
#include "buf.h"
#include "dkim.h"
#include "dmarc.h"
#include "dns.h"
#include "dnsbl.h"
#include "engine.h"
#include "files.h"
#include "forwarders.h"
#include "log.h"
#include "psl.h"
#include "pstore.h"
#include "rules.h"
#include "sample_store.h"
#include "scope.h"
#include "str.h"
#include "strmap.h"

static pthread_mutex_t current_lock = PTHREAD_MUTEX_INITIALIZER;
static struct engine *current;

/* scope_engine_free - a scope's engine: only the parts it owns */
static void
scope_engine_free(struct engine *e)
{
	int i;

	for (i = 0; i < LIST_NKINDS; i++)
		if (e->owned & (1u << i))
			list_free(e->lists[i]);
	if (e->owned & ENGINE_OWN_PSL)
		psl_free(e->psl);
	if (e->bayes_own) {
		bayes_learner_free(e->autolearn);	/* before its store */
		bayes_store_close(&e->bayes);
	}
	strmap_free(e->scores, free);
	pthread_mutex_destroy(&e->bayes_lock);
	free(e);
}

static void
scopes_free(struct scope_set *set)
{
	size_t i;

	if (set == NULL)
		return;
	for (i = 0; i < set->n; i++)
		if (set->v[i].eng)
			scope_engine_free(set->v[i].eng);
	scope_set_release(set);
	free(set);
}

static void
engine_destroy(struct engine *e)
{
	int i;

	scopes_free(e->scopes);		/* they borrow from e */
	bayes_learner_free(e->autolearn);	/* before its store */
	bayes_store_close(&e->bayes);
	pstore_close(&e->pstore);
	pthread_mutex_destroy(&e->bayes_lock);
	for (i = 0; i < LIST_NKINDS; i++)
		list_free(e->lists[i]);
	strmap_free(e->scores, free);
	rules_free(e->rules);
	dnsbl_free(e->dnsbl);
	dns_resolver_free(e->dns);
	dkim_signconf_free(e->dkim_sign);
	psl_free(e->psl);
	forwarders_free(e->forwarders);
	conf_free(e->conf);
	free(e);
}

/*
 * key_error - the error lines of reason, each as "FILE:LINE: key: "
 * (where the configuration sets key) and the line; reason is reset
 */
static void
key_error(const struct conf *c, const char *key, struct buf *reason,
    struct buf *why)
{
	const char *p = buf_cstr(reason), *nl;

	do {
		nl = strchr(p, '\n');
		buf_newline(why);
		conf_where(c, key, why);
		buf_add(why, p, nl ? (size_t)(nl - p) : strlen(p));
		p = nl + 1;
	} while (nl);
	buf_reset(reason);
}

/* load_dkim_keys - signing keys of dkim_sign_domains (file I/O here) */
static int
load_dkim_keys(struct engine *e, struct buf *reason)
{
	const struct conf *c = e->conf;
	struct dkim_signopts o;

	if (c->dkim_sign_domains.n == 0)
		return 0;
	o.keys = &c->dkim_sign_domains;
	o.headers = &c->dkim_sign_headers;
	o.oversign = &c->dkim_oversign_headers;
	o.canon = c->dkim_sign_canon;
	o.expire = c->dkim_sign_expire;
	return dkim_signconf_load(&o, &e->dkim_sign, reason);
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
check_bayes(const struct conf *c, struct buf *reason)
{
	if (c->bayes_store[0] == '\0')
		return 0;
	return bayes_store_check(c->bayes_store, reason);
}

/* opened - a lazily opened store, or NULL and why it is not there */
static void *
opened(void *st, struct buf *reason, struct buf *why)
{
	if (st == NULL && why)
		buf_printf(why, "store cannot be opened: %s", reason->len ?
		    buf_cstr(reason) : "see the log (retried every 10 s)");
	buf_release(reason);
	return st;
}

/* same_bayes - do two configurations name one Bayes store? */
static bool
same_bayes(const struct conf *a, const struct conf *b)
{
	return strcmp(a->bayes_store, b->bayes_store) == 0 &&
	    (!str_has_iprefix(a->bayes_store, "redis://") ||
	    strcmp(a->bayes_redis_prefix, b->bayes_redis_prefix) == 0);
}

/*
 * bayes_owner - the engine that opens the Bayes store of scope engine
 * e: its root when the scope names the root's store (bayes_store and,
 * for Redis, bayes_redis_prefix), else the first scope that names the
 * same one, so that a generation has one open store per distinct spec
 */
static struct engine *
bayes_owner(struct engine *e)
{
	const struct scope_set *set = e->root->scopes;
	size_t i;

	if (same_bayes(e->conf, e->root->conf))
		return e->root;
	for (i = 0; i < set->n; i++)
		if (set->v[i].eng && same_bayes(e->conf, set->v[i].eng->conf))
			return set->v[i].eng;
	return e;
}

/* open_bayes - open e's store (and autolearner) unless it is open or
 * failed less than BAYES_RETRY_S ago; the store or NULL */
static struct bayes_store *
open_bayes(struct engine *e, struct buf *reason)
{
	const struct conf *c = e->conf;
	struct bayes_store *st;
	double now;

	pthread_mutex_lock(&e->bayes_lock);
	if (e->bayes == NULL && (now = mono_s()) >= e->bayes_retry) {
		if (bayes_store_open_conf(c, NULL, engine_read_only(e),
		    &e->bayes, reason) != BAYES_OK) {
			e->bayes_retry = now + BAYES_RETRY_S;
			log_err("bayes_store%s%s: %s", e->scope ? " of scope " :
			    "", e->scope ? e->scope->name : "",
			    buf_cstr(reason));
		} else {
			e->bayes_own = e->root != NULL;	/* a scope's */
			if (c->bayes_autolearn && !engine_read_only(e))
				e->autolearn = bayes_learner_new(e->bayes,
				    (unsigned)c->bayes_autolearn_rate);
		}
	}
	st = e->bayes;
	pthread_mutex_unlock(&e->bayes_lock);
	return st;
}

/*
 * scope_bayes - a scope uses the store and autolearner of its Bayes
 * owner (bayes_owner()), or opens its own; borrowed pointers are copied
 * under the scope's lock, so a thread that then reads e->autolearn sees
 * what the owner's open wrote
 */
static struct bayes_store *
scope_bayes(struct engine *e, struct buf *reason, struct buf *why)
{
	struct engine *owner = bayes_owner(e);
	struct bayes_store *st;

	if (owner == e)
		return opened(open_bayes(e, reason), reason, why);
	buf_release(reason);
	st = engine_bayes(owner, why);
	pthread_mutex_lock(&e->bayes_lock);
	if (e->bayes == NULL && st) {
		e->bayes = st;
		e->autolearn = owner->autolearn;
	}
	pthread_mutex_unlock(&e->bayes_lock);
	return st;
}

struct bayes_store *
engine_bayes(struct engine *e, struct buf *why)
{
	struct buf reason = BUF_INIT;

	if (e->conf->bayes_store[0] == '\0') {
		if (why)
			buf_adds(why, "no Bayes store configured");
		return NULL;
	}
	if (e->root)
		return scope_bayes(e, &reason, why);
	return opened(open_bayes(e, &reason), &reason, why);
}

struct pstore *
engine_pstore(struct engine *e, struct buf *why)
{
	const struct conf *c;
	struct pstore_opts o = PSTORE_OPTS_DEFAULT;
	struct pstore *st;
	struct buf reason = BUF_INIT;
	double now;

	if (e->root)
		e = e->root;
	c = e->conf;
	if (c->policy_store[0] == '\0') {
		if (why)
			buf_adds(why, "no policy_store configured");
		return NULL;
	}
	o.timeout_ms = (unsigned)c->policy_redis_timeout;
	o.retry_s = (unsigned)c->policy_redis_retry;
	o.prefix = c->policy_redis_prefix;
	o.readonly = e->read_only;
	pthread_mutex_lock(&e->bayes_lock);
	if (e->pstore == NULL && (now = mono_s()) >= e->pstore_retry &&
	    pstore_open(c->policy_store, &o, &e->pstore, &reason) !=
	    PSTORE_OK) {
		e->pstore_retry = now + BAYES_RETRY_S;
		log_err("policy_store: %s", buf_cstr(&reason));
	}
	st = e->pstore;
	pthread_mutex_unlock(&e->bayes_lock);
	return opened(st, &reason, why);
}

bool
engine_read_only(const struct engine *e)
{
	return (e->root ? e->root : e)->read_only;
}

void
engine_set_read_only(struct engine *e)
{
	(e->root ? e->root : e)->read_only = true;
}

struct dns_resolver *
engine_swap_dns(struct engine *e, struct dns_resolver *d)
{
	struct dns_resolver *old = e->dns;
	size_t i;

	e->dns = d;
	for (i = 0; e->scopes && i < e->scopes->n; i++)
		if (e->scopes->v[i].eng)
			e->scopes->v[i].eng->dns = d;
	return old;
}

/* put_score - a rule file's score for a built-in symbol; the main
 * configuration's symbol_scores, already in the map, take precedence */
static void
put_score(const char *name, const struct rules_score *rsc, void *arg)
{
	struct engine *e = arg;
	double *d;

	if (strmap_get(e->scores, name) != NULL)
		return;
	d = xcalloc(4, sizeof(*d));
	memcpy(d, rsc->four, 4 * sizeof(*d));
	strmap_put(e->scores, name, d);
}

/*
 * rule_dir_key - the key naming the directory a rule file is in (the
 * site directory when both are nested: it is the more specific)
 */
static const char *
rule_dir_key(const struct conf *c, const char *file)
{
	size_t n = strlen(c->rules_site_dir);

	if (n && strncmp(file, c->rules_site_dir, n) == 0)
		return "rules_site_dir";
	return "rules_dir";
}

/* rules_errors - every error of a rules load, with its directory key */
static void
rules_errors(const struct conf *c, const struct rules_report *rep,
    struct buf *why)
{
	struct buf line = BUF_INIT;
	size_t i;

	for (i = 0; i < rep->n; i++) {
		if (rep->v[i].kind != RULES_DIAG_ERROR)
			continue;
		rules_diag_format(&rep->v[i], &line);
		key_error(c, rule_dir_key(c, rep->v[i].file), &line, why);
	}
	buf_release(&line);
}

/* the process is the milter daemon (engine_set_daemon) */
static bool engine_daemon;

void
engine_set_daemon(bool daemon)
{
	engine_daemon = daemon;
}

/*
 * engine_load_rules - rules_dir then rules_site_dir.  A directory left
 * at its default may be missing (nothing installed yet); one the
 * configuration names must exist.  Any error in a file fails the load
 * (the caller keeps its old engine); every error is reported.
 */
static int
engine_load_rules(struct engine *e, struct buf *why)
{
	const struct conf *c = e->conf;
	const char *paths[2];
	const char *dirs[2] = { c->rules_dir, c->rules_site_dir };
	const char *defs[2] = { MW_RULES_DIR, SYSCONFDIR "/mailwarden/rules.d" };
	const char *keys[2] = { "rules_dir", "rules_site_dir" };
	struct buf reason = BUF_INIT;
	struct rules_options opt;
	struct rules_report rep;
	size_t n = 0, i;
	int rc = 0;

	for (i = 0; i < 2; i++) {
		if (dirs[i][0] == '\0')
			continue;
		if (access(dirs[i], F_OK) < 0 && strcmp(dirs[i], defs[i]) == 0)
			continue;
		if (access(dirs[i], R_OK) < 0) {
			buf_printf(&reason, "%s: %s", dirs[i], strerror(errno));
			key_error(c, keys[i], &reason, why);
			rc = -1;
			continue;
		}
		paths[n++] = dirs[i];
	}
	buf_release(&reason);
	if (n == 0 || rc < 0)
		return rc;
	memset(&opt, 0, sizeof(opt));
	opt.match_limit = (unsigned long)c->rules_match_limit;
	opt.no_hyperscan = !conf_hyperscan(c, engine_daemon);
	opt.body_part_max = (size_t)c->rules_body_part_max;
	opt.rawbody_part_max = (size_t)c->rules_rawbody_part_max;
	opt.score_set = e->score_set;
	if (rules_load(paths, n, &opt, &e->rules, &rep) < 0) {
		rules_errors(c, &rep, why);
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

/*
 * engine_resolver_open - the resolver of a configuration: zone files
 * when configured (or given in ov), else ldns with the configured (or
 * given) servers, timeout and retries.  The milter and every command
 * that resolves build it here, so they ask the same servers.
 */
int
engine_resolver_open(const struct conf *c, const struct resolver_override *ov,
    struct dns_resolver **out, struct buf *why)
{
	static const struct resolver_override none = { .retries = -1 };
	struct dns_ldns_conf lc;
	struct dns_opts o;

	if (ov == NULL)
		ov = &none;
	dns_opts_default(&o);
	o.cache_size = (size_t)c->dns_cache_size;
	o.max_ttl = (uint32_t)c->dns_cache_max_ttl;
	o.servfail_ttl = (uint32_t)c->dns_servfail_ttl;
	o.timeout_ttl = (uint32_t)c->dns_timeout_ttl;
	o.prefetch_threads = ov->no_prefetch ? 0 :
	    (unsigned)c->dns_prefetch_threads;
	if (ov->nzones > 0)
		return dns_zone_open(ov->zones, ov->nzones, &o, out, why);
	if (ov->nservers == 0 && c->dns_zone_files.n > 0)
		return dns_zone_open((const char *const *)c->dns_zone_files.v,
		    c->dns_zone_files.n, &o, out, why);
	memset(&lc, 0, sizeof(lc));
	lc.servers = ov->nservers ? ov->servers :
	    (const char *const *)c->dns_servers.v;
	lc.nservers = ov->nservers ? ov->nservers : c->dns_servers.n;
	lc.resolv_conf = c->dns_resolv_conf;
	lc.timeout_ms = ov->timeout_ms > 0 ? ov->timeout_ms :
	    (double)c->dns_timeout;
	lc.retries = ov->retries >= 0 ? (unsigned)ov->retries :
	    (unsigned)c->dns_retries;
	lc.edns_size = (unsigned)c->dns_edns_size;
	o.query_timeout_ms = 0;		/* timeout * tries * servers */
	return dns_ldns_open(&lc, &o, out, why);
}

void
engine_dmarc_opts(const struct engine *e, struct dmarc_opts *o)
{
	o->mode = str_ieq(e->conf->dmarc_org_domain, "psl") ? DMARC_ORG_PSL :
	    DMARC_ORG_TREEWALK;
	o->psl = e->psl;
	o->max_queries = (unsigned)e->conf->dmarc_max_queries;
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

/* dns_key - the key whose value the resolver is built from */
static const char *
dns_key(const struct conf *c)
{
	if (c->dns_zone_files.n)
		return "dns_zone_files";
	return c->dns_servers.n ? "dns_servers" : "dns_resolv_conf";
}

/* list_path - the file of list kind i */
static const char *
list_path(const struct conf *c, int i)
{
	switch (i) {
	case LIST_CLIENT:
		return c->client_list;
	case LIST_SENDER:
		return c->sender_list;
	case LIST_HELO:
		return c->helo_list;
	case LIST_WELCOME_AUTH:
		return c->welcomelist_auth;
	case LIST_DKIM_DOMAIN:
		return c->dkim_allowlist;
	}
	return "";
}

/*
 * load_lists - the access lists; every list's errors.  A scope's
 * engine borrows the lists of its root whose file is the same.
 */
static int
load_lists(struct engine *e, struct buf *why)
{
	static const char *const keys[LIST_NKINDS] = {
		[LIST_CLIENT] = "client_list",
		[LIST_SENDER] = "sender_list",
		[LIST_HELO] = "helo_list",
		[LIST_WELCOME_AUTH] = "welcomelist_auth",
		[LIST_DKIM_DOMAIN] = "dkim_allowlist",
	};
	const struct conf *c = e->conf;
	const char *path;
	struct buf reason = BUF_INIT;
	int i, rc = 0;

	for (i = 0; i < LIST_NKINDS; i++) {
		if ((path = list_path(c, i))[0] == '\0')
			continue;
		if (e->root && strcmp(path, list_path(e->root->conf, i)) == 0) {
			e->lists[i] = e->root->lists[i];
			continue;
		}
		e->owned |= 1u << i;
		if (list_load((enum list_kind)i, path, &e->lists[i],
		    &reason) < 0) {
			key_error(c, keys[i], &reason, why);
			rc = -1;
		}
	}
	buf_release(&reason);
	return rc;
}

/* dnsbl_key - a DNS list key that is set, to name in an error */
static const char *
dnsbl_key(const struct conf *c)
{
	return c->dnsbl.n ? "dnsbl" : c->dnswl.n ? "dnswl" :
	    c->uribl.n ? "uribl" : "dbl";
}

/* part - the outcome of loading one part: its error lines, if any */
static int
part(const struct conf *c, int rc, const char *key, struct buf *reason,
    struct buf *why)
{
	if (rc < 0)
		key_error(c, key, reason, why);
	return rc < 0 ? -1 : 0;
}

static int load_scopes(struct engine *, struct buf *);

/*
 * load_parts - everything the configuration names, each part tried
 * even when an earlier one failed, so that every error is reported
 */
static int
load_parts(struct engine *e, struct buf *why)
{
	const struct conf *c = e->conf;
	bool psl = c->dmarc && str_ieq(c->dmarc_org_domain, "psl");
	struct buf r = BUF_INIT;
	int rc = load_lists(e, why);

	rc |= part(c, load_dkim_keys(e, &r), "dkim_sign_domains", &r, why);
	rc |= part(c, engine_resolver_open(c, NULL, &e->dns, &r), dns_key(c),
	    &r, why);
	if (psl)
		rc |= part(c, psl_load(c->dmarc_psl_file, &e->psl, &r),
		    "dmarc_psl_file", &r, why);
	rc |= engine_load_rules(e, why);
	if (c->dnsbl.n || c->uribl.n || c->dnswl.n || c->dbl.n)
		rc |= part(c, dnsbl_new(c, &e->dnsbl, &r), dnsbl_key(c), &r,
		    why);
	/*
	 * URI and domain lists take registered domains, and the auth
	 * allowlist aligns by them: they need the PSL
	 */
	if (((e->dnsbl && (e->dnsbl->any_uri || e->dnsbl->any_domain)) ||
	    e->lists[LIST_WELCOME_AUTH]) && !psl)
		rc |= part(c, psl_load(c->dmarc_psl_file, &e->psl, &r),
		    "dmarc_psl_file", &r, why);
	rc |= part(c, check_bayes(c, &r), "bayes_store", &r, why);
	if (c->policy_store[0])
		rc |= part(c, pstore_check(c->policy_store, &r),
		    "policy_store", &r, why);
	if (c->sample_dir[0])
		rc |= part(c, sample_store_check(c->sample_dir, &r),
		    "sample_dir", &r, why);
	rc |= load_scopes(e, why);
	buf_release(&r);
	return rc < 0 ? -1 : 0;
}

/*
 * need_psl - the PSL is needed: for dmarc_org_domain = psl, and for
 * lists that take registered domains or align by them
 */
static bool
need_psl(const struct engine *e)
{
	const struct conf *c = e->conf;

	return (c->dmarc && str_ieq(c->dmarc_org_domain, "psl")) ||
	    (e->dnsbl && (e->dnsbl->any_uri || e->dnsbl->any_domain)) ||
	    e->lists[LIST_WELCOME_AUTH];
}

/*
 * scope_engine - the engine of one scope: its own scores and the lists
 * it names, the rest borrowed from root
 */
static int
scope_engine(struct engine *root, struct scope *sc, struct buf *why)
{
	struct engine *e = xcalloc(1, sizeof(*e));
	struct buf r = BUF_INIT;
	int rc;

	pthread_mutex_init(&e->bayes_lock, NULL);
	e->root = root;
	e->scope = sc;
	e->conf = sc->conf;
	e->score_set = root->score_set;
	e->score_set_auto = root->score_set_auto;
	e->scores = strmap_new();
	engine_scores(e);
	if (root->rules)
		rules_score_overrides(root->rules, put_score, e);
	e->dns = root->dns;
	e->dkim_sign = root->dkim_sign;
	e->rules = root->rules;
	e->dnsbl = root->dnsbl;
	e->psl = root->psl;
	e->forwarders = root->forwarders;	/* not keys a scope sets */
	sc->eng = e;
	rc = load_lists(e, why);
	/* a store of its own: checked as the main one is (that one was) */
	if (strcmp(e->conf->bayes_store, root->conf->bayes_store) != 0)
		rc |= part(e->conf, check_bayes(e->conf, &r), "bayes_store",
		    &r, why);
	if (e->psl == NULL && need_psl(e)) {
		e->owned |= ENGINE_OWN_PSL;
		rc |= part(e->conf, psl_load(e->conf->dmarc_psl_file, &e->psl,
		    &r), "dmarc_psl_file", &r, why);
	}
	buf_release(&r);
	return rc < 0 ? -1 : 0;
}

/* load_scopes - scope_dir, and an engine for each scope */
static int
load_scopes(struct engine *e, struct buf *why)
{
	struct scope_set set;
	size_t i;
	int rc;

	if ((rc = scope_load(e->conf, &set, why)) < 0 || set.n == 0)
		return rc;
	e->scopes = xmalloc(sizeof(set));
	*e->scopes = set;
	for (i = 0; i < set.n; i++) {
		rc |= scope_engine(e, &e->scopes->v[i], why);
		if (e->scopes->v[i].trap_code[0])
			e->traps = true;
	}
	return rc < 0 ? -1 : 0;
}

struct engine *
engine_for_scope(struct engine *e, const struct msg *m, const char *rcpt)
{
	const struct scope *sc;

	if (e->scopes == NULL)
		return e;
	sc = scope_select(e->scopes, e->conf, m, rcpt);
	return sc ? sc->eng : e;
}

int
engine_new(struct conf *c, struct engine **out, struct buf *why)
{
	struct engine *e = xcalloc(1, sizeof(*e));
	const struct passwd *pw;

	/* as root, keys may belong to the user the daemon becomes */
	if (geteuid() == 0 && c->user[0] && (pw = getpwnam(c->user)) != NULL)
		files_secret_owner(pw->pw_uid);
	atomic_init(&e->refs, 1);
	pthread_mutex_init(&e->bayes_lock, NULL);
	e->conf = c;
	e->score_set = conf_score_set_base(c);
	e->score_set_auto = conf_score_set(c) < 0;
	e->scores = strmap_new();
	engine_scores(e);
	e->forwarders = forwarders_new(c);
	if (load_parts(e, why) < 0) {
		engine_destroy(e);
		*out = NULL;
		return -1;
	}
	*out = e;
	return 0;
}

int
engine_load(const char *path, struct engine **out, struct buf *why)
{
	struct conf *c;
	int rc;

	/* a bad file is still followed through, for every error at once */
	if ((rc = conf_load_all(path, &c, why)) < 0 && c == NULL) {
		*out = NULL;
		return -1;
	}
	if (engine_new(c, out, why) < 0)
		return -1;
	if (rc < 0) {
		engine_unref(*out);
		*out = NULL;
	}
	return rc;
}

/* a scope's engine lives as long as its root: one count for both */
struct engine *
engine_ref(struct engine *e)
{
	if (e)
		atomic_fetch_add(&(e->root ? e->root : e)->refs, 1);
	return e;
}

void
engine_unref(struct engine *e)
{
	if (e && e->root)
		e = e->root;
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
