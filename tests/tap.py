"""Assertions for Python tests: `ok - ...` / `not ok - ...` lines, as the
runner (tests/run.sh) counts them."""
import os
import subprocess
import sys


def testbed_env():
    """The running testbed's settings (`testbed.sh env`) as a dict: every
    address, name and file a test needs, never hard-coded."""
    tb = os.path.join(os.environ["DNSSECMON_TOP"], "tests/testbed/testbed.sh")
    out = subprocess.run([tb, "env"], capture_output=True, text=True,
                         check=True).stdout
    return {k: v.strip("'") for k, v in (
        line.split("=", 1) for line in out.split("\n") if "=" in line)}


class Tap:
    def __init__(self):
        self.failed = 0
        self.count = 0

    def ok(self, cond, desc, diag=None):
        self.count += 1
        if cond:
            print("ok - %s" % desc)
        else:
            self.failed += 1
            print("not ok - %s" % desc)
            if diag:
                self.diag(diag)
        sys.stdout.flush()
        return cond

    def is_(self, got, want, desc):
        return self.ok(got == want, desc, "got:  %r\n  want: %r" % (got, want))

    def diag(self, msg):
        for line in str(msg).split("\n"):
            print("# %s" % line)

    def done(self):
        if self.count == 0:
            print("not ok - the test made no assertion")
            return 1
        return 1 if self.failed else 0
