/*
 * dkim_key.c - DKIM key records (RFC 6376 3.6.1, RFC 8463 4)
 *
 * DESCRIPTION
 *	dkim_key_parse() reads the TXT record of selector._domainkey.domain
 *	(character-strings already joined) as a tag list: v= (DKIM1, and
 *	first if present), k= (rsa or ed25519), h= (acceptable hashes), s=
 *	(service types: email or *), t= (flags y and s), p= (the key:
 *	empty means revoked).  g= and n= are ignored, as are unknown tags
 *	and flags (RFC 6376 removed g=).
 *
 *	Imported keys are remembered in a small process-wide table keyed
 *	by (k=, p= text): the same sender's key then costs no base64, DER
 *	or OpenSSL key set-up on later messages (about 30 us for RSA-2048,
 *	a third of a whole verification).  The table only memoises a pure
 *	function of the record text; DNS freshness stays with the resolver.
 *
 * LIMITS
 *	p= decodes to at most 4096 bytes; RSA keys over DKIM_MAX_KEY_BITS
 *	are refused here, the lower bound is the caller's policy.  The key
 *	table has DKIM_KEY_CACHE slots; a new key replaces the slot's old
 *	one (messages still using it hold their own reference).
 *
 * SECURITY
 *	Records come from DNS and are untrusted, including the key bytes:
 *	every DER byte must be consumed and the exponent is bounded.
 *
 * STANDARDS
 *	RFC 6376 3.6.1, RFC 8301, RFC 8463 4.
 */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "dkim_int.h"
#include "str.h"

#define MAX_KEY_DER	4096
#define DKIM_KEY_CACHE	256

struct cache_slot {
	uint32_t hash;
	enum dkim_keytype type;
	char	*p;
	size_t	 plen;
	EVP_PKEY *pkey;
	unsigned bits;
};

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static struct cache_slot cache[DKIM_KEY_CACHE];

static uint32_t
text_hash(const char *p, size_t n)
{
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; i < n; i++)
		h = (h ^ (unsigned char)p[i]) * 16777619u;
	return h;
}

/* cache_get - a new reference to the key for (type, p=), or NULL */
static EVP_PKEY *
cache_get(enum dkim_keytype type, const struct dkim_tag *p, uint32_t h,
    unsigned *bits)
{
	struct cache_slot *c = &cache[h % DKIM_KEY_CACHE];
	EVP_PKEY *k = NULL;

	pthread_mutex_lock(&cache_lock);
	if (c->pkey && c->hash == h && c->type == type &&
	    c->plen == p->value_len && memcmp(c->p, p->value, c->plen) == 0 &&
	    EVP_PKEY_up_ref(c->pkey) == 1) {
		k = c->pkey;
		*bits = c->bits;
	}
	pthread_mutex_unlock(&cache_lock);
	return k;
}

static void
cache_put(enum dkim_keytype type, const struct dkim_tag *p, uint32_t h,
    EVP_PKEY *k, unsigned bits)
{
	struct cache_slot *c = &cache[h % DKIM_KEY_CACHE], old;

	if (EVP_PKEY_up_ref(k) != 1)
		return;
	pthread_mutex_lock(&cache_lock);
	old = *c;
	c->hash = h;
	c->type = type;
	c->p = xstrndup(p->value, p->value_len);
	c->plen = p->value_len;
	c->pkey = k;
	c->bits = bits;
	pthread_mutex_unlock(&cache_lock);
	EVP_PKEY_free(old.pkey);
	free(old.p);
}

/*
 * list_has - does the colon-separated list in t contain word?  White
 * space around entries is ignored.
 */
static bool
list_has(const struct dkim_tag *t, const char *word)
{
	const char *p = t->value, *end = p + t->value_len;
	size_t wl = strlen(word);

	while (p <= end) {
		const char *c = memchr(p, ':', (size_t)(end - p));
		const char *e = c ? c : end;

		while (p < e && ch_is_space((unsigned char)*p))
			p++;
		while (e > p && ch_is_space((unsigned char)e[-1]))
			e--;
		if ((size_t)(e - p) == wl && memcmp(p, word, wl) == 0)
			return true;
		if (c == NULL)
			break;
		p = c + 1;
	}
	return false;
}

/* check_tags - everything but p= */
static int
check_tags(struct dkim_key *k, const struct dkim_tag *tags, size_t n,
    struct buf *why)
{
	const struct dkim_tag *t;

	if ((t = dkim_tag_find(tags, n, "v")) != NULL) {
		if (t != &tags[0]) {
			buf_adds(why, "key record v= is not the first tag");
			return -1;
		}
		if (!dkim_tag_is(t, "DKIM1")) {
			buf_adds(why, "key record version is not DKIM1");
			return -1;
		}
	}
	k->type = DKIM_KEY_RSA;
	if ((t = dkim_tag_find(tags, n, "k")) != NULL) {
		if (dkim_tag_is(t, "ed25519"))
			k->type = DKIM_KEY_ED25519;
		else if (!dkim_tag_is(t, "rsa")) {
			buf_adds(why, "unknown key type k=");
			dkim_reason_value(why, t->value, t->value_len);
			return -1;
		}
	}
	k->allow_sha1 = k->allow_sha256 = true;
	if ((t = dkim_tag_find(tags, n, "h")) != NULL) {
		k->allow_sha1 = list_has(t, "sha1");
		k->allow_sha256 = list_has(t, "sha256");
	}
	if ((t = dkim_tag_find(tags, n, "s")) != NULL &&
	    !list_has(t, "email") && !list_has(t, "*")) {
		buf_adds(why, "key is not for email (s=)");
		return -1;
	}
	if ((t = dkim_tag_find(tags, n, "t")) != NULL) {
		k->testing = list_has(t, "y");
		k->strict = list_has(t, "s");
	}
	return 0;
}

/* import - p= into an EVP_PKEY of the declared type */
static int
import(struct dkim_key *k, const struct dkim_tag *p, struct buf *why)
{
	uint32_t h = text_hash(p->value, p->value_len);
	unsigned char *der;
	size_t len;
	int rc;

	if ((k->pkey = cache_get(k->type, p, h, &k->bits)) != NULL)
		return 0;
	der = xmalloc(MAX_KEY_DER);
	rc = dkim_b64_decode(p->value, p->value_len, der, MAX_KEY_DER, &len);
	if (rc < 0) {
		buf_adds(why, rc == -2 ? "key p= is too long" :
		    "bad base64 in key p=");
		free(der);
		return -1;
	}
	if (k->type == DKIM_KEY_ED25519)
		rc = dkim_crypto_ed25519_public(der, len, &k->pkey, why);
	else
		rc = dkim_crypto_rsa_public(der, len, &k->pkey, why);
	free(der);
	if (rc < 0)
		return -1;
	k->bits = dkim_crypto_bits(k->pkey);
	if (k->type == DKIM_KEY_RSA && k->bits > DKIM_MAX_KEY_BITS) {
		buf_printf(why, "RSA key of %u bits is over the %d-bit limit",
		    k->bits, DKIM_MAX_KEY_BITS);
		return -1;
	}
	cache_put(k->type, p, h, k->pkey, k->bits);
	return 0;
}

int
dkim_key_parse(const char *txt, size_t len, struct dkim_key *k,
    struct buf *why)
{
	struct dkim_tag tags[DKIM_MAX_TAGS];
	const struct dkim_tag *p;
	size_t n;

	memset(k, 0, sizeof(*k));
	if (dkim_taglist_parse(txt, len, tags, DKIM_MAX_TAGS, &n, why) < 0) {
		buf_adds(why, " (key record)");
		return -1;
	}
	if (check_tags(k, tags, n, why) < 0)
		return -1;
	if ((p = dkim_tag_find(tags, n, "p")) == NULL) {
		buf_adds(why, "key record has no p=");
		return -1;
	}
	if (p->value_len == 0) {
		buf_adds(why, "key revoked (empty p=)");
		return -1;
	}
	if (import(k, p, why) < 0) {
		dkim_key_release(k);
		return -1;
	}
	return 0;
}

void
dkim_key_release(struct dkim_key *k)
{
	EVP_PKEY_free(k->pkey);
	memset(k, 0, sizeof(*k));
}
