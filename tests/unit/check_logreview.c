/*
 * check_logreview.c - `mailwarden log`: reader, time, top-k,
 * on hand-made logs in tests/data/logreview
 */
#include "config.h"

#include <fcntl.h>
#include <json-c/json.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "helpers.h"
#include "logread.h"
#include "str.h"
#include "topk.h"

/* lr_path - a file under tests/data/logreview (static buffer per slot) */
static char *
lr_path(const char *name)
{
	static char paths[4][4096];
	static int slot;
	char *p = paths[slot++ % 4];

	snprintf(p, sizeof(paths[0]), "%s", test_data("logreview/"));
	strncat(p, name, sizeof(paths[0]) - strlen(p) - 1);
	return p;
}

/* qid - the queue_id member of a record, or NULL */
static const char *
qid(struct json_object *o)
{
	struct json_object *v;

	return json_object_object_get_ex(o, "queue_id", &v) ?
	    json_object_get_string(v) : NULL;
}

/* read_qids - queue ids of all records of files, comma-separated */
static void
read_qids(char **files, size_t n, struct buf *out, struct logread **keep)
{
	struct logread *r = logread_open(files, n, 100);
	const struct logline *l;
	double last = -INFINITY;

	while (logread_next(r, &l)) {
		const char *q = qid(l->obj);

		if (l->has_time) {
			ck_assert_msg(l->time >= last, "time order broken at %s",
			    q ? q : "?");
			last = l->time;
		}
		if (out->len)
			buf_addc(out, ',');
		buf_adds(out, q ? q : "?");
	}
	*keep = r;
}

/* ------------------------------------------------------------------ */
/* read                                                                */
/* ------------------------------------------------------------------ */

START_TEST(test_logread_malformed_lines_counted_with_line_numbers)
{
	static const struct { unsigned line; const char *why; } want[] = {
		{ 2, "not a JSON object" }, { 4, "truncated: line ends" },
		{ 5, "not JSON" }, { 6, "not a JSON object" },
		{ 8, "nested deeper" }, { 9, "not JSON" }, { 10, "not JSON" },
		{ 13, "raw control" }, { 15, "truncated: input ends" },
	};
	char *files[] = { lr_path("malformed.log") };
	const struct logread_stats *st;
	struct buf q = BUF_INIT;
	struct logread *r;
	size_t i;

	read_qids(files, 1, &q, &r);
	st = logread_stats(r);
	ck_assert_str_eq(q.data, "M1,M3,M4,M5");
	ck_assert_uint_eq(st->lines, 15);
	ck_assert_uint_eq(st->records, 4);
	ck_assert_uint_eq(st->malformed, 9);
	ck_assert_uint_eq(st->nbad, 9);
	for (i = 0; i < 9; i++) {
		ck_assert_msg(st->bad[i].lineno == want[i].line,
		    "bad[%zu]: got line %llu, want %u", i,
		    (unsigned long long)st->bad[i].lineno, want[i].line);
		ck_assert_msg(strstr(st->bad[i].reason, want[i].why) != NULL,
		    "line %u: got '%s', want '%s'", want[i].line,
		    st->bad[i].reason, want[i].why);
	}
	ck_assert_uint_eq(st->nerrors, 0);
	logread_free(&r);
	ck_assert_ptr_null(r);
	buf_release(&q);
}
END_TEST

START_TEST(test_logread_keeps_only_first_bad_lines)
{
	char *files[] = { lr_path("malformed.log") };
	struct logread *r = logread_open(files, 1, 3);
	const struct logline *l;

	while (logread_next(r, &l))
		;
	ck_assert_uint_eq(logread_stats(r)->malformed, 9);
	ck_assert_uint_eq(logread_stats(r)->nbad, 3);
	ck_assert_uint_eq(logread_stats(r)->bad[2].lineno, 5);
	logread_free(&r);
}
END_TEST

static const struct {
	const char *name;
	const char *files[4];
	const char *want_qids;
	size_t	 errors;
	const char *error_text;
	uint64_t malformed;
} order_cases[] = {
	{ "rotated logs in any argument order come out oldest first",
	    { "rot-v.log", "rot-v.log.2.gz", "rot-v.log.1" },
	    "R1,R2,R3,R4,R5,R6,R7,R8,R9", 0, NULL, 0 },
	{ "overlapping logs are merged by time",
	    { "overlap-b.log", "overlap-a.log" },
	    "A0,B1,A2,B3,A4,B5,A6", 0, NULL, 0 },
	{ "a truncated gzip file keeps what it holds and is reported",
	    { "truncated.log.gz" },
	    "T0,T1,T2,T3,T4,T5,T6,T7,T8,T9,T10,T11,T12,T13", 1,
	    "compressed data is truncated", 1 },
	{ "a missing file is an error, the others are still read",
	    { "no-such-file.log", "rot-v.log" }, "R7,R8,R9", 1,
	    "No such file", 0 },
	{ "a directory is an error",
	    { "." }, "", 1, "is a directory", 0 },
};

START_TEST(test_logread_orders_and_reports_inputs)
{
	char *files[4];
	size_t n = 0;
	struct buf q = BUF_INIT;
	struct logread *r;
	const struct logread_stats *st;

	while (n < 4 && order_cases[_i].files[n]) {
		files[n] = xstrdup(lr_path(order_cases[_i].files[n]));
		n++;
	}
	read_qids(files, n, &q, &r);
	st = logread_stats(r);
	ck_assert_msg(strcmp(buf_cstr(&q), order_cases[_i].want_qids) == 0,
	    "%s: got %s, want %s", order_cases[_i].name, buf_cstr(&q),
	    order_cases[_i].want_qids);
	ck_assert_msg(st->nerrors == order_cases[_i].errors,
	    "%s: got %zu errors, want %zu", order_cases[_i].name, st->nerrors,
	    order_cases[_i].errors);
	if (order_cases[_i].error_text)
		ck_assert_msg(strstr(st->errors[0], order_cases[_i].error_text),
		    "%s: error '%s'", order_cases[_i].name, st->errors[0]);
	ck_assert_uint_eq(st->malformed, order_cases[_i].malformed);
	ck_assert_uint_eq(st->files, n);
	while (n > 0)
		free(files[--n]);
	logread_free(&r);
	buf_release(&q);
}
END_TEST

START_TEST(test_logread_reads_gzip_from_stdin)
{
	int fd = open(lr_path("rot-v.log.2.gz"), O_RDONLY);
	struct buf q = BUF_INIT;
	struct logread *r;

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(dup2(fd, STDIN_FILENO), STDIN_FILENO);
	close(fd);
	read_qids(NULL, 0, &q, &r);
	ck_assert_str_eq(q.data, "R1,R2,R3");
	ck_assert_uint_eq(logread_stats(r)->malformed, 0);
	ck_assert_uint_eq(logread_stats(r)->nerrors, 0);
	logread_free(&r);
	buf_release(&q);
}
END_TEST

START_TEST(test_logread_overlong_line_is_skipped_to_its_end)
{
	size_t big = LOGREAD_MAX_LINE + 500000;
	char *data = xmalloc(big + 200);
	struct logread *r;
	const struct logline *l;
	int n;

	memset(data, 'x', big);
	data[0] = '{';
	n = snprintf(data + big, 200, "\n{\"queue_id\":\"after\"}\n");
	r = logread_open_mem(data, big + (size_t)n, "mem", 10);
	ck_assert_int_eq(logread_next(r, &l), 1);
	ck_assert_str_eq(qid(l->obj), "after");
	ck_assert_uint_eq(l->lineno, 2);
	ck_assert_int_eq(logread_next(r, &l), 0);
	ck_assert_uint_eq(logread_stats(r)->malformed, 1);
	ck_assert_ptr_nonnull(strstr(logread_stats(r)->bad[0].reason,
	    "longer than"));
	logread_free(&r);
	free(data);
}
END_TEST

static const struct {
	const char *name;
	const char *text;
	size_t	 len;
	uint64_t records, malformed, no_time;
} mem_cases[] = {
	{ "empty input", "", 0, 0, 0, 0 },
	{ "only blank lines", "\n \n\t\r\n", 6, 0, 0, 0 },
	{ "NUL byte inside a line", "{\"a\":\"x\0y\"}\n{}\n", 15, 1, 1, 1 },
	{ "records without time are kept", "{}\n{\"time\":\"2026-11-18T10:00:"
	    "00Z\"}\n{\"time\":5}\n", 46, 3, 0, 2 },
	{ "last line without newline is read", "{\"a\":1}\n{\"b\":2}", 15, 2,
	    0, 2 },
	{ "a lone closing brace", "}\n{\n", 4, 0, 2, 0 },
};

START_TEST(test_logread_memory_edge_cases)
{
	struct logread *r = logread_open_mem(mem_cases[_i].text,
	    mem_cases[_i].len, "mem", 10);
	const struct logline *l;
	uint64_t n = 0;

	while (logread_next(r, &l))
		n++;
	ck_assert_msg(n == mem_cases[_i].records, "%s: got %llu records",
	    mem_cases[_i].name, (unsigned long long)n);
	ck_assert_msg(logread_stats(r)->malformed == mem_cases[_i].malformed,
	    "%s: got %llu malformed", mem_cases[_i].name,
	    (unsigned long long)logread_stats(r)->malformed);
	ck_assert_msg(logread_stats(r)->no_time == mem_cases[_i].no_time,
	    "%s: got %llu without time", mem_cases[_i].name,
	    (unsigned long long)logread_stats(r)->no_time);
	logread_free(&r);
}
END_TEST

/* ------------------------------------------------------------------ */
/* time                                                                */
/* ------------------------------------------------------------------ */

static const struct {
	const char *text;
	int	 rc;
	double	 want;
} time_cases[] = {
	{ "2026-11-18T11:06:40.250Z", 0, 1795000000.25 },
	{ "2026-11-18T13:06:40.25+02:00", 0, 1795000000.25 },
	{ "2026-11-18T10:36:40.25-00:30", 0, 1795000000.25 },
	{ "2026-11-18t11:06:40.25z", 0, 1795000000.25 },
	{ "2026-11-18 11:06:40.25Z", 0, 1795000000.25 },
	{ "2026-11-18", 0, 1794960000 },
	{ "1970-01-01T00:00:00Z", 0, 0 },
	{ "1969-12-31T23:59:59Z", 0, -1 },
	{ "2000-02-29T00:00:00Z", 0, 951782400 },
	{ "2016-12-31T23:59:60Z", 0, 1483228800 },
	{ "2100-02-29", -1, 0 },
	{ "2026-13-01", -1, 0 },
	{ "2026-11-31", -1, 0 },
	{ "2026-11-18T24:00:00Z", -1, 0 },
	{ "2026-11-18T11:06:40", -1, 0 },
	{ "2026-11-18T11:06:40.Z", -1, 0 },
	{ "2026-11-18T11:06:40+2:00", -1, 0 },
	{ "2026-11-18T11:06:40Zjunk", -1, 0 },
	{ "20261118", -1, 0 },
	{ "", -1, 0 },
};

START_TEST(test_logtime_parse_rfc3339)
{
	double t = -12345;
	int rc = logtime_parse(time_cases[_i].text, &t);

	ck_assert_msg(rc == time_cases[_i].rc, "'%s': got rc %d",
	    time_cases[_i].text, rc);
	if (rc == 0)
		ck_assert_msg(fabs(t - time_cases[_i].want) < 1e-6,
		    "'%s': got %.3f, want %.3f", time_cases[_i].text, t,
		    time_cases[_i].want);
}
END_TEST

static const struct {
	const char *text;
	int	 rc;
	double	 ago;
} age_cases[] = {
	{ "now", 0, 0 }, { "90s", 0, 90 }, { "30m", 0, 1800 },
	{ "24h", 0, 86400 }, { "7d", 0, 604800 }, { "2w", 0, 1209600 },
	{ "1h30m", 0, 5400 }, { "h", -1, 0 }, { "10x", -1, 0 },
	{ "-5h", -1, 0 }, { "5", -1, 0 }, { "1hh", -1, 0 },
	{ "99999999999w", -1, 0 }, { "", -1, 0 },
};

START_TEST(test_logtime_arg_ages)
{
	double now = 1795000000, t = 0;
	int rc = logtime_arg(age_cases[_i].text, now, &t);

	ck_assert_msg(rc == age_cases[_i].rc, "'%s': got rc %d",
	    age_cases[_i].text, rc);
	if (rc == 0)
		ck_assert_msg(t == now - age_cases[_i].ago, "'%s': got %.0f",
		    age_cases[_i].text, now - t);
}
END_TEST

/* ------------------------------------------------------------------ */
/* topk                                                                */
/* ------------------------------------------------------------------ */

START_TEST(test_topk_exact_while_it_fits)
{
	struct topk *t = topk_new(8);
	struct topk_entry **v;
	size_t n;

	topk_add(t, "b");
	topk_add(t, "a");
	topk_add(t, "c");
	topk_add(t, "c");
	topk_add(t, "a");
	topk_add(t, "c");
	v = topk_sorted(t, &n);
	ck_assert_uint_eq(n, 3);
	ck_assert_str_eq(v[0]->key, "c");
	ck_assert_uint_eq(v[0]->count, 3);
	ck_assert_str_eq(v[1]->key, "a");
	ck_assert_str_eq(v[2]->key, "b");
	ck_assert_uint_eq(v[2]->err, 0);
	ck_assert(topk_exact(t));
	ck_assert_uint_eq(topk_total(t), 6);
	free(v);
	topk_free(&t);
	ck_assert_ptr_null(t);
}
END_TEST

START_TEST(test_topk_finds_heavy_hitters_in_bounded_memory)
{
	struct topk *t = topk_new(50);
	struct topk_entry **v;
	char key[32];
	size_t n, i;
	int k;

	/* 3 heavy keys among 20000 distinct ones, interleaved */
	for (k = 0; k < 20000; k++) {
		snprintf(key, sizeof(key), "noise-%d", k);
		topk_add(t, key);
		if (k % 10 == 0)
			topk_add(t, "heavy-1");
		if (k % 20 == 0)
			topk_add(t, "heavy-2");
		if (k % 40 == 0)
			topk_add(t, "heavy-3");
	}
	ck_assert(!topk_exact(t));
	ck_assert_uint_eq(topk_distinct(t), 50);
	v = topk_sorted(t, &n);
	ck_assert_str_eq(v[0]->key, "heavy-1");
	ck_assert_str_eq(v[1]->key, "heavy-2");
	ck_assert_str_eq(v[2]->key, "heavy-3");
	/* true counts 2000, 1000, 500 lie in [count - err, count] */
	ck_assert(v[0]->count >= 2000 && v[0]->count - v[0]->err <= 2000);
	ck_assert(v[1]->count >= 1000 && v[1]->count - v[1]->err <= 1000);
	ck_assert(v[2]->count >= 500 && v[2]->count - v[2]->err <= 500);
	for (i = 1; i < n; i++)
		ck_assert(v[i - 1]->count >= v[i]->count);
	free(v);
	topk_free(&t);
}
END_TEST

START_TEST(test_topk_long_keys_are_cut_visibly)
{
	struct topk *t = topk_new(4);
	char key[TOPK_MAX_KEY + 100];
	struct topk_entry *e;

	memset(key, 'k', sizeof(key) - 1);
	key[sizeof(key) - 1] = '\0';
	/* a 2-byte UTF-8 character straddling the cut */
	key[TOPK_MAX_KEY - 1] = (char)0xc3;
	key[TOPK_MAX_KEY] = (char)0xa9;
	e = topk_add(t, key);
	ck_assert_uint_eq(strlen(e->key), TOPK_MAX_KEY - 1 + 3);
	ck_assert_str_eq(e->key + TOPK_MAX_KEY - 1, "...");
	ck_assert_ptr_eq(topk_add(t, key), e);
	ck_assert_uint_eq(e->count, 2);
	topk_free(&t);
}
END_TEST

static Suite *
logreview_suite(void)
{
	Suite *s = suite_create("logreview");
	TCase *tc;

	tc = tcase_create("read");
	tcase_add_test(tc, test_logread_malformed_lines_counted_with_line_numbers);
	tcase_add_test(tc, test_logread_keeps_only_first_bad_lines);
	tcase_add_loop_test(tc, test_logread_orders_and_reports_inputs, 0,
	    sizeof(order_cases) / sizeof(order_cases[0]));
	tcase_add_test(tc, test_logread_reads_gzip_from_stdin);
	tcase_add_test(tc, test_logread_overlong_line_is_skipped_to_its_end);
	tcase_add_loop_test(tc, test_logread_memory_edge_cases, 0,
	    sizeof(mem_cases) / sizeof(mem_cases[0]));
	suite_add_tcase(s, tc);

	tc = tcase_create("time");
	tcase_add_loop_test(tc, test_logtime_parse_rfc3339, 0,
	    sizeof(time_cases) / sizeof(time_cases[0]));
	tcase_add_loop_test(tc, test_logtime_arg_ages, 0,
	    sizeof(age_cases) / sizeof(age_cases[0]));
	suite_add_tcase(s, tc);

	tc = tcase_create("topk");
	tcase_add_test(tc, test_topk_exact_while_it_fits);
	tcase_add_test(tc, test_topk_finds_heavy_hitters_in_bounded_memory);
	tcase_add_test(tc, test_topk_long_keys_are_cut_visibly);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(logreview_suite());
}
