/*
 * fuzz_dkim_canon.c - body and header canonicalisation
 *
 * Input: byte 0 picks simple or relaxed, byte 1 a cut position; the
 * rest is a body.  The body canonicalised in one piece, in two pieces
 * split at the cut, and byte by byte must give the same bytes, and the
 * output must obey the canonical form (relaxed: no WSP before CRLF, no
 * WSP runs; both: ends in CRLF unless empty, no trailing empty line
 * except simple's lone CRLF).  The same bytes also go through header
 * canonicalisation as a field value.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "dkim_int.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
capture(void *arg, const unsigned char *p, size_t n)
{
	buf_add(arg, p, n);
}

static void
run(enum dkim_canon mode, const uint8_t *p, size_t n, size_t cut,
    size_t step, struct buf *out)
{
	static struct dkim_body b;
	size_t off, take;

	dkim_body_init(&b, mode, capture, out);
	if (step == 0) {
		dkim_body_update(&b, p, cut);
		dkim_body_update(&b, p + cut, n - cut);
	} else
		for (off = 0; off < n; off += take) {
			take = n - off < step ? n - off : step;
			dkim_body_update(&b, p + off, take);
		}
	dkim_body_final(&b);
	if (b.total != out->len)
		abort();
}

/* check_form - properties every canonical body has */
static void
check_form(enum dkim_canon mode, const struct buf *o)
{
	size_t i;

	if (o->len == 0) {
		if (mode == DKIM_CANON_SIMPLE)
			abort();	/* simple: at least CRLF */
		return;
	}
	if (o->len < 2 || memcmp(o->data + o->len - 2, "\r\n", 2) != 0)
		abort();
	if (o->len >= 4 && memcmp(o->data + o->len - 4, "\r\n\r\n", 4) == 0)
		abort();		/* trailing empty line kept */
	if (mode == DKIM_CANON_SIMPLE)
		return;
	for (i = 0; i + 1 < o->len; i++) {
		if ((o->data[i] == ' ' || o->data[i] == '\t') &&
		    o->data[i + 1] == '\r' && i + 2 < o->len &&
		    o->data[i + 2] == '\n')
			abort();	/* WSP at end of line */
		if (o->data[i] == '\t' || (o->data[i] == ' ' &&
		    o->data[i + 1] == ' '))
			abort();	/* WSP not reduced */
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf a = BUF_INIT, b = BUF_INIT, c = BUF_INIT, h = BUF_INIT;
	enum dkim_canon mode;
	size_t cut;

	if (size < 2)
		return 0;
	mode = data[0] & 1 ? DKIM_CANON_RELAXED : DKIM_CANON_SIMPLE;
	cut = size > 2 ? data[1] % (size - 2 + 1) : 0;
	data += 2;
	size -= 2;
	run(mode, data, size, 0, size ? size : 1, &a);
	run(mode, data, size, cut, 0, &b);
	run(mode, data, size, 0, 1, &c);
	if (a.len != b.len || a.len != c.len ||
	    (a.len && (memcmp(a.data, b.data, a.len) != 0 ||
	    memcmp(a.data, c.data, a.len) != 0)))
		abort();
	check_form(mode, &a);
	dkim_canon_header(mode, "Subject", 7, (const char *)data, size, &h);
	if (mode == DKIM_CANON_RELAXED && h.len > 8 &&
	    (h.data[h.len - 1] == ' ' || h.data[8] == ' '))
		abort();		/* no WSP at either end of the value */
	buf_release(&a);
	buf_release(&b);
	buf_release(&c);
	buf_release(&h);
	return 0;
}
