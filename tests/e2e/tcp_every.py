#!/usr/bin/env python3
"""`tcp_every: N` in the daemon: DNSKEY over TCP on a domain's first check
and every Nth after, read back from the store's record of every check
(`dnssecmon history`), so that no check can slip between two polls.
The default (no tcp_every) asks over TCP on every check."""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.dirname(__file__))
from tap import Tap  # noqa: E402
import dash_common as dc  # noqa: E402

t = Tap()
env = dc.testbed_env()
ZONE = "healthy." + env["TESTBED_TLD"]
CHECKS = 7


def history(db):
    p = subprocess.run([dc.BIN, "history", ZONE, "--db", db, "--format", "json"],
                       capture_output=True, text=True, timeout=60)
    try:
        return json.loads(p.stdout)["observations"]
    except (ValueError, KeyError):
        return []


def tcp_pattern(top):
    """Per recorded check, oldest first: did every server get asked over
    TCP (True), none (False), or some (None: wrong either way)?"""
    d = dc.Daemon(env, [ZONE], interval="1s", prefix="tcp-every", top=top)
    d.http = False
    try:
        d.start()
        obs = dc.wait_for(lambda: len(history(d.db)) >= CHECKS and history(d.db),
                          120, what="%d recorded checks" % CHECKS)
        rc = d.stop()
        t.is_(rc, 0, "daemon (%s) stops cleanly" % (top.strip() or "default"))
    finally:
        d.cleanup()
    obs = (obs or [])[:CHECKS]   # oldest first, as the store orders them (time, id)
    out = []
    for o in obs:
        asked = [s.get("tcp") is not None for s in o["servers"]]
        out.append(True if all(asked) else False if not any(asked) else None)
        if all(asked):
            t.ok(all(s["tcp"] == "ok" and s["dnskey_tcp_bytes"] for s in o["servers"]),
                 "a TCP check records each server's TCP outcome and DNSKEY size")
    return out


got = tcp_pattern("tcp_every: 3\n")
t.is_(got, [i % 3 == 0 for i in range(CHECKS)],
      "tcp_every: 3: TCP on checks 1, 4, 7 of %d" % CHECKS)
got = tcp_pattern("")
t.is_(got, [True] * CHECKS, "default: TCP on every check")
got = tcp_pattern("tcp_every: 0\n")
t.is_(got, [False] * CHECKS, "tcp_every: 0: never over TCP")

sys.exit(t.done())
