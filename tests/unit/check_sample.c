/*
 * check_sample.c - the sample store: file format round trip and hostile
 * content, parser refusals, selection policy, files, permissions and
 * expiry, and deterministic replay of a scanned message (recorded DNS,
 * a changed score, an unrecorded lookup)
 */
#include "config.h"

#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "dns.h"
#include "engine.h"
#include "helpers.h"
#include "msg.h"
#include "sample.h"
#include "sample_store.h"
#include "scan.h"
#include "str.h"

static const char MSG_TEXT[] =
    "From: Alice <alice@pass.example.org>\r\n"
    "To: bob@rcpt.example\r\n"
    "Subject: replay me\r\n"
    "Date: Mon, 16 Nov 2026 10:00:00 +0000\r\n"
    "Message-ID: <r1@pass.example.org>\r\n"
    "\r\n"
    "Hello Bob, lunch at noon?\r\n";

static const char ZONE[] =
    "$ORIGIN example.org.\n$TTL 300\n"
    "@ SOA ns hostmaster 1 3600 600 86400 60\n"
    "pass TXT \"v=spf1 ip4:192.0.2.0/24 -all\"\n"
    "_dmarc.pass TXT \"v=DMARC1; p=none\"\n"
    "$ORIGIN bl.example.\n"
    "@ SOA ns hostmaster 1 3600 600 86400 60\n"
    "10.2.0.192 A 127.0.0.2\n";

/* engine_with_zone - an engine answering from ZONE, plus conf text */
static struct engine *
engine_with_zone(const char *dir, const char *extra)
{
	char path[4096];
	struct engine *e;
	char *conf;
	FILE *f;

	snprintf(path, sizeof(path), "%s/t.zone", dir);
	ck_assert((f = fopen(path, "w")) != NULL);
	fputs(ZONE, f);
	fclose(f);
	conf = xasprintf("dns_zone_files = %s\n%s", path, extra);
	e = test_engine(conf);
	free(conf);
	return e;
}

/* scan_sample - scan MSG_TEXT under e and format it as a sample */
static void
scan_sample(struct engine *e, struct buf *file, struct buf *logline)
{
	struct msg *m;
	struct scan *s = test_scan_text(e, "192.0.2.10", "mx.pass.example.org",
	    "alice@pass.example.org", "bob@rcpt.example", MSG_TEXT,
	    sizeof(MSG_TEXT) - 1, &m);

	ck_assert_msg(s->sample_dns != NULL, "sample_dir set: no recorder");
	scan_log_line(s, logline);
	sample_format(m, s->now, s->when, s->sample_dns, logline->data,
	    logline->len, file);
	scan_free(&s);
	msg_free(&m);
}

/* json_field - o[key] as text ("" when absent) */
static const char *
json_field(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v))
		return "";
	return json_object_to_json_string(v);
}

/* same_verdict - two log lines agree on action, score and symbols */
static void
same_verdict(const char *a, const char *b, const char *what)
{
	struct json_object *x = json_tokener_parse(a), *y = json_tokener_parse(b);
	static const char *const keys[] = { "action", "score", "symbols",
	    "spf", "dmarc", "time", "queue_id" };
	size_t i;

	ck_assert(x && y);
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		ck_assert_msg(strcmp(json_field(x, keys[i]),
		    json_field(y, keys[i])) == 0, "%s: %s differs: %s vs %s",
		    what, keys[i], json_field(x, keys[i]), json_field(y, keys[i]));
	json_object_put(x);
	json_object_put(y);
}

struct unrec {
	size_t	 n;
	char	 last[300];
};

static void
note_unrec(void *arg, const char *name, uint16_t type)
{
	struct unrec *u = arg;

	u->n++;
	snprintf(u->last, sizeof(u->last), "%s/%s", name, dns_type_name(type));
}

START_TEST(test_sample_replay_reproduces_the_verdict)
{
	char dir[4096], sdir[4200];
	struct engine *e, *e2;
	struct buf file = BUF_INIT, line = BUF_INIT, again = BUF_INIT, why =
	    BUF_INIT;
	struct sample *s;
	struct unrec u = { 0, "" };
	char *conf;

	test_mkdtemp(dir, sizeof(dir), "sample");
	snprintf(sdir, sizeof(sdir), "sample_dir = %s/store\n", dir);
	e = engine_with_zone(dir, sdir);
	scan_sample(e, &file, &line);
	ck_assert_msg(strstr(line.data, "SPF_PASS") != NULL, "%s", line.data);
	ck_assert_msg(sample_parse(file.data, file.len, &s, &why) == 0, "%s",
	    buf_cstr(&why));
	ck_assert_msg(sample_dns_find(s->dns, "pass.example.org", DNS_T_TXT),
	    "the SPF lookup was not recorded");
	/* the same configuration, DNS from the recording: same verdict */
	replay_sample(e, s, false, note_unrec, &u, &again);
	same_verdict(line.data, again.data, "same configuration");
	ck_assert_int_eq(u.n, 0);
	/* a changed score: exactly that symbol's score, hence the score */
	conf = xasprintf("%ssymbol_scores = SPF_PASS=7\n", sdir);
	e2 = engine_with_zone(dir, conf);
	free(conf);
	buf_reset(&again);
	replay_sample(e2, s, false, note_unrec, &u, &again);
	ck_assert_msg(strstr(again.data, "\"name\":\"SPF_PASS\",\"score\":7"),
	    "%s", again.data);
	ck_assert_msg(strstr(again.data, "\"action\":\"tag\""), "%s",
	    again.data);
	engine_unref(e2);
	/* a DNS list the recording never asked: reported, not guessed */
	conf = xasprintf("%sdnsbl = bl.example/127.0.0.2=RBL_T:9\n", sdir);
	e2 = engine_with_zone(dir, conf);
	free(conf);
	buf_reset(&again);
	replay_sample(e2, s, false, note_unrec, &u, &again);
	ck_assert_int_eq(u.n, 1);
	ck_assert_str_eq(u.last, "10.2.0.192.bl.example/A");
	ck_assert_msg(strstr(again.data, "RBL_T") == NULL, "guessed: %s",
	    again.data);
	/* ... while --dns live (the zone) does list it */
	buf_reset(&again);
	replay_sample(e2, s, true, note_unrec, &u, &again);
	ck_assert_msg(strstr(again.data, "RBL_T") != NULL, "%s", again.data);
	engine_unref(e2);
	sample_free(&s);
	engine_unref(e);
	buf_release(&file);
	buf_release(&line);
	buf_release(&again);
	buf_release(&why);
	test_rmtree(dir);
}
END_TEST

/* a hand-built message with every hostile byte in its fields */
static struct msg *
hostile_msg(void)
{
	struct msg_limits lim = { 1 << 20, 1 << 20, 1000, 100 };
	struct msg *m = msg_new(&lim);
	static const char value[] = " a\r\nend\nbody 3\n%41\0nul";
	static const char body[] = "x\nend\n\0body 99\nend\n";

	msg_set_client(m, "192.0.2.1", "host with space\n");
	msg_set_helo(m, "helo\r\nverdict {}");
	msg_set_sender(m, "<>");
	msg_add_rcpt(m, "bob%20@rcpt.example");
	msg_add_header(m, "X-Evil", 6, value, sizeof(value) - 1);
	msg_add_header(m, "Subject", 7, " \xff\xfe caf\xc3\xa9", 10);
	msg_add_body(m, body, sizeof(body) - 1);
	msg_set_queue_id(m, "Q1/../x");
	return m;
}

START_TEST(test_sample_hostile_content_round_trips)
{
	struct msg *m = hostile_msg();
	struct sample_dns *d = sample_dns_new();
	struct dns_answer a = { DNS_OK, NULL, 0, 60, false };
	struct dns_rr *rr;
	struct buf file = BUF_INIT, why = BUF_INIT;
	struct sample *s;

	rr = dns_answer_add(&a, DNS_T_TXT);
	rr->txt = xmalloc(16);
	memcpy(rr->txt, "v=spf1 \n -all\0x", 16);
	rr->txt_len = 15;
	rr->txt_nstrings = 2;
	rr = dns_answer_add(&a, DNS_T_MX);
	rr->pref = 10;
	rr->name = xstrdup("mx.example");
	sample_dns_record(d, "odd name.example", DNS_T_TXT, &a);
	sample_dns_record(d, "odd name.example", DNS_T_TXT, &a);	/* once */
	sample_format(m, 1763287200, 1763287200.5, d, "{\"v\":1}\n", 8, &file);
	ck_assert_msg(sample_parse(file.data, file.len, &s, &why) == 0, "%s",
	    buf_cstr(&why));
	ck_assert_str_eq(s->helo, "helo\r\nverdict {}");
	ck_assert_str_eq(s->client_name, "host with space\n");
	ck_assert_str_eq(s->mail_from, "");
	ck_assert_str_eq(s->rcpts[0], "bob%20@rcpt.example");
	ck_assert_str_eq(s->queue_id, "Q1/../x");
	ck_assert_int_eq(s->nhdrs, 2);
	ck_assert_int_eq(s->hdrs[0].value_len, m->hdrs[0].value_len);
	ck_assert(memcmp(s->hdrs[0].value, m->hdrs[0].value,
	    m->hdrs[0].value_len) == 0);
	ck_assert_int_eq(s->body_len, m->body.len);
	ck_assert(memcmp(s->body, m->body.data, m->body.len) == 0);
	ck_assert_str_eq(s->verdict, "{\"v\":1}\n");
	ck_assert_int_eq(sample_dns_count(s->dns), 1);
	{
		const struct dns_answer *b = sample_dns_find(s->dns,
		    "odd name.example", DNS_T_TXT);

		ck_assert(b != NULL && b->n == 2 && b->ttl == 60);
		ck_assert_int_eq(b->rrs[0].txt_len, 15);
		ck_assert(memcmp(b->rrs[0].txt, "v=spf1 \n -all\0x", 15) == 0);
		ck_assert_int_eq(b->rrs[0].txt_nstrings, 2);
		ck_assert_int_eq(b->rrs[1].pref, 10);
		ck_assert_str_eq(b->rrs[1].name, "mx.example");
	}
	/* no line of the file carries a raw control byte but the body */
	ck_assert(memchr(file.data, '\r', (size_t)((const char *)
	    memmem(file.data, file.len, "\nbody ", 6) - file.data)) == NULL);
	sample_free(&s);
	for (size_t i = 0; i < a.n; i++) {
		free(a.rrs[i].name);
		free(a.rrs[i].txt);
	}
	free(a.rrs);
	sample_dns_free(&d);
	msg_free(&m);
	buf_release(&file);
	buf_release(&why);
}
END_TEST

static const struct {
	const char *name, *text, *why;
} bad_files[] = {
	{ "empty", "", "not a mailwarden sample" },
	{ "wrong magic", "mailwarden-sample 9\n", "not a mailwarden sample" },
	{ "cut short", SAMPLE_MAGIC "\nnow 5\nverdict {}\n", "cut short" },
	{ "body longer than the file", SAMPLE_MAGIC "\nnow 5\nverdict {}\n"
	  "body 100\nabc\nend\n", "body length" },
	{ "data after end", SAMPLE_MAGIC "\nnow 5\nverdict {}\nbody 1\nx\n"
	  "end\nmore", "body length" },
	{ "raw space in a value", SAMPLE_MAGIC "\nhelo a b\n", "one value" },
	{ "bad escape", SAMPLE_MAGIC "\nhelo a%4\n", "escape" },
	{ "NUL in an envelope value", SAMPLE_MAGIC "\nhelo a%00b\n", "NUL" },
	{ "unknown key", SAMPLE_MAGIC "\nfrobnicate 1\n", "unknown key" },
	{ "key twice", SAMPLE_MAGIC "\nhelo a\nhelo b\n", "twice" },
	{ "huge number", SAMPLE_MAGIC "\nflags 99999999\n", "bad number" },
	{ "dns without its records", SAMPLE_MAGIC "\ndns a.example 1 ok 60 2\n"
	  "rr 1 60 192.0.2.1\n", "rr line" },
	{ "dns unknown status", SAMPLE_MAGIC "\ndns a.example 1 bogus 60 0\n",
	  "status" },
	{ "bad address", SAMPLE_MAGIC "\ndns a.example 1 ok 60 1\n"
	  "rr 1 60 300.1.1.1\n", "address" },
	{ "no verdict", SAMPLE_MAGIC "\nnow 5\nbody 0\n\nend\n", "no verdict" },
};

START_TEST(test_sample_parser_refuses_broken_files)
{
	struct buf why = BUF_INIT;
	struct sample *s = (struct sample *)1;

	ck_assert_msg(sample_parse(bad_files[_i].text, strlen(bad_files[_i].text),
	    &s, &why) < 0, "%s: accepted", bad_files[_i].name);
	ck_assert(s == NULL);
	ck_assert_msg(strstr(buf_cstr(&why), bad_files[_i].why) != NULL,
	    "%s: reason '%s', want '%s'", bad_files[_i].name, buf_cstr(&why),
	    bad_files[_i].why);
	ck_assert_msg(strncmp(buf_cstr(&why), "line ", 5) == 0,
	    "%s: no line number: %s", bad_files[_i].name, buf_cstr(&why));
	buf_release(&why);
}
END_TEST

START_TEST(test_sample_policy_selects)
{
	struct sample_policy p;
	struct buf why = BUF_INIT;

	ck_assert_int_eq(sample_policy_parse("reject tag 1%", &p, &why), 0);
	ck_assert(sample_policy_wants(&p, ACTION_REJECT, 0.99));
	ck_assert(sample_policy_wants(&p, ACTION_TAG, 0.99));
	ck_assert(!sample_policy_wants(&p, ACTION_ACCEPT, 0.02));
	ck_assert(sample_policy_wants(&p, ACTION_ACCEPT, 0.005));
	ck_assert(!sample_policy_wants(&p, ACTION_TEMPFAIL, 0.5));
	ck_assert_int_eq(sample_policy_parse("accept", &p, &why), 0);
	ck_assert(sample_policy_wants(&p, ACTION_ACCEPT, 0.99));
	ck_assert(!sample_policy_wants(&p, ACTION_REJECT, 0.0));
	ck_assert_int_eq(sample_policy_parse("100%", &p, &why), 0);
	ck_assert(sample_policy_wants(&p, ACTION_REJECT, 0.999));
	ck_assert_int_eq(sample_policy_parse("reject spam", &p, &why), -1);
	ck_assert_msg(strstr(buf_cstr(&why), "'spam'"), "%s", buf_cstr(&why));
	buf_reset(&why);
	ck_assert_int_eq(sample_policy_parse("150%", &p, &why), -1);
	buf_release(&why);
}
END_TEST

/* put - a file of n bytes in dir, modified age seconds before now */
static void
put(const char *dir, const char *name, size_t n, time_t now, time_t age)
{
	char path[4300];
	struct timespec ts[2];
	struct buf b = BUF_INIT, why = BUF_INIT;
	size_t i;

	for (i = 0; i < n; i++)
		buf_addc(&b, 'x');
	ck_assert_msg(sample_store_write(dir, name, b.data, b.len, &why) == 0,
	    "%s", buf_cstr(&why));
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	ts[0].tv_sec = ts[1].tv_sec = now - age;
	ts[0].tv_nsec = ts[1].tv_nsec = 0;
	ck_assert(utimensat(AT_FDCWD, path, ts, 0) == 0);
	buf_release(&b);
	buf_release(&why);
}

static bool
exists(const char *dir, const char *name)
{
	char path[4300];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return access(path, F_OK) == 0;
}

START_TEST(test_sample_store_permissions_and_expiry)
{
	char top[4096], dir[4200], path[4300];
	struct buf why = BUF_INIT;
	struct stat st;
	time_t now = time(NULL);
	FILE *f;

	test_mkdtemp(top, sizeof(top), "store");
	snprintf(dir, sizeof(dir), "%s/samples", top);
	put(dir, "a.mws", 100, now, 10 * 3600);	/* oldest */
	ck_assert(stat(dir, &st) == 0 && (st.st_mode & 0777) == 0700);
	snprintf(path, sizeof(path), "%s/a.mws", dir);
	ck_assert(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
	put(dir, "b.mws", 100, now, 3 * 3600);
	put(dir, "c.mws", 100, now, 2 * 3600);
	put(dir, "d.mws", 100, now, 1 * 3600);
	snprintf(path, sizeof(path), "%s/keep.txt", dir);
	ck_assert((f = fopen(path, "w")) != NULL);
	fclose(f);
	/* labels by queue id, replaced by a new label, gone with the sample */
	put(dir, "1-Q7x-0a.mws", 10, now, 10 * 3600);
	ck_assert_int_eq(sample_store_label(dir, "Q7x", true, &why), 1);
	snprintf(path, sizeof(path), "%s/1-Q7x-0a.mws", dir);
	ck_assert_int_eq(sample_label(path), 1);
	ck_assert_int_eq(sample_store_label(dir, "Q7x", false, &why), 1);
	ck_assert_int_eq(sample_label(path), 0);
	snprintf(path, sizeof(path), "%s/b.mws", dir);
	ck_assert_int_eq(sample_label(path), -1);
	ck_assert_int_eq(sample_store_label(dir, "Q7", false, &why), 0);
	ck_assert_int_eq(sample_store_label(dir, "-/.", false, &why), -1);
	/* age 5 h: a and the labelled one go, with its label */
	ck_assert_int_eq(sample_store_expire(dir, 1 << 20, 100, 5 * 3600, now),
	    2);
	ck_assert(!exists(dir, "1-Q7x-0a.mws.label"));
	ck_assert(!exists(dir, "a.mws") && exists(dir, "b.mws"));
	/* count 2: the oldest of b, c, d goes */
	ck_assert_int_eq(sample_store_expire(dir, 1 << 20, 2, 1e9, now), 1);
	ck_assert(!exists(dir, "b.mws") && exists(dir, "c.mws"));
	/* size 150 bytes: only d stays */
	ck_assert_int_eq(sample_store_expire(dir, 150, 100, 1e9, now), 1);
	ck_assert(!exists(dir, "c.mws") && exists(dir, "d.mws"));
	ck_assert_msg(exists(dir, "keep.txt"), "a file not ours was removed");
	/* an existing sample file is never overwritten */
	ck_assert_int_eq(sample_store_write(dir, "d.mws", "y", 1, &why), -1);
	snprintf(path, sizeof(path), "%s/d.mws", dir);
	ck_assert(stat(path, &st) == 0 && st.st_size == 100);
	/* a directory open to others is refused */
	ck_assert(chmod(dir, 0755) == 0);
	buf_reset(&why);
	ck_assert_int_eq(sample_store_write(dir, "e.mws", "y", 1, &why), -1);
	ck_assert_msg(strstr(buf_cstr(&why), "chmod 700"), "%s",
	    buf_cstr(&why));
	buf_release(&why);
	test_rmtree(top);
}
END_TEST

/*
 * sample_max_age holds without new samples: the writer expires the
 * kept store on its timer.  The timer is set short here; the test
 * waits for the writer thread (up to a minute, so a loaded machine
 * does not fail it) and asserts what it removed, not how fast.
 */
START_TEST(test_sample_store_expires_without_new_samples)
{
	char top[4096], dir[4200];
	time_t now = time(NULL);
	int i;

	test_mkdtemp(top, sizeof(top), "timed");
	snprintf(dir, sizeof(dir), "%s/samples", top);
	put(dir, "old.mws", 100, now, 10 * 3600);
	put(dir, "new.mws", 100, now, 60);
	sample_store_keep(dir, 1 << 20, 100, 5 * 3600, 0.05);
	for (i = 0; i < 6000 && exists(dir, "old.mws"); i++)
		usleep(10000);
	ck_assert_msg(!exists(dir, "old.mws"), "an expired sample stayed");
	ck_assert_msg(exists(dir, "new.mws"), "a young sample went");
	/* a later timed run leaves the young one too */
	put(dir, "old2.mws", 100, now, 20 * 3600);
	for (i = 0; i < 6000 && exists(dir, "old2.mws"); i++)
		usleep(10000);
	ck_assert(!exists(dir, "old2.mws") && exists(dir, "new.mws"));
	test_rmtree(top);
}
END_TEST

static Suite *
sample_suite(void)
{
	Suite *s = suite_create("sample");
	TCase *tc = tcase_create("format");

	tcase_add_test(tc, test_sample_hostile_content_round_trips);
	tcase_add_loop_test(tc, test_sample_parser_refuses_broken_files, 0,
	    sizeof(bad_files) / sizeof(bad_files[0]));
	suite_add_tcase(s, tc);
	tc = tcase_create("store");
	tcase_add_test(tc, test_sample_policy_selects);
	tcase_add_test(tc, test_sample_store_permissions_and_expiry);
	tcase_add_test(tc, test_sample_store_expires_without_new_samples);
	suite_add_tcase(s, tc);
	tc = tcase_create("replay");
	tcase_add_test(tc, test_sample_replay_reproduces_the_verdict);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(sample_suite());
}
