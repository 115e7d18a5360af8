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
 *	Cache (dns.c): bounded in entries (CLOCK: the oldest entry not
 *	hit since the last sweep goes first), thread-safe (a hit takes no
 *	lock), honours TTLs (capped at max_ttl), caches
 *	NXDOMAIN and NODATA for the SOA-derived negative TTL (RFC 2308
 *	section 5; no SOA, no caching), SERVFAIL and MALFORMED for
 *	servfail_ttl (RFC 2308 section 7: at most five minutes), and a
 *	backend TIMEOUT for timeout_ttl (default 5 s: long enough to stop
 *	a dead server from costing every message the full timeout, short
 *	enough that recovery is seen at once).  A TIMEOUT caused by a
 *	message's own deadline is never cached and never handed to other
 *	waiters: they retry with their own deadline.  Statuses are kept
 *	apart in the cache exactly as the backend reported them.
 *
 *	Answers hold only records of the queried type (CNAME chains are
 *	followed by the backend, at most DNS_MAX_CNAME links; a longer
 *	chain or a loop is DNS_SERVFAIL).  Names are "raw text": labels
 *	joined by dots, lower case, no trailing dot; a label byte that is
 *	neither printable ASCII nor space, or is a dot, appears as \DDD
 *	(such a name then fails dns_name_check() and is never queried).
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
	/*
	 * record: when set, every answer dns_lookup() hands out under this
	 * budget (name normalised: lower case, no trailing dot) is passed
	 * to record(record_arg, ...) before it is returned; the sample
	 * store keeps them for replay (sample.h).  Called without the
	 * budget's lock; record must be thread-safe itself.
	 */
	void	(*record)(void *arg, const char *name, uint16_t type,
		    const struct dns_answer *);
	void	*record_arg;
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
/*
 * dns_resolver_free - release the owner's reference; returns at once.
 * No lookup may be running or start; prefetches still in flight finish
 * in the background and the last of them frees the resolver.
 */
void	 dns_resolver_free(struct dns_resolver *);

/* dns_name_valid - the check dns_lookup() applies before querying */
bool	 dns_name_valid(const char *name);

/* ---- additions: options, flags, statistics, backends ---- */

#define DNS_MAX_CNAME	8		/* CNAME links followed per query */
#define DNS_MAX_NAME	253		/* text length, no trailing dot */

struct buf;

/* struct dns_opts - resolver-wide settings (conf keys dns_*) */
struct dns_opts {
	size_t	 cache_size;		/* entries kept; 0: no caching */
	uint32_t max_ttl;		/* seconds; longer TTLs are cut */
	uint32_t servfail_ttl;		/* seconds SERVFAIL/MALFORMED stay */
	uint32_t timeout_ttl;		/* seconds a backend TIMEOUT stays */
	double	 query_timeout_ms;	/* one backend query, all tries */
	unsigned prefetch_threads;	/* 0: dns_prefetch() does nothing */
	unsigned prefetch_queue;	/* pending prefetches; more are dropped */
};

/* dns_opts_default - cache 10000, max_ttl 1 day, servfail 30 s,
   timeout 5 s, query 5000 ms, 4 prefetch threads, queue 1024 */
void	 dns_opts_default(struct dns_opts *);

/* dns_resolver_new_opts - as dns_resolver_new() with explicit options */
struct dns_resolver *dns_resolver_new_opts(const struct dns_backend *,
	    void *impl, const struct dns_opts *);

enum dns_flags {
	/*
	 * DNS_F_ANYNAME: accept any printable ASCII (space included) in
	 * labels, not only LDH and '_'.  RFC 7208 domain-specs may hold
	 * any visible character ("a:foo:bar/baz.example"); DNS carries
	 * arbitrary octets.  Lengths are still checked.
	 */
	DNS_F_ANYNAME = 1 << 0
};

/* dns_name_check - dns_name_valid() with flags */
bool	 dns_name_check(const char *name, unsigned flags);

/* dns_lookup_ex - dns_lookup() with flags (enum dns_flags) */
enum dns_status dns_lookup_ex(struct dns_resolver *, const char *name,
	    uint16_t type, unsigned flags, struct dns_budget *,
	    struct dns_answer **out);

/* dns_budget_left_ms - time left before the deadline (-1: no deadline) */
double	 dns_budget_left_ms(const struct dns_budget *);

/* dns_answer_copy - deep copy (records and strings) */
struct dns_answer *dns_answer_copy(const struct dns_answer *);
/* dns_answer_add - append a zeroed record of type to a and return it */
struct dns_rr *dns_answer_add(struct dns_answer *, uint16_t type);

struct dns_stats {
	uint64_t lookups;		/* dns_lookup calls that reached the cache */
	uint64_t hits;			/* answered from the cache */
	uint64_t shared;		/* waited for another thread's query */
	uint64_t queries;		/* queries sent to the backend */
	uint64_t prefetches;		/* prefetches started */
	uint64_t prefetch_dropped;	/* queue full, or resolver stopping */
	uint64_t evictions;		/* entries pushed out by the size bound */
	uint64_t timeouts;		/* backend queries that timed out */
	uint64_t servfails;		/* backend SERVFAIL/REFUSED answers */
	size_t	 entries;		/* entries cached now */
};

void	 dns_resolver_stats(struct dns_resolver *, struct dns_stats *);
const char *dns_resolver_backend(const struct dns_resolver *);
/* dns_resolver_flush - drop every cached answer (tests, reload) */
void	 dns_resolver_flush(struct dns_resolver *);

/*
 * dns_resolver_trace - call fn after every dns_lookup() / dns_lookup_ex()
 * that reached the cache (valid name, budget left) with the normalised
 * name, the type, the answer and the time taken; NULL stops tracing.
 * For the command line (`dmarc record`, `dkim testkey` print each
 * query); set it before any lookup runs, not while lookups are running.
 */
typedef void dns_trace_fn(void *arg, const char *name, uint16_t type,
	    const struct dns_answer *, double ms);
void	 dns_resolver_trace(struct dns_resolver *, dns_trace_fn *, void *arg);

/* dns_type_name - "TXT" etc., NULL for a type not in enum dns_type */
const char *dns_type_name(uint16_t type);
int	 dns_type_parse(const char *, uint16_t *);

/*
 * dns_zone_open - the static zone-file backend (dns_zone.c) over the
 * master-format files in paths[0..n).  Besides ordinary records a line
 *	NAME  NXDOMAIN
 *	NAME  SERVFAIL [TYPE ...]
 *	NAME  TIMEOUT  [TYPE ...]
 *	NAME  DELAY    MS
 * declares a failure for tests (see doc/dns-spf.md).  Returns 0, or
 * -1 with "file:line: reason" in why.
 */
int	 dns_zone_open(const char *const *paths, size_t n,
	    const struct dns_opts *, struct dns_resolver **out,
	    struct buf *why);
/* dns_zone_open_text - same over zone text in memory */
int	 dns_zone_open_text(const char *text, size_t len, const char *origin,
	    const struct dns_opts *, struct dns_resolver **out,
	    struct buf *why);

/* struct dns_ldns_conf - the ldns backend's settings (dns_ldns.c) */
struct dns_ldns_conf {
	const char *const *servers;	/* "ADDR", "ADDR:PORT", "[V6]:PORT" */
	size_t	 nservers;		/* 0: nameservers of resolv_conf */
	const char *resolv_conf;	/* NULL or "": /etc/resolv.conf */
	double	 timeout_ms;		/* one try at one server */
	unsigned retries;		/* further rounds over all servers */
	unsigned edns_size;		/* EDNS0 UDP size; 0: no EDNS */
};

/* dns_server_valid - is spec a dns_servers entry dns_ldns_open() takes? */
bool	 dns_server_valid(const char *spec);

/*
 * dns_ldns_open - resolver sending real queries; -1 + why on bad conf.
 * An unreadable resolv_conf is an error; without servers and without a
 * usable /etc/resolv.conf, 127.0.0.1 is used (as the C library does).
 * opts->query_timeout_ms 0 means timeout_ms * (1 + retries) * servers.
 */
int	 dns_ldns_open(const struct dns_ldns_conf *, const struct dns_opts *,
	    struct dns_resolver **out, struct buf *why);

#endif
