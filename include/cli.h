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

struct engine;
struct buf;

int	cli_scan(int argc, char **argv);
int	cli_config(int argc, char **argv);
int	cli_dkim(int argc, char **argv);	/* cli_dkim.c */
int	cli_train(int argc, char **argv);
int	cli_bayes(int argc, char **argv);
int	cli_rules(int argc, char **argv);	/* cli_rules.c */
int	cli_rules_fit(int argc, char **argv);	/* cli_fit.c */
int	cli_dns(int argc, char **argv);
int	cli_spf(int argc, char **argv);
int	cli_dmarc(int argc, char **argv);
int	cli_log(int argc, char **argv);

/*
 * cli_load_engine - the engine for a command: path from -c, else the
 * default file if it exists, else built-in defaults.  Prints errors.
 */
struct engine *cli_load_engine(const char *path);

/*
 * cli_resolver - a resolver for dns/spf: zone files if any are given,
 * else ldns with the given servers (or the configured ones); timeout
 * <= 0 and retries < 0 keep the configured values.  Prints errors.
 */
struct conf;
struct dns_resolver *cli_resolver(const struct conf *, char **servers,
	    size_t nservers, char **zones, size_t nzones, double timeout,
	    long retries);

#endif
