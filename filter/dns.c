/*
 * dns.c - the generic resolver layer: names, budget, cache, sharing
 *
 * DESCRIPTION
 *	dns_lookup() validates and normalises the name, charges the
 *	per-message budget, then goes through the cache:
 *
 *	- a fresh cached answer is copied out;
 *	- a query for the same (name, type) already in flight is waited
 *	  for (up to the caller's deadline) instead of being sent again;
 *	- a prefetch still waiting in the queue is taken over and run by
 *	  the caller, so a busy pool never delays a lookup;
 *	- otherwise the caller runs the backend query itself.
 *
 *	dns_prefetch() puts a queued entry into the table and hands it to
 *	a small pool of worker threads (started on first use), so the
 *	first queries of every check of a message run while the message
 *	is still being received.  It never blocks: when the queue is full
 *	the prefetch is dropped and the later lookup simply runs it.
 *
 *	Entries are reference counted: the table holds one reference,
 *	each waiter and the queue hold one.  Only finished entries are in
 *	the CLOCK list and count against cache_size; entries in flight are
 *	never evicted.
 *
 *	Hits: a fresh answer is found and copied out without any lock and
 *	without writing anything that other threads' hits read, so that
 *	warm lookups on several cores run side by side:
 *	- readers walk the hash chains inside an epoch section (a slot per
 *	  thread, given back when the thread ends; see struct reader and
 *	  reader_enter); an entry whose last reference goes is
 *	  retired and freed only when no reader that could have found it
 *	  is still reading (shard_reclaim), so a reader never copies from
 *	  freed memory;
 *	- recency is a CLOCK bit in the entry, set by a hit only when it
 *	  is clear; when a new answer finds its shard full, the oldest
 *	  entry goes unless its bit is set: then the bit is cleared and
 *	  the entry moves to the head (a second chance).  An entry hit since the
 *	  hand last passed thus outlives one not hit;
 *	- lookups and hits are counted in per-thread stripes of the
 *	  resolver and summed by dns_resolver_stats().
 *	A hit that finds the entry in flight, expired or missing takes the
 *	shard's lock and follows the protocol above.
 *
 *	Locks: the table is split into shards by the hash of (name, type),
 *	each with its own lock, hash table, CLOCK list and statistics, so
 *	that misses on several threads do not queue on one lock.  A cache
 *	of DNS_SHARD_MIN * DNS_SHARDS entries or more has DNS_SHARDS
 *	shards of cache_size / DNS_SHARDS entries each (CLOCK per shard);
 *	a smaller one has one shard of cache_size.  Every change to the
 *	table (insert, remove, state, CLOCK list, retiring) is made under
 *	the shard's lock.  r->lock guards only the prefetch queue and the
 *	pool; reg_lock only the reader slots and is never held with
 *	another.  Order: a shard's lock may be held when taking r->lock,
 *	never the other way round.
 *
 * LIMITS
 *	cache_size entries (conf dns_cache_size); TTLs capped at max_ttl;
 *	negative answers only with an SOA-derived TTL (RFC 2308 5);
 *	SERVFAIL/MALFORMED for servfail_ttl; backend TIMEOUT for
 *	timeout_ttl.  Deadline-caused timeouts are never cached.
 *
 * SEE ALSO
 *	dns.h, dns_ldns.c, dns_zone.c
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "dns.h"
#include "dns_int.h"
#include "log.h"
#include "str.h"

enum cstate {
	CE_QUEUED,		/* prefetch waiting for a worker */
	CE_RUNNING,		/* a thread is asking the backend */
	CE_DONE,		/* answer in e->ans */
	CE_ABANDONED		/* deadline cut the query short: retry */
};

/*
 * A cache entry.  name, type and hash never change; ans and expires are
 * written once, before state becomes CE_DONE (a release store), and
 * never again: a hit reads them without the shard's lock.  Everything
 * else belongs to the shard's lock.
 */
struct centry {
	_Atomic(struct centry *) hnext;	/* hash chain (read without lock) */
	struct centry *prev, *next;	/* CLOCK list, newest first */
	struct centry *rnext;		/* shard's retired list */
	char	*name;
	uint16_t type;
	uint32_t hash;
	atomic_int state;		/* enum cstate */
	atomic_bool referenced;		/* CLOCK bit: hit since the hand passed */
	bool	 in_table;
	bool	 in_lru;
	unsigned refs;
	struct dns_answer *ans;
	double	 expires;		/* monotonic ms */
	uint64_t retired;		/* epoch when the last reference went */
	pthread_cond_t cv;
};

#define DNS_SHARDS	16	/* shards of a large cache (power of two) */
#define DNS_SHARD_MIN	64	/* entries per shard below which: one shard */
#define DNS_STRIPES	64	/* hit counters per resolver (power of two) */
#define DNS_RETIRE_BATCH 16	/* retired entries before trying to free them */
#define CACHE_LINE	64

/*
 * a part of the cache with its own lock (see Locks above).  What a hit
 * reads (buckets, nbuckets) sits in a cache line of its own, apart from
 * what misses write.
 */
struct shard {
	_Atomic(struct centry *) *buckets;
	size_t	 nbuckets;		/* power of two */
	char	 pad0[CACHE_LINE];
	pthread_mutex_t lock;
	struct centry *lru_head, *lru_tail;
	size_t	 nlru;
	size_t	 cap;			/* entries this shard may keep */
	struct dns_stats st;		/* all but lookups and hits */
	struct centry *retired;		/* unlinked, unreferenced, not freed */
	size_t	 nretired;
	char	 pad1[CACHE_LINE];
};

/* lookups and hits, counted by each thread in a line of its own */
struct stripe {
	atomic_uint_least64_t lookups, hits;
	char	 pad[CACHE_LINE - 2 * sizeof(atomic_uint_least64_t)];
};

struct dns_resolver {
	const struct dns_backend *backend;
	void	*impl;
	struct dns_opts opts;

	pthread_condattr_t cvattr;
	struct shard *shards;
	unsigned nshards;		/* power of two */
	struct stripe *stripes;		/* DNS_STRIPES of them */

	/* prefetch pool (r->lock) */
	pthread_mutex_t lock;
	atomic_bool started;		/* start_workers() ran */
	pthread_cond_t qcv;
	struct centry **queue;		/* ring of prefetch_queue slots */
	size_t	 qhead, qlen;
	pthread_t *workers;
	unsigned nworkers;
	bool	 stopping;
	unsigned refs;			/* the owner's + one per worker */

	dns_trace_fn *trace;		/* dns_resolver_trace() */
	void	*trace_arg;
};

/* ---- readers without the lock: epochs ---- */

/*
 * A thread that reads the table without a shard's lock announces the
 * global epoch it saw in its own reader slot for the time it reads
 * (reader_enter .. reader_leave).  An entry whose last reference goes
 * is stamped with the epoch and the epoch moves on; it is freed once
 * every slot is idle or holds a later epoch (shard_reclaim), so no
 * reader is still copying from it.  Slots are process-wide (one thread
 * reads several resolvers), taken on a thread's first lookup and given
 * back by a thread-specific key's destructor when the thread ends:
 * libmilter's threads come and go, the slots are reused and never
 * freed, so their number is the most threads ever alive at once.
 */
struct reader {
	atomic_uint_least64_t epoch;	/* 0: not reading; else epoch seen */
	struct reader *next;		/* registry; it only grows */
	unsigned idx;			/* which stripe the thread counts in */
	bool	 used;			/* a thread has it (reg_lock) */
	char	 pad[CACHE_LINE];
};

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static _Atomic(struct reader *) reg_head;
static unsigned reg_count;		/* slots made (reg_lock) */
static pthread_once_t reg_once = PTHREAD_ONCE_INIT;
static pthread_key_t reg_key;
static _Thread_local struct reader *reg_self;
static atomic_uint_least64_t global_epoch = 1;

/* xaligned - zeroed memory on a cache-line boundary, or abort */
static void *
xaligned(size_t size)
{
	void *p;

	size = (size + CACHE_LINE - 1) & ~(size_t)(CACHE_LINE - 1);
	if (posix_memalign(&p, CACHE_LINE, size) != 0)
		log_fatal("out of memory allocating %zu bytes", size);
	memset(p, 0, size);
	return p;
}

/* reader_release - a thread ends: its slot is free for the next one */
static void
reader_release(void *arg)
{
	struct reader *rd = arg;

	pthread_mutex_lock(&reg_lock);
	atomic_store_explicit(&rd->epoch, 0, memory_order_release);
	rd->used = false;
	pthread_mutex_unlock(&reg_lock);
	reg_self = NULL;
}

static void
reader_key_init(void)
{
	if (pthread_key_create(&reg_key, reader_release) != 0)
		log_panic("pthread_key_create failed");
}

/* reader_self - this thread's slot, taken on its first call */
static struct reader *
reader_self(void)
{
	struct reader *rd = reg_self;

	if (rd != NULL)
		return rd;
	pthread_once(&reg_once, reader_key_init);
	pthread_mutex_lock(&reg_lock);
	for (rd = atomic_load_explicit(&reg_head, memory_order_relaxed);
	    rd != NULL && rd->used; rd = rd->next)
		;
	if (rd == NULL) {
		rd = xaligned(sizeof(*rd));
		rd->idx = reg_count++;
		rd->next = atomic_load_explicit(&reg_head,
		    memory_order_relaxed);
		atomic_store_explicit(&reg_head, rd, memory_order_release);
	}
	rd->used = true;
	pthread_mutex_unlock(&reg_lock);
	if (pthread_setspecific(reg_key, rd) != 0)
		log_panic("pthread_setspecific failed");
	reg_self = rd;
	return rd;
}

unsigned
dns_reader_slots(void)
{
	unsigned n;

	pthread_mutex_lock(&reg_lock);
	n = reg_count;
	pthread_mutex_unlock(&reg_lock);
	return n;
}

/*
 * reader_enter - announce the epoch before reading any pointer of the
 * table.  The fence orders the announcement before those reads; its
 * pair is the fence in shard_reclaim (either the reclaimer sees this
 * slot busy, or this reader sees the entry already unlinked).  Both
 * stores to the slot are releases, read by shard_reclaim with acquire:
 * whichever it reads, this thread's earlier sections happen before the
 * free.
 */
static void
reader_enter(struct reader *rd)
{
	atomic_store_explicit(&rd->epoch,
	    atomic_load_explicit(&global_epoch, memory_order_acquire),
	    memory_order_release);
	atomic_thread_fence(memory_order_seq_cst);
}

static void
reader_leave(struct reader *rd)
{
	atomic_store_explicit(&rd->epoch, 0, memory_order_release);
}

/* entry_free - release e's memory: no reader can reach it any more */
static void
entry_free(struct centry *e)
{
	pthread_cond_destroy(&e->cv);
	dns_answer_free(e->ans);
	free(e->name);
	free(e);
}

/*
 * shard_reclaim - free the retired entries no reader can still hold
 * (sh locked).  An entry retired in epoch E was unlinked before the
 * epoch moved past E: a reader that announced a later epoch cannot
 * have found it.
 */
static void
shard_reclaim(struct shard *sh)
{
	uint_least64_t oldest = UINT64_MAX, ep;
	struct reader *rd;
	struct centry **pp, *e;

	atomic_thread_fence(memory_order_seq_cst);
	for (rd = atomic_load_explicit(&reg_head, memory_order_acquire);
	    rd != NULL; rd = rd->next) {
		ep = atomic_load_explicit(&rd->epoch, memory_order_acquire);
		if (ep != 0 && ep < oldest)
			oldest = ep;
	}
	for (pp = &sh->retired; (e = *pp) != NULL;)
		if (e->retired < oldest) {
			*pp = e->rnext;
			sh->nretired--;
			entry_free(e);
		} else
			pp = &e->rnext;
}

/* retire - e's last reference went: free it once no reader holds it */
static void
retire(struct shard *sh, struct centry *e)
{
	e->retired = atomic_fetch_add(&global_epoch, 1);
	e->rnext = sh->retired;
	sh->retired = e;
	if (++sh->nretired >= DNS_RETIRE_BATCH)
		shard_reclaim(sh);
}

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

static const struct {
	uint16_t type;
	const char *name;
} type_names[] = {
	{ DNS_T_A, "A" }, { DNS_T_NS, "NS" }, { DNS_T_CNAME, "CNAME" },
	{ DNS_T_PTR, "PTR" }, { DNS_T_MX, "MX" }, { DNS_T_TXT, "TXT" },
	{ DNS_T_AAAA, "AAAA" },
};

const char *
dns_type_name(uint16_t type)
{
	size_t i;

	for (i = 0; i < sizeof(type_names) / sizeof(type_names[0]); i++)
		if (type_names[i].type == type)
			return type_names[i].name;
	return NULL;
}

int
dns_type_parse(const char *s, uint16_t *type)
{
	size_t i;

	for (i = 0; i < sizeof(type_names) / sizeof(type_names[0]); i++)
		if (str_ieq(s, type_names[i].name)) {
			*type = type_names[i].type;
			return 0;
		}
	return -1;
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

double
dns_budget_left_ms(const struct dns_budget *b)
{
	double left;

	if (b == NULL || b->deadline <= 0)
		return -1;
	left = b->deadline - mono_ms();
	return left > 0 ? left : 0;
}

/* budget_charge - account one lookup that waited ms */
static void
budget_charge(struct dns_budget *b, double ms, enum dns_status st)
{
	if (b == NULL)
		return;
	pthread_mutex_lock(&b->lock);
	b->queries++;
	b->spent_ms += ms;
	if (dns_status_is_temp(st))
		b->failures++;
	pthread_mutex_unlock(&b->lock);
}

bool
dns_name_check(const char *name, unsigned flags)
{
	size_t len = strlen(name), label = 0, i;

	if (len > 0 && name[len - 1] == '.')
		len--;
	if (len == 0 || len > DNS_MAX_NAME)
		return false;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c == '.') {
			if (label == 0)
				return false;
			label = 0;
			continue;
		}
		if (flags & DNS_F_ANYNAME) {
			if (c < 0x20 || c > 0x7e)
				return false;
		} else if (!(ch_is_alnum(c) || c == '-' || c == '_'))
			return false;
		if (++label > 63)
			return false;
	}
	return true;
}

bool
dns_name_valid(const char *name)
{
	return dns_name_check(name, 0);
}

void
dns_opts_default(struct dns_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->cache_size = 10000;
	o->max_ttl = 86400;
	o->servfail_ttl = 30;
	o->timeout_ttl = 5;
	o->query_timeout_ms = 5000;
	o->prefetch_threads = 4;
	o->prefetch_queue = 1024;
}

struct dns_resolver *
dns_resolver_new_opts(const struct dns_backend *be, void *impl,
    const struct dns_opts *o)
{
	struct dns_resolver *r = xcalloc(1, sizeof(*r));
	struct shard *sh;
	size_t want;
	unsigned i;

	r->backend = be;
	r->impl = impl;
	if (o)
		r->opts = *o;
	else
		dns_opts_default(&r->opts);
	if (r->opts.query_timeout_ms <= 0)
		r->opts.query_timeout_ms = 5000;
	if (r->opts.prefetch_queue == 0)
		r->opts.prefetch_queue = 1;
	pthread_mutex_init(&r->lock, NULL);
	pthread_condattr_init(&r->cvattr);
	pthread_condattr_setclock(&r->cvattr, CLOCK_MONOTONIC);
	pthread_cond_init(&r->qcv, &r->cvattr);
	r->nshards = r->opts.cache_size >= DNS_SHARD_MIN * DNS_SHARDS ?
	    DNS_SHARDS : 1;
	r->shards = xaligned(r->nshards * sizeof(*r->shards));
	r->stripes = xaligned(DNS_STRIPES * sizeof(*r->stripes));
	for (i = 0; i < r->nshards; i++) {
		sh = &r->shards[i];
		pthread_mutex_init(&sh->lock, NULL);
		sh->cap = r->opts.cache_size / r->nshards;
		want = sh->cap < 32 ? 64 : sh->cap * 2;
		for (sh->nbuckets = 64; sh->nbuckets < want &&
		    sh->nbuckets < (1u << 22);)
			sh->nbuckets <<= 1;
		sh->buckets = xcalloc(sh->nbuckets, sizeof(*sh->buckets));
	}
	r->queue = xcalloc(r->opts.prefetch_queue, sizeof(*r->queue));
	r->refs = 1;
	return r;
}

struct dns_resolver *
dns_resolver_new(const struct dns_backend *be, void *impl)
{
	return dns_resolver_new_opts(be, impl, NULL);
}

const char *
dns_resolver_backend(const struct dns_resolver *r)
{
	return r->backend->name;
}

/* ---- answers ---- */

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

struct dns_rr *
dns_answer_add(struct dns_answer *a, uint16_t type)
{
	struct dns_rr *rr;

	a->rrs = xreallocarray(a->rrs, a->n + 1, sizeof(*a->rrs));
	rr = &a->rrs[a->n++];
	memset(rr, 0, sizeof(*rr));
	rr->type = type;
	return rr;
}

struct dns_answer *
dns_answer_copy(const struct dns_answer *src)
{
	struct dns_answer *a = xcalloc(1, sizeof(*a));
	size_t i;

	*a = *src;
	a->rrs = NULL;
	if (src->n) {
		a->rrs = xcalloc(src->n, sizeof(*a->rrs));
		for (i = 0; i < src->n; i++) {
			a->rrs[i] = src->rrs[i];
			if (src->rrs[i].name)
				a->rrs[i].name = xstrdup(src->rrs[i].name);
			if (src->rrs[i].txt) {
				a->rrs[i].txt = xmalloc(src->rrs[i].txt_len + 1);
				memcpy(a->rrs[i].txt, src->rrs[i].txt,
				    src->rrs[i].txt_len + 1);
			}
		}
	}
	return a;
}

/* answer_move - give the contents of src to dst (dst was empty) */
static void
answer_move(struct dns_answer *dst, struct dns_answer *src)
{
	*dst = *src;
	free(src);
}

/* ---- the table ---- */

static uint32_t
hash_key(const char *name, uint16_t type)
{
	uint32_t h = 2166136261u ^ type;

	for (; *name; name++)
		h = (h ^ (unsigned char)*name) * 16777619u;
	return h;
}

/* shard_of - the shard of a hash; the bits above the buckets' choose */
static struct shard *
shard_of(struct dns_resolver *r, uint32_t h)
{
	return &r->shards[(h >> 24) & (r->nshards - 1)];
}

/*
 * table_find - the entry of (name, type), or NULL.  Safe with the
 * shard's lock or inside reader_enter/reader_leave: chains are changed
 * by release stores and an unlinked entry keeps its hnext.
 */
static struct centry *
table_find(struct shard *sh, const char *name, uint16_t type, uint32_t h)
{
	struct centry *e;

	for (e = atomic_load_explicit(&sh->buckets[h & (sh->nbuckets - 1)],
	    memory_order_acquire); e != NULL;
	    e = atomic_load_explicit(&e->hnext, memory_order_acquire))
		if (e->hash == h && e->type == type && strcmp(e->name, name) == 0)
			return e;
	return NULL;
}

static enum cstate
entry_state(struct centry *e)
{
	return (enum cstate)atomic_load_explicit(&e->state,
	    memory_order_acquire);
}

static void
entry_set_state(struct centry *e, enum cstate st)
{
	atomic_store_explicit(&e->state, (int)st, memory_order_release);
}

/* entry_touch - a hit: set the CLOCK bit, writing only if it was clear */
static void
entry_touch(struct centry *e)
{
	if (!atomic_load_explicit(&e->referenced, memory_order_relaxed))
		atomic_store_explicit(&e->referenced, true,
		    memory_order_relaxed);
}

static struct centry *
entry_new(struct dns_resolver *res, struct shard *r, const char *name,
    uint16_t type, uint32_t h, enum cstate st)
{
	struct centry *e = xcalloc(1, sizeof(*e));
	_Atomic(struct centry *) *b = &r->buckets[h & (r->nbuckets - 1)];

	e->name = xstrdup(name);
	e->type = type;
	e->hash = h;
	atomic_init(&e->state, (int)st);
	atomic_init(&e->referenced, false);
	e->refs = 1;		/* the table's */
	e->in_table = true;
	pthread_cond_init(&e->cv, &res->cvattr);
	atomic_init(&e->hnext, atomic_load_explicit(b, memory_order_relaxed));
	atomic_store_explicit(b, e, memory_order_release);	/* publish */
	return e;
}

static void
entry_unref(struct shard *sh, struct centry *e)
{
	if (--e->refs == 0)
		retire(sh, e);
}

static void
lru_unlink(struct shard *r, struct centry *e)
{
	if (!e->in_lru)
		return;
	if (e->prev)
		e->prev->next = e->next;
	else
		r->lru_head = e->next;
	if (e->next)
		e->next->prev = e->prev;
	else
		r->lru_tail = e->prev;
	e->prev = e->next = NULL;
	e->in_lru = false;
	r->nlru--;
}

static void
lru_push(struct shard *r, struct centry *e)
{
	e->prev = NULL;
	e->next = r->lru_head;
	if (r->lru_head)
		r->lru_head->prev = e;
	r->lru_head = e;
	if (r->lru_tail == NULL)
		r->lru_tail = e;
	e->in_lru = true;
	r->nlru++;
}

/*
 * table_remove - take e out of the table (and the CLOCK list); drops
 * its reference.  e->hnext stays as it was, so that a reader standing
 * on e goes on along the chain.
 */
static void
table_remove(struct shard *r, struct centry *e)
{
	_Atomic(struct centry *) *pp;
	struct centry *cur;

	if (!e->in_table)
		return;
	for (pp = &r->buckets[e->hash & (r->nbuckets - 1)];
	    (cur = atomic_load_explicit(pp, memory_order_relaxed)) != NULL;
	    pp = &cur->hnext)
		if (cur == e) {
			atomic_store_explicit(pp, atomic_load_explicit(
			    &e->hnext, memory_order_relaxed),
			    memory_order_release);
			break;
		}
	e->in_table = false;
	lru_unlink(r, e);
	entry_unref(r, e);
}

/*
 * clock_evict - push one entry out (sh locked, list not empty): the
 * oldest in the list, unless it was hit since the hand last passed;
 * then it loses its bit and goes to the head (a second chance).  Ends
 * within one turn of the list, since every turn clears the bits.
 */
static void
clock_evict(struct shard *sh)
{
	struct centry *e;

	while ((e = sh->lru_tail) != sh->lru_head &&
	    atomic_load_explicit(&e->referenced, memory_order_relaxed)) {
		atomic_store_explicit(&e->referenced, false,
		    memory_order_relaxed);
		lru_unlink(sh, e);
		lru_push(sh, e);
	}
	sh->st.evictions++;
	table_remove(sh, e);
}

/* cache_ttl - seconds an answer may stay in the cache */
static uint32_t
cache_ttl(const struct dns_resolver *r, const struct dns_answer *a)
{
	uint32_t ttl;

	switch (a->status) {
	case DNS_OK:
	case DNS_NODATA:
	case DNS_NXDOMAIN:
		ttl = a->ttl;
		break;
	case DNS_SERVFAIL:
	case DNS_MALFORMED:
		ttl = r->opts.servfail_ttl;
		break;
	case DNS_TIMEOUT:
		ttl = r->opts.timeout_ttl;
		break;
	default:
		ttl = 0;
	}
	return ttl < r->opts.max_ttl ? ttl : r->opts.max_ttl;
}

/* entry_finish - store the backend's answer; wake waiters (sh locked) */
static void
entry_finish(struct dns_resolver *r, struct shard *sh, struct centry *e,
    struct dns_answer *a)
{
	uint32_t ttl = cache_ttl(r, a);
	bool keep = e->in_table && ttl > 0 && sh->cap > 0;

	/* the caller holds a reference: e outlives its removal */
	if (!keep)
		table_remove(sh, e);
	e->ans = a;
	e->expires = mono_ms() + (double)ttl * 1000.0;
	entry_set_state(e, CE_DONE);	/* publishes ans and expires */
	pthread_cond_broadcast(&e->cv);
	if (!keep)
		return;
	while (sh->nlru >= sh->cap)	/* room first: e is no candidate */
		clock_evict(sh);
	lru_push(sh, e);
}

/* copy_out - the cached answer for a caller, TTL counted down */
static void
copy_out(const struct centry *e, struct dns_answer *out, bool cached)
{
	struct dns_answer *c = dns_answer_copy(e->ans);
	double left = (e->expires - mono_ms()) / 1000.0;

	if (cached)
		c->ttl = left > 0 ? (uint32_t)left : 0;
	c->from_cache = cached;
	answer_move(out, c);
}

/* count_failure - a backend answer's failure in the shard's statistics */
static void
count_failure(struct shard *sh, enum dns_status st)
{
	if (st == DNS_TIMEOUT)
		sh->st.timeouts++;
	else if (st == DNS_SERVFAIL)
		sh->st.servfails++;
}

/*
 * run_query - ask the backend for e (sh's lock held on entry and exit,
 * not during the backend call).  Returns with the answer copied to
 * out.  A timeout that the caller's deadline caused abandons the entry
 * so other waiters try again.
 */
static void
run_query(struct dns_resolver *r, struct shard *sh, struct centry *e,
    double deadline, struct dns_answer *out)
{
	struct dns_answer *a = xcalloc(1, sizeof(*a));
	double timeout = r->opts.query_timeout_ms, left;
	bool clipped = false;

	sh->st.queries++;
	pthread_mutex_unlock(&sh->lock);
	if (deadline > 0) {
		left = deadline - mono_ms();
		if (left < timeout) {
			timeout = left > 1 ? left : 1;
			clipped = true;
		}
	}
	r->backend->query(r->impl, e->name, e->type, timeout, a);
	pthread_mutex_lock(&sh->lock);
	count_failure(sh, a->status);
	if (clipped && a->status == DNS_TIMEOUT) {
		entry_set_state(e, CE_ABANDONED);
		pthread_cond_broadcast(&e->cv);
		table_remove(sh, e);
		answer_move(out, a);
		return;
	}
	entry_finish(r, sh, e, a);
	copy_out(e, out, false);
}

/* wait_entry - wait for e to finish; false if the deadline came first */
static bool
wait_entry(struct shard *r, struct centry *e, double deadline)
{
	struct timespec ts;
	double ms;

	while (entry_state(e) == CE_RUNNING || entry_state(e) == CE_QUEUED) {
		if (deadline <= 0) {
			pthread_cond_wait(&e->cv, &r->lock);
			continue;
		}
		ms = deadline;
		if (ms <= mono_ms())
			return false;
		ts.tv_sec = (time_t)(ms / 1000.0);
		ts.tv_nsec = (long)((ms - (double)ts.tv_sec * 1000.0) * 1e6);
		if (ts.tv_nsec >= 1000000000L)
			ts.tv_nsec = 999999999L;
		if (pthread_cond_timedwait(&e->cv, &r->lock, &ts) == ETIMEDOUT &&
		    (entry_state(e) == CE_RUNNING ||
		    entry_state(e) == CE_QUEUED))
			return false;
	}
	return true;
}

/* stripe_of - where this thread counts lookups and hits */
static struct stripe *
stripe_of(struct dns_resolver *r, const struct reader *rd)
{
	return &r->stripes[rd->idx & (DNS_STRIPES - 1)];
}

/* count_hit - after the lookup was counted; see dns_resolver_stats */
static void
count_hit(struct stripe *sp)
{
	atomic_fetch_add_explicit(&sp->hits, 1, memory_order_release);
}

/*
 * fresh_hit - the hit path: a fresh answer copied out without the
 * shard's lock, writing nothing another thread reads on its hits (the
 * reader slot and the stripe are this thread's; the CLOCK bit is
 * written only when it was clear).  False: take the lock.
 */
static bool
fresh_hit(struct shard *sh, struct reader *rd, const char *key,
    uint16_t type, uint32_t h, struct dns_answer *out)
{
	struct centry *e;
	bool hit = false;

	reader_enter(rd);
	e = table_find(sh, key, type, h);
	if (e != NULL && entry_state(e) == CE_DONE && e->expires > mono_ms()) {
		entry_touch(e);
		copy_out(e, out, true);
		hit = true;
	}
	reader_leave(rd);
	return hit;
}

/* cached_lookup - the cache protocol described at the top */
static void
cached_lookup(struct dns_resolver *r, const char *key, uint16_t type,
    double deadline, struct dns_answer *out)
{
	uint32_t h = hash_key(key, type);
	struct shard *sh = shard_of(r, h);
	struct reader *rd = reader_self();
	struct stripe *sp = stripe_of(r, rd);
	struct centry *e;

	atomic_fetch_add_explicit(&sp->lookups, 1, memory_order_relaxed);
	if (fresh_hit(sh, rd, key, type, h, out)) {
		count_hit(sp);
		return;
	}
	pthread_mutex_lock(&sh->lock);
	for (;;) {
		e = table_find(sh, key, type, h);
		if (e && entry_state(e) == CE_DONE) {
			if (e->expires > mono_ms()) {
				count_hit(sp);
				entry_touch(e);
				copy_out(e, out, true);
				pthread_mutex_unlock(&sh->lock);
				return;
			}
			table_remove(sh, e);
			e = NULL;
		}
		if (e == NULL) {
			e = entry_new(r, sh, key, type, h, CE_RUNNING);
			break;
		}
		if (entry_state(e) == CE_QUEUED) {
			/* take the prefetch over; the worker will skip it */
			entry_set_state(e, CE_RUNNING);
			break;
		}
		/* CE_RUNNING (an abandoned entry is never in the table) */
		e->refs++;
		sh->st.shared++;
		if (!wait_entry(sh, e, deadline)) {
			entry_unref(sh, e);
			pthread_mutex_unlock(&sh->lock);
			out->status = DNS_TIMEOUT;
			return;
		}
		if (entry_state(e) == CE_DONE) {
			copy_out(e, out, true);
			entry_unref(sh, e);
			pthread_mutex_unlock(&sh->lock);
			return;
		}
		entry_unref(sh, e);		/* abandoned: try again */
	}
	e->refs++;
	run_query(r, sh, e, deadline, out);
	entry_unref(sh, e);
	pthread_mutex_unlock(&sh->lock);
}

/* normalise - lower-case copy without the trailing dot into key */
static void
normalise(const char *name, char key[DNS_MAX_NAME + 2])
{
	size_t n = strlen(name), i;

	if (n > 0 && name[n - 1] == '.')
		n--;
	if (n > DNS_MAX_NAME)
		n = DNS_MAX_NAME;
	for (i = 0; i < n; i++)
		key[i] = (char)ch_lower((unsigned char)name[i]);
	key[n] = '\0';
}

enum dns_status
dns_lookup_ex(struct dns_resolver *r, const char *name, uint16_t type,
    unsigned flags, struct dns_budget *b, struct dns_answer **out)
{
	struct dns_answer *a = xcalloc(1, sizeof(*a));
	char key[DNS_MAX_NAME + 2];
	double t0 = mono_ms(), deadline = b ? b->deadline : 0;

	*out = a;
	if (!dns_name_check(name, flags)) {
		a->status = DNS_INVALID_NAME;
		return a->status;
	}
	normalise(name, key);
	if (deadline > 0 && deadline <= t0) {
		a->status = DNS_TIMEOUT;
		budget_charge(b, 0, a->status);
	} else {
		cached_lookup(r, key, type, deadline, a);
		budget_charge(b, mono_ms() - t0, a->status);
		if (r->trace)
			r->trace(r->trace_arg, key, type, a, mono_ms() - t0);
	}
	if (b && b->record)
		b->record(b->record_arg, key, type, a);
	return a->status;
}

void
dns_resolver_trace(struct dns_resolver *r, dns_trace_fn *fn, void *arg)
{
	r->trace = fn;
	r->trace_arg = arg;
}

enum dns_status
dns_lookup(struct dns_resolver *r, const char *name, uint16_t type,
    struct dns_budget *b, struct dns_answer **out)
{
	return dns_lookup_ex(r, name, type, 0, b, out);
}

/* ---- prefetch pool ---- */

static void resolver_destroy(struct dns_resolver *);

/*
 * worker_main - run queued prefetches.  Workers are detached and hold a
 * reference: dns_resolver_free() never waits for a query in flight (a
 * dead server would hold a reload or a `scan` exit for the full query
 * timeout); the last worker out frees the resolver.
 */
static void *
worker_main(void *arg)
{
	struct dns_resolver *r = arg;
	struct shard *sh;
	struct centry *e;
	struct dns_answer *a;
	bool last;

	pthread_mutex_lock(&r->lock);
	for (;;) {
		while (r->qlen == 0 && !r->stopping)
			pthread_cond_wait(&r->qcv, &r->lock);
		if (r->stopping)
			break;
		e = r->queue[r->qhead];
		r->qhead = (r->qhead + 1) % r->opts.prefetch_queue;
		r->qlen--;
		pthread_mutex_unlock(&r->lock);
		sh = shard_of(r, e->hash);	/* hash never changes */
		pthread_mutex_lock(&sh->lock);
		if (entry_state(e) != CE_QUEUED) {	/* a lookup took it */
			entry_unref(sh, e);
			pthread_mutex_unlock(&sh->lock);
			pthread_mutex_lock(&r->lock);
			continue;
		}
		entry_set_state(e, CE_RUNNING);
		sh->st.queries++;
		pthread_mutex_unlock(&sh->lock);
		a = xcalloc(1, sizeof(*a));
		r->backend->query(r->impl, e->name, e->type,
		    r->opts.query_timeout_ms, a);
		pthread_mutex_lock(&sh->lock);
		count_failure(sh, a->status);
		entry_finish(r, sh, e, a);
		entry_unref(sh, e);
		pthread_mutex_unlock(&sh->lock);
		pthread_mutex_lock(&r->lock);
	}
	last = --r->refs == 0;
	pthread_mutex_unlock(&r->lock);
	if (last)
		resolver_destroy(r);
	return NULL;
}

/* start_workers - lazily, on the first prefetch (lock held) */
static void
start_workers(struct dns_resolver *r)
{
	pthread_t tid;
	unsigned i;

	r->workers = xcalloc(r->opts.prefetch_threads, sizeof(pthread_t));
	for (i = 0; i < r->opts.prefetch_threads; i++) {
		if (pthread_create(&tid, NULL, worker_main, r) != 0) {
			log_warn("dns: cannot start prefetch thread %u", i);
			break;
		}
		pthread_detach(tid);
		r->workers[i] = tid;
		r->nworkers++;
		r->refs++;
	}
}

void
dns_prefetch(struct dns_resolver *r, const char *name, uint16_t type)
{
	char key[DNS_MAX_NAME + 2];
	struct shard *sh;
	struct centry *e;
	uint32_t h;

	if (r == NULL || r->opts.prefetch_threads == 0 ||
	    !dns_name_check(name, DNS_F_ANYNAME))
		return;
	normalise(name, key);
	h = hash_key(key, type);
	sh = shard_of(r, h);
	if (!atomic_load(&r->started)) {
		pthread_mutex_lock(&r->lock);
		if (r->workers == NULL && !r->stopping)
			start_workers(r);
		atomic_store(&r->started, true);
		pthread_mutex_unlock(&r->lock);
	}
	pthread_mutex_lock(&sh->lock);
	e = table_find(sh, key, type, h);
	if (e && entry_state(e) == CE_DONE && e->expires <= mono_ms()) {
		table_remove(sh, e);
		e = NULL;
	}
	if (e == NULL) {
		pthread_mutex_lock(&r->lock);	/* shard, then queue */
		if (r->nworkers == 0 || r->stopping ||
		    r->qlen >= r->opts.prefetch_queue) {
			sh->st.prefetch_dropped++;
		} else {
			e = entry_new(r, sh, key, type, h, CE_QUEUED);
			e->refs++;	/* the queue's */
			r->queue[(r->qhead + r->qlen) %
			    r->opts.prefetch_queue] = e;
			r->qlen++;
			sh->st.prefetches++;
			pthread_cond_signal(&r->qcv);
		}
		pthread_mutex_unlock(&r->lock);
	}
	pthread_mutex_unlock(&sh->lock);
}

/* ---- statistics, flushing, teardown ---- */

void
dns_resolver_stats(struct dns_resolver *r, struct dns_stats *st)
{
	struct shard *sh;
	unsigned i;

	memset(st, 0, sizeof(*st));
	/*
	 * hits first: a thread counts a lookup before its hit, the hit
	 * with release, so every hit read here has its lookup in the sum
	 * too (hits <= lookups, as the status page and metrics expect).
	 */
	for (i = 0; i < DNS_STRIPES; i++) {
		st->hits += atomic_load_explicit(&r->stripes[i].hits,
		    memory_order_acquire);
		st->lookups += atomic_load_explicit(&r->stripes[i].lookups,
		    memory_order_relaxed);
	}
	for (i = 0; i < r->nshards; i++) {
		sh = &r->shards[i];
		pthread_mutex_lock(&sh->lock);
		st->shared += sh->st.shared;
		st->queries += sh->st.queries;
		st->prefetches += sh->st.prefetches;
		st->prefetch_dropped += sh->st.prefetch_dropped;
		st->evictions += sh->st.evictions;
		st->timeouts += sh->st.timeouts;
		st->servfails += sh->st.servfails;
		st->entries += sh->nlru;
		pthread_mutex_unlock(&sh->lock);
	}
}

void
dns_resolver_flush(struct dns_resolver *r)
{
	struct shard *sh;
	unsigned i;

	for (i = 0; i < r->nshards; i++) {
		sh = &r->shards[i];
		pthread_mutex_lock(&sh->lock);
		while (sh->lru_tail)
			table_remove(sh, sh->lru_tail);
		shard_reclaim(sh);
		pthread_mutex_unlock(&sh->lock);
	}
}

/* resolver_destroy - free everything; no thread uses r any more */
static void
resolver_destroy(struct dns_resolver *r)
{
	struct centry *e;
	struct shard *sh;
	size_t b;
	unsigned i;

	for (; r->qlen > 0; r->qlen--) {
		e = r->queue[r->qhead];
		entry_unref(shard_of(r, e->hash), e);
		r->qhead = (r->qhead + 1) % r->opts.prefetch_queue;
	}
	for (i = 0; i < r->nshards; i++) {
		sh = &r->shards[i];
		for (b = 0; b < sh->nbuckets; b++)
			while ((e = atomic_load(&sh->buckets[b])) != NULL)
				table_remove(sh, e);
		/* no lookup runs any more: no reader holds a retired entry */
		while ((e = sh->retired) != NULL) {
			sh->retired = e->rnext;
			entry_free(e);
		}
		free(sh->buckets);
		pthread_mutex_destroy(&sh->lock);
	}
	free(r->shards);
	free(r->stripes);
	free(r->workers);
	free(r->queue);
	pthread_cond_destroy(&r->qcv);
	pthread_condattr_destroy(&r->cvattr);
	pthread_mutex_destroy(&r->lock);
	if (r->backend->free)
		r->backend->free(r->impl);
	free(r);
}

void
dns_resolver_free(struct dns_resolver *r)
{
	bool last;

	if (r == NULL)
		return;
	pthread_mutex_lock(&r->lock);
	r->stopping = true;
	pthread_cond_broadcast(&r->qcv);
	last = --r->refs == 0;
	pthread_mutex_unlock(&r->lock);
	if (last)
		resolver_destroy(r);
}
