/*
 * dmarc_failure.h - DMARC failure reports (RFC 9991, AFRF)
 *
 * DESCRIPTION
 *	A message whose DMARC evaluation meets the fo= conditions of a
 *	record that has ruf= addresses gets a failure report: an
 *	authentication failure report in the Abuse Reporting Format
 *	(RFC 5965, RFC 6591) with the original message's header fields and
 *	never its body.  The milter only spools the report, a file in
 *	DIR/failures/ (dmarc_report_dir), at most dmarc_failure_reports_max
 *	per hour; `mailwarden dmarc failures --send` later checks each
 *	ruf= destination (RFC 9990 section 3, as for aggregate reports) and
 *	mails the report, so no milter thread ever waits for a mail
 *	submission or for the destination's DNS.
 *
 *	A spool file is the report message itself without a To field,
 *	after two lines of our own that the sender reads and strips:
 *	"X-Mailwarden-Policy-Domain: DOMAIN" and "X-Mailwarden-Ruf: URI...".
 *
 * SECURITY
 *	Everything in a report comes from the network.  Header fields are
 *	copied with CR and NUL removed and folding kept, capped at
 *	DMARC_FAILURE_MAX_HEADERS bytes; the spool reader trusts nothing
 *	but its own two lines, whose policy domain must be a host name,
 *	and caps the file size.  The sender gives each ruf= address to
 *	sendmail on its command line (submit.h), never through -t, so no
 *	text in the report can choose a recipient.
 */
#ifndef MW_DMARC_FAILURE_H
#define MW_DMARC_FAILURE_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "dmarc.h"

struct buf;
struct msg;

#define DMARC_FAILURE_MAX_HEADERS	(64 * 1024)

struct dmarc_failure {
	time_t	 when;
	const struct msg *msg;		/* envelope and header fields */
	const char *author;		/* Reported-Domain */
	const struct dmarc_outcome *o;	/* with the record (ruf=, fo=) */
	enum auth_result spf;		/* SPF result for the DMARC input */
	const struct dmarc_dkim_sig *dkim;	/* every DKIM signature */
	size_t	 ndkim;
	const char *authres;		/* our Authentication-Results value */
	const char *disposition;	/* none, quarantine, reject */
	const char *reporter;		/* From: of the report */
	const char *hostname;		/* for Message-ID */
};

/*
 * dmarc_failure_wanted - does fo= ask for a report on this outcome?
 * fo=0: DMARC failed; 1: some identifier did not give an aligned pass;
 * d: a DKIM signature failed; s: SPF failed.
 */
bool	 dmarc_failure_wanted(const struct dmarc_outcome *, enum auth_result spf,
	    const struct dmarc_dkim_sig *, size_t ndkim);

/* dmarc_failure_format - the spool file's text for f */
void	 dmarc_failure_format(const struct dmarc_failure *, struct buf *);

/*
 * dmarc_failure_spool - write the report into dir/failures/ (created if
 * missing); 0, or -1 with why.  Rate limit: see dmarc_failure_admit().
 */
int	 dmarc_failure_spool(const char *dir, const struct dmarc_failure *,
	    struct buf *why);

/*
 * dmarc_failure_admit - one more report this hour (of max)?  Counts
 * per process, thread-safe; max 0 admits none.
 */
bool	 dmarc_failure_admit(unsigned long max, time_t now);

/*
 * dmarc_failure_read - a spool file: its policy domain, its ruf URIs
 * (space separated, into rufs) and the report text after our lines
 */
int	 dmarc_failure_read(const char *path, char *domain, size_t dsz,
	    struct buf *rufs, struct buf *text, struct buf *why);
/*
 * dmarc_failure_parse - the same over a spool file's bytes in memory:
 * 0, or -1 when they do not start with our two lines, or the domain line
 * does not hold a domain name as the milter writes it (lower case,
 * A-labels) that fits into dsz bytes with its NUL
 */
int	 dmarc_failure_parse(const char *data, size_t len, char *domain,
	    size_t dsz, struct buf *rufs, struct buf *text);

#endif
