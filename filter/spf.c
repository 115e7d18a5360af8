/*
 * spf.c - Sender Policy Framework: check_host() and Received-SPF
 *
 * DESCRIPTION
 *	spf_check() runs check_host() (RFC 7208 section 4) for one identity:
 *	record lookup and selection (4.4, 4.5), mechanisms in order (5),
 *	redirect when nothing matched (6.1), exp= for a fail of the
 *	outermost evaluation (6.2; includes never explain).  Every query
 *	goes through dns_lookup_ex() with the message's budget; no I/O
 *	happens here otherwise.
 *
 *	Records are parsed whole first (spf_parse.c).  Matching follows
 *	section 5: a and mx compare A or AAAA
 *	addresses under the dual CIDR lengths; IPv4-mapped clients are
 *	IPv4 (netaddr normalises them); ptr validates names by forward
 *	lookup and only names at or below the target count; exists asks
 *	for an A record whatever the client's family.
 *
 * LIMITS
 *	RFC 7208 4.6.4, see spf.h.  Include loops end at the DNS-term
 *	limit (or SPF_MAX_DEPTH, whichever comes first) as permerror.
 *
 * SECURITY
 *	Records, envelope and HELO are untrusted.  Parsing is bounded by
 *	the record length (at most 64 KiB of TXT); names are validated
 *	(dns_name_check) before they are queried and truncated as 7.3
 *	says; temporary DNS failures are temperror and never anything
 *	permanent (STYLE 3.3).
 *
 * STANDARDS
 *	RFC 7208.
 *
 * SEE ALSO
 *	spf.h, spf_parse.c, spf_macro.c, step_spf.c
 */
#include "config.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "buf.h"
#include "dns.h"
#include "spf.h"
#include "str.h"

static const char *const result_names[] = {
	"none", "neutral", "pass", "fail", "softfail", "temperror", "permerror"
};

const char *
spf_result_name(enum spf_result r)
{
	return (unsigned)r < 7 ? result_names[r] : "none";
}

const char *
spf_identity_name(enum spf_identity id)
{
	return id == SPF_ID_HELO ? "helo" : "mailfrom";
}

void
spf_limits_default(struct spf_limits *l)
{
	l->max_dns_terms = 10;
	l->max_void = 2;
	l->max_mx = 10;
	l->max_ptr = 10;
}

/* ---- evaluation ---- */

enum match { M_NO, M_YES, M_TEMP, M_PERM };

struct eval {
	struct dns_resolver *dns;
	struct dns_budget *budget;
	const struct spf_request *req;
	const struct spf_limits *lim;
	struct spf_outcome *out;
	struct buf *trace;
	const char *local, *sender_domain;
	unsigned lookups, voids, queries;
	/* validated names of the client, for %{p} (7.3), found once */
	bool	 p_done;
	char	**p_names;
	size_t	 p_n;
};

static void
trace(struct eval *ev, unsigned depth, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
trace(struct eval *ev, unsigned depth, const char *fmt, ...)
{
	struct buf line = BUF_INIT;
	va_list ap;

	if (ev->trace == NULL)
		return;
	va_start(ap, fmt);
	buf_vprintf(&line, fmt, ap);
	va_end(ap);
	buf_printf(ev->trace, "%*s", (int)depth * 2, "");
	str_escape(ev->trace, line.data, line.len, 600);
	buf_addc(ev->trace, '\n');
	buf_release(&line);
}

/* problem - remember the first reason for a temperror/permerror */
static void
problem(struct eval *ev, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
problem(struct eval *ev, const char *fmt, ...)
{
	struct buf p = BUF_INIT, e = BUF_INIT;
	va_list ap;

	if (ev->out->problem)
		return;
	va_start(ap, fmt);
	buf_vprintf(&p, fmt, ap);
	va_end(ap);
	str_escape(&e, p.data, p.len, 300);
	ev->out->problem = buf_steal(&e);
	buf_release(&p);
}

static enum dns_status
lookup(struct eval *ev, unsigned depth, const char *name, uint16_t type,
    struct dns_answer **a)
{
	enum dns_status st;

	st = dns_lookup_ex(ev->dns, name, type, DNS_F_ANYNAME, ev->budget, a);
	ev->queries++;
	trace(ev, depth, "lookup %s %s: %s (%zu)%s", dns_type_name(type),
	    name, dns_status_name(st), (*a)->n, (*a)->from_cache ?
	    " cached" : "");
	return st;
}

/* dns_problem - the temperror reason for a failed query */
static enum match
dns_problem(struct eval *ev, const char *name, uint16_t type,
    enum dns_status st)
{
	problem(ev, "DNS %s for %s %s", dns_status_name(st),
	    dns_type_name(type), name);
	return M_TEMP;
}

/* count_void - a query found nothing (4.6.4); M_PERM past the limit */
static enum match
count_void(struct eval *ev, const char *name)
{
	if (++ev->voids > ev->lim->max_void) {
		problem(ev, "more than %u void lookups (last: %s)",
		    ev->lim->max_void, name);
		return M_PERM;
	}
	return M_NO;
}

static void macro_ctx(struct eval *, const char *, struct spf_macro_ctx *);

/*
 * expand_name - expand a domain-spec for a query; names over 253
 * octets lose labels from the left (7.3)
 */
static int
expand_name(struct eval *ev, const char *spec, const char *domain,
    struct buf *out)
{
	struct spf_macro_ctx mc;
	struct buf why = BUF_INIT;
	const char *p;

	macro_ctx(ev, domain, &mc);
	buf_reset(out);
	if (spf_macro_expand(spec, strlen(spec), &mc, 0, out, &why) < 0) {
		problem(ev, "macro error in '%s': %s", spec, buf_cstr(&why));
		buf_release(&why);
		return -1;
	}
	buf_release(&why);
	if (out->len > 0 && out->data[out->len - 1] == '.')
		buf_truncate(out, out->len - 1);
	while (out->len > DNS_MAX_NAME) {
		if ((p = memchr(out->data, '.', out->len)) == NULL)
			break;
		memmove(out->data, p + 1, out->len - (size_t)(p + 1 - out->data));
		buf_truncate(out, out->len - (size_t)(p + 1 - out->data));
	}
	if (out->data)
		str_lower(out->data);
	return 0;
}

/* addr_type - A for IPv4 clients, AAAA for IPv6 */
static uint16_t
addr_type(const struct eval *ev)
{
	return ev->req->ip.family == AF_INET6 ? DNS_T_AAAA : DNS_T_A;
}

/* match_addrs - do name's addresses cover the client (a, mx)? */
static enum match
match_addrs(struct eval *ev, unsigned depth, const char *name, int cidr4,
    int cidr6, bool primary)
{
	struct dns_answer *a;
	enum dns_status st;
	enum match m = M_NO;
	unsigned bits;
	size_t i;

	bits = ev->req->ip.family == AF_INET6 ? (cidr6 < 0 ? 128u :
	    (unsigned)cidr6) : (cidr4 < 0 ? 32u : (unsigned)cidr4);
	st = lookup(ev, depth, name, addr_type(ev), &a);
	switch (st) {
	case DNS_OK:
		for (i = 0; i < a->n && m == M_NO; i++)
			if (netaddr_prefix_eq(&a->rrs[i].addr, &ev->req->ip,
			    bits))
				m = M_YES;
		break;
	case DNS_NXDOMAIN:
	case DNS_NODATA:
		if (primary)
			m = count_void(ev, name);
		break;
	case DNS_INVALID_NAME:
		break;
	default:
		m = dns_problem(ev, name, addr_type(ev), st);
	}
	dns_answer_free(a);
	return m;
}

/* is_validated - does name have an address equal to the client (5.5)? */
static bool
is_validated(struct eval *ev, unsigned depth, const char *name)
{
	struct dns_answer *a;
	bool ok = false;
	size_t i;

	if (lookup(ev, depth, name, addr_type(ev), &a) == DNS_OK)
		for (i = 0; i < a->n && !ok; i++)
			ok = netaddr_eq(&a->rrs[i].addr, &ev->req->ip);
	dns_answer_free(a);
	return ok;
}

/* name_at_or_below - is name equal to target or a subdomain of it? */
static bool
name_at_or_below(const char *name, const char *target)
{
	size_t n = strlen(name), t = strlen(target);

	if (t > 0 && target[t - 1] == '.')
		t--;
	if (n == t)
		return str_nieq(name, n, target, t);
	return n > t && name[n - t - 1] == '.' &&
	    str_nieq(name + n - t, t, target, t);
}

/*
 * ptr_names - the client's PTR names, at most max_ptr (the rest are
 * ignored, 4.6.4); returns the lookup status
 */
static enum dns_status
ptr_names(struct eval *ev, unsigned depth, struct dns_answer **a)
{
	struct buf rev = BUF_INIT;
	enum dns_status st;

	spf_reverse_name(&ev->req->ip, &rev);
	st = lookup(ev, depth, buf_cstr(&rev), DNS_T_PTR, a);
	buf_release(&rev);
	if ((*a)->n > ev->lim->max_ptr) {
		trace(ev, depth, "only the first %u of %zu PTR names are used",
		    ev->lim->max_ptr, (*a)->n);
		while ((*a)->n > ev->lim->max_ptr) {
			(*a)->n--;
			free((*a)->rrs[(*a)->n].name);
		}
	}
	return st;
}

/* p_validated - %{p}: prefer domain, then a subdomain, then any (7.3) */
static void
p_validated(void *arg, const char *domain, struct buf *out)
{
	struct eval *ev = arg;
	struct dns_answer *a;
	const char *pick = NULL;
	size_t i;

	if (!ev->p_done) {
		ev->p_done = true;
		if (ptr_names(ev, 1, &a) == DNS_OK)
			for (i = 0; i < a->n; i++)
				if (a->rrs[i].name[0] &&
				    is_validated(ev, 1, a->rrs[i].name)) {
					ev->p_names = xreallocarray(ev->p_names,
					    ev->p_n + 1, sizeof(char *));
					ev->p_names[ev->p_n++] =
					    xstrdup(a->rrs[i].name);
				}
		dns_answer_free(a);
	}
	for (i = 0; i < ev->p_n && !pick; i++)
		if (str_ieq(ev->p_names[i], domain))
			pick = ev->p_names[i];
	for (i = 0; i < ev->p_n && !pick; i++)
		if (name_at_or_below(ev->p_names[i], domain))
			pick = ev->p_names[i];
	if (!pick && ev->p_n)
		pick = ev->p_names[0];
	buf_adds(out, pick ? pick : "unknown");
}

static void
macro_ctx(struct eval *ev, const char *domain, struct spf_macro_ctx *mc)
{
	memset(mc, 0, sizeof(*mc));
	mc->sender = ev->out->sender;
	mc->local = ev->local;
	mc->sender_domain = ev->sender_domain;
	mc->domain = domain;
	mc->ip = &ev->req->ip;
	mc->helo = ev->req->helo && *ev->req->helo ? ev->req->helo : NULL;
	mc->receiver = ev->req->receiver;
	mc->now = ev->req->now;
	mc->validated = p_validated;
	mc->arg = ev;
}

static enum spf_result check_host(struct eval *, const char *, unsigned,
	    bool);

static enum match
eval_include(struct eval *ev, const char *target, unsigned depth)
{
	switch (check_host(ev, target, depth + 1, false)) {
	case SPF_PASS:
		return M_YES;
	case SPF_FAIL:
	case SPF_SOFTFAIL:
	case SPF_NEUTRAL:
		return M_NO;
	case SPF_TEMPERROR:
		return M_TEMP;
	case SPF_NONE:
		problem(ev, "include:%s has no SPF record", target);
		return M_PERM;
	default:
		return M_PERM;
	}
}

static enum match
eval_mx(struct eval *ev, const struct spf_term *t, const char *target,
    unsigned depth)
{
	struct dns_answer *a;
	enum dns_status st;
	enum match m = M_NO;
	size_t i;

	st = lookup(ev, depth, target, DNS_T_MX, &a);
	if (st == DNS_NXDOMAIN || st == DNS_NODATA)
		m = count_void(ev, target);
	else if (st == DNS_OK && a->n > ev->lim->max_mx) {
		problem(ev, "%s has %zu MX names, more than %u", target, a->n,
		    ev->lim->max_mx);
		m = M_PERM;
	} else if (st == DNS_OK) {
		for (i = 0; i < a->n && m == M_NO; i++)
			if (a->rrs[i].name[0])	/* "." is a null MX */
				m = match_addrs(ev, depth, a->rrs[i].name,
				    t->cidr4, t->cidr6, false);
	} else if (st != DNS_INVALID_NAME)
		m = dns_problem(ev, target, DNS_T_MX, st);
	dns_answer_free(a);
	return m;
}

static enum match
eval_ptr(struct eval *ev, const char *target, unsigned depth)
{
	struct dns_answer *a;
	enum dns_status st;
	enum match m = M_NO;
	size_t i;

	st = ptr_names(ev, depth, &a);
	if (st == DNS_NXDOMAIN || st == DNS_NODATA)
		m = count_void(ev, "PTR");
	/* other PTR errors: no match (5.5) */
	for (i = 0; st == DNS_OK && i < a->n && m == M_NO; i++)
		if (a->rrs[i].name[0] && name_at_or_below(a->rrs[i].name,
		    target) && is_validated(ev, depth, a->rrs[i].name))
			m = M_YES;
	dns_answer_free(a);
	return m;
}

static enum match
eval_exists(struct eval *ev, const char *target, unsigned depth)
{
	struct dns_answer *a;
	enum dns_status st;
	enum match m = M_NO;

	st = lookup(ev, depth, target, DNS_T_A, &a);
	if (st == DNS_OK)
		m = a->n > 0 ? M_YES : M_NO;
	else if (st == DNS_NXDOMAIN || st == DNS_NODATA)
		m = count_void(ev, target);
	else if (st != DNS_INVALID_NAME)
		m = dns_problem(ev, target, DNS_T_A, st);
	dns_answer_free(a);
	return m;
}

/* eval_term - one mechanism against the client */
static enum match
eval_term(struct eval *ev, const struct spf_term *t, const char *domain,
    unsigned depth)
{
	struct buf target = BUF_INIT;
	enum match m = M_NO;

	if (spf_mech_uses_dns(t->mech) &&
	    ++ev->lookups > ev->lim->max_dns_terms) {
		problem(ev, "more than %u DNS-querying terms (at %s)",
		    ev->lim->max_dns_terms, t->text);
		return M_PERM;
	}
	if (t->domain_spec) {
		if (expand_name(ev, t->domain_spec, domain, &target) < 0)
			return M_PERM;
	} else
		buf_adds(&target, domain);
	switch (t->mech) {
	case SPF_MECH_ALL:
		m = M_YES;
		break;
	case SPF_MECH_INCLUDE:
		m = eval_include(ev, buf_cstr(&target), depth);
		break;
	case SPF_MECH_A:
		m = match_addrs(ev, depth, buf_cstr(&target), t->cidr4,
		    t->cidr6, true);
		break;
	case SPF_MECH_MX:
		m = eval_mx(ev, t, buf_cstr(&target), depth);
		break;
	case SPF_MECH_PTR:
		m = eval_ptr(ev, buf_cstr(&target), depth);
		break;
	case SPF_MECH_IP4:
	case SPF_MECH_IP6:
		m = netaddr_prefix_eq(&t->net, &ev->req->ip, (unsigned)(t->mech ==
		    SPF_MECH_IP4 ? (t->cidr4 < 0 ? 32 : t->cidr4) :
		    (t->cidr6 < 0 ? 128 : t->cidr6))) ? M_YES : M_NO;
		break;
	case SPF_MECH_EXISTS:
		m = eval_exists(ev, buf_cstr(&target), depth);
		break;
	}
	buf_release(&target);
	return m;
}

/* explain - the explanation of a fail (6.2), or the default */
static void
explain(struct eval *ev, const struct spf_record *r, const char *domain)
{
	struct spf_macro_ctx mc;
	struct buf name = BUF_INIT, text = BUF_INIT, why = BUF_INIT;
	struct dns_answer *a = NULL;
	const char *def = ev->req->default_exp ? ev->req->default_exp :
	    "%{o} does not designate %{i} as permitted sender";

	macro_ctx(ev, domain, &mc);
	if (r->exp && expand_name(ev, r->exp, domain, &name) == 0 &&
	    lookup(ev, 0, buf_cstr(&name), DNS_T_TXT, &a) == DNS_OK &&
	    a->n == 1 && spf_macro_expand(a->rrs[0].txt, a->rrs[0].txt_len,
	    &mc, SPF_MACRO_EXP, &text, &why) == 0) {
		ev->out->exp_from_domain = true;
	} else {
		if (r->exp)
			trace(ev, 0, "exp=%s unusable%s%s: default explanation",
			    r->exp, why.len ? ": " : "", buf_cstr(&why));
		buf_reset(&text);
		if (spf_macro_expand(def, strlen(def), &mc, SPF_MACRO_EXP,
		    &text, &why) < 0) {
			buf_reset(&text);
			buf_adds(&text, def);
		}
	}
	free(ev->out->explanation);
	ev->out->explanation = buf_steal(&text);
	dns_answer_free(a);
	buf_release(&name);
	buf_release(&why);
}

/* domain_usable - 4.3: well formed and multi-label */
static bool
domain_usable(const char *d, unsigned flags)
{
	size_t n = strlen(d);

	if (n > 0 && d[n - 1] == '.')
		n--;
	return dns_name_check(d, flags) && memchr(d, '.', n) != NULL;
}

/* select_record - the one SPF record among the TXT records (4.5) */
static enum spf_result
select_record(struct eval *ev, const char *domain, unsigned depth,
    struct spf_record **rec)
{
	struct dns_answer *a;
	enum dns_status st;
	const struct dns_rr *found = NULL;
	struct buf why = BUF_INIT;
	enum spf_result res = SPF_NONE;
	size_t i, n = 0;

	*rec = NULL;
	st = lookup(ev, depth, domain, DNS_T_TXT, &a);
	if (dns_status_is_temp(st)) {
		dns_problem(ev, domain, DNS_T_TXT, st);
		res = SPF_TEMPERROR;
		goto out;
	}
	for (i = 0; st == DNS_OK && i < a->n; i++)
		if (spf_is_record(a->rrs[i].txt, a->rrs[i].txt_len)) {
			found = &a->rrs[i];
			n++;
		}
	if (n > 1) {
		problem(ev, "%s has %zu SPF records", domain, n);
		res = SPF_PERMERROR;
	} else if (n == 1) {
		trace(ev, depth, "record %s: %.*s", domain,
		    (int)(found->txt_len < 500 ? found->txt_len : 500),
		    found->txt);
		if (spf_parse(found->txt, found->txt_len, rec, &why) < 0) {
			problem(ev, "%s: %s", domain, buf_cstr(&why));
			res = SPF_PERMERROR;
		} else
			res = SPF_NEUTRAL;	/* a record to evaluate */
	} else
		trace(ev, depth, "%s: no SPF record", domain);
out:
	dns_answer_free(a);
	buf_release(&why);
	return res;
}

/* decided - record the term that decided at this level */
static void
decided(struct eval *ev, const char *term, const char *domain)
{
	free(ev->out->mechanism);
	free(ev->out->record_domain);
	ev->out->mechanism = xstrdup(term);
	ev->out->record_domain = xstrdup(domain);
}

/* check_host - RFC 7208 4; want_exp: compute the explanation of a fail */
static enum spf_result
check_host(struct eval *ev, const char *domain, unsigned depth, bool want_exp)
{
	struct spf_record *rec;
	struct buf target = BUF_INIT;
	enum spf_result res;
	enum match m = M_NO;
	size_t i;

	if (depth > SPF_MAX_DEPTH) {
		problem(ev, "include/redirect nested deeper than %d",
		    SPF_MAX_DEPTH);
		return SPF_PERMERROR;
	}
	if (!domain_usable(domain, DNS_F_ANYNAME)) {
		trace(ev, depth, "%s: not a usable domain name", domain);
		return SPF_NONE;
	}
	if ((res = select_record(ev, domain, depth, &rec)) != SPF_NEUTRAL)
		return res;
	for (i = 0; i < rec->nterms; i++) {
		m = eval_term(ev, &rec->terms[i], domain, depth);
		trace(ev, depth, "%s: %s", rec->terms[i].text, m == M_YES ?
		    "match" : m == M_NO ? "no match" : m == M_TEMP ?
		    "temperror" : "permerror");
		if (m != M_NO)
			break;
	}
	if (m == M_YES) {
		res = rec->terms[i].qual;
		decided(ev, rec->terms[i].text, domain);
	} else if (m == M_TEMP)
		res = SPF_TEMPERROR;
	else if (m == M_PERM)
		res = SPF_PERMERROR;
	else if (rec->redirect) {
		if (++ev->lookups > ev->lim->max_dns_terms) {
			problem(ev, "more than %u DNS-querying terms (at "
			    "redirect=%s)", ev->lim->max_dns_terms, rec->redirect);
			res = SPF_PERMERROR;
		} else if (expand_name(ev, rec->redirect, domain, &target) < 0)
			res = SPF_PERMERROR;
		else {
			trace(ev, depth, "redirect=%s", buf_cstr(&target));
			res = check_host(ev, buf_cstr(&target), depth + 1,
			    want_exp);
			if (res == SPF_NONE) {
				problem(ev, "redirect=%s has no SPF record",
				    buf_cstr(&target));
				res = SPF_PERMERROR;
			}
			want_exp = false;	/* the target explained itself */
		}
	} else {
		res = SPF_NEUTRAL;
		decided(ev, "default", domain);
	}
	if (res == SPF_FAIL && want_exp)
		explain(ev, rec, domain);
	trace(ev, depth, "%s: %s", domain, spf_result_name(res));
	buf_release(&target);
	spf_record_free(rec);
	return res;
}

void
spf_outcome_release(struct spf_outcome *o)
{
	free(o->sender);
	free(o->domain);
	free(o->mechanism);
	free(o->record_domain);
	free(o->explanation);
	free(o->problem);
	memset(o, 0, sizeof(*o));
}

enum spf_result
spf_check(struct dns_resolver *dns, struct dns_budget *budget,
    const struct spf_request *req, enum spf_identity id,
    const struct spf_limits *lim, struct spf_outcome *out, struct buf *tr)
{
	struct spf_limits deflim;
	struct eval ev;
	const char *at = NULL, *domain;
	char *local = NULL;
	size_t i;

	memset(out, 0, sizeof(*out));
	if (lim == NULL) {
		spf_limits_default(&deflim);
		lim = &deflim;
	}
	memset(&ev, 0, sizeof(ev));
	ev.dns = dns;
	ev.budget = budget;
	ev.req = req;
	ev.lim = lim;
	ev.out = out;
	ev.trace = tr;
	out->identity = id;
	if (id == SPF_ID_MAILFROM && req->sender && req->sender[0]) {
		at = strrchr(req->sender, '@');
		domain = at ? at + 1 : req->sender;
		if (at && at > req->sender)
			local = xstrndup(req->sender, (size_t)(at - req->sender));
	} else {
		out->identity = SPF_ID_HELO;	/* 2.4: postmaster@HELO */
		domain = req->helo ? req->helo : "";
	}
	ev.local = local ? local : "postmaster";
	ev.sender_domain = domain;
	out->sender = xasprintf("%s@%s", ev.local, domain);
	out->domain = xstrdup(domain);
	if (req->ip.family == 0) {
		problem(&ev, "no client address");
		out->result = SPF_NONE;
	} else if (!domain_usable(domain, 0)) {
		/* 4.3: malformed, or not multi-label: none, no query */
		trace(&ev, 0, "%s: not a usable domain name", domain);
		out->result = SPF_NONE;
	} else
		out->result = check_host(&ev, domain, 0, true);
	if (out->result != SPF_TEMPERROR && out->result != SPF_PERMERROR &&
	    req->ip.family != 0) {
		free(out->problem);
		out->problem = NULL;
	}
	if (out->result == SPF_TEMPERROR || out->result == SPF_PERMERROR ||
	    out->result == SPF_NONE) {
		free(out->mechanism);
		free(out->record_domain);
		out->mechanism = out->record_domain = NULL;
	}
	out->lookups = ev.lookups;
	out->void_lookups = ev.voids;
	out->queries = ev.queries;
	for (i = 0; i < ev.p_n; i++)
		free(ev.p_names[i]);
	free(ev.p_names);
	free(local);
	return out->result;
}

/* ---- Received-SPF (9.1) ---- */

/* safe - printable ASCII without quotes, parentheses or backslashes */
static void
safe(struct buf *out, const char *s, size_t max)
{
	size_t i;

	for (i = 0; s && s[i] && i < max; i++) {
		unsigned char c = (unsigned char)s[i];

		buf_addc(out, (char)(ch_is_vchar(c) && c != '"' && c != '(' &&
		    c != ')' && c != '\\' && c != ';' ? c : '?'));
	}
}

void
spf_received_value(const struct spf_outcome *o, const struct spf_request *req,
    const char *receiver, struct buf *out)
{
	char ip[NETADDR_STRLEN];
	struct buf who = BUF_INIT;

	netaddr_format(&req->ip, ip, sizeof(ip));
	safe(&who, o->sender, 200);
	buf_printf(out, "%s (", spf_result_name(o->result));
	safe(out, receiver, 100);
	buf_adds(out, ": ");
	switch (o->result) {
	case SPF_PASS:
		buf_printf(out, "domain of %s designates %s as permitted sender",
		    buf_cstr(&who), ip);
		break;
	case SPF_FAIL:
		buf_printf(out, "domain of %s does not designate %s as "
		    "permitted sender", buf_cstr(&who), ip);
		break;
	case SPF_SOFTFAIL:
		buf_printf(out, "domain of transitioning %s does not designate "
		    "%s as permitted sender", buf_cstr(&who), ip);
		break;
	case SPF_NEUTRAL:
		buf_printf(out, "%s is neither permitted nor denied by domain "
		    "of %s", ip, buf_cstr(&who));
		break;
	case SPF_NONE:
		buf_printf(out, "domain of %s does not designate permitted "
		    "sender hosts", buf_cstr(&who));
		break;
	default:
		buf_printf(out, "error in processing during lookup of %s",
		    buf_cstr(&who));
	}
	buf_printf(out, ")\n\tclient-ip=%s; envelope-from=\"", ip);
	safe(out, req->sender && req->sender[0] ? req->sender : "", 300);
	buf_adds(out, "\"; helo=\"");
	safe(out, req->helo, 200);
	buf_adds(out, "\"; receiver=\"");
	safe(out, receiver, 100);
	buf_printf(out, "\"; identity=%s;", spf_identity_name(o->identity));
	if (o->mechanism) {
		buf_adds(out, " mechanism=\"");
		safe(out, o->mechanism, 200);
		buf_adds(out, "\";");
	}
	if (o->problem) {
		buf_adds(out, " problem=\"");
		safe(out, o->problem, 200);
		buf_adds(out, "\";");
	}
	buf_release(&who);
}
