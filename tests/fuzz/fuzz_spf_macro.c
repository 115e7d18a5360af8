/*
 * fuzz_spf_macro.c - SPF macro expansion on arbitrary bytes
 *
 * Byte 0 picks the flags (explanation or not) and the client family;
 * the rest, up to the first 0xff byte, is the macro-string, and what
 * follows is the sender, so hostile envelopes are expanded by hostile
 * macros.  Expansion and the syntax-only check must agree, and output
 * must stay under SPF_MACRO_MAX_OUT (plus one expansion).
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "spf.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
validated(void *arg, const char *domain, struct buf *out)
{
	(void)arg;
	buf_adds(out, *domain ? domain : "unknown");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct spf_macro_ctx c;
	struct netaddr ip;
	struct buf out = BUF_INIT, why = BUF_INIT;
	const uint8_t *sep;
	char *sender;
	const char *at;
	size_t mlen;
	unsigned flags;
	int rc, rc2;

	if (len < 1)
		return 0;
	flags = data[0] & 1 ? SPF_MACRO_EXP : 0;
	memset(&ip, 0, sizeof(ip));
	ip.family = data[0] & 2 ? 10 /* AF_INET6 */ : 2 /* AF_INET */;
	memset(ip.a, 0xab, sizeof(ip.a));
	data++;
	len--;
	sep = memchr(data, 0xff, len);
	mlen = sep ? (size_t)(sep - data) : len;
	sender = sep ? strndup((const char *)sep + 1, len - mlen - 1) :
	    strdup("user@example.com");
	at = strrchr(sender, '@');
	memset(&c, 0, sizeof(c));
	c.sender = sender;
	c.local = "user";
	c.sender_domain = at ? at + 1 : sender;
	c.domain = c.sender_domain;
	c.ip = &ip;
	c.helo = "helo.example";
	c.receiver = "receiver.example";
	c.now = 1;
	c.validated = validated;
	rc = spf_macro_expand((const char *)data, mlen, &c, flags, &out, &why);
	rc2 = spf_macro_expand((const char *)data, mlen, NULL, flags, NULL,
	    &why);
	if (rc != rc2 && !strstr(buf_cstr(&why), "too long"))
		abort();
	if (out.len > SPF_MACRO_MAX_OUT + 4 * 65536)
		abort();
	free(sender);
	buf_release(&out);
	buf_release(&why);
	return 0;
}
