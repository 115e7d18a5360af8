/*
 * arc.h - ARC chain verification (RFC 8617), verify only
 *
 * DESCRIPTION
 *	Streaming like DKIM, and mirroring the milter callbacks:
 *
 *	    a = arc_verify_new(&opts, hdrs, nhdrs);     end of headers
 *	    arc_verify_prefetch(a, dns);                start key lookups
 *	    arc_verify_body(a, chunk, len);             zero or more times
 *	    arc_verify_finish(a, dns, budget);          chain result
 *
 *	arc_verify_new() sorts the ARC-Authentication-Results (AAR),
 *	ARC-Message-Signature (AMS) and ARC-Seal (AS) fields into sets by
 *	instance and checks the structure (RFC 8617 5.2 steps 1-3): every
 *	instance 1..N has exactly one field of each kind, N is at most
 *	max_sets, the seal of i=1 says cv=none and every later seal
 *	cv=pass.  The AMS fields are DKIM signatures under another name:
 *	they go through the DKIM verifier (dkim.c) with its body hashing,
 *	key fetch and RFC 8301 policy.  arc_verify_finish() verifies the
 *	newest AMS, then the older ones (for the oldest-pass instance),
 *	then each seal over the ARC header sets up to its instance.
 *
 *	The result is cv none (no ARC field at all), pass, or fail with a
 *	one-line reason; "invalid" marks a chain whose structure is broken
 *	(as opposed to a signature that did not verify), "temporary" a
 *	chain that failed only because a key lookup failed for now.
 *
 * LIMITS
 *	More than max_sets fields of any ARC kind fail the chain before
 *	anything is parsed, so a message with 10,000 sets costs one pass
 *	over its header list.  ARC-Authentication-Results payloads are
 *	kept up to ARC_MAX_AAR bytes.
 *
 * SECURITY
 *	Every field is untrusted.  Instances are bounded to 1..50 before
 *	they index anything (OpenDMARC CVE-2020-12460 was a heap overflow
 *	in this parse).  The results of an AAR are the sealer's claim: only
 *	a chain that passes and a sealer the operator trusts may make them
 *	count (dmarc_arc_override(), step_dmarc.c).
 *
 * STANDARDS
 *	RFC 8617 (sections 4, 5.2, 10), RFC 6376 and RFC 8301 via dkim.c.
 */
#ifndef MW_ARC_H
#define MW_ARC_H

#include <stdbool.h>
#include <stddef.h>

#include "dkim.h"

struct dns_budget;
struct dns_resolver;
struct hdr;

#define ARC_MAX_SETS	50		/* RFC 8617 4.2.1 */
#define ARC_MAX_AAR	4096		/* AAR payload bytes kept */

enum arc_cv {
	ARC_CV_NONE,
	ARC_CV_PASS,
	ARC_CV_FAIL
};

struct arc_opts {
	struct dkim_vopts dkim;		/* keys, clock, RFC 8301 limits */
	unsigned max_sets;		/* arc_max_sets, <= ARC_MAX_SETS */
};

/* one ARC set, after arc_verify_finish() */
struct arc_set {
	unsigned instance;
	char	 domain[256];		/* seal d=, "" if unreadable */
	char	 selector[64];		/* seal s= */
	char	 ams_domain[256];	/* AMS d= */
	const char *cv;			/* what the seal claims */
	enum dkim_result ams;		/* DKIM_NONE: not verified */
	enum dkim_result as;
	char	 ams_reason[128];
	char	 as_reason[128];
	char	*aar;			/* AAR after "i=N;", capped */
};

struct arc_result {
	enum arc_cv cv;
	bool	 invalid;		/* structure broken, not a signature */
	bool	 temporary;		/* failed on a temporary key error */
	char	 reason[192];		/* one line */
	unsigned nsets;			/* N, the newest instance */
	unsigned oldest_pass;		/* RFC 8617 5.2: 0 when all AMS pass */
	struct arc_set *sets;		/* sets[i - 1] for i = 1..nsets */
};

struct arc_verify;

/* arc_cv_name - "none", "pass", "fail" */
const char *arc_cv_name(enum arc_cv);

/*
 * arc_verify_new - hdrs are borrowed until arc_verify_free(); never
 * NULL.  A chain whose structure is broken is decided here (fail,
 * invalid) and the rest of the calls do nothing for it.
 */
struct arc_verify *arc_verify_new(const struct arc_opts *,
	    const struct hdr *hdrs, size_t nhdrs);
void	 arc_verify_prefetch(struct arc_verify *, struct dns_resolver *);
void	 arc_verify_body(struct arc_verify *, const void *, size_t);
void	 arc_verify_finish(struct arc_verify *, struct dns_resolver *,
	    struct dns_budget *);
/* arc_verify_result - valid after arc_verify_finish(), until free */
const struct arc_result *arc_verify_result(const struct arc_verify *);
void	 arc_verify_free(struct arc_verify **);

/*
 * arc_align_fn - is d aligned with author (DMARC relaxed alignment: the
 * same Organizational Domain)?  1 yes, 0 no, -1 undetermined (a
 * temporary DNS failure), which counts as no.
 */
typedef int (*arc_align_fn)(void *arg, const char *author, const char *d);

/*
 * arc_aar_says_pass - does the AAR payload (authserv-id; results) say
 * that the message passed DMARC with header.from author, or passed SPF
 * (smtp.mailfrom) or DKIM (header.d, header.i) with a domain that
 * aligned (arg passed through) says is aligned with author?  With
 * aligned NULL only author itself counts.  The method that passed goes
 * into what ("dmarc=pass header.from=example.org").
 */
bool	 arc_aar_says_pass(const char *aar, const char *author,
	    arc_align_fn aligned, void *arg, char *what, size_t whatsz);

#endif
