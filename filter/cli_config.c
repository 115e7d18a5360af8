/*
 * cli_config.c - `mailwarden config`: print or validate configuration
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "cli.h"
#include "conf.h"
#include "engine.h"

struct engine *
cli_load_engine(const char *path)
{
	struct engine *e = NULL;
	struct buf why = BUF_INIT;

	if (path == NULL && access(MW_DEFAULT_CONF, F_OK) == 0)
		path = MW_DEFAULT_CONF;
	if (path == NULL) {
		if (engine_new(conf_defaults(), &e, &why) < 0)
			fprintf(stderr, "mailwarden: %s\n", buf_cstr(&why));
	} else if (engine_load(path, &e, &why) < 0) {
		fprintf(stderr, "mailwarden: %s\n", buf_cstr(&why));
	}
	buf_release(&why);
	return e;
}

static void
usage(FILE *f)
{
	fprintf(f, "usage: mailwarden config [-c FILE] [-n] "
	    "[--reference[=man]]\n"
	    "  -c FILE      configuration file (default %s)\n"
	    "  -n           only validate; exit non-zero on errors\n"
	    "  --reference  print every key with its default and meaning\n"
	    "               (a Markdown table; =man: man(7) entries;\n"
	    "               =conf: a configuration file, all commented out)\n",
	    MW_DEFAULT_CONF);
}

int
cli_config(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check", no_argument, NULL, 'n' },
		{ "reference", optional_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *path = NULL;
	bool check_only = false;
	struct engine *e;
	struct buf out = BUF_INIT;
	int ch;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "c:nh", opts, NULL)) != -1) {
		switch (ch) {
		case 'c': path = optarg; break;
		case 'n': check_only = true; break;
		case 'r':
			if (optarg && strcmp(optarg, "man") == 0)
				conf_reference_man(&out);
			else if (optarg && strcmp(optarg, "conf") == 0)
				conf_reference_conf(&out, MW_DEFAULT_CONF);
			else if (optarg == NULL)
				conf_reference(&out);
			else {
				usage(stderr);
				return 2;
			}
			fputs(buf_cstr(&out), stdout);
			buf_release(&out);
			return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	if (path == NULL && access(MW_DEFAULT_CONF, F_OK) < 0 && check_only) {
		/* the daemon would refuse to start: so does the check */
		fprintf(stderr, "mailwarden: %s: no configuration file (-c %s "
		    "checks the built-in defaults)\n", MW_DEFAULT_CONF,
		    MW_NO_CONF);
		return 1;
	}
	if ((e = cli_load_engine(path)) == NULL)
		return 1;
	if (check_only) {
		printf("%s: configuration OK\n", e->conf->path);
	} else {
		/* conf_dump names the file it read */
		if (path == NULL && access(MW_DEFAULT_CONF, F_OK) < 0)
			printf("# no file at %s\n", MW_DEFAULT_CONF);
		conf_dump(e->conf, &out);
		fputs(buf_cstr(&out), stdout);
	}
	buf_release(&out);
	engine_unref(e);
	return 0;
}
