/*
 * bench_content.c - CPU cost of MIME decoding and rule matching
 *
 * USAGE
 *	bench_content hostile [-r RULES]...
 *	    Builds the hostile inputs of issue 6 in memory (a 50 MB base64
 *	    attachment, 10,000 parts, 100 nesting levels, a boundary that
 *	    never closes, a 10 MB single line in text and in HTML, and
 *	    dash-lines under a deep multipart stack), each at size n and 2n,
 *	    and prints the time of mime_parse() (+ rules, when given) for
 *	    both: a ratio near 2 is linear, near 4 would be quadratic.
 *	bench_content corpus [-r RULES]... [-n ROUNDS] [--no-prefilter] DIR...
 *	    Loads every message file of DIR... into memory, then times MIME
 *	    + rules per message over ROUNDS rounds (process CPU time) and
 *	    prints the mean and percentiles per message.
 *
 *	Built by `make bench`; numbers go to doc/rules.md.
 */
#include "config.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "files.h"
#include "mime.h"
#include "msg.h"
#include "msgparse.h"
#include "rules.h"
#include "str.h"

static double
cpu_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static struct ruleset *
load_rules(const char **paths, size_t n)
{
	struct rules_report rep;
	struct ruleset *rs = NULL;

	if (n == 0)
		return NULL;
	if (rules_load(paths, n, NULL, &rs, &rep) < 0) {
		fprintf(stderr, "rules did not load (%zu errors)\n", rep.nerrors);
		exit(1);
	}
	fprintf(stderr, "rules: %zu header, %zu body, %zu rawbody, %zu uri, "
	    "%zu full, %zu meta (%zu meta disabled), %zu unsupported skipped\n",
	    rep.by_type[RULE_HEADER], rep.by_type[RULE_BODY],
	    rep.by_type[RULE_RAWBODY], rep.by_type[RULE_URI],
	    rep.by_type[RULE_FULL], rep.by_type[RULE_META], rep.disabled,
	    rep.nunsupported);
	rules_report_release(&rep);
	return rs;
}

/* ------------------------------------------------------------------ */
/* hostile inputs                                                      */
/* ------------------------------------------------------------------ */

static const char head[] = "From: a@example.org\r\nSubject: bench\r\n"
    "MIME-Version: 1.0\r\n";

static void
gen_base64(struct buf *t, size_t mb)
{
	size_t lines = mb * 1024 * 1024 / 78, i;

	buf_adds(t, head);
	buf_adds(t, "Content-Type: multipart/mixed; boundary=B\r\n\r\n--B\r\n"
	    "Content-Type: text/plain\r\n\r\nsee the file\r\n--B\r\n"
	    "Content-Type: application/octet-stream\r\n"
	    "Content-Transfer-Encoding: base64\r\n\r\n");
	for (i = 0; i < lines; i++)
		buf_adds(t, "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xt"
		    "bm9wcXJzdHV2d3h5ejAxMjM0\r\n");
	buf_adds(t, "--B--\r\n");
}

static void
gen_parts(struct buf *t, size_t n)
{
	size_t i;

	buf_adds(t, head);
	buf_adds(t, "Content-Type: multipart/mixed; boundary=B\r\n\r\n");
	for (i = 0; i < n; i++)
		buf_printf(t, "--B\r\nContent-Type: text/plain\r\n\r\npart %zu "
		    "with a few words http://h%zu.example/\r\n", i, i % 50);
	buf_adds(t, "--B--\r\n");
}

static void
gen_nesting(struct buf *t, size_t levels)
{
	size_t i;

	buf_adds(t, head);
	buf_adds(t, "Content-Type: multipart/mixed; boundary=L0\r\n\r\n");
	for (i = 1; i < levels; i++)
		buf_printf(t, "--L%zu\r\nContent-Type: multipart/mixed; "
		    "boundary=L%zu\r\n\r\n", i - 1, i);
	buf_printf(t, "--L%zu\r\n\r\ndeep\r\n", levels - 1);
	for (i = levels; i > 0; i--)
		buf_printf(t, "--L%zu--\r\n", i - 1);
}

static void
gen_unclosed(struct buf *t, size_t mb)
{
	buf_adds(t, head);
	buf_adds(t, "Content-Type: multipart/mixed; boundary=NEVER\r\n\r\n"
	    "--NEVER\r\nContent-Type: text/plain\r\n\r\n");
	while (t->len < mb * 1024 * 1024)
		buf_adds(t, "--NEVER-x and a line of text that goes on\r\n");
}

static void
gen_line(struct buf *t, size_t mb, const char *ctype)
{
	size_t n = mb * 1024 * 1024;

	buf_adds(t, head);
	buf_printf(t, "Content-Type: %s\r\n\r\n", ctype);
	buf_reserve(t, n);
	while (t->len + 16 < n)
		buf_add(t, "word &amp; <b>x", 15);
	buf_adds(t, "\r\n");
}

static void
gen_dashes(struct buf *t, size_t mb)
{
	size_t i;

	buf_adds(t, head);
	buf_adds(t, "Content-Type: multipart/mixed; boundary=L0\r\n\r\n");
	for (i = 1; i < 20; i++)
		buf_printf(t, "--L%zu\r\nContent-Type: multipart/mixed; "
		    "boundary=L%zu\r\n\r\n", i - 1, i);
	buf_adds(t, "--L19\r\n\r\n");
	while (t->len < mb * 1024 * 1024)
		buf_adds(t, "--L1x\r\n--L\r\n");
}

struct hostile {
	const char *name;
	void	(*gen)(struct buf *, size_t);
	size_t	 n;		/* size parameter at 1x */
	const char *unit;
};

static void
gen_line_text(struct buf *t, size_t mb)
{
	gen_line(t, mb, "text/plain");
}

static void
gen_line_html(struct buf *t, size_t mb)
{
	gen_line(t, mb, "text/html");
}

static const struct hostile hostile[] = {
	{ "base64 attachment", gen_base64, 25, "MB" },
	{ "parts", gen_parts, 5000, "parts" },
	{ "nesting levels", gen_nesting, 50, "levels" },
	{ "unclosed boundary", gen_unclosed, 5, "MB" },
	{ "single line, text", gen_line_text, 5, "MB" },
	{ "single line, HTML", gen_line_html, 5, "MB" },
	{ "dash lines, deep stack", gen_dashes, 5, "MB" },
};

static double
run_one(const struct buf *t, const struct ruleset *rs, size_t *nparts)
{
	struct msg_limits ml = { 128u << 20, 1 << 20, 1000, 100 };
	struct mime_limits lim;
	struct rules_result res;
	struct mime_msg *mm;
	struct msg *m = msg_new(&ml);
	double t0;

	mime_limits_default(&lim);
	lim.max_parts = 20000;
	lim.max_depth = 200;
	msgparse_text(m, t->data, t->len);
	t0 = cpu_ms();
	mm = mime_parse(m, &lim);
	if (rs) {
		rules_eval(rs, m, mm, 0, &res);
		rules_result_release(&res);
	}
	t0 = cpu_ms() - t0;
	*nparts = mm->nparts;
	mime_free(&mm);
	msg_free(&m);
	return t0;
}

static int
cmd_hostile(const struct ruleset *rs)
{
	struct buf t = BUF_INIT;
	size_t i, k, parts;
	double ms[2];

	printf("| input | size 1x | ms 1x | size 2x | ms 2x | ratio |\n"
	    "| --- | ---: | ---: | ---: | ---: | ---: |\n");
	for (i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
		for (k = 0; k < 2; k++) {
			buf_reset(&t);
			hostile[i].gen(&t, hostile[i].n * (k + 1));
			ms[k] = run_one(&t, rs, &parts);
		}
		printf("| %s | %zu %s | %.1f | %zu %s | %.1f | %.2f |\n",
		    hostile[i].name, hostile[i].n, hostile[i].unit, ms[0],
		    hostile[i].n * 2, hostile[i].unit, ms[1],
		    ms[0] > 0 ? ms[1] / ms[0] : 0);
		fflush(stdout);
	}
	buf_release(&t);
	return 0;
}

/* ------------------------------------------------------------------ */
/* corpus                                                              */
/* ------------------------------------------------------------------ */

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void
load_dir(const char *dir, struct buf **texts, size_t *n)
{
	struct buf why = BUF_INIT;
	struct dirent *d;
	DIR *dp = opendir(dir);
	char *path;

	if (dp == NULL) {
		perror(dir);
		exit(1);
	}
	while ((d = readdir(dp)) != NULL) {
		if (d->d_name[0] == '.')
			continue;
		path = xasprintf("%s/%s", dir, d->d_name);
		*texts = xreallocarray(*texts, *n + 1, sizeof(**texts));
		buf_init(&(*texts)[*n]);
		if (files_read(path, 64u << 20, &(*texts)[*n], &why) == 0)
			(*n)++;
		free(path);
	}
	closedir(dp);
	buf_release(&why);
}

static int
cmd_corpus(const struct ruleset *rs, char **dirs, int ndirs, int rounds,
    unsigned flags)
{
	struct msg_limits ml = { 1 << 20, 1 << 20, 1000, 1000 };
	struct buf *texts = NULL;
	struct mime_limits lim;
	struct rules_result res;
	struct mime_msg *mm;
	struct msg **msgs;
	double *per, total = 0, t0;
	size_t n = 0, i, k, hits = 0;
	unsigned long runs = 0;
	int r, d;

	for (d = 0; d < ndirs; d++)
		load_dir(dirs[d], &texts, &n);
	msgs = xcalloc(n, sizeof(*msgs));
	for (i = 0; i < n; i++) {
		msgs[i] = msg_new(&ml);
		msgparse_text(msgs[i], texts[i].data, texts[i].len);
		buf_release(&texts[i]);
	}
	free(texts);
	per = xcalloc(n, sizeof(*per));
	mime_limits_default(&lim);
	for (r = 0; r < rounds; r++)
		for (i = 0; i < n; i++) {
			t0 = cpu_ms();
			mm = mime_parse(msgs[i], &lim);
			if (rs) {
				rules_eval(rs, msgs[i], mm, flags, &res);
				for (k = 0; k < res.nhits; k++)
					hits += rule_scored(res.hits[k].rule);
				runs += res.regex_runs;
				rules_result_release(&res);
			}
			mime_free(&mm);
			t0 = cpu_ms() - t0;
			per[i] += t0;
			total += t0;
		}
	for (i = 0; i < n; i++)
		per[i] /= rounds;
	qsort(per, n, sizeof(*per), cmp_double);
	printf("messages %zu, rounds %d: mean %.3f ms, p50 %.3f ms, p90 %.3f "
	    "ms, p99 %.3f ms, max %.3f ms per message (MIME + rules, one "
	    "core); %.1f scored rule hits and %.0f PCRE2 calls per message\n", n,
	    rounds, total / (double)(n * (size_t)rounds), per[n / 2],
	    per[n * 9 / 10], per[n * 99 / 100], per[n - 1],
	    (double)hits / (double)(n * (size_t)rounds),
	    (double)runs / (double)(n * (size_t)rounds));
	for (i = 0; i < n; i++)
		msg_free(&msgs[i]);
	free(msgs);
	free(per);
	return 0;
}

int
main(int argc, char **argv)
{
	const char **paths = NULL;
	size_t npaths = 0;
	struct ruleset *rs;
	unsigned flags = 0;
	int i = 2, rounds = 3, rc;

	if (argc < 2) {
		fprintf(stderr, "usage: bench_content hostile|corpus [-r RULES]"
		    "... [-n ROUNDS] [--no-prefilter] [DIR...]\n");
		return 2;
	}
	while (i < argc) {
		if (strcmp(argv[i], "-r") == 0 && i + 1 < argc) {
			paths = realloc(paths, (npaths + 1) * sizeof(*paths));
			paths[npaths++] = argv[i + 1];
			i += 2;
		} else if (strcmp(argv[i], "-n") == 0 && i + 1 < argc) {
			uint64_t v;

			if (parse_uint(argv[i + 1], 1, 1000, &v) < 0)
				return 2;
			rounds = (int)v;
			i += 2;
		} else if (strcmp(argv[i], "--no-prefilter") == 0) {
			flags |= RULES_EVAL_NO_PREFILTER;
			i++;
		} else
			break;
	}
	rs = load_rules(paths, npaths);
	if (strcmp(argv[1], "hostile") == 0)
		rc = cmd_hostile(rs);
	else
		rc = cmd_corpus(rs, argv + i, argc - i, rounds, flags);
	rules_free(rs);
	free(paths);
	return rc;
}
