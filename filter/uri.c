/*
 * uri.c - URIs in text: find, clean, take the host out
 *
 * DESCRIPTION
 *	See uri.h.  The finder looks for the places a mail reader would
 *	make clickable: "scheme://" for http, https and ftp, "mailto:",
 *	and "www." at a word start.  A candidate runs to white space or a
 *	character that cannot appear in a URI written in text (<>"`{}|^
 *	and controls); sentence punctuation at its end is dropped, as is
 *	a closing bracket that has no opening one inside.
 *
 * LIMITS
 *	One pass; after a candidate the scan resumes at its end.  URIs are
 *	cut at URI_MAX_LEN bytes.
 *
 * SECURITY
 *	Input is untrusted text.  uri_host() refuses hosts with characters
 *	that cannot be in a domain name or address, so what it returns can
 *	be put in a DNS query name after dns_name_valid().
 *
 * STANDARDS
 *	RFC 3986 (syntax), RFC 6068 (mailto), WHATWG URL Standard (IPv4
 *	parser: the numeric host forms browsers accept).
 */
#include "config.h"

#include <string.h>
#include <strings.h>

#include "buf.h"
#include "str.h"
#include "uri.h"

static bool
uri_char(unsigned char c)
{
	if (c <= ' ' || c == 0x7f)
		return false;
	return strchr("<>\"`{}|^", c) == NULL;
}

/* uri_end - end of the candidate at s[0..n) after trimming */
static size_t
uri_end(const char *s, size_t n, size_t min)
{
	size_t e = 0, i, po = 0, pc = 0, bo = 0, bc = 0;
	char c;

	while (e < n && uri_char((unsigned char)s[e]))
		e++;
	for (i = 0; i < e; i++) {
		po += s[i] == '(';
		pc += s[i] == ')';
		bo += s[i] == '[';
		bc += s[i] == ']';
	}
	while (e > min) {
		c = s[e - 1];
		if (strchr(".,;:!?'*", c) != NULL)
			e--;
		else if (c == ')' && pc > po) {
			pc--;
			e--;
		} else if (c == ']' && bc > bo) {
			bc--;
			e--;
		} else
			break;
	}
	return e;
}

static bool
word_start(const char *t, size_t i)
{
	unsigned char c;

	if (i == 0)
		return true;
	c = (unsigned char)t[i - 1];
	return !ch_is_alnum(c) && c != '.' && c != '/' && c != '@' &&
	    c != '-' && c != '_' && c < 0x80;
}

/* scheme_at - length of "http"/"https"/"ftp"/"mailto" ending at i (':') */
static size_t
scheme_at(const char *t, size_t i)
{
	static const char *const schemes[] = { "https", "http", "ftp",
	    "mailto" };
	size_t k, l;

	for (k = 0; k < sizeof(schemes) / sizeof(schemes[0]); k++) {
		l = strlen(schemes[k]);
		if (i >= l && strncasecmp(t + i - l, schemes[k], l) == 0 &&
		    word_start(t, i - l))
			return l;
	}
	return 0;
}

void
uri_extract(const char *t, size_t n, uri_fn *fn, void *arg)
{
	size_t i = 0, s, l, e;

	while (i < n) {
		unsigned char c = (unsigned char)t[i];

		if (c == ':' && (l = scheme_at(t, i)) > 0) {
			s = i - l;
			if (l == 6) {		/* mailto: needs an address */
				e = uri_end(t + s, n - s, l + 1);
				if (e > l + 1 && memchr(t + s, '@', e))
					fn(arg, t + s, e > URI_MAX_LEN ?
					    URI_MAX_LEN : e);
			} else if (i + 2 < n && t[i + 1] == '/' &&
			    t[i + 2] == '/') {
				e = uri_end(t + s, n - s, l + 3);
				if (e > l + 3)
					fn(arg, t + s, e > URI_MAX_LEN ?
					    URI_MAX_LEN : e);
			} else {
				i++;
				continue;
			}
			/* resume after the whole run, even past the cap */
			i = s + (e > l + 1 ? e : l + 1);
			continue;
		}
		if ((c == 'w' || c == 'W') && i + 4 < n &&
		    strncasecmp(t + i, "www.", 4) == 0 && word_start(t, i) &&
		    ch_is_alnum((unsigned char)t[i + 4])) {
			e = uri_end(t + i, n - i, 4);
			if (e > 5 && memchr(t + i + 5, '.', e - 5))
				fn(arg, t + i, e > URI_MAX_LEN ?
				    URI_MAX_LEN : e);
			i += e > 4 ? e : 4;
			continue;
		}
		i++;
	}
}

static const char *const kept_schemes[] = { "http", "https", "ftp",
    "mailto" };

bool
uri_clean(const char *in, size_t len, struct buf *out)
{
	size_t a = 0, b = len, i, sl, start = out->len;
	bool scheme_ok = false;

	while (a < b && (unsigned char)in[a] <= ' ')
		a++;
	while (b > a && (unsigned char)in[b - 1] <= ' ')
		b--;
	if (a == b || in[a] == '#')
		return false;
	for (i = a; i < b && (ch_is_alnum((unsigned char)in[i]) ||
	    in[i] == '+' || in[i] == '-' || in[i] == '.'); i++)
		;
	if (i < b && in[i] == ':' && i > a && ch_is_alpha((unsigned char)in[a])) {
		sl = i - a;
		for (size_t k = 0; k < sizeof(kept_schemes) /
		    sizeof(kept_schemes[0]); k++)
			if (str_nieq(in + a, sl, kept_schemes[k],
			    strlen(kept_schemes[k])))
				scheme_ok = true;
		if (!scheme_ok)
			return false;
		for (i = a; i < a + sl; i++)
			buf_addc(out, (char)ch_lower((unsigned char)in[i]));
		a += sl;
	} else if (b - a > 4 && strncasecmp(in + a, "www.", 4) == 0) {
		buf_adds(out, "http://");
	} else if (b - a > 2 && in[a] == '/' && in[a + 1] == '/' &&
	    ch_is_alnum((unsigned char)in[a + 2])) {
		buf_adds(out, "http:");
	} else
		return false;
	/* browsers read "http:\\host" as "http://host" */
	for (i = a; i < b && out->len - start < URI_MAX_LEN; i++) {
		char c = in[i];

		if (c == '\r' || c == '\n' || c == '\t')
			continue;
		if (c == '\\' && i < a + 3)
			c = '/';
		buf_addc(out, c);
	}
	return true;
}

/* host_chars - decode %XX, lower case, check; false if not a host */
static bool
host_chars(const char *s, size_t n, struct buf *out)
{
	size_t i, start = out->len;
	int h, l;
	unsigned char c;

	for (i = 0; i < n; i++) {
		c = (unsigned char)s[i];
		if (c == '%' && i + 2 < n && (h = ch_xdigit_val((unsigned char)s[i + 1]))
		    >= 0 && (l = ch_xdigit_val((unsigned char)s[i + 2])) >= 0) {
			c = (unsigned char)(h << 4 | l);
			i += 2;
		}
		if (!(ch_is_alnum(c) || c == '-' || c == '.' || c == '_' ||
		    c == ':' || c >= 0x80)) {
			buf_truncate(out, start);
			return false;
		}
		buf_addc(out, (char)ch_lower(c));
	}
	n = out->len;
	while (n > start && out->data[n - 1] == '.')
		n--;
	buf_truncate(out, n);
	i = start;
	while (i < out->len && out->data[i] == '.')
		i++;
	if (i > start) {
		memmove(out->data + start, out->data + i, out->len - i);
		buf_truncate(out, out->len - (i - start));
	}
	if (out->len == start)
		return false;
	return true;
}

bool
uri_host(const char *u, size_t n, struct buf *out)
{
	size_t i, a, b, at;
	const char *p;

	if (n > 7 && strncasecmp(u, "mailto:", 7) == 0) {
		for (b = 7; b < n && u[b] != '?'; b++)
			;
		p = NULL;
		for (i = 7; i < b; i++)
			if (u[i] == '@')
				p = u + i;
		if (p == NULL)
			return false;
		a = (size_t)(p - u) + 1;
		/* "a@b.example,c@d.example": the first address */
		for (i = a; i < b && u[i] != ',' && u[i] != '>'; i++)
			;
		return host_chars(u + a, i - a, out);
	}
	p = memchr(u, ':', n);
	if (p == NULL || (size_t)(p - u) + 3 > n || p[1] != '/' || p[2] != '/')
		return false;
	a = (size_t)(p - u) + 3;
	for (b = a; b < n && u[b] != '/' && u[b] != '?' && u[b] != '#' &&
	    u[b] != '\\'; b++)
		;
	at = a;
	for (i = a; i < b; i++)
		if (u[i] == '@')
			at = i + 1;
	a = at;
	if (a < b && u[a] == '[') {
		for (i = a; i < b && u[i] != ']'; i++)
			;
		if (i == b)
			return false;
		return host_chars(u + a + 1, i - a - 1, out);
	}
	for (i = a; i < b && u[i] != ':'; i++)
		;
	return host_chars(u + a, i - a, out);
}

/* ipv4_part - one dot-separated part: decimal, 0x hex or 0 octal */
static bool
ipv4_part(const char *s, size_t n, uint64_t *v, bool *plain)
{
	unsigned base = 10;
	uint64_t x = 0;
	size_t i = 0;

	if (n >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		i = 2;
		*plain = false;
	} else if (n >= 2 && s[0] == '0') {
		base = 8;
		i = 1;
		*plain = false;
	}
	for (; i < n; i++) {
		unsigned d;

		if (s[i] >= '0' && s[i] <= '9')
			d = (unsigned)(s[i] - '0');
		else if (base == 16 && s[i] >= 'a' && s[i] <= 'f')
			d = (unsigned)(s[i] - 'a') + 10;
		else if (base == 16 && s[i] >= 'A' && s[i] <= 'F')
			d = (unsigned)(s[i] - 'A') + 10;
		else
			return false;
		if (d >= base)
			return false;
		x = x * base + d;
		if (x > 0xffffffffu)
			return false;
	}
	*v = x;
	return true;
}

/*
 * uri_host_ipv4 - the WHATWG IPv4 parser: one to four parts, the last
 * one filling the bytes the others left; a host whose last part is not
 * a number is a domain name.  A trailing dot is already gone (uri_host).
 */
bool
uri_host_ipv4(const char *h, uint32_t *addr, bool *plain)
{
	uint64_t part[4], v;
	size_t n = 0, i, len;
	const char *p = h, *dot;

	*plain = true;
	if (h == NULL || *h == '\0')
		return false;
	for (;;) {
		dot = strchr(p, '.');
		len = dot ? (size_t)(dot - p) : strlen(p);
		if (len == 0 || n == 4 || !ipv4_part(p, len, &part[n], plain))
			return false;
		n++;
		if (dot == NULL)
			break;
		p = dot + 1;
	}
	for (i = 0; i + 1 < n; i++)
		if (part[i] > 255)
			return false;
	if (part[n - 1] >= (uint64_t)1 << (8 * (5 - n)))
		return false;
	v = part[n - 1];
	for (i = 0; i + 1 < n; i++)
		v += part[i] << (8 * (3 - i));
	if (n != 4)
		*plain = false;
	*addr = (uint32_t)v;
	return true;
}
