/*
 * metrics_http.c - a minimal HTTP/1.x responder for GET /metrics
 *
 * DESCRIPTION
 *	One thread, one poll() loop over a wake-up pipe, the listening
 *	socket and at most HTTP_MAX_CONNS clients.  Each client sends one
 *	request head (at most HTTP_MAX_REQUEST bytes), gets one answer
 *	with Connection: close, and is closed.  Rendering reads the
 *	registry's atomics; the collect callback may take short locks
 *	(engine, DNS cache) that milter threads also take briefly, but no
 *	milter thread ever waits for a client.
 *
 * SECURITY
 *	The request is untrusted: it is parsed within its length, the path
 *	is only compared (never used to open anything), every client has a
 *	deadline, and the number of clients is capped.  Bind to loopback
 *	or a unix socket: the endpoint has no authentication.
 *
 * STANDARDS
 *	RFC 9112 (request line), Prometheus text exposition format 0.0.4.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "clock.h"
#include "log.h"
#include "metrics.h"
#include "metrics_http.h"
#include "str.h"

/* ---- parsing (pure) ---- */

/* is_tchar - RFC 9110 token character */
static bool
is_tchar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || (c != 0 && strchr("!#$%&'*+-.^_`|~",
	    c) != NULL);
}

/* parse_request_line - p[0..n) without the line end; 0 or -1 */
static int
parse_request_line(const char *p, size_t n, struct http_request *r)
{
	size_t i = 0, m, t0, tn;
	const char *q;

	while (i < n && is_tchar((unsigned char)p[i]))
		i++;
	if (i == 0 || i >= n || p[i] != ' ')
		return -1;
	m = i;
	r->method = m == 3 && memcmp(p, "GET", 3) == 0 ? HTTP_GET :
	    m == 4 && memcmp(p, "HEAD", 4) == 0 ? HTTP_HEAD : HTTP_OTHER;
	t0 = ++i;
	while (i < n && (unsigned char)p[i] > ' ' && p[i] != 0x7f)
		i++;
	tn = i - t0;
	if (tn == 0 || i >= n || p[i] != ' ' || p[t0] != '/')
		return -1;
	if (n - i - 1 != 8 || memcmp(p + i + 1, "HTTP/1.", 7) != 0 ||
	    (p[i + 8] != '0' && p[i + 8] != '1'))
		return -1;
	q = memchr(p + t0, '?', tn);
	m = q ? (size_t)(q - (p + t0)) : tn;
	r->path[0] = '\0';
	if (m < sizeof(r->path)) {
		memcpy(r->path, p + t0, m);
		r->path[m] = '\0';
	}
	return 0;
}

enum http_parse
http_request_parse(const char *p, size_t n, struct http_request *r)
{
	const char *nl, *line = p, *end = p + n;
	size_t len;
	bool first = true;

	memset(r, 0, sizeof(*r));
	while ((nl = memchr(line, '\n', (size_t)(end - line))) != NULL) {
		len = (size_t)(nl - line);
		if (len > 0 && line[len - 1] == '\r')
			len--;
		if (first) {
			if (parse_request_line(line, len, r) < 0)
				return HTTP_BAD;
			first = false;
		} else if (len == 0) {
			r->head_len = (size_t)(nl + 1 - p);
			return HTTP_COMPLETE;
		}
		line = nl + 1;
	}
	/* no line end yet: garbage is refused before the cap is reached */
	if (first) {
		size_t i = 0;

		while (i < n && is_tchar((unsigned char)p[i]))
			i++;
		if (i < n && p[i] != ' ')
			return HTTP_BAD;
	}
	return HTTP_INCOMPLETE;
}

int
http_route(const struct http_request *r)
{
	if (strcmp(r->path, "/metrics") != 0)
		return 404;
	return r->method == HTTP_OTHER ? 405 : 200;
}

static const char *
status_text(int status)
{
	switch (status) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 431: return "Request Header Fields Too Large";
	default: return "Service Unavailable";
	}
}

void
http_response(int status, const char *ctype, const char *body, size_t len,
    int head_only, struct buf *out)
{
	buf_printf(out, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\n"
	    "Content-Length: %zu\r\nConnection: close\r\n", status,
	    status_text(status), ctype, len);
	if (status == 405)
		buf_adds(out, "Allow: GET, HEAD\r\n");
	buf_adds(out, "\r\n");
	if (!head_only)
		buf_add(out, body, len);
}

/* ---- sockets ---- */

/*
 * parse_spec - inet:PORT[@ADDR] (default 127.0.0.1), inet6:PORT[@ADDR]
 * (default ::1), unix:PATH; 0 or -1 with why
 */
static int
parse_spec(const char *spec, struct sockaddr_storage *ss, socklen_t *len,
    struct buf *why)
{
	struct addrinfo hints, *res;
	char port[16], host[256];
	const char *v, *at;
	bool v6 = str_has_iprefix(spec, "inet6:");
	size_t n;
	int rc;

	memset(ss, 0, sizeof(*ss));
	if (str_has_iprefix(spec, "unix:") || str_has_iprefix(spec, "local:")) {
		struct sockaddr_un *sun = (struct sockaddr_un *)ss;

		v = strchr(spec, ':') + 1;
		if (*v != '/' || strlen(v) >= sizeof(sun->sun_path)) {
			buf_printf(why, "%s: the path must be absolute and "
			    "shorter than %zu bytes", spec,
			    sizeof(sun->sun_path));
			return -1;
		}
		sun->sun_family = AF_UNIX;
		memcpy(sun->sun_path, v, strlen(v) + 1);
		*len = sizeof(*sun);
		return 0;
	}
	if (!v6 && !str_has_iprefix(spec, "inet:")) {
		buf_printf(why, "%s: expected inet:PORT@ADDR, inet6:PORT@ADDR "
		    "or unix:PATH", spec);
		return -1;
	}
	v = strchr(spec, ':') + 1;
	at = strchr(v, '@');
	n = at ? (size_t)(at - v) : strlen(v);
	if (n == 0 || n >= sizeof(port) || strlen(at ? at + 1 : "") >=
	    sizeof(host)) {
		buf_printf(why, "%s: bad port or address", spec);
		return -1;
	}
	memcpy(port, v, n);
	port[n] = '\0';
	snprintf(host, sizeof(host), "%s", at && at[1] ? at + 1 :
	    v6 ? "::1" : "127.0.0.1");
	if (v6 && host[0] == '[' && (n = strlen(host)) > 2 &&
	    host[n - 1] == ']') {
		memmove(host, host + 1, n - 2);
		host[n - 2] = '\0';
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = v6 ? AF_INET6 : AF_INET;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	if ((rc = getaddrinfo(host, port, &hints, &res)) != 0) {
		buf_printf(why, "%s: %s", spec, gai_strerror(rc));
		return -1;
	}
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*len = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

int
metrics_connect(const char *spec, struct buf *why)
{
	struct sockaddr_storage ss;
	struct timeval tv = { 10, 0 };
	socklen_t len;
	int fd;

	if (parse_spec(spec, &ss, &len, why) < 0)
		return -1;
	if ((fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0 ||
	    connect(fd, (struct sockaddr *)&ss, len) < 0) {
		buf_printf(why, "cannot connect to %s: %s", spec,
		    strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/*
 * remove_stale - a unix socket file left by an earlier run (nothing
 * answers on it) is removed; anything else at the path is an error
 */
static int
remove_stale(const struct sockaddr_un *sun, struct buf *why)
{
	struct stat st;
	int fd;

	if (lstat(sun->sun_path, &st) < 0)
		return 0;
	if (!S_ISSOCK(st.st_mode)) {
		buf_printf(why, "%s exists and is not a socket; left alone",
		    sun->sun_path);
		return -1;
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) >= 0 &&
	    connect(fd, (const struct sockaddr *)sun, sizeof(*sun)) == 0) {
		close(fd);
		buf_printf(why, "%s: another process listens on it",
		    sun->sun_path);
		return -1;
	}
	if (fd >= 0)
		close(fd);
	return unlink(sun->sun_path) < 0 && errno != ENOENT ? -1 : 0;
}

static int
open_listener(const char *spec, char **unix_path, struct buf *why)
{
	struct sockaddr_storage ss;
	socklen_t len;
	mode_t old_mask = 0;
	int fd, on = 1, rc;

	if (parse_spec(spec, &ss, &len, why) < 0)
		return -1;
	if (ss.ss_family == AF_UNIX &&
	    remove_stale((struct sockaddr_un *)&ss, why) < 0)
		return -1;
	if ((fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC |
	    SOCK_NONBLOCK, 0)) < 0) {
		buf_printf(why, "metrics_listen %s: %s", spec, strerror(errno));
		return -1;
	}
	if (ss.ss_family != AF_UNIX)
		(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	else
		old_mask = umask(0117);	/* the socket file: 0660 */
	rc = bind(fd, (struct sockaddr *)&ss, len);
	if (ss.ss_family == AF_UNIX)
		umask(old_mask);
	if (rc < 0 || listen(fd, HTTP_MAX_CONNS) < 0) {
		buf_printf(why, "metrics_listen %s: %s", spec, strerror(errno));
		close(fd);
		return -1;
	}
	if (ss.ss_family == AF_UNIX)
		*unix_path = xstrdup(((struct sockaddr_un *)&ss)->sun_path);
	return fd;
}

/* ---- the responder ---- */

struct client {
	int	 fd;
	double	 deadline;		/* monotonic ms */
	unsigned long long seq;		/* order of accept */
	char	 in[HTTP_MAX_REQUEST];
	size_t	 inlen;
	struct buf out;
	size_t	 outoff;
	bool	 writing;
};

struct metrics_server {
	pthread_t tid;
	int	 lfd;
	int	 wake[2];
	char	*unix_path;
	struct metrics *m;
	metrics_collect_fn *collect;
	void	*arg;
	struct client cl[HTTP_MAX_CONNS];
	size_t	 ncl;
	unsigned long long accepted;	/* connections since start */
};

static void
client_close(struct metrics_server *s, size_t i)
{
	close(s->cl[i].fd);
	buf_release(&s->cl[i].out);
	s->cl[i] = s->cl[--s->ncl];
	memset(&s->cl[s->ncl], 0, sizeof(s->cl[s->ncl]));
}

/* answer - the response to the request in c->in */
static void
answer(struct metrics_server *s, struct client *c, enum http_parse pr,
    const struct http_request *r)
{
	static const char *const text = "text/plain; charset=utf-8";
	struct metrics_live live;
	struct buf body = BUF_INIT;
	int status;

	if (pr == HTTP_BAD)
		status = 400;
	else if (pr == HTTP_INCOMPLETE)
		status = 431;
	else
		status = http_route(r);
	if (status == 200) {
		memset(&live, 0, sizeof(live));
		live.threads = -1;
		s->collect(&live, s->arg);
		metrics_render(s->m, &live, &body);
		http_response(200, "text/plain; version=0.0.4; charset=utf-8",
		    body.data, body.len, r->method == HTTP_HEAD, &c->out);
	} else {
		buf_printf(&body, "%d %s\n", status, status_text(status));
		http_response(status, text, body.data, body.len,
		    pr == HTTP_COMPLETE && r->method == HTTP_HEAD, &c->out);
	}
	buf_release(&body);
	c->writing = true;
	shutdown(c->fd, SHUT_RD);
}

/* client_io - read or write what is ready; false when c is finished */
static bool
client_io(struct metrics_server *s, struct client *c)
{
	struct http_request r;
	enum http_parse pr;
	ssize_t n;

	if (!c->writing) {
		n = read(c->fd, c->in + c->inlen, sizeof(c->in) - c->inlen);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return true;
		if (n <= 0)
			return false;
		c->inlen += (size_t)n;
		pr = http_request_parse(c->in, c->inlen, &r);
		if (pr == HTTP_INCOMPLETE && c->inlen < sizeof(c->in))
			return true;
		answer(s, c, pr, &r);
	}
	n = send(c->fd, c->out.data + c->outoff, c->out.len - c->outoff,
	    MSG_NOSIGNAL);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return true;
	if (n < 0)
		return false;
	c->outoff += (size_t)n;
	return c->outoff < c->out.len;
}

/*
 * make_room - with every slot taken, close the oldest client that has
 * not sent a whole request (an idle or slow one): so a crowd of idle
 * connections cannot lock a scrape out, and the cap still holds.
 * Clients being answered are kept.  false: nothing to evict.
 */
static bool
make_room(struct metrics_server *s)
{
	size_t i, victim = s->ncl;

	for (i = 0; i < s->ncl; i++)
		if (!s->cl[i].writing && (victim == s->ncl ||
		    s->cl[i].seq < s->cl[victim].seq))
			victim = i;
	if (victim == s->ncl)
		return false;
	client_close(s, victim);
	return true;
}

/*
 * accept_clients - take every pending connection, and read at once what
 * it has sent: a scraper sends its request with the connection, so it is
 * answered (and no longer evictable) before the next one is accepted
 */
static void
accept_clients(struct metrics_server *s)
{
	struct client *c;
	int fd;

	while ((fd = accept4(s->lfd, NULL, NULL, SOCK_NONBLOCK |
	    SOCK_CLOEXEC)) >= 0) {
		if (s->ncl == HTTP_MAX_CONNS && !make_room(s)) {
			close(fd);	/* all busy being answered */
			continue;
		}
		c = &s->cl[s->ncl++];
		memset(c, 0, sizeof(*c));
		c->fd = fd;
		c->seq = s->accepted++;
		c->deadline = clock_mono_s() * 1000 + HTTP_CLIENT_TIMEOUT_MS;
		if (!client_io(s, c))
			client_close(s, s->ncl - 1);
	}
}

static void *
serve(void *arg)
{
	struct metrics_server *s = arg;
	struct pollfd pf[2 + HTTP_MAX_CONNS];
	double now, next;
	size_t i;

	for (;;) {
		pf[0] = (struct pollfd){ .fd = s->wake[0], .events = POLLIN };
		pf[1] = (struct pollfd){ .fd = s->lfd, .events = POLLIN };
		now = clock_mono_s() * 1000;
		next = now + 1000;
		for (i = 0; i < s->ncl; i++) {
			pf[2 + i] = (struct pollfd){ .fd = s->cl[i].fd,
			    .events = s->cl[i].writing ? POLLOUT : POLLIN };
			if (s->cl[i].deadline < next)
				next = s->cl[i].deadline;
		}
		if (poll(pf, 2 + s->ncl, next > now ? (int)(next - now) + 1 :
		    0) < 0 && errno != EINTR)
			log_warn_errno("metrics endpoint: poll");
		if (pf[0].revents)
			break;
		now = clock_mono_s() * 1000;
		/* backwards, so that client_close()'s swap keeps pf in step */
		for (i = s->ncl; i-- > 0;) {
			bool keep = s->cl[i].deadline > now;

			if (keep && pf[2 + i].revents)
				keep = client_io(s, &s->cl[i]);
			if (!keep)
				client_close(s, i);
		}
		if (pf[1].revents & POLLIN)
			accept_clients(s);
	}
	while (s->ncl > 0)
		client_close(s, s->ncl - 1);
	return NULL;
}

/* server_free - close what is open, remove our unix socket file */
static void
server_free(struct metrics_server *s)
{
	if (s->lfd >= 0)
		close(s->lfd);
	if (s->wake[0] >= 0) {
		close(s->wake[0]);
		close(s->wake[1]);
	}
	if (s->unix_path)
		(void)unlink(s->unix_path);
	free(s->unix_path);
	free(s);
}

struct metrics_server *
metrics_server_start(const char *spec, struct metrics *m,
    metrics_collect_fn *collect, void *arg, struct buf *why)
{
	struct metrics_server *s = xcalloc(1, sizeof(*s));

	s->m = m;
	s->collect = collect;
	s->arg = arg;
	s->wake[0] = s->wake[1] = -1;
	if ((s->lfd = open_listener(spec, &s->unix_path, why)) < 0)
		goto fail;
	if (pipe2(s->wake, O_CLOEXEC) < 0 ||
	    pthread_create(&s->tid, NULL, serve, s) != 0) {
		buf_printf(why, "metrics endpoint: cannot start its thread");
		goto fail;
	}
	return s;
fail:
	server_free(s);
	return NULL;
}

void
metrics_server_stop(struct metrics_server **sp)
{
	struct metrics_server *s = *sp;

	if (s == NULL)
		return;
	(void)write(s->wake[1], "x", 1);
	pthread_join(s->tid, NULL);
	server_free(s);
	*sp = NULL;
}
