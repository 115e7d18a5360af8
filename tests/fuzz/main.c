/*
 * main.c - replay driver for the fuzz targets (built without libFuzzer)
 *
 * DESCRIPTION
 *	Runs LLVMFuzzerTestOneInput() over every regular file of the
 *	directories named on the command line, or by default of
 *	FUZZ_DIR/FUZZ_NAME.in (seeds, required) and FUZZ_DIR/FUZZ_NAME.repro
 *	(saved crashes, optional).  So every seed and every fixed crash runs
 *	in plain `make check` (Knot's tests-fuzz/main.c does the same).
 *	A crash or sanitizer report fails the test; the exit status is 0
 *	otherwise.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "buf.h"
#include "files.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* replay_dir - 0 and the count of inputs, -1 if dir cannot be read */
static int
replay_dir(const char *dir, size_t *count)
{
	struct buf data = BUF_INIT, why = BUF_INIT;
	struct dirent *de;
	struct stat st;
	DIR *d;

	if ((d = opendir(dir)) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		char *path;

		if (de->d_name[0] == '.')
			continue;
		path = xasprintf("%s/%s", dir, de->d_name);
		if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
			buf_reset(&why);
			if (files_read(path, 16 << 20, &data, &why) < 0) {
				fprintf(stderr, "%s\n", buf_cstr(&why));
				exit(1);
			}
			LLVMFuzzerTestOneInput((const uint8_t *)data.data,
			    data.len);
			(*count)++;
		}
		free(path);
	}
	closedir(d);
	buf_release(&data);
	buf_release(&why);
	return 0;
}

int
main(int argc, char **argv)
{
	size_t count = 0;
	char *dir;
	int i;

	if (argc > 1) {
		for (i = 1; i < argc; i++)
			if (replay_dir(argv[i], &count) < 0) {
				fprintf(stderr, "%s: %s\n", argv[i],
				    strerror(errno));
				return 1;
			}
	} else {
		dir = xasprintf("%s/%s.in", FUZZ_DIR, FUZZ_NAME);
		if (replay_dir(dir, &count) < 0) {
			fprintf(stderr, "%s: %s\n", dir, strerror(errno));
			return 1;
		}
		free(dir);
		dir = xasprintf("%s/%s.repro", FUZZ_DIR, FUZZ_NAME);
		(void)replay_dir(dir, &count);	/* optional */
		free(dir);
	}
	printf("%s: %zu inputs replayed\n", FUZZ_NAME, count);
	return 0;
}
