/*
 * dkim_bench.c - DKIM verification and hashing cost, measured
 *
 * DESCRIPTION
 *	Generates an RSA-2048 and an Ed25519 key, signs a typical message
 *	(about 4 KiB of body, 10 header fields) with each, and verifies it
 *	again and again exactly as the scan step does: dkim_verify_new() at
 *	end of headers (parse, header hash), the body in 64 KiB chunks,
 *	dkim_verify_finish() (key lookup through an in-memory resolver, key
 *	record parse, body hash compare, signature check).  Prints
 *	verifications per second and the parts: key record parse, one
 *	signature check, canonicalise+hash throughput (simple, relaxed)
 *	next to plain SHA-256.  contrib/bench/dkim_bench.sh runs this next
 *	to `openssl speed` for the same key types.  Times are CPU time of
 *	the thread (CLOCK_THREAD_CPUTIME_ID), so other load on the machine
 *	does not inflate them; openssl speed reports user CPU time too.
 *
 *	usage: dkim_bench [seconds per measurement, default 1]
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/pem.h>

#include "buf.h"
#include "dkim_int.h"
#include "dns.h"
#include "fakedns.h"
#include "msg.h"
#include "msgparse.h"

#include "bench_msg.h"

static double secs = 1.0;

static void
parse(struct pm *pm, const char *text, size_t len)
{
	struct msg_limits lim = { 1 << 26, 1 << 20, 1000, 100 };
	struct msgparse_cb cb = { p_eoh, p_body, pm };
	struct msgparse *mp;

	pm->m = msg_new(&lim);
	buf_init(&pm->body);
	mp = msgparse_new(pm->m, &cb);
	msgparse_push(mp, text, len);
	msgparse_end(mp);
	msgparse_free(mp);
}

/* make_message - headers plus a body of about body_bytes */
static char *
make_message(size_t body_bytes)
{
	struct buf b = BUF_INIT;
	size_t i = 0;

	buf_adds(&b, "Received: from mail.example.org (mail.example.org "
	    "[192.0.2.25])\r\n\tby mx.example.net (Postfix) with ESMTPS id "
	    "4F2A1C0042\r\n\tfor <bob@example.net>; Mon, 13 Nov 2023 "
	    "22:13:20 +0000 (UTC)\r\n"
	    "From: Alice Example <alice@example.org>\r\n"
	    "To: Bob <bob@example.net>\r\n"
	    "Cc: Carol <carol@example.net>\r\n"
	    "Subject: Quarterly report, second draft\r\n"
	    "Date: Mon, 13 Nov 2023 22:13:20 +0000\r\n"
	    "Message-ID: <20231113221320.12345@example.org>\r\n"
	    "MIME-Version: 1.0\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\n"
	    "Content-Transfer-Encoding: 8bit\r\n\r\n");
	while (b.len < body_bytes) {
		buf_printf(&b, "Line %zu of the report:  numbers\tgo up, "
		    "costs go down, and everyone is happy about it.  \r\n", i++);
		if (i % 20 == 0)
			buf_adds(&b, "\r\n");
	}
	return buf_steal(&b);
}

static struct dkim_signconf *
signconf(const char *entry)
{
	static const char *hdr[] = { "from", "to", "cc", "subject", "date",
		"message-id", "mime-version", "content-type",
		"content-transfer-encoding" };
	static const char *over[] = { "from", "to", "subject", "date" };
	struct strlist k = { (char **)&entry, 1 };
	struct strlist h = { (char **)hdr, 9 }, o = { (char **)over, 4 };
	struct dkim_signopts opt = { &k, &h, &o, "relaxed/relaxed", 0 };
	struct dkim_signconf *sc;
	struct buf why = BUF_INIT;

	if (dkim_signconf_load(&opt, &sc, &why) < 0) {
		fprintf(stderr, "%s\n", buf_cstr(&why));
		exit(1);
	}
	buf_release(&why);
	return sc;
}

static char *
sign_text(const struct dkim_signconf *sc, const char *text)
{
	struct pm pm;
	struct dkim_sign *s = dkim_sign_new(sc, "example.org", 1700000000);
	struct dkim_signed *sig;
	struct buf out = BUF_INIT, why = BUF_INIT;
	size_t n;

	parse(&pm, text, strlen(text));
	dkim_sign_body(s, pm.body.data, pm.body.len);
	n = dkim_sign_finish(s, pm.m->hdrs, pm.m->nhdrs, &sig, &why);
	if (n != 1) {
		fprintf(stderr, "sign: %s\n", buf_cstr(&why));
		exit(1);
	}
	buf_printf(&out, "DKIM-Signature: %s\r\n%s", sig[0].value, text);
	dkim_signed_free(sig, n);
	dkim_sign_free(&s);
	msg_free(&pm.m);
	buf_release(&pm.body);
	buf_release(&why);
	return buf_steal(&out);
}

/* verify_once - the scan step's work for one message */
static int
verify_once(const struct pm *pm, struct dns_resolver *dns)
{
	struct dkim_vopts o = { 5, 1024, 300, DKIM_L_ACCEPT, 1700000100 };
	struct dkim_verify *v = dkim_verify_new(&o, pm->m->hdrs, pm->m->nhdrs);
	const struct dkim_sigresult *r;
	size_t off, take;
	int ok;

	for (off = 0; off < pm->body.len; off += take) {
		take = pm->body.len - off < 65536 ? pm->body.len - off : 65536;
		dkim_verify_body(v, pm->body.data + off, take);
	}
	dkim_verify_finish(v, dns, NULL);
	ok = dkim_verify_results(v, &r) == 1 && r[0].result == DKIM_PASS;
	dkim_verify_free(&v);
	return ok;
}

static void
bench_verify(const char *label, const char *signed_text,
    struct dns_resolver *dns)
{
	struct pm pm;
	double t0, t;
	long n = 0;

	parse(&pm, signed_text, strlen(signed_text));
	if (!verify_once(&pm, dns)) {
		fprintf(stderr, "%s: does not verify\n", label);
		exit(1);
	}
	t0 = now_s();
	do {
		verify_once(&pm, dns);
		n++;
	} while ((t = now_s() - t0) < secs);
	printf("%-34s %9.0f /s  %8.1f us/message\n", label, n / t,
	    t / n * 1e6);
	msg_free(&pm.m);
	buf_release(&pm.body);
}

static void
bench_key_parse(const char *label, const char *record)
{
	struct dkim_key k;
	struct buf why = BUF_INIT;
	double t0, t;
	long n = 0;

	t0 = now_s();
	do {
		if (dkim_key_parse(record, strlen(record), &k, &why) < 0)
			exit(1);
		dkim_key_release(&k);
		n++;
	} while ((t = now_s() - t0) < secs);
	printf("%-34s %9.0f /s  %8.1f us\n", label, n / t, t / n * 1e6);
	buf_release(&why);
}

/* bench_key_parse_cold - distinct record texts: no key-table hits */
static void
bench_key_parse_cold(const char *label, const char *record)
{
	struct buf r[300];
	struct dkim_key key;
	struct buf why = BUF_INIT;
	const char *p = strstr(record, "p=");
	double t0, t;
	long n = 0;
	size_t i, k, at, plen = strlen(p + 2) / 4 * 4;

	for (i = 0; i < 300; i++) {
		/* white space inside p= changes the text, not the key */
		buf_init(&r[i]);
		at = (size_t)(p - record) + 2 + 4 * (i % (plen / 4 - 1) + 1);
		buf_add(&r[i], record, at);
		for (k = 0; k <= i / (plen / 4 - 1); k++)
			buf_addc(&r[i], ' ');
		buf_adds(&r[i], record + at);
	}
	t0 = now_s();
	do {
		i = (size_t)n % 300;
		if (dkim_key_parse(r[i].data, r[i].len, &key, &why) < 0) {
			fprintf(stderr, "%s\n", why.data);
			exit(1);
		}
		dkim_key_release(&key);
		n++;
	} while ((t = now_s() - t0) < secs);
	printf("%-34s %9.0f /s  %8.1f us\n", label, n / t, t / n * 1e6);
	for (i = 0; i < 300; i++)
		buf_release(&r[i]);
	buf_release(&why);
}

static void
bench_sig(const char *label, EVP_PKEY *k, enum dkim_alg alg)
{
	unsigned char hash[32] = { 1, 2, 3 }, sig[1024];
	size_t slen = sizeof(sig);
	double t0, t;
	long n = 0;

	if (dkim_crypto_sign(k, alg, hash, 32, sig, &slen) < 0)
		exit(1);
	t0 = now_s();
	do {
		if (!dkim_crypto_verify(k, alg, hash, 32, sig, slen))
			exit(1);
		n++;
	} while ((t = now_s() - t0) < secs);
	printf("%-34s %9.0f /s  %8.1f us\n", label, n / t, t / n * 1e6);
}

static void
sink(void *arg, const unsigned char *p, size_t n)
{
	EVP_DigestUpdate(arg, p, n);
}

static void
bench_hash(const char *label, int mode, const char *body, size_t len)
{
	static struct dkim_body b;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned char d[32];
	unsigned dl;
	double t0, t, bytes = 0;

	t0 = now_s();
	do {
		EVP_DigestInit_ex(ctx, dkim_md(DKIM_HASH_SHA256), NULL);
		if (mode < 0)
			EVP_DigestUpdate(ctx, body, len);
		else {
			dkim_body_init(&b, (enum dkim_canon)mode, sink, ctx);
			dkim_body_update(&b, body, len);
			dkim_body_final(&b);
		}
		EVP_DigestFinal_ex(ctx, d, &dl);
		bytes += (double)len;
	} while ((t = now_s() - t0) < secs);
	printf("%-34s %9.0f MB/s\n", label, bytes / t / 1e6);
	EVP_MD_CTX_free(ctx);
}

static void
write_key(EVP_PKEY *k, const char *path)
{
	FILE *f = fopen(path, "w");

	if (f == NULL || PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL,
	    NULL) != 1)
		exit(1);
	fclose(f);
}

int
main(int argc, char **argv)
{
	char dir[] = "/tmp/dkim_bench.XXXXXX", rpath[64], epath[64];
	char entry[128];
	EVP_PKEY *rsa, *ed;
	struct dkim_signconf *rsc, *esc;
	struct fakedns *f = fakedns_new();
	struct dns_resolver *dns;
	struct buf rrec = BUF_INIT, erec = BUF_INIT, why = BUF_INIT;
	char *msg, *big, *rs, *es;
	struct pm pm;

	if (argc > 1)
		secs = atof(argv[1]);
	umask(077);
	if (mkdtemp(dir) == NULL)
		return 1;
	rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	snprintf(rpath, sizeof(rpath), "%s/rsa", dir);
	snprintf(epath, sizeof(epath), "%s/ed", dir);
	write_key(rsa, rpath);
	write_key(ed, epath);
	snprintf(entry, sizeof(entry), "example.org:rsa:%s", rpath);
	rsc = signconf(entry);
	snprintf(entry, sizeof(entry), "example.org:ed:%s", epath);
	esc = signconf(entry);
	dkim_crypto_public_record(rsa, &rrec, &why);
	dkim_crypto_public_record(ed, &erec, &why);
	fakedns_txt(f, "rsa._domainkey.example.org", rrec.data);
	fakedns_txt(f, "ed._domainkey.example.org", erec.data);
	dns = fakedns_resolver(f);

	msg = make_message(4096);
	rs = sign_text(rsc, msg);
	es = sign_text(esc, msg);
	printf("message: %zu bytes (body ~4 KiB), one signature, "
	    "relaxed/relaxed\n", strlen(msg));
	bench_verify("verify rsa-sha256 (2048)", rs, dns);
	bench_verify("verify ed25519-sha256", es, dns);
	printf("parts:\n");
	bench_key_parse("  key record parse, RSA 2048", rrec.data);
	bench_key_parse("  key record parse, Ed25519", erec.data);
	bench_key_parse_cold("  ... not in the key table, RSA", rrec.data);
	bench_key_parse_cold("  ... not in the key table, Ed25519",
	    erec.data);
	bench_sig("  signature check, RSA 2048", rsa, DKIM_ALG_RSA_SHA256);
	bench_sig("  signature check, Ed25519", ed, DKIM_ALG_ED25519_SHA256);

	big = make_message(8 << 20);
	parse(&pm, big, strlen(big));
	printf("hashing an %.1f MB body:\n", pm.body.len / 1e6);
	bench_hash("  SHA-256 alone", -1, pm.body.data, pm.body.len);
	bench_hash("  simple canon + SHA-256", DKIM_CANON_SIMPLE, pm.body.data,
	    pm.body.len);
	bench_hash("  relaxed canon + SHA-256", DKIM_CANON_RELAXED,
	    pm.body.data, pm.body.len);
	/* the other extreme: base64 lines, nothing for relaxed to change */
	{
		struct buf b64 = BUF_INIT;
		size_t k;

		while (b64.len < ((size_t)8 << 20)) {
			for (k = 0; k < 76; k++)
				buf_addc(&b64, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef"
				    "ghijklmnopqrstuvwxyz0123456789+/"[(k * 7 +
				    b64.len) % 64]);
			buf_adds(&b64, "\r\n");
		}
		printf("hashing an %.1f MB base64 body:\n", b64.len / 1e6);
		bench_hash("  SHA-256 alone", -1, b64.data, b64.len);
		bench_hash("  relaxed canon + SHA-256", DKIM_CANON_RELAXED,
		    b64.data, b64.len);
		buf_release(&b64);
	}

	msg_free(&pm.m);
	buf_release(&pm.body);
	free(msg);
	free(big);
	free(rs);
	free(es);
	dkim_signconf_free(rsc);
	dkim_signconf_free(esc);
	dns_resolver_free(dns);
	fakedns_free(f);
	EVP_PKEY_free(rsa);
	EVP_PKEY_free(ed);
	unlink(rpath);
	unlink(epath);
	rmdir(dir);
	buf_release(&rrec);
	buf_release(&erec);
	buf_release(&why);
	return 0;
}
