/*
 * fuzz_dmarc_failure.c - failure reports built from hostile header fields
 *
 * The input is header fields separated by NUL bytes ("Name:value", the
 * value may hold CR, LF and anything else); the first one is also the
 * envelope sender.  Checked: the report has no CR and no NUL, exactly
 * its own four boundary lines (whatever the fields hold, even lines that
 * look like boundaries), and no field of the message can end the
 * text/rfc822-headers block early.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "dmarc_failure.h"
#include "msg.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct msg_limits lim = { 1 << 16, 1 << 16, 200, 10 };
	const char *p = (const char *)data, *end = p + size, *f, *colon;
	struct msg *m = msg_new(&lim);
	struct dmarc_outcome o;
	struct dmarc_failure fr;
	struct buf b = BUF_INIT, first = BUF_INIT;
	const char *q, *hdrs, *bd, *be;
	char delim[128];
	size_t lines = 0;

	while (p < end) {
		f = memchr(p, '\0', (size_t)(end - p));
		if (f == NULL)
			f = end;
		colon = memchr(p, ':', (size_t)(f - p));
		if (first.len == 0)
			buf_add(&first, p, (size_t)(f - p));
		if (colon && colon > p)
			msg_add_header(m, p, (size_t)(colon - p), colon + 1,
			    (size_t)(f - colon - 1));
		else
			msg_add_header(m, "X", 1, p, (size_t)(f - p));
		p = f + 1;
	}
	msg_set_sender(m, buf_cstr(&first));
	msg_set_client(m, "192.0.2.1", NULL);
	memset(&o, 0, sizeof(o));
	o.have_record = true;
	o.result = DMARC_RES_FAIL;
	memcpy(o.policy_domain, "example.org", 12);
	memset(&fr, 0, sizeof(fr));
	fr.msg = m;
	fr.author = "example.org";
	fr.o = &o;
	fr.authres = buf_cstr(&first);
	fr.reporter = "dmarc@example.net";
	fr.hostname = "example.net";
	dmarc_failure_format(&fr, &b);
	if (memchr(b.data, '\0', b.len) || memchr(b.data, '\r', b.len))
		__builtin_trap();
	/* the boundary the report declares, and its delimiter lines */
	if ((bd = strstr(b.data, "boundary=\"")) == NULL ||
	    (be = strchr(bd + 10, '"')) == NULL ||
	    (size_t)(be - bd - 10) + 4 > sizeof(delim))
		__builtin_trap();
	snprintf(delim, sizeof(delim), "\n--%.*s", (int)(be - bd - 10),
	    bd + 10);
	for (q = b.data; (q = strstr(q, delim)) != NULL; q++)
		lines++;
	if (lines != 4)
		__builtin_trap();
	hdrs = strstr(b.data, "Content-Type: text/rfc822-headers\n\n");
	if (hdrs == NULL)
		__builtin_trap();
	hdrs += 35;
	/* the part's first empty line is the one before its delimiter */
	q = strstr(hdrs - 1, "\n\n");	/* hdrs - 1: no fields at all */
	if (q == NULL || q + 1 != strstr(hdrs - 1, delim))
		__builtin_trap();
	buf_release(&b);
	buf_release(&first);
	msg_free(&m);
	return 0;
}
