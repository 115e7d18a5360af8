/*
 * saeval_date.c - SpamAssassin's Date and Message-ID time eval: tests
 *
 * DESCRIPTION
 *	The date family (see saeval.h), as SpamAssassin's HeaderEval:
 *
 *	check_for_shifted_date(MIN, MAX)
 *	    The Date (or Resent-Date) of the message minus the time of the
 *	    Received field closest to it, in hours, is in [MIN, MAX) ('undef'
 *	    leaves a side open): DATE_IN_PAST_*, DATE_IN_FUTURE_*.  Without a
 *	    usable Date or any dated Received field the difference is 0.  A
 *	    last Received field exactly at the Date is left out (it is the
 *	    sender's own stamp), and fetchmail's local hops are set aside.
 *	received_within_months(MIN, MAX)
 *	    The message was received between MIN and MAX months before the
 *	    scan's clock (the median of the Date, Received and shifted
 *	    times).
 *	check_outlook_message_id()
 *	    A Message-ID of Outlook's "<hhhhtttttttt$hhhhhhhh$hhhhhhhh@"
 *	    form whose time token matches neither the Date nor the last
 *	    Received time: a forged Outlook message (MSGID_OUTLOOK_INVALID).
 *
 *	The times are computed once per message (saeval_memo()).
 *
 * SECURITY
 *	Untrusted dates: parsed leniently, clamped (sae_parse_date()).
 */
#include "config.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "saeval.h"
#include "saeval_int.h"
#include "str.h"

#define RCVD_TIMES_MAX	64

struct dates {
	bool	 have_date;
	int64_t	 date;			/* Resent-Date, else Date */
	int64_t	 rcvd[RCVD_TIMES_MAX];	/* Received times, top down */
	size_t	 nrcvd;
	bool	 have_fetchmail;
	int64_t	 fetchmail;
	int64_t	 diff;			/* date - closest Received */
};

/* date_header - the first parseable Resent-Date, else Date */
static void
date_header(struct saeval_in *in, struct dates *d)
{
	static const char *const names[] = { "Resent-Date", "Date" };
	const char *v;
	size_t i, k;

	for (i = 0; i < SAEVAL_NELEM(names); i++)
		for (k = 0; (v = sae_field_raw(in, names[i], k)) != NULL; k++)
			if (*v && sae_parse_date(v, &d->date)) {
				d->have_date = true;
				return;
			}
}

/* rcvd_time - the date in a Received field (" d Mon yyyy hh:mm:ss zone") */
static bool
rcvd_time(const char *v, int64_t *t)
{
	static struct sae_rx rx = { "(\\s.?\\d+ \\S\\S\\S \\d+ \\d+:\\d+:\\d+ "
	    "\\S+)", 0, NULL };
	struct buf cap = BUF_INIT, sq = BUF_INIT;
	bool ok = false;

	/* folding white space counts as one space, as SpamAssassin unfolds */
	buf_adds(&sq, v);
	sae_squeeze_ws(&sq);
	if (sae_rx_match(&rx, sq.data, sq.len, &cap))
		ok = sae_parse_date(buf_cstr(&cap), t);
	buf_release(&cap);
	buf_release(&sq);
	return ok;
}

static int
cmp_abs(const void *a, const void *b)
{
	int64_t x = llabs(*(const int64_t *)a), y = llabs(*(const int64_t *)b);

	return x < y ? -1 : x > y;
}

/* received_times - SpamAssassin's _get_received_header_times */
static void
received_times(struct saeval_in *in, struct dates *d)
{
	static struct sae_rx local = { "\\bfrom (?:localhost\\s|(?:\\S+ ){1,2}"
	    "\\S*\\b127\\.0\\.0\\.1\\b)", 0, NULL };
	static struct sae_rx qmail = { "qmail \\d+ invoked by uid \\d+", 0,
	    NULL };
	static struct sae_rx fetch = { "\\bby localhost with \\w+ \\(fetchmail-"
	    "[\\d.]+", 0, NULL };
	const char *v[RCVD_TIMES_MAX], *locals[2];
	size_t n = 0, nl = 0, i, k;
	int64_t t;

	for (k = 0; n < RCVD_TIMES_MAX && (v[n] = sae_field(in, "Received",
	    k)) != NULL; k++)
		if (strspn(v[n], " \t") < strlen(v[n]))
			n++;
	if (n == 0)
		return;
	if (sae_rx_match(&local, v[0], strlen(v[0]), NULL) ||
	    sae_rx_match(&qmail, v[0], strlen(v[0]), NULL)) {
		locals[nl++] = v[0];
		memmove(v, v + 1, --n * sizeof(*v));
	}
	if (n && sae_rx_match(&fetch, v[0], strlen(v[0]), NULL)) {
		locals[nl++] = v[0];
		memmove(v, v + 1, --n * sizeof(*v));
	} else if (nl) {
		memmove(v + 1, v, n * sizeof(*v));
		v[0] = locals[--nl];
		n++;
	}
	for (i = 0; i < nl; i++)
		if (rcvd_time(locals[i], &t) && t <= (int64_t)in->now &&
		    (!d->have_fetchmail || t > d->fetchmail)) {
			d->fetchmail = t;
			d->have_fetchmail = true;
		}
	for (i = 0; i < n; i++)
		if (rcvd_time(v[i], &t))
			d->rcvd[d->nrcvd++] = t;
}

static void *
make_dates(struct saeval_in *in)
{
	struct dates *d = xcalloc(1, sizeof(*d));
	int64_t diffs[RCVD_TIMES_MAX];
	size_t i, n;

	date_header(in, d);
	received_times(in, d);
	if (!d->have_date || d->nrcvd == 0)
		return d;
	for (i = 0; i < d->nrcvd; i++)
		diffs[i] = d->date - d->rcvd[i];
	n = d->nrcvd;
	if (n > 1 && diffs[n - 1] == 0)
		n--;
	qsort(diffs, n, sizeof(*diffs), cmp_abs);
	d->diff = diffs[0];
	return d;
}

static const struct dates *
dates(struct saeval_in *in)
{
	static const char key;

	return saeval_memo(in, &key, make_dates, free);
}

static unsigned
shifted_date(struct saeval_in *in, const struct saeval_args *a,
    const void *p, struct buf *detail)
{
	const struct dates *d = dates(in);

	(void)p;
	if (detail)
		buf_printf(detail, "Date - Received = %lld s",
		    (long long)d->diff);
	return sae_in_range((double)d->diff, a, 3600);
}

static int
cmp_desc(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x > y ? -1 : x < y;
}

static unsigned
within_months(struct saeval_in *in, const struct saeval_args *a,
    const void *p, struct buf *detail)
{
	const struct dates *d = dates(in);
	int64_t poss[4], when = 0;
	size_t n = 0;

	(void)p;
	if (d->have_date)
		poss[n++] = d->date;
	if (d->nrcvd)
		poss[n++] = d->rcvd[0];
	if (d->have_fetchmail)
		poss[n++] = d->fetchmail;
	if (d->have_date && d->nrcvd)
		poss[n++] = d->date - d->diff;
	if (n) {
		qsort(poss, n, sizeof(*poss), cmp_desc);
		when = poss[(n - 1) / 2];
	}
	if (detail)
		buf_printf(detail, "received %lld s ago",
		    (long long)((int64_t)in->now - when));
	return sae_in_range((double)((int64_t)in->now - when), a,
	    31556952.0 / 12);
}

/* outlook_expected - Outlook's time token for t */
static int64_t
outlook_expected(int64_t t)
{
	return (int64_t)((double)t * 0.0023283064365387 + 27111902.8329849);
}

static unsigned
outlook_msgid(struct saeval_in *in, const struct saeval_args *a,
    const void *p, struct buf *detail)
{
	static struct sae_rx rx = { "^<[0-9a-f]{4}([0-9a-f]{8})\\$[0-9a-f]{8}\\$"
	    "[0-9a-f]{8}\\@", 0, NULL };
	struct buf id = BUF_INIT, cap = BUF_INIT, t = BUF_INIT;
	int64_t token, when;
	unsigned r = 0;

	(void)a;
	(void)p;
	(void)detail;
	sae_get(in, "Message-Id", &id);
	sae_get(in, "Resent-Message-Id", &t);
	if (t.len) {
		buf_addc(&id, '\n');
		buf_add(&id, t.data, t.len);
	}
	if (!sae_rx_match(&rx, buf_cstr(&id), id.len, &cap))
		goto out;
	token = (int64_t)strtoll(buf_cstr(&cap), NULL, 16);
	sae_get(in, "Date", &t);
	if (!sae_parse_date(buf_cstr(&t), &when))
		when = 0;
	if (llabs(token - outlook_expected(when)) < 250)
		goto out;
	/*
	 * SpamAssassin reads a date out of every Received field joined: the
	 * first day-month-year, the first time and zone after it
	 */
	sae_get(in, "Received", &t);
	if (!sae_parse_date(buf_cstr(&t), &when))
		when = 0;
	r = llabs(token - outlook_expected(when)) >= 250;
out:
	buf_release(&id);
	buf_release(&cap);
	buf_release(&t);
	return r;
}

#define H	(1u << RULE_HEADER)

static const struct saeval_fn fns[] = {
	{ "check_for_shifted_date", H, 2, 2, sae_prep_range, NULL,
	  shifted_date },
	{ "received_within_months", H, 2, 2, sae_prep_range, NULL,
	  within_months },
	{ "check_outlook_message_id", H, 0, 0, NULL, NULL, outlook_msgid },
};

const struct saeval_family saeval_date_family = {
	"date", fns, SAEVAL_NELEM(fns), NULL, 0, NULL
};
