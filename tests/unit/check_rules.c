/*
 * check_rules.c - rule files: parser, matching semantics, metas, limits,
 * prefilter equivalence, reload, integration with the scan
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../filter/rules_int.h"
#include "buf.h"
#include "engine.h"
#include "helpers.h"
#include "log.h"
#include "mime.h"
#include "rules.h"
#include "strmap.h"
#include "symbols.h"

/* ------------------------------------------------------------------ */
/* helpers                                                             */
/* ------------------------------------------------------------------ */

#define set_from test_rules

struct tmsg {
	struct msg *m;
	struct mime_msg *mm;
};

static void
tmsg_init(struct tmsg *t, const char *text)
{
	t->mm = test_mime_text(text, &t->m);
	msg_set_sender(t->m, "<bounce@envelope.example>");
}

static void
tmsg_release(struct tmsg *t)
{
	mime_free(&t->mm);
	msg_free(&t->m);
}

/* count - hits of rule name (0 if it did not hit) */
static unsigned
count(const struct ruleset *rs, const struct tmsg *t, const char *name,
    unsigned flags)
{
	struct rules_result res;
	unsigned c = 0;
	size_t i;

	rules_eval(rs, t->m, t->mm, flags, &res);
	for (i = 0; i < res.nhits; i++)
		if (strcmp(rule_name(res.hits[i].rule), name) == 0)
			c = res.hits[i].count;
	rules_result_release(&res);
	return c;
}

/* ------------------------------------------------------------------ */
/* parser: directives and diagnostics                                  */
/* ------------------------------------------------------------------ */

START_TEST(test_rules_parse_every_directive)
{
	static const char text[] =
	    "# comment line\n"
	    "header   H1  Subject =~ /x/i   # trailing comment\n"
	    "header   H2  From:addr =~ /\\@example\\.org$/\n"
	    "header   H3  exists:X-Mailer\n"
	    "header   H4  List-Id !~ /./ [if-unset: none]\n"
	    "body     B1  /price \\#1/\n"
	    "rawbody  R1  m{<font}i\n"
	    "uri      U1  m!^https?://!\n"
	    "full     F1  /^Received:/m\n"
	    "meta     M1  (H1 + B1 + U1) > 1 && !H3\n"
	    "score    H1  2.5\n"
	    "score    B1  0 1.0 0 1.5\n"
	    "describe H1  Subject has an x\n"
	    "tflags   B1  multiple maxhits=3\n"
	    "tflags   R1  nice\n"
	    "priority H1  100\n"
	    "lang de describe H1 Betreff hat ein x\n"
	    "test     H1  ok Subject: x\n"
	    "if (version >= 3.004000)\n"
	    "body     B2  /inside if/\n"
	    "else\n"
	    "body     B3  /inside else/\n"
	    "endif\n";
	struct ruleset *rs = set_from(text);
	const struct rule *r;

	ck_assert_uint_eq(rules_count(rs), 10);
	r = rules_find(rs, "H1");
	ck_assert_double_eq(rule_score(r), 2.5);
	ck_assert_str_eq(rule_describe(r), "Subject has an x");
	r = rules_find(rs, "B1");
	ck_assert_double_eq(rule_score(r), 1.5);	/* score set 3 */
	ck_assert_uint_eq(rule_tflags(r), RULE_F_MULTIPLE);
	ck_assert_double_eq(rule_score(rules_find(rs, "R1")), -1.0);
	ck_assert_double_eq(rule_score(rules_find(rs, "U1")), 1.0);
	ck_assert_int_eq(rule_type_of(rules_find(rs, "M1")), RULE_META);
	ck_assert_int_eq(rule_type_of(rules_find(rs, "F1")), RULE_FULL);
	ck_assert_ptr_nonnull(rules_find(rs, "B2"));
	ck_assert_ptr_null(rules_find(rs, "B3"));
	rules_free(rs);
}
END_TEST

static const struct {
	const char *name;
	const char *text;
	enum rules_diag_kind kind;
	unsigned line;
	const char *contains;
} diag_cases[] = {
	{ "bad regex", "\n\nbody X /a(b/\n", RULES_DIAG_ERROR, 3,
	  "bad regex at offset" },
	{ "unterminated regex", "body X /abc\n", RULES_DIAG_ERROR, 1,
	  "not terminated" },
	{ "not a regex", "body X abc\n", RULES_DIAG_ERROR, 1,
	  "expected a regex" },
	{ "bad flag", "body X /a/q\n", RULES_DIAG_ERROR, 1,
	  "unsupported regex flag 'q'" },
	{ "junk after regex", "body X /a/ b\n", RULES_DIAG_ERROR, 1,
	  "unexpected text" },
	{ "header without operator", "header X Subject /a/\n",
	  RULES_DIAG_ERROR, 1, "expected 'Header =~ /regex/'" },
	{ "bad header name", "header X Sub ject =~ /a/\n", RULES_DIAG_ERROR, 1,
	  "expected" },
	{ "addr and name", "header X From:addr:name =~ /a/\n",
	  RULES_DIAG_ERROR, 1, ":addr and :name" },
	{ "bad if-unset", "header X Subject =~ /a/ [if-unset: x\n",
	  RULES_DIAG_ERROR, 1, "if-unset" },
	{ "missing rule name", "body\n", RULES_DIAG_ERROR, 1,
	  "missing rule name" },
	{ "bad rule name", "body X-Y /a/\n", RULES_DIAG_ERROR, 1,
	  "bad rule name" },
	{ "bad score", "body X /a/\nscore X lots\n", RULES_DIAG_ERROR, 2,
	  "expected 1 or 4 numbers" },
	{ "three scores", "score X 1 2 3\n", RULES_DIAG_ERROR, 1,
	  "expected 1 or 4 numbers" },
	{ "meta syntax", "meta X (A &&\n", RULES_DIAG_ERROR, 1,
	  "ends with an operator" },
	{ "meta unbalanced", "body A /a/\nmeta X (A\n", RULES_DIAG_ERROR, 2,
	  "unbalanced" },
	{ "meta loop", "meta X Y\nmeta Y X\n", RULES_DIAG_ERROR, 2,
	  "dependency loop" },
	{ "bad maxhits", "tflags X maxhits=0\n", RULES_DIAG_ERROR, 1,
	  "bad maxhits=0" },
	{ "include missing", "\ninclude nonexistent.cf\n", RULES_DIAG_ERROR,
	  2, "nonexistent.cf" },
	{ "endif without if", "endif\n", RULES_DIAG_ERROR, 1,
	  "endif without if" },
	{ "else without if", "else\n", RULES_DIAG_ERROR, 1,
	  "else without if" },
	{ "if not closed", "if (version >= 3)\nbody X /a/\n",
	  RULES_DIAG_ERROR, 2, "not closed" },
	{ "NUL byte", "body X /a\0/\n", RULES_DIAG_ERROR, 1, "NUL" },
	{ "eval test", "header X eval:check_for_forged()\n",
	  RULES_DIAG_UNSUPPORTED, 1,
	  "eval: test check_for_forged (rule X not loaded)" },
	{ "body eval", "body X eval:check_stock_info()\n",
	  RULES_DIAG_UNSUPPORTED, 1, "eval: test" },
	{ "other modifier", "header X From:host =~ /a/\n",
	  RULES_DIAG_UNSUPPORTED, 1, "header modifier :host" },
	{ "pseudo header", "header X ALL-TRUSTED =~ /a/\n",
	  RULES_DIAG_UNSUPPORTED, 1, "pseudo-header ALL-TRUSTED" },
	{ "unknown relays header", "header X X-Spam-Relays-Other =~ /a/\n",
	  RULES_DIAG_UNSUPPORTED, 1, "pseudo-header X-Spam-Relays-Other" },
	{ "mimeheader modifier", "mimeheader X From:addr =~ /a/\n",
	  RULES_DIAG_UNSUPPORTED, 1, "mimeheader modifier :addr" },
	{ "plugin directive", "uridnsbl X dnsbl.example A\n",
	  RULES_DIAG_UNSUPPORTED, 1, "directive 'uridnsbl'" },
	{ "unknown directive", "required_score 5\n", RULES_DIAG_UNSUPPORTED,
	  1, "directive 'required_score' ignored" },
	{ "ifplugin", "ifplugin Mail::SpamAssassin::Plugin::URIDNSBL\nheader X "
	  "eval:y()\nendif\n", RULES_DIAG_UNSUPPORTED, 1,
	  "plugins are not provided" },
	{ "odd if", "if foo(bar)\nendif\n", RULES_DIAG_UNSUPPORTED, 1,
	  "condition not understood" },
	{ "meta over eval", "header E eval:x()\nbody B /b/\nmeta M B && E\n",
	  RULES_DIAG_WARNING, 3, "depends on the unsupported rule E" },
	{ "meta over nothing", "meta M NOPE\n", RULES_DIAG_WARNING, 1,
	  "depends on the undefined rule NOPE, which counts as not hit" },
	{ "meta over a skipped block", "ifplugin Mail::SpamAssassin::Plugin::"
	  "DNSEval\nheader __W eval:check_rbl('w', 'wl.example.')\nendif\n"
	  "body A /a/\nmeta M A && !__W\n", RULES_DIAG_UNSUPPORTED, 5,
	  "rule __W is defined only in a block skipped here" },
	{ "redefinition", "body X /a/\nbody X /b/\n", RULES_DIAG_WARNING, 2,
	  "redefined" },
	{ "unknown tflag", "body X /a/\ntflags X sparkly\n",
	  RULES_DIAG_WARNING, 2, "unknown flag 'sparkly'" },
	{ "describe of nothing", "describe NOPE text\n", RULES_DIAG_WARNING,
	  1, "not a rule" },
	{ "replace_rules of nothing", "body X /a/\nreplace_rules X NOPE\n",
	  RULES_DIAG_WARNING, 2, "replace_rules names NOPE, which is not a "
	  "regex rule" },
	{ "replace_tag without regex", "replace_tag A\n", RULES_DIAG_ERROR, 1,
	  "want a name and a regex" },
	{ "replace_tags explode", "replace_tag X (?:<X>|<X>|<X>|<X>|<X>|<X>)\n"
	  "body B /<X>/\nreplace_rules B\n", RULES_DIAG_WARNING, 2,
	  "rule B disabled: replace_tags make its regex larger" },
	{ "replace_tags bad result", "replace_tag P (\nbody B /<P>/\n"
	  "replace_rules B\n", RULES_DIAG_WARNING, 2,
	  "rule B disabled: its regex after replace_tags" },
};

START_TEST(test_rules_diagnostics_name_file_and_line)
{
	struct rules_report rep;
	struct ruleset *rs;
	struct buf all = BUF_INIT;
	size_t i, len = strlen(diag_cases[_i].text);
	bool found = false;
	int rc;

	if (strcmp(diag_cases[_i].name, "NUL byte") == 0)
		len = 13;
	rc = rules_parse_text(diag_cases[_i].text, len, "t.cf", NULL, &rs,
	    &rep);
	for (i = 0; i < rep.n; i++) {
		rules_diag_format(&rep.v[i], &all);
		buf_addc(&all, '\n');
		if (rep.v[i].kind == diag_cases[_i].kind &&
		    rep.v[i].line == diag_cases[_i].line &&
		    strcmp(rep.v[i].file, "t.cf") == 0 &&
		    strstr(rep.v[i].text, diag_cases[_i].contains))
			found = true;
	}
	ck_assert_msg(found, "%s: no %d at line %u with '%s'; got:\n%s",
	    diag_cases[_i].name, diag_cases[_i].kind, diag_cases[_i].line,
	    diag_cases[_i].contains, buf_cstr(&all));
	if (diag_cases[_i].kind == RULES_DIAG_ERROR)
		ck_assert_msg(rc < 0 && rs == NULL, "%s: loaded despite errors",
		    diag_cases[_i].name);
	else
		ck_assert_msg(rc == 0 && rs != NULL, "%s: refused",
		    diag_cases[_i].name);
	rules_free(rs);
	rules_report_release(&rep);
	buf_release(&all);
}
END_TEST

START_TEST(test_rules_include_relative_and_counts)
{
	char dir[] = "/tmp/mw-rules-XXXXXX";
	char path[256];
	struct rules_report rep;
	struct ruleset *rs;
	const char *paths[1];
	FILE *f;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/10_main.cf", dir);
	f = fopen(path, "w");
	fputs("include sub/extra.inc\nbody A /a/\n", f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/sub", dir);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/sub/extra.inc", dir);
	f = fopen(path, "w");
	fputs("header B Subject =~ /b/\nmeta C A || B\n\nbody bad /(/\n", f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/README", dir);	/* not *.cf */
	f = fopen(path, "w");
	fputs("this is not a rule file\n", f);
	fclose(f);
	paths[0] = dir;
	ck_assert_int_eq(rules_load(paths, 1, NULL, &rs, &rep), -1);
	ck_assert_uint_eq(rep.files, 2);
	ck_assert_uint_eq(rep.nerrors, 1);
	snprintf(path, sizeof(path), "%s/sub/extra.inc", dir);
	ck_assert_str_eq(rep.v[0].file, path);
	ck_assert_uint_eq(rep.v[0].line, 4);
	rules_report_release(&rep);

	f = fopen(path, "w");
	fputs("header B Subject =~ /b/\nmeta C A || B\n", f);
	fclose(f);
	ck_assert_int_eq(rules_load(paths, 1, NULL, &rs, &rep), 0);
	ck_assert_uint_eq(rep.by_type[RULE_BODY], 1);
	ck_assert_uint_eq(rep.by_type[RULE_HEADER], 1);
	ck_assert_uint_eq(rep.by_type[RULE_META], 1);
	rules_free(rs);
	rules_report_release(&rep);
	unlink(path);
	snprintf(path, sizeof(path), "%s/sub", dir);
	rmdir(path);
	snprintf(path, sizeof(path), "%s/10_main.cf", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/README", dir);
	unlink(path);
	rmdir(dir);
}
END_TEST

START_TEST(test_rules_include_loop_is_an_error)
{
	char path[] = "/tmp/mw-loop-XXXXXX";
	struct rules_report rep;
	struct ruleset *rs;
	const char *paths[1];
	int fd = mkstemp(path);
	FILE *f = fdopen(fd, "w");

	fprintf(f, "include %s\n", path);
	fclose(f);
	paths[0] = path;
	ck_assert_int_eq(rules_load(paths, 1, NULL, &rs, &rep), -1);
	ck_assert_ptr_nonnull(strstr(rules_report_first_error(&rep)->text,
	    "deeper than"));
	rules_report_release(&rep);
	unlink(path);
}
END_TEST

/* ------------------------------------------------------------------ */
/* matching semantics                                                  */
/* ------------------------------------------------------------------ */

static const char sample_msg[] =
    "Received: from a by b; Mon, 1 Jan 2024 00:00:00 +0000\r\n"
    "Received: from c by d\r\n"
    "From: \"Jane Q. Doe\" <jane@sender.example>\r\n"
    "To: Bob <bob@rcpt.example>, carol@rcpt.example\r\n"
    "Cc: dave@cc.example (Dave D)\r\n"
    "Subject: =?utf-8?q?Caf=C3=A9_special:_FREE_offer?=\r\n"
    "Message-ID: <abc@sender.example>\r\n"
    "X-Mailer: Mass Mailer 3.0\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: multipart/alternative; boundary=b\r\n"
    "\r\n"
    "--b\r\n"
    "Content-Type: text/plain\r\n"
    "\r\n"
    "Buy now, buy\r\n"
    "   cheap  pills.\r\n"
    "\r\n"
    "Second paragraph buy buy buy.\r\n"
    "Visit http://shop.example/offer?id=1 today\r\n"
    "--b\r\n"
    "Content-Type: text/html\r\n"
    "\r\n"
    "<p>Click <a href=\"http://evil.example/x\">here</a>\r\n"
    "<font color=red>REALLY&nbsp;cheap</font></p>\r\n"
    "--b--\r\n";

static const char sample_rules[] =
    "header SUBJ_DECODED   Subject =~ /Caf\\xc3\\xa9 special/\n"
    "header SUBJ_RAW       Subject:raw =~ /=\\?utf-8\\?q\\?/\n"
    "header SUBJ_RAW_NOT   Subject:raw =~ /Caf\\xc3\\xa9/\n"
    "header FROM_ADDR      From:addr =~ /^jane\\@sender\\.example$/\n"
    "header FROM_NAME      From:name =~ /^Jane Q\\. Doe$/\n"
    "header TO_ADDR        To:addr =~ /^bob\\@rcpt\\.example$/\n"
    "header CC_NAME        Cc:name =~ /^Dave D$/\n"
    "header TOCC           ToCc =~ /carol.*\\n.*dave/s\n"
    "header ALL_HDRS       ALL =~ /^X-Mailer: Mass/m\n"
    "header ALL_RAW        ALL:raw =~ /^Subject: =\\?utf-8/m\n"
    "header RCVD_JOINED    Received =~ /from a by b.*\\nfrom c by d$/s\n"
    "header MSGID          MESSAGEID =~ /sender\\.example/\n"
    "header ENVFROM        EnvelopeFrom =~ /^bounce\\@envelope\\.example$/\n"
    "header HAS_MAILER     exists:X-Mailer\n"
    "header HAS_NOPE       exists:X-Nope\n"
    "header NO_LIST        List-Id !~ /./\n"
    "header NOT_MAILER     X-Mailer !~ /Mass/\n"
    "header UNSET          X-Nope =~ /^dflt$/ [if-unset: dflt]\n"
    "header CASE_FIELD     x-mailer =~ /Mass/\n"
    "body   BODY_JOINED    /Buy now, buy cheap pills\\./\n"
    "body   BODY_ANCHOR    /^Second paragraph/\n"
    "body   BODY_SUBJECT   /^Caf\\xc3\\xa9 special: FREE offer$/\n"
    "body   BODY_NOSUBJ    /FREE offer/\n"
    "tflags BODY_NOSUBJ    nosubject\n"
    "body   BODY_HTML_TEXT /Click here REALLY cheap/\n"
    "body   BODY_NO_TAGS   /<font/\n"
    "body   BUY            /\\bbuy\\b/i\n"
    "tflags BUY            multiple\n"
    "body   BUY_MAX        /\\bbuy\\b/i\n"
    "tflags BUY_MAX        maxhits=2\n"
    "body   BUY_ONCE       /\\bbuy\\b/i\n"
    "rawbody RAW_TAG       /<font color=red>/\n"
    "rawbody RAW_LINE      /^   cheap  pills\\.$/\n"
    "rawbody RAW_NBSP      /REALLY&nbsp;cheap/\n"
    "uri    URI_TEXT       m{^http://shop\\.example/offer\\?id=1$}\n"
    "uri    URI_HREF       /evil\\.example/\n"
    "uri    URI_NONE       /nowhere\\.example/\n"
    "full   FULL_HDR_BODY  /^X-Mailer: Mass.*\\n\\n--b\\n/ms\n"
    "full   FULL_LF        /\\r/\n"
    "meta   META_SUM       (BUY + HAS_MAILER) > 5\n"
    "meta   META_SUM_NO    (BUY_ONCE + HAS_MAILER) > 2\n"
    "meta   META_BOOL      FROM_ADDR && !HAS_NOPE && (URI_NONE || URI_HREF)\n"
    "meta   META_META      META_BOOL && META_SUM\n";

static const struct {
	const char *rule;
	unsigned want;
} sem_cases[] = {
	{ "SUBJ_DECODED", 1 }, { "SUBJ_RAW", 1 }, { "SUBJ_RAW_NOT", 0 },
	{ "FROM_ADDR", 1 }, { "FROM_NAME", 1 }, { "TO_ADDR", 1 },
	{ "CC_NAME", 1 }, { "TOCC", 1 }, { "ALL_HDRS", 1 }, { "ALL_RAW", 1 },
	{ "RCVD_JOINED", 1 }, { "MSGID", 1 }, { "ENVFROM", 1 },
	{ "HAS_MAILER", 1 }, { "HAS_NOPE", 0 }, { "NO_LIST", 1 },
	{ "NOT_MAILER", 0 }, { "UNSET", 1 }, { "CASE_FIELD", 1 },
	{ "BODY_JOINED", 1 }, { "BODY_ANCHOR", 1 }, { "BODY_SUBJECT", 1 },
	{ "BODY_NOSUBJ", 0 }, { "BODY_HTML_TEXT", 1 }, { "BODY_NO_TAGS", 0 },
	{ "BUY", 5 }, { "BUY_MAX", 2 }, { "BUY_ONCE", 1 },
	{ "RAW_TAG", 1 }, { "RAW_LINE", 1 }, { "RAW_NBSP", 1 },
	{ "URI_TEXT", 1 }, { "URI_HREF", 1 }, { "URI_NONE", 0 },
	{ "FULL_HDR_BODY", 1 }, { "FULL_LF", 0 },
	{ "META_SUM", 1 }, { "META_SUM_NO", 0 }, { "META_BOOL", 1 },
	{ "META_META", 1 },
};

START_TEST(test_rules_full_drops_only_crlf_crs)
{
	/*
	 * full rules see LF line ends: a CR before an LF goes, a lone CR
	 * in the body stays; header values lose every CR (unfolding)
	 */
	struct ruleset *rs = set_from(
	    "full FULL_LONE_CR /x\\ry/\n"
	    "full FULL_CRLF /\\r\\n/\n"
	    "full FULL_FOLDED /^Subject: one\\n\\ttwo$/m\n"
	    "full FULL_ENDS /\\nz\\r\\n?$/\n");
	struct tmsg t;

	tmsg_init(&t, "Subject: one\r\n\ttwo\r\n\r\nx\ry\r\nz\r");
	ck_assert_uint_eq(count(rs, &t, "FULL_LONE_CR", 0), 1);
	ck_assert_uint_eq(count(rs, &t, "FULL_CRLF", 0), 0);
	ck_assert_uint_eq(count(rs, &t, "FULL_FOLDED", 0), 1);
	ck_assert_uint_eq(count(rs, &t, "FULL_ENDS", 0), 1);
	tmsg_release(&t);
	rules_free(rs);
}
END_TEST

START_TEST(test_rules_match_semantics_per_type)
{
	struct ruleset *rs = set_from(sample_rules);
	struct tmsg t;
	unsigned got, got_nopf;

	tmsg_init(&t, sample_msg);
	got = count(rs, &t, sem_cases[_i].rule, 0);
	got_nopf = count(rs, &t, sem_cases[_i].rule, RULES_EVAL_NO_PREFILTER);
	ck_assert_msg(got == sem_cases[_i].want, "%s: %u hits, want %u",
	    sem_cases[_i].rule, got, sem_cases[_i].want);
	ck_assert_msg(got_nopf == got, "%s: %u without prefilter, %u with",
	    sem_cases[_i].rule, got_nopf, got);
	tmsg_release(&t);
	rules_free(rs);
}
END_TEST

static void
collect(const char *where, const char *text, void *arg)
{
	buf_printf(arg, "%s=%s;", where, text);
}

START_TEST(test_rules_test_reports_where_and_what)
{
	struct ruleset *rs = set_from(sample_rules);
	struct buf out = BUF_INIT;
	struct tmsg t;
	long n;

	tmsg_init(&t, sample_msg);
	n = rules_test(rs, "BUY_ONCE", t.m, t.mm, collect, &out);
	ck_assert_int_eq(n, 5);
	ck_assert_ptr_nonnull(strstr(buf_cstr(&out),
	    "body paragraph 2=Buy;"));
	buf_reset(&out);
	ck_assert_int_eq(rules_test(rs, "FROM_NAME", t.m, t.mm, collect,
	    &out), 1);
	ck_assert_str_eq(buf_cstr(&out), "header From:name=Jane Q. Doe;");
	buf_reset(&out);
	ck_assert_int_eq(rules_test(rs, "META_BOOL", t.m, t.mm, collect,
	    &out), 1);
	ck_assert_ptr_nonnull(strstr(buf_cstr(&out), "operand=URI_HREF = 1;"));
	ck_assert_int_eq(rules_test(rs, "NO_SUCH", t.m, t.mm, collect, &out),
	    -1);
	tmsg_release(&t);
	rules_free(rs);
	buf_release(&out);
}
END_TEST

/*
 * SpamAssassin's ReplaceTags, as its stock 25_replace.cf uses it: tags,
 * inter and post modifiers, tags inside tags, definitions after the
 * rule, the ifplugin block around it; rules not listed keep their text.
 */
static const char replace_rules_text[] =
    "ifplugin Mail::SpamAssassin::Plugin::ReplaceTags\n"
    "body   RT_OBFU    /<inter W1><post P2>(?!viagra)<V><I><A><G><R><A>/i\n"
    "body   RT_NESTED  /\\bcheap <WORD>\\b/i\n"
    "body   RT_PRE     /<pre Q>x<A>/\n"
    "body   RT_PLAIN   /<A>bc/\n"
    "header RT_HDR     Subject =~ /^<A>ct now/i\n"
    "replace_rules RT_OBFU RT_NESTED RT_HDR\n"
    "replace_rules RT_PRE\n"
    "replace_tag   A    [a@4]\n"
    "replace_tag   I    [il1!|]\n"
    "replace_tag   V    (?:[vu]|\\\\\\/)\n"
    "replace_tag   G    [gk]\n"
    "replace_tag   R    [r3]\n"
    "replace_tag   WORD <V><I><A><G><R><A>\n"
    "replace_inter W1   \\W?\n"
    "replace_post  P2   {1,2}\n"
    "replace_pre   Q    y\n"
    "endif\n";

static const char replace_msg[] =
    "From: a@example.org\r\nSubject: 4ct now\r\n\r\n"
    "Get v.i.a.g.r.a here, not viagra.  Cheap vi4gra!  @bc <A>bc xy@\r\n";

START_TEST(test_rules_replace_tags)
{
	struct rules_report rep;
	struct ruleset *rs;
	struct tmsg t;
	size_t i;

	ck_assert_int_eq(rules_parse_text(replace_rules_text,
	    strlen(replace_rules_text), "t.cf", NULL, &rs, &rep), 0);
	for (i = 0; i < rep.n; i++)
		ck_assert_msg(rep.v[i].kind != RULES_DIAG_UNSUPPORTED,
		    "line %u: %s", rep.v[i].line, rep.v[i].text);
	rules_report_release(&rep);
	tmsg_init(&t, replace_msg);
	/* v.i.a.g.r.a: each letter class, \W? between, {1,2} after */
	ck_assert_uint_eq(count(rs, &t, "RT_OBFU", 0), 1);
	/* a tag whose text is tags */
	ck_assert_uint_eq(count(rs, &t, "RT_NESTED", 0), 1);
	ck_assert_uint_eq(count(rs, &t, "RT_HDR", 0), 1);
	/* pre goes before the tag: x, y, [a@4] matches "xy@" (and the
	   message has no "x@" that the regex without pre would match) */
	ck_assert_uint_eq(count(rs, &t, "RT_PRE", 0), 1);
	/* not listed in replace_rules: <A> is literal text */
	ck_assert_uint_eq(count(rs, &t, "RT_PLAIN", 0), 1);
	ck_assert_uint_eq(count(rs, &t, "RT_PLAIN",
	    RULES_EVAL_NO_PREFILTER), 1);
	ck_assert_uint_eq(count(rs, &t, "RT_OBFU", RULES_EVAL_NO_PREFILTER),
	    1);
	tmsg_release(&t);
	rules_free(rs);
}
END_TEST

/*
 * mimeheader (SpamAssassin's MIMEHeader): the field of every MIME part,
 * each value matched on its own, so ^ anchors at each part's value.
 */
static const char mimeheader_rules[] =
    "ifplugin Mail::SpamAssassin::Plugin::MIMEHeader\n"
    "mimeheader MH_GIF     Content-Type =~ /^image\\/gif\\b/i\n"
    "mimeheader MH_RAW     Content-Type:raw =~ /^image\\/gif;\\s+NAME=/\n"
    "mimeheader MH_DECODED Content-Type =~ /^image\\/gif;\\s+NAME=/\n"
    "mimeheader MH_TOP     Content-Type =~ /^multipart\\/mixed/\n"
    "mimeheader MH_NO_CL   Content-Location !~ /./\n"
    "mimeheader MH_HAS_CTE Content-Transfer-Encoding !~ /^base64$/\n"
    "mimeheader MH_PDF     Content-Type =~ /pdf/\n"
    "mimeheader MH_EACH    Content-Type =~ /^(?:text|image)\\//\n"
    "tflags     MH_EACH    multiple\n"
    "endif\n"
    "header     H_GIF      Content-Type =~ /^image\\/gif\\b/i\n";

static const char mimeheader_msg[] =
    "From: a@example.org\r\nSubject: x\r\nMIME-Version: 1.0\r\n"
    "Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n"
    "--b\r\nContent-Type: text/plain\r\n\r\nhello\r\n"
    "--b\r\nContent-Type: image/gif;\r\n\tNAME=\"a.gif\"\r\n"
    "Content-Transfer-Encoding: base64\r\n\r\nR0lGODlh\r\n--b--\r\n";

START_TEST(test_rules_mimeheader)
{
	static const struct { const char *rule; unsigned want; } want[] = {
		{ "MH_GIF", 1 }, { "MH_RAW", 1 }, { "MH_DECODED", 1 },
		{ "MH_TOP", 1 }, { "MH_NO_CL", 1 }, { "MH_HAS_CTE", 0 },
		{ "MH_PDF", 0 }, { "MH_EACH", 2 },
		/* a header rule sees the message's own field only */
		{ "H_GIF", 0 },
	};
	struct rules_report rep;
	struct ruleset *rs;
	struct tmsg t;
	size_t i;

	ck_assert_int_eq(rules_parse_text(mimeheader_rules,
	    strlen(mimeheader_rules), "t.cf", NULL, &rs, &rep), 0);
	ck_assert_uint_eq(rep.n, 0);
	rules_report_release(&rep);
	tmsg_init(&t, mimeheader_msg);
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		ck_assert_msg(count(rs, &t, want[i].rule, 0) == want[i].want,
		    "%s: %u hits, want %u", want[i].rule,
		    count(rs, &t, want[i].rule, 0), want[i].want);
		ck_assert_uint_eq(count(rs, &t, want[i].rule,
		    RULES_EVAL_NO_PREFILTER), want[i].want);
	}
	tmsg_release(&t);
	rules_free(rs);
}
END_TEST

START_TEST(test_rules_body_part_limit_cuts_at_white_space)
{
	struct rules_options opt = { .score_set = 3, .body_part_max = 2000,
	    .rawbody_part_max = 3000 };
	struct rules_report rep;
	struct ruleset *rs;
	struct buf msg = BUF_INIT;
	struct tmsg t;
	static const char text[] = "body EARLY /early phrase/\n"
	    "body LATE /late phrase/\nrawbody RAW_LATE /late phrase/\n"
	    "rawbody RAW_MID /middle phrase/\n";

	ck_assert_int_eq(rules_parse_text(text, sizeof(text) - 1, "t.cf",
	    &opt, &rs, &rep), 0);
	rules_report_release(&rep);
	buf_adds(&msg, "Subject: x\r\n\r\nearly phrase\r\n");
	while (msg.len < 2500)
		buf_adds(&msg, "filler words\r\n");
	buf_adds(&msg, "middle phrase\r\n");
	while (msg.len < 6000)
		buf_adds(&msg, "filler words\r\n");
	buf_adds(&msg, "late phrase\r\n");
	tmsg_init(&t, msg.data);
	ck_assert_uint_eq(count(rs, &t, "EARLY", 0), 1);
	ck_assert_uint_eq(count(rs, &t, "LATE", 0), 0);
	ck_assert_uint_eq(count(rs, &t, "RAW_MID", 0), 1);
	ck_assert_uint_eq(count(rs, &t, "RAW_LATE", 0), 0);
	tmsg_release(&t);
	rules_free(rs);
	buf_release(&msg);
}
END_TEST

/* ------------------------------------------------------------------ */
/* meta expressions                                                    */
/* ------------------------------------------------------------------ */

static const struct {
	const char *expr;
	bool hit;
} meta_cases[] = {
	/* A hits 1, B 3 times (multiple), Z 0 */
	{ "A", true }, { "Z", false }, { "!Z", true }, { "!!A", true },
	{ "A && Z", false }, { "A || Z", true }, { "A && !Z", true },
	{ "B > 2", true }, { "B > 3", false }, { "B >= 3", true },
	{ "B == 3", true }, { "B != 3", false }, { "B < 4", true },
	{ "B <= 2", false }, { "(A + B + Z) > 3", true },
	{ "(A + B + Z) > 4", false }, { "A + B * 2 == 7", true },
	{ "(A + B) * 2 == 8", true }, { "B - A - A == 1", true },
	{ "B / 2 > 1", true }, { "A / Z", false },
	{ "-A + 2 == 1", true }, { "A || Z && Z", true },
	{ "(A || Z) && Z", false }, { "1", true }, { "0.5 > 0.25", true },
	{ "!(A && B) || Z", false }, { "A&&B", true },
};

START_TEST(test_rules_meta_expressions)
{
	struct buf text = BUF_INIT;
	struct ruleset *rs;
	struct tmsg t;

	buf_printf(&text, "body A /alpha/\nbody B /beta/\ntflags B multiple\n"
	    "body Z /zeta/\nmeta M %s\n", meta_cases[_i].expr);
	rs = set_from(text.data);
	tmsg_init(&t, "Subject: x\r\n\r\nalpha beta beta\r\n\r\nbeta\r\n");
	ck_assert_msg((count(rs, &t, "M", 0) != 0) == meta_cases[_i].hit,
	    "%s: want %s", meta_cases[_i].expr, meta_cases[_i].hit ? "hit" :
	    "no hit");
	tmsg_release(&t);
	rules_free(rs);
	buf_release(&text);
}
END_TEST

START_TEST(test_rules_meta_chain_evaluates_in_dependency_order)
{
	/* defined before their operands, several levels deep */
	struct ruleset *rs = set_from(
	    "meta TOP __M2 && __M1\nmeta __M2 __M1 || Z\nmeta __M1 A\n"
	    "body A /alpha/\nbody Z /zeta/\n");
	struct tmsg t;

	tmsg_init(&t, "Subject: x\r\n\r\nalpha\r\n");
	ck_assert_uint_eq(count(rs, &t, "TOP", 0), 1);
	ck_assert(!rule_scored(rules_find(rs, "__M1")));
	ck_assert(rule_scored(rules_find(rs, "TOP")));
	tmsg_release(&t);
	rules_free(rs);
}
END_TEST

START_TEST(test_rules_if_can_features)
{
	/* the features this engine has, the evals it provides; not the
	   rest, and a block a false can() skips is noted */
	static const char text[] =
	    "if can(Mail::SpamAssassin::Conf::feature_bug6558_free)\n"
	    "body A /a/\nendif\n"
	    "if !can(Mail::SpamAssassin::Conf::feature_bug6558_free)\n"
	    "body NOT_A /a/\nendif\n"
	    "if (can(Mail::SpamAssassin::Conf::perl_min_version_5010000))\n"
	    "body B /b/\nendif\n"
	    "if can(Mail::SpamAssassin::Plugin::MIMEEval::"
	    "has_check_for_ascii_text_illegal)\nbody C /c/\nendif\n"
	    "if can(Mail::SpamAssassin::Plugin::BodyEval::has_check_no_such)\n"
	    "body D /d/\nendif\n"
	    "if can(Mail::SpamAssassin::Conf::feature_capture_rules)\n"
	    "body E /e/\nelse\nbody F /f/\nendif\n";
	struct rules_report rep;
	struct ruleset *rs;
	struct buf all = BUF_INIT;
	size_t i;

	ck_assert_int_eq(rules_parse_text(text, sizeof(text) - 1, "t.cf",
	    NULL, &rs, &rep), 0);
	ck_assert_ptr_nonnull(rules_find(rs, "A"));
	ck_assert_ptr_null(rules_find(rs, "NOT_A"));
	ck_assert_ptr_nonnull(rules_find(rs, "B"));
	ck_assert_ptr_nonnull(rules_find(rs, "C"));
	ck_assert_ptr_null(rules_find(rs, "D"));
	ck_assert_ptr_null(rules_find(rs, "E"));
	ck_assert_ptr_nonnull(rules_find(rs, "F"));
	for (i = 0; i < rep.n; i++) {
		rules_diag_format(&rep.v[i], &all);
		buf_addc(&all, '\n');
	}
	ck_assert_msg(strstr(buf_cstr(&all), "t.cf:16: unsupported: if "
	    "can(Mail::SpamAssassin::Conf::feature_capture_rules): false "
	    "here; block skipped") != NULL, "%s", buf_cstr(&all));
	ck_assert_msg(strstr(buf_cstr(&all), "t.cf:13:") != NULL, "%s",
	    buf_cstr(&all));
	rules_free(rs);
	rules_report_release(&rep);
	buf_release(&all);
}
END_TEST

START_TEST(test_rules_meta_undefined_operand_counts_as_not_hit)
{
	/* as SpamAssassin reads it: the meta runs, the missing name is 0;
	   an operand that exists but cannot run still disables the meta */
	struct ruleset *rs = set_from(
	    "ifplugin Mail::SpamAssassin::Plugin::DNSEval\n"
	    "header __WL eval:check_rbl('wl', 'wl.example.')\nendif\n"
	    "body A /alpha/\nmeta NOT_LISTED A && !__WL\n"
	    "meta LISTED A && __WL\nmeta TYPO A && !__NO_SUCH_RULE\n"
	    "header E eval:no_such_function()\nmeta OVER_EVAL A && !E\n");
	struct tmsg t;

	tmsg_init(&t, "Subject: x\r\n\r\nalpha\r\n");
	ck_assert_uint_eq(count(rs, &t, "NOT_LISTED", 0), 1);
	ck_assert_uint_eq(count(rs, &t, "LISTED", 0), 0);
	ck_assert_uint_eq(count(rs, &t, "TYPO", 0), 1);
	ck_assert(rules_find(rs, "OVER_EVAL") == NULL ||
	    !rule_enabled(rules_find(rs, "OVER_EVAL")));
	tmsg_release(&t);
	rules_free(rs);
}
END_TEST

/* ------------------------------------------------------------------ */
/* limits                                                              */
/* ------------------------------------------------------------------ */

static void
catastrophic(bool jit)
{
	struct rules_options opt = { .match_limit = 10000, .score_set = 3,
	    .no_jit = !jit };
	struct rules_report rep;
	struct ruleset *rs;
	struct rules_result res;
	struct buf msg = BUF_INIT;
	struct tmsg t;
	/*
	 * literals the prefilters let through: PCRE2 has to run them (long
	 * enough not to be weak: Hyperscan would reject these texts)
	 */
	static const char text[] = "body EVIL /^(aaaaa+)+$/\n"
	    "body EVIL2 /(xxxxx+x+)+y/\nbody FINE /aaa/\n";
	char *logged;
	size_t i;

	ck_assert_int_eq(rules_parse_text(text, sizeof(text) - 1, "t.cf",
	    &opt, &rs, &rep), 0);
	rules_report_release(&rep);
	buf_adds(&msg, "Subject: x\r\n\r\n");
	for (i = 0; i < 40; i++)
		buf_addc(&msg, 'a');
	buf_adds(&msg, "!\r\n\r\n");
	for (i = 0; i < 40; i++)
		buf_addc(&msg, 'x');
	buf_adds(&msg, "!y\r\n");
	tmsg_init(&t, msg.data);
	log_set_sink(LOG_SINK_CAPTURE);
	rules_eval(rs, t.m, t.mm, 0, &res);
	logged = log_capture_take();
	log_set_sink(LOG_SINK_STDERR);
	ck_assert_uint_eq(res.nlimited, 2);
	ck_assert_uint_eq(res.nhits, 1);
	ck_assert_str_eq(rule_name(res.hits[0].rule), "FINE");
	ck_assert_ptr_nonnull(strstr(logged, "rule EVIL: regex stopped"));
	ck_assert_ptr_nonnull(strstr(logged, "rule EVIL2: regex stopped"));
	free(logged);
	rules_result_release(&res);
	tmsg_release(&t);
	rules_free(rs);
	buf_release(&msg);
}

START_TEST(test_rules_catastrophic_regex_stopped_jit)
{
	catastrophic(true);
}
END_TEST

START_TEST(test_rules_catastrophic_regex_stopped_interpreter)
{
	catastrophic(false);
}
END_TEST

START_TEST(test_rules_catastrophic_regex_becomes_symbol)
{
	char dir[] = "/tmp/mw-evil-XXXXXX";
	char path[256];
	struct buf conf = BUF_INIT;
	struct engine *e;
	struct scan *s;
	struct msg *m;
	const struct symbol *sym;
	FILE *f;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/evil.cf", dir);
	f = fopen(path, "w");
	fputs("body EVIL /^(aaa+)+$/\n", f);
	fclose(f);
	buf_printf(&conf, "rules_dir = %s\nrules_site_dir =\nspf = no\n"
	    "dmarc = no\nrules_match_limit = 10000\n", dir);
	e = test_engine(conf.data);
	log_set_sink(LOG_SINK_CAPTURE);
	s = test_scan_text(e, "192.0.2.1", "h", "a@b.example", "c@d.example",
	    "Subject: x\r\n\r\naaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!\r\n",
	    58, &m);
	free(log_capture_take());
	log_set_sink(LOG_SINK_STDERR);
	sym = verdict_symbol(&s->verdict, "RULES_REGEX_LIMIT");
	ck_assert_ptr_nonnull(sym);
	ck_assert_ptr_nonnull(strstr(sym->detail, "EVIL"));
	ck_assert_ptr_null(verdict_symbol(&s->verdict, "EVIL"));
	scan_free(&s);
	msg_free(&m);
	engine_unref(e);
	unlink(path);
	rmdir(dir);
	buf_release(&conf);
}
END_TEST

/* ------------------------------------------------------------------ */
/* prefilter                                                           */
/* ------------------------------------------------------------------ */

static const struct {
	const char *re;
	const char *want;	/* literals, or "none" */
} factor_cases[] = {
	{ "viagra", "[viagra]" },
	{ "ViAgRa", "[viagra]" },
	{ "v.agra", "[agra]" },
	{ "cheap (pills|meds)", "[cheap pills][cheap meds]" },
	{ "(pills|medications) online", "[pills online][medications online]" },
	{ "the (?:late|deceased) (?:client|mr)\\b",
	    "[the late client][the late mr][the deceased client][the deceased mr]" },
	{ "(?:free|cheap)?money", "[money]" },
	{ "(?:abc|d\\w)efg", "[efg]" },
	{ "x(?:ab|cd)*y", "none" },
	{ "(?:a|(?:b|c)d)e(?:f|g)", "[aef][aeg][bdef][bdeg][cdef][cdeg]" },
	/* 9 x 8 joined would be over RX_MAX_ALTS (64): the run breaks */
	{ "(?:a|b|c|d|e|f|g|h|i)(?:j|k|l|m|n|o|p|q)xyz", "[xyz]" },
	{ "(pills|meds)", "[pills][meds]" },
	{ "(pills|me)", "none" },
	{ "(?:free)?money", "[money]" },
	{ "(free)*", "none" },
	{ "fre+e", "[fre]" },
	{ "free{2}", "[free]" },
	{ "fr[e]e", "[free]" },
	{ "fr[eE]e", "[free]" },
	{ "fr[ea]e", "none" },
	{ "\\bfree\\b", "[free]" },
	{ "\\x41bc", "[abc]" },
	{ "a\\.b\\.c", "[a.b.c]" },
	{ "\\d+ dollars", "[ dollars]" },
	{ "(?i)money", "[money]" },
	{ "(?=money)mon", "[mon]" },
	{ "(?<!x)money", "[money]" },
	{ "mo(?#comment)ney", "[money]" },
	{ "m o n e y # c", "[m o n e y # c]" },
	{ "a|bcd", "none" },
	{ "(abc|def)(ghij|klmn)", "[abcghij][abcklmn][defghij][defklmn]" },
	{ "x{0,3}abc", "[abc]" },
	{ "abc{0,3}", "none" },
	{ "abcd{0,3}", "[abc]" },
	{ "(a)\\1bcd", "[bcd]" },
	{ "\\Qa.b\\E", "none" },
	{ "[^x]yz", "none" },
	{ "^$", "none" },
	{ "", "none" },
};

START_TEST(test_rules_factor_analysis)
{
	struct factors f;
	struct buf got = BUF_INIT;
	size_t k;

	memset(&f, 0, sizeof(f));
	rx_factors(factor_cases[_i].re, strlen(factor_cases[_i].re), 0, &f);
	if (f.none || f.n == 0)
		buf_adds(&got, "none");
	for (k = 0; k < f.n; k++)
		buf_printf(&got, "[%s]", f.v[k].data);
	ck_assert_msg(strcmp(buf_cstr(&got), factor_cases[_i].want) == 0,
	    "/%s/: got %s, want %s", factor_cases[_i].re, buf_cstr(&got),
	    factor_cases[_i].want);
	factors_release(&f);
	buf_release(&got);
}
END_TEST

START_TEST(test_rules_factor_extended_mode)
{
	struct factors f;

	memset(&f, 0, sizeof(f));
	rx_factors("m o n e y # c\n x", 17, PCRE2_EXTENDED, &f);
	ck_assert(!f.none);
	ck_assert_uint_eq(f.n, 1);
	ck_assert_str_eq(f.v[0].data, "moneyx");
	factors_release(&f);
}
END_TEST

/* tricky patterns: the prefilter must never lose a hit */
static const char *const equiv_patterns[] = {
	"/FrEe MoNeY/i", "/free\\s+money/", "/(?i)MILLION dollars/",
	"/\\bviag(?:ra|ara)\\b/i", "/c(?:i|1)alis/i", "/pr[i1]ce/",
	"/(?:best|cheap)\\s(?:price|deal)s?/i", "/\\$\\d+(?:\\.\\d\\d)?/",
	"/^subject: free/im", "/ONLY \\$?\\d+/", "/\\x46REE/", "/fr\\x{45}e/i",
	"/re(?=ply)/", "/(?<=un)subscribe/", "/ab(?!c)d/", "/\\Bree\\b/",
	"/x*y+zzz/", "/(?:a|b|c)def/", "/d(?:ef|xf)g/", "/gr(?:ee|ea)t/",
	"/(?x) g r e a t  \\s deal  \\# comment/", "/u\\.s\\.a/i",
	"/[Ww]inner/", "/w[i!1]nner/i", "/WINNER{1,2}/i", "/(win){2}ner/",
	"/\\Qwin.ner\\E/", "/(?|(win)|(los))ner/", "/wi(?:n|nn)er/",
	"/\\x{e9}t\\x{e9}/i", "/caf\\xc3\\xa9/", "/CAF\\xc3\\x89/i",
};

static const char *const equiv_texts[] = {
	"Subject: Free Money\r\n\r\nFREE    money now, free\tmoney! million "
	"DOLLARS\r\n"
	"\r\nBuy VIAGRA or Viagara or CIALIS c1alis at the best price: $19.99\r\n"
	"\r\nONLY 5 left. reply to unsubscribe abd\r\n",
	"Subject: winner\r\nContent-Type: text/html\r\n\r\n<p>WINNER WINNERR "
	"w!nner (win)winner winwinner win.ner winnner los ner</p>"
	"<p>great deal G R E A T u.S.A. caf\xc3\xa9 CAF\xc3\x89 "
	"\xc3\xa9t\xc3\xa9 frEe</p>\r\n",
	"Subject: x\r\n\r\nxxxyyyyzzz adef bdef gret great deal "
	"dxfg shree three\r\n",
};

/*
 * same_as_unfiltered - the prefiltered result of t is the one running
 * every regex everywhere gives: hits, counts, samples, limits; its hits
 */
static size_t
same_as_unfiltered(const struct ruleset *rs, const struct tmsg *t)
{
	struct rules_result a, b;
	size_t i, n;

	rules_eval(rs, t->m, t->mm, 0, &a);
	rules_eval(rs, t->m, t->mm, RULES_EVAL_NO_PREFILTER, &b);
	ck_assert_uint_eq(a.nhits, b.nhits);
	for (i = 0; i < a.nhits; i++) {
		ck_assert_ptr_eq(a.hits[i].rule, b.hits[i].rule);
		ck_assert_uint_eq(a.hits[i].count, b.hits[i].count);
		ck_assert_str_eq(a.hits[i].sample ? a.hits[i].sample : "",
		    b.hits[i].sample ? b.hits[i].sample : "");
	}
	ck_assert_uint_eq(a.nlimited, b.nlimited);
	n = a.nhits;
	rules_result_release(&a);
	rules_result_release(&b);
	return n;
}

START_TEST(test_rules_prefilter_never_loses_a_hit)
{
	struct buf text = BUF_INIT;
	struct ruleset *rs;
	struct tmsg t;
	size_t i, k, hits = 0;

	for (i = 0; i < sizeof(equiv_patterns) / sizeof(equiv_patterns[0]);
	    i++) {
		buf_printf(&text, "body B%zu %s\nrawbody R%zu %s\n"
		    "tflags B%zu multiple\n", i, equiv_patterns[i], i,
		    equiv_patterns[i], i);
	}
	rs = set_from(text.data);
	for (k = 0; k < sizeof(equiv_texts) / sizeof(equiv_texts[0]); k++) {
		tmsg_init(&t, equiv_texts[k]);
		hits += same_as_unfiltered(rs, &t);
		tmsg_release(&t);
	}
	ck_assert_uint_ge(hits, 40);	/* the texts do exercise the rules */
	rules_free(rs);
	buf_release(&text);
}
END_TEST

/*
 * Rules without a required literal (always rules), gated by Hyperscan
 * when it is built in: every hit, count and sample must be what running
 * every regex everywhere gives, on generated bodies with obfuscated
 * spellings, 8-bit bytes, empty and many paragraphs, URIs.
 */
static const char hs_rules[] =
    "body HS_VIAGRA /(?:\\b|\\s)[_\\W]{0,3}(?:\\\\\\/|V)[_\\W]{0,3}"
    "[ij1!|l\\xEC\\xED\\xEE\\xEF][_\\W]{0,3}[a40\\xE0-\\xE6@][_\\W]{0,3}"
    "g[_\\W]{0,3}r[_\\W]{0,3}[a40\\xE0-\\xE6@]/i\n"
    "body HS_ACT /\\bA(?i:ct) N(?i:ow)\\b/\n"
    "body HS_USD /(?:\\$|usd).?\\d{1,3}[,.]\\d{3}[,.]\\d{3}/i\n"
    "body HS_LINE /^\\s*\\S/m\ntflags HS_LINE multiple\n"
    "body HS_END /\\bx?y$/\n"
    "body HS_ENDM /^[a-z]{2}\\d$/m\ntflags HS_ENDM multiple\n"
    "body HS_DOT /a.b/s\nbody HS_NODOT /a.b/\n"
    "body HS_VT /\\s\\d\\s/\ntflags HS_VT multiple\n"
    "body HS_LOOK /(?<![-\\d])\\d{2}(?!\\d)/\ntflags HS_LOOK multiple\n"
    "body HS_BACKREF /(\\w)\\1{2}/\n"
    "body HS_COND /(?(?=a)ab|cd)/\n"
    "body HS_EMPTY /x*/\n"
    "body HS_REFUSED /a\\Kb/\ntflags HS_REFUSED multiple\n"
    "body HS_XMODE /v \\W? i \\W? a/xi\n"
    "body HS_XINLINE /(?i)(?s-m:.)(?x) v \\W? i \\W? a/\n"
    "rawbody HS_RAW8 /[\\x80-\\xff]{2}/\ntflags HS_RAW8 multiple\n"
    "rawbody HS_RAWV /V[_\\W]{0,3}i[_\\W]{0,3}a/i\n"
    "full HS_FULL /\\n\\s*\\n[^\\n]{0,5}\\$/\n"
    "uri HS_URI /^[^:A-Z]+[A-Z]/\n"
    /* weak literals ("the ", "you"): the literal and Hyperscan gate them */
    "body HS_WEAK /\\bthe\\s(?:late|deceased)\\s(?:client|mr)\\b/i\n"
    "tflags HS_WEAK multiple\n"
    "body HS_WEAK2 /\\byou(?:r|'re)?\\s(?:\\w+\\s){0,2}w[io]n+(?:er)?\\b/i\n"
    "rawbody HS_WEAKRAW /(?:abc|x\\$)\\d/\n";

static const char *const hs_tokens[] = {
	"Viagra", "V.i.a.g.r.a", "\\/ i @ g r a", "V_i_4_g_r_@", "v1agra",
	"V\xEC" "4gr\xE0", "VIAGRA", "vi agra", "V--i--a--g--r--a", "Act Now",
	"ACT NOW", "act now", "$1,000,000", "usd 12.345.678", "USD1,234,567",
	"x", "y", "xy", "ab3", "a\nb", "a b", "axb", "\x0b" "7\x0b", " 5 ",
	"-12", "345", "12", "aaa", "zzz", "ab", "cd", "\xc3\xa9t\xc3\xa9",
	"\xe9\xe8", "\r\n", "\r\n\r\n", "\r\n\r\n\r\n", " ", "\t",
	"http://example.com/ABC", "http://example.com/abc", "word", "V",
	"i", "a", "g", "r", "\xEC", "_", "!", "..", "$", "\r\n \r\n$5",
	"the", "the late", "THE LATE MR", "the deceased client", "late",
	"mr", "client", "you", "your", "you're", "won", "winner", "big",
	"abc", "abc1", "x$", "x$9",
};

START_TEST(test_rules_hyperscan_agrees_with_no_prefilter)
{
	struct ruleset *rs = set_from(hs_rules), *rs2;
	struct buf msg = BUF_INIT;
	struct tmsg t;
	size_t i, k, n, hits = 0;
	unsigned seed = 12345;

#ifdef HAVE_HYPERSCAN
	/* the test is about Hyperscan: the rules it takes are gated */
	ck_assert(rule_prefiltered_hs(rules_find(rs, "HS_VIAGRA")));
	ck_assert(rule_prefiltered_hs(rules_find(rs, "HS_RAW8")));
	ck_assert(rule_prefiltered_hs(rules_find(rs, "HS_URI")));
	/* weak literals: both prefilters */
	ck_assert(rule_prefiltered_hs(rules_find(rs, "HS_WEAK")));
	ck_assert(rule_prefiltered(rules_find(rs, "HS_WEAK")));
	ck_assert(rule_prefiltered_hs(rules_find(rs, "HS_WEAK2")));
	ck_assert(rule_prefiltered_hs(rules_find(rs, "HS_WEAKRAW")));
	/* refused by Hyperscan, or in x mode: still run on every element */
	ck_assert(!rule_prefiltered_hs(rules_find(rs, "HS_REFUSED")));
	ck_assert(!rule_prefiltered_hs(rules_find(rs, "HS_XMODE")));
	ck_assert(!rule_prefiltered_hs(rules_find(rs, "HS_XINLINE")));
#endif
	for (k = 0; k < 400; k++) {
		buf_reset(&msg);
		buf_adds(&msg, "Subject: t\r\nContent-Type: text/plain; "
		    "charset=iso-8859-1\r\n\r\n");
		n = k == 0 ? 0 : 1 + (seed >> 16) % 60;
		for (i = 0; i < n; i++) {
			seed = seed * 1103515245u + 12345u;
			buf_adds(&msg, hs_tokens[(seed >> 16) %
			    (sizeof(hs_tokens) / sizeof(hs_tokens[0]))]);
			if ((seed >> 8) & 1)
				buf_addc(&msg, ' ');
		}
		tmsg_init(&t, buf_cstr(&msg));
		hits += same_as_unfiltered(rs, &t);
		tmsg_release(&t);
	}
	ck_assert_uint_ge(hits, 400);	/* the bodies do exercise the rules */
	tmsg_init(&t, "Subject: t\r\n\r\nV.i.a.g.r.a and ab\r\n");
	ck_assert_uint_eq(count(rs, &t, "HS_VIAGRA", 0), 1);
	ck_assert_uint_eq(count(rs, &t, "HS_REFUSED", 0), 1);
	ck_assert_uint_eq(count(rs, &t, "HS_ACT", 0), 0);
	/* a reload: the thread's scratch follows the set it evaluates */
	rs2 = set_from("body HS_ONLY /V[_\\W]{0,3}i/\n");
	ck_assert_uint_eq(count(rs2, &t, "HS_ONLY", 0), 1);
	ck_assert_uint_eq(count(rs, &t, "HS_VIAGRA", 0), 1);
	ck_assert_uint_eq(count(rs2, &t, "HS_ONLY", 0), 1);
	rules_free(rs2);
	tmsg_release(&t);
	rules_free(rs);
	buf_release(&msg);
}
END_TEST

/* ------------------------------------------------------------------ */
/* engine: scores, symbols, reload                                     */
/* ------------------------------------------------------------------ */

struct tdir {
	char	 dir[64];
};

static void
tdir_write(struct tdir *d, const char *name, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", d->dir, name);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

static void
tdir_remove(struct tdir *d, const char *name)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", d->dir, name);
	unlink(path);
}

static struct engine *
engine_with(const struct tdir *d)
{
	struct buf conf = BUF_INIT;
	struct engine *e;

	buf_printf(&conf, "rules_dir = %s\nrules_site_dir =\nspf = no\n"
	    "dmarc = no\n", d->dir);
	e = test_engine(conf.data);
	buf_release(&conf);
	return e;
}

START_TEST(test_rules_hits_become_scored_symbols)
{
	struct tdir d = { "/tmp/mw-sym-XXXXXX" };
	struct engine *e;
	struct scan *s;
	struct msg *m;
	const struct symbol *sym;
	struct buf status = BUF_INIT;
	static const char msg[] = "From: a@b.example\r\nSubject: cheap "
	    "pills\r\n\r\nbuy cheap pills\r\n";

	ck_assert_ptr_nonnull(mkdtemp(d.dir));
	tdir_write(&d, "a.cf", "body CHEAP_PILLS /cheap pills/\n"
	    "describe CHEAP_PILLS Sells cheap pills\nscore CHEAP_PILLS 16\n"
	    "body __SUB /buy/\nbody ZERO /buy/\nscore ZERO 0\n"
	    "score HEADER_8BIT 4.5\n");
	e = engine_with(&d);
	ck_assert_double_eq(engine_score(e, "HEADER_8BIT", 0.5), 4.5);
	s = test_scan_text(e, "192.0.2.1", "h", "a@b.example", "c@d.example",
	    msg, sizeof(msg) - 1, &m);
	sym = verdict_symbol(&s->verdict, "CHEAP_PILLS");
	ck_assert_ptr_nonnull(sym);
	ck_assert_double_eq(sym->score, 16);
	ck_assert_str_eq(sym->detail, "Sells cheap pills");
	ck_assert_ptr_null(verdict_symbol(&s->verdict, "__SUB"));
	ck_assert_ptr_null(verdict_symbol(&s->verdict, "ZERO"));
	ck_assert_int_eq(s->verdict.action, ACTION_REJECT);
	ck_assert_ptr_nonnull(strstr(s->verdict.reply_text,
	    "Sells cheap pills"));
	verdict_status_value(&s->verdict, &status);
	ck_assert_ptr_nonnull(strstr(buf_cstr(&status), "CHEAP_PILLS"));
	scan_free(&s);
	msg_free(&m);
	engine_unref(e);
	tdir_remove(&d, "a.cf");
	rmdir(d.dir);
	buf_release(&status);
}
END_TEST

START_TEST(test_rules_reload_with_error_keeps_old_set)
{
	struct tdir d = { "/tmp/mw-reload-XXXXXX" };
	struct buf conf = BUF_INIT, why = BUF_INIT;
	struct engine *old, *neu, *cur;
	char path[256];
	FILE *f;

	ck_assert_ptr_nonnull(mkdtemp(d.dir));
	tdir_write(&d, "a.cf", "body OLD_RULE /old/\n");
	snprintf(path, sizeof(path), "%s/mailwarden.conf", d.dir);
	f = fopen(path, "w");
	fprintf(f, TEST_HERMETIC_CONF "rules_dir = %s\nspf = no\n"
	    "dmarc = no\n", d.dir);
	fclose(f);
	ck_assert_int_eq(engine_load(path, &old, &why), 0);
	engine_set_current(old);

	/* an operator edits the rules and makes a mistake on line 3 */
	tdir_write(&d, "a.cf", "body OLD_RULE /old/\nbody NEW_RULE /new/\n"
	    "body BROKEN /unclosed(/\n");
	ck_assert_int_eq(engine_load(path, &neu, &why), -1);
	ck_assert_ptr_null(neu);
	snprintf(path, sizeof(path), "%s/a.cf:3:", d.dir);
	ck_assert_msg(strstr(buf_cstr(&why), path) != NULL,
	    "reason does not name file:line: %s", buf_cstr(&why));

	/* what main.c's reload() does on failure: nothing; old set stays */
	cur = engine_current();
	ck_assert_ptr_eq(cur, old);
	ck_assert_ptr_nonnull(rules_find(cur->rules, "OLD_RULE"));
	ck_assert_ptr_null(rules_find(cur->rules, "NEW_RULE"));
	engine_unref(cur);
	engine_set_current(NULL);
	engine_unref(old);
	tdir_remove(&d, "a.cf");
	tdir_remove(&d, "mailwarden.conf");
	rmdir(d.dir);
	buf_release(&conf);
	buf_release(&why);
}
END_TEST

START_TEST(test_rules_missing_configured_dir_is_an_error)
{
	struct conf *c;
	struct engine *e;
	struct buf why = BUF_INIT;
	static const char text[] = TEST_HERMETIC_CONF
	    "rules_dir = /nonexistent/mw-rules\n";

	ck_assert_int_eq(conf_parse(text, sizeof(text) - 1, "t.conf", &c,
	    &why), 0);
	ck_assert_int_eq(engine_new(c, &e, &why), -1);
	ck_assert_ptr_nonnull(strstr(buf_cstr(&why), "rules_dir"));
	buf_release(&why);
}
END_TEST

/*
 * issue 14 item 3: a score for a name that no rule and no built-in
 * check emits is a warning at its file and line, in line order
 */
START_TEST(test_rules_score_for_unemitted_symbol_warns)
{
	struct ruleset *rs = set_from(
	    "header MW_SUBJ_ALL_CAPS Subject =~ /^[A-Z ]+$/\n"
	    "score MW_SUBJ_ALL_CAPS 1\n"
	    "score SPF_FAIL 4\n"
	    "score NOTHING_LIKE_IT 2\n"
	    "score MW_SUBJ_ALL_CAPZ 3\n"
	    "score RULES_REGEX_LIMIT 0.1\n");
	struct buf out = BUF_INIT;

	ck_assert_uint_eq(symbols_lint(NULL, rs, NULL, &out), 2);
	ck_assert_str_eq(buf_cstr(&out),
	    "t.cf:4: warning: score NOTHING_LIKE_IT: no rule or check emits "
	    "this symbol, the score does nothing\n"
	    "t.cf:5: warning: score MW_SUBJ_ALL_CAPZ: no rule or check emits "
	    "this symbol, the score does nothing; did you mean "
	    "MW_SUBJ_ALL_CAPS?");
	ck_assert(symbols_emitted(rs, NULL, "MW_SUBJ_ALL_CAPS"));
	ck_assert(symbols_emitted(NULL, NULL, "DKIM_VALID_AUTHOR"));
	ck_assert(!symbols_emitted(rs, NULL, "SPF_FAILL"));
	ck_assert_str_eq(symbols_suggest(rs, NULL, "SPF_FAILL"), "SPF_FAIL");
	buf_release(&out);
	rules_free(rs);
}
END_TEST

static Suite *
rules_suite(void)
{
	Suite *s = suite_create("rules");
	TCase *tc;

#define N(a)	((int)(sizeof(a) / sizeof(a[0])))
	tc = tcase_create("parse");
	tcase_add_test(tc, test_rules_parse_every_directive);
	tcase_add_loop_test(tc, test_rules_diagnostics_name_file_and_line, 0,
	    N(diag_cases));
	tcase_add_test(tc, test_rules_include_relative_and_counts);
	tcase_add_test(tc, test_rules_include_loop_is_an_error);
	suite_add_tcase(s, tc);

	tc = tcase_create("match");
	tcase_add_test(tc, test_rules_meta_undefined_operand_counts_as_not_hit);
	tcase_add_test(tc, test_rules_if_can_features);
	tcase_add_test(tc, test_rules_full_drops_only_crlf_crs);
	tcase_add_loop_test(tc, test_rules_match_semantics_per_type, 0,
	    N(sem_cases));
	tcase_add_test(tc, test_rules_test_reports_where_and_what);
	tcase_add_test(tc, test_rules_body_part_limit_cuts_at_white_space);
	tcase_add_test(tc, test_rules_replace_tags);
	tcase_add_test(tc, test_rules_mimeheader);
	suite_add_tcase(s, tc);

	tc = tcase_create("meta");
	tcase_add_loop_test(tc, test_rules_meta_expressions, 0, N(meta_cases));
	tcase_add_test(tc, test_rules_meta_chain_evaluates_in_dependency_order);
	suite_add_tcase(s, tc);

	tc = tcase_create("limits");
	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, test_rules_catastrophic_regex_stopped_jit);
	tcase_add_test(tc, test_rules_catastrophic_regex_stopped_interpreter);
	tcase_add_test(tc, test_rules_catastrophic_regex_becomes_symbol);
	suite_add_tcase(s, tc);

	tc = tcase_create("prefilter");
	tcase_add_loop_test(tc, test_rules_factor_analysis, 0,
	    N(factor_cases));
	tcase_add_test(tc, test_rules_factor_extended_mode);
	tcase_add_test(tc, test_rules_prefilter_never_loses_a_hit);
	tcase_add_test(tc, test_rules_hyperscan_agrees_with_no_prefilter);
	suite_add_tcase(s, tc);

	tc = tcase_create("engine");
	tcase_add_test(tc, test_rules_hits_become_scored_symbols);
	tcase_add_test(tc, test_rules_reload_with_error_keeps_old_set);
	tcase_add_test(tc, test_rules_missing_configured_dir_is_an_error);
	tcase_add_test(tc, test_rules_score_for_unemitted_symbol_warns);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(rules_suite());
}
