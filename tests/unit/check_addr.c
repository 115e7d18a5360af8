/*
 * check_addr.c - RFC 5322 address lists, A-label domains, punycode
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "addr.h"
#include "buf.h"
#include "helpers.h"
#include "msg.h"
#include "punycode.h"

static const struct {
	const char *name;
	const char *in;
	enum addr_status want;
	size_t total;			/* addresses found */
	const char *first;		/* first domain, or NULL */
	unsigned flags;			/* flags that must be set */
} cases[] = {
	{ "display name and angle address", "Joe Johnson <joe@joe.com>",
	  ADDR_OK, 1, "joe.com", 0 },
	{ "quoted display name", "\"Joe Johnson\" <joe@joe.com>", ADDR_OK, 1,
	  "joe.com", 0 },
	{ "comment before addr-spec", "(Joe Johnson) joe@joe.com", ADDR_OK, 1,
	  "joe.com", 0 },
	{ "bare addr-spec, case folded", "joe@JOE.Com", ADDR_OK, 1, "joe.com",
	  0 },
	{ "comma inside quoted name", "\"Mandel, Bob\" <joe@joe.com>", ADDR_OK,
	  1, "joe.com", 0 },
	{ "comma inside comment", "(,) joe@joe.com", ADDR_OK, 1, "joe.com", 0 },
	{ "obs-phrase with a dot", "J. Doe <j@example.org>", ADDR_OK, 1,
	  "example.org", 0 },
	{ "address-like quoted name, bare addr-spec",
	  "\"Johnson, Joe <joe@joe.com>\" joe@joe.com", ADDR_OK, 1, "joe.com",
	  ADDR_F_NONSTANDARD },
	{ "quoted name with address, bare addr-spec",
	  "\"( bob@bob.com)\" joe@joe.com", ADDR_OK, 1, "joe.com",
	  ADDR_F_NONSTANDARD },
	{ "unquoted @ in display name",
	  "info@example.com <info@example.com>", ADDR_OK, 1, "example.com",
	  ADDR_F_NONSTANDARD },
	{ "header name left in value (group, no ';')",
	  "From: Davide D'Marco <user@blah.com>", ADDR_OK, 1, "blah.com",
	  ADDR_F_NONSTANDARD | ADDR_F_GROUP },
	{ "leading junk (group, no ';')", "Mail From:<joe@joe.com>", ADDR_OK, 1,
	  "joe.com", ADDR_F_NONSTANDARD },
	{ "folded field", "Joe\r\n <joe@x.example>", ADDR_OK, 1, "x.example",
	  0 },
	{ "obsolete source route", "<@relay.example,@b.example:joe@example.com>",
	  ADDR_OK, 1, "example.com", 0 },
	{ "nested comments", "((((a)b)c)d)joe@x.example(e(f))", ADDR_OK, 1,
	  "x.example", 0 },
	{ "quoted local part", "\"joe smith\"@x.example", ADDR_OK, 1,
	  "x.example", 0 },
	{ "U-label domain to A-label", "user@b\xc3\xbc" "cher.example", ADDR_OK,
	  1, "xn--bcher-kva.example", 0 },
	{ "group with two members", "Friends: a@x.example, b@y.example;",
	  ADDR_OK, 2, "x.example", ADDR_F_GROUP },
	{ "two authors (CVE-2019-16378)", "a@victim.example, b@attacker.example",
	  ADDR_OK, 2, "victim.example", 0 },
	{ "two authors with names", "Joe Johnson <joe@joe.com>, ace@ace.com",
	  ADDR_OK, 2, "joe.com", 0 },
	{ "empty group", "undisclosed-recipients:;", ADDR_EMPTY, 0, NULL, 0 },
	{ "empty field", "", ADDR_EMPTY, 0, NULL, 0 },
	{ "blank field", " \r\n\t ", ADDR_EMPTY, 0, NULL, 0 },
	{ "malformed angle brackets", "<<<><joe@joe.com>>>", ADDR_SYNTAX, 0,
	  NULL, 0 },
	{ "no address", "Joe Bloggs", ADDR_SYNTAX, 0, NULL, 0 },
	{ "semicolon separator", "a@b.example; c@d.example", ADDR_SYNTAX, 0,
	  NULL, 0 },
	{ "unterminated angle", "Joe <joe@x.example", ADDR_SYNTAX, 0, NULL, 0 },
	{ "unterminated quote", "\"Joe <joe@x.example>", ADDR_SYNTAX, 0, NULL,
	  0 },
	{ "trailing dot in domain", "a@example.com.", ADDR_SYNTAX, 0, NULL, 0 },
	{ "group in a group", "a: b: c@d.example;;", ADDR_SYNTAX, 0, NULL, 0 },
	/* CVE-2020-12272: domain text must be a host name */
	{ "comment opened inside domain (CVE-2020-12272)",
	  "a@example.com(.attacker.com", ADDR_SYNTAX, 0, NULL, 0 },
	{ "comment after domain", "a@example.com (.attacker.com)", ADDR_OK, 1,
	  "example.com", 0 },
	{ "underscore in domain", "a@exa_mple.com", ADDR_BAD_DOMAIN, 0, NULL,
	  0 },
	{ "domain literal", "a@[192.0.2.1]", ADDR_BAD_DOMAIN, 0, NULL, 0 },
	{ "hyphen at label start", "a@-bad.example", ADDR_BAD_DOMAIN, 0, NULL,
	  0 },
	{ "label over 63 octets", "a@aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "aaaaaaaaaaaaaaaaaaaaaaa.example", ADDR_BAD_DOMAIN, 0, NULL, 0 },
	{ "bad domain in second address", "a@ok.example, b@x!y.example",
	  ADDR_BAD_DOMAIN, 0, NULL, 0 },
	/* CVE-2021-34555: malformed multi-valued From */
	{ "lone comma", ",", ADDR_EMPTY, 0, NULL, 0 },
	{ "trailing comma", "a@b.example,", ADDR_OK, 1, "b.example", 0 },
	{ "leading comma", ",a@b.example", ADDR_OK, 1, "b.example", 0 },
	{ "only commas", ", , ,", ADDR_EMPTY, 0, NULL, 0 },
	{ "two null addresses", "<>,<>", ADDR_SYNTAX, 0, NULL, 0 },
	{ "empty element between", "a@b.example,,c@d.example", ADDR_OK, 2,
	  "b.example", 0 },
	{ "null address then real", "\"x\" <>, y@z.example", ADDR_SYNTAX, 0,
	  NULL, 0 },
	{ "real then empty angle", "a@b.example, <>", ADDR_SYNTAX, 0, NULL, 0 },
	{ "comma in angle", "<a@b.example,c@d.example>", ADDR_SYNTAX, 0, NULL,
	  0 },
	{ "stray closing paren", "a@b.example)", ADDR_SYNTAX, 0, NULL, 0 },
};

START_TEST(test_addr_parse_table)
{
	struct addr_list l;
	enum addr_status st = addr_parse_list(cases[_i].in,
	    strlen(cases[_i].in), &l);

	ck_assert_msg(st == cases[_i].want, "%s: got %s (%s)", cases[_i].name,
	    addr_status_name(st), l.why);
	ck_assert_msg(l.total == cases[_i].total, "%s: %zu addresses",
	    cases[_i].name, l.total);
	if (cases[_i].first)
		ck_assert_str_eq(l.v[0].domain, cases[_i].first);
	ck_assert_msg((l.flags & cases[_i].flags) == cases[_i].flags,
	    "%s: flags %x", cases[_i].name, l.flags);
	if (cases[_i].flags == 0 && st == ADDR_OK)
		ck_assert_msg(!(l.flags & ADDR_F_NONSTANDARD),
		    "%s: flagged nonstandard", cases[_i].name);
}
END_TEST

START_TEST(test_addr_nul_byte_is_a_syntax_error)
{
	static const char v[] = "a@b.example\0, c@attacker.example";
	struct addr_list l;

	ck_assert_int_eq(addr_parse_list(v, sizeof(v) - 1, &l), ADDR_SYNTAX);
}
END_TEST

START_TEST(test_addr_deep_comment_nesting_refused)
{
	struct buf b = BUF_INIT;
	struct addr_list l;
	int i;

	for (i = 0; i < ADDR_MAX_NESTING + 5; i++)
		buf_addc(&b, '(');
	for (i = 0; i < ADDR_MAX_NESTING + 5; i++)
		buf_addc(&b, ')');
	buf_adds(&b, "a@b.example");
	ck_assert_int_eq(addr_parse_list(b.data, b.len, &l), ADDR_SYNTAX);
	buf_release(&b);
}
END_TEST

START_TEST(test_addr_many_addresses_counted_past_the_cap)
{
	struct buf b = BUF_INIT;
	struct addr_list l;
	int i;

	for (i = 0; i < 40; i++)
		buf_printf(&b, "%su%d@d%d.example", i ? ", " : "", i, i % 3);
	ck_assert_int_eq(addr_parse_list(b.data, b.len, &l), ADDR_OK);
	ck_assert_uint_eq(l.total, 40);
	ck_assert_uint_eq(l.n, ADDR_MAX);
	ck_assert_uint_eq(addr_distinct_domains(&l), 4);	/* 3 + beyond */
	buf_release(&b);
}
END_TEST

START_TEST(test_addr_same_domain_twice_is_one_domain)
{
	struct addr_list l;
	const char *v = "a@x.example, \"B\" <b@X.example>";

	ck_assert_int_eq(addr_parse_list(v, strlen(v), &l), ADDR_OK);
	ck_assert_uint_eq(l.total, 2);
	ck_assert_uint_eq(addr_distinct_domains(&l), 1);
}
END_TEST

START_TEST(test_addr_long_field_is_linear)
{
	struct buf b = BUF_INIT;
	struct addr_list l;
	int i;

	/* 64 KiB of tokens that almost make an address */
	for (i = 0; i < 16000; i++)
		buf_adds(&b, "a.@");
	ck_assert_int_eq(addr_parse_list(b.data, b.len, &l), ADDR_SYNTAX);
	buf_release(&b);
}
END_TEST

static const struct {
	const char *in, *want;	/* want NULL: refused */
} alabels[] = {
	{ "Example.COM", "example.com" },
	{ "example.com.", "example.com" },
	{ "b\xc3\xbc" "cher.example", "xn--bcher-kva.example" },
	{ "\xe9\xa3\x9f\xe7\x8b\xae.com.cn", "xn--85x722f.com.cn" },
	{ "\xe4\xb8\xad\xe5\x9b\xbd", "xn--fiqs8s" },
	{ "xn--85x722f.xn--55qx5d.cn", "xn--85x722f.xn--55qx5d.cn" },
	/* IDNA2008 / UTS #46 mapping (libidn2) */
	{ "B\xc3\x9c" "CHER.Example", "xn--bcher-kva.example" },
	{ "bu\xcc\x88" "cher.example", "xn--bcher-kva.example" },  /* NFD */
	{ "stra\xc3\x9f" "e.example", "xn--strae-oqa.example" },  /* sharp s */
	{ "\xe2\x98\x83.example", "xn--n3h.example" },  /* U+2603, as written */
	/* U+3002 ideographic full stop is a dot, as in a browser */
	{ "paypal\xe3\x80\x82" "com", "paypal.com" },
	/* UTS #46 ignores a zero width space: the name a reader sees */
	{ "pay\xe2\x80\x8b" "pal.example", "paypal.example" },
	{ "\xef\xbd\x85xample.com", "example.com" },  /* full-width e */
	{ "", NULL },
	{ ".", NULL },
	{ "a..b", NULL },
	{ ".a.b", NULL },
	{ "a_b.example", NULL },
	{ "a b.example", NULL },
	{ "a-.example", NULL },
	{ "\xff\xfe.example", NULL },
};

START_TEST(test_addr_domain_to_alabel)
{
	char out[DOMAIN_MAX + 1];
	int rc = domain_to_alabel(alabels[_i].in, strlen(alabels[_i].in), out,
	    sizeof(out));

	if (alabels[_i].want == NULL) {
		ck_assert_msg(rc < 0, "'%s' accepted as %s", alabels[_i].in, out);
	} else {
		ck_assert_msg(rc == 0, "'%s' refused", alabels[_i].in);
		ck_assert_str_eq(out, alabels[_i].want);
	}
}
END_TEST

START_TEST(test_addr_punycode_rfc3492_sample)
{
	/* RFC 3492 7.1 (L) "3<nen>B<gumi><kinpachi><sensei>" */
	static const uint32_t in[] = { 0x0033, 0x5E74, 0x0042, 0x7D44, 0x91D1,
	    0x516B, 0x5148, 0x751F };
	char out[64];

	ck_assert_int_eq(punycode_encode(in, 8, out, sizeof(out)), 0);
	ck_assert_str_eq(out, "3B-ww4c5e180e575a65lsy2b");
	ck_assert_int_eq(punycode_encode(in, 8, out, 5), -1);
}
END_TEST

START_TEST(test_addr_subdomain_on_label_boundary)
{
	ck_assert(domain_is_subdomain("a.b.example", "b.example"));
	ck_assert(domain_is_subdomain("B.Example", "b.example"));
	ck_assert(!domain_is_subdomain("oooo.com", "ooo.com"));
	ck_assert(!domain_is_subdomain("example", "b.example"));
	ck_assert_uint_eq(domain_labels("a.b.c"), 3);
	ck_assert_uint_eq(domain_labels("com"), 1);
}
END_TEST

/* one author parser for DKIM, DMARC and ARC: each outcome of addr_author */
static const struct {
	const char *name;
	const char *from1, *from2;	/* NULL: no such field */
	enum addr_author_status want;
	const char *domain;		/* when OK */
} authors[] = {
	{ "no From", NULL, NULL, ADDR_AUTHOR_MISSING, NULL },
	{ "empty group", " undisclosed:;", NULL, ADDR_AUTHOR_MISSING, NULL },
	{ "two fields", " a@example.org", " b@example.org",
	  ADDR_AUTHOR_MULTIPLE, NULL },
	{ "syntax", " a@@example.org", NULL, ADDR_AUTHOR_INVALID, NULL },
	{ "bad domain", " a@[192.0.2.1]", NULL, ADDR_AUTHOR_INVALID, NULL },
	{ "two domains", " a@example.org, b@example.net", NULL,
	  ADDR_AUTHOR_MULTI, NULL },
	{ "one domain twice", " a@Example.ORG, b@example.org", NULL,
	  ADDR_AUTHOR_OK, "example.org" },
	{ "IDN", " x@b\xc3\xbc" "cher.example", NULL, ADDR_AUTHOR_OK,
	  "xn--bcher-kva.example" },
};

START_TEST(test_addr_author_outcomes)
{
	static const struct msg_limits lim = { 1000, 100000, 100, 10 };
	struct msg *m = msg_new(&lim);
	struct addr_author a;
	enum addr_author_status st;

	if (authors[_i].from1)
		msg_add_header(m, "From", 4, authors[_i].from1,
		    strlen(authors[_i].from1));
	if (authors[_i].from2)
		msg_add_header(m, "From", 4, authors[_i].from2,
		    strlen(authors[_i].from2));
	st = addr_author(m, &a);
	ck_assert_msg(st == authors[_i].want && a.status == st,
	    "%s: got %d, want %d", authors[_i].name, st, authors[_i].want);
	if (st == ADDR_AUTHOR_OK)
		ck_assert_str_eq(a.domain, authors[_i].domain);
	else {
		ck_assert_str_eq(a.domain, "");
		ck_assert_msg(a.why[0] != '\0', "%s: no reason",
		    authors[_i].name);
	}
	msg_free(&m);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("addr");
	TCase *tc = tcase_create("parse");

	tcase_add_loop_test(tc, test_addr_parse_table, 0,
	    sizeof(cases) / sizeof(cases[0]));
	tcase_add_test(tc, test_addr_nul_byte_is_a_syntax_error);
	tcase_add_test(tc, test_addr_deep_comment_nesting_refused);
	tcase_add_test(tc, test_addr_many_addresses_counted_past_the_cap);
	tcase_add_test(tc, test_addr_same_domain_twice_is_one_domain);
	tcase_add_test(tc, test_addr_long_field_is_linear);
	tcase_add_loop_test(tc, test_addr_author_outcomes, 0,
	    sizeof(authors) / sizeof(authors[0]));
	suite_add_tcase(s, tc);
	tc = tcase_create("domains");
	tcase_add_loop_test(tc, test_addr_domain_to_alabel, 0,
	    sizeof(alabels) / sizeof(alabels[0]));
	tcase_add_test(tc, test_addr_punycode_rfc3492_sample);
	tcase_add_test(tc, test_addr_subdomain_on_label_boundary);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
