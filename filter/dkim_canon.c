/*
 * dkim_canon.c - DKIM canonicalisation, streaming
 *
 * DESCRIPTION
 *	Body: struct dkim_body takes the body in chunks of any size (a CRLF
 *	may straddle two chunks) and passes canonical bytes to a sink in
 *	order.  Nothing is buffered but a staging block and two counters:
 *	empty lines are not emitted until a non-empty line follows, so
 *	"ignore empty lines at the end" needs no look-ahead and no copy of
 *	the body.  Lines end with CRLF (RFC 5322); a lone CR or LF is an
 *	ordinary character.  Both input paths (the MTA, and msgparse for
 *	files) deliver CRLF line ends.
 *
 *	Headers: dkim_canon_header() canonicalises one field; and
 *	dkim_hash_headers() selects fields the way RFC 6376 5.4.2 says
 *	(for each h= name the last unused field of that name, bottom up;
 *	names with no field left add nothing) and hashes them.
 *
 * LIMITS
 *	Linear time in the input; memory is the struct itself.
 *
 * STANDARDS
 *	RFC 6376 3.4 (simple and relaxed for header and body), 5.4.2.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "dkim_int.h"
#include "msg.h"
#include "str.h"

void
dkim_body_init(struct dkim_body *b, enum dkim_canon mode, dkim_sink_fn *sink,
    void *arg)
{
	memset(b, 0, offsetof(struct dkim_body, out));
	b->mode = mode;
	b->sink = sink;
	b->arg = arg;
}

/* flush - staged bytes to the sink; total counts what left */
static void
flush(struct dkim_body *b)
{
	if (b->outn) {
		b->sink(b->arg, b->out, b->outn);
		b->total += b->outn;
		b->outn = 0;
	}
}

/* emit - canonical bytes out; long runs skip the staging copy */
static void
emit(struct dkim_body *b, const unsigned char *p, size_t n)
{
	size_t take;

	if (n >= 1024) {
		flush(b);
		b->sink(b->arg, p, n);
		b->total += n;
		return;
	}
	while (n > 0) {
		take = DKIM_CANON_STAGE - b->outn;
		if (take > n)
			take = n;
		memcpy(b->out + b->outn, p, take);
		b->outn += take;
		p += take;
		n -= take;
		if (b->outn == DKIM_CANON_STAGE)
			flush(b);
	}
}

static const unsigned char crlf[2] = { '\r', '\n' };

/* release - a non-empty line follows: held-back empty lines, and SP */
static void
release(struct dkim_body *b)
{
	while (b->pending_crlf > 0) {
		emit(b, crlf, 2);
		b->pending_crlf--;
	}
	if (b->pending_wsp) {
		emit(b, (const unsigned char *)" ", 1);
		b->pending_wsp = false;
	}
}

/* end_line - a CRLF: ends a line with content, or is an empty line */
static void
end_line(struct dkim_body *b)
{
	b->pending_wsp = false;
	if (b->line_has) {
		emit(b, crlf, 2);
		b->line_has = false;
	} else
		b->pending_crlf++;
}

/*
 * simple_update - RFC 6376 3.4.3.  Output is the input but for empty
 * lines at the very end, so each chunk goes out whole except a tail of
 * CRLF pairs (and a last CR that may start one), which is held back as
 * a count until something else follows.
 */
static void
simple_update(struct dkim_body *b, const unsigned char *s, size_t n)
{
	size_t k = n, m;

	if (s[n - 1] == '\r') {
		b->pending_cr = true;
		k--;
	}
	while (k >= 2 && s[k - 2] == '\r' && s[k - 1] == '\n')
		k -= 2;
	m = (n - k - (b->pending_cr ? 1 : 0)) / 2;
	if (k > 0) {
		release(b);
		emit(b, s, k);
		b->line_has = true;
	}
	while (m-- > 0)
		end_line(b);
}

/* byte classes for relaxed_update */
enum { C_TEXT, C_WSP, C_CR };

static const unsigned char rclass[256] = {
	[' '] = C_WSP, ['\t'] = C_WSP, ['\r'] = C_CR
};

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define SWAR_RUNS 1
#define ONES	0x0101010101010101ULL
#define LOW7	0x7f7f7f7f7f7f7f7fULL

/* zbytes - 0x80 in each byte of v that is zero, exactly (no borrows) */
static inline uint64_t
zbytes(uint64_t v)
{
	return ~(((v & LOW7) + LOW7) | v | LOW7);
}

/*
 * crlf_ok - the CRs flagged in cr (0x80 per byte, the word at s + j)
 * each end a line with text before it (the caller made sure) and
 * start one with text: CR LF, then a text byte or an SP and a text
 * byte.  Taking such a CRLF verbatim is what the byte path does (the
 * line has content, nothing is held back).
 */
static bool
crlf_ok(const unsigned char *s, size_t j, size_t n, uint64_t cr)
{
	size_t pos;

	while (cr) {
		pos = j + (size_t)(__builtin_ctzll(cr) >> 3);
		cr &= cr - 1;
		if (pos + 2 >= n || s[pos + 1] != '\n')
			return false;
		if (rclass[s[pos + 2]] == C_TEXT)
			continue;
		if (s[pos + 2] != ' ' || pos + 3 >= n ||
		    rclass[s[pos + 3]] != C_TEXT)
			return false;
	}
	return true;
}

/*
 * text_run8 - j advanced over whole 8-byte words of s[j..n) that the
 * byte path would pass on unchanged: no HTAB, each SP followed by a
 * text byte, each CR the end of a line that has text and is followed
 * by one that starts with text (crlf_ok).  s[j - 1] is a text byte.
 * The bytes checked past the word must exist.
 */
static size_t
text_run8(const unsigned char *s, size_t j, size_t n)
{
	uint64_t w, sp, cr;

	while (j + 8 < n) {
		memcpy(&w, s + j, 8);
		if (zbytes(w ^ (ONES * '\t')))
			break;
		sp = zbytes(w ^ (ONES * ' '));
		cr = zbytes(w ^ (ONES * '\r'));
		/* an SP followed by an SP or a CR in the word (little-endian) */
		if (sp & ((sp | cr) >> 8))
			break;
		/* an SP in the last byte: the byte after the word */
		if ((sp >> 63) && rclass[s[j + 8]] != C_TEXT)
			break;
		if (cr && !crlf_ok(s, j, n, cr))
			break;
		j += 8;
	}
	return j;
}
#endif

/*
 * relaxed_update - RFC 6376 3.4.4: WSP runs become one SP, WSP before
 * CRLF goes, empty lines at the end go.  Runs of text (single SPs
 * between text bytes included) are copied whole into the staging block;
 * only other WSP, CR and line ends take the byte-by-byte path.  The
 * scan for the end of a run takes 8 bytes a step where it can.
 */
static void
relaxed_update(struct dkim_body *b, const unsigned char *s, size_t n)
{
	size_t i, j, o = b->outn;

	for (i = 0; i < n; i++) {
		unsigned char c = s[i];

		/*
		 * Fast path: with nothing held back, a run of text bytes
		 * and single SPs between text bytes (which stay as they
		 * are) goes out in one copy, instead of a test of the
		 * held-back state per byte.
		 */
		if (rclass[c] == C_TEXT && !b->pending_crlf &&
		    !b->pending_wsp) {
#ifdef SWAR_RUNS
			j = text_run8(s, i + 1, n);
#else
			j = i + 1;
#endif
			for (; j < n; j++) {
				if (rclass[s[j]] == C_TEXT)
					continue;
				if (s[j] == ' ' && j + 1 < n &&
				    rclass[s[j + 1]] == C_TEXT) {
					j++;
					continue;
				}
				break;
			}
			b->outn = o;
			emit(b, s + i, j - i);
			o = b->outn;
			b->line_has = true;
			i = j - 1;
			continue;
		}
		switch (rclass[c]) {
		case C_WSP:
			b->pending_wsp = true;
			continue;
		case C_CR:
			if (i + 1 == n) {
				b->pending_cr = true;
				b->outn = o;
				return;
			}
			if (s[i + 1] == '\n') {
				b->outn = o;
				end_line(b);
				o = b->outn;
				i++;
				continue;
			}
			break;		/* a lone CR is text */
		default:
			break;
		}
		if (b->pending_crlf) {
			b->outn = o;
			release(b);
			o = b->outn;
		} else if (b->pending_wsp) {
			if (o == DKIM_CANON_STAGE) {
				b->outn = o;
				flush(b);
				o = 0;
			}
			b->out[o++] = ' ';
			b->pending_wsp = false;
		}
		if (o == DKIM_CANON_STAGE) {
			b->outn = o;
			flush(b);
			o = 0;
		}
		b->out[o++] = c;
		b->line_has = true;
	}
	b->outn = o;
}

void
dkim_body_update(struct dkim_body *b, const void *p, size_t n)
{
	const unsigned char *s = p;

	if (b->finished || n == 0)
		return;
	if (b->pending_cr) {
		b->pending_cr = false;
		if (s[0] == '\n') {
			end_line(b);
			s++;
			n--;
		} else {
			/* the CR was text */
			release(b);
			emit(b, (const unsigned char *)"\r", 1);
			b->line_has = true;
		}
		if (n == 0)
			return;
	}
	if (b->mode == DKIM_CANON_SIMPLE)
		simple_update(b, s, n);
	else
		relaxed_update(b, s, n);
}

void
dkim_body_final(struct dkim_body *b)
{
	if (b->finished)
		return;
	if (b->pending_cr) {
		b->pending_cr = false;
		release(b);
		emit(b, (const unsigned char *)"\r", 1);
		b->line_has = true;
	}
	/* an unterminated last line gets its CRLF (both modes) */
	if (b->line_has)
		end_line(b);
	flush(b);
	/* simple: an empty body is one CRLF; relaxed: empty stays empty */
	if (b->mode == DKIM_CANON_SIMPLE && b->total == 0) {
		emit(b, crlf, 2);
		flush(b);
	}
	b->pending_crlf = 0;
	b->finished = true;
}

void
dkim_canon_header(enum dkim_canon mode, const char *name, size_t nlen,
    const char *value, size_t vlen, struct buf *out)
{
	unsigned char *o, *start;
	size_t i;
	bool wsp = false;

	if (mode == DKIM_CANON_SIMPLE) {
		buf_add(out, name, nlen);
		buf_addc(out, ':');
		buf_add(out, value, vlen);
		return;
	}
	while (nlen > 0 && ch_is_wsp((unsigned char)name[nlen - 1]))
		nlen--;
	buf_reserve(out, nlen + 1 + vlen);
	o = (unsigned char *)out->data + out->len;
	for (i = 0; i < nlen; i++)
		*o++ = (unsigned char)ch_lower((unsigned char)name[i]);
	*o++ = ':';
	start = o;
	for (i = 0; i < vlen; i++) {
		unsigned char c = (unsigned char)value[i];

		if (c == '\r' && i + 1 < vlen && value[i + 1] == '\n') {
			i++;		/* unfold */
			continue;
		}
		if (c == ' ' || c == '\t') {
			wsp = true;
			continue;
		}
		if (wsp && o > start)
			*o++ = ' ';
		wsp = false;
		*o++ = c;
	}
	out->len = (size_t)((char *)o - out->data);
	out->data[out->len] = '\0';
}

/* name_hash - case-insensitive FNV-1a of a field name */
static uint32_t
name_hash(const char *p, size_t n)
{
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; i < n; i++)
		h = (h ^ (uint32_t)ch_lower((unsigned char)p[i])) * 16777619u;
	return h;
}

void
dkim_hash_headers(EVP_MD_CTX *ctx, enum dkim_canon mode,
    const struct hdr *hdrs, size_t nhdrs, char *const *names, size_t nnames,
    size_t skip, struct buf *scratch)
{
	uint32_t *hh = xcalloc(nhdrs ? nhdrs : 1, sizeof(*hh));
	bool *used = xcalloc(nhdrs ? nhdrs : 1, sizeof(*used));
	size_t i, j;

	for (j = 0; j < nhdrs; j++)
		hh[j] = name_hash(hdrs[j].name, hdrs[j].name_len);
	for (i = 0; i < nnames; i++) {
		size_t len = strlen(names[i]);
		uint32_t h = name_hash(names[i], len);

		for (j = nhdrs; j-- > 0;) {
			if (used[j] || j == skip || hh[j] != h ||
			    !str_nieq(hdrs[j].name, hdrs[j].name_len, names[i],
			    len))
				continue;
			used[j] = true;
			buf_reset(scratch);
			dkim_canon_header(mode, hdrs[j].name, hdrs[j].name_len,
			    hdrs[j].value, hdrs[j].value_len, scratch);
			buf_add(scratch, "\r\n", 2);
			EVP_DigestUpdate(ctx, scratch->data, scratch->len);
			break;
		}
	}
	free(hh);
	free(used);
}
