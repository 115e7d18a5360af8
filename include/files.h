/*
 * files.h - bounded whole-file reads
 *
 * DESCRIPTION
 *	files_read() reads a regular file into out (NUL-terminated), failing
 *	with a reason in why when it cannot be opened, is not a regular
 *	file, or is larger than max bytes.  Parsers then work from memory.
 */
#ifndef MW_FILES_H
#define MW_FILES_H

#include <stddef.h>
#include <sys/types.h>

struct buf;

int	files_read(const char *path, size_t max, struct buf *out,
	    struct buf *why);
/*
 * files_read_secret - like files_read() for key files: the file must be
 * a regular file owned by the effective user or root and carry no group
 * or other permission bits (OpenSMTPD check_file_secrecy()); checked on
 * the open descriptor.  out is allocated exactly once, so the caller can
 * wipe it (explicit_bzero) before buf_release().
 */
int	files_read_secret(const char *path, size_t max, struct buf *out,
	    struct buf *why);
/*
 * files_secret_owner - a third owner files_read_secret() accepts while
 * running as root: the service user (key user), whose daemon reads the
 * keys after it drops root and who must own them (mailwarden(8))
 */
void	files_secret_owner(uid_t uid);
/*
 * files_list - names in dir ending in suffix, not starting with '.',
 * sorted (strcmp); *names is malloc'd (free each and the array), -1
 * with errno when dir cannot be opened
 */
int	files_list(const char *dir, const char *suffix, char ***names,
	    size_t *n);
/*
 * files_dir_creatable - path is a directory, or one can be made there (its
 * parent directory exists); else -1 with why.  For a store a daemon will
 * create on first use: checked at load time, nothing made.
 */
int	files_dir_creatable(const char *path, struct buf *why);

#endif
