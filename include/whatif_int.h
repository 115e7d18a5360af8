/*
 * whatif_int.h - the what-if aggregate, shared by whatif.c (rescoring)
 *	and whatif_report.c (counting and output); not for other modules
 */
#ifndef MW_WHATIF_INT_H
#define MW_WHATIF_INT_H

#include "whatif.h"

struct strmap;

/* a symbol name's origin in the new configuration (whatif.c) */
struct kind {
	int	 kind;			/* enum sym_kind of whatif.c */
	const struct rule *rule;
	const struct symbol_info *si;
	double	 bl_score;
	bool	 bl_reject;
	bool	 rule_emitted;		/* step_rules.c would add a hit */
};

/* per symbol name seen in the log */
struct whatif_symstat {
	double	 old_lo, old_hi;	/* logged scores seen */
	double	 new_lo, new_hi;	/* new scores */
	uint64_t hits;			/* rescored messages with it */
	uint64_t changed;		/* ... where its score changed */
	uint64_t dropped;		/* ... where it was dropped */
	uint64_t up, down;		/* changed messages it was part of */
	uint64_t alone;			/* moved by its change alone */
	char	 name[];
};

/* one changed message */
struct whatif_change {
	char	*time, *queue_id, *from, *subject, *decided;
	enum lr_action old_action, new_action;
	double	 old_score, new_score;
};

struct whatif {
	const struct engine *eng;
	const struct engine *cur;	/* the record's: eng, or the engine
					   of the scope it was logged under
					   (whatif_engine) */
	char	*conf_path;
	struct strmap *kinds;		/* name -> struct kind */
	struct kind kind_tmp;		/* beyond WHATIF_MAX_DISTINCT */
	struct strmap *stats;		/* name -> struct whatif_symstat */
	uint64_t stats_full;		/* symbols not tracked (cap) */
	uint64_t n;			/* records added */
	uint64_t changed;
	uint64_t trans[LR_NACTIONS][LR_NACTIONS];
	uint64_t trusted, unscored, not_derivable, no_action;
	uint64_t policy_state;		/* replay: not replayable */
	uint64_t with_dropped;		/* rescored with a symbol dropped */
	struct whatif_change *chg;
	size_t	 nchg, capchg, keep;	/* keep 0: all */
	uint64_t chg_left;		/* changed but not listed */
	struct whatif_result res;
	char	**notes;		/* whatif_note() */
	size_t	 nnotes;
	uint64_t notes_left;
};

void	 whatif_kinds_free(struct strmap *);
/* whatif_deferral - is name a policy store deferral (MW_GREYLIST,
 * MW_RATELIMIT_*: policy.c defer())? */
bool	 whatif_deferral(const char *name);
/*
 * whatif_engine - the engine of the new configuration that decides r:
 * the engine of the scope r was logged under ("scope") when the new
 * configuration has a scope of that name, else the main one
 */
const struct engine *whatif_engine(const struct whatif *,
	    const struct logrec *r);

#endif
