/*
 * topk.c - Space-Saving heavy hitters: hash table + min-heap
 *
 * DESCRIPTION
 *	Counters live in one array of cap entries.  A min-heap over them
 *	(by count) finds the counter to take over in O(1) and restores
 *	order in O(log cap) per add; an open-addressing hash table (linear
 *	probing, backward-shift deletion, at most half full) finds a key's
 *	counter.  Memory is fixed at creation plus the keys, each at most
 *	TOPK_MAX_KEY + 4 bytes.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "topk.h"

#define EMPTY	SIZE_MAX

struct slot {
	struct topk_entry e;
	size_t	 heappos;
	uint64_t hash;
};

struct topk {
	struct slot *slots;
	size_t	 cap, n;
	size_t	*heap;			/* slot indices, min count first */
	size_t	*table;			/* slot index or EMPTY */
	size_t	 tmask;
	uint64_t total;
	int	 evicted;
};

/* hash - FNV-1a, 64 bits */
static uint64_t
hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
	return h;
}

struct topk *
topk_new(size_t cap)
{
	struct topk *t = xcalloc(1, sizeof(*t));
	size_t tsize = 4, i;

	if (cap < 1)
		cap = 1;
	while (tsize < cap * 2)
		tsize *= 2;
	t->cap = cap;
	t->slots = xcalloc(cap, sizeof(*t->slots));
	t->heap = xcalloc(cap, sizeof(*t->heap));
	t->table = xcalloc(tsize, sizeof(*t->table));
	for (i = 0; i < tsize; i++)
		t->table[i] = EMPTY;
	t->tmask = tsize - 1;
	return t;
}

void
topk_free(struct topk **tp)
{
	struct topk *t = *tp;
	size_t i;

	if (t == NULL)
		return;
	*tp = NULL;
	for (i = 0; i < t->n; i++)
		free(t->slots[i].e.key);
	free(t->slots);
	free(t->heap);
	free(t->table);
	free(t);
}

/* heap_swap - exchange heap positions a and b */
static void
heap_swap(struct topk *t, size_t a, size_t b)
{
	size_t x = t->heap[a];

	t->heap[a] = t->heap[b];
	t->heap[b] = x;
	t->slots[t->heap[a]].heappos = a;
	t->slots[t->heap[b]].heappos = b;
}

static uint64_t
heap_count(const struct topk *t, size_t pos)
{
	return t->slots[t->heap[pos]].e.count;
}

/* sift_down - restore the heap below pos after a count grew */
static void
sift_down(struct topk *t, size_t pos)
{
	for (;;) {
		size_t l = 2 * pos + 1, r = l + 1, m = pos;

		if (l < t->n && heap_count(t, l) < heap_count(t, m))
			m = l;
		if (r < t->n && heap_count(t, r) < heap_count(t, m))
			m = r;
		if (m == pos)
			return;
		heap_swap(t, pos, m);
		pos = m;
	}
}

/* find - table position of key, or of the empty slot where it goes */
static size_t
find(const struct topk *t, const char *key, uint64_t h)
{
	size_t i = (size_t)h & t->tmask;

	while (t->table[i] != EMPTY) {
		const struct slot *s = &t->slots[t->table[i]];

		if (s->hash == h && strcmp(s->e.key, key) == 0)
			break;
		i = (i + 1) & t->tmask;
	}
	return i;
}

/* table_delete - remove the entry at table position i (backward shift) */
static void
table_delete(struct topk *t, size_t i)
{
	size_t j = i, k;

	t->table[i] = EMPTY;
	for (;;) {
		j = (j + 1) & t->tmask;
		if (t->table[j] == EMPTY)
			return;
		k = (size_t)t->slots[t->table[j]].hash & t->tmask;
		/* move j back to i unless its home k lies cyclically in (i, j] */
		if ((i <= j) ? (i < k && k <= j) : (i < k || k <= j))
			continue;
		t->table[i] = t->table[j];
		t->table[j] = EMPTY;
		i = j;
	}
}

/* cut_key - the stored form of a key: at most TOPK_MAX_KEY bytes */
static char *
cut_key(const char *key)
{
	size_t n = strlen(key);
	char *k;

	if (n <= TOPK_MAX_KEY)
		return xstrdup(key);
	n = TOPK_MAX_KEY;
	/* do not split a UTF-8 sequence */
	while (n > 0 && ((unsigned char)key[n] & 0xC0) == 0x80)
		n--;
	k = xmalloc(n + 4);
	memcpy(k, key, n);
	memcpy(k + n, "...", 4);
	return k;
}

struct topk_entry *
topk_add(struct topk *t, const char *key)
{
	char *k = cut_key(key);
	uint64_t h = hash(k);
	size_t pos = find(t, k, h), si;
	struct slot *s;

	t->total++;
	if (t->table[pos] != EMPTY) {
		s = &t->slots[t->table[pos]];
		free(k);
		s->e.count++;
		sift_down(t, s->heappos);
		return &s->e;
	}
	if (t->n < t->cap) {
		/* a new counter will hold 1: append, then rise above larger */
		si = t->n++;
		s = &t->slots[si];
		memset(s, 0, sizeof(*s));
		s->heappos = si;
		t->heap[si] = si;
		while (s->heappos > 0 &&
		    heap_count(t, (s->heappos - 1) / 2) > 1)
			heap_swap(t, s->heappos, (s->heappos - 1) / 2);
	} else {
		si = t->heap[0];
		s = &t->slots[si];
		table_delete(t, find(t, s->e.key, s->hash));
		free(s->e.key);
		s->e.err = s->e.count;
		memset(s->e.aux, 0, sizeof(s->e.aux));
		s->e.sum = 0;
		s->e.last = 0;
		s->e.lo = s->e.hi = 0;
		t->evicted = 1;
		pos = find(t, k, h);
	}
	s->e.key = k;
	s->hash = h;
	s->e.count++;
	t->table[pos] = si;
	sift_down(t, s->heappos);
	return &s->e;
}

const struct topk_entry *
topk_get(const struct topk *t, const char *key)
{
	char *k = cut_key(key);
	size_t pos = find(t, k, hash(k));

	free(k);
	return t->table[pos] == EMPTY ? NULL : &t->slots[t->table[pos]].e;
}

static int
cmp_entry(const void *a, const void *b)
{
	const struct topk_entry *x = *(struct topk_entry *const *)a;
	const struct topk_entry *y = *(struct topk_entry *const *)b;

	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	return strcmp(x->key, y->key);
}

struct topk_entry **
topk_sorted(const struct topk *t, size_t *n)
{
	struct topk_entry **v = xcalloc(t->n ? t->n : 1, sizeof(*v));
	size_t i;

	for (i = 0; i < t->n; i++)
		v[i] = &t->slots[i].e;
	qsort(v, t->n, sizeof(*v), cmp_entry);
	*n = t->n;
	return v;
}

size_t
topk_distinct(const struct topk *t)
{
	return t->n;
}

uint64_t
topk_total(const struct topk *t)
{
	return t->total;
}

int
topk_exact(const struct topk *t)
{
	return !t->evicted;
}
