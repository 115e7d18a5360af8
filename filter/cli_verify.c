/*
 * cli_verify.c - the "verify [-c FILE] [--time SECONDS] FILE..." driver
 *
 * DESCRIPTION
 *	`dkim verify` and `arc verify` take the same options and treat
 *	their files the same way: load the engine from -c (or the default
 *	file), warn when there is no resolver, verify each file as at
 *	--time (or now), and exit with the worst status of the files.
 *	cli_verify_files() is that loop; each command supplies the
 *	verification of one file.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <time.h>

#include "cli.h"
#include "engine.h"
#include "str.h"

int
cli_verify_files(int argc, char **argv, const char *cmd,
    int (*verify)(struct engine *, time_t now, const char *path))
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "time", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *conf = NULL;
	struct engine *eng;
	uint64_t t = 0;
	int ch, i, rc = 0, r;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "c:t:h", opts, NULL)) != -1) {
		switch (ch) {
		case 'c': conf = optarg; break;
		case 't':
			if (parse_uint(optarg, 1, 253402300799ULL, &t) < 0) {
				fprintf(stderr, "mailwarden %s: --time wants "
				    "seconds since 1970\n", cmd);
				return 2;
			}
			break;
		case 'h':
			printf("usage: mailwarden %s [-c FILE] [--time SECONDS] "
			    "FILE...\n", cmd);
			return 0;
		default: return 2;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "usage: mailwarden %s [-c FILE] [--time "
		    "SECONDS] FILE...\n", cmd);
		return 2;
	}
	if ((eng = cli_load_engine(conf)) == NULL)
		return 2;
	if (eng->dns == NULL)
		fprintf(stderr, "mailwarden %s: warning: no DNS resolver "
		    "configured, keys cannot be fetched\n", cmd);
	for (i = optind; i < argc; i++) {
		r = verify(eng, t ? (time_t)t : time(NULL), argv[i]);
		if (r > rc)
			rc = r;
	}
	engine_unref(eng);
	return rc;
}
