/*
 * msg.c - message assembly with caps
 *
 * SECURITY
 *	Everything stored here comes from the network.  Each piece is
 *	capped (see msg.h LIMITS) before it is copied.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "hdr.h"
#include "msg.h"
#include "str.h"

void
msg_limits_from_conf(struct msg_limits *lim, const struct conf *c)
{
	lim->max_body = (size_t)c->max_scan_bytes;
	lim->max_header_bytes = (size_t)c->max_header_bytes;
	lim->max_headers = (size_t)c->max_headers;
	lim->max_rcpts = (size_t)c->max_rcpts;
}

struct msg *
msg_new(const struct msg_limits *lim)
{
	struct msg *m = xcalloc(1, sizeof(*m));

	m->lim = *lim;
	return m;
}

/* capped_dup - copy of an envelope string, cut at MSG_MAX_ENVELOPE */
static char *
capped_dup(const char *s)
{
	size_t n;

	if (s == NULL)
		return NULL;
	n = strnlen(s, MSG_MAX_ENVELOPE);
	return xstrndup(s, n);
}

void
msg_reset_transaction(struct msg *m)
{
	size_t i;

	free(m->queue_id);
	free(m->auth_user);
	free(m->mail_from);
	m->queue_id = m->auth_user = m->mail_from = NULL;
	for (i = 0; i < m->nrcpts; i++)
		free(m->rcpts[i]);
	free(m->rcpts);
	m->rcpts = NULL;
	m->nrcpts = m->nrcpts_seen = 0;
	for (i = 0; i < m->nhdrs; i++)
		free(m->hdrs[i].name);	/* the value is in the same block */
	free(m->hdrs);
	m->hdrs = NULL;
	m->nhdrs = m->hdrs_cap = 0;
	m->hdr_bytes = 0;
	buf_release(&m->body);
	m->body_size = 0;
	m->flags = 0;
}

void
msg_free(struct msg **mp)
{
	struct msg *m = *mp;

	if (m == NULL)
		return;
	msg_reset_transaction(m);
	free(m->client_name);
	free(m->helo);
	free(m->mta_name);
	free(m);
	*mp = NULL;
}

void
msg_set_client_addr(struct msg *m, const struct netaddr *na, const char *name)
{
	m->client_addr = *na;
	netaddr_format(na, m->client_ip, sizeof(m->client_ip));
	free(m->client_name);
	m->client_name = capped_dup(name ? name : "");
}

void
msg_set_client(struct msg *m, const char *ip, const char *name)
{
	struct netaddr na;

	if (ip == NULL || netaddr_parse(ip, &na) < 0)
		memset(&na, 0, sizeof(na));
	msg_set_client_addr(m, &na, name);
}

void
msg_set_helo(struct msg *m, const char *helo)
{
	free(m->helo);
	m->helo = capped_dup(helo);
}

void
msg_set_mta_name(struct msg *m, const char *name)
{
	free(m->mta_name);
	m->mta_name = capped_dup(name);
}

void
msg_set_queue_id(struct msg *m, const char *id)
{
	free(m->queue_id);
	m->queue_id = capped_dup(id);
}

void
msg_set_auth(struct msg *m, const char *user)
{
	free(m->auth_user);
	m->auth_user = (user && *user) ? capped_dup(user) : NULL;
}

char *
envelope_strip(const char *s)
{
	const char *e;
	size_t n;

	while (ch_is_space((unsigned char)*s))
		s++;
	n = strnlen(s, MSG_MAX_ENVELOPE);
	e = s + n;
	while (e > s && ch_is_space((unsigned char)e[-1]))
		e--;
	if (e > s && *s == '<') {
		s++;
		if (e > s && e[-1] == '>')
			e--;
	}
	return xstrndup(s, (size_t)(e - s));
}

void
msg_set_sender(struct msg *m, const char *s)
{
	free(m->mail_from);
	m->mail_from = envelope_strip(s ? s : "");
}

void
msg_add_rcpt(struct msg *m, const char *r)
{
	m->nrcpts_seen++;
	if (m->nrcpts >= m->lim.max_rcpts) {
		m->flags |= MSG_F_RCPTS_TRUNCATED;
		return;
	}
	m->rcpts = xreallocarray(m->rcpts, m->nrcpts + 1, sizeof(char *));
	m->rcpts[m->nrcpts++] = envelope_strip(r);
}

/* normalise_eol - copy v into out with every line break as CRLF */
static void
normalise_eol(struct buf *out, const char *v, size_t n)
{
	size_t i, start = 0;

	buf_reserve(out, n + 16);
	for (i = 0; i < n; i++) {
		if (v[i] == '\n' && (i == 0 || v[i - 1] != '\r')) {
			buf_add(out, v + start, i - start);
			buf_add(out, "\r\n", 2);
			start = i + 1;
		}
	}
	buf_add(out, v + start, n - start);
}

/* note_bytes - flag NUL bytes and 8-bit bytes that are not UTF-8 */
static void
note_bytes(struct msg *m, const char *v, size_t n)
{
	size_t i;
	bool high = false;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)v[i];

		if (c == 0)
			m->flags |= MSG_F_HDR_NUL;
		else if (c >= 0x80)
			high = true;
	}
	if (high && !utf8_valid(v, n))
		m->flags |= MSG_F_HDR_8BIT;
}

void
msg_add_header(struct msg *m, const char *name, size_t name_len,
    const char *value, size_t value_len)
{
	msg_add_header_sp(m, name, name_len, value, value_len, false);
}

/*
 * msg_add_header_sp - one allocation per field: the name, a NUL, then
 * the value (line breaks made CRLF), a NUL
 */
void
msg_add_header_sp(struct msg *m, const char *name, size_t name_len,
    const char *value, size_t value_len, bool lead_sp)
{
	struct buf v = BUF_INIT;
	struct hdr *h;
	size_t wire, sp = lead_sp && value_len > 0;

	wire = name_len + 1 + sp + value_len + 2;

	m->hdr_bytes += wire;
	if (m->nhdrs >= m->lim.max_headers ||
	    m->hdr_bytes > m->lim.max_header_bytes) {
		m->flags |= MSG_F_HDRS_TRUNCATED;
		return;
	}
	if (name_len > MSG_MAX_FIELD_NAME) {
		name_len = MSG_MAX_FIELD_NAME;
		m->flags |= MSG_F_FIELD_TRUNCATED;
	}
	if (value_len + sp > MSG_MAX_FIELD_VALUE) {
		value_len = MSG_MAX_FIELD_VALUE - sp;
		m->flags |= MSG_F_FIELD_TRUNCATED;
	}
	if (!hdr_name_valid(name, name_len))
		m->flags |= MSG_F_HDR_BADNAME;
	note_bytes(m, name, name_len);
	note_bytes(m, value, value_len);
	buf_reserve(&v, name_len + 1 + sp + value_len + 16);
	buf_add(&v, name, name_len);
	buf_addc(&v, '\0');
	if (sp)
		buf_addc(&v, ' ');
	normalise_eol(&v, value, value_len);
	if (m->nhdrs == m->hdrs_cap) {	/* doubling: linear in headers */
		m->hdrs_cap = m->hdrs_cap ? 2 * m->hdrs_cap : 16;
		m->hdrs = xreallocarray(m->hdrs, m->hdrs_cap,
		    sizeof(struct hdr));
	}
	h = &m->hdrs[m->nhdrs++];
	h->name_len = name_len;
	h->value_len = v.len - name_len - 1;
	h->name = buf_steal(&v);
	h->value = h->name + name_len + 1;
}

void
msg_add_body(struct msg *m, const void *p, size_t n)
{
	size_t room;

	m->body_size += n;
	room = m->body.len < m->lim.max_body ? m->lim.max_body - m->body.len : 0;
	if (n > room) {
		m->flags |= MSG_F_BODY_TRUNCATED;
		n = room;
	}
	if (n)
		buf_add(&m->body, p, n);
}

size_t
msg_size(const struct msg *m)
{
	return m->hdr_bytes + 2 + m->body_size;
}

const struct hdr *
msg_header(const struct msg *m, const char *name, size_t idx)
{
	size_t i, len = strlen(name);

	for (i = 0; i < m->nhdrs; i++)
		if (str_nieq(m->hdrs[i].name, m->hdrs[i].name_len, name, len)) {
			if (idx == 0)
				return &m->hdrs[i];
			idx--;
		}
	return NULL;
}

size_t
msg_header_count(const struct msg *m, const char *name)
{
	size_t i, n = 0, len = strlen(name);

	for (i = 0; i < m->nhdrs; i++)
		if (str_nieq(m->hdrs[i].name, m->hdrs[i].name_len, name, len))
			n++;
	return n;
}
