/*
 * metrics_http.h - the metrics endpoint: request parser and responder
 *
 * DESCRIPTION
 *	http_request_parse() reads the head of one HTTP/1.x request (pure;
 *	fuzzed by tests/fuzz/fuzz_http_request.c) and http_route() decides
 *	the answer: 200 for GET or HEAD of /metrics, 404 for any other
 *	path, 405 for another method on /metrics, 400 for anything that is
 *	not a request, 431 for a head over HTTP_MAX_REQUEST bytes.
 *
 *	metrics_server_start() runs one thread that accepts on
 *	metrics_listen (inet:PORT@ADDR, inet6:PORT@ADDR or unix:PATH),
 *	answers each request with Connection: close, and never blocks a
 *	milter thread: sockets are non-blocking, at most HTTP_MAX_CONNS
 *	clients are served at once (more are closed at accept), and a
 *	client that has not sent its request and read the answer within
 *	HTTP_CLIENT_TIMEOUT_MS is dropped.
 */
#ifndef MW_METRICS_HTTP_H
#define MW_METRICS_HTTP_H

#include <stddef.h>

struct buf;
struct metrics;
struct metrics_live;

#define HTTP_MAX_REQUEST	4096
#define HTTP_MAX_CONNS		16
#define HTTP_CLIENT_TIMEOUT_MS	5000

enum http_parse { HTTP_INCOMPLETE, HTTP_COMPLETE, HTTP_BAD };
enum http_method { HTTP_GET, HTTP_HEAD, HTTP_OTHER };

struct http_request {
	enum http_method method;
	char	 path[256];		/* target without the query; "" if
					   it did not fit */
	size_t	 head_len;		/* bytes of the head, blank line
					   included */
};

/*
 * http_request_parse - the request head in p[0..n): HTTP_COMPLETE with
 * *r filled once the blank line has arrived, HTTP_INCOMPLETE before
 * that, HTTP_BAD if the request line cannot be a request.  Bare LF is
 * accepted as a line end.  Never reads past p + n.
 */
enum http_parse http_request_parse(const char *p, size_t n,
	    struct http_request *r);
/* http_route - the status code for a parsed request (200, 404, 405) */
int	 http_route(const struct http_request *);
/*
 * http_response - a whole response: status line, Content-Type,
 * Content-Length, Connection: close, then body unless head_only
 */
void	 http_response(int status, const char *content_type,
	    const char *body, size_t len, int head_only, struct buf *out);

/* collect - fills the scrape-time values; called on the responder thread */
typedef void metrics_collect_fn(struct metrics_live *, void *arg);

struct metrics_server;
/*
 * metrics_server_start - listen on spec and start the thread; NULL with
 * a reason in why.  A unix socket file gets mode 0660 (umask set around
 * bind(): call it while no other thread creates files) and is removed
 * by metrics_server_stop.
 */
struct metrics_server *metrics_server_start(const char *spec,
	    struct metrics *, metrics_collect_fn *, void *arg, struct buf *why);
void	 metrics_server_stop(struct metrics_server **);

/*
 * metrics_connect - a connected stream socket to spec (what `status`
 * uses), or -1 with why
 */
int	 metrics_connect(const char *spec, struct buf *why);

#endif
