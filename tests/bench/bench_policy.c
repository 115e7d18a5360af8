/*
 * bench_policy.c - the cost per message of a rate limit and a greylist
 * check against the policy store
 *
 * DESCRIPTION
 *	Runs the same live scans (envelope only: no header, no body, every
 *	check that needs DNS off) under two engines, one without policy
 *	keys and one with a client rate limit and greylisting, and prints
 *	the time per message of each and their difference: one read and
 *	one write of the rate-limit counter and one read and one write of
 *	the greylist triplet and the client network, the steady state of a
 *	known sender.  The store is an LMDB directory made in /tmp, or the
 *	Redis given as an argument (nothing but this benchmark should use
 *	its database: the keys stay until they expire).
 *
 *	    make tests/bench/bench_policy
 *	    tests/bench/bench_policy [redis://127.0.0.1:PORT/DB] [MESSAGES]
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
#include "scan.h"

#define SENDERS	500

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static struct engine *
engine(const char *store, bool policy)
{
	struct buf text = BUF_INIT, why = BUF_INIT;
	struct engine *e;
	struct conf *c;

	buf_printf(&text, "rules_dir =\nrules_site_dir =\nscope_dir =\n"
	    "log_file =\nspf = no\ndmarc = no\ndkim_verify = no\narc_verify ="
	    " no\ndns_servers = 127.0.0.1:9\ntag_score = 100\n"
	    "reject_score = 200\npolicy_store = %s\n", store);
	if (policy)
		buf_adds(&text, "ratelimit_client = 1000000000/1h\n"
		    "greylist = yes\ngreylist_delay = 0\n"
		    "greylist_allow_after = 0\n");
	if (conf_parse(text.data, text.len, "bench.conf", &c, &why) < 0 ||
	    engine_new(c, &e, &why) < 0) {
		fprintf(stderr, "%s\n", buf_cstr(&why));
		exit(1);
	}
	buf_release(&text);
	buf_release(&why);
	return e;
}

/* run - n live scans (senders in turn); seconds per message */
static double
run(struct engine *e, unsigned n, unsigned *deferred)
{
	struct msg_limits lim;
	char from[64];
	double t0 = now_s();
	unsigned i;

	msg_limits_from_conf(&lim, e->conf);
	*deferred = 0;
	for (i = 0; i < n; i++) {
		struct msg *m = msg_new(&lim);
		struct scan *s;

		snprintf(from, sizeof(from), "s%u@sender.example", i % SENDERS);
		msg_set_client(m, "198.51.100.7", "c.example");
		msg_set_helo(m, "c.example");
		msg_set_sender(m, from);
		msg_add_rcpt(m, "bob@example.net");
		s = scan_begin(e, m);
		s->live = true;
		scan_end(s);
		*deferred += s->verdict.action == ACTION_TEMPFAIL;
		scan_free(&s);
		msg_free(&m);
	}
	return (now_s() - t0) / n;
}

int
main(int argc, char **argv)
{
	char dir[] = "/tmp/mw-bench-policy.XXXXXX", store[64], cmd[600];
	const char *spec = store;
	unsigned n = 20000, d0, d1;
	struct engine *off, *on;
	double base, with;
	int i;

	for (i = 1; i < argc; i++)
		if (strncmp(argv[i], "redis://", 8) == 0)
			spec = argv[i];
		else
			n = (unsigned)atoi(argv[i]);
	if (n < SENDERS) {
		fprintf(stderr, "usage: bench_policy [MESSAGES >= %d] "
		    "[redis://HOST:PORT]\n", SENDERS);
		return 2;
	}
	if (mkdtemp(dir) == NULL) {
		perror("bench_policy: mkdtemp");
		return 1;
	}
	snprintf(store, sizeof(store), "%s/pstore", dir);
	off = engine(spec, false);
	on = engine(spec, true);
	(void)run(on, SENDERS, &d1);		/* first tries: greylisted */
	(void)run(on, SENDERS, &d1);		/* their retries: passed */
	base = run(off, n, &d0);
	with = run(on, n, &d1);
	printf("store %s, %u messages (%u deferred)\n",
	    spec == store ? "LMDB" : spec, n, d1);
	printf("  scan without policy keys   %8.2f us/message\n", base * 1e6);
	printf("  rate limit + greylisting   %8.2f us/message\n", with * 1e6);
	printf("  policy checks              %8.2f us/message\n",
	    (with - base) * 1e6);
	engine_unref(off);
	engine_unref(on);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : 1;
}
