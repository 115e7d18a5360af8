/*
 * conf.c - configuration keys, parsing, dumping
 *
 * DESCRIPTION
 *	One table row per key (CONF_KEYS below).  Adding a key is one row
 *	plus one struct field.  Values are validated by type (bounded
 *	numbers, booleans, sizes, lists) and, where needed, by a check
 *	function; cross-key rules run once the whole file is read.
 *
 * SECURITY
 *	The file is trusted to the extent that root wrote it, but a typo
 *	must never reach the running daemon: every value is checked here,
 *	at load time, and a bad file leaves the previous snapshot in force.
 */
#include "config.h"

#include <ctype.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "arc.h"
#include "bayes_store.h"
#include "buf.h"
#include "conf.h"
#include "dkim.h"
#include "dns.h"
#include "dnsbl.h"
#include "files.h"
#include "log.h"
#include "policy.h"
#include "pstore.h"
#include "punycode.h"
#include "smtpaddr.h"
#include "str.h"

enum conf_type {
	CT_STR,
	CT_UINT,
	CT_DOUBLE,
	CT_BOOL,
	CT_SIZE,
	CT_LIST,
	CT_OCTAL
};

struct conf_key {
	const char	*name;
	enum conf_type	 type;
	size_t		 off;
	const char	*def;
	double		 min, max;
	int		(*check)(const char *value, struct buf *why);
	const char	*doc;
};

static int check_socket(const char *, struct buf *);
static int check_level(const char *, struct buf *);
static int check_facility(const char *, struct buf *);
static int check_cidr(const char *, struct buf *);
static int check_dkim_partial(const char *, struct buf *);
static int check_field_name(const char *, struct buf *);
static int check_bayes_store(const char *, struct buf *);
static int check_redis_prefix(const char *, struct buf *);
static int check_dns_server(const char *, struct buf *);
static int check_fail_action(const char *, struct buf *);
static int check_trap_action(const char *, struct buf *);
static int check_temp_action(const char *, struct buf *);
static int check_symbol_score(const char *, struct buf *);
static int check_dmarc_action(const char *, struct buf *);
static int check_dmarc_temp_action(const char *, struct buf *);
static int check_dmarc_orgmode(const char *, struct buf *);
static int check_domain(const char *, struct buf *);
static int check_forwarder(const char *, struct buf *);
static int check_mailbox(const char *, struct buf *);
static int check_score_set(const char *, struct buf *);
static int check_hyperscan(const char *, struct buf *);
static int check_metrics_listen(const char *, struct buf *);
static int check_policy_store(const char *, struct buf *);
int	sample_policy_check(const char *, struct buf *);	/* sample_store.c */

#define OFF(f)	offsetof(struct conf, f)
#define NOLIM	0, 0

static const struct conf_key conf_keys[] = {
	{ "socket", CT_STR, OFF(socket), "unix:/run/mailwarden/mailwarden.sock",
	  NOLIM, check_socket,
	  "milter socket, unix:PATH or inet:PORT@ADDR or inet6:PORT@ADDR" },
	{ "user", CT_STR, OFF(user), "mailwarden", NOLIM, NULL,
	  "user to run as after the socket is open (empty: do not switch)" },
	{ "pid_file", CT_STR, OFF(pid_file), "/run/mailwarden/mailwarden.pid",
	  NOLIM, NULL, "pid file written when detaching (empty: none)" },
	{ "socket_mode", CT_OCTAL, OFF(socket_mode), "0660", 0, 0777, NULL,
	  "permissions of a unix socket (owned by user)" },
	{ "milter_timeout", CT_UINT, OFF(milter_timeout), "300", 1, 86400, NULL,
	  "seconds libmilter waits for the MTA before dropping a connection" },
	{ "shutdown_timeout", CT_UINT, OFF(shutdown_timeout), "30", 0, 3600,
	  NULL, "seconds SIGTERM lets messages in flight finish" },
	{ "log_level", CT_STR, OFF(log_level), "info", NOLIM, check_level,
	  "diagnostic log level: debug, info, warning, error" },
	{ "syslog_facility", CT_STR, OFF(syslog_facility), "mail", NOLIM,
	  check_facility, "syslog facility when detached" },
	{ "authserv_id", CT_STR, OFF(authserv_id), "", NOLIM, NULL,
	  "authserv-id of Authentication-Results (empty: host name)" },
	{ "tag_score", CT_DOUBLE, OFF(tag_score), "5.0", -1000, 1000, NULL,
	  "score from which a message is tagged" },
	{ "reject_score", CT_DOUBLE, OFF(reject_score), "15.0", -1000, 1000,
	  NULL, "score from which a message is rejected" },
	{ "subject_tag", CT_STR, OFF(subject_tag), "", NOLIM, NULL,
	  "prefix added to the Subject of tagged mail (empty: no rewrite)" },
	{ "log_file", CT_STR, OFF(log_file), "/var/log/mailwarden/verdicts.log",
	  NOLIM, NULL, "verdict log, one JSON line per message (empty: none)" },
	{ "trusted_networks", CT_LIST, OFF(trusted_networks), "", NOLIM,
	  check_cidr, "client networks whose mail is not scored" },
	{ "trust_authenticated", CT_BOOL, OFF(trust_authenticated), "yes",
	  NOLIM, NULL, "do not score mail from SMTP-AUTH authenticated senders" },
	{ "max_scan_bytes", CT_SIZE, OFF(max_scan_bytes), "1M", 1024,
	  1024.0 * 1024 * 1024, NULL,
	  "bytes of each body kept for analysis; the rest passes unscanned" },
	{ "max_header_bytes", CT_SIZE, OFF(max_header_bytes), "1M", 1024,
	  64.0 * 1024 * 1024, NULL,
	  "bytes of headers kept for analysis (a field over 64K is cut)" },
	{ "max_headers", CT_UINT, OFF(max_headers), "1000", 10, 100000, NULL,
	  "header fields kept for analysis" },
	{ "max_rcpts", CT_UINT, OFF(max_rcpts), "1000", 1, 1000000, NULL,
	  "recipients kept for analysis and the verdict log" },
	{ "mime_max_depth", CT_UINT, OFF(mime_max_depth), "20", 1, 1000, NULL,
	  "MIME nesting depth parsed; deeper parts are kept opaque" },
	{ "mime_max_parts", CT_UINT, OFF(mime_max_parts), "1000", 1, 1000000,
	  NULL, "MIME parts parsed per message; later parts are skipped" },
	{ "mime_max_text", CT_SIZE, OFF(mime_max_text), "4M", 1024,
	  1024.0 * 1024 * 1024, NULL,
	  "decoded text kept per message for rules and Bayes" },
	{ "mime_max_uris", CT_UINT, OFF(mime_max_uris), "1000", 1, 1000000,
	  NULL, "distinct URIs kept per message" },
	{ "rules_dir", CT_STR, OFF(rules_dir), MW_RULES_DIR, NOLIM, NULL,
	  "shipped rule files (*.cf), read first (empty: none)" },
	{ "rules_site_dir", CT_STR, OFF(rules_site_dir),
	  SYSCONFDIR "/mailwarden/rules.d", NOLIM, NULL,
	  "site rule files (*.cf), read after rules_dir: same name replaces" },
	{ "rules_match_limit", CT_UINT, OFF(rules_match_limit), "100000",
	  1000, 100000000, NULL,
	  "PCRE2 match limit per regex call; a regex over it is skipped" },
	{ "rules_hyperscan", CT_STR, OFF(rules_hyperscan), "auto", NOLIM,
	  check_hyperscan, "prefilter the regex rules without a literal "
	  "with Hyperscan (when built with it): faster scans, about a second "
	  "more CPU per rules load; auto: in the daemon, not in one-shot "
	  "commands; yes; no" },
	{ "rules_body_part_max", CT_SIZE, OFF(rules_body_part_max), "50000",
	  1024, 1024.0 * 1024 * 1024, NULL,
	  "text of each MIME part that body rules scan (SpamAssassin "
	  "body_part_scan_size)" },
	{ "rules_rawbody_part_max", CT_SIZE, OFF(rules_rawbody_part_max),
	  "500000", 1024, 1024.0 * 1024 * 1024, NULL,
	  "decoded bytes of each part that rawbody rules scan" },
	{ "rules_score_set", CT_STR, OFF(rules_score_set), "auto", NOLIM,
	  check_score_set, "which column of four-score 'score' lines applies: "
	  "0-3, or auto (Bayes columns when Bayes classifies the message, "
	  "network columns when a DNS list is configured)" },
	{ "dnsbl", CT_LIST, OFF(dnsbl), "", NOLIM, dnsbl_check_entry,
	  "client address blocklists: ZONE/RESULT=SYMBOL:SCORE[:reject] ..." },
	{ "uribl", CT_LIST, OFF(uribl), "", NOLIM, dnsbl_check_uri_entry,
	  "URI domain blocklists: ZONE/RESULT=SYMBOL:SCORE[:reject][:ip] ..." },
	{ "dnswl", CT_LIST, OFF(dnswl), "", NOLIM, dnsbl_check_allow_entry,
	  "client address allowlists: ZONE/RESULT=SYMBOL:SCORE (score <= 0)" },
	{ "dbl", CT_LIST, OFF(dbl), "", NOLIM, dnsbl_check_domain_entry,
	  "sender domain blocklists: ZONE/RESULT=SYMBOL:SCORE:IDENTITY... "
	  "[:full or :hashed][:reject]" },
	{ "dnsbl_refused", CT_LIST, OFF(dnsbl_refused),
	  "127.0.0.1 127.255.255.0/24", NOLIM, check_cidr,
	  "blocklist answers that mean an error (refused query), not a listing" },
	{ "uribl_max_lookups", CT_UINT, OFF(uribl_max_lookups), "20", 0, 1000,
	  NULL, "URI domains and hosts looked up per message" },
	{ "client_list", CT_STR, OFF(client_list), "", NOLIM, NULL,
	  "access list of client IP addresses and CIDR blocks" },
	{ "sender_list", CT_STR, OFF(sender_list), "", NOLIM, NULL,
	  "access list of envelope senders (address, @domain, domain)" },
	{ "helo_list", CT_STR, OFF(helo_list), "", NOLIM, NULL,
	  "access list of HELO/EHLO names" },
	{ "welcomelist_auth", CT_STR, OFF(welcomelist_auth), "", NOLIM, NULL,
	  "senders (address, *@domain, domain) allowed when SPF, aligned "
	  "DKIM or DMARC passes for their domain" },
	{ "dkim_allowlist", CT_STR, OFF(dkim_allowlist), "", NOLIM, NULL,
	  "DKIM d= domains whose valid signatures lower the score" },
	{ "dkim_verify", CT_BOOL, OFF(dkim_verify), "yes", NOLIM, NULL,
	  "verify DKIM signatures of mail that is scored" },
	{ "dkim_max_signatures", CT_UINT, OFF(dkim_max_signatures), "5", 1,
	  DKIM_MAX_SIGNATURES, NULL,
	  "DKIM-Signature fields verified per message (the rest are counted)" },
	{ "dkim_min_key_bits", CT_UINT, OFF(dkim_min_key_bits), "1024", 512,
	  DKIM_MAX_KEY_BITS, NULL,
	  "smallest RSA key accepted (RFC 8301 requires 1024)" },
	{ "dkim_clock_skew", CT_UINT, OFF(dkim_clock_skew), "300", 0, 86400,
	  NULL, "seconds a signature's t= may lie in the future" },
	{ "dkim_partial_body", CT_STR, OFF(dkim_partial_body), "accept", NOLIM,
	  check_dkim_partial, "l= signatures that leave body bytes unsigned: "
	  "accept (pass, flagged DKIM_L_PARTIAL) or policy (dkim=policy)" },
	{ "dkim_sign_domains", CT_LIST, OFF(dkim_sign_domains), "", NOLIM,
	  dkim_signconf_check_entry, "DOMAIN:SELECTOR:/path/key entries: "
	  "trusted mail from DOMAIN (or a subdomain) is signed with every key "
	  "of DOMAIN" },
	{ "dkim_sign_headers", CT_LIST, OFF(dkim_sign_headers),
	  "From Reply-To Subject Date To Cc Message-ID In-Reply-To References "
	  "MIME-Version Content-Type Content-Transfer-Encoding "
	  "Content-Disposition Content-ID Content-Description Sender "
	  "Resent-Date Resent-From Resent-Sender Resent-To Resent-Cc "
	  "Resent-Message-ID List-Id List-Help List-Unsubscribe "
	  "List-Unsubscribe-Post List-Subscribe List-Post List-Owner "
	  "List-Archive", NOLIM, check_field_name,
	  "header fields signed (every instance present)" },
	{ "dkim_oversign_headers", CT_LIST, OFF(dkim_oversign_headers),
	  "From To Subject Date", NOLIM, check_field_name,
	  "header fields signed once more than present, so none can be added" },
	{ "dkim_sign_canon", CT_STR, OFF(dkim_sign_canon), "relaxed/relaxed",
	  NOLIM, dkim_signconf_check_canon,
	  "canonicalization of signatures made (header/body)" },
	{ "dkim_sign_expire", CT_UINT, OFF(dkim_sign_expire), "0", 0,
	  366.0 * 86400, NULL, "seconds until signatures made expire (x=); "
	  "0: no x=" },
	{ "bayes_store", CT_STR, OFF(bayes_store), "", NOLIM, check_bayes_store,
	  "Bayes token store: a directory (LMDB) or redis://HOST:PORT/DB "
	  "(empty: Bayes off)" },
	{ "bayes_min_spam", CT_UINT, OFF(bayes_min_spam), "200", 1, 1e9, NULL,
	  "spam messages learned before Bayes scores" },
	{ "bayes_min_ham", CT_UINT, OFF(bayes_min_ham), "200", 1, 1e9, NULL,
	  "ham messages learned before Bayes scores" },
	{ "bayes_strength", CT_DOUBLE, OFF(bayes_strength), "0.1", 0.001, 100,
	  NULL, "Robinson s: weight of the prior against a token's counts" },
	{ "bayes_prior", CT_DOUBLE, OFF(bayes_prior), "0.6", 0.01, 0.99, NULL,
	  "Robinson x: spam probability of a token never seen" },
	{ "bayes_min_dev", CT_DOUBLE, OFF(bayes_min_dev), "0.4", 0, 0.49, NULL,
	  "ignore tokens whose f(w) is closer than this to 0.5" },
	{ "bayes_max_clues", CT_UINT, OFF(bayes_max_clues), "150", 1, 100000,
	  NULL, "most extreme tokens combined per message" },
	{ "bayes_max_tokens", CT_UINT, OFF(bayes_max_tokens), "3000", 10,
	  1000000, NULL, "distinct tokens taken from one message" },
	{ "bayes_bigrams", CT_BOOL, OFF(bayes_bigrams), "no", NOLIM, NULL,
	  "also make sparse word pairs of body text (store must be retrained)" },
	{ "bayes_map_size", CT_SIZE, OFF(bayes_map_size), "1G", 1024 * 1024,
	  64.0 * 1024 * 1024 * 1024, NULL,
	  "LMDB address space reserved; grows by doubling when full" },
	{ "bayes_memory_max", CT_SIZE, OFF(bayes_memory_max), "64M", 0,
	  1024.0 * 1024 * 1024 * 1024, NULL,
	  "LMDB: memory for a copy of the token counts (32-64 bytes a token); "
	  "a larger store is read from LMDB; 0: none" },
	{ "bayes_redis_timeout", CT_UINT, OFF(bayes_redis_timeout), "500", 10,
	  60000, NULL, "Redis connect and command timeout, milliseconds" },
	{ "bayes_redis_retry", CT_UINT, OFF(bayes_redis_retry), "5", 0, 3600,
	  NULL, "seconds Bayes is skipped after a Redis failure" },
	{ "bayes_redis_prefix", CT_STR, OFF(bayes_redis_prefix), "mwb:", NOLIM,
	  check_redis_prefix, "prefix of every Redis key of the store" },
	{ "bayes_expire_days", CT_UINT, OFF(bayes_expire_days), "180", 0, 36500,
	  NULL, "bayes prune drops rare tokens not learned for this long "
	  "(0: never)" },
	{ "bayes_autolearn", CT_BOOL, OFF(bayes_autolearn), "no", NOLIM, NULL,
	  "learn clear-cut messages automatically (guards: doc/bayes.md)" },
	{ "bayes_autolearn_spam", CT_DOUBLE, OFF(bayes_autolearn_spam), "12.0",
	  -1000, 1000, NULL, "score without Bayes from which mail is learned "
	  "as spam" },
	{ "bayes_autolearn_ham", CT_DOUBLE, OFF(bayes_autolearn_ham), "0.1",
	  -1000, 1000, NULL, "score without Bayes up to which authenticated "
	  "mail is learned as ham" },
	{ "bayes_autolearn_rate", CT_UINT, OFF(bayes_autolearn_rate), "120", 1,
	  1000000, NULL, "most messages autolearned per hour and class" },
	{ "dns_servers", CT_LIST, OFF(dns_servers), "", NOLIM,
	  check_dns_server, "DNS servers, ADDR[:PORT] or [IPV6]:PORT, asked "
	  "in order (empty: the nameservers of dns_resolv_conf)" },
	{ "dns_resolv_conf", CT_STR, OFF(dns_resolv_conf), "", NOLIM, NULL,
	  "file naming the nameservers when dns_servers is empty (empty: "
	  "/etc/resolv.conf, or 127.0.0.1 without one)" },
	{ "dns_timeout", CT_UINT, OFF(dns_timeout), "2000", 10, 60000, NULL,
	  "milliseconds to wait for one server's reply to one try" },
	{ "dns_retries", CT_UINT, OFF(dns_retries), "1", 0, 10, NULL,
	  "further rounds over all servers after the first" },
	{ "dns_message_timeout", CT_UINT, OFF(dns_message_timeout), "10000", 0,
	  600000, NULL, "milliseconds all DNS lookups of one message may take "
	  "together (0: no limit); later lookups fail as timeouts" },
	{ "dns_cache_size", CT_UINT, OFF(dns_cache_size), "10000", 0, 1000000,
	  NULL, "DNS answers cached (0: no cache)" },
	{ "dns_cache_max_ttl", CT_UINT, OFF(dns_cache_max_ttl), "86400", 0,
	  604800, NULL, "seconds an answer stays cached at most" },
	{ "dns_servfail_ttl", CT_UINT, OFF(dns_servfail_ttl), "30", 0, 300,
	  NULL, "seconds a SERVFAIL or malformed answer stays cached" },
	{ "dns_timeout_ttl", CT_UINT, OFF(dns_timeout_ttl), "5", 0, 60, NULL,
	  "seconds a query that timed out is remembered (0: never)" },
	{ "dns_edns_size", CT_UINT, OFF(dns_edns_size), "1232", 0, 4096, NULL,
	  "EDNS0 UDP payload size offered (0: no EDNS; larger answers use TCP)" },
	{ "dns_prefetch_threads", CT_UINT, OFF(dns_prefetch_threads), "4", 0,
	  64, NULL, "threads starting the first lookups of each message early "
	  "(0: no prefetching)" },
	{ "dns_zone_files", CT_LIST, OFF(dns_zone_files), "", NOLIM, NULL,
	  "answer DNS from these zone files only, never the network "
	  "(offline scans and tests; see doc/dns-spf.md)" },
	{ "spf", CT_BOOL, OFF(spf), "yes", NOLIM, NULL,
	  "check SPF (RFC 7208) for the MAIL FROM and HELO identities" },
	{ "spf_helo", CT_BOOL, OFF(spf_helo), "yes", NOLIM, NULL,
	  "also check the HELO identity when the sender is not null" },
	{ "spf_fail_action", CT_STR, OFF(spf_fail_action), "none", NOLIM,
	  check_fail_action, "on SPF fail: reject (550 5.7.23), tag, or none "
	  "(score only)" },
	{ "spf_permerror_action", CT_STR, OFF(spf_permerror_action), "none",
	  NOLIM, check_fail_action,
	  "on SPF permerror: reject (550 5.7.24), tag, or none (score only)" },
	{ "spf_temperror_action", CT_STR, OFF(spf_temperror_action), "accept",
	  NOLIM, check_temp_action,
	  "on SPF temperror: tempfail (451 4.4.3) or accept" },
	{ "spf_received_header", CT_BOOL, OFF(spf_received_header), "no",
	  NOLIM, NULL, "add a Received-SPF header (RFC 7208 9.1)" },
	{ "spf_max_dns_lookups", CT_UINT, OFF(spf_max_dns_lookups), "10", 1, 100,
	  NULL, "DNS-querying SPF terms per check (RFC 7208 4.6.4: 10)" },
	{ "spf_max_void_lookups", CT_UINT, OFF(spf_max_void_lookups), "2", 0,
	  100, NULL, "SPF lookups allowed to find nothing (RFC 7208 4.6.4: 2)" },
	{ "spf_explanation", CT_STR, OFF(spf_explanation),
	  "%{o} does not designate %{i} as permitted sender", NOLIM, NULL,
	  "explanation (RFC 7208 macros) in an SPF reject when the domain "
	  "publishes no exp=" },
	{ "symbol_scores", CT_LIST, OFF(symbol_scores), "", NOLIM,
	  check_symbol_score, "score overrides, SYMBOL=SCORE ..." },
	{ "dmarc", CT_BOOL, OFF(dmarc), "yes", NOLIM, NULL,
	  "check the From domain's DMARC policy (RFC 9989)" },
	{ "dmarc_org_domain", CT_STR, OFF(dmarc_org_domain), "treewalk", NOLIM,
	  check_dmarc_orgmode, "how policies and organizational domains are "
	  "found: treewalk (RFC 9989) or psl (RFC 7489)" },
	{ "dmarc_psl_file", CT_STR, OFF(dmarc_psl_file),
	  "/usr/share/publicsuffix/public_suffix_list.dat", NOLIM, NULL,
	  "Public Suffix List for dmarc_org_domain = psl" },
	{ "dmarc_max_queries", CT_UINT, OFF(dmarc_max_queries), "24", 8, 200,
	  NULL, "DNS queries one DMARC evaluation may send" },
	{ "dmarc_from_missing_action", CT_STR, OFF(dmarc_from_missing_action),
	  "reject", NOLIM, check_dmarc_action,
	  "no From field, or no address in it: reject, quarantine or none" },
	{ "dmarc_from_multiple_action", CT_STR,
	  OFF(dmarc_from_multiple_action), "reject", NOLIM, check_dmarc_action,
	  "several From fields: reject, quarantine or none" },
	{ "dmarc_from_multi_author_action", CT_STR,
	  OFF(dmarc_from_multi_author_action), "reject", NOLIM,
	  check_dmarc_action,
	  "a From with addresses in several domains: reject, quarantine, none" },
	{ "dmarc_from_invalid_action", CT_STR, OFF(dmarc_from_invalid_action),
	  "quarantine", NOLIM, check_dmarc_action,
	  "a From that does not parse or has a bad domain: reject, quarantine, "
	  "none" },
	{ "dmarc_temperror_action", CT_STR, OFF(dmarc_temperror_action), "none",
	  NOLIM, check_dmarc_temp_action,
	  "DMARC could not be checked (DNS): none (accept) or tempfail" },
	{ "dmarc_never_reject", CT_BOOL, OFF(dmarc_never_reject), "no", NOLIM,
	  NULL, "tag (quarantine) instead of rejecting for p=reject" },
	{ "dmarc_quarantine_milter", CT_BOOL, OFF(dmarc_quarantine_milter), "no",
	  NOLIM, NULL, "ask the MTA to hold p=quarantine failures in its "
	  "quarantine (smfi_quarantine) as well as tagging them" },
	{ "dmarc_allow_domains", CT_LIST, OFF(dmarc_allow_domains), "", NOLIM,
	  check_domain, "From domains (and their subdomains) whose DMARC "
	  "policy is not applied (results are still reported)" },
	{ "dmarc_report_dir", CT_STR, OFF(dmarc_report_dir), "", NOLIM, NULL,
	  "directory of the aggregate report store (empty: no recording)" },
	{ "dmarc_report_org", CT_STR, OFF(dmarc_report_org), "", NOLIM, NULL,
	  "org_name in aggregate reports (empty: host name)" },
	{ "dmarc_report_email", CT_STR, OFF(dmarc_report_email), "", NOLIM,
	  check_mailbox, "contact and sender of reports (empty: postmaster@host name)" },
	{ "dmarc_report_sendmail", CT_STR, OFF(dmarc_report_sendmail),
	  "/usr/sbin/sendmail", NOLIM, NULL,
	  "sendmail(1) program that `dmarc report --send` uses" },
	{ "dmarc_failure_reports", CT_BOOL, OFF(dmarc_failure_reports), "no",
	  NOLIM, NULL, "spool RFC 9991 failure reports (header fields only) "
	  "in dmarc_report_dir/failures for records with ruf=; "
	  "`dmarc failures --send` mails them" },
	{ "dmarc_failure_reports_max", CT_UINT, OFF(dmarc_failure_reports_max),
	  "100", 0, 1000000, NULL, "failure reports spooled per hour at most "
	  "(per daemon)" },
	{ "metrics_listen", CT_STR, OFF(metrics_listen), "", NOLIM,
	  check_metrics_listen, "Prometheus metrics endpoint (GET /metrics), "
	  "inet:PORT@ADDR, inet6:PORT@ADDR or unix:PATH; no authentication, "
	  "so loopback or a unix socket (empty: off; read at start only)" },
	{ "stats_interval", CT_UINT, OFF(stats_interval), "300", 0, 86400,
	  NULL, "seconds between the stats lines the daemon logs (0: none)" },
	{ "scope_dir", CT_STR, OFF(scope_dir), MW_DEFAULT_SCOPE_DIR,
	  NOLIM, NULL, "policy scopes, one NAME.conf file each, tried in name "
	  "order, the first that selects a message applies (doc/scopes.md); "
	  "empty or a missing default directory: none" },
	/* sample store for `mailwarden replay` (doc/replay.md) */
	{ "sample_dir", CT_STR, OFF(sample_dir), "", NOLIM, NULL,
	  "keep copies of sampled messages (envelope, headers, body up to "
	  "max_scan_bytes, DNS answers) here for replay; personal data: "
	  "a directory closed to group and others, or one to be made "
	  "(0700) in an existing directory, checked at load (empty: off)" },
	{ "sample", CT_STR, OFF(sample), "reject tag 1%", NOLIM,
	  sample_policy_check, "which messages are sampled: actions kept "
	  "whole (accept, tag, reject, tempfail) and a share of the others "
	  "(N%)" },
	{ "sample_max_size", CT_SIZE, OFF(sample_max_size), "256M", 1024,
	  1024.0 * 1024 * 1024 * 1024, NULL,
	  "bytes of samples kept; the oldest go first" },
	{ "sample_max_count", CT_UINT, OFF(sample_max_count), "10000", 1,
	  10000000, NULL, "samples kept; the oldest go first" },
	{ "sample_max_age", CT_UINT, OFF(sample_max_age), "72", 1, 8760, NULL,
	  "hours a sample is kept" },
	{ "arc_verify", CT_BOOL, OFF(arc_verify), "yes", NOLIM, NULL,
	  "verify ARC chains (RFC 8617) of mail that is scored" },
	{ "arc_max_sets", CT_UINT, OFF(arc_max_sets), "50", 1, ARC_MAX_SETS,
	  NULL, "ARC sets a chain may have; more fail it unparsed" },
	{ "arc_trusted_sealers", CT_LIST, OFF(arc_trusted_sealers), "", NOLIM,
	  check_domain, "ARC sealer domains (seal d=) whose "
	  "ARC-Authentication-Results may turn a DMARC failure into "
	  "disposition none when the chain passes" },
	{ "policy_store", CT_STR, OFF(policy_store), "", NOLIM,
	  check_policy_store, "state of rate limits, greylisting and "
	  "spam-trap clients: a directory (LMDB, one host) or "
	  "redis://HOST:PORT/DB (shared by several hosts); empty: off" },
	{ "policy_redis_timeout", CT_UINT, OFF(policy_redis_timeout), "200",
	  10, 60000, NULL, "policy store Redis connect and command timeout, "
	  "milliseconds" },
	{ "policy_redis_retry", CT_UINT, OFF(policy_redis_retry), "5", 0,
	  3600, NULL, "seconds rate limits and greylisting are skipped after "
	  "a Redis failure" },
	{ "policy_redis_prefix", CT_STR, OFF(policy_redis_prefix), "mwp:",
	  NOLIM, check_redis_prefix, "prefix of every Redis key of the "
	  "policy store" },
	{ "ratelimit_user", CT_LIST, OFF(ratelimit_user), "", NOLIM,
	  ratelimit_check_item, "limits per SMTP AUTH user: COUNT/WINDOW "
	  "messages or rcpt:COUNT/WINDOW recipients, WINDOW a number with s, "
	  "m, h or d (100/1h 1000/1d); over one: 451 4.7.1" },
	{ "ratelimit_client", CT_LIST, OFF(ratelimit_client), "", NOLIM,
	  ratelimit_check_item, "limits per client address, as "
	  "ratelimit_user" },
	{ "ratelimit_sender_domain", CT_LIST, OFF(ratelimit_sender_domain),
	  "", NOLIM, ratelimit_check_item, "limits per MAIL FROM domain, as "
	  "ratelimit_user" },
	{ "ratelimit_user_block", CT_LIST, OFF(ratelimit_user_block), "",
	  NOLIM, ratelimit_check_item, "hard limits per SMTP AUTH user: over "
	  "one, the user's mail is deferred until `mailwarden ratelimit "
	  "clear` (as ratelimit_user)" },
	{ "greylist", CT_BOOL, OFF(greylist), "no", NOLIM, NULL,
	  "greylist scored mail whose score is from greylist_score to below "
	  "tag_score (needs policy_store)" },
	{ "greylist_score", CT_DOUBLE, OFF(greylist_score), "-1000", -1000,
	  1000, NULL, "lowest score greylisted (-1000: all mail below "
	  "tag_score)" },
	{ "greylist_delay", CT_UINT, OFF(greylist_delay), "300", 0, 86400,
	  NULL, "seconds before a retry of a new (client network, sender, "
	  "recipient) triplet is accepted" },
	{ "greylist_expire", CT_UINT, OFF(greylist_expire), "86400", 60,
	  30 * 86400, NULL, "seconds a first try waits for its retry before "
	  "it is forgotten" },
	{ "greylist_pass_expire", CT_UINT, OFF(greylist_pass_expire),
	  "3024000", 3600, 366 * 86400, NULL, "seconds a triplet that passed "
	  "is remembered after its last message" },
	{ "greylist_allow_domains", CT_LIST, OFF(greylist_allow_domains), "",
	  NOLIM, check_domain, "domains (and subdomains) whose mail with a "
	  "valid DKIM signature is not greylisted" },
	{ "greylist_allow_after", CT_UINT, OFF(greylist_allow_after), "5", 0,
	  1000000, NULL, "triplets a client network must have passed to be "
	  "no longer greylisted (0: always greylist)" },
	{ "trap_expire", CT_UINT, OFF(trap_expire), "604800", 60, 366 * 86400,
	  NULL, "seconds a client that wrote to a spam trap (rcpt_reject "
	  "scope) stays recorded in policy_store" },
	{ "trap_client_action", CT_STR, OFF(trap_client_action), "score",
	  NOLIM, check_trap_action, "mail from a client recorded by a spam "
	  "trap (MW_TRAP_CLIENT): score (the symbol's score only), tempfail "
	  "(451 4.7.1) or reject (550 5.7.1)" },
	{ "dmarc_trusted_forwarders", CT_LIST, OFF(dmarc_trusted_forwarders),
	  "", NOLIM, check_forwarder, "clients (address, network, or a "
	  "verified client host name and its subdomains) whose DMARC "
	  "failures are tagged, not rejected" },
};

#define NKEYS	(sizeof(conf_keys) / sizeof(conf_keys[0]))

/* check_socket - unix:PATH, local:PATH, inet:PORT@HOST, inet6:PORT@HOST */
static int
check_socket(const char *v, struct buf *why)
{
	const char *at;
	uint64_t port;
	char tmp[16];
	size_t n;

	if (str_has_iprefix(v, "unix:") || str_has_iprefix(v, "local:")) {
		if (strchr(v, ':')[1] != '/') {
			buf_adds(why, "unix socket path must be absolute");
			return -1;
		}
		return 0;
	}
	if (str_has_iprefix(v, "inet:") || str_has_iprefix(v, "inet6:")) {
		v = strchr(v, ':') + 1;
		at = strchr(v, '@');
		n = at ? (size_t)(at - v) : strlen(v);
		if (n == 0 || n >= sizeof(tmp))
			goto badport;
		memcpy(tmp, v, n);
		tmp[n] = '\0';
		if (parse_uint(tmp, 1, 65535, &port) < 0)
			goto badport;
		return 0;
	}
	buf_adds(why, "expected unix:PATH or inet:PORT@ADDR");
	return -1;
badport:
	buf_adds(why, "bad port number");
	return -1;
}

/* check_policy_store - empty, an absolute directory or a Redis URL */
static int
check_policy_store(const char *v, struct buf *why)
{
	return pstore_spec_valid(v, why);
}

/* check_metrics_listen - empty (off) or a socket as check_socket() */
static int
check_metrics_listen(const char *v, struct buf *why)
{
	if (*v == '\0')
		return 0;
	return check_socket(v, why);
}

static const char *const level_names[] = { "debug", "info", "warning", "error" };

static int
check_level(const char *v, struct buf *why)
{
	size_t i;

	for (i = 0; i < 4; i++)
		if (str_ieq(v, level_names[i]))
			return 0;
	buf_adds(why, "expected debug, info, warning or error");
	return -1;
}

static const struct {
	const char *name;
	int value;
} facilities[] = {
	{ "mail", LOG_MAIL }, { "daemon", LOG_DAEMON }, { "user", LOG_USER },
	{ "local0", LOG_LOCAL0 }, { "local1", LOG_LOCAL1 },
	{ "local2", LOG_LOCAL2 }, { "local3", LOG_LOCAL3 },
	{ "local4", LOG_LOCAL4 }, { "local5", LOG_LOCAL5 },
	{ "local6", LOG_LOCAL6 }, { "local7", LOG_LOCAL7 },
};

static int
check_facility(const char *v, struct buf *why)
{
	size_t i;

	for (i = 0; i < sizeof(facilities) / sizeof(facilities[0]); i++)
		if (str_ieq(v, facilities[i].name))
			return 0;
	buf_adds(why, "unknown syslog facility");
	return -1;
}

static int
check_cidr(const char *v, struct buf *why)
{
	struct cidr c;

	if (cidr_parse(v, &c) < 0) {
		buf_adds(why, "not an address or network");
		return -1;
	}
	return 0;
}

/* check_hyperscan - auto, yes or no */
static int
check_hyperscan(const char *v, struct buf *why)
{
	if (strcmp(v, "auto") == 0 || strcmp(v, "yes") == 0 ||
	    strcmp(v, "no") == 0)
		return 0;
	buf_adds(why, "expected auto, yes or no");
	return -1;
}

bool
conf_hyperscan(const struct conf *c, bool daemon)
{
	return strcmp(c->rules_hyperscan, "yes") == 0 ||
	    (daemon && strcmp(c->rules_hyperscan, "auto") == 0);
}

/* check_score_set - auto or a digit 0-3 */
static int
check_score_set(const char *v, struct buf *why)
{
	if (strcmp(v, "auto") == 0 ||
	    (v[0] >= '0' && v[0] <= '3' && v[1] == '\0'))
		return 0;
	buf_adds(why, "expected auto, 0, 1, 2 or 3");
	return -1;
}

int
conf_score_set(const struct conf *c)
{
	return strcmp(c->rules_score_set, "auto") == 0 ? -1 :
	    c->rules_score_set[0] - '0';
}

unsigned
conf_score_set_base(const struct conf *c)
{
	int set = conf_score_set(c);

	if (set >= 0)
		return (unsigned)set;
	return (c->bayes_store[0] ? 2u : 0u) +
	    (c->dnsbl.n || c->uribl.n ? 1u : 0u);
}

/* check_bayes_store - an absolute directory or a well-formed Redis URL */
static int
check_bayes_store(const char *v, struct buf *why)
{
	return bayes_store_spec_valid(v, why);
}

static int
check_redis_prefix(const char *v, struct buf *why)
{
	size_t i;

	for (i = 0; v[i]; i++)
		if (!ch_is_alnum((unsigned char)v[i]) &&
		    strchr(":_.-", v[i]) == NULL)
			break;
	if (i == 0 || v[i] || i > 64) {
		buf_adds(why, "expected 1 to 64 letters, digits or : _ . -");
		return -1;
	}
	return 0;
}

static int
check_dkim_partial(const char *v, struct buf *why)
{
	if (strcmp(v, "accept") == 0 || strcmp(v, "policy") == 0)
		return 0;
	buf_adds(why, "expected accept or policy");
	return -1;
}

/* check_field_name - RFC 5322 field name: printable ASCII but colon */
static int
check_field_name(const char *v, struct buf *why)
{
	const char *p;

	for (p = v; *p; p++)
		if (!ch_is_vchar((unsigned char)*p) || *p == ':') {
			buf_adds(why, "not a header field name");
			return -1;
		}
	return 0;
}

static int
check_dns_server(const char *v, struct buf *why)
{
	if (!dns_server_valid(v)) {
		buf_adds(why, "expected ADDR, ADDR:PORT or [IPV6]:PORT");
		return -1;
	}
	return 0;
}

static int
check_fail_action(const char *v, struct buf *why)
{
	if (str_ieq(v, "reject") || str_ieq(v, "tag") || str_ieq(v, "none"))
		return 0;
	buf_adds(why, "expected reject, tag or none");
	return -1;
}

static int
check_temp_action(const char *v, struct buf *why)
{
	if (str_ieq(v, "tempfail") || str_ieq(v, "accept"))
		return 0;
	buf_adds(why, "expected tempfail or accept");
	return -1;
}

static int
check_trap_action(const char *v, struct buf *why)
{
	if (str_ieq(v, "score") || str_ieq(v, "tempfail") ||
	    str_ieq(v, "reject"))
		return 0;
	buf_adds(why, "expected score, tempfail or reject");
	return -1;
}

/* conf_symbol_score - split "SYMBOL=SCORE"; 0 or -1 */
int
conf_symbol_score(const char *v, char *name, size_t namesz, double *score)
{
	const char *eq = strchr(v, '=');
	size_t n, i;

	if (eq == NULL || (n = (size_t)(eq - v)) == 0 || n >= namesz)
		return -1;
	for (i = 0; i < n; i++)
		if (!(ch_is_alnum((unsigned char)v[i]) || v[i] == '_' ||
		    v[i] == '-' || v[i] == '.'))
			return -1;
	memcpy(name, v, n);
	name[n] = '\0';
	return parse_double(eq + 1, -1000, 1000, score);
}

static int
check_symbol_score(const char *v, struct buf *why)
{
	char name[128];
	double d;

	if (conf_symbol_score(v, name, sizeof(name), &d) < 0) {
		buf_adds(why, "expected SYMBOL=SCORE, score from -1000 to 1000");
		return -1;
	}
	return 0;
}

static int
check_dmarc_action(const char *v, struct buf *why)
{
	if (str_ieq(v, "reject") || str_ieq(v, "quarantine") ||
	    str_ieq(v, "none"))
		return 0;
	buf_adds(why, "expected reject, quarantine or none");
	return -1;
}

static int
check_dmarc_temp_action(const char *v, struct buf *why)
{
	if (str_ieq(v, "none") || str_ieq(v, "tempfail"))
		return 0;
	buf_adds(why, "expected none or tempfail");
	return -1;
}

static int
check_dmarc_orgmode(const char *v, struct buf *why)
{
	if (str_ieq(v, "treewalk") || str_ieq(v, "psl"))
		return 0;
	buf_adds(why, "expected treewalk or psl");
	return -1;
}

static int
check_domain(const char *v, struct buf *why)
{
	char out[DOMAIN_MAX + 1];

	if (domain_to_alabel(v, strlen(v), out, sizeof(out)) < 0) {
		buf_adds(why, "not a domain name");
		return -1;
	}
	return 0;
}

/* check_forwarder - an address, a network or a host name */
static int
check_forwarder(const char *v, struct buf *why)
{
	struct cidr c;
	char out[DOMAIN_MAX + 1];

	if (cidr_parse(v, &c) == 0 ||
	    domain_to_alabel(v, strlen(v), out, sizeof(out)) == 0)
		return 0;
	buf_adds(why, "not an address, a network or a host name");
	return -1;
}

/* check_mailbox - local@domain as report mail may be sent from (smtpaddr) */
static int
check_mailbox(const char *v, struct buf *why)
{
	char out[SMTPADDR_MAX + 1];

	if (smtpaddr_parse(v, strlen(v), 0, out, sizeof(out)) < 0) {
		buf_adds(why, "not a mailbox address (local@domain, no display "
		    "name or comment)");
		return -1;
	}
	return 0;
}

/* field - address of a key's storage inside c */
static void *
field(struct conf *c, const struct conf_key *k)
{
	return (char *)c + k->off;
}

void
strlist_free(struct strlist *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

/* set_scalar - validate v for the non-list key k and store it into c */
static int
set_scalar(struct conf *c, const struct conf_key *k, const char *v,
    struct buf *why)
{
	void *f = field(c, k);
	uint64_t u;
	double d;
	bool b;

	switch (k->type) {
	case CT_STR:
		if (k->check && *v && k->check(v, why) < 0)
			return -1;
		free(*(char **)f);
		*(char **)f = xstrdup(v);
		return 0;
	case CT_UINT:
		if (parse_uint(v, (uint64_t)k->min, (uint64_t)k->max, &u) < 0) {
			buf_printf(why, "expected a whole number from %.0f to %.0f",
			    k->min, k->max);
			return -1;
		}
		*(uint64_t *)f = u;
		return 0;
	case CT_OCTAL: {
		char *end;
		unsigned long m = strtoul(v, &end, 8);

		if (*v == '\0' || *end != '\0' || m > (unsigned long)k->max) {
			buf_adds(why, "expected an octal mode such as 0660");
			return -1;
		}
		*(uint64_t *)f = m;
		return 0;
	}
	case CT_SIZE:
		if (parse_size(v, (uint64_t)k->min, (uint64_t)k->max, &u) < 0) {
			buf_printf(why, "expected a size (bytes, or with k/M/G) "
			    "from %.0f to %.0f bytes", k->min, k->max);
			return -1;
		}
		*(uint64_t *)f = u;
		return 0;
	case CT_DOUBLE:
		if (parse_double(v, k->min, k->max, &d) < 0) {
			buf_printf(why, "expected a number from %g to %g",
			    k->min, k->max);
			return -1;
		}
		*(double *)f = d;
		return 0;
	case CT_BOOL:
		if (parse_bool(v, &b) < 0) {
			buf_adds(why, "expected yes or no");
			return -1;
		}
		*(bool *)f = b;
		return 0;
	case CT_LIST:
		break;	/* set_list() */
	}
	return -1;
}

/*
 * bad_value - one error line: "where'value': reason" (where is
 * "FILE:LINE: key: "); reason is reset for the next check
 */
static void
bad_value(struct buf *why, const char *where, const char *v,
    struct buf *reason)
{
	buf_newline(why);
	buf_printf(why, "%sbad value '%.100s': %s", where, v,
	    buf_cstr(reason));
	buf_reset(reason);
}

/*
 * set_list - every item of v checked; one error line per bad item.
 * The key keeps its old value unless all items are good.
 */
static int
set_list(struct strlist *f, const struct conf_key *k, const char *v,
    const char *where, struct buf *why)
{
	struct strlist l = { NULL, 0 };
	struct buf reason = BUF_INIT;
	char *copy = xstrdup(v), *tok, *save = NULL;
	int rc = 0;

	for (tok = strtok_r(copy, " \t,", &save); tok;
	    tok = strtok_r(NULL, " \t,", &save)) {
		if (k->check && k->check(tok, &reason) < 0) {
			bad_value(why, where, tok, &reason);
			rc = -1;
			continue;
		}
		l.v = xreallocarray(l.v, l.n + 1, sizeof(char *));
		l.v[l.n++] = xstrdup(tok);
	}
	free(copy);
	buf_release(&reason);
	if (rc < 0) {
		strlist_free(&l);
		return -1;
	}
	strlist_free(f);
	*f = l;
	return 0;
}

/*
 * set_value - validate v for key k and store it into c; on error one
 * line per problem goes to why, each starting with where
 */
static int
set_value(struct conf *c, const struct conf_key *k, const char *v,
    const char *where, struct buf *why)
{
	struct buf reason = BUF_INIT;
	int rc;

	if (k->type == CT_LIST)
		return set_list(field(c, k), k, v, where, why);
	if ((rc = set_scalar(c, k, v, &reason)) < 0)
		bad_value(why, where, v, &reason);
	buf_release(&reason);
	return rc;
}

static const struct conf_key *
find_key(const char *name)
{
	size_t i;

	for (i = 0; i < NKEYS; i++)
		if (strcmp(conf_keys[i].name, name) == 0)
			return &conf_keys[i];
	return NULL;
}

void
conf_free(struct conf *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < NKEYS; i++) {
		void *f = field(c, &conf_keys[i]);

		if (conf_keys[i].type == CT_STR)
			free(*(char **)f);
		else if (conf_keys[i].type == CT_LIST)
			strlist_free(f);
	}
	free(c->trusted);
	free(c->key_line);
	free(c->path);
	free(c);
}

/* finish - derived values and cross-key checks */
static int
finish(struct conf *c, struct buf *why)
{
	size_t i;

	free(c->trusted);
	c->trusted = xcalloc(c->trusted_networks.n, sizeof(struct cidr));
	c->ntrusted = c->trusted_networks.n;
	for (i = 0; i < c->ntrusted; i++)
		(void)cidr_parse(c->trusted_networks.v[i], &c->trusted[i]);
	if (gethostname(c->hostname, sizeof(c->hostname) - 1) < 0 ||
	    c->hostname[0] == '\0')
		strcpy(c->hostname, "localhost");
	if (policy_check_conf(c, why) < 0)
		return -1;
	if (c->tag_score > c->reject_score) {
		buf_newline(why);
		conf_where(c, "tag_score", why);
		buf_printf(why, "%g must not exceed reject_score (%g",
		    c->tag_score, c->reject_score);
		if (conf_key_line(c, "reject_score"))
			buf_printf(why, ", %s:%u", c->path,
			    conf_key_line(c, "reject_score"));
		buf_adds(why, ")");
		return -1;
	}
	return 0;
}

struct conf *
conf_defaults(void)
{
	struct conf *c = xcalloc(1, sizeof(*c));
	struct buf why = BUF_INIT;
	size_t i;

	c->path = xstrdup("(defaults)");
	c->key_line = xcalloc(NKEYS, sizeof(*c->key_line));
	for (i = 0; i < NKEYS; i++)
		if (set_value(c, &conf_keys[i], conf_keys[i].def, "default: ",
		    &why) < 0)
			log_panic("%s: %s", conf_keys[i].name, buf_cstr(&why));
	if (finish(c, &why) < 0)
		log_panic("defaults: %s", buf_cstr(&why));
	buf_release(&why);
	return c;
}

/*
 * next_logical_line - join a line with its continuation lines (those
 * that start with white space); strip comments.  Returns false at EOF.
 */
static bool
next_logical_line(const char **pp, const char *end, struct buf *line,
    unsigned *lineno, unsigned *startline)
{
	const char *p = *pp;
	bool have = false;

	buf_reset(line);
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *eol = nl ? nl : end;
		const char *hash, *q = p;
		bool blank, cont;

		while (q < eol && ch_is_space((unsigned char)*q))
			q++;
		blank = q == eol || *q == '#';
		cont = p < eol && ch_is_wsp((unsigned char)*p);
		if (have && !cont && !blank)
			break;	/* next logical line starts here */
		(*lineno)++;
		if (!blank) {
			if (!have)
				*startline = *lineno;
			have = true;
			hash = memchr(p, '#', (size_t)(eol - p));
			if (line->len)
				buf_addc(line, ' ');
			buf_add(line, p, (size_t)((hash ? hash : eol) - p));
		}
		p = nl ? nl + 1 : end;
	}
	*pp = p;
	return have;
}

bool
conf_next_line(const char **pp, const char *end, struct buf *line,
    unsigned *lineno, unsigned *startline)
{
	return next_logical_line(pp, end, line, lineno, startline);
}

/* key_suggest_get - str_suggest() over the key table */
static const char *
key_suggest_get(size_t i, void *arg)
{
	(void)arg;
	return conf_keys[i].name;
}

/* parse_line - one logical "key = value" line; errors appended to why */
static int
parse_line(struct conf *c, char *s, unsigned line, struct buf *why)
{
	struct buf where = BUF_INIT;
	const struct conf_key *k;
	const char *near;
	char *eq, *key, *val;
	int rc = -1;

	if ((eq = strchr(s, '=')) == NULL) {
		buf_newline(why);
		buf_printf(why, "%s:%u: expected 'key = value': %.80s",
		    c->path, line, s);
		return -1;
	}
	*eq = '\0';
	key = str_trim(s);
	val = str_trim(eq + 1);
	if ((k = find_key(key)) == NULL) {
		buf_newline(why);
		buf_printf(why, "%s:%u: %.80s: unknown key", c->path, line,
		    key);
		if ((near = str_suggest(key, key_suggest_get, NKEYS, NULL)))
			buf_printf(why, "; did you mean %s?", near);
		return -1;
	}
	buf_printf(&where, "%s:%u: %s: ", c->path, line, key);
	if (set_value(c, k, val, buf_cstr(&where), why) == 0) {
		c->key_line[k - conf_keys] = line;
		rc = 0;
	}
	buf_release(&where);
	return rc;
}

/*
 * parse_all - every line is read even after an error, so that one run
 * reports every mistake (like postconf and spamassassin --lint); *out
 * is the snapshot either way, with bad settings left at what they were
 */
static int
parse_all(const char *text, size_t len, const char *origin,
    struct conf **out, struct buf *why)
{
	struct conf *c = conf_defaults();
	struct buf line = BUF_INIT;
	const char *p = text, *end = text + len;
	unsigned lineno = 0, start = 0;
	int rc = 0;

	free(c->path);
	c->path = xstrdup(origin);
	if (memchr(text, '\0', len) != NULL) {
		buf_newline(why);
		buf_printf(why, "%s: file contains a NUL byte", origin);
		rc = -1;
		p = end;
	}
	while (next_logical_line(&p, end, &line, &lineno, &start))
		if (parse_line(c, str_trim(line.data), start, why) < 0)
			rc = -1;
	if (finish(c, why) < 0)
		rc = -1;
	buf_release(&line);
	*out = c;
	return rc;
}

int
conf_parse(const char *text, size_t len, const char *origin,
    struct conf **out, struct buf *why)
{
	int rc = parse_all(text, len, origin, out, why);

	if (rc < 0) {
		conf_free(*out);
		*out = NULL;
	}
	return rc;
}

int
conf_load_all(const char *path, struct conf **out, struct buf *why)
{
	struct buf text = BUF_INIT;
	int rc;

	/* the explicit choice of the built-in defaults (mailwarden(8)) */
	if (strcmp(path, MW_NO_CONF) == 0)
		return conf_parse("", 0, path, out, why);
	if (files_read(path, 1024 * 1024, &text, why) < 0) {
		*out = NULL;
		return -1;
	}
	rc = parse_all(text.data, text.len, path, out, why);
	buf_release(&text);
	return rc;
}

int
conf_load(const char *path, struct conf **out, struct buf *why)
{
	int rc = conf_load_all(path, out, why);

	if (rc < 0) {
		conf_free(*out);
		*out = NULL;
	}
	return rc;
}

/* format_value - the canonical text of key k in c */
static void
format_value(const struct conf *c, const struct conf_key *k, struct buf *out)
{
	const void *f = (const char *)c + k->off;
	size_t i;

	switch (k->type) {
	case CT_STR:
		buf_adds(out, *(char *const *)f);
		break;
	case CT_UINT:
	case CT_SIZE:
		buf_printf(out, "%llu",
		    (unsigned long long)*(const uint64_t *)f);
		break;
	case CT_OCTAL:
		buf_printf(out, "%04llo",
		    (unsigned long long)*(const uint64_t *)f);
		break;
	case CT_DOUBLE:
		buf_printf(out, "%g", *(const double *)f);
		break;
	case CT_BOOL:
		buf_adds(out, *(const bool *)f ? "yes" : "no");
		break;
	case CT_LIST: {
		const struct strlist *l = f;

		for (i = 0; i < l->n; i++) {
			if (i)
				buf_addc(out, ' ');
			buf_adds(out, l->v[i]);
		}
		break;
	}
	}
}

int
conf_value(const struct conf *c, const char *key, struct buf *out)
{
	const struct conf_key *k = find_key(key);

	if (k == NULL)
		return -1;
	format_value(c, k, out);
	return 0;
}

void
conf_dump(const struct conf *c, struct buf *out)
{
	size_t i;

	buf_printf(out, "# effective configuration from %s\n", c->path);
	for (i = 0; i < NKEYS; i++) {
		buf_printf(out, "%s = ", conf_keys[i].name);
		format_value(c, &conf_keys[i], out);
		buf_addc(out, '\n');
	}
}

void
conf_reference(struct buf *out)
{
	size_t i;

	for (i = 0; i < NKEYS; i++) {
		if (conf_keys[i].def[0])
			buf_printf(out, "| `%s` | `%s` | %s |\n",
			    conf_keys[i].name, conf_keys[i].def, conf_keys[i].doc);
		else
			buf_printf(out, "| `%s` | (empty) | %s |\n",
			    conf_keys[i].name, conf_keys[i].doc);
	}
}

/* roff_text - s for a man page: backslash, hyphen, leading dot or quote */
static void
roff_text(struct buf *out, const char *s)
{
	if (*s == '.' || *s == '\'')
		buf_adds(out, "\\&");
	for (; *s; s++) {
		if (*s == '\\')
			buf_adds(out, "\\e");
		else if (*s == '-')
			buf_adds(out, "\\-");
		else
			buf_addc(out, *s);
	}
}

/*
 * doc_ref_len - length of a "doc/NAME.md" reference at s, or 0.  The
 * key descriptions name the project's documents as the source tree
 * does; a man page names them where they are installed.
 */
static size_t
doc_ref_len(const char *s)
{
	size_t n = 4;

	if (strncmp(s, "doc/", 4) != 0)
		return 0;
	while (isalnum((unsigned char)s[n]) || s[n] == '-' || s[n] == '_')
		n++;
	return n > 4 && strncmp(s + n, ".md", 3) == 0 ? n + 3 : 0;
}

/*
 * roff_doc_text - a key description for the man page: `code` in bold,
 * and doc/NAME.md as the installed @docdir@/NAME.md (make substitutes
 * the directory) on a line of its own, trailing punctuation kept.
 */
static void
roff_doc_text(struct buf *out, const char *s)
{
	struct buf t = BUF_INIT;
	const char *p = s;
	size_t n, punct;
	bool bold = false;

	for (; *p; p++) {
		n = doc_ref_len(p);
		if (*p == '`' && (bold || strchr(p + 1, '`') != NULL)) {
			roff_text(out, buf_cstr(&t));
			buf_reset(&t);
			buf_adds(out, bold ? "\\fR" : "\\fB");
			bold = !bold;
		} else if (n && (p == s || p[-1] == ' ' || p[-1] == '(')) {
			while (t.len && t.data[t.len - 1] == ' ')
				buf_truncate(&t, t.len - 1);
			roff_text(out, buf_cstr(&t));
			buf_reset(&t);
			buf_adds(out, out->len && out->data[out->len - 1] != '\n' ?
			    "\n.IR @docdir@" : ".IR @docdir@");
			buf_add(&t, p + 3, n - 3);
			roff_text(out, buf_cstr(&t));
			buf_reset(&t);
			p += n;
			punct = strcspn(p, " ");
			buf_adds(out, " \"");
			buf_add(out, p, punct);
			buf_adds(out, "\"\n");
			p += punct + (p[punct] == ' ');
			p--;
		} else
			buf_addc(&t, *p);
	}
	roff_text(out, buf_cstr(&t));
	buf_release(&t);
}

void
conf_reference_man(struct buf *out)
{
	size_t i;

	for (i = 0; i < NKEYS; i++) {
		buf_adds(out, ".TP\n.B ");
		roff_text(out, conf_keys[i].name);
		buf_adds(out, "\n");
		roff_doc_text(out, conf_keys[i].doc);
		if (out->data[out->len - 1] != '\n')
			buf_addc(out, '\n');
		buf_adds(out, ".br\nDefault: ");
		if (conf_keys[i].def[0]) {
			buf_adds(out, "\\fB");
			roff_text(out, conf_keys[i].def);
			buf_adds(out, "\\fR");
		} else
			buf_adds(out, "empty");
		buf_adds(out, ".\n");
	}
}

void
conf_reference_conf(struct buf *out, const char *path)
{
	size_t i;

	buf_printf(out, "# %s - the reference configuration of mailwarden "
	    "%s:\n# every key, commented out, with its default and meaning "
	    "(generated\n# from the program's key table; mailwarden.conf(5) "
	    "has the details).\n# Uncomment and change what you need; "
	    "'mailwarden config -n' checks the file.\n", path,
	    PACKAGE_VERSION);
	for (i = 0; i < NKEYS; i++)
		buf_printf(out, "\n# %s\n#%s = %s\n", conf_keys[i].doc,
		    conf_keys[i].name, conf_keys[i].def);
}

struct conf *
conf_clone(const struct conf *c, const char *path)
{
	struct conf *d = xmalloc(sizeof(*d));
	size_t i, j;

	*d = *c;
	for (i = 0; i < NKEYS; i++) {
		void *f = field(d, &conf_keys[i]);

		if (conf_keys[i].type == CT_STR)
			*(char **)f = xstrdup(*(char **)f);
		else if (conf_keys[i].type == CT_LIST) {
			struct strlist *l = f;
			char **v = l->n ? xcalloc(l->n, sizeof(char *)) : NULL;

			for (j = 0; j < l->n; j++)
				v[j] = xstrdup(l->v[j]);
			l->v = v;
		}
	}
	d->path = xstrdup(path);
	d->key_line = xcalloc(NKEYS, sizeof(*d->key_line));
	d->trusted = xcalloc(c->ntrusted, sizeof(struct cidr));
	if (c->ntrusted)
		memcpy(d->trusted, c->trusted, c->ntrusted * sizeof(struct cidr));
	return d;
}

int
conf_set(struct conf *c, const char *key, const char *value, unsigned line,
    struct buf *why)
{
	const struct conf_key *k = find_key(key);
	struct buf where = BUF_INIT;
	int rc;

	buf_printf(&where, "%s:%u: %s: ", c->path, line, key);
	if (k == NULL) {
		buf_newline(why);
		buf_printf(why, "%sunknown key", buf_cstr(&where));
		rc = -1;
	} else if ((rc = set_value(c, k, value, buf_cstr(&where), why)) == 0)
		c->key_line[k - conf_keys] = line;
	buf_release(&where);
	return rc;
}

const char *
conf_suggest_key(const char *key)
{
	return str_suggest(key, key_suggest_get, NKEYS, NULL);
}

unsigned
conf_key_line(const struct conf *c, const char *key)
{
	const struct conf_key *k = find_key(key);

	return k ? c->key_line[k - conf_keys] : 0;
}

void
conf_where(const struct conf *c, const char *key, struct buf *out)
{
	unsigned line = conf_key_line(c, key);

	if (line)
		buf_printf(out, "%s:%u: %s: ", c->path, line, key);
	else
		buf_printf(out, "%s: %s: ", c->path, key);
}

size_t
conf_key_count(void)
{
	return NKEYS;
}

const char *
conf_key_name(size_t i)
{
	return i < NKEYS ? conf_keys[i].name : NULL;
}

bool
conf_is_trusted(const struct conf *c, const struct netaddr *na)
{
	size_t i;

	if (na->family == 0)
		return false;
	for (i = 0; i < c->ntrusted; i++)
		if (cidr_match(&c->trusted[i], na))
			return true;
	return false;
}

const char *
conf_authserv_id(const struct conf *c)
{
	return c->authserv_id[0] ? c->authserv_id : c->hostname;
}

void
conf_dmarc_reporter(const struct conf *c, struct buf *out)
{
	if (c->dmarc_report_email[0])
		buf_adds(out, c->dmarc_report_email);
	else
		buf_printf(out, "postmaster@%s", c->hostname);
}

int
conf_syslog_facility(const struct conf *c)
{
	size_t i;

	for (i = 0; i < sizeof(facilities) / sizeof(facilities[0]); i++)
		if (str_ieq(c->syslog_facility, facilities[i].name))
			return facilities[i].value;
	return LOG_MAIL;
}

int
conf_log_level(const struct conf *c)
{
	int i;

	for (i = 0; i < 4; i++)
		if (str_ieq(c->log_level, level_names[i]))
			return i;
	return 1;
}
