/*
 * saeval_auth.c - SpamAssassin's SPF, DKIM and DMARC eval: tests
 *
 * DESCRIPTION
 *	SpamAssassin's SPF, DKIM and DMARC plugins compute their own
 *	results; here the same eval names read mailwarden's, which the
 *	scan pipeline computed before the rules step, as the symbols they
 *	left in the verdict (in->auth):
 *
 *	    check_for_spf_RESULT()       SPF_RESULT (pass, neutral, none,
 *	    check_for_spf_helo_RESULT()  SPF_HELO_RESULT  fail, softfail,
 *	                                                  permerror, temperror)
 *	    check_dkim_signed()          DKIM_SIGNED or any DKIM result
 *	    check_dkim_valid([DOMAIN...]) DKIM_VALID (d= among DOMAINs)
 *	    check_dkim_valid_author_sig() DKIM_VALID_AUTHOR
 *	    check_dmarc_pass()           DMARC_PASS
 *	    check_dmarc_reject()         DMARC_REJECT
 *	    check_dmarc_quarantine()     DMARC_QUARANTINE
 *	    check_dmarc_none()           DMARC_FAIL (fail under p=none)
 *	    check_dmarc_missing()        DMARC_NONE (no policy record)
 *	    check_dkim_dependable()      DKIM checked, body not truncated
 *	    check_dkim_valid_envelopefrom()  DKIM_VALID by the envelope
 *	                                 sender's domain
 *	    check_dkim_adsp(), check_dkim_testing/signsome/signall()
 *	                                 never (ADSP is historic)
 *
 *	Outside the pipeline (rules test, rules eval without a scan) there
 *	are no results and these never hit.
 *
 * SEE ALSO
 *	SpamAssassin's 25_spf.cf, 25_dkim.cf, 25_dmarc.cf; step_spf.c,
 *	step_dkim.c, step_dmarc.c
 */
#include "config.h"

#include <string.h>

#include "msg.h"
#include "saeval.h"
#include "str.h"
#include "verdict.h"

/* has - the verdict holds symbol name */
static bool
has(const struct saeval_in *in, const char *name, struct buf *detail)
{
	const struct symbol *s;

	if (in->auth == NULL) {
		if (detail)
			buf_adds(detail, "no authentication results here");
		return false;
	}
	s = verdict_symbol(in->auth, name);
	if (detail)
		buf_printf(detail, "%s %s", name, s ? "present" : "absent");
	return s != NULL;
}

#define SYMBOL_EVAL(fn, sym)						\
static unsigned								\
fn(struct saeval_in *in, const struct saeval_args *a, const void *p,	\
    struct buf *d)							\
{									\
	(void)a;							\
	(void)p;							\
	return has(in, sym, d);						\
}

SYMBOL_EVAL(spf_pass, "SPF_PASS")
SYMBOL_EVAL(spf_neutral, "SPF_NEUTRAL")
SYMBOL_EVAL(spf_none, "SPF_NONE")
SYMBOL_EVAL(spf_fail, "SPF_FAIL")
SYMBOL_EVAL(spf_softfail, "SPF_SOFTFAIL")
SYMBOL_EVAL(spf_permerror, "SPF_PERMERROR")
SYMBOL_EVAL(spf_temperror, "SPF_TEMPERROR")
SYMBOL_EVAL(helo_pass, "SPF_HELO_PASS")
SYMBOL_EVAL(helo_neutral, "SPF_HELO_NEUTRAL")
SYMBOL_EVAL(helo_none, "SPF_HELO_NONE")
SYMBOL_EVAL(helo_fail, "SPF_HELO_FAIL")
SYMBOL_EVAL(helo_softfail, "SPF_HELO_SOFTFAIL")
SYMBOL_EVAL(helo_permerror, "SPF_HELO_PERMERROR")
SYMBOL_EVAL(helo_temperror, "SPF_HELO_TEMPERROR")
SYMBOL_EVAL(dkim_author, "DKIM_VALID_AUTHOR")
SYMBOL_EVAL(dmarc_pass, "DMARC_PASS")
SYMBOL_EVAL(dmarc_reject, "DMARC_REJECT")
SYMBOL_EVAL(dmarc_quarantine, "DMARC_QUARANTINE")
SYMBOL_EVAL(dmarc_none, "DMARC_FAIL")
SYMBOL_EVAL(dmarc_missing, "DMARC_NONE")

/* dkim_signed - any DKIM outcome but "unsigned" */
static unsigned
dkim_signed(struct saeval_in *in, const struct saeval_args *a,
    const void *p, struct buf *d)
{
	static const char *const any[] = { "DKIM_SIGNED", "DKIM_VALID",
	    "DKIM_INVALID", "DKIM_PERMFAIL", "DKIM_TEMPFAIL" };
	size_t i;

	(void)a;
	(void)p;
	if (in->auth == NULL)
		return has(in, "DKIM_SIGNED", d);
	for (i = 0; i < SAEVAL_NELEM(any); i++)
		if (verdict_symbol(in->auth, any[i]))
			return has(in, any[i], d);
	return has(in, "DKIM_SIGNED", d);
}

/* domain_listed - dom is a word of the space/comma list text */
static bool
domain_listed(const char *text, const char *dom)
{
	size_t n = strlen(dom);
	const char *p = text;

	while ((p = strstr(p, dom)) != NULL) {
		bool start = p == text || p[-1] == ' ' || p[-1] == ',' ||
		    p[-1] == '=';
		bool end = p[n] == '\0' || p[n] == ' ' || p[n] == ',';

		if (start && end)
			return true;
		p += n;
	}
	return false;
}

/* dkim_valid - a valid signature; with arguments, by one of the domains */
static unsigned
dkim_valid(struct saeval_in *in, const struct saeval_args *a,
    const void *p, struct buf *d)
{
	const struct symbol *s;
	size_t i;

	(void)p;
	if (!has(in, "DKIM_VALID", d))
		return 0;
	if (a->n == 0)
		return 1;
	s = verdict_symbol(in->auth, "DKIM_VALID");
	for (i = 0; i < a->n && s->detail; i++)
		if (domain_listed(s->detail, a->v[i]))
			return 1;
	return 0;
}

/*
 * dkim_dependable - DKIM was checked (inside the pipeline) on a body
 * that was not truncated: its absence of results can be relied on.
 * Without a pipeline, as SpamAssassin without network tests, no.
 */
static unsigned
dkim_dependable(struct saeval_in *in, const struct saeval_args *a,
    const void *p, struct buf *d)
{
	(void)a;
	(void)p;
	if (d && in->auth == NULL)
		buf_adds(d, "DKIM not checked here");
	return in->auth != NULL && !(in->m->flags & MSG_F_BODY_TRUNCATED);
}

/* dkim_valid_ef - a valid signature by the envelope sender's domain */
static unsigned
dkim_valid_ef(struct saeval_in *in, const struct saeval_args *a,
    const void *p, struct buf *d)
{
	struct buf ef = BUF_INIT;
	const struct symbol *s;
	const char *at;
	unsigned r = 0;

	(void)a;
	(void)p;
	if (!has(in, "DKIM_VALID", d))
		return 0;
	s = verdict_symbol(in->auth, "DKIM_VALID");
	saeval_envfrom(in->m, in->mm, &ef);
	at = strrchr(buf_cstr(&ef), '@');
	if (at && s->detail)
		r = domain_listed(s->detail, at + 1);
	buf_release(&ef);
	return r;
}

/*
 * never - ADSP (RFC 5617, historic since 2013) and its policy tests:
 * mailwarden looks up no ADSP records, so these never hit
 */
static unsigned
never(struct saeval_in *in, const struct saeval_args *a, const void *p,
    struct buf *d)
{
	(void)in;
	(void)a;
	(void)p;
	if (d)
		buf_adds(d, "ADSP is historic and not looked up");
	return 0;
}

#define H	(1u << RULE_HEADER)
#define F	(1u << RULE_FULL)

static const struct saeval_fn fns[] = {
	{ "check_for_spf_pass", H, 0, 0, NULL, NULL, spf_pass },
	{ "check_for_spf_neutral", H, 0, 0, NULL, NULL, spf_neutral },
	{ "check_for_spf_none", H, 0, 0, NULL, NULL, spf_none },
	{ "check_for_spf_fail", H, 0, 0, NULL, NULL, spf_fail },
	{ "check_for_spf_softfail", H, 0, 0, NULL, NULL, spf_softfail },
	{ "check_for_spf_permerror", H, 0, 0, NULL, NULL, spf_permerror },
	{ "check_for_spf_temperror", H, 0, 0, NULL, NULL, spf_temperror },
	{ "check_for_spf_helo_pass", H, 0, 0, NULL, NULL, helo_pass },
	{ "check_for_spf_helo_neutral", H, 0, 0, NULL, NULL, helo_neutral },
	{ "check_for_spf_helo_none", H, 0, 0, NULL, NULL, helo_none },
	{ "check_for_spf_helo_fail", H, 0, 0, NULL, NULL, helo_fail },
	{ "check_for_spf_helo_softfail", H, 0, 0, NULL, NULL, helo_softfail },
	{ "check_for_spf_helo_permerror", H, 0, 0, NULL, NULL,
	  helo_permerror },
	{ "check_for_spf_helo_temperror", H, 0, 0, NULL, NULL,
	  helo_temperror },
	{ "check_dkim_signed", F | H, 0, SAEVAL_MAX_ARGS, NULL, NULL,
	  dkim_signed },
	{ "check_dkim_valid", F | H, 0, SAEVAL_MAX_ARGS, NULL, NULL,
	  dkim_valid },
	{ "check_dkim_valid_author_sig", F | H, 0, SAEVAL_MAX_ARGS, NULL, NULL,
	  dkim_author },
	{ "check_dkim_dependable", F | H, 0, 0, NULL, NULL, dkim_dependable },
	{ "check_dkim_valid_envelopefrom", F | H, 0, 0, NULL, NULL,
	  dkim_valid_ef },
	{ "check_dkim_adsp", F | H, 0, SAEVAL_MAX_ARGS, NULL, NULL, never },
	{ "check_dkim_testing", F | H, 0, 0, NULL, NULL, never },
	{ "check_dkim_signsome", F | H, 0, 0, NULL, NULL, never },
	{ "check_dkim_signall", F | H, 0, 0, NULL, NULL, never },
	{ "check_dmarc_pass", H, 0, 0, NULL, NULL, dmarc_pass },
	{ "check_dmarc_reject", H, 0, 0, NULL, NULL, dmarc_reject },
	{ "check_dmarc_quarantine", H, 0, 0, NULL, NULL, dmarc_quarantine },
	{ "check_dmarc_none", H, 0, 0, NULL, NULL, dmarc_none },
	{ "check_dmarc_missing", H, 0, 0, NULL, NULL, dmarc_missing },
};

static const char *const plugins[] = {
	"Mail::SpamAssassin::Plugin::SPF",
	"Mail::SpamAssassin::Plugin::DKIM",
	"Mail::SpamAssassin::Plugin::DMARC",
	NULL
};

const struct saeval_family saeval_auth_family = {
	"auth", fns, SAEVAL_NELEM(fns), NULL, 0, plugins
};
