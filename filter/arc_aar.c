/*
 * arc_aar.c - ARC-Authentication-Results: instance, payload, claims
 *
 * DESCRIPTION
 *	An AAR value is "i=N;" followed by an Authentication-Results
 *	payload (RFC 8617 4.1.1, RFC 8601 2.2): an authserv-id, then
 *	"method=result" entries with "ptype.property=value" pairs,
 *	separated by ";", with comments anywhere.  arc_aar_says_pass()
 *	reads only what a trusted-sealer decision needs: dmarc=pass with
 *	header.from, spf=pass with smtp.mailfrom, dkim=pass with header.d
 *	(or header.i).
 *
 * LIMITS
 *	Payloads are cut at ARC_MAX_AAR bytes before they are read, and
 *	reading is one linear pass; comments nest at most 8 deep (deeper
 *	text is dropped as comment).
 *
 * SECURITY
 *	Everything here is a claim by whoever wrote the field: the caller
 *	acts on it only for a verified chain and a trusted sealer.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arc.h"
#include "arc_int.h"
#include "buf.h"
#include "punycode.h"
#include "str.h"

/* skip_ws - past white space and line folding */
static size_t
skip_ws(const char *p, size_t n, size_t i)
{
	while (i < n && (ch_is_wsp((unsigned char)p[i]) || p[i] == '\r' ||
	    p[i] == '\n'))
		i++;
	return i;
}

unsigned
arc_aar_instance(const char *p, size_t n, struct buf *why)
{
	unsigned v = 0;
	size_t i = skip_ws(p, n, 0), digits = 0;

	if (i >= n || (p[i] != 'i' && p[i] != 'I')) {
		buf_adds(why, "does not start with i=");
		return 0;
	}
	i = skip_ws(p, n, i + 1);
	if (i >= n || p[i] != '=') {
		buf_adds(why, "does not start with i=");
		return 0;
	}
	i = skip_ws(p, n, i + 1);
	while (i < n && ch_is_digit((unsigned char)p[i]) && digits < 3) {
		v = v * 10 + (unsigned)(p[i++] - '0');
		digits++;
	}
	i = skip_ws(p, n, i);
	if (digits == 0 || v == 0 || i >= n || p[i] != ';') {
		buf_adds(why, "i= is not an instance followed by ;");
		return 0;
	}
	return v;
}

char *
arc_aar_payload(const char *p, size_t n)
{
	struct buf out = BUF_INIT;
	const char *semi = memchr(p, ';', n);
	size_t i = semi ? (size_t)(semi - p) + 1 : n;

	for (i = skip_ws(p, n, i); i < n && out.len < ARC_MAX_AAR; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c == '\r' || c == '\n')
			continue;
		buf_addc(&out, c < 0x20 || c == 0x7f ? ' ' : (char)c);
	}
	buf_addc(&out, '\0');
	return buf_steal(&out);
}

const char *
arc_dkim_cv_name(enum dkim_arc_cv cv)
{
	switch (cv) {
	case DKIM_CV_NONE: return "none";
	case DKIM_CV_PASS: return "pass";
	case DKIM_CV_FAIL: return "fail";
	default: return "?";
	}
}

/* strip_comments - the payload without (comments), quotes kept */
static void
strip_comments(const char *s, struct buf *out)
{
	int depth = 0;
	bool quoted = false;

	for (; *s; s++) {
		if (quoted) {
			if (*s == '\\' && s[1])
				buf_addc(out, *s++);
			else if (*s == '"')
				quoted = false;
			buf_addc(out, *s);
		} else if (depth > 0) {
			if (*s == '\\' && s[1])
				s++;
			else if (*s == '(')
				depth++;
			else if (*s == ')')
				depth--;
		} else if (*s == '(') {
			depth = 1;
			buf_addc(out, ' ');
		} else {
			if (*s == '"')
				quoted = true;
			buf_addc(out, *s);
		}
	}
}

/* domain_of - the domain of "local@domain", "@domain" or "domain" */
static void
domain_of(const char *v, size_t n, char *out, size_t outsz)
{
	const char *at = memchr(v, '@', n);

	if (at) {
		n -= (size_t)(at + 1 - v);
		v = at + 1;
	}
	if (n >= 2 && v[0] == '"' && v[n - 1] == '"') {
		v++;
		n -= 2;
	}
	if (domain_to_alabel(v, n, out, outsz) < 0)
		out[0] = '\0';
}

struct claim_ctx {
	const char *author;
	arc_align_fn aligned;
	void	*arg;
};

/*
 * aligned - d is author, or the caller's DMARC logic (Organizational
 * Domains, never a plain parent/child test: co.uk is no organisation)
 * says it is aligned with it
 */
static bool
aligned(const struct claim_ctx *c, const char *d)
{
	if (*d == '\0')
		return false;
	if (strcmp(d, c->author) == 0)
		return true;
	return c->aligned && c->aligned(c->arg, c->author, d) == 1;
}

/*
 * resinfo_pass - one "method=pass k=v ..." entry, if it counts; round 0
 * takes only dmarc, round 1 the others, so a DMARC pass is named first
 */
static bool
resinfo_pass(char *entry, int round, const struct claim_ctx *c, char *what,
    size_t whatsz)
{
	static const struct {
		const char *method, *prop;
		bool exact;		/* dmarc: the author itself */
	} claims[] = {
		{ "dmarc", "header.from", true },
		{ "spf", "smtp.mailfrom", false },
		{ "dkim", "header.d", false },
		{ "dkim", "header.i", false },
	};
	char *save = NULL, *tok, *method = strtok_r(entry, " \t", &save);
	char d[DOMAIN_MAX + 1];
	size_t k, ml;

	if (method == NULL || (tok = strchr(method, '=')) == NULL ||
	    !str_ieq(tok + 1, "pass"))
		return false;
	ml = (size_t)(tok - method);
	while ((tok = strtok_r(NULL, " \t", &save)) != NULL) {
		char *eq = strchr(tok, '=');

		if (eq == NULL)
			continue;
		for (k = 0; k < sizeof(claims) / sizeof(claims[0]); k++) {
			if (claims[k].exact != (round == 0) || !str_nieq(method, ml, claims[k].method,
			    strlen(claims[k].method)) ||
			    !str_nieq(tok, (size_t)(eq - tok), claims[k].prop,
			    strlen(claims[k].prop)))
				continue;
			domain_of(eq + 1, strlen(eq + 1), d, sizeof(d));
			if (claims[k].exact ? *d && strcmp(d, c->author) == 0 :
			    aligned(c, d)) {
				snprintf(what, whatsz, "%s=pass %s=%s",
				    claims[k].method, claims[k].prop, d);
				return true;
			}
		}
	}
	return false;
}

bool
arc_aar_says_pass(const char *aar, const char *author, arc_align_fn align,
    void *arg, char *what, size_t whatsz)
{
	struct claim_ctx c = { author, align, arg };
	struct buf s = BUF_INIT, work = BUF_INIT;
	char *save, *entry;
	bool found = false;
	int round;

	if (*author == '\0')
		return false;
	strip_comments(aar, &s);
	buf_addc(&s, '\0');
	for (round = 0; round < 2 && !found; round++) {
		buf_reset(&work);
		buf_add(&work, s.data, s.len);	/* strtok_r writes */
		save = NULL;
		entry = strtok_r(work.data, ";", &save); /* authserv-id */
		while (entry && !found &&
		    (entry = strtok_r(NULL, ";", &save)) != NULL)
			found = resinfo_pass(entry, round, &c, what,
			    whatsz);
	}
	buf_release(&s);
	buf_release(&work);
	return found;
}
