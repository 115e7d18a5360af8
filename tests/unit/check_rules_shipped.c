/*
 * check_rules_shipped.c - the rule files in rules/ as shipped
 *
 * Every file loads without error, warning or unsupported construct;
 * every scored rule has a description, a conservative score in each
 * score set (the fitted rules/90_scores.cf included: no rule tags a
 * message alone) and a test message tests/data/rules/<NAME>.eml that it
 * hits; and with the whole set the ham of the shared corpus (test
 * split) is never tagged.
 */
#include "config.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "files.h"
#include "helpers.h"
#include "mime.h"
#include "msgparse.h"
#include "rules.h"

#define RULES_SRC	TEST_DATA "/../../rules"
#define MAX_SHIPPED_SCORE	4.0	/* tag_score - the fit's margin */

/* sa_file - a file of rules under SpamAssassin's names (NN_sa_*.cf) */
static bool
sa_file(const char *path);

/*
 * stock_file - the copy of SpamAssassin's stock rules that
 * contrib/fit/select-stock.py writes: its rules are checked against
 * their recorded hits on the corpus (tests/integration/
 * test_sa_stock_hits.py), not against one test message each
 */
static bool
stock_file(const char *path)
{
	const char *base = path ? strrchr(path, '/') : NULL;

	base = base ? base + 1 : path;
	return base && strcmp(base, "30_sa_stock.cf") == 0;
}

static bool
sa_file(const char *path)
{
	const char *base = path ? strrchr(path, '/') : NULL;

	base = base ? base + 1 : path;
	return base && strlen(base) > 6 && base[2] == '_' &&
	    strncmp(base + 3, "sa_", 3) == 0;
}

static struct ruleset *
shipped(struct rules_report *rep)
{
	const char *paths[] = { RULES_SRC };
	struct ruleset *rs;

	ck_assert_int_eq(rules_load(paths, 1, NULL, &rs, rep), 0);
	return rs;
}

START_TEST(test_shipped_rules_load_clean)
{
	struct rules_report rep;
	struct ruleset *rs = shipped(&rep);
	struct buf d = BUF_INIT;
	size_t i;

	for (i = 0; i < rep.n; i++) {
		rules_diag_format(&rep.v[i], &d);
		buf_addc(&d, '\n');
	}
	ck_assert_msg(rep.n == 0, "diagnostics:\n%s", buf_cstr(&d));
	ck_assert_uint_ge(rep.files, 5);
	ck_assert_uint_ge(rules_count(rs), 40);
	rules_free(rs);
	rules_report_release(&rep);
	buf_release(&d);
}
END_TEST

START_TEST(test_shipped_rules_described_and_conservative)
{
	struct rules_report rep;
	struct ruleset *rs = shipped(&rep);
	const struct rule *r;
	unsigned set;
	size_t i;

	for (i = 0; i < rules_count(rs); i++) {
		r = rules_get(rs, i);
		if (!rule_scored_in_any(r))
			continue;
		ck_assert_msg(rule_describe(r) != NULL, "%s: no describe",
		    rule_name(r));
		for (set = 0; set < 4; set++)
			ck_assert_msg(rule_score_in(r, set) >= 0 &&
			    rule_score_in(r, set) <= MAX_SHIPPED_SCORE,
			    "%s: score %.2f in set %u", rule_name(r),
			    rule_score_in(r, set), set);
		/*
		 * NN_sa_*.cf (25_sa_evals.cf, 26_sa_mime.cf) keep
		 * SpamAssassin's names on purpose
		 */
		ck_assert_msg(strncmp(rule_name(r), "MW_", 3) == 0 ||
		    sa_file(rule_source(r, NULL)), "%s: shipped rules are "
		    "named MW_* (SpamAssassin's names: in NN_sa_*.cf)",
		    rule_name(r));
	}
	rules_free(rs);
	rules_report_release(&rep);
}
END_TEST

static struct msg *
read_msg(const char *path)
{
	struct msg_limits lim = { 1 << 20, 1 << 20, 1000, 100 };
	struct buf t = BUF_INIT, why = BUF_INIT;
	struct msg *m;

	ck_assert_msg(files_read(path, 1 << 20, &t, &why) == 0, "%s",
	    buf_cstr(&why));
	m = msg_new(&lim);
	msgparse_text(m, t.data, t.len);
	buf_release(&t);
	buf_release(&why);
	return m;
}

START_TEST(test_shipped_rules_each_hits_its_test_message)
{
	struct rules_report rep;
	struct ruleset *rs = shipped(&rep);
	struct mime_limits lim;
	struct rules_result res;
	const struct rule *r;
	struct mime_msg *mm;
	struct msg *m;
	char path[4096];
	size_t i, k, tested = 0;
	bool hit;

	mime_limits_default(&lim);
	for (i = 0; i < rules_count(rs); i++) {
		r = rules_get(rs, i);
		if (!rule_scored_in_any(r) || stock_file(rule_source(r, NULL)))
			continue;
		snprintf(path, sizeof(path), "%s/rules/%s.eml", TEST_DATA,
		    rule_name(r));
		ck_assert_msg(access(path, R_OK) == 0, "%s: no test message "
		    "%s", rule_name(r), path);
		m = read_msg(path);
		mm = mime_parse(m, &lim);
		rules_eval(rs, m, mm, 0, &res);
		hit = false;
		for (k = 0; k < res.nhits; k++)
			if (res.hits[k].rule == r)
				hit = true;
		ck_assert_msg(hit, "%s does not hit %s", rule_name(r), path);
		rules_result_release(&res);
		mime_free(&mm);
		msg_free(&m);
		tested++;
	}
	ck_assert_uint_ge(tested, 40);
	rules_free(rs);
	rules_report_release(&rep);
}
END_TEST

/* scan_auto - scan a shipped rule's test message with conf text */
static struct scan *
scan_auto(const char *conf_text, const char *rule, struct engine **e,
    struct msg **m, struct buf *t)
{
	struct buf why = BUF_INIT;
	char path[4096];

	*e = test_engine(conf_text);
	snprintf(path, sizeof(path), "%s/rules/%s.eml", TEST_DATA, rule);
	buf_reset(t);
	ck_assert(files_read(path, 1 << 20, t, &why) == 0);
	buf_release(&why);
	return test_scan_text(*e, "192.0.2.1", "mail.example", "a@b.example",
	    "c@d.example", t->data, t->len, m);
}

START_TEST(test_shipped_scores_auto_picks_the_column)
{
	/* the shipped 90_scores.cf through rules_score_set = auto: without
	 * Bayes the no-Bayes column, and a store that has learned nothing
	 * is no Bayes either */
	struct buf conf = BUF_INIT, t = BUF_INIT;
	const struct symbol *y;
	const struct rule *r;
	struct engine *e;
	struct scan *s;
	struct msg *m;
	char dir[256];

	test_mkdtemp(dir, sizeof(dir), "check_shipped_auto");
	buf_printf(&conf, "rules_dir = %s\nrules_site_dir =\nspf = no\n"
	    "dmarc = no\n", RULES_SRC);
	s = scan_auto(conf.data, "MW_SUBJ_ADV", &e, &m, &t);
	ck_assert_uint_eq(e->score_set, 0);
	ck_assert_int_eq(s->verdict.score_set, 0);
	ck_assert_ptr_nonnull(r = rules_find(e->rules, "MW_SUBJ_ADV"));
	ck_assert_ptr_nonnull(y = verdict_symbol(&s->verdict, "MW_SUBJ_ADV"));
	ck_assert(y->score == rule_score_in(r, 0));
	scan_free(&s);
	msg_free(&m);
	engine_unref(e);
	buf_printf(&conf, "bayes_store = %s/db\n", dir);
	s = scan_auto(conf.data, "MW_SUBJ_ADV", &e, &m, &t);
	ck_assert_uint_eq(e->score_set, 2);
	ck_assert_int_eq(s->verdict.score_set, 0);	/* untrained */
	ck_assert_ptr_nonnull(r = rules_find(e->rules, "MW_SUBJ_ADV"));
	ck_assert_ptr_nonnull(y = verdict_symbol(&s->verdict, "MW_SUBJ_ADV"));
	ck_assert(y->score == rule_score_in(r, 0));
	scan_free(&s);
	msg_free(&m);
	engine_unref(e);
	buf_adds(&conf, "rules_score_set = 3\n");
	s = scan_auto(conf.data, "MW_SUBJ_ADV", &e, &m, &t);
	ck_assert_int_eq(s->verdict.score_set, 3);
	ck_assert_ptr_nonnull(y = verdict_symbol(&s->verdict, "MW_SUBJ_ADV"));
	ck_assert(y->score == rule_score_in(rules_find(e->rules,
	    "MW_SUBJ_ADV"), 3));
	scan_free(&s);
	msg_free(&m);
	engine_unref(e);
	test_rmtree(dir);
	buf_release(&conf);
	buf_release(&t);
}
END_TEST

/*
 * The bar: the whole set tags none of the test ham.  The whole
 * content pipeline runs (scan with the shipped rules, MIME symbols
 * included); the corpus comes from $SHARED_DIR and is unpacked into a
 * temporary directory.
 */
START_TEST(test_shipped_rules_tag_no_test_ham)
{
	const char *tarball = shared_data("corpus/test/ham.tar.xz");
	char dir[] = "/tmp/mw-ham-XXXXXX", cmd[8192], path[8192];
	struct buf conf = BUF_INIT, t = BUF_INIT, why = BUF_INIT;
	struct engine *e;
	struct scan *s;
	struct msg *m;
	struct dirent *d;
	DIR *dp;
	size_t n = 0, tagged = 0;

	if (tarball == NULL)
		return;		/* no corpus here: nothing to measure */
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(cmd, sizeof(cmd), "tar -xJf '%s' -C '%s'", tarball, dir);
	ck_assert_int_eq(system(cmd), 0);
	buf_printf(&conf, "rules_dir = %s\nrules_site_dir =\nspf = no\n"
	    "dmarc = no\n", RULES_SRC);
	e = test_engine(conf.data);
	snprintf(path, sizeof(path), "%s/test/ham", dir);
	ck_assert_ptr_nonnull(dp = opendir(path));
	while ((d = readdir(dp)) != NULL) {
		if (d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/test/ham/%s", dir, d->d_name);
		buf_reset(&t);
		ck_assert(files_read(path, 64u << 20, &t, &why) == 0);
		s = test_scan_text(e, "192.0.2.1", "mail.example", "a@b.example",
		    "c@d.example", t.data, t.len, &m);
		if (s->verdict.action != ACTION_ACCEPT) {
			fprintf(stderr, "tagged ham: %s score %.1f\n",
			    d->d_name, s->verdict.score);
			tagged++;
		}
		n++;
		scan_free(&s);
		msg_free(&m);
	}
	closedir(dp);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
	ck_assert_uint_ge(n, 800);
	ck_assert_msg(tagged == 0, "%zu of %zu ham messages tagged", tagged, n);
	engine_unref(e);
	buf_release(&conf);
	buf_release(&t);
	buf_release(&why);
}
END_TEST

static Suite *
shipped_suite(void)
{
	Suite *s = suite_create("rules_shipped");
	TCase *tc = tcase_create("shipped");

	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_shipped_rules_load_clean);
	tcase_add_test(tc, test_shipped_rules_described_and_conservative);
	tcase_add_test(tc, test_shipped_rules_each_hits_its_test_message);
	tcase_add_test(tc, test_shipped_scores_auto_picks_the_column);
	tcase_add_test(tc, test_shipped_rules_tag_no_test_ham);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(shipped_suite());
}
