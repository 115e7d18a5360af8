"""mwtest - a private Postfix, a mailwarden milter and an SMTP client for tests.

Everything runs on loopback addresses and ports picked at run time, in a
temporary directory, and is stopped by the test that started it.  Nothing
touches the system's /etc/postfix instance.
"""

import base64
import contextlib
import errno
import json
import os
import pwd
import random
import shutil
import signal
import smtplib
import socket
import subprocess
import sys
import tempfile
import time

import dnsserver

POSTFIX = shutil.which("postfix", path=os.environ.get("PATH", "") + ":/usr/sbin:/sbin")
MAILWARDEN = os.environ.get("MAILWARDEN") or os.path.join(
    os.environ.get("TOP_BUILDDIR", "."), "mailwarden")
SRCDIR = os.environ.get("TOP_SRCDIR", os.path.join(os.path.dirname(__file__), "..", ".."))
SKIP = 77


def skip_unless_root_with_postfix():
    """Exit with automake's SKIP status when the test cannot run here."""
    if os.geteuid() != 0:
        print("SKIP: integration tests need root (postfix start)")
        sys.exit(SKIP)
    if not POSTFIX:
        print("SKIP: postfix is not installed")
        sys.exit(SKIP)


def free_port(addr="127.0.0.1"):
    """A TCP port nobody listens on right now at addr."""
    for _ in range(200):
        port = dnsserver.listen_port()
        with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as s:
            try:
                s.bind((addr, port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port")


def wait_for(pred, timeout=20.0, interval=0.05, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = pred()
        if value:
            return value
        time.sleep(interval)
    raise TimeoutError("timed out waiting for " + what)


def text_of(path):
    """A log file's text ("" while it does not exist)."""
    try:
        with open(path, "rb") as f:
            return f.read().decode("utf-8", "replace")
    except FileNotFoundError:
        return ""


def crlf(text):
    """Message text with CRLF line endings (as sent over SMTP)."""
    if isinstance(text, str):
        text = text.encode("utf-8", "surrogateescape")
    return text.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


class Workdir:
    """A temporary directory that the postfix user can traverse."""

    def __init__(self, prefix="mw-it-"):
        self.path = tempfile.mkdtemp(prefix=prefix)
        os.chmod(self.path, 0o755)

    def sub(self, *parts, owner=None, mode=0o755):
        p = os.path.join(self.path, *parts)
        os.makedirs(p, exist_ok=True)
        os.chmod(p, mode)
        if owner:
            pw = pwd.getpwnam(owner)
            os.chown(p, pw.pw_uid, pw.pw_gid)
        return p

    def write(self, name, text, mode=0o644):
        p = os.path.join(self.path, name)
        with open(p, "w") as f:
            f.write(text)
        os.chmod(p, mode)
        return p

    def cleanup(self):
        shutil.rmtree(self.path, ignore_errors=True)


def shipped_rules(work):
    """A copy of the source tree's rules/ in the test's directory: the
    daemon reads rules again on SIGHUP after dropping privileges, and
    the source tree need not be readable by its user (a checkout under
    a private directory)."""
    dest = os.path.join(work.path, "shipped-rules")
    shutil.copytree(os.path.join(SRCDIR, "rules"), dest)
    for root, dirs, files in os.walk(dest):
        os.chmod(root, 0o755)
        for f in files:
            os.chmod(os.path.join(root, f), 0o644)
    return dest


class Milter:
    """mailwarden milter -f with a config file written by the test."""

    def __init__(self, work, settings, name="milter"):
        self.work = work
        self.name = name
        self.settings = dict(settings)
        self.conf = os.path.join(work.path, name + ".conf")
        self.stderr_path = os.path.join(work.path, name + ".stderr")
        self.proc = None
        self.write_conf()

    def write_conf(self, extra=None):
        # no default path of the installation: a test's daemon reads only
        # what the test gives it (a scope_dir under the configured prefix
        # may be unreadable once the daemon runs as its user)
        s = {"scope_dir": ""}
        s.update(self.settings)
        if extra:
            s.update(extra)
        with open(self.conf, "w") as f:
            for k, v in s.items():
                f.write("%s = %s\n" % (k, v))
        os.chmod(self.conf, 0o644)

    def write_raw_conf(self, text):
        with open(self.conf, "w") as f:
            f.write(text)

    @property
    def socket_spec(self):
        return self.settings["socket"]

    def postfix_spec(self):
        """The socket as Postfix spells it in smtpd_milters."""
        spec = self.socket_spec
        if spec.startswith("unix:") or spec.startswith("local:"):
            return "unix:" + spec.split(":", 1)[1]
        port, addr = spec.split(":", 1)[1].split("@")
        return "inet:%s:%s" % (addr, port)

    def start(self):
        self.stderr = open(self.stderr_path, "ab")
        self.proc = subprocess.Popen([MAILWARDEN, "milter", "-f", "-c", self.conf],
                                     stdout=self.stderr, stderr=self.stderr)
        wait_for(self._ready, what="milter socket")
        return self

    def _ready(self):
        if self.proc.poll() is not None:
            raise RuntimeError("milter exited with %d: %s" % (self.proc.returncode, self.log_text()))
        spec = self.socket_spec
        if spec.startswith("unix:"):
            return os.path.exists(spec[5:])
        port, addr = spec.split(":", 1)[1].split("@")
        with contextlib.closing(socket.socket()) as s:
            return s.connect_ex((addr, int(port))) == 0

    def log_text(self):
        with open(self.stderr_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def signal(self, sig):
        self.proc.send_signal(sig)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout=30):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc:
            self.stderr.close()
        return self.proc.returncode if self.proc else None


MASTER_CF = """\
{listen} inet n - n - - smtpd
cleanup unix n - n - 0 cleanup
qmgr unix n - n 300 1 qmgr
rewrite unix - - n - - trivial-rewrite
bounce unix - - n - 0 bounce
defer unix - - n - 0 bounce
trace unix - - n - 0 bounce
verify unix - - n - 1 verify
flush unix n - n 1000? 0 flush
proxymap unix - - n - - proxymap
error unix - - n - - error
retry unix - - n - - error
discard unix - - n - - discard
virtual unix - n n - - virtual
anvil unix - - n - 1 anvil
scache unix - - n - 1 scache
showq unix n - n - - showq
postlog unix-dgram n - n - 1 postlogd
"""


class MaildirInbox:
    """Reading what an MTA delivered to self.maildir (new/ only)."""

    def delivered(self):
        """Delivered messages as bytes, oldest first."""
        new = os.path.join(self.maildir, "new")
        if not os.path.isdir(new):
            return []
        names = sorted(os.listdir(new), key=lambda n: os.stat(os.path.join(new, n)).st_mtime_ns)
        out = []
        for n in names:
            with open(os.path.join(new, n), "rb") as f:
                out.append(f.read())
        return out

    def wait_delivered(self, count, timeout=30):
        return wait_for(lambda: len(self.delivered()) >= count and self.delivered(),
                        timeout=timeout, what="%d delivered message(s)" % count)


class Postfix(MaildirInbox):
    """A private Postfix instance delivering example.net to one Maildir."""

    def __init__(self, work, milter_spec, extra=None, addr="127.0.0.1"):
        self.work = work
        self.addr = addr
        self.port = free_port(addr)
        self.dir = work.sub("postfix")
        self.queue = work.sub("postfix", "queue")
        self.data = work.sub("postfix", "data", owner="postfix", mode=0o700)
        self.mailbase = work.sub("mail", owner="nobody", mode=0o755)
        self.maillog = os.path.join(self.dir, "maillog")
        nobody = pwd.getpwnam("nobody")
        settings = {
            "compatibility_level": "3.6",
            "queue_directory": self.queue,
            "data_directory": self.data,
            "myhostname": "mx.mailwarden.test",
            "mydomain": "mailwarden.test",
            "myorigin": "$myhostname",
            "inet_interfaces": addr,
            "inet_protocols": "all",
            "mydestination": "",
            "relay_domains": "discard.example",
            "transport_maps": "inline:{discard.example=discard:}",
            "mynetworks": "127.0.0.0/8",
            "smtpd_authorized_xclient_hosts": "127.0.0.0/8",
            "smtpd_recipient_restrictions": "permit_mynetworks, reject_unauth_destination",
            "virtual_mailbox_domains": "example.net",
            "virtual_mailbox_base": self.mailbase,
            "virtual_mailbox_maps": "static:inbox/",
            "virtual_uid_maps": "static:%d" % nobody.pw_uid,
            "virtual_gid_maps": "static:%d" % nobody.pw_gid,
            "virtual_minimum_uid": "1",
            "alias_maps": "",
            "alias_database": "",
            "local_recipient_maps": "",
            "smtpd_milters": milter_spec,
            "milter_default_action": "tempfail",
            "milter_protocol": "6",
            "maillog_file": self.maillog,
            "maillog_file_prefixes": self.dir,
            "smtpd_recipient_limit": "10000",
            "message_size_limit": "104857600",
            "virtual_mailbox_limit": "0",
            "smtputf8_enable": "no",
            "biff": "no",
            "smtpd_banner": "$myhostname ESMTP",
        }
        if extra:
            settings.update(extra)
        with open(os.path.join(self.dir, "main.cf"), "w") as f:
            for k, v in settings.items():
                f.write("%s = %s\n" % (k, v))
        self._write_master()
        self.maildir = os.path.join(self.mailbase, "inbox")

    def postfix(self, *args):
        return subprocess.run([POSTFIX, "-c", self.dir] + list(args),
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              universal_newlines=True)

    def _write_master(self):
        with open(os.path.join(self.dir, "master.cf"), "w") as f:
            f.write(MASTER_CF.format(listen="%s:%d" % (self.addr, self.port)))

    def start(self):
        # The port was free when chosen; another test may take it before
        # master(8) binds. A clash is retried on a new port, anything else
        # fails at once.
        for attempt in range(5):
            before = len(self.log_text())
            r = self.postfix("start")
            if r.returncode == 0:
                break
            clash = "Address already in use" in self.log_text()[before:]
            if not clash or attempt == 4:
                raise RuntimeError("postfix start failed: %s\n%s" % (r.stdout, self.log_text()))
            self.postfix("stop")
            self.port = free_port(self.addr)
            self._write_master()

        def listening():
            with contextlib.closing(socket.socket()) as s:
                return s.connect_ex((self.addr, self.port)) == 0
        wait_for(listening, what="postfix smtpd")
        return self

    def stop(self):
        self.postfix("stop")

    def log_text(self):
        return text_of(self.maillog)

    # the SMTP reply to DATA names the queue id: "2.0.0 Ok: queued as ID"
    xclient = True

    @staticmethod
    def queue_id(reply):
        return reply.split("queued as ")[1].split()[0] if "queued as " in reply else None

    def flush_maildir(self):
        new = os.path.join(self.maildir, "new")
        if os.path.isdir(new):
            for n in os.listdir(new):
                os.unlink(os.path.join(new, n))


class RelayPostfix(Postfix):
    """A Postfix without a milter that relays domains (space-separated)
    to the Postfix target: the client side of a real delivery.  Deferred
    mail is retried within a second or two."""

    def __init__(self, work, target, domains):
        super().__init__(work, "", extra={
            "myhostname": "relay.mailwarden.test",
            "virtual_mailbox_domains": "",
            "relay_domains": domains,
            "relayhost": "[%s]:%d" % (target.addr, target.port),
            "smtp_dns_support_level": "disabled",
            "smtpd_milters": "",
            "queue_run_delay": "1s",
            "minimal_backoff_time": "1s",
            "maximal_backoff_time": "2s",
        })

    def _write_master(self):
        super()._write_master()
        with open(os.path.join(self.dir, "master.cf"), "a") as f:
            f.write("smtp unix - - n - - smtp\nrelay unix - - n - - smtp\n")

    def wait_retried(self, pred, what, timeout=60, stuck_after=20):
        """wait_for(pred) on a message this relay must deliver again after
        a deferral.  With backoff times this short, Postfix's queue manager
        now and then rescans a message its smtp client is still delivering,
        logs "skipped, still being delivered", puts the file back for later
        and then waits for new mail to look at it again (seen in 1 of 8 runs
        under load: the retry never came in 120 s).  When the relay's log
        shows that, flush its queue as a postmaster would, and say so."""
        try:
            return wait_for(pred, timeout=stuck_after, what=what)
        except TimeoutError:
            if "skipped, still being delivered" not in self.log_text():
                return wait_for(pred, timeout=max(timeout - stuck_after, 1),
                                what=what)
        print("note: the relay's queue manager skipped the retry "
              "(\"skipped, still being delivered\"); postfix flush")
        self.postfix("flush")
        return wait_for(pred, timeout=timeout, what=what)


class SmtpResult:
    def __init__(self, code, text, queue_id=None):
        self.code = code
        self.text = text
        self.queue_id = queue_id

    def __repr__(self):
        return "SmtpResult(%r, %r, %r)" % (self.code, self.text, self.queue_id)


def send(pf, mail_from, rcpts, data, client_ip=None, client_name=None, helo="client.example.org",
         auth=None):
    """One message per connection; returns the reply to DATA (or the
    first refusal).  pf is the MTA (Postfix, or sendmailtest.Sendmail).
    Postfix is shown client_ip/name with XCLIENT; an MTA without XCLIENT
    (pf.xclient false) is connected to from client_ip, a loopback
    address.  auth=(user, password) logs in with AUTH PLAIN first."""
    source = None if pf.xclient or not client_ip else (client_ip, 0)
    s = smtplib.SMTP(timeout=60, source_address=source)
    try:
        code, msg = s.connect(pf.addr, pf.port)
        if code != 220:
            return SmtpResult(code, msg.decode("utf-8", "replace"))
        s.ehlo("test.local")
        if client_ip and pf.xclient:
            args = "ADDR=%s NAME=%s" % (client_ip, client_name or "[UNAVAILABLE]")
            code, msg = s.docmd("XCLIENT", args)
            if code != 220:
                raise RuntimeError("XCLIENT refused: %d %s" % (code, msg))
        code, msg = s.ehlo(helo)
        if auth:
            plain = base64.b64encode(("\0%s\0%s" % auth).encode()).decode()
            code, msg = s.docmd("AUTH", "PLAIN " + plain)
            if code != 235:
                return SmtpResult(code, msg.decode("utf-8", "replace"))
        code, msg = s.mail(mail_from)
        if code != 250:
            return SmtpResult(code, msg.decode("utf-8", "replace"))
        accepted = 0
        for r in rcpts:
            code, msg = s.rcpt(r)
            if code == 250:
                accepted += 1
        if accepted == 0:
            return SmtpResult(code, msg.decode("utf-8", "replace"))
        code, msg = s.data(crlf(data))
        text = msg.decode("utf-8", "replace")
        return SmtpResult(code, text, pf.queue_id(text) if code == 250 else None)
    except smtplib.SMTPServerDisconnected as e:
        return SmtpResult(0, str(e))
    finally:
        with contextlib.suppress(Exception):
            s.quit()


def read_log(path):
    """Verdict log lines as dicts."""
    out = []
    try:
        with open(path, "rb") as f:
            for line in f:
                out.append(json.loads(line))
    except FileNotFoundError:
        pass
    return out


def headers_of(msg_bytes):
    """(name, value) pairs of the header section, unfolded."""
    head = msg_bytes.split(b"\n\n", 1)[0].split(b"\r\n\r\n", 1)[0]
    out = []
    for line in head.replace(b"\r\n", b"\n").split(b"\n"):
        if line[:1] in (b" ", b"\t") and out:
            out[-1] = (out[-1][0], out[-1][1] + b" " + line.strip())
        elif b":" in line:
            n, v = line.split(b":", 1)
            out.append((n.decode("latin-1"), v.strip()))
    return [(n, v.decode("utf-8", "replace")) for n, v in out]


def header(msg_bytes, name):
    return [v for n, v in headers_of(msg_bytes) if n.lower() == name.lower()]


def scan_json(conf, msg_path, ip, mail_from, rcpt="b@rcpt.example", helo=None):
    """`mailwarden scan --json` of one message file: its verdict log object."""
    args = [MAILWARDEN, "scan", "-c", conf, "--json", "--ip", ip]
    if helo:
        args += ["--helo", helo]
    r = subprocess.run(args + ["--from", mail_from, "--rcpt", rcpt, msg_path],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       universal_newlines=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout.strip().splitlines()[-1])


def as_milter_saw_it(m, authserv_id, added_by_mta):
    """Delivered bytes minus what the milter changed (its own fields, the
    subject tag) and the fields for which added_by_mta(name, value) is
    true: what the MTA added where the milter did not see it."""
    head, body = m.split(b"\n\n", 1)
    fields = []
    for line in head.split(b"\n"):
        if line[:1] in (b" ", b"\t") and fields:
            fields[-1] += b"\n" + line
        else:
            fields.append(line)
    out = []
    for f in fields:
        name, _, value = f.partition(b":")
        name = name.decode("latin-1").lower()
        if name.startswith("x-spam-") or added_by_mta(name, value):
            continue
        if name == "authentication-results" and \
                value.strip().lower().startswith(authserv_id.encode()):
            continue
        if name == "subject" and value.startswith(b" [SPAM] "):
            f = b"Subject: " + value[len(b" [SPAM] "):]
        out.append(f)
    return b"\n".join(out) + b"\n\n" + body


def assert_scan_matches(milter, line, seen, args):
    """`mailwarden scan --json` of seen (the message as the milter saw it)
    with the envelope args prints the milter's verdict log line."""
    path = os.path.join(milter.work.path, "seen.eml")
    with open(path, "wb") as f:
        f.write(seen)
    out = subprocess.run([MAILWARDEN, "scan", "--json", "-c", milter.conf] + args + [path],
                         stdout=subprocess.PIPE, check=True).stdout
    scanned = json.loads(out)
    line = dict(line)
    for volatile in ("time", "elapsed_ms", "dns_ms"):
        line.pop(volatile)
        scanned.pop(volatile)
    assert scanned == line, "scan and milter differ:\n%s\n%s" % (
        json.dumps(scanned, sort_keys=True), json.dumps(line, sort_keys=True))


def dkimpy_verify(work, records, msg_bytes):
    """python3-dkim's result ("pass" or "fail") for every DKIM-Signature
    of a message, keys from records ({name: TXT value}), run by the
    system's python3 (where python3-dkim is installed)."""
    script = (
        "import sys, dkim\n"
        "recs = dict(l.rstrip('\\n').split('\\t', 1) for l in open(sys.argv[1]))\n"
        "m = open(sys.argv[2], 'rb').read().replace(b'\\r\\n', b'\\n')"
        ".replace(b'\\n', b'\\r\\n')\n"
        "d = dkim.DKIM(m)\n"
        "n = len([l for l in m.split(b'\\r\\n\\r\\n')[0].split(b'\\r\\n') "
        "if l.lower().startswith(b'dkim-signature:')])\n"
        "f = lambda name, timeout=5: (recs.get(name.decode().rstrip('.')) "
        "or '').encode() or None\n"
        "print(' '.join('pass' if d.verify(idx=i, dnsfunc=f) else 'fail' "
        "for i in range(n)))\n")
    recs = work.write("records.tsv", "".join("%s\t%s\n" % kv for kv in records.items()))
    msgf = os.path.join(work.path, "delivered.eml")
    with open(msgf, "wb") as f:
        f.write(msg_bytes)
    return subprocess.run(["/usr/bin/python3", "-c", script, recs, msgf],
                          stdout=subprocess.PIPE, check=True).stdout.decode().split()


def symbols(verdict):
    """The symbols of a verdict log object, by name."""
    return {s["name"]: s for s in verdict["symbols"]}


class Results:
    """A tiny runner: named checks, failures collected, TAP-ish output."""

    def __init__(self):
        self.failed = 0
        self.passed = 0
        self.failures = []	# (name, one-line reason), repeated by exit()

    def check(self, name, fn):
        try:
            fn()
        except Exception as e:  # noqa: BLE001 - report any failure
            self.failed += 1
            self.failures.append((name, ("%s: %s" % (type(e).__name__, e))[:300]))
            print("FAIL: %s: %s: %s" % (name, type(e).__name__, e))
            import traceback
            traceback.print_exc(file=sys.stdout)
        else:
            self.passed += 1
            print("ok: %s" % name)
        sys.stdout.flush()

    def run(self, checks, milter, stops_milter=None):
        """check() each (name, fn) in order; stop when the milter died,
        unless fn is stops_milter, the check that stops it on purpose."""
        for name, fn in checks:
            self.check(name, fn)
            if not milter.alive() and fn is not stops_milter:
                print("milter died:\n" + milter.log_text())
                break

    def exit(self):
        # the failures once more at the very end: a test prints the MTA's
        # and the milter's logs after its checks, and CI shows only the
        # end of a log
        for name, why in self.failures:
            print("FAILED: %s: %s" % (name, why.replace("\n", " | ")))
        print("%d passed, %d failed" % (self.passed, self.failed))
        sys.exit(1 if self.failed else 0)
