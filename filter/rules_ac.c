/*
 * rules_ac.c - Aho-Corasick automaton for the rule prefilter
 *
 * DESCRIPTION
 *	Literals are folded to ASCII lower case and so is every scanned
 *	byte, so a literal is found whatever its case in the text: the
 *	prefilter may only ever say "maybe" more often, never less.
 *	ac_build() turns the trie into a complete DFA over byte classes
 *	(bytes that occur in no literal share class 0), so scanning costs
 *	one table load per byte; per state, the literals that end there
 *	and a link to the next state along the suffix chain that has any.
 *
 * LIMITS
 *	States are bounded by the total literal length given at load time
 *	(configuration, not mail).  Scanning is linear in the text plus
 *	the literals reported, each at most once per generation.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "rules_int.h"
#include "str.h"
#include "strmap.h"

struct ac {
	/* while adding */
	struct buf *lits;
	size_t	 nlits;
	struct strmap *dedup;		/* literal -> id + 1 */

	/* built */
	uint8_t	 cls[256];
	size_t	 ncls;
	uint32_t *delta;		/* [state * ncls + cls] */
	size_t	 nstates;
	uint32_t *out_start;		/* into out_lits */
	uint32_t *out_n;
	int32_t	*dict;			/* next state with output, or -1 */
	int32_t	*first;			/* the state if it has output, else
					   dict: where a scan's report starts */
	uint32_t *out_lits;
	bool	 built;
};

struct ac *
ac_new(void)
{
	struct ac *a = xcalloc(1, sizeof(*a));

	a->dedup = strmap_new();
	return a;
}

void
ac_free(struct ac *a)
{
	size_t i;

	if (a == NULL)
		return;
	for (i = 0; i < a->nlits; i++)
		buf_release(&a->lits[i]);
	free(a->lits);
	strmap_free(a->dedup, NULL);
	free(a->delta);
	free(a->out_start);
	free(a->out_n);
	free(a->dict);
	free(a->first);
	free(a->out_lits);
	free(a);
}

size_t
ac_add(struct ac *a, const char *lit, size_t n)
{
	struct buf low = BUF_INIT;
	size_t i, id;
	void *v;

	for (i = 0; i < n; i++)
		buf_addc(&low, (char)ch_lower((unsigned char)lit[i]));
	/* NUL bytes cannot be strmap keys: such literals are not shared */
	if (memchr(low.data, '\0', low.len) == NULL &&
	    (v = strmap_get(a->dedup, low.data)) != NULL) {
		buf_release(&low);
		return (size_t)(uintptr_t)v - 1;
	}
	id = a->nlits++;
	a->lits = xreallocarray(a->lits, a->nlits, sizeof(*a->lits));
	if (memchr(low.data, '\0', low.len) == NULL)
		strmap_put(a->dedup, low.data, (void *)(uintptr_t)(id + 1));
	a->lits[id] = low;
	return id;
}

size_t
ac_nlits(const struct ac *a)
{
	return a->nlits;
}

size_t
ac_nstates(const struct ac *a)
{
	return a->nstates;
}

static uint32_t
new_state(struct ac *a, size_t *cap)
{
	if (a->nstates == *cap) {
		*cap = *cap ? *cap * 2 : 64;
		a->delta = xreallocarray(a->delta, *cap, a->ncls *
		    sizeof(*a->delta));
	}
	memset(a->delta + a->nstates * a->ncls, 0, a->ncls * sizeof(*a->delta));
	return (uint32_t)a->nstates++;
}

void
ac_build(struct ac *a)
{
	size_t cap = 0, i, k, c, head, tail, total = 0;
	uint32_t s, t, *queue, *fail, *lit_state, *fill;
	bool used[256];

	/* byte classes: one per distinct (lower-case) byte in a literal */
	memset(used, 0, sizeof(used));
	for (i = 0; i < a->nlits; i++)
		for (k = 0; k < a->lits[i].len; k++)
			used[(unsigned char)a->lits[i].data[k]] = true;
	a->ncls = 1;
	memset(a->cls, 0, sizeof(a->cls));
	for (c = 0; c < 256; c++)
		if (used[c])
			a->cls[c] = (uint8_t)a->ncls++;
	for (c = 'A'; c <= 'Z'; c++)
		a->cls[c] = a->cls[c + 32];

	/* trie; 0 means "no edge" while building (state 0 is the root) */
	(void)new_state(a, &cap);
	lit_state = xcalloc(a->nlits ? a->nlits : 1, sizeof(*lit_state));
	for (i = 0; i < a->nlits; i++) {
		s = 0;
		for (k = 0; k < a->lits[i].len; k++) {
			c = a->cls[(unsigned char)a->lits[i].data[k]];
			if (a->delta[s * a->ncls + c] == 0) {
				t = new_state(a, &cap);
				a->delta[s * a->ncls + c] = t;
			}
			s = a->delta[s * a->ncls + c];
		}
		lit_state[i] = s;
	}

	/* outputs of each state */
	a->out_n = xcalloc(a->nstates, sizeof(*a->out_n));
	a->out_start = xcalloc(a->nstates, sizeof(*a->out_start));
	for (i = 0; i < a->nlits; i++)
		if (a->lits[i].len > 0)
			a->out_n[lit_state[i]]++;
	for (s = 0; s < a->nstates; s++) {
		a->out_start[s] = (uint32_t)total;
		total += a->out_n[s];
	}
	a->out_lits = xcalloc(total ? total : 1, sizeof(*a->out_lits));
	fill = xcalloc(a->nstates, sizeof(*fill));
	for (i = 0; i < a->nlits; i++)
		if (a->lits[i].len > 0) {
			s = lit_state[i];
			a->out_lits[a->out_start[s] + fill[s]++] = (uint32_t)i;
		}

	/* breadth first: failure links, complete transitions, dict links */
	fail = xcalloc(a->nstates, sizeof(*fail));
	a->dict = xcalloc(a->nstates, sizeof(*a->dict));
	queue = xcalloc(a->nstates, sizeof(*queue));
	head = tail = 0;
	a->dict[0] = -1;
	for (c = 0; c < a->ncls; c++) {
		t = a->delta[c];
		if (t) {
			fail[t] = 0;
			a->dict[t] = -1;
			queue[tail++] = t;
		}
	}
	while (head < tail) {
		s = queue[head++];
		for (c = 0; c < a->ncls; c++) {
			t = a->delta[s * a->ncls + c];
			if (t) {
				uint32_t f = a->delta[fail[s] * a->ncls + c];

				fail[t] = f;
				a->dict[t] = a->out_n[f] ? (int32_t)f : a->dict[f];
				queue[tail++] = t;
			} else
				a->delta[s * a->ncls + c] =
				    a->delta[fail[s] * a->ncls + c];
		}
	}
	a->first = xcalloc(a->nstates, sizeof(*a->first));
	for (s = 0; s < a->nstates; s++)
		a->first[s] = a->out_n[s] ? (int32_t)s : a->dict[s];
	free(queue);
	free(fail);
	free(fill);
	free(lit_state);
	a->built = true;
}

void
ac_scan(const struct ac *a, const unsigned char *p, size_t n, uint32_t *stamps,
    uint32_t gen, void (*fn)(void *, size_t), void *arg)
{
	const uint32_t *delta = a->delta;
	const int32_t *first = a->first;
	const uint8_t *cls = a->cls;
	const size_t ncls = a->ncls;
	uint32_t s = 0, k;
	int32_t t;
	size_t i;

	if (a->nlits == 0)
		return;
	for (i = 0; i < n; i++) {
		s = delta[s * ncls + cls[p[i]]];
		t = first[s];		/* one load per byte, -1 mostly */
		for (; t >= 0 && stamps[t] != gen; t = a->dict[t]) {
			stamps[t] = gen;
			for (k = 0; k < a->out_n[t]; k++)
				fn(arg, a->out_lits[a->out_start[t] + k]);
		}
	}
}
