/*
 * clock.h - the two clocks, as seconds in a double
 *
 * DESCRIPTION
 *	clock_mono_s() for intervals and deadlines (CLOCK_MONOTONIC),
 *	clock_wall_s() for timestamps shown to people or Prometheus
 *	(CLOCK_REALTIME, Unix time).
 */
#ifndef MW_CLOCK_H
#define MW_CLOCK_H

double	clock_mono_s(void);
double	clock_wall_s(void);

#endif
