/*
 * step_dkim.c - DKIM in the scan pipeline: verify inbound, sign trusted
 *
 * DESCRIPTION
 *	begin (end of headers): mail from a trusted source (trusted
 *	networks, authenticated senders) whose author domain has signing
 *	keys gets a signer; other mail gets a verifier (dkim_verify = yes)
 *	and its key lookups are prefetched.  body: chunks go to the
 *	signer or verifier as they arrive; nothing is read twice.  end:
 *	signatures are verified (or made) and turned into symbols,
 *	Authentication-Results entries, the verdict log's "dkim" list and,
 *	for signing, a DKIM-Signature field the MTA prepends.
 *
 *	Symbols (scores are defaults; configuration overrides them):
 *	  DKIM_NONE              no DKIM-Signature field            0
 *	  DKIM_VALID             a signature passed               -0.2
 *	  DKIM_VALID_AUTHOR      ... by the From domain or a parent -0.5
 *	  DKIM_INVALID           none passed, one failed           1.0
 *	  DKIM_PERMFAIL          none passed, one was unusable     0.1
 *	  DKIM_TEMPFAIL          none passed, a key lookup failed  0
 *	  DKIM_SHA1              an rsa-sha1 signature (RFC 8301)  0.1
 *	  DKIM_L_PARTIAL         a passing l= leaves body unsigned 1.0
 *	  DKIM_POLICY            a signature refused by policy     0.5
 *	  DKIM_HEADER_INJECTION  a passing signature covers fewer
 *	                         From/To/Subject/Date than present 3.0
 *	  DKIM_TESTING           a key in test mode (t=y): treated
 *	                         as unsigned (RFC 6376 3.6.1)       0
 *	  DKIM_TOO_MANY          over dkim_max_signatures          0.5
 *	  DKIM_SIGNED            we signed the message              0
 *	  DKIM_UNSIGNED          trusted mail we could not sign     0
 *
 *	The author domain comes from addr.h: a single From field whose
 *	addresses are all in one domain (A-label); anything else has no
 *	author (no VALID_AUTHOR, no signing).
 *
 * SEE ALSO
 *	dkim.h, doc/dkim.md
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "buf.h"
#include "dkim.h"
#include "dns.h"
#include "engine.h"
#include "json.h"
#include "log.h"
#include "msg.h"
#include "scan.h"
#include "scan_steps.h"
#include "str.h"

struct dkim_state {
	struct dkim_verify *verify;
	struct dkim_sign *sign;
	char	 author[DOMAIN_MAX + 1];	/* "" when there is none */
	const char *unsigned_why;	/* trusted mail we will not sign */
};

/* author_domain - the author domain into out (size DOMAIN_MAX + 1) */
static bool
author_domain(const struct msg *m, char *out)
{
	struct addr_author a;

	if (addr_author(m, &a) != ADDR_AUTHOR_OK)
		return false;
	memcpy(out, a.domain, sizeof(a.domain));
	return true;
}

void
dkim_vopts_from_conf(struct dkim_vopts *o, const struct conf *c, time_t now)
{
	memset(o, 0, sizeof(*o));
	o->max_signatures = (unsigned)c->dkim_max_signatures;
	o->min_key_bits = (unsigned)c->dkim_min_key_bits;
	o->clock_skew = (unsigned)c->dkim_clock_skew;
	o->l_policy = strcmp(c->dkim_partial_body, "policy") == 0 ?
	    DKIM_L_REFUSE : DKIM_L_ACCEPT;
	o->now = now;
}

void *
step_dkim_begin(struct scan *s)
{
	const struct conf *c = s->eng->conf;
	struct dkim_state *st = xcalloc(1, sizeof(*st));
	struct dkim_vopts o;

	if (!author_domain(s->msg, st->author))
		st->author[0] = '\0';
	if (s->trusted) {
		if (s->eng->dkim_sign == NULL)
			return st;
		if (st->author[0] == '\0')
			st->unsigned_why = "no single From address";
		else if ((st->sign = dkim_sign_new(s->eng->dkim_sign,
		    st->author, s->now)) == NULL)
			st->unsigned_why = "no signing key for the From domain";
		return st;
	}
	if (!c->dkim_verify)
		return st;
	dkim_vopts_from_conf(&o, c, s->now);
	st->verify = dkim_verify_new(&o, s->msg->hdrs, s->msg->nhdrs);
	s->dkim = st->verify;
	dkim_verify_prefetch(st->verify, s->eng->dns);
	return st;
}

void
step_dkim_body(struct scan *s, void *state, const unsigned char *p,
    size_t n)
{
	struct dkim_state *st = state;

	if (st->verify)
		dkim_verify_body(st->verify, p, n);
	if (st->sign)
		dkim_sign_body(st->sign, p, n);
}

/* pvalue - RFC 8601 value: as is when it is a safe token, else quoted */
static void
pvalue(struct buf *out, const char *v, bool allow_at)
{
	const char *p;
	bool plain = *v != '\0';
	int ats = 0;

	for (p = v; *p; p++) {
		if (*p == '@')
			ats++;
		else if (!(ch_is_alnum((unsigned char)*p) || strchr("-._+", *p)))
			plain = false;
	}
	if (ats > (allow_at ? 1 : 0))
		plain = false;		/* local@domain at most */
	if (plain) {
		buf_adds(out, v);
		return;
	}
	buf_addc(out, '"');
	for (p = v; *p && p - v < 200; p++) {
		unsigned char c = (unsigned char)*p;

		if (c == '"' || c == '\\')
			buf_addc(out, '\\');
		buf_addc(out, c >= 0x20 && c < 0x7f ? (char)c : '?');
	}
	buf_addc(out, '"');
}

/* authres_sig - "dkim=RESULT ... header.d=..." for one signature */
static void
authres_sig(struct scan *s, const struct dkim_sigresult *r)
{
	struct buf a = BUF_INIT;

	buf_printf(&a, "dkim=%s", dkim_result_name(r->result));
	if (r->result == DKIM_PASS && r->algorithm &&
	    strncmp(r->algorithm, "ed25519", 7) == 0)
		buf_printf(&a, " (ed25519 key%s)", r->testing ?
		    "; test mode" : "");
	else if (r->result == DKIM_PASS)
		buf_printf(&a, " (%u-bit rsa key%s)", r->key_bits,
		    r->testing ? "; test mode" : "");
	if (r->result != DKIM_PASS && r->reason) {
		buf_adds(&a, " reason=");
		pvalue(&a, r->reason, false);
	}
	if (r->domain)
		buf_printf(&a, " header.d=%s", r->domain);
	if (r->identity) {
		buf_adds(&a, " header.i=");
		pvalue(&a, r->identity, true);
	}
	if (r->selector)
		buf_printf(&a, " header.s=%s", r->selector);
	if (r->algorithm)
		buf_printf(&a, " header.a=%s", r->algorithm);
	if (r->b_prefix[0]) {
		buf_adds(&a, " header.b=");
		pvalue(&a, r->b_prefix, false);
	}
	verdict_add_authres(&s->verdict, "%s", a.data);
	buf_release(&a);
}

/* json_sig - one object of the verdict log's "dkim" list */
static void
json_sig(struct buf *j, const struct dkim_sigresult *r)
{
	buf_adds(j, "{\"domain\":");
	json_cstr(j, r->domain);
	json_key(j, "selector", 0);
	json_cstr(j, r->selector);
	json_key(j, "identity", 0);
	json_cstr(j, r->identity);
	json_key(j, "algorithm", 0);
	json_cstr(j, r->algorithm);
	json_key(j, "key_bits", 0);
	if (r->key_bits)
		buf_printf(j, "%u", r->key_bits);
	else
		buf_adds(j, "null");
	json_key(j, "result", 0);
	json_cstr(j, dkim_result_name(r->result));
	json_key(j, "reason", 0);
	json_cstr(j, r->reason);
	json_key(j, "testing", 0);
	buf_adds(j, r->testing ? "true" : "false");
	json_key(j, "l", 0);
	if (r->has_l)
		buf_printf(j, "%llu", (unsigned long long)r->l);
	else
		buf_adds(j, "null");
	json_key(j, "body_length", 0);
	buf_printf(j, "%llu", (unsigned long long)r->body_length);
	json_key(j, "l_partial", 0);
	buf_adds(j, r->l_partial ? "true" : "false");
	json_key(j, "header_injection", 0);
	json_cstr(j, r->header_injection ? r->injected : NULL);
	json_key(j, "b", 0);
	json_cstr(j, r->b_prefix);
	buf_addc(j, '}');
}

/* aligned - d= is the author domain or a parent of it */
static bool
aligned(const char *author, const char *d)
{
	size_t al = strlen(author), dl = strlen(d);

	if (*author == '\0')
		return false;
	return strcmp(author, d) == 0 ||
	    (al > dl && author[al - dl - 1] == '.' &&
	    strcmp(author + al - dl, d) == 0);
}

struct tally {
	size_t	 pass, fail, perm, temp, policy, sha1, testing;
	const struct dkim_sigresult *author, *partial, *inject;
	struct buf passed;		/* "d=a.example d=b.example" */
};

static void
count_result(struct tally *t, const struct dkim_sigresult *r,
    const char *author)
{
	if (r->sha1)
		t->sha1++;
	if (r->testing) {
		t->testing++;
		return;		/* as if unsigned */
	}
	switch (r->result) {
	case DKIM_PASS:
		t->pass++;
		buf_printf(&t->passed, "%sd=%s", t->passed.len ? " " : "",
		    r->domain);
		if (aligned(author, r->domain) && t->author == NULL)
			t->author = r;
		if (r->l_partial && t->partial == NULL)
			t->partial = r;
		if (r->header_injection && t->inject == NULL)
			t->inject = r;
		break;
	case DKIM_FAIL: t->fail++; break;
	case DKIM_PERMERROR: t->perm++; break;
	case DKIM_TEMPERROR: t->temp++; break;
	case DKIM_POLICY: t->policy++; break;
	default: break;
	}
}

/* verdict_symbols - symbols from the tally */
static void
verdict_symbols(struct scan *s, struct tally *t, size_t n, size_t seen)
{
	if (t->pass)
		scan_emit(s, "DKIM_VALID", "%s", t->passed.data);
	if (t->author)
		scan_emit(s, "DKIM_VALID_AUTHOR", "d=%s",
		    t->author->domain);
	if (t->pass == 0 && t->fail)
		scan_emit(s, "DKIM_INVALID", "%zu signature(s) failed",
		    t->fail);
	if (t->pass == 0 && t->perm)
		scan_emit(s, "DKIM_PERMFAIL", "%zu unusable "
		    "signature(s)", t->perm);
	if (t->pass == 0 && t->temp) {
		scan_emit(s, "DKIM_TEMPFAIL", "%zu key lookup(s) "
		    "failed", t->temp);
		s->verdict.dns_degraded = true;
	}
	if (t->sha1)
		scan_emit(s, "DKIM_SHA1", "rsa-sha1 signature(s) not "
		    "accepted (RFC 8301)");
	if (t->policy)
		scan_emit(s, "DKIM_POLICY", "l= signature(s) refused "
		    "by dkim_partial_body = policy");
	if (t->partial)
		scan_emit(s, "DKIM_L_PARTIAL", "d=%s signs %llu of %llu "
		    "body bytes", t->partial->domain,
		    (unsigned long long)t->partial->l,
		    (unsigned long long)t->partial->body_length);
	if (t->inject)
		scan_emit(s, "DKIM_HEADER_INJECTION", "d=%s: more %s "
		    "fields than signed", t->inject->domain,
		    t->inject->injected);
	if (t->testing)
		scan_emit(s, "DKIM_TESTING", "%zu signature(s) with a "
		    "test-mode key", t->testing);
	if (seen > n)
		scan_emit(s, "DKIM_TOO_MANY", "%zu signatures, %zu "
		    "verified", seen, n);
}

static void
finish_verify(struct scan *s, struct dkim_state *st)
{
	const struct dkim_sigresult *r;
	struct tally t;
	struct buf *j = scan_output(s, "dkim");
	size_t i, n, seen;

	dkim_verify_finish(st->verify, s->eng->dns, &s->dns_budget);
	n = dkim_verify_results(st->verify, &r);
	seen = dkim_verify_seen(st->verify);
	if (seen == 0) {
		scan_emit(s, "DKIM_NONE", NULL);
		verdict_add_authres(&s->verdict, "dkim=none");
		return;
	}
	memset(&t, 0, sizeof(t));
	buf_reset(j);
	buf_addc(j, '[');
	for (i = 0; i < n; i++) {
		authres_sig(s, &r[i]);
		if (i)
			buf_addc(j, ',');
		json_sig(j, &r[i]);
		count_result(&t, &r[i], st->author);
	}
	buf_addc(j, ']');
	verdict_symbols(s, &t, n, seen);
	buf_release(&t.passed);
}

/* add_signature_field - for the MTA to prepend ("\n\t" folds, no CR) */
static void
add_signature_field(struct scan *s, const char *value)
{
	struct buf v = BUF_INIT;
	const char *p;

	for (p = value; *p; p++)
		if (*p != '\r')
			buf_addc(&v, *p);
	verdict_add_header(&s->verdict, "DKIM-Signature", "%s", v.data);
	buf_release(&v);
}

static void
finish_sign(struct scan *s, struct dkim_state *st)
{
	struct dkim_signed *sigs;
	struct buf why = BUF_INIT, *j = scan_output(s, "dkim");
	size_t i, n;

	n = dkim_sign_finish(st->sign, s->msg->hdrs, s->msg->nhdrs, &sigs,
	    &why);
	if (n == 0) {
		log_warn("%s: not DKIM-signed: %s", s->msg->queue_id ?
		    s->msg->queue_id : "NOQUEUE", buf_cstr(&why));
		scan_emit(s, "DKIM_UNSIGNED", "%s", buf_cstr(&why));
		buf_release(&why);
		return;
	}
	buf_reset(j);
	buf_addc(j, '[');
	for (i = 0; i < n; i++) {
		add_signature_field(s, sigs[i].value);
		scan_emit(s, "DKIM_SIGNED", "d=%s s=%s a=%s",
		    sigs[i].domain, sigs[i].selector, sigs[i].algorithm);
		if (i)
			buf_addc(j, ',');
		buf_adds(j, "{\"domain\":");
		json_cstr(j, sigs[i].domain);
		json_key(j, "selector", 0);
		json_cstr(j, sigs[i].selector);
		json_key(j, "algorithm", 0);
		json_cstr(j, sigs[i].algorithm);
		json_key(j, "key_bits", 0);
		buf_printf(j, "%u", sigs[i].key_bits);
		json_key(j, "result", 0);
		json_cstr(j, "signed");
		buf_addc(j, '}');
	}
	buf_addc(j, ']');
	dkim_signed_free(sigs, n);
	buf_release(&why);
}

void
step_dkim_end(struct scan *s, void *state)
{
	struct dkim_state *st = state;

	if (st == NULL)
		return;
	if (st->sign)
		finish_sign(s, st);
	else if (st->unsigned_why)
		scan_emit(s, "DKIM_UNSIGNED", "%s", st->unsigned_why);
	else if (st->verify)
		finish_verify(s, st);
}

void
step_dkim_free(void *state)
{
	struct dkim_state *st = state;

	dkim_verify_free(&st->verify);
	dkim_sign_free(&st->sign);
	free(st);
}

size_t
dkim_scan_results(const struct scan *s, const struct dkim_sigresult **out)
{
	return dkim_verify_results(s->dkim, out);
}
