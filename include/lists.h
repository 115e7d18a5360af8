/*
 * lists.h - local access lists (client address, envelope sender, HELO)
 *
 * DESCRIPTION
 *	An access list file has one entry per line, in the spirit of
 *	Postfix access(5):
 *
 *	    KEY  ACTION  [text]
 *
 *	KEY is, by list kind:
 *	    client   an IPv4/IPv6 address or CIDR block (192.0.2.0/24,
 *	             2001:db8::/32)
 *	    sender   user@example.com (exact address), @example.com (that
 *	             domain only), example.com (the domain and its
 *	             subdomains), user@ (that local part at any domain)
 *	    helo     a host name (exact), or .example.com (any subdomain)
 *	ACTION is
 *	    REJECT [text]    refuse the message with 550 5.7.1 and text
 *	    OK               accept the message whatever its score
 *	    SCORE n [text]   add n (may be negative) to the score
 *
 *	Two allowlists hold keys alone, one per line, without an action:
 *	    welcome_auth  user@example.org, *@example.org (that domain),
 *	                  example.org (the domain and its subdomains);
 *	                  allowed only when the message authenticates for
 *	                  the domain (welcome.h)
 *	    dkim_domain   example.org: a valid DKIM signature with that d=
 *	                  or a subdomain of it
 *	Keys are case-insensitive; "#" starts a comment; the most specific
 *	match wins (longest CIDR prefix, exact address before domain,
 *	longest domain).
 *
 * DIAGNOSTICS
 *	lists_load() reports the first bad line as FILE:LINE: reason.
 */
#ifndef MW_LISTS_H
#define MW_LISTS_H

#include <stdbool.h>

struct buf;
struct netaddr;

enum list_kind {
	LIST_CLIENT,
	LIST_SENDER,
	LIST_HELO,
	LIST_WELCOME_AUTH,	/* allowlists from here on: keys alone */
	LIST_DKIM_DOMAIN,
	LIST_NKINDS
};

enum list_action {
	LIST_REJECT,
	LIST_OK,
	LIST_SCORE
};

struct list_entry {
	enum list_action action;
	double	 score;
	char	*text;		/* may be NULL */
	char	*key;		/* as written, for logs */
	unsigned line;
};

struct list;

int	 list_parse(enum list_kind, const char *text, size_t len,
	    const char *origin, struct list **, struct buf *why);
int	 list_load(enum list_kind, const char *path, struct list **,
	    struct buf *why);
void	 list_free(struct list *);
size_t	 list_count(const struct list *);
const struct list_entry *list_match_addr(const struct list *,
	    const struct netaddr *);
/* list_match_sender - address "user@domain" (may be "" for <>) */
const struct list_entry *list_match_sender(const struct list *, const char *);
const struct list_entry *list_match_helo(const struct list *, const char *);
/* list_match_domain - the domain or its closest listed parent */
const struct list_entry *list_match_domain(const struct list *,
	    const char *);

#endif
