/*
 * check_whatif.c - `log whatif`: one record re-decided under a new
 * configuration (scores, thresholds, policy actions, trust, score sets),
 * and the aggregate over a synthetic log with known outcomes
 */
#include "config.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "engine.h"
#include "helpers.h"
#include "logread.h"
#include "logreview.h"
#include "str.h"
#include "whatif.h"

/* rec - a verdict log line: client ip, symbols JSON, score, action */
static char *
rec(const char *qid, const char *ip, const char *syms, double score,
    const char *action, const char *extra)
{
	return xasprintf("{\"time\":\"2026-11-18T10:00:00Z\",\"queue_id\":"
	    "\"%s\",\"client\":{\"ip\":\"%s\",\"name\":null},\"auth\":null,"
	    "\"mail_from\":\"a@example.org\",\"from\":\"A <a@example.org>\","
	    "\"subject\":\"s %s\",\"bayes\":{\"probability\":null},"
	    "\"symbols\":[%s],\"scored\":true,\"score\":%g,\"thresholds\":"
	    "{\"tag\":5.0,\"reject\":15.0},\"action\":\"%s\"%s%s,\"v\":1}",
	    qid, ip, qid, syms, score, action, extra ? "," : "",
	    extra ? extra : "");
}

/* decide_one - the outcome of one line under conf text */
static void
decide_one(const char *conf, const char *line, struct whatif_result *res)
{
	struct engine *e = test_engine(conf);
	struct whatif *w = whatif_new(e, "new.conf", 0);
	struct logread *r = logread_open_mem(line, strlen(line), "t", 1);
	const struct logline *l;
	struct logrec lr;

	ck_assert_msg(logread_next(r, &l) == 1, "the line does not parse: %s",
	    line);
	logrec_from(&lr, l);
	whatif_rescore(w, &lr, res);
	/* names in res borrow from the record: keep only what we check */
	res->nsyms = 0;
	logread_free(&r);
	whatif_free(&w);
	engine_unref(e);
}

#define S(n, v)	"{\"name\":\"" n "\",\"score\":" #v "}"

static const struct {
	const char *name;
	const char *conf;
	const char *syms;
	double	 score;
	const char *action, *extra;
	const char *ip;
	enum whatif_status status;
	enum lr_action want;
	double	 want_score;
	const char *forced_by;
} cases[] = {
	{ "same configuration: same action", "",
	  S("SPF_SOFTFAIL", 1.0) "," S("DKIM_VALID", -0.2), 0.8, "accept", NULL,
	  "192.0.2.1", WHATIF_RESCORED, LR_ACCEPT, 0.8, "" },
	{ "a raised built-in score tags", "symbol_scores = SPF_SOFTFAIL=6\n",
	  S("SPF_SOFTFAIL", 1.0) "," S("DKIM_VALID", -0.2), 0.8, "accept", NULL,
	  "192.0.2.1", WHATIF_RESCORED, LR_TAG, 5.8, "" },
	{ "a lower tag_score tags", "tag_score = 0.5\n",
	  S("SPF_SOFTFAIL", 1.0) "," S("DKIM_VALID", -0.2), 0.8, "accept", NULL,
	  "192.0.2.1", WHATIF_RESCORED, LR_TAG, 0.8, "" },
	{ "a higher reject_score lets a reject through as tag",
	  "reject_score = 30\nsymbol_scores = SPF_SOFTFAIL=20\n",
	  S("SPF_SOFTFAIL", 20.0), 20, "reject", NULL, "192.0.2.1",
	  WHATIF_RESCORED, LR_TAG, 20, "" },
	{ "spf_fail_action = reject forces a reject",
	  "spf_fail_action = reject\n", S("SPF_FAIL", 3.0), 3, "accept",
	  NULL, "192.0.2.1", WHATIF_RESCORED, LR_REJECT, 3, "SPF_FAIL" },
	{ "spf_fail_action = tag sets a floor", "spf_fail_action = tag\n",
	  S("SPF_FAIL", 3.0), 3, "accept", NULL, "192.0.2.1",
	  WHATIF_RESCORED, LR_TAG, 3, "SPF_FAIL" },
	{ "spf_fail_action = none lifts a logged forced reject", "",
	  S("SPF_FAIL", 3.0), 3, "reject", "\"forced_by\":\"SPF_FAIL\"",
	  "192.0.2.1", WHATIF_RESCORED, LR_ACCEPT, 3, "" },
	{ "DMARC_REJECT stays forced", "", S("DMARC_REJECT", 5.0), 5, "reject",
	  "\"forced_by\":\"DMARC_REJECT\"", "192.0.2.1", WHATIF_RESCORED,
	  LR_REJECT, 5, "DMARC_REJECT" },
	{ "dmarc_never_reject makes DMARC_REJECT a quarantine",
	  "dmarc_never_reject = yes\nsymbol_scores = DMARC_QUARANTINE=4\n",
	  S("DMARC_REJECT", 5.0), 5, "reject", "\"forced_by\":\"DMARC_REJECT\"",
	  "192.0.2.1", WHATIF_RESCORED, LR_ACCEPT, 4, "" },
	{ "dmarc_temperror_action = tempfail forces tempfail",
	  "dmarc_temperror_action = tempfail\n", S("DMARC_TEMPERROR", 0.0), 0,
	  "accept", NULL, "192.0.2.1", WHATIF_RESCORED, LR_TEMPFAIL, 0,
	  "DMARC_TEMPERROR" },
	{ "a DNS list :reject entry forces a reject",
	  "dnsbl = bl.example/127.0.0.2=RBL_T:2:reject\n", S("RBL_T", 2.0), 2,
	  "accept", NULL, "192.0.2.1", WHATIF_RESCORED, LR_REJECT, 2, "RBL_T" },
	{ "a DNS list entry's new score", "dnsbl = bl.example/127.0.0.2=RBL_T:9\n",
	  S("RBL_T", 2.0), 2, "accept", NULL, "192.0.2.1", WHATIF_RESCORED,
	  LR_TAG, 9, "" },
	{ "dmarc = no: DMARC symbols and their policy go", "dmarc = no\n",
	  S("DMARC_REJECT", 5.0) "," S("SPF_SOFTFAIL", 1.0), 6, "reject",
	  "\"forced_by\":\"DMARC_REJECT\"", "192.0.2.1", WHATIF_RESCORED,
	  LR_ACCEPT, 1, "" },
	{ "no bayes_store: BAYES_* go", "rules_score_set = 2\n",
	  S("BAYES_99", 5.0) "," S("SPF_SOFTFAIL", 1.0), 6, "tag", NULL,
	  "192.0.2.1", WHATIF_RESCORED, LR_ACCEPT, 1, "" },
	{ "a symbol nothing emits any more is dropped", "",
	  S("RBL_GONE", 6.0) "," S("SPF_SOFTFAIL", 1.0), 7, "tag", NULL,
	  "192.0.2.1", WHATIF_RESCORED, LR_ACCEPT, 1, "" },
	{ "a local list block stays forced, its score kept", "",
	  S("LIST_CLIENT_BLOCK", 0.0), 0, "reject",
	  "\"forced_by\":\"LIST_CLIENT_BLOCK\"", "192.0.2.1", WHATIF_RESCORED,
	  LR_REJECT, 0, "LIST_CLIENT_BLOCK" },
	{ "a local list score entry keeps its logged score",
	  "symbol_scores = LIST_CLIENT_BLOCK=1\n", S("LIST_CLIENT_BLOCK", 7.0),
	  7, "tag", NULL, "192.0.2.1", WHATIF_RESCORED, LR_TAG, 7, "" },
	{ "a source trusted now is accepted unscored",
	  "trusted_networks = 192.0.2.0/24\n", S("SPF_SOFTFAIL", 20.0), 20,
	  "reject", NULL, "192.0.2.1", WHATIF_TRUSTED, LR_ACCEPT, 0, "" },
	{ "logged unscored, scored now: not derivable, action kept", "",
	  "", 0, "accept", "\"scored\":false", "192.0.2.1", WHATIF_UNSCORED,
	  LR_ACCEPT, 0, "" },
	/* policy store state (policy.c) is logged data, kept */
	{ "a logged greylisting deferral stays a tempfail", "",
	  S("SPF_SOFTFAIL", 1.0) "," S("MW_GREYLIST", 0.0), 1, "tempfail",
	  "\"forced_by\":\"MW_GREYLIST\"", "192.0.2.1", WHATIF_RESCORED,
	  LR_TEMPFAIL, 1, "MW_GREYLIST" },
	{ "a logged rate limit deferral stays a tempfail", "",
	  S("MW_RATELIMIT_CLIENT", 0.0), 0, "tempfail",
	  "\"forced_by\":\"MW_RATELIMIT_CLIENT\"", "192.0.2.1",
	  WHATIF_RESCORED, LR_TEMPFAIL, 0, "MW_RATELIMIT_CLIENT" },
	{ "a deferred message the new scores reject is rejected",
	  "symbol_scores = SPF_SOFTFAIL=20\n",
	  S("SPF_SOFTFAIL", 1.0) "," S("MW_GREYLIST", 0.0), 1, "tempfail",
	  "\"forced_by\":\"MW_GREYLIST\"", "192.0.2.1", WHATIF_RESCORED,
	  LR_REJECT, 20, "" },
	{ "a trap client stays rejected (trap_client_action = reject)",
	  "trap_client_action = reject\n", S("MW_TRAP_CLIENT", 3.0), 3,
	  "reject", "\"forced_by\":\"MW_TRAP_CLIENT\"", "192.0.2.1",
	  WHATIF_RESCORED, LR_REJECT, 3, "MW_TRAP_CLIENT" },
	{ "trap_client_action = tempfail forces a tempfail",
	  "trap_client_action = tempfail\n", S("MW_TRAP_CLIENT", 3.0), 3,
	  "reject", "\"forced_by\":\"MW_TRAP_CLIENT\"", "192.0.2.1",
	  WHATIF_RESCORED, LR_TEMPFAIL, 3, "MW_TRAP_CLIENT" },
	{ "trap_client_action = score: only its score",
	  "trap_client_action = score\n", S("MW_TRAP_CLIENT", 3.0), 3,
	  "reject", "\"forced_by\":\"MW_TRAP_CLIENT\"", "192.0.2.1",
	  WHATIF_RESCORED, LR_ACCEPT, 3, "" },
	{ "no action logged: skipped", "", S("SPF_SOFTFAIL", 1.0), 1, "bogus",
	  NULL, "192.0.2.1", WHATIF_NO_ACTION, LR_OTHER, 1, "" },
};

START_TEST(test_whatif_rescore_decides_like_the_milter)
{
	struct whatif_result *res = xcalloc(1, sizeof(*res));
	char *line = rec("Q", cases[_i].ip, cases[_i].syms, cases[_i].score,
	    cases[_i].action, cases[_i].extra);

	decide_one(cases[_i].conf, line, res);
	ck_assert_msg(res->status == cases[_i].status, "%s: status %d, want %d",
	    cases[_i].name, res->status, cases[_i].status);
	ck_assert_msg(res->new_action == cases[_i].want, "%s: got %s, want %s",
	    cases[_i].name, lr_action_name(res->new_action),
	    lr_action_name(cases[_i].want));
	ck_assert_msg(res->new_score > cases[_i].want_score - 1e-9 &&
	    res->new_score < cases[_i].want_score + 1e-9,
	    "%s: score %g, want %g", cases[_i].name, res->new_score,
	    cases[_i].want_score);
	ck_assert_msg(strcmp(res->forced_by, cases[_i].forced_by) == 0,
	    "%s: forced by '%s', want '%s'", cases[_i].name, res->forced_by,
	    cases[_i].forced_by);
	free(line);
	free(res);
}
END_TEST

/* the "scored": false record of the table, with its "scored" key once */
START_TEST(test_whatif_unscored_trusted_still_is_derivable)
{
	struct whatif_result *res = xcalloc(1, sizeof(*res));
	char *line = rec("Q", "192.0.2.1", "", 0, "accept", "\"scored\":false");

	decide_one("trusted_networks = 192.0.2.0/24\n", line, res);
	ck_assert_int_eq(res->status, WHATIF_UNSCORED);
	ck_assert(!res->not_derivable);
	free(line);
	decide_one("", line = rec("Q", "192.0.2.1", "", 0, "accept",
	    "\"scored\":false"), res);
	ck_assert(res->not_derivable);
	free(line);
	free(res);
}
END_TEST

/* write_rules - a rules directory holding one file with text */
static void
write_rules(const char *dir, const char *text)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/50_t.cf", dir);
	ck_assert((f = fopen(path, "w")) != NULL);
	fputs(text, f);
	fclose(f);
}

/* rules_score_set: the column of a four-score rule, Bayes or not */
START_TEST(test_whatif_rule_scores_follow_the_score_set)
{
	static const struct {
		const char *set, *bayes;
		double	 want;
	} sets[] = {
		{ "0", "null", 1 }, { "1", "null", 2 }, { "2", "0.9", 3 },
		{ "3", "0.9", 4 },
	};
	struct whatif_result *res = xcalloc(1, sizeof(*res));
	char dir[4096], *conf, *line, *extra;
	size_t i;

	test_mkdtemp(dir, sizeof(dir), "whatif");
	write_rules(dir, "body T_RULE /xyzzy/\nscore T_RULE 1 2 3 4\n"
	    "body T_ZERO /plugh/\nscore T_ZERO 0 0 5 5\n");
	for (i = 0; i < sizeof(sets) / sizeof(sets[0]); i++) {
		conf = xasprintf("rules_dir = %s\nrules_score_set = %s\n", dir,
		    sets[i].set);
		extra = xasprintf("\"bayes\":{\"probability\":%s}",
		    sets[i].bayes);
		line = rec("Q", "192.0.2.1", S("T_RULE", 9.0) "," S("T_ZERO",
		    5.0), 14, "tag", extra);
		decide_one(conf, line, res);
		ck_assert_msg(res->set == (int)i, "set %d, want %zu", res->set,
		    i);
		ck_assert_msg(res->new_score == sets[i].want + (i >= 2 ? 5 : 0),
		    "set %s: score %g", sets[i].set, res->new_score);
		free(conf);
		free(extra);
		free(line);
	}
	test_rmtree(dir);
	free(res);
}
END_TEST

/* auto: the no-Bayes columns for unclassified and unsure (BAYES_40)
 * mail, as the scan picks them */
START_TEST(test_whatif_auto_set_follows_the_bayes_band)
{
	static const struct {
		const char *bayes;
		int	 set;
	} bands[] = {
		{ "{\"probability\":null}", 0 },
		{ "{\"probability\":0.500000,\"band\":\"BAYES_40\"}", 0 },
		{ "{\"probability\":0.950000,\"band\":\"BAYES_95\"}", 2 },
		{ "{\"probability\":0.100000,\"band\":\"BAYES_05\"}", 2 },
	};
	struct whatif_result *res = xcalloc(1, sizeof(*res));
	char dir[4096], *conf, *line, *extra;
	size_t i;

	test_mkdtemp(dir, sizeof(dir), "whatif");
	write_rules(dir, "body T_RULE /xyzzy/\nscore T_RULE 1 2 3 4\n");
	conf = xasprintf("rules_dir = %s\nbayes_store = %s/db\n", dir, dir);
	for (i = 0; i < sizeof(bands) / sizeof(bands[0]); i++) {
		extra = xasprintf("\"bayes\":%s", bands[i].bayes);
		line = rec("Q", "192.0.2.1", S("T_RULE", 9.0), 9, "tag", extra);
		decide_one(conf, line, res);
		ck_assert_msg(res->set == bands[i].set, "%s: set %d, want %d",
		    bands[i].bayes, res->set, bands[i].set);
		free(extra);
		free(line);
	}
	free(conf);
	test_rmtree(dir);
	free(res);
}
END_TEST

/* a synthetic log with known outcomes, through the aggregate */
static const char *
synthetic_log(void)
{
	static struct buf b = BUF_INIT;
	static const struct {
		const char *syms;
		double	 score;
		const char *action;
	} lines[] = {
		{ S("T_RULE", 1.0) "," S("SPF_SOFTFAIL", 1.0), 2, "accept" },
		{ S("T_RULE", 1.0) "," S("SPF_SOFTFAIL", 1.0), 2, "accept" },
		{ S("T_RULE", 1.0), 1, "accept" },
		{ S("T_RULE", 1.0) "," S("T_OTHER", 13.5), 14.5, "tag" },
		{ S("T_OTHER", 6.0), 6, "tag" },
		{ S("SPF_SOFTFAIL", 1.0) "," S("T_DOWN", 5.0), 6, "tag" },
		{ S("SPF_SOFTFAIL", 1.0), 1, "accept" },
	};
	size_t i;
	char *l, q[8];

	if (b.len)
		return buf_cstr(&b);
	for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		snprintf(q, sizeof(q), "Q%zu", i + 1);
		l = rec(q, "192.0.2.1", lines[i].syms, lines[i].score,
		    lines[i].action, NULL);
		buf_adds(&b, l);
		buf_addc(&b, '\n');
		free(l);
	}
	return buf_cstr(&b);
}

/* whatif_over - the aggregate of the synthetic log under rules text */
static struct whatif *
whatif_over(const char *rules, struct engine **ep, char *dir, size_t n)
{
	const char *log = synthetic_log();
	struct logread *r;
	const struct logline *l;
	struct logrec lr;
	struct whatif *w;
	char *conf;

	test_mkdtemp(dir, n, "whatif");
	write_rules(dir, rules);
	conf = xasprintf("rules_dir = %s\nrules_score_set = 0\n", dir);
	*ep = test_engine(conf);
	free(conf);
	w = whatif_new(*ep, "new.conf", 0);
	r = logread_open_mem(log, strlen(log), "synthetic", 10);
	while (logread_next(r, &l)) {
		logrec_from(&lr, l);
		(void)whatif_add(w, &lr);
	}
	ck_assert_int_eq(logread_stats(r)->malformed, 0);
	logread_free(&r);
	return w;
}

/* json_sym - the symbols[] entry of name in a whatif_json() document */
static struct json_object *
json_sym(struct json_object *doc, const char *name)
{
	struct json_object *a = lr_jget(doc, "symbols");
	size_t i, n = a ? json_object_array_length(a) : 0;

	for (i = 0; i < n; i++) {
		const char *v = lr_jstr(json_object_array_get_idx(a, i),
		    "name");

		if (v && strcmp(v, name) == 0)
			return json_object_array_get_idx(a, i);
	}
	return NULL;
}

static uint64_t
jint(struct json_object *o, const char *key)
{
	double d = -1;

	ck_assert_msg(lr_jnum(o, key, &d), "no number %s", key);
	return (uint64_t)d;
}

START_TEST(test_whatif_aggregate_counts_known_outcomes)
{
	struct engine *e;
	char dir[4096];
	struct whatif *w;
	struct buf out = BUF_INIT;
	struct json_object *doc, *s;

	/*
	 * New scores: T_RULE 1 -> 3.5, T_DOWN 5 -> 1, T_OTHER 13.5 (logged
	 * 13.5 in Q4, 6 in Q5), SPF_SOFTFAIL its default 1.  Q1, Q2 2 -> 4.5
	 * and Q3 1 -> 3.5 stay accepted; Q4 14.5 -> 17 tag -> reject (T_RULE
	 * alone does it); Q5 6 -> 13.5 stays tagged; Q6 6 -> 2 tag -> accept
	 * (T_DOWN alone); Q7 unchanged.
	 */
	w = whatif_over("body T_RULE /a/\nscore T_RULE 3.5\n"
	    "body T_OTHER /b/\nscore T_OTHER 13.5\n"
	    "body T_DOWN /c/\nscore T_DOWN 1\n", &e, dir, sizeof(dir));
	ck_assert_int_eq(whatif_messages(w), 7);
	ck_assert_int_eq(whatif_changed(w), 2);
	ck_assert_int_eq(whatif_transition(w, LR_TAG, LR_REJECT), 1);
	ck_assert_int_eq(whatif_transition(w, LR_TAG, LR_ACCEPT), 1);
	ck_assert_int_eq(whatif_transition(w, LR_ACCEPT, LR_ACCEPT), 4);
	whatif_json(w, NULL, 0, 0, &out);
	doc = json_tokener_parse(buf_cstr(&out));
	ck_assert_msg(doc != NULL, "not JSON: %s", buf_cstr(&out));
	ck_assert_msg((s = json_sym(doc, "T_RULE")) != NULL, "%s",
	    buf_cstr(&out));
	ck_assert_int_eq(jint(s, "hits"), 4);
	ck_assert_int_eq(jint(s, "moved_up"), 1);
	ck_assert_int_eq(jint(s, "moved_down"), 0);
	ck_assert_int_eq(jint(s, "alone"), 1);
	ck_assert_msg((s = json_sym(doc, "T_DOWN")) != NULL, "no T_DOWN");
	ck_assert_int_eq(jint(s, "moved_down"), 1);
	ck_assert_int_eq(jint(s, "alone"), 1);
	/* T_OTHER changed in Q5 (6 -> 13.5) without moving it */
	ck_assert_msg((s = json_sym(doc, "T_OTHER")) != NULL, "no T_OTHER");
	ck_assert_int_eq(jint(s, "hits"), 2);
	ck_assert_int_eq(jint(s, "changed"), 1);
	ck_assert_int_eq(jint(s, "moved_up") + jint(s, "moved_down"), 0);
	ck_assert_msg(json_sym(doc, "SPF_SOFTFAIL") == NULL,
	    "an unchanged symbol is listed");
	ck_assert_int_eq(json_object_array_length(lr_jget(doc,
	    "changed_messages")), 2);
	ck_assert_str_eq(lr_jstr(json_object_array_get_idx(lr_jget(doc,
	    "changed_messages"), 0), "queue_id"), "Q4");
	ck_assert_str_eq(lr_jstr(json_object_array_get_idx(lr_jget(doc,
	    "changed_messages"), 1), "new_action"), "accept");
	json_object_put(doc);
	buf_reset(&out);
	whatif_text(w, NULL, 0, 0, &out);
	ck_assert_msg(strstr(buf_cstr(&out), "tag      -> reject            1"),
	    "%s", buf_cstr(&out));
	ck_assert_msg(strstr(buf_cstr(&out), "T_RULE 1->3.5"), "%s",
	    buf_cstr(&out));
	buf_release(&out);
	whatif_free(&w);
	engine_unref(e);
	test_rmtree(dir);
}
END_TEST

/* a hostile subject and symbol name reach neither terminal nor JSON raw */
START_TEST(test_whatif_output_is_escaped)
{
	static const char line[] = "{\"time\":\"2026-11-18T10:00:00Z\","
	    "\"queue_id\":\"Q\\u001b[2J\",\"subject\":\"\\u001b]0;x\\u0007\","
	    "\"symbols\":[{\"name\":\"GONE\\u001b\",\"score\":9}],\"score\":9,"
	    "\"thresholds\":{\"tag\":5,\"reject\":15},\"action\":\"tag\"}\n";
	struct engine *e = test_engine("");
	struct whatif *w = whatif_new(e, "n.conf", 0);
	struct logread *r = logread_open_mem(line, strlen(line), "h", 1);
	const struct logline *l;
	struct logrec lr;
	struct buf out = BUF_INIT;
	struct json_object *doc;

	ck_assert(logread_next(r, &l) == 1);
	logrec_from(&lr, l);
	(void)whatif_add(w, &lr);
	ck_assert_int_eq(whatif_changed(w), 1);
	whatif_text(w, NULL, 0, 0, &out);
	ck_assert_msg(memchr(out.data, 0x1b, out.len) == NULL &&
	    memchr(out.data, 0x07, out.len) == NULL, "control bytes out");
	buf_reset(&out);
	whatif_json(w, NULL, 0, 0, &out);
	ck_assert_msg(memchr(out.data, 0x1b, out.len) == NULL, "raw ESC");
	ck_assert((doc = json_tokener_parse(buf_cstr(&out))) != NULL);
	json_object_put(doc);
	buf_release(&out);
	logread_free(&r);
	whatif_free(&w);
	engine_unref(e);
}
END_TEST

/* one record of a line (the caller frees l->obj through r) */
static void
one_rec(struct logread **r, const char *line, struct logrec *lr)
{
	const struct logline *l;

	*r = logread_open_mem(line, strlen(line), "t", 1);
	ck_assert_msg(logread_next(*r, &l) == 1, "does not parse: %s", line);
	logrec_from(lr, l);
}

/*
 * replay runs no policy step: a stored greylisting deferral or trap
 * client hit is not replayable, not a change; a message without one
 * is still compared
 */
START_TEST(test_whatif_replay_policy_state_is_not_a_change)
{
	static const char *const stored[] = {
		S("SPF_SOFTFAIL", 1.0) "," S("MW_GREYLIST", 0.0),
		S("MW_RATELIMIT_USER", 0.0),
		S("MW_TRAP_CLIENT", 3.0),
	};
	static const char *const action[] = { "tempfail", "tempfail",
	    "reject" };
	struct engine *e = test_engine("");
	struct whatif *w = whatif_new(e, "n.conf", 0);
	struct logread *ro, *rn;
	struct logrec old, now;
	struct buf out = BUF_INIT;
	char *lo, *ln;
	size_t i;

	for (i = 0; i < 3; i++) {
		lo = rec("QP", "192.0.2.1", stored[i], i == 2 ? 3 : 1, action[i],
		    NULL);
		ln = rec("QP", "192.0.2.1", S("SPF_SOFTFAIL", 1.0), 1, "accept",
		    NULL);
		one_rec(&ro, lo, &old);
		one_rec(&rn, ln, &now);
		ck_assert_int_eq(whatif_add_replayed(w, &old, &now)->status,
		    WHATIF_POLICY_STATE);
		logread_free(&ro);
		logread_free(&rn);
		free(lo);
		free(ln);
	}
	/* without policy state a change is still a change */
	lo = rec("QC", "192.0.2.1", S("SPF_SOFTFAIL", 1.0), 1, "tag", NULL);
	ln = rec("QC", "192.0.2.1", S("SPF_SOFTFAIL", 1.0), 1, "accept", NULL);
	one_rec(&ro, lo, &old);
	one_rec(&rn, ln, &now);
	(void)whatif_add_replayed(w, &old, &now);
	logread_free(&ro);
	logread_free(&rn);
	free(lo);
	free(ln);
	ck_assert_int_eq(whatif_messages(w), 4);
	ck_assert_int_eq(whatif_changed(w), 1);
	whatif_text(w, NULL, 0, 0, &out);
	ck_assert_msg(strstr(buf_cstr(&out), "not replayable (policy state) 3"),
	    "%s", buf_cstr(&out));
	ck_assert_msg(strstr(buf_cstr(&out),
	    "QP: not replayable (policy state: MW_GREYLIST)"), "%s",
	    buf_cstr(&out));
	buf_release(&out);
	whatif_free(&w);
	engine_unref(e);
}
END_TEST

/*
 * a record logged under a policy scope is decided by that scope's
 * scores and thresholds: with the same configuration nothing changes;
 * the same symbol unscoped keeps the main score (the cache of symbol
 * origins is per scope); a raised scope tag_score moves only the
 * scoped message
 */
START_TEST(test_whatif_decides_under_the_logged_scope)
{
	static const char scope_text[] = "recipient_domains = strict.example\n"
	    "tag_score = 3\nreject_score = 8\n"
	    "symbol_scores = SPF_SOFTFAIL=3.5\n";
	const char *lines[2];
	char dir[4096], *path, *conf, *log;
	struct engine *e;
	struct whatif *w;
	struct logread *r;
	const struct logline *l;
	struct logrec lr;
	FILE *f;
	int round;
	size_t i;

	test_mkdtemp(dir, sizeof(dir), "whatif-scope");
	path = xasprintf("%s/10-strict.conf", dir);
	conf = xasprintf("scope_dir = %s\n", dir);
	lines[0] = rec("QS", "192.0.2.1", S("SPF_SOFTFAIL", 3.5), 3.5, "tag",
	    "\"scope\":\"10-strict\"");
	lines[1] = rec("QM", "192.0.2.1", S("SPF_SOFTFAIL", 1.0), 1, "accept",
	    NULL);
	log = xasprintf("%s\n%s\n", lines[0], lines[1]);
	for (round = 0; round < 2; round++) {
		ck_assert((f = fopen(path, "w")) != NULL);
		fputs(scope_text, f);
		if (round == 1)	/* later lines win: the scope's tag goes up */
			fputs("tag_score = 4\n", f);
		fclose(f);
		e = test_engine(conf);
		w = whatif_new(e, "new.conf", 0);
		r = logread_open_mem(log, strlen(log), "t", 1);
		for (i = 0; logread_next(r, &l); i++) {
			logrec_from(&lr, l);
			(void)whatif_add(w, &lr);
		}
		ck_assert_int_eq(i, 2);
		ck_assert_int_eq(whatif_messages(w), 2);
		if (round == 0)
			ck_assert_int_eq(whatif_changed(w), 0);
		else {
			ck_assert_int_eq(whatif_changed(w), 1);
			ck_assert_int_eq(whatif_transition(w, LR_TAG,
			    LR_ACCEPT), 1);
		}
		logread_free(&r);
		whatif_free(&w);
		engine_unref(e);
	}
	free((char *)lines[0]);
	free((char *)lines[1]);
	free(log);
	free(conf);
	free(path);
	test_rmtree(dir);
}
END_TEST

/* the changed messages' OLD -> NEW column holds the widest transition */
START_TEST(test_whatif_transition_column_is_whole)
{
	char *line = rec("QT", "192.0.2.1", S("SPF_SOFTFAIL", 1.0), 1,
	    "tempfail", NULL);
	struct engine *e = test_engine("");
	struct whatif *w = whatif_new(e, "n.conf", 0);
	struct logread *r;
	struct logrec lr;
	struct buf out = BUF_INIT;

	one_rec(&r, line, &lr);
	(void)whatif_add(w, &lr);
	ck_assert_int_eq(whatif_transition(w, LR_TEMPFAIL, LR_ACCEPT), 1);
	whatif_text(w, NULL, 0, 0, &out);
	ck_assert_msg(strstr(buf_cstr(&out), " tempfail -> accept  "), "%s",
	    buf_cstr(&out));
	ck_assert_msg(strstr(buf_cstr(&out), " OLD -> NEW           SCORE"),
	    "%s", buf_cstr(&out));
	buf_release(&out);
	logread_free(&r);
	whatif_free(&w);
	engine_unref(e);
	free(line);
}
END_TEST

static Suite *
whatif_suite(void)
{
	Suite *s = suite_create("whatif");
	TCase *tc = tcase_create("rescore");

	tcase_add_loop_test(tc, test_whatif_rescore_decides_like_the_milter, 0,
	    sizeof(cases) / sizeof(cases[0]));
	tcase_add_test(tc, test_whatif_unscored_trusted_still_is_derivable);
	tcase_add_test(tc, test_whatif_rule_scores_follow_the_score_set);
	tcase_add_test(tc, test_whatif_auto_set_follows_the_bayes_band);
	tcase_add_test(tc, test_whatif_decides_under_the_logged_scope);
	suite_add_tcase(s, tc);
	tc = tcase_create("aggregate");
	tcase_add_test(tc, test_whatif_aggregate_counts_known_outcomes);
	tcase_add_test(tc, test_whatif_output_is_escaped);
	tcase_add_test(tc, test_whatif_replay_policy_state_is_not_a_change);
	tcase_add_test(tc, test_whatif_transition_column_is_whole);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(whatif_suite());
}
