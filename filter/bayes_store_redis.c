/*
 * bayes_store_redis.c - token store in Redis, shared by several hosts
 *
 * DESCRIPTION
 *	bayes_store = redis://[:PASSWORD@]HOST[:PORT][/DB]
 *
 *	Keys (PREFIX is bayes_redis_prefix, "mwb:" by default):
 *
 *	    PREFIX "meta"          hash: nspam, nham, created, last_learn,
 *	                           format, tokenizer
 *	    PREFIX "t" + 8 bytes   hash per token (the raw big-endian token
 *	                           hash in the key): s, h (counts), t (last
 *	                           learned, unix time)
 *	    PREFIX "d" + 16 bytes  string per learned message digest:
 *	                           class ('s' or 'h') then unix time
 *
 *	A lookup is one pipelined round trip (HMGET of the totals and of
 *	every token).  Learning one message is one EVAL of a small Lua
 *	script, so the digest check and the count changes are atomic even
 *	when several hosts learn at once; a batch pipelines its EVALs.
 *
 *	Connections come from a small pool shared by the milter threads
 *	(redis_pool.c); each has a connect and a command timeout
 *	(bayes_redis_timeout).
 *	After any connection or protocol failure the store is considered
 *	down for bayes_redis_retry seconds: calls fail at once with
 *	BAYES_ETEMP instead of each waiting for the timeout, so an outage
 *	costs a thread at most one timeout.  The idle connections are
 *	dropped then, and an idle connection the server has closed (a
 *	restart) is never handed out: a Redis that is back is used at once.
 *	Each failure and each connection made again after one (or after a
 *	stale idle one) is counted for the metrics endpoint (metrics_redis).
 *
 * SECURITY
 *	Replies are untrusted: types are checked and numbers parsed with
 *	bounds.  HOST should be an address or a name in /etc/hosts: name
 *	resolution happens at connect time and is not covered by the
 *	timeout.
 */
#include "config.h"

#include <hiredis/hiredis.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bayes_store.h"
#include "bayes_store_int.h"
#include "buf.h"
#include "log.h"
#include "redis_pool.h"
#include "str.h"

#define ITER_COUNT	1000		/* SCAN COUNT hint */
#define PIPE_MAX	1000		/* commands per pipelined burst */

struct redis_store {
	struct bayes_store base;
	struct redis_pool pool;
	char	*prefix;
};

static const char learn_script[] =
"local old = redis.call('GET', KEYS[2])\n"
"local op, cls, now, tp = ARGV[1], ARGV[2], ARGV[3], ARGV[4]\n"
"local oldc = old and string.sub(old, 1, 1) or nil\n"
"if op == 'L' and oldc == cls then return 'known' end\n"
"if op == 'F' and not oldc then return 'unknown' end\n"
"local function bump(c, d)\n"
"  local other = (c == 's') and 'h' or 's'\n"
"  local mk = (c == 's') and 'nspam' or 'nham'\n"
"  if redis.call('HINCRBY', KEYS[1], mk, d) < 0 then\n"
"    redis.call('HSET', KEYS[1], mk, 0) end\n"
"  for i = 5, #ARGV do\n"
"    local k = tp .. ARGV[i]\n"
"    local v = redis.call('HINCRBY', k, c, d)\n"
"    if d > 0 then redis.call('HSET', k, 't', now)\n"
"    elseif v <= 0 then\n"
"      local o = tonumber(redis.call('HGET', k, other) or '0')\n"
"      if o == nil or o <= 0 then redis.call('DEL', k)\n"
"      else redis.call('HSET', k, c, 0) end\n"
"    end\n"
"  end\n"
"end\n"
"if oldc then bump(oldc, -1) end\n"
"if op == 'F' then redis.call('DEL', KEYS[2]) return 'forgotten' end\n"
"bump(cls, 1)\n"
"redis.call('SET', KEYS[2], cls .. now)\n"
"redis.call('HSET', KEYS[1], 'last_learn', now)\n"
"if oldc then return 'relearned' end\n"
"return 'new'\n";

/* make_key - PREFIX, kind, bytes: the Redis key; its length (0: too long) */
static size_t
make_key(const struct redis_store *s, char kind, const void *b, size_t n,
    char *out, size_t cap)
{
	size_t pl = strlen(s->prefix);

	if (pl + 1 + n > cap)
		return 0;
	memcpy(out, s->prefix, pl);
	out[pl] = kind;
	memcpy(out + pl + 1, b, n);
	return pl + 1 + n;
}

void
bayes_redis_counts(const redisReply *r, struct bayes_counts *c)
{
	c->spam = (uint32_t)redis_reply_uint(redis_elem(r, 0), UINT32_MAX);
	c->ham = (uint32_t)redis_reply_uint(redis_elem(r, 1), UINT32_MAX);
	c->seen = (uint32_t)redis_reply_uint(redis_elem(r, 2), UINT32_MAX);
}

void
bayes_redis_totals(const redisReply *r, struct bayes_totals *tot)
{
	tot->nspam = redis_reply_uint(redis_elem(r, 0), UINT64_MAX);
	tot->nham = redis_reply_uint(redis_elem(r, 1), UINT64_MAX);
}

void
bayes_redis_meta(const redisReply *r, struct bayes_stats *st)
{
	bayes_redis_totals(r, &st->tot);
	st->created = (time_t)redis_reply_uint(redis_elem(r, 2), UINT32_MAX);
	st->last_learn = (time_t)redis_reply_uint(redis_elem(r, 3), UINT32_MAX);
	st->format = (unsigned)redis_reply_uint(redis_elem(r, 4), 1000);
	st->tokenizer = (unsigned)redis_reply_uint(redis_elem(r, 5), 1000);
}

int
bayes_redis_scan_page(const redisReply *r, char *cursor, size_t cursz,
    const redisReply **keys)
{
	const redisReply *cur = redis_elem(r, 0);

	*keys = redis_elem(r, 1);
	if (cur == NULL || cur->type != REDIS_REPLY_STRING || cur->len == 0 ||
	    (size_t)cur->len >= cursz || *keys == NULL ||
	    (*keys)->type != REDIS_REPLY_ARRAY)
		return -1;
	memcpy(cursor, cur->str, (size_t)cur->len);
	cursor[cur->len] = '\0';
	return 0;
}

int
bayes_redis_token_hash(const redisReply *k, size_t pl, uint64_t *h)
{
	if (k->type != REDIS_REPLY_STRING || (size_t)k->len != pl + 9)
		return -1;
	*h = bayes_be64_get((const uint8_t *)k->str + pl + 1);
	return 0;
}

int
bayes_redis_digest(const redisReply *k, const redisReply *v, size_t pl,
    struct bayes_rec *rec)
{
	char tmp[24];
	uint64_t when;

	if (v->type != REDIS_REPLY_STRING || v->len < 2 ||
	    (size_t)v->len >= sizeof(tmp) || k->type != REDIS_REPLY_STRING ||
	    (size_t)k->len != pl + 1 + BAYES_DIGEST_LEN)
		return -1;
	rec->kind = BAYES_REC_DIGEST;
	memcpy(rec->digest, k->str + pl + 1, BAYES_DIGEST_LEN);
	rec->cls = v->str[0] == 's' ? BAYES_SPAM : BAYES_HAM;
	memcpy(tmp, v->str + 1, (size_t)v->len - 1);
	tmp[v->len - 1] = '\0';
	rec->when = parse_uint(tmp, 0, UINT32_MAX, &when) == 0 ?
	    (uint32_t)when : 0;
	return 0;
}

/* ---------------------------------------------------------------- */
/* operations */

static int
redis_lookup(struct bayes_store *bs, const uint64_t *h, size_t n,
    struct bayes_counts *out, struct bayes_totals *tot, struct buf *why)
{
	struct redis_store *s = (struct redis_store *)bs;
	redisContext *c;
	redisReply *r;
	char key[96];
	uint8_t hb[8];
	size_t i, done, kl, burst;

	memset(out, 0, n * sizeof(*out));
	memset(tot, 0, sizeof(*tot));
	if ((c = redis_pool_get(&s->pool, why)) == NULL)
		return BAYES_ETEMP;
	kl = make_key(s, 'm', "eta", 3, key, sizeof(key));
	redisAppendCommand(c, "HMGET %b nspam nham", key, kl);
	if ((r = redis_pool_reply(&s->pool, c, why)) == NULL)
		goto broken;
	bayes_redis_totals(r, tot);
	freeReplyObject(r);
	for (done = 0; done < n; done += burst) {
		burst = n - done < PIPE_MAX ? n - done : PIPE_MAX;
		for (i = 0; i < burst; i++) {
			bayes_be64_put(hb, h[done + i]);
			kl = make_key(s, 't', hb, 8, key, sizeof(key));
			redisAppendCommand(c, "HMGET %b s h t", key, kl);
		}
		for (i = 0; i < burst; i++) {
			if ((r = redis_pool_reply(&s->pool, c, why)) == NULL)
				goto broken;
			bayes_redis_counts(r, &out[done + i]);
			freeReplyObject(r);
		}
	}
	redis_pool_put(&s->pool, c, false);
	return BAYES_OK;
broken:
	redis_pool_fail(&s->pool, c, why);
	return BAYES_ETEMP;
}

enum bayes_learn_outcome
bayes_redis_outcome(const redisReply *r)
{
	static const struct {
		const char *word;
		enum bayes_learn_outcome o;
	} words[] = {
		{ "new", BAYES_LEARN_NEW }, { "known", BAYES_LEARN_KNOWN },
		{ "relearned", BAYES_LEARN_RELEARNED },
		{ "forgotten", BAYES_LEARN_FORGOTTEN },
		{ "unknown", BAYES_LEARN_UNKNOWN },
	};
	size_t i;

	if (r && (r->type == REDIS_REPLY_STRING ||
	    r->type == REDIS_REPLY_STATUS))
		for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
			if (strcmp(r->str, words[i].word) == 0)
				return words[i].o;
	return BAYES_LEARN_UNKNOWN;
}

/* append_learn - queue the EVAL of one message on c */
static void
append_learn(struct redis_store *s, redisContext *c,
    const struct bayes_learn_msg *m, const char *nowstr, const char *tp,
    size_t tplen)
{
	size_t argc = 9 + m->nhashes, i;
	const char **argv = xcalloc(argc, sizeof(char *));
	size_t *lens = xcalloc(argc, sizeof(size_t));
	uint8_t *hb = xcalloc(m->nhashes ? m->nhashes : 1, 8);
	char meta[96], dkey[96];

	argv[0] = "EVAL";
	argv[1] = learn_script;
	argv[2] = "2";
	lens[2] = 1;
	lens[3] = make_key(s, 'm', "eta", 3, meta, sizeof(meta));
	argv[3] = meta;
	lens[4] = make_key(s, 'd', m->digest, BAYES_DIGEST_LEN, dkey,
	    sizeof(dkey));
	argv[4] = dkey;
	argv[5] = m->op == BAYES_OP_FORGET ? "F" : "L";
	argv[6] = m->cls == BAYES_SPAM ? "s" : "h";
	argv[7] = nowstr;
	argv[8] = tp;
	lens[8] = tplen;
	for (i = 0; i < m->nhashes; i++) {
		bayes_be64_put(hb + 8 * i, m->hashes[i]);
		argv[9 + i] = (const char *)hb + 8 * i;
		lens[9 + i] = 8;
	}
	for (i = 0; i < argc; i++)
		if (lens[i] == 0)
			lens[i] = strlen(argv[i]);
	redisAppendCommandArgv(c, (int)argc, argv, lens);
	free(hb);
	free(lens);
	free(argv);
}

static int
redis_learn(struct bayes_store *bs, struct bayes_learn_msg *m, size_t n,
    time_t now, struct buf *why)
{
	struct redis_store *s = (struct redis_store *)bs;
	redisContext *c;
	redisReply *r;
	char nowstr[24], tp[96], meta[96];
	size_t i, done, burst, tplen, kl;
	int rc = BAYES_OK;

	if ((c = redis_pool_get(&s->pool, why)) == NULL)
		return BAYES_ETEMP;
	snprintf(nowstr, sizeof(nowstr), "%lld", (long long)now);
	tplen = make_key(s, 't', "", 0, tp, sizeof(tp));
	for (done = 0; done < n; done += burst) {
		burst = n - done < 64 ? n - done : 64;
		for (i = 0; i < burst; i++)
			append_learn(s, c, &m[done + i], nowstr, tp, tplen);
		for (i = 0; i < burst; i++) {
			if ((r = redis_pool_reply(&s->pool, c, why)) == NULL)
				goto broken;
			if (r->type == REDIS_REPLY_ERROR) {
				if (rc == BAYES_OK)
					buf_printf(why, "Redis learn: %.200s",
					    r->str);
				rc = BAYES_EPERM;
			}
			m[done + i].outcome = bayes_redis_outcome(r);
			freeReplyObject(r);
		}
	}
	kl = make_key(s, 'm', "eta", 3, meta, sizeof(meta));
	redisAppendCommand(c, "HSET %b tokenizer %d format %d", meta, kl,
	    BAYES_TOKENIZER_VERSION, BAYES_STORE_FORMAT);
	redisAppendCommand(c, "HSETNX %b created %s", meta, kl, nowstr);
	for (i = 0; i < 2; i++) {
		if ((r = redis_pool_reply(&s->pool, c, why)) == NULL)
			goto broken;
		freeReplyObject(r);
	}
	redis_pool_put(&s->pool, c, false);
	return rc;
broken:
	redis_pool_fail(&s->pool, c, why);
	return BAYES_ETEMP;
}

/*
 * scan_keys - SCAN for PREFIX kind*, calling fn with batches of keys
 * (fn pipelines its own commands on c); 0 or a bayes_rc
 */
static int
scan_keys(struct redis_store *s, redisContext *c, char kind,
    int (*fn)(struct redis_store *, redisContext *, const redisReply *keys,
    void *), void *arg, struct buf *why)
{
	char pat[96], cursor[24] = "0";
	size_t pl;
	redisReply *r;
	const redisReply *keys;
	int rc;

	pl = make_key(s, kind, "*", 1, pat, sizeof(pat));
	do {
		r = redisCommand(c, "SCAN %s MATCH %b COUNT %d", cursor, pat, pl,
		    ITER_COUNT);
		if (r == NULL) {
			buf_printf(why, "Redis SCAN: %.100s", c->errstr);
			return BAYES_ETEMP;
		}
		if (bayes_redis_scan_page(r, cursor, sizeof(cursor),
		    &keys) < 0) {
			buf_adds(why, "Redis SCAN: unexpected reply");
			freeReplyObject(r);
			return BAYES_EPERM;
		}
		rc = keys->elements ? fn(s, c, keys, arg) : 0;
		freeReplyObject(r);
		if (rc != 0)
			return rc;
	} while (strcmp(cursor, "0") != 0);
	return BAYES_OK;
}

struct iter_ctx {
	int	(*fn)(const struct bayes_rec *, void *);
	void	*arg;
	struct buf *why;
	struct bayes_stats *st;		/* stats mode */
	time_t	 before;		/* prune mode */
	uint32_t max_total;
	uint64_t *removed;
};

/* batch_end - what a SCAN page callback returns */
static int
batch_end(struct iter_ctx *x, int stop)
{
	if (stop) {
		buf_adds(x->why, "stopped by the caller");
		return BAYES_EPERM;
	}
	return 0;
}

/* pipe_keys - queue cmd (with one %b for the key) for every key */
static void
pipe_keys(redisContext *c, const redisReply *keys, const char *cmd)
{
	size_t i;

	for (i = 0; i < keys->elements; i++)
		redisAppendCommand(c, cmd, keys->element[i]->str,
		    (size_t)keys->element[i]->len);
}

/* token_batch - HMGET every token key of one SCAN page */
static int
token_batch(struct redis_store *s, redisContext *c, const redisReply *keys,
    void *arg)
{
	struct iter_ctx *x = arg;
	size_t pl = strlen(s->prefix), i, ndel = 0;
	struct bayes_rec rec;
	redisReply *r;
	int stop = 0;

	pipe_keys(c, keys, "HMGET %b s h t");
	memset(&rec, 0, sizeof(rec));
	rec.kind = BAYES_REC_TOKEN;
	for (i = 0; i < keys->elements; i++) {
		const redisReply *k = keys->element[i];

		if ((r = redis_pool_reply(&s->pool, c, x->why)) == NULL)
			return BAYES_ETEMP;
		bayes_redis_counts(r, &rec.counts);
		freeReplyObject(r);
		if (bayes_redis_token_hash(k, pl, &rec.hash) < 0)
			continue;
		if (x->st) {
			x->st->ntokens++;
			if (rec.counts.seen && (x->st->oldest_seen == 0 ||
			    rec.counts.seen < x->st->oldest_seen))
				x->st->oldest_seen = rec.counts.seen;
			if (rec.counts.seen > x->st->newest_seen)
				x->st->newest_seen = rec.counts.seen;
		} else if (x->removed) {
			if ((time_t)rec.counts.seen < x->before &&
			    (uint64_t)rec.counts.spam + rec.counts.ham <=
			    x->max_total) {
				redisAppendCommand(c, "DEL %b", k->str,
				    (size_t)k->len);
				ndel++;
			}
		} else if (!stop)
			stop = x->fn(&rec, x->arg);
	}
	for (i = 0; i < ndel; i++) {
		if ((r = redis_pool_reply(&s->pool, c, x->why)) == NULL)
			return BAYES_ETEMP;
		if (r->type == REDIS_REPLY_INTEGER && r->integer > 0)
			(*x->removed)++;
		freeReplyObject(r);
	}
	return batch_end(x, stop);
}

static int
digest_batch(struct redis_store *s, redisContext *c, const redisReply *keys,
    void *arg)
{
	struct iter_ctx *x = arg;
	size_t pl = strlen(s->prefix), i;
	struct bayes_rec rec;
	redisReply *r;
	int stop = 0;

	pipe_keys(c, keys, "GET %b");
	memset(&rec, 0, sizeof(rec));
	rec.kind = BAYES_REC_DIGEST;
	for (i = 0; i < keys->elements; i++) {
		const redisReply *k = keys->element[i];

		if ((r = redis_pool_reply(&s->pool, c, x->why)) == NULL)
			return BAYES_ETEMP;
		if (x->st)
			x->st->ndigests++;
		if (!x->st && !stop && bayes_redis_digest(k, r, pl, &rec) == 0)
			stop = x->fn(&rec, x->arg);
		freeReplyObject(r);
	}
	return batch_end(x, stop);
}

static int
read_meta(struct redis_store *s, redisContext *c, struct bayes_stats *st,
    struct buf *why)
{
	char meta[96];
	size_t kl = make_key(s, 'm', "eta", 3, meta, sizeof(meta));
	redisReply *r = redisCommand(c, "HMGET %b nspam nham created "
	    "last_learn format tokenizer", meta, kl);

	if (r == NULL) {
		buf_printf(why, "Redis: %.100s", c->errstr);
		return BAYES_ETEMP;
	}
	bayes_redis_meta(r, st);
	freeReplyObject(r);
	return BAYES_OK;
}

static int
redis_stats(struct bayes_store *bs, struct bayes_stats *st, struct buf *why)
{
	struct redis_store *s = (struct redis_store *)bs;
	struct iter_ctx x;
	redisContext *c;
	redisReply *r;
	const char *m;
	int rc;

	if ((c = redis_pool_get(&s->pool, why)) == NULL)
		return BAYES_ETEMP;
	memset(&x, 0, sizeof(x));
	x.why = why;
	x.st = st;
	if ((rc = read_meta(s, c, st, why)) != BAYES_OK ||
	    (rc = scan_keys(s, c, 't', token_batch, &x, why)) != BAYES_OK ||
	    (rc = scan_keys(s, c, 'd', digest_batch, &x, why)) != BAYES_OK) {
		redis_pool_put(&s->pool, c, rc == BAYES_ETEMP);
		return rc;
	}
	/* the server's memory: shared with whatever else it holds */
	r = redisCommand(c, "INFO memory");
	if (r && r->type == REDIS_REPLY_STRING &&
	    (m = strstr(r->str, "used_memory:")) != NULL)
		st->bytes = strtoull(m + strlen("used_memory:"), NULL, 10);
	freeReplyObject(r);
	redis_pool_put(&s->pool, c, false);
	return BAYES_OK;
}

static int
redis_iter(struct bayes_store *bs, int (*fn)(const struct bayes_rec *, void *),
    void *arg, struct buf *why)
{
	struct redis_store *s = (struct redis_store *)bs;
	struct bayes_stats st;
	struct bayes_rec rec;
	struct iter_ctx x;
	redisContext *c;
	int rc;

	if ((c = redis_pool_get(&s->pool, why)) == NULL)
		return BAYES_ETEMP;
	memset(&st, 0, sizeof(st));
	memset(&rec, 0, sizeof(rec));
	memset(&x, 0, sizeof(x));
	x.fn = fn;
	x.arg = arg;
	x.why = why;
	if ((rc = read_meta(s, c, &st, why)) != BAYES_OK)
		goto out;
	rec.kind = BAYES_REC_TOTALS;
	rec.tot = st.tot;
	if (fn(&rec, arg) != 0) {
		buf_adds(why, "stopped by the caller");
		rc = BAYES_EPERM;
		goto out;
	}
	if ((rc = scan_keys(s, c, 't', token_batch, &x, why)) == BAYES_OK)
		rc = scan_keys(s, c, 'd', digest_batch, &x, why);
out:
	redis_pool_put(&s->pool, c, rc == BAYES_ETEMP);
	return rc;
}

static int
redis_put(struct bayes_store *bs, const struct bayes_rec *recs, size_t n,
    struct buf *why)
{
	struct redis_store *s = (struct redis_store *)bs;
	redisContext *c;
	redisReply *r;
	char key[96];
	uint8_t hb[8];
	size_t i, kl, sent = 0;
	int rc = BAYES_OK;

	if ((c = redis_pool_get(&s->pool, why)) == NULL)
		return BAYES_ETEMP;
	for (i = 0; i < n; i++) {
		const struct bayes_rec *x = &recs[i];

		switch (x->kind) {
		case BAYES_REC_TOTALS:
			kl = make_key(s, 'm', "eta", 3, key, sizeof(key));
			redisAppendCommand(c, "HINCRBY %b nspam %llu", key, kl,
			    (unsigned long long)x->tot.nspam);
			redisAppendCommand(c, "HINCRBY %b nham %llu", key, kl,
			    (unsigned long long)x->tot.nham);
			redisAppendCommand(c, "HSETNX %b created %lld", key, kl,
			    (long long)time(NULL));
			redisAppendCommand(c, "HSET %b format %d tokenizer %d",
			    key, kl, BAYES_STORE_FORMAT,
			    BAYES_TOKENIZER_VERSION);
			sent += 4;
			break;
		case BAYES_REC_TOKEN:
			bayes_be64_put(hb, x->hash);
			kl = make_key(s, 't', hb, 8, key, sizeof(key));
			redisAppendCommand(c, "HSET %b s %u h %u t %u", key, kl,
			    x->counts.spam, x->counts.ham, x->counts.seen);
			sent++;
			break;
		case BAYES_REC_DIGEST:
			kl = make_key(s, 'd', x->digest, BAYES_DIGEST_LEN, key,
			    sizeof(key));
			redisAppendCommand(c, "SET %b %s%u", key, kl,
			    x->cls == BAYES_SPAM ? "s" : "h", x->when);
			sent++;
			break;
		}
	}
	for (i = 0; i < sent; i++) {
		if ((r = redis_pool_reply(&s->pool, c, why)) == NULL) {
			redis_pool_fail(&s->pool, c, why);
			return BAYES_ETEMP;
		}
		if (r->type == REDIS_REPLY_ERROR && rc == BAYES_OK) {
			buf_printf(why, "Redis load: %.200s", r->str);
			rc = BAYES_EPERM;
		}
		freeReplyObject(r);
	}
	redis_pool_put(&s->pool, c, false);
	return rc;
}

static int
redis_prune(struct bayes_store *bs, time_t before, uint32_t max_total,
    uint64_t *removed, struct buf *why)
{
	struct redis_store *s = (struct redis_store *)bs;
	struct iter_ctx x;
	redisContext *c;
	int rc;

	if (before <= 0)
		return BAYES_OK;
	if ((c = redis_pool_get(&s->pool, why)) == NULL)
		return BAYES_ETEMP;
	memset(&x, 0, sizeof(x));
	x.why = why;
	x.before = before;
	x.max_total = max_total;
	x.removed = removed;
	rc = scan_keys(s, c, 't', token_batch, &x, why);
	redis_pool_put(&s->pool, c, rc == BAYES_ETEMP);
	return rc;
}

static void
redis_close(struct bayes_store *bs)
{
	struct redis_store *s = (struct redis_store *)bs;

	redis_pool_release(&s->pool);
	free(s->prefix);
	free(s->base.spec);
	free(s);
}

static const struct bayes_store_ops redis_ops = {
	"redis",
	redis_lookup,
	redis_learn,
	redis_stats,
	redis_iter,
	redis_put,
	redis_prune,
	redis_close,
	NULL			/* no map: bayes_store_usage() is -1 */
};

int
bayes_store_redis_open(const char *url, const struct bayes_store_opts *o,
    struct bayes_store **out, struct buf *why)
{
	struct redis_store *s;

	s = xcalloc(1, sizeof(*s));
	s->base.ops = &redis_ops;
	if (redis_pool_init(&s->pool, url, o->timeout_ms, o->retry_s,
	    "bayes_redis_timeout", why) < 0) {
		free(s);
		return BAYES_EPERM;
	}
	s->pool.metrics = true;	/* mailwarden_bayes_redis_* */
	s->prefix = xstrdup(o->prefix ? o->prefix : "mwb:");
	s->base.spec = redis_pool_shown(&s->pool);
	*out = &s->base;
	return BAYES_OK;
}
