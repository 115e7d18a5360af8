/*
 * welcome.h - authentication-gated allowlists
 *
 * DESCRIPTION
 *	A sender on the welcome_auth list (lists.h) is allowed only when
 *	the message authenticates for the sender's domain: an SPF pass for
 *	the envelope sender's domain, a valid DKIM signature whose d= is
 *	in the same organizational domain (DMARC's relaxed alignment), or,
 *	for the From domain, a DMARC pass.  A From that merely names a
 *	listed sender gets nothing: that is what forgers write.
 *
 *	welcome_authenticated() is the pure decision; step_welcome.c
 *	gathers the outcomes of the SPF, DKIM and DMARC steps and adds the
 *	symbols WELCOMELIST_AUTH (allowed), WELCOMELIST_AUTH_UNVERIFIED
 *	(listed, not authenticated; score 0) and DKIM_ALLOWLIST (a valid
 *	signature by a domain of the dkim_allowlist).
 */
#ifndef MW_WELCOME_H
#define MW_WELCOME_H

#include <stdbool.h>
#include <stddef.h>

struct psl;

/* what authenticated the message (all domains A-label, lower case) */
struct welcome_auth {
	const char *spf_pass;		/* SPF pass for this domain, or NULL */
	const char *const *dkim;	/* d= of the valid signatures */
	size_t	 ndkim;
	const char *dmarc_pass;		/* From domain when DMARC passed */
};

/*
 * welcome_authenticated - how domain is authenticated by a: "SPF",
 * "DKIM" or "DMARC", or NULL.  Alignment is relaxed: two names match
 * when their registered domains (psl; exact names without one) agree.
 */
const char *welcome_authenticated(const struct psl *, const char *domain,
	    const struct welcome_auth *a);

#endif
