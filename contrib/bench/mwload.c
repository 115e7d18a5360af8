/*
 * mwload.c - a milter protocol (version 6) load generator
 *
 * DESCRIPTION
 *	Speaks the MTA side of the milter protocol directly to any milter
 *	socket: option negotiation, macros, connect (client addresses from a
 *	list), HELO, MAIL, RCPT, DATA, headers, end of headers, body in
 *	chunks, end of message; it reads every reply and modification.
 *	N threads each take the next message from the set; a connection
 *	carries one message or many (-m).  At the end it prints messages/s,
 *	latency percentiles, the tally of final actions and of header
 *	changes, and errors; --json prints the same as one JSON object.
 *
 *	Latency is measured per message from its first command (the connect
 *	when a connection starts with it) to the final reply at end of
 *	message.
 *
 * USAGE
 *	mwload -s unix:/path|inet:PORT@HOST [-c CONCURRENCY] [-n MESSAGES]
 *	       [-m PER_CONNECTION] [-i IPFILE] [-r RCPT] [--json] FILE|DIR...
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
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

#define MAX_ACTIONS	8

struct message {
	struct msg *m;		/* headers + body (CRLF) */
	char	*from;		/* envelope sender */
};

struct opts {
	const char *socket;
	int	 concurrency;
	long	 count;
	int	 per_conn;
	const char *rcpt;
	char	**ips;
	size_t	 nips;
	bool	 json;
};

struct stats {
	pthread_mutex_t lock;
	double	*lat;		/* ms, one per message */
	size_t	 nlat;
	long	 actions[256];	/* final reply command -> count */
	long	 hdr_adds, hdr_ins, hdr_chg, quarantines, errors;
	long	 hdr_names_ar, hdr_names_spam, hdr_names_dkim;
};

static struct message *msgs;
static size_t nmsgs;
static struct opts o;
static struct stats st = { .lock = PTHREAD_MUTEX_INITIALIZER };
static atomic_long next_msg;

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
	char *lt, *gt;

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
	msgs = xreallocarray(msgs, nmsgs + 1, sizeof(*msgs));
	msgs[nmsgs].m = lc.m;
	msgs[nmsgs].from = xstrdup(from.len && !strchr(from.data, ' ') ?
	    from.data : "sender@example.org");
	nmsgs++;
	buf_release(&data);
	buf_release(&why);
	buf_release(&from);
}

static void
load_path(const char *path)
{
	struct stat sb;
	DIR *d;
	struct dirent *e;
	char p[4096];

	if (stat(path, &sb) < 0) {
		fprintf(stderr, "mwload: %s: %s\n", path, strerror(errno));
		exit(1);
	}
	if (!S_ISDIR(sb.st_mode)) {
		load_file(path);
		return;
	}
	if ((d = opendir(path)) == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", path, e->d_name);
		load_path(p);
	}
	closedir(d);
}

/* ---- the wire ---- */

struct conn {
	int	 fd;
	unsigned long prot;	/* protocol flags the milter chose */
	struct buf out;
	struct buf in;
};

static int
connect_milter(void)
{
	const char *spec = o.socket;
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
		const char *at = strchr(spec, '@');

		if (at == NULL)
			return -1;
		snprintf(port, sizeof(port), "%.*s",
		    (int)(at - strchr(spec, ':') - 1), strchr(spec, ':') + 1);
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

/* read_reply - one packet from the milter into c->in; returns command */
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
 * step - send a command and, unless the milter waived the reply, read it.
 * Returns the reply command, 'c' when no reply was expected, -1 on error.
 */
static int
step(struct conn *c, char cmd, const void *data, size_t len,
    unsigned long nr_flag)
{
	int r;

	if (send_cmd(c, cmd, data, len) < 0)
		return -1;
	if (nr_flag && (c->prot & nr_flag))
		return 'c';
	do
		r = read_reply(c);
	while (r == SMFIR_PROGRESS);
	return r;
}

static int
macro(struct conn *c, char stage, const char *name, const char *value)
{
	struct buf b = BUF_INIT;
	int rc;

	buf_addc(&b, stage);
	add_str(&b, name);
	add_str(&b, value);
	queue_cmd(c, SMFIC_MACRO, b.data, b.len);
	buf_release(&b);
	rc = 0;
	return rc;
}

static bool
is_final(int r)
{
	return r == SMFIR_ACCEPT || r == SMFIR_REJECT || r == SMFIR_TEMPFAIL ||
	    r == SMFIR_DISCARD || r == SMFIR_REPLYCODE || r == SMFIR_CONN_FAIL ||
	    r == SMFIR_SHUTDOWN;
}

/* eom - end of message: read modifications until the final reply */
static int
eom(struct conn *c, long *adds, long *ins, long *chg, long *q, long *ar,
    long *spam, long *dkim)
{
	int r;

	if (send_cmd(c, SMFIC_BODYEOB, NULL, 0) < 0)
		return -1;
	for (;;) {
		const char *name;

		if ((r = read_reply(c)) < 0)
			return -1;
		switch (r) {
		case SMFIR_ADDHEADER:
		case SMFIR_INSHEADER:
		case SMFIR_CHGHEADER:
			name = c->in.data + (r == SMFIR_ADDHEADER ? 0 : 4);
			if (r == SMFIR_ADDHEADER)
				(*adds)++;
			else if (r == SMFIR_INSHEADER)
				(*ins)++;
			else
				(*chg)++;
			if (c->in.len > 4 && r != SMFIR_CHGHEADER) {
				if (strncasecmp(name, "Authentication-Results",
				    22) == 0)
					(*ar)++;
				else if (strncasecmp(name, "X-Spam-", 7) == 0)
					(*spam)++;
				else if (strncasecmp(name, "DKIM-Signature",
				    14) == 0)
					(*dkim)++;
			}
			break;
		case SMFIR_QUARANTINE:
			(*q)++;
			break;
		case SMFIR_CONTINUE:
			return SMFIR_ACCEPT;	/* continue at EOM = accept */
		default:
			if (is_final(r))
				return r;
			break;	/* other modifications: counted nowhere */
		}
	}
}

/* one_message - a transaction on an open connection; final reply */
static int
one_message(struct conn *c, const struct message *mm, long qid,
    long *adds, long *ins, long *chg, long *q, long *ar, long *spam,
    long *dkim)
{
	const struct msg *m = mm->m;
	struct buf b = BUF_INIT;
	char qbuf[32];
	size_t i, off;
	int r;

	buf_printf(&b, "<%s>", mm->from);
	buf_addc(&b, '\0');
	if (!(c->prot & SMFIP_NOMAIL)) {
		r = step(c, SMFIC_MAIL, b.data, b.len, SMFIP_NR_MAIL);
		if (r != SMFIR_CONTINUE)
			goto done;
	}
	buf_reset(&b);
	buf_printf(&b, "<%s>", o.rcpt);
	buf_addc(&b, '\0');
	if (!(c->prot & SMFIP_NORCPT)) {
		r = step(c, SMFIC_RCPT, b.data, b.len, SMFIP_NR_RCPT);
		if (r != SMFIR_CONTINUE)
			goto done;
	}
	if (!(c->prot & SMFIP_NODATA)) {
		r = step(c, SMFIC_DATA, NULL, 0, SMFIP_NR_DATA);
		if (r != SMFIR_CONTINUE)
			goto done;
	}
	for (i = 0; i < m->nhdrs && !(c->prot & SMFIP_NOHDRS); i++) {
		const char *v = m->hdrs[i].value;
		size_t vl = m->hdrs[i].value_len;

		if (!(c->prot & SMFIP_HDR_LEADSPC) && vl && *v == ' ') {
			v++;
			vl--;
		}
		buf_reset(&b);
		buf_add(&b, m->hdrs[i].name, m->hdrs[i].name_len + 1);
		buf_add(&b, v, vl);
		buf_addc(&b, '\0');
		r = step(c, SMFIC_HEADER, b.data, b.len, SMFIP_NR_HDR);
		if (r == SMFIR_SKIP)
			break;
		if (r != SMFIR_CONTINUE)
			goto done;
	}
	if (!(c->prot & SMFIP_NOEOH)) {
		r = step(c, SMFIC_EOH, NULL, 0, SMFIP_NR_EOH);
		if (r != SMFIR_CONTINUE)
			goto done;
	}
	for (off = 0; off < m->body.len && !(c->prot & SMFIP_NOBODY);
	    off += MILTER_CHUNK_SIZE) {
		size_t n = m->body.len - off;

		if (n > MILTER_CHUNK_SIZE)
			n = MILTER_CHUNK_SIZE;
		r = step(c, SMFIC_BODY, m->body.data + off, n, SMFIP_NR_BODY);
		if (r == SMFIR_SKIP)
			break;
		if (r != SMFIR_CONTINUE)
			goto done;
	}
	snprintf(qbuf, sizeof(qbuf), "BENCH%07ld", qid);
	if (macro(c, SMFIC_BODYEOB, "i", qbuf) < 0) {
		r = -1;
		goto done;
	}
	r = eom(c, adds, ins, chg, q, ar, spam, dkim);
done:
	buf_release(&b);
	return r;
}

static int
open_conn(struct conn *c, long n)
{
	struct buf b = BUF_INIT;
	const char *ip = o.nips ? o.ips[n % (long)o.nips] : "192.0.2.10";
	uint16_t port = htons(25);
	int r;

	if ((c->fd = connect_milter()) < 0)
		return -1;
	if (negotiate(c) < 0)
		return -1;
	if (macro(c, SMFIC_CONNECT, "j", "mx.bench.test") < 0)
		return -1;
	if (!(c->prot & SMFIP_NOCONNECT)) {
		add_str(&b, "client.bench.test");
		buf_addc(&b, strchr(ip, ':') ? '6' : '4');
		buf_add(&b, &port, 2);
		add_str(&b, ip);
		r = step(c, SMFIC_CONNECT, b.data, b.len, SMFIP_NR_CONN);
		buf_release(&b);
		if (r != SMFIR_CONTINUE)
			return r < 0 ? -1 : r;
	}
	if (!(c->prot & SMFIP_NOHELO)) {
		r = step(c, SMFIC_HELO, "client.bench.test", 18, SMFIP_NR_HELO);
		if (r != SMFIR_CONTINUE)
			return r < 0 ? -1 : r;
	}
	return 0;
}

static void
close_conn(struct conn *c)
{
	if (c->fd >= 0) {
		buf_reset(&c->out);
		(void)send_cmd(c, SMFIC_QUIT, NULL, 0);
		close(c->fd);
		c->fd = -1;
	}
}

static void *
worker(void *arg)
{
	struct conn c = { -1, 0, BUF_INIT, BUF_INIT };
	int used = 0;
	long n;

	(void)arg;
	while ((n = atomic_fetch_add(&next_msg, 1)) < o.count) {
		long adds = 0, ins = 0, chg = 0, q = 0, ar = 0, spam = 0, dk = 0;
		double t0 = now_ms();
		int r;

		if (c.fd < 0) {
			r = open_conn(&c, n);
			if (r != 0) {
				pthread_mutex_lock(&st.lock);
				if (r < 0)
					st.errors++;
				else
					st.actions[r & 255]++;
				pthread_mutex_unlock(&st.lock);
				close_conn(&c);
				continue;
			}
			used = 0;
		}
		r = one_message(&c, &msgs[n % (long)nmsgs], n, &adds, &ins,
		    &chg, &q, &ar, &spam, &dk);
		pthread_mutex_lock(&st.lock);
		if (r < 0) {
			st.errors++;
		} else {
			st.actions[r & 255]++;
			st.lat[st.nlat++] = now_ms() - t0;
			st.hdr_adds += adds;
			st.hdr_ins += ins;
			st.hdr_chg += chg;
			st.quarantines += q;
			st.hdr_names_ar += ar;
			st.hdr_names_spam += spam;
			st.hdr_names_dkim += dk;
		}
		pthread_mutex_unlock(&st.lock);
		if (r < 0 || ++used >= o.per_conn || r == SMFIR_CONN_FAIL ||
		    r == SMFIR_SHUTDOWN)
			close_conn(&c);
	}
	close_conn(&c);
	buf_release(&c.out);
	buf_release(&c.in);
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
	fprintf(stderr, "usage: mwload -s SOCKET [-c CONCURRENCY] [-n MESSAGES] "
	    "[-m PER_CONNECTION]\n"
	    "              [-i IPFILE] [-r RCPT] [--json] FILE|DIR...\n");
	exit(2);
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

	o.concurrency = 1;
	o.count = -1;
	o.per_conn = 1;
	o.rcpt = "user@bench.test";
	while ((ch = getopt_long(argc, argv, "s:c:n:m:i:r:j", lopts, NULL)) != -1) {
		switch (ch) {
		case 's': o.socket = optarg; break;
		case 'c': o.concurrency = atoi(optarg); break;
		case 'n': o.count = atol(optarg); break;
		case 'm': o.per_conn = atoi(optarg); break;
		case 'i': load_ips(optarg); break;
		case 'r': o.rcpt = optarg; break;
		case 'j': o.json = true; break;
		default: usage();
		}
	}
	if (o.socket == NULL || optind >= argc || o.concurrency < 1 ||
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
	st.lat = xcalloc((size_t)o.count, sizeof(double));
	tids = xcalloc((size_t)o.concurrency, sizeof(pthread_t));
	t0 = now_ms();
	for (i = 0; i < o.concurrency; i++)
		pthread_create(&tids[i], NULL, worker, NULL);
	for (i = 0; i < o.concurrency; i++)
		pthread_join(tids[i], NULL);
	secs = (now_ms() - t0) / 1000.0;
	qsort(st.lat, st.nlat, sizeof(double), cmp_double);
	if (o.json) {
		printf("{\"messages\":%zu,\"errors\":%ld,\"seconds\":%.3f,"
		    "\"msgs_per_sec\":%.1f,\"p50_ms\":%.3f,\"p95_ms\":%.3f,"
		    "\"p99_ms\":%.3f,\"max_ms\":%.3f,\"accept\":%ld,"
		    "\"reject\":%ld,\"tempfail\":%ld,\"discard\":%ld,"
		    "\"replycode\":%ld,\"headers_added\":%ld,"
		    "\"headers_inserted\":%ld,\"headers_changed\":%ld,"
		    "\"authres\":%ld,\"x_spam\":%ld,\"dkim_sig\":%ld,"
		    "\"quarantined\":%ld,\"concurrency\":%d,\"per_conn\":%d}\n",
		    st.nlat, st.errors, secs, (double)st.nlat / secs, pct(50),
		    pct(95), pct(99), pct(100), st.actions['a'],
		    st.actions['r'], st.actions['t'], st.actions['d'],
		    st.actions['y'], st.hdr_adds, st.hdr_ins, st.hdr_chg,
		    st.hdr_names_ar, st.hdr_names_spam, st.hdr_names_dkim,
		    st.quarantines, o.concurrency, o.per_conn);
	} else {
		printf("%zu messages in %.2f s: %.1f msg/s, concurrency %d, "
		    "%d per connection, %ld errors\n", st.nlat, secs,
		    (double)st.nlat / secs, o.concurrency, o.per_conn,
		    st.errors);
		printf("latency ms: p50 %.2f  p95 %.2f  p99 %.2f  max %.2f\n",
		    pct(50), pct(95), pct(99), pct(100));
		printf("final: accept %ld  reject %ld  tempfail %ld  discard "
		    "%ld  replycode %ld\n", st.actions['a'], st.actions['r'],
		    st.actions['t'], st.actions['d'], st.actions['y']);
		printf("headers: added %ld  inserted %ld  changed %ld "
		    "(Authentication-Results %ld, X-Spam-* %ld, DKIM-Signature "
		    "%ld), quarantined %ld\n", st.hdr_adds, st.hdr_ins,
		    st.hdr_chg, st.hdr_names_ar, st.hdr_names_spam,
		    st.hdr_names_dkim, st.quarantines);
	}
	return st.errors ? 1 : 0;
}
