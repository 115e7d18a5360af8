/*
 * cli_arc.c - `mailwarden arc verify`: the ARC chain of message files
 *
 * DESCRIPTION
 *	verify FILE...  verifies the ARC chain of each message with the
 *	                configuration's DNS resolver and limits (the code
 *	                the milter runs: arc.c over the DKIM layers) and
 *	                prints the chain result with its reason, then each
 *	                set: instance, sealer, cv=, the seal's and the
 *	                AMS's results, and the ARC-Authentication-Results
 *	                the sealer wrote.  Exit 0 when every file's chain
 *	                passes, 1 otherwise (none or fail), 2 on usage or
 *	                I/O errors.
 *
 * SECURITY
 *	Field contents are printed escaped and capped (str_escape).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "arc.h"
#include "buf.h"
#include "cli.h"
#include "conf.h"
#include "dns.h"
#include "engine.h"
#include "files.h"
#include "msg.h"
#include "msgparse.h"
#include "str.h"

#define MAX_MESSAGE	(256u * 1024 * 1024)
#define USAGE	"usage: mailwarden arc verify [-c FILE] [--time SECONDS] " \
		"FILE...\n"

struct actx {
	struct msg *msg;
	const struct arc_opts *o;
	struct arc_verify *a;
};

static void
a_eoh(void *arg)
{
	struct actx *c = arg;

	c->a = arc_verify_new(c->o, c->msg->hdrs, c->msg->nhdrs);
}

static void
a_body(void *arg, const void *p, size_t n)
{
	struct actx *c = arg;

	if (c->a)
		arc_verify_body(c->a, p, n);
}

/* print_escaped - untrusted text, made printable and capped */
static void
print_escaped(const char *s, size_t cap)
{
	struct buf b = BUF_INIT;

	str_escape(&b, s, strlen(s), cap);
	fputs(buf_cstr(&b), stdout);
	buf_release(&b);
}

static void
print_set(const struct arc_set *s)
{
	printf("  set i=%u: seal d=%s s=%s cv=%s: %s", s->instance,
	    s->domain[0] ? s->domain : "?", s->selector[0] ? s->selector : "?",
	    s->cv, dkim_result_name(s->as));
	if (s->as_reason[0])
		printf(" (%s)", s->as_reason);
	printf("\n    message signature d=%s: %s", s->ams_domain[0] ?
	    s->ams_domain : "?", dkim_result_name(s->ams));
	if (s->ams_reason[0])
		printf(" (%s)", s->ams_reason);
	printf("\n    results: ");
	print_escaped(s->aar ? s->aar : "", 300);
	printf("\n");
}

/* verify_file - 0 pass, 1 none or fail, 2 unreadable */
static int
verify_file(struct engine *eng, time_t now, const char *path)
{
	struct arc_opts o;
	struct buf text = BUF_INIT, why = BUF_INIT;
	struct msgparse_cb cb = { a_eoh, a_body, NULL };
	const struct arc_result *r;
	struct dns_budget budget;
	struct msg_limits lim;
	struct msgparse *mp;
	struct actx c;
	unsigned i;

	if (files_read(path, MAX_MESSAGE, &text, &why) < 0) {
		fprintf(stderr, "mailwarden arc verify: %s\n", buf_cstr(&why));
		buf_release(&why);
		return 2;
	}
	dkim_vopts_from_conf(&o.dkim, eng->conf, now);
	o.max_sets = (unsigned)eng->conf->arc_max_sets;
	msg_limits_from_conf(&lim, eng->conf);
	memset(&c, 0, sizeof(c));
	c.msg = msg_new(&lim);
	c.o = &o;
	cb.arg = &c;
	mp = msgparse_new(c.msg, &cb);
	msgparse_push(mp, text.data, text.len);
	msgparse_end(mp);
	msgparse_free(mp);
	if (c.a == NULL)	/* no header/body separator: all headers */
		a_eoh(&c);
	dns_budget_init(&budget, 0);
	arc_verify_finish(c.a, eng->dns, &budget);
	r = arc_verify_result(c.a);
	printf("%s: arc=%s", path, arc_cv_name(r->cv));
	if (r->cv == ARC_CV_PASS)
		printf(" (%u set%s, oldest-pass %u)", r->nsets,
		    r->nsets == 1 ? "" : "s", r->oldest_pass);
	printf(": %s%s\n", r->invalid ? "malformed: " : "", r->reason);
	for (i = 0; r->sets && i < r->nsets; i++)
		print_set(&r->sets[i]);
	i = r->cv == ARC_CV_PASS ? 0 : 1;
	dns_budget_release(&budget);
	arc_verify_free(&c.a);
	msg_free(&c.msg);
	buf_release(&text);
	return (int)i;
}

static int
cmd_verify(int argc, char **argv)
{
	return cli_verify_files(argc, argv, "arc verify", verify_file);
}

int
cli_arc(int argc, char **argv)
{
	bool help = argc >= 2 && strcmp(argv[1], "--help") == 0;

	if (argc >= 2 && strcmp(argv[1], "verify") == 0)
		return cmd_verify(argc - 1, argv + 1);
	fputs(USAGE, help ? stdout : stderr);
	return help ? 0 : 2;
}
