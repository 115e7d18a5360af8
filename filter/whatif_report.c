/*
 * whatif_report.c - count what-if outcomes and report them
 *
 * DESCRIPTION
 *	whatif_add() rescores one record (whatif.c) and counts it: the
 *	transition old action -> new action, per logged symbol the
 *	messages it hit and, when its score changed, the messages whose
 *	action moved with it (up: to a stricter action; down: to a
 *	milder one) and those its change alone would move at the logged
 *	thresholds; and the changed messages themselves, up to keep.
 *
 *	Strictness, for up and down: accept < tag < tempfail < reject.
 * SECURITY
 *	Names, addresses and subjects come from mail: lr_safe() for the
 *	terminal, json_str() for JSON, both capped.
 */
#include "config.h"

#include <json-c/json.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "conf.h"
#include "engine.h"
#include "json.h"
#include "logread.h"
#include "str.h"
#include "strmap.h"
#include "whatif_int.h"

struct whatif *
whatif_new(const struct engine *e, const char *conf_path, size_t keep)
{
	struct whatif *w = xcalloc(1, sizeof(*w));

	w->eng = w->cur = e;
	w->conf_path = xstrdup(conf_path ? conf_path : "");
	w->kinds = strmap_new();
	w->stats = strmap_new();
	w->keep = keep;
	return w;
}

static void
change_release(struct whatif_change *c)
{
	free(c->time);
	free(c->queue_id);
	free(c->from);
	free(c->subject);
	free(c->decided);
}

void
whatif_free(struct whatif **wp)
{
	struct whatif *w = *wp;
	size_t i;

	if (w == NULL)
		return;
	*wp = NULL;
	whatif_kinds_free(w->kinds);
	strmap_free(w->stats, free);
	for (i = 0; i < w->nchg; i++)
		change_release(&w->chg[i]);
	free(w->chg);
	for (i = 0; i < w->nnotes; i++)
		free(w->notes[i]);
	free(w->notes);
	free(w->conf_path);
	free(w);
}

uint64_t
whatif_messages(const struct whatif *w)
{
	return w->n;
}

uint64_t
whatif_changed(const struct whatif *w)
{
	return w->changed;
}

uint64_t
whatif_transition(const struct whatif *w, enum lr_action from,
    enum lr_action to)
{
	return (unsigned)from < LR_NACTIONS && (unsigned)to < LR_NACTIONS ?
	    w->trans[from][to] : 0;
}

/* strictness - accept < tag < tempfail < reject */
static int
strictness(enum lr_action a)
{
	static const int rank[LR_NACTIONS] = { 0, 1, 3, 2, 0 };

	return (unsigned)a < LR_NACTIONS ? rank[a] : 0;
}

/* threshold_action - the action of score s at the logged thresholds */
static enum lr_action
threshold_action(const struct logrec *r, double s)
{
	return s >= r->reject ? LR_REJECT : s >= r->tag ? LR_TAG : LR_ACCEPT;
}

/* stat_of - the counters of name, created on first sight (or NULL) */
static struct whatif_symstat *
stat_of(struct whatif *w, const char *name)
{
	struct whatif_symstat *s = strmap_get(w->stats, name);
	size_t n;

	if (s)
		return s;
	if (strmap_count(w->stats) >= WHATIF_MAX_DISTINCT) {
		w->stats_full++;
		return NULL;
	}
	n = strlen(name);
	s = xcalloc(1, sizeof(*s) + n + 1);
	memcpy(s->name, name, n + 1);
	strmap_put(w->stats, name, s);
	return s;
}

/* minmax - widen [lo, hi] (first value when n == 0) by v */
static void
minmax(double *lo, double *hi, double v, uint64_t n)
{
	if (n == 0 || v < *lo)
		*lo = v;
	if (n == 0 || v > *hi)
		*hi = v;
}

/*
 * alone - would this symbol's change by itself move r (not forced, old
 * or new) at the logged thresholds?
 */
static bool
alone(const struct logrec *r, const struct whatif_result *res,
    const struct whatif_sym *s)
{
	double moved;

	if (!r->has_thresholds || !r->has_score || res->forced_by[0] ||
	    lr_jstr(r->o, "forced_by"))
		return false;
	moved = r->score - s->old_score + (s->dropped ? 0 : s->new_score);
	return threshold_action(r, moved) != threshold_action(r, r->score);
}

/* count_syms - the symbol counters of one rescored record */
static void
count_syms(struct whatif *w, const struct logrec *r,
    const struct whatif_result *res)
{
	int dir = strictness(res->new_action) - strictness(res->old_action);
	struct whatif_symstat *st;
	size_t i;

	for (i = 0; i < res->nsyms; i++) {
		const struct whatif_sym *s = &res->syms[i];

		if ((st = stat_of(w, s->name)) == NULL)
			continue;
		minmax(&st->old_lo, &st->old_hi, s->old_score, st->hits);
		minmax(&st->new_lo, &st->new_hi, s->dropped ? 0 : s->new_score,
		    st->hits);
		st->hits++;
		if (!s->changed)
			continue;
		st->changed++;
		st->dropped += s->dropped;
		st->up += dir > 0;
		st->down += dir < 0;
		st->alone += alone(r, res, s);
	}
}

/* decided_text - why the new action: forcing, changed symbols */
static char *
decided_text(const struct logrec *r, const struct whatif_result *res,
    double tag, double reject)
{
	const char *was = lr_jstr(r->o, "forced_by");
	struct buf b = BUF_INIT;
	size_t i, shown = 0, more = 0;

	if (res->status == WHATIF_TRUSTED)
		buf_adds(&b, "trusted source (not scored)");
	if (res->forced_by[0])
		buf_printf(&b, "forced by %s", res->forced_by);
	else if (was && *was)
		buf_printf(&b, "no longer forced by %.64s", was);
	for (i = 0; i < res->nsyms; i++) {
		const struct whatif_sym *s = &res->syms[i];

		if (!s->changed)
			continue;
		if (shown == 8) {
			more++;
			continue;
		}
		buf_adds(&b, b.len ? ", " : "");
		if (s->added) {
			buf_printf(&b, "%.128s new %g", s->name, s->new_score);
			shown++;
			continue;
		}
		buf_printf(&b, "%.128s %g->", s->name, s->old_score);
		if (s->dropped)
			buf_adds(&b, "gone");
		else if (s->new_name != s->name)
			buf_printf(&b, "%s %g", s->new_name, s->new_score);
		else
			buf_printf(&b, "%g", s->new_score);
		shown++;
	}
	if (more)
		buf_printf(&b, ", +%zu more", more);
	if (b.len == 0 && res->status == WHATIF_RESCORED)
		buf_printf(&b, "thresholds: score %.2f, tag at %g, reject at "
		    "%g (logged %g, %g)", res->new_score, tag, reject, r->tag,
		    r->reject);
	return buf_steal(&b);
}

static char *
dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

/* keep_change - the changed message, while fewer than keep are kept */
static void
keep_change(struct whatif *w, const struct logrec *r,
    const struct whatif_result *res)
{
	struct whatif_change *c;

	if (w->keep && w->nchg >= w->keep) {
		w->chg_left++;
		return;
	}
	if (w->nchg == w->capchg) {
		w->capchg = w->capchg ? 2 * w->capchg : 64;
		w->chg = xreallocarray(w->chg, w->capchg, sizeof(*w->chg));
	}
	c = &w->chg[w->nchg++];
	c->time = r->time_text ? xstrndup(r->time_text, strnlen(r->time_text,
	    40)) : NULL;
	c->queue_id = dup_or_null(r->queue_id);
	c->from = dup_or_null(r->from ? r->from : r->mail_from);
	c->subject = r->subject ? xstrndup(r->subject, strnlen(r->subject,
	    200)) : NULL;
	c->decided = decided_text(r, res, w->cur->conf->tag_score,
	    w->cur->conf->reject_score);
	c->old_action = res->old_action;
	c->new_action = res->new_action;
	c->old_score = res->old_score;
	c->new_score = res->new_score;
}

/* count - the counters of one outcome res of record r */
static const struct whatif_result *
count(struct whatif *w, const struct logrec *r, struct whatif_result *res)
{
	w->n++;
	switch (res->status) {
	case WHATIF_NO_ACTION:
		w->no_action++;
		return res;
	case WHATIF_POLICY_STATE:
		w->policy_state++;
		return res;
	case WHATIF_UNSCORED:
		w->unscored++;
		w->not_derivable += res->not_derivable;
		break;
	case WHATIF_TRUSTED:
		w->trusted++;
		break;
	case WHATIF_RESCORED:
		count_syms(w, r, res);
		w->with_dropped += res->ndropped > 0;
		break;
	}
	w->trans[res->old_action][res->new_action]++;
	if (res->old_action != res->new_action) {
		w->changed++;
		keep_change(w, r, res);
	}
	return res;
}

const struct whatif_result *
whatif_add(struct whatif *w, const struct logrec *r)
{
	whatif_rescore(w, r, &w->res);
	return count(w, r, &w->res);
}

/* sym_score - the score of the symbol called name in a, or false */
static bool
sym_score(struct json_object *a, const char *name, double *score)
{
	size_t i, n = a ? json_object_array_length(a) : 0;
	const char *v;

	for (i = 0; i < n; i++) {
		struct json_object *o = json_object_array_get_idx(a, i);

		if ((v = lr_jstr(o, "name")) != NULL && strcmp(v, name) == 0) {
			*score = 0;
			(void)lr_jnum(o, "score", score);
			return true;
		}
	}
	return false;
}

/* add_sym - one symbol of a replay outcome */
static void
add_sym(struct whatif_result *res, const char *name, double old, double now,
    bool dropped, bool added)
{
	struct whatif_sym *s;

	if (res->nsyms >= WHATIF_MAX_SYMS)
		return;
	s = &res->syms[res->nsyms++];
	s->name = s->new_name = name;
	s->old_score = old;
	s->new_score = now;
	s->dropped = dropped;
	s->added = added;
	s->changed = dropped || added || old != now;
	res->ndropped += dropped;
}

/* replay_syms - old symbols with their new scores, then the new ones */
static void
replay_syms(const struct logrec *old, const struct logrec *now,
    struct whatif_result *res)
{
	size_t i, n;
	double o, v;
	const char *name;

	n = old->symbols ? json_object_array_length(old->symbols) : 0;
	for (i = 0; i < n; i++) {
		if ((name = lr_jstr(json_object_array_get_idx(old->symbols, i),
		    "name")) == NULL)
			continue;
		(void)sym_score(old->symbols, name, &o);
		if (sym_score(now->symbols, name, &v))
			add_sym(res, name, o, v, false, false);
		else
			add_sym(res, name, o, 0, true, false);
	}
	n = now->symbols ? json_object_array_length(now->symbols) : 0;
	for (i = 0; i < n; i++) {
		if ((name = lr_jstr(json_object_array_get_idx(now->symbols, i),
		    "name")) == NULL || sym_score(old->symbols, name, &o))
			continue;
		(void)sym_score(now->symbols, name, &v);
		add_sym(res, name, 0, v, false, true);
	}
}

/* policy_symbol - the stored verdict's policy store symbol, or NULL */
static const char *
policy_symbol(const struct logrec *r)
{
	size_t i, n = r->symbols ? json_object_array_length(r->symbols) : 0;
	const char *name;

	for (i = 0; i < n; i++)
		if ((name = lr_jstr(json_object_array_get_idx(r->symbols, i),
		    "name")) != NULL && (whatif_deferral(name) ||
		    strcmp(name, "MW_TRAP_CLIENT") == 0))
			return name;
	return NULL;
}

const struct whatif_result *
whatif_add_replayed(struct whatif *w, const struct logrec *old,
    const struct logrec *now)
{
	const char *policy = policy_symbol(old);

	w->cur = whatif_engine(w, old);	struct whatif_result *res = &w->res;
	const char *f = lr_jstr(now->o, "forced_by");

	memset(res, 0, offsetof(struct whatif_result, syms));
	res->nsyms = res->ndropped = 0;
	res->status = WHATIF_RESCORED;
	res->old_action = old->action;
	res->new_action = now->action;
	res->old_score = old->has_score ? old->score : 0;
	res->new_score = now->has_score ? now->score : 0;
	res->set = -1;
	snprintf(res->forced_by, sizeof(res->forced_by), "%s", f ? f : "");
	if (old->action == LR_OTHER || now->action == LR_OTHER)
		res->status = WHATIF_NO_ACTION;
	else if (policy) {
		struct buf b = BUF_INIT;

		res->status = WHATIF_POLICY_STATE;
		buf_adds(&b, old->queue_id ? old->queue_id : "NOQUEUE");
		buf_adds(&b, ": not replayable (policy state: ");
		buf_adds(&b, policy);
		buf_adds(&b, ")");
		whatif_note(w, buf_cstr(&b));
		buf_release(&b);
	} else
		replay_syms(old, now, res);
	return count(w, old, res);
}

void
whatif_note(struct whatif *w, const char *line)
{
	if (w->nnotes >= 1000) {
		w->notes_left++;
		return;
	}
	w->notes = xreallocarray(w->notes, w->nnotes + 1, sizeof(char *));
	w->notes[w->nnotes++] = xstrdup(line);
}

/* ------------------------------------------------------------------ */

struct symrow {
	const struct whatif_symstat *s;
};

static void
collect(const char *key, void *value, void *arg)
{
	struct whatif_symstat *s = value;
	struct buf *rows = arg;
	struct symrow r = { s };

	(void)key;
	if (s->changed)
		buf_add(rows, &r, sizeof(r));
}

/* by_moves - most moved first, then most changed, then by name */
static int
by_moves(const void *a, const void *b)
{
	const struct whatif_symstat *x = ((const struct symrow *)a)->s;
	const struct whatif_symstat *y = ((const struct symrow *)b)->s;
	uint64_t mx = x->up + x->down, my = y->up + y->down;

	if (mx != my)
		return mx < my ? 1 : -1;
	if (x->changed != y->changed)
		return x->changed < y->changed ? 1 : -1;
	return strcmp(x->name, y->name);
}

/* sym_rows - the symbols whose score changed, sorted; *n rows */
static struct symrow *
sym_rows(const struct whatif *w, size_t *n)
{
	struct buf rows = BUF_INIT;

	strmap_foreach(w->stats, collect, &rows);
	*n = rows.len / sizeof(struct symrow);
	if (*n)
		qsort(rows.data, *n, sizeof(struct symrow), by_moves);
	return (struct symrow *)(void *)buf_steal(&rows);
}

/* range_text - "2.5" or "2.5..3" */
static void
range_text(struct buf *b, double lo, double hi)
{
	if (lo == hi)
		buf_printf(b, "%g", lo);
	else
		buf_printf(b, "%g..%g", lo, hi);
}

/* cell - s made terminal-safe, cut and padded to width characters */
static void
cell(struct buf *o, const char *s, size_t width)
{
	struct buf t = BUF_INIT;
	size_t chars = 0, i;

	lr_safes(&t, s, 4 * width);
	for (i = 0; i < t.len && chars <= width; i++)
		if (((unsigned char)t.data[i] & 0xC0) != 0x80 && ++chars > width)
			break;
	buf_add(o, t.data, i);
	for (chars = chars > width ? width : chars; chars < width; chars++)
		buf_addc(o, ' ');
	buf_addc(o, ' ');
	buf_release(&t);
}

static void
text_totals(const struct whatif *w, uint64_t left_out, struct buf *o)
{
	uint64_t rescored = w->n - w->trusted - w->unscored - w->no_action -
	    w->policy_state;
	size_t a, b;

	buf_adds(o, "What-if under ");
	lr_safes(o, w->conf_path, 300);
	buf_printf(o, "\n\nMessages %llu", (unsigned long long)w->n);
	if (left_out)
		buf_printf(o, " (%llu left out by the filters)",
		    (unsigned long long)left_out);
	buf_printf(o, "\n  rescored from their symbols  %llu\n",
	    (unsigned long long)rescored);
	buf_printf(o, "  trusted now (not scored)     %llu\n",
	    (unsigned long long)w->trusted);
	buf_printf(o, "  not scored when logged       %llu", (unsigned long long)
	    w->unscored);
	if (w->not_derivable)
		buf_printf(o, " (%llu would be scored now: replay them to "
		    "know)", (unsigned long long)w->not_derivable);
	buf_addc(o, '\n');
	if (w->no_action)
		buf_printf(o, "  without a logged action      %llu (skipped)\n",
		    (unsigned long long)w->no_action);
	if (w->policy_state)
		buf_printf(o, "  not replayable (policy state) %llu (skipped: "
		    "greylisting, rate limit or trap client)\n",
		    (unsigned long long)w->policy_state);
	if (w->with_dropped)
		buf_printf(o, "  with a symbol nothing emits now %llu\n",
		    (unsigned long long)w->with_dropped);
	buf_printf(o, "\nAction changes %llu", (unsigned long long)w->changed);
	if (w->n)
		buf_printf(o, " (%.2f%%)", 100.0 * (double)w->changed /
		    (double)w->n);
	buf_addc(o, '\n');
	for (a = 0; a < LR_NACTIONS; a++)
		for (b = 0; b < LR_NACTIONS; b++)
			if (a != b && w->trans[a][b])
				buf_printf(o, "  %-8s -> %-8s %10llu\n",
				    lr_action_name((enum lr_action)a),
				    lr_action_name((enum lr_action)b),
				    (unsigned long long)w->trans[a][b]);
}

static void
text_symbols(const struct whatif *w, size_t top, struct buf *o)
{
	struct symrow *rows;
	struct buf t = BUF_INIT;
	size_t n, i;

	rows = sym_rows(w, &n);
	buf_printf(o, "\nSymbols with a new score %zu\n", n);
	if (n)
		buf_printf(o, "  %-32s %-12s %-12s %8s %8s %8s %8s\n", "SYMBOL",
		    "OLD", "NEW", "HIT", "UP", "DOWN", "ALONE");
	for (i = 0; i < n && (top == 0 || i < top); i++) {
		const struct whatif_symstat *s = rows[i].s;

		buf_adds(o, "  ");
		cell(o, s->name, 32);
		buf_reset(&t);
		range_text(&t, s->old_lo, s->old_hi);
		cell(o, buf_cstr(&t), 12);
		buf_reset(&t);
		if (s->dropped == s->changed)
			buf_adds(&t, "gone");
		else
			range_text(&t, s->new_lo, s->new_hi);
		cell(o, buf_cstr(&t), 12);
		buf_printf(o, "%8llu %8llu %8llu %8llu\n",
		    (unsigned long long)s->changed, (unsigned long long)s->up,
		    (unsigned long long)s->down, (unsigned long long)s->alone);
	}
	if (top && n > top)
		buf_printf(o, "  (%zu more: --top 0 lists all)\n", n - top);
	if (w->stats_full)
		buf_printf(o, "  (%llu symbol hits beyond %d distinct names "
		    "not counted)\n", (unsigned long long)w->stats_full,
		    WHATIF_MAX_DISTINCT);
	buf_release(&t);
	free(rows);
}

/* the widest transition, "tempfail -> tempfail" */
#define TRANSITION_W	20

static void
text_changes(const struct whatif *w, struct buf *o)
{
	struct buf t = BUF_INIT;
	size_t i;

	buf_printf(o, "\nChanged messages %llu\n", (unsigned long long)
	    w->changed);
	if (w->nchg)
		buf_printf(o, "  %-19s %-12s %-*s %-13s %-28s %-30s %s\n",
		    "TIME", "QUEUE-ID", TRANSITION_W, "OLD -> NEW", "SCORE",
		    "FROM",
		    "SUBJECT", "DECIDED BY");
	for (i = 0; i < w->nchg; i++) {
		const struct whatif_change *c = &w->chg[i];

		buf_adds(o, "  ");
		cell(o, c->time, 19);
		cell(o, c->queue_id, 12);
		buf_reset(&t);
		buf_printf(&t, "%s -> %s", lr_action_name(c->old_action),
		    lr_action_name(c->new_action));
		cell(o, buf_cstr(&t), TRANSITION_W);
		buf_reset(&t);
		buf_printf(&t, "%.2f->%.2f", c->old_score, c->new_score);
		cell(o, buf_cstr(&t), 13);
		cell(o, c->from, 28);
		cell(o, c->subject, 30);
		lr_safes(o, c->decided, 600);
		buf_addc(o, '\n');
	}
	if (w->chg_left)
		buf_printf(o, "  (%llu more: --limit 0 lists all)\n",
		    (unsigned long long)w->chg_left);
	buf_release(&t);
}

void
whatif_text(const struct whatif *w, const struct logread_stats *st,
    uint64_t left_out, size_t top, struct buf *out)
{
	text_totals(w, left_out, out);
	text_symbols(w, top, out);
	text_changes(w, out);
	if (w->nnotes) {
		size_t i;

		buf_printf(out, "\nNotes %zu\n", w->nnotes);
		for (i = 0; i < w->nnotes; i++) {
			buf_adds(out, "  ");
			lr_safes(out, w->notes[i], 600);
			buf_addc(out, '\n');
		}
		if (w->notes_left)
			buf_printf(out, "  (%llu more)\n",
			    (unsigned long long)w->notes_left);
	}
	if (st && (st->malformed || st->nerrors)) {
		buf_addc(out, '\n');
		lr_input_report(st, out);
	}
}

/* ------------------------------------------------------------------ */

static void
json_u64(struct buf *o, const char *key, uint64_t v)
{
	json_key(o, key, 0);
	buf_printf(o, "%llu", (unsigned long long)v);
}

static void
json_range(struct buf *o, const char *key, double lo, double hi)
{
	json_key(o, key, 0);
	if (lo == hi) {
		json_num(o, lo);
		return;
	}
	buf_addc(o, '[');
	json_num(o, lo);
	buf_addc(o, ',');
	json_num(o, hi);
	buf_addc(o, ']');
}

static void
json_transitions(const struct whatif *w, struct buf *o)
{
	size_t a, b;
	bool first = true;

	json_key(o, "transitions", 0);
	buf_addc(o, '[');
	for (a = 0; a < LR_NACTIONS; a++)
		for (b = 0; b < LR_NACTIONS; b++) {
			if (a == b || w->trans[a][b] == 0)
				continue;
			buf_adds(o, first ? "{" : ",{");
			first = false;
			json_key(o, "from", 1);
			json_cstr(o, lr_action_name((enum lr_action)a));
			json_key(o, "to", 0);
			json_cstr(o, lr_action_name((enum lr_action)b));
			json_u64(o, "count", w->trans[a][b]);
			buf_addc(o, '}');
		}
	buf_addc(o, ']');
}

static void
json_symbols(const struct whatif *w, size_t top, struct buf *o)
{
	struct symrow *rows;
	size_t n, i;

	rows = sym_rows(w, &n);
	json_key(o, "symbols", 0);
	buf_addc(o, '[');
	for (i = 0; i < n && (top == 0 || i < top); i++) {
		const struct whatif_symstat *s = rows[i].s;

		buf_adds(o, i ? ",{" : "{");
		json_key(o, "name", 1);
		json_cstr(o, s->name);
		json_range(o, "old", s->old_lo, s->old_hi);
		if (s->dropped == s->changed) {
			json_key(o, "new", 0);
			buf_adds(o, "null");
		} else
			json_range(o, "new", s->new_lo, s->new_hi);
		json_u64(o, "hits", s->hits);
		json_u64(o, "changed", s->changed);
		json_u64(o, "dropped", s->dropped);
		json_u64(o, "moved_up", s->up);
		json_u64(o, "moved_down", s->down);
		json_u64(o, "alone", s->alone);
		buf_addc(o, '}');
	}
	buf_addc(o, ']');
	free(rows);
}

static void
json_changes(const struct whatif *w, struct buf *o)
{
	size_t i;

	json_key(o, "changed_messages", 0);
	buf_addc(o, '[');
	for (i = 0; i < w->nchg; i++) {
		const struct whatif_change *c = &w->chg[i];

		buf_adds(o, i ? ",{" : "{");
		json_key(o, "time", 1);
		json_cstr(o, c->time);
		json_key(o, "queue_id", 0);
		json_cstr(o, c->queue_id);
		json_key(o, "from", 0);
		json_cstr(o, c->from);
		json_key(o, "subject", 0);
		json_cstr(o, c->subject);
		json_key(o, "old_action", 0);
		json_cstr(o, lr_action_name(c->old_action));
		json_key(o, "new_action", 0);
		json_cstr(o, lr_action_name(c->new_action));
		json_key(o, "old_score", 0);
		json_num(o, c->old_score);
		json_key(o, "new_score", 0);
		json_num(o, c->new_score);
		json_key(o, "decided_by", 0);
		json_cstr(o, c->decided);
		buf_addc(o, '}');
	}
	buf_addc(o, ']');
	json_u64(o, "changed_not_listed", w->chg_left);
}

void
whatif_json(const struct whatif *w, const struct logread_stats *st,
    uint64_t left_out, size_t top, struct buf *o)
{
	buf_addc(o, '{');
	json_key(o, "config", 1);
	json_cstr(o, w->conf_path);
	json_u64(o, "messages", w->n);
	json_u64(o, "left_out", left_out);
	json_u64(o, "rescored", w->n - w->trusted - w->unscored -
	    w->no_action - w->policy_state);
	json_u64(o, "trusted_now", w->trusted);
	json_u64(o, "unscored", w->unscored);
	json_u64(o, "not_derivable", w->not_derivable);
	json_u64(o, "no_action", w->no_action);
	json_u64(o, "policy_state", w->policy_state);
	json_u64(o, "with_dropped_symbol", w->with_dropped);
	json_u64(o, "changed", w->changed);
	json_transitions(w, o);
	json_symbols(w, top, o);
	json_changes(w, o);
	json_key(o, "notes", 0);
	buf_addc(o, '[');
	for (size_t i = 0; i < w->nnotes; i++) {
		if (i)
			buf_addc(o, ',');
		json_cstr(o, w->notes[i]);
	}
	buf_addc(o, ']');
	json_u64(o, "malformed", st ? st->malformed : 0);
	json_u64(o, "input_errors", st ? st->nerrors : 0);
	buf_adds(o, "}\n");
}
