/*
 * fuzz_spf_dmarc_dns.c - SPF and DMARC evaluation over hostile DNS
 *
 * DESCRIPTION
 *	The input decides every DNS answer.  Its first line is the message:
 *
 *	    CLIENT-IP HELO MAIL-FROM AUTHOR-DOMAIN [DKIM-DOMAIN ...]
 *
 *	(a missing or bad field takes a default); the rest is zone text for
 *	the zone-file backend (dns_zone.c): TXT, A, AAAA, MX, PTR, CNAME
 *	records, wildcards, and the pseudo-records NXDOMAIN, SERVFAIL and
 *	TIMEOUT for the rcodes and failures (DELAY waits at most the 1 ms
 *	query timeout set here).  Zone text ldns rejects ends the input.
 *	Records reach the evaluators through the same converter as network
 *	answers (dns_conv.c) and the resolver's cache, as in the milter.
 *
 *	Then, as the milter's SPF and DMARC steps do: spf_check() for the
 *	HELO and MAIL FROM identities with the default limits (and a
 *	trace), the Received-SPF value, dmarc_evaluate() by the tree walk
 *	and by a small Public Suffix List with the SPF outcome and the
 *	DKIM domains as passing signatures, dmarc_failure_wanted(), and for
 *	every rua/ruf of the record found the report destination check
 *	(dmarc_mailto(), dmarc_verify_external()).
 *
 *	Checked: everything finishes (libFuzzer's timeout catches a hang)
 *	within the lookup limits: at most 11 DNS-querying SPF terms and 3
 *	void lookups counted, at most max_queries DMARC queries; a DMARC
 *	pass has an aligned identifier; the results are known values; the
 *	Received-SPF value is one field value (folded, no control byte).
 */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "dmarc.h"
#include "smtpaddr.h"
#include "dmarc_failure.h"
#include "dns.h"
#include "netaddr.h"
#include "psl.h"
#include "spf.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define MAX_DKIM	4
#define SPF_QUERY_CAP	400	/* 10 terms x (1 + 10 MX/PTR names) + slack */

struct params {
	char	 ip[64], helo[256], from[512], author[DOMAIN_MAX + 1];
	struct dmarc_dkim_sig dkim[MAX_DKIM];
	size_t	 ndkim;
};

static struct psl *psl;

/* field - the next space-separated word of line into out, or def */
static const char *
field(const char **line, char *out, size_t outsz, const char *def)
{
	size_t n;

	*line += strspn(*line, " ");
	n = strcspn(*line, " ");
	if (n == 0 || n >= outsz) {
		snprintf(out, outsz, "%s", def);
	} else {
		memcpy(out, *line, n);
		out[n] = '\0';
	}
	*line += n;
	return out;
}

/* params_parse - the first line (NUL-terminated, without its newline) */
static void
params_parse(const char *line, struct params *pa)
{
	char d[512];

	memset(pa, 0, sizeof(*pa));
	field(&line, pa->ip, sizeof(pa->ip), "192.0.2.1");
	field(&line, pa->helo, sizeof(pa->helo), "mail.example.org");
	field(&line, pa->from, sizeof(pa->from), "user@example.org");
	field(&line, d, sizeof(d), "example.org");
	if (domain_to_alabel(d, strlen(d), pa->author,
	    sizeof(pa->author)) < 0)
		strcpy(pa->author, "example.org");
	for (pa->ndkim = 0; pa->ndkim < MAX_DKIM && *line; ) {
		struct dmarc_dkim_sig *s = &pa->dkim[pa->ndkim];

		field(&line, d, sizeof(d), "");
		if (domain_to_alabel(d, strlen(d), s->domain,
		    sizeof(s->domain)) < 0)
			continue;
		strcpy(s->selector, "sel");
		s->result = pa->ndkim % 2 ? AUTH_FAIL : AUTH_PASS;
		pa->ndkim++;
	}
}

static enum auth_result
spf_to_auth(enum spf_result r)
{
	switch (r) {
	case SPF_PASS: return AUTH_PASS;
	case SPF_FAIL: return AUTH_FAIL;
	case SPF_SOFTFAIL: return AUTH_SOFTFAIL;
	case SPF_NEUTRAL: return AUTH_NEUTRAL;
	case SPF_TEMPERROR: return AUTH_TEMPERROR;
	case SPF_PERMERROR: return AUTH_PERMERROR;
	default: return AUTH_NONE;
	}
}

/* folded_line - one header field value: a line break only to fold */
static bool
folded_line(const char *v)
{
	for (; *v; v++)
		if ((*v == '\n' && v[1] != '\t' && v[1] != ' ') ||
		    ((unsigned char)*v < 0x20 && *v != '\n' && *v != '\t') ||
		    *v == 0x7f)
			return false;
	return true;
}

/* spf_run - one identity; the outcome must respect the limits */
static void
spf_run(struct dns_resolver *r, const struct spf_request *req,
    enum spf_identity id, struct spf_outcome *o)
{
	struct dns_budget b;
	struct spf_limits lim;
	struct buf trace = BUF_INIT, rs = BUF_INIT;

	spf_limits_default(&lim);
	dns_budget_init(&b, 0);
	spf_check(r, &b, req, id, &lim, o, &trace);
	if (o->result > SPF_PERMERROR || o->lookups > lim.max_dns_terms + 1 ||
	    o->void_lookups > lim.max_void + 1 || b.queries > SPF_QUERY_CAP)
		abort();
	spf_received_value(o, req, "mx.example.net", &rs);
	if (!folded_line(buf_cstr(&rs)))
		abort();
	dns_budget_release(&b);
	buf_release(&trace);
	buf_release(&rs);
}

/* destinations - the report URI check for every rua and ruf */
static void
destinations(struct dns_resolver *r, const struct dmarc_opts *opts,
    const struct dmarc_outcome *o)
{
	char addr[SMTPADDR_MAX + 1];
	struct dns_budget b;
	size_t i;

	dns_budget_init(&b, 0);
	for (i = 0; i < o->rec.nrua + o->rec.nruf; i++) {
		const char *uri = i < o->rec.nrua ? o->rec.rua[i] :
		    o->rec.ruf[i - o->rec.nrua];
		enum dmarc_dest d;

		d = dmarc_report_destination(r, &b, opts, o->policy_domain,
		    uri, addr, sizeof(addr));
		if (d < DMARC_DEST_BAD || d > DMARC_DEST_OK)
			abort();
	}
	dns_budget_release(&b);
}

/* dmarc_run - one evaluation in mode, and what the report side reads */
static void
dmarc_run(struct dns_resolver *r, enum dmarc_orgmode mode,
    const struct dmarc_input *in)
{
	struct dmarc_opts opts = { mode, psl, 24 };
	struct dmarc_outcome o;
	struct dns_budget b;

	dns_budget_init(&b, 0);
	memset(&o, 0, sizeof(o));
	dmarc_evaluate(r, &b, &opts, in, &o);
	if (o.result > DMARC_RES_PERMERROR || o.queries > opts.max_queries ||
	    (o.result == DMARC_RES_PASS && !o.dkim_aligned &&
	    !o.spf_aligned) ||
	    ((o.result == DMARC_RES_PASS || o.result == DMARC_RES_FAIL) &&
	    !o.have_record) ||
	    memchr(o.detail, '\0', sizeof(o.detail)) == NULL)
		abort();
	if (o.have_record) {
		(void)dmarc_failure_wanted(&o, in->spf, in->dkim, in->ndkim);
		destinations(r, &opts, &o);
	}
	dmarc_outcome_release(&o);
	dns_budget_release(&b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char list[] = "com\norg\nnet\nexample\nco.uk\n*.ck\n"
	    "!www.ck\n";
	const char *nl = memchr(data, '\n', size);
	size_t l1 = nl ? (size_t)(nl - (const char *)data) : size;
	struct dns_opts dopts;
	struct dns_resolver *r;
	struct spf_request req;
	struct spf_outcome helo, mfrom;
	struct dmarc_input in;
	struct params pa;
	struct buf line = BUF_INIT, why = BUF_INIT;

	if (psl == NULL && psl_parse(list, sizeof(list) - 1, "fuzz", &psl,
	    &why) < 0)
		abort();
	buf_add(&line, data, l1);
	params_parse(buf_cstr(&line), &pa);
	dns_opts_default(&dopts);
	dopts.prefetch_threads = 0;
	dopts.query_timeout_ms = 1;
	if (dns_zone_open_text(nl ? nl + 1 : "", nl ? size - l1 - 1 : 0,
	    "fuzz", &dopts, &r, &why) < 0)
		goto out;
	memset(&req, 0, sizeof(req));
	if (netaddr_parse(pa.ip, &req.ip) < 0)
		(void)netaddr_parse("192.0.2.1", &req.ip);
	req.helo = pa.helo;
	req.sender = strcmp(pa.from, "<>") == 0 ? "" : pa.from;
	req.receiver = "mx.example.net";
	req.now = 1795000000;
	req.default_exp = "See https://%{d}/why.html?s=%{S}&i=%{I}";
	spf_run(r, &req, SPF_ID_HELO, &helo);
	spf_run(r, &req, SPF_ID_MAILFROM, &mfrom);
	memset(&in, 0, sizeof(in));
	in.author = pa.author;
	in.spf_domain = mfrom.domain;
	in.spf = spf_to_auth(mfrom.result);
	in.dkim = pa.dkim;
	in.ndkim = pa.ndkim;
	dmarc_run(r, DMARC_ORG_TREEWALK, &in);
	dmarc_run(r, DMARC_ORG_PSL, &in);
	spf_outcome_release(&helo);
	spf_outcome_release(&mfrom);
	dns_resolver_free(r);
out:
	buf_release(&line);
	buf_release(&why);
	return 0;
}
