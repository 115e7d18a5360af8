/*
 * bayes_store.c - pick a token store backend and call through it
 *
 * DESCRIPTION
 *	"redis://..." selects bayes_store_redis.c, anything else is the
 *	directory of an LMDB environment (bayes_store_lmdb.c).  The
 *	wrappers below only dispatch; each backend documents its layout.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bayes_store.h"
#include "buf.h"
#include "files.h"
#include "redis_pool.h"
#include "str.h"

bool
bayes_store_is_redis(const char *spec)
{
	return str_has_iprefix(spec, "redis://");
}

int
bayes_store_open(const char *spec, const struct bayes_store_opts *o,
    struct bayes_store **out, struct buf *why)
{
	static const struct bayes_store_opts defaults =
	    BAYES_STORE_OPTS_DEFAULT;

	*out = NULL;
	if (o == NULL)
		o = &defaults;
	if (spec == NULL || *spec == '\0') {
		buf_adds(why, "no Bayes store configured");
		return BAYES_EPERM;
	}
	if (bayes_store_is_redis(spec))
		return bayes_store_redis_open(spec, o, out, why);
	return bayes_store_lmdb_open(spec, o, out, why);
}

int
bayes_store_spec_valid(const char *spec, struct buf *why)
{
	return store_spec_valid(spec, why);
}

int
bayes_store_check(const char *spec, struct buf *why)
{
	if (bayes_store_spec_valid(spec, why) < 0)
		return -1;
	if (bayes_store_is_redis(spec))
		return 0;
	return files_dir_creatable(spec, why);
}

void
bayes_store_close(struct bayes_store **sp)
{
	struct bayes_store *s = *sp;

	if (s == NULL)
		return;
	*sp = NULL;
	s->ops->close(s);
}

int
bayes_store_lookup(struct bayes_store *s, const uint64_t *h, size_t n,
    struct bayes_counts *out, struct bayes_totals *tot, struct buf *why)
{
	return s->ops->lookup(s, h, n, out, tot, why);
}

int
bayes_store_learn(struct bayes_store *s, struct bayes_learn_msg *m, size_t n,
    time_t now, struct buf *why)
{
	return s->ops->learn(s, m, n, now, why);
}

int
bayes_store_stats(struct bayes_store *s, struct bayes_stats *st,
    struct buf *why)
{
	memset(st, 0, sizeof(*st));
	st->backend = s->ops->name;
	return s->ops->stats(s, st, why);
}

int
bayes_store_usage(struct bayes_store *s, uint64_t *map, uint64_t *used)
{
	*map = *used = 0;
	return s->ops->usage ? s->ops->usage(s, map, used) : -1;
}

int
bayes_store_iter(struct bayes_store *s,
    int (*fn)(const struct bayes_rec *, void *), void *arg, struct buf *why)
{
	return s->ops->iter(s, fn, arg, why);
}

int
bayes_store_put(struct bayes_store *s, const struct bayes_rec *r, size_t n,
    struct buf *why)
{
	return s->ops->put(s, r, n, why);
}

int
bayes_store_prune(struct bayes_store *s, time_t before, uint32_t max_total,
    uint64_t *removed, struct buf *why)
{
	*removed = 0;
	return s->ops->prune(s, before, max_total, removed, why);
}
