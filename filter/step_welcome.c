/*
 * step_welcome.c - authentication-gated allowlists as symbols
 *
 * DESCRIPTION
 *	Runs after SPF, DKIM and DMARC.  The envelope sender and the From
 *	address are looked up in the welcome_auth list; a listed one whose
 *	domain the message authenticates (welcome.h) gives WELCOMELIST_AUTH,
 *	one that does not gives WELCOMELIST_AUTH_UNVERIFIED (score 0: the
 *	verdict log shows the forgery that was refused).  A valid DKIM
 *	signature whose d= is on the dkim_allowlist gives DKIM_ALLOWLIST.
 *
 * SECURITY
 *	Addresses come from the message: their domains pass
 *	domain_to_alabel() before they are compared or logged, and only
 *	outcomes the MTA-side checks produced authenticate anything.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "dkim.h"
#include "dnsbl.h"
#include "engine.h"
#include "lists.h"
#include "msg.h"
#include "punycode.h"
#include "scan.h"
#include "scan_steps.h"
#include "spf.h"
#include "str.h"
#include "welcome.h"

#define MAX_DKIM	16

/* alabel_of - the A-label domain of address into out, or false */
static bool
alabel_of(const char *address, char *out)
{
	const char *at = address ? strrchr(address, '@') : NULL;

	return at != NULL && at[1] != '\0' &&
	    domain_to_alabel(at + 1, strlen(at + 1), out, DOMAIN_MAX + 1) == 0;
}

/* gather - what authenticated this message; dkim[] borrows the scan's */
static void
gather(struct scan *s, const char *from_domain, const char **dkim,
    struct welcome_auth *a)
{
	const struct dkim_sigresult *r;
	size_t i, n;

	memset(a, 0, sizeof(*a));
	if (s->spf && s->spf->mailfrom.result == SPF_PASS &&
	    s->spf->mailfrom.identity == SPF_ID_MAILFROM)
		a->spf_pass = s->spf->mailfrom.domain;
	n = s->dkim ? dkim_scan_results(s, &r) : 0;
	for (i = 0; i < n && a->ndkim < MAX_DKIM; i++)
		if (r[i].result == DKIM_PASS && r[i].domain)
			dkim[a->ndkim++] = r[i].domain;
	a->dkim = dkim;
	if (from_domain && verdict_symbol(&s->verdict, "DMARC_PASS"))
		a->dmarc_pass = from_domain;
}

/*
 * candidate - one sender address against the welcome_auth list: 1 and
 * the WELCOMELIST_AUTH symbol when listed and authenticated, 0 when
 * listed only (the detail in unverified), -1 when not listed
 */
static int
candidate(struct scan *s, const char *what, const char *address,
    const struct welcome_auth *a, struct buf *unverified)
{
	const struct list *l = s->eng->lists[LIST_WELCOME_AUTH];
	const struct list_entry *e;
	char dom[DOMAIN_MAX + 1];
	const char *how;

	if (address == NULL || (e = list_match_sender(l, address)) == NULL ||
	    !alabel_of(address, dom))
		return -1;
	if ((how = welcome_authenticated(s->eng->psl, dom, a)) != NULL) {
		scan_emit(s, "WELCOMELIST_AUTH", "%s %s matches %s "
		    "(line %u), authenticated by %s", what, dom, e->key,
		    e->line, how);
		return 1;
	}
	if (unverified->len == 0)
		buf_printf(unverified, "%s %s matches %s (line %u) but "
		    "neither SPF, aligned DKIM nor DMARC passed for it", what,
		    dom, e->key, e->line);
	return 0;
}

static void
dkim_allowlist(struct scan *s, const struct welcome_auth *a)
{
	const struct list_entry *e;
	size_t i;

	for (i = 0; i < a->ndkim; i++)
		if ((e = list_match_domain(s->eng->lists[LIST_DKIM_DOMAIN],
		    a->dkim[i])) != NULL) {
			scan_emit(s, "DKIM_ALLOWLIST", "valid DKIM "
			    "signature by %s matches %s (line %u)", a->dkim[i],
			    e->key, e->line);
			return;
		}
}

void
step_welcome_end(struct scan *s, void *state)
{
	const struct msg *m = s->msg;
	const struct hdr *h;
	const char *dkim[MAX_DKIM];
	struct welcome_auth a;
	char from[256], from_dom[DOMAIN_MAX + 1], *v;
	struct buf unverified = BUF_INIT;
	bool have_from = false;

	(void)state;
	if (s->eng->lists[LIST_WELCOME_AUTH] == NULL &&
	    s->eng->lists[LIST_DKIM_DOMAIN] == NULL)
		return;
	if (msg_header_count(m, "From") == 1 &&
	    (h = msg_header(m, "From", 0)) != NULL) {
		v = xstrndup(h->value, h->value_len);
		have_from = dnsbl_from_address(v, from, sizeof(from)) == 0 &&
		    alabel_of(from, from_dom);
		free(v);
	}
	gather(s, have_from ? from_dom : NULL, dkim, &a);
	/* one allowance at most; "unverified" only when none was given */
	if (candidate(s, "envelope sender", m->mail_from, &a,
	    &unverified) != 1 && (!have_from ||
	    candidate(s, "From", from, &a, &unverified) != 1) &&
	    unverified.len)
		scan_emit(s, "WELCOMELIST_AUTH_UNVERIFIED", "%s",
		    unverified.data);
	buf_release(&unverified);
	dkim_allowlist(s, &a);
}
