#!/usr/bin/env python3
"""History against the real testbed: `dnssecmon check --db` walks the
switchable zone through KSK rotations with DNSSECMON_NOW moved on between
checks, and `dnssecmon rotations` reads back what the store made of it.

  1. healthy -> rollstart -> dsupdated -> rolldone: one rotation with the
     right start, deadline, registrar deadline, ds_updated_at, completed_at
     and outcome `completed`; the severity escalates to critical inside
     critical_before (72 h) of the registrar deadline.
  2. healthy -> rollstart -> broken (the DS never swapped): `broken`.
  3. Stale versus pre-published DS, told apart by history: after healthy,
     `doubleds` (a DS for a key not yet published) is stable; after
     healthy, `staleds` (a DS for a key that is gone) is stale_ds.
  4. A locked database: the check still reports, with a store_error
     problem, and history is intact once the lock is gone.
"""
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.dirname(__file__))
from tap import Tap, testbed_env  # noqa: E402
import scenario_common as sc  # noqa: E402
from scenario_common import utc, ksk_tags  # noqa: E402

t = Tap()
BIN = os.environ["DNSSECMON_BIN"]
env = testbed_env()
ZONE = env["TESTBED_SWITCH_ZONE"]
HOUR, DAY = 3600, 86400
# The walk's day zero is now: the testbed signs with real time and RRSIGs
# valid for 30 days, so every DNSSECMON_NOW below is inside their validity.
T = int(time.time())
tmp = tempfile.mkdtemp(prefix="dnssecmon-store-walk.")


def switch(state):
    return sc.testbed(t, "switch", state)


def check(db, now):
    p, d = sc.check_json(t, env, ZONE, "--db", db, now=now, timeout=60)
    if d is None:
        d = {"rotation": {}, "problems": [], "severity": None,
             "dnskeys": [], "ds": [], "ds_to_remove": []}
    if p.stderr:
        t.diag("check stderr: %s" % p.stderr.strip()[:300])
    return p.returncode, d


def cli(*args):
    p = subprocess.run([BIN, *args], capture_output=True, text=True,
                       timeout=30)
    if p.returncode != 0:
        t.diag("%s: %s" % (" ".join(args), p.stderr.strip()))
    return json.loads(p.stdout) if p.returncode == 0 else None


def codes(d):
    return {p["code"]: p["severity"] for p in d["problems"]}


def walk_completed():
    db = os.path.join(tmp, "walk.db")
    if not switch("healthy"):
        return
    rc, d = check(db, T)
    t.is_((d["rotation"].get("state"), d["severity"], rc), ("stable", "ok", 0),
          "walk: healthy at T: stable, ok, exit 0")
    t.ok("start" not in d["rotation"], "walk: healthy: no rotation in the output")
    old = ksk_tags(d)

    if not switch("rollstart"):
        return
    start = T + HOUR
    rc, d = check(db, start)
    new = [k for k in ksk_tags(d) if k not in old]
    ds_ttl = d.get("ds_ttl")
    t.ok(isinstance(ds_ttl, int) and ds_ttl > 0, "walk: the check reports the DS TTL (%s)" % ds_ttl)
    rot = d["rotation"]
    t.is_((rot.get("state"), d["severity"], rc), ("rotation_pending", "warning", 1),
          "walk: rollstart at T+1h: rotation_pending, warning, exit 1")
    t.is_(rot.get("start"), utc(start), "walk: rotation.start = the first check that saw the new key")
    t.is_(rot.get("deadline"), utc(start + 7 * DAY), "walk: rotation.deadline = start + 7d")
    t.is_(rot.get("registrar_deadline"), utc(start + 7 * DAY - (ds_ttl or 0)),
          "walk: rotation.registrar_deadline = deadline - DS TTL")
    t.is_(rot.get("seconds_left"), 7 * DAY - (ds_ttl or 0),
          "walk: rotation.seconds_left counts from DNSSECMON_NOW")
    t.is_(codes(d).get("rotation_deadline"), "warning",
          "walk: 7 days left: rotation_deadline is a warning")

    rc, d = check(db, T + 2 * DAY)
    t.is_((d["severity"], rc, d["rotation"].get("start")), ("warning", 1, utc(start)),
          "walk: rollstart at T+2d: warning, exit 1, same start")

    rc, d = check(db, T + 5 * DAY)
    left = start + 7 * DAY - (ds_ttl or 0) - (T + 5 * DAY)
    t.is_((d["severity"], rc), ("critical", 2),
          "walk: rollstart at T+5d (%dh left, inside 72h): critical, exit 2" % (left // HOUR))
    t.is_(codes(d).get("rotation_deadline"), "critical", "walk: T+5d: rotation_deadline is critical")
    msg = [p["message"] for p in d["problems"] if p["code"] == "rotation_deadline"]
    t.ok(msg and utc(start + 7 * DAY - (ds_ttl or 0)) in msg[0] and
         "%s. IN DS %d " % (ZONE, new[0] if new else -1) in msg[0],
         "walk: the problem names the registrar deadline in UTC and the DS to add",
         msg[0] if msg else None)
    t.is_(d["rotation"].get("seconds_left"), left, "walk: T+5d: seconds_left")

    if not switch("dsupdated"):
        return
    rc, d = check(db, T + 5 * DAY + HOUR)
    t.is_((d["rotation"].get("state"), d["severity"], rc), ("ds_updated", "ok", 0),
          "walk: dsupdated at T+5d+1h: ds_updated, ok, exit 0")
    t.is_(d["rotation"].get("ds_updated_at"), utc(T + 5 * DAY + HOUR),
          "walk: dsupdated: rotation.ds_updated_at")
    t.ok("rotation_deadline" not in codes(d), "walk: dsupdated: no deadline problem")

    if not switch("rolldone"):
        return
    rc, d = check(db, T + 6 * DAY)
    t.is_((d["rotation"].get("state"), d["severity"], rc), ("stable", "ok", 0),
          "walk: rolldone at T+6d: stable, ok, exit 0")
    t.ok("start" not in d["rotation"], "walk: rolldone: no open rotation in the output")

    doc = cli("rotations", "--db", db, "--format", "json")
    t.diag("dnssecmon rotations --db FILE --format json:\n" + json.dumps(doc, indent=2))
    rots = (doc or {}).get("rotations", [])
    t.is_(len(rots), 1, "walk: exactly one rotation recorded")
    if rots:
        r = rots[0]
        t.is_((r["domain"], r["kind"]), (ZONE, "ksk"), "walk: a KSK rotation of %s" % ZONE)
        t.is_(r["start"], utc(start), "walk: start")
        t.is_(r["deadline"], utc(start + 7 * DAY), "walk: deadline = start + 7d")
        t.is_(r["registrar_deadline"], utc(start + 7 * DAY - (ds_ttl or 0)),
              "walk: registrar_deadline = deadline - DS TTL")
        t.is_(r["ds_updated_at"], utc(T + 5 * DAY + HOUR), "walk: ds_updated_at")
        t.is_(r["completed_at"], utc(T + 6 * DAY), "walk: completed_at")
        t.is_(r["outcome"], "completed", "walk: outcome completed")
        t.is_(r["new_key_tag"], new[0] if new else None, "walk: new_key_tag")
        t.is_(r["old_key_tags"], old, "walk: old_key_tags")
    open_doc = cli("rotations", "--db", db, "--open", "--format", "json")
    t.is_((open_doc or {}).get("rotations"), [], "walk: --open lists none after the walk")

    hist = cli("history", ZONE, "--db", db, "--format", "json")
    sev = [o["severity"] for o in (hist or {}).get("observations", [])]
    t.is_(sev, ["ok", "warning", "warning", "critical", "ok", "ok"],
          "walk: history has every check with its severity")
    keys = cli("keys", ZONE, "--db", db, "--format", "json")
    k = [x for x in (keys or {}).get("dnskeys", []) if new and x["key_tag"] == new[0]]
    t.ok(k and k[0]["first_seen"] == utc(start) and
         k[0]["ds_first_seen"] == utc(T + 5 * DAY + HOUR),
         "walk: keys: the new key first seen at the start, its DS at the swap")


def walk_broken():
    db = os.path.join(tmp, "broken.db")
    if not switch("healthy"):
        return
    check(db, T)
    if not switch("rollstart"):
        return
    rc, d = check(db, T + HOUR)
    t.is_(rc, 1, "broken walk: rollstart: exit 1")
    if not switch("broken"):
        return
    rc, d = check(db, T + 3 * DAY)
    t.is_((d["rotation"].get("state"), d["severity"], rc), ("broken", "critical", 2),
          "broken walk: the old key went without a DS swap: broken, critical, exit 2")
    doc = cli("rotations", "--db", db, "--format", "json")
    rots = (doc or {}).get("rotations", [])
    t.is_([(r["outcome"], r["completed_at"], r["ds_updated_at"]) for r in rots],
          [("broken", utc(T + 3 * DAY), None)],
          "broken walk: one rotation, outcome broken, never DS-updated")


def stale_versus_prepublished():
    if not switch("healthy"):
        return
    pre = os.path.join(tmp, "doubleds.db")
    check(pre, T)
    stale = os.path.join(tmp, "staleds.db")
    rc, d = check(stale, T)
    old = ksk_tags(d)

    if switch("doubleds"):
        rc, d = check(pre, T + HOUR)
        t.is_(d["rotation"].get("state"), "stable",
              "doubleds after healthy: stable (a pre-published DS)")
        t.ok("stale_ds" not in codes(d) and d["ds_to_remove"] == [],
             "doubleds after healthy: nothing to remove", codes(d))
        t.is_(len(d["ds"]), 2, "doubleds: the parent holds two DS")
        keys = cli("keys", ZONE, "--db", pre, "--format", "json")
        extra = [x for x in (keys or {}).get("ds", []) if x["matches_key_tag"] is None]
        t.ok(len(extra) == 1 and extra[0]["arrived_after_first_check"],
             "doubleds: keys shows the extra DS arriving, its key never seen")
        fresh = os.path.join(tmp, "fresh.db")
        rc, d = check(fresh, T + HOUR)
        t.is_(d["rotation"].get("state"), "stale_ds",
              "doubleds on a fresh database: no history, so stale_ds")

    if switch("staleds"):
        rc, d = check(stale, T + HOUR)
        t.is_((d["rotation"].get("state"), rc), ("stale_ds", 1),
              "staleds after healthy: stale_ds, exit 1")
        t.is_([x["key_tag"] for x in d["ds_to_remove"]], old,
              "staleds: remove the DS of the key that was seen and is gone")


def store_error():
    db = os.path.join(tmp, "locked.db")
    if not switch("healthy"):
        return
    rc, d = check(db, T)
    t.is_(rc, 0, "locked: a first check records")
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")   # another writer holds the lock
    try:
        rc, d = check(db, T + HOUR)     # waits out the 5 s busy timeout
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    t.is_((d["rotation"].get("state"), codes(d).get("store_error"), d["severity"], rc),
          ("stable", "unknown", "unknown", 3),
          "locked: the check still reports, store_error (unknown), exit 3")
    msg = [p["message"] for p in d["problems"] if p["code"] == "store_error"]
    t.ok(msg and "locked" in msg[0] and db in msg[0],
         "locked: the problem says the database is locked and names it",
         msg[0] if msg else None)
    rc, d = check(db, T + 2 * HOUR)
    t.is_((codes(d).get("store_error"), rc), (None, 0), "locked: once free, checks record again")
    hist = cli("history", ZONE, "--db", db, "--format", "json")
    t.is_([o["time"] for o in (hist or {}).get("observations", [])],
          [utc(T), utc(T + 2 * HOUR)], "locked: history has the two recorded checks")


try:
    walk_completed()
    walk_broken()
    stale_versus_prepublished()
    store_error()
finally:
    subprocess.run([sc.TB, "switch", "healthy"], capture_output=True, timeout=180)
    shutil.rmtree(tmp, ignore_errors=True)

sys.exit(t.done())
