/*
 * pstore_redis.c - the policy store in Redis, shared by several MX hosts
 *
 * DESCRIPTION
 *	policy_store = redis://[:PASSWORD@]HOST[:PORT][/DB]
 *
 *	Each key is one Redis string, PREFIX (policy_redis_prefix, "mwp:"
 *	by default) then the key text, holding the value in decimal; its
 *	expiry is Redis's own (EXPIRE), so a key that has expired is gone
 *	on every host at once.  A read of several keys is one MGET; an
 *	update of several is one pipelined burst of INCRBY and EXPIRE.
 *
 *	Connections, timeouts and the outage window are redis_pool.c's,
 *	with policy_redis_timeout: a Redis that is down or frozen costs a
 *	message at most one timeout, and then none for the retry window.
 *
 * SECURITY
 *	Replies are untrusted: numbers go through redis_reply_uint().
 */
#include "config.h"

#include <hiredis/hiredis.h>

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "pstore.h"
#include "redis_pool.h"
#include "str.h"

#define ITER_COUNT	500		/* SCAN COUNT hint */
#define PIPE_MAX	64		/* keys per call: policy.c asks few */

struct redis_pstore {
	struct pstore base;
	struct redis_pool pool;
	char	*prefix;
};

/* rkey - PREFIX key into out; its length */
static size_t
rkey(const struct redis_pstore *s, const char *key, char *out, size_t cap)
{
	int n = snprintf(out, cap, "%s%s", s->prefix, key);

	return n < 0 || (size_t)n >= cap ? 0 : (size_t)n;
}

/* finish - read n replies; PSTORE_ETEMP (connection dropped) on failure */
static int
finish(struct redis_pstore *s, redisContext *c, size_t n, uint64_t *vals,
    struct buf *why)
{
	redisReply *r;
	size_t i;
	int rc = PSTORE_OK;

	for (i = 0; i < n; i++) {
		if ((r = redis_pool_reply(&s->pool, c, why)) == NULL) {
			redis_pool_fail(&s->pool, c, why);
			return PSTORE_ETEMP;
		}
		if (r->type == REDIS_REPLY_ERROR && rc == PSTORE_OK) {
			buf_printf(why, "Redis: %.200s", r->str);
			rc = PSTORE_EPERM;
		}
		if (vals)
			vals[i] = redis_reply_uint(r, UINT64_MAX);
		freeReplyObject(r);
	}
	redis_pool_put(&s->pool, c, false);
	return rc;
}

static int
redis_get(struct pstore *ps, const char *const *keys, size_t n, time_t now,
    uint64_t *vals, struct buf *why)
{
	struct redis_pstore *s = (struct redis_pstore *)ps;
	const char *argv[1 + PIPE_MAX];
	size_t lens[1 + PIPE_MAX], i;
	char k[PIPE_MAX][PSTORE_KEY_MAX + 64];
	redisContext *c;
	redisReply *r;

	(void)now;
	if (n > PIPE_MAX) {
		buf_adds(why, "policy store: too many keys at once");
		return PSTORE_EPERM;
	}
	argv[0] = "MGET";
	lens[0] = 4;
	for (i = 0; i < n; i++) {
		lens[i + 1] = rkey(s, keys[i], k[i], sizeof(k[i]));
		argv[i + 1] = k[i];
	}
	if ((c = redis_pool_get(&s->pool, why)) == NULL)
		return PSTORE_ETEMP;
	redisAppendCommandArgv(c, (int)n + 1, argv, lens);
	if ((r = redis_pool_reply(&s->pool, c, why)) == NULL) {
		redis_pool_fail(&s->pool, c, why);
		return PSTORE_ETEMP;
	}
	for (i = 0; i < n; i++)
		vals[i] = redis_reply_uint(redis_elem(r, i), UINT64_MAX);
	freeReplyObject(r);
	redis_pool_put(&s->pool, c, false);
	return PSTORE_OK;
}

static int
redis_add(struct pstore *ps, const char *const *keys, size_t n,
    const uint64_t *add, const unsigned *ttl, time_t now, struct buf *why)
{
	struct redis_pstore *s = (struct redis_pstore *)ps;
	char k[PSTORE_KEY_MAX + 64];
	redisContext *c;
	size_t i, kl, sent = 0;

	(void)now;
	if ((c = redis_pool_get(&s->pool, why)) == NULL)
		return PSTORE_ETEMP;
	for (i = 0; i < n; i++) {
		if ((kl = rkey(s, keys[i], k, sizeof(k))) == 0)
			continue;
		redisAppendCommand(c, "INCRBY %b %llu", k, kl,
		    (unsigned long long)add[i]);
		sent++;
		if (ttl[i]) {
			redisAppendCommand(c, "EXPIRE %b %u", k, kl, ttl[i]);
			sent++;
		}
	}
	return finish(s, c, sent, NULL, why);
}

static int
redis_set(struct pstore *ps, const char *key, uint64_t v, unsigned ttl,
    time_t now, struct buf *why)
{
	struct redis_pstore *s = (struct redis_pstore *)ps;
	char k[PSTORE_KEY_MAX + 64];
	redisContext *c;
	size_t kl;

	(void)now;
	if ((kl = rkey(s, key, k, sizeof(k))) == 0) {
		buf_adds(why, "policy store: key too long");
		return PSTORE_EPERM;
	}
	if ((c = redis_pool_get(&s->pool, why)) == NULL)
		return PSTORE_ETEMP;
	if (ttl)
		redisAppendCommand(c, "SET %b %llu EX %u", k, kl,
		    (unsigned long long)v, ttl);
	else
		redisAppendCommand(c, "SET %b %llu", k, kl,
		    (unsigned long long)v);
	return finish(s, c, 1, NULL, why);
}

static int
redis_del(struct pstore *ps, const char *key, bool *found, struct buf *why)
{
	struct redis_pstore *s = (struct redis_pstore *)ps;
	char k[PSTORE_KEY_MAX + 64];
	redisContext *c;
	uint64_t n = 0;
	size_t kl;
	int rc;

	if ((kl = rkey(s, key, k, sizeof(k))) == 0) {
		buf_adds(why, "policy store: key too long");
		return PSTORE_EPERM;
	}
	if ((c = redis_pool_get(&s->pool, why)) == NULL)
		return PSTORE_ETEMP;
	redisAppendCommand(c, "DEL %b", k, kl);
	rc = finish(s, c, 1, &n, why);
	*found = n > 0;
	return rc;
}

/* iter_page - GET and TTL of one SCAN page's keys, fn for each */
static int
iter_page(struct redis_pstore *s, redisContext *c, const redisReply *keys,
    time_t now, int (*fn)(const char *, uint64_t, time_t, void *), void *arg,
    struct buf *why)
{
	size_t pl = strlen(s->prefix), i;
	redisReply *v, *t;
	int stop = 0;

	for (i = 0; i < keys->elements; i++) {
		const redisReply *k = keys->element[i];

		redisAppendCommand(c, "GET %b", k->str, (size_t)k->len);
		redisAppendCommand(c, "TTL %b", k->str, (size_t)k->len);
	}
	for (i = 0; i < keys->elements; i++) {
		const redisReply *k = keys->element[i];
		char name[PSTORE_KEY_MAX + 1];
		long long ttl;

		if ((v = redis_pool_reply(&s->pool, c, why)) == NULL)
			return -1;
		if ((t = redis_pool_reply(&s->pool, c, why)) == NULL) {
			freeReplyObject(v);
			return -1;
		}
		ttl = t->type == REDIS_REPLY_INTEGER ? t->integer : -1;
		if (!stop && k->type == REDIS_REPLY_STRING &&
		    (size_t)k->len > pl && (size_t)k->len - pl <=
		    PSTORE_KEY_MAX && v->type == REDIS_REPLY_STRING) {
			memcpy(name, k->str + pl, (size_t)k->len - pl);
			name[k->len - pl] = '\0';
			stop = fn(name, redis_reply_uint(v, UINT64_MAX),
			    ttl > 0 ? now + (time_t)ttl : 0, arg);
		}
		freeReplyObject(v);
		freeReplyObject(t);
	}
	return stop;
}

static int
redis_iter(struct pstore *ps, const char *prefix, time_t now,
    int (*fn)(const char *, uint64_t, time_t, void *), void *arg,
    struct buf *why)
{
	struct redis_pstore *s = (struct redis_pstore *)ps;
	struct buf match = BUF_INIT;
	char cursor[32] = "0";
	const char *p;
	redisContext *c;
	redisReply *r;
	int rc = 0;

	/* MATCH pattern: the prefixes, glob characters escaped */
	for (p = s->prefix; *p; p++) {
		if (strchr("*?[]\\", *p))
			buf_addc(&match, '\\');
		buf_addc(&match, *p);
	}
	for (p = prefix; *p; p++) {
		if (strchr("*?[]\\", *p))
			buf_addc(&match, '\\');
		buf_addc(&match, *p);
	}
	buf_addc(&match, '*');
	if ((c = redis_pool_get(&s->pool, why)) == NULL) {
		buf_release(&match);
		return PSTORE_ETEMP;
	}
	do {
		const redisReply *cur, *keys;

		redisAppendCommand(c, "SCAN %s MATCH %b COUNT %d", cursor,
		    match.data, match.len, ITER_COUNT);
		if ((r = redis_pool_reply(&s->pool, c, why)) == NULL) {
			rc = -1;
			break;
		}
		cur = redis_elem(r, 0);
		keys = redis_elem(r, 1);
		if (cur == NULL || cur->type != REDIS_REPLY_STRING ||
		    cur->len == 0 || (size_t)cur->len >= sizeof(cursor) ||
		    keys == NULL || keys->type != REDIS_REPLY_ARRAY) {
			freeReplyObject(r);
			buf_adds(why, "Redis: malformed SCAN reply");
			rc = -1;
			break;
		}
		memcpy(cursor, cur->str, (size_t)cur->len);
		cursor[cur->len] = '\0';
		rc = iter_page(s, c, keys, now, fn, arg, why);
		freeReplyObject(r);
	} while (rc == 0 && strcmp(cursor, "0") != 0);
	buf_release(&match);
	if (rc < 0) {
		redis_pool_fail(&s->pool, c, why);
		return PSTORE_ETEMP;
	}
	redis_pool_put(&s->pool, c, false);
	return PSTORE_OK;
}

static void
redis_close(struct pstore *ps)
{
	struct redis_pstore *s = (struct redis_pstore *)ps;

	redis_pool_release(&s->pool);
	free(s->prefix);
	free(s->base.spec);
	free(s);
}

static const struct pstore_ops redis_ops = {
	"redis", redis_get, redis_add, redis_set, redis_del, redis_iter,
	redis_close
};

int
pstore_redis_open(const char *url, const struct pstore_opts *o,
    struct pstore **out, struct buf *why)
{
	static const struct pstore_opts defaults = PSTORE_OPTS_DEFAULT;
	struct redis_pstore *s;

	if (o == NULL)
		o = &defaults;
	s = xcalloc(1, sizeof(*s));
	s->base.ops = &redis_ops;
	if (redis_pool_init(&s->pool, url, o->timeout_ms, o->retry_s,
	    "policy_redis_timeout", why) < 0) {
		free(s);
		return PSTORE_EPERM;
	}
	s->prefix = xstrdup(o->prefix ? o->prefix : "mwp:");
	s->base.spec = redis_pool_shown(&s->pool);
	*out = &s->base;
	return PSTORE_OK;
}
