/*
 * rules_parse.c - read rule files into a compiled struct ruleset
 *
 * DESCRIPTION
 *	Line-oriented, as SpamAssassin's configuration reader: "#" starts a
 *	comment unless escaped as "\#", the first word is the directive.
 *	Attributes (score, describe, tflags) may come before or after the
 *	rule they name and from any file; they are applied when every file
 *	is read.  Then metas are resolved (an unknown or unsupported
 *	operand disables the meta with a warning, a cycle is an error),
 *	put in dependency order, and the prefilter automata are built.
 *
 *	Diagnostics carry file and line and are all collected; any error
 *	means no set is returned.  "eval:FUNC(ARGS)" rules are loaded when
 *	a saeval.h family provides FUNC and accepts ARGS (else an error);
 *	constructs SpamAssassin has and this engine does not (other eval:
 *	functions, plugin directives, pseudo-headers, other header
 *	modifiers) are "unsupported" notes: the rule is not loaded, and a
 *	meta that depends on it is disabled.
 *
 * LIMITS
 *	RULES_MAX_FILE bytes per file; RULES_MAX_INCLUDE include levels;
 *	MAX_COND nested if/ifplugin blocks.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "buf.h"
#include "files.h"
#include "hdr.h"
#include "rules_int.h"
#include "saeval.h"
#include "str.h"
#include "strmap.h"

#define MAX_COND	32
#define MAX_NAME	128

/* attributes named before or after their rule */
struct attrs {
	double	 scores[4];
	unsigned nscores;
	char	*describe;
	unsigned tflags;
	unsigned maxhits;
	bool	 tflags_set;
	char	*file;		/* of the score line, for messages */
	unsigned line;
};

struct pstate {
	struct ruleset *rs;
	struct rules_report *rep;
	const struct rules_options *opt;
	struct strmap *attrs;		/* name -> struct attrs */
	struct strmap *unsupported;	/* rule names not loaded */
	struct strmap *missing_fn;	/* rule name -> eval function that
					   no family provides */
	struct strmap *skipped;		/* rule names defined only in a
					   block not read (ifplugin of a
					   plugin not provided) */
	int	 depth;			/* include level */
	size_t	 rules_cap;
	/* replace_tags (SpamAssassin's ReplaceTags plugin) */
	struct strmap *rtags[4];	/* tag, pre, inter, post: name -> text */
	struct strmap *rrules;		/* rule name -> struct where */
	char	*rstart, *rend;		/* tag delimiters, "<" ">" */
};

/* where a name was given (for messages about it later) */
struct where {
	char	*file;
	unsigned line;
};

static void
where_free(void *p)
{
	struct where *w = p;

	free(w->file);
	free(w);
}

struct cond {
	bool	 active;	/* lines here are used */
	bool	 parent;	/* the enclosing block is active */
	bool	 taken;		/* a branch was true (for else) */
};

struct lctx {
	struct pstate *ps;
	const char *file;
	unsigned line;
	struct cond conds[MAX_COND];
	int	 nconds;
};

/* ------------------------------------------------------------------ */
/* diagnostics                                                         */
/* ------------------------------------------------------------------ */

static void
vdiag(struct rules_report *rep, enum rules_diag_kind kind, const char *file,
    unsigned line, const char *fmt, va_list ap)
{
	struct rules_diag *d;
	struct buf t = BUF_INIT;

	buf_vprintf(&t, fmt, ap);
	rep->v = xreallocarray(rep->v, rep->n + 1, sizeof(*rep->v));
	d = &rep->v[rep->n++];
	d->kind = kind;
	d->file = xstrdup(file ? file : "");
	d->line = line;
	d->text = buf_steal(&t);
	if (kind == RULES_DIAG_ERROR)
		rep->nerrors++;
	else if (kind == RULES_DIAG_WARNING)
		rep->nwarnings++;
	else
		rep->nunsupported++;
}

static void __attribute__((format(printf, 3, 4)))
diag(struct lctx *lc, enum rules_diag_kind kind, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vdiag(lc->ps->rep, kind, lc->file, lc->line, fmt, ap);
	va_end(ap);
}

static void __attribute__((format(printf, 5, 6)))
diag_at(struct pstate *ps, enum rules_diag_kind kind, const char *file,
    unsigned line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vdiag(ps->rep, kind, file, line, fmt, ap);
	va_end(ap);
}

void
rules_report_release(struct rules_report *rep)
{
	size_t i;

	for (i = 0; i < rep->nmissing; i++)
		free(rep->missing[i].func);
	free(rep->missing);
	for (i = 0; i < rep->n; i++) {
		free(rep->v[i].file);
		free(rep->v[i].text);
	}
	free(rep->v);
	memset(rep, 0, sizeof(*rep));
}

const struct rules_diag *
rules_report_first_error(const struct rules_report *rep)
{
	size_t i;

	for (i = 0; i < rep->n; i++)
		if (rep->v[i].kind == RULES_DIAG_ERROR)
			return &rep->v[i];
	return NULL;
}

void
rules_diag_format(const struct rules_diag *d, struct buf *out)
{
	static const char *const kinds[] = { "error", "warning",
	    "unsupported" };

	if (d->line)
		buf_printf(out, "%s:%u: %s: %s", d->file, d->line,
		    kinds[d->kind], d->text);
	else
		buf_printf(out, "%s: %s: %s", d->file, kinds[d->kind], d->text);
}

/* ------------------------------------------------------------------ */
/* the set                                                             */
/* ------------------------------------------------------------------ */

static void
rule_release(struct rule *r)
{
	free(r->name);
	free(r->describe);
	free(r->file);
	free(r->pattern);
	free(r->if_unset);
	if (r->re)
		pcre2_code_free(r->re);
	meta_release(&r->meta);
	if (r->efn && r->efn->release && r->eprep)
		r->efn->release(r->eprep);
	saeval_args_release(&r->eargs);
	memset(r, 0, sizeof(*r));
}

void
rules_free(struct ruleset *rs)
{
	size_t i, t;

	if (rs == NULL)
		return;
	for (i = 0; i < rs->nrules; i++)
		rule_release(&rs->rules[i]);
	free(rs->rules);
	strmap_free(rs->byname, NULL);
	for (i = 0; i < rs->nhsrcs; i++)
		free(rs->hsrcs[i].field);
	free(rs->hsrcs);
	strmap_free(rs->scores, free);
	for (t = 0; t < RULE_NTYPES; t++) {
		if (rs->ac[t]) {
			for (i = 0; i < ac_nlits(rs->ac[t]); i++)
				free(rs->lit_rules_v[t][i]);
			ac_free(rs->ac[t]);
		}
		free(rs->lit_rules_v[t]);
		free(rs->lit_rules_n[t]);
		free(rs->by_type[t]);
		free(rs->always[t]);
	}
	rhs_release(rs);
	free(rs->meta_order);
	free(rs->evals);
	saeval_conf_free(rs->saconf);
	free(rs);
}

static void
attrs_free(void *p)
{
	struct attrs *a = p;

	free(a->describe);
	free(a->file);
	free(a);
}

static struct attrs *
attrs_get(struct pstate *ps, const char *name)
{
	struct attrs *a = strmap_get(ps->attrs, name);

	if (a == NULL) {
		a = xcalloc(1, sizeof(*a));
		strmap_put(ps->attrs, name, a);
	}
	return a;
}

static bool
name_ok(const char *s)
{
	size_t n = 0;

	for (; *s; s++, n++)
		if (!ch_is_alnum((unsigned char)*s) && *s != '_')
			return false;
	return n > 0 && n <= MAX_NAME;
}

/* new_rule - a rule slot for name; a redefinition replaces the old one */
static struct rule *
new_rule(struct lctx *lc, const char *name, enum rule_type type)
{
	struct ruleset *rs = lc->ps->rs;
	struct rule *r;
	void *v;

	if ((v = strmap_get(rs->byname, name)) != NULL) {
		r = &rs->rules[(size_t)(uintptr_t)v - 1];
		diag(lc, RULES_DIAG_WARNING, "rule %s redefined (was %s:%u)",
		    name, r->file, r->line);
		rule_release(r);
		r->idx = (size_t)(uintptr_t)v - 1;
	} else {
		if (rs->nrules == lc->ps->rules_cap) {
			lc->ps->rules_cap = lc->ps->rules_cap ?
			    lc->ps->rules_cap * 2 : 64;
			rs->rules = xreallocarray(rs->rules, lc->ps->rules_cap,
			    sizeof(*rs->rules));
		}
		r = &rs->rules[rs->nrules];
		memset(r, 0, sizeof(*r));
		r->idx = rs->nrules++;
		strmap_put(rs->byname, name, (void *)(uintptr_t)(r->idx + 1));
	}
	strmap_put(lc->ps->unsupported, name, NULL);
	r->name = xstrdup(name);
	r->type = type;
	r->file = xstrdup(lc->file);
	r->line = lc->line;
	return r;
}

/* drop_rule - a failed definition leaves no trace (its slot is reused) */
static void
drop_rule(struct ruleset *rs, struct rule *r)
{
	if (r->idx + 1 == rs->nrules) {
		strmap_put(rs->byname, r->name, NULL);
		rule_release(r);
		rs->nrules--;
	} else {
		/* a redefinition that failed: keep a disabled placeholder */
		if (r->re) {
			pcre2_code_free(r->re);
			r->re = NULL;
		}
		r->disabled = true;
	}
}

static void
mark_unsupported(struct lctx *lc, const char *name, const char *what)
{
	diag(lc, RULES_DIAG_UNSUPPORTED, "%s (rule %s not loaded)", what, name);
	strmap_put(lc->ps->unsupported, name, (void *)1);
}

/* ------------------------------------------------------------------ */
/* directives                                                          */
/* ------------------------------------------------------------------ */

/* word - next white-space delimited word of *s into w; false if none */
static bool
word(const char **s, char *w, size_t wsz)
{
	const char *p = *s;
	size_t n = 0;

	while (ch_is_space((unsigned char)*p))
		p++;
	if (*p == '\0')
		return false;
	while (*p && !ch_is_space((unsigned char)*p)) {
		if (n + 1 < wsz)
			w[n++] = *p;
		p++;
	}
	w[n] = '\0';
	*s = p;
	return true;
}

static const char *
skip_ws(const char *s)
{
	while (ch_is_space((unsigned char)*s))
		s++;
	return s;
}

/* regex_rule - compile the regex at s for r; false (reported) on error */
static bool
regex_rule(struct lctx *lc, struct rule *r, const char *s, const char **rest)
{
	struct buf pat = BUF_INIT, flags = BUF_INIT, why = BUF_INIT;
	size_t end;
	uint32_t opts;
	bool ok = false;

	if (rx_split(s, strlen(s), &pat, &flags, &end, &why) < 0) {
		diag(lc, RULES_DIAG_ERROR, "%s: %s", r->name, buf_cstr(&why));
		goto out;
	}
	r->re = rx_compile(buf_cstr(&pat), pat.len, buf_cstr(&flags),
	    !lc->ps->opt->no_jit, &opts, &why);
	if (r->re == NULL) {
		diag(lc, RULES_DIAG_ERROR, "%s: %s", r->name, buf_cstr(&why));
		goto out;
	}
	r->pattern = xstrndup(s, end);
	*rest = s + end;
	ok = true;
out:
	buf_release(&pat);
	buf_release(&flags);
	buf_release(&why);
	return ok;
}

/* inputs SpamAssassin computes itself (headers by trust): not provided */
static const char *const pseudo_headers[] = {
	"ALL-TRUSTED", "ALL-UNTRUSTED", "ALL-INTERNAL", "ALL-EXTERNAL",
};

/*
 * header_source - index of the input "field:mods"; -1 if unsupported.
 * mime: a mimeheader rule (the field of every MIME part; only :raw).
 */
static long
header_source(struct lctx *lc, const char *spec, const char *name,
    bool mime)
{
	struct ruleset *rs = lc->ps->rs;
	char field[256], *mod, *next;
	enum hdr_special sp = HSP_FIELD;
	unsigned mods = 0;
	size_t i;

	if (strlen(spec) >= sizeof(field)) {
		diag(lc, RULES_DIAG_ERROR, "%s: header name too long", name);
		return -2;
	}
	memcpy(field, spec, strlen(spec) + 1);
	if ((mod = strchr(field, ':')) != NULL)
		*mod++ = '\0';
	for (; mod && *mod; mod = next) {
		if ((next = strchr(mod, ':')) != NULL)
			*next++ = '\0';
		if (strcmp(mod, "raw") == 0)
			mods |= HM_RAW;
		else if (mime) {
			char what[300];

			snprintf(what, sizeof(what), "mimeheader modifier :%s",
			    mod);
			mark_unsupported(lc, name, what);
			return -1;
		} else if (strcmp(mod, "addr") == 0)
			mods |= HM_ADDR;
		else if (strcmp(mod, "name") == 0)
			mods |= HM_NAME;
		else {
			char what[300];

			snprintf(what, sizeof(what), "header modifier :%s",
			    mod);
			mark_unsupported(lc, name, what);
			return -1;
		}
		if (!next)
			break;
	}
	if ((mods & HM_ADDR) && (mods & HM_NAME)) {
		diag(lc, RULES_DIAG_ERROR, "%s: :addr and :name together",
		    name);
		return -2;
	}
	if (field[0] == '\0' || !hdr_name_valid(field, strlen(field))) {
		diag(lc, RULES_DIAG_ERROR, "%s: bad header name '%s'", name,
		    field);
		return -2;
	}
	for (i = 0; !mime && i < sizeof(pseudo_headers) /
	    sizeof(pseudo_headers[0]); i++)
		if (strncasecmp(field, pseudo_headers[i],
		    strlen(pseudo_headers[i])) == 0) {
			char what[300];

			snprintf(what, sizeof(what), "SpamAssassin pseudo-header "
			    "%s", field);
			mark_unsupported(lc, name, what);
			return -1;
		}
	if (mime)
		sp = HSP_MIME;
	else if (strcmp(field, "ALL") == 0)
		sp = HSP_ALL;
	else if (strcmp(field, "ToCc") == 0)
		sp = HSP_TOCC;
	else if (strcmp(field, "MESSAGEID") == 0)
		sp = HSP_MESSAGEID;
	else if (strcmp(field, "EnvelopeFrom") == 0)
		sp = HSP_ENVFROM;
	else if (strcasecmp(field, "X-Spam-Relays-Untrusted") == 0 ||
	    strcasecmp(field, "X-Spam-Relays-External") == 0)
		sp = HSP_RELAYS_UNTRUSTED;
	else if (strcasecmp(field, "X-Spam-Relays-Trusted") == 0 ||
	    strcasecmp(field, "X-Spam-Relays-Internal") == 0)
		sp = HSP_RELAYS_TRUSTED;
	else if (strncasecmp(field, "X-Spam-Relays-", 14) == 0) {
		char what[300];

		snprintf(what, sizeof(what), "SpamAssassin pseudo-header %s",
		    field);
		mark_unsupported(lc, name, what);
		return -1;
	}
	else if (strcasecmp(field, "X-MW-Link-Mismatch") == 0)
		sp = HSP_MW_LINKS;
	else if (strcasecmp(field, "X-MW-HTML") == 0)
		sp = HSP_MW_HTML;
	else if (strcasecmp(field, "X-MW-Attachments") == 0)
		sp = HSP_MW_ATTACH;
	/* -Untrusted and -External (-Trusted and -Internal) are one list */
	for (i = 0; i < rs->nhsrcs; i++)
		if (rs->hsrcs[i].special == sp && rs->hsrcs[i].mods == mods &&
		    (sp == HSP_RELAYS_UNTRUSTED || sp == HSP_RELAYS_TRUSTED ||
		    strcasecmp(rs->hsrcs[i].field, field) == 0))
			return (long)i;
	rs->hsrcs = xreallocarray(rs->hsrcs, rs->nhsrcs + 1,
	    sizeof(*rs->hsrcs));
	rs->hsrcs[rs->nhsrcs].field = xstrdup(field);
	rs->hsrcs[rs->nhsrcs].special = sp;
	rs->hsrcs[rs->nhsrcs].mods = mods;
	return (long)rs->nhsrcs++;
}

/*
 * d_eval - "eval:FUNC(ARGS)" for a rule of type t: a registered function
 * with arguments its prepare() accepts; an unknown one is unsupported
 */
static void
d_eval(struct lctx *lc, const char *name, const char *s, enum rule_type t)
{
	const struct saeval_fn *fn;
	struct saeval_args args;
	struct buf why = BUF_INIT;
	char func[MAX_NAME + 1];
	const char *open, *close;
	struct rule *r;
	void *prep = NULL;
	size_t n;

	s += 5;
	open = strchr(s, '(');
	close = strrchr(s, ')');
	n = open ? (size_t)(open - s) : 0;
	if (open == NULL || close == NULL || close < open || n == 0 ||
	    n > MAX_NAME || *skip_ws(close + 1)) {
		diag(lc, RULES_DIAG_ERROR, "%s: expected eval:function(args)",
		    name);
		return;
	}
	memcpy(func, s, n);
	func[n] = '\0';
	if ((fn = saeval_lookup(func)) == NULL) {
		char what[MAX_NAME + 32];

		snprintf(what, sizeof(what), "eval: test %s", func);
		mark_unsupported(lc, name, what);
		free(strmap_put(lc->ps->missing_fn, name, xstrdup(func)));
		return;
	}
	if (!(fn->types & (1u << t))) {
		diag(lc, RULES_DIAG_ERROR, "%s: eval:%s is not a %s test", name,
		    func, rule_type_name(t));
		return;
	}
	if (saeval_args_parse(open + 1, (size_t)(close - open - 1), &args,
	    &why) < 0)
		goto fail;
	if (args.n < fn->min_args || args.n > fn->max_args) {
		buf_printf(&why, "takes %u to %u arguments, not %zu",
		    fn->min_args, fn->max_args, args.n);
		saeval_args_release(&args);
		goto fail;
	}
	if (fn->prepare && fn->prepare(&args, &prep, &why) < 0) {
		saeval_args_release(&args);
		goto fail;
	}
	r = new_rule(lc, name, t);
	r->efn = fn;
	r->eargs = args;
	r->eprep = prep;
	r->pattern = xstrdup(skip_ws(s - 5));
	buf_release(&why);
	return;
fail:
	diag(lc, RULES_DIAG_ERROR, "%s: eval:%s: %s", name, func,
	    buf_cstr(&why));
	buf_release(&why);
}

static void
d_header(struct lctx *lc, const char *name, const char *s, bool mime)
{
	char spec[300];
	struct rule *r;
	const char *rest;
	long src;
	bool neg;

	s = skip_ws(s);
	if (strncmp(s, "eval:", 5) == 0) {
		if (mime)
			mark_unsupported(lc, name, "mimeheader eval: test");
		else
			d_eval(lc, name, s, RULE_HEADER);
		return;
	}
	if (!mime && strncmp(s, "exists:", 7) == 0) {
		s += 7;
		if (!word(&s, spec, sizeof(spec))) {
			diag(lc, RULES_DIAG_ERROR, "%s: exists: needs a header "
			    "name", name);
			return;
		}
		if ((src = header_source(lc, spec, name, false)) < 0)
			return;
		r = new_rule(lc, name, RULE_HEADER);
		r->exists = true;
		r->hsrc = (size_t)src;
		r->pattern = xasprintf("exists:%s", spec);
		if (*skip_ws(s)) {
			diag(lc, RULES_DIAG_ERROR, "%s: text after exists:%s",
			    name, spec);
			drop_rule(lc->ps->rs, r);
		}
		return;
	}
	{
		size_t n = 0;

		while (*s && !ch_is_space((unsigned char)*s) && *s != '=' &&
		    !(*s == '!' && s[1] == '~') && n + 1 < sizeof(spec))
			spec[n++] = *s++;
		spec[n] = '\0';
	}
	s = skip_ws(s);
	if (spec[0] == '\0' || (strncmp(s, "=~", 2) != 0 &&
	    strncmp(s, "!~", 2) != 0)) {
		diag(lc, RULES_DIAG_ERROR, "%s: expected 'Header =~ /regex/'",
		    name);
		return;
	}
	neg = s[0] == '!';
	s = skip_ws(s + 2);
	if ((src = header_source(lc, spec, name, mime)) < 0)
		return;
	r = new_rule(lc, name, RULE_HEADER);
	r->negate = neg;
	r->hsrc = (size_t)src;
	if (!regex_rule(lc, r, s, &rest)) {
		drop_rule(lc->ps->rs, r);
		return;
	}
	rest = skip_ws(rest);
	if (!mime && strncmp(rest, "[if-unset:", 10) == 0) {
		const char *e = strrchr(rest, ']');

		if (e == NULL || *skip_ws(e + 1)) {
			diag(lc, RULES_DIAG_ERROR, "%s: bad [if-unset: ...]",
			    name);
			drop_rule(lc->ps->rs, r);
			return;
		}
		rest = skip_ws(rest + 10);
		while (e > rest && ch_is_space((unsigned char)e[-1]))
			e--;
		r->if_unset = xstrndup(rest, (size_t)(e - rest));
	} else if (*rest) {
		diag(lc, RULES_DIAG_ERROR, "%s: unexpected text after the "
		    "regex: '%.40s'", name, rest);
		drop_rule(lc->ps->rs, r);
	}
}

static void
d_regex(struct lctx *lc, const char *name, const char *s, enum rule_type t)
{
	struct rule *r;
	const char *rest;

	s = skip_ws(s);
	if (strncmp(s, "eval:", 5) == 0) {
		d_eval(lc, name, s, t);
		return;
	}
	r = new_rule(lc, name, t);
	if (!regex_rule(lc, r, s, &rest)) {
		drop_rule(lc->ps->rs, r);
		return;
	}
	if (*skip_ws(rest)) {
		diag(lc, RULES_DIAG_ERROR, "%s: unexpected text after the regex: "
		    "'%.40s'", name, skip_ws(rest));
		drop_rule(lc->ps->rs, r);
	}
}

static void
d_meta(struct lctx *lc, const char *name, const char *s)
{
	struct buf why = BUF_INIT;
	struct meta_expr e;
	struct rule *r;

	if (meta_parse(s, &e, &why) < 0) {
		diag(lc, RULES_DIAG_ERROR, "%s: %s", name, buf_cstr(&why));
		buf_release(&why);
		return;
	}
	r = new_rule(lc, name, RULE_META);
	r->meta = e;
	r->pattern = xstrdup(skip_ws(s));
	buf_release(&why);
}

static void
d_score(struct lctx *lc, const char *name, const char *s)
{
	struct attrs *a;
	double v[4];
	char w[64], *p;
	unsigned n = 0;
	size_t l;

	while (word(&s, w, sizeof(w))) {
		p = w;
		l = strlen(p);
		if (p[0] == '(' && l > 2 && p[l - 1] == ')') {
			p[l - 1] = '\0';
			p++;
		}
		if (n == 4 || parse_double(p, -1000, 1000, &v[n]) < 0) {
			diag(lc, RULES_DIAG_ERROR, "score %s: expected 1 or 4 "
			    "numbers from -1000 to 1000, got '%s'", name, w);
			return;
		}
		n++;
	}
	if (n != 1 && n != 4) {
		diag(lc, RULES_DIAG_ERROR, "score %s: expected 1 or 4 numbers",
		    name);
		return;
	}
	a = attrs_get(lc->ps, name);
	memcpy(a->scores, v, sizeof(v));
	a->nscores = n;
	free(a->file);
	a->file = xstrdup(lc->file);
	a->line = lc->line;
}

static void
d_describe(struct lctx *lc, const char *name, const char *s)
{
	struct attrs *a = attrs_get(lc->ps, name);

	free(a->describe);
	a->describe = xstrdup(skip_ws(s));
	free(a->file);
	a->file = xstrdup(lc->file);
	a->line = lc->line;
}

static void
d_tflags(struct lctx *lc, const char *name, const char *s)
{
	static const char *const ignored[] = { "learn", "userconf",
	    "noautolearn", "net", "publish", "a", "autolearn_force",
	    "domains_only", "ips_only", "nolog", "dns", "noawl", "mimeheader",
	    "nice_for_learning" };
	struct attrs *a = attrs_get(lc->ps, name);
	char w[64];
	uint64_t v;
	size_t i;

	a->tflags = 0;
	a->maxhits = 0;
	a->tflags_set = true;
	free(a->file);
	a->file = xstrdup(lc->file);
	a->line = lc->line;
	while (word(&s, w, sizeof(w))) {
		if (strcmp(w, "nice") == 0)
			a->tflags |= RULE_F_NICE;
		else if (strcmp(w, "multiple") == 0)
			a->tflags |= RULE_F_MULTIPLE;
		else if (strcmp(w, "nosubject") == 0)
			a->tflags |= RULE_F_NOSUBJECT;
		else if (strncmp(w, "maxhits=", 8) == 0) {
			if (parse_uint(w + 8, 1, 1000000, &v) < 0) {
				diag(lc, RULES_DIAG_ERROR, "tflags %s: bad %s",
				    name, w);
				return;
			}
			a->maxhits = (unsigned)v;
			a->tflags |= RULE_F_MULTIPLE;
		} else {
			for (i = 0; i < sizeof(ignored) / sizeof(ignored[0]); i++)
				if (strcmp(w, ignored[i]) == 0 ||
				    strncmp(w, "range=", 6) == 0)
					break;
			if (i == sizeof(ignored) / sizeof(ignored[0]))
				diag(lc, RULES_DIAG_WARNING, "tflags %s: unknown "
				    "flag '%s' ignored", name, w);
		}
	}
}

static int load_path(struct pstate *, const char *path, bool is_include,
    const char *from_file, unsigned from_line);

static void
d_include(struct lctx *lc, const char *s)
{
	char path[4096];
	const char *slash;
	struct buf full = BUF_INIT;

	s = skip_ws(s);
	if (!word(&s, path, sizeof(path))) {
		diag(lc, RULES_DIAG_ERROR, "include needs a file name");
		return;
	}
	if (path[0] != '/' && (slash = strrchr(lc->file, '/')) != NULL) {
		buf_add(&full, lc->file, (size_t)(slash - lc->file) + 1);
		buf_adds(&full, path);
	} else
		buf_adds(&full, path);
	if (lc->ps->depth >= RULES_MAX_INCLUDE)
		diag(lc, RULES_DIAG_ERROR, "include nested deeper than %d "
		    "levels (a loop?)", RULES_MAX_INCLUDE);
	else
		(void)load_path(lc->ps, buf_cstr(&full), true, lc->file,
		    lc->line);
	buf_release(&full);
}

/*
 * can_value - SpamAssassin's "if can(Mail::SpamAssassin::...)" with the
 * parentheses already gone: whether this rule engine has the feature.
 * Conf features of the rule language itself that hold here, and a
 * plugin's has_FUNCTION when mailwarden provides the eval FUNCTION;
 * anything else (configuration options, welcomelist renames, capture
 * rules, DNS features) does not.
 */
static bool
can_value(const char *s)
{
	static const char *const conf_features[] = {
		/* the engine has no bug 6558: its rawbody rules are plain
		   regexes, as these blocks need */
		"Mail::SpamAssassin::Conf::feature_bug6558_free",
		/* Perl 5.10 regex syntax: PCRE2 has it */
		"Mail::SpamAssassin::Conf::perl_min_version_5010000",
	};
	static const char plugin[] = "Mail::SpamAssassin::Plugin::";
	const char *fn;
	size_t i;

	for (i = 0; i < sizeof(conf_features) / sizeof(conf_features[0]); i++)
		if (strcmp(s, conf_features[i]) == 0)
			return true;
	if (strncmp(s, plugin, sizeof(plugin) - 1) != 0)
		return false;
	fn = strstr(s + sizeof(plugin) - 1, "::has_");
	if (fn == NULL || strchr(fn + 6, ':') != NULL)
		return false;
	return saeval_lookup(fn + 6) != NULL;
}

/* if_value - the SpamAssassin "if" expressions a rule file may use */
static bool
if_value(struct lctx *lc, const char *s, bool *known)
{
	char t[256];
	size_t n = 0;
	bool neg = false;
	double v;
	char op[3];

	*known = true;
	for (; *s && n + 1 < sizeof(t); s++)
		if (!ch_is_space((unsigned char)*s) && *s != '(' && *s != ')')
			t[n++] = *s;
	t[n] = '\0';
	s = t;
	while (*s == '!') {
		neg = !neg;
		s++;
	}
	if (strncmp(s, "can", 3) == 0)
		return can_value(s + 3) != neg;
	if (strncmp(s, "plugin", 6) == 0 || strncmp(s, "has", 3) == 0)
		return neg;		/* no SpamAssassin plugins here */
	if (strncmp(s, "version", 7) == 0 &&
	    sscanf(s + 7, "%2[<>=!]%lf", op, &v) == 2) {
		/* the rule language level provided: SpamAssassin 4.0 */
		double me = 4.000000;
		bool r = strcmp(op, ">=") == 0 ? me >= v :
		    strcmp(op, ">") == 0 ? me > v : strcmp(op, "<=") == 0 ?
		    me <= v : strcmp(op, "<") == 0 ? me < v :
		    strcmp(op, "==") == 0 ? me == v : me != v;

		return neg ? !r : r;
	}
	*known = false;
	(void)lc;
	return false;
}

/* plugin_builtin - a SpamAssassin plugin whose directives are built in */
static bool
plugin_builtin(const char *s)
{
	static const char *const builtin[] = {
		"Mail::SpamAssassin::Plugin::ReplaceTags",
		"Mail::SpamAssassin::Plugin::MIMEHeader",
	};
	size_t i, n;

	for (i = 0; i < sizeof(builtin) / sizeof(builtin[0]); i++) {
		n = strlen(builtin[i]);
		if (strncmp(s, builtin[i], n) == 0 &&
		    (s[n] == '\0' || ch_is_space((unsigned char)s[n])))
			return true;
	}
	return false;
}

static void
d_cond(struct lctx *lc, const char *dir, const char *s)
{
	struct cond *c;
	bool known, v, active;

	active = lc->nconds == 0 || lc->conds[lc->nconds - 1].active;
	if (strcmp(dir, "endif") == 0) {
		if (lc->nconds == 0)
			diag(lc, RULES_DIAG_ERROR, "endif without if");
		else
			lc->nconds--;
		return;
	}
	if (strcmp(dir, "else") == 0) {
		if (lc->nconds == 0) {
			diag(lc, RULES_DIAG_ERROR, "else without if");
			return;
		}
		c = &lc->conds[lc->nconds - 1];
		c->active = c->parent && !c->taken;
		c->taken = true;
		return;
	}
	if (lc->nconds == MAX_COND) {
		diag(lc, RULES_DIAG_ERROR, "if blocks nested deeper than %d",
		    MAX_COND);
		return;
	}
	if (strcmp(dir, "ifplugin") == 0) {
		{
			const char *pn = skip_ws(s), *pe = pn;

			while (*pe && !ch_is_space((unsigned char)*pe))
				pe++;
			v = plugin_builtin(pn) || saeval_plugin_provided(pn,
			    (size_t)(pe - pn));
		}
		if (active && !v)
			diag(lc, RULES_DIAG_UNSUPPORTED, "ifplugin %s: plugins "
			    "are not provided; block skipped", skip_ws(s));
	} else {
		v = if_value(lc, s, &known);
		if (!known && active)
			diag(lc, RULES_DIAG_UNSUPPORTED, "if %s: condition not "
			    "understood; block skipped", skip_ws(s));
		else if (!v && active && strstr(s, "can("))
			/* a SpamAssassin feature test: say which way it went */
			diag(lc, RULES_DIAG_UNSUPPORTED, "if %s: false here; "
			    "block skipped", skip_ws(s));
	}
	c = &lc->conds[lc->nconds++];
	c->parent = active;
	c->active = active && v;
	c->taken = v;
}

/* directives SpamAssassin has that name a rule first: noted per rule */
static const char *const sa_rule_directives[] = {
	"askdns", "urirhsbl", "urirhssub", "uridnsbl",
	"uridnssub", "reuse", "uri_detail",
};

/* ------------------------------------------------------------------ */
/* replace_tags                                                        */
/* ------------------------------------------------------------------ */

/*
 * SpamAssassin's ReplaceTags plugin, as its stock rules use it:
 *
 *	replace_tag NAME REGEX		<NAME> in a listed rule becomes REGEX
 *	replace_pre|inter|post NAME REGEX
 *	replace_rules RULE...		the rules whose regexes are expanded
 *	replace_start STR, replace_end	the delimiters (default < and >)
 *
 * A rule's regex may name one pre, one inter and one post tag
 * (<pre NAME>, <inter NAME>, <post NAME>): pre goes before every tag,
 * post after it, inter between two adjacent tags.  Expansion happens
 * when every file is read, so definitions may come in any order, and
 * repeats while a replacement brings new tags (six passes at most).
 */
static const char *const rtag_kinds[] = {
	"replace_tag", "replace_pre", "replace_inter", "replace_post"
};

static void
d_replace(struct lctx *lc, const char *dir, const char *s)
{
	struct pstate *ps = lc->ps;
	char name[MAX_NAME + 1];
	const char *v;
	size_t i, n;

	if (strcmp(dir, "replace_start") == 0 ||
	    strcmp(dir, "replace_end") == 0) {
		char **p = dir[8] == 's' ? &ps->rstart : &ps->rend;

		v = skip_ws(s);
		n = strlen(v);
		while (n > 0 && ch_is_space((unsigned char)v[n - 1]))
			n--;
		if (n == 0) {
			diag(lc, RULES_DIAG_ERROR, "%s: missing value", dir);
			return;
		}
		free(*p);
		*p = xstrndup(v, n);
		return;
	}
	if (strcmp(dir, "replace_rules") == 0) {
		n = 0;
		while (word(&s, name, sizeof(name))) {
			struct where *w = xmalloc(sizeof(*w));

			w->file = xstrdup(lc->file);
			w->line = lc->line;
			if ((w = strmap_put(ps->rrules, name, w)) != NULL)
				where_free(w);
			n++;
		}
		if (n == 0)
			diag(lc, RULES_DIAG_ERROR, "replace_rules: no rule named");
		return;
	}
	for (i = 0; i < 4; i++)
		if (strcmp(dir, rtag_kinds[i]) == 0)
			break;
	if (!word(&s, name, sizeof(name)) || *(v = skip_ws(s)) == '\0') {
		diag(lc, RULES_DIAG_ERROR, "%s: want a name and a regex", dir);
		return;
	}
	n = strlen(v);
	while (n > 0 && ch_is_space((unsigned char)v[n - 1]))
		n--;
	free(strmap_put(ps->rtags[i], name, xstrndup(v, n)));
}

/* find_tag - next start.+?end in s[0..n): offsets of the tag and its name */
static bool
find_tag(const struct pstate *ps, const char *s, size_t n, size_t *at,
    size_t *len)
{
	size_t ls = strlen(ps->rstart), le = strlen(ps->rend), i, j;

	for (i = 0; i + ls <= n; i++) {
		if (memcmp(s + i, ps->rstart, ls) != 0)
			continue;
		for (j = i + ls + 1; j + le <= n; j++)
			if (memcmp(s + j, ps->rend, le) == 0) {
				*at = i;
				*len = j + le - i;
				return true;
			}
		return false;
	}
	return false;
}

/* take_modifier - cut the first <KIND NAME> out of re; its NAME's text */
static const char *
take_modifier(const struct pstate *ps, struct buf *re, const char *kind,
    struct strmap *defs)
{
	struct buf key = BUF_INIT;
	const char *p, *e, *val = NULL;

	buf_printf(&key, "%s%s ", ps->rstart, kind);
	p = strstr(buf_cstr(re), key.data);
	/* a name of at least one character, then the end delimiter */
	if (p && p[key.len] != '\0' &&
	    (e = strstr(p + key.len + 1, ps->rend)) != NULL) {
		struct buf name = BUF_INIT, rest = BUF_INIT;

		buf_add(&name, p + key.len, (size_t)(e - p - (ptrdiff_t)key.len));
		val = strmap_get(defs, buf_cstr(&name));
		buf_add(&rest, re->data, (size_t)(p - re->data));
		buf_adds(&rest, e + strlen(ps->rend));
		buf_reset(re);
		buf_add(re, rest.data, rest.len);
		buf_release(&name);
		buf_release(&rest);
	}
	buf_release(&key);
	return val;
}

/* a regex grows no larger than this by expansion (tags within tags) */
#define RTAG_MAX	(64 * 1024)

/*
 * expand_once - one pass of the plugin over re: 1 if a replacement
 * brought new tags, 0 if not, -1 if re grew beyond RTAG_MAX
 */
static int
expand_once(const struct pstate *ps, struct buf *re)
{
	const char *pre, *post, *inter, *s, *rep;
	struct buf out = BUF_INIT, el = BUF_INIT, name = BUF_INIT;
	size_t n, i, j, k, at, len, nel = 0;
	int again = 0;
	struct { size_t off, len; bool tag; } parts[1024];

	pre = take_modifier(ps, re, "pre", ps->rtags[1]);
	post = take_modifier(ps, re, "post", ps->rtags[3]);
	inter = take_modifier(ps, re, "inter", ps->rtags[2]);
	/* split at every <[^<>]+> (the plugin's own pattern), keeping the
	   tags as elements and dropping empty elements at the end */
	s = buf_cstr(re);
	n = re->len;
	for (i = 0, j = 0; i < n && nel + 2 < sizeof(parts) / sizeof(parts[0]);
	    i++) {
		if (s[i] != '<')
			continue;
		for (k = i + 1; k < n && s[k] != '<' && s[k] != '>'; k++)
			;
		if (k == i + 1 || k == n || s[k] != '>')
			continue;
		parts[nel].off = j, parts[nel].len = i - j;
		parts[nel++].tag = false;
		parts[nel].off = i, parts[nel].len = k + 1 - i;
		parts[nel++].tag = true;
		j = i = k + 1;
		i--;
	}
	parts[nel].off = j, parts[nel].len = n - j;
	parts[nel++].tag = false;
	while (nel > 0 && parts[nel - 1].len == 0)
		nel--;
	for (i = 0; i < nel; i++) {
		buf_reset(&el);
		buf_add(&el, s + parts[i].off, parts[i].len);
		if (el.len == 0) {
			if (inter)
				buf_adds(&el, inter);
		} else if (find_tag(ps, el.data, el.len, &at, &len)) {
			struct buf t = BUF_INIT;

			/* pre before the first tag, post after each */
			buf_add(&t, el.data, at);
			if (pre)
				buf_adds(&t, pre);
			k = at;
			do {
				buf_add(&t, el.data + k, len);
				if (post)
					buf_adds(&t, post);
				k += len;
				if (!find_tag(ps, el.data + k, el.len - k, &at,
				    &len))
					break;
				buf_add(&t, el.data + k, at);
				k += at;
			} while (1);
			buf_add(&t, el.data + k, el.len - k);
			buf_reset(&el);
			buf_add(&el, t.data, t.len);
			buf_release(&t);
			/* the first tag's name: every <name> of it replaced */
			if (find_tag(ps, el.data, el.len, &at, &len)) {
				size_t ls = strlen(ps->rstart);

				buf_reset(&name);
				buf_add(&name, el.data + at + ls,
				    len - ls - strlen(ps->rend));
				rep = strmap_get(ps->rtags[0], buf_cstr(&name));
				if (rep && *rep) {
					struct buf whole = BUF_INIT, r2 =
					    BUF_INIT;
					const char *p, *q;

					buf_printf(&whole, "%s%s%s", ps->rstart,
					    name.data, ps->rend);
					for (p = buf_cstr(&el); (q = strstr(p,
					    whole.data)) != NULL;
					    p = q + whole.len) {
						buf_add(&r2, p, (size_t)(q - p));
						buf_adds(&r2, rep);
					}
					buf_adds(&r2, p);
					buf_reset(&el);
					buf_add(&el, r2.data, r2.len);
					buf_release(&whole);
					buf_release(&r2);
					if (strchr(rep, '<') && strchr(strchr(
					    rep, '<') + 1, '>'))
						again = 1;
				}
			}
		}
		buf_add(&out, el.data, el.len);
		if (out.len > RTAG_MAX)
			break;
	}
	buf_reset(re);
	buf_add(re, out.data, out.len);
	buf_release(&out);
	buf_release(&el);
	buf_release(&name);
	return re->len > RTAG_MAX ? -1 : again;
}

/*
 * expand_rule - r's regex with its tags replaced, compiled anew.  A rule
 * whose expansion does not compile (SpamAssassin's stock rules have some
 * that outgrow PCRE2's 64 KiB compiled-pattern limit) is disabled with a
 * warning, like a meta over a missing rule: the rest of the set loads.
 */
static void
expand_rule(struct pstate *ps, struct rule *r)
{
	struct buf re = BUF_INIT, pat = BUF_INIT, flags = BUF_INIT,
	    why = BUF_INIT;
	pcre2_code *code;
	uint32_t opts;
	size_t end;
	int pass = 0, rc;

	buf_adds(&re, r->pattern);
	while ((rc = expand_once(ps, &re)) == 1 && ++pass <= 5)
		;
	if (rc < 0) {
		diag_at(ps, RULES_DIAG_WARNING, r->file, r->line, "rule %s "
		    "disabled: replace_tags make its regex larger than %d "
		    "bytes", r->name, RTAG_MAX);
		r->disabled = true;
		goto out;
	}
	if (strcmp(re.data, r->pattern) == 0)
		goto out;
	if (rx_split(re.data, re.len, &pat, &flags, &end, &why) < 0 ||
	    (code = rx_compile(buf_cstr(&pat), pat.len, buf_cstr(&flags),
	    !ps->opt->no_jit, &opts, &why)) == NULL) {
		diag_at(ps, RULES_DIAG_WARNING, r->file, r->line, "rule %s "
		    "disabled: its regex after replace_tags: %s", r->name,
		    buf_cstr(&why));
		r->disabled = true;
		goto out;
	}
	pcre2_code_free(r->re);
	r->re = code;
	free(r->pattern);
	r->pattern = xstrndup(re.data, end);
out:
	buf_release(&re);
	buf_release(&pat);
	buf_release(&flags);
	buf_release(&why);
}

/* check_replaced - a name in replace_rules that is no regex rule */
static void
check_replaced(const char *name, void *v, void *arg)
{
	struct pstate *ps = arg;
	struct where *w = v;
	void *idx = strmap_get(ps->rs->byname, name);

	if (strmap_get(ps->unsupported, name))
		return;
	if (idx == NULL || ps->rs->rules[(size_t)(uintptr_t)idx - 1].re == NULL)
		diag_at(ps, RULES_DIAG_WARNING, w->file, w->line,
		    "replace_rules names %s, which is not a regex rule", name);
}

/* replace_tags - expand every rule replace_rules named */
static void
replace_tags(struct pstate *ps)
{
	struct ruleset *rs = ps->rs;
	size_t i;

	strmap_foreach(ps->rrules, check_replaced, ps);
	for (i = 0; i < rs->nrules; i++) {
		struct rule *r = &rs->rules[i];

		if (r->re && r->pattern && strmap_get(ps->rrules, r->name))
			expand_rule(ps, r);
	}
}

/*
 * note_skipped_eval - an eval: rule in a block that is not read (an
 * ifplugin of a plugin not provided): remembered for the report of
 * missing functions when its function is not provided either
 */
static void
note_skipped_eval(struct lctx *lc, const char *dir, const char *s)
{
	char name[MAX_NAME + 64], func[MAX_NAME + 1];
	size_t n = 0;
	bool is_meta = strcmp(dir, "meta") == 0;

	if (strcmp(dir, "header") != 0 && strcmp(dir, "body") != 0 &&
	    strcmp(dir, "rawbody") != 0 && strcmp(dir, "uri") != 0 &&
	    strcmp(dir, "full") != 0 && strcmp(dir, "mimeheader") != 0 &&
	    !is_meta)
		return;
	if (!word(&s, name, sizeof(name)) || !name_ok(name))
		return;
	/* a meta elsewhere that names it reads it as not hit */
	(void)strmap_put(lc->ps->skipped, name, (void *)1);
	if (is_meta)
		return;
	s = skip_ws(s);
	if (strncmp(s, "eval:", 5) != 0)
		return;
	for (s += 5; n < MAX_NAME && (ch_is_alnum((unsigned char)*s) ||
	    *s == '_'); s++)
		func[n++] = *s;
	func[n] = '\0';
	if (n && saeval_lookup(func) == NULL)
		free(strmap_put(lc->ps->missing_fn, name, xstrdup(func)));
}

static void
directive(struct lctx *lc, const char *line)
{
	char dir[64], name[MAX_NAME + 64];
	const char *s = line;
	size_t i;
	bool active = lc->nconds == 0 || lc->conds[lc->nconds - 1].active;

	if (!word(&s, dir, sizeof(dir)))
		return;
	for (i = 0; dir[i]; i++)
		dir[i] = (char)ch_lower((unsigned char)dir[i]);
	if (strcmp(dir, "if") == 0 || strcmp(dir, "ifplugin") == 0 ||
	    strcmp(dir, "else") == 0 || strcmp(dir, "endif") == 0) {
		d_cond(lc, dir, s);
		return;
	}
	if (!active) {
		note_skipped_eval(lc, dir, s);
		return;
	}
	if (strcmp(dir, "lang") == 0)
		return;		/* translations: not used */
	if (strncmp(dir, "replace_", 8) == 0 && (strcmp(dir, "replace_tag") ==
	    0 || strcmp(dir, "replace_pre") == 0 || strcmp(dir,
	    "replace_inter") == 0 || strcmp(dir, "replace_post") == 0 ||
	    strcmp(dir, "replace_rules") == 0 || strcmp(dir,
	    "replace_start") == 0 || strcmp(dir, "replace_end") == 0)) {
		d_replace(lc, dir, s);
		return;
	}
	if (strcmp(dir, "include") == 0) {
		d_include(lc, s);
		return;
	}
	if (strcmp(dir, "header") == 0 || strcmp(dir, "body") == 0 ||
	    strcmp(dir, "rawbody") == 0 || strcmp(dir, "uri") == 0 ||
	    strcmp(dir, "full") == 0 || strcmp(dir, "meta") == 0 ||
	    strcmp(dir, "score") == 0 || strcmp(dir, "describe") == 0 ||
	    strcmp(dir, "tflags") == 0 || strcmp(dir, "priority") == 0 ||
	    strcmp(dir, "test") == 0 || strcmp(dir, "mimeheader") == 0) {
		if (!word(&s, name, sizeof(name))) {
			diag(lc, RULES_DIAG_ERROR, "%s: missing rule name", dir);
			return;
		}
		if (!name_ok(name)) {
			diag(lc, RULES_DIAG_ERROR, "%s: bad rule name '%.64s' "
			    "(letters, digits and _ only)", dir, name);
			return;
		}
		if (strcmp(dir, "header") == 0)
			d_header(lc, name, s, false);
		else if (strcmp(dir, "mimeheader") == 0)
			d_header(lc, name, s, true);
		else if (strcmp(dir, "body") == 0)
			d_regex(lc, name, s, RULE_BODY);
		else if (strcmp(dir, "rawbody") == 0)
			d_regex(lc, name, s, RULE_RAWBODY);
		else if (strcmp(dir, "uri") == 0)
			d_regex(lc, name, s, RULE_URI);
		else if (strcmp(dir, "full") == 0)
			d_regex(lc, name, s, RULE_FULL);
		else if (strcmp(dir, "meta") == 0)
			d_meta(lc, name, s);
		else if (strcmp(dir, "score") == 0)
			d_score(lc, name, s);
		else if (strcmp(dir, "describe") == 0)
			d_describe(lc, name, s);
		else if (strcmp(dir, "tflags") == 0)
			d_tflags(lc, name, s);
		/* priority: ordering does not change results here; test:
		   SpamAssassin's self-test vectors */
		return;
	}
	{
		enum saeval_dir_kind kind;
		struct buf why = BUF_INIT;

		if (saeval_directive_find(dir, &kind)) {
			if (saeval_conf_apply(lc->ps->rs->saconf, dir, s,
			    &why) < 0)
				diag(lc, RULES_DIAG_ERROR, "%s: %s", dir,
				    buf_cstr(&why));
			buf_release(&why);
			return;
		}
	}
	for (i = 0; i < sizeof(sa_rule_directives) /
	    sizeof(sa_rule_directives[0]); i++)
		if (strcmp(dir, sa_rule_directives[i]) == 0) {
			if (word(&s, name, sizeof(name)) && name_ok(name)) {
				char what[128];

				snprintf(what, sizeof(what), "directive '%s'",
				    dir);
				mark_unsupported(lc, name, what);
			} else
				diag(lc, RULES_DIAG_UNSUPPORTED,
				    "directive '%s'", dir);
			return;
		}
	diag(lc, RULES_DIAG_UNSUPPORTED, "directive '%s' ignored", dir);
}

/* strip_comment - cut at the first unescaped '#', "\#" becomes '#' */
static void
strip_comment(struct buf *l)
{
	size_t i, o = 0;

	for (i = 0; i < l->len; i++) {
		if (l->data[i] == '\\' && i + 1 < l->len && l->data[i + 1] == '#') {
			l->data[o++] = '#';
			i++;
			continue;
		}
		if (l->data[i] == '#')
			break;
		l->data[o++] = l->data[i];
	}
	buf_truncate(l, o);
}

static void
parse_text(struct pstate *ps, const char *text, size_t len, const char *file)
{
	struct lctx lc;
	struct buf line = BUF_INIT;
	const char *p = text, *end = text + len, *nl;
	char *t;

	memset(&lc, 0, sizeof(lc));
	lc.ps = ps;
	lc.file = file;
	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		lc.line++;
		buf_reset(&line);
		buf_add(&line, p, nl ? (size_t)(nl - p) : (size_t)(end - p));
		p = nl ? nl + 1 : end;
		if (memchr(line.data, '\0', line.len)) {
			diag(&lc, RULES_DIAG_ERROR, "NUL byte in line");
			continue;
		}
		strip_comment(&line);
		t = str_trim(line.data);
		if (*t)
			directive(&lc, t);
	}
	if (lc.nconds > 0)
		diag(&lc, RULES_DIAG_ERROR, "%d if/ifplugin block(s) not closed "
		    "by endif", lc.nconds);
	buf_release(&line);
}

/* load_file - one file */
static int
load_file(struct pstate *ps, const char *path, const char *from,
    unsigned from_line)
{
	struct buf text = BUF_INIT, why = BUF_INIT;

	if (files_read(path, RULES_MAX_FILE, &text, &why) < 0) {
		diag_at(ps, RULES_DIAG_ERROR, from ? from : path, from_line,
		    "%s", buf_cstr(&why));
		buf_release(&why);
		return -1;
	}
	ps->rep->files++;
	ps->depth++;
	parse_text(ps, buf_cstr(&text), text.len, path);
	ps->depth--;
	buf_release(&text);
	buf_release(&why);
	return 0;
}

/* load_path - a file, or the *.cf files of a directory in name order */
static int
load_path(struct pstate *ps, const char *path, bool is_include,
    const char *from, unsigned from_line)
{
	struct stat st;
	char **names = NULL, *full;
	size_t n = 0, i;
	int rc = 0;

	if (stat(path, &st) < 0) {
		diag_at(ps, RULES_DIAG_ERROR, from ? from : path, from_line,
		    "%s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode) || is_include)
		return load_file(ps, path, from, from_line);
	if (files_list(path, ".cf", &names, &n) < 0) {
		diag_at(ps, RULES_DIAG_ERROR, path, 0, "%s", strerror(errno));
		return -1;
	}
	for (i = 0; i < n; i++) {
		full = xasprintf("%s/%s", path, names[i]);
		if (load_file(ps, full, NULL, 0) < 0)
			rc = -1;
		free(full);
		free(names[i]);
	}
	free(names);
	return rc;
}

/* ------------------------------------------------------------------ */
/* finishing                                                           */
/* ------------------------------------------------------------------ */

struct apply_ctx {
	struct pstate *ps;
};

static void
apply_one(const char *name, void *v, void *arg)
{
	struct pstate *ps = ((struct apply_ctx *)arg)->ps;
	struct ruleset *rs = ps->rs;
	struct attrs *a = v;
	struct rule *r;
	void *idx = strmap_get(rs->byname, name);
	unsigned set = ps->opt->score_set < 4 ? ps->opt->score_set : 3, k;
	struct rules_score *d;

	if (idx == NULL) {
		if (strmap_get(ps->unsupported, name))
			return;
		if (a->nscores) {
			/* one block: strmap_free(..., free) releases it */
			d = xmalloc(sizeof(*d) + strlen(a->file) + 1);
			for (k = 0; k < 4; k++)
				d->four[k] = a->scores[a->nscores == 4 ? k : 0];
			d->score = d->four[set];
			d->line = a->line;
			d->file = memcpy(d + 1, a->file, strlen(a->file) + 1);
			free(strmap_put(rs->scores, name, d));
		} else if (a->describe || a->tflags_set)
			diag_at(ps, RULES_DIAG_WARNING, a->file, a->line,
			    "describe or tflags for %s, which is not a rule",
			    name);
		return;
	}
	r = &rs->rules[(size_t)(uintptr_t)idx - 1];
	if (a->nscores) {
		for (k = 0; k < 4; k++)
			r->scores[k] = a->scores[a->nscores == 4 ? k : 0];
		r->score = r->scores[set];
		r->score_set = true;
	}
	if (a->describe) {
		free(r->describe);
		r->describe = xstrdup(a->describe);
	}
	if (a->tflags_set) {
		r->tflags = a->tflags;
		r->maxhits = a->maxhits;
	}
}

/* resolve_metas - names to indices; unknown operands disable the meta */
static void
resolve_metas(struct pstate *ps)
{
	struct ruleset *rs = ps->rs;
	struct rule *r;
	void *idx;
	size_t i, k;
	bool changed;

	for (i = 0; i < rs->nrules; i++) {
		r = &rs->rules[i];
		if (r->type != RULE_META || r->disabled)
			continue;
		for (k = 0; k < r->meta.n; k++) {
			struct meta_tok *t = &r->meta.rpn[k];

			if (t->op != MOP_RULE)
				continue;
			if ((idx = strmap_get(rs->byname, t->name)) != NULL) {
				t->rule = (size_t)(uintptr_t)idx - 1;
				continue;
			}
			if (strmap_get(ps->unsupported, t->name)) {
				/* a test that exists but does not run here:
				   counting it as not hit would change the
				   meta's meaning */
				diag_at(ps, RULES_DIAG_WARNING, r->file,
				    r->line, "meta %s disabled: depends on "
				    "the unsupported rule %s", r->name,
				    t->name);
				r->disabled = true;
				break;
			}
			/*
			 * Not defined at all: SpamAssassin reads such a name
			 * as 0 (not hit) and runs the meta, and so does this.
			 * A name defined only in a block for a plugin not
			 * provided (mostly network tests, which a local run
			 * of SpamAssassin does not hit either) is a known
			 * gap; any other name is probably a typo.
			 */
			if (strmap_get(ps->skipped, t->name))
				diag_at(ps, RULES_DIAG_UNSUPPORTED, r->file,
				    r->line, "meta %s: rule %s is defined only "
				    "in a block skipped here; it counts as not "
				    "hit", r->name, t->name);
			else
				diag_at(ps, RULES_DIAG_WARNING, r->file,
				    r->line, "meta %s depends on the undefined "
				    "rule %s, which counts as not hit",
				    r->name, t->name);
			free(t->name);
			t->name = NULL;
			t->op = MOP_NUM;
			t->num = 0;
		}
	}
	/* a meta over a disabled rule is disabled too */
	do {
		changed = false;
		for (i = 0; i < rs->nrules; i++) {
			r = &rs->rules[i];
			if (r->type != RULE_META || r->disabled)
				continue;
			for (k = 0; k < r->meta.n; k++)
				if (r->meta.rpn[k].op == MOP_RULE &&
				    rs->rules[r->meta.rpn[k].rule].disabled) {
					diag_at(ps, RULES_DIAG_WARNING, r->file,
					    r->line, "meta %s disabled: depends "
					    "on the disabled rule %s", r->name,
					    rs->rules[r->meta.rpn[k].rule].name);
					r->disabled = true;
					changed = true;
					break;
				}
		}
	} while (changed);
}

/* order_metas - dependencies first (iterative DFS); cycles are errors */
static void
order_metas(struct pstate *ps)
{
	struct ruleset *rs = ps->rs;
	unsigned char *mark = xcalloc(rs->nrules ? rs->nrules : 1, 1);
	size_t *stack = xcalloc(rs->nrules ? rs->nrules : 1,
	    sizeof(*stack) * 2);
	size_t i, sp, r, k;

	rs->meta_order = xcalloc(rs->nrules ? rs->nrules : 1,
	    sizeof(*rs->meta_order));
	for (i = 0; i < rs->nrules; i++) {
		if (rs->rules[i].type != RULE_META || rs->rules[i].disabled ||
		    mark[i])
			continue;
		/* stack of (rule, next operand index) */
		sp = 0;
		stack[sp * 2] = i;
		stack[sp * 2 + 1] = 0;
		sp++;
		mark[i] = 1;
		while (sp > 0) {
			r = stack[(sp - 1) * 2];
			k = stack[(sp - 1) * 2 + 1]++;
			if (k >= rs->rules[r].meta.n) {
				mark[r] = 2;
				rs->meta_order[rs->nmeta++] = r;
				sp--;
				continue;
			}
			if (rs->rules[r].meta.rpn[k].op != MOP_RULE)
				continue;
			k = rs->rules[r].meta.rpn[k].rule;
			if (rs->rules[k].type != RULE_META)
				continue;
			if (mark[k] == 1) {
				diag_at(ps, RULES_DIAG_ERROR, rs->rules[r].file,
				    rs->rules[r].line, "meta %s: dependency "
				    "loop through %s", rs->rules[r].name,
				    rs->rules[k].name);
				mark[k] = 2;
				continue;
			}
			if (mark[k] == 0) {
				mark[k] = 1;
				stack[sp * 2] = k;
				stack[sp * 2 + 1] = 0;
				sp++;
			}
		}
	}
	free(stack);
	free(mark);
}

/* plan - per type: the rules, the prefilter automaton, the always-run */
struct pair {
	size_t	 lit, rule;
};

static void
plan(struct ruleset *rs)
{
	struct factors f;
	struct rule *r;
	struct pair *pairs[RULE_NTYPES] = { NULL };
	size_t npairs[RULE_NTYPES] = { 0 };
	size_t i, k, n;
	enum rule_type t;
	uint32_t opts;

	for (i = 0; i < rs->nrules; i++) {
		r = &rs->rules[i];
		if (r->efn && !r->disabled) {
			rs->evals = xreallocarray(rs->evals, rs->nevals + 1,
			    sizeof(size_t));
			rs->evals[rs->nevals++] = i;
			continue;
		}
		if (r->type == RULE_META || r->disabled ||
		    (r->re == NULL && !r->exists))
			continue;
		t = r->type;
		rs->by_type[t] = xreallocarray(rs->by_type[t],
		    rs->nby_type[t] + 1, sizeof(size_t));
		rs->by_type[t][rs->nby_type[t]++] = i;
		if (t == RULE_FULL)
			rs->has_full = true;
		r->always = true;
		if (t == RULE_HEADER)
			continue;
		(void)pcre2_pattern_info(r->re, PCRE2_INFO_ALLOPTIONS, &opts);
		memset(&f, 0, sizeof(f));
		{
			/* analyse the pattern proper, not the /.../ form */
			struct buf pat = BUF_INIT, fl = BUF_INIT, why = BUF_INIT;
			size_t end;

			if (rx_split(r->pattern, strlen(r->pattern), &pat, &fl,
			    &end, &why) == 0)
				rx_factors(buf_cstr(&pat), pat.len, opts, &f);
			else
				f.none = true;
			buf_release(&pat);
			buf_release(&fl);
			buf_release(&why);
		}
		if (!f.none && f.n > 0) {
			if (rs->ac[t] == NULL)
				rs->ac[t] = ac_new();
			r->always = false;
			for (k = 0; k < f.n; k++)
				if (f.v[k].len < WEAK_FACTOR_LEN)
					r->weak = true;
			pairs[t] = xreallocarray(pairs[t], npairs[t] + f.n,
			    sizeof(*pairs[t]));
			for (k = 0; k < f.n; k++) {
				pairs[t][npairs[t]].lit = ac_add(rs->ac[t],
				    f.v[k].data, f.v[k].len);
				pairs[t][npairs[t]++].rule = i;
			}
		}
		factors_release(&f);
		if (r->always) {
			rs->always[t] = xreallocarray(rs->always[t],
			    rs->nalways[t] + 1, sizeof(size_t));
			rs->always[t][rs->nalways[t]++] = i;
		}
	}
	for (t = 0; t < RULE_NTYPES; t++) {
		if (rs->ac[t] == NULL)
			continue;
		ac_build(rs->ac[t]);
		n = ac_nlits(rs->ac[t]);
		rs->lit_rules_n[t] = xcalloc(n, sizeof(size_t));
		rs->lit_rules_v[t] = xcalloc(n, sizeof(size_t *));
		for (k = 0; k < npairs[t]; k++) {
			struct pair *pr = &pairs[t][k];
			size_t *cnt = &rs->lit_rules_n[t][pr->lit];

			rs->lit_rules_v[t][pr->lit] = xreallocarray(
			    rs->lit_rules_v[t][pr->lit], *cnt + 1, sizeof(size_t));
			rs->lit_rules_v[t][pr->lit][(*cnt)++] = pr->rule;
		}
		free(pairs[t]);
	}
}

static void
finish(struct pstate *ps)
{
	struct ruleset *rs = ps->rs;
	struct apply_ctx ac = { ps };
	struct rule *r;
	size_t i;

	replace_tags(ps);
	strmap_foreach(ps->attrs, apply_one, &ac);
	for (i = 0; i < rs->nrules; i++) {
		r = &rs->rules[i];
		if (!r->score_set) {
			r->score = strncmp(r->name, "__", 2) == 0 ? 0 :
			    (r->tflags & RULE_F_NICE) ? -1.0 : 1.0;
			r->scores[0] = r->scores[1] = r->scores[2] =
			    r->scores[3] = r->score;
		}
		if ((r->tflags & RULE_F_NOSUBJECT) && r->type == RULE_BODY)
			rs->has_nosubject = true;
		if (!r->disabled)
			ps->rep->by_type[r->type]++;
	}
	resolve_metas(ps);
	order_metas(ps);
	for (i = 0; i < rs->nrules; i++)
		if (rs->rules[i].disabled && rs->rules[i].type == RULE_META)
			ps->rep->disabled++;
	plan(rs);
	if (!ps->opt->no_hyperscan)
		rhs_plan(rs);
}

/* miss_roots - the missing functions meta name needs, into funcs */
static void
miss_roots(struct pstate *ps, const char *name, struct strmap *funcs,
    struct strmap *seen, int depth)
{
	const struct ruleset *rs = ps->rs;
	const struct rule *r;
	const char *fn;
	void *idx;
	size_t k;

	if (depth > 64 || strmap_get(seen, name))
		return;
	strmap_put(seen, name, (void *)1);
	if ((idx = strmap_get(rs->byname, name)) == NULL) {
		if ((fn = strmap_get(ps->missing_fn, name)) != NULL)
			strmap_put(funcs, fn, (void *)1);
		return;
	}
	r = &rs->rules[(size_t)(uintptr_t)idx - 1];
	if (r->type != RULE_META || !r->disabled)
		return;
	for (k = 0; k < r->meta.n; k++)
		if (r->meta.rpn[k].op == MOP_RULE)
			miss_roots(ps, r->meta.rpn[k].name, funcs, seen,
			    depth + 1);
}

struct miss_ctx {
	struct pstate *ps;
	struct strmap *tally;		/* func -> struct rules_missing * */
	bool	 metas;
};

static struct rules_missing *
miss_entry(struct strmap *tally, const char *func)
{
	struct rules_missing *m = strmap_get(tally, func);

	if (m == NULL) {
		m = xcalloc(1, sizeof(*m));
		m->func = xstrdup(func);
		strmap_put(tally, func, m);
	}
	return m;
}

static void
miss_rule(const char *name, void *v, void *arg)
{
	struct miss_ctx *c = arg;

	if (strmap_get(c->ps->rs->byname, name) == NULL)
		miss_entry(c->tally, v)->rules++;
}

static void
miss_meta(const char *func, void *v, void *arg)
{
	(void)v;
	miss_entry(arg, func)->metas++;
}

static void
miss_collect(const char *func, void *v, void *arg)
{
	struct rules_report *rep = arg;

	(void)func;
	rep->missing[rep->nmissing++] = *(struct rules_missing *)v;
	free(v);
}

static int
cmp_missing(const void *a, const void *b)
{
	const struct rules_missing *x = a, *y = b;

	if (x->metas != y->metas)
		return x->metas < y->metas ? 1 : -1;
	if (x->rules != y->rules)
		return x->rules < y->rules ? 1 : -1;
	return strcmp(x->func, y->func);
}

/* tally_missing - per missing eval function: its rules, its metas */
static void
tally_missing(struct pstate *ps)
{
	struct miss_ctx c = { ps, strmap_new(), false };
	struct rules_report *rep = ps->rep;
	const struct rule *r;
	struct strmap *funcs, *seen;
	size_t i, k;

	strmap_foreach(ps->missing_fn, miss_rule, &c);
	for (i = 0; i < ps->rs->nrules; i++) {
		r = &ps->rs->rules[i];
		if (r->type != RULE_META || !r->disabled)
			continue;
		funcs = strmap_new();
		seen = strmap_new();
		strmap_put(seen, r->name, (void *)1);
		for (k = 0; k < r->meta.n; k++)
			if (r->meta.rpn[k].op == MOP_RULE)
				miss_roots(ps, r->meta.rpn[k].name, funcs,
				    seen, 0);
		strmap_foreach(funcs, miss_meta, c.tally);
		strmap_free(funcs, NULL);
		strmap_free(seen, NULL);
	}
	rep->missing = xcalloc(strmap_count(c.tally) + 1,
	    sizeof(*rep->missing));
	strmap_foreach(c.tally, miss_collect, rep);
	strmap_free(c.tally, NULL);
	qsort(rep->missing, rep->nmissing, sizeof(*rep->missing),
	    cmp_missing);
}

static int
run(const char *const *paths, size_t npaths, const char *text, size_t len,
    const char *origin, const struct rules_options *opt,
    struct ruleset **out, struct rules_report *rep)
{
	struct rules_options defaults;
	struct pstate ps;
	size_t i;

	memset(rep, 0, sizeof(*rep));
	if (opt == NULL) {
		memset(&defaults, 0, sizeof(defaults));
		defaults.score_set = 3;
		opt = &defaults;
	}
	memset(&ps, 0, sizeof(ps));
	ps.rep = rep;
	ps.opt = opt;
	ps.rs = xcalloc(1, sizeof(*ps.rs));
	ps.rs->byname = strmap_new();
	ps.rs->scores = strmap_new();
	ps.rs->saconf = saeval_conf_new();
	ps.rs->match_limit = opt->match_limit ? opt->match_limit :
	    RULES_DEFAULT_MATCH_LIMIT;
	ps.rs->body_part_max = opt->body_part_max ? opt->body_part_max :
	    RULES_DEFAULT_BODY_PART;
	ps.rs->rawbody_part_max = opt->rawbody_part_max ?
	    opt->rawbody_part_max : RULES_DEFAULT_RAWBODY_PART;
	ps.attrs = strmap_new();
	ps.unsupported = strmap_new();
	ps.missing_fn = strmap_new();
	ps.skipped = strmap_new();
	for (i = 0; i < 4; i++)
		ps.rtags[i] = strmap_new();
	ps.rrules = strmap_new();
	ps.rstart = xstrdup("<");
	ps.rend = xstrdup(">");
	if (text) {
		rep->files++;
		parse_text(&ps, text, len, origin);
	}
	for (i = 0; i < npaths; i++)
		(void)load_path(&ps, paths[i], false, NULL, 0);
	finish(&ps);
	tally_missing(&ps);
	strmap_free(ps.attrs, attrs_free);
	strmap_free(ps.unsupported, NULL);
	strmap_free(ps.missing_fn, free);
	strmap_free(ps.skipped, NULL);
	for (i = 0; i < 4; i++)
		strmap_free(ps.rtags[i], free);
	strmap_free(ps.rrules, where_free);
	free(ps.rstart);
	free(ps.rend);
	if (rep->nerrors) {
		rules_free(ps.rs);
		*out = NULL;
		return -1;
	}
	*out = ps.rs;
	return 0;
}

int
rules_load(const char *const *paths, size_t npaths,
    const struct rules_options *opt, struct ruleset **out,
    struct rules_report *rep)
{
	return run(paths, npaths, NULL, 0, NULL, opt, out, rep);
}

int
rules_parse_text(const char *text, size_t len, const char *origin,
    const struct rules_options *opt, struct ruleset **out,
    struct rules_report *rep)
{
	return run(NULL, 0, text, len, origin, opt, out, rep);
}

/* ------------------------------------------------------------------ */
/* inspection                                                          */
/* ------------------------------------------------------------------ */

size_t
rules_count(const struct ruleset *rs)
{
	return rs->nrules;
}

const struct rule *
rules_get(const struct ruleset *rs, size_t i)
{
	return i < rs->nrules ? &rs->rules[i] : NULL;
}

const struct rule *
rules_find(const struct ruleset *rs, const char *name)
{
	void *v = strmap_get(rs->byname, name);

	return v ? &rs->rules[(size_t)(uintptr_t)v - 1] : NULL;
}

const char *
rule_name(const struct rule *r)
{
	return r->name;
}

size_t
rule_index(const struct rule *r)
{
	return r->idx;
}

enum rule_type
rule_type_of(const struct rule *r)
{
	return r->type;
}

const char *
rule_type_name(enum rule_type t)
{
	static const char *const names[] = { "header", "body", "rawbody",
	    "uri", "full", "meta" };

	return (unsigned)t < RULE_NTYPES ? names[t] : "?";
}

const char *
rule_describe(const struct rule *r)
{
	return r->describe;
}

double
rule_score(const struct rule *r)
{
	return r->score;
}

double
rule_score_in(const struct rule *r, unsigned set)
{
	return r->scores[set < 4 ? set : 3];
}

bool
rule_scored_in_any(const struct rule *r)
{
	return !r->disabled && strncmp(r->name, "__", 2) != 0 &&
	    (r->scores[0] != 0 || r->scores[1] != 0 || r->scores[2] != 0 ||
	    r->scores[3] != 0);
}

unsigned
rule_tflags(const struct rule *r)
{
	return r->tflags;
}

bool
rule_enabled(const struct rule *r)
{
	return !r->disabled;
}

bool
rule_scored(const struct rule *r)
{
	return !r->disabled && r->score != 0 && strncmp(r->name, "__", 2) != 0;
}

bool
rule_prefiltered(const struct rule *r)
{
	return !r->always && r->type != RULE_META && r->type != RULE_HEADER;
}

bool
rule_prefiltered_hs(const struct rule *r)
{
	return r->hs;
}

const char *
rule_source(const struct rule *r, unsigned *line)
{
	if (line)
		*line = r->line;
	return r->file;
}

struct ov_ctx {
	void	(*fn)(const char *, const struct rules_score *, void *);
	void	*arg;
};

static void
ov_one(const char *name, void *v, void *arg)
{
	struct ov_ctx *c = arg;

	c->fn(name, v, c->arg);
}

void
rules_score_overrides(const struct ruleset *rs,
    void (*fn)(const char *, const struct rules_score *, void *), void *arg)
{
	struct ov_ctx c = { fn, arg };

	strmap_foreach(rs->scores, ov_one, &c);
}
