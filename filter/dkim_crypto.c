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

/* rsa_check - the key is RSA with a sane exponent */
static int
rsa_check(EVP_PKEY *k, struct buf *why)
{
	BIGNUM *e = NULL;
	int ok;

	if (!dkim_crypto_is_rsa(k)) {
		buf_adds(why, "key data is not an RSA key");
		return -1;
	}
	if (!EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_RSA_E, &e)) {
		buf_adds(why, "RSA key without a public exponent");
		return -1;
	}
	ok = BN_num_bits(e) <= MAX_RSA_EXPONENT_BITS && BN_is_odd(e) &&
	    !BN_is_one(e);
	BN_free(e);
	if (!ok) {
		buf_adds(why, "RSA public exponent unusable");
		return -1;
	}
	return 0;
}

int
dkim_crypto_rsa_public(const unsigned char *der, size_t n, EVP_PKEY **out,
    struct buf *why)
{
	const unsigned char *q = der;
	EVP_PKEY *k;

	*out = NULL;
	if (n == 0 || n > 4096) {
		buf_adds(why, "key data has an impossible length");
		return -1;
	}
	k = d2i_PUBKEY(NULL, &q, (long)n);
	if (k == NULL || q != der + n) {
		EVP_PKEY_free(k);
		q = der;
		k = d2i_PublicKey(EVP_PKEY_RSA, NULL, &q, (long)n);
		if (k != NULL && q != der + n) {
			EVP_PKEY_free(k);
			k = NULL;
		}
	}
	ERR_clear_error();
	if (k == NULL) {
		buf_adds(why, "key data is not a valid RSA public key");
		return -1;
	}
	if (rsa_check(k, why) < 0) {
		EVP_PKEY_free(k);
		return -1;
	}
	*out = k;
	return 0;
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
