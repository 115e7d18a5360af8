/*
 * vlog.h - the verdict log: one JSON object per line per message
 *
 * DESCRIPTION
 *	vlog_format() renders the line; its schema is documented in the
 *	README ("Verdict log") and only ever grows: keys are not renamed.
 *	struct vlog appends lines to a file with one write(2) each, from
 *	any thread, and reopens the file on request (logrotate, SIGUSR1).
 */
#ifndef MW_VLOG_H
#define MW_VLOG_H

struct buf;
struct msg;
struct verdict;

#define VLOG_SCHEMA_VERSION	1

void	vlog_format(const struct msg *, const struct verdict *, double when,
	    struct buf *out);

struct vlog;

/* vlog_open - path "" means no log (writes are dropped) */
struct vlog *vlog_open(const char *path, struct buf *why);
int	 vlog_write(struct vlog *, const char *line, size_t len);
int	 vlog_reopen(struct vlog *);
void	 vlog_close(struct vlog *);
const char *vlog_path(const struct vlog *);

#endif
