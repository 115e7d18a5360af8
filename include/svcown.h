/*
 * svcown.h - files the daemon opens, as the service user sees them
 *
 * DESCRIPTION
 *	The daemon runs as the configured user (key user).  Commands run as
 *	root create files it opens later: the Bayes store (train, bayes
 *	load), the policy store (ratelimit) and DKIM keys (dkim keygen).  svcown_get() says whom such a
 *	file must belong to; svcown_give() hands it over.  svcown_check()
 *	tries, as that user, every file and directory the configuration
 *	names, the way the daemon uses it.
 * DIAGNOSTICS
 *	svcown_get: 1 (give files to *uid:*gid), 0 (nothing to do: not
 *	root or user empty; or no configuration file was read, then why
 *	holds a warning that what the command makes at path made stays
 *	root's), -1 (why: the user the configuration file names does not
 *	exist).  Call it before creating anything, so that a refusal leaves
 *	nothing behind.  svcown_store: the same for a store spec (an LMDB
 *	directory; a redis:// URL is no file: 0).  svcown_give: 0 or -1
 *	with why.  svcown_check: the number of problems, each one line
 *	"FILE:LINE: key: PATH: problem" appended to why; -1 when the check
 *	could not run (why says so).
 */
#ifndef MW_SVCOWN_H
#define MW_SVCOWN_H

#include <sys/types.h>

struct buf;
struct conf;

int	svcown_get(const struct conf *, const char *made, uid_t *uid,
	    gid_t *gid, struct buf *why);
int	svcown_store(const struct conf *, const char *spec, uid_t *uid,
	    gid_t *gid, struct buf *why);
/* path, and for a directory the entries directly in it; no symlink is followed */
int	svcown_give(const char *path, uid_t uid, gid_t gid, struct buf *why);
int	svcown_check(const struct conf *, struct buf *why);

#endif
