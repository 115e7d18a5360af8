/*
 * verdict.c - from symbols to an action, a reply and header edits
 *
 * STANDARDS
 *	RFC 8601 (Authentication-Results), RFC 3463 (enhanced status
 *	codes), SpamAssassin's X-Spam-* conventions.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "hdr.h"
#include "log.h"
#include "msg.h"
#include "str.h"
#include "verdict.h"

static const char *const action_names[] = {
	"accept", "tag", "reject", "tempfail"
};

const char *
action_name(enum action a)
{
	return (unsigned)a < 4 ? action_names[a] : "accept";
}

void
verdict_init(struct verdict *v)
{
	memset(v, 0, sizeof(*v));
	v->scored = true;
	v->score_set = -1;
}

void
verdict_output_declare(struct verdict *v, const char *key,
    const char *none_json)
{
	struct verdict_output *o;

	if (v->noutputs == VERDICT_MAX_OUTPUTS)	/* a bug, not input */
		log_panic("verdict: raise VERDICT_MAX_OUTPUTS for %s", key);
	o = &v->outputs[v->noutputs++];
	o->key = key;
	buf_init(&o->json);
	buf_adds(&o->json, none_json);
}

struct buf *
verdict_output(struct verdict *v, const char *key)
{
	size_t i;

	for (i = 0; i < v->noutputs; i++)
		if (strcmp(v->outputs[i].key, key) == 0)
			return &v->outputs[i].json;
	return NULL;
}

void
verdict_release(struct verdict *v)
{
	size_t i;

	for (i = 0; i < v->nsyms; i++) {
		free(v->syms[i].name);
		free(v->syms[i].detail);
	}
	free(v->syms);
	for (i = 0; i < v->nauthres; i++)
		free(v->authres[i]);
	free(v->authres);
	free(v->force_symbol);
	free(v->force_reason);
	free(v->reply_text);
	free(v->floor_symbol);
	for (i = 0; i < v->nxhdrs; i++) {
		free(v->xhdrs[i].name);
		free(v->xhdrs[i].value);
	}
	free(v->xhdrs);
	free(v->quarantine_reason);
	for (i = 0; i < v->noutputs; i++)
		buf_release(&v->outputs[i].json);
	memset(v, 0, sizeof(*v));
}

void
verdict_add(struct verdict *v, const char *name, double score,
    const char *fmt, ...)
{
	struct symbol *s;
	struct buf d = BUF_INIT;
	va_list ap;

	v->syms = xreallocarray(v->syms, v->nsyms + 1, sizeof(*v->syms));
	s = &v->syms[v->nsyms++];
	s->name = xstrdup(name);
	s->score = score;
	s->detail = NULL;
	if (fmt) {
		va_start(ap, fmt);
		buf_vprintf(&d, fmt, ap);
		va_end(ap);
		s->detail = buf_steal(&d);
	}
}

void
verdict_rescore(struct verdict *v,
    double (*fn)(const char *name, double old, bool *drop, void *arg),
    void *arg)
{
	size_t i, n = 0;
	bool drop;

	for (i = 0; i < v->nsyms; i++) {
		drop = false;
		v->syms[i].score = fn(v->syms[i].name, v->syms[i].score, &drop,
		    arg);
		if (drop) {
			free(v->syms[i].name);
			free(v->syms[i].detail);
			continue;
		}
		v->syms[n++] = v->syms[i];
	}
	v->nsyms = n;
}

/* vforce - force an action if prio outranks what is forced already */
static void
vforce(struct verdict *v, int prio, enum action a, const char *xcode,
    const char *symbol, const char *fmt, va_list ap)
{
	struct buf r = BUF_INIT;

	if (prio <= v->force_prio)
		return;
	buf_vprintf(&r, fmt, ap);
	v->force_prio = prio;
	v->force_action = a;
	free(v->force_symbol);
	free(v->force_reason);
	v->force_symbol = xstrdup(symbol);
	v->force_reason = buf_steal(&r);
	snprintf(v->force_xcode, sizeof(v->force_xcode), "%s",
	    xcode ? xcode : "");
}

void
verdict_force(struct verdict *v, int prio, enum action a, const char *symbol,
    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vforce(v, prio, a, NULL, symbol, fmt, ap);
	va_end(ap);
}

void
verdict_force_code(struct verdict *v, int prio, enum action a,
    const char *xcode, const char *symbol, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vforce(v, prio, a, xcode, symbol, fmt, ap);
	va_end(ap);
}

void
verdict_floor(struct verdict *v, enum action a, const char *symbol)
{
	if (a <= v->floor || a > ACTION_REJECT)
		return;
	v->floor = a;
	free(v->floor_symbol);
	v->floor_symbol = xstrdup(symbol);
}

void
verdict_add_header(struct verdict *v, const char *name, const char *fmt, ...)
{
	struct buf r = BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(&r, fmt, ap);
	va_end(ap);
	v->xhdrs = xreallocarray(v->xhdrs, v->nxhdrs + 1, sizeof(*v->xhdrs));
	v->xhdrs[v->nxhdrs].name = xstrdup(name);
	v->xhdrs[v->nxhdrs++].value = buf_steal(&r);
}

void
verdict_add_authres(struct verdict *v, const char *fmt, ...)
{
	struct buf r = BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(&r, fmt, ap);
	va_end(ap);
	v->authres = xreallocarray(v->authres, v->nauthres + 1, sizeof(char *));
	v->authres[v->nauthres++] = buf_steal(&r);
}

void
verdict_quarantine(struct verdict *v, const char *fmt, ...)
{
	struct buf r = BUF_INIT;
	va_list ap;

	v->quarantine = true;
	if (v->quarantine_reason)
		return;
	va_start(ap, fmt);
	buf_vprintf(&r, fmt, ap);
	va_end(ap);
	v->quarantine_reason = buf_steal(&r);
}

const struct symbol *
verdict_symbol(const struct verdict *v, const char *name)
{
	size_t i;

	for (i = 0; i < v->nsyms; i++)
		if (strcmp(v->syms[i].name, name) == 0)
			return &v->syms[i];
	return NULL;
}

/* main_cause - the symbol with the highest positive score */
static const struct symbol *
main_cause(const struct verdict *v)
{
	const struct symbol *best = NULL;
	size_t i;

	for (i = 0; i < v->nsyms; i++)
		if (v->syms[i].score > 0 &&
		    (best == NULL || v->syms[i].score > best->score))
			best = &v->syms[i];
	return best;
}

static void
set_reply(struct verdict *v, const char *code, const char *xcode, char *text)
{
	strcpy(v->smtp_code, code);
	strcpy(v->smtp_xcode, xcode);
	free(v->reply_text);
	v->reply_text = text;
}

void
verdict_decide(struct verdict *v, const struct conf *c)
{
	const struct symbol *why;
	size_t i;

	v->tag_score = c->tag_score;
	v->reject_score = c->reject_score;
	v->score = 0;
	for (i = 0; i < v->nsyms; i++)
		v->score += v->syms[i].score;
	if (!v->scored)
		v->action = ACTION_ACCEPT;
	else if (v->force_prio > FORCE_NONE)
		v->action = v->force_action;
	else if (v->score >= c->reject_score)
		v->action = ACTION_REJECT;
	else if (v->score >= c->tag_score)
		v->action = ACTION_TAG;
	else
		v->action = ACTION_ACCEPT;
	if (v->scored && v->force_prio == FORCE_NONE && v->action < v->floor)
		v->action = v->floor;

	if (v->action == ACTION_REJECT) {
		if (v->force_prio > FORCE_NONE)
			set_reply(v, "550", v->force_xcode[0] ? v->force_xcode :
			    "5.7.1", xstrdup(v->force_reason));
		else if ((why = main_cause(v)) != NULL)
			set_reply(v, "550", "5.7.1", xasprintf("Message rejected "
			    "as spam (score %.1f, limit %.1f): %s%s%s",
			    v->score, c->reject_score, why->name,
			    why->detail ? ", " : "",
			    why->detail ? why->detail : ""));
		else
			set_reply(v, "550", "5.7.1", xasprintf("Message rejected "
			    "as spam (score %.1f, limit %.1f)", v->score,
			    c->reject_score));
	} else if (v->action == ACTION_TEMPFAIL) {
		set_reply(v, "451", v->force_xcode[0] ? v->force_xcode :
		    "4.7.1", xasprintf("Try again later: %s",
		    v->force_reason ? v->force_reason : "checks incomplete"));
	} else {
		v->smtp_code[0] = v->smtp_xcode[0] = '\0';
		free(v->reply_text);
		v->reply_text = NULL;
	}
}

void
verdict_authres_value(const struct verdict *v, const char *id, struct buf *out)
{
	size_t i;

	buf_adds(out, id);
	if (v->nauthres == 0) {
		buf_adds(out, "; none");
		return;
	}
	for (i = 0; i < v->nauthres; i++) {
		buf_adds(out, ";\n\t");
		buf_adds(out, v->authres[i]);
	}
}

static int
cmp_sym_name(const void *a, const void *b)
{
	const struct symbol *const *x = a, *const *y = b;

	return strcmp((*x)->name, (*y)->name);
}

void
verdict_status_value(const struct verdict *v, struct buf *out)
{
	const struct symbol **sorted;
	const char **words;
	struct buf head = BUF_INIT;
	size_t i, n = v->nsyms;

	buf_printf(&head, "%s, score=%.1f tag=%.1f reject=%.1f tests=",
	    v->action == ACTION_TAG || v->action == ACTION_REJECT ? "Yes" : "No",
	    v->score, v->tag_score, v->reject_score);
	buf_add(out, head.data, head.len);
	if (n == 0) {
		buf_adds(out, "none");
		buf_release(&head);
		return;
	}
	sorted = xcalloc(n, sizeof(*sorted));
	words = xcalloc(n, sizeof(*words));
	for (i = 0; i < n; i++)
		sorted[i] = &v->syms[i];
	qsort(sorted, n, sizeof(*sorted), cmp_sym_name);
	for (i = 0; i < n; i++)
		words[i] = sorted[i]->name;
	hdr_fold_words(out, words, n, ",", strlen("X-Spam-Status: ") + head.len,
	    78);
	free(sorted);
	free(words);
	buf_release(&head);
}

static void
edit(struct hdr_edits *e, enum hdr_edit_op op, const char *name, size_t index,
    char *value)
{
	struct hdr_edit *x;

	e->v = xreallocarray(e->v, e->n + 1, sizeof(*e->v));
	x = &e->v[e->n++];
	x->op = op;
	x->name = xstrdup(name);
	x->index = index;
	x->value = value;
}

/* delete_matching - delete fields called name (all, or ours only) */
static void
delete_matching(struct hdr_edits *e, const struct msg *m, const char *name,
    const char *authserv_id)
{
	struct buf id = BUF_INIT;
	size_t i, count = msg_header_count(m, name);

	/* highest index first, so earlier indexes stay valid */
	for (i = count; i > 0; i--) {
		const struct hdr *h = msg_header(m, name, i - 1);

		if (authserv_id) {
			if (hdr_authres_id(h->value, h->value_len, &id) < 0 ||
			    !hdr_authres_id_eq(buf_cstr(&id), authserv_id))
				continue;
		}
		edit(e, EDIT_DELETE, name, i, NULL);
	}
	buf_release(&id);
}

void
verdict_header_edits(const struct verdict *v, const struct msg *m,
    const struct conf *c, struct hdr_edits *e)
{
	static const char *const spam_fields[] = {
		"X-Spam-Flag", "X-Spam-Score", "X-Spam-Status"
	};
	const char *id = conf_authserv_id(c);
	struct buf val = BUF_INIT;
	size_t i;

	e->v = NULL;
	e->n = 0;
	if (v->action == ACTION_REJECT || v->action == ACTION_TEMPFAIL ||
	    v->untouched)
		return;
	delete_matching(e, m, "Authentication-Results", id);
	for (i = 0; i < 3; i++)
		delete_matching(e, m, spam_fields[i], NULL);
	for (i = 0; i < v->nxhdrs; i++)
		edit(e, EDIT_PREPEND, v->xhdrs[i].name, 0,
		    xstrdup(v->xhdrs[i].value));

	verdict_authres_value(v, id, &val);
	edit(e, EDIT_PREPEND, "Authentication-Results", 0, buf_steal(&val));
	if (!v->scored || v->no_spam_fields)
		return;
	if (v->action == ACTION_TAG)
		edit(e, EDIT_ADD, "X-Spam-Flag", 0, xstrdup("YES"));
	edit(e, EDIT_ADD, "X-Spam-Score", 0, xasprintf("%.1f", v->score));
	verdict_status_value(v, &val);
	edit(e, EDIT_ADD, "X-Spam-Status", 0, buf_steal(&val));

	if (v->action == ACTION_TAG && c->subject_tag[0]) {
		const struct hdr *s = msg_header(m, "Subject", 0);

		if (s == NULL) {
			edit(e, EDIT_ADD, "Subject", 0, xstrdup(c->subject_tag));
		} else {
			const char *p = s->value;
			size_t n = s->value_len;

			while (n && ch_is_wsp((unsigned char)*p)) {
				p++;
				n--;
			}
			if (strncmp(p, c->subject_tag, strlen(c->subject_tag)) != 0)
				edit(e, EDIT_CHANGE, "Subject", 1, xasprintf(
				    "%s %.*s", c->subject_tag, (int)n, p));
		}
	}
}

void
hdr_edits_release(struct hdr_edits *e)
{
	size_t i;

	for (i = 0; i < e->n; i++) {
		free(e->v[i].name);
		free(e->v[i].value);
	}
	free(e->v);
	e->v = NULL;
	e->n = 0;
}
