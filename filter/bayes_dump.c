/*
 * bayes_dump.c - text dump and load of a token store
 *
 * DESCRIPTION
 *	The dump is line-oriented text, independent of the backend, so it
 *	serves as a backup and to move a database from LMDB to Redis or
 *	back:
 *
 *	    mailwarden-bayes-dump 1
 *	    totals NSPAM NHAM
 *	    token HASH SPAM HAM LASTSEEN      (HASH: 16 hex digits)
 *	    digest DIGEST s|h WHEN            (DIGEST: 32 hex digits)
 *
 *	Lines starting with '#' and empty lines are ignored.  Load adds the
 *	totals to the store's and sets tokens and digests verbatim; it is
 *	meant for an empty store (the CLI refuses a non-empty one unless
 *	told otherwise).
 *
 * DIAGNOSTICS
 *	bayes_load() stops at the first malformed line with FILE:LINE; the
 *	records before it have been written in batches.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bayes_store.h"
#include "buf.h"
#include "str.h"

#define LOAD_BATCH	10000
#define LINE_MAX_LEN	256

static int
dump_rec(const struct bayes_rec *r, void *arg)
{
	FILE *f = arg;
	size_t i;

	switch (r->kind) {
	case BAYES_REC_TOTALS:
		fprintf(f, "totals %" PRIu64 " %" PRIu64 "\n", r->tot.nspam,
		    r->tot.nham);
		break;
	case BAYES_REC_TOKEN:
		fprintf(f, "token %016" PRIx64 " %u %u %u\n", r->hash,
		    r->counts.spam, r->counts.ham, r->counts.seen);
		break;
	case BAYES_REC_DIGEST:
		fputs("digest ", f);
		for (i = 0; i < BAYES_DIGEST_LEN; i++)
			fprintf(f, "%02x", r->digest[i]);
		fprintf(f, " %c %u\n", r->cls == BAYES_SPAM ? 's' : 'h',
		    r->when);
		break;
	}
	return ferror(f) ? -1 : 0;
}

int
bayes_dump(struct bayes_store *s, FILE *f, struct buf *why)
{
	int rc;

	fprintf(f, "mailwarden-bayes-dump 1\n");
	rc = bayes_store_iter(s, dump_rec, f, why);
	if (rc == BAYES_OK && (fflush(f) != 0 || ferror(f))) {
		buf_adds(why, "write error");
		rc = BAYES_EPERM;
	}
	return rc;
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = ch_lower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* parse_hex - exactly 2*n hex digits into out */
static int
parse_hex(const char *s, uint8_t *out, size_t n)
{
	size_t i;
	int hi, lo;

	if (strlen(s) != 2 * n)
		return -1;
	for (i = 0; i < n; i++) {
		if ((hi = hexval((unsigned char)s[2 * i])) < 0 ||
		    (lo = hexval((unsigned char)s[2 * i + 1])) < 0)
			return -1;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

static int
parse_u32(const char *s, uint32_t *out)
{
	uint64_t v;

	if (s == NULL || parse_uint(s, 0, UINT32_MAX, &v) < 0)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

/* parse_line - one record; 1 = record, 0 = nothing, -1 = malformed */
static int
parse_line(char *line, struct bayes_rec *r)
{
	char *f[6], *save = NULL, *t;
	size_t n = 0;
	uint8_t hb[8];
	uint64_t a, b;
	int i;

	for (t = strtok_r(line, " \t\r\n", &save); t && n < 6;
	    t = strtok_r(NULL, " \t\r\n", &save))
		f[n++] = t;
	if (n == 0 || f[0][0] == '#')
		return 0;
	if (t != NULL)
		return -1;
	memset(r, 0, sizeof(*r));
	if (strcmp(f[0], "totals") == 0 && n == 3) {
		if (parse_uint(f[1], 0, UINT64_MAX, &a) < 0 ||
		    parse_uint(f[2], 0, UINT64_MAX, &b) < 0)
			return -1;
		r->kind = BAYES_REC_TOTALS;
		r->tot.nspam = a;
		r->tot.nham = b;
		return 1;
	}
	if (strcmp(f[0], "token") == 0 && n == 5) {
		if (parse_hex(f[1], hb, 8) < 0 ||
		    parse_u32(f[2], &r->counts.spam) < 0 ||
		    parse_u32(f[3], &r->counts.ham) < 0 ||
		    parse_u32(f[4], &r->counts.seen) < 0)
			return -1;
		r->kind = BAYES_REC_TOKEN;
		for (i = 0; i < 8; i++)
			r->hash = r->hash << 8 | hb[i];
		return 1;
	}
	if (strcmp(f[0], "digest") == 0 && n == 4) {
		if (parse_hex(f[1], r->digest, BAYES_DIGEST_LEN) < 0 ||
		    (strcmp(f[2], "s") != 0 && strcmp(f[2], "h") != 0) ||
		    parse_u32(f[3], &r->when) < 0)
			return -1;
		r->kind = BAYES_REC_DIGEST;
		r->cls = f[2][0] == 's' ? BAYES_SPAM : BAYES_HAM;
		return 1;
	}
	return -1;
}

int
bayes_load(struct bayes_store *s, FILE *f, const char *origin,
    struct buf *why)
{
	struct bayes_rec *batch = xcalloc(LOAD_BATCH, sizeof(*batch));
	char line[LINE_MAX_LEN];
	size_t n = 0;
	unsigned long lineno = 0;
	int rc = BAYES_OK, k;

	while (fgets(line, sizeof(line), f) != NULL) {
		lineno++;
		if (strchr(line, '\n') == NULL && !feof(f)) {
			buf_printf(why, "%s:%lu: line too long", origin, lineno);
			rc = BAYES_EPERM;
			goto out;
		}
		if (lineno == 1) {
			if (strcmp(line, "mailwarden-bayes-dump 1\n") != 0 &&
			    strcmp(line, "mailwarden-bayes-dump 1") != 0) {
				buf_printf(why, "%s: not a mailwarden Bayes dump "
				    "(version 1)", origin);
				rc = BAYES_EPERM;
				goto out;
			}
			continue;
		}
		if ((k = parse_line(line, &batch[n])) < 0) {
			buf_printf(why, "%s:%lu: malformed record", origin,
			    lineno);
			rc = BAYES_EPERM;
			goto out;
		}
		if (k == 0)
			continue;
		if (++n == LOAD_BATCH) {
			if ((rc = bayes_store_put(s, batch, n, why)) != BAYES_OK)
				goto out;
			n = 0;
		}
	}
	if (ferror(f)) {
		buf_printf(why, "%s: read error", origin);
		rc = BAYES_EPERM;
		goto out;
	}
	if (lineno == 0) {
		buf_printf(why, "%s: empty file", origin);
		rc = BAYES_EPERM;
		goto out;
	}
	if (n)
		rc = bayes_store_put(s, batch, n, why);
out:
	free(batch);
	return rc;
}
