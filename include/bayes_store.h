/*
 * bayes_store.h - the Bayes token database behind one small vtable
 *
 * DESCRIPTION
 *	A store keeps, for every token hash, how many learned spam and ham
 *	messages held the token and when it was last learned; the numbers
 *	of spam and ham messages learned; and the digest of every learned
 *	message with its class, so that learning is idempotent.
 *
 *	One configuration key picks the backend (bayes_store_open()):
 *
 *	    /var/lib/mailwarden/bayes      LMDB environment (a directory),
 *	                                   bayes_store_lmdb.c
 *	    redis://[:PASS@]HOST[:PORT][/DB]
 *	                                   Redis via hiredis, shared by
 *	                                   several MTA hosts,
 *	                                   bayes_store_redis.c
 *
 *	Reads (bayes_store_lookup) are safe from any number of threads.
 *	Writes (bayes_store_learn) are serialised by the backend: LMDB has
 *	one writer at a time across processes while readers keep reading
 *	their snapshot; Redis applies each message atomically in a script.
 *
 *	Learning a message: the caller gives the message digest, its class
 *	and its token hashes.  If the digest is already known with the same
 *	class nothing changes (BAYES_LEARN_KNOWN); known with the other
 *	class, the old counts are taken back first (BAYES_LEARN_RELEARNED);
 *	forgetting takes them back and drops the digest.  Counts never go
 *	below zero.
 *
 * DIAGNOSTICS
 *	Every call returns BAYES_OK, BAYES_ETEMP (try again later: Redis
 *	down or timed out, LMDB reader table full) or BAYES_EPERM (will not
 *	get better by waiting: corrupt or foreign database, permission
 *	denied), with a reason in why.  The scan step turns ETEMP into a
 *	skipped, 'degraded' Bayes result; nothing here ever blocks longer
 *	than the configured timeout.
 */
#ifndef MW_BAYES_STORE_H
#define MW_BAYES_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "bayes.h"

struct buf;

#define BAYES_STORE_FORMAT	1	/* layout version, in the meta data */

enum bayes_rc {
	BAYES_OK = 0,
	BAYES_ETEMP = -1,
	BAYES_EPERM = -2
};

enum bayes_class {
	BAYES_HAM = 0,
	BAYES_SPAM = 1
};

enum bayes_learn_op {
	BAYES_OP_LEARN,
	BAYES_OP_FORGET
};

enum bayes_learn_outcome {
	BAYES_LEARN_NEW,	/* counted */
	BAYES_LEARN_KNOWN,	/* same digest, same class: unchanged */
	BAYES_LEARN_RELEARNED,	/* same digest, other class: moved */
	BAYES_LEARN_FORGOTTEN,	/* taken back */
	BAYES_LEARN_UNKNOWN	/* forget of a digest never learned */
};

/* one message to learn or forget */
struct bayes_learn_msg {
	uint8_t	 digest[BAYES_DIGEST_LEN];
	enum bayes_class cls;
	enum bayes_learn_op op;
	const uint64_t *hashes;
	size_t	 nhashes;
	enum bayes_learn_outcome outcome;	/* set by the store */
};

struct bayes_totals {
	uint64_t nspam, nham;	/* messages learned */
};

struct bayes_stats {
	const char *backend;	/* "lmdb", "redis" */
	struct bayes_totals tot;
	uint64_t ntokens;
	uint64_t ndigests;
	uint64_t bytes;		/* on disk / in memory, 0 if unknown */
	time_t	 created;	/* 0 if unknown */
	time_t	 last_learn;
	time_t	 oldest_seen;	/* over tokens; 0 if none */
	time_t	 newest_seen;
	unsigned format;
	unsigned tokenizer;	/* BAYES_TOKENIZER_VERSION when learned */
};

/* dump records (bayes_store_iter) and load records (bayes_store_put) */
enum bayes_rec_kind {
	BAYES_REC_TOTALS,
	BAYES_REC_TOKEN,
	BAYES_REC_DIGEST
};

struct bayes_rec {
	enum bayes_rec_kind kind;
	struct bayes_totals tot;		/* TOTALS */
	uint64_t hash;				/* TOKEN */
	struct bayes_counts counts;		/* TOKEN */
	uint8_t	 digest[BAYES_DIGEST_LEN];	/* DIGEST */
	enum bayes_class cls;			/* DIGEST */
	uint32_t when;				/* DIGEST: learned at */
};

struct bayes_store_opts {
	uint64_t map_size;	/* LMDB: bytes of address space */
	unsigned timeout_ms;	/* Redis: connect and command timeout */
	unsigned retry_s;	/* Redis: after a failure, skip this long */
	const char *prefix;	/* Redis: key prefix */
	bool	 readonly;	/* LMDB: no writes (stats, dump) */
	uint64_t memory_max;	/* LMDB: bytes for the token counts in
				   memory; 0: none */
	unsigned rebuild_ms;	/* LMDB: least time between two copies */
};

#define BAYES_STORE_OPTS_DEFAULT \
	{ 1024ULL * 1024 * 1024, 500, 5, "mwb:", false, \
	  64ULL * 1024 * 1024, 1000 }

struct bayes_store;

struct bayes_store_ops {
	const char *name;
	int	(*lookup)(struct bayes_store *, const uint64_t *h, size_t n,
		    struct bayes_counts *out, struct bayes_totals *,
		    struct buf *why);
	int	(*learn)(struct bayes_store *, struct bayes_learn_msg *, size_t,
		    time_t now, struct buf *why);
	int	(*stats)(struct bayes_store *, struct bayes_stats *,
		    struct buf *why);
	int	(*iter)(struct bayes_store *,
		    int (*fn)(const struct bayes_rec *, void *), void *arg,
		    struct buf *why);
	int	(*put)(struct bayes_store *, const struct bayes_rec *, size_t,
		    struct buf *why);
	int	(*prune)(struct bayes_store *, time_t before, uint32_t max_total,
		    uint64_t *removed, struct buf *why);
	void	(*close)(struct bayes_store *);
	/* usage - map size and bytes in use, O(1); NULL: not known */
	int	(*usage)(struct bayes_store *, uint64_t *map, uint64_t *used);
};

struct bayes_store {
	const struct bayes_store_ops *ops;
	char	*spec;		/* as configured, password masked */
};

/* bayes_store_is_redis - does spec name the Redis backend? */
bool	 bayes_store_is_redis(const char *spec);
/*
 * bayes_store_open - open (LMDB: create if missing, unless readonly)
 * the store spec names.  Redis is contacted lazily: opening never fails
 * for an unreachable server, only for a malformed URL.
 */
int	 bayes_store_open(const char *spec, const struct bayes_store_opts *,
	    struct bayes_store **, struct buf *why);
void	 bayes_store_close(struct bayes_store **);
/* bayes_store_spec_valid - syntax only: a Redis URL or an absolute path */
int	 bayes_store_spec_valid(const char *spec, struct buf *why);
/*
 * bayes_store_check - plausibility of a spec without opening or
 * creating anything: a well-formed Redis URL, or an LMDB directory that
 * exists or whose parent does.  0, or -1 with a reason.
 */
int	 bayes_store_check(const char *spec, struct buf *why);

/* bayes_store_lookup - counts of n hashes and the totals, one snapshot */
int	 bayes_store_lookup(struct bayes_store *, const uint64_t *h, size_t n,
	    struct bayes_counts *out, struct bayes_totals *, struct buf *why);
/* bayes_store_learn - learn/forget a batch; sets each msg's outcome */
int	 bayes_store_learn(struct bayes_store *, struct bayes_learn_msg *,
	    size_t n, time_t now, struct buf *why);
int	 bayes_store_stats(struct bayes_store *, struct bayes_stats *,
	    struct buf *why);
/*
 * bayes_store_usage - the LMDB map's size and the bytes in use (up to
 * its last page), read without a scan (for metrics at scrape time); -1
 * for a backend without a map (Redis)
 */
int	 bayes_store_usage(struct bayes_store *, uint64_t *map_bytes,
	    uint64_t *used_bytes);
/* bayes_store_iter - totals first, then every token, then digests */
int	 bayes_store_iter(struct bayes_store *,
	    int (*fn)(const struct bayes_rec *, void *), void *arg,
	    struct buf *why);
/* bayes_store_put - set records verbatim (load); TOTALS add */
int	 bayes_store_put(struct bayes_store *, const struct bayes_rec *,
	    size_t n, struct buf *why);
/*
 * bayes_store_prune - drop tokens last learned before `before` whose
 * spam + ham count is at most max_total (stale rare tokens)
 */
int	 bayes_store_prune(struct bayes_store *, time_t before,
	    uint32_t max_total, uint64_t *removed, struct buf *why);

/* bayes_be64_put / bayes_be64_get - token keys are big-endian hashes */
static inline void
bayes_be64_put(uint8_t *p, uint64_t v)
{
	int i;

	for (i = 7; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

static inline uint64_t
bayes_be64_get(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = (v << 8) | p[i];
	return v;
}

/* backends */
int	 bayes_store_lmdb_open(const char *path, const struct bayes_store_opts *,
	    struct bayes_store **, struct buf *why);
int	 bayes_store_redis_open(const char *url, const struct bayes_store_opts *,
	    struct bayes_store **, struct buf *why);

/* dump format (bayes_dump.c): text lines, see doc/bayes.md */
int	 bayes_dump(struct bayes_store *, FILE *, struct buf *why);
int	 bayes_load(struct bayes_store *, FILE *, const char *origin,
	    struct buf *why);

#endif
