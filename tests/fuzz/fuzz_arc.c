/*
 * fuzz_arc.c - a whole message through the ARC chain validator
 *
 * Input: a message (header section, blank line, body), split with
 * msgparse as `scan` does; its ARC-Seal, ARC-Message-Signature and
 * ARC-Authentication-Results fields are sorted into sets and validated
 * (arc.c, over the DKIM layers), keys from a resolver that answers
 * every name: selectors starting with 'e' get an Ed25519 key, 'r' an
 * RSA key, 't' a timeout, 'n' NXDOMAIN, anything else a garbage record.
 * Each set's ARC-Authentication-Results payload then goes through the
 * claim reader (arc_aar_says_pass).  Nothing may crash or leak, a
 * chain is never left undecided (no reason), and a passing chain has
 * every set verified.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "arc.h"
#include "dkim_int.h"
#include "dns.h"
#include "fuzz_keys.h"
#include "msg.h"
#include "msgparse.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

struct ctx {
	struct msg *m;
	struct arc_verify *a;
	struct arc_opts o;
};

static void
eoh(void *arg)
{
	struct ctx *c = arg;

	c->a = arc_verify_new(&c->o, c->m->hdrs, c->m->nhdrs);
}

static void
body(void *arg, const void *p, size_t n)
{
	struct ctx *c = arg;

	if (c->a)
		arc_verify_body(c->a, p, n);
}

/* check - the invariants of a finished chain */
/* below - an arc_align_fn without DNS: d equals author or is above it */
static int
below(void *arg, const char *author, const char *d)
{
	size_t la = strlen(author), ld = strlen(d);

	(void)arg;
	return la > ld && author[la - ld - 1] == '.' &&
	    strcmp(author + la - ld, d) == 0;
}

static void
check(const struct arc_result *r)
{
	char what[320];
	unsigned i;

	if (r->reason[0] == '\0' || r->nsets > ARC_MAX_SETS)
		abort();
	for (i = 0; r->sets && i < r->nsets; i++) {
		if (r->cv == ARC_CV_PASS && (r->sets[i].as != DKIM_PASS ||
		    r->sets[i].instance != i + 1))
			abort();
		if (r->sets[i].aar)
			(void)arc_aar_says_pass(r->sets[i].aar, "example.org",
			    below, NULL, what, sizeof(what));
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dns_resolver *dns = fuzz_keys_resolver();
	struct msg_limits lim = { 1 << 20, 1 << 20, 1000, 10 };
	struct ctx c;
	struct msgparse_cb cb = { eoh, body, &c };
	struct msgparse *mp;

	memset(&c, 0, sizeof(c));
	c.o.max_sets = 50;
	c.o.dkim.max_signatures = 50;
	c.o.dkim.min_key_bits = 1024;
	c.o.dkim.clock_skew = 300;
	c.o.dkim.now = 1700000000;
	c.m = msg_new(&lim);
	mp = msgparse_new(c.m, &cb);
	msgparse_push(mp, data, size);
	msgparse_end(mp);
	msgparse_free(mp);
	if (c.a == NULL)
		eoh(&c);
	arc_verify_prefetch(c.a, dns);
	arc_verify_finish(c.a, dns, NULL);
	check(arc_verify_result(c.a));
	arc_verify_free(&c.a);
	msg_free(&c.m);
	return 0;
}
