/*
 * bayes_tokmap.c - token hash -> counts in memory (see bayes_tokmap.h)
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "bayes_tokmap.h"
#include "buf.h"

#define MIN_SLOTS	64
#define AHEAD		8	/* lookups whose slot is prefetched ahead */

#if defined(__GNUC__)
#define PREFETCH(p)	__builtin_prefetch(p)
#else
#define PREFETCH(p)	((void)(p))
#endif

/* nslots_for - the smallest power of two holding n at most 3/4 full */
static size_t
nslots_for(size_t n)
{
	size_t s = MIN_SLOTS;

	while (s / 4 * 3 < n && s < ((size_t)1 << 40))
		s *= 2;
	return s;
}

uint64_t
bayes_tokmap_bytes(size_t n)
{
	return (uint64_t)nslots_for(n) * sizeof(struct bayes_tokslot);
}

static size_t
home(const struct bayes_tokmap *m, uint64_t h)
{
	uint64_t z = h ^ m->seed;

	z = (z ^ (z >> 33)) * 0xFF51AFD7ED558CCDULL;
	z ^= z >> 33;
	return (size_t)z & (m->nslots - 1);
}

/* find - the slot of h, or the empty slot where it would go */
static struct bayes_tokslot *
find(const struct bayes_tokmap *m, uint64_t h)
{
	size_t j, mask = m->nslots - 1;

	for (j = home(m, h); m->slot[j].used; j = (j + 1) & mask)
		if (m->slot[j].hash == h)
			break;
	return &m->slot[j];
}

int
bayes_tokmap_init(struct bayes_tokmap *m, size_t n, uint64_t max_bytes,
    uint64_t seed)
{
	memset(m, 0, sizeof(*m));
	if (bayes_tokmap_bytes(n) > max_bytes)
		return -1;
	m->nslots = nslots_for(n);
	m->slot = xcalloc(m->nslots, sizeof(*m->slot));
	m->max_bytes = max_bytes;
	m->seed = seed;
	return 0;
}

/* grow - twice the slots, every token moved over */
static int
grow(struct bayes_tokmap *m)
{
	struct bayes_tokmap big = *m;
	size_t i;

	if ((uint64_t)m->nslots * 2 * sizeof(*m->slot) > m->max_bytes)
		return -1;
	big.nslots = m->nslots * 2;
	big.slot = xcalloc(big.nslots, sizeof(*big.slot));
	for (i = 0; i < m->nslots; i++)
		if (m->slot[i].used)
			*find(&big, m->slot[i].hash) = m->slot[i];
	free(m->slot);
	*m = big;
	return 0;
}

int
bayes_tokmap_set(struct bayes_tokmap *m, uint64_t h,
    const struct bayes_counts *c)
{
	struct bayes_tokslot *s = find(m, h);

	if (!s->used) {
		if (m->n + 1 > m->nslots / 4 * 3) {
			if (grow(m) < 0)
				return -1;
			s = find(m, h);
		}
		s->used = 1;
		s->hash = h;
		m->n++;
	}
	s->spam = c->spam;
	s->ham = c->ham;
	s->seen = c->seen;
	return 0;
}

void
bayes_tokmap_get(const struct bayes_tokmap *m, const uint64_t *h, size_t n,
    struct bayes_counts *out)
{
	const struct bayes_tokslot *s;
	size_t i;

	for (i = 0; i < n && i < AHEAD; i++)
		PREFETCH(&m->slot[home(m, h[i])]);
	for (i = 0; i < n; i++) {
		if (i + AHEAD < n)
			PREFETCH(&m->slot[home(m, h[i + AHEAD])]);
		s = find(m, h[i]);
		out[i].spam = s->spam;	/* an empty slot is all zeros */
		out[i].ham = s->ham;
		out[i].seen = s->seen;
	}
}

void
bayes_tokmap_free(struct bayes_tokmap *m)
{
	free(m->slot);
	memset(m, 0, sizeof(*m));
}
