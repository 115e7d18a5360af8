/*
 * fake_dns.h - a struct dns_backend answering from zone-file text
 *
 * DESCRIPTION
 *	For hermetic tests.  Understands the subset of master-file syntax
 *	used by ../shared/testdata/dkim/keys.zone: one record per line,
 *	"name. [ttl] [IN] TYPE data", ';' comments, TXT data as one or more
 *	quoted character-strings (\" \\ \DDD escapes), parentheses on the
 *	line ignored.  Besides TXT and A, three pseudo-types stand for
 *	failures: NXDOMAIN, TIMEOUT and SERVFAIL.  Names are matched case-
 *	insensitively; a name not listed is NXDOMAIN, a listed name without
 *	records of the asked type is NODATA.
 */
#ifndef MW_FAKE_DNS_H
#define MW_FAKE_DNS_H

#include <stddef.h>

struct dns_resolver;
struct fake_dns;

struct fake_dns *fake_dns_new(void);
/* fake_dns_load - add the records of zone text; -1 on a syntax error */
int	 fake_dns_load(struct fake_dns *, const char *text, size_t len);
int	 fake_dns_load_file(struct fake_dns *, const char *path);
/* fake_dns_add_txt - one TXT record (a single string, any length) */
void	 fake_dns_add_txt(struct fake_dns *, const char *name, const char *txt);
/* fake_dns_queries - how many queries the backend answered */
unsigned fake_dns_queries(const struct fake_dns *);
/* fake_dns_resolver - a resolver over f (it owns f from now on) */
struct dns_resolver *fake_dns_resolver(struct fake_dns *);

#endif
