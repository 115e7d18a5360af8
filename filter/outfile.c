/*
 * outfile.c - write a generated file without destroying anything
 *
 * DESCRIPTION
 *	See outfile.h for the contract.  The target is checked once before
 *	the caller does its work (fail early) and again just before the
 *	rename, so a file that appeared meanwhile is not replaced either.
 * SECURITY
 *	The target is read with O_NOFOLLOW and O_NONBLOCK (a FIFO or a
 *	device is refused by fstat before anything is read).  A race with
 *	someone who can write the target's directory remains between the
 *	last check and rename(2); such a user can replace the file anyway.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "outfile.h"

static bool
is_input(const struct outfile_ids *in, const struct stat *sb)
{
	size_t i;

	for (i = 0; i < in->n; i++)
		if (in->v[i].dev == sb->st_dev && in->v[i].ino == sb->st_ino)
			return true;
	return false;
}

void
outfile_add_path(struct outfile_ids *in, const char *path)
{
	struct stat sb;
	int rc;

	if (strcmp(path, "-") == 0)
		rc = fstat(STDIN_FILENO, &sb);
	else
		rc = stat(path, &sb);
	if (rc < 0 || !S_ISREG(sb.st_mode) || is_input(in, &sb))
		return;
	in->v = xreallocarray(in->v, in->n + 1, sizeof(*in->v));
	in->v[in->n].dev = sb.st_dev;
	in->v[in->n++].ino = sb.st_ino;
}

void
outfile_ids_release(struct outfile_ids *in)
{
	free(in->v);
	in->v = NULL;
	in->n = 0;
}

/* starts_with_marker - does the regular file at path start with marker? */
static int
starts_with_marker(const char *path, const char *marker, struct buf *why)
{
	char head[OUTFILE_HEAD];
	size_t want = strlen(marker), got = 0;
	ssize_t n;
	int fd;

	if (want > sizeof(head))
		want = sizeof(head);
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC)) < 0) {
		buf_printf(why, "%s: cannot read it to see whether it is an "
		    "earlier output: %s", path, strerror(errno));
		return -1;
	}
	while (got < want && (n = read(fd, head + got, want - got)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			buf_printf(why, "%s: %s", path, strerror(errno));
			close(fd);
			return -1;
		}
		got += (size_t)n;
	}
	close(fd);
	return got == want && memcmp(head, marker, want) == 0;
}

int
outfile_check(const char *path, const struct outfile_ids *inputs,
    const char *marker, struct buf *why)
{
	struct stat sb, lsb;
	int ours;

	if (lstat(path, &lsb) < 0) {
		if (errno == ENOENT)
			return 0;
		buf_printf(why, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (stat(path, &sb) == 0 && is_input(inputs, &sb)) {
		buf_printf(why, "%s: is one of the inputs; refusing to "
		    "overwrite it (name a new output file, or - for standard "
		    "output)", path);
		return -1;
	}
	if (S_ISLNK(lsb.st_mode)) {
		buf_printf(why, "%s: is a symbolic link; refusing to replace "
		    "it (name the file itself, or another file)", path);
		return -1;
	}
	if (!S_ISREG(lsb.st_mode)) {
		buf_printf(why, "%s: exists and is not a regular file; "
		    "refusing to replace it (use - for standard output)", path);
		return -1;
	}
	if ((ours = starts_with_marker(path, marker, why)) < 0)
		return -1;
	if (!ours) {
		buf_printf(why, "%s: exists and is not an earlier output of "
		    "this command; refusing to overwrite it (move it away or "
		    "name another file)", path);
		return -1;
	}
	return 0;
}

int
outfile_check_stdout(const struct outfile_ids *inputs, struct buf *why)
{
	struct stat sb;

	if (fstat(STDOUT_FILENO, &sb) == 0 && is_input(inputs, &sb)) {
		buf_adds(why, "standard output is one of the inputs (a "
		    "redirection onto the log?); refusing to write to it");
		return -1;
	}
	return 0;
}

/* temp_name - a mkstemp() template in the directory of path */
static char *
temp_name(const char *path)
{
	char *copy = xstrdup(path), *dir, *base, *t;

	dir = dirname(copy);
	t = xstrdup(path);
	base = basename(t);
	base = xasprintf("%s/.%s.XXXXXX", dir, base);
	free(t);
	free(copy);
	return base;
}

/* write_all - data to fd, flushed to disk; 0 or -1 with errno */
static int
write_all(int fd, const char *p, size_t len)
{
	ssize_t n;

	while (len) {
		if ((n = write(fd, p, len)) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return fsync(fd);
}

int
outfile_write(const char *path, const void *data, size_t len,
    const struct outfile_ids *inputs, const char *marker, struct buf *why)
{
	char *tmp = temp_name(path);
	int fd = mkstemp(tmp), rc = -1;

	if (fd < 0) {
		buf_printf(why, "%s: cannot create a temporary file beside it: "
		    "%s", path, strerror(errno));
		free(tmp);
		return -1;
	}
	if (write_all(fd, data, len) < 0 || fchmod(fd, 0644) < 0) {
		buf_printf(why, "%s: %s", tmp, strerror(errno));
		close(fd);
	} else if (close(fd) < 0)
		buf_printf(why, "%s: %s", tmp, strerror(errno));
	else if (outfile_check(path, inputs, marker, why) == 0) {
		if (rename(tmp, path) == 0)
			rc = 0;
		else
			buf_printf(why, "%s: %s", path, strerror(errno));
	}
	if (rc < 0)
		(void)unlink(tmp);
	free(tmp);
	return rc;
}
