/*
 * check_scope.c - policy scopes: parsing, errors, selection, reach,
 * and their effect on a scan (thresholds, exempt, outbound)
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "buf.h"
#include "conf.h"
#include "engine.h"
#include "helpers.h"
#include "msg.h"
#include "scope.h"
#include "str.h"

static int
parse(const char *text, const char *name, struct scope *sc, struct buf *why)
{
	struct conf *base = conf_defaults();
	int rc;

	buf_reset(why);
	rc = scope_parse(text, strlen(text), "s.d/x.conf", name, base, sc, why);
	conf_free(base);
	return rc;
}

START_TEST(test_scope_parse_selectors_and_overrides)
{
	struct buf why = BUF_INIT;
	struct scope sc;

	ck_assert_int_eq(parse("# per-domain\nrecipient_domains = a.example,"
	    " b.example\nrecipients = abuse@\n  postmaster@c.example\n"
	    "clients = 192.0.2.0/24 2001:db8::/32\ntag_score = 2\n"
	    "reject_score = 4\nspf_fail_action = reject\n", "dom", &sc, &why),
	    0);
	ck_assert_str_eq(sc.name, "dom");
	ck_assert_uint_eq(sc.rcpt_domains.n, 2);
	ck_assert_uint_eq(sc.rcpts.n, 2);	/* continuation line joined */
	ck_assert_str_eq(sc.rcpts.v[1], "postmaster@c.example");
	ck_assert_uint_eq(sc.nclients, 2);
	ck_assert(sc.conf->tag_score == 2.0 && sc.conf->reject_score == 4.0);
	ck_assert_str_eq(sc.conf->spf_fail_action, "reject");
	ck_assert_uint_eq(conf_key_line(sc.conf, "tag_score"), 6);
	ck_assert_uint_eq(conf_key_line(sc.conf, "subject_tag"), 0);
	ck_assert(!sc.exempt && !sc.outbound);
	scope_release(&sc);
	buf_release(&why);
}
END_TEST

START_TEST(test_scope_trap_reply_parsed_and_checked)
{
	struct buf why = BUF_INIT;
	struct scope sc;

	ck_assert_int_eq(parse("recipients = trap@a.example\nrcpt_reject = "
	    "551 5.1.10 <trap>: gone  away\n", "trap", &sc, &why), 0);
	ck_assert_str_eq(sc.trap_code, "551");
	ck_assert_str_eq(sc.trap_xcode, "5.1.10");
	ck_assert_str_eq(sc.trap_text, "<trap>: gone  away");
	scope_release(&sc);
	ck_assert_int_eq(parse("recipients = t@a.example\n"
	    "rcpt_reject = 450 4.1.1 later\n", "t", &sc, &why), -1);
	ck_assert_ptr_nonnull(strstr(why.data, "x.conf:2: rcpt_reject: bad "));
	ck_assert_int_eq(parse("recipients = t@a.example\n"
	    "rcpt_reject = 550 5.1 x\n", "t", &sc, &why), -1);
	ck_assert_int_eq(parse("recipients = t@a.example\n"
	    "rcpt_reject = 550 5.1.1\n", "t", &sc, &why), -1);
	ck_assert_int_eq(parse("recipients = t@a.example\n"
	    "rcpt_reject = 550 5.1.1 \x01\n", "t", &sc, &why), -1);
	buf_release(&why);
}
END_TEST

START_TEST(test_scope_symbol_scores_add_to_main_file)
{
	struct buf why = BUF_INIT;
	struct conf *base;
	struct scope sc;
	const char *main_text = "symbol_scores = A=1 B=2\n";
	const char *text = "auth_users = *\nsymbol_scores = B=7\n";

	ck_assert_int_eq(conf_parse(main_text, strlen(main_text), "mw.conf",
	    &base, &why), 0);
	ck_assert_int_eq(scope_parse(text, strlen(text), "x.conf", "x", base,
	    &sc, &why), 0);
	ck_assert_uint_eq(sc.conf->symbol_scores.n, 3);
	ck_assert_str_eq(sc.conf->symbol_scores.v[0], "A=1");
	ck_assert_str_eq(sc.conf->symbol_scores.v[2], "B=7");	/* last wins */
	scope_release(&sc);
	conf_free(base);
	buf_release(&why);
}
END_TEST

START_TEST(test_scope_errors_have_file_line_and_all_are_reported)
{
	struct buf why = BUF_INIT;
	struct scope sc;

	ck_assert_int_eq(parse("recipient_domains = ok.example bad..example\n"
	    "tag_score = lots\nrules_dir = /x\ntag_scor = 3\n"
	    "clients = 300.1.1.1\nexempt = maybe\nno equals sign\n"
	    "recipients = @x.example\nrecipient_domain = y.example\n", "bad",
	    &sc, &why), -1);
	ck_assert_ptr_nonnull(strstr(why.data, "s.d/x.conf:1: "
	    "recipient_domains: bad value 'bad..example'"));
	ck_assert_ptr_nonnull(strstr(why.data, "s.d/x.conf:2: tag_score: "
	    "bad value 'lots'"));
	ck_assert_ptr_nonnull(strstr(why.data, "s.d/x.conf:3: rules_dir: "
	    "not settable in a scope"));
	ck_assert_ptr_nonnull(strstr(why.data, "s.d/x.conf:4: tag_scor: "
	    "unknown key; did you mean tag_score?"));
	ck_assert_ptr_nonnull(strstr(why.data, "s.d/x.conf:5: clients: "));
	ck_assert_ptr_nonnull(strstr(why.data, "s.d/x.conf:6: exempt: "));
	ck_assert_ptr_nonnull(strstr(why.data, "s.d/x.conf:7: expected "));
	ck_assert_ptr_nonnull(strstr(why.data, "s.d/x.conf:8: recipients: "));
	/* a selector misspelt: the scope's own keys are suggested too */
	ck_assert_ptr_nonnull(strstr(why.data, "s.d/x.conf:9: "
	    "recipient_domain: unknown key; did you mean recipient_domains?"));
	ck_assert_ptr_null(sc.name);		/* released on error */
	buf_release(&why);
}
END_TEST

START_TEST(test_scope_needs_a_selector_and_sane_thresholds)
{
	struct buf why = BUF_INIT;
	struct scope sc;

	ck_assert_int_eq(parse("tag_score = 3\n", "nosel", &sc, &why), -1);
	ck_assert_ptr_nonnull(strstr(why.data, "scope nosel has no selector"));
	/* the scope's tag_score against the main file's reject_score */
	ck_assert_int_eq(parse("auth_users = *\ntag_score = 20\n", "t", &sc,
	    &why), -1);
	ck_assert_ptr_nonnull(strstr(why.data, "s.d/x.conf:2: tag_score: "
	    "tag_score 20 must not exceed reject_score 15"));
	ck_assert_int_eq(parse("outbound = yes\n", "bad/name", &sc, &why), -1);
	ck_assert_ptr_nonnull(strstr(why.data, "scope name 'bad/name'"));
	buf_release(&why);
}
END_TEST

/* the scopes of the selection table, in this order (first match wins) */
static const char *const sel_files[][2] = {
	{ "abuse", "recipients = abuse@ postmaster@a.example\nexempt = yes\n" },
	{ "out", "outbound = yes\n" },
	{ "alice", "auth_users = alice@a.example\n" },
	{ "a", "recipient_domains = a.example\n" },
	{ "b-lan", "recipient_domains = b.example\nclients = 198.51.100.0/24\n" },
	{ "snd", "sender_domains = partner.example\n" },
};

static const struct {
	const char *name;
	const char *ip, *auth, *from, *rcpt;
	const char *want;		/* NULL: main configuration */
} sel_cases[] = {
	{ "domain", "192.0.2.1", NULL, "x@y.example", "u@a.example", "a" },
	{ "subdomain", "192.0.2.1", NULL, "x@y.example", "u@mx.A.example.",
	  "a" },
	{ "not a suffix", "192.0.2.1", NULL, "x@y.example", "u@aa.example",
	  NULL },
	{ "local part anywhere", "192.0.2.1", NULL, "x@y.example",
	  "Abuse@b.example", "abuse" },
	{ "postmaster of a only", "192.0.2.1", NULL, "x@y.example",
	  "postmaster@b.example", NULL },
	{ "all kinds must match", "192.0.2.1", NULL, "x@y.example",
	  "u@b.example", NULL },
	{ "client and domain", "198.51.100.7", NULL, "x@y.example",
	  "u@b.example", "b-lan" },
	{ "sender subdomain", "192.0.2.1", NULL, "x@eu.partner.example",
	  "u@c.example", "snd" },
	{ "null sender", "192.0.2.1", NULL, "", "u@c.example", NULL },
	{ "authenticated is outbound", "192.0.2.1", "alice@a.example",
	  "x@y.example", "u@a.example", "out" },
	{ "trusted network is outbound", "10.1.2.3", NULL, "x@y.example",
	  "u@c.example", "out" },
	{ "no recipient", "192.0.2.1", NULL, "x@y.example", NULL, NULL },
};

static struct engine *
sel_engine(char *dir, size_t cap)
{
	struct buf text = BUF_INIT, p = BUF_INIT;
	struct engine *e;
	size_t i;
	FILE *f;

	test_mkdtemp(dir, cap, "mw-scope");
	for (i = 0; i < sizeof(sel_files) / sizeof(sel_files[0]); i++) {
		buf_reset(&p);
		buf_printf(&p, "%s/%02zu-%s.conf", dir, i, sel_files[i][0]);
		ck_assert_ptr_nonnull(f = fopen(buf_cstr(&p), "w"));
		fputs(sel_files[i][1], f);
		fclose(f);
	}
	buf_printf(&text, "trusted_networks = 10.0.0.0/8\nscope_dir = %s\n",
	    dir);
	e = test_engine(buf_cstr(&text));
	buf_release(&text);
	buf_release(&p);
	return e;
}

START_TEST(test_scope_select_table)
{
	char dir[128];
	struct engine *e = sel_engine(dir, sizeof(dir));
	const struct scope *sc;
	struct msg_limits lim;
	struct msg *m;
	char want[64];

	msg_limits_from_conf(&lim, e->conf);
	m = msg_new(&lim);
	msg_set_client(m, sel_cases[_i].ip, "c.example");
	msg_set_auth(m, sel_cases[_i].auth);
	msg_set_sender(m, sel_cases[_i].from);
	sc = scope_select(e->scopes, e->conf, m, sel_cases[_i].rcpt);
	if (sel_cases[_i].want)
		snprintf(want, sizeof(want), "%s", sel_cases[_i].want);
	ck_assert_msg(sel_cases[_i].want ? sc != NULL &&
	    strstr(sc->name, want) != NULL : sc == NULL,
	    "%s: got %s, want %s", sel_cases[_i].name, sc ? sc->name : "main",
	    sel_cases[_i].want ? sel_cases[_i].want : "main");
	/* the engine a scan would use is the scope's */
	ck_assert_ptr_eq(engine_for_scope(e, m, sel_cases[_i].rcpt),
	    sc ? sc->eng : e);
	msg_free(&m);
	engine_unref(e);
	test_rmtree(dir);
}
END_TEST

/*
 * bayes_engine - Bayes stores per scope: a.example and b.example name
 * one LMDB directory of their own, c.example keeps the main one,
 * off.example turns Bayes off
 */
static struct engine *
bayes_engine(const char *dir)
{
	static const char *const files[][2] = {
		{ "10-a", "recipient_domains = a.example\nbayes_store = %s/a\n" },
		{ "20-b", "recipient_domains = b.example\nbayes_store = %s/a\n" },
		{ "30-c", "recipient_domains = c.example\n%.0s" },
		{ "40-off", "recipient_domains = off.example\nbayes_store =\n"
		  "%.0s" },
	};
	struct buf p = BUF_INIT, t = BUF_INIT;
	struct engine *e;
	size_t i;
	FILE *f;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		buf_reset(&p);
		buf_printf(&p, "%s/%s.conf", dir, files[i][0]);
		ck_assert_ptr_nonnull(f = fopen(buf_cstr(&p), "w"));
		fprintf(f, files[i][1], dir);
		ck_assert_int_eq(fclose(f), 0);
	}
	buf_printf(&t, "scope_dir = %s\nbayes_store = %s/main\n", dir, dir);
	e = test_engine(buf_cstr(&t));
	buf_release(&t);
	buf_release(&p);
	return e;
}

/* the engine of the scope a recipient selects */
static struct engine *
for_rcpt(struct engine *e, const char *rcpt)
{
	struct msg_limits lim;
	struct msg *m;
	struct engine *se;

	msg_limits_from_conf(&lim, e->conf);
	m = msg_new(&lim);
	msg_set_client(m, "192.0.2.1", "c.example");
	se = engine_for_scope(e, m, rcpt);
	msg_free(&m);
	ck_assert_ptr_ne(se, e);
	return se;
}

START_TEST(test_scope_bayes_store_per_spec)
{
	char dir[128];
	struct engine *e, *again;
	struct bayes_store *main_st, *a;
	struct buf p = BUF_INIT, t = BUF_INIT, why = BUF_INIT;
	struct conf *c;
	FILE *f;

	test_mkdtemp(dir, sizeof(dir), "mw-scope");
	e = bayes_engine(dir);
	ck_assert_ptr_nonnull(main_st = engine_bayes(e, NULL));
	ck_assert_ptr_nonnull(a = engine_bayes(for_rcpt(e, "x@a.example"),
	    NULL));
	ck_assert_ptr_ne(a, main_st);
	ck_assert(for_rcpt(e, "x@a.example")->bayes_own);
	/* one open store per distinct spec: b borrows a's */
	ck_assert_ptr_eq(engine_bayes(for_rcpt(e, "x@b.example"), NULL), a);
	ck_assert(!for_rcpt(e, "x@b.example")->bayes_own);
	ck_assert_ptr_eq(engine_bayes(for_rcpt(e, "x@c.example"), NULL),
	    main_st);
	ck_assert_ptr_null(engine_bayes(for_rcpt(e, "x@off.example"), NULL));
	/* a reload while the old generation is in use: both open it */
	again = bayes_engine(dir);
	ck_assert_ptr_nonnull(engine_bayes(for_rcpt(again, "x@b.example"),
	    NULL));
	engine_unref(e);
	ck_assert_ptr_nonnull(engine_bayes(for_rcpt(again, "x@a.example"),
	    NULL));
	engine_unref(again);
	/* a scope's store must not be the policy store's directory */
	buf_printf(&p, "%s/50-bad.conf", dir);
	ck_assert_ptr_nonnull(f = fopen(buf_cstr(&p), "w"));
	fprintf(f, "recipient_domains = bad.example\nbayes_store = %s/pol\n",
	    dir);
	ck_assert_int_eq(fclose(f), 0);
	buf_printf(&t, TEST_HERMETIC_CONF
	    "scope_dir = %s\npolicy_store = %s/pol\n", dir, dir);
	ck_assert_int_eq(conf_parse(t.data, t.len, "mw.conf", &c, &why), 0);
	ck_assert_int_eq(engine_new(c, &e, &why), -1);
	ck_assert_msg(strstr(buf_cstr(&why), "50-bad.conf:2: bayes_store: "
	    "must not be the directory of policy_store") != NULL, "got %s",
	    buf_cstr(&why));
	/* nor in a directory that is not there, checked as the main one */
	buf_reset(&p);
	buf_reset(&t);
	buf_reset(&why);
	buf_printf(&p, "%s/50-bad.conf", dir);
	ck_assert_ptr_nonnull(f = fopen(buf_cstr(&p), "w"));
	fprintf(f, "recipient_domains = bad.example\nbayes_store = "
	    "%s/none/b\n", dir);
	ck_assert_int_eq(fclose(f), 0);
	buf_printf(&t, TEST_HERMETIC_CONF "scope_dir = %s\n", dir);
	ck_assert_int_eq(conf_parse(t.data, t.len, "mw.conf", &c, &why), 0);
	ck_assert_int_eq(engine_new(c, &e, &why), -1);
	ck_assert_msg(strstr(buf_cstr(&why), "50-bad.conf:2: bayes_store: ") !=
	    NULL && strstr(buf_cstr(&why), "/none: no such directory") != NULL,
	    "got %s", buf_cstr(&why));
	buf_release(&p);
	buf_release(&t);
	buf_release(&why);
	test_rmtree(dir);
}
END_TEST

static int
reach(const char *a, const char *b, struct buf *why)
{
	struct conf *base = conf_defaults();
	struct scope_set set = { NULL, 0, false };
	struct scope v[2];
	int rc;

	buf_reset(why);
	ck_assert_int_eq(scope_parse(a, strlen(a), "a.conf", "a", base, &v[0],
	    why), 0);
	ck_assert_int_eq(scope_parse(b, strlen(b), "b.conf", "b", base, &v[1],
	    why), 0);
	set.v = v;
	set.n = 2;
	rc = scope_check_reach(&set, why);
	scope_release(&v[0]);
	scope_release(&v[1]);
	conf_free(base);
	return rc;
}

START_TEST(test_scope_unreachable_scopes_are_errors)
{
	struct buf why = BUF_INIT;

	/* a domain hides its subdomain, a network the smaller one */
	ck_assert_int_eq(reach("recipient_domains = a.example\n",
	    "recipient_domains = x.a.example\n", &why), -1);
	ck_assert_ptr_nonnull(strstr(why.data, "b.conf: scope b is "
	    "unreachable: scope a (a.conf) comes first"));
	ck_assert_int_eq(reach("clients = 10.0.0.0/8\n",
	    "clients = 10.1.0.0/16\nauth_users = bob\n", &why), -1);
	ck_assert_int_eq(reach("recipients = abuse@\n",
	    "recipients = abuse@a.example\n", &why), -1);
	ck_assert_int_eq(reach("auth_users = *\n", "auth_users = bob\n",
	    &why), -1);
	/* one value taken by an earlier scope is a conflict, with its line */
	ck_assert_int_eq(reach("recipient_domains = a.example\n",
	    "# x\nrecipient_domains = b.example sub.a.example\n", &why), -1);
	ck_assert_ptr_nonnull(strstr(why.data, "b.conf:2: recipient_domains: "
	    "sub.a.example never selects mail for scope b: scope a (a.conf)"));
	ck_assert_ptr_null(strstr(why.data, "b.example never"));
	ck_assert_int_eq(reach("clients = 10.0.0.0/8\n",
	    "clients = 192.0.2.0/24 10.2.0.0/16\n", &why), -1);
	ck_assert_ptr_nonnull(strstr(why.data, "b.conf:1: clients: "
	    "10.2.0.0/16 never selects"));
	ck_assert_int_eq(reach("recipients = abuse@\n", "recipients = x@c.example"
	    "\nrecipient_domains = d.example\n", &why), 0);
	/* reachable: narrower first, or another kind restricted */
	ck_assert_int_eq(reach("recipient_domains = x.a.example\n",
	    "recipient_domains = a.example\n", &why), 0);
	ck_assert_int_eq(reach("recipient_domains = a.example\n"
	    "outbound = yes\n", "recipient_domains = a.example\n", &why), 0);
	ck_assert_int_eq(reach("clients = 10.1.0.0/16\n",
	    "clients = 10.0.0.0/8\n", &why), 0);
	ck_assert_int_eq(reach("auth_users = bob\n", "auth_users = *\n", &why),
	    0);
	buf_release(&why);
}
END_TEST

static const char spam_msg[] =
    "From: a@b.example\r\nTo: u@a.example\r\nSubject: offer\r\n"
    "Message-ID: <1@b.example>\r\nDate: Mon, 7 Dec 2026 05:00:00 +0000\r\n"
    "\r\nBuy SCOPEWORD now.\r\n";

/* scope_engine - rules scoring SCOPEWORD 6, and three scopes */
static struct engine *
scope_engine(char *dir, size_t cap)
{
	struct buf text = BUF_INIT, p = BUF_INIT;
	static const char *const files[][2] = {
		{ "10-out.conf", "outbound = yes\ntag_score = 8\n"
		  "reject_score = 8\nreject_text = Not sent: ask the help desk\n" },
		{ "20-abuse.conf", "recipients = abuse@\nexempt = yes\n" },
		{ "30-strict.conf", "recipient_domains = a.example\n"
		  "tag_score = 2\nreject_score = 4\n" },
	};
	struct engine *e;
	size_t i;
	FILE *f;

	test_mkdtemp(dir, cap, "mw-scope");
	buf_printf(&p, "%s/rules", dir);
	ck_assert_int_eq(mkdir(buf_cstr(&p), 0755), 0);
	buf_adds(&p, "/t.cf");
	ck_assert_ptr_nonnull(f = fopen(buf_cstr(&p), "w"));
	fputs("body SCOPEWORD /scopeword/i\nscore SCOPEWORD 6\n", f);
	fclose(f);
	for (i = 0; i < 3; i++) {
		buf_reset(&p);
		buf_printf(&p, "%s/%s", dir, files[i][0]);
		ck_assert_ptr_nonnull(f = fopen(buf_cstr(&p), "w"));
		fputs(files[i][1], f);
		fclose(f);
	}
	buf_printf(&text, "spf = no\ndmarc = no\ndkim_verify = no\n"
	    "tag_score = 5\nreject_score = 10\ntrusted_networks = 10.0.0.0/8\n"
	    "rules_dir = %s/rules\nscope_dir = %s\n", dir, dir);
	e = test_engine(buf_cstr(&text));
	buf_release(&text);
	buf_release(&p);
	return e;
}

START_TEST(test_scope_scan_thresholds_exempt_outbound)
{
	char dir[128];
	struct engine *e = scope_engine(dir, sizeof(dir));
	struct hdr_edits ed;
	struct buf line = BUF_INIT;
	struct msg *m;
	struct scan *s;

	/* main configuration: 6 tags (5/10) */
	s = test_scan_text(e, "192.0.2.1", "h.example", "a@b.example",
	    "u@c.example", spam_msg, sizeof(spam_msg) - 1, &m);
	ck_assert_int_eq(s->verdict.action, ACTION_TAG);
	ck_assert_ptr_null(s->verdict.scope);
	scan_free(&s);
	msg_free(&m);
	/* the strict domain: 6 rejects (2/4), logged with its scope */
	s = test_scan_text(e, "192.0.2.1", "h.example", "a@b.example",
	    "u@a.example", spam_msg, sizeof(spam_msg) - 1, &m);
	ck_assert_int_eq(s->verdict.action, ACTION_REJECT);
	ck_assert(s->verdict.reject_score == 4.0);
	scan_log_line(s, &line);
	ck_assert_ptr_nonnull(strstr(line.data, "\"scope\":\"30-strict\""));
	scan_free(&s);
	msg_free(&m);
	/* abuse@ is exempt: accepted, not scored, no header edit at all */
	s = test_scan_text(e, "192.0.2.1", "h.example", "a@b.example",
	    "abuse@a.example", spam_msg, sizeof(spam_msg) - 1, &m);
	ck_assert_int_eq(s->verdict.action, ACTION_ACCEPT);
	ck_assert(!s->verdict.scored);
	ck_assert_uint_eq(s->verdict.nsyms, 0);
	verdict_header_edits(&s->verdict, m, s->eng->conf, &ed);
	ck_assert_uint_eq(ed.n, 0);
	hdr_edits_release(&ed);
	scan_free(&s);
	msg_free(&m);
	/* trusted network: scored by the outbound scope (8/8), 6 passes
	 * with no X-Spam field added */
	s = test_scan_text(e, "10.0.0.5", "h.example", "a@b.example",
	    "u@c.example", spam_msg, sizeof(spam_msg) - 1, &m);
	ck_assert(s->verdict.scored && s->trusted);
	ck_assert_int_eq(s->verdict.action, ACTION_ACCEPT);
	ck_assert_ptr_nonnull(verdict_symbol(&s->verdict, "SCOPEWORD"));
	verdict_header_edits(&s->verdict, m, s->eng->conf, &ed);
	ck_assert_uint_eq(ed.n, 1);
	ck_assert_str_eq(ed.v[0].name, "Authentication-Results");
	hdr_edits_release(&ed);
	scan_free(&s);
	msg_free(&m);
	buf_release(&line);
	engine_unref(e);
	test_rmtree(dir);
}
END_TEST

START_TEST(test_scope_outbound_reject_hides_rules)
{
	char dir[128];
	struct engine *e = scope_engine(dir, sizeof(dir));
	static const char twice[] = "From: a@b.example\r\nSubject: x\r\n\r\n"
	    "scopeword\r\n";
	struct buf text = BUF_INIT;
	struct engine *e2;
	struct msg *m;
	struct scan *s;
	FILE *f;

	/* make SCOPEWORD worth 9 for outbound mail only */
	buf_printf(&text, "%s/10-out.conf", dir);
	ck_assert_ptr_nonnull(f = fopen(buf_cstr(&text), "a"));
	fputs("symbol_scores = SCOPEWORD=9\n", f);
	fclose(f);
	buf_reset(&text);
	buf_printf(&text, "spf = no\ndmarc = no\ndkim_verify = no\n"
	    "trusted_networks = 10.0.0.0/8\nrules_dir = %s/rules\n"
	    "scope_dir = %s\n", dir, dir);
	e2 = test_engine(buf_cstr(&text));
	s = test_scan_text(e2, "10.0.0.5", "h.example", "a@b.example",
	    "u@c.example", twice, sizeof(twice) - 1, &m);
	ck_assert_int_eq(s->verdict.action, ACTION_REJECT);
	ck_assert_str_eq(s->verdict.reply_text, "Not sent: ask the help desk");
	ck_assert_str_eq(s->verdict.smtp_code, "550");
	scan_free(&s);
	msg_free(&m);
	/* inbound the main score (6) applies: tagged, not rejected */
	s = test_scan_text(e2, "192.0.2.1", "h.example", "a@b.example",
	    "u@c.example", twice, sizeof(twice) - 1, &m);
	ck_assert_int_eq(s->verdict.action, ACTION_TAG);
	scan_free(&s);
	msg_free(&m);
	engine_unref(e2);
	engine_unref(e);
	buf_release(&text);
	test_rmtree(dir);
}
END_TEST

START_TEST(test_scope_dir_errors_fail_the_engine)
{
	char dir[128];
	struct buf text = BUF_INIT, why = BUF_INIT, p = BUF_INIT;
	struct engine *e;
	struct conf *c;
	FILE *f;

	test_mkdtemp(dir, sizeof(dir), "mw-scope");
	buf_printf(&p, "%s/a.conf", dir);
	ck_assert_ptr_nonnull(f = fopen(buf_cstr(&p), "w"));
	fputs("recipient_domains = a.example\nclient_list = /nonexistent/l\n",
	    f);
	fclose(f);
	buf_printf(&text, "rules_dir =\nrules_site_dir =\nscope_dir = %s\n",
	    dir);
	ck_assert_int_eq(conf_parse(text.data, text.len, "mw.conf", &c, &why),
	    0);
	ck_assert_int_eq(engine_new(c, &e, &why), -1);
	buf_reset(&p);
	buf_printf(&p, "%s/a.conf:2: client_list: ", dir);
	ck_assert_msg(strstr(why.data, p.data) != NULL, "got %s", why.data);
	/* a scope_dir the file names must exist */
	buf_reset(&why);
	buf_reset(&text);
	buf_printf(&text, TEST_HERMETIC_CONF "scope_dir = %s/missing\n", dir);
	ck_assert_int_eq(conf_parse(text.data, text.len, "mw.conf", &c, &why),
	    0);
	ck_assert_int_eq(engine_new(c, &e, &why), -1);
	ck_assert_ptr_nonnull(strstr(why.data, "mw.conf:4: scope_dir: "));
	buf_release(&text);
	buf_release(&why);
	buf_release(&p);
	test_rmtree(dir);
}
END_TEST

static Suite *
scope_suite(void)
{
	Suite *s = suite_create("scope");
	TCase *tc = tcase_create("parse");

	tcase_add_test(tc, test_scope_parse_selectors_and_overrides);
	tcase_add_test(tc, test_scope_symbol_scores_add_to_main_file);
	tcase_add_test(tc, test_scope_trap_reply_parsed_and_checked);
	suite_add_tcase(s, tc);
	tc = tcase_create("errors");
	tcase_add_test(tc, test_scope_errors_have_file_line_and_all_are_reported);
	tcase_add_test(tc, test_scope_needs_a_selector_and_sane_thresholds);
	tcase_add_test(tc, test_scope_unreachable_scopes_are_errors);
	tcase_add_test(tc, test_scope_dir_errors_fail_the_engine);
	suite_add_tcase(s, tc);
	tc = tcase_create("select");
	tcase_add_loop_test(tc, test_scope_select_table, 0,
	    sizeof(sel_cases) / sizeof(sel_cases[0]));
	suite_add_tcase(s, tc);
	tc = tcase_create("scan");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_scope_scan_thresholds_exempt_outbound);
	tcase_add_test(tc, test_scope_outbound_reject_hides_rules);
	tcase_add_test(tc, test_scope_bayes_store_per_spec);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(scope_suite());
}
