/*
 * arc_bench.c - ARC chain verification cost beside DKIM, measured
 *
 * DESCRIPTION
 *	Verifies the two-hop chain of tests/data/arc/two-hops.eml (sealed
 *	by dkimpy: an author DKIM signature, two ARC sets, RSA-2048 keys)
 *	again and again as the scan steps do, keys from an in-memory
 *	resolver: ARC (arc_verify_new at end of headers, the body, then
 *	arc_verify_finish: two AMS and two seals, four RSA verifications)
 *	next to DKIM verification of the same message (one signature).
 *	Times are CPU time of the thread, so a shared machine does not
 *	inflate them.
 *
 *	usage: arc_bench SRCDIR [seconds per measurement, default 1]
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "arc.h"
#include "buf.h"
#include "dkim.h"
#include "dns.h"
#include "fakedns.h"
#include "files.h"
#include "msg.h"
#include "msgparse.h"

#include "bench_msg.h"

static void
load(const char *srcdir, struct pm *pm, struct fakedns *f)
{
	struct msg_limits lim = { 1 << 26, 1 << 20, 1000, 100 };
	struct msgparse_cb cb = { p_eoh, p_body, pm };
	struct buf text = BUF_INIT, why = BUF_INIT, path = BUF_INIT;
	struct msgparse *mp;
	char *line, *save = NULL;

	buf_printf(&path, "%s/tests/data/arc/two-hops.eml", srcdir);
	if (files_read(path.data, 1 << 20, &text, &why) < 0) {
		fprintf(stderr, "%s\n", buf_cstr(&why));
		exit(1);
	}
	pm->m = msg_new(&lim);
	buf_init(&pm->body);
	mp = msgparse_new(pm->m, &cb);
	msgparse_push(mp, text.data, text.len);
	msgparse_end(mp);
	msgparse_free(mp);
	buf_reset(&path);
	buf_reset(&text);
	buf_printf(&path, "%s/tests/data/arc/keys.txt", srcdir);
	if (files_read(path.data, 1 << 20, &text, &why) < 0) {
		fprintf(stderr, "%s\n", buf_cstr(&why));
		exit(1);
	}
	for (line = strtok_r(text.data, "\n", &save); line;
	    line = strtok_r(NULL, "\n", &save)) {
		char *tab = strchr(line, '\t');

		if (line[0] != '#' && tab) {
			*tab = '\0';
			fakedns_txt(f, line, tab + 1);
		}
	}
	buf_release(&text);
	buf_release(&why);
	buf_release(&path);
}

static void
opts(struct arc_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->dkim.max_signatures = 5;
	o->dkim.min_key_bits = 1024;
	o->dkim.clock_skew = 300;
	o->dkim.now = time(NULL);
	o->max_sets = 50;
}

/* one_arc - one chain verification; its result must be pass */
static void
one_arc(const struct pm *pm, struct dns_resolver *dns)
{
	struct arc_opts o;
	struct arc_verify *a;

	opts(&o);
	a = arc_verify_new(&o, pm->m->hdrs, pm->m->nhdrs);
	arc_verify_body(a, pm->body.data, pm->body.len);
	arc_verify_finish(a, dns, NULL);
	if (arc_verify_result(a)->cv != ARC_CV_PASS) {
		fprintf(stderr, "chain did not pass: %s\n",
		    arc_verify_result(a)->reason);
		exit(1);
	}
	arc_verify_free(&a);
}

static void
one_dkim(const struct pm *pm, struct dns_resolver *dns)
{
	struct arc_opts o;
	struct dkim_verify *v;

	opts(&o);
	v = dkim_verify_new(&o.dkim, pm->m->hdrs, pm->m->nhdrs);
	dkim_verify_body(v, pm->body.data, pm->body.len);
	dkim_verify_finish(v, dns, NULL);
	dkim_verify_free(&v);
}

static double
rate(void (*fn)(const struct pm *, struct dns_resolver *),
    const struct pm *pm, struct dns_resolver *dns, double secs)
{
	double t0 = now_s(), t;
	unsigned long n = 0;

	do {
		fn(pm, dns);
		n++;
	} while ((t = now_s() - t0) < secs);
	return (double)n / t;
}

int
main(int argc, char **argv)
{
	struct fakedns *f = fakedns_new();
	struct dns_resolver *dns;
	double secs = argc > 2 ? atof(argv[2]) : 1.0, ra, rd;
	struct pm pm;

	if (argc < 2) {
		fprintf(stderr, "usage: arc_bench SRCDIR [seconds]\n");
		return 2;
	}
	load(argv[1], &pm, f);
	dns = fakedns_resolver(f);
	rd = rate(one_dkim, &pm, dns, secs);
	ra = rate(one_arc, &pm, dns, secs);
	printf("message: %zu header fields, %zu body bytes\n", pm.m->nhdrs,
	    pm.body.len);
	printf("DKIM verify (1 signature, RSA-2048): %8.0f /s  %7.3f ms\n",
	    rd, 1000.0 / rd);
	printf("ARC verify (2 sets: 2 AMS + 2 seals): %8.0f /s  %7.3f ms\n",
	    ra, 1000.0 / ra);
	printf("ARC / DKIM: %.2f\n", rd / ra);
	dns_resolver_free(dns);
	fakedns_free(f);
	msg_free(&pm.m);
	buf_release(&pm.body);
	return 0;
}
