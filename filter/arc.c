/*
 * arc.c - ARC chain validation (RFC 8617 5.2), verify only
 *
 * DESCRIPTION
 *	collect() sorts the ARC fields into sets by instance (the seal and
 *	the AMS are parsed with the DKIM tag rules of dkim_sig.c, the AAR
 *	instance with arc_aar_instance()); structure() checks what RFC
 *	8617 5.2 checks before any cryptography.  The AMS fields go through
 *	a DKIM verifier of kind DKIM_SIG_AMS, so the body is canonicalised
 *	and hashed once per (canonicalisation, hash, l=) with the rest of
 *	the stream, and keys are fetched once per message.  At the end the
 *	newest AMS decides; older ones give the oldest-pass instance; then
 *	every seal is verified over the sets up to its own instance, in
 *	instance order, AAR, AMS, AS, relaxed, its own b= emptied (RFC
 *	8617 5.1.1).
 *
 * LIMITS
 *	opts.max_sets fields of each kind; more fail the chain before any
 *	field is parsed.  One verifier, at most max_sets AMS hashers.
 *
 * SECURITY
 *	Instances index the set table only after they were checked to be
 *	in 1..max_sets.  Reasons quote no field content but numbers.
 *
 * STANDARDS
 *	RFC 8617, RFC 6376, RFC 8301.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arc.h"
#include "arc_int.h"
#include "buf.h"
#include "dkim_int.h"
#include "dns.h"
#include "log.h"
#include "msg.h"
#include "str.h"

enum arc_kind { K_AAR, K_AMS, K_AS, K_N };

static const char *const kind_names[K_N] = {
	"ARC-Authentication-Results", "ARC-Message-Signature", "ARC-Seal"
};

struct arc_verify {
	struct arc_opts o;
	const struct hdr *hdrs;
	size_t	 nhdrs;
	size_t	 field[ARC_MAX_SETS][K_N];	/* hdr index + 1, 0: none */
	struct dkim_sig seal[ARC_MAX_SETS];
	bool	 seal_ok[ARC_MAX_SETS];
	struct dkim_verify *ams;		/* NULL once decided */
	struct arc_result r;
	bool	 decided;			/* r is final */
	bool	 finished;
};

const char *
arc_cv_name(enum arc_cv cv)
{
	return cv == ARC_CV_PASS ? "pass" : cv == ARC_CV_FAIL ? "fail" :
	    "none";
}

/* decide - the chain's result, once */
static void
decide(struct arc_verify *a, enum arc_cv cv, bool invalid, const char *fmt,
    ...) __attribute__((format(printf, 4, 5)));

static void
decide(struct arc_verify *a, enum arc_cv cv, bool invalid, const char *fmt,
    ...)
{
	va_list ap;

	if (a->decided)
		return;
	a->decided = true;
	a->r.cv = cv;
	a->r.invalid = invalid;
	va_start(ap, fmt);
	vsnprintf(a->r.reason, sizeof(a->r.reason), fmt, ap);
	va_end(ap);
}

/* kind_of - which ARC field a header is, or K_N */
static enum arc_kind
kind_of(const struct hdr *h)
{
	int k;

	for (k = 0; k < K_N; k++)
		if (str_nieq(h->name, h->name_len, kind_names[k],
		    strlen(kind_names[k])))
			return (enum arc_kind)k;
	return K_N;
}

/* count_fields - false (and the chain decided) when there are too many */
static bool
count_fields(struct arc_verify *a)
{
	size_t n[K_N] = { 0 }, j;
	enum arc_kind k;

	for (j = 0; j < a->nhdrs; j++)
		if ((k = kind_of(&a->hdrs[j])) != K_N)
			n[k]++;
	for (k = 0; k < K_N; k++)
		if (n[k] > a->o.max_sets) {
			decide(a, ARC_CV_FAIL, true, "%zu %s fields, more than "
			    "arc_max_sets (%u)", n[k], kind_names[k],
			    a->o.max_sets);
			return false;
		}
	if (n[K_AAR] + n[K_AMS] + n[K_AS] == 0) {
		decide(a, ARC_CV_NONE, false, "no ARC sets");
		return false;
	}
	return true;
}

/* field_instance - the i= of field j of kind k, or 0 with a reason */
static unsigned
field_instance(struct arc_verify *a, size_t j, enum arc_kind k,
    struct buf *why)
{
	const struct hdr *h = &a->hdrs[j];
	struct dkim_sig sig;
	unsigned inst;
	int rc;

	if (k == K_AAR)
		return arc_aar_instance(h->value, h->value_len, why);
	rc = dkim_sig_parse_kind(h->value, h->value_len, k == K_AS ?
	    DKIM_SIG_AS : DKIM_SIG_AMS, &sig, why);
	inst = sig.instance;
	if (inst && k == K_AS && inst <= a->o.max_sets &&
	    a->field[inst - 1][K_AS] == 0) {
		a->seal[inst - 1] = sig;	/* kept: verified at the end */
		a->seal_ok[inst - 1] = rc == 0;
		return inst;
	}
	dkim_sig_release(&sig);
	return inst;
}

/* collect - fields into sets by instance; false when decided */
static bool
collect(struct arc_verify *a)
{
	struct buf why = BUF_INIT;
	enum arc_kind k;
	unsigned inst;
	size_t j;
	bool ok = true;

	for (j = 0; j < a->nhdrs && ok; j++) {
		if ((k = kind_of(&a->hdrs[j])) == K_N)
			continue;
		buf_reset(&why);
		inst = field_instance(a, j, k, &why);
		if (inst == 0) {
			decide(a, ARC_CV_FAIL, true, "%s without a usable "
			    "i= (%s)", kind_names[k], buf_cstr(&why));
			ok = false;
		} else if (inst > a->o.max_sets) {
			decide(a, ARC_CV_FAIL, true, "%s i=%u is above "
			    "arc_max_sets (%u)", kind_names[k], inst,
			    a->o.max_sets);
			ok = false;
		} else if (a->field[inst - 1][k]) {
			decide(a, ARC_CV_FAIL, true, "duplicate %s for "
			    "instance i=%u", kind_names[k], inst);
			ok = false;
		} else
			a->field[inst - 1][k] = j + 1;
		if (ok && k == K_AS && !a->seal_ok[inst - 1]) {
			decide(a, ARC_CV_FAIL, true, "ARC-Seal i=%u unusable: "
			    "%s", inst, buf_cstr(&why));
			ok = false;
		}
	}
	buf_release(&why);
	return ok;
}

/* structure - RFC 8617 5.2 steps 2-3: complete sets, cv= sequence */
static bool
structure(struct arc_verify *a)
{
	unsigned i, n = 0;
	int k;

	for (i = 0; i < a->o.max_sets; i++)
		for (k = 0; k < K_N; k++)
			if (a->field[i][k])
				n = i + 1;
	a->r.nsets = n;
	for (i = 1; i <= n; i++)
		for (k = 0; k < K_N; k++)
			if (a->field[i - 1][k] == 0) {
				decide(a, ARC_CV_FAIL, true, "instance i=%u of "
				    "%u has no %s", i, n, kind_names[k]);
				return false;
			}
	if (a->seal[n - 1].cv == DKIM_CV_FAIL) {
		decide(a, ARC_CV_FAIL, false, "the newest seal (i=%u) says "
		    "the chain had already failed (cv=fail)", n);
		return false;
	}
	for (i = 1; i <= n; i++) {
		enum dkim_arc_cv want = i == 1 ? DKIM_CV_NONE : DKIM_CV_PASS;

		if (a->seal[i - 1].cv != want) {
			decide(a, ARC_CV_FAIL, true, "ARC-Seal i=%u has cv=%s, "
			    "RFC 8617 wants cv=%s", i,
			    arc_dkim_cv_name(a->seal[i - 1].cv),
			    arc_dkim_cv_name(want));
			return false;
		}
	}
	return true;
}

/* fill_sets - the per-set report: domains, cv=, the AAR payload */
static void
fill_sets(struct arc_verify *a)
{
	unsigned i;

	a->r.sets = xcalloc(a->r.nsets ? a->r.nsets : 1, sizeof(*a->r.sets));
	for (i = 1; i <= a->r.nsets; i++) {
		struct arc_set *s = &a->r.sets[i - 1];
		const struct dkim_sig *seal = &a->seal[i - 1];
		const struct hdr *h = &a->hdrs[a->field[i - 1][K_AAR] - 1];

		s->instance = i;
		snprintf(s->domain, sizeof(s->domain), "%s",
		    seal->domain ? seal->domain : "");
		snprintf(s->selector, sizeof(s->selector), "%s",
		    seal->selector ? seal->selector : "");
		s->cv = arc_dkim_cv_name(seal->cv);
		s->aar = arc_aar_payload(h->value, h->value_len);
	}
}

struct arc_verify *
arc_verify_new(const struct arc_opts *o, const struct hdr *hdrs, size_t nhdrs)
{
	struct arc_verify *a = xcalloc(1, sizeof(*a));
	struct dkim_vopts dv;

	a->o = *o;
	if (a->o.max_sets == 0 || a->o.max_sets > ARC_MAX_SETS)
		a->o.max_sets = ARC_MAX_SETS;
	a->hdrs = hdrs;
	a->nhdrs = nhdrs;
	if (!count_fields(a) || !collect(a) || !structure(a))
		return a;
	fill_sets(a);
	dv = a->o.dkim;
	dv.max_signatures = a->o.max_sets;
	a->ams = dkim_verify_new_kind(&dv, hdrs, nhdrs, DKIM_SIG_AMS);
	return a;
}

void
arc_verify_prefetch(struct arc_verify *a, struct dns_resolver *dns)
{
	char name[2 * 256 + 16];
	unsigned i;

	if (a->ams == NULL || dns == NULL)
		return;
	dkim_verify_prefetch(a->ams, dns);
	for (i = 0; i < a->r.nsets; i++) {
		snprintf(name, sizeof(name), "%s._domainkey.%s",
		    a->seal[i].selector, a->seal[i].domain);
		dns_prefetch(dns, name, DNS_T_TXT);
	}
}

void
arc_verify_body(struct arc_verify *a, const void *p, size_t n)
{
	if (a->ams)
		dkim_verify_body(a->ams, p, n);
}

/* ams_outcomes - each AMS result into its set; the newest decides */
static bool
ams_outcomes(struct arc_verify *a)
{
	const struct dkim_sigresult *r;
	size_t k, n = dkim_verify_results(a->ams, &r);
	unsigned i, N = a->r.nsets;
	struct arc_set *newest = &a->r.sets[N - 1];

	for (k = 0; k < n; k++) {
		struct arc_set *s;

		if (r[k].instance < 1 || r[k].instance > N)
			continue;
		s = &a->r.sets[r[k].instance - 1];
		s->ams = r[k].result;
		snprintf(s->ams_reason, sizeof(s->ams_reason), "%s",
		    r[k].reason ? r[k].reason : "");
		snprintf(s->ams_domain, sizeof(s->ams_domain), "%s",
		    r[k].domain ? r[k].domain : "");
	}
	if (newest->ams != DKIM_PASS) {
		a->r.temporary = newest->ams == DKIM_TEMPERROR;
		decide(a, ARC_CV_FAIL, false, "ARC-Message-Signature i=%u: %s",
		    N, newest->ams_reason[0] ? newest->ams_reason :
		    "not verified");
		return false;
	}
	a->r.oldest_pass = 0;
	for (i = N - 1; i >= 1; i--)
		if (a->r.sets[i - 1].ams != DKIM_PASS) {
			a->r.oldest_pass = i + 1;
			break;
		}
	return true;
}

/* seal_hash - RFC 8617 5.1.1: sets 1..i, relaxed, own b= emptied */
static void
seal_hash(struct arc_verify *a, unsigned i, unsigned char *out,
    unsigned *outlen)
{
	const struct dkim_sig *seal = &a->seal[i - 1];
	struct buf c = BUF_INIT, tmp = BUF_INIT;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned j;
	int k;

	if (ctx == NULL ||
	    EVP_DigestInit_ex(ctx, dkim_md(dkim_alg_hash(seal->alg)), NULL) != 1)
		log_panic("arc: cannot start a digest");
	for (j = 1; j <= i; j++)
		for (k = 0; k < K_N; k++) {
			const struct hdr *h = &a->hdrs[a->field[j - 1][k] - 1];

			buf_reset(&c);
			if (j == i && k == K_AS) {
				buf_reset(&tmp);
				buf_add(&tmp, h->value, seal->b_start);
				buf_add(&tmp, h->value + seal->b_end,
				    h->value_len - seal->b_end);
				dkim_canon_header(DKIM_CANON_RELAXED, h->name,
				    h->name_len, tmp.data, tmp.len, &c);
			} else {
				dkim_canon_header(DKIM_CANON_RELAXED, h->name,
				    h->name_len, h->value, h->value_len, &c);
				buf_add(&c, "\r\n", 2);
			}
			EVP_DigestUpdate(ctx, c.data, c.len);
		}
	EVP_DigestFinal_ex(ctx, out, outlen);
	EVP_MD_CTX_free(ctx);
	buf_release(&c);
	buf_release(&tmp);
}

/* verify_seals - every seal, newest first; the first failure decides */
static void
verify_seals(struct arc_verify *a, struct dns_resolver *dns,
    struct dns_budget *budget)
{
	unsigned char hash[DKIM_MAX_HASH];
	unsigned i, hlen, bits;
	struct buf why = BUF_INIT;

	for (i = a->r.nsets; i >= 1; i--) {
		struct arc_set *s = &a->r.sets[i - 1];

		if (a->seal[i - 1].alg == DKIM_ALG_RSA_SHA1) {
			s->as = DKIM_PERMERROR;
			snprintf(s->as_reason, sizeof(s->as_reason),
			    "rsa-sha1 is not accepted (RFC 8301)");
		} else {
			seal_hash(a, i, hash, &hlen);
			buf_reset(&why);
			s->as = dkim_verify_hash(a->ams, &a->seal[i - 1], hash,
			    hlen, dns, budget, &bits, &why);
			snprintf(s->as_reason, sizeof(s->as_reason), "%s",
			    buf_cstr(&why));
		}
		if (s->as != DKIM_PASS) {
			a->r.temporary = s->as == DKIM_TEMPERROR;
			decide(a, ARC_CV_FAIL, false, "ARC-Seal i=%u (d=%s): "
			    "%s", i, s->domain, s->as_reason);
			break;
		}
	}
	buf_release(&why);
	decide(a, ARC_CV_PASS, false, "chain of %u set(s) verified",
	    a->r.nsets);
}

void
arc_verify_finish(struct arc_verify *a, struct dns_resolver *dns,
    struct dns_budget *budget)
{
	if (a->finished)
		return;
	a->finished = true;
	if (a->decided || a->ams == NULL)
		return;
	dkim_verify_finish(a->ams, dns, budget);
	if (ams_outcomes(a))
		verify_seals(a, dns, budget);
}

const struct arc_result *
arc_verify_result(const struct arc_verify *a)
{
	return &a->r;
}

void
arc_verify_free(struct arc_verify **ap)
{
	struct arc_verify *a = *ap;
	unsigned i;

	if (a == NULL)
		return;
	for (i = 0; i < ARC_MAX_SETS; i++)
		dkim_sig_release(&a->seal[i]);
	for (i = 0; a->r.sets && i < a->r.nsets; i++)
		free(a->r.sets[i].aar);
	free(a->r.sets);
	dkim_verify_free(&a->ams);
	free(a);
	*ap = NULL;
}
