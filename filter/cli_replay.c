/*
 * cli_replay.c - `mailwarden replay`: stored messages through the real
 *	pipeline under a new configuration, compared with their verdicts
 *
 * DESCRIPTION
 *	replay [-c NEW.conf] [--dns recorded|live] [--json] [--limit N]
 *	    [--top N] SAMPLEDIR|FILE...
 *
 *	Each sample (sample.h; a directory stands for its *.mws files, in
 *	name order, which is time order) is parsed, its message rebuilt
 *	as the milter callbacks built it, and scanned by the same code as
 *	the milter (scan_begin_at / scan_body / scan_end) at the sample's
 *	own clock, so DKIM expiry and DMARC periods see the original
 *	time.  With --dns recorded (the default) every lookup is answered
 *	from the answers stored with the sample; a lookup the new
 *	configuration makes that was not recorded answers as a timeout
 *	and is listed as `unrecorded` in the report's notes, never
 *	guessed.  --dns live asks the configured resolver.
 *
 *	The engine is read-only (engine_read_only()): no Bayes learning
 *	in any scope, no DMARC aggregate record or failure report, no
 *	sample, no policy store write; only the report is written.  The outcome is counted
 *	against the stored verdict (whatif.h) and reported in the form of
 *	`log whatif`.
 * EXIT STATUS
 *	0 done; 2 bad usage, a configuration that does not load, or a
 *	sample that cannot be read or parsed (reported with its file and
 *	line; the others are still replayed).
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "buf.h"
#include "cli.h"
#include "conf.h"
#include "dns.h"
#include "engine.h"
#include "files.h"
#include "logread.h"
#include "logreview.h"
#include "sample.h"
#include "str.h"
#include "whatif.h"

struct replay {
	struct engine *eng;
	struct whatif *w;
	bool	 live;
	const char *qid;		/* the sample being replayed */
	size_t	 unrecorded;		/* lookups not in the recording */
	size_t	 messages_unrecorded;
	size_t	 errors;
};

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: mailwarden replay [-c NEW.conf] [--dns recorded|live] "
	    "[--json]\n"
	    "                         [--limit N] [--top N] "
	    "SAMPLEDIR|FILE...\n"
	    "Runs stored samples (sample_dir) through the pipeline under "
	    "the configuration\nand compares with their stored verdicts, "
	    "as `log whatif` does.  DNS answers\ncome from the recording "
	    "(lookups not recorded are listed, never guessed)\nunless "
	    "--dns live; the clock is the message's own; Bayes is "
	    "read-only.\n");
}

/* unrecorded - a lookup the recording cannot answer */
static void
unrecorded(void *arg, const char *name, uint16_t type)
{
	struct replay *r = arg;
	struct buf b = BUF_INIT;

	r->unrecorded++;
	buf_printf(&b, "%s: unrecorded lookup %s/%s", r->qid ? r->qid :
	    "NOQUEUE", name, dns_type_name(type));
	whatif_note(r->w, buf_cstr(&b));
	buf_release(&b);
}

/* line_rec - a logrec over a parsed JSON line (obj owned by caller) */
static int
line_rec(const char *text, size_t len, const char *file,
    struct logline *l, struct logrec *rec)
{
	memset(l, 0, sizeof(*l));
	l->file = file;
	l->lineno = 1;
	l->text = text;
	l->len = len;
	if ((l->obj = json_tokener_parse(text)) == NULL ||
	    !json_object_is_type(l->obj, json_type_object)) {
		json_object_put(l->obj);
		l->obj = NULL;
		return -1;
	}
	logrec_from(rec, l);
	return 0;
}

/* run_sample - the new verdict's log line of sample s into out */
static void
run_sample(struct replay *r, const struct sample *s, struct buf *out)
{
	size_t before = r->unrecorded;

	replay_sample(r->eng, s, r->live, unrecorded, r, out);
	r->messages_unrecorded += r->unrecorded > before;
}

/* replay_file - one sample file; -1 after reporting why it failed */
static int
replay_file(struct replay *r, const char *path)
{
	struct buf data = BUF_INIT, why = BUF_INIT, line = BUF_INIT;
	struct sample *s = NULL;
	struct logline ol, nl;
	struct logrec old, now;
	int rc = -1;

	if (files_read(path, SAMPLE_MAX_BODY + 64 * 1024 * 1024, &data,
	    &why) < 0)
		fprintf(stderr, "mailwarden replay: %s\n", buf_cstr(&why));
	else if (sample_parse(data.data, data.len, &s, &why) < 0)
		fprintf(stderr, "mailwarden replay: %s: %s\n", path,
		    buf_cstr(&why));
	else if (line_rec(s->verdict, strlen(s->verdict), path, &ol, &old) < 0)
		fprintf(stderr, "mailwarden replay: %s: the stored verdict is "
		    "not a JSON object\n", path);
	else {
		r->qid = s->queue_id;
		run_sample(r, s, &line);
		if (line_rec(line.data, line.len, path, &nl, &now) == 0) {
			(void)whatif_add_replayed(r->w, &old, &now);
			json_object_put(nl.obj);
			rc = 0;
		}
		json_object_put(ol.obj);
	}
	r->errors += rc < 0;
	sample_free(&s);
	buf_release(&data);
	buf_release(&why);
	buf_release(&line);
	return rc;
}

/* replay_path - a sample file, or every *.mws of a directory */
static void
replay_path(struct replay *r, const char *path)
{
	struct stat st;
	char **names = NULL, *p;
	size_t n = 0, i;

	if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode)) {
		(void)replay_file(r, path);
		return;
	}
	if (files_list(path, SAMPLE_SUFFIX, &names, &n) < 0) {
		fprintf(stderr, "mailwarden replay: %s: %s\n", path,
		    strerror(errno));
		r->errors++;
		return;
	}
	for (i = 0; i < n; i++) {
		p = xasprintf("%s/%s", path, names[i]);
		(void)replay_file(r, p);
		free(p);
		free(names[i]);
	}
	free(names);
}


struct ropts {
	const char *conf;
	bool	 json, live;
	size_t	 limit, top;
};

static int
parse_opts(int argc, char **argv, struct ropts *o)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "dns", required_argument, NULL, 'd' },
		{ "json", no_argument, NULL, 'j' },
		{ "limit", required_argument, NULL, 'l' },
		{ "top", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	uint64_t v;
	int ch;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (ch) {
		case 'c': o->conf = optarg; break;
		case 'j': o->json = true; break;
		case 'd':
			if (strcmp(optarg, "live") != 0 &&
			    strcmp(optarg, "recorded") != 0) {
				fprintf(stderr, "mailwarden replay: --dns: "
				    "recorded or live, not '%s'\n", optarg);
				return 2;
			}
			o->live = strcmp(optarg, "live") == 0;
			break;
		case 'l':
		case 't':
			if (parse_uint(optarg, 0, UINT32_MAX, &v) < 0) {
				fprintf(stderr, "mailwarden replay: --%s: '%s' "
				    "is not a number\n", ch == 'l' ? "limit" :
				    "top", optarg);
				return 2;
			}
			*(ch == 'l' ? &o->limit : &o->top) = (size_t)v;
			break;
		case 'h': usage(stdout); return -1;
		default: usage(stderr); return 2;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	return 0;
}

int
cli_replay(int argc, char **argv)
{
	struct ropts o;
	struct replay r;
	struct buf out = BUF_INIT;
	int rc, i;

	memset(&o, 0, sizeof(o));
	if ((rc = parse_opts(argc, argv, &o)) != 0)
		return rc < 0 ? 0 : rc;
	memset(&r, 0, sizeof(r));
	if ((r.eng = cli_load_engine(o.conf)) == NULL)
		return 2;
	/* write nothing but the report: no DMARC reports, no Bayes
	   learning in any scope, no samples, no policy store */
	engine_set_read_only(r.eng);
	r.live = o.live;
	r.w = whatif_new(r.eng, o.conf ? o.conf : "the default configuration",
	    o.limit);
	for (i = optind; i < argc; i++)
		replay_path(&r, argv[i]);
	if (o.json)
		whatif_json(r.w, NULL, 0, o.top, &out);
	else {
		whatif_text(r.w, NULL, 0, o.top, &out);
		buf_printf(&out, "\nUnrecorded lookups %zu in %zu message(s)"
		    "%s\n", r.unrecorded, r.messages_unrecorded, r.live ?
		    " (--dns live)" : "");
	}
	rc = fwrite(out.data, 1, out.len, stdout) != out.len ||
	    fflush(stdout) != 0 || r.errors ? 2 : 0;
	if (r.errors)
		fprintf(stderr, "mailwarden replay: %zu sample(s) could not "
		    "be replayed (above)\n", r.errors);
	buf_release(&out);
	whatif_free(&r.w);
	engine_unref(r.eng);
	return rc;
}
