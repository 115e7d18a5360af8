/*
 * cli_dns.c - `mailwarden dns`: one lookup through mailwarden's resolver
 *
 * DESCRIPTION
 *	Resolves NAME for each TYPE (default TXT) with exactly the resolver
 *	the milter builds from the configuration (servers, timeouts, zone
 *	files), or with the servers / zone files given on the command line,
 *	and prints the status as the checks see it (ok, nodata, nxdomain,
 *	servfail, timeout, malformed, invalid-name), the cache TTL and the
 *	records.  For postmasters, and for the integration tests.
 *
 *	Exit status: 0 when every lookup got an answer (ok, nodata,
 *	nxdomain), 1 on a temporary failure or bad name, 2 on usage errors.
 *
 *	cli_dns_trace() prints each query of another command (dmarc record,
 *	dkim testkey) in the same form.
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
#include "str.h"

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: mailwarden dns [-c FILE] [--server ADDR[:PORT]]... "
	    "[--zone FILE]...\n"
	    "                      [--timeout MS] [--retries N] "
	    "[--any-name] NAME [TYPE...]\n"
	    "Looks NAME up (TYPE: A AAAA MX TXT PTR NS CNAME; default TXT) "
	    "with the\nconfigured resolver, or with the given servers or zone"
	    " files.\n");
}

static void
print_answer(const char *name, uint16_t type, const struct dns_answer *a,
    double ms)
{
	struct buf t = BUF_INIT;
	char ip[NETADDR_STRLEN];
	size_t i;

	printf("%s %s %s ttl=%u time=%.1fms\n", name, dns_type_name(type),
	    dns_status_name(a->status), (unsigned)a->ttl, ms);
	for (i = 0; i < a->n; i++) {
		const struct dns_rr *rr = &a->rrs[i];

		buf_reset(&t);
		switch (rr->type) {
		case DNS_T_A:
		case DNS_T_AAAA:
			netaddr_format(&rr->addr, ip, sizeof(ip));
			buf_adds(&t, ip);
			break;
		case DNS_T_MX:
			buf_printf(&t, "%u %s", rr->pref, rr->name);
			break;
		case DNS_T_TXT:
			buf_printf(&t, "strings=%zu len=%zu ", rr->txt_nstrings,
			    rr->txt_len);
			str_escape(&t, rr->txt, rr->txt_len, 4096);
			break;
		default:
			buf_adds(&t, rr->name ? rr->name : "");
		}
		printf("  %s\n", buf_cstr(&t));
	}
	buf_release(&t);
}

void
cli_dns_trace(void *arg, const char *name, uint16_t type,
    const struct dns_answer *a, double ms)
{
	(void)arg;
	printf("query %s", a->from_cache ? "(cached) " : "");
	print_answer(name, type, a, ms);
}

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

struct dns_resolver *
cli_resolver(const struct conf *c, char **servers, size_t ns, char **zones,
    size_t nz, double timeout, long retries)
{
	struct resolver_override ov;
	struct dns_resolver *r = NULL;
	struct buf why = BUF_INIT;

	memset(&ov, 0, sizeof(ov));
	ov.zones = (const char *const *)zones;
	ov.nzones = nz;
	ov.servers = (const char *const *)servers;
	ov.nservers = ns;
	ov.timeout_ms = timeout;
	ov.retries = retries;
	ov.no_prefetch = true;
	if (engine_resolver_open(c, &ov, &r, &why) < 0)
		fprintf(stderr, "mailwarden: %s\n", buf_cstr(&why));
	buf_release(&why);
	return r;
}

int
cli_dns(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "server", required_argument, NULL, 's' },
		{ "zone", required_argument, NULL, 'z' },
		{ "timeout", required_argument, NULL, 't' },
		{ "retries", required_argument, NULL, 'r' },
		{ "any-name", no_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *cpath = NULL;
	char **servers = NULL, **zones = NULL;
	size_t ns = 0, nz = 0;
	double timeout = 0;
	long retries = -1;
	unsigned flags = 0;
	uint64_t u;
	struct engine *eng = NULL;
	struct dns_resolver *r = NULL;
	int ch, i, rc = 2;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (ch) {
		case 'c': cpath = optarg; break;
		case 's':
			servers = xreallocarray(servers, ns + 1, sizeof(char *));
			servers[ns++] = optarg;
			break;
		case 'z':
			zones = xreallocarray(zones, nz + 1, sizeof(char *));
			zones[nz++] = optarg;
			break;
		case 't':
			if (parse_uint(optarg, 1, 600000, &u) < 0)
				goto usage;
			timeout = (double)u;
			break;
		case 'r':
			if (parse_uint(optarg, 0, 10, &u) < 0)
				goto usage;
			retries = (long)u;
			break;
		case 'a': flags |= DNS_F_ANYNAME; break;
		case 'h': usage(stdout); rc = 0; goto out;
		default: goto usage;
		}
	}
	if (optind >= argc)
		goto usage;
	if ((eng = cli_load_engine(cpath)) == NULL) {
		rc = 1;
		goto out;
	}
	if ((r = cli_resolver(eng->conf, servers, ns, zones, nz, timeout,
	    retries)) == NULL) {
		rc = 1;
		goto out;
	}
	rc = 0;
	for (i = optind + 1; i < argc || i == optind + 1; i++) {
		const char *tn = i < argc ? argv[i] : "TXT";
		struct dns_answer *a;
		uint16_t type;
		double t0;

		if (dns_type_parse(tn, &type) < 0) {
			fprintf(stderr, "mailwarden dns: unknown type %s\n", tn);
			rc = 2;
			break;
		}
		t0 = now_ms();
		dns_lookup_ex(r, argv[optind], type, flags, NULL, &a);
		print_answer(argv[optind], type, a, now_ms() - t0);
		if (a->status != DNS_OK && a->status != DNS_NODATA &&
		    a->status != DNS_NXDOMAIN)
			rc = 1;
		dns_answer_free(a);
	}
	goto out;
usage:
	usage(stderr);
	rc = 2;
out:
	dns_resolver_free(r);
	engine_unref(eng);
	free(servers);
	free(zones);
	return rc;
}
