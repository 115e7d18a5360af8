/*
 * check_dkim_canon.c - DKIM header and body canonicalisation
 */
#include "config.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "dkim_int.h"
#include "helpers.h"
#include "msg.h"

static void
capture(void *arg, const unsigned char *p, size_t n)
{
	buf_add(arg, p, n);
}

/* canon_chunks - canonicalise in pieces of at most step bytes */
static void
canon_chunks(enum dkim_canon mode, const char *in, size_t len, size_t step,
    struct buf *out)
{
	struct dkim_body *b = xmalloc(sizeof(*b));
	size_t off, take;

	dkim_body_init(b, mode, capture, out);
	for (off = 0; off < len; off += take) {
		take = len - off < step ? len - off : step;
		dkim_body_update(b, in + off, take);
	}
	dkim_body_final(b);
	free(b);
}

static const struct {
	const char *name;
	enum dkim_canon mode;
	const char *in, *want;
} body_cases[] = {
	/* RFC 6376 3.4.5 */
	{ "rfc6376 example simple", DKIM_CANON_SIMPLE,
	  " C \r\nD \t E\r\n\r\n\r\n", " C \r\nD \t E\r\n" },
	{ "rfc6376 example relaxed", DKIM_CANON_RELAXED,
	  " C \r\nD \t E\r\n\r\n\r\n", " C\r\nD E\r\n" },
	/* RFC 6376 3.4.3 / 3.4.4 and errata 1384 on empty bodies */
	{ "empty body simple is one CRLF", DKIM_CANON_SIMPLE, "", "\r\n" },
	{ "empty body relaxed stays empty", DKIM_CANON_RELAXED, "", "" },
	{ "only empty lines simple", DKIM_CANON_SIMPLE, "\r\n\r\n\r\n",
	  "\r\n" },
	{ "only empty lines relaxed", DKIM_CANON_RELAXED, "\r\n\r\n", "" },
	{ "only white space lines relaxed", DKIM_CANON_RELAXED,
	  " \r\n\t\t\r\n  ", "" },
	{ "white space line simple is kept", DKIM_CANON_SIMPLE, " \r\n",
	  " \r\n" },
	{ "missing final CRLF simple", DKIM_CANON_SIMPLE, "abc", "abc\r\n" },
	{ "missing final CRLF relaxed", DKIM_CANON_RELAXED, "abc \t",
	  "abc\r\n" },
	{ "inner empty lines kept", DKIM_CANON_RELAXED,
	  "a\r\n \r\n\r\nb\r\n\r\n", "a\r\n\r\n\r\nb\r\n" },
	{ "leading white space collapses to one SP", DKIM_CANON_RELAXED,
	  "\t\t x  y \r\n", " x y\r\n" },
	{ "lone CR is text simple", DKIM_CANON_SIMPLE, "a\rb\r\n",
	  "a\rb\r\n" },
	{ "lone CR is text relaxed", DKIM_CANON_RELAXED, "a \r b\r\n",
	  "a \r b\r\n" },
	{ "trailing lone CR", DKIM_CANON_RELAXED, "a\r", "a\r\r\n" },
	{ "bare LF is text simple", DKIM_CANON_SIMPLE, "a\nb\n\n",
	  "a\nb\n\n\r\n" },
	{ "bare LF is text relaxed", DKIM_CANON_RELAXED, "a \n b\r\n\n",
	  "a \n b\r\n\n\r\n" },
	{ "CR before CRLF at end simple", DKIM_CANON_SIMPLE, "a\r\r\n\r\n",
	  "a\r\r\n" },
	{ "CRLF only body with text after", DKIM_CANON_SIMPLE,
	  "\r\n\r\nx", "\r\n\r\nx\r\n" },
	{ "CR CR LF", DKIM_CANON_SIMPLE, "a\r\r\n", "a\r\r\n" },
	{ "NUL bytes are text", DKIM_CANON_RELAXED, "a\0 b\r\n",
	  "a\0 b\r\n" },
};

START_TEST(test_dkim_canon_body_vectors)
{
	const char *in = body_cases[_i].in, *want = body_cases[_i].want;
	size_t len = strlen(in), wlen = strlen(want), step;

	/* NUL case: explicit lengths */
	if (strcmp(body_cases[_i].name, "NUL bytes are text") == 0) {
		len = 6;
		wlen = 6;
	}
	for (step = 1; step <= len + 1; step++) {
		struct buf out = BUF_INIT;

		canon_chunks(body_cases[_i].mode, in, len, step, &out);
		ck_assert_msg(out.len == wlen && memcmp(out.data ? out.data : "",
		    want, wlen) == 0, "%s (chunks of %zu): got %zu bytes",
		    body_cases[_i].name, step, out.len);
		buf_release(&out);
	}
}
END_TEST

START_TEST(test_dkim_canon_body_split_everywhere)
{
	/* every two-way split of a tricky body gives the same output */
	static const char in[] = "  a \t b  \r\n\r\n \r\nc\rd\r\n\r\n\t\r\n";
	enum dkim_canon mode = _i ? DKIM_CANON_RELAXED : DKIM_CANON_SIMPLE;
	size_t len = sizeof(in) - 1, cut;
	struct buf whole = BUF_INIT;

	canon_chunks(mode, in, len, len, &whole);
	for (cut = 0; cut <= len; cut++) {
		struct dkim_body *b = xmalloc(sizeof(*b));
		struct buf out = BUF_INIT;

		dkim_body_init(b, mode, capture, &out);
		dkim_body_update(b, in, cut);
		dkim_body_update(b, in + cut, len - cut);
		dkim_body_final(b);
		ck_assert_msg(out.len == whole.len &&
		    memcmp(out.data, whole.data, out.len) == 0,
		    "mode %d split at %zu differs", (int)mode, cut);
		ck_assert_uint_eq(b->total, whole.len);
		free(b);
		buf_release(&out);
	}
	buf_release(&whole);
}
END_TEST

/* body_hash - base64 SHA-256 of the canonical body */
static void
body_hash(enum dkim_canon mode, const char *in, struct buf *b64)
{
	struct buf out = BUF_INIT;
	unsigned char d[32];
	unsigned dl;

	canon_chunks(mode, in, strlen(in), 7, &out);
	EVP_Digest(out.data ? out.data : "", out.len, d, &dl,
	    dkim_md(DKIM_HASH_SHA256), NULL);
	dkim_b64_encode(d, dl, b64);
	buf_release(&out);
}

static const struct {
	const char *name;
	enum dkim_canon mode;
	const char *body, *bh;
} bh_cases[] = {
	{ "empty simple", DKIM_CANON_SIMPLE, "",
	  "frcCV1k9oG9oKj3dpUqdJg1PxRT2RSN/XKdLCPjaYaY=" },
	{ "empty relaxed", DKIM_CANON_RELAXED, "",
	  "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=" },
	/* RFC 6376 Appendix A body (errata 3192), bh= of its signature */
	{ "rfc6376 appendix A", DKIM_CANON_SIMPLE,
	  "Hi.\r\n\r\nWe lost the game. Are you hungry yet?\r\n\r\nJoe.\r\n",
	  "2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=" },
	/* RFC 8463 A.3: two spaces, relaxed: the same hash */
	{ "rfc8463 appendix A relaxed", DKIM_CANON_RELAXED,
	  "Hi.\r\n\r\nWe lost the game.  Are you hungry yet?\r\n\r\nJoe.\r\n",
	  "2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=" },
};

START_TEST(test_dkim_canon_body_hash_vectors)
{
	struct buf b64 = BUF_INIT;

	body_hash(bh_cases[_i].mode, bh_cases[_i].body, &b64);
	ck_assert_msg(strcmp(b64.data, bh_cases[_i].bh) == 0, "%s: got %s",
	    bh_cases[_i].name, b64.data);
	buf_release(&b64);
}
END_TEST

static const struct {
	const char *name;
	enum dkim_canon mode;
	const char *fname, *value, *want;
} hdr_cases[] = {
	/* RFC 6376 3.4.5 */
	{ "rfc6376 A relaxed", DKIM_CANON_RELAXED, "A", " X", "a:X" },
	{ "rfc6376 B relaxed", DKIM_CANON_RELAXED, "B ", " Y\t\r\n\tZ  ",
	  "b:Y Z" },
	{ "rfc6376 A simple", DKIM_CANON_SIMPLE, "A", " X", "A: X" },
	{ "rfc6376 B simple", DKIM_CANON_SIMPLE, "B ", " Y\t\r\n\tZ  ",
	  "B : Y\t\r\n\tZ  " },
	{ "relaxed empty value", DKIM_CANON_RELAXED, "Subject", "", "subject:" },
	{ "relaxed folded first line", DKIM_CANON_RELAXED, "To",
	  "\r\n  a@b,\r\n\tc@d", "to:a@b, c@d" },
	{ "relaxed keeps case of value", DKIM_CANON_RELAXED, "X-Y", " AbC",
	  "x-y:AbC" },
};

START_TEST(test_dkim_canon_header_vectors)
{
	struct buf out = BUF_INIT;

	dkim_canon_header(hdr_cases[_i].mode, hdr_cases[_i].fname,
	    strlen(hdr_cases[_i].fname), hdr_cases[_i].value,
	    strlen(hdr_cases[_i].value), &out);
	ck_assert_msg(strcmp(buf_cstr(&out), hdr_cases[_i].want) == 0,
	    "%s: got '%s'", hdr_cases[_i].name, buf_cstr(&out));
	buf_release(&out);
}
END_TEST

START_TEST(test_dkim_canon_header_selection_is_bottom_up)
{
	struct hdr h[] = {
		{ "A", 1, " 1", 2 }, { "B", 1, " 2", 2 }, { "a", 1, " 3", 2 },
	};
	char *names[] = { "a", "A", "a", "b" };
	static const char want[] = "a:3\r\na:1\r\nb:2\r\n";
	unsigned char d1[32], d2[32];
	unsigned l1, l2;
	struct buf scratch = BUF_INIT;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	EVP_DigestInit_ex(ctx, dkim_md(DKIM_HASH_SHA256), NULL);
	dkim_hash_headers(ctx, DKIM_CANON_RELAXED, h, 3, names, 4, (size_t)-1,
	    &scratch);
	EVP_DigestFinal_ex(ctx, d1, &l1);
	EVP_Digest(want, sizeof(want) - 1, d2, &l2, dkim_md(DKIM_HASH_SHA256),
	    NULL);
	ck_assert_mem_eq(d1, d2, 32);

	/* skipping field 2 (the signature itself) */
	EVP_DigestInit_ex(ctx, dkim_md(DKIM_HASH_SHA256), NULL);
	dkim_hash_headers(ctx, DKIM_CANON_RELAXED, h, 3, names, 2, 2,
	    &scratch);
	EVP_DigestFinal_ex(ctx, d1, &l1);
	EVP_Digest("a:1\r\n", 5, d2, &l2, dkim_md(DKIM_HASH_SHA256), NULL);
	ck_assert_mem_eq(d1, d2, 32);
	EVP_MD_CTX_free(ctx);
	buf_release(&scratch);
}
END_TEST

START_TEST(test_dkim_canon_body_counts_total_past_limit)
{
	struct buf out = BUF_INIT;
	struct dkim_body *b = xmalloc(sizeof(*b));
	char *big = xmalloc(100000);
	size_t i;

	for (i = 0; i < 100000; i++)
		big[i] = i % 80 == 78 ? '\r' : i % 80 == 79 ? '\n' : 'x';
	dkim_body_init(b, DKIM_CANON_SIMPLE, capture, &out);
	dkim_body_update(b, big, 100000);
	dkim_body_final(b);
	ck_assert_uint_eq(b->total, out.len);
	ck_assert_uint_eq(out.len, 100000);
	ck_assert(memcmp(out.data, big, 100000) == 0);
	free(b);
	free(big);
	buf_release(&out);
}
END_TEST

/*
 * ref_relaxed - RFC 6376 3.4.4 the plain way, for comparison: split at
 * CRLF (a lone CR or LF is text), each WSP run one SP, none at a line
 * end, no empty lines at the end, every line ended by CRLF
 */
static void
ref_relaxed(const char *in, size_t len, struct buf *out)
{
	struct buf line = BUF_INIT;
	size_t i, nempty = 0;
	bool wsp = false;

	for (i = 0; i <= len; i++) {
		bool eol = i == len || (in[i] == '\r' && i + 1 < len &&
		    in[i + 1] == '\n');

		if (!eol) {
			if (in[i] == ' ' || in[i] == '\t') {
				wsp = true;
				continue;
			}
			if (wsp)
				buf_addc(&line, ' ');
			wsp = false;
			buf_addc(&line, in[i]);
			continue;
		}
		/* a line ends (or the input, mid-line) */
		if (line.len == 0)
			nempty += i < len;	/* an empty line, if CRLF */
		else {
			for (; nempty > 0; nempty--)
				buf_add(out, "\r\n", 2);
			buf_add(out, line.data, line.len);
			buf_add(out, "\r\n", 2);
		}
		buf_reset(&line);
		wsp = false;
		i += i < len;		/* the LF */
	}
	buf_release(&line);
}

START_TEST(test_dkim_canon_relaxed_matches_reference)
{
	/*
	 * Random bodies rich in SP, HTAB, CR and LF, fed in random
	 * chunks: the word-at-a-time scan for text runs must give what
	 * the plain definition gives, wherever a WSP run, a CR or a chunk
	 * end falls in an 8-byte word.
	 */
	static const char alpha[] = "aaaaabxy       \t\t\r\r\n\n";
	unsigned seed = 12345;
	char in[300];
	int iter;

	for (iter = 0; iter < 20000; iter++) {
		struct buf want = BUF_INIT, got = BUF_INIT;
		struct dkim_body *b = xmalloc(sizeof(*b));
		size_t len, k, off, take;

		seed = seed * 1103515245u + 12345u;
		len = (seed >> 8) % sizeof(in);
		for (k = 0; k < len; k++) {
			seed = seed * 1103515245u + 12345u;
			in[k] = alpha[(seed >> 16) % (sizeof(alpha) - 1)];
		}
		ref_relaxed(in, len, &want);
		dkim_body_init(b, DKIM_CANON_RELAXED, capture, &got);
		for (off = 0; off < len; off += take) {
			seed = seed * 1103515245u + 12345u;
			take = 1 + (seed >> 8) % 64;
			if (take > len - off)
				take = len - off;
			dkim_body_update(b, in + off, take);
		}
		dkim_body_final(b);
		ck_assert_msg(got.len == want.len && (want.len == 0 ||
		    memcmp(got.data, want.data, want.len) == 0),
		    "iteration %d: %zu bytes in, %zu out, want %zu", iter,
		    len, got.len, want.len);
		free(b);
		buf_release(&want);
		buf_release(&got);
	}
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("dkim_canon");
	TCase *tc = tcase_create("body");

	tcase_add_loop_test(tc, test_dkim_canon_body_vectors, 0,
	    sizeof(body_cases) / sizeof(body_cases[0]));
	tcase_add_loop_test(tc, test_dkim_canon_body_split_everywhere, 0, 2);
	tcase_add_loop_test(tc, test_dkim_canon_body_hash_vectors, 0,
	    sizeof(bh_cases) / sizeof(bh_cases[0]));
	tcase_add_test(tc, test_dkim_canon_body_counts_total_past_limit);
	tcase_add_test(tc, test_dkim_canon_relaxed_matches_reference);
	suite_add_tcase(s, tc);
	tc = tcase_create("header");
	tcase_add_loop_test(tc, test_dkim_canon_header_vectors, 0,
	    sizeof(hdr_cases) / sizeof(hdr_cases[0]));
	tcase_add_test(tc, test_dkim_canon_header_selection_is_bottom_up);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(suite());
}
