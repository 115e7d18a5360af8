/*
 * dns_int.h - private to dns*.c: ldns record conversion and wire names
 *
 * DESCRIPTION
 *	Both backends hold ldns records (parsed from zone files or from
 *	reply packets) and turn them into struct dns_rr here, so the
 *	conversion rules (name text form, TXT joining, what counts as
 *	malformed rdata) are one piece of code.
 */
#ifndef MW_DNS_INT_H
#define MW_DNS_INT_H

#include <ldns/ldns.h>

#include "dns.h"

/*
 * dns_dname_text - the raw text form of a wire name (see dns.h): lower
 * case, no trailing dot, "" for the root.  Returns -1 if the rdf is
 * not a well-formed uncompressed name or does not fit into out.
 */
int	 dns_dname_text(const ldns_rdf *, char *out, size_t outsz);

/* dns_name_rdf - wire name for raw text (labels split at dots); NULL if
   too long or with an empty label */
ldns_rdf *dns_name_rdf(const char *name);

/*
 * dns_rr_convert - append rr to a as a struct dns_rr when its type is
 * one dns.h knows (A, AAAA, NS, CNAME, PTR, MX, TXT); other types are
 * skipped (returns 0).  Returns -1 when the rdata does not have the
 * shape its type demands.
 */
int	 dns_rr_convert(const ldns_rr *, struct dns_answer *);

/* dns_soa_negative_ttl - min(SOA TTL, SOA MINIMUM) (RFC 2308 5), or -1 */
long	 dns_soa_negative_ttl(const ldns_rr *);

/* what one reply packet says about a question (dns_ldns.c) */
enum dns_reply {
	DNS_REPLY_IGNORE,	/* not ours (short, other id): keep waiting */
	DNS_REPLY_TRUNCATED,	/* TC set: ask again over TCP */
	DNS_REPLY_SERVFAIL,	/* SERVFAIL, REFUSED, ..., or a referral */
	DNS_REPLY_MALFORMED,	/* failed validation */
	DNS_REPLY_DONE,		/* out->status/rrs/ttl set */
	DNS_REPLY_FOLLOW	/* CNAME chain leaves the reply: ask for next */
};

/*
 * dns_reply_parse - validate a reply to (id, qname, qtype) and convert
 * its answer.  qname is raw text (as dns.c passes it).  On FOLLOW, next
 * holds the name the chain continues at and out->ttl the minimum TTL
 * seen so far.
 */
enum dns_reply dns_reply_parse(const uint8_t *wire, size_t len, uint16_t id,
	    const char *qname, uint16_t qtype, struct dns_answer *out,
	    char *next, size_t nextsz);

/*
 * dns_reader_slots - reader slots made so far (dns.c): the most threads
 * ever alive at once that looked something up; for tests of slot reuse.
 */
unsigned dns_reader_slots(void);

#endif
