#!/usr/bin/env python3
"""Accuracy regression on the shared corpus (../shared/corpus).

Unpacks the archives into a temporary directory, trains on train/ with
`mailwarden train`, classifies test/ with `mailwarden scan --json` and
asserts minimum accuracy with a margin below what the classifier reaches
today (see doc/bayes.md for the measured figures):

    false positives at the default threshold (0.99)   <= 0.5 %   (today 0)
    false negatives at the default threshold          <= 15 %    (today ~10 %)
    accuracy at 0.5                                    >= 97.5 %  (today ~99 %)
    (1-ROCA)%                                          <= 0.10    (today ~0.03)

This is a regression guard, not a benchmark: contrib/tools/bayes-bench
measures speed and compares with bogofilter.  Skipped (77) when the corpus
is not there.
"""

import json
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mwtest  # noqa: E402
import bayestest  # noqa: E402
from bayestest import mw  # noqa: E402

if not os.path.exists(os.path.join(bayestest.CORPUS, "train", "spam.tar.xz")):
    print("SKIP: corpus not found at", bayestest.CORPUS)
    sys.exit(mwtest.SKIP)

work = tempfile.mkdtemp(prefix="mw-bayes-corpus-")
R = mwtest.Results()


def auc(spam, ham):
    """P(spam scores above ham), ties half."""
    allv = sorted([(s, 1) for s in spam] + [(h, 0) for h in ham])
    rank_sum, i = 0.0, 0
    while i < len(allv):
        j = i
        while j < len(allv) and allv[j][0] == allv[i][0]:
            j += 1
        rank_sum += (i + 1 + j) / 2.0 * sum(1 for k in range(i, j)
                                             if allv[k][1])
        i = j
    ns, nh = len(spam), len(ham)
    return (rank_sum - ns * (ns + 1) / 2.0) / (ns * nh)


try:
    split = bayestest.unpack_corpus(work)
    cfg = os.path.join(work, "mw.conf")
    with open(cfg, "w") as f:
        f.write("bayes_store = %s\nlog_file =\ndmarc = no\nspf = no\nrules_dir =\n"
                "rules_site_dir =\n" % os.path.join(work, "db"))
    mw("train", "-q", "-c", cfg, "--spam", os.path.join(work, "train", "spam"))
    mw("train", "-q", "-c", cfg, "--ham", os.path.join(work, "train", "ham"))

    def probs(files):
        out = mw("scan", "-c", cfg, "--json", *files).stdout.splitlines()
        assert len(out) == len(files)
        return [json.loads(x)["bayes"]["probability"] for x in out]

    spam = probs(split["test", "spam"])
    ham = probs(split["test", "ham"])
    fp = sum(1 for p in ham if p >= 0.99) / len(ham)
    fn = sum(1 for p in spam if p < 0.99) / len(spam)
    acc = (sum(1 for p in spam if p >= 0.5) +
           sum(1 for p in ham if p < 0.5)) / (len(spam) + len(ham))
    roca = 100 * (1 - auc(spam, ham))
    print("test: %d spam, %d ham; FP@0.99 %.2f%%, FN@0.99 %.2f%%, "
          "accuracy@0.5 %.2f%%, (1-ROCA)%% %.4f" % (
              len(spam), len(ham), 100 * fp, 100 * fn, 100 * acc, roca))

    def check_fp():
        assert fp <= 0.005, "false positives %.2f%%" % (100 * fp)

    def check_fn():
        assert fn <= 0.15, "false negatives %.2f%%" % (100 * fn)

    def check_acc():
        assert acc >= 0.975, "accuracy %.2f%%" % (100 * acc)

    def check_roca():
        assert roca <= 0.10, "(1-ROCA)%% %.4f" % roca

    R.check("false positives at 0.99 <= 0.5%", check_fp)
    R.check("false negatives at 0.99 <= 15%", check_fn)
    R.check("accuracy at 0.5 >= 97.5%", check_acc)
    R.check("(1-ROCA)% <= 0.10", check_roca)
finally:
    shutil.rmtree(work, ignore_errors=True)
R.exit()
