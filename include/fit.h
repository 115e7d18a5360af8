/*
 * fit.h - symbol scores fitted to labelled messages
 *
 * DESCRIPTION
 *	The data are messages, each a label (spam or ham), the set of
 *	symbols it hit (binary features) and a fixed part of its score
 *	(symbols whose scores are not fitted).  fit_logistic() fits an
 *	L2-regularised logistic regression, each ham weighted ham_cost
 *	times a spam, optionally with each weight kept inside [lo, hi]
 *	(sign constraints).  fit_scores() turns it into scores: the
 *	regularisation is chosen by k-fold cross-validation (lowest
 *	held-out weighted log-loss), the out-of-fold margins of that
 *	choice set the scale so that at most ham_loss of the ham would be
 *	tagged at tag_score and margin_loss at tag_score - margin, and the scores are that scale
 *	times the weights of a fit on all the data, rounded to 0.01.
 *
 *	Pure: no I/O, no globals; the caller owns every array.
 */
#ifndef MW_FIT_H
#define MW_FIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct fit_data {
	size_t	 nfeat;
	size_t	 nex;
	const size_t *off;	/* nex + 1: features of i are idx[off[i]..off[i+1]) */
	const uint32_t *idx;	/* feature numbers, < nfeat */
	const unsigned char *spam;	/* nex labels: 1 spam, 0 ham */
	const double *fixed;	/* nex fixed score parts, or NULL (all 0) */
};

#define FIT_NL2		8	/* regularisation strengths tried */

struct fit_params {
	double	 l2;		/* > 0: use it; 0: choose by cross-validation */
	double	 ham_cost;	/* weight of a ham relative to a spam (>= 1) */
	double	 ham_loss;	/* fraction of ham allowed at tag_score */
	double	 tag_score;	/* the threshold the scores are made for */
	double	 margin;	/* margin_loss must hold at tag_score - margin */
	double	 margin_loss;	/* fraction of ham allowed there */
	unsigned folds;		/* >= 2 */
	uint64_t seed;		/* fold assignment */
	const double *lo, *hi;	/* per-feature bounds of the weight, or NULL */
	unsigned max_sweeps;	/* coordinate-descent sweeps; 0 = 500 */
	/*
	 * intercept: 1 + the number of a feature that every message has
	 * (the Bayes band base); its score then takes the model's bias, and
	 * the scale is capped so that tag_score is at least logit 1.  0:
	 * none; the bias stays out of the scores and the scale is capped
	 * so that tag_score is at least max(-bias, 1) in logits.
	 */
	size_t	 intercept;
};

struct fit_result {
	double	*score;		/* nfeat scores (caller frees); 0.01 steps */
	double	 scale;		/* score = scale * weight */
	double	 bias;		/* intercept of the final fit */
	double	 l2;		/* regularisation used */
	double	 cv_logloss[FIT_NL2];	/* per tried l2 (0 when not tried) */
	double	 l2_tried[FIT_NL2];
	/* cross-validated (out-of-fold) outcome at tag_score */
	size_t	 nham, nspam;
	size_t	 cv_ham_tagged;		/* at tag_score */
	size_t	 cv_ham_tagged_margin;	/* at tag_score - margin */
	size_t	 cv_spam_missed;	/* at tag_score */
	/* the final scores on the data they were fitted on */
	size_t	 fit_ham_tagged, fit_spam_missed;
	const char *why;	/* set when fit_scores() fails */
};

/*
 * fit_logistic - minimise sum_i c_i * logloss_i + l2/2 * |w|^2 over w
 * and an unpenalised bias, where c_i = weight[i] (0 leaves example i
 * out).  w has nfeat entries (zeroed here).  Returns sweeps used.
 */
unsigned fit_logistic(const struct fit_data *, const double *weight,
	    double l2, const double *lo, const double *hi, unsigned max_sweeps,
	    double *w, double *bias);

/* fit_scores - the whole procedure above; 0, or -1 with res->why */
int	 fit_scores(const struct fit_data *, const struct fit_params *,
	    struct fit_result *res);
void	 fit_result_release(struct fit_result *);

/*
 * fit_count - with scores (nfeat) and the fixed parts, how many ham
 * reach threshold and how many spam stay below it
 */
void	 fit_count(const struct fit_data *, const double *score,
	    double threshold, size_t *ham_tagged, size_t *spam_missed);

/* fit_folds - fold number of each example, stratified by label */
void	 fit_folds(const struct fit_data *, unsigned folds, uint64_t seed,
	    unsigned *fold);

#endif
