/*
 * log.h - diagnostics for the daemon and the command line tools
 *
 * DESCRIPTION
 *	Severity ladder after Postfix msg(3):
 *	log_info   normal events (one line per message is the verdict log's
 *	           job, not this one's);
 *	log_warn   degraded but carrying on (DNS timeout, regex limit);
 *	log_err    an operation failed;
 *	log_fatal  start-up failure: logs and exits(1);
 *	log_panic  broken invariant (a bug): logs and aborts.
 *	The *_errno variants append strerror(errno), as OpenBSD log_warn().
 *
 *	Output goes to a sink: stderr (default), syslog, or a capture
 *	buffer that tests inspect.  Untrusted text must be passed through
 *	str_escape() and capped before it reaches these functions.
 */
#ifndef MW_LOG_H
#define MW_LOG_H

#include <stdarg.h>

enum log_level {
	LOG_LEVEL_DEBUG,
	LOG_LEVEL_INFO,
	LOG_LEVEL_WARN,
	LOG_LEVEL_ERR,
	LOG_LEVEL_FATAL,
	LOG_LEVEL_PANIC
};

enum log_sink {
	LOG_SINK_STDERR,
	LOG_SINK_SYSLOG,
	LOG_SINK_CAPTURE
};

void	log_init(const char *ident, enum log_sink sink, int syslog_facility);
void	log_set_level(enum log_level);
void	log_set_sink(enum log_sink);
/* capture sink: returns everything logged since the last call; caller frees */
char	*log_capture_take(void);

void	log_msg(enum log_level, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
void	log_vmsg(enum log_level, const char *, va_list)
	    __attribute__((format(printf, 2, 0)));
void	log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warn_errno(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_err(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_err_errno(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_fatal(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
void	log_panic(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));

#endif
