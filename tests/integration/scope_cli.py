#!/usr/bin/env python3
"""scope_cli.py - policy scopes seen from the command line (issue 16).

- The example scopes in contrib/scopes (one per kind of selector) pass
  `config -n`; `config --scope NAME` prints a scope's selectors and its
  effective keys, marking the lines the scope sets.
- Errors in scope files are FILE:LINE errors of `config -n`, all of them
  in one run; a scope hidden by an earlier one is reported as
  unreachable.
- Run as root, `config -n` finds a scope_dir the service user cannot read.
- `scan` evaluates under the scope of the recipient and logs it;
  `log explain` names the scope.

Everything is written into a temporary directory; nothing is read from
the host's installation.  Environment (set by `make check`): MAILWARDEN,
TOP_SRCDIR.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile

MW = os.environ.get("MAILWARDEN", "./mailwarden")
SRC = os.environ.get("TOP_SRCDIR", ".")
EXAMPLE = os.path.join(SRC, "contrib", "scopes")

failed = 0


def run(*args):
    p = subprocess.run([MW, *args], capture_output=True, timeout=120)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def check(name, fn, *a):
    global failed
    try:
        fn(*a)
    except AssertionError as e:
        failed += 1
        print("FAIL: %s: %s" % (name, e))
    else:
        print("ok: %s" % name)


def write(path, text):
    with open(path, "w") as f:
        f.write(text)
    return path


def main_conf(d, scope_dir, extra=""):
    """user = (empty): config -n as root checks no host user's access.
    The zone file is copied into d: a test that names a service user has
    config -n check that user can read it, and the source tree may sit in
    a directory only root can enter (a fresh mktemp -d clone does)."""
    zone = os.path.join(d, "empty.zone")
    if not os.path.exists(zone):
        shutil.copyfile(os.path.join(SRC, "tests", "data", "dns", "empty.zone"), zone)
        os.chmod(zone, 0o644)
    return write(os.path.join(d, "mw.conf"),
                 "rules_dir = %s/rules\nrules_site_dir =\n"
                 "dns_zone_files = %s\n"
                 "spf = no\ndmarc = no\ndkim_verify = no\nlog_file =\n"
                 "scope_dir = %s\n%suser =\n" % (d, zone, scope_dir, extra))


def t_example_validates(d):
    # the examples set rate limits and greylisting: a policy store
    conf = main_conf(d, EXAMPLE, "policy_store = %s/pstore\n" % d)
    rc, out, err = run("config", "-n", "-c", conf)
    assert rc == 0 and "configuration OK" in out, (rc, out, err)
    names = sorted(f[:-5] for f in os.listdir(EXAMPLE) if f.endswith(".conf"))
    # one example per kind of selector
    text = "".join(open(os.path.join(EXAMPLE, f + ".conf")).read() for f in names)
    for sel in ("recipients", "recipient_domains", "auth_users", "clients",
                "sender_domains", "outbound", "exempt"):
        assert "\n%s = " % sel in "\n" + text, sel
    for n in names:
        rc, out, err = run("config", "-c", conf, "--scope", n)
        assert rc == 0 and out.startswith("# scope %s from " % n), (n, out, err)


def t_scope_dump(d):
    conf = main_conf(d, EXAMPLE, "tag_score = 4\n")
    rc, out, err = run("config", "-c", conf, "--scope", "30-example-org")
    assert rc == 0, err
    lines = out.splitlines()
    assert "recipient_domains = example.org" in lines, out
    assert "tag_score = 3\t# line 3" in lines, out
    assert "reject_score = 8\t# line 4" in lines, out
    # not set by the scope: the main file's value, unmarked
    assert "dmarc_allow_domains = " in lines, out
    rc, out, err = run("config", "-c", conf, "--scope", "nope")
    assert rc == 1 and "no scope nope" in err and "10-outbound" in err, (rc, err)


def t_errors_file_line(d):
    sd = os.path.join(d, "bad.d")
    os.mkdir(sd)
    write(os.path.join(sd, "10-a.conf"), "recipient_domains = a.example\n")
    write(os.path.join(sd, "20-b.conf"),
          "# comment\nrecipient_domains = b.example\ntag_score = high\n"
          "socket = inet:1@127.0.0.1\nrecipints = x@b.example\n")
    write(os.path.join(sd, "30-c.conf"), "recipient_domains = sub.a.example\n")
    conf = main_conf(d, sd)
    rc, out, err = run("config", "-n", "-c", conf)
    assert rc == 1, (rc, out, err)
    b = os.path.join(sd, "20-b.conf")
    for want in ("%s:3: tag_score: bad value 'high'" % b,
                 "%s:4: socket: not settable in a scope" % b,
                 "%s:5: recipints: unknown key" % b):
        assert want in err, (want, err)
    c = os.path.join(sd, "30-c.conf")
    assert ("%s: scope 30-c is unreachable: scope 10-a" % c) in err, err
    assert "error(s)" in err, err
    # the main file's scope_dir, when it does not exist
    conf = main_conf(d, os.path.join(d, "missing.d"))
    rc, out, err = run("config", "-n", "-c", conf)
    assert rc == 1 and "mw.conf:" in err and ": scope_dir: " in err, err


def t_unreadable_for_user(d):
    """config -n as root: the daemon's user must be able to read scope_dir
    (it reloads as that user)."""
    os.chmod(d, 0o755)
    sd = os.path.join(d, "private.d")
    os.mkdir(sd)
    os.chmod(sd, 0o755)
    write(os.path.join(sd, "a.conf"), "recipient_domains = a.example\n")
    conf = main_conf(d, sd)
    with open(conf, "a") as f:
        f.write("user = nobody\nlog_file =\n")
    rc, out, err = run("config", "-n", "-c", conf)
    assert rc == 0, (rc, out, err)
    os.chmod(sd, 0o700)
    rc, out, err = run("config", "-n", "-c", conf)
    assert rc == 1 and "scope_dir: %s: user nobody cannot read it" % sd in err, (rc, err)


def t_scan_logs_scope(d):
    msg = write(os.path.join(d, "m.eml"),
                "From: a@b.example\nSubject: x\n\nA SCOPEWORD offer.\n")
    conf = main_conf(d, EXAMPLE)

    def verdict(rcpt, *extra):
        rc, out, err = run("scan", "-c", conf, "--json", "--ip", "192.0.2.9",
                           "--from", "a@b.example", "--rcpt", rcpt, *extra, msg)
        assert rc == 0, err
        return json.loads(out)

    v = verdict("u@mail.example.org", "--queue-id", "QSCOPE1")
    assert v["scope"] == "30-example-org" and v["action"] == "tag", v
    assert v["thresholds"] == {"tag": 3.0, "reject": 8.0}, v["thresholds"]
    log = write(os.path.join(d, "v.log"), json.dumps(v) + "\n")
    rc, out, err = run("log", "explain", "QSCOPE1", log)
    assert rc == 0 and "Policy scope 30-example-org applied" in out, (rc, out, err)
    v = verdict("u@example.net")
    assert "scope" not in v and v["action"] == "accept", v
    v = verdict("postmaster@example.org")
    assert v["scope"] == "20-abuse" and not v["scored"], v
    rc, out, err = run("scan", "-c", conf, "--ip", "192.0.2.9", "--from",
                       "a@b.example", "--rcpt", "u@example.org", "--rcpt",
                       "v@example.net", "--rcpt", "w@example.org", msg)
    assert rc == 0 and "  scope: 30-example-org\n" in out, (out, err)
    assert ("  deferred: v@example.net (another scope: the milter answers "
            "452 4.5.3)\n") in out and "deferred: w@" not in out, out
    v = verdict("u@example.net", "--auth", "alice@example.org")
    assert v["scope"] == "10-outbound" and v["scored"], v
    assert [s["name"] for s in v["symbols"]] == ["ARC_NONE", "SCOPEWORD"], v["symbols"]


d = tempfile.mkdtemp(prefix="mw-scope-cli-")
try:
    os.mkdir(os.path.join(d, "rules"))
    write(os.path.join(d, "rules", "t.cf"),
          "body SCOPEWORD /scopeword/i\nscore SCOPEWORD 4\n")
    check("contrib/scopes passes config -n, every selector kind",
          t_example_validates, d)
    check("config --scope prints selectors and effective keys", t_scope_dump, d)
    check("scope errors: FILE:LINE, all of them, unreachable scopes",
          t_errors_file_line, d)
    if os.geteuid() == 0:
        check("config -n as root: the service user must read scope_dir",
              t_unreadable_for_user, d)
    check("scan evaluates under the recipient's scope and logs it",
          t_scan_logs_scope, d)
finally:
    shutil.rmtree(d, ignore_errors=True)
print("%s" % ("FAILED" if failed else "all passed"))
sys.exit(1 if failed else 0)
