/*
 * smtpaddr.c - mailbox addresses we hand to an MTA (RFC 5321)
 *
 * DESCRIPTION
 *	See smtpaddr.h.  Pure functions over bytes with their length.
 */
#include "config.h"

#include <string.h>

#include "punycode.h"
#include "smtpaddr.h"
#include "str.h"

/* atext_safe - RFC 5322 atext without the routing characters % and ! */
static bool
atext_safe(unsigned char c)
{
	return ch_is_alnum(c) || (c != '\0' && strchr("#$&'*+-/=?^_`{|}~",
	    c) != NULL);
}

/* dot_string - RFC 5321 Dot-string of safe atext: a.b, never .a a. a..b */
static bool
dot_string(const char *p, size_t n)
{
	size_t i;

	if (n == 0 || p[0] == '.' || p[n - 1] == '.')
		return false;
	for (i = 0; i < n; i++) {
		if (p[i] == '.') {
			if (p[i - 1] == '.')
				return false;
		} else if (!atext_safe((unsigned char)p[i])) {
			return false;
		}
	}
	return true;
}

/*
 * quoted_round_trip - a Quoted-string an MTA would unquote and quote
 * back to the same text: content of safe atext and dots only (no
 * quoted-pair, no space), which is not a Dot-string by itself
 */
static bool
quoted_round_trip(const char *p, size_t n)
{
	size_t i;

	if (n < 3 || p[0] != '"' || p[n - 1] != '"')
		return false;
	for (i = 1; i < n - 1; i++)
		if (p[i] != '.' && !atext_safe((unsigned char)p[i]))
			return false;
	return !dot_string(p + 1, n - 2);
}

bool
smtpaddr_local_ok(const char *p, size_t n)
{
	if (n == 0 || n > SMTPADDR_LOCAL_MAX)
		return false;
	return p[0] == '"' ? quoted_round_trip(p, n) : dot_string(p, n);
}

int
smtpaddr_parse(const char *p, size_t n, unsigned flags, char *out,
    size_t outsz)
{
	char host[DOMAIN_MAX + 1];
	const char *at;
	size_t ln;

	if (n > SMTPADDR_MAX || (at = memrchr(p, '@', n)) == NULL)
		return -1;
	ln = (size_t)(at - p);
	if (!smtpaddr_local_ok(p, ln))
		return -1;
	if (domain_to_alabel(at + 1, n - ln - 1, host, sizeof(host)) < 0 ||
	    ((flags & SMTPADDR_FQDN) && domain_labels(host) < 2))
		return -1;
	if (ln + 1 + strlen(host) > SMTPADDR_MAX ||
	    ln + 1 + strlen(host) + 1 > outsz)
		return -1;
	memcpy(out, p, ln);
	out[ln] = '@';
	memcpy(out + ln + 1, host, strlen(host) + 1);
	return 0;
}

bool
smtpaddr_canonical(const char *s, unsigned flags)
{
	char buf[SMTPADDR_MAX + 1];
	size_t n = strlen(s);

	return smtpaddr_parse(s, n, flags, buf, sizeof(buf)) == 0 &&
	    strcmp(buf, s) == 0;
}
