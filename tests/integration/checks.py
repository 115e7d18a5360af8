"""checks.py - the ok/FAIL lines of the command-line tests.

check(name, cond, detail) prints "ok   name" or "FAIL name" with the
detail indented under it and remembers the failure; exit_status() prints
the count and returns the test's exit status for make.
"""

failures = []


def check(name, cond, detail=""):
    print(("ok   " if cond else "FAIL ") + name)
    if not cond:
        failures.append(name)
        if detail:
            print("     " + str(detail).replace("\n", "\n     ")[:3000])


def exit_status():
    print("%d failure(s)" % len(failures))
    return 1 if failures else 0
