/*
 * fuzz_sample.c - the sample file parser (sample.h): files in a sample
 * store, or copied from anywhere, handed to `mailwarden replay`
 *
 * A file that parses is formatted again and must parse again to the
 * same message (the format round-trips whatever it accepted).
 */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "buf.h"
#include "msg.h"
#include "sample.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* check_again - s rebuilt, formatted and parsed: the same pieces */
static void
check_again(const struct sample *s)
{
	struct msg_limits lim = { 1 << 20, 1 << 20, 1000, 100 };
	struct msg *m = sample_msg(s, &lim);
	struct buf out = BUF_INIT, why = BUF_INIT;
	struct sample *t;

	msg_add_body(m, s->body, s->body_len);
	sample_msg_finish(s, m);
	sample_format(m, s->now, s->when, s->dns, s->verdict,
	    strlen(s->verdict), &out);
	if (sample_parse(out.data, out.len, &t, &why) < 0)
		__builtin_trap();		/* our own output refused */
	if (t->body_len != m->body.len || sample_dns_count(t->dns) !=
	    sample_dns_count(s->dns) || strcmp(t->verdict, s->verdict) != 0)
		__builtin_trap();
	sample_free(&t);
	msg_free(&m);
	buf_release(&out);
	buf_release(&why);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf why = BUF_INIT;
	struct sample *s;

	if (sample_parse((const char *)data, size, &s, &why) == 0) {
		check_again(s);
		sample_free(&s);
	}
	buf_release(&why);
	return 0;
}
