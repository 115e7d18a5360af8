/*
 * submit.h - hand one message to the local sendmail(1) program
 *
 * DESCRIPTION
 *	submit_mail() runs PROG -oi -f SENDER -- RCPT (PROG found in PATH
 *	if it has no slash) without a shell, writes the message to its
 *	standard input and waits for it.  The recipient comes from the
 *	command line only, never from the message's header (no -t), so no
 *	header field can add or change a recipient, and "--" keeps a
 *	recipient from being read as an option.
 *
 * SECURITY
 *	Both addresses must be in the form smtpaddr_parse() gives (the
 *	caller has checked them; this is checked again): an MTA parses a
 *	command-line recipient as an RFC 822 address list, with comments.
 *	SIGPIPE is ignored while writing, so a sendmail program that exits
 *	early gives an error, not the death of the caller.
 *
 * DIAGNOSTICS
 *	0, or -1 with why: the program could not be run, the message could
 *	not be written, or it exited with a non-zero status or a signal.
 */
#ifndef MW_SUBMIT_H
#define MW_SUBMIT_H

#include <stddef.h>

struct buf;

int	 submit_mail(const char *prog, const char *sender, const char *rcpt,
	    const char *msg, size_t len, struct buf *why);

#endif
