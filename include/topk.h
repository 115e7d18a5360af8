/*
 * topk.h - heavy hitters in bounded memory (Space-Saving)
 *
 * DESCRIPTION
 *	A topk counts string keys with at most cap counters (Metwally,
 *	Agrawal, El Abbadi, "Efficient Computation of Frequent and Top-k
 *	Elements in Data Streams", 2005).  While fewer than cap distinct
 *	keys have been seen every count is exact.  After that, a new key
 *	takes over the counter with the smallest count c and starts at
 *	c + 1 with error c: a reported count overestimates the true count
 *	by at most its err, and every key whose true count exceeds
 *	total / cap is in the table.  The auxiliary counters (aux, sum, lo, hi)
 *	only hold what was added since the key took its counter, so they
 *	are exact for keys with err == 0.
 *
 *	Keys longer than TOPK_MAX_KEY bytes are cut there and end in
 *	"..." so that the cut is visible.
 */
#ifndef MW_TOPK_H
#define MW_TOPK_H

#include <stddef.h>
#include <stdint.h>

#define TOPK_MAX_KEY	200
#define TOPK_NAUX	6

struct topk_entry {
	char	*key;
	uint64_t count;
	uint64_t err;			/* count overestimates by <= err */
	uint64_t aux[TOPK_NAUX];	/* caller-defined counters */
	double	 sum;			/* caller-defined sum */
	double	 last;			/* caller-defined last value */
	double	 lo, hi;		/* caller-defined range */
};

struct topk;

struct topk *topk_new(size_t cap);
void	 topk_free(struct topk **);
/* topk_add - count key once; returns its entry (valid until next add) */
struct topk_entry *topk_add(struct topk *, const char *key);
/* topk_get - the entry of key, or NULL when it holds no counter */
const struct topk_entry *topk_get(const struct topk *, const char *key);
/* topk_sorted - entries by count (desc), then key; caller frees array */
struct topk_entry **topk_sorted(const struct topk *, size_t *n);
size_t	 topk_distinct(const struct topk *);	/* counters in use */
uint64_t topk_total(const struct topk *);	/* topk_add() calls */
/* topk_exact - true while no key was ever evicted */
int	 topk_exact(const struct topk *);

#endif
