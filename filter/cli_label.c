/*
 * cli_label.c - `mailwarden log label QUEUEID spam|ham`: feedback on a
 *	sampled message, kept beside its sample
 *
 * DESCRIPTION
 *	log label [-c FILE] QUEUEID spam|ham
 *
 *	Labels every sample of the queue id in the sample_dir of the
 *	configuration (sample_store.h: NAME.mws.label); a new label
 *	replaces an earlier one.  `rules fit SAMPLEDIR` fits scores to
 *	the labelled samples.
 * EXIT STATUS
 *	0 labelled; 1 no sample of that queue id; 2 bad usage, no
 *	sample_dir, or a label that could not be written.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "cli.h"
#include "conf.h"
#include "sample_store.h"

static void
usage(FILE *f)
{
	fprintf(f, "usage: mailwarden log label [-c FILE] QUEUEID spam|ham\n"
	    "Labels the sampled message(s) of QUEUEID in sample_dir; "
	    "`rules fit SAMPLEDIR`\nfits scores to the labelled samples.\n");
}

int
cli_log_label(int argc, char **argv)
{
	const char *path = NULL;
	struct buf why = BUF_INIT;
	struct conf *c;
	int i = 1, n, rc;

	if (argc > 2 && strcmp(argv[1], "-c") == 0) {
		path = argv[2];
		i = 3;
	}
	if (argc - i != 2 || (strcmp(argv[i + 1], "spam") != 0 &&
	    strcmp(argv[i + 1], "ham") != 0)) {
		usage(stderr);
		return 2;
	}
	if ((c = cli_load_conf(path)) == NULL)
		return 2;
	if (c->sample_dir[0] == '\0') {
		fprintf(stderr, "mailwarden log label: the configuration sets "
		    "no sample_dir: nothing is sampled to label\n");
		conf_free(c);
		return 2;
	}
	n = sample_store_label(c->sample_dir, argv[i],
	    strcmp(argv[i + 1], "spam") == 0, &why);
	if (n < 0)
		fprintf(stderr, "mailwarden log label: %s\n", buf_cstr(&why));
	else if (n == 0)
		fprintf(stderr, "mailwarden log label: no sample of queue id "
		    "%s in %s (not sampled, or expired)\n", argv[i],
		    c->sample_dir);
	else
		printf("%s: %d sample(s) labelled %s\n", argv[i], n,
		    argv[i + 1]);
	rc = n < 0 ? 2 : n == 0 ? 1 : 0;
	conf_free(c);
	buf_release(&why);
	return rc;
}
