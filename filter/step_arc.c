/*
 * step_arc.c - ARC in the scan pipeline: verify the chain (RFC 8617)
 *
 * DESCRIPTION
 *	begin (end of headers): with arc_verify = yes, an ARC verifier
 *	(arc.h) sorts the ARC sets and starts their key lookups; body:
 *	chunks go to its AMS body hashers; end: the chain result becomes
 *	one symbol, an Authentication-Results entry ("arc=pass
 *	smtp.remote-ip=... header.oldest-pass=N", RFC 8617 10) and the
 *	verdict log's "arc" object.  It runs after DKIM and before DMARC,
 *	which reads the result through arc_scan_result() for
 *	arc_trusted_sealers.  No sealing.
 *
 *	Symbols (scores are defaults; configuration overrides them):
 *	  ARC_NONE     no ARC field                                  0
 *	  ARC_PASS     the chain verified                            0
 *	  ARC_FAIL     a signature or seal did not verify, or the
 *	               newest seal says cv=fail                    0.1
 *	  ARC_INVALID  the sets are malformed (missing, duplicate or
 *	               out-of-range instances, cv= sequence, too many) 0.5
 *
 * SEE ALSO
 *	arc.h, doc/arc.md
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "arc.h"
#include "buf.h"
#include "dkim.h"
#include "engine.h"
#include "json.h"
#include "msg.h"
#include "scan.h"
#include "scan_steps.h"

struct arc_state {
	struct arc_verify *verify;
};

void *
step_arc_begin(struct scan *s)
{
	const struct conf *c = s->eng->conf;
	struct arc_state *st;
	struct arc_opts o;

	if (!c->arc_verify)
		return NULL;
	st = xcalloc(1, sizeof(*st));
	dkim_vopts_from_conf(&o.dkim, c, s->now);
	o.max_sets = (unsigned)c->arc_max_sets;
	st->verify = arc_verify_new(&o, s->msg->hdrs, s->msg->nhdrs);
	arc_verify_prefetch(st->verify, s->eng->dns);
	return st;
}

void
step_arc_body(struct scan *s, void *state, const unsigned char *p, size_t n)
{
	struct arc_state *st = state;

	(void)s;
	if (st)
		arc_verify_body(st->verify, p, n);
}

/* comment_text - text safe inside an RFC 8601 comment */
static void
comment_text(struct buf *out, const char *t)
{
	for (; *t; t++) {
		unsigned char c = (unsigned char)*t;

		buf_addc(out, c < 0x20 || c >= 0x7f || c == '(' || c == ')' ||
		    c == '\\' ? '?' : (char)c);
	}
}

/* authres - "arc=RESULT (comment) smtp.remote-ip=IP header.oldest-pass=N" */
static void
authres(struct scan *s, const struct arc_result *r)
{
	struct buf a = BUF_INIT;
	unsigned i;

	buf_printf(&a, "arc=%s", arc_cv_name(r->cv));
	if (r->cv == ARC_CV_PASS) {
		buf_adds(&a, " (");
		for (i = r->nsets; i >= 1; i--)
			buf_printf(&a, "%si=%u d=%s", i == r->nsets ? "" : ", ",
			    i, r->sets[i - 1].domain);
		buf_addc(&a, ')');
	} else if (r->cv == ARC_CV_FAIL) {
		buf_adds(&a, " (");
		comment_text(&a, r->reason);
		buf_addc(&a, ')');
	}
	if (s->msg->client_ip[0])
		buf_printf(&a, " smtp.remote-ip=%s", s->msg->client_ip);
	if (r->cv == ARC_CV_PASS)
		buf_printf(&a, " header.oldest-pass=%u", r->oldest_pass);
	verdict_add_authres(&s->verdict, "%s", a.data);
	buf_release(&a);
}

/* json_sets - the sets of the verdict log's "arc" object */
static void
json_sets(struct buf *j, const struct arc_result *r)
{
	unsigned i;

	buf_addc(j, '[');
	for (i = 0; r->sets && i < r->nsets; i++) {
		const struct arc_set *a = &r->sets[i];

		if (i)
			buf_addc(j, ',');
		buf_printf(j, "{\"i\":%u", a->instance);
		json_key(j, "domain", 0);
		json_cstr(j, a->domain[0] ? a->domain : NULL);
		json_key(j, "selector", 0);
		json_cstr(j, a->selector[0] ? a->selector : NULL);
		json_key(j, "cv", 0);
		json_cstr(j, a->cv);
		json_key(j, "ams", 0);
		json_cstr(j, dkim_result_name(a->ams));
		json_key(j, "as", 0);
		json_cstr(j, dkim_result_name(a->as));
		buf_addc(j, '}');
	}
	buf_addc(j, ']');
}

/* json_result - the verdict log's "arc" object */
static void
json_result(struct scan *s, const struct arc_result *r)
{
	struct buf *j = scan_output(s, "arc");

	buf_reset(j);
	buf_adds(j, "{\"result\":");
	json_cstr(j, arc_cv_name(r->cv));
	json_key(j, "reason", 0);
	json_cstr(j, r->reason);
	json_key(j, "invalid", 0);
	buf_adds(j, r->invalid ? "true" : "false");
	json_key(j, "sets", 0);
	buf_printf(j, "%u", r->nsets);
	json_key(j, "oldest_pass", 0);
	if (r->cv == ARC_CV_PASS)
		buf_printf(j, "%u", r->oldest_pass);
	else
		buf_adds(j, "null");
	json_key(j, "sealers", 0);
	json_sets(j, r);
	buf_addc(j, '}');
}

void
step_arc_end(struct scan *s, void *state)
{
	struct arc_state *st = state;
	const struct arc_result *r;

	if (st == NULL)
		return;
	arc_verify_finish(st->verify, s->eng->dns, &s->dns_budget);
	r = arc_verify_result(st->verify);
	if (r->cv == ARC_CV_NONE)
		scan_emit(s, "ARC_NONE", NULL);
	else if (r->cv == ARC_CV_PASS)
		scan_emit(s, "ARC_PASS", "%u set(s), oldest-pass %u", r->nsets,
		    r->oldest_pass);
	else
		scan_emit(s, r->invalid ? "ARC_INVALID" : "ARC_FAIL", "%s",
		    r->reason);
	if (r->temporary)
		s->verdict.dns_degraded = true;
	authres(s, r);
	json_result(s, r);
}

void
step_arc_free(void *state)
{
	struct arc_state *st = state;

	arc_verify_free(&st->verify);
	free(st);
}

const struct arc_result *
arc_scan_result(const struct scan *s)
{
	const struct arc_state *st = scan_state(s, "arc");

	return st && st->verify ? arc_verify_result(st->verify) : NULL;
}
