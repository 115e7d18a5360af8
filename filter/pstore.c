/*
 * pstore.c - pick a policy store backend, share it, call through it
 *
 * DESCRIPTION
 *	"redis://..." selects pstore_redis.c, anything else is the
 *	directory of an LMDB environment (pstore_lmdb.c).  Opened stores
 *	are kept in a registry by spec, so that the engine generations of
 *	a reload share one (LMDB must not be opened twice in a process,
 *	and a Redis pool that knows the server is down should stay so).
 */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "files.h"
#include "pstore.h"
#include "redis_pool.h"
#include "str.h"

struct shared {
	struct shared *next;
	char	*key;			/* spec as configured, and readonly */
	int	 refs;
	struct pstore *st;
};

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static struct shared *registry;

bool
pstore_is_redis(const char *spec)
{
	return str_has_iprefix(spec, "redis://");
}

int
pstore_spec_valid(const char *spec, struct buf *why)
{
	return *spec == '\0' ? 0 : store_spec_valid(spec, why);
}

int
pstore_check(const char *spec, struct buf *why)
{
	if (pstore_spec_valid(spec, why) < 0)
		return -1;
	return pstore_is_redis(spec) ? 0 : files_dir_creatable(spec, why);
}

int
pstore_open(const char *spec, const struct pstore_opts *o,
    struct pstore **out, struct buf *why)
{
	static const struct pstore_opts defaults = PSTORE_OPTS_DEFAULT;
	struct shared *sh;
	struct buf key = BUF_INIT;
	int rc;

	*out = NULL;
	if (o == NULL)
		o = &defaults;
	if (spec == NULL || *spec == '\0') {
		buf_adds(why, "no policy store configured");
		return PSTORE_EPERM;
	}
	buf_printf(&key, "%c%s", o->readonly ? 'r' : 'w', spec);
	pthread_mutex_lock(&registry_lock);
	for (sh = registry; sh; sh = sh->next)
		if (strcmp(sh->key, buf_cstr(&key)) == 0)
			break;
	if (sh == NULL) {
		struct pstore *st;

		rc = pstore_is_redis(spec) ? pstore_redis_open(spec, o, &st,
		    why) : pstore_lmdb_open(spec, o, &st, why);
		if (rc != PSTORE_OK) {
			pthread_mutex_unlock(&registry_lock);
			buf_release(&key);
			return rc;
		}
		sh = xcalloc(1, sizeof(*sh));
		sh->key = buf_steal(&key);
		sh->st = st;
		sh->next = registry;
		registry = sh;
	}
	sh->refs++;
	*out = sh->st;
	pthread_mutex_unlock(&registry_lock);
	buf_release(&key);
	return PSTORE_OK;
}

void
pstore_close(struct pstore **sp)
{
	struct shared **pp, *sh;

	if (*sp == NULL)
		return;
	pthread_mutex_lock(&registry_lock);
	for (pp = &registry; (sh = *pp) != NULL; pp = &sh->next)
		if (sh->st == *sp)
			break;
	if (sh && --sh->refs == 0) {
		*pp = sh->next;
		sh->st->ops->close(sh->st);
		free(sh->key);
		free(sh);
	}
	pthread_mutex_unlock(&registry_lock);
	*sp = NULL;
}

int
pstore_get(struct pstore *s, const char *const *keys, size_t n, time_t now,
    uint64_t *vals, struct buf *why)
{
	memset(vals, 0, n * sizeof(*vals));
	return n ? s->ops->get(s, keys, n, now, vals, why) : PSTORE_OK;
}

int
pstore_add(struct pstore *s, const char *const *keys, size_t n,
    const uint64_t *add, const unsigned *ttl, time_t now, struct buf *why)
{
	return n ? s->ops->add(s, keys, n, add, ttl, now, why) : PSTORE_OK;
}

int
pstore_set(struct pstore *s, const char *key, uint64_t v, unsigned ttl,
    time_t now, struct buf *why)
{
	return s->ops->set(s, key, v, ttl, now, why);
}

int
pstore_del(struct pstore *s, const char *key, bool *found, struct buf *why)
{
	*found = false;
	return s->ops->del(s, key, found, why);
}

int
pstore_iter(struct pstore *s, const char *prefix, time_t now,
    int (*fn)(const char *, uint64_t, time_t, void *), void *arg,
    struct buf *why)
{
	return s->ops->iter(s, prefix, now, fn, arg, why);
}

int
pstore_lmdb_val(const void *v, size_t n, time_t now, uint64_t *val,
    time_t *expires)
{
	uint64_t x[2];

	*val = 0;
	*expires = 0;
	if (v == NULL || n != PSTORE_LMDB_VAL_LEN)
		return -1;
	memcpy(x, v, sizeof(x));
	if (x[1] != 0 && (x[1] > (uint64_t)INT64_MAX ||
	    (time_t)x[1] <= now))
		return -1;
	*val = x[0];
	*expires = (time_t)x[1];
	return 0;
}

void
pstore_lmdb_put(void *out, uint64_t v, time_t expires)
{
	uint64_t x[2];

	x[0] = v;
	x[1] = expires > 0 ? (uint64_t)expires : 0;
	memcpy(out, x, sizeof(x));
}
