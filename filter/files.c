/*
 * files.c - bounded whole-file reads
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "files.h"

int
files_read(const char *path, size_t max, struct buf *out, struct buf *why)
{
	struct stat st;
	char chunk[65536];
	ssize_t n;
	int fd;

	buf_reset(out);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		buf_printf(why, "%s: cannot open: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		buf_printf(why, "%s: not a regular file", path);
		close(fd);
		return -1;
	}
	for (;;) {
		n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			buf_printf(why, "%s: read error: %s", path,
			    strerror(errno));
			close(fd);
			return -1;
		}
		if (n == 0)
			break;
		if (out->len + (size_t)n > max) {
			buf_printf(why, "%s: larger than %zu bytes", path, max);
			close(fd);
			return -1;
		}
		buf_add(out, chunk, (size_t)n);
	}
	close(fd);
	buf_add(out, "", 0);	/* ensure data != NULL */
	return 0;
}

/* the service user's uid (files_secret_owner), or -1 */
static uid_t secret_owner = (uid_t)-1;

void
files_secret_owner(uid_t uid)
{
	secret_owner = uid;
}

int
files_read_secret(const char *path, size_t max, struct buf *out,
    struct buf *why)
{
	struct stat st;
	size_t got = 0;
	ssize_t n;
	int fd;

	buf_reset(out);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0) {
		buf_printf(why, "%s: cannot open: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		buf_printf(why, "%s: not a regular file", path);
		goto fail;
	}
	if (st.st_uid != geteuid() && st.st_uid != 0 &&
	    (geteuid() != 0 || st.st_uid != secret_owner)) {
		buf_printf(why, "%s: owned by uid %ld, not by this user, root "
		    "or the service user", path, (long)st.st_uid);
		goto fail;
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		buf_printf(why, "%s: mode %04o: must not be accessible by "
		    "group or others (chmod 600)", path,
		    (unsigned)(st.st_mode & 07777));
		goto fail;
	}
	if ((size_t)st.st_size > max) {
		buf_printf(why, "%s: larger than %zu bytes", path, max);
		goto fail;
	}
	buf_reserve(out, max + 1);
	for (;;) {
		n = read(fd, out->data + got, max + 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			buf_printf(why, "%s: read error: %s", path,
			    strerror(errno));
			goto fail;
		}
		if (n == 0)
			break;
		got += (size_t)n;
		if (got > max) {
			buf_printf(why, "%s: larger than %zu bytes", path, max);
			goto fail;
		}
	}
	close(fd);
	out->len = got;
	out->data[got] = '\0';
	return 0;
fail:
	close(fd);
	return -1;
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int
files_list(const char *dir, const char *suffix, char ***names, size_t *n)
{
	size_t sl = strlen(suffix), l;
	struct dirent *d;
	DIR *dp;

	*names = NULL;
	*n = 0;
	if ((dp = opendir(dir)) == NULL)
		return -1;
	while ((d = readdir(dp)) != NULL) {
		l = strlen(d->d_name);
		if (d->d_name[0] == '.' || l <= sl ||
		    strcmp(d->d_name + l - sl, suffix) != 0)
			continue;
		*names = xreallocarray(*names, *n + 1, sizeof(**names));
		(*names)[(*n)++] = xstrdup(d->d_name);
	}
	closedir(dp);
	if (*n > 1)
		qsort(*names, *n, sizeof(**names), cmp_names);
	return 0;
}

int
files_dir_creatable(const char *path, struct buf *why)
{
	struct stat st;
	char *parent, *slash;
	int rc = 0;

	if (stat(path, &st) == 0) {
		if (S_ISDIR(st.st_mode))
			return 0;
		buf_printf(why, "%s: not a directory", path);
		return -1;
	}
	parent = xstrdup(path);
	slash = strrchr(parent, '/');
	if (slash == NULL)
		strcpy(parent, ".");
	else if (slash == parent)
		slash[1] = '\0';
	else
		*slash = '\0';
	if (stat(parent, &st) < 0 || !S_ISDIR(st.st_mode)) {
		buf_printf(why, "%s: no such directory to create the store in",
		    parent);
		rc = -1;
	}
	free(parent);
	return rc;
}
