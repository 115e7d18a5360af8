/*
 * redis_server.h - a private redis-server for tests
 *
 * DESCRIPTION
 *	redis_server_start() runs redis-server on 127.0.0.1 and a random
 *	free port, with a temporary directory, no persistence and no
 *	daemonizing, and waits until it answers PING.  The test that
 *	starts it stops it (redis_server_stop), which also removes the
 *	directory.  Returns -1 when redis-server is not installed: the
 *	caller skips.  Servers still running when the process that started
 *	them exits are killed (atexit), so a failing test leaves none
 *	behind; they also ask for SIGKILL when that process dies
 *	(PR_SET_PDEATHSIG).
 */
#ifndef MW_TEST_REDIS_SERVER_H
#define MW_TEST_REDIS_SERVER_H

#include <sys/types.h>

struct redis_server {
	pid_t	 pid;
	int	 port;
	char	 dir[128];
};

/* redis_server_path - the redis-server program, or NULL */
const char *redis_server_path(void);
int	 redis_server_start(struct redis_server *);
/* redis_server_restart - same port and directory (after a stop) */
int	 redis_server_restart(struct redis_server *);
/* redis_server_kill - stop the process, keep port and directory */
void	 redis_server_kill(struct redis_server *);
void	 redis_server_stop(struct redis_server *);
/* redis_server_flush - FLUSHALL; 0 on success */
int	 redis_server_flush(const struct redis_server *);

/* silent_listener - a loopback TCP socket that listens, never answers */
int	 silent_listener(int *port);
/* mono_s - CLOCK_MONOTONIC in seconds */
double	 mono_s(void);

#endif
