/*
 * str.h - character classes, number parsing, escaping
 *
 * DESCRIPTION
 *	All classification takes an unsigned char (or an int holding one)
 *	and never consults the locale.  Number parsing is bounded and
 *	rejects trailing garbage; atoi() is not used anywhere.
 */
#ifndef MW_STR_H
#define MW_STR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct buf;

static inline bool ch_is_digit(int c) { return c >= '0' && c <= '9'; }
static inline bool ch_is_alpha(int c)
{ return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
static inline bool ch_is_alnum(int c) { return ch_is_alpha(c) || ch_is_digit(c); }
static inline bool ch_is_space(int c)
{ return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v'; }
static inline bool ch_is_wsp(int c) { return c == ' ' || c == '\t'; }
static inline bool ch_is_xdigit(int c)
{ return ch_is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
/* ch_xdigit_val - value of a hex digit, or -1 */
static inline int ch_xdigit_val(int c)
{ return ch_is_digit(c) ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 :
    (c >= 'A' && c <= 'F') ? c - 'A' + 10 : -1; }
static inline int ch_lower(int c) { return (c >= 'A' && c <= 'Z') ? c + 32 : c; }
static inline int ch_upper(int c) { return (c >= 'a' && c <= 'z') ? c - 32 : c; }
/* printable US-ASCII, space excluded */
static inline bool ch_is_vchar(int c) { return c > 32 && c < 127; }

/* parse_uint - decimal in [min,max]; 0 on success, -1 on error */
int	 parse_uint(const char *, uint64_t min, uint64_t max, uint64_t *);
/* parse_double - finite decimal number in [min,max] */
int	 parse_double(const char *, double min, double max, double *);
/* parse_size - "123", "64k", "10M", "1G" (powers of 1024) */
int	 parse_size(const char *, uint64_t min, uint64_t max, uint64_t *);
/* parse_bool - yes/no/true/false/on/off/1/0 */
int	 parse_bool(const char *, bool *);

bool	 str_ieq(const char *, const char *);
bool	 str_nieq(const char *, size_t, const char *, size_t);
bool	 str_has_iprefix(const char *, const char *);
void	 str_lower(char *);
/*
 * str_suggest - the one candidate (get(0..n-1, arg)) closest to word,
 * for "did you mean ...?": case-insensitive edit distance (insertions,
 * deletions, substitutions, swaps of neighbours) of at most 2 and at
 * most a quarter of word's length; NULL if none is that close or two
 * are equally close.
 */
const char *str_suggest(const char *word,
	    const char *(*get)(size_t, void *), size_t n, void *arg);
/* str_trim - strip leading/trailing white space in place; returns start */
char	*str_trim(char *);

/*
 * str_escape - append p[0..n) to out for a log line: printable ASCII as
 * is, everything else as \xHH; at most max input bytes, then "...".
 */
void	 str_escape(struct buf *out, const void *p, size_t n, size_t max);

/* utf8_valid - true if p[0..n) is well-formed UTF-8 (RFC 3629) */
bool	 utf8_valid(const void *p, size_t n);
/*
 * utf8_next - decode one code point at p (n bytes left); returns its
 * length (>= 1) and sets *cp, or returns -(bytes to skip) with *cp =
 * U+FFFD for an ill-formed sequence.
 */
int	 utf8_next(const unsigned char *p, size_t n, uint32_t *cp);

/* rfc3339 - format t (seconds) + usec as 2026-01-02T03:04:05.678Z */
void	 fmt_rfc3339(struct buf *, int64_t sec, long usec);

#endif
