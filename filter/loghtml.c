/*
 * loghtml.c - the verdict log summary as one self-contained HTML page
 *
 * DESCRIPTION
 *	lr_html_report() renders a struct lr_summary into HTML with inline
 *	CSS and inline SVG charts drawn here: messages per period by
 *	action (stacked bars), the score distribution with the tag and
 *	reject thresholds marked, SPF/DKIM/DMARC pass rates over time
 *	(lines), top symbols and top rejected sources (horizontal bars),
 *	and a table of the latest rejects whose queue ids link to their
 *	explanation further down the page (#explain-N anchors).  The page
 *	needs no script and fetches nothing.
 * SECURITY
 *	Everything that comes from the log (names, addresses, subjects,
 *	explain text) passes through lr_html(); element ids are generated
 *	here, never taken from the log.  A Content-Security-Policy meta
 *	element forbids scripts and every fetch, as a second line should
 *	escaping ever be missed.
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "logread.h"
#include "logreview.h"
#include "logreview_int.h"
#include "str.h"
#include "topk.h"

#define SVG_W		960.0
#define SVG_H		280.0
#define PAD_L		56.0
#define PAD_R		16.0
#define PAD_T		16.0
#define PAD_B		40.0

static const char *const action_color[LR_NACTIONS] = {
	"#4caf50", "#f2b705", "#d93025", "#7e57c2", "#9e9e9e"
};
static const char *const check_color[LR_NCHECKS] = {
	"#1e88e5", "#43a047", "#e53935", "#8e24aa"
};

static const char css[] =
	"body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,"
	"sans-serif;margin:0;background:#f6f7f9;color:#1f2328}"
	"header,section,footer,nav{max-width:1000px;margin:0 auto;"
	"padding:8px 20px}.wide{max-width:1400px}"
	"header{padding-top:20px}h1{font-size:24px;margin:0 0 4px}"
	"h2{font-size:18px;margin:22px 0 8px}"
	".meta{color:#57606a;margin:0}"
	".cards{display:flex;flex-wrap:wrap;gap:10px}"
	".card{background:#fff;border:1px solid #d0d7de;border-radius:6px;"
	"padding:10px 14px;min-width:120px}"
	".card b{display:block;font-size:22px}"
	".card span{color:#57606a;font-size:12px}"
	"svg.chart{width:100%;height:auto;background:#fff;border:1px solid "
	"#d0d7de;border-radius:6px}"
	"svg text{font:11px system-ui,sans-serif;fill:#1f2328}"
	"svg .grid{stroke:#e5e7eb;stroke-width:1}"
	"svg .axis{stroke:#8c959f;stroke-width:1}"
	"table{border-collapse:collapse;width:100%;background:#fff;"
	"font-size:13px}"
	"th,td{border:1px solid #d0d7de;padding:4px 6px;text-align:left;"
	"vertical-align:top;overflow-wrap:break-word}"
	"th{background:#eef1f4;white-space:nowrap}"
	"td.n{text-align:right}"
	"td.n,td.t,td.id,td.act{white-space:nowrap;overflow-wrap:normal}"
	"td.subj,td.sym,td.ev,td.addr{overflow-wrap:anywhere}"
	"td.subj{min-width:12em}td.sym,td.ev,td.addr{min-width:8em}"
	".meta,h3{overflow-wrap:anywhere}"
	"td small{color:#57606a}nav{color:#57606a}"
	".scroll{overflow-x:auto;max-width:100%}"
	"table.small{width:auto}"
	"td.act-reject{color:#b3261e}td.act-tag{color:#8a6100}"
	".new{background:#fff3c4;border-radius:3px;padding:0 4px;"
	"font-size:11px}"
	"details.more summary{cursor:pointer;margin:6px 0;color:#0b57d0}"
	"code{font-size:12px;background:#eef1f4;padding:0 3px}"
	".legend span{display:inline-block;margin-right:14px}"
	".legend i{display:inline-block;width:11px;height:11px;"
	"margin-right:4px;vertical-align:-1px}"
	"article{background:#fff;border:1px solid #d0d7de;border-radius:6px;"
	"padding:6px 12px;margin:10px 0}"
	"article:target{border-color:#d93025;box-shadow:0 0 0 2px #f8c7c3}"
	"pre{white-space:pre-wrap;word-break:break-all;font-size:12px;margin:0}"
	".empty{color:#57606a;font-style:italic}";

/* lr_html_cut - lr_html() of at most max bytes of s, cut on a character */
void
lr_html_cut(struct buf *o, const char *s, size_t max)
{
	size_t n;

	if (s == NULL)
		return;
	n = strlen(s);
	if (n <= max) {
		lr_html(o, s, n);
		return;
	}
	while (max > 0 && ((unsigned char)s[max] & 0xC0) == 0x80)
		max--;
	lr_html(o, s, max);
	buf_adds(o, "\xe2\x80\xa6");
}

/* lr_html_time - t as strftime(fmt) in UTC; "?" when out of range */
void
lr_html_time(struct buf *o, double t, const char *fmt)
{
	struct tm tm;
	time_t tt;
	char s[64];

	if (!isfinite(t) || fabs(t) > 253402300799.0) {
		buf_addc(o, '?');
		return;
	}
	tt = (time_t)floor(t);
	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(s, sizeof(s), fmt, &tm) == 0) {
		buf_addc(o, '?');
		return;
	}
	buf_adds(o, s);
}

double
lr_pct(uint64_t a, uint64_t b)
{
	return b ? 100.0 * (double)a / (double)b : 0.0;
}

/* nice_step - a 1/2/5 x 10^k step giving about n ticks up to max */
static double
nice_step(double max, int n)
{
	double raw = max / n, mag, f;

	if (!(raw > 0))
		return 1;
	mag = pow(10, floor(log10(raw)));
	f = raw / mag;
	return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * mag;
}

static void
svg_open(struct buf *o, const char *id, const char *label, double h)
{
	buf_printf(o, "<svg class=\"chart\" id=\"%s\" role=\"img\" "
	    "xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %.0f %.0f\" "
	    "width=\"%.0f\" height=\"%.0f\"><title>", id, SVG_W, h, SVG_W, h);
	lr_htmls(o, label);
	buf_adds(o, "</title>");
}

/* y_grid - horizontal grid lines and labels from 0 to top */
static void
y_grid(struct buf *o, double top, double h, const char *unit)
{
	double step = nice_step(top, 5), v, y;
	double ph = h - PAD_T - PAD_B;

	for (v = 0; v <= top + step / 1e6; v += step) {
		y = PAD_T + ph - ph * v / top;
		buf_printf(o, "<line class=\"grid\" x1=\"%.1f\" y1=\"%.1f\" "
		    "x2=\"%.1f\" y2=\"%.1f\"/>", PAD_L, y, SVG_W - PAD_R, y);
		buf_printf(o, "<text x=\"%.1f\" y=\"%.1f\" "
		    "text-anchor=\"end\">%g%s</text>", PAD_L - 6, y + 4, v,
		    unit);
	}
	buf_printf(o, "<line class=\"axis\" x1=\"%.1f\" y1=\"%.1f\" "
	    "x2=\"%.1f\" y2=\"%.1f\"/>", PAD_L, PAD_T + ph, SVG_W - PAD_R,
	    PAD_T + ph);
}

/* y_top - the axis maximum: max rounded up to a tick */
static double
y_top(double max)
{
	double step;

	if (max <= 0)
		return 1;
	step = nice_step(max, 5);
	return ceil(max / step) * step;
}

static void
legend(struct buf *o, const char *const *names, const char *const *colors,
    size_t n)
{
	size_t i;

	buf_adds(o, "<p class=\"legend\">");
	for (i = 0; i < n; i++)
		buf_printf(o, "<span><i style=\"background:%s\"></i>%s</span>",
		    colors[i], names[i]);
	buf_adds(o, "</p>\n");
}

/* time_label_fmt - strftime format for bucket labels of a width */
static const char *
time_label_fmt(const struct lr_series *s)
{
	return s->width < 24 ? "%m-%d %H:00" : "%Y-%m-%d";
}

/* x_labels - time labels under about 10 of the n buckets */
static void
x_labels(struct buf *o, const struct lr_series *s, size_t n, double bw)
{
	size_t i, every = n > 10 ? (n + 9) / 10 : 1;
	double x;

	for (i = 0; i < n; i += every) {
		x = PAD_L + bw * (double)i;
		if (i > 0 && x > SVG_W - PAD_R - 70)
			break;		/* no room for the label */
		buf_printf(o, "<line class=\"axis\" x1=\"%.1f\" y1=\"%.1f\" "
		    "x2=\"%.1f\" y2=\"%.1f\"/>", x, SVG_H - PAD_B, x,
		    SVG_H - PAD_B + 4);
		buf_printf(o, "<text x=\"%.1f\" y=\"%.1f\">", x + 2,
		    SVG_H - PAD_B + 16);
		lr_html_time(o, lr_series_start(s, i), time_label_fmt(s));
		buf_adds(o, "</text>");
	}
	buf_printf(o, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">"
	    "UTC</text>", SVG_W - PAD_R, SVG_H - 6);
}

static void
chart_hourly(struct buf *o, const struct lr_summary *s)
{
	const struct lr_series *se = &s->series;
	size_t n = lr_series_used(se), i, a;
	uint64_t max = 0;
	double top, bw, ph = SVG_H - PAD_T - PAD_B, x, y, h;
	const char *names[LR_NACTIONS];

	buf_printf(o, "<section id=\"hourly\"><h2>Messages per %s by action"
	    "</h2>\n", se->width == 1 ? "hour" : "period");
	if (se->width > 1)
		buf_printf(o, "<p class=\"meta\">Each bar covers %lld hours "
		    "(the period is too long for one bar per hour).</p>",
		    (long long)se->width);
	if (n == 0) {
		buf_adds(o, "<p class=\"empty\">No records with a time.</p>"
		    "</section>\n");
		return;
	}
	for (i = 0; i < n; i++)
		max = se->b[i].n > max ? se->b[i].n : max;
	top = y_top((double)max);
	bw = (SVG_W - PAD_L - PAD_R) / (double)n;
	svg_open(o, "chart-hourly", "Messages per hour by action", SVG_H);
	y_grid(o, top, SVG_H, "");
	for (i = 0; i < n; i++) {
		y = PAD_T + ph;
		x = PAD_L + bw * (double)i;
		buf_adds(o, "<g><title>");
		lr_html_time(o, lr_series_start(se, i), "%Y-%m-%d %H:00");
		buf_printf(o, ": %llu messages", (unsigned long long)se->b[i].n);
		for (a = 0; a < LR_NACTIONS; a++)
			if (se->b[i].action[a])
				buf_printf(o, ", %llu %s",
				    (unsigned long long)se->b[i].action[a],
				    lr_action_name(a));
		buf_adds(o, "</title>");
		for (a = 0; a < LR_NACTIONS; a++) {
			if (se->b[i].action[a] == 0)
				continue;
			h = ph * (double)se->b[i].action[a] / top;
			y -= h;
			buf_printf(o, "<rect class=\"bar-%s\" x=\"%.2f\" "
			    "y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" "
			    "fill=\"%s\"/>", lr_action_name(a), x + bw * 0.1,
			    y, bw * 0.8, h, action_color[a]);
		}
		buf_adds(o, "</g>");
	}
	x_labels(o, se, n, bw);
	buf_adds(o, "</svg>\n");
	for (a = 0; a < LR_NACTIONS; a++)
		names[a] = lr_action_name(a);
	legend(o, names, action_color, LR_NACTIONS);
	buf_adds(o, "</section>\n");
}

/* score_range - the unit bins to draw: data and thresholds */
static void
score_range(const struct lr_summary *s, int *lo, int *hi)
{
	int sc;

	*lo = LR_SCORE_HI;
	*hi = LR_SCORE_LO - 1;
	for (sc = LR_SCORE_LO; sc < LR_SCORE_HI; sc++)
		if (s->score_bins[sc - LR_SCORE_LO + 1]) {
			*lo = sc < *lo ? sc : *lo;
			*hi = sc;
		}
	if (s->has_thresholds) {
		int t = (int)floor(s->tag), r = (int)floor(s->reject);

		if (t >= LR_SCORE_LO && t < LR_SCORE_HI) {
			*lo = t < *lo ? t : *lo;
			*hi = t > *hi ? t : *hi;
		}
		if (r >= LR_SCORE_LO && r < LR_SCORE_HI) {
			*lo = r < *lo ? r : *lo;
			*hi = r > *hi ? r : *hi;
		}
	}
	if (*hi < *lo) {
		*lo = 0;
		*hi = 10;
	}
	*lo = *lo > LR_SCORE_LO ? *lo - 1 : *lo;
	*hi = *hi < LR_SCORE_HI - 1 ? *hi + 1 : *hi;
}

/* threshold_line - a dashed vertical line at score v, labelled */
static void
threshold_line(struct buf *o, const char *cls, const char *label, double v,
    int lo, double first_x, double bw)
{
	double x = first_x + bw * (v - lo), ph = SVG_H - PAD_T - PAD_B;

	buf_printf(o, "<line class=\"%s\" x1=\"%.2f\" y1=\"%.1f\" x2=\"%.2f\" "
	    "y2=\"%.1f\" stroke=\"#1f2328\" stroke-width=\"2\" "
	    "stroke-dasharray=\"6 4\"/>", cls, x, PAD_T, x, PAD_T + ph);
	buf_printf(o, "<text x=\"%.2f\" y=\"%.1f\">%s %.2f</text>", x + 4,
	    PAD_T + 12, label, v);
}

static void
score_bar(struct buf *o, const struct lr_summary *s, uint64_t c, double x,
    double bw, double top, double center, const char *label)
{
	double ph = SVG_H - PAD_T - PAD_B, h = ph * (double)c / top;
	const char *color = "#4caf50";

	if (s->has_thresholds && center >= s->reject)
		color = action_color[LR_REJECT];
	else if (s->has_thresholds && center >= s->tag)
		color = action_color[LR_TAG];
	buf_printf(o, "<rect class=\"score-bar\" x=\"%.2f\" y=\"%.2f\" "
	    "width=\"%.2f\" height=\"%.2f\" fill=\"%s\"><title>%s: %llu"
	    "</title></rect>", x + bw * 0.05, PAD_T + ph - h, bw * 0.9, h,
	    color, label, (unsigned long long)c);
}

static void
chart_scores(struct buf *o, const struct lr_summary *s)
{
	int lo, hi, sc, nb;
	uint64_t max = 0, c;
	double top, bw, x0;
	size_t extra;
	char label[48];

	buf_adds(o, "<section id=\"scores\"><h2>Score distribution</h2>\n");
	if (s->scored == 0) {
		buf_adds(o, "<p class=\"empty\">No scored messages.</p>"
		    "</section>\n");
		return;
	}
	score_range(s, &lo, &hi);
	for (sc = lo; sc <= hi; sc++)
		max = s->score_bins[sc - LR_SCORE_LO + 1] > max ?
		    s->score_bins[sc - LR_SCORE_LO + 1] : max;
	max = s->score_bins[0] > max ? s->score_bins[0] : max;
	max = s->score_bins[LR_SCORE_BINS - 1] > max ?
	    s->score_bins[LR_SCORE_BINS - 1] : max;
	extra = (s->score_bins[0] != 0) + (s->score_bins[LR_SCORE_BINS - 1] !=
	    0);
	nb = hi - lo + 1;
	top = y_top((double)max);
	bw = (SVG_W - PAD_L - PAD_R) / (double)(nb + (int)extra);
	x0 = PAD_L + (s->score_bins[0] ? bw : 0);
	svg_open(o, "chart-scores", "Score distribution with thresholds",
	    SVG_H);
	y_grid(o, top, SVG_H, "");
	if (s->score_bins[0]) {
		snprintf(label, sizeof(label), "below %d", LR_SCORE_LO);
		score_bar(o, s, s->score_bins[0], PAD_L, bw, top, -1e9, label);
	}
	for (sc = lo; sc <= hi; sc++) {
		c = s->score_bins[sc - LR_SCORE_LO + 1];
		snprintf(label, sizeof(label), "%d to %d", sc, sc + 1);
		score_bar(o, s, c, x0 + bw * (sc - lo), bw, top, sc + 0.5,
		    label);
		if (sc % (nb > 30 ? 5 : nb > 15 ? 2 : 1) == 0)
			buf_printf(o, "<text x=\"%.2f\" y=\"%.1f\">%d</text>",
			    x0 + bw * (sc - lo), SVG_H - PAD_B + 16, sc);
	}
	if (s->score_bins[LR_SCORE_BINS - 1]) {
		snprintf(label, sizeof(label), "%d and above", LR_SCORE_HI);
		score_bar(o, s, s->score_bins[LR_SCORE_BINS - 1],
		    x0 + bw * nb, bw, top, 1e9, label);
	}
	if (s->has_thresholds) {
		if (s->tag >= lo && s->tag <= hi + 1)
			threshold_line(o, "threshold-tag", "tag", s->tag, lo,
			    x0, bw);
		if (s->reject >= lo && s->reject <= hi + 1)
			threshold_line(o, "threshold-reject", "reject",
			    s->reject, lo, x0, bw);
	}
	buf_printf(o, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">score"
	    "</text></svg>\n", SVG_W - PAD_R, SVG_H - 6);
	if (s->has_thresholds)
		buf_printf(o, "<p class=\"meta\">Dashed lines: tag threshold "
		    "%.2f, reject threshold %.2f (the latest in the log).</p>\n",
		    s->tag, s->reject);
	buf_adds(o, "</section>\n");
}

/* pass_path - one check's pass rate as path segments over the buckets */
static void
pass_path(struct buf *o, const struct lr_series *se, size_t n, size_t j,
    double bw)
{
	double ph = SVG_H - PAD_T - PAD_B, x, y;
	bool pen = false;
	size_t i;

	buf_printf(o, "<path class=\"rate-%s\" fill=\"none\" stroke=\"%s\" "
	    "stroke-width=\"2\" d=\"", lr_check_name(j), check_color[j]);
	for (i = 0; i < n; i++) {
		if (se->b[i].seen[j] == 0) {
			pen = false;
			continue;
		}
		x = PAD_L + bw * ((double)i + 0.5);
		y = PAD_T + ph - ph * lr_pct(se->b[i].pass[j], se->b[i].seen[j]) /
		    100.0;
		buf_printf(o, "%c%.2f %.2f ", pen ? 'L' : 'M', x, y);
		/* a lone point still shows as a dot */
		if (!pen)
			buf_printf(o, "l0.01 0 ");
		pen = true;
	}
	buf_adds(o, "\" stroke-linecap=\"round\"/>");
}

static void
auth_table(struct buf *o, const struct lr_summary *s)
{
	size_t a, j;

	buf_adds(o, "<div class=\"scroll\"><table id=\"auth-rates\"><tr>"
	    "<th>result</th>");
	for (j = 0; j < LR_NCHECKS; j++)
		buf_printf(o, "<th>%s</th>", lr_check_name(j));
	buf_adds(o, "</tr>\n");
	for (a = 0; a < LR_NAUTH; a++) {
		if (!lr_auth_shown(s, a))
			continue;
		buf_printf(o, "<tr><td>%s</td>", lr_auth_name(a));
		for (j = 0; j < LR_NCHECKS; j++)
			buf_printf(o, "<td class=\"n\">%llu (%.1f%%)</td>",
			    (unsigned long long)s->auth[j][a],
			    lr_pct(s->auth[j][a], s->n));
		buf_adds(o, "</tr>\n");
	}
	buf_adds(o, "</table></div>\n");
}

static void
chart_auth(struct buf *o, const struct lr_summary *s)
{
	const struct lr_series *se = &s->series;
	size_t n = lr_series_used(se), j;
	const char *names[LR_NCHECKS];
	double bw;

	buf_adds(o, "<section id=\"auth\"><h2>Authentication pass rates over "
	    "time</h2>\n");
	if (n == 0)
		buf_adds(o, "<p class=\"empty\">No records with a time.</p>\n");
	else {
		bw = (SVG_W - PAD_L - PAD_R) / (double)n;
		svg_open(o, "chart-auth", "SPF, DKIM, DMARC and ARC pass rates",
		    SVG_H);
		y_grid(o, 100, SVG_H, "%");
		for (j = 0; j < LR_NCHECKS; j++)
			pass_path(o, se, n, j, bw);
		x_labels(o, se, n, bw);
		buf_adds(o, "</svg>\n");
		for (j = 0; j < LR_NCHECKS; j++)
			names[j] = lr_check_name(j);
		legend(o, names, check_color, LR_NCHECKS);
	}
	auth_table(o, s);
	buf_adds(o, "</section>\n");
}

/* one horizontal bar: parts drawn left to right, the rest in grey */
struct hbar {
	const char *label;
	uint64_t total;
	uint64_t part[2];
};

static void
svg_hbars(struct buf *o, const char *id, const char *title,
    const struct hbar *rows, size_t n, const char *const *part_color)
{
	double rowh = 22, h = PAD_T + rowh * (double)n + 8, lab = 300;
	double pw = SVG_W - lab - 90, x, y, w;
	uint64_t max = 0;
	size_t i, k;

	for (i = 0; i < n; i++)
		max = rows[i].total > max ? rows[i].total : max;
	svg_open(o, id, title, h);
	for (i = 0; i < n; i++) {
		y = PAD_T + rowh * (double)i;
		buf_printf(o, "<g class=\"row\"><text x=\"%.1f\" y=\"%.1f\" "
		    "text-anchor=\"end\">", lab - 8, y + 14);
		lr_html_cut(o, rows[i].label, 48);
		buf_adds(o, "</text>");
		x = lab;
		w = max ? pw * (double)rows[i].total / (double)max : 0;
		buf_printf(o, "<rect x=\"%.2f\" y=\"%.1f\" width=\"%.2f\" "
		    "height=\"16\" fill=\"#b0b7bf\"/>", x, y + 2, w);
		for (k = 0; k < 2 && part_color; k++) {
			double pwk = rows[i].total ? w *
			    (double)rows[i].part[k] / (double)rows[i].total : 0;

			if (pwk <= 0)
				continue;
			buf_printf(o, "<rect x=\"%.2f\" y=\"%.1f\" "
			    "width=\"%.2f\" height=\"16\" fill=\"%s\"/>", x,
			    y + 2, pwk, part_color[k]);
			x += pwk;
		}
		buf_printf(o, "<text x=\"%.2f\" y=\"%.1f\">%llu</text></g>",
		    lab + w + 6, y + 14, (unsigned long long)rows[i].total);
	}
	buf_adds(o, "</svg>\n");
}

/* hbar_rows - bars for the first n entries; parts: rejected, tagged */
static struct hbar *
hbar_rows(struct topk_entry **v, size_t n, bool parts)
{
	struct hbar *rows = xcalloc(n ? n : 1, sizeof(*rows));
	size_t i;

	for (i = 0; i < n; i++) {
		rows[i].label = v[i]->key;
		rows[i].total = v[i]->count;
		if (parts) {
			rows[i].part[0] = v[i]->aux[1];
			rows[i].part[1] = v[i]->aux[0];
		}
	}
	return rows;
}

/* symbol_table - per scored symbol: hits, shares, decided alone */
static void
symbol_table(struct buf *o, const struct lr_summary *s,
    struct topk_entry **v, size_t n)
{
	size_t i;

	buf_adds(o, "<div class=\"scroll\"><table id=\"symbol-table\"><tr>"
	    "<th>symbol</th><th>score</th><th>hits</th><th title=\"share of "
	    "all tagged messages that carry the symbol\">in tagged</th>"
	    "<th title=\"share of all rejected messages that carry the "
	    "symbol\">in rejected</th><th title=\"messages it alone moved "
	    "across the tag or reject threshold, or whose action it forced"
	    "\">decided alone</th></tr>\n");
	for (i = 0; i < n; i++) {
		uint64_t exact = v[i]->count - v[i]->err;

		buf_adds(o, "<tr><td class=\"sym\">");
		lr_html_cut(o, v[i]->key, 120);
		buf_adds(o, "</td><td class=\"n\">");
		lr_score_range(o, v[i]);
		buf_printf(o, "</td><td class=\"n\">"
		    "%llu%s</td><td class=\"n\">%.1f%%</td><td class=\"n\">"
		    "%.1f%%</td><td class=\"n\">%llu (%.1f%%)</td></tr>\n",
		    (unsigned long long)v[i]->count,
		    v[i]->err ? " (approx.)" : "",
		    lr_pct(v[i]->aux[0], s->action[LR_TAG]),
		    lr_pct(v[i]->aux[1], s->action[LR_REJECT]),
		    (unsigned long long)v[i]->aux[2], lr_pct(v[i]->aux[2],
		    exact));
	}
	buf_adds(o, "</table></div>\n");
}

/* zero_table - informational symbols: hits and share of messages */
static void
zero_table(struct buf *o, const struct lr_summary *s, struct topk_entry **v,
    size_t n, size_t total)
{
	size_t i;

	buf_printf(o, "<h3>Informational symbols (score 0): %zu</h3>\n",
	    total);
	if (n == 0) {
		buf_adds(o, "<p class=\"empty\">None.</p>\n");
		return;
	}
	buf_adds(o, "<div class=\"scroll\"><table id=\"zero-symbol-table\" "
	    "class=\"small\"><tr><th>symbol</th><th>hits</th><th>of "
	    "messages</th></tr>\n");
	for (i = 0; i < n; i++) {
		buf_adds(o, "<tr><td class=\"sym\">");
		lr_html_cut(o, v[i]->key, 120);
		buf_printf(o, "</td><td class=\"n\">%llu</td><td class=\"n\">"
		    "%.1f%%</td></tr>\n", (unsigned long long)v[i]->count,
		    lr_pct(v[i]->count, s->n));
	}
	buf_adds(o, "</table></div>\n");
}

/*
 * chart_symbols - symbols with a score (bars split into rejected,
 * tagged, other, and a table), then the zero-score ones apart: they
 * explain nothing about a verdict
 */
static void
chart_symbols(struct buf *o, const struct lr_summary *s, size_t top)
{
	static const char *const colors[] = { "#d93025", "#f2b705" };
	static const char *const names[] = { "rejected", "tagged", "other" };
	static const char *const lcolors[] = { "#d93025", "#f2b705",
	    "#b0b7bf" };
	struct topk_entry **v, **nz, **zero;
	struct hbar *rows;
	size_t n, i, nn = 0, nzero = 0;

	v = topk_sorted(s->symbols, &n);
	nz = xcalloc(n ? n : 1, sizeof(*nz));
	zero = xcalloc(n ? n : 1, sizeof(*zero));
	for (i = 0; i < n; i++) {
		if (!lr_zero_score(v[i]))
			nz[nn++] = v[i];
		else
			zero[nzero++] = v[i];
	}
	buf_printf(o, "<section id=\"symbols\"><h2>Symbol statistics</h2>\n"
	    "<p class=\"meta\">%zu symbols with a score, by hits; the "
	    "shares are of all tagged and all rejected messages.</p>\n", nn);
	if (nn == 0)
		buf_adds(o, "<p class=\"empty\">No symbols.</p>\n");
	else {
		rows = hbar_rows(nz, nn < top ? nn : top, true);
		svg_hbars(o, "chart-symbols", "Top symbols by hits", rows,
		    nn < top ? nn : top, colors);
		legend(o, names, lcolors, 3);
		symbol_table(o, s, nz, nn < top ? nn : top);
		free(rows);
	}
	zero_table(o, s, zero, nzero < top ? nzero : top, nzero);
	buf_adds(o, "</section>\n");
	free(nz);
	free(zero);
	free(v);
}

/* chart_top - horizontal bars of a top table */
static void
chart_top(struct buf *o, const char *id, const char *title,
    const struct topk *t, size_t top)
{
	struct topk_entry **v;
	struct hbar *rows;
	size_t n;

	v = topk_sorted(t, &n);
	n = n < top ? n : top;
	if (n == 0) {
		buf_adds(o, "<p class=\"empty\">No rejects.</p>\n");
		free(v);
		return;
	}
	rows = hbar_rows(v, n, false);
	svg_hbars(o, id, title, rows, n, NULL);
	free(rows);
	free(v);
}

static void
chart_sources(struct buf *o, const struct lr_summary *s, size_t top)
{
	buf_adds(o, "<section id=\"sources\"><h2>Top rejected sources</h2>\n"
	    "<h3>Client IP addresses</h3>\n");
	chart_top(o, "chart-reject-ips", "Client IP addresses", s->reject_ips,
	    top);
	buf_adds(o, "<h3>Sender domains (MAIL FROM)</h3>\n");
	chart_top(o, "chart-reject-domains", "Sender domains (MAIL FROM)",
	    s->reject_domains, top);
	buf_adds(o, "</section>\n");
}

static void
card(struct buf *o, const char *id, const char *label, const char *value)
{
	buf_printf(o, "<div class=\"card\" id=\"card-%s\"><b>%s</b><span>%s"
	    "</span></div>", id, value, label);
}

static void
cards(struct buf *o, const struct lr_summary *s,
    const struct logread_stats *st)
{
	char v[64];
	size_t a;

	buf_adds(o, "<section id=\"totals\" class=\"cards\">");
	snprintf(v, sizeof(v), "%llu", (unsigned long long)s->n);
	card(o, "messages", "messages", v);
	for (a = 0; a < LR_OTHER; a++) {
		snprintf(v, sizeof(v), "%.1f%%", lr_pct(s->action[a], s->n));
		card(o, lr_action_name(a), lr_action_name(a), v);
	}
	snprintf(v, sizeof(v), "%llu", (unsigned long long)s->dns_degraded);
	card(o, "dns", "DNS degraded", v);
	if (s->lat_n) {
		snprintf(v, sizeof(v), "%.1f ms", s->lat_sum /
		    (double)s->lat_n);
		card(o, "avg", "average time", v);
		snprintf(v, sizeof(v), "%.1f ms", lr_latency_pct(s, 95));
		card(o, "p95", "p95 time", v);
	}
	snprintf(v, sizeof(v), "%llu", (unsigned long long)st->malformed);
	card(o, "malformed", "malformed lines", v);
	buf_adds(o, "</section>\n");
}

static void
input_section(struct buf *o, const struct logread_stats *st)
{
	struct buf t = BUF_INIT;

	lr_input_report(st, &t);
	if (t.len == 0)
		return;
	buf_adds(o, "<section id=\"input\"><h2>Input problems</h2><pre>");
	lr_html(o, t.data, t.len);
	buf_adds(o, "</pre></section>\n");
	buf_release(&t);
}

static void
page_header(struct buf *o, const struct lr_summary *s,
    const struct logread_stats *st, const struct lr_html_opts *opt)
{
	const char *title = opt->title ? opt->title :
	    "mailwarden verdict report";

	buf_adds(o, LR_HTML_MARKER
	    "<meta charset=\"utf-8\">\n<meta http-equiv=\"Content-Security-"
	    "Policy\" content=\"default-src 'none'; style-src 'unsafe-inline';"
	    " img-src data:\">\n<meta name=\"viewport\" content=\"width="
	    "device-width,initial-scale=1\">\n<title>");
	lr_htmls(o, title);
	buf_printf(o, "</title>\n<style>%s</style></head>\n<body>\n<header>"
	    "<h1>", css);
	lr_htmls(o, title);
	buf_adds(o, "</h1><p class=\"meta\">");
	if (s->has_period) {
		lr_html_time(o, s->first, "%Y-%m-%d %H:%M:%S");
		buf_adds(o, " to ");
		lr_html_time(o, s->last, "%Y-%m-%d %H:%M:%S");
		buf_adds(o, " UTC &middot; ");
	}
	buf_printf(o, "%llu messages from %zu input(s), %llu lines, %llu "
	    "malformed, %llu left out by time range or filters",
	    (unsigned long long)s->n, st->files,
	    (unsigned long long)st->lines, (unsigned long long)st->malformed,
	    (unsigned long long)opt->left_out);
	if (opt->inputs) {
		buf_adds(o, " &middot; ");
		lr_html_cut(o, opt->inputs, 400);
	}
	buf_adds(o, " &middot; generated ");
	lr_html_time(o, opt->generated, "%Y-%m-%d %H:%M:%S UTC");
	buf_adds(o, "</p></header>\n");
}

void
lr_html_report(const struct lr_summary *s, const struct logread_stats *st,
    const struct lr_html_opts *opt, struct buf *o)
{
	size_t top = opt->top ? opt->top : 15;

	page_header(o, s, st, opt);
	cards(o, s, st);
	chart_hourly(o, s);
	chart_scores(o, s);
	chart_auth(o, s);
	lr_html_review(o, s, opt, top);
	chart_symbols(o, s, top);
	chart_sources(o, s, top);
	lr_html_review_explain(o, s);
	input_section(o, st);
	buf_adds(o, "<footer><p class=\"meta\">mailwarden " PACKAGE_VERSION
	    " &middot; counts of symbols and sources are exact unless marked "
	    "approx.; p95 is within 2%.</p></footer>\n</body></html>\n");
}
