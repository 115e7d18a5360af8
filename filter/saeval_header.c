/*
 * saeval_header.c - SpamAssassin's header eval: tests
 *
 * DESCRIPTION
 *	The header family (see saeval.h): forged Received and Message-ID
 *	forms, Date validity, recipients, Subject form, header counts,
 *	as SpamAssassin's HeaderEval, RelayEval, MIMEHeader-free parts of
 *	EvalTests compute them.  Each function reads the decoded header
 *	fields of the MIME view (the forms SpamAssassin's $pms->get()
 *	returns) and the relay list, and returns 0 or 1.
 *
 * SECURITY
 *	Header text is untrusted: only compared and scanned linearly,
 *	never logged; field values are capped by struct msg.
 *
 * SEE ALSO
 *	saeval.h; SpamAssassin's Mail::SpamAssassin::Plugin::HeaderEval
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "mime.h"
#include "msg.h"
#include "relays.h"
#include "saeval.h"
#include "saeval_int.h"
#include "str.h"

#define IPV4	"(?:(?:1\\d\\d|2[0-4]\\d|25[0-5]|[1-9]\\d|\\d)\\.){3}" \
	"(?:1\\d\\d|2[0-4]\\d|25[0-5]|[1-9]\\d|\\d)"
#define IPADDR	"(?:\\b" IPV4 "\\b|[0-9a-fA-F]{0,4}(?::[0-9a-fA-F]{0,4}){2,7})"

/* ------------------------------------------------------------------ */
/* argument checks                                                     */
/* ------------------------------------------------------------------ */

/* prep_count_range - check_header_count_range(FIELD, MIN, MAX) */
static int
prep_count_range(const struct saeval_args *a, void **prep, struct buf *why)
{
	uint64_t v;

	(void)prep;
	if (!hdr_name_ok(a->v[0])) {
		buf_printf(why, "'%.40s' is not a header field name", a->v[0]);
		return -1;
	}
	if (parse_uint(a->v[1], 0, 100000, &v) < 0 ||
	    parse_uint(a->v[2], 0, 100000, &v) < 0) {
		buf_adds(why, "MIN and MAX must be whole numbers");
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* the tests                                                           */
/* ------------------------------------------------------------------ */

/* missing_to - no To (nor Apparently-To) field */
static unsigned
missing_to(struct saeval_in *in, const struct saeval_args *a,
    const void *p, struct buf *d)
{
	(void)a;
	(void)p;
	(void)d;
	/* a present field, even empty, is not missing (as SpamAssassin) */
	return sae_field(in, "To", 0) == NULL &&
	    sae_field(in, "Apparently-To", 0) == NULL;
}

/* count_range - distinct values of a field, MIN <= n <= MAX */
static unsigned
count_range(struct saeval_in *in, const struct saeval_args *a,
    const void *p, struct buf *d)
{
	uint64_t min, max;
	size_t i, j, n = 0, total = sae_field_count(in, a->v[0]);

	(void)p;
	(void)parse_uint(a->v[1], 0, 100000, &min);
	(void)parse_uint(a->v[2], 0, 100000, &max);
	for (i = 0; i < total; i++) {
		const char *v = sae_field_raw(in, a->v[0], i);

		for (j = 0; j < i; j++)
			if (strcmp(sae_field_raw(in, a->v[0], j), v) == 0)
				break;
		n += j == i;
	}
	if (d)
		buf_printf(d, "%zu distinct %s field(s)", n, a->v[0]);
	return n >= min && n <= max;
}

/* subject_caps - a Subject of several words, letters all upper case */
static unsigned
subject_caps(struct saeval_in *in, const struct saeval_args *a,
    const void *p, struct buf *d)
{
	const char *raw = sae_field_raw(in, "Subject", 0);
	const char *v = sae_field(in, "Subject", 0), *e;
	size_t letters = 0;
	bool space = false;

	(void)a;
	(void)p;
	(void)d;
	if (v == NULL || raw == NULL)
		return 0;
	v = sae_skip_reply_prefix(v);
	e = v + strlen(v);
	while (e > v && ch_is_space((unsigned char)e[-1]))
		e--;
	if (e - v < 10)
		return 0;
	for (const char *q = v; q < e; q++) {
		if (ch_is_space((unsigned char)*q))
			space = true;
		else if (*q >= 'a' && *q <= 'z')
			return 0;
		else if (*q >= 'A' && *q <= 'Z')
			letters++;
	}
	/* charsets whose text looks like capitals (SpamAssassin's list) */
	if (sae_raw_has_caps_charset(raw))
		return 0;
	return space && letters > 0;
}

/* received - every Received value, "\n"-separated, white space squeezed */
static void
received(const struct saeval_in *in, struct buf *out)
{
	sae_get(in, "Received", out);
	sae_squeeze_ws(out);
}

/* from_domain_is - From:addr ends in "\bDOMAIN" (case-insensitive) */
static bool
from_domain_is(const struct saeval_in *in, const char *dom, struct buf *from)
{
	size_t n = strlen(dom);
	const char *a;

	sae_addr(in, "From", from);
	if (from->len < n)
		return false;
	a = buf_cstr(from) + from->len - n;
	if (strcasecmp(a, dom) != 0)
		return false;
	return a == from->data || !ch_is_alnum((unsigned char)a[-1]) ||
	    a[-1] == '_';
}

/* gated - SpamAssassin's gated_through_received_hdr_remover */
static bool
gated(const struct saeval_in *in)
{
	static struct sae_rx ezmlm = { "^contact \\S+\\@\\S+\\; run by ezmlm$",
	    PCRE2_MULTILINE, NULL };
	static struct sae_rx dlto = { "^mailing list \\S+\\@\\S+",
	    PCRE2_MULTILINE, NULL };
	static struct sae_rx qmail = { "qmail \\d+ invoked (?:from network|by "
	    ".{3,20})\\); \\d+ ... \\d+", 0, NULL };
	static struct sae_rx msn = { "from groups\\.msn\\.com \\(\\S+\\.msn\\."
	    "com ", 0, NULL };
	struct buf a = BUF_INIT, b = BUF_INIT;
	bool r = false;

	sae_get(in, "Mailing-List", &a);
	if (sae_field(in, "Mailing-List", 0) && sae_rx_buf(&ezmlm, &a)) {
		sae_get(in, "Delivered-To", &a);
		sae_get(in, "Received", &b);
		if (sae_rx_buf(&dlto, &a) && sae_rx_buf(&qmail, &b))
			r = true;
	}
	if (!r && sae_field(in, "Received", 0) == NULL)
		r = true;
	if (!r) {
		sae_get(in, "Received", &b);
		r = sae_rx_buf(&msn, &b);
	}
	buf_release(&a);
	buf_release(&b);
	return r;
}

static unsigned
gated_through(struct saeval_in *in, const struct saeval_args *a,
    const void *p, struct buf *d)
{
	(void)a;
	(void)p;
	(void)d;
	return gated(in);
}

/* first_relay_rdns_in - the first untrusted relay's rDNS ends in dom */
static bool
first_relay_rdns_in(struct saeval_in *in, const char *dom)
{
	size_t n, dl = strlen(dom), rl;
	const struct relay *r = saeval_relays(in, &n);

	if (n == 0)
		return false;
	rl = strlen(r[0].rdns);
	return rl > dl && strcasecmp(r[0].rdns + rl - dl, dom) == 0;
}

static unsigned
forged_yahoo(struct saeval_in *in, const struct saeval_args *a,
    const void *p, struct buf *d)
{
	static struct sae_rx ok[] = {
		{ "by web\\S+\\.mail\\S*\\.yahoo\\.com via HTTP", 0, NULL },
		{ "by sonic\\S+\\.consmr\\.mail\\S*\\.yahoo\\.com with HTTP", 0,
		  NULL },
		{ "by smtp\\S+\\.yahoo\\.com with SMTP", 0, NULL },
		{ "from \\[" IPADDR "\\] by \\S+\\.(?:groups|scd|dcn)\\.yahoo\\."
		  "com with NNFMP", 0, NULL },
		{ "by \\w+\\.\\w+\\.yahoo\\.com \\(\\d+\\.\\d+\\.\\d+/\\d+\\.\\d+"
		  "\\.\\d+\\)(?: with ESMTP)? id \\w+", 0, NULL },
	};
	static struct sae_rx bulk = { "\\bmailer\\d+\\.bulk\\.scd\\.yahoo\\."
	    "com\\b", 0, NULL };
	static struct sae_rx reply = { "\\@reply\\.yahoo\\.com$",
	    PCRE2_CASELESS, NULL };
	struct buf from = BUF_INIT, rcvd = BUF_INIT;
	unsigned r = 0;
	size_t i;

	(void)a;
	(void)p;
	(void)d;
	if (!from_domain_is(in, "yahoo.com", &from))
		goto out;
	sae_get(in, "Received", &rcvd);
	if (sae_field(in, "Resent-From", 0) && sae_field(in, "Resent-To", 0) &&
	    sae_field(in, "X-Received", 0))
		sae_get(in, "X-Received", &rcvd);
	sae_squeeze_ws(&rcvd);
	if (gated(in) || first_relay_rdns_in(in, ".yahoo.com"))
		goto out;
	for (i = 0; i < SAEVAL_NELEM(ok); i++)
		if (sae_rx_buf(&ok[i], &rcvd))
			goto out;
	if (sae_rx_buf(&bulk, &rcvd) && sae_rx_buf(&reply, &from))
		goto out;
	r = 1;
out:
	buf_release(&from);
	buf_release(&rcvd);
	return r;
}

/* hotmail_state - 1: forged hotmail Received, 2: hotmail From, none */
static void *
make_hotmail(struct saeval_in *in)
{
	static struct sae_rx pickup = { "from mail pickup service by hotmail\\."
	    "com with Microsoft SMTPSVC;", 0, NULL };
	static struct sae_rx okip[] = {
		{ "from (?:\\S*\\.)?hotmail.com \\(\\S+\\.hotmail(?:\\.msn)?\\."
		  "com[ \\)]", 0, NULL },
		{ "from \\S*\\.hotmail.com \\(\\[" IPADDR "\\][ \\):]", 0, NULL },
		{ "from \\S+ by \\S+\\.hotmail(?:\\.msn)?\\.com with HTTP\\;", 0,
		  NULL },
		{ "from \\[66\\.218.\\S+\\] by \\S+\\.yahoo\\.com", 0, NULL },
	};
	static struct sae_rx okorg[] = {
		{ "from \\S*\\.outbound\\.protection\\.outlook\\.com \\(\\S+\\."
		  "outbound\\.protection\\.outlook\\.com[ \\)]", 0, NULL },
		{ "from \\S*\\.(?:eur|nam)prd\\d+\\.prod\\.outlook\\.com \\("
		  IPADDR "\\)", 0, NULL },
	};
	static struct sae_rx ip = { IPADDR, 0, NULL };
	static struct sae_rx org = { "hotmail\\.com|msonline\\-outlook", 0,
	    NULL };
	static struct sae_rx helo = { "(?:from |HELO |helo=)\\S*hotmail\\.com"
	    "\\b", 0, NULL };
	struct buf rcvd = BUF_INIT, t = BUF_INIT;
	bool has_ip, has_org;
	uintptr_t state = 0;
	size_t i;

	received(in, &rcvd);
	if (sae_rx_buf(&pickup, &rcvd) || gated(in))
		goto out;
	sae_get(in, "X-Originating-Ip", &t);
	has_ip = sae_field(in, "X-Originating-Ip", 0) && sae_rx_buf(&ip, &t);
	sae_get(in, "X-OriginatorOrg", &t);
	has_org = sae_field(in, "X-OriginatorOrg", 0) && sae_rx_buf(&org, &t);
	for (i = 0; has_ip && i < SAEVAL_NELEM(okip); i++)
		if (sae_rx_buf(&okip[i], &rcvd))
			goto out;
	for (i = 0; has_org && i < SAEVAL_NELEM(okorg); i++)
		if (sae_rx_buf(&okorg[i], &rcvd))
			goto out;
	if (sae_rx_buf(&helo, &rcvd))
		state = 1;
	else if (from_domain_is(in, "hotmail.com", &t))
		state = 2;
out:
	buf_release(&rcvd);
	buf_release(&t);
	return (void *)(state + 1);	/* never NULL */
}

static uintptr_t
hotmail_state(struct saeval_in *in)
{
	static const char key;

	return (uintptr_t)saeval_memo(in, &key, make_hotmail, NULL) - 1;
}

static unsigned
forged_hotmail(struct saeval_in *in, const struct saeval_args *a,
    const void *p, struct buf *d)
{
	(void)a;
	(void)p;
	(void)d;
	return hotmail_state(in) == 1;
}

static unsigned
no_hotmail(struct saeval_in *in, const struct saeval_args *a,
    const void *p, struct buf *d)
{
	(void)a;
	(void)p;
	(void)d;
	return hotmail_state(in) == 2;
}

static unsigned
forged_eudora(struct saeval_in *in, const struct saeval_args *a,
    const void *p, struct buf *d)
{
	static struct sae_rx ip = { IPADDR, 0, NULL };
	static struct sae_rx by = { "by \\S*whowhere.com\\;", 0, NULL };
	struct buf from = BUF_INIT, rcvd = BUF_INIT, t = BUF_INIT;
	unsigned r = 0;

	(void)a;
	(void)p;
	(void)d;
	if (!from_domain_is(in, "eudoramail.com", &from) || gated(in))
		goto out;
	received(in, &rcvd);
	sae_get(in, "X-Sender-Ip", &t);
	r = !(sae_rx_buf(&by, &rcvd) && sae_field(in, "X-Sender-Ip", 0) &&
	    sae_rx_buf(&ip, &t));
out:
	buf_release(&from);
	buf_release(&rcvd);
	buf_release(&t);
	return r;
}

static unsigned
forged_juno(struct saeval_in *in, const struct saeval_args *a,
    const void *p, struct buf *d)
{
	static struct sae_rx newstyle = { "from.*\\b(?:juno|untd)\\.com.*[\\[\\(]"
	    IPADDR "[\\]\\)].*by", 0, NULL };
	static struct sae_rx cookie = { " cookie\\.(?:juno|untd)\\.com ", 0,
	    NULL };
	static struct sae_rx mailcom = { "from.*\\bmail\\.com.*\\[" IPADDR
	    "\\].*by", 0, NULL };
	static struct sae_rx mailcom_x = { "\\bmail\\.com", 0, NULL };
	static struct sae_rx webmail = { "from (webmail\\S+\\.untd\\.com) \\(\\1 "
	    "\\[" IPADDR "\\]\\) by", 0, NULL };
	static struct sae_rx webmail_x = { "^Webmail Version \\d", 0, NULL };
	static struct sae_rx ip = { IPADDR, 0, NULL };
	struct buf from = BUF_INIT, rcvd = BUF_INIT, xo = BUF_INIT,
	    xm = BUF_INIT;
	unsigned r = 0;

	(void)a;
	(void)p;
	(void)d;
	if (!from_domain_is(in, "juno.com", &from) || gated(in))
		goto out;
	sae_get(in, "X-Originating-IP", &xo);
	sae_get(in, "X-Mailer", &xm);
	sae_get(in, "Received", &rcvd);
	if (xo.len) {
		r = (!sae_rx_buf(&newstyle, &rcvd) &&
		    !sae_rx_buf(&cookie, &rcvd)) ||
		    strstr(buf_cstr(&xm), "Juno ") == NULL;
		goto out;
	}
	if (sae_rx_buf(&mailcom, &rcvd)) {
		if (!sae_rx_buf(&mailcom_x, &xm))
			r = 1;
	} else if (sae_rx_buf(&webmail, &rcvd)) {
		if (!sae_rx_buf(&webmail_x, &xm))
			r = 1;
	} else
		r = 1;
	if (!sae_rx_buf(&ip, &xo))
		r = 1;
out:
	buf_release(&from);
	buf_release(&rcvd);
	buf_release(&xo);
	buf_release(&xm);
	return r;
}

static unsigned
forged_gmail(struct saeval_in *in, const struct saeval_args *a,
    const void *p, struct buf *d)
{
	static struct sae_rx x1 = { "by 10\\.\\S+ with SMTP id \\S+", 0, NULL };
	static struct sae_rx x2 = { "by 2002\\:a\\d\\d\\:\\w+\\:\\S+ with SMTP "
	    "id \\S+", 0, NULL };
	static struct sae_rx r1 = { "by smtp\\.googlemail\\.com with ESMTPSA "
	    "id \\S+", 0, NULL };
	struct buf from = BUF_INIT, t = BUF_INIT;
	unsigned r = 0;
	size_t gms, gss;

	(void)a;
	(void)p;
	(void)d;
	if (!from_domain_is(in, "gmail.com", &from))
		goto out;
	sae_get(in, "X-Received", &t);
	if (sae_rx_buf(&x1, &t) || sae_rx_buf(&x2, &t))
		goto out;
	sae_get(in, "Received", &t);
	if (sae_rx_buf(&r1, &t))
		goto out;
	sae_get(in, "X-Gm-Message-State", &t);
	gms = t.len;
	sae_get(in, "X-Google-Smtp-Source", &t);
	gss = t.len;
	r = !(gms >= 60 && gss >= 60);
out:
	buf_release(&from);
	buf_release(&t);
	return r;
}

static unsigned
forged_gw05(struct saeval_in *in, const struct saeval_args *a,
    const void *p, struct buf *d)
{
	static struct sae_rx rx = { "(?:^|\\n)from\\s(\\S+)\\sby\\s(\\S+)\\swith"
	    "\\sESMTP\\;\\s+\\S\\S\\S,\\s+\\d+\\s+\\S\\S\\S\\s+\\d{4}\\s+\\d\\d:"
	    "\\d\\d:\\d\\d\\s+[-+]*\\d{4}$", 0, NULL };
	struct buf rcvd = BUF_INIT, by = BUF_INIT;
	const char *last;
	unsigned r = 0;

	(void)a;
	(void)p;
	(void)d;
	sae_get(in, "Received", &rcvd);
	/* the last Received field only (the pattern is anchored at its end) */
	last = strrchr(buf_cstr(&rcvd), '\n');
	last = last ? last + 1 : buf_cstr(&rcvd);
	if (rcvd.len && sae_rx_match(&rx, last, strlen(last), NULL)) {
		static struct sae_rx byhost = { "\\sby\\s(\\S+)\\swith\\sESMTP",
		    0, NULL };

		(void)sae_rx_match(&byhost, last, strlen(last), &by);
		r = strchr(buf_cstr(&by), '.') == NULL;
	}
	buf_release(&rcvd);
	buf_release(&by);
	return r;
}

static unsigned
fake_aol_relay(struct saeval_in *in, const struct saeval_args *a,
    const void *p, struct buf *d)
{
	static struct sae_rx rly = { " rly-[a-z][a-z]\\d\\d\\.", PCRE2_CASELESS,
	    NULL };
	static struct sae_rx via = { "/AOL-\\d+\\.\\d+\\.\\d+\\)", 0, NULL };
	static struct sae_rx id = { "ESMTP id (?:RELAY|MAILRELAY|MAILIN)", 0,
	    NULL };
	struct buf rcvd = BUF_INIT;
	unsigned r = 0;

	(void)a;
	(void)p;
	(void)d;
	received(in, &rcvd);
	if (sae_rx_buf(&rly, &rcvd))
		r = !sae_rx_buf(&via, &rcvd) && !sae_rx_buf(&id, &rcvd);
	buf_release(&rcvd);
	return r;
}

static unsigned
msgid_not_usable(struct saeval_in *in, const struct saeval_args *a,
    const void *p, struct buf *d)
{
	static struct sae_rx unsub = { "<mailto:(?:leave-\\S+|\\S+-unsubscribe)"
	    "\\@\\S+>$", PCRE2_CASELESS, NULL };
	struct buf t = BUF_INIT;
	unsigned r = 1;

	(void)a;
	(void)p;
	(void)d;
	sae_get(in, "List-Unsubscribe", &t);
	if (sae_rx_buf(&unsub, &t) || gated(in))
		goto out;
	sae_get(in, "Received", &t);
	if (strstr(buf_cstr(&t), "/CWT/DCE)") ||
	    strstr(buf_cstr(&t), "iPlanet Messaging Server"))
		goto out;
	r = 0;
out:
	buf_release(&t);
	return r;
}

/* messageid - SpamAssassin's MESSAGEID: Message-Id and Resent-Message-Id */
static void
messageid(const struct saeval_in *in, struct buf *out)
{
	struct buf t = BUF_INIT;

	sae_get(in, "Message-Id", out);
	sae_get(in, "Resent-Message-Id", &t);
	if (t.len) {
		if (out->len)
			buf_addc(out, '\n');
		buf_add(out, t.data, t.len);
	}
	(void)buf_cstr(out);
	buf_release(&t);
}

/* quote_meta - s with regex metacharacters escaped (Perl's \Q) */
static void
quote_meta(const char *s, size_t n, struct buf *out)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (!ch_is_alnum((unsigned char)s[i]) && s[i] != '_' &&
		    (unsigned char)s[i] < 128)
			buf_addc(out, '\\');
		buf_addc(out, s[i]);
	}
}

/* rx_dyn - does the pattern built at run time match s */
static bool
rx_dyn(const char *pat, uint32_t opts, const char *s, size_t n)
{
	pcre2_code *c;
	pcre2_match_data *md;
	int err, rc;
	PCRE2_SIZE off;

	c = pcre2_compile((PCRE2_SPTR)pat, PCRE2_ZERO_TERMINATED, opts, &err,
	    &off, NULL);
	if (c == NULL)
		return false;
	md = pcre2_match_data_create_from_pattern(c, NULL);
	rc = pcre2_match(c, (PCRE2_SPTR)s, n, 0, 0, md, NULL);
	pcre2_match_data_free(md);
	pcre2_code_free(c);
	return rc > 0;
}

static unsigned
ratware_name_id(struct saeval_in *in, const struct saeval_args *a,
    const void *p, struct buf *d)
{
	static struct sae_rx mid = { "<[A-Z]{28}\\.([^>]+?)>", 0, NULL };
	struct buf id = BUF_INIT, cap = BUF_INIT, from = BUF_INIT,
	    pat = BUF_INIT;
	unsigned r = 0;

	(void)a;
	(void)p;
	(void)d;
	messageid(in, &id);
	if (sae_rx_match(&mid, buf_cstr(&id), id.len, &cap)) {
		sae_get(in, "From", &from);
		buf_adds(&pat, "\"[^\"]+\"\\s*<");
		quote_meta(cap.data, cap.len, &pat);
		buf_addc(&pat, '>');
		r = rx_dyn(buf_cstr(&pat), 0, buf_cstr(&from), from.len);
	}
	buf_release(&id);
	buf_release(&cap);
	buf_release(&from);
	buf_release(&pat);
	return r;
}

/* domain_valid - a plausible registrable domain (a dot, a letter TLD) */
static bool
domain_valid(const char *dom)
{
	const char *dot = strrchr(dom, '.');

	return dot && dot > dom && dot[1] && ch_is_alpha((unsigned char)dot[1]);
}

static unsigned
ratware_envfrom(struct saeval_in *in, const struct saeval_args *a,
    const void *p, struct buf *d)
{
	static struct sae_rx srs = { "^SRS\\d[=+-]", PCRE2_CASELESS, NULL };
	struct buf to = BUF_INIT, ef = BUF_INIT, pat = BUF_INIT;
	const char *at;
	unsigned r = 0;

	(void)a;
	(void)p;
	(void)d;
	sae_addr(in, "To", &to);
	sae_envfrom(in, &ef);
	if (to.len == 0 || ef.len == 0 || sae_rx_buf(&srs, &ef))
		goto out;
	at = strchr(buf_cstr(&to), '@');
	if (at == NULL || at == to.data || !domain_valid(at + 1))
		goto out;
	buf_adds(&pat, "\\b");
	quote_meta(at + 1, strlen(at + 1), &pat);
	buf_addc(&pat, '.');
	quote_meta(to.data, (size_t)(at - to.data), &pat);
	buf_addc(&pat, '@');
	r = rx_dyn(buf_cstr(&pat), PCRE2_CASELESS, buf_cstr(&ef), ef.len);
out:
	buf_release(&to);
	buf_release(&ef);
	buf_release(&pat);
	return r;
}

/* second_level - the last two labels of the domain of addr ("" if none) */
static const char *
second_level(const char *addr)
{
	const char *at = strrchr(addr, '@'), *p, *dot1 = NULL, *dot2 = NULL;

	if (at == NULL)
		return "";
	for (p = at + 1; *p; p++)
		if (*p == '.') {
			dot2 = dot1;
			dot1 = p;
		}
	/* "^.+\.([^.]+\.[^.]+)$": only when something precedes */
	return dot2 && dot2 > at + 1 ? dot2 + 1 : at + 1;
}

static unsigned
equal_from_domains(struct saeval_in *in, const struct saeval_args *a,
    const void *p, struct buf *d)
{
	struct buf from = BUF_INIT, ef = BUF_INIT;
	const char *f, *e;
	unsigned r = 0;

	(void)a;
	(void)p;
	sae_addr(in, "From", &from);
	sae_envfrom(in, &ef);
	f = second_level(buf_cstr(&from));
	e = second_level(buf_cstr(&ef));
	if (*f && *e)
		r = strcasecmp(f, e) != 0;
	if (d)
		buf_printf(d, "From %s, EnvelopeFrom %s", f, e);
	buf_release(&from);
	buf_release(&ef);
	return r;
}

/* prep_illegal - check_illegal_chars(FIELD, RATIO, COUNT) */
static int
prep_illegal(const struct saeval_args *a, void **prep, struct buf *why)
{
	double v;

	(void)prep;
	if (!hdr_name_ok(a->v[0]) || parse_double(a->v[1], 0, 1, &v) < 0 ||
	    parse_double(a->v[2], 0, 1e6, &v) < 0) {
		buf_adds(why, "expected (FIELD, RATIO 0-1, COUNT)");
		return -1;
	}
	return 0;
}

static unsigned
illegal_chars(struct saeval_in *in, const struct saeval_args *a,
    const void *p, struct buf *d)
{
	char field[160];
	const char *v;
	size_t i, n, illegal = 0, exempt = 0, k;
	double ratio, count;
	bool ctl = false, high = false, any = false;
	struct buf all = BUF_INIT;
	unsigned r = 0;

	(void)p;
	(void)parse_double(a->v[1], 0, 1, &ratio);
	(void)parse_double(a->v[2], 0, 1e6, &count);
	snprintf(field, sizeof(field), "%s", a->v[0]);
	n = strlen(field);
	if (n > 4 && strcasecmp(field + n - 4, ":raw") == 0)
		field[n - 4] = '\0';
	for (k = 0; (v = sae_field_raw(in, field, k)) != NULL; k++) {
		if (k)
			buf_addc(&all, '\n');
		buf_adds(&all, v);
	}
	for (i = 0; i < all.len; i++) {
		unsigned char c = (unsigned char)all.data[i];

		if (!ch_is_space(c))
			any = true;
		if (c >= 0x80)
			high = true;
		if (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
			ctl = true;
		if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') ||
		    c >= 0x7f)
			illegal++;
		if (c == 0xa2 || c == 0xa3 || c == 0xae)
			exempt++;
	}
	if (!any || all.len == 0)
		goto out;
	if (high && !ctl && utf8_valid(all.data, all.len))
		goto out;		/* valid UTF-8 without controls */
	if (illegal > 0 && strcasecmp(field, "Subject") == 0 && exempt == 1)
		illegal--;
	r = (double)illegal / (double)all.len >= ratio &&
	    (double)illegal >= count;
	if (d)
		buf_printf(d, "%zu illegal of %zu bytes", illegal, all.len);
out:
	buf_release(&all);
	return r;
}

static unsigned
unresolved_template(struct saeval_in *in, const struct saeval_args *a,
    const void *p, struct buf *d)
{
	static struct sae_rx tmpl = { "%[A-Z][A-Z_-]", 0, NULL };
	static struct sae_rx skip = { "^(?:X-VMS-To|X-UIDL|X-Face|To|Cc|From|"
	    "Subject|References|In-Reply-To|(?:X-|Resent-|X-Original-)?"
	    "Message-Id)$", PCRE2_CASELESS, NULL };
	const struct mime_msg *mm = in->mm;
	size_t i;

	(void)a;
	(void)p;
	(void)d;
	for (i = 0; mm && i < mm->nhdrs; i++)
		if (sae_rx_match(&tmpl, mm->hdrs[i].value,
		    strlen(mm->hdrs[i].value), NULL) &&
		    !sae_rx_match(&skip, mm->hdrs[i].name,
		    strlen(mm->hdrs[i].name), NULL))
			return 1;
	return 0;
}

static int
prep_to_in_subject(const struct saeval_args *a, void **prep, struct buf *why)
{
	(void)prep;
	if (strcmp(a->v[0], "address") != 0 && strcmp(a->v[0], "user") != 0) {
		buf_adds(why, "the test is 'address' or 'user'");
		return -1;
	}
	return 0;
}

static unsigned
to_in_subject(struct saeval_in *in, const struct saeval_args *a,
    const void *p, struct buf *d)
{
	struct buf to = BUF_INIT, subj = BUF_INIT, pat = BUF_INIT, q = BUF_INIT;
	const char *at;
	unsigned r = 0;

	(void)p;
	(void)d;
	sae_addr(in, "To", &to);
	if (to.len == 0)
		goto out;
	sae_get(in, "Subject", &subj);
	if (strcmp(a->v[0], "address") == 0) {
		buf_adds(&pat, "\\b");
		quote_meta(to.data, to.len, &pat);
		buf_adds(&pat, "\\b");
	} else {
		at = strchr(buf_cstr(&to), '@');
		quote_meta(to.data, at ? (size_t)(at - to.data) : to.len, &q);
		buf_printf(&pat, "^(?:(?:re|fw):\\s*(?:\\w+\\s+)?%s$|(?-i:%s)"
		    "\\s*[,:;!?-](?:$|\\s)|%s$|,\\s*%s[,:;!?-]$)", buf_cstr(&q),
		    buf_cstr(&q), buf_cstr(&q), buf_cstr(&q));
	}
	r = rx_dyn(buf_cstr(&pat), PCRE2_CASELESS, buf_cstr(&subj), subj.len);
out:
	buf_release(&to);
	buf_release(&subj);
	buf_release(&pat);
	buf_release(&q);
	return r;
}

/* ------------------------------------------------------------------ */
/* recipients (SpamAssassin's _check_recipients)                       */
/* ------------------------------------------------------------------ */

#define RCPT_MAX	256

struct rcpt_stats {
	bool	 sorted;
	double	 similar;
};

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void *
make_rcpts(struct saeval_in *in)
{
	struct rcpt_stats *st = xcalloc(1, sizeof(*st));
	char *raw[RCPT_MAX], *v[RCPT_MAX], *sorted[RCPT_MAX];
	size_t nraw = 0, n = 0, i, j, hits = 0, comb = 0;

	nraw = sae_addrs(in, "To", raw, RCPT_MAX);
	nraw += sae_addrs(in, "Cc", raw + nraw, RCPT_MAX - nraw);
	if (nraw < 5)
		nraw += sae_addrs(in, "Bcc", raw + nraw, RCPT_MAX - nraw);
	/* drop a repeat of the address just before it */
	for (i = 0; i < nraw; i++)
		if (n == 0 || strcasecmp(v[n - 1], raw[i]) != 0)
			v[n++] = raw[i];
	memcpy(sorted, v, n * sizeof(*v));
	qsort(sorted, n, sizeof(*sorted), cmp_str);
	st->sorted = n >= 7;
	for (i = 0; st->sorted && i < n; i++)
		if (strcmp(sorted[i], v[i]) != 0)
			st->sorted = false;
	if (n >= 5) {
		for (i = 0; i < n; i++)
			for (j = i + 1; j < n; j++) {
				const char *hi = strchr(v[i], '@');
				const char *hj = strchr(v[j], '@');

				hits += strncmp(v[i], v[j], 2) == 0;
				if (hi && hj && strncmp(hi + 1, hj + 1, 2) == 0 &&
				    strcmp(hi + 1, hj + 1) != 0)
					hits++;
				comb++;
			}
		st->similar = (double)hits / (double)comb;
	}
	sae_addrs_free(raw, nraw);
	return st;
}

static const struct rcpt_stats *
rcpts(struct saeval_in *in)
{
	static const char key;

	return saeval_memo(in, &key, make_rcpts, free);
}

/* prep_range - two bounds, each a number or 'undef' */
static int
prep_range(const struct saeval_args *a, void **prep, struct buf *why)
{
	double v;
	size_t i;

	(void)prep;
	for (i = 0; i < a->n; i++)
		if (strcmp(a->v[i], "undef") != 0 &&
		    parse_double(a->v[i], -1e9, 1e9, &v) < 0) {
			buf_printf(why, "'%.20s' is neither a number nor undef",
			    a->v[i]);
			return -1;
		}
	return 0;
}

/* in_range - min <= x < max, 'undef' bounds open */
bool
sae_in_range(double x, const struct saeval_args *a, double unit)
{
	double lo, hi;

	if (a->n > 0 && strcmp(a->v[0], "undef") != 0 &&
	    parse_double(a->v[0], -1e9, 1e9, &lo) == 0 && x < lo * unit)
		return false;
	if (a->n > 1 && strcmp(a->v[1], "undef") != 0 &&
	    parse_double(a->v[1], -1e9, 1e9, &hi) == 0 && x >= hi * unit)
		return false;
	return true;
}

int
sae_prep_range(const struct saeval_args *a, void **prep, struct buf *why)
{
	return prep_range(a, prep, why);
}

static unsigned
similar_rcpts(struct saeval_in *in, const struct saeval_args *a,
    const void *p, struct buf *d)
{
	const struct rcpt_stats *st = rcpts(in);

	(void)p;
	if (d)
		buf_printf(d, "similarity %.3f", st->similar);
	return sae_in_range(st->similar, a, 1);
}

static unsigned
sorted_rcpts(struct saeval_in *in, const struct saeval_args *a,
    const void *p, struct buf *d)
{
	(void)a;
	(void)p;
	(void)d;
	return rcpts(in)->sorted;
}

static unsigned
env_eq_from(struct saeval_in *in, const struct saeval_args *a,
    const void *p, struct buf *d)
{
	struct buf from = BUF_INIT, ef = BUF_INIT;
	unsigned r;

	(void)a;
	(void)p;
	(void)d;
	sae_addr(in, "From", &from);
	sae_envfrom(in, &ef);
	r = strcasecmp(buf_cstr(&from), buf_cstr(&ef)) == 0;
	buf_release(&from);
	buf_release(&ef);
	return r;
}

/* zero - SpamAssassin's deprecated tests, and those that cannot hit
 * under its default settings (ok_locales all) */
static unsigned
zero(struct saeval_in *in, const struct saeval_args *a, const void *p,
    struct buf *d)
{
	(void)in;
	(void)a;
	(void)p;
	if (d)
		buf_adds(d, "never hits (as SpamAssassin's defaults)");
	return 0;
}

#define H	(1u << RULE_HEADER)

static const struct saeval_fn fns[] = {
	{ "check_for_missing_to_header", H, 0, 0, NULL, NULL, missing_to },
	{ "check_header_count_range", H, 3, 3, prep_count_range, NULL,
	  count_range },
	{ "subject_is_all_caps", H, 0, 0, NULL, NULL, subject_caps },
	{ "gated_through_received_hdr_remover", H, 0, 0, NULL, NULL,
	  gated_through },
	{ "check_for_forged_yahoo_received_headers", H, 0, 0, NULL, NULL,
	  forged_yahoo },
	{ "check_for_forged_hotmail_received_headers", H, 0, 0, NULL, NULL,
	  forged_hotmail },
	{ "check_for_no_hotmail_received_headers", H, 0, 0, NULL, NULL,
	  no_hotmail },
	{ "check_for_forged_eudoramail_received_headers", H, 0, 0, NULL, NULL,
	  forged_eudora },
	{ "check_for_forged_juno_received_headers", H, 0, 0, NULL, NULL,
	  forged_juno },
	{ "check_for_forged_gmail_received_headers", H, 0, 0, NULL, NULL,
	  forged_gmail },
	{ "check_for_forged_gw05_received_headers", H, 0, 0, NULL, NULL,
	  forged_gw05 },
	{ "check_for_fake_aol_relay_in_rcvd", H, 0, 0, NULL, NULL,
	  fake_aol_relay },
	{ "check_messageid_not_usable", H, 0, 0, NULL, NULL,
	  msgid_not_usable },
	{ "check_ratware_name_id", H, 0, 0, NULL, NULL, ratware_name_id },
	{ "check_ratware_envelope_from", H, 0, 0, NULL, NULL,
	  ratware_envfrom },
	{ "check_equal_from_domains", H, 0, 0, NULL, NULL,
	  equal_from_domains },
	{ "check_illegal_chars", H, 3, 3, prep_illegal, NULL, illegal_chars },
	{ "check_unresolved_template", H, 0, 0, NULL, NULL,
	  unresolved_template },
	{ "check_for_to_in_subject", H, 1, 1, prep_to_in_subject, NULL,
	  to_in_subject },
	{ "similar_recipients", H, 2, 2, prep_range, NULL, similar_rcpts },
	{ "sorted_recipients", H, 0, 0, NULL, NULL, sorted_rcpts },
	{ "check_for_matching_env_and_hdr_from", H, 0, 0, NULL, NULL,
	  env_eq_from },
	{ "check_for_unique_subject_id", H, 0, 0, NULL, NULL, zero },
	{ "check_for_faraway_charset_in_headers", H, 0, 0, NULL, NULL, zero },
};

static const char *const plugins[] = {
	"Mail::SpamAssassin::Plugin::HeaderEval",
	NULL
};

const struct saeval_family saeval_header_family = {
	"header", fns, SAEVAL_NELEM(fns), NULL, 0, plugins
};
