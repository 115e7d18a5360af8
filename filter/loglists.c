/*
 * loglists.c - the report's review lists: rejects, tags, likely false
 * positives
 *
 * DESCRIPTION
 *	An lr_item is one message as a review row needs it: time, queue
 *	id, client, envelope sender, From, the Subject decoded for display,
 *	the first recipients, score, action, the symbols that decided it,
 *	the evidence that it was wanted, and its explain text (capped at
 *	LR_EXPLAIN_MAX).  Items are built only for messages a list keeps.
 *
 *	Rejects and tags are rings of the latest ones.  False-positive
 *	candidates are a bounded min-heap ordered by provisional points
 *	(lr_evidence() plus what the log has shown so far about the From
 *	domain and the sender), then by a smaller margin above the
 *	threshold, then by arrival: a better candidate replaces the
 *	weakest once the heap is full.  lr_fp_rank() scores them again at
 *	the end with the whole log's statistics.
 *
 *	Memory: at most cap items per list, each with its explain text.
 */
#include "config.h"

#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "logreview.h"
#include "logreview_int.h"
#include "str.h"
#include "topk.h"

#define WANTED_MIN	5	/* messages from a domain to judge it */
#define WANTED_SHARE	0.8	/* share accepted to call it wanted */

void
lr_item_clear(struct lr_item *j)
{
	free(j->queue_id);
	free(j->client);
	free(j->sender);
	free(j->from);
	free(j->from_domain);
	free(j->subject);
	free(j->rcpts);
	free(j->symbols);
	free(j->deciders);
	free(j->explain);
	memset(j, 0, sizeof(*j));
}

/* rcpts_line - "a@x, b@y, c@z +4 more" */
static char *
rcpts_line(const struct logrec *r)
{
	struct buf b = BUF_INIT;
	size_t i, n = r->rcpts ? json_object_array_length(r->rcpts) : 0;

	for (i = 0; i < n && i < LR_RCPTS_SHOWN; i++) {
		struct json_object *v = json_object_array_get_idx(r->rcpts, i);

		if (i)
			buf_adds(&b, ", ");
		buf_adds(&b, json_object_is_type(v, json_type_string) ?
		    json_object_get_string(v) : "?");
	}
	if (n > LR_RCPTS_SHOWN)
		buf_printf(&b, " +%zu more", n - LR_RCPTS_SHOWN);
	return buf_steal(&b);
}

static char *
text_of(void (*fn)(const struct logrec *, size_t, struct buf *),
    const struct logrec *r, size_t max)
{
	struct buf b = BUF_INIT;

	fn(r, max, &b);
	return buf_steal(&b);
}

void
lr_item_fill(struct lr_item *j, const struct logrec *r, uint64_t seq)
{
	struct buf e = BUF_INIT;
	char dom[256];
	double thr;

	lr_item_clear(j);
	j->seq = seq;
	j->time = r->time;
	j->has_time = r->has_time;
	j->has_score = r->has_score;
	j->score = r->score;
	j->action = r->action;
	j->margin = r->has_score && lr_threshold(r, &thr) ? r->score - thr : 0;
	j->bayes = r->has_bayes ? r->bayes : -1;
	j->points = lr_evidence(r, &j->why);
	j->queue_id = xstrdup(r->queue_id ? r->queue_id : "");
	j->client = xstrdup(r->client_ip ? r->client_ip : "");
	j->sender = xstrdup(r->mail_from ? (*r->mail_from ? r->mail_from :
	    "<>") : "");
	j->from = xstrdup(r->from ? r->from : "");
	j->from_domain = xstrdup(lr_domain(r->from, dom, sizeof(dom)) ? dom :
	    "");
	j->subject = text_of(lr_subject, r, LR_SUBJECT_MAX);
	j->rcpts = rcpts_line(r);
	j->symbols = lr_symbols_line(r, 6);
	j->deciders = text_of(lr_deciders, r, 6);
	lr_explain(r, &e);
	if (e.len > LR_EXPLAIN_MAX) {
		buf_truncate(&e, LR_EXPLAIN_MAX);
		buf_adds(&e, "\n[explanation cut at 32 KiB]\n");
	}
	j->explain = buf_steal(&e);
}

void
lr_list_init(struct lr_list *l, size_t cap)
{
	memset(l, 0, sizeof(*l));
	l->cap = cap;
	if (cap)
		l->v = xcalloc(cap, sizeof(*l->v));
}

void
lr_list_release(struct lr_list *l)
{
	size_t i;

	for (i = 0; i < l->cap; i++)
		lr_item_clear(&l->v[i]);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

void
lr_list_push(struct lr_list *l, const struct logrec *r, uint64_t seq)
{
	l->total++;
	if (l->cap == 0)
		return;
	lr_item_fill(&l->v[l->next], r, seq);
	l->next = (l->next + 1) % l->cap;
	if (l->n < l->cap)
		l->n++;
}

const struct lr_item *
lr_list_at(const struct lr_list *l, size_t i)
{
	if (i >= l->n)
		return NULL;
	return &l->v[(l->next + l->cap - 1 - i) % l->cap];
}

const struct lr_item *
lr_tag_at(const struct lr_summary *s, size_t i)
{
	return lr_list_at(&s->tags, i);
}

/* ------------------------------------------------------------------ */
/* likely false positives                                              */
/* ------------------------------------------------------------------ */

bool
lr_bare_addr(const char *addr, char *out, size_t n)
{
	const char *lt, *gt, *p = addr;
	size_t len;

	if (addr == NULL || n == 0)
		return false;
	lt = strrchr(addr, '<');
	if (lt && (gt = strchr(lt, '>')) != NULL) {
		p = lt + 1;
		len = (size_t)(gt - p);
	} else
		len = strlen(addr);
	if (len == 0 || len >= n || memchr(p, '@', len) == NULL)
		return false;
	memcpy(out, p, len);
	out[len] = '\0';
	str_lower(out);
	return true;
}

bool
lr_domain_wanted(const struct lr_summary *s, const char *domain)
{
	const struct topk_entry *e;
	uint64_t n;

	if (domain == NULL || *domain == '\0' ||
	    (e = topk_get(s->from_domains, domain)) == NULL)
		return false;
	n = e->count - e->err;
	return n >= WANTED_MIN && (double)e->aux[LR_SRC_ACCEPT] >=
	    WANTED_SHARE * (double)n;
}

bool
lr_correspondent(const struct lr_summary *s, const char *addr)
{
	char a[520];

	return lr_bare_addr(addr, a, sizeof(a)) &&
	    topk_get(s->correspondents, a) != NULL;
}

/*
 * history - evidence from the log as a whole: the From domain mostly
 * accepted, the envelope sender or From address a known correspondent;
 * none for a forged From (LR_EV_FORGED in *why)
 */
static int
history(const struct lr_summary *s, const char *from_domain,
    const char *sender, const char *from, unsigned *why)
{
	int p = 0;

	if (*why & LR_EV_FORGED)
		return 0;
	if (lr_domain_wanted(s, from_domain)) {
		*why |= LR_EV_DOMAIN;
		p += 2;
	}
	if (lr_correspondent(s, sender) || lr_correspondent(s, from)) {
		*why |= LR_EV_KNOWN;
		p += 3;
	}
	return p;
}

/* better - is a a stronger FP candidate than b? */
static bool
better(int pa, const struct lr_item *a, int pb, const struct lr_item *b)
{
	if (pa != pb)
		return pa > pb;
	if (a->margin != b->margin)
		return a->margin < b->margin;
	return a->seq > b->seq;
}

/* provisional - the points an item had when it was offered */
static int
provisional(const struct lr_item *j)
{
	return j->points + ((j->why & LR_EV_DOMAIN) ? 2 : 0) +
	    ((j->why & LR_EV_KNOWN) ? 3 : 0);
}

static void
heap_down(struct lr_list *l, size_t i)
{
	for (;;) {
		size_t c = 2 * i + 1, m = i;
		struct lr_item t;

		if (c < l->n && better(provisional(&l->v[m]), &l->v[m],
		    provisional(&l->v[c]), &l->v[c]))
			m = c;
		if (c + 1 < l->n && better(provisional(&l->v[m]), &l->v[m],
		    provisional(&l->v[c + 1]), &l->v[c + 1]))
			m = c + 1;
		if (m == i)
			return;
		t = l->v[i];
		l->v[i] = l->v[m];
		l->v[m] = t;
		i = m;
	}
}

static void
heap_up(struct lr_list *l, size_t i)
{
	while (i > 0) {
		size_t p = (i - 1) / 2;
		struct lr_item t;

		if (!better(provisional(&l->v[p]), &l->v[p],
		    provisional(&l->v[i]), &l->v[i]))
			return;
		t = l->v[i];
		l->v[i] = l->v[p];
		l->v[p] = t;
		i = p;
	}
}

void
lr_fp_offer(struct lr_summary *s, const struct logrec *r)
{
	struct lr_list *l = &s->fps;
	struct lr_item probe;
	char dom[256];
	unsigned why;
	double thr;
	int p;

	if (l->cap == 0 || (r->action != LR_TAG && r->action != LR_REJECT))
		return;
	l->total++;
	memset(&probe, 0, sizeof(probe));
	p = lr_evidence(r, &why);
	probe.why = why;
	probe.points = p;
	probe.seq = s->seq;
	probe.margin = r->has_score && lr_threshold(r, &thr) ? r->score - thr :
	    0;
	p += history(s, lr_domain(r->from, dom, sizeof(dom)) ? dom : NULL,
	    r->mail_from, r->from, &probe.why);
	/* 5 more points can come from the whole log's history */
	if (p + ((why & LR_EV_FORGED) ? 0 : 5) < LR_FP_MIN)
		return;
	if (l->n == l->cap && !better(p, &probe, provisional(&l->v[0]),
	    &l->v[0])) {
		if (p >= LR_FP_MIN)
			l->dropped++;
		return;
	}
	if (l->n < l->cap) {
		lr_item_fill(&l->v[l->n], r, s->seq);
		l->v[l->n].why |= probe.why & (LR_EV_DOMAIN | LR_EV_KNOWN);
		heap_up(l, l->n++);
	} else {
		if (provisional(&l->v[0]) >= LR_FP_MIN)
			l->dropped++;
		lr_item_fill(&l->v[0], r, s->seq);
		l->v[0].why |= probe.why & (LR_EV_DOMAIN | LR_EV_KNOWN);
		heap_down(l, 0);
	}
}

static int
fp_cmp(const void *a, const void *b)
{
	const struct lr_fp *x = a, *y = b;

	if (better(x->points, x->item, y->points, y->item))
		return -1;
	return better(y->points, y->item, x->points, x->item);
}

size_t
lr_fp_rank(const struct lr_summary *s, struct lr_fp **out)
{
	struct lr_fp *v = xcalloc(s->fps.n ? s->fps.n : 1, sizeof(*v));
	size_t i, n = 0;

	for (i = 0; i < s->fps.n; i++) {
		const struct lr_item *j = &s->fps.v[i];
		unsigned why = j->why & ~(unsigned)(LR_EV_DOMAIN | LR_EV_KNOWN);
		int p = j->points + history(s, j->from_domain, j->sender,
		    j->from, &why);

		if (p < LR_FP_MIN)
			continue;
		v[n].item = j;
		v[n].points = p;
		v[n].why = why;
		n++;
	}
	qsort(v, n, sizeof(v[0]), fp_cmp);
	*out = v;
	return n;
}
