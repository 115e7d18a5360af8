/*
 * arc_int.h - private to filter/arc*.c
 *
 * DESCRIPTION
 *	arc_aar.c reads ARC-Authentication-Results fields: the instance
 *	tag in front, the payload after it, and what the payload claims.
 */
#ifndef MW_ARC_INT_H
#define MW_ARC_INT_H

#include <stddef.h>

#include "dkim_int.h"

struct buf;

/*
 * arc_aar_instance - the "i=N;" that opens an AAR value (RFC 8617
 * 4.1.1): N (1..999, the caller bounds it further), or 0 with a reason
 */
unsigned arc_aar_instance(const char *value, size_t len, struct buf *why);
/*
 * arc_aar_payload - what follows "i=N;", unfolded, control characters
 * made spaces, at most ARC_MAX_AAR bytes; the caller frees it
 */
char	*arc_aar_payload(const char *value, size_t len);
/* arc_dkim_cv_name - cv= as written: "none", "pass", "fail", "?" */
const char *arc_dkim_cv_name(enum dkim_arc_cv);

#endif
