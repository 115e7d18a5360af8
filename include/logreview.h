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
 *	fixed-bin histograms, Space-Saving top-k tables (topk.h), a time
 *	series whose bucket width doubles as the period grows, and a ring
 *	of the latest rejects with their explain text.
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

enum lr_check { LR_SPF, LR_DKIM, LR_DMARC, LR_NCHECKS };

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
};

void	 logrec_from(struct logrec *, const struct logline *);

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
 * U+FFFD.
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
	LR_F_UNTIL
};

struct lr_strs {
	char	**v;
	size_t	 n;
};

struct lr_filter {
	unsigned actions;		/* 1 << enum lr_action; 0 = any */
	struct lr_strs symbols, senders, rcpts, qids, msgids;
	struct cidr *nets;
	size_t	 nnets;
	double	 score_min, score_max, since, until;
	bool	 has_score_min, has_score_max, has_since, has_until;
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
#define LR_EXPLAIN_MAX	(32 * 1024)	/* explain text kept per reject */
#define LR_REJECTS_MAX	1000

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

struct lr_reject {
	double	 time;
	bool	 has_time;
	bool	 has_score;
	double	 score;
	char	*queue_id, *client, *sender, *symbols, *explain;
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
	uint64_t lat_bins[LR_LAT_BINS];
	uint64_t lat_n, dns_n;
	double	 lat_sum, lat_max, dns_sum;
	double	 first, last;			/* period covered */
	bool	 has_period;
	struct topk *symbols;	/* aux[0] tagged, aux[1] rejected, last score */
	struct topk *reject_ips, *reject_domains;
	struct lr_series series;
	struct lr_reject *rejects;		/* ring, oldest at rej_next */
	size_t	 rej_cap, rej_n, rej_next;
};

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
