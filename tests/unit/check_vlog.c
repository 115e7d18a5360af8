/*
 * check_vlog.c - the verdict log line: golden output, hostile bytes
 */
#include "config.h"

#include <json-c/json.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "buf.h"
#include "files.h"
#include "helpers.h"
#include "msg.h"
#include "scan.h"
#include "str.h"
#include "verdict.h"
#include "vlog.h"

static const struct msg_limits lim = { 1000, 100000, 100, 10 };

static struct msg *
sample_msg(void)
{
	struct msg *m = msg_new(&lim);

	msg_set_client(m, "192.0.2.10", "mail.example.org");
	msg_set_helo(m, "mail.example.org");
	msg_set_sender(m, "<alice@example.org>");
	msg_add_rcpt(m, "<bob@example.net>");
	msg_add_rcpt(m, "<carol@example.net>");
	msg_set_queue_id(m, "4ABCD12345");
	msg_add_header(m, "From", 4, " Alice <alice@example.org>", 26);
	msg_add_header(m, "Subject", 7, " folded\r\n subject", 17);
	msg_add_header(m, "Message-ID", 10, " <1@example.org>", 16);
	msg_add_body(m, "hi\r\n", 4);
	return m;
}

START_TEST(test_vlog_line_matches_golden)
{
	struct conf *c = conf_defaults();
	struct msg *m = sample_msg();
	struct verdict v;
	struct buf line = BUF_INIT, want = BUF_INIT, why = BUF_INIT;

	scan_verdict_init(&v);
	verdict_add(&v, "LIST_SENDER_BLOCK", 6.5, "sender matches example.org");
	verdict_decide(&v, c);
	vlog_format(m, &v, 1795000000.25, &line);
	buf_addc(&line, '\n');
	if (getenv("UPDATE_GOLDENS")) {
		FILE *f = fopen(test_data("vlog/basic.json"), "w");

		fputs(line.data, f);
		fclose(f);
	}
	ck_assert_int_eq(files_read(test_data("vlog/basic.json"), 65536, &want,
	    &why), 0);
	ck_assert_str_eq(line.data, want.data);
	buf_release(&line);
	buf_release(&want);
	buf_release(&why);
	verdict_release(&v);
	msg_free(&m);
	conf_free(c);
}
END_TEST

START_TEST(test_vlog_hostile_bytes_stay_valid_json)
{
	struct conf *c = conf_defaults();
	struct msg *m = msg_new(&lim);
	struct verdict v;
	struct buf line = BUF_INIT;
	struct json_object *o, *from;
	struct json_tokener *tok;

	msg_set_sender(m, "\"quoted\\\"@example.org");
	msg_add_rcpt(m, "<\x01\x7f@example.org>");
	msg_add_header(m, "From", 4, " \xff\xfe\"}\x00 <x@y>", 12);
	msg_add_header(m, "Subject", 7, " \xed\xa0\x80 surrogate", 14);
	scan_verdict_init(&v);
	verdict_add(&v, "X", 1, "detail with \"quotes\" and \n newline");
	verdict_decide(&v, c);
	vlog_format(m, &v, 1795000000, &line);
	ck_assert(utf8_valid(line.data, line.len));
	tok = json_tokener_new();
	o = json_tokener_parse_ex(tok, line.data, (int)line.len);
	ck_assert_msg(o != NULL, "invalid JSON: %s", line.data);
	ck_assert_int_eq(json_tokener_get_parse_end(tok), line.len);
	ck_assert(json_object_object_get_ex(o, "from", &from));
	/* NUL became a space, bad bytes became U+FFFD */
	ck_assert_str_eq(json_object_get_string(from),
	    "\xef\xbf\xbd\xef\xbf\xbd\"}  <x@y>");
	json_object_put(o);
	json_tokener_free(tok);
	buf_release(&line);
	verdict_release(&v);
	msg_free(&m);
	conf_free(c);
}
END_TEST

START_TEST(test_vlog_write_and_reopen)
{
	char dir[] = "/tmp/mw-vlog-XXXXXX", path[256], moved[256];
	struct buf why = BUF_INIT, text = BUF_INIT;
	struct vlog *l;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/v.log", dir);
	snprintf(moved, sizeof(moved), "%s/v.log.1", dir);
	l = vlog_open(path, &why);
	ck_assert_ptr_nonnull(l);
	ck_assert_int_eq(vlog_write(l, "{\"a\":1}", 7), 0);
	ck_assert_int_eq(rename(path, moved), 0);
	ck_assert_int_eq(vlog_reopen(l), 0);
	ck_assert_int_eq(vlog_write(l, "{\"b\":2}", 7), 0);
	vlog_close(l);
	ck_assert_int_eq(files_read(moved, 1000, &text, &why), 0);
	ck_assert_str_eq(text.data, "{\"a\":1}\n");
	ck_assert_int_eq(files_read(path, 1000, &text, &why), 0);
	ck_assert_str_eq(text.data, "{\"b\":2}\n");
	unlink(path);
	unlink(moved);
	rmdir(dir);
	ck_assert_ptr_null(vlog_open("/nonexistent-dir/v.log", &why));
	ck_assert_ptr_nonnull(strstr(why.data, "/nonexistent-dir/v.log"));
	buf_release(&why);
	buf_release(&text);
}
END_TEST

/*
 * A file size limit makes write(2) stop part-way through a line (and
 * then fail with EFBIG), as a full disk does: the partial line must be
 * cut off, and writing must resume when there is room again.
 */
START_TEST(test_vlog_full_disk_leaves_no_partial_line)
{
	char dir[] = "/tmp/mw-vlog-XXXXXX", path[256];
	static const char line[] = "{\"n\":\"0123456789012345678901234567\"}";
	struct buf why = BUF_INIT, text = BUF_INIT;
	struct rlimit rl;
	struct vlog *l;
	size_t len = sizeof(line) - 1;	/* 37 + newline = 38 bytes */

	signal(SIGXFSZ, SIG_IGN);
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/v.log", dir);
	ck_assert_ptr_nonnull(l = vlog_open(path, &why));
	ck_assert_int_eq(getrlimit(RLIMIT_FSIZE, &rl), 0);
	rl.rlim_cur = 100;		/* two lines and part of a third */
	ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &rl), 0);
	ck_assert_int_eq(vlog_write(l, line, len), 0);
	ck_assert_int_eq(vlog_write(l, line, len), 0);
	ck_assert_int_eq(vlog_write(l, line, len), -1);
	ck_assert_int_eq(vlog_write(l, line, len), -1);
	ck_assert_int_eq(files_read(path, 1000, &text, &why), 0);
	ck_assert_uint_eq(text.len, 2 * (len + 1));
	rl.rlim_cur = rl.rlim_max;
	ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &rl), 0);
	ck_assert_int_eq(vlog_write(l, line, len), 0);
	vlog_close(l);
	ck_assert_int_eq(files_read(path, 1000, &text, &why), 0);
	ck_assert_uint_eq(text.len, 3 * (len + 1));
	ck_assert_int_eq(text.data[text.len - 1], '\n');
	ck_assert_int_eq(text.data[2 * (len + 1)], '{');
	unlink(path);
	rmdir(dir);
	buf_release(&why);
	buf_release(&text);
}
END_TEST

static Suite *
vlog_suite(void)
{
	Suite *s = suite_create("vlog");
	TCase *tc = tcase_create("format");

	tcase_add_test(tc, test_vlog_line_matches_golden);
	tcase_add_test(tc, test_vlog_hostile_bytes_stay_valid_json);
	tcase_add_test(tc, test_vlog_write_and_reopen);
	tcase_add_test(tc, test_vlog_full_disk_leaves_no_partial_line);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(vlog_suite());
}
