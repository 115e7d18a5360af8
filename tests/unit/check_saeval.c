/*
 * check_saeval.c - eval: tests: registry, arguments, load-time checks,
 * evals in metas and scores, the memo, and each header-family eval on
 * messages built here (a hit and a miss per eval)
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "engine.h"
#include "helpers.h"
#include "mime.h"
#include "msg.h"
#include "rules.h"
#include "saeval.h"
#include "saeval_int.h"
#include "scan.h"
#include "verdict.h"

/* ------------------------------------------------------------------ */
/* helpers                                                             */
/* ------------------------------------------------------------------ */

#define set_from test_rules

/* first_diag - the text "file:line: kind: text" of the first diagnostic */
static void
first_diag(const char *text, struct buf *out, int *rc)
{
	struct rules_report rep;
	struct ruleset *rs = NULL;

	*rc = rules_parse_text(text, strlen(text), "t.cf", NULL, &rs, &rep);
	if (rep.n)
		rules_diag_format(&rep.v[0], out);
	rules_report_release(&rep);
	rules_free(rs);
}

/* hit - does rule name hit message text, with env (may be NULL) */
static bool
hit_env(const char *rules, const char *name, const char *text,
    const struct rules_env *env)
{
	struct ruleset *rs = set_from(rules);
	struct rules_result res;
	struct msg *m;
	struct mime_msg *mm = test_mime_text(text, &m);
	bool h = false;
	size_t i;

	rules_eval_env(rs, m, mm, env, 0, &res);
	for (i = 0; i < res.nhits; i++)
		if (strcmp(rule_name(res.hits[i].rule), name) == 0)
			h = true;
	rules_result_release(&res);
	mime_free(&mm);
	msg_free(&m);
	rules_free(rs);
	return h;
}

static bool
hit(const char *rules, const char *name, const char *text)
{
	return hit_env(rules, name, text, NULL);
}

/* ------------------------------------------------------------------ */
/* framework                                                           */
/* ------------------------------------------------------------------ */

START_TEST(test_saeval_args_parse_forms)
{
	struct saeval_args a;
	struct buf why = BUF_INIT;
	const char *s = " 'From' , \"a, b\",  -96 ,undef ";

	ck_assert_int_eq(saeval_args_parse(s, strlen(s), &a, &why), 0);
	ck_assert_uint_eq(a.n, 4);
	ck_assert_str_eq(a.v[0], "From");
	ck_assert_str_eq(a.v[1], "a, b");
	ck_assert_str_eq(a.v[2], "-96");
	ck_assert_str_eq(a.v[3], "undef");
	saeval_args_release(&a);
	ck_assert_int_eq(saeval_args_parse("", 0, &a, &why), 0);
	ck_assert_uint_eq(a.n, 0);
	ck_assert_int_eq(saeval_args_parse("'x", 2, &a, &why), -1);
	ck_assert_ptr_nonnull(strstr(buf_cstr(&why), "unterminated"));
	buf_reset(&why);
	ck_assert_int_eq(saeval_args_parse("'x' y", 5, &a, &why), -1);
	buf_reset(&why);
	ck_assert_int_eq(saeval_args_parse("a,,b", 4, &a, &why), -1);
	ck_assert_ptr_nonnull(strstr(buf_cstr(&why), "empty"));
	buf_release(&why);
}
END_TEST

START_TEST(test_saeval_names_unique)
{
	const struct saeval_family *const *f;
	size_t nf, i, j, k;

	f = saeval_families(&nf);
	for (i = 0; i < nf; i++)
		for (j = 0; j < f[i]->nfns; j++) {
			ck_assert_ptr_eq(saeval_lookup(f[i]->fns[j].name),
			    &f[i]->fns[j]);
			ck_assert_ptr_nonnull(f[i]->fns[j].run);
			for (k = 0; k < j; k++)
				ck_assert_str_ne(f[i]->fns[k].name,
				    f[i]->fns[j].name);
		}
	ck_assert_ptr_null(saeval_lookup("no_such_eval"));
}
END_TEST

static const struct {
	const char *name;
	const char *text;
	int rc;
	const char *want;
} load_cases[] = {
	{ "unknown function", "header X eval:no_such()\n", 0,
	  "t.cf:1: unsupported: eval: test no_such (rule X not loaded)" },
	{ "bad count", "\nheader X eval:check_header_count_range('To')\n", -1,
	  "t.cf:2: error: X: eval:check_header_count_range: takes 3 to 3 "
	  "arguments, not 1" },
	{ "bad number", "header X eval:check_header_count_range('To', 'a', "
	  "'2')\n", -1, "MIN and MAX must be whole numbers" },
	{ "bad field", "header X eval:check_header_count_range('a b', 1, "
	  "2)\n", -1, "is not a header field name" },
	{ "wrong type", "body X eval:check_for_missing_to_header()\n", -1,
	  "eval:check_for_missing_to_header is not a body test" },
	{ "no parens", "header X eval:check_for_missing_to_header\n", -1,
	  "expected eval:function(args)" },
	{ "text after", "header X eval:subject_is_all_caps() x\n", -1,
	  "expected eval:function(args)" },
	{ "meta over unknown", "header E eval:nope()\nmeta M E\n", 0,
	  "eval: test nope" },
};

START_TEST(test_saeval_load_errors)
{
	struct buf d = BUF_INIT;
	int rc;

	first_diag(load_cases[_i].text, &d, &rc);
	ck_assert_msg(rc == load_cases[_i].rc, "%s: rc %d", load_cases[_i].name,
	    rc);
	ck_assert_msg(strstr(buf_cstr(&d), load_cases[_i].want) != NULL,
	    "%s: got '%s', want '%s'", load_cases[_i].name, buf_cstr(&d),
	    load_cases[_i].want);
	buf_release(&d);
}
END_TEST

START_TEST(test_saeval_in_meta_and_score)
{
	static const char rules[] =
	    "header __NO_TO eval:check_for_missing_to_header()\n"
	    "header SUBJ_CAPS eval:subject_is_all_caps()\n"
	    "score SUBJ_CAPS 1.5\n"
	    "describe SUBJ_CAPS Subject is all capitals\n"
	    "meta BOTH __NO_TO && SUBJ_CAPS\n";
	struct ruleset *rs = set_from(rules);
	const struct rule *r = rules_find(rs, "SUBJ_CAPS");

	ck_assert_ptr_nonnull(r);
	ck_assert(rule_enabled(r));
	ck_assert(rule_score(r) == 1.5);
	ck_assert_str_eq(rule_describe(r), "Subject is all capitals");
	ck_assert(rule_enabled(rules_find(rs, "BOTH")));
	rules_free(rs);
	ck_assert(hit(rules, "BOTH", "From: a@b.example\nSubject: BUY CHEAP "
	    "STUFF NOW\n\nbody\n"));
	ck_assert(!hit(rules, "BOTH", "From: a@b.example\nTo: c@d.example\n"
	    "Subject: BUY CHEAP STUFF NOW\n\nbody\n"));
}
END_TEST

START_TEST(test_saeval_missing_report)
{
	static const char text[] =
	    "header __A eval:no_such_a()\n"
	    "header __B eval:no_such_a('x')\n"
	    "body __C eval:no_such_b()\n"
	    "ifplugin Mail::SpamAssassin::Plugin::Nowhere\n"
	    "header __D eval:no_such_c()\n"
	    "endif\n"
	    "header __E eval:check_for_missing_to_header()\n"
	    "meta M1 __A && __E\n"
	    "meta M2 M1 || __C\n"
	    "meta M3 __D\n";
	struct rules_report rep;
	struct ruleset *rs;
	size_t i;
	unsigned seen = 0;

	ck_assert_int_eq(rules_parse_text(text, strlen(text), "t.cf", NULL,
	    &rs, &rep), 0);
	ck_assert_uint_eq(rep.nmissing, 3);
	for (i = 0; i < rep.nmissing; i++) {
		const struct rules_missing *m = &rep.missing[i];

		if (strcmp(m->func, "no_such_a") == 0) {
			ck_assert_uint_eq(m->rules, 2);
			ck_assert_uint_eq(m->metas, 2);		/* M1, M2 */
			seen |= 1;
		} else if (strcmp(m->func, "no_such_b") == 0) {
			ck_assert_uint_eq(m->rules, 1);
			ck_assert_uint_eq(m->metas, 1);		/* M2 */
			seen |= 2;
		} else if (strcmp(m->func, "no_such_c") == 0) {
			ck_assert_uint_eq(m->rules, 1);		/* skipped block */
			/* M3 runs: a name defined only in a skipped block
			   counts as not hit, as in SpamAssassin */
			ck_assert_uint_eq(m->metas, 0);
			seen |= 4;
		}
	}
	ck_assert_uint_eq(seen, 7);
	ck_assert_str_eq(rep.missing[0].func, "no_such_a");	/* most metas */
	rules_report_release(&rep);
	rules_free(rs);
}
END_TEST

static void
collect(const char *where, const char *text, void *arg)
{
	buf_printf(arg, "%s: %s\n", where, text);
}

START_TEST(test_saeval_rules_test_explains)
{
	struct ruleset *rs = set_from("header C eval:check_header_count_range("
	    "'Received', 2, 3)\n");
	struct msg *m;
	struct mime_msg *mm = test_mime_text("Received: a\nReceived: b\n"
	    "Received: a\nSubject: x\n\nbody\n", &m);
	struct buf out = BUF_INIT;

	ck_assert_int_eq(rules_test(rs, "C", m, mm, collect, &out), 1);
	ck_assert_ptr_nonnull(strstr(buf_cstr(&out), "2 distinct Received"));
	ck_assert_ptr_nonnull(strstr(buf_cstr(&out), "(hit)"));
	buf_release(&out);
	mime_free(&mm);
	msg_free(&m);
	rules_free(rs);
}
END_TEST

static int made;

static void *
make_count(struct saeval_in *in)
{
	(void)in;
	made++;
	return xstrdup("v");
}

START_TEST(test_saeval_memo_once)
{
	struct saeval_in in;
	static const char key1, key2;

	memset(&in, 0, sizeof(in));
	made = 0;
	ck_assert_str_eq(saeval_memo(&in, &key1, make_count, free), "v");
	ck_assert_str_eq(saeval_memo(&in, &key1, make_count, free), "v");
	ck_assert_int_eq(made, 1);
	(void)saeval_memo(&in, &key2, make_count, free);
	ck_assert_int_eq(made, 2);
	saeval_memo_release(&in.memo);
	ck_assert_ptr_null(in.memo);
}
END_TEST

START_TEST(test_saeval_directives_and_plugins)
{
	struct saeval_conf *c = saeval_conf_new();
	struct buf why = BUF_INIT;

	ck_assert_int_eq(saeval_conf_apply(c, "no_such_dir", "x", &why), -1);
	saeval_conf_free(c);
	buf_release(&why);
	ck_assert(saeval_plugin_provided("Mail::SpamAssassin::Plugin::"
	    "HeaderEval", 38));
	ck_assert(!saeval_plugin_provided("Mail::SpamAssassin::Plugin::"
	    "URIDNSBL", 36));
}
END_TEST

/* ------------------------------------------------------------------ */
/* auth family                                                         */
/* ------------------------------------------------------------------ */

START_TEST(test_saeval_auth_reads_verdict)
{
	static const char rules[] =
	    "header SPF_OK eval:check_for_spf_pass()\n"
	    "full DK_OK eval:check_dkim_valid('b.example')\n"
	    "full DK_OTHER eval:check_dkim_valid('c.example')\n"
	    "header DM_MISS eval:check_dmarc_missing()\n";
	static const char msg[] = "From: a@b.example\nSubject: x\n\nbody\n";
	struct verdict v;
	struct rules_env env = { 0, &v };

	verdict_init(&v);
	ck_assert(!hit_env(rules, "SPF_OK", msg, &env));
	ck_assert(!hit(rules, "SPF_OK", msg));
	verdict_add(&v, "SPF_PASS", 0, "b.example");
	verdict_add(&v, "DKIM_VALID", 0, "b.example");
	ck_assert(hit_env(rules, "SPF_OK", msg, &env));
	ck_assert(hit_env(rules, "DK_OK", msg, &env));
	ck_assert(!hit_env(rules, "DK_OTHER", msg, &env));
	ck_assert(!hit_env(rules, "DM_MISS", msg, &env));
	verdict_add(&v, "DMARC_NONE", 0, NULL);
	ck_assert(hit_env(rules, "DM_MISS", msg, &env));
	verdict_release(&v);
}
END_TEST

/* count_symbol - how many times the verdict holds name */
static size_t
count_symbol(const struct verdict *v, const char *name)
{
	size_t i, n = 0;

	for (i = 0; i < v->nsyms; i++)
		n += strcmp(v->syms[i].name, name) == 0;
	return n;
}

START_TEST(test_saeval_auth_in_scan_pipeline)
{
	static const char msg[] = "From: a@nodns.example\nTo: b@c.example\n"
	    "Subject: hi\n\nbody\n";
	char dir[256], path[320];
	struct buf conf = BUF_INIT;
	struct engine *e;
	struct scan *sc;
	struct msg *m;
	FILE *fp;

	test_mkdtemp(dir, sizeof(dir), "mw-saeval-scan");
	snprintf(path, sizeof(path), "%s/10_t.cf", dir);
	ck_assert_ptr_nonnull(fp = fopen(path, "w"));
	fputs("header SPF_NONE eval:check_for_spf_none()\n"
	    "score SPF_NONE 2.0\n"
	    "header T_SPF_NONE_SEEN eval:check_for_spf_none()\n"
	    "score T_SPF_NONE_SEEN 0.5\n"
	    "header T_SPF_PASS_SEEN eval:check_for_spf_pass()\n"
	    "score T_SPF_PASS_SEEN 0.5\n", fp);
	ck_assert_int_eq(fclose(fp), 0);
	buf_printf(&conf, "rules_dir = %s\nrules_site_dir =\n", dir);
	e = test_engine(buf_cstr(&conf));
	sc = test_scan_text(e, "192.0.2.1", "mx.nodns.example",
	    "a@nodns.example", "b@c.example", msg, sizeof(msg) - 1, &m);
	/* the eval saw the SPF step's result ... */
	ck_assert_uint_eq(count_symbol(&sc->verdict, "T_SPF_NONE_SEEN"), 1);
	ck_assert_uint_eq(count_symbol(&sc->verdict, "T_SPF_PASS_SEEN"), 0);
	/* ... and a stock rule named as the built-in symbol is not added
	   a second time */
	ck_assert_uint_eq(count_symbol(&sc->verdict, "SPF_NONE"), 1);
	scan_free(&sc);
	msg_free(&m);
	engine_unref(e);
	buf_release(&conf);
	test_rmtree(dir);
}
END_TEST

/* ------------------------------------------------------------------ */
/* header family                                                       */
/* ------------------------------------------------------------------ */

struct ecase {
	const char *name;
	const char *rule;	/* the rule line, named T */
	const char *msg;
	bool	 want;
};

static const struct ecase header_cases[] = {
	{ "missing To", "header T eval:check_for_missing_to_header()",
	  "From: a@b.example\nSubject: x\n\nb\n", true },
	{ "To present", "header T eval:check_for_missing_to_header()",
	  "From: a@b.example\nTo: c@d.example\n\nb\n", false },
	{ "Apparently-To", "header T eval:check_for_missing_to_header()",
	  "From: a@b.example\nApparently-To: c@d.example\n\nb\n", false },
	{ "count in range", "header T eval:check_header_count_range('X-A', "
	  "2, 2)", "X-A: 1\nX-A: 2\nX-A: 2\n\nb\n", true },
	{ "count out of range", "header T eval:check_header_count_range("
	  "'X-A', 3, 9)", "X-A: 1\nX-A: 2\nX-A: 2\n\nb\n", false },
	{ "count zero", "header T eval:check_header_count_range('X-A', 0, 0)",
	  "Subject: x\n\nb\n", true },
	{ "caps subject", "header T eval:subject_is_all_caps()",
	  "Subject: Re: FREE MONEY TODAY!!\n\nb\n", true },
	{ "caps one word", "header T eval:subject_is_all_caps()",
	  "Subject: FREEMONEYTODAY\n\nb\n", false },
	{ "caps short", "header T eval:subject_is_all_caps()",
	  "Subject: FREE NOW\n\nb\n", false },
	{ "caps mixed", "header T eval:subject_is_all_caps()",
	  "Subject: FREE MONEY Today\n\nb\n", false },
	{ "caps koi8", "header T eval:subject_is_all_caps()",
	  "Subject: =?koi8-r?Q?ABC_DEF_GHIJ?=\n\nb\n", false },
	/* forged Received */
	{ "yahoo forged", "header T eval:check_for_forged_yahoo_received_"
	  "headers()", "Received: from x.example ([192.0.2.1]) by mx.example "
	  "with SMTP id 1; Mon, 7 Dec 2026 10:00:00 +0000\nFrom: a@yahoo.com"
	  "\n\nb\n", true },
	{ "yahoo web", "header T eval:check_for_forged_yahoo_received_"
	  "headers()", "Received: from [192.0.2.1] by web1.mail.yahoo.com via "
	  "HTTP; Mon, 7 Dec 2026 10:00:00 +0000\nFrom: a@yahoo.com\n\nb\n",
	  false },
	{ "yahoo not from yahoo", "header T eval:check_for_forged_yahoo_"
	  "received_headers()", "Received: from x.example ([192.0.2.1]) by "
	  "mx.example; Mon, 7 Dec 2026 10:00:00 +0000\nFrom: a@b.example\n\n"
	  "b\n", false },
	{ "hotmail no rcvd", "header T eval:check_for_no_hotmail_received_"
	  "headers()", "Received: from x.example ([192.0.2.1]) by mx.example; "
	  "Mon, 7 Dec 2026 10:00:00 +0000\nFrom: a@hotmail.com\n\nb\n", true },
	{ "hotmail real", "header T eval:check_for_no_hotmail_received_"
	  "headers()", "Received: from hotmail.com (f1.law1.hotmail.com "
	  "[192.0.2.1]) by mx.example; Mon, 7 Dec 2026 10:00:00 +0000\n"
	  "X-Originating-Ip: [198.51.100.7]\nFrom: a@hotmail.com\n\nb\n",
	  false },
	{ "hotmail helo forged", "header T eval:check_for_forged_hotmail_"
	  "received_headers()", "Received: from mail.hotmail.com (x.example "
	  "[192.0.2.1]) by mx.example; Mon, 7 Dec 2026 10:00:00 +0000\n"
	  "From: a@b.example\n\nb\n", true },
	{ "gmail forged", "header T eval:check_for_forged_gmail_received_"
	  "headers()", "Received: from x ([192.0.2.1]) by mx.example\n"
	  "From: a@gmail.com\n\nb\n", true },
	{ "gmail real", "header T eval:check_for_forged_gmail_received_"
	  "headers()", "Received: from x ([192.0.2.1]) by mx.example\n"
	  "X-Received: by 10.1.2.3 with SMTP id abc\nFrom: a@gmail.com\n\nb\n",
	  false },
	{ "juno forged", "header T eval:check_for_forged_juno_received_"
	  "headers()", "Received: from x ([192.0.2.1]) by mx.example\n"
	  "From: a@juno.com\n\nb\n", true },
	{ "eudora forged", "header T eval:check_for_forged_eudoramail_"
	  "received_headers()", "Received: from x ([192.0.2.1]) by mx.example"
	  "\nFrom: a@eudoramail.com\n\nb\n", true },
	{ "gated no received", "header T eval:gated_through_received_hdr_"
	  "remover()", "From: a@b.example\n\nb\n", true },
	{ "gated received", "header T eval:gated_through_received_hdr_"
	  "remover()", "Received: from x ([192.0.2.1]) by y\nFrom: a@b.example"
	  "\n\nb\n", false },
	{ "aol fake relay", "header T eval:check_for_fake_aol_relay_in_rcvd()",
	  "Received: from x (HELO rly-xa01.mx.aol.com) by y\n\nb\n", true },
	{ "msgid unusable", "header T eval:check_messageid_not_usable()",
	  "Received: from x by y (iPlanet Messaging Server 5.2)\n\nb\n", true },
	{ "msgid usable", "header T eval:check_messageid_not_usable()",
	  "Received: from x ([192.0.2.1]) by y\n\nb\n", false },
	/* ratware, From/To forms */
	{ "ratware name id", "header T eval:check_ratware_name_id()",
	  "Message-Id: <ABCDEFGHIJKLMNOPQRSTUVWXYZAB.bob@x.example>\n"
	  "From: \"Bob\" <bob@x.example>\n\nb\n", true },
	{ "ratware name id no", "header T eval:check_ratware_name_id()",
	  "Message-Id: <ABCDEFGHIJKLMNOPQRSTUVWXYZAB.bob@x.example>\n"
	  "From: \"Bob\" <alice@x.example>\n\nb\n", false },
	{ "ratware envfrom", "header T eval:check_ratware_envelope_from()",
	  "Return-Path: <x.example.bob@spam.example>\nTo: bob@x.example\n\nb\n",
	  true },
	{ "ratware envfrom no", "header T eval:check_ratware_envelope_from()",
	  "Return-Path: <carol@spam.example>\nTo: bob@x.example\n\nb\n", false },
	{ "from domains differ", "header T eval:check_equal_from_domains()",
	  "Return-Path: <a@mail.one.example>\nFrom: b@two.example\n\nb\n",
	  true },
	{ "from domains same", "header T eval:check_equal_from_domains()",
	  "Return-Path: <a@mail.one.example>\nFrom: b@x.one.example\n\nb\n",
	  false },
	{ "return-path after received", "header T eval:check_equal_from_"
	  "domains()", "Received: from x ([192.0.2.1]) by y\nReturn-Path: "
	  "<a@one.example>\nFrom: b@two.example\n\nb\n", false },
	{ "illegal chars", "header T eval:check_illegal_chars('Subject', "
	  "'0.2', '2')", "Subject: \xe9\xe9\xe9 abc\n\nb\n", true },
	{ "illegal utf8 ok", "header T eval:check_illegal_chars('Subject', "
	  "'0.2', '2')", "Subject: \xc3\xa9\xc3\xa9 abc\n\nb\n", false },
	{ "unresolved template", "header T eval:check_unresolved_template()",
	  "X-Foo: %RND_NUMBER\n\nb\n", true },
	{ "template in subject", "header T eval:check_unresolved_template()",
	  "Subject: %RND_NUMBER\n\nb\n", false },
	{ "to in subject", "header T eval:check_for_to_in_subject('user')",
	  "To: bob@x.example\nSubject: bob, hello\n\nb\n", true },
	{ "to not in subject", "header T eval:check_for_to_in_subject("
	  "'address')", "To: bob@x.example\nSubject: hello there\n\nb\n",
	  false },
	{ "similar recipients", "header T eval:similar_recipients('0.5', "
	  "'undef')", "To: aa1@x.example, aa2@x.example, aa3@x.example, "
	  "aa4@x.example, aa5@x.example\n\nb\n", true },
	{ "different recipients", "header T eval:similar_recipients('0.5', "
	  "'undef')", "To: a@x.example, b@y.example, c@z.example, "
	  "d@w.example, e@v.example\n\nb\n", false },
	{ "sorted recipients", "header T eval:sorted_recipients()",
	  "To: a@x, b@x, c@x, d@x, e@x, f@x, g@x\n\nb\n", true },
	/* dates */
	{ "date in future", "header T eval:check_for_shifted_date('6', '12')",
	  "Received: from x ([192.0.2.1]) by y; Mon, 7 Dec 2026 10:00:00 "
	  "+0000\nDate: Mon, 7 Dec 2026 18:00:00 +0000\n\nb\n", true },
	{ "date on time", "header T eval:check_for_shifted_date('-3', '3')",
	  "Received: from x ([192.0.2.1]) by y; Mon, 7 Dec 2026 10:00:00 "
	  "+0000\nDate: Mon, 07 Dec 2026 05:00:00 -0500\n\nb\n", true },
	{ "date in past", "header T eval:check_for_shifted_date('undef', "
	  "'-96')", "Received: from x ([192.0.2.1]) by y; Mon, 7 Dec 2026 "
	  "10:00:00 +0000\nDate: 1 Nov 2026 10:00:00 GMT\n\nb\n", true },
	{ "date folded received", "header T eval:check_for_shifted_date('6', "
	  "'12')", "Received: from x ([192.0.2.1]) by y; Mon, 7 Dec 2026 "
	  "10:00:00\n    +0000\nDate: Mon, 7 Dec 2026 18:00:00 +0000\n\nb\n",
	  true },
	{ "date no received", "header T eval:check_for_shifted_date('6', "
	  "'undef')", "Date: Mon, 7 Dec 2026 18:00:00 +0000\n\nb\n", false },
	{ "outlook msgid bad", "header T eval:check_outlook_message_id()",
	  "Message-Id: <000100000000$00000000$00000000@x>\nDate: Mon, 7 Dec "
	  "2026 18:00:00 +0000\nReceived: from x by y; Mon, 7 Dec 2026 "
	  "18:00:00 +0000\n\nb\n", true },
	{ "outlook msgid other", "header T eval:check_outlook_message_id()",
	  "Message-Id: <abc@x>\nDate: Mon, 7 Dec 2026 18:00:00 +0000\n\nb\n",
	  false },
	/* relays */
	{ "no relays", "header T eval:check_no_relays()", "Subject: x\n\nb\n",
	  true },
	{ "all trusted", "header T eval:check_all_trusted()",
	  "Received: from a (a [10.0.0.1]) by b\n\nb\n", true },
	{ "not all trusted", "header T eval:check_all_trusted()",
	  "Received: from a (a [192.0.2.1]) by b\n\nb\n", false },
	{ "unparseable", "header T eval:check_relays_unparseable()",
	  "Received: from weird.example by b.example with SMTP\n\nb\n", false },
	{ "unparseable yes", "header T eval:check_relays_unparseable()",
	  "Received: from weird.example gateway of b.example\n\nb\n", true },
	{ "helo ip mismatch", "header T eval:helo_ip_mismatch()",
	  "Received: from 198.51.100.9 ([192.0.2.1]) by b\n\nb\n", true },
	{ "helo ip same net", "header T eval:helo_ip_mismatch()",
	  "Received: from 192.0.2.9 ([192.0.2.1]) by b\n\nb\n", false },
	{ "dotcom helo no rdns", "header T eval:check_for_no_rdns_dotcom_"
	  "helo()", "Received: from mail.yahoo.com ([192.0.2.1]) by b\n\nb\n",
	  true },
	{ "dotcom helo with rdns", "header T eval:check_for_no_rdns_dotcom_"
	  "helo()", "Received: from mail.yahoo.com (x.example [192.0.2.1]) by "
	  "b\n\nb\n", false },
	{ "mailfrom matches", "header T eval:check_mailfrom_matches_rcvd()",
	  "Received: from m (mx1.one.example [192.0.2.1]) by b\nReturn-Path: "
	  "<a@one.example>\n\nb\n", false },
	{ "mailfrom matches yes", "header T eval:check_mailfrom_matches_rcvd()",
	  "Return-Path: <a@one.example>\nReceived: from m (mx1.one.example "
	  "[192.0.2.1]) by b\n\nb\n", true },
	/* freemail (domains given in the rule text) */
	{ "freemail from", "header T eval:check_freemail_from()",
	  "From: joe@free.example\n\nb\n", true },
	{ "freemail wildcard", "header T eval:check_freemail_from()",
	  "From: joe@mail.co.example\n\nb\n", true },
	{ "freemail role", "header T eval:check_freemail_from()",
	  "From: postmaster@free.example\n\nb\n", false },
	{ "freemail welcomelisted", "header T eval:check_freemail_from()",
	  "From: ok@free.example\n\nb\n", false },
	{ "not freemail", "header T eval:check_freemail_from()",
	  "From: joe@corp.example\n\nb\n", false },
	{ "freemail header regex", "header T eval:check_freemail_header("
	  "'Reply-To', '\\d@')", "Reply-To: joe7@free.example\n\nb\n", true },
	{ "freemail header regex no", "header T eval:check_freemail_header("
	  "'Reply-To', '\\d@')", "Reply-To: joe@free.example\n\nb\n", false },
	{ "freemail replyto", "header T eval:check_freemail_replyto("
	  "'replyto')", "From: joe@free.example\nReply-To: ann@mail.co.example"
	  "\n\nb\n", true },
	{ "freemail replyto same", "header T eval:check_freemail_replyto("
	  "'replyto')", "From: joe@free.example\nReply-To: joe@free.example\n"
	  "\nb\n", false },
	{ "freemail body", "body T eval:check_freemail_body()",
	  "From: a@b.example\n\nwrite to joe@free.example now\n", true },
};

START_TEST(test_saeval_header_cases)
{
	const struct ecase *c = &header_cases[_i];
	char rules[1024];

	snprintf(rules, sizeof(rules), "freemail_domains free.example "
	    "*.co.example\nfreemail_welcomelist ok@free.example\n%s\n",
	    c->rule);
	ck_assert_msg(hit(rules, "T", c->msg) == c->want, "%s: got %d, want %d",
	    c->name, !c->want, c->want);
}
END_TEST


/*
 * sae_rx_span_near tries only the windows before each '@': over texts
 * made of addresses, near-addresses (local parts of 63-66 bytes, '<',
 * "mailto:", dots and dashes at the edges) and filler, every match it
 * finds, in order, is the one a plain search from the same offset finds
 */
START_TEST(test_saeval_rx_span_near_same)
{
	static struct sae_rx plain = { EMAIL_RX, PCRE2_CASELESS, NULL };
	static struct sae_rx near = { EMAIL_RX,
	    PCRE2_CASELESS | PCRE2_USE_OFFSET_LIMIT, NULL };
	static struct sae_rx qplain = { "<?(?<!mailto:)" EMAIL_RX ">",
	    PCRE2_CASELESS, NULL };
	static struct sae_rx qnear = { "<?(?<!mailto:)" EMAIL_RX ">",
	    PCRE2_CASELESS | PCRE2_USE_OFFSET_LIMIT, NULL };
	static const char *piece[] = { "alice@example.com", "x@y", "@", "<",
	    ">", " ", "\n", "mailto:", "bob.smith@mail.example.org", ".",
	    "-", "@@", "word ", "Re: ", "a@b.c", "user@sub.dom.example.co.uk",
	    "\t", "@example.net", "%40", "_" };
	struct buf t = BUF_INIT;
	unsigned seed = 12345, iter, k, n, matches = 0;
	size_t off, s1, e1, s2, e2, local;
	bool f1, f2;

	for (iter = 0; iter < 3000; iter++) {
		buf_reset(&t);
		n = 1 + (seed = seed * 1103515245 + 12345) % 12;
		for (k = 0; k < n; k++) {
			seed = seed * 1103515245 + 12345;
			if ((seed >> 8) % 5 == 0) {
				/* a local part around the 64-byte limit */
				local = 60 + (seed >> 12) % 8;
				while (local--)
					buf_addc(&t, "abc.-x"[(seed >> 3) % 6 ==
					    0 ? 1 : 0]);
				buf_adds(&t, "@host.example");
			} else
				buf_adds(&t, piece[(seed >> 8) %
				    (sizeof(piece) / sizeof(piece[0]))]);
		}
		for (k = 0; k < 2; k++)
			for (off = 0; off <= t.len; off = e1 > s1 ? e1 : e1 + 1) {
				f1 = sae_rx_span(k ? &qplain : &plain, t.data,
				    t.len, off, &s1, &e1);
				f2 = sae_rx_span_near(k ? &qnear : &near, t.data,
				    t.len, off, '@', EMAIL_BACK + k, &s2, &e2);
				ck_assert_msg(f1 == f2, "found %d/%d at %zu in "
				    "'%s'", f1, f2, off, buf_cstr(&t));
				if (!f1)
					break;
				ck_assert_msg(s1 == s2 && e1 == e2, "[%zu,%zu) "
				    "against [%zu,%zu) in '%s'", s1, e1, s2, e2,
				    buf_cstr(&t));
				matches++;
			}
	}
	ck_assert_uint_gt(matches, 1000);
	buf_release(&t);
}
END_TEST

static Suite *
saeval_suite(void)
{
	Suite *s = suite_create("saeval");
	TCase *tc;

	tc = tcase_create("framework");
	tcase_add_test(tc, test_saeval_args_parse_forms);
	tcase_add_test(tc, test_saeval_names_unique);
	tcase_add_loop_test(tc, test_saeval_load_errors, 0,
	    sizeof(load_cases) / sizeof(load_cases[0]));
	tcase_add_test(tc, test_saeval_in_meta_and_score);
	tcase_add_test(tc, test_saeval_rules_test_explains);
	tcase_add_test(tc, test_saeval_memo_once);
	tcase_add_test(tc, test_saeval_missing_report);
	tcase_add_test(tc, test_saeval_directives_and_plugins);
	tcase_add_test(tc, test_saeval_rx_span_near_same);
	suite_add_tcase(s, tc);
	tc = tcase_create("auth");
	tcase_add_test(tc, test_saeval_auth_reads_verdict);
	tcase_add_test(tc, test_saeval_auth_in_scan_pipeline);
	suite_add_tcase(s, tc);
	tc = tcase_create("header");
	tcase_add_loop_test(tc, test_saeval_header_cases, 0,
	    sizeof(header_cases) / sizeof(header_cases[0]));
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(saeval_suite());
}
