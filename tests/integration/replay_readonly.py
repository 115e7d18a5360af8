#!/usr/bin/env python3
"""replay_readonly.py - `mailwarden replay` writes nothing but its output.

Two hand-written samples (doc/replay.md, file format 1) replay under a
configuration that, in the milter, would write production state:

  - dmarc_report_dir with dmarc_failure_reports = yes: the samples carry
    recorded SPF and DMARC answers, one passes DMARC and one fails it
    (fo=1, a ruf address), so the milter would append two aggregate
    records and spool a failure report;
  - a policy scope (the recipient's domain) with a Bayes store of its
    own and autolearn on, and a message whose rule score is far above
    bayes_autolearn_spam from an unauthenticated sender: the milter
    would learn it as spam;
  - a policy_store and a sample_dir the replay must not create.

After the replay the report directory is still empty, the scope's
store has the same bytes and counts as before, and neither the policy
store nor the sample directory exists.  The replay itself must have run
(it reports both messages, under the scope).

Everything lives in a temporary directory; DNS comes from the samples.
Environment (set by `make check`): MAILWARDEN, TOP_SRCDIR.
"""

import hashlib
import os
import subprocess
import sys
import tempfile

from checks import check, exit_status, mailwarden

MW, SRC = mailwarden()

NOW = 1795000000        # the samples' own clock (Nov 2026)


def esc(s):
    """The sample format's %-escape (bytes outside ! .. ~, and %)."""
    out = []
    for b in s.encode("utf-8"):
        if b < 0x21 or b > 0x7e or b == 0x25:
            out.append("%%%02X" % b)
        else:
            out.append(chr(b))
    return "".join(out)


def write(path, text, mode="w"):
    with open(path, mode) as f:
        f.write(text)
    return path


SPF = "v=spf1 ip4:192.0.2.0/24 -all"
DMARC = "v=DMARC1; p=none; fo=1; rua=mailto:rua@sender.test; " \
        "ruf=mailto:ruf@sender.test"


def sample(qid, client, words):
    hdrs = [("From", " Alice <alice@sender.test>"),
            ("To", " Bob <bob@scoped.test>"),
            ("Subject", " replay %s" % qid),
            ("Date", " Mon, 16 Nov 2026 10:00:00 +0000"),
            ("Message-ID", " <%s@sender.test>" % qid)]
    body = ("Hello Bob,\r\n%s\r\nAlice\r\n" % words).encode()
    hdr_bytes = sum(len(n) + 1 + len(v) + 2 for n, v in hdrs) + 2
    lines = ["mailwarden-sample 1", "now %d" % NOW, "when %d.000000" % NOW,
             "client_ip " + client, "client_name mail.sender.test",
             "helo mail.sender.test", "mta_name mx.scoped.test",
             "queue_id " + qid, "mail_from alice@sender.test",
             "rcpt bob@scoped.test", "rcpts_seen 1"]
    lines += ["header %s %s" % (n, esc(v)) for n, v in hdrs]
    lines += ["hdr_bytes %d" % hdr_bytes, "body_size %d" % len(body),
              "flags 0",
              "verdict " + esc('{"time":%d,"queue_id":"%s","action":"accept",'
                               '"score":0,"symbols":{}}' % (NOW, qid)),
              "dns sender.test 16 ok 300 1", "rr 16 300 1 " + esc(SPF),
              "dns _dmarc.sender.test 16 ok 300 1", "rr 16 300 1 " + esc(DMARC),
              "dns mail.sender.test 16 nodata 300 0",
              "body %d" % len(body)]
    return ("\n".join(lines) + "\n").encode() + body + b"\nend\n"


RULES = """body T_RO_SPAM /\\breadonlyspam\\b/
score T_RO_SPAM 30.0
"""


def snapshot(d):
    """name -> sha256 of every file under d but LMDB's lock file"""
    out = {}
    for root, _, files in os.walk(d):
        for f in files:
            if f == "lock.mdb":
                continue
            p = os.path.join(root, f)
            with open(p, "rb") as fh:
                out[os.path.relpath(p, d)] = hashlib.sha256(fh.read()).hexdigest()
    return out


def main():
    work = tempfile.mkdtemp(prefix="mw-replay-ro-")
    os.chmod(work, 0o700)
    reports = os.path.join(work, "dmarc")
    os.mkdir(reports, 0o750)
    scopes = os.path.join(work, "scopes")
    os.mkdir(scopes)
    site = os.path.join(work, "rules")
    os.mkdir(site)
    write(os.path.join(site, "50_ro.cf"), RULES)
    scope_store = os.path.join(work, "scopebayes")
    pstore = os.path.join(work, "pstore")
    samples_out = os.path.join(work, "samples")
    write(os.path.join(scopes, "10-scoped.conf"),
          "recipient_domains = scoped.test\ntag_score = 4\n"
          "bayes_store = %s\n" % scope_store)
    conf = write(os.path.join(work, "r.conf"),
                 "dns_zone_files = %s\nrules_dir =\nrules_site_dir = %s\n"
                 "log_file =\npid_file =\nuser =\nauthserv_id = mx.scoped.test\n"
                 "scope_dir = %s\nbayes_store =\nbayes_autolearn = yes\n"
                 "dmarc_report_dir = %s\ndmarc_failure_reports = yes\n"
                 "policy_store = %s\nsample_dir = %s\nsample = 100%%\n"
                 % (os.path.join(SRC, "tests", "data", "dns", "empty.zone"),
                    site, scopes, reports, pstore, samples_out))
    # the scope's store exists and holds something before the replay
    ham = write(os.path.join(work, "ham.eml"),
                "From: a@sender.test\nTo: bob@scoped.test\nSubject: hi\n\n"
                "an ordinary note about lunch\n")
    p = subprocess.run([MW, "train", "-c", conf, "--scope", "10-scoped",
                        "--ham", "-q", ham], capture_output=True, text=True)
    check("the scope's store is trained before the replay", p.returncode == 0,
          p.stderr)
    before = snapshot(scope_store)
    check("the scope's store has files", len(before) > 0, before)

    sdir = os.path.join(work, "in")
    os.mkdir(sdir, 0o700)
    write(os.path.join(sdir, "1-pass.mws"),
          sample("RO1PASS", "192.0.2.10", "an ordinary note"), "wb")
    write(os.path.join(sdir, "2-fail.mws"),
          sample("RO2FAIL", "203.0.113.5", "readonlyspam readonlyspam"), "wb")
    p = subprocess.run([MW, "replay", "-c", conf, "--json", sdir],
                       capture_output=True, text=True)
    check("replay runs", p.returncode == 0, p.stdout + p.stderr)
    check("replay re-decides the spam sample",
          "RO2FAIL" in p.stdout and "T_RO_SPAM" in p.stdout, p.stdout)
    # the recorded answers reached the scoped messages: DMARC was
    # evaluated (a record, one pass, one fail), as the milter would
    check("DMARC passed and failed from the recorded answers",
          "DMARC_PASS" in p.stdout and "DMARC_FAIL" in p.stdout and
          "unrecorded" not in p.stdout, p.stdout)

    check("no DMARC aggregate record or failure report is written",
          os.listdir(reports) == [], os.listdir(reports))
    after = snapshot(scope_store)
    check("the scope's Bayes store is unchanged", after == before,
          (before, after))
    p = subprocess.run([MW, "bayes", "stats", "-c", conf, "--scope", "10-scoped"],
                       capture_output=True, text=True)
    check("the scope's store still holds no spam",
          p.returncode != 0 or " 0 spam" in p.stdout or "spam 0" in p.stdout
          or "\"nspam\":0" in p.stdout.replace(" ", ""), p.stdout + p.stderr)
    check("no policy store is created", not os.path.exists(pstore), pstore)
    check("no sample is written", not os.path.exists(samples_out), samples_out)
    if not os.environ.get("KEEP"):
        subprocess.run(["rm", "-rf", "--", work])
    else:
        print(work)


if __name__ == "__main__":
    main()
    sys.exit(exit_status())
