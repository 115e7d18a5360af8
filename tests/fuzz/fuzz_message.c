/*
 * fuzz_message.c - a whole message file through the scan pipeline
 *
 * DESCRIPTION
 *	The first input byte picks the chunk size the file is fed in (the
 *	parser must not depend on chunking); the rest is the message.  The
 *	verdict log line must always be valid UTF-8 JSON-shaped text.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "engine.h"
#include "hermetic.h"
#include "msg.h"
#include "msgparse.h"
#include "scan.h"
#include "str.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct engine *eng;

struct fctx {
	struct msg *msg;
	struct scan *scan;
};

static void
f_eoh(void *arg)
{
	struct fctx *f = arg;

	f->scan = scan_begin_at(eng, f->msg, 1795000000);
}

static void
f_body(void *arg, const void *p, size_t n)
{
	scan_body(((struct fctx *)arg)->scan, p, n);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct msg_limits lim;
	struct fctx f;
	struct msgparse_cb cb = { f_eoh, f_body, &f };
	struct msgparse *mp;
	struct hdr_edits e;
	struct buf line = BUF_INIT;
	struct buf why = BUF_INIT;
	size_t step, off;

	if (eng == NULL) {
		struct conf *c;
		/*
		 * DNS from an empty zone file: every name is NXDOMAIN at
		 * once.  Left to the system resolver, every input waited
		 * for real lookups (about 20 inputs a second, most of the
		 * time asleep, and network traffic from a fuzzer).
		 */
		static const char text[] = TEST_HERMETIC_CONF
		    "max_scan_bytes = 4k\n"
		    "max_header_bytes = 8k\nmax_headers = 50\n"
		    "dns_zone_files = " TEST_DATA "/dns/empty.zone\n";

		if (conf_parse(text, sizeof(text) - 1, "fuzz", &c, &why) < 0 ||
		    engine_new(c, &eng, &why) < 0)
			abort();
		buf_release(&why);
	}
	if (size == 0)
		return 0;
	step = (size_t)data[0] + 1;
	data++;
	size--;
	msg_limits_from_conf(&lim, eng->conf);
	f.msg = msg_new(&lim);
	f.scan = NULL;
	msg_set_client(f.msg, "192.0.2.1", "client.example");
	msg_set_sender(f.msg, "<a@example.org>");
	msg_add_rcpt(f.msg, "<b@example.net>");
	mp = msgparse_new(f.msg, &cb);
	for (off = 0; off < size; off += step)
		msgparse_push(mp, data + off, size - off < step ? size - off : step);
	msgparse_end(mp);
	msgparse_free(mp);
	scan_end(f.scan);
	scan_log_line(f.scan, &line);
	if (!utf8_valid(line.data, line.len) || line.data[0] != '{' ||
	    line.data[line.len - 1] != '}')
		abort();
	verdict_header_edits(&f.scan->verdict, f.msg, eng->conf, &e);
	hdr_edits_release(&e);
	buf_release(&line);
	scan_free(&f.scan);
	msg_free(&f.msg);
	return 0;
}
