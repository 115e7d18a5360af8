/*
 * strmap.h - string-keyed hash map (open addressing, keys copied)
 *
 * DESCRIPTION
 *	Keys are compared byte-exactly; callers lower-case keys that are
 *	case-insensitive (domain names) before insert and lookup.  Values
 *	are opaque pointers owned by the caller, freed by an optional
 *	destructor in strmap_free().
 */
#ifndef MW_STRMAP_H
#define MW_STRMAP_H

#include <stddef.h>

struct strmap;

struct strmap *strmap_new(void);
void	 strmap_free(struct strmap *, void (*destroy)(void *));
/* strmap_put - insert or replace; returns the old value or NULL */
void	*strmap_put(struct strmap *, const char *key, void *value);
void	*strmap_get(const struct strmap *, const char *key);
void	*strmap_getn(const struct strmap *, const char *key, size_t len);
size_t	 strmap_count(const struct strmap *);
/* strmap_foreach - calls fn for each entry in unspecified order */
void	 strmap_foreach(const struct strmap *,
	    void (*fn)(const char *key, void *value, void *arg), void *arg);

#endif
