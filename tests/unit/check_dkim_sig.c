/*
 * check_dkim_sig.c - tag lists, base64 and DKIM-Signature parsing
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "dkim_int.h"
#include "helpers.h"

static const struct {
	const char *name;
	const char *in;
	int	 ntags;		/* -1: syntax error */
	const char *why;	/* part of the reason */
} taglist_cases[] = {
	{ "two tags", "a=1; b=2", 2, NULL },
	{ "trailing semicolon", "a=1; b=2;", 2, NULL },
	{ "white space everywhere", " a = 1 ;\r\n\tb =\t2 ; ", 2, NULL },
	{ "empty list", "", 0, NULL },
	{ "empty value", "a=; b=", 2, NULL },
	{ "value with inner FWS", "h=From :\r\n To", 1, NULL },
	{ "underscore and digits in name", "x_1=ok", 1, NULL },
	{ "colon is a VALCHAR", "v=DKIM1:", 1, NULL },
	{ "bare tag name", "a=1; t; p=2", -1, "no '='" },
	{ "empty tag-spec", "a=1;;b=2", -1, "syntax" },
	{ "name starting with a digit", "1a=2", -1, "syntax" },
	{ "duplicate tag", "a=1; b=2; a=3", -1, "duplicate tag a=" },
	{ "control character", "a=x\001y", -1, "invalid character" },
	{ "8-bit byte", "a=\xc3\xbc", -1, "invalid character" },
	{ "NUL byte", "a=x\0y", -1, "invalid character" },
	{ "missing name", "=2", -1, "syntax" },
};

START_TEST(test_dkim_sig_taglist_cases)
{
	struct dkim_tag tags[DKIM_MAX_TAGS];
	struct buf why = BUF_INIT;
	size_t n, len = strlen(taglist_cases[_i].in);
	int rc;

	if (strcmp(taglist_cases[_i].name, "NUL byte") == 0)
		len = 5;
	rc = dkim_taglist_parse(taglist_cases[_i].in, len, tags,
	    DKIM_MAX_TAGS, &n, &why);
	if (taglist_cases[_i].ntags < 0) {
		ck_assert_msg(rc == -1, "%s: accepted", taglist_cases[_i].name);
		ck_assert_msg(strstr(buf_cstr(&why), taglist_cases[_i].why),
		    "%s: reason '%s'", taglist_cases[_i].name, buf_cstr(&why));
	} else {
		ck_assert_msg(rc == 0, "%s: %s", taglist_cases[_i].name,
		    buf_cstr(&why));
		ck_assert_int_eq((int)n, taglist_cases[_i].ntags);
	}
	buf_release(&why);
}
END_TEST

START_TEST(test_dkim_sig_taglist_values_are_trimmed)
{
	static const char in[] = " h = From :\r\n To ; b= AB\r\n CD ;x=";
	struct dkim_tag tags[8];
	struct buf why = BUF_INIT;
	const struct dkim_tag *t;
	size_t n;

	ck_assert_int_eq(dkim_taglist_parse(in, sizeof(in) - 1, tags, 8, &n,
	    &why), 0);
	t = dkim_tag_find(tags, n, "h");
	ck_assert_int_eq((int)t->value_len, 11);
	ck_assert(memcmp(t->value, "From :\r\n To", 11) == 0);
	t = dkim_tag_find(tags, n, "b");
	/* raw span: everything between '=' and ';' */
	ck_assert(memcmp(in + t->raw_start, " AB\r\n CD ", t->raw_end -
	    t->raw_start) == 0);
	ck_assert(dkim_tag_find(tags, n, "x")->value_len == 0);
	ck_assert(dkim_tag_find(tags, n, "H") == NULL);	/* case-sensitive */
	buf_release(&why);
}
END_TEST

START_TEST(test_dkim_sig_taglist_tag_cap)
{
	struct buf in = BUF_INIT, why = BUF_INIT;
	struct dkim_tag tags[DKIM_MAX_TAGS];
	size_t i, n;

	for (i = 0; i < DKIM_MAX_TAGS + 1; i++)
		buf_printf(&in, "t%zu=x;", i);
	ck_assert_int_eq(dkim_taglist_parse(in.data, in.len, tags,
	    DKIM_MAX_TAGS, &n, &why), -1);
	ck_assert(strstr(why.data, "more than") != NULL);
	buf_release(&in);
	buf_release(&why);
}
END_TEST

static const struct {
	const char *in;
	int	 rc;
	const char *want;
} b64_cases[] = {
	{ "", 0, "" },
	{ "QQ==", 0, "A" },
	{ "QUI=", 0, "AB" },
	{ "QUJD", 0, "ABC" },
	{ "QU\r\n JD", 0, "ABC" },
	{ "QUJ", -1, NULL },		/* padding missing */
	{ "Q===", -1, NULL },
	{ "QQ==QQ==", -1, NULL },	/* data after padding */
	{ "QU!D", -1, NULL },
	{ "QQ=", -1, NULL },
	{ "=QQQ", -1, NULL },
};

START_TEST(test_dkim_sig_base64_is_strict)
{
	unsigned char out[16];
	size_t len;
	int rc = dkim_b64_decode(b64_cases[_i].in, strlen(b64_cases[_i].in),
	    out, sizeof(out), &len);

	ck_assert_msg(rc == b64_cases[_i].rc, "'%s': rc %d", b64_cases[_i].in,
	    rc);
	if (rc == 0) {
		ck_assert_uint_eq(len, strlen(b64_cases[_i].want));
		ck_assert(memcmp(out, b64_cases[_i].want, len) == 0);
	}
}
END_TEST

START_TEST(test_dkim_sig_base64_round_trip_and_cap)
{
	unsigned char in[256], out[256];
	struct buf enc = BUF_INIT;
	size_t i, n, len;

	for (i = 0; i < sizeof(in); i++)
		in[i] = (unsigned char)(i * 7 + 3);
	for (n = 0; n < 20; n++) {
		buf_reset(&enc);
		dkim_b64_encode(in, n, &enc);
		ck_assert_int_eq(dkim_b64_decode(enc.data, enc.len, out,
		    sizeof(out), &len), 0);
		ck_assert_uint_eq(len, n);
		ck_assert(memcmp(in, out, n) == 0);
	}
	buf_reset(&enc);
	dkim_b64_encode(in, 100, &enc);
	ck_assert_int_eq(dkim_b64_decode(enc.data, enc.len, out, 99, &len), -2);
	buf_release(&enc);
}
END_TEST

#define BH	"bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;"
#define GOOD	"v=1; a=rsa-sha256; c=relaxed/simple; d=Example.ORG; s=Sel;" \
		" h=From:To; " BH " b=AAAA"

static const struct {
	const char *name;
	const char *in;
	const char *why;	/* NULL: parses */
} sig_cases[] = {
	{ "minimal good", GOOD, NULL },
	{ "ed25519", "v=1; a=ed25519-sha256; d=a.example; s=s; h=from; " BH
	  " b=AAAA", NULL },
	{ "rsa-sha1 parses (refused later)", "v=1; a=rsa-sha1; d=a.example;"
	  " s=s; h=from; bh=AAAAAAAAAAAAAAAAAAAAAAAAAAA=; b=AAAA", NULL },
	{ "missing v", "a=rsa-sha256; d=a.example; s=s; h=from; " BH " b=AAAA",
	  "missing required tag v=" },
	{ "missing a", "v=1; d=a.example; s=s; h=from; " BH " b=AAAA",
	  "missing required tag a=" },
	{ "missing b", "v=1; a=rsa-sha256; d=a.example; s=s; h=from; " BH,
	  "missing required tag b=" },
	{ "missing bh", "v=1; a=rsa-sha256; d=a.example; s=s; h=from; b=AAAA",
	  "missing required tag bh=" },
	{ "missing d", "v=1; a=rsa-sha256; s=s; h=from; " BH " b=AAAA",
	  "missing required tag d=" },
	{ "missing h", "v=1; a=rsa-sha256; d=a.example; s=s; " BH " b=AAAA",
	  "missing required tag h=" },
	{ "missing s", "v=1; a=rsa-sha256; d=a.example; h=from; " BH " b=AAAA",
	  "missing required tag s=" },
	{ "version 2", "v=2; a=rsa-sha256; d=a.example; s=s; h=from; " BH
	  " b=AAAA", "unsupported version" },
	{ "unknown algorithm", "v=1; a=dsa-sha1; d=a.example; s=s; h=from; " BH
	  " b=AAAA", "unsupported algorithm dsa-sha1" },
	{ "unknown canonicalization", "v=1; a=rsa-sha256; c=future; "
	  "d=a.example; s=s; h=from; " BH " b=AAAA",
	  "unsupported canonicalization" },
	{ "unknown query method", "v=1; a=rsa-sha256; q=dns/special; "
	  "d=a.example; s=s; h=from; " BH " b=AAAA", "unsupported query" },
	{ "q= list with dns/txt", "v=1; a=rsa-sha256; q=http:dns/txt; "
	  "d=a.example; s=s; h=from; " BH " b=AAAA", NULL },
	{ "bad d", "v=1; a=rsa-sha256; d=a..example; s=s; h=from; " BH
	  " b=AAAA", "d= is not a valid domain" },
	{ "bad selector", "v=1; a=rsa-sha256; d=a.example; s=s/x; h=from; " BH
	  " b=AAAA", "s= is not a valid selector" },
	{ "From not signed", "v=1; a=rsa-sha256; d=a.example; s=s; h=To:Date;"
	  " " BH " b=AAAA", "From field not signed" },
	{ "empty h entry", "v=1; a=rsa-sha256; d=a.example; s=s; h=from::to; "
	  BH " b=AAAA", "empty field name" },
	{ "bad base64 in b", "v=1; a=rsa-sha256; d=a.example; s=s; h=from; "
	  BH " b=AA!A", "bad base64 in b=" },
	{ "empty b", "v=1; a=rsa-sha256; d=a.example; s=s; h=from; " BH " b=",
	  "empty b=" },
	{ "bh wrong length", "v=1; a=rsa-sha256; d=a.example; s=s; h=from; "
	  "bh=AAAA; b=AAAA", "wrong length" },
	{ "i= outside d=", "v=1; a=rsa-sha256; d=a.example; s=s; h=from; "
	  "i=joe@b.example; " BH " b=AAAA", "i= is not within d=" },
	{ "i= suffix trick", "v=1; a=rsa-sha256; d=a.example; s=s; h=from; "
	  "i=joe@evila.example; " BH " b=AAAA", "i= is not within d=" },
	{ "i= without @", "v=1; a=rsa-sha256; d=a.example; s=s; h=from; "
	  "i=a.example; " BH " b=AAAA", "malformed i=" },
	{ "i= subdomain", "v=1; a=rsa-sha256; d=a.example; s=s; h=from; "
	  "i=@Sub.A.example; " BH " b=AAAA", NULL },
	{ "i= bad quoted-printable", "v=1; a=rsa-sha256; d=a.example; s=s; "
	  "h=from; i=jo=4@a.example; " BH " b=AAAA", "malformed i=" },
	{ "l= not a number", "v=1; a=rsa-sha256; d=a.example; s=s; h=from; "
	  "l=12a; " BH " b=AAAA", "bad l=" },
	{ "l= too big", "v=1; a=rsa-sha256; d=a.example; s=s; h=from; "
	  "l=999999999999999999999; " BH " b=AAAA", "bad l=" },
	{ "t= too long", "v=1; a=rsa-sha256; d=a.example; s=s; h=from; "
	  "t=1234567890123; " BH " b=AAAA", "bad t=" },
	{ "x= before t=", "v=1; a=rsa-sha256; d=a.example; s=s; h=from; "
	  "t=2000; x=1000; " BH " b=AAAA", "x= is earlier than t=" },
	{ "duplicate d", "v=1; a=rsa-sha256; d=a.example; d=b.example; s=s; "
	  "h=from; " BH " b=AAAA", "duplicate tag d=" },
	{ "unknown tags ignored", "v=1; a=rsa-sha256; d=a.example; s=s; "
	  "h=from; foo=bar; z=From:x|To:y; " BH " b=AAAA", NULL },
};

START_TEST(test_dkim_sig_parse_cases)
{
	struct dkim_sig sig;
	struct buf why = BUF_INIT;
	int rc = dkim_sig_parse(sig_cases[_i].in, strlen(sig_cases[_i].in),
	    &sig, &why);

	if (sig_cases[_i].why == NULL)
		ck_assert_msg(rc == 0, "%s: %s", sig_cases[_i].name,
		    buf_cstr(&why));
	else {
		ck_assert_msg(rc == -1, "%s: accepted", sig_cases[_i].name);
		ck_assert_msg(strstr(buf_cstr(&why), sig_cases[_i].why),
		    "%s: reason '%s'", sig_cases[_i].name, buf_cstr(&why));
	}
	dkim_sig_release(&sig);
	buf_release(&why);
}
END_TEST

START_TEST(test_dkim_sig_hnames_trimmed_in_place)
{
	/*
	 * h= names lose their folding white space; one-letter names
	 * packed by colons fill the names' block exactly (ASan checks
	 * the bound)
	 */
	static const char in[] = "v=1; a=rsa-sha256; d=example.org; s=sel;"
	    " h= From :\r\n\tTo:a:b:c ; " BH " b=AAAA";
	static const char *want[] = { "From", "To", "a", "b", "c" };
	struct dkim_sig sig;
	struct buf why = BUF_INIT;
	size_t i;

	ck_assert_int_eq(dkim_sig_parse(in, sizeof(in) - 1, &sig, &why), 0);
	ck_assert_uint_eq(sig.nh, 5);
	for (i = 0; i < 5; i++)
		ck_assert_str_eq(sig.hnames[i], want[i]);
	dkim_sig_release(&sig);
	ck_assert_int_eq(dkim_sig_parse("v=1; a=rsa-sha256; d=example.org;"
	    " s=sel; h=From:a:b:c:d:e:f:g:h:i:j:k:l:m:n:o:p:q:r; " BH
	    " b=AAAA", strlen("v=1; a=rsa-sha256; d=example.org; s=sel;"
	    " h=From:a:b:c:d:e:f:g:h:i:j:k:l:m:n:o:p:q:r; " BH " b=AAAA"),
	    &sig, &why), 0);
	ck_assert_uint_eq(sig.nh, 19);
	ck_assert_str_eq(sig.hnames[18], "r");
	dkim_sig_release(&sig);
	buf_release(&why);
}
END_TEST

START_TEST(test_dkim_sig_parse_fields)
{
	static const char in[] = GOOD "; i=j=40o@sub.example.org; l=10; "
	    "t=100; x=200";
	struct dkim_sig sig;
	struct buf why = BUF_INIT;

	ck_assert_int_eq(dkim_sig_parse(in, sizeof(in) - 1, &sig, &why), 0);
	ck_assert_str_eq(sig.domain, "example.org");
	ck_assert_str_eq(sig.selector, "sel");
	ck_assert_str_eq(sig.identity, "j@o@sub.example.org");
	ck_assert_int_eq(sig.alg, DKIM_ALG_RSA_SHA256);
	ck_assert_int_eq(sig.hcanon, DKIM_CANON_RELAXED);
	ck_assert_int_eq(sig.bcanon, DKIM_CANON_SIMPLE);
	ck_assert_uint_eq(sig.nh, 2);
	ck_assert_str_eq(sig.hnames[1], "To");
	ck_assert(sig.has_l && sig.l == 10 && sig.t == 100 && sig.x == 200);
	ck_assert_uint_eq(sig.blen, 3);
	ck_assert_uint_eq(sig.bhlen, 32);
	ck_assert_str_eq(sig.b_prefix, "AAAA");
	/* b= deletion keeps "b=" and everything after the value */
	ck_assert(memcmp(in + sig.b_start - 2, "b=AAAA;", 7) == 0);
	ck_assert(in[sig.b_end] == ';');
	dkim_sig_release(&sig);
	buf_release(&why);
}
END_TEST

START_TEST(test_dkim_sig_defaults_simple_simple)
{
	static const char in[] = "v=1; a=rsa-sha256; d=a.example; s=s; "
	    "h=from; " BH " b=AAAA";
	static const char in2[] = "v=1; a=rsa-sha256; d=a.example; s=s; "
	    "c=relaxed; h=from; " BH " b=AAAA";
	struct dkim_sig sig;
	struct buf why = BUF_INIT;

	ck_assert_int_eq(dkim_sig_parse(in, sizeof(in) - 1, &sig, &why), 0);
	ck_assert(sig.hcanon == DKIM_CANON_SIMPLE &&
	    sig.bcanon == DKIM_CANON_SIMPLE && !sig.has_l && !sig.identity);
	dkim_sig_release(&sig);
	ck_assert_int_eq(dkim_sig_parse(in2, sizeof(in2) - 1, &sig, &why), 0);
	ck_assert(sig.hcanon == DKIM_CANON_RELAXED &&
	    sig.bcanon == DKIM_CANON_SIMPLE);
	dkim_sig_release(&sig);
	buf_release(&why);
}
END_TEST

START_TEST(test_dkim_sig_report_fields_survive_errors)
{
	static const char in[] = "v=1; a=rsa-sha256; d=a.example; s=sel; "
	    "h=To; " BH " b=abcdefghijkl";
	struct dkim_sig sig;
	struct buf why = BUF_INIT;

	ck_assert_int_eq(dkim_sig_parse(in, sizeof(in) - 1, &sig, &why), -1);
	ck_assert_str_eq(sig.domain, "a.example");
	ck_assert_str_eq(sig.selector, "sel");
	ck_assert_str_eq(sig.b_prefix, "abcdefgh");
	dkim_sig_release(&sig);
	buf_release(&why);
}
END_TEST

/* hostile: 10,000 h= entries */
START_TEST(test_dkim_sig_too_many_signed_headers)
{
	struct buf in = BUF_INIT, why = BUF_INIT;
	struct dkim_sig sig;
	size_t i;

	buf_adds(&in, "v=1; a=rsa-sha256; d=a.example; s=s; " BH " h=from");
	for (i = 0; i < 10000; i++)
		buf_adds(&in, ":x-header");
	buf_adds(&in, "; b=AAAA");
	ck_assert_int_eq(dkim_sig_parse(in.data, in.len, &sig, &why), -1);
	ck_assert(strstr(why.data, "field names in h=") != NULL);
	dkim_sig_release(&sig);
	buf_release(&in);
	buf_release(&why);
}
END_TEST

/* hostile: b= of 1 MB */
START_TEST(test_dkim_sig_huge_b_is_refused)
{
	struct buf in = BUF_INIT, why = BUF_INIT;
	struct dkim_sig sig;
	size_t i;

	buf_adds(&in, "v=1; a=rsa-sha256; d=a.example; s=s; " BH " h=from; b=");
	for (i = 0; i < 1024 * 1024 / 4; i++)
		buf_adds(&in, "AAAA");
	ck_assert_int_eq(dkim_sig_parse(in.data, in.len, &sig, &why), -1);
	ck_assert(strstr(why.data, "b= is too long") != NULL);
	dkim_sig_release(&sig);
	buf_release(&in);
	buf_release(&why);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("dkim_sig");
	TCase *tc = tcase_create("taglist");

	tcase_add_loop_test(tc, test_dkim_sig_taglist_cases, 0,
	    sizeof(taglist_cases) / sizeof(taglist_cases[0]));
	tcase_add_test(tc, test_dkim_sig_hnames_trimmed_in_place);
	tcase_add_test(tc, test_dkim_sig_taglist_values_are_trimmed);
	tcase_add_test(tc, test_dkim_sig_taglist_tag_cap);
	tcase_add_loop_test(tc, test_dkim_sig_base64_is_strict, 0,
	    sizeof(b64_cases) / sizeof(b64_cases[0]));
	tcase_add_test(tc, test_dkim_sig_base64_round_trip_and_cap);
	suite_add_tcase(s, tc);
	tc = tcase_create("signature");
	tcase_add_loop_test(tc, test_dkim_sig_parse_cases, 0,
	    sizeof(sig_cases) / sizeof(sig_cases[0]));
	tcase_add_test(tc, test_dkim_sig_parse_fields);
	tcase_add_test(tc, test_dkim_sig_defaults_simple_simple);
	tcase_add_test(tc, test_dkim_sig_report_fields_survive_errors);
	suite_add_tcase(s, tc);
	tc = tcase_create("limits");
	tcase_add_test(tc, test_dkim_sig_too_many_signed_headers);
	tcase_add_test(tc, test_dkim_sig_huge_b_is_refused);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(suite());
}
