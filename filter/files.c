/*
 * files.c - bounded whole-file reads
 */
#include "config.h"

#include <errno.h>
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
