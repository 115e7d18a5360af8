/*
 * fuzz_mime.c - the MIME parser over a whole message
 *
 * The input is a message file; it is split by msgparse as `scan` does and
 * parsed twice, with default caps and with tiny ones, so cap paths run.
 * Every URI host also goes through uri_host_ipv4(), which must call a
 * host "plain" only when it is the address's own dotted-quad spelling,
 * and the Received fields through the relay list, whose entries must
 * stay one per relay: no field may open or close one of its own.
 * SpamAssassin's MIME counters (mime_sa.h) walk the same view: the
 * multipart/alternative difference must stay a percentage.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "mime.h"
#include "mime_sa.h"
#include "msg.h"
#include "msgparse.h"
#include "relays.h"
#include "uri.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
relays_check(struct msg *m, const struct mime_msg *mm)
{
	struct buf out = BUF_INIT;
	const char *p;
	size_t open = 0, close = 0;

	msg_set_client(m, "192.0.2.1", "unknown");
	msg_set_helo(m, "[192.0.2.1]");
	relays_untrusted(m, mm, &out);
	for (p = buf_cstr(&out); *p; p++) {
		open += *p == '[';
		close += *p == ']';
	}
	if (open != close || open > RELAYS_MAX)
		abort();
	buf_release(&out);
}

static void
sa_check(const struct msg *m, const struct mime_msg *mm)
{
	struct mime_sa s;
	size_t hw, tw;
	double d;

	mime_sa_facts(mm, buf_cstr(&m->body), m->body.len, &s);
	if (s.qp_ratio < 0 || s.multipart_ratio < 0)
		abort();
	d = mime_sa_alt_difference(mm, &hw, &tw);
	if (d < 0 || d > 100 || (d > 0 && hw == 0))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct msg_limits ml = { 1 << 20, 1 << 20, 1000, 100 };
	struct mime_limits lim;
	struct msg *m = msg_new(&ml);
	struct mime_msg *mm;
	struct buf out = BUF_INIT;

	msgparse_text(m, data, size);

	mime_limits_default(&lim);
	mm = mime_parse(m, &lim);
	mime_dump(mm, &out);
	for (size_t i = 0; i < mm->nuris; i++) {
		uint32_t a;
		bool plain;
		char q[16];

		if (mm->uris[i].host == NULL ||
		    !uri_host_ipv4(mm->uris[i].host, &a, &plain) || !plain)
			continue;
		snprintf(q, sizeof(q), "%u.%u.%u.%u", a >> 24,
		    (a >> 16) & 255, (a >> 8) & 255, a & 255);
		if (strcmp(q, mm->uris[i].host) != 0)
			abort();
	}
	relays_check(m, mm);
	sa_check(m, mm);
	mime_free(&mm);

	lim.max_depth = 2;
	lim.max_parts = 3;
	lim.max_text = 64;
	lim.max_uris = 2;
	mm = mime_parse(m, &lim);
	mime_free(&mm);

	buf_release(&out);
	msg_free(&m);
	return 0;
}
