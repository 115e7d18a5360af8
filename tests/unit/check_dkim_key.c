/*
 * check_dkim_key.c - DKIM key records and public key import
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/param_build.h>
#include <openssl/x509.h>

#include "buf.h"
#include "dkim_int.h"
#include "files.h"
#include "helpers.h"

/* parse_file - key record from a dkimpy fixture */
static int
parse_file(const char *rel, struct dkim_key *k, struct buf *why)
{
	const char *path = shared_data(rel);
	struct buf text = BUF_INIT;
	int rc;

	ck_assert_msg(path != NULL, "missing %s (set SHARED_DIR)", rel);
	ck_assert_int_eq(files_read(path, 65536, &text, why), 0);
	while (text.len && (text.data[text.len - 1] == '\n' ||
	    text.data[text.len - 1] == '\r'))
		text.len--;
	rc = dkim_key_parse(text.data, text.len, k, why);
	buf_release(&text);
	return rc;
}

static const struct {
	const char *file;
	int	 rc;
	const char *why;
	enum dkim_keytype type;
	unsigned bits;
} file_cases[] = {
	{ "testdata/dkim/dkimpy/test.txt", 0, NULL, DKIM_KEY_RSA, 1024 },
	{ "testdata/dkim/dkimpy/test2.txt", 0, NULL, DKIM_KEY_RSA, 1024 },
	/* dkimpy: damaged DER must be refused by the key parser */
	{ "testdata/dkim/dkimpy/test_bad.txt", -1,
	  "not a valid RSA public key", DKIM_KEY_RSA, 0 },
	/* dkimpy: "v=DKIM1:" is not version DKIM1 */
	{ "testdata/dkim/dkimpy/badversion.txt", -1, "not DKIM1",
	  DKIM_KEY_RSA, 0 },
	/* dkimpy: k=ed25519-sha256 is no key type */
	{ "testdata/dkim/dkimpy/badk.txt", -1, "unknown key type",
	  DKIM_KEY_RSA, 0 },
	{ "testdata/dkim/dkimpy/test_tlsrpt.txt", -1, "not for email",
	  DKIM_KEY_RSA, 0 },
	{ "testdata/dkim/dkimpy/ed25519test.dns", 0, NULL, DKIM_KEY_ED25519,
	  256 },
	{ "testdata/dkim/dkimpy/eximtest.dns", 0, NULL, DKIM_KEY_ED25519,
	  256 },
};

START_TEST(test_dkim_key_dkimpy_records)
{
	struct dkim_key k;
	struct buf why = BUF_INIT;
	int rc = parse_file(file_cases[_i].file, &k, &why);

	ck_assert_msg(rc == file_cases[_i].rc, "%s: rc %d (%s)",
	    file_cases[_i].file, rc, buf_cstr(&why));
	if (rc == 0) {
		ck_assert_int_eq(k.type, file_cases[_i].type);
		ck_assert_uint_eq(k.bits, file_cases[_i].bits);
		ck_assert(k.pkey != NULL);
	} else
		ck_assert_msg(strstr(why.data, file_cases[_i].why), "%s: '%s'",
		    file_cases[_i].file, why.data);
	dkim_key_release(&k);
	buf_release(&why);
}
END_TEST

/* b64 of the DER of a public key, in SPKI or PKCS#1 form */
static void
key_b64(EVP_PKEY *k, bool spki, struct buf *out)
{
	unsigned char *der = NULL;
	int len = spki ? i2d_PUBKEY(k, &der) : i2d_PublicKey(k, &der);

	ck_assert_int_gt(len, 0);
	dkim_b64_encode(der, (size_t)len, out);
	OPENSSL_free(der);
}

static int
parse_text(const char *s, struct dkim_key *k, struct buf *why)
{
	buf_reset(why);
	return dkim_key_parse(s, strlen(s), k, why);
}

START_TEST(test_dkim_key_record_tags)
{
	EVP_PKEY *rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
	struct buf p = BUF_INIT, rec = BUF_INIT, why = BUF_INIT;
	struct dkim_key k;

	key_b64(rsa, true, &p);
	buf_printf(&rec, "v=DKIM1; h=sha1; t=y:s:z; s=email:*; p=%s", p.data);
	ck_assert_int_eq(parse_text(rec.data, &k, &why), 0);
	ck_assert(k.testing && k.strict && k.allow_sha1 && !k.allow_sha256);
	dkim_key_release(&k);

	buf_reset(&rec);
	buf_printf(&rec, "k=rsa; p=%s", p.data);
	ck_assert_int_eq(parse_text(rec.data, &k, &why), 0);
	ck_assert(!k.testing && !k.strict && k.allow_sha1 && k.allow_sha256);
	ck_assert_uint_eq(k.bits, 1024);
	dkim_key_release(&k);

	buf_reset(&rec);
	buf_printf(&rec, "k=rsa; v=DKIM1; p=%s", p.data);
	ck_assert_int_eq(parse_text(rec.data, &k, &why), -1);
	ck_assert(strstr(why.data, "first") != NULL);

	buf_reset(&rec);
	buf_printf(&rec, "g=*; n=note; x1=extra; p=%s ; ", p.data);
	ck_assert_int_eq(parse_text(rec.data, &k, &why), 0);
	dkim_key_release(&k);

	/* RSAPublicKey (PKCS#1) is accepted too */
	buf_reset(&p);
	key_b64(rsa, false, &p);
	buf_reset(&rec);
	buf_printf(&rec, "p=%s", p.data);
	ck_assert_int_eq(parse_text(rec.data, &k, &why), 0);
	ck_assert_uint_eq(k.bits, 1024);
	dkim_key_release(&k);
	EVP_PKEY_free(rsa);
	buf_release(&p);
	buf_release(&rec);
	buf_release(&why);
}
END_TEST

static const struct {
	const char *name;
	const char *rec;
	const char *why;
} bad_cases[] = {
	{ "revoked", "v=DKIM1; k=rsa; p=", "revoked" },
	{ "no p", "v=DKIM1; k=rsa", "no p=" },
	{ "empty record", "", "no p=" },
	{ "bare tag (badkey_4)", "k=rsa; t; p=AAAA", "syntax" },
	{ "version DKIM3", "v=DKIM3; p=AAAA", "not DKIM1" },
	{ "service chat only", "s=chat; p=AAAA", "not for email" },
	{ "garbage ASN.1", "p=AAAAAAAAAAAAAAAA", "not a valid RSA" },
	{ "base64 garbage", "p=@@@@", "bad base64" },
	{ "truncated DER", "p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQ==",
	  "not a valid RSA" },
	/* RFC 8463: ed25519 keys are the raw 32 bytes, not an SPKI */
	{ "ed25519 SPKI (badkey1_ed25519)", "v=DKIM1; k=ed25519; "
	  "p=MCowBQYDK2VwAyEA3SUqa9UbfciWkk7tlcJ9P1VD5pXAasg0JUn/OgjVbKE=",
	  "32 raw bytes" },
	{ "ed25519 short", "k=ed25519; p=AAAA", "32 raw bytes" },
	{ "p too long", NULL, "too long" },
};

START_TEST(test_dkim_key_bad_records)
{
	struct dkim_key k;
	struct buf why = BUF_INIT, rec = BUF_INIT;
	size_t i;

	if (bad_cases[_i].rec)
		buf_adds(&rec, bad_cases[_i].rec);
	else {
		buf_adds(&rec, "p=");
		for (i = 0; i < 2000; i++)
			buf_adds(&rec, "AAAA");
	}
	ck_assert_msg(parse_text(rec.data, &k, &why) == -1, "%s: accepted",
	    bad_cases[_i].name);
	ck_assert_msg(strstr(why.data, bad_cases[_i].why), "%s: '%s'",
	    bad_cases[_i].name, why.data);
	ck_assert(k.pkey == NULL);
	buf_release(&why);
	buf_release(&rec);
}
END_TEST

/* synthetic_rsa - an RSA public key with a random modulus (not a real key) */
static EVP_PKEY *
synthetic_rsa(int nbits, int ebits)
{
	OSSL_PARAM_BLD *b = OSSL_PARAM_BLD_new();
	BIGNUM *n = BN_new(), *e = BN_new();
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	EVP_PKEY *k = NULL;
	OSSL_PARAM *params;

	ck_assert(BN_rand(n, nbits, BN_RAND_TOP_ONE, BN_RAND_BOTTOM_ODD));
	if (ebits <= 17)
		BN_set_word(e, 65537);
	else
		ck_assert(BN_rand(e, ebits, BN_RAND_TOP_ONE,
		    BN_RAND_BOTTOM_ODD));
	OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_RSA_N, n);
	OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_RSA_E, e);
	params = OSSL_PARAM_BLD_to_param(b);
	ck_assert(EVP_PKEY_fromdata_init(ctx) == 1);
	ck_assert(EVP_PKEY_fromdata(ctx, &k, EVP_PKEY_PUBLIC_KEY, params) == 1);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(b);
	EVP_PKEY_CTX_free(ctx);
	BN_free(n);
	BN_free(e);
	return k;
}

START_TEST(test_dkim_key_size_window)
{
	static const struct {
		int	 nbits, ebits, rc;
		const char *why;
	} c[] = {
		{ 8192, 17, 0, NULL },
		{ 9000, 17, -1, "over the 8192-bit limit" },
		{ 2048, 100, -1, "parameters unusable" },
	};
	struct dkim_key k;
	struct buf p = BUF_INIT, rec = BUF_INIT, why = BUF_INIT;
	size_t i;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		EVP_PKEY *pk = synthetic_rsa(c[i].nbits, c[i].ebits);

		buf_reset(&p);
		buf_reset(&rec);
		key_b64(pk, true, &p);
		buf_printf(&rec, "v=DKIM1; p=%s", p.data);
		ck_assert_msg(parse_text(rec.data, &k, &why) == c[i].rc,
		    "%d bits: %s", c[i].nbits, buf_cstr(&why));
		if (c[i].rc == 0)
			ck_assert_uint_eq(k.bits, (unsigned)c[i].nbits);
		else
			ck_assert_msg(strstr(why.data, c[i].why), "'%s'",
			    why.data);
		dkim_key_release(&k);
		EVP_PKEY_free(pk);
	}
	buf_release(&p);
	buf_release(&rec);
	buf_release(&why);
}
END_TEST

START_TEST(test_dkim_key_wrong_type_in_spki)
{
	EVP_PKEY *ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	struct buf p = BUF_INIT, rec = BUF_INIT, why = BUF_INIT;
	struct dkim_key k;

	key_b64(ec, true, &p);
	buf_printf(&rec, "k=rsa; p=%s", p.data);
	ck_assert_int_eq(parse_text(rec.data, &k, &why), -1);
	ck_assert_msg(strstr(why.data, "not an RSA key") ||
	    strstr(why.data, "not a valid RSA"), "%s", why.data);
	EVP_PKEY_free(ec);
	buf_release(&p);
	buf_release(&rec);
	buf_release(&why);
}
END_TEST

/* the SubjectPublicKeyInfo wrapper is read strictly (dkim_crypto.c) */
START_TEST(test_dkim_key_spki_strictness)
{
	static const struct {
		const char *name;
		int	 edit;		/* what to break */
		const char *why;
	} c[] = {
		{ "intact", 0, NULL },
		{ "trailing byte", 1, "not a valid RSA" },
		{ "truncated", 2, "not a valid RSA" },
		{ "unused bits in BIT STRING", 3, "not a valid RSA" },
		{ "other algorithm OID", 4, "not an RSA key" },
	};
	EVP_PKEY *rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
	unsigned char *der = NULL, buf[1024];
	int len = i2d_PUBKEY(rsa, &der);
	struct buf p = BUF_INIT, rec = BUF_INIT, why = BUF_INIT;
	struct dkim_key k;
	size_t i, n;

	ck_assert(len > 30 && (size_t)len < sizeof(buf) - 1);
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		memcpy(buf, der, (size_t)len);
		n = (size_t)len;
		if (c[i].edit == 1)
			buf[n++] = 0;
		else if (c[i].edit == 2)
			n--;
		else if (c[i].edit == 3)
			buf[21] = 1;	/* 30 81 9f 30 0d 06 09 <oid> 05 00 03 81 8d [00] */
		else if (c[i].edit == 4)
			buf[15] = 0x05;	/* ...01 01 01 -> ...01 01 05 */
		buf_reset(&p);
		buf_reset(&rec);
		dkim_b64_encode(buf, n, &p);
		buf_printf(&rec, "p=%s", p.data);
		if (c[i].why == NULL) {
			ck_assert_msg(parse_text(rec.data, &k, &why) == 0, "%s",
			    why.data);
			dkim_key_release(&k);
			continue;
		}
		ck_assert_msg(parse_text(rec.data, &k, &why) == -1, "%s accepted",
		    c[i].name);
		ck_assert_msg(strstr(why.data, c[i].why), "%s: %s", c[i].name,
		    why.data);
	}
	OPENSSL_free(der);
	EVP_PKEY_free(rsa);
	buf_release(&p);
	buf_release(&rec);
	buf_release(&why);
}
END_TEST

/* a key seen before comes from the table; different text, other key */
START_TEST(test_dkim_key_cache_reuses_parsed_keys)
{
	EVP_PKEY *rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
	struct buf p = BUF_INIT, rec = BUF_INIT, why = BUF_INIT;
	struct dkim_key a, b, c;

	key_b64(rsa, true, &p);
	buf_printf(&rec, "v=DKIM1; p=%s", p.data);
	ck_assert_int_eq(parse_text(rec.data, &a, &why), 0);
	ck_assert_int_eq(parse_text(rec.data, &b, &why), 0);
	ck_assert_ptr_eq(a.pkey, b.pkey);
	ck_assert_uint_eq(b.bits, 1024);
	/* same key, PKCS#1 text: parsed again */
	buf_reset(&p);
	key_b64(rsa, false, &p);
	buf_reset(&rec);
	buf_printf(&rec, "v=DKIM1; p=%s", p.data);
	ck_assert_int_eq(parse_text(rec.data, &c, &why), 0);
	ck_assert_ptr_ne(a.pkey, c.pkey);
	/* the same p= declared as ed25519 is not served from the table */
	buf_reset(&rec);
	buf_printf(&rec, "v=DKIM1; k=ed25519; p=%s", p.data);
	dkim_key_release(&c);
	ck_assert_int_eq(parse_text(rec.data, &c, &why), -1);
	dkim_key_release(&a);
	dkim_key_release(&b);
	EVP_PKEY_free(rsa);
	buf_release(&p);
	buf_release(&rec);
	buf_release(&why);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("dkim_key");
	TCase *tc = tcase_create("parse");

	tcase_add_loop_test(tc, test_dkim_key_dkimpy_records, 0,
	    sizeof(file_cases) / sizeof(file_cases[0]));
	tcase_add_test(tc, test_dkim_key_record_tags);
	tcase_add_loop_test(tc, test_dkim_key_bad_records, 0,
	    sizeof(bad_cases) / sizeof(bad_cases[0]));
	suite_add_tcase(s, tc);
	tc = tcase_create("limits");
	tcase_add_test(tc, test_dkim_key_size_window);
	tcase_add_test(tc, test_dkim_key_wrong_type_in_spki);
	tcase_add_test(tc, test_dkim_key_spki_strictness);
	tcase_add_test(tc, test_dkim_key_cache_reuses_parsed_keys);
	tcase_set_timeout(tc, 30);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(suite());
}
