/*
 * daemon_metrics.h - metrics in the daemon (filter/daemon_metrics.c)
 *
 * DESCRIPTION
 *	daemon_metrics_start() makes the registry (metrics_global()),
 *	counts the first load as generation 1 and, if metrics_listen is
 *	set, starts the endpoint; -1 with why if it cannot listen.
 *	daemon_metrics_reload(old, cur) records a SIGHUP: cur NULL for a
 *	failed reload.  daemon_stats_tick(stats_interval) logs the stats
 *	line when the interval has passed (0: never).
 */
#ifndef MW_DAEMON_METRICS_H
#define MW_DAEMON_METRICS_H

struct buf;
struct conf;
struct engine;

int	daemon_metrics_start(const struct conf *, struct buf *why);
void	daemon_metrics_stop(void);
void	daemon_metrics_reload(const struct engine *old,
	    const struct engine *cur);
void	daemon_stats_tick(unsigned interval);

#endif
