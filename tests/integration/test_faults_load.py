#!/usr/bin/env python3
"""Faults under load: a real Postfix with mailwarden attached, concurrent
SMTP clients, and a fault injected while mail flows.

Whatever happens, no message is lost: each one is either accepted by
Postfix (and then found in the Maildir, with mailwarden's
Authentication-Results, so it really was filtered) or refused with a
4xx/5xx reply the client sees.  Faults:

- SIGTERM during load: messages whose MAIL FROM the milter had seen
  finish with mailwarden's verdict (delivered); later ones get a 4xx
  (mailwarden's 421 while it drains, then Postfix's
  milter_default_action); the daemon exits with status 0 as soon as
  the messages in flight are done, well inside shutdown_timeout.
- A second SIGTERM while draining stops at once.
- SIGHUP storm during load: good and broken configurations alternate;
  a broken one is reported and the running one stays; every message
  gets a verdict from a complete generation.
- The verdict log's disk fills up (a 64 KiB tmpfs mounted by the test):
  mail keeps flowing, the failure is reported once (not once per
  message), no partial JSON line is left behind, and logging resumes
  when space comes back.
- The verdict log becomes unwritable (/dev/full; a rotated log whose
  directory the daemon may no longer write, then SIGUSR1): mail keeps
  flowing, the old file stays in use until a reopen succeeds.

DNS comes from a real nsd (through a DelayProxy, so that messages take
long enough to overlap) serving every sender domain by wildcard.
"""

import contextlib
import json
import os
import pwd
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dnsserver  # noqa: E402
import loadtest  # noqa: E402
import mwtest  # noqa: E402
from mwtest import header, read_log  # noqa: E402

mwtest.skip_unless_root_with_postfix()
dnsserver.skip_unless_nsd()

AUTHSERV = "mx.mailwarden.test"
pw_postfix = pwd.getpwnam("postfix")
ZONES = {
    "load.test": '''
        *       TXT "v=spf1 ip4:192.0.2.0/24 -all"
        _dmarc  TXT "v=DMARC1; p=none"
        ''',
    "test": "",
}
ns = dnsserver.NSD(ZONES).start()
proxy = dnsserver.DelayProxy(ns.addr, delay_ms=100).start()
work = mwtest.Workdir(prefix="mw-faults-load-")
run = work.sub("run", owner="postfix")
logdir = work.sub("log", owner="postfix")
SOCKET = "unix:%s/mw.sock" % run
BASE = {
    "socket": SOCKET,
    "user": "postfix",
    "authserv_id": AUTHSERV,
    "pid_file": "",
    "dns_servers": proxy.addr,
    "dns_timeout": "1000",
    "dns_message_timeout": "3000",
    "shutdown_timeout": "20",
    "spf_temperror_action": "accept",
}
pf = mwtest.Postfix(work, SOCKET).start()
mbox = loadtest.Mailbox(pf)
R = mwtest.Results()
state = {"milter": None, "seq": 0}


def start_milter(name, extra=None):
    s = dict(BASE)
    s["log_file"] = os.path.join(logdir, name + ".log")
    if extra:
        s.update(extra)
    m = mwtest.Milter(work, s, name=name).start()
    state["milter"] = m
    return m


def message_stream(tag, limit=None):
    """Messages with sender domains the resolver has never seen."""
    n = 0
    while limit is None or n < limit:
        state["seq"] += 1
        d = "s%d.%s.load.test" % (state["seq"], tag)
        yield loadtest.Msg(loadtest.plain(state["seq"], domain=d, size=2000),
                           mail_from="alice@" + d, helo="mail.example.org", tag=tag)
        n += 1


def check_filtered(acct):
    """Every delivered message went through mailwarden."""
    for o in acct.delivered:
        ar = header(mbox.ids[o.msg.id] + b"\n", "Authentication-Results")
        assert ar and ar[0].startswith(AUTHSERV + ";"), \
            "delivered without mailwarden's verdict: %r" % ar


def load_in_background(tag, conc=16, rate=None):
    load = loadtest.Load(pf, conc, rate=rate)
    t = threading.Thread(target=load.run, args=(message_stream(tag),), daemon=True)
    t.start()
    return load, t


def t_sigterm_during_load():
    m = start_milter("sigterm")
    load, t = load_in_background("term")
    mwtest.wait_for(lambda: len(read_log(m.settings["log_file"])) >= 20,
                    what="20 verdicts before SIGTERM")
    t_term = time.monotonic()
    m.signal(signal.SIGTERM)
    took = loadtest.wait_exit(m.proc, 15)
    stopped = time.monotonic()
    time.sleep(0.3)             # and some mail while no milter is there
    load.stop.set()
    t.join(60)
    assert took is not None, "milter still running 15 s after SIGTERM:\n" + \
        loadtest.thread_stacks(m.proc.pid)
    assert m.proc.returncode == 0, "exit status %d" % m.proc.returncode
    m.stop()
    acct = loadtest.account(mbox, load.results)
    print("  %s; exit %.2fs after SIGTERM" % (acct.summary(), took))
    assert not acct.lost, acct.lost
    check_filtered(acct)
    # in flight at SIGTERM (the milter had the sender): mailwarden's verdict
    inflight = [o for o in load.results if o.mail_at is not None and o.mail_at < t_term]
    unfinished = [o for o in inflight if o.ended > t_term]
    assert unfinished, "no message was in flight at SIGTERM: the test proves nothing"
    bad = [(o.msg.mail_from, o.result) for o in inflight if o.code != 250]
    assert not bad, "messages in flight at SIGTERM did not get their verdict: %s" % bad[:5]
    print("  %d message(s) in flight at SIGTERM, all delivered" % len(unfinished))
    replies = {}
    for o in acct.refused:
        key = "%d %s" % (o.code, o.result.text[:60])
        replies[key] = replies.get(key, 0) + 1
    print("  refusals: %s" % replies)
    # while draining: 421 (4.3.2 at MAIL FROM, Postfix's own text at
    # connect); once stopped: milter_default_action (451 4.7.1).  A drain
    # is only seen when it lasts: when every message the clients still
    # waited for had its verdict already (the milter logs 0 in flight and
    # exits at once), no client can meet the draining milter (seen once
    # in CI: exit 0.01 s after SIGTERM, all later mail 451).  The drain's
    # 421 is asserted deterministically by test_faults_dns, whose
    # messages in flight are held by a dead DNS server.
    if took >= 0.5:
        assert any(k.startswith("421 ") for k in replies), \
            "nobody saw the draining milter's 421 in a %.2f s drain: %s" % (
                took, replies)
    else:
        print("  note: nothing to drain (exit %.2fs after SIGTERM): the 421 "
              "is not observable in this run" % took)
    # after SIGTERM new mail is refused with 4xx, never accepted unfiltered
    later = [o for o in load.results if o.started > stopped]
    assert later, "no message after the milter stopped"
    assert all(400 <= o.code < 500 for o in later), [o.result for o in later][:5]
    assert took < 5, "exit took %.2fs with messages that need < 1 s" % took
    log = m.log_text()
    assert "stopped" in log.splitlines()[-1], log[-500:]
    lines = read_log(m.settings["log_file"])
    qids = {ln["queue_id"] for ln in lines}
    missing = [o.result.queue_id for o in acct.delivered if o.result.queue_id not in qids]
    assert not missing, "delivered without a verdict log line: %s" % missing


def t_second_sigterm_stops_at_once():
    # a message that takes 6 s: the first SIGTERM waits for it, the
    # second does not.  "At once" is within 3 s: an ASan build's
    # LeakSanitizer scans the heap at exit, which can take a second on a
    # busy machine; waiting for the message would take 5 s more.
    with dnsserver.SilentServer() as dead:
        m = start_milter("sigterm2", {"dns_servers": dead.addr, "dns_timeout": "6000",
                                      "dns_retries": "0", "dns_message_timeout": "6000"})
        load, t = load_in_background("term2", conc=2)
        mwtest.wait_for(lambda: any(o.mail_at for o in load.results) or
                        len(os.listdir("/proc/%d/task" % m.proc.pid)) > 8,
                        timeout=5, what="messages in flight")
        time.sleep(0.5)
        m.signal(signal.SIGTERM)
        time.sleep(0.3)
        assert m.alive(), "exited while messages were in flight"
        t0 = time.monotonic()
        m.signal(signal.SIGTERM)
        took = loadtest.wait_exit(m.proc, 5)
        load.stop.set()
        t.join(60)
        assert took is not None and took < 3.0, "second SIGTERM: %r" % took
        assert m.proc.returncode == 0, m.proc.returncode
        m.stop()
        acct = loadtest.account(mbox, load.results)
        print("  %s; exit %.2fs after the second SIGTERM" % (acct.summary(),
                                                          time.monotonic() - t0))
        assert not acct.lost, acct.lost


def valid_lines(path):
    """(good records, malformed lines) of a verdict log file."""
    good, bad = [], []
    with open(path, "rb") as f:
        for raw in f:
            try:
                good.append(json.loads(raw))
            except ValueError:
                bad.append(raw[:120])
    return good, bad


def run_and_account(tag, n, conc=8):
    out = loadtest.Load(pf, conc).run(message_stream(tag, n))
    acct = loadtest.account(mbox, out)
    assert not acct.lost, acct.lost
    check_filtered(acct)
    assert len(acct.delivered) == n, acct.summary()
    return acct


@contextlib.contextmanager
def tmpfs(path, size):
    os.makedirs(path, exist_ok=True)
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%s,mode=0755" % size,
                        "mw-faults", path], capture_output=True, text=True)
    if r.returncode != 0:
        raise Skip("cannot mount a tmpfs here: %s" % r.stderr.strip())
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", path])


class Skip(Exception):
    pass


def t_log_disk_full():
    try:
        log_disk_full()
    except Skip as e:
        print("  skipped: %s (the /dev/full test still runs)" % e)


def log_disk_full():
    fs = os.path.join(work.path, "logfs")
    with tmpfs(fs, "64k"):
        os.chown(fs, pw_postfix.pw_uid, pw_postfix.pw_gid)
        filler = os.path.join(fs, "filler")
        with open(filler, "wb") as f:
            f.write(b"x" * 40 * 1024)
        path = os.path.join(fs, "verdicts.log")
        m = start_milter("diskfull", {"log_file": path})
        acct = run_and_account("full", 60)
        good, bad = valid_lines(path)
        st = os.statvfs(fs)
        print("  disk full: %s; %d lines logged, %d KiB free" % (
            acct.summary(), len(good), st.f_bavail * st.f_frsize // 1024))
        assert len(good) < 60, "the log never filled the disk"
        assert not bad, "partial line(s) left in the log: %r" % bad[:3]
        fails = m.log_text().count("verdict log write failed")
        assert 1 <= fails <= 2, "write failure reported %d times" % fails
        # space again: logging resumes, and says what was lost
        os.unlink(filler)
        acct2 = run_and_account("full2", 5, conc=2)
        good, bad = valid_lines(path)
        assert not bad, bad[:3]
        logged = {ln["queue_id"] for ln in good}
        assert all(o.result.queue_id in logged for o in acct2.delivered), \
            "logging did not resume"
        assert "verdict log writable again" in m.log_text(), m.log_text()[-1500:]
        assert m.alive()
        m.stop()


def t_log_dev_full():
    m = start_milter("devfull", {"log_file": "/dev/full"})
    acct = run_and_account("devfull", 30)
    print("  /dev/full: %s" % acct.summary())
    assert m.log_text().count("verdict log write failed") == 1, m.log_text()[-1500:]
    assert m.alive()
    m.stop()


def t_log_unwritable_then_reopen():
    d = work.sub("rotlog", owner="postfix")
    path = os.path.join(d, "verdicts.log")
    m = start_milter("unwritable", {"log_file": path})
    run_and_account("rot1", 5, conc=2)
    # logrotate moved the file, and the directory is no longer ours
    os.rename(path, path + ".1")
    os.chown(d, 0, 0)
    os.chmod(d, 0o755)
    m.signal(signal.SIGUSR1)
    mwtest.wait_for(lambda: "cannot reopen verdict log" in m.log_text(), what="reopen error")
    acct = run_and_account("rot2", 10)
    old, bad = valid_lines(path + ".1")
    assert not bad
    assert {o.result.queue_id for o in acct.delivered} <= {ln["queue_id"] for ln in old}, \
        "lines lost while the new file could not be opened"
    assert not os.path.exists(path)
    os.chown(d, pw_postfix.pw_uid, pw_postfix.pw_gid)
    m.signal(signal.SIGUSR1)
    mwtest.wait_for(lambda: "verdict log reopened" in m.log_text(), what="reopen")
    acct = run_and_account("rot3", 5, conc=2)
    new, bad = valid_lines(path)
    assert not bad and {o.result.queue_id for o in acct.delivered} == \
        {ln["queue_id"] for ln in new}, new
    m.stop()


RULES_GOOD = """\
header   MWF_GEN_%(g)s Subject =~ /\\bMeeting\\b/
describe MWF_GEN_%(g)s generation %(g)s of the site rules
score    MWF_GEN_%(g)s 0.1
"""
RULES_BROKEN = RULES_GOOD + """\
body     MWF_BROKEN /(an unclosed group/
score    MWF_BROKEN 50
"""


def atomic_write(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.chmod(tmp, 0o644)
    os.rename(tmp, path)


def t_sighup_storm_during_load():
    rules = work.sub("rules")
    rule_file = os.path.join(rules, "10_site.cf")
    atomic_write(rule_file, RULES_GOOD % {"g": "A"})
    m = start_milter("hup", {"rules_dir": rules, "rules_site_dir": ""})
    good_conf = open(m.conf).read()
    load, t = load_in_background("hup", conc=16)
    steps = {"good": 0, "broken-rules": 0, "broken-conf": 0}
    t_end = time.monotonic() + 8
    i = 0
    while time.monotonic() < t_end:
        kind = ("good", "broken-rules", "good", "broken-conf")[i % 4]
        gen = "AB"[(i // 4) % 2] if kind == "good" else "A"
        if kind == "good":
            atomic_write(rule_file, RULES_GOOD % {"g": "B" if i % 4 == 2 else "A"})
        elif kind == "broken-rules":
            atomic_write(rule_file, RULES_BROKEN % {"g": gen})
        else:
            atomic_write(m.conf, good_conf + "reject_score = soon\n")
        m.signal(signal.SIGHUP)
        steps[kind] += 1
        time.sleep(0.25)
        if kind == "broken-conf":
            atomic_write(m.conf, good_conf)
        i += 1
        assert m.alive(), "milter died during the SIGHUP storm:\n" + m.log_text()[-2000:]
    load.stop.set()
    t.join(60)
    acct = loadtest.account(mbox, load.results)
    log = m.log_text()
    print("  %s; SIGHUPs %s; %d reloaded, %d refused" % (
        acct.summary(), steps, log.count("configuration reloaded"), log.count("reload failed")))
    assert not acct.lost, acct.lost
    assert len(acct.delivered) == acct.sent, "refusals under a SIGHUP storm: %s" % \
        [o.result for o in acct.refused][:5]
    check_filtered(acct)
    assert log.count("reload failed") >= 1 and log.count("configuration reloaded") >= 1, \
        log[-2000:]
    assert "10_site.cf:4: error: MWF_BROKEN" in log, "the broken rule's file:line is not named:\n" + log[-2000:]
    # every verdict came from one complete generation: exactly one
    # marker rule, never the broken one
    lines = read_log(m.settings["log_file"])
    assert len(lines) >= len(acct.delivered)
    for ln in lines:
        names = {sym["name"] for sym in ln["symbols"]}
        marks = names & {"MWF_GEN_A", "MWF_GEN_B"}
        assert len(marks) == 1 and "MWF_BROKEN" not in names, (ln["queue_id"], sorted(names))
    # and the last good file is what runs now
    before = log.count("configuration reloaded")
    atomic_write(rule_file, RULES_GOOD % {"g": "B"})
    m.signal(signal.SIGHUP)
    mwtest.wait_for(lambda: m.log_text().count("configuration reloaded") > before,
                    what="final reload")
    acct = run_and_account("hupfinal", 1, conc=1)
    ln = [x for x in read_log(m.settings["log_file"])
          if x["queue_id"] == acct.delivered[0].result.queue_id][0]
    assert "MWF_GEN_B" in {sym["name"] for sym in ln["symbols"]}, ln["symbols"]
    m.stop()


try:
    for name, fn in [
            ("SIGTERM during load: in-flight messages finish, exit 0", t_sigterm_during_load),
            ("second SIGTERM while draining stops at once", t_second_sigterm_stops_at_once),
            ("SIGHUP storm with broken rules and config during load",
             t_sighup_storm_during_load),
            ("verdict log disk full: mail flows, no partial line, resumes",
             t_log_disk_full),
            ("verdict log on /dev/full: mail flows, one error", t_log_dev_full),
            ("verdict log cannot be reopened: old file kept until SIGUSR1 works",
             t_log_unwritable_then_reopen),
    ]:
        R.check(name, fn)
        if state["milter"] is not None:
            state["milter"].stop()
finally:
    if state["milter"] is not None:
        state["milter"].stop()
    pf.stop()
    proxy.stop()
    ns.stop()
    if R.failed:
        print("---- milter stderr\n" + (state["milter"].log_text()[-4000:]
                                        if state["milter"] else ""))
        print("---- postfix maillog\n" + pf.log_text()[-3000:])
    if not os.environ.get("MW_KEEP"):
        work.cleanup()
R.exit()
