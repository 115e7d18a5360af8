/*
 * bench_msg.h - what the DKIM and ARC benchmarks share: thread CPU time
 * and a message split into its header fields and body bytes
 */
#ifndef MW_BENCH_MSG_H
#define MW_BENCH_MSG_H

#include <time.h>

#include "buf.h"
#include "msg.h"

/* now_s - CPU time of this thread: the machine is shared, wall time lies */
static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct pm {
	struct msg *m;
	struct buf body;
};

static void
p_eoh(void *arg)
{
	(void)arg;
}

static void
p_body(void *arg, const void *p, size_t n)
{
	buf_add(&((struct pm *)arg)->body, p, n);
}

#endif
