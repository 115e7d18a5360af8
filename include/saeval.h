/*
 * saeval.h - SpamAssassin's eval: tests, natively, in families
 *
 * DESCRIPTION
 *	A rule file line such as
 *
 *	    header DATE_IN_PAST_96_XX eval:check_for_shifted_date('undef', '-96')
 *
 *	names a function of SpamAssassin's Perl code.  mailwarden provides
 *	the ones its stock rules use most, in C, under the same names and
 *	argument conventions, grouped in families (one file per family:
 *	saeval_header.c, saeval_auth.c, saeval_mime.c ...).  A family is a
 *	struct saeval_family: its table of functions, the rule-file
 *	directives that feed it data (freemail_domains ...), and the
 *	SpamAssassin plugins whose "ifplugin" blocks it stands for.
 *
 *	At load (rules_parse.c) the argument text is split as SpamAssassin
 *	does: comma-separated, each a '...' or "..." string or a bare word
 *	or number.  The function's prepare() checks the arguments (count,
 *	numbers, regexes) and may build a compiled form; an error names the
 *	rule file and line.  A function name no family has stays an
 *	"unsupported" note, and the metas over the rule are disabled.
 *
 *	Per message, rules_eval() calls each eval rule's run() with a
 *	struct saeval_in: the message, its MIME view, the relays, the
 *	authentication results so far (inside the scan pipeline only), the
 *	time, the data of the directives, and a memo in which the family
 *	keeps computations several of its functions share (saeval_memo()).
 *	run() returns the hit count (0 = no hit); the rule then takes part
 *	in metas, scores and logs as any other rule.
 *
 * ADDING A FAMILY
 *	Write filter/saeval_NAME.c defining
 *	    const struct saeval_family saeval_NAME_family = { ... };
 *	add it to families[] in saeval.c and the file to libfilter's
 *	sources in Makefile.am.  Function names must be unique over all
 *	families (saeval_lookup() takes the first; a unit test checks).
 *
 * SECURITY
 *	run() reads untrusted messages: every function bounds its work by
 *	the caps of struct msg and struct mime_msg and never logs text.
 *
 * SEE ALSO
 *	rules.h, doc/rules.md, SpamAssassin's Mail::SpamAssassin::Plugin::*
 */
#ifndef MW_SAEVAL_H
#define MW_SAEVAL_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "buf.h"
#include "rules.h"

struct mime_msg;
struct msg;
struct relay;
struct strmap;
struct verdict;

#define SAEVAL_MAX_ARGS	8
#define SAEVAL_MAX_ARG	1024		/* bytes of one argument */

/* the arguments of one call, as written (quotes removed) */
struct saeval_args {
	size_t	 n;
	char	*v[SAEVAL_MAX_ARGS];
};

/* the data of the directives of every family (see saeval_directive) */
struct saeval_conf;

/* everything an eval may read about one message */
struct saeval_in {
	const struct msg *m;
	const struct mime_msg *mm;
	const struct saeval_conf *conf;
	const struct verdict *auth;	/* symbols of the steps before rules
					   (SPF, DKIM, DMARC); NULL outside
					   the scan pipeline */
	time_t	 now;			/* the scan's clock */
	enum rule_type type;		/* of the rule being run */
	struct saeval_memo *memo;	/* private: see saeval_memo() */
};

struct saeval_fn {
	const char *name;		/* SpamAssassin's function name */
	unsigned types;			/* 1 << RULE_* the rule may be */
	unsigned min_args, max_args;
	/*
	 * prepare - check the arguments at load; may set *prep to a
	 * compiled form (freed with release).  0, or -1 with a reason in
	 * why (the caller adds file, line and rule).  NULL: any arguments
	 * within min/max are fine.
	 */
	int	 (*prepare)(const struct saeval_args *, void **prep,
		    struct buf *why);
	void	 (*release)(void *prep);
	/*
	 * run - the hit count for this message.  detail, when not NULL
	 * (rules test), may receive a short explanation.
	 */
	unsigned (*run)(struct saeval_in *, const struct saeval_args *,
		    const void *prep, struct buf *detail);
};

enum saeval_dir_kind {
	SAEVAL_DIR_SET,			/* words added to a set (lower case) */
	SAEVAL_DIR_VALUE		/* the last value given */
};

struct saeval_directive {
	const char *name;
	enum saeval_dir_kind kind;
};

struct saeval_family {
	const char *name;
	const struct saeval_fn *fns;
	size_t	 nfns;
	const struct saeval_directive *dirs;
	size_t	 ndirs;
	const char *const *plugins;	/* "Mail::SpamAssassin::Plugin::X"
					   provided; NULL-terminated */
};

#define SAEVAL_TYPES_ANY	((1u << RULE_HEADER) | (1u << RULE_BODY) | \
	(1u << RULE_RAWBODY) | (1u << RULE_URI) | (1u << RULE_FULL))
#define SAEVAL_NELEM(a)		(sizeof(a) / sizeof((a)[0]))

/* ------------------------------------------------------------------ */
/* registry (saeval.c)                                                 */
/* ------------------------------------------------------------------ */

/* saeval_lookup - the function called name, or NULL */
const struct saeval_fn *saeval_lookup(const char *name);
/* saeval_plugin_provided - "ifplugin NAME" blocks are read */
bool	 saeval_plugin_provided(const char *name, size_t len);
/* saeval_directive_kind - false if no family takes the directive */
bool	 saeval_directive_find(const char *name, enum saeval_dir_kind *);
/* saeval_families - the table (tests, listings) */
const struct saeval_family *const *saeval_families(size_t *n);

/*
 * saeval_args_parse - "'a', 'b', 3" (the text between the parentheses)
 * into args (free with saeval_args_release).  -1 with why on error.
 */
int	 saeval_args_parse(const char *s, size_t len, struct saeval_args *,
	    struct buf *why);
void	 saeval_args_release(struct saeval_args *);

/* directive data, built at load and then only read */
struct saeval_conf *saeval_conf_new(void);
void	 saeval_conf_free(struct saeval_conf *);
/* saeval_conf_apply - one directive line; -1 with why on error */
int	 saeval_conf_apply(struct saeval_conf *, const char *dir,
	    const char *text, struct buf *why);
/* saeval_conf_set - the set of directive name (NULL if never given) */
const struct strmap *saeval_conf_set(const struct saeval_conf *,
	    const char *dir);
/* saeval_conf_globs - the words of set dir with '*' or '?' (also in
 * the set), in the order given */
char *const *saeval_conf_globs(const struct saeval_conf *, const char *dir,
	    size_t *n);
/* saeval_conf_value - the last value of directive name, or NULL */
const char *saeval_conf_value(const struct saeval_conf *, const char *dir);

/* ------------------------------------------------------------------ */
/* per-message shared computations                                     */
/* ------------------------------------------------------------------ */

/*
 * saeval_memo - the value make(in) computed once per message under key
 * (the address of a static object of the caller); release frees it
 * when the message is done.  make may return NULL (remembered too).
 */
void	*saeval_memo(struct saeval_in *, const void *key,
	    void *(*make)(struct saeval_in *), void (*release)(void *));
/* saeval_memo_release - the end of a message (rules_eval) */
void	 saeval_memo_release(struct saeval_memo **);

/*
 * saeval_envfrom - SpamAssassin's EnvelopeFrom: MAIL FROM, else (stored
 * messages) the first untrusted relay's envelope sender, else
 * X-Envelope-From, Envelope-Sender or Return-Path above every Received
 */
void	 saeval_envfrom(const struct msg *, const struct mime_msg *,
	    struct buf *out);

/* saeval_relays - the untrusted relays, most recent first (relays.h) */
const struct relay *saeval_relays(struct saeval_in *, size_t *n);
/* saeval_relays_counts - trusted hops and Received fields not parsed */
void	 saeval_relays_counts(struct saeval_in *, size_t *trusted,
	    size_t *unparsed);

/* the families */
extern const struct saeval_family saeval_header_family;
extern const struct saeval_family saeval_date_family;
extern const struct saeval_family saeval_freemail_family;
extern const struct saeval_family saeval_relay_family;
extern const struct saeval_family saeval_auth_family;
extern const struct saeval_family saeval_mime_family;

#endif
