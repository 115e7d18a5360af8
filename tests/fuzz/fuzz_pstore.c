/*
 * fuzz_pstore.c - what the policy store reads back, and the limit items
 *
 * DESCRIPTION
 *	The input is read four ways:
 *
 *	- as a sequence of LMDB values "LEN VALUE" (one byte of length):
 *	  pstore_lmdb_val() decodes a value only when it has 16 bytes and
 *	  has not expired at the time taken from the input, and then gives
 *	  exactly its first 8 bytes as the value;
 *	- as a counter key read back from a shared store
 *	  (policy_counter_key()): when it parses, the key prints again as
 *	  the same text from its parts;
 *	- as a ratelimit_* item (ratelimit_parse_item()): a parsed item is
 *	  in range and its text form ("COUNT/WINDOW") parses to the same;
 *	- as an untrusted name made into a key part (policy_id()): the
 *	  result is printable ASCII without white space, 1 to 64 bytes.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "policy.h"
#include "pstore.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
lmdb_values(const uint8_t *p, size_t n)
{
	uint64_t v, first;
	time_t now = 0, exp;
	size_t vn;

	if (n >= 4) {
		now = (time_t)((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
		    (uint32_t)p[2] << 8 | p[3]);
		p += 4;
		n -= 4;
	}
	while (n >= 1) {
		vn = p[0] < n - 1 ? p[0] : n - 1;
		p++;
		n--;
		if (pstore_lmdb_val(p, vn, now, &v, &exp) == 0) {
			memcpy(&first, p, 8);
			if (vn != PSTORE_LMDB_VAL_LEN || v != first ||
			    (exp != 0 && exp <= now))
				abort();
		} else if (v != 0 || exp != 0)
			abort();
		p += vn;
		n -= vn;
	}
}

static void
counter_key(const char *s)
{
	struct policy_ctr_key c;
	char again[512];

	if (policy_counter_key(s, &c) < 0)
		return;
	if (c.window == 0 || c.id == NULL || *c.id == '\0')
		abort();
	snprintf(again, sizeof(again), "r:%c:%c:%u:%llu:%s", c.kind, c.type,
	    c.window, (unsigned long long)c.bucket, c.id);
	/* leading zeros of the numbers are the only other spelling */
	if (strcmp(again, s) != 0 && strstr(s, ":0") == NULL)
		abort();
}

static void
limit_item(const char *s)
{
	struct rl_item it, again;
	struct buf why = BUF_INIT, t = BUF_INIT;

	if (ratelimit_parse_item(s, &it, &why) == 0) {
		if (it.count < 1 || it.count > 1000000000 || it.window < 1 ||
		    it.window > 366 * 86400)
			abort();
		buf_printf(&t, "%s%u/", it.rcpts ? "rcpt:" : "", it.count);
		ratelimit_window_text(it.window, &t);
		if (ratelimit_parse_item(buf_cstr(&t), &again, &why) != 0 ||
		    again.count != it.count || again.window != it.window ||
		    again.rcpts != it.rcpts)
			abort();
	} else if (why.len == 0)
		abort();
	buf_release(&why);
	buf_release(&t);
}

static void
key_part(const char *s)
{
	struct buf id = BUF_INIT;
	size_t i;

	policy_id(s, &id);
	if (id.len == 0 || id.len > 64)
		abort();
	for (i = 0; i < id.len; i++)
		if (id.data[i] <= 32 || id.data[i] >= 127)
			abort();
	buf_release(&id);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s;

	lmdb_values(data, size);
	if (size > 4096)
		return 0;
	s = malloc(size + 1);
	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';		/* an embedded NUL ends the text early */
	counter_key(s);
	limit_item(s);
	key_part(s);
	free(s);
	return 0;
}
