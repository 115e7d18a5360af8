/*
 * spf_macro.c - SPF macro expansion (RFC 7208 section 7)
 *
 * DESCRIPTION
 *	spf_macro_expand() expands a macro-string: literals, "%%", "%_",
 *	"%-" and "%{" letter [digits] ["r"] *delimiter "}".  Letters s l o d
 *	i p v h anywhere; c r t only in explanation text (SPF_MACRO_EXP).
 *	The value is split at the delimiters (default "."), reversed with
 *	"r", cut to the rightmost N parts with a digit transformer, joined
 *	with dots, and URL-escaped when the letter is upper case (7.3).
 *
 *	"i" of an IPv6 address is its 32 nibbles, dotted, in upper case
 *	hexadecimal (DNS does not care; the RFC 7208 test suite's expected
 *	explanations do).  "c" is the address in its usual text form.
 *	"p" comes from ctx->validated, which does the DNS work (spf.c);
 *	this file does none.
 *
 * SECURITY
 *	Expands untrusted record text with untrusted envelope values.
 *	Output is capped at SPF_MACRO_MAX_OUT bytes; a digit transformer
 *	beyond the number of parts is harmless; the value 0 is an error.
 */
#include "config.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "buf.h"
#include "spf.h"
#include "str.h"

static const char delimiters[] = ".-+,/_=";
static const char hexdig[] = "0123456789ABCDEF";

void
spf_ip_macro(const struct netaddr *ip, struct buf *out)
{
	size_t i;

	if (ip->family == AF_INET) {
		buf_printf(out, "%u.%u.%u.%u", ip->a[0], ip->a[1], ip->a[2],
		    ip->a[3]);
		return;
	}
	for (i = 0; i < 16; i++) {
		if (i)
			buf_addc(out, '.');
		buf_addc(out, hexdig[ip->a[i] >> 4]);
		buf_addc(out, '.');
		buf_addc(out, hexdig[ip->a[i] & 15]);
	}
}

void
spf_reverse_name(const struct netaddr *ip, struct buf *out)
{
	int i;

	if (ip->family == AF_INET) {
		buf_printf(out, "%u.%u.%u.%u.in-addr.arpa", ip->a[3], ip->a[2],
		    ip->a[1], ip->a[0]);
		return;
	}
	for (i = 15; i >= 0; i--) {
		buf_addc(out, hexdig[ip->a[i] & 15]);
		buf_addc(out, '.');
		buf_addc(out, hexdig[ip->a[i] >> 4]);
		buf_addc(out, '.');
	}
	buf_adds(out, "ip6.arpa");
}

/* letter_value - the raw value of a macro letter (lower case) */
static void
letter_value(int letter, const struct spf_macro_ctx *ctx, struct buf *v)
{
	char text[NETADDR_STRLEN];

	switch (letter) {
	case 's': buf_adds(v, ctx->sender ? ctx->sender : ""); break;
	case 'l': buf_adds(v, ctx->local ? ctx->local : ""); break;
	case 'o': buf_adds(v, ctx->sender_domain ? ctx->sender_domain : "");
		break;
	case 'd': buf_adds(v, ctx->domain ? ctx->domain : ""); break;
	case 'i':
		if (ctx->ip)
			spf_ip_macro(ctx->ip, v);
		break;
	case 'p':
		if (ctx->validated && ctx->ip)
			ctx->validated(ctx->arg, ctx->domain ? ctx->domain : "",
			    v);
		else
			buf_adds(v, "unknown");
		break;
	case 'v':
		buf_adds(v, ctx->ip && ctx->ip->family == AF_INET6 ? "ip6" :
		    "in-addr");
		break;
	case 'h': buf_adds(v, ctx->helo ? ctx->helo : "unknown"); break;
	case 'c':
		if (ctx->ip) {
			netaddr_format(ctx->ip, text, sizeof(text));
			buf_adds(v, text);
		}
		break;
	case 'r': buf_adds(v, ctx->receiver ? ctx->receiver : "unknown");
		break;
	case 't': buf_printf(v, "%lld", (long long)ctx->now); break;
	}
}

/*
 * transform - split v at delims, reverse if asked, keep the rightmost
 * keep parts (0: all), join with dots into out
 */
static void
transform(const struct buf *v, const char *delims, bool reverse,
    unsigned keep, struct buf *out)
{
	const char *p = buf_cstr(v), *end = p + v->len;
	const char **part;
	size_t *plen, n = 1, i, first, k;

	for (i = 0; i < v->len; i++)
		if (strchr(delims, p[i]))
			n++;
	part = xcalloc(n, sizeof(*part));
	plen = xcalloc(n, sizeof(*plen));
	for (k = 0; k < n; k++) {
		const char *q = p;

		while (q < end && !strchr(delims, *q))
			q++;
		part[k] = p;
		plen[k] = (size_t)(q - p);
		p = q + 1;
	}
	if (reverse)
		for (i = 0; i < n / 2; i++) {
			const char *tp = part[i];
			size_t tl = plen[i];

			part[i] = part[n - 1 - i];
			plen[i] = plen[n - 1 - i];
			part[n - 1 - i] = tp;
			plen[n - 1 - i] = tl;
		}
	first = keep > 0 && keep < n ? n - keep : 0;
	for (i = first; i < n; i++) {
		if (i > first)
			buf_addc(out, '.');
		buf_add(out, part[i], plen[i]);
	}
	free(part);
	free(plen);
}

/* url_escape - RFC 3986 unreserved kept, everything else %XX */
static void
url_escape(const struct buf *in, struct buf *out)
{
	size_t i;

	for (i = 0; i < in->len; i++) {
		unsigned char c = (unsigned char)in->data[i];

		if (ch_is_alnum(c) || c == '-' || c == '.' || c == '_' ||
		    c == '~')
			buf_addc(out, (char)c);
		else {
			buf_addc(out, '%');
			buf_addc(out, hexdig[c >> 4]);
			buf_addc(out, hexdig[c & 15]);
		}
	}
}

/*
 * expand_one - "%{...}" at s[0..len): returns the bytes consumed, or 0
 * with why set
 */
static size_t
expand_one(const char *s, size_t len, const struct spf_macro_ctx *ctx,
    unsigned flags, struct buf *out, struct buf *why)
{
	char delims[sizeof(delimiters)];
	size_t i = 2, nd = 0;
	unsigned keep = 0, digits = 0;
	bool reverse = false, upper;
	int letter;
	struct buf v = BUF_INIT, t = BUF_INIT;

	if (i >= len || s[i] == '\0' ||
	    !strchr("slodiphcrtv", ch_lower((unsigned char)s[i]))) {
		buf_adds(why, "unknown macro letter");
		return 0;
	}
	upper = s[i] >= 'A' && s[i] <= 'Z';
	letter = ch_lower((unsigned char)s[i++]);
	if (strchr("crt", letter) && !(flags & SPF_MACRO_EXP)) {
		buf_printf(why, "macro %%{%c} is only allowed in explanations",
		    letter);
		return 0;
	}
	while (i < len && ch_is_digit((unsigned char)s[i])) {
		if (keep < 100000)
			keep = keep * 10 + (unsigned)(s[i] - '0');
		digits++;
		i++;
	}
	if (digits && keep == 0) {
		buf_adds(why, "macro transformer 0 is not allowed");
		return 0;
	}
	if (i < len && (s[i] == 'r' || s[i] == 'R')) {
		reverse = true;
		i++;
	}
	while (i < len && s[i] != '\0' && strchr(delimiters, s[i])) {
		if (!memchr(delims, s[i], nd))
			delims[nd++] = s[i];
		i++;
	}
	delims[nd] = '\0';
	if (i >= len || s[i] != '}') {
		buf_adds(why, "unterminated or malformed macro");
		return 0;
	}
	i++;
	if (ctx == NULL)
		return i;
	letter_value(letter, ctx, &v);
	transform(&v, nd ? delims : ".", reverse, keep, &t);
	if (upper)
		url_escape(&t, out);
	else
		buf_add(out, t.data ? t.data : "", t.len);
	buf_release(&v);
	buf_release(&t);
	return i;
}

int
spf_macro_expand(const char *s, size_t len, const struct spf_macro_ctx *ctx,
    unsigned flags, struct buf *out, struct buf *why)
{
	size_t i = 0, n, start = out ? out->len : 0;
	unsigned char c;

	if (out == NULL)
		ctx = NULL;	/* syntax check only */

	while (i < len) {
		c = (unsigned char)s[i];
		if (c != '%') {
			/* macro-literal, and SP in explanation text */
			if (!((c >= 0x21 && c <= 0x7e) ||
			    (c == ' ' && (flags & SPF_MACRO_EXP)))) {
				buf_printf(why, "character 0x%02x not allowed",
				    c);
				return -1;
			}
			if (ctx)
				buf_addc(out, (char)c);
			i++;
		} else if (i + 1 < len && (s[i + 1] == '%' || s[i + 1] == '_' ||
		    s[i + 1] == '-')) {
			if (ctx)
				buf_adds(out, s[i + 1] == '%' ? "%" :
				    s[i + 1] == '_' ? " " : "%20");
			i += 2;
		} else if (i + 1 < len && s[i + 1] == '{') {
			if ((n = expand_one(s + i, len - i, ctx, flags, out,
			    why)) == 0)
				return -1;
			i += n;
		} else {
			buf_adds(why, i + 1 < len ? "'%' not followed by {, %, _"
			    " or -" : "'%' at the end");
			return -1;
		}
		if (out && out->len - start > SPF_MACRO_MAX_OUT) {
			buf_adds(why, "macro expansion too long");
			return -1;
		}
	}
	return 0;
}
