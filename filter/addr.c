/*
 * addr.c - RFC 5322 address-list parser
 *
 * DESCRIPTION
 *	Two passes over the field: a lexer turns the bytes into tokens
 *	(atoms, quoted strings, domain literals, the specials), dropping
 *	white space, line folding and comments; a recursive-descent parser
 *	then reads the address-list grammar from the tokens.  See addr.h
 *	for what is accepted.
 *
 * STANDARDS
 *	RFC 5322 sections 3.2 and 3.4 (with section 4 obsolete syntax),
 *	RFC 6532 (UTF-8 in headers), RFC 6854 (groups in From).
 *
 * SECURITY
 *	The field is untrusted.  The token array is bounded by the field
 *	length, comment nesting is capped, and no step backtracks more than
 *	a constant number of tokens per address, so the parse is linear.
 *	Domains leave only through domain_to_alabel().
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "buf.h"
#include "msg.h"
#include "str.h"

enum tok_type {
	T_END, T_ATOM, T_QSTR, T_DLIT, T_DOT, T_AT, T_LT, T_GT, T_COMMA,
	T_COLON, T_SEMI
};

struct tok {
	enum tok_type type;
	size_t	 off, len;	/* atom text within the field */
};

struct parser {
	const char *p;
	struct tok *t;
	size_t	 nt;
	struct addr_list *out;
	enum addr_status err;	/* first error, or ADDR_OK */
};

static bool
is_atext(unsigned char c)
{
	if (c >= 0x80)
		return true;	/* RFC 6532 UTF-8 */
	if (ch_is_alnum(c))
		return true;
	return strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL && c != '\0';
}

static void
fail(struct parser *ps, enum addr_status st, const char *what, size_t off)
{
	if (ps->err != ADDR_OK)
		return;
	ps->err = st;
	snprintf(ps->out->why, sizeof(ps->out->why), "%s at offset %zu",
	    what, off);
}

static void
push(struct parser *ps, enum tok_type type, size_t off, size_t len)
{
	struct tok *t = &ps->t[ps->nt++];

	t->type = type;
	t->off = off;
	t->len = len;
}

/* lex - tokens into ps->t (room for n + 1); -1 on a lexical error */
static int
lex(struct parser *ps, size_t n)
{
	const unsigned char *p = (const unsigned char *)ps->p;
	size_t i = 0, start;
	int depth;

	while (i < n) {
		unsigned char c = p[i];

		if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
			i++;
			continue;
		}
		if (c == '(') {
			start = i;
			for (depth = 0; i < n; i++) {
				if (p[i] == '\\' && i + 1 < n)
					i++;
				else if (p[i] == '(' && ++depth > ADDR_MAX_NESTING) {
					fail(ps, ADDR_SYNTAX, "comments nested too "
					    "deep", i);
					return -1;
				} else if (p[i] == ')' && --depth == 0)
					break;
				else if (p[i] == '\0')
					break;
			}
			if (i >= n || p[i] != ')') {
				fail(ps, ADDR_SYNTAX, "unterminated comment",
				    start);
				return -1;
			}
			i++;
			continue;
		}
		if (c == '"') {
			start = i++;
			while (i < n && p[i] != '"' && p[i] != '\0') {
				if (p[i] == '\\' && i + 1 < n)
					i++;
				i++;
			}
			if (i >= n || p[i] != '"') {
				fail(ps, ADDR_SYNTAX, "unterminated quoted "
				    "string", start);
				return -1;
			}
			i++;
			push(ps, T_QSTR, start, i - start);
			continue;
		}
		if (c == '[') {
			start = i++;
			while (i < n && p[i] != ']' && p[i] != '[' &&
			    p[i] != '\0') {
				if (p[i] == '\\' && i + 1 < n)
					i++;
				i++;
			}
			if (i >= n || p[i] != ']') {
				fail(ps, ADDR_SYNTAX, "unterminated domain "
				    "literal", start);
				return -1;
			}
			i++;
			push(ps, T_DLIT, start, i - start);
			continue;
		}
		if (is_atext(c)) {
			start = i;
			while (i < n && is_atext(p[i]))
				i++;
			push(ps, T_ATOM, start, i - start);
			continue;
		}
		switch (c) {
		case '.': push(ps, T_DOT, i, 1); break;
		case '@': push(ps, T_AT, i, 1); break;
		case '<': push(ps, T_LT, i, 1); break;
		case '>': push(ps, T_GT, i, 1); break;
		case ',': push(ps, T_COMMA, i, 1); break;
		case ':': push(ps, T_COLON, i, 1); break;
		case ';': push(ps, T_SEMI, i, 1); break;
		default:
			fail(ps, ADDR_SYNTAX, c == '\0' ? "NUL byte" :
			    c == ')' ? "unbalanced ')'" : c == ']' ?
			    "unbalanced ']'" : c == '\\' ? "stray backslash" :
			    "control character", i);
			return -1;
		}
		i++;
	}
	push(ps, T_END, n, 0);
	return 0;
}

static enum tok_type
ty(const struct parser *ps, size_t i)
{
	return i < ps->nt ? ps->t[i].type : T_END;
}

static bool
is_word(enum tok_type t)
{
	return t == T_ATOM || t == T_QSTR;
}

/*
 * addr_spec - local-part "@" domain starting at *i; on success *i is
 * past the domain and the address is stored.  Returns false without
 * side effects (other than an error for a bad domain) when the tokens
 * are not an addr-spec.
 */
static bool
addr_spec(struct parser *ps, size_t *ip, bool store)
{
	size_t i = *ip, dstart;
	bool quoted = false;
	struct buf d = BUF_INIT;
	char out[DOMAIN_MAX + 1];

	if (!is_word(ty(ps, i)))
		return false;
	for (;;) {
		if (ty(ps, i) == T_QSTR)
			quoted = true;
		i++;
		if (ty(ps, i) == T_DOT && is_word(ty(ps, i + 1))) {
			i++;
			continue;
		}
		break;
	}
	if (ty(ps, i) != T_AT)
		return false;
	i++;
	dstart = i;
	if (ty(ps, i) == T_DLIT) {
		/* syntactically an addr-spec, but not a host name */
		if (store)
			fail(ps, ADDR_BAD_DOMAIN, "domain literal",
			    ps->t[i].off);
		*ip = i + 1;
		return true;
	}
	if (ty(ps, i) != T_ATOM)
		return false;
	for (;;) {
		buf_add(&d, ps->p + ps->t[i].off, ps->t[i].len);
		i++;
		if (ty(ps, i) == T_DOT && ty(ps, i + 1) == T_ATOM) {
			buf_addc(&d, '.');
			i++;
			continue;
		}
		break;
	}
	if (store) {
		if (domain_to_alabel(d.data, d.len, out, sizeof(out)) < 0) {
			fail(ps, ADDR_BAD_DOMAIN, "domain is not a host name",
			    ps->t[dstart].off);
		} else {
			struct addr_list *l = ps->out;

			if (l->n < ADDR_MAX) {
				memcpy(l->v[l->n].domain, out, strlen(out) + 1);
				l->v[l->n].quoted_local = quoted;
				l->n++;
			}
			l->total++;
		}
	}
	buf_release(&d);
	*ip = i;
	return true;
}

/* ends_address - may an address end before token type t? */
static bool
ends_address(enum tok_type t, bool in_group)
{
	return t == T_COMMA || t == T_END || (in_group && t == T_SEMI);
}

/* angle_addr - "<" [obs-route] addr-spec ">" at *ip (which is "<") */
static bool
angle_addr(struct parser *ps, size_t *ip)
{
	size_t i = *ip + 1;

	if (ty(ps, i) == T_AT) {
		/* obs-route: 1*("," / "@" domain) ":" - skip it */
		while (ty(ps, i) != T_COLON) {
			enum tok_type t = ty(ps, i);

			if (t != T_AT && t != T_COMMA && t != T_ATOM &&
			    t != T_DOT) {
				fail(ps, ADDR_SYNTAX, "bad source route",
				    ps->t[i].off);
				return false;
			}
			i++;
		}
		i++;
	}
	if (ty(ps, i) == T_GT) {
		fail(ps, ADDR_SYNTAX, "empty address <>", ps->t[i].off);
		return false;
	}
	if (!addr_spec(ps, &i, true)) {
		fail(ps, ADDR_SYNTAX, "bad address inside <>",
		    ps->t[*ip].off);
		return false;
	}
	if (ty(ps, i) != T_GT) {
		fail(ps, ADDR_SYNTAX, "missing '>'", ps->t[i].off);
		return false;
	}
	*ip = i + 1;
	return true;
}

static bool address(struct parser *, size_t *, bool);

/* group - phrase ":" [group-list] ";" with *ip at the colon */
static bool
group(struct parser *ps, size_t *ip)
{
	size_t i = *ip + 1;

	ps->out->flags |= ADDR_F_GROUP;
	for (;;) {
		while (ty(ps, i) == T_COMMA)
			i++;
		if (ty(ps, i) == T_SEMI) {
			*ip = i + 1;
			return true;
		}
		if (ty(ps, i) == T_END) {
			ps->out->flags |= ADDR_F_NONSTANDARD;
			*ip = i;
			return true;
		}
		if (!address(ps, &i, true))
			return false;
		if (!ends_address(ty(ps, i), true)) {
			fail(ps, ADDR_SYNTAX, "junk after address in group",
			    ps->t[i].off);
			return false;
		}
	}
}

/*
 * loose_addr_spec - a display name followed by a bare addr-spec:
 * tokens [s, e) hold words, dots and exactly one "@".  The addr-spec
 * starts at the word run (word *("." word)) just before the "@".
 */
static bool
loose_addr_spec(struct parser *ps, size_t s, size_t e, size_t *ip,
    bool in_group)
{
	size_t at = e, k, j;

	for (k = s; k < e; k++)
		if (ty(ps, k) == T_AT) {
			if (at != e)
				return false;
			at = k;
		}
	if (at == e || at == s)
		return false;
	k = at - 1;		/* last word of the local part */
	if (!is_word(ty(ps, k)))
		return false;
	while (k >= s + 2 && ty(ps, k - 1) == T_DOT && is_word(ty(ps, k - 2)))
		k -= 2;
	if (k == s)
		return false;	/* no display name: not this case */
	j = k;
	if (!addr_spec(ps, &j, false) || !ends_address(ty(ps, j), in_group))
		return false;
	j = k;
	(void)addr_spec(ps, &j, true);
	ps->out->flags |= ADDR_F_NONSTANDARD;
	*ip = j;
	return true;
}

/* address - mailbox or (outside a group) group, starting at *ip */
static bool
address(struct parser *ps, size_t *ip, bool in_group)
{
	size_t i = *ip, e, words = 0;
	bool at_in_phrase = false;

	/* a plain addr-spec */
	e = i;
	if (addr_spec(ps, &e, false) && ends_address(ty(ps, e), in_group)) {
		e = i;
		(void)addr_spec(ps, &e, true);
		*ip = e;
		return ps->err == ADDR_OK;
	}
	/* a phrase (obs-phrase allows "."; "@" only as a deviation) */
	for (e = i;; e++) {
		enum tok_type t = ty(ps, e);

		if (is_word(t))
			words++;
		else if (t == T_AT)
			at_in_phrase = true;
		else if (t != T_DOT)
			break;
	}
	switch (ty(ps, e)) {
	case T_LT:
		if (at_in_phrase || (e > i && !is_word(ty(ps, i))))
			ps->out->flags |= ADDR_F_NONSTANDARD;
		if (!angle_addr(ps, &e))
			return false;
		*ip = e;
		return ps->err == ADDR_OK;
	case T_COLON:
		if (in_group) {
			fail(ps, ADDR_SYNTAX, "group inside a group",
			    ps->t[e].off);
			return false;
		}
		if (words == 0 || at_in_phrase) {
			fail(ps, ADDR_SYNTAX, "bad group name", ps->t[i].off);
			return false;
		}
		if (!group(ps, &e))
			return false;
		*ip = e;
		return ps->err == ADDR_OK;
	default:
		if (at_in_phrase && loose_addr_spec(ps, i, e, ip, in_group))
			return ps->err == ADDR_OK;
		fail(ps, ADDR_SYNTAX, words ? "no address after display name" :
		    "unexpected character", ps->t[e < ps->nt ? e : ps->nt - 1].off);
		return false;
	}
}

enum addr_status
addr_parse_list(const char *p, size_t n, struct addr_list *out)
{
	struct parser ps;
	size_t i = 0;

	memset(out, 0, sizeof(*out));
	ps.p = p;
	ps.t = xcalloc(n + 1, sizeof(*ps.t));
	ps.nt = 0;
	ps.out = out;
	ps.err = ADDR_OK;
	if (lex(&ps, n) < 0)
		goto done;
	for (;;) {
		while (ty(&ps, i) == T_COMMA)
			i++;
		if (ty(&ps, i) == T_END)
			break;
		if (!address(&ps, &i, false))
			break;
		if (!ends_address(ty(&ps, i), false)) {
			fail(&ps, ADDR_SYNTAX, "junk after address",
			    ps.t[i].off);
			break;
		}
	}
	if (ps.err == ADDR_OK && out->total == 0)
		ps.err = ADDR_EMPTY;
done:
	free(ps.t);
	if (ps.err != ADDR_OK && ps.err != ADDR_EMPTY) {
		out->n = out->total = 0;
	}
	if (ps.err == ADDR_EMPTY && out->why[0] == '\0')
		snprintf(out->why, sizeof(out->why), "no address");
	return ps.err;
}

const char *
addr_status_name(enum addr_status st)
{
	switch (st) {
	case ADDR_OK: return "ok";
	case ADDR_EMPTY: return "empty";
	case ADDR_SYNTAX: return "syntax";
	case ADDR_BAD_DOMAIN: return "bad-domain";
	}
	return "unknown";
}

size_t
addr_distinct_domains(const struct addr_list *l)
{
	size_t i, j, n = 0;

	for (i = 0; i < l->n; i++) {
		for (j = 0; j < i; j++)
			if (strcmp(l->v[i].domain, l->v[j].domain) == 0)
				break;
		if (j == i)
			n++;
	}
	return n + (l->total > l->n ? 1 : 0);
}

/* author_done - the outcome of addr_author() with its reason */
static enum addr_author_status
author_done(struct addr_author *out, enum addr_author_status st,
    const char *why)
{
	out->status = st;
	snprintf(out->why, sizeof(out->why), "%s", why);
	return st;
}

enum addr_author_status
addr_author(const struct msg *m, struct addr_author *out)
{
	size_t n = msg_header_count(m, "From");
	const struct hdr *h;
	struct addr_list *l;
	enum addr_author_status st = ADDR_AUTHOR_OK;
	char what[160];

	memset(out, 0, sizeof(*out));
	if (n == 0 || (h = msg_header(m, "From", 0)) == NULL)
		return author_done(out, ADDR_AUTHOR_MISSING,
		    "no From header field");
	if (n > 1)
		return author_done(out, ADDR_AUTHOR_MULTIPLE,
		    "several From header fields");
	l = xmalloc(sizeof(*l));	/* ~8 KiB: not on a milter stack */
	switch (addr_parse_list(h->value, h->value_len, l)) {
	case ADDR_OK:
		out->flags = l->flags;
		if (addr_distinct_domains(l) > 1)
			st = author_done(out, ADDR_AUTHOR_MULTI,
			    "From has addresses in several domains");
		else
			memcpy(out->domain, l->v[0].domain,
			    sizeof(out->domain));
		break;
	case ADDR_EMPTY:
		st = author_done(out, ADDR_AUTHOR_MISSING,
		    "no address in From");
		break;
	case ADDR_SYNTAX:
		snprintf(what, sizeof(what), "unparseable From (%s)", l->why);
		st = author_done(out, ADDR_AUTHOR_INVALID, what);
		break;
	case ADDR_BAD_DOMAIN:
		snprintf(what, sizeof(what), "unparseable From (bad domain: "
		    "%s)", l->why);
		st = author_done(out, ADDR_AUTHOR_INVALID, what);
		break;
	}
	free(l);
	return st;
}
