/*
 * engine.h - everything loaded from configuration, shared read-only
 *
 * DESCRIPTION
 *	An engine is one consistent generation of configuration, lists and
 *	(as they land) rules, resolver and token store.  It is built whole
 *	by engine_load(); a failure anywhere leaves nothing half-built.
 *	Milter threads take a reference at the start of a message and drop
 *	it at the end, so a reload (SIGHUP) never changes the rules under a
 *	message in flight; the old generation goes away with its last
 *	reference.
 */
#ifndef MW_ENGINE_H
#define MW_ENGINE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "conf.h"
#include "lists.h"

struct bayes_learner;
struct bayes_store;
struct buf;
struct dkim_signconf;
struct dmarc_opts;
struct dns_resolver;
struct dnsbl;
struct forwarders;
struct msg;
struct ruleset;
struct psl;
struct pstore;
struct strmap;

struct engine {
	atomic_int refs;
	struct conf *conf;
	struct list *lists[LIST_NKINDS];
	struct strmap *scores;		/* symbol name -> double[4] (score
					   sets 0-3), overrides */
	unsigned score_set;		/* conf_score_set_base() */
	bool	 score_set_auto;	/* rules_score_set = auto */
	struct dns_resolver *dns;	/* every check's DNS (may be NULL) */
	struct dkim_signconf *dkim_sign;	/* signing keys, or NULL */
	/* Bayes token store: opened on first use, see engine_bayes() */
	struct bayes_store *bayes;
	struct bayes_learner *autolearn; /* with the store, if configured */
	pthread_mutex_t bayes_lock;
	double	 bayes_retry;		/* no new open attempt before (mono s) */
	bool	 bayes_own;		/* a scope that opened a store of its
					   own (bayes_store, or Redis
					   bayes_redis_prefix, of its own) */
	/* policy state store (pstore.h): opened on first use, see
	   engine_pstore(); under bayes_lock, the lock of lazy stores */
	struct pstore *pstore;
	double	 pstore_retry;		/* no new open attempt before (mono s) */
	struct ruleset *rules;		/* compiled rule files (may be NULL) */
	struct dnsbl *dnsbl;		/* blocklist zones (may be NULL) */
	struct psl *psl;		/* dmarc_org_domain = psl only */
	struct forwarders *forwarders;	/* dmarc_trusted_forwarders and
					   arc_trusted_sealers, parsed */

	/*
	 * Policy scopes (scope.h).  The main generation owns them; each
	 * scope has an engine of its own whose conf is the scope's, whose
	 * symbol scores and overridden lists are its own, and which
	 * shares every other part and the reference count of its root.
	 */
	struct engine *root;		/* NULL for the main generation */
	struct scope_set *scopes;	/* main generation only, or NULL */
	const struct scope *scope;	/* the scope this engine applies */
	bool	 traps;			/* main generation: a scope is a spam
					   trap (rcpt_reject), policy.h */
	unsigned owned;			/* ENGINE_OWN_* parts of a scope */
	bool	 read_only;		/* main generation: write no state
					   (replay); engine_read_only() */
};

#define ENGINE_OWN_PSL	(1u << LIST_NKINDS)	/* bits below: lists */

/*
 * engine_new - build from a parsed configuration (takes ownership).
 * Every part is tried even after one failed; each error is one line
 * of why, "CONF:LINE: key: " and the problem (with the referenced
 * file's own FILE:LINE where it has one).  -1 if there was any.
 */
int	 engine_new(struct conf *, struct engine **, struct buf *why);
/*
 * engine_load - conf_load(path) then engine_new(); after errors in the
 * file itself, what it names is still loaded (and then dropped) so that
 * why holds every error of the run
 */
int	 engine_load(const char *path, struct engine **, struct buf *why);
struct engine *engine_ref(struct engine *);
void	 engine_unref(struct engine *);
/*
 * engine_bayes - the Bayes store, opened on the first call (so that the
 * daemon opens it after it has forked and dropped privileges: LMDB must
 * not be used across fork, and its files belong to the service user);
 * NULL with a reason when Bayes is off or the store cannot be opened
 * now (retried at most every 10 seconds).  Thread-safe.  A scope that
 * sets bayes_store (or, on Redis, bayes_redis_prefix) has a store of
 * its own, shared with the scopes that name the same; the others use
 * the root's.
 */
struct bayes_store *engine_bayes(struct engine *, struct buf *why);

/*
 * engine_pstore - the policy store (policy_store), opened on the first
 * call like engine_bayes(), and the root's for a scope; NULL with a
 * reason when none is configured or it cannot be opened now (retried
 * at most every 10 seconds).  Thread-safe.
 */
struct pstore *engine_pstore(struct engine *, struct buf *why);
/*
 * engine_read_only - true when the generation e belongs to (a scope
 * asks its root) must write nothing: no DMARC aggregate records or
 * failure reports, no Bayes learning (the store opens read-only), no
 * policy store writes, no samples.  `mailwarden replay` sets it with
 * engine_set_read_only() before the first scan; every writer of the
 * pipeline checks it, so no configuration key (a scope's own
 * bayes_store included) can turn a write back on.
 */
bool	 engine_read_only(const struct engine *);
void	 engine_set_read_only(struct engine *);
/*
 * engine_swap_dns - make d the resolver of e and of every scope engine
 * of e; the previous one is returned (the caller keeps owning both)
 */
struct dns_resolver *engine_swap_dns(struct engine *, struct dns_resolver *d);
/* engine_dmarc_opts - DMARC discovery settings (dmarc_org_domain etc.) */
void	 engine_dmarc_opts(const struct engine *, struct dmarc_opts *);
/*
 * engine_resolver_open - the resolver a configuration describes (what
 * the milter uses), with the command-line overrides of ov (may be
 * NULL): zone files, then servers, replace the configured ones;
 * timeout_ms <= 0 and retries < 0 keep the configured values.
 */
struct resolver_override {
	const char *const *zones;
	size_t	 nzones;
	const char *const *servers;
	size_t	 nservers;
	double	 timeout_ms;
	long	 retries;
	bool	 no_prefetch;		/* one-shot commands: no threads */
};
int	 engine_resolver_open(const struct conf *,
	    const struct resolver_override *, struct dns_resolver **,
	    struct buf *why);

/* engine_score - configured score of a symbol in the engine's score
 * set, or def; engine_score_in - the same in score set 0-3 */
double	 engine_score(const struct engine *, const char *sym, double def);
double	 engine_score_in(const struct engine *, const char *sym, double def,
	    unsigned set);

/*
 * engine_for_scope - the engine of the scope the message of m takes
 * for recipient rcpt (scope_select()), or e itself; no new reference
 */
struct engine *engine_for_scope(struct engine *, const struct msg *,
	    const char *rcpt);

/*
 * engine_set_daemon - engines loaded from now on are the milter
 * daemon's (long-lived: rules_hyperscan = auto prefilters with
 * Hyperscan); call before the first engine_load
 */
void	 engine_set_daemon(bool);

/* the generation new messages use; thread-safe */
void	 engine_set_current(struct engine *);	/* takes a reference */
struct engine *engine_current(void);		/* returns a new reference */

#endif
