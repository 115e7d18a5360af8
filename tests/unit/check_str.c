/*
 * check_str.c - number parsing, UTF-8, escaping, addresses
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "buf.h"
#include "helpers.h"
#include "json.h"
#include "netaddr.h"
#include "str.h"

START_TEST(test_str_parse_uint_bounds)
{
	uint64_t v;

	ck_assert_int_eq(parse_uint("42", 0, 100, &v), 0);
	ck_assert_uint_eq(v, 42);
	ck_assert_int_eq(parse_uint("101", 0, 100, &v), -1);
	ck_assert_int_eq(parse_uint("-1", 0, 100, &v), -1);
	ck_assert_int_eq(parse_uint("4x", 0, 100, &v), -1);
	ck_assert_int_eq(parse_uint("", 0, 100, &v), -1);
	ck_assert_int_eq(parse_uint("99999999999999999999999", 0, UINT64_MAX,
	    &v), -1);
}
END_TEST

START_TEST(test_str_parse_size_suffixes)
{
	uint64_t v;

	ck_assert_int_eq(parse_size("64k", 0, UINT64_MAX, &v), 0);
	ck_assert_uint_eq(v, 65536);
	ck_assert_int_eq(parse_size("10M", 0, UINT64_MAX, &v), 0);
	ck_assert_uint_eq(v, 10485760);
	ck_assert_int_eq(parse_size("1.5M", 0, UINT64_MAX, &v), -1);
	ck_assert_int_eq(parse_size("k", 0, UINT64_MAX, &v), -1);
}
END_TEST

static const struct {
	const char *name;
	const char *bytes;
	size_t len;
	bool valid;
} utf8_cases[] = {
	{ "ascii", "hello", 5, true },
	{ "two-byte", "caf\xc3\xa9", 5, true },
	{ "four-byte", "\xf0\x9f\x98\x80", 4, true },
	{ "lone continuation", "\x80", 1, false },
	{ "overlong slash", "\xc0\xaf", 2, false },
	{ "surrogate", "\xed\xa0\x80", 3, false },
	{ "truncated", "\xe2\x82", 2, false },
	{ "beyond U+10FFFF", "\xf4\x90\x80\x80", 4, false },
};

START_TEST(test_str_utf8_validation)
{
	ck_assert_msg(utf8_valid(utf8_cases[_i].bytes, utf8_cases[_i].len) ==
	    utf8_cases[_i].valid, "case %s", utf8_cases[_i].name);
}
END_TEST

START_TEST(test_json_str_escapes_and_repairs)
{
	struct buf b = BUF_INIT;

	json_str(&b, "a\"b\\c\n\x01\xff\xc3\xa9", 10);
	ck_assert_str_eq(b.data, "\"a\\\"b\\\\c\\n\\u0001\xef\xbf\xbd\xc3\xa9\"");
	buf_release(&b);
}
END_TEST

START_TEST(test_str_escape_caps_and_hexes)
{
	struct buf b = BUF_INIT;

	str_escape(&b, "ab\r\n\\cdef", 9, 6);
	ck_assert_str_eq(b.data, "ab\\x0d\\x0a\\\\c...");
	buf_release(&b);
}
END_TEST

START_TEST(test_buf_printf_fits_and_grows)
{
	/*
	 * buf_printf formats into the room there is and again when the
	 * text is longer: every length around the room's edge comes out
	 * whole, NUL-ended, after what the buffer held
	 */
	char want[400];
	size_t pre, n, k;

	for (pre = 0; pre < 70; pre += 7)
		for (n = 0; n < 300; n++) {
			struct buf b = BUF_INIT;

			for (k = 0; k < n; k++)
				want[k] = (char)('a' + (k + pre) % 26);
			want[n] = '\0';
			for (k = 0; k < pre; k++)
				buf_addc(&b, '-');
			buf_printf(&b, "%s|%zu", want, n);
			ck_assert_uint_eq(b.len, pre + n + 1 +
			    (size_t)snprintf(NULL, 0, "%zu", n));
			ck_assert(memcmp(b.data + pre, want, n) == 0);
			ck_assert_int_eq(b.data[pre + n], '|');
			ck_assert_uint_eq(strlen(b.data), b.len);
			buf_release(&b);
		}
}
END_TEST

START_TEST(test_netaddr_v4mapped_matches_v4_cidr)
{
	struct netaddr na;
	struct cidr c;

	ck_assert_int_eq(netaddr_parse("::ffff:192.0.2.7", &na), 0);
	ck_assert_int_eq(na.family, AF_INET);
	ck_assert_int_eq(cidr_parse("192.0.2.0/24", &c), 0);
	ck_assert(cidr_match(&c, &na));
	ck_assert_int_eq(cidr_parse("192.0.3.0/24", &c), 0);
	ck_assert(!cidr_match(&c, &na));
}
END_TEST

START_TEST(test_netaddr_v6_cidr_and_brackets)
{
	struct netaddr na;
	struct cidr c;

	ck_assert_int_eq(netaddr_parse("[2001:db8::1]", &na), 0);
	ck_assert_int_eq(na.family, AF_INET6);
	ck_assert_int_eq(cidr_parse("2001:db8::/32", &c), 0);
	ck_assert(cidr_match(&c, &na));
	ck_assert_int_eq(cidr_parse("2001:db9::/32", &c), 0);
	ck_assert(!cidr_match(&c, &na));
	ck_assert_int_eq(cidr_parse("2001:db8::/129", &c), -1);
	ck_assert_int_eq(cidr_parse("192.0.2.0/33", &c), -1);
	ck_assert_int_eq(cidr_parse("not-an-ip", &c), -1);
	ck_assert_int_eq(cidr_parse("10.0.0.0/8x", &c), -1);
}
END_TEST

static Suite *
str_suite(void)
{
	Suite *s = suite_create("str");
	TCase *tc = tcase_create("parse");

	tcase_add_test(tc, test_str_parse_uint_bounds);
	tcase_add_test(tc, test_buf_printf_fits_and_grows);
	tcase_add_test(tc, test_str_parse_size_suffixes);
	tcase_add_loop_test(tc, test_str_utf8_validation, 0,
	    sizeof(utf8_cases) / sizeof(utf8_cases[0]));
	tcase_add_test(tc, test_json_str_escapes_and_repairs);
	tcase_add_test(tc, test_str_escape_caps_and_hexes);
	suite_add_tcase(s, tc);
	tc = tcase_create("netaddr");
	tcase_add_test(tc, test_netaddr_v4mapped_matches_v4_cidr);
	tcase_add_test(tc, test_netaddr_v6_cidr_and_brackets);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(str_suite());
}
