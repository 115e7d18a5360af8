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
#include "smtpaddr.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/*
 * mailto_check - one URI as the sender takes it: a used address fits
 * its buffer, has a local part and a domain, and no byte that could
 * change how sendmail or a header field reads it
 */
static void
mailto_check(const char *uri)
{
	char addr[SMTPADDR_MAX + 1];
	const char *at;
	size_t i, al;

	if (dmarc_mailto(uri, addr, sizeof(addr)) < 0)
		return;
	al = strnlen(addr, sizeof(addr));
	at = strrchr(addr, '@');
	if (al == sizeof(addr) || at == NULL || at == addr || at[1] == '\0')
		abort();
	for (i = 0; i < al; i++)
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
