/*
 * saeval_header.c - SpamAssassin's header eval: tests
 *
 * DESCRIPTION
 *	The header family (see saeval.h): forged Received and Message-ID
 *	forms, Date validity, recipients, Subject form, header counts,
 *	as SpamAssassin's HeaderEval, RelayEval, MIMEHeader-free parts of
 *	EvalTests compute them.  Each function reads the decoded header
 *	fields of the MIME view (the forms SpamAssassin's $pms->get()
 *	returns) and the relay list, and returns 0 or 1.
 *
 * SECURITY
 *	Header text is untrusted: only compared and scanned linearly,
 *	never logged; field values are capped by struct msg.
 *
 * SEE ALSO
 *	saeval.h; SpamAssassin's Mail::SpamAssassin::Plugin::HeaderEval
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mime.h"
#include "msg.h"
#include "saeval.h"
#include "saeval_int.h"
#include "str.h"

/* ------------------------------------------------------------------ */
/* field access, as SpamAssassin's $pms->get()                         */
/* ------------------------------------------------------------------ */

/* nth - the idx'th top-level field called name, or NULL */
static const struct mime_hdr *
nth(const struct saeval_in *in, const char *name, size_t idx)
{
	size_t i;

	for (i = 0; in->mm && i < in->mm->nhdrs; i++)
		if (strcasecmp(in->mm->hdrs[i].name, name) == 0 && idx-- == 0)
			return &in->mm->hdrs[i];
	return NULL;
}

const char *
sae_field(const struct saeval_in *in, const char *name, size_t idx)
{
	const struct mime_hdr *h = nth(in, name, idx);

	return h ? h->value : NULL;
}

const char *
sae_field_raw(const struct saeval_in *in, const char *name, size_t idx)
{
	const struct mime_hdr *h = nth(in, name, idx);

	return h ? h->raw : NULL;
}

size_t
sae_field_count(const struct saeval_in *in, const char *name)
{
	size_t i, n = 0;

	for (i = 0; in->mm && i < in->mm->nhdrs; i++)
		if (strcasecmp(in->mm->hdrs[i].name, name) == 0)
			n++;
	return n;
}

/* sae_get - every value of name joined with "\n", as $pms->get(name) */
void
sae_get(const struct saeval_in *in, const char *name, struct buf *out)
{
	size_t i;
	bool any = false;

	buf_reset(out);
	for (i = 0; in->mm && i < in->mm->nhdrs; i++)
		if (strcasecmp(in->mm->hdrs[i].name, name) == 0) {
			if (any)
				buf_addc(out, '\n');
			buf_adds(out, in->mm->hdrs[i].value);
			any = true;
		}
}

/* ------------------------------------------------------------------ */
/* argument checks                                                     */
/* ------------------------------------------------------------------ */

/* prep_count_range - check_header_count_range(FIELD, MIN, MAX) */
static int
prep_count_range(const struct saeval_args *a, void **prep, struct buf *why)
{
	uint64_t v;

	(void)prep;
	if (!hdr_name_ok(a->v[0])) {
		buf_printf(why, "'%.40s' is not a header field name", a->v[0]);
		return -1;
	}
	if (parse_uint(a->v[1], 0, 100000, &v) < 0 ||
	    parse_uint(a->v[2], 0, 100000, &v) < 0) {
		buf_adds(why, "MIN and MAX must be whole numbers");
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* the tests                                                           */
/* ------------------------------------------------------------------ */

/* missing_to - no To (nor Apparently-To) with a value */
static unsigned
missing_to(struct saeval_in *in, const struct saeval_args *a,
    const void *p, struct buf *d)
{
	const char *v = sae_field(in, "To", 0);

	(void)a;
	(void)p;
	(void)d;
	if (v == NULL || *v == '\0')
		v = sae_field(in, "Apparently-To", 0);
	return v == NULL || *v == '\0';
}

/* count_range - distinct values of a field, MIN <= n <= MAX */
static unsigned
count_range(struct saeval_in *in, const struct saeval_args *a,
    const void *p, struct buf *d)
{
	uint64_t min, max;
	size_t i, j, n = 0, total = sae_field_count(in, a->v[0]);

	(void)p;
	(void)parse_uint(a->v[1], 0, 100000, &min);
	(void)parse_uint(a->v[2], 0, 100000, &max);
	for (i = 0; i < total; i++) {
		const char *v = sae_field_raw(in, a->v[0], i);

		for (j = 0; j < i; j++)
			if (strcmp(sae_field_raw(in, a->v[0], j), v) == 0)
				break;
		n += j == i;
	}
	if (d)
		buf_printf(d, "%zu distinct %s field(s)", n, a->v[0]);
	return n >= min && n <= max;
}

/* subject_caps - a Subject of several words, letters all upper case */
static unsigned
subject_caps(struct saeval_in *in, const struct saeval_args *a,
    const void *p, struct buf *d)
{
	const char *raw = sae_field_raw(in, "Subject", 0);
	const char *v = sae_field(in, "Subject", 0), *e;
	size_t letters = 0;
	bool space = false;

	(void)a;
	(void)p;
	(void)d;
	if (v == NULL || raw == NULL)
		return 0;
	v = sae_skip_reply_prefix(v);
	e = v + strlen(v);
	while (e > v && ch_is_space((unsigned char)e[-1]))
		e--;
	if (e - v < 10)
		return 0;
	for (const char *q = v; q < e; q++) {
		if (ch_is_space((unsigned char)*q))
			space = true;
		else if (*q >= 'a' && *q <= 'z')
			return 0;
		else if (*q >= 'A' && *q <= 'Z')
			letters++;
	}
	/* charsets whose text looks like capitals (SpamAssassin's list) */
	if (sae_raw_has_caps_charset(raw))
		return 0;
	return space && letters > 0;
}

#define H	(1u << RULE_HEADER)

static const struct saeval_fn fns[] = {
	{ "check_for_missing_to_header", H, 0, 0, NULL, NULL, missing_to },
	{ "check_header_count_range", H, 3, 3, prep_count_range, NULL,
	  count_range },
	{ "subject_is_all_caps", H, 0, 0, NULL, NULL, subject_caps },
};

static const char *const plugins[] = {
	"Mail::SpamAssassin::Plugin::HeaderEval",
	NULL
};

const struct saeval_family saeval_header_family = {
	"header", fns, SAEVAL_NELEM(fns), NULL, 0, plugins
};

/* ------------------------------------------------------------------ */
/* small helpers (saeval_int.h)                                        */
/* ------------------------------------------------------------------ */

bool
hdr_name_ok(const char *s)
{
	size_t n = 0;

	for (; *s; s++, n++)
		if (*s <= ' ' || *s >= 127 || *s == ':')
			return false;
	return n > 0 && n < 128;
}

const char *
sae_ifind(const char *hay, const char *needle)
{
	size_t n = strlen(needle);

	for (; *hay; hay++)
		if (strncasecmp(hay, needle, n) == 0)
			return hay;
	return n == 0 ? hay : NULL;
}

const char *
sae_skip_reply_prefix(const char *s)
{
	static const char *const pre[] = { "re", "fwd", "fw", "aw",
	    "antwort", "wg", "sv", "vb", "vs", "vl" };
	size_t i, n;
	bool again = true;

	while (ch_is_space((unsigned char)*s))
		s++;
	while (again) {
		again = false;
		for (i = 0; i < SAEVAL_NELEM(pre); i++) {
			n = strlen(pre[i]);
			if (strncasecmp(s, pre[i], n) == 0 && s[n] == ':') {
				s += n + 1;
				while (ch_is_space((unsigned char)*s))
					s++;
				again = true;
				break;
			}
		}
	}
	return s;
}

bool
sae_raw_has_caps_charset(const char *raw)
{
	static const char *const cs[] = { "koi", "jp", "jis", "euc", "gb",
	    "big5", "isoir", "cp1251", "windows-1251", "georgianps", "pt154",
	    "tis" };
	const char *p = raw, *q, *e;
	size_t i;

	while ((p = strstr(p, "=?")) != NULL) {
		p += 2;
		e = strchr(p, '?');
		if (e == NULL)
			return false;
		for (i = 0; i < SAEVAL_NELEM(cs); i++)
			for (q = p; q < e; q++)
				if (strncasecmp(q, cs[i], strlen(cs[i])) == 0 &&
				    q + strlen(cs[i]) <= e)
					return true;
		p = e;
	}
	return false;
}
