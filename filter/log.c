/*
 * log.c - diagnostic sinks (stderr, syslog, test capture)
 *
 * DESCRIPTION
 *	Thread-safe: one mutex serialises writes so that lines from milter
 *	threads never interleave.  The capture sink keeps everything in
 *	memory for tests (log_capture_take()).
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "buf.h"
#include "log.h"

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static enum log_sink log_sink = LOG_SINK_STDERR;
static enum log_level log_min = LOG_LEVEL_INFO;
static const char *log_ident = "mailwarden";
static struct buf log_captured = BUF_INIT;

static const char *const level_names[] = {
	"debug", "info", "warning", "error", "fatal", "panic"
};

static const int level_prio[] = {
	LOG_DEBUG, LOG_INFO, LOG_WARNING, LOG_ERR, LOG_CRIT, LOG_CRIT
};

void
log_init(const char *ident, enum log_sink sink, int facility)
{
	log_ident = ident;
	log_sink = sink;
	if (sink == LOG_SINK_SYSLOG)
		openlog(ident, LOG_PID | LOG_NDELAY, facility);
}

void
log_set_level(enum log_level level)
{
	log_min = level;
}

void
log_set_sink(enum log_sink sink)
{
	log_sink = sink;
}

char *
log_capture_take(void)
{
	char *s;

	pthread_mutex_lock(&log_lock);
	s = buf_steal(&log_captured);
	pthread_mutex_unlock(&log_lock);
	return s;
}

/* emit - write one finished line to the sink */
static void
emit(enum log_level level, const char *line)
{
	pthread_mutex_lock(&log_lock);
	switch (log_sink) {
	case LOG_SINK_SYSLOG:
		syslog(level_prio[level], "%s: %s", level_names[level], line);
		break;
	case LOG_SINK_CAPTURE:
		buf_printf(&log_captured, "%s: %s\n", level_names[level], line);
		break;
	case LOG_SINK_STDERR:
	default:
		fprintf(stderr, "%s: %s: %s\n", log_ident, level_names[level],
		    line);
		break;
	}
	pthread_mutex_unlock(&log_lock);
}

void
log_vmsg(enum log_level level, const char *fmt, va_list ap)
{
	char line[2048];

	if (level < log_min)
		return;
	vsnprintf(line, sizeof(line), fmt, ap);
	emit(level, line);
}

void
log_msg(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(level, fmt, ap);
	va_end(ap);
}

#define LOG_WRAPPER(fn, level)				\
void							\
fn(const char *fmt, ...)				\
{							\
	va_list ap;					\
	va_start(ap, fmt);				\
	log_vmsg(level, fmt, ap);			\
	va_end(ap);					\
}

LOG_WRAPPER(log_debug, LOG_LEVEL_DEBUG)
LOG_WRAPPER(log_info, LOG_LEVEL_INFO)
LOG_WRAPPER(log_warn, LOG_LEVEL_WARN)
LOG_WRAPPER(log_err, LOG_LEVEL_ERR)

/* vmsg_errno - log with ": strerror(errno)" appended */
static void
vmsg_errno(enum log_level level, int saved, const char *fmt, va_list ap)
{
	char line[2048];
	int n;

	if (level < log_min)
		return;
	n = vsnprintf(line, sizeof(line), fmt, ap);
	if (n >= 0 && (size_t)n < sizeof(line))
		snprintf(line + n, sizeof(line) - (size_t)n, ": %s",
		    strerror(saved));
	emit(level, line);
}

void
log_warn_errno(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	vmsg_errno(LOG_LEVEL_WARN, saved, fmt, ap);
	va_end(ap);
}

void
log_err_errno(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	vmsg_errno(LOG_LEVEL_ERR, saved, fmt, ap);
	va_end(ap);
}

void
log_fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_LEVEL_FATAL, fmt, ap);
	va_end(ap);
	exit(1);
}

void
log_panic(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_LEVEL_PANIC, fmt, ap);
	va_end(ap);
	abort();
}
