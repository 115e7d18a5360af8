/*
 * step_dnsbl.c - DNS blocklist lookups of the client and of URI domains
 *
 * DESCRIPTION
 *	At end of headers the client queries of every dnsbl zone are
 *	prefetched, so they run while the body arrives.  At end of message
 *	the registered domains of the URIs (MIME view) are collected, every
 *	uribl query is prefetched at once, and then each answer is read
 *	through dns_lookup() inside the message's DNS budget: the lookups of
 *	one message overlap instead of queueing.
 *
 *	Listings become the configured symbols (dnsbl.h).  Temporary
 *	failures and error answers never do: they set dns_degraded and are
 *	named in DNSBL_DEGRADED or DNSBL_ERROR (score 0), so a timeout is
 *	visible in the verdict log and not a silent miss.  Each lookup's
 *	outcome (not listed, listed, failed) is counted per zone for the
 *	metrics endpoint (metrics_dnsbl()).
 */
#include "config.h"

#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "buf.h"
#include "dkim.h"
#include "dns.h"
#include "dnsbl.h"
#include "engine.h"
#include "log.h"
#include "metrics.h"
#include "mime.h"
#include "msg.h"
#include "psl.h"
#include "punycode.h"
#include "scan.h"
#include "scan_steps.h"
#include "str.h"
#include "strmap.h"
#include "uri.h"

struct outcome {
	struct buf degraded;	/* "zone: timeout; ..." */
	struct buf errors;	/* "zone: answer 127.0.0.1; ..." */
	struct strmap *added;	/* symbols already added */
};

/*
 * degraded - an answer that could not be used: the verdict says so, and
 * so does the budget's failure count, from which the scan may derive
 * dns_degraded again at the end
 */
static void
degraded(struct scan *s)
{
	pthread_mutex_lock(&s->dns_budget.lock);
	s->dns_budget.failures++;
	pthread_mutex_unlock(&s->dns_budget.lock);
	s->verdict.dns_degraded = true;
}

/* each_client_query - fn for every client-address zone that applies */
static void
each_client_query(struct scan *s, void (*fn)(struct scan *,
    const struct dnsbl_zone *, const char *, void *), void *arg)
{
	const struct dnsbl *d = s->eng->dnsbl;
	struct buf name = BUF_INIT;
	size_t i;

	for (i = 0; i < d->nzones; i++) {
		if (d->zones[i].kind != DNSBL_K_CLIENT)
			continue;
		buf_reset(&name);
		if (dnsbl_client_name(&s->msg->client_addr, d->zones[i].zone,
		    &name) == 0)
			fn(s, &d->zones[i], name.data, arg);
	}
	buf_release(&name);
}

static void
prefetch_one(struct scan *s, const struct dnsbl_zone *z, const char *name,
    void *arg)
{
	dns_prefetch(s->eng->dns, name, DNS_T_A);
}

void *
step_dnsbl_begin(struct scan *s)
{
	if (s->eng->dnsbl && s->eng->dns)
		each_client_query(s, prefetch_one, NULL);
	return NULL;
}

static void
note(struct buf *b, const char *fmt, const char *zone, const char *what)
{
	if (b->len)
		buf_adds(b, "; ");
	buf_printf(b, fmt, zone, what);
}

/*
 * answer - map one lookup's answer for subject (IP or domain); idents,
 * for a dbl zone, the identities the subject stands for: only entries
 * about one of them count.  What the zone said, for the metrics.
 */
static enum metrics_dnsbl_outcome
answer(struct scan *s, const struct dnsbl_zone *z, const char *subject,
    unsigned idents, const struct dns_answer *a, struct outcome *o)
{
	const struct dnsbl *d = s->eng->dnsbl;
	char shown[NETADDR_STRLEN];
	uint64_t matched = 0;
	size_t i, k;

	if (a->status == DNS_NXDOMAIN || a->status == DNS_NODATA)
		return MD_NOT_LISTED;
	if (a->status != DNS_OK) {
		note(&o->degraded, "%s: %s", z->zone,
		    dns_status_name(a->status));
		return MD_FAILED;
	}
	for (i = 0; i < a->n; i++) {
		if (a->rrs[i].type != DNS_T_A)
			continue;
		if (dnsbl_classify(d, z, &a->rrs[i].addr, &matched) ==
		    DNSBL_ERROR) {
			netaddr_format(&a->rrs[i].addr, shown, sizeof(shown));
			note(&o->errors, "%s: answer %s is an error code, not "
			    "a listing", z->zone, shown);
			log_warn("dnsbl %s: answer %s for %s means the query "
			    "failed (refused or rewritten); ignored", z->zone,
			    shown, subject);
			return MD_FAILED;
		}
	}
	for (k = 0; k < z->n && k < 64; k++) {
		const struct dnsbl_entry *e = &z->v[k];

		if (!(matched & ((uint64_t)1 << k)) ||
		    (z->kind == DNSBL_K_DOMAIN && !(e->idents & idents)) ||
		    strmap_get(o->added, e->symbol))
			continue;
		strmap_put(o->added, e->symbol, (void *)1);
		scan_symbol(s, e->symbol, e->score, "%s listed in %s",
		    subject, z->zone);
		if (e->reject)
			verdict_force(&s->verdict, FORCE_POLICY_REJECT,
			    ACTION_REJECT, e->symbol, "%s is listed in %s",
			    subject, z->zone);
	}
	return matched ? MD_LISTED : MD_NOT_LISTED;
}

static void
lookup(struct scan *s, const struct dnsbl_zone *z, const char *name,
    const char *subject, unsigned idents, struct outcome *o)
{
	struct dns_answer *a;

	(void)dns_lookup(s->eng->dns, name, DNS_T_A, &s->dns_budget, &a);
	metrics_dnsbl(metrics_global(), dnsbl_zone_key(z), z->zone,
	    answer(s, z, subject, idents, a, o));
	dns_answer_free(a);
}

static void
lookup_client(struct scan *s, const struct dnsbl_zone *z, const char *name,
    void *arg)
{
	lookup(s, z, name, s->msg->client_ip, 0, arg);
}

/* one thing to look up in the URI lists */
struct subject {
	char	*shown;		/* registered domain or dotted quad */
	char	*prefix;	/* the query name before the zone */
	bool	 ip;		/* an IPv4 host: :ip zones only */
};

/* subject_of - what a URI host is looked up as; false to skip it */
static bool
subject_of(struct scan *s, const char *h, bool want_ip, struct buf *shown,
    struct buf *prefix, bool *ip)
{
	char reg[DOMAIN_MAX + 1];
	uint32_t a;
	bool plain;

	buf_reset(shown);
	buf_reset(prefix);
	if ((*ip = uri_host_ipv4(h, &a, &plain))) {
		struct netaddr na;

		memset(&na, 0, sizeof(na));
		na.family = AF_INET;
		na.a[0] = (uint8_t)(a >> 24);
		na.a[1] = (uint8_t)(a >> 16);
		na.a[2] = (uint8_t)(a >> 8);
		na.a[3] = (uint8_t)a;
		/* a private address names no site a list could know */
		if (!want_ip || !netaddr_is_public(&na))
			return false;
		buf_printf(shown, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255,
		    (a >> 8) & 255, a & 255);
		buf_printf(prefix, "%u.%u.%u.%u", a & 255, (a >> 8) & 255,
		    (a >> 16) & 255, a >> 24);
		return true;
	}
	if (dnsbl_domain(s->eng->psl, h, false, reg, sizeof(reg)) < 0)
		return false;
	buf_adds(shown, reg);
	buf_adds(prefix, reg);
	return true;
}

/*
 * uri_subjects - registered domains of the message's URIs and, when a
 * zone wants them, their IPv4 hosts; each once, at most max
 */
static struct subject *
uri_subjects(struct scan *s, size_t *n, size_t *total)
{
	const struct dnsbl *d = s->eng->dnsbl;
	const struct mime_msg *mm = scan_mime(s);
	struct strmap *seen = strmap_new();
	struct buf shown = BUF_INIT, prefix = BUF_INIT;
	struct subject *v = NULL;
	size_t i, max = d->max_uri_lookups;
	bool want_ip = false, ip;

	for (i = 0; i < d->nzones; i++)
		want_ip |= d->zones[i].kind == DNSBL_K_URI && d->zones[i].ip;
	*n = *total = 0;
	for (i = 0; i < mm->nuris; i++) {
		const char *h = mm->uris[i].host;

		if (h == NULL ||
		    !subject_of(s, h, want_ip, &shown, &prefix, &ip) ||
		    strmap_get(seen, shown.data))
			continue;
		strmap_put(seen, shown.data, (void *)1);
		(*total)++;
		if (*n >= max)
			continue;
		v = xreallocarray(v, *n + 1, sizeof(*v));
		v[*n].shown = xstrdup(shown.data);
		v[*n].prefix = xstrdup(prefix.data);
		v[*n].ip = ip;
		(*n)++;
	}
	strmap_free(seen, NULL);
	buf_release(&shown);
	buf_release(&prefix);
	return v;
}

static void
uri_lists(struct scan *s, struct outcome *o)
{
	const struct dnsbl *d = s->eng->dnsbl;
	struct buf name = BUF_INIT;
	struct subject *v;
	size_t n, total, i, k;
	int pass;

	if (!d->any_uri || s->eng->psl == NULL)
		return;
	v = uri_subjects(s, &n, &total);
	/* pass 0 starts every query, pass 1 collects the answers */
	for (pass = 0; pass < 2; pass++)
		for (i = 0; i < n; i++)
			for (k = 0; k < d->nzones; k++) {
				if (d->zones[k].kind != DNSBL_K_URI ||
				    (v[i].ip && !d->zones[k].ip))
					continue;
				buf_reset(&name);
				buf_printf(&name, "%s.%s", v[i].prefix,
				    d->zones[k].zone);
				if (pass == 0)
					dns_prefetch(s->eng->dns, name.data,
					    DNS_T_A);
				else
					lookup(s, &d->zones[k], name.data,
					    v[i].shown, 0, o);
			}
	if (total > n)
		scan_emit(s, "URIBL_LOOKUPS_CAPPED", "looked up %zu of "
		    "%zu URI hosts (uribl_max_lookups)", n, total);
	for (i = 0; i < n; i++) {
		free(v[i].shown);
		free(v[i].prefix);
	}
	free(v);
	buf_release(&name);
}

/* one query of a dbl zone */
struct dquery {
	const struct dnsbl_zone *z;
	char	*name;		/* the full query name */
	char	*shown;		/* the domain or address, for the detail */
	unsigned idents;	/* every identity it stands for */
};

struct dqueries {
	struct dquery *v;
	size_t	 n;
};

/* add_query - the query of identity id, or one more identity of it */
static void
add_query(struct dqueries *q, const struct dnsbl_zone *z, const char *name,
    const char *shown, unsigned id)
{
	size_t i;

	for (i = 0; i < q->n; i++)
		if (strcmp(q->v[i].name, name) == 0) {
			q->v[i].idents |= id;
			return;
		}
	q->v = xreallocarray(q->v, q->n + 1, sizeof(*q->v));
	q->v[q->n].z = z;
	q->v[q->n].name = xstrdup(name);
	q->v[q->n].shown = xstrdup(shown);
	q->v[q->n++].idents = id;
}

/* ask - the query of subject (a host name or, hashed, an address) */
static void
ask(struct scan *s, struct dqueries *q, const struct dnsbl_zone *z,
    unsigned id, const char *subject)
{
	char dom[DOMAIN_MAX + 1];
	struct buf name = BUF_INIT;

	if (subject == NULL || !(z->idents & id))
		return;
	if (z->hashed) {
		if (dnsbl_hash_name(subject, z->zone, &name) == 0)
			add_query(q, z, name.data, subject, id);
	} else if (dnsbl_domain(s->eng->psl, subject, z->full, dom,
	    sizeof(dom)) == 0) {
		buf_printf(&name, "%s.%s", dom, z->zone);
		if (dns_name_valid(name.data))
			add_query(q, z, name.data, dom, id);
	}
	buf_release(&name);
}

/* domain_of - the part after the last '@', or NULL */
static const char *
domain_of(const char *address)
{
	const char *at = address ? strrchr(address, '@') : NULL;

	return at && at[1] ? at + 1 : NULL;
}

/* zone_queries - every query of dbl zone z for this message */
static void
zone_queries(struct scan *s, const struct dnsbl_zone *z,
    const char *from, struct dqueries *q)
{
	const struct msg *m = s->msg;
	const struct dkim_sigresult *r;
	size_t i, n;

	ask(s, q, z, DNSBL_ID_ENVFROM, z->hashed ? m->mail_from :
	    domain_of(m->mail_from));
	ask(s, q, z, DNSBL_ID_FROM, z->hashed ? from : domain_of(from));
	ask(s, q, z, DNSBL_ID_HELO, m->helo);
	/* the MTA names an unverified client "unknown" */
	if (m->client_name && !str_ieq(m->client_name, "unknown"))
		ask(s, q, z, DNSBL_ID_RDNS, m->client_name);
	n = s->dkim ? dkim_scan_results(s, &r) : 0;
	for (i = 0; i < n; i++)
		if (r[i].result == DKIM_PASS)
			ask(s, q, z, DNSBL_ID_DKIM, r[i].domain);
}

/* from_address - the address of the only From field, or false */
static bool
from_address(const struct scan *s, char *out, size_t outsz)
{
	const struct hdr *h;
	char *v;
	int rc;

	if (msg_header_count(s->msg, "From") != 1 ||
	    (h = msg_header(s->msg, "From", 0)) == NULL)
		return false;
	v = xstrndup(h->value, h->value_len);
	rc = dnsbl_from_address(v, out, outsz);
	free(v);
	return rc == 0;
}

static void
domain_lists(struct scan *s, struct outcome *o)
{
	const struct dnsbl *d = s->eng->dnsbl;
	struct dqueries q = { NULL, 0 };
	struct buf shown = BUF_INIT;
	char from[256];
	bool have_from;
	size_t i, k;
	int pass;

	if (!d->any_domain || s->eng->psl == NULL)
		return;
	have_from = from_address(s, from, sizeof(from));
	for (k = 0; k < d->nzones; k++)
		if (d->zones[k].kind == DNSBL_K_DOMAIN)
			zone_queries(s, &d->zones[k], have_from ? from : NULL,
			    &q);
	for (pass = 0; pass < 2; pass++)
		for (i = 0; i < q.n; i++) {
			if (pass == 0)
				dns_prefetch(s->eng->dns, q.v[i].name,
				    DNS_T_A);
			else {
				/* "example.com (envfrom, helo)" */
				buf_reset(&shown);
				buf_printf(&shown, "%s (", q.v[i].shown);
				dnsbl_idents_format(q.v[i].idents, &shown);
				buf_adds(&shown, ")");
				lookup(s, q.v[i].z, q.v[i].name, shown.data,
				    q.v[i].idents, o);
			}
		}
	buf_release(&shown);
	for (i = 0; i < q.n; i++) {
		free(q.v[i].name);
		free(q.v[i].shown);
	}
	free(q.v);
}

void
step_dnsbl_end(struct scan *s, void *state)
{
	const struct dnsbl *d = s->eng->dnsbl;
	struct outcome o;

	if (d == NULL || d->nzones == 0)
		return;
	if (s->eng->dns == NULL) {
		scan_emit(s, "DNSBL_DEGRADED", "no DNS resolver: "
		    "blocklists not queried");
		degraded(s);
		return;
	}
	memset(&o, 0, sizeof(o));
	o.added = strmap_new();
	each_client_query(s, lookup_client, &o);
	uri_lists(s, &o);
	domain_lists(s, &o);
	if (o.degraded.len) {
		scan_emit(s, "DNSBL_DEGRADED", "%s", o.degraded.data);
		s->verdict.dns_degraded = true;
	}
	if (o.errors.len) {
		scan_emit(s, "DNSBL_ERROR", "%s", o.errors.data);
		degraded(s);
	}
	strmap_free(o.added, NULL);
	buf_release(&o.degraded);
	buf_release(&o.errors);
}
