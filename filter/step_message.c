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
#include "symbols.h"

/* scores and descriptions: symbols.c */
static const struct {
	unsigned flag;
	const char *symbol;
} flag_symbols[] = {
	{ MSG_F_BODY_TRUNCATED, "SCAN_TRUNCATED" },
	{ MSG_F_HDRS_TRUNCATED, "HEADERS_TRUNCATED" },
	{ MSG_F_FIELD_TRUNCATED, "HEADER_TOO_LONG" },
	{ MSG_F_RCPTS_TRUNCATED, "RCPTS_TRUNCATED" },
	{ MSG_F_HDR_NUL, "HEADER_NUL" },
	{ MSG_F_HDR_8BIT, "HEADER_8BIT" },
	{ MSG_F_HDR_BADNAME, "HEADER_BAD_NAME" },
};

void
step_message_end(struct scan *s, void *state)
{
	const struct msg *m = s->msg;
	size_t i;

	for (i = 0; i < sizeof(flag_symbols) / sizeof(flag_symbols[0]); i++)
		if (m->flags & flag_symbols[i].flag)
			scan_emit(s, flag_symbols[i].symbol, "%s",
			    symbols_builtin(flag_symbols[i].symbol)->doc);
}
