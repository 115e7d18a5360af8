/*
 * check_lists.c - access list syntax and matching
 */
#include "config.h"

#include <string.h>

#include "buf.h"
#include "helpers.h"
#include "lists.h"
#include "netaddr.h"
#include "psl.h"
#include "welcome.h"

static struct list *
load(enum list_kind k, const char *text)
{
	struct list *l;
	struct buf why = BUF_INIT;

	if (list_parse(k, text, strlen(text), "t.list", &l, &why) < 0)
		ck_abort_msg("list: %s", why.data);
	buf_release(&why);
	return l;
}

START_TEST(test_lists_client_longest_prefix_wins)
{
	struct list *l = load(LIST_CLIENT,
	    "192.0.2.0/24 REJECT go away\n"
	    "192.0.2.7    OK\n"
	    "2001:db8::/32 SCORE 4.5 ipv6 range  # comment\n");
	struct netaddr na;
	const struct list_entry *e;

	netaddr_parse("192.0.2.7", &na);
	ck_assert_int_eq(list_match_addr(l, &na)->action, LIST_OK);
	netaddr_parse("192.0.2.8", &na);
	e = list_match_addr(l, &na);
	ck_assert_int_eq(e->action, LIST_REJECT);
	ck_assert_str_eq(e->text, "go away");
	netaddr_parse("2001:db8:1::5", &na);
	e = list_match_addr(l, &na);
	ck_assert_int_eq(e->action, LIST_SCORE);
	ck_assert(e->score == 4.5);
	ck_assert_str_eq(e->text, "ipv6 range");
	netaddr_parse("198.51.100.1", &na);
	ck_assert_ptr_null(list_match_addr(l, &na));
	list_free(l);
}
END_TEST

START_TEST(test_lists_sender_address_domain_and_parents)
{
	struct list *l = load(LIST_SENDER,
	    "Boss@Example.COM OK\n"
	    "@example.com SCORE 3\n"
	    "spam.example REJECT\n"
	    "postmaster@ SCORE -1\n");

	ck_assert_int_eq(list_match_sender(l, "boss@example.com")->action,
	    LIST_OK);
	ck_assert(list_match_sender(l, "x@EXAMPLE.com")->score == 3);
	ck_assert_ptr_null(list_match_sender(l, "x@sub.example.com"));
	ck_assert_int_eq(list_match_sender(l, "a@mx.spam.example")->action,
	    LIST_REJECT);
	ck_assert_int_eq(list_match_sender(l, "a@spam.example")->action,
	    LIST_REJECT);
	ck_assert_ptr_null(list_match_sender(l, "a@notspam.example"));
	ck_assert(list_match_sender(l, "postmaster@other.org")->score == -1);
	ck_assert_ptr_null(list_match_sender(l, ""));
	list_free(l);
}
END_TEST

START_TEST(test_lists_helo_exact_and_subdomains)
{
	struct list *l = load(LIST_HELO, "localhost REJECT\n"
	    ".dyn.example SCORE 2\n");

	ck_assert_ptr_nonnull(list_match_helo(l, "LOCALHOST"));
	ck_assert_ptr_nonnull(list_match_helo(l, "a-1.dyn.example"));
	ck_assert_ptr_null(list_match_helo(l, "dyn.example"));
	list_free(l);
}
END_TEST

START_TEST(test_lists_welcome_auth_keys)
{
	struct list *l = load(LIST_WELCOME_AUTH, "# friends\n"
	    "Boss@Partner.example\n*@news.example\nbank.example\n");

	ck_assert_ptr_nonnull(list_match_sender(l, "boss@partner.example"));
	ck_assert_ptr_null(list_match_sender(l, "other@partner.example"));
	ck_assert_ptr_nonnull(list_match_sender(l, "any@NEWS.example"));
	/* *@domain: that domain only */
	ck_assert_ptr_null(list_match_sender(l, "any@mx.news.example"));
	/* domain: and its subdomains */
	ck_assert_ptr_nonnull(list_match_sender(l, "a@bank.example"));
	ck_assert_ptr_nonnull(list_match_sender(l, "a@mail.bank.example"));
	ck_assert_ptr_null(list_match_sender(l, "a@notbank.example"));
	ck_assert_uint_eq(list_match_sender(l, "a@bank.example")->line, 4);
	list_free(l);
}
END_TEST

START_TEST(test_lists_dkim_domains)
{
	struct list *l = load(LIST_DKIM_DOMAIN, "Bank.example\n");

	ck_assert_ptr_nonnull(list_match_domain(l, "bank.example"));
	ck_assert_ptr_nonnull(list_match_domain(l, "mail.BANK.example"));
	ck_assert_ptr_null(list_match_domain(l, "bank.example.evil"));
	ck_assert_ptr_null(list_match_domain(l, "example"));
	list_free(l);
}
END_TEST

static const struct {
	const char *domain;
	const char *spf, *dkim, *dmarc;
	const char *want;	/* NULL: not authenticated */
} auth_cases[] = {
	{ "bank.example", "bank.example", NULL, NULL, "SPF" },
	{ "bank.example", "bounce.bank.example", NULL, NULL, "SPF" },
	{ "bank.example", "evil.example", NULL, NULL, NULL },
	{ "bank.example", NULL, "mail.bank.example", NULL, "DKIM" },
	{ "mail.bank.example", NULL, "bank.example", NULL, "DKIM" },
	{ "bank.example", NULL, "esp.example", NULL, NULL },
	{ "bank.example", NULL, NULL, "bank.example", "DMARC" },
	{ "bank.example", NULL, NULL, "other.example", NULL },
	{ "bank.co.uk", "evil.co.uk", "co.uk", NULL, NULL },
	{ "bank.example", NULL, NULL, NULL, NULL },
};

START_TEST(test_welcome_authenticated_relaxed)
{
	struct psl *psl;
	struct buf why = BUF_INIT;
	struct welcome_auth a;
	const char *dk[1];
	const char *got;

	ck_assert_int_eq(psl_load(test_data("dnsbl/psl.dat"), &psl, &why), 0);
	memset(&a, 0, sizeof(a));
	a.spf_pass = auth_cases[_i].spf;
	dk[0] = auth_cases[_i].dkim;
	a.dkim = dk;
	a.ndkim = dk[0] != NULL;
	a.dmarc_pass = auth_cases[_i].dmarc;
	got = welcome_authenticated(psl, auth_cases[_i].domain, &a);
	if (auth_cases[_i].want == NULL)
		ck_assert_msg(got == NULL, "case %d: %s", _i, got);
	else
		ck_assert_msg(got && strcmp(got, auth_cases[_i].want) == 0,
		    "case %d: %s", _i, got ? got : "(null)");
	psl_free(psl);
	buf_release(&why);
}
END_TEST

static const struct {
	enum list_kind kind;
	const char *text;
	const char *want;
} bad_lists[] = {
	{ LIST_WELCOME_AUTH, "a@b.example\nuser@\n",
	  "t.list:2: 'user@': not a valid sender" },
	{ LIST_WELCOME_AUTH, "a@b.example OK\n",
	  "t.list:1: 'a@b.example': an allowlist line holds one key" },
	{ LIST_DKIM_DOMAIN, "a@b.example\n",
	  "t.list:1: 'a@b.example': not a valid DKIM domain" },
	{ LIST_CLIENT, "10.0.0.0/8 OK\n300.1.1.1 REJECT\n", "t.list:2: '300.1.1.1'" },
	{ LIST_CLIENT, "10.0.0.1\n", "t.list:1: '10.0.0.1': missing action" },
	{ LIST_SENDER, "a@b DROP\n", "t.list:1: unknown action 'DROP'" },
	{ LIST_SENDER, "a@b SCORE many\n", "t.list:1: SCORE needs a number" },
	{ LIST_SENDER, "a@b@c OK\n", "t.list:1: 'a@b@c': not a valid sender" },
	{ LIST_HELO, "a@b OK\n", "t.list:1: 'a@b': not a valid HELO" },
	{ LIST_SENDER, "a@b OK extra\n", "t.list:1: OK takes no text" },
};

START_TEST(test_lists_errors_name_file_and_line)
{
	struct list *l;
	struct buf why = BUF_INIT;

	ck_assert_int_eq(list_parse(bad_lists[_i].kind, bad_lists[_i].text,
	    strlen(bad_lists[_i].text), "t.list", &l, &why), -1);
	ck_assert_ptr_null(l);
	ck_assert_msg(strncmp(why.data, bad_lists[_i].want,
	    strlen(bad_lists[_i].want)) == 0, "got '%s', want '%s'", why.data,
	    bad_lists[_i].want);
	buf_release(&why);
}
END_TEST

static Suite *
lists_suite(void)
{
	Suite *s = suite_create("lists");
	TCase *tc = tcase_create("match");

	tcase_add_test(tc, test_lists_client_longest_prefix_wins);
	tcase_add_test(tc, test_lists_sender_address_domain_and_parents);
	tcase_add_test(tc, test_lists_helo_exact_and_subdomains);
	tcase_add_test(tc, test_lists_welcome_auth_keys);
	tcase_add_test(tc, test_lists_dkim_domains);
	tcase_add_loop_test(tc, test_welcome_authenticated_relaxed, 0,
	    sizeof(auth_cases) / sizeof(auth_cases[0]));
	suite_add_tcase(s, tc);
	tc = tcase_create("errors");
	tcase_add_loop_test(tc, test_lists_errors_name_file_and_line, 0,
	    sizeof(bad_lists) / sizeof(bad_lists[0]));
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(lists_suite());
}
