/*
 * cli_spf.c - `mailwarden spf`: one SPF evaluation with its trace
 *
 * DESCRIPTION
 *	Like spfquery: evaluates SPF for a client address, HELO name and
 *	envelope sender with the configured resolver (or the servers or
 *	zone files given), and prints the result of each identity checked,
 *	the term that decided, the explanation, the DNS terms used and a
 *	trace of every record, term and lookup, for postmasters debugging
 *	a domain.  With --from the MAIL FROM identity is checked (and the
 *	HELO too when --helo is given); without it, the HELO identity.
 *
 *	Exit status: 0 when the evaluation ran, 1 on set-up errors, 2 on
 *	usage errors.
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
#include "dns.h"
#include "engine.h"
#include "msg.h"
#include "spf.h"
#include "str.h"

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: mailwarden spf [-c FILE] --ip ADDR [--helo NAME] "
	    "[--from ADDR]\n"
	    "                      [--server ADDR[:PORT]]... [--zone FILE]... "
	    "[--quiet]\n"
	    "Evaluates SPF (RFC 7208) and prints the result, the deciding "
	    "term and a\ntrace of each record, term and DNS lookup.\n");
}

static void
print_outcome(const struct spf_outcome *o, double ms, const struct buf *tr)
{
	printf("identity: %s\n", spf_identity_name(o->identity));
	printf("sender: %s\n", o->sender ? o->sender : "");
	printf("result: %s\n", spf_result_name(o->result));
	if (o->mechanism)
		printf("mechanism: %s (record of %s)\n", o->mechanism,
		    o->record_domain);
	if (o->explanation)
		printf("explanation: %s%s\n", o->explanation,
		    o->exp_from_domain ? "" : " (default)");
	if (o->problem)
		printf("problem: %s\n", o->problem);
	printf("lookups: %u DNS terms, %u void, %u queries, %.1f ms\n",
	    o->lookups, o->void_lookups, o->queries, ms);
	if (tr && tr->len)
		printf("trace:\n%s", buf_cstr(tr));
}

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

/* run_one - evaluate one identity and print it */
static void
run_one(struct dns_resolver *r, const struct engine *eng,
    const struct spf_request *req, enum spf_identity id, bool quiet)
{
	struct spf_limits lim;
	struct spf_outcome o;
	struct buf tr = BUF_INIT;
	double t0 = now_ms();

	spf_limits_default(&lim);
	lim.max_dns_terms = (unsigned)eng->conf->spf_max_dns_lookups;
	lim.max_void = (unsigned)eng->conf->spf_max_void_lookups;
	spf_check(r, NULL, req, id, &lim, &o, quiet ? NULL : &tr);
	print_outcome(&o, now_ms() - t0, &tr);
	spf_outcome_release(&o);
	buf_release(&tr);
}

int
cli_spf(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "ip", required_argument, NULL, 'i' },
		{ "helo", required_argument, NULL, 'H' },
		{ "from", required_argument, NULL, 'f' },
		{ "server", required_argument, NULL, 's' },
		{ "zone", required_argument, NULL, 'z' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *cpath = NULL, *ip = NULL, *from = NULL;
	char **servers = NULL, **zones = NULL, *sender = NULL;
	size_t ns = 0, nz = 0;
	bool quiet = false;
	struct spf_request req;
	struct engine *eng = NULL;
	struct dns_resolver *r = NULL;
	int ch, rc = 2;

	memset(&req, 0, sizeof(req));
	optind = 1;
	while ((ch = getopt_long(argc, argv, "c:qh", opts, NULL)) != -1) {
		switch (ch) {
		case 'c': cpath = optarg; break;
		case 'i': ip = optarg; break;
		case 'H': req.helo = optarg; break;
		case 'f': from = optarg; break;
		case 's':
			servers = xreallocarray(servers, ns + 1, sizeof(char *));
			servers[ns++] = optarg;
			break;
		case 'z':
			zones = xreallocarray(zones, nz + 1, sizeof(char *));
			zones[nz++] = optarg;
			break;
		case 'q': quiet = true; break;
		case 'h': usage(stdout); rc = 0; goto out;
		default: goto usage;
		}
	}
	if (optind != argc || ip == NULL || (from == NULL && req.helo == NULL))
		goto usage;
	if (netaddr_parse(ip, &req.ip) < 0) {
		fprintf(stderr, "mailwarden spf: --ip %s: not an IP address\n",
		    ip);
		goto out;
	}
	if ((eng = cli_load_engine(cpath)) == NULL ||
	    (r = cli_resolver(eng->conf, servers, ns, zones, nz, 0, -1)) ==
	    NULL) {
		rc = 1;
		goto out;
	}
	sender = from ? envelope_strip(from) : NULL;
	req.sender = sender ? sender : "";
	req.receiver = conf_authserv_id(eng->conf);
	req.now = time(NULL);
	req.default_exp = eng->conf->spf_explanation;
	if (from == NULL || (req.helo && *req.sender)) {
		run_one(r, eng, &req, SPF_ID_HELO, quiet);
		if (from)
			printf("\n");
	}
	if (from)
		run_one(r, eng, &req, SPF_ID_MAILFROM, quiet);
	rc = 0;
	goto out;
usage:
	usage(stderr);
out:
	free(sender);
	dns_resolver_free(r);
	engine_unref(eng);
	free(servers);
	free(zones);
	return rc;
}
