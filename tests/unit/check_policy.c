/*
 * check_policy.c - the policy store (LMDB, and Redis against a private
 * redis-server on a random loopback port, skipped when redis-server is
 * not installed), the rate-limit items and their sliding windows, and
 * rate limits and greylisting run on live scans with an injected clock
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "conf.h"
#include "engine.h"
#include "helpers.h"
#include "msg.h"
#include "policy.h"
#include "pstore.h"
#include "redis_server.h"
#include "scan.h"
#include "verdict.h"

static char tmpdir[256];
static char spec[320];
static struct redis_server rs;
static bool have_redis;

static void
setup(void)
{
	test_mkdtemp(tmpdir, sizeof(tmpdir), "check_policy");
	snprintf(spec, sizeof(spec), "%s/pstore", tmpdir);
}

static void
teardown(void)
{
	test_rmtree(tmpdir);
}

/* open_spec - the LMDB store (backend 0) or the test Redis (1) */
static struct pstore *
open_spec(int backend)
{
	struct pstore *s;
	struct buf why = BUF_INIT;
	char url[64];

	if (backend == 1) {
		snprintf(url, sizeof(url), "redis://127.0.0.1:%d/3", rs.port);
		ck_assert_int_eq(redis_server_flush(&rs), 0);
	}
	ck_assert_msg(pstore_open(backend ? url : spec, NULL, &s, &why) ==
	    PSTORE_OK, "%s", buf_cstr(&why));
	buf_release(&why);
	return s;
}

/* the same operations on each backend */
static void
store_round_trip(int backend)
{
	struct pstore *s = open_spec(backend);
	struct buf why = BUF_INIT;
	const char *k[3] = { "r:u:m:60:1:alice", "r:u:m:60:0:alice", "b:x" };
	uint64_t v[3], add[2] = { 2, 5 };
	unsigned ttl[2] = { 120, 0 };
	time_t now = time(NULL);
	bool found;

	ck_assert_int_eq(pstore_get(s, k, 3, now, v, &why), PSTORE_OK);
	ck_assert(v[0] == 0 && v[1] == 0 && v[2] == 0);
	ck_assert_int_eq(pstore_add(s, k, 2, add, ttl, now, &why), PSTORE_OK);
	ck_assert_int_eq(pstore_add(s, k, 2, add, ttl, now, &why), PSTORE_OK);
	ck_assert_int_eq(pstore_get(s, k, 3, now, v, &why), PSTORE_OK);
	ck_assert_uint_eq(v[0], 4);
	ck_assert_uint_eq(v[1], 10);
	ck_assert_uint_eq(v[2], 0);
	ck_assert_int_eq(pstore_set(s, "b:x", 77, 0, now, &why), PSTORE_OK);
	ck_assert_int_eq(pstore_set(s, "b:x", 78, 0, now, &why), PSTORE_OK);
	ck_assert_int_eq(pstore_get(s, k + 2, 1, now, v, &why), PSTORE_OK);
	ck_assert_uint_eq(v[0], 78);
	ck_assert_int_eq(pstore_del(s, "b:x", &found, &why), PSTORE_OK);
	ck_assert(found);
	ck_assert_int_eq(pstore_del(s, "b:x", &found, &why), PSTORE_OK);
	ck_assert(!found);
	ck_assert_int_eq(pstore_get(s, k + 2, 1, now, v, &why), PSTORE_OK);
	ck_assert_uint_eq(v[0], 0);
	buf_release(&why);
	pstore_close(&s);
}

START_TEST(test_lmdb_round_trip)
{
	store_round_trip(0);
}
END_TEST

START_TEST(test_redis_round_trip)
{
	if (!have_redis)
		return;
	store_round_trip(1);
}
END_TEST

struct seen {
	int	 n;
	uint64_t sum;
	bool	 other;
};

static int
count_key(const char *key, uint64_t v, time_t exp, void *arg)
{
	struct seen *x = arg;

	(void)exp;
	if (strncmp(key, "t:", 2) != 0)
		x->other = true;
	x->n++;
	x->sum += v;
	return 0;
}

static void
store_iter_prefix(int backend)
{
	struct pstore *s = open_spec(backend);
	struct buf why = BUF_INIT;
	time_t now = time(NULL);
	struct seen x = { 0, 0, false };

	ck_assert_int_eq(pstore_set(s, "t:192.0.2.1", 3, 600, now, &why),
	    PSTORE_OK);
	ck_assert_int_eq(pstore_set(s, "t:192.0.2.2", 4, 0, now, &why),
	    PSTORE_OK);
	ck_assert_int_eq(pstore_set(s, "u:z", 100, 0, now, &why), PSTORE_OK);
	ck_assert_int_eq(pstore_set(s, "s:a", 100, 0, now, &why), PSTORE_OK);
	ck_assert_int_eq(pstore_iter(s, "t:", now, count_key, &x, &why),
	    PSTORE_OK);
	ck_assert_int_eq(x.n, 2);
	ck_assert_uint_eq(x.sum, 7);
	ck_assert(!x.other);
	buf_release(&why);
	pstore_close(&s);
}

START_TEST(test_lmdb_iter_prefix)
{
	store_iter_prefix(0);
}
END_TEST

START_TEST(test_redis_iter_prefix)
{
	if (!have_redis)
		return;
	store_iter_prefix(1);
}
END_TEST

/* LMDB expiry is the caller's clock: a value past it reads as absent */
START_TEST(test_lmdb_expiry)
{
	struct pstore *s = open_spec(0);
	struct buf why = BUF_INIT;
	const char *k = "g:abc";
	uint64_t v, one = 5;
	unsigned ttl = 60;
	time_t now = 1800000000;
	struct seen x = { 0, 0, false };

	ck_assert_int_eq(pstore_add(s, &k, 1, &one, &ttl, now, &why),
	    PSTORE_OK);
	ck_assert_int_eq(pstore_get(s, &k, 1, now + 59, &v, &why), PSTORE_OK);
	ck_assert_uint_eq(v, 5);
	ck_assert_int_eq(pstore_get(s, &k, 1, now + 60, &v, &why), PSTORE_OK);
	ck_assert_uint_eq(v, 0);
	/* an expired counter counts from zero again */
	ck_assert_int_eq(pstore_add(s, &k, 1, &one, &ttl, now + 100, &why),
	    PSTORE_OK);
	ck_assert_int_eq(pstore_get(s, &k, 1, now + 100, &v, &why),
	    PSTORE_OK);
	ck_assert_uint_eq(v, 5);
	ck_assert_int_eq(pstore_iter(s, "g:", now + 1000, count_key, &x, &why),
	    PSTORE_OK);
	ck_assert_int_eq(x.n, 0);
	buf_release(&why);
	pstore_close(&s);
}
END_TEST

/* the engines of a reload share one environment (LMDB forbids two) */
START_TEST(test_lmdb_shared_by_spec)
{
	struct pstore *a, *b;
	struct buf why = BUF_INIT;

	ck_assert_int_eq(pstore_open(spec, NULL, &a, &why), PSTORE_OK);
	ck_assert_int_eq(pstore_open(spec, NULL, &b, &why), PSTORE_OK);
	ck_assert_ptr_eq(a, b);
	pstore_close(&a);
	ck_assert_ptr_null(a);
	ck_assert_int_eq(pstore_set(b, "k", 1, 0, time(NULL), &why),
	    PSTORE_OK);
	pstore_close(&b);
	buf_release(&why);
}
END_TEST

START_TEST(test_lmdb_value_decoding)
{
	uint8_t b[PSTORE_LMDB_VAL_LEN];
	uint64_t v;
	time_t exp;

	pstore_lmdb_put(b, 42, 1000);
	ck_assert_int_eq(pstore_lmdb_val(b, sizeof(b), 999, &v, &exp), 0);
	ck_assert_uint_eq(v, 42);
	ck_assert_int_eq(exp, 1000);
	ck_assert_int_eq(pstore_lmdb_val(b, sizeof(b), 1000, &v, &exp), -1);
	ck_assert_uint_eq(v, 0);
	ck_assert_int_eq(pstore_lmdb_val(b, sizeof(b) - 1, 0, &v, &exp), -1);
	pstore_lmdb_put(b, 7, 0);
	ck_assert_int_eq(pstore_lmdb_val(b, sizeof(b), 2000000000, &v, &exp),
	    0);
	ck_assert_uint_eq(v, 7);
}
END_TEST

START_TEST(test_spec_valid)
{
	struct buf why = BUF_INIT;

	ck_assert_int_eq(pstore_spec_valid("", &why), 0);
	ck_assert_int_eq(pstore_spec_valid("/var/lib/x", &why), 0);
	ck_assert_int_eq(pstore_spec_valid("redis://127.0.0.1:6379/2", &why),
	    0);
	ck_assert_int_eq(pstore_spec_valid("relative/dir", &why), -1);
	ck_assert_int_eq(pstore_spec_valid("redis://:x", &why), -1);
	buf_release(&why);
}
END_TEST

/* Redis that refuses connections: ETEMP within the timeout, then at once */
START_TEST(test_redis_down_is_temporary)
{
	struct pstore_opts o = PSTORE_OPTS_DEFAULT;
	struct pstore *s;
	struct buf why = BUF_INIT;
	const char *k = "r:x";
	uint64_t v;
	char url[64];
	int fd, port;

	fd = silent_listener(&port);
	close(fd);
	snprintf(url, sizeof(url), "redis://127.0.0.1:%d", port);
	o.timeout_ms = 200;
	ck_assert_int_eq(pstore_open(url, &o, &s, &why), PSTORE_OK);
	ck_assert_int_eq(pstore_get(s, &k, 1, time(NULL), &v, &why),
	    PSTORE_ETEMP);
	buf_reset(&why);
	ck_assert_int_eq(pstore_set(s, k, 1, 0, time(NULL), &why),
	    PSTORE_ETEMP);
	ck_assert_ptr_nonnull(strstr(buf_cstr(&why), "Redis unavailable"));
	buf_release(&why);
	pstore_close(&s);
}
END_TEST

/* ---------------------------------------------------------------- */

START_TEST(test_item_parse)
{
	struct rl_item it;
	struct buf why = BUF_INIT, t = BUF_INIT;

	ck_assert_int_eq(ratelimit_parse_item("100/1h", &it, &why), 0);
	ck_assert(it.count == 100 && it.window == 3600 && !it.rcpts);
	ck_assert_int_eq(ratelimit_parse_item("rcpt:500/1d", &it, &why), 0);
	ck_assert(it.count == 500 && it.window == 86400 && it.rcpts);
	ck_assert_int_eq(ratelimit_parse_item("3/90", &it, &why), 0);
	ck_assert_uint_eq(it.window, 90);
	ck_assert_int_eq(ratelimit_parse_item("3/5m", &it, &why), 0);
	ck_assert_uint_eq(it.window, 300);
	ratelimit_item_text(&it, &t);
	ck_assert_str_eq(buf_cstr(&t), "3 messages per 5m");
	ck_assert_int_eq(ratelimit_parse_item("0/1h", &it, &why), -1);
	ck_assert_int_eq(ratelimit_parse_item("10/0s", &it, &why), -1);
	ck_assert_int_eq(ratelimit_parse_item("10/367d", &it, &why), -1);
	ck_assert_int_eq(ratelimit_parse_item("10/1w", &it, &why), -1);
	ck_assert_int_eq(ratelimit_parse_item("10", &it, &why), -1);
	ck_assert_int_eq(ratelimit_parse_item("/1h", &it, &why), -1);
	ck_assert_int_eq(ratelimit_parse_item("rcpt:/1h", &it, &why), -1);
	ck_assert_int_eq(ratelimit_parse_item("10/h", &it, &why), -1);
	ck_assert_int_eq(ratelimit_parse_item("-1/1h", &it, &why), -1);
	buf_release(&why);
	buf_release(&t);
}
END_TEST

/* the previous window weighs by the part still inside the sliding one */
START_TEST(test_sliding_estimate)
{
	ck_assert_double_eq_tol(ratelimit_estimate(0, 100, 3600, 7200), 100,
	    1e-9);
	ck_assert_double_eq_tol(ratelimit_estimate(10, 100, 3600, 7200 + 900),
	    85, 1e-9);
	ck_assert_double_eq_tol(ratelimit_estimate(10, 100, 3600,
	    7200 + 3599), 10 + 100.0 / 3600, 1e-9);
	ck_assert_double_eq_tol(ratelimit_estimate(7, 0, 60, 1234), 7, 1e-9);
}
END_TEST

START_TEST(test_conf_checks)
{
	struct conf *c;
	struct buf why = BUF_INIT;
	static const char nostore[] = "greylist = yes\n";
	static const char many[] = "policy_store = /tmp/x\nratelimit_client ="
	    " 1/1s 2/2s 3/3s 4/4s 5/5s 6/6s 7/7s 8/8s 9/9s\n";
	static const char same[] = "policy_store = /tmp/x\n"
	    "bayes_store = /tmp/x\n";
	static const char ok[] = "policy_store = /tmp/x\n"
	    "ratelimit_user = 100/1h rcpt:1000/1d\n";
	static const char badtrap[] = "trap_client_action = drop\n";

	ck_assert_int_eq(conf_parse(nostore, strlen(nostore), "t.conf", &c,
	    &why), -1);
	ck_assert_ptr_nonnull(strstr(buf_cstr(&why), "greylist: needs "
	    "policy_store"));
	buf_reset(&why);
	ck_assert_int_eq(conf_parse(many, strlen(many), "t.conf", &c, &why),
	    -1);
	ck_assert_ptr_nonnull(strstr(buf_cstr(&why), "at most 8"));
	buf_reset(&why);
	ck_assert_int_eq(conf_parse(same, strlen(same), "t.conf", &c, &why),
	    -1);
	ck_assert_ptr_nonnull(strstr(buf_cstr(&why), "bayes_store"));
	buf_reset(&why);
	ck_assert_int_eq(conf_parse(badtrap, strlen(badtrap), "t.conf", &c,
	    &why), -1);
	ck_assert_ptr_nonnull(strstr(buf_cstr(&why), "t.conf:1: "
	    "trap_client_action: bad value 'drop': expected score, "
	    "tempfail or reject"));
	buf_reset(&why);
	ck_assert_int_eq(conf_parse(ok, strlen(ok), "t.conf", &c, &why), 0);
	ck_assert(policy_wanted(c));
	ck_assert_str_eq(c->trap_client_action, "score");
	conf_free(c);
	buf_release(&why);
}
END_TEST

/* a store that cannot be made is an error at load (config -n), with the
   key's file:line, not a daemon that runs degraded for good */
START_TEST(test_store_dir_checked_at_load)
{
	char dir[256], conf[300];
	struct buf text = BUF_INIT, why = BUF_INIT, want = BUF_INIT;
	struct engine *e;
	FILE *f;

	test_mkdtemp(dir, sizeof(dir), "check_policy_load");
	snprintf(conf, sizeof(conf), "%s/mw.conf", dir);
	buf_printf(&text, "rules_dir =\nrules_site_dir =\nscope_dir =\n"
	    "log_file =\npolicy_store = %s/no/pstore\n", dir);
	ck_assert_ptr_nonnull(f = fopen(conf, "w"));
	fputs(buf_cstr(&text), f);
	fclose(f);
	ck_assert_int_eq(engine_load(conf, &e, &why), -1);
	ck_assert_ptr_null(e);
	buf_printf(&want, "%s:5: policy_store: %s/no: no such directory to "
	    "create the store in", conf, dir);
	ck_assert_msg(strstr(buf_cstr(&why), buf_cstr(&want)) != NULL, "%s",
	    buf_cstr(&why));
	/* its parent there: fine, and nothing is made before first use */
	buf_reset(&text);
	buf_printf(&text, "rules_dir =\nrules_site_dir =\nscope_dir =\n"
	    "log_file =\npolicy_store = %s/pstore\n", dir);
	ck_assert_ptr_nonnull(f = fopen(conf, "w"));
	fputs(buf_cstr(&text), f);
	fclose(f);
	buf_reset(&why);
	ck_assert_msg(engine_load(conf, &e, &why) == 0, "%s", buf_cstr(&why));
	buf_reset(&text);
	buf_printf(&text, "%s/pstore", dir);
	ck_assert_int_ne(access(buf_cstr(&text), F_OK), 0);
	engine_unref(e);
	test_rmtree(dir);
	buf_release(&text);
	buf_release(&why);
	buf_release(&want);
}
END_TEST

START_TEST(test_policy_id)
{
	struct buf a = BUF_INIT, b = BUF_INIT;
	char longname[100];

	policy_id("alice@example.org", &a);
	ck_assert_str_eq(buf_cstr(&a), "alice@example.org");
	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	policy_id(longname, &b);
	ck_assert_int_eq(b.data[0], '#');
	ck_assert_uint_eq(b.len, 33);
	buf_reset(&b);
	policy_id("a b", &b);
	ck_assert_int_eq(b.data[0], '#');
	buf_release(&a);
	buf_release(&b);
}
END_TEST

/* ---------------------------------------------------------------- */
/* live scans */

static struct engine *
policy_engine_scopes(const char *scope_dir, const char *extra)
{
	struct buf t = BUF_INIT;
	struct engine *e;

	buf_printf(&t, "rules_dir =\nrules_site_dir =\nscope_dir = %s\n"
	    "log_file =\ntag_score = 100\nreject_score = 200\n"
	    "trust_authenticated = yes\npolicy_store = %s\n%s", scope_dir,
	    spec, extra);
	e = test_engine(buf_cstr(&t));
	buf_release(&t);
	return e;
}

static struct engine *
policy_engine(const char *extra)
{
	return policy_engine_scopes("", extra);
}

/* live_scan - one live scan at now; its action (and the JSON policy) */
static enum action
live_scan(struct engine *e, const char *ip, const char *user,
    const char *from, const char *rcpt1, const char *rcpt2, time_t now,
    struct buf *policy, char *sym, size_t symcap)
{
	struct msg_limits lim;
	struct msg *m;
	struct scan *s;
	enum action a;
	size_t i;

	msg_limits_from_conf(&lim, e->conf);
	m = msg_new(&lim);
	msg_set_client(m, ip, "client.example");
	msg_set_helo(m, "client.example");
	msg_set_sender(m, from);
	msg_set_auth(m, user);
	msg_add_rcpt(m, rcpt1);
	if (rcpt2)
		msg_add_rcpt(m, rcpt2);
	buf_reset(policy);
	buf_printf(policy, " <%s>", from);
	msg_add_header(m, "From", 4, policy->data, policy->len);
	s = scan_begin_at(e, m, now);
	s->live = true;
	scan_end(s);
	a = s->verdict.action;
	buf_reset(policy);
	for (i = 0; i < s->verdict.noutputs; i++)
		if (strcmp(s->verdict.outputs[i].key, "policy") == 0)
			buf_adds(policy, buf_cstr(&s->verdict.outputs[i].json));
	if (sym) {
		sym[0] = '\0';
		for (i = 0; i < s->verdict.nsyms; i++)
			if (strncmp(s->verdict.syms[i].name, "MW_", 3) == 0)
				snprintf(sym, symcap, "%s",
				    s->verdict.syms[i].name);
		if (a == ACTION_TEMPFAIL)
			ck_assert_str_eq(s->verdict.smtp_xcode, "4.7.1");
	}
	scan_free(&s);
	msg_free(&m);
	return a;
}

START_TEST(test_user_limit_trips_and_recovers)
{
	struct engine *e = policy_engine("ratelimit_user = 3/1h\n");
	struct buf p = BUF_INIT;
	char sym[64];
	time_t t0 = 1800000000 - 1800000000 % 3600;	/* a window start */
	int i;

	for (i = 0; i < 3; i++)
		ck_assert_int_eq(live_scan(e, "192.0.2.9", "alice",
		    "alice@example.org", "x@example.net", NULL, t0 + i, &p, sym,
		    sizeof(sym)), ACTION_ACCEPT);
	ck_assert_ptr_nonnull(strstr(buf_cstr(&p), "\"ratelimit\":\"ok\""));
	ck_assert_int_eq(live_scan(e, "192.0.2.9", "alice",
	    "alice@example.org", "x@example.net", NULL, t0 + 10, &p, sym,
	    sizeof(sym)), ACTION_TEMPFAIL);
	ck_assert_str_eq(sym, "MW_RATELIMIT_USER");
	ck_assert_ptr_nonnull(strstr(buf_cstr(&p), "\"limit\":\"user 3 "
	    "messages per 1h\""));
	/* another user is not counted with alice */
	ck_assert_int_eq(live_scan(e, "192.0.2.9", "bob", "bob@example.org",
	    "x@example.net", NULL, t0 + 11, &p, sym, sizeof(sym)),
	    ACTION_ACCEPT);
	/* 3/4 into the next window, a quarter of the 3 still counts */
	ck_assert_int_eq(live_scan(e, "192.0.2.9", "alice",
	    "alice@example.org", "x@example.net", NULL, t0 + 3600 + 2700, &p,
	    sym, sizeof(sym)), ACTION_ACCEPT);
	ck_assert_int_eq(live_scan(e, "192.0.2.9", "alice",
	    "alice@example.org", "x@example.net", NULL, t0 + 3600 + 2701, &p,
	    sym, sizeof(sym)), ACTION_ACCEPT);
	ck_assert_int_eq(live_scan(e, "192.0.2.9", "alice",
	    "alice@example.org", "x@example.net", NULL, t0 + 3600 + 2702, &p,
	    sym, sizeof(sym)), ACTION_TEMPFAIL);
	buf_release(&p);
	engine_unref(e);
}
END_TEST

START_TEST(test_rcpt_limit_and_block)
{
	struct engine *e = policy_engine("ratelimit_sender_domain = "
	    "rcpt:3/1d\nratelimit_user_block = 4/1d\n");
	struct buf p = BUF_INIT;
	struct pstore *st;
	char sym[64];
	time_t t0 = 1800000000;
	bool found;
	int i;

	ck_assert_int_eq(live_scan(e, "192.0.2.9", NULL, "a@Example.ORG",
	    "x@example.net", "y@example.net", t0, &p, sym, sizeof(sym)),
	    ACTION_ACCEPT);
	ck_assert_int_eq(live_scan(e, "192.0.2.8", NULL, "b@example.org",
	    "x@example.net", "y@example.net", t0 + 1, &p, sym, sizeof(sym)),
	    ACTION_TEMPFAIL);
	ck_assert_str_eq(sym, "MW_RATELIMIT_SENDER_DOMAIN");
	ck_assert_int_eq(live_scan(e, "192.0.2.8", NULL, "b@example.org",
	    "x@example.net", NULL, t0 + 2, &p, sym, sizeof(sym)),
	    ACTION_ACCEPT);
	/* hard limit: the fifth message blocks carol until cleared */
	for (i = 0; i < 4; i++)
		ck_assert_int_eq(live_scan(e, "192.0.2.7", "carol",
		    "<>", "x@example.net", NULL, t0 + 10 + i,
		    &p, sym, sizeof(sym)), ACTION_ACCEPT);
	ck_assert_int_eq(live_scan(e, "192.0.2.7", "carol",
	    "<>", "x@example.net", NULL, t0 + 20, &p, sym,
	    sizeof(sym)), ACTION_TEMPFAIL);
	ck_assert_str_eq(sym, "MW_RATELIMIT_BLOCKED");
	/* a week later the counters are gone, the block is not */
	ck_assert_int_eq(live_scan(e, "192.0.2.7", "carol",
	    "<>", "x@example.net", NULL, t0 + 7 * 86400, &p,
	    sym, sizeof(sym)), ACTION_TEMPFAIL);
	ck_assert_ptr_nonnull(strstr(buf_cstr(&p), "\"blocked\""));
	st = engine_pstore(e, &p);
	ck_assert_ptr_nonnull(st);
	ck_assert_int_eq(pstore_del(st, "b:carol", &found, &p), PSTORE_OK);
	ck_assert(found);
	ck_assert_int_eq(live_scan(e, "192.0.2.7", "carol",
	    "<>", "x@example.net", NULL, t0 + 7 * 86400 + 1,
	    &p, sym, sizeof(sym)), ACTION_ACCEPT);
	buf_release(&p);
	engine_unref(e);
}
END_TEST

START_TEST(test_greylist_first_try_then_retry)
{
	struct engine *e = policy_engine("greylist = yes\ngreylist_delay = "
	    "300\ngreylist_allow_after = 2\ntrusted_networks = 10.0.0.0/8\n");
	struct buf p = BUF_INIT;
	char sym[64];
	time_t t0 = 1800000000;

	ck_assert_int_eq(live_scan(e, "192.0.2.10", NULL, "s@example.org",
	    "r@example.net", NULL, t0, &p, sym, sizeof(sym)), ACTION_TEMPFAIL);
	ck_assert_str_eq(sym, "MW_GREYLIST");
	ck_assert_ptr_nonnull(strstr(buf_cstr(&p), "\"greylist\":\"new\""));
	/* too early */
	ck_assert_int_eq(live_scan(e, "192.0.2.10", NULL, "s@example.org",
	    "r@example.net", NULL, t0 + 299, &p, sym, sizeof(sym)),
	    ACTION_TEMPFAIL);
	ck_assert_ptr_nonnull(strstr(buf_cstr(&p), "\"greylist\":\"early\""));
	/* after the delay, from another address of the same /24 */
	ck_assert_int_eq(live_scan(e, "192.0.2.11", NULL, "s@example.org",
	    "r@example.net", NULL, t0 + 300, &p, sym, sizeof(sym)),
	    ACTION_ACCEPT);
	ck_assert_ptr_nonnull(strstr(buf_cstr(&p), "\"greylist\":\"passed\""));
	ck_assert_int_eq(live_scan(e, "192.0.2.10", NULL, "s@example.org",
	    "r@example.net", NULL, t0 + 400, &p, sym, sizeof(sym)),
	    ACTION_ACCEPT);
	ck_assert_ptr_nonnull(strstr(buf_cstr(&p), "\"greylist\":\"known\""));
	/* another recipient: a new triplet */
	ck_assert_int_eq(live_scan(e, "192.0.2.10", NULL, "s@example.org",
	    "r@example.net", "q@example.net", t0 + 500, &p, sym, sizeof(sym)),
	    ACTION_TEMPFAIL);
	ck_assert_int_eq(live_scan(e, "192.0.2.10", NULL, "s@example.org",
	    "r@example.net", "q@example.net", t0 + 900, &p, sym, sizeof(sym)),
	    ACTION_ACCEPT);
	/* two triplets passed: the network is no longer greylisted */
	ck_assert_int_eq(live_scan(e, "192.0.2.12", NULL, "new@example.com",
	    "r@example.net", NULL, t0 + 1000, &p, sym, sizeof(sym)),
	    ACTION_ACCEPT);
	ck_assert_ptr_nonnull(strstr(buf_cstr(&p), "client passed before"));
	/* trusted and authenticated mail is never greylisted */
	ck_assert_int_eq(live_scan(e, "10.1.2.3", NULL, "s@example.org",
	    "z@example.net", NULL, t0, &p, sym, sizeof(sym)), ACTION_ACCEPT);
	ck_assert_int_eq(live_scan(e, "198.51.100.1", "dave",
	    "s@example.org", "z@example.net", NULL, t0, &p, sym, sizeof(sym)),
	    ACTION_ACCEPT);
	ck_assert_ptr_nonnull(strstr(buf_cstr(&p), "\"greylist\":\"trusted\""));
	/* a triplet never retried is forgotten after greylist_expire */
	ck_assert_int_eq(live_scan(e, "203.0.113.5", NULL, "s@example.org",
	    "late@example.net", NULL, t0, &p, sym, sizeof(sym)),
	    ACTION_TEMPFAIL);
	ck_assert_int_eq(live_scan(e, "203.0.113.5", NULL, "s@example.org",
	    "late@example.net", NULL, t0 + 86400 + 10, &p, sym, sizeof(sym)),
	    ACTION_TEMPFAIL);
	ck_assert_ptr_nonnull(strstr(buf_cstr(&p), "\"greylist\":\"new\""));
	buf_release(&p);
	engine_unref(e);
}
END_TEST

/* a greylisted try is not counted against a rate limit */
START_TEST(test_greylisted_try_not_counted)
{
	struct engine *e = policy_engine("greylist = yes\ngreylist_delay = 60\n"
	    "ratelimit_client = 1/1h\n");
	struct buf p = BUF_INIT;
	char sym[64];
	time_t t0 = 1800000000 - 1800000000 % 3600;

	ck_assert_int_eq(live_scan(e, "192.0.2.20", NULL, "s@example.org",
	    "r@example.net", NULL, t0, &p, sym, sizeof(sym)), ACTION_TEMPFAIL);
	ck_assert_str_eq(sym, "MW_GREYLIST");
	ck_assert_int_eq(live_scan(e, "192.0.2.20", NULL, "s@example.org",
	    "r@example.net", NULL, t0 + 60, &p, sym, sizeof(sym)),
	    ACTION_ACCEPT);
	ck_assert_int_eq(live_scan(e, "192.0.2.20", NULL, "s@example.org",
	    "r@example.net", NULL, t0 + 61, &p, sym, sizeof(sym)),
	    ACTION_TEMPFAIL);
	ck_assert_str_eq(sym, "MW_RATELIMIT_CLIENT");
	buf_release(&p);
	engine_unref(e);
}
END_TEST

/* scan (not live) never counts; without the keys, no "policy" value */
START_TEST(test_not_live_and_off)
{
	struct engine *e = policy_engine("ratelimit_client = 1/1h\n");
	struct engine *off = policy_engine("");
	struct msg *m;
	struct scan *s;
	struct buf p = BUF_INIT;
	size_t i;
	static const char text[] = "From: a@example.org\r\nSubject: x\r\n\r\n"
	    "hi\r\n";

	for (i = 0; i < 3; i++) {
		s = test_scan_text(e, "192.0.2.1", "h.example", "a@example.org",
		    "b@example.net", text, sizeof(text) - 1, &m);
		ck_assert_int_eq(s->verdict.action, ACTION_ACCEPT);
		scan_free(&s);
		msg_free(&m);
	}
	ck_assert_int_eq(live_scan(e, "192.0.2.1", NULL, "a@example.org",
	    "b@example.net", NULL, time(NULL), &p, NULL, 0), ACTION_ACCEPT);
	ck_assert_int_eq(live_scan(e, "192.0.2.1", NULL, "a@example.org",
	    "b@example.net", NULL, time(NULL), &p, NULL, 0), ACTION_TEMPFAIL);
	ck_assert_int_eq(live_scan(off, "192.0.2.1", NULL, "a@example.org",
	    "b@example.net", NULL, time(NULL), &p, NULL, 0), ACTION_ACCEPT);
	ck_assert_uint_eq(p.len, 0);
	buf_release(&p);
	engine_unref(e);
	engine_unref(off);
}
END_TEST

/* ---------------------------------------------------------------- */
/* spam-trap clients */

/*
 * trap_engine - a spam-trap scope (trap@example.net), a scope that
 * rejects trap clients (strict@) and one that defers them (slow@)
 */
static struct engine *
trap_engine(const char *extra)
{
	static const char *const files[][2] = {
		{ "05-trap.conf", "recipients = trap@example.net\n"
		  "rcpt_reject = 550 5.1.1 no such user\n" },
		{ "10-strict.conf", "recipients = strict@example.net\n"
		  "trap_client_action = reject\n" },
		{ "20-slow.conf", "recipients = slow@example.net\n"
		  "trap_client_action = tempfail\n" },
	};
	struct buf dir = BUF_INIT, p = BUF_INIT;
	struct engine *e;
	FILE *f;
	size_t i;

	buf_printf(&dir, "%s/scopes", tmpdir);
	ck_assert_int_eq(mkdir(buf_cstr(&dir), 0755), 0);
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		buf_reset(&p);
		buf_printf(&p, "%s/%s", buf_cstr(&dir), files[i][0]);
		ck_assert_ptr_nonnull(f = fopen(buf_cstr(&p), "w"));
		fputs(files[i][1], f);
		ck_assert_int_eq(fclose(f), 0);
	}
	e = policy_engine_scopes(buf_cstr(&dir), extra);
	ck_assert(e->traps);
	buf_release(&dir);
	buf_release(&p);
	return e;
}

/* record_trap - what the milter does for a RCPT to a trap */
static void
record_trap(struct engine *e, const char *ip)
{
	struct msg_limits lim;
	struct msg *m;

	msg_limits_from_conf(&lim, e->conf);
	m = msg_new(&lim);
	msg_set_client(m, ip, "client.example");
	policy_trap_record(e, m);
	msg_free(&m);
}

START_TEST(test_trap_client_scored_deferred_rejected)
{
	struct engine *e = trap_engine("");
	struct buf p = BUF_INIT;
	struct pstore *st;
	struct msg *m;
	struct scan *s;
	char sym[64];
	time_t now = time(NULL);
	bool found;
	static const char text[] = "From: a@example.org\r\nSubject: x\r\n"
	    "\r\nhi\r\n";

	/* not recorded: one read, nothing found */
	ck_assert_int_eq(live_scan(e, "192.0.2.66", NULL, "a@example.org",
	    "x@example.net", NULL, now, &p, sym, sizeof(sym)), ACTION_ACCEPT);
	ck_assert_str_eq(sym, "");
	ck_assert_ptr_nonnull(strstr(buf_cstr(&p), "\"trap_client\":\"no\""));
	ck_assert_ptr_null(strstr(buf_cstr(&p), "degraded"));
	record_trap(e, "192.0.2.66");
	/* recorded: the symbol's score (default action score) */
	ck_assert_int_eq(live_scan(e, "192.0.2.66", NULL, "a@example.org",
	    "x@example.net", NULL, now, &p, sym, sizeof(sym)), ACTION_ACCEPT);
	ck_assert_str_eq(sym, "MW_TRAP_CLIENT");
	ck_assert_ptr_nonnull(strstr(buf_cstr(&p),
	    "\"trap_client\":\"listed\""));
	/* a scope's trap_client_action: reject, tempfail */
	ck_assert_int_eq(live_scan(e, "192.0.2.66", NULL, "a@example.org",
	    "strict@example.net", NULL, now, &p, sym, sizeof(sym)),
	    ACTION_REJECT);
	ck_assert_str_eq(sym, "MW_TRAP_CLIENT");
	ck_assert_int_eq(live_scan(e, "192.0.2.66", NULL, "a@example.org",
	    "slow@example.net", NULL, now, &p, sym, sizeof(sym)),
	    ACTION_TEMPFAIL);
	/* another client, and the same one trusted (authenticated) */
	ck_assert_int_eq(live_scan(e, "192.0.2.67", NULL, "a@example.org",
	    "strict@example.net", NULL, now, &p, sym, sizeof(sym)),
	    ACTION_ACCEPT);
	ck_assert_str_eq(sym, "");
	ck_assert_int_eq(live_scan(e, "192.0.2.66", "alice", "a@example.org",
	    "strict@example.net", NULL, now, &p, sym, sizeof(sym)),
	    ACTION_ACCEPT);
	ck_assert_str_eq(sym, "");
	/* `mailwarden scan` (not live) does not read the store */
	s = test_scan_text(e, "192.0.2.66", "h.example", "a@example.org",
	    "strict@example.net", text, sizeof(text) - 1, &m);
	ck_assert_int_eq(s->verdict.action, ACTION_ACCEPT);
	ck_assert_ptr_null(verdict_symbol(&s->verdict, "MW_TRAP_CLIENT"));
	scan_free(&s);
	msg_free(&m);
	/* the record lasts trap_expire (7 days) */
	ck_assert_int_eq(live_scan(e, "192.0.2.66", NULL, "a@example.org",
	    "strict@example.net", NULL, now + 7 * 86400 + 10, &p, sym,
	    sizeof(sym)), ACTION_ACCEPT);
	/* removed (ratelimit clear trap IP): no longer counted */
	st = engine_pstore(e, &p);
	ck_assert_ptr_nonnull(st);
	ck_assert_int_eq(pstore_del(st, "t:192.0.2.66", &found, &p),
	    PSTORE_OK);
	ck_assert(found);
	ck_assert_int_eq(live_scan(e, "192.0.2.66", NULL, "a@example.org",
	    "strict@example.net", NULL, now, &p, sym, sizeof(sym)),
	    ACTION_ACCEPT);
	buf_release(&p);
	engine_unref(e);
}
END_TEST

/* a store that cannot be reached: accepted, and the log says degraded */
START_TEST(test_store_down_degrades)
{
	struct buf conf = BUF_INIT, p = BUF_INIT;
	struct engine *e;
	int fd, port;

	fd = silent_listener(&port);
	close(fd);
	buf_printf(&conf, "ratelimit_client = 1/1h\ngreylist = yes\n"
	    "policy_store = redis://127.0.0.1:%d\npolicy_redis_timeout = 100\n",
	    port);
	e = policy_engine(buf_cstr(&conf));
	ck_assert_int_eq(live_scan(e, "192.0.2.1", NULL, "a@example.org",
	    "b@example.net", NULL, time(NULL), &p, NULL, 0), ACTION_ACCEPT);
	ck_assert_ptr_nonnull(strstr(buf_cstr(&p), "\"degraded\":true"));
	ck_assert_int_eq(live_scan(e, "192.0.2.1", NULL, "a@example.org",
	    "b@example.net", NULL, time(NULL), &p, NULL, 0), ACTION_ACCEPT);
	engine_unref(e);
	/* the spam-trap client check: skipped too, even to reject */
	buf_adds(&conf, "trap_client_action = reject\n");
	e = trap_engine(buf_cstr(&conf));
	ck_assert_int_eq(live_scan(e, "192.0.2.66", NULL, "a@example.org",
	    "x@example.net", NULL, time(NULL), &p, NULL, 0), ACTION_ACCEPT);
	ck_assert_ptr_nonnull(strstr(buf_cstr(&p),
	    "\"trap_client\":\"degraded\""));
	ck_assert_ptr_nonnull(strstr(buf_cstr(&p), "\"degraded\":true"));
	buf_release(&conf);
	buf_release(&p);
	engine_unref(e);
}
END_TEST

static Suite *
policy_suite(void)
{
	Suite *s = suite_create("policy");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_lmdb_round_trip);
	tcase_add_test(tc, test_redis_round_trip);
	tcase_add_test(tc, test_lmdb_iter_prefix);
	tcase_add_test(tc, test_redis_iter_prefix);
	tcase_add_test(tc, test_lmdb_expiry);
	tcase_add_test(tc, test_lmdb_shared_by_spec);
	tcase_add_test(tc, test_lmdb_value_decoding);
	tcase_add_test(tc, test_spec_valid);
	tcase_add_test(tc, test_redis_down_is_temporary);
	tcase_add_test(tc, test_item_parse);
	tcase_add_test(tc, test_sliding_estimate);
	tcase_add_test(tc, test_conf_checks);
	tcase_add_test(tc, test_store_dir_checked_at_load);
	tcase_add_test(tc, test_policy_id);
	tcase_add_test(tc, test_user_limit_trips_and_recovers);
	tcase_add_test(tc, test_rcpt_limit_and_block);
	tcase_add_test(tc, test_greylist_first_try_then_retry);
	tcase_add_test(tc, test_greylisted_try_not_counted);
	tcase_add_test(tc, test_not_live_and_off);
	tcase_add_test(tc, test_store_down_degrades);
	tcase_add_test(tc, test_trap_client_scored_deferred_rejected);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	int rc;

	if (redis_server_start(&rs) == 0)
		have_redis = true;
	else
		fprintf(stderr, "redis-server %s: Redis tests skipped\n",
		    redis_server_path() ? "would not start" : "not installed");
	rc = run_suite(policy_suite());
	if (have_redis)
		redis_server_stop(&rs);
	return rc;
}
