/*
 * verdict.h - symbols, score, action and the texts derived from them
 *
 * DESCRIPTION
 *	Checks add named symbols with scores (verdict_add) and may force an
 *	action with a priority (verdict_force: a local REJECT outranks an
 *	allowlist, which outranks a DMARC policy reject, which outranks a
 *	DNS tempfail).  verdict_decide() then maps the total against
 *	tag_score/reject_score unless an action was forced, and writes the
 *	SMTP reply for reject and tempfail.
 *
 *	Each auth check also leaves its Authentication-Results pieces
 *	(verdict_add_authres) and a JSON value for the verdict log: the
 *	outputs.  The verdict knows no check by name: scan.c declares one
 *	output per step that logs (its key and its "none" value, which
 *	stays until the step has run), and vlog_format() writes them in
 *	declaration order.
 *
 *	verdict_header_edits() lists the header changes the MTA must make:
 *	delete Authentication-Results that claim our authserv-id (RFC 8601
 *	section 5; hdr_authres_id_eq(): any case, one trailing dot ignored)
 *	and incoming X-Spam-* fields, prepend our
 *	Authentication-Results, add X-Spam-*, prefix the Subject.  It is
 *	pure, so scan prints exactly what the milter would do.
 */
#ifndef MW_VERDICT_H
#define MW_VERDICT_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

struct conf;
struct msg;

enum action {
	ACTION_ACCEPT,
	ACTION_TAG,
	ACTION_REJECT,
	ACTION_TEMPFAIL
};

enum force_prio {
	FORCE_NONE = 0,
	FORCE_TEMPFAIL = 40,		/* a check could not complete */
	FORCE_POLICY_REJECT = 50,	/* e.g. DMARC p=reject */
	FORCE_ALLOW = 90,		/* local allowlist */
	FORCE_LIST_REJECT = 100,	/* local blocklist REJECT */
	FORCE_DEFER = 110		/* rate limit, greylisting (policy.h):
					   set after the decision */
};

#define VERDICT_MAX_OUTPUTS	16	/* per-step log values */

struct symbol {
	char	*name;
	double	 score;
	char	*detail;		/* may be NULL */
};

struct verdict {
	struct symbol *syms;
	size_t	 nsyms;
	double	 score;
	enum action action;
	int	 score_set;		/* score set used (0-3), -1 unknown */
	bool	 scored;		/* false: trusted source */
	const char *unscored_why;

	int	 force_prio;
	enum action force_action;
	char	*force_symbol;
	char	*force_reason;

	char	 smtp_code[4];		/* "550", "451", "" */
	char	 smtp_xcode[8];		/* "5.7.1" */
	char	*reply_text;		/* human text, or NULL */

	char	**authres;		/* "spf=pass smtp.mailfrom=a.example" */
	size_t	 nauthres;

	struct verdict_output {		/* verdict_output_declare() */
		const char *key;	/* static: "spf", "dkim", ... */
		struct buf json;	/* the value, a JSON text */
	}	 outputs[VERDICT_MAX_OUTPUTS];
	size_t	 noutputs;

	/*
	 * quarantine: the message is accepted (or tagged) but the MTA is
	 * asked to hold it in its quarantine.  milter.c honours it for
	 * ACTION_ACCEPT and ACTION_TAG by calling smfi_quarantine(ctx,
	 * quarantine_reason) after the header edits (SMFIF_QUARANTINE is
	 * already negotiated); scan prints it.  Set with verdict_quarantine.
	 */
	bool	 quarantine;
	char	*quarantine_reason;

	double	 tag_score, reject_score;	/* thresholds used */
	double	 elapsed_ms;
	double	 dns_ms;
	bool	 dns_degraded;

	char	 force_xcode[8];	/* enhanced code of the forced action,
					   "" for the default 5.7.1 / 4.7.1 */
	enum action floor;		/* least action of scored mail when
					   nothing is forced (TAG: "tag") */
	char	*floor_symbol;
	const char *scope;		/* policy scope applied (scope.h), or
					   NULL for the main configuration */
	bool	 untouched;		/* exempt scope: no header edits */
	bool	 no_spam_fields;	/* outbound: no X-Spam-* fields */
	struct verdict_hdr {		/* fields a check adds (Received-SPF) */
		char	*name;
		char	*value;
	}	*xhdrs;
	size_t	 nxhdrs;
};

enum hdr_edit_op {
	EDIT_DELETE,		/* remove occurrence index of name */
	EDIT_CHANGE,		/* replace occurrence index of name */
	EDIT_PREPEND,		/* insert at the top */
	EDIT_ADD		/* append */
};

struct hdr_edit {
	enum hdr_edit_op op;
	char	*name;
	size_t	 index;		/* 1-based occurrence among fields of name */
	char	*value;		/* without the leading space; "\n\t" folds */
};

struct hdr_edits {
	struct hdr_edit *v;
	size_t	 n;
};

const char *action_name(enum action);

/*
 * verdict_output_declare - a verdict-log value under key (a static
 * string), holding none_json until the step replaces it;
 * verdict_output - its buffer, for the step to fill (NULL if key was
 * never declared).
 */
void	verdict_output_declare(struct verdict *, const char *key,
	    const char *none_json);
struct buf *verdict_output(struct verdict *, const char *key);

void	verdict_init(struct verdict *);
void	verdict_release(struct verdict *);
void	verdict_add(struct verdict *, const char *name, double score,
	    const char *detail_fmt, ...) __attribute__((format(printf, 4, 5)));
void	verdict_force(struct verdict *, int prio, enum action,
	    const char *symbol, const char *reason_fmt, ...)
	    __attribute__((format(printf, 5, 6)));
void	verdict_add_authres(struct verdict *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* verdict_force_code - verdict_force() with an RFC 3463 code (5.7.23) */
void	verdict_force_code(struct verdict *, int prio, enum action,
	    const char *xcode, const char *symbol, const char *reason_fmt, ...)
	    __attribute__((format(printf, 6, 7)));
/* verdict_floor - scored mail gets at least this action (TAG) */
void	verdict_floor(struct verdict *, enum action, const char *symbol);
/* verdict_add_header - a field to prepend (value: "\n\t" folds) */
void	verdict_add_header(struct verdict *, const char *name,
	    const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* verdict_quarantine - ask the MTA to quarantine; the first reason stays */
void	verdict_quarantine(struct verdict *, const char *reason_fmt, ...)
	    __attribute__((format(printf, 2, 3)));
const struct symbol *verdict_symbol(const struct verdict *, const char *);
/*
 * verdict_rescore - each symbol's score becomes fn(name, old score);
 * fn sets *drop to remove the symbol.  Before verdict_decide().
 */
void	verdict_rescore(struct verdict *,
	    double (*fn)(const char *name, double old, bool *drop, void *arg),
	    void *arg);
void	verdict_decide(struct verdict *, const struct conf *);

/* the values (after "Name:") of the headers we add */
void	verdict_authres_value(const struct verdict *, const char *authserv_id,
	    struct buf *);
void	verdict_status_value(const struct verdict *, struct buf *);
void	verdict_header_edits(const struct verdict *, const struct msg *,
	    const struct conf *, struct hdr_edits *);
void	hdr_edits_release(struct hdr_edits *);

#endif
