/*
 * logexplain.c - one verdict log record told in plain words
 *
 * DESCRIPTION
 *	lr_explain() writes the envelope, each authentication check, the
 *	Bayes verdict, each rule hit, the thresholds, the decision and the
 *	SMTP reply of one record.  Members it knows get a label and, for
 *	results, a sentence saying what the result means; members it does
 *	not know (the auth objects grow in parallel with this reader) are
 *	printed generically with a label made from the key, nested values
 *	indented, so that nothing logged is hidden.  Absent members are
 *	skipped or said to be absent; nothing is required.
 * SECURITY
 *	Every string from the record goes through lr_safe(): the output
 *	holds no control characters or bidi overrides, so it can be shown
 *	in a terminal and (after lr_html) embedded in a page.  Nesting is
 *	printed to EXPLAIN_MAX_DEPTH levels; strings are cut at
 *	EXPLAIN_MAX_STR bytes.
 */
#include "config.h"

#include <json-c/json.h>
#include <math.h>
#include <string.h>

#include "buf.h"
#include "logreview.h"
#include "str.h"

#define EXPLAIN_MAX_DEPTH	6
#define EXPLAIN_MAX_STR		2000
#define EXPLAIN_MAX_ITEMS	200	/* array elements / members shown */

struct label {
	const char *key;
	const char *label;
};

static const struct label labels[] = {
	{ "result", "Result" },
	{ "domain", "Domain" },
	{ "mechanism", "Matched mechanism" },
	{ "selector", "Selector" },
	{ "algorithm", "Algorithm" },
	{ "bits", "Key size (bits)" },
	{ "reason", "Reason" },
	{ "policy", "Policy" },
	{ "disposition", "Disposition" },
	{ "alignment", "Alignment" },
	{ "record", "Record" },
	{ "source", "Record source" },
	{ "record_source", "Record source" },
	{ "probability", "Spam probability" },
	{ "tokens", "Top tokens" },
	{ "identity", "Identity" },
	{ "scope", "Scope" },
	{ "explanation", "Explanation" },
	{ "detail", "Detail" },
	{ "description", "Description" },
	{ "spf", "SPF" },
	{ "dkim", "DKIM" },
	{ "dmarc", "DMARC" },
	{ "arc", "ARC" },
	{ "ip", "IP" },
	{ "i", "Instance (i=)" },
};

/* meanings of results, per check */
struct meaning {
	enum lr_check check;
	enum lr_auth result;
	const char *text;
};

static const struct meaning meanings[] = {
	{ LR_SPF, LR_AUTH_PASS, "the client is allowed to send for this "
	    "domain" },
	{ LR_SPF, LR_AUTH_FAIL, "the domain says this client may not send "
	    "for it" },
	{ LR_SPF, LR_AUTH_SOFTFAIL, "the domain says this client is "
	    "probably not allowed to send for it" },
	{ LR_SPF, LR_AUTH_NEUTRAL, "the domain makes no statement about "
	    "this client" },
	{ LR_SPF, LR_AUTH_NONE, "there was no SPF record or no domain to "
	    "check" },
	{ LR_SPF, LR_AUTH_TEMPERROR, "a temporary DNS error stopped the "
	    "check" },
	{ LR_SPF, LR_AUTH_PERMERROR, "the domain's SPF record is broken" },
	{ LR_DKIM, LR_AUTH_PASS, "the signature verified" },
	{ LR_DKIM, LR_AUTH_FAIL, "the signature did not verify" },
	{ LR_DKIM, LR_AUTH_NEUTRAL, "the signature could not be evaluated" },
	{ LR_DKIM, LR_AUTH_NONE, "no signature" },
	{ LR_DKIM, LR_AUTH_TEMPERROR, "a temporary DNS error kept the key "
	    "from being fetched" },
	{ LR_DKIM, LR_AUTH_PERMERROR, "the signature or its key is "
	    "unusable" },
	{ LR_DKIM, LR_AUTH_POLICY, "the signature verified but local "
	    "policy does not accept it" },
	{ LR_DMARC, LR_AUTH_PASS, "SPF or DKIM passed for a domain aligned "
	    "with From:" },
	{ LR_DMARC, LR_AUTH_FAIL, "neither SPF nor DKIM passed for a domain "
	    "aligned with From:" },
	{ LR_DMARC, LR_AUTH_NONE, "the From: domain publishes no DMARC "
	    "policy" },
	{ LR_DMARC, LR_AUTH_TEMPERROR, "a temporary DNS error stopped the "
	    "check" },
	{ LR_DMARC, LR_AUTH_PERMERROR, "the DMARC record is broken or "
	    "From: is unusable" },
	{ LR_ARC, LR_AUTH_PASS, "every seal and the newest message "
	    "signature verified" },
	{ LR_ARC, LR_AUTH_FAIL, "a seal or the newest message signature did "
	    "not verify, the sets are malformed, or a seal says the chain "
	    "had already failed" },
	{ LR_ARC, LR_AUTH_NONE, "no ARC fields, or ARC was not verified" },
};

static const char *
meaning(enum lr_check c, enum lr_auth a)
{
	size_t i;

	for (i = 0; i < sizeof(meanings) / sizeof(meanings[0]); i++)
		if (meanings[i].check == c && meanings[i].result == a)
			return meanings[i].text;
	return NULL;
}

/* put_label - a known label, else the key with '_' as space */
static void
put_label(struct buf *o, const char *key)
{
	size_t i;

	for (i = 0; i < sizeof(labels) / sizeof(labels[0]); i++)
		if (strcmp(labels[i].key, key) == 0) {
			buf_adds(o, labels[i].label);
			return;
		}
	for (i = 0; key[i] && i < 64; i++) {
		unsigned char c = (unsigned char)key[i];

		if (c == '_' || c == '-')
			buf_addc(o, ' ');
		else if (i == 0 && ch_is_alpha(c))
			buf_addc(o, (char)ch_upper(c));
		else if (c >= 0x20 && c < 0x7f && c != '\\')
			buf_addc(o, (char)c);
		else
			lr_safe(o, key + i, 1, 1);
	}
	if (key[i])
		buf_adds(o, "...");
}

static void
indent(struct buf *o, int n)
{
	while (n-- > 0)
		buf_addc(o, ' ');
}

static bool
is_scalar(struct json_object *v)
{
	return v == NULL || !(json_object_is_type(v, json_type_object) ||
	    json_object_is_type(v, json_type_array));
}

/* put_scalar - a scalar value in words */
static void
put_scalar(struct buf *o, struct json_object *v)
{
	double d;

	if (v == NULL || json_object_is_type(v, json_type_null))
		buf_adds(o, "none");
	else if (json_object_is_type(v, json_type_boolean))
		buf_adds(o, json_object_get_boolean(v) ? "yes" : "no");
	else if (json_object_is_type(v, json_type_int))
		buf_printf(o, "%lld", (long long)json_object_get_int64(v));
	else if (json_object_is_type(v, json_type_double)) {
		d = json_object_get_double(v);
		buf_printf(o, isfinite(d) ? "%g" : "(not a number)", d);
	} else
		lr_safe(o, json_object_get_string(v),
		    (size_t)json_object_get_string_len(v), EXPLAIN_MAX_STR);
}

/* inline_ok - scalars and lists of scalars fit on one line */
static bool
inline_ok(struct json_object *v)
{
	size_t i, n;

	if (is_scalar(v))
		return true;
	if (!json_object_is_type(v, json_type_array))
		return false;
	n = json_object_array_length(v);
	for (i = 0; i < n; i++)
		if (!is_scalar(json_object_array_get_idx(v, i)))
			return false;
	return true;
}

/* put_inline - a value that inline_ok() accepts, on one line */
static void
put_inline(struct buf *o, struct json_object *v)
{
	size_t i, n;

	if (is_scalar(v)) {
		put_scalar(o, v);
		return;
	}
	n = json_object_array_length(v);
	if (n == 0)
		buf_adds(o, "none");
	for (i = 0; i < n && i < EXPLAIN_MAX_ITEMS; i++) {
		if (i)
			buf_adds(o, ", ");
		put_scalar(o, json_object_array_get_idx(v, i));
	}
	if (n > EXPLAIN_MAX_ITEMS)
		buf_printf(o, ", ... (%zu in all)", n);
}

static void put_fields(struct buf *, struct json_object *,
    const char *const *skip, int ind, int depth);

/* put_field - "Label: value", nested values on indented lines */
static void
put_field(struct buf *o, const char *key, struct json_object *v, int ind,
    int depth)
{
	size_t i, n;

	indent(o, ind);
	put_label(o, key);
	if (inline_ok(v)) {
		buf_adds(o, ": ");
		put_inline(o, v);
		buf_addc(o, '\n');
		return;
	}
	buf_adds(o, ":\n");
	if (depth >= EXPLAIN_MAX_DEPTH) {
		indent(o, ind + 2);
		buf_adds(o, "(nested too deep to show)\n");
		return;
	}
	if (json_object_is_type(v, json_type_object)) {
		put_fields(o, v, NULL, ind + 2, depth + 1);
		return;
	}
	n = json_object_array_length(v);
	for (i = 0; i < n && i < EXPLAIN_MAX_ITEMS; i++) {
		struct json_object *e = json_object_array_get_idx(v, i);

		indent(o, ind + 2);
		buf_printf(o, "%zu.", i + 1);
		if (inline_ok(e)) {
			buf_addc(o, ' ');
			put_inline(o, e);
			buf_addc(o, '\n');
		} else if (json_object_is_type(e, json_type_object)) {
			buf_addc(o, '\n');
			put_fields(o, e, NULL, ind + 5, depth + 1);
		} else
			buf_adds(o, " (list)\n");
	}
	if (n > EXPLAIN_MAX_ITEMS) {
		indent(o, ind + 2);
		buf_printf(o, "... %zu in all\n", n);
	}
}

static bool
in_list(const char *key, const char *const *list)
{
	for (; list && *list; list++)
		if (strcmp(key, *list) == 0)
			return true;
	return false;
}

/* put_fields - every member of an object except those in skip */
static void
put_fields(struct buf *o, struct json_object *obj, const char *const *skip,
    int ind, int depth)
{
	struct json_object_iterator it, end;
	size_t shown = 0;

	if (obj == NULL || !json_object_is_type(obj, json_type_object))
		return;
	it = json_object_iter_begin(obj);
	end = json_object_iter_end(obj);
	for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
		const char *k = json_object_iter_peek_name(&it);

		if (in_list(k, skip))
			continue;
		if (shown++ == EXPLAIN_MAX_ITEMS) {
			indent(o, ind);
			buf_adds(o, "(more members not shown)\n");
			break;
		}
		put_field(o, k, json_object_iter_peek_value(&it), ind, depth);
	}
}

/* put_str - a string member, or a placeholder */
static void
put_str(struct buf *o, const char *s, const char *absent)
{
	if (s == NULL)
		buf_adds(o, absent);
	else
		lr_safes(o, s, EXPLAIN_MAX_STR);
}

/* put_member - the string obj[key], NUL bytes included, or absent */
static void
put_member(struct buf *o, struct json_object *obj, const char *key,
    const char *absent)
{
	struct json_object *v = lr_jget(obj, key);

	if (v && json_object_is_type(v, json_type_string))
		lr_safe(o, json_object_get_string(v),
		    (size_t)json_object_get_string_len(v), EXPLAIN_MAX_STR);
	else
		buf_adds(o, absent);
}

/* put_result - "pass (the signature verified)" */
static void
put_result(struct buf *o, enum lr_check c, const char *word)
{
	const char *m = meaning(c, lr_auth_parse(word));

	put_str(o, word, "no result logged");
	if (m)
		buf_printf(o, " (%s)", m);
}

static void
explain_envelope(struct buf *o, const struct logrec *r)
{
	struct json_object *v;
	size_t i, n;
	double d;

	buf_adds(o, "\nEnvelope\n  Client: ");
	put_str(o, r->client_ip, "unknown address");
	buf_adds(o, r->client_name ? " (" : "");
	if (r->client_name) {
		lr_safes(o, r->client_name, 300);
		buf_addc(o, ')');
	}
	buf_adds(o, "\n  HELO: ");
	put_str(o, r->helo, "none");
	buf_adds(o, "\n  SMTP AUTH: ");
	put_str(o, lr_jstr(r->o, "auth"), "not authenticated");
	buf_adds(o, "\n  MAIL FROM: ");
	if (r->mail_from && *r->mail_from == '\0')
		buf_adds(o, "<> (null sender: a bounce or notification)");
	else if (r->mail_from == NULL)
		buf_adds(o, "not logged");
	else {
		buf_addc(o, '<');
		lr_safes(o, r->mail_from, EXPLAIN_MAX_STR);
		buf_addc(o, '>');
	}
	buf_adds(o, "\n  RCPT TO: ");
	n = r->rcpts ? json_object_array_length(r->rcpts) : 0;
	if (n == 0)
		buf_adds(o, "none logged");
	for (i = 0; i < n && i < EXPLAIN_MAX_ITEMS; i++) {
		v = json_object_array_get_idx(r->rcpts, i);
		buf_adds(o, i ? ", <" : "<");
		if (json_object_is_type(v, json_type_string))
			lr_safes(o, json_object_get_string(v), 300);
		buf_addc(o, '>');
	}
	if (lr_jnum(r->o, "rcpt_count", &d) && d > (double)n)
		buf_printf(o, " (%.0f recipients in all; the log keeps the "
		    "first %zu)", d, n);
	buf_adds(o, "\n  From: ");
	put_member(o, r->o, "from", "(no From: header)");
	buf_adds(o, "\n  Subject: ");
	put_member(o, r->o, "subject", "(no Subject: header)");
	buf_adds(o, "\n  Message-ID: ");
	put_member(o, r->o, "message_id", "(no Message-ID: header)");
	if (lr_jnum(r->o, "size", &d))
		buf_printf(o, "\n  Size: %.0f bytes", d);
	v = lr_jget(r->o, "truncated");
	if (v && json_object_is_type(v, json_type_boolean) &&
	    json_object_get_boolean(v))
		buf_adds(o, "\n  Body: cut at the size limit; content checks "
		    "saw only the first part");
	buf_addc(o, '\n');
}

static const char *const skip_result_domain[] = { "result", "domain", NULL };

/*
 * explain_check - SPF, DMARC, ARC: a sentence, then every member not
 * in skip; false if the record has no object for the check
 */
static bool
explain_check(struct buf *o, const struct logrec *r, enum lr_check c,
    const char *const *skip)
{
	struct json_object *obj = lr_jget(r->o, lr_check_key(c));
	const char *dom = lr_jstr(obj, "domain");

	buf_printf(o, "\n%s\n", lr_check_name(c));
	if (obj == NULL || !json_object_is_type(obj, json_type_object)) {
		buf_adds(o, "  Not in the log record.\n");
		return false;
	}
	buf_adds(o, "  Result: ");
	put_result(o, c, lr_jstr(obj, "result"));
	if (dom) {
		buf_adds(o, "\n  Domain: ");
		lr_safes(o, dom, 300);
	}
	buf_addc(o, '\n');
	put_fields(o, obj, skip, 2, 0);
	return true;
}

/* explain_dmarc - the DMARC check, and an override in words */
static void
explain_dmarc(struct buf *o, const struct logrec *r)
{
	static const char *const skip[] = { "result", "domain", "override",
	    NULL };

	if (!explain_check(o, r, LR_DMARC, skip) || !r->dmarc_override)
		return;
	buf_adds(o, "  Override: ");
	lr_safes(o, r->dmarc_override, 100);
	if (str_ieq(r->dmarc_override, "trusted_forwarder"))
		buf_adds(o, " (a forwarder or ARC sealer the configuration "
		    "trusts vouched for the message: a trusted sealer's "
		    "claim lifts the policy, a trusted client's mail is "
		    "tagged instead of rejected)");
	else if (str_ieq(r->dmarc_override, "local_policy"))
		buf_adds(o, " (dmarc_allow_domains or dmarc_never_reject "
		    "overrode the domain's policy)");
	buf_addc(o, '\n');
}

/* put_sealer - one ARC set: instance, sealer, cv= and its results */
static void
put_sealer(struct buf *o, struct json_object *a)
{
	double i;

	if (!json_object_is_type(a, json_type_object)) {
		buf_adds(o, "  (not a set)\n");
		return;
	}
	if (lr_jnum(a, "i", &i))
		buf_printf(o, "  Set i=%.0f: sealed by ", i);
	else
		buf_adds(o, "  Set (no instance): sealed by ");
	put_str(o, lr_jstr(a, "domain"), "(no domain)");
	buf_adds(o, " (s=");
	put_str(o, lr_jstr(a, "selector"), "-");
	buf_adds(o, "), cv=");
	put_str(o, lr_jstr(a, "cv"), "-");
	buf_adds(o, "\n    Seal: ");
	put_str(o, lr_jstr(a, "as"), "not checked");
	buf_adds(o, ", message signature: ");
	put_str(o, lr_jstr(a, "ams"), "not checked");
	buf_addc(o, '\n');
}

/* explain_arc - the chain result, oldest-pass, then each set newest first */
static void
explain_arc(struct buf *o, const struct logrec *r)
{
	static const char *const skip[] = { "result", "oldest_pass",
	    "sealers", NULL };
	size_t i, n;

	if (!explain_check(o, r, LR_ARC, skip))
		return;
	if (r->arc_oldest_pass == 0)
		buf_adds(o, "  Oldest pass: 0 (every message signature "
		    "verified: no intermediary changed the message after "
		    "sealing)\n");
	else if (r->arc_oldest_pass > 0)
		buf_printf(o, "  Oldest pass: %d (the message signatures "
		    "from instance %d on verified: the message changed after "
		    "instance %d signed it)\n", r->arc_oldest_pass,
		    r->arc_oldest_pass, r->arc_oldest_pass - 1);
	n = r->arc_sealers ? json_object_array_length(r->arc_sealers) : 0;
	for (i = n; i > 0 && n - i < EXPLAIN_MAX_ITEMS; i--)
		put_sealer(o, json_object_array_get_idx(r->arc_sealers,
		    i - 1));
}

static void
explain_dkim(struct buf *o, const struct logrec *r)
{
	static const char *const skip[] = { "result", "domain", "selector",
	    NULL };
	struct json_object *d = lr_jget(r->o, "dkim"), *sig;
	size_t i, n;

	buf_adds(o, "\nDKIM\n");
	if (d && json_object_is_type(d, json_type_object)) {
		/* a single object instead of a list: treat as one signature */
		buf_adds(o, "  Result: ");
		put_result(o, LR_DKIM, lr_jstr(d, "result"));
		buf_addc(o, '\n');
		put_fields(o, d, skip_result_domain, 2, 0);
		return;
	}
	if (d == NULL || !json_object_is_type(d, json_type_array)) {
		buf_adds(o, "  Not in the log record.\n");
		return;
	}
	n = json_object_array_length(d);
	if (n == 0)
		buf_adds(o, "  The message carried no DKIM signature that was "
		    "checked.\n");
	for (i = 0; i < n && i < EXPLAIN_MAX_ITEMS; i++) {
		sig = json_object_array_get_idx(d, i);
		buf_printf(o, "  Signature %zu of %zu: ", i + 1, n);
		put_result(o, LR_DKIM, lr_jstr(sig, "result"));
		buf_adds(o, "\n    Signing domain (d=): ");
		put_str(o, lr_jstr(sig, "domain"), "not logged");
		buf_adds(o, ", selector (s=): ");
		put_str(o, lr_jstr(sig, "selector"), "not logged");
		buf_addc(o, '\n');
		put_fields(o, sig, skip, 4, 0);
	}
	buf_printf(o, "  For the message: %s\n", lr_auth_name(r->auth[LR_DKIM]));
}

/* put_token - one Bayes token as "word" 0.99, whatever its shape */
static void
put_token(struct buf *o, struct json_object *t)
{
	static const char *const wkeys[] = { "token", "t", "word", "text",
	    NULL };
	static const char *const pkeys[] = { "p", "prob", "probability",
	    "spamminess", "score", NULL };
	const char *w = NULL;
	double p;
	bool has_p = false;
	size_t i;

	if (json_object_is_type(t, json_type_array) &&
	    json_object_array_length(t) == 2 &&
	    json_object_is_type(json_object_array_get_idx(t, 0),
	    json_type_string)) {
		w = json_object_get_string(json_object_array_get_idx(t, 0));
		p = json_object_get_double(json_object_array_get_idx(t, 1));
		has_p = isfinite(p);
	} else if (json_object_is_type(t, json_type_object)) {
		for (i = 0; wkeys[i] && w == NULL; i++)
			w = lr_jstr(t, wkeys[i]);
		for (i = 0; pkeys[i] && !has_p; i++)
			has_p = lr_jnum(t, pkeys[i], &p);
	}
	if (w == NULL) {
		if (inline_ok(t))
			put_inline(o, t);
		else
			buf_adds(o, "(not a token)");
		return;
	}
	buf_addc(o, '"');
	lr_safes(o, w, 200);
	buf_addc(o, '"');
	if (has_p)
		buf_printf(o, " %.3f", p);
}

static void
explain_bayes(struct buf *o, const struct logrec *r)
{
	static const char *const skip[] = { "probability", "tokens", NULL };
	struct json_object *b = lr_jget(r->o, "bayes"), *t;
	size_t i, n;
	double p;

	buf_adds(o, "\nBayes\n");
	if (b == NULL || !json_object_is_type(b, json_type_object)) {
		buf_adds(o, "  Not in the log record.\n");
		return;
	}
	if (lr_jnum(b, "probability", &p))
		buf_printf(o, "  Spam probability: %.1f%% (%s)\n", p * 100,
		    p >= 0.9 ? "looks like spam" : p <= 0.1 ?
		    "looks like ham" : "undecided");
	else
		buf_adds(o, "  No probability: the classifier did not run or "
		    "lacked training.\n");
	t = lr_jget(b, "tokens");
	if (t && json_object_is_type(t, json_type_array)) {
		n = json_object_array_length(t);
		buf_printf(o, "  Top tokens (%zu):\n", n);
		for (i = 0; i < n && i < EXPLAIN_MAX_ITEMS; i++) {
			buf_adds(o, "    ");
			put_token(o, json_object_array_get_idx(t, i));
			buf_addc(o, '\n');
		}
	} else if (t)
		put_field(o, "tokens", t, 2, 0);
	put_fields(o, b, skip, 2, 0);
}

static void
explain_rules(struct buf *o, const struct logrec *r)
{
	static const char *const skip[] = { "name", "score", "detail", NULL };
	size_t i, n;
	double sc, sum = 0;

	n = r->symbols ? json_object_array_length(r->symbols) : 0;
	buf_printf(o, "\nRules and checks that scored (%zu)\n", n);
	if (n == 0)
		buf_adds(o, "  none\n");
	for (i = 0; i < n && i < EXPLAIN_MAX_ITEMS * 5; i++) {
		struct json_object *s = json_object_array_get_idx(r->symbols, i);
		const char *detail = lr_jstr(s, "detail");

		if (lr_jnum(s, "score", &sc)) {
			buf_printf(o, "  %+8.2f  ", sc);
			sum += sc;
		} else
			buf_adds(o, "  (no score) ");
		put_str(o, lr_jstr(s, "name"), "(unnamed)");
		if (detail) {
			buf_adds(o, ": ");
			lr_safes(o, detail, EXPLAIN_MAX_STR);
		}
		buf_addc(o, '\n');
		put_fields(o, s, skip, 12, 1);
	}
	if (n)
		buf_printf(o, "  %+8.2f  total of the rule scores\n", sum);
}

/* explain_policy - rate limits, greylisting and spam-trap clients
 * (policy.h), if logged */
static void
explain_policy(struct buf *o, const struct logrec *r)
{
	struct json_object *p = lr_jget(r->o, "policy"), *deg;
	const char *rl, *gl, *limit, *trap;

	if (p == NULL || !json_object_is_type(p, json_type_object))
		return;
	trap = lr_jstr(p, "trap_client");
	if (trap && strcmp(trap, "listed") == 0)
		buf_adds(o, "  The client wrote to a spam trap within "
		    "trap_expire (MW_TRAP_CLIENT; trap_client_action says "
		    "whether it was also deferred or rejected); mailwarden "
		    "ratelimit clear trap IP forgets it.\n");
	rl = lr_jstr(p, "ratelimit");
	gl = lr_jstr(p, "greylist");
	limit = lr_jstr(p, "limit");
	if (rl && strcmp(rl, "over") == 0) {
		buf_adds(o, "  Over a rate limit");
		if (limit) {
			buf_adds(o, " (");
			lr_safes(o, limit, 200);
			buf_addc(o, ')');
		}
		buf_adds(o, ": deferred with 451 4.7.1 and not counted.\n");
	} else if (rl && strcmp(rl, "blocked") == 0)
		buf_adds(o, "  The user is blocked by a hard rate limit until "
		    "mailwarden ratelimit clear user NAME.\n");
	if (gl && strcmp(gl, "new") == 0)
		buf_adds(o, "  Greylisted: a first try of its (client network, "
		    "sender, recipient); a retry after greylist_delay is "
		    "accepted.\n");
	else if (gl && strcmp(gl, "early") == 0)
		buf_adds(o, "  Greylisted: retried before greylist_delay had "
		    "passed.\n");
	deg = lr_jget(p, "degraded");
	if (deg && json_object_is_type(deg, json_type_boolean) &&
	    json_object_get_boolean(deg))
		buf_adds(o, "  The policy store failed: rate limits, "
		    "greylisting and the spam-trap client check were skipped "
		    "for this message.\n");
}

/* explain_why - why this action, from score, thresholds and forcing */
static void
explain_why(struct buf *o, const struct logrec *r)
{
	const char *forced = lr_jstr(r->o, "forced_by");
	const char *scope = lr_jstr(r->o, "scope");
	struct json_object *scored = lr_jget(r->o, "scored");

	if (scope) {
		buf_adds(o, "  Policy scope ");
		lr_safes(o, scope, 100);
		buf_adds(o, " applied: its thresholds and settings (mailwarden "
		    "config --scope NAME prints them).\n");
	}
	if (forced) {
		buf_adds(o, "  Forced by ");
		lr_safes(o, forced, 300);
		buf_adds(o, ": that check decided the action, whatever the "
		    "score.\n");
	} else if (scored && json_object_is_type(scored, json_type_boolean) &&
	    !json_object_get_boolean(scored)) {
		buf_adds(o, "  Not scored: ");
		put_str(o, lr_jstr(r->o, "unscored_why"), "no reason logged");
		buf_adds(o, " (trusted sources are accepted unscored).\n");
	} else if (r->has_score && r->has_thresholds) {
		if (r->score >= r->reject)
			buf_printf(o, "  %.2f is at or above the reject "
			    "threshold %.2f.\n", r->score, r->reject);
		else if (r->score >= r->tag)
			buf_printf(o, "  %.2f is at or above the tag threshold "
			    "%.2f and below the reject threshold %.2f.\n",
			    r->score, r->tag, r->reject);
		else
			buf_printf(o, "  %.2f is below the tag threshold "
			    "%.2f.\n", r->score, r->tag);
	}
	explain_policy(o, r);
	if (r->action == LR_TEMPFAIL && !forced)
		buf_adds(o, "  Tempfail: a check could not complete; the "
		    "sender is asked to retry later.\n");
}

static void
explain_decision(struct buf *o, const struct logrec *r)
{
	const char *reply = lr_jstr(r->o, "reply");

	buf_adds(o, "\nDecision\n  Score: ");
	if (r->has_score)
		buf_printf(o, "%.2f", r->score);
	else
		buf_adds(o, "not logged");
	if (r->has_thresholds)
		buf_printf(o, " (tag at %.2f, reject at %.2f)", r->tag,
		    r->reject);
	buf_adds(o, "\n  Action: ");
	put_str(o, r->action_text, "not logged");
	buf_addc(o, '\n');
	explain_why(o, r);
	buf_adds(o, "  SMTP reply: ");
	if (reply) {
		lr_safes(o, reply, EXPLAIN_MAX_STR);
		buf_addc(o, '\n');
	} else
		buf_adds(o, r->action == LR_ACCEPT || r->action == LR_TAG ?
		    "none of ours (the MTA accepted the message)\n" :
		    "not logged\n");
}

static void
explain_timing(struct buf *o, const struct logrec *r)
{
	buf_adds(o, "\nTiming\n");
	if (r->has_elapsed)
		buf_printf(o, "  %.3f ms in the filter", r->elapsed_ms);
	else
		buf_adds(o, "  time in the filter not logged");
	if (r->has_dns_ms)
		buf_printf(o, ", %.3f ms of it waiting for DNS", r->dns_ms);
	buf_adds(o, r->dns_degraded ? ".\n  DNS was degraded: some lookups "
	    "failed or timed out, so results may be incomplete.\n" : ".\n");
}

/* the members told above; the rest go under "Other fields" */
static const char *const known_top[] = {
	"time", "queue_id", "client", "helo", "auth", "mail_from", "rcpts",
	"rcpt_count", "from", "subject", "message_id", "size", "truncated",
	"spf", "dkim", "dmarc", "bayes", "symbols", "scored", "unscored_why",
	"score", "thresholds", "action", "forced_by", "reply", "dns_degraded",
	"elapsed_ms", "dns_ms", "v", "scope", "arc", "policy", NULL
};

void
lr_explain(const struct logrec *r, struct buf *o)
{
	struct buf other = BUF_INIT;

	buf_adds(o, "Message ");
	put_str(o, r->queue_id, "(no queue id)");
	buf_adds(o, ": ");
	put_str(o, r->action_text, "no action logged");
	if (r->has_score)
		buf_printf(o, ", score %.2f", r->score);
	buf_adds(o, "\n  Logged at ");
	put_str(o, r->time_text, "(no time)");
	buf_adds(o, " (");
	lr_safes(o, r->file, 300);
	buf_printf(o, " line %llu)\n", (unsigned long long)r->lineno);
	explain_envelope(o, r);
	explain_check(o, r, LR_SPF, skip_result_domain);
	explain_dkim(o, r);
	explain_arc(o, r);
	explain_dmarc(o, r);
	explain_bayes(o, r);
	explain_rules(o, r);
	explain_decision(o, r);
	explain_timing(o, r);
	put_fields(&other, r->o, known_top, 2, 0);
	if (other.len) {
		buf_adds(o, "\nOther fields\n");
		buf_add(o, other.data, other.len);
	}
	buf_release(&other);
}
