/*
 * dmarc_report.h - the aggregate report store and RFC 9990 reports
 *
 * DESCRIPTION
 *	The store is a directory of append-only files, one per UTC day,
 *	"dmarc-YYYYMMDD.jsonl", one JSON object per evaluated message (a
 *	"kind":"eval" line; failure reports, RFC 9991, are spooled apart,
 *	see dmarc_failure.h).  dmarc_store_append() opens the day's file with
 *	O_APPEND, writes the line with one write(2) and closes it: no lock,
 *	no shared state, so any number of milter threads and processes can
 *	record at once, and the data survives restarts.  A line cut short
 *	by a crash is detected and skipped by the reader.
 *
 *	dmarc_report_run() reads the days that overlap [begin, end), groups
 *	the evaluations by DMARC Policy Domain and, within a domain, by
 *	identical rows (source IP, disposition, alignment, identifiers,
 *	authentication results), and writes one RFC 9990 aggregate report
 *	per Policy Domain that asked for one (rua=) into out_dir, named
 *	receiver!policy-domain!begin!end.xml[.gz] (RFC 9990 section 2.5.4);
 *	the same period gives the same file name and Report-ID, so a re-run
 *	replaces rather than duplicates.
 *
 * SECURITY
 *	Store lines are parsed with json-c and every value is checked and
 *	XML-escaped before it is written; a line over 64 KiB is skipped.
 */
#ifndef MW_DMARC_REPORT_H
#define MW_DMARC_REPORT_H

#include <stdbool.h>
#include <stddef.h>

#include "dmarc.h"

struct buf;

struct dmarc_store_entry {
	long long when;			/* seconds since the epoch */
	const char *source_ip;		/* "" if unknown */
	const char *header_from;	/* Author Domain */
	char	 envelope_from[DOMAIN_MAX + 1];	/* "" for the null sender */
	char	 envelope_to[DOMAIN_MAX + 1];
	const struct dmarc_outcome *o;
	const char *disposition;	/* none pass quarantine reject */
	const char *reason;		/* RFC 9990 override type or NULL */
	const char *comment;
	const char *spf_domain;
	enum auth_result spf;
	const struct dmarc_dkim_sig *dkim;
	size_t	 ndkim;
};

/* dmarc_store_format - the store line (JSON object + newline) */
void	 dmarc_store_format(const struct dmarc_store_entry *, struct buf *);
int	 dmarc_store_append(const char *dir, const struct dmarc_store_entry *,
	    struct buf *why);

struct dmarc_report_opts {
	const char *store_dir;
	const char *out_dir;
	long long begin, end;		/* [begin, end) */
	const char *receiver;		/* our domain, for file names and ids */
	const char *org_name;
	const char *email;
	const char *only_domain;	/* NULL: every Policy Domain */
	bool	 gzip;
	bool	 all;			/* also domains without rua= */
};

struct dmarc_report_file {
	char	*path;
	char	*policy_domain;
	char	*report_id;
	char	**rua;			/* the record's rua URIs */
	size_t	 nrua;
	size_t	 records, messages;
};

struct dmarc_report_set {
	struct dmarc_report_file *v;
	size_t	 n;
	size_t	 lines_read, lines_bad;
};

int	 dmarc_report_run(const struct dmarc_report_opts *,
	    struct dmarc_report_set *, struct buf *why);
void	 dmarc_report_set_release(struct dmarc_report_set *);

#endif
