/*
 * mime_decode.c - transfer encodings, charsets, encoded words, parameters
 *
 * DESCRIPTION
 *	The decoding building blocks of mime.h: base64 and quoted-printable
 *	(RFC 2045 6.7, 6.8), conversion to UTF-8 through iconv(3), RFC 2047
 *	encoded words and RFC 2045/2231 header parameters.  Each function
 *	appends to a struct buf and returns the MIME_F_* flags it raised;
 *	none fails on bad input.
 *
 * LIMITS
 *	Every loop moves forward; nothing is rescanned, so work is linear
 *	in the input.  RFC 2231 continuations are capped (MAX_SEGMENTS).
 *
 * SECURITY
 *	Charset names come from the message: only names made of letters,
 *	digits and "-_.:()+" up to 40 bytes reach iconv_open(3), so no
 *	"//TRANSLIT" style suffix can be smuggled in.
 *
 * STANDARDS
 *	RFC 2045, RFC 2047, RFC 2231; WHATWG Encoding (iso-8859-1 and
 *	us-ascii labels are decoded as windows-1252).
 */
#include "config.h"

#include <errno.h>
#include <iconv.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "mime.h"
#include "str.h"

#define MAX_CHARSET	40
#define MAX_SEGMENTS	64

void
mime_utf8_put(struct buf *out, uint32_t cp)
{
	char b[4];

	if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		cp = 0xfffd;
	if (cp < 0x80) {
		buf_addc(out, (char)cp);
	} else if (cp < 0x800) {
		b[0] = (char)(0xc0 | (cp >> 6));
		b[1] = (char)(0x80 | (cp & 0x3f));
		buf_add(out, b, 2);
	} else if (cp < 0x10000) {
		b[0] = (char)(0xe0 | (cp >> 12));
		b[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		b[2] = (char)(0x80 | (cp & 0x3f));
		buf_add(out, b, 3);
	} else {
		b[0] = (char)(0xf0 | (cp >> 18));
		b[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		b[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		b[3] = (char)(0x80 | (cp & 0x3f));
		buf_add(out, b, 4);
	}
}

/* ------------------------------------------------------------------ */
/* base64                                                              */
/* ------------------------------------------------------------------ */

static signed char b64_val[256];

__attribute__((constructor)) static void
b64_init(void)
{
	static const char a[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	int i;

	memset(b64_val, -1, sizeof(b64_val));
	for (i = 0; i < 64; i++)
		b64_val[(unsigned char)a[i]] = (signed char)i;
}

/*
 * b64_run - decode (out != NULL) or count; flags for junk.  A '=' ends
 * the current quantum; decoding resumes after it, since mailers do
 * concatenate separately padded blocks.
 */
static size_t
b64_run(const char *in, size_t len, struct buf *out, unsigned *flags)
{
	const unsigned char *p = (const unsigned char *)in;
	unsigned char chunk[3 * 1024];
	size_t i, n = 0, total = 0;
	uint32_t acc = 0;
	int bits = 0, v;

	for (i = 0; i < len; i++) {
		if ((v = b64_val[p[i]]) < 0) {
			if (p[i] == '=') {
				acc = 0;
				bits = 0;
			} else if (!ch_is_space(p[i]))
				*flags |= MIME_F_BAD_BASE64;
			continue;
		}
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			total++;
			if (out) {
				chunk[n++] = (unsigned char)(acc >> bits);
				if (n == sizeof(chunk)) {
					buf_add(out, chunk, n);
					n = 0;
				}
			}
			acc &= (1u << bits) - 1;
		}
	}
	/* 6 leftover bits cannot be a byte: truncated input */
	if (bits >= 6)
		*flags |= MIME_F_BAD_BASE64;
	if (out && n)
		buf_add(out, chunk, n);
	return total;
}

unsigned
mime_b64_decode(const char *in, size_t len, struct buf *out)
{
	unsigned flags = 0;

	buf_reserve(out, len / 4 * 3 + 3);
	b64_run(in, len, out, &flags);
	return flags;
}

/*
 * mime_b64_size - what b64_run() would count, without its bit
 * accumulator: each run of base64 characters between pads gives
 * floor(6 * chars / 8) bytes ('=' drops the bits left over).
 */
size_t
mime_b64_size(const char *in, size_t len)
{
	const unsigned char *p = (const unsigned char *)in;
	size_t i, chars = 0, total = 0;

	for (i = 0; i < len; i++) {
		if (b64_val[p[i]] >= 0)
			chars++;
		else if (p[i] == '=') {
			total += chars * 6 / 8;
			chars = 0;
		}
	}
	return total + chars * 6 / 8;
}

/* ------------------------------------------------------------------ */
/* quoted-printable                                                    */
/* ------------------------------------------------------------------ */

unsigned
mime_qp_decode(const char *in, size_t len, struct buf *out)
{
	const unsigned char *p = (const unsigned char *)in;
	unsigned flags = 0;
	size_t i = 0, start, end, j;
	int h, l;

	buf_reserve(out, len);
	while (i < len) {
		/* one line: [start, end) without the line break */
		start = i;
		while (i < len && p[i] != '\n')
			i++;
		end = i;
		if (end > start && p[end - 1] == '\r')
			end--;
		/* transport padding: trailing white space is not data */
		while (end > start && ch_is_wsp(p[end - 1]))
			end--;
		for (j = start; j < end; j++) {
			if (p[j] != '=') {
				buf_addc(out, (char)p[j]);
				continue;
			}
			if (j + 1 == end)
				break;		/* soft line break */
			if (j + 2 < end && (h = ch_xdigit_val(p[j + 1])) >= 0 &&
			    (l = ch_xdigit_val(p[j + 2])) >= 0) {
				buf_addc(out, (char)(h << 4 | l));
				j += 2;
				continue;
			}
			flags |= MIME_F_BAD_QP;
			buf_addc(out, '=');
		}
		if (i < len) {
			/* hard line break, unless the line ended in '=' */
			if (end == start || p[end - 1] != '=')
				buf_addc(out, '\n');
			i++;
		}
	}
	return flags;
}

/* ------------------------------------------------------------------ */
/* charsets                                                            */
/* ------------------------------------------------------------------ */

/* windows-1252 0x80..0x9f; 0 marks the five undefined bytes */
static const uint16_t cp1252_hi[32] = {
	0x20ac, 0, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021,
	0x02c6, 0x2030, 0x0160, 0x2039, 0x0152, 0, 0x017d, 0,
	0, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014,
	0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0, 0x017e, 0x0178
};

static void
put_cp1252(const unsigned char *p, size_t len, struct buf *out)
{
	size_t i, run;

	buf_reserve(out, len + len / 2);
	for (i = 0; i < len; i++) {
		/* ASCII other than NUL, most of any text: copied by runs */
		for (run = i; run < len && p[run] < 0x80 && p[run] != 0; run++)
			;
		if (run > i) {
			buf_add(out, p + i, run - i);
			i = run - 1;
			continue;
		}
		if (p[i] == 0)
			buf_addc(out, ' ');
		else if (p[i] < 0xa0)
			mime_utf8_put(out, cp1252_hi[p[i] - 0x80] ?
			    cp1252_hi[p[i] - 0x80] : p[i]);
		else
			mime_utf8_put(out, p[i]);
	}
}

/* put_utf8 - copy, ill-formed sequences as U+FFFD; returns flags */
static unsigned
put_utf8(const unsigned char *p, size_t len, struct buf *out)
{
	unsigned flags = 0;
	size_t i = 0, run;
	uint32_t cp;
	int n;

	buf_reserve(out, len);
	while (i < len) {
		run = i;
		while (run < len && p[run] < 0x80 && p[run] != 0)
			run++;
		if (run > i) {
			buf_add(out, p + i, run - i);
			i = run;
			continue;
		}
		if (p[i] == 0) {
			buf_addc(out, ' ');
			i++;
			continue;
		}
		n = utf8_next(p + i, len - i, &cp);
		if (n > 0) {
			buf_add(out, p + i, (size_t)n);
			i += (size_t)n;
		} else {
			mime_utf8_put(out, 0xfffd);
			flags |= MIME_F_BAD_BYTES;
			i += (size_t)-n;
		}
	}
	return flags;
}

/* put_guess - undeclared or unknown charset: UTF-8 if valid, else 1252 */
static void
put_guess(const unsigned char *p, size_t len, struct buf *out)
{
	if (utf8_valid(p, len))
		(void)put_utf8(p, len, out);
	else
		put_cp1252(p, len, out);
}

static const struct {
	const char *label;
	const char *iconv_name;		/* NULL: built-in decoder */
} charset_map[] = {
	/* built in */
	{ "utf-8", NULL }, { "utf8", NULL }, { "x-utf-8", NULL },
	{ "us-ascii", NULL }, { "ascii", NULL }, { "ansi_x3.4-1968", NULL },
	{ "iso-8859-1", NULL }, { "iso8859-1", NULL }, { "latin1", NULL },
	{ "iso_8859-1", NULL }, { "l1", NULL }, { "windows-1252", NULL },
	{ "cp1252", NULL }, { "x-cp1252", NULL }, { "cp819", NULL },
	{ "default", NULL }, { "x-unknown", NULL }, { "unknown-8bit", NULL },
	{ "x-user-defined", NULL }, { "unknown", NULL }, { "none", NULL },
	/* names iconv does not know, or knows a narrower form of */
	{ "ks_c_5601-1987", "CP949" }, { "ks_c_5601", "CP949" },
	{ "euc-kr", "CP949" }, { "gb2312", "GB18030" }, { "gbk", "GB18030" },
	{ "x-gbk", "GB18030" }, { "cp936", "GB18030" },
	{ "x-sjis", "CP932" }, { "shift_jis", "CP932" }, { "sjis", "CP932" },
	{ "shift-jis", "CP932" }, { "ms_kanji", "CP932" },
	{ "iso-8859-8-i", "ISO-8859-8" }, { "iso-8859-6-i", "ISO-8859-6" },
	{ "windows-874", "CP874" }, { "tis-620", "CP874" },
	{ "x-mac-roman", "MACINTOSH" }, { "macintosh", "MACINTOSH" },
	{ "unicode-1-1-utf-7", "UTF-7" }, { "utf-16", "UTF-16" },
	{ "big5-hkscs", "BIG5-HKSCS" }, { "x-euc-tw", "EUC-TW" },
};

/* charset_norm - lower-cased, unquoted, trimmed label; "" if unusable */
static void
charset_norm(const char *cs, char *out, size_t outsz)
{
	size_t n = 0;

	out[0] = '\0';
	if (cs == NULL)
		return;
	while (*cs == ' ' || *cs == '\t' || *cs == '"' || *cs == '\'')
		cs++;
	for (; *cs && *cs != '"' && *cs != '\'' && !ch_is_space(*cs); cs++) {
		if (n + 1 >= outsz) {
			out[0] = '\0';
			return;
		}
		out[n++] = (char)ch_lower((unsigned char)*cs);
	}
	out[n] = '\0';
}

static bool
charset_name_safe(const char *s)
{
	for (; *s; s++)
		if (!ch_is_alnum((unsigned char)*s) && !strchr("-_.:()+", *s))
			return false;
	return true;
}

/* iconv_run - convert; flags for ill-formed input */
static unsigned
iconv_run(iconv_t cd, const char *in, size_t len, struct buf *out)
{
	char obuf[8192], *ip = (char *)in, *op;
	size_t ileft = len, oleft, k, before;
	unsigned flags = 0;
	size_t r;

	buf_reserve(out, len + len / 2);
	for (;;) {
		op = obuf;
		oleft = sizeof(obuf);
		if (ileft > 0)
			r = iconv(cd, &ip, &ileft, &op, &oleft);
		else
			r = iconv(cd, NULL, NULL, &op, &oleft);
		before = out->len;
		buf_add(out, obuf, (size_t)(op - obuf));
		for (k = before; k < out->len; k++)
			if (out->data[k] == '\0')
				out->data[k] = ' ';
		if (r != (size_t)-1) {
			if (ileft == 0 && op == obuf)
				break;
			continue;
		}
		if (errno == E2BIG)
			continue;
		flags |= MIME_F_BAD_BYTES;
		mime_utf8_put(out, 0xfffd);
		if (errno == EILSEQ && ileft > 0) {
			ip++;
			ileft--;
			(void)iconv(cd, NULL, NULL, NULL, NULL);
			continue;
		}
		break;		/* EINVAL: incomplete sequence at the end */
	}
	return flags;
}

unsigned
mime_to_utf8(const char *charset, const char *in, size_t len, struct buf *out)
{
	const unsigned char *p = (const unsigned char *)in;
	const char *name;
	char cs[MAX_CHARSET + 1];
	iconv_t cd;
	unsigned flags;
	size_t i;

	charset_norm(charset, cs, sizeof(cs));
	if (cs[0] == '\0') {
		put_guess(p, len, out);
		return charset && *charset ? MIME_F_BAD_CHARSET : 0;
	}
	name = cs;
	for (i = 0; i < sizeof(charset_map) / sizeof(charset_map[0]); i++) {
		if (strcmp(cs, charset_map[i].label) != 0)
			continue;
		if (charset_map[i].iconv_name) {
			name = charset_map[i].iconv_name;
			break;
		}
		if (strncmp(cs, "utf", 3) == 0 || strcmp(cs, "x-utf-8") == 0)
			return put_utf8(p, len, out);
		if (strstr(cs, "ascii") || strcmp(cs, "ansi_x3.4-1968") == 0 ||
		    strcmp(cs, "default") == 0 || strstr(cs, "unknown") ||
		    strcmp(cs, "x-user-defined") == 0 ||
		    strcmp(cs, "none") == 0) {
			put_guess(p, len, out);
			return 0;
		}
		put_cp1252(p, len, out);
		return 0;
	}
	if (!charset_name_safe(name) ||
	    (cd = iconv_open("UTF-8", name)) == (iconv_t)-1) {
		put_guess(p, len, out);
		return MIME_F_BAD_CHARSET;
	}
	flags = iconv_run(cd, in, len, out);
	iconv_close(cd);
	return flags;
}

/* ------------------------------------------------------------------ */
/* RFC 2047 encoded words                                              */
/* ------------------------------------------------------------------ */

struct eword {
	const char *cs;		/* charset (language suffix dropped) */
	size_t	 cs_len;
	char	 enc;		/* 'b' or 'q' */
	const char *text;
	size_t	 text_len;
	size_t	 len;		/* whole word */
};

/*
 * eword_parse - "=?cs?e?text?=" at p.  The text stops at the first '?'
 * or white space, and a '?' always starts the next "=?", so a failed
 * attempt never scans past the next candidate: linear overall.
 */
static bool
eword_parse(const char *p, size_t n, struct eword *w)
{
	size_t i = 2, cs_end, star;

	if (n < 8 || p[0] != '=' || p[1] != '?')
		return false;
	while (i < n && i - 2 < MAX_CHARSET && p[i] != '?' &&
	    ch_is_vchar((unsigned char)p[i]))
		i++;
	if (i >= n || p[i] != '?' || i == 2)
		return false;
	cs_end = i;
	for (star = 2; star < cs_end && p[star] != '*'; star++)
		;
	w->cs = p + 2;
	w->cs_len = star - 2;
	i++;
	if (i + 1 >= n || p[i + 1] != '?')
		return false;
	w->enc = (char)ch_lower((unsigned char)p[i]);
	if (w->enc != 'b' && w->enc != 'q')
		return false;
	i += 2;
	w->text = p + i;
	while (i < n && p[i] != '?' && !ch_is_space((unsigned char)p[i]))
		i++;
	if (i + 1 >= n || p[i] != '?' || p[i + 1] != '=')
		return false;
	w->text_len = (size_t)(p + i - w->text);
	w->len = i + 2;
	return true;
}

/* eword_bytes - decoded bytes of one word; flags */
static unsigned
eword_bytes(const struct eword *w, struct buf *out)
{
	unsigned flags = 0;
	size_t i;
	int h, l;

	if (w->enc == 'b')
		return mime_b64_decode(w->text, w->text_len, out) ?
		    MIME_F_BAD_2047 : 0;
	for (i = 0; i < w->text_len; i++) {
		char c = w->text[i];

		if (c == '_')
			buf_addc(out, ' ');
		else if (c == '=' && i + 2 < w->text_len &&
		    (h = ch_xdigit_val((unsigned char)w->text[i + 1])) >= 0 &&
		    (l = ch_xdigit_val((unsigned char)w->text[i + 2])) >= 0) {
			buf_addc(out, (char)(h << 4 | l));
			i += 2;
		} else {
			if (c == '=')
				flags |= MIME_F_BAD_2047;
			buf_addc(out, c);
		}
	}
	return flags;
}

struct dec2047 {
	struct buf *out;
	struct buf run;		/* decoded bytes of adjacent words */
	char	 cs[MAX_CHARSET + 1];
	struct buf plain;	/* undecoded text between words */
	unsigned flags;
};

static void
flush_run(struct dec2047 *d)
{
	unsigned f;

	if (d->run.len == 0)
		return;
	f = mime_to_utf8(d->cs, d->run.data, d->run.len, d->out);
	if (f & (MIME_F_BAD_CHARSET | MIME_F_BAD_BYTES))
		d->flags |= MIME_F_BAD_2047 | f;
	buf_reset(&d->run);
}

static void
flush_plain(struct dec2047 *d)
{
	if (d->plain.len == 0)
		return;
	put_guess((const unsigned char *)d->plain.data, d->plain.len, d->out);
	buf_reset(&d->plain);
}

unsigned
mime_2047_decode(const char *in, size_t len, struct buf *out)
{
	struct dec2047 d;
	struct eword w;
	size_t i = 0, ws = 0, start = out->len;
	bool after_word = false;
	char cs[MAX_CHARSET + 1];
	unsigned char c;

	memset(&d, 0, sizeof(d));
	d.out = out;
	while (i < len) {
		c = (unsigned char)in[i];
		if (c == '=' && i + 1 < len && in[i + 1] == '?' &&
		    eword_parse(in + i, len - i, &w)) {
			memcpy(cs, w.cs, w.cs_len);
			cs[w.cs_len] = '\0';
			if (!after_word || strcasecmp(cs, d.cs) != 0) {
				flush_run(&d);
				memcpy(d.cs, cs, w.cs_len + 1);
			}
			/* white space between adjacent words is dropped */
			if (after_word)
				buf_truncate(&d.plain, d.plain.len - ws);
			flush_plain(&d);
			d.flags |= eword_bytes(&w, &d.run);
			i += w.len;
			after_word = true;
			ws = 0;
			continue;
		}
		if (c == '\r' || c == '\n') {		/* unfold */
			i++;
			continue;
		}
		if (after_word && ch_is_wsp(c)) {
			buf_addc(&d.plain, (char)c);
			ws++;
			i++;
			continue;
		}
		flush_run(&d);
		after_word = false;
		ws = 0;
		buf_addc(&d.plain, c == '\0' ? ' ' : (char)c);
		i++;
	}
	flush_run(&d);
	flush_plain(&d);
	buf_release(&d.run);
	buf_release(&d.plain);
	/* trim what this call appended */
	if (out->len > start) {
		size_t a = start, b = out->len;

		while (a < b && ch_is_space((unsigned char)out->data[a]))
			a++;
		while (b > a && ch_is_space((unsigned char)out->data[b - 1]))
			b--;
		memmove(out->data + start, out->data + a, b - a);
		buf_truncate(out, start + (b - a));
	}
	return d.flags;
}

/* ------------------------------------------------------------------ */
/* Content-Type / Content-Disposition                                  */
/* ------------------------------------------------------------------ */

static bool
is_tspecial(int c)
{
	return strchr("()<>@,;:\\\"/[]?=", c) != NULL && c != 0;
}

static bool
is_token(int c)
{
	return ch_is_vchar(c) && !is_tspecial(c);
}

/* skip_cfws - white space and (nested) comments */
static size_t
skip_cfws(const char *p, size_t n, size_t i)
{
	int depth;

	for (;;) {
		while (i < n && ch_is_space((unsigned char)p[i]))
			i++;
		if (i >= n || p[i] != '(')
			return i;
		depth = 0;
		for (; i < n; i++) {
			if (p[i] == '\\' && i + 1 < n) {
				i++;
				continue;
			}
			if (p[i] == '(')
				depth++;
			else if (p[i] == ')' && --depth == 0) {
				i++;
				break;
			}
		}
	}
}

void
mime_ctype(const char *v, size_t n, struct buf *out)
{
	size_t i = skip_cfws(v, n, 0);

	while (i < n && (is_token((unsigned char)v[i]) || v[i] == '/'))
		buf_addc(out, (char)ch_lower((unsigned char)v[i++]));
}

struct param {
	const char *name;
	size_t	 name_len;
	struct buf value;	/* unquoted */
};

/*
 * next_param - parse "; name=value" from i; returns the new position,
 * or n at the end.  Lenient: an unquoted value runs to the next ';'.
 */
static size_t
next_param(const char *v, size_t n, size_t i, struct param *p)
{
	size_t e, k;

	p->name = NULL;
	buf_reset(&p->value);
	while (i < n && v[i] != ';') {
		if (v[i] == '"') {	/* stray quoted text in the type */
			for (i++; i < n && v[i] != '"'; i++)
				if (v[i] == '\\')
					i++;
		}
		i++;
	}
	if (i >= n)
		return n;
	i = skip_cfws(v, n, i + 1);
	p->name = v + i;
	while (i < n && is_token((unsigned char)v[i]))
		i++;
	p->name_len = (size_t)(v + i - p->name);
	i = skip_cfws(v, n, i);
	if (i >= n || v[i] != '=') {
		p->name = NULL;
		return i;
	}
	i = skip_cfws(v, n, i + 1);
	if (i < n && v[i] == '"') {
		for (i++; i < n && v[i] != '"'; i++) {
			if (v[i] == '\\' && i + 1 < n)
				i++;
			if (v[i] != '\r' && v[i] != '\n')
				buf_addc(&p->value, v[i]);
		}
		return i < n ? i + 1 : n;
	}
	/* a token, unless more than a comment follows before ';' */
	e = i;
	while (e < n && is_token((unsigned char)v[e]))
		e++;
	k = skip_cfws(v, n, e);
	if (k < n && v[k] != ';') {
		e = i;
		while (e < n && v[e] != ';')
			e++;
		while (e > i && ch_is_space((unsigned char)v[e - 1]))
			e--;
		k = e;
	}
	buf_add(&p->value, v + i, e - i);
	return k;
}

static void
pct_decode(const char *s, size_t n, struct buf *out)
{
	size_t i;
	int h, l;

	for (i = 0; i < n; i++) {
		if (s[i] == '%' && i + 2 < n &&
		    (h = ch_xdigit_val((unsigned char)s[i + 1])) >= 0 &&
		    (l = ch_xdigit_val((unsigned char)s[i + 2])) >= 0) {
			buf_addc(out, (char)(h << 4 | l));
			i += 2;
		} else
			buf_addc(out, s[i]);
	}
}

/* ext_value - RFC 2231 "charset'lang'%XX" (charset from first segment) */
static void
ext_value(const char *cs, const char *s, size_t n, struct buf *out)
{
	struct buf raw = BUF_INIT;

	pct_decode(s, n, &raw);
	(void)mime_to_utf8(cs, raw.data ? raw.data : "", raw.len, out);
	buf_release(&raw);
}

bool
mime_param(const char *v, size_t n, const char *name, struct buf *out)
{
	struct param p = { NULL, 0, BUF_INIT };
	struct buf seg[MAX_SEGMENTS], plain = BUF_INIT, ext = BUF_INIT;
	bool seg_ext[MAX_SEGMENTS], have_seg = false, have_plain = false;
	bool have_ext = false;
	size_t nl = strlen(name), i = 0, k, nseg = 0;
	char cs[MAX_CHARSET + 1] = "";
	uint64_t idx;
	char num[8];
	bool found = false;

	memset(seg, 0, sizeof(seg));
	memset(seg_ext, 0, sizeof(seg_ext));
	while (i < n) {
		i = next_param(v, n, i, &p);
		if (p.name == NULL || p.name_len < nl ||
		    !str_nieq(p.name, nl, name, nl))
			continue;
		if (p.name_len == nl) {
			if (!have_plain) {
				buf_add(&plain, buf_cstr(&p.value), p.value.len);
				have_plain = true;
			}
		} else if (p.name[nl] != '*') {
			continue;
		} else if (p.name_len == nl + 1) {
			if (!have_ext) {
				buf_add(&ext, buf_cstr(&p.value), p.value.len);
				have_ext = true;
			}
		} else {
			size_t dl = p.name_len - nl - 1;
			bool star = p.name[p.name_len - 1] == '*';

			if (star)
				dl--;
			if (dl == 0 || dl >= sizeof(num))
				continue;
			memcpy(num, p.name + nl + 1, dl);
			num[dl] = '\0';
			if (parse_uint(num, 0, MAX_SEGMENTS - 1, &idx) < 0 ||
			    seg[idx].data != NULL)
				continue;
			buf_add(&seg[idx], buf_cstr(&p.value), p.value.len);
			seg_ext[idx] = star;
			if (idx + 1 > nseg)
				nseg = (size_t)idx + 1;
			have_seg = true;
		}
	}
	if (have_ext || (have_seg && seg[0].data)) {
		struct buf *first = have_ext ? &ext : &seg[0];
		bool first_ext = have_ext || seg_ext[0];
		const char *s = buf_cstr(first), *q1, *q2;
		size_t len = first->len;
		struct buf joined = BUF_INIT;

		if (first_ext && (q1 = memchr(s, '\'', len)) != NULL &&
		    (q2 = memchr(q1 + 1, '\'', len - (size_t)(q1 + 1 - s))) !=
		    NULL) {
			if ((size_t)(q1 - s) < sizeof(cs)) {
				memcpy(cs, s, (size_t)(q1 - s));
				cs[q1 - s] = '\0';
			}
			len -= (size_t)(q2 + 1 - s);
			s = q2 + 1;
		}
		if (first_ext)
			pct_decode(s, len, &joined);
		else
			buf_add(&joined, s, len);
		for (k = 1; !have_ext && k < nseg && seg[k].data; k++) {
			if (seg_ext[k])
				pct_decode(seg[k].data, seg[k].len, &joined);
			else
				buf_add(&joined, seg[k].data, seg[k].len);
		}
		if (cs[0])
			ext_value(cs, buf_cstr(&joined), joined.len, out);
		else
			(void)mime_2047_decode(buf_cstr(&joined), joined.len,
			    out);
		buf_release(&joined);
		found = true;
	} else if (have_plain) {
		(void)mime_2047_decode(buf_cstr(&plain), plain.len, out);
		found = true;
	}
	for (k = 0; k < MAX_SEGMENTS; k++)
		buf_release(&seg[k]);
	buf_release(&plain);
	buf_release(&ext);
	buf_release(&p.value);
	return found;
}
