/*
 * fuzz_html.c - HTML to text, and the URI finder over what it yields;
 * SpamAssassin's facts of the same HTML (html_sa), whose counts must
 * stay consistent: known elements and first-seen names never outnumber
 * the tags, every ratio SpamAssassin defines lies in [0, 1]
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "html.h"
#include "html_sa.h"
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

static void
sa_check(const uint8_t *data, size_t size)
{
	static const char *const ratios[] = { "closed_extra_ratio",
	    "bad_tag_ratio", "non_element_ratio" };
	struct html_sa sa;
	size_t i;
	double v;

	html_sa_parse((const char *)data, size, &sa);
	if (sa.elements > sa.tags || sa.tags_seen > sa.tags ||
	    sa.elements_seen > sa.elements || sa.closed_extra > sa.tags ||
	    sa.ninside > HTML_SA_MAX_NAMES || sa.non_space_len >
	    sa.html_length || sa.comment.n > HTML_SA_MAX_STRINGS)
		abort();
	for (i = 0; i < sizeof(ratios) / sizeof(ratios[0]); i++)
		if (html_sa_value(&sa, ratios[i], &v) && (v < 0 || v > 1))
			abort();
	html_sa_free(&sa);
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
	sa_check(data, size);
	return 0;
}
