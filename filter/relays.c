/*
 * relays.c - SpamAssassin's relay list from the client and the Received
 * fields
 *
 * DESCRIPTION
 *	See relays.h.  A Received field is read in three parts: the from
 *	clause (from "from" to the word "by" outside parentheses), which
 *	names the sending host; the word after "by"; and the rest, where
 *	"with PROTOCOL", "id ID" and "envelope-from ADDR" are looked for.
 *	In the from clause the address is the first bracketed literal
 *	("[192.0.2.1]", "[IPv6:2001:db8::1]") or, failing that, a bare
 *	address inside parentheses (Microsoft's "(192.0.2.1)").  The name
 *	the receiving MTA found by reverse DNS is the word just before the
 *	bracket inside the same parentheses (Postfix, Sendmail, Google),
 *	unless the clause carries "helo=" (Exim) or "(HELO " (qmail), where
 *	the HELO is that value and the name is the first word; with a bare
 *	address (qmail, Microsoft) the first word is both, as SpamAssassin
 *	reads it.
 *
 * SECURITY
 *	Untrusted input throughout; see relays.h.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "mime.h"
#include "msg.h"
#include "netaddr.h"
#include "relays.h"
#include "str.h"

struct span {
	const char *p, *e;
};

static bool
is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/*
 * put - a cleaned copy of [p, e) into dst: no white space, no brackets
 * or parentheses, no controls, at most cap - 1 bytes.  A HELO written
 * as an address literal becomes !ADDR!, as SpamAssassin writes it.
 */
static void
put(char *dst, size_t cap, const char *p, const char *e, bool helo)
{
	size_t n = 0;

	if (helo && e - p >= 2 && *p == '[' && e[-1] == ']') {
		dst[n++] = '!';
		for (p++, e--; p < e && n + 2 < cap; p++)
			if ((unsigned char)*p > ' ' && *p != '[' && *p != ']')
				dst[n++] = *p;
		dst[n++] = '!';
		dst[n] = '\0';
		return;
	}
	for (; p < e && n + 1 < cap; p++)
		if ((unsigned char)*p > ' ' && (unsigned char)*p != 0x7f &&
		    strchr("[]()<>;", *p) == NULL)
			dst[n++] = *p;
	dst[n] = '\0';
}

/* find_ci - needle in [p, p + n), ignoring case; NULL if absent */
static const char *
find_ci(const char *p, size_t n, const char *needle)
{
	size_t k = strlen(needle), i;

	for (i = 0; i + k <= n; i++)
		if (strncasecmp(p + i, needle, k) == 0)
			return p + i;
	return NULL;
}

/* word_end - end of the word at p: white space, '(' or ';' ends it */
static const char *
word_end(const char *p, const char *e)
{
	while (p < e && !is_ws(*p) && *p != '(' && *p != ';')
		p++;
	return p;
}

static const char *
skip_ws(const char *p, const char *e)
{
	while (p < e && is_ws(*p))
		p++;
	return p;
}

/*
 * find_word - the keyword w as a word of its own outside parentheses in
 * [p, e); points at the keyword, or NULL
 */
static const char *
find_word(const char *p, const char *e, const char *w)
{
	size_t n = strlen(w);
	const char *s = p;
	int depth = 0;

	for (; p < e; p++) {
		if (*p == '(')
			depth++;
		else if (*p == ')' && depth > 0)
			depth--;
		else if (depth == 0 && (p == s || is_ws(p[-1])) &&
		    (size_t)(e - p) > n && strncasecmp(p, w, n) == 0 &&
		    is_ws(p[n]))
			return p;
	}
	return NULL;
}

/* the value after a keyword: its next word */
static bool
after(const char *p, const char *e, const char *w, struct span *out)
{
	const char *k = find_word(p, e, w);

	if (k == NULL)
		return false;
	out->p = skip_ws(k + strlen(w), e);
	out->e = word_end(out->p, e);
	return out->e > out->p;
}

/* ip_of - [p, e) as an address, "IPv6:" prefix allowed; into dst */
static bool
ip_of(const char *p, const char *e, char *dst, size_t cap)
{
	char tmp[64];
	struct netaddr a;
	size_t n;

	if (e - p > 5 && strncasecmp(p, "IPv6:", 5) == 0)
		p += 5;
	n = (size_t)(e - p);
	if (n == 0 || n >= sizeof(tmp))
		return false;
	memcpy(tmp, p, n);
	tmp[n] = '\0';
	if (netaddr_parse(tmp, &a) < 0)
		return false;
	netaddr_format(&a, dst, cap);
	return true;
}

/*
 * from_addr - the address of a from clause: the first bracketed literal
 * that is one, else a bare address inside parentheses; *at is where it
 * starts (the '[' for a literal)
 */
static bool
from_addr(const char *p, const char *e, struct relay *r, const char **at)
{
	const char *s, *c;
	int depth = 0;

	for (s = p; s < e; s++) {
		if (*s != '[')
			continue;
		c = memchr(s, ']', (size_t)(e - s));
		if (c == NULL)
			break;
		if (ip_of(s + 1, c, r->ip, sizeof(r->ip))) {
			*at = s;
			return true;
		}
	}
	for (s = p; s < e; s++) {
		if (*s == '(') {
			depth++;
			continue;
		}
		if (*s == ')' && depth > 0) {
			depth--;
			continue;
		}
		if (depth == 0 || is_ws(*s))
			continue;
		c = s;
		while (c < e && !is_ws(*c) && *c != ')' && *c != '(')
			c++;
		if (ip_of(s, c, r->ip, sizeof(r->ip))) {
			*at = s;
			return true;
		}
		s = c - 1;
	}
	return false;
}

/* rdns_before - the word before the address, both inside parentheses */
static void
rdns_before(const char *clause, const char *at, struct relay *r)
{
	const char *e = at, *b, *s;
	int depth = 0;

	/* "ident@[192.0.2.1]": an ident and no name */
	if (e > clause && e[-1] == '@') {
		for (b = e - 1; b > clause && !is_ws(b[-1]) && b[-1] != '(';)
			b--;
		put(r->ident, sizeof(r->ident), b, e - 1, false);
		return;
	}
	while (e > clause && is_ws(e[-1]))
		e--;
	b = e;
	while (b > clause && !is_ws(b[-1]) && b[-1] != '(')
		b--;
	for (s = clause; s < b; s++)
		if (*s == '(')
			depth++;
		else if (*s == ')' && depth > 0)
			depth--;
	if (b == e || depth == 0)
		return;
	while (e > b && e[-1] == '.')		/* "mail.example.com." */
		e--;
	/* Sendmail with ident: "root@host.example [192.0.2.1]" */
	if ((s = memchr(b, '@', (size_t)(e - b))) != NULL) {
		put(r->ident, sizeof(r->ident), b, s, false);
		b = s + 1;
	}
	put(r->rdns, sizeof(r->rdns), b, e, false);
}

/*
 * in_parens - at is inside parentheses: "HELO ([192.0.2.1])" or
 * "HELO (name [192.0.2.1])", the forms of MTAs that look up reverse DNS
 * and leave the name out when there is none
 */
static bool
in_parens(const char *p, const char *at)
{
	int depth = 0;

	for (; p < at; p++)
		if (*p == '(')
			depth++;
		else if (*p == ')' && depth > 0)
			depth--;
	return depth > 0;
}

/* proto_is_auth - RFC 3848: ESMTPA, ESMTPSA, LMTPA, UTF8SMTPSA, ... */
static bool
proto_is_auth(const char *p, const char *e)
{
	size_t n = (size_t)(e - p);
	char w[32];

	if (n < 5 || n >= sizeof(w))
		return false;
	memcpy(w, p, n);
	w[n] = '\0';
	return (w[n - 1] == 'A' || w[n - 1] == 'a') &&
	    (find_ci(w, n, "SMTP") != NULL || find_ci(w, n, "LMTP") != NULL);
}

bool
relay_parse_received(const char *v, struct relay *r)
{
	const char *p, *e, *fe, *by, *at = NULL, *h;
	char scratch[48];
	struct span w;
	size_t n;

	memset(r, 0, sizeof(*r));
	if (v == NULL)
		return false;
	n = strnlen(v, RELAY_FIELD_MAX);
	e = v + n;
	p = skip_ws(v, e);
	if (e - p < 5 || strncasecmp(p, "from", 4) != 0 || !is_ws(p[4]))
		return false;
	p = skip_ws(p + 4, e);
	by = find_word(p, e, "by");
	fe = by ? by : e;
	if ((h = memchr(p, ';', (size_t)(fe - p))) != NULL)
		fe = h;
	/* the address: after the HELO word, or the word itself (Exim) */
	w.p = p;
	w.e = word_end(p, fe);
	if (!from_addr(w.e, fe, r, &at) && !from_addr(w.p, w.e, r, &at))
		return false;

	/* the from clause: HELO, and the name reverse DNS gave */
	if ((h = find_ci(p, (size_t)(fe - p), "helo=")) != NULL) {
		const char *he = h + 5;

		while (he < fe && !is_ws(*he) && *he != ')')
			he++;
		put(r->helo, sizeof(r->helo), h + 5, he, true);
		if (w.e > w.p && *w.p != '[' && *w.p != '(' &&
		    !ip_of(w.p, w.e, scratch, sizeof(scratch)))
			put(r->rdns, sizeof(r->rdns), w.p, w.e, false);
	} else if ((h = find_ci(p, (size_t)(fe - p), "(HELO ")) != NULL) {
		/* qmail: "from NAME (HELO helo) (192.0.2.1)" */
		struct span hw;

		hw.p = skip_ws(h + 6, fe);
		hw.e = hw.p;
		while (hw.e < fe && !is_ws(*hw.e) && *hw.e != ')')
			hw.e++;
		put(r->helo, sizeof(r->helo), hw.p, hw.e, true);
		put(r->rdns, sizeof(r->rdns), w.p, w.e, false);
	} else {
		put(r->helo, sizeof(r->helo), w.p, w.e, true);
		if (*at == '[') {
			rdns_before(p, at, r);
			r->looked_up = in_parens(p, at);
		}
		else	/* qmail "from NAME (192.0.2.1)": the name is both */
			put(r->rdns, sizeof(r->rdns), w.p, w.e, false);
	}
	if (strcasecmp(r->rdns, "unknown") == 0)
		r->rdns[0] = '\0';

	/* after the from clause */
	if (by != NULL) {
		if (after(by, e, "by", &w))
			put(r->by, sizeof(r->by), w.p, w.e, false);
		if (after(by, e, "with", &w) && proto_is_auth(w.p, w.e))
			put(r->auth, sizeof(r->auth), w.p, w.e, false);
		if (after(by, e, "id", &w))
			put(r->id, sizeof(r->id), w.p, w.e, false);
	}
	if ((h = find_ci(v, n, "envelope-from")) != NULL) {
		p = h + 13;
		while (p < e && (is_ws(*p) || *p == '=' || *p == '<'))
			p++;
		h = p;
		while (h < e && !is_ws(*h) && *h != '>' && *h != ')' &&
		    *h != ';')
			h++;
		put(r->envfrom, sizeof(r->envfrom), p, h, false);
	}
	return true;
}

void
relay_format(const struct relay *r, struct buf *out)
{
	if (out->len)
		buf_addc(out, ' ');
	buf_printf(out, "[ ip=%s rdns=%s helo=%s by=%s ident=%s envfrom=%s "
	    "intl=0 id=%s auth=%s msa=0 ]", r->ip, r->rdns, r->helo, r->by,
	    r->ident, r->envfrom, r->id, r->auth);
}

/* put_str - put() of a whole string, which may be NULL */
static void
put_str(char *dst, size_t cap, const char *s, bool helo)
{
	if (s != NULL)
		put(dst, cap, s, s + strlen(s), helo);
}

/* client_relay - the SMTP client as the MTA saw it */
static void
client_relay(const struct msg *m, struct relay *r)
{
	const char *s = m->client_name ? m->client_name : "";

	memset(r, 0, sizeof(*r));
	snprintf(r->ip, sizeof(r->ip), "%s", m->client_ip);
	/* Postfix says "unknown", Sendmail "[192.0.2.1]": no name */
	if (strcasecmp(s, "unknown") != 0 && *s != '[')
		put_str(r->rdns, sizeof(r->rdns), s, false);
	put_str(r->helo, sizeof(r->helo), m->helo, true);
	r->looked_up = true;
	put_str(r->by, sizeof(r->by), m->mta_name, false);
	put_str(r->envfrom, sizeof(r->envfrom), m->mail_from, false);
	put_str(r->id, sizeof(r->id), m->queue_id, false);
	if (m->auth_user && *m->auth_user)
		snprintf(r->auth, sizeof(r->auth), "ESMTPA");
}

static bool
public_ip(const char *ip)
{
	struct netaddr a;

	return netaddr_parse(ip, &a) == 0 && netaddr_is_public(&a);
}

size_t
relays_list_counted(const struct msg *m, const struct mime_msg *mm,
    struct relay *out, size_t max, struct relays_count *cnt)
{
	struct relay r;
	size_t i, n = 0;
	bool first = true, have_client = m->client_ip[0] != '\0';
	struct relays_count dummy;

	if (cnt == NULL)
		cnt = &dummy;
	memset(cnt, 0, sizeof(*cnt));
	if (have_client && n < max)
		client_relay(m, &out[n++]);
	for (i = 0; mm != NULL && i < mm->nhdrs && n < max; i++) {
		if (strcasecmp(mm->hdrs[i].name, "Received") != 0)
			continue;
		/* a mail fetcher's handover (fetchmail, getmail): no relay */
		if (strstr(mm->hdrs[i].raw, "with POP3") ||
		    strstr(mm->hdrs[i].raw, "with IMAP"))
			continue;
		if (!relay_parse_received(mm->hdrs[i].raw, &r)) {
			cnt->unparsed++;
			first = false;
			continue;
		}
		/* the MTA's own record of this client is the client entry */
		if (first && have_client && strcmp(r.ip, m->client_ip) == 0) {
			first = false;
			continue;
		}
		first = false;
		/*
		 * without a client (a stored message) the hops inside the
		 * site come first: private addresses count as trusted until
		 * the first public one, as SpamAssassin infers trust
		 */
		if (!have_client && n == 0 && !public_ip(r.ip)) {
			cnt->trusted++;
			continue;
		}
		out[n++] = r;
	}
	return n;
}

size_t
relays_list(const struct msg *m, const struct mime_msg *mm,
    struct relay *out, size_t max)
{
	return relays_list_counted(m, mm, out, max, NULL);
}

bool
relay_ip_private(const char *ip)
{
	return !public_ip(ip);
}

void
relays_untrusted(const struct msg *m, const struct mime_msg *mm,
    struct buf *out)
{
	struct relay *v = xcalloc(RELAYS_MAX, sizeof(*v));
	size_t i, n = relays_list(m, mm, v, RELAYS_MAX);

	for (i = 0; i < n; i++)
		relay_format(&v[i], out);
	free(v);
}
