/*
 * mime.h - a decoded view of one message: parts, text, URIs, headers
 *
 * DESCRIPTION
 *	mime_parse() walks the header fields and the (capped) body of a
 *	struct msg once and returns a struct mime_msg, the read-only view
 *	that content checks (rules, Bayes) work on:
 *
 *	- parts[], in pre-order (document order).  parts[0] is the message
 *	  itself; a multipart's children and a message/rfc822 part's inner
 *	  message follow it, each with its parent index and depth.  Every
 *	  part carries its own header fields (RFC 2047 decoded), declared
 *	  type, charset, transfer encoding, disposition, file name (RFC
 *	  2231 and RFC 2047 decoded) and decoded size: that is the
 *	  attachment metadata.
 *	- for text parts (MIME_K_TEXT, MIME_K_HTML): the body decoded from
 *	  base64 / quoted-printable and converted from its charset to
 *	  UTF-8 (ill-formed bytes become U+FFFD; an unknown charset is
 *	  taken as UTF-8 when the bytes are valid UTF-8, else as
 *	  windows-1252, and flagged), line breaks as "\n":
 *	    text       what a reader sees: plain text as is, HTML rendered
 *	               (tags stripped, entities decoded, white space
 *	               collapsed, block elements as line breaks);
 *	    raw        HTML parts only: the decoded HTML source ("rawbody");
 *	               use mime_part_raw(), which returns text for plain
 *	               text parts;
 *	    invisible  HTML parts only: text a reader cannot see (display:
 *	               none, visibility:hidden, tiny fonts, text coloured
 *	               like its background), not included in text.
 *	- uris[]: URIs found in text (http, https, ftp, mailto, "www."
 *	  forms) and in HTML attributes (href, src, action, background,
 *	  ...), de-duplicated, each with its host and, for <a href>, the
 *	  link's visible text.
 *	- hdrs: the top-level header fields, unfolded, with a decoded
 *	  (RFC 2047, UTF-8) and a raw form.
 *	- flags: the MIME_F_* conditions met anywhere (caps hit, malformed
 *	  encodings, invisible HTML text); parts carry their own.
 *
 *	Everything in a struct mime_msg is owned by it and freed by
 *	mime_free().  All strings are NUL-terminated UTF-8 (header values
 *	and text may be ill-formed only where noted); buffers (struct buf)
 *	are NUL-terminated too and may be empty (data == NULL: use
 *	buf_cstr()).  The view does not point into the struct msg, which
 *	may be freed first.
 *
 *	The scan pipeline builds the view once per message, on first use,
 *	through scan_mime() (scan.h); every step shares it.
 *
 * LIMITS
 *	Work is linear in the size of the body: one pass finds every
 *	boundary (a delimiter line is compared only with the boundaries
 *	of the multiparts currently open, at most max_depth), decoders
 *	and the HTML renderer never look back, and nothing recurses on
 *	input.  Caps, from the configuration (mime_limits_from_conf):
 *	    max_depth  nesting; a deeper multipart or message part is kept
 *	               as one opaque part (MIME_F_DEPTH_CAP);
 *	    max_parts  parts; later parts are skipped (MIME_F_PARTS_CAP);
 *	    max_text   decoded text bytes over all parts; text beyond is
 *	               cut (MIME_F_TEXT_CAP);
 *	    max_uris   distinct URIs kept (MIME_F_URIS_CAP).
 *	Non-text parts are never decoded into memory: their decoded size
 *	is counted.  A body cut at max_scan_bytes (MSG_F_BODY_TRUNCATED)
 *	is parsed as far as it goes and flagged MIME_F_BODY_TRUNCATED.
 *
 * SECURITY
 *	Everything here is untrusted input.  Charset names are checked
 *	before they reach iconv(3).
 *
 * STANDARDS
 *	RFC 2045, RFC 2046, RFC 2047, RFC 2231, RFC 5322; HTML named
 *	character references (the HTML 4 set and common HTML 5 ones).
 *
 * SEE ALSO
 *	html.h, uri.h, doc/mime.md
 */
#ifndef MW_MIME_H
#define MW_MIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

struct conf;
struct html_sa;
struct msg;

enum mime_flag {
	MIME_F_DEPTH_CAP	= 1 << 0,	/* nesting over max_depth */
	MIME_F_PARTS_CAP	= 1 << 1,	/* more parts than max_parts */
	MIME_F_TEXT_CAP		= 1 << 2,	/* decoded text over max_text */
	MIME_F_URIS_CAP		= 1 << 3,	/* more URIs than max_uris */
	MIME_F_UNCLOSED		= 1 << 4,	/* multipart never closed */
	MIME_F_NO_BOUNDARY	= 1 << 5,	/* multipart/x without boundary */
	MIME_F_BAD_BASE64	= 1 << 6,	/* junk or truncation in base64 */
	MIME_F_BAD_QP		= 1 << 7,	/* bad =XX escapes */
	MIME_F_BAD_CHARSET	= 1 << 8,	/* charset unknown to iconv */
	MIME_F_BAD_BYTES	= 1 << 9,	/* bytes ill-formed in their
						   charset, replaced by U+FFFD */
	MIME_F_BAD_2047		= 1 << 10,	/* malformed encoded-word */
	MIME_F_HTML_INVISIBLE	= 1 << 11,	/* HTML text hidden from view */
	MIME_F_BODY_TRUNCATED	= 1 << 12,	/* body cut at max_scan_bytes */
	MIME_F_LONG_LINE	= 1 << 13,	/* body line over 998 bytes */
	MIME_F_UNKNOWN_CTE	= 1 << 14,	/* unknown transfer encoding */
	MIME_F_HDRS_CAP		= 1 << 15	/* part header section over cap */
};

/* a symbol name and description for each flag, for the verdict */
struct mime_flag_info {
	unsigned flag;
	const char *symbol;		/* e.g. "MIME_DEPTH_CAP" */
	double	 score;			/* default; overridable by name */
	const char *describe;
};
extern const struct mime_flag_info mime_flag_table[];
extern const size_t mime_flag_table_len;

enum mime_kind {
	MIME_K_MULTIPART,	/* container; children follow it */
	MIME_K_MESSAGE,		/* message/rfc822: the inner message is the
				   next part (its child) */
	MIME_K_TEXT,		/* text/... except text/html */
	MIME_K_HTML,		/* text/html */
	MIME_K_OTHER		/* anything else: metadata only */
};

#define MIME_NO_PARENT	((size_t)-1)

struct mime_hdr {
	char	*name;		/* as written */
	char	*raw;		/* unfolded (line breaks removed, NUL as
				   space), not decoded; may hold 8-bit bytes */
	char	*value;		/* unfolded, trimmed, RFC 2047 decoded,
				   UTF-8 (8-bit bytes converted as
				   windows-1252 unless valid UTF-8) */
};

struct mime_html_stats {
	unsigned tags;			/* start tags seen */
	unsigned images;		/* <img> */
	unsigned links;			/* <a href> */
	unsigned forms;			/* <form> */
	unsigned scripts;		/* <script> */
	uint64_t image_area;		/* sum of width*height of <img> */
	size_t	 visible_chars;		/* non-space code points in text */
	size_t	 invisible_chars;	/* non-space code points hidden */
};

struct mime_part {
	size_t	 parent;	/* index in parts[], MIME_NO_PARENT for 0 */
	unsigned depth;		/* 0: the message itself */
	enum mime_kind kind;
	char	*type;		/* "text/plain": lower case; the RFC 2045
				   default when absent or invalid */
	char	*charset;	/* declared, lower case, or NULL */
	char	*encoding;	/* transfer encoding, lower case, or NULL */
	char	*disposition;	/* lower case ("attachment", ...) or NULL */
	char	*filename;	/* UTF-8, from Content-Disposition filename
				   or Content-Type name, or NULL */
	struct mime_hdr *hdrs;	/* the part's own header fields */
	size_t	 nhdrs;
	size_t	 body_off;	/* encoded body: offset and length in the */
	size_t	 body_len;	/* body buffer of the struct msg */
	size_t	 size;		/* decoded size in bytes */
	bool	 attachment;	/* disposition attachment, or a file name */
	struct buf text;	/* TEXT, HTML: what a reader sees */
	struct buf raw;		/* HTML: decoded source; see mime_part_raw */
	struct buf invisible;	/* HTML: hidden text */
	struct mime_html_stats html;	/* HTML only */
	struct html_sa *sa_html;	/* HTML with a non-empty body: what
					   SpamAssassin's parser notes
					   (html_sa.h); else NULL */
	unsigned flags;		/* MIME_F_* raised in this part */
};

enum mime_uri_src {
	MIME_URI_TEXT,		/* found in text (plain or rendered HTML) */
	MIME_URI_HREF,		/* <a href>, <area href> */
	MIME_URI_SRC,		/* <img src>, <iframe src>, ... */
	MIME_URI_FORM,		/* <form action> */
	MIME_URI_OTHER		/* background, <link href>, ... */
};

struct mime_uri {
	char	*uri;		/* cleaned: scheme lower case, "www.x" as
				   "http://www.x", entities decoded */
	char	*host;		/* lower case, no user info, port or final
				   dot; NULL when the URI has no host
				   (mailto: gives the address's domain) */
	char	*anchor;	/* <a> visible text (trimmed, capped), or NULL */
	size_t	 part;		/* index of the part it was found in */
	enum mime_uri_src src;
};

struct mime_limits {
	unsigned max_depth;
	size_t	 max_parts;
	size_t	 max_text;
	size_t	 max_uris;
};

#define MIME_DEFAULT_MAX_DEPTH	20
#define MIME_DEFAULT_MAX_PARTS	1000
#define MIME_DEFAULT_MAX_TEXT	(4 * 1024 * 1024)
#define MIME_DEFAULT_MAX_URIS	1000

struct mime_msg {
	struct mime_part *parts;
	size_t	 nparts;
	const struct mime_hdr *hdrs;	/* == parts[0].hdrs */
	size_t	 nhdrs;
	struct mime_uri *uris;
	size_t	 nuris;
	size_t	 text_bytes;	/* bytes of text over all parts */
	unsigned flags;		/* every part's flags and message-wide ones */
};

void	 mime_limits_default(struct mime_limits *);
void	 mime_limits_from_conf(struct mime_limits *, const struct conf *);

/*
 * mime_parse - build the view of m (headers and the body stored in it).
 * Never fails: malformed input gives flags, not errors.
 */
struct mime_msg *mime_parse(const struct msg *m, const struct mime_limits *);
/* mime_free - accepts NULL; clears the pointer */
void	 mime_free(struct mime_msg **);

/*
 * mime_dump - the whole view as stable text (golden tests, debugging):
 * parts with metadata and text, top-level headers decoded, URIs.
 */
void	 mime_dump(const struct mime_msg *, struct buf *out);

/* mime_part_raw - decoded source of a text part (HTML source or the text) */
const struct buf *mime_part_raw(const struct mime_part *);
/* mime_part_is_text - TEXT or HTML */
bool	 mime_part_is_text(const struct mime_part *);

/*
 * mime_header - decoded value of the idx'th (0-based) top-level field
 * called name (case-insensitive), or NULL.  mime_header_raw likewise.
 */
const char *mime_header(const struct mime_msg *, const char *name, size_t idx);
const char *mime_header_raw(const struct mime_msg *, const char *name,
	    size_t idx);

/*
 * Building blocks, exported for the rules engine, tests and fuzzers.
 * Each appends to out and returns the MIME_F_* flags it raised.
 */

/* mime_b64_decode - RFC 2045 6.8; skips junk, tolerates missing '=' */
unsigned mime_b64_decode(const char *in, size_t len, struct buf *out);
/* mime_b64_size - decoded size without decoding */
size_t	 mime_b64_size(const char *in, size_t len);
/* mime_qp_decode - RFC 2045 6.7; soft breaks, bad escapes kept as is */
unsigned mime_qp_decode(const char *in, size_t len, struct buf *out);
/*
 * mime_to_utf8 - convert from charset (NULL or "" = unknown) to UTF-8.
 * Line breaks are kept as they are; NUL bytes become spaces.
 */
unsigned mime_to_utf8(const char *charset, const char *in, size_t len,
	    struct buf *out);
/*
 * mime_2047_decode - unfold a header value and decode RFC 2047 encoded
 * words (white space between adjacent words dropped, adjacent words in
 * one charset joined before conversion, words inside tokens accepted);
 * text outside words is taken as UTF-8 or windows-1252.  Leading and
 * trailing white space is trimmed.
 */
unsigned mime_2047_decode(const char *in, size_t len, struct buf *out);

/*
 * mime_param - the value of parameter name in a Content-Type or
 * Content-Disposition value (quoted strings, comments, RFC 2231
 * continuations and charset/percent encoding handled), as UTF-8 in
 * out.  Returns true if found.  The first token (the type) is
 * mime_ctype().
 */
bool	 mime_param(const char *value, size_t len, const char *name,
	    struct buf *out);
/* mime_ctype - "type/subtype" or disposition token, lower case */
void	 mime_ctype(const char *value, size_t len, struct buf *out);

/* mime_utf8_put - append code point cp (U+FFFD if invalid) as UTF-8 */
void	 mime_utf8_put(struct buf *, uint32_t cp);

#endif
