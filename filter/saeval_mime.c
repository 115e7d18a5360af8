/*
 * saeval_mime.c - SpamAssassin's MIME and HTML eval: tests
 *
 * DESCRIPTION
 *	The mime family (see saeval.h): the functions of SpamAssassin's
 *	HTMLEval and MIMEEval plugins and BodyEval's multipart/alternative
 *	difference, under their names and argument conventions:
 *
 *	    html_test(NAME)  html_range(NAME, MIN[, MAX|'inf'])
 *	    html_eval(NAME, EXPR)  html_tag_balance(TAG, EXPR)
 *	    html_tag_exists(TAG)  html_text_match(LIST, REGEX)
 *	    html_text_not_match(LIST, REGEX)  html_title_subject_ratio(R)
 *	    html_image_only(MIN, MAX)  html_image_ratio(MIN, MAX)
 *	    html_charset_faraway()  check_iframe_src()
 *	    check_for_mime(NAME)  check_for_mime_html()
 *	    check_for_mime_html_only()  check_mime_multipart_ratio(MIN, MAX)
 *	    check_qp_ratio(MIN)  check_base64_length(MIN[, MAX])
 *	    check_ma_non_text()  check_for_faraway_charset()
 *	    check_for_ascii_text_illegal()  check_abundant_unicode_ratio(R)
 *	    check_for_uppercase(MIN, MAX)
 *	    image_count(TYPE, MIN[, MAX])  pixel_coverage(TYPE, MIN[, MAX])
 *	    multipart_alternative_difference(MIN, MAX|'undef')
 *	    multipart_alternative_difference_count(RATIO, MINHTML)
 *
 *	The HTML tests read each HTML part's html_sa facts (computed by
 *	the MIME parser), and hit when some part qualifies, as SpamAssassin
 *	loops over its HTML parts.  The MIME tests share one walk of the
 *	parts per message (mime_sa.h, in the memo).  EXPR is a comparison
 *	"OP NUMBER" (OP one of < <= > >= == !=), the only form the stock
 *	rules use; SpamAssassin evaluates it as Perl.
 *
 *	Charset tests (html_charset_faraway, check_for_faraway_charset)
 *	never hit: they compare with ok_locales, whose default "all"
 *	accepts every charset, and mailwarden has no ok_locales.
 *
 * SECURITY
 *	Reads untrusted parts; regexes run with a match limit.
 *
 * SEE ALSO
 *	saeval.h, html_sa.h, mime_sa.h; SpamAssassin's
 *	Mail::SpamAssassin::Plugin::HTMLEval and ::MIMEEval
 */
#include "config.h"

#define PCRE2_CODE_UNIT_WIDTH 8

#include <math.h>
#include <pcre2.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "html_sa.h"
#include "mime.h"
#include "mime_sa.h"
#include "msg.h"
#include "saeval.h"
#include "saeval_int.h"
#include "str.h"

#define MATCH_LIMIT	100000

/* ------------------------------------------------------------------ */
/* arguments                                                           */
/* ------------------------------------------------------------------ */

/* number - a finite decimal; "inf" only when inf_ok */
static bool
number(const char *s, bool inf_ok, double *v)
{
	char *end;

	if (inf_ok && strcmp(s, "inf") == 0) {
		*v = INFINITY;
		return true;
	}
	*v = strtod(s, &end);
	return end != s && *end == '\0' && isfinite(*v);
}

static int
prep_numbers(const struct saeval_args *a, void **prep, struct buf *why)
{
	size_t i;
	double v;

	(void)prep;
	for (i = 0; i < a->n; i++)
		if (!number(a->v[i], false, &v)) {
			buf_printf(why, "'%.40s' is not a number", a->v[i]);
			return -1;
		}
	return 0;
}

/* prep_range - html_range(NAME, MIN[, MAX]): MAX may be 'inf' */
static int
prep_range(const struct saeval_args *a, void **prep, struct buf *why)
{
	double v;

	(void)prep;
	if (!number(a->v[1], false, &v) ||
	    (a->n > 2 && !number(a->v[2], true, &v))) {
		buf_adds(why, "MIN and MAX must be numbers (MAX may be 'inf')");
		return -1;
	}
	return 0;
}

/* prep_alt - multipart_alternative_difference(MIN, MAX|'undef') */
static int
prep_alt(const struct saeval_args *a, void **prep, struct buf *why)
{
	double v;

	(void)prep;
	if (!number(a->v[0], false, &v) || (strcmp(a->v[1], "undef") != 0 &&
	    !number(a->v[1], false, &v))) {
		buf_adds(why, "MIN and MAX must be numbers (MAX may be 'undef')");
		return -1;
	}
	return 0;
}

enum cmp_op { OP_LT, OP_LE, OP_GT, OP_GE, OP_EQ, OP_NE };

struct cmp {
	enum cmp_op op;
	double	 num;
};

/* parse_cmp - "OP NUMBER" as SpamAssassin's expression argument */
static bool
parse_cmp(const char *s, struct cmp *c)
{
	static const struct {
		const char *tok;
		enum cmp_op op;
	} ops[] = { { "<=", OP_LE }, { ">=", OP_GE }, { "==", OP_EQ },
	    { "!=", OP_NE }, { "<", OP_LT }, { ">", OP_GT } };
	size_t i, k;

	while (*s == ' ')
		s++;
	for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		k = strlen(ops[i].tok);
		if (strncmp(s, ops[i].tok, k) == 0)
			break;
	}
	if (i == sizeof(ops) / sizeof(ops[0]))
		return false;
	c->op = ops[i].op;
	s += k;
	while (*s == ' ')
		s++;
	k = strlen(s);
	while (k && s[k - 1] == ' ')
		k--;
	if (k == 0 || k > 30 || strspn(s, "+-0123456789") < k)
		return false;
	{
		char num[32];

		memcpy(num, s, k);
		num[k] = '\0';
		return number(num, false, &c->num);
	}
}

static bool
cmp_true(const struct cmp *c, double v)
{
	switch (c->op) {
	case OP_LT:
		return v < c->num;
	case OP_LE:
		return v <= c->num;
	case OP_GT:
		return v > c->num;
	case OP_GE:
		return v >= c->num;
	case OP_EQ:
		return v == c->num;
	case OP_NE:
		return v != c->num;
	}
	return false;
}

/* prep_expr - (NAME or TAG, EXPR): the comparison compiled */
static int
prep_expr(const struct saeval_args *a, void **prep, struct buf *why)
{
	struct cmp c;

	if (!parse_cmp(a->v[1], &c)) {
		buf_printf(why, "'%.40s' is not a comparison like '!= 0'",
		    a->v[1]);
		return -1;
	}
	*prep = xmalloc(sizeof(c));
	memcpy(*prep, &c, sizeof(c));
	return 0;
}

/* prep_tag_expr - html_tag_balance(TAG, EXPR): TAG letters and digits */
static int
prep_tag_expr(const struct saeval_args *a, void **prep, struct buf *why)
{
	if (a->v[0][0] == '\0' || a->v[0][strspn(a->v[0],
	    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")]) {
		buf_printf(why, "'%.40s' is not a tag name", a->v[0]);
		return -1;
	}
	return prep_expr(a, prep, why);
}

static int
prep_regex(const struct saeval_args *a, void **prep, struct buf *why)
{
	int err;
	PCRE2_SIZE off;
	pcre2_code *re;
	PCRE2_UCHAR msg[120];

	if (strcmp(a->v[0], "comment") != 0 && strcmp(a->v[0], "title") != 0 &&
	    strcmp(a->v[0], "anchor") != 0 && strcmp(a->v[0], "script") != 0) {
		buf_printf(why, "'%.40s' is not comment, title, anchor or "
		    "script", a->v[0]);
		return -1;
	}
	re = pcre2_compile((PCRE2_SPTR)a->v[1], PCRE2_ZERO_TERMINATED, 0,
	    &err, &off, NULL);
	if (re == NULL) {
		pcre2_get_error_message(err, msg, sizeof(msg));
		buf_printf(why, "regex at offset %zu: %s", (size_t)off,
		    (const char *)msg);
		return -1;
	}
	*prep = re;
	return 0;
}

static void
release_regex(void *prep)
{
	pcre2_code_free(prep);
}

static int
prep_mime_name(const struct saeval_args *a, void **prep, struct buf *why)
{
	struct mime_sa s;
	double v;

	(void)prep;
	memset(&s, 0, sizeof(s));
	if (!mime_sa_value(&s, a->v[0], &v)) {
		buf_printf(why, "unknown MIME counter '%.40s'", a->v[0]);
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* HTML parts                                                          */
/* ------------------------------------------------------------------ */

/* a test of one HTML part's facts */
typedef bool html_pred(const struct html_sa *, const struct saeval_args *,
    const void *prep, struct buf *detail);

/* any_html - 1 if some HTML part passes the test, as SpamAssassin loops */
static unsigned
any_html(const struct saeval_in *in, html_pred *pred,
    const struct saeval_args *a, const void *prep, struct buf *d)
{
	size_t i;

	for (i = 0; in->mm && i < in->mm->nparts; i++)
		if (in->mm->parts[i].sa_html &&
		    pred(in->mm->parts[i].sa_html, a, prep, d))
			return 1;
	return 0;
}

static bool
is_set(const struct html_sa *h, const struct saeval_args *a,
    const void *prep, struct buf *d)
{
	double v;

	(void)prep;
	if (!html_sa_value(h, a->v[0], &v) || v == 0)
		return false;
	if (d)
		buf_printf(d, "%s=%g", a->v[0], v);
	return true;
}

static bool
in_range(const struct html_sa *h, const struct saeval_args *a,
    const void *prep, struct buf *d)
{
	double v, min, max = INFINITY;

	(void)prep;
	(void)number(a->v[1], false, &min);
	if (a->n > 2)
		(void)number(a->v[2], true, &max);
	if (!html_sa_value(h, a->v[0], &v) || !(v > min && v <= max))
		return false;
	if (d)
		buf_printf(d, "%s=%g", a->v[0], v);
	return true;
}

static bool
compares(const struct html_sa *h, const struct saeval_args *a,
    const void *prep, struct buf *d)
{
	double v;

	if (!html_sa_value(h, a->v[0], &v) || !cmp_true(prep, v))
		return false;
	if (d)
		buf_printf(d, "%s=%g", a->v[0], v);
	return true;
}

static bool
balance(const struct html_sa *h, const struct saeval_args *a,
    const void *prep, struct buf *d)
{
	uint32_t c;

	if (!html_sa_inside(h, a->v[0], &c) || !cmp_true(prep, c))
		return false;
	if (d)
		buf_printf(d, "%s open %u", a->v[0], c);
	return true;
}

static bool
tag_seen(const struct html_sa *h, const struct saeval_args *a,
    const void *prep, struct buf *d)
{
	uint32_t c;

	(void)prep;
	(void)d;
	return html_sa_inside(h, a->v[0], &c);
}

static unsigned
html_test(struct saeval_in *in, const struct saeval_args *a,
    const void *prep, struct buf *d)
{
	return any_html(in, is_set, a, prep, d);
}

static unsigned
html_range(struct saeval_in *in, const struct saeval_args *a,
    const void *prep, struct buf *d)
{
	return any_html(in, in_range, a, prep, d);
}

static unsigned
html_eval(struct saeval_in *in, const struct saeval_args *a,
    const void *prep, struct buf *d)
{
	return any_html(in, compares, a, prep, d);
}

static unsigned
html_tag_balance(struct saeval_in *in, const struct saeval_args *a,
    const void *prep, struct buf *d)
{
	return any_html(in, balance, a, prep, d);
}

static unsigned
html_tag_exists(struct saeval_in *in, const struct saeval_args *a,
    const void *prep, struct buf *d)
{
	return any_html(in, tag_seen, a, prep, d);
}

struct match {
	const pcre2_code *re;
	bool	 want;		/* true: a string matches; false: one does not */
};

/* strings_match - some string of the part's list matches (or does not) */
static bool
strings_match(const struct html_sa *h, const struct saeval_args *a,
    const void *prep, struct buf *d)
{
	const struct match *m = prep;
	const struct html_sa_strings *s = html_sa_strings(h, a->v[0]);
	pcre2_match_data *md;
	pcre2_match_context *mc;
	size_t k;
	bool hit = false;
	int rc;

	if (s == NULL || s->n == 0)
		return false;
	md = pcre2_match_data_create_from_pattern(m->re, NULL);
	mc = pcre2_match_context_create(NULL);
	pcre2_set_match_limit(mc, MATCH_LIMIT);
	for (k = 0; k < s->n && !hit; k++) {
		rc = pcre2_match(m->re, (PCRE2_SPTR)s->v[k], strlen(s->v[k]), 0,
		    0, md, mc);
		hit = rc >= 0 ? m->want : rc == PCRE2_ERROR_NOMATCH && !m->want;
	}
	if (hit && d)
		buf_printf(d, "%s %s", a->v[0], m->want ? "matches" : "differs");
	pcre2_match_data_free(md);
	pcre2_match_context_free(mc);
	return hit;
}

static unsigned
html_text_match(struct saeval_in *in, const struct saeval_args *a,
    const void *prep, struct buf *d)
{
	struct match m = { prep, true };

	return any_html(in, strings_match, a, &m, d);
}

static unsigned
html_text_not_match(struct saeval_in *in, const struct saeval_args *a,
    const void *prep, struct buf *d)
{
	struct match m = { prep, false };

	return any_html(in, strings_match, a, &m, d);
}

static size_t
codepoints(const char *s)
{
	size_t k = 0;

	for (; *s; s++)
		k += ((unsigned char)*s & 0xc0) != 0x80;
	return k;
}

/* title_long - a <title> over RATIO (arg 0) times prep's subject length */
static bool
title_long(const struct html_sa *h, const struct saeval_args *a,
    const void *prep, struct buf *d)
{
	size_t slen = *(const size_t *)prep, k;
	double ratio, max = 0, r;

	(void)number(a->v[0], false, &ratio);
	for (k = 0; k < h->title.n; k++)
		if ((r = (double)codepoints(h->title.v[k]) / (double)slen) >
		    max)
			max = r;
	if (max <= ratio)
		return false;
	if (d)
		buf_printf(d, "title %.1f times the subject", max);
	return true;
}

static unsigned
html_title_subject_ratio(struct saeval_in *in, const struct saeval_args *a,
    const void *prep, struct buf *d)
{
	struct buf subj = BUF_INIT;
	size_t slen;

	(void)prep;
	/* SpamAssassin's get('Subject') ends with a line break */
	sae_get(in, "Subject", &subj);
	slen = codepoints(buf_cstr(&subj)) +
	    (sae_field(in, "Subject", 0) != NULL);
	buf_release(&subj);
	return slen ? any_html(in, title_long, a, &slen, d) : 0;
}

static bool
image_only(const struct html_sa *h, const struct saeval_args *a,
    const void *prep, struct buf *d)
{
	double min, max;
	uint32_t c;

	(void)prep;
	(void)number(a->v[0], false, &min);
	(void)number(a->v[1], false, &max);
	if (!html_sa_inside(h, "img", &c) || !((double)h->length > min &&
	    (double)h->length <= max))
		return false;
	if (d)
		buf_printf(d, "images, %zu characters of HTML", h->length);
	return true;
}

static bool
image_ratio(const struct html_sa *h, const struct saeval_args *a,
    const void *prep, struct buf *d)
{
	double min, max, r;

	(void)prep;
	if (h->image_area == 0)
		return false;
	(void)number(a->v[0], false, &min);
	(void)number(a->v[1], false, &max);
	r = (double)h->non_space_len / (double)h->image_area;
	if (!(r > min && r <= max))
		return false;
	if (d)
		buf_printf(d, "text/image area %.4f", r);
	return true;
}

static bool
iframe_src(const struct html_sa *h, const struct saeval_args *a,
    const void *prep, struct buf *d)
{
	(void)a;
	(void)prep;
	(void)d;
	return (h->flags & HTML_SA_IFRAME_SRC) != 0;
}

static unsigned
html_image_only(struct saeval_in *in, const struct saeval_args *a,
    const void *prep, struct buf *d)
{
	return any_html(in, image_only, a, prep, d);
}

static unsigned
html_image_ratio(struct saeval_in *in, const struct saeval_args *a,
    const void *prep, struct buf *d)
{
	return any_html(in, image_ratio, a, prep, d);
}

static unsigned
check_iframe_src(struct saeval_in *in, const struct saeval_args *a,
    const void *prep, struct buf *d)
{
	return any_html(in, iframe_src, a, prep, d);
}

/* never - a charset test under ok_locales "all" */
static unsigned
never(struct saeval_in *in, const struct saeval_args *a, const void *prep,
    struct buf *d)
{
	(void)in;
	(void)a;
	(void)prep;
	(void)d;
	return 0;
}

/* ------------------------------------------------------------------ */
/* MIME structure                                                      */
/* ------------------------------------------------------------------ */

static const int facts_key;

static void *
make_facts(struct saeval_in *in)
{
	struct mime_sa *s = xmalloc(sizeof(*s));

	mime_sa_facts(in->mm, buf_cstr(&in->m->body), in->m->body.len, s);
	return s;
}

static const struct mime_sa *
facts(struct saeval_in *in)
{
	return saeval_memo(in, &facts_key, make_facts, free);
}

static unsigned
check_for_mime(struct saeval_in *in, const struct saeval_args *a,
    const void *prep, struct buf *d)
{
	double v;

	(void)prep;
	if (!mime_sa_value(facts(in), a->v[0], &v) || v == 0)
		return 0;
	if (d)
		buf_printf(d, "%s=%g", a->v[0], v);
	return 1;
}

/* top_html - the message's own Content-Type is text/html */
static bool
top_html(struct saeval_in *in)
{
	struct buf ct = BUF_INIT;
	bool yes;

	sae_get(in, "Content-Type", &ct);
	yes = strncasecmp(buf_cstr(&ct), "text/html", 9) == 0;
	buf_release(&ct);
	return yes;
}

static unsigned
check_for_mime_html(struct saeval_in *in, const struct saeval_args *a,
    const void *prep, struct buf *d)
{
	(void)a;
	(void)prep;
	(void)d;
	return top_html(in) || facts(in)->body_html_count > 0;
}

static unsigned
check_for_mime_html_only(struct saeval_in *in, const struct saeval_args *a,
    const void *prep, struct buf *d)
{
	const struct mime_sa *s;

	(void)a;
	(void)prep;
	(void)d;
	if (top_html(in))
		return 1;
	s = facts(in);
	return s->body_html_count > 0 && s->body_text_count == 0;
}

static unsigned
check_mime_multipart_ratio(struct saeval_in *in, const struct saeval_args *a,
    const void *prep, struct buf *d)
{
	double min, max, r = facts(in)->multipart_ratio;

	(void)prep;
	(void)number(a->v[0], false, &min);
	(void)number(a->v[1], false, &max);
	if (r >= min && r < max) {
		if (d)
			buf_printf(d, "plain/HTML %.3f", r);
		return 1;
	}
	return 0;
}

static unsigned
check_qp_ratio(struct saeval_in *in, const struct saeval_args *a,
    const void *prep, struct buf *d)
{
	double min, r = facts(in)->qp_ratio;

	(void)prep;
	(void)d;
	(void)number(a->v[0], false, &min);
	return r >= min;
}

static unsigned
check_base64_length(struct saeval_in *in, const struct saeval_args *a,
    const void *prep, struct buf *d)
{
	double min, max;
	size_t len = facts(in)->base64_length;

	(void)prep;
	(void)number(a->v[0], false, &min);
	if (a->n > 1 && number(a->v[1], false, &max) && (double)len > max)
		return 0;
	if ((double)len < min)
		return 0;
	if (d)
		buf_printf(d, "base64 line of %zu", len);
	return 1;
}

/* check_for_ascii_text_illegal - 8-bit, NUL or CR in US-ASCII plain text */
static unsigned
check_ascii_illegal(struct saeval_in *in, const struct saeval_args *a,
    const void *prep, struct buf *d)
{
	unsigned n = facts(in)->ascii_text_illegal;

	(void)a;
	(void)prep;
	if (n && d)
		buf_printf(d, "%u lines", n);
	return n > 0;
}

/* prep_unicode_ratio - SpamAssassin takes only /^\d{0,3}\.\d{1,3}$/ */
static int
prep_unicode_ratio(const struct saeval_args *a, void **prep, struct buf *why)
{
	const char *s = a->v[0], *dot = strchr(s, '.');
	size_t ip = dot ? (size_t)(dot - s) : 0, fp = dot ? strlen(dot + 1) : 0;

	(void)prep;
	if (dot == NULL || ip > 3 || fp < 1 || fp > 3 || strspn(s, "0123456789")
	    != ip || strspn(dot + 1, "0123456789") != fp) {
		buf_printf(why, "'%.40s' is not a ratio like '0.02'", s);
		return -1;
	}
	return 0;
}

/* check_abundant_unicode_ratio - "&#xHHHH;" share of 7/8bit plain text */
static unsigned
check_unicode_ratio(struct saeval_in *in, const struct saeval_args *a,
    const void *prep, struct buf *d)
{
	double min, r = facts(in)->text_unicode_ratio;

	(void)prep;
	(void)d;
	(void)number(a->v[0], false, &min);
	return r >= min;
}

/* check_ma_non_text - a non-text leaf right under multipart/alternative */
static unsigned
check_ma_non_text(struct saeval_in *in, const struct saeval_args *a,
    const void *prep, struct buf *d)
{
	const struct mime_part *p;
	size_t i;

	(void)a;
	(void)prep;
	for (i = 1; in->mm && i < in->mm->nparts; i++) {
		p = &in->mm->parts[i];
		if (strcmp(in->mm->parts[p->parent].type,
		    "multipart/alternative") != 0 || p->kind == MIME_K_MULTIPART
		    || p->kind == MIME_K_MESSAGE ||
		    strncmp(p->type, "text/", 5) == 0 ||
		    strcmp(p->type, "application/rtf") == 0)
			continue;
		if (d)
			buf_printf(d, "%s in an alternative", p->type);
		return 1;
	}
	return 0;
}

/* prep_image_count - image_count(TYPE, MIN[, MAX]) */
static int
prep_image_count(const struct saeval_args *a, void **prep, struct buf *why)
{
	double v;

	(void)prep;
	if (strcmp(a->v[0], "all") != 0 && strcmp(a->v[0], "gif") != 0 &&
	    strcmp(a->v[0], "png") != 0 && strcmp(a->v[0], "jpeg") != 0) {
		buf_printf(why, "'%.40s' is not all, gif, png or jpeg", a->v[0]);
		return -1;
	}
	if (!number(a->v[1], false, &v) || (a->n > 2 &&
	    !number(a->v[2], false, &v))) {
		buf_adds(why, "MIN and MAX must be numbers");
		return -1;
	}
	return 0;
}

/* image_type - "gif", "png", "jpeg" of a base64 image leaf, or NULL */
static const char *
image_type(const struct mime_part *p)
{
	if (p->kind != MIME_K_OTHER || p->encoding == NULL ||
	    strcmp(p->encoding, "base64") != 0)
		return NULL;
	if (strcmp(p->type, "image/gif") == 0)
		return "gif";
	if (strcmp(p->type, "image/png") == 0)
		return "png";
	if (strcmp(p->type, "image/jpeg") == 0 ||
	    strcmp(p->type, "image/jpg") == 0)
		return "jpeg";
	return NULL;
}

/* ImageInfo's counts and pixel areas: all, gif, png, jpeg */
struct images {
	double	 count[4];
	double	 area[4];
};

static const char *const image_types[] = { "all", "gif", "png", "jpeg" };

static size_t
image_index(const char *t)
{
	size_t k;

	for (k = 1; k < 4; k++)
		if (strcmp(t, image_types[k]) == 0)
			return k;
	return 0;
}

static const int images_key;

static void *
make_images(struct saeval_in *in)
{
	struct images *x = xcalloc(1, sizeof(*x));
	struct buf dec = BUF_INIT;
	const struct mime_part *p;
	const char *t, *body = buf_cstr(&in->m->body);
	size_t i, k, blen = in->m->body.len;
	double area;

	for (i = 0; in->mm && i < in->mm->nparts; i++) {
		p = &in->mm->parts[i];
		if ((t = image_type(p)) == NULL)
			continue;
		k = image_index(t);
		x->count[k]++;
		x->count[0]++;
		if (p->body_off > blen || p->body_len > blen - p->body_off)
			continue;
		buf_reset(&dec);
		(void)mime_b64_decode(body + p->body_off, p->body_len, &dec);
		area = (double)mime_sa_image_area((const unsigned char *)
		    buf_cstr(&dec), dec.len, t);
		x->area[k] += area;
		x->area[0] += area;
	}
	buf_release(&dec);
	return x;
}

/* in_bounds - ImageInfo's result_check: MIN <= v <= MAX (MAX optional) */
static bool
in_bounds(const struct saeval_args *a, double v)
{
	double min, max = INFINITY;

	(void)number(a->v[1], false, &min);
	if (a->n > 2)
		(void)number(a->v[2], false, &max);
	return v >= min && v <= max;
}

/* image_test - the count (or area) of TYPE's images within bounds */
static unsigned
image_test(struct saeval_in *in, const struct saeval_args *a, bool area,
    struct buf *d)
{
	const struct images *x = saeval_memo(in, &images_key, make_images,
	    free);
	size_t k = image_index(a->v[0]);
	double v = area ? x->area[k] : x->count[k];

	if (!in_bounds(a, v))
		return 0;
	if (d)
		buf_printf(d, "%.0f %s", v, area ? "pixels" : "images");
	return 1;
}

/* image_count - base64 GIF, PNG and JPEG parts of TYPE ('all': any) */
static unsigned
image_count(struct saeval_in *in, const struct saeval_args *a,
    const void *prep, struct buf *d)
{
	(void)prep;
	return image_test(in, a, false, d);
}

/* pixel_coverage - the summed pixel area of those images */
static unsigned
pixel_coverage(struct saeval_in *in, const struct saeval_args *a,
    const void *prep, struct buf *d)
{
	(void)prep;
	return image_test(in, a, true, d);
}

/* ------------------------------------------------------------------ */
/* share of capitals in the body (MIMEEval check_for_uppercase)        */
/* ------------------------------------------------------------------ */

/* caps_charset - a charset whose text SpamAssassin does not weigh */
static bool
caps_charset(const char *cs)
{
	static const char *const frag[] = { "koi", "jp", "jis", "euc", "gb",
	    "big5", "isoir", "cp1251", "windows-1251", "georgianps", "pt154",
	    "tis" };
	size_t i;

	if (cs == NULL || cs[strspn(cs, "-_abcdefghijklmnopqrstuvwxyz"
	    "0123456789")] != '\0')
		return false;
	for (i = 0; i < sizeof(frag) / sizeof(frag[0]); i++)
		if (strstr(cs, frag[i]))
			return true;
	return false;
}

struct caps {
	size_t	 len, upper, lower;
};

/* base64_words - SpamAssassin's /^(?:[A-Za-z0-9+\/=]{60,76} ){2}/ */
static bool
base64_words(const char *s, size_t n)
{
	size_t i = 0, k, w;

	for (w = 0; w < 2; w++) {
		for (k = 0; i + k < n && (ch_is_alnum((unsigned char)s[i + k]) ||
		    s[i + k] == '+' || s[i + k] == '/' || s[i + k] == '='); k++)
			;
		if (k < 60 || k > 76 || i + k >= n || s[i + k] != ' ')
			return false;
		i += k + 1;
	}
	return true;
}

/* caps_line - one paragraph, white space collapsed, into the counts */
static void
caps_line(const char *s, size_t n, struct caps *c)
{
	size_t i;

	while (n && s[0] == ' ')
		s++, n--;
	while (n && s[n - 1] == ' ')
		n--;
	/* /\S\s+\S/: two words at least */
	if (memchr(s, ' ', n) == NULL || base64_words(s, n))
		return;
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		c->len += (ch & 0xc0) != 0x80;
		if ((ch >= 'a' && ch <= 'z') || ch_is_digit(ch))
			c->lower++;
		else if (ch >= 'A' && ch <= 'Z')
			c->upper++;
	}
}

/* caps_text - paragraphs of text (split at blank lines) into the counts */
static void
caps_text(const char *s, size_t n, struct buf *para, struct caps *c)
{
	size_t i = 0, k, nls;

	buf_reset(para);
	while (i < n) {
		if (!ch_is_space((unsigned char)s[i])) {
			buf_addc(para, s[i++]);
			continue;
		}
		for (k = i, nls = 0; k < n && ch_is_space((unsigned char)s[k]);
		    k++)
			nls += s[k] == '\n';
		if (nls >= 2) {
			caps_line(buf_cstr(para), para->len, c);
			buf_reset(para);
		} else if (para->len)
			buf_addc(para, ' ');
		i = k;
	}
	caps_line(buf_cstr(para), para->len, c);
}

static const int caps_key;

static void *
make_caps(struct saeval_in *in)
{
	struct caps *c = xcalloc(1, sizeof(*c));
	struct buf subj = BUF_INIT, para = BUF_INIT;
	const struct mime_part *p;
	size_t i, k;

	for (i = 0; in->mm && i < in->mm->nparts; i++)
		if (caps_charset(in->mm->parts[i].charset)) {
			c->len = 0;
			return c;
		}
	sae_get(in, "Subject", &subj);
	caps_text(buf_cstr(&subj), subj.len, &para, c);
	for (i = 0; in->mm && i < in->mm->nparts; i++) {
		p = &in->mm->parts[i];
		if (!mime_part_is_text(p))
			continue;
		/* SpamAssassin renders the <title> as text; html.c does not */
		for (k = 0; p->sa_html && k < p->sa_html->title.n; k++)
			caps_text(p->sa_html->title.v[k],
			    strlen(p->sa_html->title.v[k]), &para, c);
		caps_text(buf_cstr(&p->text), p->text.len, &para, c);
		caps_text(buf_cstr(&p->invisible), p->invisible.len, &para, c);
	}
	buf_release(&subj);
	buf_release(&para);
	return c;
}

/*
 * check_for_uppercase - capitals over letters and digits, percent, in
 * MIN < pct <= MAX, over 200 characters of two-word paragraphs at least
 */
static unsigned
check_for_uppercase(struct saeval_in *in, const struct saeval_args *a,
    const void *prep, struct buf *d)
{
	const struct caps *c = saeval_memo(in, &caps_key, make_caps, free);
	double min, max, pct;

	(void)prep;
	if (c->len < 200 || c->upper + c->lower == 0)
		return 0;
	(void)number(a->v[0], false, &min);
	(void)number(a->v[1], false, &max);
	pct = (double)c->upper / (double)(c->upper + c->lower) * 100;
	if (!(pct > min && pct <= max))
		return 0;
	if (d)
		buf_printf(d, "%.0f%% capitals", pct);
	return 1;
}

struct alt {
	double	 diff;
	size_t	 html, text;
};

static const int alt_key;

static void *
make_alt(struct saeval_in *in)
{
	struct alt *x = xmalloc(sizeof(*x));

	x->diff = mime_sa_alt_difference(in->mm, &x->html, &x->text);
	return x;
}

static unsigned
multipart_alternative_difference(struct saeval_in *in,
    const struct saeval_args *a, const void *prep, struct buf *d)
{
	const struct alt *x = saeval_memo(in, &alt_key, make_alt, free);
	double min, max;

	(void)prep;
	(void)number(a->v[0], false, &min);
	if (!((min == 0 || x->diff > min) && (strcmp(a->v[1], "undef") == 0 ||
	    (number(a->v[1], false, &max) && x->diff <= max))))
		return 0;
	if (d)
		buf_printf(d, "%.1f%% of HTML words not in the text", x->diff);
	return 1;
}

static unsigned
multipart_alternative_difference_count(struct saeval_in *in,
    const struct saeval_args *a, const void *prep, struct buf *d)
{
	const struct alt *x = saeval_memo(in, &alt_key, make_alt, free);
	double ratio, minhtml;

	(void)prep;
	(void)d;
	(void)number(a->v[0], false, &ratio);
	(void)number(a->v[1], false, &minhtml);
	return (double)x->html > minhtml &&
	    (double)x->text / (double)x->html > ratio;
}

#define ANY	SAEVAL_TYPES_ANY
static const struct saeval_fn fns[] = {
	{ "html_test", ANY, 1, 1, NULL, NULL, html_test },
	{ "html_range", ANY, 2, 3, prep_range, NULL, html_range },
	{ "html_eval", ANY, 2, 2, prep_expr, free, html_eval },
	{ "html_tag_balance", ANY, 2, 2, prep_tag_expr, free,
	    html_tag_balance },
	{ "html_tag_exists", ANY, 1, 1, NULL, NULL, html_tag_exists },
	{ "html_text_match", ANY, 2, 2, prep_regex, release_regex,
	    html_text_match },
	{ "html_text_not_match", ANY, 2, 2, prep_regex, release_regex,
	    html_text_not_match },
	{ "html_title_subject_ratio", ANY, 1, 1, prep_numbers, NULL,
	    html_title_subject_ratio },
	{ "html_image_only", ANY, 2, 2, prep_numbers, NULL, html_image_only },
	{ "html_image_ratio", ANY, 2, 2, prep_numbers, NULL,
	    html_image_ratio },
	{ "html_charset_faraway", ANY, 0, 0, NULL, NULL, never },
	{ "check_iframe_src", ANY, 0, 0, NULL, NULL, check_iframe_src },
	{ "check_for_mime", ANY, 1, 1, prep_mime_name, NULL, check_for_mime },
	{ "check_for_mime_html", ANY, 0, 0, NULL, NULL, check_for_mime_html },
	{ "check_for_mime_html_only", ANY, 0, 0, NULL, NULL,
	    check_for_mime_html_only },
	{ "check_mime_multipart_ratio", ANY, 2, 2, prep_numbers, NULL,
	    check_mime_multipart_ratio },
	{ "check_qp_ratio", ANY, 1, 1, prep_numbers, NULL, check_qp_ratio },
	{ "check_base64_length", ANY, 1, 2, prep_numbers, NULL,
	    check_base64_length },
	{ "check_ma_non_text", ANY, 0, 0, NULL, NULL, check_ma_non_text },
	{ "check_for_ascii_text_illegal", ANY, 0, 0, NULL, NULL,
	    check_ascii_illegal },
	{ "check_abundant_unicode_ratio", ANY, 1, 1, prep_unicode_ratio, NULL,
	    check_unicode_ratio },
	{ "check_for_faraway_charset", ANY, 0, 0, NULL, NULL, never },
	{ "check_for_uppercase", ANY, 2, 2, prep_numbers, NULL,
	    check_for_uppercase },
	{ "image_count", ANY, 2, 3, prep_image_count, NULL, image_count },
	{ "pixel_coverage", ANY, 2, 3, prep_image_count, NULL,
	    pixel_coverage },
	{ "multipart_alternative_difference", ANY, 2, 2, prep_alt, NULL,
	    multipart_alternative_difference },
	{ "multipart_alternative_difference_count", ANY, 2, 2, prep_numbers,
	    NULL, multipart_alternative_difference_count },
};
#undef ANY

/*
 * BodyEval: for multipart_alternative_difference (its other functions
 * stay unsupported notes).  ImageInfo: image_count and pixel_coverage;
 * its block also defines __HTML_IMG_ONLY, a meta over html_image_only
 * rules that stock metas (T_REMOTE_IMAGE) use; its other image evals
 * stay unsupported notes.
 */
static const char *const plugins[] = {
	"Mail::SpamAssassin::Plugin::HTMLEval",
	"Mail::SpamAssassin::Plugin::MIMEEval",
	"Mail::SpamAssassin::Plugin::BodyEval",
	"Mail::SpamAssassin::Plugin::ImageInfo",
	NULL
};

const struct saeval_family saeval_mime_family = {
	"mime", fns, SAEVAL_NELEM(fns), NULL, 0, plugins
};
