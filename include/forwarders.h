/*
 * forwarders.h - the trusted forwarders and ARC sealers, parsed once
 *
 * DESCRIPTION
 *	forwarders_new() converts dmarc_trusted_forwarders (addresses,
 *	networks, host names) and arc_trusted_sealers (domains) when the
 *	engine loads, so that dmarc_forwarder.c only compares per message.
 *	An entry that is both (an IPv4 address is also a valid host name)
 *	is kept as both, as the per-message parsing did.  Entries that do
 *	not parse are skipped (conf.c has already refused them).  Every
 *	entry's text is borrowed from the configuration, which outlives
 *	the engine's forwarders.  Pure: no I/O.
 */
#ifndef MW_FORWARDERS_H
#define MW_FORWARDERS_H

#include <stdbool.h>
#include <stddef.h>

#include "netaddr.h"

struct conf;

struct forwarders {
	struct fwd_net {
		struct cidr net;
		const char *text;	/* the entry as configured */
	} *nets;
	size_t	 nnets;
	struct fwd_name {
		char	*alabel;	/* normalised (domain_to_alabel) */
		const char *text;
	} *names, *sealers;
	size_t	 nnames, nsealers;
};

struct forwarders *forwarders_new(const struct conf *);
void	 forwarders_free(struct forwarders *);
/* forwarders_net - the first listed network holding a, or NULL */
const char *forwarders_net(const struct forwarders *, const struct netaddr *);
/*
 * forwarders_name - the first listed host name that host (not an
 * address literal) equals or is below, or NULL
 */
const char *forwarders_name(const struct forwarders *, const char *host);
/* forwarders_sealer - d (A-label) is a listed sealer or below one */
bool	 forwarders_sealer(const struct forwarders *, const char *d);

#define FWD_WIDEST_V4	8	/* forwarder networks wider warn */
#define FWD_WIDEST_V6	16

/*
 * forwarders_lint - `config -n` warnings ("FILE:LINE: warning: KEY:
 * ENTRY: ...") into out for entries that trust far too much: a sealer
 * or forwarder host name that is a public suffix (by psl when given,
 * else a top-level domain), a forwarder network wider than
 * /FWD_WIDEST_V4 or /FWD_WIDEST_V6.  Returns how many.
 */
struct psl;
struct buf;
size_t	 forwarders_lint(const struct conf *, const struct forwarders *,
	    const struct psl *, struct buf *out);

#endif
