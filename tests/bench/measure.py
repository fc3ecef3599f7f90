#!/usr/bin/env python3
"""measure.py OUT -- CMD ARGS...: run CMD, then write its peak RSS and CPU times to OUT.

The peak RSS comes from wait4(2) on the child itself (ru_maxrss, KiB on Linux):
the kernel's high-water mark over the whole life of the process, read after it
exited, so nothing is missed between a last sample and exit. SIGINT and SIGTERM
are passed on to the child (by pid), which is then waited for. Exits with the
child's status.
"""
import os
import signal
import subprocess
import sys


def main():
    if len(sys.argv) < 4 or sys.argv[2] != "--":
        sys.exit("usage: measure.py OUT -- CMD ARGS...")
    out, cmd = sys.argv[1], sys.argv[3:]
    child = subprocess.Popen(cmd)

    def forward(sig, _frame):
        try:
            os.kill(child.pid, sig)
        except ProcessLookupError:
            pass

    signal.signal(signal.SIGINT, forward)
    signal.signal(signal.SIGTERM, forward)
    while True:
        try:
            _, status, ru = os.wait4(child.pid, 0)
            break
        except InterruptedError:
            continue
    child.returncode = os.waitstatus_to_exitcode(status)  # keep Popen from waiting again
    with open(out, "w") as f:
        f.write("maxrss_kb=%d\nutime=%.3f\nstime=%.3f\n" % (ru.ru_maxrss, ru.ru_utime, ru.ru_stime))
    rc = child.returncode
    sys.exit(rc if rc >= 0 else 128 - rc)


if __name__ == "__main__":
    main()
