/*
 * step_spf.c - SPF in the scan pipeline: symbols, actions, headers, log
 *
 * DESCRIPTION
 *	begin (end of headers): prefetch the first TXT lookup of each
 *	identity that will be checked, so those queries run while the body
 *	arrives and the other checks start theirs.
 *
 *	end: check the HELO identity (when spf_helo is on and the sender is
 *	not null) and the MAIL FROM identity (postmaster@HELO for the null
 *	sender, RFC 7208 2.4), then
 *	- add SPF_<RESULT> and SPF_HELO_<RESULT> symbols (scores below,
 *	  overridable with symbol_scores);
 *	- apply spf_fail_action (reject: 550 5.7.23 with the domain's
 *	  explanation, RFC 7372 / RFC 7208 8.4; tag: at least tag),
 *	  spf_permerror_action (550 5.7.24) and spf_temperror_action
 *	  (tempfail: 451 4.4.3, RFC 7208 8.6; accept: score only) to the
 *	  MAIL FROM result;
 *	- add "spf=" to Authentication-Results with smtp.mailfrom (or
 *	  smtp.helo for the null sender), the verdict log's spf object, and
 *	  Received-SPF when spf_received_header is on;
 *	- publish the outcome as s->spf for DMARC (spf.h).
 *
 * SECURITY
 *	Envelope values are untrusted: they reach headers only as
 *	validated domain names or dot-atom addresses, and the log only
 *	through json_str().
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "dns.h"
#include "engine.h"
#include "json.h"
#include "msg.h"
#include "scan.h"
#include "scan_steps.h"
#include "spf.h"
#include "str.h"

struct spf_step {
	struct spf_results res;
};

/* the symbol of each result; default scores in symbols.c */
static const struct {
	const char *mailfrom, *helo;
} symbols[] = {
	[SPF_NONE] = { "SPF_NONE", "SPF_HELO_NONE" },
	[SPF_NEUTRAL] = { "SPF_NEUTRAL", "SPF_HELO_NEUTRAL" },
	[SPF_PASS] = { "SPF_PASS", "SPF_HELO_PASS" },
	[SPF_FAIL] = { "SPF_FAIL", "SPF_HELO_FAIL" },
	[SPF_SOFTFAIL] = { "SPF_SOFTFAIL", "SPF_HELO_SOFTFAIL" },
	[SPF_TEMPERROR] = { "SPF_TEMPERROR", "SPF_HELO_TEMPERROR" },
	[SPF_PERMERROR] = { "SPF_PERMERROR", "SPF_HELO_PERMERROR" },
};

/* sender_domain - the domain of a MAIL FROM address, or NULL */
static const char *
sender_domain(const char *from)
{
	const char *at;

	if (from == NULL || *from == '\0')
		return NULL;
	at = strrchr(from, '@');
	return at ? at + 1 : from;
}

static bool
null_sender(const struct msg *m)
{
	return m->mail_from == NULL || m->mail_from[0] == '\0';
}

void *
step_spf_begin(struct scan *s)
{
	const struct msg *m = s->msg;
	const char *d;

	if (!s->eng->conf->spf || s->eng->dns == NULL)
		return NULL;
	if (m->client_addr.family != 0) {
		if ((d = sender_domain(m->mail_from)) != NULL &&
		    dns_name_valid(d))
			dns_prefetch(s->eng->dns, d, DNS_T_TXT);
		if (m->helo && dns_name_valid(m->helo) &&
		    (null_sender(m) || s->eng->conf->spf_helo))
			dns_prefetch(s->eng->dns, m->helo, DNS_T_TXT);
	}
	return xcalloc(1, sizeof(struct spf_step));
}

void
step_spf_free(void *state)
{
	struct spf_step *st = state;

	if (st == NULL)
		return;
	spf_outcome_release(&st->res.mailfrom);
	spf_outcome_release(&st->res.helo);
	free(st);
}

/* is_dot_atom_addr - local@domain safe to show as an A-R pvalue */
static bool
is_dot_atom_addr(const char *a)
{
	const char *at = strrchr(a, '@'), *p;

	if (at == NULL || at == a || !dns_name_valid(at + 1))
		return false;
	for (p = a; p < at; p++)
		if (!(ch_is_alnum((unsigned char)*p) ||
		    strchr("!#$%&'*+-/=?^_`{|}~.", *p)))
			return false;
	return a[0] != '.' && at[-1] != '.' && strstr(a, "..") == NULL;
}

/* comment - a reason made safe for an A-R comment */
static void
comment(struct buf *out, const char *s)
{
	size_t i;

	buf_adds(out, " (");
	for (i = 0; s[i] && i < 120; i++) {
		unsigned char c = (unsigned char)s[i];

		buf_addc(out, (char)(c >= 32 && c < 127 && c != '(' &&
		    c != ')' && c != '\\' ? c : '?'));
	}
	buf_addc(out, ')');
}

static void
add_authres(struct scan *s, const struct spf_outcome *o)
{
	struct buf r = BUF_INIT;
	const char *helo = s->msg->helo;

	buf_printf(&r, "spf=%s", spf_result_name(o->result));
	if (o->problem)
		comment(&r, o->problem);
	if (o->identity == SPF_ID_MAILFROM) {
		if (is_dot_atom_addr(o->sender))
			buf_printf(&r, " smtp.mailfrom=%s", o->sender);
		else if (o->domain && dns_name_valid(o->domain))
			buf_printf(&r, " smtp.mailfrom=%s", o->domain);
	} else if (helo && dns_name_valid(helo))
		buf_printf(&r, " smtp.helo=%s", helo);
	verdict_add_authres(&s->verdict, "%s", buf_cstr(&r));
	buf_release(&r);
}

static void
json_outcome(struct buf *j, const struct spf_outcome *o)
{
	buf_adds(j, "{\"result\":");
	json_cstr(j, spf_result_name(o->result));
	json_key(j, "identity", 0);
	json_cstr(j, spf_identity_name(o->identity));
	json_key(j, "sender", 0);
	json_cstr(j, o->sender);
	json_key(j, "domain", 0);
	json_cstr(j, o->domain);
	json_key(j, "mechanism", 0);
	json_cstr(j, o->mechanism);
	json_key(j, "record_domain", 0);
	json_cstr(j, o->record_domain);
	json_key(j, "explanation", 0);
	json_cstr(j, o->explanation);
	json_key(j, "problem", 0);
	json_cstr(j, o->problem);
	json_key(j, "lookups", 0);
	buf_printf(j, "%u", o->lookups);
	json_key(j, "void_lookups", 0);
	buf_printf(j, "%u", o->void_lookups);
	json_key(j, "queries", 0);
	buf_printf(j, "%u", o->queries);
}

static void
log_json(struct scan *s, const struct spf_results *r)
{
	struct buf *j = scan_output(s, "spf");

	buf_reset(j);
	json_outcome(j, &r->mailfrom);
	json_key(j, "helo", 0);
	if (r->helo_checked) {
		json_outcome(j, &r->helo);
		buf_addc(j, '}');
	} else
		buf_adds(j, "null");
	buf_addc(j, '}');
}

static void
add_symbol(struct scan *s, const struct spf_outcome *o, bool helo)
{
	const char *name = helo ? symbols[o->result].helo :
	    symbols[o->result].mailfrom;

	if (o->problem)
		scan_emit(s, name, "%s: %s", o->domain ? o->domain : "",
		    o->problem);
	else if (o->mechanism)
		scan_emit(s, name, "%s: %s", o->domain, o->mechanism);
	else
		scan_emit(s, name, "%s", o->domain ? o->domain : "");
}

/* apply_policy - spf_*_action for the MAIL FROM (or null-sender) result */
static void
apply_policy(struct scan *s, const struct spf_outcome *o)
{
	const struct conf *c = s->eng->conf;
	const char *what = o->identity == SPF_ID_HELO ? "HELO" : "MAIL FROM";
	const char *dom = o->domain ? o->domain : "";

	switch (o->result) {
	case SPF_FAIL:
		if (str_ieq(c->spf_fail_action, "reject"))
			verdict_force_code(&s->verdict, FORCE_POLICY_REJECT,
			    ACTION_REJECT, "5.7.23", "SPF_FAIL",
			    "SPF %s check failed for %s: %s", what, dom,
			    o->explanation ? o->explanation : "not permitted");
		else if (str_ieq(c->spf_fail_action, "tag"))
			verdict_floor(&s->verdict, ACTION_TAG, "SPF_FAIL");
		break;
	case SPF_PERMERROR:
		if (str_ieq(c->spf_permerror_action, "reject"))
			verdict_force_code(&s->verdict, FORCE_POLICY_REJECT,
			    ACTION_REJECT, "5.7.24", "SPF_PERMERROR",
			    "SPF %s record of %s is broken: %s", what, dom,
			    o->problem ? o->problem : "permanent error");
		else if (str_ieq(c->spf_permerror_action, "tag"))
			verdict_floor(&s->verdict, ACTION_TAG, "SPF_PERMERROR");
		break;
	case SPF_TEMPERROR:
		if (str_ieq(c->spf_temperror_action, "tempfail"))
			verdict_force_code(&s->verdict, FORCE_TEMPFAIL,
			    ACTION_TEMPFAIL, "4.4.3", "SPF_TEMPERROR",
			    "SPF %s check for %s could not complete (%s)",
			    what, dom, o->problem ? o->problem : "DNS error");
		break;
	default:
		break;
	}
}

void
step_spf_end(struct scan *s, void *state)
{
	struct spf_step *st = state;
	const struct conf *c = s->eng->conf;
	const struct msg *m = s->msg;
	struct spf_request req;
	struct spf_limits lim;
	struct buf rs = BUF_INIT;

	if (st == NULL)
		return;
	memset(&req, 0, sizeof(req));
	req.ip = m->client_addr;
	req.helo = m->helo;
	req.sender = m->mail_from ? m->mail_from : "";
	req.receiver = conf_authserv_id(c);
	req.now = s->now;
	req.default_exp = c->spf_explanation;
	spf_limits_default(&lim);
	lim.max_dns_terms = (unsigned)c->spf_max_dns_lookups;
	lim.max_void = (unsigned)c->spf_max_void_lookups;
	if (m->client_addr.family == 0) {
		/* nothing to check against (scan without --ip) */
		buf_reset(scan_output(s, "spf"));
		buf_adds(scan_output(s, "spf"), "{\"result\":\"none\",\"problem\":"
		    "\"no client address\"}");
		return;
	}
	if (!null_sender(m) && c->spf_helo && m->helo && *m->helo) {
		spf_check(s->eng->dns, &s->dns_budget, &req, SPF_ID_HELO, &lim,
		    &st->res.helo, NULL);
		st->res.helo_checked = true;
	}
	spf_check(s->eng->dns, &s->dns_budget, &req, SPF_ID_MAILFROM, &lim,
	    &st->res.mailfrom, NULL);
	s->spf = &st->res;

	add_symbol(s, &st->res.mailfrom, false);
	if (st->res.helo_checked)
		add_symbol(s, &st->res.helo, true);
	apply_policy(s, &st->res.mailfrom);
	add_authres(s, &st->res.mailfrom);
	log_json(s, &st->res);
	if (c->spf_received_header) {
		spf_received_value(&st->res.mailfrom, &req, req.receiver, &rs);
		verdict_add_header(&s->verdict, "Received-SPF", "%s",
		    buf_cstr(&rs));
	}
	buf_release(&rs);
}
