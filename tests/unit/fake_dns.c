/*
 * fake_dns.c - a struct dns_backend answering from zone-file text
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "dns.h"
#include "fake_dns.h"
#include "files.h"
#include "str.h"

enum fake_kind {
	FK_TXT,
	FK_A,
	FK_NXDOMAIN,
	FK_TIMEOUT,
	FK_SERVFAIL
};

struct fake_rr {
	char	*name;		/* lower case, no trailing dot */
	enum fake_kind kind;
	char	*txt;
	size_t	 txt_len;
	size_t	 nstrings;
};

struct fake_dns {
	struct fake_rr *rrs;
	size_t	 n;
	unsigned queries;
};

struct fake_dns *
fake_dns_new(void)
{
	return xcalloc(1, sizeof(struct fake_dns));
}

static void
add(struct fake_dns *f, const char *name, size_t nlen, enum fake_kind k,
    const char *txt, size_t tlen, size_t nstrings)
{
	struct fake_rr *r;

	f->rrs = xreallocarray(f->rrs, f->n + 1, sizeof(*f->rrs));
	r = &f->rrs[f->n++];
	while (nlen > 0 && name[nlen - 1] == '.')
		nlen--;
	r->name = xstrndup(name, nlen);
	str_lower(r->name);
	r->kind = k;
	r->txt = txt ? xstrndup(txt, tlen) : NULL;
	r->txt_len = tlen;
	r->nstrings = nstrings;
}

void
fake_dns_add_txt(struct fake_dns *f, const char *name, const char *txt)
{
	add(f, name, strlen(name), FK_TXT, txt, strlen(txt), 1);
}

/* strings - quoted character-strings from p; -1 on a syntax error */
static int
strings(const char *p, const char *end, struct buf *out, size_t *n)
{
	*n = 0;
	while (p < end) {
		if (ch_is_space((unsigned char)*p) || *p == '(' || *p == ')') {
			p++;
			continue;
		}
		if (*p == ';')
			break;
		if (*p != '"')
			return -1;
		for (p++; p < end && *p != '"'; p++) {
			if (*p == '\\' && p + 1 < end) {
				p++;
				if (ch_is_digit((unsigned char)*p) && p + 2 < end) {
					buf_addc(out, (char)((p[0] - '0') * 100 +
					    (p[1] - '0') * 10 + (p[2] - '0')));
					p += 2;
					continue;
				}
			}
			buf_addc(out, *p);
		}
		if (p == end)
			return -1;
		p++;
		(*n)++;
	}
	return 0;
}

static const struct {
	const char *word;
	enum fake_kind kind;
} kinds[] = {
	{ "TXT", FK_TXT }, { "A", FK_A }, { "NXDOMAIN", FK_NXDOMAIN },
	{ "TIMEOUT", FK_TIMEOUT }, { "SERVFAIL", FK_SERVFAIL },
};

/* line - one record line */
static int
line(struct fake_dns *f, const char *p, const char *end)
{
	const char *name, *w;
	size_t nlen, i, wl, ns;
	struct buf txt = BUF_INIT;

	while (p < end && ch_is_space((unsigned char)*p))
		p++;
	if (p == end || *p == ';')
		return 0;
	name = p;
	while (p < end && !ch_is_space((unsigned char)*p))
		p++;
	nlen = (size_t)(p - name);
	for (;;) {
		while (p < end && ch_is_space((unsigned char)*p))
			p++;
		w = p;
		while (p < end && !ch_is_space((unsigned char)*p))
			p++;
		wl = (size_t)(p - w);
		if (wl == 0)
			return -1;
		if ((wl == 2 && str_nieq(w, 2, "IN", 2)) ||
		    ch_is_digit((unsigned char)*w))
			continue;	/* class or TTL */
		break;
	}
	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (str_nieq(w, wl, kinds[i].word, strlen(kinds[i].word)))
			break;
	if (i == sizeof(kinds) / sizeof(kinds[0]))
		return -1;
	if (kinds[i].kind != FK_TXT) {
		add(f, name, nlen, kinds[i].kind, NULL, 0, 0);
		return 0;
	}
	if (strings(p, end, &txt, &ns) < 0) {
		buf_release(&txt);
		return -1;
	}
	add(f, name, nlen, FK_TXT, txt.data ? txt.data : "", txt.len, ns);
	buf_release(&txt);
	return 0;
}

int
fake_dns_load(struct fake_dns *f, const char *text, size_t len)
{
	const char *p = text, *end = text + len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *e = nl ? nl : end;

		if (line(f, p, e) < 0)
			return -1;
		p = nl ? nl + 1 : end;
	}
	return 0;
}

int
fake_dns_load_file(struct fake_dns *f, const char *path)
{
	struct buf text = BUF_INIT, why = BUF_INIT;
	int rc = -1;

	if (files_read(path, 16 * 1024 * 1024, &text, &why) == 0)
		rc = fake_dns_load(f, text.data, text.len);
	buf_release(&text);
	buf_release(&why);
	return rc;
}

unsigned
fake_dns_queries(const struct fake_dns *f)
{
	return f->queries;
}

static void
fake_query(void *impl, const char *qname, uint16_t type, double timeout_ms,
    struct dns_answer *out)
{
	struct fake_dns *f = impl;
	char *name = xstrdup(qname);
	size_t i, len = strlen(name);
	bool exists = false;

	(void)timeout_ms;
	f->queries++;
	while (len > 0 && name[len - 1] == '.')
		name[--len] = '\0';
	str_lower(name);
	out->status = DNS_NXDOMAIN;
	for (i = 0; i < f->n; i++) {
		struct fake_rr *r = &f->rrs[i];
		struct dns_rr *rr;

		if (strcmp(r->name, name) != 0)
			continue;
		switch (r->kind) {
		case FK_NXDOMAIN: out->status = DNS_NXDOMAIN; goto done;
		case FK_TIMEOUT: out->status = DNS_TIMEOUT; goto done;
		case FK_SERVFAIL: out->status = DNS_SERVFAIL; goto done;
		case FK_A: exists = true; break;
		case FK_TXT:
			exists = true;
			if (type != DNS_T_TXT)
				break;
			out->rrs = xreallocarray(out->rrs, out->n + 1,
			    sizeof(*out->rrs));
			rr = memset(&out->rrs[out->n++], 0, sizeof(*rr));
			rr->type = DNS_T_TXT;
			rr->ttl = 300;
			rr->txt = xmalloc(r->txt_len + 1);
			memcpy(rr->txt, r->txt, r->txt_len);
			rr->txt[r->txt_len] = '\0';
			rr->txt_len = r->txt_len;
			rr->txt_nstrings = r->nstrings;
			break;
		}
	}
	out->status = out->n ? DNS_OK : exists ? DNS_NODATA : DNS_NXDOMAIN;
done:
	free(name);
}

static void
fake_free(void *impl)
{
	struct fake_dns *f = impl;
	size_t i;

	for (i = 0; i < f->n; i++) {
		free(f->rrs[i].name);
		free(f->rrs[i].txt);
	}
	free(f->rrs);
	free(f);
}

static const struct dns_backend fake_backend = {
	"fake", fake_query, fake_free
};

struct dns_resolver *
fake_dns_resolver(struct fake_dns *f)
{
	return dns_resolver_new(&fake_backend, f);
}
