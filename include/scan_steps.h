/*
 * scan_steps.h - the check steps scan.c runs (private to the pipeline)
 *
 * DESCRIPTION
 *	Each step lives in filter/step_<name>.c, reads the message and the
 *	engine through struct scan and writes only into s->verdict.
 */
#ifndef MW_SCAN_STEPS_H
#define MW_SCAN_STEPS_H

#include <stdbool.h>
#include <stddef.h>

struct scan;

/* step_message.c: limits hit and malformed headers become symbols */
void	step_message_end(struct scan *, void *);
/* step_lists.c: local client / sender / HELO access lists */
void	step_lists_end(struct scan *, void *);
/* step_dkim.c: verify inbound signatures, sign trusted mail */
void	*step_dkim_begin(struct scan *);
void	step_dkim_body(struct scan *, void *, const unsigned char *, size_t);
void	step_dkim_end(struct scan *, void *);
void	step_dkim_free(void *);
/*
 * dkim_scan_results - per-signature results of a scan once the dkim
 * step has run (DMARC runs after it); 0 when the message was not
 * verified or carried no signature.  Valid until scan_free().  For
 * each signature its result and d= domain (lower case, validated),
 * plus the rest of struct dkim_sigresult (dkim.h).
 */
struct dkim_sigresult;
size_t	dkim_scan_results(const struct scan *,
	    const struct dkim_sigresult **out);
/* step_arc.c: verify the ARC chain (RFC 8617); no sealing */
void	*step_arc_begin(struct scan *);
void	step_arc_body(struct scan *, void *, const unsigned char *, size_t);
void	step_arc_end(struct scan *, void *);
void	step_arc_free(void *);
/*
 * arc_scan_result - the chain result once the arc step has run (DMARC
 * runs after it); NULL when ARC was not verified.  Valid until
 * scan_free().
 */
struct arc_result;
const struct arc_result *arc_scan_result(const struct scan *);
/*
 * dmarc_trusted_forwarder - (dmarc_forwarder.c) did a failing message
 * come through a forwarder the configuration trusts: a trusted ARC
 * sealer of a passing chain that saw DMARC (or aligned SPF/DKIM) pass
 * for author (DMARC_FWD_ARC: disposition none), or a
 * dmarc_trusted_forwarders client (DMARC_FWD_CLIENT: tagged, not
 * rejected)?  comment (size n) then names it.
 */
enum dmarc_fwd {
	DMARC_FWD_NO,
	DMARC_FWD_ARC,
	DMARC_FWD_CLIENT
};
/*
 * dmarc_aar_aligned - (dmarc_forwarder.c) arc_align_fn for a scan
 * (arg): DMARC relaxed alignment, the same Organizational Domain as
 * the DMARC step finds (dmarc_org_domain: tree walk or the Public
 * Suffix List), with the message's DNS budget
 */
int	dmarc_aar_aligned(void *scan, const char *author, const char *d);
enum dmarc_fwd dmarc_trusted_forwarder(struct scan *,
	    const char *author, char *comment, size_t n);
/*
 * scan_state - the per-message state of the step called name (NULL
 * when it has none or did not run): how a step reads another's outcome
 * without a slot in struct scan
 */
void	*scan_state(const struct scan *, const char *name);
/* policy.c: a client recorded by a spam trap (live scans only) */
void	step_trap_end(struct scan *, void *);
/* step_bayes.c: naive-Bayes band symbol, verdict JSON, autolearn */
void	step_bayes_end(struct scan *, void *);
/* step_spf.c: SPF for MAIL FROM and HELO (RFC 7208) */
void	*step_spf_begin(struct scan *);
void	step_spf_end(struct scan *, void *);
void	step_spf_free(void *);
/* step_dmarc.c: From checks, DMARC policy (runs after SPF and DKIM) */
void	step_dmarc_end(struct scan *, void *);
/* step_welcome.c: authentication-gated allowlists (after DMARC) */
void	step_welcome_end(struct scan *, void *);
/* step_dnsbl.c: DNS blocklists of the client and of URI domains */
void	*step_dnsbl_begin(struct scan *);
void	step_dnsbl_end(struct scan *, void *);
/* step_rules.c: MIME conditions, then the rule set */
void	step_mime_end(struct scan *, void *);
void	step_rules_end(struct scan *, void *);

#endif
