/*
 * step_message.c - symbols for caps that were hit and broken headers
 *
 * DESCRIPTION
 *	struct msg records every limit it enforced (MSG_F_*); this step
 *	makes each one visible as a symbol so that a verdict never hides
 *	that part of a message went unscanned.
 */
#include "config.h"

#include "msg.h"
#include "scan.h"
#include "scan_steps.h"

static const struct {
	unsigned flag;
	const char *symbol;
	double score;
	const char *detail;
} flag_symbols[] = {
	{ MSG_F_BODY_TRUNCATED, "SCAN_TRUNCATED", 0.0,
	  "body larger than max_scan_bytes, scanned in part" },
	{ MSG_F_HDRS_TRUNCATED, "HEADERS_TRUNCATED", 1.0,
	  "header section over max_header_bytes or max_headers" },
	{ MSG_F_FIELD_TRUNCATED, "HEADER_TOO_LONG", 1.0,
	  "a header field over 64 KiB" },
	{ MSG_F_RCPTS_TRUNCATED, "RCPTS_TRUNCATED", 0.0,
	  "more recipients than max_rcpts" },
	{ MSG_F_HDR_NUL, "HEADER_NUL", 2.0, "NUL byte in a header field" },
	{ MSG_F_HDR_8BIT, "HEADER_8BIT", 0.5,
	  "raw 8-bit bytes that are not UTF-8 in a header field" },
	{ MSG_F_HDR_BADNAME, "HEADER_BAD_NAME", 1.0,
	  "header field name with characters RFC 5322 forbids" },
};

void
step_message_end(struct scan *s, void *state)
{
	const struct msg *m = s->msg;
	size_t i;

	for (i = 0; i < sizeof(flag_symbols) / sizeof(flag_symbols[0]); i++)
		if (m->flags & flag_symbols[i].flag)
			scan_symbol(s, flag_symbols[i].symbol,
			    flag_symbols[i].score, "%s", flag_symbols[i].detail);
}
