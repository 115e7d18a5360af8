/*
 * scope.c - policy scope files: parse, check, select
 *
 * DESCRIPTION
 *	A scope file has the syntax of the main file (conf.c reads its
 *	logical lines).  Its keys are the selectors and effects of scope.h
 *	and the overridable keys of the table below, which are set on a
 *	copy of the main configuration with the main file's own checks.
 *	symbol_scores adds to the main file's list (a later item for the
 *	same symbol wins) rather than replacing it.
 *
 *	scope_select() is pure: it reads the connection and envelope of a
 *	struct msg and the main configuration's trust settings.  The
 *	reachability checks of a whole set are in scope_reach.c.
 *
 * SECURITY
 *	Scope files are trusted like the main file; recipients, senders and
 *	AUTH names compared here are untrusted and are only compared.
 */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "files.h"
#include "msg.h"
#include "pstore.h"
#include "punycode.h"
#include "scope.h"
#include "scope_int.h"
#include "str.h"

/* the main configuration keys a scope may set (doc/scopes.md) */
static const char *const overridable[] = {
	"tag_score", "reject_score", "subject_tag",
	"spf", "spf_helo", "spf_fail_action", "spf_permerror_action",
	"spf_temperror_action",
	"dkim_verify", "dkim_partial_body",
	"dmarc", "dmarc_never_reject", "dmarc_quarantine_milter",
	"dmarc_allow_domains", "dmarc_from_missing_action",
	"dmarc_from_multiple_action", "dmarc_from_multi_author_action",
	"dmarc_from_invalid_action", "dmarc_temperror_action",
	"symbol_scores",
	"client_list", "sender_list", "helo_list", "welcomelist_auth",
	"dkim_allowlist",
	"ratelimit_user", "ratelimit_client", "ratelimit_sender_domain",
	"ratelimit_user_block", "greylist", "greylist_score",
	"trap_client_action", "bayes_store", "bayes_redis_prefix",
};

#define NOVERRIDABLE	(sizeof(overridable) / sizeof(overridable[0]))

/* is_overridable - may a scope set this main key? */
static bool
is_overridable(const char *key)
{
	size_t i;

	for (i = 0; i < NOVERRIDABLE; i++)
		if (strcmp(overridable[i], key) == 0)
			return true;
	return false;
}

/* is_main_key - a key of the main file's table? */
static bool
is_main_key(const char *key)
{
	size_t i;

	for (i = 0; i < conf_key_count(); i++)
		if (strcmp(conf_key_name(i), key) == 0)
			return true;
	return false;
}

static void
list_add(struct strlist *l, const char *s)
{
	l->v = xreallocarray(l->v, l->n + 1, sizeof(char *));
	l->v[l->n++] = xstrdup(s);
}

/* valid_domain - a host name (domain_to_alabel(): the one gate) */
static bool
valid_domain(const char *d)
{
	char out[DOMAIN_MAX + 1];

	return domain_to_alabel(d, strlen(d), out, sizeof(out)) == 0;
}

/* valid_rcpt - "local@domain" or "local@" */
static bool
valid_rcpt(const char *r)
{
	const char *at = strrchr(r, '@');
	const char *p;

	if (at == NULL || at == r)
		return false;
	for (p = r; p < at; p++)
		if (!ch_is_vchar((unsigned char)*p))
			return false;
	return at[1] == '\0' || valid_domain(at + 1);
}

/* valid_user - an AUTH identity: printable, no white space */
static bool
valid_user(const char *u)
{
	for (; *u; u++)
		if (!ch_is_vchar((unsigned char)*u))
			return false;
	return true;
}

enum sel_kind { SEL_RCPT, SEL_DOMAIN, SEL_USER, SEL_CLIENT, SEL_SENDER };

/* sel_item_ok - one selector value; a reason in why when bad */
static bool
sel_item_ok(enum sel_kind k, const char *v, struct cidr *c, struct buf *why)
{
	switch (k) {
	case SEL_RCPT:
		if (valid_rcpt(v))
			return true;
		buf_adds(why, "expected user@domain or local@");
		return false;
	case SEL_DOMAIN:
	case SEL_SENDER:
		if (valid_domain(v))
			return true;
		buf_adds(why, "expected a domain name");
		return false;
	case SEL_USER:
		if (valid_user(v))
			return true;
		buf_adds(why, "expected an AUTH identity or *");
		return false;
	case SEL_CLIENT:
		if (cidr_parse(v, c) == 0)
			return true;
		buf_adds(why, "not an address or network");
		return false;
	}
	return false;
}

static const struct {
	const char *key;
	enum sel_kind kind;
} selectors[] = {
	{ "recipients", SEL_RCPT },
	{ "recipient_domains", SEL_DOMAIN },
	{ "auth_users", SEL_USER },
	{ "clients", SEL_CLIENT },
	{ "sender_domains", SEL_SENDER },
};

#define NSELECTORS	(sizeof(selectors) / sizeof(selectors[0]))

_Static_assert(NSELECTORS == sizeof(((struct scope *)0)->sel_line) /
    sizeof(unsigned), "struct scope: one sel_line per selector");

/* the keys only a scope file has, for "did you mean" */
static const char *const scope_only_keys[] = {
	"recipients", "recipient_domains", "auth_users", "clients",
	"sender_domains", "outbound", "exempt", "reject_text", "rcpt_reject",
};

static const char *
scope_key_get(size_t i, void *arg)
{
	(void)arg;
	return scope_only_keys[i];
}

/* suggest_key - the scope key, else the main key, closest to key */
static const char *
suggest_key(const char *key)
{
	const char *near = str_suggest(key, scope_key_get,
	    sizeof(scope_only_keys) / sizeof(scope_only_keys[0]), NULL);

	return near ? near : conf_suggest_key(key);
}

/* sel_list - the list a selector kind fills (not clients) */
static struct strlist *
sel_list(struct scope *sc, enum sel_kind k)
{
	switch (k) {
	case SEL_RCPT:
		return &sc->rcpts;
	case SEL_DOMAIN:
		return &sc->rcpt_domains;
	case SEL_USER:
		return &sc->auth_users;
	case SEL_SENDER:
		return &sc->sender_domains;
	case SEL_CLIENT:
		break;
	}
	return NULL;
}

/*
 * set_selector - a selector line: every value checked (one error line
 * each); the kind replaces an earlier line of the same key
 */
static int
set_selector(struct scope *sc, enum sel_kind k, const char *val,
    const char *where, struct buf *why)
{
	struct strlist l = { NULL, 0 }, *dst;
	struct buf reason = BUF_INIT;
	char *copy = xstrdup(val), *tok, *save = NULL;
	struct cidr c;
	int rc = 0;

	for (tok = strtok_r(copy, " \t,", &save); tok;
	    tok = strtok_r(NULL, " \t,", &save)) {
		if (!sel_item_ok(k, tok, &c, &reason)) {
			buf_newline(why);
			buf_printf(why, "%sbad value '%.100s': %s", where, tok,
			    buf_cstr(&reason));
			buf_reset(&reason);
			rc = -1;
			continue;
		}
		if (k != SEL_CLIENT) {
			list_add(&l, tok);
			continue;
		}
		sc->clients = xreallocarray(sc->clients, sc->nclients + 1,
		    sizeof(c));
		sc->clients[sc->nclients++] = c;
	}
	free(copy);
	buf_release(&reason);
	if (rc == 0 && l.n == 0 && k != SEL_CLIENT) {
		buf_newline(why);
		buf_printf(why, "%sselects nothing: give at least one value",
		    where);
		rc = -1;
	}
	if ((dst = sel_list(sc, k)) != NULL) {
		strlist_free(dst);
		*dst = l;
	}
	return rc;
}

/* set_flag - outbound / exempt */
static int
set_flag(bool *f, const char *val, const char *where, struct buf *why)
{
	if (parse_bool(val, f) == 0)
		return 0;
	buf_newline(why);
	buf_printf(why, "%sbad value '%.100s': expected yes or no", where, val);
	return -1;
}

/* set_text - *dst = val, reply text: 1 to 200 printable ASCII */
static int
set_text(char **dst, const char *val, const char *where, struct buf *why)
{
	const char *p;

	for (p = val; *p; p++)
		if ((unsigned char)*p < 32 || (unsigned char)*p > 126)
			break;
	if (*p || *val == '\0' || strlen(val) > 200) {
		buf_newline(why);
		buf_printf(why, "%sexpected 1 to 200 printable ASCII characters",
		    where);
		return -1;
	}
	free(*dst);
	*dst = xstrdup(val);
	return 0;
}

/* valid_xcode - RFC 3463 "5.X.Y" of n bytes, 1-3 digits each part */
static bool
valid_xcode(const char *p, size_t n)
{
	size_t i, digits = 0, dots = 0;

	if (n < 5 || p[0] != '5' || p[1] != '.')
		return false;
	for (i = 2; i < n; i++) {
		if (ch_is_digit((unsigned char)p[i]) && ++digits <= 3)
			continue;
		if (p[i] != '.' || digits == 0 || ++dots > 1)
			return false;
		digits = 0;
	}
	return dots == 1 && digits > 0;
}

/* set_trap - rcpt_reject = "5XX 5.X.X text" */
static int
set_trap(struct scope *sc, const char *val, const char *where,
    struct buf *why)
{
	const char *x = val + 4, *text;

	if (!(val[0] == '5' && ch_is_digit((unsigned char)val[1]) &&
	    ch_is_digit((unsigned char)val[2]) && val[3] == ' ' &&
	    (text = strchr(x, ' ')) != NULL &&
	    valid_xcode(x, (size_t)(text - x)))) {
		buf_newline(why);
		buf_printf(why, "%sbad value '%.100s': expected a reply such "
		    "as '550 5.1.1 text' (5XX, 5.X.X, text)", where, val);
		return -1;
	}
	memcpy(sc->trap_xcode, x, (size_t)(text - x));
	sc->trap_xcode[text - x] = '\0';
	while (*text == ' ')
		text++;
	if (set_text(&sc->trap_text, text, where, why) < 0)
		return -1;
	memcpy(sc->trap_code, val, 3);
	sc->trap_code[3] = '\0';
	return 0;
}

/*
 * merge_scores - the scope's symbol_scores after the main file's, so
 * that a symbol the scope names takes the scope's score
 */
static void
merge_scores(struct conf *c, const struct conf *base)
{
	struct strlist l = { NULL, 0 };
	size_t i;

	for (i = 0; i < base->symbol_scores.n; i++)
		list_add(&l, base->symbol_scores.v[i]);
	for (i = 0; i < c->symbol_scores.n; i++)
		list_add(&l, c->symbol_scores.v[i]);
	strlist_free(&c->symbol_scores);
	c->symbol_scores = l;
}

/* scope_line - one "key = value" line of a scope file */
static int
scope_line(struct scope *sc, char *s, unsigned line, bool *scores,
    struct buf *why)
{
	struct buf where = BUF_INIT;
	char *eq = strchr(s, '='), *key, *val;
	const char *near;
	size_t i;
	int rc;

	if (eq == NULL) {
		buf_newline(why);
		buf_printf(why, "%s:%u: expected 'key = value': %.80s",
		    sc->path, line, s);
		return -1;
	}
	*eq = '\0';
	key = str_trim(s);
	val = str_trim(eq + 1);
	buf_printf(&where, "%s:%u: %.80s: ", sc->path, line, key);
	for (i = 0; i < NSELECTORS; i++)
		if (strcmp(key, selectors[i].key) == 0)
			break;
	if (i < NSELECTORS) {
		rc = set_selector(sc, selectors[i].kind, val, buf_cstr(&where),
		    why);
		sc->sel_line[i] = line;
	}
	else if (strcmp(key, "outbound") == 0)
		rc = set_flag(&sc->outbound, val, buf_cstr(&where), why);
	else if (strcmp(key, "exempt") == 0)
		rc = set_flag(&sc->exempt, val, buf_cstr(&where), why);
	else if (strcmp(key, "reject_text") == 0)
		rc = set_text(&sc->reject_text, val, buf_cstr(&where), why);
	else if (strcmp(key, "rcpt_reject") == 0)
		rc = set_trap(sc, val, buf_cstr(&where), why);
	else if (is_overridable(key)) {
		rc = conf_set(sc->conf, key, val, line, why);
		if (strcmp(key, "symbol_scores") == 0 && rc == 0)
			*scores = true;
	} else {
		buf_newline(why);
		buf_adds(why, buf_cstr(&where));
		if (is_main_key(key))
			buf_adds(why, "not settable in a scope (mailwarden.conf(5), "
			    "SCOPES, lists the keys that are)");
		else {
			buf_adds(why, "unknown key");
			if ((near = suggest_key(key)) != NULL)
				buf_printf(why, "; did you mean %s?", near);
		}
		rc = -1;
	}
	buf_release(&where);
	return rc;
}

/* has_selector - does the scope select anything at all? */
static bool
has_selector(const struct scope *sc)
{
	return sc->rcpts.n || sc->rcpt_domains.n || sc->auth_users.n ||
	    sc->nclients || sc->sender_domains.n || sc->outbound;
}

/* scope_finish - whole-file checks */
static int
scope_finish(struct scope *sc, const struct conf *base, bool scores,
    struct buf *why)
{
	int rc = 0;

	if (scores)
		merge_scores(sc->conf, base);
	if (!has_selector(sc)) {
		buf_newline(why);
		buf_printf(why, "%s: scope %s has no selector (recipients, "
		    "recipient_domains, auth_users, clients, sender_domains "
		    "or outbound)", sc->path, sc->name);
		rc = -1;
	}
	if (conf_key_line(sc->conf, "bayes_store") &&
	    sc->conf->bayes_store[0] && !pstore_is_redis(sc->conf->bayes_store) &&
	    strcmp(sc->conf->bayes_store, sc->conf->policy_store) == 0) {
		buf_newline(why);
		conf_where(sc->conf, "bayes_store", why);
		buf_adds(why, "must not be the directory of policy_store");
		rc = -1;
	}
	if (sc->conf->tag_score > sc->conf->reject_score) {
		buf_newline(why);
		conf_where(sc->conf, conf_key_line(sc->conf, "tag_score") ?
		    "tag_score" : "reject_score", why);
		buf_printf(why, "tag_score %g must not exceed reject_score %g "
		    "(the scope's values, or the main file's where the scope "
		    "sets none)", sc->conf->tag_score, sc->conf->reject_score);
		rc = -1;
	}
	return rc;
}

/* valid_name - a scope name: what the log and --scope can carry */
static bool
valid_name(const char *n)
{
	size_t i;

	for (i = 0; n[i]; i++)
		if (!ch_is_alnum((unsigned char)n[i]) && !strchr("_.-", n[i]))
			return false;
	return i > 0 && i <= SCOPE_NAME_MAX;
}

unsigned
scope_sel_line(const struct scope *sc, const char *key)
{
	size_t i;

	for (i = 0; i < NSELECTORS; i++)
		if (strcmp(selectors[i].key, key) == 0)
			return sc->sel_line[i];
	return 0;
}

int
scope_parse(const char *text, size_t len, const char *path, const char *name,
    const struct conf *base, struct scope *sc, struct buf *why)
{
	struct buf line = BUF_INIT;
	const char *p = text, *end = text + len;
	unsigned lineno = 0, start = 0;
	bool scores = false;
	int rc = 0;

	memset(sc, 0, sizeof(*sc));
	sc->name = xstrdup(name);
	sc->path = xstrdup(path);
	sc->conf = conf_clone(base, path);
	if (!valid_name(name)) {
		buf_newline(why);
		buf_printf(why, "%s: scope name '%.80s' must be 1 to %d letters, "
		    "digits or _ . -", path, name, SCOPE_NAME_MAX);
		rc = -1;
	}
	if (memchr(text, '\0', len) != NULL) {
		buf_newline(why);
		buf_printf(why, "%s: file contains a NUL byte", path);
		rc = -1;
		p = end;
	}
	while (conf_next_line(&p, end, &line, &lineno, &start))
		if (scope_line(sc, str_trim(line.data), start, &scores,
		    why) < 0)
			rc = -1;
	buf_release(&line);
	if (scope_finish(sc, base, scores, why) < 0)
		rc = -1;
	if (rc < 0)
		scope_release(sc);
	return rc;
}

void
scope_release(struct scope *sc)
{
	free(sc->name);
	free(sc->path);
	strlist_free(&sc->rcpts);
	strlist_free(&sc->rcpt_domains);
	strlist_free(&sc->auth_users);
	strlist_free(&sc->sender_domains);
	free(sc->clients);
	free(sc->reject_text);
	free(sc->trap_text);
	conf_free(sc->conf);
	memset(sc, 0, sizeof(*sc));
}

void
scope_set_release(struct scope_set *set)
{
	size_t i;

	for (i = 0; i < set->n; i++)
		scope_release(&set->v[i]);
	free(set->v);
	memset(set, 0, sizeof(*set));
}

/* load_file - one scope file into the set */
static int
load_file(const struct conf *base, const char *dir, const char *file,
    struct scope_set *set, struct buf *why)
{
	struct buf text = BUF_INIT, path = BUF_INIT, reason = BUF_INIT;
	struct scope sc;
	char *name = xstrndup(file, strlen(file) - strlen(".conf"));
	int rc = -1;

	buf_printf(&path, "%s/%s", dir, file);
	if (files_read(buf_cstr(&path), 1024 * 1024, &text, &reason) < 0) {
		buf_newline(why);
		buf_printf(why, "%s", buf_cstr(&reason));
	} else if (scope_parse(text.data ? text.data : "", text.len,
	    buf_cstr(&path), name, base, &sc, why) == 0) {
		set->v = xreallocarray(set->v, set->n + 1, sizeof(sc));
		set->v[set->n++] = sc;
		set->by_rcpt |= sc.rcpts.n || sc.rcpt_domains.n ||
		    sc.trap_code[0];
		rc = 0;
	}
	free(name);
	buf_release(&text);
	buf_release(&path);
	buf_release(&reason);
	return rc;
}

int
scope_load(const struct conf *base, struct scope_set *set, struct buf *why)
{
	const char *dir = base->scope_dir;
	char **names = NULL;
	size_t n = 0, i;
	int rc = 0;

	memset(set, 0, sizeof(*set));
	if (dir[0] == '\0')
		return 0;
	if (files_list(dir, ".conf", &names, &n) < 0) {
		if (errno == ENOENT && strcmp(dir, MW_DEFAULT_SCOPE_DIR) == 0)
			return 0;	/* the default, nothing installed */
		buf_newline(why);
		conf_where(base, "scope_dir", why);
		buf_printf(why, "%s: %s", dir, strerror(errno));
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (load_file(base, dir, names[i], set, why) < 0)
			rc = -1;
		free(names[i]);
	}
	free(names);
	if (scope_check_reach(set, why) < 0)
		rc = -1;
	if (rc < 0)
		scope_set_release(set);
	return rc;
}

/* domain_covers - is d the domain a or one of its subdomains? */
static bool
domain_covers(const char *a, const char *d)
{
	size_t la = strlen(a), ld = strlen(d);

	if (la && a[la - 1] == '.')
		la--;
	if (ld && d[ld - 1] == '.')
		ld--;
	if (ld == la)
		return str_nieq(a, la, d, ld);
	return ld > la && d[ld - la - 1] == '.' &&
	    str_nieq(a, la, d + ld - la, la);
}

bool
scope_domain_in(const struct strlist *l, const char *d)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (domain_covers(l->v[i], d))
			return true;
	return false;
}

/* rcpt_entry_matches - entry "user@dom" or "local@" against address r */
static bool
rcpt_entry_matches(const char *e, const char *r)
{
	const char *ea = strrchr(e, '@'), *ra = strrchr(r, '@');

	if (ra == NULL)
		return false;
	if (ea[1] != '\0')
		return str_ieq(e, r);
	return str_nieq(e, (size_t)(ea - e), r, (size_t)(ra - r));
}

/* rcpt_matches - recipient selectors against r (NULL: none) */
static bool
rcpt_matches(const struct scope *sc, const char *r)
{
	const char *at;
	size_t i;

	if (sc->rcpts.n == 0 && sc->rcpt_domains.n == 0)
		return true;
	if (r == NULL)
		return false;
	for (i = 0; i < sc->rcpts.n; i++)
		if (rcpt_entry_matches(sc->rcpts.v[i], r))
			return true;
	at = strrchr(r, '@');
	return at != NULL && scope_domain_in(&sc->rcpt_domains, at + 1);
}

/* user_matches - auth_users against the AUTH identity */
static bool
user_matches(const struct scope *sc, const char *user)
{
	size_t i;

	if (sc->auth_users.n == 0)
		return true;
	if (user == NULL || *user == '\0')
		return false;
	for (i = 0; i < sc->auth_users.n; i++)
		if (strcmp(sc->auth_users.v[i], "*") == 0 ||
		    str_ieq(sc->auth_users.v[i], user))
			return true;
	return false;
}

/* client_matches - clients against the client address */
static bool
client_matches(const struct scope *sc, const struct netaddr *na)
{
	size_t i;

	if (sc->nclients == 0)
		return true;
	if (na->family == 0)
		return false;
	for (i = 0; i < sc->nclients; i++)
		if (cidr_match(&sc->clients[i], na))
			return true;
	return false;
}

/* sender_matches - sender_domains against MAIL FROM */
static bool
sender_matches(const struct scope *sc, const char *from)
{
	const char *at;

	if (sc->sender_domains.n == 0)
		return true;
	if (from == NULL || (at = strrchr(from, '@')) == NULL)
		return false;
	return scope_domain_in(&sc->sender_domains, at + 1);
}

bool
scope_trusted(const struct conf *base, const struct msg *m)
{
	return conf_is_trusted(base, &m->client_addr) ||
	    (base->trust_authenticated && m->auth_user && *m->auth_user);
}

const struct scope *
scope_select(const struct scope_set *set, const struct conf *base,
    const struct msg *m, const char *rcpt)
{
	size_t i;
	bool trusted;

	if (set == NULL || set->n == 0)
		return NULL;
	trusted = scope_trusted(base, m);
	for (i = 0; i < set->n; i++) {
		const struct scope *sc = &set->v[i];

		if ((!sc->outbound || trusted) &&
		    user_matches(sc, m->auth_user) &&
		    client_matches(sc, &m->client_addr) &&
		    sender_matches(sc, m->mail_from) &&
		    rcpt_matches(sc, rcpt))
			return sc;
	}
	return NULL;
}

const struct scope *
scope_find(const struct scope_set *set, const char *name)
{
	size_t i;

	for (i = 0; set && i < set->n; i++)
		if (strcmp(set->v[i].name, name) == 0)
			return &set->v[i];
	return NULL;
}

static void
dump_list(struct buf *out, const char *key, const struct strlist *l)
{
	size_t i;

	if (l->n == 0)
		return;
	buf_printf(out, "%s =", key);
	for (i = 0; i < l->n; i++)
		buf_printf(out, " %s", l->v[i]);
	buf_addc(out, '\n');
}

void
scope_dump(const struct scope *sc, struct buf *out)
{
	char a[NETADDR_STRLEN];
	size_t i;

	buf_printf(out, "# scope %s from %s\n", sc->name, sc->path);
	dump_list(out, "recipients", &sc->rcpts);
	dump_list(out, "recipient_domains", &sc->rcpt_domains);
	dump_list(out, "auth_users", &sc->auth_users);
	if (sc->nclients) {
		buf_adds(out, "clients =");
		for (i = 0; i < sc->nclients; i++) {
			netaddr_format(&sc->clients[i].addr, a, sizeof(a));
			buf_printf(out, " %s/%u", a, sc->clients[i].bits);
		}
		buf_addc(out, '\n');
	}
	dump_list(out, "sender_domains", &sc->sender_domains);
	buf_printf(out, "outbound = %s\n", sc->outbound ? "yes" : "no");
	buf_printf(out, "exempt = %s\n", sc->exempt ? "yes" : "no");
	if (sc->reject_text)
		buf_printf(out, "reject_text = %s\n", sc->reject_text);
	if (sc->trap_code[0])
		buf_printf(out, "rcpt_reject = %s %s %s\n", sc->trap_code,
		    sc->trap_xcode, sc->trap_text);
	buf_adds(out, "# effective settings (the scope's, else the main "
	    "file's)\n");
	for (i = 0; i < NOVERRIDABLE; i++) {
		buf_printf(out, "%s = ", overridable[i]);
		(void)conf_value(sc->conf, overridable[i], out);
		if (conf_key_line(sc->conf, overridable[i]))
			buf_printf(out, "\t# line %u", conf_key_line(sc->conf,
			    overridable[i]));
		buf_addc(out, '\n');
	}
}
