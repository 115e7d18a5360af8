"""checks.py - the ok/FAIL lines of the command-line tests.

check(name, cond, detail) prints "ok   name" or "FAIL name" with the
detail indented under it and remembers the failure; exit_status() prints
the count and returns the test's exit status for make.  mailwarden()
finds the binary under test and the source tree, or skips the test.
"""

import os
import sys

failures = []


def mailwarden():
    """(binary, source tree): $MAILWARDEN or TOP_BUILDDIR/mailwarden, and
    $TOP_SRCDIR (both set by make check); exit 77 (SKIP) without the
    binary."""
    mw = os.environ.get("MAILWARDEN") or os.path.join(
        os.environ.get("TOP_BUILDDIR", "."), "mailwarden")
    if not os.access(mw, os.X_OK):
        print("SKIP: no mailwarden binary")
        sys.exit(77)
    return mw, os.environ.get("TOP_SRCDIR", ".")


def check(name, cond, detail=""):
    print(("ok   " if cond else "FAIL ") + name)
    if not cond:
        failures.append(name)
        if detail:
            print("     " + str(detail).replace("\n", "\n     ")[:3000])


def exit_status():
    print("%d failure(s)" % len(failures))
    return 1 if failures else 0
