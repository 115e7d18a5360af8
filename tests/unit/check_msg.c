/*
 * check_msg.c - message assembly, caps, and the message file parser
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "helpers.h"
#include "msg.h"
#include "msgparse.h"

static const struct msg_limits small = { 1000, 4096, 20, 10 };

struct collected {
	struct msg *m;
	int eoh;
	struct buf body;
};

static void
c_eoh(void *arg)
{
	((struct collected *)arg)->eoh++;
}

static void
c_body(void *arg, const void *p, size_t n)
{
	buf_add(&((struct collected *)arg)->body, p, n);
}

/* parse_in_chunks - feed text in pieces of step bytes */
static void
parse_in_chunks(struct collected *c, const char *text, size_t len, size_t step)
{
	struct msgparse_cb cb = { c_eoh, c_body, c };
	struct msgparse *mp;
	size_t off;

	c->m = msg_new(&small);
	c->eoh = 0;
	buf_init(&c->body);
	mp = msgparse_new(c->m, &cb);
	for (off = 0; off < len; off += step)
		msgparse_push(mp, text + off, len - off < step ? len - off : step);
	msgparse_end(mp);
	msgparse_free(mp);
}

static void
collected_free(struct collected *c)
{
	msg_free(&c->m);
	buf_release(&c->body);
}

START_TEST(test_msgparse_fields_folding_and_crlf_body)
{
	static const char text[] = "From mbox-line Thu Nov 26 00:00:00 2026\n"
	    "Subject: hello\n\tworld\nX-Empty:\nFrom: a@example.org\n\n"
	    "line one\nline two\r\n";
	struct collected c;
	size_t step;

	/* the same result whatever the chunking */
	for (step = 1; step <= sizeof(text); step += 7) {
		parse_in_chunks(&c, text, sizeof(text) - 1, step);
		ck_assert_int_eq(c.eoh, 1);
		ck_assert_uint_eq(c.m->nhdrs, 3);
		ck_assert_str_eq(c.m->hdrs[0].name, "Subject");
		ck_assert_str_eq(c.m->hdrs[0].value, " hello\r\n\tworld");
		ck_assert_str_eq(c.m->hdrs[1].value, "");
		ck_assert_str_eq(c.body.data, "line one\r\nline two\r\n");
		collected_free(&c);
	}
}
END_TEST

START_TEST(test_msgparse_line_without_colon_starts_body)
{
	static const char text[] = "Subject: x\nthis is not a header\n"
	    "To: b@example.org\n\nrest\n";
	struct collected c;

	parse_in_chunks(&c, text, sizeof(text) - 1, 4096);
	ck_assert_uint_eq(c.m->nhdrs, 1);
	ck_assert_str_eq(c.body.data,
	    "this is not a header\r\nTo: b@example.org\r\n\r\nrest\r\n");
	collected_free(&c);
}
END_TEST

START_TEST(test_msgparse_headers_only_and_empty_input)
{
	struct collected c;

	parse_in_chunks(&c, "Subject: no body", 16, 4096);
	ck_assert_int_eq(c.eoh, 1);
	ck_assert_uint_eq(c.m->nhdrs, 1);
	ck_assert_uint_eq(c.body.len, 0);
	collected_free(&c);
	parse_in_chunks(&c, "", 0, 1);
	ck_assert_int_eq(c.eoh, 1);
	ck_assert_uint_eq(c.m->nhdrs, 0);
	collected_free(&c);
}
END_TEST

START_TEST(test_msgparse_huge_header_is_capped_not_lost)
{
	size_t big = 2 * 1024 * 1024, i;
	char *text = malloc(big + 64);
	struct collected c;
	struct msg_limits lim = { 1000, 8 * 1024 * 1024, 100, 10 };
	struct msgparse_cb cb = { c_eoh, c_body, &c };
	struct msgparse *mp;

	memcpy(text, "X-Big: ", 7);
	for (i = 7; i < big; i++)
		text[i] = 'a' + (char)(i % 26);
	memcpy(text + big, "\nSubject: after\n\nbody\n", 23);
	c.m = msg_new(&lim);
	c.eoh = 0;
	buf_init(&c.body);
	mp = msgparse_new(c.m, &cb);
	msgparse_push(mp, text, big + 22);
	msgparse_end(mp);
	msgparse_free(mp);
	ck_assert_uint_eq(c.m->nhdrs, 2);
	ck_assert_uint_le(c.m->hdrs[0].value_len, MSG_MAX_FIELD_VALUE);
	ck_assert(c.m->flags & MSG_F_FIELD_TRUNCATED);
	ck_assert_str_eq(c.m->hdrs[1].value, " after");
	/* the size still counts every byte */
	ck_assert_uint_ge(c.m->hdr_bytes, big);
	ck_assert_str_eq(c.body.data, "body\r\n");
	collected_free(&c);
	free(text);
}
END_TEST

START_TEST(test_msg_nul_and_8bit_headers_flagged)
{
	struct msg *m = msg_new(&small);

	msg_add_header(m, "X-Nul", 5, " a\0b", 4);
	ck_assert(m->flags & MSG_F_HDR_NUL);
	ck_assert_uint_eq(m->hdrs[0].value_len, 4);
	msg_add_header(m, "X-Utf8", 6, " caf\xc3\xa9", 6);
	ck_assert(!(m->flags & MSG_F_HDR_8BIT));
	msg_add_header(m, "X-Latin1", 8, " caf\xe9", 5);
	ck_assert(m->flags & MSG_F_HDR_8BIT);
	msg_add_header(m, "Bad Name", 8, " x", 2);
	ck_assert(m->flags & MSG_F_HDR_BADNAME);
	msg_free(&m);
	ck_assert_ptr_null(m);
}
END_TEST

START_TEST(test_msg_header_sp_forms)
{
	/*
	 * the milter's form: the SP libmilter took goes back before a
	 * non-empty value, a bare LF becomes CRLF, the name stays NUL-ended
	 * beside its value, and both count towards the wire size
	 */
	struct msg *m = msg_new(&small);

	msg_add_header_sp(m, "Subject", 7, "a\n\tb", 4, true);
	msg_add_header_sp(m, "X-Empty", 7, "", 0, true);
	msg_add_header_sp(m, "X-Kept", 6, " c", 2, false);
	ck_assert_uint_eq(m->nhdrs, 3);
	ck_assert_str_eq(m->hdrs[0].name, "Subject");
	ck_assert_uint_eq(m->hdrs[0].name_len, 7);
	ck_assert_str_eq(m->hdrs[0].value, " a\r\n\tb");
	ck_assert_uint_eq(m->hdrs[0].value_len, 6);
	ck_assert_str_eq(m->hdrs[1].value, "");
	ck_assert_uint_eq(m->hdrs[1].value_len, 0);
	ck_assert_str_eq(m->hdrs[2].name, "X-Kept");
	ck_assert_str_eq(m->hdrs[2].value, " c");
	/* name:value CRLF, the SP included: 7+1+5+2, 7+1+0+2, 6+1+2+2 */
	ck_assert_uint_eq(m->hdr_bytes, 15 + 10 + 11);
	ck_assert_ptr_nonnull(msg_header(m, "subject", 0));
	msg_free(&m);
}
END_TEST

START_TEST(test_msg_caps_headers_rcpts_body)
{
	struct msg *m = msg_new(&small);
	char body[600];
	int i;

	for (i = 0; i < 30; i++)
		msg_add_header(m, "X-N", 3, " v", 2);
	ck_assert_uint_eq(m->nhdrs, small.max_headers);
	ck_assert(m->flags & MSG_F_HDRS_TRUNCATED);
	for (i = 0; i < 5000; i++)
		msg_add_rcpt(m, "<r@example.org>");
	ck_assert_uint_eq(m->nrcpts, small.max_rcpts);
	ck_assert_uint_eq(m->nrcpts_seen, 5000);
	ck_assert(m->flags & MSG_F_RCPTS_TRUNCATED);
	ck_assert_str_eq(m->rcpts[0], "r@example.org");
	memset(body, 'x', sizeof(body));
	msg_add_body(m, body, sizeof(body));
	msg_add_body(m, body, sizeof(body));
	ck_assert_uint_eq(m->body.len, small.max_body);
	ck_assert_uint_eq(m->body_size, 2 * sizeof(body));
	ck_assert(m->flags & MSG_F_BODY_TRUNCATED);
	msg_free(&m);
}
END_TEST

START_TEST(test_msg_envelope_forms)
{
	struct msg *m = msg_new(&small);

	msg_set_sender(m, "<>");
	ck_assert_str_eq(m->mail_from, "");
	msg_set_sender(m, " <a@example.org> ");
	ck_assert_str_eq(m->mail_from, "a@example.org");
	msg_set_client(m, "not-an-ip", "host");
	ck_assert_str_eq(m->client_ip, "");
	msg_set_client(m, "2001:db8::1", NULL);
	ck_assert_str_eq(m->client_ip, "2001:db8::1");
	msg_free(&m);
}
END_TEST

static Suite *
msg_suite(void)
{
	Suite *s = suite_create("msg");
	TCase *tc = tcase_create("parse");

	tcase_add_test(tc, test_msgparse_fields_folding_and_crlf_body);
	tcase_add_test(tc, test_msgparse_line_without_colon_starts_body);
	tcase_add_test(tc, test_msgparse_headers_only_and_empty_input);
	tcase_add_test(tc, test_msgparse_huge_header_is_capped_not_lost);
	suite_add_tcase(s, tc);
	tc = tcase_create("limits");
	tcase_add_test(tc, test_msg_nul_and_8bit_headers_flagged);
	tcase_add_test(tc, test_msg_header_sp_forms);
	tcase_add_test(tc, test_msg_caps_headers_rcpts_body);
	tcase_add_test(tc, test_msg_envelope_forms);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(msg_suite());
}
