/*
 * fuzz_dkim_sig.c - the DKIM-Signature field and tag-list parsers
 *
 * Input: a field value.  Checks that parsing never reads out of bounds,
 * leaks or crashes, and a few invariants of what it returns.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "dkim_int.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dkim_tag tags[DKIM_MAX_TAGS];
	struct dkim_sig sig;
	struct buf why = BUF_INIT;
	size_t n, i;

	if (dkim_taglist_parse((const char *)data, size, tags, DKIM_MAX_TAGS,
	    &n, &why) == 0)
		for (i = 0; i < n; i++)
			if (tags[i].raw_start > tags[i].raw_end ||
			    tags[i].raw_end > size)
				abort();
	buf_reset(&why);
	if (dkim_sig_parse((const char *)data, size, &sig, &why) == 0) {
		if (sig.domain == NULL || sig.selector == NULL ||
		    sig.nh == 0 || sig.nh > DKIM_MAX_SIGNED_HEADERS ||
		    sig.blen == 0 || sig.blen > DKIM_MAX_SIG_BYTES ||
		    sig.b_end > size || sig.b_start > sig.b_end)
			abort();
	} else if (why.len == 0)
		abort();		/* every refusal has a reason */
	dkim_sig_release(&sig);
	buf_release(&why);
	return 0;
}
