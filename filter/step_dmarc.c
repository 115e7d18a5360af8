/*
 * step_dmarc.c - DMARC for one message: From checks, policy, reporting
 *
 * DESCRIPTION
 *	1. The From field: zero fields, several fields, no address, an
 *	   address list that does not parse or has a bad domain, and
 *	   addresses in several domains are outcomes of their own
 *	   (DMARC_FROM_*), each with a configured action (reject,
 *	   quarantine or none); several addresses in one domain are one
 *	   Author Domain (RFC 9989 5.3.1).
 *	2. dmarc_evaluate() with the SPF and DKIM outcomes of this scan
 *	   (the two adapters below) and the engine's resolver.
 *	3. Local policy: a trusted forwarder (arc_trusted_sealers,
 *	   dmarc_trusted_forwarders: dmarc_forwarder.c) makes the
 *	   disposition none with override trusted_forwarder, named in the
 *	   A-R comment, the log and the report record;
 *	   dmarc_allow_domains, dmarc_never_reject, t=y,
 *	   dmarc_temperror_action; then the disposition: p=reject forces
 *	   550 5.7.1 naming the domain, quarantine adds a score that tags
 *	   (and optionally asks the MTA to quarantine), none only adds
 *	   symbols.
 *	4. Authentication-Results (dmarc=, header.from, policy.dmarc), the
 *	   verdict log object, and one line in the aggregate report store.
 *
 * SECURITY
 *	Only domains that passed domain_to_alabel() reach the reply text,
 *	Authentication-Results and the store.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "addr.h"
#include "buf.h"
#include "dkim.h"
#include "dmarc.h"
#include "dmarc_report.h"
#include "engine.h"
#include "json.h"
#include "log.h"
#include "metrics.h"
#include "msg.h"
#include "punycode.h"
#include "dmarc_failure.h"
#include "scan.h"
#include "scan_steps.h"
#include "spf.h"
#include "str.h"

#define STEP_MAX_SIGS	16

struct auth_in {
	char	 spf_domain[DOMAIN_MAX + 1];	/* "" if none */
	enum auth_result spf;
	struct dmarc_dkim_sig dkim[STEP_MAX_SIGS];
	size_t	 ndkim;
};

/*
 * ---- ADAPTER(spf) ---------------------------------------------------
 * Fill the SPF input from the SPF step's outcome (s->spf, spf.h): the
 * RFC 7208 result for the MAIL FROM identity (for the null sender,
 * postmaster@HELO, as RFC 7208 2.4 evaluates it) and that domain,
 * A-label.  Without an SPF outcome (spf = no, no client address) the
 * input is "none", which never aligns.
 */
static void
adapter_spf(const struct scan *s, struct auth_in *in)
{
	static const enum auth_result map[] = {
		[SPF_NONE] = AUTH_NONE, [SPF_NEUTRAL] = AUTH_NEUTRAL,
		[SPF_PASS] = AUTH_PASS, [SPF_FAIL] = AUTH_FAIL,
		[SPF_SOFTFAIL] = AUTH_SOFTFAIL,
		[SPF_TEMPERROR] = AUTH_TEMPERROR,
		[SPF_PERMERROR] = AUTH_PERMERROR,
	};
	const struct spf_outcome *o;

	in->spf = AUTH_NONE;
	in->spf_domain[0] = '\0';
	if (s->spf == NULL)
		return;
	o = &s->spf->mailfrom;
	if (o->domain == NULL || domain_to_alabel(o->domain,
	    strlen(o->domain), in->spf_domain, sizeof(in->spf_domain)) < 0) {
		in->spf_domain[0] = '\0';
		return;
	}
	in->spf = map[o->result];
}

/*
 * ---- ADAPTER(dkim) --------------------------------------------------
 * Fill the DKIM input from the DKIM step's per-signature outcomes: d=
 * (A-label), s= and the RFC 8601 result, at most STEP_MAX_SIGS, in
 * header order (dkim_scan_results(), dkim.h).  Signatures whose d= could
 * not be read carry no domain and cannot align, so they are left out.
 */
static void
adapter_dkim(const struct scan *s, struct auth_in *in)
{
	static const enum auth_result map[] = {
		[DKIM_NONE] = AUTH_NONE, [DKIM_PASS] = AUTH_PASS,
		[DKIM_FAIL] = AUTH_FAIL, [DKIM_POLICY] = AUTH_POLICY,
		[DKIM_NEUTRAL] = AUTH_NEUTRAL, [DKIM_TEMPERROR] = AUTH_TEMPERROR,
		[DKIM_PERMERROR] = AUTH_PERMERROR,
	};
	const struct dkim_sigresult *r;
	size_t i, n = dkim_scan_results(s, &r);

	in->ndkim = 0;
	for (i = 0; i < n && in->ndkim < STEP_MAX_SIGS; i++) {
		struct dmarc_dkim_sig *d = &in->dkim[in->ndkim];

		if (r[i].domain == NULL || domain_to_alabel(r[i].domain,
		    strlen(r[i].domain), d->domain, sizeof(d->domain)) < 0)
			continue;
		snprintf(d->selector, sizeof(d->selector), "%s",
		    r[i].selector ? r[i].selector : "");
		d->result = (unsigned)r[i].result < sizeof(map) / sizeof(map[0]) ?
		    map[r[i].result] : AUTH_NONE;
		in->ndkim++;
	}
}

enum from_action {
	FA_NONE,
	FA_QUARANTINE,
	FA_REJECT
};

static enum from_action
parse_action(const char *v)
{
	if (str_ieq(v, "reject"))
		return FA_REJECT;
	if (str_ieq(v, "quarantine"))
		return FA_QUARANTINE;
	return FA_NONE;
}

static void
json_simple(struct scan *s, const char *result, const char *reason,
    const char *header_from)
{
	struct buf *j = scan_output(s, "dmarc");

	buf_reset(j);
	buf_adds(j, "{\"result\":");
	json_cstr(j, result);
	json_key(j, "header_from", 0);
	json_cstr(j, header_from);
	json_key(j, "reason", 0);
	json_cstr(j, reason);
	buf_addc(j, '}');
}

/* from_outcome - a From problem: symbol, action, A-R and log */
static void
from_outcome(struct scan *s, const char *sym, const char *action,
    const char *what)
{
	const struct conf *c = s->eng->conf;
	enum from_action a = parse_action(action);

	scan_emit(s, sym, "%s", what);	/* default: symbols.c from_score() */
	if (a == FA_REJECT)
		verdict_force(&s->verdict, FORCE_POLICY_REJECT, ACTION_REJECT,
		    sym, "Message refused: %s (RFC 5322 requires exactly one "
		    "author domain for DMARC)", what);
	else if (a == FA_QUARANTINE && c->dmarc_quarantine_milter)
		verdict_quarantine(&s->verdict, "%s", what);
	verdict_add_authres(&s->verdict, "dmarc=permerror (%s)", what);
	json_simple(s, "permerror", what, NULL);
}

/* check_from - the Author Domain into author, or false when done */
static bool
check_from(struct scan *s, char *author)
{
	const struct conf *c = s->eng->conf;
	struct addr_author a;

	switch (addr_author(s->msg, &a)) {
	case ADDR_AUTHOR_OK:
		break;
	case ADDR_AUTHOR_MISSING:
		from_outcome(s, "DMARC_FROM_MISSING",
		    c->dmarc_from_missing_action, a.why);
		return false;
	case ADDR_AUTHOR_MULTIPLE:
		from_outcome(s, "DMARC_FROM_MULTIPLE",
		    c->dmarc_from_multiple_action, a.why);
		return false;
	case ADDR_AUTHOR_INVALID:
		from_outcome(s, "DMARC_FROM_INVALID",
		    c->dmarc_from_invalid_action, a.why);
		return false;
	case ADDR_AUTHOR_MULTI:
		from_outcome(s, "DMARC_FROM_MULTI_AUTHOR",
		    c->dmarc_from_multi_author_action, a.why);
		return false;
	}
	if (a.flags & ADDR_F_NONSTANDARD)
		scan_emit(s, "DMARC_FROM_NONSTANDARD", "From parsed "
		    "with a tolerated syntax deviation");
	memcpy(author, a.domain, sizeof(a.domain));
	return true;
}

static bool
allowlisted(const struct conf *c, const char *author)
{
	char d[DOMAIN_MAX + 1];
	size_t i;

	for (i = 0; i < c->dmarc_allow_domains.n; i++) {
		const char *e = c->dmarc_allow_domains.v[i];

		if (domain_to_alabel(e, strlen(e), d, sizeof(d)) == 0 &&
		    domain_is_subdomain(author, d))
			return true;
	}
	return false;
}

static const char *
mode_letter(enum dmarc_align_mode m)
{
	return m == DMARC_STRICT ? "s" : "r";
}

static void
json_outcome(struct scan *s, const char *author, const struct dmarc_outcome *o,
    const struct auth_in *in, const char *disposition,
    const char *override)
{
	struct buf *j = scan_output(s, "dmarc");

	buf_reset(j);
	buf_adds(j, "{\"result\":");
	json_cstr(j, dmarc_result_name(o->result));
	json_key(j, "header_from", 0);
	json_cstr(j, author);
	json_key(j, "policy_domain", 0);
	json_cstr(j, o->have_record ? o->policy_domain : NULL);
	json_key(j, "org_domain", 0);
	json_cstr(j, o->org_domain[0] ? o->org_domain : NULL);
	json_key(j, "discovery", 0);
	json_cstr(j, o->method == DMARC_ORG_PSL ? "psl" : "treewalk");
	json_key(j, "policy", 0);
	json_cstr(j, o->policy_tag ? dmarc_policy_name(o->policy) : NULL);
	json_key(j, "policy_tag", 0);
	json_cstr(j, o->policy_tag);
	json_key(j, "testing", 0);
	buf_adds(j, o->have_record && o->rec.testing ? "true" : "false");
	json_key(j, "disposition", 0);
	json_cstr(j, disposition);
	json_key(j, "override", 0);
	json_cstr(j, override);
	json_key(j, "alignment", 0);
	buf_adds(j, "{\"dkim\":{\"mode\":");
	json_cstr(j, o->have_record ? mode_letter(o->rec.adkim) : NULL);
	json_key(j, "aligned", 0);
	buf_adds(j, o->dkim_aligned ? "true" : "false");
	json_key(j, "domain", 0);
	json_cstr(j, o->dkim_aligned ? o->dkim_domain : NULL);
	json_key(j, "signatures", 0);
	buf_printf(j, "%zu", in->ndkim);
	buf_adds(j, "},\"spf\":{\"mode\":");
	json_cstr(j, o->have_record ? mode_letter(o->rec.aspf) : NULL);
	json_key(j, "aligned", 0);
	buf_adds(j, o->spf_aligned ? "true" : "false");
	json_key(j, "domain", 0);
	json_cstr(j, in->spf_domain[0] ? in->spf_domain : NULL);
	json_key(j, "result", 0);
	json_cstr(j, auth_result_name(in->spf));
	buf_adds(j, "}}");
	json_key(j, "queries", 0);
	buf_printf(j, "%u", o->queries);
	json_key(j, "detail", 0);
	json_cstr(j, o->detail);
	buf_addc(j, '}');
}

/* envelope_domain - domain of an envelope address, "" if none/invalid */
static void
envelope_domain(const char *a, char *out)
{
	const char *at = a ? strrchr(a, '@') : NULL;

	out[0] = '\0';
	if (at == NULL || domain_to_alabel(at + 1, strlen(at + 1), out,
	    DOMAIN_MAX + 1) < 0)
		out[0] = '\0';
}

static void
store(struct scan *s, const char *author, const struct dmarc_outcome *o,
    const struct auth_in *in, const char *disposition, const char *reason,
    const char *comment)
{
	const struct conf *c = s->eng->conf;
	struct dmarc_store_entry e;
	struct buf why = BUF_INIT;

	memset(&e, 0, sizeof(e));
	e.when = (long long)s->now;
	e.source_ip = s->msg->client_ip;
	e.header_from = author;
	envelope_domain(s->msg->mail_from, e.envelope_from);
	envelope_domain(s->msg->nrcpts ? s->msg->rcpts[0] : NULL,
	    e.envelope_to);
	e.o = o;
	e.disposition = disposition;
	e.reason = reason;
	e.comment = comment;
	e.spf_domain = in->spf_domain;
	e.spf = in->spf;
	e.dkim = in->dkim;
	e.ndkim = in->ndkim;
	if (dmarc_store_append(c->dmarc_report_dir, &e, &why) < 0)
		log_warn("dmarc store: %s", buf_cstr(&why));
	buf_release(&why);
}

/* failure_report - spool an RFC 9991 report (dmarc_failure.h) */
static void
failure_report(struct scan *s, const char *author,
    const struct dmarc_outcome *o, const struct auth_in *in,
    const char *disposition)
{
	const struct conf *c = s->eng->conf;
	struct dmarc_failure f;
	struct buf ar = BUF_INIT, from = BUF_INIT, why = BUF_INIT;

	verdict_authres_value(&s->verdict, conf_authserv_id(c), &ar);
	conf_dmarc_reporter(c, &from);
	memset(&f, 0, sizeof(f));
	f.when = s->now;
	f.msg = s->msg;
	f.author = author;
	f.o = o;
	f.spf = in->spf;
	f.dkim = in->dkim;
	f.ndkim = in->ndkim;
	f.authres = buf_cstr(&ar);
	f.disposition = disposition;
	f.reporter = buf_cstr(&from);
	f.hostname = c->hostname;
	if (dmarc_failure_spool(c->dmarc_report_dir, &f, &why) < 0) {
		log_warn("dmarc failure report: %s", buf_cstr(&why));
		metrics_failure_report(metrics_global(), MF_WRITE_ERROR);
	} else
		metrics_failure_report(metrics_global(), MF_SPOOLED);
	buf_release(&ar);
	buf_release(&from);
	buf_release(&why);
}

void
step_dmarc_end(struct scan *s, void *state)
{
	const struct conf *c = s->eng->conf;
	char author[DOMAIN_MAX + 1];
	struct auth_in in;
	struct dmarc_input din;
	struct dmarc_opts opts;
	struct dmarc_outcome o;
	const char *disposition = "none", *reason = NULL, *override = NULL;
	char comment[600] = "";

	if (!c->dmarc || !check_from(s, author))
		return;
	if (s->eng->dns == NULL) {
		json_simple(s, "none", "no DNS resolver configured", author);
		return;
	}
	memset(&in, 0, sizeof(in));
	adapter_spf(s, &in);
	adapter_dkim(s, &in);
	din.author = author;
	din.spf_domain = in.spf_domain[0] ? in.spf_domain : NULL;
	din.spf = in.spf;
	din.dkim = in.dkim;
	din.ndkim = in.ndkim;
	engine_dmarc_opts(s->eng, &opts);
	dmarc_evaluate(s->eng->dns, &s->dns_budget, &opts, &din, &o);

	switch (o.result) {
	case DMARC_RES_NONE:
		scan_emit(s, "DMARC_NONE", "%s", o.detail);
		verdict_add_authres(&s->verdict, "dmarc=none header.from=%s",
		    author);
		break;
	case DMARC_RES_PERMERROR:
		scan_emit(s, "DMARC_PERMERROR", "%s", o.detail);
		verdict_add_authres(&s->verdict, "dmarc=permerror "
		    "header.from=%s", author);
		break;
	case DMARC_RES_TEMPERROR:
		scan_emit(s, "DMARC_TEMPERROR", "%s", o.detail);
		verdict_add_authres(&s->verdict, "dmarc=temperror "
		    "header.from=%s", author);
		if (str_ieq(c->dmarc_temperror_action, "tempfail"))
			verdict_force(&s->verdict, FORCE_TEMPFAIL,
			    ACTION_TEMPFAIL, "DMARC_TEMPERROR", "DMARC policy "
			    "of %s could not be checked", author);
		break;
	case DMARC_RES_PASS:
		disposition = o.applied == DMARC_POLICY_NONE &&
		    o.policy == DMARC_POLICY_NONE ? "none" : "pass";
		scan_emit(s, "DMARC_PASS", "%s", o.detail);
		verdict_add_authres(&s->verdict, "dmarc=pass (p=%s dis=none) "
		    "header.from=%s policy.dmarc=%s",
		    dmarc_policy_name(o.rec.p_set ? o.rec.p : DMARC_POLICY_NONE),
		    author, dmarc_policy_name(o.applied));
		break;
	case DMARC_RES_FAIL: {
		enum dmarc_policy act = o.applied;
		enum dmarc_fwd fwd = DMARC_FWD_NO;
		char fwd_comment[sizeof(comment)] = "";

		if (o.rec.testing && o.applied != o.policy) {
			reason = "policy_test_mode";
			snprintf(comment, sizeof(comment), "t=y: %s applied as "
			    "%s", dmarc_policy_name(o.policy),
			    dmarc_policy_name(o.applied));
		}
		if (act != DMARC_POLICY_NONE)
			fwd = dmarc_trusted_forwarder(s, author, fwd_comment,
			    sizeof(fwd_comment));
		if (fwd == DMARC_FWD_ARC) {
			act = DMARC_POLICY_NONE;
			reason = override = "trusted_forwarder";
			snprintf(comment, sizeof(comment), "%s", fwd_comment);
			scan_emit(s, "DMARC_TRUSTED_FORWARDER", "%s", comment);
		} else if (act != DMARC_POLICY_NONE && allowlisted(c, author)) {
			act = DMARC_POLICY_NONE;
			reason = override = "local_policy";
			snprintf(comment, sizeof(comment), "%s is in "
			    "dmarc_allow_domains", author);
			scan_emit(s, "DMARC_ALLOWLISTED", "%s", comment);
		} else if (fwd == DMARC_FWD_CLIENT) {
			/* the client vouches for itself only: tagged */
			act = DMARC_POLICY_QUARANTINE;
			reason = override = "trusted_forwarder";
			snprintf(comment, sizeof(comment), "%s: tagged instead",
			    fwd_comment);
			scan_emit(s, "DMARC_TRUSTED_FORWARDER", "%s", comment);
		} else if (act == DMARC_POLICY_REJECT && c->dmarc_never_reject) {
			act = DMARC_POLICY_QUARANTINE;
			reason = override = "local_policy";
			snprintf(comment, sizeof(comment), "dmarc_never_reject: "
			    "tagged instead");
		}
		disposition = dmarc_policy_name(act);
		if (act == DMARC_POLICY_REJECT) {
			scan_emit(s, "DMARC_REJECT", "%s",
			    o.detail);
			verdict_force(&s->verdict, FORCE_POLICY_REJECT,
			    ACTION_REJECT, "DMARC_REJECT", "Rejected by the "
			    "DMARC policy of %s: the message is not "
			    "authenticated for that domain (DMARC fail, "
			    "%s=reject)", author, o.policy_tag);
		} else if (act == DMARC_POLICY_QUARANTINE) {
			scan_emit(s, "DMARC_QUARANTINE", "%s%s%s",
			    o.detail, override ? "; " : "", override ? comment :
			    "");
			if (c->dmarc_quarantine_milter &&
			    fwd != DMARC_FWD_CLIENT)
				verdict_quarantine(&s->verdict, "DMARC policy "
				    "of %s (quarantine)", author);
		} else {
			scan_emit(s, "DMARC_FAIL", "%s (%s=%s, no action)",
			    o.detail, o.policy_tag,
			    dmarc_policy_name(o.policy));
		}
		verdict_add_authres(&s->verdict, "dmarc=fail (p=%s dis=%s%s%s) "
		    "header.from=%s policy.dmarc=%s",
		    dmarc_policy_name(o.rec.p_set ? o.rec.p : DMARC_POLICY_NONE),
		    disposition, override && strcmp(override,
		    "trusted_forwarder") == 0 ? "; override=trusted_forwarder: " :
		    "", override && strcmp(override, "trusted_forwarder") == 0 ?
		    comment : "", author, dmarc_policy_name(o.applied));
		break;
	}
	}
	if (o.limit_hit)
		scan_emit(s, "DMARC_QUERY_LIMIT", "dmarc_max_queries "
		    "(%llu) reached", (unsigned long long)c->dmarc_max_queries);
	json_outcome(s, author, &o, &in, o.result == DMARC_RES_PASS ||
	    o.result == DMARC_RES_FAIL ? disposition : NULL, override);
	/* the report store is production state: a replay writes none */
	if (c->dmarc_report_dir[0] && !engine_read_only(s->eng) &&
	    o.have_record &&
	    (o.result == DMARC_RES_PASS || o.result == DMARC_RES_FAIL))
		store(s, author, &o, &in, disposition, reason,
		    comment[0] ? comment : NULL);
	if (c->dmarc_failure_reports && c->dmarc_report_dir[0] &&
	    !engine_read_only(s->eng) && (o.result == DMARC_RES_PASS || o.result == DMARC_RES_FAIL) &&
	    dmarc_failure_wanted(&o, in.spf, in.dkim, in.ndkim)) {
		if (dmarc_failure_admit(c->dmarc_failure_reports_max, s->now))
			failure_report(s, author, &o, &in, disposition);
		else
			metrics_failure_report(metrics_global(), MF_CAPPED);
	}
	dmarc_outcome_release(&o);
}
