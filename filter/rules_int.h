/*
 * rules_int.h - internals shared by the rules_*.c files (not an API)
 */
#ifndef MW_RULES_INT_H
#define MW_RULES_INT_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "rules.h"
#include "saeval.h"

struct strmap;

/* ------------------------------------------------------------------ */
/* Aho-Corasick over ASCII-lower-cased bytes (rules_ac.c)              */
/* ------------------------------------------------------------------ */

struct ac;

struct ac *ac_new(void);
void	 ac_free(struct ac *);
/* ac_add - a literal (lower-cased here); returns its id (duplicates share) */
size_t	 ac_add(struct ac *, const char *lit, size_t n);
size_t	 ac_nlits(const struct ac *);
/* ac_build - freeze: no ac_add() after this */
void	 ac_build(struct ac *);
size_t	 ac_nstates(const struct ac *);
/*
 * ac_scan - report every literal occurring in text once per generation:
 * stamps (ac_nstates() entries) remember which states were reported in
 * generation gen, so the caller can scan several texts as one
 * (same gen) or apart (new gen), without clearing memory.
 */
void	 ac_scan(const struct ac *, const unsigned char *text, size_t n,
	    uint32_t *stamps, uint32_t gen,
	    void (*fn)(void *arg, size_t lit), void *arg);

/* ------------------------------------------------------------------ */
/* regexes (rules_regex.c)                                             */
/* ------------------------------------------------------------------ */

/* a set of literals one of which every match contains (lower case) */
struct factors {
	struct buf *v;
	size_t	 n;
	bool	 none;		/* nothing useful: run the regex always */
	/*
	 * exact: every match of the group is one of ex[0..nex) ("(?:late|
	 * deceased)"), so a literal before or after it joins each
	 * ("the late", "the deceased"); the analysis's own bookkeeping
	 */
	bool	 exact;
	struct buf *ex;
	size_t	 nex;
};

#define FACTOR_MIN_LEN	3
/*
 * a rule whose shortest literal factor is shorter than this ("the ",
 * "you", "opt") passes the literal prefilter on most paragraphs: with
 * Hyperscan it is also in the Hyperscan prefilter, and runs only where
 * both let it through
 */
#define WEAK_FACTOR_LEN	5

/*
 * rx_split - the Perl regex literal at s: "/re/flags" or "m{re}flags"
 * (any m delimiter, bracket pairs nested).  Sets pattern and flag text,
 * and *end to the first byte after the flags.  -1 with why on error.
 */
int	 rx_split(const char *s, size_t n, struct buf *pattern,
	    struct buf *flags, size_t *end, struct buf *why);
/* rx_compile - flags text to PCRE2 options, compile, JIT */
pcre2_code *rx_compile(const char *pat, size_t plen, const char *flags,
	    bool jit, uint32_t *opts, struct buf *why);
/* rx_factors - required literals of pat under opts (see struct factors) */
void	 rx_factors(const char *pat, size_t len, uint32_t opts,
	    struct factors *out);
void	 factors_release(struct factors *);

/* ------------------------------------------------------------------ */
/* Hyperscan prefilter for rules without a literal (rules_hs.c)        */
/* ------------------------------------------------------------------ */

struct ruleset;

/* rhs_plan - compile the databases (after plan()); no-op without HS */
void	 rhs_plan(struct ruleset *);
void	 rhs_release(struct ruleset *);
/*
 * rhs_scratch - make the thread's *scratch fit every database of rs
 * (a clone of the set's); *gen remembers the set it was made for.
 * false: do not scan.
 */
bool	 rhs_scratch(const struct ruleset *, void **scratch,
	    unsigned long *gen);
void	 rhs_scratch_free(void *scratch);
/*
 * rhs_scan - fn(arg, rule index) for each rule of type t the database
 * may match in p (at least once); -1 on any error (run every rule)
 */
int	 rhs_scan(const struct ruleset *, enum rule_type t, void *scratch,
	    const char *p, size_t n, void (*fn)(void *arg, size_t rule),
	    void *arg);

/* ------------------------------------------------------------------ */
/* meta expressions (rules_meta.c)                                     */
/* ------------------------------------------------------------------ */

enum meta_op {
	MOP_NUM, MOP_RULE,		/* operands */
	MOP_NOT, MOP_NEG,		/* unary */
	MOP_MUL, MOP_DIV, MOP_ADD, MOP_SUB,
	MOP_LT, MOP_GT, MOP_LE, MOP_GE, MOP_EQ, MOP_NE,
	MOP_AND, MOP_OR
};

struct meta_tok {
	enum meta_op op;
	double	 num;		/* MOP_NUM */
	char	*name;		/* MOP_RULE, until resolved */
	size_t	 rule;		/* MOP_RULE, resolved index */
};

struct meta_expr {
	struct meta_tok *rpn;	/* postfix */
	size_t	 n;
};

#define META_MAX_TOKENS	1024

/* meta_parse - infix text to postfix; -1 with why on a syntax error */
int	 meta_parse(const char *s, struct meta_expr *, struct buf *why);
void	 meta_release(struct meta_expr *);
/* meta_eval - value given counts[] of every rule */
double	 meta_eval(const struct meta_expr *, const unsigned *counts);

/*
 * rules_first_addr - append the first mailbox of an address list: its
 * address (want_addr) or its display name (rules_eval.c)
 */
void	 rules_first_addr(const char *v, bool want_addr, struct buf *out);

/* ------------------------------------------------------------------ */
/* the set                                                             */
/* ------------------------------------------------------------------ */

enum hdr_mod {			/* bits */
	HM_RAW	= 1 << 0,	/* not RFC 2047 decoded */
	HM_ADDR	= 1 << 1,	/* the first address */
	HM_NAME	= 1 << 2	/* the first display name */
};

enum hdr_special {
	HSP_FIELD,		/* an ordinary field name */
	HSP_ALL,		/* every field, "Name: value\n" */
	HSP_TOCC,		/* To and Cc */
	HSP_MESSAGEID,		/* Message-Id and Resent-Message-Id */
	HSP_ENVFROM,		/* the envelope sender */
	HSP_MIME,		/* mimeheader: the field in every MIME part,
				   each value matched on its own */
	HSP_RELAYS_UNTRUSTED,	/* X-Spam-Relays-Untrusted and -External */
	HSP_RELAYS_TRUSTED,	/* X-Spam-Relays-Trusted and -Internal:
				   empty, rules run for untrusted clients */
	HSP_MW_LINKS,		/* X-MW-Link-Mismatch (computed) */
	HSP_MW_HTML,		/* X-MW-HTML (computed) */
	HSP_MW_ATTACH		/* X-MW-Attachments (computed) */
};

/* a header input: field + modifier; several rules share one */
struct hsrc {
	char	*field;
	enum hdr_special special;
	unsigned mods;		/* enum hdr_mod bits */
};

struct rule {
	char	*name;
	enum rule_type type;
	char	*describe;
	double	 score;		/* scores[] column of the load's set */
	double	 scores[4];	/* SpamAssassin's score sets 0-3 */
	bool	 score_set;
	unsigned tflags;
	unsigned maxhits;	/* 0: no limit */
	char	*file;
	unsigned line;
	size_t	 idx;

	/* regex rules */
	char	*pattern;	/* as written, for display */
	pcre2_code *re;
	bool	 negate;	/* header !~ */
	bool	 always;	/* no literal factor: no prefilter */
	bool	 weak;		/* a literal factor shorter than WEAK_FACTOR_LEN */
	bool	 hs;		/* gated by Hyperscan (always or weak rules) */

	/* header rules */
	size_t	 hsrc;
	bool	 exists;	/* exists:Field */
	char	*if_unset;

	/* meta */
	struct meta_expr meta;
	bool	 disabled;

	/* eval: tests (saeval.h) */
	const struct saeval_fn *efn;
	struct saeval_args eargs;
	void	*eprep;
};

struct ruleset {
	struct rule *rules;
	size_t	 nrules;
	struct strmap *byname;		/* name -> rule index + 1 */
	struct hsrc *hsrcs;
	size_t	 nhsrcs;
	struct strmap *scores;		/* non-rule name -> rules_score */

	/* per type (RULE_BODY .. RULE_FULL): prefilter and plan */
	struct ac *ac[RULE_NTYPES];
	size_t	*lit_rules_n[RULE_NTYPES];
	size_t	**lit_rules_v[RULE_NTYPES];
	size_t	*by_type[RULE_NTYPES];	/* regex rules of the type */
	size_t	 nby_type[RULE_NTYPES];
	size_t	*always[RULE_NTYPES];	/* of those, without factors */
	size_t	 nalways[RULE_NTYPES];
	/* of those, the ones Hyperscan gates (rules_hs.c) */
	void	*hs_db[RULE_NTYPES];		/* hs_database_t */
	size_t	*hs_rules[RULE_NTYPES];		/* pattern id -> rule */
	size_t	 nhs[RULE_NTYPES];
	void	*hs_proto;			/* hs_scratch_t to clone */
	unsigned long hs_gen;			/* scratch sized for it */
	size_t	*evals;			/* eval: rules, in set order */
	size_t	 nevals;
	struct saeval_conf *saconf;	/* data of the eval directives */
	size_t	*meta_order;		/* metas, dependencies first */
	size_t	 nmeta;

	unsigned long match_limit;
	size_t	 body_part_max;
	size_t	 rawbody_part_max;
	bool	 has_full;
	bool	 has_nosubject;
};

#endif
