/*
 * fuzz_dkim_verify.c - a whole message through the DKIM verifier
 *
 * Input: a message (header section, blank line, body).  It is split
 * with msgparse as `scan` does, verified with up to 50 signatures, and
 * keys come from a resolver that answers every name: selectors starting
 * with 'e' get an Ed25519 key, 'r' an RSA key, 't' a timeout, 'n'
 * NXDOMAIN, anything else a garbage record.  Nothing may crash, leak or
 * leave a signature without a result.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "dkim_int.h"
#include "dns.h"
#include "fuzz_keys.h"
#include "msg.h"
#include "msgparse.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

struct ctx {
	struct msg *m;
	struct dkim_verify *v;
	struct dkim_vopts o;
};

static void
eoh(void *arg)
{
	struct ctx *c = arg;

	c->v = dkim_verify_new(&c->o, c->m->hdrs, c->m->nhdrs);
}

static void
body(void *arg, const void *p, size_t n)
{
	struct ctx *c = arg;

	dkim_verify_body(c->v, p, n);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dns_resolver *dns = fuzz_keys_resolver();
	struct msg_limits lim = { 1 << 20, 1 << 20, 1000, 10 };
	struct ctx c;
	struct msgparse_cb cb = { eoh, body, &c };
	struct msgparse *mp;
	const struct dkim_sigresult *r;
	size_t i, n;

	memset(&c, 0, sizeof(c));
	c.o.max_signatures = 50;
	c.o.min_key_bits = 1024;
	c.o.clock_skew = 300;
	c.o.now = 1700000000;
	c.m = msg_new(&lim);
	mp = msgparse_new(c.m, &cb);
	msgparse_push(mp, data, size);
	msgparse_end(mp);
	msgparse_free(mp);
	dkim_verify_prefetch(c.v, dns);
	dkim_verify_finish(c.v, dns, NULL);
	n = dkim_verify_results(c.v, &r);
	for (i = 0; i < n; i++)
		if (r[i].result == DKIM_NONE || r[i].reason == NULL)
			abort();
	dkim_verify_free(&c.v);
	msg_free(&c.m);
	return 0;
}
