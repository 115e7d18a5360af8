/*
 * dmarc.c - DMARC record parsing, policy discovery, alignment
 *
 * DESCRIPTION
 *	See dmarc.h for the contract.  One evaluation keeps a small cache
 *	of the "_dmarc.<name>" answers it obtained (struct qent), so that
 *	the policy walk and every alignment walk share queries; the cache
 *	size is the query bound (max_queries).
 *
 * STANDARDS
 *	RFC 9989 (DMARC), RFC 7489 (PSL discovery, compatibility),
 *	RFC 9990 section 3 (external report destinations), RFC 8020.
 *
 * SECURITY
 *	TXT data is untrusted: the parser works on (pointer, length), never
 *	reads past it, keeps at most DMARC_MAX_URIS URIs of bounded length,
 *	and every name it queries was validated by domain_to_alabel().
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "dmarc.h"
#include "psl.h"
#include "smtpaddr.h"
#include "str.h"

#define DMARC_URI_MAX	512

/* ------------------------------------------------------------------ */
/* names                                                               */
/* ------------------------------------------------------------------ */

static const char *const policy_names[] = { "none", "quarantine", "reject" };

const char *
dmarc_policy_name(enum dmarc_policy p)
{
	return (unsigned)p < 3 ? policy_names[p] : "none";
}

static const char *const result_names[] = {
	"none", "pass", "fail", "temperror", "permerror"
};

const char *
dmarc_result_name(enum dmarc_result r)
{
	return (unsigned)r < 5 ? result_names[r] : "none";
}

static const char *const auth_names[] = {
	"none", "pass", "fail", "softfail", "neutral", "policy", "temperror",
	"permerror"
};

const char *
auth_result_name(enum auth_result r)
{
	return (unsigned)r < 8 ? auth_names[r] : "none";
}

int
auth_result_parse(const char *s, enum auth_result *out)
{
	unsigned i;

	for (i = 0; i < 8; i++)
		if (str_ieq(s, auth_names[i])) {
			*out = (enum auth_result)i;
			return 0;
		}
	return -1;
}

/* ------------------------------------------------------------------ */
/* record parsing                                                      */
/* ------------------------------------------------------------------ */

static bool
val_eq(const char *v, size_t n, const char *word)
{
	return str_nieq(v, n, word, strlen(word));
}

static int
parse_request(const char *v, size_t n, enum dmarc_policy *out)
{
	if (val_eq(v, n, "none"))
		*out = DMARC_POLICY_NONE;
	else if (val_eq(v, n, "quarantine"))
		*out = DMARC_POLICY_QUARANTINE;
	else if (val_eq(v, n, "reject"))
		*out = DMARC_POLICY_REJECT;
	else
		return -1;
	return 0;
}

/* parse_fo - dmarc-fo: "0"/"1" exclusive, "d", "s", each once */
static int
parse_fo(const char *v, size_t n, char *out, size_t outsz)
{
	bool seen[4] = { false, false, false, false };	/* 0 1 d s */
	size_t i = 0, o = 0;

	while (i < n) {
		size_t s = i;
		int k;

		while (i < n && v[i] != ':')
			i++;
		if (i - s != 1)
			return -1;
		switch (ch_lower((unsigned char)v[s])) {
		case '0': k = 0; break;
		case '1': k = 1; break;
		case 'd': k = 2; break;
		case 's': k = 3; break;
		default: return -1;
		}
		if (seen[k] || (k < 2 && seen[1 - k]))
			return -1;
		seen[k] = true;
		if (o + 2 >= outsz)
			return -1;
		if (o)
			out[o++] = ':';
		out[o++] = (char)ch_lower((unsigned char)v[s]);
		if (i < n)
			i++;	/* the colon */
		if (i == n && v[n - 1] == ':')
			return -1;
	}
	if (o == 0)
		return -1;
	out[o] = '\0';
	return 0;
}

/* uri_ok - RFC 3986 scheme ":" rest, printable, no white space */
static bool
uri_ok(const char *u, size_t n)
{
	size_t i;

	if (n == 0 || n > DMARC_URI_MAX || !ch_is_alpha((unsigned char)u[0]))
		return false;
	for (i = 1; i < n && u[i] != ':'; i++)
		if (!ch_is_alnum((unsigned char)u[i]) && u[i] != '+' &&
		    u[i] != '-' && u[i] != '.')
			return false;
	if (i >= n - 1)
		return false;
	for (; i < n; i++)
		if (!ch_is_vchar((unsigned char)u[i]) || u[i] == ';')
			return false;
	return true;
}

/*
 * note - one finding of the parser for a person ("tag: what"), with the
 * untrusted text escaped; nothing when notes is NULL (the milter)
 */
static void
note(struct buf *notes, const char *tag, const char *what, const char *v,
    size_t n)
{
	if (notes == NULL)
		return;
	buf_printf(notes, "%s%s%s", tag, *tag ? ": " : "", what);
	if (v) {
		buf_adds(notes, " '");
		str_escape(notes, v, n, 80);
		buf_adds(notes, "'");
	}
	buf_adds(notes, "\n");
}

/* parse_urilist - comma separated URIs; invalid ones are skipped */
static void
parse_urilist(const char *tag, const char *v, size_t n, char **uris,
    size_t *nuris, unsigned *bad, struct buf *notes)
{
	size_t i = 0;

	while (i < n) {
		size_t s, e, k;

		while (i < n && ch_is_wsp((unsigned char)v[i]))
			i++;
		s = i;
		while (i < n && v[i] != ',')
			i++;
		e = i;
		if (i < n)
			i++;
		while (e > s && ch_is_wsp((unsigned char)v[e - 1]))
			e--;
		/* obs-dmarc-report-size: "!" 1*DIGIT [k/m/g/t] is ignored */
		for (k = s; k < e && v[k] != '!'; k++)
			;
		if (k < e) {
			size_t j = k + 1;

			while (j < e && ch_is_digit((unsigned char)v[j]))
				j++;
			if (j < e && strchr("kmgtKMGT", v[j]) != NULL)
				j++;
			if (j == k + 1 || j != e) {
				(*bad)++;
				note(notes, tag, "bad size suffix, URI ignored:",
				    v + s, e - s);
				continue;
			}
			e = k;
		}
		if (!uri_ok(v + s, e - s)) {
			(*bad)++;
			note(notes, tag, "not a URI, ignored:", v + s, e - s);
			continue;
		}
		if (*nuris < DMARC_MAX_URIS)
			uris[(*nuris)++] = xstrndup(v + s, e - s);
		else
			note(notes, tag, "more than 8 URIs, ignored:", v + s,
			    e - s);
	}
}

static void
record_defaults(struct dmarc_record *r)
{
	memset(r, 0, sizeof(*r));
	r->p = r->sp = r->np = DMARC_POLICY_NONE;
	r->adkim = r->aspf = DMARC_RELAXED;
	r->psd = 'u';
	strcpy(r->fo, "0");
}

/* version_ok - "v" *WSP "=" *WSP "DMARC1" *WSP (";" / end); *pp past it */
static bool
version_ok(const char *p, size_t n, size_t *used)
{
	size_t i = 0;

	while (i < n && ch_is_wsp((unsigned char)p[i]))
		i++;
	if (i >= n || (p[i] != 'v' && p[i] != 'V'))
		return false;
	i++;
	while (i < n && ch_is_wsp((unsigned char)p[i]))
		i++;
	if (i >= n || p[i] != '=')
		return false;
	i++;
	while (i < n && ch_is_wsp((unsigned char)p[i]))
		i++;
	if (n - i < 6 || memcmp(p + i, "DMARC1", 6) != 0)
		return false;
	i += 6;
	while (i < n && ch_is_wsp((unsigned char)p[i]))
		i++;
	if (i < n && p[i] != ';')
		return false;
	*used = i < n ? i + 1 : i;
	return true;
}

enum dmarc_parse
dmarc_record_parse(const char *txt, size_t len, struct dmarc_record *r)
{
	return dmarc_record_parse_notes(txt, len, r, NULL);
}

/* bad_value - a tag's value is not allowed: count and explain it */
static void
bad_value(struct dmarc_record *r, struct buf *notes, const char *tag,
    const char *why, const char *v, size_t n)
{
	r->bad++;
	note(notes, tag, why, v, n);
}

enum dmarc_parse
dmarc_record_parse_notes(const char *txt, size_t len, struct dmarc_record *r,
    struct buf *notes)
{
	unsigned seen = 0;	/* tags already taken: first one wins */
	size_t i, used;

	record_defaults(r);
	for (i = 0; i < len && ch_is_space((unsigned char)txt[i]); i++)
		;
	if (i == len)
		return DMARC_REC_EMPTY;
	if (!version_ok(txt, len, &used))
		return DMARC_REC_NOT_DMARC;
	i = used;
	while (i < len) {
		size_t s = i, e, ns, ne, vs, ve;
		unsigned bit = 0;

		while (i < len && txt[i] != ';')
			i++;
		e = i;
		if (i < len)
			i++;
		while (s < e && ch_is_wsp((unsigned char)txt[s]))
			s++;
		while (e > s && ch_is_wsp((unsigned char)txt[e - 1]))
			e--;
		if (s == e)
			continue;		/* empty element, e.g. ";;" */
		for (ns = ne = s; ne < e && ch_is_alpha((unsigned char)txt[ne]);
		    ne++)
			;
		vs = ne;
		while (vs < e && ch_is_wsp((unsigned char)txt[vs]))
			vs++;
		if (ne == ns || vs >= e || txt[vs] != '=') {
			/* not tag=value: discarded */
			bad_value(r, notes, "", "not tag=value, ignored:",
			    txt + s, e - s);
			continue;
		}
		vs++;
		while (vs < e && ch_is_wsp((unsigned char)txt[vs]))
			vs++;
		ve = e;
#define TAG(name) (ne - ns == strlen(name) && \
		    str_nieq(txt + ns, ne - ns, name, strlen(name)))
#define ONCE(b) bit = (b); if (seen & bit) { \
			note(notes, "", "repeated tag ignored (the first one " \
			    "counts):", txt + s, e - s); \
			continue; \
		} seen |= bit
#define BAD(tag, why) bad_value(r, notes, tag, why, txt + vs, ve - vs)
		if (TAG("p")) {
			ONCE(1);
			if (parse_request(txt + vs, ve - vs, &r->p) == 0)
				r->p_set = true;
			else {
				r->p_bad = true;
				note(notes, "p", "not none, quarantine or "
				    "reject:", txt + vs, ve - vs);
			}
		} else if (TAG("sp")) {
			ONCE(2);
			if (parse_request(txt + vs, ve - vs, &r->sp) == 0)
				r->sp_set = true;
			else {
				r->sp_bad = true;
				note(notes, "sp", "not none, quarantine or "
				    "reject:", txt + vs, ve - vs);
			}
		} else if (TAG("np")) {
			ONCE(4);
			if (parse_request(txt + vs, ve - vs, &r->np) == 0)
				r->np_set = true;
			else {
				r->np_bad = true;
				note(notes, "np", "not none, quarantine or "
				    "reject:", txt + vs, ve - vs);
			}
		} else if (TAG("adkim") || TAG("aspf")) {
			enum dmarc_align_mode *m = TAG("adkim") ? &r->adkim :
			    &r->aspf;

			ONCE(m == &r->adkim ? 8u : 16u);
			if (val_eq(txt + vs, ve - vs, "s"))
				*m = DMARC_STRICT;
			else if (!val_eq(txt + vs, ve - vs, "r"))
				BAD(m == &r->adkim ? "adkim" : "aspf",
				    "not r or s, r used:");
		} else if (TAG("t")) {
			ONCE(32);
			if (val_eq(txt + vs, ve - vs, "y"))
				r->testing = true;
			else if (!val_eq(txt + vs, ve - vs, "n"))
				BAD("t", "not y or n, n used:");
		} else if (TAG("psd")) {
			ONCE(64);
			if (ve - vs == 1 && strchr("ynuYNU", txt[vs]) != NULL)
				r->psd = (char)ch_lower((unsigned char)txt[vs]);
			else
				BAD("psd", "not y, n or u, u used:");
		} else if (TAG("fo")) {
			ONCE(128);
			if (parse_fo(txt + vs, ve - vs, r->fo,
			    sizeof(r->fo)) < 0) {
				strcpy(r->fo, "0");
				BAD("fo", "not a list of 0, 1, d, s; 0 used:");
			}
		} else if (TAG("rua")) {
			ONCE(256);
			parse_urilist("rua", txt + vs, ve - vs, r->rua,
			    &r->nrua, &r->bad, notes);
		} else if (TAG("ruf")) {
			ONCE(512);
			parse_urilist("ruf", txt + vs, ve - vs, r->ruf,
			    &r->nruf, &r->bad, notes);
		} else if (TAG("pct") || TAG("rf") || TAG("ri")) {
			/* RFC 9989 removed them: ignored */
			r->removed |= TAG("pct") ? DMARC_RM_PCT : TAG("rf") ?
			    DMARC_RM_RF : DMARC_RM_RI;
			note(notes, "", "tag removed by RFC 9989, ignored:",
			    txt + s, e - s);
		} else {
			r->unknown++;
			note(notes, "", "unknown tag ignored:", txt + s, e - s);
		}
#undef TAG
#undef ONCE
#undef BAD
	}
	return DMARC_REC_OK;
}

void
dmarc_record_release(struct dmarc_record *r)
{
	size_t i;

	for (i = 0; i < r->nrua; i++)
		free(r->rua[i]);
	for (i = 0; i < r->nruf; i++)
		free(r->ruf[i]);
	r->nrua = r->nruf = 0;
}

void
dmarc_record_copy(struct dmarc_record *dst, const struct dmarc_record *src)
{
	size_t i;

	*dst = *src;
	for (i = 0; i < src->nrua; i++)
		dst->rua[i] = xstrdup(src->rua[i]);
	for (i = 0; i < src->nruf; i++)
		dst->ruf[i] = xstrdup(src->ruf[i]);
}

/* ------------------------------------------------------------------ */
/* the per-evaluation query cache                                      */
/* ------------------------------------------------------------------ */

enum qstate {
	Q_NONE,		/* no DMARC record (or several: discarded) */
	Q_FOUND,	/* exactly one DMARC record */
	Q_TEMP		/* temporary DNS failure */
};

struct qent {
	char	 name[DOMAIN_MAX + 1];	/* the domain, without "_dmarc." */
	enum qstate st;
	enum dns_status dns;
	bool	 multiple;
	struct dmarc_record rec;
};

struct ctx {
	struct dns_resolver *r;
	struct dns_budget *b;
	const struct dmarc_opts *o;
	struct qent *q;
	unsigned nq, max;
	unsigned queries;	/* DNS lookups sent (incl. existence) */
	bool	 limit_hit;
	bool	 multiple;
	char	 tempname[DOMAIN_MAX + 8];
};

static void
ctx_init(struct ctx *c, struct dns_resolver *r, struct dns_budget *b,
    const struct dmarc_opts *o)
{
	memset(c, 0, sizeof(*c));
	c->r = r;
	c->b = b;
	c->o = o;
	c->max = o->max_queries < DMARC_WALK_MAX ? DMARC_WALK_MAX :
	    o->max_queries;
	c->q = xcalloc(c->max, sizeof(*c->q));
}

static void
ctx_release(struct ctx *c)
{
	unsigned i;

	for (i = 0; i < c->nq; i++)
		dmarc_record_release(&c->q[i].rec);
	free(c->q);
}

/* query - the cached "_dmarc.<name>" answer, or NULL at the bound */
static const struct qent *
query(struct ctx *c, const char *name)
{
	struct dns_answer *a;
	struct qent *q;
	char qname[DOMAIN_MAX + 16];
	size_t i, found = 0;
	unsigned k;

	for (k = 0; k < c->nq; k++)
		if (strcmp(c->q[k].name, name) == 0)
			return &c->q[k];
	if (c->nq >= c->max) {
		c->limit_hit = true;
		return NULL;
	}
	q = &c->q[c->nq++];
	memset(q, 0, sizeof(*q));
	strcpy(q->name, name);
	record_defaults(&q->rec);
	snprintf(qname, sizeof(qname), "_dmarc.%s", name);
	c->queries++;
	q->dns = dns_lookup(c->r, qname, DNS_T_TXT, c->b, &a);
	if (dns_status_is_temp(q->dns)) {
		q->st = Q_TEMP;
		dns_answer_free(a);
		return q;
	}
	q->st = Q_NONE;
	for (i = 0; q->dns == DNS_OK && i < a->n; i++) {
		struct dmarc_record r;

		if (a->rrs[i].type != DNS_T_TXT || a->rrs[i].txt == NULL)
			continue;
		if (dmarc_record_parse(a->rrs[i].txt, a->rrs[i].txt_len,
		    &r) != DMARC_REC_OK) {
			dmarc_record_release(&r);
			continue;
		}
		if (found++ == 0) {
			q->rec = r;
		} else {
			dmarc_record_release(&r);
		}
	}
	if (found == 1) {
		q->st = Q_FOUND;
	} else if (found > 1) {
		dmarc_record_release(&q->rec);
		record_defaults(&q->rec);
		q->multiple = c->multiple = true;
	}
	dns_answer_free(a);
	return q;
}

/* parent - the name without its left-most label, or NULL for a TLD */
static const char *
parent(const char *d)
{
	const char *dot = strchr(d, '.');

	return dot ? dot + 1 : NULL;
}

/* last_labels - the right-most k labels of d */
static const char *
last_labels(const char *d, size_t k)
{
	size_t n = domain_labels(d);

	while (n > k && d) {
		d = parent(d);
		n--;
	}
	return d;
}

enum walk_rc {
	WALK_OK = 0,
	WALK_TEMP = -1,
	WALK_LIMIT = -2
};

/*
 * walk - RFC 9989 4.10 from start (included or not), collecting the
 * names with one DMARC record, longest first; stops at psd=y / psd=n.
 */
static enum walk_rc
walk(struct ctx *c, const char *start, bool include_start,
    const struct qent **hits, size_t *nh)
{
	const char *cur = start;
	size_t x = domain_labels(start);
	const struct qent *q;

	*nh = 0;
	if (!include_start) {
		if (x <= 1)
			return WALK_OK;
		cur = x < 8 ? parent(start) : last_labels(start, 7);
	}
	for (;;) {
		if ((q = query(c, cur)) == NULL)
			return WALK_LIMIT;
		if (q->st == Q_TEMP) {
			snprintf(c->tempname, sizeof(c->tempname), "_dmarc.%s",
			    cur);
			return WALK_TEMP;
		}
		if (q->st == Q_FOUND) {
			hits[(*nh)++] = q;
			if (q->rec.psd == 'y' || q->rec.psd == 'n')
				return WALK_OK;
		}
		x = domain_labels(cur);
		if (x <= 1)
			return WALK_OK;
		cur = (cur == start && x >= 8) ? last_labels(cur, 7) :
		    parent(cur);
	}
}

/* select_org - RFC 9989 4.10.2 selection over walk hits */
static void
select_org(const char *start, const struct qent *const *hits, size_t nh,
    char *out)
{
	size_t i;

	for (i = 0; i < nh; i++) {
		if (hits[i]->rec.psd == 'n') {
			strcpy(out, hits[i]->name);
			return;
		}
		if (hits[i]->rec.psd == 'y' && strcmp(hits[i]->name, start)) {
			strcpy(out, last_labels(start,
			    domain_labels(hits[i]->name) + 1));
			return;
		}
	}
	strcpy(out, nh ? hits[nh - 1]->name : start);
}

/* org_of - Organizational Domain of name into out */
static enum walk_rc
org_of(struct ctx *c, const char *name, char *out)
{
	const struct qent *hits[DMARC_WALK_MAX + 1];
	size_t nh;
	enum walk_rc rc;

	if (c->o->mode == DMARC_ORG_PSL) {
		if (c->o->psl == NULL ||
		    psl_registrable(c->o->psl, name, out, DOMAIN_MAX + 1) < 0)
			strcpy(out, name);
		return WALK_OK;
	}
	if ((rc = walk(c, name, true, hits, &nh)) != WALK_OK)
		return rc;
	select_org(name, hits, nh, out);
	return WALK_OK;
}

int
dmarc_org_domain(struct dns_resolver *r, struct dns_budget *b,
    const struct dmarc_opts *o, const char *name, char *out,
    unsigned *queries)
{
	struct ctx c;
	enum walk_rc rc;

	ctx_init(&c, r, b, o);
	rc = org_of(&c, name, out);
	if (queries)
		*queries = c.queries;
	ctx_release(&c);
	return (int)rc;
}

/* ------------------------------------------------------------------ */
/* alignment                                                           */
/* ------------------------------------------------------------------ */

struct align_state {
	char	 author_org[DOMAIN_MAX + 1];
	int	 author_org_rc;		/* 1 = not yet computed */
};

/* align - 1 aligned, 0 not, WALK_TEMP / WALK_LIMIT undetermined */
static int
align(struct ctx *c, struct align_state *as, const char *author,
    const char *id, enum dmarc_align_mode mode)
{
	char org[DOMAIN_MAX + 1];
	enum walk_rc rc;

	if (str_ieq(author, id))
		return 1;
	if (mode == DMARC_STRICT)
		return 0;
	if (as->author_org_rc == 1)
		as->author_org_rc = (int)org_of(c, author, as->author_org);
	if (as->author_org_rc != WALK_OK)
		return as->author_org_rc;
	/* an Organizational Domain is always the name or a parent of it */
	if (!domain_is_subdomain(id, as->author_org))
		return 0;
	if ((rc = org_of(c, id, org)) != WALK_OK)
		return rc;
	return strcmp(org, as->author_org) == 0;
}

int
dmarc_aligned(struct dns_resolver *r, struct dns_budget *b,
    const struct dmarc_opts *o, const char *author, const char *id,
    enum dmarc_align_mode mode)
{
	struct ctx c;
	struct align_state as = { "", 1 };
	int rc;

	ctx_init(&c, r, b, o);
	rc = align(&c, &as, author, id, mode);
	ctx_release(&c);
	return rc < 0 ? -1 : rc;
}

/* ------------------------------------------------------------------ */
/* evaluation                                                          */
/* ------------------------------------------------------------------ */

/* author_exists - 1 yes, 0 NXDOMAIN, -1 temporary failure */
static int
author_exists(struct ctx *c, const char *author)
{
	const struct qent *q = query(c, author);
	struct dns_answer *a;
	enum dns_status st;

	if (q && (q->dns == DNS_OK || q->dns == DNS_NODATA))
		return 1;	/* _dmarc.<author> exists, so does author */
	c->queries++;
	st = dns_lookup(c->r, author, DNS_T_A, c->b, &a);
	dns_answer_free(a);
	if (dns_status_is_temp(st)) {
		snprintf(c->tempname, sizeof(c->tempname), "%s", author);
		return -1;
	}
	return st == DNS_NXDOMAIN ? 0 : 1;
}

static enum dmarc_policy
lower_policy(enum dmarc_policy p)
{
	return p == DMARC_POLICY_REJECT ? DMARC_POLICY_QUARANTINE :
	    DMARC_POLICY_NONE;
}

/* discover - find the record; returns false with o->result set if done */
static bool
discover(struct ctx *c, const char *author, struct dmarc_outcome *o,
    struct align_state *as)
{
	const struct qent *qa, *pick = NULL;
	const struct qent *hits[DMARC_WALK_MAX + 1];
	size_t nh = 0, i;
	char org[DOMAIN_MAX + 1];
	enum walk_rc rc;

	if ((qa = query(c, author)) == NULL) {
		o->result = DMARC_RES_PERMERROR;	/* cannot happen */
		return false;
	}
	if (qa->st == Q_TEMP) {
		o->result = DMARC_RES_TEMPERROR;
		snprintf(o->detail, sizeof(o->detail), "DNS failure for "
		    "_dmarc.%s (%s)", author, dns_status_name(qa->dns));
		return false;
	}
	if (qa->st == Q_FOUND) {
		pick = qa;
	} else if (c->o->mode == DMARC_ORG_PSL) {
		if (c->o->psl == NULL ||
		    psl_registrable(c->o->psl, author, org, sizeof(org)) < 0)
			strcpy(org, author);
		strcpy(as->author_org, org);
		as->author_org_rc = WALK_OK;
		if (strcmp(org, author) != 0) {
			const struct qent *qo = query(c, org);

			if (qo && qo->st == Q_TEMP) {
				o->result = DMARC_RES_TEMPERROR;
				snprintf(o->detail, sizeof(o->detail), "DNS "
				    "failure for _dmarc.%s (%s)", org,
				    dns_status_name(qo->dns));
				return false;
			}
			if (qo && qo->st == Q_FOUND)
				pick = qo;
		}
	} else {
		rc = walk(c, author, false, hits, &nh);
		if (rc == WALK_TEMP) {
			o->result = DMARC_RES_TEMPERROR;
			snprintf(o->detail, sizeof(o->detail), "DNS failure "
			    "for %s during the tree walk", c->tempname);
			return false;
		}
		/* WALK_LIMIT cannot happen: a walk is at most 8 queries */
		if (nh > 0) {
			select_org(author, hits, nh, org);
			strcpy(as->author_org, org);
			as->author_org_rc = WALK_OK;
			for (i = 0; i < nh && !pick; i++)
				if (strcmp(hits[i]->name, org) == 0)
					pick = hits[i];
			if (pick == NULL && strcmp(org, author) != 0) {
				/* skipped by the 8-label shortcut? ask */
				const struct qent *qo = query(c, org);

				if (qo && qo->st == Q_TEMP) {
					o->result = DMARC_RES_TEMPERROR;
					snprintf(o->detail, sizeof(o->detail),
					    "DNS failure for _dmarc.%s", org);
					return false;
				}
				if (qo && qo->st == Q_FOUND)
					pick = qo;
			}
			if (pick == NULL)
				pick = hits[nh - 1];	/* the PSD's record */
		}
	}
	if (pick == NULL) {
		o->result = DMARC_RES_NONE;
		snprintf(o->detail, sizeof(o->detail), "no DMARC record%s",
		    c->multiple ? " (several records at one name ignored)" :
		    "");
		return false;
	}
	o->have_record = true;
	dmarc_record_copy(&o->rec, &pick->rec);
	strcpy(o->policy_domain, pick->name);
	return true;
}

/* choose_policy - p / sp / np; -1 if existence could not be learnt */
static int
choose_policy(struct ctx *c, const char *author, struct dmarc_outcome *o,
    bool need_exact)
{
	const struct dmarc_record *r = &o->rec;
	enum dmarc_policy sub = r->sp_set ? r->sp : r->p;
	int ex;

	if (o->fallback_none) {
		o->policy_tag = "p";
		o->policy = DMARC_POLICY_NONE;
	} else if (strcmp(o->policy_domain, author) == 0) {
		o->policy_tag = "p";
		o->policy = r->p;
	} else if (r->np_set && r->np != sub && need_exact) {
		if ((ex = author_exists(c, author)) < 0)
			return -1;
		o->nonexistent = ex == 0;
		o->policy_tag = ex ? (r->sp_set ? "sp" : "p") : "np";
		o->policy = ex ? sub : r->np;
	} else {
		o->policy_tag = r->sp_set ? "sp" : "p";
		o->policy = sub;
	}
	o->applied = r->testing ? lower_policy(o->policy) : o->policy;
	return 0;
}

void
dmarc_evaluate(struct dns_resolver *r, struct dns_budget *b,
    const struct dmarc_opts *opts, const struct dmarc_input *in,
    struct dmarc_outcome *o)
{
	struct ctx c;
	struct align_state as = { "", 1 };
	bool temp = false;
	size_t i;
	int a, pass;

	memset(o, 0, sizeof(*o));
	o->method = opts->mode;
	ctx_init(&c, r, b, opts);
	if (!discover(&c, in->author, o, &as))
		goto done;
	if (!o->rec.p_set || o->rec.sp_bad || o->rec.np_bad) {
		if (o->rec.nrua == 0) {
			o->result = DMARC_RES_PERMERROR;
			snprintf(o->detail, sizeof(o->detail), "record at "
			    "_dmarc.%s has %s and no valid rua: no policy "
			    "applies", o->policy_domain, o->rec.p_set ?
			    "a bad sp or np" : o->rec.p_bad ? "a bad p" :
			    "no p");
			goto done;
		}
		o->fallback_none = true;	/* RFC 9989 4.10.1 */
	}

	/* SPF: only a pass on the MAIL FROM identity counts */
	if (in->spf == AUTH_PASS && in->spf_domain && *in->spf_domain) {
		a = align(&c, &as, in->author, in->spf_domain, o->rec.aspf);
		if (a == 1)
			o->spf_aligned = true;
		else if (a < 0)
			temp = true;
	}
	/* DKIM: identical domains first (no DNS), then relaxed */
	for (pass = 0; pass < 2 && !o->dkim_aligned; pass++) {
		for (i = 0; i < in->ndkim && !o->dkim_aligned; i++) {
			const struct dmarc_dkim_sig *s = &in->dkim[i];
			bool same = str_ieq(s->domain, in->author);

			if (s->result != AUTH_PASS || (pass == 0) != same)
				continue;
			a = align(&c, &as, in->author, s->domain, o->rec.adkim);
			if (a == 1) {
				o->dkim_aligned = true;
				strcpy(o->dkim_domain, s->domain);
				snprintf(o->dkim_selector,
				    sizeof(o->dkim_selector), "%s",
				    s->selector);
			} else if (a < 0) {
				temp = true;
			}
		}
	}
	if (as.author_org_rc == WALK_OK)
		strcpy(o->org_domain, as.author_org);

	if (o->spf_aligned || o->dkim_aligned) {
		o->result = DMARC_RES_PASS;
		(void)choose_policy(&c, in->author, o, false);
		snprintf(o->detail, sizeof(o->detail), "%s%s%s aligned",
		    o->dkim_aligned ? "DKIM" : "", o->dkim_aligned &&
		    o->spf_aligned ? " and " : "", o->spf_aligned ? "SPF" : "");
		goto done;
	}
	if (temp && !c.limit_hit) {
		o->result = DMARC_RES_TEMPERROR;
		snprintf(o->detail, sizeof(o->detail), "DNS failure for %s "
		    "while checking alignment", c.tempname);
		goto done;
	}
	/*
	 * An SPF or DKIM check that could not complete (temperror) for an
	 * identifier that aligns might have passed: the outcome depends
	 * on it, so it is temperror, not fail.
	 */
	if (in->spf == AUTH_TEMPERROR && in->spf_domain && *in->spf_domain &&
	    align(&c, &as, in->author, in->spf_domain, o->rec.aspf) != 0) {
		o->result = DMARC_RES_TEMPERROR;
		snprintf(o->detail, sizeof(o->detail), "SPF temperror for "
		    "%s, which would align", in->spf_domain);
		goto done;
	}
	for (i = 0; i < in->ndkim; i++) {
		const struct dmarc_dkim_sig *s = &in->dkim[i];

		if (s->result == AUTH_TEMPERROR &&
		    align(&c, &as, in->author, s->domain, o->rec.adkim) != 0) {
			o->result = DMARC_RES_TEMPERROR;
			snprintf(o->detail, sizeof(o->detail), "DKIM temperror "
			    "for d=%s, which would align", s->domain);
			goto done;
		}
	}
	if (choose_policy(&c, in->author, o, true) < 0) {
		o->result = DMARC_RES_TEMPERROR;
		snprintf(o->detail, sizeof(o->detail), "DNS failure for %s "
		    "while checking that the domain exists", c.tempname);
		goto done;
	}
	o->result = DMARC_RES_FAIL;
	snprintf(o->detail, sizeof(o->detail), "neither SPF nor DKIM aligned "
	    "with %s%s", in->author, c.limit_hit ? " (query limit reached)" :
	    "");
done:
	o->queries = c.queries;
	o->limit_hit = c.limit_hit;
	o->multiple_records = c.multiple;
	ctx_release(&c);
}

void
dmarc_outcome_release(struct dmarc_outcome *o)
{
	if (o->have_record)
		dmarc_record_release(&o->rec);
	o->have_record = false;
}

/* ------------------------------------------------------------------ */
/* report destinations (RFC 9990 section 3)                            */
/* ------------------------------------------------------------------ */

int
dmarc_mailto(const char *uri, char *addr, size_t addrsz)
{
	const char *p;
	size_t n;

	if (!str_has_iprefix(uri, "mailto:") || addrsz < SMTPADDR_MAX + 1)
		return -1;
	p = uri + 7;
	n = strcspn(p, "?");		/* hfields (RFC 6068) are ignored */
	if (memchr(p, '%', n) != NULL)
		return -1;	/* no percent-encoded addresses */
	return smtpaddr_parse(p, n, SMTPADDR_FQDN, addr, addrsz);
}

enum dmarc_dest
dmarc_report_destination(struct dns_resolver *r, struct dns_budget *b,
    const struct dmarc_opts *o, const char *policy_domain, const char *uri,
    char *addr, size_t addrsz)
{
	const char *host;

	if (dmarc_mailto(uri, addr, addrsz) < 0)
		return DMARC_DEST_BAD;
	/* the domain of the very address that will be used */
	host = strrchr(addr, '@') + 1;
	if (domain_is_subdomain(host, policy_domain))
		return DMARC_DEST_OK;
	if (r == NULL)
		return DMARC_DEST_TEMP;
	switch (dmarc_verify_external(r, b, o, policy_domain, host)) {
	case 1: return DMARC_DEST_OK;
	case 0: return DMARC_DEST_DENIED;
	default: return DMARC_DEST_TEMP;
	}
}

int
dmarc_verify_external(struct dns_resolver *r, struct dns_budget *b,
    const struct dmarc_opts *o, const char *policy_domain, const char *host)
{
	char org1[DOMAIN_MAX + 1], org2[DOMAIN_MAX + 1];
	char qname[2 * DOMAIN_MAX + 32];
	struct dns_answer *a;
	enum dns_status st;
	size_t i;
	int ok = 0;

	if (dmarc_org_domain(r, b, o, policy_domain, org1, NULL) < 0 ||
	    dmarc_org_domain(r, b, o, host, org2, NULL) < 0)
		return -1;
	if (strcmp(org1, org2) == 0)
		return 1;
	if ((size_t)snprintf(qname, sizeof(qname), "%s._report._dmarc.%s",
	    policy_domain, host) >= sizeof(qname) || strlen(qname) > DOMAIN_MAX)
		return 0;
	st = dns_lookup(r, qname, DNS_T_TXT, b, &a);
	if (dns_status_is_temp(st)) {
		dns_answer_free(a);
		return -1;
	}
	for (i = 0; st == DNS_OK && i < a->n; i++) {
		size_t used;

		if (a->rrs[i].txt && version_ok(a->rrs[i].txt,
		    a->rrs[i].txt_len, &used))
			ok = 1;
	}
	dns_answer_free(a);
	return ok;
}
