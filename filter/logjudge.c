/*
 * logjudge.c - what decided a verdict, and was the message wanted?
 *
 * DESCRIPTION
 *	Pure functions over one struct logrec, used by the report's review
 *	lists, the symbol statistics and the search filters, so that "the
 *	symbols that decided it" means one thing everywhere:
 *	  - a symbol decided a tag or reject alone (lr_decisive) when it
 *	    forced the action, or when the score without it is below the
 *	    threshold the message crossed;
 *	  - the deciders of a message (lr_deciders) are the symbol that
 *	    forced it, else the fewest highest positive scores that lift
 *	    the rest of the score to the threshold.
 *	lr_evidence() weighs what a record shows in favour of the message
 *	being wanted mail: authentication (DMARC pass, aligned DKIM or
 *	SPF) and a low Bayes probability; a high one counts against.
 * SECURITY
 *	Symbol names come from the log and are copied, never interpreted;
 *	callers escape the text for its output.
 */
#include "config.h"

#include <json-c/json.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "logreview.h"
#include "mime.h"
#include "netaddr.h"
#include "str.h"

#define EPS	1e-9
#define MAX_SYMS 64

void
lr_subject(const struct logrec *r, size_t max, struct buf *out)
{
	size_t n;

	if (r->subject == NULL)
		return;
	n = strlen(r->subject);
	if (n > max) {
		/* cut on a character, not inside a UTF-8 sequence */
		while (max > 0 && ((unsigned char)r->subject[max] & 0xC0) ==
		    0x80)
			max--;
		n = max;
	}
	(void)mime_2047_decode(r->subject, n, out);
}

bool
lr_threshold(const struct logrec *r, double *out)
{
	if (!r->has_thresholds)
		return false;
	if (r->action == LR_REJECT)
		*out = r->reject;
	else if (r->action == LR_TAG)
		*out = r->tag;
	else
		return false;
	return true;
}

bool
lr_decisive(const struct logrec *r, const char *name, double sc)
{
	double thr;

	if (name == NULL)
		return false;
	if (r->forced_by && (r->action == LR_REJECT || r->action == LR_TAG))
		return strcmp(r->forced_by, name) == 0;
	if (!r->has_score || !lr_threshold(r, &thr) || !(sc > 0))
		return false;
	return r->score + EPS >= thr && r->score - sc < thr - EPS;
}

struct sym {
	const char *name;
	double	 score;
};

static int
sym_desc(const void *a, const void *b)
{
	const struct sym *x = a, *y = b;

	return x->score > y->score ? -1 : x->score < y->score;
}

/* positives - the symbols with a positive score, highest first */
static size_t
positives(const struct logrec *r, struct sym *v, double *sum)
{
	size_t i, n, k = 0;

	*sum = 0;
	n = r->symbols ? json_object_array_length(r->symbols) : 0;
	for (i = 0; i < n && k < MAX_SYMS; i++) {
		struct json_object *o = json_object_array_get_idx(r->symbols,
		    i);
		double sc;

		if (!lr_jnum(o, "score", &sc) || !(sc > 0))
			continue;
		v[k].name = lr_jstr(o, "name");
		v[k].score = sc;
		*sum += sc;
		k++;
	}
	qsort(v, k, sizeof(v[0]), sym_desc);
	return k;
}

void
lr_deciders(const struct logrec *r, size_t max, struct buf *out)
{
	struct sym v[MAX_SYMS];
	double thr, sum, have;
	size_t i, n;

	if (r->action != LR_REJECT && r->action != LR_TAG)
		return;
	if (r->forced_by) {
		buf_adds(out, r->forced_by);
		buf_adds(out, " (forced)");
		return;
	}
	if (!r->has_score || !lr_threshold(r, &thr))
		return;
	n = positives(r, v, &sum);
	have = r->score - sum;
	for (i = 0; i < n && i < max && have < thr - EPS; i++) {
		if (i)
			buf_addc(out, ' ');
		buf_adds(out, v[i].name ? v[i].name : "?");
		buf_printf(out, "(%+g)", v[i].score);
		have += v[i].score;
	}
	if (have < thr - EPS && i < n)
		buf_printf(out, " +%zu more", n - i);
}

bool
lr_outbound(const struct logrec *r)
{
	return (r->auth_user && *r->auth_user) || r->unscored;
}

int
lr_evidence(const struct logrec *r, unsigned *why)
{
	int p = 0;

	*why = 0;
	/*
	 * a From that failed DMARC may be anyone's: the history of its
	 * domain and of its address (LR_EV_DOMAIN, LR_EV_KNOWN) is not
	 * evidence for it, unless the failure was overridden (a trusted
	 * forwarder broke the signature)
	 */
	if (r->auth[LR_DMARC] == LR_AUTH_FAIL && r->dmarc_override == NULL)
		*why |= LR_EV_FORGED;
	if (r->auth[LR_DMARC] == LR_AUTH_PASS) {
		*why |= LR_EV_DMARC;
		p += 3;
	} else {
		if (r->dkim_aligned == 1 && r->auth[LR_DKIM] == LR_AUTH_PASS) {
			*why |= LR_EV_DKIM;
			p += 2;
		}
		if (r->spf_aligned == 1 && r->auth[LR_SPF] == LR_AUTH_PASS) {
			*why |= LR_EV_SPF;
			p += 1;
		}
	}
	if (r->has_bayes && r->bayes <= 0.3) {
		*why |= LR_EV_BAYES;
		p += r->bayes <= 0.1 ? 2 : 1;
	} else if (r->has_bayes && r->bayes >= 0.9) {
		*why |= LR_EV_SPAMMY;
		p -= 2;
	}
	return p;
}

void
lr_evidence_words(unsigned why, double bayes, struct buf *out)
{
	static const char *const words[LR_EV_NBITS] = {
		"DMARC pass", "aligned DKIM pass", "aligned SPF pass",
		"Bayes %.2f", "From domain mostly accepted",
		"known correspondent", "but Bayes %.2f", "but DMARC fail"
	};
	size_t i;
	bool first = true;

	for (i = 0; i < LR_EV_NBITS; i++) {
		if (!(why & (1u << i)))
			continue;
		if (!first)
			buf_adds(out, ", ");
		first = false;
		if (strchr(words[i], '%'))
			buf_printf(out, strstr(words[i], "but") ?
			    "but Bayes %.2f" : "Bayes %.2f", bayes);
		else
			buf_adds(out, words[i]);
	}
}

bool
lr_net(const char *ip, char *out, size_t n)
{
	struct netaddr a;
	size_t i;

	if (ip == NULL || netaddr_parse(ip, &a) < 0)
		return false;
	if (a.family == AF_INET) {
		snprintf(out, n, "%u.%u.%u.0/24", a.a[0], a.a[1], a.a[2]);
		return true;
	}
	for (i = 6; i < 16; i++)
		a.a[i] = 0;
	netaddr_format(&a, out, n);
	if (strlen(out) + 4 > n)
		return false;
	strcat(out, "/48");
	return true;
}
