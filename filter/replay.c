/*
 * replay.c - one stored sample through the pipeline again
 *
 * DESCRIPTION
 *	replay_sample() rebuilds the message as the milter callbacks built
 *	it (sample_msg), runs scan_begin_at() at the sample's own clock,
 *	feeds the body through scan_body() (so DKIM hashes it as before),
 *	restores the original sizes and truncation flags, and ends the
 *	scan: the same code path as the milter's eom.  With recorded DNS
 *	the engine's resolver is swapped for one answering from the
 *	sample for the duration of the call, so the caller must not share
 *	the engine with other threads meanwhile (the replay command runs
 *	one message at a time).
 */
#include "config.h"

#include "buf.h"
#include "dns.h"
#include "engine.h"
#include "msg.h"
#include "sample.h"
#include "scan.h"

void
replay_sample(struct engine *e, const struct sample *s, bool live,
    void (*unrecorded)(void *, const char *, uint16_t), void *arg,
    struct buf *out)
{
	struct dns_resolver *rec = NULL, *saved = NULL;
	struct msg_limits lim;
	struct msg *m;
	struct scan *sc;

	/* the root's and every scope's: a scoped message asks its own */
	if (!live)
		saved = engine_swap_dns(e, rec = sample_dns_resolver(s->dns,
		    unrecorded, arg));
	msg_limits_from_conf(&lim, e->conf);
	m = sample_msg(s, &lim);
	sc = scan_begin_at(e, m, s->now);
	if (s->body_len)
		scan_body(sc, s->body, s->body_len);
	sample_msg_finish(s, m);
	scan_end(sc);
	sc->when = s->when;	/* the line keeps the original time */
	scan_log_line(sc, out);
	scan_free(&sc);
	msg_free(&m);
	if (rec) {
		(void)engine_swap_dns(e, saved);
		dns_resolver_free(rec);
	}
}
