#!/usr/bin/env python3
"""scan_cli.py - `mailwarden scan --exit-code` (issue 14 item 9).

With --exit-code, scan answers as `spamassassin -e` does: 0 when no
message would be tagged or rejected, 1 when one would be, and 3 (never 1)
when the answer is incomplete: a message that cannot be read or a
configuration that does not load; 2 stays bad usage.  Without the option
the statuses are unchanged (0 evaluated, 1 error, 2 usage).

The configuration is hermetic: DNS from the empty test zone, the shipped
rules from the source tree, one site rule file written here that scores
a marker word high enough to tag and another to reject.
Environment (set by `make check`): MAILWARDEN, TOP_SRCDIR.
"""

import os
import shutil
import subprocess
import sys
import tempfile

from checks import check, exit_status, mailwarden

MW, SRC = mailwarden()

MSG = """From: Alice <alice@sender.example>
To: bob@rcpt.example
Subject: {subject}
Date: Mon, 16 Nov 2026 10:00:00 +0000
Message-ID: <{subject}@sender.example>
MIME-Version: 1.0
Content-Type: text/plain; charset=us-ascii

Hello Bob,

{body}

Alice
"""

RULES = """body MW_TEST_TAG_WORD /\\bxyzzytagword\\b/
describe MW_TEST_TAG_WORD test marker that tags
score MW_TEST_TAG_WORD 7.0

body MW_TEST_REJECT_WORD /\\bxyzzyrejectword\\b/
describe MW_TEST_REJECT_WORD test marker that rejects
score MW_TEST_REJECT_WORD 30.0
"""


def main():
    work = tempfile.mkdtemp(prefix="mw-scan-cli-")
    try:
        site = os.path.join(work, "rules.d")
        os.mkdir(site)
        with open(os.path.join(site, "90_test.cf"), "w") as f:
            f.write(RULES)
        conf = os.path.join(work, "mw.conf")
        with open(conf, "w") as f:
            f.write("dns_zone_files = %s\n" % os.path.join(SRC, "tests", "data", "dns",
                                                        "empty.zone"))
            f.write("rules_dir = %s\n" % os.path.join(SRC, "rules"))
            f.write("rules_site_dir = %s\n" % site)
            f.write("log_file =\npid_file =\ntag_score = 5.0\nreject_score = 15.0\n")
        msgs = {}
        for name, body in (("ham", "Lunch on Thursday at noon?"),
                           ("tag", "A note with xyzzytagword in it."),
                           ("reject", "A note with xyzzyrejectword in it.")):
            msgs[name] = os.path.join(work, name + ".eml")
            with open(msgs[name], "w") as f:
                f.write(MSG.format(subject=name, body=body))

        def scan(*args, stdin=subprocess.DEVNULL):
            p = subprocess.run([MW, "scan", "-c", conf, "--ip", "192.0.2.10",
                                "--helo", "mx.sender.example", "--from",
                                "alice@sender.example", "--rcpt", "bob@rcpt.example",
                                *args], stdin=stdin, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE,
                               universal_newlines=True, timeout=60)
            return p.returncode, p.stdout, p.stderr

        rc, out, err = scan(msgs["ham"], msgs["tag"], msgs["reject"])
        check("the fixtures give accept, tag and reject",
              rc == 0 and ": accept " in out and ": tag " in out and ": reject " in out,
              out + err)
        check("without --exit-code a tagged message exits 0", rc == 0, err)

        rc, out, err = scan("--exit-code", msgs["ham"])
        check("--exit-code, ham only: 0", rc == 0, out + err)
        rc, out, err = scan("--exit-code", msgs["tag"])
        check("--exit-code, a tagged message: 1", rc == 1, out + err)
        rc, out, err = scan("--exit-code", msgs["reject"])
        check("--exit-code, a rejected message: 1", rc == 1, out + err)
        rc, out, err = scan("--exit-code", "--json", msgs["ham"], msgs["reject"])
        check("--exit-code --json, any of several: 1", rc == 1 and out.count("\n") == 2,
              out + err)
        with open(msgs["tag"]) as f:
            rc, out, err = scan("--exit-code", "-", stdin=f)
        check("--exit-code, a tagged message on stdin: 1", rc == 1, out + err)

        missing = os.path.join(work, "missing.eml")
        rc, out, err = scan("--exit-code", msgs["reject"], missing)
        check("--exit-code with an unreadable file: 3, not 1",
              rc == 3 and "missing.eml" in err, err)
        rc, out, err = scan(msgs["ham"], missing)
        check("without --exit-code an unreadable file still exits 1", rc == 1, err)
        bad = os.path.join(work, "bad.conf")
        with open(bad, "w") as f:
            f.write("no_such_key = 1\n")
        p = subprocess.run([MW, "scan", "--exit-code", "-c", bad, msgs["ham"]],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           universal_newlines=True, timeout=60)
        check("--exit-code with a bad configuration: 3", p.returncode == 3, p.stderr)
        p = subprocess.run([MW, "scan", "--exit-code"], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, universal_newlines=True, timeout=60)
        check("--exit-code without a file: usage, 2", p.returncode == 2, p.stderr)
        p = subprocess.run([MW, "scan", "--help"], stdout=subprocess.PIPE,
                           universal_newlines=True, timeout=60)
        check("scan --help documents --exit-code and its statuses",
              "--exit-code" in p.stdout and "3 error" in p.stdout, p.stdout)
    finally:
        shutil.rmtree(work)
    return exit_status()


if __name__ == "__main__":
    sys.exit(main())
