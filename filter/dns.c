/*
 * dns.c - the generic resolver layer: name checks, budget, dispatch
 *
 * DESCRIPTION
 *	dns_lookup() validates the name, charges the per-message budget and
 *	asks the backend.  Backends live in dns_*.c.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "dns.h"
#include "str.h"

struct dns_resolver {
	const struct dns_backend *backend;
	void	*impl;
};

static const char *const status_names[] = {
	"ok", "nodata", "nxdomain", "servfail", "timeout", "malformed",
	"invalid-name"
};

const char *
dns_status_name(enum dns_status st)
{
	return (unsigned)st < sizeof(status_names) / sizeof(status_names[0]) ?
	    status_names[st] : "unknown";
}

bool
dns_status_is_temp(enum dns_status st)
{
	return st == DNS_SERVFAIL || st == DNS_TIMEOUT || st == DNS_MALFORMED;
}

static double
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

void
dns_budget_init(struct dns_budget *b, double timeout_ms)
{
	memset(b, 0, sizeof(*b));
	b->deadline = timeout_ms > 0 ? mono_ms() + timeout_ms : 0;
	pthread_mutex_init(&b->lock, NULL);
}

void
dns_budget_release(struct dns_budget *b)
{
	pthread_mutex_destroy(&b->lock);
}

bool
dns_name_valid(const char *name)
{
	size_t len = strlen(name), label = 0, i;

	if (len > 0 && name[len - 1] == '.')
		len--;
	if (len == 0 || len > 253)
		return false;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c == '.') {
			if (label == 0)
				return false;
			label = 0;
			continue;
		}
		if (!(ch_is_alnum(c) || c == '-' || c == '_'))
			return false;
		if (++label > 63)
			return false;
	}
	return true;
}

struct dns_resolver *
dns_resolver_new(const struct dns_backend *be, void *impl)
{
	struct dns_resolver *r = xcalloc(1, sizeof(*r));

	r->backend = be;
	r->impl = impl;
	return r;
}

void
dns_resolver_free(struct dns_resolver *r)
{
	if (r == NULL)
		return;
	if (r->backend->free)
		r->backend->free(r->impl);
	free(r);
}

void
dns_answer_free(struct dns_answer *a)
{
	size_t i;

	if (a == NULL)
		return;
	for (i = 0; i < a->n; i++) {
		free(a->rrs[i].name);
		free(a->rrs[i].txt);
	}
	free(a->rrs);
	free(a);
}

enum dns_status
dns_lookup(struct dns_resolver *r, const char *name, uint16_t type,
    struct dns_budget *b, struct dns_answer **out)
{
	struct dns_answer *a = xcalloc(1, sizeof(*a));
	double t0 = mono_ms(), left = 5000;

	*out = a;
	if (!dns_name_valid(name)) {
		a->status = DNS_INVALID_NAME;
		return a->status;
	}
	if (b && b->deadline > 0) {
		left = b->deadline - t0;
		if (left <= 0) {
			a->status = DNS_TIMEOUT;
			pthread_mutex_lock(&b->lock);
			b->queries++;
			b->failures++;
			pthread_mutex_unlock(&b->lock);
			return a->status;
		}
	}
	r->backend->query(r->impl, name, type, left, a);
	if (b) {
		pthread_mutex_lock(&b->lock);
		b->queries++;
		b->spent_ms += mono_ms() - t0;
		if (dns_status_is_temp(a->status))
			b->failures++;
		pthread_mutex_unlock(&b->lock);
	}
	return a->status;
}

void
dns_prefetch(struct dns_resolver *r, const char *name, uint16_t type)
{
	(void)r;
	(void)name;
	(void)type;
}
