/*
 * netaddr.h - IPv4/IPv6 addresses and CIDR blocks
 *
 * DESCRIPTION
 *	IPv4 addresses are kept as AF_INET with 4 bytes; IPv4-mapped IPv6
 *	addresses (::ffff:a.b.c.d) are normalised to AF_INET on parse so
 *	that a list entry 192.0.2.0/24 matches a client that an MTA reports
 *	through an IPv6 socket.
 */
#ifndef MW_NETADDR_H
#define MW_NETADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sockaddr;

struct netaddr {
	int	family;		/* AF_INET, AF_INET6, or 0 = none */
	uint8_t	a[16];
};

struct cidr {
	struct netaddr addr;
	unsigned bits;
};

#define NETADDR_STRLEN	46

int	netaddr_parse(const char *, struct netaddr *);
int	netaddr_from_sockaddr(const struct sockaddr *, struct netaddr *);
void	netaddr_format(const struct netaddr *, char *, size_t);
bool	netaddr_eq(const struct netaddr *, const struct netaddr *);
/* netaddr_is_public - false for loopback, private, link-local, CGN, ULA */
bool	netaddr_is_public(const struct netaddr *);
/* cidr_parse - "addr", "addr/len", "[v6addr]/len" */
int	cidr_parse(const char *, struct cidr *);
bool	cidr_match(const struct cidr *, const struct netaddr *);
/* cidr_match_prefix - does a match b within the first bits bits? */
bool	netaddr_prefix_eq(const struct netaddr *, const struct netaddr *,
	    unsigned bits);

#endif
