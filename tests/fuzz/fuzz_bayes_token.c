/*
 * fuzz_bayes_token.c - what Bayes reads from untrusted mail
 *
 * The input is a mailbox file: it is split at mbox separators as
 * `mailwarden train` does, and each message goes through msgparse, the
 * MIME view and the tokenizer (bigrams on, a small token cap) into the
 * classifier with made-up counts; the digest is taken too.  The raw
 * bytes also go straight through the word tokenizer, ill-formed UTF-8
 * and all.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>

#include "bayes.h"
#include "buf.h"
#include "mailbox.h"
#include "mime.h"
#include "msg.h"
#include "msgparse.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
one_message(const char *p, size_t n)
{
	struct msg_limits ml = { 1 << 20, 1 << 20, 1000, 100 };
	struct bayes_params bp = BAYES_PARAMS_DEFAULT;
	struct bayes_tok_opts o = { true };
	struct mime_limits lim;
	struct bayes_toks t;
	struct bayes_counts *c;
	struct bayes_result r;
	uint8_t digest[BAYES_DIGEST_LEN];
	struct mime_msg *mm;
	struct msg *m = msg_new(&ml);
	size_t i;

	msgparse_text(m, p, n);
	mime_limits_default(&lim);
	mm = mime_parse(m, &lim);
	bayes_toks_init(&t, 500, true);
	bayes_tokenize(mm, &o, &t);
	c = calloc(t.n + 1, sizeof(*c));
	if (c == NULL)
		abort();
	for (i = 0; i < t.n; i++) {
		c[i].spam = (uint32_t)(t.v[i].hash & 63);
		c[i].ham = (uint32_t)((t.v[i].hash >> 6) & 63);
	}
	bayes_classify(&bp, 64, 64, c, t.n, &r);
	if (!(r.prob >= 0.0 && r.prob <= 1.0))
		abort();
	bayes_result_release(&r);
	bayes_digest(m, digest);
	free(c);
	bayes_toks_release(&t);
	mime_free(&mm);
	msg_free(&m);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *d = (const char *)data;
	struct bayes_toks t;
	size_t off, next;

	for (off = 0; off < size; off = next) {
		next = mailbox_next_mbox(d, size, off);
		if (next <= off)
			abort();
		one_message(d + off, next - off);
	}
	bayes_toks_init(&t, 200, true);
	bayes_tokenize_text(&t, "x:", d, size, BAYES_TEXT_BIGRAMS);
	bayes_toks_release(&t);
	return 0;
}
