/*
 * dkim_sig.c - tag lists, strict base64 and the DKIM-Signature field
 *
 * DESCRIPTION
 *	dkim_taglist_parse() splits a tag list (RFC 6376 3.2) into tags
 *	without copying; dkim_sig_parse() turns a DKIM-Signature field
 *	value into struct dkim_sig, checking every tag the way section 3.5
 *	and 6.1.1 ask: required tags v, a, b, bh, d, h, s; v=1; a known
 *	algorithm; c= simple/relaxed; q= containing dns/txt; i= inside d=;
 *	h= naming From; numeric l=, t=, x= with x >= t.  The first problem
 *	found is the reason the signature is a permerror; other signatures
 *	of the message are not affected.  dkim_sig_parse_kind() applies
 *	the same rules to the two signed ARC fields, with the differences
 *	RFC 8617 4.1.2 and 4.1.3 make (no v=, i= an instance number; the
 *	seal has cv= and signs no h= list and no body).
 *
 * LIMITS
 *	DKIM_MAX_TAGS tags, DKIM_MAX_SIGNED_HEADERS h= entries,
 *	DKIM_MAX_SIG_BYTES of decoded b=, DKIM_MAX_IDENTITY bytes of i=.
 *	Work is linear in the field length.
 *
 * SECURITY
 *	Input is an untrusted header field.  Values quoted in reasons go
 *	through dkim_reason_value(): short, printable, no quotes.
 *
 * STANDARDS
 *	RFC 6376 (3.2, 3.5, 6.1.1), RFC 8463 (ed25519-sha256), RFC 8301.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "dkim_int.h"
#include "dns.h"
#include "str.h"

/* is_fws - white space a tag list may carry (folding included) */
static bool
is_fws(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* is_valchar - RFC 6376 VALCHAR: %x21-3A / %x3C-7E */
static bool
is_valchar(int c)
{
	return c >= 0x21 && c <= 0x7e && c != ';';
}

void
dkim_reason_value(struct buf *why, const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n && i < 40; i++) {
		unsigned char c = (unsigned char)p[i];

		buf_addc(why, (ch_is_alnum(c) || strchr("-._/:@+=", c)) &&
		    c != '\0' ? (char)c : '?');
	}
	if (n > 40)
		buf_adds(why, "...");
}

int
dkim_taglist_parse(const char *p, size_t n, struct dkim_tag *tags,
    size_t max, size_t *ntags, struct buf *why)
{
	size_t i = 0, k, count = 0;

	*ntags = 0;
	for (;;) {
		struct dkim_tag t;
		size_t last;

		while (i < n && is_fws((unsigned char)p[i]))
			i++;
		if (i == n)
			break;	/* empty list, or a trailing ';' */
		if (!ch_is_alpha((unsigned char)p[i])) {
			buf_adds(why, "tag list syntax error");
			return -1;
		}
		t.name = p + i;
		while (i < n && (ch_is_alnum((unsigned char)p[i]) ||
		    p[i] == '_'))
			i++;
		t.name_len = (size_t)(p + i - t.name);
		while (i < n && is_fws((unsigned char)p[i]))
			i++;
		if (i == n || p[i] != '=') {
			buf_adds(why, "tag list syntax error: no '=' after '");
			dkim_reason_value(why, t.name, t.name_len);
			buf_addc(why, '\'');
			return -1;
		}
		i++;
		t.raw_start = i;
		while (i < n && is_fws((unsigned char)p[i]))
			i++;
		t.value = p + i;
		last = i;
		for (; i < n && p[i] != ';'; i++) {
			unsigned char c = (unsigned char)p[i];

			if (is_valchar(c))
				last = i + 1;
			else if (!is_fws(c)) {
				buf_adds(why, "invalid character in tag ");
				dkim_reason_value(why, t.name, t.name_len);
				buf_addc(why, '=');
				return -1;
			}
		}
		t.value_len = last > (size_t)(t.value - p) ?
		    last - (size_t)(t.value - p) : 0;
		t.raw_end = i;
		for (k = 0; k < count; k++)
			if (tags[k].name_len == t.name_len &&
			    memcmp(tags[k].name, t.name, t.name_len) == 0) {
				buf_adds(why, "duplicate tag ");
				dkim_reason_value(why, t.name, t.name_len);
				buf_addc(why, '=');
				return -1;
			}
		if (count == max) {
			buf_printf(why, "more than %zu tags", max);
			return -1;
		}
		tags[count++] = t;
		if (i == n)
			break;
		i++;		/* the ';' */
	}
	*ntags = count;
	return 0;
}

const struct dkim_tag *
dkim_tag_find(const struct dkim_tag *tags, size_t n, const char *name)
{
	size_t i, len = strlen(name);

	for (i = 0; i < n; i++)
		if (tags[i].name_len == len &&
		    memcmp(tags[i].name, name, len) == 0)
			return &tags[i];
	return NULL;
}

bool
dkim_tag_is(const struct dkim_tag *t, const char *s)
{
	size_t len = strlen(s);

	return t->value_len == len && memcmp(t->value, s, len) == 0;
}

/* b64_value - 0..63 for a base64 character, -1 otherwise */
static int
b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

int
dkim_b64_decode(const char *p, size_t n, unsigned char *out, size_t max,
    size_t *outlen)
{
	uint32_t acc = 0;
	size_t i, olen = 0, quad = 0, pad = 0;

	*outlen = 0;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];
		int v;

		if (is_fws(c))
			continue;
		if (c == '=') {
			/* padding: only in the last quantum, at most two */
			if (quad < 2 || ++pad > 2)
				return -1;
			quad++;
			acc <<= 6;
			if (quad == 4) {
				if (olen + 3 - pad > max)
					return -2;
				out[olen++] = (unsigned char)(acc >> 16);
				if (pad == 1)
					out[olen++] = (unsigned char)(acc >> 8);
				quad = 0;
			}
			continue;
		}
		if (pad > 0 || (v = b64_value(c)) < 0)
			return -1;
		acc = (acc << 6) | (uint32_t)v;
		if (++quad == 4) {
			if (olen + 3 > max)
				return -2;
			out[olen++] = (unsigned char)(acc >> 16);
			out[olen++] = (unsigned char)(acc >> 8);
			out[olen++] = (unsigned char)acc;
			quad = 0;
			acc = 0;
		}
	}
	if (quad != 0)
		return -1;
	*outlen = olen;
	return 0;
}

void
dkim_b64_encode(const unsigned char *p, size_t n, struct buf *out)
{
	static const char abc[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i;

	buf_reserve(out, (n + 2) / 3 * 4);
	for (i = 0; i + 2 < n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 |
		    p[i + 2];

		buf_addc(out, abc[v >> 18]);
		buf_addc(out, abc[(v >> 12) & 63]);
		buf_addc(out, abc[(v >> 6) & 63]);
		buf_addc(out, abc[v & 63]);
	}
	if (n - i == 1) {
		uint32_t v = (uint32_t)p[i] << 16;

		buf_addc(out, abc[v >> 18]);
		buf_addc(out, abc[(v >> 12) & 63]);
		buf_adds(out, "==");
	} else if (n - i == 2) {
		uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8;

		buf_addc(out, abc[v >> 18]);
		buf_addc(out, abc[(v >> 12) & 63]);
		buf_addc(out, abc[(v >> 6) & 63]);
		buf_addc(out, '=');
	}
}

static const struct {
	const char *name;
	enum dkim_alg alg;
} alg_table[] = {
	{ "rsa-sha256", DKIM_ALG_RSA_SHA256 },
	{ "ed25519-sha256", DKIM_ALG_ED25519_SHA256 },
	{ "rsa-sha1", DKIM_ALG_RSA_SHA1 },
};

const char *
dkim_alg_name(enum dkim_alg a)
{
	size_t i;

	for (i = 0; i < sizeof(alg_table) / sizeof(alg_table[0]); i++)
		if (alg_table[i].alg == a)
			return alg_table[i].name;
	return NULL;
}

enum dkim_hash
dkim_alg_hash(enum dkim_alg a)
{
	return a == DKIM_ALG_RSA_SHA1 ? DKIM_HASH_SHA1 : DKIM_HASH_SHA256;
}

enum dkim_keytype
dkim_alg_keytype(enum dkim_alg a)
{
	return a == DKIM_ALG_ED25519_SHA256 ? DKIM_KEY_ED25519 : DKIM_KEY_RSA;
}

/* canon_word - "simple" or "relaxed" */
static int
canon_word(const char *p, size_t n, enum dkim_canon *c)
{
	if (n == 6 && memcmp(p, "simple", 6) == 0)
		*c = DKIM_CANON_SIMPLE;
	else if (n == 7 && memcmp(p, "relaxed", 7) == 0)
		*c = DKIM_CANON_RELAXED;
	else
		return -1;
	return 0;
}

int
dkim_canon_parse(const char *p, size_t n, enum dkim_canon *h,
    enum dkim_canon *b)
{
	const char *slash = memchr(p, '/', n);

	if (slash == NULL) {
		*b = DKIM_CANON_SIMPLE;
		return canon_word(p, n, h);
	}
	if (canon_word(p, (size_t)(slash - p), h) < 0)
		return -1;
	return canon_word(slash + 1, n - (size_t)(slash + 1 - p), b);
}

bool
dkim_domain_valid(const char *p, size_t n)
{
	char name[256];

	if (n == 0 || n >= sizeof(name) || p[n - 1] == '.' ||
	    memchr(p, '\0', n) != NULL)
		return false;
	memcpy(name, p, n);
	name[n] = '\0';
	return dns_name_valid(name);
}

/* dup_lower - NUL-terminated lower-case copy */
static char *
dup_lower(const char *p, size_t n)
{
	char *s = xstrndup(p, n);

	str_lower(s);
	return s;
}

/* parse_decimal - up to maxdigits digits, nothing else */
static int
parse_decimal(const struct dkim_tag *t, size_t maxdigits, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (t->value_len == 0 || t->value_len > maxdigits)
		return -1;
	for (i = 0; i < t->value_len; i++) {
		unsigned d;

		if (!ch_is_digit((unsigned char)t->value[i]))
			return -1;
		d = (unsigned)(t->value[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

/* hexval - value of a hex digit already checked with ch_is_xdigit() */
static int
hexval(char c)
{
	return ch_is_digit((unsigned char)c) ? c - '0' : ch_lower(c) - 'a' + 10;
}

/* decode_identity - dkim-quoted-printable (RFC 6376 2.11) */
static int
decode_identity(const struct dkim_tag *t, struct buf *out)
{
	const char *p = t->value;
	size_t i, n = t->value_len;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		if (is_fws(c))
			continue;
		if (c == '=') {
			if (n - i < 3 || !ch_is_xdigit((unsigned char)p[i + 1]) ||
			    !ch_is_xdigit((unsigned char)p[i + 2]))
				return -1;
			buf_addc(out, (char)(hexval(p[i + 1]) << 4 |
			    hexval(p[i + 2])));
			i += 2;
		} else
			buf_addc(out, (char)c);
		if (out->len > DKIM_MAX_IDENTITY)
			return -1;
	}
	return 0;
}

bool
dkim_domain_within(const char *dom, size_t n, const char *d)
{
	size_t dl = strlen(d);

	if (n == dl)
		return str_nieq(dom, n, d, dl);
	return n > dl && dom[n - dl - 1] == '.' &&
	    str_nieq(dom + n - dl, dl, d, dl);
}

/*
 * parse_hnames - h= as a list of field names, copied into one block:
 * each name with its NUL fits in its place in the value (the NUL where
 * the colon was), so value_len + 1 bytes hold them all
 */
static int
parse_hnames(struct dkim_sig *sig, const struct dkim_tag *t, struct buf *why)
{
	const char *p = t->value, *end = p + t->value_len;
	size_t o = 0;
	bool from = false;

	free(sig->hblock);		/* none before: the tag is read once */
	sig->hblock = xmalloc(t->value_len + 1);
	sig->nh = 0;

	while (p <= end) {
		const char *colon = memchr(p, ':', (size_t)(end - p));
		const char *e = colon ? colon : end, *s = p;
		size_t k;

		while (s < e && is_fws((unsigned char)*s))
			s++;
		while (e > s && is_fws((unsigned char)e[-1]))
			e--;
		if (s == e) {
			buf_adds(why, "empty field name in h=");
			return -1;
		}
		for (k = 0; k < (size_t)(e - s); k++)
			if (!is_valchar((unsigned char)s[k]) || s[k] == ':') {
				buf_adds(why, "bad field name in h=");
				return -1;
			}
		if (sig->nh == DKIM_MAX_SIGNED_HEADERS) {
			buf_printf(why, "more than %d field names in h=",
			    DKIM_MAX_SIGNED_HEADERS);
			return -1;
		}
		if (sig->nh % 16 == 0)
			sig->hnames = xreallocarray(sig->hnames, sig->nh + 16,
			    sizeof(char *));
		memcpy(sig->hblock + o, s, (size_t)(e - s));
		sig->hblock[o + (size_t)(e - s)] = '\0';
		sig->hnames[sig->nh++] = sig->hblock + o;
		o += (size_t)(e - s) + 1;
		if (str_nieq(s, (size_t)(e - s), "from", 4))
			from = true;
		if (sig->kind == DKIM_SIG_AMS &&
		    str_nieq(s, (size_t)(e - s), "arc-seal", 8)) {
			buf_adds(why, "h= names ARC-Seal (RFC 8617 4.1.2)");
			return -1;
		}
		if (colon == NULL)
			break;
		p = colon + 1;
	}
	if (!from) {
		buf_adds(why, "From field not signed");
		return -1;
	}
	return 0;
}

/* b64_tag - decode a base64 tag into out (capacity max) */
static int
b64_tag(const struct dkim_tag *t, const char *name, unsigned char *out,
    size_t max, size_t *len, struct buf *why)
{
	int rc = dkim_b64_decode(t->value, t->value_len, out, max, len);

	if (rc == -1)
		buf_printf(why, "bad base64 in %s=", name);
	else if (rc == -2)
		buf_printf(why, "%s= is too long", name);
	else if (*len == 0) {
		buf_printf(why, "empty %s=", name);
		rc = -1;
	}
	return rc < 0 ? -1 : 0;
}

/* fill_report - the fields shown in results, whatever else is wrong */
static void
fill_report(struct dkim_sig *sig, const struct dkim_tag *tags, size_t n)
{
	const struct dkim_tag *t;
	size_t i, k;

	if ((t = dkim_tag_find(tags, n, "d")) &&
	    dkim_domain_valid(t->value, t->value_len))
		sig->domain = dup_lower(t->value, t->value_len);
	if ((t = dkim_tag_find(tags, n, "s")) &&
	    dkim_domain_valid(t->value, t->value_len))
		sig->selector = dup_lower(t->value, t->value_len);
	if ((t = dkim_tag_find(tags, n, "a")))
		for (i = 0; i < sizeof(alg_table) / sizeof(alg_table[0]); i++)
			if (dkim_tag_is(t, alg_table[i].name))
				sig->alg = alg_table[i].alg;
	if ((t = dkim_tag_find(tags, n, "b"))) {
		for (i = k = 0; i < t->value_len && k < 8; i++)
			if (!is_fws((unsigned char)t->value[i]))
				sig->b_prefix[k++] = t->value[i];
		sig->b_prefix[k] = '\0';
	}
}

/* required tags by enum dkim_sig_kind (NULL ends a row) */
static const char *const required_tags[][8] = {
	{ "v", "a", "b", "bh", "d", "h", "s", NULL },
	{ "i", "a", "b", "bh", "d", "h", "s", NULL },
	{ "i", "a", "b", "cv", "d", "s", NULL },
};

/* check_core - v, required tags, a, c, q, d, s */
static int
check_core(struct dkim_sig *sig, const struct dkim_tag *tags, size_t n,
    struct buf *why)
{
	const char *const *req = required_tags[sig->kind];
	const struct dkim_tag *t;
	size_t i;

	for (i = 0; req[i]; i++)
		if (dkim_tag_find(tags, n, req[i]) == NULL) {
			buf_printf(why, "missing required tag %s=", req[i]);
			return -1;
		}
	if (sig->kind == DKIM_SIG_DKIM &&
	    !dkim_tag_is(dkim_tag_find(tags, n, "v"), "1")) {
		buf_adds(why, "unsupported version v=");
		t = dkim_tag_find(tags, n, "v");
		dkim_reason_value(why, t->value, t->value_len);
		return -1;
	}
	if (sig->alg == DKIM_ALG_NONE) {
		t = dkim_tag_find(tags, n, "a");
		buf_adds(why, "unsupported algorithm ");
		dkim_reason_value(why, t->value, t->value_len);
		return -1;
	}
	if (sig->kind == DKIM_SIG_AS)
		sig->hcanon = DKIM_CANON_RELAXED;	/* RFC 8617 5.1.1 */
	else if ((t = dkim_tag_find(tags, n, "c")) &&
	    dkim_canon_parse(t->value, t->value_len, &sig->hcanon,
	    &sig->bcanon) < 0) {
		buf_adds(why, "unsupported canonicalization ");
		dkim_reason_value(why, t->value, t->value_len);
		return -1;
	}
	if ((t = dkim_tag_find(tags, n, "q"))) {
		const char *p = t->value, *end = p + t->value_len;
		bool ok = false;

		while (p < end) {
			const char *c = memchr(p, ':', (size_t)(end - p));
			const char *e = c ? c : end;

			while (p < e && is_fws((unsigned char)*p))
				p++;
			if (e - p >= 7 && memcmp(p, "dns/txt", 7) == 0) {
				const char *q = p + 7;

				while (q < e && is_fws((unsigned char)*q))
					q++;
				ok = ok || q == e;
			}
			p = c ? c + 1 : end;
		}
		if (!ok) {
			buf_adds(why, "unsupported query method ");
			dkim_reason_value(why, t->value, t->value_len);
			return -1;
		}
	}
	if (sig->domain == NULL) {
		buf_adds(why, "d= is not a valid domain name");
		return -1;
	}
	if (sig->selector == NULL ||
	    strlen(sig->selector) + strlen(sig->domain) + 12 > 253) {
		buf_adds(why, "s= is not a valid selector");
		return -1;
	}
	return 0;
}

/* check_identity - i= decodes and lies within d= (RFC 6376 3.5) */
static int
check_identity(struct dkim_sig *sig, const struct dkim_tag *t, struct buf *why)
{
	struct buf id = BUF_INIT;
	const char *at;

	if (decode_identity(t, &id) < 0 || id.len == 0 ||
	    memchr(id.data, '\0', id.len) != NULL ||
	    (at = memrchr(id.data, '@', id.len)) == NULL) {
		buf_adds(why, "malformed i=");
		buf_release(&id);
		return -1;
	}
	if (!dkim_domain_within(at + 1, id.len - (size_t)(at + 1 - id.data),
	    sig->domain)) {
		buf_adds(why, "i= is not within d=");
		buf_release(&id);
		return -1;
	}
	sig->identity = buf_steal(&id);
	return 0;
}

/* check_numbers - l=, t=, x= */
static int
check_numbers(struct dkim_sig *sig, const struct dkim_tag *tags, size_t n,
    struct buf *why)
{
	const struct dkim_tag *t;

	if ((t = dkim_tag_find(tags, n, "l"))) {
		/* RFC allows 76 digits; anything past 2^64 is no body */
		if (parse_decimal(t, 20, &sig->l) < 0) {
			buf_adds(why, "bad l= value");
			return -1;
		}
		sig->has_l = true;
	}
	if ((t = dkim_tag_find(tags, n, "t"))) {
		if (parse_decimal(t, 12, &sig->t) < 0) {
			buf_adds(why, "bad t= value");
			return -1;
		}
		sig->has_t = true;
	}
	if ((t = dkim_tag_find(tags, n, "x"))) {
		if (parse_decimal(t, 12, &sig->x) < 0) {
			buf_adds(why, "bad x= value");
			return -1;
		}
		sig->has_x = true;
	}
	if (sig->has_t && sig->has_x && sig->x < sig->t) {
		buf_adds(why, "x= is earlier than t=");
		return -1;
	}
	return 0;
}

/* check_arc - i= the instance, and the seal's cv= and forbidden tags */
static int
check_arc(struct dkim_sig *sig, const struct dkim_tag *tags, size_t n,
    struct buf *why)
{
	static const char *const cvs[] = { "none", "pass", "fail" };
	const struct dkim_tag *t = dkim_tag_find(tags, n, "i");
	uint64_t inst;
	size_t k;

	if (parse_decimal(t, 2, &inst) < 0 || inst < 1 ||
	    inst > DKIM_ARC_MAX_INSTANCE) {
		buf_adds(why, "i= is not an instance 1..50");
		return -1;
	}
	sig->instance = (unsigned)inst;
	if (sig->kind != DKIM_SIG_AS)
		return 0;
	t = dkim_tag_find(tags, n, "cv");
	for (k = 0; k < 3; k++)
		if (dkim_tag_is(t, cvs[k]))
			sig->cv = (enum dkim_arc_cv)(DKIM_CV_NONE + k);
	if (sig->cv == DKIM_CV_UNSET) {
		buf_adds(why, "cv= is not none, pass or fail");
		return -1;
	}
	if (dkim_tag_find(tags, n, "h") || dkim_tag_find(tags, n, "bh")) {
		buf_adds(why, "ARC-Seal with h= or bh= (RFC 8617 4.1.3)");
		return -1;
	}
	return 0;
}

/* parse_body_tags - bh= and i= of a DKIM-Signature or an AMS */
static int
parse_body_tags(struct dkim_sig *sig, const struct dkim_tag *tags, size_t n,
    struct buf *why)
{
	const struct dkim_tag *t;

	if (b64_tag(dkim_tag_find(tags, n, "bh"), "bh", sig->bh,
	    sizeof(sig->bh), &sig->bhlen, why) < 0)
		return -1;
	if (sig->bhlen != dkim_hash_len(dkim_alg_hash(sig->alg))) {
		buf_adds(why, "bh= has the wrong length for the algorithm");
		return -1;
	}
	if (sig->kind == DKIM_SIG_DKIM && (t = dkim_tag_find(tags, n, "i")) &&
	    check_identity(sig, t, why) < 0)
		return -1;
	return 0;
}

int
dkim_sig_parse_kind(const char *value, size_t len, enum dkim_sig_kind kind,
    struct dkim_sig *sig, struct buf *why)
{
	struct dkim_tag tags[DKIM_MAX_TAGS];
	const struct dkim_tag *t;
	size_t n;

	memset(sig, 0, sizeof(*sig));
	sig->kind = kind;
	if (dkim_taglist_parse(value, len, tags, DKIM_MAX_TAGS, &n, why) < 0)
		return -1;
	fill_report(sig, tags, n);
	if (check_core(sig, tags, n, why) < 0)
		return -1;
	if (kind != DKIM_SIG_DKIM && check_arc(sig, tags, n, why) < 0)
		return -1;
	if (kind != DKIM_SIG_AS &&
	    parse_hnames(sig, dkim_tag_find(tags, n, "h"), why) < 0)
		return -1;
	t = dkim_tag_find(tags, n, "b");
	sig->b = xmalloc(DKIM_MAX_SIG_BYTES);
	if (b64_tag(t, "b", sig->b, DKIM_MAX_SIG_BYTES, &sig->blen, why) < 0)
		return -1;
	sig->b_start = t->raw_start;
	sig->b_end = t->raw_end;
	if (kind != DKIM_SIG_AS && parse_body_tags(sig, tags, n, why) < 0)
		return -1;
	return check_numbers(sig, tags, n, why);
}

int
dkim_sig_parse(const char *value, size_t len, struct dkim_sig *sig,
    struct buf *why)
{
	return dkim_sig_parse_kind(value, len, DKIM_SIG_DKIM, sig, why);
}

void
dkim_sig_release(struct dkim_sig *sig)
{
	free(sig->domain);
	free(sig->selector);
	free(sig->identity);
	free(sig->hblock);
	free(sig->hnames);
	free(sig->b);
	memset(sig, 0, sizeof(*sig));
}
