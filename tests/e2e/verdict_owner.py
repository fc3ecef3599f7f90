#!/usr/bin/env python3
"""One owner for the verdict, seen from outside:

  - a DNS host's rotation_start whose DS matches no key the zone
    publishes: host_ds_mismatch is reported and alerts; after a restart
    of the daemon the next check still reports it (the host's DS is kept
    in the store, not in memory) and its alert is not resolved;
  - a store that fails during a check (another process holds the write
    lock): the daemon and `check --db` give the same verdict, severity
    unknown with store_error, never "ok" beside an unknown problem."""
import json
import os
import sqlite3
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.dirname(__file__))
from tap import Tap  # noqa: E402
import dash_common as dc  # noqa: E402

t = Tap()
env = dc.testbed_env()
ZONE = "healthy." + env["TESTBED_TLD"]
SECRET = "e2e-verdict-%s-Kq7Z" % os.getpid()
HOOKS = "hooks:\n  dnsimple:\n    secret: %s\n" % SECRET


def utc(ts):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


def start_event():
    """The shipped fixture on ZONE: its DS is made up, no key matches."""
    return dc.host_event("rotation_start", ZONE, "e2e-verdict-%d" % os.getpid(),
                         utc(int(time.time()) - 3600))


def domain(d):
    return dc.get_json(d.port, "/api/v1/domains/" + ZONE)[1] or {}


def codes(dom):
    return [p["code"] for p in dom.get("problems", [])]


def observations(d):
    p = subprocess.run([dc.BIN, "history", ZONE, "--db", d.db, "--format",
                        "json"], capture_output=True, text=True, timeout=30)
    return json.loads(p.stdout)["observations"] if p.returncode == 0 else []


def alert(d, code):
    p = subprocess.run([dc.BIN, "alerts", "--db", d.db, "--format", "json"],
                       capture_output=True, text=True, timeout=30)
    if p.returncode != 0:
        return None
    j = json.loads(p.stdout)
    rows = j["alerts"] if isinstance(j, dict) else j
    for a in rows:
        if a["domain"] == ZONE and a["code"] == code:
            return a
    return None


def host_mismatch_survives_restart():
    d = dc.Daemon(env, [ZONE], interval="2s", prefix="verdict-host",
                  extra=HOOKS)
    try:
        d.start()
        t.ok(d.ready(60), "host: the daemon is ready")
        status, _, _ = dc.request(d.port, "POST", "/hooks/dnsimple/" + SECRET,
                                  body=start_event(),
                                  headers={"Content-Type": "application/json"})
        t.is_(status, 200, "host: rotation_start recorded")
        t.ok(dc.wait_for(lambda: "host_ds_mismatch" in codes(domain(d)), 60),
             "host: the check after the event reports host_ds_mismatch")
        a = dc.wait_for(lambda: (lambda x: x if x and x["state"] != "resolved"
                                 else None)(alert(d, "host_ds_mismatch")), 60)
        t.ok(a, "host: its alert fires")
        t.is_(d.stop(), 0, "host: the daemon stops cleanly")

        restarted = int(time.time())
        d.start()
        t.ok(d.ready(60), "host: the daemon is ready again after a restart")
        # A positive event: a check recorded after the restart.
        t.ok(dc.wait_for(lambda: any(o["time"] >= utc(restarted) for o in
                                     observations(d)), 60),
             "host: a check ran after the restart")
        t.ok("host_ds_mismatch" in codes(domain(d)),
             "host: host_ds_mismatch is still reported after the restart")
        last = (observations(d) or [{}])[-1]
        t.ok("host_ds_mismatch" in codes(last),
             "host: the check after the restart recorded it")
        a = alert(d, "host_ds_mismatch")
        t.ok(a is not None and a["state"] != "resolved" and
             a["id"] == (a or {}).get("id"),
             "host: its alert is still open, not resolved",
             json.dumps(a))
        t.is_(d.stop(), 0, "host: the daemon stops cleanly again")
    finally:
        d.cleanup()


def same_verdict_on_store_failure():
    d = dc.Daemon(env, [ZONE], interval="2s", prefix="verdict-store")
    lock = None
    try:
        d.start()
        t.ok(d.ready(60), "store: the daemon is ready")
        # Another writer holds the lock for longer than the busy timeout.
        lock = sqlite3.connect(d.db, isolation_level=None, timeout=30)
        lock.execute("BEGIN EXCLUSIVE")
        dom = dc.wait_for(lambda: (lambda x: x if "store_error" in codes(x)
                                   else None)(domain(d)), 90)
        t.ok(dom, "store: the daemon reports store_error while locked out")
        daemon_sev = (dom or {}).get("severity")
        p = subprocess.run([dc.BIN, "check", "--db", d.db, "--format", "json",
                            "--trust-anchor", env["TESTBED_ANCHOR"],
                            "--root-hints", env["TESTBED_HINTS"],
                            "--resolver", env["TESTBED_RESOLVER"], ZONE],
                           capture_output=True, text=True, timeout=120)
        try:
            j = json.loads(p.stdout)
            res = j["domains"][0]
        except (ValueError, KeyError, IndexError):
            res = {}
            t.diag(p.stdout + p.stderr)
        t.ok("store_error" in [x["code"] for x in res.get("problems", [])],
             "store: check --db reports store_error too")
        t.is_(res.get("severity"), daemon_sev,
              "store: check --db and the daemon give the same severity")
        t.is_(daemon_sev, "unknown",
              "store: the severity is unknown, not ok beside the problem")
        t.is_(p.returncode, 3, "store: check --db exits 3 (UNKNOWN)")
        lock.execute("ROLLBACK")
        lock.close()
        lock = None
        t.ok(dc.wait_for(lambda: "store_error" not in codes(domain(d)), 60),
             "store: with the lock gone the next check records again")
        t.is_(d.stop(), 0, "store: the daemon stops cleanly")
    finally:
        if lock is not None:
            lock.close()
        d.cleanup()


host_mismatch_survives_restart()
same_verdict_on_store_failure()
sys.exit(t.done())
