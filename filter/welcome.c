/*
 * welcome.c - does a message authenticate for a sender's domain
 *
 * DESCRIPTION
 *	The pure half of the authentication-gated allowlists (welcome.h):
 *	relaxed alignment of the sender's domain with the SPF-passed
 *	domain, the valid DKIM d= domains and the DMARC-passed From domain.
 *
 * STANDARDS
 *	RFC 7489 3.1 (relaxed identifier alignment).
 */
#include "config.h"

#include <string.h>

#include "psl.h"
#include "punycode.h"
#include "str.h"
#include "welcome.h"

/* org - the registered domain of d into out; d itself without one */
static void
org(const struct psl *psl, const char *d, char *out)
{
	if (psl == NULL || psl_registrable(psl, d, out, DOMAIN_MAX + 1) < 0) {
		strncpy(out, d, DOMAIN_MAX);
		out[DOMAIN_MAX] = '\0';
	}
	str_lower(out);
}

static bool
aligned(const struct psl *psl, const char *a, const char *b)
{
	char oa[DOMAIN_MAX + 1], ob[DOMAIN_MAX + 1];

	if (a == NULL || b == NULL || a[0] == '\0' || b[0] == '\0')
		return false;
	org(psl, a, oa);
	org(psl, b, ob);
	return strcmp(oa, ob) == 0;
}

const char *
welcome_authenticated(const struct psl *psl, const char *domain,
    const struct welcome_auth *a)
{
	size_t i;

	if (aligned(psl, domain, a->dmarc_pass))
		return "DMARC";
	for (i = 0; i < a->ndkim; i++)
		if (aligned(psl, domain, a->dkim[i]))
			return "DKIM";
	if (aligned(psl, domain, a->spf_pass))
		return "SPF";
	return NULL;
}
