/*
 * scan.c - the ordered table of checks and the begin/body/end driver
 *
 * DESCRIPTION
 *	Each step has the same shape: an optional begin (end of headers)
 *	returning per-message state, an optional body consumer, an end
 *	that adds symbols to the verdict, and a destructor.  Steps run in
 *	table order; DMARC comes after SPF and DKIM because it reads their
 *	results.  Steps flagged STEP_SCORED are skipped for trusted
 *	sources (trusted_networks, authenticated senders) unless an
 *	outbound scope scores them; an exempt scope runs no step at all.
 *
 *	The policy scope (scope.h) is chosen once, at begin, from the
 *	connection, the envelope and the first recipient (the milter has
 *	deferred recipients of other scopes); s->eng is then the scope's
 *	engine, so every step reads the scope's settings.
 *
 *	A step that writes a value into the verdict log declares it in
 *	its row: the log key and the JSON the key holds when the step did
 *	not run (a trusted source) or found nothing.  The log writes
 *	these values in table order; the step fills its own with
 *	scan_output().  Nothing else in the core names a check.
 */
#include "config.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine.h"
#include "log.h"
#include "mime.h"
#include "msg.h"
#include "policy.h"
#include "rules.h"
#include "sample.h"
#include "scan.h"
#include "scan_steps.h"
#include "scope.h"
#include "str.h"
#include "symbols.h"
#include "strmap.h"
#include "vlog.h"

enum step_flags {
	STEP_SCORED = 1		/* only for mail that is scored */
};

struct scan_step {
	const char *name;
	unsigned flags;
	const char *log_key;		/* verdict-log key, or NULL */
	const char *log_none;		/* its value until the step fills it */
	void	*(*begin)(struct scan *);
	void	 (*body)(struct scan *, void *, const unsigned char *, size_t);
	void	 (*end)(struct scan *, void *);
	void	 (*free)(void *);
};

static const struct scan_step steps[] = {
	{ "message", 0, NULL, NULL, NULL, NULL, step_message_end, NULL },
	{ "lists", STEP_SCORED, NULL, NULL, NULL, NULL, step_lists_end, NULL },
	{ "spf", STEP_SCORED, "spf", "{\"result\":\"none\"}", step_spf_begin,
	  NULL, step_spf_end, step_spf_free },
	{ "dkim", 0, "dkim", "[]", step_dkim_begin, step_dkim_body,
	  step_dkim_end, step_dkim_free },
	/* arc after dkim (it shares nothing, but reads alike), before
	   dmarc, which reads it for arc_trusted_sealers */
	{ "arc", STEP_SCORED, "arc", "{\"result\":\"none\"}", step_arc_begin,
	  step_arc_body, step_arc_end, step_arc_free },
	{ "dmarc", STEP_SCORED, "dmarc", "{\"result\":\"none\"}", NULL, NULL,
	  step_dmarc_end, NULL },
	{ "welcome", STEP_SCORED, NULL, NULL, NULL, NULL, step_welcome_end,
	  NULL },
	{ "mime", STEP_SCORED, NULL, NULL, NULL, NULL, step_mime_end, NULL },
	{ "rules", STEP_SCORED, NULL, NULL, NULL, NULL, step_rules_end, NULL },
	{ "dnsbl", STEP_SCORED, NULL, NULL, step_dnsbl_begin, NULL,
	  step_dnsbl_end, NULL },
	/* a client a spam trap recorded (policy.c; the milter's scans) */
	{ "trap", STEP_SCORED, NULL, NULL, NULL, NULL, step_trap_end, NULL },
	/* keep bayes last: autolearn weighs every other check's score */
	{ "bayes", STEP_SCORED, "bayes", "{\"probability\":null}", NULL, NULL,
	  step_bayes_end, NULL },
};

#define NSTEPS	(sizeof(steps) / sizeof(steps[0]))

_Static_assert(NSTEPS <= SCAN_MAX_STEPS, "raise SCAN_MAX_STEPS");

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

/* wallclock - now with the sub-second part of the real clock */
static double
wallclock(time_t now)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	if (ts.tv_sec != now)
		return (double)now;
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void
scan_verdict_init(struct verdict *v)
{
	size_t i;

	verdict_init(v);
	for (i = 0; i < NSTEPS; i++)
		if (steps[i].log_key)
			verdict_output_declare(v, steps[i].log_key,
			    steps[i].log_none);
}

struct buf *
scan_output(struct scan *s, const char *key)
{
	struct buf *b = verdict_output(&s->verdict, key);

	if (b == NULL)		/* a bug: the step's row declares no key */
		log_panic("scan: no verdict-log key %s in the step table",
		    key);
	return b;
}

void *
scan_state(const struct scan *s, const char *name)
{
	size_t i;

	for (i = 0; i < NSTEPS; i++)
		if (strcmp(steps[i].name, name) == 0)
			return s->state[i];
	return NULL;
}

static bool
step_runs(const struct scan *s, const struct scan_step *st)
{
	if (s->verdict.untouched)
		return false;
	return !(st->flags & STEP_SCORED) || s->verdict.scored;
}

/*
 * apply_scope - what the scope changes besides settings: an exempt
 * scope accepts untouched; an outbound scope scores trusted mail (which
 * step_dkim still signs, since s->trusted stays) without X-Spam fields
 */
static void
apply_scope(struct scan *s)
{
	const struct scope *sc = s->eng->scope;

	if (sc == NULL)
		return;
	s->verdict.scope = sc->name;
	if (sc->trap_code[0])	/* the milter refused it at RCPT already */
		verdict_force_code(&s->verdict, FORCE_LIST_REJECT,
		    ACTION_REJECT, sc->trap_xcode, "SPAM_TRAP", "%s",
		    sc->trap_text);
	if (sc->exempt) {
		s->verdict.scored = false;
		s->verdict.untouched = true;
		s->verdict.unscored_why = "exempt scope";
	} else if (sc->outbound && s->trusted) {
		s->verdict.scored = true;
		s->verdict.no_spam_fields = true;
	}
}

/*
 * outbound_reply - a local user whose mail an outbound scope refuses
 * reads what happened, not which rules fired (those are in the log)
 */
static void
outbound_reply(struct scan *s)
{
	const struct scope *sc = s->eng->scope;
	struct verdict *v = &s->verdict;

	if (sc == NULL || !v->no_spam_fields || v->action != ACTION_REJECT)
		return;
	free(v->reply_text);
	v->reply_text = xstrdup(sc->reject_text ? sc->reject_text :
	    "Message not sent: this site's outbound filter takes it for "
	    "spam; please contact your postmaster");
	memcpy(v->smtp_xcode, "5.7.1", 6);
}

struct scan *
scan_begin_at(struct engine *eng, struct msg *m, time_t now)
{
	struct scan *s = xcalloc(1, sizeof(*s));
	const struct conf *c;
	double t0 = now_ms();
	size_t i;

	eng = engine_for_scope(eng, m, m->nrcpts ? m->rcpts[0] : NULL);
	c = eng->conf;
	s->eng = engine_ref(eng);
	s->msg = m;
	s->now = now;
	s->when = wallclock(now);
	scan_verdict_init(&s->verdict);
	dns_budget_init(&s->dns_budget, (double)c->dns_message_timeout);
	if (c->sample_dir[0] && !engine_read_only(eng)) { /* for replay */
		s->sample_dns = sample_dns_new();
		s->dns_budget.record = sample_dns_record;
		s->dns_budget.record_arg = s->sample_dns;
	}
	if (conf_is_trusted(c, &m->client_addr)) {
		s->trusted = true;
		s->verdict.unscored_why = "trusted network";
	} else if (c->trust_authenticated && m->auth_user) {
		s->trusted = true;
		s->verdict.unscored_why = "authenticated sender";
	}
	s->verdict.scored = !s->trusted;
	apply_scope(s);
	for (i = 0; i < NSTEPS; i++)
		if (steps[i].begin && step_runs(s, &steps[i]))
			s->state[i] = steps[i].begin(s);
	s->busy_ms += now_ms() - t0;
	return s;
}

struct scan *
scan_begin(struct engine *eng, struct msg *m)
{
	return scan_begin_at(eng, m, time(NULL));
}

void
scan_body(struct scan *s, const void *p, size_t n)
{
	double t0 = now_ms();
	size_t i;

	msg_add_body(s->msg, p, n);
	for (i = 0; i < NSTEPS; i++)
		if (steps[i].body && step_runs(s, &steps[i]))
			steps[i].body(s, s->state[i], p, n);
	s->busy_ms += now_ms() - t0;
}

struct rescore_ctx {
	const struct engine *e;
	unsigned set;
};

/* rescore_one - a symbol's score in the final set (see final_scores) */
static double
rescore_one(const char *name, double old, bool *drop, void *arg)
{
	const struct rescore_ctx *c = arg;
	const struct rule *r;

	if (strmap_get(c->e->scores, name))
		return engine_score_in(c->e, name, old, c->set);
	if (c->e->rules && (r = rules_find(c->e->rules, name)) != NULL) {
		*drop = rule_score_in(r, c->set) == 0;
		return rule_score_in(r, c->set);
	}
	return old;
}

/*
 * final_scores - with rules_score_set = auto, the Bayes columns apply
 * only when Bayes classified the message (a store that has not learned
 * bayes_min_spam and bayes_min_ham, or cannot be read, gives none) and
 * was not unsure about it (BAYES_40): otherwise the no-Bayes columns,
 * so that the rules decide with the weights they have when they stand
 * alone.  Rules the final set scores 0 go.
 */
static void
final_scores(struct scan *s)
{
	struct rescore_ctx c = { s->eng, s->eng->score_set };

	if (s->eng->score_set_auto) {
		if ((c.set & 2) && (!s->bayes_classified || s->bayes_unsure))
			c.set -= 2;
		verdict_rescore(&s->verdict, rescore_one, &c);
	}
	s->verdict.score_set = s->verdict.scored ? (int)c.set : -1;
}

void
scan_end(struct scan *s)
{
	double t0 = now_ms();
	size_t i;

	if (s->done)
		return;
	for (i = 0; i < NSTEPS; i++) {
		double ts = now_ms();

		s->step_ms[i] = -1;
		if (steps[i].end && step_runs(s, &steps[i])) {
			steps[i].end(s, s->state[i]);
			s->step_ms[i] = now_ms() - ts;
		}
	}
	final_scores(s);
	verdict_decide(&s->verdict, s->eng->conf);
	outbound_reply(s);
	policy_end(s);
	s->busy_ms += now_ms() - t0;
	s->verdict.elapsed_ms = s->busy_ms;
	pthread_mutex_lock(&s->dns_budget.lock);
	s->verdict.dns_ms = s->dns_budget.spent_ms;
	s->verdict.dns_degraded = s->dns_budget.failures > 0;
	pthread_mutex_unlock(&s->dns_budget.lock);
	s->done = true;
}

void
scan_free(struct scan **sp)
{
	struct scan *s = *sp;
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < NSTEPS; i++)
		if (steps[i].free && s->state[i])
			steps[i].free(s->state[i]);
	verdict_release(&s->verdict);
	mime_free(&s->mime);
	dns_budget_release(&s->dns_budget);
	sample_dns_free(&s->sample_dns);
	engine_unref(s->eng);
	free(s);
	*sp = NULL;
}

/* add_symbol - the symbol, its score looked up in the engine first */
static void
add_symbol(struct scan *s, const char *name, double def, const char *fmt,
    va_list ap)
{
	struct buf d = BUF_INIT;

	if (fmt)
		buf_vprintf(&d, fmt, ap);
	verdict_add(&s->verdict, name, engine_score(s->eng, name, def),
	    fmt ? "%s" : NULL, buf_cstr(&d));
	buf_release(&d);
}

void
scan_symbol(struct scan *s, const char *name, double def, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	add_symbol(s, name, def, fmt, ap);
	va_end(ap);
}

void
scan_emit(struct scan *s, const char *name, const char *fmt, ...)
{
	const struct symbol_info *si = symbols_builtin(name);
	va_list ap;

	if (si == NULL)		/* a bug: every built-in symbol has a row */
		log_panic("symbol %s is not in the table of symbols.c", name);
	va_start(ap, fmt);
	add_symbol(s, name, symbols_default(si, s->eng->conf), fmt, ap);
	va_end(ap);
}

const struct mime_msg *
scan_mime(struct scan *s)
{
	struct mime_limits lim;

	if (s->mime == NULL) {
		mime_limits_from_conf(&lim, s->eng->conf);
		s->mime = mime_parse(s->msg, &lim);
	}
	return s->mime;
}

size_t
scan_step_count(void)
{
	return NSTEPS;
}

const char *
scan_step_name(size_t i)
{
	return i < NSTEPS ? steps[i].name : NULL;
}

void
scan_log_line(const struct scan *s, struct buf *out)
{
	vlog_format(s->msg, &s->verdict, s->when, out);
}
