/*
 * html_sa.c - SpamAssassin's facts about an HTML part, computed its way
 *
 * DESCRIPTION
 *	A tokenizer shaped like Perl's HTML::Parser (the one SpamAssassin
 *	uses) feeds start tags, end tags, text runs, comments and
 *	declarations to handlers that keep the counts of SpamAssassin's
 *	Mail::SpamAssassin::HTML: the balance of each tag name, known
 *	elements against all tags, superfluous closing tags, the style
 *	stack for font sizes and text colours, words split by markup,
 *	image area, rendered text length, comments, titles and link texts.
 *	See html_sa.h.  Colours and CSS are in html_sa_style.c.
 *
 * LIMITS
 *	Linear: every search starts at the current position, which then
 *	moves past what was found.  The style stack and the tag-name table
 *	are bounded (html_sa.h), as are the strings kept.
 *
 * SECURITY
 *	Untrusted input.  Tag and attribute names are cut to fixed
 *	buffers; attribute values are decoded into one growing buffer per
 *	tag, bounded by the input.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "html.h"
#include "html_sa_int.h"
#include "mime.h"
#include "str.h"

/* tag classes of SpamAssassin's HTML.pm */
enum {
	TC_ELEMENT	= 1 << 0,	/* HTML 4 element (and a few more) */
	TC_TRICK	= 1 << 1,	/* bgsound, embed, listing, ... */
	TC_STYLE	= 1 << 2,	/* changes the text style */
	TC_WS_LINE	= 1 << 3,	/* renders as a line break */
	TC_WS_SPACE	= 1 << 4,	/* renders as a space */
	TC_WS_PARA	= 1 << 5,	/* renders as a blank line */
	TC_LITERAL	= 1 << 6	/* content is text (HTML::Parser) */
};

#define E	TC_ELEMENT
static const struct tag_class {
	const char *name;
	unsigned cls;
} classes[] = {
	{ "a", E | TC_STYLE }, { "abbr", E }, { "acronym", E },
	{ "address", E }, { "applet", E }, { "area", E }, { "b", E },
	{ "base", E }, { "basefont", E | TC_STYLE }, { "bdo", E },
	{ "bgsound", TC_TRICK }, { "big", E | TC_STYLE },
	{ "blockquote", E | TC_WS_PARA }, { "body", E | TC_STYLE },
	{ "br", E | TC_WS_LINE }, { "button", E }, { "caption", E },
	{ "center", E }, { "cite", E }, { "code", E }, { "col", E },
	{ "colgroup", E }, { "dd", E | TC_WS_SPACE }, { "del", E },
	{ "dfn", E }, { "dir", E }, { "div", E | TC_STYLE | TC_WS_LINE },
	{ "dl", E }, { "dt", E | TC_WS_SPACE }, { "em", E },
	{ "embed", TC_TRICK | TC_WS_SPACE }, { "fieldset", E },
	{ "font", E | TC_STYLE }, { "form", E }, { "frame", E },
	{ "frameset", E }, { "h1", E | TC_WS_SPACE },
	{ "h2", E | TC_WS_SPACE }, { "h3", E | TC_WS_SPACE },
	{ "h4", E | TC_WS_SPACE }, { "h5", E | TC_WS_SPACE },
	{ "h6", E | TC_WS_SPACE }, { "head", E },
	{ "hr", E | TC_WS_PARA }, { "html", E }, { "i", E },
	{ "iframe", E | TC_LITERAL }, { "img", E }, { "input", E },
	{ "ins", E }, { "isindex", E }, { "kbd", E }, { "label", E },
	{ "legend", E }, { "li", E | TC_WS_SPACE },
	{ "link", E }, { "listing", TC_TRICK | TC_WS_PARA }, { "map", E },
	{ "menu", E }, { "meta", E }, { "nobr", E }, { "noframes", E },
	{ "noscript", E }, { "object", E }, { "ol", E },
	{ "optgroup", E }, { "option", E }, { "p", E | TC_STYLE | TC_WS_PARA },
	{ "param", E }, { "plaintext", TC_TRICK | TC_WS_PARA | TC_LITERAL },
	{ "pre", E | TC_WS_PARA }, { "q", E }, { "s", E }, { "samp", E },
	{ "script", E | TC_LITERAL }, { "select", E }, { "small", E | TC_STYLE },
	{ "span", E | TC_STYLE }, { "strike", E }, { "strong", E },
	{ "style", E | TC_LITERAL }, { "sub", E }, { "sup", E },
	{ "table", E | TC_STYLE }, { "tbody", E }, { "td", E | TC_STYLE |
	    TC_WS_SPACE }, { "textarea", E | TC_LITERAL }, { "tfoot", E },
	{ "th", E | TC_STYLE | TC_WS_SPACE }, { "thead", E },
	{ "title", E | TC_WS_PARA | TC_LITERAL },
	{ "tr", E | TC_STYLE }, { "tt", E }, { "u", E }, { "ul", E },
	{ "var", E }, { "x-sigsep", E }, { "x-tab", E },
	{ "xmp", TC_TRICK | TC_WS_PARA | TC_LITERAL },
};
#undef E

#define NCLASSES	(sizeof(classes) / sizeof(classes[0]))
#define MAX_ATTRS	32
#define NAME_SLOTS	512	/* hash slots for HTML_SA_MAX_NAMES names */
#define TAIL_MAX	48	/* bytes kept of the last text piece */

struct attr {
	char	 name[HTML_SA_NAME_MAX];
	size_t	 off, len;	/* decoded value in ctx->vals */
};

struct ctx {
	const char *p;
	size_t	 n, i;
	struct html_sa *o;
	struct hsa_style style[HTML_SA_MAX_STYLE];
	size_t	 nstyle;
	int	 basefont;
	uint16_t slot[NAME_SLOTS];	/* index + 1 into o->inside */
	/* the tag being handled */
	char	 name[HTML_SA_NAME_MAX];
	struct attr attrs[MAX_ATTRS];
	size_t	 nattrs;
	struct buf vals;
	struct buf text;		/* decoded text run */
	struct buf shown;		/* text run, white space collapsed */
	/* entries of inside{} that every text run asks about */
	const struct html_sa_tag *t_script, *t_style, *t_a, *t_title;
	/* the last piece of rendered text */
	bool	 have_last, last_ws, last_inv;
	char	 tail[TAIL_MAX];
	size_t	 tail_len;
	long	 title_index;
};

/* ------------------------------------------------------------------ */
/* small helpers                                                       */
/* ------------------------------------------------------------------ */

static int
class_cmp(const void *k, const void *e)
{
	return strcmp(k, ((const struct tag_class *)e)->name);
}

static const struct tag_class *
find_class(const char *name)
{
	return bsearch(name, classes, NCLASSES, sizeof(classes[0]), class_cmp);
}

static unsigned
tag_class(const char *name)
{
	const struct tag_class *c = find_class(name);

	return c ? c->cls : 0;
}

static size_t
codepoints(const char *s, size_t n)
{
	size_t i, k = 0;

	for (i = 0; i < n; i++)
		k += ((unsigned char)s[i] & 0xc0) != 0x80;
	return k;
}

static bool
is_ws(int c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
	    c == '\v';
}

/* word_byte - in SpamAssassin's [^\s\x21-\x2f\x3a-\x40\x5b-\x60\x7b-\x7e] */
static bool
word_byte(int c)
{
	return !is_ws(c) && !(c >= 0x21 && c <= 0x2f) &&
	    !(c >= 0x3a && c <= 0x40) && !(c >= 0x5b && c <= 0x60) &&
	    !(c >= 0x7b && c <= 0x7e);
}

/* perl_word - \w: ASCII letters and digits, and any non-ASCII byte */
static bool
perl_word(int c)
{
	return ch_is_alnum(c) || c == '_' || c >= 0x80;
}

/* ------------------------------------------------------------------ */
/* inside{}: the balance of every tag name                             */
/* ------------------------------------------------------------------ */

static uint32_t
name_hash(const char *s)
{
	uint32_t h = 2166136261u;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h;
}

/* inside - the entry of name; created if create and room remains */
static struct html_sa_tag *
inside(struct ctx *c, const char *name, bool create)
{
	uint32_t h = name_hash(name) % NAME_SLOTS;
	struct html_sa_tag *t;

	while (c->slot[h]) {
		t = &c->o->inside[c->slot[h] - 1];
		if (strcmp(t->name, name) == 0)
			return t;
		h = (h + 1) % NAME_SLOTS;
	}
	if (!create || c->o->ninside >= HTML_SA_MAX_NAMES)
		return NULL;
	t = &c->o->inside[c->o->ninside++];
	memset(t, 0, sizeof(*t));
	strcpy(t->name, name);		/* both HTML_SA_NAME_MAX */
	c->slot[h] = (uint16_t)c->o->ninside;
	/* the array never moves: keep the ones each text run reads */
	if (strcmp(name, "script") == 0)
		c->t_script = t;
	else if (strcmp(name, "style") == 0)
		c->t_style = t;
	else if (strcmp(name, "a") == 0)
		c->t_a = t;
	else if (strcmp(name, "title") == 0)
		c->t_title = t;
	return t;
}

static bool
is_open(const struct html_sa_tag *t)
{
	return t && t->count > 0;
}

static bool
inside_open(struct ctx *c, const char *name)
{
	const struct html_sa_tag *t = inside(c, name, false);

	return t && t->count > 0;
}

/* ------------------------------------------------------------------ */
/* strings kept: comments, titles, link texts                          */
/* ------------------------------------------------------------------ */

static void
strings_push(struct html_sa_strings *s, const char *v, size_t n)
{
	if (s->n >= HTML_SA_MAX_STRINGS)
		return;
	if (n > HTML_SA_MAX_STRING)
		n = HTML_SA_MAX_STRING;
	s->v = xreallocarray(s->v, s->n + 1, sizeof(*s->v));
	s->v[s->n++] = xstrndup(v, n);
}

/* strings_append - to the last string (none: nothing) */
static void
strings_append(struct html_sa_strings *s, const char *v, size_t n)
{
	char *last;
	size_t have;

	if (s->n == 0)
		return;
	last = s->v[s->n - 1];
	have = strlen(last);
	if (have + n > HTML_SA_MAX_STRING)
		n = HTML_SA_MAX_STRING - have;
	if (n == 0 || memchr(v, '\0', n))
		return;
	last = xrealloc(last, have + n + 1);
	memcpy(last + have, v, n);
	last[have + n] = '\0';
	s->v[s->n - 1] = last;
}

/* ------------------------------------------------------------------ */
/* attributes                                                          */
/* ------------------------------------------------------------------ */

static const struct attr *
attr_get(const struct ctx *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->nattrs; i++)
		if (strcmp(c->attrs[i].name, name) == 0)
			return &c->attrs[i];
	return NULL;
}

static const char *
attr_val(const struct ctx *c, const struct attr *a)
{
	return buf_cstr(&c->vals) + a->off;
}

/*
 * decode - character references of s[0..n) into out; "&nbsp;" is a
 * space and curly double quotes are '"' (SpamAssassin rewrites both in
 * the source before parsing)
 */
static void
decode(const char *s, size_t n, struct buf *out)
{
	size_t i = 0, k;

	while (i < n) {
		if (s[i] == '&') {
			if (n - i >= 6 && memcmp(s + i, "&nbsp;", 6) == 0) {
				buf_addc(out, ' ');
				i += 6;
				continue;
			}
			if ((k = html_entity(s + i, n - i, out)) > 0) {
				i += k;
				continue;
			}
		} else if (n - i >= 3 && (unsigned char)s[i] == 0xe2 &&
		    (unsigned char)s[i + 1] == 0x80 &&
		    ((unsigned char)s[i + 2] == 0x9c ||
		    (unsigned char)s[i + 2] == 0x9d)) {
			buf_addc(out, '"');
			i += 3;
			continue;
		}
		buf_addc(out, s[i++]);
	}
}

/* ------------------------------------------------------------------ */
/* the style stack                                                     */
/* ------------------------------------------------------------------ */

static struct hsa_style *
style_top(struct ctx *c)
{
	return &c->style[c->nstyle - 1];
}

static void
style_push(struct ctx *c, const struct hsa_style *s)
{
	if (c->nstyle < HTML_SA_MAX_STYLE)
		c->style[c->nstyle++] = *s;
}

static bool
style_has(const struct ctx *c, const char *tag)
{
	size_t i;

	for (i = 0; i < c->nstyle; i++)
		if (c->style[i].tag == tag)
			return true;
	return false;
}

/* style_close - pop through the innermost entry of tag */
static void
style_close(struct ctx *c, const char *tag)
{
	bool hit = false;

	if (!style_has(c, tag))
		return;
	while (c->nstyle > 1 && !hit) {
		hit = style_top(c)->tag == tag;
		c->nstyle--;
	}
}

/* style_close_table - a new td or tr ends open fonts and cells */
static void
style_close_table(struct ctx *c, const char *tag)
{
	const char *top;
	bool td = strcmp(tag, "td") == 0;

	if (!style_has(c, tag))
		return;
	while (c->nstyle > 1) {
		top = style_top(c)->tag;
		if (strcmp(top, "font") == 0 || strcmp(top, "td") == 0 ||
		    (!td && strcmp(top, "tr") == 0))
			c->nstyle--;
		else
			break;
	}
}

static void
note_size(struct ctx *c, int size)
{
	if (size > c->o->max_size)
		c->o->max_size = size;
	else if (size < c->o->min_size)
		c->o->min_size = size;
}

/* font_size - "+N"/"-N" relative to basefont, "N" absolute */
static void
font_size(const struct ctx *c, const char *v, struct hsa_style *s)
{
	long x;

	while (ch_is_space((unsigned char)*v))
		v++;
	if ((*v == '+' || *v == '-') && ch_is_digit((unsigned char)v[1])) {
		x = strtol(v, NULL, 10);
		if (x > 1000)
			x = 1000;
		if (x < -1000)
			x = -1000;
		s->size = c->basefont + (int)x;
	} else if (ch_is_digit((unsigned char)*v)) {
		x = strtol(v, NULL, 10);
		s->size = x > 100000 ? 100000 : (int)x;
	}
}

/* ok_attr - attributes that change the text style of a tag */
static bool
ok_attr(const char *tag, const char *attr)
{
	if (strcmp(tag, "font") == 0 || strcmp(tag, "basefont") == 0)
		return strcmp(attr, "color") == 0 ||
		    strcmp(attr, "face") == 0 || strcmp(attr, "size") == 0;
	if (strcmp(tag, "body") == 0)
		return strcmp(attr, "text") == 0 ||
		    strcmp(attr, "bgcolor") == 0 ||
		    strcmp(attr, "link") == 0 || strcmp(attr, "alink") == 0 ||
		    strcmp(attr, "vlink") == 0 ||
		    strcmp(attr, "background") == 0;
	if (strcmp(tag, "table") == 0 || strcmp(tag, "td") == 0 ||
	    strcmp(tag, "tr") == 0)
		return strcmp(attr, "bgcolor") == 0 ||
		    strcmp(attr, "style") == 0;
	if (strcmp(tag, "span") == 0 || strcmp(tag, "p") == 0 ||
	    strcmp(tag, "div") == 0 || strcmp(tag, "a") == 0)
		return strcmp(attr, "style") == 0;
	return false;
}

static void
style_start(struct ctx *c, const char *tag)
{
	const struct attr *a;
	struct hsa_style s;
	size_t i;
	const char *v;

	if (strcmp(tag, "basefont") == 0 && (a = attr_get(c, "size")) &&
	    (v = attr_val(c, a), v += strspn(v, " \t\r\n\f\v"),
	    ch_is_digit((unsigned char)*v))) {
		long x = strtol(v, NULL, 10);

		c->basefont = x > 100000 ? 100000 : (int)x;
		return;
	}
	if (strcmp(tag, "td") == 0 || strcmp(tag, "tr") == 0)
		style_close_table(c, tag);
	s = *style_top(c);
	s.tag = tag;
	if (strcmp(tag, "big") == 0 || strcmp(tag, "small") == 0) {
		s.size += tag[0] == 'b' ? 1 : -1;
		style_push(c, &s);
		return;
	}
	for (i = 0; i < c->nattrs; i++) {
		a = &c->attrs[i];
		if (!ok_attr(tag, a->name))
			continue;
		v = attr_val(c, a);
		if (strcmp(a->name, "text") == 0 ||
		    strcmp(a->name, "color") == 0)
			s.fg = html_sa_color(v, a->len);
		else if (strcmp(a->name, "size") == 0)
			font_size(c, v, &s);
		else if (strcmp(a->name, "style") == 0)
			html_sa_css(v, a->len, style_top(c), &s);
		note_size(c, s.size);
	}
	style_push(c, &s);
}

/* text_style - tag is interned (a name of classes[]) */
static void
text_style(struct ctx *c, const char *tag, int num)
{
	if (strcmp(tag, "th") == 0)
		tag = find_class("td")->name;
	if (num > 0)
		style_start(c, tag);
	else if (strcmp(tag, "body") != 0)
		style_close(c, tag);
}

/* ------------------------------------------------------------------ */
/* rendered text                                                       */
/* ------------------------------------------------------------------ */

static void
set_last(struct ctx *c, const char *s, size_t n, bool ws, bool inv)
{
	size_t k = n > TAIL_MAX ? n - TAIL_MAX : 0;

	c->have_last = true;
	c->last_ws = ws;
	c->last_inv = inv;
	c->tail_len = n - k;
	memcpy(c->tail, s + k, c->tail_len);
}

/* display_ws - a line break, space or blank line from a tag */
static void
display_ws(struct ctx *c, const char *ws)
{
	if (c->have_last && !c->last_ws && !c->last_inv && c->tail_len &&
	    c->tail[c->tail_len - 1] == ' ') {
		c->tail_len--;
		c->o->html_length--;
	}
	set_last(c, ws, strlen(ws), true, false);
	c->o->html_length += strlen(ws);
}

static void
display_text(struct ctx *c, const char *s, size_t n, bool inv)
{
	struct buf t = c->shown;
	size_t i = 0, skip, cps;

	buf_reset(&t);

	while (i < n) {
		if (is_ws((unsigned char)s[i])) {
			while (i < n && is_ws((unsigned char)s[i]))
				i++;
			buf_addc(&t, ' ');
		} else if (n - i >= 2 && (unsigned char)s[i] == 0xc2 &&
		    (unsigned char)s[i + 1] == 0xa0) {
			buf_addc(&t, ' ');
			i += 2;
		} else
			buf_addc(&t, s[i++]);
	}
	/* after a break from a tag, visible text loses its leading space */
	skip = c->have_last && !inv && c->last_ws && t.len &&
	    t.data[0] == ' ';
	cps = codepoints(buf_cstr(&t) + skip, t.len - skip);
	c->o->html_length += cps;
	for (i = skip; i < t.len; i++)
		if (t.data[i] == ' ')
			cps--;
	c->o->non_space_len += cps;
	set_last(c, buf_cstr(&t) + skip, t.len - skip, false, inv);
	c->shown = t;
}

/* tail_run - characters of the word run that ends the last piece */
static size_t
tail_run(const struct ctx *c, bool *bound)
{
	size_t i = c->tail_len, k = 0;

	while (i > 0 && word_byte((unsigned char)c->tail[i - 1])) {
		i--;
		k += ((unsigned char)c->tail[i] & 0xc0) != 0x80;
	}
	*bound = k > 0 && perl_word((unsigned char)c->tail[i]) &&
	    (i == 0 || !perl_word((unsigned char)c->tail[i - 1])) &&
	    (i > 0 || c->tail_len < TAIL_MAX);
	return k;
}

static size_t
head_run(const char *s, size_t n, bool *bound)
{
	size_t i = 0, k = 0;

	while (i < n && word_byte((unsigned char)s[i])) {
		k += ((unsigned char)s[i] & 0xc0) != 0x80;
		i++;
	}
	*bound = k > 0 && perl_word((unsigned char)s[i - 1]) &&
	    (i == n || !perl_word((unsigned char)s[i]));
	return k;
}

/* word_split - text continuing a word of the previous piece */
static void
word_split(struct ctx *c, const char *s, size_t n)
{
	size_t a, b;
	bool ba, bb;

	if (n && word_byte((unsigned char)s[0]) && c->tail_len &&
	    word_byte((unsigned char)c->tail[c->tail_len - 1]))
		c->o->obfuscation++;
	a = tail_run(c, &ba);
	if (!ba || a == 0 || a > 7)
		return;
	b = head_run(s, n, &bb);
	if (!bb || b == 0 || b > 7)
		return;
	c->o->backhair |= (uint64_t)1 << ((a - 1) * 7 + (b - 1));
}

/* invisible - SpamAssassin's html_font_invisible for the style in force */
static bool
invisible(struct ctx *c)
{
	const struct hsa_style *s = style_top(c);
	int dr, dg, db;
	double d;

	if (s->fg == s->bg) {
		c->o->flags |= HTML_SA_FONT_LOW_CONTRAST;
		return true;
	}
	if (s->fg >= 0 && s->bg >= 0) {
		dr = ((s->fg >> 16) & 0xff) - ((s->bg >> 16) & 0xff);
		dg = ((s->fg >> 8) & 0xff) - ((s->bg >> 8) & 0xff);
		db = (s->fg & 0xff) - (s->bg & 0xff);
		/* luminance-weighted distance (ITU-R BT.709 weights) */
		d = (0.2126 * dr) * (0.2126 * dr) + (0.7152 * dg) *
		    (0.7152 * dg) + (0.0722 * db) * (0.0722 * db);
		if (d < 144) {
			c->o->flags |= HTML_SA_FONT_LOW_CONTRAST;
			return true;
		}
	}
	if (s->fg == HSA_COLOR_INVALID || s->bg == HSA_COLOR_INVALID) {
		c->o->flags |= HTML_SA_FONT_INVALID_COLOR;
		return true;
	}
	return s->size <= 1 || s->display_none || s->visibility_hidden;
}

static bool
has_ink(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (n - i >= 2 && (unsigned char)s[i] == 0xc2 &&
		    (unsigned char)s[i + 1] == 0xa0) {
			i++;
			continue;
		}
		if (!is_ws((unsigned char)s[i]))
			return true;
	}
	return false;
}

/* on_text - one decoded text run */
static void
on_text(struct ctx *c, const char *s, size_t n)
{
	bool inv = false;

	if (n == 0 || is_open(c->t_script) || is_open(c->t_style))
		return;
	if (is_open(c->t_a))
		strings_append(&c->o->anchor, s, n);
	if (is_open(c->t_title) && c->title_index >= 0)
		strings_append(&c->o->title, s, n);
	if (has_ink(s, n))
		inv = invisible(c);
	if (c->have_last)
		word_split(c, s, n);
	display_text(c, s, n, inv);
}

/* ------------------------------------------------------------------ */
/* tags                                                                */
/* ------------------------------------------------------------------ */

static void
whitespace(struct ctx *c, unsigned cls)
{
	if (cls & TC_WS_LINE)
		display_ws(c, "\n");
	else if (cls & TC_WS_SPACE)
		display_ws(c, " ");
	else if (cls & TC_WS_PARA)
		display_ws(c, "\n\n");
}

static bool
has_mailto(const char *v)
{
	for (; *v; v++)
		if (strncasecmp(v, "mailto:", 7) == 0)
			return true;
	return false;
}

/* dimension - SpamAssassin's /^(\d+)(%)?$/, a percent scaled by mul */
static uint64_t
dimension(const char *v, unsigned mul)
{
	uint64_t x = 0;
	size_t i;

	for (i = 0; ch_is_digit((unsigned char)v[i]); i++)
		if (x < 1000000)
			x = x * 10 + (uint64_t)(v[i] - '0');
	if (i == 0 || (v[i] && !(v[i] == '%' && v[i + 1] == '\0')))
		return 200;
	if (v[i] == '%')
		x *= mul;
	return x ? x : 200;
}

/* meta_charset - the charset of <meta http-equiv=Content-Type> */
static void
meta_charset(struct ctx *c)
{
	const struct attr *he = attr_get(c, "http-equiv");
	const struct attr *ct = attr_get(c, "content");
	const char *v, *q;
	size_t k;
	char *old;

	if (he == NULL || ct == NULL ||
	    strcasestr(attr_val(c, he), "content-type") == NULL)
		return;
	for (v = attr_val(c, ct); (q = strcasestr(v, "charset")); v = q + 7) {
		if (q > attr_val(c, ct) && perl_word((unsigned char)q[-1]))
			continue;
		q += 7;
		while (ch_is_space((unsigned char)*q))
			q++;
		if (*q != '=')
			continue;
		q++;
		while (ch_is_space((unsigned char)*q))
			q++;
		if (*q == '"' || *q == '\'')
			q++;
		if ((k = strcspn(q, "\"'")) == 0)
			continue;
		old = c->o->charsets;
		c->o->charsets = old ? xasprintf("%s %.*s", old, (int)k, q) :
		    xstrndup(q, k);
		free(old);
		return;
	}
}

/* tests - SpamAssassin's html_tests and html_uri for a start tag */
static void
tests(struct ctx *c, const char *tag)
{
	const struct attr *a, *w, *h;

	if (strcmp(tag, "font") == 0 && (a = attr_get(c, "face")) &&
	    html_sa_face_bad(attr_val(c, a), a->len))
		c->o->flags |= HTML_SA_FONT_FACE_BAD;
	if (strcmp(tag, "img") == 0 && inside_open(c, "a"))
		strings_append(&c->o->anchor, "<img>\n", 6);
	if (strcmp(tag, "img") == 0 && (w = attr_get(c, "width")) &&
	    (h = attr_get(c, "height")))
		c->o->image_area += dimension(attr_val(c, w), 8) *
		    dimension(attr_val(c, h), 6);
	if (strcmp(tag, "form") == 0 && (a = attr_get(c, "action")) &&
	    has_mailto(attr_val(c, a)))
		c->o->flags |= HTML_SA_FORM_ACTION_MAILTO;
	if (strcmp(tag, "object") == 0 || strcmp(tag, "embed") == 0)
		c->o->flags |= HTML_SA_EMBEDS;
	if (strcmp(tag, "a") == 0)
		strings_push(&c->o->anchor, "", 0);
	if (strcmp(tag, "title") == 0) {
		strings_push(&c->o->title, "", 0);
		c->title_index++;
	}
	if (strcmp(tag, "meta") == 0)
		meta_charset(c);
	if (strcmp(tag, "iframe") == 0 && (a = attr_get(c, "src")) &&
	    attr_val(c, a)[strspn(attr_val(c, a), " \t\r\n\f\v")] != '\0')
		c->o->flags |= HTML_SA_IFRAME_SRC;
}

/* is_namespace - "o:x" or "stN:x", an Office tag SpamAssassin counts only */
static bool
is_namespace(const char *t)
{
	const char *p;

	if (t[0] == 'o' && t[1] == ':')
		p = t + 2;
	else if (t[0] == 's' && t[1] == 't' && ch_is_digit((unsigned char)t[2])
	    && t[3] == ':')
		p = t + 4;
	else
		return false;
	if (*p == '\0')
		return false;
	for (; *p; p++)
		if (!perl_word((unsigned char)*p) && *p != '-' &&
		    !(*p == '/' && p[1] == '\0'))
			return false;
	return true;
}

/* on_tag - SpamAssassin's html_tag: num 1 for a start, -1 for an end */
static void
on_tag(struct ctx *c, const char *tag, int num)
{
	const struct tag_class *k = find_class(tag);
	unsigned cls = k ? k->cls : 0;
	bool ns = is_namespace(tag);
	struct html_sa_tag *t = inside(c, tag, false);
	bool seen = t != NULL;

	if ((cls & TC_ELEMENT) || ns) {
		c->o->elements++;
		c->o->elements_seen += !seen;
	}
	c->o->tags++;
	c->o->tags_seen += !seen;
	if (t == NULL)
		t = inside(c, tag, true);
	if (t) {
		if (num > 0)
			t->count++;
		else if (t->count > 0)
			t->count--;
		else
			c->o->closed_extra++;
	}
	if (ns || !(cls & (TC_ELEMENT | TC_TRICK)))
		return;
	if (cls & TC_STYLE)
		text_style(c, k->name, num);
	whitespace(c, cls);
	if (num > 0)
		tests(c, tag);
}

/* ------------------------------------------------------------------ */
/* the tokenizer                                                       */
/* ------------------------------------------------------------------ */

/* read_name - lower-case tag name from i; returns the end position */
static size_t
read_name(const char *p, size_t n, size_t i, char *name)
{
	size_t k = 0;

	while (i < n && !is_ws((unsigned char)p[i]) && p[i] != '>' &&
	    p[i] != '/') {
		if (k + 1 < HTML_SA_NAME_MAX)
			name[k++] = (char)ch_lower((unsigned char)p[i]);
		i++;
	}
	name[k] = '\0';
	return i;
}

static void
add_attr(struct ctx *c, const char *name, size_t nlen, const char *v,
    size_t vlen)
{
	struct attr *a;
	size_t k;

	if (c->nattrs >= MAX_ATTRS)
		return;
	a = &c->attrs[c->nattrs];
	for (k = 0; k < nlen && k + 1 < HTML_SA_NAME_MAX; k++)
		a->name[k] = (char)ch_lower((unsigned char)name[k]);
	a->name[k] = '\0';
	if (attr_get(c, a->name))
		return;		/* the first one counts */
	a->off = c->vals.len;
	decode(v, vlen, &c->vals);
	a->len = c->vals.len - a->off;
	buf_addc(&c->vals, '\0');
	c->nattrs++;
}

/*
 * read_attrs - attributes from i up to '>'; returns the position past
 * '>', or 0 when the input ends first
 */
static size_t
read_attrs(struct ctx *c, size_t i)
{
	const char *p = c->p, *q;
	size_t n = c->n, ns, ne, vs;

	c->nattrs = 0;
	buf_reset(&c->vals);
	for (;;) {
		while (i < n && (is_ws((unsigned char)p[i]) || p[i] == '/'))
			i++;
		if (i >= n)
			return 0;
		if (p[i] == '>')
			return i + 1;
		ns = i;
		do
			i++;
		while (i < n && !is_ws((unsigned char)p[i]) && p[i] != '>' &&
		    p[i] != '=' && p[i] != '/');
		ne = i;
		while (i < n && is_ws((unsigned char)p[i]))
			i++;
		if (i >= n || p[i] != '=') {
			add_attr(c, p + ns, ne - ns, p + ns, ne - ns);
			continue;
		}
		i++;
		while (i < n && is_ws((unsigned char)p[i]))
			i++;
		if (i >= n)
			return 0;
		if (p[i] == '"' || p[i] == '\'') {
			q = memchr(p + i + 1, p[i], n - i - 1);
			if (q == NULL)
				return 0;
			add_attr(c, p + ns, ne - ns, p + i + 1,
			    (size_t)(q - p) - i - 1);
			i = (size_t)(q - p) + 1;
			continue;
		}
		vs = i;
		while (i < n && !is_ws((unsigned char)p[i]) && p[i] != '>')
			i++;
		add_attr(c, p + ns, ne - ns, p + vs, i - vs);
	}
}

static void
comment(struct ctx *c, size_t a, size_t b)
{
	strings_push(&c->o->comment, c->p + a, b - a);
}

/* text_run - text [a, b) with references decoded */
static void
text_run(struct ctx *c, size_t a, size_t b)
{
	buf_reset(&c->text);
	decode(c->p + a, b - a, &c->text);
	on_text(c, buf_cstr(&c->text), c->text.len);
}

/* literal - the content of script, style, title, ...: text to its end tag */
static void
literal(struct ctx *c, const char *tag)
{
	size_t len = strlen(tag), pos = c->i;
	const char *q;

	if (strcmp(tag, "plaintext") == 0)
		pos = c->n;
	while (pos < c->n) {
		q = memchr(c->p + pos, '<', c->n - pos);
		if (q == NULL) {
			pos = c->n;
			break;
		}
		pos = (size_t)(q - c->p);
		if (c->n - pos >= len + 2 && q[1] == '/' &&
		    strncasecmp(q + 2, tag, len) == 0 &&
		    (c->n - pos == len + 2 ||
		    !ch_is_alnum((unsigned char)q[len + 2])))
			break;
		pos++;
	}
	if (pos > c->i)
		text_run(c, c->i, pos);
	c->i = pos;
}

static void
start_tag(struct ctx *c)
{
	size_t end, e;
	char tag[HTML_SA_NAME_MAX];

	e = read_name(c->p, c->n, c->i + 1, c->name);
	end = read_attrs(c, e);
	if (end == 0) {		/* unterminated: HTML::Parser's comment */
		comment(c, c->i, c->n);
		c->i = c->n;
		return;
	}
	c->i = end;
	strcpy(tag, c->name);
	on_tag(c, tag, 1);
	if (tag_class(tag) & TC_LITERAL)
		literal(c, tag);
}

static void
end_tag(struct ctx *c)
{
	const char *gt;
	char tag[HTML_SA_NAME_MAX];

	(void)read_name(c->p, c->n, c->i + 2, tag);
	gt = memchr(c->p + c->i, '>', c->n - c->i);
	if (gt == NULL) {
		comment(c, c->i, c->n);
		c->i = c->n;
		return;
	}
	c->i = (size_t)(gt - c->p) + 1;
	on_tag(c, tag, -1);
}

/* bang - "<!": a comment, a DOCTYPE, or a CDATA section */
static void
bang(struct ctx *c)
{
	const char *p = c->p + c->i, *q;
	size_t n = c->n - c->i, end;
	struct html_sa_tag *t;

	if (n >= 4 && memcmp(p, "<!--", 4) == 0) {
		/* without "-->" anywhere, HTML::Parser ends it at '>' */
		if ((q = memmem(p + 4, n - 4, "-->", 3)) != NULL)
			end = (size_t)(q - p) + 3;
		else
			end = (q = memchr(p, '>', n)) ? (size_t)(q - p) + 1 : n;
	} else if (n >= 9 && memcmp(p, "<![CDATA[", 9) == 0) {
		q = memmem(p + 9, n - 9, "]]>", 3);
		end = q ? (size_t)(q - p) : n;
		text_run(c, c->i + 9, c->i + end);
		c->i += q ? end + 3 : n;
		return;
	} else {
		q = memchr(p, '>', n);
		end = q ? (size_t)(q - p) + 1 : n;
		if (n >= 9 && strncasecmp(p, "<!doctype", 9) == 0 && q) {
			c->o->elements++;
			c->o->tags++;
			if ((t = inside(c, "!doctype", true)) != NULL)
				t->count = 0;
			c->i += end;
			return;
		}
	}
	comment(c, c->i, c->i + end);
	c->i += end;
}

/* markup - at '<'; returns false when it is text */
static bool
markup(struct ctx *c)
{
	const char *p = c->p + c->i, *q;
	size_t n = c->n - c->i;

	if (n < 2)
		return false;
	if (p[1] == '!') {
		bang(c);
		return true;
	}
	if (p[1] == '?') {
		q = memchr(p, '>', n);
		c->i += q ? (size_t)(q - p) + 1 : n;
		return true;
	}
	if (p[1] == '/') {
		if (n > 2 && ch_is_alpha((unsigned char)p[2]))
			end_tag(c);
		else {
			q = memchr(p, '>', n);
			comment(c, c->i, c->i + (q ? (size_t)(q - p) + 1 : n));
			c->i += q ? (size_t)(q - p) + 1 : n;
		}
		return true;
	}
	if (ch_is_alpha((unsigned char)p[1])) {
		start_tag(c);
		return true;
	}
	return false;
}

static void
tokenize(struct ctx *c)
{
	const char *lt;
	size_t end;

	while (c->i < c->n) {
		if (c->p[c->i] == '<' && markup(c))
			continue;
		lt = c->i + 1 < c->n ? memchr(c->p + c->i + 1, '<',
		    c->n - c->i - 1) : NULL;
		end = lt ? (size_t)(lt - c->p) : c->n;
		text_run(c, c->i, end);
		c->i = end;
	}
	/* SpamAssassin closes an open style or script at the end */
	while (inside_open(c, "style"))
		on_tag(c, "style", -1);
	while (inside_open(c, "script"))
		on_tag(c, "script", -1);
}

void
html_sa_parse(const char *html, size_t len, struct html_sa *out)
{
	struct ctx *c = xcalloc(1, sizeof(*c));
	struct hsa_style *d = &c->style[0];

	memset(out, 0, sizeof(*out));
	out->inside = xcalloc(HTML_SA_MAX_NAMES, sizeof(*out->inside));
	out->max_size = out->min_size = 3;
	out->length = codepoints(html, len);
	c->p = html;
	c->n = len;
	c->o = out;
	c->basefont = 3;
	c->title_index = -1;
	d->tag = "default";
	d->fg = 0x000000;
	d->bg = 0xffffff;
	d->size = 3;
	c->nstyle = 1;
	tokenize(c);
	buf_release(&c->vals);
	buf_release(&c->text);
	buf_release(&c->shown);
	free(c);
}

static void
strings_free(struct html_sa_strings *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	s->v = NULL;
	s->n = 0;
}

void
html_sa_free(struct html_sa *sa)
{
	if (sa == NULL)
		return;
	free(sa->inside);
	strings_free(&sa->comment);
	strings_free(&sa->title);
	strings_free(&sa->anchor);
	free(sa->charsets);
	memset(sa, 0, sizeof(*sa));
}

/* ------------------------------------------------------------------ */
/* results by SpamAssassin's names                                     */
/* ------------------------------------------------------------------ */

static int
popcount64(uint64_t x)
{
	int k = 0;

	for (; x; x &= x - 1)
		k++;
	return k;
}

static const struct {
	const char *name;
	unsigned flag;
} flag_names[] = {
	{ "font_low_contrast", HTML_SA_FONT_LOW_CONTRAST },
	{ "font_invalid_color", HTML_SA_FONT_INVALID_COLOR },
	{ "font_face_bad", HTML_SA_FONT_FACE_BAD },
	{ "form_action_mailto", HTML_SA_FORM_ACTION_MAILTO },
	{ "embeds", HTML_SA_EMBEDS },
};

/* ratio - a / b, defined only when SpamAssassin's counters exist */
static bool
ratio(bool defined, double a, double b, double *v)
{
	if (!defined || b == 0)
		return false;
	*v = a / b;
	return true;
}

bool
html_sa_value(const struct html_sa *sa, const char *name, double *v)
{
	size_t i;

	for (i = 0; i < sizeof(flag_names) / sizeof(flag_names[0]); i++)
		if (strcmp(name, flag_names[i].name) == 0) {
			*v = 1;
			return (sa->flags & flag_names[i].flag) != 0;
		}
	if (strcmp(name, "html") == 0)
		*v = 1;
	else if (strcmp(name, "length") == 0)
		*v = (double)sa->length;
	else if (strcmp(name, "max_size") == 0)
		*v = sa->max_size;
	else if (strcmp(name, "min_size") == 0)
		*v = sa->min_size;
	else if (strcmp(name, "image_area") == 0)
		*v = (double)sa->image_area;
	else if (strcmp(name, "html_length") == 0)
		*v = (double)sa->html_length;
	else if (strcmp(name, "non_space_len") == 0)
		*v = (double)sa->non_space_len;
	else if (strcmp(name, "closed_extra_ratio") == 0)
		return ratio(sa->tags > 0, sa->closed_extra, sa->tags, v);
	else if (strcmp(name, "bad_tag_ratio") == 0)
		return ratio(sa->elements > 0, sa->tags - sa->elements,
		    sa->tags, v);
	else if (strcmp(name, "non_element_ratio") == 0)
		return ratio(sa->elements_seen > 0,
		    sa->tags_seen - sa->elements_seen, sa->tags_seen, v);
	else if (strcmp(name, "obfuscation_ratio") == 0)
		return ratio(sa->obfuscation > 0, sa->obfuscation, sa->tags,
		    v);
	else if (strcmp(name, "backhair_count") == 0) {
		*v = popcount64(sa->backhair);
		return sa->backhair != 0;
	} else
		return false;
	return true;
}

bool
html_sa_inside(const struct html_sa *sa, const char *tag, uint32_t *count)
{
	size_t i;

	for (i = 0; i < sa->ninside; i++)
		if (strcmp(sa->inside[i].name, tag) == 0) {
			*count = sa->inside[i].count;
			return true;
		}
	return false;
}

const struct html_sa_strings *
html_sa_strings(const struct html_sa *sa, const char *name)
{
	if (strcmp(name, "comment") == 0)
		return &sa->comment;
	if (strcmp(name, "title") == 0)
		return &sa->title;
	if (strcmp(name, "anchor") == 0)
		return &sa->anchor;
	return NULL;
}
