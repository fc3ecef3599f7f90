"""Assertions for Python tests: `ok - ...` / `not ok - ...` lines, as the
runner (tests/run.sh) counts them."""
import os
import subprocess
import sys
import time


def testbed_env():
    """The running testbed's settings (`testbed.sh env`) as a dict: every
    address, name and file a test needs, never hard-coded."""
    tb = os.path.join(os.environ["DNSSECMON_TOP"], "tests/testbed/testbed.sh")
    out = subprocess.run([tb, "env"], capture_output=True, text=True,
                         check=True).stdout
    return {k: v.strip("'") for k, v in (
        line.split("=", 1) for line in out.split("\n") if "=" in line)}


def wait_for(predicate, timeout=60, interval=0.2, what=None, ignore=()):
    """Polls predicate() every `interval` seconds until it returns a true
    value, and returns that value: the way a test waits for an event, never
    a fixed sleep. `timeout` is a hang guard, not a speed limit: generous,
    since it costs nothing when the event comes. On expiry it prints
    `# timed out after N s waiting for WHAT (last: VALUE)` and returns the
    last (false) value, so the caller's assertion on it fails. Exceptions
    of the types in `ignore` (a server not listening yet) count as false."""
    end = time.monotonic() + timeout
    while True:
        try:
            v = predicate()
        except ignore as e:  # noqa: B030 (a tuple of exception types)
            v = None
            last_exc = e
        else:
            last_exc = None
        if v:
            return v
        if time.monotonic() >= end:
            break
        time.sleep(interval)
    print("# timed out after %g s waiting for %s (last: %r)"
          % (timeout, what or getattr(predicate, "__name__", "a condition"),
             last_exc if last_exc is not None else v))
    sys.stdout.flush()
    return v


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
