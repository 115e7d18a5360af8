/*
 * hdr.h - header field helpers
 *
 * DESCRIPTION
 *	hdr_unfold() turns a raw field value into one line (RFC 5322 2.2.3):
 *	CRLF followed by WSP becomes the WSP, leading and trailing white
 *	space go, NUL bytes and lone CR/LF become spaces.
 *	hdr_name_valid() checks RFC 5322 ftext (printable ASCII but colon).
 *	hdr_authres_id() extracts the authserv-id of an Authentication-
 *	Results value (RFC 8601 2.2), skipping comments (CFWS);
 *	hdr_authres_id_eq() compares two of them as domain names.
 */
#ifndef MW_HDR_H
#define MW_HDR_H

#include <stdbool.h>
#include <stddef.h>

struct buf;

void	hdr_unfold(const char *value, size_t len, struct buf *out);
bool	hdr_name_valid(const char *name, size_t len);
/* hdr_authres_id - 0 and the id in out, -1 if none can be found */
int	hdr_authres_id(const char *value, size_t len, struct buf *out);
/*
 * hdr_authres_id_eq - do two authserv-ids name the same host?  They are
 * domain names (RFC 8601 2.5): compared case-insensitively, one
 * trailing dot (the absolute form) ignored on either side.
 */
bool	hdr_authres_id_eq(const char *a, const char *b);
/*
 * hdr_fold - append "name: value" style text wrapped at about width
 * columns: breaks go before the given separators' following tokens,
 * continuation lines start with a tab; lines are joined with "\n".
 * first_col is the column where value starts.
 */
void	hdr_fold_words(struct buf *out, const char *const *words, size_t n,
	    const char *sep, size_t first_col, size_t width);

#endif
