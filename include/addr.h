/*
 * addr.h - RFC 5322 address lists (From:, Sender:, To:)
 *
 * DESCRIPTION
 *	addr_parse_list() parses a header field value as an RFC 5322
 *	address-list (RFC 6854 allows groups in From) with a tokenizer and
 *	a recursive-descent parser, not a pattern match: display names
 *	(atoms, quoted strings, the obsolete "." in phrases), comments
 *	(nested, with quoted-pairs) anywhere CFWS is allowed, angle
 *	addresses with obsolete source routes, groups, empty list elements
 *	(obs-addr-list) and RFC 6532 UTF-8.  Line folding (CRLF + WSP) is
 *	white space.
 *
 *	Every address must have a domain, and the domain is normalised by
 *	domain_to_alabel() (punycode.h): an address whose domain is not a
 *	host name (a domain literal, specials, "_") makes the whole field
 *	ADDR_BAD_DOMAIN.
 *
 *	Deviations that real mail needs and that cannot change which
 *	domain is the author's are accepted but flagged ADDR_F_NONSTANDARD:
 *	  - "@" or "." unquoted in a display name before an angle address
 *	    ("info@example.com <info@example.com>");
 *	  - a display name before a bare addr-spec ("Joe" joe@example.com);
 *	  - a group whose closing ";" is missing at the end of the field.
 *
 * LIMITS
 *	At most ADDR_MAX addresses are kept (the count goes on), comments
 *	nest at most ADDR_MAX_NESTING deep, and a field of n bytes is parsed
 *	in O(n) time.
 */
#ifndef MW_ADDR_H
#define MW_ADDR_H

#include <stdbool.h>
#include <stddef.h>

#include "punycode.h"

#define ADDR_MAX		32
#define ADDR_MAX_NESTING	32

enum addr_status {
	ADDR_OK,
	ADDR_EMPTY,		/* no address at all (blank, or empty groups) */
	ADDR_SYNTAX,		/* not an address-list */
	ADDR_BAD_DOMAIN		/* an address whose domain is not a host name */
};

enum addr_flags {
	ADDR_F_NONSTANDARD = 1,	/* accepted with a deviation (see above) */
	ADDR_F_GROUP = 2	/* group syntax was used */
};

struct addr {
	char	domain[DOMAIN_MAX + 1];	/* A-label, lower case */
	bool	quoted_local;		/* local part was a quoted string */
};

struct addr_list {
	struct addr v[ADDR_MAX];
	size_t	 n;		/* kept */
	size_t	 total;		/* found */
	unsigned flags;
	char	 why[96];	/* for errors: what and where */
};

enum addr_status addr_parse_list(const char *p, size_t n,
	    struct addr_list *out);
const char *addr_status_name(enum addr_status);
/* addr_distinct_domains - number of different domains in the list */
size_t	 addr_distinct_domains(const struct addr_list *);

struct msg;

/*
 * The Author Domain of a message (RFC 9989 5.3.1): the one domain of
 * the addresses of its single From field.  Every check that needs an
 * author (DKIM author signatures and signing keys, DMARC, ARC trusted
 * sealers) asks addr_author(), so they cannot disagree.  A field with
 * several addresses in one domain has that author; zero fields, several
 * fields, no address, a field that does not parse and addresses in
 * several domains have none, each for its own reason.
 */
enum addr_author_status {
	ADDR_AUTHOR_OK,
	ADDR_AUTHOR_MISSING,	/* no From field, or no address in it */
	ADDR_AUTHOR_MULTIPLE,	/* several From fields */
	ADDR_AUTHOR_INVALID,	/* not an address list, or a bad domain */
	ADDR_AUTHOR_MULTI	/* addresses in several domains */
};

struct addr_author {
	enum addr_author_status status;
	char	 domain[DOMAIN_MAX + 1];	/* A-label, lower case; "" */
	unsigned flags;				/* ADDR_F_* of the field */
	char	 why[160];			/* unless OK: what is wrong */
};

/* addr_author - the author of m into out (see above) */
enum addr_author_status addr_author(const struct msg *m,
	    struct addr_author *out);

#endif
