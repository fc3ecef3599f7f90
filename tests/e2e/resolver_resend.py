#!/usr/bin/env python3
"""A validating resolver behind a lossy path: the resolver question's
re-send, and the engine ending while re-sends wait.

getdns 1.6.0 in stub mode does not ask again when a UDP question goes
unanswered: the engine re-sends it itself, `retries` times. It used to
do so by calling getdns_general() from inside getdns's own timeout
callback, while getdns was still tearing down the request that timed
out; now the re-send runs from a timer of the question's own (1 to 50
ms later), which the engine's end (`check -t`, SIGHUP with new probe
settings, SIGTERM) must free with the question.

tests/e2e/dnsrelay.py runs on TESTBED_HOSTILE, port 53, relaying UDP to
the testbed's validating unbound (TESTBED_RESOLVER) and losing the first
N questions for each name (--drop-first N); it logs every question in
arrival order, so the test counts what the check sent.

What the user must see:
- one or two lost questions, with `retries` to spare: the resolver's own
  answer (NOERROR, AD), no resolver_unreachable, validation secure; and
  exactly one question more than were lost;
- more lost than `retries` allows: a timeout and resolver_unreachable,
  after exactly 1 + `retries` questions (0 retries: no re-send);
- the guard ending a question whose re-send is armed: nothing more is
  asked, and the question is freed with its timer;
- a check cut short by -t, or a daemon reloaded and stopped, while
  questions to a resolver that answers nothing are timing out and being
  re-sent: a clean end, no sanitizer report (the ASan build turns a leak
  into a non-zero exit), and under valgrind no memory error and nothing
  definitely lost.
"""
import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from tap import Tap, testbed_env, wait_for  # noqa: E402

t = Tap()
env = testbed_env()
BIN = os.environ["DNSSECMON_BIN"]
TOP = os.environ["DNSSECMON_TOP"]
SAN = os.environ.get("DNSSECMON_VARIANT", "").endswith("-san")
RELAY_ADDR = env["TESTBED_HOSTILE"]
UPSTREAM = env["TESTBED_RESOLVER"]
TLD = env["TESTBED_TLD"]
GUARD = 300
# Scenario zones that validate secure (tests/testbed/README.md).
SECURE = ["%s.%s" % (z, TLD) for z in ("healthy", "rollstart", "dsupdated",
                                       "zskroll")]
# Sanitizer reports and libevent's own warnings.
WARN = re.compile(r"ERROR: \w+Sanitizer|runtime error:|^\[(warn|err)\]",
                  re.M)
tmp = tempfile.mkdtemp(prefix="dnssecmon-resend-")


class Relay:
    """dnsrelay.py on RELAY_ADDR:53, a fresh log per start."""

    def __init__(self):
        self.proc = None
        self.n = 0
        self.log = None

    def start(self, drop_first):
        self.stop()
        self.n += 1
        self.log = os.path.join(tmp, "relay%d.log" % self.n)
        open(self.log, "w").close()
        self.proc = subprocess.Popen(
            [sys.executable, os.path.join(TOP, "tests/e2e/dnsrelay.py"),
             RELAY_ADDR, UPSTREAM, "--drop-first", str(drop_first),
             "--log", self.log], stdout=subprocess.PIPE, text=True)
        return self.proc.stdout.readline().strip() == "ready"

    def lines(self):
        with open(self.log) as f:
            return [ln.split() for ln in f.read().split("\n") if ln]

    def sync(self):
        """Every question sent before now is in the log: the relay logs
        in arrival order, so once a marker sent now is there, so is
        everything before it."""
        name = "sync%d.invalid" % self.n
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        q = struct.pack("!HHHHHH", 4242, 0x0100, 1, 0, 0, 0)
        for label in name.split("."):
            q += bytes([len(label)]) + label.encode()
        q += b"\0" + struct.pack("!HH", 6, 1)
        s.sendto(q, (RELAY_ADDR, 53))
        s.close()
        return wait_for(lambda: [name, "6"] in [ln[1:] for ln in self.lines()],
                        30, 0.1, "the relay to log its marker")

    def asked(self, name):
        """What became of each SOA question for name, in order."""
        return [ln[0] for ln in self.lines() if ln[1:] == [name, "6"]]

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=30)
        self.proc = None


def check(names, timeout, retries, extra=(), wrap=()):
    return subprocess.run([*wrap, BIN, "check", "--trust-anchor",
                           env["TESTBED_ANCHOR"], "--root-hints",
                           env["TESTBED_HINTS"], "--resolver", RELAY_ADDR,
                           "--timeout", timeout, "--retries", str(retries),
                           "--format", "json", *extra, *names],
                          capture_output=True, text=True, timeout=GUARD)


def domains(p):
    try:
        return {d["domain"]: d for d in json.loads(p.stdout)["domains"]}
    except (ValueError, KeyError, TypeError):
        return {}


def resolver(d):
    rs = d.get("resolvers") or [{}]
    return rs[0]


def codes(d):
    return {p["code"] for p in d.get("problems", [])}


def is_(got, want, desc, more=""):
    """t.is_, with more to show when it fails."""
    if not t.is_(got, want, desc) and more:
        t.diag(more)


def warnings(text):
    return [ln for ln in text.split("\n") if WARN.search(ln)]


def answered(label, p, names, lost):
    """The check got the resolver's own answer for every name, after
    `lost` lost questions and exactly one more."""
    doms = domains(p)
    t.is_(warnings(p.stderr), [], "%s: no sanitizer report or libevent "
          "warning" % label)
    is_(sorted(doms), sorted(names), "%s: every domain reported" % label,
        p.stderr[-2000:])
    got = {n: (resolver(doms.get(n, {})).get("status"),
               resolver(doms.get(n, {})).get("rcode"),
               resolver(doms.get(n, {})).get("ad")) for n in names}
    t.is_(got, {n: ("ok", "NOERROR", True) for n in names},
          "%s: the resolver's answer, NOERROR with AD, for each of %d "
          "domains" % (label, len(names)))
    t.is_({n: doms.get(n, {}).get("validation") for n in names},
          {n: "secure" for n in names}, "%s: validation secure" % label)
    t.ok(not any("resolver_unreachable" in codes(doms.get(n, {}))
                 for n in names), "%s: no resolver_unreachable" % label)
    t.ok(relay.sync(), "%s: the relay logged everything sent" % label)
    t.is_({n: relay.asked(n) for n in names},
          {n: ["drop"] * lost + ["relay"] for n in names},
          "%s: %d question(s) lost, then one answered, per domain"
          % (label, lost))


def unanswered(label, p, names, sent):
    doms = domains(p)
    t.is_(warnings(p.stderr), [], "%s: no sanitizer report or libevent "
          "warning" % label)
    is_(sorted({resolver(doms.get(n, {})).get("status") for n in names}),
        ["timeout"], "%s: the resolver is a timeout" % label,
        p.stderr[-2000:])
    t.ok(all("resolver_unreachable" in codes(doms.get(n, {}))
             for n in names), "%s: resolver_unreachable for each domain"
         % label)
    t.ok(relay.sync(), "%s: the relay logged everything sent" % label)
    t.is_({n: relay.asked(n) for n in names},
          {n: ["drop"] * sent for n in names},
          "%s: exactly %d question(s) per domain" % (label, sent))


relay = Relay()
daemon = None
try:
    # ---- one question lost, one re-send allowed: the answer comes
    t.ok(relay.start(1), "a relay on %s that loses the first question"
         % RELAY_ADDR)
    # 1 s: the relayed question must be answered in time by an unbound
    # that may be resolving it cold, on a loaded machine.
    p = check(SECURE, "1s", 1)
    t.ok(p.returncode in (0, 1), "drop 1, retries 1: check exits with the "
         "zones' verdict (%d)" % p.returncode, p.stderr[-2000:])
    answered("drop 1, retries 1", p, SECURE, 1)

    # ---- two lost, two re-sends allowed: the second re-send answers
    t.ok(relay.start(2), "a relay that loses the first two questions")
    p = check(SECURE, "1s", 2)
    answered("drop 2, retries 2", p, SECURE, 2)

    # ---- more lost than retries allows: no more questions than that
    t.ok(relay.start(2), "a relay that loses the first two questions")
    p = check(SECURE[:2], "300ms", 1)
    unanswered("drop 2, retries 1", p, SECURE[:2], 2)
    t.ok(relay.start(1), "a relay that loses the first question")
    p = check(SECURE[:2], "300ms", 0)
    unanswered("drop 1, retries 0", p, SECURE[:2], 1)

    # ---- the check cut short while re-sends wait: 100 questions to a
    # resolver that answers nothing, each timing out every 300 ms and
    # re-sent 1-50 ms later; -t ends the check (and the engine) midway,
    # well before the guard (300 ms x 11 + 1 s) would.
    many = ["n%03d.healthy.%s" % (i, TLD) for i in range(100)]
    t.ok(relay.start(1000000), "a relay that answers nothing")
    p = check(many, "300ms", 10, extra=("-t", "3"))
    is_(p.returncode, 3, "-t mid-cycle: UNKNOWN (exit 3)", p.stderr[-2000:])
    t.is_(warnings(p.stderr), [], "-t mid-cycle: no sanitizer report (a "
          "leak fails the ASan build's exit status)")
    t.ok(relay.sync(), "-t mid-cycle: the relay logged everything sent")
    resent = sum(1 for n in many if len(relay.asked(n)) >= 3)
    t.ok(resent == len(many), "-t mid-cycle: every question was re-sent "
         "at least twice before the end (%d of %d)" % (resent, len(many)))

    # ---- the guard while a re-send waits. The check is stopped (SIGSTOP)
    # just after its first questions, before their 2 s timeout (room for
    # a slow poll on a loaded machine), and held past their guard (2 s x 2
    # + 1 s after they started: one re-send allowed, and the first timeout
    # arms it; more retries would only make the check longer). At SIGCONT the getdns timeout and the
    # guard are both due, and run in that order: the timeout arms the
    # re-send, and the guard must end the question and free it with its
    # re-send timer before that runs. Holding longer only makes both more
    # overdue; the assertions wait for the check.
    # dripped.TLD is delegated to RELAY_ADDR, which answers it nothing
    # either: its check keeps the loop running for seconds after SIGCONT,
    # time for a re-send the guard failed to cancel to go out (or to run
    # on a freed question) rather than be dropped with the engine.
    held = ["g%d.healthy.%s" % (i, TLD) for i in range(3)]
    t.ok(relay.start(1000000), "guard: a relay that answers nothing")
    p = subprocess.Popen([BIN, "check", "--trust-anchor",
                          env["TESTBED_ANCHOR"], "--root-hints",
                          env["TESTBED_HINTS"], "--resolver", RELAY_ADDR,
                          "--timeout", "2s", "--retries", "1", "--format",
                          "json", *held, "dripped." + TLD],
                         stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    first = wait_for(lambda: all(relay.asked(n) for n in held), 60, 0.01,
                     "the first questions")
    p.send_signal(signal.SIGSTOP)
    t.ok(first and relay.sync(), "guard: the check stopped after its "
         "first questions")
    before = {n: len(relay.asked(n)) for n in held}
    t.is_(before, {n: 1 for n in held}, "guard: stopped before any "
          "timeout (one question each)")
    time.sleep(7)
    p.send_signal(signal.SIGCONT)
    out, err = p.communicate(timeout=GUARD)
    t.ok(p.returncode in (0, 1, 2, 3), "guard: the check ends with a "
         "verdict's exit status (%d)" % p.returncode, err[-2000:])
    t.is_(warnings(err), [], "guard: no sanitizer report (a leak fails "
          "the ASan build's exit status)")
    doms = domains(subprocess.CompletedProcess([], 0, out, err))
    t.is_({n: resolver(doms.get(n, {})).get("status") for n in held},
          {n: "timeout" for n in held}, "guard: the resolver is a timeout")
    t.ok(relay.sync(), "guard: the relay logged everything sent")
    t.is_({n: len(relay.asked(n)) for n in held}, before, "guard: the "
          "re-send armed at SIGCONT never went out")

    # ---- valgrind (the plain build; valgrind cannot run an ASan one):
    # the re-send that gets the answer, and a check cut short mid-cycle.
    if SAN:
        t.diag("valgrind runs left to the plain build; the sanitizers "
               "covered the same checks above")
    else:
        vg = ("valgrind", "--leak-check=full", "--show-leak-kinds=definite",
              "--errors-for-leak-kinds=definite", "--error-exitcode=99")
        t.ok(relay.start(1), "valgrind: a relay that loses the first "
             "question")
        vlog = os.path.join(tmp, "vg1.log")
        p = check(SECURE[:1], "2s", 1, wrap=vg + ("--log-file=" + vlog,))
        t.ok(p.returncode in (0, 1), "valgrind, drop 1: exit with the "
             "verdict, no memory error, nothing definitely lost (%d)"
             % p.returncode)
        if p.returncode not in (0, 1):
            t.diag(open(vlog).read()[-3000:])
        answered("valgrind, drop 1", p, SECURE[:1], 1)
        t.ok(relay.start(1000000), "valgrind: a relay that answers nothing")
        vlog = os.path.join(tmp, "vg2.log")
        p = check(many[:30], "300ms", 10, extra=("-t", "3"),
                  wrap=vg + ("--log-file=" + vlog,))
        t.is_(p.returncode, 3, "valgrind, -t mid-cycle: UNKNOWN, no memory "
              "error, nothing definitely lost")
        if p.returncode != 3:
            t.diag(open(vlog).read()[-3000:])

    # ---- the daemon: SIGHUP with new probe settings, then SIGTERM, while
    # 150 domains' questions to a silent resolver time out and wait for
    # their re-sends (first checks spread over the 1 s interval, so at any
    # moment some question is between its timeout and its re-send).
    t.ok(relay.start(1000000), "daemon: a relay that answers nothing")
    conf = os.path.join(tmp, "dnssecmon.yaml")
    dlog = os.path.join(tmp, "daemon.log")

    def write_conf(timeout):
        with open(conf, "w") as f:
            f.write("trust_anchor: %s\nroot_hints: %s\nresolvers: [%s]\n"
                    "database: %s\ninterval: 1s\ntimeout: %s\nretries: 10\n"
                    "domains:\n" % (env["TESTBED_ANCHOR"],
                                    env["TESTBED_HINTS"], RELAY_ADDR,
                                    os.path.join(tmp, "db.sqlite"), timeout))
            for i in range(150):
                f.write("  - d%03d.healthy.%s\n" % (i, TLD))

    def log_text():
        with open(dlog) as f:
            return f.read()

    def asked():
        return len(relay.lines())

    write_conf("1s")
    with open(dlog, "w") as lf:
        daemon = subprocess.Popen([BIN, "run", "-c", conf], stdout=lf,
                                  stderr=lf)
    # A check asks once and then only re-sends (it lasts the guard, 12 s,
    # longer than this wait): 300 questions from 150 domains are at least
    # 150 re-sends.
    t.ok(wait_for(lambda: asked() >= 300, 120, 0.2,
                  "300 questions to the silent resolver"),
         "daemon: questions re-sent to the silent resolver")
    write_conf("2s")
    daemon.send_signal(signal.SIGHUP)
    t.ok(wait_for(lambda: "engine restarted" in log_text(), 60, 0.2,
                  "the reload"), "daemon: SIGHUP restarts the engine "
         "mid-cycle")
    before = asked()
    t.ok(wait_for(lambda: asked() >= before + 300, 120, 0.2,
                  "300 more questions"), "daemon: the new engine asks and "
         "re-sends")
    daemon.send_signal(signal.SIGTERM)
    try:
        rc = daemon.wait(timeout=GUARD)
    except subprocess.TimeoutExpired:
        daemon.kill()
        rc = daemon.wait()
    is_(rc, 0, "daemon: SIGTERM mid-cycle, exit 0 (ASan: no leak)",
        log_text()[-2000:])
    t.is_(warnings(log_text()), [], "daemon: no sanitizer report or "
          "libevent warning")
finally:
    if daemon is not None and daemon.poll() is None:
        daemon.kill()
        daemon.wait()
    relay.stop()
    shutil.rmtree(tmp, ignore_errors=True)
sys.exit(t.done())
