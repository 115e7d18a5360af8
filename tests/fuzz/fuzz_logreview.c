/*
 * fuzz_logreview.c - the verdict log reader and everything it feeds
 *
 * DESCRIPTION
 *	The input is a log file: it is split into lines and parsed by
 *	logread, each record goes through logrec, the filters, the summary
 *	(with the latest-rejects ring, hence explain) and explain; then the
 *	text summary and the HTML report are rendered.  Besides the
 *	sanitizers, the target checks three promises and aborts if one is
 *	broken:
 *	  - the raw-text prefilter never rules out a record that matches;
 *	  - explain output holds no control byte but newline;
 *	  - the HTML report holds no <script and no bidi control, whatever
 *	    the log says.
 *	The records also feed a second summary as the period before
 *	(--compare), and the review lists (tags, likely false positives).
 *	The first line is also fed to the time parsers.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "logread.h"
#include "logreview.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const struct {
	enum lr_fkey key;
	const char *value;
} filters[] = {
	{ LR_F_QUEUE_ID, "Q3" },
	{ LR_F_MESSAGE_ID, "<m3@spam.example>" },
	{ LR_F_SENDER, "example.org" },
	{ LR_F_SENDER, "alice@example.org" },
	{ LR_F_RCPT, "example.net" },
	{ LR_F_SYMBOL, "BAYES_99" },
	{ LR_F_SYMBOL, "RBL_*" },
	{ LR_F_IP, "203.0.113.0/24" },
	{ LR_F_IP, "192.0.2.7" },
	{ LR_F_IP, "2001:db8::/32" },
	{ LR_F_ACTION, "reject" },
	{ LR_F_SCORE_MIN, "5" },
	{ LR_F_SUBJECT, "rechnung" },
	{ LR_F_FROM, "partner.example" },
	{ LR_F_MAIL_FROM, "<>" },
	{ LR_F_NO_SYMBOL, "ARC_*" },
	{ LR_F_DECIDED_BY, "RBL_ZEN" },
	{ LR_F_DMARC, "pass,absent" },
	{ LR_F_BAYES_MAX, "0.3" },
};
#define NFILTERS	(sizeof(filters) / sizeof(filters[0]))

static void
times(const uint8_t *data, size_t size)
{
	char s[80];
	size_t n = 0;
	double t;

	while (n < size && n < sizeof(s) - 1 && data[n] != '\n') {
		s[n] = (char)data[n];
		n++;
	}
	s[n] = '\0';
	(void)logtime_parse(s, &t);
	(void)logtime_arg(s, 1795000000, &t);
}

static void
check_explain(const struct logrec *rec, struct buf *e)
{
	size_t i;

	buf_reset(e);
	lr_explain(rec, e);
	for (i = 0; i < e->len; i++)
		if ((unsigned char)e->data[i] < 0x20 && e->data[i] != '\n')
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lr_filter f[NFILTERS];
	struct logread *r;
	struct lr_summary *s, *prev;
	const struct logline *l;
	struct logrec rec;
	struct lr_html_opts ho;
	struct buf e = BUF_INIT, why = BUF_INIT;
	size_t i;

	times(data, size);
	for (i = 0; i < NFILTERS; i++) {
		lr_filter_init(&f[i]);
		if (lr_filter_add(&f[i], filters[i].key, filters[i].value, 0,
		    &why) < 0)
			abort();
	}
	r = logread_open_mem((const char *)data, size, "fuzz", 4);
	s = lr_summary_new(3);
	prev = lr_summary_new(0);
	while (logread_next(r, &l)) {
		logrec_from(&rec, l);
		if (rec.has_time && ((int64_t)rec.time & 1))
			lr_summary_add(prev, &rec);
		for (i = 0; i < NFILTERS; i++)
			if (lr_filter_match(&f[i], &rec) &&
			    !lr_filter_may_match(&f[i], l->text, l->len))
				abort();
		lr_summary_add(s, &rec);
		check_explain(&rec, &e);
	}
	buf_reset(&e);
	lr_summary_text(s, logread_stats(r), 0, 5, &e);
	buf_reset(&e);
	memset(&ho, 0, sizeof(ho));
	ho.prev = prev;
	ho.compare_secs = 3600;
	lr_html_report(s, logread_stats(r), &ho, &e);
	if (strcasestr(buf_cstr(&e), "<script") != NULL ||
	    strstr(buf_cstr(&e), "\xe2\x80\xae") != NULL ||
	    strstr(buf_cstr(&e), "\xe2\x81\xa7") != NULL)
		abort();
	for (i = 0; i < NFILTERS; i++)
		lr_filter_release(&f[i]);
	lr_summary_free(&s);
	lr_summary_free(&prev);
	logread_free(&r);
	buf_release(&e);
	buf_release(&why);
	return 0;
}
