/*
 * conf.h - the configuration snapshot
 *
 * DESCRIPTION
 *	The configuration file follows main.cf habits: "key = value" lines,
 *	"#" comments, a line starting with white space continues the
 *	previous one, the last setting of a key wins.  Every key is one
 *	row of the table in conf.c: name, type, default, bounds and a one
 *	line description, so conf_dump() can print every key with its
 *	effective value and the reference documentation is generated from
 *	the same table.
 *
 *	A struct conf is immutable once conf_parse() returns it; the
 *	daemon swaps whole snapshots on reload (see engine.h).
 *
 * DIAGNOSTICS
 *	conf_parse() is all or nothing, but reads the whole file first: it
 *	writes every error, one per line ("FILE:LINE: key: reason", with
 *	"did you mean KEY?" for a misspelt key), to why and returns -1.
 *	Errors about what a key names (a list file, the rules directories,
 *	a key file) are reported by engine_new() as "FILE:LINE: key: "
 *	(conf_where()) followed by the referenced file's own location.
 */
#ifndef MW_CONF_H
#define MW_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netaddr.h"

struct buf;

struct strlist {
	char	**v;
	size_t	  n;
};

/* strlist_free - free the items and the array; the list is then empty */
void	 strlist_free(struct strlist *);

struct conf {
	char	*path;			/* file it came from, or "(defaults)" */

	/* daemon */
	char	*socket;
	char	*user;
	char	*pid_file;
	uint64_t socket_mode;
	uint64_t milter_timeout;	/* seconds */
	uint64_t shutdown_timeout;	/* seconds */
	char	*log_level;
	char	*syslog_facility;

	/* verdicts */
	char	*authserv_id;
	double	 tag_score;
	double	 reject_score;
	char	*subject_tag;
	char	*log_file;
	struct strlist trusted_networks;
	bool	 trust_authenticated;
	uint64_t max_scan_bytes;
	uint64_t max_header_bytes;
	uint64_t max_headers;
	uint64_t max_rcpts;

	/* content: MIME caps */
	uint64_t mime_max_depth;
	uint64_t mime_max_parts;
	uint64_t mime_max_text;
	uint64_t mime_max_uris;

	/* content: rules */
	char	*rules_dir;
	char	*rules_site_dir;
	uint64_t rules_match_limit;
	char	*rules_hyperscan;	/* "auto", "yes" or "no" */
	uint64_t rules_body_part_max;
	uint64_t rules_rawbody_part_max;
	char	*rules_score_set;	/* "auto" or "0".."3" */

	/* DNS blocklists */
	struct strlist dnsbl;
	struct strlist uribl;
	struct strlist dnswl;
	struct strlist dbl;
	struct strlist dnsbl_refused;
	uint64_t uribl_max_lookups;

	/* local lists */
	char	*client_list;
	char	*sender_list;
	char	*helo_list;
	char	*welcomelist_auth;
	char	*dkim_allowlist;

	/* DKIM (doc/dkim.md) */
	bool	 dkim_verify;
	uint64_t dkim_max_signatures;
	uint64_t dkim_min_key_bits;
	uint64_t dkim_clock_skew;	/* seconds */
	char	*dkim_partial_body;	/* "accept" or "policy" */
	struct strlist dkim_sign_domains;	/* DOMAIN:SELECTOR:PATH */
	struct strlist dkim_sign_headers;
	struct strlist dkim_oversign_headers;
	char	*dkim_sign_canon;
	uint64_t dkim_sign_expire;	/* seconds, 0 = no x= */
	/* Bayes (doc/bayes.md) */
	char	*bayes_store;		/* "" = off, PATH or redis://... */
	uint64_t bayes_min_spam;	/* messages learned before scoring */
	uint64_t bayes_min_ham;
	double	 bayes_strength;	/* Robinson s */
	double	 bayes_prior;		/* Robinson x */
	double	 bayes_min_dev;
	uint64_t bayes_max_clues;
	uint64_t bayes_max_tokens;	/* distinct tokens per message */
	bool	 bayes_bigrams;
	uint64_t bayes_map_size;	/* LMDB */
	uint64_t bayes_memory_max;	/* LMDB: token counts in memory */
	uint64_t bayes_redis_timeout;	/* ms */
	uint64_t bayes_redis_retry;	/* s */
	char	*bayes_redis_prefix;
	uint64_t bayes_expire_days;
	bool	 bayes_autolearn;
	double	 bayes_autolearn_spam;	/* score without Bayes, at least */
	double	 bayes_autolearn_ham;	/* score without Bayes, at most */
	uint64_t bayes_autolearn_rate;	/* per hour, each class */

	/* DNS (dns.h) */
	struct strlist dns_servers;	/* empty: dns_resolv_conf */
	char	*dns_resolv_conf;		/* "": /etc/resolv.conf */
	uint64_t dns_timeout;		/* ms, one try at one server */
	uint64_t dns_retries;
	uint64_t dns_message_timeout;	/* ms for all lookups of a message */
	uint64_t dns_cache_size;
	uint64_t dns_cache_max_ttl;	/* seconds */
	uint64_t dns_servfail_ttl;	/* seconds */
	uint64_t dns_timeout_ttl;	/* seconds */
	uint64_t dns_edns_size;
	uint64_t dns_prefetch_threads;
	struct strlist dns_zone_files;	/* non-empty: answer from these only */

	/* SPF (spf.h) */
	bool	 spf;
	bool	 spf_helo;
	char	*spf_fail_action;	/* reject, tag, none */
	char	*spf_permerror_action;	/* reject, tag, none */
	char	*spf_temperror_action;	/* tempfail, accept */
	bool	 spf_received_header;
	uint64_t spf_max_dns_lookups;
	uint64_t spf_max_void_lookups;
	char	*spf_explanation;

	/* symbol score overrides, "SYMBOL=SCORE" */
	struct strlist symbol_scores;

	/* DMARC (doc/dmarc.md) */
	bool	 dmarc;
	char	*dmarc_org_domain;	/* treewalk | psl */
	char	*dmarc_psl_file;
	uint64_t dmarc_max_queries;
	char	*dmarc_from_missing_action;
	char	*dmarc_from_multiple_action;
	char	*dmarc_from_multi_author_action;
	char	*dmarc_from_invalid_action;
	char	*dmarc_temperror_action;
	bool	 dmarc_never_reject;
	bool	 dmarc_quarantine_milter;
	struct strlist dmarc_allow_domains;
	char	*dmarc_report_dir;
	char	*dmarc_report_org;
	char	*dmarc_report_email;
	char	*dmarc_report_sendmail;
	bool	 dmarc_failure_reports;
	uint64_t dmarc_failure_reports_max;	/* per hour */
	bool	 arc_verify;
	uint64_t arc_max_sets;
	struct strlist arc_trusted_sealers;
	struct strlist dmarc_trusted_forwarders;

	/* metrics endpoint and stats line (metrics.h) */
	char	*metrics_listen;
	uint64_t stats_interval;		/* seconds, 0 = off */
	/* policy scopes (scope.h, doc/scopes.md) */
	char	*scope_dir;
	/* policy state: rate limits, greylisting, trap clients (policy.h) */
	char	*policy_store;		/* "": off */
	uint64_t policy_redis_timeout;	/* ms */
	uint64_t policy_redis_retry;	/* s */
	char	*policy_redis_prefix;
	struct strlist ratelimit_user;	/* "100/1h", "rcpt:500/1d" */
	struct strlist ratelimit_client;
	struct strlist ratelimit_sender_domain;
	struct strlist ratelimit_user_block;
	bool	 greylist;
	double	 greylist_score;
	uint64_t greylist_delay;	/* s */
	uint64_t greylist_expire;	/* s */
	uint64_t greylist_pass_expire;	/* s */
	struct strlist greylist_allow_domains;
	uint64_t greylist_allow_after;	/* passes; 0: never */
	uint64_t trap_expire;		/* s */
	char	*trap_client_action;	/* score, tempfail, reject */
	/* sample store (sample_store.h) */
	char	*sample_dir;
	char	*sample;		/* "reject tag 1%" */
	uint64_t sample_max_size;	/* bytes */
	uint64_t sample_max_count;
	uint64_t sample_max_age;	/* hours */

	/* derived at parse time */
	unsigned *key_line;		/* per key (table order): line of
					   its setting, 0 = default */
	struct cidr *trusted;
	size_t	 ntrusted;
	char	 hostname[256];		/* authserv_id default */
};

/* conf_defaults - a snapshot with every key at its default */
struct conf *conf_defaults(void);
/* conf_parse - parse text (origin names it in messages) into a new snapshot */
int	 conf_parse(const char *text, size_t len, const char *origin,
	    struct conf **out, struct buf *why);
/* conf_load - read path (capped at 1 MiB) and conf_parse() it */
int	 conf_load(const char *path, struct conf **out, struct buf *why);
/*
 * conf_load_all - the same, but on errors in the file *out is still the
 * snapshot (bad settings at their defaults) so the caller can go on to
 * find the errors of what it names; NULL only if path cannot be read.
 * The caller frees it either way and must not use it after an error.
 */
int	 conf_load_all(const char *path, struct conf **out, struct buf *why);
void	 conf_free(struct conf *);
/* conf_dump - "key = value" for every key, in table order */
void	 conf_dump(const struct conf *, struct buf *out);
/* conf_value - the canonical text of key's value; -1: no such key */
int	 conf_value(const struct conf *, const char *key, struct buf *out);
/* conf_reference - the table as documentation (key, default, meaning) */
void	 conf_reference(struct buf *out);
/* conf_reference_man - the same as man(7) .TP entries (mailwarden.conf.5) */
void	 conf_reference_man(struct buf *out);
/*
 * conf_reference_conf - the same as a configuration file installed at
 * path: every key commented out with its default, after its meaning
 */
void	 conf_reference_conf(struct buf *out, const char *path);
/* conf_key_line - line of the setting of key in c->path; 0: default */
unsigned conf_key_line(const struct conf *, const char *key);
/* conf_where - "PATH:LINE: key: " (or "PATH: key: " for a default) */
void	 conf_where(const struct conf *, const char *key, struct buf *out);
/*
 * conf_clone - a deep copy (a policy scope starts from the main file)
 * whose origin is path, with no key counted as set there;
 * conf_set - validate and set one key from line of the origin: errors
 * are lines of why, each "ORIGIN:LINE: key: reason"; -1 on any;
 * conf_suggest_key - the known key nearest to a misspelt one, or NULL;
 * conf_next_line - one logical line of the file syntax (continuation
 * lines joined, comments dropped); false at the end
 */
struct conf *conf_clone(const struct conf *, const char *path);
int	 conf_set(struct conf *, const char *key, const char *value,
	    unsigned line, struct buf *why);
const char *conf_suggest_key(const char *key);
bool	 conf_next_line(const char **pp, const char *end, struct buf *line,
	    unsigned *lineno, unsigned *startline);
/* conf_key_count, conf_key_name - iterate the key table */
size_t	 conf_key_count(void);
const char *conf_key_name(size_t);
/*
 * conf_score_set - rules_score_set as a number, -1 for auto.
 * conf_score_set_base - the set a message starts with: the configured
 * one, or for auto 2 (Bayes columns) when a Bayes store is configured,
 * else 0, plus 1 (network columns) when dnsbl or uribl lists are; with
 * auto a message that Bayes did not classify ends in base - 2.
 */
int	 conf_score_set(const struct conf *);
/*
 * conf_hyperscan - whether rules load with the Hyperscan prefilter:
 * rules_hyperscan yes, or auto in the daemon (about a second of CPU
 * at each rules load, paid back only over many messages)
 */
bool	 conf_hyperscan(const struct conf *, bool daemon);
unsigned conf_score_set_base(const struct conf *);

/* conf_is_trusted - is addr inside trusted_networks? */
bool	 conf_is_trusted(const struct conf *, const struct netaddr *);
const char *conf_authserv_id(const struct conf *);
/* conf_dmarc_reporter - dmarc_report_email, else postmaster@host name */
void	 conf_dmarc_reporter(const struct conf *, struct buf *);
/* conf_symbol_score - split a symbol_scores item "SYMBOL=SCORE" */
int	 conf_symbol_score(const char *, char *name, size_t namesz,
	    double *score);
int	 conf_syslog_facility(const struct conf *);
int	 conf_log_level(const struct conf *);	/* enum log_level */

#define MW_DEFAULT_CONF	SYSCONFDIR "/mailwarden/mailwarden.conf"
/* the default scope_dir, which may be missing (no scopes; scope.h) */
#define MW_DEFAULT_SCOPE_DIR	SYSCONFDIR "/mailwarden/scopes.d"
/* the default rules_site_dir, which may be missing (engine.c) */
#define MW_RULES_SITE_DIR	SYSCONFDIR "/mailwarden/rules.d"
/* -c MW_NO_CONF: run on the built-in defaults, a choice made explicitly */
#define MW_NO_CONF	"/dev/null"

#endif
