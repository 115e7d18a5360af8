/*
 * check_saeval_mime.c - the mime family of eval: tests: SpamAssassin's
 * HTML facts of one part (html_sa), and every HTMLEval / MIMEEval /
 * BodyEval function on messages built here, a hit and a miss each
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "helpers.h"
#include "html_sa.h"
#include "mime.h"
#include "mime_sa.h"
#include "msg.h"
#include "rules.h"

/* ------------------------------------------------------------------ */
/* html_sa: one part's facts                                           */
/* ------------------------------------------------------------------ */

#define UNDEF	NAN	/* SpamAssassin leaves the value undefined */

static const struct fact_case {
	const char *name;
	const char *html;
	const char *key;
	double	 want;
} fact_cases[] = {
	{ "white font", "<font color=\"#ffffff\">white</font>",
	  "font_low_contrast", 1 },
	{ "red font", "<font color=red>x</font>", "font_low_contrast", UNDEF },
	{ "near white css", "<span style=\"color: #fefefe\">x</span>",
	  "font_low_contrast", 1 },
	{ "grey css", "<span style=\"color:#888888\">x</span>",
	  "font_low_contrast", UNDEF },
	{ "dark on dark", "<div style=\"background-color:#000000\"><span "
	  "style=\"color:#010101\">x</span></div>", "font_low_contrast", 1 },
	{ "background shorthand", "<p style=\"background: url(a.png) "
	  "#fff\"><span style=\"color:white\">x</span></p>",
	  "font_low_contrast", 1 },
	/* SpamAssassin does not take bgcolor attributes as background */
	{ "bgcolor attribute", "<table bgcolor=black><tr><td><font "
	  "color=black>x</font></td></tr></table>", "font_low_contrast", UNDEF },
	{ "blank text", "<font color=white> </font>", "font_low_contrast",
	  UNDEF },
	{ "closed font", "<font color=white></font>x", "font_low_contrast",
	  UNDEF },
	{ "hex without #", "<font color=\"ffffff\">x</font>",
	  "font_invalid_color", 1 },
	{ "hex without # not low", "<font color=\"ffffff\">x</font>",
	  "font_low_contrast", UNDEF },
	{ "short hex", "<font color=\"#fff\">x</font>", "font_low_contrast",
	  1 },
	{ "rgb css", "<span style=\"color: rgb(255, 255, 250)\">x</span>",
	  "font_low_contrast", 1 },
	{ "size +4", "<font size=+4>x</font>", "max_size", 7 },
	{ "basefont", "<basefont size=5><font size=\"+2\">x</font>",
	  "max_size", 7 },
	{ "big alone", "<big><big>x</big></big>", "max_size", 3 },
	{ "big then attribute", "<big><font color=red>x</font></big>",
	  "max_size", 4 },
	{ "size 1", "<font size=1>x</font>", "min_size", 1 },
	{ "default sizes", "x", "max_size", 3 },
	{ "extra closes", "<b>x</b></b></i>", "closed_extra_ratio", 0.5 },
	{ "no tags", "just text", "closed_extra_ratio", UNDEF },
	{ "bad tags", "<foo>x</foo><b>y</b>", "bad_tag_ratio", 0.5 },
	{ "only bad tags", "<foo>x</foo>", "bad_tag_ratio", UNDEF },
	{ "non elements", "<foo>x</foo><b>y</b>", "non_element_ratio", 0.5 },
	{ "split word", "v<b>i</b>agra", "obfuscation_ratio", 1 },
	{ "split word pairs", "v<b>i</b>agra", "backhair_count", 2 },
	{ "spaced words", "one <b>two</b> three", "obfuscation_ratio", UNDEF },
	{ "image area", "<img width=100 height=50>", "image_area", 5000 },
	{ "image percent", "<img width=\"10%\" height=\"10%\">", "image_area",
	  4800 },
	{ "image bad width", "<img width=abc height=2>", "image_area", 400 },
	{ "image one side", "<img width=100>", "image_area", 0 },
	{ "text not script", "<p>ab c</p><script>zzz</script>"
	  "<style>q</style>", "non_space_len", 3 },
	{ "nbsp is space", "a&nbsp;b", "non_space_len", 2 },
	{ "length", "<p>\xc3\xa9t\xc3\xa9</p>", "length", 10 },
	{ "embed", "<embed src=x>", "embeds", 1 },
	{ "object", "<object data=x></object>", "embeds", 1 },
	{ "mailto form", "<form action=\"MAILTO:a@b\">", "form_action_mailto",
	  1 },
	{ "http form", "<form action=\"http://x/\">", "form_action_mailto",
	  UNDEF },
	{ "face list", "<font face=\"Arial, Helvetica\">x</font>",
	  "font_face_bad", UNDEF },
	{ "face digit", "<font face=\"Ar1al\">x</font>", "font_face_bad", 1 },
	{ "face space comma", "<font face=\"Arial , Helvetica\">x</font>",
	  "font_face_bad", 1 },
	/* "<!--" never closed ends at the next '>' (HTML::Parser) */
	{ "unclosed comment", "<!--x>ab <b>c</b>", "non_space_len", 3 },
	{ "unknown name", "x", "no_such_thing", UNDEF },
};

START_TEST(test_html_sa_facts)
{
	const struct fact_case *c = &fact_cases[_i];
	struct html_sa sa;
	double v = -1;
	bool def;

	html_sa_parse(c->html, strlen(c->html), &sa);
	def = html_sa_value(&sa, c->key, &v);
	if (isnan(c->want))
		ck_assert_msg(!def, "%s: %s defined (%g), want undefined",
		    c->name, c->key, v);
	else
		ck_assert_msg(def && fabs(v - c->want) < 1e-9,
		    "%s: %s got %g (%s), want %g", c->name, c->key, v,
		    def ? "defined" : "undefined", c->want);
	html_sa_free(&sa);
}
END_TEST

START_TEST(test_html_sa_balance_and_strings)
{
	const char *h = "<!DOCTYPE html><html><body><body><center>"
	    "<!-- saved from url=(0022)http://x.example/ --></head>"
	    "<title>Hello &amp; bye</title><a href=x><img src=y>t</a>"
	    "<meta http-equiv=Content-Type content=\"text/html; "
	    "charset=koi8-r\"></html>";
	struct html_sa sa;
	uint32_t n = 99;

	html_sa_parse(h, strlen(h), &sa);
	ck_assert(html_sa_inside(&sa, "body", &n));
	ck_assert_uint_eq(n, 2);
	ck_assert(html_sa_inside(&sa, "html", &n));
	ck_assert_uint_eq(n, 0);
	ck_assert(html_sa_inside(&sa, "head", &n));
	ck_assert_uint_eq(n, 0);
	ck_assert(html_sa_inside(&sa, "!doctype", &n));
	ck_assert(!html_sa_inside(&sa, "table", &n));
	ck_assert_uint_eq(sa.closed_extra, 1);
	ck_assert_uint_eq(sa.comment.n, 1);
	ck_assert_str_eq(sa.comment.v[0],
	    "<!-- saved from url=(0022)http://x.example/ -->");
	ck_assert_uint_eq(sa.title.n, 1);
	ck_assert_str_eq(sa.title.v[0], "Hello & bye");
	ck_assert_uint_eq(sa.anchor.n, 1);
	ck_assert_str_eq(sa.anchor.v[0], "<img>\nt");
	ck_assert_str_eq(sa.charsets, "koi8-r");
	ck_assert_ptr_eq(html_sa_strings(&sa, "title"), &sa.title);
	ck_assert_ptr_null(html_sa_strings(&sa, "body"));
	html_sa_free(&sa);
}
END_TEST

/* an open <style> or <script> is closed at the end, as SpamAssassin does */
START_TEST(test_html_sa_unclosed_literal)
{
	const char *h = "<style>p { color: red }";
	struct html_sa sa;
	uint32_t n = 9;

	html_sa_parse(h, strlen(h), &sa);
	ck_assert(html_sa_inside(&sa, "style", &n));
	ck_assert_uint_eq(n, 0);
	ck_assert_uint_eq(sa.tags, 2);
	ck_assert_uint_eq(sa.non_space_len, 0);
	html_sa_free(&sa);
}
END_TEST

/* many distinct tag names: the table stops growing, nothing breaks */
START_TEST(test_html_sa_many_names)
{
	struct buf b = BUF_INIT;
	struct html_sa sa;
	int i;

	for (i = 0; i < 2 * HTML_SA_MAX_NAMES; i++)
		buf_printf(&b, "<x%d>t</x%d>", i, i);
	html_sa_parse(b.data, b.len, &sa);
	ck_assert_uint_eq(sa.ninside, HTML_SA_MAX_NAMES);
	ck_assert_uint_eq(sa.tags, 4 * HTML_SA_MAX_NAMES);
	html_sa_free(&sa);
	buf_release(&b);
}
END_TEST

/* ------------------------------------------------------------------ */
/* the evals, through rule files                                       */
/* ------------------------------------------------------------------ */

static bool
hit(const char *rule, const char *text)
{
	char rules[1024];
	struct ruleset *rs;
	struct rules_result res;
	struct msg *m;
	struct mime_msg *mm;
	bool h = false;
	size_t i;

	snprintf(rules, sizeof(rules), "%s\n", rule);
	rs = test_rules(rules);
	mm = test_mime_text(text, &m);
	rules_eval(rs, m, mm, 0, &res);
	for (i = 0; i < res.nhits; i++)
		if (strcmp(rule_name(res.hits[i].rule), "T") == 0)
			h = true;
	rules_result_release(&res);
	mime_free(&mm);
	msg_free(&m);
	rules_free(rs);
	return h;
}

#define HTML_MSG(body) \
	"Subject: hi\nMIME-Version: 1.0\nContent-Type: text/html\n\n" body "\n"
#define PLAIN_MSG(body) "Subject: hi\n\n" body "\n"
#define ALT_MSG(plain, html) \
	"Subject: hi\nMIME-Version: 1.0\n" \
	"Content-Type: multipart/alternative; boundary=BB\n\n" \
	"--BB\nContent-Type: text/plain\n\n" plain "\n" \
	"--BB\nContent-Type: text/html\n\n" html "\n--BB--\n"
#define QP_MSG(line) \
	"Subject: hi\nMIME-Version: 1.0\nContent-Type: text/plain\n" \
	"Content-Transfer-Encoding: quoted-printable\n\n" line "\n"
#define B64_LINE76 \
	"QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAxMjM0"
#define LONG_TEXT \
	"aaaa aaaa aaaa aaaa aaaa aaaa aaaa aaaa aaaa aaaa aaaa aaaa aaaa " \
	"aaaa aaaa aaaa aaaa aaaa aaaa aaaa aaaa aaaa aaaa aaaa aaaa aaaa "

#define CAPS_TEXT \
	"BUY THE BEST PILLS NOW AND SAVE BIG ON EVERY ORDER TODAY ONLY " \
	"BUY THE BEST PILLS NOW AND SAVE BIG ON EVERY ORDER TODAY ONLY " \
	"BUY THE BEST PILLS NOW AND SAVE BIG ON EVERY ORDER TODAY ONLY " \
	"BUY THE BEST PILLS NOW AND SAVE BIG ON EVERY ORDER TODAY ONLY "

static const struct eval_case {
	const char *name;
	const char *rule;
	const char *msg;
	bool	 want;
} eval_cases[] = {
	{ "html message", "body T eval:html_test('html')",
	  HTML_MSG("<p>x</p>"), true },
	{ "plain message", "body T eval:html_test('html')",
	  PLAIN_MSG("<p>x</p>"), false },
	{ "low contrast", "body T eval:html_test('font_low_contrast')",
	  HTML_MSG("<font color=white>hidden</font>"), true },
	{ "normal contrast", "body T eval:html_test('font_low_contrast')",
	  HTML_MSG("<font color=navy>seen</font>"), false },
	{ "huge font", "body T eval:html_range('max_size', '6', 'inf')",
	  HTML_MSG("<font size=7>x</font>"), true },
	{ "large font", "body T eval:html_range('max_size', '6', 'inf')",
	  HTML_MSG("<font size=5>x</font>"), false },
	{ "range two args", "body T eval:html_range('max_size', '6')",
	  HTML_MSG("<font size=7>x</font>"), true },
	{ "short html", "body T eval:html_eval('length', '< 384')",
	  HTML_MSG("<p>x</p>"), true },
	{ "long html", "body T eval:html_eval('length', '< 384')",
	  HTML_MSG(LONG_TEXT LONG_TEXT LONG_TEXT LONG_TEXT), false },
	{ "open body", "body T eval:html_tag_balance('body', '!= 0')",
	  HTML_MSG("<html><body>x</html>"), true },
	{ "closed body", "body T eval:html_tag_balance('body', '!= 0')",
	  HTML_MSG("<html><body>x</body></html>"), false },
	{ "center", "body T eval:html_tag_exists('center')",
	  HTML_MSG("<center>x</center>"), true },
	{ "no center", "body T eval:html_tag_exists('center')",
	  HTML_MSG("<div>x</div>"), false },
	{ "saved url", "body T eval:html_text_match('comment', "
	  "'<!-- saved from url=\\(\\d{4}\\)')",
	  HTML_MSG("<!-- saved from url=(0022)http://x/ --><p>x"), true },
	{ "other comment", "body T eval:html_text_match('comment', "
	  "'<!-- saved from url=\\(\\d{4}\\)')",
	  HTML_MSG("<!-- hello --><p>x"), false },
	{ "link image", "body T eval:html_text_match('anchor', '<img>')",
	  HTML_MSG("<a href=\"http://x/\"><img src=a.gif></a>"), true },
	{ "link text", "body T eval:html_text_match('anchor', '<img>')",
	  HTML_MSG("<a href=\"http://x/\">go</a><img src=a.gif>"), false },
	{ "title differs", "body T eval:html_text_not_match('title', "
	  "'^hi$')", HTML_MSG("<title>other</title>"), true },
	{ "title same", "body T eval:html_text_not_match('title', '^hi$')",
	  HTML_MSG("<title>hi</title>"), false },
	{ "long title", "body T eval:html_title_subject_ratio('3.5')",
	  HTML_MSG("<title>a title far longer than hi</title>"), true },
	/* an empty Subject is SpamAssassin's "\n": one character */
	{ "empty subject", "body T eval:html_title_subject_ratio('3.5')",
	  "Subject: \nContent-Type: text/html\n\n<title>hello</title>\n",
	  true },
	{ "no subject", "body T eval:html_title_subject_ratio('3.5')",
	  "Content-Type: text/html\n\n<title>hello</title>\n", false },
	{ "short title", "body T eval:html_title_subject_ratio('3.5')",
	  HTML_MSG("<title>hello</title>"), false },
	{ "image only", "body T eval:html_image_only('0000', '0400')",
	  HTML_MSG("<img src=\"http://x/a.gif\">"), true },
	{ "text only", "body T eval:html_image_only('0000', '0400')",
	  HTML_MSG("<p>words</p>"), false },
	{ "big image", "body T eval:html_image_ratio('0.000', '0.002')",
	  HTML_MSG("<img width=600 height=400>few words"), true },
	{ "sizeless image", "body T eval:html_image_ratio('0.000', '0.002')",
	  HTML_MSG("<img src=a.gif>few words"), false },
	{ "iframe", "body T eval:check_iframe_src()",
	  HTML_MSG("<iframe src=\"http://x/\"></iframe>"), true },
	{ "no iframe", "body T eval:check_iframe_src()",
	  HTML_MSG("<p>x</p>"), false },
	{ "charset faraway", "body T eval:html_charset_faraway()",
	  HTML_MSG("<meta http-equiv=Content-Type content=\"text/html; "
	  "charset=big5\">x"), false },
	{ "qp long line", "rawbody T eval:check_for_mime('mime_qp_long_line')",
	  QP_MSG(LONG_TEXT "x"), true },
	{ "qp short line",
	  "rawbody T eval:check_for_mime('mime_qp_long_line')",
	  QP_MSG("short=20line"), false },
	/* 7 escapes in 22 bytes (the line and its end) */
	{ "qp escapes", "body T eval:check_qp_ratio('0.3')",
	  QP_MSG("=41=42=43=44=45=46=47"), true },
	{ "qp plain", "body T eval:check_qp_ratio('0.3')",
	  QP_MSG("plain words=2E"), false },
	{ "qp count", "rawbody T eval:check_for_mime('mime_qp_count')",
	  QP_MSG("=41bc"), true },
	{ "qp count none", "rawbody T eval:check_for_mime('mime_qp_count')",
	  QP_MSG("abc"), false },
	{ "base64 text", "rawbody T eval:check_for_mime("
	  "'mime_base64_encoded_text')",
	  "Subject: hi\nMIME-Version: 1.0\nContent-Type: text/plain\n"
	  "Content-Transfer-Encoding: base64\n\naGVsbG8=\n", true },
	{ "base64 attachment", "rawbody T eval:check_for_mime("
	  "'mime_base64_encoded_text')",
	  "Subject: hi\nMIME-Version: 1.0\nContent-Type: text/plain\n"
	  "Content-Disposition: attachment\n"
	  "Content-Transfer-Encoding: base64\n\naGVsbG8=\n", false },
	{ "bad iso", "body T eval:check_for_mime('mime_bad_iso_charset')",
	  "Subject: hi\nMIME-Version: 1.0\n"
	  "Content-Type: text/plain; charset=iso-ir-111\n\nx\n", true },
	{ "good iso", "body T eval:check_for_mime('mime_bad_iso_charset')",
	  "Subject: hi\nMIME-Version: 1.0\n"
	  "Content-Type: text/plain; charset=iso-8859-15\n\nx\n", false },
	{ "html only", "body T eval:check_for_mime_html_only()",
	  HTML_MSG("<p>x</p>"), true },
	{ "alternative not html only",
	  "body T eval:check_for_mime_html_only()",
	  ALT_MSG("x", "<p>x</p>"), false },
	{ "alternative has html", "body T eval:check_for_mime_html()",
	  ALT_MSG("x", "<p>x</p>"), true },
	{ "plain has no html", "body T eval:check_for_mime_html()",
	  PLAIN_MSG("x"), false },
	{ "html mostly",
	  "body T eval:check_mime_multipart_ratio('0.00', '0.01')",
	  ALT_MSG("", "<p>" LONG_TEXT LONG_TEXT "</p>"), true },
	{ "balanced alternative",
	  "body T eval:check_mime_multipart_ratio('0.00', '0.01')",
	  ALT_MSG(LONG_TEXT, "<p>" LONG_TEXT "</p>"), false },
	{ "long base64 line", "body T eval:check_base64_length('79')",
	  "Subject: hi\nMIME-Version: 1.0\nContent-Type: image/gif\n"
	  "Content-Transfer-Encoding: base64\n\n" B64_LINE76 "AAAA\n", true },
	{ "normal base64 line", "body T eval:check_base64_length('79')",
	  "Subject: hi\nMIME-Version: 1.0\nContent-Type: image/gif\n"
	  "Content-Transfer-Encoding: base64\n\n" B64_LINE76 "\n", false },
	{ "base64 within range", "body T eval:check_base64_length('78', '79')",
	  "Subject: hi\nMIME-Version: 1.0\nContent-Type: image/gif\n"
	  "Content-Transfer-Encoding: base64\n\n" B64_LINE76 "AA\n", true },
	{ "image in alternative", "body T eval:check_ma_non_text()",
	  "Subject: hi\nMIME-Version: 1.0\n"
	  "Content-Type: multipart/alternative; boundary=BB\n\n"
	  "--BB\nContent-Type: text/plain\n\nx\n"
	  "--BB\nContent-Type: image/gif\n\nGIF\n--BB--\n", true },
	{ "text alternatives", "body T eval:check_ma_non_text()",
	  ALT_MSG("x", "<p>x</p>"), false },
	{ "alternatives differ",
	  "body T eval:multipart_alternative_difference('99', '100')",
	  ALT_MSG("apples pears plums", "<p>cheap pills online now</p>"),
	  true },
	{ "alternatives agree",
	  "body T eval:multipart_alternative_difference('99', '100')",
	  ALT_MSG("cheap pills online now", "<p>cheap pills online now</p>"),
	  false },
	{ "text words outnumber",
	  "body T eval:multipart_alternative_difference_count('3', '1')",
	  ALT_MSG("one two three four five six seven eight nine",
	  "<p>ten eleven</p>"), true },
	{ "text words few",
	  "body T eval:multipart_alternative_difference_count('3', '1')",
	  ALT_MSG("one two", "<p>one two</p>"), false },
	{ "8-bit in ascii", "body T eval:check_for_ascii_text_illegal()",
	  "Subject: hi\nMIME-Version: 1.0\n"
	  "Content-Type: text/plain; charset=us-ascii\n\ncaf\xe9\n", true },
	{ "ascii in ascii", "body T eval:check_for_ascii_text_illegal()",
	  "Subject: hi\nMIME-Version: 1.0\n"
	  "Content-Type: text/plain; charset=us-ascii\n\ncafe\n", false },
	{ "unicode refs", "body T eval:check_abundant_unicode_ratio('0.02')",
	  PLAIN_MSG("&#x0418;&#x0414; text"), true },
	{ "no unicode refs",
	  "body T eval:check_abundant_unicode_ratio('0.02')",
	  PLAIN_MSG("just text"), false },
	{ "one gif", "body T eval:image_count('gif', 1, 1)",
	  "Subject: hi\nMIME-Version: 1.0\n"
	  "Content-Type: multipart/mixed; boundary=BB\n\n"
	  "--BB\nContent-Type: text/plain\n\nx\n"
	  "--BB\nContent-Type: image/gif\n"
	  "Content-Transfer-Encoding: base64\n\nR0lGODlh\n--BB--\n", true },
	{ "gif not base64", "body T eval:image_count('all', 1)",
	  "Subject: hi\nMIME-Version: 1.0\n"
	  "Content-Type: multipart/mixed; boundary=BB\n\n"
	  "--BB\nContent-Type: text/plain\n\nx\n"
	  "--BB\nContent-Type: image/gif\n\nGIF89a\n--BB--\n", false },
	/* a 10 x 20 GIF: 200 pixels */
	{ "small gif", "body T eval:pixel_coverage('gif', 100, 300)",
	  "Subject: hi\nMIME-Version: 1.0\nContent-Type: image/gif\n"
	  "Content-Transfer-Encoding: base64\n\nR0lGODlhCgAUAAAAAA==\n", true },
	{ "gif over range", "body T eval:pixel_coverage('all', 300)",
	  "Subject: hi\nMIME-Version: 1.0\nContent-Type: image/gif\n"
	  "Content-Transfer-Encoding: base64\n\nR0lGODlhCgAUAAAAAA==\n", false },
	{ "shouting", "body T eval:check_for_uppercase('75', '100')",
	  PLAIN_MSG(CAPS_TEXT), true },
	{ "speaking", "body T eval:check_for_uppercase('75', '100')",
	  PLAIN_MSG(LONG_TEXT LONG_TEXT), false },
	{ "shouting too briefly",
	  "body T eval:check_for_uppercase('75', '100')",
	  PLAIN_MSG("BUY NOW OR NEVER"), false },
	{ "shouting in koi8-r",
	  "body T eval:check_for_uppercase('75', '100')",
	  "Subject: hi\nMIME-Version: 1.0\n"
	  "Content-Type: text/plain; charset=koi8-r\n\n" CAPS_TEXT "\n",
	  false },
	{ "faraway charset", "body T eval:check_for_faraway_charset()",
	  "Subject: hi\nMIME-Version: 1.0\n"
	  "Content-Type: text/plain; charset=big5\n\n\xa4\xa4\xa4\xe5\n",
	  false },
};

START_TEST(test_saeval_mime_cases)
{
	const struct eval_case *c = &eval_cases[_i];

	ck_assert_msg(hit(c->rule, c->msg) == c->want, "%s: got %d, want %d",
	    c->name, !c->want, c->want);
}
END_TEST

/* arguments SpamAssassin would refuse or misread are load errors */
static const struct load_case {
	const char *rule;
	const char *why;
} load_cases[] = {
	{ "body T eval:html_tag_balance('bo dy', '!= 0')", "not a tag name" },
	{ "body T eval:html_eval('length', 'system(1)')", "not a comparison" },
	{ "body T eval:html_text_match('comment', '(')", "regex" },
	{ "body T eval:html_text_match('body', 'x')", "not comment" },
	{ "body T eval:check_for_mime('mime_nope')", "unknown MIME counter" },
	{ "body T eval:html_range('max_size', 'big')", "must be numbers" },
	{ "body T eval:check_abundant_unicode_ratio('2')", "not a ratio" },
	{ "body T eval:image_count('bmp', 1)", "not all, gif" },
	{ "body T eval:multipart_alternative_difference('99', 'x')",
	  "must be numbers" },
};

START_TEST(test_saeval_mime_load_errors)
{
	const struct load_case *c = &load_cases[_i];
	struct rules_report rep;
	struct ruleset *rs = NULL;
	struct buf out = BUF_INIT;
	int rc;

	rc = rules_parse_text(c->rule, strlen(c->rule), "t.cf", NULL, &rs,
	    &rep);
	ck_assert_int_eq(rc, -1);
	ck_assert_uint_ge(rep.n, 1);
	rules_diag_format(&rep.v[0], &out);
	ck_assert_msg(strstr(buf_cstr(&out), c->why) != NULL,
	    "%s: got '%s', want '%s'", c->rule, buf_cstr(&out), c->why);
	buf_release(&out);
	rules_report_release(&rep);
}
END_TEST

/* the MIME counters of a mixed message, directly */
START_TEST(test_mime_sa_facts_counts)
{
	const char *t = "Subject: hi\nMIME-Version: 1.0\n"
	    "Content-Type: multipart/mixed; boundary=AA\n\n"
	    "--AA\nContent-Type: multipart/alternative; boundary=BB\n\n"
	    "--BB\nContent-Type: text/plain\n\nabcd\n"
	    "--BB\nContent-Type: text/html\n"
	    "Content-Transfer-Encoding: quoted-printable\n\n"
	    "<p>=41bcdefgh</p>\n--BB--\n"
	    "--AA\nContent-Type: application/pdf\n"
	    "Content-Disposition: attachment; filename=a.pdf\n"
	    "Content-Transfer-Encoding: base64\n\nJVBERi0=\n--AA--\n";
	struct msg *m;
	struct mime_msg *mm = test_mime_text(t, &m);
	struct mime_sa s;
	double v;

	mime_sa_facts(mm, buf_cstr(&m->body), m->body.len, &s);
	ck_assert_uint_eq(s.body_html_count, 1);
	ck_assert_uint_eq(s.body_text_count, 1);
	ck_assert_uint_eq(s.base64_count, 1);
	ck_assert_uint_eq(s.attachment, 1);
	ck_assert(s.multipart_alternative);
	ck_assert(!s.qp_long_line);
	ck_assert_uint_eq(s.qp_count, 1);	/* one escape */
	ck_assert(s.multipart_ratio > 0.2 && s.multipart_ratio < 0.4);
	/* the line end before a boundary belongs to it, as in SpamAssassin */
	ck_assert_uint_eq(s.base64_length, 8);
	ck_assert(mime_sa_value(&s, "mime_attachment", &v) && v == 1);
	ck_assert(!mime_sa_value(&s, "mime_nope", &v));
	mime_free(&mm);
	msg_free(&m);
}
END_TEST

/* image dimensions as ImageInfo reads them */
START_TEST(test_mime_sa_image_area)
{
	static const unsigned char gif[] = "GIF89a\x0a\x00\x14\x00\x00";
	static const unsigned char png[] = "\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR"
	    "\0\0\x01\x00\0\0\0\x02\x08\x02\0\0\0";
	static const unsigned char jpeg[] = "\xff\xd8\xff\xe0\x00\x04xx"
	    "\xff\xc0\x00\x11\x08\x00\x30\x00\x40\x03";
	static const unsigned char scan[] = "\xff\xd8\xff\xda\x00\x04xx"
	    "\xff\xc0\x00\x11\x08\x00\x30\x00\x40\x03";

	ck_assert_uint_eq(mime_sa_image_area(gif, sizeof(gif) - 1, "gif"), 200);
	ck_assert_uint_eq(mime_sa_image_area(png, sizeof(png) - 1, "png"), 512);
	ck_assert_uint_eq(mime_sa_image_area(jpeg, sizeof(jpeg) - 1, "jpeg"),
	    48 * 64);
	/* the frame size must come before the scan starts */
	ck_assert_uint_eq(mime_sa_image_area(scan, sizeof(scan) - 1, "jpeg"), 0);
	ck_assert_uint_eq(mime_sa_image_area(gif, 5, "gif"), 0);
	ck_assert_uint_eq(mime_sa_image_area(png, sizeof(png) - 1, "gif"), 0);
	ck_assert_uint_eq(mime_sa_image_area(jpeg, 12, "jpeg"), 0);
}
END_TEST

static Suite *
saeval_mime_suite(void)
{
	Suite *s = suite_create("saeval_mime");
	TCase *tc;

	tc = tcase_create("html_sa");
	tcase_add_loop_test(tc, test_html_sa_facts, 0,
	    sizeof(fact_cases) / sizeof(fact_cases[0]));
	tcase_add_test(tc, test_html_sa_balance_and_strings);
	tcase_add_test(tc, test_html_sa_unclosed_literal);
	tcase_add_test(tc, test_html_sa_many_names);
	suite_add_tcase(s, tc);
	tc = tcase_create("eval");
	tcase_add_loop_test(tc, test_saeval_mime_cases, 0,
	    sizeof(eval_cases) / sizeof(eval_cases[0]));
	tcase_add_loop_test(tc, test_saeval_mime_load_errors, 0,
	    sizeof(load_cases) / sizeof(load_cases[0]));
	tcase_add_test(tc, test_mime_sa_facts_counts);
	tcase_add_test(tc, test_mime_sa_image_area);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(saeval_mime_suite());
}
