/*
 * fuzz_keys.h - the key resolver of the DKIM and ARC fuzz targets
 *
 * A dns_backend that answers every TXT name by its first letter: 'e' an
 * Ed25519 key, 'r' an RSA key, 't' a timeout, 'n' NXDOMAIN, anything
 * else a garbage record.  fuzz_keys_resolver() makes it once.
 */
#ifndef MW_FUZZ_KEYS_H
#define MW_FUZZ_KEYS_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dns.h"

static const char ed_key[] = "v=DKIM1; k=ed25519; "
    "p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=";
static const char rsa_key[] = "v=DKIM1; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4"
    "GNADCBiQKBgQDkHlOQoBTzWRiGs5V6NpP3idY6Wk08a5qhdR6wy5bdOKb2jLQiY/J16JY"
    "i0Qvx/byYzCNb3W91y3FutACDfzwQ/BC/e/8uBsCR+yz1Lxj+PL6lHvqMKrM3rG4hstT5"
    "QjvHO9PzoxZyVYLzBfO2EeC3Ip3G+2kryOTIKT+l/K4w3QIDAQAB";

static void
query(void *impl, const char *name, uint16_t type, double t,
    struct dns_answer *out)
{
	const char *txt = name[0] == 'e' ? ed_key : name[0] == 'r' ? rsa_key :
	    "v=DKIM1; p=!!";

	(void)impl;
	(void)t;
	if (name[0] == 't' || name[0] == 'n' || type != DNS_T_TXT) {
		out->status = name[0] == 't' ? DNS_TIMEOUT : DNS_NXDOMAIN;
		return;
	}
	out->rrs = calloc(1, sizeof(*out->rrs));
	out->n = 1;
	out->rrs[0].type = DNS_T_TXT;
	out->rrs[0].txt = strdup(txt);
	out->rrs[0].txt_len = strlen(txt);
	out->rrs[0].txt_nstrings = 1;
	out->status = DNS_OK;
}

static const struct dns_backend backend = { "fuzz", query, NULL };

static struct dns_resolver *
fuzz_keys_resolver(void)
{
	static struct dns_resolver *dns;

	if (dns == NULL)
		dns = dns_resolver_new(&backend, NULL);
	return dns;
}

#endif
