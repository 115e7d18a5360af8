/*
 * main.c - replay driver for the fuzz targets (built without libFuzzer)
 *
 * DESCRIPTION
 *	Runs LLVMFuzzerTestOneInput() over every regular file of the
 *	directories given as arguments, or, with no arguments, of the
 *	target's seed corpus and crash reproducers
 *	($TOP_SRCDIR/tests/fuzz/<program name>.in and .repro; make check sets
 *	TOP_SRCDIR), so that `make check` replays them under whatever
 *	sanitizers the build has.  Prints "N passed, N failed".
 */
#include "config.h"

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "buf.h"
#include "files.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static unsigned ran;

static int
replay_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	struct buf data = BUF_INIT, why = BUF_INIT;
	char path[4096];

	if (d == NULL)
		return 0;	/* e.g. no reproducers yet */
	while ((e = readdir(d)) != NULL) {
		struct stat st;

		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (stat(path, &st) < 0 || !S_ISREG(st.st_mode))
			continue;
		if (files_read(path, 16 * 1024 * 1024, &data, &why) < 0) {
			fprintf(stderr, "%s\n", buf_cstr(&why));
			buf_release(&data);
			buf_release(&why);
			closedir(d);
			return -1;
		}
		LLVMFuzzerTestOneInput((const uint8_t *)data.data, data.len);
		ran++;
	}
	closedir(d);
	buf_release(&data);
	buf_release(&why);
	return 0;
}

int
main(int argc, char **argv)
{
	int i, rc = 0;

	if (argc > 1) {
		for (i = 1; i < argc; i++)
			if (replay_dir(argv[i]) < 0)
				rc = 1;
	} else {
		const char *top = getenv("TOP_SRCDIR");
		const char *name = strrchr(argv[0], '/');
		char dir[4096];

		name = name ? name + 1 : argv[0];
		if (top == NULL) {
			fprintf(stderr, "%s: set TOP_SRCDIR or name corpus "
			    "directories\n", argv[0]);
			return 2;
		}
		snprintf(dir, sizeof(dir), "%s/tests/fuzz/%s.in", top, name);
		if (replay_dir(dir) < 0)
			rc = 1;
		snprintf(dir, sizeof(dir), "%s/tests/fuzz/%s.repro", top, name);
		if (replay_dir(dir) < 0)
			rc = 1;
		if (ran == 0) {
			fprintf(stderr, "%s: empty seed corpus\n", argv[0]);
			rc = 1;
		}
	}
	printf("%u passed, %d failed\n", ran, rc);
	return rc;
}
