/*
 * check_metrics.c - counter registry, exposition, stats line, HTTP parser
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bayes_store.h"
#include "buf.h"
#include "fakedns.h"
#include "helpers.h"
#include "metrics.h"
#include "metrics_http.h"
#include "redis_server.h"
#include "verdict.h"

static const char msg_text[] = "From: a@example.org\r\nTo: b@example.net\r\n"
    "Subject: hi\r\nMessage-ID: <1@example.org>\r\n\r\nhello\r\n";

/* value - the value of series key in the exposition, -1 if absent */
static double
value(const char *text, const char *key)
{
	size_t n = strlen(key);
	const char *p;

	for (p = text; (p = strstr(p, key)) != NULL; p += n)
		if ((p == text || p[-1] == '\n') && p[n] == ' ')
			return strtod(p + n + 1, NULL);
	return -1;
}

static char *
render(struct metrics *m)
{
	struct metrics_live l;
	struct buf b = BUF_INIT;

	memset(&l, 0, sizeof(l));
	l.threads = 3;
	l.dns_timeouts = 7;
	metrics_render(m, &l, &b);
	return buf_steal(&b);
}

/* scan_one - one message from ip through an engine of conf_text */
static struct scan *
scan_one(struct engine *e, const char *ip, struct msg **m)
{
	return test_scan_text(e, ip, "mail.example.org", "a@example.org",
	    "b@example.net", msg_text, sizeof(msg_text) - 1, m);
}

START_TEST(test_metrics_message_counts_the_verdict)
{
	struct engine *e = test_engine("trusted_networks = 198.51.100.0/24\n");
	struct metrics *m = metrics_new();
	struct msg *msg;
	struct scan *s;
	char *t;

	s = scan_one(e, "192.0.2.1", &msg);
	metrics_message(m, s, 0);
	scan_free(&s);
	msg_free(&msg);
	s = scan_one(e, "198.51.100.7", &msg);	/* trusted: unscored */
	metrics_message(m, s, -1);
	scan_free(&s);
	msg_free(&msg);
	t = render(m);
	ck_assert_double_eq(value(t, "mailwarden_messages_total{action="
	    "\"accept\",scored=\"yes\"}"), 1);
	ck_assert_double_eq(value(t, "mailwarden_messages_total{action="
	    "\"accept\",scored=\"no\"}"), 1);
	/*
	 * the empty test zone: no SPF record, no DKIM signature; trusted
	 * mail is not verified at all
	 */
	ck_assert_double_eq(value(t, "mailwarden_spf_results_total{result="
	    "\"none\"}"), 1);
	ck_assert_double_eq(value(t, "mailwarden_dkim_results_total{result="
	    "\"none\"}"), 1);
	ck_assert_double_eq(value(t, "mailwarden_symbol_hits_total{symbol="
	    "\"DKIM_NONE\"}"), 1);
	ck_assert_double_eq(value(t, "mailwarden_verdict_log_lines_total"), 1);
	ck_assert_double_eq(value(t, "mailwarden_verdict_log_dropped_total"),
	    1);
	ck_assert_double_eq(value(t, "mailwarden_bayes_skipped_total{reason="
	    "\"off\"}"), 1);
	ck_assert_double_eq(value(t, "mailwarden_bayes_skipped_total{reason="
	    "\"unscored\"}"), 1);
	ck_assert_double_eq(value(t, "mailwarden_evaluation_seconds_count"), 2);
	/* every message runs the message step, only scored mail SPF */
	ck_assert_double_eq(value(t, "mailwarden_step_seconds_count{step="
	    "\"message\"}"), 2);
	ck_assert_double_eq(value(t, "mailwarden_step_seconds_count{step="
	    "\"spf\"}"), 1);
	ck_assert_double_eq(value(t, "mailwarden_step_seconds_bucket{step="
	    "\"spf\",le=\"+Inf\"}"), 1);
	ck_assert_double_eq(value(t, "mailwarden_dns_timeouts_total"), 7);
	ck_assert_double_eq(value(t, "mailwarden_threads"), 3);
	ck_assert_double_eq(value(t, "mailwarden_symbol_hits_unlabelled_total"),
	    0);
	free(t);
	metrics_free(&m);
	ck_assert_ptr_null(m);
	engine_unref(e);
}
END_TEST

START_TEST(test_metrics_authres_only_known_methods_and_results)
{
	struct engine *e = test_engine("");
	struct metrics *m = metrics_new();
	struct msg *msg;
	struct scan *s = scan_one(e, "192.0.2.1", &msg);
	char *t;

	verdict_add_authres(&s->verdict, "dmarc=fail (p=reject dis=quarantine)"
	    " header.from=example.org");
	verdict_add_authres(&s->verdict, "spf=bogus smtp.mailfrom=x");
	verdict_add_authres(&s->verdict, "arc=pass");
	verdict_add_authres(&s->verdict, "dmarc=pass (p=none dis=evil)");
	verdict_add_authres(&s->verdict, "spf=passing");
	metrics_message(m, s, 1);
	t = render(m);
	ck_assert_double_eq(value(t, "mailwarden_dmarc_results_total{result="
	    "\"fail\"}"), 1);
	ck_assert_double_eq(value(t, "mailwarden_dmarc_results_total{result="
	    "\"pass\"}"), 1);
	ck_assert_double_eq(value(t, "mailwarden_dmarc_dispositions_total{"
	    "disposition=\"quarantine\"}"), 1);
	/* the scan's own spf=none, nothing for the two made-up values */
	ck_assert_double_eq(value(t, "mailwarden_spf_results_total{result="
	    "\"none\"}"), 1);
	ck_assert_double_eq(value(t, "mailwarden_spf_results_total{result="
	    "\"pass\"}"), 0);
	ck_assert_ptr_null(strstr(t, "evil"));
	ck_assert_ptr_null(strstr(t, "bogus"));
	/* no verdict log configured: neither written nor dropped */
	ck_assert_double_eq(value(t, "mailwarden_verdict_log_lines_total"), 0);
	free(t);
	scan_free(&s);
	msg_free(&msg);
	metrics_free(&m);
	engine_unref(e);
}
END_TEST

static bool
yes(const char *name, const void *arg)
{
	(void)name;
	(void)arg;
	return true;
}

static bool
only_known(const char *name, const void *arg)
{
	(void)arg;
	return strncmp(name, "KNOWN", 5) == 0;
}

START_TEST(test_metrics_symbols_are_bounded)
{
	struct metrics *m = metrics_new();
	char name[32], *t;
	size_t i;

	metrics_symbol_hit(m, "KNOWN_A", only_known, NULL);
	metrics_symbol_hit(m, "KNOWN_A", only_known, NULL);
	metrics_symbol_hit(m, "HOSTILE_FROM_MESSAGE", only_known, NULL);
	for (i = 0; i < METRICS_MAX_SYMBOLS + 10; i++) {
		snprintf(name, sizeof(name), "KNOWN_%zu", i);
		metrics_symbol_hit(m, name, only_known, NULL);
	}
	ck_assert_uint_eq(atomic_load(&m->nsyms), METRICS_MAX_SYMBOLS);
	t = render(m);
	ck_assert_double_eq(value(t, "mailwarden_symbol_hits_total{symbol="
	    "\"KNOWN_A\"}"), 2);
	ck_assert_ptr_null(strstr(t, "HOSTILE"));
	/* one undefined name + 11 over the cap (KNOWN_A took one place) */
	ck_assert_double_eq(value(t, "mailwarden_symbol_hits_unlabelled_total"),
	    12);
	free(t);
	metrics_free(&m);
}
END_TEST

START_TEST(test_metrics_label_values_are_escaped)
{
	struct metrics *m = metrics_new();
	char *t;

	metrics_symbol_hit(m, "A\"B\\C\nD", yes, NULL);
	t = render(m);
	ck_assert_ptr_nonnull(strstr(t, "{symbol=\"A\\\"B\\\\C\\nD\"} 1\n"));
	free(t);
	metrics_free(&m);
}
END_TEST

START_TEST(test_metrics_histogram_is_cumulative)
{
	struct metrics *m = metrics_new();
	char *t;

	metrics_hist_observe(&m->eval, 0.0005);
	metrics_hist_observe(&m->eval, 0.003);
	metrics_hist_observe(&m->eval, 20);
	t = render(m);
	ck_assert_double_eq(value(t, "mailwarden_evaluation_seconds_bucket{"
	    "le=\"0.001\"}"), 1);
	ck_assert_double_eq(value(t, "mailwarden_evaluation_seconds_bucket{"
	    "le=\"0.0025\"}"), 1);
	ck_assert_double_eq(value(t, "mailwarden_evaluation_seconds_bucket{"
	    "le=\"0.005\"}"), 2);
	ck_assert_double_eq(value(t, "mailwarden_evaluation_seconds_bucket{"
	    "le=\"10\"}"), 2);
	ck_assert_double_eq(value(t, "mailwarden_evaluation_seconds_bucket{"
	    "le=\"+Inf\"}"), 3);
	ck_assert_double_eq(value(t, "mailwarden_evaluation_seconds_count"), 3);
	ck_assert_double_eq_tol(value(t, "mailwarden_evaluation_seconds_sum"),
	    20.0035, 1e-5);
	free(t);
	metrics_free(&m);
}
END_TEST

START_TEST(test_metrics_reload_generation_and_failure)
{
	struct metrics *m = metrics_new();
	char *t;

	metrics_reload(m, true, 100);		/* start */
	metrics_reload(m, false, 200);
	t = render(m);
	ck_assert_double_eq(value(t, "mailwarden_config_generation"), 1);
	ck_assert_double_eq(value(t,
	    "mailwarden_config_last_reload_successful"), 0);
	ck_assert_double_eq(value(t,
	    "mailwarden_config_last_reload_success_timestamp_seconds"), 100);
	ck_assert_double_eq(value(t, "mailwarden_config_reload_failures_total"),
	    1);
	free(t);
	metrics_reload(m, true, 300);
	t = render(m);
	ck_assert_double_eq(value(t, "mailwarden_config_generation"), 2);
	ck_assert_double_eq(value(t, "mailwarden_config_reloads_total"), 1);
	ck_assert_double_eq(value(t,
	    "mailwarden_config_last_reload_successful"), 1);
	free(t);
	metrics_free(&m);
}
END_TEST

START_TEST(test_metrics_stats_line_shows_the_difference)
{
	struct metrics *m = metrics_new();
	struct metrics_snap a, b;
	struct buf line = BUF_INIT;

	atomic_store(&m->messages[ACTION_REJECT][1], 5);
	metrics_snap(m, &a);
	atomic_fetch_add(&m->messages[ACTION_REJECT][1], 2);
	atomic_fetch_add(&m->messages[ACTION_ACCEPT][0], 2);
	atomic_fetch_add(&m->vlog_dropped, 1);
	atomic_fetch_add(&m->eval.sum_us, 8000);
	metrics_snap(m, &b);
	metrics_stats_line(&a, &b, 10, &line);
	ck_assert_str_eq(buf_cstr(&line), "stats: 10s messages=4 (0.40/s) "
	    "accept=2 tag=0 reject=2 tempfail=0 unscored=2 eval_avg=2.0ms "
	    "dns_degraded=0 bayes_degraded=0 vlog_dropped=1 reloads=0 "
	    "reload_failures=0");
	buf_release(&line);
	metrics_free(&m);
}
END_TEST

/*
 * the snapshots the last minute and hour are counted from: the newest
 * one at least that old, or the oldest (the start) while the daemon is
 * younger; pushes closer than the step are not kept
 */
START_TEST(test_metrics_ring_finds_the_window)
{
	static struct metrics_ring r = { .step = 1 };
	struct metrics_snap s, got;
	double age, t;

	ck_assert(!metrics_ring_since(&r, 100, 60, &got, &age));
	memset(&s, 0, sizeof(s));
	for (t = 100; t <= 300; t += 1) {	/* 1 message a second */
		s.actions[0] = (uint64_t)(t - 100);
		metrics_ring_push(&r, &s, t);
		metrics_ring_push(&r, &s, t + 0.5);	/* too soon: ignored */
		if (t == 130) {			/* younger than a minute */
			ck_assert(metrics_ring_since(&r, t, 60, &got, &age));
			ck_assert_uint_eq(got.actions[0], 0);
			ck_assert_double_eq(age, 30);
		}
	}
	ck_assert_uint_eq(r.n, METRICS_RING_N);
	ck_assert(metrics_ring_since(&r, 300, 60, &got, &age));
	ck_assert_double_eq(age, 60);
	ck_assert_uint_eq(s.actions[0] - got.actions[0], 60);
	/* between pushes: the newest at least 60 s old */
	ck_assert(metrics_ring_since(&r, 300.7, 60, &got, &age));
	ck_assert_double_eq_tol(age, 60.7, 1e-9);
}
END_TEST

START_TEST(test_metrics_last_minute_and_hour_rendered)
{
	struct metrics *m = metrics_new();
	struct metrics_live l;
	struct buf b = BUF_INIT;

	memset(&l, 0, sizeof(l));
	metrics_render(m, &l, &b);
	ck_assert_ptr_null(strstr(buf_cstr(&b), "_last_minute"));
	buf_reset(&b);
	l.have_recent = true;
	l.last_minute[ACTION_REJECT] = 3;
	l.last_hour[ACTION_ACCEPT] = 40;
	l.last_hour[ACTION_REJECT] = 5;
	metrics_render(m, &l, &b);
	ck_assert_double_eq(value(buf_cstr(&b), "mailwarden_messages_last_"
	    "minute{action=\"reject\"}"), 3);
	ck_assert_double_eq(value(buf_cstr(&b), "mailwarden_messages_last_"
	    "minute{action=\"accept\"}"), 0);
	ck_assert_double_eq(value(buf_cstr(&b), "mailwarden_messages_last_"
	    "hour{action=\"accept\"}"), 40);
	ck_assert_ptr_nonnull(strstr(buf_cstr(&b), "# TYPE mailwarden_"
	    "messages_last_hour gauge\n"));
	buf_release(&b);
	metrics_free(&m);
}
END_TEST

/*
 * health: one failure among good messages does not flag it; a store
 * that keeps failing does; old failures and a majority of good
 * messages clear it
 */
START_TEST(test_metrics_health_rule)
{
	struct metrics_health h;
	int i;

	memset(&h, 0, sizeof(h));
	ck_assert(metrics_health_ok(&h, 1000));
	metrics_health_note(&h, true, 1000);	/* one failed lookup */
	ck_assert(metrics_health_ok(&h, 1000));
	metrics_health_note(&h, false, 1001);
	ck_assert(metrics_health_ok(&h, 1001));
	metrics_health_note(&h, true, 1002);	/* 2 of 3 failed */
	ck_assert(!metrics_health_ok(&h, 1002));
	/* a minute later the failures are too old */
	ck_assert(metrics_health_ok(&h, 1063));
	/* 2 failures among 8 messages: a quarter, degraded; a ninth good
	 * one outnumbers them */
	memset(&h, 0, sizeof(h));
	for (i = 0; i < 6; i++)
		metrics_health_note(&h, false, 2000);
	metrics_health_note(&h, true, 2000);
	metrics_health_note(&h, true, 2000);
	ck_assert(!metrics_health_ok(&h, 2001));
	metrics_health_note(&h, false, 2001);
	ck_assert(metrics_health_ok(&h, 2001));
	/* only the last METRICS_HEALTH_N count: a burst of failures long
	 * ago in message terms is pushed out by good ones */
	memset(&h, 0, sizeof(h));
	for (i = 0; i < 4; i++)
		metrics_health_note(&h, true, 3000);
	ck_assert(!metrics_health_ok(&h, 3000));
	for (i = 0; i < METRICS_HEALTH_N; i++)
		metrics_health_note(&h, false, 3001);
	ck_assert(metrics_health_ok(&h, 3001));
}
END_TEST

/* the gauges follow the rule, not the last message alone */
START_TEST(test_metrics_one_degraded_message_is_not_unhealthy)
{
	struct engine *e = test_engine("");
	struct metrics *m = metrics_new();
	struct msg *msg;
	struct scan *s;
	char *t;
	int i;

	for (i = 0; i < 3; i++) {
		s = scan_one(e, "192.0.2.1", &msg);
		s->verdict.dns_degraded = i > 0;
		metrics_message(m, s, 1);
		scan_free(&s);
		msg_free(&msg);
		t = render(m);
		ck_assert_double_eq(value(t, "mailwarden_dns_healthy"),
		    i < 2 ? 1 : 0);
		ck_assert_double_eq(value(t, "mailwarden_bayes_healthy"), 1);
		free(t);
	}
	metrics_free(&m);
	engine_unref(e);
}
END_TEST

static const struct {
	const char *name, *req;
	enum http_parse want;
	int status;			/* http_route(), when complete */
} http_cases[] = {
	{ "get", "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", HTTP_COMPLETE,
	  200 },
	{ "head", "HEAD /metrics HTTP/1.0\r\n\r\n", HTTP_COMPLETE, 200 },
	{ "query ignored", "GET /metrics?x=1 HTTP/1.1\r\n\r\n", HTTP_COMPLETE,
	  200 },
	{ "bare LF", "GET /metrics HTTP/1.1\nA: b\n\n", HTTP_COMPLETE, 200 },
	{ "post", "POST /metrics HTTP/1.1\r\n\r\n", HTTP_COMPLETE, 405 },
	{ "other path", "GET / HTTP/1.1\r\n\r\n", HTTP_COMPLETE, 404 },
	{ "traversal", "GET /../../etc/passwd HTTP/1.1\r\n\r\n", HTTP_COMPLETE,
	  404 },
	{ "dot segment", "GET /metrics/../metrics HTTP/1.1\r\n\r\n",
	  HTTP_COMPLETE, 404 },
	{ "case", "GET /METRICS HTTP/1.1\r\n\r\n", HTTP_COMPLETE, 404 },
	{ "incomplete head", "GET /metrics HTTP/1.1\r\nHost: x\r\n",
	  HTTP_INCOMPLETE, 0 },
	{ "partial line", "GET /met", HTTP_INCOMPLETE, 0 },
	{ "absolute form", "GET http://x/metrics HTTP/1.1\r\n\r\n", HTTP_BAD,
	  0 },
	{ "http2", "GET /metrics HTTP/2.0\r\n\r\n", HTTP_BAD, 0 },
	{ "no version", "GET /metrics\r\n\r\n", HTTP_BAD, 0 },
	{ "two spaces", "GET  /metrics HTTP/1.1\r\n\r\n", HTTP_BAD, 0 },
	{ "binary", "\x16\x03\x01\x02\x00", HTTP_BAD, 0 },
	{ "control in target", "GET /me\x01trics HTTP/1.1\r\n\r\n", HTTP_BAD,
	  0 },
	{ "empty line first", "\r\n", HTTP_BAD, 0 },
};

START_TEST(test_http_request_parse)
{
	struct http_request r;
	enum http_parse got = http_request_parse(http_cases[_i].req,
	    strlen(http_cases[_i].req), &r);

	ck_assert_msg(got == http_cases[_i].want, "%s: got %d, want %d",
	    http_cases[_i].name, got, http_cases[_i].want);
	if (got == HTTP_COMPLETE) {
		ck_assert_msg(http_route(&r) == http_cases[_i].status,
		    "%s: got status %d, want %d", http_cases[_i].name,
		    http_route(&r), http_cases[_i].status);
		ck_assert_uint_eq(r.head_len, strlen(http_cases[_i].req));
	}
}
END_TEST

START_TEST(test_http_long_path_is_not_found)
{
	struct http_request r;
	struct buf b = BUF_INIT;
	size_t i;

	buf_adds(&b, "GET /metrics");
	for (i = 0; i < 400; i++)
		buf_addc(&b, 'x');
	buf_adds(&b, " HTTP/1.1\r\n\r\n");
	ck_assert_int_eq(http_request_parse(b.data, b.len, &r), HTTP_COMPLETE);
	ck_assert_str_eq(r.path, "");
	ck_assert_int_eq(http_route(&r), 404);
	buf_release(&b);
}
END_TEST

static void
collect(struct metrics_live *l, void *arg)
{
	l->inflight = *(const long *)arg;
}

/* ask - one request to the server at spec; the whole answer */
static char *
ask(const char *spec, const char *req)
{
	struct buf b = BUF_INIT, why = BUF_INIT;
	char chunk[4096];
	ssize_t n;
	int fd = metrics_connect(spec, &why);

	ck_assert_msg(fd >= 0, "%s", buf_cstr(&why));
	ck_assert_int_eq(send(fd, req, strlen(req), MSG_NOSIGNAL),
	    (ssize_t)strlen(req));
	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
		buf_add(&b, chunk, (size_t)n);
	close(fd);
	buf_release(&why);
	return buf_steal(&b);
}

START_TEST(test_http_server_answers_and_refuses)
{
	struct metrics *m = metrics_new();
	struct metrics_server *srv;
	struct buf why = BUF_INIT, big = BUF_INIT;
	char dir[256], spec[300], *a;
	long inflight = 4;

	test_mkdtemp(dir, sizeof(dir), "check_metrics");
	snprintf(spec, sizeof(spec), "unix:%s/m.sock", dir);
	srv = metrics_server_start(spec, m, collect, &inflight, &why);
	ck_assert_msg(srv != NULL, "%s", buf_cstr(&why));

	a = ask(spec, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
	ck_assert_msg(strncmp(a, "HTTP/1.1 200 OK\r\n", 17) == 0, "%s", a);
	ck_assert_ptr_nonnull(strstr(a, "Content-Type: text/plain; "
	    "version=0.0.4"));
	ck_assert_ptr_nonnull(strstr(a, "\nmailwarden_messages_in_flight 4\n"));
	free(a);
	a = ask(spec, "HEAD /metrics HTTP/1.1\r\n\r\n");
	ck_assert_ptr_null(strstr(a, "mailwarden_messages_total"));
	ck_assert_ptr_nonnull(strstr(a, "HTTP/1.1 200 OK"));
	free(a);
	a = ask(spec, "DELETE /metrics HTTP/1.1\r\n\r\n");
	ck_assert_ptr_nonnull(strstr(a, "HTTP/1.1 405 "));
	ck_assert_ptr_nonnull(strstr(a, "Allow: GET, HEAD\r\n"));
	free(a);
	a = ask(spec, "GET /etc/passwd HTTP/1.1\r\n\r\n");
	ck_assert_ptr_nonnull(strstr(a, "HTTP/1.1 404 "));
	free(a);
	a = ask(spec, "\x16\x03\x01 hello\r\n\r\n");
	ck_assert_ptr_nonnull(strstr(a, "HTTP/1.1 400 "));
	free(a);
	buf_adds(&big, "GET /metrics HTTP/1.1\r\n");
	while (big.len < HTTP_MAX_REQUEST + 100)
		buf_adds(&big, "X-Pad: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n");
	a = ask(spec, buf_cstr(&big));
	ck_assert_msg(a[0] == '\0' || strstr(a, "HTTP/1.1 431 ") != NULL,
	    "%s", a);
	free(a);
	/* the server still answers after all of that */
	a = ask(spec, "GET /metrics HTTP/1.0\r\n\r\n");
	ck_assert_ptr_nonnull(strstr(a, "HTTP/1.1 200 OK"));
	free(a);
	metrics_server_stop(&srv);
	ck_assert_ptr_null(srv);
	ck_assert_int_ne(access(spec + 5, F_OK), 0);	/* socket removed */
	buf_release(&big);
	buf_release(&why);
	test_rmtree(dir);
	metrics_free(&m);
}
END_TEST

/*
 * more idle connections than the server has slots (they send nothing):
 * a real request still gets its answer, the oldest idle ones are the
 * ones pushed out, and the newer ones still hold their slots (the cap)
 */
START_TEST(test_http_idle_crowd_does_not_lock_out_a_scrape)
{
	struct metrics *m = metrics_new();
	struct metrics_server *srv;
	struct buf why = BUF_INIT;
	char dir[256], spec[300], *a, c;
	int idle[HTTP_MAX_CONNS + 4];
	long inflight = 2;
	size_t i, n = sizeof(idle) / sizeof(idle[0]);

	test_mkdtemp(dir, sizeof(dir), "check_metrics");
	snprintf(spec, sizeof(spec), "unix:%s/m.sock", dir);
	srv = metrics_server_start(spec, m, collect, &inflight, &why);
	ck_assert_msg(srv != NULL, "%s", buf_cstr(&why));
	for (i = 0; i < n; i++) {
		idle[i] = metrics_connect(spec, &why);
		ck_assert_msg(idle[i] >= 0, "%s", buf_cstr(&why));
	}
	a = ask(spec, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
	ck_assert_msg(strncmp(a, "HTTP/1.1 200 OK\r\n", 17) == 0, "[%s]", a);
	ck_assert_ptr_nonnull(strstr(a, "\nmailwarden_messages_in_flight 2\n"));
	free(a);
	/* accepted in order: the first n - HTTP_MAX_CONNS + 1 were pushed
	 * out (closed: end of file), the last HTTP_MAX_CONNS - 1 still wait */
	for (i = 0; i < n; i++) {
		ssize_t r = recv(idle[i], &c, 1, MSG_DONTWAIT);

		if (i < n - HTTP_MAX_CONNS + 1)
			ck_assert_msg(r == 0, "idle client %zu not closed", i);
		else
			ck_assert_msg(r < 0, "idle client %zu closed", i);
		close(idle[i]);
	}
	metrics_server_stop(&srv);
	buf_release(&why);
	test_rmtree(dir);
	metrics_free(&m);
}
END_TEST

START_TEST(test_http_server_refuses_a_file_in_the_way)
{
	struct metrics *m = metrics_new();
	struct buf why = BUF_INIT;
	char dir[256], spec[300];
	FILE *f;

	test_mkdtemp(dir, sizeof(dir), "check_metrics");
	snprintf(spec, sizeof(spec), "unix:%s/data", dir);
	ck_assert_ptr_nonnull(f = fopen(spec + 5, "w"));
	fputs("keep me\n", f);
	fclose(f);
	ck_assert_ptr_null(metrics_server_start(spec, m, collect, NULL, &why));
	ck_assert_ptr_nonnull(strstr(buf_cstr(&why), "not a socket"));
	ck_assert_int_eq(access(spec + 5, F_OK), 0);	/* left alone */
	buf_reset(&why);
	ck_assert_ptr_null(metrics_server_start("tcp:80", m, collect, NULL,
	    &why));
	ck_assert_ptr_nonnull(strstr(buf_cstr(&why), "expected inet:"));
	buf_release(&why);
	test_rmtree(dir);
	metrics_free(&m);
}
END_TEST

/* ---- hooks of the checks: DNS lists, Redis, LMDB, failure reports ---- */

/* write_file - text into dir/name; the path into path */
static void
write_file(const char *dir, const char *name, const char *text, char *path,
    size_t cap)
{
	FILE *f;

	snprintf(path, cap, "%s/%s", dir, name);
	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	fputs(text, f);
	fclose(f);
}

/* zone file: 192.0.2.9 listed in zen, an error answer from bad */
static const char bl_zone[] =
    "$ORIGIN zen.example.\n@ SOA ns hostmaster 1 3600 600 86400 60\n"
    "9.2.0.192 A 127.0.0.2\n"
    "$ORIGIN bad.example.\n@ SOA ns hostmaster 1 3600 600 86400 60\n"
    "9.2.0.192 A 10.0.0.1\n"
    "10.2.0.192 A 10.0.0.1\n";

START_TEST(test_metrics_dnsbl_counts_lookups_by_zone)
{
	struct metrics *m = metrics_new();
	char dir[256], path[512], *t;
	struct buf conf = BUF_INIT;
	struct engine *e;
	struct msg *msg;
	struct scan *s;
	const char *ips[] = { "192.0.2.9", "192.0.2.10", "192.0.2.11" };
	size_t i;

	test_mkdtemp(dir, sizeof(dir), "mw-metrics");
	write_file(dir, "bl.zone", bl_zone, path, sizeof(path));
	buf_printf(&conf, "dns_zone_files = %s\nrules_dir =\n"
	    "rules_site_dir =\nspf = no\ndmarc = no\n"
	    "dnsbl = zen.example/127.0.0.2=RBL_ZEN:1 bad.example/*=RBL_BAD:1 "
	    "quiet.example/*=RBL_QUIET:1\n"
	    "dnswl = wl.example/127.0.*.*=RCVD_IN_WL:-1\n", path);
	e = test_engine(conf.data);
	/* the configuration's zones have series before any lookup */
	metrics_engine(m, e);
	t = render(m);
	ck_assert_double_eq(value(t, "mailwarden_dnsbl_lookups_total{list="
	    "\"dnswl\",zone=\"wl.example\"}"), 0);
	ck_assert_double_eq(value(t, "mailwarden_dnsbl_listed_total{list="
	    "\"dnsbl\",zone=\"quiet.example\"}"), 0);
	free(t);
	metrics_set_global(m);
	for (i = 0; i < 3; i++) {
		s = test_scan_text(e, ips[i], "mail.example.org",
		    "a@example.org", "b@example.net", msg_text,
		    sizeof(msg_text) - 1, &msg);
		scan_free(&s);
		msg_free(&msg);
	}
	metrics_set_global(NULL);
	t = render(m);
	ck_assert_double_eq(value(t, "mailwarden_dnsbl_lookups_total{list="
	    "\"dnsbl\",zone=\"zen.example\"}"), 3);
	ck_assert_double_eq(value(t, "mailwarden_dnsbl_listed_total{list="
	    "\"dnsbl\",zone=\"zen.example\"}"), 1);
	ck_assert_double_eq(value(t, "mailwarden_dnsbl_failures_total{list="
	    "\"dnsbl\",zone=\"zen.example\"}"), 0);
	/* an answer outside 127/8 is an error, never a listing */
	ck_assert_double_eq(value(t, "mailwarden_dnsbl_listed_total{list="
	    "\"dnsbl\",zone=\"bad.example\"}"), 0);
	ck_assert_double_eq(value(t, "mailwarden_dnsbl_failures_total{list="
	    "\"dnsbl\",zone=\"bad.example\"}"), 2);
	ck_assert_double_eq(value(t, "mailwarden_dnsbl_lookups_total{list="
	    "\"dnswl\",zone=\"wl.example\"}"), 3);
	ck_assert_double_eq(value(t, "mailwarden_dnsbl_lookups_unlabelled_total"),
	    0);
	free(t);
	engine_unref(e);
	buf_release(&conf);
	test_rmtree(dir);
	metrics_free(&m);
}
END_TEST

START_TEST(test_metrics_dnsbl_zones_are_bounded)
{
	struct metrics *m = metrics_new();
	char zone[64], *t;
	size_t i;

	for (i = 0; i < METRICS_MAX_ZONES + 5; i++) {
		snprintf(zone, sizeof(zone), "z%zu.example", i);
		metrics_dnsbl(m, "uribl", zone, MD_LISTED);
	}
	metrics_dnsbl(m, "uribl", "z0.example", MD_FAILED);
	metrics_dnsbl(NULL, "uribl", "z0.example", MD_FAILED);	/* no-op */
	ck_assert_uint_eq(atomic_load(&m->nzones), METRICS_MAX_ZONES);
	t = render(m);
	ck_assert_double_eq(value(t, "mailwarden_dnsbl_lookups_total{list="
	    "\"uribl\",zone=\"z0.example\"}"), 2);
	ck_assert_double_eq(value(t, "mailwarden_dnsbl_listed_total{list="
	    "\"uribl\",zone=\"z0.example\"}"), 1);
	ck_assert_double_eq(value(t, "mailwarden_dnsbl_failures_total{list="
	    "\"uribl\",zone=\"z0.example\"}"), 1);
	ck_assert_double_eq(value(t, "mailwarden_dnsbl_lookups_unlabelled_total"),
	    5);
	free(t);
	metrics_free(&m);
}
END_TEST

START_TEST(test_metrics_redis_errors_and_reconnects)
{
	struct bayes_store_opts o = BAYES_STORE_OPTS_DEFAULT;
	struct metrics *m = metrics_new();
	struct redis_server rs;
	struct bayes_store *st;
	struct bayes_counts c[3];
	struct bayes_totals tot;
	struct buf why = BUF_INIT;
	static const uint64_t h[] = { 1, 2, 3 };
	uint64_t map, used;
	char url[64], *t;

	if (redis_server_start(&rs) < 0) {
		fprintf(stderr, "redis-server not installed: skipped\n");
		metrics_free(&m);
		return;
	}
	snprintf(url, sizeof(url), "redis://127.0.0.1:%d/0", rs.port);
	o.timeout_ms = 300;
	o.retry_s = 0;
	ck_assert_int_eq(bayes_store_open(url, &o, &st, &why), BAYES_OK);
	metrics_set_global(m);
	/* the first connection is no reconnect */
	ck_assert_int_eq(bayes_store_lookup(st, h, 3, c, &tot, &why),
	    BAYES_OK);
	ck_assert_uint_eq(m->redis[MR_RECONNECT] + m->redis[MR_ERROR], 0);
	redis_server_kill(&rs);
	ck_assert_int_eq(bayes_store_lookup(st, h, 3, c, &tot, &why),
	    BAYES_ETEMP);
	ck_assert_int_eq(bayes_store_lookup(st, h, 3, c, &tot, &why),
	    BAYES_ETEMP);
	ck_assert_int_eq(redis_server_restart(&rs), 0);
	ck_assert_int_eq(bayes_store_lookup(st, h, 3, c, &tot, &why),
	    BAYES_OK);
	ck_assert_int_eq(bayes_store_lookup(st, h, 3, c, &tot, &why),
	    BAYES_OK);
	metrics_set_global(NULL);
	t = render(m);
	/* one failure per failed call, one reconnect when it came back */
	ck_assert_double_eq(value(t, "mailwarden_bayes_redis_errors_total"), 2);
	ck_assert_double_eq(value(t, "mailwarden_bayes_redis_reconnects_total"),
	    1);
	/* Redis has no map: no LMDB gauges */
	ck_assert_int_eq(bayes_store_usage(st, &map, &used), -1);
	ck_assert_ptr_null(strstr(t, "mailwarden_bayes_lmdb_map_size_bytes "));
	free(t);
	bayes_store_close(&st);
	redis_server_stop(&rs);
	buf_release(&why);
	metrics_free(&m);
}
END_TEST

START_TEST(test_metrics_lmdb_map_size_and_use)
{
	struct bayes_store_opts o = BAYES_STORE_OPTS_DEFAULT;
	struct metrics *m = metrics_new();
	struct bayes_store *st;
	struct bayes_learn_msg lm;
	struct buf why = BUF_INIT, b = BUF_INIT;
	struct metrics_live l;
	uint64_t h[500], map, used0, used1;
	char dir[256], path[512];
	size_t i;

	test_mkdtemp(dir, sizeof(dir), "mw-metrics");
	snprintf(path, sizeof(path), "%s/bayes", dir);
	o.map_size = 1 << 24;
	ck_assert_msg(bayes_store_open(path, &o, &st, &why) == BAYES_OK,
	    "open: %s", buf_cstr(&why));
	ck_assert_int_eq(bayes_store_usage(st, &map, &used0), 0);
	ck_assert_uint_eq(map, 1 << 24);
	ck_assert(used0 > 0 && used0 < map);
	for (i = 0; i < 500; i++)
		h[i] = i * 7919 + 1;
	memset(&lm, 0, sizeof(lm));
	lm.digest[0] = 1;
	lm.cls = BAYES_SPAM;
	lm.op = BAYES_OP_LEARN;
	lm.hashes = h;
	lm.nhashes = 500;
	ck_assert_int_eq(bayes_store_learn(st, &lm, 1, 1000, &why), BAYES_OK);
	ck_assert_int_eq(bayes_store_usage(st, &map, &used1), 0);
	ck_assert_msg(used1 > used0, "%llu -> %llu bytes",
	    (unsigned long long)used0, (unsigned long long)used1);
	/* the scrape shows what the collector read */
	memset(&l, 0, sizeof(l));
	l.threads = -1;
	l.have_lmdb = true;
	l.lmdb_map_bytes = map;
	l.lmdb_used_bytes = used1;
	metrics_render(m, &l, &b);
	ck_assert_double_eq(value(b.data, "mailwarden_bayes_lmdb_map_size_bytes"),
	    16777216);
	ck_assert_double_eq(value(b.data, "mailwarden_bayes_lmdb_used_bytes"),
	    (double)used1);
	buf_release(&b);
	bayes_store_close(&st);
	test_rmtree(dir);
	buf_release(&why);
	metrics_free(&m);
}
END_TEST

/* ruf_scan - one DMARC-failing message of ruf.example through e */
static void
ruf_scan(struct engine *e)
{
	static const char text[] = "From: a@ruf.example\r\nSubject: x\r\n"
	    "\r\nbody\r\n";
	struct msg *msg;
	struct scan *s = test_scan_text(e, "192.0.2.10", "h.example",
	    "bounce@sender.example", "user@rcpt.example", text,
	    sizeof(text) - 1, &msg);

	scan_free(&s);
	msg_free(&msg);
}

/* ruf_engine - DMARC failure reports into dir, at most max an hour */
static struct engine *
ruf_engine(const char *dir, unsigned max, struct fakedns *f)
{
	struct buf conf = BUF_INIT;
	struct engine *e;

	buf_printf(&conf, "dmarc_report_dir = %s\ndmarc_failure_reports = yes\n"
	    "dmarc_report_email = dmarc@receiver.example\n"
	    "dmarc_failure_reports_max = %u\n", dir, max);
	e = test_engine(conf.data);
	dns_resolver_free(e->dns);
	e->dns = fakedns_resolver(f);
	buf_release(&conf);
	return e;
}

/*
 * the policy store: a health gauge labelled with the backend, present
 * only when one is configured; trap clients' messages counted
 */
START_TEST(test_metrics_policy_store_health_and_traps)
{
	struct engine *e = test_engine("policy_store = redis://127.0.0.1:1\n");
	struct engine *none = test_engine("");
	struct metrics *m = metrics_new();
	struct msg *msg;
	struct scan *s;
	char *t;

	metrics_engine(m, e);
	t = render(m);
	ck_assert_double_eq(value(t, "mailwarden_policy_store_healthy{backend="
	    "\"redis\"}"), 1);
	free(t);
	s = scan_one(e, "192.0.2.1", &msg);
	/* one failed call among good ones is no outage (it used to flap) */
	s->pstore_state = -1;
	metrics_message(m, s, 0);
	s->pstore_state = 1;
	metrics_message(m, s, 0);
	metrics_message(m, s, 0);
	t = render(m);
	ck_assert_double_eq(value(t, "mailwarden_policy_store_healthy{backend="
	    "\"redis\"}"), 1);
	free(t);
	verdict_output_declare(&s->verdict, "policy", "{\"trap_client\":"
	    "\"degraded\",\"degraded\":true}");
	s->trap_client = "degraded";
	s->pstore_state = -1;
	metrics_message(m, s, 0);
	s->trap_client = "listed";
	s->pstore_state = 1;
	metrics_message(m, s, 0);
	s->pstore_state = -1;
	metrics_message(m, s, 0);
	scan_free(&s);
	msg_free(&msg);
	t = render(m);
	ck_assert_double_eq(value(t, "mailwarden_policy_store_healthy{backend="
	    "\"redis\"}"), 0);
	ck_assert_double_eq(value(t, "mailwarden_policy_trap_client_total"), 2);
	ck_assert_double_eq(value(t, "mailwarden_policy_degraded_total"), 3);
	free(t);
	metrics_engine(m, none);		/* a reload without a store */
	t = render(m);
	ck_assert_ptr_null(strstr(t, "mailwarden_policy_store_healthy{"));
	free(t);
	metrics_free(&m);
	engine_unref(e);
	engine_unref(none);
}
END_TEST

START_TEST(test_metrics_dmarc_failure_reports)
{
	struct metrics *m = metrics_new();
	struct fakedns *f = fakedns_new();
	char dir[256], bad[256], path[512], *t;
	struct engine *e;

	fakedns_txt(f, "_dmarc.ruf.example", "v=DMARC1; p=reject; "
	    "ruf=mailto:fail@ruf.example");
	test_mkdtemp(dir, sizeof(dir), "mw-metrics");
	test_mkdtemp(bad, sizeof(bad), "mw-metrics");
	/* a file where the spool directory should be: writes fail */
	write_file(bad, "failures", "", path, sizeof(path));
	metrics_set_global(m);
	e = ruf_engine(dir, 2, f);
	ruf_scan(e);
	ruf_scan(e);
	ruf_scan(e);		/* over the cap of 2 an hour */
	engine_unref(e);
	e = ruf_engine(bad, 100, f);
	ruf_scan(e);
	engine_unref(e);
	metrics_set_global(NULL);
	t = render(m);
	ck_assert_double_eq(value(t,
	    "mailwarden_dmarc_failure_reports_spooled_total"), 2);
	ck_assert_double_eq(value(t, "mailwarden_dmarc_failure_reports_dropped_"
	    "total{reason=\"rate_limit\"}"), 1);
	ck_assert_double_eq(value(t, "mailwarden_dmarc_failure_reports_dropped_"
	    "total{reason=\"write_error\"}"), 1);
	free(t);
	fakedns_free(f);
	test_rmtree(dir);
	test_rmtree(bad);
	metrics_free(&m);
}
END_TEST

START_TEST(test_metrics_reference_lists_every_family)
{
	struct metrics *m = metrics_new();
	struct buf ref = BUF_INIT;
	char *t = render(m), *line, *save = NULL, name[128];

	metrics_reference(&ref);
	/* every # TYPE of the exposition has a row in the table */
	for (line = strtok_r(t, "\n", &save); line;
	    line = strtok_r(NULL, "\n", &save)) {
		if (sscanf(line, "# TYPE %127s", name) != 1)
			continue;
		ck_assert_msg(strstr(ref.data, name) != NULL, "%s has no row",
		    name);
	}
	free(t);
	buf_release(&ref);
	metrics_free(&m);
}
END_TEST

static Suite *
metrics_suite(void)
{
	Suite *s = suite_create("metrics");
	TCase *tc = tcase_create("count");

	tcase_add_test(tc, test_metrics_message_counts_the_verdict);
	tcase_add_test(tc, test_metrics_authres_only_known_methods_and_results);
	tcase_add_test(tc, test_metrics_symbols_are_bounded);
	tcase_add_test(tc, test_metrics_label_values_are_escaped);
	tcase_add_test(tc, test_metrics_histogram_is_cumulative);
	tcase_add_test(tc, test_metrics_reload_generation_and_failure);
	tcase_add_test(tc, test_metrics_stats_line_shows_the_difference);
	tcase_add_test(tc, test_metrics_reference_lists_every_family);
	tcase_add_test(tc, test_metrics_ring_finds_the_window);
	tcase_add_test(tc, test_metrics_last_minute_and_hour_rendered);
	tcase_add_test(tc, test_metrics_health_rule);
	tcase_add_test(tc, test_metrics_one_degraded_message_is_not_unhealthy);
	suite_add_tcase(s, tc);
	tc = tcase_create("hooks");
	tcase_add_test(tc, test_metrics_dnsbl_counts_lookups_by_zone);
	tcase_add_test(tc, test_metrics_dnsbl_zones_are_bounded);
	tcase_add_test(tc, test_metrics_redis_errors_and_reconnects);
	tcase_add_test(tc, test_metrics_lmdb_map_size_and_use);
	tcase_add_test(tc, test_metrics_dmarc_failure_reports);
	tcase_add_test(tc, test_metrics_policy_store_health_and_traps);
	tcase_set_timeout(tc, 30);
	suite_add_tcase(s, tc);
	tc = tcase_create("http");
	tcase_add_loop_test(tc, test_http_request_parse, 0,
	    sizeof(http_cases) / sizeof(http_cases[0]));
	tcase_add_test(tc, test_http_long_path_is_not_found);
	tcase_add_test(tc, test_http_server_answers_and_refuses);
	tcase_add_test(tc, test_http_idle_crowd_does_not_lock_out_a_scrape);
	tcase_add_test(tc, test_http_server_refuses_a_file_in_the_way);
	tcase_set_timeout(tc, 30);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(metrics_suite());
}
