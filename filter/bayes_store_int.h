/*
 * bayes_store_int.h - how the Bayes store backends decode stored values
 *
 * DESCRIPTION
 *	What a backend reads back (LMDB values, Redis replies) comes from a
 *	file or a server that the milter does not control alone: a store
 *	shared by several hosts, written by an older or newer version, or
 *	damaged.  These functions are the whole decoding, pure and apart
 *	from the I/O, so that they can be tested and fuzzed
 *	(tests/fuzz/fuzz_bayes_store.c).  Each checks sizes and types
 *	before it reads; what does not fit decodes as nothing (-1) or as
 *	zero counts, never as a guess.
 *
 *	LMDB (bayes_store_lmdb.c), layouts in host byte order:
 *	    token value   uint32 spam, uint32 ham, uint32 last seen
 *	    digest        16-byte key; value uint8 class, uint32 when
 *	    meta value    uint64
 *	Redis (bayes_store_redis.c): replies as hiredis parsed them, keys
 *	PREFIX 't' + 8-byte big-endian hash, PREFIX 'd' + 16-byte digest.
 */
#ifndef MW_BAYES_STORE_INT_H
#define MW_BAYES_STORE_INT_H

#include <stddef.h>
#include <stdint.h>

#include <hiredis/hiredis.h>

#include "bayes_store.h"

#define BAYES_LMDB_TOKEN_LEN	12
#define BAYES_LMDB_DIGEST_LEN	5

/* bayes_lmdb_counts - a token value: 0, or -1 (and zero counts) if short */
int	 bayes_lmdb_counts(const void *v, size_t n, struct bayes_counts *);
/* bayes_lmdb_digest - a digest record (key, value): 0, or -1 if malformed */
int	 bayes_lmdb_digest(const void *k, size_t kn, const void *v, size_t vn,
	    struct bayes_rec *);
/* bayes_lmdb_u64 - a meta value: 0, or -1 (and 0) if not 8 bytes */
int	 bayes_lmdb_u64(const void *v, size_t n, uint64_t *);

/* the LMDB store's copy of its token counts in memory, and its use */
struct bayes_lmdb_memory {
	uint64_t tokens;	/* held now (0: no copy) */
	uint64_t bytes;		/* its slot array */
	uint64_t txnid;		/* the snapshot it holds */
	uint64_t hits;		/* lookups served from it */
	uint64_t misses;	/* lookups that read LMDB */
	uint64_t builds;	/* copies made from the store */
};

/* bayes_lmdb_memory - of the store's environment: 0, or -1 if not LMDB */
int	 bayes_lmdb_memory(struct bayes_store *, struct bayes_lmdb_memory *);

/* bayes_redis_counts - HMGET s h t of one token (absent: 0) */
void	 bayes_redis_counts(const redisReply *, struct bayes_counts *);
/* bayes_redis_totals - HMGET nspam nham of the meta hash */
void	 bayes_redis_totals(const redisReply *, struct bayes_totals *);
/* bayes_redis_meta - HMGET nspam nham created last_learn format tokenizer */
void	 bayes_redis_meta(const redisReply *, struct bayes_stats *);
/*
 * bayes_redis_scan_page - a SCAN reply: the next cursor (NUL-terminated
 * into cursz bytes) and the array of keys; 0, or -1 if malformed
 */
int	 bayes_redis_scan_page(const redisReply *, char *cursor, size_t cursz,
	    const redisReply **keys);
/* bayes_redis_token_hash - the hash in a token key (prefix pl bytes) */
int	 bayes_redis_token_hash(const redisReply *key, size_t pl, uint64_t *);
/* bayes_redis_digest - a digest key and its GET reply: 0, or -1 */
int	 bayes_redis_digest(const redisReply *key, const redisReply *val,
	    size_t pl, struct bayes_rec *);
/* bayes_redis_outcome - the learn script's reply word */
enum bayes_learn_outcome bayes_redis_outcome(const redisReply *);

#endif
