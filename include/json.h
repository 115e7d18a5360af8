/*
 * json.h - minimal JSON text writer
 *
 * DESCRIPTION
 *	json_str() writes a JSON string from arbitrary bytes: control
 *	characters, quote and backslash are escaped, and ill-formed UTF-8 is
 *	replaced by U+FFFD, so that whatever a message holds the output is
 *	valid JSON.  The writer keeps no state: callers emit separators.
 */
#ifndef MW_JSON_H
#define MW_JSON_H

#include <stddef.h>

struct buf;

void	json_str(struct buf *, const char *p, size_t n);
void	json_cstr(struct buf *, const char *s);	/* NULL -> null */
void	json_num(struct buf *, double);
/* json_key - ,"key": (comma unless first is nonzero) */
void	json_key(struct buf *, const char *key, int first);

#endif
