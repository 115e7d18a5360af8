/*
 * step_rules.c - MIME conditions and rule hits as symbols
 *
 * DESCRIPTION
 *	step_mime_end() turns the MIME_F_* conditions of the decoded view
 *	(caps hit, malformed encodings, invisible HTML text) into symbols,
 *	so no cap is ever silent.  When nothing reads the decoded view (no
 *	rules, no blocklists, no Bayes: an authentication-only setup) the
 *	message is not decoded at all; its caps then limit nothing.
 *	step_rules_end() runs the engine's rule
 *	set, its eval: tests seeing the SPF, DKIM and DMARC symbols of the
 *	steps before (saeval_auth.c) and the scan's clock: every hit of a rule that is scored (not a __ sub-rule, score
 *	not 0) becomes a symbol with the rule's score and its describe text
 *	as detail, which is what a reject reply quotes.  A regex stopped by
 *	the match limit is named in RULES_REGEX_LIMIT (score 0).
 */
#include "config.h"

#include <stdbool.h>
#include <string.h>

#include "buf.h"
#include "conf.h"
#include "engine.h"
#include "mime.h"
#include "rules.h"
#include "scan.h"
#include "scan_steps.h"
#include "symbols.h"
#include "verdict.h"

/* content_used - some later step reads the decoded message */
static bool
content_used(const struct engine *e)
{
	return e->rules != NULL || e->dnsbl != NULL ||
	    e->conf->bayes_store[0] != '\0';
}

void
step_mime_end(struct scan *s, void *state)
{
	const struct mime_msg *mm;
	const struct mime_flag_info *f;
	size_t i;

	if (!content_used(s->eng))
		return;
	mm = scan_mime(s);
	for (i = 0; i < mime_flag_table_len; i++) {
		f = &mime_flag_table[i];
		if (mm->flags & f->flag)
			scan_emit(s, f->symbol, "%s",
			    symbols_builtin(f->symbol)->doc);
	}
}

void
step_rules_end(struct scan *s, void *state)
{
	const struct ruleset *rs = s->eng->rules;
	struct rules_env env = { s->now, &s->verdict };
	struct rules_result res;
	struct buf names = BUF_INIT;
	const struct rule *r;
	size_t i;

	if (rs == NULL)
		return;
	rules_eval_env(rs, s->msg, scan_mime(s), &env, 0, &res);
	for (i = 0; i < res.nhits; i++) {
		r = res.hits[i].rule;
		/* with rules_score_set = auto the set is final only after
		 * Bayes: report what some set scores; scan_end() rescores.
		 * A stock rule restating a built-in result (SPF_PASS) is
		 * not added twice. */
		if (!(s->eng->score_set_auto ? rule_scored_in_any(r) :
		    rule_scored(r)) || verdict_symbol(&s->verdict,
		    rule_name(r)) != NULL)
			continue;
		if (rule_describe(r))
			scan_symbol(s, rule_name(r), rule_score(r), "%s",
			    rule_describe(r));
		else
			scan_symbol(s, rule_name(r), rule_score(r), NULL);
	}
	for (i = 0; i < res.nlimited; i++)
		buf_printf(&names, "%s%s", i ? ", " : "",
		    rule_name(res.limited[i]));
	if (res.nlimited)
		scan_emit(s, "RULES_REGEX_LIMIT", "regex stopped by "
		    "rules_match_limit, rule skipped: %s", buf_cstr(&names));
	buf_release(&names);
	rules_result_release(&res);
}
