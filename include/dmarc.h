/*
 * dmarc.h - DMARC evaluation (RFC 9989, with RFC 7489 compatibility)
 *
 * DESCRIPTION
 *	dmarc_record_parse() reads one TXT value as a DMARC Policy Record
 *	(RFC 9989 section 4.7/4.8): "v=DMARC1" must be the first tag;
 *	p, sp, np, adkim, aspf, t, psd, fo, rua and ruf are read; the tags
 *	RFC 9989 removed (pct, rf, ri) and unknown tags are ignored; a tag
 *	with a bad value falls back to its default (a bad p/sp/np is
 *	remembered, see dmarc_evaluate).
 *
 *	dmarc_evaluate() is the whole receiver procedure for one Author
 *	Domain, given the SPF result with the domain it was evaluated for
 *	and the DKIM signatures (domain, selector, result) as inputs, with
 *	every DNS query going through a struct dns_resolver and charged to
 *	a struct dns_budget:
 *	  - policy discovery by the DNS tree walk (section 4.10), at most
 *	    8 queries for a walk, honouring psd=y/psd=n; or, in PSL mode,
 *	    RFC 7489 discovery (the Author Domain, then its registrable
 *	    domain from the Public Suffix List);
 *	  - the Organizational Domains for relaxed alignment by the same
 *	    walk (section 4.10.2) or by the PSL; every query of one
 *	    evaluation is cached and the total is capped by max_queries;
 *	  - p for the Author Domain's own record, otherwise sp, or np when
 *	    the Author Domain does not exist (NXDOMAIN, RFC 8020); t=y
 *	    lowers the policy one step;
 *	  - a record with a missing or bad p (or a bad sp/np) counts as
 *	    p=none when it has a valid rua, else no policy applies
 *	    (result permerror);
 *	  - several DMARC records at one name count as none there.
 *	Temporary DNS failures (SERVFAIL, timeout, malformed answers)
 *	anywhere the outcome depends on them give temperror: never fail,
 *	never none.
 *
 *	The caller (step_dmarc.c) applies local policy to the outcome.
 */
#ifndef MW_DMARC_H
#define MW_DMARC_H

#include <stdbool.h>
#include <stddef.h>

#include "dns.h"
#include "punycode.h"

struct psl;

#define DMARC_MAX_URIS		8	/* rua / ruf URIs kept */
#define DMARC_WALK_MAX		8	/* queries of one tree walk */
#define DMARC_SELECTOR_MAX	64

enum dmarc_policy {
	DMARC_POLICY_NONE,
	DMARC_POLICY_QUARANTINE,
	DMARC_POLICY_REJECT
};

enum dmarc_align_mode {
	DMARC_RELAXED,
	DMARC_STRICT
};

enum dmarc_parse {
	DMARC_REC_OK,
	DMARC_REC_NOT_DMARC,	/* does not start with v=DMARC1 */
	DMARC_REC_EMPTY
};

enum dmarc_removed_tag {
	DMARC_RM_PCT = 1,
	DMARC_RM_RF = 2,
	DMARC_RM_RI = 4
};

struct dmarc_record {
	bool	 p_set, sp_set, np_set;	/* present with a valid value */
	bool	 p_bad, sp_bad, np_bad;	/* present with a bad value */
	enum dmarc_policy p, sp, np;
	enum dmarc_align_mode adkim, aspf;
	bool	 testing;		/* t=y */
	char	 psd;			/* 'y', 'n' or 'u' */
	char	 fo[12];		/* canonical, default "0" */
	char	*rua[DMARC_MAX_URIS];	/* valid URIs, "!size" removed */
	size_t	 nrua;
	char	*ruf[DMARC_MAX_URIS];
	size_t	 nruf;
	unsigned removed;		/* enum dmarc_removed_tag bits seen */
	unsigned unknown;		/* unknown tags seen */
	unsigned bad;			/* tags with bad syntax or values */
};

enum dmarc_parse dmarc_record_parse(const char *txt, size_t len,
	    struct dmarc_record *);
/*
 * dmarc_record_parse_notes - the same, and one line per finding in notes
 * ("p: not none, quarantine or reject: 'rejct'", "unknown tag ignored:
 * 'foo=1'", repeated and removed tags, bad URIs): for `dmarc record`
 */
struct buf;
enum dmarc_parse dmarc_record_parse_notes(const char *txt, size_t len,
	    struct dmarc_record *, struct buf *notes);
void	 dmarc_record_release(struct dmarc_record *);
void	 dmarc_record_copy(struct dmarc_record *dst,
	    const struct dmarc_record *src);
const char *dmarc_policy_name(enum dmarc_policy);

/* RFC 8601 result words shared by SPF and DKIM inputs */
enum auth_result {
	AUTH_NONE,
	AUTH_PASS,
	AUTH_FAIL,
	AUTH_SOFTFAIL,
	AUTH_NEUTRAL,
	AUTH_POLICY,
	AUTH_TEMPERROR,
	AUTH_PERMERROR
};

const char *auth_result_name(enum auth_result);
int	 auth_result_parse(const char *, enum auth_result *);

struct dmarc_dkim_sig {
	char	 domain[DOMAIN_MAX + 1];	/* d=, A-label */
	char	 selector[DMARC_SELECTOR_MAX];	/* s= */
	enum auth_result result;
};

struct dmarc_input {
	const char *author;		/* Author Domain, A-label (addr.h) */
	const char *spf_domain;		/* MAIL FROM (or HELO) domain, or NULL */
	enum auth_result spf;
	const struct dmarc_dkim_sig *dkim;
	size_t	 ndkim;
};

enum dmarc_orgmode {
	DMARC_ORG_TREEWALK,
	DMARC_ORG_PSL
};

struct dmarc_opts {
	enum dmarc_orgmode mode;
	const struct psl *psl;		/* PSL mode only */
	unsigned max_queries;		/* whole evaluation, >= DMARC_WALK_MAX */
};

enum dmarc_result {
	DMARC_RES_NONE,
	DMARC_RES_PASS,
	DMARC_RES_FAIL,
	DMARC_RES_TEMPERROR,
	DMARC_RES_PERMERROR
};

const char *dmarc_result_name(enum dmarc_result);

struct dmarc_outcome {
	enum dmarc_result result;
	bool	 have_record;
	struct dmarc_record rec;	/* valid when have_record */
	char	 policy_domain[DOMAIN_MAX + 1];
	char	 org_domain[DOMAIN_MAX + 1];	/* "" if never needed */
	enum dmarc_orgmode method;
	const char *policy_tag;		/* "p", "sp", "np" or NULL */
	enum dmarc_policy policy;	/* published, for this message */
	enum dmarc_policy applied;	/* after t=y */
	bool	 fallback_none;		/* bad p/sp/np with rua: p=none */
	bool	 nonexistent;		/* Author Domain is NXDOMAIN */
	bool	 dkim_aligned, spf_aligned;
	char	 dkim_domain[DOMAIN_MAX + 1];	/* the aligned signature */
	char	 dkim_selector[DMARC_SELECTOR_MAX];
	unsigned queries;		/* DNS queries sent */
	bool	 limit_hit;		/* max_queries reached */
	bool	 multiple_records;	/* several records at some name */
	char	 detail[400];		/* human explanation */
};

void	 dmarc_evaluate(struct dns_resolver *, struct dns_budget *,
	    const struct dmarc_opts *, const struct dmarc_input *,
	    struct dmarc_outcome *);
void	 dmarc_outcome_release(struct dmarc_outcome *);

/*
 * dmarc_org_domain - the Organizational Domain of name (RFC 9989 4.10.2
 * or PSL): 0 and out set, -1 on a temporary DNS failure, -2 when
 * max_queries was reached.
 */
int	 dmarc_org_domain(struct dns_resolver *, struct dns_budget *,
	    const struct dmarc_opts *, const char *name, char *out,
	    unsigned *queries);

/* dmarc_aligned - relaxed/strict alignment of two names: 1, 0, -1 temp */
int	 dmarc_aligned(struct dns_resolver *, struct dns_budget *,
	    const struct dmarc_opts *, const char *author, const char *id,
	    enum dmarc_align_mode);

/*
 * dmarc_mailto - the address of a mailto: report URI in the form it is
 * mailed to (smtpaddr.h: local part checked, domain as A-label with at
 * least two labels) into addr (SMTPADDR_MAX + 1 bytes or more); 0, or
 * -1 for another scheme, percent-encoding or an address smtpaddr.h
 * refuses.  hfields ("?subject=...") are ignored.
 */
int	 dmarc_mailto(const char *uri, char *addr, size_t addrsz);

enum dmarc_dest {
	DMARC_DEST_BAD = -2,	/* not a mailto: URI we can use */
	DMARC_DEST_TEMP = -1,	/* authorization not verifiable now */
	DMARC_DEST_DENIED = 0,	/* outside, and not authorized */
	DMARC_DEST_OK = 1
};

/*
 * dmarc_report_destination - may reports about policy_domain go to uri?
 * The address is parsed once (dmarc_mailto) into addr, and the check runs
 * on that address's domain: inside policy_domain, or authorized by the
 * destination (dmarc_verify_external; r NULL: not verifiable).  addr is
 * exactly what may be mailed when the answer is DMARC_DEST_OK.
 */
enum dmarc_dest dmarc_report_destination(struct dns_resolver *,
	    struct dns_budget *, const struct dmarc_opts *,
	    const char *policy_domain, const char *uri, char *addr,
	    size_t addrsz);

/*
 * dmarc_verify_external - RFC 9990 section 3: may host receive reports
 * about policy_domain?  1 yes, 0 no, -1 temporary failure.
 */
int	 dmarc_verify_external(struct dns_resolver *, struct dns_budget *,
	    const struct dmarc_opts *, const char *policy_domain,
	    const char *host);

#endif
