/*
 * policy.h - rate limits, greylisting and spam-trap clients
 *
 * DESCRIPTION
 *	The checks of issue 16 that keep state between messages, in the
 *	policy store (pstore.h).  They run in the milter only, at the end
 *	of a scan that the milter marked live (scan->live), after the
 *	verdict is decided: `mailwarden scan` and replay never count or
 *	record anything.  With none of their keys set they cost nothing.
 *
 *	Rate limits (ratelimit_user, ratelimit_client,
 *	ratelimit_sender_domain; main file or scope): each limit is a list
 *	of items
 *
 *	    COUNT/WINDOW          at most COUNT messages per WINDOW
 *	    rcpt:COUNT/WINDOW     at most COUNT recipients per WINDOW
 *
 *	WINDOW being a number and a unit s, m, h or d (5m, 1h, 1d).  A
 *	window is a sliding one, estimated from two fixed buckets (the
 *	current and the previous window, the previous weighed by how much
 *	of it still lies in the sliding window), as rspamd and nginx do.
 *	A message that would go over an item is deferred, 451 4.7.1 with
 *	the item in the text, and symbol MW_RATELIMIT_USER (_CLIENT,
 *	_SENDER_DOMAIN); it is not counted.  ratelimit_user_block has the
 *	same items: a user over one is blocked (every message deferred,
 *	MW_RATELIMIT_BLOCKED) until `mailwarden ratelimit clear user NAME`.
 *	Only mail the verdict accepts or tags is counted.
 *
 *	Greylisting (greylist = yes; main file or scope): scored mail whose
 *	score is at least greylist_score and below tag_score is deferred,
 *	451 4.7.1 and MW_GREYLIST, unless each of its (client network /24
 *	or /64, sender, recipient) triplets has been seen greylist_delay
 *	seconds or more before; a triplet not retried within
 *	greylist_expire is forgotten, one that passed is remembered for
 *	greylist_pass_expire after its last message.  Not greylisted:
 *	trusted and authenticated mail, mail an allowlist forced, mail
 *	with a valid DKIM signature of a greylist_allow_domains domain,
 *	and client networks that have passed greylist_allow_after
 *	triplets.
 *
 *	Spam traps: the client of a recipient a trap scope refused is
 *	recorded for trap_expire seconds (policy_trap_record()), for
 *	`mailwarden ratelimit show traps` and whatever feeds a blocklist.
 *
 *	A store that fails (Redis down or frozen, LMDB full) costs at most
 *	policy_redis_timeout; the checks are then skipped, the message
 *	goes on as if they had passed, and the verdict log says
 *	"policy":{...,"degraded":true}.  Mail is never refused because
 *	the store failed.
 *
 * STORE KEYS (after policy_redis_prefix on Redis)
 *	r:K:T:W:B:ID   counter, K u|c|s|b (user, client, sender domain,
 *	               block limit), T m|r (messages, recipients), W the
 *	               window in seconds, B the window's number since the
 *	               epoch; expires after 2 W
 *	b:ID           a blocked user (no expiry)
 *	g:HASH         triplet: 1 passed, else the time of its first try
 *	gc:NET         triplets the client network has passed
 *	t:IP           spam-trap hits of a client
 *	An ID longer than 64 bytes or with bytes outside printable ASCII is
 *	replaced by "#" and a hash of it.
 */
#ifndef MW_POLICY_H
#define MW_POLICY_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

struct buf;
struct conf;
struct engine;
struct msg;
struct pstore;
struct scan;

#define RATELIMIT_MAX_ITEMS	8	/* items of one ratelimit_* key */

struct rl_item {
	uint32_t count;
	uint32_t window;		/* seconds */
	bool	 rcpts;			/* recipients, not messages */
};

/* ratelimit_parse_item - one item; 0, or -1 with a reason */
int	 ratelimit_parse_item(const char *, struct rl_item *, struct buf *why);
/* ratelimit_check_item - the conf.c check of a ratelimit_* list item */
int	 ratelimit_check_item(const char *, struct buf *why);
/* ratelimit_window_text - 3600 -> "1h", 90 -> "90s" */
void	 ratelimit_window_text(uint32_t window, struct buf *);
/* ratelimit_item_text - "100 messages per 1h" */
void	 ratelimit_item_text(const struct rl_item *, struct buf *);
/*
 * ratelimit_estimate - the sliding-window count at now from the
 * counts of the current and the previous fixed window
 */
double	 ratelimit_estimate(uint64_t cur, uint64_t prev, uint32_t window,
	    time_t now);

/* policy_check_conf - cross-key checks (conf.c finish()) */
int	 policy_check_conf(const struct conf *, struct buf *why);
/* policy_wanted - does c ask for any check of this module? */
bool	 policy_wanted(const struct conf *);

/*
 * policy_end - rate limits, then greylisting, for a decided live scan;
 * may turn the verdict into a deferral (451 4.7.1) and adds the
 * "policy" value of the verdict log
 */
void	 policy_end(struct scan *);

/* policy_trap_record - count a spam-trap hit of the client of m */
void	 policy_trap_record(struct engine *, const struct msg *);

/* a counter key, parsed: r:K:T:W:B:ID */
struct policy_ctr_key {
	char	 kind, type;
	uint32_t window;
	uint64_t bucket;
	const char *id;			/* into the key */
};

/*
 * policy_counter_key - parse a counter key read back from the store
 * (which another host may have written): 0, or -1 if it is not one
 */
int	 policy_counter_key(const char *key, struct policy_ctr_key *);

/* policy_id - the ID part of a key for s (see STORE KEYS) */
void	 policy_id(const char *s, struct buf *out);

#endif
