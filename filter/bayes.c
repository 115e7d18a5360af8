/*
 * bayes.c - token sets, token hashing and the chi-square classifier
 *
 * DESCRIPTION
 *	See bayes.h for the formulas.  Everything here is pure: no store,
 *	no message; the tokenizer (bayes_token.c) and the scan step
 *	(step_bayes.c) feed it.
 *
 * SECURITY
 *	Token sets are bounded by their cap (distinct tokens) and by
 *	BAYES_TOKEN_MAX (bytes per token), so a hostile message costs at
 *	most cap * BAYES_TOKEN_MAX bytes of text.
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bayes.h"
#include "buf.h"

/*
 * bayes_hash - version 1 of the token key: the text is read in 8-byte
 * little-endian words, each mixed into the state by multiply and
 * rotate, the tail bytes packed into one last word, and the state run
 * through the splitmix64 finaliser.  Not a cryptographic hash: the
 * store is keyed by it, so it must never change without a store
 * format bump.
 */
#define H_K1	0x9E3779B97F4A7C15ULL
#define H_K2	0xC2B2AE3D27D4EB4FULL
#define H_K3	0x165667B19E3779F9ULL

static uint64_t
rotl64(uint64_t v, int r)
{
	return (v << r) | (v >> (64 - r));
}

static uint64_t
fmix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

uint64_t
bayes_hash(const void *vp, size_t n)
{
	const unsigned char *p = vp;
	uint64_t h = H_K3 ^ ((uint64_t)n * H_K1), w;
	size_t i;

	while (n >= 8) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
		memcpy(&w, p, 8);	/* the loop below, in one load */
#else
		w = 0;
		for (i = 0; i < 8; i++)
			w |= (uint64_t)p[i] << (8 * i);
#endif
		h = rotl64(h ^ (w * H_K2), 29) * H_K1;
		p += 8;
		n -= 8;
	}
	w = 0;
	for (i = 0; i < n; i++)
		w |= (uint64_t)p[i] << (8 * i);
	h = rotl64(h ^ (w * H_K2), 29) * H_K1;
	return fmix64(h);
}

/* ---------------------------------------------------------------- */

void
bayes_toks_init(struct bayes_toks *t, size_t cap, bool keep_text)
{
	memset(t, 0, sizeof(*t));
	if (cap == 0)
		cap = 1;
	if (cap > ((size_t)1 << 24))
		cap = (size_t)1 << 24;
	t->cap = cap;
	t->keep_text = keep_text;
	t->nslots = 64;
	t->slots = xcalloc(t->nslots, sizeof(uint32_t));
}

void
bayes_toks_release(struct bayes_toks *t)
{
	free(t->v);
	free(t->slots);
	buf_release(&t->text);
	memset(t, 0, sizeof(*t));
}

void
bayes_toks_reset(struct bayes_toks *t)
{
	t->n = 0;
	t->dropped = 0;
	t->seen = 0;
	buf_reset(&t->text);
	memset(t->slots, 0, t->nslots * sizeof(uint32_t));
}

static void
grow_slots(struct bayes_toks *t)
{
	size_t i, j, mask;

	free(t->slots);
	t->nslots *= 2;
	t->slots = xcalloc(t->nslots, sizeof(uint32_t));
	mask = t->nslots - 1;
	for (i = 0; i < t->n; i++) {
		j = (size_t)t->v[i].hash & mask;
		while (t->slots[j])
			j = (j + 1) & mask;
		t->slots[j] = (uint32_t)i + 1;
	}
}

/* insert - add a token whose text is txt[0..len) (already cut) */
static bool
insert(struct bayes_toks *t, uint64_t h, const char *a, size_t alen,
    const char *b, size_t blen)
{
	size_t j, mask;
	struct bayes_tok *k;

	t->seen++;
	if ((t->n + 1) * 2 > t->nslots)
		grow_slots(t);
	mask = t->nslots - 1;
	for (j = (size_t)h & mask; t->slots[j]; j = (j + 1) & mask)
		if (t->v[t->slots[j] - 1].hash == h)
			return true;
	if (t->n >= t->cap) {
		t->dropped++;
		return false;
	}
	if ((t->n & (t->n - 1)) == 0 || t->n < 16)
		t->v = xreallocarray(t->v, t->n < 16 ? 16 : t->n * 2,
		    sizeof(*t->v));
	k = &t->v[t->n];
	k->hash = h;
	k->off = (uint32_t)t->text.len;
	k->len = (uint16_t)(alen + blen);
	if (t->keep_text) {
		buf_add(&t->text, a, alen);
		buf_add(&t->text, b, blen);
		buf_addc(&t->text, '\0');
	}
	t->slots[j] = (uint32_t)++t->n;
	return true;
}

bool
bayes_toks_add(struct bayes_toks *t, const char *s, size_t len)
{
	if (len > BAYES_TOKEN_MAX)
		len = BAYES_TOKEN_MAX;
	return insert(t, bayes_hash(s, len), s, len, "", 0);
}

bool
bayes_toks_add2(struct bayes_toks *t, const char *prefix, const char *w,
    size_t len)
{
	char tmp[BAYES_TOKEN_MAX];
	size_t plen = strlen(prefix);

	if (plen > BAYES_TOKEN_MAX)
		plen = BAYES_TOKEN_MAX;
	if (len > BAYES_TOKEN_MAX - plen)
		len = BAYES_TOKEN_MAX - plen;
	memcpy(tmp, prefix, plen);
	memcpy(tmp + plen, w, len);
	return insert(t, bayes_hash(tmp, plen + len), prefix, plen, w, len);
}

const char *
bayes_tok_text(const struct bayes_toks *t, size_t i)
{
	if (!t->keep_text || i >= t->n)
		return "";
	return t->text.data + t->v[i].off;
}

/* ---------------------------------------------------------------- */

double
bayes_f(const struct bayes_params *bp, uint64_t nspam, uint64_t nham,
    uint32_t spam, uint32_t ham)
{
	double ps, ph, p, n = (double)spam + (double)ham;

	if (n == 0)
		return bp->prior;
	/* a count above the message total is a stale store: clamp */
	ps = nspam ? fmin((double)spam / (double)nspam, 1.0) : 0.0;
	ph = nham ? fmin((double)ham / (double)nham, 1.0) : 0.0;
	if (ps + ph == 0)
		return bp->prior;
	p = ps / (ps + ph);
	return (bp->strength * bp->prior + n * p) / (bp->strength + n);
}

/*
 * bayes_chi2q - survival function of chi-square with an even number of
 * degrees of freedom 2*half: exp(-m) * sum_{i<half} m^i / i!, m = x2/2,
 * summed in log space.
 */
double
bayes_chi2q(double x2, size_t half)
{
	double m = x2 / 2.0, lm, term, mx, acc;
	size_t i;

	if (half == 0)
		return 1.0;
	if (!(x2 > 0))
		return 1.0;
	lm = log(m);
	/* the largest term is near i = m; use it as the scale */
	mx = -INFINITY;
	for (i = 0; i < half; i++) {
		term = -m + (double)i * lm - lgamma((double)i + 1.0);
		if (term > mx)
			mx = term;
	}
	acc = 0;
	for (i = 0; i < half; i++) {
		term = -m + (double)i * lm - lgamma((double)i + 1.0);
		acc += exp(term - mx);
	}
	/* acc >= 1: the largest term contributes exp(0) */
	acc *= exp(mx);
	return acc > 1.0 ? 1.0 : acc;
}

static int
clue_cmp(const void *a, const void *b)
{
	const struct bayes_clue *x = a, *y = b;
	double dx = fabs(x->f - 0.5), dy = fabs(y->f - 0.5);

	if (dx != dy)
		return dx > dy ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

void
bayes_classify(const struct bayes_params *bp, uint64_t nspam, uint64_t nham,
    const struct bayes_counts *c, size_t n, struct bayes_result *r)
{
	double sum_ln_f = 0, sum_ln_1f = 0, f;
	size_t i, k;

	memset(r, 0, sizeof(*r));
	r->ntokens = n;
	r->clues = n ? xcalloc(n, sizeof(*r->clues)) : NULL;
	for (i = 0; i < n; i++) {
		if (c[i].spam || c[i].ham)
			r->nknown++;
		f = bayes_f(bp, nspam, nham, c[i].spam, c[i].ham);
		if (fabs(f - 0.5) < bp->min_dev)
			continue;
		r->clues[r->nclues].idx = i;
		r->clues[r->nclues].f = f;
		r->clues[r->nclues].spam = c[i].spam;
		r->clues[r->nclues].ham = c[i].ham;
		r->nclues++;
	}
	if (r->nclues > 1)
		qsort(r->clues, r->nclues, sizeof(*r->clues), clue_cmp);
	if (bp->max_clues && r->nclues > bp->max_clues)
		r->nclues = bp->max_clues;
	if (r->nclues == 0) {
		r->prob = 0.5;
		r->spamminess = r->hamminess = 0.5;
		return;
	}
	for (k = 0; k < r->nclues; k++) {
		/* keep f strictly inside (0, 1): ln 0 is -inf */
		f = fmin(fmax(r->clues[k].f, 1e-9), 1.0 - 1e-9);
		sum_ln_f += log(f);
		sum_ln_1f += log(1.0 - f);
	}
	r->spamminess = bayes_chi2q(-2.0 * sum_ln_f, r->nclues);
	r->hamminess = bayes_chi2q(-2.0 * sum_ln_1f, r->nclues);
	r->prob = (1.0 + r->spamminess - r->hamminess) / 2.0;
}

void
bayes_result_release(struct bayes_result *r)
{
	free(r->clues);
	r->clues = NULL;
	r->nclues = 0;
}
