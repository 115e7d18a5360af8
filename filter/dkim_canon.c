/*
 * dkim_canon.c - DKIM canonicalisation, streaming
 *
 * DESCRIPTION
 *	Body: struct dkim_body takes the body in chunks of any size (a CRLF
 *	may straddle two chunks) and passes canonical bytes to a sink in
 *	order.  Nothing is buffered but a staging block and two counters:
 *	empty lines are not emitted until a non-empty line follows, so
 *	"ignore empty lines at the end" needs no look-ahead and no copy of
 *	the body.  A line ends at LF; a CR right before it belongs to the
 *	line ending; any other CR is an ordinary character.
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

static void
flush(struct dkim_body *b)
{
	if (b->outn) {
		b->sink(b->arg, b->out, b->outn);
		b->outn = 0;
	}
}

/* emit - canonical bytes out, through the staging block */
static void
emit(struct dkim_body *b, const unsigned char *p, size_t n)
{
	b->total += n;
	while (n > 0) {
		size_t take = DKIM_CANON_STAGE - b->outn;

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

/* content - bytes of a non-empty line: release held-back empty lines */
static void
content(struct dkim_body *b, const unsigned char *p, size_t n)
{
	while (b->pending_crlf > 0) {
		emit(b, crlf, 2);
		b->pending_crlf--;
	}
	if (b->pending_wsp) {
		emit(b, (const unsigned char *)" ", 1);
		b->pending_wsp = false;
	}
	emit(b, p, n);
	b->line_has = true;
}

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

/* simple_update - RFC 6376 3.4.3: lines are kept byte for byte */
static void
simple_update(struct dkim_body *b, const unsigned char *s, size_t n)
{
	const unsigned char *end = s + n;

	while (s < end) {
		const unsigned char *nl = memchr(s, '\n', (size_t)(end - s));
		size_t len = (size_t)((nl ? nl : end) - s);

		if (len > 0 && s[len - 1] == '\r') {
			len--;
			if (nl == NULL)
				b->pending_cr = true;
		}
		if (len > 0)
			content(b, s, len);
		if (nl == NULL)
			break;
		end_line(b);
		s = nl + 1;
	}
}

/* is_special - the bytes relaxed canonicalisation looks at */
static inline bool
is_special(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* relaxed_update - RFC 6376 3.4.4: WSP runs to one SP, none at EOL */
static void
relaxed_update(struct dkim_body *b, const unsigned char *s, size_t n)
{
	size_t i = 0, j;

	while (i < n) {
		unsigned char c = s[i];

		if (c == '\r') {
			if (i + 1 == n) {
				b->pending_cr = true;
				return;
			}
			if (s[i + 1] == '\n') {
				end_line(b);
				i += 2;
				continue;
			}
			content(b, s + i, 1);	/* a lone CR is text */
			i++;
			continue;
		}
		if (c == '\n') {
			end_line(b);
			i++;
			continue;
		}
		if (c == ' ' || c == '\t') {
			b->pending_wsp = true;
			i++;
			continue;
		}
		for (j = i + 1; j < n && !is_special(s[j]); j++)
			;
		content(b, s + i, j - i);
		i = j;
	}
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
		} else
			content(b, (const unsigned char *)"\r", 1);
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
		content(b, (const unsigned char *)"\r", 1);
	}
	/* an unterminated last line gets its CRLF (both modes) */
	if (b->line_has)
		end_line(b);
	/* simple: an empty body is one CRLF; relaxed: empty stays empty */
	if (b->mode == DKIM_CANON_SIMPLE && b->total == 0)
		emit(b, crlf, 2);
	b->pending_crlf = 0;
	flush(b);
	b->finished = true;
}

void
dkim_canon_header(enum dkim_canon mode, const char *name, size_t nlen,
    const char *value, size_t vlen, struct buf *out)
{
	size_t i, start = out->len;
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
	for (i = 0; i < nlen; i++)
		buf_addc(out, (char)ch_lower((unsigned char)name[i]));
	buf_addc(out, ':');
	start = out->len;
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
		if (wsp && out->len > start)
			buf_addc(out, ' ');
		wsp = false;
		buf_addc(out, (char)c);
	}
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
