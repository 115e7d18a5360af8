/*
 * rules_regex.c - Perl regex literals: split, compile, required literals
 *
 * DESCRIPTION
 *	rx_split() reads a regex the way Perl's lexer does in a rule file:
 *	"/re/flags" or "m" followed by any delimiter ("m{re}", "m!re!"),
 *	bracketing delimiters nesting; the pattern ends at the first
 *	unescaped closing delimiter.  rx_compile() maps the Perl flags
 *	(i m s x xx n; g and o are accepted and mean nothing here) to PCRE2
 *	options and compiles, with JIT when the platform has it.
 *
 *	rx_factors() is the prefilter's analysis: it walks the pattern and
 *	finds a set of literal strings such that every match contains at
 *	least one of them.  It understands the whole Perl/PCRE2 syntax well
 *	enough to be conservative: a construct it does not model simply
 *	contributes no literal (escapes like \d, classes with more than one
 *	character, backreferences, lookarounds, optional atoms), and a
 *	group contributes its alternatives only if it is required.  A
 *	group that matches exactly one of some literals ("(?:late|deceased)",
 *	once) does not break a run: the run becomes each string followed by
 *	each alternative ("the late", "the deceased"), while there are at
 *	most RX_MAX_ALTS of them.  When no
 *	literal of at least FACTOR_MIN_LEN bytes is required the rule runs
 *	on every input.  Literals are compared case-insensitively (ASCII),
 *	which only widens what passes, so the analysis never needs to know
 *	the case flags in force.
 *
 * LIMITS
 *	Group nesting in the analysis is capped (RX_MAX_DEPTH); deeper
 *	patterns are not prefiltered.  Alternative sets are capped at
 *	RX_MAX_ALTS literals.
 */
#include "config.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "rules_int.h"
#include "str.h"

#define RX_MAX_DEPTH	64
#define RX_MAX_ALTS	64

int
rx_split(const char *s, size_t n, struct buf *pat, struct buf *flags,
    size_t *end, struct buf *why)
{
	size_t i = 0;
	char open, close;
	int depth = 1;

	if (n > 0 && s[0] == '/') {
		open = close = '/';
		i = 1;
	} else if (n > 1 && s[0] == 'm' && ch_is_vchar((unsigned char)s[1]) &&
	    !ch_is_alnum((unsigned char)s[1]) && s[1] != '\\') {
		open = s[1];
		switch (open) {
		case '{': close = '}'; break;
		case '(': close = ')'; break;
		case '[': close = ']'; break;
		case '<': close = '>'; break;
		default: close = open;
		}
		i = 2;
	} else {
		buf_adds(why, "expected a regex: /.../ or m{...}");
		return -1;
	}
	for (; i < n; i++) {
		if (s[i] == '\\' && i + 1 < n) {
			buf_add(pat, s + i, 2);
			i++;
			continue;
		}
		if (open != close && s[i] == open)
			depth++;
		else if (s[i] == close && --depth == 0)
			break;
		buf_addc(pat, s[i]);
	}
	if (i >= n) {
		buf_printf(why, "regex not terminated: missing '%c'", close);
		return -1;
	}
	if (pat->len > RULES_MAX_PATTERN) {
		buf_printf(why, "regex longer than %d bytes", RULES_MAX_PATTERN);
		return -1;
	}
	i++;
	while (i < n && ch_is_alpha((unsigned char)s[i]))
		buf_addc(flags, s[i++]);
	*end = i;
	return 0;
}

pcre2_code *
rx_compile(const char *pat, size_t plen, const char *flags, bool jit,
    uint32_t *optsp, struct buf *why)
{
	uint32_t opts = 0, xcount = 0;
	PCRE2_SIZE off;
	pcre2_code *re;
	char msg[256];
	const char *f;
	int err;

	for (f = flags; *f; f++) {
		switch (*f) {
		case 'i': opts |= PCRE2_CASELESS; break;
		case 'm': opts |= PCRE2_MULTILINE; break;
		case 's': opts |= PCRE2_DOTALL; break;
		case 'x': xcount++; break;
		case 'n': opts |= PCRE2_NO_AUTO_CAPTURE; break;
		case 'g': case 'o': break;	/* no meaning for a test */
		default:
			buf_printf(why, "unsupported regex flag '%c'", *f);
			return NULL;
		}
	}
	if (xcount == 1)
		opts |= PCRE2_EXTENDED;
	else if (xcount > 1)
		opts |= PCRE2_EXTENDED | PCRE2_EXTENDED_MORE;
	re = pcre2_compile((PCRE2_SPTR)pat, plen, opts, &err, &off, NULL);
	if (re == NULL) {
		/*
		 * Perl takes \x{100} and above in a pattern as a character,
		 * which in 8-bit mode PCRE2 refuses.  Such a pattern is meant
		 * for Unicode text, and ours is UTF-8: compile it in UTF mode,
		 * where ill-formed subject bytes simply do not match.
		 */
		re = pcre2_compile((PCRE2_SPTR)pat, plen, opts | PCRE2_UTF |
		    PCRE2_MATCH_INVALID_UTF, &err, &off, NULL);
		if (re != NULL)
			opts |= PCRE2_UTF | PCRE2_MATCH_INVALID_UTF;
		else
			re = pcre2_compile((PCRE2_SPTR)pat, plen, opts, &err,
			    &off, NULL);
	}
	if (re == NULL) {
		pcre2_get_error_message(err, (PCRE2_UCHAR *)msg, sizeof(msg));
		buf_printf(why, "bad regex at offset %zu: %s", (size_t)off, msg);
		return NULL;
	}
	if (jit)
		(void)pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
	*optsp = opts;
	return re;
}

/* ------------------------------------------------------------------ */
/* required literals                                                   */
/* ------------------------------------------------------------------ */

struct rxa {
	const char *p;
	size_t	 n, i;
	bool	 x;		/* extended: white space and # comments */
	bool	 utf;		/* UTF mode: only ASCII bytes are literals */
	int	 depth;
	bool	 fail;		/* gave up: no factors at all */
};

enum atom_kind {
	A_NONE,			/* nothing (comment, flag setting) */
	A_LIT,			/* one byte */
	A_GROUP,		/* a group with its own factors */
	A_OTHER,		/* matches something, no literal known */
	A_ZERO			/* zero-width assertion */
};

struct atom {
	enum atom_kind kind;
	unsigned char c;
	struct factors g;
};

static void
bufs_free(struct buf *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		buf_release(&v[i]);
	free(v);
}

void
factors_release(struct factors *f)
{
	bufs_free(f->v, f->n);
	f->v = NULL;
	f->n = 0;
	bufs_free(f->ex, f->nex);
	f->ex = NULL;
	f->nex = 0;
	f->exact = false;
}

static size_t
min_len(const struct factors *f)
{
	size_t i, m = (size_t)-1;

	if (f->none || f->n == 0)
		return 0;
	for (i = 0; i < f->n; i++)
		if (f->v[i].len < m)
			m = f->v[i].len;
	return m;
}

/* better - is a a more selective requirement than b? */
static bool
better(const struct factors *a, const struct factors *b)
{
	size_t la = min_len(a), lb = min_len(b);

	if (la < FACTOR_MIN_LEN)
		return false;
	if (lb < FACTOR_MIN_LEN)
		return true;
	if (la != lb)
		return la > lb;
	return a->n < b->n;
}

/* take - make best the factors in f (consumed), if better */
static void
take(struct factors *best, struct factors *f)
{
	bufs_free(f->ex, f->nex);	/* only v is a requirement */
	f->ex = NULL;
	f->nex = 0;
	f->exact = false;
	if (better(f, best)) {
		factors_release(best);
		*best = *f;
	} else
		factors_release(f);
	memset(f, 0, sizeof(*f));
	f->none = true;
}

/*
 * The current run: the strings one of which the atoms since the last
 * break matched, exactly (one string while they are single bytes; a
 * group of exact alternatives multiplies them).
 */
struct run {
	struct buf *v;
	size_t	 n;
};

static void
run_init(struct run *r)
{
	r->v = xcalloc(1, sizeof(*r->v));
	r->n = 1;
}

static void
run_addc(struct run *r, char c)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		buf_addc(&r->v[i], c);
}

/* run_join - each string followed by each of g[0..ng): false if too many */
static bool
run_join(struct run *r, const struct buf *g, size_t ng)
{
	struct buf *v;
	size_t i, k;

	if (ng == 0 || r->n * ng > RX_MAX_ALTS)
		return false;
	v = xcalloc(r->n * ng, sizeof(*v));
	for (i = 0; i < r->n; i++)
		for (k = 0; k < ng; k++) {
			buf_add(&v[i * ng + k], r->v[i].data, r->v[i].len);
			buf_add(&v[i * ng + k], g[k].data, g[k].len);
		}
	bufs_free(r->v, r->n);
	r->v = v;
	r->n *= ng;
	return true;
}

/* flush - the current run ends: offer it, start an empty one */
static void
flush(struct run *run, struct factors *best)
{
	struct factors f;

	memset(&f, 0, sizeof(f));
	f.v = run->v;
	f.n = run->n;
	if (min_len(&f) >= FACTOR_MIN_LEN)
		take(best, &f);
	else
		bufs_free(run->v, run->n);
	run_init(run);
}

static void
skip_x(struct rxa *a)
{
	while (a->x && a->i < a->n) {
		if (ch_is_space((unsigned char)a->p[a->i]))
			a->i++;
		else if (a->p[a->i] == '#') {
			while (a->i < a->n && a->p[a->i] != '\n')
				a->i++;
		} else
			break;
	}
}

/* skip_to_paren - past the ')' closing the group whose body starts at i */
static void
skip_to_paren(struct rxa *a)
{
	int depth = 1;

	while (a->i < a->n) {
		char c = a->p[a->i++];

		if (c == '\\')
			a->i++;
		else if (c == '[') {
			if (a->i < a->n && a->p[a->i] == '^')
				a->i++;
			if (a->i < a->n && a->p[a->i] == ']')
				a->i++;
			while (a->i < a->n && a->p[a->i] != ']') {
				if (a->p[a->i] == '\\')
					a->i++;
				a->i++;
			}
			a->i++;
		} else if (c == '(')
			depth++;
		else if (c == ')' && --depth == 0)
			return;
	}
	a->fail = true;
}

/* skip_braced - "{...}" at i, if present */
static void
skip_braced(struct rxa *a)
{
	if (a->i < a->n && a->p[a->i] == '{') {
		while (a->i < a->n && a->p[a->i] != '}')
			a->i++;
		a->i++;
	}
}

static void alt(struct rxa *, struct factors *);

/* escape - after the backslash */
static void
escape(struct rxa *a, struct atom *at)
{
	unsigned char c;
	unsigned v = 0;
	int d, k;

	if (a->i >= a->n) {
		a->fail = true;
		return;
	}
	c = (unsigned char)a->p[a->i++];
	at->kind = A_OTHER;
	if (!ch_is_alnum(c)) {
		at->kind = A_LIT;
		at->c = c;
		return;
	}
	switch (c) {
	case 't': at->kind = A_LIT; at->c = '\t'; return;
	case 'n': at->kind = A_LIT; at->c = '\n'; return;
	case 'r': at->kind = A_LIT; at->c = '\r'; return;
	case 'f': at->kind = A_LIT; at->c = '\f'; return;
	case 'e': at->kind = A_LIT; at->c = 0x1b; return;
	case 'a': at->kind = A_LIT; at->c = 0x07; return;
	case 'x':
		if (a->i < a->n && a->p[a->i] == '{') {
			for (a->i++; a->i < a->n && a->p[a->i] != '}'; a->i++) {
				if ((d = ch_xdigit_val((unsigned char)a->p[a->i]))
				    < 0 || v > 0xfff) {
					skip_braced(a);
					return;
				}
				v = v * 16 + (unsigned)d;
			}
			a->i++;
		} else
			for (k = 0; k < 2 && a->i < a->n && (d = ch_xdigit_val(
			    (unsigned char)a->p[a->i])) >= 0; k++, a->i++)
				v = v * 16 + (unsigned)d;
		if (v <= 0xff) {
			at->kind = A_LIT;
			at->c = (unsigned char)v;
		}
		return;
	case '0':
		for (k = 0; k < 2 && a->i < a->n && a->p[a->i] >= '0' &&
		    a->p[a->i] <= '7'; k++, a->i++)
			v = v * 8 + (unsigned)(a->p[a->i] - '0');
		at->kind = A_LIT;
		at->c = (unsigned char)v;
		return;
	case 'c':
		if (a->i < a->n) {
			at->kind = A_LIT;
			at->c = (unsigned char)(ch_upper((unsigned char)
			    a->p[a->i++]) ^ 0x40);
		}
		return;
	case 'b': case 'B': case 'A': case 'z': case 'Z': case 'G':
	case 'K':
		skip_braced(a);		/* \b{wb} */
		at->kind = A_ZERO;
		return;
	case 'p': case 'P': case 'N': case 'o':
		skip_braced(a);
		if (c == 'p' || c == 'P')
			if (a->i < a->n && a->p[a->i - 1] != '}')
				a->i++;		/* \pL */
		return;
	case 'g': case 'k':
		if (a->i < a->n && (a->p[a->i] == '{' || a->p[a->i] == '<' ||
		    a->p[a->i] == '\'')) {
			char close = a->p[a->i] == '{' ? '}' :
			    a->p[a->i] == '<' ? '>' : '\'';

			while (a->i < a->n && a->p[a->i] != close)
				a->i++;
			a->i++;
		} else
			while (a->i < a->n && (ch_is_digit((unsigned char)
			    a->p[a->i]) || a->p[a->i] == '-'))
				a->i++;
		return;
	case 'Q':
		/* quoted text: no literal taken (rare in rules) */
		while (a->i + 1 < a->n && !(a->p[a->i] == '\\' &&
		    a->p[a->i + 1] == 'E'))
			a->i++;
		a->i = a->i + 1 < a->n ? a->i + 2 : a->n;
		return;
	case 'E':
		at->kind = A_NONE;
		return;
	default:
		/* \d \w \s \h \v \R \X \C, backreferences \1..\9, ... */
		while (ch_is_digit(c) && a->i < a->n &&
		    ch_is_digit((unsigned char)a->p[a->i]))
			a->i++;
		return;
	}
}

/* klass - "[...]" after the '['; a one-byte class is a literal */
static void
klass(struct rxa *a, struct atom *at)
{
	bool neg = false, single = true, first = true;
	int lit = -1;
	unsigned char c;

	at->kind = A_OTHER;
	if (a->i < a->n && a->p[a->i] == '^') {
		neg = true;
		a->i++;
	}
	while (a->i < a->n) {
		c = (unsigned char)a->p[a->i];
		if (c == ']' && !first) {
			a->i++;
			if (single && !neg && lit >= 0) {
				at->kind = A_LIT;
				at->c = (unsigned char)lit;
			}
			return;
		}
		first = false;
		a->i++;
		if (c == '[' && a->i < a->n && (a->p[a->i] == ':' ||
		    a->p[a->i] == '.' || a->p[a->i] == '=')) {
			/* [:alpha:] */
			char end = a->p[a->i];

			single = false;
			while (a->i + 1 < a->n && !(a->p[a->i] == end &&
			    a->p[a->i + 1] == ']'))
				a->i++;
			a->i += 2;
			continue;
		}
		if (c == '\\') {
			if (a->i >= a->n)
				break;
			c = (unsigned char)a->p[a->i++];
			if (ch_is_alnum(c)) {
				single = false;	/* \d, \x41, ... */
				if (c == 'x' || c == 'p' || c == 'P' || c == 'o' ||
				    c == 'N')
					skip_braced(a);
				continue;
			}
		}
		if (a->i < a->n && a->p[a->i] == '-' && a->i + 1 < a->n &&
		    a->p[a->i + 1] != ']')
			single = false;	/* a range */
		c = (unsigned char)ch_lower(c);
		if (lit >= 0 && lit != c)
			single = false;
		lit = c;
	}
	a->fail = true;
}

/* group - after the '(' */
static void
group(struct rxa *a, struct atom *at)
{
	bool save_x = a->x, set_x;
	char c;

	at->kind = A_OTHER;
	if (a->i < a->n && a->p[a->i] == '*') {		/* (*VERB) */
		skip_to_paren(a);
		at->kind = A_ZERO;
		return;
	}
	if (a->i < a->n && a->p[a->i] == '?') {
		a->i++;
		c = a->i < a->n ? a->p[a->i] : '\0';
		switch (c) {
		case '#':
			skip_to_paren(a);
			at->kind = A_NONE;
			return;
		case '=': case '!':
			skip_to_paren(a);
			at->kind = A_ZERO;
			return;
		case '<':
			if (a->i + 1 < a->n && (a->p[a->i + 1] == '=' ||
			    a->p[a->i + 1] == '!')) {
				skip_to_paren(a);
				at->kind = A_ZERO;
				return;
			}
			while (a->i < a->n && a->p[a->i] != '>')
				a->i++;
			a->i++;
			break;
		case '\'':
			a->i++;
			while (a->i < a->n && a->p[a->i] != '\'')
				a->i++;
			a->i++;
			break;
		case 'P':
			if (a->i + 1 < a->n && a->p[a->i + 1] == '<') {
				while (a->i < a->n && a->p[a->i] != '>')
					a->i++;
				a->i++;
				break;
			}
			skip_to_paren(a);
			return;
		case ':': case '|': case '>':
			a->i++;
			break;
		case '(': case 'R': case '&': case '+': case 'C':
			skip_to_paren(a);
			return;
		default:
			if (ch_is_digit((unsigned char)c) || c == '-') {
				if (c == '-' && a->i + 1 < a->n &&
				    !ch_is_digit((unsigned char)a->p[a->i + 1]))
					goto flags;
				skip_to_paren(a);
				return;
			}
flags:
			/* (?imsx-imsx) or (?imsx-imsx:...) */
			set_x = true;
			while (a->i < a->n && (ch_is_alpha((unsigned char)
			    a->p[a->i]) || a->p[a->i] == '-' ||
			    a->p[a->i] == '^')) {
				if (a->p[a->i] == '-' || a->p[a->i] == '^')
					set_x = a->p[a->i] == '^' ? set_x : false;
				else if (a->p[a->i] == 'x')
					a->x = set_x;
				a->i++;
			}
			if (a->i < a->n && a->p[a->i] == ')') {
				a->i++;
				save_x = a->x;	/* lasts to the group's end */
				at->kind = A_NONE;
				return;
			}
			if (a->i >= a->n || a->p[a->i] != ':') {
				a->fail = true;
				return;
			}
			a->i++;
		}
	}
	if (++a->depth > RX_MAX_DEPTH) {
		a->fail = true;
		return;
	}
	at->kind = A_GROUP;
	alt(a, &at->g);
	a->depth--;
	a->x = save_x;
	if (a->i >= a->n || a->p[a->i] != ')') {
		a->fail = true;
		return;
	}
	a->i++;
}

/* quant - the quantifier after an atom: bounds (max UINT_MAX: none) */
static void
quant(struct rxa *a, unsigned *min, unsigned *max)
{
	size_t j;
	unsigned v = 0, w = 0;

	*min = *max = 1;
	skip_x(a);
	if (a->i >= a->n)
		return;
	switch (a->p[a->i]) {
	case '*':
		*min = 0;
		*max = UINT_MAX;
		a->i++;
		break;
	case '?':
		*min = 0;
		a->i++;
		break;
	case '+':
		*max = UINT_MAX;
		a->i++;
		break;
	case '{':
		j = a->i + 1;
		while (j < a->n && ch_is_digit((unsigned char)a->p[j]) &&
		    v < 100000)
			v = v * 10 + (unsigned)(a->p[j++] - '0');
		if (j == a->i + 1)
			return;		/* "{" or "{,m}": a literal brace */
		w = v;
		if (j < a->n && a->p[j] == ',') {
			j++;
			w = UINT_MAX;
			if (j < a->n && ch_is_digit((unsigned char)a->p[j]))
				w = 0;
			while (j < a->n && ch_is_digit((unsigned char)a->p[j]) &&
			    w < 100000)
				w = w * 10 + (unsigned)(a->p[j++] - '0');
		}
		if (j >= a->n || a->p[j] != '}')
			return;
		*min = v;
		*max = w;
		a->i = j + 1;
		break;
	default:
		return;
	}
	if (a->i < a->n && (a->p[a->i] == '?' || a->p[a->i] == '+'))
		a->i++;
}

/*
 * branch - a sequence up to '|', ')' or the end; when every atom matched
 * exactly one of some literals (single bytes, exact groups), best->ex
 * gets the strings the whole branch matches
 */
static void
branch(struct rxa *a, struct factors *best)
{
	struct run run;
	struct atom at;
	unsigned min, max;
	bool exact = true;
	struct buf *ex;
	size_t k;
	char c;

	memset(best, 0, sizeof(*best));
	best->none = true;
	run_init(&run);
	for (;;) {
		skip_x(a);
		if (a->fail || a->i >= a->n)
			break;
		c = a->p[a->i];
		if (c == '|' || c == ')')
			break;
		memset(&at, 0, sizeof(at));
		at.g.none = true;
		a->i++;
		switch (c) {
		case '\\': escape(a, &at); break;
		case '[': klass(a, &at); break;
		case '(': group(a, &at); break;
		case '.': at.kind = A_OTHER; break;
		case '^': case '$': at.kind = A_ZERO; break;
		default:
			at.kind = A_LIT;
			at.c = (unsigned char)c;
		}
		if (at.kind == A_NONE)
			continue;
		quant(a, &min, &max);
		/* Unicode case folding is beyond an ASCII prefilter */
		if (at.kind == A_LIT && a->utf && at.c >= 0x80)
			at.kind = A_OTHER;
		switch (at.kind) {
		case A_LIT:
			if (min >= 1)
				run_addc(&run, (char)ch_lower(at.c));
			/* a repeated or optional byte ends the run */
			if (min != 1 || max != 1) {
				flush(&run, best);
				exact = false;
			}
			break;
		case A_GROUP:
			/* once, of exact alternatives: the run goes on */
			if (min == 1 && max == 1 && at.g.exact &&
			    run_join(&run, at.g.ex, at.g.nex)) {
				factors_release(&at.g);
				break;
			}
			flush(&run, best);
			exact = false;
			if (min >= 1)
				take(best, &at.g);
			else
				factors_release(&at.g);
			break;
		default:
			flush(&run, best);
			exact = false;
		}
	}
	if (exact && !a->fail) {
		ex = xcalloc(run.n, sizeof(*ex));
		for (k = 0; k < run.n; k++)
			buf_add(&ex[k], run.v[k].data, run.v[k].len);
		flush(&run, best);
		bufs_free(best->ex, best->nex);
		best->ex = ex;
		best->nex = k;
		best->exact = true;
	} else
		flush(&run, best);
	bufs_free(run.v, run.n);
}

/* alt - branches separated by '|'; every one must yield factors */
static void
alt(struct rxa *a, struct factors *out)
{
	struct factors b;
	struct buf *ex = NULL;
	size_t k, nex = 0;
	bool exact = true;

	memset(out, 0, sizeof(*out));
	for (;;) {
		branch(a, &b);
		/* the exact strings of every branch, while they all have them */
		if (exact && b.exact && nex + b.nex <= RX_MAX_ALTS) {
			ex = xreallocarray(ex, nex + b.nex + 1, sizeof(*ex));
			for (k = 0; k < b.nex; k++)
				ex[nex++] = b.ex[k];
			free(b.ex);
		} else {
			exact = false;
			bufs_free(b.ex, b.nex);
		}
		b.ex = NULL;
		b.nex = 0;
		b.exact = false;
		if (b.none || min_len(&b) < FACTOR_MIN_LEN ||
		    out->n + b.n > RX_MAX_ALTS)
			out->none = true;
		if (!out->none) {
			out->v = xreallocarray(out->v, out->n + b.n,
			    sizeof(*out->v));
			for (k = 0; k < b.n; k++)
				out->v[out->n++] = b.v[k];
			free(b.v);
		} else
			factors_release(&b);
		if (a->fail || a->i >= a->n || a->p[a->i] != '|')
			break;
		a->i++;
	}
	if (out->none)
		factors_release(out);
	if (exact && !a->fail && nex > 0) {
		out->ex = ex;
		out->nex = nex;
		out->exact = true;
	} else
		bufs_free(ex, nex);
}

void
rx_factors(const char *pat, size_t len, uint32_t opts, struct factors *out)
{
	struct rxa a;

	memset(&a, 0, sizeof(a));
	a.p = pat;
	a.n = len;
	a.x = (opts & PCRE2_EXTENDED) != 0;
	a.utf = (opts & PCRE2_UTF) != 0;
	alt(&a, out);
	if (a.fail || a.i != a.n) {
		factors_release(out);
		out->none = true;
	}
}
