/*
 * check_mime.c - MIME decoding: building blocks, golden views, hostile input
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "files.h"
#include "helpers.h"
#include "html.h"
#include "mime.h"
#include "msgparse.h"
#include "uri.h"

/* ------------------------------------------------------------------ */
/* helpers                                                             */
/* ------------------------------------------------------------------ */

/* parse - a whole message text into a msg and its MIME view */
static struct mime_msg *
parse(const char *text, size_t len, size_t max_body,
    const struct mime_limits *lim, struct msg **mp)
{
	struct msg_limits ml = { max_body, 1 << 20, 1000, 100 };
	struct mime_limits def;
	struct msg *m = msg_new(&ml);

	msgparse_text(m, text, len);
	if (lim == NULL) {
		mime_limits_default(&def);
		lim = &def;
	}
	*mp = m;
	return mime_parse(m, lim);
}

static struct mime_msg *
parse_str(const char *text, struct msg **mp)
{
	return parse(text, strlen(text), 1 << 20, NULL, mp);
}

/* ------------------------------------------------------------------ */
/* transfer encodings                                                  */
/* ------------------------------------------------------------------ */

static const struct {
	const char *name, *in, *want;
	size_t want_len;
	bool bad;
} b64_cases[] = {
	{ "plain", "aGVsbG8gd29ybGQ=", "hello world", 11, false },
	{ "line breaks ignored", "aGVs\r\nbG8=\r\n", "hello", 5, false },
	{ "missing padding", "aGVsbG8", "hello", 5, false },
	{ "junk skipped and flagged", "aGV*sbG8=", "hello", 5, true },
	{ "concatenated padded blocks", "aGk=aGk=", "hihi", 4, false },
	{ "binary", "AP8A", "\0\377\0", 3, false },
	{ "truncated quantum", "aGVsbG8gd", "hello ", 6, true },
	{ "empty", "", "", 0, false },
};

START_TEST(test_mime_b64_decodes_cases)
{
	struct buf out = BUF_INIT;
	unsigned f = mime_b64_decode(b64_cases[_i].in,
	    strlen(b64_cases[_i].in), &out);

	ck_assert_msg(out.len == b64_cases[_i].want_len &&
	    memcmp(buf_cstr(&out), b64_cases[_i].want, out.len) == 0,
	    "%s: got '%s' (%zu)", b64_cases[_i].name, buf_cstr(&out), out.len);
	ck_assert_msg(!!(f & MIME_F_BAD_BASE64) == b64_cases[_i].bad,
	    "%s: flags %x", b64_cases[_i].name, f);
	ck_assert_uint_eq(mime_b64_size(b64_cases[_i].in,
	    strlen(b64_cases[_i].in)), out.len);
	buf_release(&out);
}
END_TEST

static const struct {
	const char *name, *in, *want;
	bool bad;
} qp_cases[] = {
	{ "escapes", "caf=E9 =3D =3d", "caf\xe9 = =", false },
	{ "soft break", "long=\r\nline\r\n", "longline\n", false },
	{ "soft break with padding", "a= \t\r\nb", "ab", false },
	{ "trailing white space dropped", "a  \r\nb", "a\nb", false },
	{ "bad escape kept", "100=%\r\n", "100=%\n", true },
	{ "escape cut at line end", "x=4\r\ny", "x=4\ny", true },
	{ "bare LF", "a\nb=\nc", "a\nbc", false },
};

START_TEST(test_mime_qp_decodes_cases)
{
	struct buf out = BUF_INIT;
	unsigned f = mime_qp_decode(qp_cases[_i].in, strlen(qp_cases[_i].in),
	    &out);

	ck_assert_msg(strcmp(buf_cstr(&out), qp_cases[_i].want) == 0,
	    "%s: got '%s'", qp_cases[_i].name, buf_cstr(&out));
	ck_assert_msg(!!(f & MIME_F_BAD_QP) == qp_cases[_i].bad,
	    "%s: flags %x", qp_cases[_i].name, f);
	buf_release(&out);
}
END_TEST

static const struct {
	const char *name, *charset, *in, *want;
	unsigned flags;
} utf8_cases[] = {
	{ "utf-8 valid", "utf-8", "caf\xc3\xa9", "caf\xc3\xa9", 0 },
	{ "utf-8 ill-formed", "UTF-8", "a\xff" "b", "a\xef\xbf\xbd" "b",
	  MIME_F_BAD_BYTES },
	{ "latin1 as 1252", "iso-8859-1", "\x80 caf\xe9",
	  "\xe2\x82\xac caf\xc3\xa9", 0 },
	{ "quoted label", "\"Windows-1252\"", "\x93x\x94",
	  "\xe2\x80\x9cx\xe2\x80\x9d", 0 },
	{ "koi8-r via iconv", "koi8-r", "\xf0\xd2", "\xd0\x9f\xd1\x80", 0 },
	{ "unknown, utf-8 bytes", "x-nonsense", "\xc3\xa9", "\xc3\xa9",
	  MIME_F_BAD_CHARSET },
	{ "unknown, 8-bit bytes", "x-nonsense", "\xe9", "\xc3\xa9",
	  MIME_F_BAD_CHARSET },
	{ "no charset, 8-bit", NULL, "\xe9t\xe9", "\xc3\xa9t\xc3\xa9", 0 },
	{ "us-ascii with 8-bit", "us-ascii", "\xe9", "\xc3\xa9", 0 },
	{ "translit suffix refused", "utf-8//TRANSLIT", "a", "a",
	  MIME_F_BAD_CHARSET },
	{ "korean alias", "ks_c_5601-1987", "\xc7\xd1", "\xed\x95\x9c", 0 },
	{ "shift_jis alias", "shift_jis", "\x82\xa0", "\xe3\x81\x82", 0 },
	{ "utf-16 with BOM", "utf-16", "\xff\xfe" "a\0", "a", 0 },
	{ "NUL becomes space", "utf-8", "a\0b", "a b", 0 },
	{ "gb2312 invalid byte", "gb2312", "\xb0\xa1\xff",
	  "\xe5\x95\x8a\xef\xbf\xbd", MIME_F_BAD_BYTES },
};

START_TEST(test_mime_to_utf8_converts_cases)
{
	struct buf out = BUF_INIT;
	size_t len = strlen(utf8_cases[_i].in);
	unsigned f;

	if (strcmp(utf8_cases[_i].name, "utf-16 with BOM") == 0)
		len = 4;
	if (strcmp(utf8_cases[_i].name, "NUL becomes space") == 0)
		len = 3;
	f = mime_to_utf8(utf8_cases[_i].charset, utf8_cases[_i].in, len, &out);
	ck_assert_msg(strcmp(buf_cstr(&out), utf8_cases[_i].want) == 0,
	    "%s: got '%s'", utf8_cases[_i].name, buf_cstr(&out));
	ck_assert_msg(f == utf8_cases[_i].flags, "%s: flags %x, want %x",
	    utf8_cases[_i].name, f, utf8_cases[_i].flags);
	buf_release(&out);
}
END_TEST

/* ------------------------------------------------------------------ */
/* RFC 2047 and parameters                                             */
/* ------------------------------------------------------------------ */

static const struct {
	const char *name, *in, *want;
	bool bad;
} ew_cases[] = {
	{ "rfc 2047 example: adjacent words joined",
	  "(=?ISO-8859-1?Q?a?= =?ISO-8859-1?Q?b?=)", "(ab)", false },
	{ "space between text and word kept",
	  "(=?ISO-8859-1?Q?a?= b)", "(a b)", false },
	{ "folded adjacent words",
	  "=?ISO-8859-1?Q?a?=\r\n  =?ISO-8859-1?Q?b?=", "ab", false },
	{ "underscore is space", "=?utf-8?q?a_b?=", "a b", false },
	{ "base64 utf-8", "=?UTF-8?B?4pyU?=", "\xe2\x9c\x94", false },
	{ "multibyte char split across words",
	  "=?utf-8?b?4pw=?= =?utf-8?b?lA==?=", "\xe2\x9c\x94", false },
	{ "language suffix", "=?utf-8*en?q?hi?=", "hi", false },
	{ "word inside a token", "foo=?utf-8?q?bar?=baz", "foobarbaz", false },
	{ "unterminated word literal", "=?utf-8?q?abc", "=?utf-8?q?abc",
	  false },
	{ "unknown charset flagged", "=?x-bogus?q?hi?=", "hi", true },
	{ "bad base64 flagged", "=?utf-8?b?!!!?=", "", true },
	{ "raw latin1 text", "caf\xe9", "caf\xc3\xa9", false },
	{ "trimmed", "  hello  ", "hello", false },
	{ "different charsets adjacent",
	  "=?iso-8859-1?q?=E9?= =?koi8-r?b?8A==?=", "\xc3\xa9\xd0\x9f",
	  false },
	{ "question marks chain", "=?=?=?=?=?=?", "=?=?=?=?=?=?", false },
};

START_TEST(test_mime_2047_decodes_cases)
{
	struct buf out = BUF_INIT;
	unsigned f = mime_2047_decode(ew_cases[_i].in, strlen(ew_cases[_i].in),
	    &out);

	ck_assert_msg(strcmp(buf_cstr(&out), ew_cases[_i].want) == 0,
	    "%s: got '%s'", ew_cases[_i].name, buf_cstr(&out));
	ck_assert_msg(!!(f & MIME_F_BAD_2047) == ew_cases[_i].bad,
	    "%s: flags %x", ew_cases[_i].name, f);
	buf_release(&out);
}
END_TEST

static const struct {
	const char *name, *value, *param, *want;
} param_cases[] = {
	{ "quoted", "text/plain; charset=\"utf-8\"", "charset", "utf-8" },
	{ "token, case-insensitive name", "text/plain; CharSet=koi8-r",
	  "charset", "koi8-r" },
	{ "comment skipped", "text/plain (x) ; (y) charset = us-ascii (z)",
	  "charset", "us-ascii" },
	{ "quoted with escapes", "a/b; name=\"a\\\"b;c\"", "name", "a\"b;c" },
	{ "rfc 2231 charset", "a/b; name*=utf-8''f%C3%BCr.pdf", "name",
	  "f\xc3\xbcr.pdf" },
	{ "rfc 2231 continuations", "a/b; name*1=\"two\"; name*0=\"one-\"",
	  "name", "one-two" },
	{ "rfc 2231 mixed continuation",
	  "a/b; name*0*=iso-8859-1'de'caf%E9; name*1=\" noir\"", "name",
	  "caf\xc3\xa9 noir" },
	{ "rfc 2047 in quoted value",
	  "attachment; filename=\"=?utf-8?B?w6kucGRm?=\"", "filename",
	  "\xc3\xa9.pdf" },
	{ "unquoted with spaces", "attachment; filename=my file.pdf",
	  "filename", "my file.pdf" },
	{ "absent", "text/plain", "charset", NULL },
	{ "boundary with specials", "multipart/mixed; boundary=\"==a:b?c==\"",
	  "boundary", "==a:b?c==" },
	{ "unterminated quote", "a/b; name=\"abc", "name", "abc" },
};

START_TEST(test_mime_param_extracts_cases)
{
	struct buf out = BUF_INIT;
	bool found = mime_param(param_cases[_i].value,
	    strlen(param_cases[_i].value), param_cases[_i].param, &out);

	if (param_cases[_i].want == NULL)
		ck_assert_msg(!found, "%s: found '%s'", param_cases[_i].name,
		    buf_cstr(&out));
	else
		ck_assert_msg(found && strcmp(buf_cstr(&out),
		    param_cases[_i].want) == 0, "%s: got '%s'",
		    param_cases[_i].name, buf_cstr(&out));
	buf_release(&out);
}
END_TEST

/* ------------------------------------------------------------------ */
/* HTML                                                                */
/* ------------------------------------------------------------------ */

struct uri_log {
	struct buf all;
};

static void
log_uri(void *arg, const char *u, size_t n, enum mime_uri_src src,
    const char *anchor, size_t alen)
{
	struct uri_log *l = arg;

	buf_printf(&l->all, "[%d %.*s", (int)src, (int)n, u);
	if (anchor)
		buf_printf(&l->all, " \"%.*s\"", (int)alen, anchor);
	buf_adds(&l->all, "]");
}

static const struct {
	const char *name, *html, *text, *invisible, *uris;
} html_cases[] = {
	{ "tags stripped, blocks broken", "<p>a<b>b</b></p><p>c<br>d</p>",
	  "ab\n\nc\nd", "", "" },
	{ "entities", "&lt;&amp;&gt; &quot;x&#39; &#x263a; &eacute &copy;2",
	  "<&> \"x' \xe2\x98\xba \xc3\xa9 \xc2\xa9" "2", "", "" },
	{ "unknown entity literal", "a &bogus; b & c", "a &bogus; b & c", "",
	  "" },
	{ "numeric c1 as 1252", "&#150;&#0;", "\xe2\x80\x93\xef\xbf\xbd", "",
	  "" },
	{ "white space collapsed", "  a \r\n\t b  ", "a b", "", "" },
	{ "nbsp is a space", "a&nbsp;&nbsp;b", "a b", "", "" },
	{ "script style title skipped",
	  "<title>T</title><style>x{}</style>a<script>if(a<b)x()</script>b",
	  "ab", "", "" },
	{ "unclosed script hides the rest", "a<script>b c d", "a", "", "" },
	{ "comment skipped", "a<!-- <p>x</p> -->b", "ab", "", "" },
	{ "unclosed comment runs to end", "a<!-- x", "a", "", "" },
	{ "display none", "a<div style=\"color:red; DISPLAY : none\">x "
	  "<b>y</b></div>b", "a\n\nb", "x y", "" },
	/* SpamAssassin's rendering: each br and each div start or end is
	   a line end; two with no visible text between, an empty line */
	{ "br br is a paragraph", "a<br>\n<br>b<br>c", "a\n\nb\nc", "", "" },
	{ "div after div", "<div>a</div><div>b</div>", "a\n\nb", "", "" },
	{ "visibility hidden", "<span style='visibility:hidden'>x</span>v",
	  "v", "x", "" },
	{ "hidden attribute", "<p hidden>x</p>v", "v", "x", "" },
	{ "tiny font", "<span style=\"font-size:1px\">x</span>"
	  "<span style=\"font-size:12px\">v</span>", "v", "x", "" },
	{ "white on white", "<body bgcolor=white><font color=\"#fefefe\">x"
	  "</font>v</body>", "v", "x", "" },
	{ "colour matches css background",
	  "<div style=\"background-color:#000\"><span style=\"color:rgb(0, "
	  "0, 8)\">x</span><span style=\"color:#fff\">v</span></div>", "v",
	  "x", "" },
	{ "visible colour inside hidden stays hidden",
	  "<div style=\"display:none\"><font color=red>x</font></div>", "",
	  "x", "" },
	{ "link with text", "<a href=\"http://a.example/x?a=1&amp;b=2\">"
	  "Click <b>here</b></a>", "Click here", "",
	  "[1 http://a.example/x?a=1&b=2 \"Click here\"]" },
	{ "legacy entity in attribute kept", "<a href='/x?a=1&copy=2'>t</a>",
	  "t", "", "[1 /x?a=1&copy=2 \"t\"]" },
	{ "attribute uris", "<img src=i.png><form action=\"http://f.example/"
	  "\"></form><td background=bg.gif>", "", "",
	  "[2 i.png][3 http://f.example/][4 bg.gif]" },
	{ "link never closed", "<a href=x>abc", "abc", "", "[1 x \"abc\"]" },
	{ "nested a closes first", "<a href=1>a<a href=2>b</a>", "ab", "",
	  "[1 1 \"a\"][1 2 \"b\"]" },
	{ "unquoted attribute with gt", "<a href=x>y</a >", "y", "",
	  "[1 x \"y\"]" },
	{ "unclosed quote swallows", "a<a href=\"x>b</a>", "a", "", "" },
	{ "stray lt", "1 < 2 <3 a<", "1 < 2 <3 a<", "", "" },
	{ "misnested inline", "<b><i>x</b>y</i>", "xy", "", "" },
	{ "end tag for unknown element", "<x-a>a</x-a>b</x-b>c", "abc", "",
	  "" },
	{ "images counted", "<img src=a width=10 height=20><img src=b>", "",
	  "", "[2 a][2 b]" },
};

START_TEST(test_html_renders_cases)
{
	struct buf text = BUF_INIT, inv = BUF_INIT;
	struct mime_html_stats st;
	struct uri_log l = { BUF_INIT };
	struct html_out o = { &text, &inv, &st, 1 << 20, log_uri, &l };

	memset(&st, 0, sizeof(st));
	(void)html_to_text(html_cases[_i].html, strlen(html_cases[_i].html),
	    &o);
	ck_assert_msg(strcmp(buf_cstr(&text), html_cases[_i].text) == 0,
	    "%s: text '%s'", html_cases[_i].name, buf_cstr(&text));
	ck_assert_msg(strcmp(buf_cstr(&inv), html_cases[_i].invisible) == 0,
	    "%s: invisible '%s'", html_cases[_i].name, buf_cstr(&inv));
	ck_assert_msg(strcmp(buf_cstr(&l.all), html_cases[_i].uris) == 0,
	    "%s: uris '%s'", html_cases[_i].name, buf_cstr(&l.all));
	buf_release(&text);
	buf_release(&inv);
	buf_release(&l.all);
}
END_TEST

START_TEST(test_html_stats_count_images_links_hidden)
{
	static const char h[] = "<body><a href=x><img src=a width=10 "
	    "height=20></a><img src=b width=3 height=3><form></form>"
	    "<script>1</script><p style=display:none>abc</p>de f</body>";
	struct buf text = BUF_INIT, inv = BUF_INIT;
	struct mime_html_stats st;
	struct html_out o = { &text, &inv, &st, 1 << 20, NULL, NULL };
	unsigned f;

	memset(&st, 0, sizeof(st));
	f = html_to_text(h, sizeof(h) - 1, &o);
	ck_assert_uint_eq(st.images, 2);
	ck_assert_uint_eq(st.links, 1);
	ck_assert_uint_eq(st.forms, 1);
	ck_assert_uint_eq(st.scripts, 1);
	ck_assert_uint_eq(st.image_area, 209);
	ck_assert_uint_eq(st.visible_chars, 3);
	ck_assert_uint_eq(st.invisible_chars, 3);
	ck_assert(f & MIME_F_HTML_INVISIBLE);
	buf_release(&text);
	buf_release(&inv);
}
END_TEST

START_TEST(test_html_text_cap_stops_output)
{
	struct buf big = BUF_INIT, text = BUF_INIT, inv = BUF_INIT;
	struct mime_html_stats st;
	struct html_out o = { &text, &inv, &st, 1000, NULL, NULL };
	size_t i;
	unsigned f;

	for (i = 0; i < 1000; i++)
		buf_adds(&big, "<p>word word</p>");
	memset(&st, 0, sizeof(st));
	f = html_to_text(big.data, big.len, &o);
	ck_assert(f & MIME_F_TEXT_CAP);
	ck_assert_uint_le(text.len + inv.len, 1000);
	buf_release(&big);
	buf_release(&text);
	buf_release(&inv);
}
END_TEST

/*
 * Inputs that would be quadratic for a tokenizer that rescans: each must
 * finish (Check's timeout guards it) with the expected shape.
 */
static const struct {
	const char *name;
	const char *unit;		/* repeated */
	const char *prefix;
} html_hostile[] = {
	{ "many lt", "<", "" },
	{ "unclosed quotes", "<a href=\"", "" },
	{ "stray end tags under a deep stack", "</b>", NULL },
	{ "unknown end tags under a deep stack", "</x-y>", NULL },
	{ "ampersands", "&", "" },
	{ "comment openers", "<!--", "" },
	{ "bang tags without gt", "<!x", "" },
	{ "numeric refs without end", "&#1234567890", "" },
	{ "deep nesting", "<div><span>", "" },
};

START_TEST(test_html_hostile_input_is_linear)
{
	struct buf big = BUF_INIT, text = BUF_INIT, inv = BUF_INIT;
	struct mime_html_stats st;
	struct html_out o = { &text, &inv, &st, 4 << 20, NULL, NULL };
	size_t i;

	if (html_hostile[_i].prefix == NULL)
		for (i = 0; i < HTML_MAX_STACK * 2; i++)
			buf_adds(&big, "<x-deep><i>");
	while (big.len < (2 << 20))
		buf_adds(&big, html_hostile[_i].unit);
	memset(&st, 0, sizeof(st));
	(void)html_to_text(big.data, big.len, &o);
	ck_assert_uint_le(text.len + inv.len, 4 << 20);
	buf_release(&big);
	buf_release(&text);
	buf_release(&inv);
}
END_TEST

/* ------------------------------------------------------------------ */
/* URIs                                                                */
/* ------------------------------------------------------------------ */

static void
collect(void *arg, const char *u, size_t n)
{
	buf_printf(arg, "[%.*s]", (int)n, u);
}

static const struct {
	const char *name, *text, *want;
} extract_cases[] = {
	{ "sentence punctuation", "See http://a.example/x. Or https://b."
	  "example/y?q=1, ok", "[http://a.example/x][https://b.example/y?q=1]" },
	{ "parens", "(see http://a.example/x_(y)) and (http://b.example)",
	  "[http://a.example/x_(y)][http://b.example]" },
	{ "www without scheme", "go to www.shop.example/sale!",
	  "[www.shop.example/sale]" },
	{ "www needs a dot after", "www.x and awww.nope.example",
	  "" },
	{ "case-insensitive scheme", "HTTP://A.EXAMPLE/", "[HTTP://A.EXAMPLE/]" },
	{ "mailto", "write mailto:a@b.example?subject=x.",
	  "[mailto:a@b.example?subject=x]" },
	{ "mailto without address", "mailto: nobody", "" },
	{ "scheme inside a word ignored", "xhttp://a.example", "" },
	{ "angle brackets", "<http://a.example/p>", "[http://a.example/p]" },
	{ "scheme only", "http:// nothing", "" },
	{ "ftp", "ftp://files.example/a.zip", "[ftp://files.example/a.zip]" },
};

START_TEST(test_uri_extract_cases)
{
	struct buf out = BUF_INIT;

	uri_extract(extract_cases[_i].text, strlen(extract_cases[_i].text),
	    collect, &out);
	ck_assert_msg(strcmp(buf_cstr(&out), extract_cases[_i].want) == 0,
	    "%s: got '%s'", extract_cases[_i].name, buf_cstr(&out));
	buf_release(&out);
}
END_TEST

static const struct {
	const char *name, *in, *clean, *host;
} clean_cases[] = {
	{ "lower-case scheme", "HTTP://Example.COM/Path", "http://Example.COM/"
	  "Path", "example.com" },
	{ "www gets http", "www.a.example", "http://www.a.example",
	  "www.a.example" },
	{ "scheme-relative", "//cdn.example/x", "http://cdn.example/x",
	  "cdn.example" },
	{ "user info ignored for host", "http://paypal.example@evil.example/",
	  "http://paypal.example@evil.example/", "evil.example" },
	{ "port and trailing dot", "https://a.example.:8443/x",
	  "https://a.example.:8443/x", "a.example" },
	{ "percent-encoded host", "http://%65vil.example/",
	  "http://%65vil.example/", "evil.example" },
	{ "ipv6 literal", "http://[2001:db8::1]:80/", "http://[2001:db8::1]:80/",
	  "2001:db8::1" },
	{ "backslashes", "http:\\\\evil.example\\x", "http://evil.example\\x",
	  "evil.example" },
	{ "mailto domain", "mailto:Someone@Mail.Example?cc=x",
	  "mailto:Someone@Mail.Example?cc=x", "mail.example" },
	{ "javascript refused", "javascript:alert(1)", NULL, NULL },
	{ "cid refused", "cid:part1@x", NULL, NULL },
	{ "fragment refused", "#top", NULL, NULL },
	{ "relative refused", "page.html", NULL, NULL },
	{ "white space inside removed", " http://a.exa\nmple/ ",
	  "http://a.example/", "a.example" },
	{ "bad host characters", "http://a<b>.example/", "http://a<b>.example/",
	  NULL },
};

START_TEST(test_uri_clean_and_host_cases)
{
	struct buf c = BUF_INIT, h = BUF_INIT;
	bool ok = uri_clean(clean_cases[_i].in, strlen(clean_cases[_i].in), &c);

	if (clean_cases[_i].clean == NULL) {
		ck_assert_msg(!ok, "%s: kept '%s'", clean_cases[_i].name,
		    buf_cstr(&c));
		return;
	}
	ck_assert_msg(ok && strcmp(buf_cstr(&c), clean_cases[_i].clean) == 0,
	    "%s: got '%s'", clean_cases[_i].name, buf_cstr(&c));
	ok = uri_host(c.data, c.len, &h);
	if (clean_cases[_i].host == NULL)
		ck_assert_msg(!ok, "%s: host '%s'", clean_cases[_i].name,
		    buf_cstr(&h));
	else
		ck_assert_msg(ok && strcmp(buf_cstr(&h), clean_cases[_i].host)
		    == 0, "%s: host '%s'", clean_cases[_i].name, buf_cstr(&h));
	buf_release(&c);
	buf_release(&h);
}
END_TEST

/* numeric hosts as a browser reads them (WHATWG URL Standard IPv4) */
static const struct {
	const char *host;
	const char *addr;	/* dotted quad, or NULL: not an address */
	bool	 plain;
} ipv4_cases[] = {
	{ "192.0.2.1", "192.0.2.1", true },
	{ "3221225985", "192.0.2.1", false },		/* one number */
	{ "0xc0000201", "192.0.2.1", false },		/* one hex number */
	{ "0xC0.0.2.1", "192.0.2.1", false },		/* hex octet */
	{ "0300.0.02.01", "192.0.2.1", false },		/* octal octets */
	{ "192.0.513", "192.0.2.1", false },		/* last part: 16 bits */
	{ "192.513", "192.0.2.1", false },		/* 24 bits */
	{ "0", "0.0.0.0", false },
	{ "0x", "0.0.0.0", false },
	{ "255.255.255.255", "255.255.255.255", true },
	{ "4294967295", "255.255.255.255", false },
	{ "4294967296", NULL, false },			/* 2^32 */
	{ "256.0.0.1", NULL, false },			/* octet > 255 */
	{ "1.2.3.256", NULL, false },
	{ "1.2.65536", NULL, false },
	{ "1.2.3.4.5", NULL, false },			/* five parts */
	{ "08.1.1.1", NULL, false },			/* 8 is not octal */
	{ "0xg.1.1.1", NULL, false },
	{ "1..2.3", NULL, false },
	{ "", NULL, false },
	{ "example.com", NULL, false },
	{ "1.2.3.example", NULL, false },
	{ "99999999999999999999999", NULL, false },	/* no wrap-around */
	{ "0x100000000", NULL, false },
};

START_TEST(test_uri_host_ipv4_forms)
{
	uint32_t a = 0;
	bool plain = !ipv4_cases[_i].plain;
	bool ok = uri_host_ipv4(ipv4_cases[_i].host, &a, &plain);
	char got[16];

	snprintf(got, sizeof(got), "%u.%u.%u.%u", a >> 24, (a >> 16) & 255,
	    (a >> 8) & 255, a & 255);
	if (ipv4_cases[_i].addr == NULL) {
		ck_assert_msg(!ok, "'%s' read as %s", ipv4_cases[_i].host,
		    got);
		return;
	}
	ck_assert_msg(ok && strcmp(got, ipv4_cases[_i].addr) == 0,
	    "'%s': %d %s", ipv4_cases[_i].host, ok, got);
	ck_assert_msg(plain == ipv4_cases[_i].plain, "'%s': plain %d",
	    ipv4_cases[_i].host, plain);
}
END_TEST

/* ------------------------------------------------------------------ */
/* golden views of real-world shaped messages                          */
/* ------------------------------------------------------------------ */

static const char *const goldens[] = {
	"alternative", "nested", "headers", "digest", "broken",
};

START_TEST(test_mime_golden_views)
{
	char path[4096];
	struct buf in = BUF_INIT, want = BUF_INIT, got = BUF_INIT,
	    why = BUF_INIT;
	struct mime_msg *mm;
	struct msg *m;
	FILE *f;

	snprintf(path, sizeof(path), "%s", test_data("mime"));
	snprintf(path + strlen(path), sizeof(path) - strlen(path), "/%s.eml",
	    goldens[_i]);
	ck_assert_msg(files_read(path, 1 << 20, &in, &why) == 0, "%s",
	    buf_cstr(&why));
	mm = parse(in.data, in.len, 1 << 20, NULL, &m);
	mime_dump(mm, &got);
	strcpy(path + strlen(path) - 4, ".out");
	if (getenv("MW_UPDATE_GOLDENS")) {
		f = fopen(path, "w");
		ck_assert_ptr_nonnull(f);
		fwrite(got.data, 1, got.len, f);
		fclose(f);
	}
	ck_assert_msg(files_read(path, 1 << 20, &want, &why) == 0, "%s",
	    buf_cstr(&why));
	ck_assert_msg(strcmp(buf_cstr(&got), buf_cstr(&want)) == 0,
	    "%s: view differs from %s; got:\n%s", goldens[_i], path,
	    buf_cstr(&got));
	mime_free(&mm);
	msg_free(&m);
	buf_release(&in);
	buf_release(&want);
	buf_release(&got);
	buf_release(&why);
}
END_TEST

/* ------------------------------------------------------------------ */
/* structure and hostile input                                         */
/* ------------------------------------------------------------------ */

static const char head_mixed[] = "From: a@example.org\r\n"
    "Subject: t\r\nMIME-Version: 1.0\r\n"
    "Content-Type: multipart/mixed; boundary=\"B\"\r\n\r\n";

START_TEST(test_mime_50mb_base64_attachment_counted_not_decoded)
{
	struct buf t = BUF_INIT;
	struct mime_msg *mm;
	struct msg *m;
	const size_t lines = 50u * 1024 * 1024 / 78;	/* 76 + CRLF */
	size_t i;

	buf_adds(&t, head_mixed);
	buf_adds(&t, "--B\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n"
	    "--B\r\nContent-Type: application/octet-stream; name=big.bin\r\n"
	    "Content-Transfer-Encoding: base64\r\n\r\n");
	buf_reserve(&t, lines * 78 + 100);
	for (i = 0; i < lines; i++)
		buf_adds(&t, "QUFBQUFB"
		    "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB"
		    "\r\n");
	buf_adds(&t, "--B--\r\n");
	mm = parse(t.data, t.len, 64u << 20, NULL, &m);
	ck_assert_uint_eq(mm->nparts, 3);
	ck_assert_uint_eq(mm->parts[2].kind, MIME_K_OTHER);
	ck_assert_uint_eq(mm->parts[2].size, lines * 57);
	ck_assert_str_eq(mm->parts[2].filename, "big.bin");
	ck_assert(mm->parts[2].attachment);
	ck_assert_uint_eq(mm->parts[2].text.len, 0);	/* never decoded */
	ck_assert_str_eq(buf_cstr(&mm->parts[1].text), "see attached");
	ck_assert_uint_eq(mm->flags, 0);
	mime_free(&mm);
	msg_free(&m);
	buf_release(&t);
}
END_TEST

static struct mime_msg *
many_parts(size_t n, size_t cap, struct msg **mp)
{
	struct buf t = BUF_INIT;
	struct mime_limits lim;
	struct mime_msg *mm;
	size_t i;

	mime_limits_default(&lim);
	lim.max_parts = cap;
	buf_adds(&t, head_mixed);
	for (i = 0; i < n; i++)
		buf_printf(&t, "--B\r\nContent-Type: text/plain\r\n\r\n"
		    "part %zu\r\n", i);
	buf_adds(&t, "--B--\r\n");
	mm = parse(t.data, t.len, 64u << 20, &lim, mp);
	buf_release(&t);
	return mm;
}

START_TEST(test_mime_10000_parts_capped_with_flag)
{
	struct msg *m;
	struct mime_msg *mm = many_parts(10000, MIME_DEFAULT_MAX_PARTS, &m);

	ck_assert_uint_eq(mm->nparts, MIME_DEFAULT_MAX_PARTS);
	ck_assert(mm->flags & MIME_F_PARTS_CAP);
	ck_assert_str_eq(buf_cstr(&mm->parts[998].text), "part 997");
	mime_free(&mm);
	msg_free(&m);
}
END_TEST

START_TEST(test_mime_10000_parts_all_parsed_under_a_high_cap)
{
	struct msg *m;
	struct mime_msg *mm = many_parts(10000, 20000, &m);

	ck_assert_uint_eq(mm->nparts, 10001);
	ck_assert(!(mm->flags & MIME_F_PARTS_CAP));
	ck_assert_str_eq(buf_cstr(&mm->parts[10000].text), "part 9999");
	mime_free(&mm);
	msg_free(&m);
}
END_TEST

static struct mime_msg *
nested(unsigned levels, unsigned cap, bool close, struct msg **mp)
{
	struct buf t = BUF_INIT;
	struct mime_limits lim;
	struct mime_msg *mm;
	unsigned i;

	mime_limits_default(&lim);
	lim.max_depth = cap;
	buf_adds(&t, "From: a@example.org\r\nMIME-Version: 1.0\r\n"
	    "Content-Type: multipart/mixed; boundary=\"L0\"\r\n\r\n");
	for (i = 1; i < levels; i++)
		buf_printf(&t, "--L%u\r\nContent-Type: multipart/mixed; "
		    "boundary=\"L%u\"\r\n\r\n", i - 1, i);
	buf_printf(&t, "--L%u\r\nContent-Type: text/plain\r\n\r\ndeep "
	    "inside\r\n", levels - 1);
	for (i = levels; close && i > 0; i--)
		buf_printf(&t, "--L%u--\r\n", i - 1);
	mm = parse(t.data, t.len, 1 << 20, &lim, mp);
	buf_release(&t);
	return mm;
}

START_TEST(test_mime_100_levels_nesting_capped_with_flag)
{
	struct msg *m;
	struct mime_msg *mm = nested(100, MIME_DEFAULT_MAX_DEPTH, true, &m);
	const struct mime_part *last = &mm->parts[mm->nparts - 1];

	ck_assert(mm->flags & MIME_F_DEPTH_CAP);
	ck_assert_uint_eq(mm->nparts, MIME_DEFAULT_MAX_DEPTH + 1);
	ck_assert_uint_eq(last->depth, MIME_DEFAULT_MAX_DEPTH);
	ck_assert_uint_eq(last->kind, MIME_K_OTHER);
	ck_assert(!(mm->flags & MIME_F_UNCLOSED));
	mime_free(&mm);
	msg_free(&m);
}
END_TEST

START_TEST(test_mime_100_levels_nesting_parsed_under_a_high_cap)
{
	struct msg *m;
	struct mime_msg *mm = nested(100, 200, true, &m);
	const struct mime_part *last = &mm->parts[mm->nparts - 1];

	ck_assert_uint_eq(mm->nparts, 101);
	ck_assert_uint_eq(last->depth, 100);
	ck_assert_str_eq(buf_cstr(&last->text), "deep inside");
	ck_assert_uint_eq(mm->flags, 0);
	mime_free(&mm);
	msg_free(&m);
}
END_TEST

START_TEST(test_mime_unclosed_boundaries_flagged_text_kept)
{
	struct msg *m;
	struct mime_msg *mm = nested(5, 20, false, &m);

	ck_assert(mm->flags & MIME_F_UNCLOSED);
	ck_assert_str_eq(buf_cstr(&mm->parts[5].text), "deep inside\n");
	mime_free(&mm);
	msg_free(&m);
}
END_TEST

START_TEST(test_mime_boundary_never_seen_scans_body_as_text)
{
	static const char t[] = "Content-Type: multipart/mixed; boundary=Q\r\n"
	    "\r\nbuy cheap pills\r\n--not-the-boundary\r\n";
	struct msg *m;
	struct mime_msg *mm = parse_str(t, &m);

	ck_assert(mm->flags & MIME_F_UNCLOSED);
	ck_assert_uint_eq(mm->nparts, 1);
	ck_assert_uint_eq(mm->parts[0].kind, MIME_K_TEXT);
	ck_assert_str_eq(buf_cstr(&mm->parts[0].text),
	    "buy cheap pills\n--not-the-boundary\n");
	mime_free(&mm);
	msg_free(&m);
}
END_TEST

START_TEST(test_mime_10mb_single_line_flagged_and_capped)
{
	struct buf t = BUF_INIT;
	struct mime_msg *mm;
	struct msg *m;
	size_t n = 10u << 20;

	buf_adds(&t, "Subject: x\r\nContent-Type: text/html\r\n\r\n<p>");
	buf_reserve(&t, n);
	memset(t.data + t.len, 'a', n);
	t.len += n;
	t.data[t.len] = '\0';
	mm = parse(t.data, t.len, 64u << 20, NULL, &m);
	ck_assert(mm->flags & MIME_F_LONG_LINE);
	ck_assert(mm->flags & MIME_F_TEXT_CAP);
	ck_assert_uint_le(mm->text_bytes, MIME_DEFAULT_MAX_TEXT);
	mime_free(&mm);
	msg_free(&m);
	buf_release(&t);
}
END_TEST

START_TEST(test_mime_10mb_dash_lines_under_deep_stack)
{
	struct buf t = BUF_INIT;
	struct mime_msg *mm;
	struct msg *m;
	unsigned i;

	buf_adds(&t, "Content-Type: multipart/mixed; boundary=\"L0\"\r\n\r\n");
	for (i = 1; i < 20; i++)
		buf_printf(&t, "--L%u\r\nContent-Type: multipart/mixed; "
		    "boundary=\"L%u\"\r\n\r\n", i - 1, i);
	buf_adds(&t, "--L19\r\n\r\n");
	while (t.len < (10u << 20))
		buf_adds(&t, "--L1\t x\r\n--L\r\n");
	mm = parse(t.data, t.len, 64u << 20, NULL, &m);
	ck_assert_uint_eq(mm->nparts, 21);
	mime_free(&mm);
	msg_free(&m);
	buf_release(&t);
}
END_TEST

START_TEST(test_mime_truncated_body_flagged)
{
	struct buf t = BUF_INIT;
	struct mime_msg *mm;
	struct msg *m;

	buf_adds(&t, head_mixed);
	buf_adds(&t, "--B\r\nContent-Type: text/plain\r\n\r\n");
	while (t.len < 8192)
		buf_adds(&t, "filler line\r\n");
	mm = parse(t.data, t.len, 4096, NULL, &m);
	ck_assert(mm->flags & MIME_F_BODY_TRUNCATED);
	ck_assert(mm->flags & MIME_F_UNCLOSED);
	ck_assert_uint_eq(mm->nparts, 2);
	mime_free(&mm);
	msg_free(&m);
	buf_release(&t);
}
END_TEST

START_TEST(test_mime_uris_deduplicated_and_capped)
{
	struct buf t = BUF_INIT;
	struct mime_limits lim;
	struct mime_msg *mm;
	struct msg *m;
	size_t i;

	mime_limits_default(&lim);
	lim.max_uris = 10;
	buf_adds(&t, "Subject: x\r\n\r\n");
	for (i = 0; i < 5; i++)
		buf_adds(&t, "http://same.example/ ");
	for (i = 0; i < 20; i++)
		buf_printf(&t, "http://h%zu.example/\r\n", i);
	mm = parse(t.data, t.len, 1 << 20, &lim, &m);
	ck_assert_uint_eq(mm->nuris, 10);
	ck_assert_str_eq(mm->uris[0].uri, "http://same.example/");
	ck_assert_str_eq(mm->uris[1].host, "h0.example");
	ck_assert(mm->flags & MIME_F_URIS_CAP);
	mime_free(&mm);
	msg_free(&m);
	buf_release(&t);
}
END_TEST

START_TEST(test_mime_part_header_flood_capped)
{
	struct buf t = BUF_INIT;
	struct mime_msg *mm;
	struct msg *m;
	size_t i;

	buf_adds(&t, head_mixed);
	buf_adds(&t, "--B\r\n");
	for (i = 0; i < 5000; i++)
		buf_printf(&t, "X-H%zu: %0100zu\r\n", i, i);
	buf_adds(&t, "Content-Type: text/plain\r\n\r\nbody\r\n--B--\r\n");
	mm = parse(t.data, t.len, 4u << 20, NULL, &m);
	ck_assert(mm->flags & MIME_F_HDRS_CAP);
	ck_assert_uint_le(mm->parts[1].nhdrs, 256);
	ck_assert_str_eq(buf_cstr(&mm->parts[1].text), "body");
	mime_free(&mm);
	msg_free(&m);
	buf_release(&t);
}
END_TEST

START_TEST(test_mime_header_lookup_decoded_and_raw)
{
	static const char t[] = "Subject: =?utf-8?q?caf=C3=A9?=\r\n"
	    "Received: one\r\nReceived: two\r\n\r\nx\r\n";
	struct msg *m;
	struct mime_msg *mm = parse_str(t, &m);

	ck_assert_str_eq(mime_header(mm, "subject", 0), "caf\xc3\xa9");
	ck_assert_str_eq(mime_header_raw(mm, "Subject", 0),
	    "=?utf-8?q?caf=C3=A9?=");
	ck_assert_str_eq(mime_header(mm, "Received", 1), "two");
	ck_assert_ptr_null(mime_header(mm, "Received", 2));
	mime_free(&mm);
	msg_free(&m);
}
END_TEST

static Suite *
mime_suite(void)
{
	Suite *s = suite_create("mime");
	TCase *tc;

#define N(a)	((int)(sizeof(a) / sizeof(a[0])))
	tc = tcase_create("decode");
	tcase_add_loop_test(tc, test_mime_b64_decodes_cases, 0, N(b64_cases));
	tcase_add_loop_test(tc, test_mime_qp_decodes_cases, 0, N(qp_cases));
	tcase_add_loop_test(tc, test_mime_to_utf8_converts_cases, 0,
	    N(utf8_cases));
	tcase_add_loop_test(tc, test_mime_2047_decodes_cases, 0, N(ew_cases));
	tcase_add_loop_test(tc, test_mime_param_extracts_cases, 0,
	    N(param_cases));
	suite_add_tcase(s, tc);

	tc = tcase_create("html");
	tcase_set_timeout(tc, 30);
	tcase_add_loop_test(tc, test_html_renders_cases, 0, N(html_cases));
	tcase_add_test(tc, test_html_stats_count_images_links_hidden);
	tcase_add_test(tc, test_html_text_cap_stops_output);
	tcase_add_loop_test(tc, test_html_hostile_input_is_linear, 0,
	    N(html_hostile));
	suite_add_tcase(s, tc);

	tc = tcase_create("uri");
	tcase_add_loop_test(tc, test_uri_extract_cases, 0, N(extract_cases));
	tcase_add_loop_test(tc, test_uri_host_ipv4_forms, 0, N(ipv4_cases));
	tcase_add_loop_test(tc, test_uri_clean_and_host_cases, 0,
	    N(clean_cases));
	suite_add_tcase(s, tc);

	tc = tcase_create("golden");
	tcase_add_loop_test(tc, test_mime_golden_views, 0, N(goldens));
	suite_add_tcase(s, tc);

	tc = tcase_create("limits");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_mime_50mb_base64_attachment_counted_not_decoded);
	tcase_add_test(tc, test_mime_10000_parts_capped_with_flag);
	tcase_add_test(tc, test_mime_10000_parts_all_parsed_under_a_high_cap);
	tcase_add_test(tc, test_mime_100_levels_nesting_capped_with_flag);
	tcase_add_test(tc, test_mime_100_levels_nesting_parsed_under_a_high_cap);
	tcase_add_test(tc, test_mime_unclosed_boundaries_flagged_text_kept);
	tcase_add_test(tc, test_mime_boundary_never_seen_scans_body_as_text);
	tcase_add_test(tc, test_mime_10mb_single_line_flagged_and_capped);
	tcase_add_test(tc, test_mime_10mb_dash_lines_under_deep_stack);
	tcase_add_test(tc, test_mime_truncated_body_flagged);
	tcase_add_test(tc, test_mime_uris_deduplicated_and_capped);
	tcase_add_test(tc, test_mime_part_header_flood_capped);
	tcase_add_test(tc, test_mime_header_lookup_decoded_and_raw);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(mime_suite());
}
