/*
 * str.c - character classes, bounded number parsing, escaping, UTF-8
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "str.h"

int
parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	const char *p = s;

	if (s == NULL || !ch_is_digit((unsigned char)*p))
		return -1;
	for (; ch_is_digit((unsigned char)*p); p++) {
		unsigned d = (unsigned)(*p - '0');

		if (v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	if (*p != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int
parse_double(const char *s, double min, double max, double *out)
{
	char *end;
	double v;

	if (s == NULL || *s == '\0' || ch_is_space((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || *end != '\0' || !isfinite(v) || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int
parse_size(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	char num[32];
	size_t n = strlen(s);
	uint64_t mult = 1, v;

	if (n == 0 || n >= sizeof(num))
		return -1;
	memcpy(num, s, n + 1);
	switch (ch_lower((unsigned char)num[n - 1])) {
	case 'k': mult = 1024ULL; break;
	case 'm': mult = 1024ULL * 1024; break;
	case 'g': mult = 1024ULL * 1024 * 1024; break;
	default: break;
	}
	if (mult != 1)
		num[n - 1] = '\0';
	if (parse_uint(num, 0, UINT64_MAX / mult, &v) < 0)
		return -1;
	v *= mult;
	if (v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int
parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };
	size_t i;

	for (i = 0; i < 4; i++) {
		if (str_ieq(s, yes[i])) {
			*out = true;
			return 0;
		}
		if (str_ieq(s, no[i])) {
			*out = false;
			return 0;
		}
	}
	return -1;
}

bool
str_ieq(const char *a, const char *b)
{
	for (; *a && *b; a++, b++)
		if (ch_lower((unsigned char)*a) != ch_lower((unsigned char)*b))
			return false;
	return *a == *b;
}

bool
str_nieq(const char *a, size_t alen, const char *b, size_t blen)
{
	size_t i;

	if (alen != blen)
		return false;
	for (i = 0; i < alen; i++)
		if (ch_lower((unsigned char)a[i]) != ch_lower((unsigned char)b[i]))
			return false;
	return true;
}

bool
str_has_iprefix(const char *s, const char *prefix)
{
	for (; *prefix; s++, prefix++)
		if (ch_lower((unsigned char)*s) != ch_lower((unsigned char)*prefix))
			return false;
	return true;
}

void
str_lower(char *s)
{
	for (; *s; s++)
		*s = (char)ch_lower((unsigned char)*s);
}

#define SUGGEST_MAX_LEN	64

/* edit_distance - optimal string alignment distance, case-insensitive */
static size_t
edit_distance(const char *a, size_t la, const char *b, size_t lb)
{
	unsigned char d[SUGGEST_MAX_LEN + 1][SUGGEST_MAX_LEN + 1];
	size_t i, j, v;

	for (i = 0; i <= la; i++)
		d[i][0] = (unsigned char)i;
	for (j = 0; j <= lb; j++)
		d[0][j] = (unsigned char)j;
	for (i = 1; i <= la; i++)
		for (j = 1; j <= lb; j++) {
			v = d[i - 1][j - 1] + (ch_lower((unsigned char)a[i - 1]) !=
			    ch_lower((unsigned char)b[j - 1]));
			if ((size_t)d[i - 1][j] + 1 < v)
				v = (size_t)d[i - 1][j] + 1;
			if ((size_t)d[i][j - 1] + 1 < v)
				v = (size_t)d[i][j - 1] + 1;
			if (i > 1 && j > 1 &&
			    ch_lower((unsigned char)a[i - 1]) ==
			    ch_lower((unsigned char)b[j - 2]) &&
			    ch_lower((unsigned char)a[i - 2]) ==
			    ch_lower((unsigned char)b[j - 1]) &&
			    (size_t)d[i - 2][j - 2] + 1 < v)
				v = (size_t)d[i - 2][j - 2] + 1;
			d[i][j] = (unsigned char)v;
		}
	return d[la][lb];
}

const char *
str_suggest(const char *word, const char *(*get)(size_t, void *), size_t n,
    void *arg)
{
	size_t lw = strlen(word), lc, i, dist, best = 3;
	const char *c, *found = NULL;
	bool tie = false;

	if (lw > SUGGEST_MAX_LEN)
		return NULL;
	for (i = 0; i < n; i++) {
		if ((c = get(i, arg)) == NULL ||
		    (lc = strlen(c)) > SUGGEST_MAX_LEN ||
		    lc > lw + 2 || lw > lc + 2)	/* over 2 edits apart */
			continue;
		dist = edit_distance(word, lw, c, lc);
		if (dist == 0 || dist * 4 > lw || dist > best)
			continue;
		if (dist == best && found && strcmp(found, c) != 0)
			tie = true;
		else if (dist < best) {
			best = dist;
			found = c;
			tie = false;
		}
	}
	return tie ? NULL : found;
}

char *
str_trim(char *s)
{
	char *e;

	while (ch_is_space((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && ch_is_space((unsigned char)e[-1]))
		e--;
	*e = '\0';
	return s;
}

void
str_escape(struct buf *out, const void *vp, size_t n, size_t max)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = vp;
	size_t i, lim = n < max ? n : max;

	for (i = 0; i < lim; i++) {
		unsigned char c = p[i];

		if (c >= 32 && c < 127 && c != '\\') {
			buf_addc(out, (char)c);
		} else if (c == '\\') {
			buf_add(out, "\\\\", 2);
		} else {
			char e[4] = { '\\', 'x', hex[c >> 4], hex[c & 15] };
			buf_add(out, e, 4);
		}
	}
	if (lim < n)
		buf_add(out, "...", 3);
}

int
utf8_next(const unsigned char *p, size_t n, uint32_t *cp)
{
	uint32_t c;
	size_t need, i;

	if (n == 0) {
		*cp = 0xFFFD;
		return -1;
	}
	c = p[0];
	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xC2 && c <= 0xDF) {
		need = 1;
		c &= 0x1F;
	} else if (c >= 0xE0 && c <= 0xEF) {
		need = 2;
		c &= 0x0F;
	} else if (c >= 0xF0 && c <= 0xF4) {
		need = 3;
		c &= 0x07;
	} else {
		*cp = 0xFFFD;
		return -1;
	}
	for (i = 1; i <= need; i++) {
		if (i >= n || (p[i] & 0xC0) != 0x80) {
			*cp = 0xFFFD;
			return -(int)i;
		}
		c = (c << 6) | (p[i] & 0x3F);
	}
	/* overlong forms, surrogates, beyond U+10FFFF */
	if ((need == 2 && c < 0x800) || (need == 3 && c < 0x10000) ||
	    (c >= 0xD800 && c <= 0xDFFF) || c > 0x10FFFF) {
		*cp = 0xFFFD;
		return -1;
	}
	*cp = c;
	return (int)need + 1;
}

bool
utf8_valid(const void *vp, size_t n)
{
	const unsigned char *p = vp;
	uint32_t cp;

	while (n > 0) {
		int k = utf8_next(p, n, &cp);

		if (k < 0)
			return false;
		p += k;
		n -= (size_t)k;
	}
	return true;
}

void
fmt_rfc3339(struct buf *out, int64_t sec, long usec)
{
	struct tm tm;
	time_t t = (time_t)sec;

	gmtime_r(&t, &tm);
	buf_printf(out, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, usec / 1000);
}
