/*
 * dns_ldns.c - the resolver backend that asks real DNS servers
 *
 * DESCRIPTION
 *	Queries go to the configured servers (dns_servers, each with its
 *	own port; default: the nameservers of /etc/resolv.conf, read with
 *	ldns_resolver_new_frm_file()) over UDP, in order, for 1 + retries
 *	rounds, each try waiting at most dns_timeout, all within the
 *	query's overall timeout (the generic layer passes the smaller of
 *	dns_query_timeout and the message's remaining budget).  A reply
 *	with TC set is asked again over TCP at the same server.
 *
 *	ldns builds the query (ldns_pkt_query_new, ldns_pkt2wire) and
 *	parses the reply (ldns_wire2pkt); the socket work is done here with
 *	connected, non-blocking sockets and poll(), so every wait is
 *	bounded by the deadline and there is no shared mutable state: an
 *	ldns_resolver (which is not safe to share between threads) is only
 *	used at start-up to read resolv.conf and then freed.  Any number
 *	of threads may query at once.
 *
 *	Replies are validated before use: source (connected socket), ID,
 *	QR, opcode, exactly one question equal to ours (name, type, class
 *	IN).  A reply with another ID is ignored and the wait goes on.
 *	RCODE NOERROR and NXDOMAIN are answers; SERVFAIL, REFUSED and all
 *	others make the next server be tried and end as DNS_SERVFAIL.  A
 *	packet that does not parse, or whose records have the wrong shape,
 *	is DNS_MALFORMED (temporary).  An empty NOERROR answer is NODATA
 *	only with an SOA in the authority section or the AA bit; otherwise
 *	it is a referral or lame answer and counts as SERVFAIL, never as
 *	"no record".
 *
 *	CNAME chains in the answer section are followed from the question
 *	name; when the chain leaves the reply (an authoritative-only
 *	server answering for a target outside its zones) the target is
 *	asked for, up to DNS_MAX_CNAME links in all.
 *
 * SECURITY
 *	Replies are untrusted.  Records whose owner is not on the chain
 *	from the question are ignored; nothing from the additional section
 *	is used.  IDs come from getrandom(); source ports from the kernel.
 *
 * STANDARDS
 *	RFC 1035, RFC 2308 (negative TTL), RFC 6604 (rcode of CNAME
 *	chains), RFC 6891 (EDNS0 UDP size), RFC 7766 (TCP).
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "dns_int.h"
#include "log.h"
#include "str.h"

#define LDNS_BE_MAX_SERVERS	16
#define LDNS_BE_BUFSZ		65536

struct server {
	struct sockaddr_storage ss;
	socklen_t len;
	char	 text[64];
};

struct ldns_be {
	struct server servers[LDNS_BE_MAX_SERVERS];
	size_t	 nservers;
	double	 try_ms;
	unsigned retries;
	unsigned edns_size;
};

static double
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

/* ---- reply validation and conversion (pure; fuzzed) ---- */

static bool
owner_is(const ldns_rr *rr, const char *name)
{
	char text[LDNS_MAX_DOMAINLEN * 4 + 1];

	return ldns_rr_get_class(rr) == LDNS_RR_CLASS_IN &&
	    dns_dname_text(ldns_rr_owner(rr), text, sizeof(text)) == 0 &&
	    strcmp(text, name) == 0;
}

/* question_ok - exactly one question, equal to ours */
static bool
question_ok(const ldns_pkt *p, const char *qname, uint16_t qtype)
{
	const ldns_rr_list *q = ldns_pkt_question(p);
	const ldns_rr *rr;

	if (q == NULL || ldns_rr_list_rr_count(q) != 1)
		return false;
	rr = ldns_rr_list_rr(q, 0);
	return ldns_rr_get_type(rr) == qtype && owner_is(rr, qname);
}

/* negative_ttl - min(SOA TTL, MINIMUM) from the authority section */
static long
negative_ttl(const ldns_pkt *p)
{
	const ldns_rr_list *auth = ldns_pkt_authority(p);
	size_t i;
	long t;

	for (i = 0; auth && i < ldns_rr_list_rr_count(auth); i++)
		if ((t = dns_soa_negative_ttl(ldns_rr_list_rr(auth, i))) >= 0)
			return t;
	return -1;
}

/*
 * walk_answer - follow the chain from qname through the answer section,
 * converting records of qtype at its end.  Sets *end to the last name.
 */
static int
walk_answer(const ldns_pkt *p, const char *qname, uint16_t qtype,
    struct dns_answer *out, char *end, size_t endsz, uint32_t *ttl)
{
	const ldns_rr_list *ans = ldns_pkt_answer(p);
	size_t n = ans ? ldns_rr_list_rr_count(ans) : 0, i, hop;
	const ldns_rr *rr, *cname;

	if (strlen(qname) >= endsz)
		return -1;
	memcpy(end, qname, strlen(qname) + 1);
	for (hop = 0; hop <= DNS_MAX_CNAME; hop++) {
		cname = NULL;
		for (i = 0; i < n; i++) {
			rr = ldns_rr_list_rr(ans, i);
			if (!owner_is(rr, end))
				continue;
			if (ldns_rr_get_type(rr) == qtype) {
				if (dns_rr_convert(rr, out) < 0)
					return -1;
				if (ldns_rr_ttl(rr) < *ttl)
					*ttl = ldns_rr_ttl(rr);
			} else if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_CNAME)
				cname = rr;
		}
		if (out->n > 0 || cname == NULL || qtype == DNS_T_CNAME)
			return 0;
		if (ldns_rr_rd_count(cname) != 1 ||
		    dns_dname_text(ldns_rr_rdf(cname, 0), end, endsz) < 0)
			return -1;
		if (ldns_rr_ttl(cname) < *ttl)
			*ttl = ldns_rr_ttl(cname);
	}
	return -1;	/* chain inside one reply longer than the limit */
}

enum dns_reply
dns_reply_parse(const uint8_t *wire, size_t len, uint16_t id,
    const char *qname, uint16_t qtype, struct dns_answer *out, char *next,
    size_t nextsz)
{
	enum dns_reply rc = DNS_REPLY_MALFORMED;
	ldns_pkt *p = NULL;
	ldns_pkt_rcode rcode;
	uint32_t ttl = UINT32_MAX;
	long neg;

	if (len < 12 || (uint16_t)(wire[0] << 8 | wire[1]) != id)
		return DNS_REPLY_IGNORE;
	if (ldns_wire2pkt(&p, wire, len) != LDNS_STATUS_OK)
		return DNS_REPLY_MALFORMED;
	if (!ldns_pkt_qr(p) || ldns_pkt_get_opcode(p) != LDNS_PACKET_QUERY)
		goto out;
	rcode = ldns_pkt_get_rcode(p);
	if (rcode != LDNS_RCODE_NOERROR && rcode != LDNS_RCODE_NXDOMAIN) {
		/* error replies may come without the question */
		rc = ldns_pkt_qdcount(p) == 0 || question_ok(p, qname, qtype) ?
		    DNS_REPLY_SERVFAIL : DNS_REPLY_MALFORMED;
		goto out;
	}
	if (ldns_pkt_tc(p)) {
		rc = DNS_REPLY_TRUNCATED;
		goto out;
	}
	if (!question_ok(p, qname, qtype))
		goto out;
	if (walk_answer(p, qname, qtype, out, next, nextsz, &ttl) < 0)
		goto out;
	neg = negative_ttl(p);
	rc = DNS_REPLY_DONE;
	if (out->n > 0) {
		out->status = DNS_OK;
		out->ttl = ttl;
	} else if (rcode == LDNS_RCODE_NXDOMAIN) {
		out->status = DNS_NXDOMAIN;	/* of the chain's end: RFC 6604 */
		out->ttl = neg >= 0 ? (uint32_t)neg : 0;
	} else if (strcmp(next, qname) != 0 && neg < 0) {
		out->ttl = ttl;
		rc = DNS_REPLY_FOLLOW;
	} else if (neg >= 0 || ldns_pkt_aa(p)) {
		out->status = DNS_NODATA;
		out->ttl = neg >= 0 ? (uint32_t)neg : 0;
	} else
		rc = DNS_REPLY_SERVFAIL;	/* referral or lame */
	if (rc == DNS_REPLY_DONE && out->status != DNS_OK && ttl < out->ttl)
		out->ttl = ttl;			/* a CNAME's TTL bounds it */
out:
	ldns_pkt_free(p);
	return rc;
}

/* ---- sockets ---- */

/* wait_fd - poll fd for events until deadline; 1 ready, 0 timeout */
static int
wait_fd(int fd, short events, double deadline)
{
	struct pollfd pfd;
	double left;
	int rc;

	for (;;) {
		left = deadline - mono_ms();
		if (left <= 0)
			return 0;
		pfd.fd = fd;
		pfd.events = events;
		pfd.revents = 0;
		rc = poll(&pfd, 1, (int)(left + 0.999));
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc < 0)
			return -1;
		if (rc == 0)
			continue;	/* re-check the clock */
		return 1;
	}
}

static int
open_socket(const struct server *s, int type)
{
	int fd = socket(s->ss.ss_family, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	if (fd < 0)
		return -1;
	if (connect(fd, (const struct sockaddr *)&s->ss, s->len) < 0 &&
	    errno != EINPROGRESS) {
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * udp_try - one try at one server.  Returns the reply kind; IGNORE
 * means nothing usable came (timeout or network error).
 */
static enum dns_reply
udp_try(const struct server *s, const uint8_t *q, size_t qlen, uint16_t id,
    const char *qname, uint16_t qtype, double deadline, uint8_t *buf,
    struct dns_answer *out, char *next, size_t nextsz)
{
	enum dns_reply rc = DNS_REPLY_IGNORE;
	ssize_t n;
	int fd;

	if ((fd = open_socket(s, SOCK_DGRAM)) < 0)
		return DNS_REPLY_IGNORE;
	if (send(fd, q, qlen, 0) != (ssize_t)qlen)
		goto out;
	while (wait_fd(fd, POLLIN, deadline) == 1) {
		n = recv(fd, buf, LDNS_BE_BUFSZ, 0);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0)
			break;		/* ECONNREFUSED: nobody there */
		rc = dns_reply_parse(buf, (size_t)n, id, qname, qtype, out,
		    next, nextsz);
		if (rc != DNS_REPLY_IGNORE)
			break;
	}
out:
	close(fd);
	return rc;
}

/* io_all - write or read exactly n bytes before the deadline */
static int
io_all(int fd, bool writing, uint8_t *p, size_t n, double deadline)
{
	ssize_t k;

	while (n > 0) {
		if (wait_fd(fd, writing ? POLLOUT : POLLIN, deadline) != 1)
			return -1;
		k = writing ? send(fd, p, n, MSG_NOSIGNAL) : recv(fd, p, n, 0);
		if (k < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (k <= 0)
			return -1;
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

/* tcp_try - the same question over TCP (RFC 7766) */
static enum dns_reply
tcp_try(const struct server *s, const uint8_t *q, size_t qlen, uint16_t id,
    const char *qname, uint16_t qtype, double deadline, uint8_t *buf,
    struct dns_answer *out, char *next, size_t nextsz)
{
	enum dns_reply rc = DNS_REPLY_IGNORE;
	uint8_t len[2];
	socklen_t sl = sizeof(int);
	int fd, err = 0;
	size_t n;

	if (qlen > 65535 || (fd = open_socket(s, SOCK_STREAM)) < 0)
		return DNS_REPLY_IGNORE;
	if (wait_fd(fd, POLLOUT, deadline) != 1 ||
	    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &sl) < 0 || err != 0)
		goto out;
	len[0] = (uint8_t)(qlen >> 8);
	len[1] = (uint8_t)qlen;
	if (io_all(fd, true, len, 2, deadline) < 0 ||
	    io_all(fd, true, (uint8_t *)q, qlen, deadline) < 0 ||
	    io_all(fd, false, len, 2, deadline) < 0)
		goto out;
	n = (size_t)len[0] << 8 | len[1];
	if (io_all(fd, false, buf, n, deadline) < 0)
		goto out;
	rc = dns_reply_parse(buf, n, id, qname, qtype, out, next, nextsz);
	if (rc == DNS_REPLY_IGNORE || rc == DNS_REPLY_TRUNCATED)
		rc = DNS_REPLY_MALFORMED;	/* no excuse over TCP */
out:
	close(fd);
	return rc;
}

/* make_query - wire form of (name, type) with a random ID */
static int
make_query(const struct ldns_be *be, const char *name, uint16_t type,
    uint8_t **wire, size_t *len, uint16_t *id)
{
	ldns_rdf *qn = dns_name_rdf(name);
	ldns_pkt *p;
	int rc;

	if (qn == NULL)
		return -1;
	if ((p = ldns_pkt_query_new(qn, (ldns_rr_type)type, LDNS_RR_CLASS_IN,
	    LDNS_RD)) == NULL) {
		ldns_rdf_deep_free(qn);
		return -1;
	}
	if (getrandom(id, sizeof(*id), 0) != sizeof(*id))
		*id = (uint16_t)(mono_ms() * 1000);
	ldns_pkt_set_id(p, *id);
	if (be->edns_size)
		ldns_pkt_set_edns_udp_size(p, (uint16_t)be->edns_size);
	rc = ldns_pkt2wire(wire, p, len) == LDNS_STATUS_OK ? 0 : -1;
	ldns_pkt_free(p);
	return rc;
}

/*
 * ask - one question to the servers in turn until an answer or the
 * deadline.  Returns DONE, FOLLOW, or SERVFAIL/MALFORMED/IGNORE (the
 * worst seen; IGNORE meaning nobody answered).
 */
static enum dns_reply
ask(const struct ldns_be *be, const char *name, uint16_t type,
    double deadline, uint8_t *buf, struct dns_answer *out, char *next,
    size_t nextsz)
{
	enum dns_reply rc, worst = DNS_REPLY_IGNORE;
	uint8_t *q = NULL;
	size_t qlen, round, i;
	uint16_t id;
	double tdl;

	if (make_query(be, name, type, &q, &qlen, &id) < 0)
		return DNS_REPLY_MALFORMED;
	for (round = 0; round <= be->retries; round++) {
		for (i = 0; i < be->nservers; i++) {
			if (mono_ms() >= deadline)
				goto out;
			tdl = mono_ms() + be->try_ms;
			if (tdl > deadline)
				tdl = deadline;
			rc = udp_try(&be->servers[i], q, qlen, id, name, type,
			    tdl, buf, out, next, nextsz);
			if (rc == DNS_REPLY_TRUNCATED)
				rc = tcp_try(&be->servers[i], q, qlen, id, name,
				    type, deadline, buf, out, next, nextsz);
			if (rc == DNS_REPLY_DONE || rc == DNS_REPLY_FOLLOW) {
				worst = rc;
				goto out;
			}
			/* discard a half-converted answer */
			while (out->n > 0) {
				out->n--;
				free(out->rrs[out->n].name);
				free(out->rrs[out->n].txt);
			}
			if (rc == DNS_REPLY_SERVFAIL ||
			    (rc == DNS_REPLY_MALFORMED && worst != DNS_REPLY_SERVFAIL))
				worst = rc;
		}
	}
out:
	free(q);
	return worst;
}

static void
ldns_be_query(void *impl, const char *name, uint16_t type, double timeout_ms,
    struct dns_answer *out)
{
	const struct ldns_be *be = impl;
	double deadline = mono_ms() + timeout_ms;
	char cur[LDNS_MAX_DOMAINLEN * 4 + 1], next[LDNS_MAX_DOMAINLEN * 4 + 1];
	uint8_t *buf = xmalloc(LDNS_BE_BUFSZ);
	uint32_t ttl = UINT32_MAX;
	enum dns_reply rc;
	size_t hops;

	snprintf(cur, sizeof(cur), "%s", name);
	for (hops = 0;; hops++) {
		rc = ask(be, cur, type, deadline, buf, out, next, sizeof(next));
		if (out->ttl < ttl && (rc == DNS_REPLY_DONE ||
		    rc == DNS_REPLY_FOLLOW))
			ttl = out->ttl;
		if (rc != DNS_REPLY_FOLLOW)
			break;
		if (hops >= DNS_MAX_CNAME || !dns_name_check(next,
		    DNS_F_ANYNAME)) {
			rc = DNS_REPLY_SERVFAIL;
			break;
		}
		snprintf(cur, sizeof(cur), "%s", next);
	}
	switch (rc) {
	case DNS_REPLY_DONE:
		out->ttl = ttl;
		break;
	case DNS_REPLY_SERVFAIL:
		out->status = DNS_SERVFAIL;
		out->ttl = 0;
		break;
	case DNS_REPLY_MALFORMED:
		out->status = DNS_MALFORMED;
		out->ttl = 0;
		break;
	default:
		out->status = DNS_TIMEOUT;
		out->ttl = 0;
	}
	if (out->status != DNS_OK)
		while (out->n > 0) {
			out->n--;
			free(out->rrs[out->n].name);
			free(out->rrs[out->n].txt);
		}
	free(buf);
}

static void
ldns_be_free(void *impl)
{
	free(impl);
}

static const struct dns_backend ldns_backend = {
	"ldns", ldns_be_query, ldns_be_free
};

/* ---- configuration ---- */

/* parse_server - "ADDR", "ADDR:PORT", "[V6]", "[V6]:PORT", "V6" */
static int
parse_server(const char *spec, struct server *s)
{
	char host[64];
	const char *port = NULL, *p;
	uint64_t pn = 53;
	size_t n;
	struct sockaddr_in *sin = (void *)&s->ss;
	struct sockaddr_in6 *sin6 = (void *)&s->ss;

	memset(s, 0, sizeof(*s));
	if (spec[0] == '[') {
		if ((p = strchr(spec, ']')) == NULL)
			return -1;
		n = (size_t)(p - spec - 1);
		if (p[1] == ':')
			port = p + 2;
		else if (p[1] != '\0')
			return -1;
		spec++;
	} else if ((p = strchr(spec, ':')) != NULL && strchr(p + 1, ':') == NULL) {
		n = (size_t)(p - spec);
		port = p + 1;
	} else
		n = strlen(spec);
	if (n == 0 || n >= sizeof(host))
		return -1;
	memcpy(host, spec, n);
	host[n] = '\0';
	if (port && parse_uint(port, 1, 65535, &pn) < 0)
		return -1;
	if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)pn);
		s->len = sizeof(*sin);
	} else if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)pn);
		s->len = sizeof(*sin6);
	} else
		return -1;
	snprintf(s->text, sizeof(s->text), s->ss.ss_family == AF_INET6 ?
	    "[%s]:%u" : "%s:%u", host, (unsigned)pn);
	return 0;
}

/* from_resolv_conf - the nameservers ldns finds in path */
static int
from_resolv_conf(struct ldns_be *be, const char *path, struct buf *why)
{
	ldns_resolver *res = NULL;
	ldns_rdf **ns;
	struct sockaddr_storage *ss;
	struct server *s;
	size_t i, n, size;

	if (ldns_resolver_new_frm_file(&res, path) != LDNS_STATUS_OK) {
		buf_printf(why, "%s: cannot read nameservers", path);
		return -1;
	}
	ns = ldns_resolver_nameservers(res);
	n = ldns_resolver_nameserver_count(res);
	for (i = 0; i < n && be->nservers < LDNS_BE_MAX_SERVERS; i++) {
		ss = ldns_rdf2native_sockaddr_storage(ns[i], 53, &size);
		if (ss == NULL)
			continue;
		s = &be->servers[be->nservers++];
		memset(s, 0, sizeof(*s));
		memcpy(&s->ss, ss, size);
		s->len = (socklen_t)size;
		if (ss->ss_family == AF_INET)
			inet_ntop(AF_INET, &((struct sockaddr_in *)ss)->sin_addr,
			    s->text, sizeof(s->text));
		else
			inet_ntop(AF_INET6,
			    &((struct sockaddr_in6 *)ss)->sin6_addr, s->text,
			    sizeof(s->text));
		free(ss);
	}
	ldns_resolver_deep_free(res);
	if (be->nservers == 0) {
		buf_printf(why, "%s: no usable nameserver", path);
		return -1;
	}
	return 0;
}

bool
dns_server_valid(const char *spec)
{
	struct server s;

	return parse_server(spec, &s) == 0;
}

int
dns_ldns_open(const struct dns_ldns_conf *c, const struct dns_opts *o,
    struct dns_resolver **out, struct buf *why)
{
	struct ldns_be *be = xcalloc(1, sizeof(*be));
	struct dns_opts opts;
	size_t i;

	*out = NULL;
	be->try_ms = c->timeout_ms > 0 ? c->timeout_ms : 2000;
	be->retries = c->retries;
	be->edns_size = c->edns_size;
	if (c->nservers > LDNS_BE_MAX_SERVERS) {
		buf_printf(why, "more than %d DNS servers", LDNS_BE_MAX_SERVERS);
		goto fail;
	}
	for (i = 0; i < c->nservers; i++) {
		if (parse_server(c->servers[i], &be->servers[i]) < 0) {
			buf_printf(why, "bad DNS server '%.100s' (expected ADDR, "
			    "ADDR:PORT or [IPV6]:PORT)", c->servers[i]);
			goto fail;
		}
		be->nservers++;
	}
	if (be->nservers == 0 && c->resolv_conf && *c->resolv_conf &&
	    from_resolv_conf(be, c->resolv_conf, why) < 0)
		goto fail;
	if (be->nservers == 0 && from_resolv_conf(be, "/etc/resolv.conf",
	    why) < 0) {
		/* as the C library does without resolv.conf */
		log_warn("dns: %s; using 127.0.0.1", buf_cstr(why));
		buf_reset(why);
		(void)parse_server("127.0.0.1", &be->servers[0]);
		be->nservers = 1;
	}
	if (o)
		opts = *o;
	else
		dns_opts_default(&opts);
	if (opts.query_timeout_ms <= 0)
		opts.query_timeout_ms = be->try_ms * (be->retries + 1) *
		    (double)be->nservers;
	*out = dns_resolver_new_opts(&ldns_backend, be, &opts);
	return 0;
fail:
	free(be);
	return -1;
}
