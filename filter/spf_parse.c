/*
 * spf_parse.c - SPF record syntax (RFC 7208 sections 4.5, 4.6, 12)
 *
 * DESCRIPTION
 *	spf_parse() reads a whole record into terms before anything is
 *	evaluated (4.6: a syntax error anywhere is a permerror, even after
 *	a term that would match).  Terms are separated by spaces only; a
 *	term is a modifier when it starts with a name and "=", otherwise a
 *	directive.  The table below gives each mechanism's argument shape.
 *	Dual CIDR lengths are taken off the end of the argument, since
 *	"/" may also appear inside a domain-spec.  Domain-specs must be
 *	valid macro-strings (spf_macro.c) ending in a valid top label or
 *	a macro; unknown modifiers are ignored but must still parse.
 *
 * SECURITY
 *	Parses untrusted TXT data with an explicit length: NUL bytes,
 *	control characters and 8-bit bytes are syntax errors.  Nothing is
 *	read past txt + len; the work is linear in the record's length.
 *
 * STANDARDS
 *	RFC 7208.
 */
#include "config.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "buf.h"
#include "spf.h"
#include "str.h"

enum arg_shape {
	ARG_NONE,		/* all */
	ARG_DOMAIN,		/* include, exists: ":" domain-spec */
	ARG_DOMAIN_CIDR,	/* a, mx: [":" domain-spec] [dual-cidr] */
	ARG_OPT_DOMAIN,		/* ptr: [":" domain-spec] */
	ARG_IP4,		/* ":" ip4-network [ip4-cidr] */
	ARG_IP6			/* ":" ip6-network [ip6-cidr] */
};

static const struct {
	const char *name;
	enum spf_mech mech;
	enum arg_shape shape;
	bool	 dns;		/* counts against the 10 DNS terms */
} mechs[] = {
	{ "all", SPF_MECH_ALL, ARG_NONE, false },
	{ "include", SPF_MECH_INCLUDE, ARG_DOMAIN, true },
	{ "a", SPF_MECH_A, ARG_DOMAIN_CIDR, true },
	{ "mx", SPF_MECH_MX, ARG_DOMAIN_CIDR, true },
	{ "ptr", SPF_MECH_PTR, ARG_OPT_DOMAIN, true },
	{ "ip4", SPF_MECH_IP4, ARG_IP4, false },
	{ "ip6", SPF_MECH_IP6, ARG_IP6, false },
	{ "exists", SPF_MECH_EXISTS, ARG_DOMAIN, true },
};

#define NMECHS	(sizeof(mechs) / sizeof(mechs[0]))

bool
spf_mech_uses_dns(enum spf_mech m)
{
	size_t i;

	for (i = 0; i < NMECHS; i++)
		if (mechs[i].mech == m)
			return mechs[i].dns;
	return false;
}

bool
spf_is_record(const char *txt, size_t len)
{
	return len >= 6 && str_nieq(txt, 6, "v=spf1", 6) &&
	    (len == 6 || txt[6] == ' ');
}

void
spf_record_free(struct spf_record *r)
{
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; i < r->nterms; i++) {
		free(r->terms[i].domain_spec);
		free(r->terms[i].text);
	}
	free(r->terms);
	free(r->redirect);
	free(r->exp);
	free(r);
}

/* valid_toplabel - RFC 7208 12 toplabel */
static bool
valid_toplabel(const char *p, size_t n)
{
	bool alpha = false, hyphen = false;
	size_t i;

	if (n == 0)
		return false;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		if (ch_is_alpha(c))
			alpha = true;
		else if (c == '-')
			hyphen = true;
		else if (!ch_is_digit(c))
			return false;
	}
	if (hyphen)	/* 1*alphanum "-" *( alphanum / "-" ) alphanum */
		return p[0] != '-' && p[n - 1] != '-';
	return alpha;
}

/*
 * ends_with_macro - does the macro-string s[0..n) end in a macro-expand?
 * (s is known to be syntactically valid)
 */
static bool
ends_with_macro(const char *s, size_t n, size_t *literal_start)
{
	size_t i = 0, last_end = 0;
	bool macro_last = false;

	while (i < n) {
		if (s[i] == '%') {
			if (s[i + 1] == '{') {
				while (s[i] != '}')
					i++;
				i++;
			} else
				i += 2;
			macro_last = true;
			last_end = i;
		} else {
			macro_last = false;
			i++;
		}
	}
	*literal_start = last_end;
	return macro_last;
}

bool
spf_domain_spec_valid(const char *s, size_t n, struct buf *why)
{
	size_t lit, end, dot;

	if (n == 0) {
		buf_adds(why, "empty domain-spec");
		return false;
	}
	if (spf_macro_expand(s, n, NULL, 0, NULL, why) < 0)
		return false;
	if (ends_with_macro(s, n, &lit))
		return true;
	/* domain-end = "." toplabel ["."], inside the trailing literal */
	end = n;
	if (end > lit && s[end - 1] == '.')
		end--;
	for (dot = end; dot > lit && s[dot - 1] != '.'; dot--)
		;
	if (dot == lit || !valid_toplabel(s + dot, end - dot)) {
		buf_printf(why, "domain-spec '%.*s' does not end in a valid "
		    "top label", (int)(n < 100 ? n : 100), s);
		return false;
	}
	return true;
}

/* parse_cidr - "/N" with N in [0,max], no leading zeros */
static int
parse_cidr(const char *p, size_t n, unsigned max, int *out)
{
	unsigned v = 0;
	size_t i;

	if (n < 2 || p[0] != '/' || (n > 2 && p[1] == '0') || n > 4)
		return -1;
	for (i = 1; i < n; i++) {
		if (!ch_is_digit((unsigned char)p[i]))
			return -1;
		v = v * 10 + (unsigned)(p[i] - '0');
	}
	if (v > max)
		return -1;
	*out = (int)v;
	return 0;
}

/* cidr_suffix - length of a trailing "/digits" in p[0..n) (0: none) */
static size_t
cidr_suffix(const char *p, size_t n)
{
	size_t i = n;

	while (i > 0 && ch_is_digit((unsigned char)p[i - 1]))
		i--;
	if (i == n || i == 0 || p[i - 1] != '/')
		return 0;
	return n - i + 1;
}

/*
 * split_dual_cidr - take [ip4-cidr] ["/" ip6-cidr] off the end of
 * arg[0..*n); *n shrinks to what is left
 */
static int
split_dual_cidr(const char *arg, size_t *n, struct spf_term *t,
    struct buf *why)
{
	size_t k = cidr_suffix(arg, *n);

	if (k && *n - k > 0 && arg[*n - k - 1] == '/') {
		if (parse_cidr(arg + *n - k, k, 128, &t->cidr6) < 0)
			goto bad;
		*n -= k + 1;
		k = cidr_suffix(arg, *n);
	}
	if (k) {
		if (parse_cidr(arg + *n - k, k, 32, &t->cidr4) < 0)
			goto bad;
		*n -= k;
	}
	return 0;
bad:
	buf_printf(why, "bad CIDR length in '%s'", t->text);
	return -1;
}

/* parse_ip - ip4 / ip6 arguments: ":" network [ "/" length ] */
static int
parse_ip(const char *arg, size_t n, struct spf_term *t, struct buf *why)
{
	int family = t->mech == SPF_MECH_IP4 ? AF_INET : AF_INET6;
	size_t k;
	char tmp[64];

	if (n < 2 || arg[0] != ':')
		goto bad;
	arg++;
	n--;
	if ((k = cidr_suffix(arg, n)) > 0) {
		if (parse_cidr(arg + n - k, k, family == AF_INET ? 32 : 128,
		    family == AF_INET ? &t->cidr4 : &t->cidr6) < 0)
			goto bad;
		n -= k;
	}
	if (n == 0 || n >= sizeof(tmp))
		goto bad;
	memcpy(tmp, arg, n);
	tmp[n] = '\0';
	memset(&t->net, 0, sizeof(t->net));
	if (inet_pton(family, tmp, t->net.a) != 1)
		goto bad;
	t->net.family = family;
	return 0;
bad:
	buf_printf(why, "bad %s network in '%s'", family == AF_INET ? "ip4" :
	    "ip6", t->text);
	return -1;
}

/* set_domain_spec - validate and store a domain-spec argument */
static int
set_domain_spec(struct spf_term *t, const char *p, size_t n, struct buf *why)
{
	if (!spf_domain_spec_valid(p, n, why))
		return -1;
	t->domain_spec = xstrndup(p, n);
	return 0;
}

/* parse_mech_arg - the part after the mechanism name */
static int
parse_mech_arg(enum arg_shape shape, const char *arg, size_t n,
    struct spf_term *t, struct buf *why)
{
	switch (shape) {
	case ARG_NONE:
		if (n == 0)
			return 0;
		break;
	case ARG_DOMAIN:
		if (n >= 1 && arg[0] == ':')
			return set_domain_spec(t, arg + 1, n - 1, why);
		break;
	case ARG_OPT_DOMAIN:
		if (n == 0)
			return 0;
		if (arg[0] == ':')
			return set_domain_spec(t, arg + 1, n - 1, why);
		break;
	case ARG_DOMAIN_CIDR:
		if (split_dual_cidr(arg, &n, t, why) < 0)
			return -1;
		if (n == 0)
			return 0;
		if (arg[0] == ':')
			return set_domain_spec(t, arg + 1, n - 1, why);
		break;
	case ARG_IP4:
	case ARG_IP6:
		return parse_ip(arg, n, t, why);
	}
	buf_printf(why, "bad argument in '%s'", t->text);
	return -1;
}

/* parse_directive - [qualifier] mechanism */
static int
parse_directive(const char *p, size_t n, struct spf_record *r,
    struct buf *why)
{
	struct spf_term *t;
	size_t i, m, k = 0;

	r->terms = xreallocarray(r->terms, r->nterms + 1, sizeof(*r->terms));
	t = &r->terms[r->nterms++];
	memset(t, 0, sizeof(*t));
	t->text = xstrndup(p, n);
	t->cidr4 = t->cidr6 = -1;
	t->qual = SPF_PASS;
	switch (n ? p[0] : 0) {
	case '+': t->qual = SPF_PASS; k = 1; break;
	case '-': t->qual = SPF_FAIL; k = 1; break;
	case '~': t->qual = SPF_SOFTFAIL; k = 1; break;
	case '?': t->qual = SPF_NEUTRAL; k = 1; break;
	}
	for (i = k; i < n && ch_is_alnum((unsigned char)p[i]); i++)
		;
	for (m = 0; m < NMECHS; m++)
		if (str_nieq(p + k, i - k, mechs[m].name, strlen(mechs[m].name))) {
			t->mech = mechs[m].mech;
			return parse_mech_arg(mechs[m].shape, p + i, n - i, t,
			    why);
		}
	buf_printf(why, "unknown mechanism '%.100s'", t->text);
	return -1;
}

/* parse_modifier - name "=" macro-string */
static int
parse_modifier(const char *p, size_t n, size_t eq, struct spf_record *r,
    struct buf *why)
{
	const char *v = p + eq + 1;
	size_t vn = n - eq - 1;
	char **slot = NULL;

	if (str_nieq(p, eq, "redirect", 8))
		slot = &r->redirect;
	else if (str_nieq(p, eq, "exp", 3))
		slot = &r->exp;
	if (slot == NULL)	/* unknown modifier: must still parse */
		return spf_macro_expand(v, vn, NULL, SPF_MACRO_EXP, NULL, why);
	if (*slot) {
		buf_printf(why, "%.*s= given twice", (int)eq, p);
		return -1;
	}
	if (!spf_domain_spec_valid(v, vn, why))
		return -1;
	*slot = xstrndup(v, vn);
	return 0;
}

/* modifier_eq - offset of '=' if p[0..n) starts with a modifier name */
static size_t
modifier_eq(const char *p, size_t n)
{
	size_t i;

	if (n == 0 || !ch_is_alpha((unsigned char)p[0]))
		return 0;
	for (i = 1; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c == '=')
			return i;
		if (!(ch_is_alnum(c) || c == '-' || c == '_' || c == '.'))
			return 0;
	}
	return 0;
}

int
spf_parse(const char *txt, size_t len, struct spf_record **out,
    struct buf *why)
{
	struct spf_record *r = xcalloc(1, sizeof(*r));
	size_t i = 6, start, eq;

	*out = NULL;
	if (!spf_is_record(txt, len)) {
		buf_adds(why, "not an SPF record (no \"v=spf1\")");
		goto fail;
	}
	while (i < len) {
		if (txt[i] == ' ') {
			i++;
			continue;
		}
		for (start = i; i < len && txt[i] != ' '; i++)
			;
		if ((eq = modifier_eq(txt + start, i - start)) > 0) {
			if (parse_modifier(txt + start, i - start, eq, r,
			    why) < 0)
				goto fail;
		} else if (parse_directive(txt + start, i - start, r, why) < 0)
			goto fail;
	}
	*out = r;
	return 0;
fail:
	spf_record_free(r);
	return -1;
}
