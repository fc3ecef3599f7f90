#!/usr/bin/env python3
"""Fault: allocations that fail (issue 13, item 7), with the malloc-failure
shim tests/fault/faultmalloc.c preloaded into the real binary.

`dnssecmon check` of a testbed zone makes about a hundred allocations of
its own (the shim counts those whose caller is in the executable; the
libraries' own handling of a failed malloc is theirs: getdns 1.6.0 and
libunbound 1.17 crash on some). The check is run once failing each of
them in turn, then once failing every allocation from the first probe on.
Each run must:

  - end by itself (no crash: not killed by a signal; no spin or hang: it
    exits before the hang guard);
  - say so where the user looks: either a one-line error on stderr with
    exit 3 (UNKNOWN), or a result that names the monitor's own failure
    (the monitor_error problem, "out of memory") instead of passing a
    local failure off as a fact about the zone's servers;
  - under the sanitizer build, print no sanitizer report.

Then the daemon: every allocation of its own fails while a file exists
(FAULTMALLOC_WHILE), then memory returns. It logs the failure, tries again
on a timer rather than in a loop (ten failed allocations take at least a
second: the engine's start backoff is 200 ms; a spin makes thousands a
second), stays up, and once memory is back checks every domain again and
is ready; SIGTERM ends it cleanly.
"""
import re
import time
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.dirname(__file__))
from tap import Tap  # noqa: E402
import dash_common as dc  # noqa: E402

t = Tap()
env = dc.testbed_env()
ZONE = "healthy." + env["TESTBED_TLD"]
GUARD = 60
SHIM = os.environ.get("FAULTMALLOC_SO") or os.path.join(
    os.environ.get("DNSSECMON_UNIT_DIR") or
    os.path.join(os.path.dirname(dc.BIN), "tests"), "faultmalloc.so")
tmp = tempfile.mkdtemp(prefix="dnssecmon-fault-malloc-")
LOG = os.path.join(tmp, "shim.log")
ARGS = [dc.BIN, "check", "--trust-anchor", env["TESTBED_ANCHOR"],
        "--root-hints", env["TESTBED_HINTS"], "--resolver",
        env["TESTBED_RESOLVER"], "--timeout", "2", "--time-limit", "5", "--format", "json",
        ZONE]


def sanitizer(text):
    return [ln for ln in text.split("\n") if "Sanitizer" in ln or
            "runtime error:" in ln]


def run(**shim):
    """One check under the shim: (exit status or 'hang', stdout, stderr,
    the shim's log lines)."""
    if os.path.exists(LOG):
        os.unlink(LOG)
    e = dict(os.environ, LD_PRELOAD=SHIM, FAULTMALLOC_SCOPE="main",
             FAULTMALLOC_LOG=LOG,
             ASAN_OPTIONS=os.environ.get("ASAN_OPTIONS", "") +
             ":verify_asan_link_order=0")
    e.update({k: str(v) for k, v in shim.items()})
    try:
        p = subprocess.run(ARGS, env=e, capture_output=True, text=True,
                           timeout=GUARD)
        rc, out, err = p.returncode, p.stdout, p.stderr
    except subprocess.TimeoutExpired as x:
        rc = "hang"
        out = (x.stdout or b"").decode(errors="replace")
        err = (x.stderr or b"").decode(errors="replace")
    lines = []
    if os.path.exists(LOG):
        with open(LOG) as f:
            lines = f.read().split("\n")
    return rc, out, err, lines


def verdict(out):
    """What a result says of the zone: severity, state, validation and
    the problem codes; None when there is no result."""
    try:
        dom = json.loads(out)["domains"][0]
    except (ValueError, KeyError, IndexError, TypeError):
        return None
    return (dom.get("severity"), dom.get("rotation", {}).get("state"),
            dom.get("validation"),
            sorted(p["code"] for p in dom.get("problems", [])))


def says_oom(rc, out, err, baseline=None):
    """Is the outcome right? The verdict of a run without failure (the
    failure was absorbed: retried, backed off), or the monitor's own
    failure named where the user looks. (why, or None)"""
    if baseline is not None and rc == 0 and verdict(out) == baseline:
        return "the same verdict as without a failure"
    errl = [ln for ln in err.strip().split("\n") if ln]
    if rc == 3 and not out.strip():
        # A lost callback would end at the time limit: not named.
        if any("out of memory" in ln or "Cannot allocate memory" in ln
               for ln in errl) or (errl and errl[-1].startswith(
                   "dnssecmon check: ") and "time limit" not in errl[-1]):
            return "error: " + errl[-1]
        return None
    try:
        dom = json.loads(out)["domains"][0]
    except (ValueError, KeyError, IndexError):
        return None
    codes = [p["code"] for p in dom.get("problems", [])]
    if "monitor_error" in codes:
        return "result with monitor_error"
    return None


if not t.ok(os.path.exists(SHIM), "the shim is built: %s" % SHIM):
    sys.exit(t.done())

rc, out, err, lines = run()
count = int(next((ln.split()[1] for ln in lines if ln.startswith("count")),
                 "0"))
t.ok(rc == 0 and count > 10, "without a failure: exit 0, %d allocations "
     "of dnssecmon's own" % count, err[-500:])
baseline = verdict(out)
t.ok(baseline is not None, "without a failure: a verdict %s" % (baseline,))

bad = []
for n in range(1, count + 1):
    rc, out, err, lines = run(FAULTMALLOC_NTH=n)
    failed = any(ln.startswith("failed ") for ln in lines)
    why = says_oom(rc, out, err, baseline)
    problems = []
    if rc == "hang":
        problems.append("hung")
    elif rc < 0:
        problems.append("killed by signal %d" % -rc)
    if sanitizer(err):
        problems.append("sanitizer: %s" % sanitizer(err)[0])
    if failed and rc != "hang" and why is None and rc >= 0:
        problems.append("exit %s, %s, naming no failure" % (
            rc, verdict(out)))
    if problems:
        bad.append((n, problems, err.strip().split("\n")[-2:],
                    out[:300]))
t.ok(not bad, "each of the %d allocations failed in turn: no crash, no "
     "hang, the failure named (%d runs went wrong)" % (count, len(bad)))
for b in bad[:12]:
    t.diag("allocation %d: %s; stderr %r" % b[:3])

# Every allocation from some point on: memory does not come back. The
# engine backs off (200 ms) instead of spinning; the check ends, at the
# latest at its time limit, with an error that names the cause.
for n in (count // 4, count // 2, 3 * count // 4):
    rc, out, err, lines = run(FAULTMALLOC_NTH=n, FAULTMALLOC_PERSIST=1)
    t.ok(rc != "hang" and rc >= 0, "every allocation from the %dth on "
         "failing: the check ends by itself (%s)" % (n, rc))
    t.ok(says_oom(rc, out, err) is not None, "every allocation from the "
         "%dth on failing: the user is told" % n,
         (rc, err[-400:], out[:300]))
    t.ok(not sanitizer(err), "every allocation from the %dth on failing: "
         "no sanitizer report" % n, sanitizer(err)[:3])



def failures():
    if not os.path.exists(LOG):
        return []
    with open(LOG) as f:
        return [ln for ln in f.read().split("\n") if ln.startswith("failed")]


def checks_total(d):
    status, _, body = dc.request(d.port, "GET", "/metrics", timeout=10)
    m = re.search(r"^dnssecmon_checks_total (\d+)", body.decode(), re.M)
    return int(m.group(1)) if status == 200 and m else 0


nomem = os.path.join(tmp, "nomem")
zones = [ZONE, "rolldone." + env["TESTBED_TLD"]]
d = dc.Daemon(env, zones, interval="1s", prefix="fault-malloc")
try:
    if os.path.exists(LOG):
        os.unlink(LOG)
    d.start(wrapper=(
        "env", "LD_PRELOAD=" + SHIM, "FAULTMALLOC_SCOPE=main",
        "FAULTMALLOC_LOG=" + LOG, "FAULTMALLOC_WHILE=" + nomem,
        "ASAN_OPTIONS=%s:verify_asan_link_order=0" %
        os.environ.get("ASAN_OPTIONS", "")))
    t.ok(d.ready(), "daemon under the shim: ready")
    open(nomem, "w").close()
    t0 = time.monotonic()
    t.ok(dc.wait_for(lambda: len(failures()) >= 10 or d.proc.poll()
                     is not None, GUARD, what="10 failed allocations"),
         "memory off: the daemon keeps trying")
    took = time.monotonic() - t0
    t.ok(d.proc.poll() is None, "memory off: the daemon is still running")
    t.ok(took >= 1.0, "memory off: 10 failed allocations took %.1f s, "
         "not a tight loop" % took)
    os.unlink(nomem)
    n0 = dc.wait_for(lambda: checks_total(d), GUARD, what="/metrics")
    t.ok(dc.wait_for(lambda: checks_total(d) >= n0 + 2 * len(zones),
                     GUARD, what="checks after memory returned"),
         "memory back: every domain is checked again")
    t.ok(d.ready(), "memory back: ready")
    log = d.log_text()
    t.ok("out of memory" in log, "the log says the daemon ran out of "
         "memory", log[-800:])
    t.ok(not sanitizer(log), "no sanitizer report in the daemon's log",
         sanitizer(log)[:3])
    t.is_(d.stop(), 0, "SIGTERM: a clean exit")
finally:
    d.cleanup()

subprocess.run(["rm", "-rf", tmp])
sys.exit(t.done())
