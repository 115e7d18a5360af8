/*
 * check_bayes_store.c - the token stores: round trips, idempotent
 * learning, forgetting, dump/load and pruning on both backends (Redis
 * against a private redis-server on a random loopback port, skipped
 * when redis-server is not installed); LMDB growth, sharing and
 * readers that keep a consistent view while another process trains;
 * Redis timeouts, outages and several hosts sharing one database
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bayes_store.h"
#include "bayes_store_int.h"
#include "bayes_tokmap.h"
#include "buf.h"
#include "helpers.h"
#include "redis_server.h"

static char tmpdir[256];
static char storedir[300];
static struct redis_server rs;
static bool have_redis;
static const char *const backend_names[] = { "lmdb", "redis" };
static int nbackends = 1;
static const char *cur = "lmdb";	/* backend of the running test */

static void
setup(void)
{
	test_mkdtemp(tmpdir, sizeof(tmpdir), "check_bayes_store");
	snprintf(storedir, sizeof(storedir), "%s/db", tmpdir);
	if (have_redis)
		ck_assert_int_eq(redis_server_flush(&rs), 0);
}

static void
teardown(void)
{
	test_rmtree(tmpdir);
}

static struct bayes_store *
open_with(const char *path, const struct bayes_store_opts *o)
{
	struct bayes_store *s;
	struct buf why = BUF_INIT;

	ck_assert_msg(bayes_store_open(path, o, &s, &why) == BAYES_OK,
	    "open: %s", buf_cstr(&why));
	buf_release(&why);
	return s;
}

static struct bayes_store *
open_store(const char *path, uint64_t map_size, bool readonly)
{
	struct bayes_store_opts o = BAYES_STORE_OPTS_DEFAULT;

	o.map_size = map_size;
	o.readonly = readonly;
	return open_with(path, &o);
}

/* open_b - store number n (0, 1) of backend b */
static struct bayes_store *
open_b(int b, int n)
{
	struct bayes_store_opts o = BAYES_STORE_OPTS_DEFAULT;
	struct bayes_store *s;
	struct buf why = BUF_INIT, spec = BUF_INIT;

	cur = backend_names[b];
	if (b == 0)
		buf_printf(&spec, "%s/db%d", tmpdir, n);
	else
		buf_printf(&spec, "redis://127.0.0.1:%d/%d", rs.port, n);
	o.map_size = 1 << 24;
	o.retry_s = 0;
	ck_assert_msg(bayes_store_open(spec.data, &o, &s, &why) == BAYES_OK,
	    "%s: open: %s", cur, buf_cstr(&why));
	buf_release(&why);
	buf_release(&spec);
	return s;
}

static void
msg_init(struct bayes_learn_msg *m, int id, enum bayes_class cls,
    enum bayes_learn_op op, const uint64_t *h, size_t n)
{
	memset(m, 0, sizeof(*m));
	m->digest[0] = (uint8_t)id;
	m->digest[1] = (uint8_t)(id >> 8);
	m->cls = cls;
	m->op = op;
	m->hashes = h;
	m->nhashes = n;
}

static int
learn1(struct bayes_store *s, int id, enum bayes_class cls,
    enum bayes_learn_op op, const uint64_t *h, size_t n, time_t now)
{
	struct bayes_learn_msg m;
	struct buf why = BUF_INIT;

	msg_init(&m, id, cls, op, h, n);
	ck_assert_msg(bayes_store_learn(s, &m, 1, now, &why) == BAYES_OK,
	    "%s: learn: %s", cur, buf_cstr(&why));
	buf_release(&why);
	return m.outcome;
}

static void
lookup(struct bayes_store *s, const uint64_t *h, size_t n,
    struct bayes_counts *c, struct bayes_totals *t)
{
	struct buf why = BUF_INIT;

	ck_assert_msg(bayes_store_lookup(s, h, n, c, t, &why) == BAYES_OK,
	    "%s: lookup: %s", cur, buf_cstr(&why));
	buf_release(&why);
}

static struct bayes_store *open_mem(const char *, uint64_t, unsigned);
static struct bayes_lmdb_memory memory_of(struct bayes_store *);

static const uint64_t toks_a[] = { 1, 2, 3 };
static const uint64_t toks_b[] = { 3, 4 };
static const uint64_t all[] = { 1, 2, 3, 4, 5 };

START_TEST(test_bayes_store_learn_then_lookup)
{
	struct bayes_store *s = open_b(_i, 0);
	struct bayes_counts c[5];
	struct bayes_totals t;

	ck_assert_int_eq(learn1(s, 1, BAYES_SPAM, BAYES_OP_LEARN, toks_a, 3,
	    1000), BAYES_LEARN_NEW);
	ck_assert_int_eq(learn1(s, 2, BAYES_HAM, BAYES_OP_LEARN, toks_b, 2,
	    2000), BAYES_LEARN_NEW);
	lookup(s, all, 5, c, &t);
	ck_assert_uint_eq(t.nspam, 1);
	ck_assert_uint_eq(t.nham, 1);
	ck_assert_uint_eq(c[0].spam, 1);
	ck_assert_uint_eq(c[0].ham, 0);
	ck_assert_uint_eq(c[0].seen, 1000);
	ck_assert_uint_eq(c[2].spam, 1);
	ck_assert_uint_eq(c[2].ham, 1);
	ck_assert_uint_eq(c[2].seen, 2000);
	ck_assert_uint_eq(c[3].ham, 1);
	ck_assert_uint_eq(c[4].spam + c[4].ham + c[4].seen, 0);
	bayes_store_close(&s);
	ck_assert_ptr_null(s);
}
END_TEST

/*
 * A lookup of many hashes in no order, some repeated, some unknown, some
 * alike in every byte but one: each answer lands on its own question
 * (the LMDB store sorts the hashes to walk its tree in order).
 */
START_TEST(test_bayes_store_lookup_many_in_any_order)
{
	enum { NL = 700, NQ = 2000 };
	struct bayes_store *s = open_b(_i, 0);
	uint64_t *learned = xcalloc(NL, sizeof(*learned));
	uint64_t *q = xcalloc(NQ, sizeof(*q));
	struct bayes_counts *c = xcalloc(NQ, sizeof(*c));
	struct bayes_totals t;
	uint64_t x = 0x9E3779B97F4A7C15ULL;
	size_t i;

	for (i = 0; i < NL; i++) {
		/* a third differ only in their top byte, a third only in
		   the lowest, a third anywhere */
		if (i % 3 == 0)
			learned[i] = ((uint64_t)i << 56) | 0x00ABCDEF12345678ULL;
		else if (i % 3 == 1)
			learned[i] = 0x1234567890ABCD00ULL | (i & 0xFF) |
			    ((uint64_t)(i >> 8) << 40);
		else {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			learned[i] = x;
		}
	}
	learn1(s, 1, BAYES_SPAM, BAYES_OP_LEARN, learned, NL, 1000);
	for (i = 0; i < NQ; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		/* two thirds known (repeats included), a third not */
		q[i] = (i % 3 != 2) ? learned[x % NL] : (x | 1) ^ learned[0];
	}
	lookup(s, q, NQ, c, &t);
	for (i = 0; i < NQ; i++)
		ck_assert_msg(c[i].spam == (i % 3 != 2 ? 1u : 0u),
		    "%s: query %zu (%016llx): spam %u", cur, i,
		    (unsigned long long)q[i], (unsigned)c[i].spam);
	bayes_store_close(&s);
	free(learned);
	free(q);
	free(c);
}
END_TEST

START_TEST(test_bayes_store_same_message_twice_counts_once)
{
	struct bayes_store *s = open_b(_i, 0);
	struct bayes_counts c[5];
	struct bayes_totals t;
	struct bayes_learn_msg m[2];
	struct buf why = BUF_INIT;

	learn1(s, 1, BAYES_SPAM, BAYES_OP_LEARN, toks_a, 3, 1000);
	ck_assert_int_eq(learn1(s, 1, BAYES_SPAM, BAYES_OP_LEARN, toks_a, 3,
	    1001), BAYES_LEARN_KNOWN);
	/* and twice within one batch */
	msg_init(&m[0], 7, BAYES_HAM, BAYES_OP_LEARN, toks_b, 2);
	msg_init(&m[1], 7, BAYES_HAM, BAYES_OP_LEARN, toks_b, 2);
	ck_assert_int_eq(bayes_store_learn(s, m, 2, 1002, &why), BAYES_OK);
	ck_assert_int_eq(m[0].outcome, BAYES_LEARN_NEW);
	ck_assert_int_eq(m[1].outcome, BAYES_LEARN_KNOWN);
	lookup(s, all, 5, c, &t);
	ck_assert_uint_eq(t.nspam, 1);
	ck_assert_uint_eq(t.nham, 1);
	ck_assert_uint_eq(c[0].spam, 1);
	ck_assert_uint_eq(c[0].seen, 1000);	/* not relearned */
	ck_assert_uint_eq(c[3].ham, 1);
	buf_release(&why);
	bayes_store_close(&s);
}
END_TEST

START_TEST(test_bayes_store_relearn_moves_counts)
{
	struct bayes_store *s = open_b(_i, 0);
	struct bayes_counts c[5];
	struct bayes_totals t;

	learn1(s, 1, BAYES_SPAM, BAYES_OP_LEARN, toks_a, 3, 1000);
	ck_assert_int_eq(learn1(s, 1, BAYES_HAM, BAYES_OP_LEARN, toks_a, 3,
	    1100), BAYES_LEARN_RELEARNED);
	lookup(s, all, 5, c, &t);
	ck_assert_uint_eq(t.nspam, 0);
	ck_assert_uint_eq(t.nham, 1);
	ck_assert_uint_eq(c[0].spam, 0);
	ck_assert_uint_eq(c[0].ham, 1);
	ck_assert_uint_eq(c[0].seen, 1100);
	bayes_store_close(&s);
}
END_TEST

START_TEST(test_bayes_store_forget_reverses_learning)
{
	struct bayes_store *s = open_b(_i, 0);
	struct bayes_counts c[5];
	struct bayes_totals t;
	struct bayes_stats st;
	struct buf why = BUF_INIT;

	learn1(s, 1, BAYES_SPAM, BAYES_OP_LEARN, toks_a, 3, 1000);
	learn1(s, 2, BAYES_HAM, BAYES_OP_LEARN, toks_b, 2, 1000);
	/* the class given with forget does not matter */
	ck_assert_int_eq(learn1(s, 1, BAYES_HAM, BAYES_OP_FORGET, toks_a, 3,
	    1200), BAYES_LEARN_FORGOTTEN);
	ck_assert_int_eq(learn1(s, 1, BAYES_SPAM, BAYES_OP_FORGET, toks_a, 3,
	    1200), BAYES_LEARN_UNKNOWN);
	lookup(s, all, 5, c, &t);
	ck_assert_uint_eq(t.nspam, 0);
	ck_assert_uint_eq(t.nham, 1);
	ck_assert_uint_eq(c[0].spam + c[0].ham, 0);
	ck_assert_uint_eq(c[2].spam, 0);
	ck_assert_uint_eq(c[2].ham, 1);
	/* tokens whose counts reach zero are gone; so is the digest */
	ck_assert_int_eq(bayes_store_stats(s, &st, &why), BAYES_OK);
	ck_assert_uint_eq(st.ntokens, 2);
	ck_assert_uint_eq(st.ndigests, 1);
	ck_assert_str_eq(st.backend, cur);
	ck_assert_uint_eq(st.format, BAYES_STORE_FORMAT);
	ck_assert_uint_eq(st.tokenizer, BAYES_TOKENIZER_VERSION);
	buf_release(&why);
	bayes_store_close(&s);
}
END_TEST

START_TEST(test_bayes_store_counts_never_negative)
{
	struct bayes_store *s = open_b(_i, 0);
	struct bayes_rec r;
	struct bayes_counts c[5];
	struct bayes_totals t;
	struct buf why = BUF_INIT;

	learn1(s, 1, BAYES_SPAM, BAYES_OP_LEARN, toks_a, 3, 1000);
	/* someone set token 1 to zero spam but some ham behind our back */
	memset(&r, 0, sizeof(r));
	r.kind = BAYES_REC_TOKEN;
	r.hash = 1;
	r.counts.ham = 2;
	ck_assert_int_eq(bayes_store_put(s, &r, 1, &why), BAYES_OK);
	learn1(s, 1, BAYES_SPAM, BAYES_OP_FORGET, toks_a, 3, 1100);
	lookup(s, all, 5, c, &t);
	ck_assert_uint_eq(c[0].spam, 0);
	ck_assert_uint_eq(c[0].ham, 2);
	ck_assert_uint_eq(t.nspam, 0);
	buf_release(&why);
	bayes_store_close(&s);
}
END_TEST

struct collect {
	struct buf out;
};

static int
collect_rec(const struct bayes_rec *r, void *arg)
{
	struct buf *b = arg;

	buf_printf(b, "%d %llu %llu %llx %u %u %u %02x %d %u\n", r->kind,
	    (unsigned long long)r->tot.nspam, (unsigned long long)r->tot.nham,
	    (unsigned long long)r->hash, r->counts.spam, r->counts.ham,
	    r->counts.seen, r->digest[0], r->cls, r->when);
	return 0;
}

static int
line_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static size_t
count_lines(const struct buf *b)
{
	size_t i, n = 0;

	for (i = 0; i < b->len; i++)
		n += b->data[i] == '\n';
	return n;
}

/* sort_lines - the lines of b in byte order */
static void
sort_lines(struct buf *b)
{
	char *copy = xstrdup(buf_cstr(b)), *save = NULL, *l;
	char **v = xcalloc(count_lines(b) + 1, sizeof(char *));
	size_t n = 0, i;

	for (l = strtok_r(copy, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
		v[n++] = l;
	qsort(v, n, sizeof(char *), line_cmp);
	buf_reset(b);
	for (i = 0; i < n; i++)
		buf_printf(b, "%s\n", v[i]);
	free(v);
	free(copy);
}

START_TEST(test_bayes_store_dump_load_round_trip)
{
	struct bayes_store *a = open_b(_i, 0), *b;
	struct buf why = BUF_INIT, ra = BUF_INIT, rb = BUF_INIT;
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	learn1(a, 1, BAYES_SPAM, BAYES_OP_LEARN, toks_a, 3, 1000);
	learn1(a, 2, BAYES_HAM, BAYES_OP_LEARN, toks_b, 2, 2000);
	f = open_memstream(&text, &len);
	ck_assert_int_eq(bayes_dump(a, f, &why), BAYES_OK);
	fclose(f);
	ck_assert_ptr_nonnull(strstr(text, "mailwarden-bayes-dump 1\n"
	    "totals 1 1\n"));
	ck_assert_ptr_nonnull(strstr(text, "digest 0100000000000000"
	    "0000000000000000 s 1000\n"));
	ck_assert_ptr_nonnull(strstr(text, "token 0000000000000003 1 1 2000\n"));

	b = open_b(_i, 1);
	f = fmemopen(text, len, "r");
	ck_assert_msg(bayes_load(b, f, "dump", &why) == BAYES_OK, "%s",
	    buf_cstr(&why));
	fclose(f);
	ck_assert_int_eq(bayes_store_iter(a, collect_rec, &ra, &why), 0);
	ck_assert_int_eq(bayes_store_iter(b, collect_rec, &rb, &why), 0);
	/* Redis iterates in no particular order */
	sort_lines(&ra);
	sort_lines(&rb);
	ck_assert_str_eq(buf_cstr(&ra), buf_cstr(&rb));
	ck_assert_uint_eq(count_lines(&ra), 1 + 4 + 2);
	/* the copy knows the digests: learning again changes nothing */
	ck_assert_int_eq(learn1(b, 1, BAYES_SPAM, BAYES_OP_LEARN, toks_a, 3,
	    3000), BAYES_LEARN_KNOWN);
	free(text);
	buf_release(&why);
	buf_release(&ra);
	buf_release(&rb);
	bayes_store_close(&a);
	bayes_store_close(&b);
}
END_TEST

static const struct {
	const char *name;
	const char *text;
	const char *want;
} bad_dumps[] = {
	{ "no header", "totals 1 1\n", "not a mailwarden Bayes dump" },
	{ "bad hash", "mailwarden-bayes-dump 1\ntoken 12zz 1 1 1\n",
	  "dump:2: malformed" },
	{ "short hash", "mailwarden-bayes-dump 1\ntoken 12 1 1 1\n",
	  "dump:2: malformed" },
	{ "count too big", "mailwarden-bayes-dump 1\n"
	  "token 0000000000000001 4294967296 0 0\n", "dump:2: malformed" },
	{ "bad class", "mailwarden-bayes-dump 1\n"
	  "digest 000102030405060708090a0b0c0d0e0f x 1\n", "dump:2: malformed" },
	{ "extra field", "mailwarden-bayes-dump 1\ntotals 1 2 3\n",
	  "dump:2: malformed" },
	{ "empty", "", "empty file" },
};

START_TEST(test_bayes_store_load_rejects_malformed_dump)
{
	struct bayes_store *s = open_store(storedir, 1 << 24, false);
	struct buf why = BUF_INIT;
	FILE *f;

	f = fmemopen((void *)bad_dumps[_i].text,
	    strlen(bad_dumps[_i].text) + 1, "r");
	/* fmemopen of "" with size 1 reads one NUL: use a real empty */
	if (bad_dumps[_i].text[0] == '\0') {
		fclose(f);
		f = fopen("/dev/null", "r");
	}
	ck_assert_int_ne(bayes_load(s, f, "dump", &why), BAYES_OK);
	ck_assert_msg(strstr(buf_cstr(&why), bad_dumps[_i].want) != NULL,
	    "%s: got '%s'", bad_dumps[_i].name, buf_cstr(&why));
	fclose(f);
	buf_release(&why);
	bayes_store_close(&s);
}
END_TEST

START_TEST(test_bayes_store_prune_drops_stale_rare_tokens)
{
	struct bayes_store *s = open_b(_i, 0);
	static const uint64_t old_rare[] = { 10 }, old_common[] = { 11 },
	    fresh[] = { 12 };
	struct bayes_counts c[3];
	struct bayes_totals t;
	uint64_t q[] = { 10, 11, 12 }, removed;
	struct buf why = BUF_INIT;
	int i;

	learn1(s, 1, BAYES_SPAM, BAYES_OP_LEARN, old_rare, 1, 1000);
	for (i = 2; i < 7; i++)
		learn1(s, i, BAYES_HAM, BAYES_OP_LEARN, old_common, 1, 1000);
	learn1(s, 7, BAYES_SPAM, BAYES_OP_LEARN, fresh, 1, 5000);
	ck_assert_int_eq(bayes_store_prune(s, 4000, 2, &removed, &why),
	    BAYES_OK);
	ck_assert_uint_eq(removed, 1);
	lookup(s, q, 3, c, &t);
	ck_assert_uint_eq(c[0].spam, 0);	/* old, seen once: gone */
	ck_assert_uint_eq(c[1].ham, 5);		/* old but common: kept */
	ck_assert_uint_eq(c[2].spam, 1);	/* fresh: kept */
	buf_release(&why);
	bayes_store_close(&s);
}
END_TEST

START_TEST(test_bayes_store_prune_many_spans_transactions)
{
	enum { N = 50000 };
	struct bayes_store *s = open_store(storedir, 1 << 26, false);
	uint64_t *h = xcalloc(N, sizeof(*h)), removed;
	struct bayes_stats st;
	struct buf why = BUF_INIT;
	size_t i;

	for (i = 0; i < N; i++)
		h[i] = bayes_hash(&i, sizeof(i));
	learn1(s, 1, BAYES_SPAM, BAYES_OP_LEARN, h, N, 1000);
	ck_assert_int_eq(bayes_store_prune(s, 2000, 1, &removed, &why),
	    BAYES_OK);
	ck_assert_uint_eq(removed, N);
	ck_assert_int_eq(bayes_store_stats(s, &st, &why), BAYES_OK);
	ck_assert_uint_eq(st.ntokens, 0);
	free(h);
	buf_release(&why);
	bayes_store_close(&s);
}
END_TEST

START_TEST(test_bayes_store_map_grows_when_full)
{
	enum { N = 60000 };
	/* 1 MiB map; 60000 tokens need about 2-3 MiB */
	struct bayes_store *s = open_store(storedir, 1 << 20, false);
	uint64_t *h = xcalloc(N, sizeof(*h));
	struct bayes_counts *c = xcalloc(N, sizeof(*c));
	struct bayes_totals t;
	size_t i;

	for (i = 0; i < N; i++)
		h[i] = bayes_hash(&i, sizeof(i));
	learn1(s, 1, BAYES_SPAM, BAYES_OP_LEARN, h, N, 1000);
	lookup(s, h, N, c, &t);
	for (i = 0; i < N; i++)
		ck_assert_uint_eq(c[i].spam, 1);
	free(h);
	free(c);
	bayes_store_close(&s);
}
END_TEST

START_TEST(test_bayes_store_shared_within_process)
{
	/* a reload opens the same store again while the old one is open */
	struct bayes_store *a = open_store(storedir, 1 << 24, false), *b;
	struct bayes_counts c[5];
	struct bayes_totals t;

	b = open_store(storedir, 1 << 24, false);
	learn1(a, 1, BAYES_SPAM, BAYES_OP_LEARN, toks_a, 3, 1000);
	bayes_store_close(&a);
	lookup(b, all, 5, c, &t);
	ck_assert_uint_eq(t.nspam, 1);
	learn1(b, 2, BAYES_SPAM, BAYES_OP_LEARN, toks_a, 3, 1000);
	bayes_store_close(&b);
	a = open_store(storedir, 1 << 24, true);
	lookup(a, all, 5, c, &t);
	ck_assert_uint_eq(t.nspam, 2);
	bayes_store_close(&a);
}
END_TEST

START_TEST(test_bayes_store_readonly_refuses_writes)
{
	struct bayes_store_opts o = BAYES_STORE_OPTS_DEFAULT;
	struct bayes_store *s;
	struct bayes_learn_msg m;
	struct buf why = BUF_INIT;
	char missing[400];

	o.readonly = true;
	snprintf(missing, sizeof(missing), "%s/missing", tmpdir);
	ck_assert_int_eq(bayes_store_open(missing, &o, &s, &why), BAYES_EPERM);
	ck_assert_ptr_nonnull(strstr(buf_cstr(&why), "no such Bayes store"));
	/* created by a writer, never written: reads as empty */
	s = open_store(storedir, 1 << 24, false);
	bayes_store_close(&s);
	s = open_store(storedir, 1 << 24, true);
	msg_init(&m, 1, BAYES_SPAM, BAYES_OP_LEARN, toks_a, 3);
	buf_reset(&why);
	ck_assert_int_eq(bayes_store_learn(s, &m, 1, 1, &why), BAYES_EPERM);
	ck_assert_ptr_nonnull(strstr(buf_cstr(&why), "read-only"));
	bayes_store_close(&s);
	buf_release(&why);
}
END_TEST

START_TEST(test_bayes_store_rejects_plain_file_and_empty_spec)
{
	struct bayes_store_opts o = BAYES_STORE_OPTS_DEFAULT;
	struct bayes_store *s;
	struct buf why = BUF_INIT;
	char file[400];
	FILE *f;

	snprintf(file, sizeof(file), "%s/plain", tmpdir);
	f = fopen(file, "w");
	fclose(f);
	ck_assert_int_eq(bayes_store_open(file, &o, &s, &why), BAYES_EPERM);
	ck_assert_ptr_null(s);
	ck_assert_int_eq(bayes_store_open("", &o, &s, &why), BAYES_EPERM);
	buf_release(&why);
}
END_TEST

/*
 * A child process trains: each batch learns one spam message holding
 * token 42 plus fresh tokens, in one transaction.  The parent reads
 * meanwhile: in every snapshot token 42's spam count must equal the
 * spam total, never one ahead or behind.
 */
START_TEST(test_bayes_store_readers_see_consistent_snapshots_while_training)
{
	enum { ROUNDS = 300, NQ = 64 };
	struct bayes_store *s = open_store(storedir, 1 << 24, false);
	struct bayes_counts c[NQ];
	struct bayes_totals t;
	uint64_t q[NQ], last = 0;
	unsigned reads = 0, changes = 0;
	int status, j;
	pid_t pid;

	/* token 42 is in every message, 1001-1049 in the first spam, the
	   rest in none */
	for (j = 0; j < NQ; j++)
		q[j] = j == 0 ? 42 : 1000 + (uint64_t)j;
	learn1(s, 0, BAYES_HAM, BAYES_OP_LEARN, q, 1, 1);
	bayes_store_close(&s);
	if ((pid = fork()) == 0) {
		struct bayes_store *w = open_store(storedir, 1 << 24, false);
		uint64_t h[50];
		int i;

		for (i = 1; i <= ROUNDS; i++) {
			h[0] = 42;
			for (j = 1; j < 50; j++)
				h[j] = (uint64_t)i * 1000 + (uint64_t)j;
			learn1(w, i, BAYES_SPAM, BAYES_OP_LEARN, h, 50, i);
		}
		bayes_store_close(&w);
		_exit(0);
	}
	ck_assert_int_gt(pid, 0);
	/* 0: read-only, the copy made again at most once a second (LMDB
	   answers most reads); 1: the copy made again on every change */
	s = _i ? open_mem(storedir, 64 << 20, 0) :
	    open_store(storedir, 1 << 24, true);
	do {
		lookup(s, q, NQ, c, &t);
		ck_assert_msg(c[0].spam == t.nspam, "token says %u, total %llu",
		    c[0].spam, (unsigned long long)t.nspam);
		for (j = 1; j < NQ; j++)
			ck_assert_uint_eq(c[j].spam, j < 50 && t.nspam > 0);
		ck_assert(t.nspam >= last);
		if (t.nspam != last)
			changes++;
		last = t.nspam;
		reads++;
	} while (waitpid(pid, &status, WNOHANG) == 0);
	lookup(s, q, 1, c, &t);
	ck_assert_uint_eq(t.nspam, ROUNDS);
	ck_assert_uint_eq(c[0].spam, ROUNDS);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	/* the reads really overlapped the training */
	ck_assert_uint_gt(reads, ROUNDS);
	ck_assert_uint_gt(changes, 10);
	if (_i)
		ck_assert_uint_gt(memory_of(s).builds, 10);
	bayes_store_close(&s);
}
END_TEST

/* ---------------------------------------------------------------- */
/* LMDB: the copy of the token counts in memory */

/* xorshift - the next of a seeded sequence of hashes */
static uint64_t
xorshift(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

START_TEST(test_bayes_tokmap_grows_and_reads_absent_as_zero)
{
	enum { N = 5000 };
	struct bayes_tokmap m;
	struct bayes_counts c, got[3];
	uint64_t x = 77, h[N], q[3];
	size_t i, nslots;

	ck_assert_int_eq(bayes_tokmap_init(&m, 0, 1 << 20, 1), 0);
	ck_assert_uint_eq(m.nslots, 64);
	for (i = 0; i < N; i++) {
		h[i] = i == 0 ? 0 : xorshift(&x);	/* hash 0 is a token too */
		c.spam = (uint32_t)i;
		c.ham = (uint32_t)i + 1;
		c.seen = 7;
		ck_assert_int_eq(bayes_tokmap_set(&m, h[i], &c), 0);
	}
	ck_assert_uint_eq(m.n, N);
	ck_assert_uint_eq(m.nslots, 8192);	/* at most 3/4 full */
	for (i = 0; i < N; i++) {
		q[0] = h[i];
		q[1] = h[i] ^ 1;		/* not held */
		q[2] = h[N - 1 - i];
		bayes_tokmap_get(&m, q, 3, got);
		ck_assert_uint_eq(got[0].spam, i);
		ck_assert_uint_eq(got[0].ham, i + 1);
		ck_assert_uint_eq(got[0].seen, 7);
		ck_assert_uint_eq(got[1].spam + got[1].ham + got[1].seen, 0);
		ck_assert_uint_eq(got[2].spam, N - 1 - i);
	}
	/* replaced, not added */
	c.spam = c.ham = c.seen = 0;
	ck_assert_int_eq(bayes_tokmap_set(&m, h[5], &c), 0);
	ck_assert_uint_eq(m.n, N);
	bayes_tokmap_get(&m, &h[5], 1, got);
	ck_assert_uint_eq(got[0].spam + got[0].ham + got[0].seen, 0);
	/* the bound: no doubling past it, and the table stays as it was */
	nslots = m.nslots;
	m.max_bytes = (uint64_t)nslots * sizeof(struct bayes_tokslot);
	c.spam = 9;
	for (i = 0; m.n + 1 <= nslots / 4 * 3; i++)
		ck_assert_int_eq(bayes_tokmap_set(&m, xorshift(&x), &c), 0);
	ck_assert_int_eq(bayes_tokmap_set(&m, xorshift(&x), &c), -1);
	ck_assert_uint_eq(m.nslots, nslots);
	bayes_tokmap_get(&m, &h[N - 1], 1, got);
	ck_assert_uint_eq(got[0].spam, N - 1);
	bayes_tokmap_free(&m);
	/* a table that would not fit is not made */
	ck_assert_uint_eq(bayes_tokmap_bytes(1000), 2048 * 24);
	ck_assert_int_eq(bayes_tokmap_init(&m, 1000, 2048 * 24 - 1, 1), -1);
	ck_assert_ptr_null(m.slot);
}
END_TEST

static struct bayes_store *
open_mem(const char *path, uint64_t memory_max, unsigned rebuild_ms)
{
	struct bayes_store_opts o = BAYES_STORE_OPTS_DEFAULT;

	o.map_size = 1 << 24;
	o.memory_max = memory_max;
	o.rebuild_ms = rebuild_ms;
	return open_with(path, &o);
}

static struct bayes_lmdb_memory
memory_of(struct bayes_store *s)
{
	struct bayes_lmdb_memory mi;

	ck_assert_int_eq(bayes_lmdb_memory(s, &mi), 0);
	return mi;
}

/* check_use - copies made, lookups served from the copy and from LMDB */
static void
check_use(struct bayes_store *s, uint64_t builds, uint64_t hits,
    uint64_t misses)
{
	struct bayes_lmdb_memory mi = memory_of(s);

	ck_assert_uint_eq(mi.builds, builds);
	ck_assert_uint_eq(mi.hits, hits);
	ck_assert_uint_eq(mi.misses, misses);
}

/* every token record of the store, read from LMDB itself */
struct tokens_seen {
	uint64_t *h;
	struct bayes_counts *c;
	size_t	 n, cap;
};

static int
collect_token(const struct bayes_rec *r, void *arg)
{
	struct tokens_seen *t = arg;

	if (r->kind != BAYES_REC_TOKEN)
		return 0;
	if (t->n == t->cap) {
		t->cap = t->cap ? 2 * t->cap : 1024;
		t->h = xrealloc(t->h, t->cap * sizeof(*t->h));
		t->c = xrealloc(t->c, t->cap * sizeof(*t->c));
	}
	t->h[t->n] = r->hash;
	t->c[t->n++] = r->counts;
	return 0;
}

/*
 * check_equals_lmdb - a lookup of every token the store holds (and as
 * many it does not) answers what LMDB holds, with the totals
 */
static void
check_equals_lmdb(struct bayes_store *s, uint64_t nspam, uint64_t nham)
{
	struct tokens_seen t = { NULL, NULL, 0, 0 };
	struct buf why = BUF_INIT;
	struct bayes_counts *got;
	struct bayes_totals tot;
	uint64_t *q;
	size_t i;

	ck_assert_int_eq(bayes_store_iter(s, collect_token, &t, &why),
	    BAYES_OK);
	ck_assert_uint_gt(t.n, 0);
	q = xcalloc(2 * t.n, sizeof(*q));
	got = xcalloc(2 * t.n, sizeof(*got));
	for (i = 0; i < t.n; i++) {
		q[2 * i] = t.h[i];
		q[2 * i + 1] = t.h[i] ^ 0x8000000000000000ULL;
	}
	lookup(s, q, 2 * t.n, got, &tot);
	ck_assert_uint_eq(tot.nspam, nspam);
	ck_assert_uint_eq(tot.nham, nham);
	for (i = 0; i < t.n; i++) {
		ck_assert_msg(memcmp(&got[2 * i], &t.c[i], sizeof(t.c[i])) == 0,
		    "token %016llx: %u/%u/%u, LMDB %u/%u/%u",
		    (unsigned long long)t.h[i], got[2 * i].spam,
		    got[2 * i].ham, got[2 * i].seen, t.c[i].spam, t.c[i].ham,
		    t.c[i].seen);
		ck_assert_uint_eq(got[2 * i + 1].spam + got[2 * i + 1].ham +
		    got[2 * i + 1].seen, 0);
	}
	free(q);
	free(got);
	free(t.h);
	free(t.c);
	buf_release(&why);
}

/* learn_random - message id: nh random tokens of seed, half of them shared */
static void
learn_random(struct bayes_store *s, int id, enum bayes_class cls,
    enum bayes_learn_op op, size_t nh, time_t now)
{
	uint64_t *h = xcalloc(nh, sizeof(*h)), x = 0x1234 + (uint64_t)id;
	uint64_t shared = 99;
	size_t i;

	for (i = 0; i < nh; i++)
		h[i] = i % 2 ? xorshift(&shared) : xorshift(&x);
	learn1(s, id, cls, op, h, nh, now);
	free(h);
}

/*
 * The copy answers what LMDB holds, after it is made (by a lookup that
 * read LMDB) and after this process learns, relearns and forgets
 * (counts of the copy updated as the learning commits, not made again).
 */
START_TEST(test_bayes_store_memory_copy_equals_lmdb)
{
	struct bayes_store *s = open_mem(storedir, 64 << 20, 0);
	struct bayes_lmdb_memory mi;
	int i;

	for (i = 0; i < 60; i++)
		learn_random(s, i, i % 3 ? BAYES_HAM : BAYES_SPAM,
		    BAYES_OP_LEARN, 400, 1000 + i);
	check_equals_lmdb(s, 20, 40);		/* LMDB, then the copy made */
	check_use(s, 1, 0, 1);
	check_equals_lmdb(s, 20, 40);
	check_use(s, 1, 1, 1);
	mi = memory_of(s);
	ck_assert_uint_gt(mi.tokens, 60 * 200);
	ck_assert_uint_ge(mi.bytes, mi.tokens * 24 * 4 / 3);
	/* new tokens, a message moved to the other class, one forgotten */
	learn_random(s, 100, BAYES_SPAM, BAYES_OP_LEARN, 300, 5000);
	learn_random(s, 4, BAYES_SPAM, BAYES_OP_LEARN, 400, 5001);
	learn_random(s, 6, BAYES_SPAM, BAYES_OP_FORGET, 400, 5002);
	check_equals_lmdb(s, 21, 39);
	check_use(s, 1, 2, 1);
	bayes_store_close(&s);
}
END_TEST

/* check_x - tokens 5 (learned as ham here) and 6 as the lookup sees them */
static void
check_x(struct bayes_store *s, uint64_t nspam, uint32_t spam, uint32_t seen6)
{
	static const uint64_t x[2] = { 5, 6 };
	struct bayes_counts c[2];
	struct bayes_totals t;

	lookup(s, x, 2, c, &t);
	ck_assert_uint_eq(t.nspam, nspam);
	ck_assert_uint_eq(t.nham, 1);
	ck_assert_uint_eq(c[0].spam, spam);
	ck_assert_uint_eq(c[0].ham, 1);
	ck_assert_uint_eq(c[1].spam, spam);
	ck_assert_uint_eq(c[1].ham, 0);
	ck_assert_uint_eq(c[1].seen, seen6);
}

/*
 * Another process learns: the next lookup reads LMDB, which sees its
 * token, and makes the copy again, which the lookup after serves; with
 * a rebuild not yet due, lookups go on reading LMDB rather than the
 * stale copy.
 */
START_TEST(test_bayes_store_memory_copy_follows_other_process)
{
	uint64_t a[1] = { 5 }, x[2] = { 5, 6 };
	struct bayes_store *s;
	int go[2], done[2], status;
	char b = 0;
	pid_t pid;

	/* the writer is forked before this process opens the store (an
	   LMDB environment is not to be used across fork()); it learns
	   once each time it is told to, and says when it has */
	ck_assert_int_eq(pipe(go), 0);
	ck_assert_int_eq(pipe(done), 0);
	if ((pid = fork()) == 0) {
		struct bayes_store *w;
		int round;

		close(go[1]);
		close(done[0]);
		for (round = 0; round < 2; round++) {
			if (read(go[0], &b, 1) != 1)
				_exit(1);
			w = open_mem(storedir, 64 << 20, 0);
			learn1(w, 10 + round, BAYES_SPAM, BAYES_OP_LEARN, x, 2,
			    2000 + round);
			bayes_store_close(&w);
			if (write(done[1], &b, 1) != 1)
				_exit(1);
		}
		_exit(0);
	}
	ck_assert_int_gt(pid, 0);
	close(go[0]);
	close(done[1]);
	s = open_mem(storedir, 64 << 20, 0);
	learn1(s, 1, BAYES_HAM, BAYES_OP_LEARN, a, 1, 1000);
	check_x(s, 0, 0, 0);		/* LMDB, then the copy made */
	check_use(s, 1, 0, 1);
	check_x(s, 0, 0, 0);
	check_use(s, 1, 1, 1);

	/* the other process learns token 6: seen, the copy made again */
	ck_assert_int_eq(write(go[1], &b, 1), 1);
	ck_assert_int_eq(read(done[0], &b, 1), 1);
	check_x(s, 1, 1, 2000);
	check_use(s, 2, 1, 2);
	check_x(s, 1, 1, 2000);
	check_use(s, 2, 2, 2);

	/* again, with the next rebuild an hour away: LMDB answers */
	bayes_store_close(&s);
	s = open_mem(storedir, 64 << 20, 3600 * 1000);
	check_x(s, 1, 1, 2000);		/* the first copy is not held back */
	check_x(s, 1, 1, 2000);
	check_use(s, 1, 1, 1);
	ck_assert_int_eq(write(go[1], &b, 1), 1);
	ck_assert_int_eq(read(done[0], &b, 1), 1);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	check_x(s, 2, 2, 2001);
	check_x(s, 2, 2, 2001);
	check_use(s, 1, 1, 3);
	close(go[1]);
	close(done[0]);
	bayes_store_close(&s);
}
END_TEST

/*
 * bayes_memory_max: a store too big for it is read from LMDB; a copy
 * that learning would grow past it is dropped; 0 makes no copy
 */
START_TEST(test_bayes_store_memory_bound_falls_back_to_lmdb)
{
	/* 128 slots of 24 bytes: up to 96 tokens */
	struct bayes_store *s = open_mem(storedir, 128 * 24, 0);

	learn_random(s, 1, BAYES_SPAM, BAYES_OP_LEARN, 80, 1000);
	check_equals_lmdb(s, 1, 0);
	check_equals_lmdb(s, 1, 0);
	ck_assert_uint_eq(memory_of(s).tokens, 80);
	check_use(s, 1, 1, 1);
	/* learned here: past the bound, the copy goes */
	learn_random(s, 2, BAYES_HAM, BAYES_OP_LEARN, 80, 1001);
	ck_assert_uint_eq(memory_of(s).tokens, 0);
	check_equals_lmdb(s, 1, 1);
	ck_assert_uint_eq(memory_of(s).tokens, 0);
	check_use(s, 1, 1, 2);
	bayes_store_close(&s);
	/* opened again: too big from the start, never copied */
	s = open_mem(storedir, 128 * 24, 0);
	check_equals_lmdb(s, 1, 1);
	check_equals_lmdb(s, 1, 1);
	check_use(s, 0, 0, 2);
	bayes_store_close(&s);
	/* and with no memory at all */
	s = open_mem(storedir, 0, 0);
	check_equals_lmdb(s, 1, 1);
	check_use(s, 0, 0, 1);
	bayes_store_close(&s);
}
END_TEST

/* ---------------------------------------------------------------- */
/* Redis only */

static const struct {
	const char *url;
	const char *shown;		/* NULL: must be rejected */
} urls[] = {
	{ "redis://127.0.0.1", "redis://127.0.0.1:6379/0" },
	{ "redis://cache.example:7000/3", "redis://cache.example:7000/3" },
	{ "redis://:secret@10.0.0.1:6380/2", "redis://:***@10.0.0.1:6380/2" },
	{ "redis://user:secret@h/", "redis://:***@h:6379/0" },
	{ "redis://[::1]:6381/1", "redis://::1:6381/1" },
	{ "redis://", NULL },
	{ "redis://h:0", NULL },
	{ "redis://h:99999", NULL },
	{ "redis://h:12/x", NULL },
	{ "redis://h:12/3/4", NULL },
	{ "redis://[::1", NULL },
	{ "redis://h:/1", NULL },
};

START_TEST(test_bayes_redis_url_forms)
{
	struct bayes_store *s;
	struct buf why = BUF_INIT;
	int rc = bayes_store_open(urls[_i].url, NULL, &s, &why);

	if (urls[_i].shown == NULL) {
		ck_assert_msg(rc == BAYES_EPERM, "%s accepted", urls[_i].url);
		ck_assert_ptr_nonnull(strstr(buf_cstr(&why), "bad Redis URL"));
	} else {
		ck_assert_msg(rc == BAYES_OK, "%s: %s", urls[_i].url,
		    buf_cstr(&why));
		ck_assert_str_eq(s->spec, urls[_i].shown);
		bayes_store_close(&s);
	}
	buf_release(&why);
}
END_TEST

static struct bayes_store *
open_redis_port(int port, unsigned timeout_ms, unsigned retry_s)
{
	struct bayes_store_opts o = BAYES_STORE_OPTS_DEFAULT;
	struct bayes_store *s;
	struct buf why = BUF_INIT;
	char url[64];

	snprintf(url, sizeof(url), "redis://127.0.0.1:%d/0", port);
	o.timeout_ms = timeout_ms;
	o.retry_s = retry_s;
	ck_assert_int_eq(bayes_store_open(url, &o, &s, &why), BAYES_OK);
	buf_release(&why);
	return s;
}

START_TEST(test_bayes_redis_down_is_temporary_and_fast)
{
	struct bayes_store *s;
	struct bayes_counts c[3];
	struct bayes_totals t;
	struct buf why = BUF_INIT;
	double t0;
	int fd, port;

	/* a port nobody listens on: connection refused */
	fd = silent_listener(&port);
	close(fd);
	s = open_redis_port(port, 300, 5);
	t0 = mono_s();
	ck_assert_int_eq(bayes_store_lookup(s, toks_a, 3, c, &t, &why),
	    BAYES_ETEMP);
	ck_assert(mono_s() - t0 < 1.0);
	/* within the retry window: no new attempt, fails at once */
	buf_reset(&why);
	t0 = mono_s();
	ck_assert_int_eq(bayes_store_lookup(s, toks_a, 3, c, &t, &why),
	    BAYES_ETEMP);
	ck_assert(mono_s() - t0 < 0.01);
	ck_assert_ptr_nonnull(strstr(buf_cstr(&why), "Redis unavailable"));
	ck_assert_uint_eq(c[0].spam + t.nspam, 0);
	buf_release(&why);
	bayes_store_close(&s);
}
END_TEST

START_TEST(test_bayes_redis_silent_server_times_out)
{
	struct bayes_store *s;
	struct bayes_counts c[3];
	struct bayes_totals t;
	struct bayes_learn_msg m;
	struct buf why = BUF_INIT;
	double t0, dt;
	int fd, port;

	/* the kernel completes the handshake; nobody ever replies */
	fd = silent_listener(&port);
	s = open_redis_port(port, 300, 0);
	t0 = mono_s();
	ck_assert_int_eq(bayes_store_lookup(s, toks_a, 3, c, &t, &why),
	    BAYES_ETEMP);
	dt = mono_s() - t0;
	ck_assert_msg(dt >= 0.25 && dt < 1.5, "waited %.3f s", dt);
	msg_init(&m, 1, BAYES_SPAM, BAYES_OP_LEARN, toks_a, 3);
	t0 = mono_s();
	ck_assert_int_eq(bayes_store_learn(s, &m, 1, 1, &why), BAYES_ETEMP);
	dt = mono_s() - t0;
	ck_assert_msg(dt < 1.5, "learn waited %.3f s", dt);
	close(fd);
	buf_release(&why);
	bayes_store_close(&s);
}
END_TEST

START_TEST(test_bayes_redis_recovers_after_restart)
{
	struct redis_server own;
	struct bayes_store *s;
	struct bayes_counts c[3];
	struct bayes_totals t;
	struct buf why = BUF_INIT;

	ck_assert_int_eq(redis_server_start(&own), 0);
	s = open_redis_port(own.port, 300, 0);
	learn1(s, 1, BAYES_SPAM, BAYES_OP_LEARN, toks_a, 3, 1000);
	redis_server_kill(&own);
	ck_assert_int_eq(bayes_store_lookup(s, toks_a, 3, c, &t, &why),
	    BAYES_ETEMP);
	ck_assert_int_eq(redis_server_restart(&own), 0);
	/* no persistence: the data is gone, but the store works again */
	lookup(s, toks_a, 3, c, &t);
	ck_assert_uint_eq(t.nspam, 0);
	learn1(s, 1, BAYES_SPAM, BAYES_OP_LEARN, toks_a, 3, 1000);
	lookup(s, toks_a, 3, c, &t);
	ck_assert_uint_eq(t.nspam, 1);
	bayes_store_close(&s);
	redis_server_stop(&own);
	buf_release(&why);
}
END_TEST

/*
 * Redis restarted while our connection sat idle in the pool: the next
 * lookup must not use the connection the old server closed (and then
 * call a working Redis down for bayes_redis_retry seconds).
 */
START_TEST(test_bayes_redis_restart_while_idle_is_used_at_once)
{
	struct redis_server own;
	struct bayes_store *s;
	struct bayes_counts c[3];
	struct bayes_totals t;
	struct buf why = BUF_INIT;

	ck_assert_int_eq(redis_server_start(&own), 0);
	s = open_redis_port(own.port, 300, 30);
	learn1(s, 1, BAYES_SPAM, BAYES_OP_LEARN, toks_a, 3, 1000);
	redis_server_kill(&own);
	ck_assert_int_eq(redis_server_restart(&own), 0);
	ck_assert_msg(bayes_store_lookup(s, toks_a, 3, c, &t, &why) ==
	    BAYES_OK, "lookup after a restart: %s", buf_cstr(&why));
	bayes_store_close(&s);
	redis_server_stop(&own);
	buf_release(&why);
}
END_TEST

/*
 * Hosts share learning: what one learns the other sees, and several
 * processes learning the same messages at once count each once.
 */
START_TEST(test_bayes_redis_hosts_share_learning)
{
	enum { KIDS = 3, MSGS = 30 };
	struct bayes_store *a = open_b(1, 0), *b = open_b(1, 0);
	struct bayes_counts c[3];
	struct bayes_totals t;
	int k, i, status;
	pid_t pids[KIDS];

	learn1(a, 1000, BAYES_HAM, BAYES_OP_LEARN, toks_b, 2, 1000);
	lookup(b, toks_b, 2, c, &t);
	ck_assert_uint_eq(t.nham, 1);
	ck_assert_uint_eq(c[1].ham, 1);
	for (k = 0; k < KIDS; k++) {
		if ((pids[k] = fork()) == 0) {
			struct bayes_store *w = open_b(1, 0);

			for (i = 0; i < MSGS; i++)
				learn1(w, i, BAYES_SPAM, BAYES_OP_LEARN, toks_a,
				    3, 2000);
			bayes_store_close(&w);
			_exit(0);
		}
		ck_assert_int_gt(pids[k], 0);
	}
	for (k = 0; k < KIDS; k++) {
		ck_assert_int_eq(waitpid(pids[k], &status, 0), pids[k]);
		ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	lookup(b, toks_a, 3, c, &t);
	ck_assert_uint_eq(t.nspam, MSGS);
	ck_assert_uint_eq(c[0].spam, MSGS);
	ck_assert_uint_eq(c[2].spam, MSGS);
	ck_assert_uint_eq(c[1].ham, 0);
	ck_assert_uint_eq(c[2].ham, 1);	/* token 3 is in the ham too */
	bayes_store_close(&a);
	bayes_store_close(&b);
}
END_TEST

START_TEST(test_bayes_redis_prefix_separates_stores)
{
	struct bayes_store_opts o = BAYES_STORE_OPTS_DEFAULT;
	struct bayes_store *a, *b;
	struct bayes_counts c[3];
	struct bayes_totals t;
	struct buf why = BUF_INIT;
	char url[64];

	snprintf(url, sizeof(url), "redis://127.0.0.1:%d/0", rs.port);
	o.prefix = "one:";
	ck_assert_int_eq(bayes_store_open(url, &o, &a, &why), BAYES_OK);
	o.prefix = "two:";
	ck_assert_int_eq(bayes_store_open(url, &o, &b, &why), BAYES_OK);
	learn1(a, 1, BAYES_SPAM, BAYES_OP_LEARN, toks_a, 3, 1000);
	lookup(b, toks_a, 3, c, &t);
	ck_assert_uint_eq(t.nspam, 0);
	ck_assert_uint_eq(c[0].spam, 0);
	lookup(a, toks_a, 3, c, &t);
	ck_assert_uint_eq(t.nspam, 1);
	bayes_store_close(&a);
	bayes_store_close(&b);
	buf_release(&why);
}
END_TEST

static Suite *
store_suite(void)
{
	Suite *s = suite_create("bayes_store");
	TCase *tc = tcase_create("backends");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_bayes_store_learn_then_lookup, 0, nbackends);
	tcase_add_loop_test(tc, test_bayes_store_lookup_many_in_any_order, 0,
	    nbackends);
	tcase_add_loop_test(tc, test_bayes_store_same_message_twice_counts_once, 0, nbackends);
	tcase_add_loop_test(tc, test_bayes_store_relearn_moves_counts, 0, nbackends);
	tcase_add_loop_test(tc, test_bayes_store_forget_reverses_learning, 0, nbackends);
	tcase_add_loop_test(tc, test_bayes_store_counts_never_negative, 0, nbackends);
	tcase_add_loop_test(tc, test_bayes_store_dump_load_round_trip, 0, nbackends);
	tcase_add_loop_test(tc, test_bayes_store_load_rejects_malformed_dump, 0,
	    sizeof(bad_dumps) / sizeof(bad_dumps[0]));
	tcase_add_loop_test(tc, test_bayes_store_prune_drops_stale_rare_tokens, 0, nbackends);
	suite_add_tcase(s, tc);

	tc = tcase_create("lmdb");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_bayes_store_prune_many_spans_transactions);
	tcase_add_test(tc, test_bayes_store_map_grows_when_full);
	tcase_add_test(tc, test_bayes_store_shared_within_process);
	tcase_add_test(tc, test_bayes_store_readonly_refuses_writes);
	tcase_add_test(tc, test_bayes_store_rejects_plain_file_and_empty_spec);
	tcase_add_loop_test(tc,
	    test_bayes_store_readers_see_consistent_snapshots_while_training,
	    0, 2);
	tcase_add_test(tc, test_bayes_tokmap_grows_and_reads_absent_as_zero);
	tcase_add_test(tc, test_bayes_store_memory_copy_equals_lmdb);
	tcase_add_test(tc, test_bayes_store_memory_copy_follows_other_process);
	tcase_add_test(tc, test_bayes_store_memory_bound_falls_back_to_lmdb);
	suite_add_tcase(s, tc);

	tc = tcase_create("redis");
	tcase_add_loop_test(tc, test_bayes_redis_url_forms, 0,
	    sizeof(urls) / sizeof(urls[0]));
	tcase_add_test(tc, test_bayes_redis_down_is_temporary_and_fast);
	tcase_add_test(tc, test_bayes_redis_silent_server_times_out);
	if (have_redis) {
		tcase_add_checked_fixture(tc, setup, teardown);
		tcase_set_timeout(tc, 60);
		tcase_add_test(tc, test_bayes_redis_recovers_after_restart);
		tcase_add_test(tc,
		    test_bayes_redis_restart_while_idle_is_used_at_once);
		tcase_add_test(tc, test_bayes_redis_hosts_share_learning);
		tcase_add_test(tc, test_bayes_redis_prefix_separates_stores);
	}
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	int rc;

	if (redis_server_start(&rs) == 0) {
		have_redis = true;
		nbackends = 2;
	} else
		fprintf(stderr, "redis-server %s: Redis tests skipped\n",
		    redis_server_path() ? "would not start" : "not installed");
	rc = run_suite(store_suite());
	if (have_redis)
		redis_server_stop(&rs);
	return rc;
}
