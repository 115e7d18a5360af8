/*
 * cli_scan.c - `mailwarden scan`: the milter's pipeline over files
 *
 * DESCRIPTION
 *	Builds the same struct msg the milter builds (envelope from flags),
 *	feeds the file through msgparse into scan_begin/scan_body/scan_end,
 *	and prints the verdict: a readable report, or with --json exactly
 *	the verdict log line the milter would write.
 * EXIT STATUS
 *	0 every file evaluated; 1 a configuration error or a file that
 *	could not be read; 2 bad usage.  With --exit-code (spamassassin
 *	-e): 0 every file evaluated and none would be tagged or rejected,
 *	1 at least one would be (tempfail does not count), 2 bad usage,
 *	3 a configuration error or an unreadable file (this wins over 1:
 *	the answer is incomplete).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "cli.h"
#include "engine.h"
#include "msg.h"
#include "msgparse.h"
#include "scan.h"
#include "str.h"

struct scan_opts {
	const char *conf;
	const char *ip;
	const char *name;
	const char *helo;
	const char *from;
	const char *auth;
	const char *queue_id;
	char	**rcpts;
	size_t	 nrcpts;
	bool	 json;
	bool	 exit_code;		/* 1 when a message is tagged/rejected */
};

/* scan exit statuses (EXIT STATUS above) */
enum { SCAN_OK = 0, SCAN_FAILED = 1, SCAN_USAGE = 2, SCAN_SPAM = 1,
	SCAN_EXIT_CODE_FAILED = 3 };

struct file_ctx {
	struct engine *eng;
	struct msg *msg;
	struct scan *scan;
};

static void
on_eoh(void *arg)
{
	struct file_ctx *fc = arg;

	fc->scan = scan_begin(fc->eng, fc->msg);
}

static void
on_body(void *arg, const void *p, size_t n)
{
	struct file_ctx *fc = arg;

	scan_body(fc->scan, p, n);
}

/*
 * print_scope - the policy scope, and the recipients the milter would
 * have deferred (452 4.5.3) because they take another scope
 */
static void
print_scope(const struct scan *s, const struct msg *m)
{
	struct engine *root = s->eng->root ? s->eng->root : s->eng;
	size_t i;

	if (s->verdict.scope)
		printf("  scope: %s\n", s->verdict.scope);
	for (i = 1; i < m->nrcpts; i++)
		if (engine_for_scope(root, m, m->rcpts[i]) != s->eng)
			printf("  deferred: %s (another scope: the milter "
			    "answers 452 4.5.3)\n", m->rcpts[i]);
}

static void
print_report(const char *path, const struct scan *s, const struct msg *m)
{
	const struct verdict *v = &s->verdict;
	struct hdr_edits e;
	struct buf t = BUF_INIT;
	size_t i;

	printf("%s: %s score=%.1f (tag %.1f, reject %.1f)%s%s\n", path,
	    action_name(v->action), v->score, v->tag_score, v->reject_score,
	    v->scored ? "" : " not scored: ",
	    v->scored ? "" : v->unscored_why);
	for (i = 0; i < v->nsyms; i++)
		printf("  %-24s %6.1f  %s\n", v->syms[i].name, v->syms[i].score,
		    v->syms[i].detail ? v->syms[i].detail : "");
	if (v->reply_text)
		printf("  reply: %s %s %s\n", v->smtp_code, v->smtp_xcode,
		    v->reply_text);
	if (v->quarantine)
		printf("  quarantine: %s\n", v->quarantine_reason ?
		    v->quarantine_reason : "");
	print_scope(s, m);
	verdict_header_edits(v, m, s->eng->conf, &e);
	for (i = 0; i < e.n; i++) {
		static const char *const ops[] = { "delete", "change",
		    "prepend", "add" };

		buf_reset(&t);
		if (e.v[i].value)
			str_escape(&t, e.v[i].value, strlen(e.v[i].value), 400);
		if (e.v[i].op == EDIT_DELETE || e.v[i].op == EDIT_CHANGE)
			printf("  %s %s[%zu]%s%s\n", ops[e.v[i].op],
			    e.v[i].name, e.v[i].index, e.v[i].value ? ": " : "",
			    buf_cstr(&t));
		else
			printf("  %s %s: %s\n", ops[e.v[i].op], e.v[i].name,
			    buf_cstr(&t));
	}
	hdr_edits_release(&e);
	buf_release(&t);
}

/*
 * scan_one - 1 if the file was evaluated and would be tagged or
 * rejected, 0 if evaluated otherwise, -1 if it could not be read
 */
static int
scan_one(struct engine *eng, const struct scan_opts *o, const char *path)
{
	struct msg_limits lim;
	enum action action;
	struct file_ctx fc;
	struct msgparse_cb cb = { on_eoh, on_body, &fc };
	struct msgparse *mp;
	struct buf line = BUF_INIT;
	char chunk[65536];
	ssize_t n;
	size_t i;
	int fd;

	if (strcmp(path, "-") == 0)
		fd = STDIN_FILENO;
	else if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		fprintf(stderr, "mailwarden scan: %s: %s\n", path,
		    strerror(errno));
		return -1;
	}
	msg_limits_from_conf(&lim, eng->conf);
	fc.eng = eng;
	fc.msg = msg_new(&lim);
	fc.scan = NULL;
	msg_set_client(fc.msg, o->ip, o->name);
	msg_set_helo(fc.msg, o->helo);
	msg_set_sender(fc.msg, o->from);
	msg_set_auth(fc.msg, o->auth);
	msg_set_queue_id(fc.msg, o->queue_id);
	for (i = 0; i < o->nrcpts; i++)
		msg_add_rcpt(fc.msg, o->rcpts[i]);
	mp = msgparse_new(fc.msg, &cb);
	for (;;) {
		n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		msgparse_push(mp, chunk, (size_t)n);
	}
	if (n < 0) {
		fprintf(stderr, "mailwarden scan: %s: read error: %s\n", path,
		    strerror(errno));
		if (fd != STDIN_FILENO)
			close(fd);
		msgparse_free(mp);
		scan_free(&fc.scan);
		msg_free(&fc.msg);
		return -1;
	}
	if (fd != STDIN_FILENO)
		close(fd);
	msgparse_end(mp);
	msgparse_free(mp);
	scan_end(fc.scan);
	if (o->json) {
		scan_log_line(fc.scan, &line);
		printf("%s\n", buf_cstr(&line));
	} else
		print_report(path, fc.scan, fc.msg);
	action = fc.scan->verdict.action;
	buf_release(&line);
	scan_free(&fc.scan);
	msg_free(&fc.msg);
	return action == ACTION_TAG || action == ACTION_REJECT;
}

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: mailwarden scan [-c FILE] [--ip ADDR] [--name HOST] "
	    "[--helo NAME]\n"
	    "                       [--from ADDR] [--rcpt ADDR]... "
	    "[--auth USER] [--queue-id ID]\n"
	    "                       [--json] [--exit-code] FILE...\n"
	    "Runs the milter's evaluation on message files (\"-\" is stdin)"
	    " and prints\nthe verdict and why; --json prints the verdict log"
	    " line instead.\n"
	    "Exit status: 0 evaluated, 1 error, 2 usage.  With --exit-code: "
	    "0 no message\nwould be tagged or rejected, 1 one would be, 2 "
	    "usage, 3 error.\n");
}

int
cli_scan(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "ip", required_argument, NULL, 'i' },
		{ "name", required_argument, NULL, 'N' },
		{ "helo", required_argument, NULL, 'H' },
		{ "from", required_argument, NULL, 'f' },
		{ "rcpt", required_argument, NULL, 'r' },
		{ "auth", required_argument, NULL, 'a' },
		{ "queue-id", required_argument, NULL, 'q' },
		{ "json", no_argument, NULL, 'j' },
		{ "exit-code", no_argument, NULL, 'e' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct scan_opts o;
	struct engine *eng;
	int ch, i, rc, failed = 0, spam = 0;

	memset(&o, 0, sizeof(o));
	optind = 1;
	while ((ch = getopt_long(argc, argv, "c:jeh", opts, NULL)) != -1) {
		switch (ch) {
		case 'c': o.conf = optarg; break;
		case 'i': o.ip = optarg; break;
		case 'N': o.name = optarg; break;
		case 'H': o.helo = optarg; break;
		case 'f': o.from = optarg; break;
		case 'a': o.auth = optarg; break;
		case 'q': o.queue_id = optarg; break;
		case 'j': o.json = true; break;
		case 'e': o.exit_code = true; break;
		case 'r':
			o.rcpts = xreallocarray(o.rcpts, o.nrcpts + 1,
			    sizeof(char *));
			o.rcpts[o.nrcpts++] = optarg;
			break;
		case 'h': usage(stdout); free(o.rcpts); return SCAN_OK;
		default: usage(stderr); free(o.rcpts); return SCAN_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		free(o.rcpts);
		return SCAN_USAGE;
	}
	if (o.ip && *o.ip) {
		struct netaddr na;

		if (netaddr_parse(o.ip, &na) < 0) {
			fprintf(stderr, "mailwarden scan: --ip %s: not an IP "
			    "address\n", o.ip);
			free(o.rcpts);
			return SCAN_USAGE;
		}
	}
	if ((eng = cli_load_engine(o.conf)) == NULL) {
		free(o.rcpts);
		return o.exit_code ? SCAN_EXIT_CODE_FAILED : SCAN_FAILED;
	}
	for (i = optind; i < argc; i++) {
		if ((rc = scan_one(eng, &o, argv[i])) < 0)
			failed = 1;
		else if (rc > 0)
			spam = 1;
	}
	engine_unref(eng);
	free(o.rcpts);
	if (failed)
		return o.exit_code ? SCAN_EXIT_CODE_FAILED : SCAN_FAILED;
	return o.exit_code && spam ? SCAN_SPAM : SCAN_OK;
}
