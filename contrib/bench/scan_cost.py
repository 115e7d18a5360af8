#!/usr/bin/python3
"""scan_cost.py - what `mailwarden scan` costs per message, in instructions,
and whether a change kept every verdict.

    scan_cost.py cost     [common options] FILE|DIR...
    scan_cost.py verdicts [common options] --save OUT FILE|DIR...
    scan_cost.py verdicts [common options] --compare BASELINE FILE|DIR...
    scan_cost.py slope    [common options] [--conf-b CONF] [--sizes KB,...]
                          [--dkim-key PEM --domain D --selector S] CORPUSDIR

common options: --mailwarden BIN (default ./mailwarden), -c CONF,
    --ip ADDR, --helo NAME, --from ADDR (passed to scan as they are).

cost: runs scan under valgrind's callgrind (instruction counts do not
change with the machine's load, unlike CPU time) once over every message
and once over the first message alone, and prints the instructions per
message and per KB of the difference, so that start-up (loading rules,
opening the Bayes store) is left out.  --profile FILE keeps the callgrind
output of the full run for callgrind_annotate.

verdicts: runs scan --json over the messages and writes one line per
message: the file name and the verdict log line with the fields that vary
from run to run (time, and durations: ms, *_ms) removed, keys sorted.  With
--save the lines go to OUT (which must not exist: an output never
overwrites a file); with --compare they are compared with a file saved
before, and every message whose line differs is listed (exit status 1).
The verdict line holds the action, the score, every symbol and the Bayes
clues, so "identical" means identical scoring, not only the same action.

slope: the cost against message size.  From the messages in CORPUSDIR
(bodies of real mail) it builds, for each size (default 1, 4, 16, 64, 256
and 1024 KB), four text messages (plain text made of corpus bodies) and
four attachment messages (a short text and a base64 attachment of random
bytes), DKIM-signed when --dkim-key is given (relaxed/relaxed; the zone
of -c must publish the key for DKIM to pass), and prints the
instructions per message and per KB for -c and, with --conf-b, a second
configuration (auth-only next to the full pipeline), as a Markdown table.

Run by hand from a built tree; never part of make check.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import sizeset

VOLATILE = {"time"}


def volatile(key):
    """Fields that vary from run to run: the time, and durations."""
    return key in VOLATILE or key == "ms" or key.endswith("_ms")


def files_of(args):
    out = []
    for p in args:
        if os.path.isdir(p):
            out += sorted(os.path.join(p, f) for f in os.listdir(p)
                          if os.path.isfile(os.path.join(p, f)))
        else:
            out.append(p)
    if not out:
        sys.exit("scan_cost: no messages")
    return out


def scan_argv(a):
    argv = [a.mailwarden, "scan"]
    if a.conf:
        argv += ["-c", a.conf]
    for opt in ("ip", "helo", "from_"):
        v = getattr(a, opt)
        if v:
            argv += ["--" + opt.rstrip("_"), v]
    return argv


def strip(v):
    if isinstance(v, dict):
        return {k: strip(x) for k, x in v.items() if not volatile(k)}
    if isinstance(v, list):
        return [strip(x) for x in v]
    return v


def verdict_lines(a, files):
    lines = []
    chunk = 200
    for i in range(0, len(files), chunk):
        part = files[i:i + chunk]
        r = subprocess.run(scan_argv(a) + ["--json"] + part,
                           capture_output=True, text=True)
        if r.returncode != 0:
            sys.exit("scan_cost: scan failed (%d): %s" % (r.returncode,
                                                        r.stderr.strip()))
        got = [x for x in r.stdout.splitlines() if x.strip()]
        if len(got) != len(part):
            sys.exit("scan_cost: %d verdict lines for %d files"
                     % (len(got), len(part)))
        for f, line in zip(part, got):
            v = strip(json.loads(line))
            lines.append("%s\t%s" % (os.path.basename(f),
                                     json.dumps(v, sort_keys=True)))
    return lines


def first_difference(x, y, path=""):
    """The path of the first field where two verdicts differ."""
    if type(x) is not type(y):
        return path or "."
    if isinstance(x, dict):
        for k in sorted(set(x) | set(y)):
            d = first_difference(x.get(k), y.get(k), path + "." + k)
            if d:
                return d
        return None
    if isinstance(x, list):
        if len(x) != len(y):
            return path + "[len]"
        for i, (u, v) in enumerate(zip(x, y)):
            d = first_difference(u, v, "%s[%d]" % (path, i))
            if d:
                return d
        return None
    return None if x == y else (path or ".")


def cmd_verdicts(a, files):
    lines = verdict_lines(a, files)
    if a.save:
        with open(a.save, "x") as f:
            f.write("\n".join(lines) + "\n")
        print("scan_cost: %d verdicts saved to %s" % (len(lines), a.save))
        return 0
    with open(a.compare) as f:
        base = dict(x.split("\t", 1) for x in f.read().splitlines() if x)
    bad = 0
    for line in lines:
        name, v = line.split("\t", 1)
        if name not in base:
            print("%s: not in %s" % (name, a.compare))
            bad += 1
        elif base[name] != v:
            old, new = json.loads(base[name]), json.loads(v)
            print("%s: differs at %s: action %s -> %s, score %s -> %s"
                  % (name, first_difference(old, new), old.get("action"),
                     new.get("action"), old.get("score"), new.get("score")))
            bad += 1
    print("scan_cost: %d messages, %d identical, %d different"
          % (len(lines), len(lines) - bad, bad))
    return 1 if bad else 0


def instructions(a, files, keep=None):
    with tempfile.TemporaryDirectory() as tmp:
        out = keep or os.path.join(tmp, "callgrind.out")
        r = subprocess.run(["valgrind", "--tool=callgrind",
                            "--callgrind-out-file=" + out]
                           + scan_argv(a) + ["--json"] + files,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                           text=True)
        if r.returncode != 0:
            sys.exit("scan_cost: valgrind failed: %s" % r.stderr[-2000:])
        for line in r.stderr.splitlines():
            if "Collected :" in line:
                return int(line.rsplit(":", 1)[1].strip())
    sys.exit("scan_cost: no instruction count in valgrind's output")


def cmd_cost(a, files):
    if len(files) < 2:
        sys.exit("scan_cost: cost needs at least two messages")
    if a.profile and os.path.exists(a.profile):
        sys.exit("scan_cost: %s exists" % a.profile)
    total = instructions(a, files, a.profile)
    one = instructions(a, files[:1])
    n = len(files) - 1
    nbytes = sum(os.path.getsize(f) for f in files[1:])
    per = (total - one) / n
    print("messages %d  mean %.1f KB  instructions: total %d, start-up + "
          "first message %d" % (n + 1, nbytes / n / 1024, total, one))
    print("per message %.3f M instructions, per KB %.1f K instructions"
          % (per / 1e6, (total - one) / (nbytes / 1024) / 1e3))
    return 0


def cmd_slope(a, dirs):
    import random
    if len(dirs) != 1 or not os.path.isdir(dirs[0]):
        sys.exit("scan_cost: slope takes one corpus directory")
    bodies = sizeset.corpus_bodies(dirs[0])
    if not bodies:
        sys.exit("scan_cost: no messages in %s" % dirs[0])
    key = None
    if a.dkim_key:
        with open(a.dkim_key, "rb") as f:
            key = f.read()

    def make(kind, size, n, rnd):
        return sizeset.make_message(kind, size, n, bodies, rnd, a.domain,
                                    key, a.selector)
    sizes = [int(x) for x in a.sizes.split(",")]
    confs = [("-c", a.conf)] + ([("--conf-b", a.conf_b)] if a.conf_b else [])
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        rnd = random.Random(1)
        warm = os.path.join(tmp, "warm.eml")
        with open(warm, "wb") as f:
            f.write(make("text", 2048, 0, rnd))
        base = {}
        for _, conf in confs:
            a.conf = conf
            base[conf] = instructions(a, [warm])
        for kind in sizeset.KINDS:
            for kb in sizes:
                files = sizeset.build_point(
                    os.path.join(tmp, "%s-%d" % (kind, kb)), kind, kb * 1024,
                    4, bodies, rnd, a.domain, key, a.selector)
                nbytes = sum(os.path.getsize(p) for p in files)
                cells = []
                for _, conf in confs:
                    a.conf = conf
                    tot = instructions(a, [warm] + files) - base[conf]
                    cells.append((tot / len(files) / 1e6,
                                  tot / (nbytes / 1024)))
                rows.append((kind, kb, nbytes / len(files) / 1024, cells))
                log_row(rows[-1])
        a.conf = confs[0][1]
    print()
    print("| kind | size KB | " + " | ".join(
        "%s M instr/msg | %s K instr/KB" % (c[1], c[1]) for c in confs) + " |")
    print("| --- | ---: | " + " | ".join("---: | ---:" for _ in confs) + " |")
    for kind, kb, real, cells in rows:
        print("| %s | %.1f | %s |" % (kind, real, " | ".join(
            "%.3f | %.1f" % (m, k / 1e3) for m, k in cells)))
    return 0


def log_row(r):
    kind, kb, real, cells = r
    print("%s %.1f KB: %s" % (kind, real, ", ".join(
        "%.3f M/msg %.1f K/KB" % (m, k / 1e3) for m, k in cells)),
        file=sys.stderr, flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("mode", choices=("cost", "verdicts", "slope"))
    ap.add_argument("paths", nargs="+")
    ap.add_argument("--mailwarden", default="./mailwarden")
    ap.add_argument("-c", dest="conf")
    ap.add_argument("--ip")
    ap.add_argument("--helo")
    ap.add_argument("--from", dest="from_")
    ap.add_argument("--save")
    ap.add_argument("--compare")
    ap.add_argument("--profile")
    ap.add_argument("--conf-b")
    ap.add_argument("--sizes", default="1,4,16,64,256,1024")
    ap.add_argument("--dkim-key")
    ap.add_argument("--domain", default="bench.example")
    ap.add_argument("--selector", default="bench2048")
    a = ap.parse_args()
    if a.mode == "slope":
        return cmd_slope(a, a.paths)
    files = files_of(a.paths)
    if a.mode == "cost":
        return cmd_cost(a, files)
    if bool(a.save) == bool(a.compare):
        ap.error("verdicts needs one of --save and --compare")
    return cmd_verdicts(a, files)


if __name__ == "__main__":
    sys.exit(main())
