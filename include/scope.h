/*
 * scope.h - policy scopes: per-domain, per-user and outbound settings
 *
 * DESCRIPTION
 *	A scope is one file NAME.conf in scope_dir, in the syntax of the
 *	main file: selectors say which mail it takes, the other keys
 *	override a documented subset of the main configuration for that
 *	mail (doc/scopes.md).  Scopes are tried in file name order; the
 *	first whose selectors all match applies, and mail no scope selects
 *	keeps the main configuration.
 *
 *	Selectors (each a list; a kind that is set must match with one of
 *	its values, the kinds that are set must all match):
 *
 *	    recipients         user@domain, or local@ (that local part at
 *	                       any domain)
 *	    recipient_domains  a domain and its subdomains
 *	    auth_users         SMTP AUTH identities, * for any
 *	    clients            client addresses and networks (CIDR)
 *	    sender_domains     the MAIL FROM domain and its subdomains
 *	    outbound = yes     only mail the main configuration trusts
 *	                       (trusted_networks, or authenticated with
 *	                       trust_authenticated): it is scored and
 *	                       still DKIM-signed
 *
 *	A scope with rcpt_reject = "5XX 5.X.X text" is a spam trap: the
 *	milter refuses every recipient it takes at RCPT with that reply and
 *	logs the client.
 *
 *	A message has one scope.  The recipient selectors make the scope a
 *	property of each recipient; the milter defers (452 4.5.3) a
 *	recipient whose scope differs from the scope of the recipients
 *	already accepted in the transaction, so the client sends it in a
 *	later transaction.
 *
 * DIAGNOSTICS
 *	scope_parse() and scope_load() report every error, one line each,
 *	"FILE:LINE: key: reason"; a scope that an earlier one makes
 *	unreachable (it selects everything this one would) is an error.
 */
#ifndef MW_SCOPE_H
#define MW_SCOPE_H

#include <stdbool.h>
#include <stddef.h>

#include "conf.h"

struct buf;
struct engine;
struct msg;

#define SCOPE_NAME_MAX	64

struct scope {
	char	*name;			/* file name without .conf */
	char	*path;			/* the file */
	/* selectors */
	struct strlist rcpts;		/* "user@domain" or "local@" */
	struct strlist rcpt_domains;
	struct strlist auth_users;	/* "*": any authenticated */
	struct strlist sender_domains;
	struct cidr *clients;
	size_t	 nclients;
	bool	 outbound;
	unsigned sel_line[5];		/* line of each selector key (in the
					   order of scope.c's table), or 0 */
	/* effects */
	bool	 exempt;		/* accept, deliver untouched */
	char	*reject_text;		/* outbound reject reply, or NULL */
	/* spam trap: every recipient the scope takes is refused at RCPT */
	char	 trap_code[4];		/* "550", or "" when not a trap */
	char	 trap_xcode[8];		/* "5.1.1" */
	char	*trap_text;
	struct conf *conf;		/* main configuration + overrides */
	struct engine *eng;		/* built by engine_new() */
};

struct scope_set {
	struct scope *v;
	size_t	 n;
	bool	 by_rcpt;		/* some scope selects by recipient */
};

/*
 * scope_parse - one scope file's text over a copy of base.  Returns 0
 * and fills *out (release with scope_release()), or -1 with every
 * error in why (*out is then released already).
 */
int	 scope_parse(const char *text, size_t len, const char *path,
	    const char *name, const struct conf *base, struct scope *out,
	    struct buf *why);
void	 scope_release(struct scope *);
/*
 * scope_load - every NAME.conf of base->scope_dir (none when the key is
 * empty, or is MW_DEFAULT_SCOPE_DIR and the directory is missing); errors
 * of every file, and unreachable scopes, are lines of why.
 */
int	 scope_load(const struct conf *base, struct scope_set *,
	    struct buf *why);
/* scope_check_reach - one error line for each scope an earlier one hides */
int	 scope_check_reach(const struct scope_set *, struct buf *why);
void	 scope_set_release(struct scope_set *);
/*
 * scope_select - the first scope of set that takes the message of m
 * (connection and envelope) for recipient rcpt (NULL: the recipient
 * selectors match nothing), or NULL for the main configuration
 */
const struct scope *scope_select(const struct scope_set *,
	    const struct conf *base, const struct msg *, const char *rcpt);
/* scope_find - the scope called name, or NULL */
const struct scope *scope_find(const struct scope_set *, const char *name);
/* scope_dump - a scope's selectors and effects, as its file would say */
void	 scope_dump(const struct scope *, struct buf *);
/* scope_trusted - does base trust the source of m (the outbound test)? */
bool	 scope_trusted(const struct conf *base, const struct msg *);

#endif
