/*
 * saeval_int.h - helpers shared by the saeval_*.c families (not an API)
 */
#ifndef MW_SAEVAL_INT_H
#define MW_SAEVAL_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "saeval.h"

/* sae_field - the idx'th field name, decoded value / raw value, or NULL */
const char *sae_field(const struct saeval_in *, const char *name, size_t idx);
const char *sae_field_raw(const struct saeval_in *, const char *name,
	    size_t idx);
size_t	 sae_field_count(const struct saeval_in *, const char *name);
/* sae_get - every value of name joined with "\n" ($pms->get(name)) */
void	 sae_get(const struct saeval_in *, const char *name, struct buf *out);
/* hdr_name_ok - a plausible field name argument */
bool	 hdr_name_ok(const char *);
/* sae_skip_reply_prefix - past "Re: Fwd: ..." (SpamAssassin bug 6805) */
const char *sae_skip_reply_prefix(const char *);
/* sae_raw_has_caps_charset - an encoded word in a CJK/Cyrillic charset */
bool	 sae_raw_has_caps_charset(const char *raw);
/* sae_ifind - case-insensitive strstr */
const char *sae_ifind(const char *hay, const char *needle);

#endif
