/*
 * fuzz_rfc2047.c - encoded words, header parameters, charset conversion
 *
 * The input is one header value: decoded as RFC 2047 text, searched for
 * RFC 2045/2231 parameters, and (first byte choosing a charset) converted
 * to UTF-8; every output must be valid UTF-8.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>

#include "buf.h"
#include "mime.h"
#include "str.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const char *const charsets[] = {
	NULL, "utf-8", "iso-8859-1", "koi8-r", "shift_jis", "utf-7",
	"utf-16", "iso-2022-jp", "gb2312", "x-bogus", "big5", "euc-kr",
	"windows-1251", "us-ascii", "utf-32", "iso-8859-8-i",
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	struct buf out = BUF_INIT;

	(void)mime_2047_decode(s, size, &out);
	if (!utf8_valid(out.data ? out.data : "", out.len))
		abort();
	buf_reset(&out);
	mime_ctype(s, size, &out);
	buf_reset(&out);
	(void)mime_param(s, size, "name", &out);
	if (!utf8_valid(out.data ? out.data : "", out.len))
		abort();
	buf_reset(&out);
	(void)mime_param(s, size, "boundary", &out);
	buf_reset(&out);
	if (size > 0) {
		(void)mime_to_utf8(charsets[data[0] % (sizeof(charsets) /
		    sizeof(charsets[0]))], s + 1, size - 1, &out);
		if (!utf8_valid(out.data ? out.data : "", out.len))
			abort();
	}
	buf_release(&out);
	return 0;
}
