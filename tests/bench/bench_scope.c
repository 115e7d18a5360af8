/*
 * bench_scope.c - the CPU cost of choosing a message's policy scope
 *
 * DESCRIPTION
 *	Builds an engine whose scope_dir holds NSCOPES scopes (contrib's
 *	examples plus per-domain scopes), then times engine_for_scope() as
 *	scan_begin() calls it (first recipient) and as the milter's RCPT
 *	check calls it (twice per extra recipient), for recipients that
 *	match early, late and not at all.  Prints nanoseconds per call.
 *
 *	    make tests/bench/bench_scope && tests/bench/bench_scope [NSCOPES]
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "conf.h"
#include "engine.h"
#include "msg.h"

#define ROUNDS	1000000

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* make_scopes - n domain scopes and an outbound and an abuse scope */
static void
make_scopes(const char *dir, unsigned n)
{
	char path[512];
	unsigned i;
	FILE *f;

	snprintf(path, sizeof(path), "%s/000-outbound.conf", dir);
	if ((f = fopen(path, "w")) == NULL)
		exit(1);
	fputs("outbound = yes\ntag_score = 9\nreject_score = 9\n", f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/001-abuse.conf", dir);
	if ((f = fopen(path, "w")) == NULL)
		exit(1);
	fputs("recipients = abuse@ postmaster@\nexempt = yes\n", f);
	fclose(f);
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%03u-d%u.conf", dir, i + 2, i);
		if ((f = fopen(path, "w")) == NULL)
			exit(1);
		fprintf(f, "recipient_domains = d%u.example\nclients = "
		    "198.51.100.0/24\ntag_score = 3\n", i);
		fclose(f);
	}
}

static double
time_select(struct engine *e, struct msg *m, const char *rcpt)
{
	volatile const struct engine *sink;
	double t0 = now_s();
	unsigned i;

	for (i = 0; i < ROUNDS; i++)
		sink = engine_for_scope(e, m, rcpt);
	(void)sink;
	return (now_s() - t0) / ROUNDS * 1e9;
}

int
main(int argc, char **argv)
{
	unsigned n = argc > 1 ? (unsigned)atoi(argv[1]) : 20;
	char dir[] = "/tmp/mw-bench-scope.XXXXXX", last[64], cmd[600];
	struct buf text = BUF_INIT, why = BUF_INIT;
	struct msg_limits lim;
	struct engine *e;
	struct conf *c;
	struct msg *m;

	if (mkdtemp(dir) == NULL)
		return 1;
	make_scopes(dir, n);
	buf_printf(&text, "rules_dir =\nrules_site_dir =\nscope_dir = %s\n"
	    "trusted_networks = 10.0.0.0/8\ndns_servers = 127.0.0.1:9\n", dir);
	if (conf_parse(text.data, text.len, "bench.conf", &c, &why) < 0 ||
	    engine_new(c, &e, &why) < 0) {
		fprintf(stderr, "%s\n", buf_cstr(&why));
		return 1;
	}
	msg_limits_from_conf(&lim, e->conf);
	m = msg_new(&lim);
	msg_set_client(m, "198.51.100.7", "c.example");
	msg_set_sender(m, "someone@sender.example");
	snprintf(last, sizeof(last), "u@mx.d%u.example", n ? n - 1 : 0);
	printf("%u scopes + 2; ns per scope selection (%d rounds):\n", n,
	    ROUNDS);
	printf("  first domain scope   %8.1f\n", time_select(e, m,
	    "u@d0.example"));
	printf("  last domain scope    %8.1f\n", time_select(e, m, last));
	printf("  no scope (main file) %8.1f\n", time_select(e, m,
	    "u@elsewhere.example"));
	msg_set_auth(m, "alice");
	printf("  outbound (AUTH)      %8.1f\n", time_select(e, m,
	    "u@elsewhere.example"));
	msg_free(&m);
	engine_unref(e);
	buf_release(&text);
	buf_release(&why);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : 1;
}
