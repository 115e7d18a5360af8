/*
 * check_spf_macro.c - RFC 7208 section 7 macro expansion
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "helpers.h"
#include "spf.h"

static void
validated(void *arg, const char *domain, struct buf *out)
{
	(void)arg;
	buf_adds(out, strcmp(domain, "email.example.com") == 0 ?
	    "mx.email.example.com" : "unknown");
}

static void
ctx_init(struct spf_macro_ctx *c, struct netaddr *ip, const char *addr,
    const char *sender)
{
	static char local[256], dom[256];
	const char *at = strrchr(sender, '@');

	ck_assert_int_eq(netaddr_parse(addr, ip), 0);
	snprintf(local, sizeof(local), "%.*s", (int)(at - sender), sender);
	snprintf(dom, sizeof(dom), "%s", at + 1);
	memset(c, 0, sizeof(*c));
	c->sender = sender;
	c->local = local;
	c->sender_domain = dom;
	c->domain = dom;
	c->ip = ip;
	c->helo = "mx.example.org";
	c->receiver = "mx.receiver.example";
	c->now = 1700000000;
	c->validated = validated;
}

static const struct {
	const char *in;
	const char *ip;
	const char *sender;
	unsigned flags;
	const char *want;	/* NULL: must fail */
} cases[] = {
	/* RFC 7208 7.4 examples */
	{ "%{s}", "192.0.2.3", "strong-bad@email.example.com", 0,
	  "strong-bad@email.example.com" },
	{ "%{o}", "192.0.2.3", "strong-bad@email.example.com", 0,
	  "email.example.com" },
	{ "%{d}", "192.0.2.3", "strong-bad@email.example.com", 0,
	  "email.example.com" },
	{ "%{d4}", "192.0.2.3", "strong-bad@email.example.com", 0,
	  "email.example.com" },
	{ "%{d3}", "192.0.2.3", "strong-bad@email.example.com", 0,
	  "email.example.com" },
	{ "%{d2}", "192.0.2.3", "strong-bad@email.example.com", 0,
	  "example.com" },
	{ "%{d1}", "192.0.2.3", "strong-bad@email.example.com", 0, "com" },
	{ "%{dr}", "192.0.2.3", "strong-bad@email.example.com", 0,
	  "com.example.email" },
	{ "%{d2r}", "192.0.2.3", "strong-bad@email.example.com", 0,
	  "example.email" },
	{ "%{l}", "192.0.2.3", "strong-bad@email.example.com", 0,
	  "strong-bad" },
	{ "%{l-}", "192.0.2.3", "strong-bad@email.example.com", 0,
	  "strong.bad" },
	{ "%{lr}", "192.0.2.3", "strong-bad@email.example.com", 0,
	  "strong-bad" },
	{ "%{lr-}", "192.0.2.3", "strong-bad@email.example.com", 0,
	  "bad.strong" },
	{ "%{l1r-}", "192.0.2.3", "strong-bad@email.example.com", 0,
	  "strong" },
	{ "%{ir}.%{v}._spf.%{d2}", "192.0.2.3",
	  "strong-bad@email.example.com", 0,
	  "3.2.0.192.in-addr._spf.example.com" },
	{ "%{lr-}.lp._spf.%{d2}", "192.0.2.3", "strong-bad@email.example.com",
	  0, "bad.strong.lp._spf.example.com" },
	{ "%{lr-}.lp.%{ir}.%{v}._spf.%{d2}", "192.0.2.3",
	  "strong-bad@email.example.com", 0,
	  "bad.strong.lp.3.2.0.192.in-addr._spf.example.com" },
	{ "%{ir}.%{v}.%{l1r-}.lp._spf.%{d2}", "192.0.2.3",
	  "strong-bad@email.example.com", 0,
	  "3.2.0.192.in-addr.strong.lp._spf.example.com" },
	{ "%{d2}.trusted-domains.example.net", "192.0.2.3",
	  "strong-bad@email.example.com", 0,
	  "example.com.trusted-domains.example.net" },
	{ "%{ir}.%{v}._spf.%{d2}", "2001:db8::cb01",
	  "strong-bad@email.example.com", 0,
	  "1.0.B.C.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.B.D.0.1.0.0.2."
	  "ip6._spf.example.com" },
	/* i of an IPv6 client is 32 dotted nibbles, forward */
	{ "%{i}", "2001:db8::cb01", "a@b.example", 0,
	  "2.0.0.1.0.D.B.8.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.C.B.0.1" },
	/* an IPv4-mapped client is IPv4 */
	{ "%{i} %{v}", "::ffff:192.0.2.3", "a@b.example", SPF_MACRO_EXP,
	  "192.0.2.3 in-addr" },
	/* escapes */
	{ "a%%b%_c%-d", "192.0.2.3", "a@b.example", 0, "a%b c%20d" },
	/* upper case letters are URL-escaped (RFC 3986 unreserved kept) */
	{ "%{L}", "192.0.2.3", "~jack&jill=up-a_b3.c@b.example", 0,
	  "~jack%26jill%3Dup-a_b3.c" },
	{ "%{S}", "192.0.2.3", "a b@b.example", 0, "a%20b%40b.example" },
	/* several delimiters, reversal, rightmost parts */
	{ "%{l2r+-}", "192.0.2.3", "foo-bar+zip+quux@b.example", 0,
	  "bar.foo" },
	{ "%{l=,/}", "192.0.2.3", "a=b,c/d@b.example", 0, "a.b.c.d" },
	{ "%{d99}", "192.0.2.3", "a@x.y.example", 0, "x.y.example" },
	{ "%{d100000000000}", "192.0.2.3", "a@x.y.example", 0,
	  "x.y.example" },
	/* p comes from the validator */
	{ "%{p}", "192.0.2.3", "a@email.example.com", 0,
	  "mx.email.example.com" },
	{ "%{p}", "192.0.2.3", "a@other.example", 0, "unknown" },
	{ "%{h}", "192.0.2.3", "a@b.example", 0, "mx.example.org" },
	/* c, r, t only in explanations */
	{ "%{c}", "2001:db8::cb01", "a@b.example", SPF_MACRO_EXP,
	  "2001:db8::cb01" },
	{ "%{r} %{t}", "192.0.2.3", "a@b.example", SPF_MACRO_EXP,
	  "mx.receiver.example 1700000000" },
	{ "%{c}", "192.0.2.3", "a@b.example", 0, NULL },
	{ "%{r}", "192.0.2.3", "a@b.example", 0, NULL },
	{ "%{t}", "192.0.2.3", "a@b.example", 0, NULL },
	/* spaces only in explanations */
	{ "a b", "192.0.2.3", "a@b.example", 0, NULL },
	{ "a b", "192.0.2.3", "a@b.example", SPF_MACRO_EXP, "a b" },
	/* syntax errors */
	{ "%", "192.0.2.3", "a@b.example", 0, NULL },
	{ "abc%", "192.0.2.3", "a@b.example", 0, NULL },
	{ "%a", "192.0.2.3", "a@b.example", 0, NULL },
	{ "%(ir)", "192.0.2.3", "a@b.example", 0, NULL },
	{ "%{x}", "192.0.2.3", "a@b.example", 0, NULL },
	{ "%{d0}", "192.0.2.3", "a@b.example", 0, NULL },
	{ "%{d", "192.0.2.3", "a@b.example", 0, NULL },
	{ "%{", "192.0.2.3", "a@b.example", 0, NULL },
	{ "%{}", "192.0.2.3", "a@b.example", 0, NULL },
	{ "%{d2x}", "192.0.2.3", "a@b.example", 0, NULL },
	{ "%{d r}", "192.0.2.3", "a@b.example", SPF_MACRO_EXP, NULL },
	{ "caf\xc3\xa9", "192.0.2.3", "a@b.example", SPF_MACRO_EXP, NULL },
	{ "tab\there", "192.0.2.3", "a@b.example", SPF_MACRO_EXP, NULL },
};

START_TEST(test_spf_macro_expansion_table)
{
	struct spf_macro_ctx c;
	struct netaddr ip;
	struct buf out = BUF_INIT, why = BUF_INIT;
	int rc;

	ctx_init(&c, &ip, cases[_i].ip, cases[_i].sender);
	rc = spf_macro_expand(cases[_i].in, strlen(cases[_i].in), &c,
	    cases[_i].flags, &out, &why);
	if (cases[_i].want == NULL) {
		ck_assert_msg(rc == -1, "'%s': expanded to '%s', want an "
		    "error", cases[_i].in, buf_cstr(&out));
		ck_assert_msg(why.len > 0, "'%s': no reason", cases[_i].in);
	} else {
		ck_assert_msg(rc == 0, "'%s': error %s", cases[_i].in,
		    buf_cstr(&why));
		ck_assert_msg(strcmp(buf_cstr(&out), cases[_i].want) == 0,
		    "'%s': got '%s', want '%s'", cases[_i].in, buf_cstr(&out),
		    cases[_i].want);
	}
	/* the syntax check alone agrees with the expansion */
	buf_reset(&why);
	ck_assert_int_eq(spf_macro_expand(cases[_i].in, strlen(cases[_i].in),
	    NULL, cases[_i].flags, NULL, &why), rc);
	buf_release(&out);
	buf_release(&why);
}
END_TEST

START_TEST(test_spf_macro_nul_inside_is_an_error)
{
	struct spf_macro_ctx c;
	struct netaddr ip;
	struct buf out = BUF_INIT, why = BUF_INIT;

	ctx_init(&c, &ip, "192.0.2.3", "a@b.example");
	ck_assert_int_eq(spf_macro_expand("a\0b", 3, &c, SPF_MACRO_EXP, &out,
	    &why), -1);
	buf_release(&out);
	buf_release(&why);
}
END_TEST

START_TEST(test_spf_macro_output_is_capped)
{
	struct spf_macro_ctx c;
	struct netaddr ip;
	struct buf in = BUF_INIT, out = BUF_INIT, why = BUF_INIT, sender =
	    BUF_INIT;
	int i;

	for (i = 0; i < 900; i++)
		buf_addc(&sender, 'x');
	buf_adds(&sender, "@b.example");
	ctx_init(&c, &ip, "192.0.2.3", buf_cstr(&sender));
	for (i = 0; i < 200; i++)
		buf_adds(&in, "%{S}");	/* 200 x 910 bytes > 64 KiB */
	ck_assert_int_eq(spf_macro_expand(in.data, in.len, &c, 0, &out, &why),
	    -1);
	ck_assert(strstr(buf_cstr(&why), "too long") != NULL);
	ck_assert(out.len <= SPF_MACRO_MAX_OUT + 1000);
	buf_release(&in);
	buf_release(&out);
	buf_release(&why);
	buf_release(&sender);
}
END_TEST

static const struct {
	const char *ip;
	const char *want;
} reverse_cases[] = {
	{ "192.0.2.3", "3.2.0.192.in-addr.arpa" },
	{ "2001:db8::cb01", "1.0.B.C.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0."
	  "8.B.D.0.1.0.0.2.ip6.arpa" },
	{ "::ffff:10.1.2.3", "3.2.1.10.in-addr.arpa" },
};

START_TEST(test_spf_reverse_name_table)
{
	struct netaddr ip;
	struct buf out = BUF_INIT;

	ck_assert_int_eq(netaddr_parse(reverse_cases[_i].ip, &ip), 0);
	spf_reverse_name(&ip, &out);
	ck_assert_str_eq(buf_cstr(&out), reverse_cases[_i].want);
	buf_release(&out);
}
END_TEST

static Suite *
spf_macro_suite(void)
{
	Suite *s = suite_create("spf_macro");
	TCase *tc = tcase_create("expand");

	tcase_add_loop_test(tc, test_spf_macro_expansion_table, 0,
	    sizeof(cases) / sizeof(cases[0]));
	tcase_add_test(tc, test_spf_macro_nul_inside_is_an_error);
	tcase_add_test(tc, test_spf_macro_output_is_capped);
	tcase_add_loop_test(tc, test_spf_reverse_name_table, 0,
	    sizeof(reverse_cases) / sizeof(reverse_cases[0]));
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(spf_macro_suite());
}
