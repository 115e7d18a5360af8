/*
 * cli_rules.c - `mailwarden rules`: check, list, test, stats
 *
 * DESCRIPTION
 *	rules check [-c FILE] [-q] [--strict] [PATH...]
 *	    Lint: load PATH (files, or directories of *.cf), or the
 *	    configured rules_dir and rules_site_dir, and print every
 *	    diagnostic as "file:line: kind: text", then counts of rules by
 *	    type.  A `score` for a name that no rule, built-in check or
 *	    configured blocklist emits is a warning.  Exit 1 if there is
 *	    any error (with --strict: or warning), else 0.
 *	rules list [-c FILE] [-r PATH]...
 *	    One line per rule: name, type, score, flags, description.
 *	rules test [-c FILE] [-r PATH]... NAME MESSAGE...
 *	    Does rule NAME hit each message, and on what text.  Exit 0 if it
 *	    hit every message, 1 if it missed one, 2 on errors.
 *	rules fit ...
 *	    Score fitting over labelled verdict logs: cli_fit.c.
 *	rules hits [-c FILE] [-r PATH]... MESSAGE...
 *	    One line per message, "FILE<TAB><TAB>RULE,RULE,...": the scored
 *	    rules that hit, sorted by name (the form of SpamAssassin's
 *	    tests= list, so the two can be compared: contrib/bench/
 *	    sa_agreement.py).
 *	rules stats [-c FILE] [-r PATH]... [--no-prefilter] SPAMDIR HAMDIR
 *	    Hit counts and rates of every scored rule over two directories of
 *	    message files (a Markdown table), how many messages the rules
 *	    alone would tag, and the mean time per message of MIME decoding
 *	    plus rule matching.  --no-prefilter runs every regex on every
 *	    input (same hits, slower: a check of the prefilter).
 *
 *	Messages are read the way `mailwarden scan` reads them, capped at
 *	max_scan_bytes, so a rule behaves here as in the milter.
 */
#include "config.h"

#include <dirent.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "cli.h"
#include "conf.h"
#include "dnsbl.h"
#include "files.h"
#include "mime.h"
#include "msg.h"
#include "msgparse.h"
#include "relays.h"
#include "rules.h"
#include "symbols.h"

#define MAX_MESSAGE	(256u * 1024 * 1024)

struct ropts {
	const char *conf;
	const char **paths;
	size_t	 npaths;
	bool	 quiet;
	bool	 strict;		/* check: warnings fail too */
	unsigned eval_flags;	/* --no-prefilter */
	struct conf *c;
};

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: mailwarden rules check [-c FILE] [-q] [--strict] "
	    "[PATH...]\n"
	    "       mailwarden rules list  [-c FILE] [-r PATH]...\n"
	    "       mailwarden rules test  [-c FILE] [-r PATH]... NAME "
	    "MESSAGE...\n"
	    "       mailwarden rules hits  [-c FILE] [-r PATH]... "
	    "MESSAGE...\n"
	    "       mailwarden rules stats [-c FILE] [-r PATH]... "
	    "[--no-prefilter] SPAMDIR HAMDIR\n"
	    "       mailwarden rules relays [-c FILE] MESSAGE...\n"
	    "       mailwarden rules fit   [-c FILE] --ham LOG... --spam LOG... "
	    "[-o FILE] [OPTIONS]\n"
	    "       mailwarden rules fit   [-c FILE] SAMPLEDIR... [-o FILE] "
	    "[OPTIONS]\n"
	    "  -c FILE  configuration (rules_dir, rules_site_dir, limits)\n"
	    "  -r PATH  rule file or directory instead of the configured ones\n"
	    "  -q       check: do not list unsupported constructs, count them\n"
	    "  --strict check: exit 1 on warnings too\n");
}

/* load_conf - the configuration named, the default file, or defaults */
static int
load_conf(struct ropts *o)
{
	o->c = cli_load_conf(o->conf);
	return o->c ? 0 : -1;
}

/* default_paths - the configured directories that exist */
static void
default_paths(struct ropts *o)
{
	const char *dirs[2] = { o->c->rules_dir, o->c->rules_site_dir };
	size_t i;

	for (i = 0; i < 2; i++)
		if (dirs[i][0] && access(dirs[i], F_OK) == 0) {
			o->paths = xreallocarray(o->paths, o->npaths + 1,
			    sizeof(*o->paths));
			o->paths[o->npaths++] = dirs[i];
		}
}

static void
options_from_conf(const struct conf *c, struct rules_options *opt)
{
	memset(opt, 0, sizeof(*opt));
	opt->match_limit = (unsigned long)c->rules_match_limit;
	opt->no_hyperscan = !conf_hyperscan(c, false);
	opt->body_part_max = (size_t)c->rules_body_part_max;
	opt->rawbody_part_max = (size_t)c->rules_rawbody_part_max;
	opt->score_set = conf_score_set_base(c);
}

static void
print_diags(const struct rules_report *rep, bool quiet)
{
	struct buf line = BUF_INIT;
	size_t i;

	for (i = 0; i < rep->n; i++) {
		if (quiet && rep->v[i].kind == RULES_DIAG_UNSUPPORTED)
			continue;
		buf_reset(&line);
		rules_diag_format(&rep->v[i], &line);
		fprintf(rep->v[i].kind == RULES_DIAG_ERROR ? stderr : stdout,
		    "%s\n", buf_cstr(&line));
	}
	buf_release(&line);
}

/* load_set - the rule set of o; prints diagnostics on failure */
static struct ruleset *
load_set(struct ropts *o, bool print_all)
{
	struct rules_options opt;
	struct rules_report rep;
	struct ruleset *rs;

	if (o->npaths == 0)
		default_paths(o);
	options_from_conf(o->c, &opt);
	if (rules_load(o->paths, o->npaths, &opt, &rs, &rep) < 0)
		print_diags(&rep, true);
	else if (print_all)
		print_diags(&rep, o->quiet);
	rules_report_release(&rep);
	return rs;
}

/*
 * lint_scores - warn about `score` lines for names nothing emits (the
 * blocklist symbols of the configuration count as emitted); how many
 */
static size_t
lint_scores(const struct conf *c, const struct ruleset *rs)
{
	struct dnsbl *bl = NULL;
	struct buf out = BUF_INIT, why = BUF_INIT;
	size_t n;

	if (rs == NULL)
		return 0;
	if ((c->dnsbl.n || c->uribl.n) && dnsbl_new(c, &bl, &why) < 0)
		bl = NULL;	/* conf_parse() checked the entries */
	if ((n = symbols_lint(NULL, rs, bl, &out)) > 0)
		printf("%s\n", buf_cstr(&out));
	dnsbl_free(bl);
	buf_release(&out);
	buf_release(&why);
	return n;
}

/* print_missing - the eval functions not provided, what each holds back */
static void
print_missing(const struct rules_report *rep)
{
	size_t i;

	if (rep->nmissing == 0)
		return;
	printf("%zu eval function(s) not provided (rules calling it, "
	    "disabled metas needing it):\n", rep->nmissing);
	for (i = 0; i < rep->nmissing; i++)
		printf("  %-40s %4u rule(s) %4u meta(s)\n",
		    rep->missing[i].func, rep->missing[i].rules,
		    rep->missing[i].metas);
}

static int
cmd_check(struct ropts *o, int argc, char **argv)
{
	struct rules_options opt;
	struct rules_report rep;
	struct ruleset *rs;
	size_t nwarn;
	int i, rc;

	for (i = 0; i < argc; i++) {
		o->paths = xreallocarray(o->paths, o->npaths + 1,
		    sizeof(*o->paths));
		o->paths[o->npaths++] = argv[i];
	}
	if (o->npaths == 0)
		default_paths(o);
	if (o->npaths == 0) {
		fprintf(stderr, "mailwarden rules check: no rule directory "
		    "found (rules_dir %s, rules_site_dir %s)\n",
		    o->c->rules_dir, o->c->rules_site_dir);
		return 1;
	}
	options_from_conf(o->c, &opt);
	rc = rules_load(o->paths, o->npaths, &opt, &rs, &rep);
	print_diags(&rep, o->quiet);
	nwarn = rep.nwarnings + lint_scores(o->c, rs);
	printf("%zu file(s): %zu header, %zu body, %zu rawbody, %zu uri, "
	    "%zu full, %zu meta rules (%zu meta disabled); %zu error(s), "
	    "%zu warning(s), %zu unsupported\n", rep.files,
	    rep.by_type[RULE_HEADER], rep.by_type[RULE_BODY],
	    rep.by_type[RULE_RAWBODY], rep.by_type[RULE_URI],
	    rep.by_type[RULE_FULL], rep.by_type[RULE_META], rep.disabled,
	    rep.nerrors, nwarn, rep.nunsupported);
	print_missing(&rep);
	rules_report_release(&rep);
	rules_free(rs);
	return rc < 0 || (o->strict && nwarn) ? 1 : 0;
}

static int
cmd_list(struct ropts *o)
{
	struct ruleset *rs = load_set(o, false);
	const struct rule *r;
	size_t i;

	if (rs == NULL)
		return 1;
	for (i = 0; i < rules_count(rs); i++) {
		r = rules_get(rs, i);
		printf("%-28s %-8s %6.2f %s%s%s%s  %s\n", rule_name(r),
		    rule_type_name(rule_type_of(r)), rule_score(r),
		    rule_enabled(r) ? "" : "disabled ",
		    (rule_tflags(r) & RULE_F_NICE) ? "nice " : "",
		    (rule_tflags(r) & RULE_F_MULTIPLE) ? "multiple " : "",
		    rule_prefiltered(r) && rule_prefiltered_hs(r) ?
		    "prefiltered+hs" : rule_prefiltered(r) ? "prefiltered" :
		    rule_prefiltered_hs(r) ? "prefiltered(hs)" : "",
		    rule_describe(r) ? rule_describe(r) : "");
	}
	rules_free(rs);
	return 0;
}

/* ------------------------------------------------------------------ */
/* messages from files                                                 */
/* ------------------------------------------------------------------ */

/* load_message - a message file into a new msg, as `scan` reads it */
static struct msg *
load_message(const struct conf *c, const char *path)
{
	struct msg_limits lim;
	struct buf text = BUF_INIT, why = BUF_INIT;
	struct msg *m;

	if (files_read(path, MAX_MESSAGE, &text, &why) < 0) {
		fprintf(stderr, "mailwarden rules: %s\n", buf_cstr(&why));
		buf_release(&why);
		return NULL;
	}
	msg_limits_from_conf(&lim, c);
	m = msg_new(&lim);
	msgparse_text(m, text.data, text.len);
	buf_release(&text);
	return m;
}

static void
print_match(const char *where, const char *text, void *arg)
{
	(void)arg;
	printf("  %s: %s\n", where, text);
}

static int
cmd_test(struct ropts *o, int argc, char **argv)
{
	struct ruleset *rs;
	struct mime_limits lim;
	struct mime_msg *mm;
	struct msg *m;
	long hits;
	int i, rc = 0;

	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if ((rs = load_set(o, false)) == NULL)
		return 2;
	if (rules_find(rs, argv[0]) == NULL) {
		fprintf(stderr, "mailwarden rules test: no rule %s in the "
		    "set\n", argv[0]);
		rules_free(rs);
		return 2;
	}
	mime_limits_from_conf(&lim, o->c);
	for (i = 1; i < argc; i++) {
		if ((m = load_message(o->c, argv[i])) == NULL) {
			rc = 2;
			continue;
		}
		mm = mime_parse(m, &lim);
		printf("%s: %s\n", argv[i], argv[0]);
		hits = rules_test(rs, argv[0], m, mm, print_match, NULL);
		printf("  => %s (%ld match%s)\n", hits > 0 ? "HIT" : "no hit",
		    hits, hits == 1 ? "" : "es");
		if (hits <= 0 && rc == 0)
			rc = 1;
		mime_free(&mm);
		msg_free(&m);
	}
	rules_free(rs);
	return rc;
}

/* ------------------------------------------------------------------ */
/* hits                                                                */
/* ------------------------------------------------------------------ */

static int
cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* print_hits - "FILE\t\tA,B,C" for the scored rules of res, by name */
static void
print_hits(const char *file, const struct rules_result *res)
{
	const char **names = xcalloc(res->nhits + 1, sizeof(*names));
	size_t i, n = 0;

	for (i = 0; i < res->nhits; i++)
		if (rule_scored(res->hits[i].rule))
			names[n++] = rule_name(res->hits[i].rule);
	qsort(names, n, sizeof(*names), cmp_name);
	printf("%s\t\t", file);
	for (i = 0; i < n; i++)
		printf("%s%s", i ? "," : "", names[i]);
	printf("\n");
	free(names);
}

static int
cmd_hits(struct ropts *o, int argc, char **argv)
{
	struct ruleset *rs;
	struct mime_limits lim;
	struct rules_result res;
	struct mime_msg *mm;
	struct msg *m;
	int i, rc = 0;

	if (argc < 1) {
		usage(stderr);
		return 2;
	}
	if ((rs = load_set(o, false)) == NULL)
		return 2;
	mime_limits_from_conf(&lim, o->c);
	for (i = 0; i < argc; i++) {
		if ((m = load_message(o->c, argv[i])) == NULL) {
			rc = 2;
			continue;
		}
		mm = mime_parse(m, &lim);
		rules_eval(rs, m, mm, o->eval_flags, &res);
		print_hits(argv[i], &res);
		rules_result_release(&res);
		mime_free(&mm);
		msg_free(&m);
	}
	rules_free(rs);
	return rc;
}

/* ------------------------------------------------------------------ */
/* stats                                                               */
/* ------------------------------------------------------------------ */

struct corpus_stats {
	size_t	 msgs;
	size_t	*hits;		/* per rule */
	size_t	 tagged;	/* rule score alone >= tag_score */
	double	 ms;
};

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int
run_dir(struct ropts *o, const struct ruleset *rs, const char *dir,
    struct corpus_stats *st)
{
	struct mime_limits lim;
	struct rules_result res;
	struct mime_msg *mm;
	struct msg *m;
	struct dirent *d;
	DIR *dp;
	char **names = NULL, *path;
	size_t n = 0, i, k;
	double t0, score;

	if ((dp = opendir(dir)) == NULL) {
		perror(dir);
		return -1;
	}
	while ((d = readdir(dp)) != NULL)
		if (d->d_name[0] != '.') {
			names = xreallocarray(names, n + 1, sizeof(*names));
			names[n++] = xstrdup(d->d_name);
		}
	closedir(dp);
	qsort(names, n, sizeof(*names), cmp_name);
	mime_limits_from_conf(&lim, o->c);
	st->hits = xcalloc(rules_count(rs) + 1, sizeof(*st->hits));
	for (i = 0; i < n; i++) {
		path = xasprintf("%s/%s", dir, names[i]);
		m = load_message(o->c, path);
		free(path);
		free(names[i]);
		if (m == NULL)
			continue;
		t0 = now_ms();
		mm = mime_parse(m, &lim);
		rules_eval(rs, m, mm, o->eval_flags, &res);
		st->ms += now_ms() - t0;
		st->msgs++;
		score = 0;
		for (k = 0; k < res.nhits; k++) {
			const struct rule *r = res.hits[k].rule;

			st->hits[rule_index(r)]++;
			if (rule_scored(r))
				score += rule_score(r);
		}
		if (score >= o->c->tag_score)
			st->tagged++;
		rules_result_release(&res);
		mime_free(&mm);
		msg_free(&m);
	}
	free(names);
	return 0;
}

static double
pct(size_t a, size_t b)
{
	return b ? 100.0 * (double)a / (double)b : 0;
}

static int
cmd_stats(struct ropts *o, int argc, char **argv)
{
	struct corpus_stats spam, ham;
	struct ruleset *rs;
	const struct rule *r;
	size_t i;

	if (argc != 2) {
		usage(stderr);
		return 2;
	}
	if ((rs = load_set(o, false)) == NULL)
		return 2;
	memset(&spam, 0, sizeof(spam));
	memset(&ham, 0, sizeof(ham));
	if (run_dir(o, rs, argv[0], &spam) < 0 ||
	    run_dir(o, rs, argv[1], &ham) < 0) {
		rules_free(rs);
		free(spam.hits);
		free(ham.hits);
		return 2;
	}
	printf("| rule | score | spam hits | spam %% | ham hits | ham %% |\n"
	    "| --- | ---: | ---: | ---: | ---: | ---: |\n");
	for (i = 0; i < rules_count(rs); i++) {
		r = rules_get(rs, i);
		if (!rule_scored(r))
			continue;
		printf("| %s | %.2f | %zu | %.1f | %zu | %.1f |\n",
		    rule_name(r), rule_score(r), spam.hits[i],
		    pct(spam.hits[i], spam.msgs), ham.hits[i],
		    pct(ham.hits[i], ham.msgs));
	}
	printf("\nmessages: %zu spam, %zu ham\n", spam.msgs, ham.msgs);
	printf("rules alone reach tag_score %.1f: spam %zu (%.1f%%), "
	    "ham %zu (%.1f%%)\n", o->c->tag_score, spam.tagged,
	    pct(spam.tagged, spam.msgs), ham.tagged, pct(ham.tagged, ham.msgs));
	printf("CPU per message, MIME + rules: %.3f ms\n",
	    (spam.ms + ham.ms) / (double)(spam.msgs + ham.msgs ?
	    spam.msgs + ham.msgs : 1));
	free(spam.hits);
	free(ham.hits);
	rules_free(rs);
	return 0;
}

/*
 * cmd_relays - X-Spam-Relays-Untrusted of stored messages, one line each
 * ("FILE<TAB>LIST"): what relay rules see without a client address
 */
static int
cmd_relays(struct ropts *o, int argc, char **argv)
{
	struct mime_limits lim;
	struct mime_msg *mm;
	struct buf out = BUF_INIT;
	struct msg *m;
	int i, rc = 0;

	if (argc < 1) {
		usage(stderr);
		return 2;
	}
	mime_limits_from_conf(&lim, o->c);
	for (i = 0; i < argc; i++) {
		if ((m = load_message(o->c, argv[i])) == NULL) {
			rc = 1;
			continue;
		}
		mm = mime_parse(m, &lim);
		buf_reset(&out);
		relays_untrusted(m, mm, &out);
		printf("%s\t%s\n", argv[i], buf_cstr(&out));
		mime_free(&mm);
		msg_free(&m);
	}
	buf_release(&out);
	return rc;
}

int
cli_rules(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "rules", required_argument, NULL, 'r' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "strict", no_argument, NULL, 'S' },
		{ "no-prefilter", no_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct ropts o;
	const char *cmd;
	int ch, rc;

	if (argc < 2 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	cmd = argv[1];
	if (strcmp(cmd, "fit") == 0)	/* options of its own (cli_fit.c) */
		return cli_rules_fit(argc - 1, argv + 1);
	memset(&o, 0, sizeof(o));
	optind = 1;
	argc--;
	argv++;
	while ((ch = getopt_long(argc, argv, "c:r:qPh", opts, NULL)) != -1) {
		switch (ch) {
		case 'P': o.eval_flags |= RULES_EVAL_NO_PREFILTER; break;
		case 'c': o.conf = optarg; break;
		case 'q': o.quiet = true; break;
		case 'S': o.strict = true; break;
		case 'r':
			o.paths = xreallocarray(o.paths, o.npaths + 1,
			    sizeof(*o.paths));
			o.paths[o.npaths++] = optarg;
			break;
		case 'h': usage(stdout); free(o.paths); return 0;
		default: usage(stderr); free(o.paths); return 2;
		}
	}
	if (load_conf(&o) < 0) {
		free(o.paths);
		return 2;
	}
	argc -= optind;
	argv += optind;
	if (strcmp(cmd, "check") == 0)
		rc = cmd_check(&o, argc, argv);
	else if (strcmp(cmd, "list") == 0)
		rc = cmd_list(&o);
	else if (strcmp(cmd, "test") == 0)
		rc = cmd_test(&o, argc, argv);
	else if (strcmp(cmd, "hits") == 0)
		rc = cmd_hits(&o, argc, argv);
	else if (strcmp(cmd, "stats") == 0)
		rc = cmd_stats(&o, argc, argv);
	else if (strcmp(cmd, "relays") == 0)
		rc = cmd_relays(&o, argc, argv);
	else {
		usage(stderr);
		rc = 2;
	}
	conf_free(o.c);
	free(o.paths);
	return rc;
}
