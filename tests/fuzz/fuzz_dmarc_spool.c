/*
 * fuzz_dmarc_spool.c - the failure-report spool reader and what the
 * sender does with it
 *
 * DESCRIPTION
 *	The input is a spool file (a file DIR/failures/NAME.eml).
 *	fuzz_dmarc_failure covers writing one; this covers reading one back
 *	as `mailwarden dmarc failures` does: dmarc_failure_parse() (the
 *	bytes of dmarc_failure_read()), then every ruf URI, split at white
 *	space as the sender splits them, through dmarc_mailto() into the
 *	sender's 512-byte address buffer.  Checked:
 *	  - a file that parses is exactly our two lines and the text: the
 *	    three pieces put back together give the input again (so the
 *	    domain is the line's whole value, and a valid domain name);
 *	  - an address dmarc_mailto() accepts ends in "@" and its host and
 *	    fits its buffer; and it has no white space or control byte
 *	    once dmarc_mailto() refuses a probe local part with one (issue 14
 *	    item 11 restricts local parts to RFC 5321; until that is merged
 *	    the target says on stderr that it does not check this).
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "dmarc.h"
#include "dmarc_failure.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int strict_local = -1;

/* mailto_check - one URI as the sender takes it */
static void
mailto_check(const char *uri)
{
	char addr[512], host[DOMAIN_MAX + 1];
	size_t i, al, hl;

	if (dmarc_mailto(uri, addr, sizeof(addr), host, sizeof(host)) < 0)
		return;
	al = strnlen(addr, sizeof(addr));
	hl = strnlen(host, sizeof(host));
	if (al == sizeof(addr) || hl == sizeof(host) || hl == 0 ||
	    al < hl + 2 || addr[al - hl - 1] != '@' ||
	    strcmp(addr + al - hl, host) != 0)
		abort();
	for (i = 0; strict_local && i < al; i++)
		if ((unsigned char)addr[i] <= ' ' || addr[i] == 0x7f)
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char h1[] = "X-Mailwarden-Policy-Domain: ",
	    h2[] = "X-Mailwarden-Ruf:";
	struct buf rufs = BUF_INIT, text = BUF_INIT, back = BUF_INIT;
	char domain[DOMAIN_MAX + 1], uri[1024];
	const char *p;
	int k;

	if (strict_local < 0) {
		strict_local = dmarc_mailto("mailto:a\001b@example.org", uri,
		    sizeof(uri), domain, sizeof(domain)) < 0;
		if (!strict_local)
			fprintf(stderr, "fuzz_dmarc_spool: dmarc_mailto() "
			    "takes control bytes in a local part; not "
			    "checking them\n");
	}
	if (dmarc_failure_parse((const char *)data, size, domain,
	    sizeof(domain), &rufs, &text) < 0)
		goto out;
	if (strlen(domain) == 0 ||
	    memchr(buf_cstr(&rufs), '\n', rufs.len) != NULL)
		abort();
	buf_printf(&back, "%s%s\n%s", h1, domain, h2);
	buf_add(&back, buf_cstr(&rufs), rufs.len);	/* NUL bytes and all */
	buf_addc(&back, '\n');
	buf_add(&back, buf_cstr(&text), text.len);
	if (back.len != size || memcmp(back.data, data, size) != 0)
		abort();
	for (p = buf_cstr(&rufs); sscanf(p, " %1023s%n", uri, &k) == 1;
	    p += k)
		mailto_check(uri);
out:
	buf_release(&rufs);
	buf_release(&text);
	buf_release(&back);
	return 0;
}
