/*
 * psl.c - Public Suffix List loader and lookup
 *
 * STANDARDS
 *	https://publicsuffix.org/list/ format and algorithm; RFC 7489
 *	section 3.2 (Organizational Domain).
 *
 * SECURITY
 *	The list is a local file, but it is parsed as carefully as network
 *	input: each rule passes domain_to_alabel() before it is stored.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "files.h"
#include "psl.h"
#include "punycode.h"
#include "str.h"
#include "strmap.h"

#define PSL_MAX_FILE	(8 * 1024 * 1024)

enum rule_kind {
	RULE_NORMAL = 1,	/* "co.uk" */
	RULE_WILDCARD = 2,	/* "*.ck": any label under ck */
	RULE_EXCEPTION = 4	/* "!www.ck" */
};

struct psl {
	struct strmap *rules;	/* name -> (uintptr_t)kind bits */
	size_t	 n;
};

static void
add_rule(struct psl *l, const char *name, unsigned kind)
{
	uintptr_t old = (uintptr_t)strmap_get(l->rules, name);

	strmap_put(l->rules, name, (void *)(old | kind));
	l->n++;
}

int
psl_parse(const char *text, size_t len, const char *origin, struct psl **out,
    struct buf *why)
{
	struct psl *l = xcalloc(1, sizeof(*l));
	const char *p = text, *end = text + len;
	unsigned lineno = 0;

	l->rules = strmap_new();
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *eol = nl ? nl : end, *s = p, *e;
		char name[DOMAIN_MAX + 1];
		unsigned kind = RULE_NORMAL;

		lineno++;
		p = nl ? nl + 1 : end;
		while (s < eol && ch_is_space((unsigned char)*s))
			s++;
		if (s == eol || (eol - s >= 2 && s[0] == '/' && s[1] == '/'))
			continue;
		/* the rule is the first white-space delimited word */
		for (e = s; e < eol && !ch_is_space((unsigned char)*e); e++)
			;
		if (*s == '!') {
			kind = RULE_EXCEPTION;
			s++;
		} else if (e - s >= 2 && s[0] == '*' && s[1] == '.') {
			kind = RULE_WILDCARD;
			s += 2;
		}
		if (domain_to_alabel(s, (size_t)(e - s), name,
		    sizeof(name)) < 0) {
			buf_printf(why, "%s:%u: bad rule '%.*s'", origin,
			    lineno, (int)((e - s) > 80 ? 80 : (e - s)), s);
			psl_free(l);
			*out = NULL;
			return -1;
		}
		add_rule(l, name, kind);
	}
	if (l->n == 0) {
		buf_printf(why, "%s: no rules", origin);
		psl_free(l);
		*out = NULL;
		return -1;
	}
	*out = l;
	return 0;
}

int
psl_load(const char *path, struct psl **out, struct buf *why)
{
	struct buf text = BUF_INIT;
	int rc;

	if (files_read(path, PSL_MAX_FILE, &text, why) < 0) {
		*out = NULL;
		return -1;
	}
	rc = psl_parse(text.data, text.len, path, out, why);
	buf_release(&text);
	return rc;
}

void
psl_free(struct psl *l)
{
	if (l == NULL)
		return;
	strmap_free(l->rules, NULL);
	free(l);
}

size_t
psl_rules(const struct psl *l)
{
	return l->n;
}

static unsigned
kind_of(const struct psl *l, const char *name)
{
	return (unsigned)(uintptr_t)strmap_get(l->rules, name);
}

int
psl_registrable(const struct psl *l, const char *name, char *out,
    size_t outsz)
{
	const char *lab[DOMAIN_MAX / 2 + 2];
	size_t nl = 0, i, ps = 0;	/* ps: index of the suffix's first label */
	const char *q;
	bool found = false;

	if (*name == '\0' || *name == '.' || strlen(name) > DOMAIN_MAX ||
	    outsz < DOMAIN_MAX + 1)
		return -1;
	lab[nl++] = name;
	for (q = name; *q; q++)
		if (*q == '.') {
			if (q[1] == '\0' || q[1] == '.')
				return -1;
			lab[nl++] = q + 1;
		}
	/* an exception rule prevails over every other match */
	for (i = 0; i < nl && !found; i++)
		if (kind_of(l, lab[i]) & RULE_EXCEPTION) {
			ps = i + 1;
			found = true;
		}
	/* else the longest match: label i starts suffix(i) */
	for (i = 0; i < nl && !found; i++) {
		if (kind_of(l, lab[i]) & RULE_NORMAL) {
			ps = i;
			found = true;
		} else if (i + 1 < nl &&
		    (kind_of(l, lab[i + 1]) & RULE_WILDCARD)) {
			ps = i;
			found = true;
		}
	}
	if (!found)
		ps = nl - 1;		/* the implicit "*" rule */
	if (ps >= nl || ps == 0)
		return -1;		/* name is a public suffix */
	strcpy(out, lab[ps - 1]);
	return 0;
}
