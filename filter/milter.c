/*
 * milter.c - libmilter callbacks: collect, hand off, apply the verdict
 *
 * DESCRIPTION
 *	Per connection: struct conn (smfi_setpriv) holding the message
 *	being assembled and, from end of headers, its scan.  Callbacks stay
 *	short: copy bytes into the msg, call scan_*, map the result to
 *	SMFIS_*.  All decisions live in the library (scan.c, verdict.c).
 *
 *	xxfi_close may be the only callback a connection sees (a probe that
 *	connects and leaves), so it accepts a NULL private pointer.
 *
 *	Policy scopes (scope.h) that select by recipient make RCPT a step
 *	that needs a reply: a recipient whose scope differs from the first
 *	recipient's is deferred with 452 4.5.3, so that each message has
 *	one policy and the client delivers that recipient in a later
 *	transaction.  The MTA is then not offered SMFIP_NR_RCPT (decided
 *	per connection, from the generation current at negotiation).
 *
 *	Draining (SIGTERM, see main.c): milter_drain() makes new
 *	connections and new transactions (MAIL FROM) fail with 421 4.3.2,
 *	while transactions already started run to their verdict.
 *	milter_busy() counts those transactions, from MAIL FROM to end of
 *	message, abort or close, so that the daemon can stop as soon as
 *	none is left.  (libmilter's own smfi_stop() does not finish them:
 *	with its worker pool, a session waiting for the MTA's next command
 *	is never served again.)
 *
 * SECURITY
 *	Everything arriving here is untrusted and is capped by struct msg.
 *	Reply text is reduced to printable ASCII before smfi_setreply().
 */
#include "config.h"

#include <libmilter/mfapi.h>

#include <stdatomic.h>
#include <stdbool.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "engine.h"
#include "log.h"
#include "metrics.h"
#include "milter.h"
#include "msg.h"
#include "policy.h"
#include "sample_store.h"
#include "scan.h"
#include "scope.h"
#include "str.h"
#include "verdict.h"
#include "vlog.h"

struct conn {
	struct msg *msg;
	struct scan *scan;
	bool	 leadspc;	/* MTA keeps the space after the colon */
	bool	 in_txn;	/* between MAIL FROM and its end */
	unsigned long noreply;	/* SMFIP_NR_* steps the MTA agreed to */
};

/*
 * Steps whose callbacks always continue: the MTA need not wait for a
 * reply to each of them (milter protocol 6; Postfix and Sendmail 8.14
 * offer it).  A message's 30-odd header fields then cost no round trip
 * each; every decision is taken at end of message anyway.
 */
#define MW_NOREPLY	(SMFIP_NR_HELO | SMFIP_NR_RCPT | SMFIP_NR_HDR | \
			 SMFIP_NR_EOH | SMFIP_NR_BODY)
/* steps without a callback: the MTA need not send them at all */
#define MW_NOSEND	(SMFIP_NODATA | SMFIP_NOUNKNOWN)

static void mta_text(const char *, bool, struct buf *);

static atomic_int active;
static atomic_int busy;
static atomic_llong last_end_ms;	/* CLOCK_MONOTONIC ms of the last txn_end */
static atomic_bool draining;
static pthread_mutex_t vlog_lock = PTHREAD_MUTEX_INITIALIZER;
static struct vlog *verdict_log;

int
milter_active(void)
{
	return atomic_load(&active);
}

int
milter_busy(void)
{
	return atomic_load(&busy);
}

static long long
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * milter_quiet_ms - how long no transaction has been in flight (0 while
 * one is).  A transaction ends in our end-of-message callback, but
 * libmilter sends its reply only after the callback returns: a stop
 * at that moment would lose the verdict (the MTA would apply its
 * default action), so the drain waits for a short quiet period.
 */
long long
milter_quiet_ms(void)
{
	long long q;

	if (atomic_load(&busy) > 0)
		return 0;
	q = mono_ms() - atomic_load(&last_end_ms);
	return q > 0 ? q : 0;
}

void
milter_drain(void)
{
	atomic_store(&draining, true);
}

/* refuse_draining - 421: the client should come back later */
static sfsistat
refuse_draining(SMFICTX *ctx)
{
	(void)smfi_setreply(ctx, (char *)"421", (char *)"4.3.2",
	    (char *)"Mail filter shutting down, try again later");
	return SMFIS_TEMPFAIL;
}

static void
txn_begin(struct conn *c)
{
	if (!c->in_txn) {
		c->in_txn = true;
		atomic_fetch_add(&busy, 1);
	}
}

static void
txn_end(struct conn *c)
{
	if (c->in_txn) {
		c->in_txn = false;
		atomic_store(&last_end_ms, mono_ms());
		atomic_fetch_sub(&busy, 1);
	}
}

void
milter_set_vlog(struct vlog *l)
{
	pthread_mutex_lock(&vlog_lock);
	verdict_log = l;
	pthread_mutex_unlock(&vlog_lock);
}

struct vlog *
milter_get_vlog(void)
{
	struct vlog *l;

	pthread_mutex_lock(&vlog_lock);
	l = verdict_log;
	pthread_mutex_unlock(&vlog_lock);
	return l;
}

static struct conn *
get_conn(SMFICTX *ctx)
{
	return smfi_getpriv(ctx);
}

/* new_conn - the connection state; made at negotiate (or connect) */
static struct conn *
new_conn(SMFICTX *ctx)
{
	struct conn *c = get_conn(ctx);
	struct engine *eng;
	struct msg_limits lim;

	if (c)
		return c;
	if ((eng = engine_current()) == NULL)
		return NULL;
	c = xcalloc(1, sizeof(*c));
	msg_limits_from_conf(&lim, eng->conf);
	engine_unref(eng);
	c->msg = msg_new(&lim);
	atomic_fetch_add(&active, 1);
	smfi_setpriv(ctx, c);
	return c;
}

/* rcpt_scopes - does the current generation have recipient scopes? */
static bool
rcpt_scopes(void)
{
	struct engine *eng = engine_current();
	bool by_rcpt = eng && eng->scopes && eng->scopes->by_rcpt;

	engine_unref(eng);
	return by_rcpt;
}

static sfsistat
mw_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
    unsigned long f2, unsigned long f3, unsigned long *pf0,
    unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
	struct conn *c;

	*pf0 = f0 & (SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_QUARANTINE |
	    SMFIF_SETSYMLIST);
	*pf1 = f1 & (SMFIP_HDR_LEADSPC | MW_NOREPLY | MW_NOSEND);
	if (rcpt_scopes())
		*pf1 &= ~(unsigned long)SMFIP_NR_RCPT;
	*pf2 = *pf3 = 0;
	if ((c = new_conn(ctx)) == NULL)
		return SMFIS_TEMPFAIL;
	c->leadspc = (*pf1 & SMFIP_HDR_LEADSPC) != 0;
	c->noreply = *pf1 & MW_NOREPLY;
	if (f0 & SMFIF_SETSYMLIST) {
		smfi_setsymlist(ctx, SMFIM_CONNECT, "j");
		smfi_setsymlist(ctx, SMFIM_ENVFROM, "i {auth_authen}");
		smfi_setsymlist(ctx, SMFIM_EOM, "i");
	}
	return SMFIS_CONTINUE;
}

/* proceed - go on after a step: no reply if the MTA agreed to none */
static sfsistat
proceed(const struct conn *c, unsigned long nr_step)
{
	return c != NULL && (c->noreply & nr_step) ? SMFIS_NOREPLY :
	    SMFIS_CONTINUE;
}

static sfsistat
mw_connect(SMFICTX *ctx, char *hostname, _SOCK_ADDR *hostaddr)
{
	struct conn *c = new_conn(ctx);
	struct netaddr na;

	if (c == NULL)
		return SMFIS_TEMPFAIL;
	if (atomic_load(&draining))
		return refuse_draining(ctx);
	metrics_connection(metrics_global());
	if (hostaddr == NULL || netaddr_from_sockaddr(hostaddr, &na) < 0)
		memset(&na, 0, sizeof(na));
	msg_set_client_addr(c->msg, &na, hostname);
	msg_set_mta_name(c->msg, smfi_getsymval(ctx, "j"));
	return SMFIS_CONTINUE;
}

static sfsistat
mw_helo(SMFICTX *ctx, char *helo)
{
	struct conn *c = get_conn(ctx);

	if (c)
		msg_set_helo(c->msg, helo);
	return proceed(c, SMFIP_NR_HELO);
}

static sfsistat
mw_envfrom(SMFICTX *ctx, char **argv)
{
	struct conn *c = get_conn(ctx);

	if (c == NULL)
		return SMFIS_TEMPFAIL;
	scan_free(&c->scan);
	msg_reset_transaction(c->msg);
	txn_end(c);
	if (atomic_load(&draining))
		return refuse_draining(ctx);
	txn_begin(c);
	msg_set_sender(c->msg, argv[0]);
	msg_set_auth(c->msg, smfi_getsymval(ctx, "{auth_authen}"));
	return SMFIS_CONTINUE;
}

/* trap - refuse a recipient of a spam-trap scope, log the client */
static sfsistat
trap(SMFICTX *ctx, const struct conn *c, const struct scope *sc,
    const char *rcpt)
{
	struct buf t = BUF_INIT, r = BUF_INIT;

	mta_text(sc->trap_text, true, &t);
	(void)smfi_setreply(ctx, (char *)sc->trap_code, (char *)sc->trap_xcode,
	    t.data);
	str_escape(&r, rcpt, strlen(rcpt), 200);
	log_info("%s: spam trap: client=%s rcpt=%s scope=%s",
	    c->msg->queue_id ? c->msg->queue_id : "NOQUEUE",
	    c->msg->client_ip[0] ? c->msg->client_ip : "unknown",
	    buf_cstr(&r), sc->name);
	policy_trap_record(sc->eng, c->msg);
	buf_release(&t);
	buf_release(&r);
	return SMFIS_REJECT;
}

/*
 * rcpt_scope - a recipient of a spam-trap scope is refused; one whose
 * scope is not the first recipient's is deferred (452 4.5.3).  Only
 * when the MTA waits for the answer; -1: go on.
 */
static sfsistat
rcpt_scope(SMFICTX *ctx, const struct conn *c, const char *rcpt)
{
	struct engine *eng, *mine;
	sfsistat rc = (sfsistat)-1;
	char *r;

	if (c->noreply & SMFIP_NR_RCPT)
		return rc;
	if ((eng = engine_current()) == NULL || eng->scopes == NULL) {
		engine_unref(eng);
		return rc;
	}
	r = envelope_strip(rcpt);
	mine = engine_for_scope(eng, c->msg, r);
	if (mine->scope && mine->scope->trap_code[0])
		rc = trap(ctx, c, mine->scope, r);
	else if (c->msg->nrcpts > 0 &&
	    engine_for_scope(eng, c->msg, c->msg->rcpts[0]) != mine) {
		(void)smfi_setreply(ctx, (char *)"452", (char *)"4.5.3",
		    (char *)"Recipient has another filter policy than the "
		    "ones before; send it again in another transaction");
		rc = SMFIS_TEMPFAIL;
	}
	free(r);
	engine_unref(eng);
	return rc;
}

static sfsistat
mw_envrcpt(SMFICTX *ctx, char **argv)
{
	struct conn *c = get_conn(ctx);
	sfsistat rc;

	if (c && (rc = rcpt_scope(ctx, c, argv[0])) != (sfsistat)-1)
		return rc;
	if (c)
		msg_add_rcpt(c->msg, argv[0]);
	return proceed(c, SMFIP_NR_RCPT);
}

static sfsistat
mw_header(SMFICTX *ctx, char *name, char *value)
{
	struct conn *c = get_conn(ctx);

	if (c == NULL)
		return SMFIS_CONTINUE;
	/* without SMFIP_HDR_LEADSPC libmilter ate the space */
	msg_add_header_sp(c->msg, name, strlen(name), value, strlen(value),
	    !c->leadspc);
	return proceed(c, SMFIP_NR_HDR);
}

/* start_scan - begin the scan with the current engine generation */
static void
start_scan(struct conn *c)
{
	struct engine *eng;

	if (c->scan)
		return;
	eng = engine_current();
	c->scan = scan_begin(eng, c->msg);
	c->scan->live = true;		/* rate limits, greylisting */
	engine_unref(eng);
}

static sfsistat
mw_eoh(SMFICTX *ctx)
{
	struct conn *c = get_conn(ctx);

	if (c)
		start_scan(c);
	return proceed(c, SMFIP_NR_EOH);
}

static sfsistat
mw_body(SMFICTX *ctx, unsigned char *p, size_t n)
{
	struct conn *c = get_conn(ctx);

	if (c) {
		start_scan(c);
		scan_body(c->scan, p, n);
	}
	return proceed(c, SMFIP_NR_BODY);
}

/* mta_value - header value as the MTA wants it: LF folds, lead space */
static void
mta_value(const struct conn *c, const char *v, struct buf *out)
{
	buf_reset(out);
	if (c->leadspc)
		buf_addc(out, ' ');
	for (; *v; v++)
		if (*v != '\r')
			buf_addc(out, *v);
}

static void
apply_edits(SMFICTX *ctx, struct conn *c)
{
	const struct scan *s = c->scan;
	struct hdr_edits e;
	struct buf v = BUF_INIT;
	size_t i;
	int rc = MI_SUCCESS;

	verdict_header_edits(&s->verdict, c->msg, s->eng->conf, &e);
	for (i = 0; i < e.n; i++) {
		struct hdr_edit *x = &e.v[i];

		if (x->value)
			mta_value(c, x->value, &v);
		switch (x->op) {
		case EDIT_DELETE:
			rc = smfi_chgheader(ctx, x->name, (int)x->index, NULL);
			break;
		case EDIT_CHANGE:
			rc = smfi_chgheader(ctx, x->name, (int)x->index, v.data);
			break;
		case EDIT_PREPEND:
			rc = smfi_insheader(ctx, 0, x->name, v.data);
			break;
		case EDIT_ADD:
			rc = smfi_addheader(ctx, x->name, v.data);
			break;
		}
		if (rc != MI_SUCCESS)
			log_warn("%s: could not edit header %s",
			    c->msg->queue_id ? c->msg->queue_id : "?", x->name);
	}
	hdr_edits_release(&e);
	buf_release(&v);
}

/* mta_text - printable ASCII only, capped; '%' doubled if escape_pct */
static void
mta_text(const char *p, bool escape_pct, struct buf *t)
{
	for (; *p && t->len < 400; p++) {
		unsigned char ch = (unsigned char)*p;

		if (ch == '%' && escape_pct)
			buf_add(t, "%%", 2);
		else
			buf_addc(t, ch >= 32 && ch < 127 ? (char)ch : '?');
	}
	buf_add(t, "", 0);
}

/* set_reply - SMTP reply with text made safe for smfi_setreply */
static void
set_reply(SMFICTX *ctx, const struct verdict *v)
{
	struct buf t = BUF_INIT;

	mta_text(v->reply_text, true, &t);
	if (smfi_setreply(ctx, (char *)v->smtp_code, (char *)v->smtp_xcode,
	    t.data) != MI_SUCCESS)
		log_warn("smfi_setreply failed");
	buf_release(&t);
}

/* quarantine - ask the MTA to hold an accepted message (DMARC policy) */
static void
quarantine(SMFICTX *ctx, const struct conn *c, const struct verdict *v)
{
	struct buf t = BUF_INIT;

	mta_text(v->quarantine_reason ? v->quarantine_reason : "mailwarden",
	    false, &t);
	if (smfi_quarantine(ctx, t.data) != MI_SUCCESS)
		log_warn("%s: smfi_quarantine failed",
		    c->msg->queue_id ? c->msg->queue_id : "NOQUEUE");
	buf_release(&t);
}

/* log_verdict - verdict log and diagnostic line; vlog_write()'s result,
 * 1 without a verdict log */
static int
log_verdict(const struct conn *c)
{
	const struct verdict *v = &c->scan->verdict;
	struct buf line = BUF_INIT, syms = BUF_INIT;
	size_t i;
	int rc = 1;

	scan_log_line(c->scan, &line);
	if (c->scan->eng->conf->log_file[0])
		rc = vlog_write(milter_get_vlog(), line.data, line.len);
	for (i = 0; i < v->nsyms && i < 20; i++)
		buf_printf(&syms, "%s%s", i ? "," : "", v->syms[i].name);
	log_info("%s: client=%s action=%s score=%.1f%s%s symbols=%s",
	    c->msg->queue_id ? c->msg->queue_id : "NOQUEUE",
	    c->msg->client_ip[0] ? c->msg->client_ip : "unknown",
	    action_name(v->action), v->score, v->scope ? " scope=" : "",
	    v->scope ? v->scope : "", buf_cstr(&syms));
	buf_release(&line);
	buf_release(&syms);
	return rc;
}

static sfsistat
mw_eom(SMFICTX *ctx)
{
	struct conn *c = get_conn(ctx);
	sfsistat rc = SMFIS_ACCEPT;
	const struct verdict *v;

	if (c == NULL)
		return SMFIS_TEMPFAIL;
	msg_set_queue_id(c->msg, smfi_getsymval(ctx, "i"));
	start_scan(c);
	scan_end(c->scan);
	v = &c->scan->verdict;
	metrics_message(metrics_global(), c->scan, log_verdict(c));
	sample_offer(c->scan);		/* queued: the reply does not wait */
	switch (v->action) {
	case ACTION_ACCEPT:
	case ACTION_TAG:
		apply_edits(ctx, c);
		if (v->quarantine)
			quarantine(ctx, c, v);
		rc = SMFIS_ACCEPT;
		break;
	case ACTION_REJECT:
		set_reply(ctx, v);
		rc = SMFIS_REJECT;
		break;
	case ACTION_TEMPFAIL:
		set_reply(ctx, v);
		rc = SMFIS_TEMPFAIL;
		break;
	}
	scan_free(&c->scan);
	msg_reset_transaction(c->msg);
	txn_end(c);
	return rc;
}

static sfsistat
mw_abort(SMFICTX *ctx)
{
	struct conn *c = get_conn(ctx);

	if (c) {
		if (c->in_txn)
			metrics_abort(metrics_global());
		scan_free(&c->scan);
		msg_reset_transaction(c->msg);
		txn_end(c);
	}
	return SMFIS_CONTINUE;
}

static sfsistat
mw_close(SMFICTX *ctx)
{
	struct conn *c = get_conn(ctx);

	if (c == NULL)
		return SMFIS_CONTINUE;
	smfi_setpriv(ctx, NULL);
	txn_end(c);
	scan_free(&c->scan);
	msg_free(&c->msg);
	free(c);
	atomic_fetch_sub(&active, 1);
	return SMFIS_CONTINUE;
}

int
milter_register(void)
{
	struct smfiDesc desc;

	memset(&desc, 0, sizeof(desc));
	desc.xxfi_name = (char *)"mailwarden";
	desc.xxfi_version = SMFI_VERSION;
	desc.xxfi_flags = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_QUARANTINE |
	    SMFIF_SETSYMLIST;
	desc.xxfi_connect = mw_connect;
	desc.xxfi_helo = mw_helo;
	desc.xxfi_envfrom = mw_envfrom;
	desc.xxfi_envrcpt = mw_envrcpt;
	desc.xxfi_header = mw_header;
	desc.xxfi_eoh = mw_eoh;
	desc.xxfi_body = mw_body;
	desc.xxfi_eom = mw_eom;
	desc.xxfi_abort = mw_abort;
	desc.xxfi_close = mw_close;
	desc.xxfi_negotiate = mw_negotiate;
	return smfi_register(desc) == MI_SUCCESS ? 0 : -1;
}
