/*
 * bayes_tokmap.h - token hash -> counts, one open-addressing table in memory
 *
 * DESCRIPTION
 *	The LMDB store keeps a copy of its token counts in one of these so
 *	that a message's lookups cost a hash probe each instead of a
 *	B-tree descent bound by cache misses (bayes_store_lmdb.c says when
 *	the copy is used and how it follows the store).
 *
 *	Linear probing over a power-of-two array of 24-byte slots (hash,
 *	spam, ham, seen, used), at most 3/4 full: 32 to 64 bytes a token.
 *	The slot of a hash is taken from the hash mixed with a seed drawn
 *	per table, so that learned tokens cannot be chosen to pile up in
 *	one run of slots.  A token is never removed: counts that fall to
 *	zero stay as a slot of zeros, which reads exactly like a token
 *	that is not there.
 *
 *	Not thread-safe by itself: readers may share a table that nobody
 *	changes; the caller serialises changes against them.
 */
#ifndef MW_BAYES_TOKMAP_H
#define MW_BAYES_TOKMAP_H

#include <stddef.h>
#include <stdint.h>

#include "bayes.h"

struct bayes_tokslot {
	uint64_t hash;
	uint32_t spam, ham, seen;
	uint32_t used;
};

struct bayes_tokmap {
	struct bayes_tokslot *slot;
	size_t	 nslots;	/* a power of two */
	size_t	 n;		/* slots used */
	uint64_t seed;
	uint64_t max_bytes;	/* the slot array never grows past this */
};

/* bayes_tokmap_bytes - the slot array a table of n tokens starts with */
uint64_t bayes_tokmap_bytes(size_t n);
/*
 * bayes_tokmap_init - an empty table sized for n tokens: 0, or -1 (and
 * nothing allocated) when that is more than max_bytes
 */
int	 bayes_tokmap_init(struct bayes_tokmap *, size_t n, uint64_t max_bytes,
	    uint64_t seed);
/*
 * bayes_tokmap_set - the counts of h, added or replaced; the table
 * doubles when it would be more than 3/4 full: 0, or -1 when doubling
 * would pass max_bytes (the table is then unchanged)
 */
int	 bayes_tokmap_set(struct bayes_tokmap *, uint64_t h,
	    const struct bayes_counts *);
/* bayes_tokmap_get - counts of n hashes (zeros for one not held) */
void	 bayes_tokmap_get(const struct bayes_tokmap *, const uint64_t *h,
	    size_t n, struct bayes_counts *out);
void	 bayes_tokmap_free(struct bayes_tokmap *);

#endif
