#!/usr/bin/env python3
"""Metrics end to end: Postfix, mailwarden, nsd, and a real Prometheus.

mailwarden milter runs behind a private Postfix with metrics_listen on
a loopback port; nsd serves an SPF zone; Debian's Prometheus server is
started on another loopback port with a private configuration and
storage directory, scraping the daemon every second:

- `promtool check metrics` accepts the endpoint's output (no lint
  problems), before and after mail;
- lookups and listings of a configured DNS list zone are counted, and
  the LMDB Bayes store's map size and use are read at scrape time;
- the counters Prometheus stores match the mail sent: by action (one
  SPF fail rejected, two SPF passes accepted) and by SPF result; the
  alert rules of contrib/prometheus load, and every query of the Grafana
  dashboard there is accepted;
- a SIGHUP with a broken file shows as a failed reload (and `mailwarden
  status` exits 1 saying so); fixing it raises the generation;
- hostile HTTP: an oversized request gets 431 or a close, POST 405, a
  traversal 404, a slow client and a crowd of idle clients are cut off
  (and do not keep a scrape out meanwhile), and meanwhile mail goes
  through as fast as before (measured);
- `mailwarden status` exits 0 against the healthy daemon, 2 against
  nothing, and shows the messages of the last minute and hour at once;
- the stats line shows up in the log (stats_interval = 1);
- with nsd stopped, a new domain's lookups fail: DNS timeouts (also in
  Prometheus), dns_degraded messages; one such message leaves DNS healthy,
  four make it degraded, and `status` reports DNS degraded;
- SIGTERM stops the daemon with status 0 (under ASan: no leak report)
  and the endpoint with it.
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dnsserver  # noqa: E402
import mwtest  # noqa: E402
from mwtest import send  # noqa: E402

mwtest.skip_unless_root_with_postfix()
dnsserver.skip_unless_nsd()
PROMETHEUS = shutil.which("prometheus")
PROMTOOL = shutil.which("promtool")
if not PROMETHEUS or not PROMTOOL:
    print("SKIP: Debian's prometheus package is not installed")
    sys.exit(mwtest.SKIP)

ZONES = {
    "spf.test": """
@       TXT   "v=spf1 ip4:192.0.2.0/24 -all"
late    TXT   "v=spf1 ip4:192.0.2.0/24 -all"
""",
    # 192.0.2.7 is listed (a score too small to change an action)
    "bl.test": """
7.2.0.192  A  127.0.0.2
""",
}
MSG = """From: Alice <alice@{dom}>
To: Bob <bob@example.net>
Subject: metrics {n}
Message-ID: <metrics-{n}@{dom}>

Hello.
"""

ns = dnsserver.NSD(ZONES).start()
work = mwtest.Workdir(prefix="mw-metrics-it-")
run = work.sub("run", owner="postfix")
logdir = work.sub("log", owner="postfix")
mport = mwtest.free_port()
ENDPOINT = "inet:%d@127.0.0.1" % mport
SETTINGS = {
    "socket": "unix:%s/mw.sock" % run,
    "user": "postfix",
    "log_file": os.path.join(logdir, "verdicts.log"),
    "pid_file": "",
    "rules_dir": mwtest.shipped_rules(work),
    "dns_servers": ns.addr,
    "dns_timeout": "300",
    "dns_retries": "0",
    "dns_message_timeout": "2000",
    "spf_fail_action": "reject",
    "spf_temperror_action": "accept",
    "dmarc": "no",
    "dnsbl": "bl.test/127.0.0.2=RBL_METRICS_TEST:0.1",
    # an empty LMDB store (Bayes untrained): its map gauges at scrape time
    "bayes_store": work.sub("bayes", owner="postfix"),
    "bayes_map_size": "16M",
    "metrics_listen": ENDPOINT,
    "stats_interval": "1",
}
milter = mwtest.Milter(work, SETTINGS).start()
mwtest.wait_for(lambda: "metrics endpoint on" in milter.log_text(), what="endpoint")
pf = mwtest.Postfix(work, milter.postfix_spec()).start()
R = mwtest.Results()
prom = None
pport = mwtest.free_port()


def scrape():
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % mport, timeout=5) as r:
        assert r.status == 200
        assert r.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        return r.read().decode()


def series(text, key):
    for line in text.splitlines():
        if line.startswith(key + " "):
            return float(line.split()[-1])
    return None


def raw(req, read=True, timeout=10):
    """Send bytes to the endpoint; the answer ('' if it closed)."""
    with socket.create_connection(("127.0.0.1", mport), timeout=timeout) as s:
        try:
            s.sendall(req)
        except (BrokenPipeError, ConnectionResetError):
            pass
        out = b""
        while read:
            try:
                chunk = s.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            out += chunk
        return out.decode("latin-1")


def status(*args):
    return subprocess.run([mwtest.MAILWARDEN, "status"] + list(args),
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, timeout=60)


def promtool_check():
    text = scrape()
    r = subprocess.run([PROMTOOL, "check", "metrics"], input=text,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       universal_newlines=True)
    assert r.returncode == 0 and r.stdout.strip() == "", r.stdout
    return text


def start_prometheus():
    global prom
    pdir = work.sub("prometheus")
    conf = work.write("prometheus/prometheus.yml", """\
global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - %s
scrape_configs:
  - job_name: mailwarden
    static_configs:
      - targets: ['127.0.0.1:%d']
""" % (os.path.join(mwtest.SRCDIR, "contrib", "prometheus", "mailwarden-alerts.yml"), mport))
    log = open(os.path.join(pdir, "prometheus.log"), "ab")
    prom = subprocess.Popen([PROMETHEUS, "--config.file=" + conf,
                             "--storage.tsdb.path=" + os.path.join(pdir, "data"),
                             "--web.listen-address=127.0.0.1:%d" % pport,
                             "--web.console.templates=" + pdir,
                             "--web.console.libraries=" + pdir],
                            stdout=log, stderr=log, cwd=pdir)

    def ready():
        if prom.poll() is not None:
            raise RuntimeError("prometheus exited: " + prom_log())
        try:
            with urllib.request.urlopen("http://127.0.0.1:%d/-/ready" % pport, timeout=2) as r:
                return r.status == 200
        except OSError:
            return False
    mwtest.wait_for(ready, timeout=60, what="prometheus ready")


def prom_log():
    try:
        with open(os.path.join(work.path, "prometheus", "prometheus.log")) as f:
            return f.read()[-3000:]
    except OSError:
        return ""


def query(expr):
    url = "http://127.0.0.1:%d/api/v1/query?%s" % (pport, urllib.parse.urlencode({"query": expr}))
    with urllib.request.urlopen(url, timeout=5) as r:
        data = json.load(r)
    assert data["status"] == "success", data
    res = data["data"]["result"]
    return float(res[0]["value"][1]) if res else None


def query_ok(expr):
    """Prometheus accepts expr (a 400 means it does not parse)."""
    url = "http://127.0.0.1:%d/api/v1/query?%s" % (pport, urllib.parse.urlencode({"query": expr}))
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            return json.load(r)["status"] == "success"
    except urllib.error.HTTPError:
        return False


def wait_query(expr, want, timeout=30):
    """Wait until Prometheus has scraped expr == want."""
    try:
        return mwtest.wait_for(lambda: query(expr) == want, timeout=timeout,
                               interval=0.5, what="%s == %s" % (expr, want))
    except TimeoutError:
        raise AssertionError("%s is %s in Prometheus, want %s" % (expr, query(expr), want))


def smtp_ms(n, dom="spf.test", ip="192.0.2.7"):
    t0 = time.monotonic()
    r = send(pf, "alice@" + dom, ["bob@example.net"], MSG.format(n=n, dom=dom),
             client_ip=ip, helo="mx.spf.test")
    return r, (time.monotonic() - t0) * 1000


def check_promtool_before_mail():
    text = promtool_check()
    assert series(text, "mailwarden_config_generation") == 1, text[:500]


def check_counts_in_prometheus():
    start_prometheus()
    r, _ = smtp_ms(1, ip="203.0.113.5")
    assert r.code == 550, r
    for n in (2, 3):
        r, _ = smtp_ms(n)
        assert r.code == 250, r
    pf.wait_delivered(2)
    wait_query('up{job="mailwarden"}', 1)
    wait_query('mailwarden_build_info{openssl=~"OpenSSL .+",ldns!="",pcre2!="",'
               'libmilter!="",lmdb=~"[0-9]+[.][0-9]+[.][0-9]+",'
               'hiredis=~"[0-9]+[.][0-9]+[.][0-9]+"}', 1)
    wait_query('sum(mailwarden_messages_total{action="reject",scored="yes"})', 1)
    wait_query('sum(mailwarden_messages_total{action="accept"})', 2)
    wait_query('mailwarden_spf_results_total{result="fail"}', 1)
    wait_query('mailwarden_spf_results_total{result="pass"}', 2)
    wait_query('mailwarden_symbol_hits_total{symbol="SPF_FAIL"}', 1)
    wait_query("mailwarden_evaluation_seconds_count", 3)
    wait_query("mailwarden_verdict_log_lines_total", 3)
    # the configured zone's lookups and listings (192.0.2.7 twice)
    wait_query('mailwarden_dnsbl_lookups_total{list="dnsbl",zone="bl.test"}', 3)
    wait_query('mailwarden_dnsbl_listed_total{list="dnsbl",zone="bl.test"}', 2)
    wait_query('mailwarden_dnsbl_failures_total{list="dnsbl",zone="bl.test"}', 0)
    wait_query("mailwarden_dmarc_failure_reports_spooled_total", 0)
    wait_query("mailwarden_bayes_redis_errors_total", 0)
    wait_query("mailwarden_bayes_lmdb_map_size_bytes", 16 * 1024 * 1024)
    used = query("mailwarden_bayes_lmdb_used_bytes")
    assert used and 0 < used < 16 * 1024 * 1024, used
    # every query of the Grafana dashboard is valid PromQL with data here
    with open(os.path.join(mwtest.SRCDIR, "contrib", "prometheus", "grafana-dashboard.json")) as f:
        dash = json.load(f)
    for panel in dash["panels"]:
        for t in panel["targets"]:
            expr = t["expr"].replace("$instance", ".*").replace("$__rate_interval", "1m")
            assert query_ok(expr), (panel["title"], expr)
    # the alert rules loaded and evaluate (nothing fires on a healthy daemon)
    wait_query('count(ALERTS{alertstate="firing",job="mailwarden"})', None, timeout=5)
    promtool_check()


def status_line(out, label):
    """The counts of one line of `status`: {'accept': n, ...}."""
    for ln in out.splitlines():
        if ln.startswith(label + " "):
            w = ln.split(")", 1)[1].split()
            return {w[i]: int(w[i + 1]) for i in range(0, len(w) - 1, 2)}
    raise AssertionError("no %r line in:\n%s" % (label, out))


def check_status_healthy():
    r, _ = smtp_ms(4)
    assert r.code == 250, r
    r = status("-c", milter.conf)
    assert r.returncode == 0, r.stdout
    assert "status         ok" in r.stdout, r.stdout
    assert "reject 1" in r.stdout and "accept 3" in r.stdout, r.stdout
    # the last minute and hour without waiting (-w): the daemon counts
    # them; younger than an hour, it has all four messages in that one
    assert status_line(r.stdout, "last hour") == \
        {"accept": 3, "tag": 0, "reject": 1, "tempfail": 0}, r.stdout
    minute = status_line(r.stdout, "last minute")
    assert 1 <= minute["accept"] <= 3 and minute["reject"] <= 1, r.stdout
    r = status("-e", "inet:%d@127.0.0.1" % mwtest.free_port())
    assert r.returncode == 2 and "cannot connect" in r.stdout, r.stdout


def check_failed_reload():
    milter.write_raw_conf(open(milter.conf).read() + "no_such_key = 1\n")
    milter.signal(signal.SIGHUP)
    wait_query("mailwarden_config_last_reload_successful", 0)
    wait_query("mailwarden_config_reload_failures_total", 1)
    r = status("-e", ENDPOINT)
    assert r.returncode == 1 and "last reload failed" in r.stdout, r.stdout
    milter.write_conf()
    milter.signal(signal.SIGHUP)
    wait_query("mailwarden_config_last_reload_successful", 1)
    wait_query("mailwarden_config_generation", 2)


def check_hostile_http():
    base = [smtp_ms(10 + i)[1] for i in range(3)]
    big = b"GET /metrics HTTP/1.1\r\n" + b"X-Pad: " + b"a" * 10000 + b"\r\n\r\n"
    a = raw(big)
    assert a == "" or a.startswith("HTTP/1.1 431 "), a[:200]
    assert raw(b"POST /metrics HTTP/1.1\r\n\r\n").startswith("HTTP/1.1 405 ")
    assert raw(b"GET /../../etc/passwd HTTP/1.1\r\n\r\n").startswith("HTTP/1.1 404 ")
    assert raw(b"GET /metrics/../../etc/shadow HTTP/1.1\r\n\r\n").startswith("HTTP/1.1 404 ")
    # a crowd of idle clients and one slow one hold every slot
    crowd = [socket.create_connection(("127.0.0.1", mport)) for _ in range(40)]
    slow = socket.create_connection(("127.0.0.1", mport))
    slow.sendall(b"GET /met")
    t0 = time.monotonic()
    # they cannot lock a scrape out: the oldest idle ones make room
    assert series(scrape(), "mailwarden_config_generation") == 2
    during = [smtp_ms(20 + i)[1] for i in range(3)]
    # all cut off within the client deadline (5 s) plus a margin
    for s in crowd + [slow]:
        s.settimeout(15)
        try:
            s.recv(1)
        except ConnectionResetError:
            pass
        s.close()
    waited = time.monotonic() - t0
    assert waited < 12, "idle clients held for %.1fs" % waited
    assert series(scrape(), "mailwarden_messages_total{action=\"accept\",scored=\"yes\"}") >= 8
    print("  SMTP ms before: %s, with 41 hostile clients: %s" %
          (["%.0f" % x for x in base], ["%.0f" % x for x in during]))
    assert max(during) < max(base) * 3 + 200, (base, during)


def check_stats_line():
    mwtest.wait_for(lambda: "stats: " in milter.log_text(), what="stats line")
    lines = [ln for ln in milter.log_text().splitlines() if "stats: " in ln]
    assert any(" reject=1 " in ln for ln in lines), lines[-5:]


def wait_true(expr, timeout=30):
    """Wait until Prometheus's answer to a filtering expr is not empty."""
    try:
        return mwtest.wait_for(lambda: query(expr) is not None, timeout=timeout,
                               interval=0.5, what=expr)
    except TimeoutError:
        raise AssertionError("%s: nothing in Prometheus" % expr)


def check_dns_down():
    ns.stop()
    r, _ = smtp_ms(30, dom="late.spf.test")
    assert r.code == 250, r       # spf_temperror_action = accept
    text = scrape()
    failures = (series(text, "mailwarden_dns_timeouts_total") +
                series(text, "mailwarden_dns_servfails_total"))
    assert failures >= 1, text
    assert series(text, "mailwarden_dns_degraded_messages_total") >= 1
    # one failed message does not make DNS unhealthy ...
    assert series(text, "mailwarden_dns_healthy") == 1, text
    # ... a few do: 4 failures outnumber a quarter of any 16 messages
    # with the 10 good ones this test sent before
    for n in range(31, 34):
        r, _ = smtp_ms(n, dom="late%d.spf.test" % n)
        assert r.code == 250, r
    text = scrape()
    assert series(text, "mailwarden_dns_degraded_messages_total") >= 4
    assert series(text, "mailwarden_dns_healthy") == 0, text
    wait_query("mailwarden_dns_healthy", 0)
    # and Prometheus has stored the failures: the servers' silence (a
    # stopped nsd refuses at the port: counted as no answer) and the
    # degraded messages
    wait_true("mailwarden_dns_timeouts_total > 0")
    wait_true("mailwarden_dns_degraded_messages_total >= 4")
    r = status("-e", ENDPOINT)
    assert r.returncode == 1 and "DNS degraded" in r.stdout, r.stdout


def check_clean_exit():
    rc = milter.stop()
    assert rc == 0, "exit %s: %s" % (rc, milter.log_text()[-2000:])
    bad = [ln for ln in milter.log_text().splitlines()
           if "Sanitizer" in ln or "runtime error" in ln or "panic" in ln]
    assert not bad, bad
    try:
        raw(b"GET /metrics HTTP/1.0\r\n\r\n", timeout=2)
    except OSError:
        return
    raise AssertionError("the endpoint still answers after the daemon stopped")


try:
    R.check("promtool check metrics: no problems", check_promtool_before_mail)
    R.check("Prometheus scrapes counts by action and SPF result", check_counts_in_prometheus)
    R.check("mailwarden status: 0 healthy, 2 unreachable", check_status_healthy)
    R.check("SIGHUP with a broken file: failed reload, then generation 2", check_failed_reload)
    R.check("hostile HTTP answered or closed, mail keeps its pace", check_hostile_http)
    R.check("stats line in the log", check_stats_line)
    R.check("DNS server stopped: failures, degraded messages, status 1", check_dns_down)
    R.check("daemon exits 0 on SIGTERM, endpoint closed, log clean", check_clean_exit)
finally:
    if prom:
        prom.terminate()
        try:
            prom.wait(30)
        except subprocess.TimeoutExpired:
            prom.kill()
            prom.wait()
    pf.stop()
    milter.stop()
    ns.stop()
    if R.failed:
        print("--- prometheus log\n" + prom_log())
        print("--- postfix log\n" + pf.log_text()[-3000:])
        print("--- milter log\n" + milter.log_text()[-3000:])
    work.cleanup()
R.exit()
