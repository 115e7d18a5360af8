/*
 * sample.h - stored messages for deterministic replay: the file format,
 *	the DNS recorder and the resolver that answers from a recording
 *
 * DESCRIPTION
 *	A sample is one message as the milter saw it, written after its
 *	verdict: the clock of the scan, the envelope and macros, the
 *	header fields as received, the body bytes kept (max_scan_bytes),
 *	the sizes and truncation flags, the verdict log line, and every
 *	DNS answer the evaluation used (name, type, status, TTL, records),
 *	so that `mailwarden replay` can run the pipeline again in the
 *	world the message saw (doc/replay.md has the format).
 *
 *	Text lines "KEY VALUE...", every value %-escaped (bytes below 0x21,
 *	above 0x7e and '%' as %XX), so no value can break a line; the body
 *	comes last, as "body N", a newline and N raw bytes, then "end".
 *
 *	sample_dns_record() is a dns_budget record hook (dns.h): it keeps
 *	a copy of every answer handed out during one scan (the first of
 *	each name and type; thread-safe).  sample_dns_resolver() is a
 *	resolver that answers from such a recording and counts (and
 *	reports through a callback) every lookup that is not in it,
 *	answering those with a timeout: never a guess.
 * SECURITY
 *	sample_parse() reads files an operator may have copied from
 *	anywhere: every line and count is capped (SAMPLE_MAX_*), numbers
 *	are range-checked, and a file that does not parse as a whole is
 *	refused with file-relative line numbers.
 */
#ifndef MW_SAMPLE_H
#define MW_SAMPLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct buf;
struct dns_answer;
struct dns_resolver;
struct msg;
struct msg_limits;

#define SAMPLE_MAGIC		"mailwarden-sample 1"
#define SAMPLE_SUFFIX		".mws"
#define SAMPLE_MAX_LINE		(256 * 1024)	/* one escaped line */
#define SAMPLE_MAX_DNS		4096		/* answers kept per message */
#define SAMPLE_MAX_RRS		512		/* records per answer */
#define SAMPLE_MAX_BODY		(1024UL * 1024 * 1024)

/* one recorded answer */
struct sample_answer {
	char	*name;			/* normalised */
	uint16_t type;
	struct dns_answer *a;
};

struct sample_dns;

struct sample_dns *sample_dns_new(void);
void	 sample_dns_free(struct sample_dns **);
/* sample_dns_record - a dns_budget record hook; arg is a sample_dns */
void	 sample_dns_record(void *arg, const char *name, uint16_t type,
	    const struct dns_answer *);
size_t	 sample_dns_count(const struct sample_dns *);
const struct sample_answer *sample_dns_get(const struct sample_dns *,
	    size_t i);
/* sample_dns_find - the answer recorded for name and type, or NULL */
const struct dns_answer *sample_dns_find(const struct sample_dns *,
	    const char *name, uint16_t type);

/*
 * sample_dns_resolver - a resolver (no cache) answering from d, which
 * must outlive it.  A lookup not in d answers DNS_TIMEOUT and calls
 * unrecorded(arg, name, type) when given.
 */
struct dns_resolver *sample_dns_resolver(const struct sample_dns *d,
	    void (*unrecorded)(void *arg, const char *name, uint16_t type),
	    void *arg);

/*
 * sample_format - the sample file of message m scanned at now (the
 * scan's clock), with its DNS recording d (may be NULL) and verdict
 * log line, appended to out
 */
void	 sample_format(const struct msg *m, time_t now, double when,
	    const struct sample_dns *d, const char *logline, size_t loglen,
	    struct buf *out);

/* a parsed sample */
struct sample {
	time_t	 now;
	double	 when;
	char	*client_ip, *client_name, *helo, *mta_name, *queue_id;
	char	*auth, *mail_from;	/* NULL when absent */
	char	**rcpts;
	size_t	 nrcpts, rcpts_seen;
	struct sample_hdr {
		char	*name, *value;
		size_t	 name_len, value_len;
	}	*hdrs;
	size_t	 nhdrs;
	size_t	 hdr_bytes, body_size;
	unsigned flags;
	char	*verdict;		/* the log line */
	struct sample_dns *dns;
	const unsigned char *body;	/* borrowed from the parsed data */
	size_t	 body_len;
};

/*
 * sample_parse - data[0..len) (borrowed: body points into it) into a
 * new *out; -1 with "line N: reason" in why
 */
int	 sample_parse(const char *data, size_t len, struct sample **out,
	    struct buf *why);
void	 sample_free(struct sample **);

/*
 * sample_msg - a new msg with the sample's connection, envelope and
 * header fields (as the milter callbacks set them), no body yet;
 * sample_msg_finish() restores the sizes and flags of the original
 * after the body was fed through scan_body()
 */
struct msg *sample_msg(const struct sample *, const struct msg_limits *);
void	 sample_msg_finish(const struct sample *, struct msg *);

struct engine;
/*
 * replay_sample - s through the pipeline of e (replay.c) at its own
 * clock; the new verdict log line appended to out.  Unless live, DNS
 * comes from the recording and unrecorded(arg, name, type) hears of
 * each lookup it cannot answer.  Not thread-safe for e (see replay.c).
 */
void	 replay_sample(struct engine *e, const struct sample *s, bool live,
	    void (*unrecorded)(void *arg, const char *name, uint16_t type),
	    void *arg, struct buf *out);

#endif
