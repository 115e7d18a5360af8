/*
 * loghtml_review.c - the report's morning review: lists of rejected,
 * tagged and likely wanted mail, sources, and what changed
 *
 * DESCRIPTION
 *	lr_html_review() renders, in this order:
 *	  - "Likely false positives" (#fps): tagged and rejected mail
 *	    ranked by the evidence that it was wanted (lr_fp_rank());
 *	  - the latest tagged (#tags) and rejected (#rejects) messages;
 *	  - what changed against the period before (#changes), with
 *	    --compare;
 *	  - sources (#networks, #domains, #own-domains).
 *	Every list row carries time, queue id, action, score, client,
 *	envelope sender, From, Subject (decoded), the first recipients and
 *	the symbols that decided it; its queue id links to the message's
 *	explanation further down (lr_html_review_explain()).  The first
 *	LIST_OPEN rows of a list are shown, the rest sit in a <details>
 *	element: the page stays one file, without script.  Under each
 *	list, the `log search` that selects its mail: the list's action
 *	with the report's own filters, time range and inputs; a list cut
 *	at its cap (--rejects) says how many more there are.
 *
 *	Layout: identifiers, times, numbers and actions never wrap; free
 *	text (addresses, Subjects, symbol lists) wraps anywhere inside its
 *	cell; each table sits in a box that scrolls sideways when a phone
 *	is narrower than the table.
 * SECURITY
 *	All text from the log passes through lr_html() (lr_html_cut());
 *	ids and hrefs are made here from counters, never from the log.
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "logreview.h"
#include "logreview_int.h"
#include "topk.h"

#define LIST_OPEN	20	/* rows shown before "more" */

enum list_kind { L_FP, L_TAG, L_REJECT };

static const struct {
	const char *section, *table, *anchor, *title;
	unsigned actions;		/* what the list holds */
} lists[] = {
	[L_FP] = { "fps", "fp-table", "explain-fp-", "Likely false positives",
	    (1u << LR_TAG) | (1u << LR_REJECT) },
	[L_TAG] = { "tags", "tag-table", "explain-tag-", "Latest tagged mail",
	    1u << LR_TAG },
	[L_REJECT] = { "rejects", "reject-table", "explain-",
	    "Latest rejects", 1u << LR_REJECT },
};

/* the search closest to the false positives, unless the report has them */
static const char *const fp_criteria[][2] = {
	{ "--dmarc", "pass" }, { "--bayes-max", "0.3" },
};

/*
 * addr_html - an address or list of them, escaped, with a break
 * opportunity after each '@', '.' and ',' so that a narrow cell breaks
 * it there rather than anywhere
 */
static void
addr_html(struct buf *o, const char *s, size_t max)
{
	struct buf t = BUF_INIT;
	size_t i, from = 0;

	if (s == NULL || *s == '\0')
		return;
	lr_html_cut(&t, s, max);
	for (i = 0; i < t.len; i++)
		if (t.data[i] == '@' || t.data[i] == '.' || t.data[i] == ',') {
			buf_add(o, t.data + from, i + 1 - from);
			buf_adds(o, "<wbr>");
			from = i + 1;
		}
	buf_add(o, t.data + from, t.len - from);
	buf_release(&t);
}

static void
list_head(struct buf *o, const char *id, enum list_kind k)
{
	buf_printf(o, "<div class=\"scroll\"><table class=\"list\" id=\"%s\">"
	    "<tr><th>time (UTC)</th><th>queue id</th><th>action</th>"
	    "<th>score</th>%s<th>Subject</th><th>From, envelope sender, "
	    "client</th><th>recipients</th><th>decided by</th></tr>\n", id,
	    k == L_FP ? "<th>why it may be wanted</th>" : "");
}

static void
item_row(struct buf *o, const struct lr_item *j, enum list_kind k, size_t i,
    const struct lr_fp *fp)
{
	struct buf ev = BUF_INIT;

	buf_adds(o, "<tr><td class=\"t\">");
	if (j->has_time) {
		lr_html_time(o, j->time, "%Y-%m-%d");
		buf_adds(o, "<br>");
		lr_html_time(o, j->time, "%H:%M:%S");
	}
	buf_printf(o, "</td><td class=\"id\"><a href=\"#%s%zu\">",
	    lists[k].anchor, i + 1);
	if (*j->queue_id)
		lr_html_cut(o, j->queue_id, 64);
	else
		buf_adds(o, "(none)");
	buf_printf(o, "</a></td><td class=\"act act-%s\">%s</td>"
	    "<td class=\"n\">", lr_action_name(j->action),
	    lr_action_name(j->action));
	if (j->has_score)
		buf_printf(o, "%.2f", j->score);
	buf_adds(o, "</td>");
	if (fp) {
		buf_printf(&ev, "%+d: ", fp->points);
		lr_evidence_words(fp->why, j->bayes, &ev);
		buf_adds(o, "<td class=\"ev\">");
		lr_html(o, ev.data, ev.len);
		buf_adds(o, "</td>");
	}
	buf_adds(o, "<td class=\"subj\">");
	lr_html_cut(o, j->subject, LR_SUBJECT_MAX);
	buf_adds(o, "</td><td class=\"addr\"><span class=\"from\">");
	addr_html(o, *j->from ? j->from : "(no From)", 200);
	buf_adds(o, "</span><br><small>env: ");
	addr_html(o, *j->sender ? j->sender : "(none)", 200);
	buf_adds(o, "</small><br><small>client: ");
	addr_html(o, *j->client ? j->client : "(unknown)", 64);
	buf_adds(o, "</small></td><td class=\"addr\">");
	addr_html(o, j->rcpts, 400);
	buf_adds(o, "</td><td class=\"sym\">");
	lr_html_cut(o, j->deciders, 300);
	buf_adds(o, "</td></tr>\n");
	buf_release(&ev);
}

/* list_rows - rows [0, n): the first LIST_OPEN open, the rest folded */
static void
list_rows(struct buf *o, enum list_kind k, const struct lr_item *const *v,
    const struct lr_fp *fps, size_t n)
{
	char id[64];
	size_t i;

	list_head(o, lists[k].table, k);
	for (i = 0; i < n && i < LIST_OPEN; i++)
		item_row(o, v[i], k, i, fps ? &fps[i] : NULL);
	buf_adds(o, "</table></div>\n");
	if (n <= LIST_OPEN)
		return;
	buf_printf(o, "<details class=\"more\"><summary>%zu more</summary>\n",
	    n - LIST_OPEN);
	snprintf(id, sizeof(id), "%s-more", lists[k].table);
	list_head(o, id, k);
	for (; i < n; i++)
		item_row(o, v[i], k, i, fps ? &fps[i] : NULL);
	buf_adds(o, "</table></div></details>\n");
}

static void
list_open(struct buf *o, enum list_kind k)
{
	buf_printf(o, "<section id=\"%s\" class=\"wide\"><h2>%s</h2>\n",
	    lists[k].section, lists[k].title);
}

/* shell_word - s as one shell word: as it is when plain, else in '' */
static void
shell_word(struct buf *b, const char *s)
{
	static const char plain[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789@%+=:,./_-";
	const char *p;

	if (*s && strspn(s, plain) == strlen(s)) {
		buf_adds(b, s);
		return;
	}
	buf_addc(b, '\'');
	for (p = s; *p; p++)
		if (*p == '\'')
			buf_adds(b, "'\\''");
		else
			buf_addc(b, *p);
	buf_addc(b, '\'');
}

static bool
has_arg(const struct lr_html_opts *opt, const char *name)
{
	size_t i;

	for (i = 0; i < opt->nsearch_args; i++)
		if (strcmp(opt->search_args[i], name) == 0)
			return true;
	return false;
}

/*
 * search_cmd - <code>mailwarden log search ...</code>: list k's actions
 * (within the report's), the report's filters and inputs, shell-quoted
 * and HTML-escaped, so that it selects the mail the list was drawn from
 */
static void
search_cmd(struct buf *o, const struct lr_html_opts *opt, enum list_kind k)
{
	struct buf c = BUF_INIT;
	unsigned acts = lists[k].actions;
	bool first = true, dashes = false;
	size_t i;

	if (opt->actions)
		acts &= opt->actions;
	buf_adds(&c, "mailwarden log search --action ");
	for (i = 0; i < LR_NACTIONS; i++)
		if (acts & (1u << i)) {
			if (!first)
				buf_addc(&c, ',');
			buf_adds(&c, lr_action_name((enum lr_action)i));
			first = false;
		}
	for (i = 0; k == L_FP && i < sizeof(fp_criteria) /
	    sizeof(fp_criteria[0]); i++)
		if (!has_arg(opt, fp_criteria[i][0]))
			buf_printf(&c, " %s %s", fp_criteria[i][0],
			    fp_criteria[i][1]);
	for (i = 0; i < opt->nsearch_args; i++) {
		buf_addc(&c, ' ');
		shell_word(&c, opt->search_args[i]);
	}
	for (i = 0; i < opt->nfiles; i++)
		dashes |= opt->files[i][0] == '-' && opt->files[i][1] != '\0';
	if (dashes)
		buf_adds(&c, " --");
	for (i = 0; i < opt->nfiles; i++) {
		buf_addc(&c, ' ');
		shell_word(&c, opt->files[i]);
	}
	buf_adds(o, "<code>");
	lr_html(o, c.data, c.len);
	buf_adds(o, "</code>");
	buf_release(&c);
}

/* ring_search - under a ring: its search, and how many it left out */
static void
ring_search(struct buf *o, const struct lr_html_opts *opt, enum list_kind k,
    uint64_t more, uint64_t total)
{
	buf_adds(o, "<p class=\"meta\">");
	if (more)
		buf_printf(o, "%llu more: ", (unsigned long long)more);
	else
		buf_adds(o, "The same mail from the command line: ");
	search_cmd(o, opt, k);
	if (more)
		buf_printf(o, " lists all %llu", (unsigned long long)total);
	buf_adds(o, ".</p>\n");
}

/* fp_search - under the false positives: candidates not shown, search */
static void
fp_search(struct buf *o, const struct lr_html_opts *opt, size_t shown,
    size_t ranked, uint64_t dropped)
{
	uint64_t more = (uint64_t)(ranked - shown) + dropped;

	buf_adds(o, "<p class=\"meta\">");
	if (more) {
		buf_printf(o, "%llu more candidate%s beyond the %zu shown: %zu "
		    "ranked below them", (unsigned long long)more,
		    more == 1 ? "" : "s", shown, ranked - shown);
		if (dropped)
			buf_printf(o, ", %llu that had %d points or more when "
			    "they arrived but were not kept (at most %d "
			    "&times; --rejects are)", (unsigned long long)
			    dropped, LR_FP_MIN, LR_FP_KEEP);
		buf_adds(o, ".  Close to all of them: ");
	} else
		buf_adds(o, "Close to this list from the command line: ");
	search_cmd(o, opt, L_FP);
	buf_adds(o, " (the ranking also weighs the From domain's history "
	    "and known correspondents).</p>\n");
}

static void
fp_list(struct buf *o, const struct lr_summary *s,
    const struct lr_html_opts *opt)
{
	const struct lr_item **v;
	struct lr_fp *fps;
	size_t n, i, shown;

	list_open(o, L_FP);
	buf_printf(o, "<p class=\"meta\">Tagged and rejected mail with "
	    "evidence that it was wanted, strongest first: DMARC pass +3 "
	    "(else aligned DKIM pass +2, aligned SPF pass +1), Bayes at most "
	    "0.1 +2 or 0.3 +1 (0.9 or more: &minus;2), a From domain with at "
	    "least 5 messages, 80%% of them accepted, +2, a sender that local "
	    "users wrote to (authenticated mail) +3.  Listed from %d points; "
	    "ties: the score closest to its threshold first.</p>\n",
	    LR_FP_MIN);
	n = lr_fp_rank(s, &fps);
	shown = n < s->rejects.cap ? n : s->rejects.cap;
	if (shown == 0) {
		buf_adds(o, "<p class=\"empty\">No likely false positives."
		    "</p>\n");
		if (n || s->fps.dropped)
			fp_search(o, opt, shown, n, s->fps.dropped);
		buf_adds(o, "</section>\n");
		free(fps);
		return;
	}
	v = xcalloc(shown, sizeof(*v));
	for (i = 0; i < shown; i++)
		v[i] = fps[i].item;
	list_rows(o, L_FP, v, fps, shown);
	fp_search(o, opt, shown, n, s->fps.dropped);
	buf_adds(o, "</section>\n");
	free(v);
	free(fps);
}

/* ring_list - the latest tags or rejects, newest first */
static void
ring_list(struct buf *o, enum list_kind k, const struct lr_summary *s,
    const struct lr_html_opts *opt)
{
	const struct lr_item **v;
	uint64_t total = k == L_TAG ? s->action[LR_TAG] : s->action[LR_REJECT];
	size_t n = k == L_TAG ? s->tags.n : s->rejects.n, i;

	list_open(o, k);
	if (n == 0) {
		buf_printf(o, "<p class=\"empty\">No %s.</p></section>\n",
		    k == L_TAG ? "tagged mail" : "rejects");
		return;
	}
	buf_printf(o, "<p class=\"meta\">The %zu most recent of %llu, newest "
	    "first; a queue id opens its explanation.</p>\n", n,
	    (unsigned long long)total);
	v = xcalloc(n, sizeof(*v));
	for (i = 0; i < n; i++)
		v[i] = k == L_TAG ? lr_tag_at(s, i) : lr_reject_at(s, i);
	list_rows(o, k, v, NULL, n);
	ring_search(o, opt, k, total > n ? total - n : 0, total);
	buf_adds(o, "</section>\n");
	free(v);
}

/* ------------------------------------------------------------------ */
/* sources                                                             */
/* ------------------------------------------------------------------ */

static void
source_table(struct buf *o, const char *id, const char *what,
    const struct lr_summary *s, const struct topk *t, size_t top,
    const struct lr_summary *prev, const struct topk *pt)
{
	struct topk_entry **v;
	size_t n, i;

	v = topk_sorted(t, &n);
	if (n == 0) {
		buf_adds(o, "<p class=\"empty\">None.</p>\n");
		free(v);
		return;
	}
	buf_printf(o, "<div class=\"scroll\"><table id=\"%s\"><tr><th>%s</th>"
	    "<th>messages</th><th>rejected</th><th>tagged</th>"
	    "<th>accepted</th><th>DMARC pass</th></tr>\n", id, what);
	for (i = 0; i < n && i < top; i++) {
		const uint64_t *a = v[i]->aux;
		uint64_t exact = v[i]->count - v[i]->err;

		buf_adds(o, "<tr><td class=\"addr\">");
		addr_html(o, v[i]->key, 120);
		if (prev && pt && topk_get(pt, v[i]->key) == NULL)
			buf_adds(o, " <span class=\"new\">new</span>");
		buf_printf(o, "</td><td class=\"n\">%llu%s</td>"
		    "<td class=\"n\">%llu</td><td class=\"n\">%llu</td>"
		    "<td class=\"n\">%llu</td><td class=\"n\">%.1f%%</td></tr>\n",
		    (unsigned long long)v[i]->count, v[i]->err ? " (approx.)" :
		    "", (unsigned long long)a[LR_SRC_REJECT],
		    (unsigned long long)a[LR_SRC_TAG],
		    (unsigned long long)a[LR_SRC_ACCEPT],
		    lr_pct(a[LR_SRC_DMARC_PASS], exact));
	}
	buf_adds(o, "</table></div>\n");
	(void)s;
	free(v);
}

/* own_list - the site's domains: given, else the recipient domains */
static size_t
own_list(const struct lr_summary *s, const struct lr_html_opts *opt,
    const char ***out, size_t top)
{
	struct topk_entry **v;
	const char **d;
	size_t n, i;

	if (opt->nown) {
		d = xcalloc(opt->nown, sizeof(*d));
		for (i = 0; i < opt->nown; i++)
			d[i] = opt->own_domains[i];
		*out = d;
		return opt->nown;
	}
	v = topk_sorted(s->rcpt_domains, &n);
	n = n < top ? n : top;
	d = xcalloc(n ? n : 1, sizeof(*d));
	for (i = 0; i < n; i++)
		d[i] = v[i]->key;
	free(v);
	*out = d;
	return n;
}

static void
own_domains(struct buf *o, const struct lr_summary *s,
    const struct lr_html_opts *opt, size_t top)
{
	const struct topk_entry *e;
	const char **d;
	size_t n, i;

	buf_adds(o, "<h3 id=\"own-domains\">DMARC results for the site's own "
	    "domains (as From)</h3>\n<p class=\"meta\">What the DMARC "
	    "aggregate reports about these domains will say: mail that "
	    "claimed to be from them.  The rates count inbound mail; the "
	    "site's own outbound mail (authenticated, or unscored: trusted "
	    "network, exempt scope) is counted apart and not checked.  ");
	buf_adds(o, opt->nown ? "Domains given with <code>--own-domain"
	    "</code>.</p>\n" : "Domains: the recipient domains of the log "
	    "(set them with <code>--own-domain</code>).</p>\n");
	n = own_list(s, opt, &d, top);
	buf_adds(o, "<div class=\"scroll\"><table id=\"own-domain-table\"><tr>"
	    "<th>domain</th><th>messages</th><th>pass</th><th>fail</th>"
	    "<th>none or other</th><th>outbound, not checked</th>"
	    "<th>pass rate</th></tr>\n");
	for (i = 0; i < n; i++) {
		uint64_t z[TOPK_NAUX] = { 0 }, cnt = 0, out = 0;
		const uint64_t *a = z;

		if ((e = topk_get(s->from_domains, d[i])) != NULL) {
			a = e->aux;
			cnt = e->count - e->err;
		}
		if ((e = topk_get(s->out_domains, d[i])) != NULL)
			out = e->count;
		buf_adds(o, "<tr><td class=\"addr\">");
		addr_html(o, d[i], 120);
		buf_printf(o, "</td><td class=\"n\">%llu</td><td class=\"n\">"
		    "%llu</td><td class=\"n\">%llu</td><td class=\"n\">%llu"
		    "</td><td class=\"n\">%llu</td><td class=\"n\">%.1f%%</td>"
		    "</tr>\n", (unsigned long long)cnt,
		    (unsigned long long)a[LR_SRC_DMARC_PASS],
		    (unsigned long long)a[LR_SRC_DMARC_FAIL],
		    (unsigned long long)a[LR_SRC_DMARC_NONE],
		    (unsigned long long)out,
		    lr_pct(a[LR_SRC_DMARC_PASS], cnt));
	}
	buf_adds(o, "</table></div>\n");
	free(d);
}

static void
sources(struct buf *o, const struct lr_summary *s,
    const struct lr_html_opts *opt, size_t top)
{
	const struct lr_summary *p = opt->prev;

	buf_adds(o, "<section id=\"networks\"><h2>Sources</h2>\n"
	    "<h3>Client networks (/24, /48)</h3>\n");
	source_table(o, "net-table", "network", s, s->nets, top, p,
	    p ? p->nets : NULL);
	buf_adds(o, "</section>\n<section id=\"domains\">"
	    "<h3>Envelope sender domains (MAIL FROM)</h3>\n");
	source_table(o, "env-domain-table", "domain", s, s->env_domains, top,
	    p, p ? p->env_domains : NULL);
	buf_adds(o, "<h3>From domains (inbound)</h3>\n");
	source_table(o, "from-domain-table", "domain", s, s->from_domains, top,
	    p, p ? p->from_domains : NULL);
	own_domains(o, s, opt, top);
	buf_adds(o, "</section>\n");
}

/* ------------------------------------------------------------------ */
/* since the period before                                             */
/* ------------------------------------------------------------------ */

struct rise {
	const char *name;
	uint64_t before, now;
	double delta;			/* hits above the rate before */
};

static int
rise_cmp(const void *a, const void *b)
{
	const struct rise *x = a, *y = b;

	return x->delta > y->delta ? -1 : x->delta < y->delta;
}

static void
rising_symbols(struct buf *o, const struct lr_summary *s,
    const struct lr_summary *p, size_t top)
{
	struct topk_entry **v;
	struct rise *r;
	size_t n, i, k = 0;

	v = topk_sorted(s->symbols, &n);
	r = xcalloc(n ? n : 1, sizeof(*r));
	for (i = 0; i < n; i++) {
		const struct topk_entry *e = topk_get(p->symbols, v[i]->key);
		uint64_t before = e ? e->count : 0;
		double expect = p->n ? (double)before * (double)s->n /
		    (double)p->n : 0;
		double d = (double)v[i]->count - expect;

		/* at least 3 hits more than the old rate, and 1.5 times it */
		if (d < 3 || (double)v[i]->count < 1.5 * expect)
			continue;
		r[k++] = (struct rise){ v[i]->key, before, v[i]->count, d };
	}
	qsort(r, k, sizeof(r[0]), rise_cmp);
	buf_adds(o, "<h3>Symbols that rose</h3>\n<p class=\"meta\">Hit at "
	    "least 1.5 times as often per message as before, and at least 3 "
	    "times more than that rate predicts; most extra hits first.</p>"
	    "\n");
	if (k == 0)
		buf_adds(o, "<p class=\"empty\">None rose.</p>\n");
	else
		buf_adds(o, "<div class=\"scroll\"><table id=\"rising-table\">"
		    "<tr><th>symbol</th><th>hits before</th><th>hits now</th>"
		    "<th>of messages before</th><th>of messages now</th></tr>\n");
	for (i = 0; i < k && i < top; i++) {
		buf_adds(o, "<tr><td class=\"sym\">");
		lr_html_cut(o, r[i].name, 120);
		if (r[i].before == 0)
			buf_adds(o, " <span class=\"new\">new</span>");
		buf_printf(o, "</td><td class=\"n\">%llu</td><td class=\"n\">"
		    "%llu</td><td class=\"n\">%.1f%%</td><td class=\"n\">"
		    "%.1f%%</td></tr>\n", (unsigned long long)r[i].before,
		    (unsigned long long)r[i].now, lr_pct(r[i].before, p->n),
		    lr_pct(r[i].now, s->n));
	}
	if (k)
		buf_adds(o, "</table></div>\n");
	free(r);
	free(v);
}

static void
changes(struct buf *o, const struct lr_summary *s,
    const struct lr_html_opts *opt, size_t top)
{
	const struct lr_summary *p = opt->prev;
	double hours = opt->compare_secs / 3600.0;
	size_t a;

	if (p == NULL)
		return;
	buf_adds(o, "<section id=\"changes\"><h2>Since the period before"
	    "</h2>\n<p class=\"meta\">");
	if (hours > 0)
		buf_printf(o, "This report's period against the %g hours before "
		    "it.</p>\n", hours);
	else
		buf_adds(o, "This report's logs against the ones given with "
		    "<code>--compare-log</code>.</p>\n");
	buf_printf(o, "<div class=\"scroll\"><table id=\"change-table\"><tr>"
	    "<th></th><th>before</th><th>now</th><th>change</th></tr>\n"
	    "<tr><td>messages</td><td class=\"n\">%llu</td>"
	    "<td class=\"n\">%llu</td><td class=\"n\">", (unsigned long long)
	    p->n, (unsigned long long)s->n);
	if (p->n)
		buf_printf(o, "%+.1f%%", 100.0 * ((double)s->n - (double)p->n) /
		    (double)p->n);
	buf_adds(o, "</td></tr>\n");
	for (a = 0; a < LR_NACTIONS; a++) {
		if (a == LR_OTHER && s->action[a] == 0 && p->action[a] == 0)
			continue;
		buf_printf(o, "<tr><td>%s</td><td class=\"n\">%llu (%.1f%%)</td>"
		    "<td class=\"n\">%llu (%.1f%%)</td><td class=\"n\">%+.1f "
		    "points</td></tr>\n", lr_action_name(a),
		    (unsigned long long)p->action[a], lr_pct(p->action[a], p->n),
		    (unsigned long long)s->action[a], lr_pct(s->action[a], s->n),
		    lr_pct(s->action[a], s->n) - lr_pct(p->action[a], p->n));
	}
	buf_adds(o, "</table></div>\n<p class=\"meta\">Sources marked "
	    "<span class=\"new\">new</span> below were not seen in the period "
	    "before.</p>\n");
	rising_symbols(o, s, p, top);
	buf_adds(o, "</section>\n");
}

void
lr_html_review(struct buf *o, const struct lr_summary *s,
    const struct lr_html_opts *opt, size_t top)
{
	buf_adds(o, "<nav class=\"wide\"><a href=\"#fps\">likely false "
	    "positives</a> &middot; <a href=\"#tags\">tagged</a> &middot; "
	    "<a href=\"#rejects\">rejected</a> &middot; ");
	if (opt->prev)
		buf_adds(o, "<a href=\"#changes\">since the period before</a> "
		    "&middot; ");
	buf_adds(o, "<a href=\"#symbols\">symbols</a> &middot; "
	    "<a href=\"#networks\">sources</a></nav>\n");
	fp_list(o, s, opt);
	ring_list(o, L_TAG, s, opt);
	ring_list(o, L_REJECT, s, opt);
	changes(o, s, opt, top);
	sources(o, s, opt, top);
}

/* ------------------------------------------------------------------ */
/* explanations                                                        */
/* ------------------------------------------------------------------ */

static void
article(struct buf *o, enum list_kind k, size_t i, const struct lr_item *j)
{
	static const char *const what[] = { "Likely false positive",
	    "Tagged", "Reject" };

	buf_printf(o, "<article id=\"%s%zu\"><h3>%s %zu: ", lists[k].anchor,
	    i + 1, what[k], i + 1);
	lr_html_cut(o, *j->queue_id ? j->queue_id : "(no queue id)", 64);
	buf_adds(o, "</h3><pre>");
	lr_htmls(o, j->explain);
	buf_printf(o, "</pre><p><a href=\"#%s\">Back to the list</a></p>"
	    "</article>\n", lists[k].section);
}

void
lr_html_review_explain(struct buf *o, const struct lr_summary *s)
{
	const struct lr_item *j;
	struct lr_fp *fps;
	size_t i, n;

	n = lr_fp_rank(s, &fps);
	if (n > s->rejects.cap)
		n = s->rejects.cap;
	if (s->rejects.n + s->tags.n + n == 0) {
		free(fps);
		return;
	}
	buf_adds(o, "<section id=\"explain\" class=\"wide\"><h2>Explanations"
	    "</h2>\n");
	for (i = 0; i < n; i++)
		article(o, L_FP, i, fps[i].item);
	for (i = 0; (j = lr_tag_at(s, i)) != NULL; i++)
		article(o, L_TAG, i, j);
	for (i = 0; (j = lr_reject_at(s, i)) != NULL; i++)
		article(o, L_REJECT, i, j);
	buf_adds(o, "</section>\n");
	free(fps);
}
