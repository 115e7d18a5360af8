/*
 * fuzz_dmarc_report.c - the aggregate report store reader and XML writer
 *
 * DESCRIPTION
 *	The input is one day file of the report store
 *	(dmarc-YYYYMMDD.jsonl, one JSON object a line, as the milter
 *	appends them; a store file can be damaged, cut by a crash, or
 *	written by anything with access to the directory).  It is read by
 *	dmarc_report_run() exactly as `mailwarden dmarc report` reads it,
 *	for every Policy Domain (all = true), and each XML report written
 *	is read back and checked:
 *	  - well-formed: one prolog, one root element, every element
 *	    closed in order, text and attributes hold no '<', only the five
 *	    predefined entity references, no control byte but tab and
 *	    newline;
 *	  - one <record> per report row counted in the result set;
 *	  - valid UTF-8 (RFC 3629) holding only XML characters (no U+FFFE,
 *	    U+FFFF), whatever bytes the store held (issue 14 item 14); a
 *	    probe line with a byte 0xff in a header_from checks this once
 *	    at start.
 *	Files live in a directory made once per process.
 */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "dmarc_report.h"
#include "files.h"
#include "str.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define DAY	1794960000LL	/* 2026-11-18 00:00:00 UTC */

static char dir[256], store[300], out[300], day[400];

/* xml_name - length of the element name at p (letters, digits, _ :) */
static size_t
xml_name(const char *p)
{
	size_t n = 0;

	while (ch_is_alnum((unsigned char)p[n]) || p[n] == '_' || p[n] == ':')
		n++;
	return n;
}

/* xml_text_ok - character data (or an attribute value) up to end */
static bool
xml_text_ok(const char *p, const char *end)
{
	static const char *const ents[] = { "&amp;", "&lt;", "&gt;",
	    "&quot;", "&apos;" };
	size_t i;

	for (; p < end; p++) {
		unsigned char c = (unsigned char)*p;

		if (c == '<' || (c < 0x20 && c != '\n' && c != '\t') ||
		    c == 0x7f)
			return false;
		if (c != '&')
			continue;
		for (i = 0; i < sizeof(ents) / sizeof(ents[0]); i++)
			if (strncmp(p, ents[i], strlen(ents[i])) == 0)
				break;
		if (i == sizeof(ents) / sizeof(ents[0]))
			return false;
	}
	return true;
}

/*
 * xml_well_formed - the subset of XML the writer emits: a prolog, then
 * elements with at most xmlns-style attributes, text, no comments
 */
static bool
xml_well_formed(const char *x, size_t len, size_t *records)
{
	const char *p = x, *end = x + len, *gt;
	const char *stack[16];
	size_t nstack = 0, n, roots = 0;

	*records = 0;
	if (strncmp(p, "<?xml ", 6) != 0 || (gt = strstr(p, "?>\n")) == NULL)
		return false;
	p = gt + 3;
	while (p < end) {
		const char *lt = memchr(p, '<', (size_t)(end - p));

		if (lt == NULL)
			lt = end;
		if (!xml_text_ok(p, lt))
			return false;
		if (nstack == 0 && strspn(p, " \n") < (size_t)(lt - p))
			return false;	/* text outside the root */
		if ((p = lt) == end)
			break;
		if ((gt = memchr(p, '>', (size_t)(end - p))) == NULL)
			return false;
		if (p[1] == '/') {
			n = xml_name(p + 2);
			if (nstack == 0 || n == 0 || p + 2 + n != gt ||
			    strncmp(stack[nstack - 1], p + 2, n) != 0 ||
			    xml_name(stack[nstack - 1]) != n)
				return false;
			nstack--;
		} else {
			n = xml_name(p + 1);
			if (n == 0 ||
			    nstack == sizeof(stack) / sizeof(stack[0]))
				return false;
			if (p + 1 + n != gt && (p[1 + n] != ' ' ||
			    !xml_text_ok(p + 1 + n, gt) ||
			    memchr(p, '"', (size_t)(gt - p)) == NULL))
				return false;
			if (nstack == 0 && roots++ > 0)
				return false;
			if (n == 6 && strncmp(p + 1, "record", 6) == 0)
				(*records)++;
			stack[nstack++] = p + 1;
		}
		p = gt + 1;
	}
	return nstack == 0 && roots == 1;
}

/*
 * xml_chars - valid UTF-8 (no surrogates, RFC 3629) holding only XML 1.0
 * characters: U+FFFE and U+FFFF are not (XML 1.0 section 2.2)
 */
static bool
xml_chars(const char *x, size_t len)
{
	return utf8_valid(x, len) &&
	    memmem(x, len, "\xef\xbf\xbe", 3) == NULL &&
	    memmem(x, len, "\xef\xbf\xbf", 3) == NULL;
}

/* run - write text as the day file, report it; the set, 0 or -1 */
static int
run(const void *text, size_t len, struct dmarc_report_set *set)
{
	struct dmarc_report_opts ro;
	struct buf why = BUF_INIT;
	FILE *f;
	int rc;

	if ((f = fopen(day, "w")) == NULL ||
	    fwrite(text, 1, len, f) != len || fclose(f) != 0)
		abort();
	memset(&ro, 0, sizeof(ro));
	ro.store_dir = store;
	ro.out_dir = out;
	ro.begin = DAY;
	ro.end = DAY + 86400;
	ro.receiver = "mx.example.net";
	ro.org_name = "Example <Net> & \"Co\"";
	ro.email = "dmarc@example.net";
	ro.all = true;
	rc = dmarc_report_run(&ro, set, &why);
	if (rc < 0 && why.len == 0)
		abort();	/* a failure says why */
	buf_release(&why);
	return rc;
}

/* setup - the directories; the writer's UTF-8 on a probe line */
static void
setup(void)
{
	static const char probe[] = "{\"kind\":\"eval\",\"v\":1,"
	    "\"t\":1794960001,\"ip\":\"192.0.2.1\",\"hfrom\":\"a\xff.example\","
	    "\"pdom\":\"example.org\",\"result\":\"fail\"}\n";
	struct dmarc_report_set set;
	struct buf x = BUF_INIT, why = BUF_INIT;

	snprintf(dir, sizeof(dir), "%s/fuzz_dmarc_report.XXXXXX",
	    getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(dir) == NULL)
		abort();
	snprintf(store, sizeof(store), "%s/store", dir);
	snprintf(out, sizeof(out), "%s/out", dir);
	snprintf(day, sizeof(day), "%s/dmarc-20261118.jsonl", store);
	if (mkdir(store, 0700) < 0 || mkdir(out, 0700) < 0)
		abort();
	if (run(probe, sizeof(probe) - 1, &set) < 0 || set.n != 1 ||
	    files_read(set.v[0].path, 1 << 20, &x, &why) < 0)
		abort();
	if (!utf8_valid(x.data, x.len))
		abort();	/* invalid UTF-8 went through */
	unlink(set.v[0].path);
	dmarc_report_set_release(&set);
	buf_release(&x);
	buf_release(&why);
}

/* cleanup - the reports are gone already: the day file, three dirs */
static void
cleanup(void)
{
	unlink(day);
	rmdir(out);
	rmdir(store);
	rmdir(dir);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dmarc_report_set set;
	struct buf x = BUF_INIT, why = BUF_INIT;
	size_t i, records;

	if (dir[0] == '\0') {
		setup();
		atexit(cleanup);
	}
	if (run(data, size, &set) < 0)
		abort();	/* the output directory is there */
	if (set.lines_bad > set.lines_read)
		abort();
	for (i = 0; i < set.n; i++) {
		buf_reset(&x);
		if (files_read(set.v[i].path, 64 << 20, &x, &why) < 0)
			abort();
		if (!xml_well_formed(x.data, x.len, &records) ||
		    records != set.v[i].records || records == 0 ||
		    set.v[i].messages < records)
			abort();
		if (!xml_chars(x.data, x.len))
			abort();
		unlink(set.v[i].path);
	}
	dmarc_report_set_release(&set);
	buf_release(&x);
	buf_release(&why);
	return 0;
}
