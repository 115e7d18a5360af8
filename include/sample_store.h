/*
 * sample_store.h - the sample store: which messages, where, how long
 *
 * DESCRIPTION
 *	With sample_dir set, every scan records its DNS answers (scan.c
 *	attaches the recorder), and after the verdict the milter offers
 *	the message here (sample_offer).  The `sample` policy picks it or
 *	not: "reject tag 1%" keeps every rejected and tagged message and
 *	1% of the others (accepted, tempfailed), chosen at random.  A
 *	picked message is formatted at once (sample.h) and handed to one
 *	writer thread, so the verdict never waits for the disk; when more
 *	than SAMPLE_QUEUE_MAX bytes wait, new samples are dropped (and
 *	counted in the log).
 *
 *	The writer creates sample_dir (0700) when missing, refuses one
 *	that group or others can enter (samples are personal data),
 *	writes each sample to a temporary file (0600, O_EXCL, no symbolic
 *	links followed) and renames it to NOW-QUEUEID-RANDOM.mws; then it
 *	expires: samples older than sample_max_age go, then the oldest
 *	while more than sample_max_count or sample_max_size remain.  It
 *	only ever removes *.mws files and its own stale temporary files.
 */
#ifndef MW_SAMPLE_STORE_H
#define MW_SAMPLE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "verdict.h"

struct buf;
struct scan;

#define SAMPLE_QUEUE_MAX	(64UL * 1024 * 1024)	/* bytes waiting */

struct sample_policy {
	bool	 all[4];		/* by enum action */
	double	 share;			/* of the others, 0..1 */
};

/* sample_policy_parse - "reject tag 1%" style; -1 with a reason */
int	 sample_policy_parse(const char *, struct sample_policy *,
	    struct buf *why);
/* sample_policy_check - the conf.c check of the `sample` key */
int	 sample_policy_check(const char *, struct buf *why);
/* sample_policy_wants - is a message with action a kept (u in [0,1))? */
bool	 sample_policy_wants(const struct sample_policy *, enum action a,
	    double u);

/* sample_offer - after the verdict: select, format, queue (milter) */
void	 sample_offer(const struct scan *);

/*
 * sample_store_check - sample_dir at load time: a directory closed to
 * group and others (the writer refuses any other), or a name whose
 * parent directory exists, so that the writer can create it 0700;
 * -1 with the reason otherwise
 */
int	 sample_store_check(const char *dir, struct buf *why);
/*
 * sample_store_write - data as a new sample file named name in dir
 * (created 0700 when missing); 0, or -1 with a reason (an existing
 * file of that name is never replaced)
 */
int	 sample_store_write(const char *dir, const char *name,
	    const void *data, size_t len, struct buf *why);
/*
 * sample_store_expire - remove samples older than max_age seconds at
 * now, then the oldest beyond max_count files or max_size bytes;
 * returns the number removed
 */
size_t	 sample_store_expire(const char *dir, uint64_t max_size,
	    uint64_t max_count, double max_age, time_t now);

/*
 * sample_store_keep - expire dir on a timer as well, every `every`
 * seconds (<= 0: SAMPLE_EXPIRE_EVERY) with these limits, so that
 * samples go at max_age (seconds) when no new sample is written: the
 * writer thread (started here if need be) waits for samples with a
 * deadline.  The daemon calls it at start and reload; a written sample
 * also makes its store the one kept.  dir "" or NULL: no change.
 */
#define SAMPLE_EXPIRE_EVERY	600.0
void	 sample_store_keep(const char *dir, uint64_t max_size,
	    uint64_t max_count, double max_age, double every);

/*
 * Labels: feedback on a sample is a file beside it, NAME.mws.label,
 * holding "spam" or "ham" and a newline (0600); a new label replaces
 * the old one, and expiry removes it with its sample.
 *
 * sample_store_label - label every sample of queue id qid in dir
 * (names NOW-QID-RANDOM.mws; the queue id as file_name() keeps it);
 * returns how many, or -1 with a reason
 */
int	 sample_store_label(const char *dir, const char *qid, bool spam,
	    struct buf *why);
/* sample_label_set - label the sample file path; 0, or -1 with a reason */
int	 sample_label_set(const char *path, bool spam, struct buf *why);
/* sample_label - the label of sample file path: 1 spam, 0 ham, -1 none */
int	 sample_label(const char *path);

#endif
