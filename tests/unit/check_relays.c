/*
 * check_relays.c - SpamAssassin's relay pseudo-headers: Received fields
 * as the MTAs write them, the client entry, and rules reading the list
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "helpers.h"
#include "mime.h"
#include "msg.h"
#include "relays.h"
#include "rules.h"

#define N(a)	(sizeof(a) / sizeof((a)[0]))

/* ------------------------------------------------------------------ */
/* one Received field                                                  */
/* ------------------------------------------------------------------ */

static const struct {
	const char *what;
	const char *field;
	const char *entry;	/* the formatted entry; NULL: not a relay */
} received_cases[] = {
	{ "Postfix",
	  "from mail.example.org (mail.example.org [192.0.2.25]) by "
	  "mx.example.net (Postfix) with ESMTPS id 4QxYz1 for "
	  "<b@example.net>; Thu, 26 Nov 2026 10:15:00 +0000",
	  "[ ip=192.0.2.25 rdns=mail.example.org helo=mail.example.org "
	  "by=mx.example.net ident= envfrom= intl=0 id=4QxYz1 auth= msa=0 ]" },
	{ "Postfix, no reverse DNS, HELO an address literal",
	  "from [192.0.2.7] (unknown [198.51.100.9]) by mx.example.net "
	  "(Postfix) with ESMTP id AB12",
	  "[ ip=198.51.100.9 rdns= helo=!192.0.2.7! by=mx.example.net ident= "
	  "envfrom= intl=0 id=AB12 auth= msa=0 ]" },
	{ "Postfix, authenticated submission",
	  "from laptop (dsl-1-2.isp.example [203.0.113.5]) (Authenticated "
	  "sender: alice) by smtp.example.org (Postfix) with ESMTPSA id 77",
	  "[ ip=203.0.113.5 rdns=dsl-1-2.isp.example helo=laptop "
	  "by=smtp.example.org ident= envfrom= intl=0 id=77 auth=ESMTPSA "
	  "msa=0 ]" },
	{ "Sendmail, forged HELO, envelope-from",
	  "from friend (host.example.com [192.0.2.44] (may be forged)) by "
	  "relay.example.net (8.17.1/8.17.1) with ESMTP id 3AQ9Fx0B; "
	  "(envelope-from <bounce@example.com>)",
	  "[ ip=192.0.2.44 rdns=host.example.com helo=friend "
	  "by=relay.example.net ident= envfrom=bounce@example.com intl=0 "
	  "id=3AQ9Fx0B auth= msa=0 ]" },
	{ "Sendmail with ident",
	  "from lugh.tuatha.org (root@lugh.tuatha.org [194.125.145.45]) by "
	  "dogma.slashnull.org (8.11.6/8.11.6) with ESMTP id g7MCJiZ06043",
	  "[ ip=194.125.145.45 rdns=lugh.tuatha.org helo=lugh.tuatha.org "
	  "by=dogma.slashnull.org ident=root envfrom= intl=0 id=g7MCJiZ06043 "
	  "auth= msa=0 ]" },
	{ "Sendmail, ident and no name",
	  "from yahoo.com (IDENT:squid@[211.57.23.142]) by dogma.slashnull.org "
	  "(8.11.6/8.11.6) with SMTP id g7RJLTZ22353",
	  "[ ip=211.57.23.142 rdns= helo=yahoo.com by=dogma.slashnull.org "
	  "ident=IDENT:squid envfrom= intl=0 id=g7RJLTZ22353 auth= msa=0 ]" },
	{ "Exim",
	  "from mail.example.com ([192.0.2.80] helo=smtp.example.com) by "
	  "mx.example.net with esmtp (Exim 4.96) (envelope-from "
	  "<a@example.com>) id 1rABCD-000123-4E",
	  "[ ip=192.0.2.80 rdns=mail.example.com helo=smtp.example.com "
	  "by=mx.example.net ident= envfrom=a@example.com intl=0 "
	  "id=1rABCD-000123-4E auth= msa=0 ]" },
	{ "Exim, no name",
	  "from [192.0.2.81] (helo=box) by mx.example.net with smtp id 9",
	  "[ ip=192.0.2.81 rdns= helo=box by=mx.example.net ident= envfrom= "
	  "intl=0 id=9 auth= msa=0 ]" },
	{ "Google, trailing dot, IPv6",
	  "from mail-sor-f41.google.com (mail-sor-f41.google.com. "
	  "[2607:f8b0:4864:20::62a]) by mx.google.com with SMTPS id "
	  "a1sor2; Thu, 26 Nov 2026 02:15:00 -0800 (PST)",
	  "[ ip=2607:f8b0:4864:20::62a rdns=mail-sor-f41.google.com "
	  "helo=mail-sor-f41.google.com by=mx.google.com ident= envfrom= "
	  "intl=0 id=a1sor2 auth= msa=0 ]" },
	{ "IPv6 literal with prefix",
	  "from a.example ([IPv6:2001:db8::25]) by b.example id x",
	  "[ ip=2001:db8::25 rdns= helo=a.example by=b.example ident= "
	  "envfrom= intl=0 id=x auth= msa=0 ]" },
	{ "Microsoft, bare address",
	  "from EX01.corp.example (10.1.2.3) by EX02.corp.example "
	  "(10.1.2.4) with Microsoft SMTP Server (version=TLS1_2) id "
	  "15.1.2507.6; Thu, 26 Nov 2026 10:15:00 +0000",
	  "[ ip=10.1.2.3 rdns=EX01.corp.example helo=EX01.corp.example "
	  "by=EX02.corp.example "
	  "ident= envfrom= intl=0 id=15.1.2507.6 auth= msa=0 ]" },
	{ "qmail with HELO",
	  "from www6.mailshell.com (HELO mailshell.com) (209.157.66.240) by "
	  "mi-1.rz.ruhr-uni-bochum.de with SMTP; 27 Jul 2002 07:30:37 -0000",
	  "[ ip=209.157.66.240 rdns=www6.mailshell.com helo=mailshell.com "
	  "by=mi-1.rz.ruhr-uni-bochum.de ident= envfrom= intl=0 id= auth= "
	  "msa=0 ]" },
	{ "qmail, no reverse DNS",
	  "from unknown (HELO FUSNWR01-LRS) (62.172.195.14) by mx.example "
	  "with SMTP",
	  "[ ip=62.172.195.14 rdns= helo=FUSNWR01-LRS by=mx.example ident= "
	  "envfrom= intl=0 id= auth= msa=0 ]" },
	{ "a bracket that is not an address comes first",
	  "from x ([not-an-ip] y.example [192.0.2.9]) by z",
	  "[ ip=192.0.2.9 rdns=y.example helo=x by=z ident= envfrom= intl=0 "
	  "id= auth= msa=0 ]" },
	{ "spaces and brackets cannot forge a second entry",
	  "from a]b ( ]x=1 [ ip=6.6.6.6 ] [192.0.2.10]) by c]d id e]f",
	  "[ ip=192.0.2.10 rdns= helo=ab by=cd ident= envfrom= intl=0 id=ef "
	  "auth= msa=0 ]" },
	{ "local delivery: no address", "by mx.example.net (Postfix, from "
	  "userid 1000) id 123; Thu, 26 Nov 2026", NULL },
	{ "from without an address", "from localhost by mx.example.net "
	  "with LMTP id 5", NULL },
	{ "address only after by", "from a.example by b.example "
	  "([192.0.2.1]) id 5", NULL },
	{ "empty", "", NULL },
	{ "not from", "fromage (x [192.0.2.1]) by y", NULL },
};

START_TEST(test_relay_parse_received_forms)
{
	struct relay r;
	struct buf out = BUF_INIT;
	bool ok = relay_parse_received(received_cases[_i].field, &r);

	if (received_cases[_i].entry == NULL) {
		ck_assert_msg(!ok, "%s: parsed as a relay (%s)",
		    received_cases[_i].what, r.ip);
		return;
	}
	ck_assert_msg(ok, "%s: not parsed", received_cases[_i].what);
	relay_format(&r, &out);
	ck_assert_msg(strcmp(buf_cstr(&out), received_cases[_i].entry) == 0,
	    "%s:\n got  %s\n want %s", received_cases[_i].what,
	    buf_cstr(&out), received_cases[_i].entry);
	buf_release(&out);
}
END_TEST

/* an endless field is read up to RELAY_FIELD_MAX, values are capped */
START_TEST(test_relay_parse_long_fields_bounded)
{
	struct buf f = BUF_INIT, out = BUF_INIT;
	struct relay r;
	size_t i;

	buf_adds(&f, "from ");
	for (i = 0; i < 200; i++)
		buf_adds(&f, "helo");
	buf_adds(&f, " (");
	for (i = 0; i < 200; i++)
		buf_adds(&f, "rdns");
	buf_adds(&f, ".example [192.0.2.1]) by b");
	ck_assert(relay_parse_received(buf_cstr(&f), &r));
	ck_assert_str_eq(r.ip, "192.0.2.1");
	ck_assert_uint_eq(strlen(r.helo), sizeof(r.helo) - 1);
	/* the rdns word starts 800 bytes before the bracket */
	ck_assert_uint_eq(strlen(r.rdns), sizeof(r.rdns) - 1);
	relay_format(&r, &out);
	ck_assert_uint_lt(out.len, 1024);
	buf_reset(&f);
	buf_adds(&f, "from a (");
	for (i = 0; i < RELAY_FIELD_MAX; i++)
		buf_addc(&f, 'x');
	buf_adds(&f, " [192.0.2.1]) by b");	/* past the read limit */
	ck_assert(!relay_parse_received(buf_cstr(&f), &r));
	buf_release(&f);
	buf_release(&out);
}
END_TEST

/* ------------------------------------------------------------------ */
/* the list                                                            */
/* ------------------------------------------------------------------ */

struct tmsg {
	struct msg *m;
	struct mime_msg *mm;
};

static void
tmsg_init(struct tmsg *t, const char *text, const char *ip,
    const char *name, const char *helo)
{
	t->mm = test_mime_text(text, &t->m);
	if (ip)
		msg_set_client(t->m, ip, name);
	msg_set_helo(t->m, helo);
	msg_set_mta_name(t->m, "mx.example.net");
	msg_set_sender(t->m, "<bounce@sender.example>");
	msg_set_queue_id(t->m, "4QxYz1");
}

static void
tmsg_release(struct tmsg *t)
{
	mime_free(&t->mm);
	msg_free(&t->m);
}

static const char relayed[] =
    "Received: from out.sender.example (out.sender.example [192.0.2.25])\r\n"
    "\tby mx.example.net (Postfix) with ESMTPS id 4QxYz1\r\n"
    "\tfor <b@example.net>; Thu, 26 Nov 2026 10:15:00 +0000\r\n"
    "Received: by out.sender.example (Postfix, from userid 1000)\r\n"
    "\tid 99; Thu, 26 Nov 2026 10:14:59 +0000\r\n"
    "Received: from pc17 (dyn-17.isp.example [203.0.113.17])\r\n"
    "\tby out.sender.example (Postfix) with ESMTPSA id 98\r\n"
    "From: a@sender.example\r\nSubject: hi\r\n\r\nhello\r\n";

/* the MTA's own Received field is the client entry, not a second one */
START_TEST(test_relays_client_first_own_field_skipped)
{
	struct tmsg t;
	struct buf out = BUF_INIT;

	tmsg_init(&t, relayed, "192.0.2.25", "out.sender.example",
	    "out.sender.example");
	relays_untrusted(t.m, t.mm, &out);
	ck_assert_str_eq(buf_cstr(&out),
	    "[ ip=192.0.2.25 rdns=out.sender.example helo=out.sender.example "
	    "by=mx.example.net ident= envfrom=bounce@sender.example intl=0 "
	    "id=4QxYz1 auth= msa=0 ] "
	    "[ ip=203.0.113.17 rdns=dyn-17.isp.example helo=pc17 "
	    "by=out.sender.example ident= envfrom= intl=0 id=98 auth=ESMTPSA "
	    "msa=0 ]");
	buf_release(&out);
	tmsg_release(&t);
}
END_TEST

/* a top field about another address is a hop of its own */
START_TEST(test_relays_without_own_field)
{
	struct tmsg t;
	struct buf out = BUF_INIT;

	tmsg_init(&t, relayed, "198.51.100.3", "unknown", "[198.51.100.3]");
	relays_untrusted(t.m, t.mm, &out);
	ck_assert_msg(strncmp(buf_cstr(&out), "[ ip=198.51.100.3 rdns= "
	    "helo=!198.51.100.3! by=mx.example.net ", 60) == 0, "%s",
	    buf_cstr(&out));
	ck_assert_ptr_nonnull(strstr(buf_cstr(&out), "] [ ip=192.0.2.25 "));
	ck_assert_ptr_nonnull(strstr(buf_cstr(&out), "] [ ip=203.0.113.17 "));
	buf_release(&out);
	tmsg_release(&t);
}
END_TEST

/* no client address (a stored message scanned): the fields alone */
START_TEST(test_relays_from_fields_only)
{
	struct tmsg t;
	struct buf out = BUF_INIT;

	tmsg_init(&t, relayed, NULL, NULL, NULL);
	relays_untrusted(t.m, t.mm, &out);
	ck_assert_msg(strncmp(buf_cstr(&out), "[ ip=192.0.2.25 rdns=out.sender"
	    ".example ", 40) == 0, "%s", buf_cstr(&out));
	buf_release(&out);
	tmsg_release(&t);
}
END_TEST

/* no client: the site's own hops from private addresses are left out */
START_TEST(test_relays_from_fields_private_hops_skipped)
{
	static const char text[] =
	    "Received: from localhost (localhost [127.0.0.1]) by mx id 1\r\n"
	    "Received: from filter (filter.lan [10.0.0.5]) by mx id 2\r\n"
	    "Received: from out (out.example [192.0.2.25]) by filter id 3\r\n"
	    "Received: from pc (pc.lan [192.168.1.9]) by out id 4\r\n"
	    "Subject: x\r\n\r\nbody\r\n";
	struct tmsg t;
	struct buf out = BUF_INIT;

	tmsg_init(&t, text, NULL, NULL, NULL);
	relays_untrusted(t.m, t.mm, &out);
	ck_assert_msg(strncmp(buf_cstr(&out), "[ ip=192.0.2.25 rdns=out.example"
	    " ", 33) == 0, "%s", buf_cstr(&out));
	/* once outside, every hop is listed, private or not */
	ck_assert_ptr_nonnull(strstr(buf_cstr(&out), "] [ ip=192.168.1.9 "));
	ck_assert_ptr_null(strstr(buf_cstr(&out), "127.0.0.1"));
	buf_release(&out);
	tmsg_release(&t);
}
END_TEST

/* at most RELAYS_MAX entries however many fields */
START_TEST(test_relays_capped)
{
	struct buf text = BUF_INIT, out = BUF_INIT;
	struct tmsg t;
	const char *p;
	size_t n = 0;
	int i;

	for (i = 0; i < 200; i++)
		buf_printf(&text, "Received: from h%d (h%d.example "
		    "[192.0.2.%d]) by x\r\n", i, i, i % 250 + 1);
	buf_adds(&text, "Subject: x\r\n\r\nbody\r\n");
	tmsg_init(&t, text.data, "198.51.100.1", "c.example", "c.example");
	relays_untrusted(t.m, t.mm, &out);
	for (p = buf_cstr(&out); (p = strstr(p, "[ ip=")) != NULL; p++)
		n++;
	ck_assert_uint_eq(n, RELAYS_MAX);
	buf_release(&text);
	buf_release(&out);
	tmsg_release(&t);
}
END_TEST

/* ------------------------------------------------------------------ */
/* rules                                                               */
/* ------------------------------------------------------------------ */

/* stock SpamAssassin rules on the first relay, as Debian ships them */
static const char sa_rules[] =
    "header RDNS_NONE X-Spam-Relays-Untrusted =~ /^[^\\]]+ rdns= /\n"
    "header __LAST_EXTERNAL_RELAY_NO_AUTH X-Spam-Relays-External =~ "
    "/^[^\\]]+ auth= /\n"
    "header HELO_LOCALHOST X-Spam-Relays-External =~ "
    "/^[^\\]]+ helo=localhost /i\n"
    "header __RDNS_DYNAMIC_IPADDR X-Spam-Relays-External =~ /^[^\\]]+ "
    "rdns=(?![^\\s\\]]+[-.]static[-.])\\S*\\d+[^\\d\\s]\\d+[^\\d\\s]\\d+"
    "[^\\d\\s]\\d+\\S*\\.\\S+\\.\\S/i\n"
    "header __DOS_SINGLE_EXT_RELAY X-Spam-Relays-External =~ "
    "/^\\[ [^\\]]+ \\]$/\n"
    "header NO_TRUSTED X-Spam-Relays-Trusted =~ /^$/\n";

static bool
hit(const struct rules_result *res, const char *name)
{
	size_t i;

	for (i = 0; i < res->nhits; i++)
		if (strcmp(rule_name(res->hits[i].rule), name) == 0)
			return true;
	return false;
}

static const char direct[] = "From: a@sender.example\r\nSubject: hi\r\n"
    "\r\nhello\r\n";

START_TEST(test_relays_stock_rules)
{
	struct rules_report rep;
	struct rules_result res;
	struct ruleset *rs;
	struct tmsg t;

	ck_assert_int_eq(rules_parse_text(sa_rules, strlen(sa_rules), "sa.cf",
	    NULL, &rs, &rep), 0);
	ck_assert_uint_eq(rep.n, 0);
	rules_report_release(&rep);

	/* straight from a dynamic address without reverse DNS */
	tmsg_init(&t, direct, "203.0.113.9", "unknown", "localhost");
	rules_eval(rs, t.m, t.mm, 0, &res);
	ck_assert(hit(&res, "RDNS_NONE"));
	ck_assert(hit(&res, "HELO_LOCALHOST"));
	ck_assert(hit(&res, "__LAST_EXTERNAL_RELAY_NO_AUTH"));
	ck_assert(hit(&res, "__DOS_SINGLE_EXT_RELAY"));
	ck_assert(hit(&res, "NO_TRUSTED"));
	ck_assert(!hit(&res, "__RDNS_DYNAMIC_IPADDR"));
	rules_result_release(&res);
	tmsg_release(&t);

	/* a dynamic-looking name, and a second hop behind it */
	tmsg_init(&t, relayed, "192.0.2.25", "pool-192-0-2-25.dsl.isp.example",
	    "mail.sender.example");
	rules_eval(rs, t.m, t.mm, 0, &res);
	ck_assert(!hit(&res, "RDNS_NONE"));
	ck_assert(!hit(&res, "HELO_LOCALHOST"));
	ck_assert(hit(&res, "__RDNS_DYNAMIC_IPADDR"));
	ck_assert(!hit(&res, "__DOS_SINGLE_EXT_RELAY"));
	rules_result_release(&res);
	tmsg_release(&t);

	/* authenticated: the first entry carries auth= */
	tmsg_init(&t, direct, "203.0.113.9", "h.example", "h.example");
	msg_set_auth(t.m, "alice");
	rules_eval(rs, t.m, t.mm, 0, &res);
	ck_assert(!hit(&res, "__LAST_EXTERNAL_RELAY_NO_AUTH"));
	rules_result_release(&res);
	tmsg_release(&t);
	rules_free(rs);
}
END_TEST

static Suite *
relays_suite(void)
{
	Suite *s = suite_create("relays");
	TCase *tc = tcase_create("received");

	tcase_add_loop_test(tc, test_relay_parse_received_forms, 0,
	    N(received_cases));
	tcase_add_test(tc, test_relay_parse_long_fields_bounded);
	suite_add_tcase(s, tc);

	tc = tcase_create("list");
	tcase_add_test(tc, test_relays_client_first_own_field_skipped);
	tcase_add_test(tc, test_relays_without_own_field);
	tcase_add_test(tc, test_relays_from_fields_only);
	tcase_add_test(tc, test_relays_from_fields_private_hops_skipped);
	tcase_add_test(tc, test_relays_capped);
	tcase_add_test(tc, test_relays_stock_rules);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(relays_suite());
}
