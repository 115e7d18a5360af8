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
 *	mailwarden dmarc record [-c FILE] DOMAIN looks DOMAIN's policy up
 *	exactly as the milter does (dmarc_evaluate() over the configured
 *	resolver: RFC 9989 tree walk, or the PSL with dmarc_org_domain =
 *	psl), then its organizational domain, printing every query and its
 *	answer, the record, where it was found, each tag's effective value,
 *	the problems found in it and the policy that applies.  With
 *	--text 'v=DMARC1; ...' it reads that record text instead.  Exit
 *	status: 0 when a policy applies (a valid record was found), 1 when
 *	none does, DNS failed or the text is not a record, 2 on usage
 *	errors.
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
#include "dns.h"
#include "engine.h"
#include "files.h"
#include "psl.h"
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
	    "       mailwarden dmarc record [-c FILE] DOMAIN\n"
	    "       mailwarden dmarc record --text 'v=DMARC1; p=...'\n");
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
	struct dmarc_opts o;
	struct buf shown = BUF_INIT;
	enum dmarc_dest d;

	engine_dmarc_opts(e, &o);
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

/* print_tags - every tag of a record with the value mailwarden uses */
static void
print_tags(const struct dmarc_record *r)
{
	static const char *const psd[] = { "y", "n", "u" };
	size_t i;

	printf("tags:\n  v=DMARC1\n");
	if (r->p_set)
		printf("  p=%s\n", dmarc_policy_name(r->p));
	else
		printf("  p=(%s: p=none if rua is given, else no policy "
		    "applies)\n", r->p_bad ? "bad value" : "missing");
	if (r->sp_set)
		printf("  sp=%s\n", dmarc_policy_name(r->sp));
	else
		printf("  sp=(%s)\n", r->sp_bad ? "bad value: p=none if rua "
		    "is given, else no policy applies" : "not given: as p");
	if (r->np_set)
		printf("  np=%s\n", dmarc_policy_name(r->np));
	else
		printf("  np=(%s)\n", r->np_bad ? "bad value: p=none if rua "
		    "is given, else no policy applies" : "not given: as sp");
	printf("  adkim=%s\n  aspf=%s\n  t=%s\n  psd=%s\n  fo=%s\n",
	    r->adkim == DMARC_STRICT ? "s" : "r",
	    r->aspf == DMARC_STRICT ? "s" : "r", r->testing ? "y" : "n",
	    psd[r->psd == 'y' ? 0 : r->psd == 'n' ? 1 : 2], r->fo);
	printf("  rua=%s", r->nrua ? "" : "(none)");
	for (i = 0; i < r->nrua; i++)
		printf("%s%s", i ? "," : "", r->rua[i]);
	printf("\n  ruf=%s", r->nruf ? "" : "(none)");
	for (i = 0; i < r->nruf; i++)
		printf("%s%s", i ? "," : "", r->ruf[i]);
	printf("\n");
}

/*
 * print_text - parse one record text and print its tags and every
 * finding; 0 when it is a DMARC record, 1 when not
 */
static int
print_text(const char *txt, size_t len)
{
	struct dmarc_record r;
	struct buf notes = BUF_INIT, esc = BUF_INIT;
	enum dmarc_parse st;
	const char *p;

	st = dmarc_record_parse_notes(txt, len, &r, &notes);
	str_escape(&esc, txt, len, 4096);
	printf("record: %s\n", buf_cstr(&esc));
	buf_release(&esc);
	if (st != DMARC_REC_OK) {
		printf("error: not a DMARC record (%s)\n", st ==
		    DMARC_REC_EMPTY ? "empty" : "v=DMARC1 must come first");
		dmarc_record_release(&r);
		buf_release(&notes);
		return 1;
	}
	print_tags(&r);
	for (p = buf_cstr(&notes); *p; p += strcspn(p, "\n") + 1)
		printf("%s  %.*s\n", p == notes.data ? "problems:\n" : "",
		    (int)strcspn(p, "\n"), p);
	dmarc_record_release(&r);
	buf_release(&notes);
	return 0;
}

/* print_found - the record at _dmarc.<policy domain> (a cached answer) */
static int
print_found(struct dns_resolver *dns, const struct dmarc_outcome *o)
{
	struct dns_answer *a;
	char qname[DOMAIN_MAX + 8];
	struct dmarc_record r;
	size_t i;
	int rc = 1;

	snprintf(qname, sizeof(qname), "_dmarc.%s", o->policy_domain);
	dns_lookup(dns, qname, DNS_T_TXT, NULL, &a);
	for (i = 0; i < a->n && rc != 0; i++) {
		enum dmarc_parse st = dmarc_record_parse(a->rrs[i].txt,
		    a->rrs[i].txt_len, &r);

		dmarc_record_release(&r);
		if (st == DMARC_REC_OK)
			rc = print_text(a->rrs[i].txt, a->rrs[i].txt_len);
	}
	dns_answer_free(a);
	return rc;
}

/* where - how the policy domain relates to the domain looked up */
static const char *
where(const struct dmarc_outcome *o, const char *domain, const char *org)
{
	if (strcmp(o->policy_domain, domain) == 0)
		return "the domain's own record";
	if (strcmp(o->policy_domain, org) == 0)
		return "the record of its organizational domain";
	return "the record of a public suffix domain above it";
}

/*
 * lookup - the milter's discovery for domain through the configured
 * resolver, every query printed; 0 when a policy applies
 */
static int
lookup(struct engine *e, const char *domain)
{
	struct dmarc_opts opts;
	struct dmarc_input in;
	struct dmarc_outcome o;
	struct psl *own = NULL;
	struct buf why = BUF_INIT;
	char org[DOMAIN_MAX + 1];
	int rc = 1;

	engine_dmarc_opts(e, &opts);
	/* with dmarc = no the engine has not loaded the list */
	if (opts.mode == DMARC_ORG_PSL && opts.psl == NULL) {
		if (psl_load(e->conf->dmarc_psl_file, &own, &why) < 0) {
			fprintf(stderr, "mailwarden: %s\n", buf_cstr(&why));
			buf_release(&why);
			return 1;
		}
		opts.psl = own;
	}
	printf("domain: %s\nmethod: %s\n", domain, opts.mode ==
	    DMARC_ORG_PSL ? "Public Suffix List (dmarc_org_domain = psl, "
	    "RFC 7489)" : "DNS tree walk (RFC 9989 section 4.10)");
	memset(&in, 0, sizeof(in));
	in.author = domain;
	in.spf = AUTH_NONE;
	printf("policy discovery:\n");
	dns_resolver_trace(e->dns, cli_dns_trace, NULL);
	dmarc_evaluate(e->dns, NULL, &opts, &in, &o);
	printf("organizational domain (for relaxed alignment):\n");
	if (dmarc_org_domain(e->dns, NULL, &opts, domain, org, NULL) < 0)
		snprintf(org, sizeof(org), "(not found: DNS failure)");
	dns_resolver_trace(e->dns, NULL, NULL);
	printf("organizational domain: %s\n", org);
	if (!o.have_record) {
		printf("result: %s: %s\n", dmarc_result_name(o.result),
		    o.detail);
		goto out;
	}
	printf("found at: _dmarc.%s (%s)\n", o.policy_domain,
	    where(&o, domain, org));
	(void)print_found(e->dns, &o);
	if (o.result == DMARC_RES_FAIL) {
		printf("policy for mail from %s that fails DMARC: %s=%s",
		    domain, o.policy_tag, dmarc_policy_name(o.policy));
		if (o.nonexistent)
			printf(" (the domain does not exist)");
		if (o.fallback_none)
			printf(" (a bad or missing p, sp or np with a valid "
			    "rua counts as p=none)");
		if (o.rec.testing)
			printf(" (t=y: %s applied)", dmarc_policy_name(
			    o.applied));
		printf("\n");
		rc = 0;
	} else {
		printf("result: %s: %s\n", dmarc_result_name(o.result),
		    o.detail);
	}
out:
	dmarc_outcome_release(&o);
	psl_free(own);
	return rc;
}

/*
 * cmd_record - look a domain's record up as the milter does, or (--text)
 * read one record text; 0 when a policy applies, 1 when none does or DNS
 * failed, 2 on usage errors
 */
static int
cmd_record(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "text", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *path = NULL, *text = NULL;
	char domain[DOMAIN_MAX + 1];
	struct engine *e;
	int ch, rc;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (ch) {
		case 'c': path = optarg; break;
		case 't': text = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (text != NULL && optind == argc)
		return print_text(text, strlen(text));
	if (text != NULL || optind != argc - 1) {
		usage(stderr);
		return 2;
	}
	if (domain_to_alabel(argv[optind], strlen(argv[optind]), domain,
	    sizeof(domain)) < 0) {
		fprintf(stderr, "mailwarden: %s: not a domain name\n",
		    argv[optind]);
		return 2;
	}
	if ((e = cli_load_engine(path)) == NULL)
		return 1;
	if (e->dns == NULL) {
		fprintf(stderr, "mailwarden: no DNS resolver configured\n");
		rc = 1;
	} else {
		rc = lookup(e, domain);
	}
	engine_unref(e);
	return rc;
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
