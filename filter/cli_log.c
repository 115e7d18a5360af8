/*
 * cli_log.c - `mailwarden log`: summary, search, explain, report
 *
 * DESCRIPTION
 *	Every subcommand streams the given verdict logs (plain or gzip,
 *	"-" for stdin) through logread in time order, keeps the records
 *	that pass the time range and filters, and feeds them to its
 *	consumer.  Without a file: the log_file of the configuration (-c,
 *	the default file, or built-in), whatever stdin is (a log piped in
 *	is read only as "-"); --rotated adds each log's rotated siblings.
 *	A terminal on stdin is refused, not waited on.  Malformed lines
 *	never stop a review: they are counted and listed (file:line:
 *	reason), on stdout in summary and report, on stderr for search and
 *	explain, whose stdout is data.
 *
 *	No output lands on an input: standard output, and the report's
 *	--html file, are compared with every input by device and inode
 *	before anything is read; the report replaces only an earlier
 *	report (outfile.h) and goes to stdout by default or with "-".
 * EXIT STATUS
 *	0 done; 1 search or explain found nothing; 2 bad usage, no input,
 *	an output refused or not written, or an input could not be read
 *	(the review still covers the others).
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "cli.h"
#include "engine.h"
#include "logread.h"
#include "conf.h"
#include "logreview.h"
#include "outfile.h"
#include "str.h"
#include "whatif.h"

enum { OPT_FILTER = 256, OPT_TOP = 512, OPT_ERRORS, OPT_JSON, OPT_LIMIT,
	OPT_HTML, OPT_REJECTS, OPT_TITLE, OPT_ROTATED, OPT_HELP, OPT_COMPARE,
	OPT_OWN, OPT_COMPARE_LOG };

/* the filter options, shared by every subcommand */
static const struct {
	const char *name;
	enum lr_fkey key;
	const char *arg, *help;
} filter_opts[] = {
	{ "since", LR_F_SINCE, "T", "records at or after T" },
	{ "until", LR_F_UNTIL, "T", "records before T" },
	{ "action", LR_F_ACTION, "A[,A]", "accept, tag, reject, tempfail" },
	{ "symbol", LR_F_SYMBOL, "GLOB", "a symbol that hit (DKIM_*)" },
	{ "sender", LR_F_SENDER, "ADDR|DOM", "MAIL FROM or From: address "
	    "or domain" },
	{ "ip", LR_F_IP, "IP|CIDR", "client address" },
	{ "rcpt", LR_F_RCPT, "ADDR|DOM", "a recipient address or domain" },
	{ "queue-id", LR_F_QUEUE_ID, "ID", "MTA queue id" },
	{ "message-id", LR_F_MESSAGE_ID, "ID", "Message-ID, <> optional" },
	{ "score-min", LR_F_SCORE_MIN, "X", "score at least X" },
	{ "score-max", LR_F_SCORE_MAX, "X", "score at most X" },
	{ "subject", LR_F_SUBJECT, "TEXT", "Subject contains TEXT (decoded, "
	    "any case)" },
	{ "from", LR_F_FROM, "ADDR|DOM", "From: address or domain" },
	{ "mail-from", LR_F_MAIL_FROM, "ADDR|DOM|<>", "envelope sender" },
	{ "no-symbol", LR_F_NO_SYMBOL, "GLOB", "no symbol that hit matches" },
	{ "decided-by", LR_F_DECIDED_BY, "GLOB", "a symbol that forced the "
	    "action or alone crossed its threshold" },
	{ "spf", LR_F_SPF, "R[,R]", "SPF result: pass, fail, softfail, "
	    "neutral, none, temperror, permerror, absent" },
	{ "dkim", LR_F_DKIM, "R[,R]", "DKIM result (pass if any signature "
	    "passed)" },
	{ "dmarc", LR_F_DMARC, "R[,R]", "DMARC result" },
	{ "arc", LR_F_ARC, "R[,R]", "ARC chain result: pass, fail, none" },
	{ "override", LR_F_OVERRIDE, "WHY", "DMARC policy overridden: "
	    "trusted_forwarder, local_policy" },
	{ "bayes-min", LR_F_BAYES_MIN, "P", "Bayes probability at least P" },
	{ "bayes-max", LR_F_BAYES_MAX, "P", "Bayes probability at most P" },
};
#define NFILTER_OPTS	(sizeof(filter_opts) / sizeof(filter_opts[0]))

struct logcmd {
	const char *name;
	struct lr_filter filter;
	size_t	 errors;		/* malformed lines listed */
	size_t	 top;
	size_t	 rejects;
	size_t	 limit;			/* search: 0 = all */
	bool	 json;
	const char *html;
	const char *title;
	const char *conf;		/* -c FILE */
	bool	 rotated;		/* also read PATH.1, PATH.2.gz ... */
	const char *id;			/* explain: the message asked */
	char	**files;		/* the inputs, owned */
	int	 nfiles;
	struct outfile_ids ids;		/* the inputs, by device and inode */
	uint64_t left_out;
	double	 now;
	const struct lr_filter *idfilter;	/* explain: the message asked */
	double	 compare;		/* report --compare: seconds, 0 none */
	char	**own;			/* report --own-domain, lower-cased */
	size_t	 nown;
	char	**cmp_files;		/* report --compare-log, borrowed */
	size_t	 ncmp;
	char	**sargs;		/* report: filter options for the
					   searches it prints, owned */
	size_t	 nsargs;
};

static void
usage(FILE *f)
{
	size_t i;

	fprintf(f,
	    "usage: mailwarden log summary [options] [FILE...]\n"
	    "       mailwarden log search [options] [--json] [--limit N] "
	    "[FILE...]\n"
	    "       mailwarden log explain [options] QUEUEID|MESSAGE-ID "
	    "[FILE...]\n"
	    "       mailwarden log report [--html OUT.html|-] [options] "
	    "[FILE...]\n"
	    "       mailwarden log whatif -c NEW.conf [--json] [--limit N] "
	    "[--top N]\n"
	    "                             [options] [FILE...]\n"
	    "       mailwarden log label [-c FILE] QUEUEID spam|ham\n\n"
	    "FILE is a verdict log, plain or gzip-compressed (rotated logs "
	    "are read in\ntime order); '-' reads standard input (a log "
	    "piped in).  Without FILE:\nthe log_file of the configuration "
	    "(-c FILE, default\n%s),\nwhatever standard input is.\n\n"
	    "filters (repeat an option to accept any of its values):\n",
	    MW_DEFAULT_CONF);
	for (i = 0; i < NFILTER_OPTS; i++)
		fprintf(f, "  --%s %-*s %s\n", filter_opts[i].name,
		    (int)(18 - strlen(filter_opts[i].name)),
		    filter_opts[i].arg, filter_opts[i].help);
	fprintf(f,
	    "  T is RFC 3339 (2026-11-18T06:00:00Z), a date, or an age: "
	    "90s 30m 24h 7d 2w\n\n"
	    "other options:\n"
	    "  -c FILE         configuration whose log_file is read when no "
	    "FILE is given\n"
	    "  --rotated       also read each log's rotated siblings (.1, "
	    ".2.gz, ...)\n"
	    "  --errors N      malformed lines to list (default 10)\n"
	    "  --top N         rows in top tables (summary 10, report 15)\n"
	    "  --json          search: print matching lines as JSON lines;"
	    "\n                  whatif: the report as one JSON object\n"
	    "  --limit N       search: stop after N matches; whatif: changed "
	    "messages\n                  listed (default all)\n"
	    "  --html OUT      report: write the HTML page to OUT (default "
	    "or -: stdout);\n"
	    "                  an existing OUT is replaced only if it is an "
	    "earlier report\n"
	    "  --rejects N     report: rows per review list (rejects, tags,"
	    " likely false\n                  positives; default 50, max %d)\n"
	    "  --title TEXT    report: page title\n"
	    "  --compare AGE   report: also read the AGE before the report's "
	    "period and say\n                  what changed (the period is "
	    "--since..--until, default the\n                  last AGE before "
	    "--until or now)\n"
	    "  --compare-log FILE  report: compare with the records of FILE "
	    "(repeat), such\n                  as yesterday's rotated log, "
	    "instead of --compare\n"
	    "  --own-domain D  report: a domain of the site, for its DMARC "
	    "table (repeat;\n                  default: the recipient "
	    "domains)\n"
	    "whatif re-decides each logged message from its logged symbols "
	    "under the\nscores, thresholds and policy actions of NEW.conf "
	    "(-c, required) and lists\nwhat would change.\n",
	    LR_REJECTS_MAX);
}

/* count_arg - a bounded count option */
static int
count_arg(const char *name, const char *v, uint64_t max, size_t *out)
{
	uint64_t n;

	if (parse_uint(v, 0, max, &n) < 0) {
		fprintf(stderr, "mailwarden log: --%s: '%s' is not a number "
		    "from 0 to %llu\n", name, v, (unsigned long long)max);
		return -1;
	}
	*out = (size_t)n;
	return 0;
}

/* compare_arg - an age such as 24h or 7d, as seconds */
static int
compare_arg(const char *v, double *out)
{
	const double base = 4e9;
	double t;

	if (strpbrk(v, "-:T") != NULL || logtime_arg(v, base, &t) < 0 ||
	    !(base - t > 0) || base - t > 400 * 86400.0) {
		fprintf(stderr, "mailwarden log: --compare: '%s' is not an "
		    "age such as 24h, 7d or 1w (at most 400 days)\n", v);
		return -1;
	}
	*out = base - t;
	return 0;
}

/* search_arg - one more word (pre + s) for the report's searches */
static void
search_arg(struct logcmd *c, const char *pre, const char *s)
{
	struct buf b = BUF_INIT;

	buf_adds(&b, pre);
	buf_adds(&b, s);
	c->sargs = xreallocarray(c->sargs, c->nsargs + 1, sizeof(*c->sargs));
	c->sargs[c->nsargs++] = buf_steal(&b);
}

/* search_time - --since or --until T, T as an absolute RFC 3339 time */
static void
search_time(struct logcmd *c, const char *opt, double t)
{
	struct buf b = BUF_INIT;
	double sec = floor(t);
	long usec = lround((t - sec) * 1e6);
	time_t tt;
	struct tm tm;

	if (usec >= 1000000) {
		sec += 1;
		usec = 0;
	}
	tt = (time_t)sec;
	gmtime_r(&tt, &tm);
	buf_printf(&b, "%04d-%02d-%02dT%02d:%02d:%02d", tm.tm_year + 1900,
	    tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
	if (usec)
		buf_printf(&b, ".%06ld", usec);
	buf_addc(&b, 'Z');
	search_arg(c, "", opt);
	search_arg(c, "", buf_cstr(&b));
	buf_release(&b);
}

/*
 * parse_args - options of every subcommand; 0, or 2 for bad usage.
 * The operands are left in argv[optind..argc).
 */
static int
parse_args(struct logcmd *c, int argc, char **argv)
{
	struct option opts[NFILTER_OPTS + 15];
	struct buf why = BUF_INIT;
	size_t i, k = 0;
	int ch, rc = 0;

	for (i = 0; i < NFILTER_OPTS; i++)
		opts[k++] = (struct option){ filter_opts[i].name,
		    required_argument, NULL, OPT_FILTER + (int)i };
	opts[k++] = (struct option){ "top", required_argument, NULL, OPT_TOP };
	opts[k++] = (struct option){ "errors", required_argument, NULL,
	    OPT_ERRORS };
	opts[k++] = (struct option){ "json", no_argument, NULL, OPT_JSON };
	opts[k++] = (struct option){ "limit", required_argument, NULL,
	    OPT_LIMIT };
	opts[k++] = (struct option){ "html", required_argument, NULL,
	    OPT_HTML };
	opts[k++] = (struct option){ "rejects", required_argument, NULL,
	    OPT_REJECTS };
	opts[k++] = (struct option){ "title", required_argument, NULL,
	    OPT_TITLE };
	opts[k++] = (struct option){ "config", required_argument, NULL, 'c' };
	opts[k++] = (struct option){ "rotated", no_argument, NULL,
	    OPT_ROTATED };
	opts[k++] = (struct option){ "help", no_argument, NULL, OPT_HELP };
	opts[k++] = (struct option){ "compare", required_argument, NULL,
	    OPT_COMPARE };
	opts[k++] = (struct option){ "own-domain", required_argument, NULL,
	    OPT_OWN };
	opts[k++] = (struct option){ "compare-log", required_argument, NULL,
	    OPT_COMPARE_LOG };
	opts[k] = (struct option){ NULL, 0, NULL, 0 };

	optind = 1;
	while (rc == 0 && (ch = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		if (ch >= OPT_FILTER && ch < OPT_FILTER + (int)NFILTER_OPTS) {
			i = (size_t)(ch - OPT_FILTER);
			/* the time range goes in as resolved; the lists
			 * narrow the actions themselves */
			if (filter_opts[i].key != LR_F_SINCE &&
			    filter_opts[i].key != LR_F_UNTIL &&
			    filter_opts[i].key != LR_F_ACTION) {
				search_arg(c, "--", filter_opts[i].name);
				search_arg(c, "", optarg);
			}
			buf_reset(&why);
			if (lr_filter_add(&c->filter, filter_opts[i].key,
			    optarg, c->now, &why) < 0) {
				fprintf(stderr, "mailwarden log: --%s: %s\n",
				    filter_opts[i].name, buf_cstr(&why));
				rc = 2;
			}
			continue;
		}
		switch (ch) {
		case OPT_TOP:
			rc = count_arg("top", optarg, 10000, &c->top) ? 2 : 0;
			break;
		case OPT_ERRORS:
			rc = count_arg("errors", optarg, LOGREAD_BAD_KEEP_MAX,
			    &c->errors) ? 2 : 0;
			break;
		case OPT_JSON: c->json = true; break;
		case OPT_LIMIT:
			rc = count_arg("limit", optarg, UINT32_MAX,
			    &c->limit) ? 2 : 0;
			break;
		case OPT_HTML: c->html = optarg; break;
		case OPT_REJECTS:
			rc = count_arg("rejects", optarg, LR_REJECTS_MAX,
			    &c->rejects) ? 2 : 0;
			break;
		case OPT_TITLE: c->title = optarg; break;
		case 'c': c->conf = optarg; break;
		case OPT_ROTATED: c->rotated = true; break;
		case OPT_COMPARE:
			rc = compare_arg(optarg, &c->compare) ? 2 : 0;
			break;
		case OPT_COMPARE_LOG:
			c->cmp_files = xreallocarray(c->cmp_files, c->ncmp + 1,
			    sizeof(*c->cmp_files));
			c->cmp_files[c->ncmp++] = optarg;
			outfile_add_path(&c->ids, optarg);
			break;
		case OPT_OWN:
			c->own = xreallocarray(c->own, c->nown + 1,
			    sizeof(*c->own));
			c->own[c->nown] = xstrdup(optarg);
			str_lower(c->own[c->nown++]);
			break;
		case 'h':
		case OPT_HELP: usage(stdout); rc = -1; break;
		default: usage(stderr); rc = 2; break;
		}
	}
	if (rc == 0 && c->compare > 0 && c->ncmp) {
		fprintf(stderr, "mailwarden log: --compare and --compare-log "
		    "exclude each other\n");
		rc = 2;
	}
	buf_release(&why);
	return rc;
}

/* add_input - one input, and with --rotated its rotated siblings */
static void
add_input(struct logcmd *c, const char *path)
{
	char **sib = NULL;
	size_t n = 0, i;

	if (c->rotated && strcmp(path, "-") != 0)
		n = logread_rotated(path, &sib);
	c->files = xreallocarray(c->files, (size_t)c->nfiles + 1 + n,
	    sizeof(char *));
	c->files[c->nfiles++] = xstrdup(path);
	outfile_add_path(&c->ids, path);
	for (i = 0; i < n; i++) {
		c->files[c->nfiles++] = sib[i];
		outfile_add_path(&c->ids, sib[i]);
	}
	free(sib);
}

/*
 * configured_log - log_file of -c FILE, of the default file, or the
 * built-in one; NULL after saying why
 */
static char *
configured_log(const struct logcmd *c)
{
	const char *path = c->conf;
	struct buf why = BUF_INIT;
	struct conf *cf = NULL;
	char *log = NULL;

	if (path == NULL && access(MW_DEFAULT_CONF, F_OK) == 0)
		path = MW_DEFAULT_CONF;
	if (path == NULL)
		cf = conf_defaults();
	else if (conf_load(path, &cf, &why) < 0)
		fprintf(stderr, "mailwarden log %s: %s\n", c->name,
		    buf_cstr(&why));
	if (cf && cf->log_file[0] == '\0')
		fprintf(stderr, "mailwarden log %s: %s sets no log_file: "
		    "name a verdict log FILE\n", c->name, path ? path :
		    "the built-in configuration");
	else if (cf && access(cf->log_file, R_OK) < 0)
		fprintf(stderr, "mailwarden log %s: %s (log_file of %s): %s;"
		    " name a verdict log FILE, give -c CONFIG, or pipe a log "
		    "in and give - as FILE\n", c->name, cf->log_file,
		    path ? path : "the built-in defaults", strerror(errno));
	else if (cf)
		log = xstrdup(cf->log_file);
	if (cf)
		conf_free(cf);
	buf_release(&why);
	return log;
}

/*
 * resolve_inputs - the files to read: the operands ("-" standard
 * input); without any, the configured log_file, whatever standard input
 * is (a cron job's is a pipe: reading it would review nothing).  2 if there is no input or
 * standard input is a terminal (it would wait there unprompted).
 */
static int
resolve_inputs(struct logcmd *c, char **args, int nargs)
{
	char *log;
	int i;

	if (nargs == 0) {
		if ((log = configured_log(c)) == NULL)
			return 2;
		add_input(c, log);
		free(log);
	}
	for (i = 0; i < nargs; i++)
		add_input(c, args[i]);
	for (i = 0; i < c->nfiles; i++)
		if (strcmp(c->files[i], "-") == 0 && isatty(STDIN_FILENO)) {
			fprintf(stderr, "mailwarden log %s: standard input is "
			    "a terminal, not a verdict log: name a log FILE, "
			    "give -c CONFIG to read its log_file, or pipe a "
			    "log in to -\n", c->name);
			return 2;
		}
	return 0;
}

/* prefilter - rule out lines that cannot pass the filters, unparsed */
static bool
prefilter(const char *line, size_t len, void *arg)
{
	const struct logcmd *c = arg;

	return lr_filter_may_match(&c->filter, line, len) &&
	    (c->idfilter == NULL || lr_filter_may_match(c->idfilter, line,
	    len));
}

/* open_logs - the reader for the command's files, with its prefilter */
static struct logread *
open_logs(struct logcmd *c, char **files, int n)
{
	struct logread *r = logread_open(files, (size_t)n, c->errors);

	logread_set_prefilter(r, prefilter, c);
	return r;
}

/* left_out - records the time range and filters excluded */
static uint64_t
left_out(const struct logcmd *c, const struct logread *r)
{
	return c->left_out + logread_stats(r)->skipped;
}

/* next_record - the next record that passes the filter, or 0 at end */
static int
next_record(struct logcmd *c, struct logread *r, struct logrec *rec)
{
	const struct logline *l;

	while (logread_next(r, &l)) {
		logrec_from(rec, l);
		if (lr_filter_match(&c->filter, rec))
			return 1;
		c->left_out++;
	}
	return 0;
}

/* input_status - report input problems to stderr; 2 if an input failed */
static int
input_status(const struct logread *r, bool to_stderr)
{
	const struct logread_stats *st = logread_stats(r);
	struct buf b = BUF_INIT;

	if (to_stderr) {
		lr_input_report(st, &b);
		fputs(buf_cstr(&b), stderr);
	} else if (st->nerrors)
		fprintf(stderr, "mailwarden log: %zu input(s) could not be "
		    "read completely (listed with the results)\n", st->nerrors);
	buf_release(&b);
	return st->nerrors ? 2 : 0;
}

static int
run_summary(struct logcmd *c)
{
	struct logread *r = open_logs(c, c->files, c->nfiles);
	struct lr_summary *s = lr_summary_new(0);
	struct logrec rec;
	struct buf out = BUF_INIT;
	int rc;

	while (next_record(c, r, &rec))
		lr_summary_add(s, &rec);
	lr_summary_text(s, logread_stats(r), left_out(c, r), c->top ? c->top :
	    10, &out);
	fputs(buf_cstr(&out), stdout);
	rc = input_status(r, false);
	buf_release(&out);
	lr_summary_free(&s);
	logread_free(&r);
	return rc;
}

/* col - a table cell: terminal-safe, cut and padded to width characters */
static void
col(struct buf *o, const char *s, size_t width)
{
	struct buf t = BUF_INIT;
	size_t chars = 0, i;

	lr_safes(&t, s, 4 * width);
	for (i = 0; i < t.len; i++) {
		if (((unsigned char)t.data[i] & 0xC0) == 0x80)
			continue;
		if (chars == width)
			break;
		chars++;
	}
	buf_add(o, t.data, i);
	for (; chars < width; chars++)
		buf_addc(o, ' ');
	buf_addc(o, ' ');
	buf_release(&t);
}

static void
search_row(struct buf *o, const struct logrec *rec)
{
	struct buf t = BUF_INIT;
	size_t i, n;

	if (rec->time_text)
		buf_add(&t, rec->time_text, strnlen(rec->time_text, 19));
	col(o, t.len ? t.data : "-", 19);
	col(o, rec->queue_id, 12);
	col(o, rec->action_text, 8);
	buf_reset(&t);
	if (rec->has_score)
		buf_printf(&t, "%7.2f", rec->score);
	col(o, t.len ? t.data : "      -", 7);
	col(o, rec->client_ip, 15);
	col(o, rec->mail_from ? (*rec->mail_from ? rec->mail_from : "<>") :
	    NULL, 28);
	buf_reset(&t);
	lr_subject(rec, 400, &t);
	col(o, rec->subject ? buf_cstr(&t) : NULL, 32);
	n = rec->symbols ? json_object_array_length(rec->symbols) : 0;
	for (i = 0; i < n && i < 4; i++) {
		const char *name = lr_jstr(json_object_array_get_idx(
		    rec->symbols, i), "name");

		if (i)
			buf_addc(o, ',');
		lr_safes(o, name ? name : "?", 40);
	}
	if (n > 4)
		buf_printf(o, ",+%zu", n - 4);
	buf_addc(o, '\n');
	buf_release(&t);
}

static int
run_search(struct logcmd *c)
{
	struct logread *r = open_logs(c, c->files, c->nfiles);
	struct logrec rec;
	struct buf out = BUF_INIT;
	size_t matched = 0;
	int rc;

	if (!c->json)
		fprintf(stdout, "%-19s %-12s %-8s %7s %-15s %-28s %-32s %s\n",
		    "TIME", "QUEUE-ID", "ACTION", "SCORE", "CLIENT", "SENDER",
		    "SUBJECT", "SYMBOLS");
	while ((c->limit == 0 || matched < c->limit) &&
	    next_record(c, r, &rec)) {
		matched++;
		buf_reset(&out);
		if (c->json) {
			buf_add(&out, rec.text, rec.len);
			buf_addc(&out, '\n');
		} else
			search_row(&out, &rec);
		fwrite(out.data, 1, out.len, stdout);
	}
	rc = input_status(r, true);
	buf_release(&out);
	logread_free(&r);
	if (fflush(stdout) != 0)
		return 2;
	return rc ? rc : matched ? 0 : 1;
}

static int
run_explain(struct logcmd *c)
{
	struct lr_filter byqid, bymsgid;
	struct logread *r;
	struct logrec rec;
	struct buf out = BUF_INIT, why = BUF_INIT;
	size_t matched = 0;
	const char *want;
	int rc;

	want = c->id;
	lr_filter_init(&byqid);
	lr_filter_init(&bymsgid);
	(void)lr_filter_add(&byqid, LR_F_QUEUE_ID, want, c->now, &why);
	(void)lr_filter_add(&bymsgid, LR_F_MESSAGE_ID, want, c->now, &why);
	c->idfilter = &bymsgid;
	r = open_logs(c, c->files, c->nfiles);
	while (next_record(c, r, &rec)) {
		if (!lr_filter_match(&byqid, &rec) &&
		    !lr_filter_match(&bymsgid, &rec))
			continue;
		buf_reset(&out);
		if (matched++)
			buf_adds(&out, "\n--------------------------------------"
			    "----------------------------------------\n\n");
		lr_explain(&rec, &out);
		fwrite(out.data, 1, out.len, stdout);
	}
	rc = input_status(r, true);
	if (matched == 0) {
		buf_reset(&out);
		lr_safes(&out, want, 200);
		fprintf(stderr, "mailwarden log explain: no record with queue "
		    "id or Message-ID '%s'\n", buf_cstr(&out));
	}
	lr_filter_release(&byqid);
	lr_filter_release(&bymsgid);
	buf_release(&out);
	buf_release(&why);
	logread_free(&r);
	return rc ? rc : matched ? 0 : 1;
}

/* write_report - the page to --html OUT, or to stdout; 0 or -1 */
static int
write_report(const struct logcmd *c, const struct buf *page)
{
	struct buf why = BUF_INIT;
	int rc = 0;

	if (c->html == NULL || strcmp(c->html, "-") == 0) {
		if (fwrite(page->data, 1, page->len, stdout) != page->len ||
		    fflush(stdout) != 0) {
			buf_printf(&why, "standard output: %s", strerror(errno));
			rc = -1;
		}
	} else
		rc = outfile_write(c->html, page->data, page->len, &c->ids,
		    LR_HTML_MARKER, &why);
	if (rc < 0)
		fprintf(stderr, "mailwarden log report: %s\n", buf_cstr(&why));
	buf_release(&why);
	return rc;
}

/*
 * check_output - before reading: stdout, or the report's file, is none
 * of the inputs, and an existing report file is an earlier report.
 */
static int
check_output(const struct logcmd *c, bool report)
{
	struct buf why = BUF_INIT;
	int rc;

	if (report && c->html && strcmp(c->html, "-") != 0)
		rc = outfile_check(c->html, &c->ids, LR_HTML_MARKER, &why);
	else
		rc = outfile_check_stdout(&c->ids, &why);
	if (rc < 0)
		fprintf(stderr, "mailwarden log %s: %s\n", c->name,
		    buf_cstr(&why));
	buf_release(&why);
	return rc < 0 ? 2 : 0;
}

static char *
inputs_line(const struct logcmd *c)
{
	struct buf b = BUF_INIT;
	int i;

	for (i = 0; i < c->nfiles && b.len < 400; i++) {
		if (i)
			buf_addc(&b, ' ');
		buf_adds(&b, strcmp(c->files[i], "-") == 0 ?
		    "standard input" : c->files[i]);
	}
	if (i < c->nfiles)
		buf_printf(&b, " and %d more", c->nfiles - i);
	return buf_steal(&b);
}

/*
 * compare_window - with --compare: the report's period is [since,
 * until) (until: --until or now; since: --since or until - AGE); the
 * filter is widened to the AGE before since, whose records go to the
 * comparison summary.  Returns since.
 */
static double
compare_window(struct logcmd *c)
{
	double until = c->filter.has_until ? c->filter.until : c->now;
	double since = c->filter.has_since ? c->filter.since :
	    until - c->compare;

	c->filter.has_until = true;
	c->filter.until = until;
	c->filter.has_since = true;
	c->filter.since = since - c->compare;
	return since;
}

/*
 * compare_logs - the --compare-log records into prev, with the filters
 * but not the time range (they cover another period); 2 if one of them
 * could not be read
 */
static int
compare_logs(struct logcmd *c, struct lr_summary *prev)
{
	struct lr_filter f = c->filter;	/* shallow: not released */
	struct logread *r = logread_open(c->cmp_files, c->ncmp, c->errors);
	const struct logline *l;
	struct logrec rec;
	int rc;

	f.has_since = f.has_until = false;
	while (logread_next(r, &l)) {
		logrec_from(&rec, l);
		if (lr_filter_match(&f, &rec))
			lr_summary_add(prev, &rec);
	}
	rc = input_status(r, true);
	logread_free(&r);
	return rc;
}

static int
run_report(struct logcmd *c)
{
	struct lr_html_opts ho;
	struct logread *r;
	struct lr_summary *s, *prev = NULL;
	struct logrec rec;
	struct buf out = BUF_INIT;
	double since = 0;
	char *inputs;
	int rc, crc = 0;

	if (c->compare > 0) {
		since = compare_window(c);
		prev = lr_summary_new(0);
	} else if (c->ncmp) {
		prev = lr_summary_new(0);
		crc = compare_logs(c, prev);
	}
	r = open_logs(c, c->files, c->nfiles);
	s = lr_summary_new(c->rejects ? c->rejects : 50);
	while (next_record(c, r, &rec))
		lr_summary_add(prev && rec.has_time && rec.time < since ? prev :
		    s, &rec);
	inputs = inputs_line(c);
	/*
	 * the searches under the lists cover the report's period: the
	 * range as resolved now (an age would move), ending at the time
	 * the report was made when it had no --until
	 */
	if (c->compare > 0 || c->filter.has_since)
		search_time(c, "--since", c->compare > 0 ? since :
		    c->filter.since);
	search_time(c, "--until", c->filter.has_until ? c->filter.until :
	    c->now);
	memset(&ho, 0, sizeof(ho));
	ho.title = c->title;
	ho.top = c->top ? c->top : 15;
	ho.generated = c->now;
	ho.left_out = left_out(c, r);
	ho.inputs = inputs;
	ho.own_domains = c->own;
	ho.nown = c->nown;
	ho.prev = prev;
	ho.compare_secs = c->compare;
	ho.search_args = c->sargs;
	ho.nsearch_args = c->nsargs;
	ho.actions = c->filter.actions;
	ho.files = c->files;
	ho.nfiles = (size_t)c->nfiles;
	lr_html_report(s, logread_stats(r), &ho, &out);
	rc = write_report(c, &out) < 0 ? 2 : input_status(r, false);
	if (logread_stats(r)->malformed)
		fprintf(stderr, "mailwarden log report: %llu malformed line(s), "
		    "listed in the report\n",
		    (unsigned long long)logread_stats(r)->malformed);
	free(inputs);
	buf_release(&out);
	lr_summary_free(&s);
	lr_summary_free(&prev);
	rc = rc ? rc : crc;
	logread_free(&r);
	return rc;
}

/*
 * run_whatif - every record re-decided under the configuration of -c
 * (whatif.h); the report on stdout, text or --json
 */
static int
run_whatif(struct logcmd *c)
{
	struct engine *e;
	struct logread *r;
	struct whatif *w;
	struct logrec rec;
	struct buf out = BUF_INIT;
	int rc;

	if ((e = cli_load_engine(c->conf)) == NULL)
		return 2;
	r = open_logs(c, c->files, c->nfiles);
	w = whatif_new(e, c->conf, c->limit);
	while (next_record(c, r, &rec))
		(void)whatif_add(w, &rec);
	if (c->json)
		whatif_json(w, logread_stats(r), left_out(c, r), c->top, &out);
	else
		whatif_text(w, logread_stats(r), left_out(c, r), c->top, &out);
	rc = fwrite(out.data, 1, out.len, stdout) != out.len ||
	    fflush(stdout) != 0 ? 2 : input_status(r, false);
	buf_release(&out);
	whatif_free(&w);
	logread_free(&r);
	engine_unref(e);
	return rc;
}

static const struct {
	const char *name;
	int (*run)(struct logcmd *);
	bool	 takes_id;		/* the first operand names a message */
	bool	 report;		/* --html names the output */
} commands[] = {
	{ "summary", run_summary, false, false },
	{ "search", run_search, false, false },
	{ "explain", run_explain, true, false },
	{ "report", run_report, false, true },
	{ "whatif", run_whatif, false, false },
};

/* run - resolve the inputs, check the output, run the subcommand */
static int
run(struct logcmd *c, size_t cmd, char **args, int nargs)
{
	if (commands[cmd].takes_id) {
		if (nargs < 1) {
			fprintf(stderr, "mailwarden log %s: which message? "
			    "Give a queue id or a Message-ID\n", c->name);
			return 2;
		}
		c->id = args[0];
		args++;
		nargs--;
	}
	if (commands[cmd].run == run_whatif && c->conf == NULL) {
		fprintf(stderr, "mailwarden log whatif: which configuration? "
		    "Give -c NEW.conf\n");
		return 2;
	}
	if (resolve_inputs(c, args, nargs) != 0 ||
	    check_output(c, commands[cmd].report) != 0)
		return 2;
	return commands[cmd].run(c);
}

int
cli_log(int argc, char **argv)
{
	struct logcmd c;
	size_t i;
	int rc, n;

	if (argc < 2 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (strcmp(argv[1], "label") == 0)	/* not a log review */
		return cli_log_label(argc - 1, argv + 1);
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			break;
	if (i == sizeof(commands) / sizeof(commands[0])) {
		fprintf(stderr, "mailwarden log: unknown command '%s' "
		    "(summary, search, explain, report, whatif)\n", argv[1]);
		return 2;
	}
	memset(&c, 0, sizeof(c));
	c.name = commands[i].name;
	c.errors = 10;
	c.now = (double)time(NULL);
	lr_filter_init(&c.filter);
	rc = parse_args(&c, argc - 1, argv + 1);
	if (rc == 0)
		rc = run(&c, i, argv + 1 + optind, argc - 1 - optind);
	lr_filter_release(&c.filter);
	for (n = 0; n < c.nfiles; n++)
		free(c.files[n]);
	free(c.files);
	outfile_ids_release(&c.ids);
	for (i = 0; i < c.nown; i++)
		free(c.own[i]);
	free(c.own);
	free(c.cmp_files);
	for (i = 0; i < c.nsargs; i++)
		free(c.sargs[i]);
	free(c.sargs);
	return rc < 0 ? 0 : rc;
}
