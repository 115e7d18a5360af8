/*
 * fuzz_from.c - RFC 5322 address-list parser (From: field values)
 */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "addr.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct addr_list l;
	char out[DOMAIN_MAX + 1];
	size_t i;

	if (addr_parse_list((const char *)data, size, &l) == ADDR_OK) {
		for (i = 0; i < l.n; i++)
			if (domain_to_alabel(l.v[i].domain,
			    strlen(l.v[i].domain), out, sizeof(out)) < 0 ||
			    strcmp(out, l.v[i].domain) != 0)
				__builtin_trap();	/* not normalised */
		(void)addr_distinct_domains(&l);
	}
	(void)domain_to_alabel((const char *)data, size, out, sizeof(out));
	return 0;
}
