#!/usr/bin/env python3
"""A server that drips its TCP answers a byte every 100 ms, as the
validating resolver and as an authoritative server, for many domains at
once (issue 13, item 8).

tests/hostile/hostile_dns.py runs on TESTBED_HOSTILE, port 53, with
`--default tcpslow`: it answers UDP with TC=1 and then dribbles the TCP
answer slower than any timeout. It is the configured resolver, and the
server of dripped.TLD (the testbed's TLD delegates it there): dNN.tcpslow
drips from the resolver only (the root says NXDOMAIN), zNN.dripped.TLD
also from its parent server (the probe's own transport), dripped.TLD
also from its child server. Names tNN.tc get TC=1 and then the whole
answer over TCP at once.

Before the fix, getdns 1.6.0 asked the resolver over TCP itself: when
its timeout cut the dripped answer short it closed the socket with a
libevent event still on it, and later closed the same descriptor number
once more, after it had been handed to another socket. libevent printed
`[warn] Epoll ADD(1) on fd N failed ... Bad file descriptor` (41 lines
for 41 domains here), and the second close() could shut someone else's
socket. Now getdns only asks over UDP, and a truncated answer is asked
again over TCP by the probe's own transport.

What the user must see: no libevent warning and no sanitizer report on
standard error, from `check` and from the daemon (`run --once`); a
dripping resolver, parent server or child server is a timeout, never an
answer; and a truncated resolver answer followed over TCP (NOERROR).
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from tap import Tap, testbed_env, wait_for  # noqa: E402

t = Tap()
env = testbed_env()
BIN = os.environ["DNSSECMON_BIN"]
TOP = os.environ["DNSSECMON_TOP"]
HOSTILE = env["TESTBED_HOSTILE"]
TLD = env["TESTBED_TLD"]
GUARD = 300
N_DRIP = 60
N_TC = 8
N_PARENT = 4
ZONE = "dripped." + TLD
# The resolver drips (the root says NXDOMAIN at once): what broke getdns.
DRIP = ["d%02d.tcpslow" % i for i in range(N_DRIP)]
TC = ["t%02d.tc" % i for i in range(N_TC)]
# The resolver and the parent server drip; and ZONE, whose child server
# drips. Each holds its check for 30 to 60 s (a TCP answer that never
# ends costs the transport's 4 s TCP limit per question), so only a few
# and in `check` only.
PARENT = ["z%02d.%s" % (i, ZONE) for i in range(N_PARENT)]
ALL = DRIP + TC + PARENT + [ZONE]
FAST = DRIP + TC
# libevent's own warnings ("[warn] Epoll ADD(1) on fd 13 failed",
# "[warn] epoll_ctl: ...", "[err] ..."), and the sanitizers'.
WARN = re.compile(r"^\[(warn|err)\]|epoll|Epoll|ERROR: \w+Sanitizer|"
                  r"runtime error:", re.M)

tmp = tempfile.mkdtemp(prefix="dnssecmon-drip-")
pidfile = os.path.join(tmp, "hostile.pid")
hints = env["TESTBED_HINTS"]

srv = subprocess.Popen([sys.executable,
                        os.path.join(TOP, "tests/hostile/hostile_dns.py"),
                        "--addr", HOSTILE, "--port", "53", "--default",
                        "tcpslow", "--pidfile",
                        pidfile, "--lifetime", str(GUARD * 3)],
                       stdout=subprocess.PIPE, text=True)


def warnings(text):
    return [line for line in text.split("\n") if WARN.search(line)]


try:
    port = srv.stdout.readline().strip()
    if not t.is_(port, "53", "the hostile server listens on %s port 53"
                 % HOSTILE):
        raise SystemExit(t.done())

    # ---- check: every domain at once, short timeouts
    p = subprocess.run([BIN, "check", "--trust-anchor", env["TESTBED_ANCHOR"],
                        "--root-hints", hints, "--resolver", HOSTILE,
                        "--timeout", "500ms", "--retries", "1",
                        "--format", "json", *ALL],
                       capture_output=True, text=True, timeout=GUARD)
    t.ok(p.returncode in (0, 1, 2, 3), "check ends with a verdict's exit "
         "status (%d)" % p.returncode, p.stderr[-2000:])
    t.is_(warnings(p.stderr), [], "check: no libevent warning and no "
          "sanitizer report on stderr")
    try:
        doms = {d["domain"]: d for d in json.loads(p.stdout)["domains"]}
    except (ValueError, KeyError):
        doms = {}
    t.is_(sorted(doms), sorted(ALL), "check: every domain reported")

    def resolver(name):
        rs = doms.get(name, {}).get("resolvers") or [{}]
        return rs[0]

    def codes(name):
        return {p["code"] for p in doms.get(name, {}).get("problems", [])}

    drip = [resolver(d).get("status") for d in DRIP + PARENT + [ZONE]]
    t.is_(sorted(set(drip)), ["timeout"], "check: each dripping resolver "
          "is a timeout (%d domains)" % len(drip))
    t.ok(all("parent_unreachable" in codes(d) for d in PARENT),
         "check: a dripping parent server is unreachable, for each of %d "
         "domains" % N_PARENT, sorted({frozenset(codes(d)) for d in PARENT},
                                      key=sorted))
    t.ok({"server_unreachable", "no_server_answers"} <= codes(ZONE),
         "check: a dripping child server does not answer", codes(ZONE))
    tc = [(resolver(d).get("status"), resolver(d).get("rcode"))
          for d in TC]
    t.is_(sorted(set(tc)), [("ok", "NOERROR")], "check: a truncated "
          "answer is followed over TCP: ok, NOERROR (%d domains)" % N_TC)

    # ---- the daemon: one round of the quick ones, the same server
    db = os.path.join(tmp, "db.sqlite")
    conf = os.path.join(tmp, "dnssecmon.yaml")
    with open(conf, "w") as f:
        f.write("trust_anchor: %s\nroot_hints: %s\nresolvers: [%s]\n"
                "database: %s\ninterval: 1h\ntimeout: 1s\nretries: 1\n"
                "domains:\n" % (env["TESTBED_ANCHOR"], hints, HOSTILE, db))
        for d in FAST:
            f.write("  - %s\n" % d)
    p = subprocess.run([BIN, "run", "-c", conf, "--once"],
                       capture_output=True, text=True, timeout=GUARD)
    t.is_(p.returncode, 0, "run --once: a clean exit")
    t.is_(warnings(p.stderr), [], "run --once: no libevent warning and no "
          "sanitizer report on stderr")
    t.ok(re.search(r"stopped after %d checks" % len(FAST), p.stderr),
         "run --once: every domain checked", p.stderr[-1500:])
finally:
    if srv.poll() is None:
        srv.terminate()
        srv.wait(timeout=30)
    wait_for(lambda: srv.poll() is not None, 30, what="hostile server exit")
    shutil.rmtree(tmp, ignore_errors=True)
sys.exit(t.done())
