/*
 * mwload.c - a milter protocol (version 6) load generator
 *
 * DESCRIPTION
 *	Speaks the MTA side of the milter protocol directly to milter
 *	sockets: option negotiation, macros (the ones Postfix sends by
 *	default), connect (client addresses from a list), HELO, MAIL,
 *	RCPT, DATA, headers, end of headers, body in chunks, end of
 *	message; it reads every reply and modification.  N threads each
 *	take the next message from the set; a connection carries one
 *	message or many (-m).  At the end it prints messages/s, latency
 *	percentiles, the tally of final actions, header changes, the
 *	Authentication-Results the milters wrote (per method and result)
 *	and errors; --json prints the same as one JSON object.
 *
 *	Several -s options make a chain, as Postfix runs several
 *	smtpd_milters: each connection-level and envelope command goes to
 *	every milter in turn, then every milter in turn gets the whole
 *	content (headers, end of headers, body, end of message) with the
 *	header changes of the milters before it applied, so a later milter
 *	sees the Authentication-Results of an earlier one (OpenDMARC after
 *	OpenDKIM).  A milter that accepts is skipped for the rest of the
 *	connection (at connect/HELO) or of the message; a reject, tempfail,
 *	reply code or discard from any milter ends the transaction.
 *
 *	Latency is measured per message from its first command (the connect
 *	when a connection starts with it) to the final reply of the last
 *	milter at end of message.  With -R the run is paced: message n is
 *	planned to start at n/RATE seconds, a worker waits for that moment,
 *	and latency counts from the planned start, so time spent waiting
 *	for a free connection when the filter falls behind is not hidden.
 *
 * USAGE
 *	mwload -s SOCKET [-s SOCKET]... [-c CONCURRENCY] [-n MESSAGES]
 *	       [-m PER_CONNECTION] [-i IPFILE] [-r RCPT] [-H HELO]
 *	       [-R RATE] [-v] [--json] FILE|DIR...
 *	SOCKET is unix:/path or inet:PORT@HOST as libmilter spells it.
 *	Directories are read in name order; with -n larger than the set,
 *	messages are reused round robin.
 *
 * LIMITS
 *	A benchmark client, not an MTA: replies are trusted to be well
 *	formed only as far as needed to count them (a reply over 16 MiB or
 *	a broken packet ends the connection and counts as an error).
 */
#include "config.h"

#include <libmilter/mfdef.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "files.h"
#include "hdr.h"
#include "msg.h"
#include "msgparse.h"
#include "str.h"

#define MAX_MILTERS	8

/* ---- Authentication-Results tally ---- */

enum { AR_SPF, AR_DKIM, AR_DMARC, AR_NMETH };
static const char *const ar_meth[AR_NMETH] = { "spf", "dkim", "dmarc" };

enum {
	RES_ABSENT, RES_PASS, RES_FAIL, RES_SOFTFAIL, RES_NEUTRAL, RES_NONE,
	RES_TEMPERROR, RES_PERMERROR, RES_POLICY, RES_OTHER, RES_N
};
static const char *const res_name[RES_N] = {
	"absent", "pass", "fail", "softfail", "neutral", "none", "temperror",
	"permerror", "policy", "other"
};

/* per-message outcome, summed into struct stats */
struct tally {
	long	 adds, ins, chg, del, quarantines, replbody, replycodes;
	long	 ar, spam, dkim;	/* added fields by name */
	int	 res[AR_NMETH];		/* first result seen, RES_* */
	bool	 spam_yes;		/* a milter flagged it as spam */
};

struct message {
	struct msg *m;		/* headers + body (CRLF) */
	char	*from;		/* envelope sender */
};

struct opts {
	const char *sockets[MAX_MILTERS];
	int	 nsockets;
	int	 concurrency;
	long	 count;
	int	 per_conn;
	const char *rcpt;
	const char *helo;
	char	**ips;
	size_t	 nips;
	bool	 json;
	bool	 verbose;
	double	 rate;		/* messages/s offered (0: as fast as possible) */
};

struct stats {
	pthread_mutex_t lock;
	double	*lat;		/* ms, one per message */
	size_t	 nlat;
	long	 actions[256];	/* final reply command -> count */
	long	 adds, ins, chg, del, quarantines, replbody, replycodes, errors;
	long	 ar, spam, dkim, spam_yes;
	long	 res[AR_NMETH][RES_N];
};

static struct message *msgs;
static size_t nmsgs;
static struct opts o;
static struct stats st = { .lock = PTHREAD_MUTEX_INITIALIZER };
static atomic_long next_msg;
static double start_ms;		/* when the run started (pacing) */

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

/* ---- loading the message set ---- */

struct loadctx {
	struct msg *m;
};

static void
l_eoh(void *arg)
{
	(void)arg;
}

static void
l_body(void *arg, const void *p, size_t n)
{
	msg_add_body(((struct loadctx *)arg)->m, p, n);
}

static void
load_file(const char *path)
{
	static const struct msg_limits lim = { 64 << 20, 64 << 20, 100000, 10 };
	struct buf data = BUF_INIT, why = BUF_INIT, from = BUF_INIT;
	struct loadctx lc;
	struct msgparse_cb cb = { l_eoh, l_body, &lc };
	struct msgparse *mp;
	const struct hdr *h;
	char *lt, *gt, *addr;

	if (files_read(path, 64 << 20, &data, &why) < 0) {
		fprintf(stderr, "mwload: %s\n", buf_cstr(&why));
		exit(1);
	}
	lc.m = msg_new(&lim);
	mp = msgparse_new(lc.m, &cb);
	msgparse_push(mp, data.data, data.len);
	msgparse_end(mp);
	msgparse_free(mp);
	if ((h = msg_header(lc.m, "From", 0)) != NULL) {
		hdr_unfold(h->value, h->value_len, &from);
		lt = strrchr(from.data, '<');
		gt = lt ? strchr(lt, '>') : NULL;
		if (lt && gt) {
			*gt = '\0';
			memmove(from.data, lt + 1, strlen(lt + 1) + 1);
		}
	}
	addr = from.len ? str_trim(from.data) : "";
	msgs = xreallocarray(msgs, nmsgs + 1, sizeof(*msgs));
	msgs[nmsgs].m = lc.m;
	msgs[nmsgs].from = xstrdup(*addr && !strchr(addr, ' ') ?
	    addr : "sender@example.org");
	nmsgs++;
	buf_release(&data);
	buf_release(&why);
	buf_release(&from);
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
load_path(const char *path)
{
	struct stat sb;
	DIR *d;
	struct dirent *e;
	char **names = NULL;
	size_t n = 0, i;

	if (stat(path, &sb) < 0) {
		fprintf(stderr, "mwload: %s: %s\n", path, strerror(errno));
		exit(1);
	}
	if (!S_ISDIR(sb.st_mode)) {
		load_file(path);
		return;
	}
	if ((d = opendir(path)) == NULL) {
		fprintf(stderr, "mwload: %s: %s\n", path, strerror(errno));
		exit(1);
	}
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		names = xreallocarray(names, n + 1, sizeof(*names));
		names[n++] = xasprintf("%s/%s", path, e->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof(*names), name_cmp);
	for (i = 0; i < n; i++) {
		load_path(names[i]);
		free(names[i]);
	}
	free(names);
}

/* ---- the header list a chain of milters edits ---- */

struct field {
	char	*name;
	char	*value;		/* as the MTA would send it, CRLF folding */
	size_t	 value_len;
};

struct fields {
	struct field *v;
	size_t	 n;
	size_t	 cap;
};

static void
fields_insert(struct fields *f, size_t at, const char *name,
    const char *value, size_t vlen)
{
	if (at > f->n)
		at = f->n;
	if (f->n == f->cap) {
		f->cap = f->cap ? f->cap * 2 : 32;
		f->v = xreallocarray(f->v, f->cap, sizeof(*f->v));
	}
	memmove(&f->v[at + 1], &f->v[at], (f->n - at) * sizeof(*f->v));
	f->v[at].name = xstrdup(name);
	f->v[at].value = xstrndup(value, vlen);
	f->v[at].value_len = vlen;
	f->n++;
}

static void
fields_clear(struct fields *f)
{
	size_t i;

	for (i = 0; i < f->n; i++) {
		free(f->v[i].name);
		free(f->v[i].value);
	}
	f->n = 0;
}

static void
fields_from_msg(struct fields *f, const struct msg *m)
{
	size_t i;

	fields_clear(f);
	for (i = 0; i < m->nhdrs; i++)
		fields_insert(f, f->n, m->hdrs[i].name, m->hdrs[i].value,
		    m->hdrs[i].value_len);
}

/*
 * fields_change - SMFIR_CHGHEADER: the idx'th (1-based) field called
 * name gets value; an empty value deletes it; no such field: append
 */
static bool
fields_change(struct fields *f, unsigned idx, const char *name,
    const char *value, size_t vlen)
{
	size_t i;
	unsigned seen = 0;

	for (i = 0; i < f->n; i++) {
		if (strcasecmp(f->v[i].name, name) != 0 || ++seen != idx)
			continue;
		free(f->v[i].value);
		if (vlen == 0) {
			free(f->v[i].name);
			memmove(&f->v[i], &f->v[i + 1],
			    (f->n - i - 1) * sizeof(*f->v));
			f->n--;
			return true;
		}
		f->v[i].value = xstrndup(value, vlen);
		f->v[i].value_len = vlen;
		return false;
	}
	if (vlen)
		fields_insert(f, f->n, name, value, vlen);
	return false;
}

/* ---- reading what the milters wrote ---- */

static int
result_code(const char *p, size_t n)
{
	int i;

	for (i = RES_PASS; i < RES_OTHER; i++)
		if (strlen(res_name[i]) == n &&
		    strncasecmp(p, res_name[i], n) == 0)
			return i;
	return RES_OTHER;
}

/*
 * tally_authres - method=result pairs of one Authentication-Results
 * value; the first result of each method in a message counts
 */
static void
tally_authres(struct tally *t, const char *v)
{
	const char *p;
	int m;

	for (m = 0; m < AR_NMETH; m++) {
		size_t ml = strlen(ar_meth[m]);

		if (t->res[m] != RES_ABSENT)
			continue;
		for (p = v; (p = strcasestr(p, ar_meth[m])) != NULL; p += ml) {
			const char *r;
			size_t rl;

			if (p > v && !(p[-1] == ';' || p[-1] == ' ' ||
			    p[-1] == '\t' || p[-1] == '\n'))
				continue;
			r = p + ml;
			while (*r == ' ')
				r++;
			if (*r != '=')
				continue;
			r++;
			while (*r == ' ')
				r++;
			for (rl = 0; (r[rl] >= 'a' && r[rl] <= 'z') ||
			    (r[rl] >= 'A' && r[rl] <= 'Z'); rl++)
				;
			if (rl == 0)
				continue;
			t->res[m] = result_code(r, rl);
			break;
		}
	}
}

/* tally_field - a field a milter added or changed */
static void
tally_field(struct tally *t, const char *name, const char *value)
{
	while (*value == ' ' || *value == '\t')
		value++;
	if (strcasecmp(name, "Authentication-Results") == 0) {
		t->ar++;
		tally_authres(t, value);
	} else if (strncasecmp(name, "X-Spam", 6) == 0) {
		t->spam++;
		if ((strcasecmp(name, "X-Spam-Flag") == 0 &&
		    strncasecmp(value, "YES", 3) == 0) ||
		    (strcasecmp(name, "X-Spam") == 0 &&
		    strncasecmp(value, "Yes", 3) == 0) ||
		    (strcasecmp(name, "X-Spam-Status") == 0 &&
		    strncasecmp(value, "Yes", 3) == 0))
			t->spam_yes = true;
	} else if (strcasecmp(name, "DKIM-Signature") == 0) {
		t->dkim++;
	}
}

/* ---- the wire ---- */

struct conn {
	int	 fd;
	unsigned long prot;	/* protocol flags the milter chose */
	bool	 skip_conn;	/* accepted the connection: no more commands */
	bool	 skip_msg;	/* accepted the message */
	bool	 skip_body;	/* answered SKIP to a body chunk */
	struct buf out;
	struct buf in;
};

static int
connect_milter(const char *spec)
{
	int fd;

	if (strncmp(spec, "unix:", 5) == 0 || strncmp(spec, "local:", 6) == 0) {
		struct sockaddr_un sun;

		memset(&sun, 0, sizeof(sun));
		sun.sun_family = AF_UNIX;
		snprintf(sun.sun_path, sizeof(sun.sun_path), "%s",
		    strchr(spec, ':') + 1);
		if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) < 0)
			return -1;
		if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
			close(fd);
			return -1;
		}
		return fd;
	} else {
		char port[16], host[256];
		struct addrinfo hints, *res;
		const char *colon = strchr(spec, ':');
		const char *at = strchr(spec, '@');

		if (colon == NULL || at == NULL || at < colon)
			return -1;
		snprintf(port, sizeof(port), "%.*s", (int)(at - colon - 1),
		    colon + 1);
		snprintf(host, sizeof(host), "%s", at + 1);
		memset(&hints, 0, sizeof(hints));
		hints.ai_socktype = SOCK_STREAM;
		if (getaddrinfo(host, port, &hints, &res) != 0)
			return -1;
		fd = socket(res->ai_family, SOCK_STREAM, 0);
		if (fd >= 0)
			(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY,
			    &(int){ 1 }, sizeof(int));
		if (fd < 0 || connect(fd, res->ai_addr, res->ai_addrlen) < 0) {
			if (fd >= 0)
				close(fd);
			freeaddrinfo(res);
			return -1;
		}
		freeaddrinfo(res);
		return fd;
	}
}

static int
write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* queue_cmd - one packet (4-byte length, command, data), not yet sent */
static void
queue_cmd(struct conn *c, char cmd, const void *data, size_t len)
{
	uint32_t nlen = htonl((uint32_t)(len + 1));

	buf_add(&c->out, &nlen, 4);
	buf_addc(&c->out, cmd);
	buf_add(&c->out, data, len);
}

/*
 * send_cmd - queue a packet and send everything queued in one write, as
 * an MTA does (macros travel with the command they belong to)
 */
static int
send_cmd(struct conn *c, char cmd, const void *data, size_t len)
{
	int rc;

	queue_cmd(c, cmd, data, len);
	rc = write_all(c->fd, c->out.data, c->out.len);
	buf_reset(&c->out);
	return rc;
}

static int
read_all(int fd, void *p, size_t n)
{
	char *q = p;

	while (n > 0) {
		ssize_t r = read(fd, q, n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		q += r;
		n -= (size_t)r;
	}
	return 0;
}

/*
 * read_reply - one packet from the milter into c->in (NUL-terminated
 * after c->in.len); returns the command
 */
static int
read_reply(struct conn *c)
{
	uint32_t nlen;
	size_t len;
	char cmd;

	if (read_all(c->fd, &nlen, 4) < 0)
		return -1;
	len = ntohl(nlen);
	if (len == 0 || len > (1 << 24))
		return -1;
	if (read_all(c->fd, &cmd, 1) < 0)
		return -1;
	buf_reset(&c->in);
	buf_reserve(&c->in, len);
	if (len > 1 && read_all(c->fd, c->in.data, len - 1) < 0)
		return -1;
	c->in.len = len - 1;
	c->in.data[c->in.len] = '\0';
	return (unsigned char)cmd;
}

static void
add_str(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s) + 1);
}

/* negotiate - OPTNEG as Postfix would offer it */
static int
negotiate(struct conn *c)
{
	uint32_t v[3];
	int r;

	v[0] = htonl(6);
	v[1] = htonl(SMFI_CURR_ACTS);
	v[2] = htonl(SMFI_CURR_PROT & ~(SMFIP_MDS_256K | SMFIP_MDS_1M));
	if (send_cmd(c, SMFIC_OPTNEG, v, sizeof(v)) < 0)
		return -1;
	if ((r = read_reply(c)) != SMFIC_OPTNEG || c->in.len < 12)
		return -1;
	memcpy(v, c->in.data, 12);
	c->prot = ntohl(v[2]);
	return 0;
}

/*
 * replycode_class - SMFIR_REPLYCODE carries "4xx ..." or "5xx ...": count
 * it as a tempfail or a reject (rspamd answers greylisting that way)
 */
static int
replycode_class(const struct conn *c, int r)
{
	if (r != SMFIR_REPLYCODE)
		return r;
	return c->in.len > 0 && c->in.data[0] == '4' ? SMFIR_TEMPFAIL :
	    SMFIR_REJECT;
}

/*
 * step - send a command and, unless the milter waived the reply, read it.
 * Returns the reply command, 'c' when no reply was expected, -1 on error.
 * Like Postfix, commands that get no reply stay in the output buffer
 * until a command that does, or until it holds OUT_FLUSH bytes.
 */
#define OUT_FLUSH	4096	/* Postfix's VSTREAM buffer */

static int
step(struct conn *c, char cmd, const void *data, size_t len,
    unsigned long nr_flag)
{
	int r;

	if (nr_flag && (c->prot & nr_flag)) {
		queue_cmd(c, cmd, data, len);
		if (c->out.len >= OUT_FLUSH) {
			r = write_all(c->fd, c->out.data, c->out.len);
			buf_reset(&c->out);
			if (r < 0)
				return -1;
		}
		return SMFIR_CONTINUE;
	}
	if (send_cmd(c, cmd, data, len) < 0)
		return -1;
	do
		r = read_reply(c);
	while (r == SMFIR_PROGRESS);
	return replycode_class(c, r);
}

/* macros - queue one SMFIC_MACRO packet: stage, then name/value pairs */
static void
macros(struct conn *c, char stage, ...)
{
	struct buf b = BUF_INIT;
	const char *s;
	va_list ap;

	buf_addc(&b, stage);
	va_start(ap, stage);
	while ((s = va_arg(ap, const char *)) != NULL)
		add_str(&b, s);
	va_end(ap);
	queue_cmd(c, SMFIC_MACRO, b.data, b.len);
	buf_release(&b);
}

static bool
is_final(int r)
{
	return r == SMFIR_ACCEPT || r == SMFIR_REJECT || r == SMFIR_TEMPFAIL ||
	    r == SMFIR_DISCARD || r == SMFIR_REPLYCODE || r == SMFIR_CONN_FAIL ||
	    r == SMFIR_SHUTDOWN;
}

/*
 * eom - end of message: apply modifications to the field list (and
 * body) until the final reply
 */
static int
eom(struct conn *c, const char *qid, struct fields *f, struct buf *newbody,
    bool *replaced, struct tally *t)
{
	uint32_t idx;
	const char *name, *value;
	int r;

	macros(c, SMFIC_BODYEOB, "i", qid, NULL);
	if (send_cmd(c, SMFIC_BODYEOB, NULL, 0) < 0)
		return -1;
	for (;;) {
		if ((r = read_reply(c)) < 0)
			return -1;
		switch (r) {
		case SMFIR_ADDHEADER:
			name = c->in.data;
			value = memchr(name, '\0', c->in.len);
			if (value == NULL)
				return -1;
			value++;
			t->adds++;
			tally_field(t, name, value);
			fields_insert(f, f->n, name, value, strlen(value));
			break;
		case SMFIR_INSHEADER:
		case SMFIR_CHGHEADER:
			if (c->in.len < 6)
				return -1;
			memcpy(&idx, c->in.data, 4);
			idx = ntohl(idx);
			name = c->in.data + 4;
			value = memchr(name, '\0', c->in.len - 4);
			if (value == NULL)
				return -1;
			value++;
			if (r == SMFIR_INSHEADER) {
				t->ins++;
				fields_insert(f, idx, name, value,
				    strlen(value));
			} else if (fields_change(f, idx, name, value,
			    strlen(value))) {
				t->del++;
				break;
			} else {
				t->chg++;
			}
			tally_field(t, name, value);
			break;
		case SMFIR_REPLBODY:
			if (!*replaced)
				buf_reset(newbody);
			*replaced = true;
			t->replbody++;
			buf_add(newbody, c->in.data, c->in.len);
			break;
		case SMFIR_QUARANTINE:
			t->quarantines++;
			break;
		case SMFIR_CONTINUE:
			return SMFIR_ACCEPT;	/* continue at EOM = accept */
		default:
			if (r == SMFIR_REPLYCODE)
				t->replycodes++;
			if (is_final(r))
				return replycode_class(c, r);
			break;	/* other modifications: counted nowhere */
		}
	}
}

/* envelope_all - one envelope command to every milter in turn */
static int
envelope_all(struct conn *cs, char cmd, const void *data, size_t len,
    unsigned long nr_flag, unsigned long no_flag, const char *qid,
    const char *const *mac)
{
	int i, r, n;

	for (i = 0; i < o.nsockets; i++) {
		struct conn *c = &cs[i];

		if (c->skip_conn || c->skip_msg || (c->prot & no_flag))
			continue;
		if (mac) {
			struct buf b = BUF_INIT;

			buf_addc(&b, cmd);
			for (n = 0; mac[n]; n++)
				add_str(&b, mac[n]);
			if (qid) {
				add_str(&b, "i");
				add_str(&b, qid);
			}
			queue_cmd(c, SMFIC_MACRO, b.data, b.len);
			buf_release(&b);
		}
		r = step(c, cmd, data, len, nr_flag);
		if (r < 0)
			return -1;
		if (r == SMFIR_ACCEPT) {
			if (cmd == SMFIC_CONNECT || cmd == SMFIC_HELO)
				c->skip_conn = true;
			else
				c->skip_msg = true;
			continue;
		}
		if (r != SMFIR_CONTINUE)
			return r;
	}
	return SMFIR_CONTINUE;
}

/*
 * content - headers, EOH, body and EOM to one milter; final reply
 * (SMFIR_ACCEPT when it let the message through)
 */
static int
content(struct conn *c, const char *qid, struct fields *f,
    const struct buf *body, struct buf *newbody, bool *replaced,
    struct tally *t)
{
	struct buf b = BUF_INIT;
	size_t i, off;
	int r = SMFIR_CONTINUE;

	for (i = 0; i < f->n && !(c->prot & SMFIP_NOHDRS); i++) {
		const char *v = f->v[i].value;
		size_t vl = f->v[i].value_len;

		if (!(c->prot & SMFIP_HDR_LEADSPC) && vl && *v == ' ') {
			v++;
			vl--;
		}
		buf_reset(&b);
		add_str(&b, f->v[i].name);
		buf_add(&b, v, vl);
		buf_addc(&b, '\0');
		r = step(c, SMFIC_HEADER, b.data, b.len, SMFIP_NR_HDR);
		if (r == SMFIR_SKIP)
			break;
		if (r != SMFIR_CONTINUE)
			goto done;
	}
	if (!(c->prot & SMFIP_NOEOH)) {
		macros(c, SMFIC_EOH, "i", qid, NULL);
		r = step(c, SMFIC_EOH, NULL, 0, SMFIP_NR_EOH);
		if (r != SMFIR_CONTINUE)
			goto done;
	}
	for (off = 0; off < body->len && !(c->prot & SMFIP_NOBODY);
	    off += MILTER_CHUNK_SIZE) {
		size_t n = body->len - off;

		if (n > MILTER_CHUNK_SIZE)
			n = MILTER_CHUNK_SIZE;
		r = step(c, SMFIC_BODY, body->data + off, n, SMFIP_NR_BODY);
		if (r == SMFIR_SKIP)
			break;
		if (r != SMFIR_CONTINUE)
			goto done;
	}
	r = eom(c, qid, f, newbody, replaced, t);
done:
	buf_release(&b);
	return r;
}

/* abort_all - end an unfinished transaction on every live milter */
static void
abort_all(struct conn *cs)
{
	int i;

	for (i = 0; i < o.nsockets; i++)
		if (cs[i].fd >= 0 && !cs[i].skip_conn)
			(void)send_cmd(&cs[i], SMFIC_ABORT, NULL, 0);
}

/* one_message - a transaction on open connections; final reply */
static int
one_message(struct conn *cs, const struct message *mm, long n,
    struct tally *t)
{
	const struct msg *m = mm->m;
	struct buf b = BUF_INIT, body = BUF_INIT, newbody = BUF_INIT;
	struct fields f = { NULL, 0, 0 };
	char qid[32], *at;
	const char *mailmac[8], *rcptmac[8];
	int i, r;

	snprintf(qid, sizeof(qid), "BENCH%07ld", n);
	for (i = 0; i < o.nsockets; i++)
		cs[i].skip_msg = cs[i].skip_body = false;

	at = strrchr(mm->from, '@');
	mailmac[0] = "{mail_addr}";
	mailmac[1] = mm->from;
	mailmac[2] = "{mail_host}";
	mailmac[3] = at ? at + 1 : "";
	mailmac[4] = "{mail_mailer}";
	mailmac[5] = "smtp";
	mailmac[6] = NULL;
	buf_printf(&b, "<%s>", mm->from);
	buf_addc(&b, '\0');
	r = envelope_all(cs, SMFIC_MAIL, b.data, b.len, SMFIP_NR_MAIL,
	    SMFIP_NOMAIL, qid, mailmac);
	if (r != SMFIR_CONTINUE)
		goto early;

	at = strrchr(o.rcpt, '@');
	rcptmac[0] = "{rcpt_addr}";
	rcptmac[1] = o.rcpt;
	rcptmac[2] = "{rcpt_host}";
	rcptmac[3] = at ? at + 1 : "";
	rcptmac[4] = "{rcpt_mailer}";
	rcptmac[5] = "local";
	rcptmac[6] = NULL;
	buf_reset(&b);
	buf_printf(&b, "<%s>", o.rcpt);
	buf_addc(&b, '\0');
	r = envelope_all(cs, SMFIC_RCPT, b.data, b.len, SMFIP_NR_RCPT,
	    SMFIP_NORCPT, qid, rcptmac);
	if (r != SMFIR_CONTINUE)
		goto early;
	r = envelope_all(cs, SMFIC_DATA, NULL, 0, SMFIP_NR_DATA,
	    SMFIP_NODATA, qid, (const char *const []){ NULL });
	if (r != SMFIR_CONTINUE)
		goto early;

	/* content: each milter in turn sees the changes of those before */
	fields_from_msg(&f, m);
	buf_add(&body, m->body.data, m->body.len);
	r = SMFIR_ACCEPT;
	for (i = 0; i < o.nsockets; i++) {
		bool replaced = false;

		if (cs[i].skip_conn || cs[i].skip_msg)
			continue;
		r = content(&cs[i], qid, &f, &body, &newbody, &replaced, t);
		if (replaced) {
			buf_reset(&body);
			buf_add(&body, newbody.data, newbody.len);
		}
		if (r == SMFIR_ACCEPT)
			continue;
		if (r == SMFIR_CONTINUE || r == SMFIR_SKIP) {
			r = -1;		/* EOM never answered that way */
			break;
		}
		if (r < 0 || is_final(r))
			break;
	}
	if (r != SMFIR_ACCEPT && r >= 0) {
		/* the rest of the chain never saw EOM */
		for (i++; i < o.nsockets; i++)
			if (!cs[i].skip_conn && !cs[i].skip_msg)
				(void)send_cmd(&cs[i], SMFIC_ABORT, NULL, 0);
	}
	goto done;
early:
	if (r == SMFIR_CONTINUE)
		r = SMFIR_ACCEPT;
	if (r >= 0)
		abort_all(cs);
done:
	if (o.verbose && r >= 0) {
		size_t k;

		flockfile(stderr);
		fprintf(stderr, "%s %s: final '%c'\n", qid, mm->from, r);
		for (k = 0; k < f.n; k++)
			if (strcasecmp(f.v[k].name, "Authentication-Results")
			    == 0 || strncasecmp(f.v[k].name, "X-Spam", 6) == 0)
				fprintf(stderr, "  %s:%s\n", f.v[k].name,
				    f.v[k].value);
		funlockfile(stderr);
	}
	fields_clear(&f);
	free(f.v);
	buf_release(&b);
	buf_release(&body);
	buf_release(&newbody);
	return r;
}

static int
open_conns(struct conn *cs, long n)
{
	struct buf b = BUF_INIT;
	const char *ip = o.nips ? o.ips[n % (long)o.nips] : "192.0.2.10";
	char under[300];
	uint16_t port = htons(25);
	int i, r;

	for (i = 0; i < o.nsockets; i++) {
		cs[i].skip_conn = cs[i].skip_msg = false;
		if ((cs[i].fd = connect_milter(o.sockets[i])) < 0)
			return -1;
		if (negotiate(&cs[i]) < 0)
			return -1;
	}
	snprintf(under, sizeof(under), "client.bench.test [%s]", ip);
	add_str(&b, "client.bench.test");
	buf_addc(&b, strchr(ip, ':') ? '6' : '4');
	buf_add(&b, &port, 2);
	add_str(&b, ip);
	r = envelope_all(cs, SMFIC_CONNECT, b.data, b.len, SMFIP_NR_CONN,
	    SMFIP_NOCONNECT, NULL, (const char *const []){ "j",
	    "mx.bench.test", "{daemon_name}", "mwload", "{daemon_addr}",
	    "127.0.0.1", "v", "Postfix 3.7.11", "_", under, "{client_addr}",
	    ip, "{client_name}", "client.bench.test", "{client_ptr}",
	    "client.bench.test", NULL });
	buf_release(&b);
	if (r != SMFIR_CONTINUE)
		return r < 0 ? -1 : r;
	r = envelope_all(cs, SMFIC_HELO, o.helo, strlen(o.helo) + 1,
	    SMFIP_NR_HELO, SMFIP_NOHELO, NULL, NULL);
	if (r != SMFIR_CONTINUE)
		return r < 0 ? -1 : r;
	return 0;
}

static void
close_conns(struct conn *cs)
{
	int i;

	for (i = 0; i < o.nsockets; i++) {
		if (cs[i].fd >= 0) {
			buf_reset(&cs[i].out);
			(void)send_cmd(&cs[i], SMFIC_QUIT, NULL, 0);
			close(cs[i].fd);
			cs[i].fd = -1;
		}
	}
}

static void
record(int r, double t0, const struct tally *t)
{
	int m;

	pthread_mutex_lock(&st.lock);
	if (r < 0) {
		st.errors++;
	} else {
		st.actions[r & 255]++;
		st.lat[st.nlat++] = now_ms() - t0;
		st.adds += t->adds;
		st.ins += t->ins;
		st.chg += t->chg;
		st.del += t->del;
		st.quarantines += t->quarantines;
		st.replbody += t->replbody ? 1 : 0;
		st.replycodes += t->replycodes;
		st.ar += t->ar;
		st.spam += t->spam;
		st.dkim += t->dkim;
		st.spam_yes += t->spam_yes;
		for (m = 0; m < AR_NMETH; m++)
			st.res[m][t->res[m]]++;
	}
	pthread_mutex_unlock(&st.lock);
}

static void *
worker(void *arg)
{
	struct conn cs[MAX_MILTERS];
	int used = 0, i;
	bool open = false;
	long n;

	(void)arg;
	for (i = 0; i < o.nsockets; i++) {
		cs[i].fd = -1;
		buf_init(&cs[i].out);
		buf_init(&cs[i].in);
	}
	while ((n = atomic_fetch_add(&next_msg, 1)) < o.count) {
		struct tally t;
		double t0 = now_ms();
		int r;

		if (o.rate > 0) {
			/* paced: latency counts from the planned start */
			double plan = start_ms + (double)n * 1000.0 / o.rate;

			if (plan > t0) {
				struct timespec ts;
				double d = plan - t0;

				ts.tv_sec = (time_t)(d / 1000.0);
				ts.tv_nsec = (long)((d - (double)ts.tv_sec *
				    1000.0) * 1e6);
				while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
					;
			}
			t0 = plan;
		}

		memset(&t, 0, sizeof(t));
		if (!open) {
			r = open_conns(cs, n);
			if (r != 0) {
				/* refused at connect/HELO: a final answer */
				record(r, t0, &t);
				close_conns(cs);
				continue;
			}
			open = true;
			used = 0;
		}
		r = one_message(cs, &msgs[n % (long)nmsgs], n, &t);
		record(r, t0, &t);
		if (r < 0 || ++used >= o.per_conn || r == SMFIR_CONN_FAIL ||
		    r == SMFIR_SHUTDOWN) {
			close_conns(cs);
			open = false;
		}
	}
	close_conns(cs);
	for (i = 0; i < o.nsockets; i++) {
		buf_release(&cs[i].out);
		buf_release(&cs[i].in);
	}
	return NULL;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double
pct(double p)
{
	size_t i;

	if (st.nlat == 0)
		return 0;
	i = (size_t)(p / 100.0 * (double)(st.nlat - 1) + 0.5);
	return st.lat[i];
}

static void
load_ips(const char *path)
{
	struct buf b = BUF_INIT, why = BUF_INIT;
	char *save = NULL, *tok;

	if (files_read(path, 16 << 20, &b, &why) < 0) {
		fprintf(stderr, "mwload: %s\n", buf_cstr(&why));
		exit(1);
	}
	for (tok = strtok_r(b.data, " \t\r\n", &save); tok;
	    tok = strtok_r(NULL, " \t\r\n", &save)) {
		o.ips = xreallocarray(o.ips, o.nips + 1, sizeof(char *));
		o.ips[o.nips++] = xstrdup(tok);
	}
	buf_release(&b);
	buf_release(&why);
}

static void
usage(void)
{
	fprintf(stderr, "usage: mwload -s SOCKET [-s SOCKET]... "
	    "[-c CONCURRENCY] [-n MESSAGES]\n"
	    "              [-m PER_CONNECTION] [-i IPFILE] [-r RCPT] "
	    "[-H HELO] [-R RATE] [-v] [--json]\n"
	    "              FILE|DIR...\n");
	exit(2);
}

static void
print_json(double secs)
{
	int m, r;

	printf("{\"messages\":%zu,\"errors\":%ld,\"seconds\":%.3f,"
	    "\"msgs_per_sec\":%.1f,\"p50_ms\":%.3f,\"p95_ms\":%.3f,"
	    "\"p99_ms\":%.3f,\"max_ms\":%.3f,\"accept\":%ld,"
	    "\"reject\":%ld,\"tempfail\":%ld,\"discard\":%ld,"
	    "\"replycode\":%ld,\"headers_added\":%ld,"
	    "\"headers_inserted\":%ld,\"headers_changed\":%ld,"
	    "\"headers_deleted\":%ld,\"body_replaced\":%ld,"
	    "\"authres\":%ld,\"x_spam\":%ld,\"spam_yes\":%ld,"
	    "\"dkim_sig\":%ld,\"quarantined\":%ld,\"concurrency\":%d,"
	    "\"per_conn\":%d,\"milters\":%d,\"rate\":%.1f,\"auth\":{",
	    st.nlat, st.errors, secs, (double)st.nlat / secs, pct(50),
	    pct(95), pct(99), pct(100), st.actions[SMFIR_ACCEPT],
	    st.actions[SMFIR_REJECT], st.actions[SMFIR_TEMPFAIL],
	    st.actions[SMFIR_DISCARD], st.replycodes, st.adds,
	    st.ins, st.chg, st.del, st.replbody, st.ar, st.spam, st.spam_yes,
	    st.dkim, st.quarantines, o.concurrency, o.per_conn, o.nsockets,
	    o.rate);
	for (m = 0; m < AR_NMETH; m++) {
		printf("%s\"%s\":{", m ? "," : "", ar_meth[m]);
		for (r = 0; r < RES_N; r++)
			printf("%s\"%s\":%ld", r ? "," : "", res_name[r],
			    st.res[m][r]);
		printf("}");
	}
	printf("}}\n");
}

static void
print_text(double secs)
{
	int m, r;

	printf("%zu messages in %.2f s: %.1f msg/s, concurrency %d, "
	    "%d per connection, %d milter(s), %ld errors\n", st.nlat, secs,
	    (double)st.nlat / secs, o.concurrency, o.per_conn, o.nsockets,
	    st.errors);
	printf("latency ms: p50 %.2f  p95 %.2f  p99 %.2f  max %.2f\n",
	    pct(50), pct(95), pct(99), pct(100));
	printf("final: accept %ld  reject %ld  tempfail %ld  discard "
	    "%ld  (with a reply code: %ld)\n", st.actions[SMFIR_ACCEPT],
	    st.actions[SMFIR_REJECT], st.actions[SMFIR_TEMPFAIL],
	    st.actions[SMFIR_DISCARD], st.replycodes);
	printf("headers: added %ld  inserted %ld  changed %ld  deleted %ld "
	    "(Authentication-Results %ld, X-Spam* %ld, DKIM-Signature %ld), "
	    "bodies replaced %ld, quarantined %ld, flagged as spam %ld\n",
	    st.adds, st.ins, st.chg, st.del, st.ar, st.spam, st.dkim,
	    st.replbody, st.quarantines, st.spam_yes);
	for (m = 0; m < AR_NMETH; m++) {
		printf("%s:", ar_meth[m]);
		for (r = 0; r < RES_N; r++)
			if (st.res[m][r])
				printf(" %s %ld", res_name[r], st.res[m][r]);
		printf("\n");
	}
}

int
main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 }
	};
	pthread_t *tids;
	double t0, secs;
	int ch, i;

	signal(SIGPIPE, SIG_IGN);	/* a milter that hangs up: an error */
	o.concurrency = 1;
	o.count = -1;
	o.per_conn = 1;
	o.rcpt = "user@bench.test";
	o.helo = "client.bench.test";
	while ((ch = getopt_long(argc, argv, "s:c:n:m:i:r:H:R:vj", lopts,
	    NULL)) != -1) {
		switch (ch) {
		case 's':
			if (o.nsockets == MAX_MILTERS) {
				fprintf(stderr, "mwload: at most %d milters\n",
				    MAX_MILTERS);
				return 2;
			}
			o.sockets[o.nsockets++] = optarg;
			break;
		case 'c': o.concurrency = atoi(optarg); break;
		case 'n': o.count = atol(optarg); break;
		case 'm': o.per_conn = atoi(optarg); break;
		case 'i': load_ips(optarg); break;
		case 'r': o.rcpt = optarg; break;
		case 'H': o.helo = optarg; break;
		case 'R': o.rate = atof(optarg); break;
		case 'v': o.verbose = true; break;
		case 'j': o.json = true; break;
		default: usage();
		}
	}
	if (o.nsockets == 0 || optind >= argc || o.concurrency < 1 ||
	    o.per_conn < 1)
		usage();
	for (i = optind; i < argc; i++)
		load_path(argv[i]);
	if (nmsgs == 0) {
		fprintf(stderr, "mwload: no messages\n");
		return 1;
	}
	if (o.count < 0)
		o.count = (long)nmsgs;
	st.lat = xcalloc((size_t)o.count + 1, sizeof(double));
	tids = xcalloc((size_t)o.concurrency, sizeof(pthread_t));
	t0 = start_ms = now_ms();
	for (i = 0; i < o.concurrency; i++)
		if (pthread_create(&tids[i], NULL, worker, NULL) != 0) {
			fprintf(stderr, "mwload: pthread_create failed\n");
			return 1;
		}
	for (i = 0; i < o.concurrency; i++)
		pthread_join(tids[i], NULL);
	secs = (now_ms() - t0) / 1000.0;
	qsort(st.lat, st.nlat, sizeof(double), cmp_double);
	if (o.json)
		print_json(secs);
	else
		print_text(secs);
	return st.errors ? 1 : 0;
}
