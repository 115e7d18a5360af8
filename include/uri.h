/*
 * uri.h - find URIs in text, clean them, take them apart
 *
 * DESCRIPTION
 *	uri_extract() scans text for http://, https://, ftp://, mailto:
 *	and schemeless "www." URIs (the forms a mail reader turns into
 *	links), drops trailing punctuation that belongs to the sentence,
 *	and hands each one to a callback.  uri_clean() turns one candidate
 *	(text or an HTML attribute value) into the form rules and lists
 *	see: surrounding white space removed, scheme in lower case,
 *	"www.x" given "http://"; it refuses what is not a link to
 *	somewhere (javascript:, cid:, data:, relative references).
 *	uri_host() extracts the host: user info ("http://bank@evil/"),
 *	port and trailing dot removed, %-escapes decoded, lower case.
 *	uri_host_ipv4() tells whether such a host is an IPv4 address the
 *	way a browser reads it: besides 192.0.2.1 also the forms spam uses
 *	to hide one, 3221225985, 0xc0.0.2.1, 0300.0.02.01 or 192.0.513.
 *
 * LIMITS
 *	URI_MAX_LEN bytes per URI (longer ones are cut); linear time.
 */
#ifndef MW_URI_H
#define MW_URI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct buf;

#define URI_MAX_LEN	2048

typedef void uri_fn(void *arg, const char *uri, size_t len);

void	 uri_extract(const char *text, size_t len, uri_fn *, void *arg);
/* uri_clean - false if the candidate is not kept */
bool	 uri_clean(const char *in, size_t len, struct buf *out);
/* uri_host - false if the URI has no host (mailto: gives the domain) */
bool	 uri_host(const char *uri, size_t len, struct buf *out);
/*
 * uri_host_ipv4 - true if host (from uri_host) is an IPv4 address; *addr
 * in host byte order, *plain false for any form but four decimal octets
 */
bool	 uri_host_ipv4(const char *host, uint32_t *addr, bool *plain);

#endif
