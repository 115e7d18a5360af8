/*
 * dkim_crypto.c - OpenSSL 3 EVP for DKIM: digests, keys, signatures
 *
 * DESCRIPTION
 *	Only EVP interfaces are used (no RSA_* calls).  Digest methods are
 *	fetched once per process (EVP_MD_fetch), so a message does not pay
 *	for implicit fetches.  Both algorithms sign the SHA-256 (or SHA-1)
 *	hash of the canonical header fields: rsa-* as PKCS#1 v1.5 over
 *	that digest (EVP_PKEY_verify with a signature digest), ed25519-
 *	sha256 as pure Ed25519 over the 32 digest bytes (RFC 8463 3).
 *
 *	Public keys: RSA from SubjectPublicKeyInfo or RSAPublicKey DER
 *	(RFC 6376 3.6.1 allows both in practice), every byte consumed;
 *	Ed25519 from exactly 32 raw bytes (RFC 8463 4.2).  The public
 *	exponent is capped so a hostile key cannot make verification slow.
 *
 * SECURITY
 *	Key material from DNS is untrusted; private keys come from files
 *	checked by the caller.  Buffers that held private key bytes are
 *	wiped; OpenSSL clears its own copies when keys are freed.  Errors
 *	never print key bytes.
 *
 * STANDARDS
 *	RFC 6376 3.3, RFC 8301, RFC 8463, RFC 8032.
 */
#include "config.h"

#include <pthread.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "buf.h"
#include "dkim_int.h"
#include "log.h"

#define MAX_RSA_EXPONENT_BITS	64

static pthread_once_t md_once = PTHREAD_ONCE_INIT;
static EVP_MD *md_sha1, *md_sha256;

static void
fetch_digests(void)
{
	md_sha1 = EVP_MD_fetch(NULL, "SHA1", NULL);
	md_sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
	if (md_sha1 == NULL || md_sha256 == NULL)
		log_panic("dkim: OpenSSL has no SHA-1/SHA-256");
}

const EVP_MD *
dkim_md(enum dkim_hash h)
{
	pthread_once(&md_once, fetch_digests);
	return h == DKIM_HASH_SHA1 ? md_sha1 : md_sha256;
}

size_t
dkim_hash_len(enum dkim_hash h)
{
	return h == DKIM_HASH_SHA1 ? 20 : 32;
}

unsigned
dkim_crypto_bits(const EVP_PKEY *k)
{
	int bits = EVP_PKEY_get_bits(k);

	return bits > 0 ? (unsigned)bits : 0;
}

bool
dkim_crypto_is_ed25519(const EVP_PKEY *k)
{
	return EVP_PKEY_get_base_id(k) == EVP_PKEY_ED25519;
}

bool
dkim_crypto_is_rsa(const EVP_PKEY *k)
{
	return EVP_PKEY_get_base_id(k) == EVP_PKEY_RSA;
}

/*
 * der_item - one DER element of the given tag at *p: definite, minimal
 * length of at most two octets (a DKIM key needs no more).  Sets the
 * content span and moves *p past the element; -1 if malformed.
 */
static int
der_item(const unsigned char **p, const unsigned char *end, unsigned tag,
    const unsigned char **content, size_t *len)
{
	const unsigned char *q = *p;
	size_t l, k, nl;

	if (end - q < 2 || q[0] != tag)
		return -1;
	l = q[1];
	q += 2;
	if (l & 0x80) {
		nl = l & 0x7f;
		if (nl == 0 || nl > 2 || (size_t)(end - q) < nl || q[0] == 0)
			return -1;
		for (l = 0, k = 0; k < nl; k++)
			l = l << 8 | *q++;
		if (l < 0x80)
			return -1;	/* not minimal */
	}
	if ((size_t)(end - q) < l)
		return -1;
	*content = q;
	*len = l;
	*p = q + l;
	return 0;
}

/*
 * spki_rsa - the RSAPublicKey inside a SubjectPublicKeyInfo whose
 * algorithm is rsaEncryption (RFC 3279 2.3.1), every byte accounted
 * for.  0 and the inner span; -1 if malformed; -2 if another algorithm.
 */
static int
spki_rsa(const unsigned char *der, size_t n, const unsigned char **inner,
    size_t *ilen)
{
	static const unsigned char rsa_oid[] = { 0x2a, 0x86, 0x48, 0x86, 0xf7,
		0x0d, 0x01, 0x01, 0x01 };
	const unsigned char *p = der, *seq, *q, *alg, *a, *oid, *bits, *nul;
	size_t seqlen, alglen, oidlen, bitslen, nullen;

	if (der_item(&p, der + n, 0x30, &seq, &seqlen) < 0 || p != der + n)
		return -1;
	q = seq;
	if (der_item(&q, seq + seqlen, 0x30, &alg, &alglen) < 0)
		return -1;
	a = alg;
	if (der_item(&a, alg + alglen, 0x06, &oid, &oidlen) < 0)
		return -1;
	if (oidlen != sizeof(rsa_oid) || memcmp(oid, rsa_oid, oidlen) != 0)
		return -2;
	if (a < alg + alglen && (der_item(&a, alg + alglen, 0x05, &nul,
	    &nullen) < 0 || nullen != 0))
		return -1;
	if (a != alg + alglen)
		return -1;
	if (der_item(&q, seq + seqlen, 0x03, &bits, &bitslen) < 0 ||
	    q != seq + seqlen || bitslen < 2 || bits[0] != 0)
		return -1;
	*inner = bits + 1;
	*ilen = bitslen - 1;
	return 0;
}

/*
 * der_uint - a DER INTEGER that must be positive and minimally encoded;
 * the magnitude without its sign octet
 */
static int
der_uint(const unsigned char **p, const unsigned char *end,
    const unsigned char **mag, size_t *len)
{
	const unsigned char *c;
	size_t l;

	if (der_item(p, end, 0x02, &c, &l) < 0 || l == 0 || (c[0] & 0x80))
		return -1;
	if (c[0] == 0) {
		if (l == 1 || !(c[1] & 0x80))
			return -1;	/* zero, or not minimal */
		c++;
		l--;
	}
	*mag = c;
	*len = l;
	return 0;
}

/*
 * rsa_from_pkcs1 - RSAPublicKey (RFC 8017 A.1.1) into a provider-native
 * key: odd modulus, odd exponent above 1 of at most
 * MAX_RSA_EXPONENT_BITS, below the modulus.
 */
static int
rsa_from_pkcs1(const unsigned char *der, size_t n, EVP_PKEY **out,
    struct buf *why)
{
	const unsigned char *p = der, *seq, *q, *nm, *em;
	size_t seqlen, nl, el;
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	BIGNUM *bn = NULL, *be = NULL;
	int rc = -1;

	if (der_item(&p, der + n, 0x30, &seq, &seqlen) < 0 || p != der + n) {
		buf_adds(why, "key data is not a valid RSA public key");
		return -1;
	}
	q = seq;
	if (der_uint(&q, seq + seqlen, &nm, &nl) < 0 ||
	    der_uint(&q, seq + seqlen, &em, &el) < 0 || q != seq + seqlen) {
		buf_adds(why, "key data is not a valid RSA public key");
		return -1;
	}
	if (!(nm[nl - 1] & 1) || !(em[el - 1] & 1) || el * 8 >
	    MAX_RSA_EXPONENT_BITS || (el == 1 && em[0] == 1) || el >= nl) {
		buf_adds(why, "RSA public key parameters unusable");
		return -1;
	}
	if ((bld = OSSL_PARAM_BLD_new()) == NULL ||
	    (bn = BN_bin2bn(nm, (int)nl, NULL)) == NULL ||
	    (be = BN_bin2bn(em, (int)el, NULL)) == NULL ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be) ||
	    (params = OSSL_PARAM_BLD_to_param(bld)) == NULL ||
	    (ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, out, EVP_PKEY_PUBLIC_KEY, params) != 1)
		buf_adds(why, "RSA key rejected by OpenSSL");
	else
		rc = 0;
	ERR_clear_error();
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(bn);
	BN_free(be);
	return rc;
}

/*
 * dkim_crypto_rsa_public - OpenSSL 3's generic decoder (d2i_PUBKEY)
 * costs about 200 us per key; the SubjectPublicKeyInfo wrapper and the
 * RSAPublicKey inside are read here instead (a few bounded DER reads)
 * and the key is built from n and e with EVP_PKEY_fromdata().
 */
int
dkim_crypto_rsa_public(const unsigned char *der, size_t n, EVP_PKEY **out,
    struct buf *why)
{
	const unsigned char *inner = der;
	size_t ilen = n;
	int rc;

	*out = NULL;
	if (n == 0 || n > 4096) {
		buf_adds(why, "key data has an impossible length");
		return -1;
	}
	/* SubjectPublicKeyInfo, else a bare RSAPublicKey (PKCS#1) */
	if ((rc = spki_rsa(der, n, &inner, &ilen)) == -2) {
		buf_adds(why, "key data is not an RSA key");
		return -1;
	}
	if (rc < 0) {
		inner = der;
		ilen = n;
	}
	return rsa_from_pkcs1(inner, ilen, out, why);
}

int
dkim_crypto_ed25519_public(const unsigned char *raw, size_t n, EVP_PKEY **out,
    struct buf *why)
{
	*out = NULL;
	if (n != 32) {
		buf_printf(why, "ed25519 key must be 32 raw bytes, not %zu", n);
		return -1;
	}
	*out = EVP_PKEY_new_raw_public_key_ex(NULL, "ED25519", NULL, raw, n);
	ERR_clear_error();
	if (*out == NULL) {
		buf_adds(why, "ed25519 key rejected by OpenSSL");
		return -1;
	}
	return 0;
}

int
dkim_crypto_verify(EVP_PKEY *k, enum dkim_alg alg, const unsigned char *hash,
    size_t hlen, const unsigned char *sig, size_t slen)
{
	int rc = 0;

	if (alg == DKIM_ALG_ED25519_SHA256) {
		EVP_MD_CTX *m = EVP_MD_CTX_new();

		if (m && EVP_DigestVerifyInit_ex(m, NULL, NULL, NULL, NULL, k,
		    NULL) == 1)
			rc = EVP_DigestVerify(m, sig, slen, hash, hlen) == 1;
		EVP_MD_CTX_free(m);
	} else {
		EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_pkey(NULL, k, NULL);

		if (c && EVP_PKEY_verify_init(c) == 1 &&
		    EVP_PKEY_CTX_set_rsa_padding(c, RSA_PKCS1_PADDING) > 0 &&
		    EVP_PKEY_CTX_set_signature_md(c,
		    dkim_md(dkim_alg_hash(alg))) > 0)
			rc = EVP_PKEY_verify(c, sig, slen, hash, hlen) == 1;
		EVP_PKEY_CTX_free(c);
	}
	ERR_clear_error();
	return rc;
}

int
dkim_crypto_sign(EVP_PKEY *k, enum dkim_alg alg, const unsigned char *hash,
    size_t hlen, unsigned char *sig, size_t *slen)
{
	int rc = -1;

	if (alg == DKIM_ALG_ED25519_SHA256) {
		EVP_MD_CTX *m = EVP_MD_CTX_new();

		if (m && EVP_DigestSignInit_ex(m, NULL, NULL, NULL, NULL, k,
		    NULL) == 1 &&
		    EVP_DigestSign(m, sig, slen, hash, hlen) == 1)
			rc = 0;
		EVP_MD_CTX_free(m);
	} else {
		EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_pkey(NULL, k, NULL);

		if (c && EVP_PKEY_sign_init(c) == 1 &&
		    EVP_PKEY_CTX_set_rsa_padding(c, RSA_PKCS1_PADDING) > 0 &&
		    EVP_PKEY_CTX_set_signature_md(c,
		    dkim_md(dkim_alg_hash(alg))) > 0 &&
		    EVP_PKEY_sign(c, sig, slen, hash, hlen) == 1)
			rc = 0;
		EVP_PKEY_CTX_free(c);
	}
	ERR_clear_error();
	return rc;
}

/* no_passphrase - never prompt: encrypted keys are refused */
static int
no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

/* raw_ed25519 - a file holding the base64 of a 32-byte Ed25519 seed */
static EVP_PKEY *
raw_ed25519(const char *data, size_t n)
{
	unsigned char seed[48];
	size_t len;
	EVP_PKEY *k = NULL;

	if (dkim_b64_decode(data, n, seed, sizeof(seed), &len) == 0 &&
	    len == 32)
		k = EVP_PKEY_new_raw_private_key_ex(NULL, "ED25519", NULL,
		    seed, 32);
	OPENSSL_cleanse(seed, sizeof(seed));
	return k;
}

int
dkim_crypto_private(const char *data, size_t n, EVP_PKEY **out,
    struct buf *why)
{
	EVP_PKEY *k = NULL;
	BIO *bio;
	unsigned bits;

	*out = NULL;
	if (n > 0 && memmem(data, n, "-----BEGIN", 10) != NULL) {
		if ((bio = BIO_new_mem_buf(data, (int)n)) != NULL) {
			k = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase,
			    NULL);
			BIO_free(bio);
		}
	} else
		k = raw_ed25519(data, n);
	ERR_clear_error();
	if (k == NULL) {
		buf_adds(why, "not a PEM private key (PKCS#8 or PKCS#1, "
		    "unencrypted) nor a base64 Ed25519 seed");
		return -1;
	}
	if (dkim_crypto_is_rsa(k)) {
		bits = dkim_crypto_bits(k);
		if (bits < DKIM_MIN_SIGN_BITS || bits > DKIM_MAX_KEY_BITS) {
			buf_printf(why, "RSA key of %u bits (must be %d to %d)",
			    bits, DKIM_MIN_SIGN_BITS, DKIM_MAX_KEY_BITS);
			EVP_PKEY_free(k);
			return -1;
		}
	} else if (!dkim_crypto_is_ed25519(k)) {
		buf_adds(why, "key is neither RSA nor Ed25519");
		EVP_PKEY_free(k);
		return -1;
	}
	*out = k;
	return 0;
}

int
dkim_crypto_public_record(EVP_PKEY *k, struct buf *record, struct buf *why)
{
	unsigned char raw[32], *der = NULL;
	size_t rawlen = sizeof(raw);
	int len;

	if (dkim_crypto_is_ed25519(k)) {
		if (EVP_PKEY_get_raw_public_key(k, raw, &rawlen) != 1 ||
		    rawlen != 32) {
			ERR_clear_error();
			buf_adds(why, "cannot export the Ed25519 public key");
			return -1;
		}
		buf_adds(record, "v=DKIM1; k=ed25519; p=");
		dkim_b64_encode(raw, rawlen, record);
		return 0;
	}
	if ((len = i2d_PUBKEY(k, &der)) <= 0) {
		ERR_clear_error();
		buf_adds(why, "cannot export the RSA public key");
		return -1;
	}
	buf_adds(record, "v=DKIM1; k=rsa; p=");
	dkim_b64_encode(der, (size_t)len, record);
	OPENSSL_free(der);
	return 0;
}

int
dkim_keygen(const char *type, unsigned bits, struct buf *pem,
    struct buf *record, struct buf *why)
{
	EVP_PKEY *k = NULL;
	BIO *bio = NULL;
	char *p;
	long n;
	int rc = -1;

	if (strcmp(type, "ed25519") == 0)
		k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	else if (strcmp(type, "rsa") == 0) {
		if (bits < DKIM_MIN_SIGN_BITS || bits > DKIM_MAX_KEY_BITS) {
			buf_printf(why, "RSA keys must have %d to %d bits",
			    DKIM_MIN_SIGN_BITS, DKIM_MAX_KEY_BITS);
			return -1;
		}
		k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)bits);
	} else {
		buf_adds(why, "key type must be rsa or ed25519");
		return -1;
	}
	if (k == NULL) {
		buf_adds(why, "key generation failed");
		goto out;
	}
	if ((bio = BIO_new(BIO_s_secmem())) == NULL ||
	    PEM_write_bio_PrivateKey(bio, k, NULL, NULL, 0, NULL, NULL) != 1) {
		buf_adds(why, "cannot encode the private key");
		goto out;
	}
	n = BIO_get_mem_data(bio, &p);
	buf_add(pem, p, (size_t)n);
	rc = dkim_crypto_public_record(k, record, why);
out:
	ERR_clear_error();
	BIO_free(bio);
	EVP_PKEY_free(k);
	return rc;
}
