/*
 * cli_ratelimit.c - mailwarden ratelimit show|clear: the policy store
 *
 * DESCRIPTION
 *	show [KIND]    the blocked users, the counters of the current
 *	               windows (the sliding-window estimate a message would
 *	               be measured against) and the recorded spam-trap
 *	               clients; KIND: blocked, counters or traps
 *	clear user NAME | client IP | sender_domain DOMAIN | trap IP
 *	               removes a user's block and the counters of the
 *	               subject (or a trap record); exit 1 if nothing was
 *	               there
 *
 *	Both read policy_store of the configuration (-c FILE); with LMDB
 *	the command may run while the milter does.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "cli.h"
#include "conf.h"
#include "netaddr.h"
#include "policy.h"
#include "pstore.h"
#include "str.h"
#include "svcown.h"

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: mailwarden ratelimit show [-c FILE] "
	    "[blocked|counters|traps]\n"
	    "       mailwarden ratelimit clear [-c FILE] user NAME | client IP"
	    " |\n"
	    "           sender_domain DOMAIN | trap IP\n\n"
	    "Rate-limit state of policy_store (doc/scopes.md): users blocked "
	    "by\nratelimit_user_block, the counters of the current windows, "
	    "and spam-trap\nclients; clear lifts a block and resets the "
	    "counters of one subject.\n");
}

static const char *
kind_name(char k)
{
	switch (k) {
	case 'u': return "user";
	case 'b': return "user(block)";
	case 'c': return "client";
	case 's': return "sender_domain";
	default: return "?";
	}
}

static void
print_time(time_t t, const char *what)
{
	char ts[32];
	struct tm tm;

	if (t <= 0 || gmtime_r(&t, &tm) == NULL)
		return;
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
	printf("  %s %s", what, ts);
}

static int
show_blocked(const char *key, uint64_t v, time_t exp, void *arg)
{
	(void)exp;
	(void)arg;
	printf("blocked  user %s", key + 2);
	print_time((time_t)v, "since");
	putchar('\n');
	return 0;
}

static int
show_trap(const char *key, uint64_t v, time_t exp, void *arg)
{
	(void)arg;
	printf("trap     client %s  hits %llu", key + 2, (unsigned long long)v);
	print_time(exp, "until");
	putchar('\n');
	return 0;
}

struct counters {
	struct buf out;		/* lines, sorted at the end */
	time_t	 now;
	struct pstore *st;
	int	 n;
};

/* show_counter - for each current-window key: its estimate */
static int
show_counter(const char *key, uint64_t v, time_t exp, void *arg)
{
	struct counters *x = arg;
	struct policy_ctr_key c;
	char prev[PSTORE_KEY_MAX + 1];
	const char *kp = prev;
	uint64_t pv = 0;
	struct buf why = BUF_INIT;

	(void)exp;
	if (policy_counter_key(key, &c) < 0 ||
	    c.bucket != (uint64_t)x->now / c.window)
		return 0;
	snprintf(prev, sizeof(prev), "r:%c:%c:%u:%llu:%s", c.kind, c.type,
	    c.window, (unsigned long long)(c.bucket - 1), c.id);
	(void)pstore_get(x->st, &kp, 1, x->now, &pv, &why);
	buf_release(&why);
	buf_printf(&x->out, "counter  %s %s  %s per ", kind_name(c.kind),
	    c.id, c.type == 'r' ? "recipients" : "messages");
	ratelimit_window_text(c.window, &x->out);
	buf_printf(&x->out, "  %.1f\n", ratelimit_estimate(v, pv, c.window,
	    x->now));
	x->n++;
	return 0;
}

static int
show(struct pstore *st, const char *what)
{
	struct buf why = BUF_INIT;
	struct counters x;
	int rc = PSTORE_OK;
	bool all = what == NULL;

	memset(&x, 0, sizeof(x));
	x.now = time(NULL);
	x.st = st;
	if (all || strcmp(what, "blocked") == 0)
		rc = pstore_iter(st, "b:", x.now, show_blocked, NULL, &why);
	if (rc == PSTORE_OK && (all || strcmp(what, "counters") == 0)) {
		rc = pstore_iter(st, "r:", x.now, show_counter, &x, &why);
		fputs(buf_cstr(&x.out), stdout);
	}
	if (rc == PSTORE_OK && (all || strcmp(what, "traps") == 0))
		rc = pstore_iter(st, "t:", x.now, show_trap, NULL, &why);
	buf_release(&x.out);
	if (rc != PSTORE_OK) {
		fprintf(stderr, "mailwarden: ratelimit: %s\n", buf_cstr(&why));
		buf_release(&why);
		return 1;
	}
	buf_release(&why);
	return 0;
}

struct collect {
	char	 kind;
	const char *id;
	char	**keys;
	size_t	 n;
};

static int
collect_ctr(const char *key, uint64_t v, time_t exp, void *arg)
{
	struct collect *x = arg;
	struct policy_ctr_key c;

	(void)v;
	(void)exp;
	if (policy_counter_key(key, &c) == 0 && strcmp(c.id, x->id) == 0 &&
	    (c.kind == x->kind || (x->kind == 'u' && c.kind == 'b'))) {
		x->keys = xreallocarray(x->keys, x->n + 1, sizeof(char *));
		x->keys[x->n++] = xstrdup(key);
	}
	return 0;
}

static int
clear(struct pstore *st, const char *what, const char *name)
{
	struct collect x;
	struct buf why = BUF_INIT, id = BUF_INIT, key = BUF_INIT;
	size_t i, removed = 0;
	bool found, block = false;
	char low[256];
	struct netaddr na;
	int rc = PSTORE_OK;

	memset(&x, 0, sizeof(x));
	if (strcmp(what, "user") == 0)
		x.kind = 'u';
	else if (strcmp(what, "client") == 0)
		x.kind = 'c';
	else if (strcmp(what, "sender_domain") == 0) {
		x.kind = 's';
		snprintf(low, sizeof(low), "%s", name);
		str_lower(low);
		name = low;
	} else if (strcmp(what, "trap") == 0)
		x.kind = 't';
	else {
		usage(stderr);
		return 2;
	}
	if ((x.kind == 'c' || x.kind == 't') && netaddr_parse(name, &na) == 0) {
		/* the form the milter records (msg.c): 2001:DB8:0::1 too */
		netaddr_format(&na, low, sizeof(low));
		name = low;
	}
	policy_id(name, &id);
	x.id = buf_cstr(&id);
	if (x.kind == 'u' || x.kind == 't') {
		buf_printf(&key, "%c:%s", x.kind == 'u' ? 'b' : 't', x.id);
		rc = pstore_del(st, buf_cstr(&key), &found, &why);
		block = found;
	}
	if (rc == PSTORE_OK && x.kind != 't')
		rc = pstore_iter(st, "r:", time(NULL), collect_ctr, &x, &why);
	for (i = 0; i < x.n; i++) {
		if (rc == PSTORE_OK) {
			rc = pstore_del(st, x.keys[i], &found, &why);
			removed += found;
		}
		free(x.keys[i]);
	}
	free(x.keys);
	if (rc == PSTORE_OK) {
		if (x.kind == 't')
			printf("%s %s: %s\n", what, name, block ? "removed" :
			    "not recorded");
		else
			printf("%s %s: %s%zu counter(s) removed\n", what, name,
			    block ? "block lifted, " : "", removed);
	} else
		fprintf(stderr, "mailwarden: ratelimit: %s\n", buf_cstr(&why));
	buf_release(&why);
	buf_release(&id);
	buf_release(&key);
	return rc != PSTORE_OK ? 1 : block || removed ? 0 : 1;
}

int
cli_ratelimit(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct pstore_opts o = PSTORE_OPTS_DEFAULT;
	const char *path = NULL, *cmd;
	struct buf why = BUF_INIT;
	struct pstore *st = NULL;
	struct conf *c;
	uid_t uid = 0;
	gid_t gid = 0;
	int ch, rc, own;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (ch) {
		case 'c': path = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	cmd = argv[optind++];
	if (!((strcmp(cmd, "show") == 0 && argc - optind <= 1 &&
	    (optind == argc || strcmp(argv[optind], "blocked") == 0 ||
	    strcmp(argv[optind], "counters") == 0 ||
	    strcmp(argv[optind], "traps") == 0)) ||
	    (strcmp(cmd, "clear") == 0 && argc - optind == 2))) {
		usage(stderr);
		return 2;
	}
	if ((c = cli_load_conf(path)) == NULL)
		return 1;
	if (c->policy_store[0] == '\0') {
		fprintf(stderr, "mailwarden: ratelimit: no policy_store in "
		    "%s\n", c->path);
		conf_free(c);
		return 1;
	}
	o.timeout_ms = (unsigned)c->policy_redis_timeout;
	o.retry_s = 0;
	o.prefix = c->policy_redis_prefix;
	/* run as root: an LMDB store it creates is the daemon's user's */
	own = svcown_store(c, c->policy_store, &uid, &gid, &why);
	if (why.len)
		fprintf(stderr, "mailwarden: ratelimit: %s\n", buf_cstr(&why));
	buf_reset(&why);
	if (own < 0 ||
	    pstore_open(c->policy_store, &o, &st, &why) != PSTORE_OK ||
	    (own > 0 && svcown_give(c->policy_store, uid, gid, &why) < 0)) {
		if (why.len)
			fprintf(stderr, "mailwarden: ratelimit: %s\n",
			    buf_cstr(&why));
		if (st != NULL)
			pstore_close(&st);
		buf_release(&why);
		conf_free(c);
		return 1;
	}
	if (strcmp(cmd, "show") == 0)
		rc = show(st, optind < argc ? argv[optind] : NULL);
	else
		rc = clear(st, argv[optind], argv[optind + 1]);
	pstore_close(&st);
	conf_free(c);
	buf_release(&why);
	return rc;
}
