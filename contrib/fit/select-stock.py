#!/usr/bin/python3
"""select-stock.py - choose which of SpamAssassin's stock rules mailwarden
ships, by their hits on the corpus's train split, and write them out.

    contrib/fit/select-stock.py --build BUILDDIR [--stock DIR]
                                [--corpus DIR] [--out FILE] [options]

Run by hand from the top of a source tree after `make`, then rerun
contrib/fit/fit-scores.py (the chosen rules need fitted scores).  Only the
train split is read, so the test split stays a check.

1. `mailwarden rules stats` loads the whole stock set (default Debian's
   /usr/share/spamassassin) and counts each rule's hits on CORPUS/train.
2. A rule is chosen when mailwarden loads it enabled, SpamAssassin does
   not score it below 0, no shipped file defines the name yet, it hits at least
   --min-spam % of train spam and at most --max-ham % of train ham, and
   its spam rate is at least --min-ratio times its ham rate.  Rules that
   need the network, Bayes or a plugin mailwarden does not provide never
   load, so they are never chosen; nor are rules that hit when a DKIM,
   SPF, ARC or DMARC result passes (`rules stats` runs no authentication
   step, so it cannot count them as the pipeline would).  A rule that
   only needs such a result not to pass (`!DKIM_VALID`) may be chosen:
   without the network none passes, so its ham count is an upper bound.
   Rules the chosen metas name that SpamAssassin defines only in blocks
   for plugins mailwarden does not provide (network tests) are written
   as `meta NAME 0`: never hit, as in a local SpamAssassin run.
3. The chosen rules are copied verbatim from the stock files (definition,
   describe, tflags, replace_rules), with every rule and ReplaceTags tag
   they need, in the stock files' order, into --out (default
   rules/30_sa_stock.cf) with a header that says where they came from.
   SpamAssassin's score is kept as the provisional score (1 where it is
   0, so that the fit weighs the rule); the fit in rules/90_scores.cf,
   read later, replaces it.
4. Check: the written file, loaded with the other shipped rules (without
   the fitted scores), must give every chosen rule exactly the hit counts
   it had in the stock set.  A
   difference is an error (exit 1) and is listed.

The stock rules are Apache License 2.0 (The Apache Software Foundation);
the output file says so and names the SpamAssassin version it came from.
"""
import argparse
import glob
import os
import re
import subprocess
import sys
import tarfile
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.abspath(os.path.join(HERE, "..", ".."))
RULE_KINDS = ("header", "body", "rawbody", "uri", "full", "meta",
              "mimeheader")
ATTR_KINDS = ("describe", "tflags", "priority", "replace_rules")
TAG_KINDS = ("replace_tag", "replace_pre", "replace_inter", "replace_post")
IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
AUTH_EVAL = re.compile(r"eval:check_(?:dkim|for_spf|spf|arc|dmarc|rbl)")


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def strip_comment(line):
    """The line without its comment (a # not escaped by a backslash)."""
    return re.sub(r"(?<!\\)#.*$", "", line).strip()


def if_value(expr):
    """mailwarden's reading of a SpamAssassin "if" (rules_parse.c)."""
    t = re.sub(r"[\s()]", "", expr)
    neg = False
    while t.startswith("!"):
        neg = not neg
        t = t[1:]
    if t.startswith(("can", "plugin", "has")):
        return neg
    m = re.match(r"version(>=|<=|==|!=|>|<)([0-9.]+)$", t)
    if not m:
        return False
    v = float(m.group(2))
    r = {">=": 4.0 >= v, ">": 4.0 > v, "<=": 4.0 <= v, "<": 4.0 < v,
         "==": 4.0 == v, "!=": 4.0 != v}[m.group(1)]
    return r != neg


class Stock:
    """The active definitions of a stock rule directory, in file order."""

    def __init__(self, stock, skipped):
        self.defs = {}      # name -> (order, kind, raw line, file)
        self.attrs = {}     # name -> [(kind, raw line)]
        self.tags = {}      # tag name -> raw line
        self.score = {}
        self.order = 0
        for path in sorted(glob.glob(os.path.join(stock, "*.cf"))):
            self.read(path, skipped)

    def read(self, path, skipped):
        conds = []          # (parent active, active, taken)
        with open(path, encoding="utf-8", errors="surrogateescape") as f:
            for no, raw in enumerate(f, 1):
                raw = raw.rstrip("\n")
                line = strip_comment(raw)
                if not line:
                    continue
                parts = line.split(None, 1)
                word, rest = parts[0], (parts[1].strip() if len(parts) > 1 else "")
                active = not conds or conds[-1][1]
                if word in ("if", "ifplugin"):
                    if word == "ifplugin" or "can(" in rest:
                        # as mailwarden read it (its unsupported notes)
                        v = (os.path.basename(path), no) not in skipped
                    else:
                        v = if_value(rest)
                    conds.append((active, active and v, v))
                    continue
                if word == "else" and conds:
                    p, _, taken = conds[-1]
                    conds[-1] = (p, p and not taken, True)
                    continue
                if word == "endif" and conds:
                    conds.pop()
                    continue
                if not active:
                    continue
                name = rest.split()[0] if rest else ""
                self.order += 1
                if word in RULE_KINDS:
                    self.defs[name] = (self.order, word, raw,
                                       os.path.basename(path))
                elif word in ATTR_KINDS:
                    if word == "replace_rules":
                        for n in rest.split():
                            self.attrs.setdefault(n, []).append(
                                (word, "replace_rules " + n))
                    else:
                        self.attrs.setdefault(name, []).append((word, raw))
                elif word in TAG_KINDS:
                    self.tags[name] = (self.order, raw)
                elif word == "score" and name:
                    vals = rest.split()[1:]
                    if vals and re.match(r"-?[0-9.]+$", vals[0]):
                        self.score[name] = " ".join(vals)

    def missing(self, names):
        """Names the metas among names refer to that no read block of
        the stock files defines (rules in blocks for plugins mailwarden
        does not provide, mostly network tests): mailwarden, like
        SpamAssassin, reads them as not hit."""
        out = set()
        for name in names:
            order, kind, raw, _ = self.defs[name]
            if kind == "meta":
                expr = strip_comment(raw).split(None, 2)[2]
                out |= {t for t in IDENT.findall(expr)
                        if t not in self.defs and t != "local_tests_only"}
        return out

    def deps(self, name):
        """The stock rules name's meta expression refers to."""
        order, kind, raw, _ = self.defs[name]
        if kind != "meta":
            return []
        expr = strip_comment(raw).split(None, 2)[2]
        return [t for t in IDENT.findall(expr) if t in self.defs and t != name]

    def closure(self, names, stop=()):
        """names and every stock rule they need, transitively; a name
        in stop (defined elsewhere) is neither taken nor followed."""
        seen, todo = set(), list(names)
        while todo:
            n = todo.pop()
            if n not in seen and n not in stop and n in self.defs:
                seen.add(n)
                todo.extend(self.deps(n))
        return seen

    def auth_leaf(self, name):
        """Whether name itself is a DKIM, SPF, ARC, DMARC or network test
        (a meta flagged net is judged by what its expression uses)."""
        return bool(AUTH_EVAL.search(self.defs[name][2]) or (
            self.defs[name][1] != "meta" and any(
                k == "tflags" and re.search(r"\bnet\b", line)
                for k, line in self.attrs.get(name, []))))

    def auth_dependent(self, name, positive=True, seen=None):
        """Whether name can hit because a DKIM, SPF, ARC, DMARC or network
        test passes (that test used without a negation, counting nested
        negations).  `rules stats` runs none of those, so it counts such a
        test as never hit, while the pipeline with real DNS does hit it:
        its count would not be the rule's hits in a scan.  A rule that
        only needs such a test NOT to hit (`!DKIM_VALID`, `!SPF_PASS`)
        is counted at its most (every test fails without the network),
        so its ham count here is an upper bound of the real one."""
        if self.auth_leaf(name):
            # only a passing result is missing without the network; the
            # others (SPF none, DKIM "dependable", DMARC missing) hold
            # offline as they would online, or not, whatever the sign
            m = re.search(r"eval:(\w+)", self.defs[name][2])
            return positive or not (m and re.search(
                r"pass|valid|signed|check_rbl", m.group(1)))
        seen = set() if seen is None else seen
        if (name, positive) in seen:
            return False
        seen.add((name, positive))
        order, kind, raw, _ = self.defs[name]
        if kind != "meta":
            return False
        expr = strip_comment(raw).split(None, 2)[2]
        for m in IDENT.finditer(expr):
            t = m.group(0)
            if t not in self.defs or t == name:
                continue
            neg = expr[:m.start()].rstrip().endswith("!")
            if self.auth_dependent(t, positive != neg, seen):
                return True
        return False

    def tags_of(self, name):
        """The ReplaceTags tags a rule's regex uses (when it is replaced)."""
        if not any(k == "replace_rules" for k, _ in self.attrs.get(name, [])):
            return set()
        raw = self.defs[name][2]
        return {t for t in re.findall(r"<(?:(?:pre|inter|post) )?([A-Za-z0-9_]+)>",
                                      raw) if t in self.tags}


def run(cmd):
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       universal_newlines=True)
    if r.returncode not in (0, 1):
        sys.exit("%s: exit %d\n%s" % (" ".join(cmd), r.returncode, r.stderr))
    return r


def stats(mw, conf, paths, spam, ham):
    """{rule: (spam hits, ham hits, score)} from `rules stats`."""
    cmd = [mw, "rules", "stats", "-c", conf]
    for p in paths:
        cmd += ["-r", p]
    out = {}
    for line in run(cmd + [spam, ham]).stdout.splitlines():
        f = [x.strip() for x in line.strip("|").split("|")]
        if len(f) == 6 and f[2].isdigit():
            out[f[0]] = (int(f[2]), int(f[4]), float(f[1]))
    return out


def listing(mw, conf, paths):
    """{rule: disabled?} from `rules list`."""
    cmd = [mw, "rules", "list", "-c", conf]
    for p in paths:
        cmd += ["-r", p]
    out = {}
    for line in run(cmd).stdout.splitlines():
        f = line.split()
        if len(f) >= 3:
            out[f[0]] = len(f) > 3 and f[3] == "disabled"
    return out


def skipped_blocks(mw, conf, stock):
    """(file, line) of each ifplugin block, and each if can() block,
    that mailwarden skips."""
    r = run([mw, "rules", "check", "-c", conf, stock])
    out = set()
    for line in (r.stdout + r.stderr).splitlines():
        m = re.match(r"(.*?):(\d+): unsupported: if(?:plugin |.*can\()", line)
        if m:
            out.add((os.path.basename(m.group(1)), int(m.group(2))))
    return out


def shipped_names(rules_dir, out):
    names = set()
    for path in glob.glob(os.path.join(rules_dir, "*.cf")):
        if os.path.abspath(path) == os.path.abspath(out):
            continue
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                w = strip_comment(line).split()
                if len(w) >= 2 and w[0] in RULE_KINDS:
                    names.add(w[1])
    return names


def unpack(corpus, work):
    for kind in ("ham", "spam"):
        d = os.path.join(work, kind)
        os.makedirs(d)
        with tarfile.open(os.path.join(corpus, "train", kind + ".tar.xz")) as t:
            for m in t.getmembers():
                if m.isfile():
                    m.name = os.path.basename(m.name)
                    t.extract(m, d)
    return os.path.join(work, "spam"), os.path.join(work, "ham")


def sa_version(stock):
    try:
        r = subprocess.run(["dpkg-query", "-W", "-f", "${Version}",
                            "spamassassin"], stdout=subprocess.PIPE,
                           stderr=subprocess.DEVNULL, universal_newlines=True)
        if r.returncode == 0 and r.stdout:
            return "Debian spamassassin " + r.stdout
    except OSError:
        pass
    return "the stock rules in " + stock


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", required=True)
    ap.add_argument("--stock", default="/usr/share/spamassassin")
    ap.add_argument("--corpus", default=os.path.join(TOP, "..", "shared", "corpus"))
    ap.add_argument("--out", default=os.path.join(TOP, "rules", "30_sa_stock.cf"))
    ap.add_argument("--min-spam", type=float, default=1.0,
                    help="hits on at least this %% of train spam")
    ap.add_argument("--max-ham", type=float, default=0.2,
                    help="hits on at most this %% of train ham")
    ap.add_argument("--min-ratio", type=float, default=10.0,
                    help="spam rate at least this times the ham rate")
    a = ap.parse_args()
    mw = os.path.join(os.path.abspath(a.build), "mailwarden")
    rules_dir = os.path.join(TOP, "rules")
    out = os.path.abspath(a.out)

    with tempfile.TemporaryDirectory(prefix="mw-select-") as work:
        conf = os.path.join(work, "mw.conf")
        with open(conf, "w") as f:
            f.write("user =\npid_file =\nlog_file =\nrules_site_dir =\n"
                    "bayes_store =\nrules_dir =\n"
                    "dns_zone_files = %s\n"
                    % os.path.join(TOP, "tests", "data", "dns", "empty.zone"))
        spam, ham = unpack(os.path.abspath(a.corpus), work)
        nspam, nham = len(os.listdir(spam)), len(os.listdir(ham))
        log("train: %d spam, %d ham; counting stock hits" % (nspam, nham))
        hits = stats(mw, conf, [a.stock], spam, ham)
        disabled = listing(mw, conf, [a.stock])
        stock = Stock(a.stock, skipped_blocks(mw, conf, a.stock))
        have = shipped_names(rules_dir, out)

        chosen = []
        for name, (s, h, score) in hits.items():
            if name.startswith("__") or name in have or disabled.get(name, True):
                continue
            if name not in stock.defs or score < 0 or stock.auth_dependent(name):
                continue
            sr, hr = 100.0 * s / nspam, 100.0 * h / nham
            if sr >= a.min_spam and hr <= a.max_ham and sr >= a.min_ratio * hr:
                chosen.append(name)
        need = stock.closure(chosen, stop=have)
        tags = set()
        for n in need:
            tags |= stock.tags_of(n)
        more = True
        while more:     # a tag may be built of other tags
            more = False
            for t in list(tags):
                for u in re.findall(r"<([A-Za-z0-9_]+)>", stock.tags[t][1]):
                    if u in stock.tags and u not in tags:
                        tags.add(u)
                        more = True

        write(out, a, stock, need, set(chosen), tags, hits, nspam, nham)
        log("wrote %s: %d rules chosen, %d with what they need, %d tags"
            % (out, len(chosen), len(need), len(tags)))

        # the check: same hits from the written file as from the stock set
        # (without the fitted scores, which may hold 0 for a rule)
        again = stats(mw, conf, [p for p in sorted(glob.glob(
            os.path.join(rules_dir, "*.cf"))) if not p.endswith(
            "/90_scores.cf")], spam, ham)
        bad = [(n, hits[n][:2], again.get(n, (None, None))[:2])
               for n in sorted(chosen) if again.get(n, (None,))[:2] != hits[n][:2]]
        for n, want, got in bad:
            log("MISMATCH %s: stock %s, shipped %s" % (n, want, got))
        if bad:
            sys.exit(1)
        log("check: all %d chosen rules hit the same messages" % len(chosen))


def write(out, a, stock, need, chosen, tags, hits, nspam, nham):
    items = sorted([(stock.defs[n][0], "rule", n) for n in need] +
                   [(stock.tags[t][0], "tag", t) for t in tags])
    with open(out + ".tmp", "w", encoding="utf-8", errors="surrogateescape") as f:
        f.write("""# 30_sa_stock.cf - SpamAssassin stock rules that mailwarden ships
#
# Generated by contrib/fit/select-stock.py from %s:
# the rules mailwarden loads enabled, that SpamAssassin does not score below 0,
# and that on the corpus's train split (%d spam, %d ham) hit at least
# %.1f%% of spam, at most %.2f%% of ham, and %.0f times as often in spam
# as in ham; with the rules and ReplaceTags tags they need.  Copied
# verbatim.  Do not edit: rerun the script (see doc/rules.md).  Each rule
# keeps SpamAssassin's score here; rules/90_scores.cf, fitted by
# contrib/fit/fit-scores.py, replaces it.
#
# Licensed to the Apache Software Foundation (ASF) under one or more
# contributor license agreements; the ASF licenses these rules under the
# Apache License, Version 2.0 (http://www.apache.org/licenses/LICENSE-2.0).
# Unless required by applicable law or agreed to in writing, they are
# distributed on an "AS IS" BASIS, WITHOUT WARRANTIES OR CONDITIONS OF ANY
# KIND, either express or implied.
""" % (sa_version(a.stock), nspam, nham, a.min_spam, a.max_ham, a.min_ratio))
        src = None
        for _, kind, n in items:
            if kind == "tag":
                f.write(stock.tags[n][1].strip() + "\n")
                continue
            _, _, raw, fname = stock.defs[n]
            if fname != src:
                f.write("\n# from %s\n" % fname)
                src = fname
            if n in chosen:
                s, h, _ = hits[n]
                f.write("# train: %d spam, %d ham\n" % (s, h))
            f.write(raw.strip() + "\n")
            attrs = stock.attrs.get(n, [])
            for k, line in attrs:
                f.write(line.strip() + "\n")
            if n in chosen and not any(k == "describe" for k, _ in attrs):
                f.write("describe %s SpamAssassin's %s (no description in "
                        "the stock rules)\n" % (n, n))
            if n.startswith("__"):
                continue
            if n in chosen and hits[n][2] == 0:
                # SpamAssassin scores it 0 (informational, or left to
                # its mass-check); the train split says it marks spam,
                # and the fit only weighs rules whose score is not 0
                f.write("score %s 1 # SpamAssassin: 0\n" % n)
            elif n not in chosen:
                # needed by a chosen meta, not chosen itself: a sub-rule
                f.write("score %s 0 # only for the metas that use it\n" % n)
            elif n in stock.score:
                f.write("score %s %s\n" % (n, stock.score[n]))
        missing = sorted(stock.missing(need) - set(stock.defs))
        if missing:
            f.write("\n# Named by the metas above, defined by SpamAssassin only in blocks\n"
                    "# for plugins mailwarden does not provide (network tests, which a\n"
                    "# local SpamAssassin run does not hit either): never hit here.\n")
        for n in missing:
            f.write("meta %s 0\n" % n)
            if not n.startswith("__"):
                f.write("describe %s SpamAssassin's %s, not run here: never hits\n"
                        "score %s 0\n" % (n, n, n))
    os.rename(out + ".tmp", out)


if __name__ == "__main__":
    main()
