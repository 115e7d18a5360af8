/*
 * psl.h - the Public Suffix List, for RFC 7489 organizational domains
 *
 * DESCRIPTION
 *	psl_load() reads a list in the publicsuffix.org format (Debian's
 *	publicsuffix package installs it as
 *	/usr/share/publicsuffix/public_suffix_list.dat): one rule per line,
 *	"//" comments, "*." wildcards and "!" exceptions, ICANN and private
 *	sections alike.  Rules are stored in A-label form, so names given
 *	in either form match.
 *
 *	psl_registrable() applies the list's algorithm: the longest
 *	matching rule wins, an exception rule beats the wildcard it
 *	refines, and the implicit rule "*" makes any unlisted top-level
 *	label a public suffix.  The registrable domain (RFC 7489's
 *	Organizational Domain) is the public suffix plus one label.
 *
 * DIAGNOSTICS
 *	psl_load() fails on an unreadable file, a file over 8 MiB, a rule
 *	that is not a valid name, or a list with no rules; why says which
 *	line.
 */
#ifndef MW_PSL_H
#define MW_PSL_H

#include <stddef.h>

struct buf;
struct psl;

int	 psl_load(const char *path, struct psl **out, struct buf *why);
int	 psl_parse(const char *text, size_t len, const char *origin,
	    struct psl **out, struct buf *why);
void	 psl_free(struct psl *);
size_t	 psl_rules(const struct psl *);

/*
 * psl_registrable - registrable domain of name (A-label, lower case,
 * no leading dot) into out (DOMAIN_MAX + 1 bytes): 0, or -1 when name
 * is itself a public suffix or not a valid name.
 */
int	 psl_registrable(const struct psl *, const char *name, char *out,
	    size_t outsz);

#endif
