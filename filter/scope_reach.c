/*
 * scope_reach.c - scopes that can never apply, and selector values that
 * an earlier scope takes (config -n errors)
 *
 * DESCRIPTION
 *	Scopes apply in order, the first match wins.  Scope b is
 *	unreachable when an earlier scope a takes all of its mail: for
 *	every selector kind, a does not restrict it or each value of b
 *	lies within a value of a (a domain covers its subdomains, a network
 *	the networks inside it, local@ the addresses with that local part,
 *	* every AUTH user).  One value of b that an earlier scope takes
 *	entirely is dead configuration too.  Pure: scopes in, lines of
 *	why out.
 */
#include "config.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "scope.h"
#include "scope_int.h"
#include "str.h"

/* rcpt_covered - does a's recipient selector take address or local@ r? */
static bool
rcpt_covered(const struct scope *a, const char *r)
{
	const char *at = strrchr(r, '@');
	size_t i;

	for (i = 0; i < a->rcpts.n; i++)
		if (strrchr(a->rcpts.v[i], '@')[1] == '\0' ?
		    str_nieq(a->rcpts.v[i], (size_t)(strrchr(a->rcpts.v[i],
		    '@') - a->rcpts.v[i]), r, (size_t)(at - r)) :
		    str_ieq(a->rcpts.v[i], r))
			return true;
	return at[1] != '\0' && scope_domain_in(&a->rcpt_domains, at + 1);
}

/* rcpts_cover - does a take every recipient b selects? */
static bool
rcpts_cover(const struct scope *a, const struct scope *b)
{
	size_t i;

	if (a->rcpts.n == 0 && a->rcpt_domains.n == 0)
		return true;
	if (b->rcpts.n == 0 && b->rcpt_domains.n == 0)
		return false;
	for (i = 0; i < b->rcpts.n; i++)
		if (!rcpt_covered(a, b->rcpts.v[i]))
			return false;
	for (i = 0; i < b->rcpt_domains.n; i++)
		if (!scope_domain_in(&a->rcpt_domains, b->rcpt_domains.v[i]))
			return false;
	return true;
}

/* domains_cover - is each domain of b within one of a? */
static bool
domains_cover(const struct strlist *a, const struct strlist *b)
{
	size_t i;

	if (a->n == 0)
		return true;
	if (b->n == 0)
		return false;
	for (i = 0; i < b->n; i++)
		if (!scope_domain_in(a, b->v[i]))
			return false;
	return true;
}

/* users_cover - is each AUTH user of b one of a (or a has *)? */
static bool
users_cover(const struct strlist *a, const struct strlist *b)
{
	size_t i, j;

	if (a->n == 0)
		return true;
	if (b->n == 0)
		return false;
	for (i = 0; i < b->n; i++) {
		for (j = 0; j < a->n; j++)
			if (strcmp(a->v[j], "*") == 0 ||
			    (strcmp(b->v[i], "*") != 0 &&
			    str_ieq(a->v[j], b->v[i])))
				break;
		if (j == a->n)
			return false;
	}
	return true;
}

/* clients_cover - is each network of b inside one of a? */
static bool
clients_cover(const struct scope *a, const struct scope *b)
{
	size_t i, j;

	if (a->nclients == 0)
		return true;
	if (b->nclients == 0)
		return false;
	for (i = 0; i < b->nclients; i++) {
		for (j = 0; j < a->nclients; j++)
			if (a->clients[j].bits <= b->clients[i].bits &&
			    cidr_match(&a->clients[j], &b->clients[i].addr))
				break;
		if (j == a->nclients)
			return false;
	}
	return true;
}

/* scope_covers - does a take all of b's mail? */
static bool
scope_covers(const struct scope *a, const struct scope *b)
{
	return (!a->outbound || b->outbound) && rcpts_cover(a, b) &&
	    domains_cover(&a->sender_domains, &b->sender_domains) &&
	    users_cover(&a->auth_users, &b->auth_users) &&
	    clients_cover(a, b);
}

/* first_cover - the first scope before i that takes all of b's mail */
static const struct scope *
first_cover(const struct scope_set *set, size_t i, const struct scope *b)
{
	size_t j;

	for (j = 0; j < i; j++)
		if (scope_covers(&set->v[j], b))
			return &set->v[j];
	return NULL;
}

/* shadowed - one error line: a selector value an earlier scope takes */
static void
shadowed(const struct scope *b, const char *key, const char *value,
    const struct scope *a, struct buf *why)
{
	buf_newline(why);
	buf_printf(why, "%s:%u: %s: %s never selects mail for scope %s: "
	    "scope %s (%s) comes first and takes it", b->path,
	    scope_sel_line(b, key), key, value, b->name, a->name, a->path);
}

static const struct {
	const char *key;
	size_t	 off;
} list_kinds[] = {
	{ "recipients", offsetof(struct scope, rcpts) },
	{ "recipient_domains", offsetof(struct scope, rcpt_domains) },
	{ "auth_users", offsetof(struct scope, auth_users) },
	{ "sender_domains", offsetof(struct scope, sender_domains) },
};

/*
 * check_values - each selector value of scope i on its own: one that an
 * earlier scope takes entirely is dead configuration (a conflict)
 */
static int
check_values(const struct scope_set *set, size_t i, struct buf *why)
{
	const struct scope *b = &set->v[i], *a;
	char addr[NETADDR_STRLEN + 8];
	struct scope one;
	size_t k, v;
	int rc = 0;

	for (k = 0; k < sizeof(list_kinds) / sizeof(list_kinds[0]); k++) {
		const struct strlist *l = (const struct strlist *)
		    ((const char *)b + list_kinds[k].off);

		for (v = 0; v < l->n; v++) {
			one = *b;
			if (k < 2)	/* one recipient selector alone */
				one.rcpts.n = one.rcpt_domains.n = 0;
			*(struct strlist *)((char *)&one + list_kinds[k].off) =
			    (struct strlist){ l->v + v, 1 };
			if ((a = first_cover(set, i, &one)) != NULL) {
				shadowed(b, list_kinds[k].key, l->v[v], a, why);
				rc = -1;
			}
		}
	}
	for (v = 0; v < b->nclients; v++) {
		one = *b;
		one.clients = b->clients + v;
		one.nclients = 1;
		if ((a = first_cover(set, i, &one)) != NULL) {
			netaddr_format(&b->clients[v].addr, addr, NETADDR_STRLEN);
			snprintf(addr + strlen(addr), 8, "/%u", b->clients[v].bits);
			shadowed(b, "clients", addr, a, why);
			rc = -1;
		}
	}
	return rc;
}

int
scope_check_reach(const struct scope_set *set, struct buf *why)
{
	const struct scope *a;
	size_t i;
	int rc = 0;

	for (i = 1; i < set->n; i++) {
		if ((a = first_cover(set, i, &set->v[i])) != NULL) {
			buf_newline(why);
			buf_printf(why, "%s: scope %s is unreachable: scope %s "
			    "(%s) comes first and selects all of its mail",
			    set->v[i].path, set->v[i].name, a->name, a->path);
			rc = -1;
		} else if (check_values(set, i, why) < 0)
			rc = -1;
	}
	return rc;
}

