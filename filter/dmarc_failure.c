/*
 * dmarc_failure.c - DMARC failure reports: when, what, the spool
 *
 * DESCRIPTION
 *	See dmarc_failure.h.  The report is built as text at the end of the
 *	DMARC step and written to a temporary file that is renamed into
 *	DIR/failures/, so a reader never sees half a report.
 *
 * STANDARDS
 *	RFC 9991 (DMARC failure reporting), RFC 6591 (authentication
 *	failure reports), RFC 5965 (Abuse Reporting Format), RFC 6522
 *	(multipart/report).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "dmarc_failure.h"
#include "files.h"
#include "msg.h"

#define SPOOL_MAX_FILE	(256 * 1024)

bool
dmarc_failure_wanted(const struct dmarc_outcome *o, enum auth_result spf,
    const struct dmarc_dkim_sig *dkim, size_t ndkim)
{
	const char *fo = o->rec.fo[0] ? o->rec.fo : "0";
	bool dkim_failed = false;
	size_t i;

	if (!o->have_record || o->rec.nruf == 0)
		return false;
	for (i = 0; i < ndkim; i++)
		if (dkim[i].result == AUTH_FAIL)
			dkim_failed = true;
	for (; *fo; fo++) {
		if (*fo == '0' && o->result == DMARC_RES_FAIL)
			return true;
		if (*fo == '1' && (o->result == DMARC_RES_FAIL ||
		    !o->dkim_aligned || !o->spf_aligned))
			return true;
		if (*fo == 'd' && dkim_failed)
			return true;
		if (*fo == 's' && spf == AUTH_FAIL)
			return true;
	}
	return false;
}

/* rfc5322_date - "Fri, 27 Nov 2026 11:30:00 +0000" */
static void
rfc5322_date(time_t t, struct buf *out)
{
	static const char *const days[] = { "Sun", "Mon", "Tue", "Wed", "Thu",
	    "Fri", "Sat" };
	static const char *const months[] = { "Jan", "Feb", "Mar", "Apr",
	    "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	struct tm tm;

	gmtime_r(&t, &tm);
	buf_printf(out, "%s, %02d %s %04d %02d:%02d:%02d +0000",
	    days[tm.tm_wday % 7], tm.tm_mday, months[tm.tm_mon % 12],
	    tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/*
 * add_clean - bytes of a header field: CRLF as LF, no CR, no NUL, no
 * empty line, no line break at the end, and every line after a break
 * starts with white space, so that a field stays one field (and no line
 * of it can be a MIME boundary or end the part's header block)
 */
static void
add_clean(struct buf *out, const char *p, size_t n)
{
	bool nl = false;
	size_t i;
	char c;

	for (i = 0; i < n; i++) {
		if ((c = p[i]) == '\0' || c == '\r')
			continue;
		if (c == '\n') {
			nl = true;	/* written when a line follows */
			continue;
		}
		if (nl) {
			buf_addc(out, '\n');
			if (c != ' ' && c != '\t')
				buf_addc(out, ' ');
			nl = false;
		}
		buf_addc(out, c);
	}
}

/* add_name - a header field name: no CR, LF or NUL, whatever it held */
static void
add_name(struct buf *out, const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] != '\0' && p[i] != '\r' && p[i] != '\n')
			buf_addc(out, p[i]);
}

/* add_field_value - a one-line value for our own fields: no CR/LF */
static void
add_field_value(struct buf *out, const char *v)
{
	for (; v && *v; v++)
		buf_addc(out, *v == '\r' || *v == '\n' ? ' ' : *v);
}

static atomic_ulong report_seq;

/* random_boundary - "=-mailwarden-afrf-" and 128 random bits in hex */
static void
random_boundary(char *out, size_t outsz, time_t when, unsigned long seq)
{
	unsigned char r[16];
	size_t i, n;

	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r)) {
		/* no entropy source: still unique, if guessable */
		uint64_t x = (uint64_t)when * 0x9E3779B97F4A7C15ULL ^
		    ((uint64_t)getpid() << 32) ^ seq;

		for (i = 0; i < sizeof(r); i++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			r[i] = (unsigned char)x;
		}
	}
	n = (size_t)snprintf(out, outsz, "=-mailwarden-afrf-");
	for (i = 0; i < sizeof(r) && n + 3 <= outsz; i++)
		n += (size_t)snprintf(out + n, outsz - n, "%02x", r[i]);
}

void
dmarc_failure_format(const struct dmarc_failure *f, struct buf *b)
{
	const struct msg *m = f->msg;
	const struct dmarc_outcome *o = f->o;
	const struct dmarc_dkim_sig *bad = NULL;
	unsigned long seq = atomic_fetch_add(&report_seq, 1);
	char boundary[96];
	size_t i, start;

	/* unpredictable: a field name may be any printable text, even a
	   line "--=-mailwarden-afrf-..." that would otherwise close the part */
	random_boundary(boundary, sizeof(boundary), f->when, seq);
	for (i = 0; i < f->ndkim; i++)
		if (f->dkim[i].result != AUTH_PASS && bad == NULL)
			bad = &f->dkim[i];
	buf_printf(b, "X-Mailwarden-Policy-Domain: %s\nX-Mailwarden-Ruf:",
	    o->policy_domain);
	for (i = 0; i < o->rec.nruf; i++) {
		buf_addc(b, ' ');
		add_field_value(b, o->rec.ruf[i]);
	}
	buf_printf(b, "\nFrom: %s\nDate: ", f->reporter);
	rfc5322_date(f->when, b);
	buf_printf(b, "\nSubject: DMARC failure report for %s\n"
	    "Message-ID: <dmarc-failure.%lld.%ld.%lu@%s>\n"
	    "MIME-Version: 1.0\n"
	    "Content-Type: multipart/report; report-type=feedback-report;\n"
	    "\tboundary=\"%s\"\n\n"
	    "--%s\nContent-Type: text/plain; charset=us-ascii\n\n"
	    "This is an authentication failure report (RFC 9991) for a "
	    "message\nclaiming to be from %s, received from ",
	    f->author, (long long)f->when, (long)getpid(), seq, f->hostname,
	    boundary, boundary, f->author);
	add_field_value(b, m->client_ip[0] ? m->client_ip : "an unknown "
	    "address");
	buf_printf(b, ".\nDMARC result: %s; disposition: %s.\n"
	    "Only the message's header fields are included.\n\n",
	    o->result == DMARC_RES_FAIL ? "fail" : "pass",
	    f->disposition ? f->disposition : "none");
	buf_printf(b, "--%s\nContent-Type: message/feedback-report\n\n"
	    "Feedback-Type: auth-failure\nUser-Agent: mailwarden/%s\n"
	    "Version: 1\nOriginal-Mail-From: <", boundary, PACKAGE_VERSION);
	add_field_value(b, m->mail_from);
	buf_adds(b, ">\n");
	if (m->queue_id) {
		buf_adds(b, "Original-Envelope-Id: ");
		add_field_value(b, m->queue_id);
		buf_addc(b, '\n');
	}
	buf_adds(b, "Arrival-Date: ");
	rfc5322_date(f->when, b);
	buf_addc(b, '\n');
	if (m->client_ip[0])
		buf_printf(b, "Source-IP: %s\n", m->client_ip);
	buf_printf(b, "Reported-Domain: %s\nAuthentication-Results: ",
	    f->author);
	add_field_value(b, f->authres);
	buf_adds(b, "\nAuth-Failure: dmarc\n");
	if (bad)
		buf_printf(b, "DKIM-Domain: %s\nDKIM-Selector: %s\n",
		    bad->domain, bad->selector);
	buf_printf(b, "Identity-Alignment: %s\nDelivery-Result: %s\n\n",
	    o->dkim_aligned && o->spf_aligned ? "dkim, spf" :
	    o->dkim_aligned ? "dkim" : o->spf_aligned ? "spf" : "none",
	    f->disposition == NULL ? "delivered" :
	    strcmp(f->disposition, "reject") == 0 ? "reject" :
	    strcmp(f->disposition, "quarantine") == 0 ? "spam" : "delivered");
	buf_printf(b, "--%s\nContent-Type: text/rfc822-headers\n\n", boundary);
	start = b->len;
	for (i = 0; i < m->nhdrs && b->len - start < DMARC_FAILURE_MAX_HEADERS;
	    i++) {
		add_name(b, m->hdrs[i].name, m->hdrs[i].name_len);
		buf_addc(b, ':');
		add_clean(b, m->hdrs[i].value, m->hdrs[i].value_len);
		buf_addc(b, '\n');
	}
	buf_printf(b, "\n--%s--\n", boundary);
}

static pthread_mutex_t rate_lock = PTHREAD_MUTEX_INITIALIZER;
static time_t rate_hour;
static unsigned long rate_count;

bool
dmarc_failure_admit(unsigned long max, time_t now)
{
	bool ok;

	pthread_mutex_lock(&rate_lock);
	if (now / 3600 != rate_hour) {
		rate_hour = now / 3600;
		rate_count = 0;
	}
	ok = rate_count < max;
	if (ok)
		rate_count++;
	pthread_mutex_unlock(&rate_lock);
	return ok;
}

int
dmarc_failure_spool(const char *dir, const struct dmarc_failure *f,
    struct buf *why)
{
	struct buf text = BUF_INIT, sub = BUF_INIT, tmp = BUF_INIT,
	    path = BUF_INIT;
	unsigned long seq = atomic_fetch_add(&report_seq, 1);
	ssize_t n;
	int fd, rc = -1;

	buf_printf(&sub, "%s/failures", dir);
	if (mkdir(sub.data, 0750) < 0 && errno != EEXIST) {
		buf_printf(why, "%s: %s", sub.data, strerror(errno));
		goto out;
	}
	dmarc_failure_format(f, &text);
	buf_printf(&tmp, "%s/.tmp-%lld-%ld-%lu", sub.data, (long long)f->when,
	    (long)getpid(), seq);
	buf_printf(&path, "%s/%lld-%ld-%lu.eml", sub.data, (long long)f->when,
	    (long)getpid(), seq);
	if ((fd = open(tmp.data, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    0640)) < 0) {
		buf_printf(why, "%s: %s", tmp.data, strerror(errno));
		goto out;
	}
	do
		n = write(fd, text.data, text.len);
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t)text.len) {
		buf_printf(why, "%s: short write: %s", tmp.data,
		    n < 0 ? strerror(errno) : "disk full?");
		close(fd);
		unlink(tmp.data);
		goto out;
	}
	if (close(fd) < 0) {
		buf_printf(why, "%s: %s", tmp.data, strerror(errno));
		unlink(tmp.data);
		goto out;
	}
	if (rename(tmp.data, path.data) < 0) {
		buf_printf(why, "%s: %s", path.data, strerror(errno));
		unlink(tmp.data);
		goto out;
	}
	rc = 0;
out:
	buf_release(&text);
	buf_release(&sub);
	buf_release(&tmp);
	buf_release(&path);
	return rc;
}

/* line_value - the value of "Name: value\n" at *p if it starts so */
static bool
line_value(const char **p, const char *end, const char *name,
    struct buf *out)
{
	size_t nl = strlen(name);
	const char *e;

	if ((size_t)(end - *p) < nl || memcmp(*p, name, nl) != 0)
		return false;
	if ((e = memchr(*p, '\n', (size_t)(end - *p))) == NULL)
		return false;
	buf_add(out, *p + nl, (size_t)(e - *p - (ptrdiff_t)nl));
	*p = e + 1;
	return true;
}

/*
 * policy_domain - the domain line's value into domain if it is what the
 * milter writes there: a domain name in lower-case A-label form
 */
static bool
policy_domain(const struct buf *d, char *domain, size_t dsz)
{
	char a[DOMAIN_MAX + 1];

	if (d->len == 0 || d->len >= dsz || d->len >= sizeof(a) ||
	    memchr(d->data, '\0', d->len) != NULL ||
	    domain_to_alabel(d->data, d->len, a, sizeof(a)) < 0 ||
	    strlen(a) != d->len || memcmp(a, d->data, d->len) != 0)
		return false;
	memcpy(domain, a, d->len + 1);
	return true;
}

int
dmarc_failure_parse(const char *data, size_t len, char *domain, size_t dsz,
    struct buf *rufs, struct buf *text)
{
	struct buf d = BUF_INIT;
	const char *p = data, *end = data + len;
	int rc = -1;

	if (!line_value(&p, end, "X-Mailwarden-Policy-Domain: ", &d) ||
	    !line_value(&p, end, "X-Mailwarden-Ruf:", rufs) ||
	    !policy_domain(&d, domain, dsz))
		goto out;
	buf_add(text, p, (size_t)(end - p));
	rc = 0;
out:
	buf_release(&d);
	return rc;
}

int
dmarc_failure_read(const char *path, char *domain, size_t dsz,
    struct buf *rufs, struct buf *text, struct buf *why)
{
	struct buf file = BUF_INIT;
	int rc = -1;

	if (files_read(path, SPOOL_MAX_FILE, &file, why) < 0)
		goto out;
	if (dmarc_failure_parse(file.data, file.len, domain, dsz, rufs,
	    text) < 0) {
		buf_printf(why, "%s: not a failure report spool file (or its "
		    "policy domain is not a host name)", path);
		goto out;
	}
	rc = 0;
out:
	buf_release(&file);
	return rc;
}
