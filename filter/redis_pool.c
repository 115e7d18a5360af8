/*
 * redis_pool.c - Redis URL, connection pool, timeouts and outages
 *
 * DESCRIPTION
 *	What the Bayes store and the policy store share of a Redis server
 *	(redis_pool.h): each keeps its own pool, so an outage of one
 *	server is seen by the stores that use it, each within its own
 *	timeout.
 */
#include "config.h"

#include <hiredis/hiredis.h>

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "buf.h"
#include "metrics.h"
#include "redis_pool.h"
#include "str.h"

static double
mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---------------------------------------------------------------- */
/* URL */

static int
parse_url(struct redis_pool *s, const char *url, struct buf *why)
{
	const char *p = url + strlen("redis://"), *at, *hend, *slash;
	char num[16];
	uint64_t v;
	size_t n;

	s->port = 6379;
	slash = strchr(p, '/');
	at = memchr(p, '@', slash ? (size_t)(slash - p) : strlen(p));
	if (at) {
		const char *colon = memchr(p, ':', (size_t)(at - p));

		/* redis://:PASS@ or redis://USER:PASS@ (user ignored) */
		if (colon == NULL)
			colon = p - 1;
		s->password = xstrndup(colon + 1, (size_t)(at - colon - 1));
		p = at + 1;
	}
	if (*p == '[') {
		hend = strchr(p, ']');
		if (hend == NULL)
			goto bad;
		s->host = xstrndup(p + 1, (size_t)(hend - p - 1));
		hend++;
	} else {
		hend = p + strcspn(p, ":/");
		s->host = xstrndup(p, (size_t)(hend - p));
	}
	if (s->host[0] == '\0')
		goto bad;
	if (*hend == ':') {
		n = strcspn(hend + 1, "/");
		if (n == 0 || n >= sizeof(num))
			goto bad;
		memcpy(num, hend + 1, n);
		num[n] = '\0';
		if (parse_uint(num, 1, 65535, &v) < 0)
			goto bad;
		s->port = (int)v;
		hend += 1 + n;
	}
	if (*hend == '/' && hend[1] != '\0') {
		if (parse_uint(hend + 1, 0, 1000000, &v) < 0)
			goto bad;
		s->db = (unsigned)v;
	} else if (*hend != '\0' && strcmp(hend, "/") != 0)
		goto bad;
	return 0;
bad:
	buf_printf(why, "bad Redis URL (want redis://[:PASSWORD@]HOST"
	    "[:PORT][/DB])");
	return -1;
}

/* ---------------------------------------------------------------- */
/* connections */

/*
 * mark_down - Redis failed: no new attempt for retry_s seconds, and the
 * idle connections go too (they lead to the same failed server; kept,
 * each would fail on its turn, one retry window after the other, long
 * after Redis is back).
 */
static void
mark_down(struct redis_pool *s, const char *fmt, const char *detail)
{
	redisContext *old[REDIS_POOL_MAX];
	size_t i, n;

	if (s->metrics)
		metrics_redis(metrics_global(), MR_ERROR);
	pthread_mutex_lock(&s->lock);
	s->down_until = mono_now() + s->retry_s;
	s->lost = true;
	snprintf(s->down_why, sizeof(s->down_why), fmt, detail);
	n = s->nidle;
	memcpy(old, s->idle, n * sizeof(old[0]));
	s->nidle = 0;
	pthread_mutex_unlock(&s->lock);
	for (i = 0; i < n; i++)
		redisFree(old[i]);
}

/*
 * conn_alive - an idle connection has nothing to read: if its socket is
 * readable or hung up, the server closed it (restart, idle timeout) or
 * broke the protocol, and it must not be used.
 */
static bool
conn_alive(redisContext *c)
{
	struct pollfd p;

	p.fd = c->fd;
	p.events = POLLIN;
	p.revents = 0;
	return poll(&p, 1, 0) == 0;
}

static int
check_status(redisReply *r, const char *what, struct buf *why)
{
	int ok = r && r->type != REDIS_REPLY_ERROR;

	if (!ok)
		buf_printf(why, "Redis %s: %.100s", what,
		    r && r->str ? r->str : "no reply");
	freeReplyObject(r);
	return ok ? 0 : -1;
}

static redisContext *
connect_new(struct redis_pool *s, struct buf *why)
{
	redisContext *c = redisConnectWithTimeout(s->host, s->port, s->tv);

	if (c == NULL || c->err) {
		buf_printf(why, "Redis %s:%d: %.100s", s->host, s->port,
		    c ? c->errstr : "out of memory");
		goto fail;
	}
	if (redisSetTimeout(c, s->tv) != REDIS_OK) {
		buf_printf(why, "Redis: cannot set timeout: %.100s", c->errstr);
		goto fail;
	}
	if (s->password && check_status(redisCommand(c, "AUTH %s",
	    s->password), "AUTH", why) < 0)
		goto fail;
	if (s->db && check_status(redisCommand(c, "SELECT %u", s->db),
	    "SELECT", why) < 0)
		goto fail;
	return c;
fail:
	if (c)
		redisFree(c);
	return NULL;
}

/* redis_pool_get - a connection, or NULL (why says why) while Redis is down */
redisContext *
redis_pool_get(struct redis_pool *s, struct buf *why)
{
	redisContext *c = NULL, *stale[REDIS_POOL_MAX];
	size_t nstale = 0;
	double now = mono_now();

	pthread_mutex_lock(&s->lock);
	if (now < s->down_until) {
		buf_printf(why, "Redis unavailable (%s); retrying in %.0fs",
		    s->down_why, s->down_until - now + 0.5);
		pthread_mutex_unlock(&s->lock);
		return NULL;
	}
	while (s->nidle && c == NULL) {
		c = s->idle[--s->nidle];
		if (!conn_alive(c)) {
			stale[nstale++] = c;
			s->lost = true;
			c = NULL;
		}
	}
	pthread_mutex_unlock(&s->lock);
	while (nstale > 0)
		redisFree(stale[--nstale]);
	if (c)
		return c;
	if ((c = connect_new(s, why)) == NULL) {
		mark_down(s, "%s", buf_cstr(why));
		return NULL;
	}
	pthread_mutex_lock(&s->lock);
	if (s->lost && s->metrics)
		metrics_redis(metrics_global(), MR_RECONNECT);
	s->lost = false;
	pthread_mutex_unlock(&s->lock);
	return c;
}

/* redis_pool_put - return a healthy connection; a broken one is dropped */
void
redis_pool_put(struct redis_pool *s, redisContext *c, bool broken)
{
	if (c == NULL)
		return;
	if (broken || c->err) {
		if (c->err)
			mark_down(s, "%s", c->errstr);
		redisFree(c);
		return;
	}
	pthread_mutex_lock(&s->lock);
	if (s->nidle < REDIS_POOL_MAX) {
		s->idle[s->nidle++] = c;
		c = NULL;
	}
	pthread_mutex_unlock(&s->lock);
	if (c)
		redisFree(c);
}

/* redis_pool_fail - a call failed on c (why says how): drop it, mark down */
void
redis_pool_fail(struct redis_pool *s, redisContext *c, const struct buf *why)
{
	redisFree(c);
	mark_down(s, "%s", buf_cstr(why));
}

/* redis_pool_reply - next pipelined reply; NULL on I/O failure (why set) */
redisReply *
redis_pool_reply(const struct redis_pool *s, redisContext *c, struct buf *why)
{
	void *r = NULL;

	if (redisGetReply(c, &r) != REDIS_OK || r == NULL) {
		/* hiredis reports a read timeout as EAGAIN's text */
		if (c->err == REDIS_ERR_IO && (errno == EAGAIN ||
		    errno == EWOULDBLOCK))
			buf_printf(why, "Redis: no answer within %s",
			    s->timeout_key);
		else
			buf_printf(why, "Redis: %.100s", c->err ? c->errstr :
			    "no reply");
		return NULL;
	}
	return r;
}

/* ---------------------------------------------------------------- */
/* reply parsing */

uint64_t
redis_reply_uint(const redisReply *r, uint64_t max)
{
	char tmp[24];
	uint64_t v;

	if (r == NULL)
		return 0;
	if (r->type == REDIS_REPLY_INTEGER)
		return r->integer < 0 ? 0 : (uint64_t)r->integer > max ? max :
		    (uint64_t)r->integer;
	if (r->type != REDIS_REPLY_STRING || r->len == 0 ||
	    (size_t)r->len >= sizeof(tmp))
		return 0;
	memcpy(tmp, r->str, (size_t)r->len);
	tmp[r->len] = '\0';
	if (tmp[0] == '-')
		return 0;
	if (parse_uint(tmp, 0, UINT64_MAX, &v) < 0)
		return 0;
	return v > max ? max : v;
}

const redisReply *
redis_elem(const redisReply *r, size_t i)
{
	if (r == NULL || r->type != REDIS_REPLY_ARRAY || i >= r->elements)
		return NULL;
	return r->element[i];
}

/* ---------------------------------------------------------------- */
/* life */

int
redis_pool_init(struct redis_pool *s, const char *url, unsigned timeout_ms,
    unsigned retry_s, const char *timeout_key, struct buf *why)
{
	memset(s, 0, sizeof(*s));
	pthread_mutex_init(&s->lock, NULL);
	s->tv.tv_sec = timeout_ms / 1000;
	s->tv.tv_usec = (suseconds_t)(timeout_ms % 1000) * 1000;
	s->retry_s = retry_s;
	s->timeout_key = timeout_key;
	if (parse_url(s, url, why) < 0) {
		redis_pool_release(s);
		return -1;
	}
	return 0;
}

void
redis_pool_release(struct redis_pool *s)
{
	size_t i;

	for (i = 0; i < s->nidle; i++)
		redisFree(s->idle[i]);
	s->nidle = 0;
	pthread_mutex_destroy(&s->lock);
	free(s->host);
	if (s->password) {
		explicit_bzero(s->password, strlen(s->password));
		free(s->password);
	}
	s->host = s->password = NULL;
}

char *
redis_pool_shown(const struct redis_pool *s)
{
	struct buf shown = BUF_INIT;

	buf_printf(&shown, "redis://%s%s:%d/%u", s->password ? ":***@" : "",
	    s->host, s->port, s->db);
	return buf_steal(&shown);
}

int
store_spec_valid(const char *spec, struct buf *why)
{
	struct redis_pool p;

	if (str_has_iprefix(spec, "redis://")) {
		/* a pool only parses the URL until it is used */
		if (redis_pool_init(&p, spec, 1000, 0, "", why) < 0)
			return -1;
		redis_pool_release(&p);
		return 0;
	}
	if (spec[0] != '/') {
		buf_adds(why, "expected an absolute directory or redis://HOST"
		    "[:PORT][/DB]");
		return -1;
	}
	return 0;
}
