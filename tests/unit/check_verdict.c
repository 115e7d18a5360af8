/*
 * check_verdict.c - decisions, replies, Authentication-Results and
 * X-Spam-* texts, header edits
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "conf.h"
#include "helpers.h"
#include "msg.h"
#include "verdict.h"

static struct conf *
conf_with(const char *text)
{
	struct conf *c;
	struct buf why = BUF_INIT;

	ck_assert_int_eq(conf_parse(text, strlen(text), "t", &c, &why), 0);
	buf_release(&why);
	return c;
}

static const struct {
	const char *name;
	double scores[3];
	enum action want;
} threshold_cases[] = {
	{ "nothing", { 0, 0, 0 }, ACTION_ACCEPT },
	{ "just below tag", { 2, 2.9, 0 }, ACTION_ACCEPT },
	{ "at tag", { 2, 3, 0 }, ACTION_TAG },
	{ "between", { 10, 4.9, 0 }, ACTION_TAG },
	{ "at reject", { 10, 5, 0 }, ACTION_REJECT },
	{ "negatives pull back", { 10, 5, -6 }, ACTION_TAG },
};

START_TEST(test_verdict_thresholds)
{
	struct conf *c = conf_with("tag_score = 5\nreject_score = 15\n");
	struct verdict v;
	int i;

	verdict_init(&v);
	for (i = 0; i < 3; i++)
		if (threshold_cases[_i].scores[i] != 0)
			verdict_add(&v, "S", threshold_cases[_i].scores[i], NULL);
	verdict_decide(&v, c);
	ck_assert_msg(v.action == threshold_cases[_i].want, "%s: got %s",
	    threshold_cases[_i].name, action_name(v.action));
	verdict_release(&v);
	conf_free(c);
}
END_TEST

START_TEST(test_verdict_reject_reply_names_main_cause)
{
	struct conf *c = conf_with("reject_score = 10\n");
	struct verdict v;

	verdict_init(&v);
	verdict_add(&v, "SMALL", 2, NULL);
	verdict_add(&v, "BIG_CAUSE", 9, "what it saw");
	verdict_decide(&v, c);
	ck_assert_int_eq(v.action, ACTION_REJECT);
	ck_assert_str_eq(v.smtp_code, "550");
	ck_assert_str_eq(v.smtp_xcode, "5.7.1");
	ck_assert_str_eq(v.reply_text, "Message rejected as spam (score 11.0, "
	    "limit 10.0): BIG_CAUSE, what it saw");
	verdict_release(&v);
	conf_free(c);
}
END_TEST

START_TEST(test_verdict_force_priorities)
{
	struct conf *c = conf_with("");
	struct verdict v;

	verdict_init(&v);
	verdict_add(&v, "SPAMMY", 40, NULL);
	verdict_force(&v, FORCE_ALLOW, ACTION_ACCEPT, "ALLOW", "allowed");
	verdict_force(&v, FORCE_TEMPFAIL, ACTION_TEMPFAIL, "T", "dns");
	verdict_decide(&v, c);
	ck_assert_int_eq(v.action, ACTION_ACCEPT);	/* allow outranks both */
	ck_assert_str_eq(v.force_symbol, "ALLOW");
	verdict_force(&v, FORCE_LIST_REJECT, ACTION_REJECT, "BLOCK",
	    "Blocked by list");
	verdict_decide(&v, c);
	ck_assert_int_eq(v.action, ACTION_REJECT);
	ck_assert_str_eq(v.reply_text, "Blocked by list");
	verdict_release(&v);

	verdict_init(&v);
	verdict_force(&v, FORCE_TEMPFAIL, ACTION_TEMPFAIL, "DNS_TEMP",
	    "DNS timeout for example.org");
	verdict_decide(&v, c);
	ck_assert_int_eq(v.action, ACTION_TEMPFAIL);
	ck_assert_str_eq(v.smtp_code, "451");
	ck_assert_str_eq(v.smtp_xcode, "4.7.1");
	verdict_release(&v);
	conf_free(c);
}
END_TEST

START_TEST(test_verdict_unscored_always_accepts)
{
	struct conf *c = conf_with("");
	struct verdict v;

	verdict_init(&v);
	v.scored = false;
	verdict_add(&v, "X", 100, NULL);
	verdict_decide(&v, c);
	ck_assert_int_eq(v.action, ACTION_ACCEPT);
	verdict_release(&v);
	conf_free(c);
}
END_TEST

START_TEST(test_authres_text)
{
	struct verdict v;
	struct buf b = BUF_INIT;

	verdict_init(&v);
	verdict_authres_value(&v, "mx.example.net", &b);
	ck_assert_str_eq(b.data, "mx.example.net; none");
	buf_reset(&b);
	verdict_add_authres(&v, "spf=pass smtp.mailfrom=example.org");
	verdict_add_authres(&v, "dkim=fail header.d=example.org");
	verdict_authres_value(&v, "mx.example.net", &b);
	ck_assert_str_eq(b.data, "mx.example.net;\n\tspf=pass "
	    "smtp.mailfrom=example.org;\n\tdkim=fail header.d=example.org");
	buf_release(&b);
	verdict_release(&v);
}
END_TEST

START_TEST(test_spam_status_folds_and_sorts)
{
	struct conf *c = conf_with("");
	struct verdict v;
	struct buf b = BUF_INIT;
	char name[32];
	int i;
	const char *line;

	verdict_init(&v);
	for (i = 0; i < 12; i++) {
		snprintf(name, sizeof(name), "SYMBOL_NUMBER_%02d", 11 - i);
		verdict_add(&v, name, 1, NULL);
	}
	verdict_decide(&v, c);
	verdict_status_value(&v, &b);
	ck_assert_msg(strncmp(b.data, "Yes, score=12.0 tag=5.0 reject=15.0 "
	    "tests=SYMBOL_NUMBER_00,", 59) == 0, "got %s", b.data);
	/* folded: no line longer than 78 with the field name */
	line = b.data;
	ck_assert_uint_le(strcspn(line, "\n") + strlen("X-Spam-Status: "), 78);
	while ((line = strchr(line, '\n')) != NULL) {
		line++;
		ck_assert_int_eq(*line, '\t');
		ck_assert_uint_le(strcspn(line, "\n") + 7, 78);
	}
	buf_release(&b);
	verdict_release(&v);
	conf_free(c);
}
END_TEST

static struct msg *
msg_with_headers(void)
{
	static const struct msg_limits lim = { 1000, 100000, 100, 10 };
	struct msg *m = msg_new(&lim);

	msg_add_header(m, "Authentication-Results", 22,
	    " mx.example.net; spf=pass smtp.mailfrom=x", 41);
	msg_add_header(m, "Subject", 7, " hello", 6);
	msg_add_header(m, "authentication-results", 22,
	    " (comment) upstream.example; none", 33);
	msg_add_header(m, "Authentication-Results", 22,
	    " MX.EXAMPLE.NET; dkim=pass", 26);
	msg_add_header(m, "X-Spam-Flag", 11, " YES", 4);
	return m;
}

/* deleted_authres - the Authentication-Results occurrences deleted */
static void
deleted_authres(const char *conf_text, const char *const *values, size_t n,
    struct buf *out)
{
	static const struct msg_limits lim = { 1000, 100000, 100, 10 };
	struct conf *c = conf_with(conf_text);
	struct msg *m = msg_new(&lim);
	struct verdict v;
	struct hdr_edits e;
	size_t i;

	for (i = 0; i < n; i++)
		msg_add_header(m, "Authentication-Results", 22, values[i],
		    strlen(values[i]));
	verdict_init(&v);
	verdict_decide(&v, c);
	verdict_header_edits(&v, m, c, &e);
	buf_reset(out);
	for (i = 0; i < e.n; i++)
		if (e.v[i].op == EDIT_DELETE)
			buf_printf(out, "%zu ", e.v[i].index);
	hdr_edits_release(&e);
	verdict_release(&v);
	msg_free(&m);
	conf_free(c);
}

START_TEST(test_edits_authserv_id_trailing_dot)
{
	/* occurrence numbers are 1-based; highest first */
	static const char *const in[] = {
		" mx.receiver.example.; dkim=pass header.d=bank.example",
		" MX.Receiver.Example.; spf=pass",
		" mx.receiver.example..; spf=pass",
		" mx.receiver.example.org; spf=pass",
		" (c) mx.receiver.example; dmarc=pass",
		" receiver.example.; dmarc=pass",
	};
	struct buf b = BUF_INIT;

	deleted_authres("authserv_id = mx.receiver.example\n", in, 6, &b);
	ck_assert_str_eq(buf_cstr(&b), "5 2 1 ");
	/* an absolute authserv_id matches the relative form too */
	deleted_authres("authserv_id = mx.receiver.example.\n", in, 6, &b);
	ck_assert_str_eq(buf_cstr(&b), "5 2 1 ");
	buf_release(&b);
}
END_TEST

START_TEST(test_edits_remove_only_our_authres_and_tag)
{
	struct conf *c = conf_with("authserv_id = mx.example.net\n"
	    "subject_tag = [SPAM]\n");
	struct msg *m = msg_with_headers();
	struct verdict v;
	struct hdr_edits e;

	verdict_init(&v);
	verdict_add(&v, "X", 6, NULL);
	verdict_decide(&v, c);
	verdict_header_edits(&v, m, c, &e);
	ck_assert_uint_eq(e.n, 8);
	/* ours are occurrences 3 and 1 of Authentication-Results; 2 stays */
	ck_assert_int_eq(e.v[0].op, EDIT_DELETE);
	ck_assert_uint_eq(e.v[0].index, 3);
	ck_assert_int_eq(e.v[1].op, EDIT_DELETE);
	ck_assert_uint_eq(e.v[1].index, 1);
	ck_assert_str_eq(e.v[2].name, "X-Spam-Flag");
	ck_assert_int_eq(e.v[2].op, EDIT_DELETE);
	ck_assert_int_eq(e.v[3].op, EDIT_PREPEND);
	ck_assert_str_eq(e.v[3].value, "mx.example.net; none");
	ck_assert_str_eq(e.v[4].name, "X-Spam-Flag");
	ck_assert_str_eq(e.v[4].value, "YES");
	ck_assert_str_eq(e.v[5].value, "6.0");
	ck_assert_int_eq(e.v[7].op, EDIT_CHANGE);
	ck_assert_str_eq(e.v[7].value, "[SPAM] hello");
	hdr_edits_release(&e);

	/* rejected mail is not delivered: nothing to edit */
	verdict_add(&v, "Y", 20, NULL);
	verdict_decide(&v, c);
	verdict_header_edits(&v, m, c, &e);
	ck_assert_uint_eq(e.n, 0);
	verdict_release(&v);
	msg_free(&m);
	conf_free(c);
}
END_TEST

static Suite *
verdict_suite(void)
{
	Suite *s = suite_create("verdict");
	TCase *tc = tcase_create("decide");

	tcase_add_loop_test(tc, test_verdict_thresholds, 0,
	    sizeof(threshold_cases) / sizeof(threshold_cases[0]));
	tcase_add_test(tc, test_verdict_reject_reply_names_main_cause);
	tcase_add_test(tc, test_verdict_force_priorities);
	tcase_add_test(tc, test_verdict_unscored_always_accepts);
	suite_add_tcase(s, tc);
	tc = tcase_create("format");
	tcase_add_test(tc, test_authres_text);
	tcase_add_test(tc, test_spam_status_folds_and_sorts);
	tcase_add_test(tc, test_edits_remove_only_our_authres_and_tag);
	tcase_add_test(tc, test_edits_authserv_id_trailing_dot);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(verdict_suite());
}
