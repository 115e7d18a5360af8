/*
 * cli_dkim.c - `mailwarden dkim`: verify, sign, keygen
 *
 * DESCRIPTION
 *	verify FILE...  verifies every DKIM-Signature of each message with
 *	                the configuration's DNS resolver and limits, and
 *	                prints each signature's result and why (the same
 *	                code the milter runs).  Exit 0 when every file has a
 *	                passing signature, 1 otherwise, 2 on usage or I/O
 *	                errors.
 *	sign FILE       prints the message with DKIM-Signature fields put
 *	                on top, made with the configured keys (or -k
 *	                DOMAIN:SELECTOR:PATH, repeatable) for the From
 *	                domain (or --domain).
 *	keygen          writes a new private key (mode 0600, never over an
 *	                existing file) and prints the TXT record to publish.
 *	testkey         for every signing key of the configuration, fetches
 *	                selector._domainkey.domain through the configured
 *	                resolver (each query printed) and says whether the
 *	                record's key is the private key, with errors and
 *	                warnings (dkim_testkey.c); exit 1 when a key fails.
 *
 * SECURITY
 *	Key files go through the same checks as in the daemon; key bytes
 *	are wiped and never printed (keygen prints only the public key).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "addr.h"
#include "buf.h"
#include "cli.h"
#include "conf.h"
#include "dkim.h"
#include "dns.h"
#include "engine.h"
#include "files.h"
#include "msg.h"
#include "msgparse.h"
#include "str.h"
#include "svcown.h"

#define MAX_MESSAGE	(256u * 1024 * 1024)

struct vctx {
	struct msg *msg;
	struct dkim_verify *v;
	const struct dkim_vopts *o;
	struct dkim_sign *sign;
	const struct dkim_signconf *sc;
	const char *domain;		/* signing domain override */
	time_t	 now;
	struct addr_author author;
};

static void
v_eoh(void *arg)
{
	struct vctx *c = arg;

	if (c->o)
		c->v = dkim_verify_new(c->o, c->msg->hdrs, c->msg->nhdrs);
	if (c->sc == NULL)
		return;
	if (c->domain == NULL && addr_author(c->msg, &c->author) ==
	    ADDR_AUTHOR_OK)
		c->domain = c->author.domain;
	if (c->domain)
		c->sign = dkim_sign_new(c->sc, c->domain, c->now);
}

static void
v_body(void *arg, const void *p, size_t n)
{
	struct vctx *c = arg;

	if (c->v)
		dkim_verify_body(c->v, p, n);
	if (c->sign)
		dkim_sign_body(c->sign, p, n);
}

/* parse_message - text into msg, feeding c's verifier or signer */
static void
parse_message(struct vctx *c, const struct buf *text)
{
	struct msgparse_cb cb = { v_eoh, v_body, c };
	struct msgparse *mp = msgparse_new(c->msg, &cb);

	msgparse_push(mp, text->data, text->len);
	msgparse_end(mp);
	msgparse_free(mp);
}

/* print_escaped - untrusted text, made printable and capped */
static void
print_escaped(const char *s)
{
	struct buf b = BUF_INIT;

	if (s == NULL)
		s = "?";
	str_escape(&b, s, strlen(s), 100);
	fputs(buf_cstr(&b), stdout);
	buf_release(&b);
}

static void
print_result(size_t i, const struct dkim_sigresult *r)
{
	printf("  signature %zu: d=", i + 1);
	print_escaped(r->domain);
	printf(" s=");
	print_escaped(r->selector);
	printf(" a=%s", r->algorithm ? r->algorithm : "?");
	if (r->identity) {
		printf(" i=");
		print_escaped(r->identity);
	}
	if (r->key_bits)
		printf(" key=%u bits", r->key_bits);
	printf(": %s (%s)", dkim_result_name(r->result),
	    r->reason ? r->reason : "not evaluated");
	if (r->testing)
		printf(" [key in test mode]");
	if (r->has_l)
		printf(" [l=%llu of %llu body bytes]", (unsigned long long)r->l,
		    (unsigned long long)r->body_length);
	if (r->header_injection)
		printf(" [more %s fields than signed]", r->injected);
	printf("\n");
}

/* verify_file - 0 pass, 1 no pass, 2 unreadable */
static int
verify_file(struct engine *eng, time_t now, const char *path)
{
	struct dkim_vopts o;
	struct buf text = BUF_INIT, why = BUF_INIT;
	struct msg_limits lim;
	struct dns_budget budget;
	struct vctx c;
	const struct dkim_sigresult *r;
	size_t i, n, seen;
	int rc = 1;

	if (files_read(path, MAX_MESSAGE, &text, &why) < 0) {
		fprintf(stderr, "mailwarden dkim verify: %s\n", buf_cstr(&why));
		buf_release(&why);
		return 2;
	}
	dkim_vopts_from_conf(&o, eng->conf, now);
	msg_limits_from_conf(&lim, eng->conf);
	memset(&c, 0, sizeof(c));
	c.msg = msg_new(&lim);
	c.o = &o;
	parse_message(&c, &text);
	dns_budget_init(&budget, 0);
	dkim_verify_finish(c.v, eng->dns, &budget);
	n = dkim_verify_results(c.v, &r);
	seen = dkim_verify_seen(c.v);
	printf("%s: ", path);
	if (seen == 0)
		printf("no DKIM-Signature\n");
	else
		printf("%zu signature%s%s\n", seen, seen == 1 ? "" : "s",
		    seen > n ? " (only the first ones verified: "
		    "dkim_max_signatures)" : "");
	for (i = 0; i < n; i++) {
		print_result(i, &r[i]);
		if (r[i].result == DKIM_PASS)
			rc = 0;
	}
	dns_budget_release(&budget);
	dkim_verify_free(&c.v);
	msg_free(&c.msg);
	buf_release(&text);
	return rc;
}

static int
cmd_verify(int argc, char **argv)
{
	return cli_verify_files(argc, argv, "dkim verify", verify_file);
}

/* write_signed - signature fields, then the original bytes */
static void
write_signed(const struct buf *text, const struct dkim_signed *sigs,
    size_t n)
{
	const char *nl = memchr(text->data, '\n', text->len);
	bool crlf = nl && nl > text->data && nl[-1] == '\r';
	size_t i;
	const char *p;

	for (i = 0; i < n; i++) {
		fputs("DKIM-Signature: ", stdout);
		for (p = sigs[i].value; *p; p++)
			if (*p != '\r')
				putchar(*p);
			else if (!crlf)
				continue;
			else
				putchar('\r');
		fputs(crlf ? "\r\n" : "\n", stdout);
	}
	fwrite(text->data, 1, text->len, stdout);
}

static void
sign_usage(FILE *f)
{
	fprintf(f, "usage: mailwarden dkim sign [-c FILE] "
	    "[-k DOMAIN:SELECTOR:KEYFILE]... [--canon C]\n"
	    "                           [--headers LIST] [--domain D] "
	    "[--time SECONDS] FILE\n");
}

struct sign_args {
	const char *conf, *canon, *domain, *headers;
	struct strlist keys;
	uint64_t t;
};

/* signconf_for - -k keys with the configuration's other settings */
static struct dkim_signconf *
signconf_for(const struct sign_args *a, const struct conf *c)
{
	struct dkim_signconf *sc = NULL;
	struct dkim_signopts o;
	struct strlist hl = { NULL, 0 };
	struct buf why = BUF_INIT;
	char *copy = NULL, *tok, *save = NULL;

	o.keys = &a->keys;
	o.headers = &c->dkim_sign_headers;
	o.oversign = &c->dkim_oversign_headers;
	o.canon = a->canon ? a->canon : c->dkim_sign_canon;
	o.expire = c->dkim_sign_expire;
	if (a->headers) {
		copy = xstrdup(a->headers);
		for (tok = strtok_r(copy, " ,:", &save); tok;
		    tok = strtok_r(NULL, " ,:", &save)) {
			hl.v = xreallocarray(hl.v, hl.n + 1, sizeof(char *));
			hl.v[hl.n++] = tok;
		}
		o.headers = &hl;
	}
	if (dkim_signconf_load(&o, &sc, &why) < 0)
		fprintf(stderr, "mailwarden dkim sign: %s\n", buf_cstr(&why));
	free(hl.v);
	free(copy);
	buf_release(&why);
	return sc;
}

static int
sign_file(struct engine *eng, const struct dkim_signconf *sc,
    const struct sign_args *a, const char *path)
{
	struct buf text = BUF_INIT, why = BUF_INIT;
	struct msg_limits lim;
	struct dkim_signed *sigs = NULL;
	struct vctx c;
	size_t n = 0;
	int rc = 1;

	if (files_read(path, MAX_MESSAGE, &text, &why) < 0) {
		fprintf(stderr, "mailwarden dkim sign: %s\n", buf_cstr(&why));
		buf_release(&why);
		return 2;
	}
	msg_limits_from_conf(&lim, eng->conf);
	memset(&c, 0, sizeof(c));
	c.msg = msg_new(&lim);
	c.sc = sc;
	c.domain = a->domain;
	c.now = a->t ? (time_t)a->t : time(NULL);
	parse_message(&c, &text);
	if (c.sign == NULL)
		fprintf(stderr, "mailwarden dkim sign: %s: %s\n", path,
		    c.domain ? "no key for the domain" : "no single From "
		    "address to take the domain from (use --domain)");
	else {
		n = dkim_sign_finish(c.sign, c.msg->hdrs, c.msg->nhdrs, &sigs,
		    &why);
		if (n == 0)
			fprintf(stderr, "mailwarden dkim sign: %s: %s\n", path,
			    buf_cstr(&why));
		else {
			write_signed(&text, sigs, n);
			rc = 0;
		}
		dkim_signed_free(sigs, n);
	}
	dkim_sign_free(&c.sign);
	msg_free(&c.msg);
	buf_release(&text);
	buf_release(&why);
	return rc;
}

static int
cmd_sign(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "key", required_argument, NULL, 'k' },
		{ "canon", required_argument, NULL, 'C' },
		{ "headers", required_argument, NULL, 'H' },
		{ "domain", required_argument, NULL, 'd' },
		{ "time", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct sign_args a;
	struct engine *eng;
	struct dkim_signconf *own = NULL;
	const struct dkim_signconf *sc;
	int ch, rc;

	memset(&a, 0, sizeof(a));
	optind = 1;
	while ((ch = getopt_long(argc, argv, "c:k:d:t:h", opts, NULL)) != -1) {
		switch (ch) {
		case 'c': a.conf = optarg; break;
		case 'C': a.canon = optarg; break;
		case 'H': a.headers = optarg; break;
		case 'd': a.domain = optarg; break;
		case 'k':
			a.keys.v = xreallocarray(a.keys.v, a.keys.n + 1,
			    sizeof(char *));
			a.keys.v[a.keys.n++] = optarg;
			break;
		case 't':
			if (parse_uint(optarg, 1, 253402300799ULL, &a.t) < 0) {
				sign_usage(stderr);
				free(a.keys.v);
				return 2;
			}
			break;
		case 'h': sign_usage(stdout); free(a.keys.v); return 0;
		default: sign_usage(stderr); free(a.keys.v); return 2;
		}
	}
	if (optind + 1 != argc) {
		sign_usage(stderr);
		free(a.keys.v);
		return 2;
	}
	if ((eng = cli_load_engine(a.conf)) == NULL) {
		free(a.keys.v);
		return 2;
	}
	if (a.keys.n > 0 || a.canon || a.headers)
		sc = own = signconf_for(&a, eng->conf);
	else
		sc = eng->dkim_sign;
	if (sc == NULL) {
		if (a.keys.n == 0)
			fprintf(stderr, "mailwarden dkim sign: no keys: give -k "
			    "or set dkim_sign_domains\n");
		rc = 2;
	} else
		rc = sign_file(eng, sc, &a, argv[optind]);
	dkim_signconf_free(own);
	engine_unref(eng);
	free(a.keys.v);
	return rc;
}

/* print_record - the TXT record in zone-file syntax, 255-byte strings */
static void
print_record(const char *sel, const char *dom, const struct buf *rec)
{
	size_t off;

	printf("%s._domainkey.%s. IN TXT (", sel, dom);
	for (off = 0; off < rec->len; off += 250)
		printf(" \"%.*s\"", (int)(rec->len - off > 250 ? 250 :
		    rec->len - off), rec->data + off);
	printf(" )\n");
}

static int
cmd_keygen(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "type", required_argument, NULL, 't' },
		{ "bits", required_argument, NULL, 'b' },
		{ "domain", required_argument, NULL, 'd' },
		{ "selector", required_argument, NULL, 's' },
		{ "out", required_argument, NULL, 'o' },
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *type = "rsa", *dom = NULL, *sel = NULL, *out = NULL;
	const char *cpath = NULL;
	struct conf *conf = NULL;
	uid_t uid;
	gid_t gid;
	int own = 0;
	struct buf pem = BUF_INIT, rec = BUF_INIT, why = BUF_INIT;
	uint64_t bits = 2048;
	int ch, fd, rc = 1;
	ssize_t w;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "t:b:d:s:o:c:h", opts, NULL))
	    != -1) {
		switch (ch) {
		case 'c': cpath = optarg; break;
		case 't': type = optarg; break;
		case 'b':
			if (parse_uint(optarg, 1024, DKIM_MAX_KEY_BITS, &bits)
			    < 0) {
				fprintf(stderr, "mailwarden dkim keygen: --bits "
				    "from 1024 to %d\n", DKIM_MAX_KEY_BITS);
				return 2;
			}
			break;
		case 'd': dom = optarg; break;
		case 's': sel = optarg; break;
		case 'o': out = optarg; break;
		case 'h':
		default:
			fprintf(ch == 'h' ? stdout : stderr, "usage: mailwarden "
			    "dkim keygen [-c FILE] [--type rsa|ed25519] "
			    "[--bits N] --domain D --selector S --out FILE\n"
			    "  run as root, FILE's user (the daemon's) gets "
			    "the key\n");
			return ch == 'h' ? 0 : 2;
		}
	}
	if (dom == NULL || sel == NULL || out == NULL || optind != argc) {
		fprintf(stderr, "usage: mailwarden dkim keygen [-c FILE] "
		    "[--type rsa|ed25519] [--bits N] --domain D --selector S "
		    "--out FILE\n");
		return 2;
	}
	{
		char *entry = xasprintf("%s:%s:/", dom, sel);

		rc = dkim_signconf_check_entry(entry, &why);
		free(entry);
		if (rc < 0) {
			fprintf(stderr, "mailwarden dkim keygen: %s\n",
			    buf_cstr(&why));
			buf_release(&why);
			return 2;
		}
		rc = 1;
	}
	/* run as root: the key is for the daemon's user, who must read it */
	if ((conf = cli_load_conf(cpath)) == NULL)
		return 1;
	own = svcown_get(conf, out, &uid, &gid, &why);
	if (why.len)
		fprintf(stderr, "mailwarden dkim keygen: %s\n", buf_cstr(&why));
	buf_reset(&why);
	if (own < 0)
		goto out;
	if (dkim_keygen(type, (unsigned)bits, &pem, &rec, &why) < 0) {
		fprintf(stderr, "mailwarden dkim keygen: %s\n", buf_cstr(&why));
		goto out;
	}
	if ((fd = open(out, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600))
	    < 0) {
		fprintf(stderr, "mailwarden dkim keygen: %s: %s\n", out,
		    strerror(errno));
		goto out;
	}
	w = write(fd, pem.data, pem.len);
	if (own > 0 && fchown(fd, uid, gid) < 0) {
		fprintf(stderr, "mailwarden dkim keygen: %s: cannot give it to "
		    "user %s: %s\n", out, conf->user, strerror(errno));
		(void)close(fd);
		(void)unlink(out);
		goto out;
	}
	if (close(fd) < 0 || w != (ssize_t)pem.len) {
		fprintf(stderr, "mailwarden dkim keygen: %s: write failed\n",
		    out);
		(void)unlink(out);
		goto out;
	}
	print_record(sel, dom, &rec);
	rc = 0;
out:
	if (conf)
		conf_free(conf);
	if (pem.data)
		OPENSSL_cleanse(pem.data, pem.cap);
	buf_release(&pem);
	buf_release(&rec);
	buf_release(&why);
	return rc;
}

/* print_keytest - one key's test, every line indented under it */
static void
print_keytest(const struct dkim_keytest *t)
{
	struct buf esc = BUF_INIT;
	const char *p;

	if (t->record.len) {
		str_escape(&esc, t->record.data, t->record.len, 4096);
		printf("  record: %s\n", buf_cstr(&esc));
	}
	if (t->record_bits)
		printf("  public key: %s the private key (%u bits)\n",
		    t->match ? "matches" : "does NOT match", t->record_bits);
	for (p = buf_cstr(&t->notes); *p; p += strcspn(p, "\n") + 1)
		printf("  %.*s\n", (int)strcspn(p, "\n"), p);
	printf("  result: %s\n", t->errors ? "FAIL" : t->warnings ?
	    "ok, with warnings" : "ok");
	buf_release(&esc);
}

/*
 * cmd_testkey - like opendkim-testkey: every configured signing key
 * against its published record; 0 when every key passes, 1 when one
 * fails, 2 on usage or configuration errors
 */
static int
cmd_testkey(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *path = NULL;
	struct engine *eng;
	size_t i, n, failed = 0, warned = 0;
	int ch;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		if (ch == 'c')
			path = optarg;
		else {
			fprintf(ch == 'h' ? stdout : stderr, "usage: mailwarden "
			    "dkim testkey [-c FILE]\n");
			return ch == 'h' ? 0 : 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "usage: mailwarden dkim testkey [-c FILE]\n");
		return 2;
	}
	if ((eng = cli_load_engine(path)) == NULL)
		return 2;
	if ((n = dkim_signconf_nkeys(eng->dkim_sign)) == 0 ||
	    eng->dns == NULL) {
		fprintf(stderr, "mailwarden dkim testkey: %s\n", n == 0 ?
		    "no signing keys: set dkim_sign_domains" :
		    "no DNS resolver configured");
		engine_unref(eng);
		return 2;
	}
	dns_resolver_trace(eng->dns, cli_dns_trace, NULL);
	for (i = 0; i < n; i++) {
		struct dkim_keytest t;

		dkim_keytest_init(eng->dkim_sign, i, &t);
		printf("%skey %s selector %s: %s (%s, %u bits)\n", i ? "\n" :
		    "", t.domain, t.selector, t.path, t.algorithm, t.bits);
		dkim_keytest_run(eng->dkim_sign, i, eng->dns, &t);
		print_keytest(&t);
		failed += t.errors > 0;
		warned += t.errors == 0 && t.warnings > 0;
		dkim_keytest_release(&t);
	}
	dns_resolver_trace(eng->dns, NULL, NULL);
	printf("%zu key(s): %zu ok, %zu with warnings, %zu failed\n", n,
	    n - failed - warned, warned, failed);
	engine_unref(eng);
	return failed ? 1 : 0;
}

int
cli_dkim(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "verify") == 0)
		return cmd_verify(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "sign") == 0)
		return cmd_sign(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "keygen") == 0)
		return cmd_keygen(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "testkey") == 0)
		return cmd_testkey(argc - 1, argv + 1);
	fprintf(argc >= 2 && strcmp(argv[1], "--help") == 0 ? stdout : stderr,
	    "usage: mailwarden dkim verify [-c FILE] [--time SECONDS] FILE...\n"
	    "       mailwarden dkim sign [-c FILE] [-k DOMAIN:SELECTOR:KEYFILE]"
	    "... FILE\n"
	    "       mailwarden dkim keygen [--type rsa|ed25519] [--bits N] "
	    "--domain D\n"
	    "                              --selector S --out FILE\n"
	    "       mailwarden dkim testkey [-c FILE]\n");
	return argc >= 2 && strcmp(argv[1], "--help") == 0 ? 0 : 2;
}
