/*
 * dkim_int.h - private to filter/dkim*.c and filter/arc*.c
 *
 * DESCRIPTION
 *	The pieces of the DKIM module and how they fit:
 *	dkim_sig.c     tag lists (RFC 6376 3.2), strict base64, the
 *	               DKIM-Signature field (3.5)
 *	dkim_canon.c   header and body canonicalisation (3.4), header
 *	               selection and hashing (5.4.2)
 *	dkim_key.c     key records (3.6.1) and public key import
 *	dkim_crypto.c  OpenSSL EVP: digests, RSA and Ed25519 verify/sign
 *	dkim.c         the verification flow
 *	dkim_sign.c    signing keys and the signing flow
 *
 *	ARC (arc.c) reuses all of it: an ARC-Message-Signature is a
 *	DKIM-Signature under another name with i= an instance, and an
 *	ARC-Seal is signed and verified with the same keys and crypto.
 */
#ifndef MW_DKIM_INT_H
#define MW_DKIM_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "dkim.h"

struct buf;
struct hdr;

enum dkim_canon {
	DKIM_CANON_SIMPLE,
	DKIM_CANON_RELAXED
};

enum dkim_hash {
	DKIM_HASH_SHA1,
	DKIM_HASH_SHA256
};

enum dkim_alg {
	DKIM_ALG_NONE,
	DKIM_ALG_RSA_SHA1,
	DKIM_ALG_RSA_SHA256,
	DKIM_ALG_ED25519_SHA256
};

enum dkim_keytype {
	DKIM_KEY_RSA,
	DKIM_KEY_ED25519
};

#define DKIM_MAX_TAGS		64	/* tags in one tag list */
#define DKIM_MAX_HASH		64	/* bytes of any digest */
#define DKIM_MAX_IDENTITY	255	/* decoded i= */
#define DKIM_MIN_SIGN_BITS	1024	/* signing keys */

/* ---- dkim_sig.c ---- */

/*
 * struct dkim_tag - one tag of a tag list: name and value (surrounding
 * white space trimmed, inner FWS kept) point into the parsed text;
 * raw_start/raw_end delimit everything between '=' and ';' (or the end),
 * which is what "b= deleted" removes (RFC 6376 3.7).
 */
struct dkim_tag {
	const char *name;
	size_t	 name_len;
	const char *value;
	size_t	 value_len;
	size_t	 raw_start, raw_end;
};

/*
 * dkim_taglist_parse - RFC 6376 3.2 tag-list, strictly: tag names
 * ALPHA *(ALPHA / DIGIT / "_"), values of VALCHAR and folding white
 * space, no duplicate names, at most max tags.  0, or -1 with a reason.
 */
int	 dkim_taglist_parse(const char *p, size_t n, struct dkim_tag *tags,
	    size_t max, size_t *ntags, struct buf *why);
const struct dkim_tag *dkim_tag_find(const struct dkim_tag *, size_t n,
	    const char *name);
/* dkim_tag_is - is the tag's value exactly s? */
bool	 dkim_tag_is(const struct dkim_tag *, const char *s);

/*
 * dkim_b64_decode - strict base64 (padding required, no stray
 * characters) with white space ignored.  0 and *outlen, -1 if malformed,
 * -2 if the result would exceed max bytes.
 */
int	 dkim_b64_decode(const char *p, size_t n, unsigned char *out,
	    size_t max, size_t *outlen);
void	 dkim_b64_encode(const unsigned char *, size_t, struct buf *);

/* dkim_reason_value - append untrusted text to a reason, made safe */
void	 dkim_reason_value(struct buf *why, const char *p, size_t n);

/* which field a signature came from: what its tags must and may be */
enum dkim_sig_kind {
	DKIM_SIG_DKIM,		/* DKIM-Signature (RFC 6376 3.5) */
	DKIM_SIG_AMS,		/* ARC-Message-Signature (RFC 8617 4.1.2) */
	DKIM_SIG_AS		/* ARC-Seal (RFC 8617 4.1.3) */
};

/* cv= of an ARC-Seal (RFC 8617 4.1.3) */
enum dkim_arc_cv {
	DKIM_CV_UNSET,
	DKIM_CV_NONE,
	DKIM_CV_PASS,
	DKIM_CV_FAIL
};

#define DKIM_ARC_MAX_INSTANCE	50	/* RFC 8617 4.2.1 */

struct dkim_sig {
	enum dkim_sig_kind kind;
	unsigned instance;		/* ARC i= (1..50), 0 for DKIM */
	enum dkim_arc_cv cv;		/* ARC-Seal cv= */
	enum dkim_alg alg;
	enum dkim_canon hcanon, bcanon;
	char	*domain;		/* d=, lower case */
	char	*selector;		/* s=, lower case */
	char	*identity;		/* i= decoded, or NULL */
	char	**hnames;		/* h= as written, into hblock */
	char	*hblock;		/* the names, NUL-ended, one block */
	size_t	 nh;
	unsigned char *b;
	size_t	 blen;
	unsigned char bh[DKIM_MAX_HASH];
	size_t	 bhlen;
	char	 b_prefix[9];
	bool	 has_l, has_t, has_x;
	uint64_t l, t, x;
	size_t	 b_start, b_end;	/* deleted for hashing */
};

/*
 * dkim_sig_parse - one DKIM-Signature field value.  0, or -1 with the
 * reason of the first problem; fields that were readable (domain,
 * selector, alg, b_prefix...) are filled either way, for the report.
 * Release with dkim_sig_release() in both cases.
 */
int	 dkim_sig_parse(const char *value, size_t len, struct dkim_sig *,
	    struct buf *why);
/*
 * dkim_sig_parse_kind - the same for an ARC field: AMS without v=, i=
 * the instance; AS with i=, cv=, no h=, bh= or c= (relaxed headers)
 */
int	 dkim_sig_parse_kind(const char *value, size_t len,
	    enum dkim_sig_kind, struct dkim_sig *, struct buf *why);
void	 dkim_sig_release(struct dkim_sig *);
const char *dkim_alg_name(enum dkim_alg);
enum dkim_hash dkim_alg_hash(enum dkim_alg);
enum dkim_keytype dkim_alg_keytype(enum dkim_alg);
/* dkim_canon_parse - "relaxed/simple" etc.; 0 or -1 */
int	 dkim_canon_parse(const char *p, size_t n, enum dkim_canon *h,
	    enum dkim_canon *b);
/* dkim_domain_valid - a DNS name DKIM may use for d= or a selector */
bool	 dkim_domain_valid(const char *p, size_t n);
/* dkim_domain_within - dom[0..n) equals d or is a subdomain (any case) */
bool	 dkim_domain_within(const char *dom, size_t n, const char *d);

/* ---- dkim_canon.c ---- */

#define DKIM_CANON_STAGE	16384

typedef void dkim_sink_fn(void *arg, const unsigned char *, size_t);

/*
 * struct dkim_body - streaming body canonicaliser (RFC 6376 3.4.3/3.4.4).
 * Canonical bytes go to sink in order; trailing empty lines are held
 * back as a count and dropped at the end.  total counts canonical bytes
 * handed to the sink: after dkim_body_final() it is the canonical body
 * length (what l= is compared against).
 */
struct dkim_body {
	enum dkim_canon mode;
	dkim_sink_fn *sink;
	void	*arg;
	uint64_t total;
	uint64_t pending_crlf;
	bool	 pending_wsp;
	bool	 pending_cr;
	bool	 line_has;
	bool	 finished;
	size_t	 outn;
	unsigned char out[DKIM_CANON_STAGE];
};

void	 dkim_body_init(struct dkim_body *, enum dkim_canon, dkim_sink_fn *,
	    void *arg);
void	 dkim_body_update(struct dkim_body *, const void *, size_t);
void	 dkim_body_final(struct dkim_body *);

/*
 * dkim_canon_header - append the canonical "name:value" (no CRLF) of one
 * field to out; value is the stored field value (after the colon).
 */
void	 dkim_canon_header(enum dkim_canon, const char *name, size_t nlen,
	    const char *value, size_t vlen, struct buf *out);

/*
 * dkim_hash_headers - RFC 6376 5.4.2: for each name, the last field of
 * that name not yet used, canonicalised with CRLF, into ctx.  hdrs[skip]
 * (the signature being verified) is never selected; pass (size_t)-1 to
 * skip none.  Names without a field left contribute nothing.
 */
void	 dkim_hash_headers(EVP_MD_CTX *, enum dkim_canon,
	    const struct hdr *hdrs, size_t nhdrs, char *const *names,
	    size_t nnames, size_t skip, struct buf *scratch);

/* ---- dkim.c ---- */

/*
 * dkim_verify_new_kind - dkim_verify_new() over the fields of another
 * signature kind (DKIM_SIG_AMS: every ARC-Message-Signature, with its
 * instance in the result); the same body hashing, keys and policy
 */
struct dkim_verify *dkim_verify_new_kind(const struct dkim_vopts *,
	    const struct hdr *hdrs, size_t nhdrs, enum dkim_sig_kind);
/*
 * dkim_verify_hash - verify sig (an ARC-Seal) over a header hash the
 * caller computed, with the key fetched once per message through v
 * and the same key policy and clock checks as a DKIM-Signature
 */
enum dkim_result dkim_verify_hash(struct dkim_verify *v,
	    const struct dkim_sig *sig, const unsigned char *hash,
	    size_t hlen, struct dns_resolver *, struct dns_budget *,
	    unsigned *key_bits, struct buf *why);

/* ---- dkim_key.c ---- */

struct dkim_key {
	enum dkim_keytype type;
	EVP_PKEY *pkey;
	unsigned bits;
	bool	 testing;		/* t=y */
	bool	 strict;		/* t=s */
	bool	 allow_sha1;		/* h= (both when absent) */
	bool	 allow_sha256;
};

/*
 * dkim_key_parse - a key record (the TXT strings joined).  0, or -1 with
 * the reason (empty p= is "key revoked").  Size limits other than
 * DKIM_MAX_KEY_BITS are the caller's (dkim_min_key_bits).
 */
int	 dkim_key_parse(const char *txt, size_t len, struct dkim_key *,
	    struct buf *why);
void	 dkim_key_release(struct dkim_key *);

/* ---- dkim_sign.c ---- */

/* struct dkim_signkey - one DOMAIN:SELECTOR:PATH of the configuration */
struct dkim_signkey {
	char	*domain;		/* lower case */
	char	*selector;		/* lower case */
	char	*path;
	enum dkim_alg alg;		/* rsa-sha256 or ed25519-sha256 */
	EVP_PKEY *pkey;
	unsigned bits;
};

/* dkim_signconf_key - key i (< dkim_signconf_nkeys()) */
const struct dkim_signkey *dkim_signconf_key(const struct dkim_signconf *,
	    size_t i);

/* ---- dkim_crypto.c ---- */

const EVP_MD *dkim_md(enum dkim_hash);
size_t	 dkim_hash_len(enum dkim_hash);
/* dkim_crypto_verify - 1 valid, 0 not valid */
int	 dkim_crypto_verify(EVP_PKEY *, enum dkim_alg,
	    const unsigned char *hash, size_t hlen,
	    const unsigned char *sig, size_t slen);
/* dkim_crypto_sign - signature into sig (capacity *slen); 0 or -1 */
int	 dkim_crypto_sign(EVP_PKEY *, enum dkim_alg,
	    const unsigned char *hash, size_t hlen,
	    unsigned char *sig, size_t *slen);
/* RSA public key: SubjectPublicKeyInfo or RSAPublicKey DER, all bytes */
int	 dkim_crypto_rsa_public(const unsigned char *der, size_t n,
	    EVP_PKEY **, struct buf *why);
/* Ed25519 public key: exactly 32 raw bytes (RFC 8463 4.2) */
int	 dkim_crypto_ed25519_public(const unsigned char *raw, size_t n,
	    EVP_PKEY **, struct buf *why);
/* dkim_crypto_private - PEM (PKCS#8 or PKCS#1) or base64 Ed25519 seed */
int	 dkim_crypto_private(const char *data, size_t n, EVP_PKEY **,
	    struct buf *why);
/* dkim_crypto_public_record - "v=DKIM1; k=...; p=..." for a key */
int	 dkim_crypto_public_record(EVP_PKEY *, struct buf *record,
	    struct buf *why);
unsigned dkim_crypto_bits(const EVP_PKEY *);
bool	 dkim_crypto_is_ed25519(const EVP_PKEY *);
bool	 dkim_crypto_is_rsa(const EVP_PKEY *);

#endif
