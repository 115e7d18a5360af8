/*
 * rules.h - SpamAssassin-style rule files, compiled once, matched fast
 *
 * DESCRIPTION
 *	A struct ruleset is loaded from rule files (the shipped directory,
 *	the site directory, or files named on the command line), compiled
 *	once, and then only read: milter threads share it without locks.
 *	The language is the SpamAssassin subset documented in doc/rules.md:
 *	header (with :raw, :addr, :name, ALL, exists:, !~, [if-unset:]),
 *	body, rawbody, uri, full, meta (boolean and arithmetic), score,
 *	describe, tflags (nice, multiple, maxhits=N, nosubject), include,
 *	if/ifplugin/else/endif, lang, and eval: tests whose function one
 *	of the saeval.h families provides (with their directives, such as
 *	freemail_domains).  Everything else that SpamAssassin accepts
 *	(other eval: functions, plugins, DNS directives, ...) is reported
 *	as "unsupported" with its file and line, never silently dropped.
 *
 *	Loading collects every diagnostic (struct rules_report) instead of
 *	stopping at the first; a set with any error is not returned, so the
 *	caller (engine.c) keeps the set it had.
 *
 *	rules_eval() runs the set over one message: header rules over the
 *	decoded fields, body rules over the rendered text paragraph by
 *	paragraph (the Subject first), rawbody rules over the decoded text
 *	line by line, uri rules over each URI, full rules over the whole
 *	message, then eval: tests (saeval.h), then metas in dependency
 *	order.  Each regex is a Perl
 *	regex run by PCRE2 (JIT when available) with a match limit; a
 *	regex that reaches it is stopped, reported in the result and
 *	counted as no hit.
 *
 *	Prefilter: at load, each regex is analysed for literal strings that
 *	every match must contain (one of a set, compared case-insensitively);
 *	an Aho-Corasick automaton per rule type finds which of those occur
 *	in each paragraph, line or URI, and only those rules (and rules with
 *	no such literal) run PCRE2 there.  The prefilter only skips work
 *	that cannot match; results are the same with it off (RULES_EVAL_
 *	NO_PREFILTER), which the tests check.
 *
 * LIMITS
 *	Rule files: RULES_MAX_FILE bytes each, include depth RULES_MAX_
 *	INCLUDE, patterns RULES_MAX_PATTERN bytes.  Matching: match_limit
 *	(rules_match_limit) per PCRE2 call, and the texts handed over by
 *	the MIME view (capped by mime_max_text); body rules see the first
 *	body_part_max bytes of each text part (cut at white space) and
 *	rawbody rules the first rawbody_part_max (cut at a line end), as
 *	SpamAssassin's body_part_scan_size and rawbody_part_scan_size: so
 *	the work per message stays bounded by parts x limit x rules.
 *
 * SECURITY
 *	Rule files are configuration (trusted to be what the operator
 *	wrote, but fully checked); messages are untrusted.  PCRE2 runs in
 *	8-bit, non-UTF mode: a subject is bytes, so no input can make it
 *	fail a UTF check.
 *
 * SEE ALSO
 *	doc/rules.md, mime.h, step_rules.c, cli_rules.c
 */
#ifndef MW_RULES_H
#define MW_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "buf.h"

struct mime_msg;
struct verdict;
struct msg;
struct strmap;

#define RULES_MAX_FILE		(16 * 1024 * 1024)
#define RULES_MAX_INCLUDE	10
#define RULES_MAX_PATTERN	(64 * 1024)
#define RULES_DEFAULT_MATCH_LIMIT	100000
#define RULES_DEFAULT_BODY_PART		50000
#define RULES_DEFAULT_RAWBODY_PART	500000

enum rule_type {
	RULE_HEADER,
	RULE_BODY,
	RULE_RAWBODY,
	RULE_URI,
	RULE_FULL,
	RULE_META,
	RULE_NTYPES
};

enum rule_tflag {
	RULE_F_NICE	= 1 << 0,	/* a ham sign: negative score */
	RULE_F_MULTIPLE	= 1 << 1,	/* count every match (for metas) */
	RULE_F_NOSUBJECT = 1 << 2	/* body rule: not on the Subject */
};

enum rules_diag_kind {
	RULES_DIAG_ERROR,		/* the set cannot be used */
	RULES_DIAG_WARNING,		/* loaded, but likely not as meant */
	RULES_DIAG_UNSUPPORTED		/* SpamAssassin feature not provided */
};

struct rules_diag {
	enum rules_diag_kind kind;
	char	*file;
	unsigned line;
	char	*text;
};

/* an eval: function no family provides, and what it holds back */
struct rules_missing {
	char	*func;
	unsigned rules;		/* rules calling it (not loaded) */
	unsigned metas;		/* disabled metas that need it */
};

struct rules_report {
	struct rules_diag *v;
	size_t	 n;
	size_t	 nerrors, nwarnings, nunsupported;
	size_t	 files;				/* rule files read */
	size_t	 by_type[RULE_NTYPES];		/* rules defined, by type */
	size_t	 disabled;			/* metas switched off */
	struct rules_missing *missing;		/* most metas first */
	size_t	 nmissing;
};

struct rules_options {
	unsigned long match_limit;	/* per PCRE2 call; 0 = default */
	size_t	 body_part_max;		/* body text scanned per part;
					   0 = RULES_DEFAULT_BODY_PART */
	size_t	 rawbody_part_max;	/* rawbody bytes per part; 0 =
					   RULES_DEFAULT_RAWBODY_PART */
	unsigned score_set;		/* 0-3: column of 4-score lines */
	bool	 no_jit;		/* testing: interpreter only */
	bool	 no_hyperscan;		/* no Hyperscan prefilter (rules_hs.c) */
};

struct ruleset;
struct rule;

/*
 * rules_load - read and compile paths (directories: their *.cf files in
 * name order; files as given) into *out.  Returns 0, or -1 when any
 * error was found (then *out is NULL).  rep receives every diagnostic
 * either way; release it with rules_report_release().
 */
int	 rules_load(const char *const *paths, size_t npaths,
	    const struct rules_options *, struct ruleset **out,
	    struct rules_report *rep);
/* rules_parse_text - the same over one in-memory file (tests, fuzzing) */
int	 rules_parse_text(const char *text, size_t len, const char *origin,
	    const struct rules_options *, struct ruleset **out,
	    struct rules_report *rep);
void	 rules_free(struct ruleset *);
void	 rules_report_release(struct rules_report *);
/* rules_report_first_error - "file:line: text" of the first error, or NULL */
const struct rules_diag *rules_report_first_error(const struct rules_report *);
/* rules_diag_format - "file:line: kind: text" */
void	 rules_diag_format(const struct rules_diag *, struct buf *);

/* inspection */
size_t	 rules_count(const struct ruleset *);
const struct rule *rules_get(const struct ruleset *, size_t);
const struct rule *rules_find(const struct ruleset *, const char *name);
const char *rule_name(const struct rule *);
size_t	 rule_index(const struct rule *);	/* rules_get(rs, i) == r */
enum rule_type rule_type_of(const struct rule *);
const char *rule_type_name(enum rule_type);
const char *rule_describe(const struct rule *);		/* may be NULL */
double	 rule_score(const struct rule *);	/* in the load's score set */
double	 rule_score_in(const struct rule *, unsigned set);	/* set 0-3 */
bool	 rule_scored_in_any(const struct rule *);	/* some set scores it */
unsigned rule_tflags(const struct rule *);
bool	 rule_enabled(const struct rule *);	/* false: disabled meta */
bool	 rule_scored(const struct rule *);	/* not __X, score != 0 */
bool	 rule_prefiltered(const struct rule *);	/* has a literal factor */
/* rule_prefiltered_hs - no literal, but gated by Hyperscan */
bool	 rule_prefiltered_hs(const struct rule *);
const char *rule_source(const struct rule *, unsigned *line);
/*
 * rules_score_overrides - the `score NAME value` lines whose NAME is not
 * a rule of the set: scores for built-in symbols.  Calls fn for each
 * with its four score sets (one score given: all four alike), the score
 * of the load's set, and where it was set (the last such line).
 */
struct rules_score {
	double	 score;		/* four[] column of the load's score set */
	double	 four[4];	/* SpamAssassin's score sets 0-3 */
	const char *file;
	unsigned line;
};
void	 rules_score_overrides(const struct ruleset *,
	    void (*fn)(const char *name, const struct rules_score *,
	    void *arg), void *arg);

/* ------------------------------------------------------------------ */
/* matching                                                            */
/* ------------------------------------------------------------------ */

enum rules_eval_flag {
	RULES_EVAL_NO_PREFILTER	= 1 << 0	/* run every regex everywhere */
};

struct rules_hit {
	const struct rule *rule;
	unsigned count;			/* matches (1 unless multiple) */
	char	*sample;		/* first matched text, escaped and
					   capped; NULL for metas */
};

struct rules_result {
	struct rules_hit *hits;		/* in rule-set order */
	size_t	 nhits;
	const struct rule **limited;	/* regexes stopped by a limit */
	size_t	 nlimited;
	unsigned long regex_runs;	/* PCRE2 calls made */
};

/* what eval: tests read beside the message (saeval.h) */
struct rules_env {
	time_t	 now;			/* 0: time(NULL) */
	const struct verdict *auth;	/* symbols of the steps before the
					   rules (SPF, DKIM, DMARC); NULL:
					   no pipeline, auth evals miss */
};

/*
 * rules_eval - match the set against a message.  envelope_from may be
 * NULL.  Thread-safe: per-thread match data and scratch space.
 * rules_eval_env - the same with the environment of eval: tests.
 */
void	 rules_eval(const struct ruleset *, const struct msg *,
	    const struct mime_msg *, unsigned flags, struct rules_result *);
void	 rules_eval_env(const struct ruleset *, const struct msg *,
	    const struct mime_msg *, const struct rules_env *, unsigned flags,
	    struct rules_result *);
void	 rules_result_release(struct rules_result *);

/*
 * rules_test - run the one rule name over the message and report every
 * match: fn(where, matched text) with where like "body paragraph 3",
 * "header Subject", "uri 2".  For a meta, its value and its operands'.
 * Returns the hit count, or -1 if there is no such rule.
 */
long	 rules_test(const struct ruleset *, const char *name,
	    const struct msg *, const struct mime_msg *,
	    void (*fn)(const char *where, const char *text, void *arg),
	    void *arg);

#endif
