/*
 * main.c - the mailwarden program: subcommand dispatch and the daemon
 *
 * DESCRIPTION
 *	`mailwarden milter` loads the configuration (refusing to start on
 *	any error), opens the milter socket, drops root, optionally
 *	detaches, and serves libmilter.  A dedicated thread owns the
 *	signals:
 *	    SIGHUP          reload configuration and lists; a bad file is
 *	                    logged with file:line and the old one stays;
 *	    SIGUSR1         reopen the verdict log (logrotate);
 *	    SIGTERM/SIGINT  drain: refuse new connections and transactions
 *	                    with 421 4.3.2, let messages in flight run to
 *	                    their verdict (up to shutdown_timeout; a second
 *	                    signal cuts it short), stop libmilter, exit 0.
 *
 *	libmilter starts its own signal thread that sigwait()s for HUP, TERM
 *	and INT and stops the filter on any of them; two threads waiting for
 *	one signal would race.  This file therefore defines sigwait(): the
 *	library's call lands here and parks its thread, and only our
 *	signal thread (which uses sigwaitinfo) consumes those signals.
 *
 * SECURITY
 *	Root is needed only to open the socket and the pid file; the
 *	process switches to the configured user before serving mail.  The
 *	directories of both may belong to that user, so nothing is done as
 *	root by path there: the pid file is opened without following a
 *	link and written only if it is a regular file of ours, and a unix
 *	socket is created with the user's ids and socket_mode by bind()
 *	itself (see open_socket()).
 */
#include "config.h"

#include <libmilter/mfapi.h>
#include <openssl/crypto.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <malloc.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "cli.h"
#include "conf.h"
#include "daemon_metrics.h"
#include "engine.h"
#include "log.h"
#include "milter.h"
#include "sample_store.h"
#include "str.h"
#include "symbols.h"
#include "vlog.h"

static const char *conf_path = MW_DEFAULT_CONF;
static volatile int stopping;

/*
 * sigwait - libmilter's signal thread parks here (see DESCRIPTION).
 * Any other caller gets the real behaviour through sigwaitinfo().
 */
int
sigwait(const sigset_t *set, int *sig)
{
	static pthread_mutex_t park_lock = PTHREAD_MUTEX_INITIALIZER;
	static pthread_cond_t park = PTHREAD_COND_INITIALIZER;
	int rc;

	if (sigismember(set, SIGHUP) == 1 && sigismember(set, SIGTERM) == 1) {
		pthread_mutex_lock(&park_lock);
		for (;;)
			pthread_cond_wait(&park, &park_lock);
	}
	do
		rc = sigwaitinfo(set, NULL);
	while (rc < 0 && errno == EINTR);
	if (rc < 0)
		return errno;
	*sig = rc;
	return 0;
}

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: mailwarden COMMAND [options]\n"
	    "       mailwarden --version\n\n"
	    "commands:\n"
	    "  milter   run the milter daemon (-c FILE, -f foreground)\n"
	    "  scan     evaluate message files with the milter's pipeline\n"
	    "  config   print the effective configuration, or check it (-n)\n"
	    "  dkim     verify or sign message files, generate DKIM keys\n"
	    "  train    teach the Bayes classifier spam or ham\n"
	    "  bayes    Bayes store: stats, dump, load, prune, tokens\n"
	    "  rules    check, list and test rule files; rule hit statistics\n"
	    "  symbols  list every symbol with its score and where it is set\n"
	    "  dns      look a name up with mailwarden's resolver\n"
	    "  spf      evaluate SPF for an IP, HELO and sender, with a trace\n"
	    "  dmarc    DMARC reports (report), read a record (record)\n"
	    "  log      review verdict logs: summary, search, explain, report,"
	    " whatif\n"
	    "  status   a running daemon at a glance (its metrics endpoint)\n"
	    "  replay   run stored samples again under a configuration\n"
	    "  arc      verify the ARC chain of message files\n"
	    "  ratelimit  rate limits and spam-trap clients: show, clear\n\n"
	    "'mailwarden COMMAND --help' describes each command.\n");
}

/* log_lines - each line of text (a why buffer) as one log line */
static void
log_lines(enum log_level level, const char *prefix, const char *text)
{
	const char *nl;

	for (; *text; text = nl + 1) {
		nl = strchr(text, '\n');
		log_msg(level, "%s%.*s", prefix, nl ? (int)(nl - text) :
		    (int)strlen(text), text);
		if (nl == NULL)
			break;
	}
}

/* warn_scores - log each score for a symbol nothing emits (config -n) */
static void
warn_scores(const struct engine *e)
{
	struct buf w = BUF_INIT;

	if (engine_lint(e, &w) > 0)
		log_lines(LOG_LEVEL_WARN, "", w.data);
	buf_release(&w);
}

/* keep_samples - sample_max_age holds even when no sample is written */
static void
keep_samples(const struct engine *e)
{
	const struct conf *c = e->conf;

	sample_store_keep(c->sample_dir, c->sample_max_size,
	    c->sample_max_count, (double)c->sample_max_age * 3600, 0);
}

/*
 * trim_heap - give back the heap a rules load freed: compiling the
 * Hyperscan databases (rules_hyperscan) peaks at about 25 MB, all freed
 * when it ends, which glibc would otherwise keep as the daemon's
 * resident memory for good
 */
static void
trim_heap(void)
{
#ifdef __GLIBC__
	(void)malloc_trim(0);
#endif
}

/* reload - SIGHUP: build a new engine; keep the old one on any error */
static void
reload(void)
{
	struct engine *e, *old;
	struct buf why = BUF_INIT;
	struct vlog *vl;

	if (engine_load(conf_path, &e, &why) < 0) {
		log_lines(LOG_LEVEL_ERR,
		    "reload failed, keeping the running configuration: ",
		    buf_cstr(&why));
		daemon_metrics_reload(NULL, NULL);
		buf_release(&why);
		return;
	}
	old = engine_current();
	if (strcmp(old->conf->log_file, e->conf->log_file) != 0) {
		if ((vl = vlog_open(e->conf->log_file, &why)) == NULL) {
			log_err("reload failed, keeping the running "
			    "configuration: %s", buf_cstr(&why));
			engine_unref(e);
			engine_unref(old);
			daemon_metrics_reload(NULL, NULL);
			buf_release(&why);
			return;
		}
		/* the old log stays open: threads may still hold it */
		milter_set_vlog(vl);
	}
	log_set_level((enum log_level)conf_log_level(e->conf));
	engine_set_current(e);
	keep_samples(e);
	daemon_metrics_reload(old, e);
	log_info("configuration reloaded from %s", conf_path);
	warn_scores(e);
	engine_unref(e);
	engine_unref(old);	/* in-flight messages may still hold it */
	trim_heap();
	buf_release(&why);
}

/*
 * Stopping promptly.  libmilter's accept loop holds its listener lock
 * while it sits in poll() on the listening socket, and smfi_stop()
 * needs that lock to close the socket: the stop takes effect only
 * when the poll times out (MI_CHK_TIME, five seconds).  While
 * smfi_stop() waits, a helper thread connects to our own socket every
 * few milliseconds; each connection wakes the poll, libmilter accepts
 * it (it closes at once, an empty session), finds the stop flag set
 * and leaves the loop.
 */
#define MAX_LISTENERS	8

struct poker {
	struct sockaddr_storage ss[MAX_LISTENERS];
	socklen_t len[MAX_LISTENERS];
	size_t	 n;
	atomic_bool done;
};

/* find_listeners - the addresses of our listening sockets */
static void
find_listeners(struct poker *p)
{
	struct sockaddr_storage *ss;
	socklen_t len;
	int fd, listening;

	p->n = 0;
	for (fd = 3; fd < 1024 && p->n < MAX_LISTENERS; fd++) {
		len = sizeof(listening);
		if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening,
		    &len) < 0 || !listening)
			continue;
		ss = &p->ss[p->n];
		p->len[p->n] = sizeof(*ss);
		memset(ss, 0, sizeof(*ss));
		if (getsockname(fd, (struct sockaddr *)ss, &p->len[p->n]) < 0)
			continue;
		if (ss->ss_family == AF_INET) {
			struct sockaddr_in *sin = (struct sockaddr_in *)ss;

			if (sin->sin_addr.s_addr == htonl(INADDR_ANY))
				sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		} else if (ss->ss_family == AF_INET6) {
			struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

			if (IN6_IS_ADDR_UNSPECIFIED(&sin6->sin6_addr))
				sin6->sin6_addr = in6addr_loopback;
		}
		p->n++;
	}
}

static void *
poke_listeners(void *arg)
{
	struct poker *p = arg;
	size_t i;
	int s;

	while (!atomic_load(&p->done)) {
		for (i = 0; i < p->n; i++) {
			if ((s = socket(p->ss[i].ss_family, SOCK_STREAM |
			    SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) < 0)
				continue;
			(void)connect(s, (struct sockaddr *)&p->ss[i],
			    p->len[i]);
			close(s);
		}
		nanosleep(&(struct timespec){ 0, 20000000 }, NULL);
	}
	return NULL;
}

/* stop_milter - smfi_stop(), without waiting for libmilter's poll */
static void
stop_milter(void)
{
	static struct poker p;
	pthread_t tid;
	bool poking;

	find_listeners(&p);
	atomic_store(&p.done, false);
	poking = p.n > 0 && pthread_create(&tid, NULL, poke_listeners, &p) == 0;
	smfi_stop();
	atomic_store(&p.done, true);
	if (poking)
		pthread_join(tid, NULL);
}

static double
mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* the quiet period a drain waits for once no message is in flight */
#define DRAIN_QUIET_MS	200

/*
 * signal_thread - HUP, USR1, TERM, INT.  The first TERM or INT drains:
 * new connections and transactions are refused (421 4.3.2), messages
 * in flight run to their verdict; when none is left, or after
 * shutdown_timeout, or at a second TERM/INT, libmilter is stopped.
 */
static void *
signal_thread(void *arg)
{
	sigset_t *set = arg;
	const struct timespec tick = { 0, 50000000 }, second = { 1, 0 };
	struct engine *cur;
	double deadline = 0;
	int sig;

	for (;;) {
		if (stopping) {
			/*
			 * none in flight, and none ended in the last
			 * DRAIN_QUIET_MS: the last verdict's reply is out
			 */
			if (milter_quiet_ms() >= DRAIN_QUIET_MS)
				break;
			if (mono_s() >= deadline) {
				log_warn("shutdown_timeout: stopping with %d "
				    "message(s) in flight (the MTA applies its "
				    "default action to them)", milter_busy());
				break;
			}
			sig = sigtimedwait(set, NULL, &tick);
		} else {
			/* wakes each second for the stats line */
			cur = engine_current();
			daemon_stats_tick((unsigned)cur->conf->stats_interval);
			engine_unref(cur);
			sig = sigtimedwait(set, NULL, &second);
		}
		if (sig < 0)
			continue;
		switch (sig) {
		case SIGHUP:
			reload();
			break;
		case SIGUSR1:
			if (vlog_reopen(milter_get_vlog()) == 0)
				log_info("verdict log reopened");
			break;
		case SIGTERM:
		case SIGINT:
			if (stopping) {
				log_warn("%s again: stopping now with %d "
				    "message(s) in flight",
				    sig == SIGTERM ? "SIGTERM" : "SIGINT",
				    milter_busy());
				goto stop;
			} else {
				cur = engine_current();
				deadline = mono_s() +
				    (double)cur->conf->shutdown_timeout;
				engine_unref(cur);
				milter_drain();
				stopping = 1;
				log_info("%s: stopping: refusing new mail, %d "
				    "message(s) in flight, %d connection(s)",
				    sig == SIGTERM ? "SIGTERM" : "SIGINT",
				    milter_busy(), milter_active());
			}
			break;
		}
	}
stop:
	stop_milter();
	return NULL;
}

/* socket_path - the file of a unix: / local: socket spec, or NULL */
static const char *
socket_path(const char *spec)
{
	if (str_has_iprefix(spec, "unix:") || str_has_iprefix(spec, "local:"))
		return strchr(spec, ':') + 1;
	return NULL;
}

/*
 * prepare_dir - create the directory of path for the service user; the
 * owner is set with lchown(), so a link put in its place between mkdir()
 * and the change (by whoever may write the parent) is not followed
 */
static void
prepare_dir(const char *path, const struct passwd *pw)
{
	char *dir = xstrdup(path), *slash = strrchr(dir, '/');

	if (slash && slash != dir) {
		*slash = '\0';
		if (mkdir(dir, 0755) == 0 && pw)
			(void)lchown(dir, pw->pw_uid, pw->pw_gid);
	}
	free(dir);
}

/*
 * nodelay_listeners - TCP_NODELAY on our listening TCP socket.
 * libmilter writes each reply packet separately (several at end of
 * message) and never disables Nagle's algorithm, so against an MTA that
 * delays its ACKs every message waits about 40 ms.  Accepted sockets
 * inherit the option from the listener, which libmilter does not expose:
 * find it among our descriptors.
 */
static void
nodelay_listeners(void)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, on = 1, listening;

	for (fd = 3; fd < 256; fd++) {
		len = sizeof(listening);
		if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening,
		    &len) < 0 || !listening)
			continue;
		len = sizeof(ss);
		if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0 ||
		    (ss.ss_family != AF_INET && ss.ss_family != AF_INET6))
			continue;
		if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on,
		    sizeof(on)) < 0)
			log_warn_errno("TCP_NODELAY on the milter socket");
	}
}

/*
 * become_user - switch the effective ids to the service user (pw may be
 * NULL: no switch); 0, or -1.  become_root() switches back: the real
 * and saved ids stay root until drop_privileges().
 */
static int
become_user(const struct passwd *pw)
{
	if (pw == NULL)
		return 0;
	if (setegid(pw->pw_gid) < 0)
		return -1;
	if (seteuid(pw->pw_uid) < 0) {
		(void)setegid(0);
		return -1;
	}
	return 0;
}

static void
become_root(const struct passwd *pw)
{
	if (pw != NULL && (seteuid(0) < 0 || setegid(getgid()) < 0))
		abort();	/* cannot happen with a real uid of 0 */
}

/*
 * open_socket - libmilter's listening socket.  A unix socket gets its
 * owner, group and mode from bind() itself, which creates the file:
 * smfi_opensocket() runs with the service user's effective ids and a
 * umask that leaves socket_mode.  The socket is never changed by path
 * afterwards: a chown() or chmod() as root on the path would race with
 * the service user, who owns the directory and could swap a link to any
 * file in between, and root would hand that file over.  libmilter binds
 * and listens within smfi_opensocket() without giving us the descriptor
 * in between, and fchown()/fchmod() on a socket descriptor do not reach
 * the file in the file system on Linux, so creating it right is the only
 * race-free way.  The directory must therefore be writable by the
 * service user (prepare_dir() makes it so when it creates it).
 */
static int
open_socket(const struct conf *c, const struct passwd *pw, struct buf *why)
{
	const char *path = socket_path(c->socket);
	mode_t old_mask = 0;
	int rc, err = 0;

	if (path) {
		prepare_dir(path, pw);
		old_mask = umask(~(mode_t)c->socket_mode & 0777);
		if (become_user(pw) < 0) {
			buf_printf(why, "cannot switch to user %s to create "
			    "%s: %s", pw->pw_name, path, strerror(errno));
			umask(old_mask);
			return -1;
		}
	}
	rc = smfi_setconn((char *)c->socket) == MI_SUCCESS &&
	    smfi_opensocket(true) == MI_SUCCESS ? 0 : -1;
	if (rc < 0)
		err = errno;
	if (path) {
		become_root(pw);
		umask(old_mask);
	}
	if (rc < 0) {
		buf_printf(why, "cannot open milter socket %s", c->socket);
		if (path && pw && err == EACCES)
			buf_printf(why, ": its directory must be writable by "
			    "user %s", pw->pw_name);
		return -1;
	}
	nodelay_listeners();
	return 0;
}

static int
drop_privileges(const struct passwd *pw, struct buf *why)
{
	if (pw == NULL)
		return 0;
	if (initgroups(pw->pw_name, pw->pw_gid) < 0 ||
	    setgid(pw->pw_gid) < 0 || setuid(pw->pw_uid) < 0) {
		buf_printf(why, "cannot switch to user %s: %s", pw->pw_name,
		    strerror(errno));
		return -1;
	}
	if (setuid(0) == 0) {
		buf_adds(why, "privileges could be regained after dropping");
		return -1;
	}
	return 0;
}

/* detach - fork; the parent waits for the child's start-up status */
static int
detach(int *status_fd)
{
	int p[2];
	pid_t pid;
	char st = 1;

	if (pipe(p) < 0)
		return -1;
	if ((pid = fork()) < 0)
		return -1;
	if (pid > 0) {
		close(p[1]);
		if (read(p[0], &st, 1) != 1)
			st = 1;
		_exit(st);
	}
	close(p[0]);
	*status_fd = p[1];
	if (setsid() < 0)
		return -1;
	if (chdir("/") < 0)
		return -1;
	return 0;
}

static void
report_started(int fd, char status)
{
	int devnull;

	if (fd < 0)
		return;
	(void)write(fd, &status, 1);
	close(fd);
	if ((devnull = open("/dev/null", O_RDWR)) >= 0) {
		dup2(devnull, STDIN_FILENO);
		dup2(devnull, STDOUT_FILENO);
		dup2(devnull, STDERR_FILENO);
		if (devnull > 2)
			close(devnull);
	}
}

/*
 * write_pid_file - our pid into path.  This runs as root in a directory
 * that may belong to the service user, who could have put anything at
 * path: the file is never opened through a symbolic link (O_NOFOLLOW),
 * a FIFO cannot block the start (O_NONBLOCK), and only a regular file
 * with one link, owned by root or the service user, is truncated and
 * written (a hard link to another file would have root overwrite it).
 * 0 and *written set, or -1 with why; nothing is changed on refusal.
 */
static int
write_pid_file(const char *path, const struct passwd *pw, bool *written,
    struct buf *why)
{
	struct stat st;
	char line[32];
	int fd, n, rc = -1;

	*written = false;
	if (*path == '\0')
		return 0;
	prepare_dir(path, pw);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC, 0644)) < 0) {
		buf_printf(why, "pid file %s: %s", path, errno == ELOOP ?
		    "is a symbolic link, not followed" : strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0)
		buf_printf(why, "pid file %s: %s", path, strerror(errno));
	else if (!S_ISREG(st.st_mode) || st.st_nlink != 1 ||
	    (st.st_uid != 0 && (pw == NULL || st.st_uid != pw->pw_uid)))
		buf_printf(why, "pid file %s: not a regular file of ours "
		    "with one link; left alone", path);
	else if ((n = snprintf(line, sizeof(line), "%ld\n",
	    (long)getpid())) > 0 && ftruncate(fd, 0) == 0 &&
	    write(fd, line, (size_t)n) == n)
		rc = 0;
	else
		buf_printf(why, "pid file %s: %s", path, strerror(errno));
	if (close(fd) < 0 && rc == 0) {
		buf_printf(why, "pid file %s: %s", path, strerror(errno));
		rc = -1;
	}
	*written = rc == 0;
	return rc;
}

static void
milter_usage(FILE *f)
{
	fprintf(f, "usage: mailwarden milter [-c FILE] [-f]\n"
	    "  -c FILE  configuration file (default %s; it must exist:\n"
	    "           -c %s runs on the built-in defaults)\n"
	    "  -f       stay in the foreground and log to stderr\n",
	    MW_DEFAULT_CONF, MW_NO_CONF);
}

/*
 * limit_malloc_arenas - glibc gives a threaded process up to 8 malloc
 * arenas per CPU, and each keeps the memory freed into it.  libmilter
 * runs one thread per connection and every message touches tens of KB
 * (body, decoded text, tokens), so at 16 connections on 2 CPUs the
 * daemon's PSS was 31 MB with 16 arenas and 19 MB with 2, at the same
 * CPU per message (contrib/bench/run_bench.py).  One arena per CPU (at
 * least 2), unless MALLOC_ARENA_MAX says otherwise.
 */
static void
limit_malloc_arenas(void)
{
#ifdef M_ARENA_MAX
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	if (getenv("MALLOC_ARENA_MAX") == NULL)
		(void)mallopt(M_ARENA_MAX, n > 2 ? (int)n : 2);
#endif
}

/*
 * large_bodies - a message of a megabyte has buffers of one to two
 * (its body, up to max_scan_bytes, then the decoded text).  With
 * glibc's adaptive thresholds such buffers kept being given back at
 * the end of a message (unmapped, or trimmed off an arena's top) and
 * faulted in page by page for the next: 6% of the CPU of an
 * authentication-only daemon on 1 MB messages, and the body copy's
 * realloc 12% more.  Buffers under MMAP_BELOW come from the arenas,
 * and an arena keeps up to KEEP_TOP free at its top; the environment
 * variables MALLOC_MMAP_THRESHOLD_ and MALLOC_TRIM_THRESHOLD_ still
 * decide when set.  Mail of usual sizes is not affected (its buffers
 * are far below both).
 */
#define MMAP_BELOW	(4 * 1024 * 1024)
#define KEEP_TOP	(8 * 1024 * 1024)

static void
large_bodies(void)
{
#if defined(M_MMAP_THRESHOLD) && defined(M_TRIM_THRESHOLD)
	if (getenv("MALLOC_MMAP_THRESHOLD_") == NULL)
		(void)mallopt(M_MMAP_THRESHOLD, MMAP_BELOW);
	if (getenv("MALLOC_TRIM_THRESHOLD_") == NULL)
		(void)mallopt(M_TRIM_THRESHOLD, KEEP_TOP);
#endif
}

static int
run_milter(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	static sigset_t sigs;
	struct engine *eng;
	struct passwd *pw = NULL;
	struct buf why = BUF_INIT;
	struct vlog *vl;
	pthread_t tid;
	int ch, foreground = 0, status_fd = -1, rc;
	bool pid_written = false;

	/*
	 * No OPENSSL_cleanup() at exit: it deletes OpenSSL's thread-local
	 * keys while libmilter's idle worker threads still hold their
	 * per-thread state (the random generators a signature draws on),
	 * which is then neither freed nor reachable; LeakSanitizer reports
	 * it whenever such a thread outlives the stop.  The kernel frees
	 * a process's memory anyway.  Must be the first OpenSSL call.
	 */
	(void)OPENSSL_init_crypto(OPENSSL_INIT_NO_ATEXIT, NULL);
	optind = 1;
	while ((ch = getopt_long(argc, argv, "c:fh", opts, NULL)) != -1) {
		switch (ch) {
		case 'c': conf_path = optarg; break;
		case 'f': foreground = 1; break;
		case 'h': milter_usage(stdout); return 0;
		default: milter_usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		milter_usage(stderr);
		return 2;
	}
	log_init("mailwarden", LOG_SINK_STDERR, LOG_MAIL);
	limit_malloc_arenas();
	large_bodies();
	if (access(conf_path, F_OK) < 0 && errno == ENOENT) {
		/* never serve on built-in defaults by accident */
		log_err("%s: no configuration file; install one (the reference "
		    "configuration is %s/mailwarden.conf.example) or start "
		    "with -c %s to run on the built-in defaults", conf_path,
		    MW_PKGDATADIR, MW_NO_CONF);
		return 1;
	}
	engine_set_daemon(true);
	if (engine_load(conf_path, &eng, &why) < 0) {
		log_lines(LOG_LEVEL_ERR, "", buf_cstr(&why));
		return 1;
	}
	trim_heap();
	log_set_level((enum log_level)conf_log_level(eng->conf));
	warn_scores(eng);
	if (eng->conf->user[0] && geteuid() == 0 &&
	    (pw = getpwnam(eng->conf->user)) == NULL) {
		log_err("%s: user '%s' does not exist", conf_path,
		    eng->conf->user);
		return 1;
	}
	if (!foreground && detach(&status_fd) < 0) {
		log_err_errno("cannot detach");
		return 1;
	}
	if (!foreground) {
		log_init("mailwarden", LOG_SINK_SYSLOG,
		    conf_syslog_facility(eng->conf));
		if (write_pid_file(eng->conf->pid_file, pw, &pid_written,
		    &why) < 0) {
			log_err("%s", buf_cstr(&why));
			buf_reset(&why);
		}
	}
	/*
	 * started as root: the verdict log's directory and the DMARC report
	 * store, which the daemon writes as user, are made the user's
	 */
	if (eng->conf->log_file[0])
		prepare_dir(eng->conf->log_file, pw);
	if (eng->conf->dmarc_report_dir[0] && pw &&
	    mkdir(eng->conf->dmarc_report_dir, 0750) == 0)
		(void)lchown(eng->conf->dmarc_report_dir, pw->pw_uid,
		    pw->pw_gid);
	if (milter_register() < 0 || open_socket(eng->conf, pw, &why) < 0 ||
	    drop_privileges(pw, &why) < 0) {
		log_err("%s", why.len ? buf_cstr(&why) : "smfi_register failed");
		return 1;
	}
	if ((vl = vlog_open(eng->conf->log_file, &why)) == NULL) {
		log_err("%s", buf_cstr(&why));
		return 1;
	}
	milter_set_vlog(vl);
	smfi_settimeout((int)eng->conf->milter_timeout);
	engine_set_current(eng);

	sigemptyset(&sigs);
	sigaddset(&sigs, SIGHUP);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* after the mask: its thread must not take HUP or TERM */
	if (daemon_metrics_start(eng->conf, &why) < 0) {
		log_err("%s", buf_cstr(&why));
		return 1;
	}
	if (pthread_create(&tid, NULL, signal_thread, &sigs) != 0) {
		log_err("cannot start the signal thread");
		return 1;
	}
	pthread_detach(tid);
	keep_samples(eng);	/* after the mask, as the signal thread */
	log_info("mailwarden %s listening on %s (configuration %s)",
	    PACKAGE_VERSION, eng->conf->socket, conf_path);
	report_started(status_fd, 0);

	rc = smfi_main();
	if (!stopping)
		log_err("smfi_main returned unexpectedly (%d)", rc);
	daemon_metrics_stop();
	log_info("stopped");
	if (pid_written)
		(void)unlink(eng->conf->pid_file);
	engine_unref(eng);
	buf_release(&why);
	return stopping ? 0 : 1;
}

int
main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
		printf("mailwarden %s\n", PACKAGE_VERSION);
		return 0;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "milter") == 0)
		return run_milter(argc - 1, argv + 1);
	if (strcmp(argv[1], "scan") == 0)
		return cli_scan(argc - 1, argv + 1);
	if (strcmp(argv[1], "config") == 0)
		return cli_config(argc - 1, argv + 1);
	if (strcmp(argv[1], "dkim") == 0)
		return cli_dkim(argc - 1, argv + 1);
	if (strcmp(argv[1], "train") == 0)
		return cli_train(argc - 1, argv + 1);
	if (strcmp(argv[1], "bayes") == 0)
		return cli_bayes(argc - 1, argv + 1);
	if (strcmp(argv[1], "rules") == 0)
		return cli_rules(argc - 1, argv + 1);
	if (strcmp(argv[1], "symbols") == 0)
		return cli_symbols(argc - 1, argv + 1);
	if (strcmp(argv[1], "dns") == 0)
		return cli_dns(argc - 1, argv + 1);
	if (strcmp(argv[1], "spf") == 0)
		return cli_spf(argc - 1, argv + 1);
	if (strcmp(argv[1], "dmarc") == 0)
		return cli_dmarc(argc - 1, argv + 1);
	if (strcmp(argv[1], "log") == 0)
		return cli_log(argc - 1, argv + 1);
	if (strcmp(argv[1], "status") == 0)
		return cli_status(argc - 1, argv + 1);
	if (strcmp(argv[1], "replay") == 0)
		return cli_replay(argc - 1, argv + 1);
	if (strcmp(argv[1], "arc") == 0)
		return cli_arc(argc - 1, argv + 1);
	if (strcmp(argv[1], "ratelimit") == 0)
		return cli_ratelimit(argc - 1, argv + 1);
	fprintf(stderr, "mailwarden: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
