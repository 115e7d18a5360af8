/*
 * submit.c - hand one message to the local sendmail(1) program
 *
 * DESCRIPTION
 *	See submit.h.  fork() and execvp() with the pipe on the child's
 *	standard input; the parent writes, closes and reaps the child.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "buf.h"
#include "smtpaddr.h"
#include "submit.h"

/* write_all - len bytes to fd; 0, or -1 with errno */
static int
write_all(int fd, const char *p, size_t len)
{
	ssize_t n;

	while (len > 0) {
		if ((n = write(fd, p, len)) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* spawn - PROG -oi -f sender -- rcpt reading from a new pipe; pid or -1 */
static pid_t
spawn(const char *prog, const char *sender, const char *rcpt, int *wfd)
{
	char *const argv[] = { (char *)prog, (char *)"-oi", (char *)"-f",
	    (char *)sender, (char *)"--", (char *)rcpt, NULL };
	int p[2];
	pid_t pid;

	if (pipe(p) < 0)
		return -1;
	if ((pid = fork()) < 0) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid == 0) {
		close(p[1]);
		if (dup2(p[0], STDIN_FILENO) < 0)
			_exit(127);
		if (p[0] != STDIN_FILENO)
			close(p[0]);
		execvp(prog, argv);
		_exit(127);
	}
	close(p[0]);
	*wfd = p[1];
	return pid;
}

int
submit_mail(const char *prog, const char *sender, const char *rcpt,
    const char *msg, size_t len, struct buf *why)
{
	struct sigaction ign, old;
	int fd, status, werr = 0;
	pid_t pid, r;

	if (!smtpaddr_canonical(sender, 0) || !smtpaddr_canonical(rcpt, 0)) {
		buf_adds(why, "refusing to mail: not a checked address");
		return -1;
	}
	memset(&ign, 0, sizeof(ign));
	ign.sa_handler = SIG_IGN;
	sigemptyset(&ign.sa_mask);
	sigaction(SIGPIPE, &ign, &old);
	if ((pid = spawn(prog, sender, rcpt, &fd)) < 0) {
		buf_printf(why, "cannot run %s: %s", prog, strerror(errno));
		sigaction(SIGPIPE, &old, NULL);
		return -1;
	}
	if (write_all(fd, msg, len) < 0)
		werr = errno;
	close(fd);
	while ((r = waitpid(pid, &status, 0)) < 0 && errno == EINTR)
		;
	sigaction(SIGPIPE, &old, NULL);
	if (r < 0)
		buf_printf(why, "waiting for %s: %s", prog, strerror(errno));
	else if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
		buf_printf(why, "cannot run %s", prog);
	else if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
		buf_printf(why, "%s exited with status %d", prog,
		    WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		buf_printf(why, "%s killed by signal %d", prog,
		    WTERMSIG(status));
	else if (werr)
		buf_printf(why, "writing to %s: %s", prog, strerror(werr));
	else
		return 0;
	return -1;
}
