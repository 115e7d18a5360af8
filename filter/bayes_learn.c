/*
 * bayes_learn.c - configuration glue and the autolearn writer thread
 *
 * DESCRIPTION
 *	See bayes_learn.h.  The learner keeps a bounded queue (QUEUE_MAX
 *	messages) and a token bucket per class refilled at per_hour an
 *	hour, so a flood of clear-cut messages cannot rewrite the store
 *	faster than that.  Its thread starts on the first submission, so
 *	engines that never autolearn cost nothing.
 *
 * SECURITY
 *	Queue memory is bounded: QUEUE_MAX messages of at most
 *	bayes_max_tokens hashes each.
 */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "bayes_learn.h"
#include "buf.h"
#include "conf.h"
#include "log.h"
#include "mime.h"
#include "msg.h"

#define QUEUE_MAX	256
#define BATCH_MAX	32

void
bayes_params_from_conf(struct bayes_params *bp, const struct conf *c)
{
	bp->strength = c->bayes_strength;
	bp->prior = c->bayes_prior;
	bp->min_dev = c->bayes_min_dev;
	bp->max_clues = (unsigned)c->bayes_max_clues;
}

void
bayes_tok_opts_from_conf(struct bayes_tok_opts *o, const struct conf *c)
{
	memset(o, 0, sizeof(*o));
	o->bigrams = c->bayes_bigrams;
}

void
bayes_store_opts_from_conf(struct bayes_store_opts *o, const struct conf *c)
{
	static const struct bayes_store_opts def = BAYES_STORE_OPTS_DEFAULT;

	*o = def;
	o->map_size = c->bayes_map_size;
	o->memory_max = c->bayes_memory_max;
	o->timeout_ms = (unsigned)c->bayes_redis_timeout;
	o->retry_s = (unsigned)c->bayes_redis_retry;
	o->prefix = c->bayes_redis_prefix;
}

int
bayes_store_open_conf(const struct conf *c, const char *spec, bool readonly,
    struct bayes_store **out, struct buf *why)
{
	struct bayes_store_opts o;

	bayes_store_opts_from_conf(&o, c);
	o.readonly = readonly;
	return bayes_store_open(spec ? spec : c->bayes_store, &o, out, why);
}

void
bayes_msg_tokens(const struct conf *c, const struct msg *m,
    const struct mime_msg *mm, struct bayes_toks *t)
{
	struct bayes_tok_opts o;
	struct mime_limits lim;
	struct mime_msg *own = NULL;

	bayes_tok_opts_from_conf(&o, c);
	if (mm == NULL) {
		mime_limits_from_conf(&lim, c);
		mm = own = mime_parse(m, &lim);
	}
	bayes_tokenize(mm, &o, t);
	mime_free(&own);
}

/* ---------------------------------------------------------------- */
/* the autolearn queue */

struct item {
	struct bayes_learn_msg m;
	uint64_t *hashes;
	time_t	 now;
};

struct bucket {
	double	 tokens;
	time_t	 last;
};

struct bayes_learner {
	struct bayes_store *store;	/* borrowed: outlives the learner */
	unsigned per_hour;
	pthread_mutex_t lock;
	pthread_cond_t wake;		/* work or stop */
	pthread_cond_t idle;		/* queue drained */
	struct item q[QUEUE_MAX];
	size_t	 head, n;
	bool	 busy;			/* a batch is being written */
	bool	 started, stop;
	pthread_t thread;
	struct bucket buckets[2];
	uint64_t learned, dropped, failed;
};

static void *
learner_main(void *arg)
{
	struct bayes_learner *l = arg;
	struct bayes_learn_msg batch[BATCH_MAX];
	uint64_t *owned[BATCH_MAX];
	struct buf why = BUF_INIT;
	size_t n, i;
	time_t now = 0;
	int rc;

	pthread_mutex_lock(&l->lock);
	for (;;) {
		while (l->n == 0 && !l->stop)
			pthread_cond_wait(&l->wake, &l->lock);
		if (l->n == 0 && l->stop)
			break;
		for (n = 0; n < BATCH_MAX && l->n > 0; n++) {
			struct item *it = &l->q[l->head];

			batch[n] = it->m;
			owned[n] = it->hashes;
			now = it->now;
			l->head = (l->head + 1) % QUEUE_MAX;
			l->n--;
		}
		l->busy = true;
		pthread_mutex_unlock(&l->lock);

		buf_reset(&why);
		rc = bayes_store_learn(l->store, batch, n, now, &why);
		if (rc != BAYES_OK)
			log_warn("Bayes autolearn: %zu message(s) not learned: "
			    "%s", n, buf_cstr(&why));
		for (i = 0; i < n; i++)
			free(owned[i]);

		pthread_mutex_lock(&l->lock);
		if (rc == BAYES_OK)
			l->learned += n;
		else
			l->failed += n;
		l->busy = false;
		if (l->n == 0)
			pthread_cond_broadcast(&l->idle);
	}
	pthread_cond_broadcast(&l->idle);
	pthread_mutex_unlock(&l->lock);
	buf_release(&why);
	return NULL;
}

struct bayes_learner *
bayes_learner_new(struct bayes_store *s, unsigned per_hour)
{
	struct bayes_learner *l = xcalloc(1, sizeof(*l));

	l->store = s;
	l->per_hour = per_hour ? per_hour : 1;
	pthread_mutex_init(&l->lock, NULL);
	pthread_cond_init(&l->wake, NULL);
	pthread_cond_init(&l->idle, NULL);
	l->buckets[0].tokens = l->buckets[1].tokens = l->per_hour;
	return l;
}

/* take - one unit of the class's hourly allowance, if any is left */
static bool
take(struct bayes_learner *l, enum bayes_class cls, time_t now)
{
	struct bucket *b = &l->buckets[cls == BAYES_SPAM];

	if (b->last && now > b->last)
		b->tokens += (double)(now - b->last) * l->per_hour / 3600.0;
	if (b->tokens > l->per_hour)
		b->tokens = l->per_hour;
	b->last = now;
	if (b->tokens < 1.0)
		return false;
	b->tokens -= 1.0;
	return true;
}

enum bayes_submit
bayes_learner_submit(struct bayes_learner *l,
    const uint8_t digest[BAYES_DIGEST_LEN], enum bayes_class cls,
    const struct bayes_toks *t, time_t now)
{
	struct item *it;
	size_t i;

	pthread_mutex_lock(&l->lock);
	if (l->n == QUEUE_MAX) {
		l->dropped++;
		pthread_mutex_unlock(&l->lock);
		return BAYES_SUBMIT_QUEUE_FULL;
	}
	if (!take(l, cls, now)) {
		l->dropped++;
		pthread_mutex_unlock(&l->lock);
		return BAYES_SUBMIT_RATE_LIMITED;
	}
	if (!l->started) {
		if (pthread_create(&l->thread, NULL, learner_main, l) != 0) {
			l->dropped++;
			pthread_mutex_unlock(&l->lock);
			log_warn("Bayes autolearn: cannot start the writer "
			    "thread");
			return BAYES_SUBMIT_QUEUE_FULL;
		}
		l->started = true;
	}
	it = &l->q[(l->head + l->n) % QUEUE_MAX];
	memset(it, 0, sizeof(*it));
	memcpy(it->m.digest, digest, BAYES_DIGEST_LEN);
	it->m.cls = cls;
	it->m.op = BAYES_OP_LEARN;
	it->hashes = xcalloc(t->n ? t->n : 1, sizeof(uint64_t));
	for (i = 0; i < t->n; i++)
		it->hashes[i] = t->v[i].hash;
	it->m.hashes = it->hashes;
	it->m.nhashes = t->n;
	it->now = now;
	l->n++;
	pthread_cond_signal(&l->wake);
	pthread_mutex_unlock(&l->lock);
	return BAYES_SUBMIT_QUEUED;
}

void
bayes_learner_flush(struct bayes_learner *l)
{
	pthread_mutex_lock(&l->lock);
	while (l->started && (l->n > 0 || l->busy))
		pthread_cond_wait(&l->idle, &l->lock);
	pthread_mutex_unlock(&l->lock);
}

void
bayes_learner_counts(struct bayes_learner *l, uint64_t *learned,
    uint64_t *dropped, uint64_t *failed)
{
	pthread_mutex_lock(&l->lock);
	*learned = l->learned;
	*dropped = l->dropped;
	*failed = l->failed;
	pthread_mutex_unlock(&l->lock);
}

void
bayes_learner_free(struct bayes_learner *l)
{
	size_t i;

	if (l == NULL)
		return;
	pthread_mutex_lock(&l->lock);
	l->stop = true;
	pthread_cond_signal(&l->wake);
	pthread_mutex_unlock(&l->lock);
	if (l->started)
		pthread_join(l->thread, NULL);
	for (i = 0; i < l->n; i++)
		free(l->q[(l->head + i) % QUEUE_MAX].hashes);
	pthread_cond_destroy(&l->wake);
	pthread_cond_destroy(&l->idle);
	pthread_mutex_destroy(&l->lock);
	free(l);
}
