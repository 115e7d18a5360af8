#!/usr/bin/env python3
"""Sample store and replay end to end (issue 18).

A real Postfix with mailwarden as its milter (sample_dir set, every
message sampled), nsd serving SPF and DMARC records and a DNS blocklist;
a few hundred messages go in over SMTP from varied clients, senders and
contents (marker words that site rules score, a hostile header and a
body that imitates the sample format).  Then nsd is stopped, and:

- the store: one sample per verdict log line, directory 0700 owned by
  the milter's user, files 0600;
- replay with the configuration that wrote the store reproduces every
  stored verdict: zero action changes, zero symbol changes, zero
  unrecorded lookups (DNS from the recording: nsd is down);
- replay with one rule's score raised changes exactly the messages
  carrying its word (and the report names the symbol);
- replay with a DNS list the store never asked reports every one of its
  lookups as unrecorded and lists none of its symbols (never guessed);
- `log label` marks every sample spam or ham by queue id, `rules fit
  SAMPLEDIR` fits scores to them (the one fitting implementation), and
  `log whatif` with the fitted file reports what it would change;
- sample_max_count, applied on reload, trims the store oldest first.
"""

import json
import re
import os
import signal
import stat
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dnsserver  # noqa: E402
import mwtest  # noqa: E402
from mwtest import read_log, send  # noqa: E402

mwtest.skip_unless_root_with_postfix()
dnsserver.skip_unless_nsd()

N = 240
ZONES = {
    "good.test": """
@       TXT   "v=spf1 ip4:192.0.2.0/24 -all"
_dmarc  TXT   "v=DMARC1; p=none"
""",
    "strict.test": """
@       TXT   "v=spf1 ip4:192.0.2.0/24 -all"
_dmarc  TXT   "v=DMARC1; p=reject"
""",
    "bl.test": "".join("%d.113.0.203 IN A 127.0.0.2\n" % i for i in range(0, 20)),
}
RULES = """body T_RP_WORD /\\breplayword\\b/
score T_RP_WORD 2.0
body T_RP_SPAM /\\breplayspam\\b/
score T_RP_SPAM 16.0
"""
MSG = """From: Sender {n} <s{n}@{dom}>
To: Bob <bob@example.net>
Subject: replay {n} {words}
Message-ID: <rp-{n}@{dom}>
X-Odd: 100% {odd}

Hello Bob,
note {n}. {words}
{tail}
"""


def message(n):
    words = ["", "replayword", "replayspam", "replayword replayword"][n % 4]
    dom = ["good.test", "strict.test", "nowhere.test"][n % 3]
    ip = ("192.0.2.%d" if n % 2 else "203.0.113.%d") % (n % 40)
    odd = "caf\u00e9 \u202e %0A%00" if n % 7 == 0 else "plain"
    tail = "\nend\nbody 3\nmailwarden-sample 1\n" if n % 5 == 0 else "Alice"
    return dom, ip, MSG.format(n=n, dom=dom, words=words, odd=odd, tail=tail)


ns = dnsserver.NSD(ZONES).start()
work = mwtest.Workdir(prefix="mw-replay-it-")
run = work.sub("run", owner="postfix")
logdir = work.sub("log", owner="postfix")
site = work.sub("rules")
with open(os.path.join(site, "50_replay.cf"), "w") as f:
    f.write(RULES)
store_parent = work.sub("store", owner="postfix")
store = os.path.join(store_parent, "samples")
vlog = os.path.join(logdir, "verdicts.log")
SETTINGS = {
    "socket": "unix:%s/mw.sock" % run,
    "user": "postfix",
    "authserv_id": "mx.mailwarden.test",
    "log_file": vlog,
    "pid_file": "",
    "rules_dir": mwtest.shipped_rules(work),
    "rules_site_dir": site,
    "dns_servers": ns.addr,
    "dns_timeout": "1000",
    "dns_retries": "1",
    "dns_message_timeout": "5000",
    "dnsbl": "bl.test/127.0.0.2=RBL_RP_TEST:6",
    "bayes_store": "",
    "trust_authenticated": "no",
    "sample_dir": store,
    "sample": "100%",
}
milter = mwtest.Milter(work, SETTINGS).start()
pf = mwtest.Postfix(work, milter.postfix_spec()).start()
R = mwtest.Results()


def conf_with(name, extra):
    """A replay configuration: the milter's, changed by extra."""
    s = dict(SETTINGS)
    s.update(extra)
    path = os.path.join(work.path, name + ".conf")
    with open(path, "w") as f:
        for k, v in s.items():
            f.write("%s = %s\n" % (k, v))
    return path


def samples():
    return sorted(n for n in os.listdir(store) if n.endswith(".mws"))


def replay(conf, *args):
    p = subprocess.run([mwtest.MAILWARDEN, "replay", "-c", conf, "--json", *args, store],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       universal_newlines=True, timeout=600)
    assert p.returncode == 0, p.stderr[-2000:]
    return json.loads(p.stdout)


codes = {}


def check_send():
    for n in range(N):
        dom, ip, text = message(n)
        r = send(pf, "s%d@%s" % (n, dom), ["bob@example.net"], text,
                 client_ip=ip, helo="mail.client.test")
        assert r.code in (250, 550, 451), r
        codes[r.code] = codes.get(r.code, 0) + 1
    mwtest.wait_for(lambda: len(read_log(vlog)) == N, timeout=60,
                    what="%d verdict lines" % N)
    mwtest.wait_for(lambda: len(samples()) == N, timeout=60,
                    what="%d samples (have %d)" % (N, len(samples())))
    actions = [v["action"] for v in read_log(vlog)]
    for a in ("accept", "tag", "reject"):
        assert actions.count(a) >= 10, (a, actions.count(a))
    assert codes.get(550, 0) >= 10, codes


def check_permissions():
    st = os.stat(store)
    assert stat.S_IMODE(st.st_mode) == 0o700, oct(st.st_mode)
    assert st.st_uid == mwtest.pwd.getpwnam("postfix").pw_uid
    for n in samples():
        m = stat.S_IMODE(os.stat(os.path.join(store, n)).st_mode)
        assert m == 0o600, (n, oct(m))


def check_same_config():
    ns.stop()                  # replay must not need the DNS server
    doc = replay(milter.conf)
    assert doc["messages"] == N, doc["messages"]
    assert doc["changed"] == 0, doc["changed_messages"][:5]
    assert doc["symbols"] == [], doc["symbols"][:5]
    assert doc["notes"] == [], doc["notes"][:5]


def check_changed_score():
    conf = conf_with("raised", {"symbol_scores": "T_RP_WORD=20"})
    doc = replay(conf)
    logged = read_log(vlog)
    want = [v["queue_id"] for v in logged
            if "replayword" in (v.get("subject") or "") and v["action"] != "reject"]
    assert len(want) >= N // 4, len(want)
    got = sorted(c["queue_id"] for c in doc["changed_messages"])
    assert got == sorted(want), (len(got), len(want))
    assert all(c["new_action"] == "reject" for c in doc["changed_messages"])
    syms = {s["name"]: s for s in doc["symbols"]}
    assert list(syms) == ["T_RP_WORD"], list(syms)
    assert syms["T_RP_WORD"]["moved_up"] == len(want), syms


def check_unrecorded():
    conf = conf_with("newlist", {"dnsbl": "bl.test/127.0.0.2=RBL_RP_TEST:6 "
                                 "other.test/127.0.0.2=RBL_RP_NEW:6"})
    doc = replay(conf)
    unrec = [n for n in doc["notes"] if "unrecorded lookup" in n]
    assert len(unrec) == N, (len(unrec), unrec[:3])
    assert all(".other.test/A" in n for n in unrec), unrec[:3]
    assert "RBL_RP_NEW" not in json.dumps(doc["symbols"]), doc["symbols"]


def mw(*args):
    return subprocess.run([mwtest.MAILWARDEN, *args], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, universal_newlines=True,
                          timeout=300)


def check_train_labels():
    spam = [v["queue_id"] for v in read_log(vlog)
            if "replayspam" in (v.get("subject") or "")][:3]
    files = [os.path.join(store, n) for n in samples()
             if any("-%s-" % q in n for q in spam)]
    assert len(files) == 3, files
    bstore = os.path.join(work.path, "bayes")
    p = mw("train", "-c", milter.conf, "--store", bstore, "--spam", "-q", *files)
    assert p.returncode == 0, p.stderr
    for f in files:
        with open(f + ".label") as lf:
            assert lf.read() == "spam\n", f
    p = mw("bayes", "stats", "-c", milter.conf, "--store", bstore)
    assert p.returncode == 0 and re.search(r"^messages +3 spam, 0 ham", p.stdout, re.M), \
        p.stdout + p.stderr


def check_label_fit_whatif():
    labelled = {"spam": 0, "ham": 0}
    for v in read_log(vlog):
        lab = "spam" if "replayspam" in (v.get("subject") or "") else "ham"
        p = mw("log", "label", "-c", milter.conf, v["queue_id"], lab)
        assert p.returncode == 0, p.stderr
        labelled[lab] += 1
    labels = [n for n in os.listdir(store) if n.endswith(".mws.label")]
    assert len(labels) == N, len(labels)
    m = stat.S_IMODE(os.stat(os.path.join(store, labels[0])).st_mode)
    assert m == 0o600, oct(m)
    p = mw("log", "label", "-c", milter.conf, "NOSUCHQUEUEID", "ham")
    assert p.returncode == 1 and "no sample" in p.stderr, (p.returncode, p.stderr)
    fitted_dir = work.sub("fitted")
    with open(os.path.join(fitted_dir, "50_replay.cf"), "w") as f:
        f.write(RULES)
    out = os.path.join(fitted_dir, "99_fitted.cf")
    p = mw("rules", "fit", "-c", milter.conf, store, "--no-bayes", "-o", out)
    assert p.returncode == 0, p.stderr
    text = open(out).read()
    assert "(%d ham, %d spam labelled samples)" % (labelled["ham"], labelled["spam"]) \
        in text, text[:600]
    spam_score = [float(l.split()[2]) for l in text.splitlines()
                  if l.startswith("score T_RP_SPAM ")]
    assert spam_score and spam_score[0] > 0, text
    conf = conf_with("fitted", {"rules_site_dir": fitted_dir})
    p = mw("log", "whatif", "-c", conf, "--json", vlog)
    assert p.returncode == 0, p.stderr
    doc = json.loads(p.stdout)
    assert doc["messages"] == N and doc["symbols"], doc["symbols"][:3]


def check_count_cap():
    milter.write_conf({"sample_max_count": "50"})
    n = milter.log_text().count("configuration reloaded")
    milter.signal(signal.SIGHUP)
    # the reload is built in the background (under ASan, with the
    # Hyperscan compile, it can take several seconds): the message below
    # must meet the new generation
    mwtest.wait_for(lambda: milter.log_text().count("configuration reloaded")
                    > n, timeout=60, what="the reload")
    dom, ip, text = message(1)
    r = send(pf, "s1@%s" % dom, ["bob@example.net"], text, client_ip=ip,
             helo="mail.client.test")
    assert r.code in (250, 451, 550), r
    mwtest.wait_for(lambda: len(samples()) == 50, timeout=30,
                    what="50 samples (have %d)" % len(samples()))
    newest = max(samples(), key=lambda n: os.stat(os.path.join(store, n)).st_mtime)
    assert r.queue_id is None or r.queue_id in newest, (r.queue_id, newest)


try:
    R.check("%d messages through Postfix, one sample per verdict" % N, check_send)
    R.check("store 0700, samples 0600, owned by the milter user", check_permissions)
    R.check("replay, same configuration, nsd down: every verdict reproduced",
            check_same_config)
    R.check("replay, one score raised: exactly its messages change", check_changed_score)
    R.check("replay, a new DNS list: its lookups reported unrecorded", check_unrecorded)
    R.check("train --spam on samples learns them and labels them spam",
            check_train_labels)
    R.check("log label, rules fit SAMPLEDIR, log whatif with the fitted file",
            check_label_fit_whatif)
    R.check("sample_max_count on reload trims oldest first", check_count_cap)
finally:
    pf.stop()
    milter.stop()
    ns.stop()
    if R.failed:
        print("--- postfix log\n" + pf.log_text()[-3000:])
        print("--- milter log\n" + milter.log_text()[-3000:])
    work.cleanup()
R.exit()
