/*
 * json.c - JSON string escaping and numbers
 *
 * STANDARDS
 *	RFC 8259.
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "buf.h"
#include "json.h"
#include "str.h"

void
json_str(struct buf *out, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	buf_reserve(out, n + 2);
	buf_addc(out, '"');
	while (i < n) {
		unsigned char c = p[i];
		uint32_t cp;
		int k;

		if (c >= 0x80) {
			k = utf8_next(p + i, n - i, &cp);
			if (k > 0) {
				buf_add(out, p + i, (size_t)k);
				i += (size_t)k;
			} else {
				buf_add(out, "\xef\xbf\xbd", 3);
				i += (size_t)-k;
			}
			continue;
		}
		i++;
		switch (c) {
		case '"': buf_add(out, "\\\"", 2); break;
		case '\\': buf_add(out, "\\\\", 2); break;
		case '\n': buf_add(out, "\\n", 2); break;
		case '\r': buf_add(out, "\\r", 2); break;
		case '\t': buf_add(out, "\\t", 2); break;
		default:
			if (c < 0x20 || c == 0x7f) {
				char e[6] = { '\\', 'u', '0', '0', hex[c >> 4],
				    hex[c & 15] };
				buf_add(out, e, 6);
			} else
				buf_addc(out, (char)c);
		}
	}
	buf_addc(out, '"');
}

void
json_cstr(struct buf *out, const char *s)
{
	if (s == NULL)
		buf_add(out, "null", 4);
	else
		json_str(out, s, strlen(s));
}

void
json_num(struct buf *out, double v)
{
	if (!isfinite(v))
		buf_add(out, "null", 4);
	else if (v == floor(v) && fabs(v) < 1e15)
		buf_printf(out, "%.1f", v);
	else
		buf_printf(out, "%.6g", v);
}

void
json_key(struct buf *out, const char *key, int first)
{
	if (!first)
		buf_addc(out, ',');
	json_cstr(out, key);
	buf_addc(out, ':');
}
