/*
 * scan.h - the one evaluation pipeline shared by the milter and `scan`
 *
 * DESCRIPTION
 *	A scan runs over a struct msg in three phases that mirror the milter
 *	callbacks:
 *
 *	    s = scan_begin(eng, msg);       headers and envelope complete
 *	    scan_body(s, chunk, len);       zero or more times
 *	    scan_end(s);                    end of message: checks, decision
 *
 *	scan_body() stores the chunk into the message (up to its cap) and
 *	hands it to the steps that stream (DKIM body hashes), so the body
 *	is read once.  scan_end() runs the steps in the fixed order of the
 *	table in scan.c and decides; s->verdict then holds the result.
 *
 *	The milter and `mailwarden scan` both drive exactly these calls;
 *	nothing else evaluates mail.
 */
#ifndef MW_SCAN_H
#define MW_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "dns.h"
#include "verdict.h"

struct dkim_verify;
struct engine;
struct mime_msg;
struct msg;
struct sample_dns;
struct spf_results;

#define SCAN_MAX_STEPS	16

struct scan {
	struct engine	*eng;		/* referenced for the scan's life */
	struct msg	*msg;		/* borrowed */
	struct verdict	 verdict;
	time_t		 now;		/* wall clock at begin (injectable) */
	double		 when;		/* same, with fractions, for the log */
	bool		 trusted;	/* trusted network or authenticated */
	bool		 bayes_classified; /* Bayes gave a probability */
	bool		 bayes_unsure;	/* ... in the unsure band (BAYES_40) */
	bool		 done;
	bool		 live;		/* the milter's: policy.h may count
					   and defer (never `scan`, replay) */
	const char	*trap_client;	/* policy.c: the spam-trap client
					   check, "listed", "no", "degraded";
					   NULL when it did not run */
	signed char	 pstore_state;	/* policy.c: 1 the policy store
					   answered, -1 it failed, 0 unused */
	double		 busy_ms;	/* time spent inside scan_* calls */
	struct dns_budget dns_budget;	/* per-message DNS deadline and time */
	struct dkim_verify *dkim;	/* DKIM results: dkim_scan_results() */
	const struct spf_results *spf;	/* SPF outcome for DMARC (spf.h);
					   NULL until step_spf has run */
	void		*state[SCAN_MAX_STEPS];
	double		 step_ms[SCAN_MAX_STEPS]; /* end-of-message work of
					   each step; -1: did not run */
	struct mime_msg	*mime;		/* see scan_mime() */
	struct sample_dns *sample_dns;	/* DNS answers recorded for the
					   sample store (sample_dir set) */
};

struct scan *scan_begin(struct engine *, struct msg *);
struct scan *scan_begin_at(struct engine *, struct msg *, time_t now);
void	 scan_body(struct scan *, const void *, size_t);
void	 scan_end(struct scan *);
void	 scan_free(struct scan **);

/*
 * scan_symbol - add a symbol the configuration defines (a rule, a
 * blocklist entry): def_score unless symbol_scores or a rule file's
 * score overrides it
 */
void	 scan_symbol(struct scan *, const char *name, double def_score,
	    const char *detail_fmt, ...) __attribute__((format(printf, 4, 5)));
/*
 * scan_emit - add a built-in symbol: its default score from the table
 * of symbols.c, overridable the same way.  fmt may be NULL.
 */
void	 scan_emit(struct scan *, const char *name, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

/*
 * scan_mime - the decoded MIME view of the message (mime.h), built on
 * first use from the body stored so far and shared by every step;
 * owned by the scan.  Call it from end hooks, when the body is complete.
 */
const struct mime_msg *scan_mime(struct scan *);

/* scan_step_count, scan_step_name - the steps in table order */
size_t	 scan_step_count(void);
const char *scan_step_name(size_t);
/*
 * scan_verdict_init - verdict_init() plus the verdict-log value of
 * every step that declares one (its key and "none" value), in the
 * order of the step table: what a scan starts from, and what a test
 * of the log format needs.
 */
void	 scan_verdict_init(struct verdict *);
/*
 * scan_output - the verdict-log value a step declared under key, for
 * the step to replace (buf_reset, then write one JSON value)
 */
struct buf *scan_output(struct scan *, const char *key);

/* scan_log_line - the verdict log line (JSON, no newline) */
void	 scan_log_line(const struct scan *, struct buf *);

#endif
