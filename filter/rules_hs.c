/*
 * rules_hs.c - a Hyperscan prefilter for the regex rules without a
 * required literal
 *
 * DESCRIPTION
 *	The Aho-Corasick prefilter (rules_ac.c) gates a regex rule on one
 *	of its required literals; a rule without one (the anti-obfuscation
 *	rules, [_\W]{0,3} between every letter) used to run with PCRE2 on
 *	every element, trying every start position.  Here, once per rule
 *	set, those rules of each element type are compiled together into
 *	one Hyperscan block-mode database in prefilter mode
 *	(HS_FLAG_PREFILTER: Hyperscan may report a match PCRE2 rejects,
 *	never miss one PCRE2 finds).  Evaluation scans each element once
 *	with it and runs PCRE2 only on the rules it reports; PCRE2 still
 *	decides every hit, count and sample.
 *
 *	The rules whose shortest required literal is weak (shorter than
 *	WEAK_FACTOR_LEN: "the ", "you") are compiled in too; the
 *	Aho-Corasick prefilter still gates them, and they run only where
 *	both prefilters let them through (rules_eval.c).
 *
 *	Left out (they stay "always" rules, run on every element): rules
 *	compiled in UTF or UCP mode, extended (x) mode rules, by flag or
 *	inline (Hyperscan's extended mode need not skip exactly what
 *	PCRE2's does), patterns with a NUL byte, and patterns Hyperscan
 *	refuses even as a prefilter (when the joint compile fails, each is
 *	tried on its own and the rest compiled again).  A type whose
 *	database still fails has none.  On a scan error the caller runs
 *	every rule.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "log.h"
#include "rules_int.h"
#include "str.h"

#ifdef HAVE_HYPERSCAN
#include <hs.h>

static unsigned long hs_generation;

/* inline_x - an option group "(?...x...)" anywhere (conservative) */
static bool
inline_x(const char *pat)
{
	const char *p;

	for (p = strstr(pat, "(?"); p != NULL; p = strstr(p, "(?"))
		for (p += 2; *p && (ch_is_alpha((unsigned char)*p) ||
		    *p == '-' || *p == '^'); p++)
			if (*p == 'x')
				return true;
	return false;
}

/* hs_flags - the Hyperscan flags for rule r; false: leave it out */
static bool
hs_flags(const struct rule *r, const char *pat, const char *flags,
    unsigned *out)
{
	uint32_t opts = 0;
	unsigned f = HS_FLAG_PREFILTER | HS_FLAG_SINGLEMATCH |
	    HS_FLAG_ALLOWEMPTY;

	(void)pcre2_pattern_info(r->re, PCRE2_INFO_ALLOPTIONS, &opts);
	if (opts & (PCRE2_UTF | PCRE2_EXTENDED | PCRE2_EXTENDED_MORE |
	    PCRE2_UCP | PCRE2_DOLLAR_ENDONLY))
		return false;
	if (strchr(flags, 'x') != NULL || inline_x(pat))
		return false;
	if (opts & PCRE2_CASELESS)
		f |= HS_FLAG_CASELESS;
	if (opts & PCRE2_DOTALL)
		f |= HS_FLAG_DOTALL;
	if (opts & PCRE2_MULTILINE)
		f |= HS_FLAG_MULTILINE;
	*out = f;
	return true;
}

/*
 * compile - one database for exprs[0..*n); when Hyperscan refuses it,
 * the patterns it refuses on their own are dropped (they stay always
 * rules) and the rest compiled again.  -1: no database.
 */
static int
compile(char **exprs, unsigned *flags, size_t *rules, size_t *n,
    const hs_platform_info_t *plat, hs_database_t **db)
{
	hs_compile_error_t *err = NULL;
	unsigned *ids;
	size_t k, m;
	int rc = -1;

	ids = xcalloc(*n, sizeof(*ids));
	for (k = 0; k < *n; k++)
		ids[k] = (unsigned)k;
	if (hs_compile_multi((const char *const *)exprs, flags, ids,
	    (unsigned)*n, HS_MODE_BLOCK, plat, db, &err) == HS_SUCCESS) {
		rc = 0;
		goto out;
	}
	hs_free_compile_error(err);
	for (k = m = 0; k < *n; k++) {
		err = NULL;
		if (hs_compile(exprs[k], flags[k], HS_MODE_BLOCK, plat, db,
		    &err) != HS_SUCCESS) {
			log_debug("rules: pattern %s not prefiltered by "
			    "Hyperscan: %s", exprs[k], err && err->message ?
			    err->message : "?");
			hs_free_compile_error(err);
			free(exprs[k]);
			continue;
		}
		hs_free_database(*db);
		exprs[m] = exprs[k];
		flags[m] = flags[k];
		rules[m++] = rules[k];
	}
	*n = m;
	err = NULL;
	if (m > 0 && hs_compile_multi((const char *const *)exprs, flags, ids,
	    (unsigned)m, HS_MODE_BLOCK, plat, db, &err) == HS_SUCCESS)
		rc = 0;
	else if (m > 0) {
		log_warn("rules: Hyperscan prefilter not built: %s",
		    err && err->message ? err->message : "?");
		hs_free_compile_error(err);
	}
out:
	free(ids);
	return rc;
}

/*
 * build_type - the database for the rules of type t without a literal
 * (always) or with a weak one (see WEAK_FACTOR_LEN)
 */
static void
build_type(struct ruleset *rs, enum rule_type t)
{
	struct buf pat = BUF_INIT, fl = BUF_INIT, why = BUF_INIT;
	char **exprs;
	unsigned *flags, f;
	size_t *rules, k, n = 0, end;
	hs_database_t *db = NULL;
	hs_platform_info_t plat;
	struct rule *r;

	if (rs->nby_type[t] == 0 || hs_populate_platform(&plat) != HS_SUCCESS)
		return;
	exprs = xcalloc(rs->nby_type[t], sizeof(*exprs));
	flags = xcalloc(rs->nby_type[t], sizeof(*flags));
	rules = xcalloc(rs->nby_type[t], sizeof(*rules));
	for (k = 0; k < rs->nby_type[t]; k++) {
		r = &rs->rules[rs->by_type[t][k]];
		if (!r->always && !r->weak)
			continue;
		buf_reset(&pat);
		buf_reset(&fl);
		buf_reset(&why);
		if (rx_split(r->pattern, strlen(r->pattern), &pat, &fl, &end,
		    &why) < 0 || (pat.len > 0 &&
		    memchr(pat.data, '\0', pat.len) != NULL) ||
		    !hs_flags(r, buf_cstr(&pat), buf_cstr(&fl), &f))
			continue;
		exprs[n] = xstrdup(buf_cstr(&pat));
		flags[n] = f;
		rules[n++] = r->idx;
	}
	if (n > 0 && compile(exprs, flags, rules, &n, &plat, &db) == 0) {
		rs->hs_db[t] = db;
		rs->hs_rules[t] = rules;
		rs->nhs[t] = n;
		for (k = 0; k < n; k++)
			rs->rules[rules[k]].hs = true;
		rules = NULL;
	}
	for (k = 0; k < n; k++)
		free(exprs[k]);
	free(exprs);
	free(flags);
	free(rules);
	buf_release(&pat);
	buf_release(&fl);
	buf_release(&why);
}

/*
 * rhs_plan - the databases and a scratch that fits them all, which each
 * thread clones: hs_alloc_scratch costs about 0.4 ms a database, a
 * clone a fraction of a microsecond.  Without a scratch no database is
 * kept (the rules run everywhere, as without Hyperscan).
 */
void
rhs_plan(struct ruleset *rs)
{
	hs_scratch_t *proto = NULL;
	enum rule_type t;
	size_t k;
	bool ok = true;

	for (t = 0; t < RULE_NTYPES; t++)
		if (t != RULE_HEADER && t != RULE_META)
			build_type(rs, t);
	for (t = 0; t < RULE_NTYPES && ok; t++)
		if (rs->hs_db[t] && hs_alloc_scratch(rs->hs_db[t], &proto) !=
		    HS_SUCCESS)
			ok = false;
	if (!ok) {
		log_warn("rules: Hyperscan scratch not allocated: "
		    "prefilter off");
		hs_free_scratch(proto);
		for (t = 0; t < RULE_NTYPES; t++)
			for (k = 0; k < rs->nhs[t]; k++)
				rs->rules[rs->hs_rules[t][k]].hs = false;
		rhs_release(rs);
		return;
	}
	rs->hs_proto = proto;
	rs->hs_gen = __atomic_add_fetch(&hs_generation, 1, __ATOMIC_RELAXED);
}

void
rhs_release(struct ruleset *rs)
{
	enum rule_type t;

	hs_free_scratch(rs->hs_proto);
	rs->hs_proto = NULL;
	for (t = 0; t < RULE_NTYPES; t++) {
		hs_free_database(rs->hs_db[t]);
		free(rs->hs_rules[t]);
		rs->hs_db[t] = NULL;
		rs->hs_rules[t] = NULL;
		rs->nhs[t] = 0;
	}
}

/* rhs_scratch - a thread's first scratch, or one for a new set: a clone */
bool
rhs_scratch(const struct ruleset *rs, void **scratch, unsigned long *gen)
{
	hs_scratch_t *s = NULL;

	if (*scratch != NULL && *gen == rs->hs_gen)
		return true;
	if (rs->hs_proto == NULL ||
	    hs_clone_scratch(rs->hs_proto, &s) != HS_SUCCESS)
		return false;
	hs_free_scratch(*scratch);
	*scratch = s;
	*gen = rs->hs_gen;
	return true;
}

void
rhs_scratch_free(void *scratch)
{
	hs_free_scratch(scratch);
}

struct scan_arg {
	const size_t *rules;
	void	(*fn)(void *, size_t);
	void	*arg;
};

static int
on_match(unsigned id, unsigned long long from, unsigned long long to,
    unsigned flags, void *p)
{
	struct scan_arg *a = p;

	(void)from;
	(void)to;
	(void)flags;
	a->fn(a->arg, a->rules[id]);
	return 0;
}

int
rhs_scan(const struct ruleset *rs, enum rule_type t, void *scratch,
    const char *p, size_t n, void (*fn)(void *arg, size_t rule), void *arg)
{
	struct scan_arg a = { rs->hs_rules[t], fn, arg };

	if (n > 0xffffffffu)
		return -1;
	return hs_scan(rs->hs_db[t], n ? p : "", (unsigned)n, 0, scratch,
	    on_match, &a) == HS_SUCCESS ? 0 : -1;
}

#else /* !HAVE_HYPERSCAN */

void
rhs_plan(struct ruleset *rs)
{
	(void)rs;
}

void
rhs_release(struct ruleset *rs)
{
	(void)rs;
}

bool
rhs_scratch(const struct ruleset *rs, void **scratch, unsigned long *gen)
{
	(void)rs;
	(void)scratch;
	(void)gen;
	return false;
}

void
rhs_scratch_free(void *scratch)
{
	(void)scratch;
}

int
rhs_scan(const struct ruleset *rs, enum rule_type t, void *scratch,
    const char *p, size_t n, void (*fn)(void *arg, size_t rule), void *arg)
{
	(void)rs; (void)t; (void)scratch; (void)p; (void)n; (void)fn;
	(void)arg;
	return -1;
}
#endif
