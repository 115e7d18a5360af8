/*
 * html.h - HTML to text, the way a mail reader would show it
 *
 * DESCRIPTION
 *	html_to_text() renders HTML source (UTF-8) in one forward pass:
 *	tags are dropped, character references decoded, runs of white space
 *	collapsed, block elements become line breaks (<br> one, paragraphs
 *	and blocks a blank line), <script>, <style>, <head> content and
 *	comments are skipped.  Text the reader cannot see goes to a
 *	separate buffer: elements with display:none, visibility:hidden,
 *	opacity 0, the hidden attribute, font sizes of one pixel or less,
 *	or a foreground colour (font color, CSS color) equal or very close
 *	to the background colour in force (bgcolor, CSS background).
 *
 *	URIs in attributes (href, src, action, background, ...) are passed
 *	to a callback, <a href> ones with the visible text of the link.
 *
 * LIMITS
 *	Linear time: no search ever restarts behind the current position.
 *	The element stack is capped (HTML_MAX_STACK); deeper elements
 *	inherit the innermost state.  Output stops at out->max_text bytes
 *	(returns MIME_F_TEXT_CAP).
 *
 * SECURITY
 *	The input is untrusted; nothing is fetched or executed.
 */
#ifndef MW_HTML_H
#define MW_HTML_H

#include <stddef.h>
#include <stdint.h>

#include "mime.h"

#define HTML_MAX_STACK	256
#define HTML_MAX_ANCHOR	256	/* bytes of link text kept */

struct html_out {
	struct buf *text;		/* visible rendering */
	struct buf *invisible;		/* hidden text */
	struct mime_html_stats *stats;
	size_t	 max_text;		/* cap on text + invisible bytes */
	/* uri - one attribute URI (entities decoded, not yet cleaned) */
	void	(*uri)(void *arg, const char *uri, size_t len,
		    enum mime_uri_src, const char *anchor, size_t anchor_len);
	void	*arg;
};

/* html_to_text - render; returns MIME_F_* flags (HTML_INVISIBLE, TEXT_CAP) */
unsigned html_to_text(const char *html, size_t len, struct html_out *);

/*
 * html_entity - decode the character reference starting at p[0] == '&';
 * returns the bytes consumed (0: not a reference, take '&' literally)
 * and appends its UTF-8 to out.
 */
size_t	 html_entity(const char *p, size_t n, struct buf *out);

#endif
