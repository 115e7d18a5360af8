/*
 * mime_sa.h - what SpamAssassin's MIMEEval notes about a message's parts
 *
 * DESCRIPTION
 *	mime_sa_facts() walks the parts of a MIME view in document order,
 *	as SpamAssassin's MIMEEval plugin walks its tree, and fills the
 *	counters its check_for_mime(), check_for_mime_html(),
 *	check_mime_multipart_ratio(), check_qp_ratio() and
 *	check_base64_length() tests read: text/html and other text parts,
 *	base64 and quoted-printable parts, quoted-printable lines over 78
 *	characters and the share of escaped bytes, the plain-to-HTML size
 *	ratio of a multipart/alternative, base64 text that is not an
 *	attachment, odd ISO charset names, bytes illegal in US-ASCII text,
 *	the longest base64 line.  Lines are those of the encoded body as
 *	the message carries it (the body buffer of the struct msg), counted
 *	with one line-end byte as SpamAssassin counts them ("\r\n" and
 *	"\n" alike).
 *
 *	mime_sa_alt_difference() is SpamAssassin's multipart/alternative
 *	difference: the share (percent) of the words of the HTML
 *	alternative that the plain-text alternative lacks.
 *
 * LIMITS
 *	Linear in the body; the word sets of the alternative difference
 *	are built from the decoded text the MIME view holds (capped).
 *
 * SECURITY
 *	Untrusted input, read only.
 */
#ifndef MW_MIME_SA_H
#define MW_MIME_SA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct mime_msg;

struct mime_sa {
	unsigned body_html_count;	/* parts of type text/html */
	unsigned body_text_count;	/* other text/ parts */
	unsigned base64_count;		/* parts in base64 */
	unsigned qp_count;		/* QP parts; then QP escapes */
	unsigned attachment;		/* Content-Disposition attachment */
	unsigned ascii_text_illegal;	/* 8-bit, NUL or CR lines in
					   US-ASCII text/plain */
	bool	 base64_encoded_text;	/* inline text in base64, ASCII */
	bool	 bad_iso_charset;	/* "iso-x-y" not a real ISO charset */
	bool	 multipart_alternative;
	bool	 missing_boundary;	/* a multipart never closed */
	bool	 qp_long_line;		/* a QP line over 78 characters */
	bool	 parts_cap;		/* parts over mime_max_parts */
	double	 multipart_ratio;	/* plain / HTML bytes; 1 if none */
	double	 qp_ratio;		/* escapes / QP bytes */
	double	 text_unicode_ratio;	/* "&#xHHHH;" / plain 7/8bit text */
	size_t	 base64_length;		/* longest base64 line */
};

/* mime_sa_facts - the counters over mm; body is the message's body */
void	 mime_sa_facts(const struct mime_msg *mm, const char *body,
	    size_t body_len, struct mime_sa *out);

/*
 * mime_sa_value - check_for_mime(name): the counter called name
 * ("mime_qp_long_line", ...) as a number; false for an unknown name.
 */
bool	 mime_sa_value(const struct mime_sa *, const char *name, double *v);

/*
 * mime_sa_alt_difference - SpamAssassin's madiff: the greatest share
 * (percent, 0-100) over the multipart/alternative parts; *html_words and
 * *text_words the distinct words of the last alternative weighed
 */
double	 mime_sa_alt_difference(const struct mime_msg *mm,
	    size_t *html_words, size_t *text_words);

/*
 * mime_sa_image_area - width * height of a decoded image as ImageInfo
 * reads it: the GIF logical screen, the PNG IHDR chunk (when it comes
 * first), the first JPEG start-of-frame marker; 0 when not found.
 * type is "gif", "png" or "jpeg".
 */
uint64_t mime_sa_image_area(const unsigned char *d, size_t n,
	    const char *type);

#endif
