/*
 * forwarders.c - the trusted forwarders and ARC sealers, parsed once
 *
 * DESCRIPTION
 *	See forwarders.h.  The lists are short and compared in
 *	configuration order, so the first matching entry is the one the
 *	override comment names.
 */
#include "config.h"

#include <sys/socket.h>

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "conf.h"
#include "forwarders.h"
#include "psl.h"
#include "punycode.h"

/* add_name - v as an A-label into list (skipped if not a host name) */
static void
add_name(struct fwd_name *list, size_t *n, const char *v)
{
	char a[DOMAIN_MAX + 1];

	if (domain_to_alabel(v, strlen(v), a, sizeof(a)) < 0)
		return;
	list[*n].alabel = xstrdup(a);
	list[*n].text = v;
	(*n)++;
}

struct forwarders *
forwarders_new(const struct conf *c)
{
	const struct strlist *fw = &c->dmarc_trusted_forwarders;
	const struct strlist *se = &c->arc_trusted_sealers;
	struct forwarders *f = xcalloc(1, sizeof(*f));
	size_t i;

	f->nets = xcalloc(fw->n + 1, sizeof(*f->nets));
	f->names = xcalloc(fw->n + 1, sizeof(*f->names));
	f->sealers = xcalloc(se->n + 1, sizeof(*f->sealers));
	for (i = 0; i < fw->n; i++) {
		if (cidr_parse(fw->v[i], &f->nets[f->nnets].net) == 0)
			f->nets[f->nnets++].text = fw->v[i];
		add_name(f->names, &f->nnames, fw->v[i]);
	}
	for (i = 0; i < se->n; i++)
		add_name(f->sealers, &f->nsealers, se->v[i]);
	return f;
}

void
forwarders_free(struct forwarders *f)
{
	size_t i;

	if (f == NULL)
		return;
	for (i = 0; i < f->nnames; i++)
		free(f->names[i].alabel);
	for (i = 0; i < f->nsealers; i++)
		free(f->sealers[i].alabel);
	free(f->nets);
	free(f->names);
	free(f->sealers);
	free(f);
}

const char *
forwarders_net(const struct forwarders *f, const struct netaddr *a)
{
	size_t i;

	for (i = 0; f && i < f->nnets; i++)
		if (cidr_match(&f->nets[i].net, a))
			return f->nets[i].text;
	return NULL;
}

/* listed - the first entry of list that d equals or is below */
static const struct fwd_name *
listed(const struct fwd_name *list, size_t n, const char *d)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (domain_is_subdomain(d, list[i].alabel))
			return &list[i];
	return NULL;
}

const char *
forwarders_name(const struct forwarders *f, const char *host)
{
	char h[DOMAIN_MAX + 1];
	const struct fwd_name *e;

	if (f == NULL || host == NULL || *host == '\0' || *host == '[' ||
	    domain_to_alabel(host, strlen(host), h, sizeof(h)) < 0)
		return NULL;
	e = listed(f->names, f->nnames, h);
	return e ? e->text : NULL;
}

bool
forwarders_sealer(const struct forwarders *f, const char *d)
{
	return f && *d && listed(f->sealers, f->nsealers, d) != NULL;
}

/*
 * public_suffix - name (A-label) is a public suffix: by the list when
 * there is one, else at least a top-level domain (one label)
 */
static bool
public_suffix(const struct psl *psl, const char *name)
{
	char reg[DOMAIN_MAX + 1];

	if (psl)
		return psl_registrable(psl, name, reg, sizeof(reg)) < 0;
	return strchr(name, '.') == NULL;
}

/* lint_names - a warning for each entry of list that is a public suffix */
static size_t
lint_names(const struct conf *c, const char *key, const struct fwd_name *list,
    size_t n, const struct psl *psl, const char *risk, struct buf *out)
{
	size_t i, w = 0;

	for (i = 0; i < n; i++) {
		if (!public_suffix(psl, list[i].alabel))
			continue;
		buf_newline(out);
		buf_printf(out, "%s:%u: warning: %s: %s: a public suffix (%s): "
		    "%s", c->path, conf_key_line(c, key), key, list[i].text,
		    strchr(list[i].alabel, '.') ? "a registry's domain" :
		    "a top-level domain", risk);
		w++;
	}
	return w;
}

size_t
forwarders_lint(const struct conf *c, const struct forwarders *f,
    const struct psl *psl, struct buf *out)
{
	size_t i, w = 0;

	if (f == NULL)
		return 0;
	w += lint_names(c, "arc_trusted_sealers", f->sealers, f->nsealers,
	    psl, "anyone who registers a domain below it seals as a trusted "
	    "sealer", out);
	/* names that are also addresses (192.0.2.1) are judged as those */
	for (i = 0; i < f->nnames; i++) {
		struct cidr net;

		if (cidr_parse(f->names[i].text, &net) == 0)
			continue;
		w += lint_names(c, "dmarc_trusted_forwarders", &f->names[i], 1,
		    psl, "any client whose verified name is below it is a "
		    "trusted forwarder", out);
	}
	for (i = 0; i < f->nnets; i++) {
		const struct cidr *n = &f->nets[i].net;
		unsigned widest = n->addr.family == AF_INET ?
		    FWD_WIDEST_V4 : FWD_WIDEST_V6;

		if (n->bits >= widest)
			continue;
		buf_newline(out);
		buf_printf(out, "%s:%u: warning: dmarc_trusted_forwarders: %s: "
		    "a network wider than /%u (/%u): its clients' DMARC "
		    "failures are never rejected", c->path,
		    conf_key_line(c, "dmarc_trusted_forwarders"),
		    f->nets[i].text, widest, n->bits);
		w++;
	}
	return w;
}
