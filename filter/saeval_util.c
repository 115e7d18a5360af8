/*
 * saeval_util.c - what several eval families read: fields as
 *	SpamAssassin's $pms->get() gives them, addresses, the envelope
 *	sender, fixed regexes, RFC 5322 dates
 *
 * DESCRIPTION
 *	Fields are the top-level ones of the MIME view: "value" decoded
 *	(RFC 2047) and unfolded, "raw" unfolded only.  sae_get() joins every
 *	field of a name with "\n", as $pms->get(NAME) does in scalar
 *	context.  Addresses come from rules_first_addr() over each element
 *	of an address list.
 *
 *	saeval_envfrom() is SpamAssassin's EnvelopeFrom: the MAIL FROM when
 *	there is one, else (a stored message) the envelope sender the first
 *	untrusted relay recorded, else X-Envelope-From, Envelope-Sender or
 *	Return-Path when written above every Received field.
 *
 *	sae_rx_match() runs one of the families' fixed Perl regexes, compiled
 *	on first use (under a lock; PCRE2 code is then shared read-only),
 *	with a match limit.  sae_parse_date() is SpamAssassin's lenient date
 *	reader (Mail::SpamAssassin::Util::parse_rfc822_date): day month year
 *	in any order it knows, hh:mm[:ss], numeric or named zone, out of
 *	range parts clamped.
 *
 * SECURITY
 *	Every input is untrusted header text: scanned linearly, regexes run
 *	with a match limit, numbers clamped before arithmetic.
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "log.h"
#include "mime.h"
#include "msg.h"
#include "relays.h"
#include "rules_int.h"
#include "saeval.h"
#include "saeval_int.h"
#include "str.h"

/* ------------------------------------------------------------------ */
/* fields                                                              */
/* ------------------------------------------------------------------ */

/* nth - the idx'th top-level field called name, or NULL */
static const struct mime_hdr *
nth(const struct mime_msg *mm, const char *name, size_t idx)
{
	size_t i;

	for (i = 0; mm && i < mm->nhdrs; i++)
		if (strcasecmp(mm->hdrs[i].name, name) == 0 && idx-- == 0)
			return &mm->hdrs[i];
	return NULL;
}

const char *
sae_field(const struct saeval_in *in, const char *name, size_t idx)
{
	const struct mime_hdr *h = nth(in->mm, name, idx);

	return h ? h->value : NULL;
}

const char *
sae_field_raw(const struct saeval_in *in, const char *name, size_t idx)
{
	const struct mime_hdr *h = nth(in->mm, name, idx);

	return h ? h->raw : NULL;
}

size_t
sae_field_count(const struct saeval_in *in, const char *name)
{
	size_t i, n = 0;

	for (i = 0; in->mm && i < in->mm->nhdrs; i++)
		if (strcasecmp(in->mm->hdrs[i].name, name) == 0)
			n++;
	return n;
}

void
sae_get(const struct saeval_in *in, const char *name, struct buf *out)
{
	size_t i;
	bool any = false;

	buf_reset(out);
	for (i = 0; in->mm && i < in->mm->nhdrs; i++)
		if (strcasecmp(in->mm->hdrs[i].name, name) == 0) {
			if (any)
				buf_addc(out, '\n');
			buf_adds(out, in->mm->hdrs[i].value);
			any = true;
		}
	(void)buf_cstr(out);
}

/* ------------------------------------------------------------------ */
/* addresses                                                           */
/* ------------------------------------------------------------------ */

void
sae_addr(const struct saeval_in *in, const char *name, struct buf *out)
{
	const char *v = sae_field(in, name, 0);

	buf_reset(out);
	if (v)
		rules_first_addr(v, true, out);
	(void)buf_cstr(out);
}

/* next_element - end of the address-list element starting at p */
static const char *
next_element(const char *p)
{
	int depth = 0;
	bool quoted = false, angle = false;

	for (; *p; p++) {
		if (quoted) {
			if (*p == '\\' && p[1])
				p++;
			else if (*p == '"')
				quoted = false;
		} else if (depth) {
			if (*p == '(')
				depth++;
			else if (*p == ')')
				depth--;
		} else if (*p == '"')
			quoted = true;
		else if (*p == '(')
			depth = 1;
		else if (*p == '<')
			angle = true;
		else if (*p == '>')
			angle = false;
		else if ((*p == ',' || *p == ';') && !angle)
			return p;
	}
	return p;
}

size_t
sae_addrs(const struct saeval_in *in, const char *name, char **out,
    size_t max)
{
	struct buf one = BUF_INIT, a = BUF_INIT;
	const char *v, *p, *e;
	size_t k, n = 0;

	for (k = 0; (v = sae_field(in, name, k)) != NULL && n < max; k++)
		for (p = v; *p && n < max; p = *e ? e + 1 : e) {
			e = next_element(p);
			buf_reset(&one);
			buf_add(&one, p, (size_t)(e - p));
			/* "group:" prefix of a group */
			{
				const char *s = buf_cstr(&one);
				const char *c = strchr(s, ':');

				if (c && !strchr(s, '<') && !memchr(s, '"',
				    (size_t)(c - s)) && strchr(c, '@'))
					s = c + 1;
				buf_reset(&a);
				rules_first_addr(s, true, &a);
			}
			if (a.len)
				out[n++] = xstrndup(buf_cstr(&a), a.len);
		}
	buf_release(&one);
	buf_release(&a);
	return n;
}

void
sae_addrs_free(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
}

/* field_index - position of the first field called name, or SIZE_MAX */
static size_t
field_index(const struct mime_msg *mm, const char *name)
{
	size_t i;

	for (i = 0; mm && i < mm->nhdrs; i++)
		if (strcasecmp(mm->hdrs[i].name, name) == 0)
			return i;
	return SIZE_MAX;
}

void
saeval_envfrom(const struct msg *m, const struct mime_msg *mm,
    struct buf *out)
{
	static const char *const fields[] = { "X-Envelope-From",
	    "Envelope-Sender", "Return-Path" };
	struct relay r[1];
	size_t i, at, rcvd = field_index(mm, "Received");

	buf_reset(out);
	if (m->mail_from) {
		buf_adds(out, m->mail_from);
		return;
	}
	if (relays_list(m, mm, r, 1) == 1 && strchr(r[0].envfrom, '@') &&
	    r[0].envfrom[0] != '@') {
		buf_adds(out, r[0].envfrom);
		return;
	}
	/* fetchmail and an X-Sender: the headers below are not trusted */
	if ((at = field_index(mm, "X-Sender")) != SIZE_MAX &&
	    strchr(mm->hdrs[at].value, '@'))
		for (i = 0; i < mm->nhdrs; i++)
			if (strcasecmp(mm->hdrs[i].name, "Received") == 0 &&
			    strstr(mm->hdrs[i].raw, "(fetchmail"))
				return;
	for (i = 0; i < SAEVAL_NELEM(fields); i++) {
		at = field_index(mm, fields[i]);
		if (at == SIZE_MAX || (rcvd != SIZE_MAX && rcvd < at))
			continue;
		rules_first_addr(mm->hdrs[at].value, true, out);
		if (out->len)
			return;
	}
}

void
sae_envfrom(struct saeval_in *in, struct buf *out)
{
	saeval_envfrom(in->m, in->mm, out);
	(void)buf_cstr(out);
}

/* ------------------------------------------------------------------ */
/* fixed regexes                                                       */
/* ------------------------------------------------------------------ */

static pthread_mutex_t rx_lock = PTHREAD_MUTEX_INITIALIZER;

/* rx_code - the compiled form, made on first use; NULL if it fails */
static pcre2_code *
rx_code(struct sae_rx *rx)
{
	pcre2_code *c = __atomic_load_n(&rx->code, __ATOMIC_ACQUIRE);
	int err;
	PCRE2_SIZE off;

	if (c)
		return c;
	pthread_mutex_lock(&rx_lock);
	if (rx->code == NULL) {
		c = pcre2_compile((PCRE2_SPTR)rx->pat, PCRE2_ZERO_TERMINATED,
		    rx->opts, &err, &off, NULL);
		if (c == NULL)
			log_panic("eval regex '%s' does not compile", rx->pat);
		(void)pcre2_jit_compile(c, PCRE2_JIT_COMPLETE);
		__atomic_store_n(&rx->code, c, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&rx_lock);
	return rx->code;
}

/* match_context - the shared limits of every eval regex */
static pcre2_match_context *
match_context(void)
{
	static pcre2_match_context *mctx;
	pcre2_match_context *m = __atomic_load_n(&mctx, __ATOMIC_ACQUIRE);

	if (m)
		return m;
	pthread_mutex_lock(&rx_lock);
	if (mctx == NULL) {
		m = pcre2_match_context_create(NULL);
		pcre2_set_match_limit(m, RULES_DEFAULT_MATCH_LIMIT);
		pcre2_set_depth_limit(m, 10000);
		__atomic_store_n(&mctx, m, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&rx_lock);
	return mctx;
}

bool
sae_rx_match(struct sae_rx *rx, const char *s, size_t n, struct buf *cap)
{
	pcre2_code *c = rx_code(rx);
	pcre2_match_data *md = pcre2_match_data_create_from_pattern(c, NULL);
	PCRE2_SIZE *ov;
	int rc;

	rc = pcre2_match(c, (PCRE2_SPTR)s, n, 0, 0, md, match_context());
	if (rc > 1 && cap) {
		ov = pcre2_get_ovector_pointer(md);
		buf_reset(cap);
		if (ov[2] != PCRE2_UNSET)
			buf_add(cap, s + ov[2], ov[3] - ov[2]);
		(void)buf_cstr(cap);
	}
	pcre2_match_data_free(md);
	return rc > 0;
}

bool
sae_rx_span(struct sae_rx *rx, const char *s, size_t n, size_t off,
    size_t *start, size_t *end)
{
	pcre2_code *c = rx_code(rx);
	pcre2_match_data *md = pcre2_match_data_create_from_pattern(c, NULL);
	PCRE2_SIZE *ov;
	int rc;

	rc = pcre2_match(c, (PCRE2_SPTR)s, n, off, 0, md, match_context());
	if (rc > 0) {
		ov = pcre2_get_ovector_pointer(md);
		*start = ov[0];
		*end = ov[1];
	}
	pcre2_match_data_free(md);
	return rc > 0;
}

bool
sae_rx_span_near(struct sae_rx *rx, const char *s, size_t n, size_t off,
    char ch, size_t back, size_t *start, size_t *end)
{
	pcre2_code *c = rx_code(rx);
	pcre2_match_data *md;
	pcre2_match_context *mc;
	const char *a;
	size_t from = off, at, st;
	PCRE2_SIZE *ov;
	int rc = 0;

	if (off >= n || (a = memchr(s + off, ch, n - off)) == NULL)
		return false;
	md = pcre2_match_data_create_from_pattern(c, NULL);
	mc = pcre2_match_context_copy(match_context());
	for (; a; a = from < n ? memchr(s + from, ch, n - from) : NULL) {
		at = (size_t)(a - s);
		st = at - off > back ? at - back : off;
		/* a match near this ch starts in [st, at] */
		pcre2_set_offset_limit(mc, at);
		rc = pcre2_match(c, (PCRE2_SPTR)s, n, st, 0, md, mc);
		if (rc > 0) {
			ov = pcre2_get_ovector_pointer(md);
			*start = ov[0];
			*end = ov[1];
			break;
		}
		from = at + 1;
	}
	pcre2_match_context_free(mc);
	pcre2_match_data_free(md);
	return rc > 0;
}

bool
sae_rx_buf(struct sae_rx *rx, const struct buf *b)
{
	return sae_rx_match(rx, buf_cstr(b), b->len, NULL);
}

/* ------------------------------------------------------------------ */
/* small text helpers                                                  */
/* ------------------------------------------------------------------ */

bool
hdr_name_ok(const char *s)
{
	size_t n = 0;

	for (; *s; s++, n++)
		if (*s <= ' ' || *s >= 127 || *s == ':')
			return false;
	return n > 0 && n < 128;
}

const char *
sae_ifind(const char *hay, const char *needle)
{
	size_t n = strlen(needle);

	for (; *hay; hay++)
		if (strncasecmp(hay, needle, n) == 0)
			return hay;
	return n == 0 ? hay : NULL;
}

void
sae_squeeze_ws(struct buf *b)
{
	size_t i, o = 0;
	bool ws = false;

	for (i = 0; i < b->len; i++) {
		if (ch_is_space((unsigned char)b->data[i])) {
			if (!ws)
				b->data[o++] = ' ';
			ws = true;
		} else {
			b->data[o++] = b->data[i];
			ws = false;
		}
	}
	buf_truncate(b, o);
	(void)buf_cstr(b);
}

const char *
sae_skip_reply_prefix(const char *s)
{
	static const char *const pre[] = { "re", "fwd", "fw", "aw",
	    "antwort", "wg", "sv", "vb", "vs", "vl" };
	size_t i, n;
	bool again = true;

	while (ch_is_space((unsigned char)*s))
		s++;
	while (again) {
		again = false;
		for (i = 0; i < SAEVAL_NELEM(pre); i++) {
			n = strlen(pre[i]);
			if (strncasecmp(s, pre[i], n) == 0 && s[n] == ':') {
				s += n + 1;
				while (ch_is_space((unsigned char)*s))
					s++;
				again = true;
				break;
			}
		}
	}
	return s;
}

bool
sae_raw_has_caps_charset(const char *raw)
{
	static struct sae_rx rx = { "=\\?[-_a-z0-9]*(?:koi|jp|jis|euc|gb|big5|"
	    "isoir|cp1251|windows-1251|georgianps|pt154|tis)[-_a-z0-9]*\\?",
	    PCRE2_CASELESS, NULL };

	return sae_rx_match(&rx, raw, strlen(raw), NULL);
}

/* ------------------------------------------------------------------ */
/* dates                                                               */
/* ------------------------------------------------------------------ */

static const char *const months[] = { "jan", "feb", "mar", "apr", "may",
    "jun", "jul", "aug", "sep", "oct", "nov", "dec" };

static const struct {
	const char *name;
	int	 off;		/* minutes east of UTC */
} zones[] = {
	{ "UT", 0 }, { "UTC", 0 }, { "GMT", 0 }, { "WET", 0 },
	{ "NDT", -150 }, { "AST", -240 }, { "ADT", -180 }, { "NST", -210 },
	{ "EST", -300 }, { "EDT", -240 }, { "CST", -360 }, { "CDT", -300 },
	{ "MST", -420 }, { "MDT", -360 }, { "PST", -480 }, { "PDT", -420 },
	{ "HST", -600 }, { "AKST", -540 }, { "AKDT", -480 }, { "HADT", -540 },
	{ "HAST", -600 }, { "BST", 60 }, { "IST", 60 }, { "WEST", 60 },
	{ "CET", 60 }, { "CEST", 120 }, { "EET", 120 }, { "EEST", 180 },
	{ "MSK", 180 }, { "MSD", 240 }, { "MET", 60 }, { "MEZ", 60 },
	{ "MEST", 120 }, { "MESZ", 120 }, { "BRST", -120 }, { "BRT", -180 },
	{ "AEST", 600 }, { "AEDT", 660 }, { "ACST", 570 }, { "ACDT", 630 },
	{ "AWST", 480 }, { "HKT", 480 }, { "JST", 540 }, { "KST", 540 },
	{ "NZST", 720 }, { "NZDT", 780 },
};

#define DATE_WORDS	256

struct dword {
	char	 w[24];
	bool	 used;
};

/* date_words - " , " squeezed: the white-space separated words */
static size_t
date_words(const char *s, struct dword *v)
{
	size_t n = 0, k;

	while (*s && n < DATE_WORDS) {
		while (*s == ',' || ch_is_space((unsigned char)*s))
			s++;
		if (*s == '\0')
			break;
		for (k = 0; *s && *s != ',' && !ch_is_space((unsigned char)*s);
		    s++)
			if (k + 1 < sizeof(v[n].w))
				v[n].w[k++] = *s;
		v[n].w[k] = '\0';
		v[n++].used = false;
	}
	return n;
}

static bool
all_digits(const char *s, size_t min, size_t max)
{
	size_t n = strlen(s), i;

	if (n < min || n > max)
		return false;
	for (i = 0; i < n; i++)
		if (!ch_is_digit((unsigned char)s[i]))
			return false;
	return true;
}

static int
month_of(const char *s)
{
	size_t i;

	for (i = 0; i < 12; i++)
		if (strcasecmp(s, months[i]) == 0)
			return (int)i + 1;
	return 0;
}

static bool
is_time(const char *s)
{
	return ch_is_digit((unsigned char)s[0]) && strchr(s, ':') != NULL;
}

/* date_part - day, month, year: the three forms SpamAssassin knows */
static bool
date_part(struct dword *v, size_t n, int *dd, int *mon, int *yyyy)
{
	size_t i;

	for (i = 0; i + 2 < n; i++)		/* 7 Dec 2026 */
		if (all_digits(v[i].w, 1, 9) && month_of(v[i + 1].w) &&
		    all_digits(v[i + 2].w, 4, 4))
			goto dmy;
	for (i = 0; i + 3 < n; i++)		/* Dec 7 12:00:00 2026 */
		if (month_of(v[i].w) && all_digits(v[i + 1].w, 1, 9) &&
		    is_time(v[i + 2].w) && all_digits(v[i + 3].w, 4, 4)) {
			*mon = month_of(v[i].w);
			*dd = atoi(v[i + 1].w);
			*yyyy = atoi(v[i + 3].w);
			v[i].used = v[i + 1].used = v[i + 3].used = true;
			return true;
		}
	for (i = 0; i + 2 < n; i++)		/* 7 Dec 26 */
		if (all_digits(v[i].w, 1, 9) && month_of(v[i + 1].w) &&
		    all_digits(v[i + 2].w, 2, 3))
			goto dmy;
	return false;
dmy:
	*dd = atoi(v[i].w);
	*mon = month_of(v[i + 1].w);
	*yyyy = atoi(v[i + 2].w);
	if (strlen(v[i + 2].w) == 2 && *yyyy < 50)
		*yyyy += 2000;
	else if (strlen(v[i + 2].w) != 4)
		*yyyy += 1900;
	v[i].used = v[i + 1].used = v[i + 2].used = true;
	return true;
}

/* time_part - "h:mm[:ss]" */
static void
time_part(struct dword *v, size_t n, int *hh, int *mm, int *ss)
{
	size_t i;
	const char *w;

	for (i = 0; i < n; i++) {
		w = v[i].w;
		if (v[i].used || !ch_is_digit((unsigned char)w[0]))
			continue;
		if (sscanf(w, "%2d:%2d:%2d", hh, mm, ss) == 3 ||
		    (sscanf(w, "%2d:%2d", hh, mm) == 2 && (*ss = 0) == 0)) {
			v[i].used = true;
			return;
		}
	}
}

/* zone_part - seconds east of UTC; unknown zones are -0000 */
static long
zone_part(struct dword *v, size_t n)
{
	size_t i, k;
	const char *w;

	for (i = 0; i < n; i++) {
		w = v[i].w;
		if (v[i].used)
			continue;
		if ((w[0] == '+' || w[0] == '-') && all_digits(w + 1, 4, 4)) {
			long h = (w[1] - '0') * 10 + (w[2] - '0');
			long m = (w[3] - '0') * 10 + (w[4] - '0');

			return (w[0] == '-' ? -1 : 1) * (h * 3600 + m * 60);
		}
	}
	for (i = 0; i < n; i++)
		for (k = 0; k < SAEVAL_NELEM(zones); k++) {
			const char *p = v[i].w;

			if (*p == '(')
				p++;
			if (strncmp(p, zones[k].name, strlen(zones[k].name)) ==
			    0 && !ch_is_alpha((unsigned char)
			    p[strlen(zones[k].name)]))
				return (long)zones[k].off * 60;
		}
	return 0;
}

/* days_from_civil - days since 1970-01-01 (proleptic Gregorian) */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

bool
sae_parse_date(const char *s, int64_t *out)
{
	/* not zeroed: date_words() fills v[0..n), nothing reads further */
	struct dword *v = xmalloc(DATE_WORDS * sizeof(*v));
	size_t n = date_words(s, v);
	int dd = 0, mon = 0, yyyy = 0, hh = 0, mi = 0, ss = 0, maxd;
	long off;
	int64_t t;

	if (!date_part(v, n, &dd, &mon, &yyyy)) {
		free(v);
		return false;
	}
	time_part(v, n, &hh, &mi, &ss);
	off = zone_part(v, n);
	free(v);
	if (ss > 59)
		ss = 59;
	if (mi > 59)
		mi = 59;
	if (hh > 23)
		hh = 23;
	maxd = (mon == 4 || mon == 6 || mon == 9 || mon == 11) ? 30 :
	    mon == 2 ? ((yyyy % 4 == 0 && (yyyy % 100 || yyyy % 400 == 0)) ?
	    29 : 28) : 31;
	if (dd > maxd) {
		dd = 1;
		if (++mon > 12) {
			mon = 1;
			yyyy++;
		}
	}
	if (dd < 1)
		return false;
	if (yyyy > 2037)
		yyyy = 2037;
	else if (yyyy < 1970)
		yyyy = 1970;
	t = days_from_civil(yyyy, mon, dd) * 86400 + hh * 3600 + mi * 60 + ss;
	t -= off;
	*out = t < 0 ? 0 : t;
	return true;
}
