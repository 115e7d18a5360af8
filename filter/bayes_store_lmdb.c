/*
 * bayes_store_lmdb.c - the embedded token store: one LMDB environment
 *
 * DESCRIPTION
 *	The store is a directory holding LMDB's data.mdb and lock.mdb, with
 *	three named databases:
 *
 *	    meta     "format", "tokenizer", "nspam", "nham", "created",
 *	             "last_learn" -> uint64 (host order)
 *	    tokens   token hash, a native 64-bit integer (MDB_INTEGERKEY:
 *	             compared as integers) -> { uint32 spam, uint32 ham,
 *	             uint32 last learned (unix time) }, 12 bytes
 *	    digests  16-byte message digest -> { uint8 class, uint32 when }
 *
 *	LMDB gives what the milter needs: any number of threads and
 *	processes read consistent snapshots without locks while one
 *	process (mailwarden train, or the milter's autolearn thread)
 *	writes; a reader never waits for the writer.  Every lookup sees
 *	counts and totals from one snapshot, looking the hashes up in key
 *	order through one cursor.  A learn batch is one write
 *	transaction: digests are checked first, token deltas of the whole
 *	batch are summed in memory, sorted and applied in key order.
 *
 *	LMDB forbids opening one environment twice in a process (its
 *	locks are per process), and a reload builds a second engine while
 *	the first still serves mail, so environments are shared through a
 *	registry keyed by the directory's device and inode.
 *
 *	The map (address space) starts at bayes_map_size.  A writer that
 *	fills it doubles it and retries; readers of this process hold a
 *	read lock on `resize` for the length of their transaction so the
 *	map is never changed under them, and readers elsewhere adopt the
 *	new size when LMDB reports MDB_MAP_RESIZED.
 *
 *	The copy in memory: a lookup's tokens are spread over the whole
 *	tree, so each B-tree descent is a chain of cache misses; with
 *	bayes_memory_max above 0 the environment also keeps the token
 *	counts of one snapshot in a hash table (bayes_tokmap.c, 32-64 bytes
 *	a token), and a lookup is served from it when that snapshot is the
 *	newest committed transaction (the meta page's transaction id),
 *	which is what a reader beginning a transaction then would see.
 *	Lookups read LMDB while there is no copy or it is stale (another
 *	process wrote the store: mailwarden train, load, prune); once they
 *	have read 1/BUILD_DIV as many tokens as the store holds, the copy
 *	is made (again) from a read transaction, at most once per
 *	rebuild_ms, so that a command that scans one message never pays
 *	for it.  A learn transaction of this process
 *	(the milter's autolearn) that commits the id after the copy's puts
 *	the counts it wrote into the copy as it commits, so the copy stays
 *	current without a rebuild.  A store whose copy would take more
 *	than bayes_memory_max, at first or as it grows, is read from LMDB
 *	only.  The copy has a rwlock of its own: lookups share it, a
 *	rebuild (made aside) or a learn takes it alone for the swap or its
 *	few thousand updates.
 *
 * DIAGNOSTICS
 *	Reader table full, map full beyond 64 GiB, disk full and I/O
 *	errors are temporary (BAYES_ETEMP); a missing, corrupt or foreign
 *	store is BAYES_EPERM.
 */
#include "config.h"

#include <errno.h>
#include <lmdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bayes_store.h"
#include "bayes_store_int.h"
#include "bayes_tokmap.h"
#include "buf.h"
#include "clock.h"
#include "log.h"

#define TOKEN_VAL_LEN	BAYES_LMDB_TOKEN_LEN
#define DIGEST_VAL_LEN	BAYES_LMDB_DIGEST_LEN
#define MAP_MAX		(64ULL * 1024 * 1024 * 1024)
#define MAX_READERS	1024
#define PRUNE_CHUNK	20000		/* deletions per transaction */
#define PRUNE_SCAN	200000		/* tokens looked at per transaction */
/*
 * a copy is made once lookups have read 1/BUILD_DIV as many tokens from
 * LMDB as the store holds: making it costs about 220 instructions a
 * stored token, reading one from LMDB about 1,100 and cache misses
 */
#define BUILD_DIV	8

/*
 * tcache - the token counts of one snapshot of the store, in memory
 * (see "The copy in memory" above)
 */
struct tcache {
	pthread_rwlock_t lock;	/* read-held by lookups served from map,
				   write-held to change or replace it */
	struct bayes_tokmap *map;	/* NULL: none */
	size_t	 txnid;		/* the snapshot map and tot hold */
	struct bayes_totals tot;
	pthread_mutex_t build;	/* one builder; guards the fields below */
	uint64_t max_bytes;	/* 0: no copy */
	unsigned rebuild_ms;
	double	 built;		/* when the last build ended (mono s) */
	size_t	 too_big;	/* txnid found too big to copy; 0: none */
	atomic_uint_fast64_t looked;	/* tokens read from LMDB since the
					   last copy was made */
	atomic_uint_fast64_t hits, misses, builds;
};

struct lenv {
	struct lenv *next;
	dev_t	 dev;
	ino_t	 ino;
	int	 refs;
	bool	 readonly;
	bool	 have_dbs;	/* false: read-only and never written */
	MDB_env	*env;
	MDB_dbi	 meta, tokens, digests;
	pthread_rwlock_t resize;	/* write-held while changing the map */
	pthread_mutex_t wlock;		/* one writer per process */
	struct tcache cache;
};

struct lmdb_store {
	struct bayes_store base;
	struct lenv *e;
};

static const struct bayes_store_ops lmdb_ops;
static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static struct lenv *registry;

static int
rc_class(int rc)
{
	switch (rc) {
	case MDB_READERS_FULL:
	case MDB_MAP_FULL:
	case MDB_TXN_FULL:
	case ENOSPC:
	case EAGAIN:
	case EBUSY:
	case EIO:
	case ENOMEM:
		return BAYES_ETEMP;
	default:
		return BAYES_EPERM;
	}
}

static int
fail(struct buf *why, int rc, const char *what)
{
	buf_printf(why, "LMDB %s: %s", what, mdb_strerror(rc));
	return rc_class(rc);
}

/*
 * token keys are the hash as a native 64-bit integer (MDB_INTEGERKEY):
 * LMDB compares them as integers, not bytes
 */
static void
key_put(uint8_t *p, uint64_t h)
{
	memcpy(p, &h, 8);
}

static uint64_t
key_get(const void *p)
{
	uint64_t h;

	memcpy(&h, p, 8);
	return h;
}

int
bayes_lmdb_counts(const void *v, size_t n, struct bayes_counts *c)
{
	if (n < TOKEN_VAL_LEN) {
		memset(c, 0, sizeof(*c));
		return -1;
	}
	memcpy(&c->spam, (const char *)v, 4);
	memcpy(&c->ham, (const char *)v + 4, 4);
	memcpy(&c->seen, (const char *)v + 8, 4);
	return 0;
}

/* decode_counts - a token value as LMDB hands it out */
static void
decode_counts(const MDB_val *v, struct bayes_counts *c)
{
	(void)bayes_lmdb_counts(v->mv_data, v->mv_size, c);
}

int
bayes_lmdb_digest(const void *k, size_t kn, const void *v, size_t vn,
    struct bayes_rec *r)
{
	if (kn != BAYES_DIGEST_LEN || vn != DIGEST_VAL_LEN)
		return -1;
	r->kind = BAYES_REC_DIGEST;
	memcpy(r->digest, k, BAYES_DIGEST_LEN);
	r->cls = ((const uint8_t *)v)[0] ? BAYES_SPAM : BAYES_HAM;
	memcpy(&r->when, (const uint8_t *)v + 1, 4);
	return 0;
}

int
bayes_lmdb_u64(const void *v, size_t n, uint64_t *x)
{
	*x = 0;
	if (n != sizeof(*x))
		return -1;
	memcpy(x, v, sizeof(*x));
	return 0;
}

static void
encode_counts(uint8_t *p, const struct bayes_counts *c)
{
	memcpy(p, &c->spam, 4);
	memcpy(p + 4, &c->ham, 4);
	memcpy(p + 8, &c->seen, 4);
}

/* ---------------------------------------------------------------- */
/* meta values */

static uint64_t
meta_get(MDB_txn *txn, const struct lenv *e, const char *key)
{
	MDB_val k = { strlen(key), (void *)key }, v;
	uint64_t x = 0;

	if (mdb_get(txn, e->meta, &k, &v) == 0)
		(void)bayes_lmdb_u64(v.mv_data, v.mv_size, &x);
	return x;
}

static int
meta_put(MDB_txn *txn, const struct lenv *e, const char *key, uint64_t x)
{
	MDB_val k = { strlen(key), (void *)key }, v = { sizeof(x), &x };

	return mdb_put(txn, e->meta, &k, &v, 0);
}

/* ---------------------------------------------------------------- */
/* transactions: readers hold `resize` shared, see DESCRIPTION */

static void
adopt_new_size(struct lenv *e)
{
	pthread_rwlock_wrlock(&e->resize);
	(void)mdb_env_set_mapsize(e->env, 0);
	pthread_rwlock_unlock(&e->resize);
}

/* txn_begin - with e->resize read-held on success */
static int
txn_begin(struct lenv *e, unsigned flags, MDB_txn **txn)
{
	int rc, tries;

	for (tries = 0; tries < 3; tries++) {
		pthread_rwlock_rdlock(&e->resize);
		rc = mdb_txn_begin(e->env, NULL, flags, txn);
		if (rc == 0)
			return 0;
		pthread_rwlock_unlock(&e->resize);
		if (rc != MDB_MAP_RESIZED)
			return rc;
		adopt_new_size(e);
	}
	return rc;
}

static void
txn_abort(struct lenv *e, MDB_txn *txn)
{
	mdb_txn_abort(txn);
	pthread_rwlock_unlock(&e->resize);
}

static int
txn_commit(struct lenv *e, MDB_txn *txn)
{
	int rc = mdb_txn_commit(txn);

	pthread_rwlock_unlock(&e->resize);
	return rc;
}

/* grow - double the map after MDB_MAP_FULL; no transaction may be open */
static int
grow(struct lenv *e)
{
	MDB_envinfo info;
	int rc;

	pthread_rwlock_wrlock(&e->resize);
	mdb_env_info(e->env, &info);
	if ((uint64_t)info.me_mapsize >= MAP_MAX) {
		pthread_rwlock_unlock(&e->resize);
		return MDB_MAP_FULL;
	}
	rc = mdb_env_set_mapsize(e->env, info.me_mapsize * 2);
	pthread_rwlock_unlock(&e->resize);
	if (rc == 0)
		log_info("Bayes store: map size raised to %zu MiB",
		    info.me_mapsize * 2 / (1024 * 1024));
	return rc;
}

/* ---------------------------------------------------------------- */
/* the copy in memory, see DESCRIPTION */

/* one token's counts as a learn transaction left them */
struct tupd {
	uint64_t hash;
	struct bayes_counts c;
};

static void
cache_drop(struct tcache *c)
{
	if (c->map == NULL)
		return;
	bayes_tokmap_free(c->map);
	free(c->map);
	c->map = NULL;
}

/* cache_configure - the latest opener's bounds; a copy now too big goes */
static void
cache_configure(struct tcache *c, const struct bayes_store_opts *o)
{
	pthread_mutex_lock(&c->build);
	c->max_bytes = o->memory_max;
	c->rebuild_ms = o->rebuild_ms;
	c->too_big = 0;
	pthread_rwlock_wrlock(&c->lock);
	if (c->map && (uint64_t)c->map->nslots * sizeof(*c->map->slot) >
	    c->max_bytes)
		cache_drop(c);
	else if (c->map)
		c->map->max_bytes = c->max_bytes;
	pthread_rwlock_unlock(&c->lock);
	pthread_mutex_unlock(&c->build);
}

/*
 * last_txnid - the newest committed transaction: the snapshot a reader
 * starting now would see
 */
static size_t
last_txnid(struct lenv *e)
{
	MDB_envinfo info;

	pthread_rwlock_rdlock(&e->resize);
	mdb_env_info(e->env, &info);
	pthread_rwlock_unlock(&e->resize);
	return info.me_last_txnid;
}

static uint64_t
cache_seed(void)
{
	uint64_t seed;

	if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) != (ssize_t)sizeof(seed))
		seed = (uint64_t)(clock_mono_s() * 1e9) ^ (uint64_t)getpid();
	return seed;
}

/* fill - every token of txn's snapshot into m: 0, or an LMDB error or -1 */
static int
fill(struct lenv *e, MDB_txn *txn, struct bayes_tokmap *m)
{
	struct bayes_counts cnt;
	MDB_cursor *cur;
	MDB_val k, v;
	int rc;

	if ((rc = mdb_cursor_open(txn, e->tokens, &cur)) != 0)
		return rc;
	while ((rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) == 0) {
		if (k.mv_size != 8)
			continue;
		decode_counts(&v, &cnt);
		if (bayes_tokmap_set(m, key_get(k.mv_data), &cnt) < 0) {
			rc = -1;
			break;
		}
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

/*
 * cache_build - a new copy of the newest snapshot, unless another
 * thread is building one, the last build ended less than rebuild_ms
 * ago, or the store is too big: true when one was made
 */
static bool
cache_build(struct lenv *e)
{
	struct tcache *c = &e->cache;
	struct bayes_tokmap *m = NULL, *old;
	struct bayes_totals tot;
	MDB_txn *txn;
	MDB_stat ms;
	size_t id;
	bool ok = false;
	int rc;

	if (pthread_mutex_trylock(&c->build) != 0)
		return false;
	if (c->max_bytes == 0 || (c->built != 0 &&
	    clock_mono_s() - c->built < c->rebuild_ms / 1000.0))
		goto out;
	if (txn_begin(e, MDB_RDONLY, &txn) != 0)
		goto out;
	id = mdb_txn_id(txn);
	if (id == c->too_big || mdb_stat(txn, e->tokens, &ms) != 0)
		goto abort;
	m = xcalloc(1, sizeof(*m));
	rc = bayes_tokmap_init(m, ms.ms_entries, c->max_bytes,
	    cache_seed()) < 0 ? -1 : fill(e, txn, m);
	if (rc == -1 && c->too_big == 0)
		log_info("Bayes store: %zu tokens, more than bayes_memory_max "
		    "holds: read from LMDB", (size_t)ms.ms_entries);
	if (rc == -1)
		c->too_big = id;
	if (rc != 0)
		goto abort;
	tot.nspam = meta_get(txn, e, "nspam");
	tot.nham = meta_get(txn, e, "nham");
	txn_abort(e, txn);
	pthread_rwlock_wrlock(&c->lock);
	if (c->map == NULL || c->txnid < id) {
		old = c->map;
		c->map = m;
		c->txnid = id;
		c->tot = tot;
		m = old;
	}
	pthread_rwlock_unlock(&c->lock);
	c->built = clock_mono_s();
	atomic_store(&c->looked, 0);
	atomic_fetch_add_explicit(&c->builds, 1, memory_order_relaxed);
	ok = true;
	goto out;
abort:
	txn_abort(e, txn);
out:
	if (m != NULL) {
		bayes_tokmap_free(m);
		free(m);
	}
	pthread_mutex_unlock(&c->build);
	return ok;
}

/*
 * cache_lookup - the counts from the copy when it holds the newest
 * snapshot: true when served from it
 */
static bool
cache_lookup(struct lenv *e, const uint64_t *h, size_t n,
    struct bayes_counts *out, struct bayes_totals *tot)
{
	struct tcache *c = &e->cache;

	pthread_rwlock_rdlock(&c->lock);
	if (c->map != NULL && c->txnid == last_txnid(e)) {
		bayes_tokmap_get(c->map, h, n, out);
		*tot = c->tot;
		pthread_rwlock_unlock(&c->lock);
		atomic_fetch_add_explicit(&c->hits, 1, memory_order_relaxed);
		return true;
	}
	pthread_rwlock_unlock(&c->lock);
	atomic_fetch_add_explicit(&c->misses, 1, memory_order_relaxed);
	return false;
}

/*
 * cache_due - n more tokens were read from LMDB in txn: is it time to
 * make a copy (see BUILD_DIV)?
 */
static bool
cache_due(struct lenv *e, MDB_txn *txn, size_t n)
{
	uint64_t looked = atomic_fetch_add_explicit(&e->cache.looked, n,
	    memory_order_relaxed) + n;
	MDB_stat ms;

	return mdb_stat(txn, e->tokens, &ms) == 0 &&
	    looked * BUILD_DIV >= ms.ms_entries;
}

/*
 * cache_apply - this process's learn transaction id committed: the copy,
 * if it held the snapshot just before, takes its changes and becomes
 * that of id; a copy that would grow past its bound goes
 */
static void
cache_apply(struct lenv *e, size_t id, const struct tupd *u, size_t n,
    const struct bayes_totals *tot)
{
	struct tcache *c = &e->cache;
	size_t i;

	pthread_rwlock_wrlock(&c->lock);
	if (c->map != NULL && c->txnid + 1 == id) {
		for (i = 0; i < n; i++)
			if (bayes_tokmap_set(c->map, u[i].hash, &u[i].c) < 0)
				break;
		if (i < n) {
			cache_drop(c);
		} else {
			c->txnid = id;
			c->tot = *tot;
		}
	}
	pthread_rwlock_unlock(&c->lock);
}

int
bayes_lmdb_memory(struct bayes_store *bs, struct bayes_lmdb_memory *mi)
{
	struct tcache *c;

	memset(mi, 0, sizeof(*mi));
	if (bs->ops != &lmdb_ops)
		return -1;
	c = &((struct lmdb_store *)bs)->e->cache;
	pthread_rwlock_rdlock(&c->lock);
	if (c->map != NULL) {
		mi->tokens = c->map->n;
		mi->bytes = (uint64_t)c->map->nslots * sizeof(*c->map->slot);
		mi->txnid = c->txnid;
	}
	pthread_rwlock_unlock(&c->lock);
	mi->hits = atomic_load(&c->hits);
	mi->misses = atomic_load(&c->misses);
	mi->builds = atomic_load(&c->builds);
	return 0;
}

/* ---------------------------------------------------------------- */
/* opening and the per-process registry */

static int
open_dbs(struct lenv *e, struct buf *why)
{
	MDB_txn *txn;
	unsigned flags = e->readonly ? 0 : MDB_CREATE;
	uint64_t fmt;
	int rc;

	if ((rc = mdb_txn_begin(e->env, NULL, e->readonly ? MDB_RDONLY : 0,
	    &txn)) != 0)
		return fail(why, rc, "begin");
	if ((rc = mdb_dbi_open(txn, "meta", flags, &e->meta)) != 0 ||
	    (rc = mdb_dbi_open(txn, "tokens", flags | MDB_INTEGERKEY,
	    &e->tokens)) != 0 ||
	    (rc = mdb_dbi_open(txn, "digests", flags, &e->digests)) != 0) {
		mdb_txn_abort(txn);
		if (rc == MDB_NOTFOUND && e->readonly)
			return BAYES_OK;	/* never written: empty */
		return fail(why, rc, "open databases");
	}
	fmt = meta_get(txn, e, "format");
	if (fmt == 0 && !e->readonly) {
		fmt = BAYES_STORE_FORMAT;
		if ((rc = meta_put(txn, e, "format", fmt)) != 0 ||
		    (rc = meta_put(txn, e, "created",
		    (uint64_t)time(NULL))) != 0) {
			mdb_txn_abort(txn);
			return fail(why, rc, "initialise");
		}
	}
	if (fmt != 0 && fmt != BAYES_STORE_FORMAT) {
		mdb_txn_abort(txn);
		buf_printf(why, "store format %llu, this program reads %d",
		    (unsigned long long)fmt, BAYES_STORE_FORMAT);
		return BAYES_EPERM;
	}
	if ((rc = mdb_txn_commit(txn)) != 0)
		return fail(why, rc, "commit");
	e->have_dbs = true;
	return BAYES_OK;
}

static int
env_open(const char *path, const struct bayes_store_opts *o, struct lenv *e,
    struct buf *why)
{
	unsigned flags = MDB_NOTLS | MDB_NOMETASYNC |
	    (o->readonly ? MDB_RDONLY : 0);
	int rc, dead;

	if ((rc = mdb_env_create(&e->env)) != 0)
		return fail(why, rc, "create");
	mdb_env_set_maxdbs(e->env, 4);
	mdb_env_set_maxreaders(e->env, MAX_READERS);
	mdb_env_set_mapsize(e->env, (size_t)o->map_size);
	if ((rc = mdb_env_open(e->env, path, flags, 0640)) != 0) {
		buf_printf(why, "%s: ", path);
		rc = fail(why, rc, "open");
		mdb_env_close(e->env);
		return rc;
	}
	/* slots of readers that died without closing */
	if (mdb_reader_check(e->env, &dead) == 0 && dead > 0)
		log_warn("Bayes store %s: cleared %d stale reader slot(s)",
		    path, dead);
	if ((rc = open_dbs(e, why)) != BAYES_OK) {
		mdb_env_close(e->env);
		return rc;
	}
	return BAYES_OK;
}

int
bayes_store_lmdb_open(const char *path, const struct bayes_store_opts *o,
    struct bayes_store **out, struct buf *why)
{
	struct lmdb_store *s;
	struct lenv *e;
	struct stat st;
	int rc;

	if (!o->readonly && mkdir(path, 0750) < 0 && errno != EEXIST) {
		buf_printf(why, "%s: cannot create: %s", path, strerror(errno));
		return BAYES_EPERM;
	}
	if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode)) {
		buf_printf(why, "%s: %s", path, errno == ENOENT ?
		    "no such Bayes store" : "not a directory");
		return BAYES_EPERM;
	}
	pthread_mutex_lock(&registry_lock);
	for (e = registry; e; e = e->next)
		if (e->dev == st.st_dev && e->ino == st.st_ino)
			break;
	if (e && e->readonly && !o->readonly) {
		pthread_mutex_unlock(&registry_lock);
		buf_printf(why, "%s: already open read-only", path);
		return BAYES_EPERM;
	}
	if (e == NULL) {
		e = xcalloc(1, sizeof(*e));
		e->dev = st.st_dev;
		e->ino = st.st_ino;
		e->readonly = o->readonly;
		if ((rc = env_open(path, o, e, why)) != BAYES_OK) {
			pthread_mutex_unlock(&registry_lock);
			free(e);
			return rc;
		}
		pthread_rwlock_init(&e->resize, NULL);
		pthread_mutex_init(&e->wlock, NULL);
		pthread_rwlock_init(&e->cache.lock, NULL);
		pthread_mutex_init(&e->cache.build, NULL);
		e->next = registry;
		registry = e;
	}
	e->refs++;
	cache_configure(&e->cache, o);
	pthread_mutex_unlock(&registry_lock);
	s = xcalloc(1, sizeof(*s));
	s->base.ops = &lmdb_ops;
	s->base.spec = xstrdup(path);
	s->e = e;
	*out = &s->base;
	return BAYES_OK;
}

static void
lmdb_close(struct bayes_store *bs)
{
	struct lmdb_store *s = (struct lmdb_store *)bs;
	struct lenv *e = s->e, **pp;

	pthread_mutex_lock(&registry_lock);
	if (--e->refs == 0) {
		for (pp = &registry; *pp; pp = &(*pp)->next)
			if (*pp == e) {
				*pp = e->next;
				break;
			}
		mdb_env_close(e->env);
		pthread_rwlock_destroy(&e->resize);
		pthread_mutex_destroy(&e->wlock);
		cache_drop(&e->cache);
		pthread_rwlock_destroy(&e->cache.lock);
		pthread_mutex_destroy(&e->cache.build);
		free(e);
	}
	pthread_mutex_unlock(&registry_lock);
	free(s->base.spec);
	free(s);
}

/* ---------------------------------------------------------------- */
/* reads */

/* sorted hash order of a lookup: (hash, index) pairs */
struct order {
	uint64_t hash;
	size_t	 idx;
};


/*
 * sort_order - ord[] by the top 16 bits of the hash: LSD radix sort, a
 * byte per pass, between ord and tmp (a pass whose byte is the same in
 * every key is skipped), stable.  The order only serves the cursor's
 * locality (lookups in any order give the same counts), and a message's
 * few thousand tokens rarely share 16 bits, while a leaf page of the
 * store holds many more keys than that: the six passes over the low
 * bytes bought nothing.
 */
static void
sort_order(struct order *ord, struct order *tmp, size_t n)
{
	struct order *from = ord, *to = tmp, *sw;
	size_t cnt[256], i, sum, c;
	unsigned shift;

	for (shift = 48; shift < 64; shift += 8) {
		memset(cnt, 0, sizeof(cnt));
		for (i = 0; i < n; i++)
			cnt[(from[i].hash >> shift) & 0xFF]++;
		if (cnt[(from[0].hash >> shift) & 0xFF] == n)
			continue;
		for (i = 0, sum = 0; i < 256; i++) {
			c = cnt[i];
			cnt[i] = sum;
			sum += c;
		}
		for (i = 0; i < n; i++)
			to[cnt[(from[i].hash >> shift) & 0xFF]++] = from[i];
		sw = from;
		from = to;
		to = sw;
	}
	if (from != ord)
		memcpy(ord, from, n * sizeof(*ord));
}

/*
 * lmdb_lookup - the hashes are looked up in key order through one
 * cursor: LMDB then finds most keys on the leaf page it is already on
 * instead of descending the tree from the root for each
 */
static int
lmdb_lookup(struct bayes_store *bs, const uint64_t *h, size_t n,
    struct bayes_counts *out, struct bayes_totals *tot, struct buf *why)
{
	struct lenv *e = ((struct lmdb_store *)bs)->e;
	struct order *ord, *tmp;
	MDB_cursor *cur;
	MDB_txn *txn;
	MDB_val k, v;
	uint8_t kb[8];
	size_t i;
	bool due;
	int rc;

	memset(out, 0, n * sizeof(*out));
	memset(tot, 0, sizeof(*tot));
	if (!e->have_dbs || cache_lookup(e, h, n, out, tot))
		return BAYES_OK;
	if ((rc = txn_begin(e, MDB_RDONLY, &txn)) != 0)
		return fail(why, rc, "begin read");
	tot->nspam = meta_get(txn, e, "nspam");
	tot->nham = meta_get(txn, e, "nham");
	if ((rc = mdb_cursor_open(txn, e->tokens, &cur)) != 0) {
		txn_abort(e, txn);
		return fail(why, rc, "cursor");
	}
	ord = xcalloc(n ? n : 1, sizeof(*ord));
	for (i = 0; i < n; i++) {
		ord[i].hash = h[i];
		ord[i].idx = i;
	}
	if (n > 1) {
		tmp = xcalloc(n, sizeof(*tmp));
		sort_order(ord, tmp, n);
		free(tmp);
	}
	k.mv_size = sizeof(kb);
	for (i = 0; i < n; i++) {
		key_put(kb, ord[i].hash);
		k.mv_data = kb;
		rc = mdb_cursor_get(cur, &k, &v, MDB_SET);
		if (rc == 0)
			decode_counts(&v, &out[ord[i].idx]);
		else if (rc != MDB_NOTFOUND)
			break;
		rc = 0;
	}
	free(ord);
	mdb_cursor_close(cur);
	due = rc == 0 && cache_due(e, txn, n);
	txn_abort(e, txn);
	if (due)
		(void)cache_build(e);
	return rc ? fail(why, rc, "read token") : BAYES_OK;
}

/* lmdb_usage - map size and pages up to the last one used: O(1) */
static int
lmdb_usage(struct bayes_store *bs, uint64_t *map, uint64_t *used)
{
	struct lenv *e = ((struct lmdb_store *)bs)->e;
	MDB_envinfo info;
	MDB_stat ms;

	pthread_rwlock_rdlock(&e->resize);
	mdb_env_stat(e->env, &ms);
	mdb_env_info(e->env, &info);
	pthread_rwlock_unlock(&e->resize);
	*map = (uint64_t)info.me_mapsize;
	*used = (uint64_t)(info.me_last_pgno + 1) * ms.ms_psize;
	return 0;
}

static int
lmdb_stats(struct bayes_store *bs, struct bayes_stats *st, struct buf *why)
{
	struct lenv *e = ((struct lmdb_store *)bs)->e;
	MDB_txn *txn;
	MDB_cursor *cur;
	MDB_stat ms;
	MDB_val k, v;
	struct bayes_counts c;
	uint64_t map;
	int rc;

	(void)lmdb_usage(bs, &map, &st->bytes);
	if (!e->have_dbs)
		return BAYES_OK;
	if ((rc = txn_begin(e, MDB_RDONLY, &txn)) != 0)
		return fail(why, rc, "begin read");
	st->tot.nspam = meta_get(txn, e, "nspam");
	st->tot.nham = meta_get(txn, e, "nham");
	st->created = (time_t)meta_get(txn, e, "created");
	st->last_learn = (time_t)meta_get(txn, e, "last_learn");
	st->format = (unsigned)meta_get(txn, e, "format");
	st->tokenizer = (unsigned)meta_get(txn, e, "tokenizer");
	if (mdb_stat(txn, e->tokens, &ms) == 0)
		st->ntokens = ms.ms_entries;
	if (mdb_stat(txn, e->digests, &ms) == 0)
		st->ndigests = ms.ms_entries;
	if ((rc = mdb_cursor_open(txn, e->tokens, &cur)) != 0) {
		txn_abort(e, txn);
		return fail(why, rc, "cursor");
	}
	while ((rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) == 0) {
		decode_counts(&v, &c);
		if (c.seen && (st->oldest_seen == 0 ||
		    (time_t)c.seen < st->oldest_seen))
			st->oldest_seen = c.seen;
		if ((time_t)c.seen > st->newest_seen)
			st->newest_seen = c.seen;
	}
	mdb_cursor_close(cur);
	txn_abort(e, txn);
	if (rc != MDB_NOTFOUND)
		return fail(why, rc, "scan tokens");
	return BAYES_OK;
}

static int
lmdb_iter(struct bayes_store *bs, int (*fn)(const struct bayes_rec *, void *),
    void *arg, struct buf *why)
{
	struct lenv *e = ((struct lmdb_store *)bs)->e;
	struct bayes_rec r;
	MDB_txn *txn;
	MDB_cursor *cur;
	MDB_val k, v;
	int rc, stop = 0;

	memset(&r, 0, sizeof(r));
	r.kind = BAYES_REC_TOTALS;
	if (!e->have_dbs)
		return fn(&r, arg) ? BAYES_EPERM : BAYES_OK;
	if ((rc = txn_begin(e, MDB_RDONLY, &txn)) != 0)
		return fail(why, rc, "begin read");
	r.tot.nspam = meta_get(txn, e, "nspam");
	r.tot.nham = meta_get(txn, e, "nham");
	if (fn(&r, arg) != 0)
		goto stopped;
	if ((rc = mdb_cursor_open(txn, e->tokens, &cur)) != 0)
		goto bad;
	r.kind = BAYES_REC_TOKEN;
	while (!stop && (rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) == 0) {
		if (k.mv_size != 8)
			continue;
		r.hash = key_get(k.mv_data);
		decode_counts(&v, &r.counts);
		stop = fn(&r, arg);
	}
	mdb_cursor_close(cur);
	if (stop)
		goto stopped;
	if (rc != MDB_NOTFOUND || (rc = mdb_cursor_open(txn, e->digests,
	    &cur)) != 0)
		goto bad;
	r.kind = BAYES_REC_DIGEST;
	while (!stop && (rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) == 0) {
		if (bayes_lmdb_digest(k.mv_data, k.mv_size, v.mv_data,
		    v.mv_size, &r) < 0)
			continue;
		stop = fn(&r, arg);
	}
	mdb_cursor_close(cur);
	if (stop)
		goto stopped;
	if (rc != MDB_NOTFOUND)
		goto bad;
	txn_abort(e, txn);
	return BAYES_OK;
bad:
	txn_abort(e, txn);
	return fail(why, rc, "iterate");
stopped:
	txn_abort(e, txn);
	buf_adds(why, "stopped by the caller");
	return BAYES_EPERM;
}

/* ---------------------------------------------------------------- */
/* writes */

/* delta - summed count changes of one token over a batch */
struct delta {
	uint64_t hash;
	int32_t	 ds, dh;
	bool	 used;
};

struct deltas {
	struct delta *v;
	size_t	 n, nslots;
};

static void
deltas_add(struct deltas *d, uint64_t h, int32_t ds, int32_t dh)
{
	size_t j, mask;

	if ((d->n + 1) * 2 > d->nslots) {
		struct delta *old = d->v;
		size_t i, oldn = d->nslots;

		d->nslots = d->nslots ? d->nslots * 2 : 1024;
		d->v = xcalloc(d->nslots, sizeof(*d->v));
		mask = d->nslots - 1;
		for (i = 0; i < oldn; i++) {
			if (!old[i].used)
				continue;
			for (j = old[i].hash & mask; d->v[j].used;
			    j = (j + 1) & mask)
				;
			d->v[j] = old[i];
		}
		free(old);
	}
	mask = d->nslots - 1;
	for (j = h & mask; d->v[j].used; j = (j + 1) & mask)
		if (d->v[j].hash == h)
			break;
	if (!d->v[j].used) {
		d->v[j].used = true;
		d->v[j].hash = h;
		d->n++;
	}
	d->v[j].ds += ds;
	d->v[j].dh += dh;
}

static int
delta_cmp(const void *a, const void *b)
{
	const struct delta *x = a, *y = b;

	return x->hash < y->hash ? -1 : x->hash > y->hash;
}

static uint32_t
apply(uint32_t v, int32_t d)
{
	int64_t r = (int64_t)v + d;

	return r < 0 ? 0 : r > UINT32_MAX ? UINT32_MAX : (uint32_t)r;
}

/* check_digest - digest check of one message: its class deltas */
static int
check_digest(MDB_txn *txn, struct lenv *e, struct bayes_learn_msg *m,
    uint32_t now, int *dspam, int *dham)
{
	MDB_val k = { BAYES_DIGEST_LEN, m->digest }, v;
	uint8_t val[DIGEST_VAL_LEN];
	int rc, old = -1;

	*dspam = *dham = 0;
	rc = mdb_get(txn, e->digests, &k, &v);
	if (rc == 0 && v.mv_size == DIGEST_VAL_LEN)
		old = ((uint8_t *)v.mv_data)[0] ? BAYES_SPAM : BAYES_HAM;
	else if (rc != 0 && rc != MDB_NOTFOUND)
		return rc;
	if (old >= 0) {
		if (m->op == BAYES_OP_LEARN && old == (int)m->cls) {
			m->outcome = BAYES_LEARN_KNOWN;
			return 0;
		}
		*(old == BAYES_SPAM ? dspam : dham) = -1;
	}
	if (m->op == BAYES_OP_FORGET) {
		if (old < 0) {
			m->outcome = BAYES_LEARN_UNKNOWN;
			return 0;
		}
		m->outcome = BAYES_LEARN_FORGOTTEN;
		return mdb_del(txn, e->digests, &k, NULL);
	}
	m->outcome = old >= 0 ? BAYES_LEARN_RELEARNED : BAYES_LEARN_NEW;
	*(m->cls == BAYES_SPAM ? dspam : dham) += 1;
	val[0] = m->cls == BAYES_SPAM;
	memcpy(val + 1, &now, 4);
	v.mv_size = sizeof(val);
	v.mv_data = val;
	return mdb_put(txn, e->digests, &k, &v, 0);
}

/*
 * apply_deltas - the batch's summed changes, in key order; upd[] gets
 * every token's counts as written (zeros for one deleted), *nupd how many
 */
static int
apply_deltas(MDB_txn *txn, struct lenv *e, struct deltas *d, uint32_t now,
    struct tupd *upd, size_t *nupd)
{
	struct bayes_counts c;
	uint8_t kb[8], vb[TOKEN_VAL_LEN];
	MDB_val k = { 8, kb }, v;
	size_t i, j;
	int rc;

	/* used slots to the front, then key order for the B-tree */
	for (i = j = 0; i < d->nslots; i++)
		if (d->v[i].used)
			d->v[j++] = d->v[i];
	if (d->n > 1)
		qsort(d->v, d->n, sizeof(*d->v), delta_cmp);
	for (i = 0; i < d->n; i++) {
		const struct delta *x = &d->v[i];

		if (x->ds == 0 && x->dh == 0)
			continue;
		key_put(kb, x->hash);
		rc = mdb_get(txn, e->tokens, &k, &v);
		if (rc == 0)
			decode_counts(&v, &c);
		else if (rc == MDB_NOTFOUND)
			memset(&c, 0, sizeof(c));
		else
			return rc;
		c.spam = apply(c.spam, x->ds);
		c.ham = apply(c.ham, x->dh);
		if (x->ds > 0 || x->dh > 0)
			c.seen = now;
		upd[*nupd].hash = x->hash;
		if (c.spam == 0 && c.ham == 0)
			memset(&upd[*nupd].c, 0, sizeof(upd[*nupd].c));
		else
			upd[*nupd].c = c;
		(*nupd)++;
		if (c.spam == 0 && c.ham == 0) {
			rc = mdb_del(txn, e->tokens, &k, NULL);
			if (rc != 0 && rc != MDB_NOTFOUND)
				return rc;
			continue;
		}
		encode_counts(vb, &c);
		v.mv_size = sizeof(vb);
		v.mv_data = vb;
		if ((rc = mdb_put(txn, e->tokens, &k, &v, 0)) != 0)
			return rc;
	}
	return 0;
}

static int
learn_txn(struct lenv *e, struct bayes_learn_msg *m, size_t n, uint32_t now)
{
	struct deltas d = { NULL, 0, 0 };
	struct bayes_totals tot;
	struct tupd *upd = NULL;
	MDB_txn *txn;
	int64_t ns, nh;
	int rc, ds, dh;
	size_t i, j, nupd = 0, id;

	if ((rc = txn_begin(e, 0, &txn)) != 0)
		return rc;
	ns = (int64_t)meta_get(txn, e, "nspam");
	nh = (int64_t)meta_get(txn, e, "nham");
	for (i = 0; i < n; i++) {
		if ((rc = check_digest(txn, e, &m[i], now, &ds, &dh)) != 0)
			goto out;
		if (ds == 0 && dh == 0)
			continue;
		ns += ds;
		nh += dh;
		for (j = 0; j < m[i].nhashes; j++)
			deltas_add(&d, m[i].hashes[j], ds, dh);
	}
	tot.nspam = (uint64_t)(ns < 0 ? 0 : ns);
	tot.nham = (uint64_t)(nh < 0 ? 0 : nh);
	upd = xcalloc(d.n ? d.n : 1, sizeof(*upd));
	if ((rc = apply_deltas(txn, e, &d, now, upd, &nupd)) != 0 ||
	    (rc = meta_put(txn, e, "nspam", tot.nspam)) ||
	    (rc = meta_put(txn, e, "nham", tot.nham)) ||
	    (rc = meta_put(txn, e, "last_learn", now)) ||
	    (rc = meta_put(txn, e, "tokenizer", BAYES_TOKENIZER_VERSION)))
		goto out;
	free(d.v);
	id = mdb_txn_id(txn);
	if ((rc = txn_commit(e, txn)) == 0)
		cache_apply(e, id, upd, nupd, &tot);
	free(upd);
	return rc;
out:
	free(d.v);
	free(upd);
	txn_abort(e, txn);
	return rc;
}

/*
 * with_writer - run one write transaction function under the process's
 * writer lock, growing the map and retrying while it is full
 */
static int
with_writer(struct lenv *e, int (*fn)(struct lenv *, void *), void *arg,
    const char *what, struct buf *why)
{
	int rc;

	if (e->readonly) {
		buf_adds(why, "store opened read-only");
		return BAYES_EPERM;
	}
	pthread_mutex_lock(&e->wlock);
	while ((rc = fn(e, arg)) == MDB_MAP_FULL)
		if ((rc = grow(e)) != 0)
			break;
	pthread_mutex_unlock(&e->wlock);
	return rc ? fail(why, rc, what) : BAYES_OK;
}

struct learn_args {
	struct bayes_learn_msg *m;
	size_t	 n;
	uint32_t now;
};

static int
learn_fn(struct lenv *e, void *arg)
{
	struct learn_args *a = arg;

	return learn_txn(e, a->m, a->n, a->now);
}

static int
lmdb_learn(struct bayes_store *bs, struct bayes_learn_msg *m, size_t n,
    time_t now, struct buf *why)
{
	struct learn_args a = { m, n, (uint32_t)now };

	return with_writer(((struct lmdb_store *)bs)->e, learn_fn, &a, "learn",
	    why);
}

static int
put_txn(struct lenv *e, const struct bayes_rec *r, size_t n)
{
	MDB_txn *txn;
	MDB_val k, v;
	uint8_t kb[8], vb[TOKEN_VAL_LEN];
	size_t i;
	int rc = 0;

	if ((rc = txn_begin(e, 0, &txn)) != 0)
		return rc;
	for (i = 0; i < n && rc == 0; i++) {
		switch (r[i].kind) {
		case BAYES_REC_TOTALS:
			rc = meta_put(txn, e, "nspam", meta_get(txn, e,
			    "nspam") + r[i].tot.nspam);
			if (rc == 0)
				rc = meta_put(txn, e, "nham", meta_get(txn, e,
				    "nham") + r[i].tot.nham);
			break;
		case BAYES_REC_TOKEN:
			key_put(kb, r[i].hash);
			encode_counts(vb, &r[i].counts);
			k.mv_size = 8;
			k.mv_data = kb;
			v.mv_size = sizeof(vb);
			v.mv_data = vb;
			rc = mdb_put(txn, e->tokens, &k, &v, 0);
			break;
		case BAYES_REC_DIGEST:
			vb[0] = r[i].cls == BAYES_SPAM;
			memcpy(vb + 1, &r[i].when, 4);
			k.mv_size = BAYES_DIGEST_LEN;
			k.mv_data = (void *)r[i].digest;
			v.mv_size = DIGEST_VAL_LEN;
			v.mv_data = vb;
			rc = mdb_put(txn, e->digests, &k, &v, 0);
			break;
		}
	}
	if (rc == 0)
		rc = meta_put(txn, e, "tokenizer", BAYES_TOKENIZER_VERSION);
	if (rc) {
		txn_abort(e, txn);
		return rc;
	}
	return txn_commit(e, txn);
}

struct put_args {
	const struct bayes_rec *r;
	size_t	 n;
};

static int
put_fn(struct lenv *e, void *arg)
{
	struct put_args *a = arg;

	return put_txn(e, a->r, a->n);
}

static int
lmdb_put(struct bayes_store *bs, const struct bayes_rec *r, size_t n,
    struct buf *why)
{
	struct put_args a = { r, n };

	return with_writer(((struct lmdb_store *)bs)->e, put_fn, &a, "load",
	    why);
}

/*
 * prune_chunk - from key *from on, look at up to PRUNE_SCAN tokens and
 * delete the stale ones (at most PRUNE_CHUNK) in one transaction, so
 * that readers and other writers are never held up for long; *from
 * becomes the next key to look at, *done is set at the end
 */
static int
prune_chunk(struct lenv *e, uint8_t from[8], bool *done, uint32_t before,
    uint32_t max_total, uint64_t *removed)
{
	MDB_txn *txn;
	MDB_cursor *cur;
	MDB_val k = { 8, from }, v;
	struct bayes_counts c;
	uint64_t *del = xcalloc(PRUNE_CHUNK, sizeof(*del));
	size_t n = 0, looked = 0, i;
	uint8_t kb[8];
	int rc;

	if ((rc = txn_begin(e, 0, &txn)) != 0)
		goto out;
	if ((rc = mdb_cursor_open(txn, e->tokens, &cur)) != 0) {
		txn_abort(e, txn);
		goto out;
	}
	rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	for (; rc == 0; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (n == PRUNE_CHUNK || looked == PRUNE_SCAN) {
			memcpy(from, k.mv_data, 8);	/* resume here */
			break;
		}
		looked++;
		decode_counts(&v, &c);
		if (k.mv_size == 8 && c.seen < before &&
		    (uint64_t)c.spam + c.ham <= max_total)
			del[n++] = key_get(k.mv_data);
	}
	mdb_cursor_close(cur);
	*done = rc == MDB_NOTFOUND;
	if (rc == MDB_NOTFOUND)
		rc = 0;
	k.mv_size = 8;
	k.mv_data = kb;
	for (i = 0; i < n && rc == 0; i++) {
		key_put(kb, del[i]);
		rc = mdb_del(txn, e->tokens, &k, NULL);
	}
	if (rc != 0) {
		txn_abort(e, txn);
		goto out;
	}
	if ((rc = txn_commit(e, txn)) == 0)
		*removed += n;
out:
	free(del);
	return rc;
}

struct prune_args {
	uint32_t before, max_total;
	uint64_t *removed;
};

static int
prune_fn(struct lenv *e, void *arg)
{
	struct prune_args *a = arg;
	uint8_t from[8] = { 0 };
	bool done = false;
	int rc = 0;

	while (!done && rc == 0)
		rc = prune_chunk(e, from, &done, a->before, a->max_total,
		    a->removed);
	return rc;
}

static int
lmdb_prune(struct bayes_store *bs, time_t before, uint32_t max_total,
    uint64_t *removed, struct buf *why)
{
	struct prune_args a;

	if (before <= 0)
		return BAYES_OK;
	a.before = before > (time_t)UINT32_MAX ? UINT32_MAX : (uint32_t)before;
	a.max_total = max_total;
	a.removed = removed;
	return with_writer(((struct lmdb_store *)bs)->e, prune_fn, &a, "prune",
	    why);
}

static const struct bayes_store_ops lmdb_ops = {
	"lmdb",
	lmdb_lookup,
	lmdb_learn,
	lmdb_stats,
	lmdb_iter,
	lmdb_put,
	lmdb_prune,
	lmdb_close,
	lmdb_usage
};
