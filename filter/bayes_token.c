/*
 * bayes_token.c - what a message becomes for the Bayes classifier
 *
 * DESCRIPTION
 *	bayes_tokenize() walks the decoded view of a message (mime.h) and
 *	adds its tokens to a set, in this order, so that the per-message
 *	cap keeps the most telling ones:
 *
 *	  1. header fields: selected fields' words prefixed by the field
 *	     name ("subject:viagra"), addresses split into address, domain
 *	     and display-name words, Received chunks (host names, /16 and
 *	     /24 of addresses, protocol words), Content-Type, charset and
 *	     encoding, mailer words, the time zone of Date, and one
 *	     "hdr:NAME" token per field name present;
 *	  2. URIs: scheme, host, registered domain, port and IP-literal
 *	     marks, path words, a link whose text shows another host;
 *	  3. MIME structure: part types, attachment file name words and
 *	     extensions, HTML tag names and counts (images, links, forms,
 *	     invisible text);
 *	  4. body words of every text part and of HTML rendered as text;
 *	     text hidden in HTML is tokenized apart, prefixed "hidden:",
 *	     so that hidden ham words cannot pass for visible ones.
 *
 *	Words: runs of letters and digits (UTF-8 aware: any letter beyond
 *	ASCII counts), with '.', '-', '\'' and '_' kept inside a word,
 *	and a leading currency sign kept.  A word keeps its case ("FREE"
 *	and "Free" are tokens of their own: shouting is a clue) and, when
 *	it has capitals, also yields its lower-case form (ASCII, Latin-1,
 *	Latin Extended-A, Greek, Cyrillic) so that all spellings share
 *	evidence.  Words shorter than 2 characters are dropped; longer
 *	than 20 become a "skip:C:N" shape token (first character, length
 *	rounded down to ten); base64-looking runs of 30 or more characters
 *	are dropped.  Numbers of more than 5 digits become "num:N" (N the
 *	digit count).  Han, kana and Thai, written without spaces, become
 *	overlapping character pairs.  Emoji become "emoji:X".
 *
 *	With bigrams on, each body word also yields sparse pairs with the
 *	word before it ("bi:a b") and the one before that ("bi:a * c"),
 *	in lower case.  Off by default: on the SpamAssassin corpus they
 *	made the chi-square combination worse (doc/bayes.md).
 *
 *	Headers this program or other filters add (X-Spam-*,
 *	Authentication-Results, ...) and per-recipient delivery fields
 *	(Delivered-To, X-Original-To) are ignored entirely: learning from
 *	them would teach the classifier its own past verdicts or the
 *	mailbox a message was filed in.
 *
 *	bayes_digest() is the identity of a message for idempotent
 *	learning: SHA-256 over Message-ID, Date, From, To and Subject
 *	(unfolded) and the stored body without trailing white space,
 *	truncated to 16 bytes.  Trace fields are left out so that the
 *	same message learned by the milter and later from a mailbox is
 *	recognised.
 *
 * SECURITY
 *	Input is untrusted.  Every loop is linear in its input; word and
 *	token sizes are bounded (BAYES_TOKEN_MAX, MAX_WORD_BYTES); the
 *	number of Received fields, addresses per field, path words per URI
 *	and distinct tokens per message are capped.
 */
#include "config.h"

#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bayes.h"
#include "buf.h"
#include "hdr.h"
#include "mime.h"
#include "msg.h"
#include "str.h"

#define MIN_WORD	2	/* characters */
#define MAX_WORD	20	/* characters; longer: skip token */
#define MAX_WORD_BYTES	(MAX_WORD * 4 + 8)
#define B64_NOISE	30	/* base64-looking run this long is noise */
#define MAX_RECEIVED	6	/* Received fields looked at */
#define MAX_ADDRS	20	/* addresses per field */
#define MAX_PATH_WORDS	10	/* per URI */
#define MAX_TAG_NAMES	64	/* distinct HTML tag names */

/* ---------------------------------------------------------------- */
/* character classes */

static uint32_t
fold(uint32_t c)
{
	if (c < 0x80)
		return (uint32_t)ch_lower((int)c);
	if ((c >= 0xC0 && c <= 0xDE && c != 0xD7))
		return c + 0x20;
	if (c >= 0x100 && c <= 0x137)
		return c | 1;
	if (c >= 0x139 && c <= 0x148)
		return (c & 1) ? c + 1 : c;
	if (c >= 0x14A && c <= 0x177)
		return c | 1;
	if (c == 0x178)
		return 0xFF;
	if (c >= 0x179 && c <= 0x17E)
		return (c & 1) ? c + 1 : c;
	if (c >= 0x391 && c <= 0x3A9 && c != 0x3A2)
		return c + 0x20;
	if (c >= 0x410 && c <= 0x42F)
		return c + 0x20;
	if (c >= 0x400 && c <= 0x40F)
		return c + 0x50;
	return c;
}

/* is_spaceless - scripts written without spaces between words */
static bool
is_spaceless(uint32_t c)
{
	return (c >= 0x0E00 && c <= 0x0E7F) ||		/* Thai */
	    (c >= 0x3040 && c <= 0x30FF) ||		/* kana */
	    (c >= 0x3400 && c <= 0x4DBF) ||		/* Han ext. A */
	    (c >= 0x4E00 && c <= 0x9FFF) ||		/* Han */
	    (c >= 0xF900 && c <= 0xFAFF) ||
	    (c >= 0x20000 && c <= 0x2FFFF);
}

static bool
is_emoji(uint32_t c)
{
	return (c >= 0x1F300 && c <= 0x1FAFF) || (c >= 0x2600 && c <= 0x27BF);
}

/* is_word_wide - is_word() of a character beyond ASCII */
static bool
is_word_wide(uint32_t c)
{
	if (c < 0xC0)
		return c == 0xAA || c == 0xB5 || c == 0xBA;
	if (c == 0xD7 || c == 0xF7 || c == 0xFFFD)
		return false;
	if ((c >= 0x2000 && c <= 0x2BFF) || (c >= 0x3000 && c <= 0x303F) ||
	    (c >= 0xFE30 && c <= 0xFE4F) || (c >= 0xFF00 && c <= 0xFF0F) ||
	    (c >= 0xFF1A && c <= 0xFF20) || (c >= 0xFF3B && c <= 0xFF40) ||
	    (c >= 0xFF5B && c <= 0xFF65) || c >= 0xFFF0)
		return false;
	return !is_spaceless(c) && !is_emoji(c);
}

static inline bool
is_word(uint32_t c)
{
	return c < 0x80 ? ch_is_alnum((int)c) : is_word_wide(c);
}

static bool
is_connector(uint32_t c)
{
	return c == '.' || c == '-' || c == '\'' || c == '_';
}

static bool
is_currency(uint32_t c)
{
	return c == '$' || c == 0xA3 || c == 0x20AC || c == 0xA5;
}

static void
put_utf8(char *out, size_t *n, uint32_t c)
{
	if (c < 0x80)
		out[(*n)++] = (char)c;
	else if (c < 0x800) {
		out[(*n)++] = (char)(0xC0 | (c >> 6));
		out[(*n)++] = (char)(0x80 | (c & 0x3F));
	} else if (c < 0x10000) {
		out[(*n)++] = (char)(0xE0 | (c >> 12));
		out[(*n)++] = (char)(0x80 | ((c >> 6) & 0x3F));
		out[(*n)++] = (char)(0x80 | (c & 0x3F));
	} else {
		out[(*n)++] = (char)(0xF0 | (c >> 18));
		out[(*n)++] = (char)(0x80 | ((c >> 12) & 0x3F));
		out[(*n)++] = (char)(0x80 | ((c >> 6) & 0x3F));
		out[(*n)++] = (char)(0x80 | (c & 0x3F));
	}
}

/*
 * next_cp - decode at p[i]; ill-formed bytes become U+FFFD (1+ bytes).
 * ASCII, most of any text, is taken here without the decoder.
 */
static inline uint32_t
next_cp(const char *p, size_t n, size_t *i)
{
	uint32_t c = (unsigned char)p[*i];
	int k;

	if (c < 0x80) {
		(*i)++;
		return c;
	}
	k = utf8_next((const unsigned char *)p + *i, n - *i, &c);

	*i += (size_t)(k < 0 ? -k : k);
	return c;
}

/* ---------------------------------------------------------------- */
/* words */

struct wordctx {
	struct bayes_toks *t;
	const char *prefix;
	unsigned flags;			/* BAYES_TEXT_* */
	char	 prev[2][MAX_WORD_BYTES];	/* last two words, for pairs */
	size_t	 prevlen[2];
	unsigned nprev;
};

static void
add2(struct bayes_toks *t, const char *prefix, const char *w, size_t n)
{
	(void)bayes_toks_add2(t, prefix, w, n);
}

static void
add_fmt(struct bayes_toks *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
add_fmt(struct bayes_toks *t, const char *fmt, ...)
{
	char tmp[BAYES_TOKEN_MAX + 1];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	(void)bayes_toks_add(t, tmp, (size_t)n < sizeof(tmp) ?
	    (size_t)n : sizeof(tmp) - 1);
}

/*
 * add_join - the token a b c: what add_fmt(t, "%s%s%s", a, b, c) adds,
 * without the formatter (host, domain and address tokens are many)
 */
static void
add_join(struct bayes_toks *t, const char *a, const char *b, const char *c)
{
	char tmp[BAYES_TOKEN_MAX];
	const char *part[3] = { a, b, c };
	size_t n = 0, k, i;

	for (i = 0; i < 3; i++) {
		k = strlen(part[i]);
		if (k > sizeof(tmp) - n)
			k = sizeof(tmp) - n;
		memcpy(tmp + n, part[i], k);
		n += k;
	}
	(void)bayes_toks_add(t, tmp, n);
}

static void
pairs(struct wordctx *w, const char *word, size_t n)
{
	char tmp[2 * MAX_WORD_BYTES + 8];
	size_t k;

	if (w->nprev >= 1) {
		k = w->prevlen[0];
		memcpy(tmp, w->prev[0], k);
		tmp[k++] = ' ';
		memcpy(tmp + k, word, n);
		add2(w->t, "bi:", tmp, k + n);
	}
	if (w->nprev >= 2) {
		k = w->prevlen[1];
		memcpy(tmp, w->prev[1], k);
		memcpy(tmp + k, " * ", 3);
		k += 3;
		memcpy(tmp + k, word, n);
		add2(w->t, "bi:", tmp, k + n);
	}
	memcpy(w->prev[1], w->prev[0], w->prevlen[0]);
	w->prevlen[1] = w->prevlen[0];
	memcpy(w->prev[0], word, n);
	w->prevlen[0] = n;
	if (w->nprev < 2)
		w->nprev++;
}

static bool
looks_base64(const char *s, size_t n)
{
	size_t i, digits = 0, upper = 0, lower = 0;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (ch_is_digit(c))
			digits++;
		else if (c >= 'A' && c <= 'Z')
			upper++;
		else if (c >= 'a' && c <= 'z')
			lower++;
		else if (c != '+' && c != '/' && c != '=' && c != '-' &&
		    c != '_' && c != '.')
			return false;
	}
	return digits + upper > 0 && lower > 0;
}

/*
 * emit_word - one word as written (w, n bytes, nchars characters), and
 * its lower-case form when that differs; raw is the input text of the
 * word for the base64 test
 */
static void
emit_word(struct wordctx *w, const char *word, size_t n, size_t nchars,
    size_t ndigits, const char *raw, size_t rawn)
{
	char first[8], lower[MAX_WORD_BYTES];
	size_t k = 0, i, ln = 0;
	uint32_t c, f;
	bool differs = false;

	if (nchars < MIN_WORD)
		return;
	if (nchars > MAX_WORD) {
		if (rawn >= B64_NOISE && looks_base64(raw, rawn))
			return;
		/* the first character, whole */
		first[k++] = word[0];
		for (i = 1; i < n && i < 4 &&
		    ((unsigned char)word[i] & 0xC0) == 0x80; i++)
			first[k++] = word[i];
		first[k] = '\0';
		add_fmt(w->t, "%sskip:%s:%zu", w->prefix, first,
		    nchars / 10 * 10);
		return;
	}
	if (ndigits == nchars && nchars > 5) {
		add_fmt(w->t, "%snum:%zu", w->prefix, nchars);
		return;
	}
	add2(w->t, w->prefix, word, n);
	/* the ASCII start of the word (all of most words) byte by byte */
	for (i = 0; i < n && i + 4 < sizeof(lower) &&
	    (unsigned char)word[i] < 0x80; i++) {
		c = (unsigned char)word[i];
		f = (uint32_t)ch_lower((int)c);
		differs |= f != c;
		lower[i] = (char)f;
	}
	ln = i;
	while (i < n && ln + 4 < sizeof(lower)) {
		c = next_cp(word, n, &i);
		f = fold(c);
		differs |= f != c;
		put_utf8(lower, &ln, f);
	}
	if (differs)
		add2(w->t, w->prefix, lower, ln);
	if (w->flags & BAYES_TEXT_BIGRAMS)
		pairs(w, differs ? lower : word, differs ? ln : n);
}

/* spaceless_run - character pairs of a run of Han/kana/Thai */
static size_t
spaceless_run(struct wordctx *w, const char *s, size_t n, size_t i)
{
	size_t start, mid = 0, j;
	uint32_t c;
	unsigned count = 0;
	char tmp[16];

	start = i;
	while (i < n) {
		j = i;
		c = next_cp(s, n, &j);
		if (!is_spaceless(c))
			break;
		if (count >= 1) {
			memcpy(tmp, s + mid, j - mid);
			add2(w->t, w->prefix, tmp, j - mid);
		}
		mid = i;
		i = j;
		count++;
	}
	if (count == 1) {
		memcpy(tmp, s + start, i - start);
		add2(w->t, w->prefix, tmp, i - start);
	}
	return i;
}

static void
words(struct wordctx *w, const char *s, size_t n)
{
	char word[MAX_WORD_BYTES];
	size_t i = 0, j, wn, nchars, ndigits, start;
	uint32_t c, d;

	while (i < n) {
		start = i;
		c = next_cp(s, n, &i);
		if (c >= 0x0E00 && is_spaceless(c)) {
			i = spaceless_run(w, s, n, start);
			continue;
		}
		if (c >= 0x2600 && is_emoji(c)) {
			wn = 0;
			put_utf8(word, &wn, c);
			add_fmt(w->t, "%semoji:%.*s", w->prefix, (int)wn, word);
			continue;
		}
		if (!is_word(c) && !is_currency(c))
			continue;
		wn = nchars = ndigits = 0;
		for (;;) {
			if (c < 0x80 && ch_is_digit((int)c))
				ndigits++;
			if (wn + 4 < sizeof(word) - 4)
				put_utf8(word, &wn, c);
			nchars++;
			/*
			 * ASCII letters and digits that follow, the bulk of
			 * most words: what the general step below does for
			 * them, without the decoder and the class tests.
			 */
			while (i < n && (unsigned char)s[i] < 0x80 &&
			    ch_is_alnum((unsigned char)s[i])) {
				c = (unsigned char)s[i++];
				if (ch_is_digit((int)c))
					ndigits++;
				if (wn + 4 < sizeof(word) - 4)
					word[wn++] = (char)c;
				nchars++;
			}
			if (i >= n)
				break;
			j = i;
			d = next_cp(s, n, &j);
			if (is_word(d)) {
				i = j;
				c = d;
				continue;
			}
			if (is_connector(d) && j < n) {
				size_t k = j;
				uint32_t e = next_cp(s, n, &k);

				if (is_word(e)) {
					if (wn + 4 < sizeof(word) - 4)
						put_utf8(word, &wn, d);
					nchars++;
					i = k;
					c = e;
					continue;
				}
			}
			break;
		}
		emit_word(w, word, wn, nchars, ndigits, s + start, i - start);
	}
}

void
bayes_tokenize_text(struct bayes_toks *t, const char *prefix, const char *s,
    size_t n, unsigned flags)
{
	struct wordctx w;

	memset(&w, 0, sizeof(w));
	w.t = t;
	w.prefix = prefix;
	w.flags = flags;
	words(&w, s, n);
}

/* ---------------------------------------------------------------- */
/* domains and URIs */

static bool
is_ip_literal(const char *h)
{
	size_t i, dots = 0;

	if (strchr(h, ':'))
		return true;		/* IPv6 */
	for (i = 0; h[i]; i++) {
		if (h[i] == '.')
			dots++;
		else if (!ch_is_digit((unsigned char)h[i]))
			return false;
	}
	return i > 0 && dots == 3;
}

/*
 * registered_domain - the part of host a registrant controls, by a
 * rule of thumb (no public suffix list): the last two labels, or three
 * when the second-level label is a generic one under a two-letter
 * country code (example.co.uk, example.com.au)
 */
static const char *
registered_domain(const char *h)
{
	static const char *const sld[] = { "co", "com", "net", "org", "gov",
	    "ac", "edu", "ne", "or", "go", "gob", "gv", "nic", NULL };
	const char *d1 = NULL, *d2 = NULL, *d3 = NULL, *p;
	size_t i, n;

	/* d1: the last dot, d2 the one before, d3 the one before that */
	for (p = h + strlen(h); p > h; p--) {
		if (p[-1] != '.')
			continue;
		if (d1 == NULL)
			d1 = p - 1;
		else if (d2 == NULL)
			d2 = p - 1;
		else {
			d3 = p - 1;
			break;
		}
	}
	if (d2 == NULL)
		return h;
	n = (size_t)(d1 - d2 - 1);
	if (strlen(d1 + 1) == 2)
		for (i = 0; sld[i]; i++)
			if (n == strlen(sld[i]) &&
			    strncmp(d2 + 1, sld[i], n) == 0)
				return d3 ? d3 + 1 : h;
	return d2 + 1;
}

static void
domain_tokens(struct bayes_toks *t, const char *prefix, const char *host)
{
	char h[256];
	size_t n = strlen(host), i;

	if (n == 0 || n >= sizeof(h))
		return;
	for (i = 0; i < n; i++)
		h[i] = (char)ch_lower((unsigned char)host[i]);
	while (n > 0 && h[n - 1] == '.')
		n--;
	h[n] = '\0';
	if (n == 0)
		return;
	if (is_ip_literal(h)) {
		add_join(t, prefix, "ip", "");
		return;
	}
	add_join(t, prefix, "host:", h);
	add_join(t, prefix, "domain:", registered_domain(h));
}

void
bayes_tokenize_uri(struct bayes_toks *t, const char *uri, const char *host)
{
	const char *p, *q, *colon;
	char scheme[16], word[MAX_WORD_BYTES];
	size_t n, words_done = 0, i;

	colon = strchr(uri, ':');
	if (colon && (size_t)(colon - uri) < sizeof(scheme)) {
		n = (size_t)(colon - uri);
		for (i = 0; i < n; i++)
			scheme[i] = (char)ch_lower((unsigned char)uri[i]);
		scheme[n] = '\0';
		add_fmt(t, "url:scheme:%s", scheme);
	} else
		colon = NULL;
	if (host && *host)
		domain_tokens(t, colon && strncmp(uri, "mailto", 6) == 0 ?
		    "mailto:" : "url:", host);
	/* path words: after the authority */
	p = colon ? colon + 1 : uri;
	if (p[0] == '/' && p[1] == '/') {
		p += 2;
		q = p + strcspn(p, "/?#");
		if (memchr(p, ':', (size_t)(q - p)) &&
		    !memchr(p, '[', (size_t)(q - p)))
			add_fmt(t, "url:port");
		p = q;
	}
	while (*p && words_done < MAX_PATH_WORDS) {
		while (*p && !ch_is_alnum((unsigned char)*p))
			p++;
		for (n = 0; ch_is_alnum((unsigned char)p[n]); n++)
			;
		if (n >= MIN_WORD && n <= MAX_WORD) {
			for (i = 0; i < n; i++)
				word[i] = (char)ch_lower((unsigned char)p[i]);
			add2(t, "url:path:", word, n);
			words_done++;
		}
		p += n;
	}
}

/* ---------------------------------------------------------------- */
/* header fields */

/* address_tokens - addresses and display-name words of an address field */
static void
address_tokens(struct bayes_toks *t, const char *pfx, const char *v,
    size_t *naddrs, char *first_domain, size_t fdcap)
{
	char tok[BAYES_TOKEN_MAX + 1], name[1024];
	const char *at, *l, *r, *p = v;
	size_t nn = 0, i;

	while ((at = strchr(p, '@')) != NULL && *naddrs < MAX_ADDRS) {
		for (l = at; l > p && (ch_is_alnum((unsigned char)l[-1]) ||
		    strchr("._%+-=", l[-1])); l--)
			;
		for (r = at + 1; ch_is_alnum((unsigned char)*r) ||
		    *r == '.' || *r == '-'; r++)
			;
		if (l < at && r > at + 1) {
			size_t dl = (size_t)(r - at - 1);

			snprintf(tok, sizeof(tok), "%.*s", (int)(r - l), l);
			str_lower(tok);
			add_join(t, pfx, "addr:", tok);
			snprintf(tok, sizeof(tok), "%.*s", (int)dl, at + 1);
			str_lower(tok);
			add_join(t, pfx, "domain:", tok);
			if (*naddrs == 0 && first_domain)
				snprintf(first_domain, fdcap, "%s", tok);
			(*naddrs)++;
		}
		p = r > at ? r : at + 1;
	}
	/* display names: everything outside <...> and outside addresses */
	for (p = v; *p && nn < sizeof(name) - 1; p++) {
		if (*p == '<') {
			const char *e = strchr(p, '>');

			if (e == NULL)
				break;
			p = e;
			name[nn++] = ' ';
			continue;
		}
		name[nn++] = *p;
	}
	name[nn] = '\0';
	for (i = 0; i < nn; i++)
		if (name[i] == '@')	/* bare address: not a name */
			return;
	snprintf(tok, sizeof(tok), "%sname:", pfx);
	bayes_tokenize_text(t, tok, name, nn, 0);
}

static void
count_token(struct bayes_toks *t, const char *what, size_t n)
{
	const char *b = n == 0 ? "0" : n == 1 ? "1" : n == 2 ? "2" :
	    n <= 5 ? "3-5" : n <= 10 ? "6-10" : "many";

	add_join(t, what, ":", b);
}

/* ipv4_octets - w is a dotted quad (nothing else): its four numbers */
static bool
ipv4_octets(const char *w, unsigned oct[4])
{
	int k, digits;

	for (k = 0; k < 4; k++) {
		oct[k] = 0;
		for (digits = 0; ch_is_digit((unsigned char)*w); w++) {
			if (++digits > 3)
				return false;
			oct[k] = oct[k] * 10 + (unsigned)(*w - '0');
		}
		if (digits == 0 || oct[k] > 255)
			return false;
		if (k < 3 && *w++ != '.')
			return false;
	}
	return *w == '\0';
}

/*
 * received_noise - words of a Received field that only vary: dates,
 * numbers, queue ids (letters and digits mixed, no dots), and the
 * field's own keywords
 */
static bool
received_noise(const char *w, size_t n)
{
	static const char *const words[] = { "from", "by", "with", "for",
	    "id", "via", "mon", "tue", "wed", "thu", "fri", "sat", "sun",
	    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep",
	    "oct", "nov", "dec", NULL };
	size_t i, digits = 0, letters = 0;

	for (i = 0; i < n; i++) {
		if (ch_is_digit((unsigned char)w[i]))
			digits++;
		else if (ch_is_alpha((unsigned char)w[i]))
			letters++;
		else if (w[i] == '.')
			return false;	/* a version such as 8.11.6 */
	}
	if (letters == 0 || (digits > 0 && n >= 6))
		return true;
	for (i = 0; words[i]; i++)
		if (strcmp(w, words[i]) == 0)
			return true;
	return false;
}

/* received_tokens - host names, address prefixes, protocol words */
static void
received_tokens(struct bayes_toks *t, const char *v)
{
	char w[256];
	const char *p = v;
	size_t n, i;
	unsigned oct[4];

	while (*p) {
		while (*p && !(ch_is_alnum((unsigned char)*p)))
			p++;
		for (n = 0; p[n] && (ch_is_alnum((unsigned char)p[n]) ||
		    p[n] == '.' || p[n] == '-' || p[n] == '_'); n++)
			;
		if (n == 0 || n >= sizeof(w)) {
			p += n;
			continue;
		}
		for (i = 0; i < n; i++)
			w[i] = (char)ch_lower((unsigned char)p[i]);
		while (n > 0 && (w[n - 1] == '.' || w[n - 1] == '-'))
			n--;
		w[n] = '\0';
		p += n;
		if (ipv4_octets(w, oct)) {
			add_fmt(t, "received:ip:%u.%u.%u", oct[0], oct[1],
			    oct[2]);
			add_fmt(t, "received:ip:%u.%u", oct[0], oct[1]);
		} else if (strchr(w, '.') && ch_is_alpha((unsigned char)
		    w[n - 1])) {
			domain_tokens(t, "received:", w);
		} else if (n >= MIN_WORD && n <= MAX_WORD &&
		    !received_noise(w, n))
			add2(t, "received:", w, n);
	}
}

static const char *const ignored_fields[] = {
	"x-spam-", "x-bogosity", "x-mailwarden", "authentication-results",
	"arc-", "x-virus-", "x-dspam-", "x-rspamd-", "delivered-to",
	"x-original-to", "envelope-to", "x-envelope-to", "status",
	"x-status", "x-keywords", "x-uid", "content-length", "lines",
	"x-uidl", "x-mozilla-status", NULL
};

static bool
ignored(const char *name)
{
	size_t i, n;

	for (i = 0; ignored_fields[i]; i++) {
		n = strlen(ignored_fields[i]);
		if (ignored_fields[i][n - 1] == '-' ?
		    str_has_iprefix(name, ignored_fields[i]) :
		    str_ieq(name, ignored_fields[i]))
			return true;
	}
	return false;
}

/* fields whose words are tokens, prefixed by the lower-case name */
static const char *const word_fields[] = {
	"subject", "x-mailer", "user-agent", "organization", "list-id",
	"precedence", "x-priority", "importance", "x-msmail-priority",
	"content-disposition", "mime-version", "thread-index", NULL
};

static bool
in_list(const char *const *l, const char *name)
{
	size_t i;

	for (i = 0; l[i]; i++)
		if (str_ieq(name, l[i]))
			return true;
	return false;
}

/* subject_shape - punctuation runs of the subject ("!!!", "$", "...") */
static void
subject_shape(struct bayes_toks *t, const char *v)
{
	const char *p;
	size_t n;

	for (p = v; *p; p += n ? n : 1) {
		for (n = 0; p[n] && ch_is_vchar((unsigned char)p[n]) &&
		    !ch_is_alnum((unsigned char)p[n]); n++)
			;
		if (n > 0)
			add_fmt(t, "subject:p:%.*s", (int)(n > 4 ? 4 : n), p);
	}
}

static void
ctype_tokens(struct bayes_toks *t, const char *pfx, const struct mime_part *p)
{
	add_fmt(t, "%stype:%.60s", pfx, p->type);
	if (p->charset)
		add_fmt(t, "%scharset:%.40s", pfx, p->charset);
	if (p->encoding)
		add_fmt(t, "%scte:%.40s", pfx, p->encoding);
}

static void
date_tokens(struct bayes_toks *t, const char *v)
{
	const char *p = v + strlen(v);

	while (p > v && ch_is_space((unsigned char)p[-1]))
		p--;
	/* a trailing comment such as "(EDT)" is not the zone */
	if (p > v && p[-1] == ')') {
		while (p > v && p[-1] != '(')
			p--;
		if (p > v)
			p--;
		while (p > v && ch_is_space((unsigned char)p[-1]))
			p--;
	}
	while (p > v && !ch_is_space((unsigned char)p[-1]))
		p--;
	if (*p == '+' || *p == '-')
		add_fmt(t, "date:tz:%.5s", p);
	else if (ch_is_alpha((unsigned char)*p))
		add_fmt(t, "date:tz:%.5s", p);
	else
		add_fmt(t, "date:tz:none");
}

void
bayes_tokenize_header(struct bayes_toks *t, const char *name,
    const char *value)
{
	char lname[64], pfx[80];
	size_t n = strlen(name), i, naddrs = 0;

	if (n >= sizeof(lname) || ignored(name))
		return;
	for (i = 0; i < n; i++)
		lname[i] = (char)ch_lower((unsigned char)name[i]);
	lname[n] = '\0';
	add_join(t, "hdr:", lname, "");
	snprintf(pfx, sizeof(pfx), "%s:", lname);
	if (in_list(word_fields, lname)) {
		bayes_tokenize_text(t, pfx, value, strlen(value), 0);
		if (strcmp(lname, "subject") == 0)
			subject_shape(t, value);
		return;
	}
	if (strcmp(lname, "from") == 0 || strcmp(lname, "reply-to") == 0 ||
	    strcmp(lname, "sender") == 0 || strcmp(lname, "return-path") == 0 ||
	    strcmp(lname, "errors-to") == 0) {
		address_tokens(t, pfx, value, &naddrs, NULL, 0);
		if (naddrs == 0)
			add_fmt(t, "%snoaddr", pfx);
		return;
	}
	if (strcmp(lname, "to") == 0 || strcmp(lname, "cc") == 0) {
		/* domains and a count; local parts are the recipients' */
		const char *at, *p = value;
		char dom[256];

		while ((at = strchr(p, '@')) != NULL && naddrs < MAX_ADDRS) {
			for (n = 0; ch_is_alnum((unsigned char)at[1 + n]) ||
			    at[1 + n] == '.' || at[1 + n] == '-'; n++)
				;
			if (n > 0 && n < sizeof(dom)) {
				memcpy(dom, at + 1, n);
				dom[n] = '\0';
				str_lower(dom);
				add_join(t, pfx, "domain:", dom);
			}
			naddrs++;
			p = at + 1;
		}
		count_token(t, lname, naddrs);
		if (strstr(value, "ndisclosed") || strstr(value, "ecipient"))
			add_fmt(t, "%sundisclosed", pfx);
		return;
	}
	if (strcmp(lname, "message-id") == 0) {
		const char *at = strrchr(value, '@');

		if (at == NULL)
			add_fmt(t, "message-id:noat");
		else
			add_fmt(t, "message-id:domain:%.*s",
			    (int)strcspn(at + 1, "> \t"), at + 1);
		return;
	}
	if (strcmp(lname, "date") == 0) {
		date_tokens(t, value);
		return;
	}
}

/* ---------------------------------------------------------------- */
/* the whole message */

static void
html_tags(struct bayes_toks *t, const struct buf *raw)
{
	const char *p = buf_cstr(raw), *end = p + raw->len;
	char name[16];
	size_t n, distinct = 0;

	while (p < end && distinct < MAX_TAG_NAMES &&
	    (p = memchr(p, '<', (size_t)(end - p))) != NULL) {
		p++;
		for (n = 0; p + n < end && n < sizeof(name) - 1 &&
		    ch_is_alnum((unsigned char)p[n]); n++)
			name[n] = (char)ch_lower((unsigned char)p[n]);
		if (n == 0 || (p + n < end && ch_is_alnum((unsigned char)
		    p[n])))
			continue;
		name[n] = '\0';
		if (bayes_toks_add2(t, "html:tag:", name, n))
			distinct++;
	}
}

static void
part_tokens(struct bayes_toks *t, const struct mime_part *p, size_t idx)
{
	const char *ext;

	if (idx > 0)
		ctype_tokens(t, "part:", p);
	if (p->filename) {
		bayes_tokenize_text(t, "filename:", p->filename,
		    strlen(p->filename), 0);
		if ((ext = strrchr(p->filename, '.')) != NULL &&
		    strlen(ext + 1) <= 8)
			add_fmt(t, "filename:ext:%s", ext + 1);
	}
	if (p->kind == MIME_K_HTML) {
		count_token(t, "html:images", p->html.images);
		count_token(t, "html:links", p->html.links);
		if (p->html.forms)
			add_fmt(t, "html:form");
		if (p->html.scripts)
			add_fmt(t, "html:script");
		if (p->html.invisible_chars)
			add_fmt(t, "html:invisible");
		html_tags(t, &p->raw);
	}
}

/* anchor_tokens - link text naming a host that is not the target's */
static void
anchor_tokens(struct bayes_toks *t, const struct mime_uri *u)
{
	const char *a = u->anchor, *h;
	char shown[256];
	size_t n;

	if (a == NULL || u->host == NULL)
		return;
	h = strstr(a, "://");
	a = h ? h + 3 : a;
	if (!str_has_iprefix(a, "www.") && h == NULL)
		return;
	n = strcspn(a, "/:?# \t");
	if (n == 0 || n >= sizeof(shown))
		return;
	memcpy(shown, a, n);
	shown[n] = '\0';
	str_lower(shown);
	if (strcmp(registered_domain(shown), registered_domain(u->host)) != 0)
		add_fmt(t, "url:anchor-mismatch");
}

void
bayes_tokenize(const struct mime_msg *mm, const struct bayes_tok_opts *o,
    struct bayes_toks *t)
{
	size_t i, nreceived = 0;
	const struct mime_part *p;

	for (i = 0; i < mm->nhdrs; i++) {
		const struct mime_hdr *h = &mm->hdrs[i];

		if (str_ieq(h->name, "received")) {
			if (nreceived++ < MAX_RECEIVED)
				received_tokens(t, h->raw);
			continue;
		}
		bayes_tokenize_header(t, h->name, h->value);
	}
	count_token(t, "received:count", nreceived);
	if (mm->nparts > 0)
		ctype_tokens(t, "", &mm->parts[0]);
	count_token(t, "url:count", mm->nuris);
	for (i = 0; i < mm->nuris; i++) {
		bayes_tokenize_uri(t, mm->uris[i].uri, mm->uris[i].host);
		anchor_tokens(t, &mm->uris[i]);
	}
	for (i = 0; i < mm->nparts; i++)
		part_tokens(t, &mm->parts[i], i);
	for (i = 0; i < mm->nparts; i++) {
		p = &mm->parts[i];
		if (!mime_part_is_text(p))
			continue;
		bayes_tokenize_text(t, "", buf_cstr(&p->text), p->text.len,
		    o->bigrams ? BAYES_TEXT_BIGRAMS : 0);
		if (p->kind == MIME_K_HTML && p->invisible.len)
			bayes_tokenize_text(t, "hidden:", buf_cstr(&p->invisible),
			    p->invisible.len, 0);
	}
}

/* ---------------------------------------------------------------- */

void
bayes_digest(const struct msg *m, uint8_t out[BAYES_DIGEST_LEN])
{
	static const char *const fields[] = { "Message-ID", "Date", "From",
	    "To", "Subject", NULL };
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	struct buf u = BUF_INIT;
	const struct hdr *h;
	size_t i, blen;

	if (ctx == NULL || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1)
		abort();
	for (i = 0; fields[i]; i++) {
		buf_reset(&u);
		buf_printf(&u, "%s:", fields[i]);
		if ((h = msg_header(m, fields[i], 0)) != NULL)
			hdr_unfold(h->value, h->value_len, &u);
		buf_addc(&u, '\n');
		EVP_DigestUpdate(ctx, u.data, u.len);
	}
	EVP_DigestUpdate(ctx, "\n", 1);
	blen = m->body.len;
	while (blen > 0 && ch_is_space((unsigned char)m->body.data[blen - 1]))
		blen--;
	if (blen)
		EVP_DigestUpdate(ctx, m->body.data, blen);
	EVP_DigestFinal_ex(ctx, md, &mdlen);
	EVP_MD_CTX_free(ctx);
	buf_release(&u);
	memcpy(out, md, BAYES_DIGEST_LEN);
}
