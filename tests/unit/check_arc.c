/*
 * check_arc.c - ARC verification: chains, limits, claims, trusted sealers
 *
 * The chain fixture tests/data/arc/two-hops.eml was sealed by dkimpy
 * (tests/integration/arc_chain.py): alice@author.example DKIM-signs,
 * lists1.example seals (its AAR says dmarc=pass), the list rewrites
 * the Subject (author DKIM and AMS i=1 break), fwd2.example seals with
 * cv=pass.  Keys come from tests/data/arc/keys.txt through fakedns, as
 * the DKIM tests get theirs.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "arc.h"
#include "arc_int.h"
#include "buf.h"
#include "dmarc.h"
#include "dmarc_report.h"
#include "fakedns.h"
#include "files.h"
#include "forwarders.h"
#include "helpers.h"
#include "msgparse.h"
#include "psl.h"
#include "scan_steps.h"
#include "str.h"

/* keys - fakedns with the fixture's keys (and extra TXT lines) */
static struct fakedns *
keys(void)
{
	struct fakedns *f = fakedns_new();
	struct buf text = BUF_INIT, why = BUF_INIT;
	char *line, *save = NULL;

	ck_assert_int_eq(files_read(test_data("arc/keys.txt"), 65536, &text,
	    &why), 0);
	for (line = strtok_r(text.data, "\n", &save); line;
	    line = strtok_r(NULL, "\n", &save)) {
		char *tab = strchr(line, '\t');

		if (line[0] == '#' || tab == NULL)
			continue;
		*tab = '\0';
		fakedns_txt(f, line, tab + 1);
	}
	fakedns_txt(f, "_dmarc.author.example", "v=DMARC1; p=reject; "
	    "rua=mailto:agg@author.example");
	buf_release(&text);
	buf_release(&why);
	return f;
}

static void
fixture(struct buf *out)
{
	struct buf why = BUF_INIT;

	ck_assert_int_eq(files_read(test_data("arc/two-hops.eml"), 1 << 20,
	    out, &why), 0);
	buf_release(&why);
}

struct vctx {
	struct msg *m;
	struct arc_verify *a;
	struct arc_opts o;
};

static void
v_eoh(void *arg)
{
	struct vctx *c = arg;

	c->a = arc_verify_new(&c->o, c->m->hdrs, c->m->nhdrs);
}

static void
v_body(void *arg, const void *p, size_t n)
{
	struct vctx *c = arg;

	arc_verify_body(c->a, p, n);
}

/* verify - the chain of text, keys from f (NULL: no resolver) */
static void
verify(const char *text, size_t len, struct fakedns *f, unsigned max_sets,
    struct vctx *c)
{
	static const struct msg_limits lim = { 1 << 20, 64 << 20, 100000, 10 };
	struct msgparse_cb cb = { v_eoh, v_body, c };
	struct msgparse *mp;
	struct dns_resolver *dns = f ? fakedns_resolver(f) : NULL;

	memset(c, 0, sizeof(*c));
	c->o.dkim.max_signatures = 5;
	c->o.dkim.min_key_bits = 1024;
	c->o.dkim.clock_skew = 300;
	c->o.dkim.now = time(NULL);
	c->o.max_sets = max_sets;
	c->m = msg_new(&lim);
	mp = msgparse_new(c->m, &cb);
	msgparse_push(mp, text, len);
	msgparse_end(mp);
	msgparse_free(mp);
	arc_verify_prefetch(c->a, dns);
	arc_verify_finish(c->a, dns, NULL);
	dns_resolver_free(dns);
}

static void
vctx_free(struct vctx *c)
{
	arc_verify_free(&c->a);
	msg_free(&c->m);
}

START_TEST(test_arc_two_hop_chain_passes_with_oldest_pass)
{
	struct fakedns *f = keys();
	struct buf text = BUF_INIT;
	const struct arc_result *r;
	struct vctx c;

	fixture(&text);
	verify(text.data, text.len, f, 50, &c);
	r = arc_verify_result(c.a);
	ck_assert_msg(r->cv == ARC_CV_PASS, "%s", r->reason);
	ck_assert_uint_eq(r->nsets, 2);
	ck_assert_uint_eq(r->oldest_pass, 2);	/* Subject rewritten */
	ck_assert_str_eq(r->sets[0].domain, "lists1.example");
	ck_assert_str_eq(r->sets[1].domain, "fwd2.example");
	ck_assert_int_eq(r->sets[0].ams, DKIM_FAIL);
	ck_assert_int_eq(r->sets[1].ams, DKIM_PASS);
	ck_assert_ptr_nonnull(strstr(r->sets[0].aar, "dmarc=pass"));
	vctx_free(&c);
	buf_release(&text);
	fakedns_free(f);
}
END_TEST

START_TEST(test_arc_key_timeout_is_temporary_fail)
{
	struct fakedns *f = fakedns_new();
	struct buf text = BUF_INIT;
	const struct arc_result *r;
	struct vctx c;

	fakedns_fail_all(f, DNS_TIMEOUT);
	fixture(&text);
	verify(text.data, text.len, f, 50, &c);
	r = arc_verify_result(c.a);
	ck_assert_int_eq(r->cv, ARC_CV_FAIL);
	ck_assert(r->temporary);
	ck_assert(!r->invalid);
	vctx_free(&c);
	buf_release(&text);
	fakedns_free(f);
}
END_TEST

/* many_sets - n complete (unsigned) sets, then From and a body */
static void
many_sets(struct buf *b, unsigned n, unsigned first)
{
	unsigned i;

	for (i = first; i < first + n; i++)
		buf_printf(b, "ARC-Seal: i=%u; cv=%s; a=rsa-sha256; "
		    "d=a.example; s=s; b=AAAA\r\n"
		    "ARC-Message-Signature: i=%u; a=rsa-sha256; d=a.example; "
		    "s=s; h=from; bh=AAAA; b=AAAA\r\n"
		    "ARC-Authentication-Results: i=%u; a.example; spf=pass\r\n",
		    i, i == 1 ? "none" : "pass", i, i);
	buf_adds(b, "From: a@example.org\r\n\r\nbody\r\n");
}

static const struct {
	const char *name;
	unsigned sets, first, max;
	const char *reason;
} limits[] = {
	{ "10,000 sets fail unparsed", 10000, 1, 50,
	  "10000 ARC-Authentication-Results fields, more than arc_max_sets" },
	{ "over a lowered arc_max_sets", 3, 1, 2, "more than arc_max_sets (2)" },
	{ "instance 51 is out of range", 1, 51, 50, "i= is not an instance" },
	{ "instance above arc_max_sets", 1, 7, 5, "above arc_max_sets (5)" },
	{ "a chain that starts at i=2", 1, 2, 50, "i=1 of 2 has no" },
};

START_TEST(test_arc_limits_fail_invalid)
{
	struct buf text = BUF_INIT;
	const struct arc_result *r;
	struct vctx c;
	clock_t t0 = clock();

	many_sets(&text, limits[_i].sets, limits[_i].first);
	verify(text.data, text.len, NULL, limits[_i].max, &c);
	r = arc_verify_result(c.a);
	ck_assert_msg(r->cv == ARC_CV_FAIL && r->invalid, "%s: %s",
	    limits[_i].name, r->reason);
	ck_assert_msg(strstr(r->reason, limits[_i].reason) != NULL,
	    "%s: reason %s", limits[_i].name, r->reason);
	ck_assert_msg((double)(clock() - t0) / CLOCKS_PER_SEC < 2.0,
	    "%s: too slow", limits[_i].name);
	vctx_free(&c);
	buf_release(&text);
}
END_TEST

START_TEST(test_arc_no_sets_is_none)
{
	static const char text[] = "From: a@example.org\r\n\r\nx\r\n";
	struct vctx c;

	verify(text, sizeof(text) - 1, NULL, 50, &c);
	ck_assert_int_eq(arc_verify_result(c.a)->cv, ARC_CV_NONE);
	vctx_free(&c);
}
END_TEST

START_TEST(test_arc_huge_aar_is_capped)
{
	struct buf text = BUF_INIT;
	struct vctx c;
	const struct arc_result *r;
	size_t i;

	buf_adds(&text, "ARC-Authentication-Results: i=1; big.example; "
	    "dkim=pass");
	for (i = 0; i < 100000; i++)
		buf_adds(&text, " (padding comment)");
	buf_adds(&text, "\r\n");
	many_sets(&text, 1, 1);	/* a second AAR for i=1: duplicate */
	verify(text.data, text.len, NULL, 50, &c);
	r = arc_verify_result(c.a);
	ck_assert_int_eq(r->cv, ARC_CV_FAIL);
	ck_assert_ptr_nonnull(strstr(r->reason, "duplicate"));
	vctx_free(&c);
	buf_reset(&text);
	buf_adds(&text, "i=1; big.example; dkim=pass");
	for (i = 0; i < 100000; i++)
		buf_adds(&text, " x");
	{
		char *p = arc_aar_payload(text.data, text.len);

		ck_assert_uint_eq(strlen(p), ARC_MAX_AAR);
		free(p);
	}
	buf_release(&text);
}
END_TEST

static const struct {
	const char *aar, *author;
	bool want;
	const char *what;
} claims[] = {
	{ "lists.example; dmarc=pass header.from=author.example",
	  "author.example", true, "dmarc=pass header.from=author.example" },
	{ "lists.example; dmarc=pass header.from=other.example",
	  "author.example", false, NULL },
	{ "lists.example; dmarc=fail header.from=author.example",
	  "author.example", false, NULL },
	{ "lists.example; spf=pass smtp.mailfrom=bounce@mail.author.example",
	  "author.example", true, "spf=pass smtp.mailfrom=mail.author.example" },
	{ "lists.example; dkim=pass (2048-bit key) header.d=Author.Example "
	  "header.s=s1", "author.example", true,
	  "dkim=pass header.d=author.example" },
	{ "lists.example; dkim=pass header.d=evil.example", "author.example",
	  false, NULL },
	{ "author.example; spf=fail smtp.mailfrom=author.example",
	  "author.example", false, NULL },
	{ "lists.example (dmarc=pass header.from=author.example); none",
	  "author.example", false, NULL },
	{ "lists.example; arc=pass; dkim=pass header.i=@author.example",
	  "author.example", true, "dkim=pass header.i=author.example" },
	{ "", "author.example", false, NULL },
	/* alignment is DMARC's (Organizational Domains), not parent/child */
	{ "lists.example; dkim=pass header.d=co.uk", "x.co.uk", false, NULL },
	{ "lists.example; spf=pass smtp.mailfrom=b@co.uk", "x.co.uk", false,
	  NULL },
	{ "lists.example; dkim=pass header.d=example", "author.example", false,
	  NULL },
	{ "lists.example; dkim=pass header.d=mail.x.co.uk", "x.co.uk", true,
	  "dkim=pass header.d=mail.x.co.uk" },
	{ "lists.example; dkim=pass header.d=news.example.org",
	  "www.example.org", true, "dkim=pass header.d=news.example.org" },
	{ "lists.example; spf=pass smtp.mailfrom=b@y.co.uk", "x.co.uk", false,
	  NULL },
	{ "lists.example; dkim=pass header.d=x.co.uk", "www.x.co.uk", true,
	  "dkim=pass header.d=x.co.uk" },
};

/* claims_psl - a Public Suffix List for the claims */
static const char claims_psl[] = "com\norg\nexample\nuk\nco.uk\n";

/* psl_aligned - arc_align_fn through the DMARC code, PSL mode */
static int
psl_aligned(void *arg, const char *author, const char *d)
{
	return dmarc_aligned(NULL, NULL, arg, author, d, DMARC_RELAXED);
}

START_TEST(test_arc_aar_claims)
{
	char what[320] = "";
	struct buf why = BUF_INIT;
	struct dmarc_opts o = { DMARC_ORG_PSL, NULL, 20 };
	struct psl *l;
	bool got;

	ck_assert_int_eq(psl_parse(claims_psl, sizeof(claims_psl) - 1,
	    "claims", &l, &why), 0);
	o.psl = l;
	got = arc_aar_says_pass(claims[_i].aar, claims[_i].author, psl_aligned,
	    &o, what, sizeof(what));
	psl_free(l);
	buf_release(&why);

	ck_assert_msg(got == claims[_i].want, "%s: got %d", claims[_i].aar,
	    got);
	if (got)
		ck_assert_str_eq(what, claims[_i].what);
}
END_TEST

/*
 * the pipeline's aligner is DMARC's tree walk (the default): siblings
 * under a domain that publishes DMARC align, a bare parent does not
 */
START_TEST(test_arc_aar_claims_treewalk)
{
	struct fakedns *f = keys();
	struct engine *e = test_engine("");
	struct buf text = BUF_INIT;
	struct msg *m;
	struct scan *s;
	char what[320] = "";

	fakedns_txt(f, "_dmarc.example.org", "v=DMARC1; p=reject");
	dns_resolver_free(e->dns);
	e->dns = fakedns_resolver(f);
	fixture(&text);
	s = test_scan_text(e, "192.0.2.10", "mx.fwd2.example",
	    "bounce@fwd2.example", "b@example.net", text.data, text.len, &m);
	ck_assert(arc_aar_says_pass("l.example; dkim=pass "
	    "header.d=news.example.org", "www.example.org", dmarc_aar_aligned,
	    s, what, sizeof(what)));
	ck_assert_str_eq(what, "dkim=pass header.d=news.example.org");
	ck_assert(!arc_aar_says_pass("l.example; dkim=pass header.d=org",
	    "www.example.org", dmarc_aar_aligned, s, what, sizeof(what)));
	ck_assert(!arc_aar_says_pass("l.example; dkim=pass header.d=co.uk",
	    "x.co.uk", dmarc_aar_aligned, s, what, sizeof(what)));
	ck_assert(!arc_aar_says_pass("l.example; spf=pass "
	    "smtp.mailfrom=a@y.co.uk", "x.co.uk", dmarc_aar_aligned, s, what,
	    sizeof(what)));
	scan_free(&s);
	msg_free(&m);
	buf_release(&text);
	engine_unref(e);
	fakedns_free(f);
}
END_TEST

static const struct {
	const char *in;
	unsigned want;
} instances[] = {
	{ " i=1; a.example", 1 }, { "i = 12 ; x", 12 }, { " I=3;x", 3 },
	{ " i=0; x", 0 }, { " i=; x", 0 }, { " i=1 x", 0 }, { "x=1; y", 0 },
	{ " i=9999; x", 0 }, { "", 0 },
};

START_TEST(test_arc_aar_instance)
{
	struct buf why = BUF_INIT;

	ck_assert_uint_eq(arc_aar_instance(instances[_i].in,
	    strlen(instances[_i].in), &why), instances[_i].want);
	if (instances[_i].want == 0)
		ck_assert_uint_gt(why.len, 0);
	buf_release(&why);
}
END_TEST

/* ------------------------------------------------------------------ */
/* the pipeline: symbols, A-R, the log, trusted sealers                */

static const struct {
	const char *name, *conf;
	enum action want;
	const char *symbol, *authres, *log;
} steps[] = {
	{ "p=reject through a list is rejected without trusted sealers", "",
	  ACTION_REJECT, "DMARC_REJECT", "arc=pass (i=2 d=fwd2.example, "
	  "i=1 d=lists1.example) smtp.remote-ip=192.0.2.10 "
	  "header.oldest-pass=2", "\"override\":null" },
	{ "a trusted sealer's claim does not survive an untrusted sealer's "
	  "rewrite (AMS i=1 broken, oldest-pass 2)",
	  "arc_trusted_sealers = lists1.example\n", ACTION_REJECT,
	  "DMARC_REJECT", "header.oldest-pass=2", "\"override\":null" },
	{ "a trusted sealer that saw DMARC pass, followed by a trusted "
	  "sealer that rewrote, overrides to none",
	  "arc_trusted_sealers = lists1.example fwd2.example\n", ACTION_ACCEPT,
	  "DMARC_TRUSTED_FORWARDER", "dis=none; override=trusted_forwarder: "
	  "trusted ARC sealer lists1.example (i=1) saw dmarc=pass "
	  "header.from=author.example", "\"override\":\"trusted_forwarder\"" },
	{ "a parent of the sealer's domain may be trusted",
	  "arc_trusted_sealers = example\n", ACTION_ACCEPT,
	  "DMARC_TRUSTED_FORWARDER", NULL, NULL },
	{ "a trusted sealer whose AAR claims no pass does not override",
	  "arc_trusted_sealers = fwd2.example\n", ACTION_REJECT,
	  "DMARC_REJECT", NULL, NULL },
	{ "an untrusted sealer's identical chain is rejected",
	  "arc_trusted_sealers = other.example\n", ACTION_REJECT,
	  "DMARC_REJECT", NULL, NULL },
	{ "arc_verify = no: no ARC, no override",
	  "arc_verify = no\narc_trusted_sealers = lists1.example\n",
	  ACTION_REJECT, "DMARC_REJECT", NULL, "\"arc\":{\"result\":\"none\"}" },
	{ "a trusted forwarder network: tagged, not rejected, without ARC",
	  "dmarc_trusted_forwarders = 192.0.2.0/24\n", ACTION_TAG,
	  "DMARC_TRUSTED_FORWARDER", "dis=quarantine; "
	  "override=trusted_forwarder: client 192.0.2.10 is in "
	  "dmarc_trusted_forwarders (192.0.2.0/24): tagged instead",
	  "\"disposition\":\"quarantine\",\"override\":"
	  "\"trusted_forwarder\"" },
	{ "a trusted forwarder host name (the MTA's verified name): tagged",
	  "dmarc_trusted_forwarders = example\n", ACTION_TAG,
	  "DMARC_TRUSTED_FORWARDER", "client client.example is in", NULL },
	{ "a trusted ARC sealer beats a trusted forwarder: none",
	  "dmarc_trusted_forwarders = 192.0.2.0/24\n"
	  "arc_trusted_sealers = lists1.example fwd2.example\n", ACTION_ACCEPT,
	  "DMARC_TRUSTED_FORWARDER", "dis=none; override=trusted_forwarder: "
	  "trusted ARC sealer", NULL },
	{ "a forwarder elsewhere does not count",
	  "dmarc_trusted_forwarders = 198.51.100.0/24 relay.example\n",
	  ACTION_REJECT, "DMARC_REJECT", NULL, NULL },
};

START_TEST(test_arc_step_and_trusted_forwarders)
{
	struct fakedns *f = keys();
	struct engine *e = test_engine(steps[_i].conf);
	struct buf text = BUF_INIT, ar = BUF_INIT, line = BUF_INIT;
	struct msg *m;
	struct scan *s;

	dns_resolver_free(e->dns);
	e->dns = fakedns_resolver(f);
	fixture(&text);
	s = test_scan_text(e, "192.0.2.10", "mx.fwd2.example",
	    "bounce@fwd2.example", "b@example.net", text.data, text.len, &m);
	ck_assert_msg(s->verdict.action == steps[_i].want, "%s: got %s",
	    steps[_i].name, action_name(s->verdict.action));
	ck_assert_msg(verdict_symbol(&s->verdict, steps[_i].symbol) != NULL,
	    "%s: no %s", steps[_i].name, steps[_i].symbol);
	verdict_authres_value(&s->verdict, "mx.test", &ar);
	if (steps[_i].authres)
		ck_assert_msg(strstr(ar.data, steps[_i].authres) != NULL,
		    "%s: A-R is %s", steps[_i].name, ar.data);
	scan_log_line(s, &line);
	if (steps[_i].log)
		ck_assert_msg(strstr(line.data, steps[_i].log) != NULL,
		    "%s: log is %s", steps[_i].name, line.data);
	if (strstr(steps[_i].conf, "arc_verify = no") == NULL) {
		ck_assert_ptr_nonnull(verdict_symbol(&s->verdict, "ARC_PASS"));
		ck_assert_ptr_nonnull(strstr(line.data, "\"arc\":{\"result\":"
		    "\"pass\",\"reason\":\"chain of 2 set(s) verified\""));
	}
	scan_free(&s);
	msg_free(&m);
	buf_release(&text);
	buf_release(&ar);
	buf_release(&line);
	engine_unref(e);
	fakedns_free(f);
}
END_TEST

/* the lists are parsed when the engine loads, matched in their order */
START_TEST(test_forwarders_parsed_at_load)
{
	struct engine *e = test_engine("dmarc_trusted_forwarders = "
	    "198.51.100.0/24 192.0.2.0/24 relay.example B\xc3\xbc" "cher.example\n"
	    "arc_trusted_sealers = lists1.example\n");
	const struct forwarders *f = e->forwarders;
	struct netaddr a;

	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(f->nnets, 2);
	ck_assert_uint_eq(f->nsealers, 1);
	ck_assert_int_eq(netaddr_parse("192.0.2.10", &a), 0);
	ck_assert_str_eq(forwarders_net(f, &a), "192.0.2.0/24");
	ck_assert_int_eq(netaddr_parse("203.0.113.1", &a), 0);
	ck_assert_ptr_null(forwarders_net(f, &a));
	ck_assert_str_eq(forwarders_name(f, "MX.Relay.example"),
	    "relay.example");
	ck_assert_str_eq(forwarders_name(f, "xn--bcher-kva.example"),
	    "B\xc3\xbc" "cher.example");
	ck_assert_ptr_null(forwarders_name(f, "notrelay.example"));
	ck_assert_ptr_null(forwarders_name(f, "[192.0.2.10]"));
	ck_assert_ptr_null(forwarders_name(f, ""));
	ck_assert_ptr_null(forwarders_name(f, NULL));
	ck_assert(forwarders_sealer(f, "lists1.example"));
	ck_assert(forwarders_sealer(f, "a.lists1.example"));
	ck_assert(!forwarders_sealer(f, "xlists1.example"));
	ck_assert(!forwarders_sealer(f, ""));
	engine_unref(e);
}
END_TEST

/*
 * a message is judged by what the engine parsed: with the configured
 * list emptied after loading, the forwarder still counts
 */
START_TEST(test_forwarders_not_parsed_per_message)
{
	struct fakedns *fd = keys();
	struct engine *e = test_engine("dmarc_trusted_forwarders = "
	    "192.0.2.0/24\n");
	size_t n = e->conf->dmarc_trusted_forwarders.n;
	struct buf text = BUF_INIT;
	struct msg *m;
	struct scan *s;

	dns_resolver_free(e->dns);
	e->dns = fakedns_resolver(fd);
	fixture(&text);
	e->conf->dmarc_trusted_forwarders.n = 0;
	s = test_scan_text(e, "192.0.2.10", "mx.fwd2.example",
	    "bounce@fwd2.example", "b@example.net", text.data, text.len, &m);
	e->conf->dmarc_trusted_forwarders.n = n;
	ck_assert_int_eq(s->verdict.action, ACTION_TAG);
	ck_assert_ptr_nonnull(verdict_symbol(&s->verdict,
	    "DMARC_TRUSTED_FORWARDER"));
	scan_free(&s);
	msg_free(&m);
	buf_release(&text);
	engine_unref(e);
	fakedns_free(fd);
}
END_TEST

/* the aggregate report records the override with the sealer named */
START_TEST(test_arc_override_in_aggregate_report)
{
	struct fakedns *f = keys();
	struct buf conf = BUF_INIT, text = BUF_INIT, xml = BUF_INIT,
	    why = BUF_INIT;
	struct dmarc_report_opts ro;
	struct dmarc_report_set set;
	long long now = (long long)time(NULL);
	struct engine *e;
	struct msg *m;
	struct scan *s;
	char dir[256];

	test_mkdtemp(dir, sizeof(dir), "mw-arc-report");
	buf_printf(&conf, "dmarc_report_dir = %s\narc_trusted_sealers = "
	    "lists1.example fwd2.example\n", dir);
	e = test_engine(conf.data);
	dns_resolver_free(e->dns);
	e->dns = fakedns_resolver(f);
	fixture(&text);
	s = test_scan_text(e, "192.0.2.10", "mx.fwd2.example",
	    "bounce@fwd2.example", "b@example.net", text.data, text.len, &m);
	ck_assert_int_eq(s->verdict.action, ACTION_ACCEPT);
	scan_free(&s);
	msg_free(&m);
	memset(&ro, 0, sizeof(ro));
	ro.store_dir = ro.out_dir = dir;
	ro.begin = now - now % 86400;
	ro.end = ro.begin + 86400;
	ro.receiver = "mx.receiver.example";
	ro.org_name = "Receiver";
	ro.email = "postmaster@receiver.example";
	ck_assert_int_eq(dmarc_report_run(&ro, &set, &why), 0);
	ck_assert_uint_eq(set.n, 1);
	ck_assert(files_read(set.v[0].path, 1 << 20, &xml, &why) == 0);
	ck_assert_ptr_nonnull(strstr(xml.data, "<disposition>none</disposition>"));
	ck_assert_ptr_nonnull(strstr(xml.data,
	    "<type>trusted_forwarder</type>"));
	ck_assert_ptr_nonnull(strstr(xml.data, "trusted ARC sealer "
	    "lists1.example (i=1) saw dmarc=pass header.from=author.example"));
	dmarc_report_set_release(&set);
	test_rmtree(dir);
	buf_release(&conf);
	buf_release(&text);
	buf_release(&xml);
	buf_release(&why);
	engine_unref(e);
	fakedns_free(f);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("arc");
	TCase *tc = tcase_create("chain");

	tcase_add_test(tc, test_arc_two_hop_chain_passes_with_oldest_pass);
	tcase_add_test(tc, test_arc_key_timeout_is_temporary_fail);
	tcase_add_test(tc, test_arc_no_sets_is_none);
	suite_add_tcase(s, tc);
	tc = tcase_create("limits");
	tcase_add_loop_test(tc, test_arc_limits_fail_invalid, 0,
	    sizeof(limits) / sizeof(limits[0]));
	tcase_add_test(tc, test_arc_huge_aar_is_capped);
	tcase_set_timeout(tc, 30);
	suite_add_tcase(s, tc);
	tc = tcase_create("aar");
	tcase_add_test(tc, test_arc_aar_claims_treewalk);
	tcase_add_loop_test(tc, test_arc_aar_claims, 0,
	    sizeof(claims) / sizeof(claims[0]));
	tcase_add_loop_test(tc, test_arc_aar_instance, 0,
	    sizeof(instances) / sizeof(instances[0]));
	suite_add_tcase(s, tc);
	tc = tcase_create("step");
	tcase_add_loop_test(tc, test_arc_step_and_trusted_forwarders, 0,
	    sizeof(steps) / sizeof(steps[0]));
	tcase_add_test(tc, test_arc_override_in_aggregate_report);
	tcase_add_test(tc, test_forwarders_parsed_at_load);
	tcase_add_test(tc, test_forwarders_not_parsed_per_message);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
