/*
 * check_conf.c - configuration parsing, errors with file:line, dump
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "conf.h"
#include "engine.h"
#include "files.h"
#include "helpers.h"
#include "str.h"

static int
parse(const char *text, struct conf **c, struct buf *why)
{
	buf_reset(why);
	return conf_parse(text, strlen(text), "mw.conf", c, why);
}

START_TEST(test_conf_defaults_are_documented_values)
{
	struct conf *c = conf_defaults();

	ck_assert(c->tag_score == 5.0);
	ck_assert(c->reject_score == 15.0);
	ck_assert_str_eq(c->subject_tag, "");
	ck_assert(c->trust_authenticated);
	ck_assert_uint_eq(c->max_scan_bytes, 1024 * 1024);
	conf_free(c);
}
END_TEST

START_TEST(test_conf_score_set_auto_and_fixed)
{
	struct buf why = BUF_INIT;
	struct conf *c;

	/* auto by default: no Bayes, no DNS list -> set 0 */
	ck_assert_int_eq(parse("", &c, &why), 0);
	ck_assert_int_eq(conf_score_set(c), -1);
	ck_assert_uint_eq(conf_score_set_base(c), 0);
	conf_free(c);
	ck_assert_int_eq(parse("bayes_store = /tmp/x\n", &c, &why), 0);
	ck_assert_uint_eq(conf_score_set_base(c), 2);
	conf_free(c);
	ck_assert_int_eq(parse("uribl = bl.example/127.0.0.2=U:1\n", &c,
	    &why), 0);
	ck_assert_uint_eq(conf_score_set_base(c), 1);
	conf_free(c);
	ck_assert_int_eq(parse("bayes_store = /tmp/x\ndnsbl = "
	    "bl.example/127.0.0.2=B:1\n", &c, &why), 0);
	ck_assert_uint_eq(conf_score_set_base(c), 3);
	conf_free(c);
	/* a fixed set wins over what is configured */
	ck_assert_int_eq(parse("rules_score_set = 1\nbayes_store = /tmp/x\n",
	    &c, &why), 0);
	ck_assert_int_eq(conf_score_set(c), 1);
	ck_assert_uint_eq(conf_score_set_base(c), 1);
	conf_free(c);
	ck_assert_int_eq(parse("rules_score_set = 4\n", &c, &why), -1);
	ck_assert_ptr_nonnull(strstr(why.data, "rules_score_set"));
	ck_assert_int_eq(parse("rules_score_set = automatic\n", &c, &why), -1);
	buf_release(&why);
}
END_TEST

/* rules_hyperscan: auto means the daemon only; yes and no everywhere */
START_TEST(test_conf_hyperscan_auto_yes_no)
{
	static const struct {
		const char *text;
		bool daemon, command;
	} cases[] = {
		{ "", true, false },
		{ "rules_hyperscan = auto\n", true, false },
		{ "rules_hyperscan = yes\n", true, true },
		{ "rules_hyperscan = no\n", false, false },
	};
	struct buf why = BUF_INIT;
	struct conf *c;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ck_assert_int_eq(parse(cases[i].text, &c, &why), 0);
		ck_assert(conf_hyperscan(c, true) == cases[i].daemon);
		ck_assert(conf_hyperscan(c, false) == cases[i].command);
		conf_free(c);
	}
	ck_assert_int_eq(parse("\nrules_hyperscan = true\n", &c, &why), -1);
	ck_assert_ptr_nonnull(strstr(why.data, "mw.conf:2"));
	ck_assert_ptr_nonnull(strstr(why.data, "auto, yes or no"));
	buf_release(&why);
}
END_TEST

START_TEST(test_conf_unknown_key_names_file_and_line)
{
	struct buf why = BUF_INIT;
	struct conf *c;

	ck_assert_int_eq(parse("# comment\n\ntag_score = 4\nno_such_key = 1\n",
	    &c, &why), -1);
	ck_assert_ptr_null(c);
	ck_assert_str_eq(why.data, "mw.conf:4: no_such_key: unknown key");
	buf_release(&why);
}
END_TEST

START_TEST(test_conf_bad_value_names_key_and_reason)
{
	struct buf why = BUF_INIT;
	struct conf *c;

	ck_assert_int_eq(parse("tag_score = 4\nreject_score = lots\n", &c,
	    &why), -1);
	ck_assert_msg(strstr(why.data, "mw.conf:2: reject_score: bad value "
	    "'lots'") == why.data, "got %s", why.data);
	ck_assert_int_eq(parse("max_scan_bytes = 12q\n", &c, &why), -1);
	ck_assert_ptr_nonnull(strstr(why.data, "mw.conf:1: max_scan_bytes"));
	ck_assert_int_eq(parse("trusted_networks = 10.0.0.0/8 bogus/3\n", &c,
	    &why), -1);
	ck_assert_ptr_nonnull(strstr(why.data, "bogus/3"));
	ck_assert_int_eq(parse("socket = inet:99999@127.0.0.1\n", &c, &why), -1);
	ck_assert_int_eq(parse("socket = unix:relative/path\n", &c, &why), -1);
	/* it becomes sendmail -f and From: of report mails (issue 14) */
	ck_assert_int_eq(parse("dmarc_report_email = Reports <r@x.example>\n",
	    &c, &why), -1);
	ck_assert_ptr_nonnull(strstr(why.data, "mw.conf:1: dmarc_report_email: "
	    "bad value 'Reports <r@x.example>': not a mailbox address"));
	ck_assert_int_eq(parse("dmarc_report_email = r@x.example\n", &c, &why),
	    0);
	conf_free(c);
	ck_assert_int_eq(parse("just words\n", &c, &why), -1);
	ck_assert_ptr_nonnull(strstr(why.data, "mw.conf:1: expected"));
	buf_release(&why);
}
END_TEST

START_TEST(test_conf_cross_check_thresholds)
{
	struct buf why = BUF_INIT;
	struct conf *c;

	ck_assert_int_eq(parse("tag_score = 20\n", &c, &why), -1);
	ck_assert_ptr_nonnull(strstr(why.data, "tag_score"));
	buf_release(&why);
}
END_TEST

START_TEST(test_conf_continuation_lines_and_last_wins)
{
	struct buf why = BUF_INIT;
	struct conf *c;

	ck_assert_int_eq(parse("trusted_networks = 10.0.0.0/8,\n"
	    "    192.168.0.0/16  # office\n"
	    "  [2001:db8::]/32\n"
	    "tag_score = 3\ntag_score = 4.5\n", &c, &why), 0);
	ck_assert_uint_eq(c->trusted_networks.n, 3);
	ck_assert_uint_eq(c->ntrusted, 3);
	ck_assert(c->tag_score == 4.5);
	conf_free(c);
	buf_release(&why);
}
END_TEST

START_TEST(test_conf_dump_round_trips)
{
	struct buf why = BUF_INIT, d1 = BUF_INIT, d2 = BUF_INIT;
	struct conf *c, *c2;
	char *second;

	ck_assert_int_eq(parse("tag_score = 6\nsubject_tag = [SPAM]\n"
	    "trusted_networks = 127.0.0.0/8 ::1\nmax_scan_bytes = 2M\n",
	    &c, &why), 0);
	conf_dump(c, &d1);
	ck_assert_ptr_nonnull(strstr(d1.data, "\nsubject_tag = [SPAM]\n"));
	ck_assert_ptr_nonnull(strstr(d1.data, "\nmax_scan_bytes = 2097152\n"));
	ck_assert_int_eq(conf_parse(d1.data, d1.len, "dump", &c2, &why), 0);
	conf_dump(c2, &d2);
	/* identical but for the first line naming the origin */
	second = strchr(d2.data, '\n');
	ck_assert_str_eq(strchr(d1.data, '\n'), second);
	conf_free(c);
	conf_free(c2);
	buf_release(&why);
	buf_release(&d1);
	buf_release(&d2);
}
END_TEST

START_TEST(test_conf_nul_byte_rejected)
{
	struct buf why = BUF_INIT;
	struct conf *c;

	ck_assert_int_eq(conf_parse("tag_score = 1\0x", 15, "mw.conf", &c,
	    &why), -1);
	buf_release(&why);
}
END_TEST

START_TEST(test_conf_load_missing_file)
{
	struct buf why = BUF_INIT;
	struct conf *c;

	ck_assert_int_eq(conf_load("/nonexistent/mw.conf", &c, &why), -1);
	ck_assert_ptr_nonnull(strstr(why.data, "/nonexistent/mw.conf"));
	buf_release(&why);
}
END_TEST

/* issue 14 item 5: one run reports every error, each once, in order */
START_TEST(test_conf_every_error_of_a_run)
{
	struct buf why = BUF_INIT;
	struct conf *c;

	ck_assert_int_eq(parse("tag_score = many\n"
	    "spf_fail_actoin = reject\n"
	    "just words\n"
	    "dnsbl = zen.example/127.0.0.2=ZEN ok.example/127.0.0.2=OK:1 "
	    "bad/1=X:1\n"
	    "reject_score = 20\n", &c, &why), -1);
	ck_assert_ptr_null(c);
	ck_assert_str_eq(why.data,
	    "mw.conf:1: tag_score: bad value 'many': expected a number from "
	    "-1000 to 1000\n"
	    "mw.conf:2: spf_fail_actoin: unknown key; did you mean "
	    "spf_fail_action?\n"
	    "mw.conf:3: expected 'key = value': just words\n"
	    "mw.conf:4: dnsbl: bad value 'zen.example/127.0.0.2=ZEN': "
	    "missing :SCORE\n"
	    "mw.conf:4: dnsbl: bad value 'bad/1=X:1': bad zone name 'bad'");
	buf_release(&why);
}
END_TEST

/* a cross-key error names both settings */
START_TEST(test_conf_cross_check_names_both_lines)
{
	struct buf why = BUF_INIT;
	struct conf *c;

	ck_assert_int_eq(parse("reject_score = 8\n\ntag_score = 9\n", &c,
	    &why), -1);
	ck_assert_str_eq(why.data, "mw.conf:3: tag_score: 9 must not exceed "
	    "reject_score (8, mw.conf:1)");
	buf_release(&why);
}
END_TEST

static const char *
cand_get(size_t i, void *arg)
{
	return ((const char *const *)arg)[i];
}

/* "did you mean": only one close candidate, never a far one */
START_TEST(test_conf_suggestion_only_when_close_and_unique)
{
	static const char *const keys[] = { "spf_helo", "spf_fail_action",
	    "dmarc", "dnsbl", "uribl" };
	static const char *const ties[] = { "dnsbl_lists", "dnsbl_lis" };
	struct buf why = BUF_INIT;
	struct conf *c;

	ck_assert_str_eq(str_suggest("SPF_FAILL", cand_get, 5, (void *)keys) ?
	    "x" : "", "");			/* 6 edits away */
	ck_assert_str_eq(str_suggest("spf_fial_action", cand_get, 5,
	    (void *)keys), "spf_fail_action");	/* one swap */
	ck_assert_str_eq(str_suggest("dnsb", cand_get, 5, (void *)keys),
	    "dnsbl");
	ck_assert_ptr_null(str_suggest("dnsbl_list", cand_get, 2,
	    (void *)ties));			/* one edit from both */
	ck_assert_ptr_null(str_suggest("dnsbl_urbl", cand_get, 5,
	    (void *)keys));
	ck_assert_int_eq(parse("rules_site_dri = /x\n", &c, &why), -1);
	ck_assert_str_eq(why.data, "mw.conf:1: rules_site_dri: unknown key; "
	    "did you mean rules_site_dir?");
	ck_assert_int_eq(parse("colour = blue\n", &c, &why), -1);
	ck_assert_str_eq(why.data, "mw.conf:1: colour: unknown key");
	buf_release(&why);
}
END_TEST

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

/*
 * errors in what the configuration names carry both locations, and a
 * file with errors still has its referenced files checked
 */
START_TEST(test_conf_referenced_file_errors_have_both_locations)
{
	char dir[256], conf[300], list[300];
	struct buf text = BUF_INIT, why = BUF_INIT, want = BUF_INIT;
	struct engine *e;

	test_mkdtemp(dir, sizeof(dir), "mwconf");
	snprintf(conf, sizeof(conf), "%s/mw.conf", dir);
	snprintf(list, sizeof(list), "%s/helo.list", dir);
	write_file(list, "ok.example OK\nbad.example FROB\n\n"
	    "worse.example SCORE x\n");
	/* after the hermetic start (3 lines): line 4 is the first below */
	buf_printf(&text, TEST_HERMETIC_CONF
	    "rules_dir =\nrules_site_dir = %s/no-rules\n"
	    "dns_servers = 127.0.0.1\n"
	    "client_list = %s/missing.list\nhelo_list = %s\n"
	    "max_headers = 1\n", dir, dir, list);
	write_file(conf, text.data);
	ck_assert_int_eq(engine_load(conf, &e, &why), -1);
	ck_assert_ptr_null(e);
	buf_printf(&want,
	    "%s:9: max_headers: bad value '1': expected a whole number from "
	    "10 to 100000\n"
	    "%s:7: client_list: %s/missing.list: cannot open: No such file "
	    "or directory\n"
	    "%s:8: helo_list: %s:2: unknown action 'FROB' (expected REJECT, "
	    "OK or SCORE)\n", conf, conf, dir, conf, list);
	ck_assert_msg(strncmp(why.data, want.data, want.len) == 0,
	    "got\n%s\nwant\n%s", why.data, want.data);
	buf_reset(&want);
	buf_printf(&want, "\n%s:8: helo_list: %s:4: ", conf, list);
	ck_assert_msg(strstr(why.data, want.data) != NULL, "%s", why.data);
	buf_reset(&want);
	buf_printf(&want, "\n%s:5: rules_site_dir: %s/no-rules: "
	    "No such file or directory", conf, dir);
	ck_assert_msg(strstr(why.data, want.data) != NULL, "%s", why.data);
	test_rmtree(dir);
	buf_release(&want);
	buf_release(&text);
	buf_release(&why);
}
END_TEST

/* every key is documented in the README's configuration reference */
START_TEST(test_conf_every_key_in_readme)
{
	struct buf readme = BUF_INIT, why = BUF_INIT;
	char path[4096], want[128];
	size_t i;

	snprintf(path, sizeof(path), "%s/../README.md", test_data(".."));
	ck_assert_msg(files_read(path, 4 * 1024 * 1024, &readme, &why) == 0,
	    "%s", why.data);
	for (i = 0; i < conf_key_count(); i++) {
		snprintf(want, sizeof(want), "| `%s` |", conf_key_name(i));
		ck_assert_msg(strstr(readme.data, want) != NULL,
		    "README.md does not document key %s", conf_key_name(i));
	}
	buf_release(&readme);
	buf_release(&why);
}
END_TEST

static Suite *
conf_suite(void)
{
	Suite *s = suite_create("conf");
	TCase *tc = tcase_create("parse");

	tcase_add_test(tc, test_conf_defaults_are_documented_values);
	tcase_add_test(tc, test_conf_continuation_lines_and_last_wins);
	tcase_add_test(tc, test_conf_dump_round_trips);
	suite_add_tcase(s, tc);
	tc = tcase_create("errors");
	tcase_add_test(tc, test_conf_unknown_key_names_file_and_line);
	tcase_add_test(tc, test_conf_score_set_auto_and_fixed);
	tcase_add_test(tc, test_conf_hyperscan_auto_yes_no);
	tcase_add_test(tc, test_conf_bad_value_names_key_and_reason);
	tcase_add_test(tc, test_conf_cross_check_thresholds);
	tcase_add_test(tc, test_conf_nul_byte_rejected);
	tcase_add_test(tc, test_conf_load_missing_file);
	tcase_add_test(tc, test_conf_every_key_in_readme);
	tcase_add_test(tc, test_conf_every_error_of_a_run);
	tcase_add_test(tc, test_conf_cross_check_names_both_lines);
	tcase_add_test(tc, test_conf_suggestion_only_when_close_and_unique);
	tcase_add_test(tc, test_conf_referenced_file_errors_have_both_locations);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(conf_suite());
}
