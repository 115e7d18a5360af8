/*
 * bayes_learn.h - glue between configuration, messages and the store
 *
 * DESCRIPTION
 *	The scan step, `mailwarden train` and `mailwarden bayes` must see a
 *	message exactly alike, or learning and classifying would disagree;
 *	they all go through these helpers.
 *
 *	bayes_learner is the autolearn queue of a running engine: milter
 *	threads submit clear-cut messages without waiting (a full queue or
 *	an exhausted hourly allowance drops the message), and one thread
 *	writes them to the store in batches.  Autolearning is best effort:
 *	a store failure is logged, never retried, never felt by mail.
 */
#ifndef MW_BAYES_LEARN_H
#define MW_BAYES_LEARN_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "bayes.h"
#include "bayes_store.h"

struct buf;
struct conf;
struct mime_msg;
struct msg;

void	 bayes_params_from_conf(struct bayes_params *, const struct conf *);
void	 bayes_tok_opts_from_conf(struct bayes_tok_opts *, const struct conf *);
void	 bayes_store_opts_from_conf(struct bayes_store_opts *,
	    const struct conf *);
/* bayes_store_open_conf - spec (NULL: bayes_store) with the conf's options */
int	 bayes_store_open_conf(const struct conf *, const char *spec,
	    bool readonly, struct bayes_store **, struct buf *why);

/*
 * bayes_msg_tokens - the tokens of m: its MIME view (mm, or parsed here
 * when NULL) through bayes_tokenize(); t must be initialised
 */
void	 bayes_msg_tokens(const struct conf *, const struct msg *m,
	    const struct mime_msg *mm, struct bayes_toks *t);

enum bayes_submit {
	BAYES_SUBMIT_QUEUED,
	BAYES_SUBMIT_RATE_LIMITED,	/* hourly allowance of the class used */
	BAYES_SUBMIT_QUEUE_FULL		/* the writer is behind */
};

struct bayes_learner;

struct bayes_learner *bayes_learner_new(struct bayes_store *,
	    unsigned per_hour);
/* bayes_learner_submit - never blocks on the store; copies the hashes */
enum bayes_submit bayes_learner_submit(struct bayes_learner *,
	    const uint8_t digest[BAYES_DIGEST_LEN], enum bayes_class,
	    const struct bayes_toks *, time_t now);
/* bayes_learner_flush - wait until the queue is empty (tests, CLI) */
void	 bayes_learner_flush(struct bayes_learner *);
/* bayes_learner_free - writes what is queued, stops the thread */
void	 bayes_learner_free(struct bayes_learner *);
/* counters since creation */
void	 bayes_learner_counts(struct bayes_learner *, uint64_t *learned,
	    uint64_t *dropped, uint64_t *failed);

#endif
