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

struct buf;

int	files_read(const char *path, size_t max, struct buf *out,
	    struct buf *why);

#endif
