/*
 * rules_eval.c - run a compiled rule set over one message
 *
 * DESCRIPTION
 *	The inputs every rule type sees are built once per message from
 *	the MIME view (see rules.h and doc/rules.md for their exact form):
 *	header values per (field, modifiers) on first use; body paragraphs,
 *	rawbody lines, URIs and the full text.  For body, rawbody, uri and
 *	full rules each input element is first scanned by the type's
 *	Aho-Corasick automaton; the rules whose required literals occur in
 *	it, plus those that have none, run PCRE2 on it.  A rule that hit
 *	(and is not tflags multiple) is not tried again.  Metas run last,
 *	in dependency order, over the hit counts.
 *
 *	PCRE2 match data, match context (limits) and JIT stack are per
 *	thread, created on first use and freed when the thread exits, as
 *	is the scratch space of the prefilter.
 *
 * LIMITS
 *	Each pcre2_match() call is bounded by the set's match_limit, a
 *	depth limit and a heap limit; a call that hits one stops that rule
 *	for this message, is logged (rule name, not message text) and is
 *	listed in the result.
 *
 * SECURITY
 *	Message text is only ever a PCRE2 subject (8-bit mode, no UTF
 *	check to fail) and is never logged; samples returned for rules
 *	test are escaped and capped.
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "buf.h"
#include "log.h"
#include "mime.h"
#include "msg.h"
#include "relays.h"
#include "rules_int.h"
#include "saeval.h"
#include "str.h"
#include "uri.h"

#define SAMPLE_MAX	80
#define HEAP_LIMIT_KB	(20 * 1024)
#define DEPTH_LIMIT	10000

/* ------------------------------------------------------------------ */
/* per-thread scratch                                                  */
/* ------------------------------------------------------------------ */

struct tls {
	pcre2_match_data *md;
	pcre2_match_context *mctx;
	pcre2_jit_stack *js;
	uint32_t *stamps;		/* AC states */
	size_t	 nstamps;
	uint32_t gen;
	uint32_t *rstamps;		/* rules, for candidate dedup */
	uint32_t *hstamps;		/* rules Hyperscan reported */
	size_t	 nrstamps;
	uint32_t rgen;
	size_t	*cand;
	size_t	 ncand_cap;
	void	*hs_scratch;		/* Hyperscan's, rules_hs.c */
	unsigned long hs_gen;		/* the set it was sized for */
	struct tls *next;		/* tls_pool */
};

/*
 * Each evaluating thread has a struct tls.  libmilter runs a thread per
 * connection, so in the daemon threads end after a message or a few:
 * a thread's storage goes to tls_pool when it ends and the next thread
 * takes it, instead of every connection allocating and zeroing it again
 * (the Aho-Corasick state stamps, a PCRE2 JIT stack, Hyperscan scratch
 * space).  The pool holds at most as many as ever ran at once.
 */
static pthread_key_t tls_key;
static pthread_once_t tls_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t tls_pool_lock = PTHREAD_MUTEX_INITIALIZER;
static struct tls *tls_pool;

static void
tls_destroy(void *p)
{
	struct tls *t = p;

	pthread_mutex_lock(&tls_pool_lock);
	t->next = tls_pool;
	tls_pool = t;
	pthread_mutex_unlock(&tls_pool_lock);
}

/* tls_new - a thread's storage from the pool, or a new one */
static struct tls *
tls_new(void)
{
	struct tls *t;

	pthread_mutex_lock(&tls_pool_lock);
	if ((t = tls_pool) != NULL)
		tls_pool = t->next;
	pthread_mutex_unlock(&tls_pool_lock);
	if (t != NULL) {
		t->next = NULL;
		return t;
	}
	t = xcalloc(1, sizeof(*t));
	t->md = pcre2_match_data_create(1, NULL);
	t->mctx = pcre2_match_context_create(NULL);
	t->js = pcre2_jit_stack_create(32 * 1024, 1024 * 1024, NULL);
	if (t->md == NULL || t->mctx == NULL)
		log_panic("pcre2: out of memory");
	if (t->js)
		pcre2_jit_stack_assign(t->mctx, NULL, t->js);
	return t;
}

static void
tls_init_key(void)
{
	if (pthread_key_create(&tls_key, tls_destroy) != 0)
		log_panic("pthread_key_create failed");
}

static struct tls *
tls_get(const struct ruleset *rs)
{
	struct tls *t;
	size_t need;

	pthread_once(&tls_once, tls_init_key);
	if ((t = pthread_getspecific(tls_key)) == NULL) {
		t = tls_new();
		pthread_setspecific(tls_key, t);
	}
	pcre2_set_match_limit(t->mctx, (uint32_t)rs->match_limit);
	pcre2_set_depth_limit(t->mctx, DEPTH_LIMIT);
	pcre2_set_heap_limit(t->mctx, HEAP_LIMIT_KB);
	need = 0;
	for (int k = 0; k < RULE_NTYPES; k++)
		if (rs->ac[k] && ac_nstates(rs->ac[k]) > need)
			need = ac_nstates(rs->ac[k]);
	if (need > t->nstamps) {
		t->stamps = xreallocarray(t->stamps, need, sizeof(*t->stamps));
		memset(t->stamps + t->nstamps, 0,
		    (need - t->nstamps) * sizeof(*t->stamps));
		t->nstamps = need;
	}
	if (rs->nrules > t->nrstamps) {
		t->rstamps = xreallocarray(t->rstamps, rs->nrules,
		    sizeof(*t->rstamps));
		memset(t->rstamps + t->nrstamps, 0,
		    (rs->nrules - t->nrstamps) * sizeof(*t->rstamps));
		t->hstamps = xreallocarray(t->hstamps, rs->nrules,
		    sizeof(*t->hstamps));
		memset(t->hstamps + t->nrstamps, 0,
		    (rs->nrules - t->nrstamps) * sizeof(*t->hstamps));
		t->nrstamps = rs->nrules;
		t->cand = xreallocarray(t->cand, rs->nrules, sizeof(*t->cand));
	}
	return t;
}

static uint32_t
next_gen(uint32_t *gen, uint32_t *stamps, size_t n)
{
	if (++*gen == 0) {
		memset(stamps, 0, n * sizeof(*stamps));
		*gen = 1;
	}
	return *gen;
}

/* ------------------------------------------------------------------ */
/* inputs                                                              */
/* ------------------------------------------------------------------ */

struct span {
	const char *p;
	size_t	 n;
};

struct inputs {
	const struct ruleset *rs;
	const struct msg *m;
	const struct mime_msg *mm;

	struct buf *hval;		/* per header source */
	signed char *hstate;		/* 0 not built, 1 present, -1 absent */
	struct span **hseg;		/* HSP_MIME: each part's value in hval */
	size_t	*nhseg;

	struct buf bodybuf;
	struct span *para;
	size_t	 npara;
	bool	 subject_first;		/* para[0] is the Subject */

	struct span *line;		/* rawbody */
	size_t	 nline;

	struct buf fullbuf;
	bool	 full_built;

	struct saeval_in *ei;		/* the evals' memo, or NULL */
};

static void
spans_add(struct span **v, size_t *n, const char *p, size_t len)
{
	/* capacity: 16, then doubled whenever n reaches a power of two */
	if (*n == 0)
		*v = xreallocarray(*v, 16, sizeof(**v));
	else if (*n >= 16 && (*n & (*n - 1)) == 0)
		*v = xreallocarray(*v, *n * 2, sizeof(**v));
	(*v)[*n].p = p;
	(*v)[(*n)++].n = len;
}

/*
 * add_para - text [p, p+n) as one paragraph: every run of white space
 * (NBSP included) one space, trimmed.  Offsets are fixed up later.
 */
static void
add_para(struct inputs *in, const char *p, size_t n, size_t *offs,
    size_t *noffs)
{
	struct buf *b = &in->bodybuf;
	size_t start = b->len, i;
	char *o;
	bool sp = false;

	/* the paragraph never grows: room for it and its newline at once */
	buf_reserve(b, n + 1);
	o = b->data + b->len;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		if (ch_is_space(c) || (c == 0xc2 && i + 1 < n &&
		    (unsigned char)p[i + 1] == 0xa0)) {
			if (c == 0xc2)
				i++;
			sp = true;
			continue;
		}
		if (sp && o > b->data + start)
			*o++ = ' ';
		sp = false;
		*o++ = (char)c;
	}
	b->len = (size_t)(o - b->data);
	b->data[b->len] = '\0';
	if (b->len == start)
		return;
	buf_addc(b, '\n');
	offs[(*noffs)++] = start;
	offs[(*noffs)++] = b->len - 1 - start;
}

/*
 * cut - length of the part of s[0..n) that rules scan: all of it up to
 * max bytes, else up to the last line end (lines) or white space before
 * max, so no word or line is cut in half
 */
static size_t
cut(const char *s, size_t n, size_t max, bool lines)
{
	size_t k;

	if (n <= max)
		return n;
	for (k = max; k > max / 2; k--)
		if (lines ? s[k] == '\n' : ch_is_space((unsigned char)s[k]))
			return k;
	return max;
}

static void
build_body(struct inputs *in)
{
	const struct mime_msg *mm = in->mm;
	const struct mime_part *p;
	const char *subj, *t, *nl, *end, *pstart;
	size_t *offs = NULL, noffs = 0, cap = 0, i, k;

	/* worst case: one paragraph per two bytes, plus the Subject */
	for (i = 0; i < mm->nparts; i++)
		cap += mm->parts[i].text.len / 2 + 2;
	/* not zeroed: add_para() writes offs[0..noffs), nothing reads further */
	offs = xmalloc(2 * (cap + 1) * sizeof(*offs));
	if ((subj = mime_header(mm, "Subject", 0)) != NULL) {
		add_para(in, subj, strlen(subj), offs, &noffs);
		in->subject_first = noffs > 0;
	}
	for (i = 0; i < mm->nparts; i++) {
		p = &mm->parts[i];
		if (!mime_part_is_text(p) || p->text.len == 0)
			continue;
		t = pstart = p->text.data;
		end = t + cut(p->text.data, p->text.len,
		    in->rs->body_part_max, false);
		while (t < end) {
			nl = memchr(t, '\n', (size_t)(end - t));
			if (nl == NULL)
				break;
			/* a line of only white space ends the paragraph */
			for (k = 1; nl + k < end && ch_is_wsp((unsigned char)
			    nl[k]); k++)
				;
			if (nl + k < end && nl[k] == '\n') {
				add_para(in, pstart, (size_t)(nl - pstart), offs,
				    &noffs);
				t = pstart = nl + k;
				continue;
			}
			t = nl + 1;
		}
		add_para(in, pstart, (size_t)(end - pstart), offs, &noffs);
	}
	for (k = 0; k + 1 < noffs; k += 2)
		spans_add(&in->para, &in->npara, in->bodybuf.data + offs[k],
		    offs[k + 1]);
	free(offs);
}

static void
build_rawbody(struct inputs *in)
{
	const struct mime_msg *mm = in->mm;
	const struct buf *raw;
	const char *t, *nl, *end;
	size_t i;

	for (i = 0; i < mm->nparts; i++) {
		if (!mime_part_is_text(&mm->parts[i]))
			continue;
		raw = mime_part_raw(&mm->parts[i]);
		if (raw->len == 0)
			continue;
		t = raw->data;
		end = t + cut(raw->data, raw->len, in->rs->rawbody_part_max,
		    true);
		while (t < end) {
			nl = memchr(t, '\n', (size_t)(end - t));
			spans_add(&in->line, &in->nline, t,
			    nl ? (size_t)(nl - t) : (size_t)(end - t));
			t = nl ? nl + 1 : end;
		}
	}
}

/*
 * add_without_cr - p[0..n) less its CRs (crlf_only: less the CRs
 * before an LF), copied a stretch at a time
 */
static void
add_without_cr(struct buf *out, const char *p, size_t n, bool crlf_only)
{
	const char *end = p + n, *cr;

	while (p < end) {
		if ((cr = memchr(p, '\r', (size_t)(end - p))) == NULL) {
			buf_add(out, p, (size_t)(end - p));
			return;
		}
		buf_add(out, p, (size_t)(cr - p));
		if (crlf_only && !(cr + 1 < end && cr[1] == '\n'))
			buf_addc(out, '\r');
		p = cr + 1;
	}
}

/* build_full - the message as a file would hold it, LF line ends */
static void
build_full(struct inputs *in)
{
	const struct msg *m = in->m;
	size_t i;

	in->full_built = true;
	for (i = 0; i < m->nhdrs; i++) {
		buf_add(&in->fullbuf, m->hdrs[i].name, m->hdrs[i].name_len);
		buf_addc(&in->fullbuf, ':');
		add_without_cr(&in->fullbuf, m->hdrs[i].value,
		    m->hdrs[i].value_len, false);
		buf_addc(&in->fullbuf, '\n');
	}
	buf_addc(&in->fullbuf, '\n');
	buf_reserve(&in->fullbuf, m->body.len);
	add_without_cr(&in->fullbuf, buf_cstr(&m->body), m->body.len, true);
}

/* add_trimmed - b without leading and trailing white space */
static void
add_trimmed(struct buf *out, const struct buf *b)
{
	const char *p = buf_cstr(b);
	size_t n = b->len;

	while (n > 0 && ch_is_space((unsigned char)*p)) {
		p++;
		n--;
	}
	while (n > 0 && ch_is_space((unsigned char)p[n - 1]))
		n--;
	buf_add(out, p, n);
}

/*
 * rules_first_addr - the first mailbox of an address list: its address
 * (want_addr) or its display name.  Handles "Name <a@b>", "a@b (Name)"
 * and quoted names.
 */
void
rules_first_addr(const char *v, bool want_addr, struct buf *out)
{
	struct buf name = BUF_INIT, plain = BUF_INIT, comment = BUF_INIT;
	const char *p = v;
	int depth = 0;
	bool quoted = false;

	for (; *p; p++) {
		if (quoted) {
			if (*p == '\\' && p[1])
				p++;
			else if (*p == '"') {
				quoted = false;
				continue;
			}
			buf_addc(&name, *p);
			continue;
		}
		if (depth > 0) {
			if (*p == '(')
				depth++;
			else if (*p == ')' && --depth == 0)
				continue;
			if (depth > 0 && comment.len < 512)
				buf_addc(&comment, *p);
			continue;
		}
		if (*p == '"')
			quoted = true;
		else if (*p == '(')
			depth = 1;
		else if (*p == '<') {
			const char *e = strchr(p + 1, '>');
			size_t n = e ? (size_t)(e - p - 1) : strlen(p + 1);

			if (want_addr)
				buf_add(out, p + 1, n);
			else
				add_trimmed(out, &name);
			goto done;
		} else if (*p == ',' || *p == ';')
			break;
		else {
			buf_addc(&name, *p);
			buf_addc(&plain, *p);
		}
	}
	/* no angle brackets: "a@b (Name)" or a bare address */
	add_trimmed(out, want_addr ? &plain : &comment);
done:
	buf_release(&name);
	buf_release(&plain);
	buf_release(&comment);
}

static void
add_value(struct buf *out, const char *v, unsigned mods, bool *any)
{
	if (*any)
		buf_addc(out, '\n');
	*any = true;
	if (mods & HM_ADDR)
		rules_first_addr(v, true, out);
	else if (mods & HM_NAME)
		rules_first_addr(v, false, out);
	else
		buf_adds(out, v);
}

static bool
field_in(const char *name, const struct hsrc *h)
{
	switch (h->special) {
	case HSP_TOCC:
		return strcasecmp(name, "To") == 0 || strcasecmp(name, "Cc") == 0;
	case HSP_MESSAGEID:
		return strcasecmp(name, "Message-Id") == 0 ||
		    strcasecmp(name, "Resent-Message-Id") == 0 ||
		    strcasecmp(name, "X-Message-Id") == 0;
	default:
		return strcasecmp(name, h->field) == 0;
	}
}

/* plausible_host - dotted labels of letters, digits, '-', ending in a
 * 2-24 letter top-level label: "802.11b", "u.s" or "v9.00a" are not */
static bool
plausible_host(const char *h)
{
	const char *last = strrchr(h, '.');
	size_t n;

	if (last == NULL || last == h)
		return false;
	for (; *h; h++)
		if (!ch_is_alnum((unsigned char)*h) && *h != '.' && *h != '-')
			return false;
	n = strlen(last + 1);
	if (n < 2 || n > 24)
		return false;
	for (h = last + 1; *h; h++)
		if (!ch_is_alpha((unsigned char)*h))
			return false;
	return true;
}

/*
 * anchor_host - the host of the first word of a link's visible text
 * that is written as a link: "http://...", "https://..." or "www...".
 * A brand name in the text ("builder.com") is not a claim about where
 * the link goes; a written-out address is.
 */
static bool
anchor_host(const char *a, struct buf *host)
{
	struct buf u = BUF_INIT;
	const char *p = a, *s;
	size_t n;
	bool ok = false;

	while (*p && !ok) {
		while (*p && (ch_is_space((unsigned char)*p) ||
		    (unsigned char)*p >= 0x80))
			p++;
		s = p;
		while (*p && !ch_is_space((unsigned char)*p) &&
		    (unsigned char)*p < 0x80)
			p++;
		n = (size_t)(p - s);
		buf_reset(&u);
		if (n > 8 && (strncasecmp(s, "http://", 7) == 0 ||
		    strncasecmp(s, "https://", 8) == 0))
			buf_add(&u, s, n);
		else if (n > 4 && strncasecmp(s, "www.", 4) == 0) {
			buf_adds(&u, "http://");
			buf_add(&u, s, n);
		} else
			continue;
		buf_reset(host);
		ok = uri_host(u.data, u.len, host) && plausible_host(host->data);
	}
	buf_release(&u);
	return ok;
}

static const char *
no_www(const char *h)
{
	return strncmp(h, "www.", 4) == 0 ? h + 4 : h;
}

/* same_site - b equals a, or one is a subdomain of the other */
static bool
same_site(const char *a, const char *b)
{
	size_t la, lb;

	a = no_www(a);
	b = no_www(b);
	la = strlen(a);
	lb = strlen(b);
	if (la == lb)
		return strcmp(a, b) == 0;
	if (la > lb)
		return a[la - lb - 1] == '.' && strcmp(a + la - lb, b) == 0;
	return b[lb - la - 1] == '.' && strcmp(b + lb - la, a) == 0;
}

/*
 * computed - mailwarden's pseudo-headers (doc/rules.md): facts about
 * the MIME view that SpamAssassin gets from eval tests.  A field of
 * the same name in the message is never seen by rules.
 */
static bool
computed(const struct mime_msg *mm, enum hdr_special sp, struct buf *out)
{
	struct buf h = BUF_INIT;
	const struct mime_part *p;
	struct mime_html_stats st;
	size_t i, html = 0, plain = 0, k;
	bool any = false;

	switch (sp) {
	case HSP_MW_LINKS:
		for (i = 0; i < mm->nuris; i++) {
			const struct mime_uri *u = &mm->uris[i];

			buf_reset(&h);
			if (u->src != MIME_URI_HREF || u->anchor == NULL ||
			    u->host == NULL || !anchor_host(u->anchor, &h) ||
			    same_site(h.data, u->host))
				continue;
			buf_printf(out, "%s%s %s", any ? "\n" : "", h.data,
			    u->host);
			any = true;
		}
		break;
	case HSP_MW_HTML:
		memset(&st, 0, sizeof(st));
		for (i = 0; i < mm->nparts; i++) {
			p = &mm->parts[i];
			if (p->kind == MIME_K_TEXT)
				for (k = 0; k < p->text.len; k++)
					plain += !ch_is_space((unsigned char)
					    p->text.data[k]) &&
					    ((unsigned char)p->text.data[k] &
					    0xc0) != 0x80;
			if (p->kind != MIME_K_HTML)
				continue;
			html++;
			st.tags += p->html.tags;
			st.images += p->html.images;
			st.links += p->html.links;
			st.forms += p->html.forms;
			st.scripts += p->html.scripts;
			st.image_area += p->html.image_area;
			st.visible_chars += p->html.visible_chars;
			st.invisible_chars += p->html.invisible_chars;
		}
		if (html == 0)
			break;
		buf_printf(out, "parts=%zu tags=%u images=%u area=%llu links=%u "
		    "forms=%u scripts=%u text=%zu invisible=%zu plain=%zu",
		    html, st.tags, st.images, (unsigned long long)st.image_area,
		    st.links, st.forms, st.scripts, st.visible_chars,
		    st.invisible_chars, plain);
		any = true;
		break;
	case HSP_MW_ATTACH:
		for (i = 0; i < mm->nparts; i++) {
			p = &mm->parts[i];
			if (!p->attachment)
				continue;
			buf_printf(out, "%s%s %s %zu", any ? "\n" : "",
			    p->filename ? p->filename : "-", p->type, p->size);
			any = true;
		}
		break;
	default:
		break;
	}
	buf_release(&h);
	return any;
}

/*
 * mime_values - the field h names in every MIME part (the message's own
 * header first), one after the other in out, each an element of *seg
 */
static bool
mime_values(const struct mime_msg *mm, const struct hsrc *h, struct buf *out,
    struct span **seg, size_t *nseg)
{
	size_t i, j, n = 0, *ends = NULL;
	const struct mime_part *p;
	const char *v;

	for (i = 0; i < mm->nparts; i++) {
		p = &mm->parts[i];
		for (j = 0; j < p->nhdrs; j++) {
			if (strcasecmp(p->hdrs[j].name, h->field) != 0)
				continue;
			v = (h->mods & HM_RAW) ? p->hdrs[j].raw :
			    p->hdrs[j].value;
			buf_adds(out, v ? v : "");
			ends = xreallocarray(ends, n + 1, sizeof(*ends));
			ends[n++] = out->len;
		}
	}
	*seg = xcalloc(n ? n : 1, sizeof(**seg));
	for (i = 0; i < n; i++) {
		size_t start = i ? ends[i - 1] : 0;

		(*seg)[i].p = out->data + start;
		(*seg)[i].n = ends[i] - start;
	}
	*nseg = n;
	free(ends);
	return n > 0;
}

/* header_value - the input of header source k; NULL if absent */
/*
 * relays_value - X-Spam-Relays-Untrusted: from the relay list the eval:
 * tests parse anyway (memoised), so Received fields are parsed once
 */
static void
relays_value(struct inputs *in, struct buf *out)
{
	const struct relay *v;
	size_t i, n;

	if (in->ei == NULL) {
		relays_untrusted(in->m, in->mm, out);
		return;
	}
	v = saeval_relays(in->ei, &n);
	for (i = 0; i < n; i++)
		relay_format(&v[i], out);
}

static const struct buf *
header_value(struct inputs *in, size_t k)
{
	const struct hsrc *h = &in->rs->hsrcs[k];
	const struct mime_msg *mm = in->mm;
	struct buf *out = &in->hval[k];
	bool any = false;
	size_t i;

	if (in->hstate[k])
		return in->hstate[k] > 0 ? out : NULL;
	if (h->special == HSP_ENVFROM) {
		struct buf ef = BUF_INIT;

		saeval_envfrom(in->m, mm, &ef);
		if (in->m->mail_from || ef.len)
			add_value(out, buf_cstr(&ef), h->mods, &any);
		buf_release(&ef);
	} else if (h->special == HSP_RELAYS_UNTRUSTED) {
		relays_value(in, out);
		any = true;
	} else if (h->special == HSP_RELAYS_TRUSTED) {
		any = true;		/* present, empty */
	} else if (h->special >= HSP_MW_LINKS) {
		any = computed(mm, h->special, out);
	} else if (h->special == HSP_MIME) {
		any = mime_values(mm, h, out, &in->hseg[k], &in->nhseg[k]);
	} else if (h->special == HSP_ALL) {
		for (i = 0; i < mm->nhdrs; i++) {
			buf_printf(out, "%s: %s\n", mm->hdrs[i].name,
			    (h->mods & HM_RAW) ? mm->hdrs[i].raw :
			    mm->hdrs[i].value);
			any = true;
		}
	} else {
		for (i = 0; i < mm->nhdrs; i++)
			if (field_in(mm->hdrs[i].name, h))
				add_value(out, (h->mods & HM_RAW) ?
				    mm->hdrs[i].raw : mm->hdrs[i].value,
				    h->mods, &any);
	}
	in->hstate[k] = any ? 1 : -1;
	return any ? out : NULL;
}

static void
inputs_init(struct inputs *in, const struct ruleset *rs, const struct msg *m,
    const struct mime_msg *mm)
{
	memset(in, 0, sizeof(*in));
	in->rs = rs;
	in->m = m;
	in->mm = mm;
	in->hval = xcalloc(rs->nhsrcs ? rs->nhsrcs : 1, sizeof(*in->hval));
	in->hstate = xcalloc(rs->nhsrcs ? rs->nhsrcs : 1, 1);
	in->hseg = xcalloc(rs->nhsrcs ? rs->nhsrcs : 1, sizeof(*in->hseg));
	in->nhseg = xcalloc(rs->nhsrcs ? rs->nhsrcs : 1, sizeof(*in->nhseg));
}

static void
inputs_release(struct inputs *in)
{
	size_t i;

	for (i = 0; i < in->rs->nhsrcs; i++) {
		buf_release(&in->hval[i]);
		free(in->hseg[i]);
	}
	free(in->hval);
	free(in->hstate);
	free(in->hseg);
	free(in->nhseg);
	buf_release(&in->bodybuf);
	free(in->para);
	free(in->line);
	buf_release(&in->fullbuf);
}

/* elements - the input elements of a type */
static void
elements(struct inputs *in, enum rule_type t, struct span **v, size_t *n,
    struct span *one)
{
	switch (t) {
	case RULE_BODY:
		if (in->para == NULL && in->npara == 0)
			build_body(in);
		*v = in->para;
		*n = in->npara;
		return;
	case RULE_RAWBODY:
		if (in->line == NULL && in->nline == 0)
			build_rawbody(in);
		*v = in->line;
		*n = in->nline;
		return;
	case RULE_FULL:
		if (!in->full_built)
			build_full(in);
		one->p = buf_cstr(&in->fullbuf);
		one->n = in->fullbuf.len;
		*v = one;
		*n = 1;
		return;
	default:
		*v = NULL;
		*n = 0;
	}
}

/* ------------------------------------------------------------------ */
/* matching                                                            */
/* ------------------------------------------------------------------ */

struct evalctx {
	const struct ruleset *rs;
	struct tls *tls;
	unsigned *counts;
	bool	*done;
	char	**samples;
	struct rules_result *res;
	size_t	 ncand;
	enum rule_type type;
};

static void
sample(char **dst, const char *p, size_t n)
{
	struct buf b = BUF_INIT;

	if (*dst)
		return;
	str_escape(&b, p, n, SAMPLE_MAX);
	*dst = b.data ? buf_steal(&b) : xstrdup("");
}

/* limited - a regex stopped by a limit: log once, list, stop the rule */
static void
limited(struct evalctx *c, const struct rule *r, int rc)
{
	char msg[128];

	pcre2_get_error_message(rc, (PCRE2_UCHAR *)msg, sizeof(msg));
	log_warn("rule %s: regex stopped (%s), skipped for this message",
	    r->name, msg);
	c->res->limited = xreallocarray(c->res->limited, c->res->nlimited + 1,
	    sizeof(*c->res->limited));
	c->res->limited[c->res->nlimited++] = r;
	c->done[r->idx] = true;
}

/* try - run rule r over one element; counts matches */
static void
try(struct evalctx *c, const struct rule *r, const char *p, size_t n)
{
	PCRE2_SIZE *ov, start = 0;
	int rc;

	for (;;) {
		c->res->regex_runs++;
		rc = pcre2_match(r->re, (PCRE2_SPTR)p, n, start, 0,
		    c->tls->md, c->tls->mctx);
		if (rc == PCRE2_ERROR_NOMATCH)
			return;
		if (rc < 0) {
			limited(c, r, rc);
			return;
		}
		ov = pcre2_get_ovector_pointer(c->tls->md);
		c->counts[r->idx]++;
		sample(&c->samples[r->idx], p + ov[0], ov[1] - ov[0]);
		if (!(r->tflags & RULE_F_MULTIPLE) ||
		    (r->maxhits && c->counts[r->idx] >= r->maxhits)) {
			c->done[r->idx] = true;
			return;
		}
		start = ov[1] > ov[0] ? ov[1] : ov[1] + 1;
		if (start > n)
			return;
	}
}

static void
on_lit(void *arg, size_t lit)
{
	struct evalctx *c = arg;
	struct tls *t = c->tls;
	const size_t *v = c->rs->lit_rules_v[c->type][lit];
	size_t k, n = c->rs->lit_rules_n[c->type][lit];

	for (k = 0; k < n; k++)
		if (t->rstamps[v[k]] != t->rgen && !c->done[v[k]]) {
			t->rstamps[v[k]] = t->rgen;
			t->cand[c->ncand++] = v[k];
		}
}

static bool
skip_subject(const struct inputs *in, const struct rule *r, size_t e)
{
	return e == 0 && in->subject_first && (r->tflags & RULE_F_NOSUBJECT);
}

/* on_hs - Hyperscan may match rule: stamp it (see run_always) */
static void
on_hs(void *arg, size_t rule)
{
	struct evalctx *c = arg;

	c->tls->hstamps[rule] = c->tls->rgen;
}

/*
 * run_always - the rules of type t without a literal over one element:
 * with gate (Hyperscan scanned the element), those it gates only when it
 * reported them (hstamps of this generation); all of them when it could
 * not scan.  Set order either way.
 */
static void
run_always(struct evalctx *c, struct inputs *in, enum rule_type t,
    size_t e, const char *p, size_t len, bool gate)
{
	const struct ruleset *rs = c->rs;
	const struct rule *r;
	size_t k;

	for (k = 0; k < rs->nalways[t]; k++) {
		r = &rs->rules[rs->always[t][k]];
		if (gate && r->hs && c->tls->hstamps[r->idx] != c->tls->rgen)
			continue;
		if (!c->done[r->idx] && !skip_subject(in, r, e))
			try(c, r, p, len);
	}
}

/* run_type - every regex rule of type t over its elements */
static void
run_type(struct evalctx *c, struct inputs *in, enum rule_type t,
    unsigned flags)
{
	const struct ruleset *rs = c->rs;
	const struct mime_msg *mm = in->mm;
	struct span *v, one;
	size_t n, e, k;
	const struct rule *r;
	bool gate;

	if (rs->nby_type[t] == 0)
		return;
	if (t == RULE_URI) {
		n = mm->nuris;
		v = NULL;
	} else
		elements(in, t, &v, &n, &one);
	c->type = t;
	for (e = 0; e < n; e++) {
		const char *p = t == RULE_URI ? mm->uris[e].uri : v[e].p;
		size_t len = t == RULE_URI ? strlen(p) : v[e].n;

		if ((flags & RULES_EVAL_NO_PREFILTER) ||
		    (rs->ac[t] == NULL && rs->hs_db[t] == NULL)) {
			for (k = 0; k < rs->nby_type[t]; k++) {
				r = &rs->rules[rs->by_type[t][k]];
				if (!c->done[r->idx] && !skip_subject(in, r, e))
					try(c, r, p, len);
			}
			continue;
		}
		c->ncand = 0;
		if (next_gen(&c->tls->rgen, c->tls->rstamps,
		    c->tls->nrstamps) == 1)
			memset(c->tls->hstamps, 0, c->tls->nrstamps *
			    sizeof(*c->tls->hstamps));
		gate = rs->hs_db[t] != NULL &&
		    rhs_scratch(rs, &c->tls->hs_scratch, &c->tls->hs_gen) &&
		    rhs_scan(rs, t, c->tls->hs_scratch, p, len, on_hs, c) == 0;
		if (rs->ac[t] != NULL)
			ac_scan(rs->ac[t], (const unsigned char *)p, len,
			    c->tls->stamps, next_gen(&c->tls->gen,
			    c->tls->stamps, c->tls->nstamps), on_lit, c);
		for (k = 0; k < c->ncand; k++) {
			r = &rs->rules[c->tls->cand[k]];
			/* a weak literal: Hyperscan must agree */
			if (gate && r->hs &&
			    c->tls->hstamps[r->idx] != c->tls->rgen)
				continue;
			if (!c->done[r->idx] && !skip_subject(in, r, e))
				try(c, r, p, len);
		}
		run_always(c, in, t, e, p, len, gate);
	}
}

static void
run_headers(struct evalctx *c, struct inputs *in)
{
	const struct ruleset *rs = c->rs;
	const struct rule *r;
	const struct buf *val;
	const char *p;
	size_t k, len;
	unsigned before;
	int rc;

	for (k = 0; k < rs->nby_type[RULE_HEADER]; k++) {
		r = &rs->rules[rs->by_type[RULE_HEADER][k]];
		val = header_value(in, r->hsrc);
		if (r->exists) {
			if (val) {
				c->counts[r->idx] = 1;
				sample(&c->samples[r->idx], val->data,
				    val->len);
			}
			continue;
		}
		if (val) {
			p = buf_cstr(val);
			len = val->len;
		} else {
			p = r->if_unset ? r->if_unset : "";
			len = strlen(p);
		}
		before = c->counts[r->idx];
		rc = (int)c->res->nlimited;
		if (val && rs->hsrcs[r->hsrc].special == HSP_MIME) {
			/* each part's value on its own, as one input each */
			const struct span *sg = in->hseg[r->hsrc];
			size_t i, n = in->nhseg[r->hsrc];

			for (i = 0; i < n; i++) {
				try(c, r, sg[i].p, sg[i].n);
				if (c->res->nlimited != (size_t)rc ||
				    (c->counts[r->idx] > before &&
				    !(r->tflags & RULE_F_MULTIPLE)))
					break;
			}
			if (n > 0) {
				p = sg[0].p;
				len = sg[0].n;
			}
		} else
			try(c, r, p, len);
		if (c->res->nlimited != (size_t)rc)
			continue;		/* stopped: no hit either way */
		if (r->negate) {
			c->counts[r->idx] = c->counts[r->idx] > before ? 0 : 1;
			free(c->samples[r->idx]);
			c->samples[r->idx] = NULL;
			if (c->counts[r->idx])
				sample(&c->samples[r->idx], p, len);
		}
	}
}

/* eval_in_init - what an eval: test reads; release with eval_in_release */
static void
eval_in_init(struct saeval_in *ei, const struct ruleset *rs,
    const struct msg *m, const struct mime_msg *mm,
    const struct rules_env *env)
{
	memset(ei, 0, sizeof(*ei));
	ei->m = m;
	ei->mm = mm;
	ei->conf = rs->saconf;
	ei->auth = env ? env->auth : NULL;
	ei->now = env && env->now ? env->now : time(NULL);
}

/* run_evals - every eval: rule, after the regexes (metas come later) */
static void
run_evals(struct evalctx *c, struct saeval_in *ei)
{
	const struct ruleset *rs = c->rs;
	const struct rule *r;
	size_t k;

	for (k = 0; k < rs->nevals; k++) {
		r = &rs->rules[rs->evals[k]];
		ei->type = r->type;
		c->counts[r->idx] = r->efn->run(ei, &r->eargs, r->eprep, NULL);
		if (r->maxhits && c->counts[r->idx] > r->maxhits)
			c->counts[r->idx] = r->maxhits;
		if (!(r->tflags & RULE_F_MULTIPLE) && c->counts[r->idx] > 1)
			c->counts[r->idx] = 1;
	}
}

static void
run_metas(struct evalctx *c)
{
	const struct ruleset *rs = c->rs;
	size_t k, i;

	for (k = 0; k < rs->nmeta; k++) {
		i = rs->meta_order[k];
		c->counts[i] = meta_eval(&rs->rules[i].meta, c->counts) != 0;
	}
}

void
rules_eval(const struct ruleset *rs, const struct msg *m,
    const struct mime_msg *mm, unsigned flags, struct rules_result *res)
{
	rules_eval_env(rs, m, mm, NULL, flags, res);
}

void
rules_eval_env(const struct ruleset *rs, const struct msg *m,
    const struct mime_msg *mm, const struct rules_env *env, unsigned flags,
    struct rules_result *res)
{
	struct evalctx c;
	struct inputs in;
	struct saeval_in ei;
	size_t i;
	int t;

	memset(res, 0, sizeof(*res));
	if (rs == NULL || rs->nrules == 0)
		return;
	memset(&c, 0, sizeof(c));
	c.rs = rs;
	c.tls = tls_get(rs);
	c.res = res;
	c.counts = xcalloc(rs->nrules, sizeof(*c.counts));
	c.done = xcalloc(rs->nrules, sizeof(*c.done));
	c.samples = xcalloc(rs->nrules, sizeof(*c.samples));
	inputs_init(&in, rs, m, mm);
	eval_in_init(&ei, rs, m, mm, env);
	in.ei = &ei;
	run_headers(&c, &in);
	for (t = RULE_BODY; t <= RULE_FULL; t++)
		run_type(&c, &in, (enum rule_type)t, flags);
	run_evals(&c, &ei);
	saeval_memo_release(&ei.memo);
	run_metas(&c);
	for (i = 0; i < rs->nrules; i++) {
		if (c.counts[i] == 0) {
			free(c.samples[i]);
			continue;
		}
		res->hits = xreallocarray(res->hits, res->nhits + 1,
		    sizeof(*res->hits));
		res->hits[res->nhits].rule = &rs->rules[i];
		res->hits[res->nhits].count = c.counts[i];
		res->hits[res->nhits++].sample = c.samples[i];
	}
	inputs_release(&in);
	free(c.counts);
	free(c.done);
	free(c.samples);
}

void
rules_result_release(struct rules_result *res)
{
	size_t i;

	for (i = 0; i < res->nhits; i++)
		free(res->hits[i].sample);
	free(res->hits);
	free(res->limited);
	memset(res, 0, sizeof(*res));
}

/* ------------------------------------------------------------------ */
/* rules test                                                          */
/* ------------------------------------------------------------------ */

struct test_out {
	void	(*fn)(const char *, const char *, void *);
	void	*arg;
};

/* test_all - every match of r in p[0..n), reported under where */
static long
test_all(const struct ruleset *rs, const struct rule *r, const char *p,
    size_t n, const char *where, const struct test_out *o)
{
	struct tls *t = tls_get(rs);
	PCRE2_SIZE *ov, start = 0;
	struct buf s = BUF_INIT;
	long hits = 0;
	int rc;

	for (;;) {
		rc = pcre2_match(r->re, (PCRE2_SPTR)p, n, start, 0, t->md,
		    t->mctx);
		if (rc == PCRE2_ERROR_NOMATCH)
			break;
		if (rc < 0) {
			o->fn(where, "(regex stopped by the match limit)",
			    o->arg);
			break;
		}
		ov = pcre2_get_ovector_pointer(t->md);
		buf_reset(&s);
		str_escape(&s, p + ov[0], ov[1] - ov[0], 200);
		o->fn(where, buf_cstr(&s), o->arg);
		hits++;
		start = ov[1] > ov[0] ? ov[1] : ov[1] + 1;
		if (start > n)
			break;
	}
	buf_release(&s);
	return hits;
}

long
rules_test(const struct ruleset *rs, const char *name, const struct msg *m,
    const struct mime_msg *mm, void (*fn)(const char *, const char *, void *),
    void *arg)
{
	const struct rule *r = rules_find(rs, name);
	struct test_out o = { fn, arg };
	struct inputs in;
	struct span *v, one;
	const struct buf *val;
	struct buf where = BUF_INIT, txt = BUF_INIT;
	size_t n, e, k;
	long hits = 0;

	if (r == NULL)
		return -1;
	if (r->disabled) {
		fn("rule", "disabled (see rules check)", arg);
		return 0;
	}
	inputs_init(&in, rs, m, mm);
	if (r->efn) {
		struct saeval_in ei;

		eval_in_init(&ei, rs, m, mm, NULL);
		ei.type = r->type;
		hits = r->efn->run(&ei, &r->eargs, r->eprep, &txt);
		saeval_memo_release(&ei.memo);
		buf_printf(&where, "eval %s", r->pattern + 5);
		if (txt.len == 0)
			buf_adds(&txt, hits ? "hit" : "no hit");
		else
			buf_adds(&txt, hits ? " (hit)" : " (no hit)");
		fn(buf_cstr(&where), buf_cstr(&txt), arg);
	} else if (r->type == RULE_META) {
		struct rules_result res;

		rules_eval(rs, m, mm, 0, &res);
		for (k = 0; k < r->meta.n; k++) {
			const struct meta_tok *tk = &r->meta.rpn[k];
			unsigned cnt = 0;

			if (tk->op != MOP_RULE)
				continue;
			for (e = 0; e < res.nhits; e++)
				if (res.hits[e].rule == &rs->rules[tk->rule])
					cnt = res.hits[e].count;
			buf_reset(&txt);
			buf_printf(&txt, "%s = %u", tk->name, cnt);
			fn("operand", buf_cstr(&txt), arg);
		}
		for (e = 0; e < res.nhits; e++)
			if (res.hits[e].rule == r)
				hits = 1;
		fn("meta", hits ? "true" : "false", arg);
		rules_result_release(&res);
	} else if (r->type == RULE_HEADER) {
		const struct hsrc *h = &rs->hsrcs[r->hsrc];
		const char *p;
		size_t len;

		val = header_value(&in, r->hsrc);
		buf_printf(&where, "%s %s%s%s%s", h->special == HSP_MIME ?
		    "mimeheader" : "header", h->field,
		    (h->mods & HM_RAW) ? ":raw" : "",
		    (h->mods & HM_ADDR) ? ":addr" : "",
		    (h->mods & HM_NAME) ? ":name" : "");
		if (val && h->special == HSP_MIME) {
			/* every value on its own, numbered */
			size_t len0 = where.len, any = 0;

			for (e = 0; e < in.nhseg[r->hsrc]; e++) {
				const struct span *sg = &in.hseg[r->hsrc][e];

				buf_truncate(&where, len0);
				buf_printf(&where, " (value %zu)", e + 1);
				any += test_all(rs, r, sg->p, sg->n,
				    buf_cstr(&where), &o) > 0;
			}
			buf_truncate(&where, len0);
			hits = r->negate ? any == 0 : any > 0;
			if (r->negate && hits)
				fn(buf_cstr(&where), "(no match: !~ hits)", arg);
		} else if (r->exists) {
			hits = val != NULL;
			if (val)
				str_escape(&txt, val->data, val->len, 200);
			fn(buf_cstr(&where), hits ? buf_cstr(&txt) : "absent",
			    arg);
		} else {
			p = val ? buf_cstr(val) : r->if_unset ? r->if_unset : "";
			len = val ? val->len : strlen(p);
			if (!r->negate)
				hits = test_all(rs, r, p, len, buf_cstr(&where),
				    &o);
			else {
				/* a match shown here is why !~ does not hit */
				hits = test_all(rs, r, p, len, buf_cstr(&where),
				    &o) ? 0 : 1;
				if (hits) {
					str_escape(&txt, p, len, 200);
					fn(buf_cstr(&where), buf_cstr(&txt), arg);
					fn(buf_cstr(&where), "(no match: !~ hits)",
					    arg);
				}
			}
		}
	} else {
		static const char *const what[] = { "header", "body paragraph",
		    "rawbody line", "uri", "full", "meta" };

		if (r->type == RULE_URI) {
			n = mm->nuris;
			v = NULL;
		} else
			elements(&in, r->type, &v, &n, &one);
		for (e = 0; e < n; e++) {
			const char *p = r->type == RULE_URI ? mm->uris[e].uri :
			    v[e].p;
			size_t len = r->type == RULE_URI ? strlen(p) : v[e].n;

			if (skip_subject(&in, r, e))
				continue;
			buf_reset(&where);
			if (r->type == RULE_BODY && e == 0 && in.subject_first)
				buf_adds(&where, "body paragraph 1 (Subject)");
			else if (r->type == RULE_FULL)
				buf_adds(&where, "full message");
			else
				buf_printf(&where, "%s %zu", what[r->type], e + 1);
			/* every place is shown, even for a plain rule */
			hits += test_all(rs, r, p, len, buf_cstr(&where), &o);
		}
	}
	inputs_release(&in);
	buf_release(&where);
	buf_release(&txt);
	return hits;
}
