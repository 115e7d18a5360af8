/*
 * check_logreview.c - `mailwarden log`: reader, time, filters, top-k,
 * summary, explain, HTML report, on hand-made logs in tests/data/logreview
 */
#include "config.h"

#include <fcntl.h>
#include <json-c/json.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "helpers.h"
#include "logread.h"
#include "logreview.h"
#include "outfile.h"
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

/* read_qids - queue ids of all records of files, comma-separated */
static void
read_qids(char **files, size_t n, struct buf *out, struct logread **keep)
{
	struct logread *r = logread_open(files, n, 100);
	const struct logline *l;
	double last = -INFINITY;

	while (logread_next(r, &l)) {
		const char *q = lr_jstr(l->obj, "queue_id");

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
	ck_assert_str_eq(lr_jstr(l->obj, "queue_id"), "after");
	ck_assert_uint_eq(l->lineno, 2);
	ck_assert_int_eq(logread_next(r, &l), 0);
	ck_assert_uint_eq(logread_stats(r)->malformed, 1);
	ck_assert_ptr_nonnull(strstr(logread_stats(r)->bad[0].reason,
	    "longer than"));
	logread_free(&r);
	free(data);
}
END_TEST

static bool
has_text(const char *line, size_t len, void *arg)
{
	return memmem(line, len, arg, strlen(arg)) != NULL;
}

START_TEST(test_logread_prefilter_skips_lines_unparsed)
{
	char *files[] = { lr_path("malformed.log") };
	struct logread *r = logread_open(files, 1, 10);
	const struct logline *l;
	int n = 0;

	logread_set_prefilter(r, has_text, "M3");
	while (logread_next(r, &l))
		n++;
	ck_assert_int_eq(n, 1);
	/* 13 lines that are not blank, one of them a candidate */
	ck_assert_uint_eq(logread_stats(r)->skipped, 12);
	ck_assert_uint_eq(logread_stats(r)->malformed, 0);
	ck_assert_uint_eq(logread_stats(r)->records, 1);
	logread_free(&r);
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
/* filter                                                              */
/* ------------------------------------------------------------------ */

struct fval {
	enum lr_fkey key;
	const char *value;
};

static const struct {
	const char *name;
	struct fval f[3];
	const char *want;
} filter_cases[] = {
	{ "action reject", { { LR_F_ACTION, "reject" } }, "Q3,Q4,Q8" },
	{ "two actions", { { LR_F_ACTION, "tag,TEMPFAIL" } }, "Q2,Q5" },
	{ "symbol exact", { { LR_F_SYMBOL, "RBL_ZEN" } }, "Q3,Q4" },
	{ "symbol glob any case", { { LR_F_SYMBOL, "bayes_9*" } },
	    "Q2,Q3,Q4" },
	{ "sender domain", { { LR_F_SENDER, "spam.example" } }, "Q3,Q4" },
	{ "sender domain takes subdomains", { { LR_F_SENDER, "Example.ORG" } },
	    "Q1,Q2,Q7" },
	{ "From: domain", { { LR_F_SENDER, "bank.example" } }, "Q3" },
	{ "sender address", { { LR_F_SENDER, "<ALICE@example.org>" } },
	    "Q1" },
	{ "ip cidr", { { LR_F_IP, "203.0.113.0/24" } }, "Q3,Q4" },
	{ "ip v6 cidr", { { LR_F_IP, "2001:db8::/32" } }, "Q5" },
	{ "ip exact", { { LR_F_IP, "192.0.2.1" } }, "Q1" },
	{ "two ips", { { LR_F_IP, "192.0.2.1" }, { LR_F_IP, "192.0.2.7" } },
	    "Q1,Q7" },
	{ "rcpt address", { { LR_F_RCPT, "carol@example.net" } }, "Q3,Q4" },
	{ "rcpt domain", { { LR_F_RCPT, "example.net" } },
	    "Q1,Q2,Q3,Q4,Q5,Q7,Q8" },
	{ "rcpt subdomain", { { LR_F_RCPT, "sub.example.net" } }, "Q2" },
	{ "queue id any case", { { LR_F_QUEUE_ID, "q5" } }, "Q5" },
	{ "message-id with <>", { { LR_F_MESSAGE_ID, "<m3@spam.example>" } },
	    "Q3" },
	{ "message-id bare", { { LR_F_MESSAGE_ID, "m3@spam.example" } },
	    "Q3" },
	{ "score min", { { LR_F_SCORE_MIN, "15" } }, "Q3,Q4,Q8" },
	{ "score max", { { LR_F_SCORE_MAX, "0" } }, "Q1,Q5,Q6,Q7" },
	{ "score range", { { LR_F_SCORE_MIN, "0" }, { LR_F_SCORE_MAX, "6" } },
	    "Q2,Q5,Q6" },
	{ "since", { { LR_F_SINCE, "2026-11-18T12:00:00Z" } },
	    "Q5,Q6,Q7,Q8" },
	{ "until", { { LR_F_UNTIL, "2026-11-18T11:00:00Z" } }, "Q1,Q2" },
	{ "since an age", { { LR_F_SINCE, "24h" } }, "Q7,Q8" },
	{ "criteria combine", { { LR_F_ACTION, "reject" },
	    { LR_F_IP, "203.0.113.7" }, { LR_F_SYMBOL, "LOCAL_*" } }, "Q4" },
	{ "nothing matches", { { LR_F_QUEUE_ID, "nope" } }, "" },
	{ "arc pass", { { LR_F_ARC, "pass" } }, "Q7" },
	{ "arc absent and accepted", { { LR_F_ARC, "absent" },
	    { LR_F_ACTION, "accept" } }, "Q1,Q6" },
};

/* 2026-11-19T12:30:00Z: "24h" means since 2026-11-18T12:30:00Z */
#define FILTER_NOW	1795091400.0

/* filter_run - the queue ids of a file's records that pass f[0..3) */
static void
filter_run(const char *file, const char *name, const struct fval *fv,
    const char *want)
{
	char *files[] = { lr_path(file) };
	struct logread *r = logread_open(files, 1, 10);
	const struct logline *l;
	struct lr_filter f;
	struct logrec rec;
	struct buf got = BUF_INIT, why = BUF_INIT;
	size_t i;

	lr_filter_init(&f);
	for (i = 0; i < 3 && fv[i].value; i++)
		ck_assert_msg(lr_filter_add(&f, fv[i].key, fv[i].value,
		    FILTER_NOW, &why) == 0, "%s: %s", name, buf_cstr(&why));
	ck_assert(lr_filter_any(&f));
	while (logread_next(r, &l)) {
		logrec_from(&rec, l);
		if (!lr_filter_match(&f, &rec))
			continue;
		/* the prefilter must never rule out a match */
		ck_assert_msg(lr_filter_may_match(&f, l->text, l->len),
		    "%s: prefilter dropped %s", name, rec.queue_id);
		if (got.len)
			buf_addc(&got, ',');
		buf_adds(&got, rec.queue_id);
	}
	ck_assert_msg(strcmp(buf_cstr(&got), want) == 0,
	    "%s: got '%s', want '%s'", name, buf_cstr(&got), want);
	lr_filter_release(&f);
	logread_free(&r);
	buf_release(&got);
	buf_release(&why);
}

START_TEST(test_filter_selects_records)
{
	filter_run("mixed.log", filter_cases[_i].name, filter_cases[_i].f,
	    filter_cases[_i].want);
}
END_TEST

static const struct {
	enum lr_fkey key;
	const char *value, *line;
	bool	 want;
} prefilter_cases[] = {
	{ LR_F_QUEUE_ID, "abc", "{\"queue_id\":\"ABC\"}", true },
	{ LR_F_QUEUE_ID, "abc", "{\"queue_id\":\"XYZ\"}", false },
	/* an escape can hide any character: always a candidate */
	{ LR_F_QUEUE_ID, "abc", "{\"queue_id\":\"\\u0041BC\"}", true },
	{ LR_F_SENDER, "a.b", "{\"x\":\"a\\/b\"}", true },
	/* anchored on a caseless byte, at either end of the line */
	{ LR_F_QUEUE_ID, "ab1", "AB1", true },
	{ LR_F_QUEUE_ID, "ab1", "xxAB1", true },
	{ LR_F_QUEUE_ID, "1ab", "1ABxx", true },
	{ LR_F_QUEUE_ID, "ab1", "AB", false },
	{ LR_F_QUEUE_ID, "ab1", "b1ab1", true },
	{ LR_F_QUEUE_ID, "ab1", "ab2ab", false },
	{ LR_F_IP, "203.0.113.0/24", "\"ip\":\"203.0.113.9\"", true },
	{ LR_F_IP, "203.0.113.0/24", "\"ip\":\"203.0.114.9\"", false },
	{ LR_F_IP, "203.0.113.0/24", "\"::ffff:203.0.113.9\"", true },
	/* IPv6 and short prefixes have no literal form */
	{ LR_F_IP, "2001:db8::/32", "{}", true },
	{ LR_F_IP, "10.0.0.0/7", "{}", true },
	/* patterns and non-ASCII values cannot be looked for literally */
	{ LR_F_SYMBOL, "X*", "{}", true },
	{ LR_F_SYMBOL, "XY", "{}", false },
	{ LR_F_SENDER, "b\xc3\xa9.example", "{}", true },
};

START_TEST(test_filter_prefilter_rules_out_only_non_matches)
{
	struct lr_filter f;
	struct buf why = BUF_INIT;

	lr_filter_init(&f);
	ck_assert_int_eq(lr_filter_add(&f, prefilter_cases[_i].key,
	    prefilter_cases[_i].value, 0, &why), 0);
	ck_assert_msg(lr_filter_may_match(&f, prefilter_cases[_i].line,
	    strlen(prefilter_cases[_i].line)) == prefilter_cases[_i].want,
	    "%s in %s: want %d", prefilter_cases[_i].value,
	    prefilter_cases[_i].line, prefilter_cases[_i].want);
	lr_filter_release(&f);
	buf_release(&why);
}
END_TEST

static const struct fval bad_filters[] = {
	{ LR_F_ACTION, "discard" }, { LR_F_ACTION, "reject,,bogus" },
	{ LR_F_IP, "300.1.1.1" }, { LR_F_IP, "192.0.2.0/33" },
	{ LR_F_SCORE_MIN, "abc" }, { LR_F_SCORE_MAX, "1e999" },
	{ LR_F_SINCE, "yesterday" }, { LR_F_UNTIL, "2026-02-30" },
	{ LR_F_SENDER, "<>" },
};

START_TEST(test_filter_rejects_bad_values)
{
	struct lr_filter f;
	struct buf why = BUF_INIT;

	lr_filter_init(&f);
	ck_assert_int_eq(lr_filter_add(&f, bad_filters[_i].key,
	    bad_filters[_i].value, 0, &why), -1);
	ck_assert_uint_gt(why.len, 0);
	lr_filter_release(&f);
	buf_release(&why);
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

/* ------------------------------------------------------------------ */
/* summary                                                             */
/* ------------------------------------------------------------------ */

/* summary_of - every record of r in a new summary */
static struct lr_summary *
summary_of(struct logread *r, size_t keep_rejects)
{
	struct lr_summary *s = lr_summary_new(keep_rejects);
	const struct logline *l;
	struct logrec rec;

	while (logread_next(r, &l)) {
		logrec_from(&rec, l);
		lr_summary_add(s, &rec);
	}
	return s;
}

static struct lr_summary *
summarize(const char *name, size_t keep_rejects, struct logread **rp)
{
	char *files[] = { lr_path(name) };

	*rp = logread_open(files, 1, 10);
	return summary_of(*rp, keep_rejects);
}

static const struct topk_entry *
entry(const struct topk *t, const char *key)
{
	static struct topk_entry copy;
	struct topk_entry **v;
	size_t n, i;

	v = topk_sorted(t, &n);
	for (i = 0; i < n && strcmp(v[i]->key, key) != 0; i++)
		;
	ck_assert_msg(i < n, "no entry %s", key);
	copy = *v[i];
	free(v);
	return &copy;
}

START_TEST(test_summary_counts_mixed_log)
{
	struct logread *r;
	struct lr_summary *s = summarize("mixed.log", 10, &r);
	static const uint64_t want_auth[LR_NCHECKS][LR_NAUTH] = {
		/* pass fail soft neut none temp perm pol other absent */
		{ 2, 1, 1, 0, 3, 1, 0, 0, 0, 0 },
		{ 3, 1, 0, 0, 3, 1, 0, 0, 0, 0 },
		{ 3, 1, 0, 0, 3, 1, 0, 0, 0, 0 },
		{ 1, 0, 0, 0, 0, 0, 0, 0, 0, 7 },	/* ARC: Q7 only */
	};
	const struct topk_entry *e;
	size_t j, a;

	ck_assert_uint_eq(s->n, 8);
	ck_assert_uint_eq(s->action[LR_ACCEPT], 3);
	ck_assert_uint_eq(s->action[LR_TAG], 1);
	ck_assert_uint_eq(s->action[LR_REJECT], 3);
	ck_assert_uint_eq(s->action[LR_TEMPFAIL], 1);
	for (j = 0; j < LR_NCHECKS; j++)
		for (a = 0; a < LR_NAUTH; a++)
			ck_assert_msg(s->auth[j][a] == want_auth[j][a],
			    "%s %s: got %llu, want %llu", lr_check_name(j),
			    lr_auth_name(a), (unsigned long long)s->auth[j][a],
			    (unsigned long long)want_auth[j][a]);
	ck_assert_uint_eq(s->dns_degraded, 1);
	ck_assert_uint_eq(s->scored, 8);
	/* -2.2 falls in [-3,-2), 0 twice in [0,1), 15 in [15,16) */
	ck_assert_uint_eq(s->score_bins[-3 - LR_SCORE_LO + 1], 1);
	ck_assert_uint_eq(s->score_bins[0 - LR_SCORE_LO + 1], 2);
	ck_assert_uint_eq(s->score_bins[15 - LR_SCORE_LO + 1], 1);
	ck_assert(s->has_thresholds && s->tag == 5 && s->reject == 15);
	ck_assert_double_eq_tol(s->lat_sum / (double)s->lat_n, 146.25, 1e-9);
	ck_assert_double_eq(lr_latency_pct(s, 95), 1000);
	ck_assert_double_eq_tol(s->first, 1794996000, 1e-6);
	ck_assert_double_eq_tol(s->last - s->first, 3.5 * 3600, 1e-6);

	e = entry(s->symbols, "RBL_ZEN");
	ck_assert_uint_eq(e->count, 2);
	ck_assert_uint_eq(e->aux[1], 2);
	ck_assert_double_eq(e->last, 8);
	e = entry(s->symbols, "BAYES_95");
	ck_assert_uint_eq(e->aux[0], 1);
	ck_assert_uint_eq(e->aux[1], 0);
	ck_assert_uint_eq(entry(s->reject_ips, "203.0.113.7")->count, 2);
	ck_assert_uint_eq(entry(s->reject_ips, "198.51.100.9")->count, 1);
	ck_assert_uint_eq(entry(s->reject_domains, "spam.example")->count, 2);

	/* newest reject first, with its story */
	ck_assert_uint_eq(s->rejects.n, 3);
	ck_assert_str_eq(lr_reject_at(s, 0)->queue_id, "Q8");
	ck_assert_str_eq(lr_reject_at(s, 2)->queue_id, "Q3");
	ck_assert_ptr_null(lr_reject_at(s, 3));
	ck_assert_ptr_nonnull(strstr(lr_reject_at(s, 2)->explain,
	    "DMARC policy of bank.example"));
	ck_assert_str_eq(lr_reject_at(s, 2)->symbols,
	    "RBL_ZEN(+8) DMARC_REJECT(+6) BAYES_99(+6)");
	lr_summary_free(&s);
	logread_free(&r);
}
END_TEST

/* the ARC object: result, oldest-pass, sealers; the DMARC override */
START_TEST(test_summary_reads_arc_and_overrides)
{
	struct logread *r;
	struct lr_summary *s = summarize("arc.log", 10, &r);
	char *files[] = { lr_path("arc.log") };
	struct logread *rd = logread_open(files, 1, 10);
	const struct logline *l;
	struct logrec rec;
	struct buf out = BUF_INIT;

	ck_assert_uint_eq(s->n, 4);
	ck_assert_uint_eq(s->auth[LR_ARC][LR_AUTH_PASS], 1);
	ck_assert_uint_eq(s->auth[LR_ARC][LR_AUTH_FAIL], 1);
	ck_assert_uint_eq(s->auth[LR_ARC][LR_AUTH_NONE], 1);
	ck_assert_uint_eq(s->auth[LR_ARC][LR_AUTH_ABSENT], 1);
	ck_assert_uint_eq(s->forwarded, 1);
	ck_assert_str_eq(lr_check_name(LR_ARC), "ARC");
	ck_assert_str_eq(lr_check_key(LR_ARC), "arc");
	lr_summary_text(s, logread_stats(r), 0, 10, &out);
	ck_assert_ptr_nonnull(strstr(buf_cstr(&out), "1 DMARC failure(s) let "
	    "through from a trusted forwarder"));
	ck_assert(logread_next(rd, &l));
	logrec_from(&rec, l);
	ck_assert_int_eq(rec.arc_oldest_pass, 2);
	ck_assert_uint_eq(json_object_array_length(rec.arc_sealers), 2);
	ck_assert_str_eq(rec.dmarc_override, "trusted_forwarder");
	ck_assert(logread_next(rd, &l));
	logrec_from(&rec, l);
	ck_assert_int_eq(rec.auth[LR_ARC], LR_AUTH_FAIL);
	ck_assert_int_eq(rec.arc_oldest_pass, -1);
	ck_assert_ptr_null(rec.dmarc_override);
	buf_release(&out);
	lr_summary_free(&s);
	logread_free(&r);
	logread_free(&rd);
}
END_TEST

START_TEST(test_summary_reject_ring_keeps_latest)
{
	struct logread *r;
	struct lr_summary *s = summarize("mixed.log", 2, &r);

	ck_assert_uint_eq(s->rejects.n, 2);
	ck_assert_str_eq(lr_reject_at(s, 0)->queue_id, "Q8");
	ck_assert_str_eq(lr_reject_at(s, 1)->queue_id, "Q4");
	lr_summary_free(&s);
	logread_free(&r);
}
END_TEST

START_TEST(test_summary_tolerates_missing_and_mistyped_fields)
{
	struct logread *r;
	struct lr_summary *s = summarize("missing.log", 10, &r);
	struct buf out = BUF_INIT;

	ck_assert_uint_eq(logread_stats(r)->malformed, 0);
	ck_assert_uint_eq(s->n, 10);
	/* "ACCEPT" counts, 5 / "discard" / absent are other */
	ck_assert_uint_eq(s->action[LR_ACCEPT], 1);
	ck_assert_uint_eq(s->action[LR_OTHER], 5);
	/* non-numbers, NaN and 1e999 are no score */
	ck_assert_uint_eq(s->scored, 0);
	ck_assert_uint_eq(s->lat_n, 0);
	/* a dkim object instead of a list still counts */
	ck_assert_uint_eq(s->auth[LR_DKIM][LR_AUTH_PASS], 1);
	ck_assert_uint_eq(s->auth[LR_SPF][LR_AUTH_ABSENT], 10);
	ck_assert_uint_eq(entry(s->symbols, "Y")->count, 1);
	lr_summary_text(s, logread_stats(r), 0, 10, &out);
	ck_assert_ptr_nonnull(strstr(out.data, "Messages 10"));
	ck_assert_ptr_nonnull(strstr(out.data, "no scored messages"));
	buf_release(&out);
	lr_summary_free(&s);
	logread_free(&r);
}
END_TEST

START_TEST(test_summary_p95_within_two_percent)
{
	struct lr_summary *s = lr_summary_new(0);
	struct logrec rec;
	int i;

	memset(&rec, 0, sizeof(rec));
	rec.has_elapsed = true;
	rec.action = LR_ACCEPT;
	for (i = 1000; i >= 1; i--) {
		rec.elapsed_ms = i;
		lr_summary_add(s, &rec);
	}
	ck_assert_double_eq_tol(s->lat_sum / (double)s->lat_n, 500.5, 1e-9);
	ck_assert(lr_latency_pct(s, 95) >= 950);
	ck_assert(lr_latency_pct(s, 95) <= 950 * LR_LAT_RATIO);
	ck_assert(lr_latency_pct(s, 50) >= 500);
	ck_assert(lr_latency_pct(s, 50) <= 500 * LR_LAT_RATIO);
	ck_assert_double_eq(lr_latency_pct(s, 100), 1000);
	lr_summary_free(&s);
}
END_TEST

START_TEST(test_summary_series_widens_and_keeps_counts)
{
	struct lr_summary *s = lr_summary_new(0);
	const struct lr_series *se = &s->series;
	struct logrec rec;
	uint64_t sum = 0;
	size_t i;
	int h;

	memset(&rec, 0, sizeof(rec));
	rec.has_time = true;
	rec.action = LR_REJECT;
	rec.auth[LR_SPF] = LR_AUTH_PASS;
	/* 30 days, one message an hour, then one 3 days before the start */
	for (h = 0; h < 30 * 24; h++) {
		rec.time = 1794960000.0 + h * 3600.0 + 59;
		lr_summary_add(s, &rec);
	}
	rec.time = 1794960000.0 - 3 * 86400.0;
	lr_summary_add(s, &rec);
	for (i = 0; i < LR_SERIES_N; i++) {
		sum += se->b[i].n;
		ck_assert_uint_eq(se->b[i].n, se->b[i].action[LR_REJECT]);
		ck_assert_uint_eq(se->b[i].pass[LR_SPF], se->b[i].n);
	}
	ck_assert_uint_eq(sum, 30 * 24 + 1);
	/* 792 hours need 199 buckets of 4 hours: 8 */
	ck_assert_int_eq(se->width, 8);
	ck_assert(lr_series_start(se, 0) <= 1794960000.0 - 3 * 86400.0);
	ck_assert(lr_series_start(se, LR_SERIES_N - 1) + se->width * 3600.0 >
	    1794960000.0 + 30 * 86400.0);
	ck_assert_uint_gt(lr_series_used(se), 0);
	lr_summary_free(&s);
}
END_TEST

/* ------------------------------------------------------------------ */
/* explain                                                             */
/* ------------------------------------------------------------------ */

static char *
explain_of(const char *file, const char *qid)
{
	char *files[] = { lr_path(file) };
	struct logread *r = logread_open(files, 1, 10);
	const struct logline *l;
	struct logrec rec;
	struct buf out = BUF_INIT;

	while (logread_next(r, &l)) {
		logrec_from(&rec, l);
		if (rec.queue_id && strcmp(rec.queue_id, qid) == 0)
			lr_explain(&rec, &out);
	}
	logread_free(&r);
	ck_assert_msg(out.len > 0, "no record %s in %s", qid, file);
	return buf_steal(&out);
}

static const struct {
	const char *file, *qid;
	const char *want[8];
} explain_cases[] = {
	{ "mixed.log", "Q3", {
	    "Message Q3: reject, score 20.00",
	    "Matched mechanism: -all",
	    "Signature 1 of 1: fail (the signature did not verify)",
	    "Reason: signature did not verify",
	    "Record source: _dmarc.bank.example",
	    "Forced by DMARC_POLICY_REJECT",
	    "SMTP reply: 550 5.7.1 DMARC policy of bank.example says reject",
	    "\"verify\" 0.990" } },
	{ "mixed.log", "Q2", {
	    "Signature 1 of 2: fail", "Signature 2 of 2: pass",
	    "For the message: pass",
	    "at or above the tag threshold 5.00 and below the reject",
	    "+4.00  BAYES_95: probability 0.96",
	    "RCPT TO: <bob@example.net>, <dave@sub.example.net>" } },
	{ "mixed.log", "Q5", {
	    "Result: temperror (a temporary DNS error stopped the check)",
	    "Forced by DNS_TEMPFAIL", "451 4.7.1", "DNS was degraded",
	    "key query timed out" } },
	{ "mixed.log", "Q6", {
	    "MAIL FROM: <> (null sender", "no DKIM signature",
	    "Rules and checks that scored (0)" } },
	{ "mixed.log", "Q7", {
	    "Future key: 1, 2, 3", "Model: v2", "\"meeting\" 0.010",
	    "\"agenda\" 0.030", "Description: ARC chain validated",
	    "\nARC\n  Result: pass (every seal", "Instance (i=): 1",
	    "Domain: relay.example.org" } },
	{ "arc.log", "A1", {
	    "\nARC\n  Result: pass (every seal and the newest message",
	    "Oldest pass: 2 (the message signatures from instance 2 on",
	    "Set i=2: sealed by fwd.example (s=s2), cv=pass\n"
	    "    Seal: pass, message signature: pass\n"
	    "  Set i=1: sealed by lists.example.org (s=s1), cv=none\n",
	    "Override: trusted_forwarder (a forwarder or ARC sealer" } },
	{ "arc.log", "A2", {
	    "\nARC\n  Result: fail (a seal or the newest message signature",
	    "Reason: ARC-Message-Signature i=1: body hash did not verify",
	    "Set i=1: sealed by lists.example.org" } },
	{ "arc.log", "A4", { "\nARC\n  Not in the log record.\n" } },
	{ "hostile.log", "H1", {
	    "\\x1b[31mRED", "\\u{202e}gnp.exe", "nul:\\x00:end",
	    "X&Y\\u{2028}Z" } },
};

START_TEST(test_explain_tells_the_story)
{
	char *text = explain_of(explain_cases[_i].file, explain_cases[_i].qid);
	size_t i;

	for (i = 0; i < 8 && explain_cases[_i].want[i]; i++)
		ck_assert_msg(strstr(text, explain_cases[_i].want[i]) != NULL,
		    "%s: no '%s' in:\n%s", explain_cases[_i].qid,
		    explain_cases[_i].want[i], text);
	free(text);
}
END_TEST

START_TEST(test_explain_output_is_terminal_safe)
{
	static const char *qids[] = { "H1", "H3" };
	char *text = explain_of("hostile.log", qids[_i]);
	const unsigned char *p;

	for (p = (const unsigned char *)text; *p; p++)
		ck_assert_msg(*p >= 0x20 || *p == '\n', "control byte %02x",
		    *p);
	ck_assert(utf8_valid(text, strlen(text)));
	ck_assert_ptr_null(strstr(text, "\xe2\x80\xae"));	/* U+202E */
	ck_assert_ptr_null(strstr(text, "\xe2\x80\xa8"));	/* U+2028 */
	free(text);
}
END_TEST

/* rate limits, greylisting and spam-trap clients (policy.h) are told
 * in the decision */
START_TEST(test_explain_policy)
{
	static const char *lines =
	    "{\"queue_id\":\"P1\",\"action\":\"tempfail\",\"forced_by\":"
	    "\"MW_RATELIMIT_USER\",\"policy\":{\"ratelimit\":\"over\","
	    "\"limit\":\"user 3 messages per 1h\",\"greylist\":\"skipped\"}}\n"
	    "{\"queue_id\":\"P2\",\"action\":\"tempfail\",\"policy\":"
	    "{\"ratelimit\":\"ok\",\"greylist\":\"new\"}}\n"
	    "{\"queue_id\":\"P3\",\"action\":\"accept\",\"policy\":"
	    "{\"ratelimit\":\"degraded\",\"greylist\":\"degraded\","
	    "\"degraded\":true}}\n"
	    "{\"queue_id\":\"P4\",\"action\":\"reject\",\"forced_by\":"
	    "\"MW_TRAP_CLIENT\",\"policy\":{\"ratelimit\":\"skipped\","
	    "\"greylist\":\"skipped\",\"trap_client\":\"listed\"}}\n";
	static const char *want[] = {
	    "Over a rate limit (user 3 messages per 1h): deferred",
	    "Greylisted: a first try",
	    "The policy store failed",
	    "The client wrote to a spam trap within trap_expire",
	};
	struct logread *r = logread_open_mem(lines, strlen(lines), "m", 1);
	const struct logline *l;
	struct logrec rec;
	struct buf out = BUF_INIT;
	size_t i = 0;

	while (logread_next(r, &l)) {
		logrec_from(&rec, l);
		buf_reset(&out);
		lr_explain(&rec, &out);
		ck_assert_msg(strstr(out.data, want[i]) != NULL, "%s", out.data);
		ck_assert_msg(strstr(out.data, "Other fields") == NULL, "%s",
		    out.data);
		i++;
	}
	ck_assert_uint_eq(i, 4);
	logread_free(&r);
	buf_release(&out);
}
END_TEST

START_TEST(test_explain_survives_missing_fields)
{
	static const char *lines =
	    "{}\n{\"symbols\":[5,{\"name\":null}],\"dkim\":7,\"bayes\":[]}\n";
	struct logread *r = logread_open_mem(lines, strlen(lines), "m", 1);
	const struct logline *l;
	struct logrec rec;
	struct buf out = BUF_INIT;

	while (logread_next(r, &l)) {
		logrec_from(&rec, l);
		buf_reset(&out);
		lr_explain(&rec, &out);
		ck_assert_ptr_nonnull(strstr(out.data, "(no queue id)"));
		ck_assert_ptr_nonnull(strstr(out.data, "Not in the log"));
	}
	logread_free(&r);
	buf_release(&out);
}
END_TEST

/* ------------------------------------------------------------------ */
/* html                                                                */
/* ------------------------------------------------------------------ */

static char *
report_of(char **files, size_t n)
{
	struct logread *r = logread_open(files, n, 20);
	struct lr_summary *s = lr_summary_new(50);
	struct lr_html_opts o;
	const struct logline *l;
	struct logrec rec;
	struct buf out = BUF_INIT;

	while (logread_next(r, &l)) {
		logrec_from(&rec, l);
		lr_summary_add(s, &rec);
	}
	memset(&o, 0, sizeof(o));
	o.generated = 1795000000;
	o.inputs = "<script>inputs</script>";
	o.title = "report <b>title</b>";
	lr_html_report(s, logread_stats(r), &o, &out);
	lr_summary_free(&s);
	logread_free(&r);
	return buf_steal(&out);
}

static bool
has_icase(const char *hay, const char *needle)
{
	return strcasestr(hay, needle) != NULL;
}

START_TEST(test_html_escapes_everything_from_the_log)
{
	static const char *const forbidden[] = { "<script", "<img", "<b>helo",
	    "<b>title",
	    "<iframe", "<link", "<object", "url(", "@import", "onerror=\"",
	    "src=\"", "href=\"http", "<svg onload" };
	static const char *const present[] = {
	    "&lt;script&gt;alert(&#39;subject&#39;)&lt;/script&gt;",
	    "&lt;script&gt;alert(&#39;sym&#39;)&lt;/script&gt;",
	    "report &lt;b&gt;title&lt;/b&gt;", "&lt;script&gt;inputs",
	    "Content-Security-Policy", "default-src 'none'" };
	char *files[] = { lr_path("hostile.log"), lr_path("mixed.log") };
	char *html = report_of(files, 2);
	size_t i;

	for (i = 0; i < sizeof(forbidden) / sizeof(forbidden[0]); i++)
		ck_assert_msg(!has_icase(html, forbidden[i]), "found '%s'",
		    forbidden[i]);
	for (i = 0; i < sizeof(present) / sizeof(present[0]); i++)
		ck_assert_msg(strstr(html, present[i]) != NULL, "no '%s'",
		    present[i]);
	ck_assert(utf8_valid(html, strlen(html)));
	free(html);
}
END_TEST

START_TEST(test_html_has_charts_and_linked_explanations)
{
	static const char *const ids[] = { "id=\"chart-hourly\"",
	    "id=\"chart-scores\"", "class=\"threshold-tag\"",
	    "class=\"threshold-reject\"", "id=\"chart-auth\"",
	    "class=\"rate-SPF\"", "id=\"chart-symbols\"",
	    "id=\"chart-reject-ips\"", "id=\"chart-reject-domains\"",
	    "id=\"reject-table\"", "id=\"input\"", "malformed.log:13: raw" };
	char *files[] = { lr_path("mixed.log"), lr_path("hostile.log"),
	    lr_path("malformed.log") };
	char *html = report_of(files, 3), *p, *q;
	char want[64];
	size_t i, links = 0;

	for (i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
		ck_assert_msg(strstr(html, ids[i]) != NULL, "no %s", ids[i]);
	/* every in-page link has its target */
	for (p = html; (p = strstr(p, "href=\"#")) != NULL; p = q) {
		p += 7;
		q = strchr(p, '"');
		ck_assert_ptr_nonnull(q);
		ck_assert_uint_lt((size_t)(q - p), 40);
		snprintf(want, sizeof(want), "id=\"%.*s\"", (int)(q - p), p);
		ck_assert_msg(strstr(html, want) != NULL, "no target %s", want);
		links++;
	}
	/* 7 rejects (4 hostile, 3 mixed) and 1 tag (Q2), each linked and
	 * its way back; Q2 again as a likely FP (DMARC pass: 3 points);
	 * 5 in the navigation */
	ck_assert_uint_eq(links, 2 * 7 + 2 * 1 + 2 * 1 + 5);
	ck_assert_ptr_nonnull(strstr(html, "href=\"#explain-fp-1\">Q2<"));
	ck_assert_ptr_nonnull(strstr(html, "id=\"explain-7\""));
	ck_assert_ptr_nonnull(strstr(html, "id=\"explain-tag-1\""));
	ck_assert_ptr_null(strstr(html, "id=\"explain-8\""));
	free(html);
}
END_TEST

START_TEST(test_html_empty_log_still_renders)
{
	char *files[] = { lr_path("malformed.log") };
	struct lr_summary *s = lr_summary_new(5);
	struct logread *r = logread_open(files, 1, 5);
	struct lr_html_opts o;
	struct buf out = BUF_INIT;

	memset(&o, 0, sizeof(o));
	lr_html_report(s, logread_stats(r), &o, &out);
	ck_assert_ptr_nonnull(strstr(out.data, "No scored messages"));
	ck_assert_ptr_nonnull(strstr(out.data, "No rejects"));
	ck_assert_ptr_nonnull(strstr(out.data, "</html>"));
	buf_release(&out);
	lr_summary_free(&s);
	logread_free(&r);
}
END_TEST

/* ---------------------------------------------------------------- */
/* Rotated sets and the report's output (issue 14)                   */
/* ---------------------------------------------------------------- */

static void
touch(const char *dir, const char *name, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	fputs(text, f);
	fclose(f);
}

START_TEST(test_logread_rotated_finds_logrotate_names_in_order)
{
	static const char *const files[] = { "v.log", "v.log.1", "v.log.2.gz",
	    "v.log.10.gz", "v.log.3", "v.log.bak", "v.log.1.old", "v.log.",
	    "v.log.x.gz", "w.log.1", "v.log.gz", "v.logs.1" };
	static const char *const want[] = { "v.log.1", "v.log.2.gz",
	    "v.log.3", "v.log.10.gz" };
	char dir[256], path[512], **got;
	size_t i, n;

	test_mkdtemp(dir, sizeof(dir), "rotated");
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		touch(dir, files[i], "{}\n");
	snprintf(path, sizeof(path), "%s/v.log", dir);
	n = logread_rotated(path, &got);
	ck_assert_uint_eq(n, 4);
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, want[i]);
		ck_assert_str_eq(got[i], path);
		free(got[i]);
	}
	free(got);
	snprintf(path, sizeof(path), "%s/none/v.log", dir);
	ck_assert_uint_eq(logread_rotated(path, &got), 0);
	ck_assert_ptr_null(got);
	test_rmtree(dir);
}
END_TEST

START_TEST(test_outfile_replaces_only_its_own_earlier_output)
{
	static const char marker[] = "<!DOCTYPE html>\n<!-- ours -->\n";
	struct outfile_ids in = { NULL, 0 };
	struct buf why = BUF_INIT;
	char dir[256], log[512], page[512], other[512], link[512];
	struct stat before, after;

	test_mkdtemp(dir, sizeof(dir), "outfile");
	touch(dir, "v.log", "{\"queue_id\":\"Q1\"}\n");
	touch(dir, "other.html", "<!DOCTYPE html>\n<p>mine</p>\n");
	snprintf(log, sizeof(log), "%s/v.log", dir);
	snprintf(page, sizeof(page), "%s/r.html", dir);
	snprintf(other, sizeof(other), "%s/other.html", dir);
	snprintf(link, sizeof(link), "%s/link.html", dir);
	ck_assert_int_eq(symlink(log, link), 0);
	outfile_add_path(&in, log);
	outfile_add_path(&in, log);		/* counted once */
	outfile_add_path(&in, "/nonexistent/x.log");
	ck_assert_uint_eq(in.n, 1);

	ck_assert_int_eq(outfile_check(log, &in, marker, &why), -1);
	ck_assert_ptr_nonnull(strstr(buf_cstr(&why), "one of the inputs"));
	buf_reset(&why);
	ck_assert_int_eq(outfile_check(link, &in, marker, &why), -1);
	buf_reset(&why);
	ck_assert_int_eq(outfile_check(other, &in, marker, &why), -1);
	ck_assert_ptr_nonnull(strstr(buf_cstr(&why), "not an earlier output"));
	buf_reset(&why);
	ck_assert_int_eq(outfile_check(dir, &in, marker, &why), -1);
	buf_reset(&why);
	ck_assert_int_eq(outfile_write(other, marker, 3, &in, marker, &why),
	    -1);
	buf_reset(&why);

	ck_assert_int_eq(outfile_check(page, &in, marker, &why), 0);
	ck_assert_int_eq(outfile_write(page, marker, strlen(marker), &in,
	    marker, &why), 0);
	ck_assert_int_eq(stat(page, &before), 0);
	ck_assert_uint_eq(before.st_mode & 0777, 0644);
	ck_assert_int_eq(outfile_write(page, marker, strlen(marker), &in,
	    marker, &why), 0);
	ck_assert_int_eq(stat(page, &after), 0);
	ck_assert_uint_ne(before.st_ino, after.st_ino);
	ck_assert_int_eq(stat(log, &after), 0);
	ck_assert_int_eq(after.st_size, 18);	/* untouched */
	buf_release(&why);
	outfile_ids_release(&in);
	test_rmtree(dir);
}
END_TEST


/* ------------------------------------------------------------------ */
/* the morning review (issue 22): tests/data/logreview/review.log      */
/* ------------------------------------------------------------------ */

static const struct {
	const char *qid;
	const char *deciders;
	const char *decisive;		/* symbols lr_decisive() says yes to */
	int	 points;		/* lr_evidence() */
	unsigned why;
	const char *subject;		/* lr_subject() */
} judge_cases[] = {
	{ "P1", "", "", 3, LR_EV_DMARC, "hello" },
	{ "F1", "BIG_RULE(+4.5) HTML_ONLY(+1)", "HTML_ONLY,BIG_RULE", 5,
	    LR_EV_DMARC | LR_EV_BAYES, "Rechnung M\xc3\xa4rz" },
	{ "F2", "PROMO(+3) SPF_SOFTFAIL(+1.5) BAYES_50(+0.8)",
	    "SPF_SOFTFAIL,BAYES_50,PROMO", 0, LR_EV_FORGED,
	    "Deals!!! <b>today</b>" },
	{ "F3", "LOCAL_X(+6)", "LOCAL_X", 4, LR_EV_DMARC | LR_EV_BAYES,
	    "Statement" },
	{ "J1", "DMARC_REJECT (forced)", "DMARC_REJECT", -2, LR_EV_SPAMMY |
	    LR_EV_FORGED, "Your account" },
	{ "J2", "RBL_ZEN(+12) BAYES_99(+6)", "RBL_ZEN,BAYES_99", -2,
	    LR_EV_SPAMMY, "hi" },
	{ "J3", "RBL_ZEN(+12) SPF_FAIL(+4)", "RBL_ZEN,SPF_FAIL", 0,
	    LR_EV_FORGED,
	    "<script>alert(1)</script> \xe2\x80\xaegnp.exe" },
};

START_TEST(test_judge_deciders_evidence_subject)
{
	char *files[] = { lr_path("review.log") };
	struct logread *r = logread_open(files, 1, 10);
	const struct logline *l;
	struct logrec rec;
	struct buf b = BUF_INIT, d = BUF_INIT;
	unsigned why;
	size_t i, n;
	bool seen = false;

	while (logread_next(r, &l)) {
		logrec_from(&rec, l);
		if (strcmp(rec.queue_id, judge_cases[_i].qid) != 0)
			continue;
		seen = true;
		buf_reset(&b);
		lr_deciders(&rec, 6, &b);
		ck_assert_str_eq(buf_cstr(&b), judge_cases[_i].deciders);
		n = json_object_array_length(rec.symbols);
		for (i = 0; i < n; i++) {
			struct json_object *o = json_object_array_get_idx(
			    rec.symbols, i);
			double sc = 0;

			(void)lr_jnum(o, "score", &sc);
			if (!lr_decisive(&rec, lr_jstr(o, "name"), sc))
				continue;
			if (d.len)
				buf_addc(&d, ',');
			buf_adds(&d, lr_jstr(o, "name"));
		}
		ck_assert_str_eq(buf_cstr(&d), judge_cases[_i].decisive);
		ck_assert_int_eq(lr_evidence(&rec, &why),
		    judge_cases[_i].points);
		ck_assert_uint_eq(why, judge_cases[_i].why);
		buf_reset(&b);
		lr_subject(&rec, LR_SUBJECT_MAX, &b);
		ck_assert_str_eq(buf_cstr(&b), judge_cases[_i].subject);
	}
	ck_assert(seen);
	logread_free(&r);
	buf_release(&b);
	buf_release(&d);
}
END_TEST

START_TEST(test_judge_networks_and_words)
{
	static const struct { const char *ip, *net; } nets[] = {
		{ "203.0.113.77", "203.0.113.0/24" },
		{ "2001:db8:1:2::5", "2001:db8:1::/48" },
		{ "::ffff:198.51.100.7", "198.51.100.0/24" },
		{ "[2001:db8:abcd:12::1]", "2001:db8:abcd::/48" },
	};
	struct buf b = BUF_INIT;
	char out[64];
	size_t i;

	for (i = 0; i < sizeof(nets) / sizeof(nets[0]); i++) {
		ck_assert_msg(lr_net(nets[i].ip, out, sizeof(out)), "%s",
		    nets[i].ip);
		ck_assert_str_eq(out, nets[i].net);
	}
	ck_assert(!lr_net("not-an-ip", out, sizeof(out)));
	ck_assert(!lr_net(NULL, out, sizeof(out)));
	lr_evidence_words(LR_EV_DMARC | LR_EV_BAYES | LR_EV_KNOWN, 0.04, &b);
	ck_assert_str_eq(buf_cstr(&b), "DMARC pass, Bayes 0.04, known "
	    "correspondent");
	buf_reset(&b);
	lr_evidence_words(LR_EV_SPAMMY, 0.97, &b);
	ck_assert_str_eq(buf_cstr(&b), "but Bayes 0.97");
	buf_release(&b);
}
END_TEST

START_TEST(test_summary_review_lists_and_sources)
{
	struct logread *r;
	struct lr_summary *s = summarize("review.log", 50, &r);
	const struct topk_entry *e;
	struct lr_fp *fp;
	size_t n;

	/* tags ring, newest first, with what a row shows */
	ck_assert_uint_eq(s->tags.n, 3);
	ck_assert_str_eq(lr_tag_at(s, 0)->queue_id, "F3");
	ck_assert_str_eq(lr_tag_at(s, 2)->queue_id, "F1");
	ck_assert_ptr_null(lr_tag_at(s, 3));
	ck_assert_str_eq(lr_tag_at(s, 2)->subject, "Rechnung M\xc3\xa4rz");
	ck_assert_str_eq(lr_tag_at(s, 2)->rcpts, "bob@site.example, "
	    "carol@site.example, dave@site.example +1 more");
	ck_assert_str_eq(lr_tag_at(s, 2)->from_domain, "partner.example");
	ck_assert_str_eq(lr_reject_at(s, 1)->sender, "<>");
	ck_assert_str_eq(lr_reject_at(s, 2)->deciders,
	    "DMARC_REJECT (forced)");
	ck_assert_ptr_nonnull(strstr(lr_tag_at(s, 2)->explain, "BIG_RULE"));

	/* F1: 3 DMARC + 2 Bayes + 2 domain (5 of 6 accepted) + 3 known */
	ck_assert(lr_domain_wanted(s, "partner.example"));
	ck_assert(!lr_domain_wanted(s, "bank.example"));	/* 1 message */
	ck_assert(lr_correspondent(s, "Friend <FRIEND@partner.example>"));
	ck_assert(!lr_correspondent(s, "news@partner.example"));
	n = lr_fp_rank(s, &fp);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(fp[0].item->queue_id, "F1");
	ck_assert_int_eq(fp[0].points, 10);
	ck_assert_uint_eq(fp[0].why, LR_EV_DMARC | LR_EV_BAYES |
	    LR_EV_DOMAIN | LR_EV_KNOWN);
	ck_assert_str_eq(fp[1].item->queue_id, "F3");
	ck_assert_int_eq(fp[1].points, 4);
	free(fp);

	/* symbols: decided alone, zero score kept apart by its score */
	e = entry(s->symbols, "RBL_ZEN");
	ck_assert_uint_eq(e->aux[2], 2);
	e = entry(s->symbols, "HTML_ONLY");
	ck_assert_uint_eq(e->count, 2);
	ck_assert_uint_eq(e->aux[2], 1);	/* F1 yes, J2 no */
	e = entry(s->symbols, "ARC_NONE");
	ck_assert_uint_eq(e->count, 6);
	ck_assert(e->last == 0 && e->sum == 0 && e->lo == 0 && e->hi == 0);
	e = entry(s->symbols, "HTML_ONLY");
	ck_assert(e->lo == 1 && e->hi == 2);

	/* sources */
	e = entry(s->nets, "203.0.113.0/24");
	ck_assert_uint_eq(e->count, 2);
	ck_assert_uint_eq(e->aux[LR_SRC_REJECT], 2);
	ck_assert_uint_eq(entry(s->nets, "2001:db8:1::/48")->count, 1);
	e = entry(s->from_domains, "partner.example");
	ck_assert_uint_eq(e->count, 6);
	ck_assert_uint_eq(e->aux[LR_SRC_ACCEPT], 5);
	ck_assert_uint_eq(e->aux[LR_SRC_TAG], 1);
	ck_assert_uint_eq(e->aux[LR_SRC_DMARC_PASS], 6);
	ck_assert_uint_eq(entry(s->env_domains, "(null sender <>)")->count,
	    1);
	/* outbound mail's recipients are correspondents, not our domains */
	ck_assert_uint_eq(entry(s->rcpt_domains, "site.example")->count, 14);
	ck_assert_ptr_null(topk_get(s->rcpt_domains, "partner.example"));
	lr_summary_free(&s);
	logread_free(&r);
}
END_TEST

static const char *section(const char *html, const char *id);

START_TEST(test_summary_fp_candidates_bounded)
{
	struct buf log = BUF_INIT;
	struct logread *r;
	struct lr_summary *s = lr_summary_new(2);	/* 8 candidates */
	const struct logline *l;
	struct logrec rec;
	struct lr_fp *fp;
	struct lr_html_opts o;
	struct buf page = BUF_INIT;
	char *until[] = { "--until", "1970-01-01T00:00:00Z" };
	size_t i, n;

	/* 100 tags; every 10th passed DMARC with a low Bayes, margin i */
	for (i = 0; i < 100; i++)
		buf_printf(&log, "{\"time\":\"2026-11-18T10:%02zu:00Z\","
		    "\"queue_id\":\"T%zu\",\"action\":\"tag\",\"score\":%zu,"
		    "\"thresholds\":{\"tag\":5,\"reject\":500},"
		    "\"dmarc\":{\"result\":\"%s\"},\"bayes\":{\"probability\":"
		    "%s}}\n", i % 60, i, 5 + i, i % 10 ? "fail" : "pass",
		    i % 10 ? "0.5" : "0.05");
	r = logread_open_mem(log.data, log.len, "mem", 0);
	while (logread_next(r, &l)) {
		logrec_from(&rec, l);
		lr_summary_add(s, &rec);
	}
	ck_assert_uint_eq(s->fps.n, 8);
	n = lr_fp_rank(s, &fp);
	/* the ten with 5 points; the heap kept the 8 closest to 5 */
	ck_assert_uint_eq(n, 8);
	for (i = 0; i < n; i++) {
		char want[8];

		snprintf(want, sizeof(want), "T%zu", i * 10);
		ck_assert_str_eq(fp[i].item->queue_id, want);
		ck_assert_int_eq(fp[i].points, 5);
	}
	free(fp);
	/* T80 and T90 came when the heap was full of better ones */
	ck_assert_uint_eq(s->fps.dropped, 2);
	/* the page shows --rejects (2) of them and counts the rest */
	memset(&o, 0, sizeof(o));
	o.search_args = until;
	o.nsearch_args = 2;
	lr_html_report(s, logread_stats(r), &o, &page);
	ck_assert_ptr_nonnull(strstr(section(buf_cstr(&page), "fps"),
	    "8 more candidates beyond the 2 shown: 6 ranked below them, 2 "
	    "that had 3 points or more when they arrived but were not kept"));
	ck_assert_ptr_nonnull(strstr(section(buf_cstr(&page), "tags"),
	    "98 more: <code>mailwarden log search --action tag --until "
	    "1970-01-01T00:00:00Z</code> lists all 100."));
	buf_release(&page);
	lr_summary_free(&s);
	logread_free(&r);
	buf_release(&log);
}
END_TEST

START_TEST(test_summary_text_keeps_zero_score_symbols_apart)
{
	struct logread *r;
	struct lr_summary *s = summarize("review.log", 0, &r);
	struct buf out = BUF_INIT;
	const char *scored, *zero, *arc;

	lr_summary_text(s, logread_stats(r), 0, 10, &out);
	scored = strstr(out.data, "Top symbols with a score (10 of 12)");
	zero = strstr(out.data, "Informational symbols, score 0 (1 of 1)");
	arc = strstr(out.data, "ARC_NONE");
	ck_assert(scored && zero && arc);
	ck_assert_ptr_eq(arc, strstr(zero, "ARC_NONE"));	/* only there */
	ck_assert_ptr_nonnull(strstr(scored, "RBL_ZEN                                 "
	    "12.00          2     0.0%    66.7%        2"));
	/* HTML_ONLY scored 1 in F1, 2 in J2: the range, not the last */
	ck_assert_ptr_nonnull(strstr(scored, "HTML_ONLY                          "
	    "1.00..2.00          2"));
	buf_release(&out);
	lr_summary_free(&s);
	logread_free(&r);
}
END_TEST

static const struct {
	const char *name;
	struct fval f[3];
	const char *want;
} review_filter_cases[] = {
	{ "subject decoded, any case", { { LR_F_SUBJECT,
	    "rechnung m\xc3\xa4rz" } }, "F1" },
	{ "subject behind a bidi override", { { LR_F_SUBJECT, "GNP.exe" } },
	    "J3" },
	{ "From: only", { { LR_F_FROM, "partner.example" } },
	    "P1,P2,P3,P4,P5,F1" },
	{ "From: address", { { LR_F_FROM, "service@PAYPA1.example" } },
	    "J1" },
	{ "envelope only", { { LR_F_MAIL_FROM, "spam.example" } }, "J1,J3" },
	{ "null sender", { { LR_F_MAIL_FROM, "<>" } }, "J2" },
	{ "symbol absent", { { LR_F_ACTION, "tag" },
	    { LR_F_NO_SYMBOL, "bayes_*" } }, "F1,F3" },
	{ "decided by", { { LR_F_DECIDED_BY, "HTML_ONLY" } }, "F1" },
	{ "decided by, forced", { { LR_F_DECIDED_BY, "DMARC_REJECT" } },
	    "J1" },
	{ "decided by glob", { { LR_F_DECIDED_BY, "rbl_*" } }, "J2,J3" },
	{ "tagged with DMARC pass", { { LR_F_ACTION, "tag" },
	    { LR_F_DMARC, "pass" } }, "F1,F3" },
	{ "DMARC results", { { LR_F_ACTION, "reject" },
	    { LR_F_DMARC, "fail,none" } }, "J1,J2,J3" },
	{ "SPF result", { { LR_F_SPF, "softfail" } }, "F2" },
	{ "DKIM pass, low Bayes", { { LR_F_DKIM, "pass" },
	    { LR_F_BAYES_MAX, "0.1" } }, "F1" },
	{ "Bayes range", { { LR_F_BAYES_MIN, "0.2" },
	    { LR_F_BAYES_MAX, "0.6" } }, "F2,F3" },
	{ "Bayes high", { { LR_F_BAYES_MIN, "0.9" } }, "J1,J2" },
	{ "absent result", { { LR_F_DKIM, "absent" } }, "" },
};

START_TEST(test_filter_review_criteria)
{
	filter_run("review.log", review_filter_cases[_i].name,
	    review_filter_cases[_i].f, review_filter_cases[_i].want);
}
END_TEST

static const struct {
	enum lr_fkey key;
	const char *value;
} bad_review_filters[] = {
	{ LR_F_DMARC, "passed" }, { LR_F_SPF, "pass,nope" },
	{ LR_F_BAYES_MIN, "1.5" }, { LR_F_BAYES_MAX, "-0.1" },
	{ LR_F_BAYES_MAX, "x" }, { LR_F_SUBJECT, "" },
	{ LR_F_MAIL_FROM, "" },
};

START_TEST(test_filter_review_bad_values)
{
	struct lr_filter f;
	struct buf why = BUF_INIT;

	lr_filter_init(&f);
	ck_assert_int_eq(lr_filter_add(&f, bad_review_filters[_i].key,
	    bad_review_filters[_i].value, 0, &why), -1);
	ck_assert_uint_gt(why.len, 0);
	lr_filter_release(&f);
	buf_release(&why);
}
END_TEST

/* review_report - the page for review.log (+ prev, own domains) */
static char *
review_report(const struct lr_summary *prev, char **own, size_t nown)
{
	char *files[] = { lr_path("review.log") };
	struct logread *r;
	struct lr_summary *s = summarize("review.log", 50, &r);
	struct lr_html_opts o;
	struct buf out = BUF_INIT;

	(void)files;
	memset(&o, 0, sizeof(o));
	o.generated = 1795000000;
	o.prev = prev;
	o.compare_secs = 86400;
	o.own_domains = own;
	o.nown = nown;
	lr_html_report(s, logread_stats(r), &o, &out);
	lr_summary_free(&s);
	logread_free(&r);
	return buf_steal(&out);
}

/* section - the text of the element that has id="id", up to the next
 * <section (a static copy) */
static const char *
section(const char *html, const char *id)
{
	static char buf[65536];
	char want[64];
	const char *p, *q;

	snprintf(want, sizeof(want), "id=\"%s\"", id);
	p = strstr(html, want);
	ck_assert_msg(p != NULL, "no %s", want);
	q = strstr(p + 1, "<section");
	if (q == NULL)
		q = p + strlen(p);
	snprintf(buf, sizeof(buf), "%.*s", (int)(q - p), p);
	return buf;
}

START_TEST(test_html_review_lists_sources_symbols)
{
	char *own[] = { "partner.example", "nowhere.example" };
	char *html = review_report(NULL, own, 2);
	const char *fps, *sym;

	/* likely false positives: F1 then F3, F2 not at all */
	fps = section(html, "fps");
	ck_assert_ptr_nonnull(strstr(fps, "id=\"fp-table\""));
	ck_assert_ptr_nonnull(strstr(fps, "href=\"#explain-fp-1\">F1<"));
	ck_assert_ptr_nonnull(strstr(fps, "href=\"#explain-fp-2\">F3<"));
	ck_assert_ptr_null(strstr(fps, ">F2<"));
	ck_assert_ptr_nonnull(strstr(fps, "+10: DMARC pass, Bayes 0.02, "
	    "From domain mostly accepted, known correspondent"));
	ck_assert_ptr_nonnull(strstr(fps, "Rechnung M\xc3\xa4rz"));
	ck_assert_ptr_nonnull(strstr(fps, "BIG_RULE(+4.5) HTML_ONLY(+1)"));
	/* tags and rejects, linked to their explanations */
	ck_assert_ptr_nonnull(strstr(section(html, "tags"),
	    "href=\"#explain-tag-1\">F3<"));
	ck_assert_ptr_nonnull(strstr(section(html, "tags"),
	    "Deals!!! &lt;b&gt;today&lt;/b&gt;"));
	ck_assert_ptr_nonnull(strstr(section(html, "rejects"),
	    "href=\"#explain-1\">J3<"));
	ck_assert_ptr_nonnull(strstr(html, "id=\"explain-tag-3\""));
	ck_assert_ptr_nonnull(strstr(html, "id=\"explain-fp-2\""));
	ck_assert_ptr_null(strstr(html, "id=\"explain-fp-3\""));
	/* the hostile Subject: escaped, the override shown not obeyed */
	ck_assert_ptr_nonnull(strstr(html, "&lt;script&gt;alert(1)&lt;/script"
	    "&gt; \\u{202e}gnp.exe"));
	ck_assert_ptr_null(strstr(html, "\xe2\x80\xae"));
	ck_assert_ptr_null(strcasestr(html, "<script"));
	/* symbols: the scored table has no zero-score row, a table of its
	 * own has them, "decided alone" counted */
	sym = section(html, "symbols");
	ck_assert_ptr_nonnull(strstr(sym, "id=\"zero-symbol-table\""));
	ck_assert_ptr_null(strstr(strstr(sym, "id=\"symbol-table\""),
	    "ARC_NONE</td><td class=\"n\">0.00"));
	ck_assert_ptr_nonnull(strstr(strstr(sym, "id=\"zero-symbol-table\""),
	    "ARC_NONE"));
	ck_assert_ptr_nonnull(strstr(sym, "HTML_ONLY</td><td class=\"n\">"
	    "1.00..2.00</td>"));
	ck_assert_ptr_nonnull(strstr(sym, "RBL_ZEN</td><td class=\"n\">12.00"
	    "</td><td class=\"n\">2</td><td class=\"n\">0.0%</td>"
	    "<td class=\"n\">66.7%</td><td class=\"n\">2 (100.0%)</td>"));
	/* sources: networks, domains, own domains with their DMARC */
	ck_assert_ptr_nonnull(strstr(section(html, "networks"),
	    "203.<wbr>0.<wbr>113.<wbr>0/24</td><td class=\"n\">2</td>"
	    "<td class=\"n\">2</td>"));
	ck_assert_ptr_nonnull(strstr(section(html, "domains"),
	    "partner.<wbr>example</td><td class=\"n\">6</td><td class=\"n\">"
	    "6</td><td class=\"n\">0</td><td class=\"n\">0</td><td class=\"n\">"
	    "0</td><td class=\"n\">100.0%"));
	ck_assert_ptr_nonnull(strstr(section(html, "domains"),
	    "nowhere.<wbr>example</td><td class=\"n\">0</td>"));
	ck_assert_ptr_null(strstr(html, "id=\"changes\""));
	free(html);
}
END_TEST

START_TEST(test_html_compare_says_what_changed)
{
	struct lr_summary *prev = lr_summary_new(0);
	struct buf log = BUF_INIT;
	struct logread *r;
	const struct logline *l;
	struct logrec rec;
	const char *ch;
	char *html;
	size_t i;

	/* the day before: 20 accepted from one network, no RBL_ZEN */
	for (i = 0; i < 20; i++)
		buf_printf(&log, "{\"time\":\"2026-11-17T10:%02zu:00Z\","
		    "\"queue_id\":\"Y%zu\",\"action\":\"accept\",\"score\":0,"
		    "\"client\":{\"ip\":\"192.0.2.9\"},\"symbols\":[{\"name\":"
		    "\"HTML_ONLY\",\"score\":1}]}\n", i, i);
	r = logread_open_mem(log.data, log.len, "mem", 0);
	while (logread_next(r, &l)) {
		logrec_from(&rec, l);
		lr_summary_add(prev, &rec);
	}
	html = review_report(prev, NULL, 0);
	ch = section(html, "changes");
	ck_assert_ptr_nonnull(strstr(ch, "<td>messages</td><td class=\"n\">20"
	    "</td><td class=\"n\">12</td><td class=\"n\">-40.0%"));
	ck_assert_ptr_nonnull(strstr(ch, "<td>reject</td><td class=\"n\">0 "
	    "(0.0%)</td><td class=\"n\">3 (25.0%)</td><td class=\"n\">+25.0 "
	    "points"));
	/* ARC_NONE: 6 hits from none; HTML_ONLY fell: not listed */
	ck_assert_ptr_nonnull(strstr(ch, "ARC_NONE <span class=\"new\">new"));
	ck_assert_ptr_null(strstr(ch, "HTML_ONLY"));
	/* a network not seen the day before is marked */
	ck_assert_ptr_nonnull(strstr(section(html, "networks"),
	    "203.<wbr>0.<wbr>113.<wbr>0/24 <span class=\"new\">new</span>"));
	ck_assert_ptr_null(strstr(section(html, "networks"),
	    "192.<wbr>0.<wbr>2.<wbr>0/24 <span"));
	free(html);
	lr_summary_free(&prev);
	logread_free(&r);
	buf_release(&log);
}
END_TEST

/* mem_summary - a summary of the log text (keep: list rows) */
static struct lr_summary *
mem_summary(const char *text, size_t keep)
{
	struct logread *r = logread_open_mem(text, strlen(text), "mem", 0);
	struct lr_summary *s = summary_of(r, keep);

	logread_free(&r);
	return s;
}

/*
 * Outbound mail (authenticated, or unscored: trusted network) from
 * alice@site.example and to boss@partner.example, then inbound mail
 * forging both addresses (DMARC fail), and one genuine inbound message
 * From site.example that passed DMARC.
 */
#define OUT_REC(q, extra) "{\"time\":\"2026-11-18T08:0" q ":00Z\"," \
	"\"queue_id\":\"O" q "\",\"client\":{\"ip\":\"10.0.0.5\"}," extra \
	"\"mail_from\":\"alice@site.example\",\"rcpts\":[\"boss@partner." \
	"example\"],\"from\":\"Alice <alice@site.example>\",\"dmarc\":" \
	"{\"result\":\"none\"},\"score\":0,\"thresholds\":{\"tag\":5," \
	"\"reject\":15},\"action\":\"accept\"}\n"
#define IN_REC(q, from, dmarc, action, score) "{\"time\":" \
	"\"2026-11-18T09:0" q ":00Z\",\"queue_id\":\"" #action q "\"," \
	"\"client\":{\"ip\":\"192.0.2.7\"},\"auth\":null,\"mail_from\":" \
	"\"x@elsewhere.example\",\"rcpts\":[\"alice@site.example\"]," \
	"\"from\":\"" from "\",\"dmarc\":{\"result\":\"" dmarc "\"}," \
	"\"bayes\":{\"probability\":0.25},\"scored\":true,\"score\":" score \
	",\"thresholds\":{\"tag\":5,\"reject\":15},\"action\":\"" #action \
	"\",\"symbols\":[{\"name\":\"LOCAL_X\",\"score\":" score "}]}\n"
static const char outbound_log[] =
	OUT_REC("1", "\"auth\":\"alice\",\"scored\":true,")
	OUT_REC("2", "\"auth\":\"alice\",\"scored\":true,")
	OUT_REC("3", "\"auth\":\"alice\",\"scored\":true,")
	OUT_REC("4", "\"scored\":false,\"unscored_why\":\"trusted network\",")
	OUT_REC("5", "\"scored\":false,\"unscored_why\":\"trusted network\",")
	IN_REC("1", "CEO <ceo@site.example>", "fail", tag, "6")
	IN_REC("2", "Boss <boss@partner.example>", "fail", tag, "6")
	IN_REC("3", "News <news@site.example>", "pass", accept, "0");

START_TEST(test_outbound_mail_is_no_evidence)
{
	struct lr_summary *s = mem_summary(outbound_log, 50);
	struct lr_html_opts o;
	struct buf out = BUF_INIT;
	struct logread *r;
	const struct topk_entry *e;
	struct lr_fp *fp;
	size_t n;

	/* the recipient of outbound mail is still a correspondent */
	ck_assert(lr_correspondent(s, "boss@partner.example"));
	/* site.example: only the 2 inbound messages count, 1 accepted */
	ck_assert(!lr_domain_wanted(s, "site.example"));
	e = entry(s->from_domains, "site.example");
	ck_assert_uint_eq(e->count, 2);
	ck_assert_uint_eq(e->aux[LR_SRC_DMARC_PASS], 1);
	ck_assert_uint_eq(e->aux[LR_SRC_DMARC_FAIL], 1);
	ck_assert_uint_eq(e->aux[LR_SRC_DMARC_NONE], 0);
	ck_assert_uint_eq(entry(s->out_domains, "site.example")->count, 5);
	/* forged From: neither the domain nor the correspondent counts */
	n = lr_fp_rank(s, &fp);
	ck_assert_uint_eq(n, 0);
	free(fp);
	ck_assert_uint_eq(s->fps.n, 0);

	/* own-domain DMARC table: rates of inbound mail, outbound apart */
	memset(&o, 0, sizeof(o));
	o.generated = 1795000000;
	r = logread_open_mem("", 0, "mem", 0);
	lr_html_report(s, logread_stats(r), &o, &out);
	ck_assert_ptr_nonnull(strstr(buf_cstr(&out), "<th>outbound, not "
	    "checked</th>"));
	ck_assert_ptr_nonnull(strstr(buf_cstr(&out), "site.<wbr>example</td>"
	    "<td class=\"n\">2</td><td class=\"n\">1</td><td class=\"n\">1"
	    "</td><td class=\"n\">0</td><td class=\"n\">5</td>"
	    "<td class=\"n\">50.0%</td>"));
	ck_assert_ptr_null(strstr(section(buf_cstr(&out), "fps"),
	    "id=\"fp-table\""));
	logread_free(&r);
	buf_release(&out);
	lr_summary_free(&s);
}
END_TEST

START_TEST(test_dmarc_fail_cancels_history)
{
	struct logread *r = logread_open_mem(outbound_log,
	    strlen(outbound_log), "mem", 0);
	const struct logline *l;
	struct logrec rec;
	unsigned why;
	struct buf b = BUF_INIT;
	int seen = 0;

	while (logread_next(r, &l)) {
		logrec_from(&rec, l);
		if (rec.queue_id[0] == 'O') {
			/* authenticated or unscored: outbound */
			ck_assert(lr_outbound(&rec));
			continue;
		}
		ck_assert(!lr_outbound(&rec));
		if (strcmp(rec.queue_id, "tag2") != 0)
			continue;
		seen++;
		ck_assert_int_eq(lr_evidence(&rec, &why), 1);
		ck_assert_uint_eq(why, LR_EV_BAYES | LR_EV_FORGED);
		lr_evidence_words(why, rec.bayes, &b);
		ck_assert_str_eq(buf_cstr(&b), "Bayes 0.25, but DMARC fail");
	}
	ck_assert_int_eq(seen, 1);
	buf_release(&b);
	logread_free(&r);
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
	tcase_add_test(tc, test_logread_rotated_finds_logrotate_names_in_order);
	tcase_add_test(tc, test_logread_prefilter_skips_lines_unparsed);
	tcase_add_loop_test(tc, test_logread_memory_edge_cases, 0,
	    sizeof(mem_cases) / sizeof(mem_cases[0]));
	suite_add_tcase(s, tc);

	tc = tcase_create("time");
	tcase_add_loop_test(tc, test_logtime_parse_rfc3339, 0,
	    sizeof(time_cases) / sizeof(time_cases[0]));
	tcase_add_loop_test(tc, test_logtime_arg_ages, 0,
	    sizeof(age_cases) / sizeof(age_cases[0]));
	suite_add_tcase(s, tc);

	tc = tcase_create("filter");
	tcase_add_loop_test(tc, test_filter_selects_records, 0,
	    sizeof(filter_cases) / sizeof(filter_cases[0]));
	tcase_add_loop_test(tc, test_filter_prefilter_rules_out_only_non_matches,
	    0, sizeof(prefilter_cases) / sizeof(prefilter_cases[0]));
	tcase_add_loop_test(tc, test_filter_rejects_bad_values, 0,
	    sizeof(bad_filters) / sizeof(bad_filters[0]));
	suite_add_tcase(s, tc);

	tc = tcase_create("topk");
	tcase_add_test(tc, test_topk_exact_while_it_fits);
	tcase_add_test(tc, test_topk_finds_heavy_hitters_in_bounded_memory);
	tcase_add_test(tc, test_topk_long_keys_are_cut_visibly);
	suite_add_tcase(s, tc);

	tc = tcase_create("summary");
	tcase_add_test(tc, test_summary_counts_mixed_log);
	tcase_add_test(tc, test_summary_reject_ring_keeps_latest);
	tcase_add_test(tc, test_summary_reads_arc_and_overrides);
	tcase_add_test(tc, test_summary_tolerates_missing_and_mistyped_fields);
	tcase_add_test(tc, test_summary_p95_within_two_percent);
	tcase_add_test(tc, test_summary_series_widens_and_keeps_counts);
	suite_add_tcase(s, tc);

	tc = tcase_create("explain");
	tcase_add_loop_test(tc, test_explain_tells_the_story, 0,
	    sizeof(explain_cases) / sizeof(explain_cases[0]));
	tcase_add_loop_test(tc, test_explain_output_is_terminal_safe, 0, 2);
	tcase_add_test(tc, test_explain_survives_missing_fields);
	tcase_add_test(tc, test_explain_policy);
	suite_add_tcase(s, tc);

	tc = tcase_create("html");
	tcase_add_test(tc, test_html_escapes_everything_from_the_log);
	tcase_add_test(tc, test_html_has_charts_and_linked_explanations);
	tcase_add_test(tc, test_html_empty_log_still_renders);
	tcase_add_test(tc, test_outfile_replaces_only_its_own_earlier_output);
	suite_add_tcase(s, tc);

	tc = tcase_create("review");
	tcase_add_loop_test(tc, test_judge_deciders_evidence_subject, 0,
	    sizeof(judge_cases) / sizeof(judge_cases[0]));
	tcase_add_test(tc, test_judge_networks_and_words);
	tcase_add_test(tc, test_summary_review_lists_and_sources);
	tcase_add_test(tc, test_summary_fp_candidates_bounded);
	tcase_add_test(tc, test_summary_text_keeps_zero_score_symbols_apart);
	tcase_add_loop_test(tc, test_filter_review_criteria, 0,
	    sizeof(review_filter_cases) / sizeof(review_filter_cases[0]));
	tcase_add_loop_test(tc, test_filter_review_bad_values, 0,
	    sizeof(bad_review_filters) / sizeof(bad_review_filters[0]));
	tcase_add_test(tc, test_html_review_lists_sources_symbols);
	tcase_add_test(tc, test_html_compare_says_what_changed);
	tcase_add_test(tc, test_outbound_mail_is_no_evidence);
	tcase_add_test(tc, test_dmarc_fail_cancels_history);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(logreview_suite());
}
