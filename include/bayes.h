/*
 * bayes.h - naive-Bayes spam classifier: token sets and the math
 *
 * DESCRIPTION
 *	A message becomes a set of tokens (bayes_token.c fills a struct
 *	bayes_toks; each distinct token once, as in Graham's and
 *	Robinson's schemes).  Tokens are identified in the store by a
 *	64-bit hash of their text (bayes_hash(), documented in
 *	doc/bayes.md: it is part of the store format), so the store keeps
 *	no message text.  The text of each token is kept in memory for the
 *	lifetime of the set so that the verdict can name the tokens that
 *	drove a decision.
 *
 *	bayes_classify() is pure: given each token's spam and ham counts
 *	and the numbers of spam and ham messages learned, it computes
 *	Robinson's f(w) for every token:
 *
 *	    p(w) = (s/S) / (s/S + h/H)          s, h: messages with w
 *	    f(w) = (k*x + n*p(w)) / (k + n)     n = s + h
 *
 *	where S and H are the spam and ham message counts, k the strength
 *	(bayes_strength) and x the prior (bayes_prior) of an unknown
 *	token.  Tokens with |f(w) - 0.5| < min_dev are ignored; of the
 *	rest, the max_clues most extreme are combined with Fisher's
 *	method:
 *
 *	    H = C2Q(-2 sum ln f(w), 2N)        spam evidence
 *	    S = C2Q(-2 sum ln (1 - f(w)), 2N)  ham evidence
 *	    I = (1 + H - S) / 2
 *
 *	C2Q is the chi-square survival function (computed in log space so
 *	that hundreds of clues neither underflow nor overflow).  I is the
 *	spam probability, 0..1; with no clue it is exactly 0.5.
 *
 * LIMITS
 *	A token set holds at most its cap of distinct tokens (set at
 *	bayes_toks_init()); further tokens are counted in dropped and the
 *	set is marked capped.  A token's text is at most BAYES_TOKEN_MAX
 *	bytes (longer ones are cut before hashing, never overflowed).
 */
#ifndef MW_BAYES_H
#define MW_BAYES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define BAYES_TOKEN_MAX		128	/* bytes of one token's text */
#define BAYES_DIGEST_LEN	16	/* bytes of message digest kept */
#define BAYES_TOKENIZER_VERSION	1	/* recorded in the store */

/* bayes_hash - the store key of a token (version 1, see doc/bayes.md) */
uint64_t bayes_hash(const void *, size_t);

struct bayes_tok {
	uint64_t hash;
	uint32_t off;		/* text: toks->text.data + off */
	uint16_t len;
};

struct bayes_toks {
	struct bayes_tok *v;	/* in first-seen order */
	size_t	 n;
	size_t	 cap;		/* most tokens kept */
	size_t	 dropped;	/* distinct tokens over the cap */
	size_t	 seen;		/* tokens offered, duplicates included */
	struct buf text;	/* token texts, NUL-separated */
	uint32_t *slots;	/* open addressing: index + 1, 0 = empty */
	size_t	 nslots;
	bool	 keep_text;	/* false: hashes only (training) */
};

void	 bayes_toks_init(struct bayes_toks *, size_t cap, bool keep_text);
void	 bayes_toks_release(struct bayes_toks *);
void	 bayes_toks_reset(struct bayes_toks *);
/* bayes_toks_add - add one token (deduplicated); false once capped */
bool	 bayes_toks_add(struct bayes_toks *, const char *, size_t);
/* bayes_toks_add2 - add prefix and word joined, without an extra copy */
bool	 bayes_toks_add2(struct bayes_toks *, const char *prefix,
	    const char *word, size_t len);
/* bayes_tok_text - a token's text, or "" when texts are not kept */
const char *bayes_tok_text(const struct bayes_toks *, size_t i);

/* the per-token numbers the store returns */
struct bayes_counts {
	uint32_t spam;		/* spam messages learned with the token */
	uint32_t ham;
	uint32_t seen;		/* last learned, unix time; 0 = unknown */
};

struct bayes_params {
	double	 strength;	/* k: weight of the prior, in messages */
	double	 prior;		/* x: f(w) of a token never seen */
	double	 min_dev;	/* ignore tokens with |f - 0.5| below this */
	unsigned max_clues;	/* most extreme tokens combined */
};

#define BAYES_PARAMS_DEFAULT	{ 0.1, 0.6, 0.4, 150 }

struct bayes_clue {
	size_t	 idx;		/* into the token array classified */
	double	 f;		/* Robinson's f(w) */
	uint32_t spam, ham;
};

struct bayes_result {
	double	 prob;		/* I: 0 = ham, 1 = spam */
	double	 spamminess;	/* H: near 1 when the clues look spammy */
	double	 hamminess;	/* S: near 1 when they look hammy */
	struct bayes_clue *clues;	/* most extreme first */
	size_t	 nclues;
	size_t	 ntokens;	/* tokens considered */
	size_t	 nknown;	/* of which the store knew */
};

/* bayes_f - Robinson's f(w) for one token */
double	 bayes_f(const struct bayes_params *, uint64_t nspam, uint64_t nham,
	    uint32_t spam, uint32_t ham);
/* bayes_chi2q - P(chi2 >= x2) with 2*half degrees of freedom */
double	 bayes_chi2q(double x2, size_t half);
/*
 * bayes_classify - combine n tokens whose counts are c[0..n); fills r
 * (r->clues is allocated: bayes_result_release()).
 */
void	 bayes_classify(const struct bayes_params *, uint64_t nspam,
	    uint64_t nham, const struct bayes_counts *c, size_t n,
	    struct bayes_result *r);
void	 bayes_result_release(struct bayes_result *);

/*
 * The tokenizer (bayes_token.c; what it does is described there and in
 * doc/bayes.md).
 */
struct mime_msg;
struct msg;

struct bayes_tok_opts {
	bool	 bigrams;	/* sparse word pairs of body text */
};

/* bayes_tokenize - every token of a decoded message, into t */
void	 bayes_tokenize(const struct mime_msg *, const struct bayes_tok_opts *,
	    struct bayes_toks *t);
enum bayes_text_flags {
	BAYES_TEXT_BIGRAMS = 1		/* sparse word pairs */
};

/* bayes_tokenize_text - words of UTF-8 text, each prefixed */
void	 bayes_tokenize_text(struct bayes_toks *, const char *prefix,
	    const char *, size_t, unsigned flags);
/* bayes_tokenize_header - tokens of one (decoded) header field */
void	 bayes_tokenize_header(struct bayes_toks *, const char *name,
	    const char *value);
/* bayes_tokenize_uri - pieces of one URI (host may be NULL) */
void	 bayes_tokenize_uri(struct bayes_toks *, const char *uri,
	    const char *host);
/* bayes_digest - identity of a message for idempotent learning */
void	 bayes_digest(const struct msg *, uint8_t out[BAYES_DIGEST_LEN]);

#endif
