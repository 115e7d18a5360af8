/*
 * fuzz_dkim_key.c - the key record parser and public key import
 *
 * Input: a key record (TXT strings joined), as DNS would return it.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>

#include "buf.h"
#include "dkim_int.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dkim_key k;
	struct buf why = BUF_INIT;

	if (dkim_key_parse((const char *)data, size, &k, &why) == 0) {
		if (k.pkey == NULL || (k.type == DKIM_KEY_RSA &&
		    k.bits > DKIM_MAX_KEY_BITS))
			abort();
		dkim_key_release(&k);
	} else if (why.len == 0 || k.pkey != NULL)
		abort();
	buf_release(&why);
	return 0;
}
