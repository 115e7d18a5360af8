/*
 * fuzz_mailto.c - report URIs from DMARC records and the destination check
 *
 * The input is "POLICY-DOMAIN\nURI" (no newline: the whole input is the
 * URI for example.com).  The URI goes through dmarc_mailto() and
 * dmarc_report_destination() over a fixed fake zone (one authorized
 * outside host, one whose authorization times out).  Checked, whatever
 * the bytes:
 *  - an accepted address is canonical (smtpaddr_canonical), at most 254
 *    octets, 64 of local part, printable ASCII without any character an
 *    MTA reads as structure (white space, ( ) < > , ; : \ [ ] % !), "@"
 *    once, outside quotes; quotes only around the whole local part;
 *  - "mailto:" + that address parses to itself (the address mailed is
 *    the address checked);
 *  - the destination check agrees with dmarc_mailto() on the address,
 *    and says OK only for a domain inside the policy domain or one that
 *    dmarc_verify_external() authorizes.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "dmarc.h"
#include "fakedns.h"
#include "smtpaddr.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const struct dmarc_opts opts = { DMARC_ORG_TREEWALK, NULL, 24 };

static struct fakedns *f;

/* resolver - over the fixed zone; its query log restarts every input */
static struct dns_resolver *
resolver(void)
{
	static struct dns_resolver *r;

	if (r == NULL) {
		f = fakedns_new();
		fakedns_txt(f, "_dmarc.example.com", "v=DMARC1; p=none");
		fakedns_txt(f, "example.com._report._dmarc.reports.example.net",
		    "v=DMARC1");
		fakedns_status(f, "example.com._report._dmarc.t.example",
		    DNS_T_TXT, DNS_TIMEOUT);
		r = fakedns_resolver(f);
	}
	fakedns_reset_log(f);
	return r;
}

/* check_address - the invariants of an accepted address */
static void
check_address(const char *a)
{
	const char *at = strchr(a, '@');
	size_t n = strlen(a), i;

	if (n > SMTPADDR_MAX || at == NULL || strchr(at + 1, '@') != NULL ||
	    at - a > SMTPADDR_LOCAL_MAX || at == a)
		abort();
	for (i = 0; i < n; i++)
		if (a[i] <= ' ' || a[i] >= 0x7f ||
		    strchr("()<>,;:\\[]%!", a[i]) != NULL)
			abort();
	for (i = 0; a + i < at; i++)
		if (a[i] == '"' && i != 0 && a + i + 1 != at)
			abort();	/* a quote inside the local part */
	if ((a[0] == '"') != (at[-1] == '"') || (a[0] == '"' && at - a < 3))
		abort();
	if (!smtpaddr_canonical(a, SMTPADDR_FQDN))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *nl = memchr(p, '\n', size);
	char pd[DOMAIN_MAX + 1], addr[SMTPADDR_MAX + 1],
	    addr2[SMTPADDR_MAX + 1], again[SMTPADDR_MAX + 1];
	struct buf uri = BUF_INIT, back = BUF_INIT;
	enum dmarc_dest d;
	int rc;

	strcpy(pd, "example.com");
	if (nl != NULL && domain_to_alabel(p, (size_t)(nl - p), pd,
	    sizeof(pd)) < 0)
		strcpy(pd, "example.com");
	if (nl != NULL)
		buf_add(&uri, nl + 1, size - (size_t)(nl + 1 - p));
	else
		buf_add(&uri, p, size);
	if (memchr(uri.data ? uri.data : "", '\0', uri.len) != NULL)
		goto out;	/* URIs are C strings: a NUL ends one */

	rc = dmarc_mailto(buf_cstr(&uri), addr, sizeof(addr));
	d = dmarc_report_destination(resolver(), NULL, &opts, pd,
	    buf_cstr(&uri), addr2, sizeof(addr2));
	if ((rc < 0) != (d == DMARC_DEST_BAD))
		abort();
	if (rc < 0)
		goto out;
	check_address(addr);
	if (strcmp(addr, addr2) != 0)
		abort();
	buf_printf(&back, "mailto:%s", addr);
	if (dmarc_mailto(back.data, again, sizeof(again)) < 0 ||
	    strcmp(again, addr) != 0)
		abort();
	if (d == DMARC_DEST_OK) {
		const char *host = strrchr(addr, '@') + 1;

		if (!domain_is_subdomain(host, pd) &&
		    dmarc_verify_external(resolver(), NULL, &opts, pd,
		    host) != 1)
			abort();
	}
out:
	buf_release(&uri);
	buf_release(&back);
	return 0;
}
