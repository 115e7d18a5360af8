/*
 * sample_store.c - selection, the writer thread, files and expiry of
 *	the sample store
 *
 * DESCRIPTION
 *	See sample_store.h.  The milter thread that offers a sample only
 *	formats it into memory and queues it; one detached writer thread,
 *	started on the first sample (after the daemon has forked and
 *	dropped privileges), writes and expires.
 * SECURITY
 *	Samples hold mail: files are 0600 in a 0700 directory; a directory
 *	open to group or others is refused.  Names are built from digits,
 *	letters of the queue id and random hex only.  Expiry removes only
 *	regular *.mws files and stale .tmp- files of the writer.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "clock.h"
#include "engine.h"
#include "files.h"
#include "log.h"
#include "msg.h"
#include "sample.h"
#include "sample_store.h"
#include "scan.h"
#include "str.h"

static const char *const action_words[4] = {
	"accept", "tag", "reject", "tempfail"
};

int
sample_policy_parse(const char *v, struct sample_policy *p,
    struct buf *why)
{
	char *copy = xstrdup(v), *w, *save = NULL;
	double share;
	size_t i, n;
	int rc = 0;

	memset(p, 0, sizeof(*p));
	for (w = strtok_r(copy, " \t,", &save); w && rc == 0;
	    w = strtok_r(NULL, " \t,", &save)) {
		for (i = 0; i < 4; i++)
			if (str_ieq(w, action_words[i]))
				break;
		if (i < 4) {
			p->all[i] = true;
			continue;
		}
		n = strlen(w);
		if (n > 1 && w[n - 1] == '%') {
			w[n - 1] = '\0';
			if (parse_double(w, 0, 100, &share) == 0) {
				p->share = share / 100;
				continue;
			}
		}
		buf_printf(why, "'%s': expected accept, tag, reject, tempfail "
		    "or a share such as 1%%", w);
		rc = -1;
	}
	free(copy);
	return rc;
}

int
sample_policy_check(const char *v, struct buf *why)
{
	struct sample_policy p;

	return sample_policy_parse(v, &p, why);
}

bool
sample_policy_wants(const struct sample_policy *p, enum action a, double u)
{
	if ((unsigned)a < 4 && p->all[a])
		return true;
	return u < p->share;
}

/* ------------------------------------------------------------------ */
/* files */

int
sample_store_check(const char *dir, struct buf *why)
{
	struct stat st;

	if (lstat(dir, &st) < 0)
		return files_dir_creatable(dir, why);
	if (!S_ISDIR(st.st_mode)) {
		buf_printf(why, "%s: not a directory", dir);
		return -1;
	}
	if (st.st_mode & 077) {
		buf_printf(why, "%s: mode %04o lets others in; samples are "
		    "personal data: chmod 700 it", dir,
		    (unsigned)(st.st_mode & 07777));
		return -1;
	}
	return 0;
}

/* dir_ready - dir exists (created 0700) and is closed to others */
static int
dir_ready(const char *dir, struct buf *why)
{
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		buf_printf(why, "%s: cannot create: %s", dir, strerror(errno));
		return -1;
	}
	return sample_store_check(dir, why);	/* it exists now */
}

/* write_all - n bytes to fd; -1 with errno */
static int
write_all(int fd, const char *p, size_t n)
{
	ssize_t k;

	while (n > 0) {
		if ((k = write(fd, p, n)) < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

int
sample_store_write(const char *dir, const char *name, const void *data,
    size_t len, struct buf *why)
{
	char *tmp, *path;
	int fd, rc = -1;

	if (dir_ready(dir, why) < 0)
		return -1;
	tmp = xasprintf("%s/.tmp-%s", dir, name);
	path = xasprintf("%s/%s", dir, name);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    0600);
	if (fd < 0)
		buf_printf(why, "%s: %s", tmp, strerror(errno));
	else if (write_all(fd, data, len) < 0) {
		buf_printf(why, "%s: %s", tmp, strerror(errno));
		close(fd);
		unlink(tmp);
	} else if (close(fd) < 0 || link(tmp, path) < 0) {
		/* link, not rename: an existing file is never replaced */
		buf_printf(why, "%s: %s", path, strerror(errno));
		unlink(tmp);
	} else {
		unlink(tmp);
		rc = 0;
	}
	free(tmp);
	free(path);
	return rc;
}

struct entry {
	char	*name;
	time_t	 mtime;
	uint64_t size;
};

static int
by_age(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;

	if (x->mtime != y->mtime)
		return x->mtime < y->mtime ? -1 : 1;
	return strcmp(x->name, y->name);
}

static bool
has_suffix(const char *s, const char *suf)
{
	size_t n = strlen(s), m = strlen(suf);

	return n > m && strcmp(s + n - m, suf) == 0;
}

/* list - the regular *.mws files of dir; stale .tmp- files removed */
static struct entry *
list(int dfd, DIR *d, size_t *n, time_t now)
{
	struct entry *v = NULL;
	struct dirent *de;
	struct stat st;

	*n = 0;
	while ((de = readdir(d)) != NULL) {
		if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISREG(st.st_mode))
			continue;
		if (strncmp(de->d_name, ".tmp-", 5) == 0) {
			if (now - st.st_mtime > 3600)
				(void)unlinkat(dfd, de->d_name, 0);
			continue;
		}
		if (!has_suffix(de->d_name, SAMPLE_SUFFIX))
			continue;
		v = xreallocarray(v, *n + 1, sizeof(*v));
		v[*n].name = xstrdup(de->d_name);
		v[*n].mtime = st.st_mtime;
		v[(*n)++].size = (uint64_t)st.st_size;
	}
	return v;
}

/* label_remove - the label of sample name, if any */
static void
label_remove(int dfd, const char *name)
{
	char *l = xasprintf("%s.label", name);

	(void)unlinkat(dfd, l, 0);
	free(l);
}

size_t
sample_store_expire(const char *dir, uint64_t max_size, uint64_t max_count,
    double max_age, time_t now)
{
	DIR *d = opendir(dir);
	struct entry *v;
	uint64_t total = 0;
	size_t n, i, removed = 0, left;

	if (d == NULL)
		return 0;
	v = list(dirfd(d), d, &n, now);
	if (n)
		qsort(v, n, sizeof(*v), by_age);
	for (i = 0; i < n; i++)
		total += v[i].size;
	left = n;
	for (i = 0; i < n; i++) {
		if ((double)(now - v[i].mtime) <= max_age && left <= max_count &&
		    total <= max_size)
			break;
		if (unlinkat(dirfd(d), v[i].name, 0) == 0)
			removed++;
		label_remove(dirfd(d), v[i].name);
		total -= v[i].size;
		left--;
	}
	for (i = 0; i < n; i++)
		free(v[i].name);
	free(v);
	closedir(d);
	return removed;
}

/* qid_part - the queue id as file names carry it (letters, digits) */
static void
qid_part(struct buf *b, const char *q)
{
	size_t i;

	for (i = 0; q[i] && i < 32; i++)
		if ((q[i] >= 'A' && q[i] <= 'Z') || (q[i] >= 'a' && q[i] <= 'z')
		    || (q[i] >= '0' && q[i] <= '9'))
			buf_addc(b, q[i]);
}

/* write_label - NAME.label in dir, replacing an earlier label */
static int
write_label(const char *dir, const char *name, bool spam, struct buf *why)
{
	char *tmp = xasprintf("%s/.tmp-%s.label", dir, name);
	char *path = xasprintf("%s/%s.label", dir, name);
	const char *text = spam ? "spam\n" : "ham\n";
	int fd, rc = -1;

	(void)unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    0600);
	if (fd < 0 || write_all(fd, text, strlen(text)) < 0 || close(fd) < 0 ||
	    rename(tmp, path) < 0) {
		buf_printf(why, "%s: %s", path, strerror(errno));
		(void)unlink(tmp);
	} else
		rc = 0;
	free(tmp);
	free(path);
	return rc;
}

int
sample_store_label(const char *dir, const char *qid, bool spam,
    struct buf *why)
{
	struct buf want = BUF_INIT;
	char **names = NULL;
	size_t n = 0, i;
	int count = 0;

	buf_addc(&want, '-');
	qid_part(&want, qid);
	buf_addc(&want, '-');
	if (want.len == 2) {
		buf_printf(why, "'%s' is not a queue id", qid);
		buf_release(&want);
		return -1;
	}
	if (files_list(dir, SAMPLE_SUFFIX, &names, &n) < 0) {
		buf_printf(why, "%s: %s", dir, strerror(errno));
		buf_release(&want);
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (count >= 0 && strstr(names[i], buf_cstr(&want)) != NULL)
			count = write_label(dir, names[i], spam, why) < 0 ? -1 :
			    count + 1;
		free(names[i]);
	}
	free(names);
	buf_release(&want);
	return count;
}

int
sample_label_set(const char *path, bool spam, struct buf *why)
{
	const char *slash = strrchr(path, '/');
	char *dir = slash ? xstrndup(path, (size_t)(slash - path)) :
	    xstrdup(".");
	int rc;

	rc = write_label(*dir ? dir : "/", slash ? slash + 1 : path, spam, why);
	free(dir);
	return rc;
}

int
sample_label(const char *path)
{
	char *l = xasprintf("%s.label", path);
	char text[8] = "";
	FILE *f = fopen(l, "r");

	free(l);
	if (f == NULL)
		return -1;
	if (fgets(text, sizeof(text), f) == NULL)
		text[0] = '\0';
	fclose(f);
	return strcmp(text, "spam\n") == 0 ? 1 : strcmp(text, "ham\n") == 0 ?
	    0 : -1;
}

/* ------------------------------------------------------------------ */
/* the writer thread */

struct job {
	struct job *next;
	char	*dir, *name;
	struct buf data;
	uint64_t max_size, max_count;
	double	 max_age;
};

static pthread_mutex_t q_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t q_cv;		/* CLOCK_MONOTONIC: start_writer */
static struct job *q_head, *q_tail;
static size_t q_bytes;
static uint64_t q_dropped;
static pthread_once_t q_once = PTHREAD_ONCE_INIT;
static bool q_running;

/*
 * The store the writer also expires on a timer, so that samples go at
 * sample_max_age even when no new sample is written: the last store
 * written or named by sample_store_keep(), under q_lock.
 */
static struct {
	char	*dir;			/* NULL: none yet */
	uint64_t max_size, max_count;
	double	 max_age;
	double	 every;			/* seconds between timed runs */
	double	 last;			/* monotonic time of the last run */
} keep = { NULL, 0, 0, 0, SAMPLE_EXPIRE_EVERY, 0 };

/* keep_set - the store to expire on the timer (under q_lock) */
static void
keep_set(const char *dir, uint64_t max_size, uint64_t max_count,
    double max_age)
{
	if (keep.dir == NULL || strcmp(keep.dir, dir) != 0) {
		free(keep.dir);
		keep.dir = xstrdup(dir);
	}
	keep.max_size = max_size;
	keep.max_count = max_count;
	keep.max_age = max_age;
}

static void
job_free(struct job *j)
{
	free(j->dir);
	free(j->name);
	buf_release(&j->data);
	free(j);
}

/* run_job - write one sample and expire; errors logged, never fatal */
static void
run_job(struct job *j)
{
	static time_t last_err;
	struct buf why = BUF_INIT;
	time_t now = time(NULL);

	if (sample_store_write(j->dir, j->name, j->data.data, j->data.len,
	    &why) < 0) {
		if (now - last_err >= 600) {
			log_err("sample store: %s (samples are skipped until "
			    "this works)", buf_cstr(&why));
			last_err = now;
		}
	} else {
		(void)sample_store_expire(j->dir, j->max_size, j->max_count,
		    j->max_age, now);
		pthread_mutex_lock(&q_lock);
		keep_set(j->dir, j->max_size, j->max_count, j->max_age);
		keep.last = clock_mono_s();
		pthread_mutex_unlock(&q_lock);
	}
	buf_release(&why);
}

/*
 * wait_work - under q_lock: wait for a job, or until the timed expiry
 * of the kept store is due; true when it is (and no job waits)
 */
static bool
wait_work(void)
{
	struct timespec ts;
	double due;

	while (q_head == NULL) {
		if (keep.dir == NULL) {
			pthread_cond_wait(&q_cv, &q_lock);
			continue;
		}
		if ((due = keep.last + keep.every) <= clock_mono_s())
			return true;
		ts.tv_sec = (time_t)due;
		ts.tv_nsec = (long)((due - (double)ts.tv_sec) * 1e9);
		(void)pthread_cond_timedwait(&q_cv, &q_lock, &ts);
	}
	return false;
}

/* timed_expiry - the kept store's expiry (entered and left under q_lock) */
static void
timed_expiry(void)
{
	char *dir = xstrdup(keep.dir);
	uint64_t size = keep.max_size, count = keep.max_count;
	double age = keep.max_age;

	keep.last = clock_mono_s();
	pthread_mutex_unlock(&q_lock);
	(void)sample_store_expire(dir, size, count, age, time(NULL));
	free(dir);
	pthread_mutex_lock(&q_lock);
}

static void *
writer_main(void *arg)
{
	struct job *j;

	(void)arg;
	for (;;) {
		pthread_mutex_lock(&q_lock);
		if (wait_work()) {
			timed_expiry();
			pthread_mutex_unlock(&q_lock);
			continue;
		}
		j = q_head;
		q_head = j->next;
		if (q_head == NULL)
			q_tail = NULL;
		q_bytes -= j->data.len;
		pthread_mutex_unlock(&q_lock);
		run_job(j);
		job_free(j);
	}
	return NULL;
}

static void
start_writer(void)
{
	pthread_t t;
	pthread_attr_t a;
	pthread_condattr_t ca;

	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&q_cv, &ca);
	pthread_condattr_destroy(&ca);
	pthread_attr_init(&a);
	pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
	q_running = pthread_create(&t, &a, writer_main, NULL) == 0;
	pthread_attr_destroy(&a);
	if (!q_running)
		log_err("sample store: cannot start the writer thread; no "
		    "samples are kept");
}

/* enqueue - hand j to the writer, or drop it when too much waits */
static void
enqueue(struct job *j)
{
	bool drop;

	pthread_once(&q_once, start_writer);
	pthread_mutex_lock(&q_lock);
	drop = !q_running || q_bytes + j->data.len > SAMPLE_QUEUE_MAX;
	if (drop)
		q_dropped++;
	else {
		if (q_tail)
			q_tail->next = j;
		else
			q_head = j;
		q_tail = j;
		q_bytes += j->data.len;
		pthread_cond_signal(&q_cv);
	}
	if (drop && (q_dropped == 1 || q_dropped % 1000 == 0))
		log_warn("sample store: the writer is behind; %llu sample(s) "
		    "dropped", (unsigned long long)q_dropped);
	pthread_mutex_unlock(&q_lock);
	if (drop)
		job_free(j);
}

void
sample_store_keep(const char *dir, uint64_t max_size, uint64_t max_count,
    double max_age, double every)
{
	if (dir == NULL || dir[0] == '\0')
		return;
	pthread_once(&q_once, start_writer);
	pthread_mutex_lock(&q_lock);
	keep_set(dir, max_size, max_count, max_age);
	if (every > 0)
		keep.every = every;
	pthread_cond_signal(&q_cv);
	pthread_mutex_unlock(&q_lock);
}

/* unit - a uniform double in [0, 1) */
static double
unit(void)
{
	uint64_t r = 0;

	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != (ssize_t)sizeof(r))
		r = (uint64_t)rand();
	return (double)(r >> 11) / 9007199254740992.0;
}

/* file_name - NOW-QUEUEID-RANDOM.mws, queue id letters and digits only */
static char *
file_name(const struct scan *s)
{
	struct buf b = BUF_INIT;
	const char *q = s->msg->queue_id ? s->msg->queue_id : "NOQUEUE";

	buf_printf(&b, "%lld-", (long long)s->now);
	qid_part(&b, q);
	buf_printf(&b, "-%08llx" SAMPLE_SUFFIX,
	    (unsigned long long)(unit() * 4294967296.0));
	return buf_steal(&b);
}

void
sample_offer(const struct scan *s)
{
	const struct conf *c = s->eng->conf;
	struct sample_policy p;
	struct buf why = BUF_INIT, line = BUF_INIT;
	struct job *j;

	if (c->sample_dir[0] == '\0' || engine_read_only(s->eng) ||
	    sample_policy_parse(c->sample, &p, &why) < 0 ||
	    !sample_policy_wants(&p, s->verdict.action, unit())) {
		buf_release(&why);
		return;
	}
	j = xcalloc(1, sizeof(*j));
	j->dir = xstrdup(c->sample_dir);
	j->name = file_name(s);
	j->max_size = c->sample_max_size;
	j->max_count = c->sample_max_count;
	j->max_age = (double)c->sample_max_age * 3600;
	scan_log_line(s, &line);
	sample_format(s->msg, s->now, s->when, s->sample_dns, line.data,
	    line.len, &j->data);
	buf_release(&line);
	buf_release(&why);
	enqueue(j);
}
