#!/usr/bin/env python3
"""An algorithm rollover (RSASHA256 -> ECDSAP256SHA256, RFC 6781 4.1.4)
walked stage by stage by the daemon, with DNSSECMON_NOW moved on a day per
stage (one daemon run per day: the clock is fixed for a run's life) and
the store keeping the keys' history between runs.

  T      healthy      one algorithm: no rollover
  T+1d   algsigs      8 signs, 13 signatures added everywhere, no 13 key
  T+2d   algkeys      13's keys published and signing; DS still 8
  T+3d   algds        the DS swapped to 13 (a single check cannot tell this
                      from stage 2 of 13 -> 8: history can)
  T+4d   algoldkeys   8's keys gone, 8's signatures linger
  T+5d   algdone      one algorithm again
  then   algdsearly   in a fresh store: the DS swapped to 13 while 13 has
                      signatures but no published key: the wrong order is
                      caught as critical algorithm_rollover_order, not only
                      as ds_algorithm_mismatch
"""
import os
import sqlite3
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import dash_common as dc  # noqa: E402
from tap import Tap  # noqa: E402
import subprocess  # noqa: E402

t = Tap()
env = dc.testbed_env()
ZONE = env["TESTBED_SWITCH_ZONE"]
DAY = 86400
T = int(time.time())


def switch(state):
    p = subprocess.run([dc.TB, "switch", state], capture_output=True,
                       text=True, timeout=180)
    t.is_(p.returncode, 0, "testbed switch %s" % state)
    if p.returncode != 0:
        t.diag(p.stderr[-500:])


METRICS = ["", ""]     # the last run's /metrics text and status page


def observe(d, now, what):
    """One daemon run at `now` until the zone is checked; its API view."""
    os.environ["DNSSECMON_NOW"] = str(now)
    try:
        d.start()
        t.ok(d.ready(), "%s: the daemon checked %s" % (what, ZONE))
        status, one = dc.get_json(d.port, "/api/v1/domains/" + ZONE)
        t.is_(status, 200, "%s: the API answers for %s" % (what, ZONE))
        status, _, body = dc.request(d.port, "GET", "/metrics")
        METRICS[0] = body.decode() if status == 200 else ""
        status, _, body = dc.request(d.port, "GET", "/")
        METRICS[1] = body.decode() if status == 200 else ""
        return one or {}
    finally:
        t.is_(d.stop(), 0, "%s: the daemon stops cleanly" % what)
        del os.environ["DNSSECMON_NOW"]


def codes(one):
    return {p["code"]: p for p in one.get("problems", [])}


def iso(ts):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


def clock_is(one, since, what):
    """The stage's clock: since `since`, due a rotation window later."""
    ro = one.get("algorithm_rollover") or {}
    t.is_((ro.get("stage_since"), ro.get("deadline"), ro.get("stalled")),
          (iso(since), iso(since + 7 * DAY), False),
          "%s: the stage began %s, due by %s" % (what, iso(since),
                                                 iso(since + 7 * DAY)))


def rollovers(d):
    """The store's algorithm rollover rows: (from, to, stage, outcome)."""
    db = sqlite3.connect(d.db)
    try:
        return db.execute("SELECT from_alg, to_alg, stage, outcome FROM "
                          "alg_rollovers ORDER BY id").fetchall()
    finally:
        db.close()


def stage_is(one, stage, what):
    ro = one.get("algorithm_rollover") or {}
    t.is_((ro.get("stage"), ro.get("from"), ro.get("to"), ro.get("bad_order")),
          (stage, 8, 13, False), "%s: stage %s of 8 -> 13" % (what, stage))
    p = codes(one).get("algorithm_rollover_stage")
    t.ok(p is not None and "stage %s" % stage in p["message"] and
         p["severity"] == "info", "%s: algorithm_rollover_stage says so" % what,
         p)
    t.ok("ds_algorithm_mismatch" not in codes(one) and
         "algorithm_rollover_order" not in codes(one),
         "%s: a correct step is no mismatch and no wrong order" % what,
         sorted(codes(one)))


d = dc.Daemon(env, [ZONE], prefix="algroll")
try:
    switch("healthy")
    one = observe(d, T, "T healthy")
    t.is_(one.get("algorithm_rollover"), None, "T: one algorithm, no rollover")

    switch("algsigs")
    one = observe(d, T + DAY, "T+1d algsigs")
    stage_is(one, "signatures_added", "T+1d")
    t.is_(one.get("validation"), "secure", "T+1d: validates")
    clock_is(one, T + DAY, "T+1d")

    switch("algkeys")
    one = observe(d, T + 2 * DAY, "T+2d algkeys")
    stage_is(one, "keys_published", "T+2d")
    t.ok("rotation_pending" in codes(one) and
         [x["algorithm"] for x in one.get("ds_to_publish", [])] == [13],
         "T+2d: the DS to publish is the new algorithm's (rotation_pending)")
    clock_is(one, T + 2 * DAY, "T+2d")
    # Half a day later, another daemon run: the stage's start comes from
    # the store, not from this run's first check.
    one = observe(d, T + 2 * DAY + DAY // 2, "T+2.5d algkeys again")
    stage_is(one, "keys_published", "T+2.5d")
    clock_is(one, T + 2 * DAY, "T+2.5d (restarted)")
    t.is_(rollovers(d), [(8, 13, "keys_published", None)],
          "store: one open 8 -> 13 rollover at keys_published")

    switch("algds")
    one = observe(d, T + 3 * DAY, "T+3d algds")
    stage_is(one, "ds_swapped", "T+3d")
    t.is_(one.get("validation"), "secure", "T+3d: validates through the new DS")

    switch("algoldkeys")
    one = observe(d, T + 4 * DAY, "T+4d algoldkeys")
    stage_is(one, "old_keys_removed", "T+4d")

    switch("algdone")
    one = observe(d, T + 5 * DAY, "T+5d algdone")
    t.is_((one.get("algorithm_rollover"), one.get("severity"),
           one.get("validation")), (None, "ok", "secure"),
          "T+5d: one algorithm again, ok, secure")
    t.is_(rollovers(d), [(8, 13, "old_keys_removed", "completed")],
          "store: the rollover is closed as completed")

    # A stage that outlasts the rotation window has stalled.
    d3 = dc.Daemon(env, [ZONE], prefix="algroll-stall")
    try:
        switch("algkeys")
        observe(d3, T, "stall: algkeys at T")
        one = observe(d3, T + 8 * DAY, "stall: still algkeys at T+8d")
        ro = one.get("algorithm_rollover") or {}
        p = codes(one).get("algorithm_rollover_stage")
        t.ok(ro.get("stalled") is True and ro.get("stage_since") == iso(T) and
             p is not None and p["severity"] == "warning" and
             "STALLED" in p["message"],
             "stall: keys_published since T is stalled at T+8d, a warning",
             (ro, p))
        m = [ln for ln in METRICS[0].split("\n") if ln.startswith(
            "dnssecmon_algorithm_rollover_stage_deadline_timestamp_seconds{")]
        t.ok(len(m) == 1 and float(m[0].split()[-1]) == T + 7 * DAY,
             "stall: /metrics has the stage's deadline (T+7d)", m)
        t.ok("due by %s, <strong>stalled</strong>" % iso(T + 7 * DAY)
             in METRICS[1], "stall: the status page says it has stalled",
             [ln for ln in METRICS[1].split("\n") if "Algorithm" in ln])
    finally:
        d3.cleanup()

    # The wrong order, with a store that has seen algorithm 8 first.
    d2 = dc.Daemon(env, [ZONE], prefix="algroll-bad")
    try:
        switch("algsigs")
        observe(d2, T + DAY, "bad: algsigs first")
        switch("algdsearly")
        one = observe(d2, T + 2 * DAY, "bad: algdsearly")
        ro = one.get("algorithm_rollover") or {}
        t.is_((ro.get("from"), ro.get("to"), ro.get("bad_order")), (8, 13, True),
              "algdsearly: 8 -> 13 taken out of order")
        p = codes(one).get("algorithm_rollover_order")
        t.ok(p is not None and p["severity"] == "critical" and
             "before it has a published DNSKEY" in p["message"],
             "algdsearly: critical algorithm_rollover_order: DS for 13 before "
             "13 has a published key", p)
        t.is_(one.get("validation"), "bogus", "algdsearly: and it is bogus")
    finally:
        d2.cleanup()
finally:
    d.cleanup()
    subprocess.run([dc.TB, "switch", "healthy"], capture_output=True, timeout=180)

sys.exit(t.done())
