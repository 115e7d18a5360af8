/*
 * helpers.h - shared bits of the Check unit tests
 */
#ifndef MW_TEST_HELPERS_H
#define MW_TEST_HELPERS_H

#include <check.h>

#include "engine.h"
#include "msg.h"
#include "scan.h"

/* test_data - path under tests/data (static buffer) */
const char *test_data(const char *rel);
/* shared_data - path under ../shared (static buffer), NULL if absent */
const char *shared_data(const char *rel);

/*
 * test_engine - engine from config text (fails the test on error); DNS
 * answers come from tests/data/dns/empty.zone unless the text sets
 * dns_zone_files itself (the last setting wins)
 */
struct engine *test_engine(const char *conf_text);

/*
 * test_scan_text - parse a whole message from text into a new msg
 * with the given envelope and run the scan; caller frees both.
 */
struct scan *test_scan_text(struct engine *, const char *ip, const char *helo,
	    const char *from, const char *rcpt, const char *text, size_t len,
	    struct msg **msgp);

/*
 * test_mime_text - a new msg holding the message text (no envelope) and
 * its MIME view with the default limits; caller frees both
 */
struct mime_msg *test_mime_text(const char *text, struct msg **msgp);

/* test_rules - a rule set from rule-file text "t.cf" (fails the test
 * with every diagnostic when it does not load) */
struct ruleset *test_rules(const char *text);
/* test_mkdtemp - a new directory /tmp/NAME.XXXXXX into buf (cap bytes) */
void	test_mkdtemp(char *buf, size_t cap, const char *name);
/* test_rmtree - remove a directory made by test_mkdtemp() */
void	test_rmtree(const char *dir);

/* run_suite - the common main(): run one suite, exit status for make */
int	run_suite(Suite *);

#endif
