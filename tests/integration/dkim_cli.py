#!/usr/bin/env python3
"""`mailwarden dkim keygen|sign|verify` and DKIM in `mailwarden scan`.

Keys and messages are made here; keys are served to the verifier from a
zone file (dns_zone_files), so no network is needed.  Checks the exit
statuses, the reasons printed, key file handling (mode 0600, no
overwrite, group-readable keys refused without printing key material)
and that `scan` of trusted mail shows the DKIM-Signature edit.
"""

import os
import pwd
import re
import shutil
import subprocess
import sys
import tempfile

from checks import mailwarden

MW, _ = mailwarden()

work = tempfile.mkdtemp(prefix="mw-dkim-cli-")
os.chmod(work, 0o700)
T = 1700000000
failures = []
passed = 0


def path(n):
    return os.path.join(work, n)


def mw(*args):
    r = subprocess.run([MW] + list(args), stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE)
    return r.returncode, r.stdout.decode(), r.stderr.decode()


def check(name, cond, detail=""):
    global passed
    if cond:
        passed += 1
        print("ok   " + name)
    else:
        failures.append(name)
        print("FAIL " + name + (": " + detail if detail else ""))


# no command reads the host's configuration: -c with explicit paths
HERMETIC = "rules_dir =\nrules_site_dir =\nscope_dir =\n"
with open(path("keygen.conf"), "w") as f:
    # keys made as root go to user: the one running the test keeps them
    f.write(HERMETIC + "user = %s\n" % pwd.getpwuid(os.geteuid()).pw_name)


def keygen(*args):
    return mw("dkim", "keygen", "-c", path("keygen.conf"), *args)


# keygen
rc, out, err = keygen("--type", "ed25519", "--domain", "example.org",
                      "--selector", "ed", "--out", path("ed.key"))
check("keygen ed25519 succeeds", rc == 0, err)
check("keygen prints the record", re.search(
    r'^ed\._domainkey\.example\.org\. IN TXT \( "v=DKIM1; k=ed25519; p=[A-Za-z0-9+/]{43}=" \)$',
    out.strip()) is not None, out)
check("key file is mode 0600", os.stat(path("ed.key")).st_mode & 0o777 == 0o600)
ed_record = "".join(re.findall(r'"([^"]*)"', out))
with open(path("ed.key"), "rb") as f:
    before = f.read()
rc, out, err = keygen("--type", "ed25519", "--domain", "example.org",
                      "--selector", "ed", "--out", path("ed.key"))
with open(path("ed.key"), "rb") as f:
    check("keygen never overwrites a key", rc != 0 and f.read() == before, err)
rc, out, err = keygen("--type", "rsa", "--bits", "2048", "--domain",
                      "example.org", "--selector", "rsa", "--out", path("rsa.key"))
rsa_record = "".join(re.findall(r'"([^"]*)"', out))
check("keygen rsa 2048 succeeds", rc == 0 and len(rsa_record) > 380, err)
rc, out, err = keygen("--type", "rsa", "--bits", "512", "--domain",
                      "example.org", "--selector", "x", "--out", path("small.key"))
check("keygen refuses 512-bit RSA", rc == 2 and not os.path.exists(path("small.key")))
rc, out, err = keygen("--domain", "example.org", "--selector", "a/b",
                      "--out", path("x.key"))
check("keygen refuses a bad selector", rc == 2, err)

with open(path("keys.zone"), "w") as f:
    for name, txt in (("ed", ed_record), ("rsa", rsa_record)):
        f.write("%s._domainkey.example.org. 300 IN TXT %s\n" % (name, " ".join(
            '"%s"' % txt[i:i + 250] for i in range(0, len(txt), 250))))
with open(path("mw.conf"), "w") as f:
    f.write(HERMETIC + "dns_zone_files = %s\ndkim_sign_domains = example.org:ed:%s "
            "example.org:rsa:%s\ndkim_sign_expire = 3600\n"
            "trusted_networks = 10.0.0.0/8\n" % (
                path("keys.zone"), path("ed.key"), path("rsa.key")))
with open(path("msg.eml"), "wb") as f:
    f.write(b"From: Alice <alice@example.org>\r\nTo: bob@example.net\r\n"
            b"Subject: hello\r\nDate: Tue, 14 Nov 2023 22:13:20 +0000\r\n\r\n"
            b"Hello Bob.\r\n")

# sign with the configured keys (dual), verify
rc, out, err = mw("dkim", "sign", "-c", path("mw.conf"), "--time", str(T),
                  path("msg.eml"))
check("sign with configured keys", rc == 0 and out.count("DKIM-Signature: ") == 2,
      err)
check("signatures carry x= from dkim_sign_expire", "x=%d;" % (T + 3600) in out,
      out[:400])
with open(path("signed.eml"), "w", newline="") as f:
    f.write(out)
rc, out, err = mw("dkim", "verify", "-c", path("mw.conf"), "--time",
                  str(T + 60), path("signed.eml"))
check("verify: both pass, exit 0", rc == 0 and out.count(
    ": pass (good signature)") == 2, out + err)
check("verify names domain, selector, algorithm, key size",
      "d=example.org s=rsa a=rsa-sha256 key=2048 bits: pass" in out, out)
rc, out, err = mw("dkim", "verify", "-c", path("mw.conf"), "--time",
                  str(T + 7200), path("signed.eml"))
check("verify after x=: permerror expired, exit 1", rc == 1 and out.count(
    "permerror (signature expired (x=))") == 2, out)

# tampered body, no signature, unreadable file
with open(path("signed.eml"), newline="") as f:
    text = f.read()
with open(path("tampered.eml"), "w", newline="") as f:
    f.write(text.replace("Hello Bob.", "Hello Bob, send money."))
rc, out, err = mw("dkim", "verify", "-c", path("mw.conf"), "--time",
                  str(T + 60), path("tampered.eml"))
check("verify tampered: fail (body hash), exit 1", rc == 1 and out.count(
    "fail (body hash did not verify)") == 2, out)
rc, out, err = mw("dkim", "verify", "-c", path("mw.conf"), path("msg.eml"))
check("verify unsigned: 'no DKIM-Signature', exit 1",
      rc == 1 and "no DKIM-Signature" in out, out)
rc, out, err = mw("dkim", "verify", "-c", path("mw.conf"), path("nope.eml"))
check("verify unreadable file: exit 2", rc == 2 and "nope.eml" in err, err)

# key file secrecy: refused, and nothing of the key is printed
os.chmod(path("ed.key"), 0o640)
with open(path("ed.key")) as f:
    key_text = f.read()
rc, out, err = mw("dkim", "sign", "-c", path("keygen.conf"),
                  "-k", "example.org:ed:" + path("ed.key"), path("msg.eml"))
body = "".join(l for l in key_text.splitlines() if not l.startswith("-----"))
check("sign refuses a group-readable key", rc == 2 and
      "must not be accessible by group or others" in err, err)
check("the refusal prints no key material", body not in err + out and
      "PRIVATE" not in err + out)
rc, out, err = mw("config", "-n", "-c", path("mw.conf"))
check("config -n refuses the configuration too", rc != 0 and
      "dkim_sign_domains" in out + err, out + err)
os.chmod(path("ed.key"), 0o600)

# scan: trusted mail gets the DKIM-Signature edits, other mail a result
rc, out, err = mw("scan", "-c", path("mw.conf"), "--ip", "10.1.2.3",
                  "--from", "alice@example.org", path("msg.eml"))
check("scan of trusted mail shows two DKIM-Signature edits",
      rc == 0 and out.count("prepend DKIM-Signature: v=1;") == 2 and
      "DKIM_SIGNED" in out, out)
rc, out, err = mw("dkim", "sign", "-c", path("mw.conf"), path("msg.eml"))
with open(path("signed-now.eml"), "w", newline="") as f:
    f.write(out)           # scan uses the real clock: sign with it
rc, out, err = mw("scan", "-c", path("mw.conf"), "--ip", "192.0.2.1",
                  "--from", "alice@example.org", path("signed-now.eml"))
check("scan of the signed message: dkim=pass, DKIM_VALID_AUTHOR",
      rc == 0 and "dkim=pass" in out and "DKIM_VALID_AUTHOR" in out, out)

shutil.rmtree(work, ignore_errors=True)
print("%d passed, %d failed" % (passed, len(failures)))
sys.exit(1 if failures else 0)
