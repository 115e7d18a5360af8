/*
 * fuzz_logread_gz.c - verdict logs read from files, gzip-compressed ones
 * included, through the reader `mailwarden log` uses
 *
 * DESCRIPTION
 *	fuzz_logreview covers the lines (a memory input); this covers the
 *	file side of logread: zlib's gzip reading, the prescan of each
 *	regular file, the time-ordered merge of several files, and input
 *	errors.  The first byte picks the mode, the rest is the data:
 *
 *	  0  the data is the file as it is (hostile or broken gzip, or
 *	     plain text);
 *	  1  the data is log text, written gzip-compressed: the records and
 *	     counts read from the file must be those read from the text in
 *	     memory, line by line;
 *	  2  as 1, but the compressed file is cut after the number of bytes
 *	     the second byte gives (as a fraction of its length): fewer or
 *	     as many records, and when the cut falls inside the data, an
 *	     input error saying so;
 *	  3  the text is split at its first form feed into two logs, the
 *	     first compressed: every record of both comes out, each file's
 *	     in its own line order.
 *	Files live in a directory made once per process.
 */
#include "config.h"

#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "buf.h"
#include "logread.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static char dir[256], fa[300], fb[300];

/* gzip_data - p[0..n) as one gzip member */
static void
gzip_data(const uint8_t *p, size_t n, struct buf *out)
{
	z_stream z;
	unsigned char chunk[16384];
	int rc;

	memset(&z, 0, sizeof(z));
	if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8,
	    Z_DEFAULT_STRATEGY) != Z_OK)
		abort();
	z.next_in = (unsigned char *)(uintptr_t)p;
	z.avail_in = (uInt)n;
	do {
		z.next_out = chunk;
		z.avail_out = sizeof(chunk);
		rc = deflate(&z, Z_FINISH);
		buf_add(out, chunk, sizeof(chunk) - z.avail_out);
	} while (rc == Z_OK);
	if (rc != Z_STREAM_END)
		abort();
	deflateEnd(&z);
}

static void
write_file(const char *path, const void *p, size_t n)
{
	FILE *f = fopen(path, "w");

	if (f == NULL || (n && fwrite(p, 1, n, f) != n) || fclose(f) != 0)
		abort();
}

/* read_all - every record of r as "lineno:len:text\n" into out */
static void
read_all(struct logread *r, struct buf *out, const char *only)
{
	const struct logline *l;

	while (logread_next(r, &l)) {
		if (l->obj == NULL || strlen(l->text) > l->len)
			abort();	/* a record is a parsed object */
		if (only && strcmp(l->file, only) != 0)
			continue;
		buf_printf(out, "%llu:%zu:", (unsigned long long)l->lineno,
		    l->len);
		buf_add(out, l->text, l->len);
		buf_addc(out, '\n');
	}
}

/*
 * file_vs_mem - fa holds the first cut bytes of gz, text compressed:
 * read whole, it reads as the text in memory does; cut inside, it gives
 * no more records and an input error
 */
static void
file_vs_mem(const uint8_t *text, size_t n, const struct buf *gz, size_t cut)
{
	char *paths[1] = { fa };
	struct logread *f, *m;
	struct buf a = BUF_INIT, b = BUF_INIT;
	const struct logread_stats *fs, *ms;

	write_file(fa, gz->data, cut);
	f = logread_open(paths, 1, 4);
	m = logread_open_mem((const char *)text, n, "mem", 4);
	read_all(f, &a, NULL);
	read_all(m, &b, NULL);
	fs = logread_stats(f);
	ms = logread_stats(m);
	if (cut == gz->len && (a.len != b.len ||
	    (a.len && memcmp(a.data, b.data, a.len)) ||
	    fs->records != ms->records || fs->malformed != ms->malformed ||
	    fs->lines != ms->lines || fs->nerrors != 0))
		abort();
	if (cut < gz->len && (fs->records > ms->records ||
	    (cut >= 10 && fs->nerrors == 0)))
		abort();
	logread_free(&f);
	logread_free(&m);
	buf_release(&a);
	buf_release(&b);
}

/* two_logs - text split at its first form feed, the first part gzipped */
static void
two_logs(const uint8_t *text, size_t n)
{
	const uint8_t *ff = memchr(text, '\f', n);
	size_t na = ff ? (size_t)(ff - text) : n, nb = ff ? n - na - 1 : 0;
	char *paths[2] = { fa, fb };
	struct buf gz = BUF_INIT, second = BUF_INIT, one = BUF_INIT,
	    c = BUF_INIT;
	struct logread *r;
	uint64_t records;

	gzip_data(text, na, &gz);
	write_file(fa, gz.data, gz.len);
	write_file(fb, ff ? ff + 1 : text, nb);
	r = logread_open(paths, 2, 4);
	read_all(r, &c, fa);
	records = logread_stats(r)->records;
	logread_free(&r);
	r = logread_open_mem((const char *)text, na, fa, 4);
	read_all(r, &one, NULL);
	records -= logread_stats(r)->records;
	logread_free(&r);
	if (c.len != one.len || (c.len && memcmp(c.data, one.data, c.len)))
		abort();	/* the first log's records, in order */
	r = logread_open_mem((const char *)(ff ? ff + 1 : text), nb, fb, 4);
	read_all(r, &second, NULL);
	if (records != logread_stats(r)->records)
		abort();	/* and every record of the second */
	logread_free(&r);
	buf_release(&gz);
	buf_release(&second);
	buf_release(&one);
	buf_release(&c);
}

static void
cleanup(void)
{
	unlink(fa);
	unlink(fb);
	rmdir(dir);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf gz = BUF_INIT;
	char *paths[1] = { fa };
	struct logread *r;
	const struct logline *l;

	if (dir[0] == '\0') {
		snprintf(dir, sizeof(dir), "%s/fuzz_logread_gz.XXXXXX",
		    getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
		if (mkdtemp(dir) == NULL)
			abort();
		snprintf(fa, sizeof(fa), "%s/verdicts.log.1.gz", dir);
		snprintf(fb, sizeof(fb), "%s/verdicts.log", dir);
		atexit(cleanup);
	}
	if (size < 2)
		return 0;
	switch (data[0] % 4) {
	case 0:
		write_file(fa, data + 1, size - 1);
		r = logread_open(paths, 1, 4);
		while (logread_next(r, &l))
			;
		logread_free(&r);
		break;
	case 1:
		gzip_data(data + 1, size - 1, &gz);
		file_vs_mem(data + 1, size - 1, &gz, gz.len);
		break;
	case 2:
		gzip_data(data + 2, size - 2, &gz);
		file_vs_mem(data + 2, size - 2, &gz, gz.len * data[1] / 255);
		break;
	default:
		two_logs(data + 1, size - 1);
	}
	buf_release(&gz);
	return 0;
}
