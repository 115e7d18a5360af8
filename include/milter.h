/*
 * milter.h - libmilter glue (filter/milter.c)
 *
 * DESCRIPTION
 *	milter_register() registers the callbacks with libmilter.  The
 *	callbacks only collect bytes into a struct msg and drive the scan
 *	pipeline; the verdict is turned into header edits and a reply at
 *	end of message.  milter_active() counts connections,
 *	milter_busy() transactions in flight (MAIL FROM to end of message).
 *	After milter_drain() new connections and transactions are refused
 *	with 421 4.3.2 and those in flight finish: SIGTERM drains, waits
 *	for milter_busy() to reach 0 and stay there a moment
 *	(milter_quiet_ms(): the last reply is sent after our callback
 *	returns), then stops libmilter.
 */
#ifndef MW_MILTER_H
#define MW_MILTER_H

struct vlog;

int	milter_register(void);
/* milter_set_vlog - the verdict log new messages write to (may be NULL) */
void	milter_set_vlog(struct vlog *);
struct vlog *milter_get_vlog(void);
int	milter_active(void);
int	milter_busy(void);
/* milter_quiet_ms - ms since the last transaction ended; 0 while busy */
long long milter_quiet_ms(void);
void	milter_drain(void);

#endif
