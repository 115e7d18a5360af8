/*
 * netaddr.c - address parsing and CIDR matching
 *
 * SECURITY
 *	Parses untrusted text (list files, MTA macros, DNS data); uses
 *	inet_pton() on a bounded copy only.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "netaddr.h"
#include "str.h"

static const uint8_t v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

/* normalise - turn ::ffff:a.b.c.d into AF_INET */
static void
normalise(struct netaddr *na)
{
	if (na->family == AF_INET6 && memcmp(na->a, v4mapped, 12) == 0) {
		memmove(na->a, na->a + 12, 4);
		memset(na->a + 4, 0, 12);
		na->family = AF_INET;
	}
}

int
netaddr_parse(const char *s, struct netaddr *na)
{
	char tmp[64];
	size_t n = strlen(s);

	memset(na, 0, sizeof(*na));
	if (n >= 2 && s[0] == '[' && s[n - 1] == ']') {
		s++;
		n -= 2;
	}
	if (n == 0 || n >= sizeof(tmp))
		return -1;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	if (str_has_iprefix(tmp, "ipv6:"))
		memmove(tmp, tmp + 5, n - 4);
	if (inet_pton(AF_INET, tmp, na->a) == 1) {
		na->family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, tmp, na->a) == 1) {
		na->family = AF_INET6;
		normalise(na);
		return 0;
	}
	return -1;
}

int
netaddr_from_sockaddr(const struct sockaddr *sa, struct netaddr *na)
{
	memset(na, 0, sizeof(*na));
	if (sa == NULL)
		return -1;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const void *)sa;

		na->family = AF_INET;
		memcpy(na->a, &sin->sin_addr, 4);
		return 0;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const void *)sa;

		na->family = AF_INET6;
		memcpy(na->a, &sin6->sin6_addr, 16);
		normalise(na);
		return 0;
	}
	return -1;
}

void
netaddr_format(const struct netaddr *na, char *out, size_t len)
{
	if (na->family == 0 || inet_ntop(na->family, na->a, out,
	    (socklen_t)len) == NULL) {
		if (len > 0)
			out[0] = '\0';
	}
}

bool
netaddr_eq(const struct netaddr *a, const struct netaddr *b)
{
	return a->family == b->family &&
	    memcmp(a->a, b->a, a->family == AF_INET ? 4 : 16) == 0;
}

bool
netaddr_prefix_eq(const struct netaddr *a, const struct netaddr *b,
    unsigned bits)
{
	unsigned full = bits / 8, rest = bits % 8;

	if (a->family != b->family)
		return false;
	if (memcmp(a->a, b->a, full) != 0)
		return false;
	if (rest) {
		uint8_t mask = (uint8_t)(0xff << (8 - rest));

		if ((a->a[full] & mask) != (b->a[full] & mask))
			return false;
	}
	return true;
}

int
cidr_parse(const char *s, struct cidr *c)
{
	char tmp[80];
	char *slash;
	uint64_t bits;
	unsigned max;
	size_t n = strlen(s);
	int mapped_v6 = 0;

	if (n == 0 || n >= sizeof(tmp))
		return -1;
	memcpy(tmp, s, n + 1);
	slash = strrchr(tmp, '/');
	if (slash)
		*slash++ = '\0';
	if (netaddr_parse(tmp, &c->addr) < 0)
		return -1;
	/* ::ffff:a.b.c.d/120 was normalised to v4: scale the prefix */
	if (c->addr.family == AF_INET && strchr(tmp, ':') != NULL)
		mapped_v6 = 1;
	max = c->addr.family == AF_INET ? 32 : 128;
	if (slash == NULL) {
		c->bits = max;
		return 0;
	}
	if (parse_uint(slash, 0, mapped_v6 ? 128 : max, &bits) < 0)
		return -1;
	if (mapped_v6) {
		if (bits < 96)
			return -1;
		bits -= 96;
	}
	c->bits = (unsigned)bits;
	return 0;
}

bool
cidr_match(const struct cidr *c, const struct netaddr *na)
{
	return netaddr_prefix_eq(&c->addr, na, c->bits);
}

/*
 * netaddr_is_public - not loopback, RFC 1918, link-local, CGN, ULA,
 * multicast or unspecified: an address somewhere on the Internet
 */
bool
netaddr_is_public(const struct netaddr *a)
{
	static const char *const private[] = {
		"0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8",
		"169.254.0.0/16", "172.16.0.0/12", "192.168.0.0/16",
		"224.0.0.0/3", "::/127", "fe80::/10", "fc00::/7", "ff00::/8",
	};
	struct cidr c;
	size_t i;

	if (a->family != AF_INET && a->family != AF_INET6)
		return false;
	for (i = 0; i < sizeof(private) / sizeof(private[0]); i++)
		if (cidr_parse(private[i], &c) == 0 && cidr_match(&c, a))
			return false;
	return true;
}
