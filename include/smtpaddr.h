/*
 * smtpaddr.h - mailbox addresses we hand to an MTA (RFC 5321)
 *
 * DESCRIPTION
 *	smtpaddr_parse() checks "local-part@domain" text that came from
 *	the network (a DMARC rua=/ruf= mailto: URI) before it becomes a
 *	recipient of mail we send, and gives its one canonical spelling:
 *	the local part as written, "@", the domain as domain_to_alabel()
 *	gives it (lower case, A-label, no trailing dot).
 *
 *	The local part must be an RFC 5321 Dot-string (atoms of atext
 *	joined by single dots) or a Quoted-string that round-trips: its
 *	content needs the quotes (it is not a Dot-string itself, such as
 *	"a..b") and holds only atext and dots, so unquoting and quoting it
 *	again, as an MTA does, gives the same text.  Two atext characters
 *	are refused as well, "%" and "!": MTAs route on them (the percent
 *	hack, UUCP bang paths), so mail could go to another address than
 *	the one that was checked.  At most SMTPADDR_LOCAL_MAX octets of
 *	local part, SMTPADDR_MAX in all (RFC 5321 4.5.3.1).
 *
 * SECURITY
 *	What an MTA would read differently from us is refused: comments
 *	"(...)", angle brackets, commas and semicolons (address lists),
 *	white space, CR and LF, backslashes, quotes that do not round-trip,
 *	leading, trailing and double dots outside quotes, an empty local
 *	part, 8-bit bytes, domain literals.  Sendmail and Postfix parse a
 *	recipient as an RFC 822 address list, so "all-staff(@evil.example"
 *	would be the local mailbox all-staff with a comment.
 *
 * STANDARDS
 *	RFC 5321 section 4.1.2 (Mailbox, Dot-string, Quoted-string) and
 *	4.5.3.1 (size limits), RFC 5322 section 3.2.3 (atext).
 */
#ifndef MW_SMTPADDR_H
#define MW_SMTPADDR_H

#include <stdbool.h>
#include <stddef.h>

#define SMTPADDR_LOCAL_MAX	64
#define SMTPADDR_MAX		254

enum smtpaddr_flags {
	SMTPADDR_FQDN = 1	/* the domain must have two labels or more */
};

/* smtpaddr_local_ok - is p[0..n) a local part as described above? */
bool	 smtpaddr_local_ok(const char *p, size_t n);

/*
 * smtpaddr_parse - check p[0..n) as local@domain and write its canonical
 * form into out (at least SMTPADDR_MAX + 1 bytes); 0, or -1 if refused.
 * The domain is the text after the last "@".
 */
int	 smtpaddr_parse(const char *p, size_t n, unsigned flags, char *out,
	    size_t outsz);

/* smtpaddr_canonical - is s exactly what smtpaddr_parse() gives for it? */
bool	 smtpaddr_canonical(const char *s, unsigned flags);

#endif
