/*
 * saeval.c - the registry of eval: functions, their arguments, their data
 *
 * DESCRIPTION
 *	Looks functions up over the families' tables, splits argument text
 *	as SpamAssassin's rule reader does, keeps the data of the families'
 *	directives (sets of words, single values), and gives the per-message
 *	memo in which families keep shared computations.
 *
 * SECURITY
 *	Argument and directive text comes from rule files (configuration):
 *	fully checked, each argument capped at SAEVAL_MAX_ARG bytes.
 *
 * SEE ALSO
 *	saeval.h, rules_parse.c, rules_eval.c
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "relays.h"
#include "saeval.h"
#include "str.h"
#include "strmap.h"

static const struct saeval_family *const families[] = {
	&saeval_header_family,
	&saeval_date_family,
	&saeval_freemail_family,
	&saeval_relay_family,
	&saeval_auth_family,
	&saeval_mime_family,
};

const struct saeval_family *const *
saeval_families(size_t *n)
{
	*n = SAEVAL_NELEM(families);
	return families;
}

const struct saeval_fn *
saeval_lookup(const char *name)
{
	size_t f, i;

	for (f = 0; f < SAEVAL_NELEM(families); f++)
		for (i = 0; i < families[f]->nfns; i++)
			if (strcmp(families[f]->fns[i].name, name) == 0)
				return &families[f]->fns[i];
	return NULL;
}

bool
saeval_plugin_provided(const char *name, size_t len)
{
	const char *const *p;
	size_t f;

	for (f = 0; f < SAEVAL_NELEM(families); f++)
		for (p = families[f]->plugins; p && *p; p++)
			if (strlen(*p) == len && strncmp(*p, name, len) == 0)
				return true;
	return false;
}

bool
saeval_directive_find(const char *name, enum saeval_dir_kind *kind)
{
	size_t f, i;

	for (f = 0; f < SAEVAL_NELEM(families); f++)
		for (i = 0; i < families[f]->ndirs; i++)
			if (strcmp(families[f]->dirs[i].name, name) == 0) {
				*kind = families[f]->dirs[i].kind;
				return true;
			}
	return false;
}

/* ------------------------------------------------------------------ */
/* arguments                                                           */
/* ------------------------------------------------------------------ */

void
saeval_args_release(struct saeval_args *a)
{
	size_t i;

	for (i = 0; i < a->n; i++)
		free(a->v[i]);
	memset(a, 0, sizeof(*a));
}

/* one_arg - the argument at *p (quoted or bare) up to the next comma */
static int
one_arg(const char **pp, const char *e, struct buf *out, struct buf *why)
{
	const char *p = *pp, *q;

	while (p < e && ch_is_space((unsigned char)*p))
		p++;
	if (p < e && (*p == '\'' || *p == '"')) {
		q = memchr(p + 1, *p, (size_t)(e - p - 1));
		if (q == NULL) {
			buf_printf(why, "unterminated %c in the arguments", *p);
			return -1;
		}
		buf_add(out, p + 1, (size_t)(q - p - 1));
		p = q + 1;
	} else {
		q = p;
		while (q < e && *q != ',')
			q++;
		while (q > p && ch_is_space((unsigned char)q[-1]))
			q--;
		if (q == p) {
			buf_adds(why, "empty argument");
			return -1;
		}
		buf_add(out, p, (size_t)(q - p));
		p = q;
	}
	while (p < e && ch_is_space((unsigned char)*p))
		p++;
	if (p < e && *p != ',') {
		buf_printf(why, "unexpected text '%.20s' after an argument", p);
		return -1;
	}
	if (out->len > SAEVAL_MAX_ARG) {
		buf_printf(why, "argument over %d bytes", SAEVAL_MAX_ARG);
		return -1;
	}
	*pp = p < e ? p + 1 : p;
	return 0;
}

int
saeval_args_parse(const char *s, size_t len, struct saeval_args *a,
    struct buf *why)
{
	const char *p = s, *e = s + len;
	struct buf b = BUF_INIT;

	memset(a, 0, sizeof(*a));
	while (p < e && ch_is_space((unsigned char)*p))
		p++;
	if (p == e)
		return 0;
	for (;;) {
		if (a->n == SAEVAL_MAX_ARGS) {
			buf_printf(why, "more than %d arguments",
			    SAEVAL_MAX_ARGS);
			goto fail;
		}
		buf_reset(&b);
		if (one_arg(&p, e, &b, why) < 0)
			goto fail;
		a->v[a->n++] = xstrndup(buf_cstr(&b), b.len);
		if (p >= e)
			break;
	}
	buf_release(&b);
	return 0;
fail:
	buf_release(&b);
	saeval_args_release(a);
	return -1;
}

/* ------------------------------------------------------------------ */
/* directive data                                                      */
/* ------------------------------------------------------------------ */

/* the words of a SET directive with '*' or '?' (wildcards) */
struct globs {
	char	**v;
	size_t	 n;
};

struct saeval_conf {
	struct strmap *sets;		/* directive -> struct strmap * */
	struct strmap *globs;		/* directive -> struct globs * */
	struct strmap *values;		/* directive -> char * */
};

struct saeval_conf *
saeval_conf_new(void)
{
	struct saeval_conf *c = xcalloc(1, sizeof(*c));

	c->sets = strmap_new();
	c->globs = strmap_new();
	c->values = strmap_new();
	return c;
}

static void
globs_free(void *p)
{
	struct globs *g = p;
	size_t i;

	for (i = 0; i < g->n; i++)
		free(g->v[i]);
	free(g->v);
	free(g);
}

static void
set_free(void *p)
{
	strmap_free(p, NULL);
}

void
saeval_conf_free(struct saeval_conf *c)
{
	if (c == NULL)
		return;
	strmap_free(c->sets, set_free);
	strmap_free(c->globs, globs_free);
	strmap_free(c->values, free);
	free(c);
}

int
saeval_conf_apply(struct saeval_conf *c, const char *dir, const char *text,
    struct buf *why)
{
	enum saeval_dir_kind kind;
	struct strmap *set;
	char *w, *copy, *save = NULL;

	if (!saeval_directive_find(dir, &kind)) {
		buf_printf(why, "no eval family takes '%s'", dir);
		return -1;
	}
	copy = xstrdup(text);
	if (kind == SAEVAL_DIR_VALUE) {
		free(strmap_put(c->values, dir, xstrdup(str_trim(copy))));
		free(copy);
		return 0;
	}
	if ((set = strmap_get(c->sets, dir)) == NULL) {
		set = strmap_new();
		strmap_put(c->sets, dir, set);
	}
	for (w = strtok_r(copy, " \t\r\n,", &save); w;
	    w = strtok_r(NULL, " \t\r\n,", &save)) {
		str_lower(w);
		if (strpbrk(w, "*?")) {
			struct globs *g = strmap_get(c->globs, dir);

			if (g == NULL) {
				g = xcalloc(1, sizeof(*g));
				strmap_put(c->globs, dir, g);
			}
			if (strmap_get(set, w) == NULL) {
				g->v = xreallocarray(g->v, g->n + 1,
				    sizeof(*g->v));
				g->v[g->n++] = xstrdup(w);
			}
		}
		strmap_put(set, w, (void *)1);
	}
	free(copy);
	return 0;
}

const struct strmap *
saeval_conf_set(const struct saeval_conf *c, const char *dir)
{
	return c ? strmap_get(c->sets, dir) : NULL;
}

char *const *
saeval_conf_globs(const struct saeval_conf *c, const char *dir, size_t *n)
{
	const struct globs *g = c ? strmap_get(c->globs, dir) : NULL;

	*n = g ? g->n : 0;
	return g ? g->v : NULL;
}

const char *
saeval_conf_value(const struct saeval_conf *c, const char *dir)
{
	return c ? strmap_get(c->values, dir) : NULL;
}

/* ------------------------------------------------------------------ */
/* memo                                                                */
/* ------------------------------------------------------------------ */

struct saeval_memo {
	const void *key;
	void	*value;
	void	(*release)(void *);
	struct saeval_memo *next;
};

void *
saeval_memo(struct saeval_in *in, const void *key,
    void *(*make)(struct saeval_in *), void (*release)(void *))
{
	struct saeval_memo *e;

	for (e = in->memo; e; e = e->next)
		if (e->key == key)
			return e->value;
	e = xcalloc(1, sizeof(*e));
	e->key = key;
	e->release = release;
	e->value = make(in);
	e->next = in->memo;
	in->memo = e;
	return e->value;
}

void
saeval_memo_release(struct saeval_memo **mp)
{
	struct saeval_memo *e, *next;

	for (e = *mp; e; e = next) {
		next = e->next;
		if (e->release && e->value)
			e->release(e->value);
		free(e);
	}
	*mp = NULL;
}

struct relay_list {
	struct relay v[RELAYS_MAX];
	size_t	 n;
	struct relays_count cnt;
};

static void *
make_relays(struct saeval_in *in)
{
	struct relay_list *l = xcalloc(1, sizeof(*l));

	l->n = relays_list_counted(in->m, in->mm, l->v, RELAYS_MAX, &l->cnt);
	return l;
}

static const struct relay_list *
relay_list(struct saeval_in *in)
{
	static const char key;

	return saeval_memo(in, &key, make_relays, free);
}

const struct relay *
saeval_relays(struct saeval_in *in, size_t *n)
{
	const struct relay_list *l = relay_list(in);

	*n = l->n;
	return l->v;
}

void
saeval_relays_counts(struct saeval_in *in, size_t *trusted,
    size_t *unparsed)
{
	const struct relay_list *l = relay_list(in);

	*trusted = l->cnt.trusted;
	*unparsed = l->cnt.unparsed;
}
