/*
 * dmarc_report.c - aggregate report store and RFC 9990 XML reports
 *
 * DESCRIPTION
 *	See dmarc_report.h.  Writing side: one JSON line per evaluation
 *	appended to the day's file.  Reading side: json-c parses each line,
 *	rows are grouped with a string key, and the XML is written with
 *	every value escaped, optionally through zlib's gzip writer.
 *
 * STANDARDS
 *	RFC 9990 (DMARC aggregate reporting, "dmarc-2.0" namespace),
 *	RFC 1952 (gzip).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include <json-c/json.h>

#include "buf.h"
#include "dmarc_report.h"
#include "json.h"
#include "str.h"
#include "strmap.h"

#define STORE_MAX_LINE	(64 * 1024)
#define STORE_VERSION	1

/* ------------------------------------------------------------------ */
/* the store                                                           */
/* ------------------------------------------------------------------ */

static void
day_file(const char *dir, long long when, char *out, size_t outsz)
{
	time_t t = (time_t)when;
	struct tm tm;

	gmtime_r(&t, &tm);
	snprintf(out, outsz, "%s/dmarc-%04d%02d%02d.jsonl", dir,
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
}

static void
jkey(struct buf *b, const char *k, const char *v)
{
	json_key(b, k, 0);
	json_cstr(b, v);
}

void
dmarc_store_format(const struct dmarc_store_entry *e, struct buf *b)
{
	const struct dmarc_outcome *o = e->o;
	const struct dmarc_record *r = &o->rec;
	enum dmarc_policy p = r->p_set && !o->fallback_none ? r->p :
	    DMARC_POLICY_NONE;
	enum dmarc_policy sp = o->fallback_none ? DMARC_POLICY_NONE :
	    r->sp_set ? r->sp : p;
	enum dmarc_policy np = o->fallback_none ? DMARC_POLICY_NONE :
	    r->np_set ? r->np : sp;
	size_t i;
	bool first = true;

	buf_printf(b, "{\"kind\":\"eval\",\"v\":%d,\"t\":%lld", STORE_VERSION,
	    e->when);
	jkey(b, "ip", e->source_ip);
	jkey(b, "hfrom", e->header_from);
	jkey(b, "efrom", e->envelope_from);
	jkey(b, "eto", e->envelope_to);
	jkey(b, "pdom", o->policy_domain);
	jkey(b, "disc", o->method == DMARC_ORG_PSL ? "psl" : "treewalk");
	jkey(b, "p", dmarc_policy_name(p));
	jkey(b, "sp", dmarc_policy_name(sp));
	jkey(b, "np", dmarc_policy_name(np));
	jkey(b, "adkim", r->adkim == DMARC_STRICT ? "s" : "r");
	jkey(b, "aspf", r->aspf == DMARC_STRICT ? "s" : "r");
	jkey(b, "testing", r->testing ? "y" : "n");
	jkey(b, "fo", r->fo);
	json_key(b, "rua", 0);
	buf_addc(b, '[');
	for (i = 0; i < r->nrua; i++) {
		if (i)
			buf_addc(b, ',');
		json_cstr(b, r->rua[i]);
	}
	buf_addc(b, ']');
	jkey(b, "result", dmarc_result_name(o->result));
	jkey(b, "disp", e->disposition);
	jkey(b, "dkim_al", o->dkim_aligned ? "pass" : "fail");
	jkey(b, "spf_al", o->spf_aligned ? "pass" : "fail");
	jkey(b, "reason", e->reason);
	jkey(b, "comment", e->comment);
	json_key(b, "spf", 0);
	if (e->spf_domain && *e->spf_domain) {
		buf_adds(b, "{\"d\":");
		json_cstr(b, e->spf_domain);
		jkey(b, "r", auth_result_name(e->spf));
		buf_addc(b, '}');
	} else {
		buf_adds(b, "null");
	}
	json_key(b, "dkim", 0);
	buf_addc(b, '[');
	for (i = 0; i < e->ndkim; i++) {
		if (i)
			buf_addc(b, ',');
		buf_adds(b, "{\"d\":");
		json_cstr(b, e->dkim[i].domain);
		jkey(b, "s", e->dkim[i].selector);
		jkey(b, "r", auth_result_name(e->dkim[i].result));
		buf_addc(b, '}');
	}
	buf_addc(b, ']');
	json_key(b, "err", 0);
	buf_addc(b, '[');
#define ERR(text) do { if (!first) buf_addc(b, ','); first = false; \
	    json_cstr(b, text); } while (0)
	if (o->multiple_records)
		ERR("several DMARC records at one name were ignored");
	if (o->fallback_none)
		ERR("no valid p (or a bad sp/np): applied as p=none");
	if (r->removed)
		ERR("tags removed by RFC 9989 (pct, rf, ri) were ignored");
	if (r->bad)
		ERR("tags with bad values were ignored");
#undef ERR
	buf_adds(b, "]}\n");
}

int
dmarc_store_append(const char *dir, const struct dmarc_store_entry *e,
    struct buf *why)
{
	char path[4096];
	struct buf line = BUF_INIT;
	ssize_t n;
	int fd, rc = 0;

	day_file(dir, e->when, path, sizeof(path));
	dmarc_store_format(e, &line);
	if ((fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
	    0640)) < 0) {
		buf_printf(why, "%s: %s", path, strerror(errno));
		buf_release(&line);
		return -1;
	}
	/* one write(2): O_APPEND keeps concurrent lines whole */
	do
		n = write(fd, line.data, line.len);
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t)line.len) {
		buf_printf(why, "%s: short write: %s", path,
		    n < 0 ? strerror(errno) : "disk full?");
		rc = -1;
	}
	close(fd);
	buf_release(&line);
	return rc;
}

/* ------------------------------------------------------------------ */
/* reading and grouping                                                */
/* ------------------------------------------------------------------ */

struct row {
	json_object *sample;	/* first line of the group */
	size_t	 count;
};

struct dom {
	char	*name;
	json_object *latest;	/* for policy_published */
	long long latest_t;
	struct strmap *rows;	/* key -> struct row * */
	struct row **order;
	size_t	 nrows;
	size_t	 messages;
	struct strmap *errors;	/* text -> (void *)1 */
};

static const char *
jstr(json_object *o, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return "";
	return json_object_get_string(v);
}

static long long
jint(json_object *o, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_int))
		return -1;
	return (long long)json_object_get_int64(v);
}

/* row_key - everything that makes two messages one report row */
static void
row_key(json_object *o, struct buf *k)
{
	static const char *const keys[] = {
		"ip", "disp", "dkim_al", "spf_al", "reason", "comment",
		"hfrom", "efrom", "eto"
	};
	json_object *v;
	size_t i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		buf_printf(k, "%s\x1f", jstr(o, keys[i]));
	if (json_object_object_get_ex(o, "spf", &v))
		buf_printf(k, "%s\x1f", json_object_to_json_string(v));
	if (json_object_object_get_ex(o, "dkim", &v))
		buf_printf(k, "%s\x1f", json_object_to_json_string(v));
}

static void
dom_free(void *p)
{
	struct dom *d = p;
	size_t i;

	for (i = 0; i < d->nrows; i++) {
		json_object_put(d->order[i]->sample);
		free(d->order[i]);
	}
	free(d->order);
	strmap_free(d->rows, NULL);
	strmap_free(d->errors, NULL);
	json_object_put(d->latest);
	free(d->name);
	free(d);
}

static bool
valid_line(json_object *o)
{
	const char *kind = jstr(o, "kind"), *res = jstr(o, "result");
	char d[DOMAIN_MAX + 1];
	const char *pd = jstr(o, "pdom");

	if (strcmp(kind, "eval") != 0 || jint(o, "t") < 0)
		return false;
	if (strcmp(res, "pass") != 0 && strcmp(res, "fail") != 0)
		return false;
	return domain_to_alabel(pd, strlen(pd), d, sizeof(d)) == 0 &&
	    strcmp(d, pd) == 0;
}

static void
add_line(struct strmap *doms, json_object *o)
{
	const char *pd = jstr(o, "pdom");
	struct dom *d = strmap_get(doms, pd);
	struct buf k = BUF_INIT;
	struct row *r;
	json_object *errs;
	size_t i;

	if (d == NULL) {
		d = xcalloc(1, sizeof(*d));
		d->name = xstrdup(pd);
		d->rows = strmap_new();
		d->errors = strmap_new();
		d->latest_t = -1;
		strmap_put(doms, pd, d);
	}
	if (jint(o, "t") >= d->latest_t) {
		json_object_put(d->latest);
		d->latest = json_object_get(o);
		d->latest_t = jint(o, "t");
	}
	if (json_object_object_get_ex(o, "err", &errs) &&
	    json_object_is_type(errs, json_type_array))
		for (i = 0; i < json_object_array_length(errs) && i < 8; i++) {
			json_object *e = json_object_array_get_idx(errs, i);

			if (json_object_is_type(e, json_type_string))
				strmap_put(d->errors, json_object_get_string(e),
				    (void *)1);
		}
	row_key(o, &k);
	if ((r = strmap_get(d->rows, buf_cstr(&k))) == NULL) {
		r = xcalloc(1, sizeof(*r));
		r->sample = json_object_get(o);
		strmap_put(d->rows, buf_cstr(&k), r);
		d->order = xreallocarray(d->order, d->nrows + 1,
		    sizeof(*d->order));
		d->order[d->nrows++] = r;
	}
	r->count++;
	d->messages++;
	buf_release(&k);
}

static void
read_store_file(const char *path, const struct dmarc_report_opts *ro,
    struct strmap *doms, struct dmarc_report_set *set)
{
	FILE *f = fopen(path, "re");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	if (f == NULL)
		return;		/* no mail that day */
	while ((n = getline(&line, &cap, f)) > 0) {
		json_object *o;
		long long t;

		set->lines_read++;
		if (n > STORE_MAX_LINE || line[n - 1] != '\n') {
			set->lines_bad++;	/* cut by a crash, or huge */
			continue;
		}
		if ((o = json_tokener_parse(line)) == NULL) {
			set->lines_bad++;
			continue;
		}
		if (!json_object_is_type(o, json_type_object) ||
		    !valid_line(o)) {
			set->lines_bad++;
			json_object_put(o);
			continue;
		}
		t = jint(o, "t");
		if (t >= ro->begin && t < ro->end &&
		    (ro->only_domain == NULL ||
		    str_ieq(ro->only_domain, jstr(o, "pdom"))))
			add_line(doms, o);
		json_object_put(o);
	}
	free(line);
	fclose(f);
}

/* ------------------------------------------------------------------ */
/* XML                                                                 */
/* ------------------------------------------------------------------ */

/*
 * xml_char_ok - may code point c stand in XML 1.0 character data as is?
 * Not the C0 and C1 controls and DEL (legal but invisible, or illegal),
 * not U+FFFE/U+FFFF of any plane (XML 1.0 section 2.2 or non-characters).
 */
static bool
xml_char_ok(uint32_t c)
{
	if (c < 0x20 || (c >= 0x7f && c <= 0x9f))
		return false;
	return (c & 0xFFFE) != 0xFFFE;
}

/*
 * xml_text - s escaped for XML 1.0 character data, always valid UTF-8:
 * an ill-formed sequence (stray or truncated, overlong, surrogate,
 * beyond U+10FFFF) and a character XML cannot hold become U+FFFD, tab,
 * CR and LF a space; store lines are data from the network and the
 * report's reader parses it strictly
 */
static void
xml_text(struct buf *b, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s);
	uint32_t c;
	int len;

	while (n > 0) {
		if ((len = utf8_next(p, n, &c)) < 0) {
			c = 0;		/* ill-formed: U+FFFD below */
			len = -len;
		}
		p += len;
		n -= (size_t)len;
		switch (c) {
		case '&': buf_adds(b, "&amp;"); break;
		case '<': buf_adds(b, "&lt;"); break;
		case '>': buf_adds(b, "&gt;"); break;
		case '"': buf_adds(b, "&quot;"); break;
		case '\'': buf_adds(b, "&apos;"); break;
		case '\t': case '\n': case '\r': buf_addc(b, ' '); break;
		default:
			if (xml_char_ok(c))
				buf_add(b, (const char *)p - len, (size_t)len);
			else
				buf_adds(b, "\xEF\xBF\xBD");	/* U+FFFD */
		}
	}
}

static void
xml_elem(struct buf *b, const char *indent, const char *name, const char *v)
{
	buf_printf(b, "%s<%s>", indent, name);
	xml_text(b, v);
	buf_printf(b, "</%s>\n", name);
}

static bool
one_of(const char *v, const char *const *set)
{
	for (; *set; set++)
		if (strcmp(v, *set) == 0)
			return true;
	return false;
}

static const char *const policies[] = { "none", "quarantine", "reject", NULL };
static const char *const dispositions[] = {
	"none", "pass", "quarantine", "reject", NULL
};
static const char *const passfail[] = { "pass", "fail", NULL };
static const char *const overrides[] = {
	"local_policy", "mailing_list", "other", "policy_test_mode",
	"trusted_forwarder", NULL
};
static const char *const authres[] = {
	"none", "pass", "fail", "softfail", "policy", "neutral", "temperror",
	"permerror", NULL
};

static const char *
pick(const char *v, const char *const *set, const char *def)
{
	return one_of(v, set) ? v : def;
}

static void
collect_error(const char *key, void *value, void *arg)
{
	struct buf *b = arg;

	(void)value;
	if (b->len)
		buf_adds(b, "; ");
	buf_adds(b, key);
}

static void
write_record(struct buf *b, const struct row *r)
{
	json_object *o = r->sample, *v;
	size_t i;

	buf_adds(b, "  <record>\n    <row>\n");
	xml_elem(b, "      ", "source_ip", jstr(o, "ip"));
	buf_printf(b, "      <count>%zu</count>\n", r->count);
	buf_adds(b, "      <policy_evaluated>\n");
	xml_elem(b, "        ", "disposition",
	    pick(jstr(o, "disp"), dispositions, "none"));
	xml_elem(b, "        ", "dkim", pick(jstr(o, "dkim_al"), passfail,
	    "fail"));
	xml_elem(b, "        ", "spf", pick(jstr(o, "spf_al"), passfail,
	    "fail"));
	if (one_of(jstr(o, "reason"), overrides)) {
		buf_adds(b, "        <reason>\n");
		xml_elem(b, "          ", "type", jstr(o, "reason"));
		if (*jstr(o, "comment"))
			xml_elem(b, "          ", "comment", jstr(o, "comment"));
		buf_adds(b, "        </reason>\n");
	}
	buf_adds(b, "      </policy_evaluated>\n    </row>\n");
	buf_adds(b, "    <identifiers>\n");
	xml_elem(b, "      ", "header_from", jstr(o, "hfrom"));
	xml_elem(b, "      ", "envelope_from", jstr(o, "efrom"));
	if (*jstr(o, "eto"))
		xml_elem(b, "      ", "envelope_to", jstr(o, "eto"));
	buf_adds(b, "    </identifiers>\n    <auth_results>\n");
	if (json_object_object_get_ex(o, "dkim", &v) &&
	    json_object_is_type(v, json_type_array))
		for (i = 0; i < json_object_array_length(v) && i < 100; i++) {
			json_object *s = json_object_array_get_idx(v, i);

			if (!json_object_is_type(s, json_type_object))
				continue;
			buf_adds(b, "      <dkim>\n");
			xml_elem(b, "        ", "domain", jstr(s, "d"));
			xml_elem(b, "        ", "selector", jstr(s, "s"));
			xml_elem(b, "        ", "result", pick(jstr(s, "r"),
			    authres, "none"));
			buf_adds(b, "      </dkim>\n");
		}
	if (json_object_object_get_ex(o, "spf", &v) &&
	    json_object_is_type(v, json_type_object)) {
		buf_adds(b, "      <spf>\n");
		xml_elem(b, "        ", "domain", jstr(v, "d"));
		xml_elem(b, "        ", "scope", "mfrom");
		xml_elem(b, "        ", "result", pick(jstr(v, "r"), authres,
		    "none"));
		buf_adds(b, "      </spf>\n");
	}
	buf_adds(b, "    </auth_results>\n  </record>\n");
}

static void
write_xml(struct buf *b, const struct dom *d,
    const struct dmarc_report_opts *ro, const char *report_id)
{
	json_object *p = d->latest;
	struct buf errs = BUF_INIT;
	size_t i;

	buf_adds(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<feedback xmlns=\"urn:ietf:params:xml:ns:dmarc-2.0\">\n"
	    "  <version>1.0</version>\n  <report_metadata>\n");
	xml_elem(b, "    ", "org_name", ro->org_name);
	xml_elem(b, "    ", "email", ro->email);
	xml_elem(b, "    ", "report_id", report_id);
	buf_printf(b, "    <date_range>\n      <begin>%lld</begin>\n"
	    "      <end>%lld</end>\n    </date_range>\n", ro->begin,
	    ro->end - 1);
	strmap_foreach(d->errors, collect_error, &errs);
	if (errs.len)
		xml_elem(b, "    ", "error", errs.data);
	xml_elem(b, "    ", "generator", PACKAGE_NAME " " PACKAGE_VERSION);
	buf_adds(b, "  </report_metadata>\n  <policy_published>\n");
	xml_elem(b, "    ", "domain", d->name);
	xml_elem(b, "    ", "discovery_method",
	    strcmp(jstr(p, "disc"), "psl") == 0 ? "psl" : "treewalk");
	xml_elem(b, "    ", "p", pick(jstr(p, "p"), policies, "none"));
	xml_elem(b, "    ", "sp", pick(jstr(p, "sp"), policies, "none"));
	xml_elem(b, "    ", "np", pick(jstr(p, "np"), policies, "none"));
	xml_elem(b, "    ", "fo", *jstr(p, "fo") ? jstr(p, "fo") : "0");
	xml_elem(b, "    ", "adkim", strcmp(jstr(p, "adkim"), "s") ? "r" : "s");
	xml_elem(b, "    ", "aspf", strcmp(jstr(p, "aspf"), "s") ? "r" : "s");
	xml_elem(b, "    ", "testing", strcmp(jstr(p, "testing"), "y") ? "n" :
	    "y");
	buf_adds(b, "  </policy_published>\n");
	for (i = 0; i < d->nrows; i++)
		if (*jstr(d->order[i]->sample, "ip"))
			write_record(b, d->order[i]);
	buf_adds(b, "</feedback>\n");
	buf_release(&errs);
}

static int
write_file(const char *path, const struct buf *b, bool gz, struct buf *why)
{
	char tmp[4200];
	int rc = 0;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if (gz) {
		gzFile g = gzopen(tmp, "wb9");

		if (g == NULL || gzwrite(g, b->data, (unsigned)b->len) !=
		    (int)b->len) {
			if (g)
				gzclose(g);
			rc = -1;
		} else if (gzclose(g) != Z_OK) {
			rc = -1;
		}
	} else {
		FILE *f = fopen(tmp, "we");

		if (f == NULL || fwrite(b->data, 1, b->len, f) != b->len) {
			if (f)
				fclose(f);
			rc = -1;
		} else if (fclose(f) != 0) {
			rc = -1;
		}
	}
	if (rc == 0 && rename(tmp, path) < 0)
		rc = -1;
	if (rc < 0) {
		buf_printf(why, "%s: %s", path, strerror(errno));
		(void)unlink(tmp);
	}
	return rc;
}

struct run_state {
	const struct dmarc_report_opts *ro;
	struct dmarc_report_set *set;
	struct buf *why;
	int	 rc;
	char	**names;
	size_t	 nnames;
};

static void
collect_name(const char *key, void *value, void *arg)
{
	struct run_state *st = arg;

	(void)value;
	st->names = xreallocarray(st->names, st->nnames + 1, sizeof(char *));
	st->names[st->nnames++] = xstrdup(key);
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
emit(struct run_state *st, const struct dom *d)
{
	const struct dmarc_report_opts *ro = st->ro;
	struct dmarc_report_file *f;
	struct buf xml = BUF_INIT, path = BUF_INIT, id = BUF_INIT;
	json_object *rua;
	size_t i, records = 0;

	if (!json_object_object_get_ex(d->latest, "rua", &rua) ||
	    !json_object_is_type(rua, json_type_array))
		rua = NULL;
	if (!ro->all && (rua == NULL || json_object_array_length(rua) == 0))
		return;		/* no report requested */
	for (i = 0; i < d->nrows; i++)
		if (*jstr(d->order[i]->sample, "ip"))
			records++;
	if (records == 0)
		return;		/* the schema needs a record */
	buf_printf(&id, "%lld.%s@%s", ro->begin, d->name, ro->receiver);
	write_xml(&xml, d, ro, id.data);
	buf_printf(&path, "%s/%s!%s!%lld!%lld.xml%s", ro->out_dir,
	    ro->receiver, d->name, ro->begin, ro->end - 1,
	    ro->gzip ? ".gz" : "");
	if (write_file(path.data, &xml, ro->gzip, st->why) < 0) {
		st->rc = -1;
		goto out;
	}
	st->set->v = xreallocarray(st->set->v, st->set->n + 1,
	    sizeof(*st->set->v));
	f = &st->set->v[st->set->n++];
	memset(f, 0, sizeof(*f));
	f->path = buf_steal(&path);
	f->policy_domain = xstrdup(d->name);
	f->report_id = buf_steal(&id);
	f->records = records;
	f->messages = d->messages;
	for (i = 0; rua && i < json_object_array_length(rua) && i < 8; i++) {
		json_object *u = json_object_array_get_idx(rua, i);

		if (!json_object_is_type(u, json_type_string))
			continue;
		f->rua = xreallocarray(f->rua, f->nrua + 1, sizeof(char *));
		f->rua[f->nrua++] = xstrdup(json_object_get_string(u));
	}
out:
	buf_release(&xml);
	buf_release(&path);
	buf_release(&id);
}

int
dmarc_report_run(const struct dmarc_report_opts *ro,
    struct dmarc_report_set *set, struct buf *why)
{
	struct strmap *doms = strmap_new();
	struct run_state st = { ro, set, why, 0, NULL, 0 };
	long long day;
	size_t i;

	memset(set, 0, sizeof(*set));
	if (ro->end <= ro->begin) {
		buf_adds(why, "empty reporting period");
		strmap_free(doms, dom_free);
		return -1;
	}
	/* every UTC day file that can hold lines of [begin, end) */
	for (day = ro->begin - ro->begin % 86400; day < ro->end;
	    day += 86400) {
		char path[4096];

		day_file(ro->store_dir, day, path, sizeof(path));
		read_store_file(path, ro, doms, set);
	}
	strmap_foreach(doms, collect_name, &st);
	if (st.nnames > 1)
		qsort(st.names, st.nnames, sizeof(char *), cmp_str);
	for (i = 0; i < st.nnames; i++) {
		if (st.rc == 0)
			emit(&st, strmap_get(doms, st.names[i]));
		free(st.names[i]);
	}
	free(st.names);
	strmap_free(doms, dom_free);
	return st.rc;
}

void
dmarc_report_set_release(struct dmarc_report_set *set)
{
	size_t i, j;

	for (i = 0; i < set->n; i++) {
		free(set->v[i].path);
		free(set->v[i].policy_domain);
		free(set->v[i].report_id);
		for (j = 0; j < set->v[i].nrua; j++)
			free(set->v[i].rua[j]);
		free(set->v[i].rua);
	}
	free(set->v);
	memset(set, 0, sizeof(*set));
}
