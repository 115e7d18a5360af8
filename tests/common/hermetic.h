/*
 * hermetic.h - the configuration every engine a test builds starts from
 *
 * TEST_HERMETIC_CONF leaves no path at a default that points into the
 * installation: after `make install` the default rules_dir holds the
 * shipped rules and rules_site_dir the site's, and a test engine reading
 * them tags clean test mail (and scope_dir, the site's policy scopes).  Configuration text starts with it; a test
 * that wants rules names their directory after it (the last setting of
 * a key wins).
 */
#ifndef MW_TEST_HERMETIC_H
#define MW_TEST_HERMETIC_H

#define TEST_HERMETIC_CONF	"rules_dir =\nrules_site_dir =\nscope_dir =\n"

#endif
