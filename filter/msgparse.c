/*
 * msgparse.c - message file to header fields + CRLF body
 *
 * SECURITY
 *	Input is arbitrary bytes.  Memory per message is bounded by
 *	MSG_MAX_FIELD_VALUE for the field being assembled plus a fixed body
 *	staging buffer; no step is worse than linear in the input.
 */
#include "config.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "msg.h"
#include "msgparse.h"
#include "str.h"

#define FIELD_CAP	(MSG_MAX_FIELD_VALUE + MSG_MAX_FIELD_NAME + 2)
#define BODY_STAGE	65536

enum mp_state {
	MP_START,		/* before the first byte */
	MP_HEADERS,
	MP_BODY
};

struct msgparse {
	struct msg *msg;
	struct msgparse_cb cb;
	enum mp_state state;
	struct buf line;	/* current header line (without LF) */
	size_t	 line_over;	/* bytes of this line beyond the cap */
	struct buf field;	/* current field, continuation lines joined */
	size_t	 field_over;
	bool	 have_field;
	bool	 first_line;
	struct buf stage;	/* body bytes waiting for the callback */
	char	 last;		/* previous body byte, for bare-LF repair */
};

struct msgparse *
msgparse_new(struct msg *m, const struct msgparse_cb *cb)
{
	struct msgparse *p = xcalloc(1, sizeof(*p));

	p->msg = m;
	p->cb = *cb;
	p->state = MP_HEADERS;
	p->first_line = true;
	return p;
}

void
msgparse_free(struct msgparse *p)
{
	if (p == NULL)
		return;
	buf_release(&p->line);
	buf_release(&p->field);
	buf_release(&p->stage);
	free(p);
}

static void
flush_stage(struct msgparse *p)
{
	if (p->stage.len) {
		p->cb.body(p->cb.arg, p->stage.data, p->stage.len);
		buf_reset(&p->stage);
	}
}

/* body_bytes - pass body bytes on, turning bare LF into CRLF */
static void
body_bytes(struct msgparse *p, const char *s, size_t n)
{
	size_t i = 0, start = 0;
	const char *nl;

	/*
	 * Line ends found with memchr; the stage only grows where a bare
	 * LF becomes CRLF (it is below BODY_STAGE on entry), so that is
	 * where it may need flushing.
	 */
	while (i < n && (nl = memchr(s + i, '\n', n - i)) != NULL) {
		i = (size_t)(nl - s);
		if ((i > 0 ? s[i - 1] : p->last) != '\r') {
			buf_add(&p->stage, s + start, i - start);
			buf_add(&p->stage, "\r\n", 2);
			start = i + 1;
			if (p->stage.len >= BODY_STAGE)
				flush_stage(p);
		}
		i++;
	}
	buf_add(&p->stage, s + start, n - start);
	if (n)
		p->last = s[n - 1];
	if (p->stage.len >= BODY_STAGE)
		flush_stage(p);
}

/* finish_field - hand the assembled field to the message */
static void
finish_field(struct msgparse *p)
{
	char *colon;
	size_t nlen;

	if (!p->have_field)
		return;
	colon = memchr(p->field.data, ':', p->field.len);
	nlen = (size_t)(colon - p->field.data);
	while (nlen > 0 && ch_is_wsp((unsigned char)p->field.data[nlen - 1]))
		nlen--;		/* obsolete "Name :" syntax */
	msg_add_header(p->msg, p->field.data, nlen, colon + 1,
	    p->field.len - (size_t)(colon + 1 - p->field.data));
	if (p->field_over) {
		p->msg->hdr_bytes += p->field_over;
		p->msg->flags |= MSG_F_FIELD_TRUNCATED;
	}
	buf_reset(&p->field);
	p->field_over = 0;
	p->have_field = false;
}

static void
end_headers(struct msgparse *p)
{
	finish_field(p);
	p->state = MP_BODY;
	p->cb.eoh(p->cb.arg);
}

/* is_field_start - "name:" with a non-empty name free of white space */
static bool
is_field_start(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (s[i] == ':')
			return i > 0;
		if (ch_is_wsp((unsigned char)s[i])) {
			/* allow "Name   :" but not "two words:" */
			size_t j = i;

			while (j < n && ch_is_wsp((unsigned char)s[j]))
				j++;
			return i > 0 && j < n && s[j] == ':';
		}
		if ((unsigned char)s[i] < 33)
			return false;
	}
	return false;
}

/* header_line - one complete line of the header section */
static void
header_line(struct msgparse *p)
{
	char *s = p->line.data ? p->line.data : "";
	size_t n = p->line.len;

	if (n > 0 && s[n - 1] == '\r')
		n--;
	if (p->first_line) {
		p->first_line = false;
		if (n >= 5 && memcmp(s, "From ", 5) == 0)
			return;
	}
	if (n == 0 && p->line_over == 0) {
		end_headers(p);
		return;
	}
	if (ch_is_wsp((unsigned char)s[0]) && p->have_field) {
		size_t room = p->field.len < FIELD_CAP ? FIELD_CAP - p->field.len : 0;
		size_t add = n + 2;

		if (add <= room) {
			buf_add(&p->field, "\r\n", 2);
			buf_add(&p->field, s, n);
		} else {
			p->field_over += add;
		}
		p->field_over += p->line_over;
		return;
	}
	if (is_field_start(s, n)) {
		finish_field(p);
		buf_add(&p->field, s, n);
		p->field_over = p->line_over;
		p->have_field = true;
		return;
	}
	/* not a header: the body starts with this line */
	end_headers(p);
	body_bytes(p, s, n);
	body_bytes(p, "\r\n", 2);
}

void
msgparse_push(struct msgparse *p, const void *data, size_t n)
{
	const char *s = data, *end = s + n;

	while (s < end && p->state == MP_HEADERS) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		size_t take = (size_t)((nl ? nl : end) - s);
		size_t room = p->line.len < FIELD_CAP ? FIELD_CAP - p->line.len : 0;

		if (take <= room)
			buf_add(&p->line, s, take);
		else {
			buf_add(&p->line, s, room);
			p->line_over += take - room;
		}
		if (nl == NULL)
			return;
		s = nl + 1;
		header_line(p);
		buf_reset(&p->line);
		p->line_over = 0;
	}
	if (s < end)
		body_bytes(p, s, (size_t)(end - s));
}

void
msgparse_end(struct msgparse *p)
{
	if (p->state == MP_HEADERS) {
		if (p->line.len || p->line_over)
			header_line(p);
		if (p->state == MP_HEADERS)
			end_headers(p);
	}
	flush_stage(p);
}

static void
text_eoh(void *arg)
{
	(void)arg;
}

static void
text_body(void *arg, const void *p, size_t n)
{
	msg_add_body(arg, p, n);
}

void
msgparse_text(struct msg *m, const void *text, size_t len)
{
	struct msgparse_cb cb = { text_eoh, text_body, m };
	struct msgparse *p = msgparse_new(m, &cb);

	msgparse_push(p, text, len);
	msgparse_end(p);
	msgparse_free(p);
}
