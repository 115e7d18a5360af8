/*
 * fuzz_scope.c - scope file parser; a parsed scope selects mail without
 * crashing, and its effective settings stay within the main checks
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "conf.h"
#include "msg.h"
#include "scope.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const rcpts[] = { "abuse@a.example",
	    "u@x.a.example", "u@b.example", NULL };
	struct buf why = BUF_INIT, dump = BUF_INIT;
	struct conf *base = conf_defaults();
	struct msg_limits lim;
	struct scope_set set;
	struct msg *m;
	struct scope sc;
	size_t i;

	if (scope_parse((const char *)data, size, "fuzz.conf", "fuzz", base,
	    &sc, &why) == 0) {
		if (sc.conf->tag_score > sc.conf->reject_score)
			abort();	/* scope_finish() must catch it */
		msg_limits_from_conf(&lim, base);
		m = msg_new(&lim);
		msg_set_client(m, "192.0.2.1", "c.example");
		msg_set_auth(m, "alice");
		msg_set_sender(m, "s@partner.example");
		set.v = &sc;
		set.n = 1;
		set.by_rcpt = false;
		for (i = 0; i < sizeof(rcpts) / sizeof(rcpts[0]); i++)
			(void)scope_select(&set, base, m, rcpts[i]);
		(void)scope_check_reach(&set, &why);
		scope_dump(&sc, &dump);
		msg_free(&m);
		scope_release(&sc);
	} else if (why.len == 0) {
		abort();	/* every error says why */
	}
	conf_free(base);
	buf_release(&why);
	buf_release(&dump);
	return 0;
}
