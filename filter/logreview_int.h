/*
 * logreview_int.h - between the verdict-log review files
 *
 * DESCRIPTION
 *	Review lists (loglists.c), the symbols line (logreview.c) and the
 *	HTML helpers shared by loghtml.c and loghtml_review.c.
 */
#ifndef MW_LOGREVIEW_INT_H
#define MW_LOGREVIEW_INT_H

#include "logreview.h"

struct buf;
struct topk_entry;

void	 lr_item_clear(struct lr_item *);
void	 lr_item_fill(struct lr_item *, const struct logrec *, uint64_t seq);
void	 lr_list_init(struct lr_list *, size_t cap);
void	 lr_list_release(struct lr_list *);
/* lr_list_push - keep r as the newest of a ring */
void	 lr_list_push(struct lr_list *, const struct logrec *, uint64_t seq);
/* lr_list_at - i-th newest of a ring */
const struct lr_item *lr_list_at(const struct lr_list *, size_t i);
/* lr_fp_offer - consider a tag or reject as a false-positive candidate */
void	 lr_fp_offer(struct lr_summary *, const struct logrec *);
/* lr_bare_addr - the lower-cased address inside <> (or the value) */
bool	 lr_bare_addr(const char *addr, char *out, size_t n);
/* lr_zero_score - a symbols entry that scored 0 whenever it hit */
bool	 lr_zero_score(const struct topk_entry *);
/* lr_score_range - a symbols entry's score: "2.50" or "1.00..2.00" */
void	 lr_score_range(struct buf *, const struct topk_entry *);
/* lr_symbols_line - "NAME(+6.5) NAME2(-1)" for the max highest scores */
char	*lr_symbols_line(const struct logrec *, size_t max);

/* HTML helpers (loghtml.c) */
void	 lr_html_cut(struct buf *, const char *s, size_t max);
void	 lr_html_time(struct buf *, double t, const char *fmt);
double	 lr_pct(uint64_t a, uint64_t b);
/* lr_html_review - review lists, symbol statistics, sources, changes */
void	 lr_html_review(struct buf *, const struct lr_summary *,
	    const struct lr_html_opts *, size_t top);
void	 lr_html_review_explain(struct buf *, const struct lr_summary *);
#endif
