/*
 * saeval_relay.c - SpamAssassin's relay eval: tests (RelayEval and the
 *	Received checks of WLBLEval)
 *
 * DESCRIPTION
 *	The relay family (see saeval.h) reads the untrusted relays of
 *	relays.h (the SMTP client first, then the Received hops), the
 *	count of trusted hops (private hops of a stored message) and of
 *	Received fields naming no relay:
 *
 *	check_all_trusted()         trusted hops only (ALL_TRUSTED)
 *	check_no_relays()           no relay at all
 *	check_relays_unparseable()  a Received field naming no relay
 *	check_for_numeric_helo()    a relay HELO'd with a public IPv4
 *	helo_ip_mismatch()          a relay HELO'd with a public IPv4 of
 *	                            another /24 than its own
 *	check_for_no_rdns_dotcom_helo()  a relay without reverse DNS
 *	                            HELO'd as a big mail provider
 *	check_for_sender_no_reverse()  the first hop has a dotted name
 *	check_for_forged_received_trail()  the "from" name of a hop is
 *	                            not the "by" name of the next, twice
 *	check_for_forged_received_ip_helo()  a hop HELO'd with an IPv4 of
 *	                            another /16 than its own
 *	check_mailfrom_matches_rcvd()  the envelope sender's domain is the
 *	                            first untrusted relay's (registrable
 *	                            domain of its reverse DNS)
 *
 * SECURITY
 *	Relay fields are capped and stripped by relays.c.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "relays.h"
#include "saeval.h"
#include "saeval_int.h"
#include "str.h"

static bool
is_ipv4(const char *s)
{
	static struct sae_rx rx = { "^(?:(?:1\\d\\d|2[0-4]\\d|25[0-5]|[1-9]\\d|"
	    "\\d)\\.){3}(?:1\\d\\d|2[0-4]\\d|25[0-5]|[1-9]\\d|\\d)$", 0, NULL };

	return sae_rx_match(&rx, s, strlen(s), NULL);
}

/* prefix_eq - the first n dot-separated octets of two IPv4 are equal */
static bool
prefix_eq(const char *a, const char *b, int n)
{
	int dots = 0;

	for (; *a && *a == *b; a++, b++)
		if (*a == '.' && ++dots == n)
			return true;
	return false;
}

static unsigned
all_trusted(struct saeval_in *in, const struct saeval_args *a,
    const void *p, struct buf *d)
{
	size_t n, tr, un;

	(void)a;
	(void)p;
	(void)saeval_relays(in, &n);
	saeval_relays_counts(in, &tr, &un);
	if (d)
		buf_printf(d, "%zu trusted, %zu untrusted, %zu unparsed", tr,
		    n, un);
	return tr > 0 && n == 0 && un == 0;
}

static unsigned
no_relays(struct saeval_in *in, const struct saeval_args *a,
    const void *p, struct buf *d)
{
	size_t n, tr, un;

	(void)a;
	(void)p;
	(void)d;
	(void)saeval_relays(in, &n);
	saeval_relays_counts(in, &tr, &un);
	return tr == 0 && n == 0 && un == 0;
}

/*
 * not_a_handover - a Received field SpamAssassin reads as no relay at
 * all (not "from", local delivery, "from X by Y;" without an address)
 * rather than as a relay it cannot parse
 */
static bool
not_a_handover(const char *v)
{
	static struct sae_rx skip[] = {
		{ "^\\(?from ", PCRE2_CASELESS, NULL },	/* negated below */
		{ "\\bwith local(?:-\\S+)?\\b", 0, NULL },
		{ "^from (?!\\[[\\d.]+\\])\\S+ by [^\\s;]+ ?;", PCRE2_CASELESS,
		  NULL },
		{ "^from \\S+ by \\S+ (?:with|via|for|\\()", 0, NULL },
		{ "^from \\S+ (?:(?:with|via|for) \\S+|\\(unverified\\)) by\\b",
		  0, NULL },
		{ "^from \\S+\\@\\S+ by ", 0, NULL },
		{ "^from \\S+ \\((?:\\S+\\@)?(?:localhost|127\\.0\\.0\\.1)"
		  "[\\)\\[]", 0, NULL },
		{ "^from \\S+ id \\S+$", 0, NULL },
		{ "^from localhost ", 0, NULL },
		{ "^from mail pickup service by ", 0, NULL },
		{ "^\\(from \\S+\\@(?:localhost|\\S+)\\) by ", 0, NULL },
	};
	static struct sae_rx ip = { "\\b(?:\\d{1,3}\\.){3}\\d{1,3}\\b", 0,
	    NULL };
	struct buf b = BUF_INIT;
	bool r = false;
	size_t i;

	buf_adds(&b, v);
	sae_squeeze_ws(&b);
	/* an address SpamAssassin's longer parser finds (qmail, ...) */
	if (!sae_rx_buf(&skip[0], &b) || sae_rx_buf(&ip, &b))
		r = true;
	for (i = 1; !r && i < SAEVAL_NELEM(skip); i++)
		r = sae_rx_buf(&skip[i], &b);
	buf_release(&b);
	return r;
}

static unsigned
unparseable(struct saeval_in *in, const struct saeval_args *a,
    const void *p, struct buf *d)
{
	struct relay r;
	const char *v;
	size_t k;

	(void)a;
	(void)p;
	for (k = 0; (v = sae_field_raw(in, "Received", k)) != NULL; k++)
		if (!relay_parse_received(v, &r) && !not_a_handover(v)) {
			if (d)
				buf_printf(d, "Received field %zu", k + 1);
			return 1;
		}
	return 0;
}

static unsigned
numeric_helo(struct saeval_in *in, const struct saeval_args *a,
    const void *p, struct buf *d)
{
	size_t n, i;
	const struct relay *r = saeval_relays(in, &n);

	(void)a;
	(void)p;
	(void)d;
	for (i = 0; i < n; i++)
		if (is_ipv4(r[i].helo) && !relay_ip_private(r[i].helo))
			return 1;
	return 0;
}

static unsigned
helo_ip_mismatch(struct saeval_in *in, const struct saeval_args *a,
    const void *p, struct buf *d)
{
	size_t n, i;
	const struct relay *r = saeval_relays(in, &n);

	(void)a;
	(void)p;
	(void)d;
	for (i = 0; i < n; i++) {
		if (!is_ipv4(r[i].helo) || relay_ip_private(r[i].helo))
			continue;
		if (is_ipv4(r[i].ip) && !relay_ip_private(r[i].ip) &&
		    strcmp(r[i].helo, r[i].ip) != 0 &&
		    !prefix_eq(r[i].helo, r[i].ip, 3))
			return 1;
	}
	return 0;
}

static unsigned
no_rdns_dotcom_helo(struct saeval_in *in, const struct saeval_args *a,
    const void *p, struct buf *d)
{
	static struct sae_rx rx = { "(?:\\.|^)(?:lycos\\.com|lycos\\.co\\.uk|"
	    "hotmail\\.com|localhost\\.com|excite\\.com|caramail\\.com|cs\\.com|"
	    "aol\\.com|msn\\.com|yahoo\\.com|drizzle\\.com)$", PCRE2_CASELESS,
	    NULL };
	size_t n, i;
	const struct relay *r = saeval_relays(in, &n);
	unsigned hit = 0;

	(void)a;
	(void)p;
	(void)d;
	/* as SpamAssassin: the last public relay with a HELO decides */
	for (i = 0; i < n; i++) {
		if (relay_ip_private(r[i].ip))
			continue;
		hit = r[i].rdns[0] == '\0' && r[i].looked_up &&
		    sae_rx_match(&rx, r[i].helo,
		    strlen(r[i].helo), NULL);
	}
	return hit;
}

static unsigned
sender_no_reverse(struct saeval_in *in, const struct saeval_args *a,
    const void *p, struct buf *d)
{
	size_t n;
	const struct relay *r = saeval_relays(in, &n);

	(void)a;
	(void)p;
	(void)d;
	return n > 0 && strchr(r[n - 1].rdns, '.') != NULL &&
	    !relay_ip_private(r[n - 1].ip);
}

/* host_domain - SpamAssassin's hostname_to_domain, lower case */
static void
host_domain(const char *h, char *out, size_t cap)
{
	const char *dots[3] = { NULL, NULL, NULL }, *p, *last;
	bool alpha = false;
	size_t nd = 0;

	for (p = h; *p; p++) {
		if (ch_is_alpha((unsigned char)*p))
			alpha = true;
		if (*p == '.') {
			dots[2] = dots[1];
			dots[1] = dots[0];
			dots[0] = p;
			nd++;
		}
	}
	p = h;
	if (alpha && nd >= 1) {
		last = dots[0] + 1;
		if (strlen(last) >= 3 || strcmp(last, "ie") == 0 ||
		    strcmp(last, "fr") == 0 || strcmp(last, "de") == 0)
			p = dots[1] ? dots[1] + 1 : h;
		else if (nd >= 2)
			p = dots[2] ? dots[2] + 1 : h;
	}
	snprintf(out, cap, "%s", p);
	str_lower(out);
}

static bool
dotted_host(const char *s)
{
	static struct sae_rx rx = { "^\\w+(?:[\\w.-]+\\.)+\\w+$", 0, NULL };

	return sae_rx_match(&rx, s, strlen(s), NULL);
}

struct forged {
	unsigned from;		/* mismatch_from */
	unsigned ip_helo;	/* mismatch_ip_helo */
};

static void *
make_forged(struct saeval_in *in)
{
	struct forged *f = xcalloc(1, sizeof(*f));
	size_t n, i;
	const struct relay *r = saeval_relays(in, &n);
	char by[256], from[256], prev[256], helo[256];
	bool have_prev = false;

	for (i = 0; i < n; i++) {
		host_domain(r[i].by, by, sizeof(by));
		host_domain(r[i].rdns, from, sizeof(from));
		host_domain(r[i].helo, helo, sizeof(helo));
		if (!dotted_host(by))
			goto next;
		if (is_ipv4(helo) && is_ipv4(r[i].ip) &&
		    strcmp(helo, r[i].ip) != 0 && !prefix_eq(helo, r[i].ip, 2) &&
		    !relay_ip_private(helo))
			f->ip_helo++;
		if (i > 0 && have_prev && dotted_host(prev) &&
		    strcmp(by, prev) != 0 && !(strcmp(by, "msn.com") == 0 &&
		    strcmp(prev, "hotmail.com") == 0))
			f->from++;
next:
		if ((strcmp(from, "localhost") == 0 ||
		    strcmp(from, "localhost.localdomain") == 0) &&
		    strcmp(r[i].ip, "127.0.0.1") == 0)
			from[0] = '\0';
		snprintf(prev, sizeof(prev), "%s", from);
		have_prev = from[0] != '\0';
	}
	return f;
}

static const struct forged *
forged(struct saeval_in *in)
{
	static const char key;

	return saeval_memo(in, &key, make_forged, free);
}

static unsigned
forged_trail(struct saeval_in *in, const struct saeval_args *a,
    const void *p, struct buf *d)
{
	(void)a;
	(void)p;
	if (d)
		buf_printf(d, "%u from/by mismatches", forged(in)->from);
	return forged(in)->from > 1;
}

static unsigned
forged_ip_helo(struct saeval_in *in, const struct saeval_args *a,
    const void *p, struct buf *d)
{
	(void)a;
	(void)p;
	(void)d;
	return forged(in)->ip_helo > 0;
}

/* reg_domain - a registrable domain: two labels, three under a short
 * second-level label of a country code (co.uk, com.au) */
static const char *
reg_domain(const char *h)
{
	const char *dots[3] = { NULL, NULL, NULL }, *p;
	size_t nd = 0;

	for (p = h; *p; p++)
		if (*p == '.') {
			dots[2] = dots[1];
			dots[1] = dots[0];
			dots[0] = p;
			nd++;
		}
	if (nd < 1)
		return h;
	if (nd >= 2 && strlen(dots[0] + 1) == 2 &&
	    (size_t)(dots[0] - dots[1] - 1) <= 3)
		return dots[2] ? dots[2] + 1 : h;
	return dots[1] ? dots[1] + 1 : h;
}

static unsigned
mailfrom_matches_rcvd(struct saeval_in *in, const struct saeval_args *a,
    const void *p, struct buf *d)
{
	struct buf ef = BUF_INIT;
	size_t n;
	const struct relay *r = saeval_relays(in, &n);
	const char *at;
	unsigned hit = 0;

	(void)a;
	(void)p;
	sae_envfrom(in, &ef);
	at = strrchr(buf_cstr(&ef), '@');
	/* the first untrusted relay (trusted hops are not kept here) */
	if (at && strchr(at, '.') && n > 0 && r[0].rdns[0]) {
		hit = strcasecmp(reg_domain(at + 1), reg_domain(r[0].rdns)) ==
		    0;
		if (d)
			buf_printf(d, "%s vs %s", reg_domain(at + 1),
			    reg_domain(r[0].rdns));
	}
	buf_release(&ef);
	return hit;
}

#define ANY	SAEVAL_TYPES_ANY

static const struct saeval_fn fns[] = {
	{ "check_all_trusted", ANY, 0, 0, NULL, NULL, all_trusted },
	{ "check_no_relays", ANY, 0, 0, NULL, NULL, no_relays },
	{ "check_relays_unparseable", ANY, 0, 0, NULL, NULL, unparseable },
	{ "check_for_numeric_helo", ANY, 0, 0, NULL, NULL, numeric_helo },
	{ "helo_ip_mismatch", ANY, 0, 0, NULL, NULL, helo_ip_mismatch },
	{ "check_for_no_rdns_dotcom_helo", ANY, 0, 0, NULL, NULL,
	  no_rdns_dotcom_helo },
	{ "check_for_sender_no_reverse", ANY, 0, 0, NULL, NULL,
	  sender_no_reverse },
	{ "check_for_forged_received_trail", ANY, 0, 0, NULL, NULL,
	  forged_trail },
	{ "check_for_forged_received_ip_helo", ANY, 0, 0, NULL, NULL,
	  forged_ip_helo },
	{ "check_mailfrom_matches_rcvd", ANY, 0, 0, NULL, NULL,
	  mailfrom_matches_rcvd },
};

static const char *const plugins[] = {
	"Mail::SpamAssassin::Plugin::RelayEval",
	NULL
};

const struct saeval_family saeval_relay_family = {
	"relay", fns, SAEVAL_NELEM(fns), NULL, 0, plugins
};
