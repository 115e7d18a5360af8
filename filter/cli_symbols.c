/*
 * cli_symbols.c - `mailwarden symbols`: what can be scored, and how much
 *
 * DESCRIPTION
 *	mailwarden symbols [-c FILE] [--json]
 *	    One line per symbol that a check or rule of the configuration
 *	    can emit: the built-in symbols (symbols.c), each blocklist
 *	    symbol of dnsbl/uribl, and each scored rule of the rule files.
 *	    For each: the score the milter uses, the step that emits it,
 *	    where that score was set (the built-in default, symbol_scores
 *	    at FILE:LINE, a rule file's `score` line at FILE:LINE, the
 *	    rule's definition, or the blocklist entry) and a description.
 *	    --json: one JSON array of objects instead.
 *
 *	Exit status: 0, 1 when the configuration cannot be loaded, 2 on
 *	usage errors.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cli.h"
#include "conf.h"
#include "dnsbl.h"
#include "engine.h"
#include "json.h"
#include "rules.h"
#include "strmap.h"
#include "symbols.h"

struct row {
	const char *name, *step;
	struct buf doc;
	double	 score;
	struct buf source;
};

struct rows {
	struct row *v;
	size_t	 n;
	struct strmap *seen;		/* names listed */
	struct strmap *rule_scores;	/* rules_score_overrides() */
	const struct engine *e;
};

static void
usage(FILE *f)
{
	fprintf(f, "usage: mailwarden symbols [-c FILE] [--json]\n"
	    "Lists every symbol a check or rule can emit with its score, "
	    "where the\nscore was set, the step that emits it and a "
	    "description.\n");
}

/* override - the source of a configured score for name, if any */
static bool
override(struct rows *r, const char *name, struct buf *src)
{
	const struct conf *c = r->e->conf;
	const struct rules_score *rsc;
	char n[128];
	double d;
	size_t i;

	for (i = c->symbol_scores.n; i-- > 0;)	/* the last one wins */
		if (conf_symbol_score(c->symbol_scores.v[i], n, sizeof(n),
		    &d) == 0 && strcmp(n, name) == 0) {
			buf_printf(src, "symbol_scores %s:%u", c->path,
			    conf_key_line(c, "symbol_scores"));
			return true;
		}
	if ((rsc = strmap_get(r->rule_scores, name)) != NULL) {
		buf_printf(src, "score %s:%u", rsc->file, rsc->line);
		return true;
	}
	return false;
}

/* add - one row, unless name is listed already; def: unless overridden */
static struct buf *
add(struct rows *r, const char *name, double def, const char *step,
    const char *doc)
{
	struct row *w;

	if (strmap_get(r->seen, name) != NULL)
		return NULL;
	strmap_put(r->seen, name, (void *)1);
	r->v = xreallocarray(r->v, r->n + 1, sizeof(*r->v));
	w = &r->v[r->n++];
	w->name = name;
	w->step = step;
	buf_init(&w->doc);
	buf_adds(&w->doc, doc);
	w->score = engine_score(r->e, name, def);
	buf_init(&w->source);
	return override(r, name, &w->source) ? NULL : &w->source;
}

static void
keep_rule_score(const char *name, const struct rules_score *sc, void *arg)
{
	strmap_put(arg, name, (void *)sc);
}

static void
add_builtins(struct rows *r)
{
	const struct symbol_info *si;
	struct buf *src;
	size_t i;

	for (i = 0; i < symbols_builtin_count(); i++) {
		si = symbols_builtin_get(i);
		src = add(r, si->name, symbols_default(si, r->e->conf),
		    si->step, si->doc);
		if (src && si->dyn)
			buf_printf(src, "default (%s)", si->dyn_doc);
		else if (src)
			buf_adds(src, "default");
	}
}

static void
add_blocklists(struct rows *r)
{
	const struct dnsbl *bl = r->e->dnsbl;
	const struct dnsbl_zone *z;
	struct buf *src;
	size_t i, j;

	for (i = 0; bl && i < bl->nzones; i++) {
		z = &bl->zones[i];
		for (j = 0; j < z->n; j++) {
			if (strmap_get(r->seen, z->v[j].symbol) != NULL)
				continue;
			src = add(r, z->v[j].symbol, z->v[j].score, "dnsbl",
			    dnsbl_zone_what(z));
			buf_adds(&r->v[r->n - 1].doc, z->zone);
			if (src) {
				conf_where(r->e->conf, dnsbl_zone_key(z), src);
				buf_truncate(src, src->len - 2); /* ": " */
			}
		}
	}
}

static void
add_rules(struct rows *r)
{
	const struct ruleset *rs = r->e->rules;
	const struct rule *ru;
	const char *file;
	struct buf *src;
	unsigned line;
	size_t i;

	for (i = 0; rs && i < rules_count(rs); i++) {
		ru = rules_get(rs, i);
		if (!rule_scored(ru) || !rule_enabled(ru))
			continue;	/* never emitted */
		src = add(r, rule_name(ru), rule_score(ru), "rules",
		    rule_describe(ru) ? rule_describe(ru) : "");
		file = rule_source(ru, &line);
		if (src)
			buf_printf(src, "rule %s:%u", file, line);
	}
}

static void
print_text(const struct rows *r)
{
	size_t i;

	printf("# %-24s %7s  %-7s %s\n", "SYMBOL", "SCORE", "STEP",
	    "DESCRIPTION [WHERE THE SCORE IS SET]");
	for (i = 0; i < r->n; i++)
		printf("%-26s %7.2f  %-7s %s [%s]\n", r->v[i].name,
		    r->v[i].score, r->v[i].step, buf_cstr(&r->v[i].doc),
		    buf_cstr(&r->v[i].source));
}

static void
print_json(const struct rows *r)
{
	struct buf j = BUF_INIT;
	size_t i;

	buf_addc(&j, '[');
	for (i = 0; i < r->n; i++) {
		buf_adds(&j, i ? ",\n{" : "{");
		json_key(&j, "name", 1);
		json_cstr(&j, r->v[i].name);
		json_key(&j, "score", 0);
		json_num(&j, r->v[i].score);
		json_key(&j, "step", 0);
		json_cstr(&j, r->v[i].step);
		json_key(&j, "source", 0);
		json_cstr(&j, buf_cstr(&r->v[i].source));
		json_key(&j, "description", 0);
		json_cstr(&j, buf_cstr(&r->v[i].doc));
		buf_addc(&j, '}');
	}
	buf_adds(&j, "]\n");
	fputs(buf_cstr(&j), stdout);
	buf_release(&j);
}

int
cli_symbols(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *path = NULL;
	bool json = false;
	struct engine *e;
	struct rows r;
	size_t i;
	int ch;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (ch) {
		case 'c': path = optarg; break;
		case 'j': json = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	if ((e = cli_load_engine(path)) == NULL)
		return 1;
	memset(&r, 0, sizeof(r));
	r.e = e;
	r.seen = strmap_new();
	r.rule_scores = strmap_new();
	if (e->rules)
		rules_score_overrides(e->rules, keep_rule_score,
		    r.rule_scores);
	add_builtins(&r);
	add_blocklists(&r);
	add_rules(&r);
	if (json)
		print_json(&r);
	else
		print_text(&r);
	for (i = 0; i < r.n; i++) {
		buf_release(&r.v[i].doc);
		buf_release(&r.v[i].source);
	}
	free(r.v);
	strmap_free(r.seen, NULL);
	strmap_free(r.rule_scores, NULL);
	engine_unref(e);
	return 0;
}
