"""loadtest - concurrent SMTP senders and loss accounting for fault tests.

Used by the fault tests (test_faults_*.py) and the soak script
(tests/soak/soak.py) on top of mwtest.py's private Postfix:

    mbox = Mailbox(pf)                      # the Maildir Postfix delivers to
    load = Load(pf, concurrency=32)
    results = load.run(messages)            # [(Msg, SmtpResult, seconds)]
    acct = account(mbox, results)           # waits for the deliveries
    assert not acct.lost, acct.lost

Every message carries a unique X-MW-Test-Id header; a message is
accounted for when Postfix accepted it (250) and the Maildir holds it,
or when the client saw a 4xx/5xx reply.  Anything else - a dropped
connection without a reply, a 250 without a delivery - is lost.

proc_stats(pid) reads RSS, the number of open descriptors and threads
from /proc.
"""

import contextlib
import os
import smtplib
import threading
import time
import uuid

import mwtest


class Msg:
    """One message to send: envelope, client address and text."""

    def __init__(self, text, mail_from="alice@example.org", rcpts=("bob@example.net",),
                 client_ip="192.0.2.10", client_name="mail.example.org",
                 helo="mail.example.org", tag=None):
        self.id = uuid.uuid4().hex
        self.text = text
        self.mail_from = mail_from
        self.rcpts = list(rcpts)
        self.client_ip = client_ip
        self.client_name = client_name
        self.helo = helo
        self.tag = tag          # the test's own label

    def data(self):
        head, sep, body = self.text.partition("\n\n")
        return "X-MW-Test-Id: %s\n%s%s%s" % (self.id, head, sep or "\n\n", body)


def plain(n, domain="example.org", size=0):
    """A small ordinary message (size: approximate extra body bytes)."""
    body = "Hello Bob,\n\nthe minutes of meeting %d are attached below.\n" % n
    line = "The quick brown fox jumps over the lazy dog, line %06d.\n"
    i = 0
    while len(body) < size:
        body += line % i
        i += 1
    return ("From: Alice <alice@%s>\nTo: Bob <bob@example.net>\n"
            "Subject: Meeting %d\nDate: Thu, 26 Nov 2026 10:15:00 +0000\n"
            "Message-ID: <m%d.%s@%s>\n\n%s" % (domain, n, n, uuid.uuid4().hex[:8], domain, body))


class Outcome:
    def __init__(self, msg, result, seconds, started, mail_at=None, ended=None):
        self.msg = msg
        self.result = result        # mwtest.SmtpResult; code 0 = no reply
        self.seconds = seconds      # DATA (or first refusal) round trip
        self.started = started      # time.monotonic() at connect
        self.mail_at = mail_at      # when MAIL FROM was accepted (the
                                    # milter has seen the sender), or None
        self.ended = ended          # when the final reply came

    @property
    def code(self):
        return self.result.code


def send_one(pf, m, timeout=120):
    """Like mwtest.send(), and times the reply to the end of DATA."""
    started = time.monotonic()
    t0 = started
    s = None
    mail_at = None

    def done(result):
        now = time.monotonic()
        return Outcome(m, result, now - t0, started, mail_at, now)
    try:
        s = smtplib.SMTP(pf.addr, pf.port, timeout=timeout)
        s.ehlo("test.local")
        code, text = s.docmd("XCLIENT", "ADDR=%s NAME=%s HELO=%s" % (
            m.client_ip, m.client_name, m.helo))
        if code != 220:
            return done(mwtest.SmtpResult(code, text.decode("utf-8", "replace")))
        code, text = s.ehlo(m.helo)
        if code != 250:
            return done(mwtest.SmtpResult(code, text.decode("utf-8", "replace")))
        code, text = s.mail(m.mail_from)
        if code != 250:
            return done(mwtest.SmtpResult(code, text.decode("utf-8", "replace")))
        mail_at = time.monotonic()
        ok = 0
        for r in m.rcpts:
            code, text = s.rcpt(r)
            ok += code == 250
        if not ok:
            return done(mwtest.SmtpResult(code, text.decode("utf-8", "replace")))
        t0 = time.monotonic()
        code, text = s.data(mwtest.crlf(m.data()))
        text = text.decode("utf-8", "replace")
        qid = text.split("queued as ")[1].split()[0] if code == 250 and "queued as " in text else None
        return done(mwtest.SmtpResult(code, text, qid))
    except smtplib.SMTPResponseException as e:
        # a refusal smtplib turns into an exception (e.g. 421 on connect)
        return done(mwtest.SmtpResult(e.smtp_code, e.smtp_error.decode("utf-8", "replace")
                                      if isinstance(e.smtp_error, bytes) else str(e.smtp_error)))
    except (smtplib.SMTPException, OSError) as e:
        # no reply reached us
        return done(mwtest.SmtpResult(0, "%s: %s" % (type(e).__name__, e)))
    finally:
        if s is not None:
            with contextlib.suppress(Exception):
                s.quit()
            with contextlib.suppress(Exception):
                s.close()


class Load:
    """concurrency workers sending messages, optionally at a steady rate."""

    def __init__(self, pf, concurrency=8, rate=None):
        self.pf = pf
        self.concurrency = concurrency
        self.rate = rate            # messages per second, None = as fast as possible
        self.results = []
        self.lock = threading.Lock()
        self.stop = threading.Event()

    def run(self, messages, on_sent=None):
        """Send every message (or stop early when self.stop is set).

        messages may be a list or an iterator (endless for soak runs);
        on_sent(outcome) is called from the worker threads."""
        it = iter(messages)
        it_lock = threading.Lock()
        t_start = time.monotonic()
        counter = [0]

        def worker():
            while not self.stop.is_set():
                with it_lock:
                    try:
                        m = next(it)
                    except StopIteration:
                        return
                    n = counter[0]
                    counter[0] += 1
                if self.rate:
                    due = t_start + n / self.rate
                    delay = due - time.monotonic()
                    if delay > 0 and self.stop.wait(delay):
                        # stopped while waiting: the message is not sent
                        return
                o = send_one(self.pf, m)
                with self.lock:
                    self.results.append(o)
                if on_sent:
                    on_sent(o)

        threads = [threading.Thread(target=worker, daemon=True)
                   for _ in range(self.concurrency)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return list(self.results)


class Phases:
    """A Load running in a thread while the test changes the world in
    named phases: phase(name, seconds) marks when each began (marks, by
    time.monotonic()), finish() stops the senders and returns the
    outcomes."""

    def __init__(self, pf, messages, concurrency=8):
        self.load = Load(pf, concurrency)
        self.marks = {}
        self._thread = threading.Thread(target=self.load.run, args=(messages,),
                                        daemon=True)
        self._thread.start()

    def phase(self, name, seconds):
        self.marks[name] = time.monotonic()
        time.sleep(seconds)

    def finish(self, timeout=120):
        self.load.stop.set()
        self._thread.join(timeout)
        self.marks["end"] = time.monotonic()
        return self.load.results


class Mailbox:
    """The Maildir of a mwtest.Postfix, read incrementally by test id."""

    def __init__(self, pf, remove=True):
        self.dir = os.path.join(pf.maildir, "new")
        self.remove = remove
        self.ids = {}               # test id -> delivered bytes (headers only)

    def collect(self):
        if not os.path.isdir(self.dir):
            return self.ids
        for name in os.listdir(self.dir):
            p = os.path.join(self.dir, name)
            try:
                with open(p, "rb") as f:
                    data = f.read()
            except FileNotFoundError:
                continue
            head = data.split(b"\n\n", 1)[0]
            tid = None
            for line in head.split(b"\n"):
                if line.lower().startswith(b"x-mw-test-id:"):
                    tid = line.split(b":", 1)[1].strip().decode()
                    break
            self.ids[tid] = head
            if self.remove:
                os.unlink(p)
        return self.ids


class Accounting:
    def __init__(self):
        self.sent = 0
        self.delivered = []         # Outcome, 250 and in the Maildir
        self.refused = []           # Outcome, 4xx/5xx seen by the client
        self.lost = []              # (Outcome, why)

    def summary(self):
        temp = sum(1 for o in self.refused if 400 <= o.code < 500)
        return "sent %d: delivered %d, refused %d (4xx %d, 5xx %d), lost %d" % (
            self.sent, len(self.delivered), len(self.refused), temp,
            len(self.refused) - temp, len(self.lost))


def account(mbox, outcomes, timeout=60):
    """Match outcomes against deliveries; wait up to timeout for the
    accepted ones to arrive."""
    acct = Accounting()
    acct.sent = len(outcomes)
    want = {o.msg.id for o in outcomes if o.code == 250}
    deadline = time.monotonic() + timeout
    while True:
        got = mbox.collect()
        if want <= got.keys() or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    for o in outcomes:
        if o.code == 250:
            if o.msg.id in got:
                acct.delivered.append(o)
            else:
                acct.lost.append((o, "accepted (%s) but never delivered" % o.result.text))
        elif 400 <= o.code < 600:
            acct.refused.append(o)
        else:
            acct.lost.append((o, "no SMTP reply: %s" % o.result.text))
    return acct


def proc_stats(pid):
    """{'rss_kb', 'fds', 'threads'} of a running process."""
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                out["rss_kb"] = int(line.split()[1])
            elif line.startswith("Threads:"):
                out["threads"] = int(line.split()[1])
    out["fds"] = len(os.listdir("/proc/%d/fd" % pid))
    return out


def fd_targets(pid):
    """What each open descriptor points at (for diagnosing growth)."""
    out = {}
    d = "/proc/%d/fd" % pid
    for n in os.listdir(d):
        with contextlib.suppress(OSError):
            out[int(n)] = os.readlink(os.path.join(d, n))
    return out


def thread_stacks(pid):
    """Every thread's backtrace (gdb), or the kernel's view without gdb."""
    import shutil
    import subprocess
    if shutil.which("gdb"):
        r = subprocess.run(["gdb", "-p", str(pid), "-batch", "-nx",
                            "-ex", "thread apply all bt 12"],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           universal_newlines=True, timeout=60)
        return "\n".join(l for l in r.stdout.splitlines()
                         if l.startswith(("Thread", "#")))
    out = []
    for t in sorted(os.listdir("/proc/%d/task" % pid)):
        with contextlib.suppress(OSError):
            with open("/proc/%d/task/%s/wchan" % (pid, t)) as f:
                out.append("%s %s" % (t, f.read()))
    return "\n".join(out)


def wait_exit(proc, timeout):
    """Seconds until proc exited, or None if it did not within timeout."""
    t0 = time.monotonic()
    try:
        proc.wait(timeout)
    except Exception:  # noqa: BLE001 - subprocess.TimeoutExpired
        return None
    return time.monotonic() - t0


class Sampler(threading.Thread):
    """Samples proc_stats(pid) every interval seconds until stopped."""

    def __init__(self, pid, interval=1.0):
        super().__init__(daemon=True)
        self.pid = pid
        self.interval = interval
        self.samples = []           # (monotonic time, stats)
        self.halt = threading.Event()

    def run(self):
        while not self.halt.is_set():
            with contextlib.suppress(OSError):
                self.samples.append((time.monotonic(), proc_stats(self.pid)))
            self.halt.wait(self.interval)

    def stop(self):
        self.halt.set()
        self.join(5)
