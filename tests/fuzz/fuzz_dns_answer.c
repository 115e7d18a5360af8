/*
 * fuzz_dns_answer.c - DNS reply validation and conversion on arbitrary
 * packets (dns_reply_parse: what dns_ldns.c does with every reply)
 *
 * The question is example.com with the packet's own question type (or
 * one picked from byte 2); the ID is taken from the packet so
 * that the validation path, not just the ID check, is exercised.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "dns_int.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const uint16_t types[] = {
	DNS_T_A, DNS_T_AAAA, DNS_T_MX, DNS_T_TXT, DNS_T_PTR, DNS_T_CNAME,
	DNS_T_NS
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct dns_answer *a;
	char next[1200];
	enum dns_reply rc;
	uint16_t id, type;
	size_t i;

	if (len < 12)
		return 0;
	id = (uint16_t)(data[0] << 8 | data[1]);
	/* the packet's own question type, if its name can be skipped */
	for (i = 12; i < len && data[i] != 0 && data[i] < 64; i += data[i] + 1)
		;
	if (i + 2 < len && data[i] == 0)
		type = (uint16_t)(data[i + 1] << 8 | data[i + 2]);
	else
		type = types[data[2] % (sizeof(types) / sizeof(types[0]))];
	a = calloc(1, sizeof(*a));
	rc = dns_reply_parse(data, len, id, "example.com", type, a, next,
	    sizeof(next));
	if (rc == DNS_REPLY_DONE) {
		if (a->status == DNS_OK && a->n == 0)
			abort();
		for (i = 0; i < a->n; i++) {
			if (a->rrs[i].type != type)
				abort();
			if (a->rrs[i].txt && a->rrs[i].txt[a->rrs[i].txt_len])
				abort();	/* always NUL-terminated */
		}
	} else if (rc == DNS_REPLY_FOLLOW && strlen(next) >= sizeof(next))
		abort();
	/* and the copy the cache hands out is faithful */
	dns_answer_free(dns_answer_copy(a));
	dns_answer_free(a);
	return 0;
}
