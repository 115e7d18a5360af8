/*
 * spf.h - Sender Policy Framework (RFC 7208)
 *
 * DESCRIPTION
 *	spf_parse() turns one SPF record into terms, checking the whole
 *	record's syntax first (RFC 7208 4.6: an error anywhere is a
 *	permerror, even after a matching term).  spf_check() is check_host()
 *	(section 4) for one identity, with every DNS query going through
 *	the resolver and the message's DNS budget.  spf_macro_expand()
 *	is section 7.
 *
 *	Identities (section 2.3, 2.4): SPF_ID_MAILFROM checks the MAIL FROM
 *	address; for the null sender it checks postmaster@<HELO> and the
 *	outcome says SPF_ID_HELO.  SPF_ID_HELO checks postmaster@<HELO>.
 *	A HELO that is not a multi-label domain name (an address literal,
 *	a bare word) gives SPF_NONE without any query.
 *
 *	Results keep temporary and permanent failures apart: any DNS
 *	SERVFAIL, timeout or malformed answer on a query whose answer
 *	matters is SPF_TEMPERROR, never a fail or a permerror.  The ptr
 *	mechanism and the p macro skip names whose lookups fail (5.5, 7.3),
 *	and a failed exp= lookup only loses the explanation (6.2).
 *
 * OUTCOME FOR OTHER CHECKS
 *	struct spf_results is what DMARC reads (RFC 7489 4.2 / RFC 9989:
 *	the SPF-authenticated identifier): scan.h's s->spf points to it
 *	once the SPF step has run (NULL before that, and when SPF did not
 *	run: spf = no, or a trusted source).  mailfrom.domain with
 *	mailfrom.result == SPF_PASS is the authenticated domain; for the
 *	null sender mailfrom.identity is SPF_ID_HELO and the domain is the
 *	HELO name, as RFC 7489 prescribes.
 *
 * LIMITS
 *	RFC 7208 4.6.4: 10 DNS-querying terms (include, a, mx, ptr, exists,
 *	redirect), 2 void lookups (both configurable), 10 MX names per mx
 *	(more: permerror), 10 PTR names per ptr or p (more: ignored);
 *	include/redirect nesting at most SPF_MAX_DEPTH; macro expansions
 *	at most SPF_MACRO_MAX_OUT bytes; expanded names cut to 253 octets
 *	from the left (7.3).
 *
 * STANDARDS
 *	RFC 7208; RFC 7372 (5.7.23 / 5.7.24 codes); RFC 8601 (spf= in
 *	Authentication-Results).
 */
#ifndef MW_SPF_H
#define MW_SPF_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "dns.h"
#include "netaddr.h"

struct buf;

#define SPF_MAX_DEPTH		20
#define SPF_MACRO_MAX_OUT	(64 * 1024)

enum spf_result {
	SPF_NONE,
	SPF_NEUTRAL,
	SPF_PASS,
	SPF_FAIL,
	SPF_SOFTFAIL,
	SPF_TEMPERROR,
	SPF_PERMERROR
};

enum spf_identity {
	SPF_ID_MAILFROM,
	SPF_ID_HELO
};

enum spf_mech {
	SPF_MECH_ALL,
	SPF_MECH_INCLUDE,
	SPF_MECH_A,
	SPF_MECH_MX,
	SPF_MECH_PTR,
	SPF_MECH_IP4,
	SPF_MECH_IP6,
	SPF_MECH_EXISTS
};

struct spf_term {
	enum spf_mech mech;
	enum spf_result qual;		/* PASS, FAIL, SOFTFAIL or NEUTRAL */
	char	*domain_spec;		/* NULL: none given */
	struct netaddr net;		/* ip4, ip6 */
	int	 cidr4, cidr6;		/* -1: not given */
	char	*text;			/* the term as written */
};

struct spf_record {
	struct spf_term *terms;
	size_t	 nterms;
	char	*redirect;		/* domain-spec, or NULL */
	char	*exp;			/* domain-spec, or NULL */
};

const char *spf_result_name(enum spf_result);
const char *spf_identity_name(enum spf_identity);	/* "mailfrom", "helo" */

/*
 * spf_is_record - does txt[0..len) begin with "v=spf1" followed by a
 * space or the end (case-insensitive; RFC 7208 4.5)?
 */
bool	 spf_is_record(const char *txt, size_t len);

/*
 * spf_parse - parse one record (with its "v=spf1").  Returns 0 and sets
 * *out (free with spf_record_free()), or -1 with a one-line reason in
 * why.  Never reads past txt + len; NUL bytes are syntax errors.
 */
int	 spf_parse(const char *txt, size_t len, struct spf_record **out,
	    struct buf *why);
void	 spf_record_free(struct spf_record *);
/* spf_mech_uses_dns - does m count against the DNS-term limit (4.6.4)? */
bool	 spf_mech_uses_dns(enum spf_mech);

/*
 * spf_domain_spec_valid - RFC 7208 12 domain-spec: a macro-string
 * (without the exp-only letters c, r, t) ending in "." toplabel ["."]
 * or in a macro-expand.
 */
bool	 spf_domain_spec_valid(const char *, size_t, struct buf *why);

/* ---- macros (spf_macro.c) ---- */

struct spf_macro_ctx {
	const char *sender;		/* s: local@domain */
	const char *local;		/* l ("postmaster" for an empty one) */
	const char *sender_domain;	/* o */
	const char *domain;		/* d: the current <domain> */
	const struct netaddr *ip;	/* i, c, v */
	const char *helo;		/* h */
	const char *receiver;		/* r */
	time_t	 now;			/* t */
	/* p: the validated name of ip for domain d ("unknown" if none) */
	void	(*validated)(void *arg, const char *domain, struct buf *out);
	void	*arg;
};

enum spf_macro_flags {
	SPF_MACRO_EXP = 1 << 0		/* explanation text: c, r, t allowed */
};

/*
 * spf_macro_expand - expand a macro-string into out (appended).
 * Returns 0, or -1 with the reason in why (a syntax error, a letter not
 * allowed here, or output over SPF_MACRO_MAX_OUT).  With ctx NULL only
 * the syntax is checked.
 */
int	 spf_macro_expand(const char *s, size_t len,
	    const struct spf_macro_ctx *ctx, unsigned flags, struct buf *out,
	    struct buf *why);

/* spf_ip_macro - the "i" form of ip: dotted IPv4, or 32 dotted nibbles */
void	 spf_ip_macro(const struct netaddr *, struct buf *out);
/* spf_reverse_name - the PTR query name of ip (in-addr.arpa / ip6.arpa) */
void	 spf_reverse_name(const struct netaddr *, struct buf *out);

/* ---- evaluation ---- */

struct spf_limits {
	unsigned max_dns_terms;		/* 10 */
	unsigned max_void;		/* 2 */
	unsigned max_mx;		/* 10 */
	unsigned max_ptr;		/* 10 */
};

void	 spf_limits_default(struct spf_limits *);

struct spf_request {
	struct netaddr ip;		/* the SMTP client */
	const char *helo;		/* HELO/EHLO argument, may be NULL */
	const char *sender;		/* MAIL FROM without <>; "" null sender */
	const char *receiver;		/* %{r}: our host name */
	time_t	 now;			/* %{t} */
	const char *default_exp;	/* macro-string used without exp= */
};

struct spf_outcome {
	enum spf_result result;
	enum spf_identity identity;
	char	*sender;	/* identity as checked: local@domain (or NULL) */
	char	*domain;	/* domain checked, or NULL if there was none */
	char	*mechanism;	/* deciding term as written; "default" when no
				   term matched; NULL for none/errors */
	char	*record_domain;	/* domain whose record held that term */
	char	*explanation;	/* fail: exp= text or the default; else NULL */
	bool	 exp_from_domain;	/* explanation came from an exp= */
	char	*problem;	/* temperror/permerror: what went wrong */
	unsigned lookups;	/* DNS-querying terms evaluated (4.6.4) */
	unsigned void_lookups;
	unsigned queries;	/* DNS lookups made, cached ones included */
};

/* struct spf_results - both identities of one message (see above) */
struct spf_results {
	struct spf_outcome mailfrom;
	struct spf_outcome helo;	/* result SPF_NONE when not checked */
	bool	 helo_checked;
};

/*
 * spf_check - check_host() for identity id of req.  Fills out (release
 * with spf_outcome_release()) and returns out->result.  trace, when not
 * NULL, receives one line per record, term and lookup.
 */
enum spf_result spf_check(struct dns_resolver *, struct dns_budget *,
	    const struct spf_request *, enum spf_identity,
	    const struct spf_limits *, struct spf_outcome *out,
	    struct buf *trace);
void	 spf_outcome_release(struct spf_outcome *);

/*
 * spf_received_value - the value of a Received-SPF field (RFC 7208
 * 9.1) for o; untrusted parts are quoted or left out.
 */
void	 spf_received_value(const struct spf_outcome *,
	    const struct spf_request *, const char *receiver,
	    struct buf *out);

#endif
