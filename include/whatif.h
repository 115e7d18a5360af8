/*
 * whatif.h - re-derive logged verdicts under another configuration
 *
 * DESCRIPTION
 *	whatif_rescore() takes one verdict log record and an engine built
 *	from a new configuration, and decides the record's action again
 *	from its logged symbols, the way scan_end() would have with that
 *	engine: each symbol gets the score the new configuration gives it
 *	(symbol_scores, rule-file scores, DNS list entries, built-in
 *	defaults, the score set of rules_score_set), the policy actions
 *	are forced again from the new spf_*_action, dmarc_*_action,
 *	dmarc_never_reject and DNS list :reject entries, and
 *	verdict_decide() applies the new thresholds.  Local list
 *	(client_list, sender_list, helo_list) matches keep their logged
 *	score and forced action: lists are data, not scores.
 *
 *	What the log cannot tell is not guessed: a rule the new
 *	configuration adds cannot hit a logged message (replay the stored
 *	message for that); a message logged as trusted (not scored) that
 *	the new configuration would score is counted as not derivable and
 *	keeps its action.  A logged symbol that nothing in the new
 *	configuration emits any more (a removed rule or DNS list) is
 *	dropped, and counted.
 *
 *	struct whatif aggregates the outcomes: the action transitions,
 *	per symbol whose score changed the messages it moves, and the
 *	changed messages (up to keep of them), in memory proportional to
 *	the distinct symbols and the messages kept, not to the log.
 * SECURITY
 *	Log records are untrusted text: every value is read through the
 *	typed logrec accessors; names and texts are escaped on output
 *	(lr_safe for the terminal, json_str for JSON).
 */
#ifndef MW_WHATIF_H
#define MW_WHATIF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "logreview.h"

struct buf;
struct engine;
struct logread_stats;

enum whatif_status {
	WHATIF_RESCORED,	/* derived from its symbols */
	WHATIF_TRUSTED,		/* the new configuration trusts the source */
	WHATIF_UNSCORED,	/* logged unscored; still trusted, or not
				   derivable (see not_derivable) */
	WHATIF_NO_ACTION,	/* no usable action logged: skipped */
	WHATIF_POLICY_STATE	/* replay: decided by policy store state
				   (a greylisting or rate limit deferral,
				   a trap client) the replay cannot see:
				   not replayable, skipped */
};

#define WHATIF_MAX_SYMS		256	/* symbols of one record considered */
#define WHATIF_MAX_DISTINCT	65536	/* distinct symbol names tracked */

/* one logged symbol under the new configuration */
struct whatif_sym {
	const char *name;		/* as logged (borrowed from the record) */
	const char *new_name;		/* differs when renamed (static) */
	double	 old_score, new_score;
	bool	 dropped;		/* nothing emits it any more */
	bool	 added;			/* replay: only the new verdict has it */
	bool	 changed;		/* new score (or name) differs */
};

struct whatif_result {
	enum whatif_status status;
	bool	 not_derivable;		/* logged unscored, now scored */
	enum lr_action old_action, new_action;
	double	 old_score, new_score;
	int	 set;			/* score set used, -1 unscored */
	char	 forced_by[64];		/* new forcing symbol, "" if none */
	struct whatif_sym syms[WHATIF_MAX_SYMS];
	size_t	 nsyms;
	size_t	 ndropped;
};

struct whatif;

/*
 * whatif_rescore - the new outcome of record r under the engine of w
 * (read only), without counting it.  The result borrows strings from
 * r: valid while r is.
 */
void	 whatif_rescore(struct whatif *, const struct logrec *r,
	    struct whatif_result *out);

/*
 * whatif_new - an aggregate of outcomes; keep: changed messages listed
 * (0 = all); conf_path names the configuration in the reports.
 */
struct whatif *whatif_new(const struct engine *e, const char *conf_path,
	    size_t keep);
void	 whatif_free(struct whatif **);
/* whatif_add - rescore r and count it; returns its outcome */
const struct whatif_result *whatif_add(struct whatif *,
	    const struct logrec *r);
/*
 * whatif_add_replayed - count a message run again (replay): old is the
 * stored verdict, new the verdict of the replay; symbols compared by
 * name (a symbol only the new verdict has counts as added).  A stored
 * verdict with a policy store symbol (MW_GREYLIST, MW_RATELIMIT_*,
 * MW_TRAP_CLIENT) is counted as not replayable, with a note: the
 * replay runs no policy step (it must not read or count the store).
 */
const struct whatif_result *whatif_add_replayed(struct whatif *,
	    const struct logrec *old, const struct logrec *new);
/* whatif_note - a line for the report's notes (kept up to 1000) */
void	 whatif_note(struct whatif *, const char *line);
/* counters */
uint64_t whatif_messages(const struct whatif *);
uint64_t whatif_changed(const struct whatif *);
uint64_t whatif_transition(const struct whatif *, enum lr_action from,
	    enum lr_action to);

/*
 * whatif_text, whatif_json - the report: totals, transitions, symbols
 * with a new score and the messages they move, changed messages; the
 * input problems of st (malformed lines, unreadable inputs).  top caps
 * the symbol table (0 = all).
 */
void	 whatif_text(const struct whatif *, const struct logread_stats *st,
	    uint64_t left_out, size_t top, struct buf *out);
void	 whatif_json(const struct whatif *, const struct logread_stats *st,
	    uint64_t left_out, size_t top, struct buf *out);

#endif
