/*
 * check_fit.c - the score fitter on synthetic data with known answers
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "fit.h"
#include "helpers.h"

/* a data set built message by message */
struct ds {
	struct fit_data d;
	size_t	*off;
	uint32_t *idx;
	unsigned char *spam;
	double	*fixed;
	size_t	 cap, nidx;
};

static void
ds_init(struct ds *s, size_t nfeat)
{
	memset(s, 0, sizeof(*s));
	s->d.nfeat = nfeat;
	s->off = xcalloc(1, sizeof(*s->off));
}

/* ds_add - n copies of a message with features f[0..nf) */
static void
ds_add(struct ds *s, int spam, size_t n, const uint32_t *f, size_t nf,
    double fixed)
{
	size_t i, k, e;

	for (i = 0; i < n; i++) {
		e = s->d.nex++;
		s->off = xreallocarray(s->off, e + 2, sizeof(*s->off));
		s->spam = xreallocarray(s->spam, e + 1, 1);
		s->fixed = xreallocarray(s->fixed, e + 1, sizeof(double));
		s->idx = xreallocarray(s->idx, s->nidx + nf + 1,
		    sizeof(*s->idx));
		for (k = 0; k < nf; k++)
			s->idx[s->nidx++] = f[k];
		s->off[e + 1] = s->nidx;
		s->spam[e] = (unsigned char)spam;
		s->fixed[e] = fixed;
	}
	s->d.off = s->off;
	s->d.idx = s->idx;
	s->d.spam = s->spam;
	s->d.fixed = s->fixed;
}

static void
ds_free(struct ds *s)
{
	free(s->off);
	free(s->idx);
	free(s->spam);
	free(s->fixed);
}

static struct fit_params
params(void)
{
	struct fit_params p = {
		.ham_cost = 10, .ham_loss = 0, .tag_score = 5, .margin = 1,
		.folds = 5, .seed = 1
	};
	return p;
}

START_TEST(test_fit_logistic_matches_closed_form)
{
	/* one feature: hit by 30 spam and 10 ham, missed by 10 spam and
	 * 30 ham: bias = logit(1/4), weight = logit(3/4) - logit(1/4) */
	struct ds s;
	uint32_t a = 0;
	double *c, w, b;
	size_t i;

	ds_init(&s, 1);
	ds_add(&s, 1, 30, &a, 1, 0);
	ds_add(&s, 0, 10, &a, 1, 0);
	ds_add(&s, 1, 10, NULL, 0, 0);
	ds_add(&s, 0, 30, NULL, 0, 0);
	c = xcalloc(s.d.nex, sizeof(*c));
	for (i = 0; i < s.d.nex; i++)
		c[i] = 1;
	fit_logistic(&s.d, c, 1e-9, NULL, NULL, 0, &w, &b);
	ck_assert_double_eq_tol(b, log(1.0 / 3), 1e-4);
	ck_assert_double_eq_tol(w, 2 * log(3.0), 1e-4);
	/* a ham weight of 3 moves the bias by -log 3, not the weight */
	for (i = 0; i < s.d.nex; i++)
		c[i] = s.d.spam[i] ? 1 : 3;
	fit_logistic(&s.d, c, 1e-9, NULL, NULL, 0, &w, &b);
	ck_assert_double_eq_tol(b, log(1.0 / 9), 1e-4);
	ck_assert_double_eq_tol(w, 2 * log(3.0), 1e-4);
	/* regularisation shrinks the weight */
	fit_logistic(&s.d, c, 10, NULL, NULL, 0, &w, &b);
	ck_assert(w > 0 && w < 2 * log(3.0) - 0.1);
	free(c);
	ds_free(&s);
}
END_TEST

START_TEST(test_fit_separable_tags_all_spam_no_ham)
{
	/* feature 0 in every spam, feature 1 in every ham, feature 2 in
	 * both alike */
	struct ds s;
	uint32_t sp[] = { 0, 2 }, hm[] = { 1, 2 };
	struct fit_params p = params();
	struct fit_result r;

	ds_init(&s, 3);
	ds_add(&s, 1, 100, sp, 2, 0);
	ds_add(&s, 0, 200, hm, 2, 0);
	ck_assert_int_eq(fit_scores(&s.d, &p, &r), 0);
	ck_assert_uint_eq(r.nspam, 100);
	ck_assert_uint_eq(r.nham, 200);
	ck_assert_uint_eq(r.cv_ham_tagged, 0);
	ck_assert_uint_eq(r.cv_spam_missed, 0);
	ck_assert_uint_eq(r.fit_ham_tagged, 0);
	ck_assert_uint_eq(r.fit_spam_missed, 0);
	ck_assert(r.score[0] + r.score[2] >= 5);
	ck_assert(r.score[1] < 0);
	ck_assert(r.score[1] + r.score[2] < 4);
	fit_result_release(&r);
	ds_free(&s);
}
END_TEST

START_TEST(test_fit_ham_only_feature_scores_negative)
{
	/* feature 1 only in ham, among noise features shared by both */
	struct ds s;
	uint32_t f0[] = { 0 }, f01[] = { 0, 1 }, f2[] = { 2 }, f02[] = { 0, 2 };
	struct fit_params p = params();
	struct fit_result r;

	ds_init(&s, 3);
	ds_add(&s, 1, 60, f0, 1, 0);
	ds_add(&s, 1, 40, f02, 2, 0);
	ds_add(&s, 0, 10, f0, 1, 0);
	ds_add(&s, 0, 50, f01, 2, 0);
	ds_add(&s, 0, 100, f2, 1, 0);
	ck_assert_int_eq(fit_scores(&s.d, &p, &r), 0);
	ck_assert(r.score[1] < 0);
	ck_assert(r.score[0] > 0);
	fit_result_release(&r);
	ds_free(&s);
}
END_TEST

START_TEST(test_fit_bounds_keep_sign)
{
	/* the same data, feature 1 bounded to [0, inf): it scores 0 */
	struct ds s;
	uint32_t f0[] = { 0 }, f01[] = { 0, 1 };
	double lo[] = { 0, 0 }, hi[] = { INFINITY, INFINITY };
	struct fit_params p = params();
	struct fit_result r;

	ds_init(&s, 2);
	ds_add(&s, 1, 60, f0, 1, 0);
	ds_add(&s, 0, 10, f0, 1, 0);
	ds_add(&s, 0, 50, f01, 2, 0);
	ds_add(&s, 0, 100, NULL, 0, 0);
	p.lo = lo;
	p.hi = hi;
	ck_assert_int_eq(fit_scores(&s.d, &p, &r), 0);
	ck_assert(r.score[1] == 0);
	ck_assert(r.score[0] > 0);
	fit_result_release(&r);
	ds_free(&s);
}
END_TEST

/* noisy: an overlap of ham and spam that no score separates */
static void
noisy(struct ds *s)
{
	uint32_t a[] = { 0 }, ab[] = { 0, 1 }, abc[] = { 0, 1, 2 },
	    bc[] = { 1, 2 }, c[] = { 2 }, d[] = { 3 }, abe[] = { 0, 1, 4 };

	ds_init(s, 5);
	ds_add(s, 1, 30, abe, 3, 0);
	ds_add(s, 1, 40, abc, 3, 0);
	ds_add(s, 1, 60, ab, 2, 0);
	ds_add(s, 1, 50, a, 1, 0);
	ds_add(s, 1, 30, c, 1, 0);
	ds_add(s, 1, 20, d, 1, 0);
	ds_add(s, 0, 3, abc, 3, 0);
	ds_add(s, 0, 10, ab, 2, 0);
	ds_add(s, 0, 40, a, 1, 0);
	ds_add(s, 0, 60, bc, 2, 0);
	ds_add(s, 0, 300, c, 1, 0);
	ds_add(s, 0, 600, NULL, 0, 0);
	ds_add(s, 0, 10, d, 1, 0);
}

START_TEST(test_fit_ham_loss_bound_holds)
{
	struct ds s;
	struct fit_params p = params();
	struct fit_result r0, r1;
	size_t ht, sm;

	noisy(&s);
	ck_assert_int_eq(fit_scores(&s.d, &p, &r0), 0);
	/* no ham at or above tag_score - margin, cross-validated */
	ck_assert_uint_eq(r0.cv_ham_tagged_margin, 0);
	ck_assert_uint_eq(r0.cv_ham_tagged, 0);
	ck_assert(r0.cv_spam_missed > 0);	/* the overlap costs spam */
	ck_assert(r0.cv_spam_missed < r0.nspam);
	/* the final scores respect it on the data too */
	fit_count(&s.d, r0.score, p.tag_score - p.margin, &ht, &sm);
	ck_assert_uint_eq(ht, 0);
	/* a looser bound: at most 1% of ham, and no more spam missed */
	p.ham_loss = p.margin_loss = 0.01;
	ck_assert_int_eq(fit_scores(&s.d, &p, &r1), 0);
	ck_assert(r1.cv_ham_tagged_margin <= r1.nham / 100);
	ck_assert(r1.cv_spam_missed <= r0.cv_spam_missed);
	fit_result_release(&r1);
	/* none at tag_score, 1% within the margin: between the two */
	p.ham_loss = 0;
	ck_assert_int_eq(fit_scores(&s.d, &p, &r1), 0);
	ck_assert_uint_eq(r1.cv_ham_tagged, 0);
	ck_assert(r1.cv_ham_tagged_margin <= r1.nham / 100);
	ck_assert(r1.cv_spam_missed <= r0.cv_spam_missed);
	fit_result_release(&r0);
	fit_result_release(&r1);
	ds_free(&s);
}
END_TEST

START_TEST(test_fit_fixed_scores_count)
{
	/* a ham whose symbols not fitted already score 4.5 cannot be
	 * kept under 5 - 1 by any scale */
	struct ds s;
	uint32_t a = 0;
	struct fit_params p = params();
	struct fit_result r;

	ds_init(&s, 1);
	ds_add(&s, 1, 50, &a, 1, 0);
	ds_add(&s, 0, 100, NULL, 0, 0);
	ds_add(&s, 0, 1, NULL, 0, 4.5);
	ck_assert_int_eq(fit_scores(&s.d, &p, &r), -1);
	ck_assert_ptr_nonnull(r.why);
	ck_assert_ptr_null(r.score);
	/* allowed when the bound admits one ham in 101 */
	p.ham_loss = p.margin_loss = 0.01;
	ck_assert_int_eq(fit_scores(&s.d, &p, &r), 0);
	ck_assert_uint_eq(r.cv_ham_tagged_margin, 1);
	fit_result_release(&r);
	ds_free(&s);
}
END_TEST

START_TEST(test_fit_intercept_takes_the_bias)
{
	/* feature 0 in every message (a Bayes band base), feature 1 a
	 * spam sign: with intercept the base carries the bias, so the
	 * base alone scores below 0 and base + sign reaches tag_score */
	struct ds s;
	uint32_t b[] = { 0 }, bs[] = { 0, 1 };
	struct fit_params p = params();
	struct fit_result r;

	ds_init(&s, 2);
	ds_add(&s, 1, 200, bs, 2, 0);
	ds_add(&s, 1, 20, b, 1, 0);
	ds_add(&s, 0, 300, b, 1, 0);
	ds_add(&s, 0, 2, bs, 2, 0);
	p.intercept = 1;
	p.ham_loss = p.margin_loss = 0.01;
	ck_assert_int_eq(fit_scores(&s.d, &p, &r), 0);
	ck_assert(r.score[0] < 0);
	ck_assert(r.score[0] + r.score[1] >= p.tag_score);
	ck_assert(r.scale <= p.tag_score);	/* cut at logit >= 1 */
	ck_assert_uint_eq(r.fit_spam_missed, 20);
	fit_result_release(&r);
	p.intercept = 3;			/* no such feature */
	ck_assert_int_eq(fit_scores(&s.d, &p, &r), -1);
	ds_free(&s);
}
END_TEST

START_TEST(test_fit_folds_stratified_and_seeded)
{
	struct ds s;
	unsigned f1[103], f2[103], f3[103], nspam[5] = { 0 }, nham[5] = { 0 };
	size_t i;

	ds_init(&s, 1);
	ds_add(&s, 1, 23, NULL, 0, 0);
	ds_add(&s, 0, 80, NULL, 0, 0);
	fit_folds(&s.d, 5, 7, f1);
	fit_folds(&s.d, 5, 7, f2);
	fit_folds(&s.d, 5, 8, f3);
	ck_assert_mem_eq(f1, f2, sizeof(f1));
	ck_assert(memcmp(f1, f3, sizeof(f1)) != 0);
	for (i = 0; i < s.d.nex; i++) {
		ck_assert_uint_lt(f1[i], 5);
		s.d.spam[i] ? nspam[f1[i]]++ : nham[f1[i]]++;
	}
	for (i = 0; i < 5; i++) {
		ck_assert(nspam[i] == 4 || nspam[i] == 5);
		ck_assert_uint_eq(nham[i], 16);
	}
	ds_free(&s);
}
END_TEST

START_TEST(test_fit_rejects_bad_input)
{
	struct ds s;
	uint32_t a = 0;
	struct fit_params p = params();
	struct fit_result r;

	ds_init(&s, 1);
	ds_add(&s, 1, 10, &a, 1, 0);
	ck_assert_int_eq(fit_scores(&s.d, &p, &r), -1);	/* no ham */
	ck_assert_ptr_nonnull(r.why);
	ds_add(&s, 0, 10, NULL, 0, 0);
	p.margin = 5;
	ck_assert_int_eq(fit_scores(&s.d, &p, &r), -1);
	p.margin = 1;
	p.folds = 1;
	ck_assert_int_eq(fit_scores(&s.d, &p, &r), -1);
	ds_free(&s);
}
END_TEST

static Suite *
fit_suite(void)
{
	Suite *s = suite_create("fit");
	TCase *tc = tcase_create("fit");
	/* the cross-validated fits take a few seconds unloaded; more under
	 * ASan or a busy machine than Check's default 4 s */
	tcase_set_timeout(tc, 120);

	tcase_add_test(tc, test_fit_logistic_matches_closed_form);
	tcase_add_test(tc, test_fit_separable_tags_all_spam_no_ham);
	tcase_add_test(tc, test_fit_ham_only_feature_scores_negative);
	tcase_add_test(tc, test_fit_bounds_keep_sign);
	tcase_add_test(tc, test_fit_ham_loss_bound_holds);
	tcase_add_test(tc, test_fit_fixed_scores_count);
	tcase_add_test(tc, test_fit_folds_stratified_and_seeded);
	tcase_add_test(tc, test_fit_intercept_takes_the_bias);
	tcase_add_test(tc, test_fit_rejects_bad_input);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(fit_suite());
}
