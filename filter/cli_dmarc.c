/*
 * cli_dmarc.c - `mailwarden dmarc`: aggregate reports, record checks
 *
 * DESCRIPTION
 *	mailwarden dmarc report [-c FILE] [--period DAY | --from T --to T]
 *	    [--out DIR] [--store DIR] [--domain D] [--no-gzip] [--all]
 *	    [--send]
 *	writes one RFC 9990 report per Policy Domain for the period
 *	(default: yesterday, UTC) and prints one line per file.  With
 *	--send each report is mailed through dmarc_report_sendmail to the
 *	record's mailto: rua addresses that pass the RFC 9990 section 3
 *	external destination check.
 *
 *	mailwarden dmarc record 'TXT VALUE' parses a record and prints what
 *	mailwarden reads from it.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "cli.h"
#include "conf.h"
#include "dmarc.h"
#include "dmarc_report.h"
#include "dmarc_failure.h"
#include "engine.h"
#include "files.h"
#include "smtpaddr.h"
#include "str.h"
#include "submit.h"

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: mailwarden dmarc report [-c FILE] [--period YYYY-MM-DD]\n"
	    "           [--from EPOCH --to EPOCH] [--out DIR] [--store DIR]\n"
	    "           [--domain D] [--no-gzip] [--all] [--send]\n"
	    "       mailwarden dmarc failures [-c FILE] [--store DIR] [--send]\n"
	    "       mailwarden dmarc record 'v=DMARC1; p=...'\n");
}

/* parse_day - "YYYY-MM-DD" as [midnight UTC, +1 day) */
static int
parse_day(const char *s, long long *begin)
{
	struct tm tm;
	char *end;

	memset(&tm, 0, sizeof(tm));
	end = strptime(s, "%Y-%m-%d", &tm);
	if (end == NULL || *end != '\0')
		return -1;
	*begin = (long long)timegm(&tm);
	return 0;
}

static void
base64(struct buf *out, const unsigned char *p, size_t n)
{
	static const char tab[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i, col = 0;

	for (i = 0; i < n; i += 3) {
		unsigned v = (unsigned)p[i] << 16;

		if (i + 1 < n)
			v |= (unsigned)p[i + 1] << 8;
		if (i + 2 < n)
			v |= p[i + 2];
		buf_addc(out, tab[(v >> 18) & 63]);
		buf_addc(out, tab[(v >> 12) & 63]);
		buf_addc(out, i + 1 < n ? tab[(v >> 6) & 63] : '=');
		buf_addc(out, i + 2 < n ? tab[v & 63] : '=');
		if ((col += 4) >= 76) {
			buf_adds(out, "\n");
			col = 0;
		}
	}
	if (col)
		buf_adds(out, "\n");
}

/*
 * send_one - mail one report file to one checked address.  Every header
 * field is built from checked values only: from (smtpaddr canonical),
 * to (dmarc_report_destination), the policy domain and the receiver
 * (host names in A-label form, checked by sender_ok()), the report id
 * and the file name made of them.
 */
static int
send_one(const struct conf *c, const char *from, const char *to,
    const char *receiver, const struct dmarc_report_file *f, bool gz)
{
	struct buf file = BUF_INIT, why = BUF_INIT, m = BUF_INIT;
	const char *name = strrchr(f->path, '/') ? strrchr(f->path, '/') + 1 :
	    f->path;
	int rc;

	if (files_read(f->path, 64 * 1024 * 1024, &file, &why) < 0) {
		fprintf(stderr, "mailwarden: %s\n", buf_cstr(&why));
		buf_release(&why);
		return -1;
	}
	buf_printf(&m, "From: %s\nTo: %s\nSubject: Report Domain: %s "
	    "Submitter: %s Report-ID: <%s>\nMessage-ID: <%s>\n"
	    "MIME-Version: 1.0\nContent-Type: multipart/mixed; "
	    "boundary=\"=-mailwarden-dmarc\"\n\n--=-mailwarden-dmarc\n"
	    "Content-Type: text/plain; charset=us-ascii\n\n"
	    "DMARC aggregate report for %s (RFC 9990).\n\n"
	    "--=-mailwarden-dmarc\nContent-Type: %s\n"
	    "Content-Transfer-Encoding: base64\n"
	    "Content-Disposition: attachment; filename=\"%s\"\n\n",
	    from, to, f->policy_domain, receiver, f->report_id, f->report_id,
	    f->policy_domain, gz ? "application/gzip" : "text/xml", name);
	base64(&m, (const unsigned char *)file.data, file.len);
	buf_adds(&m, "--=-mailwarden-dmarc--\n");
	rc = submit_mail(c->dmarc_report_sendmail, from, to, m.data, m.len,
	    &why);
	if (rc < 0)
		fprintf(stderr, "mailwarden: %s\n", buf_cstr(&why));
	buf_release(&file);
	buf_release(&why);
	buf_release(&m);
	return rc;
}

/* host_name_ok - s is a host name in the form domain_to_alabel() gives */
static bool
host_name_ok(const char *s)
{
	char d[DOMAIN_MAX + 1];

	return domain_to_alabel(s, strlen(s), d, sizeof(d)) == 0 &&
	    strcmp(d, s) == 0;
}

/*
 * sender_ok - the reporter's address (dmarc_report_email, or postmaster
 * at hostname) in canonical form into from, and hostname checked: both
 * go into the envelope and header fields of every report mail
 */
static bool
sender_ok(const struct conf *c, char *from, size_t fromsz)
{
	struct buf addr = BUF_INIT;
	bool ok;

	conf_dmarc_reporter(c, &addr);
	ok = smtpaddr_parse(addr.data, addr.len, 0, from, fromsz) == 0;
	if (!ok)
		fprintf(stderr, "mailwarden: dmarc_report_email: '%.300s' is "
		    "not a mailbox address that can be mailed from\n",
		    addr.data);
	else if (!(ok = host_name_ok(c->hostname)))
		fprintf(stderr, "mailwarden: hostname: '%.300s' is not a "
		    "lower-case host name; reports are not mailed\n",
		    c->hostname);
	buf_release(&addr);
	return ok;
}

/*
 * destination - the address of a report URI for policy_domain if RFC
 * 9990 section 3 lets us send there (dmarc_report_destination: inside
 * the domain, or the destination publishes the authorization); prints
 * why not otherwise
 */
static bool
destination(struct engine *e, const char *policy_domain, const char *uri,
    char *addr, size_t asz)
{
	const struct conf *c = e->conf;
	struct dmarc_opts o = { str_ieq(c->dmarc_org_domain, "psl") ?
	    DMARC_ORG_PSL : DMARC_ORG_TREEWALK, e->psl,
	    (unsigned)c->dmarc_max_queries };
	struct buf shown = BUF_INIT;
	enum dmarc_dest d;

	d = dmarc_report_destination(e->dns, NULL, &o, policy_domain, uri,
	    addr, asz);
	switch (d) {
	case DMARC_DEST_OK:
		return true;
	case DMARC_DEST_BAD:
		str_escape(&shown, uri, strlen(uri), 200);
		printf("skip %s for %s: not a mailto: address that can be "
		    "used\n", buf_cstr(&shown), policy_domain);
		buf_release(&shown);
		return false;
	default:
		printf("skip %s for %s: %s\n", addr, policy_domain,
		    d == DMARC_DEST_TEMP ? "external destination could not "
		    "be verified" : "external destination not authorized");
		return false;
	}
}

/* send_reports - every verified mailto: rua of every report */
static int
send_reports(struct engine *e, const struct dmarc_report_set *set,
    const char *receiver, bool gz)
{
	const struct conf *c = e->conf;
	char from[SMTPADDR_MAX + 1];
	size_t i, j;
	int rc = 0;

	if (!sender_ok(c, from, sizeof(from)))
		return 1;
	for (i = 0; i < set->n; i++) {
		const struct dmarc_report_file *f = &set->v[i];

		if (!host_name_ok(f->policy_domain))
			continue;	/* the store reader admits none */
		for (j = 0; j < f->nrua; j++) {
			char addr[SMTPADDR_MAX + 1];

			if (!destination(e, f->policy_domain, f->rua[j], addr,
			    sizeof(addr)))
				continue;
			if (send_one(c, from, addr, receiver, f, gz) < 0)
				rc = 1;
			else
				printf("sent %s to %s\n", f->report_id, addr);
		}
	}
	return rc;
}

/*
 * load_store - the engine of the configuration and the report store
 * (--store, else dmarc_report_dir); 0, or the exit status: 1 for a bad
 * configuration, 2 when there is no store
 */
static int
load_store(const char *path, const char **store, struct engine **ep)
{
	if ((*ep = cli_load_engine(path)) == NULL)
		return 1;
	if (*store == NULL)
		*store = (*ep)->conf->dmarc_report_dir;
	if (**store == '\0') {
		fprintf(stderr, "mailwarden: no store: set dmarc_report_dir "
		    "or give --store\n");
		engine_unref(*ep);
		return 2;
	}
	return 0;
}

static int
cmd_report(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "period", required_argument, NULL, 'p' },
		{ "from", required_argument, NULL, 'F' },
		{ "to", required_argument, NULL, 'T' },
		{ "out", required_argument, NULL, 'o' },
		{ "store", required_argument, NULL, 's' },
		{ "domain", required_argument, NULL, 'd' },
		{ "no-gzip", no_argument, NULL, 'z' },
		{ "all", no_argument, NULL, 'a' },
		{ "send", no_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *path = NULL, *store = NULL, *out = ".";
	struct dmarc_report_opts ro;
	struct dmarc_report_set set;
	struct buf why = BUF_INIT, org = BUF_INIT, email = BUF_INIT;
	struct engine *e;
	long long now = (long long)time(NULL), from = -1, to = -1;
	bool send = false;
	uint64_t u;
	size_t i;
	int ch, rc = 0;

	memset(&ro, 0, sizeof(ro));
	ro.gzip = true;
	ro.begin = now - now % 86400 - 86400;	/* yesterday, UTC */
	ro.end = ro.begin + 86400;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "c:o:h", opts, NULL)) != -1) {
		switch (ch) {
		case 'c': path = optarg; break;
		case 'p':
			if (parse_day(optarg, &ro.begin) < 0) {
				fprintf(stderr, "mailwarden: --period wants "
				    "YYYY-MM-DD\n");
				return 2;
			}
			ro.end = ro.begin + 86400;
			break;
		case 'F':
		case 'T':
			if (parse_uint(optarg, 0, 1ULL << 40, &u) < 0) {
				fprintf(stderr, "mailwarden: --from/--to want "
				    "seconds since the epoch\n");
				return 2;
			}
			*(ch == 'F' ? &from : &to) = (long long)u;
			break;
		case 'o': out = optarg; break;
		case 's': store = optarg; break;
		case 'd': ro.only_domain = optarg; break;
		case 'z': ro.gzip = false; break;
		case 'a': ro.all = true; break;
		case 'S': send = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc || (from < 0) != (to < 0)) {
		usage(stderr);
		return 2;
	}
	if (from >= 0) {
		ro.begin = from;
		ro.end = to;
	}
	if ((rc = load_store(path, &store, &e)) != 0)
		return rc;
	ro.store_dir = store;
	ro.out_dir = out;
	ro.receiver = e->conf->hostname;
	buf_adds(&org, e->conf->dmarc_report_org[0] ?
	    e->conf->dmarc_report_org : e->conf->hostname);
	conf_dmarc_reporter(e->conf, &email);
	ro.org_name = org.data;
	ro.email = email.data;
	if (dmarc_report_run(&ro, &set, &why) < 0) {
		fprintf(stderr, "mailwarden: %s\n", buf_cstr(&why));
		rc = 1;
	}
	for (i = 0; i < set.n; i++)
		printf("%s %zu records, %zu messages\n", set.v[i].path,
		    set.v[i].records, set.v[i].messages);
	if (set.lines_bad)
		fprintf(stderr, "mailwarden: %zu of %zu store lines skipped "
		    "(cut short or malformed)\n", set.lines_bad,
		    set.lines_read);
	if (rc == 0 && send)
		rc = send_reports(e, &set, ro.receiver, ro.gzip);
	dmarc_report_set_release(&set);
	buf_release(&why);
	buf_release(&org);
	buf_release(&email);
	engine_unref(e);
	return rc;
}

/*
 * send_failure - mail one spooled failure report (text, without To) to
 * each of its ruf= URIs that passes the destination check, with a To
 * field of the checked address; 0, or -1 if a submission failed
 */
static int
send_failure(struct engine *e, const char *from, const char *name,
    const char *domain, const struct buf *rufs, const struct buf *text)
{
	struct buf m = BUF_INIT, why = BUF_INIT;
	char addr[SMTPADDR_MAX + 1], uri[1024];
	const char *p;
	int k, rc = 0;

	for (p = buf_cstr(rufs); sscanf(p, " %1023s%n", uri, &k) == 1;
	    p += k) {
		if (!destination(e, domain, uri, addr, sizeof(addr)))
			continue;
		buf_reset(&m);
		buf_printf(&m, "To: %s\n", addr);
		buf_add(&m, text->data, text->len);
		if (submit_mail(e->conf->dmarc_report_sendmail, from, addr,
		    m.data, m.len, &why) < 0) {
			fprintf(stderr, "mailwarden: %s\n", buf_cstr(&why));
			buf_reset(&why);
			rc = -1;
		} else {
			printf("sent %s to %s\n", name, addr);
		}
	}
	buf_release(&m);
	buf_release(&why);
	return rc;
}

/*
 * cmd_failures - list the spooled failure reports; with --send mail each
 * to its verified ruf= addresses and remove it (also when none of its
 * addresses may be used: it could never be sent)
 */
static int
cmd_failures(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "store", required_argument, NULL, 's' },
		{ "send", no_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *path = NULL, *store = NULL;
	struct buf dir = BUF_INIT;
	struct engine *e;
	char from[SMTPADDR_MAX + 1], **names = NULL;
	size_t n = 0, i;
	bool send = false;
	int ch, rc = 0;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (ch) {
		case 'c': path = optarg; break;
		case 's': store = optarg; break;
		case 'S': send = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	if ((rc = load_store(path, &store, &e)) != 0)
		return rc;
	if (send && !sender_ok(e->conf, from, sizeof(from))) {
		engine_unref(e);
		return 1;
	}
	buf_printf(&dir, "%s/failures", store);
	(void)files_list(dir.data, ".eml", &names, &n);	/* none yet: empty */
	for (i = 0; i < n; i++) {
		struct buf file = BUF_INIT, rufs = BUF_INIT, text = BUF_INIT,
		    why = BUF_INIT;
		char domain[DOMAIN_MAX + 1];

		buf_printf(&file, "%s/%s", dir.data, names[i]);
		if (dmarc_failure_read(file.data, domain, sizeof(domain), &rufs,
		    &text, &why) < 0) {
			fprintf(stderr, "mailwarden: %s\n", buf_cstr(&why));
			rc = 1;
			goto next;
		}
		printf("%s %s\n", file.data, domain);
		if (!send)
			goto next;
		if (send_failure(e, from, names[i], domain, &rufs, &text) < 0)
			rc = 1;		/* kept for the next run */
		else if (unlink(file.data) < 0)
			fprintf(stderr, "mailwarden: %s: %s\n", file.data,
			    strerror(errno));
next:
		buf_release(&file);
		buf_release(&rufs);
		buf_release(&text);
		buf_release(&why);
		free(names[i]);
	}
	free(names);
	buf_release(&dir);
	engine_unref(e);
	return rc;
}

static int
cmd_record(int argc, char **argv)
{
	struct dmarc_record r;
	enum dmarc_parse st;
	size_t i;

	if (argc != 2) {
		usage(stderr);
		return 2;
	}
	st = dmarc_record_parse(argv[1], strlen(argv[1]), &r);
	if (st != DMARC_REC_OK) {
		printf("not a DMARC record (%s)\n", st == DMARC_REC_EMPTY ?
		    "empty" : "v=DMARC1 must come first");
		return 1;
	}
	printf("p=%s%s\nsp=%s\nnp=%s\nadkim=%s aspf=%s t=%s psd=%c fo=%s\n",
	    r.p_set ? dmarc_policy_name(r.p) : "(missing)",
	    r.p_bad ? " (bad value)" : "",
	    r.sp_set ? dmarc_policy_name(r.sp) : r.sp_bad ? "(bad value)" :
	    "(as p)", r.np_set ? dmarc_policy_name(r.np) : r.np_bad ?
	    "(bad value)" : "(as sp)", r.adkim == DMARC_STRICT ? "s" : "r",
	    r.aspf == DMARC_STRICT ? "s" : "r", r.testing ? "y" : "n", r.psd,
	    r.fo);
	for (i = 0; i < r.nrua; i++)
		printf("rua=%s\n", r.rua[i]);
	for (i = 0; i < r.nruf; i++)
		printf("ruf=%s\n", r.ruf[i]);
	if (r.removed)
		printf("ignored (removed by RFC 9989):%s%s%s\n",
		    r.removed & DMARC_RM_PCT ? " pct" : "",
		    r.removed & DMARC_RM_RF ? " rf" : "",
		    r.removed & DMARC_RM_RI ? " ri" : "");
	if (r.unknown)
		printf("ignored: %u unknown tag(s)\n", r.unknown);
	if (r.bad)
		printf("ignored: %u tag(s) with bad syntax or values\n", r.bad);
	dmarc_record_release(&r);
	return 0;
}

int
cli_dmarc(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (strcmp(argv[1], "report") == 0)
		return cmd_report(argc - 1, argv + 1);
	if (strcmp(argv[1], "record") == 0)
		return cmd_record(argc - 1, argv + 1);
	if (strcmp(argv[1], "failures") == 0)
		return cmd_failures(argc - 1, argv + 1);
	fprintf(stderr, "mailwarden: unknown dmarc command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
