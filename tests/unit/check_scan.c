/*
 * check_scan.c - the pipeline end to end over in-memory messages
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "helpers.h"
#include "scan.h"
#include "strmap.h"

static const char plain[] = "From: a@example.org\r\nTo: b@example.net\r\n"
    "Subject: hi\r\nMessage-ID: <x@example.org>\r\n\r\nhello\r\n";

static struct engine *
list_engine(const char *extra)
{
	char *dir = xstrdup(test_data("lists"));
	struct engine *e;
	struct buf text = BUF_INIT;

	/* test_data() returns a static buffer: copied above */
	buf_printf(&text,
	    "client_list = %s/client.list\nsender_list = %s/sender.list\n"
	    "helo_list = %s/helo.list\n"
	    "trusted_networks = 10.0.0.0/8\nsubject_tag = [SPAM]\n%s",
	    dir, dir, dir, extra);
	e = test_engine(text.data);
	buf_release(&text);
	free(dir);
	return e;
}

static const struct {
	const char *name;
	const char *ip, *helo, *from;
	enum action want;
	const char *symbol;
} cases[] = {
	{ "clean", "192.0.2.1", "mx.example.org", "a@example.org",
	  ACTION_ACCEPT, NULL },
	{ "blocked client", "192.0.2.66", "mx.example.org", "a@example.org",
	  ACTION_REJECT, "LIST_CLIENT_BLOCK" },
	{ "blocked v6 client", "2001:db8:bad::25", "x", "a@example.org",
	  ACTION_REJECT, "LIST_CLIENT_BLOCK" },
	{ "scored range tags", "198.51.100.9", "mx.example.org",
	  "a@example.org", ACTION_TAG, "LIST_CLIENT_BLOCK" },
	{ "scored sender + range reject", "198.51.100.9", "x",
	  "x@promo.example", ACTION_REJECT, "LIST_SENDER_BLOCK" },
	{ "sender subdomain blocked", "192.0.2.1", "x",
	  "x@mx.spammer.example", ACTION_REJECT, "LIST_SENDER_BLOCK" },
	{ "allowlisted sender wins over score", "198.51.100.9", "x",
	  "friend@partner.example", ACTION_ACCEPT, "LIST_SENDER_ALLOW" },
	{ "blocklist REJECT beats allowlist", "192.0.2.66", "x",
	  "friend@partner.example", ACTION_REJECT, "LIST_CLIENT_BLOCK" },
	{ "helo scored", "192.0.2.1", "h1.dynamic.example", "a@example.org",
	  ACTION_ACCEPT, "LIST_HELO_BLOCK" },
	{ "trusted network not scored", "10.1.2.3", "x", "x@promo.example",
	  ACTION_ACCEPT, NULL },
};

START_TEST(test_scan_lists_to_actions)
{
	struct engine *e = list_engine("");
	struct msg *m;
	struct scan *s = test_scan_text(e, cases[_i].ip, cases[_i].helo,
	    cases[_i].from, "b@example.net", plain, sizeof(plain) - 1, &m);

	ck_assert_msg(s->verdict.action == cases[_i].want, "%s: got %s",
	    cases[_i].name, action_name(s->verdict.action));
	if (cases[_i].symbol)
		ck_assert_msg(verdict_symbol(&s->verdict, cases[_i].symbol),
		    "%s: no %s", cases[_i].name, cases[_i].symbol);
	scan_free(&s);
	msg_free(&m);
	engine_unref(e);
}
END_TEST

START_TEST(test_scan_reject_reply_carries_list_text)
{
	struct engine *e = list_engine("");
	struct msg *m;
	struct scan *s = test_scan_text(e, "192.0.2.66", "x", "a@b.example",
	    NULL, plain, sizeof(plain) - 1, &m);

	ck_assert_str_eq(s->verdict.smtp_code, "550");
	ck_assert_str_eq(s->verdict.reply_text,
	    "Your network is blocked (test)");
	scan_free(&s);
	msg_free(&m);
	engine_unref(e);
}
END_TEST

START_TEST(test_scan_oversized_body_is_scanned_in_part)
{
	struct engine *e = list_engine("max_scan_bytes = 2k\n");
	struct buf text = BUF_INIT, line = BUF_INIT;
	struct msg *m;
	struct scan *s;
	int i;

	buf_adds(&text, "Subject: big\r\n\r\n");
	for (i = 0; i < 1000; i++)
		buf_adds(&text, "0123456789012345678901234567890123456789\r\n");
	s = test_scan_text(e, "192.0.2.1", "x", "a@example.org", NULL,
	    text.data, text.len, &m);
	ck_assert(verdict_symbol(&s->verdict, "SCAN_TRUNCATED"));
	ck_assert_uint_eq(m->body.len, 2048);
	ck_assert_uint_eq(m->body_size, 42000);
	scan_log_line(s, &line);
	ck_assert_ptr_nonnull(strstr(line.data, "\"truncated\":true"));
	ck_assert_ptr_nonnull(strstr(line.data, "\"size\":42016"));
	scan_free(&s);
	msg_free(&m);
	buf_release(&text);
	buf_release(&line);
	engine_unref(e);
}
END_TEST

START_TEST(test_scan_score_override_by_name)
{
	struct engine *e = list_engine("");
	static double big = 9;
	struct msg *m;
	struct scan *s;
	/* a From field: without one DMARC_FROM_MISSING would reject */
	static const char nul[] = "From: a@example.org\r\nX-Bad: a\0b\r\n"
	    "\r\nbody\r\n";

	strmap_put(e->scores, "HEADER_NUL", &big);
	s = test_scan_text(e, "192.0.2.1", "x", "a@example.org", NULL, nul,
	    sizeof(nul) - 1, &m);
	ck_assert(verdict_symbol(&s->verdict, "HEADER_NUL")->score == 9);
	ck_assert_int_eq(s->verdict.action, ACTION_TAG);
	scan_free(&s);
	msg_free(&m);
	strmap_put(e->scores, "HEADER_NUL", NULL);
	engine_unref(e);
}
END_TEST

/*
 * MIME conditions are content findings: scored when some content check
 * (rules, blocklists, Bayes) reads the decoded message, and the message
 * is not decoded at all in an authentication-only setup.
 */
/* mime_no_boundary - does the broken message get MIME_NO_BOUNDARY? */
static bool
mime_no_boundary(const char *conf_text)
{
	static const char broken[] = "From: a@example.org\r\n"
	    "Content-Type: multipart/mixed\r\n\r\nno boundary\r\n";
	struct engine *e = test_engine(conf_text);
	struct msg *m;
	struct scan *s;
	bool found;

	s = test_scan_text(e, "192.0.2.1", "x", "a@example.org", NULL, broken,
	    sizeof(broken) - 1, &m);
	found = verdict_symbol(&s->verdict, "MIME_NO_BOUNDARY") != NULL;
	scan_free(&s);
	msg_free(&m);
	engine_unref(e);
	return found;
}

START_TEST(test_scan_mime_symbols_only_with_content_checks)
{
	char dir[256], path[320];
	struct buf text = BUF_INIT;
	FILE *fp;

	ck_assert(!mime_no_boundary("rules_dir =\n"));

	test_mkdtemp(dir, sizeof(dir), "mw-scan-rules");
	snprintf(path, sizeof(path), "%s/10_t.cf", dir);
	ck_assert_ptr_nonnull(fp = fopen(path, "w"));
	fputs("body T_NEVER /xyzzy-never/\n", fp);
	ck_assert_int_eq(fclose(fp), 0);
	buf_printf(&text, "rules_dir = %s\nrules_site_dir =\n", dir);
	ck_assert(mime_no_boundary(text.data));
	buf_release(&text);
	test_rmtree(dir);
}
END_TEST

static Suite *
scan_suite(void)
{
	Suite *s = suite_create("scan");
	TCase *tc = tcase_create("pipeline");

	tcase_add_loop_test(tc, test_scan_lists_to_actions, 0,
	    sizeof(cases) / sizeof(cases[0]));
	tcase_add_test(tc, test_scan_reject_reply_carries_list_text);
	tcase_add_test(tc, test_scan_oversized_body_is_scanned_in_part);
	tcase_add_test(tc, test_scan_score_override_by_name);
	tcase_add_test(tc, test_scan_mime_symbols_only_with_content_checks);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(scan_suite());
}
