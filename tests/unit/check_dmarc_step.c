/*
 * check_dmarc_step.c - DMARC through the scan pipeline, store, reports
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "buf.h"
#include "dmarc_failure.h"
#include "dmarc_report.h"
#include "fakedns.h"
#include "msg.h"
#include "files.h"
#include "helpers.h"
#include "scan.h"
#include "str.h"
#include "submit.h"

static struct fakedns *
zone(void)
{
	struct fakedns *f = fakedns_new();

	fakedns_txt(f, "_dmarc.reject.example", "v=DMARC1; p=reject; "
	    "rua=mailto:agg@reject.example");
	fakedns_txt(f, "_dmarc.quar.example", "v=DMARC1; p=quarantine");
	fakedns_txt(f, "_dmarc.ruf.example", "v=DMARC1; p=reject; "
	    "ruf=mailto:fail@ruf.example,mailto:x@elsewhere.example");

	fakedns_txt(f, "_dmarc.none.example", "v=DMARC1; p=none");
	fakedns_txt(f, "_dmarc.test.example", "v=DMARC1; p=reject; t=y");
	fakedns_status(f, "_dmarc.slow.example", DNS_T_TXT, DNS_TIMEOUT);
	return f;
}

static struct engine *
dmarc_engine(const char *extra, struct fakedns **fp)
{
	struct engine *e = test_engine(extra);

	*fp = zone();
	dns_resolver_free(e->dns);	/* the engine's own (an empty zone) */
	e->dns = fakedns_resolver(*fp);
	return e;
}

static const struct {
	const char *name, *conf, *headers;
	enum action want;
	const char *symbol, *authres, *reply;
	bool quarantine;
} cases[] = {
	{ "p=reject spoof is refused naming DMARC and the domain", "",
	  "From: Boss <boss@reject.example>\r\n", ACTION_REJECT, "DMARC_REJECT",
	  "dmarc=fail (p=reject dis=reject) header.from=reject.example "
	  "policy.dmarc=reject", "DMARC policy of reject.example", false },
	{ "p=quarantine tags", "", "From: a@quar.example\r\n", ACTION_TAG,
	  "DMARC_QUARANTINE", "dmarc=fail (p=quarantine dis=quarantine) "
	  "header.from=quar.example policy.dmarc=quarantine", NULL, false },
	{ "p=quarantine can ask the MTA to quarantine",
	  "dmarc_quarantine_milter = yes\n", "From: a@quar.example\r\n",
	  ACTION_TAG, "DMARC_QUARANTINE", NULL, NULL, true },
	{ "p=none only adds symbols", "", "From: a@none.example\r\n",
	  ACTION_ACCEPT, "DMARC_FAIL", "dmarc=fail (p=none dis=none) "
	  "header.from=none.example policy.dmarc=none", NULL, false },
	{ "no record", "", "From: a@other.example\r\n", ACTION_ACCEPT,
	  "DMARC_NONE", "dmarc=none header.from=other.example", NULL, false },
	{ "never reject: tag instead", "dmarc_never_reject = yes\n",
	  "From: a@reject.example\r\n", ACTION_TAG, "DMARC_QUARANTINE",
	  "dis=quarantine", NULL, false },
	{ "allowlisted parent domain", "dmarc_allow_domains = example\n",
	  "From: a@reject.example\r\n", ACTION_ACCEPT, "DMARC_ALLOWLISTED",
	  "dmarc=fail (p=reject dis=none)", NULL, false },
	{ "t=y lowers reject to quarantine", "", "From: a@test.example\r\n",
	  ACTION_TAG, "DMARC_QUARANTINE", "policy.dmarc=quarantine", NULL,
	  false },
	{ "temperror accepted by default", "", "From: a@slow.example\r\n",
	  ACTION_ACCEPT, "DMARC_TEMPERROR", "dmarc=temperror "
	  "header.from=slow.example", NULL, false },
	{ "temperror can tempfail", "dmarc_temperror_action = tempfail\n",
	  "From: a@slow.example\r\n", ACTION_TEMPFAIL, "DMARC_TEMPERROR", NULL,
	  "could not be checked", false },
	{ "missing From is refused", "", "", ACTION_REJECT,
	  "DMARC_FROM_MISSING", NULL, "no From header field", false },
	{ "empty group From is refused", "",
	  "From: undisclosed-recipients:;\r\n", ACTION_REJECT,
	  "DMARC_FROM_MISSING", NULL, "no address in From", false },
	{ "two From fields are refused", "",
	  "From: a@none.example\r\nFrom: b@reject.example\r\n", ACTION_REJECT,
	  "DMARC_FROM_MULTIPLE", "dmarc=permerror", "several From", false },
	{ "two author domains are refused (CVE-2019-16378)", "",
	  "From: a@none.example, b@reject.example\r\n", ACTION_REJECT,
	  "DMARC_FROM_MULTI_AUTHOR", NULL, "several domains", false },
	{ "two authors in one domain are one Author Domain", "",
	  "From: a@reject.example, b@REJECT.example\r\n", ACTION_REJECT,
	  "DMARC_REJECT", NULL, "reject.example", false },
	{ "multiple From allowed by configuration",
	  "dmarc_from_multiple_action = none\n",
	  "From: a@none.example\r\nFrom: b@reject.example\r\n", ACTION_ACCEPT,
	  "DMARC_FROM_MULTIPLE", NULL, NULL, false },
	{ "unparseable From tags by default", "",
	  "From: <<<><joe@reject.example>>>\r\n", ACTION_TAG,
	  "DMARC_FROM_INVALID", "dmarc=permerror (unparseable From", NULL,
	  false },
	{ "comment in domain is not a domain (CVE-2020-12272)",
	  "dmarc_from_invalid_action = reject\n",
	  "From: a@reject.example(.none.example\r\n", ACTION_REJECT,
	  "DMARC_FROM_INVALID", NULL, "unparseable From", false },
	{ "tolerated deviation is flagged and evaluated", "",
	  "From: boss@reject.example <boss@reject.example>\r\n", ACTION_REJECT,
	  "DMARC_FROM_NONSTANDARD", NULL, NULL, false },
};

START_TEST(test_dmarc_step_outcomes)
{
	struct fakedns *f;
	struct engine *e = dmarc_engine(cases[_i].conf, &f);
	struct buf text = BUF_INIT, ar = BUF_INIT;
	struct msg *m;
	struct scan *s;

	buf_printf(&text, "%sTo: b@example.net\r\nSubject: hi\r\n\r\nhello\r\n",
	    cases[_i].headers);
	s = test_scan_text(e, "192.0.2.10", "mx.sender.example",
	    "bounce@sender.example", "b@example.net", text.data, text.len, &m);
	ck_assert_msg(s->verdict.action == cases[_i].want, "%s: got %s",
	    cases[_i].name, action_name(s->verdict.action));
	ck_assert_msg(verdict_symbol(&s->verdict, cases[_i].symbol) != NULL,
	    "%s: no %s", cases[_i].name, cases[_i].symbol);
	verdict_authres_value(&s->verdict, "mx.test", &ar);
	if (cases[_i].authres)
		ck_assert_msg(strstr(ar.data, cases[_i].authres) != NULL,
		    "%s: A-R is %s", cases[_i].name, ar.data);
	if (cases[_i].reply) {
		ck_assert_ptr_nonnull(s->verdict.reply_text);
		ck_assert_msg(strstr(s->verdict.reply_text, cases[_i].reply),
		    "%s: reply %s", cases[_i].name, s->verdict.reply_text);
	}
	if (cases[_i].want == ACTION_REJECT)
		ck_assert_str_eq(s->verdict.smtp_xcode, "5.7.1");
	ck_assert_int_eq(s->verdict.quarantine, cases[_i].quarantine);
	scan_free(&s);
	msg_free(&m);
	buf_release(&text);
	buf_release(&ar);
	engine_unref(e);
	fakedns_free(f);
}
END_TEST

START_TEST(test_dmarc_step_log_object)
{
	struct fakedns *f;
	struct engine *e = dmarc_engine("dmarc_never_reject = yes\n", &f);
	static const char text[] = "From: a@reject.example\r\n\r\nx\r\n";
	struct msg *m;
	struct scan *s = test_scan_text(e, "192.0.2.10", "h", "b@s.example",
	    "r@example.net", text, sizeof(text) - 1, &m);
	const char *j = buf_cstr(verdict_output(&s->verdict, "dmarc"));

	ck_assert_ptr_nonnull(strstr(j, "\"result\":\"fail\""));
	ck_assert_ptr_nonnull(strstr(j, "\"policy\":\"reject\""));
	ck_assert_ptr_nonnull(strstr(j, "\"disposition\":\"quarantine\""));
	ck_assert_ptr_nonnull(strstr(j, "\"override\":\"local_policy\""));
	ck_assert_ptr_nonnull(strstr(j, "\"discovery\":\"treewalk\""));
	ck_assert_ptr_nonnull(strstr(j, "\"policy_domain\":\"reject.example\""));
	ck_assert_ptr_nonnull(strstr(j, "\"dkim\":{\"mode\":\"r\",\"aligned\""
	    ":false"));
	scan_free(&s);
	msg_free(&m);
	engine_unref(e);
	fakedns_free(f);
}
END_TEST

START_TEST(test_dmarc_step_disabled)
{
	struct engine *e = test_engine("dmarc = no\n");
	static const char text[] = "Subject: no from\r\n\r\nx\r\n";
	struct msg *m;
	struct scan *s = test_scan_text(e, "192.0.2.10", "h", "b@s.example",
	    "r@example.net", text, sizeof(text) - 1, &m);

	ck_assert_int_eq(s->verdict.action, ACTION_ACCEPT);
	ck_assert_ptr_null(verdict_symbol(&s->verdict, "DMARC_FROM_MISSING"));
	scan_free(&s);
	msg_free(&m);
	engine_unref(e);
}
END_TEST

/* ------------------------------------------------------------------ */
/* store and reports                                                   */
/* ------------------------------------------------------------------ */

static char *
make_tmpdir(void)
{
	char tmpl[] = "/tmp/mw-dmarc-XXXXXX";
	char *d = mkdtemp(tmpl);

	ck_assert_ptr_nonnull(d);
	return xstrdup(d);
}

static void
scan_one(struct engine *e, const char *ip, const char *from)
{
	struct buf text = BUF_INIT;
	struct msg *m;
	struct scan *s;

	buf_printf(&text, "From: %s\r\nSubject: x\r\n\r\nbody\r\n", from);
	s = test_scan_text(e, ip, "h.example", "bounce@sender.example",
	    "user@rcpt.example", text.data, text.len, &m);
	scan_free(&s);
	msg_free(&m);
	buf_release(&text);
}

/* failure_files - the spooled failure reports of dir, texts joined */
static size_t
failure_files(const char *dir, struct buf *all)
{
	char cmd[1024], line[1024];
	struct buf why = BUF_INIT;
	size_t n = 0;
	FILE *fp;

	snprintf(cmd, sizeof(cmd), "ls %s/failures/*.eml 2>/dev/null", dir);
	fp = popen(cmd, "r");
	while (fgets(line, sizeof(line), fp)) {
		line[strcspn(line, "\n")] = '\0';
		ck_assert(files_read(line, 1 << 20, all, &why) == 0);
		n++;
	}
	pclose(fp);
	buf_release(&why);
	return n;
}

static bool
have_xmllint(void)
{
	return access("/usr/bin/xmllint", X_OK) == 0;
}

static void
rm_rf(const char *dir)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	(void)system(cmd);
}

/*
 * RFC 9991 failure reports: spooled only when asked for (the switch, a
 * ruf=, fo= met), as an ARF auth-failure report with the header fields
 */
START_TEST(test_dmarc_failure_reports_spooled)
{
	char *dir = make_tmpdir();
	struct buf conf = BUF_INIT, all = BUF_INIT, text = BUF_INIT,
	    rufs = BUF_INIT, why = BUF_INIT;
	struct fakedns *f;
	struct engine *e;
	char domain[256], cmd[1024];
	FILE *fp;

	/* off by default: nothing spooled */
	buf_printf(&conf, "dmarc_report_dir = %s\n", dir);
	e = dmarc_engine(conf.data, &f);
	scan_one(e, "192.0.2.10", "a@ruf.example");
	ck_assert_uint_eq(failure_files(dir, &all), 0);
	engine_unref(e);
	fakedns_free(f);

	buf_printf(&conf, "dmarc_failure_reports = yes\n"
	    "dmarc_report_email = dmarc@receiver.example\n");
	e = dmarc_engine(conf.data, &f);
	scan_one(e, "192.0.2.10", "a@ruf.example");	/* fo=0, fails */
	scan_one(e, "192.0.2.10", "a@reject.example");	/* no ruf= */
	scan_one(e, "192.0.2.10", "a@none.example");	/* no ruf= */
	ck_assert_uint_eq(failure_files(dir, &all), 1);
	ck_assert_ptr_nonnull(strstr(all.data, "X-Mailwarden-Policy-Domain: "
	    "ruf.example\nX-Mailwarden-Ruf: mailto:fail@ruf.example "
	    "mailto:x@elsewhere.example\n"));
	ck_assert_ptr_nonnull(strstr(all.data, "From: dmarc@receiver.example\n"));
	ck_assert_ptr_nonnull(strstr(all.data, "report-type=feedback-report"));
	ck_assert_ptr_nonnull(strstr(all.data, "Feedback-Type: auth-failure\n"));
	ck_assert_ptr_nonnull(strstr(all.data, "Auth-Failure: dmarc\n"));
	ck_assert_ptr_nonnull(strstr(all.data, "Reported-Domain: ruf.example\n"));
	ck_assert_ptr_nonnull(strstr(all.data, "Source-IP: 192.0.2.10\n"));
	ck_assert_ptr_nonnull(strstr(all.data,
	    "Original-Mail-From: <bounce@sender.example>\n"));
	ck_assert_ptr_nonnull(strstr(all.data, "Delivery-Result: reject\n"));
	ck_assert_ptr_nonnull(strstr(all.data, "dmarc=fail (p=reject"));
	ck_assert_ptr_nonnull(strstr(all.data, "Content-Type: text/rfc822-headers"
	    "\n\nFrom: a@ruf.example\nSubject: x\n"));
	ck_assert_ptr_null(strstr(all.data, "body"));
	ck_assert_ptr_null(strstr(all.data, "\r"));
	/* the spool file reads back: the sender's view */
	snprintf(cmd, sizeof(cmd), "ls %s/failures/*.eml", dir);
	fp = popen(cmd, "r");
	ck_assert(fgets(cmd, sizeof(cmd), fp) != NULL);
	pclose(fp);
	cmd[strcspn(cmd, "\n")] = '\0';
	ck_assert_int_eq(dmarc_failure_read(cmd, domain, sizeof(domain), &rufs,
	    &text, &why), 0);
	ck_assert_str_eq(domain, "ruf.example");
	ck_assert_str_eq(rufs.data, " mailto:fail@ruf.example "
	    "mailto:x@elsewhere.example");
	ck_assert(strncmp(text.data, "From: ", 6) == 0);
	unlink(cmd);
	/* the spool is the service user's: a policy domain that is not a
	   host name is refused (issue 14, item 11) */
	fp = fopen(cmd, "w");
	fputs("X-Mailwarden-Policy-Domain: all-staff(@evil.example\n"
	    "X-Mailwarden-Ruf: mailto:x@evil.example\nFrom: a@b.example\n",
	    fp);
	fclose(fp);
	buf_reset(&why);
	ck_assert_int_eq(dmarc_failure_read(cmd, domain, sizeof(domain), &rufs,
	    &text, &why), -1);
	ck_assert_ptr_nonnull(strstr(buf_cstr(&why), "not a host name"));
	unlink(cmd);

	engine_unref(e);
	fakedns_free(f);

	/* at most dmarc_failure_reports_max an hour */
	buf_printf(&conf, "dmarc_failure_reports_max = 0\n");
	e = dmarc_engine(conf.data, &f);
	scan_one(e, "192.0.2.10", "b@ruf.example");
	ck_assert_uint_eq(failure_files(dir, &all), 0);
	engine_unref(e);
	fakedns_free(f);
	rm_rf(dir);
	free(dir);
	buf_release(&conf);
	buf_release(&all);
	buf_release(&text);
	buf_release(&rufs);
	buf_release(&why);
}
END_TEST

/*
 * A header field from the network cannot end the headers part, start a
 * MIME boundary or add a field of its own to the report
 */
START_TEST(test_dmarc_failure_report_contains_hostile_fields)
{
	struct msg_limits lim = { 1 << 20, 1 << 20, 1000, 100 };
	static const char evil[] = " a\r\n--=-mailwarden-afrf-0-0--\r\n"
	    "\r\nInjected: yes\nX:\0z\n\n";
	struct msg *m = msg_new(&lim);
	struct dmarc_outcome o;
	struct dmarc_failure f;
	struct buf b = BUF_INIT;
	const char *p, *hdrs;
	size_t boundaries = 0;

	msg_set_client(m, "192.0.2.1", NULL);
	msg_set_sender(m, "x@y.example>\r\nBcc: victim@example.net");
	msg_add_header(m, "Subject", 7, evil, sizeof(evil) - 1);
	msg_add_header(m, "From", 4, " a@ruf.example", 14);
	memset(&o, 0, sizeof(o));
	o.have_record = true;
	o.result = DMARC_RES_FAIL;
	snprintf(o.policy_domain, sizeof(o.policy_domain), "ruf.example");
	memset(&f, 0, sizeof(f));
	f.when = 0;
	f.msg = m;
	f.author = "ruf.example";
	f.o = &o;
	f.authres = "mx; dmarc=fail\r\nInjected: yes";
	f.reporter = "dmarc@r.example";
	f.hostname = "r.example";
	dmarc_failure_format(&f, &b);
	ck_assert_ptr_null(memchr(b.data, '\0', b.len));
	ck_assert_ptr_null(strchr(b.data, '\r'));
	for (p = b.data; (p = strstr(p, "\n--=-mailwarden-afrf")) != NULL;
	    p++)
		boundaries++;
	ck_assert_uint_eq(boundaries, 4);	/* three parts and the end */
	ck_assert_ptr_null(strstr(b.data, "\nInjected:"));
	ck_assert_ptr_null(strstr(b.data, "\nBcc:"));
	hdrs = strstr(b.data, "text/rfc822-headers\n\n");
	ck_assert_ptr_nonnull(hdrs);
	hdrs += strlen("text/rfc822-headers\n\n");
	/* the part's only empty line is the one before its end boundary */
	ck_assert_ptr_eq(strstr(hdrs, "\n\n"), strstr(hdrs, "\n\n--=-"));
	ck_assert_ptr_nonnull(strstr(hdrs, "From: a@ruf.example\n"));
	buf_release(&b);
	msg_free(&m);
}
END_TEST

/* fo= (RFC 9991): which outcomes ask for a report */
static const struct {
	const char *fo;
	enum dmarc_result res;
	bool dkim_aligned, spf_aligned;
	enum auth_result spf, dkim;
	bool want;
} fo_cases[] = {
	{ "0", DMARC_RES_FAIL, false, false, AUTH_FAIL, AUTH_NONE, true },
	{ "0", DMARC_RES_PASS, true, false, AUTH_FAIL, AUTH_PASS, false },
	{ "1", DMARC_RES_PASS, true, false, AUTH_PASS, AUTH_PASS, true },
	{ "1", DMARC_RES_PASS, true, true, AUTH_PASS, AUTH_PASS, false },
	{ "1", DMARC_RES_FAIL, false, false, AUTH_NONE, AUTH_NONE, true },
	{ "d", DMARC_RES_PASS, false, true, AUTH_PASS, AUTH_FAIL, true },
	{ "d", DMARC_RES_FAIL, false, false, AUTH_FAIL, AUTH_NONE, false },
	{ "s", DMARC_RES_PASS, true, false, AUTH_FAIL, AUTH_PASS, true },
	{ "s", DMARC_RES_FAIL, false, false, AUTH_SOFTFAIL, AUTH_NONE, false },
	{ "d:s", DMARC_RES_PASS, true, false, AUTH_FAIL, AUTH_PASS, true },
	{ "", DMARC_RES_FAIL, false, false, AUTH_NONE, AUTH_NONE, true },
};

START_TEST(test_dmarc_failure_fo)
{
	struct dmarc_outcome o;
	struct dmarc_dkim_sig sig;
	char *ruf = (char *)"mailto:a@b.example";

	memset(&o, 0, sizeof(o));
	memset(&sig, 0, sizeof(sig));
	o.have_record = true;
	o.result = fo_cases[_i].res;
	o.dkim_aligned = fo_cases[_i].dkim_aligned;
	o.spf_aligned = fo_cases[_i].spf_aligned;
	snprintf(o.rec.fo, sizeof(o.rec.fo), "%s", fo_cases[_i].fo);
	o.rec.ruf[0] = ruf;
	o.rec.nruf = 1;
	sig.result = fo_cases[_i].dkim;
	ck_assert_msg(dmarc_failure_wanted(&o, fo_cases[_i].spf, &sig,
	    fo_cases[_i].dkim == AUTH_NONE ? 0 : 1) == fo_cases[_i].want,
	    "case %d (fo=%s)", _i, fo_cases[_i].fo);
	/* without ruf= never */
	o.rec.nruf = 0;
	ck_assert(!dmarc_failure_wanted(&o, fo_cases[_i].spf, &sig, 1));
}
END_TEST

/* report_opts - today's (UTC) report from store dir into dir */
static void
report_opts(struct dmarc_report_opts *ro, const char *dir, long long now)
{
	memset(ro, 0, sizeof(*ro));
	ro->store_dir = ro->out_dir = dir;
	ro->begin = now - now % 86400;
	ro->end = ro->begin + 86400;
	ro->receiver = "mx.receiver.example";
	ro->email = "postmaster@receiver.example";
}

START_TEST(test_dmarc_report_from_store_validates)
{
	char *dir = make_tmpdir();
	struct buf conf = BUF_INIT, why = BUF_INIT, xml = BUF_INIT;
	struct fakedns *f;
	struct engine *e;
	struct dmarc_report_opts ro;
	struct dmarc_report_set set;
	long long now = (long long)time(NULL);
	char cmd[1024];
	FILE *fp;

	buf_printf(&conf, "dmarc_report_dir = %s\ndmarc_never_reject = yes\n",
	    dir);
	e = dmarc_engine(conf.data, &f);
	scan_one(e, "192.0.2.10", "a@reject.example");
	scan_one(e, "192.0.2.10", "b@reject.example");
	scan_one(e, "2001:db8::25", "c@sub.reject.example");
	scan_one(e, "192.0.2.11", "a@quar.example");	/* no rua: no report */
	scan_one(e, "192.0.2.12", "a@slow.example");	/* temperror: not kept */
	/* a line cut short by a crash */
	snprintf(cmd, sizeof(cmd), "ls %s/dmarc-*.jsonl", dir);
	fp = popen(cmd, "r");
	ck_assert(fgets(cmd, sizeof(cmd), fp) != NULL);
	pclose(fp);
	cmd[strcspn(cmd, "\n")] = '\0';
	fp = fopen(cmd, "a");
	fputs("{\"kind\":\"eval\",\"v\":1,\"t\":", fp);
	fclose(fp);

	report_opts(&ro, dir, now);
	ro.org_name = "Receiver & Co";
	ck_assert_int_eq(dmarc_report_run(&ro, &set, &why), 0);
	ck_assert_uint_eq(set.lines_read, 5);
	ck_assert_uint_eq(set.lines_bad, 1);
	ck_assert_uint_eq(set.n, 1);
	ck_assert_str_eq(set.v[0].policy_domain, "reject.example");
	ck_assert_uint_eq(set.v[0].messages, 3);
	ck_assert_uint_eq(set.v[0].records, 2);
	ck_assert_ptr_nonnull(strstr(set.v[0].path,
	    "/mx.receiver.example!reject.example!"));
	ck_assert_uint_eq(set.v[0].nrua, 1);
	ck_assert(files_read(set.v[0].path, 1 << 20, &xml, &why) == 0);
	ck_assert_ptr_nonnull(strstr(xml.data,
	    "<feedback xmlns=\"urn:ietf:params:xml:ns:dmarc-2.0\">"));
	ck_assert_ptr_nonnull(strstr(xml.data, "<count>2</count>"));
	ck_assert_ptr_nonnull(strstr(xml.data,
	    "<source_ip>2001:db8::25</source_ip>"));
	ck_assert_ptr_nonnull(strstr(xml.data,
	    "<discovery_method>treewalk</discovery_method>"));
	ck_assert_ptr_nonnull(strstr(xml.data, "<np>reject</np>"));
	ck_assert_ptr_nonnull(strstr(xml.data, "<org_name>Receiver &amp; Co"));
	ck_assert_ptr_nonnull(strstr(xml.data,
	    "<type>local_policy</type>"));
	ck_assert_ptr_nonnull(strstr(xml.data,
	    "<header_from>sub.reject.example</header_from>"));
	ck_assert_ptr_nonnull(strstr(xml.data,
	    "<envelope_from>sender.example</envelope_from>"));
	if (have_xmllint()) {
		snprintf(cmd, sizeof(cmd), "xmllint --noout --schema "
		    "'%s/dmarc/rfc9990.xsd' '%s' 2>/dev/null", TEST_DATA,
		    set.v[0].path);
		ck_assert_msg(system(cmd) == 0, "schema validation failed: %s",
		    set.v[0].path);
	}
	dmarc_report_set_release(&set);

	/* same period again, gzip: same name + ".gz", same content */
	ro.gzip = true;
	ck_assert_int_eq(dmarc_report_run(&ro, &set, &why), 0);
	ck_assert_uint_eq(set.n, 1);
	{
		gzFile g = gzopen(set.v[0].path, "rb");
		char back[65536];
		int n;

		ck_assert_ptr_nonnull(g);
		n = gzread(g, back, sizeof(back));
		gzclose(g);
		ck_assert_int_eq(n, (int)xml.len);
		ck_assert(memcmp(back, xml.data, xml.len) == 0);
	}
	ck_assert_ptr_nonnull(strstr(set.v[0].path, ".xml.gz"));
	dmarc_report_set_release(&set);

	/* a period without mail gives no report */
	ro.begin -= 10 * 86400;
	ro.end = ro.begin + 86400;
	ck_assert_int_eq(dmarc_report_run(&ro, &set, &why), 0);
	ck_assert_uint_eq(set.n, 0);
	dmarc_report_set_release(&set);

	engine_unref(e);
	fakedns_free(f);
	rm_rf(dir);
	free(dir);
	buf_release(&conf);
	buf_release(&why);
	buf_release(&xml);
}
END_TEST

/*
 * The recipient reaches sendmail as one argument after "--", never
 * through the header (-t); an address that is not canonical is not
 * handed over at all; a failing sendmail is an error with its status.
 */
START_TEST(test_submit_mail_passes_the_recipient_as_an_argument)
{
	char *dir = make_tmpdir();
	struct buf why = BUF_INIT, got = BUF_INIT;
	char prog[512], path[600];
	FILE *fp;

	snprintf(prog, sizeof(prog), "%s/sendmail", dir);
	ck_assert_ptr_nonnull(fp = fopen(prog, "w"));
	fprintf(fp, "#!/bin/sh\nprintf '%%s|' \"$@\" > '%s/argv'\n"
	    "cat > '%s/stdin'\nexit ${MW_TEST_EXIT:-0}\n", dir, dir);
	fclose(fp);
	chmod(prog, 0755);
	ck_assert_int_eq(submit_mail(prog, "dmarc@receiver.example",
	    "\"a..b\"@example.org", "To: x\n\nhi\n", 11, &why), 0);
	snprintf(path, sizeof(path), "%s/argv", dir);
	ck_assert(files_read(path, 4096, &got, &why) == 0);
	ck_assert_str_eq(got.data, "-oi|-f|dmarc@receiver.example|--|"
	    "\"a..b\"@example.org|");
	buf_reset(&got);
	snprintf(path, sizeof(path), "%s/stdin", dir);
	ck_assert(files_read(path, 4096, &got, &why) == 0);
	ck_assert_str_eq(got.data, "To: x\n\nhi\n");
	unlink(path);
	ck_assert_int_eq(submit_mail(prog, "dmarc@receiver.example",
	    "all-staff(@evil.example", "x\n", 2, &why), -1);
	ck_assert(access(path, F_OK) < 0);	/* never ran */
	buf_reset(&why);
	setenv("MW_TEST_EXIT", "75", 1);
	ck_assert_int_eq(submit_mail(prog, "dmarc@receiver.example",
	    "r@example.org", "x\n", 2, &why), -1);
	unsetenv("MW_TEST_EXIT");
	ck_assert_ptr_nonnull(strstr(buf_cstr(&why), "exited with status 75"));
	rm_rf(dir);
	free(dir);
	buf_release(&why);
	buf_release(&got);
}
END_TEST

/* xml_legal - p[0..n) is UTF-8 of XML 1.0 Chars only (section 2.2) */
static bool
xml_legal(const char *p, size_t n)
{
	uint32_t c;
	int len;

	for (; n > 0; p += len, n -= (size_t)len) {
		if ((len = utf8_next((const unsigned char *)p, n, &c)) < 0)
			return false;
		if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') ||
		    (c >= 0xD800 && c <= 0xDFFF) || c == 0xFFFE || c == 0xFFFF)
			return false;
	}
	return true;
}

/*
 * Issue 14: a store line whose identifiers hold ill-formed UTF-8 (a
 * stray byte, an overlong "/", an encoded surrogate, a truncated
 * sequence), controls and U+FFFF still gives a well-formed, valid
 * report: each bad sequence is one U+FFFD, good UTF-8 is kept.
 */
START_TEST(test_dmarc_report_xml_is_utf8_whatever_the_store_holds)
{
	static const char line[] = "{\"kind\":\"eval\",\"v\":1,\"t\":%lld,"
	    "\"ip\":\"192.0.2.7\",\"hfrom\":\"h\xc3\xa9.example\","
	    "\"efrom\":\"e\xff.example\",\"pdom\":\"bad.example\","
	    "\"p\":\"none\",\"rua\":[\"mailto:r@bad.example\"],"
	    "\"result\":\"fail\",\"disp\":\"none\",\"dkim_al\":\"fail\","
	    "\"spf_al\":\"fail\",\"reason\":\"other\","
	    "\"comment\":\"c\\u0001\\u0007\x7f\xc2\x85!\","
	    "\"spf\":{\"d\":\"s\xc0\xaf.example\",\"r\":\"fail\"},"
	    "\"dkim\":[{\"d\":\"d\xed\xa0\x80.example\",\"s\":"
	    "\"sel\xe2\x82\\t\xef\xbf\xbfx\",\"r\":\"fail\"}],\"err\":[]}\n";
	char *dir = make_tmpdir();
	struct buf why = BUF_INIT, xml = BUF_INIT;
	struct dmarc_report_opts ro;
	struct dmarc_report_set set;
	long long now = (long long)time(NULL);
	char path[512], cmd[1200], day[32];
	time_t t = (time_t)now;
	struct tm tm;
	FILE *fp;

	gmtime_r(&t, &tm);
	strftime(day, sizeof(day), "%Y%m%d", &tm);
	snprintf(path, sizeof(path), "%s/dmarc-%s.jsonl", dir, day);
	ck_assert_ptr_nonnull(fp = fopen(path, "w"));
	fprintf(fp, line, now);
	fclose(fp);
	report_opts(&ro, dir, now);
	ro.org_name = "Org \xe2\x9c\x93 \xf8\x88\x80\x80\x80";
	ck_assert_int_eq(dmarc_report_run(&ro, &set, &why), 0);
	ck_assert_uint_eq(set.lines_bad, 0);
	ck_assert_uint_eq(set.n, 1);
	ck_assert(files_read(set.v[0].path, 1 << 20, &xml, &why) == 0);
	ck_assert_msg(xml_legal(xml.data, xml.len), "not XML 1.0 UTF-8: %s",
	    xml.data);
	/* good UTF-8 kept; each bad sequence one U+FFFD; controls too */
	ck_assert_ptr_nonnull(strstr(xml.data,
	    "<header_from>h\xc3\xa9.example</header_from>"));
	ck_assert_ptr_nonnull(strstr(xml.data,
	    "<envelope_from>e\xef\xbf\xbd.example</envelope_from>"));
	ck_assert_ptr_nonnull(strstr(xml.data, "<domain>s\xef\xbf\xbd"
	    "\xef\xbf\xbd.example</domain>"));
	ck_assert_ptr_nonnull(strstr(xml.data, "<domain>d\xef\xbf\xbd"
	    "\xef\xbf\xbd\xef\xbf\xbd.example</domain>"));
	ck_assert_ptr_nonnull(strstr(xml.data, "<selector>sel\xef\xbf\xbd "
	    "\xef\xbf\xbdx</selector>"));
	ck_assert_ptr_nonnull(strstr(xml.data, "<comment>c\xef\xbf\xbd"
	    "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd!</comment>"));
	ck_assert_ptr_nonnull(strstr(xml.data, "<org_name>Org \xe2\x9c\x93 "));
	if (have_xmllint()) {
		snprintf(cmd, sizeof(cmd), "xmllint --noout --schema "
		    "'%s/dmarc/rfc9990.xsd' '%s' 2>/dev/null", TEST_DATA,
		    set.v[0].path);
		ck_assert_msg(system(cmd) == 0, "xmllint refused %s",
		    set.v[0].path);
	}
	dmarc_report_set_release(&set);
	rm_rf(dir);
	free(dir);
	buf_release(&why);
	buf_release(&xml);
}
END_TEST

START_TEST(test_dmarc_report_schema_rejects_a_broken_report)
{
	char *dir = make_tmpdir();
	char path[512], cmd[1024];
	FILE *fp;

	if (!have_xmllint()) {
		free(dir);
		return;
	}
	/* the validator must be able to fail: a record without a count */
	snprintf(path, sizeof(path), "%s/bad.xml", dir);
	fp = fopen(path, "w");
	fputs("<feedback xmlns=\"urn:ietf:params:xml:ns:dmarc-2.0\">"
	    "<report_metadata><org_name>x</org_name><email>x</email>"
	    "<report_id>1</report_id><date_range><begin>1</begin><end>2</end>"
	    "</date_range></report_metadata><policy_published><domain>d"
	    "</domain><p>none</p></policy_published><record><row><source_ip>"
	    "192.0.2.1</source_ip><policy_evaluated><disposition>none"
	    "</disposition><dkim>pass</dkim><spf>fail</spf></policy_evaluated>"
	    "</row><identifiers><header_from>d</header_from></identifiers>"
	    "<auth_results/></record></feedback>\n", fp);
	fclose(fp);
	snprintf(cmd, sizeof(cmd), "xmllint --noout --schema "
	    "'%s/dmarc/rfc9990.xsd' '%s' 2>/dev/null", TEST_DATA, path);
	ck_assert(system(cmd) != 0);
	rm_rf(dir);
	free(dir);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("dmarc_step");
	TCase *tc = tcase_create("pipeline");

	tcase_add_loop_test(tc, test_dmarc_step_outcomes, 0,
	    sizeof(cases) / sizeof(cases[0]));
	tcase_add_test(tc, test_dmarc_step_log_object);
	tcase_add_test(tc, test_dmarc_step_disabled);
	suite_add_tcase(s, tc);
	tc = tcase_create("reports");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_dmarc_report_from_store_validates);
	tcase_add_test(tc, test_dmarc_failure_reports_spooled);
	tcase_add_test(tc, test_dmarc_failure_report_contains_hostile_fields);
	tcase_add_loop_test(tc, test_dmarc_failure_fo, 0,
	    sizeof(fo_cases) / sizeof(fo_cases[0]));
	tcase_add_test(tc, test_dmarc_report_schema_rejects_a_broken_report);
	tcase_add_test(tc,
	    test_dmarc_report_xml_is_utf8_whatever_the_store_holds);
	tcase_add_test(tc, test_submit_mail_passes_the_recipient_as_an_argument);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
