/*
 * strmap.c - string-keyed hash map
 *
 * DESCRIPTION
 *	Linear probing, power-of-two table kept under 70% full, FNV-1a.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "strmap.h"

struct slot {
	char	*key;
	size_t	 klen;
	uint64_t hash;
	void	*value;
};

struct strmap {
	struct slot *slots;
	size_t	 cap;
	size_t	 count;
};

static uint64_t
fnv1a(const char *p, size_t n)
{
	uint64_t h = 1469598103934665603ULL;
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= (unsigned char)p[i];
		h *= 1099511628211ULL;
	}
	return h;
}

struct strmap *
strmap_new(void)
{
	struct strmap *m = xcalloc(1, sizeof(*m));

	m->cap = 16;
	m->slots = xcalloc(m->cap, sizeof(struct slot));
	return m;
}

void
strmap_free(struct strmap *m, void (*destroy)(void *))
{
	size_t i;

	if (m == NULL)
		return;
	for (i = 0; i < m->cap; i++)
		if (m->slots[i].key) {
			free(m->slots[i].key);
			if (destroy)
				destroy(m->slots[i].value);
		}
	free(m->slots);
	free(m);
}

static struct slot *
find(const struct strmap *m, const char *key, size_t klen, uint64_t h)
{
	size_t i = (size_t)h & (m->cap - 1);

	for (;;) {
		struct slot *s = &m->slots[i];

		if (s->key == NULL)
			return s;
		if (s->hash == h && s->klen == klen &&
		    memcmp(s->key, key, klen) == 0)
			return s;
		i = (i + 1) & (m->cap - 1);
	}
}

static void
grow(struct strmap *m)
{
	struct slot *old = m->slots;
	size_t i, oldcap = m->cap;

	m->cap *= 2;
	m->slots = xcalloc(m->cap, sizeof(struct slot));
	for (i = 0; i < oldcap; i++)
		if (old[i].key)
			*find(m, old[i].key, old[i].klen, old[i].hash) = old[i];
	free(old);
}

void *
strmap_put(struct strmap *m, const char *key, void *value)
{
	size_t klen = strlen(key);
	uint64_t h = fnv1a(key, klen);
	struct slot *s;
	void *old;

	if ((m->count + 1) * 10 > m->cap * 7)
		grow(m);
	s = find(m, key, klen, h);
	if (s->key) {
		old = s->value;
		s->value = value;
		return old;
	}
	s->key = xstrndup(key, klen);
	s->klen = klen;
	s->hash = h;
	s->value = value;
	m->count++;
	return NULL;
}

void *
strmap_getn(const struct strmap *m, const char *key, size_t klen)
{
	struct slot *s = find(m, key, klen, fnv1a(key, klen));

	return s->key ? s->value : NULL;
}

void *
strmap_get(const struct strmap *m, const char *key)
{
	return strmap_getn(m, key, strlen(key));
}

size_t
strmap_count(const struct strmap *m)
{
	return m->count;
}

void
strmap_foreach(const struct strmap *m,
    void (*fn)(const char *, void *, void *), void *arg)
{
	size_t i;

	for (i = 0; i < m->cap; i++)
		if (m->slots[i].key)
			fn(m->slots[i].key, m->slots[i].value, arg);
}
