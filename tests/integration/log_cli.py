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

import gzip
import html
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile

from checks import check, exit_status

MW = os.path.abspath(os.environ.get("MAILWARDEN", "./mailwarden"))
DATA = os.path.join(os.environ.get("TOP_SRCDIR", "."), "tests", "data", "logreview")


def d(name):
    return os.path.join(DATA, name)


def run(*args, stdin=None, stdin_fd=subprocess.DEVNULL, stdout_fd=None, cwd=None,
        timeout=120):
    """`mailwarden log ARGS`: stdin is the bytes given, else stdin_fd (never
    the test's own stdin: that may be a terminal); stdout_fd redirects."""
    try:
        p = subprocess.run([MW, "log", *args], input=stdin,
                           stdin=None if stdin is not None else stdin_fd,
                           stdout=stdout_fd if stdout_fd is not None else subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=timeout, cwd=cwd)
    except subprocess.TimeoutExpired:
        return -1, "", "timed out after %d s" % timeout
    out = p.stdout.decode("utf-8", "replace") if p.stdout is not None else ""
    return p.returncode, out, p.stderr.decode("utf-8", "replace")


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
    rc, out, err = run("explain", "Q3", "-", stdin=open(d("mixed.log"), "rb").read())
    check("explain from stdin", rc == 0 and "Message Q3" in out, err)


def test_inputs():
    rc, out, _ = run("search", "--json", "-", stdin=open(d("rot-v.log.2.gz"), "rb").read())
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


def snapshot(path):
    """What must not change: inode, size and bytes."""
    st = os.stat(path)
    return st.st_ino, st.st_size, open(path, "rb").read()


def test_report_never_overwrites():
    """Issue 14 item 1: the report replaces no input and no foreign file."""
    with tempfile.TemporaryDirectory() as tmp:
        log = os.path.join(tmp, "verdicts.log")
        shutil.copy(d("mixed.log"), log)
        conf = os.path.join(tmp, "c.conf")
        with open(conf, "w") as f:
            f.write("log_file = %s\n" % log)
        before = snapshot(log)

        rc, out, err = run("report", "-c", conf, "--html", log)
        check("report --html LOG (output name forgotten) refused, exit 2",
              rc == 2 and "is one of the inputs" in err, err)
        check("... and the log is untouched", snapshot(log) == before)
        rc, out, err = run("report", "--html", log, log)
        check("report --html onto its named input refused",
              rc == 2 and snapshot(log) == before, err)

        link = os.path.join(tmp, "link.html")
        os.symlink(log, link)
        rc, out, err = run("report", "--html", link, log)
        check("report through a symlink to its input refused",
              rc == 2 and "is one of the inputs" in err and snapshot(log) == before, err)
        hard = os.path.join(tmp, "hard.html")
        os.link(log, hard)
        rc, out, err = run("report", "--html", hard, log)
        check("report onto a hard link of its input refused",
              rc == 2 and snapshot(log) == before, err)
        os.unlink(hard)

        with open(log, "ab") as f:
            rc, out, err = run("report", log, stdout_fd=f)
        check("report >> LOG (stdout is the input) refused",
              rc == 2 and "standard output is one of the inputs" in err and
              snapshot(log) == before, err)
        with open(log, "ab") as f:
            rc, out, err = run("search", "--json", "-c", conf, stdout_fd=f)
        check("search >> LOG refused too", rc == 2 and snapshot(log) == before, err)

        other = os.path.join(tmp, "notes.html")
        with open(other, "w") as f:
            f.write("<!DOCTYPE html>\n<p>my own page</p>\n")
        kept = snapshot(other)
        rc, out, err = run("report", "--html", other, log)
        check("report onto a file it did not write refused",
              rc == 2 and "not an earlier output" in err and snapshot(other) == kept, err)

        rc, out, err = run("report", "--html", "-", log, cwd=tmp)
        check("--html - writes the page to stdout", rc == 0 and
              out.startswith("<!DOCTYPE html>") and out.endswith("</html>\n"), err)
        check("--html - creates no file named '-'", not os.path.exists(os.path.join(tmp, "-")))
        rc, out2, err = run("report", log, cwd=tmp)
        check("report without --html writes to stdout", rc == 0 and
              out2.startswith("<!DOCTYPE html>") and 'name="generator"' in out2, err)

        page = os.path.join(tmp, "r.html")
        rc, out, err = run("report", "--html", page, "--title", "first", log)
        first = snapshot(page) if os.path.exists(page) else (0, 0, b"")
        rc2, out, err2 = run("report", "--html", page, "--title", "second", log)
        second = snapshot(page) if os.path.exists(page) else (0, 0, b"")
        check("an earlier report is replaced (a new file renamed into place)",
              rc == 0 and rc2 == 0 and b"<title>first" in first[2] and
              b"<title>second" in second[2] and first[0] != second[0], err + err2)
        check("no temporary file is left behind",
              sorted(os.listdir(tmp)) == ["c.conf", "link.html", "notes.html", "r.html",
                                          "verdicts.log"], str(os.listdir(tmp)))


def config_with_log(tmp, log):
    conf = os.path.join(tmp, "c.conf")
    with open(conf, "w") as f:
        f.write("# only the verdict log\nlog_file = %s\n" % log)
    return conf


def test_configured_log():
    """Issue 14 item 2: -c, the configured log_file, --rotated, no terminal."""
    with tempfile.TemporaryDirectory() as tmp:
        log = os.path.join(tmp, "v.log")
        shutil.copy(d("mixed.log"), log)
        conf = config_with_log(tmp, log)
        rc, out, err = run("summary", "-c", conf)
        check("summary -c reads the configured log_file", rc == 0 and "Messages 8 " in out,
              out + err)
        rc, out, err = run("search", "--json", "--config", conf, "--action", "reject")
        check("search --config", rc == 0 and len(out.splitlines()) == 3, out + err)
        rc, out, err = run("explain", "-c", conf, "Q3")
        check("explain -c", rc == 0 and "Message Q3" in out, out + err)
        rc, out, err = run("report", "-c", conf, "--html", os.path.join(tmp, "r.html"))
        check("report -c", rc == 0 and os.path.exists(os.path.join(tmp, "r.html")), err)
        rc, out, err = run("summary", "-c", conf,
                           stdin=open(d("rot-v.log"), "rb").read())
        check("without FILE the configured log, not a pipe on stdin",
              rc == 0 and "Messages 8 " in out, out + err)

        missing = config_with_log(tmp, os.path.join(tmp, "none.log"))
        rc, out, err = run("summary", "-c", missing)
        check("a missing configured log_file: exit 2 naming it and the config",
              rc == 2 and "none.log" in err and "c.conf" in err, err)

    with tempfile.TemporaryDirectory() as tmp:
        for src, dst in (("rot-v.log", "v.log"), ("rot-v.log.1", "v.log.1"),
                         ("rot-v.log.2.gz", "v.log.2.gz")):
            shutil.copy(d(src), os.path.join(tmp, dst))
        with open(os.path.join(tmp, "v.log.bak"), "w") as f:
            f.write("not a rotated sibling\n")
        conf = config_with_log(tmp, os.path.join(tmp, "v.log"))
        rc, out, err = run("search", "--json", "-c", conf)
        check("without --rotated only log_file itself",
              rc == 0 and qids_of_json_lines(out) == ["R7", "R8", "R9"], out + err)
        rc, out, err = run("search", "--json", "--rotated", "-c", conf)
        check("--rotated reads log_file, .1 and .2.gz in time order",
              rc == 0 and qids_of_json_lines(out) == ["R%d" % i for i in range(1, 10)],
              out + err)
        rc, out, err = run("search", "--json", "--rotated", os.path.join(tmp, "v.log"))
        check("--rotated on a named FILE",
              rc == 0 and qids_of_json_lines(out) == ["R%d" % i for i in range(1, 10)],
              out + err)
        rc, out, err = run("report", "--rotated", "-c", conf, "--html",
                           os.path.join(tmp, "v.log.2.gz"))
        check("report onto a rotated input refused", rc == 2 and
              gzip.open(os.path.join(tmp, "v.log.2.gz")).read().startswith(b"{"), err)

    with open(os.devnull, "wb") as null:
        rc, out, err = run("summary", "-", stdout_fd=null)
    check("/dev/null as both input and output is no overwrite", rc == 0, err)

    master, slave = os.openpty()
    try:
        for cmd in (["summary", "-"], ["search", "-"], ["explain", "Q1", "-"],
                    ["report", "-"]):
            rc, out, err = run(*cmd, stdin_fd=slave, timeout=10)
            check("log %s with a terminal on stdin: exit 2, says how to give input" % cmd[0],
                  rc == 2 and "terminal" in err and "-c" in err and "pipe" in err, err)
    finally:
        os.close(master)
        os.close(slave)


def test_review_cli():
    """The morning review from the command line (issue 22)."""
    rc, out, err = run("search", "--json", "--action", "tag", "--dmarc", "pass",
                       "--bayes-max", "0.3", d("review.log"))
    check("search: tagged mail that passed DMARC with a low Bayes",
          rc == 0 and qids_of_json_lines(out) == ["F1", "F3"], out + err)
    rc, out, err = run("search", "--json", "--subject", "RECHNUNG", d("review.log"))
    check("search --subject on the decoded Subject", qids_of_json_lines(out) == ["F1"], out)
    rc, out, err = run("search", "--json", "--decided-by", "RBL_*", "--mail-from", "<>",
                       d("review.log"))
    check("search --decided-by with --mail-from <>", qids_of_json_lines(out) == ["J2"], out)
    rc, out, err = run("search", "--json", "--no-symbol", "ARC_NONE", "--from",
                       "partner.example", d("review.log"))
    check("search --no-symbol and --from", rc == 1 and out == "", out)
    rc, out, err = run("search", "--subject", "gnp", d("review.log"))
    check("search table shows the Subject, terminal-safe",
          rc == 0 and "<script>alert(1)</script> \\u{202" in out and "\u202e" not in out, out)
    rc, out, err = run("search", "--dmarc", "passed", d("review.log"))
    check("search --dmarc with a wrong word: exit 2, names the words",
          rc == 2 and "--dmarc" in err and "permerror" in err, err)
    rc, out, err = run("report", "--compare", "yesterday", d("review.log"))
    check("report --compare needs an age", rc == 2 and "--compare" in err, err)
    rc, out, err = run("report", "--compare", "2h", "--until", "2026-11-18T11:00:00Z",
                       "--own-domain", "Partner.Example", d("review.log"))
    check("report --compare: the period before", rc == 0 and 'id="changes"' in out and
          "<td>messages</td><td class=\"n\">6</td><td class=\"n\">6</td>" in out, out[-3000:])
    check("report --own-domain", "partner.<wbr>example</td><td class=\"n\">1</td>" in out,
          out[-3000:])
    rc, out, err = run("report", "--compare-log", d("mixed.log"), d("review.log"))
    check("report --compare-log: against another log set",
          rc == 0 and "--compare-log</code>" in out and
          "<td>messages</td><td class=\"n\">8</td><td class=\"n\">12</td>" in out and
          "ARC_NONE <span class=\"new\">new</span>" in out, err)
    rc, out, err = run("report", "--compare", "1d", "--compare-log", d("mixed.log"),
                       d("review.log"))
    check("--compare and --compare-log exclude each other", rc == 2 and "exclude" in err, err)
    with tempfile.TemporaryDirectory(prefix="mw-cmp-") as tmp:
        log = os.path.join(tmp, "old.log")
        shutil.copy(d("mixed.log"), log)
        before = open(log, "rb").read()
        rc, out, err = run("report", "--html", log, "--compare-log", log, d("review.log"))
        check("a --compare-log file is never the output",
              rc == 2 and open(log, "rb").read() == before, err)


def printed_searches(page):
    """The `mailwarden log search` commands a report page prints, by the
    id of the section they sit in: [argv after "log"], unescaped."""
    found = {}
    for sec in re.finditer(r'<section id="([a-z-]+)"(.*?)</section>', page, re.S):
        for code in re.findall(r"<code>mailwarden log (search .*?)</code>", sec.group(2)):
            found.setdefault(sec.group(1), []).append(shlex.split(html.unescape(code)))
    return found


def list_qids(page, table):
    """Queue ids of a list table and of its folded rest."""
    qids = []
    for t in (table, table + "-more"):
        m = re.search(r'<table class="list" id="%s">(.*?)</table>' % t, page, re.S)
        if m:
            qids += [html.unescape(q) for q in
                     re.findall(r'<td class="id"><a href="#[^"]*">(.*?)</a>', m.group(1))]
    return qids


def test_report_searches_select_the_same_mail():
    """The search printed under each list of a filtered report runs as
    printed and selects that list's mail; a capped list says how many more
    there are and gives the search that lists them all (issue 22)."""
    with tempfile.TemporaryDirectory(prefix="mw-srch-") as tmp:
        # an input whose name needs quoting, and a filter value that does
        log = os.path.join(tmp, "it's a log")
        shutil.copy(d("review.log"), log)
        rc, page, err = run("report", "--since", "2026-11-18T08:30:00Z", "--until", "11h",
                            "--rcpt", "site.example", "--no-symbol", "NO SUCH 'X",
                            "--rejects", "1", log)
        check("filtered report runs", rc == 0, err)
        found = printed_searches(page)
        for sec, table, action, want in (("tags", "tag-table", "tag", ["F3", "F2", "F1"]),
                                         ("rejects", "reject-table", "reject",
                                          ["J3", "J2", "J1"])):
            cmds = found.get(sec, [])
            check("%s: one search printed" % sec, len(cmds) == 1, found)
            argv = cmds[0] if cmds else ["search"]
            check("%s: the search carries the report's selection" % sec,
                  argv[-1] == log and "--rcpt" in argv and "NO SUCH 'X" in argv and
                  "2026-11-18T08:30:00Z" in argv and "11h" not in argv and
                  argv[argv.index("--action") + 1] == action if "--action" in argv else False,
                  argv)
            rc, out, err = run(argv[0], "--json", *argv[1:])
            got = qids_of_json_lines(out)
            shown = list_qids(page, table)
            check("%s: the printed search selects the list's mail and the rest" % sec,
                  rc == 0 and sorted(got) == sorted(want) and shown == want[:1] and
                  set(shown) <= set(got), (got, shown, err))
            check("%s: the capped list says how many more" % sec,
                  re.search(r'id="%s".*?2 more: <code>mailwarden log search' % sec, page, re.S)
                  is not None, page[-4000:])
        # without the --until the report still ends at "now": the search too
        fps = found.get("fps", [["search"]])[0]
        check("fps: the search keeps the filters and narrows to tags and rejects",
              fps[-1] == log and "--rcpt" in fps and
              fps[fps.index("--action") + 1] == "tag,reject" if "--action" in fps else False,
              fps)
        check("fps: says how many candidates beyond those shown",
              re.search(r'id="fps".*?1 more candidate', page, re.S) is not None
              and list_qids(page, "fp-table") == ["F1"], page[:6000])
        # an --action filter narrows the lists' own action, not widens it
        rc, page, err = run("report", "--action", "reject", "--rejects", "1", log)
        argv = printed_searches(page).get("rejects", [["search"]])[0]
        rc, out, err = run(argv[0], "--json", *argv[1:])
        check("report --action reject: the rejects' search lists the rejects",
              qids_of_json_lines(out) == ["J1", "J2", "J3"], (argv, out, err))
        check("report --action reject: no tag list search",
              "tags" not in printed_searches(page), page[-3000:])


def sanitized():
    """Whether the mailwarden under test is built with AddressSanitizer."""
    with open(MW, "rb") as f:
        return b"__asan_init" in f.read()


def rusage_run(args):
    """Run mailwarden; (exit status, user CPU seconds, peak RSS in KiB)."""
    p = subprocess.Popen([MW, *args], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    _, status, ru = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    return p.returncode, ru.ru_utime, ru.ru_maxrss


def test_large_report():
    """The review lists must not make the report slow or big on a large
    log: CPU time compared with `summary` (JSON parsing dominates both),
    memory and page size bounded whatever the log's length."""
    gen = os.path.join(os.environ.get("TOP_SRCDIR", "."), "contrib", "tools", "gen-vlog.py")
    with tempfile.TemporaryDirectory(prefix="mw-large-") as tmp:
        log = os.path.join(tmp, "v.log")
        with open(log, "w") as f:
            subprocess.run([sys.executable, gen, "--lines", "30000", "--days", "2"],
                           stdout=f, check=True, timeout=300)
        page = os.path.join(tmp, "r.html")
        rc_s, cpu_s, rss_s = rusage_run(["log", "summary", log])
        rc_r, cpu_r, rss_r = rusage_run(["log", "report", "--html", page, "--compare", "24h",
                                         "--until", "2026-11-12T00:00:00Z", log])
        size_r = os.path.getsize(page) if os.path.exists(page) else 0
        rc_m, cpu_m, rss_m = rusage_run(["log", "report", "--html", page, "--rejects", "1000",
                                         log])
        size_m = os.path.getsize(page) if os.path.exists(page) else 0
        print("     30,000 lines: summary %.2f s %d KiB; report --compare %.2f s %d KiB "
              "%d bytes; report --rejects 1000 %.2f s %d KiB %d bytes" % (
                  cpu_s, rss_s, cpu_r, rss_r, size_r, cpu_m, rss_m, size_m))
        check("large log: all three ran", rc_s == rc_r == rc_m == 0, (rc_s, rc_r, rc_m))
        # CPU ratios mean something in a plain build only: AddressSanitizer
        # makes every allocation several times dearer, and the report
        # allocates more per line than summary (seen in CI: 1.62x)
        if sanitized():
            print("     (sanitizer build: the CPU ratios are not checked)")
        else:
            check("large log: report --compare costs at most 1.5x summary's CPU",
                  cpu_r <= 1.5 * cpu_s + 0.3, (cpu_r, cpu_s))
            check("large log: report with 1000-row lists at most 2x summary's CPU",
                  cpu_m <= 2 * cpu_s + 0.5, (cpu_m, cpu_s))
        # against summary's own peak, so that a sanitizer build's shadow
        # memory does not count: the lists may add at most 48 MiB
        check("large log: memory bounded (summary's + < 48 MiB)",
              max(rss_r, rss_m) < rss_s + 48 * 1024, (rss_s, rss_r, rss_m))
        check("large log: page sizes bounded (default < 2 MiB, 1000 rows < 16 MiB)",
              0 < size_r < 2 << 20 and 0 < size_m < 16 << 20, (size_r, size_m))


def test_arc():
    """ARC in the review commands: its own explain section, search and summary."""
    rc, out, err = run("explain", "A1", d("arc.log"))
    arc = out.split("\nARC\n")[1].split("\n\n")[0] if "\nARC\n" in out else ""
    check("explain: ARC has its own section with the chain result",
          rc == 0 and arc.startswith("  Result: pass (every seal") and
          "Oldest pass: 2 (" in arc, out)
    check("explain: the sealers newest first",
          arc.find("Set i=2: sealed by fwd.example (s=s2), cv=pass") <
          arc.find("Set i=1: sealed by lists.example.org (s=s1), cv=none") and
          "Set i=1" in arc and "Seal: pass, message signature: fail" in arc, arc)
    check("explain: ARC is not left under Other fields",
          "Other fields" not in out and "Sealers" not in out, out)
    check("explain: the DMARC override in words",
          "Override: trusted_forwarder (a forwarder or ARC sealer" in out, out)
    rc, out, err = run("explain", "A4", d("arc.log"))
    check("explain: a record from before ARC says so",
          rc == 0 and "\nARC\n  Not in the log record.\n" in out, out)
    for arg, want in (("pass", ["A1"]), ("fail,none", ["A2", "A3"]),
                      ("absent", ["A4"])):
        rc, out, err = run("search", "--json", "--arc", arg, d("arc.log"))
        check("search --arc " + arg, qids_of_json_lines(out) == want, out + err)
    rc, out, err = run("search", "--json", "--override", "trusted_forwarder",
                       "--dmarc", "fail", d("arc.log"))
    check("search --override trusted_forwarder", qids_of_json_lines(out) == ["A1"],
          out + err)
    rc, out, err = run("search", "--arc", "sealed", d("arc.log"))
    check("search --arc with a wrong word: exit 2", rc == 2 and "--arc" in err, err)
    rc, out, err = run("summary", d("arc.log"))
    rows = out.split("Authentication results")[1].splitlines() if rc == 0 else []
    check("summary: an ARC column in the result rates",
          rows[1].split() == ["result", "SPF", "DKIM", "DMARC", "ARC"] and
          rows[2].split()[-2:] == ["1", "25.0%"], out)
    check("summary: trusted-forwarder overrides counted",
          "1 DMARC failure(s) let through from a trusted forwarder" in out, out)
    rc, out, err = run("report", d("arc.log"))
    check("report: ARC in the pass-rate table",
          rc == 0 and "<th>DMARC</th><th>ARC</th>" in out, err)


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
              test_report, test_report_never_overwrites, test_configured_log,
              test_review_cli, test_report_searches_select_the_same_mail, test_arc, test_large_report, test_extra_log):
        t()
    return exit_status()


if __name__ == "__main__":
    sys.exit(main())
