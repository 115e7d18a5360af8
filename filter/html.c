/*
 * html.c - render HTML mail bodies as text, note what is hidden
 *
 * DESCRIPTION
 *	A forward-only tokenizer in the spirit of the HTML 5 one, reduced to
 *	what a mail filter needs: text runs, start and end tags with their
 *	attributes, comments, and raw-text elements whose content is not
 *	shown (<script>, <style>, <title>, <template>).  An element stack
 *	carries visibility and colours down to the text; end tags close
 *	the nearest open element of that name, as browsers do for
 *	mis-nested inline markup.  See html.h.
 *
 * LIMITS
 *	Each byte is looked at a bounded number of times: searches for
 *	"-->", a quote or a raw-text end tag start at the current position
 *	and the position then moves past what they found (or to the end
 *	when nothing is found, which is also what a browser does).  Closing
 *	an element pops the stack, and per-tag counters of open elements
 *	make a stray end tag cost O(1), so a flood of "</b>" under a deep
 *	stack stays linear.
 *
 * SECURITY
 *	Untrusted input.  Attribute values are slices of the input until
 *	they are decoded into bounded buffers.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "html.h"
#include "mime.h"
#include "str.h"

#include "html_entities.h"

/* tag properties */
enum {
	TP_VOID		= 1 << 0,	/* no content, never pushed */
	TP_RAW		= 1 << 1,	/* content is not displayed */
	TP_PARA		= 1 << 2,	/* blank line before and after */
	TP_LINE		= 1 << 3,	/* line break before and after */
	TP_CELL		= 1 << 4	/* space before */
};

/* known tags, sorted for bsearch; id 0 means any other name */
static const struct tag_def {
	const char *name;
	unsigned props;
} tags[] = {
	{ "", 0 },
	{ "a", 0 }, { "address", TP_PARA }, { "area", TP_VOID },
	{ "article", TP_PARA }, { "aside", TP_PARA }, { "base", TP_VOID },
	{ "basefont", TP_VOID }, { "blockquote", TP_PARA },
	{ "body", TP_LINE }, { "br", TP_VOID }, { "caption", TP_LINE },
	{ "center", TP_PARA }, { "col", TP_VOID }, { "dd", TP_LINE },
	{ "div", TP_LINE }, { "dl", TP_PARA }, { "dt", TP_LINE },
	{ "embed", TP_VOID }, { "fieldset", TP_PARA }, { "font", 0 },
	{ "footer", TP_PARA }, { "form", TP_PARA }, { "frame", TP_VOID },
	{ "h1", TP_PARA }, { "h2", TP_PARA }, { "h3", TP_PARA },
	{ "h4", TP_PARA }, { "h5", TP_PARA }, { "h6", TP_PARA },
	{ "header", TP_PARA }, { "hr", TP_VOID | TP_PARA },
	{ "html", 0 }, { "iframe", TP_RAW }, { "img", TP_VOID },
	{ "input", TP_VOID }, { "keygen", TP_VOID }, { "li", TP_LINE },
	{ "link", TP_VOID }, { "main", TP_PARA }, { "meta", TP_VOID },
	{ "nav", TP_PARA }, { "noframes", TP_RAW }, { "ol", TP_PARA },
	{ "option", TP_LINE }, { "p", TP_PARA }, { "param", TP_VOID },
	{ "pre", TP_PARA }, { "script", TP_RAW }, { "section", TP_PARA },
	{ "source", TP_VOID }, { "span", 0 }, { "style", TP_RAW },
	{ "table", TP_PARA }, { "td", TP_CELL }, { "template", TP_RAW },
	{ "th", TP_CELL }, { "title", TP_RAW }, { "tr", TP_LINE },
	{ "track", TP_VOID }, { "ul", TP_PARA }, { "wbr", TP_VOID },
	{ "xml", TP_RAW },
};

#define NTAGS	(sizeof(tags) / sizeof(tags[0]))

#define COLOR_NONE	(-1)
#define COLOR_WHITE	0xffffff

struct elem {
	uint32_t hash;		/* of the lower-case name (unknown tags) */
	uint16_t tag;
	bool	 hidden;	/* text inside is not visible */
	bool	 sticky;	/* hidden by CSS: children cannot undo it */
	bool	 anchor;	/* this element is the open <a href> */
	int32_t	 fg, bg;
};

#define MAX_ATTRS	32

struct attr {
	const char *name;
	size_t	 name_len;
	const char *val;	/* raw slice, entities not decoded */
	size_t	 val_len;
	bool	 has_val;
};

struct tag {
	char	 name[32];	/* lower case, cut */
	uint32_t hash;		/* FNV-1a of the whole lower-case name */
	uint16_t id;
	bool	 complete;	/* ended with '>' (not at end of input) */
	struct attr attrs[MAX_ATTRS];
	size_t	 nattrs;
};

struct html_ctx {
	const char *p;
	size_t	 n, i;
	struct html_out *o;
	struct elem stack[HTML_MAX_STACK];
	size_t	 depth;
	uint32_t open[NTAGS];	/* open elements by tag id */
	int	 pending;	/* 0 none, 1 space, 2 line, 3 paragraph */
	int	 nlines;	/* br and div tags since the last visible text */
	int	 hpending;	/* same, for the invisible text */
	bool	 in_anchor;
	bool	 anchor_ws;	/* white space since the last anchor char */
	struct tag tag;		/* the tag being parsed */
	struct buf href;
	struct buf anchor;
	struct buf tmp;
	unsigned flags;
	bool	 full;		/* max_text reached */
};

/* ------------------------------------------------------------------ */
/* character references                                                */
/* ------------------------------------------------------------------ */

static int
entity_cmp(const void *k, const void *e)
{
	return strcmp(k, ((const struct html_entity_def *)e)->name);
}

static const uint16_t c1_map[32] = {	/* HTML 5: &#128; etc. as 1252 */
	0x20ac, 0x81, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021,
	0x02c6, 0x2030, 0x0160, 0x2039, 0x0152, 0x8d, 0x017d, 0x8f,
	0x90, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014,
	0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0x9d, 0x017e, 0x0178
};

static size_t
numeric_ref(const char *p, size_t n, struct buf *out)
{
	size_t i = 2, digits = 0;
	uint32_t cp = 0;
	bool hex = false;
	int d;

	if (i < n && (p[i] == 'x' || p[i] == 'X')) {
		hex = true;
		i++;
	}
	for (; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		if (ch_is_digit(c))
			d = c - '0';
		else if (hex && ch_is_xdigit(c))
			d = ch_lower(c) - 'a' + 10;
		else
			break;
		if (cp < 0x110000)
			cp = cp * (hex ? 16 : 10) + (uint32_t)d;
		digits++;
	}
	if (digits == 0)
		return 0;
	if (i < n && p[i] == ';')
		i++;
	if (cp == 0 || cp >= 0x110000)
		cp = 0xfffd;
	else if (cp >= 0x80 && cp < 0xa0)
		cp = c1_map[cp - 0x80];
	mime_utf8_put(out, cp);
	return i;
}

/*
 * entity - decode the reference at p ('&'); in attributes a legacy
 * reference without ';' followed by [A-Za-z0-9=] stays literal (HTML 5
 * 13.2.5.73), so "?a=1&copy=2" survives in URLs.
 */
static size_t
entity(const char *p, size_t n, struct buf *out, bool in_attr)
{
	char name[16];
	const struct html_entity_def *e;
	size_t i = 1, len;

	if (n < 3)
		return 0;
	if (p[1] == '#')
		return numeric_ref(p, n, out);
	while (i < n && i - 1 < sizeof(name) - 1 &&
	    ch_is_alnum((unsigned char)p[i]))
		i++;
	len = i - 1;
	if (len == 0 || len >= sizeof(name))
		return 0;
	memcpy(name, p + 1, len);
	name[len] = '\0';
	e = bsearch(name, html_entities, sizeof(html_entities) /
	    sizeof(html_entities[0]), sizeof(html_entities[0]), entity_cmp);
	if (e == NULL)
		return 0;
	if (i < n && p[i] == ';')
		i++;
	else if (e->cp > 0xff || (in_attr && i < n &&
	    (ch_is_alnum((unsigned char)p[i]) || p[i] == '=')))
		return 0;
	mime_utf8_put(out, e->cp);
	return i;
}

size_t
html_entity(const char *p, size_t n, struct buf *out)
{
	return entity(p, n, out, false);
}

/* decode_attr - attribute value with references decoded, trimmed */
static void
decode_attr(const struct attr *a, struct buf *out)
{
	size_t i = 0, k;

	buf_reset(out);
	while (i < a->val_len) {
		if (a->val[i] == '&' &&
		    (k = entity(a->val + i, a->val_len - i, out, true)) > 0) {
			i += k;
			continue;
		}
		if (a->val[i] != '\r' && a->val[i] != '\n' && a->val[i] != '\t')
			buf_addc(out, a->val[i]);
		i++;
	}
}

/* ------------------------------------------------------------------ */
/* text output                                                         */
/* ------------------------------------------------------------------ */

static const struct elem *
top(const struct html_ctx *c)
{
	static const struct elem root = { 0, 0, false, false, false,
	    COLOR_NONE, COLOR_NONE };

	return c->depth ? &c->stack[c->depth - 1] : &root;
}

static bool
room(struct html_ctx *c, size_t n)
{
	if (c->full)
		return false;
	if (c->o->text->len + c->o->invisible->len + n > c->o->max_text) {
		c->full = true;
		c->flags |= MIME_F_TEXT_CAP;
		return false;
	}
	return true;
}

/* put - one decoded piece of text (UTF-8) into the current target */
static void
put(struct html_ctx *c, const char *s, size_t n)
{
	bool hidden = top(c)->hidden;
	struct buf *t = hidden ? c->o->invisible : c->o->text;
	int *pend = hidden ? &c->hpending : &c->pending;
	size_t i;

	if (!room(c, n + 2))
		return;
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' ||
		    ch == '\f') {
			if (*pend < 1)
				*pend = 1;
			c->anchor_ws = true;
			continue;
		}
		if (*pend && t->len) {
			if (*pend == 1 || hidden)
				buf_addc(t, ' ');
			else if (*pend == 2)
				buf_addc(t, '\n');
			else
				buf_add(t, "\n\n", 2);
		}
		*pend = 0;
		if (!hidden)
			c->nlines = 0;
		buf_addc(t, (char)ch);
		if ((ch & 0xc0) != 0x80) {
			if (hidden) {
				c->o->stats->invisible_chars++;
				c->flags |= MIME_F_HTML_INVISIBLE;
			} else
				c->o->stats->visible_chars++;
		}
		if (c->in_anchor && !hidden && c->anchor.len < HTML_MAX_ANCHOR) {
			if (c->anchor_ws && c->anchor.len)
				buf_addc(&c->anchor, ' ');
			buf_addc(&c->anchor, (char)ch);
		}
		c->anchor_ws = false;
	}
}

/* brk - request a break of at least level before the next visible text */
static void
brk(struct html_ctx *c, int level)
{
	if (c->pending < level)
		c->pending = level;
	if (c->hpending < 1)
		c->hpending = 1;
	c->anchor_ws = true;
}

/* text - a run of character data [a, b): references decoded */
static void
text(struct html_ctx *c, size_t a, size_t b)
{
	const char *amp;
	size_t k;

	while (a < b && !c->full) {
		amp = memchr(c->p + a, '&', b - a);
		if (amp == NULL) {
			put(c, c->p + a, b - a);
			return;
		}
		put(c, c->p + a, (size_t)(amp - (c->p + a)));
		a = (size_t)(amp - c->p);
		buf_reset(&c->tmp);
		if ((k = entity(c->p + a, b - a, &c->tmp, false)) > 0) {
			/* &nbsp; is white space to a reader */
			if (c->tmp.len == 2 && (unsigned char)c->tmp.data[0] ==
			    0xc2 && (unsigned char)c->tmp.data[1] == 0xa0)
				put(c, " ", 1);
			else
				put(c, c->tmp.data, c->tmp.len);
			a += k;
		} else {
			put(c, "&", 1);
			a++;
		}
	}
}

/* ------------------------------------------------------------------ */
/* colours and CSS                                                     */
/* ------------------------------------------------------------------ */

static const struct {
	const char *name;
	int32_t rgb;
} color_names[] = {
	{ "aqua", 0x00ffff }, { "black", 0x000000 }, { "blue", 0x0000ff },
	{ "cyan", 0x00ffff }, { "floralwhite", 0xfffaf0 },
	{ "fuchsia", 0xff00ff }, { "ghostwhite", 0xf8f8ff },
	{ "gray", 0x808080 }, { "green", 0x008000 }, { "grey", 0x808080 },
	{ "ivory", 0xfffff0 }, { "lime", 0x00ff00 }, { "magenta", 0xff00ff },
	{ "maroon", 0x800000 }, { "navy", 0x000080 }, { "olive", 0x808000 },
	{ "orange", 0xffa500 }, { "purple", 0x800080 }, { "red", 0xff0000 },
	{ "silver", 0xc0c0c0 }, { "snow", 0xfffafa }, { "teal", 0x008080 },
	{ "white", 0xffffff }, { "whitesmoke", 0xf5f5f5 },
	{ "yellow", 0xffff00 },
};

/* parse_color - CSS/HTML colour in s (lower case, trimmed) or COLOR_NONE */
static int32_t
parse_color(const char *s)
{
	char buf[64];
	size_t n, i, k = 0;
	int32_t v = 0;
	unsigned r, g, b;

	for (i = 0; s[i] && k + 1 < sizeof(buf); i++)
		if (!ch_is_space((unsigned char)s[i]))
			buf[k++] = s[i];
	buf[k] = '\0';
	s = buf;
	if (*s == '#')
		s++;
	n = strlen(s);
	if (n == 6 || n == 3) {
		for (i = 0; i < n && ch_xdigit_val((unsigned char)s[i]) >= 0; i++)
			v = v * 16 + ch_xdigit_val((unsigned char)s[i]);
		if (i == n) {
			if (n == 3)
				v = ((v >> 8) & 0xf) * 0x110000 +
				    ((v >> 4) & 0xf) * 0x1100 + (v & 0xf) * 0x11;
			return v;
		}
	}
	if (sscanf(s, "rgb(%u,%u,%u", &r, &g, &b) == 3 ||
	    sscanf(s, "rgba(%u,%u,%u", &r, &g, &b) == 3)
		return (int32_t)((r > 255 ? 255 : r) << 16 |
		    (g > 255 ? 255 : g) << 8 | (b > 255 ? 255 : b));
	for (i = 0; i < sizeof(color_names) / sizeof(color_names[0]); i++)
		if (strcmp(s, color_names[i].name) == 0)
			return color_names[i].rgb;
	return COLOR_NONE;
}

static bool
colors_close(int32_t a, int32_t b)
{
	int d = abs(((a >> 16) & 0xff) - ((b >> 16) & 0xff)) +
	    abs(((a >> 8) & 0xff) - ((b >> 8) & 0xff)) +
	    abs((a & 0xff) - (b & 0xff));

	return d <= 24;
}

/* tiny_font - a CSS font-size a reader cannot read */
static bool
tiny_font(const char *v)
{
	char *end;
	double x = strtod(v, &end);

	if (end == v || x < 0)
		return false;
	if (x == 0)
		return true;
	if (strncmp(end, "px", 2) == 0)
		return x < 2;
	if (strncmp(end, "pt", 2) == 0)
		return x < 1.5;
	if (strncmp(end, "em", 2) == 0 || strncmp(end, "rem", 3) == 0 ||
	    strncmp(end, "ex", 2) == 0)
		return x < 0.15;
	if (*end == '%')
		return x < 15;
	return false;
}

/* css_value - trim, drop "!important", keep the first word only */
static void
css_value(char *v)
{
	char *a = v, *b;

	while (ch_is_space((unsigned char)*a))
		a++;
	if ((b = strchr(a, '!')) != NULL)
		*b = '\0';
	/* rgb(1, 2, 3) is one word */
	if (strncmp(a, "rgb", 3) == 0 && (b = strchr(a, ')')) != NULL)
		b[1] = '\0';
	else {
		for (b = a; *b && !ch_is_space((unsigned char)*b); b++)
			;
		*b = '\0';
	}
	memmove(v, a, strlen(a) + 1);
}

struct style {
	bool	 hide;
	int32_t	 fg, bg;
};

/* css - the declarations of a style attribute that matter here */
static void
css(const char *s, size_t n, struct style *st)
{
	char name[32], val[64];
	size_t i = 0, k;
	bool height0 = false, overflow_hidden = false;

	while (i < n) {
		k = 0;
		while (i < n && s[i] != ':' && s[i] != ';') {
			if (!ch_is_space((unsigned char)s[i]) &&
			    k + 1 < sizeof(name))
				name[k++] = (char)ch_lower((unsigned char)s[i]);
			i++;
		}
		name[k] = '\0';
		if (i >= n || s[i] == ';') {
			i++;
			continue;
		}
		i++;
		k = 0;
		while (i < n && s[i] != ';') {
			if (k + 1 < sizeof(val))
				val[k++] = (char)ch_lower((unsigned char)s[i]);
			i++;
		}
		val[k] = '\0';
		css_value(val);
		if (strcmp(name, "display") == 0 && strcmp(val, "none") == 0)
			st->hide = true;
		else if (strcmp(name, "visibility") == 0 &&
		    (strcmp(val, "hidden") == 0 || strcmp(val, "collapse") == 0))
			st->hide = true;
		else if (strcmp(name, "opacity") == 0 && strtod(val, NULL) < 0.1)
			st->hide = true;
		else if (strcmp(name, "font-size") == 0 && tiny_font(val))
			st->hide = true;
		else if (strcmp(name, "max-height") == 0 && strtod(val, NULL) == 0
		    && ch_is_digit((unsigned char)val[0]))
			st->hide = true;
		else if (strcmp(name, "height") == 0 && strtod(val, NULL) == 0 &&
		    ch_is_digit((unsigned char)val[0]))
			height0 = true;
		else if (strcmp(name, "overflow") == 0 &&
		    strcmp(val, "hidden") == 0)
			overflow_hidden = true;
		else if (strcmp(name, "color") == 0)
			st->fg = parse_color(val);
		else if (strcmp(name, "background-color") == 0 ||
		    strcmp(name, "background") == 0)
			st->bg = parse_color(val);
	}
	if (height0 && overflow_hidden)
		st->hide = true;
}

/* ------------------------------------------------------------------ */
/* tags                                                                */
/* ------------------------------------------------------------------ */

static int
tag_cmp(const void *k, const void *e)
{
	return strcmp(k, ((const struct tag_def *)e)->name);
}

/* tag_lookup - id of a lower-case name; 0 if unknown */
static uint16_t
tag_lookup(const char *name)
{
	const struct tag_def *t;

	t = bsearch(name, tags + 1, NTAGS - 1, sizeof(tags[0]), tag_cmp);
	return t ? (uint16_t)(t - tags) : 0;
}

static bool
is_html_space(int ch)
{
	return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' ||
	    ch == '\f';
}

/*
 * parse_tag - name and attributes from i (just past "<" or "</");
 * returns the position after '>' (or n).  A quoted value that never
 * closes runs to the end of the input, as in a browser.
 */
static size_t
parse_tag(const char *p, size_t n, size_t i, struct tag *t)
{
	size_t k = 0, q;
	struct attr *a;

	t->hash = 2166136261u;
	t->nattrs = 0;
	t->complete = false;
	while (i < n && !is_html_space((unsigned char)p[i]) && p[i] != '/' &&
	    p[i] != '>') {
		int ch = ch_lower((unsigned char)p[i]);

		if (k + 1 < sizeof(t->name))
			t->name[k++] = (char)ch;
		t->hash = (t->hash ^ (uint32_t)ch) * 16777619u;
		i++;
	}
	t->name[k] = '\0';
	t->id = tag_lookup(t->name);
	for (;;) {
		while (i < n && (is_html_space((unsigned char)p[i]) ||
		    p[i] == '/'))
			i++;
		if (i >= n)
			return n;
		if (p[i] == '>') {
			t->complete = true;
			return i + 1;
		}
		a = t->nattrs < MAX_ATTRS ? &t->attrs[t->nattrs] : NULL;
		q = i;
		/* a name: up to space, '/', '>' or '=' (not as first char) */
		do
			i++;
		while (i < n && !is_html_space((unsigned char)p[i]) &&
		    p[i] != '/' && p[i] != '>' && p[i] != '=');
		if (a) {
			a->name = p + q;
			a->name_len = i - q;
			a->has_val = false;
			a->val = NULL;
			a->val_len = 0;
			t->nattrs++;
		}
		while (i < n && is_html_space((unsigned char)p[i]))
			i++;
		if (i >= n || p[i] != '=')
			continue;
		i++;
		while (i < n && is_html_space((unsigned char)p[i]))
			i++;
		if (i >= n)
			return n;
		if (p[i] == '"' || p[i] == '\'') {
			const char *e = memchr(p + i + 1, p[i], n - i - 1);

			q = i + 1;
			i = e ? (size_t)(e - p) : n;
			if (a) {
				a->val = p + q;
				a->val_len = i - q;
				a->has_val = true;
			}
			if (i < n)
				i++;
			continue;
		}
		q = i;
		while (i < n && !is_html_space((unsigned char)p[i]) &&
		    p[i] != '>')
			i++;
		if (a) {
			a->val = p + q;
			a->val_len = i - q;
			a->has_val = true;
		}
	}
}

static bool
attr_is(const struct attr *a, const char *name)
{
	return str_nieq(a->name, a->name_len, name, strlen(name));
}

static void
emit_uri(struct html_ctx *c, const struct attr *a, enum mime_uri_src src)
{
	if (!a->has_val || c->o->uri == NULL)
		return;
	decode_attr(a, &c->tmp);
	if (c->tmp.len)
		c->o->uri(c->o->arg, c->tmp.data, c->tmp.len, src, NULL, 0);
}

static void
finish_anchor(struct html_ctx *c)
{
	size_t n = c->anchor.len;

	if (!c->in_anchor)
		return;
	c->in_anchor = false;
	if (n > HTML_MAX_ANCHOR) {
		/* cut at a character boundary */
		n = HTML_MAX_ANCHOR;
		while (n > 0 && ((unsigned char)c->anchor.data[n] & 0xc0) ==
		    0x80)
			n--;
	}
	while (n && c->anchor.data[n - 1] == ' ')
		n--;
	if (c->href.len && c->o->uri)
		c->o->uri(c->o->arg, c->href.data, c->href.len, MIME_URI_HREF,
		    n ? c->anchor.data : NULL, n);
	buf_reset(&c->href);
	buf_reset(&c->anchor);
}

static uint64_t
dimension(const struct attr *a)
{
	uint64_t v = 0;
	size_t i;

	for (i = 0; i < a->val_len && ch_is_digit((unsigned char)a->val[i]);
	    i++)
		if (v < 100000)
			v = v * 10 + (uint64_t)(a->val[i] - '0');
	return v > 100000 ? 100000 : v;
}

/*
 * apply_attrs - state of a new element from its attributes; URIs out.
 * Returns true if it is an <a> with an href (a link starts).
 */
static bool
apply_attrs(struct html_ctx *c, const struct tag *t, struct elem *e)
{
	struct style st = { false, COLOR_NONE, COLOR_NONE };
	const struct attr *a;
	const char *nm = t->name;
	uint64_t w = 0, h = 0;
	bool link = false, colored = false;
	size_t i;

	for (i = 0; i < t->nattrs; i++) {
		a = &t->attrs[i];
		if (attr_is(a, "style") && a->has_val) {
			decode_attr(a, &c->tmp);
			css(buf_cstr(&c->tmp), c->tmp.len, &st);
		} else if (attr_is(a, "hidden")) {
			st.hide = true;
		} else if (attr_is(a, "color") && a->has_val) {
			decode_attr(a, &c->tmp);
			str_lower(c->tmp.data ? c->tmp.data : (char *)"");
			st.fg = c->tmp.len ? parse_color(c->tmp.data) :
			    COLOR_NONE;
		} else if (attr_is(a, "bgcolor") && a->has_val) {
			decode_attr(a, &c->tmp);
			str_lower(c->tmp.data ? c->tmp.data : (char *)"");
			st.bg = c->tmp.len ? parse_color(c->tmp.data) :
			    COLOR_NONE;
		} else if (attr_is(a, "href")) {
			if (strcmp(nm, "a") == 0 && a->has_val) {
				decode_attr(a, &c->href);
				link = c->href.len > 0;
			} else
				emit_uri(c, a, strcmp(nm, "area") == 0 ?
				    MIME_URI_HREF : MIME_URI_OTHER);
		} else if (attr_is(a, "src")) {
			emit_uri(c, a, MIME_URI_SRC);
		} else if (attr_is(a, "action") || attr_is(a, "formaction")) {
			emit_uri(c, a, MIME_URI_FORM);
		} else if (attr_is(a, "background") || attr_is(a, "data") ||
		    attr_is(a, "poster") || attr_is(a, "longdesc")) {
			emit_uri(c, a, MIME_URI_OTHER);
		} else if (attr_is(a, "width")) {
			w = dimension(a);
		} else if (attr_is(a, "height")) {
			h = dimension(a);
		}
	}
	if (strcmp(nm, "img") == 0) {
		c->o->stats->images++;
		c->o->stats->image_area += w * h;
	}
	if (st.fg != COLOR_NONE) {
		e->fg = st.fg;
		colored = true;
	}
	if (st.bg != COLOR_NONE) {
		e->bg = st.bg;
		colored = true;
	}
	if (st.hide)
		e->sticky = true;
	if (colored)
		e->hidden = e->sticky || colors_close(
		    e->fg == COLOR_NONE ? 0 : e->fg,
		    e->bg == COLOR_NONE ? COLOR_WHITE : e->bg);
	else
		e->hidden = e->hidden || e->sticky;
	return link;
}

static void
push(struct html_ctx *c, const struct elem *e)
{
	if (c->depth >= HTML_MAX_STACK)
		return;
	c->stack[c->depth++] = *e;
	c->open[e->tag]++;
}

static void
pop(struct html_ctx *c)
{
	struct elem *e = &c->stack[--c->depth];

	c->open[e->tag]--;
	if (e->anchor)
		finish_anchor(c);
}

/* skip_raw - past the end tag of a raw-text element, or to the end */
static void
skip_raw(struct html_ctx *c, const char *name)
{
	size_t len = strlen(name), pos = c->i;
	const char *q;

	while (pos < c->n) {
		q = memchr(c->p + pos, '<', c->n - pos);
		if (q == NULL)
			break;
		pos = (size_t)(q - c->p);
		if (pos + 2 + len <= c->n && q[1] == '/' &&
		    strncasecmp(q + 2, name, len) == 0 &&
		    (pos + 2 + len == c->n ||
		    !ch_is_alnum((unsigned char)q[2 + len]))) {
			q = memchr(q, '>', c->n - pos);
			c->i = q ? (size_t)(q - c->p) + 1 : c->n;
			return;
		}
		pos++;
	}
	c->i = c->n;
}

static void
breaks(struct html_ctx *c, uint16_t id)
{
	unsigned props = tags[id].props;

	if (props & TP_PARA)
		brk(c, 3);
	else if (strcmp(tags[id].name, "br") == 0 ||
	    strcmp(tags[id].name, "div") == 0)
		/* each br, and each div start or end, is a line end, as
		   SpamAssassin renders them: two with no visible text
		   between leave an empty line, which ends a paragraph */
		brk(c, ++c->nlines >= 2 ? 3 : 2);
	else if (props & TP_LINE)
		brk(c, 2);
	else if (props & TP_CELL)
		brk(c, 1);
}

static void close_tag(struct html_ctx *, uint16_t);

static void
start_tag(struct html_ctx *c)
{
	struct tag *t = &c->tag;
	struct elem e;
	unsigned props;
	bool link;

	c->i = parse_tag(c->p, c->n, c->i + 1, t);
	if (!t->complete)
		return;		/* EOF inside a tag: browsers drop it */
	props = tags[t->id].props;
	c->o->stats->tags++;
	if (strcmp(t->name, "a") == 0) {
		/* a new link closes an open one (HTML 5 "a" start tag) */
		close_tag(c, t->id);
		finish_anchor(c);
	}
	e = *top(c);
	e.tag = t->id;
	e.hash = t->hash;
	e.anchor = false;
	link = apply_attrs(c, t, &e);
	breaks(c, t->id);
	if (strcmp(t->name, "a") == 0) {
		c->o->stats->links += link;
		if (link) {
			c->in_anchor = true;
			c->anchor_ws = false;
			e.anchor = true;
		}
	} else if (strcmp(t->name, "form") == 0)
		c->o->stats->forms++;
	else if (strcmp(t->name, "script") == 0)
		c->o->stats->scripts++;
	if (props & TP_RAW) {
		skip_raw(c, t->name);
		return;
	}
	if (!(props & TP_VOID))
		push(c, &e);
}

/* close_tag - pop through the innermost open element with known id */
static void
close_tag(struct html_ctx *c, uint16_t id)
{
	if (c->open[id] == 0)
		return;
	while (c->depth && c->stack[c->depth - 1].tag != id)
		pop(c);
	if (c->depth)
		pop(c);
}

#define UNKNOWN_SEARCH	64

static void
end_tag(struct html_ctx *c)
{
	struct tag *t = &c->tag;
	size_t k;

	c->i = parse_tag(c->p, c->n, c->i + 2, t);
	breaks(c, t->id);
	if (tags[t->id].props & TP_VOID)
		return;
	if (t->id != 0) {
		if (c->open[t->id] == 0 && strcmp(t->name, "a") == 0)
			finish_anchor(c);
		close_tag(c, t->id);
		return;
	}
	for (k = c->depth; k > 0 && c->depth - k < UNKNOWN_SEARCH; k--)
		if (c->stack[k - 1].tag == 0 && c->stack[k - 1].hash == t->hash)
			break;
	if (k == 0 || c->depth - k >= UNKNOWN_SEARCH)
		return;
	while (c->depth >= k)
		pop(c);
}

/* markup - at '<': a tag, a comment, a declaration or a literal '<' */
static void
markup(struct html_ctx *c)
{
	const char *p = c->p, *q;
	size_t i = c->i, n = c->n;

	if (i + 1 >= n) {
		put(c, "<", 1);
		c->i = n;
		return;
	}
	if (n - i >= 4 && memcmp(p + i, "<!--", 4) == 0) {
		q = memmem(p + i + 4, n - i - 4, "-->", 3);
		c->i = q ? (size_t)(q - p) + 3 : n;
		return;
	}
	if (p[i + 1] == '!' || p[i + 1] == '?' ||
	    (p[i + 1] == '/' && (i + 2 >= n ||
	    !ch_is_alpha((unsigned char)p[i + 2])))) {
		q = memchr(p + i, '>', n - i);
		c->i = q ? (size_t)(q - p) + 1 : n;
		return;
	}
	if (p[i + 1] == '/') {
		end_tag(c);
		return;
	}
	if (ch_is_alpha((unsigned char)p[i + 1])) {
		start_tag(c);
		return;
	}
	put(c, "<", 1);
	c->i++;
}

unsigned
html_to_text(const char *html, size_t len, struct html_out *o)
{
	struct html_ctx *c = xcalloc(1, sizeof(*c));
	const char *lt;
	size_t end;
	unsigned flags;

	c->p = html;
	c->n = len;
	c->o = o;
	while (c->i < c->n && !c->full) {
		lt = memchr(c->p + c->i, '<', c->n - c->i);
		end = lt ? (size_t)(lt - c->p) : c->n;
		text(c, c->i, end);
		c->i = end;
		if (lt && !c->full)
			markup(c);
	}
	finish_anchor(c);
	flags = c->flags;
	buf_release(&c->href);
	buf_release(&c->anchor);
	buf_release(&c->tmp);
	free(c);
	return flags;
}
