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
 *
 * LIMITS
 *	URI_MAX_LEN bytes per URI (longer ones are cut); linear time.
 */
#ifndef MW_URI_H
#define MW_URI_H

#include <stdbool.h>
#include <stddef.h>

struct buf;

#define URI_MAX_LEN	2048

typedef void uri_fn(void *arg, const char *uri, size_t len);

void	 uri_extract(const char *text, size_t len, uri_fn *, void *arg);
/* uri_clean - false if the candidate is not kept */
bool	 uri_clean(const char *in, size_t len, struct buf *out);
/* uri_host - false if the URI has no host (mailto: gives the domain) */
bool	 uri_host(const char *uri, size_t len, struct buf *out);

#endif
