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
 *	   with it, when it reached that sealer.  The newest such set
 *	   wins.  Untrusted sealers never count, whatever they claim.
 *	2. dmarc_trusted_forwarders: the client address is in a listed
 *	   network, or the client host name the MTA verified (Postfix
 *	   passes its forward-confirmed name) or an SPF-verified HELO name
 *	   is a listed name or below it.
 *
 *	The caller (step_dmarc.c) turns a yes into disposition none with
 *	override trusted_forwarder, and comment into the AR comment, the
 *	verdict log and the aggregate-report record.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "arc.h"
#include "conf.h"
#include "engine.h"
#include "msg.h"
#include "netaddr.h"
#include "punycode.h"
#include "scan.h"
#include "scan_steps.h"
#include "spf.h"

/* sealer_trusted - d is a listed sealer domain or below one */
static bool
sealer_trusted(const struct conf *c, const char *d)
{
	char e[DOMAIN_MAX + 1];
	size_t i;

	for (i = 0; *d && i < c->arc_trusted_sealers.n; i++) {
		const char *v = c->arc_trusted_sealers.v[i];

		if (domain_to_alabel(v, strlen(v), e, sizeof(e)) == 0 &&
		    domain_is_subdomain(d, e))
			return true;
	}
	return false;
}

/* by_arc - a trusted sealer of a passing chain vouches for the author */
static bool
by_arc(const struct scan *s, const char *author, char *comment, size_t n)
{
	const struct arc_result *r = arc_scan_result(s);
	char what[DOMAIN_MAX + 64];
	unsigned i;

	if (r == NULL || r->cv != ARC_CV_PASS || r->sets == NULL)
		return false;
	for (i = r->nsets; i >= 1; i--) {
		const struct arc_set *a = &r->sets[i - 1];

		if (!sealer_trusted(s->eng->conf, a->domain) || a->aar == NULL ||
		    !arc_aar_says_pass(a->aar, author, what, sizeof(what)))
			continue;
		snprintf(comment, n, "trusted ARC sealer %s (i=%u) saw %s",
		    a->domain, i, what);
		return true;
	}
	return false;
}

/* name_listed - name (a host name) is a listed name or below one */
static bool
name_listed(const struct conf *c, const char *name, const char **entry)
{
	char h[DOMAIN_MAX + 1], e[DOMAIN_MAX + 1];
	size_t i;

	if (name == NULL || *name == '\0' || *name == '[' ||
	    domain_to_alabel(name, strlen(name), h, sizeof(h)) < 0)
		return false;
	for (i = 0; i < c->dmarc_trusted_forwarders.n; i++) {
		const char *v = c->dmarc_trusted_forwarders.v[i];

		if (domain_to_alabel(v, strlen(v), e, sizeof(e)) == 0 &&
		    domain_is_subdomain(h, e)) {
			*entry = v;
			return true;
		}
	}
	return false;
}

/* by_client - the client is a listed forwarder */
static bool
by_client(const struct scan *s, char *comment, size_t n)
{
	const struct conf *c = s->eng->conf;
	const struct msg *m = s->msg;
	const char *entry;
	struct cidr net;
	size_t i;

	for (i = 0; m->client_ip[0] && i < c->dmarc_trusted_forwarders.n; i++)
		if (cidr_parse(c->dmarc_trusted_forwarders.v[i], &net) == 0 &&
		    cidr_match(&net, &m->client_addr)) {
			snprintf(comment, n, "client %s is in "
			    "dmarc_trusted_forwarders (%s)", m->client_ip,
			    c->dmarc_trusted_forwarders.v[i]);
			return true;
		}
	if (name_listed(c, m->client_name, &entry)) {
		snprintf(comment, n, "client %s is in dmarc_trusted_forwarders "
		    "(%s)", m->client_name, entry);
		return true;
	}
	if (s->spf && s->spf->helo_checked &&
	    s->spf->helo.result == SPF_PASS && name_listed(c, m->helo, &entry)) {
		snprintf(comment, n, "SPF-verified HELO %s is in "
		    "dmarc_trusted_forwarders (%s)", m->helo, entry);
		return true;
	}
	return false;
}

bool
dmarc_trusted_forwarder(const struct scan *s, const char *author,
    char *comment, size_t n)
{
	return by_arc(s, author, comment, n) || by_client(s, comment, n);
}
