/*
 * hdr.c - header field helpers (unfolding, name syntax, A-R authserv-id)
 *
 * STANDARDS
 *	RFC 5322 2.2 (field syntax), 2.2.3 (unfolding); RFC 8601 2.2.
 */
#include "config.h"

#include <string.h>

#include "buf.h"
#include "hdr.h"
#include "str.h"

void
hdr_unfold(const char *v, size_t n, struct buf *out)
{
	size_t i = 0, start = out->len;

	while (i < n && ch_is_space((unsigned char)v[i]))
		i++;
	for (; i < n; i++) {
		unsigned char c = (unsigned char)v[i];

		if (c == '\r' && i + 1 < n && v[i + 1] == '\n') {
			i++;		/* CRLF: drop, the WSP that follows stays */
			continue;
		}
		if (c == '\r' || c == '\n' || c == '\0')
			c = ' ';
		buf_addc(out, (char)c);
	}
	while (out->len > start && ch_is_space((unsigned char)out->data[out->len - 1]))
		buf_truncate(out, out->len - 1);
}

bool
hdr_name_valid(const char *name, size_t len)
{
	size_t i;

	if (len == 0)
		return false;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c < 33 || c > 126 || c == ':')
			return false;
	}
	return true;
}

/* skip_cfws - skip white space and (nested) comments; returns new index */
static size_t
skip_cfws(const char *v, size_t n, size_t i)
{
	int depth = 0;

	for (; i < n; i++) {
		char c = v[i];

		if (depth > 0) {
			if (c == '\\' && i + 1 < n)
				i++;
			else if (c == '(')
				depth++;
			else if (c == ')')
				depth--;
			continue;
		}
		if (c == '(')
			depth++;
		else if (!ch_is_space((unsigned char)c))
			break;
	}
	return i;
}

int
hdr_authres_id(const char *v, size_t n, struct buf *out)
{
	size_t i = skip_cfws(v, n, 0), start;

	buf_reset(out);
	if (i < n && v[i] == '"') {
		/* quoted-string authserv-id (value = token / quoted-string) */
		for (i++; i < n && v[i] != '"'; i++) {
			if (v[i] == '\\' && i + 1 < n)
				i++;
			buf_addc(out, v[i]);
		}
		return out->len ? 0 : -1;
	}
	start = i;
	while (i < n && v[i] != ';' && v[i] != '(' &&
	    !ch_is_space((unsigned char)v[i]))
		i++;
	if (i == start)
		return -1;
	buf_add(out, v + start, i - start);
	return 0;
}

/* id_len - length of an authserv-id without one trailing dot */
static size_t
id_len(const char *s)
{
	size_t n = strlen(s);

	return n > 1 && s[n - 1] == '.' ? n - 1 : n;
}

bool
hdr_authres_id_eq(const char *a, const char *b)
{
	size_t na = id_len(a), nb = id_len(b);

	return na > 0 && str_nieq(a, na, b, nb);
}

void
hdr_fold_words(struct buf *out, const char *const *words, size_t n,
    const char *sep, size_t first_col, size_t width)
{
	size_t i, col = first_col, seplen = strlen(sep);

	for (i = 0; i < n; i++) {
		size_t wl = strlen(words[i]);

		if (i > 0) {
			buf_adds(out, sep);
			col += seplen;
			if (col + wl > width) {
				/* drop trailing blanks of the separator */
				while (out->len && out->data[out->len - 1] == ' ')
					buf_truncate(out, out->len - 1);
				buf_adds(out, "\n\t");
				col = 8;
			}
		}
		buf_add(out, words[i], wl);
		col += wl;
	}
}
