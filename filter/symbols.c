/*
 * symbols.c - the built-in symbols: default scores and descriptions
 *
 * DESCRIPTION
 *	One row per symbol a built-in check can emit (see symbols.h).  A
 *	step emits through scan_emit(), which takes the default score from
 *	this table; symbol_scores and rule-file `score` lines override it
 *	(engine_score()).  Blocklist and rule symbols are defined by the
 *	configuration and scored there.
 *
 *	symbols_lint() is SpamAssassin's lint warning for a score whose
 *	rule does not exist, extended to the built-in symbols: a score for
 *	a misspelt name would otherwise do nothing, silently.
 *
 * SEE ALSO
 *	doc/symbols.md (generated listing: mailwarden symbols), scan.h
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "conf.h"
#include "dnsbl.h"
#include "engine.h"
#include "forwarders.h"
#include "psl.h"
#include "rules.h"
#include "scope.h"
#include "str.h"
#include "symbols.h"

static double
tag_score(const struct conf *c)
{
	return c->tag_score;
}

/* from_score - DMARC From problems: tag_score when the action quarantines */
static double
from_score(const char *action, const struct conf *c)
{
	return str_ieq(action, "quarantine") ? c->tag_score : 1.0;
}

static double
from_missing(const struct conf *c)
{
	return from_score(c->dmarc_from_missing_action, c);
}

static double
from_multiple(const struct conf *c)
{
	return from_score(c->dmarc_from_multiple_action, c);
}

static double
from_invalid(const struct conf *c)
{
	return from_score(c->dmarc_from_invalid_action, c);
}

static double
from_multi_author(const struct conf *c)
{
	return from_score(c->dmarc_from_multi_author_action, c);
}

#define FIXED(n, sc, step, doc)	{ n, sc, NULL, NULL, step, doc }
#define TAG(n, step, doc)	{ n, 0, tag_score, "tag_score", step, doc }
#define FROM(n, fn, key, doc)	{ n, 1.0, fn, "tag_score if " key \
	" = quarantine, else 1", "dmarc", doc }

static const struct symbol_info table[] = {
	/* SPF, step_spf.c */
	FIXED("SPF_PASS", -0.5, "spf", "MAIL FROM domain authorizes the "
	    "client (SPF pass)"),
	FIXED("SPF_FAIL", 3.0, "spf", "MAIL FROM domain says the client is "
	    "not allowed (SPF fail)"),
	FIXED("SPF_SOFTFAIL", 1.0, "spf", "MAIL FROM domain says the client is "
	    "probably not allowed (~all)"),
	FIXED("SPF_NEUTRAL", 0.0, "spf", "MAIL FROM domain makes no "
	    "assertion (?all)"),
	FIXED("SPF_NONE", 0.0, "spf", "MAIL FROM domain publishes no SPF "
	    "record"),
	FIXED("SPF_TEMPERROR", 0.0, "spf", "SPF of MAIL FROM not decided: a "
	    "DNS lookup failed temporarily"),
	FIXED("SPF_PERMERROR", 1.0, "spf", "SPF record of MAIL FROM is "
	    "broken or over the lookup limits"),
	FIXED("SPF_HELO_PASS", -0.1, "spf", "HELO name authorizes the "
	    "client"),
	FIXED("SPF_HELO_FAIL", 1.0, "spf", "HELO name says the client is not "
	    "allowed"),
	FIXED("SPF_HELO_SOFTFAIL", 0.5, "spf", "HELO name says the client is "
	    "probably not allowed"),
	FIXED("SPF_HELO_NEUTRAL", 0.0, "spf", "HELO name makes no "
	    "assertion"),
	FIXED("SPF_HELO_NONE", 0.0, "spf", "HELO name publishes no SPF "
	    "record"),
	FIXED("SPF_HELO_TEMPERROR", 0.0, "spf", "SPF of the HELO name not "
	    "decided: a DNS lookup failed temporarily"),
	FIXED("SPF_HELO_PERMERROR", 0.5, "spf", "SPF record of the HELO name "
	    "is broken or over the lookup limits"),
	/* DKIM, step_dkim.c */
	FIXED("DKIM_VALID", -0.2, "dkim", "at least one DKIM signature "
	    "verifies"),
	FIXED("DKIM_VALID_AUTHOR", -0.5, "dkim", "a valid signature of the "
	    "From domain"),
	FIXED("DKIM_INVALID", 1.0, "dkim", "signatures present, none "
	    "verifies"),
	FIXED("DKIM_PERMFAIL", 0.1, "dkim", "signatures that cannot be used "
	    "(syntax, key, algorithm)"),
	FIXED("DKIM_TEMPFAIL", 0.0, "dkim", "a key lookup failed "
	    "temporarily"),
	FIXED("DKIM_SHA1", 0.1, "dkim", "rsa-sha1 signatures, not accepted "
	    "(RFC 8301)"),
	FIXED("DKIM_POLICY", 0.5, "dkim", "l= signatures refused by "
	    "dkim_partial_body = policy"),
	FIXED("DKIM_L_PARTIAL", 1.0, "dkim", "a passing signature leaves body "
	    "bytes unsigned (l=)"),
	FIXED("DKIM_HEADER_INJECTION", 3.0, "dkim", "more instances of a "
	    "signed field than the signature covers"),
	FIXED("DKIM_TESTING", 0.0, "dkim", "signatures with a test-mode key "
	    "(t=y)"),
	FIXED("DKIM_TOO_MANY", 0.5, "dkim", "more signatures than "
	    "dkim_max_signatures; the rest not verified"),
	FIXED("DKIM_NONE", 0.0, "dkim", "no DKIM-Signature field"),
	FIXED("DKIM_SIGNED", 0.0, "dkim", "the message was signed on its way "
	    "out (dkim_sign_domains)"),
	FIXED("DKIM_UNSIGNED", 0.0, "dkim", "outgoing mail of a signing domain "
	    "could not be signed"),
	/* DMARC, step_dmarc.c */
	FIXED("DMARC_PASS", -0.5, "dmarc", "the From domain's DMARC policy "
	    "passes (aligned SPF or DKIM)"),
	FIXED("DMARC_FAIL", 0.0, "dmarc", "DMARC fails, but the policy asks "
	    "for no action (p=none or pct)"),
	TAG("DMARC_QUARANTINE", "dmarc", "DMARC fails and the policy asks for "
	    "quarantine"),
	TAG("DMARC_REJECT", "dmarc", "DMARC fails and the policy asks for "
	    "reject"),
	FIXED("DMARC_NONE", 0.0, "dmarc", "the From domain publishes no DMARC "
	    "policy"),
	FIXED("DMARC_PERMERROR", 0.0, "dmarc", "the DMARC record is broken"),
	FIXED("DMARC_TEMPERROR", 0.0, "dmarc", "the DMARC lookup failed "
	    "temporarily"),
	FIXED("DMARC_ALLOWLISTED", 0.0, "dmarc", "DMARC failed, the domain is "
	    "in dmarc_allow_domains"),
	FIXED("DMARC_QUERY_LIMIT", 0.0, "dmarc", "dmarc_max_queries reached"),
	FIXED("ARC_PASS", 0.0, "arc", "the ARC chain verified (cv=pass)"),
	FIXED("ARC_FAIL", 0.1, "arc", "an ARC signature or seal did not "
	    "verify, or a sealer recorded cv=fail"),
	FIXED("ARC_NONE", 0.0, "arc", "no ARC sets"),
	FIXED("ARC_INVALID", 0.5, "arc", "the ARC sets are malformed: missing, "
	    "duplicate or out-of-range instances, wrong cv= sequence, too many "
	    "sets"),
	FIXED("DMARC_TRUSTED_FORWARDER", 0.0, "dmarc", "DMARC failed, but a "
	    "trusted ARC sealer vouches for the message (disposition none) or "
	    "a dmarc_trusted_forwarders client sent it (tagged, not "
	    "rejected)"),
	FIXED("DMARC_FROM_NONSTANDARD", 0.5, "dmarc", "From parsed with a "
	    "tolerated syntax deviation"),
	FROM("DMARC_FROM_MISSING", from_missing, "dmarc_from_missing_action",
	    "no From field, or no address in it"),
	FROM("DMARC_FROM_MULTIPLE", from_multiple,
	    "dmarc_from_multiple_action", "several From fields"),
	FROM("DMARC_FROM_INVALID", from_invalid, "dmarc_from_invalid_action",
	    "a From field that cannot be parsed"),
	FROM("DMARC_FROM_MULTI_AUTHOR", from_multi_author,
	    "dmarc_from_multi_author_action", "From addresses in several "
	    "domains"),
	/* Bayes, step_bayes.c: the band of the spam probability */
	FIXED("BAYES_00", -1.5, "bayes", "Bayes spam probability below 5%"),
	FIXED("BAYES_05", -0.5, "bayes", "Bayes spam probability 5 to 20%"),
	FIXED("BAYES_20", 0.0, "bayes", "Bayes spam probability 20 to 40%"),
	FIXED("BAYES_40", 0.0, "bayes", "Bayes spam probability 40 to 60% "
	    "(unsure)"),
	FIXED("BAYES_60", 1.0, "bayes", "Bayes spam probability 60 to 80%"),
	FIXED("BAYES_80", 2.0, "bayes", "Bayes spam probability 80 to 95%"),
	FIXED("BAYES_95", 3.5, "bayes", "Bayes spam probability 95 to 99%"),
	FIXED("BAYES_99", 5.0, "bayes", "Bayes spam probability 99% or more"),
	FIXED("BAYES_UNTRAINED", 0.0, "bayes", "fewer messages learned than "
	    "bayes_min_spam / bayes_min_ham"),
	/* local access lists, step_lists.c (SCORE entries carry their own) */
	FIXED("LIST_CLIENT_BLOCK", 0.0, "lists", "client address in "
	    "client_list (REJECT, or a positive SCORE)"),
	FIXED("LIST_CLIENT_ALLOW", 0.0, "lists", "client address in "
	    "client_list (OK, or a negative SCORE)"),
	FIXED("LIST_SENDER_BLOCK", 0.0, "lists", "envelope sender in "
	    "sender_list (REJECT, or a positive SCORE)"),
	FIXED("LIST_SENDER_ALLOW", 0.0, "lists", "envelope sender in "
	    "sender_list (OK, or a negative SCORE)"),
	FIXED("LIST_HELO_BLOCK", 0.0, "lists", "HELO name in helo_list "
	    "(REJECT, or a positive SCORE)"),
	FIXED("LIST_HELO_ALLOW", 0.0, "lists", "HELO name in helo_list (OK, "
	    "or a negative SCORE)"),
	/* authentication-gated allowlists, step_welcome.c */
	FIXED("WELCOMELIST_AUTH", -10.0, "welcome", "sender in "
	    "welcomelist_auth, and SPF, aligned DKIM or DMARC passed for its "
	    "domain"),
	FIXED("WELCOMELIST_AUTH_UNVERIFIED", 0.0, "welcome", "sender in "
	    "welcomelist_auth, but nothing authenticated its domain"),
	FIXED("DKIM_ALLOWLIST", -5.0, "welcome", "a valid DKIM signature by "
	    "a domain of dkim_allowlist"),
	/* caps and broken headers, step_message.c */
	FIXED("SCAN_TRUNCATED", 0.0, "message", "body larger than "
	    "max_scan_bytes, scanned in part"),
	FIXED("HEADERS_TRUNCATED", 1.0, "message", "header section over "
	    "max_header_bytes or max_headers"),
	FIXED("HEADER_TOO_LONG", 1.0, "message", "a header field over 64 "
	    "KiB"),
	FIXED("RCPTS_TRUNCATED", 0.0, "message", "more recipients than "
	    "max_rcpts"),
	FIXED("HEADER_NUL", 2.0, "message", "NUL byte in a header field"),
	FIXED("HEADER_8BIT", 0.5, "message", "raw 8-bit bytes that are not "
	    "UTF-8 in a header field"),
	FIXED("HEADER_BAD_NAME", 1.0, "message", "header field name with "
	    "characters RFC 5322 forbids"),
	/* MIME structure, step_rules.c (step_mime_end) from mime.c flags */
	FIXED("MIME_DEPTH_CAP", 1.0, "mime", "MIME nesting deeper than "
	    "mime_max_depth; inner parts not scanned"),
	FIXED("MIME_PARTS_CAP", 1.0, "mime", "more MIME parts than "
	    "mime_max_parts; later parts not scanned"),
	FIXED("MIME_TEXT_CAP", 0.0, "mime", "decoded text over mime_max_text; "
	    "the rest not scanned"),
	FIXED("MIME_URIS_CAP", 0.5, "mime", "more distinct URIs than "
	    "mime_max_uris"),
	FIXED("MIME_UNCLOSED_BOUNDARY", 0.5, "mime", "a multipart is never "
	    "closed by its boundary"),
	FIXED("MIME_NO_BOUNDARY", 1.0, "mime", "multipart without a usable "
	    "boundary parameter"),
	FIXED("MIME_BAD_BASE64", 0.5, "mime", "invalid characters or "
	    "truncation in base64"),
	FIXED("MIME_BAD_QP", 0.2, "mime", "invalid escapes in "
	    "quoted-printable"),
	FIXED("MIME_UNKNOWN_CHARSET", 0.5, "mime", "a charset the converter "
	    "does not know"),
	FIXED("MIME_BAD_BYTES", 0.2, "mime", "bytes that are invalid in their "
	    "declared charset"),
	FIXED("MIME_BAD_ENCODED_WORD", 0.5, "mime", "malformed RFC 2047 "
	    "encoded word in a header"),
	FIXED("HTML_INVISIBLE_TEXT", 0.5, "mime", "HTML text the reader cannot "
	    "see"),
	FIXED("MIME_BODY_TRUNCATED", 0.0, "mime", "body over max_scan_bytes: "
	    "MIME structure read in part"),
	FIXED("MIME_LONG_LINE", 0.2, "mime", "a body line longer than 998 "
	    "bytes (RFC 5322 2.1.1)"),
	FIXED("MIME_UNKNOWN_CTE", 0.5, "mime", "unknown "
	    "Content-Transfer-Encoding"),
	FIXED("MIME_PART_HEADERS_CAP", 0.5, "mime", "a MIME part header "
	    "section over its cap"),
	/* rate limits and greylisting, policy.c (milter only) */
	FIXED("MW_RATELIMIT_USER", 0.0, "policy", "over a ratelimit_user "
	    "limit: deferred (451 4.7.1)"),
	FIXED("MW_RATELIMIT_CLIENT", 0.0, "policy", "over a ratelimit_client "
	    "limit: deferred (451 4.7.1)"),
	FIXED("MW_RATELIMIT_SENDER_DOMAIN", 0.0, "policy", "over a "
	    "ratelimit_sender_domain limit: deferred (451 4.7.1)"),
	FIXED("MW_RATELIMIT_BLOCKED", 0.0, "policy", "user blocked by "
	    "ratelimit_user_block until cleared: deferred (451 4.7.1)"),
	FIXED("MW_GREYLIST", 0.0, "policy", "first try of a (client network, "
	    "sender, recipient) triplet, or a retry before greylist_delay: "
	    "deferred (451 4.7.1)"),
	FIXED("MW_TRAP_CLIENT", 3.0, "policy", "the client wrote to a spam "
	    "trap (rcpt_reject scope) within trap_expire; trap_client_action "
	    "may also defer or reject"),
	/* rules, step_rules.c */
	FIXED("RULES_REGEX_LIMIT", 0.0, "rules", "a rule's regex stopped by "
	    "rules_match_limit; the rule was skipped"),
	/* blocklists, step_dnsbl.c (listing symbols come from dnsbl/uribl) */
	FIXED("DNSBL_ERROR", 0.0, "dnsbl", "a blocklist answered with an "
	    "error code (dnsbl_refused)"),
	FIXED("DNSBL_DEGRADED", 0.0, "dnsbl", "blocklist lookups failed or "
	    "were skipped (DNS trouble)"),
	FIXED("URIBL_LOOKUPS_CAPPED", 0.0, "dnsbl", "more URI hosts than "
	    "uribl_max_lookups; the rest not looked up"),
};

#define NSYMS	(sizeof(table) / sizeof(table[0]))

const struct symbol_info *
symbols_builtin(const char *name)
{
	size_t i;

	for (i = 0; i < NSYMS; i++)
		if (strcmp(table[i].name, name) == 0)
			return &table[i];
	return NULL;
}

size_t
symbols_builtin_count(void)
{
	return NSYMS;
}

const struct symbol_info *
symbols_builtin_get(size_t i)
{
	return i < NSYMS ? &table[i] : NULL;
}

double
symbols_default(const struct symbol_info *si, const struct conf *c)
{
	return si->dyn && c ? si->dyn(c) : si->score;
}

/* bl_find - a blocklist entry emitting name, or NULL */
static const struct dnsbl_entry *
bl_find(const struct dnsbl *bl, const char *name)
{
	size_t z, i;

	for (z = 0; bl && z < bl->nzones; z++)
		for (i = 0; i < bl->zones[z].n; i++)
			if (strcmp(bl->zones[z].v[i].symbol, name) == 0)
				return &bl->zones[z].v[i];
	return NULL;
}

bool
symbols_emitted(const struct ruleset *rs, const struct dnsbl *bl,
    const char *name)
{
	return symbols_builtin(name) != NULL ||
	    (rs && rules_find(rs, name) != NULL) || bl_find(bl, name) != NULL;
}

struct names {
	const struct ruleset *rs;
	const struct dnsbl *bl;
	size_t	 nrules;
};

/* name_get - built-ins, then rules, then blocklist entries, by index */
static const char *
name_get(size_t i, void *arg)
{
	const struct names *n = arg;
	size_t z;

	if (i < NSYMS)
		return table[i].name;
	i -= NSYMS;
	if (i < n->nrules)
		return rule_name(rules_get(n->rs, i));
	i -= n->nrules;
	for (z = 0; n->bl && z < n->bl->nzones; z++) {
		if (i < n->bl->zones[z].n)
			return n->bl->zones[z].v[i].symbol;
		i -= n->bl->zones[z].n;
	}
	return NULL;
}

const char *
symbols_suggest(const struct ruleset *rs, const struct dnsbl *bl,
    const char *name)
{
	struct names n = { rs, bl, rs ? rules_count(rs) : 0 };
	size_t z, total = NSYMS + n.nrules;

	for (z = 0; bl && z < bl->nzones; z++)
		total += bl->zones[z].n;
	return str_suggest(name, name_get, total, &n);
}

/* orphan - the reason a scored name does nothing, with a suggestion */
static void
orphan(const struct ruleset *rs, const struct dnsbl *bl, const char *name,
    struct buf *out)
{
	const char *near = symbols_suggest(rs, bl, name);

	buf_adds(out, "no rule or check emits this symbol, the score does "
	    "nothing");
	if (near)
		buf_printf(out, "; did you mean %s?", near);
}

/* an orphan score line of a rule file */
struct orphan_line {
	const char *name, *file;
	unsigned line;
};

struct lint_ctx {
	const struct ruleset *rs;
	const struct dnsbl *bl;
	struct orphan_line *v;
	size_t	 n;
};

static void
lint_rule_score(const char *name, const struct rules_score *sc, void *arg)
{
	struct lint_ctx *l = arg;

	if (symbols_emitted(l->rs, l->bl, name))
		return;
	l->v = xreallocarray(l->v, l->n + 1, sizeof(*l->v));
	l->v[l->n].name = name;
	l->v[l->n].file = sc->file;
	l->v[l->n++].line = sc->line;
}

/* by_place - file, then line order */
static int
by_place(const void *a, const void *b)
{
	const struct orphan_line *x = a, *y = b;
	int c = strcmp(x->file, y->file);

	if (c)
		return c;
	return (x->line > y->line) - (x->line < y->line);
}

/*
 * lint_items - a warning for each symbol_scores item of c from index
 * first on whose name nothing emits, at c's file and line of the key
 */
static size_t
lint_items(const struct conf *c, size_t first, const struct ruleset *rs,
    const struct dnsbl *bl, struct buf *out)
{
	char name[128];
	double d;
	size_t i, n = 0;

	for (i = first; i < c->symbol_scores.n; i++) {
		if (conf_symbol_score(c->symbol_scores.v[i], name,
		    sizeof(name), &d) < 0 || symbols_emitted(rs, bl, name))
			continue;
		buf_newline(out);
		buf_printf(out, "%s:%u: warning: symbol_scores: %s: ", c->path,
		    conf_key_line(c, "symbol_scores"), name);
		orphan(rs, bl, name, out);
		n++;
	}
	return n;
}

size_t
symbols_lint_scope(const struct conf *sc, const struct conf *base,
    const struct ruleset *rs, const struct dnsbl *bl, struct buf *out)
{
	/* a scope that sets the key holds the main file's items, then its
	 * own (scope.c, merge_scores); one that does not, the main's only */
	if (conf_key_line(sc, "symbol_scores") == 0)
		return 0;
	return lint_items(sc, base->symbol_scores.n, rs, bl, out);
}

size_t
symbols_lint(const struct conf *c, const struct ruleset *rs,
    const struct dnsbl *bl, struct buf *out)
{
	struct lint_ctx l = { rs, bl, NULL, 0 };
	size_t i, n = c ? lint_items(c, 0, rs, bl, out) : 0;

	if (rs)
		rules_score_overrides(rs, lint_rule_score, &l);
	if (l.n)
		qsort(l.v, l.n, sizeof(*l.v), by_place);
	for (i = 0; i < l.n; i++) {
		buf_newline(out);
		buf_printf(out, "%s:%u: warning: score %s: ", l.v[i].file,
		    l.v[i].line, l.v[i].name);
		orphan(rs, bl, l.v[i].name, out);
	}
	free(l.v);
	return n + l.n;
}

size_t
symbols_lint_engine(const struct engine *e, struct buf *out)
{
	size_t i, n = symbols_lint(e->conf, e->rules, e->dnsbl, out);

	for (i = 0; e->scopes && i < e->scopes->n; i++)
		n += symbols_lint_scope(e->scopes->v[i].conf, e->conf, e->rules,
		    e->dnsbl, out);
	return n;
}

/*
 * lint_forwarders - trusted sealers and forwarders that trust far too
 * much.  Public suffixes come from the engine's PSL, or from
 * dmarc_psl_file when the engine did not need it and the lists name
 * domains; without one, top-level domains are still caught.
 */
static size_t
lint_forwarders(const struct engine *e, struct buf *out)
{
	const struct forwarders *f = e->forwarders;
	struct psl *own = NULL;
	struct buf ignored = BUF_INIT;
	size_t n;

	if (f && e->psl == NULL && (f->nsealers || f->nnames) &&
	    psl_load(e->conf->dmarc_psl_file, &own, &ignored) < 0)
		own = NULL;
	n = forwarders_lint(e->conf, f, e->psl ? e->psl : own, out);
	psl_free(own);
	buf_release(&ignored);
	return n;
}

size_t
engine_lint(const struct engine *e, struct buf *out)
{
	return symbols_lint_engine(e, out) + lint_forwarders(e, out);
}
