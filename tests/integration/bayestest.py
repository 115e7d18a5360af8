"""bayestest - helpers for the Bayes integration tests.

A private redis-server on 127.0.0.1 and a free port, with a temporary
directory and no persistence, started and stopped by the test; the
corpus archives unpacked into a temporary directory at run time.
"""

import atexit
import ctypes
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import mwtest

REDIS_SERVER = shutil.which("redis-server",
                            path=os.environ.get("PATH", "") + ":/usr/bin:/usr/sbin")
SHARED = os.environ.get("SHARED_DIR") or os.path.join(mwtest.SRCDIR, "..", "shared")
CORPUS = os.path.join(SHARED, "corpus")


def _die_with_parent():
    """In the child: SIGKILL when the test process dies (PR_SET_PDEATHSIG)."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)
    except (OSError, AttributeError):
        pass


def ping(port, timeout=0.3):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            s.settimeout(timeout)
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


class Redis:
    """redis-server -port P on loopback; stop() kills it and removes its dir."""

    def __init__(self):
        if REDIS_SERVER is None:
            raise RuntimeError("redis-server is not installed")
        self.dir = tempfile.mkdtemp(prefix="mw-redis-")
        self.proc = None
        atexit.register(self.stop)     # whatever happens to the test
        for _ in range(10):
            self.port = mwtest.free_port()
            if self._spawn():
                return
        raise RuntimeError("redis-server would not start")

    def _spawn(self):
        self.proc = subprocess.Popen(
            [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1",
             "--dir", self.dir, "--save", "", "--appendonly", "no",
             "--daemonize", "no", "--logfile", os.path.join(self.dir, "log")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            preexec_fn=_die_with_parent)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            if ping(self.port):
                return True
            time.sleep(0.05)
        self.kill()
        return False

    @property
    def url(self):
        return "redis://127.0.0.1:%d/0" % self.port

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def restart(self):
        if not self._spawn():
            raise RuntimeError("redis-server would not restart")

    def stop(self):
        self.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


def unpack_corpus(dest):
    """{(split, class): [paths]} of the corpus unpacked under dest."""
    out = {}
    for split in ("train", "test"):
        for cls in ("spam", "ham"):
            arc = os.path.join(CORPUS, split, cls + ".tar.xz")
            subprocess.run(["tar", "-xJf", arc, "-C", dest], check=True)
            d = os.path.join(dest, split, cls)
            out[split, cls] = sorted(os.path.join(d, f) for f in os.listdir(d))
    return out


def mw(*args, check=True, timeout=600):
    """Run mailwarden; CompletedProcess with text output."""
    r = subprocess.run([mwtest.MAILWARDEN] + list(args), stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, universal_newlines=True,
                       timeout=timeout)
    if check and r.returncode != 0:
        raise RuntimeError("mailwarden %s: exit %d\n%s%s" % (
            " ".join(args[:3]), r.returncode, r.stdout, r.stderr))
    return r
