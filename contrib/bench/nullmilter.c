/*
 * nullmilter.c - a libmilter milter that checks nothing: the floor
 *
 * DESCRIPTION
 *	Negotiates what mailwarden negotiates (no replies for HELO, RCPT,
 *	headers, end of headers and body chunks when the MTA offers it),
 *	copies header fields and body into memory as a filter must, and at
 *	end of message adds one Authentication-Results field and accepts.
 *	run_bench.py measures it beside the real filters: what it costs per
 *	message is what libmilter and the milter protocol cost on this
 *	machine before any check runs.
 *
 * USAGE
 *	nullmilter -p unix:/path|inet:PORT@HOST
 */
#include "config.h"

#include <libmilter/mfapi.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"

#define NR_STEPS	(SMFIP_NR_HELO | SMFIP_NR_RCPT | SMFIP_NR_HDR | \
			 SMFIP_NR_EOH | SMFIP_NR_BODY)

struct priv {
	unsigned long nr;
	struct buf hdrs;
	struct buf body;
};

static sfsistat
go_on(SMFICTX *ctx, unsigned long step)
{
	struct priv *p = smfi_getpriv(ctx);

	return p && (p->nr & step) ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

static sfsistat
nm_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
    unsigned long f2, unsigned long f3, unsigned long *pf0,
    unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
	struct priv *p = xcalloc(1, sizeof(*p));

	(void)f2;
	(void)f3;
	*pf0 = f0 & SMFIF_ADDHDRS;
	*pf1 = f1 & (NR_STEPS | SMFIP_NODATA | SMFIP_NOUNKNOWN);
	*pf2 = *pf3 = 0;
	p->nr = *pf1 & NR_STEPS;
	smfi_setpriv(ctx, p);
	return SMFIS_CONTINUE;
}

static sfsistat
nm_helo(SMFICTX *ctx, char *helo)
{
	(void)helo;
	return go_on(ctx, SMFIP_NR_HELO);
}

static sfsistat
nm_rcpt(SMFICTX *ctx, char **argv)
{
	(void)argv;
	return go_on(ctx, SMFIP_NR_RCPT);
}

static sfsistat
nm_header(SMFICTX *ctx, char *name, char *value)
{
	struct priv *p = smfi_getpriv(ctx);

	if (p) {
		buf_adds(&p->hdrs, name);
		buf_adds(&p->hdrs, ": ");
		buf_adds(&p->hdrs, value);
		buf_adds(&p->hdrs, "\r\n");
	}
	return go_on(ctx, SMFIP_NR_HDR);
}

static sfsistat
nm_eoh(SMFICTX *ctx)
{
	return go_on(ctx, SMFIP_NR_EOH);
}

static sfsistat
nm_body(SMFICTX *ctx, unsigned char *b, size_t n)
{
	struct priv *p = smfi_getpriv(ctx);

	if (p)
		buf_add(&p->body, b, n);
	return go_on(ctx, SMFIP_NR_BODY);
}

static sfsistat
nm_eom(SMFICTX *ctx)
{
	struct priv *p = smfi_getpriv(ctx);

	smfi_insheader(ctx, 0, (char *)"Authentication-Results",
	    (char *)"nullmilter; none");
	if (p) {
		buf_reset(&p->hdrs);
		buf_reset(&p->body);
	}
	return SMFIS_ACCEPT;
}

static sfsistat
nm_close(SMFICTX *ctx)
{
	struct priv *p = smfi_getpriv(ctx);

	if (p) {
		buf_release(&p->hdrs);
		buf_release(&p->body);
		free(p);
		smfi_setpriv(ctx, NULL);
	}
	return SMFIS_CONTINUE;
}

int
main(int argc, char **argv)
{
	struct smfiDesc desc;
	const char *sock = NULL;
	int ch;

	while ((ch = getopt(argc, argv, "p:")) != -1) {
		if (ch == 'p')
			sock = optarg;
		else
			sock = NULL;
	}
	if (sock == NULL) {
		fprintf(stderr, "usage: nullmilter -p SOCKET\n");
		return 2;
	}
	memset(&desc, 0, sizeof(desc));
	desc.xxfi_name = (char *)"nullmilter";
	desc.xxfi_version = SMFI_VERSION;
	desc.xxfi_flags = SMFIF_ADDHDRS;
	desc.xxfi_helo = nm_helo;
	desc.xxfi_envrcpt = nm_rcpt;
	desc.xxfi_header = nm_header;
	desc.xxfi_eoh = nm_eoh;
	desc.xxfi_body = nm_body;
	desc.xxfi_eom = nm_eom;
	desc.xxfi_close = nm_close;
	desc.xxfi_negotiate = nm_negotiate;
	if (smfi_setconn((char *)sock) == MI_FAILURE ||
	    smfi_register(desc) == MI_FAILURE ||
	    smfi_opensocket(1) == MI_FAILURE) {
		fprintf(stderr, "nullmilter: cannot listen on %s\n", sock);
		return 1;
	}
	return smfi_main() == MI_SUCCESS ? 0 : 1;
}
