/*
 * pstore_lmdb.c - the policy store of one host: an LMDB environment
 *
 * DESCRIPTION
 *	A directory holding LMDB's data.mdb and lock.mdb with one database:
 *	key text (without the NUL) -> { uint64 value, uint64 expiry }
 *	(pstore_lmdb_val()).  Several milter processes of the host and the
 *	`mailwarden ratelimit` command share it; each update is one write
 *	transaction (LMDB has one writer at a time; readers never wait).
 *
 *	Policy state is cheap to lose and written for every message, so
 *	commits are not flushed to disk (MDB_NOSYNC): a crash of the host
 *	may forget the last seconds of counters, never corrupt the file
 *	on a file system that keeps the order of writes.  Expired entries
 *	read as absent; a write transaction removes some of them (at most
 *	SWEEP_MAX, at most once a minute per process), going round the key
 *	space, so that the file does not grow with dead triplets.
 *
 * DIAGNOSTICS
 *	Map full, reader table full and I/O errors are PSTORE_ETEMP; a
 *	missing or unreadable environment is PSTORE_EPERM.
 */
#include "config.h"

#include <errno.h>
#include <lmdb.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "buf.h"
#include "log.h"
#include "pstore.h"
#include "str.h"

#define MAP_SIZE	(1024ULL * 1024 * 1024)	/* address space only */
#define SWEEP_MAX	2000			/* entries looked at */
#define SWEEP_EVERY	60			/* seconds */

struct lmdb_pstore {
	struct pstore base;
	MDB_env	*env;
	MDB_dbi	 dbi;
	pthread_mutex_t sweep_lock;
	time_t	 next_sweep;
	char	 sweep_from[PSTORE_KEY_MAX + 1];	/* "": the start */
};

static int
fail(struct buf *why, int rc, const char *what)
{
	buf_printf(why, "policy store: %s: %s", what, mdb_strerror(rc));
	return rc == MDB_MAP_FULL || rc == MDB_READERS_FULL || rc == EIO ||
	    rc == ENOSPC || rc == ENOMEM ? PSTORE_ETEMP : PSTORE_EPERM;
}

static void
mkval(MDB_val *k, const char *key)
{
	k->mv_data = (void *)key;
	k->mv_size = strlen(key);
}

static int
bad_key(const char *key, struct buf *why)
{
	size_t n = strlen(key);

	if (n == 0 || n > PSTORE_KEY_MAX) {
		buf_printf(why, "policy store: key of %zu bytes", n);
		return -1;
	}
	return 0;
}

static int
lmdb_get(struct pstore *ps, const char *const *keys, size_t n, time_t now,
    uint64_t *vals, struct buf *why)
{
	struct lmdb_pstore *s = (struct lmdb_pstore *)ps;
	MDB_txn *txn;
	MDB_val k, v;
	time_t exp;
	size_t i;
	int rc;

	if ((rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn)) != 0)
		return fail(why, rc, "read");
	for (i = 0; i < n; i++) {
		if (bad_key(keys[i], why) < 0)
			continue;
		mkval(&k, keys[i]);
		if (mdb_get(txn, s->dbi, &k, &v) == 0)
			(void)pstore_lmdb_val(v.mv_data, v.mv_size, now,
			    &vals[i], &exp);
	}
	mdb_txn_abort(txn);
	return PSTORE_OK;
}

/*
 * sweep - remove up to SWEEP_MAX entries' worth of expired ones,
 * starting where the last sweep stopped, once a minute
 */
static void
sweep(struct lmdb_pstore *s, MDB_txn *txn, time_t now)
{
	MDB_cursor *cur;
	MDB_val k, v;
	uint64_t val;
	time_t exp;
	size_t seen = 0;
	int rc;

	if (pthread_mutex_trylock(&s->sweep_lock) != 0)
		return;
	if (now < s->next_sweep || mdb_cursor_open(txn, s->dbi, &cur) != 0) {
		pthread_mutex_unlock(&s->sweep_lock);
		return;
	}
	s->next_sweep = now + SWEEP_EVERY;
	mkval(&k, s->sweep_from);
	rc = k.mv_size ? mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE) :
	    mdb_cursor_get(cur, &k, &v, MDB_FIRST);
	while (rc == 0 && seen++ < SWEEP_MAX) {
		if (pstore_lmdb_val(v.mv_data, v.mv_size, now, &val, &exp) < 0)
			(void)mdb_cursor_del(cur, 0);
		rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	}
	if (rc == 0 && k.mv_size <= PSTORE_KEY_MAX) {
		memcpy(s->sweep_from, k.mv_data, k.mv_size);
		s->sweep_from[k.mv_size] = '\0';
	} else
		s->sweep_from[0] = '\0';
	mdb_cursor_close(cur);
	pthread_mutex_unlock(&s->sweep_lock);
}

/* write - one write transaction: fn, a sweep, commit */
static int
write_txn(struct lmdb_pstore *s, time_t now,
    int (*fn)(struct lmdb_pstore *, MDB_txn *, void *), void *arg,
    struct buf *why)
{
	MDB_txn *txn;
	int rc;

	if ((rc = mdb_txn_begin(s->env, NULL, 0, &txn)) != 0)
		return fail(why, rc, "write");
	if ((rc = fn(s, txn, arg)) != 0) {
		mdb_txn_abort(txn);
		return fail(why, rc, "write");
	}
	sweep(s, txn, now);
	if ((rc = mdb_txn_commit(txn)) != 0)
		return fail(why, rc, "commit");
	return PSTORE_OK;
}

struct add_args {
	const char *const *keys;
	size_t	 n;
	const uint64_t *add;
	const unsigned *ttl;
	time_t	 now;
	bool	 set;		/* replace instead of add */
};

static int
do_add(struct lmdb_pstore *s, MDB_txn *txn, void *arg)
{
	const struct add_args *a = arg;
	uint8_t buf[PSTORE_LMDB_VAL_LEN];
	MDB_val k, v;
	uint64_t old;
	time_t exp;
	size_t i;
	int rc;

	for (i = 0; i < a->n; i++) {
		if (strlen(a->keys[i]) == 0 ||
		    strlen(a->keys[i]) > PSTORE_KEY_MAX)
			continue;
		mkval(&k, a->keys[i]);
		old = 0;
		if (!a->set && mdb_get(txn, s->dbi, &k, &v) == 0)
			(void)pstore_lmdb_val(v.mv_data, v.mv_size, a->now,
			    &old, &exp);
		old = a->add[i] > UINT64_MAX - old ? UINT64_MAX :
		    old + a->add[i];
		pstore_lmdb_put(buf, old, a->ttl[i] ? a->now +
		    (time_t)a->ttl[i] : 0);
		v.mv_data = buf;
		v.mv_size = sizeof(buf);
		if ((rc = mdb_put(txn, s->dbi, &k, &v, 0)) != 0)
			return rc;
	}
	return 0;
}

static int
lmdb_add(struct pstore *ps, const char *const *keys, size_t n,
    const uint64_t *add, const unsigned *ttl, time_t now, struct buf *why)
{
	struct add_args a = { keys, n, add, ttl, now, false };

	return write_txn((struct lmdb_pstore *)ps, now, do_add, &a, why);
}

static int
lmdb_set(struct pstore *ps, const char *key, uint64_t v, unsigned ttl,
    time_t now, struct buf *why)
{
	struct add_args a = { &key, 1, &v, &ttl, now, true };

	if (bad_key(key, why) < 0)
		return PSTORE_EPERM;
	return write_txn((struct lmdb_pstore *)ps, now, do_add, &a, why);
}

struct del_args {
	const char *key;
	bool	*found;
};

static int
do_del(struct lmdb_pstore *s, MDB_txn *txn, void *arg)
{
	const struct del_args *a = arg;
	MDB_val k;
	int rc;

	mkval(&k, a->key);
	rc = mdb_del(txn, s->dbi, &k, NULL);
	*a->found = rc == 0;
	return rc == MDB_NOTFOUND ? 0 : rc;
}

static int
lmdb_del(struct pstore *ps, const char *key, bool *found, struct buf *why)
{
	struct del_args a = { key, found };

	if (bad_key(key, why) < 0)
		return PSTORE_EPERM;
	return write_txn((struct lmdb_pstore *)ps, time(NULL), do_del, &a,
	    why);
}

static int
lmdb_iter(struct pstore *ps, const char *prefix, time_t now,
    int (*fn)(const char *, uint64_t, time_t, void *), void *arg,
    struct buf *why)
{
	struct lmdb_pstore *s = (struct lmdb_pstore *)ps;
	char key[PSTORE_KEY_MAX + 1];
	size_t pl = strlen(prefix);
	MDB_cursor *cur;
	MDB_txn *txn;
	MDB_val k, v;
	uint64_t val;
	time_t exp;
	int rc;

	if ((rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn)) != 0)
		return fail(why, rc, "read");
	if ((rc = mdb_cursor_open(txn, s->dbi, &cur)) != 0) {
		mdb_txn_abort(txn);
		return fail(why, rc, "read");
	}
	mkval(&k, prefix);
	rc = pl ? mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE) :
	    mdb_cursor_get(cur, &k, &v, MDB_FIRST);
	for (; rc == 0; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size < pl || memcmp(k.mv_data, prefix, pl) != 0)
			break;
		if (k.mv_size > PSTORE_KEY_MAX || pstore_lmdb_val(v.mv_data,
		    v.mv_size, now, &val, &exp) < 0)
			continue;
		memcpy(key, k.mv_data, k.mv_size);
		key[k.mv_size] = '\0';
		if (fn(key, val, exp, arg) != 0)
			break;
	}
	mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	return PSTORE_OK;
}

static void
lmdb_close(struct pstore *ps)
{
	struct lmdb_pstore *s = (struct lmdb_pstore *)ps;

	mdb_env_close(s->env);
	pthread_mutex_destroy(&s->sweep_lock);
	free(s->base.spec);
	free(s);
}

static const struct pstore_ops lmdb_ops = {
	"lmdb", lmdb_get, lmdb_add, lmdb_set, lmdb_del, lmdb_iter, lmdb_close
};

int
pstore_lmdb_open(const char *path, const struct pstore_opts *o,
    struct pstore **out, struct buf *why)
{
	struct lmdb_pstore *s;
	struct stat st;
	MDB_txn *txn;
	int rc, dead;

	if (!o->readonly && mkdir(path, 0750) < 0 && errno != EEXIST) {
		buf_printf(why, "%s: cannot create: %s", path, strerror(errno));
		return PSTORE_EPERM;
	}
	if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode)) {
		buf_printf(why, "%s: %s", path, errno == ENOENT ?
		    "no such policy store" : "not a directory");
		return PSTORE_EPERM;
	}
	s = xcalloc(1, sizeof(*s));
	s->base.ops = &lmdb_ops;
	pthread_mutex_init(&s->sweep_lock, NULL);
	if ((rc = mdb_env_create(&s->env)) != 0) {
		rc = fail(why, rc, "create");
		goto bad;
	}
	mdb_env_set_maxreaders(s->env, 1024);
	mdb_env_set_mapsize(s->env, (size_t)MAP_SIZE);
	if ((rc = mdb_env_open(s->env, path, MDB_NOTLS | MDB_NOSYNC |
	    (o->readonly ? MDB_RDONLY : 0), 0640)) != 0) {
		buf_printf(why, "%s: ", path);
		rc = fail(why, rc, "open");
		mdb_env_close(s->env);
		goto bad;
	}
	if (mdb_reader_check(s->env, &dead) == 0 && dead > 0)
		log_warn("policy store %s: cleared %d stale reader slot(s)",
		    path, dead);
	if ((rc = mdb_txn_begin(s->env, NULL, o->readonly ? MDB_RDONLY : 0,
	    &txn)) == 0 && (rc = mdb_dbi_open(txn, NULL, 0, &s->dbi)) != 0)
		mdb_txn_abort(txn);
	else if (rc == 0)
		rc = mdb_txn_commit(txn);
	if (rc != 0) {
		rc = fail(why, rc, "open");
		mdb_env_close(s->env);
		goto bad;
	}
	s->base.spec = xstrdup(path);
	*out = &s->base;
	return PSTORE_OK;
bad:
	pthread_mutex_destroy(&s->sweep_lock);
	free(s);
	return rc;
}
