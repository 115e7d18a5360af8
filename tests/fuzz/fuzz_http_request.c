/*
 * fuzz_http_request.c - the metrics endpoint's request parser
 *
 * Checks the parser's promises: a complete head ends within the input
 * on a line end, the path is a NUL-terminated prefix of the target,
 * and the route is one of the three answers; then the answer is built.
 */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "buf.h"
#include "metrics_http.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_request r;
	struct buf out = BUF_INIT;
	int status;

	if (size > HTTP_MAX_REQUEST)
		size = HTTP_MAX_REQUEST;
	if (http_request_parse((const char *)data, size, &r) != HTTP_COMPLETE)
		return 0;
	if (r.head_len == 0 || r.head_len > size ||
	    data[r.head_len - 1] != '\n' ||
	    memchr(r.path, '\0', sizeof(r.path)) == NULL ||
	    (r.path[0] != '\0' && r.path[0] != '/'))
		__builtin_trap();
	status = http_route(&r);
	if (status != 200 && status != 404 && status != 405)
		__builtin_trap();
	http_response(status, "text/plain", "x", 1, r.method == HTTP_HEAD,
	    &out);
	buf_release(&out);
	return 0;
}
