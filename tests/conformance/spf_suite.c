/*
 * spf_suite.c - the RFC 7208 (openspf / pyspf) test suite against spf.c
 *
 * DESCRIPTION
 *	Reads $SHARED_DIR/testdata/spf/rfc7208-tests.yml (or the file named
 *	on the command line) with libyaml, one YAML document per scenario.
 *	Each scenario's zonedata becomes zone-file text for the static zone
 *	backend (dns_zone.c), exactly as shared/testdata/README.md describes:
 *	SPF entries are served as TXT when the name has no TXT entry,
 *	"TXT: NONE" suppresses that, a bare TIMEOUT makes the name's other
 *	types time out, names not listed do not exist.  Every test runs
 *	spf_check() for the MAIL FROM identity (postmaster@HELO for the
 *	null sender) and must give one of the listed results; where the
 *	test gives an explanation, it must match exactly, with the default
 *	explanation set to "DEFAULT" as the suite's own driver does.
 *
 *	Prints "N passed, N failed"; exit 0 only when nothing failed and
 *	at least one test ran, 77 (skip) when the data is not there.
 *	SPF_SUITE_VERBOSE=1 prints the evaluation trace of failures;
 *	SPF_SUITE_ONLY=name runs one test.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <yaml.h>

#include "buf.h"
#include "dns.h"
#include "spf.h"
#include "str.h"

static yaml_node_t *
map_get(yaml_document_t *d, yaml_node_t *map, const char *key)
{
	yaml_node_pair_t *p;

	if (map == NULL || map->type != YAML_MAPPING_NODE)
		return NULL;
	for (p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
	    p++) {
		yaml_node_t *k = yaml_document_get_node(d, p->key);

		if (k && k->type == YAML_SCALAR_NODE &&
		    strcmp((char *)k->data.scalar.value, key) == 0)
			return yaml_document_get_node(d, p->value);
	}
	return NULL;
}

static const char *
scalar(yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ?
	    (const char *)n->data.scalar.value : NULL;
}

/* zone_name - an owner or target name in zone-file syntax, absolute */
static void
zone_name(struct buf *z, const char *name)
{
	const unsigned char *p = (const unsigned char *)name;
	size_t n = strlen(name);

	if (n == 0) {
		buf_addc(z, '.');
		return;
	}
	for (; *p; p++) {
		if (ch_is_alnum(*p) || strchr("-_.*:/%", *p))
			buf_addc(z, (char)*p);
		else
			buf_printf(z, "\\%03u", *p);
	}
	if (name[n - 1] != '.')
		buf_addc(z, '.');
}

/* zone_string - one TXT character-string, quoted, in 255-byte pieces */
static void
zone_txt(struct buf *z, const char *s, size_t len)
{
	size_t i, piece = 0;

	buf_addc(z, '"');
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (piece == 255) {
			buf_adds(z, "\" \"");
			piece = 0;
		}
		if (c < 0x20 || c > 0x7e || c == '"' || c == '\\')
			buf_printf(z, "\\%03u", c);
		else
			buf_addc(z, (char)c);
		piece++;
	}
	buf_addc(z, '"');
}

/* zone_txt_value - a TXT/SPF value: a string or a list of strings */
static void
zone_txt_value(yaml_document_t *d, yaml_node_t *v, struct buf *z)
{
	yaml_node_item_t *it;
	size_t k = 0;

	if (v->type == YAML_SCALAR_NODE) {
		zone_txt(z, (char *)v->data.scalar.value, v->data.scalar.length);
		return;
	}
	for (it = v->data.sequence.items.start; it < v->data.sequence.items.top;
	    it++, k++) {
		yaml_node_t *s = yaml_document_get_node(d, *it);

		if (k)
			buf_addc(z, ' ');
		zone_txt(z, (char *)s->data.scalar.value, s->data.scalar.length);
	}
	if (k == 0)
		buf_adds(z, "\\# 0");	/* a record with no strings at all */
}

/* owner_records - zone lines for one owner name */
static void
owner_records(yaml_document_t *d, const char *owner, yaml_node_t *list,
    struct buf *z)
{
	yaml_node_item_t *it;
	bool has_txt = false, txt_none = false, timeout = false;
	struct buf spf = BUF_INIT, line = BUF_INIT;

	for (it = list->data.sequence.items.start;
	    it < list->data.sequence.items.top; it++) {
		yaml_node_t *rec = yaml_document_get_node(d, *it);
		yaml_node_pair_t *p;
		const char *type, *val;
		yaml_node_t *v;

		if (rec->type == YAML_SCALAR_NODE) {
			if (strcmp(scalar(rec), "TIMEOUT") == 0)
				timeout = true;
			continue;
		}
		p = rec->data.mapping.pairs.start;
		type = scalar(yaml_document_get_node(d, p->key));
		v = yaml_document_get_node(d, p->value);
		val = scalar(v);
		buf_reset(&line);
		zone_name(&line, owner);
		if (strcmp(type, "TXT") == 0 && val && strcmp(val, "NONE") == 0) {
			txt_none = true;
			continue;
		}
		if (strcmp(type, "SPF") == 0 || strcmp(type, "TXT") == 0) {
			buf_printf(&line, " 3600 IN %s ", type);
			zone_txt_value(d, v, &line);
			buf_printf(z, "%s\n", buf_cstr(&line));
			if (strcmp(type, "TXT") == 0)
				has_txt = true;
			else {	/* the same value, as TXT */
				zone_name(&spf, owner);
				buf_adds(&spf, " 3600 IN TXT ");
				zone_txt_value(d, v, &spf);
				buf_addc(&spf, '\n');
			}
		} else if (strcmp(type, "MX") == 0) {
			yaml_node_item_t *mi = v->data.sequence.items.start;

			buf_printf(&line, " 3600 IN MX %s ", scalar(
			    yaml_document_get_node(d, mi[0])));
			zone_name(&line, scalar(yaml_document_get_node(d,
			    mi[1])));
			buf_printf(z, "%s\n", buf_cstr(&line));
		} else if (strcmp(type, "PTR") == 0 ||
		    strcmp(type, "CNAME") == 0) {
			buf_printf(&line, " 3600 IN %s ", type);
			zone_name(&line, val);
			buf_printf(z, "%s\n", buf_cstr(&line));
		} else
			buf_printf(z, "%s 3600 IN %s %s\n", buf_cstr(&line),
			    type, val);
	}
	/* SPF-type entries double as TXT unless the name has its own TXT */
	if (!has_txt && !txt_none)
		buf_add(z, spf.data ? spf.data : "", spf.len);
	if (timeout) {
		zone_name(z, owner);
		buf_adds(z, " TIMEOUT\n");
	}
	buf_release(&spf);
	buf_release(&line);
}

static struct dns_resolver *
scenario_resolver(yaml_document_t *d, yaml_node_t *zonedata, struct buf *z)
{
	struct dns_resolver *r;
	struct dns_opts o;
	struct buf why = BUF_INIT;
	yaml_node_pair_t *p;

	buf_reset(z);
	for (p = zonedata->data.mapping.pairs.start;
	    p < zonedata->data.mapping.pairs.top; p++)
		owner_records(d, scalar(yaml_document_get_node(d, p->key)),
		    yaml_document_get_node(d, p->value), z);
	dns_opts_default(&o);
	o.prefetch_threads = 0;
	if (dns_zone_open_text(z->data, z->len, "zonedata", &o, &r, &why) < 0) {
		fprintf(stderr, "zone data does not load: %s\n%s\n",
		    buf_cstr(&why), buf_cstr(z));
		r = NULL;
	}
	buf_release(&why);
	return r;
}

/* result_ok - is got among the expected result(s)? */
static bool
result_ok(yaml_document_t *d, yaml_node_t *want, enum spf_result got,
    struct buf *shown)
{
	yaml_node_item_t *it;
	bool ok = false;

	if (want == NULL) {
		buf_adds(shown, "(no result given)");
		return false;
	}
	if (want->type == YAML_SCALAR_NODE) {
		buf_adds(shown, scalar(want));
		return strcmp(scalar(want), spf_result_name(got)) == 0;
	}
	for (it = want->data.sequence.items.start;
	    it < want->data.sequence.items.top; it++) {
		const char *w = scalar(yaml_document_get_node(d, *it));

		if (w == NULL)
			continue;
		buf_printf(shown, "%s%s", shown->len ? "|" : "", w);
		if (strcmp(w, spf_result_name(got)) == 0)
			ok = true;
	}
	return ok;
}

struct counts {
	unsigned passed, failed;
};

static void
run_test(yaml_document_t *d, const char *scen, const char *name,
    yaml_node_t *t, struct dns_resolver *r, const char *zone,
    struct counts *c)
{
	const char *only = getenv("SPF_SUITE_ONLY");
	const char *host = scalar(map_get(d, t, "host"));
	const char *exp = scalar(map_get(d, t, "explanation"));
	struct spf_request req;
	struct spf_outcome o;
	struct buf tr = BUF_INIT, shown = BUF_INIT;
	bool ok;

	if (only && strcmp(only, name) != 0)
		return;
	memset(&req, 0, sizeof(req));
	if (host == NULL || netaddr_parse(host, &req.ip) < 0) {
		printf("FAIL %s / %s: bad host %s\n", scen, name,
		    host ? host : "(none)");
		c->failed++;
		return;
	}
	req.helo = scalar(map_get(d, t, "helo"));
	req.sender = scalar(map_get(d, t, "mailfrom"));
	if (req.sender == NULL)
		req.sender = "";
	req.receiver = "receiver.example";
	req.now = time(NULL);
	req.default_exp = "DEFAULT";
	dns_resolver_flush(r);	/* each test starts with a cold cache */
	spf_check(r, NULL, &req, SPF_ID_MAILFROM, NULL, &o, &tr);
	ok = result_ok(d, map_get(d, t, "result"), o.result, &shown);
	if (ok && exp && o.result == SPF_FAIL)
		ok = o.explanation && strcmp(o.explanation, exp) == 0;
	if (ok)
		c->passed++;
	else {
		c->failed++;
		printf("FAIL %s / %s: got %s (explanation '%s', problem '%s'),"
		    " want %s%s%s%s\n", scen, name, spf_result_name(o.result),
		    o.explanation ? o.explanation : "",
		    o.problem ? o.problem : "", buf_cstr(&shown),
		    exp ? " (explanation '" : "", exp ? exp : "",
		    exp ? "')" : "");
		if (getenv("SPF_SUITE_VERBOSE"))
			printf("%s--- zone\n%s---\n", buf_cstr(&tr), zone);
	}
	spf_outcome_release(&o);
	buf_release(&tr);
	buf_release(&shown);
}

static int
run_scenario(yaml_document_t *d, struct counts *c)
{
	yaml_node_t *root = yaml_document_get_root_node(d);
	yaml_node_t *tests = map_get(d, root, "tests");
	yaml_node_t *zonedata = map_get(d, root, "zonedata");
	const char *scen = scalar(map_get(d, root, "description"));
	struct dns_resolver *r;
	struct buf z = BUF_INIT;
	yaml_node_pair_t *p;

	if (tests == NULL || zonedata == NULL ||
	    tests->type != YAML_MAPPING_NODE ||
	    zonedata->type != YAML_MAPPING_NODE) {
		fprintf(stderr, "scenario without tests or zonedata\n");
		return -1;
	}
	if ((r = scenario_resolver(d, zonedata, &z)) == NULL) {
		buf_release(&z);
		return -1;
	}
	for (p = tests->data.mapping.pairs.start;
	    p < tests->data.mapping.pairs.top; p++)
		run_test(d, scen ? scen : "?",
		    scalar(yaml_document_get_node(d, p->key)),
		    yaml_document_get_node(d, p->value), r, buf_cstr(&z), c);
	dns_resolver_free(r);
	buf_release(&z);
	return 0;
}

int
main(int argc, char **argv)
{
	const char *dir = getenv("SHARED_DIR");
	struct counts c = { 0, 0 };
	yaml_parser_t parser;
	yaml_document_t doc;
	char path[4096];
	unsigned scenarios = 0;
	int bad = 0;
	FILE *f;

	if (argc > 1)
		snprintf(path, sizeof(path), "%s", argv[1]);
	else
		snprintf(path, sizeof(path), "%s/testdata/spf/rfc7208-tests.yml",
		    dir ? dir : "../shared");
	if ((f = fopen(path, "rb")) == NULL) {
		printf("SKIP: %s not found (set SHARED_DIR)\n", path);
		return 77;
	}
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_file(&parser, f);
	for (;;) {
		if (!yaml_parser_load(&parser, &doc)) {
			fprintf(stderr, "%s: YAML error: %s\n", path,
			    parser.problem ? parser.problem : "?");
			bad = 1;
			break;
		}
		if (yaml_document_get_root_node(&doc) == NULL) {
			yaml_document_delete(&doc);
			break;
		}
		if (run_scenario(&doc, &c) < 0)
			bad = 1;
		scenarios++;
		yaml_document_delete(&doc);
	}
	yaml_parser_delete(&parser);
	fclose(f);
	printf("%s: %u scenarios\n%u passed, %u failed\n", path, scenarios,
	    c.passed, c.failed);
	return bad || c.failed || c.passed == 0 ? 1 : 0;
}
