/*
 * main.c - replay driver for the fuzz targets in plain builds
 *
 * DESCRIPTION
 *	Built without libFuzzer, each tests/fuzz/fuzz_<target> links this
 *	file and runs LLVMFuzzerTestOneInput() once over every file of the
 *	directories (or files) named on the command line.  With no
 *	arguments it replays its own seed corpus and crash reproducers,
 *	FUZZ_DIR/<target>.in/ and FUZZ_DIR/<target>.repro/, which is how
 *	`make check` runs it.  A crash or sanitizer report fails the test.
 *
 *	With --with-fuzzer the targets are linked with -fsanitize=fuzzer,
 *	MW_LIBFUZZER is defined and this file is empty: libFuzzer brings
 *	its own main().
 */
#include "config.h"

#ifndef MW_LIBFUZZER

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "buf.h"
#include "files.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define FUZZ_MAX_INPUT	(64u * 1024 * 1024)

static int
run_file(const char *path)
{
	struct buf in = BUF_INIT, why = BUF_INIT;

	if (files_read(path, FUZZ_MAX_INPUT, &in, &why) < 0) {
		fprintf(stderr, "%s\n", buf_cstr(&why));
		buf_release(&why);
		return -1;
	}
	/* a private copy of exactly len bytes, so ASan sees overreads */
	{
		uint8_t *copy = malloc(in.len ? in.len : 1);

		if (copy == NULL)
			abort();
		memcpy(copy, in.data ? in.data : "", in.len);
		LLVMFuzzerTestOneInput(copy, in.len);
		free(copy);
	}
	buf_release(&in);
	return 0;
}

/* run_path - a file, or every regular file of a directory */
static int
run_path(const char *path, size_t *count)
{
	struct stat st;
	struct dirent *d;
	DIR *dir;
	char sub[4096];
	int rc = 0;

	if (stat(path, &st) < 0)
		return 0;		/* a target may have no .repro yet */
	if (!S_ISDIR(st.st_mode)) {
		(*count)++;
		return run_file(path);
	}
	if ((dir = opendir(path)) == NULL)
		return -1;
	while ((d = readdir(dir)) != NULL) {
		if (d->d_name[0] == '.')
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", path, d->d_name);
		if (stat(sub, &st) == 0 && S_ISREG(st.st_mode)) {
			(*count)++;
			if (run_file(sub) < 0)
				rc = -1;
		}
	}
	closedir(dir);
	return rc;
}

int
main(int argc, char **argv)
{
	char path[4096];
	size_t count = 0;
	int i, rc = 0;

	if (argc > 1) {
		for (i = 1; i < argc; i++)
			if (run_path(argv[i], &count) < 0)
				rc = 1;
	} else {
		snprintf(path, sizeof(path), "%s/%s.in", FUZZ_DIR, FUZZ_NAME);
		if (run_path(path, &count) < 0)
			rc = 1;
		snprintf(path, sizeof(path), "%s/%s.repro", FUZZ_DIR, FUZZ_NAME);
		if (run_path(path, &count) < 0)
			rc = 1;
	}
	printf("%s: %zu inputs replayed\n", argc > 0 ? argv[0] : "fuzz",
	    count);
	if (count == 0)
		return 77;		/* nothing to replay: skip */
	return rc;
}

#endif /* MW_LIBFUZZER */
