/*
 * sample.c - the sample file format, the DNS recorder and the resolver
 *	that answers from a recording
 *
 * DESCRIPTION
 *	See sample.h for the contract and doc/replay.md for the format.
 *	Writing is pure (sample_format into a buffer); so is parsing.
 * SECURITY
 *	Values are %-escaped on output, so a header with CR, LF or NUL
 *	bytes cannot end or forge a line.  The parser distrusts its input
 *	entirely: capped lines and counts, range-checked numbers, the body
 *	length checked against the data before it is used.
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "dns.h"
#include "msg.h"
#include "netaddr.h"
#include "sample.h"
#include "str.h"

struct sample_dns {
	pthread_mutex_t lock;
	struct sample_answer *v;
	size_t	 n;
	size_t	 dropped;		/* beyond SAMPLE_MAX_DNS */
};

struct sample_dns *
sample_dns_new(void)
{
	struct sample_dns *d = xcalloc(1, sizeof(*d));

	pthread_mutex_init(&d->lock, NULL);
	return d;
}

void
sample_dns_free(struct sample_dns **dp)
{
	struct sample_dns *d = *dp;
	size_t i;

	if (d == NULL)
		return;
	*dp = NULL;
	for (i = 0; i < d->n; i++) {
		free(d->v[i].name);
		dns_answer_free(d->v[i].a);
	}
	free(d->v);
	pthread_mutex_destroy(&d->lock);
	free(d);
}

/* find_locked - index of name/type in d, or d->n */
static size_t
find_locked(const struct sample_dns *d, const char *name, uint16_t type)
{
	size_t i;

	for (i = 0; i < d->n; i++)
		if (d->v[i].type == type && strcmp(d->v[i].name, name) == 0)
			break;
	return i;
}

/* add_answer - keep a copy of a (taken over when own) */
static void
add_answer(struct sample_dns *d, const char *name, uint16_t type,
    struct dns_answer *a)
{
	d->v = xreallocarray(d->v, d->n + 1, sizeof(*d->v));
	d->v[d->n].name = xstrdup(name);
	d->v[d->n].type = type;
	d->v[d->n].a = a;
	d->v[d->n].a->from_cache = false;
	d->n++;
}

void
sample_dns_record(void *arg, const char *name, uint16_t type,
    const struct dns_answer *a)
{
	struct sample_dns *d = arg;

	pthread_mutex_lock(&d->lock);
	if (find_locked(d, name, type) < d->n)
		;		/* the first answer is the one the checks used */
	else if (d->n >= SAMPLE_MAX_DNS)
		d->dropped++;
	else
		add_answer(d, name, type, dns_answer_copy(a));
	pthread_mutex_unlock(&d->lock);
}

size_t
sample_dns_count(const struct sample_dns *d)
{
	return d ? d->n : 0;
}

const struct sample_answer *
sample_dns_get(const struct sample_dns *d, size_t i)
{
	return d && i < d->n ? &d->v[i] : NULL;
}

const struct dns_answer *
sample_dns_find(const struct sample_dns *d, const char *name, uint16_t type)
{
	size_t i;

	if (d == NULL)
		return NULL;
	i = find_locked(d, name, type);
	return i < d->n ? d->v[i].a : NULL;
}

/* ------------------------------------------------------------------ */

struct recorded {
	const struct sample_dns *d;
	void	(*unrecorded)(void *, const char *, uint16_t);
	void	*arg;
};

static void
recorded_query(void *impl, const char *name, uint16_t type,
    double timeout_ms, struct dns_answer *out)
{
	const struct recorded *r = impl;
	const struct dns_answer *a = sample_dns_find(r->d, name, type);
	struct dns_answer *c;

	(void)timeout_ms;
	if (a == NULL) {
		out->status = DNS_TIMEOUT;
		if (r->unrecorded)
			r->unrecorded(r->arg, name, type);
		return;
	}
	c = dns_answer_copy(a);
	*out = *c;
	free(c);
}

static void
recorded_free(void *impl)
{
	free(impl);
}

static const struct dns_backend recorded_backend = {
	"recorded", recorded_query, recorded_free
};

struct dns_resolver *
sample_dns_resolver(const struct sample_dns *d,
    void (*unrecorded)(void *, const char *, uint16_t), void *arg)
{
	struct recorded *r = xcalloc(1, sizeof(*r));
	struct dns_opts o;

	r->d = d;
	r->unrecorded = unrecorded;
	r->arg = arg;
	dns_opts_default(&o);
	o.cache_size = 0;
	o.prefetch_threads = 0;
	return dns_resolver_new_opts(&recorded_backend, r, &o);
}

/* ------------------------------------------------------------------ */
/* writing */

/* esc - a value: bytes outside '!'..'~' and '%' as %XX; "" stays "" */
static void
esc(struct buf *o, const void *p, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *s = p;
	size_t i;

	for (i = 0; i < n; i++) {
		if (s[i] > 0x20 && s[i] < 0x7f && s[i] != '%') {
			buf_addc(o, (char)s[i]);
			continue;
		}
		buf_addc(o, '%');
		buf_addc(o, hex[s[i] >> 4]);
		buf_addc(o, hex[s[i] & 15]);
	}
}

/* field - "key value\n"; nothing when v is NULL */
static void
field(struct buf *o, const char *key, const char *v)
{
	if (v == NULL)
		return;
	buf_adds(o, key);
	buf_addc(o, ' ');
	esc(o, v, strlen(v));
	buf_addc(o, '\n');
}

static void
format_rr(struct buf *o, const struct dns_rr *rr)
{
	char ip[NETADDR_STRLEN];

	buf_printf(o, "rr %u %u", rr->type, rr->ttl);
	switch (rr->type) {
	case DNS_T_A:
	case DNS_T_AAAA:
		netaddr_format(&rr->addr, ip, sizeof(ip));
		buf_printf(o, " %s", ip);
		break;
	case DNS_T_MX:
		buf_printf(o, " %u ", rr->pref);
		esc(o, rr->name ? rr->name : "", rr->name ? strlen(rr->name) : 0);
		break;
	case DNS_T_TXT:
		buf_printf(o, " %zu ", rr->txt_nstrings);
		esc(o, rr->txt ? rr->txt : "", rr->txt ? rr->txt_len : 0);
		break;
	default:
		buf_addc(o, ' ');
		esc(o, rr->name ? rr->name : "", rr->name ? strlen(rr->name) : 0);
		break;
	}
	buf_addc(o, '\n');
}

static void
format_dns(struct buf *o, const struct sample_dns *d)
{
	size_t i, k;

	for (i = 0; d && i < d->n; i++) {
		const struct dns_answer *a = d->v[i].a;

		buf_adds(o, "dns ");
		esc(o, d->v[i].name, strlen(d->v[i].name));
		buf_printf(o, " %u %s %u %zu\n", d->v[i].type,
		    dns_status_name(a->status), a->ttl, a->n);
		for (k = 0; k < a->n; k++)
			format_rr(o, &a->rrs[k]);
	}
}

void
sample_format(const struct msg *m, time_t now, double when,
    const struct sample_dns *d, const char *logline, size_t loglen,
    struct buf *o)
{
	size_t i;

	buf_adds(o, SAMPLE_MAGIC "\n");
	buf_printf(o, "now %lld\nwhen %.6f\n", (long long)now, when);
	field(o, "client_ip", m->client_ip[0] ? m->client_ip : NULL);
	field(o, "client_name", m->client_name);
	field(o, "helo", m->helo);
	field(o, "mta_name", m->mta_name);
	field(o, "queue_id", m->queue_id);
	field(o, "auth", m->auth_user);
	field(o, "mail_from", m->mail_from);
	for (i = 0; i < m->nrcpts; i++)
		field(o, "rcpt", m->rcpts[i]);
	buf_printf(o, "rcpts_seen %zu\n", m->nrcpts_seen);
	for (i = 0; i < m->nhdrs; i++) {
		buf_adds(o, "header ");
		esc(o, m->hdrs[i].name, m->hdrs[i].name_len);
		buf_addc(o, ' ');
		esc(o, m->hdrs[i].value, m->hdrs[i].value_len);
		buf_addc(o, '\n');
	}
	buf_printf(o, "hdr_bytes %zu\nbody_size %zu\nflags %u\n", m->hdr_bytes,
	    m->body_size, m->flags);
	buf_adds(o, "verdict ");
	esc(o, logline, loglen);
	buf_addc(o, '\n');
	format_dns(o, d);
	buf_printf(o, "body %zu\n", m->body.len);
	buf_add(o, m->body.data, m->body.len);
	buf_adds(o, "\nend\n");
}

/* ------------------------------------------------------------------ */
/* reading */

struct rd {
	const char *p, *end;
	unsigned line;
	struct buf *why;
	bool	 failed;
};

static int
fail(struct rd *r, const char *what)
{
	if (!r->failed)
		buf_printf(r->why, "line %u: %s", r->line, what);
	r->failed = true;
	return -1;
}

/* next_line - the next line (without newline) into *l, *n; -1 at end */
static int
next_line(struct rd *r, const char **l, size_t *n)
{
	const char *nl;

	if (r->p >= r->end)
		return -1;
	nl = memchr(r->p, '\n', (size_t)(r->end - r->p));
	if (nl == NULL)
		return fail(r, "no newline at the end of the file");
	if ((size_t)(nl - r->p) > SAMPLE_MAX_LINE)
		return fail(r, "line too long");
	r->line++;
	*l = r->p;
	*n = (size_t)(nl - r->p);
	r->p = nl + 1;
	return 0;
}

static int
hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* unesc - a %-escaped word into a new string (may hold NUL); NULL if bad */
static char *
unesc(const char *p, size_t n, size_t *len)
{
	struct buf b = BUF_INIT;
	size_t i;
	int h, l;

	buf_reserve(&b, n + 1);
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c <= 0x20 || c >= 0x7f) {
			buf_release(&b);
			return NULL;
		}
		if (c != '%') {
			buf_addc(&b, (char)c);
			continue;
		}
		if (i + 2 >= n) {
			buf_release(&b);
			return NULL;
		}
		if ((h = hexval((unsigned char)p[i + 1])) < 0 ||
		    (l = hexval((unsigned char)p[i + 2])) < 0) {
			buf_release(&b);
			return NULL;
		}
		buf_addc(&b, (char)(h * 16 + l));
		i += 2;
	}
	*len = b.len;
	buf_addc(&b, '\0');
	return buf_steal(&b);
}

/* words - split l[0..n) at single spaces into at most max words */
static size_t
words(const char *l, size_t n, const char **w, size_t *wl, size_t max)
{
	size_t k = 0, i = 0, s;

	while (i <= n && k < max) {
		s = i;
		while (i < n && l[i] != ' ')
			i++;
		w[k] = l + s;
		wl[k++] = i - s;
		i++;
	}
	return i <= n ? max + 1 : k;	/* more words than max */
}

static int
num(struct rd *r, const char *p, size_t n, uint64_t max, uint64_t *out)
{
	char t[32];

	if (n == 0 || n >= sizeof(t))
		return fail(r, "bad number");
	memcpy(t, p, n);
	t[n] = '\0';
	if (parse_uint(t, 0, max, out) < 0)
		return fail(r, "bad number");
	return 0;
}

/* str_value - *dst = the unescaped word (once only); -1 on error */
static int
str_value(struct rd *r, const char *p, size_t n, char **dst)
{
	size_t len;
	char *v;

	if (*dst)
		return fail(r, "key given twice");
	if ((v = unesc(p, n, &len)) == NULL)
		return fail(r, "bad %-escape or raw byte in a value");
	if (strlen(v) != len) {
		free(v);
		return fail(r, "NUL byte in an envelope value");
	}
	*dst = v;
	return 0;
}

static int
parse_rr(struct rd *r, struct dns_answer *a)
{
	const char *l, *w[5];
	size_t n, wl[5], k, len;
	uint64_t type, ttl, x;
	struct dns_rr *rr;
	char ip[64];

	if (next_line(r, &l, &n) < 0)
		return fail(r, "missing rr line");
	k = words(l, n, w, wl, 5);
	if (k < 4 || k > 5 || wl[0] != 2 || memcmp(w[0], "rr", 2) != 0 ||
	    num(r, w[1], wl[1], 65535, &type) < 0 ||
	    num(r, w[2], wl[2], UINT32_MAX, &ttl) < 0)
		return fail(r, "bad rr line");
	rr = dns_answer_add(a, (uint16_t)type);
	rr->ttl = (uint32_t)ttl;
	if (type == DNS_T_A || type == DNS_T_AAAA) {
		if (k != 4 || wl[3] >= sizeof(ip))
			return fail(r, "bad address record");
		memcpy(ip, w[3], wl[3]);
		ip[wl[3]] = '\0';
		if (netaddr_parse(ip, &rr->addr) < 0)
			return fail(r, "bad address record");
		return 0;
	}
	if (type == DNS_T_MX || type == DNS_T_TXT) {
		if (k != 5 || num(r, w[3], wl[3], 65535, &x) < 0)
			return fail(r, "bad MX or TXT record");
		if (type == DNS_T_MX)
			rr->pref = (uint16_t)x;
		else
			rr->txt_nstrings = (size_t)x;
		w[3] = w[4];
		wl[3] = wl[4];
	} else if (k != 4)
		return fail(r, "bad name record");
	if (type == DNS_T_TXT) {
		if ((rr->txt = unesc(w[3], wl[3], &rr->txt_len)) == NULL)
			return fail(r, "bad TXT data");
	} else if ((rr->name = unesc(w[3], wl[3], &len)) == NULL ||
	    strlen(rr->name) != len)
		return fail(r, "bad name in a record");
	return 0;
}

static int
status_parse(const char *p, size_t n, enum dns_status *out)
{
	int s;

	for (s = DNS_OK; s <= DNS_INVALID_NAME; s++) {
		const char *name = dns_status_name((enum dns_status)s);

		if (strlen(name) == n && memcmp(name, p, n) == 0) {
			*out = (enum dns_status)s;
			return 0;
		}
	}
	return -1;
}

/* parse_dns - "dns NAME TYPE STATUS TTL N" (words after "dns") + N rr */
static int
parse_dns(struct rd *r, struct sample *s, const char **w, size_t *wl)
{
	struct dns_answer *a;
	uint64_t type, ttl, n, i;
	size_t len;
	char *name;

	if (num(r, w[1], wl[1], 65535, &type) < 0 ||
	    num(r, w[3], wl[3], UINT32_MAX, &ttl) < 0 ||
	    num(r, w[4], wl[4], SAMPLE_MAX_RRS, &n) < 0)
		return -1;
	if (sample_dns_count(s->dns) >= SAMPLE_MAX_DNS)
		return fail(r, "too many DNS answers");
	if ((name = unesc(w[0], wl[0], &len)) == NULL || strlen(name) != len ||
	    len > DNS_MAX_NAME) {
		free(name);
		return fail(r, "bad DNS name");
	}
	a = xcalloc(1, sizeof(*a));
	a->ttl = (uint32_t)ttl;
	if (status_parse(w[2], wl[2], &a->status) < 0)
		fail(r, "unknown DNS status");
	for (i = 0; i < n && !r->failed; i++)
		(void)parse_rr(r, a);
	if (r->failed || sample_dns_find(s->dns, name, (uint16_t)type)) {
		dns_answer_free(a);
		free(name);
		return fail(r, "DNS answer given twice");
	}
	add_answer(s->dns, name, (uint16_t)type, a);
	free(name);
	return 0;
}

static int
parse_header(struct rd *r, struct sample *s, const char **w, size_t *wl)
{
	struct sample_hdr *h;

	if (s->nhdrs >= 100000)
		return fail(r, "too many header fields");
	s->hdrs = xreallocarray(s->hdrs, s->nhdrs + 1, sizeof(*s->hdrs));
	h = &s->hdrs[s->nhdrs];
	memset(h, 0, sizeof(*h));
	if ((h->name = unesc(w[0], wl[0], &h->name_len)) == NULL ||
	    (h->value = unesc(w[1], wl[1], &h->value_len)) == NULL) {
		free(h->name);
		free(h->value);
		return fail(r, "bad header line");
	}
	s->nhdrs++;
	return 0;
}

/* the keys with one string value */
static char **
str_slot(struct sample *s, const char *k, size_t n)
{
	static const struct {
		const char *key;
		size_t	 off;
	} keys[] = {
		{ "client_ip", offsetof(struct sample, client_ip) },
		{ "client_name", offsetof(struct sample, client_name) },
		{ "helo", offsetof(struct sample, helo) },
		{ "mta_name", offsetof(struct sample, mta_name) },
		{ "queue_id", offsetof(struct sample, queue_id) },
		{ "auth", offsetof(struct sample, auth) },
		{ "mail_from", offsetof(struct sample, mail_from) },
		{ "verdict", offsetof(struct sample, verdict) },
	};
	size_t i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (strlen(keys[i].key) == n && memcmp(keys[i].key, k, n) == 0)
			return (char **)(void *)((char *)s + keys[i].off);
	return NULL;
}

/* the keys with one number */
static int
num_key(struct rd *r, struct sample *s, const char *k, size_t kn,
    const char *v, size_t vn)
{
	uint64_t x;

#define KEY(name)	(kn == sizeof(name) - 1 && memcmp(k, name, kn) == 0)
	if (KEY("now")) {
		if (num(r, v, vn, INT32_MAX * 4ULL, &x) < 0)
			return -1;
		s->now = (time_t)x;
	} else if (KEY("rcpts_seen")) {
		if (num(r, v, vn, UINT32_MAX, &x) < 0)
			return -1;
		s->rcpts_seen = (size_t)x;
	} else if (KEY("hdr_bytes")) {
		if (num(r, v, vn, UINT32_MAX, &x) < 0)
			return -1;
		s->hdr_bytes = (size_t)x;
	} else if (KEY("body_size")) {
		if (num(r, v, vn, UINT64_MAX >> 1, &x) < 0)
			return -1;
		s->body_size = (size_t)x;
	} else if (KEY("flags")) {
		if (num(r, v, vn, 0xffff, &x) < 0)
			return -1;
		s->flags = (unsigned)x;
	} else
		return 1;
#undef KEY
	return 0;
}

static int
parse_when(struct rd *r, struct sample *s, const char *v, size_t n)
{
	char t[40];

	if (n == 0 || n >= sizeof(t))
		return fail(r, "bad when");
	memcpy(t, v, n);
	t[n] = '\0';
	if (parse_double(t, 0, 1e11, &s->when) < 0)
		return fail(r, "bad when");
	return 0;
}

static int
parse_rcpt(struct rd *r, struct sample *s, const char *v, size_t n)
{
	char *x = NULL;

	if (s->nrcpts >= 100000)
		return fail(r, "too many recipients");
	if (str_value(r, v, n, &x) < 0)
		return -1;
	s->rcpts = xreallocarray(s->rcpts, s->nrcpts + 1, sizeof(char *));
	s->rcpts[s->nrcpts++] = x;
	return 0;
}

/* parse_body - "body N", the bytes, "\nend\n" and nothing after */
static int
parse_body(struct rd *r, struct sample *s, const char *v, size_t n)
{
	uint64_t len;

	if (num(r, v, n, SAMPLE_MAX_BODY, &len) < 0)
		return -1;
	if ((uint64_t)(r->end - r->p) < len + 5 ||
	    memcmp(r->p + len, "\nend\n", 5) != 0 ||
	    r->p + len + 5 != r->end)
		return fail(r, "body length does not match the file");
	s->body = (const unsigned char *)r->p;
	s->body_len = (size_t)len;
	r->p = r->end;
	return 0;
}

/* parse_line - one "KEY VALUE..." line */
static int
parse_line(struct rd *r, struct sample *s, const char *l, size_t n,
    bool *body)
{
	const char *w[6];
	size_t wl[6], k = words(l, n, w, wl, 6);
	char **slot;
	int rc;

	if (k < 2)
		return fail(r, "expected KEY VALUE");
	if ((slot = str_slot(s, w[0], wl[0])) != NULL)
		return k == 2 ? str_value(r, w[1], wl[1], slot) :
		    fail(r, "one value expected");
	if (wl[0] == 6 && memcmp(w[0], "header", 6) == 0)
		return k == 3 ? parse_header(r, s, w + 1, wl + 1) :
		    fail(r, "header: name and value expected");
	if (wl[0] == 3 && memcmp(w[0], "dns", 3) == 0)
		return k == 6 ? parse_dns(r, s, w + 1, wl + 1) :
		    fail(r, "dns: NAME TYPE STATUS TTL N expected");
	if (k != 2)
		return fail(r, "one value expected");
	if ((rc = num_key(r, s, w[0], wl[0], w[1], wl[1])) <= 0)
		return rc;
	if (wl[0] == 4 && memcmp(w[0], "when", 4) == 0)
		return parse_when(r, s, w[1], wl[1]);
	if (wl[0] == 4 && memcmp(w[0], "rcpt", 4) == 0)
		return parse_rcpt(r, s, w[1], wl[1]);
	if (wl[0] == 4 && memcmp(w[0], "body", 4) == 0) {
		*body = true;
		return parse_body(r, s, w[1], wl[1]);
	}
	return fail(r, "unknown key");
}

int
sample_parse(const char *data, size_t len, struct sample **out,
    struct buf *why)
{
	struct rd r = { data, data + len, 0, why, false };
	struct sample *s = xcalloc(1, sizeof(*s));
	const char *l;
	size_t n;
	bool body = false;

	s->dns = sample_dns_new();
	*out = NULL;
	if (next_line(&r, &l, &n) < 0 || n != strlen(SAMPLE_MAGIC) ||
	    memcmp(l, SAMPLE_MAGIC, n) != 0)
		fail(&r, "not a mailwarden sample (first line "
		    "\"" SAMPLE_MAGIC "\")");
	while (!r.failed && !body && next_line(&r, &l, &n) == 0)
		(void)parse_line(&r, s, l, n, &body);
	if (!r.failed && !body)
		fail(&r, "no body line: file cut short");
	if (!r.failed && (s->verdict == NULL || s->now == 0))
		fail(&r, "no verdict or no now line");
	if (r.failed) {
		sample_free(&s);
		return -1;
	}
	*out = s;
	return 0;
}

void
sample_free(struct sample **sp)
{
	struct sample *s = *sp;
	size_t i;

	if (s == NULL)
		return;
	*sp = NULL;
	free(s->client_ip);
	free(s->client_name);
	free(s->helo);
	free(s->mta_name);
	free(s->queue_id);
	free(s->auth);
	free(s->mail_from);
	for (i = 0; i < s->nrcpts; i++)
		free(s->rcpts[i]);
	free(s->rcpts);
	for (i = 0; i < s->nhdrs; i++) {
		free(s->hdrs[i].name);
		free(s->hdrs[i].value);
	}
	free(s->hdrs);
	free(s->verdict);
	sample_dns_free(&s->dns);
	free(s);
}

struct msg *
sample_msg(const struct sample *s, const struct msg_limits *lim)
{
	struct msg *m = msg_new(lim);
	size_t i;

	msg_set_client(m, s->client_ip, s->client_name);
	if (s->helo)
		msg_set_helo(m, s->helo);
	msg_set_mta_name(m, s->mta_name);
	if (s->mail_from)
		msg_set_sender(m, *s->mail_from ? s->mail_from : "<>");
	msg_set_auth(m, s->auth);
	for (i = 0; i < s->nrcpts; i++)
		msg_add_rcpt(m, s->rcpts[i]);
	for (i = 0; i < s->nhdrs; i++)
		msg_add_header(m, s->hdrs[i].name, s->hdrs[i].name_len,
		    s->hdrs[i].value, s->hdrs[i].value_len);
	msg_set_queue_id(m, s->queue_id);
	return m;
}

void
sample_msg_finish(const struct sample *s, struct msg *m)
{
	if (s->body_size > m->body_size)
		m->body_size = s->body_size;
	if (s->hdr_bytes > m->hdr_bytes)
		m->hdr_bytes = s->hdr_bytes;
	if (s->rcpts_seen > m->nrcpts_seen)
		m->nrcpts_seen = s->rcpts_seen;
	m->flags |= s->flags;
}
