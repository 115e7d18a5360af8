/*
 * dmarc_forwarder.c - may a DMARC failure be forgiven as forwarded mail?
 *
 * DESCRIPTION
 *	Mailing lists and forwarders break DMARC legitimately (a rewritten
 *	Subject breaks the author's DKIM signature, a new client breaks
 *	SPF).  dmarc_trusted_forwarder() says whether a failing message
 *	came through one the operator trusts, two ways:
 *
 *	1. ARC: the chain verified (cv=pass), and a set sealed by a domain
 *	   in arc_trusted_sealers (or a subdomain of one) carries
 *	   ARC-Authentication-Results saying the message passed DMARC for
 *	   the author domain, or passed SPF or DKIM with a domain aligned
 *	   with it (DMARC relaxed alignment: the same Organizational
 *	   Domain, never a bare parent such as co.uk), when it reached
 *	   that sealer, and the message has not
 *	   changed since in ways the chain cannot vouch for: every set
 *	   after it was sealed by a trusted sealer too, or the AMS of the
 *	   last of those trusted sets still verifies (oldest-pass).  The
 *	   newest such set wins.  Untrusted sealers never count, whatever
 *	   they claim, and never extend a trusted sealer's claim over
 *	   their own changes.
 *	2. dmarc_trusted_forwarders: the client address is in a listed
 *	   network, or the client host name the MTA verified (Postfix
 *	   passes its forward-confirmed name) or an SPF-verified HELO name
 *	   is a listed name or below it.
 *
 *	Both lists are parsed once, when the engine loads (forwarders.c);
 *	here they are only compared.
 *
 *	The caller (step_dmarc.c) turns an ARC yes into disposition none
 *	and a client yes into quarantine (tagged, not rejected: the client
 *	vouches only for itself, not for what it was given), both with
 *	override trusted_forwarder, and comment into the AR comment, the
 *	verdict log and the aggregate-report record.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "arc.h"
#include "dmarc.h"
#include "engine.h"
#include "forwarders.h"
#include "msg.h"
#include "punycode.h"
#include "scan.h"
#include "scan_steps.h"
#include "spf.h"

/*
 * unchanged_since - may set i's claim still describe this message?  The
 * AAR of set i speaks of the message as it reached sealer i; whoever
 * handled it after that may have changed it.  Let k be the end of the
 * run of trusted sealers i, i+1, ..., k.  The claim stands when the
 * message is unchanged since set k was sealed (every AMS from k on
 * still verifies: oldest-pass is 0 or at most k).  So a trusted list
 * followed by trusted lists that rewrite is fine (k = N), and a trusted
 * sealer followed by an untrusted one counts only when the untrusted
 * one changed nothing the trusted AMS signed (RFC 8617 7.2: only the
 * oldest-pass instance tells how far back the message is intact).
 */
static bool
unchanged_since(const struct forwarders *f, const struct arc_result *r,
    unsigned i)
{
	unsigned k = i;

	while (k < r->nsets && forwarders_sealer(f, r->sets[k].domain))
		k++;
	return r->oldest_pass == 0 || r->oldest_pass <= k;
}

int
dmarc_aar_aligned(void *arg, const char *author, const char *d)
{
	struct scan *s = arg;
	struct dmarc_opts o;

	engine_dmarc_opts(s->eng, &o);
	return dmarc_aligned(s->eng->dns, &s->dns_budget, &o, author, d,
	    DMARC_RELAXED);
}

/* by_arc - a trusted sealer of a passing chain vouches for the author */
static bool
by_arc(struct scan *s, const char *author, char *comment, size_t n)
{
	const struct arc_result *r = arc_scan_result(s);
	const struct forwarders *f = s->eng->forwarders;
	char what[DOMAIN_MAX + 64];
	unsigned i;

	if (r == NULL || r->cv != ARC_CV_PASS || r->sets == NULL)
		return false;
	for (i = r->nsets; i >= 1; i--) {
		const struct arc_set *a = &r->sets[i - 1];

		if (!forwarders_sealer(f, a->domain) ||
		    !unchanged_since(f, r, i) || a->aar == NULL ||
		    !arc_aar_says_pass(a->aar, author, dmarc_aar_aligned, s, what,
		    sizeof(what)))
			continue;
		snprintf(comment, n, "trusted ARC sealer %s (i=%u) saw %s",
		    a->domain, i, what);
		return true;
	}
	return false;
}

/* by_client - the client is a listed forwarder */
static bool
by_client(const struct scan *s, char *comment, size_t n)
{
	const struct forwarders *f = s->eng->forwarders;
	const struct msg *m = s->msg;
	const char *entry;

	if (m->client_ip[0] &&
	    (entry = forwarders_net(f, &m->client_addr)) != NULL) {
		snprintf(comment, n, "client %s is in dmarc_trusted_forwarders "
		    "(%s)", m->client_ip, entry);
		return true;
	}
	if ((entry = forwarders_name(f, m->client_name)) != NULL) {
		snprintf(comment, n, "client %s is in dmarc_trusted_forwarders "
		    "(%s)", m->client_name, entry);
		return true;
	}
	if (s->spf && s->spf->helo_checked &&
	    s->spf->helo.result == SPF_PASS &&
	    (entry = forwarders_name(f, m->helo)) != NULL) {
		snprintf(comment, n, "SPF-verified HELO %s is in "
		    "dmarc_trusted_forwarders (%s)", m->helo, entry);
		return true;
	}
	return false;
}

enum dmarc_fwd
dmarc_trusted_forwarder(struct scan *s, const char *author,
    char *comment, size_t n)
{
	if (by_arc(s, author, comment, n))
		return DMARC_FWD_ARC;
	if (by_client(s, comment, n))
		return DMARC_FWD_CLIENT;
	return DMARC_FWD_NO;
}
