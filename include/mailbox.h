/*
 * mailbox.h - every message under a path: file, mbox, Maildir, folder
 *
 * DESCRIPTION
 *	mailbox_walk() calls fn once per message found under path:
 *
 *	  - a regular file that starts with an mbox "From " line and holds
 *	    further separator lines is an mbox: split before every line
 *	    "From SENDER DATE" that follows an empty line and carries a
 *	    time of day (hh:mm); otherwise the file is one message;
 *	  - a directory with cur/ and new/ is a Maildir: the files in both;
 *	  - any other directory: its files and subdirectories, in name
 *	    order, to MAILBOX_MAX_DEPTH levels; names starting with '.'
 *	    are skipped and symbolic links to directories are not followed.
 *
 *	Files up to 4 MiB are read into one reused buffer; larger ones (big
 *	mbox files) are mapped, so they cost no copy.  fn gets
 *	the message bytes (the mbox "From " line included: the message
 *	parser skips it) and a label "path" or "path#N" for messages of an
 *	mbox; a non-zero return stops the walk.
 *
 * DIAGNOSTICS
 *	Unreadable entries are reported through err (label, reason) and
 *	counted; the walk goes on.  The return value is the number of such
 *	errors, or -1 if fn stopped the walk.
 */
#ifndef MW_MAILBOX_H
#define MW_MAILBOX_H

#include <stddef.h>

struct conf;
struct msg;

#define MAILBOX_MAX_DEPTH	8

struct mailbox_cb {
	int	(*msg)(const char *data, size_t len, const char *label,
		    void *arg);
	void	(*err)(const char *label, const char *reason, void *arg);
	void	*arg;
};

int	mailbox_walk(const char *path, const struct mailbox_cb *);

/*
 * mailbox_msg - the struct msg the milter would build from these bytes
 * (msgparse.h: leading "From " line skipped, CRLF body, conf's caps);
 * caller frees with msg_free()
 */
struct msg *mailbox_msg(const struct conf *, const char *data, size_t len);

/* mailbox_next_mbox - offset of the next mbox separator after off, or len */
size_t	mailbox_next_mbox(const char *data, size_t len, size_t off);

#endif
