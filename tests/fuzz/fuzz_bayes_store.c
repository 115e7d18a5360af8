/*
 * fuzz_bayes_store.c - decoding of stored Bayes values (LMDB and Redis)
 *
 * DESCRIPTION
 *	The same input is read two ways (bayes_store_int.h):
 *
 *	LMDB: a sequence of records "KLEN VLEN KEY VALUE" (one byte each
 *	length), each decoded as a token value, a digest record and a meta
 *	value.  Checked: a token value decodes when it has at least 12
 *	bytes and then holds exactly its first 12; a digest record decodes
 *	only with a 16-byte key and a 5-byte value, and its class and time
 *	are those bytes; a meta value only with 8 bytes.
 *
 *	Redis: the bytes as a server's replies (RESP), parsed by hiredis
 *	as the backend's connection does, and every reply decoded as each
 *	kind of reply the backend reads: token counts, totals, meta data, a
 *	SCAN page (its keys as token keys, pairs of its elements as a
 *	digest key and its value), the learn script's word.  Checked: a
 *	SCAN cursor is NUL-terminated within its buffer and nothing reads
 *	outside a reply (the sanitizers).  hiredis 0.14 allocates an array
 *	of the announced size before its elements arrive, so inputs that
 *	announce more than 4096 elements are not fed to it (a library
 *	matter, not the decoding's).
 */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "bayes_store_int.h"
#include "str.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define PREFIX_LEN	4	/* "mwb:" */

static void
lmdb_records(const uint8_t *p, size_t n)
{
	struct bayes_counts c;
	struct bayes_rec r;
	uint64_t x;
	uint32_t when;
	size_t kn, vn;

	while (n >= 2) {
		kn = p[0];
		vn = p[1];
		p += 2;
		n -= 2;
		if (kn > n)
			kn = n;
		if (vn > n - kn)
			vn = n - kn;	/* the last record is cut short */
		if (bayes_lmdb_counts(p + kn, vn, &c) == 0) {
			if (vn < BAYES_LMDB_TOKEN_LEN ||
			    memcmp(&c.spam, p + kn, 4) != 0 ||
			    memcmp(&c.ham, p + kn + 4, 4) != 0 ||
			    memcmp(&c.seen, p + kn + 8, 4) != 0)
				abort();
		} else if (vn >= BAYES_LMDB_TOKEN_LEN || c.spam || c.ham ||
		    c.seen)
			abort();
		memset(&r, 0, sizeof(r));
		if (bayes_lmdb_digest(p, kn, p + kn, vn, &r) == 0) {
			memcpy(&when, p + kn + 1, 4);
			if (kn != BAYES_DIGEST_LEN ||
			    vn != BAYES_LMDB_DIGEST_LEN ||
			    r.kind != BAYES_REC_DIGEST ||
			    memcmp(r.digest, p, BAYES_DIGEST_LEN) != 0 ||
			    r.cls != (p[kn] ? BAYES_SPAM : BAYES_HAM) ||
			    r.when != when)
				abort();
		}
		if ((bayes_lmdb_u64(p + kn, vn, &x) == 0) != (vn == 8) ||
		    (vn != 8 && x != 0))
			abort();
		p += kn + vn;
		n -= kn + vn;
	}
}

/* huge_array - does the input announce an array of more than 4096? */
static bool
huge_array(const uint8_t *p, size_t n)
{
	size_t i, j;

	for (i = 0; i + 1 < n; i++) {
		if (p[i] != '*')
			continue;
		for (j = i + 1; j < n && p[j] == '0'; j++)
			;
		if (j + 4 < n && ch_is_digit(p[j]) && ch_is_digit(p[j + 1]) &&
		    ch_is_digit(p[j + 2]) && ch_is_digit(p[j + 3]) &&
		    (ch_is_digit(p[j + 4]) || memcmp(p + j, "4096", 4) > 0))
			return true;
	}
	return false;
}

static void
redis_reply(const redisReply *r)
{
	struct bayes_counts c;
	struct bayes_totals t;
	struct bayes_stats st;
	struct bayes_rec rec;
	const redisReply *keys;
	char cursor[24];
	uint64_t h;
	size_t i;

	bayes_redis_counts(r, &c);
	bayes_redis_totals(r, &t);
	memset(&st, 0, sizeof(st));
	bayes_redis_meta(r, &st);
	if (st.format > 1000 || st.tokenizer > 1000)
		abort();
	(void)bayes_redis_outcome(r);
	if (bayes_redis_scan_page(r, cursor, sizeof(cursor), &keys) < 0)
		return;
	if (strnlen(cursor, sizeof(cursor)) == sizeof(cursor) ||
	    keys->type != REDIS_REPLY_ARRAY)
		abort();
	for (i = 0; i < keys->elements; i++) {
		(void)bayes_redis_token_hash(keys->element[i], PREFIX_LEN, &h);
		bayes_redis_counts(keys->element[i], &c);
		(void)bayes_redis_outcome(keys->element[i]);
		if (i + 1 < keys->elements)
			(void)bayes_redis_digest(keys->element[i],
			    keys->element[i + 1], PREFIX_LEN, &rec);
	}
}

static void
redis_replies(const uint8_t *p, size_t n)
{
	redisReader *rd;
	void *reply;

	if (huge_array(p, n) || (rd = redisReaderCreate()) == NULL)
		return;
	if (redisReaderFeed(rd, (const char *)p, n) == REDIS_OK)
		while (redisReaderGetReply(rd, &reply) == REDIS_OK &&
		    reply != NULL) {
			redis_reply(reply);
			freeReplyObject(reply);
		}
	redisReaderFree(rd);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	lmdb_records(data, size);
	redis_replies(data, size);
	return 0;
}
