/*
 * logrec.c - typed view of a verdict log record, safe text output
 *
 * DESCRIPTION
 *	logrec_from() reads the members the review commands use, each one
 *	only if present with the expected type.  The DKIM value of a
 *	message summarises its signatures: pass if any passed, else the
 *	most telling failure (fail, temperror, permerror, policy, neutral,
 *	softfail, other); an empty list is none.  The checks are one
 *	table (name, log key, reader): a new check is one row there and
 *	one in enum lr_check, and search, summary and report follow.
 * SECURITY
 *	Strings may hold NUL (\u0000), control characters, bidi controls
 *	or markup.  They are borrowed from json-c and only reach output
 *	through lr_safe() (terminal) or lr_html() (HTML).
 */
#include "config.h"

#include <json-c/json.h>
#include <math.h>
#include <string.h>

#include "buf.h"
#include "logread.h"
#include "logreview.h"
#include "str.h"

static const char *const action_names[LR_NACTIONS] = {
	"accept", "tag", "reject", "tempfail", "other"
};

static const char *const auth_names[LR_NAUTH] = {
	"pass", "fail", "softfail", "neutral", "none", "temperror",
	"permerror", "policy", "other", "absent"
};

const char *
lr_action_name(enum lr_action a)
{
	return (unsigned)a < LR_NACTIONS ? action_names[a] : "other";
}

const char *
lr_auth_name(enum lr_auth a)
{
	return (unsigned)a < LR_NAUTH ? auth_names[a] : "other";
}

int
lr_action_parse(const char *s)
{
	int i;

	for (i = 0; i < LR_OTHER; i++)
		if (s && str_ieq(s, action_names[i]))
			return i;
	return -1;
}

enum lr_auth
lr_auth_parse(const char *s)
{
	int i;

	if (s == NULL)
		return LR_AUTH_ABSENT;
	for (i = 0; i < LR_AUTH_OTHER; i++)
		if (str_ieq(s, auth_names[i]))
			return (enum lr_auth)i;
	/* RFC 8601 / older spellings */
	if (str_ieq(s, "hardfail"))
		return LR_AUTH_FAIL;
	if (str_ieq(s, "temperr") || str_ieq(s, "tempfail") ||
	    str_ieq(s, "temp_error"))
		return LR_AUTH_TEMPERROR;
	if (str_ieq(s, "permerr") || str_ieq(s, "permfail") ||
	    str_ieq(s, "perm_error"))
		return LR_AUTH_PERMERROR;
	return LR_AUTH_OTHER;
}

struct json_object *
lr_jget(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (o == NULL || !json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, key, &v))
		return NULL;
	return v;
}

const char *
lr_jstr(struct json_object *o, const char *key)
{
	struct json_object *v = lr_jget(o, key);

	return v && json_object_is_type(v, json_type_string) ?
	    json_object_get_string(v) : NULL;
}

bool
lr_jnum(struct json_object *o, const char *key, double *out)
{
	struct json_object *v = lr_jget(o, key);
	double d;

	if (v == NULL || !(json_object_is_type(v, json_type_double) ||
	    json_object_is_type(v, json_type_int)))
		return false;
	d = json_object_get_double(v);
	if (!isfinite(d))
		return false;
	*out = d;
	return true;
}

static bool
jbool(struct json_object *o, const char *key)
{
	struct json_object *v = lr_jget(o, key);

	return v && json_object_is_type(v, json_type_boolean) &&
	    json_object_get_boolean(v);
}

/* dkim_rank - how telling a non-pass signature result is (low = more) */
static int
dkim_rank(enum lr_auth a)
{
	static const enum lr_auth order[] = { LR_AUTH_FAIL, LR_AUTH_TEMPERROR,
	    LR_AUTH_PERMERROR, LR_AUTH_POLICY, LR_AUTH_NEUTRAL,
	    LR_AUTH_SOFTFAIL, LR_AUTH_OTHER, LR_AUTH_NONE, LR_AUTH_ABSENT };
	size_t i;

	for (i = 0; i < sizeof(order) / sizeof(order[0]); i++)
		if (order[i] == a)
			return (int)i;
	return (int)i;
}

/* dkim_result - one value for all signatures (see DESCRIPTION) */
static enum lr_auth
dkim_result(struct json_object *d)
{
	enum lr_auth best = LR_AUTH_ABSENT, a;
	size_t i, n;

	if (d == NULL)
		return LR_AUTH_ABSENT;
	if (json_object_is_type(d, json_type_object))
		return lr_auth_parse(lr_jstr(d, "result"));
	if (!json_object_is_type(d, json_type_array))
		return LR_AUTH_ABSENT;
	n = json_object_array_length(d);
	if (n == 0)
		return LR_AUTH_NONE;
	for (i = 0; i < n; i++) {
		a = lr_auth_parse(lr_jstr(json_object_array_get_idx(d, i),
		    "result"));
		if (a == LR_AUTH_PASS)
			return LR_AUTH_PASS;
		if (dkim_rank(a) < dkim_rank(best))
			best = a;
	}
	return best;
}

/* one_result - the "result" of a check logged as one object */
static enum lr_auth
one_result(struct json_object *o)
{
	return lr_auth_parse(lr_jstr(o, "result"));
}

/* the checks: display name, verdict log key, how to read the result */
static const struct check_row {
	const char *name, *key;
	enum lr_auth (*read)(struct json_object *);
} checks[LR_NCHECKS] = {
	[LR_SPF] = { "SPF", "spf", one_result },
	[LR_DKIM] = { "DKIM", "dkim", dkim_result },
	[LR_DMARC] = { "DMARC", "dmarc", one_result },
	[LR_ARC] = { "ARC", "arc", one_result },
};

const char *
lr_check_name(enum lr_check c)
{
	return (unsigned)c < LR_NCHECKS ? checks[c].name : "?";
}

const char *
lr_check_key(enum lr_check c)
{
	return (unsigned)c < LR_NCHECKS ? checks[c].key : "?";
}

/* oldest_pass - the ARC chain's oldest-pass instance, -1 if none */
static int
oldest_pass(struct json_object *arc)
{
	double d;

	if (!lr_jnum(arc, "oldest_pass", &d) || d < 0 || d > 50 ||
	    d != floor(d))
		return -1;
	return (int)d;
}

/* aligned - DMARC alignment of one identifier: 1, 0, -1 unknown */
static int
aligned(struct json_object *dmarc, const char *id)
{
	struct json_object *v = lr_jget(lr_jget(lr_jget(dmarc, "alignment"),
	    id), "aligned");

	if (v == NULL || !json_object_is_type(v, json_type_boolean))
		return -1;
	return json_object_get_boolean(v) ? 1 : 0;
}

void
logrec_from(struct logrec *r, const struct logline *l)
{
	struct json_object *o = l->obj, *client, *thr, *v;
	size_t j;

	memset(r, 0, sizeof(*r));
	r->o = o;
	r->file = l->file;
	r->lineno = l->lineno;
	r->text = l->text;
	r->len = l->len;
	r->time = l->time;
	r->has_time = l->has_time;
	r->time_text = lr_jstr(o, "time");
	r->queue_id = lr_jstr(o, "queue_id");
	r->message_id = lr_jstr(o, "message_id");
	r->mail_from = lr_jstr(o, "mail_from");
	r->from = lr_jstr(o, "from");
	r->subject = lr_jstr(o, "subject");
	r->helo = lr_jstr(o, "helo");
	client = lr_jget(o, "client");
	r->client_ip = lr_jstr(client, "ip");
	r->client_name = lr_jstr(client, "name");
	r->action_text = lr_jstr(o, "action");
	r->action = r->action_text && lr_action_parse(r->action_text) >= 0 ?
	    (enum lr_action)lr_action_parse(r->action_text) : LR_OTHER;
	r->has_score = lr_jnum(o, "score", &r->score);
	thr = lr_jget(o, "thresholds");
	r->has_thresholds = lr_jnum(thr, "tag", &r->tag) &&
	    lr_jnum(thr, "reject", &r->reject);
	r->has_elapsed = lr_jnum(o, "elapsed_ms", &r->elapsed_ms) &&
	    r->elapsed_ms >= 0;
	r->has_dns_ms = lr_jnum(o, "dns_ms", &r->dns_ms) && r->dns_ms >= 0;
	r->dns_degraded = jbool(o, "dns_degraded");
	for (j = 0; j < LR_NCHECKS; j++)
		r->auth[j] = checks[j].read(lr_jget(o, checks[j].key));
	v = lr_jget(o, "symbols");
	r->symbols = v && json_object_is_type(v, json_type_array) ? v : NULL;
	v = lr_jget(o, "rcpts");
	r->rcpts = v && json_object_is_type(v, json_type_array) ? v : NULL;
	r->auth_user = lr_jstr(o, "auth");
	v = lr_jget(o, "scored");
	r->unscored = v && json_object_is_type(v, json_type_boolean) &&
	    !json_object_get_boolean(v);
	r->forced_by = lr_jstr(o, "forced_by");
	r->has_bayes = lr_jnum(lr_jget(o, "bayes"), "probability", &r->bayes) &&
	    r->bayes >= 0 && r->bayes <= 1;
	r->dkim_aligned = aligned(lr_jget(o, "dmarc"), "dkim");
	r->spf_aligned = aligned(lr_jget(o, "dmarc"), "spf");
	r->dmarc_override = lr_jstr(lr_jget(o, "dmarc"), "override");
	r->arc_oldest_pass = r->auth[LR_ARC] == LR_AUTH_PASS ?
	    oldest_pass(lr_jget(o, "arc")) : -1;
	v = lr_jget(lr_jget(o, "arc"), "sealers");
	r->arc_sealers = v && json_object_is_type(v, json_type_array) ? v :
	    NULL;
}

bool
lr_domain(const char *addr, char *out, size_t n)
{
	const char *lt, *at, *end;
	size_t len, i;

	out[0] = '\0';
	if (addr == NULL)
		return false;
	/* the address is inside the last <...> if there is one */
	if ((lt = strrchr(addr, '<')) != NULL) {
		addr = lt + 1;
		end = strchr(addr, '>');
		if (end == NULL)
			end = addr + strlen(addr);
	} else
		end = addr + strlen(addr);
	at = NULL;
	for (const char *p = addr; p < end; p++)
		if (*p == '@')
			at = p;
	if (at == NULL)
		return false;
	at++;
	while (end > at && (ch_is_space((unsigned char)end[-1]) ||
	    end[-1] == '.'))
		end--;
	len = (size_t)(end - at);
	if (len == 0 || len >= n)
		return false;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)at[i];

		if (c < 0x21 || c == '<' || c == '>' || c == '@') {
			out[0] = '\0';
			return false;
		}
		out[i] = (char)ch_lower(c);
	}
	out[len] = '\0';
	return true;
}

/* is_bidi - Unicode bidirectional formatting characters (Trojan Source) */
static bool
is_bidi(uint32_t cp)
{
	return (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 &&
	    cp <= 0x2069) || cp == 0x200E || cp == 0x200F || cp == 0x061C;
}

void
lr_safe(struct buf *out, const char *s, size_t n, size_t max)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, lim = n < max ? n : max;
	uint32_t cp;
	int k;

	while (i < lim) {
		unsigned char c = p[i];

		if (c >= 0x20 && c < 0x7f && c != '\\') {
			buf_addc(out, (char)c);
			i++;
			continue;
		}
		if (c == '\\') {
			buf_add(out, "\\\\", 2);
			i++;
			continue;
		}
		k = c >= 0x80 ? utf8_next(p + i, n - i, &cp) : -1;
		if (k > 0 && cp >= 0xA0 && !is_bidi(cp) && cp != 0x2028 &&
		    cp != 0x2029) {
			buf_add(out, p + i, (size_t)k);
			i += (size_t)k;
		} else if (k > 0) {
			buf_printf(out, "\\u{%04x}", (unsigned)cp);
			i += (size_t)k;
		} else {
			char e[4] = { '\\', 'x', hex[c >> 4], hex[c & 15] };

			buf_add(out, e, 4);
			i++;
		}
	}
	if (lim < n)
		buf_add(out, "...", 3);
}

void
lr_safes(struct buf *out, const char *s, size_t max)
{
	if (s == NULL)
		buf_addc(out, '-');
	else
		lr_safe(out, s, strlen(s), max);
}

void
lr_html(struct buf *out, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;
	uint32_t cp;
	int k;

	while (i < n) {
		unsigned char c = p[i];

		switch (c) {
		case '&': buf_adds(out, "&amp;"); i++; continue;
		case '<': buf_adds(out, "&lt;"); i++; continue;
		case '>': buf_adds(out, "&gt;"); i++; continue;
		case '"': buf_adds(out, "&quot;"); i++; continue;
		case '\'': buf_adds(out, "&#39;"); i++; continue;
		case '\n': case '\t': buf_addc(out, (char)c); i++; continue;
		}
		if (c >= 0x20 && c < 0x7f) {
			buf_addc(out, (char)c);
			i++;
			continue;
		}
		k = c >= 0x80 ? utf8_next(p + i, n - i, &cp) : -1;
		if (k > 0 && is_bidi(cp)) {
			/* shown, not obeyed: text cannot reorder the page */
			buf_printf(out, "\\u{%04x}", (unsigned)cp);
			i += (size_t)k;
		} else if (k > 0 && cp >= 0xA0) {
			buf_add(out, p + i, (size_t)k);
			i += (size_t)k;
		} else {
			buf_adds(out, "\xef\xbf\xbd");
			i += k > 0 ? (size_t)k : k < 0 ? (size_t)-k : 1;
		}
	}
}

void
lr_htmls(struct buf *out, const char *s)
{
	if (s)
		lr_html(out, s, strlen(s));
}
