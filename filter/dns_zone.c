/*
 * dns_zone.c - a resolver backend answering from zone files only
 *
 * DESCRIPTION
 *	Master-format files (RFC 1035 5; $ORIGIN, $TTL, relative names,
 *	parentheses, \DDD escapes and RFC 3597 "\# 0" rdata, all as ldns
 *	parses them) are loaded into one name space.  Queries are answered
 *	the way an authoritative server with a recursive resolver in front
 *	would answer them:
 *
 *	- records of the type: DNS_OK;
 *	- the name exists (it owns records, or is an ancestor of a name
 *	  that does, an "empty non-terminal"), no record of the type:
 *	  DNS_NODATA;
 *	- otherwise a wildcard "*.<closest encloser>" answers (RFC 4592),
 *	  or DNS_NXDOMAIN;
 *	- CNAMEs are followed (DNS_MAX_CNAME links; a loop is SERVFAIL).
 *
 *	Negative answers get min(SOA TTL, SOA MINIMUM) of the nearest SOA
 *	above the name as their TTL (RFC 2308 5); without one they are not
 *	cached.
 *
 *	Failures that a real zone cannot express are declared by lines
 *	whose second field is a pseudo-type (the convention of
 *	shared/testdata/dkim/keys.zone, extended):
 *
 *	    NAME  NXDOMAIN              the name does not exist
 *	    NAME  SERVFAIL [TYPE ...]   queries answer SERVFAIL
 *	    NAME  TIMEOUT  [TYPE ...]   queries time out
 *	    NAME  DELAY    MS           answers come MS milliseconds late
 *
 *	SERVFAIL and TIMEOUT without types apply to every type the name
 *	has no records of, so "records, then TIMEOUT" answers the listed
 *	types and times out on the rest (the RFC 7208 suite's TIMEOUT).
 *	TIMEOUT answers at once (tests stay fast); DELAY really waits, up
 *	to the query's timeout, and is what deadline tests and benchmarks
 *	use.
 *
 * SECURITY
 *	Zone files are configuration, but records go through the same
 *	converter (dns_conv.c) as network answers.  Files are capped at
 *	64 MiB each.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "dns_int.h"
#include "files.h"
#include "str.h"
#include "strmap.h"

#define ZONE_MAX_FILE	(64u * 1024 * 1024)
#define ZONE_MAX_FAILTYPES 16

struct znode {
	struct dns_answer rrs;		/* records of types dns.h knows */
	bool	 owner;			/* owns records (any type) */
	bool	 nxdomain;
	bool	 timeout_all, servfail_all;
	uint16_t timeout_types[ZONE_MAX_FAILTYPES];
	uint16_t servfail_types[ZONE_MAX_FAILTYPES];
	size_t	 ntimeout, nservfail;
	double	 delay_ms;
	long	 neg_ttl;		/* from an SOA owned here, or -1 */
};

struct zone {
	struct strmap *nodes;		/* raw text name -> struct znode */
};

static void
znode_free(void *p)
{
	struct znode *z = p;
	size_t i;

	for (i = 0; i < z->rrs.n; i++) {
		free(z->rrs.rrs[i].name);
		free(z->rrs.rrs[i].txt);
	}
	free(z->rrs.rrs);
	free(z);
}

/* node_get - the node of name, created (with its ancestors) on demand */
static struct znode *
node_get(struct zone *zn, const char *name)
{
	struct znode *z = strmap_get(zn->nodes, name);
	const char *p;

	if (z)
		return z;
	z = xcalloc(1, sizeof(*z));
	z->neg_ttl = -1;
	strmap_put(zn->nodes, name, z);
	/* ancestors exist as empty non-terminals */
	for (p = name; (p = strchr(p, '.')) != NULL;) {
		p++;
		if (strmap_get(zn->nodes, p))
			break;
		z = xcalloc(1, sizeof(*z));
		z->neg_ttl = -1;
		strmap_put(zn->nodes, p, z);
	}
	return strmap_get(zn->nodes, name);
}

/* ---- loading ---- */

struct loadctx {
	struct zone *zn;
	const char *origin;		/* file name for messages */
	struct buf *why;
	char	 dorigin[LDNS_MAX_DOMAINLEN * 4 + 2];	/* $ORIGIN, text */
};

/* owner_text - a directive's owner in raw text form, relative to origin */
static int
owner_text(struct loadctx *lc, const char *tok, char *out, size_t outsz)
{
	struct buf full = BUF_INIT;
	ldns_rdf *rdf;
	int rc;

	if (strcmp(tok, "@") == 0)
		buf_adds(&full, lc->dorigin[0] ? lc->dorigin : ".");
	else {
		buf_adds(&full, tok);
		if (tok[strlen(tok) - 1] != '.' || (strlen(tok) >= 2 &&
		    tok[strlen(tok) - 2] == '\\')) {
			buf_addc(&full, '.');
			buf_adds(&full, lc->dorigin);
		}
	}
	rdf = ldns_dname_new_frm_str(buf_cstr(&full));
	buf_release(&full);
	if (rdf == NULL)
		return -1;
	rc = dns_dname_text(rdf, out, outsz);
	ldns_rdf_deep_free(rdf);
	return rc;
}

/* add_failtypes - the TYPE list after SERVFAIL / TIMEOUT */
static int
add_failtypes(char **toks, size_t ntok, uint16_t *types, size_t *n, bool *all)
{
	size_t i;

	if (ntok == 2) {
		*all = true;
		return 0;
	}
	for (i = 2; i < ntok; i++) {
		if (*n >= ZONE_MAX_FAILTYPES || dns_type_parse(toks[i],
		    &types[*n]) < 0)
			return -1;
		(*n)++;
	}
	return 0;
}

/*
 * directive - handle "NAME PSEUDOTYPE ..." lines; returns 1 if the
 * line was one, 0 if not, -1 on error (why set).
 */
static int
directive(struct loadctx *lc, char *line, unsigned lineno)
{
	char *toks[ZONE_MAX_FAILTYPES + 3], *save = NULL, *t, *semi;
	char name[LDNS_MAX_DOMAINLEN * 4 + 1];
	size_t ntok = 0;
	struct znode *z;
	uint64_t ms;
	int rc = 0;

	if ((semi = strchr(line, ';')) != NULL && strchr(line, '"') == NULL)
		*semi = '\0';
	if (ch_is_space((unsigned char)line[0]))
		return 0;	/* owner inherited: an ordinary record */
	for (t = strtok_r(line, " \t\r", &save); t && ntok < sizeof(toks) /
	    sizeof(toks[0]); t = strtok_r(NULL, " \t\r", &save))
		toks[ntok++] = t;
	if (ntok < 2)
		return 0;
	if (!str_ieq(toks[1], "NXDOMAIN") && !str_ieq(toks[1], "SERVFAIL") &&
	    !str_ieq(toks[1], "TIMEOUT") && !str_ieq(toks[1], "DELAY"))
		return 0;
	if (owner_text(lc, toks[0], name, sizeof(name)) < 0) {
		buf_printf(lc->why, "%s:%u: bad owner name '%.100s'",
		    lc->origin, lineno, toks[0]);
		return -1;
	}
	z = node_get(lc->zn, name);
	if (str_ieq(toks[1], "NXDOMAIN")) {
		z->nxdomain = true;
		rc = ntok == 2 ? 0 : -1;
	} else if (str_ieq(toks[1], "SERVFAIL"))
		rc = add_failtypes(toks, ntok, z->servfail_types, &z->nservfail,
		    &z->servfail_all);
	else if (str_ieq(toks[1], "TIMEOUT"))
		rc = add_failtypes(toks, ntok, z->timeout_types, &z->ntimeout,
		    &z->timeout_all);
	else if (ntok == 3 && parse_uint(toks[2], 0, 600000, &ms) == 0)
		z->delay_ms = (double)ms;
	else
		rc = -1;
	if (rc < 0) {
		buf_printf(lc->why, "%s:%u: bad %s line (expected NAME NXDOMAIN"
		    ", NAME SERVFAIL|TIMEOUT [TYPE...] or NAME DELAY MS)",
		    lc->origin, lineno, toks[1]);
		return -1;
	}
	return 1;
}

/* track_origin - follow $ORIGIN lines for directive owners */
static void
track_origin(struct loadctx *lc, const char *line)
{
	const char *p = line + 7;
	size_t n;

	while (ch_is_wsp((unsigned char)*p))
		p++;
	n = strcspn(p, " \t\r;");
	if (n >= sizeof(lc->dorigin))
		n = sizeof(lc->dorigin) - 1;
	memcpy(lc->dorigin, p, n);
	lc->dorigin[n] = '\0';
}

/*
 * strip_directives - copy text to out with directive lines blanked
 * (line numbers stay right for ldns' messages)
 */
static int
strip_directives(struct loadctx *lc, const char *text, size_t len,
    struct buf *out)
{
	const char *p = text, *end = text + len, *nl;
	struct buf line = BUF_INIT;
	unsigned lineno = 0;
	int depth = 0, rc;
	size_t i;

	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		buf_reset(&line);
		buf_add(&line, p, (size_t)((nl ? nl : end) - p));
		lineno++;
		rc = 0;
		if (depth == 0 && str_has_iprefix(line.data, "$ORIGIN"))
			track_origin(lc, line.data);
		else if (depth == 0)
			rc = directive(lc, line.data, lineno);
		if (rc < 0) {
			buf_release(&line);
			return -1;
		}
		if (rc == 0) {
			buf_add(out, p, (size_t)((nl ? nl : end) - p));
			for (i = 0; i < (size_t)((nl ? nl : end) - p); i++)
				if (p[i] == '(')
					depth++;
				else if (p[i] == ')' && depth > 0)
					depth--;
				else if (p[i] == ';' || p[i] == '"')
					break;	/* rough: enough for tracking */
		}
		buf_addc(out, '\n');
		p = nl ? nl + 1 : end;
	}
	buf_release(&line);
	return 0;
}

/* add_record - file one parsed record under its owner */
static int
add_record(struct loadctx *lc, ldns_rr *rr, int lineno)
{
	char name[LDNS_MAX_DOMAINLEN * 4 + 1];
	struct znode *z;
	long neg;

	if (ldns_rr_get_class(rr) != LDNS_RR_CLASS_IN ||
	    dns_dname_text(ldns_rr_owner(rr), name, sizeof(name)) < 0) {
		buf_printf(lc->why, "%s:%d: record of another class or with "
		    "a bad owner", lc->origin, lineno);
		return -1;
	}
	z = node_get(lc->zn, name);
	z->owner = true;
	if ((neg = dns_soa_negative_ttl(rr)) >= 0)
		z->neg_ttl = neg;
	if (dns_rr_convert(rr, &z->rrs) < 0) {
		buf_printf(lc->why, "%s:%d: malformed record data", lc->origin,
		    lineno);
		return -1;
	}
	return 0;
}

/* load_text - parse one zone text into zn */
static int
load_text(struct zone *zn, const char *text, size_t len, const char *origin,
    struct buf *why)
{
	struct loadctx lc;
	struct buf clean = BUF_INIT;
	ldns_rdf *org = ldns_dname_new_frm_str("."), *prev = NULL;
	uint32_t ttl = 3600;
	ldns_status st;
	ldns_rr *rr;
	int line = 0, rc = -1;
	FILE *f = NULL;

	memset(&lc, 0, sizeof(lc));
	lc.zn = zn;
	lc.origin = origin;
	lc.why = why;
	if (memchr(text, '\0', len)) {
		buf_printf(why, "%s: NUL byte in zone file", origin);
		goto out;
	}
	if (strip_directives(&lc, text, len, &clean) < 0)
		goto out;
	if (clean.len == 0 ||
	    (f = fmemopen(clean.data, clean.len, "r")) == NULL) {
		rc = clean.len == 0 ? 0 : -1;
		if (rc < 0)
			buf_printf(why, "%s: cannot read zone text", origin);
		goto out;
	}
	for (;;) {
		rr = NULL;
		st = ldns_rr_new_frm_fp_l(&rr, f, &ttl, &org, &prev, &line);
		if (st == LDNS_STATUS_OK) {
			if (add_record(&lc, rr, line) < 0) {
				ldns_rr_free(rr);
				goto out;
			}
			ldns_rr_free(rr);
		} else if (st != LDNS_STATUS_SYNTAX_EMPTY &&
		    st != LDNS_STATUS_SYNTAX_TTL &&
		    st != LDNS_STATUS_SYNTAX_ORIGIN) {
			buf_printf(why, "%s:%d: %s", origin, line,
			    ldns_get_errorstr_by_id(st));
			goto out;
		}
		if (feof(f))
			break;
	}
	rc = 0;
out:
	if (f)
		fclose(f);
	ldns_rdf_deep_free(org);
	ldns_rdf_deep_free(prev);
	buf_release(&clean);
	return rc;
}

/* ---- answering ---- */

/* find - exact node, else a wildcard at the closest encloser, else NULL */
static const struct znode *
find(const struct zone *zn, const char *name)
{
	const struct znode *z = strmap_get(zn->nodes, name);
	const char *p = name;
	struct buf w = BUF_INIT;

	if (z)
		return z;
	while ((p = strchr(p, '.')) != NULL) {
		p++;
		if (strmap_get(zn->nodes, p) == NULL)
			continue;
		buf_printf(&w, "*.%s", p);
		z = strmap_get(zn->nodes, buf_cstr(&w));
		buf_release(&w);
		return z;
	}
	return strmap_get(zn->nodes, "*");
}

/* negative_ttl - from the nearest SOA at or above name; 0 without one */
static uint32_t
negative_ttl(const struct zone *zn, const char *name)
{
	const struct znode *z;
	const char *p = name;

	for (;;) {
		if ((z = strmap_get(zn->nodes, p)) != NULL && z->neg_ttl >= 0)
			return (uint32_t)z->neg_ttl;
		if ((p = strchr(p, '.')) == NULL)
			return 0;
		p++;
	}
}

static bool
has_type(const struct znode *z, uint16_t type)
{
	size_t i;

	for (i = 0; i < z->rrs.n; i++)
		if (z->rrs.rrs[i].type == type)
			return true;
	return false;
}

static bool
listed(const uint16_t *types, size_t n, uint16_t type)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (types[i] == type)
			return true;
	return false;
}

/* delay - DELAY directive; false if it outlasts the query's timeout */
static bool
delay(const struct znode *z, double timeout_ms)
{
	double ms = z->delay_ms < timeout_ms ? z->delay_ms : timeout_ms;
	struct timespec ts;

	if (ms <= 0)
		return true;
	ts.tv_sec = (time_t)(ms / 1000);
	ts.tv_nsec = (long)((ms - (double)ts.tv_sec * 1000) * 1e6);
	while (nanosleep(&ts, &ts) < 0)
		;
	return z->delay_ms <= timeout_ms;
}

static void
zone_query(void *impl, const char *name, uint16_t type, double timeout_ms,
    struct dns_answer *out)
{
	const struct zone *zn = impl;
	const struct znode *z;
	const char *cur = name;
	uint32_t ttl = UINT32_MAX;
	size_t hop, i;

	for (hop = 0; hop <= DNS_MAX_CNAME; hop++) {
		z = find(zn, cur);
		if (z && !delay(z, timeout_ms)) {
			out->status = DNS_TIMEOUT;
			return;
		}
		if (z == NULL || z->nxdomain) {
			out->status = DNS_NXDOMAIN;
			out->ttl = negative_ttl(zn, cur);
			return;
		}
		if (listed(z->timeout_types, z->ntimeout, type) ||
		    (z->timeout_all && !has_type(z, type))) {
			out->status = DNS_TIMEOUT;
			return;
		}
		if (listed(z->servfail_types, z->nservfail, type) ||
		    (z->servfail_all && !has_type(z, type))) {
			out->status = DNS_SERVFAIL;
			return;
		}
		if (type != DNS_T_CNAME && has_type(z, DNS_T_CNAME) &&
		    !has_type(z, type)) {
			for (i = 0; i < z->rrs.n; i++)
				if (z->rrs.rrs[i].type == DNS_T_CNAME)
					break;
			if (z->rrs.rrs[i].ttl < ttl)
				ttl = z->rrs.rrs[i].ttl;
			cur = z->rrs.rrs[i].name;
			continue;
		}
		for (i = 0; i < z->rrs.n; i++) {
			struct dns_rr *rr;

			if (z->rrs.rrs[i].type != type)
				continue;
			rr = dns_answer_add(out, type);
			*rr = z->rrs.rrs[i];
			rr->name = rr->name ? xstrdup(rr->name) : NULL;
			if (rr->txt) {
				rr->txt = xmalloc(z->rrs.rrs[i].txt_len + 1);
				memcpy(rr->txt, z->rrs.rrs[i].txt,
				    z->rrs.rrs[i].txt_len + 1);
			}
			if (rr->ttl < ttl)
				ttl = rr->ttl;
		}
		if (out->n > 0) {
			out->status = DNS_OK;
			out->ttl = ttl;
		} else {
			out->status = DNS_NODATA;
			out->ttl = negative_ttl(zn, cur);
		}
		return;
	}
	out->status = DNS_SERVFAIL;	/* CNAME chain too long, or a loop */
}

static void
zone_free(void *impl)
{
	struct zone *zn = impl;

	strmap_free(zn->nodes, znode_free);
	free(zn);
}

static const struct dns_backend zone_backend = {
	"zone", zone_query, zone_free
};

static struct zone *
zone_new(void)
{
	struct zone *zn = xcalloc(1, sizeof(*zn));

	zn->nodes = strmap_new();
	return zn;
}

int
dns_zone_open_text(const char *text, size_t len, const char *origin,
    const struct dns_opts *o, struct dns_resolver **out, struct buf *why)
{
	struct zone *zn = zone_new();

	*out = NULL;
	if (load_text(zn, text, len, origin, why) < 0) {
		zone_free(zn);
		return -1;
	}
	*out = dns_resolver_new_opts(&zone_backend, zn, o);
	return 0;
}

int
dns_zone_open(const char *const *paths, size_t n, const struct dns_opts *o,
    struct dns_resolver **out, struct buf *why)
{
	struct zone *zn = zone_new();
	struct buf text = BUF_INIT;
	size_t i;

	*out = NULL;
	for (i = 0; i < n; i++) {
		buf_reset(&text);
		if (files_read(paths[i], ZONE_MAX_FILE, &text, why) < 0 ||
		    load_text(zn, text.data ? text.data : "", text.len,
		    paths[i], why) < 0) {
			buf_release(&text);
			zone_free(zn);
			return -1;
		}
	}
	buf_release(&text);
	*out = dns_resolver_new_opts(&zone_backend, zn, o);
	return 0;
}
