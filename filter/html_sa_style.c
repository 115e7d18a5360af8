/*
 * html_sa_style.c - colours, CSS declarations and font faces as
 *		     SpamAssassin's HTML parser reads them
 *
 * DESCRIPTION
 *	SpamAssassin keeps a colour as text: "#rrggbb", "invalid", or the
 *	odd "#" of an empty hex value.  html_sa_color() gives the same
 *	value as a number (HSA_COLOR_*), with the same leniency: a hex
 *	value is cut or padded to three or six digits, rgb() takes
 *	decimal or percent components, a bare "ffffff" is invalid.
 *	html_sa_css() applies one style attribute to a style entry:
 *	color, background-color, the colour of the last layer of a
 *	background shorthand, display and visibility.
 *	html_sa_face_bad() is SpamAssassin's test of a <font face> list.
 *
 * SECURITY
 *	Untrusted input; values are copied into bounded buffers.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "html_sa_int.h"
#include "str.h"

/* the CSS named colours (W3C CSS Color Module, "extended" keywords) */
static const struct {
	const char *name;
	int32_t rgb;
} named[] = {
{ "aliceblue", 0xf0f8ff }, { "antiquewhite", 0xfaebd7 }, { "aqua", 0x00ffff },
{ "aquamarine", 0x7fffd4 }, { "azure", 0xf0ffff }, { "beige", 0xf5f5dc },
{ "bisque", 0xffe4c4 }, { "black", 0x000000 }, { "blanchedalmond", 0xffebcd },
{ "blue", 0x0000ff }, { "blueviolet", 0x8a2be2 }, { "brown", 0xa52a2a },
{ "burlywood", 0xdeb887 }, { "cadetblue", 0x5f9ea0 }, { "chartreuse", 0x7fff00 },
{ "chocolate", 0xd2691e }, { "coral", 0xff7f50 }, { "cornflowerblue", 0x6495ed },
{ "cornsilk", 0xfff8dc }, { "crimson", 0xdc143c }, { "cyan", 0x00ffff },
{ "darkblue", 0x00008b }, { "darkcyan", 0x008b8b }, { "darkgoldenrod", 0xb8860b },
{ "darkgray", 0xa9a9a9 }, { "darkgreen", 0x006400 }, { "darkgrey", 0xa9a9a9 },
{ "darkkhaki", 0xbdb76b }, { "darkmagenta", 0x8b008b }, { "darkolivegreen", 0x556b2f },
{ "darkorange", 0xff8c00 }, { "darkorchid", 0x9932cc }, { "darkred", 0x8b0000 },
{ "darksalmon", 0xe9967a }, { "darkseagreen", 0x8fbc8f }, { "darkslateblue", 0x483d8b },
{ "darkslategray", 0x2f4f4f }, { "darkslategrey", 0x2f4f4f }, { "darkturquoise", 0x00ced1 },
{ "darkviolet", 0x9400d3 }, { "deeppink", 0xff1493 }, { "deepskyblue", 0x00bfff },
{ "dimgray", 0x696969 }, { "dimgrey", 0x696969 }, { "dodgerblue", 0x1e90ff },
{ "firebrick", 0xb22222 }, { "floralwhite", 0xfffaf0 }, { "forestgreen", 0x228b22 },
{ "fuchsia", 0xff00ff }, { "gainsboro", 0xdcdcdc }, { "ghostwhite", 0xf8f8ff },
{ "gold", 0xffd700 }, { "goldenrod", 0xdaa520 }, { "gray", 0x808080 },
{ "green", 0x008000 }, { "greenyellow", 0xadff2f }, { "grey", 0x808080 },
{ "honeydew", 0xf0fff0 }, { "hotpink", 0xff69b4 }, { "indianred", 0xcd5c5c },
{ "indigo", 0x4b0082 }, { "ivory", 0xfffff0 }, { "khaki", 0xf0e68c },
{ "lavender", 0xe6e6fa }, { "lavenderblush", 0xfff0f5 }, { "lawngreen", 0x7cfc00 },
{ "lemonchiffon", 0xfffacd }, { "lightblue", 0xadd8e6 }, { "lightcoral", 0xf08080 },
{ "lightcyan", 0xe0ffff }, { "lightgoldenrodyellow", 0xfafad2 }, { "lightgray", 0xd3d3d3 },
{ "lightgreen", 0x90ee90 }, { "lightgrey", 0xd3d3d3 }, { "lightpink", 0xffb6c1 },
{ "lightsalmon", 0xffa07a }, { "lightseagreen", 0x20b2aa }, { "lightskyblue", 0x87cefa },
{ "lightslategray", 0x778899 }, { "lightslategrey", 0x778899 }, { "lightsteelblue", 0xb0c4de },
{ "lightyellow", 0xffffe0 }, { "lime", 0x00ff00 }, { "limegreen", 0x32cd32 },
{ "linen", 0xfaf0e6 }, { "magenta", 0xff00ff }, { "maroon", 0x800000 },
{ "mediumaquamarine", 0x66cdaa }, { "mediumblue", 0x0000cd }, { "mediumorchid", 0xba55d3 },
{ "mediumpurple", 0x9370db }, { "mediumseagreen", 0x3cb371 }, { "mediumslateblue", 0x7b68ee },
{ "mediumspringgreen", 0x00fa9a }, { "mediumturquoise", 0x48d1cc }, { "mediumvioletred", 0xc71585 },
{ "midnightblue", 0x191970 }, { "mintcream", 0xf5fffa }, { "mistyrose", 0xffe4e1 },
{ "moccasin", 0xffe4b5 }, { "navajowhite", 0xffdead }, { "navy", 0x000080 },
{ "oldlace", 0xfdf5e6 }, { "olive", 0x808000 }, { "olivedrab", 0x6b8e23 },
{ "orange", 0xffa500 }, { "orangered", 0xff4500 }, { "orchid", 0xda70d6 },
{ "palegoldenrod", 0xeee8aa }, { "palegreen", 0x98fb98 }, { "paleturquoise", 0xafeeee },
{ "palevioletred", 0xdb7093 }, { "papayawhip", 0xffefd5 }, { "peachpuff", 0xffdab9 },
{ "peru", 0xcd853f }, { "pink", 0xffc0cb }, { "plum", 0xdda0dd },
{ "powderblue", 0xb0e0e6 }, { "purple", 0x800080 }, { "red", 0xff0000 },
{ "rosybrown", 0xbc8f8f }, { "royalblue", 0x4169e1 }, { "saddlebrown", 0x8b4513 },
{ "salmon", 0xfa8072 }, { "sandybrown", 0xf4a460 }, { "seagreen", 0x2e8b57 },
{ "seashell", 0xfff5ee }, { "sienna", 0xa0522d }, { "silver", 0xc0c0c0 },
{ "skyblue", 0x87ceeb }, { "slateblue", 0x6a5acd }, { "slategray", 0x708090 },
{ "slategrey", 0x708090 }, { "snow", 0xfffafa }, { "springgreen", 0x00ff7f },
{ "steelblue", 0x4682b4 }, { "tan", 0xd2b48c }, { "teal", 0x008080 },
{ "thistle", 0xd8bfd8 }, { "tomato", 0xff6347 }, { "turquoise", 0x40e0d0 },
{ "violet", 0xee82ee }, { "wheat", 0xf5deb3 }, { "white", 0xffffff },
{ "whitesmoke", 0xf5f5f5 }, { "yellow", 0xffff00 }, { "yellowgreen", 0x9acd32 },
};

#define NNAMED	(sizeof(named) / sizeof(named[0]))
#define COLOR_MAX	128

static int
named_cmp(const void *k, const void *e)
{
	return strcmp(k, *(const char *const *)e);
}

/* copy_lower - s[0..n) trimmed and lower-cased into out (cut) */
static void
copy_lower(const char *s, size_t n, char *out, size_t outsz)
{
	size_t k = 0;

	while (n && ch_is_space((unsigned char)*s)) {
		s++;
		n--;
	}
	while (n && ch_is_space((unsigned char)s[n - 1]))
		n--;
	for (; n && k + 1 < outsz; n--)
		out[k++] = (char)ch_lower((unsigned char)*s++);
	out[k] = '\0';
}

/*
 * rgb_call - "rgb(N%, N%, N%)" or "rgb(N, N, N)" anywhere in s, as the
 * hex digits SpamAssassin writes (a component over 255 gives three
 * digits); false if neither form is there.
 */
static bool
rgb_call(const char *s, char *hex, size_t hexsz)
{
	const char *p = s;
	unsigned long v[3];
	int k, i;
	bool pct;
	char *end;

	while ((p = strstr(p, "rgb(")) != NULL) {
		p += 4;
		for (pct = false; !pct; pct = true) {
			const char *q = p;

			for (i = 0; i < 3; i++) {
				if (!ch_is_digit((unsigned char)*q))
					break;
				v[i] = strtoul(q, &end, 10);
				q = end;
				if (pct && *q++ != '%')
					break;
				if (i < 2 && *q++ != ',')
					break;
				while (i < 2 && ch_is_space((unsigned char)*q))
					q++;
			}
			while (i == 3 && ch_is_space((unsigned char)*q))
				q++;
			if (i == 3 && *q == ')') {
				k = 0;
				hex[0] = '\0';
				for (i = 0; i < 3; i++) {
					unsigned long c = pct ?
					    (unsigned long)(v[i] / 100.0 * 255) :
					    v[i];

					if (c > 0xffffff)
						c = 0xffffff;
					k += snprintf(hex + k, hexsz - (size_t)k,
					    "%02lx", c);
					if ((size_t)k >= hexsz)
						return true;
				}
				return true;
			}
			if (pct)
				break;
		}
	}
	return false;
}

/* hex_value - SpamAssassin's normalisation of "#digits" */
static int32_t
hex_value(const char *s)
{
	char d[8];
	size_t n = 0;
	int32_t v = 0;
	size_t i;

	for (; *s && n < 6; s++)
		if (ch_is_xdigit((unsigned char)*s))
			d[n++] = *s;
	if (n > 3 && n < 6)
		n = 3;
	if (n == 0)
		return HSA_COLOR_HASH;
	while (n % 3)
		d[n++] = '0';
	for (i = 0; i < 6; i++)
		v = v * 16 + ch_xdigit_val((unsigned char)d[n == 3 ? i / 2 : i]);
	return v;
}

int32_t
html_sa_color(const char *s, size_t n)
{
	char c[COLOR_MAX], hex[16];
	const char *const *hit;
	const char *names[NNAMED];
	size_t i;

	copy_lower(s, n, c, sizeof(c));
	for (i = 0; i < NNAMED; i++)
		names[i] = named[i].name;
	hit = bsearch(c, names, NNAMED, sizeof(names[0]), named_cmp);
	if (hit)
		return named[hit - names].rgb;
	if (strspn(c, "#abcdef0123456789") != strlen(c)) {
		const char *r = strstr(c, "rgb(");

		if (r == NULL || strspn(r + 4, "0123456789%, ") !=
		    strcspn(r + 4, ")") || strchr(r + 4, ')') == NULL)
			return HSA_COLOR_INVALID;
	}
	if (rgb_call(c, hex + 1, sizeof(hex) - 1)) {
		hex[0] = '#';
		return hex_value(hex);
	}
	if (c[0] != '#')
		return HSA_COLOR_INVALID;
	return hex_value(c);
}

/*
 * background_color - the first colour among the words of the last
 * comma-separated layer of a CSS background shorthand (parentheses and
 * quotes keep commas and spaces inside a word)
 */
static int32_t
background_color(const char *v)
{
	const char *layer = v, *p, *w;
	int depth = 0;
	char q = 0;
	int32_t col;

	for (p = v; *p; p++) {
		if (q) {
			if (*p == q)
				q = 0;
		} else if (*p == '"' || *p == '\'')
			q = *p;
		else if (*p == '(')
			depth++;
		else if (*p == ')' && depth)
			depth--;
		else if (*p == ',' && !depth)
			layer = p + 1;
	}
	for (p = layer; *p;) {
		while (*p == ' ')
			p++;
		w = p;
		for (depth = 0, q = 0; *p && (*p != ' ' || depth || q); p++) {
			if (q) {
				if (*p == q)
					q = 0;
			} else if (*p == '"' || *p == '\'')
				q = *p;
			else if (*p == '(')
				depth++;
			else if (*p == ')' && depth)
				depth--;
		}
		if (p > w && (col = html_sa_color(w, (size_t)(p - w))) !=
		    HSA_COLOR_INVALID)
			return col;
	}
	return HSA_COLOR_NONE;
}

/* declaration - one "name: value" of a style attribute */
static void
declaration(const char *d, size_t n, struct hsa_style *st)
{
	char val[COLOR_MAX * 2];
	const char *v;
	size_t nl, vl;
	int32_t col;
	bool bg;

	while (n && ch_is_space((unsigned char)*d)) {
		d++;
		n--;
	}
	while (n && ch_is_space((unsigned char)d[n - 1]))
		n--;
	bg = n > 17 && str_nieq(d, 17, "background-color:", 17);
	if (bg || (n > 6 && str_nieq(d, 6, "color:", 6))) {
		nl = bg ? 17 : 6;
		copy_lower(d + nl, n - nl, val, sizeof(val));
		vl = strlen(val);
		if (vl > 9 && strcmp(val + vl - 9, "important") == 0) {
			/* "\s*!\s*important" at the end */
			vl -= 9;
			while (vl && ch_is_space((unsigned char)val[vl - 1]))
				vl--;
			if (vl && val[vl - 1] == '!') {
				val[vl - 1] = '\0';
				copy_lower(val, strlen(val), val, sizeof(val));
			}
		}
		if (strcmp(val, "inherit") == 0)
			return;
		*(bg ? &st->bg : &st->fg) = strcmp(val, "transparent") == 0 ?
		    HSA_COLOR_TRANSPARENT : strstr(val, "rgb") ?
		    html_sa_color_rgb(val) : html_sa_color(val, strlen(val));
		return;
	}
	if (n > 11 && strncmp(d, "background:", 11) == 0) {
		copy_lower(d + 11, n - 11, val, sizeof(val));
		if (val[0] && (col = background_color(val)) != HSA_COLOR_NONE)
			st->bg = col;
		return;
	}
	for (nl = 0; nl < n && (ch_is_alpha((unsigned char)d[nl]) ||
	    d[nl] == '_' || d[nl] == '-'); nl++)
		;
	for (v = d + nl; v < d + n && ch_is_space((unsigned char)*v); v++)
		;
	if (nl == 0 || v >= d + n || *v != ':')
		return;
	copy_lower(v + 1, (size_t)(d + n - v - 1), val, sizeof(val));
	if (val[0] == '\0')
		return;
	if (nl == 7 && strncmp(d, "display", 7) == 0)
		st->display_none = strcmp(val, "none") == 0;
	else if (nl == 10 && strncmp(d, "visibility", 10) == 0)
		st->visibility_hidden = strcmp(val, "hidden") == 0;
}

int32_t
html_sa_color_rgb(const char *v)
{
	unsigned long c[3] = { 0, 0, 0 };
	int i = 0;
	const char *p;

	/* digits and commas only, as SpamAssassin strips the rest */
	for (p = v; *p && i < 3; p++) {
		if (ch_is_digit((unsigned char)*p)) {
			if (c[i] < 1000)
				c[i] = c[i] * 10 + (unsigned long)(*p - '0');
		} else if (*p == ',')
			i++;
	}
	for (i = 0; i < 3; i++)
		if (c[i] > 255)
			c[i] = 255;
	return (int32_t)(c[0] << 16 | c[1] << 8 | c[2]);
}

void
html_sa_css(const char *s, size_t n, const struct hsa_style *parent,
    struct hsa_style *st)
{
	const char *semi;

	while (n) {
		semi = memchr(s, ';', n);
		if (semi == NULL)
			semi = s + n;
		declaration(s, (size_t)(semi - s), st);
		if ((size_t)(semi - s) >= n)
			break;
		n -= (size_t)(semi - s) + 1;
		s = semi + 1;
	}
	if (st->bg == HSA_COLOR_TRANSPARENT)
		st->bg = parent->bg;
	if (st->fg == HSA_COLOR_TRANSPARENT)
		st->fg = st->bg;
}

/* face_name - [a-z][a-z -]*[a-z]: a name of two letters or more */
static size_t
face_name(const char *s, size_t n, bool space_first)
{
	size_t i, last = 0;

	if (n == 0 || !(ch_is_alpha((unsigned char)s[0]) ||
	    (space_first && s[0] == ' ')))
		return 0;
	for (i = 1; i < n && (ch_is_alpha((unsigned char)s[i]) ||
	    s[i] == ' ' || s[i] == '-'); i++)
		if (ch_is_alpha((unsigned char)s[i]))
			last = i;
	return last ? last + 1 : 0;
}

bool
html_sa_face_bad(const char *s, size_t n)
{
	size_t i = 0, k;
	bool first = true;

	if (n && s[n - 1] == '\n')
		n--;
	if (n && s[n - 1] == ';')
		n--;
	while (i < n && ch_is_space((unsigned char)s[i]))
		i++;
	for (;;) {
		if (i < n && (s[i] == '"' || s[i] == '\'' ||
		    (first && s[i] == '.')))
			i++;
		if ((k = face_name(s + i, n - i, first)) == 0)
			return true;
		i += k;
		if (i < n && ch_is_digit((unsigned char)s[i]))
			i++;
		if (i < n && (s[i] == '"' || s[i] == '\''))
			i++;
		if (i == n)
			return false;
		if (s[i] != ',')
			return true;
		i++;
		while (i < n && ch_is_space((unsigned char)s[i]))
			i++;
		first = false;
	}
}
