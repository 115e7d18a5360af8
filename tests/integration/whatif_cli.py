#!/usr/bin/env python3
"""whatif_cli.py - `mailwarden log whatif` on real verdict logs (issue 18).

The logs are written by `mailwarden scan --json` (the milter's own
evaluation and log line) over generated messages: some carry marker
words that site rules score, some not.  The log is then split into a
rotated set (v.log, v.log.1, v.log.2.gz) and re-decided:

  - under the configuration that wrote it: zero changes, every message
    rescored;
  - with one rule's score raised: exactly the messages carrying that
    word and not already tagged move accept -> tag, and the symbol
    table says so;
  - with tag_score raised: exactly the tagged messages below it move
    down;
  - with trusted_networks covering the client: all accepted, unscored.

Also: -c is required, the output never lands on an input, and a
malformed line is reported without stopping the review.
Environment (set by `make check`): MAILWARDEN, TOP_SRCDIR.
"""

import gzip
import json
import os
import shutil
import subprocess
import sys
import tempfile

from checks import check, exit_status, mailwarden

MW, SRC = mailwarden()

MSG = """From: Sender {i} <s{i}@sender.example>
To: bob@rcpt.example
Subject: note {i} {word}
Date: Mon, 16 Nov 2026 10:00:00 +0000
Message-ID: <n{i}@sender.example>
MIME-Version: 1.0
Content-Type: text/plain; charset=us-ascii

Hello Bob,
this is note {i}. {word}
Alice
"""

RULES = """body T_WI_LOW /\\bwhatiflow\\b/
score T_WI_LOW 1.0
body T_WI_TAG /\\bwhatiftag\\b/
score T_WI_TAG 6.0
"""

N = 90


def word_of(i):
    return "whatiftag" if i % 3 == 0 else "whatiflow" if i % 3 == 1 else ""


def write(path, text):
    with open(path, "w") as f:
        f.write(text)


def conf(work, name, extra="", rules=RULES):
    site = os.path.join(work, name + ".d")
    os.makedirs(site, exist_ok=True)
    write(os.path.join(site, "50_t.cf"), rules)
    path = os.path.join(work, name + ".conf")
    write(path, "dns_zone_files = %s\nrules_dir =\nrules_site_dir = %s\n"
          "log_file =\npid_file =\ntag_score = 5.0\nreject_score = 15.0\n%s"
          % (os.path.join(SRC, "tests", "data", "dns", "empty.zone"), site, extra))
    return path


def whatif(*args, stdout=subprocess.PIPE):
    p = subprocess.run([MW, "log", "whatif", *args], stdin=subprocess.DEVNULL,
                       stdout=stdout, stderr=subprocess.PIPE, timeout=120)
    out = p.stdout.decode("utf-8", "replace") if p.stdout is not None else ""
    return p.returncode, out, p.stderr.decode("utf-8", "replace")


def report(*args):
    rc, out, err = whatif("--json", *args)
    try:
        return rc, json.loads(out), err
    except ValueError:
        return rc, {}, err + out


def make_log(work, cfg):
    files = []
    for i in range(N):
        p = os.path.join(work, "m%03d.eml" % i)
        write(p, MSG.format(i=i, word=word_of(i)))
        files.append(p)
    p = subprocess.run([MW, "scan", "-c", cfg, "--json", "--ip", "192.0.2.10",
                        "--helo", "mx.sender.example", "--from",
                        "s@sender.example", "--rcpt", "bob@rcpt.example", *files],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       universal_newlines=True, timeout=300)
    lines = p.stdout.splitlines()
    check("scan wrote one log line per message", p.returncode == 0 and
          len(lines) == N, p.stderr)
    # rotated set, oldest first: v.log.2.gz, v.log.1, v.log
    base = os.path.join(work, "v.log")
    with gzip.open(base + ".2", "wt") as f:
        f.write("\n".join(lines[:30]) + "\n")
    os.rename(base + ".2", base + ".2.gz")
    write(base + ".1", "\n".join(lines[30:60]) + "\n")
    write(base, "\n".join(lines[60:]) + "\n")
    return base, [json.loads(l) for l in lines]


def main():
    work = tempfile.mkdtemp(prefix="mw-whatif-")
    try:
        same = conf(work, "same")
        log, recs = make_log(work, same)
        actions = [r["action"] for r in recs]
        check("the log has accepted and tagged messages",
              actions.count("tag") == N // 3 and actions.count("accept") == N - N // 3,
              actions)

        rc, doc, err = report("-c", same, "--rotated", log)
        check("same configuration: exit 0", rc == 0, err)
        check("same configuration: every message read and rescored",
              doc.get("messages") == N and doc.get("rescored") == N, doc)
        check("same configuration: zero changes", doc.get("changed") == 0 and
              doc.get("symbols") == [], doc)

        raised = conf(work, "raised", rules=RULES.replace("T_WI_LOW 1.0", "T_WI_LOW 5.5"))
        rc, doc, err = report("-c", raised, "--rotated", log)
        low = [r["queue_id"] for r in recs if "whatiflow" in r.get("subject", "")]
        check("raised score: exactly the marked messages move accept -> tag",
              doc.get("changed") == len(low) and doc.get("transitions") ==
              [{"from": "accept", "to": "tag", "count": len(low)}], doc)
        syms = {s["name"]: s for s in doc.get("symbols", [])}
        check("raised score: the symbol table names the rule and its moves",
              list(syms) == ["T_WI_LOW"] and syms["T_WI_LOW"]["old"] == 1.0 and
              syms["T_WI_LOW"]["new"] == 5.5 and
              syms["T_WI_LOW"]["moved_up"] == len(low) and
              syms["T_WI_LOW"]["alone"] == len(low), doc.get("symbols"))
        subjects = sorted(c["subject"] for c in doc.get("changed_messages", []))
        check("raised score: the changed list holds those messages",
              subjects == sorted(r["subject"] for r in recs
                                 if "whatiflow" in r["subject"]), subjects)
        rc, out, err = whatif("-c", raised, "--rotated", "--limit", "2", log)
        check("text report: transitions, symbol row, a capped list",
              rc == 0 and "accept   -> tag" in out and "T_WI_LOW" in out and
              "(%d more: --limit 0 lists all)" % (len(low) - 2) in out, out + err)

        higher = conf(work, "higher", "tag_score = 8\n")
        rc, doc, err = report("-c", higher, "--rotated", log)
        check("tag_score raised: every tagged message goes back to accept",
              doc.get("transitions") == [{"from": "tag", "to": "accept",
                                          "count": N // 3}], doc)

        trusted = conf(work, "trusted", "trusted_networks = 192.0.2.0/24\n")
        rc, doc, err = report("-c", trusted, "--rotated", log)
        check("trusted_networks: the tagged messages are accepted, unscored",
              doc.get("trusted_now") == N and doc.get("changed") == N // 3, doc)

        gz_only = log + ".2.gz"
        rc, doc, err = report("-c", same, gz_only)
        check("a gzip log alone is read", rc == 0 and doc.get("messages") == 30, err)

        rc, out, err = whatif(log)
        check("without -c: exit 2 and a clear word", rc == 2 and "-c NEW.conf" in err,
              err)
        with open(log, "ab") as f:
            f.write(b"{not json\n")
        rc, doc, err = report("-c", same, log)
        check("a malformed line is counted, the rest rescored",
              rc == 0 and doc.get("malformed") == 1 and doc.get("messages") == 30,
              (doc, err))
        size = os.path.getsize(log)
        with open(log, "ab") as f:
            rc, out, err = whatif("-c", same, log, stdout=f)
        check("output onto the input is refused, the input kept",
              rc == 2 and os.path.getsize(log) == size, err)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return exit_status()


if __name__ == "__main__":
    sys.exit(main())
