/*
 * whatif.c - one logged verdict decided again under a new configuration
 *
 * DESCRIPTION
 *	The score of a logged symbol under the new engine follows the
 *	order of scan.c (add_symbol, then final_scores):
 *	  - a name in the engine's score overrides (symbol_scores, rule
 *	    file `score` lines for non-rules): that score in the set;
 *	  - a rule of the new rule files: dropped when the rule would not
 *	    be added (scored in no set that applies), else its score in
 *	    the set; with rules_score_set = auto a rule the final set
 *	    scores 0 goes, as in final_scores();
 *	  - a DNS list entry's symbol: the entry's score;
 *	  - a built-in symbol: its default under the new configuration
 *	    (symbols_default: some follow tag_score or an action key);
 *	    dropped when the new configuration switches its check off
 *	    (spf, spf_helo, dmarc, an empty bayes_store);
 *	  - LIST_* (local lists): the logged score, kept;
 *	  - MW_GREYLIST, MW_RATELIMIT_*, MW_TRAP_CLIENT (policy store
 *	    state): their built-in scores; a logged greylisting or rate
 *	    limit deferral is kept for mail the new configuration would
 *	    accept or tag (policy_end() defers only that), and a trap
 *	    client hit is forced again by the new trap_client_action;
 *	  - anything else nothing in the new configuration emits: dropped.
 *	The score set is conf_score_set_base() of the new configuration;
 *	with auto, the Bayes columns only when the record shows a Bayes
 *	probability outside the unsure band BAYES_40 (bayes_classified and
 *	bayes_unsure in scan.c).
 *
 *	A record logged under a policy scope ("scope") is decided by the
 *	engine of the new configuration's scope of that name (its scores,
 *	thresholds and actions), as scan_begin() would pick it; a scope
 *	the new configuration no longer has leaves the main engine.
 *
 *	Forced actions come again from the new configuration through the
 *	same verdict_force()/verdict_floor() calls the steps make (table
 *	policies below); the verdict is then verdict_decide() itself, so
 *	priorities, floors and thresholds cannot drift from the milter.
 *	dmarc_never_reject renames DMARC_REJECT to DMARC_QUARANTINE (and
 *	back, when the logged detail says the rename happened), as
 *	step_dmarc.c does.
 * SEE ALSO
 *	whatif_report.c (aggregation and output), scan.c, verdict.c
 */
#include "config.h"

#include <json-c/json.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "conf.h"
#include "dnsbl.h"
#include "engine.h"
#include "netaddr.h"
#include "rules.h"
#include "scope.h"
#include "str.h"
#include "strmap.h"
#include "symbols.h"
#include "verdict.h"
#include "whatif.h"
#include "whatif_int.h"

/* a symbol name's origin in the new configuration */
enum sym_kind {
	K_OVERRIDE,		/* in the engine's score map */
	K_RULE,
	K_DNSBL,
	K_BUILTIN,
	K_LIST,			/* local list: logged score kept */
	K_GONE			/* nothing emits it */
};

/* bl_entry - the first DNS list entry with that symbol, or NULL */
static const struct dnsbl_entry *
bl_entry(const struct dnsbl *bl, const char *name)
{
	size_t z, k;

	if (bl == NULL)
		return NULL;
	for (z = 0; z < bl->nzones; z++)
		for (k = 0; k < bl->zones[z].n; k++)
			if (strcmp(bl->zones[z].v[k].symbol, name) == 0)
				return &bl->zones[z].v[k];
	return NULL;
}

/*
 * step_off - is the check that emits built-in symbol si switched off
 * in c (spf, spf_helo, dmarc, no bayes_store), so it emits nothing?
 */
static bool
step_off(const struct conf *c, const struct symbol_info *si)
{
	if (strcmp(si->step, "spf") == 0)
		return !c->spf || (!c->spf_helo &&
		    strncmp(si->name, "SPF_HELO_", 9) == 0);
	if (strcmp(si->step, "dmarc") == 0)
		return !c->dmarc;
	if (strcmp(si->step, "bayes") == 0)
		return c->bayes_store[0] == '\0';
	return false;
}

/* classify - where the new configuration takes name's score from */
static void
classify(const struct engine *e, const char *name, struct kind *k)
{
	const struct dnsbl_entry *be;

	memset(k, 0, sizeof(*k));
	if (strncmp(name, "LIST_", 5) == 0) {
		k->kind = K_LIST;
		return;
	}
	if (e->rules && (k->rule = rules_find(e->rules, name)) != NULL) {
		k->kind = strmap_get(e->scores, name) ? K_OVERRIDE : K_RULE;
		k->rule_emitted = e->score_set_auto ?
		    rule_scored_in_any(k->rule) : rule_scored(k->rule);
		return;
	}
	if ((be = bl_entry(e->dnsbl, name)) != NULL) {
		k->kind = strmap_get(e->scores, name) ? K_OVERRIDE : K_DNSBL;
		k->bl_score = be->score;
		k->bl_reject = be->reject;
		return;
	}
	if ((k->si = symbols_builtin(name)) != NULL) {
		k->kind = step_off(e->conf, k->si) ? K_GONE :
		    strmap_get(e->scores, name) ? K_OVERRIDE : K_BUILTIN;
		return;
	}
	k->kind = strmap_get(e->scores, name) ? K_OVERRIDE : K_GONE;
}

/*
 * kind_of - classify() under the record's engine (w->cur), cached per
 * name and scope for the life of w (a scope has scores of its own)
 */
static const struct kind *
kind_of(struct whatif *w, const char *name)
{
	struct buf key = BUF_INIT;
	struct kind *k;

	buf_adds(&key, name);
	if (w->cur->scope) {		/* no symbol name holds a space */
		buf_addc(&key, ' ');
		buf_adds(&key, w->cur->scope->name);
	}
	if ((k = strmap_get(w->kinds, buf_cstr(&key))) == NULL) {
		if (strmap_count(w->kinds) >= WHATIF_MAX_DISTINCT)
			k = &w->kind_tmp;
		else {
			k = xmalloc(sizeof(*k));
			strmap_put(w->kinds, buf_cstr(&key), k);
		}
		classify(w->cur, name, k);
	}
	buf_release(&key);
	return k;
}

const struct engine *
whatif_engine(const struct whatif *w, const struct logrec *r)
{
	const char *name = lr_jstr(r->o, "scope");
	const struct scope *sc;

	if (name == NULL || w->eng->scopes == NULL ||
	    (sc = scope_find(w->eng->scopes, name)) == NULL || sc->eng == NULL)
		return w->eng;
	return sc->eng;
}

void
whatif_kinds_free(struct strmap *m)
{
	strmap_free(m, free);
}

/*
 * new_score - name's score in set; *drop when the new configuration
 * would not add it.  old is the logged score (kept for local lists).
 */
static double
new_score(struct whatif *w, const char *name, double old, unsigned set,
    bool *drop)
{
	const struct engine *e = w->cur;
	const struct kind *k = kind_of(w, name);
	double def;

	*drop = false;
	switch (k->kind) {
	case K_LIST:
		return old;
	case K_GONE:
		*drop = true;
		return 0;
	case K_RULE:
		*drop = !k->rule_emitted || (e->score_set_auto &&
		    rule_score_in(k->rule, set) == 0);
		return rule_score_in(k->rule, set);
	case K_DNSBL:
		return k->bl_score;
	case K_BUILTIN:
		return symbols_default(k->si, e->conf);
	case K_OVERRIDE:
		if (k->rule && !k->rule_emitted) {
			*drop = true;
			return 0;
		}
		def = k->si ? symbols_default(k->si, e->conf) : old;
		return engine_score_in(e, name, def, set);
	}
	return old;
}

/* ------------------------------------------------------------------ */
/* forced actions: what the steps force, from the new configuration */

static void
force_spf(struct verdict *v, const char *sym, const char *action,
    const char *xcode)
{
	if (str_ieq(action, "reject"))
		verdict_force_code(v, FORCE_POLICY_REJECT, ACTION_REJECT, xcode,
		    sym, "%s (policy of the new configuration)", sym);
	else if (str_ieq(action, "tag"))
		verdict_floor(v, ACTION_TAG, sym);
}

static void
force_tempfail(struct verdict *v, const char *sym, const char *action,
    const char *xcode)
{
	if (str_ieq(action, "tempfail"))
		verdict_force_code(v, FORCE_TEMPFAIL, ACTION_TEMPFAIL, xcode,
		    sym, "%s (policy of the new configuration)", sym);
}

static void
force_reject(struct verdict *v, const char *sym, const char *action,
    const char *xcode)
{
	if (action == NULL || str_ieq(action, "reject"))
		verdict_force_code(v, FORCE_POLICY_REJECT, ACTION_REJECT, xcode,
		    sym, "%s (policy of the new configuration)", sym);
}

/* force_trap - step_trap_end(): trap_client_action of the new conf */
static void
force_trap(struct verdict *v, const char *sym, const char *action,
    const char *xcode)
{
	(void)xcode;
	if (str_ieq(action, "tempfail"))
		verdict_force_code(v, FORCE_POLICY_REJECT, ACTION_TEMPFAIL,
		    "4.7.1", sym, "%s (policy of the new configuration)", sym);
	else if (str_ieq(action, "reject"))
		verdict_force_code(v, FORCE_POLICY_REJECT, ACTION_REJECT,
		    "5.7.1", sym, "%s (policy of the new configuration)", sym);
}

/* the symbols whose presence forces an action, by configuration key */
static const struct policy {
	const char *sym;
	size_t	 key;		/* offsetof(struct conf, char *), or 0 */
	const char *xcode;
	void	 (*apply)(struct verdict *, const char *, const char *,
		    const char *);
} policies[] = {
	{ "SPF_FAIL", offsetof(struct conf, spf_fail_action), "5.7.23",
	  force_spf },
	{ "SPF_PERMERROR", offsetof(struct conf, spf_permerror_action),
	  "5.7.24", force_spf },
	{ "SPF_TEMPERROR", offsetof(struct conf, spf_temperror_action),
	  "4.4.3", force_tempfail },
	{ "DMARC_TEMPERROR", offsetof(struct conf, dmarc_temperror_action),
	  NULL, force_tempfail },
	{ "DMARC_REJECT", 0, NULL, force_reject },
	{ "DMARC_FROM_MISSING",
	  offsetof(struct conf, dmarc_from_missing_action), NULL,
	  force_reject },
	{ "DMARC_FROM_MULTIPLE",
	  offsetof(struct conf, dmarc_from_multiple_action), NULL,
	  force_reject },
	{ "DMARC_FROM_INVALID",
	  offsetof(struct conf, dmarc_from_invalid_action), NULL,
	  force_reject },
	{ "DMARC_FROM_MULTI_AUTHOR",
	  offsetof(struct conf, dmarc_from_multi_author_action), NULL,
	  force_reject },
	/* the client is in the policy store's trap list: logged data (a
	   recorded hit), the action is the new configuration's */
	{ "MW_TRAP_CLIENT", offsetof(struct conf, trap_client_action), NULL,
	  force_trap },
};

/*
 * whatif_deferral - a greylisting or rate-limit deferral (policy.c defer()):
 * policy store state, not a score, so the logged outcome is kept like
 * a local list match; the milter defers only mail it would take
 */
bool
whatif_deferral(const char *name)
{
	return strcmp(name, "MW_GREYLIST") == 0 ||
	    strncmp(name, "MW_RATELIMIT_", 13) == 0;
}

/* defer_again - policy_end() again: a logged deferral of mail the new
 * configuration would accept or tag; the deferring symbol, or NULL */
static const char *
defer_again(struct verdict *v)
{
	size_t i;

	if (v->action != ACTION_ACCEPT && v->action != ACTION_TAG)
		return NULL;
	for (i = 0; i < v->nsyms; i++)
		if (whatif_deferral(v->syms[i].name)) {
			verdict_force_code(v, FORCE_DEFER, ACTION_TEMPFAIL,
			    "4.7.1", v->syms[i].name, "%s (logged policy "
			    "state)", v->syms[i].name);
			v->action = ACTION_TEMPFAIL;
			return v->syms[i].name;
		}
	return NULL;
}

/* conf_str - the string member of c at offset key */
static const char *
conf_str(const struct conf *c, size_t key)
{
	const char *const *p;

	if (key == 0)
		return NULL;
	p = (const char *const *)(const void *)((const char *)c + key);
	return *p;
}

/*
 * force_for - the action name forces under the new configuration:
 * policy keys, DNS list :reject entries, and (as logged) local lists
 */
static void
force_for(struct whatif *w, struct verdict *v, const char *name,
    const char *logged_force)
{
	const struct kind *k;
	size_t i;

	for (i = 0; i < sizeof(policies) / sizeof(policies[0]); i++)
		if (strcmp(name, policies[i].sym) == 0) {
			policies[i].apply(v, name, conf_str(w->cur->conf,
			    policies[i].key), policies[i].xcode);
			return;
		}
	k = kind_of(w, name);
	if (k->bl_reject)
		force_reject(v, name, NULL, NULL);
	else if (k->kind == K_LIST && logged_force &&
	    strcmp(logged_force, name) == 0) {
		if (strstr(name, "_ALLOW"))
			verdict_force(v, FORCE_ALLOW, ACTION_ACCEPT, name,
			    "%s (local list)", name);
		else
			verdict_force(v, FORCE_LIST_REJECT, ACTION_REJECT,
			    name, "%s (local list)", name);
	}
}

/* ------------------------------------------------------------------ */

/* trusted_now - would the new configuration skip scoring this source? */
static bool
trusted_now(const struct conf *c, const struct logrec *r)
{
	struct netaddr a;
	const char *auth = lr_jstr(r->o, "auth");

	if (c->trust_authenticated && auth && *auth)
		return true;
	return r->client_ip && netaddr_parse(r->client_ip, &a) == 0 &&
	    conf_is_trusted(c, &a);
}

/* logged_scored - the record's "scored" (true when absent) */
static bool
logged_scored(const struct logrec *r)
{
	struct json_object *o = lr_jget(r->o, "scored");

	return !(o && json_object_is_type(o, json_type_boolean) &&
	    !json_object_get_boolean(o));
}

/* final_set - the score set the new configuration uses for r */
static unsigned
final_set(const struct engine *e, const struct logrec *r)
{
	struct json_object *b = lr_jget(r->o, "bayes");
	const char *band = lr_jstr(b, "band");
	unsigned set = e->score_set;
	double p;

	/* as final_scores() in scan.c: unclassified or unsure (BAYES_40)
	 * mail is scored with the no-Bayes columns */
	if (e->score_set_auto && (set & 2) &&
	    (!lr_jnum(b, "probability", &p) ||
	    (band != NULL && strcmp(band, "BAYES_40") == 0)))
		set -= 2;
	return set;
}

/*
 * renamed - DMARC_REJECT / DMARC_QUARANTINE as dmarc_never_reject of
 * the new configuration makes them (step_dmarc.c), else name
 */
static const char *
renamed(const struct conf *c, const char *name, const char *detail)
{
	if (c->dmarc_never_reject && strcmp(name, "DMARC_REJECT") == 0)
		return "DMARC_QUARANTINE";
	if (!c->dmarc_never_reject && strcmp(name, "DMARC_QUARANTINE") == 0 &&
	    detail && strstr(detail, "dmarc_never_reject:"))
		return "DMARC_REJECT";
	return name;
}

/* score_changed - differs beyond the log's %.6g rounding */
static bool
score_changed(double a, double b)
{
	return fabs(a - b) > 5e-6 * (fabs(a) > 1 ? fabs(a) : 1);
}

/* add_syms - the record's symbols, rescored, into v and out->syms */
static void
add_syms(struct whatif *w, const struct logrec *r, unsigned set,
    struct verdict *v, struct whatif_result *out)
{
	size_t i, n = r->symbols ? json_object_array_length(r->symbols) : 0;

	for (i = 0; i < n && out->nsyms < WHATIF_MAX_SYMS; i++) {
		struct json_object *o = json_object_array_get_idx(r->symbols,
		    i);
		struct whatif_sym *s = &out->syms[out->nsyms];
		const char *name = lr_jstr(o, "name");
		double old = 0;

		if (name == NULL || *name == '\0')
			continue;
		(void)lr_jnum(o, "score", &old);
		s->name = name;
		s->added = false;
		s->new_name = renamed(w->cur->conf, name, lr_jstr(o, "detail"));
		s->old_score = old;
		s->new_score = new_score(w, s->new_name, old, set, &s->dropped);
		s->changed = s->dropped || s->new_name != name ||
		    score_changed(old, s->new_score);
		out->nsyms++;
		if (s->dropped) {
			out->ndropped++;
			continue;
		}
		verdict_add(v, s->new_name, s->new_score, NULL);
	}
}

/* decide - the new verdict of a record that is scored */
static void
decide(struct whatif *w, const struct logrec *r, struct whatif_result *out)
{
	const char *logged_force = lr_jstr(r->o, "forced_by");
	const char *deferred;
	struct verdict v;
	unsigned set = final_set(w->cur, r);
	size_t i;

	verdict_init(&v);
	add_syms(w, r, set, &v, out);
	for (i = 0; i < v.nsyms; i++)
		force_for(w, &v, v.syms[i].name, logged_force);
	verdict_decide(&v, w->cur->conf);
	deferred = defer_again(&v);
	out->set = (int)set;
	out->new_action = (enum lr_action)v.action;
	out->new_score = v.score;
	if (deferred)
		snprintf(out->forced_by, sizeof(out->forced_by), "%s",
		    deferred);
	else if (v.force_prio > FORCE_NONE && v.force_symbol)
		snprintf(out->forced_by, sizeof(out->forced_by), "%s",
		    v.force_symbol);
	else if (v.floor > ACTION_ACCEPT && v.action == v.floor &&
	    v.floor_symbol && v.score < w->cur->conf->tag_score)
		snprintf(out->forced_by, sizeof(out->forced_by), "%s",
		    v.floor_symbol);
	verdict_release(&v);
}

void
whatif_rescore(struct whatif *w, const struct logrec *r,
    struct whatif_result *out)
{
	const struct conf *c;

	/* the scope the message was logged under decides it again */
	w->cur = whatif_engine(w, r);
	c = w->cur->conf;
	out->status = WHATIF_RESCORED;
	out->not_derivable = false;
	out->old_action = r->action;
	out->new_action = r->action;
	out->old_score = r->has_score ? r->score : 0;
	out->new_score = out->old_score;
	out->set = -1;
	out->forced_by[0] = '\0';
	out->nsyms = out->ndropped = 0;
	if (r->action == LR_OTHER) {
		out->status = WHATIF_NO_ACTION;
		return;
	}
	if (!logged_scored(r)) {
		out->status = WHATIF_UNSCORED;
		out->not_derivable = !trusted_now(c, r);
		return;
	}
	if (trusted_now(c, r)) {
		out->status = WHATIF_TRUSTED;
		out->new_action = LR_ACCEPT;
		out->new_score = 0;
		return;
	}
	decide(w, r, out);
}
