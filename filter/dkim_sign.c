/*
 * dkim_sign.c - signing keys and DKIM signing (RFC 6376 5)
 *
 * DESCRIPTION
 *	dkim_signconf_load() reads every "DOMAIN:SELECTOR:PATH" key of the
 *	configuration once, at load time: the file must pass
 *	files_read_secret() (regular, ours or root's, no group/other
 *	bits), hold an unencrypted PEM private key (PKCS#8 or PKCS#1) or
 *	the base64 of a 32-byte Ed25519 seed, and be RSA of 1024..8192
 *	bits (rsa-sha256) or Ed25519 (ed25519-sha256).  Several keys for
 *	one domain sign every message of that domain: dual signing.
 *
 *	A signer hashes the body as it streams (one canonicaliser and one
 *	SHA-256 for all keys) and at the end builds one DKIM-Signature
 *	per key: h= lists every present instance of the configured fields
 *	and each oversigned field once more (RFC 6376 8.15), except an
 *	absent Date or Message-ID, which Sendmail adds after the milter
 *	has seen the header (oversigning those would break the signature
 *	of every message sent without them), t= is the
 *	scan's clock, x= is t= + expire when configured.  The field value
 *	is produced folded, and exactly that text (b= empty) is hashed, so
 *	simple header canonicalisation holds as long as the MTA writes the
 *	field as given.
 *
 * SECURITY
 *	Key file bytes are wiped after parsing; keys live in EVP_PKEY
 *	objects, which OpenSSL clears when freed (dkim_signconf_free()).
 *	Nothing here logs; reasons name the file, never its content.
 *
 * STANDARDS
 *	RFC 6376 3.5, 5; RFC 8463; RFC 8301 (no rsa-sha1, >= 1024 bits).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "buf.h"
#include "conf.h"
#include "dkim_int.h"
#include "files.h"
#include "log.h"
#include "msg.h"
#include "str.h"

#define MAX_KEY_FILE	65536
#define FOLD_WIDTH	78

struct dkim_signconf {
	struct dkim_signkey *keys;
	size_t	 nkeys;
	enum dkim_canon hcanon, bcanon;
	char	**headers;
	size_t	 nheaders;
	char	**oversign;
	size_t	 noversign;
	uint64_t expire;
};

struct dkim_sign {
	const struct dkim_signconf *conf;
	const struct dkim_signkey **keys;
	size_t	 nkeys;
	time_t	 now;
	EVP_MD_CTX *bctx;
	bool	 finished;
	struct dkim_body body;
};

/* split_entry - DOMAIN:SELECTOR:PATH; pointers into a copy */
static int
split_entry(char *e, char **dom, char **sel, char **path, struct buf *why)
{
	char *c1 = strchr(e, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;

	if (c2 == NULL) {
		buf_adds(why, "expected DOMAIN:SELECTOR:/path/to/key");
		return -1;
	}
	*c1 = *c2 = '\0';
	*dom = e;
	*sel = c1 + 1;
	*path = c2 + 1;
	if (!dkim_domain_valid(*dom, strlen(*dom))) {
		buf_printf(why, "'%.100s' is not a domain name", *dom);
		return -1;
	}
	if (!dkim_domain_valid(*sel, strlen(*sel)) ||
	    strlen(*sel) + strlen(*dom) + 12 > 253) {
		buf_printf(why, "'%.100s' is not a valid selector", *sel);
		return -1;
	}
	if (**path != '/') {
		buf_adds(why, "the key path must be absolute");
		return -1;
	}
	return 0;
}

int
dkim_signconf_check_entry(const char *entry, struct buf *why)
{
	char *copy = xstrdup(entry), *d, *s, *p;
	int rc = split_entry(copy, &d, &s, &p, why);

	free(copy);
	return rc;
}

int
dkim_signconf_check_canon(const char *v, struct buf *why)
{
	enum dkim_canon h, b;

	if (dkim_canon_parse(v, strlen(v), &h, &b) < 0) {
		buf_adds(why, "expected simple or relaxed, optionally "
		    "header/body such as relaxed/simple");
		return -1;
	}
	return 0;
}

/* load_key - one key file into k */
static int
load_key(struct dkim_signkey *k, const char *path, struct buf *why)
{
	struct buf data = BUF_INIT, reason = BUF_INIT;
	int rc = -1;

	if (files_read_secret(path, MAX_KEY_FILE, &data, why) < 0)
		goto out;
	if (dkim_crypto_private(data.data, data.len, &k->pkey, &reason) < 0) {
		buf_printf(why, "%s: %s", path, buf_cstr(&reason));
		goto out;
	}
	k->alg = dkim_crypto_is_ed25519(k->pkey) ? DKIM_ALG_ED25519_SHA256 :
	    DKIM_ALG_RSA_SHA256;
	k->bits = dkim_crypto_bits(k->pkey);
	rc = 0;
out:
	if (data.data)
		OPENSSL_cleanse(data.data, data.cap);
	buf_release(&data);
	buf_release(&reason);
	return rc;
}

/* copy_list - lower-case copies of a string list */
static char **
copy_list(const struct strlist *l, size_t *n)
{
	char **v = xcalloc(l && l->n ? l->n : 1, sizeof(char *));
	size_t i;

	*n = l ? l->n : 0;
	for (i = 0; i < *n; i++) {
		v[i] = xstrdup(l->v[i]);
		str_lower(v[i]);
	}
	return v;
}

int
dkim_signconf_load(const struct dkim_signopts *o, struct dkim_signconf **out,
    struct buf *why)
{
	struct dkim_signconf *sc = xcalloc(1, sizeof(*sc));
	struct buf reason = BUF_INIT;
	size_t i;
	int rc = 0;

	*out = NULL;
	if (dkim_signconf_check_canon(o->canon, why) < 0)
		goto fail;
	(void)dkim_canon_parse(o->canon, strlen(o->canon), &sc->hcanon,
	    &sc->bcanon);
	sc->headers = copy_list(o->headers, &sc->nheaders);
	sc->oversign = copy_list(o->oversign, &sc->noversign);
	sc->expire = o->expire;
	sc->keys = xcalloc(o->keys->n ? o->keys->n : 1, sizeof(*sc->keys));
	for (i = 0; i < o->keys->n; i++) {
		struct dkim_signkey *k = &sc->keys[sc->nkeys];
		char *copy = xstrdup(o->keys->v[i]), *d, *s, *p;

		if (split_entry(copy, &d, &s, &p, why) < 0) {
			free(copy);
			goto fail;	/* conf.c checked the syntax */
		}
		k->domain = xstrdup(d);
		str_lower(k->domain);
		k->selector = xstrdup(s);
		str_lower(k->selector);
		k->path = xstrdup(p);
		free(copy);
		sc->nkeys++;
		buf_reset(&reason);
		if (load_key(k, k->path, &reason) < 0) {
			buf_newline(why);	/* every key's error */
			buf_adds(why, buf_cstr(&reason));
			rc = -1;
		}
	}
	buf_release(&reason);
	if (rc < 0)
		goto fail;
	*out = sc;
	return 0;
fail:
	buf_release(&reason);
	dkim_signconf_free(sc);
	return -1;
}

void
dkim_signconf_free(struct dkim_signconf *sc)
{
	size_t i;

	if (sc == NULL)
		return;
	for (i = 0; i < sc->nkeys; i++) {
		EVP_PKEY_free(sc->keys[i].pkey);
		free(sc->keys[i].domain);
		free(sc->keys[i].selector);
		free(sc->keys[i].path);
	}
	free(sc->keys);
	for (i = 0; i < sc->nheaders; i++)
		free(sc->headers[i]);
	free(sc->headers);
	for (i = 0; i < sc->noversign; i++)
		free(sc->oversign[i]);
	free(sc->oversign);
	free(sc);
}

/* best_domain - the longest key domain covering domain, or NULL */
static const char *
best_domain(const struct dkim_signconf *sc, const char *domain)
{
	const char *best = NULL;
	size_t i;

	if (sc == NULL || domain == NULL)
		return NULL;
	for (i = 0; i < sc->nkeys; i++)
		if (dkim_domain_within(domain, strlen(domain),
		    sc->keys[i].domain) && (best == NULL ||
		    strlen(sc->keys[i].domain) > strlen(best)))
			best = sc->keys[i].domain;
	return best;
}

size_t
dkim_signconf_nkeys(const struct dkim_signconf *sc)
{
	return sc ? sc->nkeys : 0;
}

const struct dkim_signkey *
dkim_signconf_key(const struct dkim_signconf *sc, size_t i)
{
	return &sc->keys[i];
}

bool
dkim_signconf_has_domain(const struct dkim_signconf *sc, const char *domain)
{
	return best_domain(sc, domain) != NULL;
}

static void
sign_sink(void *arg, const unsigned char *p, size_t n)
{
	EVP_DigestUpdate(arg, p, n);
}

struct dkim_sign *
dkim_sign_new(const struct dkim_signconf *sc, const char *domain, time_t now)
{
	const char *d = best_domain(sc, domain);
	struct dkim_sign *s;
	size_t i;

	if (d == NULL)
		return NULL;
	s = xcalloc(1, sizeof(*s));
	s->conf = sc;
	s->now = now;
	s->keys = xcalloc(sc->nkeys, sizeof(*s->keys));
	for (i = 0; i < sc->nkeys; i++)
		if (strcmp(sc->keys[i].domain, d) == 0)
			s->keys[s->nkeys++] = &sc->keys[i];
	if ((s->bctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(s->bctx, dkim_md(DKIM_HASH_SHA256), NULL) != 1)
		log_panic("dkim: cannot start a digest");
	dkim_body_init(&s->body, sc->bcanon, sign_sink, s->bctx);
	return s;
}

void
dkim_sign_body(struct dkim_sign *s, const void *p, size_t n)
{
	if (!s->finished)
		dkim_body_update(&s->body, p, n);
}

/* count_fields - fields called name */
static size_t
count_fields(const struct hdr *hdrs, size_t n, const char *name)
{
	size_t i, c = 0, len = strlen(name);

	for (i = 0; i < n; i++)
		if (str_nieq(hdrs[i].name, hdrs[i].name_len, name, len))
			c++;
	return c;
}

/* in_list - is name (lower case) in v? */
static bool
in_list(char *const *v, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(v[i], name) == 0)
			return true;
	return false;
}

/*
 * mta_adds - a field the MTA adds to a message lacking it, possibly
 * after the milter saw the header: Sendmail's Date and Message-Id
 * (H?D? and H?M? in sendmail.cf) are never shown to milters.  Postfix
 * adds them before, so they are present there.
 */
static bool
mta_adds(const char *name)
{
	return strcmp(name, "date") == 0 || strcmp(name, "message-id") == 0;
}

/*
 * signed_names - h= for this message: every present instance of each
 * configured field, plus one more for each oversigned field (but not
 * for an absent one that the MTA adds after signing, see mta_adds()).
 */
static char **
signed_names(const struct dkim_signconf *sc, const struct hdr *hdrs,
    size_t nhdrs, size_t *nout)
{
	char **v = NULL;
	size_t i, k, c, n = 0;

	for (i = 0; i < sc->nheaders + sc->noversign; i++) {
		bool listed = i < sc->nheaders;
		const char *name = listed ? sc->headers[i] :
		    sc->oversign[i - sc->nheaders];

		if (!listed && in_list(sc->headers, sc->nheaders, name))
			continue;	/* counted with the header list */
		c = count_fields(hdrs, nhdrs, name);
		if (in_list(sc->oversign, sc->noversign, name) &&
		    (c > 0 || !mta_adds(name)))
			c++;
		if (c > DKIM_MAX_SIGNED_HEADERS - n)
			c = DKIM_MAX_SIGNED_HEADERS - n;
		if (c == 0)
			continue;
		v = xreallocarray(v, n + c, sizeof(char *));
		for (k = 0; k < c; k++)
			v[n++] = (char *)name;
	}
	*nout = n;
	return v;
}

/* fold_item - append " item" or a fold and item, tracking the column */
static void
fold_item(struct buf *v, size_t *col, const char *item)
{
	size_t len = strlen(item);

	if (v->len > 0) {
		if (*col + 1 + len > FOLD_WIDTH) {
			buf_adds(v, "\r\n\t");
			*col = 8;
		} else {
			buf_addc(v, ' ');
			(*col)++;
		}
	}
	buf_adds(v, item);
	*col += len;
}

/* build_value - the field value up to and including "b=" */
static void
build_value(const struct dkim_sign *s, const struct dkim_signkey *k,
    char *const *names, size_t nn, const char *bh, struct buf *v)
{
	static const char *const canon[] = { "simple", "relaxed" };
	const struct dkim_signconf *sc = s->conf;
	size_t col = strlen("DKIM-Signature: "), i;
	char item[600];

	fold_item(v, &col, "v=1;");
	snprintf(item, sizeof(item), "a=%s;", dkim_alg_name(k->alg));
	fold_item(v, &col, item);
	snprintf(item, sizeof(item), "c=%s/%s;", canon[sc->hcanon],
	    canon[sc->bcanon]);
	fold_item(v, &col, item);
	snprintf(item, sizeof(item), "d=%s;", k->domain);
	fold_item(v, &col, item);
	snprintf(item, sizeof(item), "s=%s;", k->selector);
	fold_item(v, &col, item);
	snprintf(item, sizeof(item), "t=%lld;", (long long)s->now);
	fold_item(v, &col, item);
	if (sc->expire > 0) {
		snprintf(item, sizeof(item), "x=%llu;",
		    (unsigned long long)s->now + (unsigned long long)sc->expire);
		fold_item(v, &col, item);
	}
	fold_item(v, &col, "h=");
	for (i = 0; i < nn; i++) {
		size_t len = strlen(names[i]) + 1;

		if (col + len > FOLD_WIDTH) {
			buf_adds(v, "\r\n\t");
			col = 8;
		}
		buf_adds(v, names[i]);
		buf_addc(v, i + 1 < nn ? ':' : ';');
		col += len;
	}
	snprintf(item, sizeof(item), "bh=%s;", bh);
	fold_item(v, &col, item);
	buf_adds(v, "\r\n\tb=");
}

/* append_b64_folded - the b= value, folded at FOLD_WIDTH */
static void
append_b64_folded(struct buf *v, const struct buf *b64)
{
	size_t off = 0, col = 8 + 2, take;

	while (off < b64->len) {
		take = FOLD_WIDTH - col;
		if (take > b64->len - off)
			take = b64->len - off;
		buf_add(v, b64->data + off, take);
		off += take;
		if (off < b64->len) {
			buf_adds(v, "\r\n\t");
			col = 8;
		}
	}
}

/* sign_one - one DKIM-Signature value for key k */
static int
sign_one(const struct dkim_sign *s, const struct dkim_signkey *k,
    const struct hdr *hdrs, size_t nhdrs, char *const *names, size_t nn,
    const char *bh, struct dkim_signed *out)
{
	struct buf v = BUF_INIT, scratch = BUF_INIT, sp = BUF_INIT;
	struct buf b64 = BUF_INIT;
	unsigned char hash[DKIM_MAX_HASH], sig[DKIM_MAX_SIG_BYTES];
	unsigned hlen = 0;
	size_t slen = sizeof(sig);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int rc = -1;

	build_value(s, k, names, nn, bh, &v);
	if (ctx == NULL ||
	    EVP_DigestInit_ex(ctx, dkim_md(DKIM_HASH_SHA256), NULL) != 1)
		log_panic("dkim: cannot start a digest");
	dkim_hash_headers(ctx, s->conf->hcanon, hdrs, nhdrs, names, nn,
	    (size_t)-1, &scratch);
	buf_addc(&sp, ' ');		/* as the MTA will write it */
	buf_add(&sp, v.data, v.len);
	buf_reset(&scratch);
	dkim_canon_header(s->conf->hcanon, "DKIM-Signature", 14, sp.data,
	    sp.len, &scratch);
	EVP_DigestUpdate(ctx, scratch.data, scratch.len);
	EVP_DigestFinal_ex(ctx, hash, &hlen);
	if (dkim_crypto_sign(k->pkey, k->alg, hash, hlen, sig, &slen) == 0) {
		dkim_b64_encode(sig, slen, &b64);
		append_b64_folded(&v, &b64);
		out->value = buf_steal(&v);
		out->domain = k->domain;
		out->selector = k->selector;
		out->algorithm = dkim_alg_name(k->alg);
		out->key_bits = k->bits;
		rc = 0;
	}
	EVP_MD_CTX_free(ctx);
	buf_release(&v);
	buf_release(&scratch);
	buf_release(&sp);
	buf_release(&b64);
	return rc;
}

size_t
dkim_sign_finish(struct dkim_sign *s, const struct hdr *hdrs, size_t nhdrs,
    struct dkim_signed **out, struct buf *why)
{
	unsigned char bh[DKIM_MAX_HASH];
	unsigned bhlen = 0;
	struct buf bh64 = BUF_INIT;
	struct dkim_signed *res;
	char **names;
	size_t nn, i, n = 0, from;

	*out = NULL;
	if (s->finished) {
		buf_adds(why, "signer already finished");
		return 0;
	}
	s->finished = true;
	if ((from = count_fields(hdrs, nhdrs, "From")) != 1) {
		buf_adds(why, from ? "more than one From field" :
		    "no From field");
		return 0;
	}
	dkim_body_final(&s->body);
	EVP_DigestFinal_ex(s->bctx, bh, &bhlen);
	dkim_b64_encode(bh, bhlen, &bh64);
	names = signed_names(s->conf, hdrs, nhdrs, &nn);
	res = xcalloc(s->nkeys, sizeof(*res));
	for (i = 0; i < s->nkeys; i++)
		if (sign_one(s, s->keys[i], hdrs, nhdrs, names, nn, bh64.data,
		    &res[n]) == 0)
			n++;
		else
			buf_printf(why, "%ssigning with %s failed",
			    why->len ? "; " : "", s->keys[i]->path);
	free(names);
	buf_release(&bh64);
	if (n == 0) {
		free(res);
		return 0;
	}
	*out = res;
	return n;
}

void
dkim_signed_free(struct dkim_signed *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i].value);
	free(v);
}

void
dkim_sign_free(struct dkim_sign **sp)
{
	struct dkim_sign *s = *sp;

	if (s == NULL)
		return;
	EVP_MD_CTX_free(s->bctx);
	free(s->keys);
	free(s);
	*sp = NULL;
}
