/*
 * dkim_testkey.c - is each signing key published, and published right?
 *
 * DESCRIPTION
 *	dkim_keytest_run() fetches selector._domainkey.domain TXT for one
 *	signing key of the configuration through the resolver and checks
 *	what a verifier will find there against the private key, as
 *	opendkim-testkey does:
 *
 *	errors (signatures made with the key will not verify):
 *	  no record (NXDOMAIN, NODATA), a lookup that failed, a record
 *	  that does not parse (syntax, v= not first, revoked p=, s= without
 *	  email), a k= other than the private key's type, h= without
 *	  sha256, a public key that is not the private key's, an RSA key
 *	  under 1024 bits (refused by verifiers, RFC 8301);
 *	warnings:
 *	  t=y (testing: verifiers may treat failures as unsigned), an RSA
 *	  key under 2048 bits (RFC 8301 asks for at least 2048), several
 *	  TXT records at the name.
 *
 *	Of several TXT records the one a verifier uses is checked: the
 *	first that parses as a key record (dkim.c does the same), or the
 *	first when none does.
 *
 * SECURITY
 *	The record is untrusted text: it is parsed by dkim_key_parse(),
 *	reasons quote it through dkim_reason_value().  Private key bytes
 *	are never printed; only public components are compared.
 *
 * STANDARDS
 *	RFC 6376 3.6.1, RFC 8301, RFC 8463.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "dkim_int.h"
#include "dns.h"
#include "str.h"

#define RSA_REFUSED_BITS	1024	/* RFC 8301 3.2: verifiers refuse */
#define RSA_WANTED_BITS		2048	/* RFC 8301 3.2: signers SHOULD */

static void say(struct dkim_keytest *, bool, const char *, ...)
	    __attribute__((format(printf, 3, 4)));

/* say - one "error: ..." or "warning: ..." line */
static void
say(struct dkim_keytest *t, bool error, const char *fmt, ...)
{
	va_list ap;
	struct buf line = BUF_INIT;

	va_start(ap, fmt);
	buf_vprintf(&line, fmt, ap);
	va_end(ap);
	buf_printf(&t->notes, "%s: %s\n", error ? "error" : "warning",
	    buf_cstr(&line));
	if (error)
		t->errors++;
	else
		t->warnings++;
	buf_release(&line);
}

/* pick - the TXT record a verifier would use, or NULL */
static const struct dns_rr *
pick(const struct dns_answer *a, size_t *ntxt)
{
	const struct dns_rr *first = NULL;
	struct dkim_key k;
	struct buf why = BUF_INIT;
	size_t i;

	*ntxt = 0;
	for (i = 0; i < a->n; i++) {
		const struct dns_rr *rr = &a->rrs[i];

		if (rr->type != DNS_T_TXT || rr->txt == NULL)
			continue;
		++*ntxt;
		if (first == NULL)
			first = rr;
		buf_reset(&why);
		if (dkim_key_parse(rr->txt, rr->txt_len, &k, &why) == 0) {
			dkim_key_release(&k);
			buf_release(&why);
			return rr;
		}
	}
	buf_release(&why);
	return first;
}

/* check_type - k= (default rsa) against the private key's type */
static bool
check_type(struct dkim_keytest *t, const struct dkim_signkey *k,
    const char *txt, size_t len)
{
	struct dkim_tag tags[DKIM_MAX_TAGS];
	const struct dkim_tag *kt;
	struct buf why = BUF_INIT;
	bool ed = k->alg == DKIM_ALG_ED25519_SHA256;
	size_t n;

	if (dkim_taglist_parse(txt, len, tags, DKIM_MAX_TAGS, &n, &why) < 0) {
		say(t, true, "record syntax: %s", buf_cstr(&why));
		buf_release(&why);
		return false;
	}
	kt = dkim_tag_find(tags, n, "k");
	if (kt == NULL ? ed : !dkim_tag_is(kt, ed ? "ed25519" : "rsa")) {
		dkim_reason_value(&why, kt ? kt->value : "rsa", kt ?
		    kt->value_len : 3);
		say(t, true, "the record has k=%s (%s), but the private key is "
		    "%s", buf_cstr(&why), kt ? "given" : "the default",
		    ed ? "ed25519" : "rsa");
		buf_release(&why);
		return false;
	}
	buf_release(&why);
	return true;
}

/* check_record - the record's key and flags against the private key */
static void
check_record(struct dkim_keytest *t, const struct dkim_signkey *k,
    const char *txt, size_t len)
{
	struct dkim_key key;
	struct buf why = BUF_INIT;

	if (!check_type(t, k, txt, len))
		return;
	if (dkim_key_parse(txt, len, &key, &why) < 0) {
		say(t, true, "unusable record: %s", buf_cstr(&why));
		buf_release(&why);
		return;
	}
	buf_release(&why);
	t->record_bits = key.bits;
	t->match = EVP_PKEY_eq(key.pkey, k->pkey) == 1;
	if (!t->match)
		say(t, true, "the published public key does not match the "
		    "private key in %s", k->path);
	if (!key.allow_sha256)
		say(t, true, "h= does not list sha256: verifiers refuse the "
		    "%s signatures made with this key", dkim_alg_name(k->alg));
	if (key.type == DKIM_KEY_RSA && key.bits < RSA_REFUSED_BITS)
		say(t, true, "RSA key of %u bits: verifiers refuse keys under "
		    "%d bits (RFC 8301)", key.bits, RSA_REFUSED_BITS);
	else if (key.type == DKIM_KEY_RSA && key.bits < RSA_WANTED_BITS)
		say(t, false, "RSA key of %u bits: RFC 8301 asks for %d bits "
		    "or more", key.bits, RSA_WANTED_BITS);
	if (key.testing)
		say(t, false, "t=y: the domain is testing DKIM, verifiers may "
		    "treat failing signatures as unsigned (RFC 6376 3.6.1)");
	dkim_key_release(&key);
}

void
dkim_keytest_init(const struct dkim_signconf *sc, size_t i,
    struct dkim_keytest *t)
{
	const struct dkim_signkey *k = dkim_signconf_key(sc, i);

	memset(t, 0, sizeof(*t));
	t->domain = k->domain;
	t->selector = k->selector;
	t->path = k->path;
	t->algorithm = dkim_alg_name(k->alg);
	t->bits = k->bits;
	snprintf(t->name, sizeof(t->name), "%s._domainkey.%s", k->selector,
	    k->domain);
}

void
dkim_keytest_run(const struct dkim_signconf *sc, size_t i,
    struct dns_resolver *dns, struct dkim_keytest *t)
{
	const struct dkim_signkey *k = dkim_signconf_key(sc, i);
	const struct dns_rr *rr;
	struct dns_answer *a;
	size_t ntxt;

	t->dns = dns_lookup(dns, t->name, DNS_T_TXT, NULL, &a);
	if (dns_status_is_temp(t->dns) || t->dns == DNS_INVALID_NAME)
		say(t, true, "the lookup of %s failed (%s)", t->name,
		    dns_status_name(t->dns));
	else if ((rr = t->dns == DNS_OK ? pick(a, &ntxt) : NULL) == NULL)
		say(t, true, "no key record is published at %s (%s)", t->name,
		    t->dns == DNS_OK ? "no TXT record" :
		    dns_status_name(t->dns));
	else {
		buf_add(&t->record, rr->txt, rr->txt_len);
		if (ntxt > 1)
			say(t, false, "%zu TXT records at %s: verifiers use one "
			    "of them, or none", ntxt, t->name);
		check_record(t, k, rr->txt, rr->txt_len);
	}
	dns_answer_free(a);
}

void
dkim_keytest_release(struct dkim_keytest *t)
{
	buf_release(&t->record);
	buf_release(&t->notes);
}
