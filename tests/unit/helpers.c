/*
 * helpers.c - shared bits of the Check unit tests
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "helpers.h"
#include "mime.h"
#include "msgparse.h"
#include "rules.h"

const char *
test_data(const char *rel)
{
	static char path[4096];

	snprintf(path, sizeof(path), "%s/%s", TEST_DATA, rel);
	return path;
}

const char *
shared_data(const char *rel)
{
	static char path[4096];
	const char *dir = getenv("SHARED_DIR");

	snprintf(path, sizeof(path), "%s/%s",
	    dir ? dir : TEST_DATA "/../../../shared", rel);
	return access(path, F_OK) == 0 ? path : NULL;
}

struct engine *
test_engine(const char *text)
{
	struct conf *c;
	struct engine *e;
	struct buf why = BUF_INIT, full = BUF_INIT;

	/* hermetic by default: DNS from an empty zone, never the network */
	buf_printf(&full, "dns_zone_files = %s\n%s", test_data("dns/empty.zone"),
	    text);
	if (conf_parse(full.data, full.len, "test.conf", &c, &why) < 0)
		ck_abort_msg("config: %s", buf_cstr(&why));
	if (engine_new(c, &e, &why) < 0)
		ck_abort_msg("engine: %s", buf_cstr(&why));
	buf_release(&why);
	buf_release(&full);
	return e;
}

struct tctx {
	struct engine *eng;
	struct msg *msg;
	struct scan *scan;
};

static void
t_eoh(void *arg)
{
	struct tctx *t = arg;

	t->scan = scan_begin(t->eng, t->msg);
}

static void
t_body(void *arg, const void *p, size_t n)
{
	struct tctx *t = arg;

	scan_body(t->scan, p, n);
}

struct scan *
test_scan_text(struct engine *eng, const char *ip, const char *helo,
    const char *from, const char *rcpt, const char *text, size_t len,
    struct msg **msgp)
{
	struct msg_limits lim;
	struct tctx t;
	struct msgparse_cb cb = { t_eoh, t_body, &t };
	struct msgparse *mp;

	msg_limits_from_conf(&lim, eng->conf);
	t.eng = eng;
	t.msg = msg_new(&lim);
	t.scan = NULL;
	msg_set_client(t.msg, ip, "client.example");
	msg_set_helo(t.msg, helo);
	msg_set_sender(t.msg, from);
	if (rcpt)
		msg_add_rcpt(t.msg, rcpt);
	mp = msgparse_new(t.msg, &cb);
	msgparse_push(mp, text, len);
	msgparse_end(mp);
	msgparse_free(mp);
	scan_end(t.scan);
	*msgp = t.msg;
	return t.scan;
}

struct mime_msg *
test_mime_text(const char *text, struct msg **msgp)
{
	struct msg_limits ml = { 1 << 20, 1 << 20, 1000, 100 };
	struct mime_limits lim;

	*msgp = msg_new(&ml);
	msgparse_text(*msgp, text, strlen(text));
	mime_limits_default(&lim);
	return mime_parse(*msgp, &lim);
}

void
test_mkdtemp(char *buf, size_t cap, const char *name)
{
	snprintf(buf, cap, "/tmp/%s.XXXXXX", name);
	ck_assert_ptr_nonnull(mkdtemp(buf));
}

void
test_rmtree(const char *dir)
{
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
}

int
run_suite(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

struct ruleset *
test_rules(const char *text)
{
	struct rules_report rep;
	struct ruleset *rs;
	struct buf d = BUF_INIT;
	size_t i;

	if (rules_parse_text(text, strlen(text), "t.cf", NULL, &rs, &rep) < 0) {
		for (i = 0; i < rep.n; i++) {
			rules_diag_format(&rep.v[i], &d);
			buf_addc(&d, '\n');
		}
		ck_abort_msg("rules did not load:\n%s", buf_cstr(&d));
	}
	rules_report_release(&rep);
	return rs;
}
