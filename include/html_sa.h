/*
 * html_sa.h - what SpamAssassin's HTML parser notes about an HTML part
 *
 * DESCRIPTION
 *	html_sa_parse() reads the decoded source of one text/html part and
 *	collects the facts that SpamAssassin's HTML eval tests (html_test,
 *	html_range, html_eval, html_tag_balance, html_text_match, ...)
 *	look at, computed the way SpamAssassin 4 computes them, so that its
 *	stock rules hit the same messages: font sizes and colours by its
 *	style stack (basefont, big/small, font size/color, CSS color and
 *	background), the balance of every tag name, the share of unknown
 *	and superfluous closing tags, text split by markup inside words,
 *	image area against text, comments, titles and link texts.
 *
 *	The tokenizer follows Perl's HTML::Parser, which SpamAssassin
 *	uses: script, style, title, textarea, iframe, xmp and plaintext
 *	hold literal text; "<!...>" is a comment unless it is a DOCTYPE
 *	declaration; an unterminated tag or comment at the end is a
 *	comment.
 *
 * LIMITS
 *	One forward pass; no search restarts behind the current position.
 *	At most HTML_SA_MAX_NAMES distinct tag names are counted, the
 *	style stack holds HTML_SA_MAX_STYLE entries (deeper ones share the
 *	innermost), and comments, titles and link texts keep
 *	HTML_SA_MAX_STRINGS strings of HTML_SA_MAX_STRING bytes each.
 *
 * SECURITY
 *	Untrusted input.
 */
#ifndef MW_HTML_SA_H
#define MW_HTML_SA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HTML_SA_MAX_NAMES	256
#define HTML_SA_MAX_STYLE	256
#define HTML_SA_MAX_STRINGS	64
#define HTML_SA_MAX_STRING	2048
#define HTML_SA_NAME_MAX	32

enum html_sa_flag {
	HTML_SA_FONT_LOW_CONTRAST	= 1 << 0,
	HTML_SA_FONT_INVALID_COLOR	= 1 << 1,
	HTML_SA_FONT_FACE_BAD		= 1 << 2,
	HTML_SA_FORM_ACTION_MAILTO	= 1 << 3,
	HTML_SA_EMBEDS			= 1 << 4,
	HTML_SA_IFRAME_SRC		= 1 << 5
};

/* inside{tag}: opened minus closed, never below 0 */
struct html_sa_tag {
	char	 name[HTML_SA_NAME_MAX];
	uint32_t count;
};

struct html_sa_strings {
	char	**v;		/* NUL-terminated, UTF-8 */
	size_t	 n;
};

struct html_sa {
	unsigned flags;			/* HTML_SA_* */
	size_t	 length;		/* code points of the source */
	int	 max_size, min_size;	/* font sizes (1-7), start at 3 */
	unsigned tags;			/* start and end tags, DOCTYPE */
	unsigned elements;		/* of them HTML 4 elements */
	unsigned tags_seen;		/* tags with a name not seen before */
	unsigned elements_seen;
	unsigned closed_extra;		/* end tags without a start */
	unsigned obfuscation;		/* text runs split inside a word */
	uint64_t backhair;		/* distinct (tail, head) word splits */
	uint64_t image_area;		/* width * height of <img> */
	size_t	 html_length;		/* code points of the rendering */
	size_t	 non_space_len;		/* of them not white space */
	struct html_sa_tag *inside;
	size_t	 ninside;
	struct html_sa_strings comment;	/* "<!-- ... -->" as written */
	struct html_sa_strings title;	/* text of each <title> */
	struct html_sa_strings anchor;	/* text of each <a>, "<img>\n" per
					   image inside */
	char	*charsets;		/* <meta> charsets, space separated */
};

/* html_sa_parse - facts of html[0..len) into *out (zeroed first) */
void	 html_sa_parse(const char *html, size_t len, struct html_sa *out);
/* html_sa_free - release what *sa holds (not sa itself) */
void	 html_sa_free(struct html_sa *sa);

/*
 * html_sa_value - SpamAssassin's result called name ("max_size",
 * "closed_extra_ratio", "font_low_contrast", ...) as a number; false
 * when SpamAssassin leaves it undefined for this part (a ratio without
 * tags, a flag not raised, an unknown name).
 */
bool	 html_sa_value(const struct html_sa *sa, const char *name, double *v);

/* html_sa_inside - the tag's balance; false if the tag never occurred */
bool	 html_sa_inside(const struct html_sa *sa, const char *tag,
	    uint32_t *count);

/* html_sa_strings - the list called name ("comment", "title", "anchor") */
const struct html_sa_strings *html_sa_strings(const struct html_sa *sa,
	    const char *name);

#endif
