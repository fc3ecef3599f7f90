#!/usr/bin/env python3
"""A zone whose every name server takes questions and never answers (both
dnshost servers stopped with SIGSTOP: bound, silent, TCP handshakes
completed by the kernel), checked beside a zone served elsewhere
(cohosted, on the TLD servers). libunbound's own iterator retries silent
servers with timeouts and backoff of its own; the engine's guard on each
libunbound question ends the validation instead, and the check reports
that as validation_timeout, not as a verdict. The other zone of the same
round still gets its verdict. No time bound is asserted: the outcome
codes and the round's end are."""
import json
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from tap import Tap, testbed_env  # noqa: E402

t = Tap()
BIN = os.environ["DNSSECMON_BIN"]
TOP = os.environ["DNSSECMON_TOP"]
TB = os.path.join(TOP, "tests/testbed/testbed.sh")
env = testbed_env()
TLD = env["TESTBED_TLD"]
SILENT = "healthy." + TLD        # on servers a and b only
OTHER = "cohosted." + TLD        # on the TLD servers
tmp = tempfile.mkdtemp(prefix="dnssecmon-guard-")


def tb(*args):
    return subprocess.run([TB, *args], capture_output=True, text=True, timeout=120)


def codes(d):
    return [p["code"] for p in d.get("problems", [])]


def by_name(doc):
    return {d["domain"]: d for d in doc.get("domains", [])}


def start(argv):
    return subprocess.Popen(argv, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def finish(proc):
    """The ended process's outcome; a returncode of None if it hung."""
    # timeout=300: a hang guard only; the engine's guard must end it.
    try:
        out, err = proc.communicate(timeout=300)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        return subprocess.CompletedProcess(proc.args, None, "", "")
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def check(fmt):
    # --timeout 0.5 --retries 1: our own questions give up after 0.5 + 1 s;
    # the guard on libunbound's is never under 10 s (probe/engine.c).
    return start(
        [BIN, "check", "--trust-anchor", env["TESTBED_ANCHOR"], "--root-hints",
         env["TESTBED_HINTS"], "--resolver", env["TESTBED_RESOLVER"], "--timeout",
         "0.5", "--retries", "1", "--format", fmt, SILENT, OTHER])


paused = []
running = []    # processes started, killed by the finally if still there
try:
    for srv in ("a", "b"):
        r = tb("pause", srv)
        t.is_(r.returncode, 0, "testbed: server %s paused" % srv)
        if r.returncode == 0:
            paused.append(srv)

    # The two checks and the daemon's round each wait out the guard (10 s)
    # on the silent zone, and share nothing but the paused servers and
    # the testbed resolver: they run at once.
    db = os.path.join(tmp, "db.sqlite")
    conf = os.path.join(tmp, "dnssecmon.yaml")
    with open(conf, "w") as f:
        f.write("trust_anchor: %s\nroot_hints: %s\nresolvers: [%s]\ndatabase: %s\n"
                "interval: 1h\ntimeout: 1s\nretries: 1\ndomains:\n  - %s\n  - %s\n"
                % (env["TESTBED_ANCHOR"], env["TESTBED_HINTS"], env["TESTBED_RESOLVER"],
                   db, SILENT, OTHER))
    running += [check("json"), check("text"),
                start([BIN, "run", "-c", conf, "--once"])]
    json_p, text_p, once_p = [finish(x) for x in running]

    # 1. check, JSON: the silent zone's validation ends with a timeout outcome.
    p = json_p
    t.ok(p.returncode is not None, "check: ends by itself")
    doc = by_name(json.loads(p.stdout)) if p.stdout else {}
    d = doc.get(SILENT, {})
    t.ok("validation_timeout" in codes(d), "silent zone: validation_timeout reported",
         codes(d))
    t.is_(d.get("validation"), "indeterminate", "silent zone: no verdict made up")
    t.ok("validation_bogus" not in codes(d), "silent zone: not called bogus")
    t.ok(re.search(r"no verdict within 10\.0 s", d.get("validation_reason") or ""),
         "silent zone: the reason names the guard", d.get("validation_reason"))
    prob = [x for x in d.get("problems", []) if x["code"] == "validation_timeout"]
    t.is_(prob[0]["severity"] if prob else None, "warning",
          "silent zone: a warning, since its servers do not answer us either")
    t.ok(prob and env["TESTBED_NS_A"] in prob[0]["message"]
         and env["TESTBED_NS_B"] in prob[0]["message"],
         "silent zone: the message names the silent servers",
         prob[0]["message"] if prob else None)
    t.ok("no_server_answers" in codes(d), "silent zone: no_server_answers from our own questions")
    o = doc.get(OTHER, {})
    t.is_(o.get("validation"), "secure", "other zone, same run: validated secure")
    t.ok("validation_timeout" not in codes(o), "other zone: no timeout")

    # 2. check, text: the code and the reason are there for a human too.
    p = text_p
    t.ok("validation_timeout" in p.stdout and "no verdict within 10.0 s" in p.stdout,
         "check text: validation_timeout and its reason", p.stdout[-600:])

    # 3. The daemon's round: both domains get their check, the round ends,
    #    and its line counts the validation the guard cut short.
    p = once_p
    t.ok(p.returncode == 0, "run --once: the round completes", p.stderr[-400:])
    m = re.search(r"round: (\d+) checks in .* (\d+) validations cut short", p.stderr)
    t.ok(m and m.group(1) == "2", "run --once: both domains checked", m and m.group(0))
    t.ok(m and int(m.group(2)) >= 1, "run --once: the guard cut a validation short",
         m and m.group(0))

    def last(domain):
        h = subprocess.run([BIN, "history", domain, "--db", db, "--format", "json"],
                           capture_output=True, text=True, timeout=60)
        obs = json.loads(h.stdout)["observations"] if h.returncode == 0 else []
        return obs[0] if obs else {}
    t.ok("validation_timeout" in codes(last(SILENT)), "history: validation_timeout stored")
    t.is_(last(OTHER).get("validation"), "secure", "history: the other zone validated")
finally:
    for x in running:
        if x.poll() is None:
            x.kill()
            x.wait()
    for srv in paused:
        tb("resume", srv)

sys.exit(t.done())
