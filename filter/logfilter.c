/*
 * logfilter.c - select verdict log records
 *
 * DESCRIPTION
 *	A record matches when every criterion given matches; a criterion
 *	given several times matches if any of its values does.  Addresses
 *	and domains compare case-insensitively; a value without '@' is a
 *	domain and also matches its subdomains.  Symbols are fnmatch(3)
 *	patterns ("DKIM_*"), case-insensitive.  A record without the
 *	field a criterion looks at does not match it, except --no-symbol,
 *	which a record without symbols passes.  Subjects are compared
 *	after RFC 2047 decoding, as a substring, ASCII letters in any
 *	case.  "Decided by" is lr_decisive(): the symbol forced the action
 *	or alone lifted the score across the threshold of its action.
 */
#include "config.h"

#include <fnmatch.h>
#include <netinet/in.h>
#include <stdio.h>
#include <sys/socket.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "logread.h"
#include "logreview.h"
#include "str.h"

#define DOMAIN_MAX	256

static bool find_icase(const char *, size_t, const char *);

void
lr_filter_init(struct lr_filter *f)
{
	memset(f, 0, sizeof(*f));
}

static void
strs_release(struct lr_strs *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	s->v = NULL;
	s->n = 0;
}

void
lr_filter_release(struct lr_filter *f)
{
	strs_release(&f->symbols);
	strs_release(&f->senders);
	strs_release(&f->rcpts);
	strs_release(&f->qids);
	strs_release(&f->msgids);
	strs_release(&f->subjects);
	strs_release(&f->froms);
	strs_release(&f->mail_froms);
	strs_release(&f->no_symbols);
	strs_release(&f->deciders);
	strs_release(&f->overrides);
	free(f->nets);
	lr_filter_init(f);
}

static void
strs_add(struct lr_strs *s, const char *v, size_t n)
{
	s->v = xreallocarray(s->v, s->n + 1, sizeof(*s->v));
	s->v[s->n++] = xstrndup(v, n);
}

/* add_addr - an address or domain, lower-cased, without <> */
static int
add_addr(struct lr_strs *s, const char *v, struct buf *why)
{
	size_t n = strlen(v);

	if (n >= 2 && v[0] == '<' && v[n - 1] == '>') {
		v++;
		n -= 2;
	}
	if (n == 0 || n > 512) {
		buf_adds(why, "empty or overlong address");
		return -1;
	}
	strs_add(s, v, n);
	str_lower(s->v[s->n - 1]);
	return 0;
}

/* msgid_span - a Message-ID without surrounding space and <> */
static void
msgid_span(const char **vp, size_t *np)
{
	const char *v = *vp;
	size_t n = strlen(v);

	while (n > 0 && ch_is_space((unsigned char)*v)) {
		v++;
		n--;
	}
	while (n > 0 && ch_is_space((unsigned char)v[n - 1]))
		n--;
	if (n >= 2 && v[0] == '<' && v[n - 1] == '>') {
		v++;
		n -= 2;
	}
	*vp = v;
	*np = n;
}

static int
add_action(struct lr_filter *f, const char *v, struct buf *why)
{
	char *copy = xstrdup(v), *tok, *save = NULL;
	int a, rc = 0;

	for (tok = strtok_r(copy, ",", &save); tok;
	    tok = strtok_r(NULL, ",", &save)) {
		if ((a = lr_action_parse(tok)) < 0) {
			buf_printf(why, "unknown action '%s' (accept, tag, "
			    "reject, tempfail)", tok);
			rc = -1;
			break;
		}
		f->actions |= 1u << a;
	}
	free(copy);
	return rc;
}

static int
add_net(struct lr_filter *f, const char *v, struct buf *why)
{
	struct cidr c;

	if (cidr_parse(v, &c) < 0) {
		buf_printf(why, "'%s' is not an IP address or CIDR block", v);
		return -1;
	}
	f->nets = xreallocarray(f->nets, f->nnets + 1, sizeof(*f->nets));
	f->nets[f->nnets++] = c;
	return 0;
}

static int
add_number(const char *v, double *out, bool *has, struct buf *why)
{
	if (parse_double(v, -1e9, 1e9, out) < 0) {
		buf_printf(why, "'%s' is not a number", v);
		return -1;
	}
	*has = true;
	return 0;
}

static int
add_time(const char *v, double now, double *out, bool *has, struct buf *why)
{
	if (logtime_arg(v, now, out) < 0) {
		buf_printf(why, "'%s' is not a time (RFC 3339 such as "
		    "2026-11-18T06:00:00Z, a date, or an age such as 24h, 7d)",
		    v);
		return -1;
	}
	*has = true;
	return 0;
}

/* add_auth - results of one check: "pass", "fail,softfail" */
static int
add_auth(unsigned *set, const char *v, struct buf *why)
{
	char *copy = xstrdup(v), *tok, *save = NULL;
	enum lr_auth a;
	int rc = 0;

	for (tok = strtok_r(copy, ",", &save); tok;
	    tok = strtok_r(NULL, ",", &save)) {
		a = str_ieq(tok, "absent") ? LR_AUTH_ABSENT :
		    lr_auth_parse(tok);
		if (a == LR_AUTH_OTHER && !str_ieq(tok, "other")) {
			buf_printf(why, "unknown result '%s' (pass, fail, "
			    "softfail, neutral, none, temperror, permerror, "
			    "policy, other, absent)", tok);
			rc = -1;
			break;
		}
		*set |= 1u << a;
	}
	free(copy);
	return rc;
}

static int
add_mail_from(struct lr_filter *f, const char *v, struct buf *why)
{
	if (strcmp(v, "<>") == 0) {
		strs_add(&f->mail_froms, v, 2);
		return 0;
	}
	return add_addr(&f->mail_froms, v, why);
}

static int
add_prob(const char *v, double *out, bool *has, struct buf *why)
{
	if (parse_double(v, 0, 1, out) < 0) {
		buf_printf(why, "'%s' is not a probability from 0 to 1", v);
		return -1;
	}
	*has = true;
	return 0;
}

static int
add_text(struct lr_strs *s, const char *v, struct buf *why)
{
	if (*v == '\0' || strlen(v) > 998) {
		buf_adds(why, "empty or overlong text");
		return -1;
	}
	strs_add(s, v, strlen(v));
	return 0;
}

int
lr_filter_add(struct lr_filter *f, enum lr_fkey k, const char *v, double now,
    struct buf *why)
{
	size_t n;

	switch (k) {
	case LR_F_SUBJECT:
		return add_text(&f->subjects, v, why);
	case LR_F_FROM:
		return add_addr(&f->froms, v, why);
	case LR_F_MAIL_FROM:
		return add_mail_from(f, v, why);
	case LR_F_NO_SYMBOL:
		return add_text(&f->no_symbols, v, why);
	case LR_F_DECIDED_BY:
		return add_text(&f->deciders, v, why);
	case LR_F_SPF:
		return add_auth(&f->auth[LR_SPF], v, why);
	case LR_F_DKIM:
		return add_auth(&f->auth[LR_DKIM], v, why);
	case LR_F_DMARC:
		return add_auth(&f->auth[LR_DMARC], v, why);
	case LR_F_ARC:
		return add_auth(&f->auth[LR_ARC], v, why);
	case LR_F_OVERRIDE:
		return add_text(&f->overrides, v, why);
	case LR_F_BAYES_MIN:
		return add_prob(v, &f->bayes_min, &f->has_bayes_min, why);
	case LR_F_BAYES_MAX:
		return add_prob(v, &f->bayes_max, &f->has_bayes_max, why);
	case LR_F_ACTION:
		return add_action(f, v, why);
	case LR_F_SYMBOL:
		strs_add(&f->symbols, v, strlen(v));
		return 0;
	case LR_F_SENDER:
		return add_addr(&f->senders, v, why);
	case LR_F_IP:
		return add_net(f, v, why);
	case LR_F_RCPT:
		return add_addr(&f->rcpts, v, why);
	case LR_F_QUEUE_ID:
		strs_add(&f->qids, v, strlen(v));
		return 0;
	case LR_F_MESSAGE_ID:
		msgid_span(&v, &n);
		strs_add(&f->msgids, v, n);
		return 0;
	case LR_F_SCORE_MIN:
		return add_number(v, &f->score_min, &f->has_score_min, why);
	case LR_F_SCORE_MAX:
		return add_number(v, &f->score_max, &f->has_score_max, why);
	case LR_F_SINCE:
		return add_time(v, now, &f->since, &f->has_since, why);
	case LR_F_UNTIL:
		return add_time(v, now, &f->until, &f->has_until, why);
	}
	buf_adds(why, "unknown filter");
	return -1;
}

/* auth_any - a criterion on some check's result */
static bool
auth_any(const struct lr_filter *f)
{
	size_t j;

	for (j = 0; j < LR_NCHECKS; j++)
		if (f->auth[j])
			return true;
	return false;
}

bool
lr_filter_any(const struct lr_filter *f)
{
	return f->actions || f->symbols.n || f->senders.n || f->rcpts.n ||
	    f->qids.n || f->msgids.n || f->nnets || f->has_score_min ||
	    f->has_score_max || f->has_since || f->has_until ||
	    f->subjects.n || f->froms.n || f->mail_froms.n ||
	    f->no_symbols.n || f->deciders.n || auth_any(f) ||
	    f->overrides.n || f->has_bayes_min || f->has_bayes_max;
}

/* domain_within - d equals want or is a subdomain of it */
static bool
domain_within(const char *d, const char *want)
{
	size_t dl = strlen(d), wl = strlen(want);

	if (dl == wl)
		return strcmp(d, want) == 0;
	return dl > wl && d[dl - wl - 1] == '.' && strcmp(d + dl - wl,
	    want) == 0;
}

/* addr_match - does an address (any form lr_domain takes) match v? */
static bool
addr_match(const char *addr, const struct lr_strs *want)
{
	char dom[DOMAIN_MAX], bare[520];
	const char *lt, *gt, *p = addr;
	bool has_dom;
	size_t i, n;

	if (addr == NULL)
		return false;
	has_dom = lr_domain(addr, dom, sizeof(dom));
	/* the bare address: inside the last <...>, else the whole value */
	lt = strrchr(addr, '<');
	if (lt && (gt = strchr(lt, '>')) != NULL) {
		p = lt + 1;
		n = (size_t)(gt - p);
	} else
		n = strlen(addr);
	if (n >= sizeof(bare))
		n = sizeof(bare) - 1;
	memcpy(bare, p, n);
	bare[n] = '\0';
	str_lower(bare);
	for (i = 0; i < want->n; i++) {
		if (strchr(want->v[i], '@') ? strcmp(bare, want->v[i]) == 0 :
		    has_dom && domain_within(dom, want->v[i]))
			return true;
	}
	return false;
}

/* glob_in - name matches one of the patterns */
static bool
glob_in(const char *name, const struct lr_strs *pat)
{
	size_t j;

	for (j = 0; j < pat->n; j++)
		if (fnmatch(pat->v[j], name, FNM_CASEFOLD) == 0)
			return true;
	return false;
}

/*
 * symbols_match - a symbol that hit matches one of the patterns (and,
 * with decided, alone decided the action)
 */
static bool
symbols_match(const struct lr_strs *pat, const struct logrec *r,
    bool decided)
{
	size_t i, n;
	double sc;

	if (decided && r->forced_by && glob_in(r->forced_by, pat) &&
	    lr_decisive(r, r->forced_by, 0))
		return true;
	if (r->symbols == NULL)
		return false;
	n = json_object_array_length(r->symbols);
	for (i = 0; i < n; i++) {
		struct json_object *o = json_object_array_get_idx(r->symbols,
		    i);
		const char *name = lr_jstr(o, "name");

		if (name == NULL || !glob_in(name, pat))
			continue;
		if (!decided)
			return true;
		if (!lr_jnum(o, "score", &sc))
			sc = 0;
		if (lr_decisive(r, name, sc))
			return true;
	}
	return false;
}

static bool
subject_match(const struct lr_filter *f, const struct logrec *r)
{
	struct buf b = BUF_INIT;
	bool hit = false;
	size_t i;

	if (r->subject == NULL)
		return false;
	lr_subject(r, 4096, &b);
	for (i = 0; i < f->subjects.n && !hit; i++)
		hit = find_icase(b.data ? b.data : "", b.len, f->subjects.v[i]);
	buf_release(&b);
	return hit;
}

static bool
mail_from_match(const struct lr_filter *f, const struct logrec *r)
{
	size_t i;

	if (r->mail_from == NULL)
		return false;
	for (i = 0; i < f->mail_froms.n; i++)
		if (strcmp(f->mail_froms.v[i], "<>") == 0 &&
		    *r->mail_from == '\0')
			return true;
	return addr_match(r->mail_from, &f->mail_froms);
}

static bool
auth_match(const struct lr_filter *f, const struct logrec *r)
{
	size_t j;

	for (j = 0; j < LR_NCHECKS; j++)
		if (f->auth[j] && !(f->auth[j] & (1u << r->auth[j])))
			return false;
	return true;
}

static bool
bayes_match(const struct lr_filter *f, const struct logrec *r)
{
	if (!f->has_bayes_min && !f->has_bayes_max)
		return true;
	if (!r->has_bayes)
		return false;
	return !(f->has_bayes_min && r->bayes < f->bayes_min) &&
	    !(f->has_bayes_max && r->bayes > f->bayes_max);
}

static bool
rcpts_match(const struct lr_filter *f, const struct logrec *r)
{
	size_t i, n;

	if (r->rcpts == NULL)
		return false;
	n = json_object_array_length(r->rcpts);
	for (i = 0; i < n; i++) {
		struct json_object *v = json_object_array_get_idx(r->rcpts, i);

		if (json_object_is_type(v, json_type_string) &&
		    addr_match(json_object_get_string(v), &f->rcpts))
			return true;
	}
	return false;
}

static bool
ip_match(const struct lr_filter *f, const struct logrec *r)
{
	struct netaddr a;
	size_t i;

	if (r->client_ip == NULL || netaddr_parse(r->client_ip, &a) < 0)
		return false;
	for (i = 0; i < f->nnets; i++)
		if (cidr_match(&f->nets[i], &a))
			return true;
	return false;
}

/* str_in - s equals one of v (case-sensitively unless icase) */
static bool
str_in(const char *s, const struct lr_strs *v, bool icase)
{
	size_t i;

	if (s == NULL)
		return false;
	for (i = 0; i < v->n; i++)
		if (icase ? str_ieq(s, v->v[i]) : strcmp(s, v->v[i]) == 0)
			return true;
	return false;
}

static bool
msgid_match(const struct lr_filter *f, const char *id)
{
	size_t i, n;

	if (id == NULL)
		return false;
	msgid_span(&id, &n);
	for (i = 0; i < f->msgids.n; i++)
		if (strlen(f->msgids.v[i]) == n &&
		    memcmp(f->msgids.v[i], id, n) == 0)
			return true;
	return false;
}

/*
 * find_icase - does hay[0..n) contain needle, ASCII case-insensitively?
 * The scan jumps with memchr() to a byte of the needle that has no case
 * (digit, '.', '@', '_', ...) when there is one: queue ids, addresses,
 * domains and symbol names all have one, and JSON text is full of the
 * letters they start with.
 */
static bool
find_icase(const char *hay, size_t n, const char *needle)
{
	size_t m = strlen(needle), k = 0;
	const char *p, *end;

	if (m == 0)
		return true;
	if (m > n)
		return false;
	while (k < m && ch_is_alpha((unsigned char)needle[k]))
		k++;
	if (k == m) {
		/* letters only: try every position */
		for (p = hay; p + m <= hay + n; p++)
			if (str_nieq(p, m, needle, m))
				return true;
		return false;
	}
	/* the anchor needle[k] can only sit in hay[k .. n - m + k] */
	end = hay + n - m + k + 1;
	for (p = hay + k; p < end &&
	    (p = memchr(p, needle[k], (size_t)(end - p))) != NULL; p++)
		if (str_nieq(p - k, m, needle, m))
			return true;
	return false;
}

/*
 * literal - can v be looked for in raw JSON text as is?  Printable
 * ASCII other than the characters JSON may escape without \u (" \ /)
 * and, for symbol patterns, fnmatch specials.
 */
static bool
literal(const char *v, bool pattern)
{
	if (*v == '\0')
		return false;
	for (; *v; v++) {
		unsigned char c = (unsigned char)*v;

		if (c <= 0x20 || c >= 0x7f || c == '"' || c == '\\' ||
		    c == '/' || (pattern && strchr("*?[", c)))
			return false;
	}
	return true;
}

/* may_hold - false if every value is literal and none is in the line */
static bool
may_hold(const char *line, size_t n, const struct lr_strs *v, bool pattern)
{
	size_t i;

	for (i = 0; i < v->n; i++)
		if (!literal(v->v[i], pattern) || find_icase(line, n, v->v[i]))
			return true;
	return v->n == 0;
}

/*
 * nets_may_hold - false if no IPv4 block's leading octets are in the
 * line.  inet_pton() takes IPv4 only in canonical dotted-quad form (no
 * leading zeros), so a matching address shows its octets literally,
 * also inside ::ffff:a.b.c.d.  IPv6 text has many forms: no shortcut.
 */
static bool
nets_may_hold(const char *line, size_t n, const struct lr_filter *f)
{
	char needle[20];
	size_t i, k, len;

	for (i = 0; i < f->nnets; i++) {
		const struct cidr *c = &f->nets[i];

		if (c->addr.family != AF_INET || c->bits < 8)
			return true;
		for (k = 0, len = 0; k < c->bits / 8; k++)
			len += (size_t)snprintf(needle + len,
			    sizeof(needle) - len, k < 3 ? "%u." : "%u",
			    c->addr.a[k]);
		if (find_icase(line, n, needle))
			return true;
	}
	return f->nnets == 0;
}

/* has_hiding_escape - a \u or \/ escape, which can spell any text */
static bool
has_hiding_escape(const char *line, size_t n)
{
	const char *p = line, *end = line + n;

	while ((p = memchr(p, '\\', (size_t)(end - p))) != NULL) {
		if (++p == end)
			return false;
		if (*p == 'u' || *p == '/')
			return true;
		p++;		/* skip what a \\ or other escape stands for */
	}
	return false;
}

bool
lr_filter_may_match(const struct lr_filter *f, const char *line, size_t n)
{
	if (has_hiding_escape(line, n))
		return true;
	return nets_may_hold(line, n, f) &&
	    may_hold(line, n, &f->qids, false) &&
	    may_hold(line, n, &f->msgids, false) &&
	    may_hold(line, n, &f->senders, false) &&
	    may_hold(line, n, &f->rcpts, false) &&
	    may_hold(line, n, &f->symbols, true) &&
	    may_hold(line, n, &f->deciders, true) &&
	    may_hold(line, n, &f->froms, false);
}

bool
lr_filter_match(const struct lr_filter *f, const struct logrec *r)
{
	if (f->has_since && (!r->has_time || r->time < f->since))
		return false;
	if (f->has_until && (!r->has_time || r->time >= f->until))
		return false;
	if (f->actions && !(f->actions & (1u << r->action)))
		return false;
	if (f->has_score_min && (!r->has_score || r->score < f->score_min))
		return false;
	if (f->has_score_max && (!r->has_score || r->score > f->score_max))
		return false;
	if (f->qids.n && !str_in(r->queue_id, &f->qids, true))
		return false;
	if (f->msgids.n && !msgid_match(f, r->message_id))
		return false;
	if (f->nnets && !ip_match(f, r))
		return false;
	if (f->senders.n && !addr_match(r->mail_from, &f->senders) &&
	    !addr_match(r->from, &f->senders))
		return false;
	if (f->rcpts.n && !rcpts_match(f, r))
		return false;
	if (f->symbols.n && !symbols_match(&f->symbols, r, false))
		return false;
	if (f->no_symbols.n && symbols_match(&f->no_symbols, r, false))
		return false;
	if (f->deciders.n && !symbols_match(&f->deciders, r, true))
		return false;
	if (f->froms.n && !addr_match(r->from, &f->froms))
		return false;
	if (f->mail_froms.n && !mail_from_match(f, r))
		return false;
	if (!auth_match(f, r) || !bayes_match(f, r))
		return false;
	if (f->overrides.n && !str_in(r->dmarc_override, &f->overrides, true))
		return false;
	if (f->subjects.n && !subject_match(f, r))
		return false;
	return true;
}
