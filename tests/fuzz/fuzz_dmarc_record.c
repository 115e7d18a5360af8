/*
 * fuzz_dmarc_record.c - DMARC TXT record parser (untrusted DNS data),
 *	with and without the findings `dmarc record` prints
 */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "buf.h"
#include "dmarc.h"
#include "smtpaddr.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dmarc_record r, copy;
	struct buf notes = BUF_INIT;
	char addr[SMTPADDR_MAX + 1];
	size_t i;

	if (dmarc_record_parse((const char *)data, size, &r) == DMARC_REC_OK) {
		dmarc_record_copy(&copy, &r);
		for (i = 0; i < copy.nrua; i++)
			(void)dmarc_mailto(copy.rua[i], addr, sizeof(addr));
		dmarc_record_release(&copy);
	}
	dmarc_record_release(&r);
	/* the same parse with every finding explained (dmarc record) */
	(void)dmarc_record_parse_notes((const char *)data, size, &r, &notes);
	dmarc_record_release(&r);
	buf_release(&notes);
	return 0;
}
