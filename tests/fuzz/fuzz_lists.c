/*
 * fuzz_lists.c - access list parser and matchers
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>

#include "buf.h"
#include "lists.h"
#include "netaddr.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf why = BUF_INIT;
	struct netaddr na;
	struct list *l;
	int k;

	for (k = 0; k < LIST_NKINDS; k++) {
		if (list_parse((enum list_kind)k, (const char *)data, size,
		    "fuzz", &l, &why) < 0) {
			if (why.len == 0)
				abort();
			buf_reset(&why);
			continue;
		}
		netaddr_parse("192.0.2.1", &na);
		(void)list_match_addr(l, &na);
		netaddr_parse("2001:db8::1", &na);
		(void)list_match_addr(l, &na);
		(void)list_match_sender(l, "user@sub.example.com");
		(void)list_match_sender(l, "");
		(void)list_match_helo(l, "host.example.com");
		(void)list_match_domain(l, "mail.example.com");
		list_free(l);
	}
	buf_release(&why);
	return 0;
}
