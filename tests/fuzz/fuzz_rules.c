/*
 * fuzz_rules.c - the rule file parser, the regex analysis and matching
 *
 * The input is a rule file.  It is parsed (all diagnostics collected);
 * when it loads, the set runs over a small fixed message, with and
 * without the prefilter, which must agree, and rules_test() runs on
 * every rule.  PCRE2 limits keep pathological patterns bounded.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "mime.h"
#include "msg.h"
#include "msgparse.h"
#include "rules.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const char sample[] =
    "Received: from pc1 (dsl-1-2-3-4.isp.example [192.0.2.9]) by mx.example "
    "with ESMTPA id 1\r\n"
    "From: \"Jane\" <jane@sender.example>\r\nTo: bob@rcpt.example\r\n"
    "Subject: =?utf-8?q?Free_money?= now\r\nMessage-ID: <1@x.example>\r\n"
    "Content-Type: multipart/alternative; boundary=b\r\n\r\n--b\r\n"
    "Content-Type: text/plain\r\n\r\nBuy cheap pills at www.shop.example\r\n"
    "\r\nsecond paragraph aaaaaaaaaaaaaaaaaaaaaaaaaaaa!\r\n--b\r\n"
    "Content-Type: text/html\r\n\r\n<p>Click <a href=\"http://1.2.3.4/\">"
    "http://bank.example/</a></p>\r\n--b--\r\n";

static void
ignore(const char *where, const char *text, void *arg)
{
	(void)where;
	(void)text;
	(void)arg;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct msg_limits ml = { 1 << 20, 1 << 20, 1000, 100 };
	struct rules_options opt = { .match_limit = 5000, .score_set = 3 };
	struct rules_report rep;
	struct rules_result a, b;
	struct mime_limits lim;
	struct ruleset *rs;
	struct mime_msg *mm;
	struct msg *m;
	size_t i;

	if (rules_parse_text((const char *)data, size, "fuzz.cf", &opt, &rs,
	    &rep) == 0) {
		m = msg_new(&ml);
		msgparse_text(m, sample, sizeof(sample) - 1);
		mime_limits_default(&lim);
		mm = mime_parse(m, &lim);
		rules_eval(rs, m, mm, 0, &a);
		rules_eval(rs, m, mm, RULES_EVAL_NO_PREFILTER, &b);
		/* a regex stopped by a limit may stop at a different place */
		if (a.nlimited == 0 && b.nlimited == 0) {
			if (a.nhits != b.nhits)
				abort();
			for (i = 0; i < a.nhits; i++)
				if (a.hits[i].rule != b.hits[i].rule ||
				    a.hits[i].count != b.hits[i].count)
					abort();
		}
		for (i = 0; i < rules_count(rs) && i < 8; i++)
			(void)rules_test(rs, rule_name(rules_get(rs, i)), m, mm,
			    ignore, NULL);
		rules_result_release(&a);
		rules_result_release(&b);
		mime_free(&mm);
		msg_free(&m);
		rules_free(rs);
	}
	rules_report_release(&rep);
	return 0;
}
