/*
 * pstore.h - the policy state store: counters and records with expiry
 *
 * DESCRIPTION
 *	Rate-limit counters, greylisting triplets and spam-trap clients
 *	(policy.c) are numbers under text keys, each with an expiry: a
 *	value that has expired reads as absent (0).  One configuration key
 *	picks the backend (pstore_open()), as bayes_store does:
 *
 *	    /var/lib/mailwarden/policy     LMDB environment (a directory),
 *	                                   for one host: pstore_lmdb.c
 *	    redis://[:PASS@]HOST[:PORT][/DB]
 *	                                   Redis, shared by several MX
 *	                                   hosts: pstore_redis.c
 *
 *	Keys are NUL-terminated text of at most PSTORE_KEY_MAX bytes
 *	(policy.c hashes what could be longer); the Redis backend puts
 *	policy_redis_prefix in front.  Expiry is wall-clock unix time so
 *	that hosts sharing Redis, and processes sharing LMDB, agree.
 *
 *	An opened store is shared by every engine generation of the
 *	process that names the same spec (a reload does not open an LMDB
 *	environment twice, which LMDB forbids); pstore_close() drops one
 *	reference.  Every call is safe from any number of threads.
 *
 *	Updates are not transactions across calls: a counter read with
 *	pstore_get() and raised with pstore_add() by two hosts at once
 *	may let both through.  The limits are approximate by that much.
 *
 * DIAGNOSTICS
 *	PSTORE_OK, PSTORE_ETEMP (Redis down or slow, LMDB map full: the
 *	caller skips the feature and marks the verdict degraded) or
 *	PSTORE_EPERM (will not get better by waiting), with a reason in
 *	why.  No call blocks longer than the Redis timeout.
 */
#ifndef MW_PSTORE_H
#define MW_PSTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct buf;

#define PSTORE_KEY_MAX	200

enum pstore_rc {
	PSTORE_OK = 0,
	PSTORE_ETEMP = -1,
	PSTORE_EPERM = -2
};

struct pstore_opts {
	unsigned timeout_ms;	/* Redis: connect and command timeout */
	unsigned retry_s;	/* Redis: after a failure, skip this long */
	const char *prefix;	/* Redis: key prefix */
	bool	 readonly;	/* LMDB: no writes, do not create (show) */
};

#define PSTORE_OPTS_DEFAULT	{ 200, 5, "mwp:", false }

struct pstore;

struct pstore_ops {
	const char *name;
	int	(*get)(struct pstore *, const char *const *keys, size_t n,
		    time_t now, uint64_t *vals, struct buf *why);
	int	(*add)(struct pstore *, const char *const *keys, size_t n,
		    const uint64_t *add, const unsigned *ttl, time_t now,
		    struct buf *why);
	int	(*set)(struct pstore *, const char *key, uint64_t v,
		    unsigned ttl, time_t now, struct buf *why);
	int	(*del)(struct pstore *, const char *key, bool *found,
		    struct buf *why);
	int	(*iter)(struct pstore *, const char *prefix, time_t now,
		    int (*fn)(const char *key, uint64_t v, time_t expires,
		    void *), void *arg, struct buf *why);
	void	(*close)(struct pstore *);
};

struct pstore {
	const struct pstore_ops *ops;
	char	*spec;			/* as shown (password masked) */
};

/* pstore_is_redis - does spec name a Redis server? */
bool	 pstore_is_redis(const char *spec);
/* pstore_spec_valid - syntax only: a Redis URL or an absolute path */
int	 pstore_spec_valid(const char *spec, struct buf *why);
/* pstore_check - the spec's syntax, and an LMDB directory that is there
   or can be made (nothing opened or created) */
int	 pstore_check(const char *spec, struct buf *why);
/*
 * pstore_open - the store spec names, shared with the other users of
 * the same spec in this process (o may be NULL: defaults)
 */
int	 pstore_open(const char *spec, const struct pstore_opts *,
	    struct pstore **, struct buf *why);
void	 pstore_close(struct pstore **);

/* pstore_get - the values of n keys (absent or expired: 0) */
int	 pstore_get(struct pstore *, const char *const *keys, size_t n,
	    time_t now, uint64_t *vals, struct buf *why);
/*
 * pstore_add - add add[i] to each key's value (absent or expired
 * counts from 0) and let it expire ttl[i] seconds from now (0: never)
 */
int	 pstore_add(struct pstore *, const char *const *keys, size_t n,
	    const uint64_t *add, const unsigned *ttl, time_t now,
	    struct buf *why);
/* pstore_set - key = v, expiring ttl seconds from now (0: never) */
int	 pstore_set(struct pstore *, const char *key, uint64_t v,
	    unsigned ttl, time_t now, struct buf *why);
/* pstore_del - remove key; *found says whether it was there */
int	 pstore_del(struct pstore *, const char *key, bool *found,
	    struct buf *why);
/*
 * pstore_iter - fn for every live key that starts with prefix, in no
 * particular order (expires 0: never); fn returns non-zero to stop
 */
int	 pstore_iter(struct pstore *, const char *prefix, time_t now,
	    int (*fn)(const char *key, uint64_t v, time_t expires, void *),
	    void *arg, struct buf *why);

/* backends */
int	 pstore_lmdb_open(const char *path, const struct pstore_opts *,
	    struct pstore **, struct buf *why);
int	 pstore_redis_open(const char *url, const struct pstore_opts *,
	    struct pstore **, struct buf *why);

/*
 * What the backends read back, decoded apart from the I/O so that it
 * can be tested and fuzzed (tests/fuzz/fuzz_pstore.c): an LMDB value
 * is 16 bytes, uint64 value and uint64 expiry (unix time, 0: never)
 * in host order; anything else, or an expired value, is absent.
 */
#define PSTORE_LMDB_VAL_LEN	16
/* pstore_lmdb_val - 0 and the value and expiry, or -1 (absent) */
int	 pstore_lmdb_val(const void *v, size_t n, time_t now, uint64_t *val,
	    time_t *expires);
void	 pstore_lmdb_put(void *out, uint64_t v, time_t expires);

#endif
