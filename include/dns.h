/*
 * dns.h - the one resolver interface every check uses
 *
 * DESCRIPTION
 *	SPF, DKIM key fetch, DMARC discovery and DNS blocklists all query
 *	through struct dns_resolver.  Backends (dns_ldns.c: real servers
 *	over UDP/TCP; dns_zone.c: master-format zone files, offline) sit
 *	behind the same vtable and share the cache in dns.c.
 *
 *	Outcomes are kept apart all the way up (STYLE 3.3): NXDOMAIN and
 *	NODATA are answers; SERVFAIL/REFUSED, TIMEOUT and MALFORMED are
 *	temporary failures; a name that is not a valid domain name is never
 *	sent (DNS_INVALID_NAME).  Callers map these onto their own
 *	temperror/permerror; temporary never becomes permanent.
 *
 *	Every lookup is charged to a struct dns_budget: one per message,
 *	holding the per-message deadline (dns_message_timeout) and the time
 *	spent waiting, which the verdict log reports as dns_ms.  A lookup
 *	that would pass the deadline returns DNS_TIMEOUT at once.
 *
 *	Concurrency: dns_lookup() is thread-safe and blocking.
 *	dns_prefetch() starts a lookup in the background and returns at
 *	once; a later dns_lookup() of the same name and type waits for
 *	that in-flight query (or takes it from the cache) instead of
 *	sending another.  The scan pipeline prefetches the first queries
 *	of every check (SPF TXT, DKIM keys, _dmarc, DNSBL names) so that
 *	independent lookups of one message overlap.
 *
 * SECURITY
 *	Answers are untrusted: owner name, class and type are checked
 *	against the question; record data is bounds-checked by ldns and
 *	converted here into plain C values (names as validated presentation
 *	text, TXT strings joined).
 */
#ifndef MW_DNS_H
#define MW_DNS_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netaddr.h"

enum dns_status {
	DNS_OK,			/* one or more records of the type */
	DNS_NODATA,		/* the name exists, no record of the type */
	DNS_NXDOMAIN,		/* the name does not exist */
	DNS_SERVFAIL,		/* SERVFAIL, REFUSED, other rcodes: temporary */
	DNS_TIMEOUT,		/* no answer in time, or budget exhausted */
	DNS_MALFORMED,		/* answer failed validation: temporary */
	DNS_INVALID_NAME	/* not a valid domain name; nothing was sent */
};

enum dns_type {
	DNS_T_A = 1,
	DNS_T_NS = 2,
	DNS_T_CNAME = 5,
	DNS_T_PTR = 12,
	DNS_T_MX = 15,
	DNS_T_TXT = 16,
	DNS_T_AAAA = 28
};

struct dns_rr {
	uint16_t type;
	uint32_t ttl;
	struct netaddr addr;	/* A, AAAA */
	char	*name;		/* PTR, MX exchange, CNAME, NS: lower case,
				   no trailing dot; "" for the MX "." */
	uint16_t pref;		/* MX */
	char	*txt;		/* TXT: character-strings joined, NUL-ended */
	size_t	 txt_len;	/* may hold NUL bytes */
	size_t	 txt_nstrings;	/* 0 for a record with no strings */
};

struct dns_answer {
	enum dns_status status;
	struct dns_rr *rrs;
	size_t	 n;
	uint32_t ttl;		/* cache lifetime (min TTL, or SOA minimum) */
	bool	 from_cache;
};

struct dns_budget {
	double	 deadline;	/* CLOCK_MONOTONIC ms; 0 = none */
	double	 spent_ms;	/* time spent waiting for answers */
	unsigned queries;	/* lookups made (cache hits included) */
	unsigned failures;	/* temporary failures seen */
	pthread_mutex_t lock;
};

/*
 * struct dns_backend - what a backend provides: one uncached query.
 * query() fills out->status and out->rrs/n (records allocated with
 * malloc; dns_answer_free() releases them) within timeout_ms.  The
 * generic layer (dns.c) validates names, applies the budget, caches
 * and shares in-flight queries.
 */
struct dns_backend {
	const char *name;
	void	(*query)(void *impl, const char *name, uint16_t type,
		    double timeout_ms, struct dns_answer *out);
	void	(*free)(void *impl);
};

struct dns_resolver;

/* dns_resolver_new - wrap a backend (impl is freed by backend->free) */
struct dns_resolver *dns_resolver_new(const struct dns_backend *, void *impl);

bool	 dns_status_is_temp(enum dns_status);
const char *dns_status_name(enum dns_status);

/* dns_budget_init - deadline timeout_ms from now (0: no deadline) */
void	 dns_budget_init(struct dns_budget *, double timeout_ms);
void	 dns_budget_release(struct dns_budget *);

/*
 * dns_lookup - answer for (name, type); *out is always set (caller frees
 * with dns_answer_free()) and its status is returned.  name may end in
 * a dot; it is validated first (RFC 1035 lengths, LDH plus '_' labels as
 * used by DKIM/DMARC/SPF names).
 */
enum dns_status dns_lookup(struct dns_resolver *, const char *name,
	    uint16_t type, struct dns_budget *, struct dns_answer **out);
/* dns_prefetch - start (name, type) in the background; never blocks */
void	 dns_prefetch(struct dns_resolver *, const char *name, uint16_t type);
void	 dns_answer_free(struct dns_answer *);
void	 dns_resolver_free(struct dns_resolver *);

/* dns_name_valid - the check dns_lookup() applies before querying */
bool	 dns_name_valid(const char *name);

#endif
