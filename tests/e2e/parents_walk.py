#!/usr/bin/env python3
"""Every parent server, against the real testbed: the TLD's two addresses
are two NSD daemons, and `testbed.sh switch dsupdated --tld-lag` moves the
DS on the first one only, until `testbed.sh tld-catchup`.

  1. `dnssecmon check --db` with DNSSECMON_NOW moved on between checks:
     healthy -> rollstart -> the new DS on one TLD server (day 2, 3: the
     countdown stays open, parent_ds_disagree names the server that lags)
     -> on both (day 3 + 2 h): ds_updated, ds_updated_at = that check,
     safe removal = that + the DS TTL, in the check's JSON and text.
  2. The old key withdrawn while one TLD server still serves only its DS:
     parent_ds_broken (critical) and the rotation stays open until
     that server catches up.
  3. `dnssecmon run`: the first check asks every parent server; a stable
     domain then asks one per check, each address in turn (after a restart
     too: the store knows the last DS set); while the
     rotation is open it asks them all, the API, /metrics, the status page
     show the lagging server, then the safe-removal time.
"""
import calendar
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
import dash_common as dc  # noqa: E402
import scenario_common as sc  # noqa: E402
from scenario_common import utc  # noqa: E402
from tap import Tap  # noqa: E402

t = Tap()
BIN = os.environ["DNSSECMON_BIN"]
TB = dc.TB
env = dc.testbed_env()
ZONE = env["TESTBED_SWITCH_ZONE"]
TLD_A, TLD_B = env["TESTBED_TLD_NS_A"], env["TESTBED_TLD_NS_B"]
HOUR, DAY = 3600, 86400
T = int(time.time())
tmp = tempfile.mkdtemp(prefix="dnssecmon-parents-walk.")


def tb(*args):
    return sc.testbed(t, *args)


def check(db, now, fmt="json", opts=()):
    p, d = sc.check_json(t, env, ZONE, "--db", db, *opts, fmt=fmt, now=now,
                         timeout=60)
    if fmt != "json":
        return p.returncode, p.stdout
    if d is None:
        d = {"rotation": {}, "problems": [], "parent_servers": {}}
    return p.returncode, d


def codes(d):
    return {p["code"]: p for p in d["problems"]}


def parents(d):
    """{address: (ds key tags, lags)} from a check's or the API's JSON."""
    return {s["address"]: (sorted(str(x) for x in s["ds_tags"])
                           if isinstance(s["ds_tags"], list)
                           else sorted(s["ds_tags"].split()), s["lags"])
            for s in d.get("parent_servers", {}).get("servers", [])}


def walk_check():
    db = os.path.join(tmp, "walk.db")
    if not tb("switch", "healthy"):
        return
    rc, d = check(db, T)
    ps = d["parent_servers"]
    t.ok(ps.get("every_server_asked") and sorted(parents(d)) ==
         sorted([TLD_A, TLD_B]) and ps.get("agree"),
         "check: no history: both TLD servers asked, and they agree",
         json.dumps(ps))
    t.ok(all(s["rrsig"] for s in ps.get("servers", [])),
         "check: each server's DS came with its RRSIG")
    old = [k["key_tag"] for k in d["dnskeys"] if k["role"] == "ksk"]
    # Nothing changed since: one parent server is enough, and the next
    # check asks the other.
    rc, d = check(db, T + 60)
    ps = d["parent_servers"]
    t.ok(ps.get("every_server_asked") is False and
         len(ps.get("servers", [])) == 1 and rc == 0,
         "check --db: a stable domain asks one parent server",
         json.dumps(ps))
    # Each check from cron picks by the last one's time: within a few
    # checks both addresses have had their turn (a hang guard of 30).
    asked = set(parents(d))
    for n in range(2, 32):
        if len(asked) == 2:
            break
        rc, d = check(db, T + 60 * n)
        asked |= set(parents(d))
    t.is_(sorted(asked), sorted([TLD_A, TLD_B]),
          "check --db: successive checks visit both TLD servers")

    if not tb("switch", "rollstart"):
        return
    start = T + HOUR
    rc, d = check(db, start)
    ds_ttl = d.get("ds_ttl") or 0
    t.is_((d["rotation"].get("state"), rc), ("rotation_pending", 1),
          "check: rollstart at T+1h: rotation_pending")
    new = [k["key_tag"] for k in d["dnskeys"] if k["role"] == "ksk"
           and k["key_tag"] not in old]
    registrar = utc(start + 7 * DAY - ds_ttl)

    if not tb("switch", "dsupdated", "--tld-lag"):
        return
    for at in (T + 2 * DAY, T + 3 * DAY):
        rc, d = check(db, at)
        rot = d["rotation"]
        t.is_((rot.get("state"), rot.get("ds_updated_at"),
               rot.get("safe_removal_at")), ("rotation_pending", None, None),
              "check: new DS on %s only (T+%dd): still rotation_pending, "
              "no ds_updated_at, no safe removal" % (TLD_A, (at - T) // DAY))
        t.is_((rot.get("registrar_deadline"), rot.get("seconds_left")),
              (registrar, start + 7 * DAY - ds_ttl - at),
              "check: T+%dd: the countdown stays open" % ((at - T) // DAY))
        m = codes(d).get("rotation_deadline", {}).get("message", "")
        t.ok("has not reached every server" in m and registrar in m,
             "check: T+%dd: rotation_deadline says the DS is on its way, "
             "with the registrar deadline" % ((at - T) // DAY), m)
        p = codes(d).get("parent_ds_disagree")
        t.ok(p is not None and TLD_B in p["message"] and
             "%s (of 2 answering)" % TLD_B in p["message"] and
             TLD_A in p["message"] and str(new[0] if new else "?") in
             p["message"], "check: T+%dd: parent_ds_disagree names %s as "
             "the server that lags" % ((at - T) // DAY, TLD_B),
             p["message"] if p else codes(d).keys())
        got = parents(d)
        t.is_((got.get(TLD_A, (None, None))[1], got.get(TLD_B, (None, None))[1]),
              (False, True), "check: T+%dd: %s lags, %s does not"
              % ((at - T) // DAY, TLD_B, TLD_A))
        t.is_(got.get(TLD_A, ([],))[0], [str(x) for x in new],
              "check: %s serves the new key's DS" % TLD_A)
        t.is_(got.get(TLD_B, ([],))[0], [str(x) for x in old],
              "check: %s still serves the old key's DS" % TLD_B)
    rc, text = check(db, T + 3 * DAY, fmt="text")
    t.ok(re.search(r"parent +%s DS .*LAGS" % re.escape(TLD_B), text) and
         "may go from" not in text,
         "check text: the lagging parent server is marked, no removal time",
         text)

    # The lagging server stops answering (on a copy of the history):
    # only the answering servers count, and the check says one was silent.
    paused = os.path.join(tmp, "paused.db")
    shutil.copy(db, paused)
    if tb("pause", "tld2"):
        # --timeout 1 --retries 1: the silent server's questions give up
        # after 1 + 2 s, not the default's 2 + 4 + 8 s; the answering one
        # replies in milliseconds.
        try:
            rc, d = check(paused, T + 3 * DAY + HOUR,
                          opts=("--timeout", "1", "--retries", "1"))
        finally:
            tb("resume", "tld2")
        st = {s["address"]: s["status"] for s in
              d["parent_servers"].get("servers", [])}
        t.is_((d["rotation"].get("state"), st.get(TLD_B),
               "parent_ds_disagree" in codes(d)),
              ("ds_updated", "timeout", False),
              "check: %s silent: it is not counted (ds_updated, no "
              "disagreement)" % TLD_B)
        m = codes(d).get("old_key_published", {}).get("message", "")
        t.ok("only 1 of 2 servers answered" in m,
             "check: old_key_published says only 1 of 2 answered", m)

    if not tb("tld-catchup"):
        return
    arrival = T + 3 * DAY + 2 * HOUR
    rc, d = check(db, arrival)
    rot = d["rotation"]
    t.is_((rot.get("state"), rc), ("ds_updated", 0),
          "check: both TLD servers have the new DS (T+3d+2h): ds_updated")
    t.ok(d["parent_servers"].get("agree") and
         "parent_ds_disagree" not in codes(d),
         "check: the parent servers agree again")
    t.is_(rot.get("ds_updated_at"), utc(arrival),
          "check: ds_updated_at = when the last parent server was seen "
          "with the new DS")
    t.is_(rot.get("ds_everywhere_at"), utc(arrival),
          "check: ds_everywhere_at = the same")
    t.is_(rot.get("safe_removal_at"), utc(arrival + ds_ttl),
          "check: safe_removal_at = last arrival + DS TTL (%d s)" % ds_ttl)
    rc, d = check(db, T + 4 * DAY)
    t.is_((d["rotation"].get("ds_updated_at"),
           d["rotation"].get("safe_removal_at")),
          (utc(arrival), utc(arrival + ds_ttl)),
          "check: a later check keeps both times")
    p = codes(d).get("old_key_published")
    t.ok(p is not None and utc(arrival + ds_ttl) in p["message"],
         "check: old_key_published names the safe-removal time",
         p["message"] if p else None)
    rc, text = check(db, T + 4 * DAY, fmt="text")
    t.ok("may go from %s" % utc(arrival + ds_ttl) in text,
         "check text: 'old key may go from' the safe-removal time", text)
    rots = subprocess.run([BIN, "rotations", "--db", db, "--format", "json"],
                          capture_output=True, text=True, timeout=30)
    r = json.loads(rots.stdout).get("rotations", [{}])
    t.is_((r[0].get("ds_updated_at"), r[0].get("safe_removal_at"))
          if r else None, (utc(arrival), utc(arrival + ds_ttl)),
          "rotations: the record keeps the 'DS seen everywhere' time and "
          "the safe-removal time")


def walk_too_early():
    """The DNS host withdraws the old key while one TLD server still
    serves only its DS: critical, and the rotation does not complete
    until that server has the new DS."""
    db = os.path.join(tmp, "early.db")
    if not tb("switch", "healthy"):
        return
    check(db, T)
    if not tb("switch", "rollstart"):
        return
    check(db, T + HOUR)
    if not (tb("switch", "dsupdated", "--tld-lag") and
            tb("switch", "rolldone", "--tld-lag")):
        return
    rc, d = check(db, T + 2 * DAY)
    p = codes(d).get("parent_ds_broken")
    t.ok(p is not None and p["severity"] == "critical" and
         TLD_B in p["message"] and "SERVFAIL" in p["message"] and rc == 2,
         "early removal: %s serves only the withdrawn key's DS: "
         "parent_ds_broken (critical), exit 2" % TLD_B,
         p["message"] if p else codes(d).keys())
    rots = subprocess.run([BIN, "rotations", "--db", db, "--open",
                           "--format", "json"], capture_output=True,
                          text=True, timeout=30)
    t.is_(len(json.loads(rots.stdout).get("rotations", [])), 1,
          "early removal: the rotation stays open while a server lags")
    if not tb("tld-catchup"):
        return
    rc, d = check(db, T + 2 * DAY + HOUR)
    t.is_((d["rotation"].get("state"), rc), ("stable", 0),
          "early removal: once both TLD servers have the new DS: stable")
    rots = subprocess.run([BIN, "rotations", "--db", db, "--format",
                           "json"], capture_output=True, text=True,
                          timeout=30)
    r = json.loads(rots.stdout).get("rotations", [])
    t.is_([(x["outcome"], x["completed_at"], x["ds_updated_at"]) for x in r],
          [("completed", utc(T + 2 * DAY + HOUR),
            utc(T + 2 * DAY + HOUR))],
          "early removal: completed, and DS everywhere, at that check")


def walk_unsigned():
    """A parent server that serves the DS without its RRSIG."""
    if not (tb("switch", "healthy") and tb("tld-unsigned-ds")):
        return
    try:
        rc, d = check(os.path.join(tmp, "unsigned.db"), T)
    finally:
        tb("tld-catchup")
    p = codes(d).get("parent_ds_unsigned")
    sig = {s["address"]: s["rrsig"] for s in
           d["parent_servers"].get("servers", [])}
    t.ok(p is not None and TLD_B in p["message"] and
         TLD_A not in p["message"].split(" serve")[0] and
         sig == {TLD_A: True, TLD_B: False},
         "unsigned: parent_ds_unsigned names %s, whose DS came without "
         "RRSIG" % TLD_B, p["message"] if p else json.dumps(sig))
    rc, d = check(os.path.join(tmp, "unsigned.db"), T + HOUR)
    t.ok("parent_ds_unsigned" not in codes(d) and
         d["parent_servers"].get("every_server_asked"),
         "unsigned: once fixed, the next check asks every server again "
         "and the problem is gone")


def api_domain(d):
    status, j = dc.get_json(d.port, "/api/v1/domains/" + ZONE)
    return j if status == 200 else None


def walk_daemon():
    if not tb("switch", "healthy"):
        return
    d = dc.Daemon(env, [ZONE], interval="1s", prefix="parents")
    try:
        d.start()
        t.ok(d.ready(), "daemon: ready")
        # A stable domain: one parent server per check, in turn. Watch the
        # checks (checked_at moves on) until both addresses have been asked
        # alone; the first check, without history, asked both.
        seen_alone, seen_at = set(), set()

        def one_each():
            j = api_domain(d)
            if j is None or j["checked_at"] in seen_at:
                return False
            seen_at.add(j["checked_at"])
            ps = j["parent_servers"]
            if not ps["every_server_asked"] and len(ps["servers"]) == 1:
                seen_alone.add(ps["servers"][0]["address"])
            return seen_alone == {TLD_A, TLD_B}
        t.ok(dc.wait_for(one_each, 120, what="each TLD server asked alone"),
             "daemon: a stable domain asks one parent server per check, "
             "each in turn (seen: %s)" % sorted(seen_alone))

        # A restart: the store says what the DS set was, so the first
        # check does not ask every parent server again. A long interval
        # so that the check seen is the first one: 8 s, since first checks
        # are spread over the whole interval (up to 60 s), and the API is
        # polled every 0.25 s.
        d.stop()
        d.interval = "8s"
        d.start()
        j = dc.wait_for(lambda: (lambda x: x if x and x["checked"] else
                                 None)(api_domain(d)), 120,
                        what="the first check after the restart")
        ps = (j or {}).get("parent_servers", {})
        t.ok(j and ps.get("every_server_asked") is False and
             len(ps.get("servers", [])) == 1,
             "daemon restart: the first check asks one parent server (the "
             "store knows the DS set)", json.dumps(ps))
        d.stop()
        d.interval = "1s"
        d.start()
        t.ok(d.ready(), "daemon: ready again")

        if not tb("switch", "rollstart"):
            return
        j = dc.wait_for(lambda: (api_domain(d) or {}).get("state") ==
                        "rotation_pending" and api_domain(d), 120,
                        what="rotation_pending")
        t.ok(j and j["rotation"] is not None, "daemon: the rotation opens")
        j = dc.wait_for(lambda: (lambda x: x if x and x["parent_servers"]
                                 ["every_server_asked"] else None)(
                                     api_domain(d)), 60,
                        what="every parent asked")
        t.ok(j, "daemon: while the rotation is open, every parent server "
             "is asked")

        if not tb("switch", "dsupdated", "--tld-lag"):
            return

        def lagging():
            x = api_domain(d)
            ps = x and x["parent_servers"]
            return x if ps and ps["agree"] is False else None
        j = dc.wait_for(lagging, 120, what="parent_ds_disagree in the API")
        got = parents(j or {})
        t.ok(j and got.get(TLD_B, (None, None))[1] and
             not got.get(TLD_A, (None, True))[1] and
             j["state"] == "rotation_pending" and
             j["rotation"]["ds_updated_at"] is None and
             j["rotation"]["seconds_left"] is not None and
             j["safe_removal_at"] is None,
             "daemon API: %s lags, still rotation_pending, countdown open, "
             "no safe removal yet" % TLD_B, json.dumps(j)[:800])
        t.ok(j and any(p["code"] == "parent_ds_disagree" and TLD_B in
                       p["message"] for p in j["problems"]),
             "daemon API: parent_ds_disagree names %s" % TLD_B)
        status, _, body = dc.request(d.port, "GET", "/metrics")
        text = body.decode()
        t.is_(dc.sample(text, "dnssecmon_parent_servers_agree", zone=ZONE),
              0.0, "daemon /metrics: dnssecmon_parent_servers_agree 0")
        t.is_(dc.sample(text, "dnssecmon_old_key_safe_removal_timestamp_"
                        "seconds", zone=ZONE), None,
              "daemon /metrics: no safe-removal time while one lags")
        status, _, page = dc.request(d.port, "GET", "/")
        t.ok(status == 200 and TLD_B in page.decode() and
             "parent_ds_disagree" in page.decode(),
             "daemon status page: shows parent_ds_disagree and %s" % TLD_B)

        caught_up = int(time.time())
        if not tb("tld-catchup"):
            return
        j = dc.wait_for(lambda: (lambda x: x if x and x["state"] ==
                                 "ds_updated" else None)(api_domain(d)),
                        120, what="ds_updated in the API")
        rot = (j or {}).get("rotation") or {}
        ttl = rot.get("ds_ttl") or 0
        upd = rot.get("ds_updated_at")
        t.ok(upd is not None and upd >= utc(caught_up),
             "daemon: ds_updated_at (%s) is after the second server got "
             "the DS (%s)" % (upd, utc(caught_up)))
        want = None
        if upd:
            want = utc(calendar.timegm(time.strptime(
                upd, "%Y-%m-%dT%H:%M:%SZ")) + ttl)
        t.is_((rot.get("safe_removal_at"), (j or {}).get("safe_removal_at")),
              (want, want), "daemon API: safe_removal_at = ds_updated_at + "
              "DS TTL (%d s), in the rotation and the domain" % ttl)
        status, _, body = dc.request(d.port, "GET", "/metrics")
        v = dc.sample(body.decode(), "dnssecmon_old_key_safe_removal_"
                      "timestamp_seconds", zone=ZONE)
        t.is_(utc(int(v)) if v else None, want,
              "daemon /metrics: dnssecmon_old_key_safe_removal_timestamp_"
              "seconds")
        status, _, page = dc.request(d.port, "GET", "/")
        t.ok(want is not None and want in page.decode() and
             "may safely go from" in page.decode(),
             "daemon status page: the old key may safely go from %s" % want)
    finally:
        d.cleanup()


try:
    walk_check()
    walk_too_early()
    walk_unsigned()
    walk_daemon()
finally:
    subprocess.run([TB, "switch", "healthy"], capture_output=True,
                   timeout=180)
    shutil.rmtree(tmp, ignore_errors=True)

sys.exit(t.done())
