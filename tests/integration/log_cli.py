#!/usr/bin/env python3
"""log_cli.py - `mailwarden log` end to end: exit codes, outputs, inputs.

Runs the real program on the hand-made logs in tests/data/logreview
(plain, gzip, stdin, rotated sets, malformed and hostile lines).
Environment (set by `make check`): MAILWARDEN, TOP_SRCDIR.  Call by hand:

    MAILWARDEN=./mailwarden TOP_SRCDIR=. python3 tests/integration/log_cli.py

LOG_CLI_EXTRA=path/to/verdict.log adds a smoke run (summary, search
--json, explain of its first queue id, report) on any real log, such as
the one the Postfix integration test leaves behind.
"""

import json
import os
import subprocess
import sys
import tempfile

MW = os.environ.get("MAILWARDEN", "./mailwarden")
DATA = os.path.join(os.environ.get("TOP_SRCDIR", "."), "tests", "data", "logreview")
failures = []


def d(name):
    return os.path.join(DATA, name)


def run(*args, stdin=None):
    p = subprocess.run([MW, "log", *args], input=stdin, capture_output=True, timeout=120)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def check(name, cond, detail=""):
    print(("ok   " if cond else "FAIL ") + name)
    if not cond:
        failures.append(name)
        if detail:
            print("     " + detail.replace("\n", "\n     ")[:3000])


def qids_of_json_lines(out):
    return [json.loads(line).get("queue_id") for line in out.splitlines()]


def test_summary():
    rc, out, err = run("summary", d("mixed.log"))
    check("summary exits 0", rc == 0, err)
    check("summary counts 8 messages", "Messages 8 " in out, out)
    check("summary counts 3 rejects", "  reject              3   37.5%" in out, out)
    check("summary shows p95", "p95 1000.000 ms" in out, out)
    check("summary top reject source", "203.0.113.7" in out.split("Top client IPs")[1], out)
    rc, out, _ = run("summary", "--since", "2026-11-18T11:00:00Z", "--until",
                     "2026-11-18T12:15:00Z", d("mixed.log"))
    check("summary --since/--until", "Messages 3 " in out and "5 left out" in out, out)


def test_search():
    rc, out, _ = run("search", "--action", "reject", d("mixed.log"))
    rows = out.splitlines()
    check("search table: header + 3 rows", rc == 0 and len(rows) == 4 and
          rows[0].startswith("TIME"), out)
    rc, out, _ = run("search", "--json", "--ip", "203.0.113.0/24", d("mixed.log"))
    check("search --json --ip CIDR", rc == 0 and qids_of_json_lines(out) == ["Q3", "Q4"], out)
    rc, out, _ = run("search", "--json", "--sender", "example.org", "--rcpt",
                     "example.net", d("mixed.log"))
    check("search sender + rcpt domains", qids_of_json_lines(out) == ["Q1", "Q2", "Q7"], out)
    rc, out, _ = run("search", "--json", "--symbol", "bayes_9*", "--score-min", "16",
                     d("mixed.log"))
    check("search symbol glob + score", qids_of_json_lines(out) == ["Q3", "Q4"], out)
    rc, out, _ = run("search", "--queue-id", "nope", d("mixed.log"))
    check("search without match exits 1", rc == 1, out)
    rc, out, _ = run("search", "--json", "--limit", "2", d("mixed.log"))
    check("search --limit", len(out.splitlines()) == 2, out)
    rc, out, _ = run("search", d("hostile.log"))
    check("search table is terminal-safe", rc == 0 and "\x1b" not in out and
          "\u202e" not in out, repr(out[:500]))


def test_explain():
    rc, out, _ = run("explain", "Q3", d("mixed.log"), d("hostile.log"))
    check("explain by queue id", rc == 0 and "Forced by DMARC_POLICY_REJECT" in out and
          "SMTP reply: 550 5.7.1 DMARC policy of bank.example says reject" in out, out)
    rc, out2, _ = run("explain", "<m3@spam.example>", d("mixed.log"))
    check("explain by Message-ID", rc == 0 and out2 == out.split("\n---")[0], out2)
    rc, out, err = run("explain", "NOPE", d("mixed.log"))
    check("explain unknown id exits 1", rc == 1 and "no record" in err, err)
    rc, out, err = run("explain", "Q3", stdin=open(d("mixed.log"), "rb").read())
    check("explain from stdin", rc == 0 and "Message Q3" in out, err)


def test_inputs():
    rc, out, _ = run("search", "--json", stdin=open(d("rot-v.log.2.gz"), "rb").read())
    check("gzip on stdin", rc == 0 and qids_of_json_lines(out) == ["R1", "R2", "R3"], out)
    rc, out, _ = run("search", "--json", d("rot-v.log"), d("rot-v.log.2.gz"), d("rot-v.log.1"))
    check("rotated logs in time order",
          qids_of_json_lines(out) == ["R%d" % i for i in range(1, 10)], out)
    rc, out, err = run("summary", d("no-such.log"), d("rot-v.log"))
    check("missing file: exit 2, others still read", rc == 2 and "Messages 3 " in out and
          "No such file" in out, out + err)
    rc, out, err = run("summary", d("truncated.log.gz"))
    check("truncated gzip: exit 2, records kept", rc == 2 and "Messages 14 " in out and
          "compressed data is truncated" in out, out + err)
    rc, out, err = run("summary", d("malformed.log"))
    check("malformed lines listed, exit 0", rc == 0 and "9 malformed line(s)" in out and
          "malformed.log:13: raw control" in out and "Messages 4 " in out, out)
    rc, out, err = run("search", "--json", d("malformed.log"))
    check("search: data on stdout, problems on stderr",
          len(out.splitlines()) == 4 and "malformed.log:4: truncated" in err, out + err)
    rc, out, err = run("summary", d("missing.log"))
    check("records with missing fields are summarised", rc == 0 and "Messages 10 " in out, out)


def test_usage():
    for args, name in ((["summary", "--action", "bogus"], "bad action"),
                       (["summary", "--ip", "1.2.3.4/99"], "bad CIDR"),
                       (["summary", "--since", "yesterday"], "bad time"),
                       (["frobnicate"], "unknown subcommand"),
                       (["explain"], "explain without id"),
                       (["report", d("mixed.log")], "report without --html"),
                       (["summary", "--top", "x"], "bad count")):
        rc, out, err = run(*args)
        check("usage error exits 2: " + name, rc == 2 and err, err)
    rc, out, _ = run("--help")
    check("--help exits 0", rc == 0 and "log explain" in out, out)


def test_report():
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "r.html")
        rc, out, err = run("report", "--html", path, "--rejects", "5", d("mixed.log"),
                           d("hostile.log"))
        html = open(path, encoding="utf-8").read() if os.path.exists(path) else ""
        check("report writes a page", rc == 0 and html.endswith("</html>\n"), err)
        check("report keeps --rejects latest", 'id="explain-5"' in html and
              'id="explain-6"' not in html, "")
        rc, out, err = run("report", "--html", os.path.join(tmp, "nodir", "r.html"),
                           d("mixed.log"))
        check("report to an unwritable path exits 2", rc == 2 and err, err)


def test_extra_log():
    extra = os.environ.get("LOG_CLI_EXTRA")
    if not extra:
        return
    rc, out, err = run("summary", extra)
    check("extra log: summary", rc == 0 and "0 malformed" in out, out + err)
    rc, out, err = run("search", "--json", extra)
    first = json.loads(out.splitlines()[0]) if out else {}
    check("extra log: search --json", rc == 0 and first, err)
    if first.get("queue_id"):
        rc, out, err = run("explain", first["queue_id"], extra)
        check("extra log: explain", rc == 0 and "Decision" in out, err)


def main():
    if not os.path.exists(MW):
        print("mailwarden binary not found: " + MW)
        return 77
    for t in (test_summary, test_search, test_explain, test_inputs, test_usage,
              test_report, test_extra_log):
        t()
    print("%d failure(s)" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
