/*
 * lists.c - local access lists
 *
 * DESCRIPTION
 *	Client lists keep CIDR entries in a flat array searched for the
 *	longest prefix; sender and HELO lists keep lower-cased keys in a
 *	hash map and walk parent domains label by label.
 *
 * SECURITY
 *	Lookups take untrusted envelope text; keys are lower-cased into a
 *	bounded copy first.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "files.h"
#include "lists.h"
#include "netaddr.h"
#include "str.h"
#include "strmap.h"

#define LIST_MAX_FILE	(64 * 1024 * 1024)
#define LIST_MAX_KEY	512

struct cidr_entry {
	struct cidr cidr;
	struct list_entry e;
};

struct list {
	enum list_kind kind;
	struct cidr_entry *cidrs;
	size_t	 ncidrs;
	struct strmap *keys;		/* lower-cased key -> list_entry */
	size_t	 count;
};

static void
entry_free(void *p)
{
	struct list_entry *e = p;

	free(e->text);
	free(e->key);
	free(e);
}

void
list_free(struct list *l)
{
	size_t i;

	if (l == NULL)
		return;
	for (i = 0; i < l->ncidrs; i++) {
		free(l->cidrs[i].e.text);
		free(l->cidrs[i].e.key);
	}
	free(l->cidrs);
	strmap_free(l->keys, entry_free);
	free(l);
}

size_t
list_count(const struct list *l)
{
	return l ? l->count : 0;
}

/* parse_action - ACTION [args]; fills e */
static int
parse_action(char *rest, struct list_entry *e, struct buf *why)
{
	char *act = rest, *arg;

	while (*rest && !ch_is_space((unsigned char)*rest))
		rest++;
	if (*rest)
		*rest++ = '\0';
	arg = str_trim(rest);
	if (str_ieq(act, "REJECT")) {
		e->action = LIST_REJECT;
	} else if (str_ieq(act, "OK") || str_ieq(act, "ACCEPT")) {
		e->action = LIST_OK;
	} else if (str_ieq(act, "SCORE")) {
		char *num = arg;

		while (*arg && !ch_is_space((unsigned char)*arg))
			arg++;
		if (*arg)
			*arg++ = '\0';
		if (parse_double(num, -1000, 1000, &e->score) < 0) {
			buf_printf(why, "SCORE needs a number from -1000 to "
			    "1000, got '%.40s'", num);
			return -1;
		}
		e->action = LIST_SCORE;
		arg = str_trim(arg);
	} else {
		buf_printf(why, "unknown action '%.40s' (expected REJECT, OK "
		    "or SCORE)", act);
		return -1;
	}
	if (e->action == LIST_OK && *arg) {
		buf_adds(why, "OK takes no text");
		return -1;
	}
	e->text = *arg ? xstrdup(arg) : NULL;
	return 0;
}

/* valid_key - syntax of a sender/HELO/allowlist key */
static bool
valid_key(enum list_kind kind, const char *k)
{
	const char *at = strchr(k, '@');
	size_t i;

	for (i = 0; k[i]; i++)
		if (!ch_is_vchar((unsigned char)k[i]) && (unsigned char)k[i] < 0x80)
			return false;
	if (kind == LIST_HELO || kind == LIST_DKIM_DOMAIN)
		return at == NULL;
	/* an allowance is granted to a domain that authenticates */
	if (kind == LIST_WELCOME_AUTH && at != NULL && at[1] == '\0')
		return false;
	return at == NULL || strchr(at + 1, '@') == NULL;
}

static const char *const key_words[LIST_NKINDS] = {
	"client", "sender", "HELO", "sender (address, *@domain, domain)",
	"DKIM domain"
};

static int
add_line(struct list *l, char *s, unsigned lineno, struct buf *why)
{
	struct list_entry e;
	char *key = s, *rest;

	memset(&e, 0, sizeof(e));
	while (*s && !ch_is_space((unsigned char)*s))
		s++;
	if (*s)
		*s++ = '\0';
	rest = str_trim(s);
	if (strlen(key) > LIST_MAX_KEY) {
		buf_adds(why, "key too long");
		return -1;
	}
	if (l->kind >= LIST_WELCOME_AUTH) {
		/* allowlists: a key alone; "*@domain" is "@domain" */
		if (*rest != '\0') {
			buf_printf(why, "'%.80s': an allowlist line holds one "
			    "key and nothing else", key);
			return -1;
		}
		if (key[0] == '*' && key[1] == '@')
			key++;
		e.action = LIST_OK;
	} else if (*rest == '\0') {
		buf_printf(why, "'%.80s': missing action", key);
		return -1;
	} else if (parse_action(rest, &e, why) < 0)
		return -1;
	e.line = lineno;
	e.key = xstrdup(key);
	if (l->kind == LIST_CLIENT) {
		struct cidr c;

		if (cidr_parse(key, &c) < 0) {
			buf_printf(why, "'%.80s': not an IP address or CIDR "
			    "block", key);
			free(e.text);
			free(e.key);
			return -1;
		}
		l->cidrs = xreallocarray(l->cidrs, l->ncidrs + 1,
		    sizeof(*l->cidrs));
		l->cidrs[l->ncidrs].cidr = c;
		l->cidrs[l->ncidrs++].e = e;
	} else {
		struct list_entry *ep;
		char *lk;

		if (!valid_key(l->kind, key)) {
			buf_printf(why, "'%.80s': not a valid %s key", key,
			    key_words[l->kind]);
			free(e.text);
			free(e.key);
			return -1;
		}
		lk = xstrdup(key);
		str_lower(lk);
		ep = xmalloc(sizeof(*ep));
		*ep = e;
		ep = strmap_put(l->keys, lk, ep);
		if (ep)
			entry_free(ep);		/* later line wins */
		free(lk);
	}
	l->count++;
	return 0;
}

int
list_parse(enum list_kind kind, const char *text, size_t len,
    const char *origin, struct list **out, struct buf *why)
{
	struct list *l = xcalloc(1, sizeof(*l));
	struct buf line = BUF_INIT, reason = BUF_INIT;
	const char *p = text, *end = text + len;
	unsigned lineno = 0;
	int rc = 0;

	l->kind = kind;
	l->keys = strmap_new();
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *eol = nl ? nl : end;
		const char *hash = memchr(p, '#', (size_t)(eol - p));
		char *s;

		lineno++;
		buf_reset(&line);
		buf_add(&line, p, (size_t)((hash ? hash : eol) - p));
		p = nl ? nl + 1 : end;
		buf_reset(&reason);
		if (memchr(line.data, '\0', line.len))
			buf_adds(&reason, "NUL byte");
		else if (*(s = str_trim(line.data)) == '\0')
			continue;
		else if (add_line(l, s, lineno, &reason) == 0)
			continue;
		/* every bad line of the file is reported */
		buf_newline(why);
		buf_printf(why, "%s:%u: %s", origin, lineno, buf_cstr(&reason));
		rc = -1;
	}
	buf_release(&line);
	buf_release(&reason);
	if (rc < 0) {
		list_free(l);
		l = NULL;
	}
	*out = l;
	return rc;
}

int
list_load(enum list_kind kind, const char *path, struct list **out,
    struct buf *why)
{
	struct buf text = BUF_INIT;
	int rc;

	if (files_read(path, LIST_MAX_FILE, &text, why) < 0) {
		*out = NULL;
		return -1;
	}
	rc = list_parse(kind, text.data, text.len, path, out, why);
	buf_release(&text);
	return rc;
}

const struct list_entry *
list_match_addr(const struct list *l, const struct netaddr *na)
{
	const struct cidr_entry *best = NULL;
	size_t i;

	if (l == NULL || na->family == 0)
		return NULL;
	for (i = 0; i < l->ncidrs; i++)
		if (cidr_match(&l->cidrs[i].cidr, na) &&
		    (best == NULL || l->cidrs[i].cidr.bits > best->cidr.bits))
			best = &l->cidrs[i];
	return best ? &best->e : NULL;
}

/* lower_copy - bounded lower-case copy; false if too long */
static bool
lower_copy(char *dst, size_t cap, const char *src)
{
	size_t n = strlen(src);

	if (n >= cap)
		return false;
	memcpy(dst, src, n + 1);
	str_lower(dst);
	return true;
}

/* match_domain - dom, then each parent; dotted: ".parent" keys only */
static const struct list_entry *
match_domain(const struct list *l, const char *dom, bool dotted_parents)
{
	const struct list_entry *e;
	const char *p;

	if (*dom == '\0')
		return NULL;
	if ((e = strmap_get(l->keys, dom)) != NULL)
		return e;
	for (p = strchr(dom, '.'); p; p = strchr(p + 1, '.')) {
		if (dotted_parents) {
			if ((e = strmap_get(l->keys, p)) != NULL)
				return e;
		} else {
			if ((e = strmap_get(l->keys, p + 1)) != NULL)
				return e;
		}
	}
	return NULL;
}

const struct list_entry *
list_match_sender(const struct list *l, const char *addr)
{
	char a[LIST_MAX_KEY + 2], key[LIST_MAX_KEY + 3];
	const struct list_entry *e;
	char *at;

	if (l == NULL || !lower_copy(a, sizeof(a), addr) || a[0] == '\0')
		return NULL;
	if ((e = strmap_get(l->keys, a)) != NULL)
		return e;
	if ((at = strrchr(a, '@')) == NULL)
		return NULL;
	if ((e = strmap_get(l->keys, at)) != NULL)	/* "@domain" */
		return e;
	if ((e = match_domain(l, at + 1, false)) != NULL)
		return e;
	if ((size_t)(at - a) + 1 < sizeof(key)) {
		memcpy(key, a, (size_t)(at - a) + 1);	/* "user@" */
		key[at - a + 1] = '\0';
		return strmap_get(l->keys, key);
	}
	return NULL;
}

/* match_name - match_domain() of a lower-cased copy of name */
static const struct list_entry *
match_name(const struct list *l, const char *name, bool dotted_parents)
{
	char h[LIST_MAX_KEY + 2];

	if (l == NULL || !lower_copy(h, sizeof(h), name))
		return NULL;
	return match_domain(l, h, dotted_parents);
}

const struct list_entry *
list_match_domain(const struct list *l, const char *domain)
{
	return match_name(l, domain, false);
}

const struct list_entry *
list_match_helo(const struct list *l, const char *helo)
{
	return match_name(l, helo, true);
}
