/*
 * step_bayes.c - the Bayes probability as a symbol, and autolearning
 *
 * DESCRIPTION
 *	At the end of the message: tokens of the decoded message, their
 *	counts from the engine's store, the chi-square probability, one
 *	band symbol (table below; scores overridable by symbol name), and
 *	the verdict's "bayes" JSON:
 *
 *	    {"probability":0.9987,"band":"BAYES_99",
 *	     "learned":{"spam":N,"ham":N},"ntokens":N,"nknown":N,
 *	     "nclues":N,"tokens":[{"token":"subject:free","p":0.99,
 *	     "spam":N,"ham":N},...],"store":"lmdb","ms":0.8}
 *
 *	"tokens" lists the clues that weighed most, most extreme first.
 *	Until bayes_min_spam and bayes_min_ham messages are learned there
 *	is no band symbol: "probability" is null, "skipped":"untrained"
 *	says why, and the zero-score symbol BAYES_UNTRAINED states it.  A
 *	store that fails temporarily (Redis down or slow) gives
 *	"probability":null,"degraded":true and no symbol: the message goes
 *	on without Bayes, never waits longer than the store's timeout.
 *
 *	This step runs last so that autolearn (bayes_learn.h) sees the
 *	score of every other check.  Its guards are in autolearn() and
 *	doc/bayes.md.
 */
#include "config.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bayes.h"
#include "bayes_learn.h"
#include "bayes_store.h"
#include "buf.h"
#include "engine.h"
#include "json.h"
#include "log.h"
#include "msg.h"
#include "scan.h"
#include "scan_steps.h"

#define TOP_TOKENS	12	/* clues listed in the verdict */
#define WARN_EVERY	60	/* seconds between store failure warnings */

/* the bands' default scores are in symbols.c (see doc/bayes.md) */
static const struct band {
	const char *name;
	double	 from;		/* lower bound, inclusive */
} bands[] = {
	{ "BAYES_00", 0.00 },
	{ "BAYES_05", 0.05 },
	{ "BAYES_20", 0.20 },
	{ "BAYES_40", 0.40 },	/* unsure, and no clue at all (0.5) */
	{ "BAYES_60", 0.60 },
	{ "BAYES_80", 0.80 },
	{ "BAYES_95", 0.95 },
	{ "BAYES_99", 0.99 },	/* default score = default tag_score */
};

#define NBANDS	(sizeof(bands) / sizeof(bands[0]))
#define UNSURE_BAND	3	/* BAYES_40: the rules decide (scan.c) */

static const struct band *
band_of(double p)
{
	size_t i = NBANDS;

	while (i > 1 && p < bands[i - 1].from)
		i--;
	return &bands[i - 1];
}

static double
ms_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) * 1000.0 +
	    (double)(t1.tv_nsec - t0->tv_nsec) / 1e6;
}

static void
warn_store(const char *why)
{
	static atomic_llong last;
	long long now = (long long)time(NULL), prev = atomic_load(&last);

	if (now - prev >= WARN_EVERY &&
	    atomic_compare_exchange_strong(&last, &prev, now))
		log_warn("Bayes skipped: %s", why);
}

static void
json_learned(struct buf *j, const struct bayes_totals *t)
{
	json_key(j, "learned", 0);
	buf_printf(j, "{\"spam\":%llu,\"ham\":%llu}",
	    (unsigned long long)t->nspam, (unsigned long long)t->nham);
}

static void
json_clues(struct buf *j, const struct bayes_toks *t,
    const struct bayes_result *r)
{
	size_t i;

	json_key(j, "tokens", 0);
	buf_addc(j, '[');
	for (i = 0; i < r->nclues && i < TOP_TOKENS; i++) {
		const struct bayes_clue *c = &r->clues[i];

		if (i)
			buf_addc(j, ',');
		buf_adds(j, "{\"token\":");
		json_cstr(j, bayes_tok_text(t, c->idx));
		json_key(j, "p", 0);
		buf_printf(j, "%.4f", c->f);
		buf_printf(j, ",\"spam\":%u,\"ham\":%u}", c->spam, c->ham);
	}
	buf_addc(j, ']');
}

/* authres_has - does one of our Authentication-Results pieces say it? */
static bool
authres_has(const struct verdict *v, const char *method_result)
{
	size_t i, n = strlen(method_result);

	for (i = 0; i < v->nauthres; i++)
		if (strncmp(v->authres[i], method_result, n) == 0 &&
		    (v->authres[i][n] == ' ' || v->authres[i][n] == '\0'))
			return true;
	return false;
}

/*
 * autolearn - learn a clear-cut message; the reason it did not, or
 * NULL when it was queued.  p < 0: Bayes gave no probability.
 */
static const char *
autolearn(struct scan *s, const struct bayes_toks *t, double p,
    enum bayes_class *cls)
{
	const struct conf *c = s->eng->conf;
	const struct verdict *v = &s->verdict;
	uint8_t digest[BAYES_DIGEST_LEN];
	bool authed;
	double score = 0;
	size_t i;

	if (v->force_prio > FORCE_NONE)
		return "action forced by policy";
	if (s->msg->flags & (MSG_F_BODY_TRUNCATED | MSG_F_HDRS_TRUNCATED))
		return "message truncated";
	if (t->dropped)
		return "token cap reached";
	/* Bayes' own opinion never counts toward learning itself */
	for (i = 0; i < v->nsyms; i++)
		if (strncmp(v->syms[i].name, "BAYES_", 6) != 0)
			score += v->syms[i].score;
	authed = authres_has(v, "dkim=pass") || authres_has(v, "dmarc=pass");
	if (score >= c->bayes_autolearn_spam) {
		if (authed)
			return "spam score but authenticated sender";
		if (p >= 0 && p < 0.2)
			return "spam score but Bayes says ham";
		*cls = BAYES_SPAM;
	} else if (score <= c->bayes_autolearn_ham) {
		if (!authed)
			return "ham score but sender not authenticated";
		if (p >= 0 && p > 0.8)
			return "ham score but Bayes says spam";
		*cls = BAYES_HAM;
	} else
		return "score not clear-cut";
	bayes_digest(s->msg, digest);
	switch (bayes_learner_submit(s->eng->autolearn, digest, *cls, t,
	    s->now)) {
	case BAYES_SUBMIT_QUEUED:
		return NULL;
	case BAYES_SUBMIT_RATE_LIMITED:
		return "hourly autolearn allowance used";
	default:
		return "autolearn queue full";
	}
}

static void
json_autolearn(struct buf *j, const char *why, enum bayes_class cls)
{
	json_key(j, "autolearn", 0);
	if (why == NULL)
		json_cstr(j, cls == BAYES_SPAM ? "spam" : "ham");
	else {
		buf_adds(j, "\"no\"");
		json_key(j, "autolearn_why", 0);
		json_cstr(j, why);
	}
}

void
step_bayes_end(struct scan *s, void *state)
{
	const struct engine *e = s->eng;
	const struct conf *c = e->conf;
	struct bayes_store *store;
	struct buf *j = scan_output(s, "bayes"), why = BUF_INIT;
	struct bayes_toks t;
	struct bayes_counts *counts = NULL;
	struct bayes_totals tot;
	struct bayes_params bp;
	struct bayes_result r;
	const struct band *b;
	struct timespec t0;
	const char *nolearn = "Bayes has no probability";
	enum bayes_class cls = BAYES_HAM;
	uint64_t *h = NULL;
	double p = -1;
	size_t i;
	int rc;

	if (c->bayes_store[0] == '\0')
		return;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	bayes_toks_init(&t, (size_t)c->bayes_max_tokens, true);
	bayes_msg_tokens(c, s->msg, scan_mime(s), &t);
	h = xcalloc(t.n ? t.n : 1, sizeof(*h));
	counts = xcalloc(t.n ? t.n : 1, sizeof(*counts));
	for (i = 0; i < t.n; i++)
		h[i] = t.v[i].hash;
	if ((store = engine_bayes(s->eng, &why)) == NULL)
		rc = BAYES_ETEMP;
	else
		rc = bayes_store_lookup(store, h, t.n, counts, &tot, &why);
	buf_reset(j);
	if (rc != BAYES_OK) {
		warn_store(buf_cstr(&why));
		buf_adds(j, "{\"probability\":null,\"degraded\":true");
		json_key(j, "reason", 0);
		json_cstr(j, buf_cstr(&why));
		nolearn = "store unavailable";
	} else if (tot.nspam < c->bayes_min_spam || tot.nham < c->bayes_min_ham) {
		buf_adds(j, "{\"probability\":null,\"skipped\":\"untrained\"");
		json_learned(j, &tot);
		buf_printf(j, ",\"need\":{\"spam\":%llu,\"ham\":%llu}",
		    (unsigned long long)c->bayes_min_spam,
		    (unsigned long long)c->bayes_min_ham);
		scan_emit(s, "BAYES_UNTRAINED", "learned %llu spam and "
		    "%llu ham, needs %llu and %llu",
		    (unsigned long long)tot.nspam, (unsigned long long)tot.nham,
		    (unsigned long long)c->bayes_min_spam,
		    (unsigned long long)c->bayes_min_ham);
		nolearn = NULL;
	} else {
		bayes_params_from_conf(&bp, c);
		bayes_classify(&bp, tot.nspam, tot.nham, counts, t.n, &r);
		p = r.prob;
		b = band_of(p);
		buf_adds(j, "{\"probability\":");
		buf_printf(j, "%.6f", p);
		json_key(j, "band", 0);
		json_cstr(j, b->name);
		json_learned(j, &tot);
		buf_printf(j, ",\"ntokens\":%zu,\"nknown\":%zu,\"nclues\":%zu",
		    r.ntokens, r.nknown, r.nclues);
		if (t.dropped)
			buf_printf(j, ",\"capped\":%zu", t.dropped);
		json_clues(j, &t, &r);
		scan_emit(s, b->name, "spam probability %.4f", p);
		s->bayes_classified = true;
		s->bayes_unsure = b == &bands[UNSURE_BAND];
		bayes_result_release(&r);
		nolearn = NULL;
	}
	json_key(j, "store", 0);
	json_cstr(j, store ? store->ops->name :
	    bayes_store_is_redis(c->bayes_store) ? "redis" : "lmdb");
	if (e->autolearn) {
		if (nolearn == NULL)
			nolearn = autolearn(s, &t, p, &cls);
		json_autolearn(j, nolearn, cls);
	}
	json_key(j, "ms", 0);
	buf_printf(j, "%.3f}", ms_since(&t0));
	free(h);
	free(counts);
	bayes_toks_release(&t);
	buf_release(&why);
}
