/*
 * fuzz_spf_record.c - the SPF record parser on arbitrary bytes
 *
 * The input is one TXT record (NUL bytes and all).  spf_parse() must
 * either build a record whose terms are consistent or fail with a
 * reason; spf_domain_spec_valid() runs on the same bytes.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "spf.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct spf_record *r;
	struct buf why = BUF_INIT;
	size_t i;

	if (spf_parse((const char *)data, len, &r, &why) == 0) {
		for (i = 0; i < r->nterms; i++) {
			if (r->terms[i].text == NULL ||
			    r->terms[i].cidr4 > 32 || r->terms[i].cidr6 > 128)
				abort();
			if (r->terms[i].domain_spec &&
			    !spf_domain_spec_valid(r->terms[i].domain_spec,
			    strlen(r->terms[i].domain_spec), &why))
				abort();
		}
		spf_record_free(r);
	} else if (why.len == 0)
		abort();	/* a failure always says why */
	buf_reset(&why);
	(void)spf_domain_spec_valid((const char *)data, len, &why);
	(void)spf_is_record((const char *)data, len);
	buf_release(&why);
	return 0;
}
