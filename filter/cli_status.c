/*
 * cli_status.c - `mailwarden status`: a running daemon at a glance
 *
 * DESCRIPTION
 *	mailwarden status [-c FILE] [-e SPEC] [-w SECONDS]
 *	    Reads the metrics endpoint (metrics_listen of the configuration,
 *	    or -e SPEC) and prints uptime, configuration generation and the
 *	    last reload, messages by action with rates since the start and
 *	    in the last minute and hour (the daemon counts those), latency
 *	    percentiles (from the histograms), DNS, Bayes and policy store
 *	    health, verdict-log drops.
 *	    With -w, reads twice SECONDS apart and shows what happened in
 *	    between as well (e.g. -w 60: the last minute).
 *	mailwarden status --list-metrics
 *	    The reference table of every metric (Markdown; doc/metrics.md).
 *
 *	Exit status: 0 healthy; 1 degraded (the last reload failed, the
 *	daemon's mailwarden_dns_healthy or mailwarden_bayes_healthy is 0
 *	(failures among the recent messages: see metrics.h), the last
 *	policy store call failed, or verdict-log lines were dropped during
 *	-w);
 *	2 the daemon cannot be reached, metrics_listen is empty, or usage.
 *
 * SECURITY
 *	The endpoint's answer is read within a cap (STATUS_MAX_BYTES) and
 *	only numbers are taken from it.
 */
#include "config.h"

#include <sys/socket.h>

#include <getopt.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "cli.h"
#include "clock.h"
#include "conf.h"
#include "metrics.h"
#include "metrics_http.h"

#define STATUS_MAX_BYTES	(8 * 1024 * 1024)

struct sample {
	char	*key;			/* name{labels} as exposed */
	double	 v;
};

struct scrape {
	struct sample *v;
	size_t	 n;
	double	 when;			/* monotonic seconds */
};

static void
usage(FILE *f)
{
	fprintf(f, "usage: mailwarden status [-c FILE] [-e SPEC] [-w SECONDS]\n"
	    "       mailwarden status --list-metrics\n"
	    "  -c FILE     configuration whose metrics_listen to read\n"
	    "  -e SPEC     endpoint instead: inet:PORT@ADDR or unix:PATH\n"
	    "  -w SECONDS  read twice, SECONDS apart, and show that window\n"
	    "exit status: 0 healthy, 1 degraded, 2 unreachable or usage\n");
}

/* fetch - GET /metrics from spec into body; 0 or -1 with why */
static int
fetch(const char *spec, struct buf *body, struct buf *why)
{
	static const char req[] = "GET /metrics HTTP/1.0\r\n"
	    "Host: mailwarden\r\n\r\n";
	struct buf raw = BUF_INIT;
	char chunk[8192], *p;
	ssize_t n;
	int fd, rc = -1;

	if ((fd = metrics_connect(spec, why)) < 0)
		return -1;
	if (send(fd, req, sizeof(req) - 1, MSG_NOSIGNAL) !=
	    (ssize_t)(sizeof(req) - 1))
		goto out;
	while ((n = read(fd, chunk, sizeof(chunk))) > 0 &&
	    raw.len < STATUS_MAX_BYTES)
		buf_add(&raw, chunk, (size_t)n);
	buf_add(&raw, "", 0);
	raw.len--;
	if (raw.len < 12 || strncmp(raw.data, "HTTP/1.1 200", 12) != 0 ||
	    (p = strstr(raw.data, "\r\n\r\n")) == NULL) {
		buf_printf(why, "%s: not a metrics endpoint (%.*s)", spec,
		    (int)strcspn(buf_cstr(&raw), "\r\n"), buf_cstr(&raw));
		goto out;
	}
	buf_adds(body, p + 4);
	rc = 0;
out:
	if (rc < 0 && why->len == 0)
		buf_printf(why, "%s: no answer", spec);
	close(fd);
	buf_release(&raw);
	return rc;
}

/* parse - the samples of an exposition (comments skipped) */
static void
parse(const char *text, struct scrape *s)
{
	const char *line, *nl, *sp;
	char *end;
	double v;

	for (line = text; *line; line = nl + 1) {
		nl = strchr(line, '\n');
		if (nl == NULL)
			nl = line + strlen(line);
		if (*line != '#' && (sp = memrchr(line, ' ', (size_t)(nl -
		    line))) != NULL) {
			v = strtod(sp + 1, &end);
			if (end != sp + 1) {
				s->v = xreallocarray(s->v, s->n + 1,
				    sizeof(*s->v));
				s->v[s->n].key = xstrndup(line,
				    (size_t)(sp - line));
				s->v[s->n++].v = v;
			}
		}
		if (*nl == '\0')
			break;
	}
}

static void
scrape_release(struct scrape *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		free(s->v[i].key);
	free(s->v);
	memset(s, 0, sizeof(*s));
}

/* get - the value of a series, NAN if absent */
static double
get(const struct scrape *s, const char *key)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (strcmp(s->v[i].key, key) == 0)
			return s->v[i].v;
	return NAN;
}

/* sum - the values of every series of family name */
static double
sum(const struct scrape *s, const char *name)
{
	size_t i, n = strlen(name);
	double t = 0;

	for (i = 0; i < s->n; i++)
		if (strncmp(s->v[i].key, name, n) == 0 &&
		    (s->v[i].key[n] == '\0' || s->v[i].key[n] == '{'))
			t += s->v[i].v;
	return t;
}

/*
 * get_labelled - the value of the first series of family name that has
 * a label, and that label's value in label (at most cap - 1 bytes);
 * NAN if there is none
 */
static double
get_labelled(const struct scrape *s, const char *name, char *label,
    size_t cap)
{
	size_t i, n = strlen(name), len;
	const char *v;

	for (i = 0; i < s->n; i++) {
		if (strncmp(s->v[i].key, name, n) != 0 ||
		    s->v[i].key[n] != '{' ||
		    (v = strstr(s->v[i].key + n, "=\"")) == NULL)
			continue;
		v += 2;
		len = strcspn(v, "\"");
		snprintf(label, cap, "%.*s", (int)len, v);
		return s->v[i].v;
	}
	return NAN;
}

/* delta - cur - prev of one series (prev may be NULL: cur) */
static double
delta(const struct scrape *cur, const struct scrape *prev, const char *key)
{
	double c = get(cur, key), p = prev ? get(prev, key) : 0;

	return isnan(c) ? 0 : c - (isnan(p) ? 0 : p);
}

/*
 * quantile - q of histogram name from its cumulative buckets (prev
 * subtracted when given), interpolated within the bucket; -1 if empty,
 * INFINITY if it lies above the last finite bound
 */
static double
quantile(const struct scrape *cur, const struct scrape *prev,
    const char *name, double q)
{
	char pfx[128], key[160];
	double lo = 0, clo = 0, total, c, le;
	size_t i, n;

	n = (size_t)snprintf(pfx, sizeof(pfx), "%s_bucket{le=\"", name);
	snprintf(key, sizeof(key), "%s+Inf\"}", pfx);
	if ((total = delta(cur, prev, key)) <= 0)
		return -1;
	for (i = 0; i < cur->n; i++) {
		if (strncmp(cur->v[i].key, pfx, n) != 0 ||
		    strcmp(cur->v[i].key + n, "+Inf\"}") == 0)
			continue;
		le = strtod(cur->v[i].key + n, NULL);
		c = delta(cur, prev, cur->v[i].key);
		if (c >= q * total)
			return c > clo ? lo + (le - lo) * (q * total - clo) /
			    (c - clo) : le;
		lo = le;
		clo = c;
	}
	return INFINITY;
}

static void
print_ms(double sec)
{
	if (sec < 0)
		printf("-");
	else if (isinf(sec))
		printf(">10s");
	else
		printf("%.1fms", sec * 1000);
}

static void
print_latency(const struct scrape *cur, const struct scrape *prev)
{
	static const double qs[] = { 0.5, 0.9, 0.99 };
	static const char *const fams[] = { "mailwarden_evaluation_seconds",
	    "mailwarden_dns_wait_seconds" };
	size_t f, i;

	for (f = 0; f < 2; f++) {
		printf("%-14s", f == 0 ? "latency" : "DNS wait");
		for (i = 0; i < 3; i++) {
			printf(" p%g ", qs[i] * 100);
			print_ms(quantile(cur, prev, fams[f], qs[i]));
		}
		printf("\n");
	}
}

static const char *const act[] = { "accept", "tag", "reject", "tempfail" };

/* print_counts - one line of messages by action; unscored < 0: none */
static void
print_counts(const char *label, const double n[4], double secs,
    double unscored)
{
	double tot = n[0] + n[1] + n[2] + n[3];
	size_t i;

	printf("%-14s %.0f (%.2f/s)", label, tot, secs > 0 ? tot / secs : 0);
	for (i = 0; i < 4; i++)
		printf(" %s %.0f", act[i], n[i]);
	if (unscored >= 0)
		printf(" unscored %.0f", unscored);
	printf("\n");
}

/*
 * print_recent - the daemon's own count of the last window seconds
 * (family name by action); the rate over the window, or over the uptime
 * when the daemon is younger.  Nothing from a daemon without them.
 */
static void
print_recent(const struct scrape *s, const char *label, const char *name,
    double window)
{
	char key[128];
	double n[4], up = (double)time(NULL) -
	    get(s, "mailwarden_start_time_seconds");
	size_t i;

	for (i = 0; i < 4; i++) {
		snprintf(key, sizeof(key), "%s{action=\"%s\"}", name, act[i]);
		if (isnan(n[i] = get(s, key)))
			return;
	}
	print_counts(label, n, up < window ? up : window, -1);
}

static void
print_messages(const struct scrape *cur, const struct scrape *prev,
    double secs, const char *label)
{
	char key[128];
	double n[4], unscored = 0;
	size_t i;

	for (i = 0; i < 4; i++) {
		snprintf(key, sizeof(key), "mailwarden_messages_total{action="
		    "\"%s\",scored=\"yes\"}", act[i]);
		n[i] = delta(cur, prev, key);
		snprintf(key, sizeof(key), "mailwarden_messages_total{action="
		    "\"%s\",scored=\"no\"}", act[i]);
		unscored += delta(cur, prev, key);
		n[i] += delta(cur, prev, key);
	}
	print_counts(label, n, secs, unscored);
}

static void
print_uptime(const struct scrape *s)
{
	double start = get(s, "mailwarden_start_time_seconds");
	double loaded = get(s,
	    "mailwarden_config_last_reload_success_timestamp_seconds");
	long up = (long)((double)time(NULL) - start);
	char when[32];
	time_t t = (time_t)loaded;

	printf("%-14s %ldd %02ld:%02ld:%02ld\n", "uptime", up / 86400,
	    up / 3600 % 24, up / 60 % 60, up % 60);
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", gmtime(&t));
	printf("%-14s generation %.0f, loaded %s, last reload %s "
	    "(%.0f failed since start)\n", "configuration",
	    get(s, "mailwarden_config_generation"), when,
	    get(s, "mailwarden_config_last_reload_successful") == 1 ?
	    "ok" : "FAILED", get(s, "mailwarden_config_reload_failures_total"));
}

/* print_policy - the policy store's line, if the daemon has one */
static void
print_policy(const struct scrape *s)
{
	char backend[16];
	double ok = get_labelled(s, "mailwarden_policy_store_healthy",
	    backend, sizeof(backend));

	if (isnan(ok))
		return;
	printf("%-14s %s, deferred %.0f (rate limit %.0f, blocked %.0f, "
	    "greylisted %.0f), trap clients %.0f, degraded %.0f: %s\n",
	    "policy store", backend,
	    sum(s, "mailwarden_policy_deferred_total"),
	    get(s, "mailwarden_policy_deferred_total{reason=\"ratelimit\"}"),
	    get(s, "mailwarden_policy_deferred_total{reason=\"blocked\"}"),
	    get(s, "mailwarden_policy_deferred_total{reason=\"greylist\"}"),
	    get(s, "mailwarden_policy_trap_client_total"),
	    get(s, "mailwarden_policy_degraded_total"),
	    ok == 1 ? "healthy" : "DEGRADED");
}

static void
print_health(const struct scrape *s)
{
	double look = get(s, "mailwarden_dns_lookups_total");
	double hits = get(s, "mailwarden_dns_cache_hits_total");

	printf("%-14s lookups %.0f, cache hits %.0f%%, timeouts %.0f, "
	    "SERVFAIL %.0f, degraded messages %.0f: %s\n", "DNS", look,
	    look > 0 ? 100 * hits / look : 0,
	    get(s, "mailwarden_dns_timeouts_total"),
	    get(s, "mailwarden_dns_servfails_total"),
	    get(s, "mailwarden_dns_degraded_messages_total"),
	    get(s, "mailwarden_dns_healthy") == 1 ? "healthy" : "DEGRADED");
	printf("%-14s classified %.0f, skipped %.0f, degraded %.0f, "
	    "autolearned %.0f: %s\n", "Bayes",
	    get(s, "mailwarden_bayes_classified_total"),
	    sum(s, "mailwarden_bayes_skipped_total"),
	    get(s, "mailwarden_bayes_degraded_total"),
	    sum(s, "mailwarden_bayes_autolearned_total"),
	    get(s, "mailwarden_bayes_healthy") == 1 ? "healthy" : "DEGRADED");
	print_policy(s);
	printf("%-14s %.0f lines, %.0f dropped\n", "verdict log",
	    get(s, "mailwarden_verdict_log_lines_total"),
	    get(s, "mailwarden_verdict_log_dropped_total"));
	printf("%-14s %.0f messages, %.0f connections, %.0f threads\n",
	    "now", get(s, "mailwarden_messages_in_flight"),
	    get(s, "mailwarden_connections_open"),
	    get(s, "mailwarden_threads"));
}

/* verdict - the health summary line; 0 healthy, 1 degraded */
static int
verdict(const struct scrape *cur, const struct scrape *prev)
{
	struct buf why = BUF_INIT;
	char backend[16];
	int rc;

	if (get(cur, "mailwarden_config_last_reload_successful") != 1)
		buf_adds(&why, ", last reload failed");
	if (get(cur, "mailwarden_bayes_healthy") != 1)
		buf_adds(&why, ", Bayes store failing");
	if (get(cur, "mailwarden_dns_healthy") != 1)
		buf_adds(&why, ", DNS degraded");
	if (get_labelled(cur, "mailwarden_policy_store_healthy", backend,
	    sizeof(backend)) == 0)
		buf_adds(&why, ", policy store failing");
	if (prev && delta(cur, prev, "mailwarden_verdict_log_dropped_total") >
	    0)
		buf_adds(&why, ", verdict log lines dropped");
	rc = why.len ? 1 : 0;
	printf("%-14s %s%s\n", "status", rc ? "DEGRADED" : "ok",
	    rc ? buf_cstr(&why) + 1 : "");
	buf_release(&why);
	return rc;
}

static int
read_once(const char *spec, struct scrape *s)
{
	struct buf body = BUF_INIT, why = BUF_INIT;
	int rc = fetch(spec, &body, &why);

	if (rc < 0)
		fprintf(stderr, "mailwarden: status: %s\n", buf_cstr(&why));
	else {
		parse(buf_cstr(&body), s);
		s->when = clock_mono_s();
		if (isnan(get(s, "mailwarden_start_time_seconds"))) {
			fprintf(stderr, "mailwarden: status: %s: no mailwarden "
			    "metrics in the answer\n", spec);
			rc = -1;
		}
	}
	buf_release(&body);
	buf_release(&why);
	return rc;
}

static int
report(const char *spec, unsigned window)
{
	struct scrape a = { 0 }, b = { 0 };
	char label[32];
	double start;
	int rc = 2;

	if (read_once(spec, &a) < 0)
		goto out;
	if (window > 0) {
		sleep(window);
		if (read_once(spec, &b) < 0)
			goto out;
	}
	{
		const struct scrape *cur = window ? &b : &a;

		start = get(cur, "mailwarden_start_time_seconds");
		printf("mailwarden at %s\n", spec);
		print_uptime(cur);
		print_messages(cur, NULL, (double)time(NULL) - start,
		    "messages");
		print_recent(cur, "last minute",
		    "mailwarden_messages_last_minute", 60);
		print_recent(cur, "last hour", "mailwarden_messages_last_hour",
		    3600);
		if (window) {
			snprintf(label, sizeof(label), "last %us", window);
			print_messages(&b, &a, b.when - a.when, label);
		}
		print_latency(cur, window ? &a : NULL);
		print_health(cur);
		rc = verdict(cur, window ? &a : NULL);
	}
out:
	scrape_release(&a);
	scrape_release(&b);
	return rc;
}

int
cli_status(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "endpoint", required_argument, NULL, 'e' },
		{ "window", required_argument, NULL, 'w' },
		{ "list-metrics", no_argument, NULL, 'L' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *path = NULL, *spec = NULL;
	struct conf *c = NULL;
	struct buf b = BUF_INIT;
	unsigned long w = 0;
	char *end;
	int ch, rc;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "c:e:w:h", opts, NULL)) != -1) {
		switch (ch) {
		case 'c': path = optarg; break;
		case 'e': spec = optarg; break;
		case 'w':
			w = strtoul(optarg, &end, 10);
			if (*end || w == 0 || w > 3600) {
				fprintf(stderr, "mailwarden: status: -w: 1 to "
				    "3600 seconds\n");
				return 2;
			}
			break;
		case 'L':
			metrics_reference(&b);
			fputs(buf_cstr(&b), stdout);
			buf_release(&b);
			return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	if (spec == NULL) {
		if ((c = cli_load_conf(path)) == NULL)
			return 2;
		spec = c->metrics_listen;
		if (*spec == '\0') {
			fprintf(stderr, "mailwarden: status: metrics_listen is "
			    "not set in %s (or give -e SPEC)\n", c->path);
			conf_free(c);
			return 2;
		}
	}
	rc = report(spec, (unsigned)w);
	conf_free(c);
	return rc;
}
