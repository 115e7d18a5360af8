/*
 * fuzz_dmarc_record.c - DMARC TXT record parser (untrusted DNS data)
 */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "dmarc.h"
#include "smtpaddr.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dmarc_record r, copy;
	char addr[SMTPADDR_MAX + 1];
	size_t i;

	if (dmarc_record_parse((const char *)data, size, &r) == DMARC_REC_OK) {
		dmarc_record_copy(&copy, &r);
		for (i = 0; i < copy.nrua; i++)
			(void)dmarc_mailto(copy.rua[i], addr, sizeof(addr));
		dmarc_record_release(&copy);
	}
	dmarc_record_release(&r);
	return 0;
}
