/*
 * check_dkim.c - DKIM verification and signing, end to end in memory
 *
 * DESCRIPTION
 *	Keys are generated per run (RSA 2048, RSA 1024, Ed25519) and served
 *	by tests/common/fakedns.c or, where zone text is handier, by the
 *	real zone-file backend (dns_zone.c).  Signatures come from the signer under
 *	test or, for tags the signer never writes (i=, l=, odd a=/key
 *	pairs), from hand_sign() below, which builds the field from raw
 *	tags with the same hashing primitives.  The RFC 6376 and RFC 8463
 *	messages and keys come from ../shared/testdata/dkim.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/pem.h>

#include "buf.h"
#include "dkim_int.h"
#include "dns.h"
#include "fakedns.h"
#include "files.h"
#include "helpers.h"
#include "msgparse.h"
#include "scan_steps.h"
#include "strmap.h"

#define T0	1700000000	/* the clock of most tests */

static char tmpdir[64];
static EVP_PKEY *rsa2048, *rsa1024, *ed25519;
static char rsa_path[128], rsa1024_path[128], ed_path[128];

static void
write_key(EVP_PKEY *k, const char *path)
{
	FILE *f;

	umask(077);
	ck_assert((f = fopen(path, "w")) != NULL);
	ck_assert(PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL) == 1);
	fclose(f);
	chmod(path, 0600);
}

static void
keys_setup(void)
{
	strcpy(tmpdir, "/tmp/check_dkim.XXXXXX");
	ck_assert(mkdtemp(tmpdir) != NULL);
	rsa2048 = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	rsa1024 = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
	ed25519 = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	snprintf(rsa_path, sizeof(rsa_path), "%s/rsa.pem", tmpdir);
	snprintf(rsa1024_path, sizeof(rsa1024_path), "%s/rsa1024.pem", tmpdir);
	snprintf(ed_path, sizeof(ed_path), "%s/ed.pem", tmpdir);
	write_key(rsa2048, rsa_path);
	write_key(rsa1024, rsa1024_path);
	write_key(ed25519, ed_path);
}

static void kept_free(void);

static void
keys_teardown(void)
{
	kept_free();
	unlink(rsa_path);
	unlink(rsa1024_path);
	unlink(ed_path);
	rmdir(tmpdir);
	EVP_PKEY_free(rsa2048);
	EVP_PKEY_free(rsa1024);
	EVP_PKEY_free(ed25519);
}

/* add_key - publish k at sel._domainkey.dom in f (extra tags first) */
static void
add_key(struct fakedns *f, const char *sel, const char *dom, EVP_PKEY *k,
    const char *extra)
{
	struct buf rec = BUF_INIT, why = BUF_INIT, all = BUF_INIT;
	char name[256];

	ck_assert_int_eq(dkim_crypto_public_record(k, &rec, &why), 0);
	/* "v=DKIM1; " first, then the extra tags, then the rest */
	buf_add(&all, rec.data, 9);
	if (extra)
		buf_printf(&all, "%s; ", extra);
	buf_adds(&all, rec.data + 9);
	snprintf(name, sizeof(name), "%s._domainkey.%s", sel, dom);
	fakedns_txt(f, name, all.data);
	buf_release(&rec);
	buf_release(&why);
	buf_release(&all);
}

/*
 * resolver_for - a resolver over f.  The table outlives the resolver
 * (fakedns does not hand itself over), so it is kept reachable here.
 */
static struct fakedns *kept[256];
static size_t nkept;

static struct dns_resolver *
resolver_for(struct fakedns *f)
{
	ck_assert_uint_lt(nkept, 256);
	kept[nkept++] = f;
	return fakedns_resolver(f);
}

/* kept_free - tables of tests run in this process (CK_FORK=no) */
static void
kept_free(void)
{
	while (nkept > 0)
		fakedns_free(kept[--nkept]);
}

/* zone_resolver - the zone-file backend over zone text */
static struct dns_resolver *
zone_resolver(const char *text)
{
	struct dns_resolver *r;
	struct dns_opts o;
	struct buf why = BUF_INIT;

	dns_opts_default(&o);
	o.prefetch_threads = 0;
	ck_assert_msg(dns_zone_open_text(text, strlen(text), ".", &o, &r,
	    &why) == 0, "zone: %s", buf_cstr(&why));
	buf_release(&why);
	return r;
}

/* zone_txt - a TXT line for zone text, in strings of 250 bytes */
static void
zone_txt(struct buf *z, const char *name, const char *txt)
{
	size_t off, len = strlen(txt);

	buf_printf(z, "%s. IN TXT", name);
	for (off = 0; off < len; off += 250)
		buf_printf(z, " \"%.*s\"", (int)(len - off < 250 ? len - off : 250),
		    txt + off);
	buf_addc(z, '\n');
}

/* standard_dns - rsa, rsa1024 and ed at example.org */
static struct fakedns *
standard_dns(void)
{
	struct fakedns *f = fakedns_new();

	add_key(f, "rsa", "example.org", rsa2048, NULL);
	add_key(f, "rsa1024", "example.org", rsa1024, NULL);
	add_key(f, "ed", "example.org", ed25519, NULL);
	return f;
}

static const char plain_msg[] =
    "Received: from a by b; Mon, 13 Nov 2023 22:13:20 +0000\r\n"
    "From: Joe SixPack <joe@example.org>\r\n"
    "To: Suzie Q <suzie@shopping.example.net>\r\n"
    "Subject:  Is dinner   ready?\r\n"
    "Date: Mon, 13 Nov 2023 22:13:20 +0000\r\n"
    "Message-ID: <1@example.org>\r\n"
    "X-Folded: a\r\n\tb\r\n"
    "\r\n"
    "Hi.\r\n"
    "\r\n"
    "We lost the game.  Are you \t hungry yet?  \r\n"
    "\r\n"
    "Joe.\r\n"
    "\r\n"
    "\r\n";

/* ---- parsing messages ---- */

struct tmsg {
	struct msg *m;
	struct buf body;
};

static void
t_eoh(void *arg)
{
	(void)arg;
}

static void
t_body(void *arg, const void *p, size_t n)
{
	buf_add(&((struct tmsg *)arg)->body, p, n);
}

static void
tmsg_parse(struct tmsg *t, const char *text, size_t len)
{
	struct msg_limits lim = { 1 << 24, 1 << 24, 10000, 100 };
	struct msgparse_cb cb = { t_eoh, t_body, t };
	struct msgparse *mp;

	t->m = msg_new(&lim);
	buf_init(&t->body);
	mp = msgparse_new(t->m, &cb);
	msgparse_push(mp, text, len);
	msgparse_end(mp);
	msgparse_free(mp);
}

static void
tmsg_free(struct tmsg *t)
{
	msg_free(&t->m);
	buf_release(&t->body);
}

/* ---- verifying ---- */

struct tver {
	struct tmsg t;
	struct dkim_verify *v;
	const struct dkim_sigresult *r;
	size_t	 n;
	unsigned lookups;	/* dns_lookup() calls the verifier made */
};

static struct dkim_vopts
vopts(time_t now)
{
	struct dkim_vopts o;

	memset(&o, 0, sizeof(o));
	o.max_signatures = 5;
	o.min_key_bits = 1024;
	o.clock_skew = 300;
	o.l_policy = DKIM_L_ACCEPT;
	o.now = now;
	return o;
}

/* verify - text through a verifier, body in chunks of step bytes */
static void
verify(struct tver *tv, const char *text, const struct dkim_vopts *o,
    struct dns_resolver *dns, size_t step)
{
	struct dns_budget budget;
	size_t off, take;

	tmsg_parse(&tv->t, text, strlen(text));
	tv->v = dkim_verify_new(o, tv->t.m->hdrs, tv->t.m->nhdrs);
	dkim_verify_prefetch(tv->v, dns);
	for (off = 0; off < tv->t.body.len; off += take) {
		take = tv->t.body.len - off < step ? tv->t.body.len - off : step;
		dkim_verify_body(tv->v, tv->t.body.data + off, take);
	}
	dns_budget_init(&budget, 0);
	dkim_verify_finish(tv->v, dns, &budget);
	tv->lookups = budget.queries;
	dns_budget_release(&budget);
	tv->n = dkim_verify_results(tv->v, &tv->r);
}

static void
tver_free(struct tver *tv)
{
	dkim_verify_free(&tv->v);
	tmsg_free(&tv->t);
}

/* ---- signing with the signer under test ---- */

static struct dkim_signconf *
signconf(const char *keys, const char *canon, const char *oversign)
{
	struct strlist kl = { NULL, 0 }, hl = { NULL, 0 }, ol = { NULL, 0 };
	static char *hdrs[] = { "From", "To", "Subject", "Date", "Message-ID",
		"X-Folded" };
	char *copy = xstrdup(keys), *tok, *save = NULL, *ocopy;
	struct dkim_signopts o;
	struct dkim_signconf *sc;
	struct buf why = BUF_INIT;

	for (tok = strtok_r(copy, " ", &save); tok;
	    tok = strtok_r(NULL, " ", &save)) {
		kl.v = xreallocarray(kl.v, kl.n + 1, sizeof(char *));
		kl.v[kl.n++] = tok;
	}
	ocopy = xstrdup(oversign);
	save = NULL;
	for (tok = strtok_r(ocopy, " ", &save); tok;
	    tok = strtok_r(NULL, " ", &save)) {
		ol.v = xreallocarray(ol.v, ol.n + 1, sizeof(char *));
		ol.v[ol.n++] = tok;
	}
	hl.v = hdrs;
	hl.n = 6;
	o.keys = &kl;
	o.headers = &hl;
	o.oversign = &ol;
	o.canon = canon;
	o.expire = 0;
	ck_assert_msg(dkim_signconf_load(&o, &sc, &why) == 0, "%s",
	    buf_cstr(&why));
	free(kl.v);
	free(ol.v);
	free(copy);
	free(ocopy);
	buf_release(&why);
	return sc;
}

/* sign - the message with our signature fields on top (CRLF) */
static char *
sign(const struct dkim_signconf *sc, const char *text, time_t now)
{
	struct tmsg t;
	struct dkim_sign *s;
	struct dkim_signed *sigs;
	struct buf out = BUF_INIT, why = BUF_INIT;
	size_t n, i;

	tmsg_parse(&t, text, strlen(text));
	s = dkim_sign_new(sc, "example.org", now);
	ck_assert(s != NULL);
	dkim_sign_body(s, t.body.data, t.body.len);
	n = dkim_sign_finish(s, t.m->hdrs, t.m->nhdrs, &sigs, &why);
	ck_assert_msg(n > 0, "%s", buf_cstr(&why));
	for (i = 0; i < n; i++)
		buf_printf(&out, "DKIM-Signature: %s\r\n", sigs[i].value);
	buf_adds(&out, text);
	dkim_signed_free(sigs, n);
	dkim_sign_free(&s);
	tmsg_free(&t);
	buf_release(&why);
	return buf_steal(&out);
}

/* ---- hand-made signatures ---- */

static void
capture(void *arg, const unsigned char *p, size_t n)
{
	buf_add(arg, p, n);
}

/*
 * hand_sign - a DKIM-Signature from raw tags (everything but bh= and
 * b=: c=, h= and l= are read back from them) over text, signed with k.
 */
static char *
hand_sign(EVP_PKEY *k, enum dkim_alg alg, const char *tags, const char *text)
{
	struct dkim_tag tg[DKIM_MAX_TAGS];
	const struct dkim_tag *t;
	enum dkim_canon hc = DKIM_CANON_SIMPLE, bc = DKIM_CANON_SIMPLE;
	struct buf why = BUF_INIT, canon = BUF_INIT, val = BUF_INIT;
	struct buf scratch = BUF_INIT, out = BUF_INIT, sp = BUF_INIT;
	unsigned char d[64], sig[1024];
	unsigned dl;
	size_t nt, nn = 0, slen = sizeof(sig);
	char *names[64], *hcopy = NULL, *tok, *save = NULL;
	uint64_t l = UINT64_MAX;
	struct tmsg tm;
	struct dkim_body *b = xmalloc(sizeof(*b));
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	ck_assert_int_eq(dkim_taglist_parse(tags, strlen(tags), tg,
	    DKIM_MAX_TAGS, &nt, &why), 0);
	if ((t = dkim_tag_find(tg, nt, "c")))
		ck_assert_int_eq(dkim_canon_parse(t->value, t->value_len, &hc,
		    &bc), 0);
	if ((t = dkim_tag_find(tg, nt, "l")))
		l = strtoull(t->value, NULL, 10);
	t = dkim_tag_find(tg, nt, "h");
	hcopy = xstrndup(t->value, t->value_len);
	for (tok = strtok_r(hcopy, ":", &save); tok && nn < 64;
	    tok = strtok_r(NULL, ":", &save))
		names[nn++] = tok;
	tmsg_parse(&tm, text, strlen(text));
	/* collect the canonical body, then hash l bytes of it */
	dkim_body_init(b, bc, capture, &canon);
	dkim_body_update(b, tm.body.data, tm.body.len);
	dkim_body_final(b);
	EVP_Digest(canon.data ? canon.data : "", canon.len < l ? canon.len : l,
	    d, &dl, dkim_md(DKIM_HASH_SHA256), NULL);
	buf_adds(&val, tags);
	buf_adds(&val, " bh=");
	dkim_b64_encode(d, dl, &val);
	buf_adds(&val, "; b=");
	EVP_DigestInit_ex(ctx, dkim_md(DKIM_HASH_SHA256), NULL);
	dkim_hash_headers(ctx, hc, tm.m->hdrs, tm.m->nhdrs, names, nn,
	    (size_t)-1, &scratch);
	buf_printf(&sp, " %s", val.data);
	buf_reset(&scratch);
	dkim_canon_header(hc, "DKIM-Signature", 14, sp.data, sp.len, &scratch);
	EVP_DigestUpdate(ctx, scratch.data, scratch.len);
	EVP_DigestFinal_ex(ctx, d, &dl);
	ck_assert_int_eq(dkim_crypto_sign(k, alg, d, dl, sig, &slen), 0);
	dkim_b64_encode(sig, slen, &val);
	buf_printf(&out, "DKIM-Signature: %s\r\n%s", val.data, text);
	EVP_MD_CTX_free(ctx);
	free(b);
	free(hcopy);
	tmsg_free(&tm);
	buf_release(&why);
	buf_release(&canon);
	buf_release(&val);
	buf_release(&scratch);
	buf_release(&sp);
	return buf_steal(&out);
}

/* ================================================================ */

static const struct {
	const char *name;
	const char *keys;
	const char *canon;
	size_t	 nsigs;
} rt_cases[] = {
	{ "rsa relaxed/relaxed", "example.org:rsa:RSA", "relaxed/relaxed", 1 },
	{ "rsa simple/simple", "example.org:rsa:RSA", "simple/simple", 1 },
	{ "rsa simple/relaxed", "example.org:rsa:RSA", "simple/relaxed", 1 },
	{ "rsa relaxed/simple", "example.org:rsa:RSA", "relaxed/simple", 1 },
	{ "ed25519 relaxed/relaxed", "example.org:ed:ED", "relaxed/relaxed", 1 },
	{ "ed25519 simple/simple", "example.org:ed:ED", "simple/simple", 1 },
	{ "dual rsa + ed25519", "example.org:rsa:RSA example.org:ed:ED",
	  "relaxed/relaxed", 2 },
	{ "rsa 1024", "example.org:rsa1024:RSA1024", "relaxed/relaxed", 1 },
};

/* expand_keys - RSA/ED/RSA1024 placeholders to the temp key paths */
static char *
expand_keys(const char *keys)
{
	struct buf b = BUF_INIT;
	const char *p;

	for (p = keys; *p; p++) {
		if (strncmp(p, "RSA1024", 7) == 0) {
			buf_adds(&b, rsa1024_path);
			p += 6;
		} else if (strncmp(p, "RSA", 3) == 0) {
			buf_adds(&b, rsa_path);
			p += 2;
		} else if (strncmp(p, "ED", 2) == 0) {
			buf_adds(&b, ed_path);
			p += 1;
		} else
			buf_addc(&b, *p);
	}
	return buf_steal(&b);
}

START_TEST(test_dkim_sign_then_verify_round_trip)
{
	static const size_t steps[] = { 1, 7, 100000 };
	char *keys = expand_keys(rt_cases[_i].keys);
	struct dkim_signconf *sc = signconf(keys, rt_cases[_i].canon,
	    "From To Subject Date");
	struct dns_resolver *dns = resolver_for(standard_dns());
	struct dkim_vopts o = vopts(T0 + 10);
	char *signed_msg = sign(sc, plain_msg, T0);
	size_t s, i;

	for (s = 0; s < 3; s++) {
		struct tver tv;

		verify(&tv, signed_msg, &o, dns, steps[s]);
		ck_assert_uint_eq(tv.n, rt_cases[_i].nsigs);
		for (i = 0; i < tv.n; i++) {
			ck_assert_msg(tv.r[i].result == DKIM_PASS,
			    "%s step %zu sig %zu: %s (%s)", rt_cases[_i].name,
			    steps[s], i, dkim_result_name(tv.r[i].result),
			    tv.r[i].reason);
			ck_assert_str_eq(tv.r[i].domain, "example.org");
			ck_assert(tv.r[i].key_bits >= 253);
			ck_assert(!tv.r[i].header_injection);
		}
		tver_free(&tv);
	}
	free(signed_msg);
	free(keys);
	dkim_signconf_free(sc);
	dns_resolver_free(dns);
}
END_TEST

START_TEST(test_dkim_tampering_fails)
{
	char *keys = expand_keys("example.org:rsa:RSA example.org:ed:ED");
	struct dkim_signconf *sc = signconf(keys, "relaxed/relaxed",
	    "From To Subject Date");
	struct dns_resolver *dns = resolver_for(standard_dns());
	struct dkim_vopts o = vopts(T0);
	char *sm = sign(sc, plain_msg, T0), *p;
	struct tver tv;

	/* body changed in transit */
	p = strstr(sm, "Joe.\r\n");
	p[0] = 'J';
	p[1] = 'O';
	verify(&tv, sm, &o, dns, 64);
	ck_assert_int_eq(tv.r[0].result, DKIM_FAIL);
	ck_assert_str_eq(tv.r[0].reason, "body hash did not verify");
	ck_assert_int_eq(tv.r[1].result, DKIM_FAIL);
	tver_free(&tv);
	p[1] = 'o';
	/* a signed header changed: body hash fine, signature not */
	p = strstr(sm, "Subject:");
	p[10] = 'X';
	verify(&tv, sm, &o, dns, 64);
	ck_assert_int_eq(tv.r[0].result, DKIM_FAIL);
	ck_assert_str_eq(tv.r[0].reason, "signature did not verify");
	ck_assert_int_eq(tv.r[1].result, DKIM_FAIL);
	tver_free(&tv);
	free(sm);
	free(keys);
	dkim_signconf_free(sc);
	dns_resolver_free(dns);
}
END_TEST

/* relaxed tolerates what it promises to: re-folding and WSP changes */
START_TEST(test_dkim_relaxed_survives_refolding)
{
	char *keys = expand_keys("example.org:ed:ED");
	struct dkim_signconf *sc = signconf(keys, "relaxed/relaxed", "");
	struct dns_resolver *dns = resolver_for(standard_dns());
	struct dkim_vopts o = vopts(T0);
	char *sm = sign(sc, plain_msg, T0);
	struct buf b = BUF_INIT;
	const char *p = strstr(sm, "To: Suzie Q");
	struct tver tv;

	buf_add(&b, sm, (size_t)(p - sm));
	buf_adds(&b, "to:   Suzie Q\r\n    <suzie@shopping.example.net>  ");
	buf_adds(&b, strstr(p, "\r\nSubject:"));
	verify(&tv, b.data, &o, dns, 3);
	ck_assert_msg(tv.r[0].result == DKIM_PASS, "%s", tv.r[0].reason);
	tver_free(&tv);
	free(sm);
	free(keys);
	buf_release(&b);
	dkim_signconf_free(sc);
	dns_resolver_free(dns);
}
END_TEST

/* ---- RFC messages ---- */

/* load_shared - a shared test file with bare LF turned into CRLF */
static char *
load_shared(const char *rel)
{
	const char *path = shared_data(rel);
	struct buf text = BUF_INIT, why = BUF_INIT, out = BUF_INIT;
	size_t i;

	ck_assert_msg(path != NULL, "missing %s", rel);
	ck_assert_int_eq(files_read(path, 1 << 20, &text, &why), 0);
	for (i = 0; i < text.len; i++) {
		if (text.data[i] == '\n' && (i == 0 || text.data[i - 1] != '\r'))
			buf_addc(&out, '\r');
		buf_addc(&out, text.data[i]);
	}
	buf_release(&text);
	buf_release(&why);
	return buf_steal(&out);
}

/* zone_dns - keys.zone through the zone-file backend */
static struct dns_resolver *
zone_dns(void)
{
	const char *paths[1] = { shared_data("testdata/dkim/keys.zone") };
	struct dns_resolver *r;
	struct dns_opts o;
	struct buf why = BUF_INIT;

	dns_opts_default(&o);
	o.prefetch_threads = 0;
	ck_assert_msg(dns_zone_open(paths, 1, &o, &r, &why) == 0, "%s",
	    buf_cstr(&why));
	buf_release(&why);
	return r;
}

START_TEST(test_dkim_rfc_messages_pass)
{
	static const struct {
		const char *file;
		size_t	 n;
	} c[] = {
		{ "testdata/dkim/rfc/rfc6376-appendix-a.eml", 1 },
		{ "testdata/dkim/rfc/rfc8463-appendix-a.eml", 2 },
	};
	struct dns_resolver *dns = zone_dns();
	struct dkim_vopts o = vopts(T0);
	char *text = load_shared(c[_i].file);
	struct tver tv;
	size_t i;

	verify(&tv, text, &o, dns, 5);
	ck_assert_uint_eq(tv.n, c[_i].n);
	for (i = 0; i < tv.n; i++)
		ck_assert_msg(tv.r[i].result == DKIM_PASS, "%s sig %zu: %s",
		    c[_i].file, i, tv.r[i].reason);
	tver_free(&tv);
	free(text);
	dns_resolver_free(dns);
}
END_TEST

/* load_private - a dkimpy key file through the production loader */
static EVP_PKEY *
load_private(const char *rel)
{
	struct buf text = BUF_INIT, why = BUF_INIT;
	EVP_PKEY *k;

	ck_assert_int_eq(files_read(shared_data(rel), 65536, &text, &why), 0);
	ck_assert_msg(dkim_crypto_private(text.data, text.len, &k, &why) == 0,
	    "%s: %s", rel, buf_cstr(&why));
	buf_release(&text);
	buf_release(&why);
	return k;
}

/*
 * RFC 8463 A.3: with the A.1 private keys (RSA: dkimpy test.private,
 * Ed25519: RFC 8032 7.1 test 1), hashing the published fields and
 * signing gives the published b= values byte for byte (both schemes
 * are deterministic).
 */
START_TEST(test_dkim_rfc8463_signatures_reproduced)
{
	EVP_PKEY *ed = load_private("testdata/dkim/dkimpy/rfc8032_7_1.key");
	EVP_PKEY *rsa = load_private("testdata/dkim/dkimpy/test.private");
	char *text = load_shared("testdata/dkim/rfc/rfc8463-appendix-a.eml");
	struct tmsg tm;
	size_t i, found = 0;

	tmsg_parse(&tm, text, strlen(text));
	for (i = 0; i < tm.m->nhdrs; i++) {
		const struct hdr *f = &tm.m->hdrs[i];
		struct dkim_sig sig;
		struct buf why = BUF_INIT, tmp = BUF_INIT, sc = BUF_INIT;
		unsigned char d[64], s[1024];
		unsigned dl;
		size_t slen = sizeof(s);
		EVP_MD_CTX *ctx;

		if (strcmp(f->name, "DKIM-Signature") != 0)
			continue;
		ck_assert_int_eq(dkim_sig_parse(f->value, f->value_len, &sig,
		    &why), 0);
		ctx = EVP_MD_CTX_new();
		EVP_DigestInit_ex(ctx, dkim_md(DKIM_HASH_SHA256), NULL);
		dkim_hash_headers(ctx, sig.hcanon, tm.m->hdrs, tm.m->nhdrs,
		    sig.hnames, sig.nh, i, &sc);
		buf_add(&tmp, f->value, sig.b_start);
		buf_add(&tmp, f->value + sig.b_end, f->value_len - sig.b_end);
		buf_reset(&sc);
		dkim_canon_header(sig.hcanon, f->name, f->name_len, tmp.data,
		    tmp.len, &sc);
		EVP_DigestUpdate(ctx, sc.data, sc.len);
		EVP_DigestFinal_ex(ctx, d, &dl);
		ck_assert_int_eq(dkim_crypto_sign(sig.alg ==
		    DKIM_ALG_ED25519_SHA256 ? ed : rsa, sig.alg, d, dl, s,
		    &slen), 0);
		ck_assert_uint_eq(slen, sig.blen);
		ck_assert_msg(memcmp(s, sig.b, slen) == 0, "%s: b= differs",
		    dkim_alg_name(sig.alg));
		found++;
		EVP_MD_CTX_free(ctx);
		dkim_sig_release(&sig);
		buf_release(&why);
		buf_release(&tmp);
		buf_release(&sc);
	}
	ck_assert_uint_eq(found, 2);
	tmsg_free(&tm);
	free(text);
	EVP_PKEY_free(ed);
	EVP_PKEY_free(rsa);
}
END_TEST

/* signing the RFC 8463 message with its keys verifies with its records */
START_TEST(test_dkim_rfc8463_keys_round_trip)
{
	static const char *const files[] = {
		"testdata/dkim/dkimpy/rfc8032_7_1.key",
		"testdata/dkim/dkimpy/test.private",
	};
	static const char *const sels[] = { "brisbane", "test" };
	char *text = load_shared("testdata/dkim/rfc/rfc8463-appendix-a.eml");
	char *body = strstr(text, "From: Joe");
	struct dns_resolver *dns = zone_dns();
	struct dkim_vopts o = vopts(T0);
	char path[160], entry[256];
	struct buf data = BUF_INIT, why = BUF_INIT;
	size_t k;

	for (k = 0; k < 2; k++) {
		struct dkim_signconf *sc;
		struct tver tv;
		char *sm;
		FILE *f;

		snprintf(path, sizeof(path), "%s/rfc8463-%zu.key", tmpdir, k);
		buf_reset(&data);
		ck_assert_int_eq(files_read(shared_data(files[k]), 65536, &data,
		    &why), 0);
		ck_assert((f = fopen(path, "w")) != NULL);
		fwrite(data.data, 1, data.len, f);
		fclose(f);
		chmod(path, 0600);
		snprintf(entry, sizeof(entry), "football.example.com:%s:%s",
		    sels[k], path);
		sc = signconf(entry, "relaxed/relaxed", "From");
		{
			struct tmsg tm;
			struct dkim_sign *s;
			struct dkim_signed *sigs;
			struct buf out = BUF_INIT;
			size_t n;

			tmsg_parse(&tm, body, strlen(body));
			s = dkim_sign_new(sc, "football.example.com", T0);
			dkim_sign_body(s, tm.body.data, tm.body.len);
			n = dkim_sign_finish(s, tm.m->hdrs, tm.m->nhdrs, &sigs,
			    &why);
			ck_assert_uint_eq(n, 1);
			ck_assert(strstr(sigs[0].value, "bh=2jUSOH9NhtVGCQWNr9"
			    "BrIAPreKQjO6Sn7XIkfJVOzv8=;") != NULL);
			buf_printf(&out, "DKIM-Signature: %s\r\n%s",
			    sigs[0].value, body);
			sm = buf_steal(&out);
			dkim_signed_free(sigs, n);
			dkim_sign_free(&s);
			tmsg_free(&tm);
		}
		verify(&tv, sm, &o, dns, 11);
		ck_assert_uint_eq(tv.n, 1);
		ck_assert_msg(tv.r[0].result == DKIM_PASS, "%s", tv.r[0].reason);
		ck_assert_str_eq(tv.r[0].algorithm, k == 0 ? "ed25519-sha256" :
		    "rsa-sha256");
		tver_free(&tv);
		free(sm);
		dkim_signconf_free(sc);
		unlink(path);
	}
	buf_release(&data);
	buf_release(&why);
	free(text);
	dns_resolver_free(dns);
}
END_TEST

/* ---- clock ---- */

static const struct {
	const char *name;
	time_t	 now;
	enum dkim_result want;
	const char *why;
} clock_cases[] = {
	{ "within lifetime", T0 + 500, DKIM_PASS, NULL },
	{ "at expiry", T0 + 1000, DKIM_PASS, NULL },
	{ "expired", T0 + 1001, DKIM_PERMERROR, "expired" },
	{ "t= slightly ahead (skew)", T0 - 200, DKIM_PASS, NULL },
	{ "t= in the future", T0 - 1000, DKIM_PERMERROR, "future" },
};

START_TEST(test_dkim_clock_x_and_t)
{
	struct dns_resolver *dns = resolver_for(standard_dns());
	struct dkim_vopts o = vopts(clock_cases[_i].now);
	char tags[256];
	char *sm;
	struct tver tv;

	snprintf(tags, sizeof(tags), "v=1; a=ed25519-sha256; c=relaxed/relaxed;"
	    " d=example.org; s=ed; t=%d; x=%d; h=from:to:subject;", T0,
	    T0 + 1000);
	sm = hand_sign(ed25519, DKIM_ALG_ED25519_SHA256, tags, plain_msg);
	verify(&tv, sm, &o, dns, 50);
	ck_assert_msg(tv.r[0].result == clock_cases[_i].want, "%s: %s (%s)",
	    clock_cases[_i].name, dkim_result_name(tv.r[0].result),
	    tv.r[0].reason);
	if (clock_cases[_i].why)
		ck_assert(strstr(tv.r[0].reason, clock_cases[_i].why) != NULL);
	tver_free(&tv);
	free(sm);
	dns_resolver_free(dns);
}
END_TEST

/* ---- key lookup outcomes ---- */

static const struct {
	const char *name;
	const char *zone;
	enum dkim_result want;
	const char *why;
} dns_cases[] = {
	{ "timeout is temperror", "ed._domainkey.example.org. TIMEOUT",
	  DKIM_TEMPERROR, "timeout" },
	{ "SERVFAIL is temperror", "ed._domainkey.example.org. SERVFAIL",
	  DKIM_TEMPERROR, "servfail" },
	{ "NXDOMAIN is permerror", "ed._domainkey.example.org. NXDOMAIN",
	  DKIM_PERMERROR, "nxdomain" },
	{ "unlisted name is permerror", "", DKIM_PERMERROR, "nxdomain" },
	{ "NODATA is permerror", "ed._domainkey.example.org. IN A 192.0.2.1",
	  DKIM_PERMERROR, "nodata" },
	{ "revoked key", "ed._domainkey.example.org. IN TXT \"k=ed25519; p=\"",
	  DKIM_PERMERROR, "revoked" },
	{ "garbage key", "ed._domainkey.example.org. IN TXT \"p=@@\"",
	  DKIM_PERMERROR, "base64" },
	{ "RSA key for an ed25519 signature", NULL, DKIM_PERMERROR,
	  "does not match" },
	{ "key h=sha1 only", "ed._domainkey.example.org. IN TXT "
	  "\"k=ed25519; h=sha1; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=\"",
	  DKIM_PERMERROR, "h=" },
	{ "bad then good record", "ed._domainkey.example.org. IN TXT \"x\"\n"
	  "GOOD", DKIM_PASS, NULL },
};

START_TEST(test_dkim_key_lookup_outcomes)
{
	struct buf z = BUF_INIT, rec = BUF_INIT, why = BUF_INIT;
	const char *zone = dns_cases[_i].zone;
	struct dns_resolver *dns;
	struct dkim_vopts o = vopts(T0);
	struct tver tv;
	char *sm;

	if (zone == NULL) {
		ck_assert_int_eq(dkim_crypto_public_record(rsa2048, &rec, &why),
		    0);
		zone_txt(&z, "ed._domainkey.example.org", rec.data);
	} else if (strstr(zone, "GOOD")) {
		buf_add(&z, zone, strlen(zone) - 4);
		ck_assert_int_eq(dkim_crypto_public_record(ed25519, &rec, &why),
		    0);
		zone_txt(&z, "ed._domainkey.example.org", rec.data);
	} else
		buf_printf(&z, "%s\n", zone);
	/* something else in the zone, so that it is not empty */
	buf_adds(&z, "www.example.org. IN A 192.0.2.80\n");
	dns = zone_resolver(z.data);
	sm = hand_sign(ed25519, DKIM_ALG_ED25519_SHA256, "v=1; "
	    "a=ed25519-sha256; d=example.org; s=ed; h=from;", plain_msg);
	verify(&tv, sm, &o, dns, 50);
	ck_assert_msg(tv.r[0].result == dns_cases[_i].want, "%s: %s (%s)",
	    dns_cases[_i].name, dkim_result_name(tv.r[0].result),
	    tv.r[0].reason);
	if (dns_cases[_i].why)
		ck_assert_msg(strstr(tv.r[0].reason, dns_cases[_i].why), "%s: %s",
		    dns_cases[_i].name, tv.r[0].reason);
	tver_free(&tv);
	free(sm);
	dns_resolver_free(dns);
	buf_release(&z);
	buf_release(&rec);
	buf_release(&why);
}
END_TEST

START_TEST(test_dkim_no_resolver_is_temperror)
{
	struct dkim_vopts o = vopts(T0);
	struct tver tv;
	char *sm = hand_sign(ed25519, DKIM_ALG_ED25519_SHA256, "v=1; "
	    "a=ed25519-sha256; d=example.org; s=ed; h=from;", plain_msg);

	verify(&tv, sm, &o, NULL, 50);
	ck_assert_int_eq(tv.r[0].result, DKIM_TEMPERROR);
	tver_free(&tv);
	free(sm);
}
END_TEST

/* one lookup per key name per message, however many signatures use it */
START_TEST(test_dkim_key_fetched_once)
{
	struct fakedns *f = standard_dns();
	struct dns_resolver *dns = resolver_for(f);
	struct dkim_vopts o = vopts(T0);
	char *s1 = hand_sign(ed25519, DKIM_ALG_ED25519_SHA256, "v=1; "
	    "a=ed25519-sha256; d=example.org; s=ed; h=from;", plain_msg);
	char *s2 = hand_sign(ed25519, DKIM_ALG_ED25519_SHA256, "v=1; "
	    "a=ed25519-sha256; d=example.org; s=ed; c=relaxed; h=from:to;", s1);
	struct tver tv;

	verify(&tv, s2, &o, dns, 50);
	ck_assert_uint_eq(tv.n, 2);
	ck_assert_int_eq(tv.r[0].result, DKIM_PASS);
	ck_assert_int_eq(tv.r[1].result, DKIM_PASS);
	ck_assert_uint_eq(tv.lookups, 1);
	tver_free(&tv);
	free(s1);
	free(s2);
	dns_resolver_free(dns);
}
END_TEST

/* ---- RFC 8301 ---- */

START_TEST(test_dkim_rsa_sha1_not_accepted_and_not_fetched)
{
	struct fakedns *f = standard_dns();
	struct dns_resolver *dns = resolver_for(f);
	struct dkim_vopts o = vopts(T0);
	struct tver tv;
	char *sm;

	/* a well-formed rsa-sha1 signature from the Mail::DKIM corpus */
	sm = load_shared("testdata/dkim/mail-dkim/corpus/good_rfc4871_3.txt");
	verify(&tv, sm, &o, dns, 50);
	ck_assert_int_eq(tv.r[0].result, DKIM_PERMERROR);
	ck_assert(tv.r[0].sha1);
	ck_assert_str_eq(tv.r[0].reason, "rsa-sha1 is not accepted (RFC 8301)");
	ck_assert_str_eq(tv.r[0].algorithm, "rsa-sha1");
	ck_assert_uint_eq(fakedns_queries(f), 0);
	tver_free(&tv);
	free(sm);
	dns_resolver_free(dns);
}
END_TEST

START_TEST(test_dkim_min_key_bits)
{
	EVP_PKEY *small = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)768);
	struct fakedns *f = fakedns_new();
	struct dns_resolver *dns;
	struct dkim_vopts o = vopts(T0);
	char *sm;
	struct tver tv;

	add_key(f, "small", "example.org", small, NULL);
	dns = resolver_for(f);
	sm = hand_sign(small, DKIM_ALG_RSA_SHA256, "v=1; a=rsa-sha256; "
	    "d=example.org; s=small; h=from;", plain_msg);
	verify(&tv, sm, &o, dns, 50);
	ck_assert_int_eq(tv.r[0].result, DKIM_PERMERROR);
	ck_assert_msg(strstr(tv.r[0].reason, "768 bits is below the 1024-bit")
	    != NULL, "%s", tv.r[0].reason);
	ck_assert_uint_eq(tv.r[0].key_bits, 768);
	tver_free(&tv);
	o.min_key_bits = 512;		/* a legacy setting */
	verify(&tv, sm, &o, dns, 50);
	ck_assert_msg(tv.r[0].result == DKIM_PASS, "%s", tv.r[0].reason);
	tver_free(&tv);
	free(sm);
	EVP_PKEY_free(small);
	dns_resolver_free(dns);
}
END_TEST

START_TEST(test_dkim_min_key_bits_2048_refuses_1024)
{
	char *keys = expand_keys("example.org:rsa1024:RSA1024");
	struct dkim_signconf *sc = signconf(keys, "relaxed/relaxed", "");
	struct dns_resolver *dns = resolver_for(standard_dns());
	struct dkim_vopts o = vopts(T0);
	char *sm = sign(sc, plain_msg, T0);
	struct tver tv;

	o.min_key_bits = 2048;
	verify(&tv, sm, &o, dns, 50);
	ck_assert_int_eq(tv.r[0].result, DKIM_PERMERROR);
	tver_free(&tv);
	free(sm);
	free(keys);
	dkim_signconf_free(sc);
	dns_resolver_free(dns);
}
END_TEST

/* ---- key flags ---- */

START_TEST(test_dkim_key_flags)
{
	struct fakedns *f = fakedns_new();
	struct dns_resolver *dns;
	struct dkim_vopts o = vopts(T0);
	struct tver tv;
	char *sm;

	add_key(f, "strict", "example.org", ed25519, "t=s");
	add_key(f, "test", "example.org", ed25519, "t=y");
	add_key(f, "chat", "example.org", ed25519, "s=chat");
	dns = resolver_for(f);

	sm = hand_sign(ed25519, DKIM_ALG_ED25519_SHA256, "v=1; a=ed25519-sha256;"
	    " d=example.org; s=strict; i=@mail.example.org; h=from;", plain_msg);
	verify(&tv, sm, &o, dns, 50);
	ck_assert_int_eq(tv.r[0].result, DKIM_PERMERROR);
	ck_assert(strstr(tv.r[0].reason, "t=s") != NULL);
	tver_free(&tv);
	free(sm);

	sm = hand_sign(ed25519, DKIM_ALG_ED25519_SHA256, "v=1; a=ed25519-sha256;"
	    " d=example.org; s=strict; i=joe@example.org; h=from;", plain_msg);
	verify(&tv, sm, &o, dns, 50);
	ck_assert_int_eq(tv.r[0].result, DKIM_PASS);
	ck_assert_str_eq(tv.r[0].identity, "joe@example.org");
	tver_free(&tv);
	free(sm);

	sm = hand_sign(ed25519, DKIM_ALG_ED25519_SHA256, "v=1; a=ed25519-sha256;"
	    " d=example.org; s=test; h=from;", plain_msg);
	verify(&tv, sm, &o, dns, 50);
	ck_assert_int_eq(tv.r[0].result, DKIM_PASS);
	ck_assert(tv.r[0].testing);
	tver_free(&tv);
	free(sm);

	sm = hand_sign(ed25519, DKIM_ALG_ED25519_SHA256, "v=1; a=ed25519-sha256;"
	    " d=example.org; s=chat; h=from;", plain_msg);
	verify(&tv, sm, &o, dns, 50);
	ck_assert_int_eq(tv.r[0].result, DKIM_PERMERROR);
	tver_free(&tv);
	free(sm);
	dns_resolver_free(dns);
}
END_TEST

/* ---- l= ---- */

START_TEST(test_dkim_body_length_tag)
{
	struct dns_resolver *dns = resolver_for(standard_dns());
	struct dkim_vopts o = vopts(T0);
	struct buf appended = BUF_INIT;
	struct tver tv;
	char *sm;

	/* l= covering the whole relaxed body: a plain pass */
	sm = hand_sign(ed25519, DKIM_ALG_ED25519_SHA256, "v=1; a=ed25519-sha256;"
	    " c=relaxed/relaxed; d=example.org; s=ed; l=54; h=from;",
	    plain_msg);
	verify(&tv, sm, &o, dns, 50);
	ck_assert_msg(tv.r[0].result == DKIM_PASS, "%s", tv.r[0].reason);
	ck_assert_uint_eq(tv.r[0].body_length, 54);
	ck_assert(tv.r[0].has_l && !tv.r[0].l_partial);
	tver_free(&tv);

	/* text appended after signing: still passes, flagged */
	buf_adds(&appended, sm);
	buf_adds(&appended, "Click here: http://evil.example/\r\n");
	verify(&tv, appended.data, &o, dns, 50);
	ck_assert_int_eq(tv.r[0].result, DKIM_PASS);
	ck_assert(tv.r[0].l_partial);
	ck_assert_uint_eq(tv.r[0].l, 54);
	ck_assert_uint_gt(tv.r[0].body_length, 54);
	tver_free(&tv);
	/* ... unless policy refuses l= signatures that leave bytes out */
	o.l_policy = DKIM_L_REFUSE;
	verify(&tv, appended.data, &o, dns, 50);
	ck_assert_int_eq(tv.r[0].result, DKIM_POLICY);
	tver_free(&tv);
	free(sm);

	/* l= longer than the body */
	sm = hand_sign(ed25519, DKIM_ALG_ED25519_SHA256, "v=1; a=ed25519-sha256;"
	    " c=relaxed/relaxed; d=example.org; s=ed; l=600; h=from;",
	    plain_msg);
	verify(&tv, sm, &o, dns, 50);
	ck_assert_int_eq(tv.r[0].result, DKIM_FAIL);
	ck_assert(strstr(tv.r[0].reason, "l= exceeds") != NULL);
	tver_free(&tv);
	free(sm);
	buf_release(&appended);
	dns_resolver_free(dns);
}
END_TEST

/* ---- header injection ---- */

START_TEST(test_dkim_header_injection)
{
	char *keys = expand_keys("example.org:ed:ED");
	struct dkim_signconf *plain = signconf(keys, "relaxed/relaxed", "");
	struct dkim_signconf *over = signconf(keys, "relaxed/relaxed",
	    "From To Subject Date");
	struct dns_resolver *dns = resolver_for(standard_dns());
	struct dkim_vopts o = vopts(T0);
	char *s1 = sign(plain, plain_msg, T0), *s2 = sign(over, plain_msg, T0);
	struct buf inj = BUF_INIT;
	struct tver tv;

	/* an extra From on top of a signature that signed one From */
	buf_printf(&inj, "From: ceo@example.org\r\n%s", s1);
	verify(&tv, inj.data, &o, dns, 50);
	ck_assert_int_eq(tv.r[0].result, DKIM_PASS);
	ck_assert(tv.r[0].header_injection);
	ck_assert_str_eq(tv.r[0].injected, "From");
	tver_free(&tv);

	/* oversigned: the extra Subject breaks the signature */
	buf_reset(&inj);
	buf_printf(&inj, "Subject: Urgent wire transfer\r\n%s", s2);
	verify(&tv, inj.data, &o, dns, 50);
	ck_assert_int_eq(tv.r[0].result, DKIM_FAIL);
	tver_free(&tv);

	/* oversigned and untouched: passes, no injection */
	verify(&tv, s2, &o, dns, 50);
	ck_assert_int_eq(tv.r[0].result, DKIM_PASS);
	ck_assert(!tv.r[0].header_injection);
	tver_free(&tv);
	free(s1);
	free(s2);
	free(keys);
	buf_release(&inj);
	dkim_signconf_free(plain);
	dkim_signconf_free(over);
	dns_resolver_free(dns);
}
END_TEST

/*
 * Sendmail adds Date and Message-ID to a message that has none after
 * the milter saw its header (Postfix adds them before): a signature
 * must not oversign those two when they are absent, or the MTA's own
 * fields break it.  Absent Subject stays oversigned.
 */
static const char undated_msg[] =
    "From: Joe SixPack <joe@example.org>\r\n"
    "To: Suzie Q <suzie@shopping.example.net>\r\n"
    "Subject: undated\r\n"
    "\r\n"
    "Hi.\r\n";

START_TEST(test_dkim_mta_added_fields_not_oversigned)
{
	char *keys = expand_keys("example.org:ed:ED");
	struct dkim_signconf *over = signconf(keys, "relaxed/relaxed",
	    "From To Subject Date Message-ID");
	struct dns_resolver *dns = resolver_for(standard_dns());
	struct dkim_vopts o = vopts(T0);
	char *s = sign(over, undated_msg, T0);
	struct buf mta = BUF_INIT;
	struct tver tv;

	ck_assert_ptr_null(strstr(s, ":date"));
	ck_assert_ptr_null(strstr(s, ":message-id"));
	ck_assert_ptr_nonnull(strstr(s, "h=from:from:to:to:subject:subject;"));
	/* what Sendmail delivers: its Date and Message-Id on top */
	buf_printf(&mta, "Date: Mon, 13 Nov 2023 22:13:20 +0000\r\n"
	    "Message-Id: <202311132213.3ADMDK@mx.example.net>\r\n%s", s);
	verify(&tv, mta.data, &o, dns, 50);
	ck_assert_int_eq(tv.r[0].result, DKIM_PASS);
	tver_free(&tv);
	free(s);
	free(keys);
	buf_release(&mta);
	dkim_signconf_free(over);
	dns_resolver_free(dns);
}
END_TEST

/* ---- several signatures and hostile input ---- */

START_TEST(test_dkim_signature_cap)
{
	struct dns_resolver *dns = resolver_for(standard_dns());
	struct dkim_vopts o = vopts(T0);
	char *cur = xstrdup(plain_msg), *next;
	struct tver tv;
	size_t i;

	for (i = 0; i < 7; i++) {
		next = hand_sign(ed25519, DKIM_ALG_ED25519_SHA256, "v=1; "
		    "a=ed25519-sha256; d=example.org; s=ed; h=from;", cur);
		free(cur);
		cur = next;
	}
	verify(&tv, cur, &o, dns, 50);
	ck_assert_uint_eq(tv.n, 5);
	ck_assert_uint_eq(dkim_verify_seen(tv.v), 7);
	for (i = 0; i < tv.n; i++) {
		ck_assert_int_eq(tv.r[i].result, DKIM_PASS);
		ck_assert_uint_eq(tv.r[i].field_index, i);
	}
	tver_free(&tv);
	free(cur);
	dns_resolver_free(dns);
}
END_TEST

START_TEST(test_dkim_bad_signatures_do_not_spoil_good_ones)
{
	static const char *const bad[] = {
		"v=1; a=rsa-sha256; d=example.org; s=rsa; h=from; bh=!!; b=x",
		"v=1; a=rsa-sha256; c=future; d=example.org; s=rsa; h=from;"
		    " bh=AAAA; b=AAAA",
		"garbage",
		"v=1; a=rsa-sha256; d=example.org; d=example.org; s=x; h=from;"
		    " bh=AAAA; b=AAAA",
		"",
	};
	struct dns_resolver *dns = resolver_for(standard_dns());
	struct dkim_vopts o = vopts(T0);
	struct buf text = BUF_INIT;
	char *sm = hand_sign(ed25519, DKIM_ALG_ED25519_SHA256, "v=1; "
	    "a=ed25519-sha256; d=example.org; s=ed; h=from;", plain_msg);
	struct tver tv;
	size_t i;

	for (i = 0; i < 4; i++)
		buf_printf(&text, "DKIM-Signature: %s\r\n", bad[i]);
	buf_adds(&text, sm);
	o.max_signatures = 10;
	verify(&tv, text.data, &o, dns, 50);
	ck_assert_uint_eq(tv.n, 5);
	for (i = 0; i < 4; i++) {
		ck_assert_int_eq(tv.r[i].result, DKIM_PERMERROR);
		ck_assert(tv.r[i].reason && *tv.r[i].reason);
	}
	ck_assert_int_eq(tv.r[4].result, DKIM_PASS);
	tver_free(&tv);
	free(sm);
	buf_release(&text);
	dns_resolver_free(dns);
}
END_TEST

/* hostile: 50 signatures, bogus base64, garbage keys, 1 MB b= */
START_TEST(test_dkim_hostile_fifty_signatures)
{
	struct fakedns *f = fakedns_new();
	struct dns_resolver *dns;
	struct dkim_vopts o = vopts(T0);
	struct buf text = BUF_INIT;
	struct tver tv;
	size_t i;

	for (i = 0; i < 50; i++) {
		char name[64];

		snprintf(name, sizeof(name), "s%zu._domainkey.example.org", i);
		fakedns_txt(f, name, i % 2 ? "v=DKIM1; p=MIIBIjANBgkqhkiG"
		    "9w0BAQEFAAOCAQ8AMIIBCgKCAQEAAAAA" : "v=DKIM1; k=rsa; "
		    "p=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
		buf_printf(&text, "DKIM-Signature: v=1; a=rsa-sha256; "
		    "d=example.org; s=s%zu; h=from:from:from; bh=%s; b=%s\r\n",
		    i, "2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=",
		    i % 3 ? "AAAA" : "A=A=");
	}
	buf_adds(&text, plain_msg);
	dns = resolver_for(f);
	o.max_signatures = 50;
	verify(&tv, text.data, &o, dns, 50);
	ck_assert_uint_eq(tv.n, 50);
	for (i = 0; i < 50; i++)
		ck_assert_msg(tv.r[i].result == DKIM_PERMERROR ||
		    tv.r[i].result == DKIM_FAIL, "sig %zu: %s", i,
		    tv.r[i].reason);
	ck_assert_uint_le(tv.lookups, 50);
	tver_free(&tv);
	buf_release(&text);
	dns_resolver_free(dns);
}
END_TEST

START_TEST(test_dkim_hostile_huge_fields)
{
	struct dkim_vopts o = vopts(T0);
	struct buf b = BUF_INIT, h = BUF_INIT;
	struct hdr hdrs[2];
	struct dkim_verify *v;
	const struct dkim_sigresult *r;
	size_t i;

	/* b= of 1 MB, given directly (struct msg would cap it at 64 KiB) */
	buf_adds(&b, " v=1; a=rsa-sha256; d=example.org; s=rsa; h=from; "
	    "bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=; b=");
	for (i = 0; i < 1024 * 1024 / 4; i++)
		buf_adds(&b, "AAAA");
	/* 10,000 h= entries */
	buf_adds(&h, " v=1; a=rsa-sha256; d=example.org; s=rsa; b=AAAA; "
	    "bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=; h=from");
	for (i = 0; i < 10000; i++)
		buf_adds(&h, ":subject");
	hdrs[0] = (struct hdr){ "DKIM-Signature", 14, b.data, b.len };
	hdrs[1] = (struct hdr){ "DKIM-Signature", 14, h.data, h.len };
	v = dkim_verify_new(&o, hdrs, 2);
	dkim_verify_body(v, "x\r\n", 3);
	dkim_verify_finish(v, NULL, NULL);
	ck_assert_uint_eq(dkim_verify_results(v, &r), 2);
	ck_assert_int_eq(r[0].result, DKIM_PERMERROR);
	ck_assert(strstr(r[0].reason, "too long") != NULL);
	ck_assert_int_eq(r[1].result, DKIM_PERMERROR);
	ck_assert(strstr(r[1].reason, "h=") != NULL);
	dkim_verify_free(&v);
	ck_assert(v == NULL);
	buf_release(&b);
	buf_release(&h);
}
END_TEST

/* ---- signing configuration ---- */

START_TEST(test_dkim_key_file_secrecy)
{
	struct strlist kl = { NULL, 0 }, empty = { NULL, 0 };
	struct dkim_signopts o = { &kl, &empty, &empty, "relaxed/relaxed", 0 };
	struct dkim_signconf *sc;
	struct buf why = BUF_INIT;
	char entry[256], *v[1];

	snprintf(entry, sizeof(entry), "example.org:rsa:%s", rsa_path);
	v[0] = entry;
	kl.v = v;
	kl.n = 1;
	chmod(rsa_path, 0640);
	ck_assert_int_eq(dkim_signconf_load(&o, &sc, &why), -1);
	ck_assert(strstr(why.data, "group or others") != NULL);
	ck_assert(strstr(why.data, "PRIVATE") == NULL);
	chmod(rsa_path, 0604);
	buf_reset(&why);
	ck_assert_int_eq(dkim_signconf_load(&o, &sc, &why), -1);
	chmod(rsa_path, 0600);
	ck_assert_int_eq(dkim_signconf_load(&o, &sc, &why), 0);
	ck_assert(dkim_signconf_has_domain(sc, "example.org"));
	ck_assert(dkim_signconf_has_domain(sc, "mail.example.org"));
	ck_assert(!dkim_signconf_has_domain(sc, "badexample.org"));
	dkim_signconf_free(sc);

	snprintf(entry, sizeof(entry), "example.org:rsa:%s/nonexistent",
	    tmpdir);
	buf_reset(&why);
	ck_assert_int_eq(dkim_signconf_load(&o, &sc, &why), -1);
	ck_assert(strstr(why.data, "cannot open") != NULL);
	buf_release(&why);
}
END_TEST

START_TEST(test_dkim_sign_entry_syntax)
{
	static const struct {
		const char *e;
		int	 rc;
	} c[] = {
		{ "example.org:sel:/etc/k.pem", 0 },
		{ "example.org:sel.sub:/etc/k.pem", 0 },
		{ "example.org:sel:relative.pem", -1 },
		{ "example.org:/etc/k.pem", -1 },
		{ "exa mple.org:sel:/k", -1 },
		{ "example.org:se/l:/k", -1 },
		{ ":sel:/k", -1 },
	};
	struct buf why = BUF_INIT;
	size_t i;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		buf_reset(&why);
		ck_assert_msg(dkim_signconf_check_entry(c[i].e, &why) == c[i].rc,
		    "%s", c[i].e);
	}
	buf_release(&why);
}
END_TEST

START_TEST(test_dkim_sign_refuses_without_single_from)
{
	char *keys = expand_keys("example.org:ed:ED");
	struct dkim_signconf *sc = signconf(keys, "relaxed/relaxed", "");
	static const char two[] = "From: a@example.org\r\nFrom: b@example.org"
	    "\r\n\r\nx\r\n";
	struct dkim_signed *sigs;
	struct buf why = BUF_INIT;
	struct dkim_sign *s;
	struct tmsg tm;

	tmsg_parse(&tm, two, sizeof(two) - 1);
	s = dkim_sign_new(sc, "example.org", T0);
	ck_assert_uint_eq(dkim_sign_finish(s, tm.m->hdrs, tm.m->nhdrs, &sigs,
	    &why), 0);
	ck_assert(strstr(why.data, "more than one From") != NULL);
	dkim_sign_free(&s);
	tmsg_free(&tm);
	ck_assert(dkim_sign_new(sc, "example.net", T0) == NULL);
	free(keys);
	buf_release(&why);
	dkim_signconf_free(sc);
}
END_TEST

/* ---- through the scan pipeline ---- */

static struct engine *
dkim_engine(const char *extra, struct fakedns *f)
{
	struct buf text = BUF_INIT;
	struct engine *e;

	buf_printf(&text, "trusted_networks = 10.0.0.0/8\n%s", extra);
	e = test_engine(text.data);
	dns_resolver_free(e->dns);	/* the system resolver engine_new made */
	e->dns = f ? resolver_for(f) : NULL;
	buf_release(&text);
	return e;
}

START_TEST(test_dkim_scan_symbols_authres_and_log)
{
	struct engine *e = dkim_engine("", standard_dns());
	char *sm = hand_sign(ed25519, DKIM_ALG_ED25519_SHA256, "v=1; "
	    "a=ed25519-sha256; d=example.org; s=ed; i=@example.org; "
	    "h=from:to;", plain_msg);
	const struct dkim_sigresult *r;
	struct msg *m;
	struct scan *s = test_scan_text(e, "192.0.2.1", "mx.example.org",
	    "joe@example.org", "suzie@example.net", sm, strlen(sm), &m);
	struct buf ar = BUF_INIT;

	ck_assert(verdict_symbol(&s->verdict, "DKIM_VALID") != NULL);
	ck_assert(verdict_symbol(&s->verdict, "DKIM_VALID_AUTHOR") != NULL);
	ck_assert(verdict_symbol(&s->verdict, "DKIM_INVALID") == NULL);
	verdict_authres_value(&s->verdict, "mx.test", &ar);
	ck_assert_msg(strstr(ar.data, "dkim=pass (ed25519 key) "
	    "header.d=example.org header.i=@example.org header.s=ed "
	    "header.a=ed25519-sha256 header.b=") != NULL, "%s", ar.data);
	ck_assert(strstr(verdict_output(&s->verdict, "dkim")->data, "\"result\":\"pass\"") != NULL);
	ck_assert(strstr(verdict_output(&s->verdict, "dkim")->data, "\"selector\":\"ed\"") != NULL);
	ck_assert(strstr(verdict_output(&s->verdict, "dkim")->data, "\"key_bits\":256") != NULL);
	/* what DMARC reads */
	ck_assert_uint_eq(dkim_scan_results(s, &r), 1);
	ck_assert_int_eq(r[0].result, DKIM_PASS);
	ck_assert_str_eq(r[0].domain, "example.org");
	buf_release(&ar);
	scan_free(&s);
	msg_free(&m);
	free(sm);
	engine_unref(e);
}
END_TEST

static const struct {
	const char *name;
	const char *msg_kind;
	const char *symbol;
	const char *authres;
} scan_cases[] = {
	{ "unsigned", "none", "DKIM_NONE", "dkim=none" },
	{ "body changed", "tampered", "DKIM_INVALID",
	  "dkim=fail reason=\"body hash did not verify\"" },
	{ "key timeout", "timeout", "DKIM_TEMPFAIL",
	  "dkim=temperror reason=\"key lookup failed (timeout)\"" },
	{ "other domain", "third", "DKIM_VALID", "header.d=other.example" },
	{ "sha1", "sha1", "DKIM_SHA1", "dkim=permerror" },
};

START_TEST(test_dkim_scan_outcomes)
{
	struct fakedns *f = standard_dns();
	struct engine *e;
	struct msg *m;
	struct scan *s;
	struct buf ar = BUF_INIT;
	const char *kind = scan_cases[_i].msg_kind;
	char *sm;

	fakedns_status(f, "to._domainkey.example.org", DNS_T_TXT, DNS_TIMEOUT);
	add_key(f, "ed", "other.example", ed25519, NULL);
	e = dkim_engine("", f);
	if (strcmp(kind, "none") == 0)
		sm = xstrdup(plain_msg);
	else if (strcmp(kind, "sha1") == 0)
		sm = load_shared("testdata/dkim/mail-dkim/corpus/"
		    "good_rfc4871_3.txt");
	else {
		sm = hand_sign(ed25519, DKIM_ALG_ED25519_SHA256, strcmp(kind,
		    "timeout") == 0 ? "v=1; a=ed25519-sha256; d=example.org; "
		    "s=to; h=from;" : strcmp(kind, "third") == 0 ? "v=1; "
		    "a=ed25519-sha256; d=other.example; s=ed; h=from;" :
		    "v=1; a=ed25519-sha256; d=example.org; s=ed; h=from;",
		    plain_msg);
		if (strcmp(kind, "tampered") == 0)
			strstr(sm, "Joe.\r\n")[0] = 'X';
	}
	s = test_scan_text(e, "192.0.2.1", "mx", "joe@example.org", NULL, sm,
	    strlen(sm), &m);
	ck_assert_msg(verdict_symbol(&s->verdict, scan_cases[_i].symbol),
	    "%s: no %s", scan_cases[_i].name, scan_cases[_i].symbol);
	if (strcmp(kind, "third") == 0)
		ck_assert(verdict_symbol(&s->verdict, "DKIM_VALID_AUTHOR") ==
		    NULL);
	verdict_authres_value(&s->verdict, "mx.test", &ar);
	ck_assert_msg(strstr(ar.data, scan_cases[_i].authres), "%s: %s",
	    scan_cases[_i].name, ar.data);
	if (strcmp(kind, "timeout") == 0)
		ck_assert(s->verdict.dns_degraded);
	buf_release(&ar);
	scan_free(&s);
	msg_free(&m);
	free(sm);
	engine_unref(e);
}
END_TEST

/* crlf - "\n\t" folds of an edit value back to CRLF */
static void
crlf(struct buf *out, const char *v)
{
	for (; *v; v++) {
		if (*v == '\n')
			buf_addc(out, '\r');
		buf_addc(out, *v);
	}
}

/*
 * Trusted mail is signed; the edits carry DKIM-Signature fields, and
 * the message with them prepended verifies when scanned as inbound.
 */
START_TEST(test_dkim_scan_signs_trusted_mail)
{
	struct buf conf = BUF_INIT, text = BUF_INIT;
	struct engine *e;
	struct msg *m, *m2;
	struct scan *s, *s2;
	struct hdr_edits ed;
	const struct dkim_sigresult *r;
	size_t i, nsig = 0;

	buf_printf(&conf, "dkim_sign_domains = example.org:rsa:%s "
	    "example.org:ed:%s\n", rsa_path, ed_path);
	e = dkim_engine(conf.data, standard_dns());
	s = test_scan_text(e, "10.1.2.3", "client", "joe@example.org",
	    "x@example.net", plain_msg, sizeof(plain_msg) - 1, &m);
	ck_assert_uint_eq(s->verdict.nxhdrs, 2);
	ck_assert(verdict_symbol(&s->verdict, "DKIM_SIGNED") != NULL);
	ck_assert(strstr(verdict_output(&s->verdict, "dkim")->data, "\"result\":\"signed\""));
	verdict_header_edits(&s->verdict, m, e->conf, &ed);
	for (i = 0; i < ed.n; i++) {
		if (ed.v[i].op != EDIT_PREPEND ||
		    strcmp(ed.v[i].name, "DKIM-Signature") != 0)
			continue;
		ck_assert(strchr(ed.v[i].value, '\r') == NULL);
		buf_adds(&text, "DKIM-Signature: ");
		crlf(&text, ed.v[i].value);
		buf_adds(&text, "\r\n");
		nsig++;
	}
	ck_assert_uint_eq(nsig, 2);
	buf_adds(&text, plain_msg);
	hdr_edits_release(&ed);

	s2 = test_scan_text(e, "192.0.2.1", "mx", "joe@example.org", NULL,
	    text.data, text.len, &m2);
	ck_assert_uint_eq(dkim_scan_results(s2, &r), 2);
	ck_assert_msg(r[0].result == DKIM_PASS, "%s", r[0].reason);
	ck_assert_msg(r[1].result == DKIM_PASS, "%s", r[1].reason);
	ck_assert(verdict_symbol(&s2->verdict, "DKIM_VALID_AUTHOR") != NULL);
	/* signing is for trusted mail only */
	ck_assert_uint_eq(s2->verdict.nxhdrs, 0);
	scan_free(&s);
	scan_free(&s2);
	msg_free(&m);
	msg_free(&m2);
	engine_unref(e);
	buf_release(&conf);
	buf_release(&text);
}
END_TEST

/* untrusted i= and b= text is quoted in Authentication-Results */
START_TEST(test_dkim_scan_authres_quotes_untrusted_values)
{
	struct engine *e = dkim_engine("", standard_dns());
	char *sm = hand_sign(ed25519, DKIM_ALG_ED25519_SHA256, "v=1; "
	    "a=ed25519-sha256; d=example.org; s=ed; "
	    "i=j=40o=22=3B=5C@example.org; h=from;", plain_msg);
	struct buf ar = BUF_INIT;
	struct msg *m;
	struct scan *s;

	s = test_scan_text(e, "192.0.2.1", "mx", "joe@example.org", NULL, sm,
	    strlen(sm), &m);
	verdict_authres_value(&s->verdict, "mx.test", &ar);
	ck_assert_msg(strstr(ar.data, "dkim=pass") && strstr(ar.data,
	    "header.i=\"j@o\\\";\\\\@example.org\"") != NULL, "%s", ar.data);
	scan_free(&s);
	msg_free(&m);
	free(sm);
	buf_release(&ar);
	engine_unref(e);
}
END_TEST

/* symbol scores come from the configuration (symbol_scores) */
START_TEST(test_dkim_scan_scores_are_configurable)
{
	struct engine *e = dkim_engine("symbol_scores = DKIM_INVALID=2.5 "
	    "DKIM_VALID=-1\n", standard_dns());
	char *sm = hand_sign(ed25519, DKIM_ALG_ED25519_SHA256, "v=1; "
	    "a=ed25519-sha256; d=example.org; s=ed; h=from;", plain_msg);
	const struct symbol *sym;
	struct msg *m;
	struct scan *s;

	s = test_scan_text(e, "192.0.2.1", "mx", "joe@example.org", NULL, sm,
	    strlen(sm), &m);
	ck_assert((sym = verdict_symbol(&s->verdict, "DKIM_VALID")) != NULL);
	ck_assert(sym->score == -1.0);
	scan_free(&s);
	msg_free(&m);
	strstr(sm, "Joe.\r\n")[0] = 'X';
	s = test_scan_text(e, "192.0.2.1", "mx", "joe@example.org", NULL, sm,
	    strlen(sm), &m);
	ck_assert((sym = verdict_symbol(&s->verdict, "DKIM_INVALID")) != NULL);
	ck_assert(sym->score == 2.5);
	scan_free(&s);
	msg_free(&m);
	free(sm);
	engine_unref(e);
}
END_TEST

/* DMARC reads the DKIM results: aligned pass passes, a broken one fails */
START_TEST(test_dkim_scan_feeds_dmarc)
{
	struct fakedns *f = standard_dns();
	struct engine *e;
	struct msg *m;
	struct scan *s;
	struct buf ar = BUF_INIT;
	char *sm = hand_sign(ed25519, DKIM_ALG_ED25519_SHA256, "v=1; "
	    "a=ed25519-sha256; d=example.org; s=ed; h=from:to:subject;",
	    plain_msg);

	fakedns_txt(f, "_dmarc.example.org", "v=DMARC1; p=reject");
	e = dkim_engine("", f);
	s = test_scan_text(e, "192.0.2.1", "mx", "joe@example.org", NULL, sm,
	    strlen(sm), &m);
	verdict_authres_value(&s->verdict, "mx.test", &ar);
	ck_assert_msg(strstr(ar.data, "dmarc=pass") != NULL, "%s", ar.data);
	ck_assert_int_ne(s->verdict.action, ACTION_REJECT);
	scan_free(&s);
	msg_free(&m);
	buf_reset(&ar);

	strstr(sm, "Joe.\r\n")[0] = 'X';	/* body changed in transit */
	s = test_scan_text(e, "192.0.2.1", "mx", "joe@example.org", NULL, sm,
	    strlen(sm), &m);
	verdict_authres_value(&s->verdict, "mx.test", &ar);
	ck_assert_msg(strstr(ar.data, "dkim=fail") != NULL &&
	    strstr(ar.data, "dmarc=fail") != NULL, "%s", ar.data);
	ck_assert_int_eq(s->verdict.action, ACTION_REJECT);
	scan_free(&s);
	msg_free(&m);
	free(sm);
	buf_release(&ar);
	engine_unref(e);
}
END_TEST

START_TEST(test_dkim_engine_refuses_open_key_file)
{
	struct buf conf = BUF_INIT, why = BUF_INIT;
	struct conf *c;
	struct engine *e;

	buf_printf(&conf, TEST_HERMETIC_CONF
	    "dkim_sign_domains = example.org:rsa:%s\n", rsa_path);
	ck_assert_int_eq(conf_parse(conf.data, conf.len, "t.conf", &c, &why),
	    0);
	chmod(rsa_path, 0644);
	ck_assert_int_eq(engine_new(c, &e, &why), -1);
	chmod(rsa_path, 0600);
	ck_assert_msg(strstr(why.data, "dkim_sign_domains") &&
	    strstr(why.data, "group or others"), "%s", why.data);
	buf_release(&conf);
	buf_release(&why);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("dkim");
	TCase *tc = tcase_create("verify");

	tcase_add_unchecked_fixture(tc, keys_setup, keys_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_dkim_sign_then_verify_round_trip, 0,
	    sizeof(rt_cases) / sizeof(rt_cases[0]));
	tcase_add_test(tc, test_dkim_tampering_fails);
	tcase_add_test(tc, test_dkim_relaxed_survives_refolding);
	tcase_add_loop_test(tc, test_dkim_rfc_messages_pass, 0, 2);
	tcase_add_test(tc, test_dkim_rfc8463_signatures_reproduced);
	tcase_add_test(tc, test_dkim_rfc8463_keys_round_trip);
	tcase_add_loop_test(tc, test_dkim_clock_x_and_t, 0,
	    sizeof(clock_cases) / sizeof(clock_cases[0]));
	tcase_add_loop_test(tc, test_dkim_key_lookup_outcomes, 0,
	    sizeof(dns_cases) / sizeof(dns_cases[0]));
	tcase_add_test(tc, test_dkim_no_resolver_is_temperror);
	tcase_add_test(tc, test_dkim_key_fetched_once);
	tcase_add_test(tc, test_dkim_rsa_sha1_not_accepted_and_not_fetched);
	tcase_add_test(tc, test_dkim_min_key_bits);
	tcase_add_test(tc, test_dkim_min_key_bits_2048_refuses_1024);
	tcase_add_test(tc, test_dkim_key_flags);
	tcase_add_test(tc, test_dkim_body_length_tag);
	tcase_add_test(tc, test_dkim_header_injection);
	tcase_add_test(tc, test_dkim_mta_added_fields_not_oversigned);
	suite_add_tcase(s, tc);

	tc = tcase_create("limits");
	tcase_add_unchecked_fixture(tc, keys_setup, keys_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_dkim_signature_cap);
	tcase_add_test(tc, test_dkim_bad_signatures_do_not_spoil_good_ones);
	tcase_add_test(tc, test_dkim_hostile_fifty_signatures);
	tcase_add_test(tc, test_dkim_hostile_huge_fields);
	suite_add_tcase(s, tc);

	tc = tcase_create("sign");
	tcase_add_unchecked_fixture(tc, keys_setup, keys_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_dkim_key_file_secrecy);
	tcase_add_test(tc, test_dkim_sign_entry_syntax);
	tcase_add_test(tc, test_dkim_sign_refuses_without_single_from);
	suite_add_tcase(s, tc);

	tc = tcase_create("scan");
	tcase_add_unchecked_fixture(tc, keys_setup, keys_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_dkim_scan_symbols_authres_and_log);
	tcase_add_loop_test(tc, test_dkim_scan_outcomes, 0,
	    sizeof(scan_cases) / sizeof(scan_cases[0]));
	tcase_add_test(tc, test_dkim_scan_signs_trusted_mail);
	tcase_add_test(tc, test_dkim_scan_feeds_dmarc);
	tcase_add_test(tc, test_dkim_scan_scores_are_configurable);
	tcase_add_test(tc, test_dkim_scan_authres_quotes_untrusted_values);
	tcase_add_test(tc, test_dkim_engine_refuses_open_key_file);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(suite());
}
