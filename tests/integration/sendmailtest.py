"""sendmailtest - a private Sendmail 8.17 with the milter attached, for tests.

Debian's sendmail package conflicts with Postfix, which the other tests
use, so Sendmail is never installed: its packages are fetched with
`apt-get download` (sendmail-bin, sendmail-base, sendmail-cf) into a cache
under the build tree ($TOP_BUILDDIR/tests/sendmail-cache, or the directory
MW_SENDMAIL_DEBS names) and unpacked with `dpkg -x` into the test's own
directory.  The binary needs libwrap0, which contrib/install-deps.sh
installs.  prepare() raises SendmailUnavailable with the reason when any
of this fails; a test must then fail, not skip.

Sendmail.cf is built with Sendmail's m4 files from the unpacked
sendmail-cf, from contrib/sendmail/mailwarden.mc.example (its filter line
pointed at the test's milter socket) plus the test's settings: one daemon
on a loopback port chosen by mwtest.free_port(), queue, pid, status,
alias, help and host files in the test directory, load-average limits
off, DontBlameSendmail=TrustStickyBit (the test directory is under
/tmp), and mail for example.net handed to a one-line mailer that writes
each message to NAME/mail/inbox/new/ where the test reads it (and mail
for discard.example to a mailer that throws it away).  That
mailer rewrites addresses in the header as Sendmail's smtp mailer does
(HdrToSMTP): the delivered header is the one Sendmail would relay, which
DKIM signatures made by the milter must survive (a local mailer's
R=EnvToL would cut "Bob <bob@example.net>" down to "Bob <bob>").

Sendmail runs as `sendmail -bD` (daemon in the foreground, so the pid is
the child's and stop() signals exactly it) inside private mount and UTS
namespaces (unshare -m -u), where the test may change what it needs
without touching the host:
- the host name is mx.mailwarden.test (an unqualified name makes
  Sendmail sleep and retry at start);
- /etc/hosts, /etc/nsswitch.conf and /etc/resolv.conf are the test's:
  host names from the test's hosts file only, and a resolver pointed at
  a loopback port with no server, so Sendmail never asks the real DNS
  (the milter uses the test's nsd; Sendmail itself needs no DNS here);
- /dev is a small tmpfs holding null, zero, random, urandom and a /dev/log
  link to a datagram socket of the test, where Sendmail's syslog lines are
  collected into the file maillog (the host has no syslog daemon and the
  test must not create /dev/log there).
"""

import contextlib
import glob
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import threading
import time

import mwtest

DEBS = ("sendmail-bin", "sendmail-base", "sendmail-cf")
HOSTNAME = "mx.mailwarden.test"


class SendmailUnavailable(Exception):
    """The unpacked Sendmail could not be prepared (the message says why)."""


def cache_dir():
    if os.environ.get("MW_SENDMAIL_DEBS"):
        return os.environ["MW_SENDMAIL_DEBS"]
    top = os.environ.get("TOP_BUILDDIR") or os.path.join(os.path.dirname(
        os.path.abspath(__file__)), "..", "..")
    return os.path.join(os.path.abspath(top), "tests", "sendmail-cache")


def _debs(cache):
    found = {}
    for p in DEBS:
        hits = sorted(glob.glob(os.path.join(cache, p + "_*.deb")))
        if hits:
            found[p] = hits[-1]
    return found


def prepare(dest):
    """Unpack Sendmail into dest (fetching the .debs into the cache
    first when they are not there); returns dest."""
    if os.geteuid() != 0:
        raise SendmailUnavailable("Sendmail's daemon mode needs root")
    cache = cache_dir()
    found = _debs(cache)
    if len(found) < len(DEBS):
        os.makedirs(cache, exist_ok=True)
        missing = [p for p in DEBS if p not in found]
        try:
            r = subprocess.run(["apt-get", "download"] + missing, cwd=cache,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               universal_newlines=True, timeout=300)
        except (OSError, subprocess.TimeoutExpired) as e:
            raise SendmailUnavailable("apt-get download %s: %s" % (" ".join(missing), e))
        found = _debs(cache)
        if len(found) < len(DEBS):
            raise SendmailUnavailable("apt-get download %s into %s failed:\n%s" % (
                " ".join(missing), cache, r.stdout[-2000:]))
    for p in DEBS:
        r = subprocess.run(["dpkg", "-x", found[p], dest], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, universal_newlines=True)
        if r.returncode != 0:
            raise SendmailUnavailable("dpkg -x %s: %s" % (found[p], r.stdout))
    binary = os.path.join(dest, "usr", "libexec", "sendmail", "sendmail")
    if not os.access(binary, os.X_OK):
        raise SendmailUnavailable("no sendmail binary in the unpacked packages")
    r = subprocess.run(["ldd", binary], stdout=subprocess.PIPE, universal_newlines=True)
    if "not found" in r.stdout:
        raise SendmailUnavailable("sendmail lacks libraries (run contrib/install-deps.sh):\n"
                                  + r.stdout)
    for tool in ("unshare", "m4"):
        if not shutil.which(tool):
            raise SendmailUnavailable("%s is not installed" % tool)
    return dest


def milter_line(socket_spec):
    """contrib/sendmail/mailwarden.mc.example with its socket replaced
    (mailwarden's unix:PATH and inet:PORT@ADDR are Sendmail's syntax)."""
    with open(os.path.join(mwtest.SRCDIR, "contrib", "sendmail",
                           "mailwarden.mc.example")) as f:
        text = f.read()
    text, n = re.subn(r"S=unix:/run/mailwarden/mailwarden\.sock", "S=" + socket_spec, text)
    if n != 1:
        raise SendmailUnavailable("the snippet has no S=unix:/run/mailwarden/... line")
    return text


class Syslog:
    """A datagram socket standing in for /dev/log; lines go to a file."""

    def __init__(self, path, out):
        self.path = path
        self.out = out
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        os.chmod(path, 0o666)
        self.sock.settimeout(0.2)
        self.stopping = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        with open(self.out, "ab", buffering=0) as f:
            while not self.stopping:
                try:
                    data = self.sock.recv(65536)
                except socket.timeout:
                    continue
                except OSError:
                    break
                # "<pri>Mmm dd hh:mm:ss tag[pid]: text": keep from the tag
                f.write(re.sub(rb"^<\d+>", b"", data).rstrip(b"\0\n") + b"\n")

    def stop(self):
        self.stopping = True
        self.thread.join(5)
        self.sock.close()


NS_SCRIPT = """\
set -e
hostname {hostname}
mount --make-rprivate /
for f in hosts nsswitch.conf resolv.conf; do mount --bind {etc}/$f /etc/$f; done
mount --bind {etc}/sasl2 /usr/lib/sasl2
mkdir -p {hostdev}
mount --rbind /dev {hostdev}
mount -t tmpfs -o mode=0755,size=64k mwdev /dev
for n in null zero full random urandom; do
  touch /dev/$n; mount --bind {hostdev}/$n /dev/$n
done
umount -l {hostdev}
ln -s {syslog} /dev/log
exec {sendmail} -bD -L sm-mta -C {cf}
"""


class Sendmail(mwtest.MaildirInbox):
    """A private Sendmail on loopback delivering example.net to a Maildir.

    mwtest.send() talks to it: Sendmail has no XCLIENT, so the client
    connects from the loopback address the milter is to see.

    milter_spec is mailwarden's socket setting; mc_extra is m4 text added
    after the snippet (e.g. confMILTER_MACROS_*), hosts maps client
    addresses to names (Sendmail's reverse lookups read only this)."""

    xclient = False
    QID_RE = re.compile(r"^2\.0\.0 (\S+) Message accepted for delivery")

    @classmethod
    def queue_id(cls, reply):
        """The queue id in the reply to DATA."""
        m = cls.QID_RE.match(reply)
        return m.group(1) if m else None

    def __init__(self, work, milter_spec, mc_extra="", hosts=None, addr="127.0.0.1",
                 filter_line=None, sasl_users=None, name="sendmail"):
        self.work = work
        self.addr = addr
        self.dir = work.sub(name)
        self.root = prepare(work.sub(name, "root"))
        self.binary = os.path.join(self.root, "usr", "libexec", "sendmail", "sendmail")
        self.queue = work.sub(name, "queue", mode=0o700)
        self.etc = work.sub(name, "etc")
        self.mailbase = work.sub(name, "mail", owner="nobody", mode=0o755)
        self.maildir = os.path.join(self.mailbase, "inbox")
        os.makedirs(os.path.join(self.maildir, "new"), exist_ok=True)
        os.makedirs(os.path.join(self.maildir, "tmp"), exist_ok=True)
        nobody = pwd.getpwnam("nobody")
        for d in (self.maildir, os.path.join(self.maildir, "new"),
                  os.path.join(self.maildir, "tmp")):
            os.chown(d, nobody.pw_uid, nobody.pw_gid)
        self.maillog = os.path.join(self.dir, "maillog")
        self.stderr_path = os.path.join(self.dir, "stderr")
        self.syslog_path = os.path.join(self.dir, "log.sock")
        self.milter_text = filter_line if filter_line is not None else milter_line(milter_spec)
        self.mc_extra = mc_extra
        self.proc = None
        self.ns = None
        self.syslog = None
        hosts_text = "127.0.0.1\tlocalhost\n%s\t%s\n" % (addr, HOSTNAME)
        for ip, name in (hosts or {}).items():
            hosts_text += "%s\t%s\n" % (ip, name)
        self._write(os.path.join(self.etc, "hosts"), hosts_text)
        self._write(os.path.join(self.etc, "nsswitch.conf"),
                    "passwd: files\ngroup: files\nshadow: files\nhosts: files\n")
        # nothing listens on port 53 here: a query fails at once
        self._write(os.path.join(self.etc, "resolv.conf"),
                    "nameserver 127.0.0.1\noptions timeout:1 attempts:1\n")
        self._sasl(sasl_users or {})
        self._write(os.path.join(self.dir, "service.switch"), "hosts\tfiles\naliases\tfiles\n")
        self._write(os.path.join(self.dir, "aliases"), "")
        self._write(os.path.join(self.dir, "deliver.sh"),
                    'f={d}/tmp/$(date +%s%N).$$\ncat > "$f" && mv "$f" {d}/new/\n'.format(
                        d=self.maildir))
        self._write(os.path.join(self.dir, "nowhere.sh"), "cat > /dev/null\n")
        self.port = mwtest.free_port(addr)
        self.write_cf()

    def _sasl(self, users):
        """Cyrus SASL for Sendmail: Sendmail.conf and a sasldb of the
        test's users (saslpasswd2, sasl2-bin).  Cyrus reads Sendmail.conf
        from its fixed path list, so the namespace mounts this directory
        on /usr/lib/sasl2 (the host's /etc/sasl2 does not exist)."""
        d = os.path.join(self.etc, "sasl2")
        os.makedirs(d, exist_ok=True)
        db = os.path.join(self.etc, "sasldb2")
        self._write(os.path.join(d, "Sendmail.conf"),
                    "pwcheck_method: auxprop\nauxprop_plugin: sasldb\n"
                    "sasldb_path: %s\nmech_list: PLAIN LOGIN\n" % db)
        if not users:
            return
        tool = shutil.which("saslpasswd2", path="/usr/sbin:/usr/bin")
        if not tool:
            raise SendmailUnavailable("saslpasswd2 is not installed (sasl2-bin)")
        for user, password in users.items():
            r = subprocess.run([tool, "-f", db, "-c", "-p", "-u", HOSTNAME, user],
                               input=password, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, universal_newlines=True)
            if r.returncode != 0:
                raise SendmailUnavailable("saslpasswd2: " + r.stdout)
        os.chmod(db, 0o600)

    @staticmethod
    def _write(path, text, mode=0o644):
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, mode)

    def mc_text(self):
        d = self.dir
        return """divert(-1)
include(`{root}/usr/share/sendmail/cf/m4/cf.m4')
divert(0)dnl
VERSIONID(`mailwarden integration test')dnl
OSTYPE(`linux')dnl
define(`confDOMAIN_NAME', `{host}')dnl
define(`QUEUE_DIR', `{queue}')dnl
define(`confPID_FILE', `{d}/sendmail.pid')dnl
define(`STATUS_FILE', `{d}/statistics')dnl
define(`ALIAS_FILE', `{d}/aliases')dnl
define(`HELP_FILE', `{d}/helpfile')dnl
define(`confCW_FILE', `-o {d}/local-host-names')dnl
define(`confCT_FILE', `-o {d}/trusted-users')dnl
define(`confSERVICE_SWITCH_FILE', `{d}/service.switch')dnl
define(`confHOSTS_FILE', `{etc}/hosts')dnl
define(`confHOST_STATUS_DIRECTORY', `')dnl
define(`confQUEUE_LA', `1000')dnl
define(`confREFUSE_LA', `1000')dnl
define(`confDELAY_LA', `0')dnl
define(`confDEF_USER_ID', `nobody:nogroup')dnl
define(`confLOG_LEVEL', `14')dnl
define(`confMILTER_LOG_LEVEL', `14')dnl
define(`confDONT_PROBE_INTERFACES', `true')dnl
define(`confTO_IDENT', `0')dnl
define(`confMAX_MESSAGE_SIZE', `104857600')dnl
define(`confMAX_RCPTS_PER_MESSAGE', `10000')dnl
define(`confBAD_RCPT_THROTTLE', `0')dnl
define(`confPRIVACY_FLAGS', `goaway')dnl
define(`confAUTH_MECHANISMS', `PLAIN LOGIN')dnl
TRUST_AUTH_MECH(`PLAIN LOGIN')dnl
dnl the test directory is in /tmp (world-writable, sticky)
define(`confDONT_BLAME_SENDMAIL', `TrustStickyBit')dnl
FEATURE(`nocanonify')dnl
FEATURE(`accept_unresolvable_domains')dnl
FEATURE(`accept_unqualified_senders')dnl
FEATURE(`no_default_msa')dnl
RELAY_DOMAIN(`example.net')dnl
RELAY_DOMAIN(`discard.example')dnl
DAEMON_OPTIONS(`Port={port}, Addr={addr}, Name=MTA')dnl
{milter}{extra}MAILER(`local')dnl
MAILER(`smtp')dnl
MAILER_DEFINITIONS
Mnowhere,	P=/bin/sh, F=DFMhnm, U=nobody:nogroup, A=sh {d}/nowhere.sh $u
Mtestbox,	P=/bin/sh, F=DFMhnm, S=EnvFromSMTP/HdrFromSMTP, R=EnvToSMTP/HdrToSMTP, U=nobody:nogroup, A=sh {d}/deliver.sh $u
LOCAL_RULE_0
R$* < @ example.net $* > $*	$#testbox $@ example.net $: $1 < @ example.net >
R$* < @ discard.example $* > $*	$#nowhere $@ discard.example $: $1 < @ discard.example >
""".format(root=self.root, host=HOSTNAME, queue=self.queue, d=d, etc=self.etc,
           port=self.port, addr=self.addr, milter=self.milter_text, extra=self.mc_extra)

    def write_cf(self):
        mc = os.path.join(self.dir, "sendmail.mc")
        self._write(mc, self.mc_text())
        r = subprocess.run(["m4", mc], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           universal_newlines=True)
        if r.returncode != 0 or r.stderr.strip():
            raise SendmailUnavailable("m4 %s: %s" % (mc, r.stderr))
        self.cf = os.path.join(self.dir, "sendmail.cf")
        self._write(self.cf, r.stdout)

    def start(self):
        if self.syslog is None:
            self.syslog = Syslog(self.syslog_path, self.maillog)
        for attempt in range(5):
            script = NS_SCRIPT.format(hostname=HOSTNAME, etc=self.etc,
                                      hostdev=os.path.join(self.dir, "hostdev"),
                                      syslog=self.syslog_path, sendmail=self.binary,
                                      cf=self.cf)
            self.stderr = open(self.stderr_path, "ab")
            before = len(self.log_text())
            self.proc = subprocess.Popen(["unshare", "-m", "-u", "sh", "-c", script],
                                         stdin=subprocess.DEVNULL, stdout=self.stderr,
                                         stderr=self.stderr)
            self._log_from = before
            try:
                mwtest.wait_for(self._listening, timeout=30, what="sendmail daemon")
                self.ns = os.readlink("/proc/%d/ns/mnt" % self.proc.pid)
                return self
            except (RuntimeError, TimeoutError):
                clash = "Address already in use" in self.log_text()[before:]
                if self.proc.poll() is None:
                    self.proc.kill()
                    self.proc.wait()
                self.stderr.close()
                if not clash or attempt == 4:
                    raise
                # another test took the port after free_port(): a new one
                self.port = mwtest.free_port(self.addr)
                self.write_cf()

    def _listening(self):
        """Our Sendmail greets on the port (not someone else listening)."""
        if self.proc.poll() is not None:
            raise RuntimeError("sendmail exited with %d:\n%s\n%s" % (
                self.proc.returncode, self.stderr_text(), self.log_text()[-3000:]))
        if "Address already in use" in self.log_text()[self._log_from:]:
            raise RuntimeError("sendmail: port %d: address already in use" % self.port)
        with contextlib.closing(socket.socket()) as s:
            s.settimeout(10)
            if s.connect_ex((self.addr, self.port)) != 0:
                return False
            banner = s.recv(512)
        if not banner.startswith(b"220 %s ESMTP Sendmail " % HOSTNAME.encode()):
            raise RuntimeError("port %d answers %r, not our Sendmail" % (self.port, banner))
        return True

    def _namespace_pids(self):
        """Processes in the daemon's mount namespace but the daemon."""
        ns = self.ns
        out = []
        for p in os.listdir("/proc"):
            if p.isdigit() and int(p) != self.proc.pid:
                with contextlib.suppress(OSError):
                    if os.readlink("/proc/%s/ns/mnt" % p) == ns:
                        out.append(int(p))
        return out

    def stop(self):
        """SIGTERM to the daemon's pid, then to what it left running in
        its namespace (delivery processes are not its children)."""
        if self.proc and self.proc.poll() is None:
            left = self._namespace_pids() if self.ns else []
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.stderr.close()
            for pid in left + self._namespace_pids():
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGTERM)
        if self.syslog:
            time.sleep(0.2)
            self.syslog.stop()
            self.syslog = None

    def stderr_text(self):
        return mwtest.text_of(self.stderr_path)

    def log_text(self):
        """Sendmail's syslog lines (from the test's /dev/log)."""
        return mwtest.text_of(self.maillog)

    def wait_log(self, pattern, timeout=15):
        """The log once the regular expression pattern matches in it
        (Sendmail's lines arrive through syslog, after its replies)."""
        return mwtest.wait_for(lambda: re.search(pattern, self.log_text()) and self.log_text(),
                               timeout=timeout, what="Sendmail log line /%s/" % pattern)

    def log_lines(self, queue_id):
        """Sendmail's syslog lines for one queue id."""
        return [l for l in self.log_text().splitlines() if (": %s: " % queue_id) in l]


