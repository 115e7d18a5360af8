/*
 * logreview.h - reviewing verdict logs: records, filters, summary,
 * explain, HTML report
 *
 * DESCRIPTION
 *	struct logrec is a typed view of one verdict log record (see
 *	vlog.c for the writer).  Every member is optional: a missing or
 *	mistyped key reads as absent (NULL, has_* false, LR_AUTH_ABSENT),
 *	never as an error, and unknown keys are ignored here (explain shows
 *	them).  Keys are only ever added to the log, never renamed.
 *
 *	struct lr_filter selects records (search, and the other commands
 *	too).  Several values for one criterion match any of them; several
 *	criteria must all match.
 *
 *	struct lr_summary aggregates records in fixed memory: counters,
 *	fixed-bin histograms, Space-Saving top-k tables (topk.h) of
 *	symbols and sources, a time series whose bucket width doubles as
 *	the period grows, and the review lists (loglists.c): rings of the
 *	latest rejects and tags and a bounded set of likely false
 *	positives, each message with its explain text.
 *
 *	logjudge.c says what decided a verdict and weighs the evidence
 *	that a message was wanted; the lists, the symbol statistics and
 *	the search filters share those definitions.
 * SECURITY
 *	All text in a record is attacker-influenced.  lr_safe() makes it
 *	safe for a terminal (no control characters, no bidi overrides);
 *	lr_html() makes it safe for HTML text and attribute values.
 */
#ifndef MW_LOGREVIEW_H
#define MW_LOGREVIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netaddr.h"

struct buf;
struct json_object;
struct logline;
struct logread_stats;
struct topk;

enum lr_action {
	LR_ACCEPT,
	LR_TAG,
	LR_REJECT,
	LR_TEMPFAIL,
	LR_OTHER,			/* absent or unknown */
	LR_NACTIONS
};

/* the authentication checks a record's result table has (logrec.c) */
enum lr_check { LR_SPF, LR_DKIM, LR_DMARC, LR_ARC, LR_NCHECKS };

enum lr_auth {
	LR_AUTH_PASS,
	LR_AUTH_FAIL,
	LR_AUTH_SOFTFAIL,
	LR_AUTH_NEUTRAL,
	LR_AUTH_NONE,
	LR_AUTH_TEMPERROR,
	LR_AUTH_PERMERROR,
	LR_AUTH_POLICY,
	LR_AUTH_OTHER,			/* a result we do not know */
	LR_AUTH_ABSENT,			/* no result in the record */
	LR_NAUTH
};

const char *lr_action_name(enum lr_action);
const char *lr_check_name(enum lr_check);
/* lr_check_key - the check's verdict log key: "spf", "dkim", ... */
const char *lr_check_key(enum lr_check);
const char *lr_auth_name(enum lr_auth);
/* lr_action_parse - "accept", "tag", "reject", "tempfail"; -1 if not */
int	 lr_action_parse(const char *);

struct logrec {
	struct json_object *o;		/* the whole record (borrowed) */
	const char *file;
	uint64_t lineno;
	const char *text;		/* the raw line */
	size_t	 len;
	double	 time;
	bool	 has_time;
	const char *time_text;		/* "time" as logged, or NULL */
	const char *queue_id, *message_id, *mail_from, *from, *subject;
	const char *client_ip, *client_name, *helo, *action_text;
	enum lr_action action;
	double	 score, tag, reject, elapsed_ms, dns_ms;
	bool	 has_score, has_thresholds, has_elapsed, has_dns_ms;
	bool	 dns_degraded;
	enum lr_auth auth[LR_NCHECKS];
	struct json_object *symbols;	/* the "symbols" array, or NULL */
	struct json_object *rcpts;	/* the "rcpts" array, or NULL */
	const char *auth_user;		/* SMTP AUTH user: outbound mail */
	bool	 unscored;		/* "scored": false (trusted, exempt) */
	const char *forced_by;		/* symbol that forced the action */
	double	 bayes;			/* spam probability 0..1 */
	bool	 has_bayes;
	int	 dkim_aligned, spf_aligned;	/* DMARC: 1, 0, -1 unknown */
	const char *dmarc_override;	/* "trusted_forwarder", or NULL */
	int	 arc_oldest_pass;	/* ARC pass: oldest-pass, else -1 */
	struct json_object *arc_sealers; /* ARC "sealers" array, or NULL */
};

void	 logrec_from(struct logrec *, const struct logline *);

/*
 * lr_subject - the Subject for display: RFC 2047 words decoded, text
 * outside them taken as UTF-8 (or windows-1252), at most max bytes of
 * the logged value looked at.  Not yet made safe: pass it through
 * lr_safe() or lr_html().
 */
void	 lr_subject(const struct logrec *, size_t max, struct buf *out);
/*
 * lr_outbound - mail of the site's own users, not judged as inbound:
 * authenticated, or not scored (trusted network, exempt scope).  It is
 * no evidence about the domains it claims, and its DMARC result is not
 * what the domain's aggregate reports see.
 */
bool	 lr_outbound(const struct logrec *);
/* lr_threshold - the threshold of the record's tag/reject action */
bool	 lr_threshold(const struct logrec *, double *out);
/*
 * lr_decisive - did the symbol (scored sc) alone move the message
 * across the threshold of its action?  True when it forced the action,
 * or when sc > 0 and the score without it is below that threshold.
 */
bool	 lr_decisive(const struct logrec *, const char *name, double sc);
/*
 * lr_deciders - the symbols that decided a tag or reject: the one that
 * forced it, else the fewest highest-scored positive symbols that lift
 * the rest of the score to the threshold ("A(+6) B(+4)"); nothing for
 * other actions or records without thresholds.
 */
void	 lr_deciders(const struct logrec *, size_t max, struct buf *out);

/*
 * Evidence that a tagged or rejected message was wanted (a likely
 * false positive).  lr_evidence() scores what the record itself shows;
 * the report adds what the whole log shows (LR_EV_DOMAIN, LR_EV_KNOWN).
 */
enum {
	LR_EV_DMARC	= 1 << 0,	/* DMARC pass:               +3 */
	LR_EV_DKIM	= 1 << 1,	/* aligned DKIM pass:        +2 */
	LR_EV_SPF	= 1 << 2,	/* aligned SPF pass:         +1 */
	LR_EV_BAYES	= 1 << 3,	/* Bayes <= 0.1 (+2), <= 0.3 (+1) */
	LR_EV_DOMAIN	= 1 << 4,	/* From domain mostly accepted: +2 */
	LR_EV_KNOWN	= 1 << 5,	/* a known correspondent:    +3 */
	LR_EV_SPAMMY	= 1 << 6,	/* Bayes >= 0.9:             -2 */
	LR_EV_FORGED	= 1 << 7,	/* DMARC fail, not overridden: no
					   LR_EV_DOMAIN, LR_EV_KNOWN    0 */
	LR_EV_NBITS	= 8
};
#define LR_FP_MIN	3		/* points to be listed */
int	 lr_evidence(const struct logrec *, unsigned *why);
/* lr_evidence_words - "DMARC pass, Bayes 0.02, ..." for the bits */
void	 lr_evidence_words(unsigned why, double bayes, struct buf *out);
/* lr_net - "203.0.113.0/24" or "2001:db8:1::/48"; false if not an IP */
bool	 lr_net(const char *ip, char *out, size_t n);

/* lr_jstr - o[key] if it is a string, else NULL */
const char *lr_jstr(struct json_object *o, const char *key);
/* lr_jnum - o[key] if it is a finite number (true), else false */
bool	 lr_jnum(struct json_object *o, const char *key, double *out);
/* lr_jget - o[key] of any type (NULL if absent or o not an object) */
struct json_object *lr_jget(struct json_object *o, const char *key);
/* lr_auth_parse - a result word (case-insensitive) */
enum lr_auth lr_auth_parse(const char *);

/*
 * lr_domain - the lower-cased domain of an address: "a@B.example",
 * "<a@b.example>", "Name <a@b.example>"; copied into out (size n).
 * Returns false (out = "") when there is none or it does not fit.
 */
bool	 lr_domain(const char *addr, char *out, size_t n);

/*
 * lr_safe - append s[0..n) for a terminal: valid UTF-8 printable text
 * as is; control characters, DEL, C1 controls, bidi controls and
 * ill-formed bytes as \xHH or \u{HHHH}; at most max bytes of input,
 * then "...".
 */
void	 lr_safe(struct buf *, const char *s, size_t n, size_t max);
/* lr_safes - lr_safe() of a C string (NULL appends "-") */
void	 lr_safes(struct buf *, const char *s, size_t max);
/*
 * lr_html - append s[0..n) as HTML text or attribute value: & < > " '
 * as entities, controls other than \n and \t and ill-formed UTF-8 as
 * U+FFFD, bidi controls (overrides, isolates, marks) shown as \u{HHHH}.
 */
void	 lr_html(struct buf *, const char *s, size_t n);
void	 lr_htmls(struct buf *, const char *s);

/* ------------------------------------------------------------------ */

enum lr_fkey {
	LR_F_ACTION,
	LR_F_SYMBOL,		/* glob, case-insensitive */
	LR_F_SENDER,		/* address or domain: MAIL FROM or From: */
	LR_F_IP,		/* address or CIDR */
	LR_F_RCPT,		/* address or domain */
	LR_F_QUEUE_ID,
	LR_F_MESSAGE_ID,	/* with or without <> */
	LR_F_SCORE_MIN,
	LR_F_SCORE_MAX,
	LR_F_SINCE,
	LR_F_UNTIL,
	LR_F_SUBJECT,		/* substring of the decoded Subject, any case */
	LR_F_FROM,		/* From: address or domain */
	LR_F_MAIL_FROM,		/* MAIL FROM address or domain, <> = null */
	LR_F_NO_SYMBOL,		/* glob: no symbol that hit matches */
	LR_F_DECIDED_BY,	/* glob: lr_decisive() symbol */
	LR_F_SPF,		/* result[,result] */
	LR_F_DKIM,
	LR_F_DMARC,
	LR_F_BAYES_MIN,
	LR_F_BAYES_MAX,
	LR_F_ARC,		/* result[,result] */
	LR_F_OVERRIDE		/* DMARC override: trusted_forwarder, ... */
};

struct lr_strs {
	char	**v;
	size_t	 n;
};

struct lr_filter {
	unsigned actions;		/* 1 << enum lr_action; 0 = any */
	struct lr_strs symbols, senders, rcpts, qids, msgids;
	struct lr_strs subjects, froms, mail_froms, no_symbols, deciders;
	struct lr_strs overrides;
	unsigned auth[LR_NCHECKS];	/* 1 << enum lr_auth; 0 = any */
	struct cidr *nets;
	size_t	 nnets;
	double	 score_min, score_max, since, until, bayes_min, bayes_max;
	bool	 has_score_min, has_score_max, has_since, has_until;
	bool	 has_bayes_min, has_bayes_max;
};

void	 lr_filter_init(struct lr_filter *);
void	 lr_filter_release(struct lr_filter *);
/* lr_filter_add - one criterion; -1 with a reason for a bad value */
int	 lr_filter_add(struct lr_filter *, enum lr_fkey, const char *value,
	    double now, struct buf *why);
bool	 lr_filter_match(const struct lr_filter *, const struct logrec *);
/*
 * lr_filter_may_match - false only if the raw line cannot match: some
 * criterion with plain ASCII values (queue id, Message-ID, sender,
 * recipient, symbol without wildcards) has none of them in the text.
 * Exact for any JSON writer: a line holding a \u or \/ escape is
 * always a candidate.  Lets search and explain skip parsing.
 */
bool	 lr_filter_may_match(const struct lr_filter *, const char *line,
	    size_t len);
/* lr_filter_any - true if the filter has any criterion */
bool	 lr_filter_any(const struct lr_filter *);

/* ------------------------------------------------------------------ */

#define LR_SCORE_LO	(-20)		/* score histogram: unit bins from */
#define LR_SCORE_HI	50		/* LO to HI, plus under and over */
#define LR_SCORE_BINS	(LR_SCORE_HI - LR_SCORE_LO + 2)
#define LR_LAT_BINS	1200		/* log bins of 2%: 1 us .. 14 h */
#define LR_LAT_RATIO	1.02
#define LR_LAT_MIN_MS	0.001
#define LR_SERIES_N	192		/* time series buckets */
#define LR_TOP_SYMBOLS	4096		/* Space-Saving counters */
#define LR_TOP_SOURCES	2048
#define LR_TOP_CORRESPONDENTS 8192	/* addresses local users wrote to */
#define LR_EXPLAIN_MAX	(32 * 1024)	/* explain text kept per reject */
#define LR_REJECTS_MAX	1000
#define LR_FP_KEEP	4		/* FP candidates kept per row shown */
#define LR_RCPTS_SHOWN	3		/* recipients named per row */
#define LR_SUBJECT_MAX	300		/* Subject bytes shown */

struct lr_bucket {
	uint64_t n;
	uint64_t action[LR_NACTIONS];
	uint64_t pass[LR_NCHECKS];	/* messages with a pass */
	uint64_t seen[LR_NCHECKS];	/* messages with a result */
};

/* time series: bucket i covers hours [base + i*width, base + (i+1)*width) */
struct lr_series {
	bool	 any;
	int64_t	 base;			/* hours since the epoch */
	int64_t	 width;			/* hours, a power of two */
	struct lr_bucket b[LR_SERIES_N];
};

/* one message kept for a review list, with its explain text */
struct lr_item {
	double	 time;
	bool	 has_time;
	bool	 has_score;
	double	 score;
	double	 margin;		/* score - threshold (0: unknown) */
	double	 bayes;
	enum lr_action action;
	int	 points;		/* lr_evidence() */
	unsigned why;			/* LR_EV_* */
	uint64_t seq;			/* order of arrival */
	char	*queue_id, *client, *sender, *from, *from_domain, *subject;
	char	*rcpts, *symbols, *deciders, *explain;
};
#define lr_reject lr_item

/* a ring (latest n, newest last) or, for candidates, a bounded set */
struct lr_list {
	struct lr_item *v;
	size_t	 cap, n, next;
	uint64_t total;			/* items offered */
	uint64_t dropped;		/* candidates with LR_FP_MIN points
					   when offered, not kept or pushed
					   out by better ones */
};

struct lr_summary {
	uint64_t n;				/* records added */
	uint64_t action[LR_NACTIONS];
	uint64_t auth[LR_NCHECKS][LR_NAUTH];
	uint64_t score_bins[LR_SCORE_BINS];
	uint64_t scored, unscored;		/* with a score / without */
	double	 tag, reject;			/* latest thresholds seen */
	bool	 has_thresholds;
	uint64_t dns_degraded;
	uint64_t forwarded;			/* override trusted_forwarder */
	uint64_t lat_bins[LR_LAT_BINS];
	uint64_t lat_n, dns_n;
	double	 lat_sum, lat_max, dns_sum;
	double	 first, last;			/* period covered */
	bool	 has_period;
	/* symbols: aux[0] tagged, aux[1] rejected, aux[2] decided alone */
	struct topk *symbols;
	struct topk *reject_ips, *reject_domains;
	/*
	 * sources: aux[LR_SRC_*] counts per network (/24, /48), envelope
	 * domain, From domain; recipient domains; addresses that received
	 * authenticated (outbound) mail: the known correspondents.
	 * from_domains counts inbound mail only; out_domains the From
	 * domains of outbound mail (lr_outbound()).
	 */
	struct topk *nets, *env_domains, *from_domains, *rcpt_domains;
	struct topk *out_domains;
	struct topk *correspondents;
	struct lr_series series;
	/* rings of the latest rejects and tags; FP candidates */
	struct lr_list rejects, tags, fps;
	uint64_t seq;
};

enum { LR_SRC_REJECT, LR_SRC_TAG, LR_SRC_DMARC_PASS, LR_SRC_DMARC_FAIL,
	LR_SRC_DMARC_NONE, LR_SRC_ACCEPT };

/* lr_summary_new - keep_rejects latest rejects with explain text */
struct lr_summary *lr_summary_new(size_t keep_rejects);
void	 lr_summary_free(struct lr_summary **);
void	 lr_summary_add(struct lr_summary *, const struct logrec *);
/* lr_latency_pct - upper bound of the p-th percentile (0 < p <= 100) */
double	 lr_latency_pct(const struct lr_summary *, double p);
/* lr_series_start - epoch seconds where bucket i starts */
double	 lr_series_start(const struct lr_series *, size_t i);
/* lr_series_used - buckets from 0 up to the last non-empty one */
size_t	 lr_series_used(const struct lr_series *);
/* lr_auth_shown - a result row worth showing: seen, or a main one */
bool	 lr_auth_shown(const struct lr_summary *, enum lr_auth);
/* lr_reject_at - i-th latest reject, 0 = newest */
const struct lr_reject *lr_reject_at(const struct lr_summary *, size_t i);
/* lr_tag_at - i-th latest tagged message, 0 = newest */
const struct lr_item *lr_tag_at(const struct lr_summary *, size_t i);
/*
 * lr_fp_rank - the likely false positives, best first: the candidates
 * scored again with what the whole log shows (From domain mostly
 * accepted, sender a known correspondent), those with at least
 * LR_FP_MIN points, by points (desc), then by how little the score
 * passed its threshold.  Returns the count; *out is a new array (the
 * caller frees it) pointing into the summary.
 */
struct lr_fp {
	const struct lr_item *item;
	int	 points;
	unsigned why;
};
size_t	 lr_fp_rank(const struct lr_summary *, struct lr_fp **out);
/* lr_domain_wanted - From domain with >= 5 messages, >= 80% accepted */
bool	 lr_domain_wanted(const struct lr_summary *, const char *domain);
/* lr_correspondent - addr received mail from an authenticated user */
bool	 lr_correspondent(const struct lr_summary *, const char *addr);

/*
 * lr_summary_text - the summary as text; extra counts records that
 * the time range and filters left out.
 */
void	 lr_summary_text(const struct lr_summary *,
	    const struct logread_stats *, uint64_t left_out, size_t top,
	    struct buf *);
/* lr_input_report - input errors and the first malformed lines */
void	 lr_input_report(const struct logread_stats *, struct buf *);

/* lr_explain - one record's story in plain words (terminal-safe) */
void	 lr_explain(const struct logrec *, struct buf *);

struct lr_html_opts {
	const char *title;		/* NULL: "mailwarden verdict report" */
	size_t	 top;			/* rows in top tables */
	double	 generated;		/* epoch seconds shown in the page */
	uint64_t left_out;		/* records outside range/filters */
	const char *inputs;		/* e.g. "v.log v.log.1.gz" */
	char	**own_domains;		/* NULL: the recipient domains */
	size_t	 nown;
	const struct lr_summary *prev;	/* --compare: the period before */
	double	 compare_secs;		/* its length; 0: --compare-log */
	/*
	 * the report's own selection, for the `log search` under each list:
	 * its filter arguments ("--rcpt", "x.example", ...; the time range
	 * as absolute times; no --action), the actions it selected (1 <<
	 * enum lr_action, 0 = any) and its input files.  None: the lists'
	 * own criteria and no file.
	 */
	char	*const *search_args;
	size_t	 nsearch_args;
	unsigned actions;
	char	*const *files;
	size_t	 nfiles;
};

/*
 * LR_HTML_MARKER - how every report page starts: `log report` replaces
 * an existing file only when it starts with these bytes (an earlier
 * report), never a log or any other file.
 */
#define LR_HTML_MARKER	"<!DOCTYPE html>\n<html lang=\"en\"><head>" \
	"<meta name=\"generator\" content=\"mailwarden log report\">\n"

/* lr_html_report - a self-contained HTML page (inline CSS and SVG) */
void	 lr_html_report(const struct lr_summary *,
	    const struct logread_stats *, const struct lr_html_opts *,
	    struct buf *);

#endif
