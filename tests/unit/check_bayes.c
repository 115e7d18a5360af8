/*
 * check_bayes.c - token sets, the token hash and the classifier math
 *
 * Expected values are worked out by hand in the comments, from the
 * formulas in include/bayes.h.
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bayes.h"
#include "buf.h"
#include "helpers.h"

#define EPS	1e-6

/* ---------------------------------------------------------------- */
/* hash and token sets */

/* the store is keyed by these: a change here is a store format change */
static const struct {
	const char *text;
	uint64_t want;
} hash_cases[] = {
	{ "", 0x506a6a9aefea3facULL },
	{ "a", 0x9de1728e496fecfeULL },
	{ "subject:free", 0x24b072033f7aec83ULL },
	{ "0123456789abcdef", 0x143bfbe9c2e81286ULL },
	{ "url:domain:example.com", 0xb6e2a257aabbcc12ULL },
};

START_TEST(test_bayes_hash_is_stable)
{
	const char *t = hash_cases[_i].text;

	ck_assert_msg(bayes_hash(t, strlen(t)) == hash_cases[_i].want,
	    "\"%s\": got %016llx", t,
	    (unsigned long long)bayes_hash(t, strlen(t)));
}
END_TEST

static int
u64cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

START_TEST(test_bayes_hash_no_collisions_in_200k_similar_tokens)
{
	enum { N = 200000 };
	uint64_t *h = xcalloc(N, sizeof(*h));
	unsigned buckets[256] = { 0 };
	char tmp[32];
	size_t i;
	int n;

	for (i = 0; i < N; i++) {
		n = snprintf(tmp, sizeof(tmp), "word%zu", i);
		h[i] = bayes_hash(tmp, (size_t)n);
		buckets[h[i] & 255]++;
	}
	qsort(h, N, sizeof(*h), u64cmp);
	for (i = 1; i < N; i++)
		ck_assert_msg(h[i] != h[i - 1], "collision at %zu", i);
	/* low byte roughly uniform: expected 781 per bucket */
	for (i = 0; i < 256; i++)
		ck_assert_msg(buckets[i] > 600 && buckets[i] < 960,
		    "bucket %zu has %u", i, buckets[i]);
	free(h);
}
END_TEST

START_TEST(test_bayes_toks_deduplicate_and_keep_order)
{
	struct bayes_toks t;

	bayes_toks_init(&t, 100, true);
	ck_assert(bayes_toks_add(&t, "free", 4));
	ck_assert(bayes_toks_add(&t, "money", 5));
	ck_assert(bayes_toks_add(&t, "free", 4));
	ck_assert_uint_eq(t.n, 2);
	ck_assert_uint_eq(t.seen, 3);
	ck_assert_str_eq(bayes_tok_text(&t, 0), "free");
	ck_assert_str_eq(bayes_tok_text(&t, 1), "money");
	bayes_toks_release(&t);
}
END_TEST

START_TEST(test_bayes_toks_add2_hashes_the_joined_text)
{
	struct bayes_toks t;

	bayes_toks_init(&t, 10, true);
	bayes_toks_add2(&t, "subject:", "free", 4);
	ck_assert_uint_eq(t.v[0].hash, bayes_hash("subject:free", 12));
	ck_assert_str_eq(bayes_tok_text(&t, 0), "subject:free");
	/* the same token through the other door is a duplicate */
	bayes_toks_add(&t, "subject:free", 12);
	ck_assert_uint_eq(t.n, 1);
	bayes_toks_release(&t);
}
END_TEST

START_TEST(test_bayes_toks_cap_counts_dropped)
{
	struct bayes_toks t;
	char tmp[16];
	int i, n;

	bayes_toks_init(&t, 50, false);
	for (i = 0; i < 80; i++) {
		n = snprintf(tmp, sizeof(tmp), "t%d", i);
		bayes_toks_add(&t, tmp, (size_t)n);
	}
	ck_assert_uint_eq(t.n, 50);
	ck_assert_uint_eq(t.dropped, 30);
	/* texts not kept: hashes only */
	ck_assert_str_eq(bayes_tok_text(&t, 3), "");
	bayes_toks_reset(&t);
	ck_assert_uint_eq(t.n, 0);
	bayes_toks_add(&t, "again", 5);
	ck_assert_uint_eq(t.n, 1);
	bayes_toks_release(&t);
}
END_TEST

START_TEST(test_bayes_toks_long_token_is_cut_not_overflowed)
{
	struct bayes_toks t;
	char big[1000];

	memset(big, 'x', sizeof(big));
	bayes_toks_init(&t, 10, true);
	bayes_toks_add(&t, big, sizeof(big));
	bayes_toks_add2(&t, "prefix:", big, sizeof(big));
	ck_assert_uint_eq(t.v[0].len, BAYES_TOKEN_MAX);
	ck_assert_uint_eq(t.v[1].len, BAYES_TOKEN_MAX);
	ck_assert_uint_eq(strlen(bayes_tok_text(&t, 1)), BAYES_TOKEN_MAX);
	bayes_toks_release(&t);
}
END_TEST

/* ---------------------------------------------------------------- */
/* the math */

static const struct bayes_params plain = { 1.0, 0.5, 0.0, 0 };

static const struct {
	const char *name;
	uint64_t nspam, nham;
	uint32_t spam, ham;
	double want;
} f_cases[] = {
	/* p = .3/(.3+.1) = .75, n = 4: (1*.5 + 4*.75)/(1+4) = .7 */
	{ "3 of 10 spam, 1 of 10 ham", 10, 10, 3, 1, 0.7 },
	/* never seen: the prior */
	{ "unknown token", 10, 10, 0, 0, 0.5 },
	/* same rate in both classes: 10/100 = 1/10, p = .5 */
	{ "rates not raw counts", 100, 10, 10, 1, 0.5 },
	/* p = 1, n = 1: (.5 + 1)/2 = .75 */
	{ "seen once in spam", 10, 10, 1, 0, 0.75 },
	/* p = 0, n = 9: .5/10 = .05 */
	{ "seen 9 times in ham", 10, 10, 0, 9, 0.05 },
	/* no ham learned at all: ps = .2, ph = 0, p = 1, n = 2: 2.5/3 */
	{ "no ham learned", 10, 0, 2, 0, 2.5 / 3 },
	/* count above the total (stale store) clamps to rate 1 */
	{ "count above total", 5, 5, 9, 0, 9.5 / 10 },
};

START_TEST(test_bayes_f_matches_hand_values)
{
	double f = bayes_f(&plain, f_cases[_i].nspam, f_cases[_i].nham,
	    f_cases[_i].spam, f_cases[_i].ham);

	ck_assert_msg(fabs(f - f_cases[_i].want) < EPS, "%s: got %.9f, want "
	    "%.9f", f_cases[_i].name, f, f_cases[_i].want);
}
END_TEST

START_TEST(test_bayes_f_strength_pulls_toward_prior)
{
	struct bayes_params bp = { 4.0, 0.4, 0.0, 0 };

	/* p = 1, n = 1: (4*.4 + 1)/5 = .52 */
	ck_assert(fabs(bayes_f(&bp, 10, 10, 1, 0) - 0.52) < EPS);
	/* p = 1, n = 100: (1.6 + 100)/104 */
	ck_assert(fabs(bayes_f(&bp, 100, 100, 100, 0) - 101.6 / 104) < EPS);
}
END_TEST

static const struct {
	double x2;
	size_t half;
	double want;
} chi_cases[] = {
	{ 2.0, 1, 0.36787944117 },		/* e^-1 */
	{ 4.0, 2, 0.40600584970 },		/* e^-2 (1 + 2) */
	/* e^-3 (1 + 3 + 9/2) = 8.5 e^-3 */
	{ 6.0, 3, 0.42319008112 },
	{ 0.0, 3, 1.0 },
	{ 5.0, 0, 1.0 },
};

START_TEST(test_bayes_chi2q_matches_closed_form)
{
	double q = bayes_chi2q(chi_cases[_i].x2, chi_cases[_i].half);

	ck_assert_msg(fabs(q - chi_cases[_i].want) < 1e-9, "chi2q(%g, %zu): "
	    "got %.11f", chi_cases[_i].x2, chi_cases[_i].half, q);
}
END_TEST

START_TEST(test_bayes_chi2q_no_underflow_with_many_clues)
{
	/* 300 clues of f = .001: x2 = 600 * 6.9 = 4145; tiny, not NaN */
	double q = bayes_chi2q(-2.0 * 300 * log(0.001), 300);

	ck_assert(isfinite(q));
	ck_assert(q >= 0 && q < 1e-100);
	/* 300 clues of .999: x2 = 0.6; essentially 1 */
	q = bayes_chi2q(-2.0 * 300 * log(0.999), 300);
	ck_assert(fabs(q - 1.0) < 1e-12);
}
END_TEST

START_TEST(test_bayes_classify_one_clue_gives_its_f)
{
	/* 3/10 spam, 1/10 ham: f = .7; H = e^{ln .7} = .7, S = .3 */
	struct bayes_counts c[] = { { 3, 1, 0 } };
	struct bayes_result r;

	bayes_classify(&plain, 10, 10, c, 1, &r);
	ck_assert_uint_eq(r.nclues, 1);
	ck_assert(fabs(r.spamminess - 0.7) < EPS);
	ck_assert(fabs(r.hamminess - 0.3) < EPS);
	ck_assert(fabs(r.prob - 0.7) < EPS);
	bayes_result_release(&r);
}
END_TEST

START_TEST(test_bayes_classify_two_clues_by_hand)
{
	/*
	 * Two tokens with f = .7:
	 * H: m = -ln .49 = .713350, Q = .49 (1 + m) = .839542
	 * S: m = -ln .09 = 2.407946, Q = .09 (1 + m) = .306715
	 * I = (1 + .839542 - .306715) / 2 = .766413
	 */
	struct bayes_counts c[] = { { 3, 1, 0 }, { 3, 1, 0 } };
	struct bayes_result r;
	double h = 0.49 * (1 - log(0.49)), s = 0.09 * (1 - log(0.09));

	bayes_classify(&plain, 10, 10, c, 2, &r);
	ck_assert(fabs(r.spamminess - h) < EPS);
	ck_assert(fabs(r.hamminess - s) < EPS);
	ck_assert(fabs(r.prob - (1 + h - s) / 2) < EPS);
	ck_assert(fabs(r.prob - 0.766413) < 1e-5);
	bayes_result_release(&r);
}
END_TEST

START_TEST(test_bayes_classify_opposite_clues_cancel)
{
	/* f = .7 and f = .3: H = S, I = .5 exactly */
	struct bayes_counts c[] = { { 3, 1, 0 }, { 1, 3, 0 } };
	struct bayes_result r;

	bayes_classify(&plain, 10, 10, c, 2, &r);
	ck_assert(fabs(r.prob - 0.5) < 1e-12);
	bayes_result_release(&r);
}
END_TEST

START_TEST(test_bayes_classify_min_dev_drops_weak_tokens)
{
	/* f = .7 and .55 with min_dev .1: only .7 counts, I = .7 */
	struct bayes_params bp = { 1.0, 0.5, 0.1, 0 };
	/* 3/20 vs 1/20: p = .75, f = .7; 11/20 vs 9/20: p = .55, n = 20:
	   (.5 + 11)/21 = .547619; unknown: .5 */
	struct bayes_counts c[] = { { 3, 1, 0 }, { 11, 9, 0 }, { 0, 0, 0 } };
	struct bayes_result r;

	bayes_classify(&bp, 20, 20, c, 3, &r);
	ck_assert_uint_eq(r.ntokens, 3);
	ck_assert_uint_eq(r.nknown, 2);
	ck_assert_uint_eq(r.nclues, 1);
	ck_assert_uint_eq(r.clues[0].idx, 0);
	ck_assert(fabs(r.prob - 0.7) < EPS);
	bayes_result_release(&r);
}
END_TEST

START_TEST(test_bayes_classify_max_clues_keeps_most_extreme)
{
	struct bayes_params bp = { 1.0, 0.5, 0.0, 2 };
	/* f: .7, .05 (0 of 10 spam, 9 of 10 ham), .75 (1 spam) */
	struct bayes_counts c[] = { { 3, 1, 0 }, { 0, 9, 0 }, { 1, 0, 0 } };
	struct bayes_result r;

	bayes_classify(&bp, 10, 10, c, 3, &r);
	ck_assert_uint_eq(r.nclues, 2);
	ck_assert_uint_eq(r.clues[0].idx, 1);	/* |.05 - .5| = .45 */
	ck_assert_uint_eq(r.clues[1].idx, 2);	/* |.75 - .5| = .25 */
	bayes_result_release(&r);
}
END_TEST

START_TEST(test_bayes_classify_no_clue_is_neutral)
{
	struct bayes_result r;

	bayes_classify(&plain, 10, 10, NULL, 0, &r);
	ck_assert(r.prob == 0.5);
	ck_assert_uint_eq(r.nclues, 0);
	bayes_result_release(&r);
}
END_TEST

START_TEST(test_bayes_classify_extremes_stay_in_range)
{
	enum { N = 400 };
	struct bayes_counts *c = xcalloc(N, sizeof(*c));
	struct bayes_params bp = { 0.4, 0.5, 0.1, 0 };
	struct bayes_result r;
	size_t i;

	for (i = 0; i < N; i++)
		c[i].spam = 1000;
	bayes_classify(&bp, 1000, 1000, c, N, &r);
	ck_assert(r.prob > 0.999999 && r.prob <= 1.0);
	bayes_result_release(&r);
	for (i = 0; i < N; i++) {
		c[i].spam = 0;
		c[i].ham = 1000;
	}
	bayes_classify(&bp, 1000, 1000, c, N, &r);
	ck_assert(r.prob < 1e-6 && r.prob >= 0.0);
	bayes_result_release(&r);
	free(c);
}
END_TEST

static Suite *
bayes_suite(void)
{
	Suite *s = suite_create("bayes");
	TCase *tc = tcase_create("tokens");

	tcase_add_loop_test(tc, test_bayes_hash_is_stable, 0,
	    sizeof(hash_cases) / sizeof(hash_cases[0]));
	tcase_add_test(tc, test_bayes_hash_no_collisions_in_200k_similar_tokens);
	tcase_add_test(tc, test_bayes_toks_deduplicate_and_keep_order);
	tcase_add_test(tc, test_bayes_toks_add2_hashes_the_joined_text);
	tcase_add_test(tc, test_bayes_toks_cap_counts_dropped);
	tcase_add_test(tc, test_bayes_toks_long_token_is_cut_not_overflowed);
	suite_add_tcase(s, tc);

	tc = tcase_create("math");
	tcase_add_loop_test(tc, test_bayes_f_matches_hand_values, 0,
	    sizeof(f_cases) / sizeof(f_cases[0]));
	tcase_add_test(tc, test_bayes_f_strength_pulls_toward_prior);
	tcase_add_loop_test(tc, test_bayes_chi2q_matches_closed_form, 0,
	    sizeof(chi_cases) / sizeof(chi_cases[0]));
	tcase_add_test(tc, test_bayes_chi2q_no_underflow_with_many_clues);
	tcase_add_test(tc, test_bayes_classify_one_clue_gives_its_f);
	tcase_add_test(tc, test_bayes_classify_two_clues_by_hand);
	tcase_add_test(tc, test_bayes_classify_opposite_clues_cancel);
	tcase_add_test(tc, test_bayes_classify_min_dev_drops_weak_tokens);
	tcase_add_test(tc, test_bayes_classify_max_clues_keeps_most_extreme);
	tcase_add_test(tc, test_bayes_classify_no_clue_is_neutral);
	tcase_add_test(tc, test_bayes_classify_extremes_stay_in_range);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(bayes_suite());
}
