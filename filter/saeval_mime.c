/*
 * saeval_mime.c - SpamAssassin's MIME and HTML eval: tests
 *
 * DESCRIPTION
 *	The family of html_test, html_range, check_for_mime*, ... (see
 *	saeval.h for the contract).  Empty here: its functions are added
 *	by the MIME/HTML work, in this file only.
 */
#include "config.h"

#include "saeval.h"

static const struct saeval_fn fns[] = {
	{ NULL, 0, 0, 0, NULL, NULL, NULL }
};

const struct saeval_family saeval_mime_family = {
	"mime", fns, 0, NULL, 0, NULL
};
