/*
 * fakedns.c - an in-memory struct dns_backend for tests
 *
 * Thread-safe for queries: the resolver's prefetch workers call
 * fake_query() concurrently, so the query log is kept under a lock.
 * The records themselves are set up before any query and only read.
 *
 * Each resolver made by fakedns_resolver() holds a reference, dropped
 * by the backend's free when the resolver is destroyed: a prefetch
 * worker that took a query just before dns_resolver_free() runs it
 * afterwards and destroys the resolver last, so a test's fakedns_free()
 * right after engine_unref() must not free what that query reads (a
 * segfault seen once in CI, check_dmarc_step).
 */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "fakedns.h"
#include "str.h"

struct fentry {
	char	*name;
	uint16_t type;		/* 0: status entry for any type */
	enum dns_status status;
	char	*txt;
	size_t	 txt_len;
};

struct fakedns {
	struct fentry *e;
	size_t	 n;
	int	 fail_all;
	enum dns_status fail_status;
	char	**log;
	unsigned nlog;
	pthread_mutex_t log_lock;
	unsigned refs;		/* the test's + one per resolver */
};

struct fakedns *
fakedns_new(void)
{
	struct fakedns *f = xcalloc(1, sizeof(struct fakedns));

	pthread_mutex_init(&f->log_lock, NULL);
	f->refs = 1;
	return f;
}

static struct fentry *
add(struct fakedns *f, const char *name, uint16_t type)
{
	struct fentry *e;

	f->e = xreallocarray(f->e, f->n + 1, sizeof(*f->e));
	e = &f->e[f->n++];
	memset(e, 0, sizeof(*e));
	e->name = xstrdup(name);
	str_lower(e->name);
	e->type = type;
	e->status = DNS_OK;
	return e;
}

void
fakedns_txt2(struct fakedns *f, const char *name, const char *s1,
    const char *s2)
{
	struct fentry *e = add(f, name, DNS_T_TXT);
	struct buf b = BUF_INIT;

	buf_adds(&b, s1);
	if (s2)
		buf_adds(&b, s2);
	e->txt_len = b.len;
	e->txt = buf_steal(&b);
	if (e->txt == NULL)
		e->txt = xstrdup("");
}

void
fakedns_txt(struct fakedns *f, const char *name, const char *txt)
{
	fakedns_txt2(f, name, txt, NULL);
}

void
fakedns_status(struct fakedns *f, const char *name, uint16_t type,
    enum dns_status st)
{
	struct fentry *e = add(f, name, type);

	e->status = st;
}

void
fakedns_exists(struct fakedns *f, const char *name)
{
	(void)add(f, name, DNS_T_A);
}

void
fakedns_fail_all(struct fakedns *f, enum dns_status st)
{
	f->fail_all = 1;
	f->fail_status = st;
}

static void
fake_query(void *impl, const char *name, uint16_t type, double timeout_ms,
    struct dns_answer *out)
{
	struct fakedns *f = impl;
	bool name_seen = false;
	size_t i;

	pthread_mutex_lock(&f->log_lock);
	f->log = xreallocarray(f->log, f->nlog + 1, sizeof(char *));
	f->log[f->nlog++] = xstrdup(name);
	pthread_mutex_unlock(&f->log_lock);
	out->status = DNS_NXDOMAIN;
	if (f->fail_all) {
		out->status = f->fail_status;
		return;
	}
	for (i = 0; i < f->n; i++) {
		struct fentry *e = &f->e[i];

		if (!str_ieq(e->name, name))
			continue;
		name_seen = true;
		if (e->type != type)
			continue;
		if (e->status != DNS_OK) {
			out->status = e->status;
			return;
		}
		out->rrs = xreallocarray(out->rrs, out->n + 1,
		    sizeof(*out->rrs));
		memset(&out->rrs[out->n], 0, sizeof(out->rrs[0]));
		out->rrs[out->n].type = type;
		out->rrs[out->n].ttl = 300;
		if (type == DNS_T_TXT) {
			out->rrs[out->n].txt = xmalloc(e->txt_len + 1);
			memcpy(out->rrs[out->n].txt, e->txt, e->txt_len + 1);
			out->rrs[out->n].txt_len = e->txt_len;
			out->rrs[out->n].txt_nstrings = 1;
		}
		out->n++;
	}
	out->status = out->n ? DNS_OK : name_seen ? DNS_NODATA : DNS_NXDOMAIN;
	/* a name with children exists even without records (ENT) */
	if (out->status == DNS_NXDOMAIN) {
		size_t nl = strlen(name);

		for (i = 0; i < f->n; i++) {
			size_t el = strlen(f->e[i].name);

			if (el > nl && f->e[i].name[el - nl - 1] == '.' &&
			    str_ieq(f->e[i].name + el - nl, name)) {
				out->status = DNS_NODATA;
				break;
			}
		}
	}
}

static void
fake_release(void *impl)
{
	struct fakedns *f = impl;
	size_t i;
	bool last;

	pthread_mutex_lock(&f->log_lock);
	last = --f->refs == 0;
	pthread_mutex_unlock(&f->log_lock);
	if (!last)
		return;
	for (i = 0; i < f->n; i++) {
		free(f->e[i].name);
		free(f->e[i].txt);
	}
	free(f->e);
	fakedns_reset_log(f);
	free(f->log);
	pthread_mutex_destroy(&f->log_lock);
	free(f);
}

static const struct dns_backend fake_backend = {
	"fake", fake_query, fake_release
};

struct dns_resolver *
fakedns_resolver(struct fakedns *f)
{
	pthread_mutex_lock(&f->log_lock);
	f->refs++;
	pthread_mutex_unlock(&f->log_lock);
	return dns_resolver_new(&fake_backend, f);
}

unsigned
fakedns_queries(const struct fakedns *f)
{
	return f->nlog;
}

const char *
fakedns_query_name(const struct fakedns *f, unsigned i)
{
	return i < f->nlog ? f->log[i] : NULL;
}

void
fakedns_reset_log(struct fakedns *f)
{
	unsigned i;

	for (i = 0; i < f->nlog; i++)
		free(f->log[i]);
	f->nlog = 0;
}

void
fakedns_free(struct fakedns *f)
{
	if (f != NULL)
		fake_release(f);
}
