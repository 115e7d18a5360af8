/*
 * dnsbl.c - DNS blocklist configuration, query names, answer mapping
 *
 * DESCRIPTION
 *	The pure part of the blocklists (see dnsbl.h): parsing the entries
 *	of the configuration, building query names, and classifying one A
 *	record of an answer.  The lookups themselves are step_dnsbl.c's.
 *
 * STANDARDS
 *	RFC 5782 (DNS blacklists and whitelists: query names, 127.0.0.2 test
 *	point, IPv6 nibble form).
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "buf.h"
#include "conf.h"
#include "dns.h"
#include "dnsbl.h"
#include "str.h"

#define MAX_ENTRY	512

static bool
symbol_ok(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > 64)
		return false;
	for (i = 0; i < n; i++)
		if (!ch_is_alnum((unsigned char)s[i]) && s[i] != '_')
			return false;
	return true;
}

static int
v4(const char *s, uint32_t *out)
{
	struct in_addr a;

	if (inet_pton(AF_INET, s, &a) != 1)
		return -1;
	*out = ntohl(a.s_addr);
	return 0;
}

/* parse_result - RESULT of an entry into e */
static int
parse_result(const char *r, struct dnsbl_entry *e, struct buf *why)
{
	char a[64], *dash;
	uint64_t m;

	if (strlen(r) >= sizeof(a))
		goto bad;
	memcpy(a, r, strlen(r) + 1);
	if (strcmp(a, "*") == 0) {
		e->match = DNSBL_M_ANY;
		return 0;
	}
	if (a[0] == '&') {
		if (parse_uint(a + 1, 1, 255, &m) < 0 &&
		    !(a[1] == '0' && (a[2] == 'x' || a[2] == 'X') &&
		    (m = strtoul(a + 3, NULL, 16)) >= 1 && m <= 255 &&
		    strspn(a + 3, "0123456789abcdefABCDEF") == strlen(a + 3)))
			goto bad;
		e->match = DNSBL_M_MASK;
		e->mask = (uint8_t)m;
		return 0;
	}
	if (strchr(a, '/')) {
		if (cidr_parse(a, &e->cidr) < 0 || e->cidr.addr.family != AF_INET)
			goto bad;
		e->match = DNSBL_M_CIDR;
		return 0;
	}
	e->match = DNSBL_M_RANGE;
	if ((dash = strchr(a, '-')) != NULL) {
		*dash = '\0';
		if (v4(a, &e->lo) < 0 || v4(dash + 1, &e->hi) < 0 ||
		    e->hi < e->lo)
			goto bad;
		return 0;
	}
	if (v4(a, &e->lo) < 0)
		goto bad;
	e->hi = e->lo;
	return 0;
bad:
	buf_printf(why, "bad result '%.64s': expected an IPv4 address, a "
	    "range A-B, a CIDR block, &MASK or *", r);
	return -1;
}

/*
 * parse_entry - "ZONE/RESULT=SYMBOL:SCORE[:reject][:ip]"; zone and entry
 * out.  The ip flag (query URI hosts that are IP addresses too) belongs
 * to URI lists only.
 */
static int
parse_entry(const char *s, bool uri, char **zone, struct dnsbl_entry *e,
    struct buf *why)
{
	char t[MAX_ENTRY], *slash, *eq, *c1, *f, *next;

	memset(e, 0, sizeof(*e));
	if (strlen(s) >= sizeof(t)) {
		buf_adds(why, "entry too long");
		return -1;
	}
	memcpy(t, s, strlen(s) + 1);
	if ((slash = strchr(t, '/')) == NULL ||
	    (eq = strchr(slash, '=')) == NULL) {
		buf_printf(why, "expected ZONE/RESULT=SYMBOL:SCORE[:reject]%s",
		    uri ? "[:ip]" : "");
		return -1;
	}
	*slash = *eq = '\0';
	/* a CIDR result holds a '/': the zone ends at the first one */
	if (t[0] == '\0' || !dns_name_valid(t) || strchr(t, '.') == NULL) {
		buf_printf(why, "bad zone name '%.64s'", t);
		return -1;
	}
	if (parse_result(slash + 1, e, why) < 0)
		return -1;
	if ((c1 = strchr(eq + 1, ':')) == NULL) {
		buf_adds(why, "missing :SCORE");
		return -1;
	}
	*c1 = '\0';
	if ((next = strchr(c1 + 1, ':')) != NULL)
		*next++ = '\0';
	while ((f = next) != NULL) {
		if ((next = strchr(f, ':')) != NULL)
			*next++ = '\0';
		if (strcmp(f, "reject") == 0)
			e->reject = true;
		else if (uri && strcmp(f, "ip") == 0)
			e->ip = true;
		else {
			buf_printf(why, "unknown flag '%.32s' (%s)", f,
			    uri ? "reject or ip" : "only reject");
			return -1;
		}
	}
	if (!symbol_ok(eq + 1, strlen(eq + 1))) {
		buf_printf(why, "bad symbol name '%.64s'", eq + 1);
		return -1;
	}
	if (parse_double(c1 + 1, -1000, 1000, &e->score) < 0) {
		buf_printf(why, "bad score '%.32s'", c1 + 1);
		return -1;
	}
	e->symbol = xstrdup(eq + 1);
	*zone = xstrdup(t);
	str_lower(*zone);
	return 0;
}

static int
check_entry(const char *s, bool uri, struct buf *why)
{
	struct dnsbl_entry e;
	char *zone = NULL;
	int rc = parse_entry(s, uri, &zone, &e, why);

	free(zone);
	free(e.symbol);
	return rc;
}

int
dnsbl_check_entry(const char *s, struct buf *why)
{
	return check_entry(s, false, why);
}

int
dnsbl_check_uri_entry(const char *s, struct buf *why)
{
	return check_entry(s, true, why);
}

static int
add_entries(struct dnsbl *d, const struct strlist *l, bool uri,
    struct buf *why)
{
	struct dnsbl_entry e;
	struct dnsbl_zone *z;
	char *zone;
	size_t i, k;

	for (i = 0; i < l->n; i++) {
		if (parse_entry(l->v[i], uri, &zone, &e, why) < 0)
			return -1;
		for (k = 0; k < d->nzones; k++)
			if (d->zones[k].uri == uri &&
			    strcmp(d->zones[k].zone, zone) == 0)
				break;
		if (k == d->nzones) {
			d->zones = xreallocarray(d->zones, d->nzones + 1,
			    sizeof(*d->zones));
			z = &d->zones[d->nzones++];
			memset(z, 0, sizeof(*z));
			z->zone = zone;
			z->uri = uri;
		} else {
			z = &d->zones[k];
			free(zone);
		}
		if (z->n == 64) {
			buf_printf(why, "%s: more than 64 entries", z->zone);
			free(e.symbol);
			return -1;
		}
		z->v = xreallocarray(z->v, z->n + 1, sizeof(*z->v));
		z->v[z->n++] = e;
		if (uri)
			d->any_uri = true;
		if (e.ip)
			z->ip = true;
	}
	return 0;
}

int
dnsbl_new(const struct conf *c, struct dnsbl **out, struct buf *why)
{
	struct dnsbl *d = xcalloc(1, sizeof(*d));
	size_t i;

	d->max_uri_lookups = (unsigned)c->uribl_max_lookups;
	if (add_entries(d, &c->dnsbl, false, why) < 0 ||
	    add_entries(d, &c->uribl, true, why) < 0)
		goto fail;
	d->refused = xcalloc(c->dnsbl_refused.n ? c->dnsbl_refused.n : 1,
	    sizeof(*d->refused));
	for (i = 0; i < c->dnsbl_refused.n; i++)
		if (cidr_parse(c->dnsbl_refused.v[i],
		    &d->refused[d->nrefused++]) < 0) {
			buf_printf(why, "dnsbl_refused: bad address '%s'",
			    c->dnsbl_refused.v[i]);
			goto fail;
		}
	*out = d;
	return 0;
fail:
	dnsbl_free(d);
	*out = NULL;
	return -1;
}

void
dnsbl_free(struct dnsbl *d)
{
	size_t i, k;

	if (d == NULL)
		return;
	for (i = 0; i < d->nzones; i++) {
		for (k = 0; k < d->zones[i].n; k++)
			free(d->zones[i].v[k].symbol);
		free(d->zones[i].v);
		free(d->zones[i].zone);
	}
	free(d->zones);
	free(d->refused);
	free(d);
}

int
dnsbl_client_name(const struct netaddr *a, const char *zone, struct buf *out)
{
	static const char hex[] = "0123456789abcdef";
	int i;

	if (!netaddr_is_public(a))
		return -1;
	if (a->family == AF_INET)
		buf_printf(out, "%u.%u.%u.%u.%s", a->a[3], a->a[2], a->a[1],
		    a->a[0], zone);
	else {
		for (i = 15; i >= 0; i--)
			buf_printf(out, "%c.%c.", hex[a->a[i] & 0xf],
			    hex[a->a[i] >> 4]);
		buf_adds(out, zone);
	}
	return 0;
}

enum dnsbl_verdict
dnsbl_classify(const struct dnsbl *d, const struct dnsbl_zone *z,
    const struct netaddr *a, uint64_t *matched)
{
	struct cidr loop;
	uint32_t v;
	size_t i;
	bool hit = false;

	if (a->family != AF_INET)
		return DNSBL_ERROR;
	(void)cidr_parse("127.0.0.0/8", &loop);
	if (!cidr_match(&loop, a))
		return DNSBL_ERROR;
	for (i = 0; i < d->nrefused; i++)
		if (cidr_match(&d->refused[i], a))
			return DNSBL_ERROR;
	v = (uint32_t)a->a[0] << 24 | (uint32_t)a->a[1] << 16 |
	    (uint32_t)a->a[2] << 8 | a->a[3];
	for (i = 0; i < z->n && i < 64; i++) {
		const struct dnsbl_entry *e = &z->v[i];
		bool m = false;

		switch (e->match) {
		case DNSBL_M_ANY: m = true; break;
		case DNSBL_M_RANGE: m = v >= e->lo && v <= e->hi; break;
		case DNSBL_M_CIDR: m = cidr_match(&e->cidr, a); break;
		case DNSBL_M_MASK: m = (a->a[3] & e->mask) != 0; break;
		}
		if (m) {
			*matched |= (uint64_t)1 << i;
			hit = true;
		}
	}
	return hit ? DNSBL_LISTED : DNSBL_NOT_LISTED;
}
