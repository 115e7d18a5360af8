/*
 * saeval_freemail.c - SpamAssassin's FreeMail plugin: senders at free
 *	mail providers
 *
 * DESCRIPTION
 *	The freemail family (see saeval.h).  The providers come from rule
 *	files, as SpamAssassin ships them (20_freemail_domains.cf):
 *
 *	    freemail_domains DOMAIN...       "*" = any run of non-dots,
 *	                                     "?" = one non-dot
 *	    freemail_welcomelist ADDR|DOMAIN...  (freemail_whitelist)
 *	    freemail_max_body_emails N (5), freemail_max_body_freemails N
 *	    (3), freemail_skip_when_over_max 0|1 (1),
 *	    freemail_skip_bulk_envfrom 0|1 (1)
 *
 *	An address is a freemail when its domain is listed, unless the
 *	address or domain is welcomelisted or its local part is a role or
 *	bounce form (abuse@, postmaster@, bounce-..., a=b=c@).
 *
 *	check_freemail_from([REGEX])
 *	    one of the sender addresses (Resent-From, else From, Envelope-
 *	    Sender, Resent-Sender, X-Envelope-From, EnvelopeFrom) is a
 *	    freemail (matching REGEX)
 *	check_freemail_header(FIELD[, REGEX])
 *	    an address of FIELD (EnvelopeFrom: the envelope sender) is
 *	    a freemail (matching REGEX)
 *	check_freemail_replyto(['replyto'|'reply'])
 *	    From and Reply-To are different freemails; or ('replyto') a
 *	    freemail Reply-To, or ('reply') the reply address, differs
 *	    from a freemail address in the body
 *	check_freemail_body([REGEX])
 *	    the body names a freemail address (matching REGEX)
 *
 *	The body's addresses (mailto: links and addresses in the text,
 *	not inside URLs, <...> or before "wrote:") are found once per
 *	message; over freemail_max_body_emails addresses or
 *	freemail_max_body_freemails freemails the body is not used.
 *
 * SECURITY
 *	Addresses and body text are untrusted: compared and matched with
 *	capped regexes; at most 40 body addresses are kept.
 *
 * SEE ALSO
 *	SpamAssassin's Mail::SpamAssassin::Plugin::FreeMail, 20_freemail.cf
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mime.h"
#include "saeval.h"
#include "saeval_int.h"
#include "str.h"
#include "strmap.h"

#define BODY_MAX	40
#define ADDRS_MAX	64

/* ------------------------------------------------------------------ */
/* is it a freemail                                                    */
/* ------------------------------------------------------------------ */

/* glob - '*' any run of non-dots, '?' one non-dot, else literal */
static bool
glob(const char *p, const char *s)
{
	for (; *p; p++, s++) {
		if (*p == '*') {
			for (;;) {
				if (glob(p + 1, s))
					return true;
				if (*s == '\0' || *s == '.')
					return false;
				s++;
			}
		}
		if (*s == '\0' || (*p == '?' ? *s == '.' : *p != *s))
			return false;
	}
	return *s == '\0';
}

/* role_local - SpamAssassin's default welcomelist of local parts */
static bool
role_local(const char *email)
{
	static struct sae_rx rx = { "^(?:abuse|support|sales|info|helpdesk|"
	    "contact|kontakt|(?:post|host|domain)master|undisclosed.*|request-"
	    "[a-f0-9]{16}|bounced?-|[a-f0-9]{8}(?:\\.[a-f0-9]{8}|-[a-f0-9]{4}-"
	    "[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{12})|.+=.+=.+)\\@",
	    PCRE2_CASELESS, NULL };

	return sae_rx_match(&rx, email, strlen(email), NULL);
}

/* is_freemail - email in lower case */
static bool
is_freemail(const struct saeval_in *in, const char *email)
{
	const struct strmap *wl = saeval_conf_set(in->conf,
	    "freemail_welcomelist");
	const struct strmap *wl2 = saeval_conf_set(in->conf,
	    "freemail_whitelist");
	const struct strmap *dom = saeval_conf_set(in->conf,
	    "freemail_domains");
	char *const *g;
	const char *d = strrchr(email, '@');
	size_t n, i;

	if (*email == '\0' || dom == NULL || d == NULL)
		return false;
	d++;
	if ((wl && (strmap_get(wl, email) || strmap_get(wl, d))) ||
	    (wl2 && (strmap_get(wl2, email) || strmap_get(wl2, d))))
		return false;
	if (role_local(email))
		return false;
	if (strmap_get(dom, d))
		return true;
	g = saeval_conf_globs(in->conf, "freemail_domains", &n);
	for (i = 0; i < n; i++)
		if (glob(g[i], d))
			return true;
	return false;
}

/* lower_squeeze - lower case, ".." as "." (SpamAssassin's tr/././s) */
static void
lower_squeeze(char *s)
{
	char *o = s, *start = s;

	for (; *s; s++) {
		if (*s == '.' && o > start && o[-1] == '.')
			continue;
		*o++ = (char)ch_lower((unsigned char)*s);
	}
	*o = '\0';
}

static void
lower(char *s)
{
	for (; *s; s++)
		*s = (char)ch_lower((unsigned char)*s);
}

/* field_addrs - the addresses of a field (EnvelopeFrom: the sender) */
static size_t
field_addrs(struct saeval_in *in, const char *field, char **out, size_t max)
{
	struct buf ef = BUF_INIT;
	size_t n, i;

	if (strcasecmp(field, "EnvelopeFrom") == 0) {
		sae_envfrom(in, &ef);
		n = 0;
		if (ef.len && max)
			out[n++] = buf_steal(&ef);
		buf_release(&ef);
	} else
		n = sae_addrs(in, field, out, max);
	for (i = 0; i < n; i++)
		lower(out[i]);
	return n;
}

/* ------------------------------------------------------------------ */
/* arguments                                                           */
/* ------------------------------------------------------------------ */

static void
rx_release(void *p)
{
	pcre2_code_free(p);
}

/* compile_arg - a Perl regex given as text, compiled for prep */
static int
compile_arg(const char *pat, void **prep, struct buf *why)
{
	int err;
	PCRE2_SIZE off;
	char msg[128];

	*prep = pcre2_compile((PCRE2_SPTR)pat, PCRE2_ZERO_TERMINATED, 0, &err,
	    &off, NULL);
	if (*prep == NULL) {
		pcre2_get_error_message(err, (PCRE2_UCHAR *)msg, sizeof(msg));
		buf_printf(why, "bad regex '%.60s': %s", pat, msg);
		return -1;
	}
	return 0;
}

static int
prep_from(const struct saeval_args *a, void **prep, struct buf *why)
{
	return a->n ? compile_arg(a->v[0], prep, why) : 0;
}

/* base_field - FIELD of "FIELD" or "FIELD:addr" into out */
static void
base_field(const char *arg, char *out, size_t cap)
{
	size_t n;

	snprintf(out, cap, "%s", arg);
	n = strlen(out);
	if (n > 5 && strcasecmp(out + n - 5, ":addr") == 0)
		out[n - 5] = '\0';
}

static int
prep_header(const struct saeval_args *a, void **prep, struct buf *why)
{
	char f[160];

	base_field(a->v[0], f, sizeof(f));
	if (!hdr_name_ok(f)) {
		buf_printf(why, "'%.40s' is not a header field name", a->v[0]);
		return -1;
	}
	return a->n > 1 ? compile_arg(a->v[1], prep, why) : 0;
}

static int
prep_replyto(const struct saeval_args *a, void **prep, struct buf *why)
{
	(void)prep;
	if (a->n && strcmp(a->v[0], "replyto") != 0 &&
	    strcmp(a->v[0], "reply") != 0) {
		buf_adds(why, "the option is 'replyto' or 'reply'");
		return -1;
	}
	return 0;
}

/* re_ok - no regex, or the address matches it */
static bool
re_ok(const void *prep, const char *s)
{
	pcre2_match_data *md;
	int rc;

	if (prep == NULL)
		return true;
	md = pcre2_match_data_create_from_pattern(prep, NULL);
	rc = pcre2_match(prep, (PCRE2_SPTR)s, strlen(s), 0, 0, md, NULL);
	pcre2_match_data_free(md);
	return rc > 0;
}

/* any_freemail - the first address of v that is a freemail matching */
static const char *
any_freemail(const struct saeval_in *in, char **v, size_t n,
    const void *prep)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (is_freemail(in, v[i]) && re_ok(prep, v[i]))
			return v[i];
	return NULL;
}

static void
note(struct buf *d, const char *email)
{
	if (d)
		buf_printf(d, "%s is a freemail", email ? email : "none");
}

/* ------------------------------------------------------------------ */
/* the tests                                                           */
/* ------------------------------------------------------------------ */

static unsigned
freemail_from(struct saeval_in *in, const struct saeval_args *a,
    const void *prep, struct buf *d)
{
	static const char *const fields[] = { "From", "Envelope-Sender",
	    "Resent-Sender", "X-Envelope-From", "EnvelopeFrom" };
	char *v[ADDRS_MAX];
	size_t n = 0, i;
	const char *hit;

	(void)a;
	if (sae_field(in, "Resent-From", 0)) {
		struct buf r = BUF_INIT;

		sae_addr(in, "Resent-From", &r);
		if (r.len)
			v[n++] = buf_steal(&r);
		buf_release(&r);
	} else
		for (i = 0; i < SAEVAL_NELEM(fields); i++)
			n += field_addrs(in, fields[i], v + n, ADDRS_MAX - n);
	for (i = 0; i < n; i++)
		lower_squeeze(v[i]);
	hit = any_freemail(in, v, n, prep);
	note(d, hit);
	sae_addrs_free(v, n);
	return hit != NULL;
}

static unsigned
freemail_header(struct saeval_in *in, const struct saeval_args *a,
    const void *prep, struct buf *d)
{
	char *v[ADDRS_MAX], f[160];
	size_t n;
	const char *hit;

	base_field(a->v[0], f, sizeof(f));
	n = field_addrs(in, f, v, ADDRS_MAX);
	hit = any_freemail(in, v, n, prep);

	note(d, hit);
	sae_addrs_free(v, n);
	return hit != NULL;
}

/* ------------------------------------------------------------------ */
/* the body's addresses                                                */
/* ------------------------------------------------------------------ */


struct body_mails {
	bool	 skip;			/* over a limit: not used */
	char	*v[BODY_MAX];		/* freemails, lower case */
	size_t	 n;
};

static void
body_free(void *p)
{
	struct body_mails *b = p;

	sae_addrs_free(b->v, b->n);
	free(b);
}

static bool
seen(char **v, size_t n, const char *s)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(v[i], s) == 0)
			return true;
	return false;
}

static void
add_unique(char **v, size_t *n, const char *s, size_t len)
{
	char *c = xstrndup(s, len);

	lower(c);
	if (*n < BODY_MAX && !seen(v, *n, c))
		v[(*n)++] = c;
	else
		free(c);
}

/* strip - blank out URLs holding '@' and "<addr>" / "addr wrote:" forms */
static void
strip_text(struct buf *t)
{
	static struct sae_rx url = { "<?https?://\\S{0,255}(?:\\@|%40)\\S{0,255}",
	    PCRE2_CASELESS, NULL };
	static struct sae_rx quoted = { "<?(?<!mailto:)" EMAIL_RX "(?:>|\\s{1,10}"
	    "(?!(?:fa(?:x|csi)|tel|phone|e?-?mail))[a-z]{2,11}:)",
	    PCRE2_CASELESS | PCRE2_USE_OFFSET_LIMIT, NULL };
	size_t k, off, s, e;
	bool found;

	for (k = 0; k < 2; k++)
		for (off = 0; off < t->len; off = e) {
			found = k == 0 ?
			    sae_rx_span(&url, t->data, t->len, off, &s, &e) :
			    sae_rx_span_near(&quoted, t->data, t->len, off, '@',
			    EMAIL_BACK + 1, &s, &e);
			if (!found)
				break;
			memset(t->data + s, ' ', e - s);
			if (e == s)
				e++;
		}
}

static void *
make_body(struct saeval_in *in)
{
	static struct sae_rx mailto = { "^mailto:" EMAIL_RX, PCRE2_CASELESS,
	    NULL };
	static struct sae_rx email = { EMAIL_RX,
	    PCRE2_CASELESS | PCRE2_USE_OFFSET_LIMIT, NULL };
	struct body_mails *b = xcalloc(1, sizeof(*b));
	const struct mime_msg *mm = in->mm;
	char *all[BODY_MAX];
	size_t nall = 0, i, s, e, off, fm = 0;
	struct buf t = BUF_INIT, cap = BUF_INIT;
	uint64_t maxe = 5, maxf = 3, skip = 1;
	const char *v;

	if ((v = saeval_conf_value(in->conf, "freemail_max_body_emails")))
		(void)parse_uint(v, 0, 1000000, &maxe);
	if ((v = saeval_conf_value(in->conf, "freemail_max_body_freemails")))
		(void)parse_uint(v, 0, 1000000, &maxf);
	if ((v = saeval_conf_value(in->conf, "freemail_skip_when_over_max")))
		(void)parse_uint(v, 0, 1, &skip);
	for (i = 0; mm && i < mm->nuris && nall < 20; i++)
		if (mm->uris[i].src == MIME_URI_HREF && sae_rx_match(&mailto,
		    mm->uris[i].uri, strlen(mm->uris[i].uri), &cap))
			add_unique(all, &nall, cap.data, cap.len);
	for (i = 0; mm && i < mm->nparts && nall < BODY_MAX; i++) {
		if (mm->parts[i].kind != MIME_K_TEXT &&
		    mm->parts[i].kind != MIME_K_HTML)
			continue;
		buf_reset(&t);
		buf_add(&t, mm->parts[i].text.data, mm->parts[i].text.len);
		strip_text(&t);
		for (off = 0; off < t.len && nall < BODY_MAX; off = e) {
			if (!sae_rx_span_near(&email, t.data, t.len, off, '@',
			    EMAIL_BACK, &s, &e) || e == s)
				break;
			add_unique(all, &nall, t.data + s, e - s);
		}
	}
	for (i = 0; i < nall && !b->skip; i++) {
		if (i + 1 == maxe && skip)
			b->skip = true;
		else if (is_freemail(in, all[i])) {
			if (++fm == maxf && skip)
				b->skip = true;
			else
				b->v[b->n++] = xstrdup(all[i]);
		}
	}
	sae_addrs_free(all, nall);
	buf_release(&t);
	buf_release(&cap);
	return b;
}

static const struct body_mails *
body_mails(struct saeval_in *in)
{
	static const char key;

	return saeval_memo(in, &key, make_body, body_free);
}

static unsigned
freemail_body(struct saeval_in *in, const struct saeval_args *a,
    const void *prep, struct buf *d)
{
	const struct body_mails *b = body_mails(in);
	size_t i;

	(void)a;
	if (b->skip)
		return 0;
	for (i = 0; i < b->n; i++)
		if (re_ok(prep, b->v[i])) {
			note(d, b->v[i]);
			return 1;
		}
	return 0;
}

/* bulk_envfrom - a list or bounce sender: Reply-To checks are skipped */
static bool
bulk_envfrom(struct saeval_in *in)
{
	static struct sae_rx rx = { "(?:^(?:post|host|domain)master|"
	    "^double-bounce|^(?:sentto|owner|return|(?:gr)?bounced?)-.+|"
	    "-(?:request|bounces?|admin|owner)|\\b(?:do[._-t]?)?no[._-t]?"
	    "repl(?:y|ies)|.+=.+)\\@", PCRE2_CASELESS, NULL };
	const char *v = saeval_conf_value(in->conf,
	    "freemail_skip_bulk_envfrom");
	struct buf ef = BUF_INIT;
	bool r;

	if (v && strcmp(v, "0") == 0)
		return false;
	sae_envfrom(in, &ef);
	r = ef.len && sae_rx_buf(&rx, &ef);
	buf_release(&ef);
	return r;
}

static unsigned
replyto_body(struct saeval_in *in, char **reply, size_t nr)
{
	const struct body_mails *b = body_mails(in);
	size_t i, k;

	if (b->skip)
		return 0;
	for (i = 0; i < b->n; i++)
		for (k = 0; k < nr; k++)
			if (strcmp(b->v[i], reply[k]) != 0)
				return 1;
	return 0;
}

static unsigned
freemail_replyto(struct saeval_in *in, const struct saeval_args *a,
    const void *prep, struct buf *d)
{
	char *from[ADDRS_MAX], *rt[ADDRS_MAX];
	size_t nf, nr, i;
	bool reply = a->n && strcmp(a->v[0], "reply") == 0;
	bool ffm, rfm, not_in = true;
	unsigned r = 0;

	(void)prep;
	(void)d;
	if (bulk_envfrom(in))
		return 0;
	nf = field_addrs(in, "From", from, ADDRS_MAX);
	nr = field_addrs(in, "Reply-To", rt, ADDRS_MAX);
	ffm = any_freemail(in, from, nf, NULL) != NULL;
	rfm = any_freemail(in, rt, nr, NULL) != NULL;
	for (i = 0; i < nf; i++)
		if (seen(rt, nr, from[i]))
			not_in = false;
	if (ffm && rfm && not_in)
		r = 1;
	else if (!reply && rfm)
		r = replyto_body(in, rt, nr);
	else if (reply && !(nr && !rfm) && ffm)
		r = rfm ? replyto_body(in, rt, nr) : replyto_body(in, from, nf);
	sae_addrs_free(from, nf);
	sae_addrs_free(rt, nr);
	return r;
}

#define H	(1u << RULE_HEADER)

static const struct saeval_fn fns[] = {
	{ "check_freemail_from", H, 0, 1, prep_from, rx_release,
	  freemail_from },
	{ "check_freemail_header", H, 1, 2, prep_header, rx_release,
	  freemail_header },
	{ "check_freemail_body", SAEVAL_TYPES_ANY, 0, 1, prep_from,
	  rx_release, freemail_body },
	{ "check_freemail_replyto", H, 0, 1, prep_replyto, NULL,
	  freemail_replyto },
};

static const struct saeval_directive dirs[] = {
	{ "freemail_domains", SAEVAL_DIR_SET },
	{ "freemail_welcomelist", SAEVAL_DIR_SET },
	{ "freemail_whitelist", SAEVAL_DIR_SET },
	{ "freemail_max_body_emails", SAEVAL_DIR_VALUE },
	{ "freemail_max_body_freemails", SAEVAL_DIR_VALUE },
	{ "freemail_skip_when_over_max", SAEVAL_DIR_VALUE },
	{ "freemail_skip_bulk_envfrom", SAEVAL_DIR_VALUE },
	{ "freemail_add_describe_email", SAEVAL_DIR_VALUE },
	{ "freemail_import_welcomelist_auth", SAEVAL_DIR_VALUE },
	{ "freemail_import_whitelist_auth", SAEVAL_DIR_VALUE },
	{ "freemail_import_def_welcomelist_auth", SAEVAL_DIR_VALUE },
	{ "freemail_import_def_whitelist_auth", SAEVAL_DIR_VALUE },
};

static const char *const plugins[] = {
	"Mail::SpamAssassin::Plugin::FreeMail",
	NULL
};

const struct saeval_family saeval_freemail_family = {
	"freemail", fns, SAEVAL_NELEM(fns), dirs, SAEVAL_NELEM(dirs), plugins
};
