/*
 * check_bayes_scan.c - the Bayes step in the scan pipeline: band
 * symbols, the verdict's "bayes" JSON, no score until trained, a store
 * that is down, score overrides and autolearning with its guards
 */
#include "config.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bayes.h"
#include "bayes_learn.h"
#include "bayes_store.h"
#include "buf.h"
#include "helpers.h"
#include "mailbox.h"
#include "redis_server.h"
#include "strmap.h"

static char tmpdir[256];

static void
setup(void)
{
	test_mkdtemp(tmpdir, sizeof(tmpdir), "check_bayes_scan");
}

static void
teardown(void)
{
	test_rmtree(tmpdir);
}

static struct engine *
bayes_engine(const char *extra)
{
	struct buf text = BUF_INIT;
	struct engine *e;

	/* the Bayes step alone: no SPF or DMARC verdicts on test messages */
	buf_printf(&text, "bayes_store = %s/db\nbayes_min_spam = 3\n"
	    "bayes_min_ham = 3\ndmarc = no\nspf = no\n%s", tmpdir, extra);
	e = test_engine(text.data);
	buf_release(&text);
	return e;
}

/* learn - one message text into the engine's store */
static void
learn(struct engine *e, const char *text, enum bayes_class cls)
{
	struct bayes_learn_msg lm;
	struct bayes_toks t;
	struct buf why = BUF_INIT;
	uint64_t *h;
	struct msg *m;
	size_t i;

	m = mailbox_msg(e->conf, text, strlen(text));
	bayes_toks_init(&t, 1000, false);
	bayes_msg_tokens(e->conf, m, NULL, &t);
	h = xcalloc(t.n, sizeof(*h));
	for (i = 0; i < t.n; i++)
		h[i] = t.v[i].hash;
	memset(&lm, 0, sizeof(lm));
	bayes_digest(m, lm.digest);
	lm.cls = cls;
	lm.hashes = h;
	lm.nhashes = t.n;
	ck_assert_int_eq(bayes_store_learn(engine_bayes(e, NULL), &lm, 1,
	    time(NULL), &why), BAYES_OK);
	free(h);
	bayes_toks_release(&t);
	msg_free(&m);
	buf_release(&why);
}

static const char *const spams[] = {
	"Subject: cheap pills\r\n\r\nbuy cheap viagra pills now, best price\r\n",
	"Subject: viagra offer\r\n\r\ncheap viagra, order pills online now\r\n",
	"Subject: best price pills\r\n\r\nviagra cialis cheap, buy now\r\n",
	"Subject: order now\r\n\r\ncheap pills viagra discount order today\r\n",
};

static const char *const hams[] = {
	"Subject: meeting notes\r\n\r\nthe project meeting is on monday, agenda "
	"attached\r\n",
	"Subject: re: agenda\r\n\r\nthanks for the notes, see you at the "
	"meeting\r\n",
	"Subject: project status\r\n\r\nthe build is green, meeting moved to "
	"tuesday\r\n",
	"Subject: lunch\r\n\r\nlunch after the project meeting? notes later\r\n",
};

static void
train_all(struct engine *e)
{
	size_t i;

	for (i = 0; i < 4; i++) {
		learn(e, spams[i], BAYES_SPAM);
		learn(e, hams[i], BAYES_HAM);
	}
}

static struct json_object *
bayes_json(struct scan *s)
{
	struct json_object *j = json_tokener_parse(verdict_output(&s->verdict, "bayes")->data);

	ck_assert_msg(j != NULL, "not JSON: %s", verdict_output(&s->verdict, "bayes")->data);
	return j;
}

static struct scan *
scan_text(struct engine *e, const char *text, struct msg **m)
{
	return test_scan_text(e, "192.0.2.1", "mx.example.net",
	    "a@example.net", "b@example.org", text, strlen(text), m);
}

START_TEST(test_bayes_scan_spam_gets_high_band_and_explains)
{
	struct engine *e = bayes_engine("");
	struct json_object *j, *v, *toks;
	struct buf line = BUF_INIT;
	struct msg *m;
	struct scan *s;

	train_all(e);
	s = scan_text(e, "Subject: cheap viagra\r\n\r\nbuy pills now, cheap "
	    "price\r\n", &m);
	ck_assert_ptr_nonnull(verdict_symbol(&s->verdict, "BAYES_99"));
	ck_assert(verdict_symbol(&s->verdict, "BAYES_99")->score == 5.0);
	ck_assert_int_eq(s->verdict.action, ACTION_TAG);
	j = bayes_json(s);
	ck_assert(json_object_object_get_ex(j, "probability", &v));
	ck_assert(json_object_get_double(v) >= 0.99);
	ck_assert(json_object_object_get_ex(j, "learned", &v));
	ck_assert_int_eq(json_object_get_int(json_object_object_get(v,
	    "spam")), 4);
	ck_assert(json_object_object_get_ex(j, "tokens", &toks));
	ck_assert_int_gt(json_object_array_length(toks), 3);
	v = json_object_array_get_idx(toks, 0);
	ck_assert_ptr_nonnull(json_object_object_get(v, "token"));
	ck_assert(json_object_get_double(json_object_object_get(v, "p")) > 0.9);
	/* the verdict log line carries the same object */
	scan_log_line(s, &line);
	ck_assert_ptr_nonnull(strstr(line.data, "\"bayes\":{\"probability\":"));
	json_object_put(j);
	buf_release(&line);
	scan_free(&s);
	msg_free(&m);
	engine_unref(e);
}
END_TEST

START_TEST(test_bayes_scan_ham_gets_low_band)
{
	struct engine *e = bayes_engine("");
	struct json_object *j;
	struct msg *m;
	struct scan *s;

	train_all(e);
	s = scan_text(e, "Subject: project meeting\r\n\r\nnotes from the "
	    "meeting, agenda for monday\r\n", &m);
	ck_assert_ptr_nonnull(verdict_symbol(&s->verdict, "BAYES_00"));
	ck_assert_int_eq(s->verdict.action, ACTION_ACCEPT);
	j = bayes_json(s);
	ck_assert(json_object_get_double(json_object_object_get(j,
	    "probability")) < 0.05);
	ck_assert_str_eq(json_object_get_string(json_object_object_get(j,
	    "band")), "BAYES_00");
	json_object_put(j);
	scan_free(&s);
	msg_free(&m);
	engine_unref(e);
}
END_TEST

START_TEST(test_bayes_scan_no_evidence_is_unsure_and_neutral)
{
	struct engine *e = bayes_engine("");
	struct msg *m;
	struct scan *s;

	train_all(e);
	/* nothing the store knows either way: exactly 0.5, scores 0 */
	s = scan_text(e, "Subject: zebra\r\n\r\nquantum giraffe "
	    "saxophone\r\n", &m);
	ck_assert_ptr_nonnull(verdict_symbol(&s->verdict, "BAYES_40"));
	ck_assert(verdict_symbol(&s->verdict, "BAYES_40")->score == 0);
	ck_assert_ptr_nonnull(strstr(verdict_output(&s->verdict, "bayes")->data,
	    "\"probability\":0.500000,"));
	ck_assert_ptr_nonnull(strstr(verdict_output(&s->verdict, "bayes")->data,
	    "\"nclues\":0,"));
	scan_free(&s);
	msg_free(&m);
	engine_unref(e);
}
END_TEST

START_TEST(test_bayes_scan_no_score_until_trained)
{
	struct engine *e = bayes_engine("bayes_min_spam = 5\n");
	struct json_object *j, *v;
	struct msg *m;
	struct scan *s;
	size_t i;

	train_all(e);		/* 4 spam: one short of 5 */
	s = scan_text(e, spams[0], &m);
	for (i = 0; i < s->verdict.nsyms; i++)
		ck_assert_msg(strcmp(s->verdict.syms[i].name,
		    "BAYES_UNTRAINED") == 0 ||
		    strncmp(s->verdict.syms[i].name, "BAYES_", 6) != 0,
		    "band symbol %s while untrained", s->verdict.syms[i].name);
	ck_assert(verdict_symbol(&s->verdict, "BAYES_UNTRAINED")->score == 0);
	ck_assert_ptr_nonnull(strstr(verdict_symbol(&s->verdict,
	    "BAYES_UNTRAINED")->detail, "learned 4 spam and 4 ham, needs 5"));
	j = bayes_json(s);
	ck_assert(json_object_object_get_ex(j, "probability", &v));
	ck_assert_ptr_null(v);
	ck_assert_str_eq(json_object_get_string(json_object_object_get(j,
	    "skipped")), "untrained");
	json_object_put(j);
	scan_free(&s);
	msg_free(&m);
	engine_unref(e);
}
END_TEST

/* rules_dir with one file of four-column scores, as a fit writes them */
static void
write_set_rules(void)
{
	struct buf p = BUF_INIT;
	FILE *f;

	buf_printf(&p, "%s/rules", tmpdir);
	ck_assert_int_eq(mkdir(p.data, 0700), 0);
	buf_adds(&p, "/90_scores.cf");
	ck_assert_ptr_nonnull(f = fopen(p.data, "w"));
	fputs("body  T_VIAGRA /viagra/\n"
	    "score T_VIAGRA 1.25 1.5 0.5 0.75\n"
	    "body  T_CHEAP  /cheap/\n"
	    "score T_CHEAP  2 2 0 0\n"
	    "body  T_GIRAFFE /giraffe/\n"
	    "score T_GIRAFFE 3 3 1 1\n"
	    "score BAYES_99 0 0 6.5 7\n", f);
	ck_assert_int_eq(fclose(f), 0);
	buf_release(&p);
}

static double
sym_score(struct scan *s, const char *name)
{
	const struct symbol *y = verdict_symbol(&s->verdict, name);

	ck_assert_msg(y != NULL, "no symbol %s", name);
	return y->score;
}

START_TEST(test_bayes_scan_auto_score_set)
{
	/* auto: the no-Bayes columns until the store can classify, then
	 * the Bayes columns; a rule the set scores 0 is not reported */
	struct buf extra = BUF_INIT;
	struct engine *e;
	struct msg *m;
	struct scan *s;

	write_set_rules();
	buf_printf(&extra, "rules_dir = %s/rules\nrules_site_dir =\n", tmpdir);
	e = bayes_engine(extra.data);
	ck_assert_uint_eq(e->score_set, 2);
	s = scan_text(e, spams[1], &m);		/* untrained */
	ck_assert_int_eq(s->verdict.score_set, 0);
	ck_assert(sym_score(s, "T_VIAGRA") == 1.25);
	ck_assert(sym_score(s, "T_CHEAP") == 2);
	ck_assert(s->verdict.score == 3.25);
	scan_free(&s);
	msg_free(&m);
	train_all(e);
	s = scan_text(e, spams[1], &m);
	ck_assert_int_eq(s->verdict.score_set, 2);
	ck_assert(sym_score(s, "T_VIAGRA") == 0.5);
	ck_assert(sym_score(s, "BAYES_99") == 6.5);
	ck_assert_ptr_null(verdict_symbol(&s->verdict, "T_CHEAP"));
	ck_assert(s->verdict.score == 7);
	scan_free(&s);
	msg_free(&m);
	/* unsure (BAYES_40, nothing known): the rules decide, with the
	 * no-Bayes columns */
	s = scan_text(e, "Subject: zebra\r\n\r\nquantum giraffe "
	    "saxophone\r\n", &m);
	ck_assert_ptr_nonnull(verdict_symbol(&s->verdict, "BAYES_40"));
	ck_assert_int_eq(s->verdict.score_set, 0);
	ck_assert(sym_score(s, "T_GIRAFFE") == 3);
	ck_assert(s->verdict.score == 3);
	scan_free(&s);
	msg_free(&m);
	/* ... and a message Bayes is sure about gets the Bayes columns */
	s = scan_text(e, "Subject: cheap viagra\r\n\r\nbuy cheap viagra "
	    "pills now, giraffe\r\n", &m);
	ck_assert_ptr_null(verdict_symbol(&s->verdict, "BAYES_40"));
	ck_assert_int_eq(s->verdict.score_set, 2);
	ck_assert(sym_score(s, "T_GIRAFFE") == 1);
	scan_free(&s);
	msg_free(&m);
	engine_unref(e);
	/* a fixed set applies whatever Bayes does */
	buf_adds(&extra, "rules_score_set = 1\n");
	e = bayes_engine(extra.data);
	s = scan_text(e, spams[1], &m);
	ck_assert_int_eq(s->verdict.score_set, 1);
	ck_assert(sym_score(s, "T_VIAGRA") == 1.5);
	ck_assert(sym_score(s, "BAYES_99") == 0);
	scan_free(&s);
	msg_free(&m);
	engine_unref(e);
	buf_release(&extra);
}
END_TEST

START_TEST(test_bayes_scan_band_score_overridable)
{
	struct engine *e = bayes_engine("");
	static double big[4] = { 7.5, 7.5, 7.5, 7.5 };	/* score sets */
	struct msg *m;
	struct scan *s;

	train_all(e);
	strmap_put(e->scores, "BAYES_99", big);
	s = scan_text(e, spams[1], &m);
	ck_assert(verdict_symbol(&s->verdict, "BAYES_99")->score == 7.5);
	strmap_put(e->scores, "BAYES_99", NULL);
	scan_free(&s);
	msg_free(&m);
	engine_unref(e);
}
END_TEST

START_TEST(test_bayes_scan_off_without_store)
{
	struct engine *e = test_engine("dmarc = no\nspf = no\n");
	struct msg *m;
	struct scan *s = scan_text(e, spams[0], &m);

	ck_assert_ptr_null(engine_bayes(e, NULL));
	ck_assert_str_eq(verdict_output(&s->verdict, "bayes")->data, "{\"probability\":null}");
	scan_free(&s);
	msg_free(&m);
	engine_unref(e);
}
END_TEST

/*
 * Redis that accepts connections and never answers: the message still
 * gets its verdict, after one timeout, with Bayes marked degraded; the
 * next message does not wait at all.
 */
START_TEST(test_bayes_scan_redis_down_degrades_within_timeout)
{
	struct buf conf = BUF_INIT;
	struct json_object *j;
	struct engine *e;
	struct msg *m;
	struct scan *s;
	double t0, dt;
	int fd, port;
	size_t i;

	fd = silent_listener(&port);
	buf_printf(&conf, "bayes_store = redis://127.0.0.1:%d/0\n"
	    "bayes_redis_timeout = 200\nbayes_redis_retry = 30\n"
	    "dmarc = no\nspf = no\n", port);
	e = test_engine(conf.data);
	t0 = mono_s();
	s = scan_text(e, spams[0], &m);
	dt = mono_s() - t0;
	ck_assert_msg(dt < 1.0, "scan took %.3f s", dt);
	for (i = 0; i < s->verdict.nsyms; i++)
		ck_assert(strncmp(s->verdict.syms[i].name, "BAYES_", 6) != 0);
	ck_assert_int_eq(s->verdict.action, ACTION_ACCEPT);
	j = bayes_json(s);
	ck_assert(json_object_get_boolean(json_object_object_get(j,
	    "degraded")));
	ck_assert_str_eq(json_object_get_string(json_object_object_get(j,
	    "store")), "redis");
	json_object_put(j);
	scan_free(&s);
	msg_free(&m);
	/* within bayes_redis_retry: no second wait */
	t0 = mono_s();
	s = scan_text(e, spams[1], &m);
	ck_assert(mono_s() - t0 < 0.1);
	ck_assert_ptr_nonnull(strstr(verdict_output(&s->verdict, "bayes")->data,
	    "\"degraded\":true"));
	scan_free(&s);
	msg_free(&m);
	engine_unref(e);
	close(fd);
	buf_release(&conf);
}
END_TEST

static uint64_t
learned_spam(struct engine *e)
{
	struct bayes_totals t;
	struct bayes_counts c;
	uint64_t h = 0;
	struct buf why = BUF_INIT;

	ck_assert_int_eq(bayes_store_lookup(engine_bayes(e, NULL), &h, 1, &c,
	    &t, &why), BAYES_OK);
	buf_release(&why);
	return t.nspam;
}

static struct scan *
scan_from(struct engine *e, const char *from, const char *text, struct msg **m)
{
	return test_scan_text(e, "192.0.2.1", "x", from, "b@example.org", text,
	    strlen(text), m);
}

START_TEST(test_bayes_scan_autolearns_clear_spam_once)
{
	static const char a[] = "Subject: new offer\r\n\r\nsomething "
	    "different\r\n";
	static const char b[] = "Subject: another\r\n\r\nyet more\r\n";
	struct engine *e;
	struct buf conf = BUF_INIT;
	struct msg *m;
	struct scan *s;
	char list[400];
	FILE *f;

	/* the sender list scores 20: far beyond bayes_autolearn_spam */
	snprintf(list, sizeof(list), "%s/senders", tmpdir);
	f = fopen(list, "w");
	fprintf(f, "spammer@bad.example SCORE 20\n");
	fclose(f);
	buf_printf(&conf, "bayes_autolearn = yes\nsender_list = %s\n"
	    "bayes_autolearn_rate = 2\n", list);
	e = bayes_engine(conf.data);
	train_all(e);
	s = scan_from(e, "spammer@bad.example", a, &m);
	ck_assert_ptr_nonnull(strstr(verdict_output(&s->verdict, "bayes")->data,
	    "\"autolearn\":\"spam\""));
	scan_free(&s);
	msg_free(&m);
	bayes_learner_flush(e->autolearn);
	ck_assert_uint_eq(learned_spam(e), 5);

	/* the same message again: submitted, but the digest is known */
	s = scan_from(e, "spammer@bad.example", a, &m);
	scan_free(&s);
	msg_free(&m);
	bayes_learner_flush(e->autolearn);
	ck_assert_uint_eq(learned_spam(e), 5);

	/* a third one exceeds the hourly allowance of 2 */
	s = scan_from(e, "spammer@bad.example", b, &m);
	ck_assert_ptr_nonnull(strstr(verdict_output(&s->verdict, "bayes")->data,
	    "hourly autolearn allowance used"));
	scan_free(&s);
	msg_free(&m);
	bayes_learner_flush(e->autolearn);
	ck_assert_uint_eq(learned_spam(e), 5);
	buf_release(&conf);
	engine_unref(e);
}
END_TEST

START_TEST(test_bayes_scan_autolearn_guards)
{
	struct engine *e = bayes_engine("bayes_autolearn = yes\n");
	struct engine *e2;
	struct msg *m;
	struct scan *s;

	train_all(e);
	/* score 0, but nothing authenticated the sender: not ham */
	s = scan_text(e, hams[0], &m);
	ck_assert_ptr_nonnull(strstr(verdict_output(&s->verdict, "bayes")->data,
	    "\"autolearn\":\"no\",\"autolearn_why\":\"ham score but sender "
	    "not authenticated\""));
	scan_free(&s);
	msg_free(&m);
	engine_unref(e);
	/* autolearn off by default: no autolearn key at all */
	e2 = bayes_engine("");
	s = scan_text(e2, hams[0], &m);
	ck_assert_ptr_null(strstr(verdict_output(&s->verdict, "bayes")->data, "autolearn"));
	ck_assert_ptr_null(e2->autolearn);
	scan_free(&s);
	msg_free(&m);
	engine_unref(e2);
}
END_TEST

START_TEST(test_bayes_scan_store_opened_on_first_use)
{
	struct engine *e = bayes_engine("");
	struct buf dir = BUF_INIT;
	struct msg *m;
	struct scan *s;

	/* the daemon forks and drops privileges after loading: no files yet */
	buf_printf(&dir, "%s/db", tmpdir);
	ck_assert_int_ne(access(dir.data, F_OK), 0);
	s = scan_text(e, spams[0], &m);
	ck_assert_int_eq(access(dir.data, F_OK), 0);
	ck_assert_ptr_nonnull(strstr(verdict_output(&s->verdict, "bayes")->data,
	    "\"skipped\":\"untrained\""));
	scan_free(&s);
	msg_free(&m);
	buf_release(&dir);
	engine_unref(e);
}
END_TEST

static const struct {
	const char *name;
	const char *store;		/* %s: the test directory */
	const char *why;
} bad_stores[] = {
	{ "parent missing", "%s/no/such/db", "no such directory" },
	{ "a plain file", "%s/file", "not a directory" },
};

START_TEST(test_bayes_engine_rejects_impossible_store)
{
	struct buf text = BUF_INIT, path = BUF_INIT, why = BUF_INIT;
	struct engine *e;
	struct conf *c;
	FILE *f;

	buf_printf(&path, "%s/file", tmpdir);
	f = fopen(path.data, "w");
	fclose(f);
	buf_adds(&text, TEST_HERMETIC_CONF "bayes_store = ");
	buf_printf(&text, bad_stores[_i].store, tmpdir);
	buf_addc(&text, '\n');
	ck_assert_int_eq(conf_parse(text.data, text.len, "t.conf", &c, &why),
	    0);
	ck_assert_int_eq(engine_new(c, &e, &why), -1);
	ck_assert_msg(strstr(buf_cstr(&why), bad_stores[_i].why) != NULL,
	    "%s: %s", bad_stores[_i].name, buf_cstr(&why));
	buf_release(&text);
	buf_release(&path);
	buf_release(&why);
}
END_TEST

START_TEST(test_bayes_scan_unopenable_store_degrades)
{
	struct engine *e = bayes_engine("");
	struct buf p = BUF_INIT;
	struct msg *m;
	struct scan *s;
	FILE *f;

	/* a directory whose data file is not LMDB */
	buf_printf(&p, "%s/db", tmpdir);
	ck_assert_int_eq(mkdir(p.data, 0700), 0);
	buf_adds(&p, "/data.mdb");
	f = fopen(p.data, "w");
	fprintf(f, "%0*d", 8192, 0);
	fclose(f);
	s = scan_text(e, spams[0], &m);
	ck_assert_ptr_nonnull(strstr(verdict_output(&s->verdict, "bayes")->data,
	    "\"degraded\":true"));
	ck_assert_ptr_nonnull(strstr(verdict_output(&s->verdict, "bayes")->data,
	    "cannot be opened"));
	ck_assert_int_eq(s->verdict.action, ACTION_ACCEPT);
	scan_free(&s);
	msg_free(&m);
	buf_release(&p);
	engine_unref(e);
}
END_TEST

static Suite *
bayes_scan_suite(void)
{
	Suite *s = suite_create("bayes_scan");
	TCase *tc = tcase_create("step");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_bayes_scan_spam_gets_high_band_and_explains);
	tcase_add_test(tc, test_bayes_scan_ham_gets_low_band);
	tcase_add_test(tc, test_bayes_scan_no_evidence_is_unsure_and_neutral);
	tcase_add_test(tc, test_bayes_scan_no_score_until_trained);
	tcase_add_test(tc, test_bayes_scan_band_score_overridable);
	tcase_add_test(tc, test_bayes_scan_off_without_store);
	tcase_add_test(tc, test_bayes_scan_redis_down_degrades_within_timeout);
	tcase_add_test(tc, test_bayes_scan_autolearns_clear_spam_once);
	tcase_add_test(tc, test_bayes_scan_autolearn_guards);
	tcase_add_test(tc, test_bayes_scan_auto_score_set);
	tcase_add_test(tc, test_bayes_scan_store_opened_on_first_use);
	tcase_add_loop_test(tc, test_bayes_engine_rejects_impossible_store, 0,
	    sizeof(bad_stores) / sizeof(bad_stores[0]));
	tcase_add_test(tc, test_bayes_scan_unopenable_store_degrades);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(bayes_scan_suite());
}
