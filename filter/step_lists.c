/*
 * step_lists.c - local access lists as symbols and forced actions
 *
 * DESCRIPTION
 *	A REJECT entry forces a 550 5.7.1 with the entry's text (or a
 *	default naming what matched); OK forces acceptance; SCORE adds its
 *	score.  Symbols are LIST_<KIND>_BLOCK for REJECT and positive
 *	scores, LIST_<KIND>_ALLOW for OK and negative scores.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "engine.h"
#include "lists.h"
#include "msg.h"
#include "scan.h"
#include "scan_steps.h"
#include "str.h"

static const char *const kind_names[LIST_NKINDS] = {
	"CLIENT", "SENDER", "HELO"
};

static const char *const kind_words[LIST_NKINDS] = {
	"client address", "sender", "HELO name"
};

static void
apply(struct scan *s, enum list_kind k, const struct list_entry *e,
    const char *what)
{
	char sym[32];
	struct buf shown = BUF_INIT;

	str_escape(&shown, what, strlen(what), 100);
	switch (e->action) {
	case LIST_REJECT:
		snprintf(sym, sizeof(sym), "LIST_%s_BLOCK", kind_names[k]);
		scan_emit(s, sym, "%s %s matches %s", kind_words[k],
		    buf_cstr(&shown), e->key);
		if (e->text)
			verdict_force(&s->verdict, FORCE_LIST_REJECT,
			    ACTION_REJECT, sym, "%s", e->text);
		else
			verdict_force(&s->verdict, FORCE_LIST_REJECT,
			    ACTION_REJECT, sym, "Mail from %s %s refused by "
			    "local policy", kind_words[k], buf_cstr(&shown));
		break;
	case LIST_OK:
		snprintf(sym, sizeof(sym), "LIST_%s_ALLOW", kind_names[k]);
		scan_emit(s, sym, "%s %s matches %s", kind_words[k],
		    buf_cstr(&shown), e->key);
		verdict_force(&s->verdict, FORCE_ALLOW, ACTION_ACCEPT, sym,
		    "%s %s allowed by local policy", kind_words[k],
		    buf_cstr(&shown));
		break;
	case LIST_SCORE:
		snprintf(sym, sizeof(sym), "LIST_%s_%s", kind_names[k],
		    e->score < 0 ? "ALLOW" : "BLOCK");
		/* the entry's own score: not overridable by name */
		verdict_add(&s->verdict, sym, e->score, "%s %s matches %s%s%s",
		    kind_words[k], buf_cstr(&shown), e->key,
		    e->text ? ": " : "", e->text ? e->text : "");
		break;
	}
	buf_release(&shown);
}

void
step_lists_end(struct scan *s, void *state)
{
	struct list *const *l = s->eng->lists;
	const struct msg *m = s->msg;
	const struct list_entry *e;

	if ((e = list_match_addr(l[LIST_CLIENT], &m->client_addr)) != NULL)
		apply(s, LIST_CLIENT, e, m->client_ip);
	if (m->mail_from &&
	    (e = list_match_sender(l[LIST_SENDER], m->mail_from)) != NULL)
		apply(s, LIST_SENDER, e, m->mail_from);
	if (m->helo && (e = list_match_helo(l[LIST_HELO], m->helo)) != NULL)
		apply(s, LIST_HELO, e, m->helo);
}
