/*
 * mailbox.c - walk files, mbox files, Maildirs and folders of messages
 *
 * DESCRIPTION
 *	See mailbox.h.  mbox separators are recognised strictly (an empty
 *	line before, "From ", a sender, and a time of day on the line) so
 *	that a message body line starting with "From " is not a split.
 *
 * SECURITY
 *	Paths come from the operator; file contents are untrusted and only
 *	scanned linearly.  Recursion is bounded by MAILBOX_MAX_DEPTH.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "mailbox.h"
#include "msg.h"
#include "msgparse.h"
#include "str.h"

static void
nop_eoh(void *arg)
{
	(void)arg;
}

static void
add_body(void *arg, const void *p, size_t n)
{
	msg_add_body(arg, p, n);
}

struct msg *
mailbox_msg(const struct conf *c, const char *p, size_t n)
{
	struct msg_limits lim;
	struct msg *m;
	struct msgparse_cb cb = { nop_eoh, add_body, NULL };
	struct msgparse *mp;

	msg_limits_from_conf(&lim, c);
	m = msg_new(&lim);
	cb.arg = m;
	mp = msgparse_new(m, &cb);
	msgparse_push(mp, p, n);
	msgparse_end(mp);
	msgparse_free(mp);
	return m;
}

/* is_separator - does the line at p (n bytes, no LF) open an mbox message? */
static bool
is_separator(const char *p, size_t n)
{
	size_t i;

	if (n < 10 || memcmp(p, "From ", 5) != 0 ||
	    ch_is_space((unsigned char)p[5]))
		return false;
	for (i = 5; i + 4 < n; i++)
		if (ch_is_digit((unsigned char)p[i]) &&
		    ch_is_digit((unsigned char)p[i + 1]) && p[i + 2] == ':' &&
		    ch_is_digit((unsigned char)p[i + 3]) &&
		    ch_is_digit((unsigned char)p[i + 4]))
			return true;
	return false;
}

static size_t
line_len(const char *p, size_t left)
{
	const char *nl = memchr(p, '\n', left);

	return nl ? (size_t)(nl - p) : left;
}

size_t
mailbox_next_mbox(const char *d, size_t len, size_t off)
{
	const char *nl;
	size_t i = off, n;

	/* skip the current message's own first line */
	if ((nl = memchr(d + i, '\n', len - i)) == NULL)
		return len;
	i = (size_t)(nl - d) + 1;
	while (i < len) {
		n = line_len(d + i, len - i);
		/* an empty line (LF or CRLF) followed by a separator */
		if ((n == 0 || (n == 1 && d[i] == '\r')) && i + n + 1 < len) {
			size_t j = i + n + 1;

			if (is_separator(d + j, line_len(d + j, len - j)))
				return j;
		}
		i += n + 1;
	}
	return len;
}

#define READ_MAX	(4 * 1024 * 1024)	/* larger files are mapped */

struct walker {
	const struct mailbox_cb *cb;
	struct buf rd;		/* contents of the current small file */
};

static void
report(struct walker *w, const char *label, const char *reason)
{
	if (w->cb->err)
		w->cb->err(label, reason, w->cb->arg);
}

/*
 * load - the file's bytes: read into w->rd when small (one read, no
 * mapping to set up and tear down per message), else mapped; *map is
 * set for munmap.  NULL (reason reported) on failure.
 */
static const char *
load(struct walker *w, int fd, const char *path, size_t len, void **map)
{
	size_t got = 0;
	ssize_t n;

	*map = NULL;
	if (len > READ_MAX) {
		*map = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
		if (*map == MAP_FAILED) {
			*map = NULL;
			report(w, path, strerror(errno));
			return NULL;
		}
		return *map;
	}
	buf_reset(&w->rd);
	buf_reserve(&w->rd, len);
	while (got < len) {
		n = read(fd, w->rd.data + got, len - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			report(w, path, n < 0 ? strerror(errno) :
			    "file shrank while reading");
			return NULL;
		}
		got += (size_t)n;
	}
	return w->rd.data;
}

/* walk_file - 0, 1 if unreadable, -1 if fn stopped */
static int
walk_file(const char *path, struct walker *w)
{
	const struct mailbox_cb *cb = w->cb;
	struct stat st;
	struct buf label = BUF_INIT;
	const char *d;
	size_t off, next, len, n = 0;
	void *map;
	int fd, rc = 0;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		report(w, path, strerror(errno));
		return 1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		report(w, path, "not a regular file");
		close(fd);
		return 1;
	}
	if (st.st_size == 0) {
		report(w, path, "empty file");
		close(fd);
		return 1;
	}
	len = (size_t)st.st_size;
	d = load(w, fd, path, len, &map);
	close(fd);
	if (d == NULL)
		return 1;
	if (!is_separator(d, line_len(d, len)) ||
	    (next = mailbox_next_mbox(d, len, 0)) == len) {
		rc = cb->msg(d, len, path, cb->arg) ? -1 : 0;
		goto out;
	}
	for (off = 0; off < len && rc == 0; off = next) {
		next = mailbox_next_mbox(d, len, off);
		buf_reset(&label);
		buf_printf(&label, "%s#%zu", path, ++n);
		if (cb->msg(d + off, next - off, label.data, cb->arg))
			rc = -1;
	}
out:
	buf_release(&label);
	if (map)
		munmap(map, len);
	return rc;
}

static int walk(const char *, struct walker *, int depth);

static int
name_cmp(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static int
skip_hidden(const struct dirent *d)
{
	return d->d_name[0] != '.';
}

/* walk_dir - the entries of dir (sorted); sub: only these subdirectories */
static int
walk_dir(const char *dir, struct walker *w, int depth,
    const char *const *sub)
{
	struct dirent **ents;
	struct buf p = BUF_INIT;
	int n, i, errors = 0, rc;
	size_t k;

	if (sub) {
		for (k = 0; sub[k] && errors >= 0; k++) {
			buf_reset(&p);
			buf_printf(&p, "%s/%s", dir, sub[k]);
			rc = walk_dir(p.data, w, depth + 1, NULL);
			errors = rc < 0 ? -1 : errors + rc;
		}
		buf_release(&p);
		return errors;
	}
	if ((n = scandir(dir, &ents, skip_hidden, name_cmp)) < 0) {
		report(w, dir, strerror(errno));
		return 1;
	}
	for (i = 0; i < n; i++) {
		if (errors >= 0) {
			buf_reset(&p);
			buf_printf(&p, "%s/%s", dir, ents[i]->d_name);
			rc = walk(p.data, w, depth + 1);
			errors = rc < 0 ? -1 : errors + rc;
		}
		free(ents[i]);
	}
	free(ents);
	buf_release(&p);
	return errors;
}

static bool
is_dir(const char *dir, const char *sub)
{
	struct buf p = BUF_INIT;
	struct stat st;
	bool yes;

	buf_printf(&p, "%s/%s", dir, sub);
	yes = stat(p.data, &st) == 0 && S_ISDIR(st.st_mode);
	buf_release(&p);
	return yes;
}

static int
walk(const char *path, struct walker *w, int depth)
{
	static const char *const maildir[] = { "cur", "new", NULL };
	struct stat st;

	if (lstat(path, &st) < 0) {
		report(w, path, strerror(errno));
		return 1;
	}
	if (S_ISLNK(st.st_mode) && depth > 0) {
		/* follow links to files only */
		if (stat(path, &st) < 0 || !S_ISREG(st.st_mode))
			return 0;
	} else if (S_ISLNK(st.st_mode) && stat(path, &st) < 0) {
		report(w, path, strerror(errno));
		return 1;
	}
	if (S_ISREG(st.st_mode))
		return walk_file(path, w);
	if (!S_ISDIR(st.st_mode)) {
		report(w, path, "not a file or directory");
		return 1;
	}
	if (depth > MAILBOX_MAX_DEPTH) {
		report(w, path, "too deep, skipped");
		return 1;
	}
	if (is_dir(path, "cur") && is_dir(path, "new"))
		return walk_dir(path, w, depth, maildir);
	return walk_dir(path, w, depth, NULL);
}

int
mailbox_walk(const char *path, const struct mailbox_cb *cb)
{
	struct walker w = { cb, BUF_INIT };
	int rc = walk(path, &w, 0);

	buf_release(&w.rd);
	return rc;
}
