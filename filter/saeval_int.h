/*
 * saeval_int.h - helpers shared by the saeval_*.c families (not an API;
 * saeval_util.c)
 */
#ifndef MW_SAEVAL_INT_H
#define MW_SAEVAL_INT_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "saeval.h"

/* sae_field - the idx'th field name, decoded value / raw value, or NULL */
const char *sae_field(const struct saeval_in *, const char *name, size_t idx);
const char *sae_field_raw(const struct saeval_in *, const char *name,
	    size_t idx);
size_t	 sae_field_count(const struct saeval_in *, const char *name);
/* sae_get - every value of name joined with "\n" ($pms->get(name)) */
void	 sae_get(const struct saeval_in *, const char *name, struct buf *out);
/* sae_addr - the first address of the first field name (NAME:addr) */
void	 sae_addr(const struct saeval_in *, const char *name, struct buf *out);
/* sae_addrs - every address of every field name, at most max (free
 * with sae_addrs_free) */
size_t	 sae_addrs(const struct saeval_in *, const char *name, char **out,
	    size_t max);
void	 sae_addrs_free(char **, size_t);
/* sae_envfrom - SpamAssassin's EnvelopeFrom:addr (saeval_envfrom()) */
void	 sae_envfrom(struct saeval_in *, struct buf *out);

/* a fixed regex, compiled on first use: static struct sae_rx x = { pat,
 * PCRE2 options, NULL } */
struct sae_rx {
	const char *pat;
	uint32_t opts;
	pcre2_code *code;
};
/* sae_rx_match - does it match s[0..n); cap (may be NULL) gets group 1 */
bool	 sae_rx_match(struct sae_rx *, const char *s, size_t n,
	    struct buf *cap);
bool	 sae_rx_buf(struct sae_rx *, const struct buf *);
/* sae_rx_span - the first match at or after off: [*start, *end) */
bool	 sae_rx_span(struct sae_rx *, const char *s, size_t n, size_t off,
	    size_t *start, size_t *end);
/* an address in text, as SpamAssassin's FreeMail plugin finds them */
#define EMAIL_RX "(?=.{0,64}\\@)(?<![a-z0-9!#$%&'*+/=?^_`{|}~-])" \
	"([a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*" \
	"\\@(?:[a-z0-9](?:[a-z0-9-]{0,59}[a-z0-9])?\\.){1,4}[a-z]{2,24})\\b"
/* EMAIL_RX's lookahead: a match starts at most 64 bytes before its '@' */
#define EMAIL_BACK	64

/*
 * sae_rx_span_near - the same for a regex (compiled with
 * PCRE2_USE_OFFSET_LIMIT) whose every match starts at most back bytes
 * before a byte ch, or on it: only those windows are tried, so text
 * without ch costs one memchr() instead of a regex attempt per byte
 */
bool	 sae_rx_span_near(struct sae_rx *, const char *s, size_t n,
	    size_t off, char ch, size_t back, size_t *start, size_t *end);

/* hdr_name_ok - a plausible field name argument */
bool	 hdr_name_ok(const char *);
/* sae_skip_reply_prefix - past "Re: Fwd: ..." (SpamAssassin bug 6805) */
const char *sae_skip_reply_prefix(const char *);
/* sae_raw_has_caps_charset - an encoded word in a CJK/Cyrillic charset */
bool	 sae_raw_has_caps_charset(const char *raw);
/* sae_ifind - case-insensitive strstr */
const char *sae_ifind(const char *hay, const char *needle);
/* sae_squeeze_ws - every run of white space becomes one space */
void	 sae_squeeze_ws(struct buf *);
/* sae_parse_date - RFC 5322-ish date to seconds since the epoch, as
 * SpamAssassin's parse_rfc822_date(); false if no date is found */
bool	 sae_parse_date(const char *, int64_t *out);

/* sae_prep_range - prepare() of (MIN, MAX), each a number or 'undef' */
int	 sae_prep_range(const struct saeval_args *, void **, struct buf *);
/* sae_in_range - MIN*unit <= x < MAX*unit, 'undef' bounds open */
bool	 sae_in_range(double x, const struct saeval_args *, double unit);

#endif
