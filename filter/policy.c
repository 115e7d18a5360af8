/*
 * policy.c - rate limits, greylisting and spam-trap clients (policy.h)
 *
 * DESCRIPTION
 *	policy_end() runs after verdict_decide() in the milter's scans: a
 *	rate limit first (one read of every counter the message touches,
 *	then one write when it passes), then greylisting (one read of the
 *	triplets and of the client network's passes, writes for what
 *	changed).  Each decision is a 451 4.7.1 set on the verdict
 *	directly: it also holds for trusted, unscored mail, which
 *	verdict_decide() always accepts.
 *
 * SECURITY
 *	Senders, recipients and AUTH names are untrusted: they go into
 *	store keys only through policy_id() (printable, bounded, else
 *	hashed) and into the greylisting hash.  Values read back are
 *	numbers the backends decode with bounds.
 */
#include "config.h"

#include <openssl/evp.h>
#include <sys/socket.h>

#include <ctype.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "conf.h"
#include "dkim.h"
#include "engine.h"
#include "json.h"
#include "log.h"
#include "msg.h"
#include "netaddr.h"
#include "policy.h"
#include "pstore.h"
#include "scan.h"
#include "scan_steps.h"
#include "str.h"
#include "verdict.h"

#define ID_MAX		64		/* longer IDs are hashed */
#define GREY_RCPTS	50		/* triplets looked at per message */
#define NKEYS_MAX	(4 * RATELIMIT_MAX_ITEMS * 2 + 1)

/* ---------------------------------------------------------------- */
/* limit items */

int
ratelimit_parse_item(const char *v, struct rl_item *it, struct buf *why)
{
	const char *slash, *p = v;
	char num[16], *end;
	uint64_t n, w, mult = 1;
	size_t len;

	memset(it, 0, sizeof(*it));
	if (strncmp(p, "rcpt:", 5) == 0) {
		it->rcpts = true;
		p += 5;
	}
	if ((slash = strchr(p, '/')) == NULL ||
	    (len = (size_t)(slash - p)) == 0 || len >= sizeof(num))
		goto bad;
	memcpy(num, p, len);
	num[len] = '\0';
	if (parse_uint(num, 1, 1000000000, &n) < 0)
		goto bad;
	p = slash + 1;
	len = strlen(p);
	if (len == 0 || len >= sizeof(num))
		goto bad;
	memcpy(num, p, len + 1);
	end = num + len - 1;
	switch (*end) {
	case 's': mult = 1; *end = '\0'; break;
	case 'm': mult = 60; *end = '\0'; break;
	case 'h': mult = 3600; *end = '\0'; break;
	case 'd': mult = 86400; *end = '\0'; break;
	default: break;
	}
	if (parse_uint(num, 1, 366 * 86400, &w) < 0 || w * mult > 366 * 86400)
		goto bad;
	it->count = (uint32_t)n;
	it->window = (uint32_t)(w * mult);
	return 0;
bad:
	buf_adds(why, "expected COUNT/WINDOW or rcpt:COUNT/WINDOW, COUNT "
	    "1 to 1000000000, WINDOW up to 366d with unit s, m, h or d "
	    "(100/1h)");
	return -1;
}

int
ratelimit_check_item(const char *v, struct buf *why)
{
	struct rl_item it;

	return ratelimit_parse_item(v, &it, why);
}

void
ratelimit_window_text(uint32_t w, struct buf *out)
{
	if (w % 86400 == 0)
		buf_printf(out, "%ud", w / 86400);
	else if (w % 3600 == 0)
		buf_printf(out, "%uh", w / 3600);
	else if (w % 60 == 0)
		buf_printf(out, "%um", w / 60);
	else
		buf_printf(out, "%us", w);
}

void
ratelimit_item_text(const struct rl_item *it, struct buf *out)
{
	buf_printf(out, "%u %s per ", it->count, it->rcpts ? "recipients" :
	    "messages");
	ratelimit_window_text(it->window, out);
}

double
ratelimit_estimate(uint64_t cur, uint64_t prev, uint32_t window, time_t now)
{
	double into = (double)((uint64_t)now % window) / (double)window;

	return (double)cur + (double)prev * (1.0 - into);
}

/* ---------------------------------------------------------------- */
/* configuration */

static const char *const limit_keys[] = {
	"ratelimit_user", "ratelimit_client", "ratelimit_sender_domain",
	"ratelimit_user_block"
};

static const struct strlist *
limit_list(const struct conf *c, size_t i)
{
	switch (i) {
	case 0: return &c->ratelimit_user;
	case 1: return &c->ratelimit_client;
	case 2: return &c->ratelimit_sender_domain;
	default: return &c->ratelimit_user_block;
	}
}

int
policy_check_conf(const struct conf *c, struct buf *why)
{
	const char *need = NULL;
	size_t i;

	for (i = 0; i < 4; i++) {
		if (limit_list(c, i)->n > RATELIMIT_MAX_ITEMS) {
			buf_newline(why);
			conf_where(c, limit_keys[i], why);
			buf_printf(why, "at most %d items", RATELIMIT_MAX_ITEMS);
			return -1;
		}
		if (limit_list(c, i)->n && need == NULL)
			need = limit_keys[i];
	}
	if (c->greylist && need == NULL)
		need = "greylist";
	if (need && c->policy_store[0] == '\0') {
		buf_newline(why);
		conf_where(c, need, why);
		buf_adds(why, "needs policy_store (a directory or a Redis URL)");
		return -1;
	}
	if (c->policy_store[0] && !pstore_is_redis(c->policy_store) &&
	    strcmp(c->policy_store, c->bayes_store) == 0) {
		buf_newline(why);
		conf_where(c, "policy_store", why);
		buf_adds(why, "must not be the directory of bayes_store");
		return -1;
	}
	return 0;
}

bool
policy_wanted(const struct conf *c)
{
	return c->greylist || c->ratelimit_user.n || c->ratelimit_client.n ||
	    c->ratelimit_sender_domain.n || c->ratelimit_user_block.n;
}

/* ---------------------------------------------------------------- */
/* keys */

static void
sha256_hex(const void *p, size_t n, size_t bytes, struct buf *out)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	size_t i;

	if (EVP_Digest(p, n, md, &mdlen, EVP_sha256(), NULL) != 1)
		mdlen = 0;	/* cannot happen; an empty hash then */
	for (i = 0; i < bytes && i < mdlen; i++)
		buf_printf(out, "%02x", md[i]);
}

void
policy_id(const char *s, struct buf *out)
{
	size_t n = strlen(s), i;
	bool plain = n > 0 && n <= ID_MAX;

	for (i = 0; plain && i < n; i++)
		if (!ch_is_vchar((unsigned char)s[i]))
			plain = false;
	if (plain) {
		buf_add(out, s, n);
		return;
	}
	buf_addc(out, '#');
	sha256_hex(s, n, 16, out);
}

int
policy_counter_key(const char *key, struct policy_ctr_key *c)
{
	const char *p;
	char num[24];
	uint64_t w, b;
	size_t n;
	int i;

	memset(c, 0, sizeof(*c));
	if (strncmp(key, "r:", 2) != 0 || strchr("ucsb", key[2]) == NULL ||
	    key[2] == '\0' || key[3] != ':' || (key[4] != 'm' &&
	    key[4] != 'r') || key[5] != ':')
		return -1;
	c->kind = key[2];
	c->type = key[4];
	p = key + 6;
	for (i = 0; i < 2; i++) {	/* window, bucket */
		n = strspn(p, "0123456789");
		if (n == 0 || n >= sizeof(num) || p[n] != ':')
			return -1;
		memcpy(num, p, n);
		num[n] = '\0';
		if (parse_uint(num, i ? 0 : 1, i ? UINT64_MAX : 366 * 86400,
		    i ? &b : &w) < 0)
			return -1;
		p += n + 1;
	}
	if (*p == '\0')
		return -1;
	c->window = (uint32_t)w;
	c->bucket = b;
	c->id = p;
	return 0;
}

/* client_net - "192.0.2.0/24" or "2001:db8::/64"; false without one */
static bool
client_net(const struct msg *m, struct buf *out)
{
	struct netaddr na = m->client_addr;
	char ip[NETADDR_STRLEN];

	if (na.family == AF_INET) {
		na.a[3] = 0;
		netaddr_format(&na, ip, sizeof(ip));
		buf_printf(out, "%s/24", ip);
		return true;
	}
	if (na.family == AF_INET6) {
		memset(na.a + 8, 0, 8);
		netaddr_format(&na, ip, sizeof(ip));
		buf_printf(out, "%s/64", ip);
		return true;
	}
	return false;
}

/* sender_domain - the MAIL FROM domain, lower case; NULL if none */
static const char *
sender_domain(const struct msg *m, char *out, size_t cap)
{
	const char *at;

	if (m->mail_from == NULL || (at = strrchr(m->mail_from, '@')) == NULL ||
	    at[1] == '\0')
		return NULL;
	snprintf(out, cap, "%s", at + 1);
	str_lower(out);
	return out;
}

/* ---------------------------------------------------------------- */
/* outcome */

struct run {
	struct pstore *st;
	time_t	 now;
	bool	 degraded;
	bool	 touched;		/* a store call worked */
	struct buf why;			/* of a store failure */
	const char *ratelimit;		/* the log's words */
	const char *greylist;
	struct buf limit;		/* the item that was over */
	/* the counters a message that is taken adds to */
	char	*add_keys[4 * RATELIMIT_MAX_ITEMS];
	uint64_t add[4 * RATELIMIT_MAX_ITEMS];
	unsigned ttl[4 * RATELIMIT_MAX_ITEMS];
	size_t	 nadd;
};

/* warn_failed - a store failure, said at most once a minute */
static void
warn_failed(time_t now, const struct buf *why)
{
	static _Atomic time_t last_warn;
	time_t last = atomic_load(&last_warn);

	if (now - last >= 60 &&
	    atomic_compare_exchange_strong(&last_warn, &last, now))
		log_warn("policy store: %s; its checks skipped for now",
		    buf_cstr(why));
}

/* store_failed - a store call did not complete: degrade, say so */
static void
store_failed(struct run *r)
{
	r->degraded = true;
	warn_failed(r->now, &r->why);
}

/* defer - 451 4.7.1 with text, symbol sym; the message is not taken */
static void
defer(struct scan *s, const char *sym, const char *text)
{
	struct verdict *v = &s->verdict;

	scan_emit(s, sym, "%s", text);
	verdict_force_code(v, FORCE_DEFER, ACTION_TEMPFAIL, "4.7.1", sym, "%s",
	    text);
	v->action = ACTION_TEMPFAIL;
	memcpy(v->smtp_code, "451", 4);
	memcpy(v->smtp_xcode, "4.7.1", 6);
	free(v->reply_text);
	v->reply_text = xstrdup(text);
}

/* ---------------------------------------------------------------- */
/* rate limits */

struct subject {
	char	 kind;			/* u c s b */
	const char *what;		/* "user", "client", "sender domain" */
	const char *sym;
	const struct strlist *items;
	const char *id;			/* policy_id() */
};

struct counter {
	const struct subject *sub;
	struct rl_item it;
	uint64_t add;
};

/* add_subject - the counters of one subject: keys cur, prev for each */
static void
add_subject(const struct subject *sub, uint64_t nrcpts, time_t now,
    struct counter *ctr, size_t *nctr, char (*keys)[PSTORE_KEY_MAX + 1],
    size_t *nkeys)
{
	struct buf e = BUF_INIT;
	size_t i;

	for (i = 0; i < sub->items->n && *nctr < 4 * RATELIMIT_MAX_ITEMS;
	    i++) {
		struct counter *c = &ctr[*nctr];
		uint64_t b;

		if (ratelimit_parse_item(sub->items->v[i], &c->it, &e) < 0)
			continue;	/* conf.c checked it */
		c->sub = sub;
		c->add = c->it.rcpts ? nrcpts : 1;
		b = (uint64_t)now / c->it.window;
		snprintf(keys[*nkeys], PSTORE_KEY_MAX + 1, "r:%c:%c:%u:%llu:%s",
		    sub->kind, c->it.rcpts ? 'r' : 'm', c->it.window,
		    (unsigned long long)b, sub->id);
		snprintf(keys[*nkeys + 1], PSTORE_KEY_MAX + 1,
		    "r:%c:%c:%u:%llu:%s", sub->kind, c->it.rcpts ? 'r' : 'm',
		    c->it.window, (unsigned long long)(b - 1), sub->id);
		*nkeys += 2;
		(*nctr)++;
	}
	buf_release(&e);
}

/* over - the sentence of the reply */
static void
over_text(const struct counter *c, struct buf *out)
{
	buf_printf(out, "Too much mail from this %s (limit ", c->sub->what);
	ratelimit_item_text(&c->it, out);
	buf_adds(out, "); try again later");
}

/*
 * ratelimits - true when the message was deferred.  Keys: the block
 * record first (when a block limit applies), then two per counter.
 */
static bool
ratelimits(struct scan *s, struct run *r)
{
	const struct conf *c = s->eng->conf;
	const struct msg *m = s->msg;
	struct subject subs[4];
	struct counter ctr[4 * RATELIMIT_MAX_ITEMS];
	char (*keys)[PSTORE_KEY_MAX + 1], dom[256];
	const char *kp[NKEYS_MAX];
	uint64_t vals[NKEYS_MAX];
	struct buf ids[3] = { BUF_INIT, BUF_INIT, BUF_INIT };
	size_t nsub = 0, nctr = 0, nkeys = 0, i, first;
	uint64_t nrcpts = m->nrcpts_seen ? m->nrcpts_seen : 1;
	bool block = false, deferred = false;

	if (m->auth_user && m->auth_user[0]) {
		policy_id(m->auth_user, &ids[0]);
		if (c->ratelimit_user.n)
			subs[nsub++] = (struct subject){ 'u', "user",
			    "MW_RATELIMIT_USER", &c->ratelimit_user,
			    buf_cstr(&ids[0]) };
		if (c->ratelimit_user_block.n) {
			subs[nsub++] = (struct subject){ 'b', "user",
			    "MW_RATELIMIT_BLOCKED", &c->ratelimit_user_block,
			    buf_cstr(&ids[0]) };
			block = true;
		}
	}
	if (c->ratelimit_client.n && m->client_ip[0]) {
		policy_id(m->client_ip, &ids[1]);
		subs[nsub++] = (struct subject){ 'c', "client",
		    "MW_RATELIMIT_CLIENT", &c->ratelimit_client,
		    buf_cstr(&ids[1]) };
	}
	if (c->ratelimit_sender_domain.n &&
	    sender_domain(m, dom, sizeof(dom))) {
		policy_id(dom, &ids[2]);
		subs[nsub++] = (struct subject){ 's', "sender domain",
		    "MW_RATELIMIT_SENDER_DOMAIN", &c->ratelimit_sender_domain,
		    buf_cstr(&ids[2]) };
	}
	if (nsub == 0) {
		r->ratelimit = "none";
		goto out;
	}
	keys = xcalloc(NKEYS_MAX, sizeof(*keys));
	if (block)
		snprintf(keys[nkeys++], PSTORE_KEY_MAX + 1, "b:%s",
		    buf_cstr(&ids[0]));
	first = nkeys;
	for (i = 0; i < nsub; i++)
		add_subject(&subs[i], nrcpts, r->now, ctr, &nctr, keys, &nkeys);
	for (i = 0; i < nkeys; i++)
		kp[i] = keys[i];
	if (pstore_get(r->st, kp, nkeys, r->now, vals, &r->why) !=
	    PSTORE_OK) {
		store_failed(r);
		r->ratelimit = "degraded";
		goto done;
	}
	r->touched = true;
	if (block && vals[0]) {
		r->ratelimit = "blocked";
		defer(s, "MW_RATELIMIT_BLOCKED", "This user may not send mail "
		    "until the postmaster clears a rate limit block");
		deferred = true;
		goto done;
	}
	for (i = 0; i < nctr; i++) {
		const struct counter *k = &ctr[i];
		double est = ratelimit_estimate(vals[first + 2 * i],
		    vals[first + 2 * i + 1], k->it.window, r->now);

		if (est + (double)k->add <= (double)k->it.count)
			continue;
		r->ratelimit = k->sub->kind == 'b' ? "blocked" : "over";
		buf_printf(&r->limit, "%s ", k->sub->kind == 'b' ?
		    "user_block" : k->sub->kind == 'u' ? "user" :
		    k->sub->kind == 'c' ? "client" : "sender_domain");
		ratelimit_item_text(&k->it, &r->limit);
		if (k->sub->kind == 'b') {
			if (pstore_set(r->st, keys[0], (uint64_t)r->now, 0,
			    r->now, &r->why) != PSTORE_OK)
				store_failed(r);
			log_warn("rate limit: user %s blocked (%s); clear with "
			    "mailwarden ratelimit clear user", k->sub->id,
			    buf_cstr(&r->limit));
			defer(s, "MW_RATELIMIT_BLOCKED", "This user may not "
			    "send mail until the postmaster clears a rate "
			    "limit block");
		} else {
			struct buf t = BUF_INIT;

			over_text(k, &t);
			defer(s, k->sub->sym, buf_cstr(&t));
			buf_release(&t);
		}
		deferred = true;
		goto done;
	}
	/* within every limit: counted in the current windows by
	   count_message() unless greylisting defers it */
	for (i = 0; i < nctr; i++) {
		r->add_keys[i] = xstrdup(keys[first + 2 * i]);
		r->add[i] = ctr[i].add;
		r->ttl[i] = 2 * ctr[i].it.window;
	}
	r->nadd = nctr;
	r->ratelimit = "ok";
done:
	free(keys);
out:
	for (i = 0; i < 3; i++)
		buf_release(&ids[i]);
	return deferred;
}

/* count_message - the counts of a message that is taken */
static void
count_message(struct run *r)
{
	if (r->nadd && pstore_add(r->st, (const char *const *)r->add_keys,
	    r->nadd, r->add, r->ttl, r->now, &r->why) != PSTORE_OK) {
		store_failed(r);
		r->ratelimit = "degraded";
	}
}

/* ---------------------------------------------------------------- */
/* greylisting */

/* dkim_allowed - a valid signature of a greylist_allow_domains domain */
static const char *
dkim_allowed(const struct scan *s)
{
	const struct strlist *l = &s->eng->conf->greylist_allow_domains;
	const struct dkim_sigresult *r;
	size_t i, j, n;

	if (l->n == 0 || s->dkim == NULL)
		return NULL;
	n = dkim_scan_results(s, &r);
	for (i = 0; i < n; i++) {
		size_t dl;

		if (r[i].result != DKIM_PASS || r[i].domain == NULL)
			continue;
		dl = strlen(r[i].domain);
		for (j = 0; j < l->n; j++) {
			size_t ll = strlen(l->v[j]);

			if (str_ieq(r[i].domain, l->v[j]) || (dl > ll &&
			    r[i].domain[dl - ll - 1] == '.' &&
			    str_ieq(r[i].domain + dl - ll, l->v[j])))
				return r[i].domain;
		}
	}
	return NULL;
}

/* triplet_key - "g:" and a hash of network, sender and recipient */
static void
triplet_key(const char *net, const char *from, const char *rcpt,
    char *out, size_t cap)
{
	struct buf t = BUF_INIT, h = BUF_INIT;

	buf_adds(&t, net);
	buf_addc(&t, '\0');
	buf_adds(&t, from ? from : "");
	buf_addc(&t, '\0');
	buf_adds(&t, rcpt);
	for (size_t i = 0; i < t.len; i++)
		t.data[i] = (char)tolower((unsigned char)t.data[i]);
	sha256_hex(t.data, t.len, 16, &h);
	snprintf(out, cap, "g:%s", buf_cstr(&h));
	buf_release(&t);
	buf_release(&h);
}

/* grey_allowed - why the message is not greylisted, or NULL */
static const char *
grey_allowed(const struct scan *s)
{
	const struct conf *c = s->eng->conf;
	const struct verdict *v = &s->verdict;

	if (!c->greylist)
		return "off";
	if (s->trusted || !v->scored)
		return "trusted";
	if (v->force_prio == FORCE_ALLOW)
		return "allowlist";
	if (v->action != ACTION_ACCEPT || v->score >= c->tag_score)
		return "above band";
	if (v->score < c->greylist_score)
		return "below band";
	if (dkim_allowed(s))
		return "dkim domain";
	if (s->msg->nrcpts == 0)
		return "no recipient";
	return NULL;
}

static bool
greylist(struct scan *s, struct run *r)
{
	const struct conf *c = s->eng->conf;
	const struct msg *m = s->msg;
	size_t n = m->nrcpts < GREY_RCPTS ? m->nrcpts : GREY_RCPTS, i;
	char (*keys)[PSTORE_KEY_MAX + 1];
	const char *kp[GREY_RCPTS + 1];
	uint64_t vals[GREY_RCPTS + 1], one = 1;
	unsigned pass_ttl = (unsigned)c->greylist_pass_expire;
	struct buf net = BUF_INIT;
	size_t newer = 0, early = 0, passed = 0;
	bool failed = false;

	if ((r->greylist = grey_allowed(s)) != NULL)
		return false;
	if (!client_net(m, &net)) {
		r->greylist = "no client address";
		return false;
	}
	keys = xcalloc(n + 1, sizeof(*keys));
	snprintf(keys[0], PSTORE_KEY_MAX + 1, "gc:%s", buf_cstr(&net));
	for (i = 0; i < n; i++)
		triplet_key(buf_cstr(&net), m->mail_from, m->rcpts[i],
		    keys[i + 1], PSTORE_KEY_MAX + 1);
	for (i = 0; i <= n; i++)
		kp[i] = keys[i];
	if (pstore_get(r->st, kp, n + 1, r->now, vals, &r->why) != PSTORE_OK) {
		failed = true;
		goto out;
	}
	r->touched = true;
	if (c->greylist_allow_after && vals[0] >= c->greylist_allow_after) {
		r->greylist = "client passed before";
		goto out;
	}
	for (i = 1; i <= n && !failed; i++) {
		uint64_t v = vals[i];

		if (v == 0) {			/* first try */
			newer++;
			failed = pstore_set(r->st, keys[i], (uint64_t)r->now,
			    (unsigned)c->greylist_expire, r->now, &r->why) !=
			    PSTORE_OK;
		} else if (v != 1 && (v > (uint64_t)r->now ||
		    (uint64_t)r->now - v < c->greylist_delay))
			early++;		/* retried too soon (or a first
						   try in the future: another
						   host's clock, or garbage) */
		else {				/* passes, or passed before */
			if (v != 1)
				passed++;
			failed = pstore_set(r->st, keys[i], 1, pass_ttl, r->now,
			    &r->why) != PSTORE_OK;
		}
	}
	if (!failed && passed && newer + early == 0)
		failed = pstore_add(r->st, kp, 1, &one, &pass_ttl, r->now,
		    &r->why) != PSTORE_OK;
	if (failed)
		goto out;
	if (newer + early) {
		r->greylist = newer ? "new" : "early";
		defer(s, "MW_GREYLIST", "Greylisted: please try again later");
	} else
		r->greylist = passed ? "passed" : "known";
out:
	if (failed) {
		store_failed(r);
		r->greylist = "degraded";
	}
	free(keys);
	buf_release(&net);
	return !failed && newer + early > 0;
}

/* ---------------------------------------------------------------- */
/* spam-trap clients */

/* trap_key - "t:" and the ID of the client address */
static void
trap_key(const char *ip, struct buf *key)
{
	buf_adds(key, "t:");
	policy_id(ip, key);
}

void
step_trap_end(struct scan *s, void *state)
{
	const struct engine *root = s->eng->root ? s->eng->root : s->eng;
	const struct conf *c = s->eng->conf;
	const struct msg *m = s->msg;
	struct buf why = BUF_INIT, key = BUF_INIT;
	struct pstore *st;
	uint64_t hits = 0;
	const char *kp;

	(void)state;
	if (!s->live || root->read_only || !root->traps || root->conf->policy_store[0] == '\0' ||
	    m->client_ip[0] == '\0')
		return;
	trap_key(m->client_ip, &key);
	kp = buf_cstr(&key);
	if ((st = engine_pstore(s->eng, &why)) == NULL ||
	    pstore_get(st, &kp, 1, s->now, &hits, &why) != PSTORE_OK) {
		s->trap_client = "degraded";
		s->pstore_state = -1;
		warn_failed(s->now, &why);
	} else if (hits == 0) {
		s->trap_client = "no";
		s->pstore_state = 1;
	} else {
		s->pstore_state = 1;
		s->trap_client = "listed";
		scan_emit(s, "MW_TRAP_CLIENT", "%llu spam-trap hit(s)",
		    (unsigned long long)hits);
		if (str_ieq(c->trap_client_action, "tempfail"))
			verdict_force_code(&s->verdict, FORCE_POLICY_REJECT,
			    ACTION_TEMPFAIL, "4.7.1", "MW_TRAP_CLIENT", "this "
			    "client sent mail to a spam trap");
		else if (str_ieq(c->trap_client_action, "reject"))
			verdict_force_code(&s->verdict, FORCE_POLICY_REJECT,
			    ACTION_REJECT, "5.7.1", "MW_TRAP_CLIENT", "Mail from "
			    "this client is refused: it sent mail to a spam "
			    "trap");
	}
	buf_release(&why);
	buf_release(&key);
}

/* ---------------------------------------------------------------- */

void
policy_end(struct scan *s)
{
	struct verdict *v = &s->verdict;
	struct run r;
	struct buf *j;
	bool wanted;

	if (!s->live || engine_read_only(s->eng) || v->untouched)
		return;
	wanted = policy_wanted(s->eng->conf);
	if (!wanted && s->trap_client == NULL)
		return;
	memset(&r, 0, sizeof(r));
	r.now = s->now;
	r.ratelimit = r.greylist = "skipped";
	if (!wanted) {
		r.ratelimit = "none";
		r.greylist = "off";
	} else if (v->action == ACTION_ACCEPT || v->action == ACTION_TAG) {
		if ((r.st = engine_pstore(s->eng, &r.why)) == NULL) {
			store_failed(&r);
			r.ratelimit = r.greylist = "degraded";
		} else if (!ratelimits(s, &r) && !greylist(s, &r))
			count_message(&r);
	}
	while (r.nadd > 0)
		free(r.add_keys[--r.nadd]);
	verdict_output_declare(v, "policy", "{}");
	j = verdict_output(v, "policy");
	buf_reset(j);
	buf_addc(j, '{');
	json_key(j, "ratelimit", 1);
	json_cstr(j, r.ratelimit);
	if (r.limit.len) {
		json_key(j, "limit", 0);
		json_cstr(j, buf_cstr(&r.limit));
	}
	json_key(j, "greylist", 0);
	json_cstr(j, r.greylist);
	if (s->trap_client) {
		json_key(j, "trap_client", 0);
		json_cstr(j, s->trap_client);
		if (strcmp(s->trap_client, "degraded") == 0)
			r.degraded = true;
	}
	if (r.degraded) {
		json_key(j, "degraded", 0);
		buf_adds(j, "true");
	}
	buf_addc(j, '}');
	if (r.degraded)
		s->pstore_state = -1;
	else if (r.touched)
		s->pstore_state = 1;
	buf_release(&r.why);
	buf_release(&r.limit);
}

void
policy_trap_record(struct engine *eng, const struct msg *m)
{
	const struct conf *c = (eng->root ? eng->root : eng)->conf;
	struct buf why = BUF_INIT, key = BUF_INIT;
	struct pstore *st;
	uint64_t one = 1;
	unsigned ttl = (unsigned)c->trap_expire;
	const char *kp;

	if (c->policy_store[0] == '\0' || m->client_ip[0] == '\0' ||
	    engine_read_only(eng))
		return;
	if ((st = engine_pstore(eng, &why)) != NULL) {
		trap_key(m->client_ip, &key);
		kp = buf_cstr(&key);
		if (pstore_add(st, &kp, 1, &one, &ttl, time(NULL), &why) !=
		    PSTORE_OK)
			log_warn("policy store: spam-trap client %s not "
			    "recorded: %s", m->client_ip, buf_cstr(&why));
	} else
		log_warn("policy store: spam-trap client %s not recorded: %s",
		    m->client_ip, buf_cstr(&why));
	buf_release(&why);
	buf_release(&key);
}
