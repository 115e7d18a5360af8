/*
 * mime.c - one pass over a message body into a decoded MIME view
 *
 * DESCRIPTION
 *	See mime.h.  The parser reads the body line by line once.  It keeps
 *	a stack of the open containers (multiparts with their boundaries,
 *	message/rfc822 parts) and one current part, whose header lines or
 *	body lines are being read.  A line starting with "--" is compared
 *	with the boundaries on the stack from the innermost out (RFC 2046
 *	5.1.2: an outer boundary also ends the inner multiparts); a match
 *	ends the current part and every container above the matching one,
 *	then either opens the next sibling or, for a close delimiter, ends
 *	that multipart too.  Only when a leaf part ends is its body
 *	decoded: text parts into UTF-8 text, other parts only measured.
 *
 * LIMITS
 *	Linear in the body: each line is visited once and compared with at
 *	most max_depth + 1 boundaries; decoders run once per leaf.  Caps
 *	and their flags are listed in mime.h.  Part header sections are
 *	capped at PART_MAX_HDRS fields and PART_MAX_HDR_BYTES bytes.
 *
 * SECURITY
 *	The body and the header fields are untrusted.  Nothing recurses on
 *	input: nesting is an explicit, capped stack.
 *
 * STANDARDS
 *	RFC 2045 (headers, defaults), RFC 2046 (multipart, message),
 *	RFC 2183 (Content-Disposition), RFC 2047, RFC 2231.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "conf.h"
#include "html.h"
#include "html_sa.h"
#include "mime.h"
#include "msg.h"
#include "str.h"
#include "strmap.h"
#include "uri.h"

#define PART_MAX_HDRS		256
#define PART_MAX_HDR_BYTES	(64 * 1024)
#define MAX_BOUNDARY		200
#define MAX_LINE		998	/* RFC 5322 2.1.1 */

const struct mime_flag_info mime_flag_table[] = {
	{ MIME_F_DEPTH_CAP, "MIME_DEPTH_CAP", 1.0,
	  "MIME nesting deeper than mime_max_depth; inner parts not scanned" },
	{ MIME_F_PARTS_CAP, "MIME_PARTS_CAP", 1.0,
	  "more MIME parts than mime_max_parts; later parts not scanned" },
	{ MIME_F_TEXT_CAP, "MIME_TEXT_CAP", 0.0,
	  "decoded text over mime_max_text; the rest not scanned" },
	{ MIME_F_URIS_CAP, "MIME_URIS_CAP", 0.5,
	  "more distinct URIs than mime_max_uris" },
	{ MIME_F_UNCLOSED, "MIME_UNCLOSED_BOUNDARY", 0.5,
	  "a multipart is never closed by its boundary" },
	{ MIME_F_NO_BOUNDARY, "MIME_NO_BOUNDARY", 1.0,
	  "multipart without a usable boundary parameter" },
	{ MIME_F_BAD_BASE64, "MIME_BAD_BASE64", 0.5,
	  "invalid characters or truncation in base64" },
	{ MIME_F_BAD_QP, "MIME_BAD_QP", 0.2,
	  "invalid escapes in quoted-printable" },
	{ MIME_F_BAD_CHARSET, "MIME_UNKNOWN_CHARSET", 0.5,
	  "a charset the converter does not know" },
	{ MIME_F_BAD_BYTES, "MIME_BAD_BYTES", 0.2,
	  "bytes that are invalid in their declared charset" },
	{ MIME_F_BAD_2047, "MIME_BAD_ENCODED_WORD", 0.5,
	  "malformed RFC 2047 encoded word in a header" },
	{ MIME_F_HTML_INVISIBLE, "HTML_INVISIBLE_TEXT", 0.5,
	  "HTML text the reader cannot see" },
	{ MIME_F_BODY_TRUNCATED, "MIME_BODY_TRUNCATED", 0.0,
	  "body over max_scan_bytes: MIME structure read in part" },
	{ MIME_F_LONG_LINE, "MIME_LONG_LINE", 0.2,
	  "a body line longer than 998 bytes (RFC 5322 2.1.1)" },
	{ MIME_F_UNKNOWN_CTE, "MIME_UNKNOWN_CTE", 0.5,
	  "unknown Content-Transfer-Encoding" },
	{ MIME_F_HDRS_CAP, "MIME_PART_HEADERS_CAP", 0.5,
	  "a MIME part header section over its cap" },
};
const size_t mime_flag_table_len =
    sizeof(mime_flag_table) / sizeof(mime_flag_table[0]);

enum pstate {
	PS_HEADERS,		/* reading header lines of cur */
	PS_BODY,		/* cur is a leaf; its body runs */
	PS_IGNORE		/* preamble, epilogue, skipped part */
};

struct open_ent {
	size_t	 part;
	char	*boundary;	/* multipart; NULL for message/rfc822 */
	size_t	 blen;
	bool	 digest;	/* multipart/digest: children default to
				   message/rfc822 */
	size_t	 children;	/* parts opened by a delimiter */
};

struct parser {
	const struct mime_limits *lim;
	struct mime_msg *mm;
	const char *body;
	size_t	 len;
	struct open_ent *stack;
	size_t	 depth, stack_cap;
	enum pstate state;
	size_t	 cur;		/* valid in PS_HEADERS and PS_BODY */
	struct buf field;	/* header field being collected */
	size_t	 hdr_bytes;
	struct strmap *seen;	/* URIs already kept */
	size_t	 parts_cap;
	struct buf t1, t2;
	size_t	 uri_part;
};

void
mime_limits_default(struct mime_limits *l)
{
	l->max_depth = MIME_DEFAULT_MAX_DEPTH;
	l->max_parts = MIME_DEFAULT_MAX_PARTS;
	l->max_text = MIME_DEFAULT_MAX_TEXT;
	l->max_uris = MIME_DEFAULT_MAX_URIS;
}

/* ------------------------------------------------------------------ */
/* headers                                                             */
/* ------------------------------------------------------------------ */

/* hdr_fill - name, unfolded raw value and decoded value */
static unsigned
hdr_fill(struct mime_hdr *h, const char *name, size_t nlen, const char *v,
    size_t vlen)
{
	struct buf raw = BUF_INIT, dec = BUF_INIT;
	unsigned flags;
	size_t i;

	h->name = xstrndup(name, nlen);
	buf_reserve(&raw, vlen);
	for (i = 0; i < vlen; i++) {
		if (v[i] == '\r' || v[i] == '\n')
			continue;
		buf_addc(&raw, v[i] == '\0' ? ' ' : v[i]);
	}
	flags = mime_2047_decode(buf_cstr(&raw), raw.len, &dec);
	/* raw: keep folding white space, drop the leading space */
	i = 0;
	while (i < raw.len && ch_is_wsp((unsigned char)raw.data[i]))
		i++;
	h->raw = xstrdup(buf_cstr(&raw) + i);
	h->value = dec.data ? buf_steal(&dec) : xstrdup("");
	buf_release(&raw);
	return flags;
}

static const struct mime_hdr *
find_hdr(const struct mime_part *p, const char *name)
{
	size_t i;

	for (i = 0; i < p->nhdrs; i++)
		if (strcasecmp(p->hdrs[i].name, name) == 0)
			return &p->hdrs[i];
	return NULL;
}

static struct mime_part *
new_part(struct parser *ps, size_t parent, unsigned depth)
{
	struct mime_msg *mm = ps->mm;
	struct mime_part *p;

	if (mm->nparts == ps->parts_cap) {
		ps->parts_cap = ps->parts_cap ? ps->parts_cap * 2 : 8;
		mm->parts = xreallocarray(mm->parts, ps->parts_cap,
		    sizeof(*mm->parts));
	}
	p = &mm->parts[mm->nparts++];
	memset(p, 0, sizeof(*p));
	p->parent = parent;
	p->depth = depth;
	ps->hdr_bytes = 0;
	return p;
}

/* flush_field - store the collected header line of the current part */
static void
flush_field(struct parser *ps)
{
	struct mime_part *p = &ps->mm->parts[ps->cur];
	const char *f = ps->field.data, *colon;
	size_t n = ps->field.len, nl;

	if (n == 0)
		return;
	colon = memchr(f, ':', n);
	if (colon != NULL && colon > f) {
		nl = (size_t)(colon - f);
		while (nl > 0 && ch_is_wsp((unsigned char)f[nl - 1]))
			nl--;
		if (p->nhdrs >= PART_MAX_HDRS) {
			p->flags |= MIME_F_HDRS_CAP;
		} else if (nl > 0) {
			p->hdrs = xreallocarray(p->hdrs, p->nhdrs + 1,
			    sizeof(*p->hdrs));
			p->flags |= hdr_fill(&p->hdrs[p->nhdrs++], f, nl,
			    colon + 1, n - (size_t)(colon + 1 - f));
		}
	}
	buf_reset(&ps->field);
}

/* ------------------------------------------------------------------ */
/* URIs                                                                */
/* ------------------------------------------------------------------ */

static void
add_uri(struct parser *ps, const char *u, size_t n, enum mime_uri_src src,
    const char *anchor, size_t alen)
{
	struct mime_msg *mm = ps->mm;
	struct mime_uri *r;
	struct buf clean = BUF_INIT, key = BUF_INIT, host = BUF_INIT;

	if (!uri_clean(u, n, &clean))
		goto out;
	buf_add(&key, clean.data, clean.len);
	buf_addc(&key, '\001');
	if (anchor)
		buf_add(&key, anchor, alen);
	if (strmap_get(ps->seen, key.data))
		goto out;
	if (mm->nuris >= ps->lim->max_uris) {
		mm->flags |= MIME_F_URIS_CAP;
		goto out;
	}
	strmap_put(ps->seen, key.data, (void *)1);
	mm->uris = xreallocarray(mm->uris, mm->nuris + 1, sizeof(*mm->uris));
	r = &mm->uris[mm->nuris++];
	r->host = uri_host(clean.data, clean.len, &host) ? buf_steal(&host) :
	    NULL;
	r->uri = buf_steal(&clean);
	r->anchor = anchor ? xstrndup(anchor, alen) : NULL;
	r->part = ps->uri_part;
	r->src = src;
out:
	buf_release(&clean);
	buf_release(&key);
	buf_release(&host);
}

static void
text_uri(void *arg, const char *u, size_t n)
{
	add_uri(arg, u, n, MIME_URI_TEXT, NULL, 0);
}

static void
html_uri(void *arg, const char *u, size_t n, enum mime_uri_src src,
    const char *anchor, size_t alen)
{
	add_uri(arg, u, n, src, anchor, alen);
}

/* ------------------------------------------------------------------ */
/* leaves                                                              */
/* ------------------------------------------------------------------ */

static size_t
text_room(const struct parser *ps)
{
	return ps->mm->text_bytes < ps->lim->max_text ?
	    ps->lim->max_text - ps->mm->text_bytes : 0;
}

/* newlines - CRLF and lone CR as LF, cut at max bytes (UTF-8 boundary) */
static bool
newlines(const char *s, size_t n, struct buf *out, size_t max)
{
	size_t i;
	bool cut = false;

	if (n > max) {
		n = max;
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
		cut = true;
	}
	buf_reserve(out, n);
	for (i = 0; i < n; i++) {
		if (s[i] == '\r') {
			buf_addc(out, '\n');
			if (i + 1 < n && s[i + 1] == '\n')
				i++;
		} else
			buf_addc(out, s[i]);
	}
	return cut;
}

/* transfer_decode - the part's body without its transfer encoding */
static const char *
transfer_decode(struct parser *ps, struct mime_part *p, const char *b,
    size_t n, size_t *outlen)
{
	buf_reset(&ps->t1);
	if (p->encoding && strcmp(p->encoding, "base64") == 0) {
		p->flags |= mime_b64_decode(b, n, &ps->t1);
	} else if (p->encoding && strcmp(p->encoding, "quoted-printable") == 0) {
		p->flags |= mime_qp_decode(b, n, &ps->t1);
	} else {
		*outlen = n;
		return b;
	}
	*outlen = ps->t1.len;
	return buf_cstr(&ps->t1);
}

static void
decode_text(struct parser *ps, struct mime_part *p, const char *b, size_t n)
{
	struct html_out ho;
	const char *d;
	size_t dlen, room = text_room(ps);
	struct buf *dst = p->kind == MIME_K_HTML ? &p->raw : &p->text;

	d = transfer_decode(ps, p, b, n, &dlen);
	p->size = dlen;
	if (room == 0) {
		if (dlen)
			p->flags |= MIME_F_TEXT_CAP;
		return;
	}
	buf_reset(&ps->t2);
	p->flags |= mime_to_utf8(p->charset, d, dlen, &ps->t2);
	if (newlines(buf_cstr(&ps->t2), ps->t2.len, dst, room))
		p->flags |= MIME_F_TEXT_CAP;
	ps->mm->text_bytes += dst->len;
	ps->uri_part = (size_t)(p - ps->mm->parts);
	if (p->kind == MIME_K_HTML) {
		memset(&ho, 0, sizeof(ho));
		ho.text = &p->text;
		ho.invisible = &p->invisible;
		ho.stats = &p->html;
		ho.max_text = text_room(ps);
		ho.uri = html_uri;
		ho.arg = ps;
		p->flags |= html_to_text(buf_cstr(&p->raw), p->raw.len, &ho);
		ps->mm->text_bytes += p->text.len + p->invisible.len;
		if (p->raw.len) {
			p->sa_html = xmalloc(sizeof(*p->sa_html));
			html_sa_parse(p->raw.data, p->raw.len, p->sa_html);
		}
	}
	uri_extract(buf_cstr(&p->text), p->text.len, text_uri, ps);
}

/* finish_leaf - the body of leaf cur is [body_off, end) */
static void
finish_leaf(struct parser *ps, size_t idx, size_t end)
{
	struct mime_part *p = &ps->mm->parts[idx];
	const char *b;
	size_t n;

	p->body_len = end > p->body_off ? end - p->body_off : 0;
	b = ps->body + p->body_off;
	n = p->body_len;
	if (mime_part_is_text(p)) {
		decode_text(ps, p, b, n);
	} else if (p->encoding && strcmp(p->encoding, "base64") == 0) {
		p->size = mime_b64_size(b, n);
	} else if (p->encoding && strcmp(p->encoding, "quoted-printable") == 0) {
		buf_reset(&ps->t1);
		(void)mime_qp_decode(b, n, &ps->t1);
		p->size = ps->t1.len;
	} else
		p->size = n;
	ps->mm->flags |= p->flags;
}

/* ------------------------------------------------------------------ */
/* structure                                                           */
/* ------------------------------------------------------------------ */

static bool
boundary_ok(const struct buf *b)
{
	size_t i;

	if (b->len == 0 || b->len > MAX_BOUNDARY)
		return false;
	for (i = 0; i < b->len; i++)
		if (b->data[i] == '\r' || b->data[i] == '\n')
			return false;
	return true;
}

static void
push(struct parser *ps, size_t part, char *boundary, bool digest)
{
	struct open_ent *e;

	if (ps->depth == ps->stack_cap) {
		ps->stack_cap = ps->stack_cap ? ps->stack_cap * 2 : 8;
		ps->stack = xreallocarray(ps->stack, ps->stack_cap,
		    sizeof(*ps->stack));
	}
	e = &ps->stack[ps->depth++];
	e->part = part;
	e->boundary = boundary;
	e->blen = boundary ? strlen(boundary) : 0;
	e->digest = digest;
	e->children = 0;
}

/* pop - close the innermost container at end */
static void
pop(struct parser *ps, size_t end, bool closed)
{
	struct open_ent *e = &ps->stack[--ps->depth];
	struct mime_part *p = &ps->mm->parts[e->part];

	p->body_len = end > p->body_off ? end - p->body_off : 0;
	p->size = p->body_len;
	if (e->boundary && !closed) {
		p->flags |= MIME_F_UNCLOSED;
		ps->mm->flags |= MIME_F_UNCLOSED;
	}
	if (e->boundary && e->children == 0) {
		/*
		 * No delimiter ever came: what a reader sees is the whole
		 * body as text, so that is what gets scanned.
		 */
		p->kind = MIME_K_TEXT;
		finish_leaf(ps, e->part, end);
	}
	free(e->boundary);
}

static bool
in_digest(const struct parser *ps, size_t idx)
{
	size_t parent = ps->mm->parts[idx].parent;

	return ps->depth > 0 && parent != MIME_NO_PARENT &&
	    ps->stack[ps->depth - 1].part == parent &&
	    ps->stack[ps->depth - 1].digest;
}

/*
 * setup_part - headers of part idx are complete and its body starts at
 * off: decide its kind, and open it as a container or start its body.
 */
static void
setup_part(struct parser *ps, size_t idx, size_t off)
{
	struct mime_part *p = &ps->mm->parts[idx];
	const struct mime_hdr *ct, *cte, *cd;
	struct buf v = BUF_INIT, bnd = BUF_INIT;
	bool digest = false;

	p->body_off = off;
	ct = find_hdr(p, "Content-Type");
	if (ct) {
		mime_ctype(ct->raw, strlen(ct->raw), &v);
		if (v.len && memchr(v.data, '/', v.len) && v.data[0] != '/' &&
		    v.data[v.len - 1] != '/')
			p->type = buf_steal(&v);
		buf_reset(&v);
		if (mime_param(ct->raw, strlen(ct->raw), "charset", &v) &&
		    v.len) {
			str_lower(v.data);
			p->charset = buf_steal(&v);
		}
		buf_reset(&v);
		if (mime_param(ct->raw, strlen(ct->raw), "name", &v) && v.len)
			p->filename = buf_steal(&v);
		buf_reset(&v);
	}
	if (p->type == NULL)
		p->type = xstrdup(in_digest(ps, idx) ? "message/rfc822" :
		    "text/plain");
	if ((cte = find_hdr(p, "Content-Transfer-Encoding")) != NULL) {
		mime_ctype(cte->raw, strlen(cte->raw), &v);
		if (v.len)
			p->encoding = buf_steal(&v);
		buf_reset(&v);
	}
	if (p->encoding && strcmp(p->encoding, "base64") != 0 &&
	    strcmp(p->encoding, "quoted-printable") != 0 &&
	    strcmp(p->encoding, "7bit") != 0 &&
	    strcmp(p->encoding, "8bit") != 0 &&
	    strcmp(p->encoding, "binary") != 0)
		p->flags |= MIME_F_UNKNOWN_CTE;
	if ((cd = find_hdr(p, "Content-Disposition")) != NULL) {
		mime_ctype(cd->raw, strlen(cd->raw), &v);
		if (v.len)
			p->disposition = buf_steal(&v);
		buf_reset(&v);
		if (mime_param(cd->raw, strlen(cd->raw), "filename", &v) &&
		    v.len) {
			free(p->filename);
			p->filename = buf_steal(&v);
		}
		buf_reset(&v);
	}
	p->attachment = p->filename != NULL || (p->disposition &&
	    strcmp(p->disposition, "attachment") == 0);

	if (strncmp(p->type, "multipart/", 10) == 0) {
		if (!ct || !mime_param(ct->raw, strlen(ct->raw), "boundary",
		    &bnd) || !boundary_ok(&bnd)) {
			p->flags |= MIME_F_NO_BOUNDARY;
			p->kind = MIME_K_TEXT;
		} else if (p->depth >= ps->lim->max_depth) {
			p->flags |= MIME_F_DEPTH_CAP;
			p->kind = MIME_K_OTHER;
		} else {
			p->kind = MIME_K_MULTIPART;
			digest = strcmp(p->type, "multipart/digest") == 0;
		}
	} else if (strcmp(p->type, "message/rfc822") == 0 ||
	    strcmp(p->type, "message/global") == 0) {
		if (p->encoding && (strcmp(p->encoding, "base64") == 0 ||
		    strcmp(p->encoding, "quoted-printable") == 0))
			p->kind = MIME_K_OTHER;		/* not parsed as is */
		else if (p->depth >= ps->lim->max_depth) {
			p->flags |= MIME_F_DEPTH_CAP;
			p->kind = MIME_K_OTHER;
		} else
			p->kind = MIME_K_MESSAGE;
	} else if (strcmp(p->type, "text/html") == 0)
		p->kind = MIME_K_HTML;
	else if (strncmp(p->type, "text/", 5) == 0)
		p->kind = MIME_K_TEXT;
	else
		p->kind = MIME_K_OTHER;
	ps->mm->flags |= p->flags;

	switch (p->kind) {
	case MIME_K_MULTIPART:
		push(ps, idx, buf_steal(&bnd), digest);
		ps->state = PS_IGNORE;			/* preamble */
		break;
	case MIME_K_MESSAGE:
		push(ps, idx, NULL, false);
		if (ps->mm->nparts >= ps->lim->max_parts) {
			ps->mm->flags |= MIME_F_PARTS_CAP;
			ps->state = PS_IGNORE;
			break;
		}
		(void)new_part(ps, idx, p->depth + 1);
		ps->cur = ps->mm->nparts - 1;
		ps->mm->parts[ps->cur].body_off = off;
		ps->state = PS_HEADERS;
		break;
	default:
		ps->cur = idx;
		ps->state = PS_BODY;
	}
	buf_release(&v);
	buf_release(&bnd);
}

/* end_current - the part being read ends at end */
static void
end_current(struct parser *ps, size_t end)
{
	/* a message/rfc822 part opens its inner message in PS_HEADERS */
	while (ps->state == PS_HEADERS) {
		flush_field(ps);
		setup_part(ps, ps->cur, end);
	}
	/* a part that was itself a container is already on the stack */
	if (ps->state == PS_BODY)
		finish_leaf(ps, ps->cur, end);
	ps->state = PS_IGNORE;
}

/* delimiter - index in the stack of the multipart whose delimiter the
 * line [s, s+n) is, or -1; *close for "--boundary--" */
static ssize_t
delimiter(const struct parser *ps, const char *s, size_t n, bool *close)
{
	size_t j, k, rest;
	const struct open_ent *e;

	if (n < 3 || s[0] != '-' || s[1] != '-')
		return -1;
	for (j = ps->depth; j > 0; j--) {
		e = &ps->stack[j - 1];
		if (e->boundary == NULL || n < 2 + e->blen ||
		    memcmp(s + 2, e->boundary, e->blen) != 0)
			continue;
		rest = 2 + e->blen;
		*close = false;
		if (n - rest >= 2 && s[rest] == '-' && s[rest + 1] == '-') {
			*close = true;
			rest += 2;
		}
		for (k = rest; k < n && ch_is_wsp((unsigned char)s[k]); k++)
			;
		if (k == n)
			return (ssize_t)(j - 1);
	}
	return -1;
}

/* on_delimiter - line at [ls, le) is a delimiter of stack entry j */
static void
on_delimiter(struct parser *ps, size_t j, bool close, size_t ls, size_t le)
{
	size_t end = ls, mp;

	/* the line break before the delimiter belongs to it */
	if (end > 0 && ps->body[end - 1] == '\n')
		end--;
	if (end > 0 && ps->body[end - 1] == '\r')
		end--;
	end_current(ps, end);
	while (ps->depth > j + 1)
		pop(ps, end, false);
	mp = ps->stack[j].part;
	if (close) {
		pop(ps, le, true);
		ps->state = PS_IGNORE;			/* epilogue */
		return;
	}
	if (ps->mm->nparts >= ps->lim->max_parts) {
		ps->mm->flags |= MIME_F_PARTS_CAP;
		ps->state = PS_IGNORE;
		return;
	}
	ps->stack[j].children++;
	(void)new_part(ps, mp, ps->mm->parts[mp].depth + 1);
	ps->cur = ps->mm->nparts - 1;
	ps->mm->parts[ps->cur].body_off = le;
	buf_reset(&ps->field);
	ps->state = PS_HEADERS;
}

/* header_line - one line [s, s+n) (no line break) of a part's headers */
static void
header_line(struct parser *ps, const char *s, size_t n, size_t ls,
    size_t next)
{
	struct mime_part *p = &ps->mm->parts[ps->cur];

	if (n == 0) {
		flush_field(ps);
		setup_part(ps, ps->cur, next);
		return;
	}
	if (ch_is_wsp((unsigned char)s[0]) && ps->field.len) {
		if (ps->hdr_bytes + n <= PART_MAX_HDR_BYTES) {
			buf_add(&ps->field, "\r\n", 2);
			buf_add(&ps->field, s, n);
		} else
			p->flags |= MIME_F_HDRS_CAP;
		ps->hdr_bytes += n;
		return;
	}
	flush_field(ps);
	if (memchr(s, ':', n) == NULL) {
		/* not a field: the header section ended without a blank line */
		setup_part(ps, ps->cur, ls);
		return;
	}
	if (ps->hdr_bytes + n <= PART_MAX_HDR_BYTES)
		buf_add(&ps->field, s, n);
	else
		p->flags |= MIME_F_HDRS_CAP;
	ps->hdr_bytes += n;
}

static void
walk(struct parser *ps)
{
	const char *b = ps->body, *nl;
	size_t ls = 0, le, n, next;
	bool close;
	ssize_t j;

	while (ls < ps->len) {
		nl = memchr(b + ls, '\n', ps->len - ls);
		le = nl ? (size_t)(nl - b) : ps->len;
		next = nl ? le + 1 : le;
		n = le - ls;
		if (n > 0 && b[le - 1] == '\r')
			n--;
		if (n >= 3 && b[ls] == '-' &&
		    (j = delimiter(ps, b + ls, n, &close)) >= 0) {
			on_delimiter(ps, (size_t)j, close, ls, next);
		} else if (ps->state == PS_HEADERS) {
			header_line(ps, b + ls, n, ls, next);
		} else if (ps->state == PS_BODY && n > MAX_LINE) {
			ps->mm->parts[ps->cur].flags |= MIME_F_LONG_LINE;
		}
		ls = next;
	}
	end_current(ps, ps->len);
	while (ps->depth > 0)
		pop(ps, ps->len, false);
}

struct mime_msg *
mime_parse(const struct msg *m, const struct mime_limits *lim)
{
	struct parser ps;
	struct mime_msg *mm = xcalloc(1, sizeof(*mm));
	struct mime_part *top;
	size_t i;

	memset(&ps, 0, sizeof(ps));
	ps.lim = lim;
	ps.mm = mm;
	ps.body = buf_cstr(&m->body);
	ps.len = m->body.len;
	ps.seen = strmap_new();
	top = new_part(&ps, MIME_NO_PARENT, 0);
	top->hdrs = xcalloc(m->nhdrs ? m->nhdrs : 1, sizeof(*top->hdrs));
	for (i = 0; i < m->nhdrs; i++)
		top->flags |= hdr_fill(&top->hdrs[i], m->hdrs[i].name,
		    m->hdrs[i].name_len, m->hdrs[i].value,
		    m->hdrs[i].value_len);
	top->nhdrs = m->nhdrs;
	if (m->flags & MSG_F_BODY_TRUNCATED)
		mm->flags |= MIME_F_BODY_TRUNCATED;
	ps.cur = 0;
	setup_part(&ps, 0, 0);
	walk(&ps);
	for (i = 0; i < mm->nparts; i++)
		mm->flags |= mm->parts[i].flags;
	mm->hdrs = mm->parts[0].hdrs;
	mm->nhdrs = mm->parts[0].nhdrs;
	strmap_free(ps.seen, NULL);
	buf_release(&ps.field);
	buf_release(&ps.t1);
	buf_release(&ps.t2);
	free(ps.stack);
	return mm;
}

static void
free_hdrs(struct mime_hdr *h, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(h[i].name);
		free(h[i].raw);
		free(h[i].value);
	}
	free(h);
}

void
mime_free(struct mime_msg **mp)
{
	struct mime_msg *mm = *mp;
	struct mime_part *p;
	size_t i;

	if (mm == NULL)
		return;
	for (i = 0; i < mm->nparts; i++) {
		p = &mm->parts[i];
		free(p->type);
		free(p->charset);
		free(p->encoding);
		free(p->disposition);
		free(p->filename);
		free_hdrs(p->hdrs, p->nhdrs);
		buf_release(&p->text);
		buf_release(&p->raw);
		buf_release(&p->invisible);
		html_sa_free(p->sa_html);
		free(p->sa_html);
	}
	for (i = 0; i < mm->nuris; i++) {
		free(mm->uris[i].uri);
		free(mm->uris[i].host);
		free(mm->uris[i].anchor);
	}
	free(mm->uris);
	free(mm->parts);
	free(mm);
	*mp = NULL;
}

const struct buf *
mime_part_raw(const struct mime_part *p)
{
	return p->kind == MIME_K_HTML ? &p->raw : &p->text;
}

bool
mime_part_is_text(const struct mime_part *p)
{
	return p->kind == MIME_K_TEXT || p->kind == MIME_K_HTML;
}

static const char *
header_nth(const struct mime_msg *mm, const char *name, size_t idx, bool raw)
{
	size_t i;

	for (i = 0; i < mm->nhdrs; i++)
		if (strcasecmp(mm->hdrs[i].name, name) == 0 && idx-- == 0)
			return raw ? mm->hdrs[i].raw : mm->hdrs[i].value;
	return NULL;
}

const char *
mime_header(const struct mime_msg *mm, const char *name, size_t idx)
{
	return header_nth(mm, name, idx, false);
}

const char *
mime_header_raw(const struct mime_msg *mm, const char *name, size_t idx)
{
	return header_nth(mm, name, idx, true);
}

void
mime_limits_from_conf(struct mime_limits *l, const struct conf *c)
{
	mime_limits_default(l);
	l->max_depth = (unsigned)c->mime_max_depth;
	l->max_parts = (size_t)c->mime_max_parts;
	l->max_text = (size_t)c->mime_max_text;
	l->max_uris = (size_t)c->mime_max_uris;
}

static const char *const kind_names[] = { "multipart", "message", "text",
    "html", "other" };
static const char *const src_names[] = { "text", "href", "src", "form",
    "other" };

static void
dump_flags(struct buf *out, unsigned flags)
{
	size_t i;
	bool first = true;

	for (i = 0; i < mime_flag_table_len; i++)
		if (flags & mime_flag_table[i].flag) {
			buf_printf(out, "%s%s", first ? "" : ",",
			    mime_flag_table[i].symbol);
			first = false;
		}
	if (first)
		buf_adds(out, "-");
}

/* dump_text - each line of t as "    | line" */
static void
dump_text(struct buf *out, const char *label, const struct buf *t)
{
	const char *s = buf_cstr(t), *nl;
	size_t n = t->len;

	if (n == 0)
		return;
	buf_printf(out, "  %s:\n", label);
	while (n > 0) {
		nl = memchr(s, '\n', n);
		buf_adds(out, "    |");
		buf_add(out, s, nl ? (size_t)(nl - s) : n);
		buf_addc(out, '\n');
		if (nl == NULL)
			break;
		n -= (size_t)(nl + 1 - s);
		s = nl + 1;
	}
}

void
mime_dump(const struct mime_msg *mm, struct buf *out)
{
	const struct mime_part *p;
	const struct mime_uri *u;
	size_t i, k;

	buf_adds(out, "flags: ");
	dump_flags(out, mm->flags);
	buf_printf(out, "\nparts: %zu\n", mm->nparts);
	for (i = 0; i < mm->nparts; i++) {
		p = &mm->parts[i];
		buf_printf(out, "part %zu parent=%ld depth=%u kind=%s type=%s",
		    i, p->parent == MIME_NO_PARENT ? -1L : (long)p->parent,
		    p->depth, kind_names[p->kind], p->type ? p->type : "-");
		buf_printf(out, " charset=%s encoding=%s disposition=%s "
		    "filename=%s attachment=%s size=%zu flags=",
		    p->charset ? p->charset : "-",
		    p->encoding ? p->encoding : "-",
		    p->disposition ? p->disposition : "-",
		    p->filename ? p->filename : "-",
		    p->attachment ? "yes" : "no", p->size);
		dump_flags(out, p->flags);
		buf_addc(out, '\n');
		for (k = 0; i > 0 && k < p->nhdrs; k++)
			buf_printf(out, "  header %s: %s\n", p->hdrs[k].name,
			    p->hdrs[k].value);
		if (p->kind == MIME_K_HTML)
			buf_printf(out, "  html: tags=%u images=%u links=%u "
			    "forms=%u scripts=%u area=%llu visible=%zu "
			    "invisible=%zu\n", p->html.tags, p->html.images,
			    p->html.links, p->html.forms, p->html.scripts,
			    (unsigned long long)p->html.image_area,
			    p->html.visible_chars, p->html.invisible_chars);
		dump_text(out, "text", &p->text);
		dump_text(out, "invisible", &p->invisible);
	}
	for (i = 0; i < mm->nhdrs; i++)
		buf_printf(out, "header %s: %s\n", mm->hdrs[i].name,
		    mm->hdrs[i].value);
	for (i = 0; i < mm->nuris; i++) {
		u = &mm->uris[i];
		buf_printf(out, "uri %s host=%s src=%s part=%zu", u->uri,
		    u->host ? u->host : "-", src_names[u->src], u->part);
		if (u->anchor)
			buf_printf(out, " anchor=\"%s\"", u->anchor);
		buf_addc(out, '\n');
	}
}
