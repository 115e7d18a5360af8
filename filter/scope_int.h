/*
 * scope_int.h - what scope.c shares with scope_reach.c
 */
#ifndef MW_SCOPE_INT_H
#define MW_SCOPE_INT_H

#include <stdbool.h>

#include "scope.h"

/* scope_domain_in - is d one of l's domains or below one? */
bool	 scope_domain_in(const struct strlist *l, const char *d);
/* scope_sel_line - line of selector key in sc's file, or 0 */
unsigned scope_sel_line(const struct scope *sc, const char *key);

#endif
