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


def tcp_patterns(tops):
    """For each configuration, per recorded check, oldest first: did every
    server get asked over TCP (True), none (False), or some (None: wrong
    either way)? The daemons run at once: each has its own store, and
    what one asks over TCP cannot change what another records."""
    ds = [dc.Daemon(env, [ZONE], interval="1s", prefix="tcp-every", top=top)
          for top in tops]
    obs = {}
    try:
        for d in ds:
            d.http = False
            d.start()
        for d in ds:
            obs[d] = dc.wait_for(lambda: len(history(d.db)) >= CHECKS and
                                 history(d.db), 120,
                                 what="%d recorded checks" % CHECKS)
        for d, top in zip(ds, tops):
            rc = d.stop()
            t.is_(rc, 0, "daemon (%s) stops cleanly"
                  % (top.strip() or "default"))
    finally:
        for d in ds:
            d.cleanup()
    res = []
    for d in ds:
        # oldest first, as the store orders them (time, id)
        o_list = (obs.get(d) or [])[:CHECKS]
        out = []
        for o in o_list:
            asked = [s.get("tcp") is not None for s in o["servers"]]
            out.append(True if all(asked) else False if not any(asked)
                       else None)
            if all(asked):
                t.ok(all(s["tcp"] == "ok" and s["dnskey_tcp_bytes"]
                         for s in o["servers"]),
                     "a TCP check records each server's TCP outcome and "
                     "DNSKEY size")
        res.append(out)
    return res


every3, default, never = tcp_patterns(["tcp_every: 3\n", "", "tcp_every: 0\n"])
t.is_(every3, [i % 3 == 0 for i in range(CHECKS)],
      "tcp_every: 3: TCP on checks 1, 4, 7 of %d" % CHECKS)
t.is_(default, [True] * CHECKS, "default: TCP on every check")
t.is_(never, [False] * CHECKS, "tcp_every: 0: never over TCP")

sys.exit(t.done())
