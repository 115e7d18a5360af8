/*
 * mime_sa.c - SpamAssassin's MIMEEval counters over a MIME view
 *
 * DESCRIPTION
 *	See mime_sa.h.  The walk follows SpamAssassin's _check_attachments
 *	and _multipart_alternative_difference, including their quirks
 *	(mime_qp_count counts QP parts until QP body lines were seen, then
 *	the escapes in them; a multipart/alternative seen anywhere before a
 *	leaf makes its plain and HTML sizes count), so that stock rules hit
 *	what they hit there.
 *
 * SECURITY
 *	Untrusted input, read only; offsets of the view are checked against
 *	the body length.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "html_sa.h"
#include "mime.h"
#include "mime_sa.h"
#include "str.h"

/* a part's Content-Disposition, lower case (SpamAssassin reads it whole) */
static void
disposition(const struct mime_part *p, char *out, size_t outsz)
{
	size_t i, k = 0;
	const char *v = NULL;

	for (i = 0; i < p->nhdrs; i++)
		if (strcasecmp(p->hdrs[i].name, "Content-Disposition") == 0) {
			v = p->hdrs[i].value;
			break;
		}
	for (; v && v[k] && k + 1 < outsz; k++)
		out[k] = (char)ch_lower((unsigned char)v[k]);
	out[k] = '\0';
}

/* ascii_charset - SpamAssassin's (unanchored) US-ASCII alias test */
static bool
ascii_charset(const char *cs)
{
	static const char *const names[] = { "us-ascii", "ansi_x3.4-1968",
	    "iso-ir-6", "ansi_x3.4-1986", "iso_646.irv:1991", "ascii",
	    "iso646-us", "us", "ibm367", "cp367", "csascii" };
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strstr(cs, names[i]))
			return true;
	return false;
}

static bool
word_ch(int c)
{
	return ch_is_alnum(c) || c == '_';
}

/* good_iso - iso-8859-N (one or two digits) or iso-2022-jp/kr in cs */
static bool
good_iso(const char *cs)
{
	const char *p, *a;

	for (p = cs; (p = strstr(p, "iso-")) != NULL; p++) {
		a = p + 4;
		if (strncmp(a, "8859-", 5) == 0 && ch_is_digit((unsigned char)
		    a[5]) && !word_ch((unsigned char)a[5 +
		    (ch_is_digit((unsigned char)a[6]) ? 2 : 1)]))
			return true;
		if ((strncmp(a, "2022-jp", 7) == 0 ||
		    strncmp(a, "2022-kr", 7) == 0) &&
		    !word_ch((unsigned char)a[7]))
			return true;
	}
	return false;
}

/* bad_iso - SpamAssassin's /iso-\S+-\S+\b/ that is not a good ISO name */
static bool
bad_iso(const char *cs)
{
	const char *p, *a, *dash;
	size_t run, k;

	if (good_iso(cs))
		return false;
	for (p = cs; (p = strstr(p, "iso-")) != NULL; p++) {
		a = p + 4;
		run = strcspn(a, " \t\r\n\f\v");
		if (run < 3 || (dash = memchr(a + 1, '-', run - 1)) == NULL)
			continue;
		for (k = (size_t)(dash - a) + 1; k < run; k++)
			if (word_ch((unsigned char)a[k]))
				return true;
	}
	return false;
}

/* has_high - a byte over 0x7f */
static bool
has_high(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] >= 0x80)
			return true;
	return false;
}

/* part_header - the part's own MIME facts (SpamAssassin's _check_mime_header) */
static void
part_header(const struct mime_part *p, const char *cd, struct mime_sa *o)
{
	const char *enc = p->encoding ? p->encoding : "";
	const char *cs = p->charset ? p->charset : "";

	if (strcmp(p->type, "text/html") == 0)
		o->body_html_count++;
	else if (strncmp(p->type, "text", 4) == 0)
		o->body_text_count++;
	if (strstr(enc, "base64"))
		o->base64_count++;
	else if (strstr(enc, "quoted-printable"))
		o->qp_count++;
	if (strstr(cd, "attachment"))
		o->attachment++;
	if (strncmp(p->type, "text", 4) == 0 && strstr(enc, "base64") &&
	    (*cs == '\0' || ascii_charset(cs)) &&
	    strncmp(cd, "attachment", 10) != 0 && strncmp(cd, "inline", 6) != 0)
		o->base64_encoded_text = true;
	if (bad_iso(cs))
		o->bad_iso_charset = true;
}

/* qp_escapes - the escapes of printable characters SpamAssassin counts */
static size_t
qp_escapes(const char *s, size_t n)
{
	size_t i, k = 0, trail = 0;

	for (i = 0; i + 3 <= n; i++) {
		char a = s[i + 1], b = s[i + 2];
		bool hex = ch_is_digit((unsigned char)b) || (b >= 'A' &&
		    b <= 'F');

		if (s[i] != '=')
			continue;
		if ((a == '0' && b == '9') ||
		    (a == '3' && hex && b != 'D') ||
		    ((a == '2' || a == '4' || a == '5' || a == '6') && hex) ||
		    (a == '7' && hex && b != 'F')) {
			k++;
			i += 2;
		}
	}
	/* a run of =09/=20 at the end of the line is not counted */
	i = n;
	while (i && ch_is_space((unsigned char)s[i - 1]))
		i--;
	while (i >= 3 && s[i - 3] == '=' && ((s[i - 2] == '0' &&
	    s[i - 1] == '9') || (s[i - 2] == '2' && s[i - 1] == '0'))) {
		trail++;
		i -= 3;
	}
	return k > trail ? k - trail : 0;
}

struct walk {
	size_t	 qp_bytes, qp_esc;
	size_t	 normal_chars, unicode_chars;
	/* per leaf, for the multipart ratio: plain and HTML bytes */
	size_t	 last_text, last_html;
	bool	 have_text, have_html;
};

/* unicode_refs - "&#xHHHH;" (upper-case hex) in a line, and its rest */
static void
unicode_refs(const char *s, size_t n, struct walk *w)
{
	size_t i, subs = 0;

	for (i = 0; i + 8 <= n; i++)
		if (s[i] == '&' && s[i + 1] == '#' && s[i + 2] == 'x' &&
		    s[i + 7] == ';' && strspn(s + i + 3, "0123456789ABCDEF")
		    >= 4) {
			subs++;
			i += 7;
		}
	w->unicode_chars += subs;
	w->normal_chars += n - subs * 8;
}

/* leaf_lines - SpamAssassin's per-line checks of one leaf's raw body */
static void
leaf_lines(const struct mime_part *p, const char *cd, const char *b,
    size_t n, struct mime_sa *o, struct walk *w, size_t *bytes)
{
	const char *enc = p->encoding ? p->encoding : "";
	bool qp = strcmp(enc, "quoted-printable") == 0;
	bool plain = strcmp(p->type, "text/plain") == 0;
	bool ascii = plain && (p->charset == NULL ||
	    strcmp(p->charset, "us-ascii") == 0);
	bool bits78 = plain && (*enc == '\0' || strcmp(enc, "7bit") == 0 ||
	    strcmp(enc, "8bit") == 0);
	bool count = o->multipart_alternative && !strstr(cd, "attachment") &&
	    (plain || strcmp(p->type, "text/html") == 0);
	const char *nl;
	size_t len, i;

	while (n) {
		nl = memchr(b, '\n', n);
		len = nl ? (size_t)(nl - b) : n;
		/* SpamAssassin's line: content and one "\n" */
		i = len && b[len - 1] == '\r' ? len - 1 : len;
		if (count)
			*bytes += i + (nl != NULL);
		if (qp && !(i >= 6 && memcmp(b, "SPAM: ", 6) == 0)) {
			if (i + (nl != NULL) > 79)
				o->qp_long_line = true;
			w->qp_bytes += i + (nl != NULL);
			w->qp_esc += qp_escapes(b, i);
		}
		if (ascii && (memchr(b, '\0', i) || memchr(b, '\r', i) ||
		    has_high(b, i)))
			o->ascii_text_illegal++;
		if (bits78)
			unicode_refs(b, i, w);
		if (nl == NULL)
			break;
		n -= len + 1;
		b = nl + 1;
	}
}

/* base64_lines - the longest line of a base64 leaf */
static void
base64_lines(const struct mime_part *p, const char *b, size_t n,
    struct mime_sa *o)
{
	const char *nl;
	size_t len, i;

	if (p->encoding == NULL || strcmp(p->encoding, "base64") != 0 ||
	    strcmp(p->type, "application/ics") == 0)
		return;
	while (n) {
		nl = memchr(b, '\n', n);
		len = nl ? (size_t)(nl - b) : n;
		i = (len && b[len - 1] == '\r' ? len - 1 : len) + (nl != NULL);
		if (i > o->base64_length)
			o->base64_length = i;
		if (nl == NULL)
			break;
		n -= len + 1;
		b = nl + 1;
	}
}

static bool
is_leaf(const struct mime_part *p)
{
	return p->kind != MIME_K_MULTIPART && p->kind != MIME_K_MESSAGE;
}

void
mime_sa_facts(const struct mime_msg *mm, const char *body, size_t body_len,
    struct mime_sa *o)
{
	struct walk w;
	const struct mime_part *p;
	char cd[256];
	size_t i, bytes;

	memset(o, 0, sizeof(*o));
	memset(&w, 0, sizeof(w));
	o->multipart_ratio = 1.0;
	for (i = 0; mm && i < mm->nparts; i++) {
		p = &mm->parts[i];
		if (strcmp(p->type, "multipart/alternative") == 0)
			o->multipart_alternative = true;
		disposition(p, cd, sizeof(cd));
		part_header(p, cd, o);
		if (!is_leaf(p))
			continue;
		bytes = 0;
		if (p->body_off <= body_len && p->body_len <= body_len -
		    p->body_off) {
			leaf_lines(p, cd, body + p->body_off, p->body_len, o,
			    &w, &bytes);
			base64_lines(p, body + p->body_off, p->body_len, o);
		}
		if (strstr(cd, "attachment"))
			continue;
		if (strcmp(p->type, "text/html") == 0) {
			w.last_html = bytes;
			w.have_html = true;
		} else if (strcmp(p->type, "text/plain") == 0) {
			w.last_text = bytes;
			w.have_text = true;
		}
	}
	if (w.qp_bytes) {
		o->qp_ratio = (double)w.qp_esc / (double)w.qp_bytes;
		o->qp_count = (unsigned)w.qp_esc;
	}
	if (w.normal_chars)
		o->text_unicode_ratio = (double)w.unicode_chars /
		    (double)w.normal_chars;
	if (o->multipart_alternative && w.have_text && w.have_html &&
	    w.last_html > 0)
		o->multipart_ratio = (double)w.last_text / (double)w.last_html;
	if (mm) {
		o->missing_boundary = (mm->flags & MIME_F_UNCLOSED) != 0;
		o->parts_cap = (mm->flags & MIME_F_PARTS_CAP) != 0;
	}
}

bool
mime_sa_value(const struct mime_sa *s, const char *name, double *v)
{
	static const char *const prefix = "mime_";

	if (strcmp(name, "mimepart_limit_exceeded") == 0) {
		*v = s->parts_cap;
		return true;
	}
	if (strncmp(name, prefix, 5) != 0)
		return false;
	name += 5;
	if (strcmp(name, "base64_count") == 0)
		*v = s->base64_count;
	else if (strcmp(name, "base64_encoded_text") == 0)
		*v = s->base64_encoded_text;
	else if (strcmp(name, "body_html_count") == 0)
		*v = s->body_html_count;
	else if (strcmp(name, "body_text_count") == 0)
		*v = s->body_text_count;
	else if (strcmp(name, "faraway_charset") == 0)
		*v = 0;		/* ok_locales is SpamAssassin's "all" */
	else if (strcmp(name, "missing_boundary") == 0)
		*v = s->missing_boundary;
	else if (strcmp(name, "multipart_alternative") == 0)
		*v = s->multipart_alternative;
	else if (strcmp(name, "multipart_ratio") == 0)
		*v = s->multipart_ratio;
	else if (strcmp(name, "qp_count") == 0)
		*v = s->qp_count;
	else if (strcmp(name, "qp_long_line") == 0)
		*v = s->qp_long_line;
	else if (strcmp(name, "qp_ratio") == 0)
		*v = s->qp_ratio;
	else if (strcmp(name, "ascii_text_illegal") == 0)
		*v = s->ascii_text_illegal;
	else if (strcmp(name, "text_unicode_ratio") == 0)
		*v = s->text_unicode_ratio;
	else if (strcmp(name, "attachment") == 0)
		*v = s->attachment;
	else if (strcmp(name, "bad_iso_charset") == 0)
		*v = s->bad_iso_charset;
	else
		return false;
	return true;
}

/* ------------------------------------------------------------------ */
/* multipart/alternative difference                                    */
/* ------------------------------------------------------------------ */

struct word {
	const char *p;
	size_t	 n;
};

struct words {
	struct word *v;
	size_t	 n, cap;
};

static bool
has_word_char(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (ch_is_alnum((unsigned char)s[i]) || s[i] == '_' ||
		    (unsigned char)s[i] >= 0x80)
			return true;
	return false;
}

/* split - the white-space separated words of s holding a \w character */
static void
split(const char *s, size_t n, struct words *ws)
{
	size_t i = 0, a;

	while (i < n) {
		while (i < n && ch_is_space((unsigned char)s[i]))
			i++;
		a = i;
		while (i < n && !ch_is_space((unsigned char)s[i]))
			i++;
		if (i > a && has_word_char(s + a, i - a)) {
			if (ws->n == ws->cap) {
				ws->cap = ws->cap ? ws->cap * 2 : 256;
				ws->v = xreallocarray(ws->v, ws->cap,
				    sizeof(*ws->v));
			}
			ws->v[ws->n].p = s + a;
			ws->v[ws->n++].n = i - a;
		}
	}
}

static int
word_cmp(const void *a, const void *b)
{
	const struct word *x = a, *y = b;
	int c = memcmp(x->p, y->p, x->n < y->n ? x->n : y->n);

	return c ? c : (x->n > y->n) - (x->n < y->n);
}

/* run - the number of copies of v[i] from i on (v sorted) */
static size_t
run(const struct words *ws, size_t i)
{
	size_t k = i + 1;

	while (k < ws->n && word_cmp(&ws->v[i], &ws->v[k]) == 0)
		k++;
	return k - i;
}

/* distinct - distinct words of a sorted list */
static size_t
distinct(const struct words *ws)
{
	size_t i, k = 0;

	for (i = 0; i < ws->n; i += run(ws, i))
		k++;
	return k;
}

/* left - distinct HTML words not matched by as many plain-text copies */
static size_t
left(const struct words *h, const struct words *t)
{
	size_t i, hn, tn, k = 0;
	const struct word *hit;

	for (i = 0; i < h->n; i += hn) {
		hn = run(h, i);
		hit = t->n ? bsearch(&h->v[i], t->v, t->n, sizeof(*t->v),
		    word_cmp) : NULL;
		if (hit) {
			while (hit > t->v && word_cmp(hit - 1, hit) == 0)
				hit--;
			tn = run(t, (size_t)(hit - t->v));
			if (hn <= tn)
				continue;
		}
		k++;
	}
	return k;
}

/* descendants - the end (exclusive) of part i's subtree */
static size_t
subtree_end(const struct mime_msg *mm, size_t i)
{
	size_t k = i + 1;

	while (k < mm->nparts && mm->parts[k].depth > mm->parts[i].depth)
		k++;
	return k;
}

/* alt_words - words of the plain and HTML parts under alternative i */
static void
alt_words(const struct mime_msg *mm, size_t i, struct words *h,
    struct words *t, bool *img)
{
	size_t k, end = subtree_end(mm, i);
	const struct mime_part *p;
	uint32_t c;

	for (k = i + 1; k < end; k++) {
		p = &mm->parts[k];
		if (p->kind == MIME_K_HTML) {
			split(buf_cstr(&p->text), p->text.len, h);
			split(buf_cstr(&p->invisible), p->invisible.len, h);
			if (h->n == 0 && p->sa_html &&
			    html_sa_inside(p->sa_html, "img", &c))
				*img = true;
		} else if (strcmp(p->type, "text/plain") == 0)
			split(buf_cstr(&p->text), p->text.len, t);
	}
}

/* calendar_invite - SpamAssassin skips alternative/html/calendar */
static bool
calendar_invite(const struct mime_msg *mm)
{
	return mm->nparts == 3 &&
	    strcmp(mm->parts[0].type, "multipart/alternative") == 0 &&
	    strcmp(mm->parts[1].type, "text/html") == 0 &&
	    strcmp(mm->parts[2].type, "text/calendar") == 0;
}

double
mime_sa_alt_difference(const struct mime_msg *mm, size_t *html_words,
    size_t *text_words)
{
	struct words h = { NULL, 0, 0 }, t = { NULL, 0, 0 };
	double best = 0, d;
	size_t i, orig;
	bool img;

	*html_words = *text_words = 0;
	if (mm == NULL || calendar_invite(mm))
		return 0;
	for (i = 0; i < mm->nparts; i++) {
		if (strncmp(mm->parts[i].type, "multipart/alternative", 21) != 0)
			continue;
		h.n = t.n = 0;
		img = false;
		alt_words(mm, i, &h, &t, &img);
		if (h.n)
			qsort(h.v, h.n, sizeof(*h.v), word_cmp);
		if (t.n)
			qsort(t.v, t.n, sizeof(*t.v), word_cmp);
		orig = h.n ? distinct(&h) : img;
		if (orig == 0)
			continue;
		*html_words = orig;
		*text_words = distinct(&t);
		d = (h.n ? (double)left(&h, &t) : 1.0) / (double)orig * 100;
		if (d > best)
			best = d;
	}
	free(h.v);
	free(t.v);
	return best;
}

/* ------------------------------------------------------------------ */
/* image dimensions (ImageInfo)                                        */
/* ------------------------------------------------------------------ */

static uint32_t
be16(const unsigned char *p)
{
	return (uint32_t)p[0] << 8 | p[1];
}

static uint32_t
be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

/* jpeg_sof - the frame size of the first SOFn marker before the scan */
static uint64_t
jpeg_sof(const unsigned char *d, size_t n)
{
	size_t pos = 2, len;
	unsigned mark;

	while (pos + 4 <= n && d[pos] == 0xff) {
		mark = d[pos + 1];
		len = be16(d + pos + 2);
		if (mark == 0xda || mark == 0xd9 || len < 2)
			break;
		pos += 4;
		if ((mark >= 0xc0 && mark <= 0xc3) || (mark >= 0xc5 &&
		    mark <= 0xc7) || (mark >= 0xc9 && mark <= 0xcb) ||
		    (mark >= 0xcd && mark <= 0xcf))
			return pos + 5 <= n ? (uint64_t)be16(d + pos + 1) *
			    be16(d + pos + 3) : 0;
		pos += len - 2;
	}
	return 0;
}

uint64_t
mime_sa_image_area(const unsigned char *d, size_t n, const char *type)
{
	if (strcmp(type, "gif") == 0)
		return n >= 10 && memcmp(d, "GIF8", 4) == 0 &&
		    (d[4] == '7' || d[4] == '9') && d[5] == 'a' ?
		    (uint64_t)(d[6] | d[7] << 8) * (uint64_t)(d[8] | d[9] << 8) :
		    0;
	if (strcmp(type, "png") == 0)
		return n >= 24 && memcmp(d, "\x89PNG\r\n\x1a\n", 8) == 0 &&
		    be32(d + 8) == 13 && memcmp(d + 12, "IHDR", 4) == 0 ?
		    (uint64_t)be32(d + 16) * be32(d + 20) : 0;
	if (strcmp(type, "jpeg") == 0)
		return n >= 2 && d[0] == 0xff && d[1] == 0xd8 ? jpeg_sof(d, n) :
		    0;
	return 0;
}
