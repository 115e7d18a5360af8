/*
 * vlog.c - verdict log line format and appender
 *
 * DIAGNOSTICS
 *	A line that cannot be written (disk full, quota, I/O error) is
 *	dropped and the message goes on: the verdict log is a record, not
 *	a reason to refuse mail.  Whatever part of the line reached the
 *	file is cut off again, so the file never holds a partial record.
 *	The failure is logged once (and every ten minutes while it
 *	lasts), and the first write that works again logs how many lines
 *	were dropped.
 *
 * SECURITY
 *	Every string that came from the message or the envelope passes
 *	through json_str(), which escapes control characters and replaces
 *	ill-formed UTF-8, so a hostile message cannot break the log format.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "hdr.h"
#include "json.h"
#include "log.h"
#include "msg.h"
#include "str.h"
#include "verdict.h"
#include "vlog.h"

/* header_json - unfolded value of the first field called name, or null */
static void
header_json(struct buf *out, const struct msg *m, const char *name)
{
	const struct hdr *h = msg_header(m, name, 0);
	struct buf u = BUF_INIT;

	if (h == NULL) {
		buf_adds(out, "null");
		return;
	}
	hdr_unfold(h->value, h->value_len, &u);
	if (u.len > 998)
		buf_truncate(&u, 998);
	json_str(out, buf_cstr(&u), u.len);
	buf_release(&u);
}

void
vlog_format(const struct msg *m, const struct verdict *v, double when,
    struct buf *out)
{
	size_t i;
	long usec;

	usec = (long)((when - (double)(int64_t)when) * 1e6);
	buf_adds(out, "{\"time\":\"");
	fmt_rfc3339(out, (int64_t)when, usec);
	buf_addc(out, '"');
	json_key(out, "queue_id", 0);
	json_cstr(out, m->queue_id);
	json_key(out, "client", 0);
	buf_adds(out, "{\"ip\":");
	json_cstr(out, m->client_ip[0] ? m->client_ip : NULL);
	json_key(out, "name", 0);
	json_cstr(out, m->client_name);
	buf_addc(out, '}');
	json_key(out, "helo", 0);
	json_cstr(out, m->helo);
	json_key(out, "auth", 0);
	json_cstr(out, m->auth_user);
	json_key(out, "mail_from", 0);
	json_cstr(out, m->mail_from);
	json_key(out, "rcpts", 0);
	buf_addc(out, '[');
	for (i = 0; i < m->nrcpts; i++) {
		if (i)
			buf_addc(out, ',');
		json_cstr(out, m->rcpts[i]);
	}
	buf_addc(out, ']');
	json_key(out, "rcpt_count", 0);
	buf_printf(out, "%zu", m->nrcpts_seen);
	json_key(out, "from", 0);
	header_json(out, m, "From");
	json_key(out, "subject", 0);
	header_json(out, m, "Subject");
	json_key(out, "message_id", 0);
	header_json(out, m, "Message-ID");
	json_key(out, "size", 0);
	buf_printf(out, "%zu", msg_size(m));
	json_key(out, "truncated", 0);
	buf_adds(out, (m->flags & MSG_F_BODY_TRUNCATED) ? "true" : "false");
	for (i = 0; i < v->noutputs; i++) {
		json_key(out, v->outputs[i].key, 0);
		buf_add(out, v->outputs[i].json.data, v->outputs[i].json.len);
	}
	json_key(out, "symbols", 0);
	buf_addc(out, '[');
	for (i = 0; i < v->nsyms; i++) {
		if (i)
			buf_addc(out, ',');
		buf_adds(out, "{\"name\":");
		json_cstr(out, v->syms[i].name);
		json_key(out, "score", 0);
		json_num(out, v->syms[i].score);
		if (v->syms[i].detail) {
			json_key(out, "detail", 0);
			json_cstr(out, v->syms[i].detail);
		}
		buf_addc(out, '}');
	}
	buf_addc(out, ']');
	json_key(out, "scored", 0);
	buf_adds(out, v->scored ? "true" : "false");
	if (!v->scored) {
		json_key(out, "unscored_why", 0);
		json_cstr(out, v->unscored_why);
	}
	if (v->scope) {
		json_key(out, "scope", 0);
		json_cstr(out, v->scope);
	}
	json_key(out, "score", 0);
	json_num(out, v->score);
	if (v->score_set >= 0) {
		json_key(out, "score_set", 0);
		buf_printf(out, "%d", v->score_set);
	}
	json_key(out, "thresholds", 0);
	buf_adds(out, "{\"tag\":");
	json_num(out, v->tag_score);
	json_key(out, "reject", 0);
	json_num(out, v->reject_score);
	buf_addc(out, '}');
	json_key(out, "action", 0);
	json_cstr(out, action_name(v->action));
	if (v->force_symbol) {
		json_key(out, "forced_by", 0);
		json_cstr(out, v->force_symbol);
	}
	if (v->quarantine) {
		json_key(out, "quarantine", 0);
		json_cstr(out, v->quarantine_reason ? v->quarantine_reason : "");
	}
	json_key(out, "reply", 0);
	if (v->reply_text) {
		struct buf r = BUF_INIT;

		buf_printf(&r, "%s %s %s", v->smtp_code, v->smtp_xcode,
		    v->reply_text);
		json_str(out, r.data, r.len);
		buf_release(&r);
	} else
		buf_adds(out, "null");
	json_key(out, "dns_degraded", 0);
	buf_adds(out, v->dns_degraded ? "true" : "false");
	json_key(out, "elapsed_ms", 0);
	buf_printf(out, "%.3f", v->elapsed_ms);
	json_key(out, "dns_ms", 0);
	buf_printf(out, "%.3f", v->dns_ms);
	json_key(out, "v", 0);
	buf_printf(out, "%d}", VLOG_SCHEMA_VERSION);
}

struct vlog {
	pthread_mutex_t lock;
	char	*path;
	int	 fd;
	bool	 failing;	/* the last write failed */
	uint64_t lost;		/* lines dropped since writes failed */
	time_t	 reported;	/* when the failure was last logged */
};

#define VLOG_REMIND_SECS	600

static int
open_log(const char *path)
{
	return open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
}

struct vlog *
vlog_open(const char *path, struct buf *why)
{
	struct vlog *l = xcalloc(1, sizeof(*l));

	pthread_mutex_init(&l->lock, NULL);
	l->path = xstrdup(path);
	l->fd = -1;
	if (*path && (l->fd = open_log(path)) < 0) {
		buf_printf(why, "%s: cannot open verdict log: %s", path,
		    strerror(errno));
		vlog_close(l);
		return NULL;
	}
	return l;
}

/*
 * write_failed - a line could not be written (disk full, quota, I/O
 * error).  Mail goes on; the line is dropped.  Part of it may have
 * reached the file: cut it off, so that the next line does not start
 * in the middle of a record.  The failure is logged once, then every
 * VLOG_REMIND_SECS while it lasts, not once per message.
 */
static void
write_failed(struct vlog *l, size_t written, int err)
{
	struct stat st;
	time_t now = time(NULL);

	if (written > 0 && fstat(l->fd, &st) == 0 && S_ISREG(st.st_mode) &&
	    (uint64_t)st.st_size >= written)
		(void)ftruncate(l->fd, st.st_size - (off_t)written);
	l->lost++;
	if (!l->failing || now - l->reported >= VLOG_REMIND_SECS) {
		if (!l->failing)
			log_err("%s: verdict log write failed: %s; mail "
			    "goes on, lines are dropped until writes work",
			    l->path, strerror(err));
		else
			log_err("%s: verdict log write still failing: %s; "
			    "%llu line(s) dropped so far", l->path,
			    strerror(err), (unsigned long long)l->lost);
		l->reported = now;
	}
	l->failing = true;
}

int
vlog_write(struct vlog *l, const char *line, size_t len)
{
	struct buf b = BUF_INIT;
	size_t off = 0;
	int rc = 0;

	if (l == NULL || l->fd < 0)
		return 0;
	buf_add(&b, line, len);
	buf_addc(&b, '\n');
	pthread_mutex_lock(&l->lock);
	while (off < b.len) {
		ssize_t n = write(l->fd, b.data + off, b.len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			write_failed(l, off, n < 0 ? errno : ENOSPC);
			rc = -1;
			break;
		}
		off += (size_t)n;
	}
	if (rc == 0 && l->failing) {
		log_info("%s: verdict log writable again; %llu line(s) were "
		    "dropped", l->path, (unsigned long long)l->lost);
		l->failing = false;
		l->lost = 0;
	}
	pthread_mutex_unlock(&l->lock);
	buf_release(&b);
	return rc;
}

int
vlog_reopen(struct vlog *l)
{
	int fd, rc = 0;

	if (l == NULL || l->path[0] == '\0')
		return 0;
	pthread_mutex_lock(&l->lock);
	if ((fd = open_log(l->path)) < 0) {
		log_err_errno("%s: cannot reopen verdict log, keeping the "
		    "old file", l->path);
		rc = -1;
	} else {
		if (l->fd >= 0)
			close(l->fd);
		l->fd = fd;
	}
	pthread_mutex_unlock(&l->lock);
	return rc;
}

void
vlog_close(struct vlog *l)
{
	if (l == NULL)
		return;
	if (l->fd >= 0)
		close(l->fd);
	pthread_mutex_destroy(&l->lock);
	free(l->path);
	free(l);
}

const char *
vlog_path(const struct vlog *l)
{
	return l ? l->path : "";
}
