/*
 * svcown.c - files the daemon opens, as the service user sees them
 *
 * DESCRIPTION
 *	See svcown.h for the contract.  svcown_check() forks: the child
 *	takes the user's uid, gid and groups and tries each path with
 *	access(2) (real ids = the user's), then reports through a pipe, so
 *	the command itself keeps its privileges.
 * SECURITY
 *	svcown_give() never follows a symbolic link (lchown, fchownat with
 *	AT_SYMLINK_NOFOLLOW) and goes one level into a directory only.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <dirent.h>
#include <unistd.h>

#include "buf.h"
#include "conf.h"
#include "files.h"
#include "svcown.h"

int
svcown_get(const struct conf *c, const char *made, uid_t *uid, gid_t *gid,
    struct buf *why)
{
	const struct passwd *pw;

	if (geteuid() != 0 || c->user[0] == '\0')
		return 0;
	/* no configuration file read: no user configured, say so */
	if (strcmp(c->path, "(defaults)") == 0) {
		buf_printf(why, "warning: %s: what this makes is owned by "
		    "root, not the daemon's user: give -c FILE, a "
		    "configuration that sets user, to make it that user's",
		    made);
		return 0;
	}
	if ((pw = getpwnam(c->user)) != NULL) {
		*uid = pw->pw_uid;
		*gid = pw->pw_gid;
		return 1;
	}
	conf_where(c, "user", why);
	buf_printf(why, "'%s' does not exist: create it (adduser --system "
	    "--group %s) or set user to the daemon's user", c->user, c->user);
	return -1;
}

int
svcown_store(const struct conf *c, const char *spec, uid_t *uid,
    gid_t *gid, struct buf *why)
{
	if (spec[0] == '\0' || strncasecmp(spec, "redis://", 8) == 0)
		return 0;
	return svcown_get(c, spec, uid, gid, why);
}

static int
give_one(int dirfd, const char *name, const char *shown, uid_t uid,
    gid_t gid, struct buf *why)
{
	if (fchownat(dirfd, name, uid, gid, AT_SYMLINK_NOFOLLOW) < 0) {
		buf_printf(why, "%s: cannot give it to uid %ld: %s", shown,
		    (long)uid, strerror(errno));
		return -1;
	}
	return 0;
}

int
svcown_give(const char *path, uid_t uid, gid_t gid, struct buf *why)
{
	struct stat st;
	struct dirent *de;
	DIR *d;
	int rc = 0;

	if (lstat(path, &st) < 0) {
		buf_printf(why, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (S_ISDIR(st.st_mode) && (d = opendir(path)) != NULL) {
		while (rc == 0 && (de = readdir(d)) != NULL) {
			if (strcmp(de->d_name, ".") == 0 ||
			    strcmp(de->d_name, "..") == 0)
				continue;
			rc = give_one(dirfd(d), de->d_name, path, uid, gid,
			    why);
		}
		closedir(d);
	}
	if (rc == 0)
		rc = give_one(AT_FDCWD, path, path, uid, gid, why);
	return rc;
}

/* ---------------------------------------------------------------- */
/* svcown_check: in the child, as the user */

/* try - one path the way the daemon uses it; a line on problem */
static int
try(const struct conf *c, const char *key, const char *path, int mode,
    const char *use, struct buf *out)
{
	if (path == NULL || *path == '\0' || access(path, mode) == 0)
		return 0;
	conf_where(c, key, out);
	buf_printf(out, "%s: user %s cannot %s it: %s\n", path, c->user, use,
	    strerror(errno));
	return 1;
}

/* parent_dir - the directory of a file path, into b */
static const char *
parent_dir(const char *path, struct buf *b)
{
	const char *slash = strrchr(path, '/');

	buf_reset(b);
	if (slash == NULL)
		buf_adds(b, ".");
	else if (slash == path)
		buf_adds(b, "/");
	else
		buf_add(b, path, (size_t)(slash - path));
	return buf_cstr(b);
}

/*
 * try_made_dir - a directory the daemon writes files in; missing, the
 * daemon started as root makes it the user's when its parent exists
 * (main.c: the verdict log's directory, dmarc_report_dir)
 */
static int
try_made_dir(const struct conf *c, const char *key, const char *path,
    struct buf *out)
{
	struct buf up = BUF_INIT;
	int made;

	made = access(path, F_OK) < 0 && errno == ENOENT &&
	    access(parent_dir(path, &up), F_OK) == 0;
	buf_release(&up);
	return made ? 0 : try(c, key, path, W_OK | X_OK, "create files in",
	    out);
}

/*
 * try_or_parent - path used with mode (as use says) when it exists; else
 * its directory, where the daemon creates it: one the daemon started as
 * root makes (root_makes: try_made_dir), or one the user writes in
 */
static int
try_or_parent(const struct conf *c, const char *key, const char *path,
    int mode, const char *use, bool root_makes, struct buf *out)
{
	struct buf dir = BUF_INIT;
	int n;

	if (path[0] == '\0')
		return 0;
	if (access(path, F_OK) == 0)
		n = try(c, key, path, mode, use, out);
	else if (root_makes)
		n = try_made_dir(c, key, parent_dir(path, &dir), out);
	else
		n = try(c, key, parent_dir(path, &dir), W_OK | X_OK,
		    "create files in", out);
	buf_release(&dir);
	return n;
}

/* try_dir_writable - a directory the daemon makes, or lists and writes */
static int
try_dir_writable(const struct conf *c, const char *key, const char *path,
    struct buf *out)
{
	return try_or_parent(c, key, path, R_OK | W_OK | X_OK,
	    "read and write", false, out);
}

/* try_lmdb - an LMDB store directory (a redis:// URL is not a file) */
static int
try_lmdb(const struct conf *c, const char *key, const char *path,
    struct buf *out)
{
	static const char *const files[] = { "data.mdb", "lock.mdb" };
	struct buf p = BUF_INIT;
	size_t i;
	int n;

	if (path[0] == '\0' || strncasecmp(path, "redis://", 8) == 0)
		return 0;
	if ((n = try_dir_writable(c, key, path, out)) != 0 ||
	    access(path, X_OK) != 0)
		return n;
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		buf_reset(&p);
		buf_printf(&p, "%s/%s", path, files[i]);
		if (access(p.data, F_OK) == 0)
			n += try(c, key, p.data, R_OK | W_OK,
			    "read and write", out);
	}
	buf_release(&p);
	return n;
}

/*
 * try_dir_files - a directory the daemon reads, and each of its files
 * ending in suffix (rules: .cf, scopes: .conf).  A directory left at
 * its built-in default may be missing, as the engine allows
 * (engine_load_rules, scope_load): then there is nothing to read.
 */
static int
try_dir_files(const struct conf *c, const char *key, const char *path,
    bool missing_default, const char *suffix, struct buf *out)
{
	struct buf p = BUF_INIT;
	char **names;
	size_t nn, i;
	int n;

	if (path[0] == '\0' || missing_default)
		return 0;
	if ((n = try(c, key, path, R_OK | X_OK, "read", out)) != 0 ||
	    files_list(path, suffix, &names, &nn) < 0)
		return n;
	for (i = 0; i < nn; i++) {
		buf_reset(&p);
		buf_printf(&p, "%s/%s", path, names[i]);
		n += try(c, key, p.data, R_OK, "read", out);
		free(names[i]);
	}
	free(names);
	buf_release(&p);
	return n;
}

/*
 * struct rootview - what root sees before the check drops to the user:
 * a default directory is "missing" only when it does not exist, which
 * the user cannot tell from "cannot enter a parent" (EACCES either way)
 */
struct rootview {
	bool	 rules_dir_missing, rules_site_missing, scope_dir_missing;
};

static bool
missing_default(const char *path, const char *def)
{
	struct stat st;

	return path[0] != '\0' && strcmp(path, def) == 0 &&
	    stat(path, &st) < 0 && errno == ENOENT;
}

static void
rootview_fill(const struct conf *c, struct rootview *rv)
{
	rv->rules_dir_missing = missing_default(c->rules_dir, MW_RULES_DIR);
	rv->rules_site_missing = missing_default(c->rules_site_dir,
	    MW_RULES_SITE_DIR);
	rv->scope_dir_missing = missing_default(c->scope_dir,
	    MW_DEFAULT_SCOPE_DIR);
}

static int
check_as_user(const struct conf *c, const struct rootview *rv,
    struct buf *out)
{
	const char *colon;
	size_t i;
	int n = 0;

	n += try(c, "client_list", c->client_list, R_OK, "read", out);
	n += try(c, "sender_list", c->sender_list, R_OK, "read", out);
	n += try(c, "helo_list", c->helo_list, R_OK, "read", out);
	n += try(c, "welcomelist_auth", c->welcomelist_auth, R_OK, "read", out);
	n += try(c, "dkim_allowlist", c->dkim_allowlist, R_OK, "read", out);
	n += try_dir_files(c, "rules_dir", c->rules_dir, rv->rules_dir_missing,
	    ".cf", out);
	n += try_dir_files(c, "rules_site_dir", c->rules_site_dir,
	    rv->rules_site_missing, ".cf", out);
	n += try_dir_files(c, "scope_dir", c->scope_dir, rv->scope_dir_missing,
	    ".conf", out);
	for (i = 0; i < c->dns_zone_files.n; i++)
		n += try(c, "dns_zone_files", c->dns_zone_files.v[i], R_OK,
		    "read", out);
	/* the PSL is read only for some settings (engine.c): when it exists */
	if (access(c->dmarc_psl_file, F_OK) == 0)
		n += try(c, "dmarc_psl_file", c->dmarc_psl_file, R_OK, "read",
		    out);
	for (i = 0; i < c->dkim_sign_domains.n; i++) {
		/* DOMAIN:SELECTOR:PATH */
		colon = strchr(c->dkim_sign_domains.v[i], ':');
		if (colon && (colon = strchr(colon + 1, ':')) != NULL)
			n += try(c, "dkim_sign_domains", colon + 1, R_OK,
			    "read", out);
	}
	n += try_lmdb(c, "bayes_store", c->bayes_store, out);
	n += try_lmdb(c, "policy_store", c->policy_store, out);
	n += try_dir_writable(c, "sample_dir", c->sample_dir, out);
	/* the verdict log: a file the daemon creates or appends to */
	n += try_or_parent(c, "log_file", c->log_file, W_OK, "write", true,
	    out);
	if (c->dmarc_report_dir[0] != '\0')
		n += try_made_dir(c, "dmarc_report_dir", c->dmarc_report_dir,
		    out);
	return n;
}

int
svcown_check(const struct conf *c, struct buf *why)
{
	const struct passwd *pw;
	struct buf out = BUF_INIT;
	char chunk[4096];
	ssize_t r;
	pid_t pid;
	int fds[2], status, n;

	if (geteuid() != 0 || c->user[0] == '\0')
		return 0;
	if ((pw = getpwnam(c->user)) == NULL) {
		conf_where(c, "user", why);
		buf_printf(why, "'%s' does not exist\n", c->user);
		return 1;
	}
	if (pipe(fds) < 0 || (pid = fork()) < 0) {
		buf_printf(why, "cannot check as user %s: %s\n", c->user,
		    strerror(errno));
		return -1;
	}
	if (pid == 0) {
		struct rootview rv;

		close(fds[0]);
		rootview_fill(c, &rv);
		if (initgroups(pw->pw_name, pw->pw_gid) < 0 ||
		    setgid(pw->pw_gid) < 0 || setuid(pw->pw_uid) < 0)
			_exit(255);
		n = check_as_user(c, &rv, &out);
		if (write(fds[1], out.data ? out.data : "", out.len) < 0)
			_exit(255);
		_exit(n > 254 ? 254 : n);
	}
	close(fds[1]);
	while ((r = read(fds[0], chunk, sizeof(chunk))) > 0)
		buf_add(why, chunk, (size_t)r);
	close(fds[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(status) || WEXITSTATUS(status) == 255) {
		buf_printf(why, "cannot check as user %s: the check failed\n",
		    c->user);
		return -1;
	}
	return WEXITSTATUS(status);
}
