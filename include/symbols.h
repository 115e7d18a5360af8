/*
 * symbols.h - every symbol a built-in check can emit, in one table
 *
 * DESCRIPTION
 *	Checks emit named symbols; configuration scores them (symbol_scores,
 *	or a rule file's `score NAME N`); the verdict adds the scores.  This
 *	is the one table of the built-in symbols: name, default score, the
 *	step that emits it and a one-line description.  Steps take their
 *	default scores from here (scan_emit()), `mailwarden symbols` lists
 *	it, and the lint of `config -n` and `rules check` asks it whether a
 *	scored name is emitted at all.
 *
 *	Symbols that the configuration itself defines are not in the table:
 *	rules (rule files) and DNS list symbols (dnsbl, dnswl, uribl, dbl
 *	entries).
 *	symbols_emitted() looks at those too.
 */
#ifndef MW_SYMBOLS_H
#define MW_SYMBOLS_H

#include <stdbool.h>
#include <stddef.h>

struct buf;
struct conf;
struct dnsbl;
struct engine;
struct ruleset;

struct symbol_info {
	const char *name;
	double	 score;			/* default, unless dyn */
	/* default taken from the configuration (e.g. tag_score), or NULL */
	double	(*dyn)(const struct conf *);
	const char *dyn_doc;		/* what dyn returns, for listings */
	const char *step;		/* spf, dkim, dmarc, bayes, ... */
	const char *doc;
};

/* symbols_builtin - the table row of name, or NULL */
const struct symbol_info *symbols_builtin(const char *name);
size_t	 symbols_builtin_count(void);
const struct symbol_info *symbols_builtin_get(size_t);
/* symbols_default - the default score of a row under configuration c */
double	 symbols_default(const struct symbol_info *, const struct conf *);

/*
 * symbols_emitted - can anything emit name: a built-in check, a rule of
 * rs (may be NULL) or a blocklist entry of bl (may be NULL)?
 */
bool	 symbols_emitted(const struct ruleset *, const struct dnsbl *,
	    const char *name);
/* symbols_suggest - the one emitted name close to name, or NULL */
const char *symbols_suggest(const struct ruleset *, const struct dnsbl *,
	    const char *name);

/*
 * symbols_lint - a warning line in out for each score given to a name
 * nothing emits: symbol_scores items of c (c may be NULL) as
 * "FILE:LINE: warning: symbol_scores: NAME: ...", rule-file `score` lines of rs
 * as "FILE:LINE: warning: score NAME: ...".  Returns how many.
 */
size_t	 symbols_lint(const struct conf *, const struct ruleset *,
	    const struct dnsbl *, struct buf *out);
/*
 * symbols_lint_scope - the same for the symbol_scores items a policy
 * scope's file adds (scope.h: its conf is base's plus them), as
 * "SCOPEFILE:LINE: warning: symbol_scores: NAME: ..."
 */
size_t	 symbols_lint_scope(const struct conf *scope, const struct conf *base,
	    const struct ruleset *, const struct dnsbl *, struct buf *out);
/*
 * symbols_lint_engine - symbols_lint() of an engine's configuration and
 * rules, then symbols_lint_scope() of each of its policy scopes
 */
size_t	 symbols_lint_engine(const struct engine *, struct buf *out);
/*
 * engine_lint - every warning of a loaded engine: symbols_lint_engine(),
 * then trusted ARC sealers and DMARC forwarders that trust far too much
 * (forwarders_lint()); what config -n prints and the daemon logs at start
 * and on reload
 */
size_t	 engine_lint(const struct engine *, struct buf *out);

#endif
