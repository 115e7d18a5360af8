/*
 * fuzz_html.c - HTML to text, and the URI finder over what it yields
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "html.h"
#include "mime.h"
#include "uri.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
on_text_uri(void *arg, const char *u, size_t n)
{
	struct buf c = BUF_INIT, h = BUF_INIT;

	(void)arg;
	if (uri_clean(u, n, &c))
		(void)uri_host(c.data, c.len, &h);
	buf_release(&c);
	buf_release(&h);
}

static void
on_uri(void *arg, const char *u, size_t n, enum mime_uri_src src,
    const char *anchor, size_t alen)
{
	(void)src;
	(void)anchor;
	if (alen > HTML_MAX_ANCHOR)
		abort();
	on_text_uri(arg, u, n);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf text = BUF_INIT, inv = BUF_INIT;
	struct mime_html_stats st;
	struct html_out o = { &text, &inv, &st, 1 << 20, on_uri, NULL };

	memset(&st, 0, sizeof(st));
	(void)html_to_text((const char *)data, size, &o);
	if (text.len + inv.len > o.max_text)
		abort();
	uri_extract(text.data ? text.data : "", text.len, on_text_uri, NULL);
	uri_extract((const char *)data, size, on_text_uri, NULL);
	buf_release(&text);
	buf_release(&inv);
	return 0;
}
