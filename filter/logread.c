/*
 * logread.c - streaming, time-ordered reader of verdict log files
 *
 * DESCRIPTION
 *	See logread.h for the contract.  Each input is a gzFile (zlib reads
 *	plain files transparently) or a memory buffer.  Lines are assembled
 *	from 64 KiB reads into a per-input buffer capped at
 *	LOGREAD_MAX_LINE; an overlong line is skipped up to its newline
 *	without being stored.  Memory is one line, one read buffer and one
 *	parsed object per open input, whatever the size of the logs.
 * SECURITY
 *	Log text is attacker-influenced: lengths are capped before parsing,
 *	json-c runs in strict mode with a depth limit, and reasons quote
 *	nothing from the line.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <json-c/json.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "buf.h"
#include "logread.h"

#define RBUF_SIZE	(64 * 1024)

struct input {
	char	*name;
	size_t	 order;			/* position on the command line */
	bool	 reopenable;		/* regular file or memory */
	bool	 failed;		/* could not be opened: skip */
	const char *mem;		/* memory input, or NULL */
	size_t	 memlen, mempos;
	gzFile	 gz;
	bool	 open, eof;
	char	*rbuf;
	size_t	 rpos, rlen;
	struct buf line;
	bool	 overlong, no_newline;
	uint64_t lineno;
	double	 first_time;		/* prescan: time of the first record */

	struct json_object *obj;	/* pending record, or NULL */
	double	 time;
	bool	 has_time;
	double	 last_time;
};

struct logread {
	struct input *in;
	size_t	 nin;
	struct input **pending;		/* regular files by first time */
	size_t	 npending, next_pending;
	struct input **active;
	size_t	 nactive;
	struct input *cur;		/* the input of the record handed out */
	bool	 started;
	struct json_tokener *tok;
	struct logread_stats st;
	size_t	 keep_bad;
	bool	 quiet;			/* prescan: record nothing */
	bool	(*prefilter)(const char *, size_t, void *);
	void	*prefilter_arg;
	struct logline out;
};

/* add_error - keep one input error line */
static void
add_error(struct logread *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
add_error(struct logread *r, const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;

	if (r->quiet)
		return;
	if (r->st.nerrors >= LOGREAD_MAX_ERRORS) {
		r->st.errors_dropped++;
		return;
	}
	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	r->st.errors = xreallocarray(r->st.errors, r->st.nerrors + 1,
	    sizeof(*r->st.errors));
	r->st.errors[r->st.nerrors++] = buf_steal(&b);
}

/* add_bad - count one malformed line, keep the first keep_bad */
static void
add_bad(struct logread *r, const struct input *in, const char *reason)
{
	struct logbad *b;

	if (r->quiet)
		return;
	r->st.malformed++;
	if (r->st.nbad >= r->keep_bad)
		return;
	r->st.bad = xreallocarray(r->st.bad, r->st.nbad + 1,
	    sizeof(*r->st.bad));
	b = &r->st.bad[r->st.nbad++];
	b->file = in->name;
	b->lineno = in->lineno;
	snprintf(b->reason, sizeof(b->reason), "%s", reason);
}

/* input_open - open (or reopen) an input at its start */
static int
input_open(struct logread *r, struct input *in)
{
	struct stat sb;
	int fd;

	in->eof = false;
	in->rpos = in->rlen = 0;
	in->lineno = 0;
	in->mempos = 0;
	in->last_time = -INFINITY;
	buf_reset(&in->line);
	if (in->rbuf == NULL)
		in->rbuf = xmalloc(RBUF_SIZE);
	if (in->mem) {
		in->open = true;
		return 0;
	}
	if (strcmp(in->name, "-") == 0)
		fd = dup(STDIN_FILENO);
	else
		fd = open(in->name, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		add_error(r, "%s: %s", in->name, strerror(errno));
		return -1;
	}
	if (fstat(fd, &sb) < 0 || S_ISDIR(sb.st_mode)) {
		add_error(r, "%s: %s", in->name,
		    S_ISDIR(sb.st_mode) ? "is a directory" : strerror(errno));
		close(fd);
		return -1;
	}
	in->reopenable = S_ISREG(sb.st_mode) && strcmp(in->name, "-") != 0;
	if ((in->gz = gzdopen(fd, "rb")) == NULL) {
		add_error(r, "%s: cannot read: out of memory", in->name);
		close(fd);
		return -1;
	}
	gzbuffer(in->gz, RBUF_SIZE);
	in->open = true;
	return 0;
}

/* input_close - release the stream; the line buffer is kept for reuse */
static void
input_close(struct input *in)
{
	if (in->gz)
		gzclose(in->gz);
	in->gz = NULL;
	in->open = false;
	if (in->obj)
		json_object_put(in->obj);
	in->obj = NULL;
	free(in->rbuf);
	in->rbuf = NULL;
	buf_release(&in->line);
}

/* input_fill - refill the read buffer; false at end of input */
static bool
input_fill(struct logread *r, struct input *in)
{
	const char *msg;
	int n, errnum = Z_OK;

	in->rpos = in->rlen = 0;
	if (in->mem) {
		size_t left = in->memlen - in->mempos;

		n = (int)(left < RBUF_SIZE ? left : RBUF_SIZE);
		memcpy(in->rbuf, in->mem + in->mempos, (size_t)n);
		in->mempos += (size_t)n;
	} else
		n = gzread(in->gz, in->rbuf, RBUF_SIZE);
	if (n > 0) {
		in->rlen = (size_t)n;
		return true;
	}
	if (in->gz && (n < 0 || gzeof(in->gz) == 0 ||
	    (gzerror(in->gz, &errnum), errnum != Z_OK))) {
		msg = gzerror(in->gz, &errnum);
		add_error(r, "%s: read error after line %llu: %s", in->name,
		    (unsigned long long)in->lineno,
		    errnum == Z_ERRNO ? strerror(errno) :
		    errnum == Z_BUF_ERROR ? "compressed data is truncated" :
		    msg);
	}
	in->eof = true;
	return false;
}

/*
 * input_getline - the next line into in->line (without the newline).
 * Returns false at the end of the input.  in->overlong marks a line
 * whose bytes beyond LOGREAD_MAX_LINE were dropped (with the rest).
 */
static bool
input_getline(struct logread *r, struct input *in)
{
	const char *p, *nl;
	size_t avail, take;

	buf_reset(&in->line);
	in->overlong = in->no_newline = false;
	for (;;) {
		if (in->rpos == in->rlen && (in->eof || !input_fill(r, in))) {
			if (in->line.len == 0 && !in->overlong)
				return false;
			in->no_newline = true;
			in->lineno++;
			return true;
		}
		p = in->rbuf + in->rpos;
		avail = in->rlen - in->rpos;
		nl = memchr(p, '\n', avail);
		take = nl ? (size_t)(nl - p) : avail;
		if (!in->overlong && in->line.len + take > LOGREAD_MAX_LINE) {
			in->overlong = true;
			buf_reset(&in->line);
		}
		if (!in->overlong)
			buf_add(&in->line, p, take);
		in->rpos += take + (nl != NULL);
		if (nl) {
			in->lineno++;
			return true;
		}
	}
}

/* record_time - the "time" member, if it is a valid RFC 3339 string */
static bool
record_time(struct json_object *o, double *t)
{
	struct json_object *v;

	return json_object_object_get_ex(o, "time", &v) &&
	    json_object_is_type(v, json_type_string) &&
	    logtime_parse(json_object_get_string(v), t) == 0;
}

/* parse_error - why a line did not parse, in words */
static void
parse_error(const struct input *in, enum json_tokener_error err,
    size_t at, char *why, size_t whylen)
{
	if (err == json_tokener_continue)
		snprintf(why, whylen, "truncated: %s inside a JSON object",
		    in->no_newline ? "input ends" : "line ends");
	else if (err == json_tokener_error_depth)
		snprintf(why, whylen, "JSON nested deeper than %d levels",
		    LOGREAD_MAX_DEPTH);
	else
		snprintf(why, whylen, "not JSON: %s at byte %zu",
		    json_tokener_error_desc(err), at + 1);
}

/* has_control - a byte below 0x20 other than tab */
static bool
has_control(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((unsigned char)p[i] < 0x20 && p[i] != '\t')
			return true;
	return false;
}

/* input_parse - turn in->line into in->obj; false if blank or malformed */
static bool
input_parse(struct logread *r, struct input *in)
{
	char *p = in->line.data;
	size_t n = in->line.len, end;
	struct json_object *o;
	char why[96];

	if (in->overlong) {
		snprintf(why, sizeof(why), "line longer than %d bytes",
		    LOGREAD_MAX_LINE);
		add_bad(r, in, why);
		return false;
	}
	while (n > 0 && (p[n - 1] == '\r' || p[n - 1] == ' ' ||
	    p[n - 1] == '\t'))
		n--;
	while (n > 0 && (*p == ' ' || *p == '\t')) {
		p++;
		n--;
	}
	if (n == 0)
		return false;
	if (r->prefilter && !r->quiet &&
	    !r->prefilter(p, n, r->prefilter_arg)) {
		r->st.skipped++;
		return false;
	}
	if (*p != '{') {
		add_bad(r, in, "not a JSON object");
		return false;
	}
	if (has_control(p, n)) {
		/* RFC 8259 7: json-c would let raw controls through */
		add_bad(r, in, "raw control character (not valid JSON)");
		return false;
	}
	json_tokener_reset(r->tok);
	o = json_tokener_parse_ex(r->tok, p, (int)n);
	end = json_tokener_get_parse_end(r->tok);
	if (o == NULL) {
		parse_error(in, json_tokener_get_error(r->tok), end, why,
		    sizeof(why));
		add_bad(r, in, why);
		return false;
	}
	if (end < n || !json_object_is_type(o, json_type_object)) {
		add_bad(r, in, end < n ? "trailing data after the JSON object" :
		    "not a JSON object");
		json_object_put(o);
		return false;
	}
	p[n] = '\0';
	if (p != in->line.data)
		memmove(in->line.data, p, n + 1);
	in->line.len = n;
	in->obj = o;
	return true;
}

/* input_advance - read up to the next record; false at end of input */
static bool
input_advance(struct logread *r, struct input *in)
{
	if (in->obj)
		json_object_put(in->obj);
	in->obj = NULL;
	while (input_getline(r, in)) {
		if (!r->quiet)
			r->st.lines++;
		if (!input_parse(r, in))
			continue;
		in->has_time = record_time(in->obj, &in->time);
		if (in->has_time)
			in->last_time = in->time;
		else {
			in->time = in->last_time;
			if (!r->quiet)
				r->st.no_time++;
		}
		return true;
	}
	return false;
}

/* prescan - the time of an input's first record, or +inf if none */
static void
prescan(struct logread *r, struct input *in)
{
	r->quiet = true;
	in->first_time = INFINITY;
	if (input_advance(r, in))
		in->first_time = in->time;
	input_close(in);
	r->quiet = false;
}

static int
cmp_first_time(const void *a, const void *b)
{
	const struct input *x = *(struct input *const *)a;
	const struct input *y = *(struct input *const *)b;

	if (x->first_time < y->first_time)
		return -1;
	if (x->first_time > y->first_time)
		return 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

/* activate - start reading an input for real; false if it has nothing */
static void
activate(struct logread *r, struct input *in)
{
	if (!in->open && input_open(r, in) < 0) {
		input_close(in);
		return;
	}
	if (!input_advance(r, in)) {
		input_close(in);
		return;
	}
	r->active[r->nactive++] = in;
}

/* setup - open the inputs, prescan the regular ones */
static struct logread *
setup(struct logread *r, size_t keep_bad)
{
	size_t i;

	r->keep_bad = keep_bad < LOGREAD_BAD_KEEP_MAX ? keep_bad :
	    LOGREAD_BAD_KEEP_MAX;
	r->st.files = r->nin;
	r->tok = json_tokener_new_ex(LOGREAD_MAX_DEPTH);
	if (r->tok == NULL)
		abort();
	json_tokener_set_flags(r->tok, JSON_TOKENER_STRICT);
	r->pending = xcalloc(r->nin ? r->nin : 1, sizeof(*r->pending));
	r->active = xcalloc(r->nin ? r->nin : 1, sizeof(*r->active));
	for (i = 0; i < r->nin; i++) {
		struct input *in = &r->in[i];

		in->order = i;
		if (input_open(r, in) < 0) {
			in->failed = true;
			input_close(in);
		} else if (in->reopenable) {
			prescan(r, in);
			r->pending[r->npending++] = in;
		}
	}
	qsort(r->pending, r->npending, sizeof(*r->pending), cmp_first_time);
	return r;
}

struct logread *
logread_open(char *const *paths, size_t n, size_t keep_bad)
{
	struct logread *r = xcalloc(1, sizeof(*r));
	static char *const dash[] = { "-" };
	size_t i;

	if (n == 0) {
		paths = dash;
		n = 1;
	}
	if (n > LOGREAD_MAX_FILES) {
		add_error(r, "too many log files (%zu, at most %d); reading "
		    "the first %d", n, LOGREAD_MAX_FILES, LOGREAD_MAX_FILES);
		n = LOGREAD_MAX_FILES;
	}
	r->in = xcalloc(n, sizeof(*r->in));
	r->nin = n;
	for (i = 0; i < n; i++)
		r->in[i].name = xstrdup(paths[i]);
	return setup(r, keep_bad);
}

struct logread *
logread_open_mem(const char *data, size_t len, const char *name,
    size_t keep_bad)
{
	struct logread *r = xcalloc(1, sizeof(*r));

	r->in = xcalloc(1, sizeof(*r->in));
	r->nin = 1;
	r->in[0].name = xstrdup(name);
	r->in[0].mem = data ? data : "";
	r->in[0].memlen = data ? len : 0;
	r->in[0].reopenable = true;
	return setup(r, keep_bad);
}

/* earliest - index of the active input with the earliest record */
static size_t
earliest(const struct logread *r)
{
	size_t i, best = 0;

	for (i = 1; i < r->nactive; i++) {
		const struct input *a = r->active[i], *b = r->active[best];

		if (a->time < b->time ||
		    (a->time == b->time && a->order < b->order))
			best = i;
	}
	return best;
}

int
logread_next(struct logread *r, const struct logline **out)
{
	struct input *in;
	size_t i;

	if (!r->started) {
		/* streams start here, after the caller set its prefilter */
		r->started = true;
		for (i = 0; i < r->nin; i++)
			if (r->in[i].open && !r->in[i].reopenable)
				activate(r, &r->in[i]);
	}
	if (r->cur && !input_advance(r, r->cur)) {
		for (i = 0; i < r->nactive && r->active[i] != r->cur; i++)
			;
		input_close(r->cur);
		r->active[i] = r->active[--r->nactive];
	}
	r->cur = NULL;
	for (;;) {
		in = r->nactive ? r->active[earliest(r)] : NULL;
		if (r->next_pending < r->npending && (in == NULL ||
		    r->pending[r->next_pending]->first_time <= in->time)) {
			activate(r, r->pending[r->next_pending++]);
			continue;
		}
		break;
	}
	if (in == NULL)
		return 0;
	r->cur = in;
	r->st.records++;
	r->out.file = in->name;
	r->out.lineno = in->lineno;
	r->out.text = in->line.data;
	r->out.len = in->line.len;
	r->out.obj = in->obj;
	r->out.time = in->time;
	r->out.has_time = in->has_time;
	*out = &r->out;
	return 1;
}

void
logread_set_prefilter(struct logread *r,
    bool (*fn)(const char *, size_t, void *), void *arg)
{
	r->prefilter = fn;
	r->prefilter_arg = arg;
}

const struct logread_stats *
logread_stats(const struct logread *r)
{
	return &r->st;
}

void
logread_free(struct logread **rp)
{
	struct logread *r = *rp;
	size_t i;

	if (r == NULL)
		return;
	*rp = NULL;
	for (i = 0; i < r->nin; i++) {
		input_close(&r->in[i]);
		free(r->in[i].name);
	}
	for (i = 0; i < r->st.nerrors; i++)
		free(r->st.errors[i]);
	free(r->st.errors);
	free(r->st.bad);
	free(r->in);
	free(r->pending);
	free(r->active);
	if (r->tok)
		json_tokener_free(r->tok);
	free(r);
}

/* ------------------------------------------------------------------ */
/* Rotated sets                                                        */
/* ------------------------------------------------------------------ */

/* rotation_number - N if name is base.N or base.N.gz, else 0 */
static unsigned long
rotation_number(const char *name, const char *base)
{
	size_t blen = strlen(base);
	unsigned long n = 0;
	const char *p;

	if (strncmp(name, base, blen) != 0 || name[blen] != '.')
		return 0;
	for (p = name + blen + 1; *p >= '0' && *p <= '9' && n < 1000000; p++)
		n = n * 10 + (unsigned long)(*p - '0');
	if (p == name + blen + 1 || (*p && strcmp(p, ".gz") != 0))
		return 0;
	return n;
}

struct rotated {
	unsigned long n;
	char	*path;
};

static int
cmp_rotated(const void *a, const void *b)
{
	const struct rotated *x = a, *y = b;

	return x->n < y->n ? -1 : x->n > y->n;
}

/* add_rotated - v[] grows by the siblings found in dir; their count */
static size_t
add_rotated(DIR *d, const char *dir, const char *base, struct rotated **v)
{
	struct dirent *e;
	unsigned long n;
	size_t k = 0;

	while ((e = readdir(d)) != NULL && k < LOGREAD_MAX_FILES) {
		if ((n = rotation_number(e->d_name, base)) == 0)
			continue;
		*v = xreallocarray(*v, k + 1, sizeof(**v));
		(*v)[k].n = n;
		(*v)[k++].path = xasprintf("%s/%s", dir, e->d_name);
	}
	return k;
}

size_t
logread_rotated(const char *path, char ***out)
{
	char *dcopy = xstrdup(path), *bcopy = xstrdup(path);
	const char *dir = dirname(dcopy), *base = basename(bcopy);
	struct rotated *v = NULL;
	size_t k = 0, i;
	DIR *d;

	*out = NULL;
	if ((d = opendir(dir)) != NULL) {
		k = add_rotated(d, dir, base, &v);
		closedir(d);
	}
	if (k)
		qsort(v, k, sizeof(*v), cmp_rotated);
	if (k)
		*out = xreallocarray(NULL, k, sizeof(char *));
	for (i = 0; i < k; i++)
		(*out)[i] = v[i].path;
	free(v);
	free(dcopy);
	free(bcopy);
	return k;
}

/* ------------------------------------------------------------------ */
/* Time                                                                */
/* ------------------------------------------------------------------ */

/* digits - n decimal digits at *sp into *v; advances *sp */
static bool
digits(const char **sp, int n, int *v)
{
	const char *s = *sp;
	int i;

	*v = 0;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		*v = *v * 10 + (s[i] - '0');
	}
	*sp = s + n;
	return true;
}

/* days_from_epoch - days from 1970-01-01 to y-m-d (proleptic Gregorian) */
static int64_t
days_from_epoch(int y, int m, int d)
{
	int64_t yy = y - (m <= 2);
	int64_t era = (yy >= 0 ? yy : yy - 399) / 400;
	int64_t yoe = yy - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return era * 146097 + doe - 719468;
}

static int
days_in_month(int y, int m)
{
	static const int dim[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31,
	    30, 31 };
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return m == 2 && leap ? 29 : dim[m - 1];
}

/* parse_offset - "Z" or "+hh:mm" / "-hh:mm" into seconds east of UTC */
static bool
parse_offset(const char *s, int *off)
{
	int hh, mm, sign;

	if ((*s == 'Z' || *s == 'z') && s[1] == '\0') {
		*off = 0;
		return true;
	}
	if (*s != '+' && *s != '-')
		return false;
	sign = *s++ == '-' ? -1 : 1;
	if (!digits(&s, 2, &hh) || *s++ != ':' || !digits(&s, 2, &mm) ||
	    *s != '\0' || hh > 23 || mm > 59)
		return false;
	*off = sign * (hh * 3600 + mm * 60);
	return true;
}

int
logtime_parse(const char *s, double *out)
{
	int y, mo, d, h, mi, sec, off;
	double frac = 0, scale = 0.1;

	if (!digits(&s, 4, &y) || *s++ != '-' || !digits(&s, 2, &mo) ||
	    *s++ != '-' || !digits(&s, 2, &d) || mo < 1 || mo > 12 ||
	    d < 1 || d > days_in_month(y, mo))
		return -1;
	if (*s == '\0') {
		*out = (double)days_from_epoch(y, mo, d) * 86400.0;
		return 0;
	}
	if (*s != 'T' && *s != 't' && *s != ' ')
		return -1;
	s++;
	if (!digits(&s, 2, &h) || *s++ != ':' || !digits(&s, 2, &mi) ||
	    *s++ != ':' || !digits(&s, 2, &sec) || h > 23 || mi > 59 ||
	    sec > 60)
		return -1;
	if (*s == '.') {
		if (!(*++s >= '0' && *s <= '9'))
			return -1;
		for (; *s >= '0' && *s <= '9'; s++, scale /= 10)
			frac += (*s - '0') * scale;
	}
	if (!parse_offset(s, &off))
		return -1;
	*out = (double)days_from_epoch(y, mo, d) * 86400.0 + h * 3600.0 +
	    mi * 60.0 + sec + frac - off;
	return 0;
}

int
logtime_arg(const char *s, double now, double *out)
{
	double total = 0;
	uint64_t n;
	const char *p = s;

	if (strcmp(s, "now") == 0) {
		*out = now;
		return 0;
	}
	if (logtime_parse(s, out) == 0)
		return 0;
	if (*p == '\0')
		return -1;
	while (*p) {
		int unit;

		for (n = 0; *p >= '0' && *p <= '9'; p++) {
			if (n > 100000000)
				return -1;
			n = n * 10 + (uint64_t)(*p - '0');
		}
		if (p == s || !(p[-1] >= '0' && p[-1] <= '9'))
			return -1;
		switch (*p++) {
		case 's': unit = 1; break;
		case 'm': unit = 60; break;
		case 'h': unit = 3600; break;
		case 'd': unit = 86400; break;
		case 'w': unit = 7 * 86400; break;
		default: return -1;
		}
		total += (double)n * unit;
	}
	if (total > 200.0 * 366 * 86400)
		return -1;
	*out = now - total;
	return 0;
}
