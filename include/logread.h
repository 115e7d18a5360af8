/*
 * logread.h - stream verdict log records from files, gzip files, stdin
 *
 * DESCRIPTION
 *	A logread hands out one parsed JSON object per log line, in time
 *	order across all its inputs, holding only one line per open input
 *	in memory.
 *
 *	Inputs are paths ("-" is standard input) read through zlib, so
 *	plain files and gzip-compressed rotated logs (v.log.2.gz) are read
 *	alike, whatever their names; or one memory buffer (tests, fuzzing).
 *
 *	Time order: each regular file is opened once to find the time of
 *	its first record, then the files are merged: a file joins the merge
 *	when the merge reaches its first time, and the record with the
 *	earliest "time" among the open files comes next.  Rotated logs
 *	(disjoint periods) are thus read one after the other; logs that
 *	overlap (two MX hosts) are interleaved.  Within one file the order
 *	of the file is kept; a record without a usable time takes the time
 *	of the record before it in its file.  Standard input and other
 *	non-regular files are kept open from the start (they cannot be
 *	read twice).
 *
 *	Blank lines are skipped.  Lines that are not one JSON object
 *	(syntax error, truncated, trailing data, longer than
 *	LOGREAD_MAX_LINE, nested deeper than LOGREAD_MAX_DEPTH) are
 *	counted as malformed; the first few are kept with file, line
 *	number and reason.  Input errors (unreadable file, corrupt or
 *	truncated gzip data) end that input, are kept as messages, and the
 *	other inputs are still read.
 * SECURITY
 *	Log lines hold text chosen by mail senders.  Lines are length-
 *	capped before parsing and parsed by json-c in strict mode with a
 *	depth limit; nothing in a line is trusted to be well-formed.
 */
#ifndef MW_LOGREAD_H
#define MW_LOGREAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct json_object;

#define LOGREAD_MAX_LINE	(1024 * 1024)	/* bytes, excluding newline */
#define LOGREAD_MAX_DEPTH	32		/* JSON nesting */
#define LOGREAD_MAX_FILES	4096		/* inputs of one logread */
#define LOGREAD_MAX_ERRORS	64		/* input error messages kept */
#define LOGREAD_BAD_KEEP_MAX	10000		/* malformed lines kept */

/* one record; valid until the next logread_next() or logread_free() */
struct logline {
	const char *file;		/* as given; "-" is stdin */
	uint64_t lineno;		/* 1-based */
	const char *text;		/* the raw line, NUL-terminated */
	size_t	 len;			/* without newline and trailing CR */
	struct json_object *obj;	/* a JSON object, owned by the reader */
	double	 time;			/* seconds since the epoch */
	bool	 has_time;		/* "time" parsed (else inherited) */
};

struct logbad {
	const char *file;
	uint64_t lineno;
	char	 reason[96];
};

struct logread_stats {
	uint64_t lines;			/* lines read, blank ones included */
	uint64_t records;		/* well-formed records handed out */
	uint64_t malformed;
	uint64_t no_time;		/* records without a usable "time" */
	uint64_t skipped;		/* lines the prefilter ruled out */
	struct logbad *bad;		/* the first nbad malformed lines */
	size_t	 nbad;
	char	**errors;		/* input errors, one line each */
	size_t	 nerrors;
	uint64_t errors_dropped;	/* beyond LOGREAD_MAX_ERRORS */
	size_t	 files;			/* inputs given */
};

struct logread;

/*
 * logread_open - a reader over paths[0..n) ("-" = stdin; n == 0 means
 * stdin).  keep_bad malformed lines are remembered (capped at
 * LOGREAD_BAD_KEEP_MAX).  Never fails: inputs that cannot be opened
 * become input errors.
 */
struct logread *logread_open(char *const *paths, size_t n, size_t keep_bad);
/* logread_open_mem - a reader over one buffer (borrowed), named name */
struct logread *logread_open_mem(const char *data, size_t len,
	    const char *name, size_t keep_bad);
/*
 * logread_set_prefilter - lines for which fn(line, len, arg) returns
 * false are skipped unparsed (counted in skipped, never as malformed).
 * fn must only rule out lines that cannot be what the caller wants.
 */
void	 logread_set_prefilter(struct logread *,
	    bool (*fn)(const char *line, size_t len, void *arg), void *arg);
/* logread_next - 1 and *out set, or 0 at the end of all inputs */
int	 logread_next(struct logread *, const struct logline **out);
const struct logread_stats *logread_stats(const struct logread *);
void	 logread_free(struct logread **);

/*
 * logread_rotated - the rotated siblings of a log path: the files
 * PATH.N and PATH.N.gz (N = 1, 2, ...) in its directory, as logrotate
 * names them, by N.  Returns their number (at most LOGREAD_MAX_FILES)
 * and sets *out to an array of new strings (the caller frees each and
 * the array); 0 and NULL when there are none or the directory cannot
 * be read (the caller still reads PATH itself and reports it).
 */
size_t	 logread_rotated(const char *path, char ***out);

/*
 * logtime_parse - RFC 3339 date-time ("2026-11-18T11:06:40.25Z",
 * "...+02:00"; 't', 'z' and a space separator accepted) or a full date
 * ("2026-11-18", midnight UTC).  0 and *out (epoch seconds) or -1.
 */
int	 logtime_parse(const char *, double *out);
/*
 * logtime_arg - a command line time: logtime_parse() forms, "now", or
 * an age before now such as "90s", "30m", "24h", "7d", "2w", "1h30m".
 */
int	 logtime_arg(const char *, double now, double *out);
#endif
