/*
 * fuzz_conf.c - configuration parser; a parsed file dumps and re-parses
 * to the same dump
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "conf.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf why = BUF_INIT, d1 = BUF_INIT, d2 = BUF_INIT;
	struct conf *c, *c2;

	if (conf_parse((const char *)data, size, "fuzz", &c, &why) == 0) {
		conf_dump(c, &d1);
		if (conf_parse(d1.data, d1.len, "fuzz", &c2, &why) < 0)
			abort();	/* the dump must parse again */
		conf_dump(c2, &d2);
		if (strcmp(d1.data, d2.data) != 0)
			abort();
		conf_free(c2);
		conf_free(c);
	} else if (why.len == 0) {
		abort();	/* every error says why */
	}
	buf_release(&why);
	buf_release(&d1);
	buf_release(&d2);
	return 0;
}
