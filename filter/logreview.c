/*
 * logreview.c - aggregate verdict log records into a summary
 *
 * DESCRIPTION
 *	lr_summary_add() updates fixed-size counters per record; memory
 *	does not grow with the number of records:
 *	  - actions, auth results, DNS degraded: plain counters;
 *	  - scores: unit bins from LR_SCORE_LO to LR_SCORE_HI, plus one
 *	    bin below and one above;
 *	  - time per message: exact average and maximum; percentiles from
 *	    a histogram of LR_LAT_BINS logarithmic bins of ratio 1.02, so
 *	    a reported p95 is the upper edge of its bin: at most 2% above
 *	    the true value (and never above the maximum seen);
 *	  - symbols, reject sources: Space-Saving tables (topk.h), exact
 *	    while the number of distinct keys fits;
 *	  - per-period counts: LR_SERIES_N buckets whose width (hours,
 *	    a power of two) doubles when the period no longer fits;
 *	  - the latest rejects and tags: rings (loglists.c) with their
 *	    explain text, each capped at LR_EXPLAIN_MAX bytes.
 */
#include "config.h"

#include <json-c/json.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "logread.h"
#include "logreview.h"
#include "logreview_int.h"
#include "str.h"
#include "topk.h"

struct lr_summary *
lr_summary_new(size_t keep_rejects)
{
	struct lr_summary *s = xcalloc(1, sizeof(*s));

	s->symbols = topk_new(LR_TOP_SYMBOLS);
	s->reject_ips = topk_new(LR_TOP_SOURCES);
	s->reject_domains = topk_new(LR_TOP_SOURCES);
	s->nets = topk_new(LR_TOP_SOURCES);
	s->env_domains = topk_new(LR_TOP_SOURCES);
	s->from_domains = topk_new(LR_TOP_SOURCES);
	s->out_domains = topk_new(LR_TOP_SOURCES);
	s->rcpt_domains = topk_new(LR_TOP_SOURCES);
	s->correspondents = topk_new(LR_TOP_CORRESPONDENTS);
	if (keep_rejects > LR_REJECTS_MAX)
		keep_rejects = LR_REJECTS_MAX;
	lr_list_init(&s->rejects, keep_rejects);
	lr_list_init(&s->tags, keep_rejects);
	lr_list_init(&s->fps, keep_rejects * LR_FP_KEEP);
	return s;
}

void
lr_summary_free(struct lr_summary **sp)
{
	struct lr_summary *s = *sp;

	if (s == NULL)
		return;
	*sp = NULL;
	topk_free(&s->symbols);
	topk_free(&s->reject_ips);
	topk_free(&s->reject_domains);
	topk_free(&s->nets);
	topk_free(&s->env_domains);
	topk_free(&s->from_domains);
	topk_free(&s->out_domains);
	topk_free(&s->rcpt_domains);
	topk_free(&s->correspondents);
	lr_list_release(&s->rejects);
	lr_list_release(&s->tags);
	lr_list_release(&s->fps);
	free(s);
}

/* floor_div - division rounding toward minus infinity (d > 0) */
static int64_t
floor_div(int64_t a, int64_t d)
{
	return a >= 0 ? a / d : -((-a + d - 1) / d);
}

/* series_fit - make the series cover hour h; returns its bucket */
static size_t
series_fit(struct lr_series *s, int64_t h)
{
	struct lr_bucket old[LR_SERIES_N];
	int64_t lo, hi, w, base;
	size_t i, j, k;

	if (!s->any) {
		s->any = true;
		s->width = 1;
		s->base = h;
	}
	lo = s->base;
	hi = s->base + LR_SERIES_N * s->width;
	if (h >= lo && h < hi)
		return (size_t)((h - lo) / s->width);
	if (h < lo)
		lo = h;
	else
		hi = h + 1;
	for (w = s->width; floor_div(hi - 1, w) - floor_div(lo, w) >=
	    LR_SERIES_N; w *= 2)
		;
	base = floor_div(lo, w) * w;
	memcpy(old, s->b, sizeof(old));
	memset(s->b, 0, sizeof(s->b));
	for (i = 0; i < LR_SERIES_N; i++) {
		struct lr_bucket *o = &old[i], *d;

		if (o->n == 0)
			continue;
		d = &s->b[(s->base + (int64_t)i * s->width - base) / w];
		d->n += o->n;
		for (k = 0; k < LR_NACTIONS; k++)
			d->action[k] += o->action[k];
		for (j = 0; j < LR_NCHECKS; j++) {
			d->pass[j] += o->pass[j];
			d->seen[j] += o->seen[j];
		}
	}
	s->base = base;
	s->width = w;
	return (size_t)((h - base) / w);
}

static void
series_add(struct lr_series *s, const struct logrec *r)
{
	struct lr_bucket *b;
	size_t j;

	b = &s->b[series_fit(s, (int64_t)floor(r->time / 3600.0))];
	b->n++;
	b->action[r->action]++;
	for (j = 0; j < LR_NCHECKS; j++) {
		if (r->auth[j] == LR_AUTH_ABSENT)
			continue;
		b->seen[j]++;
		if (r->auth[j] == LR_AUTH_PASS)
			b->pass[j]++;
	}
}

double
lr_series_start(const struct lr_series *s, size_t i)
{
	return (double)(s->base + (int64_t)i * s->width) * 3600.0;
}

size_t
lr_series_used(const struct lr_series *s)
{
	size_t n = LR_SERIES_N;

	while (n > 0 && s->b[n - 1].n == 0)
		n--;
	return n;
}

static size_t
lat_bin(double ms)
{
	double i;

	if (ms < LR_LAT_MIN_MS)
		return 0;
	i = 1 + floor(log(ms / LR_LAT_MIN_MS) / log(LR_LAT_RATIO));
	return i >= LR_LAT_BINS - 1 ? LR_LAT_BINS - 1 : (size_t)i;
}

double
lr_latency_pct(const struct lr_summary *s, double p)
{
	uint64_t rank, cum = 0;
	size_t i;
	double up;

	if (s->lat_n == 0)
		return 0;
	rank = (uint64_t)ceil(p / 100.0 * (double)s->lat_n);
	if (rank < 1)
		rank = 1;
	for (i = 0; i < LR_LAT_BINS; i++) {
		cum += s->lat_bins[i];
		if (cum >= rank)
			break;
	}
	up = i == 0 ? LR_LAT_MIN_MS : LR_LAT_MIN_MS * pow(LR_LAT_RATIO,
	    (double)i);
	return up < s->lat_max ? up : s->lat_max;
}

static size_t
score_bin(double score)
{
	if (score < LR_SCORE_LO)
		return 0;
	if (score >= LR_SCORE_HI)
		return LR_SCORE_BINS - 1;
	return 1 + (size_t)floor(score - LR_SCORE_LO);
}

/* sym_cmp - symbols by score, highest first */
static int
sym_cmp(const void *a, const void *b)
{
	double x, y;

	if (!lr_jnum(*(struct json_object *const *)a, "score", &x))
		x = 0;
	if (!lr_jnum(*(struct json_object *const *)b, "score", &y))
		y = 0;
	return x > y ? -1 : x < y;
}

char *
lr_symbols_line(const struct logrec *r, size_t max)
{
	struct json_object *v[64];
	struct buf b = BUF_INIT;
	size_t i, n;
	double sc;

	n = r->symbols ? json_object_array_length(r->symbols) : 0;
	if (n > 64)
		n = 64;
	for (i = 0; i < n; i++)
		v[i] = json_object_array_get_idx(r->symbols, i);
	qsort(v, n, sizeof(v[0]), sym_cmp);
	for (i = 0; i < n && i < max; i++) {
		const char *name = lr_jstr(v[i], "name");

		if (b.len)
			buf_addc(&b, ' ');
		buf_adds(&b, name ? name : "?");
		if (lr_jnum(v[i], "score", &sc))
			buf_printf(&b, "(%+g)", sc);
	}
	if (n > max)
		buf_printf(&b, " +%zu more", n - max);
	return buf_steal(&b);
}

const struct lr_reject *
lr_reject_at(const struct lr_summary *s, size_t i)
{
	return lr_list_at(&s->rejects, i);
}

static void
count_symbols(struct lr_summary *s, const struct logrec *r)
{
	struct topk_entry *e;
	size_t i, n;
	double sc;

	n = r->symbols ? json_object_array_length(r->symbols) : 0;
	for (i = 0; i < n; i++) {
		struct json_object *sym = json_object_array_get_idx(r->symbols,
		    i);
		const char *name = lr_jstr(sym, "name");

		if (name == NULL)
			continue;
		e = topk_add(s->symbols, name);
		if (r->action == LR_TAG)
			e->aux[0]++;
		else if (r->action == LR_REJECT)
			e->aux[1]++;
		if (!lr_jnum(sym, "score", &sc))
			sc = 0;
		else {
			/* the first value since the key took its counter */
			if (e->count - e->err == 1 || sc < e->lo)
				e->lo = sc;
			if (e->count - e->err == 1 || sc > e->hi)
				e->hi = sc;
			e->sum += sc;
			e->last = sc;
		}
		if (lr_decisive(r, name, sc))
			e->aux[2]++;
	}
}

/* count_source - one message from a source: action and DMARC result */
static void
count_source(struct topk *t, const char *key, const struct logrec *r)
{
	struct topk_entry *e = topk_add(t, key);

	if (r->action == LR_REJECT)
		e->aux[LR_SRC_REJECT]++;
	else if (r->action == LR_TAG)
		e->aux[LR_SRC_TAG]++;
	else if (r->action == LR_ACCEPT)
		e->aux[LR_SRC_ACCEPT]++;
	if (r->auth[LR_DMARC] == LR_AUTH_PASS)
		e->aux[LR_SRC_DMARC_PASS]++;
	else if (r->auth[LR_DMARC] == LR_AUTH_FAIL)
		e->aux[LR_SRC_DMARC_FAIL]++;
	else
		e->aux[LR_SRC_DMARC_NONE]++;
}

/*
 * count_sources - networks, envelope and From domains (inbound and
 * outbound apart), recipient domains; the recipients of authenticated
 * (outbound) mail become known correspondents
 */
static void
count_sources(struct lr_summary *s, const struct logrec *r)
{
	char key[520];
	size_t i, n;

	if (lr_net(r->client_ip, key, sizeof(key)))
		count_source(s->nets, key, r);
	if (r->mail_from && *r->mail_from == '\0')
		count_source(s->env_domains, "(null sender <>)", r);
	else if (lr_domain(r->mail_from, key, sizeof(key)))
		count_source(s->env_domains, key, r);
	/*
	 * the site's own outbound mail says nothing of how wanted mail
	 * claiming its From domain is, nor what DMARC reports will say
	 */
	if (lr_domain(r->from, key, sizeof(key)))
		count_source(lr_outbound(r) ? s->out_domains :
		    s->from_domains, key, r);
	n = r->rcpts ? json_object_array_length(r->rcpts) : 0;
	for (i = 0; i < n; i++) {
		struct json_object *v = json_object_array_get_idx(r->rcpts, i);
		const char *a;

		if (!json_object_is_type(v, json_type_string))
			continue;
		a = json_object_get_string(v);
		if (r->auth_user && *r->auth_user &&
		    lr_bare_addr(a, key, sizeof(key)))
			topk_add(s->correspondents, key);
		else if (!(r->auth_user && *r->auth_user) &&
		    lr_domain(a, key, sizeof(key)))
			topk_add(s->rcpt_domains, key);
	}
}

static void
count_reject(struct lr_summary *s, const struct logrec *r)
{
	char dom[256];

	topk_add(s->reject_ips, r->client_ip ? r->client_ip : "(unknown)");
	if (r->mail_from && *r->mail_from == '\0')
		topk_add(s->reject_domains, "(null sender <>)");
	else if (lr_domain(r->mail_from, dom, sizeof(dom)))
		topk_add(s->reject_domains, dom);
	else
		topk_add(s->reject_domains, "(unknown)");
	lr_list_push(&s->rejects, r, s->seq);
}

void
lr_summary_add(struct lr_summary *s, const struct logrec *r)
{
	size_t j;

	s->n++;
	s->action[r->action]++;
	for (j = 0; j < LR_NCHECKS; j++)
		s->auth[j][r->auth[j]]++;
	if (r->has_score) {
		s->scored++;
		s->score_bins[score_bin(r->score)]++;
	} else
		s->unscored++;
	if (r->has_thresholds) {
		s->tag = r->tag;
		s->reject = r->reject;
		s->has_thresholds = true;
	}
	if (r->dns_degraded)
		s->dns_degraded++;
	if (r->dmarc_override && str_ieq(r->dmarc_override,
	    "trusted_forwarder"))
		s->forwarded++;
	if (r->has_elapsed) {
		s->lat_n++;
		s->lat_sum += r->elapsed_ms;
		s->lat_bins[lat_bin(r->elapsed_ms)]++;
		if (r->elapsed_ms > s->lat_max)
			s->lat_max = r->elapsed_ms;
	}
	if (r->has_dns_ms) {
		s->dns_n++;
		s->dns_sum += r->dns_ms;
	}
	if (r->has_time) {
		if (!s->has_period || r->time < s->first)
			s->first = r->time;
		if (!s->has_period || r->time > s->last)
			s->last = r->time;
		s->has_period = true;
		series_add(&s->series, r);
	}
	s->seq++;
	count_symbols(s, r);
	count_sources(s, r);
	if (r->action == LR_REJECT)
		count_reject(s, r);
	else if (r->action == LR_TAG)
		lr_list_push(&s->tags, r, s->seq);
	lr_fp_offer(s, r);
}

/* ------------------------------------------------------------------ */
/* Text output                                                         */
/* ------------------------------------------------------------------ */

static double
pct(uint64_t a, uint64_t b)
{
	return b ? 100.0 * (double)a / (double)b : 0.0;
}

static void
text_actions(const struct lr_summary *s, struct buf *o)
{
	size_t a;

	buf_adds(o, "\nActions\n");
	for (a = 0; a < LR_NACTIONS; a++) {
		if (a == LR_OTHER && s->action[a] == 0)
			continue;
		buf_printf(o, "  %-10s %10llu  %5.1f%%\n",
		    a == LR_OTHER ? "(other)" : lr_action_name(a),
		    (unsigned long long)s->action[a], pct(s->action[a], s->n));
	}
}

/* score_row - one line of the text histogram */
static void
score_row(struct buf *o, const char *label, uint64_t c, uint64_t max)
{
	size_t bar = max ? (size_t)(40.0 * (double)c / (double)max + 0.5) : 0;

	buf_printf(o, "  %-12s %10llu  ", label, (unsigned long long)c);
	while (bar-- > 0)
		buf_addc(o, '#');
	buf_addc(o, '\n');
}

/* score_group - count of bins for scores [g, g + w) */
static uint64_t
score_group(const struct lr_summary *s, int g, int w)
{
	uint64_t c = 0;
	int sc;

	for (sc = g; sc < g + w; sc++)
		if (sc >= LR_SCORE_LO && sc < LR_SCORE_HI)
			c += s->score_bins[sc - LR_SCORE_LO + 1];
	return c;
}

static void
text_scores(const struct lr_summary *s, struct buf *o)
{
	int lo = LR_SCORE_HI, hi = LR_SCORE_LO - 1, w = 1, g, sc;
	uint64_t max = 0;
	char label[32];

	buf_adds(o, "\nScores");
	if (s->has_thresholds)
		buf_printf(o, " (tag at %.2f, reject at %.2f)", s->tag,
		    s->reject);
	buf_addc(o, '\n');
	if (s->scored == 0) {
		buf_adds(o, "  no scored messages\n");
		return;
	}
	for (sc = LR_SCORE_LO; sc < LR_SCORE_HI; sc++)
		if (s->score_bins[sc - LR_SCORE_LO + 1]) {
			lo = sc < lo ? sc : lo;
			hi = sc;
		}
	while ((hi - lo) / w >= 20)
		w = w == 1 ? 2 : w == 2 ? 5 : w * 2;
	lo = (int)floor((double)lo / w) * w;
	for (g = lo; g <= hi; g += w)
		max = score_group(s, g, w) > max ? score_group(s, g, w) : max;
	max = s->score_bins[0] > max ? s->score_bins[0] : max;
	max = s->score_bins[LR_SCORE_BINS - 1] > max ?
	    s->score_bins[LR_SCORE_BINS - 1] : max;
	if (s->score_bins[0]) {
		snprintf(label, sizeof(label), "< %d", LR_SCORE_LO);
		score_row(o, label, s->score_bins[0], max);
	}
	for (g = lo; g <= hi; g += w) {
		snprintf(label, sizeof(label), "[%d, %d)", g, g + w);
		score_row(o, label, score_group(s, g, w), max);
	}
	if (s->score_bins[LR_SCORE_BINS - 1]) {
		snprintf(label, sizeof(label), ">= %d", LR_SCORE_HI);
		score_row(o, label, s->score_bins[LR_SCORE_BINS - 1], max);
	}
	if (s->unscored)
		buf_printf(o, "  %llu message(s) without a score\n",
		    (unsigned long long)s->unscored);
}

bool
lr_auth_shown(const struct lr_summary *s, enum lr_auth a)
{
	size_t j;

	/* the four results everyone asks about are always shown */
	if (a == LR_AUTH_PASS || a == LR_AUTH_FAIL || a == LR_AUTH_NONE ||
	    a == LR_AUTH_TEMPERROR)
		return true;
	for (j = 0; j < LR_NCHECKS; j++)
		if (s->auth[j][a])
			return true;
	return false;
}

static void
text_auth(const struct lr_summary *s, struct buf *o)
{
	size_t a, j;

	buf_adds(o, "\nAuthentication results (share of messages)\n");
	buf_printf(o, "  %-10s", "result");
	for (j = 0; j < LR_NCHECKS; j++)
		buf_printf(o, " %19s", lr_check_name(j));
	buf_addc(o, '\n');
	for (a = 0; a < LR_NAUTH; a++) {
		if (!lr_auth_shown(s, a))
			continue;
		buf_printf(o, "  %-10s", lr_auth_name(a));
		for (j = 0; j < LR_NCHECKS; j++)
			buf_printf(o, " %11llu %6.1f%%",
			    (unsigned long long)s->auth[j][a],
			    pct(s->auth[j][a], s->n));
		buf_addc(o, '\n');
	}
	buf_adds(o, "  (DKIM per message: pass if any signature passed)\n");
	if (s->forwarded)
		buf_printf(o, "  %llu DMARC failure(s) let through from a trusted "
		    "forwarder (log search --override trusted_forwarder)\n",
		    (unsigned long long)s->forwarded);
}

/* approx_note - say when a top table is an estimate */
static void
approx_note(const struct topk *t, struct topk_entry **v, size_t n,
    struct buf *o)
{
	uint64_t maxerr = 0;
	size_t i;

	if (topk_exact(t))
		return;
	for (i = 0; i < n; i++)
		maxerr = v[i]->err > maxerr ? v[i]->err : maxerr;
	buf_printf(o, "  (more distinct values than %zu counters: counts "
	    "above may be high by up to %llu)\n", topk_distinct(t),
	    (unsigned long long)maxerr);
}

bool
lr_zero_score(const struct topk_entry *e)
{
	return e->lo == 0 && e->hi == 0;
}

void
lr_score_range(struct buf *b, const struct topk_entry *e)
{
	if (e->lo == e->hi)
		buf_printf(b, "%.2f", e->hi);
	else
		buf_printf(b, "%.2f..%.2f", e->lo, e->hi);
}

static void
text_symbol_rows(const struct lr_summary *s, struct topk_entry **v, size_t n,
    size_t top, bool zero, struct buf *o)
{
	size_t i, shown = 0;

	for (i = 0; i < n && shown < top; i++) {
		struct buf name = BUF_INIT, sc = BUF_INIT;

		if (lr_zero_score(v[i]) != zero)
			continue;
		shown++;
		lr_safes(&name, v[i]->key, 60);
		if (zero)
			buf_printf(o, "  %-32s %10llu %7.1f%%\n", buf_cstr(&name),
			    (unsigned long long)v[i]->count,
			    pct(v[i]->count, s->n));
		else {
			lr_score_range(&sc, v[i]);
			buf_printf(o, "  %-32s %12s %10llu %7.1f%% %7.1f%% "
			    "%8llu\n", buf_cstr(&name), buf_cstr(&sc),
			    (unsigned long long)v[i]->count,
			    pct(v[i]->aux[0], s->action[LR_TAG]),
			    pct(v[i]->aux[1], s->action[LR_REJECT]),
			    (unsigned long long)v[i]->aux[2]);
		}
		buf_release(&name);
		buf_release(&sc);
	}
}

/*
 * text_symbols - symbols with a score: hits, share of all tagged and
 * rejected mail they appear in, how often they alone decided; then the
 * zero-score ones apart
 */
static void
text_symbols(const struct lr_summary *s, size_t top, struct buf *o)
{
	struct topk_entry **v;
	size_t n, i, nz = 0;

	v = topk_sorted(s->symbols, &n);
	for (i = 0; i < n; i++)
		nz += !lr_zero_score(v[i]);
	buf_printf(o, "\nTop symbols with a score (%zu of %zu)\n",
	    nz < top ? nz : top, nz);
	if (nz)
		buf_printf(o, "  %-32s %12s %10s %8s %8s %8s\n", "symbol",
		    "score", "hits", "%tagged", "%reject", "decided");
	text_symbol_rows(s, v, n, top, false, o);
	if (n > nz) {
		buf_printf(o, "\nInformational symbols, score 0 (%zu of %zu)"
		    "\n  %-32s %10s %8s\n", n - nz < top ? n - nz : top, n - nz,
		    "symbol", "hits", "of msgs");
		text_symbol_rows(s, v, n, top, true, o);
	}
	approx_note(s->symbols, v, n < top ? n : top, o);
	free(v);
}

static void
text_top(const char *title, const struct topk *t, uint64_t of, size_t top,
    struct buf *o)
{
	struct topk_entry **v;
	size_t n, i;

	v = topk_sorted(t, &n);
	buf_printf(o, "\n%s\n", title);
	if (n == 0)
		buf_adds(o, "  none\n");
	for (i = 0; i < n && i < top; i++) {
		struct buf k = BUF_INIT;

		lr_safes(&k, v[i]->key, 80);
		buf_printf(o, "  %-40s %10llu %6.1f%%\n", buf_cstr(&k),
		    (unsigned long long)v[i]->count, pct(v[i]->count, of));
		buf_release(&k);
	}
	approx_note(t, v, n < top ? n : top, o);
	free(v);
}

void
lr_input_report(const struct logread_stats *st, struct buf *o)
{
	size_t i;

	if (st->malformed == 0 && st->nerrors == 0)
		return;
	buf_adds(o, "\nInput problems\n");
	for (i = 0; i < st->nerrors; i++) {
		buf_adds(o, "  ");
		lr_safes(o, st->errors[i], 300);
		buf_addc(o, '\n');
	}
	if (st->errors_dropped)
		buf_printf(o, "  ... and %llu more input errors\n",
		    (unsigned long long)st->errors_dropped);
	if (st->malformed)
		buf_printf(o, "  %llu malformed line(s)%s\n",
		    (unsigned long long)st->malformed,
		    st->nbad < st->malformed ? ", the first ones:" : ":");
	for (i = 0; i < st->nbad; i++) {
		buf_adds(o, "  ");
		lr_safes(o, st->bad[i].file, 200);
		buf_printf(o, ":%llu: %s\n",
		    (unsigned long long)st->bad[i].lineno, st->bad[i].reason);
	}
}

void
lr_summary_text(const struct lr_summary *s, const struct logread_stats *st,
    uint64_t left_out, size_t top, struct buf *o)
{
	buf_adds(o, "mailwarden verdict log summary\n");
	if (s->has_period) {
		buf_adds(o, "Period   ");
		fmt_rfc3339(o, (int64_t)floor(s->first), (long)((s->first -
		    floor(s->first)) * 1e6));
		buf_adds(o, " to ");
		fmt_rfc3339(o, (int64_t)floor(s->last), (long)((s->last -
		    floor(s->last)) * 1e6));
		buf_addc(o, '\n');
	}
	buf_printf(o, "Messages %llu (%zu input(s), %llu lines, %llu "
	    "malformed, %llu left out by time range or filters)\n",
	    (unsigned long long)s->n, st->files,
	    (unsigned long long)st->lines, (unsigned long long)st->malformed,
	    (unsigned long long)left_out);
	text_actions(s, o);
	text_scores(s, o);
	text_auth(s, o);
	text_symbols(s, top, o);
	text_top("Top client IPs among rejects", s->reject_ips,
	    s->action[LR_REJECT], top, o);
	text_top("Top sender domains among rejects (MAIL FROM)",
	    s->reject_domains, s->action[LR_REJECT], top, o);
	buf_printf(o, "\nDNS degraded   %llu message(s) (%.1f%%)\n",
	    (unsigned long long)s->dns_degraded, pct(s->dns_degraded, s->n));
	if (s->lat_n)
		buf_printf(o, "Time/message   average %.3f ms, p95 %.3f ms, "
		    "max %.3f ms (%llu timed; p95 from a log histogram, "
		    "within 2%%)\n", s->lat_sum / (double)s->lat_n,
		    lr_latency_pct(s, 95), s->lat_max,
		    (unsigned long long)s->lat_n);
	else
		buf_adds(o, "Time/message   no timings in the log\n");
	if (s->dns_n)
		buf_printf(o, "DNS/message    average %.3f ms\n",
		    s->dns_sum / (double)s->dns_n);
	lr_input_report(st, o);
}
