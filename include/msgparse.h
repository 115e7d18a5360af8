/*
 * msgparse.h - split a message file into header fields and body
 *
 * DESCRIPTION
 *	A push parser for messages read from files (the `scan` command,
 *	tests, fuzzers): feed bytes in any chunking with msgparse_push(),
 *	then msgparse_end().  Header fields go into the struct msg exactly
 *	as the milter would store them; when the header section ends the
 *	eoh callback runs (the caller starts its scan there) and body bytes
 *	follow through the body callback with every line break as CRLF,
 *	which is how an MTA hands a body to a milter.
 *
 *	Like Postfix, a line in the header section that is neither a field
 *	nor a continuation ends the headers and starts the body.  A leading
 *	mbox "From " line is skipped.
 *
 * LIMITS
 *	A field is kept up to MSG_MAX_FIELD_VALUE bytes; the rest is counted
 *	but not stored, so a 10 MB header line costs 64 KiB of memory.
 */
#ifndef MW_MSGPARSE_H
#define MW_MSGPARSE_H

#include <stddef.h>

struct msg;

struct msgparse_cb {
	void	(*eoh)(void *arg);
	void	(*body)(void *arg, const void *, size_t);
	void	*arg;
};

struct msgparse;

struct msgparse *msgparse_new(struct msg *, const struct msgparse_cb *);
void	msgparse_push(struct msgparse *, const void *, size_t);
void	msgparse_end(struct msgparse *);
void	msgparse_free(struct msgparse *);

/*
 * msgparse_text - a whole message held in memory into m: header fields,
 * and the body stored with msg_add_body() (up to the msg's cap), for
 * tools that need the message but no scan.
 */
void	msgparse_text(struct msg *, const void *, size_t);

#endif
