/*
 * fuzz_bayes_dump.c - the Bayes dump loader (`mailwarden bayes load`)
 *
 * DESCRIPTION
 *	A dump is a text file that moves a token database between hosts
 *	and backends; it can come from anywhere.  The input is loaded by
 *	bayes_load() into a store that only records what it is given (the
 *	loader's output, whatever the backend); a dump that loads is dumped
 *	again by bayes_dump() and loaded a second time, which must give the
 *	same records.  Checked besides: a failure always says why.
 */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bayes_store.h"
#include "buf.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* a store that keeps the records it is given, in order */
struct rec_store {
	struct bayes_store base;
	struct bayes_rec *v;
	size_t	 n;
};

static int
rs_put(struct bayes_store *bs, const struct bayes_rec *r, size_t n,
    struct buf *why)
{
	struct rec_store *s = (struct rec_store *)bs;

	(void)why;
	s->v = xreallocarray(s->v, s->n + n, sizeof(*s->v));
	memcpy(s->v + s->n, r, n * sizeof(*r));
	s->n += n;
	return BAYES_OK;
}

/* rs_iter - totals (summed) first, then the other records in order */
static int
rs_iter(struct bayes_store *bs, int (*fn)(const struct bayes_rec *, void *),
    void *arg, struct buf *why)
{
	struct rec_store *s = (struct rec_store *)bs;
	struct bayes_rec tot;
	size_t i;

	(void)why;
	memset(&tot, 0, sizeof(tot));
	tot.kind = BAYES_REC_TOTALS;
	for (i = 0; i < s->n; i++)
		if (s->v[i].kind == BAYES_REC_TOTALS) {
			tot.tot.nspam += s->v[i].tot.nspam;
			tot.tot.nham += s->v[i].tot.nham;
		}
	if (fn(&tot, arg) != 0)
		return BAYES_EPERM;
	for (i = 0; i < s->n; i++)
		if (s->v[i].kind != BAYES_REC_TOTALS && fn(&s->v[i], arg) != 0)
			return BAYES_EPERM;
	return BAYES_OK;
}

static const struct bayes_store_ops rs_ops = {
	"records", NULL, NULL, NULL, rs_iter, rs_put, NULL, NULL, NULL
};

/* load - text into s (empty first); the loader's status */
static int
load(struct rec_store *s, const void *text, size_t len, struct buf *why)
{
	FILE *f = fmemopen((void *)(uintptr_t)text, len, "r");
	int rc;

	if (f == NULL)
		abort();
	s->n = 0;
	rc = bayes_load(&s->base, f, "fuzz", why);
	fclose(f);
	if (rc != BAYES_OK && why->len == 0)
		abort();	/* a failure says why */
	return rc;
}

/* same_records - a and b, totals summed, the rest in order */
static bool
same_records(const struct rec_store *a, const struct rec_store *b)
{
	struct bayes_totals ta = { 0, 0 }, tb = { 0, 0 };
	size_t i, j;

	for (i = j = 0; i < a->n || j < b->n; ) {
		if (i < a->n && a->v[i].kind == BAYES_REC_TOTALS) {
			ta.nspam += a->v[i].tot.nspam;
			ta.nham += a->v[i++].tot.nham;
		} else if (j < b->n && b->v[j].kind == BAYES_REC_TOTALS) {
			tb.nspam += b->v[j].tot.nspam;
			tb.nham += b->v[j++].tot.nham;
		} else if (i < a->n && j < b->n) {
			if (memcmp(&a->v[i++], &b->v[j++], sizeof(a->v[0])))
				return false;
		} else
			return false;
	}
	return ta.nspam == tb.nspam && ta.nham == tb.nham;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rec_store s1 = { { &rs_ops, NULL }, NULL, 0 },
	    s2 = { { &rs_ops, NULL }, NULL, 0 };
	struct buf why = BUF_INIT;
	char *dump = NULL;
	size_t dlen = 0;
	FILE *f;

	if (size == 0 || load(&s1, data, size, &why) != BAYES_OK)
		goto out;
	if ((f = open_memstream(&dump, &dlen)) == NULL)
		abort();
	if (bayes_dump(&s1.base, f, &why) != BAYES_OK)
		abort();
	fclose(f);
	if (load(&s2, dump, dlen, &why) != BAYES_OK || !same_records(&s1, &s2))
		abort();	/* a dump loads back as what was loaded */
out:
	free(s1.v);
	free(s2.v);
	free(dump);
	buf_release(&why);
	return 0;
}
