/*
 * relays.h - the relays a message came through, as SpamAssassin shows them
 *
 * DESCRIPTION
 *	SpamAssassin's rules read the path of a message from pseudo-headers
 *	it computes: X-Spam-Relays-Untrusted and -External list the relays
 *	outside the site, most recent first, each as
 *
 *	    [ ip=IP rdns=NAME helo=NAME by=NAME ident= envfrom=ADDR intl=0
 *	      id=ID auth=PROTO msa=0 ]
 *
 *	(on one line, entries separated by one space).  About a hundred of
 *	its stock rules look at the first entry: no reverse DNS, a dynamic
 *	looking name or HELO, HELO localhost, and so on.
 *
 *	relays_untrusted() builds that list for a message whose SMTP client
 *	is not trusted (the rules step runs only for those).  The first
 *	entry is the client as the MTA saw it: address, verified name
 *	("unknown" or a bracketed address is no name), HELO, the MTA's own
 *	name ({j}), envelope sender, queue id, auth=ESMTPA when the client
 *	authenticated.  Then come the hops the Received fields name, top
 *	down, skipping the top field when it is the MTA's own record of
 *	this client.  Without a client address (a stored message given to
 *	`scan` or `rules test` without --ip) the list starts at the first
 *	Received hop from a public address, the hops from private ones
 *	before it being taken as the site's own.  relay_parse_received() reads one field: the forms
 *	Postfix, Sendmail, Exim, Microsoft and Google write, "from HELO
 *	(NAME [IP])", "from NAME ([IP] helo=HELO)", "from HELO (IP)";
 *	a field that names no address is not a relay and is left out.
 *
 * SECURITY
 *	Received fields are written by whoever sent the message: every
 *	value is cut to a fixed size and stripped of white space and
 *	brackets, so a field cannot add or end an entry; at most
 *	RELAYS_MAX entries are built and each field is read up to
 *	RELAY_FIELD_MAX bytes, in linear time.
 *
 * STANDARDS
 *	RFC 5321 4.4 (trace fields), RFC 3848 (ESMTPA and friends);
 *	SpamAssassin's Mail::SpamAssassin::Conf (the entry format).
 */
#ifndef MW_RELAYS_H
#define MW_RELAYS_H

#include <stdbool.h>
#include <stddef.h>

struct buf;
struct msg;
struct mime_msg;

#define RELAYS_MAX	20
#define RELAY_FIELD_MAX	4096

struct relay {
	char	 ip[48];
	char	 rdns[256];
	char	 ident[64];
	char	 helo[256];
	char	 by[256];
	char	 envfrom[256];
	char	 id[128];
	char	 auth[32];
	bool	 looked_up;	/* the recorder looked up reverse DNS: an
				   empty rdns means there is none */
};

/* relay_parse_received - one Received value; false if it names no address */
bool	 relay_parse_received(const char *value, struct relay *);
/* relay_format - append the entry "[ ip=... msa=0 ]" */
void	 relay_format(const struct relay *, struct buf *out);
/*
 * relays_list - the untrusted relays into out[0..max), most recent
 * first (the entries of relays_untrusted()); returns how many
 */
size_t	 relays_list(const struct msg *, const struct mime_msg *,
	    struct relay *out, size_t max);
/* what relays_list_counted() passed over */
struct relays_count {
	size_t	 trusted;	/* private hops before the first public one
				   (stored messages only) */
	size_t	 unparsed;	/* Received fields naming no relay */
};

size_t	 relays_list_counted(const struct msg *, const struct mime_msg *,
	    struct relay *out, size_t max, struct relays_count *);
/* relay_ip_private - not a public address (or not an address) */
bool	 relay_ip_private(const char *ip);
/* relays_untrusted - the whole list (may be empty); mm may be NULL */
void	 relays_untrusted(const struct msg *, const struct mime_msg *,
	    struct buf *out);

#endif
