/*
 * cli.h - the subcommands of the mailwarden program
 *
 * DESCRIPTION
 *	Each cli_<name>() takes the arguments after the subcommand name
 *	(argv[0] is the subcommand) and returns the process exit status.
 *	They live in the library so tests can call them; main.c only
 *	dispatches.
 */
#ifndef MW_CLI_H
#define MW_CLI_H

#include <stdint.h>
#include <stdio.h>
#include <time.h>

struct engine;
struct buf;

int	cli_scan(int argc, char **argv);
int	cli_config(int argc, char **argv);
int	cli_dkim(int argc, char **argv);	/* cli_dkim.c */
int	cli_train(int argc, char **argv);
int	cli_bayes(int argc, char **argv);
int	cli_rules(int argc, char **argv);	/* cli_rules.c */
int	cli_symbols(int argc, char **argv);	/* cli_symbols.c */
int	cli_rules_fit(int argc, char **argv);	/* cli_fit.c */
int	cli_dns(int argc, char **argv);
int	cli_spf(int argc, char **argv);
int	cli_dmarc(int argc, char **argv);
int	cli_log(int argc, char **argv);
int	cli_status(int argc, char **argv);	/* cli_status.c */
int	cli_replay(int argc, char **argv);	/* cli_replay.c */
int	cli_log_label(int argc, char **argv);	/* cli_label.c */
int	cli_arc(int argc, char **argv);	/* cli_arc.c */
int	cli_ratelimit(int argc, char **argv);	/* cli_ratelimit.c */

/*
 * cli_load_engine - the engine for a command: path from -c, else the
 * default file if it exists, else built-in defaults.  Prints errors.
 */
struct engine *cli_load_engine(const char *path);
/* cli_load_conf - the same for the configuration alone */
struct conf;
struct conf *cli_load_conf(const char *path);
/*
 * cli_load_scope_conf - cli_load_conf(), or with scope non-NULL the
 * effective configuration of that policy scope (its Bayes store)
 */
struct conf *cli_load_scope_conf(const char *path, const char *scope);
/*
 * cli_verify_files - "CMD [-c FILE] [--time SECONDS] FILE...": load the
 * engine, call verify() for each file as at --time (or now); the worst
 * status returned (0 pass, 1 no pass, 2 error), 2 on usage errors
 */
int	 cli_verify_files(int argc, char **argv, const char *cmd,
	    int (*verify)(struct engine *, time_t now, const char *path));
/* cli_print_lines - each line of text (a why buffer) as "PREFIXline" */
void	 cli_print_lines(FILE *, const char *prefix, const char *text);

/*
 * cli_resolver - a resolver for dns/spf: engine_resolver_open() (the
 * milter's resolver, dns_zone_files included) with the zone files or
 * servers given on the command line in place of the configured ones;
 * timeout <= 0 and retries < 0 keep the configured values.  No
 * prefetch threads.  Prints errors.
 */
struct dns_resolver *cli_resolver(const struct conf *, char **servers,
	    size_t nservers, char **zones, size_t nzones, double timeout,
	    long retries);

/*
 * cli_dns_trace - a dns_trace_fn (dns.h) printing "query NAME TYPE
 * status ttl= time=" and the records, as `mailwarden dns` does
 */
struct dns_answer;
void	cli_dns_trace(void *arg, const char *name, uint16_t type,
	    const struct dns_answer *, double ms);

#endif
