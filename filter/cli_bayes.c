/*
 * cli_bayes.c - `mailwarden train` and `mailwarden bayes ...`
 *
 * DESCRIPTION
 *	train --spam|--ham [--forget] PATH...
 *	    learns (or forgets) every message under each PATH (files, mbox
 *	    files, Maildirs, folders: mailbox.h) in batches of one store
 *	    transaction each; idempotent through the message digest.  On a
 *	    terminal a progress line is kept up to date; a summary ends it.
 *	bayes stats      counts, size and ages of the store
 *	bayes dump       the store as text (bayes_dump.c) on stdout
 *	bayes load FILE  a dump into the store (an empty one unless --force)
 *	bayes prune      drop rare tokens not learned for bayes_expire_days
 *	bayes tokens FILE
 *	    what a message becomes: one token per line; with -v also each
 *	    token's counts and f(w) and the resulting probability
 *
 *	Every command takes -c FILE (configuration) and --store SPEC (a
 *	store other than bayes_store, e.g. to move a database).
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bayes.h"
#include "bayes_learn.h"
#include "bayes_store.h"
#include "buf.h"
#include "cli.h"
#include "conf.h"
#include "files.h"
#include "mailbox.h"
#include "sample.h"
#include "sample_store.h"
#include "msg.h"
#include "str.h"
#include "svcown.h"

#define TRAIN_BATCH	1000
#define PROGRESS_MS	250

static double
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

/*
 * open_store - the store of the command: --store, else bayes_store.
 * Writing, run as root: an LMDB store (the directory and its files, just
 * created or not) goes to the configured user, whose daemon writes it;
 * or the command refuses before it creates anything (svcown.h).
 */
static struct bayes_store *
open_store(const struct conf *c, const char *spec, bool readonly,
    const char *cmd)
{
	const char *path = spec && *spec ? spec : c->bayes_store;
	struct bayes_store *s = NULL;
	struct buf why = BUF_INIT;
	uid_t uid = 0;
	gid_t gid = 0;
	int own = 0;

	if (*path == '\0') {
		fprintf(stderr, "mailwarden %s: no store: set bayes_store in "
		    "%s or give --store\n", cmd, c->path);
		return NULL;
	}
	if (!readonly) {
		own = svcown_store(c, path, &uid, &gid, &why);
		if (why.len)
			fprintf(stderr, "mailwarden %s: %s\n", cmd,
			    buf_cstr(&why));
		buf_reset(&why);
	}
	if (own < 0)
		;
	else if (bayes_store_open_conf(c, spec, readonly, &s, &why) !=
	    BAYES_OK)
		fprintf(stderr, "mailwarden %s: %s\n", cmd, buf_cstr(&why));
	else if (own > 0 && svcown_give(path, uid, gid, &why) < 0) {
		fprintf(stderr, "mailwarden %s: %s\n", cmd, buf_cstr(&why));
		bayes_store_close(&s);
	}
	buf_release(&why);
	return s;
}

/* ---------------------------------------------------------------- */
/* train */

struct train {
	const struct conf *conf;
	struct bayes_store *store;
	enum bayes_class cls;
	enum bayes_learn_op op;
	bool	 progress;
	struct bayes_toks toks;
	struct bayes_learn_msg batch[TRAIN_BATCH];
	uint64_t *hashes[TRAIN_BATCH];
	size_t	 nbatch;
	/* counts */
	uint64_t seen, outcome[BAYES_LEARN_UNKNOWN + 1], unreadable, tokens;
	bool	 failed;
	double	 t0, last_progress;
};

static void
show_progress(struct train *t, bool force)
{
	double now = mono_ms(), secs = (now - t->t0) / 1000.0;

	if (!t->progress || (!force && now - t->last_progress < PROGRESS_MS))
		return;
	t->last_progress = now;
	fprintf(stderr, "\r  %llu read; stored so far: %llu new, %llu "
	    "known, %llu relearned, %llu forgotten (%.0f msg/s)   ",
	    (unsigned long long)t->seen,
	    (unsigned long long)t->outcome[BAYES_LEARN_NEW],
	    (unsigned long long)t->outcome[BAYES_LEARN_KNOWN],
	    (unsigned long long)t->outcome[BAYES_LEARN_RELEARNED],
	    (unsigned long long)t->outcome[BAYES_LEARN_FORGOTTEN],
	    secs > 0 ? (double)t->seen / secs : 0.0);
	fflush(stderr);
}

static int
flush_batch(struct train *t)
{
	struct buf why = BUF_INIT;
	size_t i;
	int rc;

	if (t->nbatch == 0)
		return 0;
	rc = bayes_store_learn(t->store, t->batch, t->nbatch, time(NULL),
	    &why);
	if (rc != BAYES_OK) {
		fprintf(stderr, "%smailwarden train: %s\n", t->progress ?
		    "\n" : "", buf_cstr(&why));
		t->failed = true;
	}
	for (i = 0; i < t->nbatch; i++) {
		if (rc == BAYES_OK)
			t->outcome[t->batch[i].outcome]++;
		free(t->hashes[i]);
	}
	t->nbatch = 0;
	buf_release(&why);
	return rc == BAYES_OK ? 0 : -1;
}

/*
 * sample_input - a sample file of the sample store (sample.h): the
 * message the milter saw, rebuilt; NULL when data is not one (or after
 * reporting one that does not parse: *bad)
 */
static struct msg *
sample_input(const struct train *t, const char *data, size_t len,
    const char *label, bool *bad)
{
	struct msg_limits lim;
	struct buf why = BUF_INIT;
	struct sample *s;
	struct msg *m = NULL;

	*bad = false;
	if (len < strlen(SAMPLE_MAGIC) || memcmp(data, SAMPLE_MAGIC,
	    strlen(SAMPLE_MAGIC)) != 0)
		return NULL;
	if (sample_parse(data, len, &s, &why) < 0) {
		fprintf(stderr, "mailwarden train: %s: %s\n", label,
		    buf_cstr(&why));
		*bad = true;
	} else {
		msg_limits_from_conf(&lim, t->conf);
		m = sample_msg(s, &lim);
		msg_add_body(m, s->body, s->body_len);
		sample_msg_finish(s, m);
		sample_free(&s);
	}
	buf_release(&why);
	return m;
}

/* label_sample - a sample trained: its label for `rules fit` */
static void
label_sample(struct train *t, const char *label)
{
	struct buf why = BUF_INIT;

	if (t->op == BAYES_OP_LEARN && sample_label_set(label,
	    t->cls == BAYES_SPAM, &why) < 0)
		fprintf(stderr, "mailwarden train: %s\n", buf_cstr(&why));
	buf_release(&why);
}

static int
train_msg(const char *data, size_t len, const char *label, void *arg)
{
	struct train *t = arg;
	struct bayes_learn_msg *m = &t->batch[t->nbatch];
	struct msg *msg;
	bool bad;
	size_t i, n = strlen(label);

	if (n > 10 && strcmp(label + n - 10, ".mws.label") == 0)
		return 0;		/* a sample's label, not mail */
	if ((msg = sample_input(t, data, len, label, &bad)) == NULL && bad) {
		t->unreadable++;
		return 0;
	}
	if (msg != NULL)
		label_sample(t, label);
	else
		msg = mailbox_msg(t->conf, data, len);
	bayes_toks_reset(&t->toks);
	bayes_msg_tokens(t->conf, msg, NULL, &t->toks);
	memset(m, 0, sizeof(*m));
	bayes_digest(msg, m->digest);
	msg_free(&msg);
	m->cls = t->cls;
	m->op = t->op;
	t->hashes[t->nbatch] = xcalloc(t->toks.n ? t->toks.n : 1,
	    sizeof(uint64_t));
	for (i = 0; i < t->toks.n; i++)
		t->hashes[t->nbatch][i] = t->toks.v[i].hash;
	m->hashes = t->hashes[t->nbatch];
	m->nhashes = t->toks.n;
	t->tokens += t->toks.n;
	t->seen++;
	if (++t->nbatch == TRAIN_BATCH && flush_batch(t) < 0)
		return -1;
	show_progress(t, false);
	return 0;
}

static void
train_err(const char *label, const char *reason, void *arg)
{
	struct train *t = arg;

	fprintf(stderr, "%smailwarden train: %s: %s\n", t->progress ? "\n" :
	    "", label, reason);
	t->unreadable++;
}

static void
train_usage(FILE *f)
{
	fprintf(f, "usage: mailwarden train [-c FILE] [--store SPEC] "
	    "[--scope NAME]\n"
	    "           --spam|--ham [--forget] [-q] PATH...\n"
	    "Learns every message in the files, mbox files, Maildirs and "
	    "folders given.\nLearning a message again changes nothing; "
	    "learning it as the other class\nmoves it; --forget takes it "
	    "back.\n");
}

static void
train_summary(const struct train *t, double secs)
{
	printf("%s %llu message(s) as %s: %llu new, %llu already known, "
	    "%llu relearned, %llu forgotten, %llu not learned before; "
	    "%llu unreadable; %llu tokens; %.2f s (%.0f msg/s)\n",
	    t->op == BAYES_OP_FORGET ? "forgot" : "trained",
	    (unsigned long long)t->seen, t->cls == BAYES_SPAM ? "spam" : "ham",
	    (unsigned long long)t->outcome[BAYES_LEARN_NEW],
	    (unsigned long long)t->outcome[BAYES_LEARN_KNOWN],
	    (unsigned long long)t->outcome[BAYES_LEARN_RELEARNED],
	    (unsigned long long)t->outcome[BAYES_LEARN_FORGOTTEN],
	    (unsigned long long)t->outcome[BAYES_LEARN_UNKNOWN],
	    (unsigned long long)t->unreadable, (unsigned long long)t->tokens,
	    secs, secs > 0 ? (double)t->seen / secs : 0.0);
}

int
cli_train(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "store", required_argument, NULL, 'S' },
		{ "scope", required_argument, NULL, 'P' },
		{ "spam", no_argument, NULL, 's' },
		{ "ham", no_argument, NULL, 'H' },
		{ "forget", no_argument, NULL, 'f' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *conf = NULL, *spec = NULL, *scope = NULL;
	struct mailbox_cb cb = { train_msg, train_err, NULL };
	struct conf *c;
	struct train *t;
	int ch, i, cls = -1, quiet = 0, rc = 0;

	t = xcalloc(1, sizeof(*t));
	t->op = BAYES_OP_LEARN;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "c:qh", opts, NULL)) != -1) {
		switch (ch) {
		case 'c': conf = optarg; break;
		case 'S': spec = optarg; break;
		case 'P': scope = optarg; break;
		case 's': cls = BAYES_SPAM; break;
		case 'H': cls = BAYES_HAM; break;
		case 'f': t->op = BAYES_OP_FORGET; break;
		case 'q': quiet = 1; break;
		case 'h': train_usage(stdout); free(t); return 0;
		default: train_usage(stderr); free(t); return 2;
		}
	}
	if (optind >= argc || (cls < 0 && t->op == BAYES_OP_LEARN)) {
		train_usage(stderr);
		free(t);
		return 2;
	}
	if ((c = cli_load_scope_conf(conf, scope)) == NULL) {
		free(t);
		return 1;
	}
	t->conf = c;
	t->cls = cls < 0 ? BAYES_SPAM : (enum bayes_class)cls;
	t->progress = !quiet && isatty(STDERR_FILENO);
	if ((t->store = open_store(c, spec, false, "train")) == NULL) {
		conf_free(c);
		free(t);
		return 1;
	}
	bayes_toks_init(&t->toks, (size_t)c->bayes_max_tokens, false);
	cb.arg = t;
	t->t0 = mono_ms();
	for (i = optind; i < argc && !t->failed; i++)
		if (mailbox_walk(argv[i], &cb) < 0)
			break;
	if (!t->failed)
		flush_batch(t);
	show_progress(t, true);
	if (t->progress)
		fputc('\n', stderr);
	if (!quiet || t->failed)
		train_summary(t, (mono_ms() - t->t0) / 1000.0);
	rc = t->failed ? 1 : t->unreadable ? 1 : 0;
	while (t->nbatch > 0)
		free(t->hashes[--t->nbatch]);
	bayes_toks_release(&t->toks);
	bayes_store_close(&t->store);
	conf_free(c);
	free(t);
	return rc;
}

/* ---------------------------------------------------------------- */
/* bayes COMMAND */

struct bayes_cmd {
	const char *conf;
	const char *spec;
	const char *scope;	/* --scope: its conf, its Bayes store */
	bool	 force;
	bool	 verbose;
	bool	 json;
	long	 days;		/* prune; -1 = bayes_expire_days */
	long	 max_count;
};

static void
print_time(const char *what, time_t t)
{
	struct buf b = BUF_INIT;

	if (t > 0)
		fmt_rfc3339(&b, (int64_t)t, 0);
	printf("%-14s %s\n", what, t > 0 ? buf_cstr(&b) : "-");
	buf_release(&b);
}

static int
cmd_stats(const struct conf *c, const struct bayes_cmd *o)
{
	struct bayes_store *s = open_store(c, o->spec, true, "bayes stats");
	struct bayes_stats st;
	struct buf why = BUF_INIT;
	int rc;

	if (s == NULL)
		return 1;
	if ((rc = bayes_store_stats(s, &st, &why)) != BAYES_OK) {
		fprintf(stderr, "mailwarden bayes stats: %s\n", buf_cstr(&why));
		bayes_store_close(&s);
		buf_release(&why);
		return 1;
	}
	printf("%-14s %s (%s)\n", "store", s->spec, st.backend);
	printf("%-14s %llu spam, %llu ham (scores from %llu and %llu)\n",
	    "messages", (unsigned long long)st.tot.nspam,
	    (unsigned long long)st.tot.nham,
	    (unsigned long long)c->bayes_min_spam,
	    (unsigned long long)c->bayes_min_ham);
	printf("%-14s %llu\n", "tokens", (unsigned long long)st.ntokens);
	printf("%-14s %llu\n", "digests", (unsigned long long)st.ndigests);
	printf("%-14s %.1f MiB%s\n", "size", (double)st.bytes / 1048576.0,
	    strcmp(st.backend, "redis") == 0 ? " (whole server)" : "");
	print_time("created", st.created);
	print_time("last learned", st.last_learn);
	print_time("oldest token", st.oldest_seen);
	print_time("newest token", st.newest_seen);
	printf("%-14s format %u, tokenizer %u%s\n", "version", st.format,
	    st.tokenizer, st.tokenizer && st.tokenizer !=
	    BAYES_TOKENIZER_VERSION ? " (differs from this program's: "
	    "retrain)" : "");
	bayes_store_close(&s);
	buf_release(&why);
	return 0;
}

static int
cmd_dump(const struct conf *c, const struct bayes_cmd *o)
{
	struct bayes_store *s = open_store(c, o->spec, true, "bayes dump");
	struct buf why = BUF_INIT;
	int rc;

	if (s == NULL)
		return 1;
	rc = bayes_dump(s, stdout, &why);
	if (rc != BAYES_OK)
		fprintf(stderr, "mailwarden bayes dump: %s\n", buf_cstr(&why));
	bayes_store_close(&s);
	buf_release(&why);
	return rc == BAYES_OK ? 0 : 1;
}

static int
cmd_load(const struct conf *c, const struct bayes_cmd *o, const char *file)
{
	struct bayes_store *s;
	struct bayes_stats st;
	struct buf why = BUF_INIT;
	FILE *f;
	int rc = 1;

	if (strcmp(file, "-") == 0)
		f = stdin;
	else if ((f = fopen(file, "r")) == NULL) {
		fprintf(stderr, "mailwarden bayes load: %s: %s\n", file,
		    strerror(errno));
		return 1;
	}
	if ((s = open_store(c, o->spec, false, "bayes load")) == NULL)
		goto out;
	if (bayes_store_stats(s, &st, &why) != BAYES_OK) {
		fprintf(stderr, "mailwarden bayes load: %s\n", buf_cstr(&why));
		goto out;
	}
	if ((st.ntokens || st.tot.nspam || st.tot.nham) && !o->force) {
		fprintf(stderr, "mailwarden bayes load: %s is not empty (%llu "
		    "tokens); --force adds the dump to it\n", s->spec,
		    (unsigned long long)st.ntokens);
		goto out;
	}
	if (bayes_load(s, f, file, &why) != BAYES_OK) {
		fprintf(stderr, "mailwarden bayes load: %s\n", buf_cstr(&why));
		goto out;
	}
	rc = 0;
out:
	bayes_store_close(&s);
	if (f != stdin)
		fclose(f);
	buf_release(&why);
	return rc;
}

static int
cmd_prune(const struct conf *c, const struct bayes_cmd *o)
{
	struct bayes_store *s;
	struct buf why = BUF_INIT;
	uint64_t removed = 0;
	long days = o->days >= 0 ? o->days : (long)c->bayes_expire_days;
	int rc;

	if (days == 0) {
		printf("expiry off (bayes_expire_days = 0): nothing pruned\n");
		return 0;
	}
	if ((s = open_store(c, o->spec, false, "bayes prune")) == NULL)
		return 1;
	rc = bayes_store_prune(s, time(NULL) - (time_t)days * 86400,
	    (uint32_t)o->max_count, &removed, &why);
	if (rc != BAYES_OK)
		fprintf(stderr, "mailwarden bayes prune: %s\n", buf_cstr(&why));
	else
		printf("pruned %llu token(s) seen in at most %ld message(s) "
		    "and not learned for %ld day(s)\n",
		    (unsigned long long)removed, o->max_count, days);
	bayes_store_close(&s);
	buf_release(&why);
	return rc == BAYES_OK ? 0 : 1;
}

/* tokens_verbose - counts, f(w) and the probability, from the store */
static int
tokens_verbose(const struct conf *c, const struct bayes_cmd *o,
    const struct bayes_toks *t)
{
	struct bayes_store *s = open_store(c, o->spec, true, "bayes tokens");
	struct bayes_counts *counts;
	struct bayes_totals tot;
	struct bayes_params bp;
	struct bayes_result r;
	struct buf why = BUF_INIT;
	uint64_t *h;
	size_t i;

	if (s == NULL)
		return 1;
	h = xcalloc(t->n + 1, sizeof(*h));
	counts = xcalloc(t->n + 1, sizeof(*counts));
	for (i = 0; i < t->n; i++)
		h[i] = t->v[i].hash;
	if (bayes_store_lookup(s, h, t->n, counts, &tot, &why) != BAYES_OK) {
		fprintf(stderr, "mailwarden bayes tokens: %s\n", buf_cstr(&why));
		free(h);
		free(counts);
		bayes_store_close(&s);
		buf_release(&why);
		return 1;
	}
	bayes_params_from_conf(&bp, c);
	for (i = 0; i < t->n; i++)
		printf("%8u %8u  %.4f  %s\n", counts[i].spam, counts[i].ham,
		    bayes_f(&bp, tot.nspam, tot.nham, counts[i].spam,
		    counts[i].ham), bayes_tok_text(t, i));
	bayes_classify(&bp, tot.nspam, tot.nham, counts, t->n, &r);
	printf("# %zu tokens, %zu known, %zu clues; learned %llu spam, %llu "
	    "ham; spam probability %.6f\n", r.ntokens, r.nknown, r.nclues,
	    (unsigned long long)tot.nspam, (unsigned long long)tot.nham,
	    r.prob);
	bayes_result_release(&r);
	free(h);
	free(counts);
	bayes_store_close(&s);
	buf_release(&why);
	return 0;
}

static int
cmd_tokens(const struct conf *c, const struct bayes_cmd *o, const char *file)
{
	struct buf text = BUF_INIT, why = BUF_INIT;
	struct bayes_toks t;
	struct msg *m;
	size_t i;
	int rc = 0;

	if (files_read(file, 256 * 1024 * 1024, &text, &why) < 0) {
		fprintf(stderr, "mailwarden bayes tokens: %s\n", buf_cstr(&why));
		buf_release(&why);
		return 1;
	}
	m = mailbox_msg(c, text.data, text.len);
	bayes_toks_init(&t, (size_t)c->bayes_max_tokens, true);
	bayes_msg_tokens(c, m, NULL, &t);
	if (o->verbose)
		rc = tokens_verbose(c, o, &t);
	else
		for (i = 0; i < t.n; i++)
			printf("%s\n", bayes_tok_text(&t, i));
	if (t.dropped)
		fprintf(stderr, "mailwarden bayes tokens: %zu more distinct "
		    "token(s) over bayes_max_tokens (%zu) not used\n",
		    t.dropped, t.cap);
	bayes_toks_release(&t);
	msg_free(&m);
	buf_release(&text);
	buf_release(&why);
	return rc;
}

static void
bayes_usage(FILE *f)
{
	fprintf(f,
	    "usage: mailwarden bayes COMMAND [-c FILE] [--store SPEC] "
	    "[--scope NAME] ...\n"
	    "  (--scope: the Bayes store of that policy scope)\n"
	    "  stats                   counts, size and ages of the store\n"
	    "  dump                    the store as text on stdout\n"
	    "  load [--force] FILE|-   a dump into an empty store (--force: "
	    "any store)\n"
	    "  prune [--days N] [--max-count N]\n"
	    "                          drop tokens seen in at most N messages "
	    "(default 3)\n"
	    "                          and not learned for N days (default "
	    "bayes_expire_days)\n"
	    "  tokens [-v] FILE        the tokens of a message (-v: counts, "
	    "f(w), probability)\n");
}

int
cli_bayes(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "store", required_argument, NULL, 'S' },
		{ "scope", required_argument, NULL, 'P' },
		{ "force", no_argument, NULL, 'F' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "days", required_argument, NULL, 'd' },
		{ "max-count", required_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct bayes_cmd o;
	struct conf *c;
	const char *cmd;
	uint64_t v;
	int ch, rc, nargs;

	memset(&o, 0, sizeof(o));
	o.days = -1;
	o.max_count = 3;
	if (argc < 2 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0) {
		bayes_usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	cmd = argv[1];
	optind = 1;
	argc--;
	argv++;
	while ((ch = getopt_long(argc, argv, "c:vh", opts, NULL)) != -1) {
		switch (ch) {
		case 'c': o.conf = optarg; break;
		case 'S': o.spec = optarg; break;
		case 'P': o.scope = optarg; break;
		case 'F': o.force = true; break;
		case 'v': o.verbose = true; break;
		case 'd':
		case 'm':
			if (parse_uint(optarg, 0, 100000000, &v) < 0) {
				fprintf(stderr, "mailwarden bayes: bad number "
				    "'%s'\n", optarg);
				return 2;
			}
			*(ch == 'd' ? &o.days : &o.max_count) = (long)v;
			break;
		case 'h': bayes_usage(stdout); return 0;
		default: bayes_usage(stderr); return 2;
		}
	}
	nargs = argc - optind;
	if (((strcmp(cmd, "load") == 0 || strcmp(cmd, "tokens") == 0) &&
	    nargs != 1) || (strcmp(cmd, "load") != 0 &&
	    strcmp(cmd, "tokens") != 0 && nargs != 0)) {
		bayes_usage(stderr);
		return 2;
	}
	if ((c = cli_load_scope_conf(o.conf, o.scope)) == NULL)
		return 1;
	if (strcmp(cmd, "stats") == 0)
		rc = cmd_stats(c, &o);
	else if (strcmp(cmd, "dump") == 0)
		rc = cmd_dump(c, &o);
	else if (strcmp(cmd, "load") == 0)
		rc = cmd_load(c, &o, argv[optind]);
	else if (strcmp(cmd, "prune") == 0)
		rc = cmd_prune(c, &o);
	else if (strcmp(cmd, "tokens") == 0)
		rc = cmd_tokens(c, &o, argv[optind]);
	else {
		fprintf(stderr, "mailwarden bayes: unknown command '%s'\n",
		    cmd);
		bayes_usage(stderr);
		rc = 2;
	}
	conf_free(c);
	return rc;
}
