/*
 * dkim.h - DKIM verification and signing (RFC 6376, RFC 8301, RFC 8463)
 *
 * DESCRIPTION
 *	Verification is streaming and mirrors the milter callbacks:
 *
 *	    v = dkim_verify_new(&opts, hdrs, nhdrs);   end of headers
 *	    dkim_verify_prefetch(v, dns);              start key lookups
 *	    dkim_verify_body(v, chunk, len);           zero or more times
 *	    dkim_verify_finish(v, dns, budget);        keys, hashes, verdicts
 *
 *	dkim_verify_new() parses every DKIM-Signature field (up to
 *	opts.max_signatures), computes the header hashes and sets up one
 *	body hasher per distinct (canonicalisation, hash, l=) triple, so
 *	the body is read exactly once however many signatures there are.
 *	Each signature gets its own struct dkim_sigresult: pass, fail,
 *	policy, temperror or permerror with a one-line reason.
 *
 *	Signing: dkim_signconf_load() reads the signing keys named in the
 *	configuration (once, at load time); dkim_sign_new() picks the keys
 *	for an author domain, dkim_sign_body() hashes the body as it
 *	streams and dkim_sign_finish() returns one DKIM-Signature field
 *	value per key (rsa-sha256 and/or ed25519-sha256: dual signing).
 *
 *	The scan pipeline's use of this module (step_dkim.c, and
 *	dkim_scan_results() for the checks after it) is declared in
 *	scan_steps.h; nothing here knows struct scan, so the layers can
 *	serve another signature scheme (ARC, DKIM2) as they are.
 *
 * POLICY (RFC 8301)
 *	rsa-sha1 signatures are never valid: they are reported as
 *	permerror with the reason "rsa-sha1 is not accepted (RFC 8301)"
 *	and flagged (sha1 = true).  RSA keys shorter than min_key_bits
 *	(default 1024) or longer than DKIM_MAX_KEY_BITS are permerror.
 *	Key-fetch NXDOMAIN/NODATA is permerror; timeout, SERVFAIL or a
 *	malformed answer is temperror (never the other way round).
 *
 * SECURITY
 *	Everything parsed here (signature fields, key records, bodies) is
 *	untrusted.  Every parser is bounded (DKIM_MAX_* below) and returns
 *	a reason instead of failing hard.  Private keys are read only by
 *	dkim_signconf_load(), whose key files must not be accessible to
 *	group or others; key bytes are wiped after parsing and never
 *	logged.
 */
#ifndef MW_DKIM_H
#define MW_DKIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "buf.h"
#include "dns.h"

struct buf;
struct conf;
struct dns_budget;
struct dns_resolver;
struct hdr;
struct msg;
struct strlist;

#define DKIM_MAX_KEY_BITS	8192	/* larger RSA keys are refused */
#define DKIM_MAX_SIGNED_HEADERS	512	/* h= entries per signature */
#define DKIM_MAX_SIG_BYTES	1024	/* decoded b= (8192-bit RSA) */
#define DKIM_MAX_SIGNATURES	50	/* upper bound of the config key */

enum dkim_result {
	DKIM_NONE,		/* not evaluated */
	DKIM_PASS,
	DKIM_FAIL,		/* body hash or signature did not verify */
	DKIM_POLICY,		/* valid, but refused by local policy (l=) */
	DKIM_NEUTRAL,
	DKIM_TEMPERROR,		/* key could not be fetched: try later */
	DKIM_PERMERROR		/* unusable signature or key */
};

/* dkim_result_name - "pass", "fail", ... as in Authentication-Results */
const char *dkim_result_name(enum dkim_result);

/* what dkim_verify_finish() does with a valid l= signature */
enum dkim_lpolicy {
	DKIM_L_ACCEPT,		/* pass, flagged l_partial */
	DKIM_L_REFUSE		/* policy when l= leaves body bytes unsigned */
};

struct dkim_vopts {
	unsigned max_signatures;	/* fields evaluated; the rest counted */
	unsigned min_key_bits;		/* RSA minimum, RFC 8301: >= 1024 */
	unsigned clock_skew;		/* seconds t= may lie in the future */
	enum dkim_lpolicy l_policy;
	time_t	 now;			/* for x= and t= (injectable) */
};

/*
 * struct dkim_sigresult - the outcome for one DKIM-Signature field.
 * Strings are owned by the verifier; NULL when the tag was absent or
 * unusable.  domain and selector are validated DNS names in lower case;
 * identity is the decoded i= and may hold any bytes (escape before
 * display).
 */
struct dkim_sigresult {
	enum dkim_result result;
	char	*reason;		/* one line, never NULL once finished */
	size_t	 field_index;		/* 0-based among DKIM-Signature fields */
	unsigned instance;		/* ARC i= (AMS results), else 0 */
	char	*domain;		/* d= */
	char	*selector;		/* s= */
	char	*identity;		/* i= */
	const char *algorithm;		/* "rsa-sha256", ... or NULL */
	char	 b_prefix[9];		/* first 8 characters of b= */
	unsigned key_bits;		/* 0 if no key was loaded */
	bool	 testing;		/* key record t=y */
	bool	 sha1;			/* a=rsa-sha1 (RFC 8301) */
	bool	 has_l;
	uint64_t l;			/* l= */
	uint64_t body_length;		/* canonical body length seen */
	bool	 l_partial;		/* l= < body_length */
	bool	 header_injection;	/* see injected */
	char	 injected[16];		/* e.g. "From": more fields than signed */
};

struct dkim_verify;

/*
 * dkim_verify_new - parse signatures among hdrs (borrowed: they must stay
 * valid until dkim_verify_free()), hash the signed header fields and
 * prepare the body hashers.
 */
struct dkim_verify *dkim_verify_new(const struct dkim_vopts *,
	    const struct hdr *hdrs, size_t nhdrs);
/* dkim_verify_prefetch - start the key lookups (dns may be NULL) */
void	 dkim_verify_prefetch(struct dkim_verify *, struct dns_resolver *);
void	 dkim_verify_body(struct dkim_verify *, const void *, size_t);
/*
 * dkim_verify_finish - end of body: fetch keys through dns (NULL gives
 * temperror "no resolver"), compare hashes, verify; fills every result.
 */
void	 dkim_verify_finish(struct dkim_verify *, struct dns_resolver *,
	    struct dns_budget *);
/* dkim_verify_results - the results (count returned, array in *out) */
size_t	 dkim_verify_results(const struct dkim_verify *,
	    const struct dkim_sigresult **out);
/* dkim_verify_seen - DKIM-Signature fields in the message (>= results) */
size_t	 dkim_verify_seen(const struct dkim_verify *);
void	 dkim_verify_free(struct dkim_verify **);

/* dkim_vopts_from_conf - the options the configuration asks for */
void	 dkim_vopts_from_conf(struct dkim_vopts *, const struct conf *,
	    time_t now);

/* ---------------------------------------------------------------- */
/* Signing                                                          */
/* ---------------------------------------------------------------- */

/*
 * struct dkim_signopts - what dkim_signconf_load() needs.  keys are
 * "DOMAIN:SELECTOR:PATH" entries (see doc/dkim.md); headers is the list
 * of fields to sign when present, oversign the fields signed once more
 * than present; canon is "relaxed/relaxed" style; expire the lifetime
 * put into x= (0: no x=).
 */
struct dkim_signopts {
	const struct strlist *keys;
	const struct strlist *headers;
	const struct strlist *oversign;
	const char *canon;
	uint64_t expire;
};

struct dkim_signconf;

/*
 * dkim_signconf_load - read and check every key file (regular file, not
 * accessible by group or others, owned by us or root, an RSA key of
 * 1024..8192 bits or an Ed25519 key).  0, or -1 with a reason naming the
 * file (never its content).
 */
int	 dkim_signconf_load(const struct dkim_signopts *,
	    struct dkim_signconf **, struct buf *why);
/* dkim_signconf_free - frees and wipes the keys */
void	 dkim_signconf_free(struct dkim_signconf *);
/* dkim_signconf_check_entry - syntax of one DOMAIN:SELECTOR:PATH entry */
int	 dkim_signconf_check_entry(const char *, struct buf *why);
/* dkim_signconf_check_canon - "simple" / "relaxed" [ "/" same ] */
int	 dkim_signconf_check_canon(const char *, struct buf *why);
/* dkim_signconf_has_domain - is there a key for domain or a parent? */
bool	 dkim_signconf_has_domain(const struct dkim_signconf *, const char *);
/* dkim_signconf_nkeys - the number of keys (0 for NULL) */
size_t	 dkim_signconf_nkeys(const struct dkim_signconf *);

/*
 * struct dkim_keytest - what dkim_keytest_run() (dkim_testkey.c) found
 * for one signing key: the published record at name, whether its
 * public key is the private key's, and one "error: ..." or "warning:
 * ..." line per problem in notes.  A key with errors cannot produce
 * signatures that verify; warnings are advice (t=y, a short key).
 */
struct dkim_keytest {
	const char *domain, *selector, *path;	/* owned by the signconf */
	const char *algorithm;			/* "rsa-sha256", ... */
	unsigned bits;				/* private key */
	char	 name[2 * 256 + 16];		/* selector._domainkey.domain */
	enum dns_status dns;
	struct buf record;			/* the record checked, raw */
	unsigned record_bits;			/* its key, 0 if unusable */
	bool	 match;				/* public key == private key */
	unsigned errors, warnings;
	struct buf notes;
};

/*
 * dkim_keytest_init - t for key i (< dkim_signconf_nkeys()): the key's
 * domain, selector, file, algorithm, size and record name;
 * dkim_keytest_run - then test it against its published record, looked
 * up through dns; release with dkim_keytest_release()
 */
void	 dkim_keytest_init(const struct dkim_signconf *, size_t i,
	    struct dkim_keytest *);
void	 dkim_keytest_run(const struct dkim_signconf *, size_t i,
	    struct dns_resolver *, struct dkim_keytest *);
void	 dkim_keytest_release(struct dkim_keytest *);

struct dkim_sign;

/*
 * dkim_sign_new - a signer for mail whose author domain is domain:
 * every key configured for the longest configured domain that equals
 * domain or is a parent of it.  NULL if none applies.
 */
struct dkim_sign *dkim_sign_new(const struct dkim_signconf *,
	    const char *domain, time_t now);
void	 dkim_sign_body(struct dkim_sign *, const void *, size_t);

/* one signature made: field value without the leading space, CRLF folds */
struct dkim_signed {
	char	*value;
	const char *domain, *selector, *algorithm;	/* owned by the conf */
	unsigned key_bits;
};

/*
 * dkim_sign_finish - sign the header fields hdrs (which must hold
 * exactly one From).  Returns the number of signatures (0 with a reason
 * in why when nothing could be signed); the caller frees with
 * dkim_signed_free().
 */
size_t	 dkim_sign_finish(struct dkim_sign *, const struct hdr *hdrs,
	    size_t nhdrs, struct dkim_signed **out, struct buf *why);
void	 dkim_signed_free(struct dkim_signed *, size_t);
void	 dkim_sign_free(struct dkim_sign **);

/*
 * dkim_keygen - a new private key (type "rsa" with bits, or "ed25519")
 * as PKCS#8 PEM in pem, and the key record to publish ("v=DKIM1; k=...;
 * p=...") in record.  0, or -1 with a reason.
 */
int	 dkim_keygen(const char *type, unsigned bits, struct buf *pem,
	    struct buf *record, struct buf *why);

#endif
