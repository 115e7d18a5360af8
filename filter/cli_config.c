/*
 * cli_config.c - `mailwarden config`: print or validate configuration
 *
 * DESCRIPTION
 *	config -n loads everything the daemon would (the file, lists, rule
 *	directories, keys, zone files) and prints every error of the run,
 *	one per line as "FILE:LINE: key: problem", then how many; run as
 *	root, what the service user cannot open (also when the engine did
 *	not load, if the file parsed); warnings (a score for a symbol
 *	nothing emits, in the file, a rule file or a scope file; a trusted
 *	ARC sealer or forwarder name that is a public suffix, a trusted
 *	forwarder network wider than /8 or /16) too.  Exit status: 0 when
 *	the configuration loads and the user can open what it names (with
 *	--strict: and there is no warning), 1 if not, 2 on usage errors.
 *	config --scope NAME prints a policy scope's
 *	selectors and effective keys (scope.h).
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
#include "forwarders.h"
#include "psl.h"
#include "scope.h"
#include "svcown.h"
#include "symbols.h"

void
cli_print_lines(FILE *f, const char *prefix, const char *text)
{
	const char *nl;

	for (; *text; text = nl + 1) {
		nl = strchr(text, '\n');
		fprintf(f, "%s%.*s\n", prefix, nl ? (int)(nl - text) :
		    (int)strlen(text), text);
		if (nl == NULL)
			break;
	}
}

/* conf_path - path from -c, else the default file if it exists */
static const char *
conf_path(const char *path)
{
	if (path == NULL && access(MW_DEFAULT_CONF, F_OK) == 0)
		return MW_DEFAULT_CONF;
	return path;
}

/* load_engine - the engine, or NULL with every error in why */
static struct engine *
load_engine(const char *path, struct buf *why)
{
	struct engine *e = NULL;

	if ((path = conf_path(path)) == NULL)
		(void)engine_new(conf_defaults(), &e, why);
	else
		(void)engine_load(path, &e, why);
	return e;
}

struct engine *
cli_load_engine(const char *path)
{
	struct buf why = BUF_INIT;
	struct engine *e = load_engine(path, &why);

	if (e == NULL)
		cli_print_lines(stderr, "mailwarden: ", buf_cstr(&why));
	buf_release(&why);
	return e;
}

struct conf *
cli_load_conf(const char *path)
{
	struct conf *c = NULL;
	struct buf why = BUF_INIT;

	if ((path = conf_path(path)) == NULL)
		c = conf_defaults();
	else if (conf_load(path, &c, &why) < 0)
		cli_print_lines(stderr, "mailwarden: ", buf_cstr(&why));
	buf_release(&why);
	return c;
}

struct conf *
cli_load_scope_conf(const char *path, const char *scope)
{
	struct conf *c = cli_load_conf(path), *sc = NULL;
	struct scope_set set;
	struct buf why = BUF_INIT;
	size_t i;

	if (c == NULL || scope == NULL)
		return c;
	if (scope_load(c, &set, &why) < 0)
		cli_print_lines(stderr, "mailwarden: ", buf_cstr(&why));
	else {
		for (i = 0; i < set.n && sc == NULL; i++)
			if (strcmp(set.v[i].name, scope) == 0) {
				sc = set.v[i].conf;
				set.v[i].conf = NULL;
			}
		if (sc == NULL)
			fprintf(stderr, "mailwarden: no scope %s in scope_dir "
			    "'%s'\n", scope, c->scope_dir);
		scope_set_release(&set);
	}
	conf_free(c);
	buf_release(&why);
	return sc;
}

/* count_lines - messages in a why buffer */
static size_t
count_lines(const struct buf *b)
{
	size_t i, n = b->len ? 1 : 0;

	for (i = 0; i < b->len; i++)
		n += b->data[i] == '\n';
	return n;
}

/*
 * parsed_conf - config -n, after the engine failed to load: the file
 * itself, when it parses without an error (its errors are printed
 * already), for the checks that need no engine; else NULL
 */
static struct conf *
parsed_conf(const char *path)
{
	struct buf why = BUF_INIT;
	struct conf *c = NULL;

	if ((path = conf_path(path)) == NULL)
		c = conf_defaults();
	else if (conf_load(path, &c, &why) < 0)
		c = NULL;
	buf_release(&why);
	return c;
}

/*
 * check_config - config -n: everything one run can report: every load
 * error, then a count; the service user's access to the files the
 * configuration names (whenever the file itself parsed); the warnings
 * (when the engine loaded).  Exit 1 on errors or access problems (or,
 * with --strict, on warnings too).
 */
static int
check_config(const char *path, bool strict)
{
	struct buf why = BUF_INIT;
	struct engine *e = load_engine(path, &why);
	struct conf *parsed = NULL;
	const struct conf *c;
	size_t nwarn = 0;
	int nown = 0;

	if (e == NULL) {
		cli_print_lines(stderr, "", buf_cstr(&why));
		fprintf(stderr, "%s: %zu error(s)\n", conf_path(path) ?
		    conf_path(path) : "(defaults)", count_lines(&why));
		parsed = parsed_conf(path);
	}
	c = e ? e->conf : parsed;
	buf_reset(&why);
	/* run as root: can the daemon's user open what the file names? */
	if (c && (nown = svcown_check(c, &why)) != 0) {
		cli_print_lines(stderr, "", buf_cstr(&why));
		fprintf(stderr, "%s: %d problem(s) for user %s\n", c->path,
		    nown < 0 ? 1 : nown, c->user);
	}
	buf_reset(&why);
	if (e)
		nwarn = engine_lint(e, &why);
	if (nwarn > 0)
		cli_print_lines(stderr, "", buf_cstr(&why));
	if (e && nown == 0 && nwarn)
		printf("%s: configuration OK, %zu warning(s)\n", c->path,
		    nwarn);
	else if (e && nown == 0)
		printf("%s: configuration OK\n", c->path);
	else if (nwarn)
		fprintf(stderr, "%s: %zu warning(s)\n", c->path, nwarn);
	buf_release(&why);
	conf_free(parsed);
	if (e)
		engine_unref(e);
	return e == NULL || nown != 0 || (strict && nwarn) ? 1 : 0;
}

/* dump_scope - config --scope NAME */
static int
dump_scope(const struct engine *e, const char *name, struct buf *out)
{
	const struct scope *sc = scope_find(e->scopes, name);
	size_t i;

	if (sc == NULL) {
		fprintf(stderr, "mailwarden: no scope %s in %s", name,
		    e->conf->scope_dir[0] ? e->conf->scope_dir :
		    "(scope_dir is empty)");
		for (i = 0; e->scopes && i < e->scopes->n; i++)
			fprintf(stderr, "%s%s", i ? ", " : "; scopes: ",
			    e->scopes->v[i].name);
		fputc('\n', stderr);
		return 1;
	}
	scope_dump(sc, out);
	return 0;
}

static void
usage(FILE *f)
{
	fprintf(f, "usage: mailwarden config [-c FILE] [-n [--strict]] "
	    "[--reference[=man|conf]] [--scope NAME]\n"
	    "  -c FILE      configuration file (default %s)\n"
	    "  -n           only validate: print every error and warning as\n"
	    "               FILE:LINE: key: problem; exit 1 on errors\n"
	    "  --strict     with -n: exit 1 on warnings too\n"
	    "  --reference  print every key with its default and meaning\n"
	    "               (a Markdown table; =man: man(7) entries;\n"
	    "               =conf: a configuration file, all commented out)\n"
	    "  --scope NAME print the selectors and effective keys of the\n"
	    "               policy scope NAME (scope_dir/NAME.conf)\n",
	    MW_DEFAULT_CONF);
}

int
cli_config(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check", no_argument, NULL, 'n' },
		{ "strict", no_argument, NULL, 's' },
		{ "reference", optional_argument, NULL, 'r' },
		{ "scope", required_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *path = NULL, *scope = NULL;
	bool check_only = false, strict = false;
	struct engine *e;
	struct buf out = BUF_INIT;
	int ch;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "c:nh", opts, NULL)) != -1) {
		switch (ch) {
		case 'c': path = optarg; break;
		case 'n': check_only = true; break;
		case 's': strict = true; break;
		case 'S': scope = optarg; break;
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
	if (check_only)
		return check_config(path, strict);
	if ((e = cli_load_engine(path)) == NULL)
		return 1;
	/* conf_dump names the file it read */
	if (path == NULL && access(MW_DEFAULT_CONF, F_OK) < 0)
		printf("# no file at %s\n", MW_DEFAULT_CONF);
	ch = 0;
	if (scope)
		ch = dump_scope(e, scope, &out);
	else
		conf_dump(e->conf, &out);
	fputs(buf_cstr(&out), stdout);
	buf_release(&out);
	engine_unref(e);
	return ch;
}
