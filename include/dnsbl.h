/*
 * dnsbl.h - DNS block- and allowlists: client address, URI and sender
 * domains, hashed addresses
 *
 * DESCRIPTION
 *	A list is configured per zone and answer with one entry of the
 *	`dnsbl` (client address), `dnswl` (client address, scores <= 0),
 *	`uribl` (registered domains of the URIs in the body) or `dbl`
 *	(sender identities, below) key:
 *
 *	    ZONE/RESULT=SYMBOL:SCORE[:reject][:ip]
 *
 *	    zen.spamhaus.org/127.0.0.2-127.0.0.3=RBL_SPAMHAUS_SBL:4
 *	    zen.spamhaus.org/127.0.0.4-127.0.0.7=RBL_SPAMHAUS_XBL:5:reject
 *	    multi.uribl.com/&2=URIBL_BLACK:4
 *
 *	RESULT is an address (127.0.0.2), a range (127.0.0.2-127.0.0.11), a
 *	CIDR block (127.0.0.0/24), a bit mask on the last octet (&2, &0x08),
 *	or * for any listing answer.  Every entry of a zone shares one
 *	query; each A record of the answer adds the symbols of the entries
 *	it matches (once each), and :reject refuses the message outright
 *	(below a local allowlist).
 *
 *	Client addresses are queried reversed: d.c.b.a.ZONE for IPv4 and
 *	the 32 reversed nibbles for IPv6; addresses that are not public
 *	(loopback, RFC 1918, link-local, CGN, ULA) are not queried.  URI
 *	lists get the registered domain of each URI host (Public Suffix
 *	List), each domain once, at most uribl_max_lookups per message.
 *	Hosts written as IPv4 addresses, in any form a browser accepts
 *	(uri_host_ipv4: 192.0.2.1, 3221225985, 0xc0.0.2.1), are looked up
 *	reversed like a client address, each once and within the same cap,
 *	in the zones with an :ip entry (SURBL-style lists that index IPs;
 *	Spamhaus DBL answers IP queries with an error code and must not
 *	have it):
 *
 *	    multi.surbl.org/&8=URIBL_SURBL_PH:4:ip
 *
 *	Non-public addresses and IPv6 hosts are not looked up.
 *
 *	A dbl entry names the identities it scores (:envfrom :from :helo
 *	:rdns :dkim); the zone is asked about the registered domain of each
 *	(:full: the whole name) or, for a :hashed zone (Spamhaus HBL), the
 *	hex SHA-1 of the lower-cased envelope sender or From address.  A
 *	query name is asked once per message for every identity it stands
 *	for.  A dnswl zone is a client list whose listings lower the score;
 *	127.0.0.*-style patterns (127.0.*.3) map DNSWL trust levels and its
 *	127.0.0.255 ("refused") is an error like the blocklists' codes.
 *
 *	DNS errors never become listings.  A timeout or SERVFAIL marks the
 *	verdict degraded (dns_degraded in the verdict log) and is named in
 *	the DNSBL_DEGRADED symbol (score 0).  An answer that is not a
 *	listing - 127.0.0.1 ("query refused" for URIBL), 127.255.255.0/24
 *	(Spamhaus error codes), anything outside 127.0.0.0/8 (a resolver's
 *	NXDOMAIN rewriting) or whatever dnsbl_refused lists - is logged,
 *	marks the verdict degraded and is named in DNSBL_ERROR (score 0).
 *
 * SECURITY
 *	Answers are untrusted: only A records are used, matched against the
 *	configured results; hosts from messages pass dns_name_valid() and
 *	the PSL before a query is built.
 */
#ifndef MW_DNSBL_H
#define MW_DNSBL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netaddr.h"

struct buf;
struct conf;
struct psl;

enum dnsbl_match {
	DNSBL_M_ANY,		/* "*" */
	DNSBL_M_RANGE,		/* a single address is a range of one */
	DNSBL_M_CIDR,
	DNSBL_M_MASK,		/* last octet & mask */
	DNSBL_M_PATTERN		/* 127.0.*.2: (answer & hi) == lo */
};

/* the keys a zone comes from */
enum dnsbl_kind {
	DNSBL_K_CLIENT,		/* dnsbl and dnswl: the client address */
	DNSBL_K_URI,		/* uribl: domains of the body's URIs */
	DNSBL_K_DOMAIN		/* dbl: domains (or addresses) of the sender */
};

/* identities a dbl entry asks about (bit set) */
#define DNSBL_ID_ENVFROM	0x01	/* envelope sender domain / address */
#define DNSBL_ID_FROM		0x02	/* From domain / address */
#define DNSBL_ID_HELO		0x04	/* HELO name */
#define DNSBL_ID_RDNS		0x08	/* the client's verified name */
#define DNSBL_ID_DKIM		0x10	/* d= of valid DKIM signatures */
#define DNSBL_NIDS		5

struct dnsbl_entry {
	enum dnsbl_match match;
	uint32_t lo, hi;	/* RANGE: host order */
	struct cidr cidr;	/* CIDR */
	uint8_t	 mask;		/* MASK */
	char	*symbol;
	double	 score;
	bool	 reject;
	bool	 ip;		/* uribl: also query IP-address hosts */
	unsigned idents;	/* dbl: DNSBL_ID_* this entry scores */
	bool	 full;		/* dbl: the full name, not the registered one */
	bool	 hashed;	/* dbl: SHA-1 of the address (HBL) */
};

struct dnsbl_zone {
	char	*zone;
	enum dnsbl_kind kind;
	bool	 allow;		/* dnswl: listings lower the score */
	bool	 ip;		/* URI hosts that are IPv4 addresses too */
	unsigned idents;	/* dbl: union of the entries' identities */
	bool	 full;		/* dbl: query full names */
	bool	 hashed;	/* dbl: query address hashes */
	struct dnsbl_entry *v;
	size_t	 n;
};

struct dnsbl {
	struct dnsbl_zone *zones;
	size_t	 nzones;
	struct cidr *refused;	/* answers that mean "error", not "listed" */
	size_t	 nrefused;
	unsigned max_uri_lookups;
	bool	 any_uri;
	bool	 any_domain;	/* a dbl zone (needs the PSL) */
};

/* dnsbl_check_entry - syntax of one entry (a conf.c check function) */
int	 dnsbl_check_entry(const char *, struct buf *why);
/* dnsbl_check_uri_entry - the same for a uribl entry (may carry :ip) */
int	 dnsbl_check_uri_entry(const char *, struct buf *why);
/* dnsbl_check_allow_entry - a dnswl entry (score <= 0, no flags) */
int	 dnsbl_check_allow_entry(const char *, struct buf *why);
/* dnsbl_check_domain_entry - a dbl entry (identity and name flags) */
int	 dnsbl_check_domain_entry(const char *, struct buf *why);
/* dnsbl_new - from the dnsbl, dnswl, uribl, dbl, dnsbl_refused,
 * uribl_max_lookups keys */
int	 dnsbl_new(const struct conf *, struct dnsbl **, struct buf *why);
void	 dnsbl_free(struct dnsbl *);

/* dnsbl_client_name - reversed query name for addr under zone; -1 if the
 * address is not public (not queried) */
int	 dnsbl_client_name(const struct netaddr *, const char *zone,
	    struct buf *out);

/*
 * dnsbl_domain - what host name h is looked up as: its registered
 * domain (full: h itself), A-label, lower case, into out (DOMAIN_MAX +
 * 1 bytes); -1 when h is an IP literal, not a host name, or has no
 * registered domain (a single label, a public suffix)
 */
int	 dnsbl_domain(const struct psl *, const char *h, bool full,
	    char *out, size_t outsz);

/*
 * dnsbl_from_address - the address of a From field value: inside the
 * last <...>, or the bare value without comments; -1 unless it has one
 * '@' with text on both sides and no space, control or special
 * character (a quoted local part is not looked up)
 */
int	 dnsbl_from_address(const char *value, char *out, size_t outsz);

/*
 * dnsbl_hash_name - HBL query name of an email address under zone:
 * the lower-case hex SHA-1 of the lower-cased address, then the zone;
 * -1 for an empty address, one without '@' or one over 254 octets
 */
int	 dnsbl_hash_name(const char *address, const char *zone,
	    struct buf *out);

/* dnsbl_zone_key - the configuration key of zone z: "dnsbl", "dnswl",
 * "uribl" or "dbl" */
const char *dnsbl_zone_key(const struct dnsbl_zone *z);
/* dnsbl_zone_what - what a listing in z says, for listings: "the client
 * address listed in " ... (followed by the zone) */
const char *dnsbl_zone_what(const struct dnsbl_zone *z);

/* dnsbl_idents_format - "envfrom, helo" for a set of DNSBL_ID_* bits */
void	 dnsbl_idents_format(unsigned idents, struct buf *out);

enum dnsbl_verdict {
	DNSBL_NOT_LISTED,	/* no answer record matched an entry */
	DNSBL_LISTED,		/* one or more entries matched */
	DNSBL_ERROR		/* an answer that means the query failed */
};

/*
 * dnsbl_classify - the entries of zone z that answer address a matches,
 * as a bit set over z->v (first 64 entries); DNSBL_ERROR for refused or
 * non-127/8 answers.
 */
enum dnsbl_verdict dnsbl_classify(const struct dnsbl *,
	    const struct dnsbl_zone *z, const struct netaddr *a,
	    uint64_t *matched);

#endif
