/*
 * punycode.h - RFC 3492 encoding and domain names in A-label form
 *
 * DESCRIPTION
 *	punycode_encode() turns one label of Unicode code points into its
 *	Punycode form (without the "xn--" prefix).
 *
 *	domain_to_alabel() is the one gate every domain name passes before
 *	DMARC looks it up or prints it: it lower-cases ASCII, converts each
 *	label holding UTF-8 into "xn--" + Punycode (RFC 5890 section 2.3.2.1,
 *	as RFC 9989 section 5.3.1 asks), drops one trailing dot, and then
 *	requires a host name: labels of letters, digits and hyphens, no
 *	hyphen at either end of a label, 1..63 octets per label, at most
 *	253 octets in all.  Anything else (underscores, specials, empty
 *	labels, ill-formed UTF-8, control characters) is refused, so the
 *	text can go into a DNS query, Authentication-Results and a report
 *	without further escaping (OpenDMARC CVE-2020-12272).
 *
 *	A name holding UTF-8 is first mapped the way resolvers and
 *	browsers look it up, by libidn2 (IDNA2008 with the UTS #46
 *	non-transitional mapping: NFC normalisation, case folding, so
 *	"B\u00dcCHER.example" and its decomposed spelling both become
 *	xn--bcher-kva.example).  A name libidn2 refuses (a code point
 *	IDNA2008 disallows, such as a symbol) is encoded as written, label
 *	by label, as before the mapping existed: such names exist in the
 *	DNS from IDNA2003 days, and refusing them would turn a lookup into
 *	a permanent error.
 */
#ifndef MW_PUNYCODE_H
#define MW_PUNYCODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DOMAIN_MAX	253

/* punycode_encode - 0 and NUL-terminated text in out, -1 on overflow */
int	punycode_encode(const uint32_t *cp, size_t n, char *out, size_t outsz);

/*
 * domain_to_alabel - validate and normalise p[0..n) into out (at least
 * DOMAIN_MAX + 1 bytes); 0 on success, -1 if it is not a host name.
 */
int	domain_to_alabel(const char *p, size_t n, char *out, size_t outsz);

/* domain_is_subdomain - is d equal to or below parent (both A-label) */
bool	domain_is_subdomain(const char *d, const char *parent);
/* domain_labels - number of labels of a non-empty name */
size_t	domain_labels(const char *d);

#endif
