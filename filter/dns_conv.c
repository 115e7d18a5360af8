/*
 * dns_conv.c - ldns records into struct dns_rr; names to and from wire
 *
 * DESCRIPTION
 *	dns_rr_convert() is the one place where record data becomes C
 *	values: addresses, names in raw text form, TXT character-strings
 *	joined without separator (RFC 7208 3.3, RFC 6376 3.6.2.2).
 *
 * SECURITY
 *	Record data comes from the network (or from a zone file written by
 *	someone else).  Every read is checked against the rdf's size; a
 *	record of the wrong shape is reported, never guessed at.
 */
#include "config.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "buf.h"
#include "dns_int.h"
#include "str.h"

int
dns_dname_text(const ldns_rdf *rdf, char *out, size_t outsz)
{
	const uint8_t *d;
	size_t size, i = 0, o = 0, j, len;

	if (rdf == NULL || ldns_rdf_get_type(rdf) != LDNS_RDF_TYPE_DNAME ||
	    outsz == 0)
		return -1;
	d = ldns_rdf_data(rdf);
	size = ldns_rdf_size(rdf);
	if (size == 0 || size > LDNS_MAX_DOMAINLEN)
		return -1;
	for (;;) {
		if (i >= size)
			return -1;
		len = d[i++];
		if (len == 0)
			break;
		if (len > 63 || i + len > size)
			return -1;
		if (o > 0) {
			if (o + 1 >= outsz)
				return -1;
			out[o++] = '.';
		}
		for (j = 0; j < len; j++) {
			unsigned char c = d[i + j];

			if (c >= 0x20 && c <= 0x7e && c != '.') {
				if (o + 1 >= outsz)
					return -1;
				out[o++] = (char)ch_lower(c);
			} else {
				if (o + 4 >= outsz)
					return -1;
				out[o++] = '\\';
				out[o++] = (char)('0' + c / 100);
				out[o++] = (char)('0' + c / 10 % 10);
				out[o++] = (char)('0' + c % 10);
			}
		}
		i += len;
	}
	if (i != size)
		return -1;
	out[o] = '\0';
	return 0;
}

ldns_rdf *
dns_name_rdf(const char *name)
{
	uint8_t wire[LDNS_MAX_DOMAINLEN + 1];
	size_t n = strlen(name), o = 0, start = 0, i;

	if (n > 0 && name[n - 1] == '.')
		n--;
	if (n > DNS_MAX_NAME)
		return NULL;
	for (i = 0; i <= n; i++) {
		if (i < n && name[i] != '.')
			continue;
		if (i == start || i - start > 63)
			return NULL;
		wire[o++] = (uint8_t)(i - start);
		memcpy(wire + o, name + start, i - start);
		o += i - start;
		start = i + 1;
	}
	if (n == 0)
		o = 0;
	wire[o++] = 0;
	return ldns_rdf_new_frm_data(LDNS_RDF_TYPE_DNAME, o, wire);
}

/* rr_name - the name in rdf nr of rr, into a fresh string */
static int
rr_name(const ldns_rr *rr, size_t nr, char **out)
{
	char text[LDNS_MAX_DOMAINLEN * 4 + 1];

	if (ldns_rr_rd_count(rr) <= nr ||
	    dns_dname_text(ldns_rr_rdf(rr, nr), text, sizeof(text)) < 0)
		return -1;
	*out = xstrdup(text);
	return 0;
}

/* convert_txt - join the character-strings of a TXT record */
static int
convert_txt(const ldns_rr *rr, struct dns_rr *out)
{
	struct buf t = BUF_INIT;
	size_t i, n = ldns_rr_rd_count(rr);

	for (i = 0; i < n; i++) {
		const ldns_rdf *f = ldns_rr_rdf(rr, i);
		const uint8_t *d = ldns_rdf_data(f);
		size_t size = ldns_rdf_size(f);

		if (ldns_rdf_get_type(f) != LDNS_RDF_TYPE_STR || size == 0 ||
		    (size_t)d[0] + 1 != size) {
			buf_release(&t);
			return -1;
		}
		buf_add(&t, d + 1, d[0]);
	}
	out->txt_len = t.len;
	out->txt_nstrings = n;
	if (t.data == NULL)
		buf_add(&t, "", 0);
	out->txt = buf_steal(&t);
	return 0;
}

/* convert_addr - A or AAAA rdata into a netaddr */
static int
convert_addr(const ldns_rr *rr, int family, struct dns_rr *out)
{
	const ldns_rdf *f;
	size_t want = family == AF_INET ? 4 : 16;

	if (ldns_rr_rd_count(rr) != 1)
		return -1;
	f = ldns_rr_rdf(rr, 0);
	if (ldns_rdf_size(f) != want)
		return -1;
	/* no normalising here: an AAAA of ::ffff:a.b.c.d stays IPv6 */
	out->addr.family = family;
	memcpy(out->addr.a, ldns_rdf_data(f), want);
	return 0;
}

int
dns_rr_convert(const ldns_rr *rr, struct dns_answer *a)
{
	uint16_t type = (uint16_t)ldns_rr_get_type(rr);
	struct dns_rr *out;
	const ldns_rdf *f;
	int rc;

	if (dns_type_name(type) == NULL)
		return 0;
	out = dns_answer_add(a, type);
	out->ttl = ldns_rr_ttl(rr);
	switch (type) {
	case DNS_T_A:
		rc = convert_addr(rr, AF_INET, out);
		break;
	case DNS_T_AAAA:
		rc = convert_addr(rr, AF_INET6, out);
		break;
	case DNS_T_NS:
	case DNS_T_CNAME:
	case DNS_T_PTR:
		rc = ldns_rr_rd_count(rr) == 1 ? rr_name(rr, 0, &out->name) : -1;
		break;
	case DNS_T_MX:
		rc = -1;
		if (ldns_rr_rd_count(rr) != 2)
			break;
		f = ldns_rr_rdf(rr, 0);
		if (ldns_rdf_size(f) != 2)
			break;
		out->pref = (uint16_t)(ldns_rdf_data(f)[0] << 8 |
		    ldns_rdf_data(f)[1]);
		rc = rr_name(rr, 1, &out->name);
		break;
	case DNS_T_TXT:
		rc = convert_txt(rr, out);
		break;
	default:
		rc = -1;
	}
	if (rc < 0) {
		free(out->name);
		free(out->txt);
		a->n--;
	}
	return rc;
}

long
dns_soa_negative_ttl(const ldns_rr *rr)
{
	const ldns_rdf *f;
	const uint8_t *d;
	uint32_t min;

	if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_SOA ||
	    ldns_rr_rd_count(rr) != 7)
		return -1;
	f = ldns_rr_rdf(rr, 6);
	if (ldns_rdf_size(f) != 4)
		return -1;
	d = ldns_rdf_data(f);
	min = (uint32_t)d[0] << 24 | (uint32_t)d[1] << 16 |
	    (uint32_t)d[2] << 8 | d[3];
	return min < ldns_rr_ttl(rr) ? (long)min : (long)ldns_rr_ttl(rr);
}
