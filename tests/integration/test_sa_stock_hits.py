#!/usr/bin/python3
"""The shipped copy of SpamAssassin's stock rules hits what it was chosen for.

rules/30_sa_stock.cf is written by contrib/fit/select-stock.py, which
records above each chosen rule how many train messages of the corpus it
hit ("# train: S spam, H ham"), counted by loading the whole stock set.
This test loads the shipped rule files (without the fitted scores, which
may hold 0 for a rule) and counts each chosen rule's hits on the same
train split with `mailwarden rules stats`: every count must be exactly
the recorded one.  So a change of the rule engine that changes what a
stock rule matches (regex flags, header parsing, a meta's operators, the
ReplaceTags expansion, an eval) fails here, as does a hand edit of the
generated file.  Also: `rules check` reports nothing about the file (no
meta disabled, nothing unsupported), and every chosen rule has a line in
the fitted rules/90_scores.cf (the fit was rerun after the selection).

Skipped (77) when the corpus is not there.
"""
import os
import re
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bayestest  # noqa: E402
import mwtest  # noqa: E402

RULES = os.path.join(mwtest.SRCDIR, "rules")
STOCK = os.path.join(RULES, "30_sa_stock.cf")

if not os.path.exists(os.path.join(bayestest.CORPUS, "train", "spam.tar.xz")):
    print("SKIP: corpus not found at", bayestest.CORPUS)
    sys.exit(mwtest.SKIP)


def recorded():
    """{rule: (spam, ham)} from the '# train:' lines of the stock file."""
    out, want = {}, None
    with open(STOCK, encoding="utf-8", errors="surrogateescape") as f:
        for line in f:
            m = re.match(r"# train: (\d+) spam, (\d+) ham$", line.strip())
            if m:
                want = (int(m.group(1)), int(m.group(2)))
                continue
            w = line.split()
            if want and len(w) >= 2 and w[0] in ("header", "body", "rawbody",
                                                 "uri", "full", "meta",
                                                 "mimeheader"):
                out[w[1]] = want
            want = None
    return out


def stats(conf, spam, ham):
    args = ["rules", "stats", "-c", conf]
    for fn in sorted(os.listdir(RULES)):
        if fn.endswith(".cf") and fn != "90_scores.cf":
            args += ["-r", os.path.join(RULES, fn)]
    r = bayestest.mw(*(args + [spam, ham]))
    out = {}
    for line in r.stdout.splitlines():
        f = [x.strip() for x in line.strip("|").split("|")]
        if len(f) == 6 and f[2].isdigit():
            out[f[0]] = (int(f[2]), int(f[4]))
    return out


def fitted():
    """{rule: [scores]} of rules/90_scores.cf."""
    out = {}
    with open(os.path.join(RULES, "90_scores.cf")) as f:
        for line in f:
            w = line.split("#")[0].split()
            if len(w) >= 3 and w[0] == "score":
                out[w[1]] = [float(x) for x in w[2:]]
    return out


def main():
    want = recorded()
    assert len(want) >= 40, "only %d recorded rules in %s" % (len(want), STOCK)
    work = tempfile.mkdtemp(prefix="mw-sa-stock-")
    try:
        split = bayestest.unpack_corpus(work)
        conf = os.path.join(work, "mw.conf")
        with open(conf, "w") as f:
            f.write("user =\npid_file =\nlog_file =\nrules_site_dir =\n"
                    "rules_dir =\nbayes_store =\n")
        spam = os.path.dirname(split["train", "spam"][0])
        ham = os.path.dirname(split["train", "ham"][0])
        got = stats(conf, spam, ham)
        bad = ["%s: recorded %s, counted %s" % (n, want[n], got.get(n))
               for n in sorted(want) if got.get(n) != want[n]]
        assert not bad, "stock rules whose hits changed:\n  " + "\n  ".join(bad)
        print("%d stock rules hit exactly their recorded train messages"
              % len(want))

        check = bayestest.mw("rules", "check", "-c", conf, RULES)
        text = check.stdout + check.stderr
        assert "30_sa_stock.cf" not in text.split("file(s):")[0], text
        scores = fitted()
        unscored = [n for n in want if n in scores and max(scores[n]) <= 0
                    and want[n][0] > 0 and want[n][1] == 0]
        print("chosen rules the fit scores 0 in every set: %s"
              % (", ".join(unscored) or "none"))
        missing = [n for n in want if n not in scores]
        assert not missing, "chosen rules without a fitted score: %s" % missing
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("PASS")


if __name__ == "__main__":
    main()
