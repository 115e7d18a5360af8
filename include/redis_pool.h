/*
 * redis_pool.h - Redis connections shared by the milter threads
 *
 * DESCRIPTION
 *	A pool is what the Bayes store (bayes_store_redis.c) and the policy
 *	store (pstore_redis.c) need of a Redis server: its URL,
 *
 *	    redis://[:PASSWORD@]HOST[:PORT][/DB]
 *
 *	a small set of idle connections, a connect and command timeout,
 *	and the fault behaviour: after any connection or protocol failure
 *	the server is considered down for retry_s seconds, during which
 *	redis_pool_get() fails at once instead of each caller waiting for
 *	the timeout, so an outage costs a thread at most one timeout.  The
 *	idle connections are dropped then, and an idle connection the
 *	server has closed (a restart) is never handed out.  Failures and
 *	reconnections of a pool with metrics set (the Bayes store's) are
 *	counted for the metrics endpoint (metrics_redis).
 *
 * SECURITY
 *	Replies are untrusted: redis_reply_uint() and redis_elem() check
 *	types and bounds.  HOST should be an address or a name in
 *	/etc/hosts: name resolution happens at connect time and is not
 *	covered by the timeout.
 */
#ifndef MW_REDIS_POOL_H
#define MW_REDIS_POOL_H

#include <hiredis/hiredis.h>

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/time.h>

struct buf;

#define REDIS_POOL_MAX	16		/* idle connections kept */

struct redis_pool {
	char	*host;
	int	 port;
	unsigned db;
	char	*password;
	struct timeval tv;
	unsigned retry_s;
	const char *timeout_key;	/* named when a command times out */
	bool	 metrics;		/* count failures (metrics_redis) */

	pthread_mutex_t lock;
	redisContext *idle[REDIS_POOL_MAX];
	size_t	 nidle;
	double	 down_until;	/* CLOCK_MONOTONIC seconds */
	char	 down_why[160];
	bool	 lost;		/* a connection failed or went stale since
				   the last one made (metrics: reconnects) */
};

/*
 * redis_pool_init - parse url (which must start with redis://); 0, or
 * -1 with a reason (the pool is then released already).  timeout_key
 * is a static string, the key the operator sets the timeout with.
 */
int	 redis_pool_init(struct redis_pool *, const char *url,
	    unsigned timeout_ms, unsigned retry_s, const char *timeout_key,
	    struct buf *why);
void	 redis_pool_release(struct redis_pool *);
/* redis_pool_shown - the URL with the password masked (caller frees) */
char	*redis_pool_shown(const struct redis_pool *);
/* redis_pool_get - a connection, or NULL (why says why) while down */
redisContext *redis_pool_get(struct redis_pool *, struct buf *why);
/* redis_pool_put - return a healthy connection; a broken one is dropped */
void	 redis_pool_put(struct redis_pool *, redisContext *, bool broken);
/* redis_pool_fail - a call failed on c (why says how): drop, mark down */
void	 redis_pool_fail(struct redis_pool *, redisContext *,
	    const struct buf *why);
/* redis_pool_reply - next pipelined reply; NULL on I/O failure (why) */
redisReply *redis_pool_reply(const struct redis_pool *, redisContext *,
	    struct buf *why);

/* redis_reply_uint - an integer or decimal string reply, capped at max;
 * 0 for anything else */
uint64_t redis_reply_uint(const redisReply *, uint64_t max);
/* redis_elem - element i of an array reply, or NULL */
const redisReply *redis_elem(const redisReply *, size_t i);

/*
 * store_spec_valid - the spec of a store that is a directory (LMDB) or
 * a Redis server, syntax only: an absolute path or a well-formed URL
 */
int	 store_spec_valid(const char *spec, struct buf *why);

#endif
