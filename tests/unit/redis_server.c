/*
 * redis_server.c - a private redis-server for tests (see the header)
 */
#include "config.h"

#include <hiredis/hiredis.h>

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <fcntl.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "redis_server.h"

/*
 * Servers started by this process: killed at exit, so that a test
 * that fails (Check's forked test exits through exit()) leaves none
 * running.
 */
#define MAX_OWNED	8

static struct {
	pid_t	 owner;
	pid_t	 server;
} owned[MAX_OWNED];
static bool atexit_set;

static void
kill_owned(void)
{
	size_t i;
	int status;

	for (i = 0; i < MAX_OWNED; i++)
		if (owned[i].server > 0 && owned[i].owner == getpid()) {
			kill(owned[i].server, SIGKILL);
			(void)waitpid(owned[i].server, &status, 0);
			owned[i].server = 0;
		}
}

static void
own(pid_t server)
{
	size_t i;

	if (!atexit_set) {
		atexit(kill_owned);
		atexit_set = true;
	}
	for (i = 0; i < MAX_OWNED; i++)
		if (owned[i].server <= 0 || owned[i].owner != getpid()) {
			owned[i].owner = getpid();
			owned[i].server = server;
			return;
		}
}

static void
disown(pid_t server)
{
	size_t i;

	for (i = 0; i < MAX_OWNED; i++)
		if (owned[i].server == server && owned[i].owner == getpid())
			owned[i].server = 0;
}

const char *
redis_server_path(void)
{
	static const char *const paths[] = { "/usr/bin/redis-server",
	    "/usr/local/bin/redis-server", "/usr/sbin/redis-server", NULL };
	size_t i;

	for (i = 0; paths[i]; i++)
		if (access(paths[i], X_OK) == 0)
			return paths[i];
	return NULL;
}

static int
ping(int port)
{
	struct timeval tv = { 0, 200000 };
	redisContext *c = redisConnectWithTimeout("127.0.0.1", port, tv);
	redisReply *r;
	int ok = 0;

	if (c && !c->err) {
		redisSetTimeout(c, tv);
		r = redisCommand(c, "PING");
		ok = r && r->type == REDIS_REPLY_STATUS &&
		    strcmp(r->str, "PONG") == 0;
		freeReplyObject(r);
	}
	if (c)
		redisFree(c);
	return ok;
}

/* spawn - start on s->port; 0 when it answers, -1 if it died */
static int
spawn(struct redis_server *s)
{
	const char *prog = redis_server_path();
	char port[16], log[200];
	int i, status, fd;
	pid_t pid;

	snprintf(port, sizeof(port), "%d", s->port);
	snprintf(log, sizeof(log), "%s/redis.log", s->dir);
	if ((pid = fork()) < 0)
		return -1;
	if (pid == 0) {
		/* ask to die with the test process (where the kernel does) */
		(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
		if ((fd = open("/dev/null", O_RDWR)) >= 0) {
			dup2(fd, 0);
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execl(prog, prog, "--port", port, "--bind", "127.0.0.1",
		    "--dir", s->dir, "--save", "", "--appendonly", "no",
		    "--daemonize", "no", "--logfile", log, "--databases", "16",
		    (char *)NULL);
		_exit(127);
	}
	s->pid = pid;
	own(pid);
	for (i = 0; i < 100; i++) {		/* up to 10 s */
		if (waitpid(pid, &status, WNOHANG) == pid) {
			s->pid = 0;
			return -1;	/* port taken, most likely */
		}
		if (ping(s->port))
			return 0;
		nanosleep(&(struct timespec){ 0, 100000000 }, NULL);
	}
	redis_server_kill(s);
	return -1;
}

int
redis_server_start(struct redis_server *s)
{
	int tries;

	memset(s, 0, sizeof(*s));
	if (redis_server_path() == NULL)
		return -1;
	snprintf(s->dir, sizeof(s->dir), "/tmp/mw-redis.XXXXXX");
	if (mkdtemp(s->dir) == NULL)
		return -1;
	srand((unsigned)(getpid() ^ time(NULL)));
	for (tries = 0; tries < 10; tries++) {
		s->port = 20000 + rand() % 40000;
		if (spawn(s) == 0)
			return 0;
	}
	return -1;
}

int
redis_server_restart(struct redis_server *s)
{
	return spawn(s);
}

void
redis_server_kill(struct redis_server *s)
{
	int status;

	if (s->pid <= 0)
		return;
	disown(s->pid);
	kill(s->pid, SIGKILL);
	while (waitpid(s->pid, &status, 0) < 0 && errno == EINTR)
		;
	s->pid = 0;
}

void
redis_server_stop(struct redis_server *s)
{
	char cmd[200];

	redis_server_kill(s);
	if (s->dir[0]) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", s->dir);
		if (system(cmd) != 0)
			fprintf(stderr, "cannot remove %s\n", s->dir);
		s->dir[0] = '\0';
	}
}

int
redis_server_flush(const struct redis_server *s)
{
	struct timeval tv = { 2, 0 };
	redisContext *c = redisConnectWithTimeout("127.0.0.1", s->port, tv);
	redisReply *r = NULL;
	int ok = 0;

	if (c && !c->err) {
		r = redisCommand(c, "FLUSHALL");
		ok = r && r->type == REDIS_REPLY_STATUS;
	}
	freeReplyObject(r);
	if (c)
		redisFree(c);
	return ok ? 0 : -1;
}

double
mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
silent_listener(int *port)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(fd, 16), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	*port = ntohs(sa.sin_port);
	return fd;
}
