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

#include <openssl/evp.h>

#include "buf.h"
#include "conf.h"
#include "dns.h"
#include "dnsbl.h"
#include "psl.h"
#include "punycode.h"
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

/* parse_pattern - "127.0.*.2": four octets, each a number or '*' */
static int
parse_pattern(const char *a, struct dnsbl_entry *e)
{
	const char *p = a;
	uint64_t v;
	char oct[4];
	size_t n;
	int i;

	e->lo = e->hi = 0;
	for (i = 0; i < 4; i++) {
		n = strcspn(p, ".");
		if (n == 0 || n >= sizeof(oct) || (i < 3) != (p[n] == '.'))
			return -1;
		memcpy(oct, p, n);
		oct[n] = '\0';
		e->lo <<= 8;
		e->hi <<= 8;
		if (strcmp(oct, "*") != 0) {
			if (parse_uint(oct, 0, 255, &v) < 0)
				return -1;
			e->lo |= (uint32_t)v;
			e->hi |= 0xff;
		}
		p += n + (i < 3);
	}
	e->match = DNSBL_M_PATTERN;
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
	if (strchr(a, '*')) {
		if (parse_pattern(a, e) < 0)
			goto bad;
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
	    "range A-B, a CIDR block, &MASK, a pattern like 127.0.*.2 or *",
	    r);
	return -1;
}

/* the configuration key an entry comes from */
enum entry_key {
	KEY_DNSBL,
	KEY_DNSWL,
	KEY_URIBL,
	KEY_DBL
};

static const char *const key_flags[] = {
	"only reject", "none", "reject or ip",
	"reject, envfrom, from, helo, rdns, dkim, full or hashed"
};

static const char *const ident_names[DNSBL_NIDS] = {
	"envfrom", "from", "helo", "rdns", "dkim"
};

const char *
dnsbl_zone_key(const struct dnsbl_zone *z)
{
	switch (z->kind) {
	case DNSBL_K_URI: return "uribl";
	case DNSBL_K_DOMAIN: return "dbl";
	case DNSBL_K_CLIENT: break;
	}
	return z->allow ? "dnswl" : "dnsbl";
}

const char *
dnsbl_zone_what(const struct dnsbl_zone *z)
{
	switch (z->kind) {
	case DNSBL_K_URI: return "a URI domain listed in ";
	case DNSBL_K_DOMAIN: return "a sender domain or address listed in ";
	case DNSBL_K_CLIENT: break;
	}
	return z->allow ? "the client address allowlisted in " :
	    "the client address listed in ";
}

void
dnsbl_idents_format(unsigned idents, struct buf *out)
{
	const char *sep = "";
	int i;

	for (i = 0; i < DNSBL_NIDS; i++)
		if (idents & (1u << i)) {
			buf_printf(out, "%s%s", sep, ident_names[i]);
			sep = ", ";
		}
}

/* parse_flag - one :FLAG of an entry of key k; false if not allowed */
static bool
parse_flag(const char *f, enum entry_key k, struct dnsbl_entry *e)
{
	int i;

	if (strcmp(f, "reject") == 0 && k != KEY_DNSWL)
		return e->reject = true;
	if (strcmp(f, "ip") == 0 && k == KEY_URIBL)
		return e->ip = true;
	if (k != KEY_DBL)
		return false;
	if (strcmp(f, "full") == 0)
		return e->full = true;
	if (strcmp(f, "hashed") == 0)
		return e->hashed = true;
	for (i = 0; i < DNSBL_NIDS; i++)
		if (strcmp(f, ident_names[i]) == 0) {
			e->idents |= 1u << i;
			return true;
		}
	return false;
}

/* check_domain_flags - the identities of a dbl entry make sense */
static int
check_domain_flags(const char *s, const struct dnsbl_entry *e,
    struct buf *why)
{
	if (e->idents == 0) {
		buf_adds(why, "name the identities to look up (:envfrom "
		    ":from :helo :rdns :dkim)");
		return -1;
	}
	if (e->hashed && e->full) {
		buf_adds(why, ":hashed and :full exclude each other");
		return -1;
	}
	if (e->hashed && (e->idents & ~(DNSBL_ID_ENVFROM | DNSBL_ID_FROM))) {
		buf_adds(why, "a :hashed zone is asked about addresses: "
		    "only :envfrom and :from");
		return -1;
	}
	return 0;
}

/*
 * parse_entry - "ZONE/RESULT=SYMBOL:SCORE[:FLAG]..."; zone and entry
 * out.  Which flags exist depends on the key (key_flags).
 */
static int
parse_entry(const char *s, enum entry_key k, char **zone,
    struct dnsbl_entry *e, struct buf *why)
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
		buf_printf(why, "expected ZONE/RESULT=SYMBOL:SCORE[:FLAG]... "
		    "(flags: %s)", key_flags[k]);
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
		if (!parse_flag(f, k, e)) {
			buf_printf(why, "unknown flag '%.32s' (%s)", f,
			    key_flags[k]);
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
	if (k == KEY_DNSWL && e->score > 0) {
		buf_printf(why, "an allowlist score must not be positive "
		    "('%.32s')", c1 + 1);
		return -1;
	}
	if (k == KEY_DBL && check_domain_flags(s, e, why) < 0)
		return -1;
	e->symbol = xstrdup(eq + 1);
	*zone = xstrdup(t);
	str_lower(*zone);
	return 0;
}

static int
check_entry(const char *s, enum entry_key k, struct buf *why)
{
	struct dnsbl_entry e;
	char *zone = NULL;
	int rc = parse_entry(s, k, &zone, &e, why);

	free(zone);
	free(e.symbol);
	return rc;
}

int
dnsbl_check_entry(const char *s, struct buf *why)
{
	return check_entry(s, KEY_DNSBL, why);
}

int
dnsbl_check_allow_entry(const char *s, struct buf *why)
{
	return check_entry(s, KEY_DNSWL, why);
}

int
dnsbl_check_uri_entry(const char *s, struct buf *why)
{
	return check_entry(s, KEY_URIBL, why);
}

int
dnsbl_check_domain_entry(const char *s, struct buf *why)
{
	return check_entry(s, KEY_DBL, why);
}

static const enum dnsbl_kind key_kind[] = {
	DNSBL_K_CLIENT, DNSBL_K_CLIENT, DNSBL_K_URI, DNSBL_K_DOMAIN
};

/* zone_for - the zone of name and key k, added when new */
static struct dnsbl_zone *
zone_for(struct dnsbl *d, char *zone, enum entry_key k,
    const struct dnsbl_entry *e, struct buf *why)
{
	struct dnsbl_zone *z;
	size_t i;

	for (i = 0; i < d->nzones; i++) {
		z = &d->zones[i];
		if (strcmp(z->zone, zone) != 0 || z->kind != key_kind[k])
			continue;
		free(zone);
		if (z->allow != (k == KEY_DNSWL)) {
			buf_printf(why, "%s: in both dnsbl and dnswl", z->zone);
			return NULL;
		}
		if (z->full != e->full || z->hashed != e->hashed) {
			buf_printf(why, "%s: every entry of a zone has the same "
			    ":full and :hashed flags", z->zone);
			return NULL;
		}
		return z;
	}
	d->zones = xreallocarray(d->zones, d->nzones + 1, sizeof(*d->zones));
	z = &d->zones[d->nzones++];
	memset(z, 0, sizeof(*z));
	z->zone = zone;
	z->kind = key_kind[k];
	z->allow = k == KEY_DNSWL;
	z->full = e->full;
	z->hashed = e->hashed;
	return z;
}

static int
add_entries(struct dnsbl *d, const struct strlist *l, enum entry_key k,
    struct buf *why)
{
	struct dnsbl_entry e;
	struct dnsbl_zone *z;
	char *zone;
	size_t i;

	for (i = 0; i < l->n; i++) {
		if (parse_entry(l->v[i], k, &zone, &e, why) < 0)
			return -1;
		if ((z = zone_for(d, zone, k, &e, why)) == NULL ||
		    z->n == 64) {
			if (z != NULL)
				buf_printf(why, "%s: more than 64 entries",
				    z->zone);
			free(e.symbol);
			return -1;
		}
		z->v = xreallocarray(z->v, z->n + 1, sizeof(*z->v));
		z->v[z->n++] = e;
		z->idents |= e.idents;
		d->any_uri |= k == KEY_URIBL;
		d->any_domain |= k == KEY_DBL;
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
	if (add_entries(d, &c->dnsbl, KEY_DNSBL, why) < 0 ||
	    add_entries(d, &c->dnswl, KEY_DNSWL, why) < 0 ||
	    add_entries(d, &c->uribl, KEY_URIBL, why) < 0 ||
	    add_entries(d, &c->dbl, KEY_DBL, why) < 0)
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

/* ip_literal - "[192.0.2.1]", "192.0.2.1", "2001:db8::1", "1.2.3" */
static bool
ip_literal(const char *h)
{
	struct netaddr a;

	return h[0] == '[' || strchr(h, ':') != NULL ||
	    netaddr_parse(h, &a) == 0 || strspn(h, "0123456789.") == strlen(h);
}

int
dnsbl_domain(const struct psl *psl, const char *h, bool full, char *out,
    size_t outsz)
{
	char alabel[DOMAIN_MAX + 1], reg[DOMAIN_MAX + 1];

	if (h == NULL || h[0] == '\0' || ip_literal(h) ||
	    domain_to_alabel(h, strlen(h), alabel, sizeof(alabel)) < 0 ||
	    psl_registrable(psl, alabel, reg, sizeof(reg)) < 0 ||
	    strlen(alabel) >= outsz)
		return -1;
	memcpy(out, full ? alabel : reg, strlen(full ? alabel : reg) + 1);
	return 0;
}

int
dnsbl_from_address(const char *v, char *out, size_t outsz)
{
	const char *lt = strrchr(v, '<'), *p, *e;
	const char *at;
	size_t n, i;

	if (lt != NULL && (e = strchr(lt, '>')) != NULL)
		p = lt + 1;
	else {
		p = v + strspn(v, " \t\r\n");
		e = p + strcspn(p, " \t\r\n(");
	}
	n = (size_t)(e - p);
	if (n == 0 || n >= outsz || memchr(p, '<', n) != NULL)
		return -1;
	memcpy(out, p, n);
	out[n] = '\0';
	if ((at = strchr(out, '@')) == NULL || at == out || at[1] == '\0' ||
	    strchr(at + 1, '@') != NULL || strpbrk(out, "\"(),;:<>[]\\") != NULL)
		return -1;
	/* no controls or spaces: the address reaches logs and queries */
	for (i = 0; i < n; i++)
		if ((unsigned char)out[i] <= 0x20 || out[i] == 0x7f)
			return -1;
	return 0;
}

int
dnsbl_hash_name(const char *address, const char *zone, struct buf *out)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	char low[256];
	unsigned mdlen = 0, i;
	size_t n = strlen(address);

	if (n == 0 || n > 254 || strchr(address, '@') == NULL ||
	    address[0] == '@' || address[n - 1] == '@')
		return -1;
	memcpy(low, address, n + 1);
	str_lower(low);
	if (EVP_Digest(low, n, md, &mdlen, EVP_sha1(), NULL) != 1)
		return -1;
	for (i = 0; i < mdlen; i++)
		buf_printf(out, "%c%c", hex[md[i] >> 4], hex[md[i] & 0xf]);
	buf_printf(out, ".%s", zone);
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
	/* DNSWL's "query refused": no trust level ends in 255 */
	if (z->allow && v == 0x7f0000ff)
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
		case DNSBL_M_PATTERN: m = (v & e->hi) == e->lo; break;
		}
		if (m) {
			*matched |= (uint64_t)1 << i;
			hit = true;
		}
	}
	return hit ? DNSBL_LISTED : DNSBL_NOT_LISTED;
}
