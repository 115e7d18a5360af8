/*
 * fakedns.h - an in-memory struct dns_backend for tests
 *
 * DESCRIPTION
 *	Answers from a table: (name, type) -> status and TXT strings.  A
 *	name that is not in the table is NXDOMAIN; a name that is there
 *	with other types only is NODATA.  fakedns_fail_all() makes every
 *	query fail with one status (timeout, SERVFAIL).  Every query is
 *	logged so tests can assert how many were sent and in what order.
 */
#ifndef MW_FAKEDNS_H
#define MW_FAKEDNS_H

#include <stddef.h>

#include "dns.h"

struct fakedns;

struct fakedns *fakedns_new(void);
/* fakedns_txt - add one TXT RR made of nstr strings joined */
void	 fakedns_txt(struct fakedns *, const char *name, const char *txt);
void	 fakedns_txt2(struct fakedns *, const char *name, const char *s1,
	    const char *s2);
/* fakedns_status - (name, type) answers with this status */
void	 fakedns_status(struct fakedns *, const char *name, uint16_t type,
	    enum dns_status);
/* fakedns_exists - name exists (A record 192.0.2.1) */
void	 fakedns_exists(struct fakedns *, const char *name);
void	 fakedns_fail_all(struct fakedns *, enum dns_status);
/* fakedns_resolver - a resolver over this table (fakedns stays owned) */
struct dns_resolver *fakedns_resolver(struct fakedns *);
unsigned fakedns_queries(const struct fakedns *);
/* fakedns_query_name - the i'th name asked */
const char *fakedns_query_name(const struct fakedns *, unsigned i);
void	 fakedns_reset_log(struct fakedns *);
void	 fakedns_free(struct fakedns *);

#endif
