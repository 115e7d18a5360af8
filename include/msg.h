/*
 * msg.h - one message as the MTA handed it over
 *
 * DESCRIPTION
 *	struct msg collects the connection (client address and name, HELO),
 *	the envelope (sender, recipients, queue id, SMTP AUTH identity), the
 *	header fields in order with their raw bytes, and the body up to a
 *	cap.  The milter callbacks and the scan command both fill one in;
 *	nothing here decides anything.
 *
 *	Header values are kept as the bytes after the colon, leading white
 *	space and folding included, line breaks normalised to CRLF, so that
 *	DKIM "simple" canonicalisation sees what was signed.  Values may
 *	hold NUL bytes (value_len is authoritative); name and value are
 *	also NUL-terminated for convenience.
 *
 * LIMITS
 *	Every collection has a cap taken from the configuration; going over
 *	it sets a MSG_F_* flag (the verdict turns those into symbols) and
 *	never loses mail: the MTA keeps and delivers the whole message.
 */
#ifndef MW_MSG_H
#define MW_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "conf.h"
#include "netaddr.h"

#define MSG_MAX_FIELD_VALUE	(64 * 1024)	/* one header field */
#define MSG_MAX_FIELD_NAME	998
#define MSG_MAX_ENVELOPE	1024		/* one address / name */

enum msg_flag {
	MSG_F_BODY_TRUNCATED	= 1 << 0,	/* body over max_scan_bytes */
	MSG_F_HDRS_TRUNCATED	= 1 << 1,	/* header bytes/count over cap */
	MSG_F_FIELD_TRUNCATED	= 1 << 2,	/* one field over 64K */
	MSG_F_RCPTS_TRUNCATED	= 1 << 3,
	MSG_F_HDR_NUL		= 1 << 4,	/* NUL byte inside a header */
	MSG_F_HDR_8BIT		= 1 << 5,	/* raw 8-bit bytes in a header */
	MSG_F_HDR_BADNAME	= 1 << 6,	/* field name not RFC 5322 */
	MSG_F_HDR_NOCOLON	= 1 << 7	/* header section ended by a
						   line without a colon */
};

struct hdr {
	char	*name;
	size_t	 name_len;
	char	*value;
	size_t	 value_len;
};

struct msg_limits {
	size_t	max_body;
	size_t	max_header_bytes;
	size_t	max_headers;
	size_t	max_rcpts;
};

struct msg {
	struct msg_limits lim;

	/* connection */
	struct netaddr client_addr;
	char	 client_ip[NETADDR_STRLEN];
	char	*client_name;
	char	*helo;
	char	*mta_name;		/* the MTA's own name ({j}), or NULL */

	/* transaction */
	char	*queue_id;
	char	*auth_user;
	char	*mail_from;		/* without angle brackets; "" = null sender */
	char	**rcpts;
	size_t	 nrcpts;		/* kept */
	size_t	 nrcpts_seen;		/* offered by the MTA */

	/* content */
	struct hdr *hdrs;
	size_t	 nhdrs;
	size_t	 hdrs_cap;	/* allocated slots of hdrs */
	size_t	 hdr_bytes;		/* wire bytes of all header fields seen */
	struct buf body;		/* first max_body bytes */
	size_t	 body_size;		/* all body bytes seen */
	unsigned flags;
};

void	 msg_limits_from_conf(struct msg_limits *, const struct conf *);
struct msg *msg_new(const struct msg_limits *);
void	 msg_free(struct msg **);
/* msg_reset_transaction - forget envelope and content, keep the connection */
void	 msg_reset_transaction(struct msg *);

/* msg_set_client - ip may be NULL or unparseable (then client_ip is "") */
void	 msg_set_client(struct msg *, const char *ip, const char *name);
void	 msg_set_client_addr(struct msg *, const struct netaddr *,
	    const char *name);
void	 msg_set_helo(struct msg *, const char *);
void	 msg_set_mta_name(struct msg *, const char *);
void	 msg_set_queue_id(struct msg *, const char *);
void	 msg_set_auth(struct msg *, const char *);
/* msg_set_sender - accepts "<a@b>", "a@b", "<>" */
void	 msg_set_sender(struct msg *, const char *);
void	 msg_add_rcpt(struct msg *, const char *);
/* msg_add_header - value as the bytes after the colon (see above) */
void	 msg_add_header(struct msg *, const char *name, size_t name_len,
	    const char *value, size_t value_len);
/*
 * msg_add_header_sp - the same with one SP put back before a non-empty
 * value (libmilter hands over the value without the space after the
 * colon unless the MTA was asked for it)
 */
void	 msg_add_header_sp(struct msg *, const char *name, size_t name_len,
	    const char *value, size_t value_len, bool lead_sp);
void	 msg_add_body(struct msg *, const void *, size_t);
/* msg_size - header bytes + empty line + body bytes */
size_t	 msg_size(const struct msg *);

/* msg_header - the idx'th (0-based) field called name, or NULL */
const struct hdr *msg_header(const struct msg *, const char *name, size_t idx);
size_t	 msg_header_count(const struct msg *, const char *name);

/* strip_angle - copy of an envelope address without <> and white space */
char	*envelope_strip(const char *);

#endif
