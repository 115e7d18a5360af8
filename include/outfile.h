/*
 * outfile.h - write a generated file without destroying anything
 *
 * DESCRIPTION
 *	A command that writes a file it generates (the HTML log report)
 *	must never replace one of its inputs, nor any existing file it did
 *	not write itself.  Files are compared by device and inode, not by
 *	name, so a symbolic link, a hard link or a shell redirection to an
 *	input is caught as well as the input's own name.
 *
 *	An existing target may be replaced only when it is a regular file
 *	whose first OUTFILE_HEAD bytes start with the writer's own marker
 *	(an earlier output of the same writer).  The new content goes to
 *	a temporary file in the target's directory, which is renamed over
 *	the target only when it was written, flushed and closed without
 *	error and the target still passes the checks.
 * DIAGNOSTICS
 *	Each function returns 0, or -1 with the reason in why ("PATH: ...",
 *	in plain words, with what to do instead).
 */
#ifndef MW_OUTFILE_H
#define MW_OUTFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct buf;

#define OUTFILE_HEAD	4096	/* bytes of a target searched for the marker */

/* the identity of one input */
struct file_id {
	dev_t	 dev;
	ino_t	 ino;
};

/* outfile_ids - a set of inputs, by identity */
struct outfile_ids {
	struct file_id *v;
	size_t	 n;
};

/*
 * outfile_add_path - add the file path names (symbolic links followed);
 * "-" adds standard input.  Only regular files are added: writing to a
 * pipe or a device destroys nothing (and a cron job's /dev/null may be
 * both its input and its output).  A path that cannot be stat()ed is
 * not added: it cannot be read either, and its reader reports it.
 */
void	 outfile_add_path(struct outfile_ids *, const char *path);
void	 outfile_ids_release(struct outfile_ids *);

/*
 * outfile_check - may path be written?  Yes when it does not exist, or
 * is a regular file that is none of the inputs and starts with marker
 * (which must start at its first byte).  A symbolic link is refused.
 */
int	 outfile_check(const char *path, const struct outfile_ids *inputs,
	    const char *marker, struct buf *why);
/* outfile_check_stdout - standard output is none of the inputs */
int	 outfile_check_stdout(const struct outfile_ids *inputs,
	    struct buf *why);
/*
 * outfile_write - data to path (mode 0644) through a temporary file in
 * its directory and rename(2), checking path again just before.
 */
int	 outfile_write(const char *path, const void *data, size_t len,
	    const struct outfile_ids *inputs, const char *marker,
	    struct buf *why);
#endif
