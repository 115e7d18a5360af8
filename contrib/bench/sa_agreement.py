#!/usr/bin/env python3
"""sa_agreement.py - do SpamAssassin's stock rules hit the same messages
under mailwarden as under SpamAssassin?

Runs `mailwarden rules hits -r RULES` over every message file under
CORPUS (recursively), reads SpamAssassin's hits for the same files from
TSV files made by contrib/bench/sa_hits.pl ("FILE<TAB>SCORE<TAB>A,B,...",
FILE relative to CORPUS), or makes them with --run-sa, and prints per
rule: messages hit by both, by SpamAssassin only, by mailwarden only,
and the agreement (messages on which the two agree / all messages).

  contrib/bench/sa_agreement.py --mailwarden ./mailwarden \\
      --rules /usr/share/spamassassin --corpus CORPUS --sa-tsv a.tsv b.tsv
  contrib/bench/sa_agreement.py ... --run-sa out.tsv   (needs
      Mail::SpamAssassin; writes out.tsv, never over an existing file)

The rules are loaded with score set 0 (--score-set), SpamAssassin's set
for local tests without Bayes, as sa_hits.pl runs it: a rule whose
score is 0 in that set is off in both.  Only rules mailwarden loads are
compared (a rule it does not load is
listed at the end with its SpamAssassin hit count); --below PCT prints
only rules under that agreement; --markdown prints a table.
"""
import argparse
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def corpus_files(root):
    out = []
    for d, _, files in os.walk(root):
        for f in files:
            out.append(os.path.relpath(os.path.join(d, f), root))
    return sorted(out)


def read_tsv(path, hits):
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            p = line.rstrip("\n").split("\t")
            if len(p) < 3:
                continue
            hits[p[0]] = set(t for t in p[2].split(",") if t)


def run_sa(root, files, out):
    if os.path.exists(out):
        sys.exit("sa_agreement: %s exists; not overwriting it" % out)
    with open(out, "x") as f:
        subprocess.run(["perl", os.path.join(HERE, "sa_hits.pl")] + files,
                       cwd=root, stdout=f, check=True)


def run_mw(mw, conf, rules, root, files, batch=400):
    hits = {}
    for i in range(0, len(files), batch):
        r = subprocess.run([mw, "rules", "hits", "-c", conf, "-r", rules] +
                           files[i:i + batch], cwd=root, check=False,
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                           text=True, errors="replace")
        for line in r.stdout.splitlines():
            p = line.split("\t")
            if len(p) >= 3:
                hits[p[0]] = set(t for t in p[2].split(",") if t)
    return hits


def loaded_rules(mw, conf, rules):
    r = subprocess.run([mw, "rules", "list", "-c", conf, "-r", rules],
                       check=True,
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                       text=True, errors="replace")
    names = set()
    for line in r.stdout.splitlines():
        w = line.split()
        if w and "disabled" not in line:
            names.add(w[0])
    return names


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mailwarden", default="./mailwarden")
    ap.add_argument("--rules", default="/usr/share/spamassassin")
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--sa-tsv", nargs="*", default=[])
    ap.add_argument("--run-sa", metavar="OUT_TSV")
    ap.add_argument("--score-set", type=int, default=0, choices=range(4))
    ap.add_argument("--below", type=float, default=101.0)
    ap.add_argument("--markdown", action="store_true")
    ap.add_argument("--rule", action="append", default=[],
                    help="also list the files where RULE disagrees")
    a = ap.parse_args()

    files = corpus_files(a.corpus)
    sa = {}
    if a.run_sa:
        run_sa(a.corpus, files, a.run_sa)
        read_tsv(a.run_sa, sa)
    for t in a.sa_tsv:
        read_tsv(t, sa)
    files = [f for f in files if f in sa]
    if not files:
        sys.exit("sa_agreement: no SpamAssassin results for the corpus")
    with tempfile.NamedTemporaryFile("w", suffix=".conf") as conf:
        conf.write("rules_score_set = %d\n" % a.score_set)
        conf.flush()
        mw = run_mw(a.mailwarden, conf.name, a.rules, a.corpus, files)
        loaded = loaded_rules(a.mailwarden, conf.name, a.rules)
    names = set()
    for f in files:
        names |= sa[f] | mw.get(f, set())
    rows = []
    missing = []
    for n in sorted(names):
        both = sao = mwo = 0
        for f in files:
            s, m = n in sa[f], n in mw.get(f, set())
            both += s and m
            sao += s and not m
            mwo += m and not s
        if n not in loaded:
            missing.append((n, both + sao))
            continue
        agree = 100.0 * (len(files) - sao - mwo) / len(files)
        rows.append((n, both, sao, mwo, agree))
    rows.sort(key=lambda r: (r[4], r[0]))
    if a.markdown:
        print("| rule | both | SA only | mailwarden only | agreement % |")
        print("| --- | ---: | ---: | ---: | ---: |")
    for n, both, sao, mwo, agree in rows:
        if agree >= a.below:
            continue
        if a.markdown:
            print("| %s | %d | %d | %d | %.2f |" % (n, both, sao, mwo, agree))
        else:
            print("%-32s both %5d  SA-only %5d  MW-only %5d  %7.2f%%" %
                  (n, both, sao, mwo, agree))
    under = sum(1 for r in rows if r[4] < 99.0)
    print("\n%d messages; %d rules compared, %d under 99%% agreement; "
          "%d rules hit by SpamAssassin are not loaded here" %
          (len(files), len(rows), under, len(missing)))
    if missing:
        print("not loaded: " + ", ".join("%s(%d)" % m for m in
                                         sorted(missing, key=lambda m: -m[1])))
    for n in a.rule:
        for f in files:
            s, m = n in sa[f], n in mw.get(f, set())
            if s != m:
                print("%s\t%s" % (n, ("SA-only " if s else "MW-only ") + f))


if __name__ == "__main__":
    main()
