/*
 * dkim.c - DKIM verification flow (RFC 6376 6, RFC 8301, RFC 8463)
 *
 * DESCRIPTION
 *	At end of headers dkim_verify_new() parses each DKIM-Signature
 *	field (top to bottom, up to max_signatures), rejects what can be
 *	rejected without DNS (syntax, rsa-sha1, From unsigned), hashes the
 *	signed header fields and attaches every remaining signature to a
 *	body hasher shared by all signatures with the same body
 *	canonicalisation, hash and l=.  Body chunks then go once through
 *	at most two canonicalisers (simple, relaxed), each feeding its
 *	hashers.  At end of message dkim_verify_finish() checks x=/t=
 *	against the injected clock, fetches each key once per message,
 *	checks it against the signature (RFC 6376 6.1.2: key problems come
 *	before hash comparison), compares the body hash, then verifies the
 *	signature.
 *
 * DIAGNOSTICS
 *	Every signature ends with a result and a one-line reason.  Key
 *	lookup NXDOMAIN/NODATA is permerror; SERVFAIL, timeout and
 *	malformed answers are temperror.
 *
 * LIMITS
 *	max_signatures signatures (more are counted, not evaluated), so at
 *	most that many hashers and key lookups per message.
 *
 * SECURITY
 *	Signature fields, key records and bodies are untrusted; see
 *	dkim_sig.c and dkim_key.c for their bounds.
 *
 * STANDARDS
 *	RFC 6376, RFC 8301, RFC 8463.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "dkim_int.h"
#include "dns.h"
#include "log.h"
#include "msg.h"
#include "str.h"

#define MAX_KEY_RECORDS	8	/* TXT records tried at one key name */

struct bodyhash {
	enum dkim_hash hash;
	bool	 limited;
	uint64_t limit;
	uint64_t fed;
	EVP_MD_CTX *ctx;
	unsigned char digest[DKIM_MAX_HASH];
	unsigned dlen;
};

struct canonset {
	struct bodyhash **hashes;
	size_t	 nhashes;
	struct dkim_body body;
};

struct vsig {
	struct dkim_sig sig;
	size_t	 field;			/* index into hdrs */
	bool	 pending;		/* waiting for finish */
	unsigned char hhash[DKIM_MAX_HASH];
	unsigned hhlen;
	struct bodyhash *bh;
	char	*keyname;
};

struct keyent {
	char	*name;
	bool	 ok;
	enum dkim_result err;		/* when !ok */
	char	*why;
	struct dkim_key key;
};

struct dkim_verify {
	struct dkim_vopts o;
	enum dkim_sig_kind kind;
	const struct hdr *hdrs;
	size_t	 nhdrs;
	struct vsig *sigs;
	struct dkim_sigresult *res;
	size_t	 n, seen;
	struct canonset *canon[2];	/* by enum dkim_canon */
	struct bodyhash **hashes;	/* all, owned */
	size_t	 nhashes;
	struct keyent *keys;
	size_t	 nkeys;
	bool	 finished;
};

static const char *const result_names[] = {
	"none", "pass", "fail", "policy", "neutral", "temperror", "permerror"
};

const char *
dkim_result_name(enum dkim_result r)
{
	return (unsigned)r < sizeof(result_names) / sizeof(result_names[0]) ?
	    result_names[r] : "none";
}

/* set_result - final result and reason of one signature */
static void
set_result(struct dkim_verify *v, size_t i, enum dkim_result r,
    const char *reason)
{
	v->res[i].result = r;
	free(v->res[i].reason);
	v->res[i].reason = xstrdup(reason);
	v->sigs[i].pending = false;
}

/* body_sink - canonical body bytes into every hasher of the set */
static void
body_sink(void *arg, const unsigned char *p, size_t n)
{
	struct canonset *cs = arg;
	size_t i, take;

	for (i = 0; i < cs->nhashes; i++) {
		struct bodyhash *h = cs->hashes[i];

		take = n;
		if (h->limited) {
			if (h->fed >= h->limit)
				continue;
			if (take > h->limit - h->fed)
				take = (size_t)(h->limit - h->fed);
		}
		EVP_DigestUpdate(h->ctx, p, take);
		h->fed += take;
	}
}

/* attach_body - the hasher for (bcanon, hash, l=), made on first use */
static struct bodyhash *
attach_body(struct dkim_verify *v, const struct dkim_sig *sig)
{
	struct canonset *cs = v->canon[sig->bcanon];
	enum dkim_hash hash = dkim_alg_hash(sig->alg);
	struct bodyhash *h;
	size_t i;

	if (cs == NULL) {
		cs = v->canon[sig->bcanon] = xcalloc(1, sizeof(*cs));
		dkim_body_init(&cs->body, sig->bcanon, body_sink, cs);
	}
	for (i = 0; i < cs->nhashes; i++) {
		h = cs->hashes[i];
		if (h->hash == hash && h->limited == sig->has_l &&
		    (!h->limited || h->limit == sig->l))
			return h;
	}
	h = xcalloc(1, sizeof(*h));
	h->hash = hash;
	h->limited = sig->has_l;
	h->limit = sig->l;
	if ((h->ctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(h->ctx, dkim_md(hash), NULL) != 1)
		log_panic("dkim: cannot start a digest");
	cs->hashes = xreallocarray(cs->hashes, cs->nhashes + 1,
	    sizeof(*cs->hashes));
	cs->hashes[cs->nhashes++] = h;
	v->hashes = xreallocarray(v->hashes, v->nhashes + 1,
	    sizeof(*v->hashes));
	v->hashes[v->nhashes++] = h;
	return h;
}

/* hash_header_fields - RFC 6376 3.7: signed fields, then the signature */
static void
hash_header_fields(struct dkim_verify *v, struct vsig *vs)
{
	const struct hdr *f = &v->hdrs[vs->field];
	const struct dkim_sig *sig = &vs->sig;
	struct buf scratch = BUF_INIT, tmp = BUF_INIT;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	if (ctx == NULL ||
	    EVP_DigestInit_ex(ctx, dkim_md(dkim_alg_hash(sig->alg)), NULL) != 1)
		log_panic("dkim: cannot start a digest");
	dkim_hash_headers(ctx, sig->hcanon, v->hdrs, v->nhdrs, sig->hnames,
	    sig->nh, vs->field, &scratch);
	buf_add(&tmp, f->value, sig->b_start);
	buf_add(&tmp, f->value + sig->b_end, f->value_len - sig->b_end);
	buf_reset(&scratch);
	dkim_canon_header(sig->hcanon, f->name, f->name_len, tmp.data, tmp.len,
	    &scratch);
	EVP_DigestUpdate(ctx, scratch.data, scratch.len);
	EVP_DigestFinal_ex(ctx, vs->hhash, &vs->hhlen);
	EVP_MD_CTX_free(ctx);
	buf_release(&scratch);
	buf_release(&tmp);
}

/*
 * check_injection - RFC 6376 8.15: a field the signature covers that
 * occurs more often than h= lists it lets an unsigned copy be shown.
 */
static void
check_injection(struct dkim_verify *v, size_t i)
{
	static const char *const watched[] = { "From", "To", "Subject", "Date" };
	const struct dkim_sig *sig = &v->sigs[i].sig;
	size_t w, k, nsigned, present;

	for (w = 0; w < sizeof(watched) / sizeof(watched[0]); w++) {
		nsigned = 0;
		for (k = 0; k < sig->nh; k++)
			if (str_ieq(sig->hnames[k], watched[w]))
				nsigned++;
		present = 0;
		for (k = 0; k < v->nhdrs; k++)
			if (str_nieq(v->hdrs[k].name, v->hdrs[k].name_len,
			    watched[w], strlen(watched[w])))
				present++;
		if (nsigned > 0 && present > nsigned) {
			v->res[i].header_injection = true;
			snprintf(v->res[i].injected, sizeof(v->res[i].injected),
			    "%s", watched[w]);
			return;
		}
	}
}

/* add_signature - parse one field; set up hashing if it can be verified */
static void
add_signature(struct dkim_verify *v, size_t field)
{
	const struct hdr *f = &v->hdrs[field];
	struct buf why = BUF_INIT;
	struct dkim_sigresult *r;
	struct vsig *vs;
	size_t i = v->n++;
	int rc;

	v->sigs = xreallocarray(v->sigs, v->n, sizeof(*v->sigs));
	v->res = xreallocarray(v->res, v->n, sizeof(*v->res));
	vs = memset(&v->sigs[i], 0, sizeof(*vs));
	r = memset(&v->res[i], 0, sizeof(*r));
	vs->field = field;
	r->field_index = v->seen - 1;
	rc = dkim_sig_parse_kind(f->value, f->value_len, v->kind, &vs->sig,
	    &why);
	r->instance = vs->sig.instance;
	r->domain = vs->sig.domain ? xstrdup(vs->sig.domain) : NULL;
	r->selector = vs->sig.selector ? xstrdup(vs->sig.selector) : NULL;
	r->identity = vs->sig.identity ? xstrdup(vs->sig.identity) : NULL;
	r->algorithm = dkim_alg_name(vs->sig.alg);
	memcpy(r->b_prefix, vs->sig.b_prefix, sizeof(r->b_prefix));
	r->sha1 = vs->sig.alg == DKIM_ALG_RSA_SHA1;
	r->has_l = vs->sig.has_l;
	r->l = vs->sig.l;
	if (rc < 0)
		set_result(v, i, DKIM_PERMERROR, buf_cstr(&why));
	else if (r->sha1)
		set_result(v, i, DKIM_PERMERROR,
		    "rsa-sha1 is not accepted (RFC 8301)");
	else {
		check_injection(v, i);
		hash_header_fields(v, vs);
		vs->bh = attach_body(v, &vs->sig);
		vs->keyname = xasprintf("%s._domainkey.%s", vs->sig.selector,
		    vs->sig.domain);
		vs->pending = true;
	}
	buf_release(&why);
}

struct dkim_verify *
dkim_verify_new_kind(const struct dkim_vopts *o, const struct hdr *hdrs,
    size_t nhdrs, enum dkim_sig_kind kind)
{
	struct dkim_verify *v = xcalloc(1, sizeof(*v));
	const char *name = kind == DKIM_SIG_AMS ? "ARC-Message-Signature" :
	    "DKIM-Signature";
	size_t j;

	v->o = *o;
	v->kind = kind;
	v->hdrs = hdrs;
	v->nhdrs = nhdrs;
	for (j = 0; j < nhdrs; j++) {
		if (!str_nieq(hdrs[j].name, hdrs[j].name_len, name,
		    strlen(name)))
			continue;
		v->seen++;
		if (v->n < o->max_signatures)
			add_signature(v, j);
	}
	return v;
}

struct dkim_verify *
dkim_verify_new(const struct dkim_vopts *o, const struct hdr *hdrs,
    size_t nhdrs)
{
	return dkim_verify_new_kind(o, hdrs, nhdrs, DKIM_SIG_DKIM);
}

void
dkim_verify_prefetch(struct dkim_verify *v, struct dns_resolver *dns)
{
	size_t i, k;

	if (dns == NULL)
		return;
	for (i = 0; i < v->n; i++) {
		if (!v->sigs[i].pending)
			continue;
		for (k = 0; k < i; k++)
			if (v->sigs[k].keyname &&
			    strcmp(v->sigs[k].keyname, v->sigs[i].keyname) == 0)
				break;
		if (k == i)
			dns_prefetch(dns, v->sigs[i].keyname, DNS_T_TXT);
	}
}

void
dkim_verify_body(struct dkim_verify *v, const void *p, size_t n)
{
	if (v->finished)
		return;
	if (v->canon[DKIM_CANON_SIMPLE])
		dkim_body_update(&v->canon[DKIM_CANON_SIMPLE]->body, p, n);
	if (v->canon[DKIM_CANON_RELAXED])
		dkim_body_update(&v->canon[DKIM_CANON_RELAXED]->body, p, n);
}

/* key_answer - parse the first usable record of a TXT answer */
static void
key_answer(struct keyent *ke, const struct dns_answer *a)
{
	struct buf why = BUF_INIT, first = BUF_INIT;
	size_t i;

	for (i = 0; i < a->n && i < MAX_KEY_RECORDS; i++) {
		if (a->rrs[i].type != DNS_T_TXT || a->rrs[i].txt == NULL)
			continue;
		buf_reset(&why);
		if (dkim_key_parse(a->rrs[i].txt, a->rrs[i].txt_len, &ke->key,
		    &why) == 0) {
			ke->ok = true;
			break;
		}
		if (first.len == 0)
			buf_add(&first, why.data, why.len);
	}
	if (!ke->ok) {
		ke->err = DKIM_PERMERROR;
		ke->why = first.len ? buf_steal(&first) :
		    xstrdup("no key record");
	}
	buf_release(&why);
	buf_release(&first);
}

/* get_key - the key at name, looked up once per message */
static struct keyent *
get_key(struct dkim_verify *v, const char *name, struct dns_resolver *dns,
    struct dns_budget *budget)
{
	struct dns_answer *a = NULL;
	struct keyent *ke;
	enum dns_status st;
	size_t i;

	for (i = 0; i < v->nkeys; i++)
		if (strcmp(v->keys[i].name, name) == 0)
			return &v->keys[i];
	v->keys = xreallocarray(v->keys, v->nkeys + 1, sizeof(*v->keys));
	ke = memset(&v->keys[v->nkeys++], 0, sizeof(*ke));
	ke->name = xstrdup(name);
	if (dns == NULL) {
		ke->err = DKIM_TEMPERROR;
		ke->why = xstrdup("no DNS resolver configured");
		return ke;
	}
	st = dns_lookup(dns, name, DNS_T_TXT, budget, &a);
	if (st == DNS_OK)
		key_answer(ke, a);
	else if (dns_status_is_temp(st)) {
		ke->err = DKIM_TEMPERROR;
		ke->why = xasprintf("key lookup failed (%s)",
		    dns_status_name(st));
	} else {
		ke->err = DKIM_PERMERROR;
		ke->why = xasprintf("no key for signature (%s)",
		    dns_status_name(st));
	}
	dns_answer_free(a);
	return ke;
}

/* identity_domain - the domain part of i=, or NULL */
static const char *
identity_domain(const char *id)
{
	const char *at = id ? strrchr(id, '@') : NULL;

	return at ? at + 1 : NULL;
}

/* check_key - the key may be used for this signature (RFC 6376 6.1.2) */
static int
check_key(const struct dkim_verify *v, const struct dkim_sig *sig,
    const struct dkim_key *key, struct buf *why)
{
	const char *idd;

	if (key->type != dkim_alg_keytype(sig->alg)) {
		buf_adds(why, "key type does not match the algorithm");
		return -1;
	}
	if (!key->allow_sha256) {
		buf_adds(why, "key h= does not allow sha256");
		return -1;
	}
	idd = identity_domain(sig->identity);
	if (key->strict && idd && !str_ieq(idd, sig->domain)) {
		buf_adds(why, "key t=s forbids an i= subdomain of d=");
		return -1;
	}
	if (key->type == DKIM_KEY_RSA && key->bits < v->o.min_key_bits) {
		buf_printf(why, "RSA key of %u bits is below the %u-bit "
		    "minimum (RFC 8301)", key->bits, v->o.min_key_bits);
		return -1;
	}
	return 0;
}

/* check_time - x= and t= against the clock */
static int
check_time(const struct dkim_verify *v, const struct dkim_sig *sig,
    struct buf *why)
{
	uint64_t now = v->o.now > 0 ? (uint64_t)v->o.now : 0;

	if (sig->has_x && now > sig->x) {
		buf_adds(why, "signature expired (x=)");
		return -1;
	}
	if (sig->has_t && sig->t > now + v->o.clock_skew) {
		buf_adds(why, "signature timestamp t= is in the future");
		return -1;
	}
	return 0;
}

/* verify_one - everything after the body for signature i */
static void
verify_one(struct dkim_verify *v, size_t i, struct dns_resolver *dns,
    struct dns_budget *budget)
{
	struct vsig *vs = &v->sigs[i];
	struct dkim_sigresult *r = &v->res[i];
	const struct dkim_sig *sig = &vs->sig;
	struct buf why = BUF_INIT;
	struct keyent *ke;

	r->body_length = v->canon[sig->bcanon]->body.total;
	if (check_time(v, sig, &why) < 0) {
		set_result(v, i, DKIM_PERMERROR, why.data);
		goto out;
	}
	ke = get_key(v, vs->keyname, dns, budget);
	if (!ke->ok) {
		set_result(v, i, ke->err, ke->why);
		goto out;
	}
	r->key_bits = ke->key.bits;
	r->testing = ke->key.testing;
	if (check_key(v, sig, &ke->key, &why) < 0) {
		set_result(v, i, DKIM_PERMERROR, why.data);
		goto out;
	}
	if (sig->has_l && sig->l > r->body_length) {
		set_result(v, i, DKIM_FAIL, "l= exceeds the body length");
		goto out;
	}
	if (vs->bh->dlen != sig->bhlen ||
	    memcmp(vs->bh->digest, sig->bh, sig->bhlen) != 0) {
		set_result(v, i, DKIM_FAIL, "body hash did not verify");
		goto out;
	}
	if (!dkim_crypto_verify(ke->key.pkey, sig->alg, vs->hhash, vs->hhlen,
	    sig->b, sig->blen)) {
		set_result(v, i, DKIM_FAIL, "signature did not verify");
		goto out;
	}
	r->l_partial = sig->has_l && sig->l < r->body_length;
	if (r->l_partial && v->o.l_policy == DKIM_L_REFUSE) {
		buf_printf(&why, "l= leaves %llu body bytes unsigned",
		    (unsigned long long)(r->body_length - sig->l));
		set_result(v, i, DKIM_POLICY, why.data);
		goto out;
	}
	set_result(v, i, DKIM_PASS, r->l_partial ?
	    "good signature, body only partly signed (l=)" : "good signature");
out:
	buf_release(&why);
}

enum dkim_result
dkim_verify_hash(struct dkim_verify *v, const struct dkim_sig *sig,
    const unsigned char *hash, size_t hlen, struct dns_resolver *dns,
    struct dns_budget *budget, unsigned *key_bits, struct buf *why)
{
	struct keyent *ke;
	char *name;

	*key_bits = 0;
	if (check_time(v, sig, why) < 0)
		return DKIM_PERMERROR;
	name = xasprintf("%s._domainkey.%s", sig->selector, sig->domain);
	ke = get_key(v, name, dns, budget);
	free(name);
	if (!ke->ok) {
		buf_adds(why, ke->why);
		return ke->err;
	}
	*key_bits = ke->key.bits;
	if (check_key(v, sig, &ke->key, why) < 0)
		return DKIM_PERMERROR;
	if (!dkim_crypto_verify(ke->key.pkey, sig->alg, hash, hlen, sig->b,
	    sig->blen)) {
		buf_adds(why, "signature did not verify");
		return DKIM_FAIL;
	}
	buf_adds(why, "good signature");
	return DKIM_PASS;
}

void
dkim_verify_finish(struct dkim_verify *v, struct dns_resolver *dns,
    struct dns_budget *budget)
{
	size_t i, c;

	if (v->finished)
		return;
	v->finished = true;
	for (c = 0; c < 2; c++)
		if (v->canon[c])
			dkim_body_final(&v->canon[c]->body);
	for (i = 0; i < v->nhashes; i++)
		EVP_DigestFinal_ex(v->hashes[i]->ctx, v->hashes[i]->digest,
		    &v->hashes[i]->dlen);
	for (i = 0; i < v->n; i++)
		if (v->sigs[i].pending)
			verify_one(v, i, dns, budget);
}

size_t
dkim_verify_results(const struct dkim_verify *v,
    const struct dkim_sigresult **out)
{
	*out = v ? v->res : NULL;
	return v ? v->n : 0;
}

size_t
dkim_verify_seen(const struct dkim_verify *v)
{
	return v ? v->seen : 0;
}

void
dkim_verify_free(struct dkim_verify **vp)
{
	struct dkim_verify *v = *vp;
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; i < v->n; i++) {
		dkim_sig_release(&v->sigs[i].sig);
		free(v->sigs[i].keyname);
		free(v->res[i].reason);
		free(v->res[i].domain);
		free(v->res[i].selector);
		free(v->res[i].identity);
	}
	free(v->sigs);
	free(v->res);
	for (i = 0; i < v->nhashes; i++) {
		EVP_MD_CTX_free(v->hashes[i]->ctx);
		free(v->hashes[i]);
	}
	free(v->hashes);
	for (i = 0; i < 2; i++)
		if (v->canon[i]) {
			free(v->canon[i]->hashes);
			free(v->canon[i]);
		}
	for (i = 0; i < v->nkeys; i++) {
		free(v->keys[i].name);
		free(v->keys[i].why);
		dkim_key_release(&v->keys[i].key);
	}
	free(v->keys);
	free(v);
	*vp = NULL;
}
