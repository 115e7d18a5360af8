/*
 * fuzz_saeval.c - the eval: tests over untrusted messages
 *
 * The input is a message.  A fixed rule set calls every function of the
 * saeval.h families (functions that need arguments with typical ones;
 * the others bare) and runs over it, with and without authentication
 * results; then rules_test() explains each eval rule.  Nothing may
 * crash, leak or read out of bounds, whatever the Received, Date,
 * address and Message-ID fields hold.
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
#include "saeval.h"
#include "verdict.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* arguments for the functions that need them */
static const struct {
	const char *fn;
	const char *args;
} with_args[] = {
	{ "check_header_count_range", "'Received', '2', '10'" },
	{ "check_illegal_chars", "'Subject', '0.05', '1'" },
	{ "check_for_to_in_subject", "'user'" },
	{ "similar_recipients", "'0.5', 'undef'" },
	{ "check_for_shifted_date", "'-6', '6'" },
	{ "received_within_months", "'undef', '12'" },
	{ "check_freemail_header", "'Reply-To', '\\d@'" },
	{ "check_freemail_replyto", "'reply'" },
	{ "check_dkim_valid", "'example.com'" },
	{ "html_test", "'font_low_contrast'" },
	{ "html_range", "'max_size', '5', 'inf'" },
	{ "html_eval", "'length', '< 512'" },
	{ "html_tag_balance", "'body', '!= 0'" },
	{ "html_tag_exists", "'center'" },
	{ "html_text_match", "'comment', '<!-- saved from url=\\(\\d{4}\\)'" },
	{ "html_text_not_match", "'title', '^x'" },
	{ "html_title_subject_ratio", "'3.5'" },
	{ "html_image_only", "'0', '3200'" },
	{ "html_image_ratio", "'0', '0.01'" },
	{ "check_for_mime", "'mime_qp_long_line'" },
	{ "check_mime_multipart_ratio", "'0.00', '0.5'" },
	{ "check_qp_ratio", "'0.1'" },
	{ "check_base64_length", "'78', '79'" },
	{ "check_abundant_unicode_ratio", "'0.02'" },
	{ "multipart_alternative_difference", "'0', 'undef'" },
	{ "multipart_alternative_difference_count", "'3', '1'" },
	{ "check_for_uppercase", "'50', '75'" },
	{ "image_count", "'all', '1'" },
	{ "pixel_coverage", "'all', '1', '300000'" },
};

static struct ruleset *rs;

/* build_set - one rule per registered function */
static void
build_set(void)
{
	const struct saeval_family *const *f;
	struct rules_report rep;
	struct buf t = BUF_INIT;
	size_t nf, i, j, k, n = 0;
	const char *args;

	buf_adds(&t, "freemail_domains gmail.com yahoo.* *.free.example\n");
	f = saeval_families(&nf);
	for (i = 0; i < nf; i++)
		for (j = 0; j < f[i]->nfns; j++) {
			const struct saeval_fn *fn = &f[i]->fns[j];

			args = "";
			for (k = 0; k < sizeof(with_args) / sizeof(with_args[0]);
			    k++)
				if (strcmp(with_args[k].fn, fn->name) == 0)
					args = with_args[k].args;
			if (*args == '\0' && fn->min_args > 0)
				continue;
			buf_printf(&t, "%s E%zu eval:%s(%s)\n",
			    (fn->types & (1u << RULE_HEADER)) ? "header" :
			    (fn->types & (1u << RULE_FULL)) ? "full" : "body",
			    n++, fn->name, args);
		}
	if (rules_parse_text(t.data, t.len, "fuzz.cf", NULL, &rs, &rep) < 0)
		abort();
	rules_report_release(&rep);
	buf_release(&t);
}

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
	struct rules_result res;
	struct mime_limits lim;
	struct rules_env env;
	struct verdict v;
	struct mime_msg *mm;
	struct msg *m;
	size_t i;

	if (rs == NULL)
		build_set();
	m = msg_new(&ml);
	msgparse_text(m, (const char *)data, size);
	mime_limits_default(&lim);
	mm = mime_parse(m, &lim);
	rules_eval(rs, m, mm, 0, &res);
	rules_result_release(&res);
	verdict_init(&v);
	verdict_add(&v, "SPF_PASS", 0, "example.com");
	verdict_add(&v, "DKIM_VALID", 0, "example.com, other.example");
	env.now = 1700000000;
	env.auth = &v;
	rules_eval_env(rs, m, mm, &env, 0, &res);
	rules_result_release(&res);
	verdict_release(&v);
	for (i = 0; i < rules_count(rs); i++)
		(void)rules_test(rs, rule_name(rules_get(rs, i)), m, mm,
		    ignore, NULL);
	mime_free(&mm);
	msg_free(&m);
	return 0;
}
