/*
 * fit.c - L2-regularised logistic regression over symbol hits, scaled
 *	to a threshold under a ham-loss bound
 *
 * DESCRIPTION
 *	fit_logistic() is cyclic coordinate descent: one Newton step per
 *	weight (the bias first), halved until the objective does not rise,
 *	then clamped to the weight's bounds.  Features are binary, so the
 *	step of weight j touches only the messages that hit j; the linear
 *	predictor z of every message is kept up to date.  The objective is
 *	convex, so the sweeps converge to its minimum; they stop when no
 *	weight moves by more than 1e-7 (or after max_sweeps).
 *
 *	fit_scores(): folds stratified by label (a seeded shuffle of each
 *	class, dealt round-robin); for each regularisation strength of a
 *	fixed grid, one fit per fold leaving that fold out, scored on it by
 *	the weighted log-loss; the strength with the lowest held-out loss
 *	wins (ties: the stronger).  Its out-of-fold margins m (z without
 *	the bias) decide the scale k: a ham is tagged at threshold t when
 *	k * m + fixed >= t, so the ham_loss bound at tag_score and the
 *	margin_loss bound at tag_score - margin give upper bounds on k; so does calibration (tag no message
 *	that the ham-weighted model finds more likely ham: tag_score / k
 *	>= -bias, and >= 1 when the bias is small).  The smaller bound is
 *	taken.  When every message has
 *	one feature (intercept), the bias is moved into its score, the
 *	margins include it, and calibration asks tag_score / k >= 1.  Scores are k times the
 *	weights of a fit on all messages, rounded to 0.01.
 * DIAGNOSTICS
 *	fit_scores() fails (res->why) without ham or spam, with bad
 *	parameters, or when the fixed score parts alone tag more ham than
 *	the bound allows.
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "fit.h"

static const double l2_grid[FIT_NL2] = {
	0.03, 0.1, 0.3, 1, 3, 10, 30, 100
};

/* colidx - for each feature the messages that hit it (CSC form) */
struct colidx {
	size_t	*off;			/* nfeat + 1 */
	uint32_t *row;
};

static void
colidx_build(const struct fit_data *d, struct colidx *c)
{
	size_t i, k, *pos;

	c->off = xcalloc(d->nfeat + 1, sizeof(*c->off));
	c->row = xcalloc(d->off[d->nex] + 1, sizeof(*c->row));
	for (k = 0; k < d->off[d->nex]; k++)
		c->off[d->idx[k] + 1]++;
	for (i = 0; i < d->nfeat; i++)
		c->off[i + 1] += c->off[i];
	pos = xcalloc(d->nfeat + 1, sizeof(*pos));
	memcpy(pos, c->off, d->nfeat * sizeof(*pos));
	for (i = 0; i < d->nex; i++)
		for (k = d->off[i]; k < d->off[i + 1]; k++)
			c->row[pos[d->idx[k]]++] = (uint32_t)i;
	free(pos);
}

static void
colidx_free(struct colidx *c)
{
	free(c->off);
	free(c->row);
}

/* softplus - log(1 + e^x) without overflow */
static double
softplus(double x)
{
	return x > 0 ? x + log1p(exp(-x)) : log1p(exp(x));
}

/* exloss - the log-loss of one message at linear predictor z */
static double
exloss(bool spam, double z)
{
	return softplus(spam ? -z : z);
}

static double
sigmoid(double z)
{
	return 1.0 / (1.0 + exp(-z));
}

struct cd {
	const struct fit_data *d;
	const struct colidx *col;
	const double *c;		/* example weights */
	double	*z;
	double	 l2;
};

/*
 * coord_step - one guarded Newton step on weight *w whose messages are
 * rows[0..n) (all messages when rows is NULL: the bias, unpenalised).
 * Returns the change made.
 */
static double
coord_step(struct cd *s, const uint32_t *rows, size_t n, double *w,
    double l2, double lo, double hi)
{
	double g = l2 * *w, h = l2 + 1e-12, f0 = 0.5 * l2 * *w * *w, f1, p;
	double step, nw;
	size_t k, i;
	int tries;

	for (k = 0; k < n; k++) {
		i = rows ? rows[k] : k;
		if (s->c[i] == 0)
			continue;
		p = sigmoid(s->z[i]);
		g += s->c[i] * (p - (double)s->d->spam[i]);
		h += s->c[i] * p * (1 - p);
		f0 += s->c[i] * exloss(s->d->spam[i], s->z[i]);
	}
	step = -g / h;
	if (step > 4)
		step = 4;
	if (step < -4)
		step = -4;
	for (tries = 0; tries < 30; tries++, step /= 2) {
		nw = *w + step;
		if (nw < lo)
			nw = lo;
		if (nw > hi)
			nw = hi;
		step = nw - *w;
		if (step == 0)
			return 0;
		f1 = 0.5 * l2 * nw * nw;
		for (k = 0; k < n; k++) {
			i = rows ? rows[k] : k;
			if (s->c[i] != 0)
				f1 += s->c[i] * exloss(s->d->spam[i],
				    s->z[i] + step);
		}
		if (f1 <= f0)
			break;
	}
	if (tries == 30)
		return 0;
	*w += step;
	for (k = 0; k < n; k++)
		s->z[rows ? rows[k] : k] += step;
	return step;
}

static unsigned
cd_run(struct cd *s, double l2, const double *lo, const double *hi,
    unsigned max_sweeps, double *w, double *bias)
{
	const struct colidx *col = s->col;
	double d, maxd;
	unsigned sweep;
	size_t j, i;

	memset(w, 0, s->d->nfeat * sizeof(*w));
	*bias = 0;
	for (i = 0; i < s->d->nex; i++)
		s->z[i] = 0;
	for (j = 0; j < s->d->nfeat; j++)	/* bounds that exclude 0 */
		if ((lo && lo[j] > 0) || (hi && hi[j] < 0)) {
			w[j] = lo && lo[j] > 0 ? lo[j] : hi[j];
			for (i = col->off[j]; i < col->off[j + 1]; i++)
				s->z[col->row[i]] += w[j];
		}
	for (sweep = 0; sweep < max_sweeps; sweep++) {
		maxd = fabs(coord_step(s, NULL, s->d->nex, bias, 0,
		    -INFINITY, INFINITY));
		for (j = 0; j < s->d->nfeat; j++) {
			d = fabs(coord_step(s, col->row + col->off[j],
			    col->off[j + 1] - col->off[j], &w[j], l2,
			    lo ? lo[j] : -INFINITY, hi ? hi[j] : INFINITY));
			if (d > maxd)
				maxd = d;
		}
		if (maxd < 1e-7)
			return sweep + 1;
	}
	return sweep;
}

unsigned
fit_logistic(const struct fit_data *d, const double *weight, double l2,
    const double *lo, const double *hi, unsigned max_sweeps, double *w,
    double *bias)
{
	struct colidx col;
	struct cd s = { d, &col, weight, NULL, l2 };
	unsigned n;

	colidx_build(d, &col);
	s.z = xcalloc(d->nex + 1, sizeof(*s.z));
	n = cd_run(&s, l2, lo, hi, max_sweeps ? max_sweeps : 500, w, bias);
	free(s.z);
	colidx_free(&col);
	return n;
}

/* splitmix64 - the fold shuffle's generator */
static uint64_t
splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

void
fit_folds(const struct fit_data *d, unsigned folds, uint64_t seed,
    unsigned *fold)
{
	size_t *ord = xcalloc(d->nex + 1, sizeof(*ord)), n, i, j, t;
	uint64_t x = seed;
	int cls;

	for (cls = 0; cls < 2; cls++) {
		for (n = 0, i = 0; i < d->nex; i++)
			if (d->spam[i] == cls)
				ord[n++] = i;
		for (i = n; i > 1; i--) {	/* Fisher-Yates */
			j = (size_t)(splitmix64(&x) % i);
			t = ord[i - 1];
			ord[i - 1] = ord[j];
			ord[j] = t;
		}
		for (i = 0; i < n; i++)
			fold[ord[i]] = (unsigned)(i % folds);
	}
	free(ord);
}

static double
fixed_of(const struct fit_data *d, size_t i)
{
	return d->fixed ? d->fixed[i] : 0;
}

void
fit_count(const struct fit_data *d, const double *score, double threshold,
    size_t *ham_tagged, size_t *spam_missed)
{
	size_t i, k;
	double s;

	*ham_tagged = *spam_missed = 0;
	for (i = 0; i < d->nex; i++) {
		s = fixed_of(d, i);
		for (k = d->off[i]; k < d->off[i + 1]; k++)
			s += score[d->idx[k]];
		if (d->spam[i] && s < threshold)
			(*spam_missed)++;
		else if (!d->spam[i] && s >= threshold)
			(*ham_tagged)++;
	}
}

/* cv_pass - out-of-fold margins and held-out loss of one strength */
static double
cv_pass(struct cd *s, const struct fit_params *p, double l2,
    const unsigned *fold, const double *cost, double *c, double *w,
    double *margin)
{
	const struct fit_data *d = s->d;
	double bias, loss = 0, z;
	unsigned f;
	size_t i, k;

	for (f = 0; f < p->folds; f++) {
		for (i = 0; i < d->nex; i++)
			c[i] = fold[i] == f ? 0 : cost[i];
		cd_run(s, l2, p->lo, p->hi, p->max_sweeps ? p->max_sweeps :
		    500, w, &bias);
		for (i = 0; i < d->nex; i++) {
			if (fold[i] != f)
				continue;
			for (z = 0, k = d->off[i]; k < d->off[i + 1]; k++)
				z += w[d->idx[k]];
			margin[i] = p->intercept ? z + bias : z;
			loss += cost[i] * exloss(d->spam[i], z + bias);
		}
	}
	return loss;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/*
 * scale_bound - the largest k with at most frac of the ham at k*m +
 * fixed >= t (just below the crossing of the next one); INFINITY when no
 * more ham can cross, 0 when the fixed parts alone exceed the bound
 */
static double
scale_bound(const struct fit_data *d, const double *m, double t,
    double frac, const struct fit_result *res)
{
	double *kc, k;
	size_t i, n = 0, always = 0, allowed;

	allowed = (size_t)floor(frac * (double)res->nham + 1e-9);
	kc = xcalloc(d->nex + 1, sizeof(*kc));
	for (i = 0; i < d->nex; i++) {
		if (d->spam[i])
			continue;
		if (t - fixed_of(d, i) <= 0)
			always++;
		else if (m[i] > 0)
			kc[n++] = (t - fixed_of(d, i)) / m[i];
	}
	if (always > allowed) {
		free(kc);
		return 0;
	}
	qsort(kc, n, sizeof(*kc), cmp_double);
	k = allowed - always < n ? kc[allowed - always] * (1 - 1e-9) :
	    INFINITY;
	free(kc);
	return k;
}

/*
 * choose_scale - the largest k that keeps both ham-loss bounds (at
 * tag_score and at tag_score - margin), capped by calibration; 0 on
 * failure
 */
static double
choose_scale(const struct fit_data *d, const struct fit_params *p,
    const double *m, double bias, struct fit_result *res)
{
	double k, kmax;

	k = fmin(scale_bound(d, m, p->tag_score, p->ham_loss, res),
	    scale_bound(d, m, p->tag_score - p->margin, p->margin_loss, res));
	if (k == 0) {
		res->why = "the scores of the symbols not fitted tag more ham "
		    "than the ham-loss bound allows";
		return 0;
	}
	if (p->intercept)
		kmax = p->tag_score;
	else
		kmax = p->tag_score / fmax(-bias, 1);
	if (kmax < k)
		k = kmax;
	if (!isfinite(k) || k <= 0) {
		res->why = "no scale separates: the fit has no positive "
		    "margin for spam";
		return 0;
	}
	return k;
}

static void
cv_counts(const struct fit_data *d, const struct fit_params *p,
    const double *m, double k, struct fit_result *res)
{
	double s;
	size_t i;

	for (i = 0; i < d->nex; i++) {
		s = k * m[i] + fixed_of(d, i);
		if (d->spam[i] && s < p->tag_score)
			res->cv_spam_missed++;
		if (!d->spam[i] && s >= p->tag_score)
			res->cv_ham_tagged++;
		if (!d->spam[i] && s >= p->tag_score - p->margin)
			res->cv_ham_tagged_margin++;
	}
}

static int
check_params(const struct fit_data *d, const struct fit_params *p,
    struct fit_result *res)
{
	size_t i;

	for (i = 0; i < d->nex; i++)
		d->spam[i] ? res->nspam++ : res->nham++;
	if (res->nham == 0 || res->nspam == 0)
		res->why = "the fit needs both ham and spam";
	else if (p->folds < 2 || p->folds > res->nham || p->folds > res->nspam)
		res->why = "folds must be at least 2 and at most the number "
		    "of ham and of spam";
	else if (p->intercept > d->nfeat)
		res->why = "intercept names no feature";
	else if (p->ham_cost < 1 || p->ham_loss < 0 || p->ham_loss >= 1 ||
	    p->margin_loss < 0 || p->margin_loss >= 1 ||
	    p->l2 < 0 || p->margin < 0 || p->tag_score - p->margin <= 0)
		res->why = "bad parameters: ham_cost >= 1, 0 <= ham_loss < 1, "
		    "l2 >= 0, 0 <= margin < tag_score";
	return res->why ? -1 : 0;
}

int
fit_scores(const struct fit_data *d, const struct fit_params *p,
    struct fit_result *res)
{
	struct colidx col;
	struct cd s = { d, &col, NULL, NULL, 0 };
	unsigned *fold = NULL;
	double *cost = NULL, *c = NULL, *w = NULL, *m = NULL, *best = NULL;
	double loss, bestloss = INFINITY, k;
	size_t i, g, ng = p->l2 > 0 ? 1 : FIT_NL2;
	int rc = -1;

	memset(res, 0, sizeof(*res));
	if (check_params(d, p, res) < 0)
		return -1;
	colidx_build(d, &col);
	fold = xcalloc(d->nex + 1, sizeof(*fold));
	cost = xcalloc(d->nex + 1, sizeof(*cost));
	c = xcalloc(d->nex + 1, sizeof(*c));
	s.z = xcalloc(d->nex + 1, sizeof(*s.z));
	w = xcalloc(d->nfeat + 1, sizeof(*w));
	m = xcalloc(d->nex + 1, sizeof(*m));
	best = xcalloc(d->nex + 1, sizeof(*best));
	s.c = c;
	fit_folds(d, p->folds, p->seed, fold);
	for (i = 0; i < d->nex; i++)
		cost[i] = d->spam[i] ? 1 : p->ham_cost;
	for (g = 0; g < ng; g++) {
		res->l2_tried[g] = ng == 1 ? p->l2 : l2_grid[g];
		loss = cv_pass(&s, p, res->l2_tried[g], fold, cost, c, w, m);
		res->cv_logloss[g] = loss;
		if (loss <= bestloss) {
			bestloss = loss;
			res->l2 = res->l2_tried[g];
			memcpy(best, m, d->nex * sizeof(*m));
		}
	}
	memcpy(c, cost, d->nex * sizeof(*c));
	cd_run(&s, res->l2, p->lo, p->hi, p->max_sweeps ? p->max_sweeps : 500,
	    w, &res->bias);
	if ((k = choose_scale(d, p, best, res->bias, res)) > 0) {
		if (p->intercept)
			w[p->intercept - 1] += res->bias;
		res->scale = k;
		res->score = xcalloc(d->nfeat + 1, sizeof(*res->score));
		for (i = 0; i < d->nfeat; i++)
			res->score[i] = round(k * w[i] * 100) / 100 + 0.0;
		cv_counts(d, p, best, k, res);
		fit_count(d, res->score, p->tag_score, &res->fit_ham_tagged,
		    &res->fit_spam_missed);
		rc = 0;
	}
	colidx_free(&col);
	free(fold);
	free(cost);
	free(c);
	free(s.z);
	free(w);
	free(m);
	free(best);
	return rc;
}

void
fit_result_release(struct fit_result *res)
{
	free(res->score);
	res->score = NULL;
}
