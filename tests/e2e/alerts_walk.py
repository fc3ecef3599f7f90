#!/usr/bin/env python3
"""Alerts end to end: the daemon, a real mosquitto broker, an HTTP
receiver and exec hooks, while the testbed's switchable zone walks a KSK
rotation and DNSSECMON_NOW moves the clock on (one daemon run per day
visited: the clock is fixed for a run's life).

  T      healthy -> rollstart: rotation_pending fires (after two checks),
         with the DS to publish = what the testbed computed, on
         dnssecmon/alerts (QoS 1), the webhook (same bytes), Alertmanager
         v2, the exec hook (env + stdin); the retained state follows; a
         hook that hangs is killed at its timeout
  T+2d   still pending: a reminder (not run by the hook: not in its on:)
  T+5d   the broker is stopped and the webhook answers 500: escalated
         (inside critical_before) waits; the zone moves to dsupdated:
         resolved waits; broker back, webhook well: both arrive, in order
  then   SIGTERM: exit 0, status offline (retained)
"""
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "../alerts"))
from tap import Tap  # noqa: E402
import harness as h  # noqa: E402

t = Tap()
BIN = os.environ["DNSSECMON_BIN"]
TOP = os.environ["DNSSECMON_TOP"]
TB = os.path.join(TOP, "tests/testbed/testbed.sh")
env = h.testbed_env(TOP)
ZONE = env["TESTBED_SWITCH_ZONE"]
DAY = 86400
T = int(time.time())
tmp = tempfile.mkdtemp(prefix="dnssecmon-alerts-walk.")
DB = os.path.join(tmp, "db.sqlite")
CONF = os.path.join(tmp, "dnssecmon.yaml")
ALERTS = "dnssecmon/alerts"
STATE = "dnssecmon/domain/%s/state" % ZONE


def switch(state):
    p = subprocess.run([TB, "switch", state], capture_output=True, text=True,
                       timeout=180)
    t.is_(p.returncode, 0, "testbed switch %s" % state)
    return p.returncode == 0


def expected_ds():
    with open(os.path.join(env["TESTBED_EXPECT"], ZONE + ".ds")) as f:
        return [" ".join(line.split()) for line in f if line.strip()]


def alerts_on(sub):
    """Transitions of our zone seen on dnssecmon/alerts, duplicates (QoS 1
    allows them) dropped by the payload's id."""
    seen, out = set(), []
    for m in sub.messages(ALERTS):
        p = json.loads(m["payload"])
        if p["domain"] == ZONE and p["id"] not in seen:
            seen.add(p["id"])
            out.append(dict(p, _qos=m["qos"], _retain=m["retain"],
                            _raw=m["payload"]))
    return out


def checks():
    """How many checks of the zone the store holds: the daemon's progress."""
    p = subprocess.run([BIN, "history", ZONE, "--db", DB, "--format", "json"],
                       capture_output=True, text=True, timeout=30)
    return len(json.loads(p.stdout)["observations"]) if p.returncode == 0 else 0


# The one rotation shape (dnssecmon(8) JSON SHAPES).
ROTATION_FIELDS = ("domain", "kind", "source", "external_id", "start", "deadline",
                   "registrar_deadline", "seconds_left", "ds_ttl", "ds_updated_at",
                   "ds_everywhere_at", "safe_removal_at", "completed_at",
                   "outcome", "new_key_tag", "new_key_algorithm", "old_key_tags")


def api_rotation():
    """The open rotation as the daemon's JSON API gives it."""
    url = "http://127.0.0.1:%d/api/v1/domains/%s" % (HTTP_PORT, ZONE)
    with urllib.request.urlopen(url, timeout=10) as r:
        return json.load(r).get("rotation")


def check_rotation(now):
    """`check --db --format json` on a copy of the daemon's store (a check
    of its own would add to the history the walk counts), at the daemon's
    clock: the rotation object it prints."""
    copy = os.path.join(tmp, "check-copy.sqlite")
    src, dst = sqlite3.connect(DB), sqlite3.connect(copy)
    src.backup(dst)
    src.close()
    dst.close()
    p = subprocess.run([BIN, "check", "--db", copy, "--trust-anchor",
                        env["TESTBED_ANCHOR"], "--root-hints", env["TESTBED_HINTS"],
                        "--resolver", env["TESTBED_RESOLVER"], "--format", "json",
                        ZONE], capture_output=True, text=True, timeout=60,
                       env=dict(os.environ, DNSSECMON_NOW=str(now)))
    try:
        return json.loads(p.stdout)["domains"][0]["rotation"]
    except (ValueError, KeyError, IndexError):
        t.diag("check said: %s %s" % (p.stdout[:300], p.stderr[:300]))
        return {}


def hook_runs():
    d = os.path.join(tmp, "runs")
    runs = []
    for name in sorted(os.listdir(d), key=lambda n: int(n.split(".")[0])):
        with open(os.path.join(d, name)) as f:
            runs.append(json.load(f))
    return runs


# A hook that records what it was given, one file per run.
os.makedirs(os.path.join(tmp, "runs"))
RECORD = os.path.join(tmp, "record-hook")
with open(RECORD, "w") as f:
    f.write("""#!/usr/bin/env python3
import json, os, sys, time
d = %r
n = len(os.listdir(d)) + 1
env = {k: v for k, v in os.environ.items() if k.startswith("DNSSECMON_")}
with open(os.path.join(d, "%%d.json" %% n), "w") as f:
    json.dump({"argv": sys.argv[1:], "env": env, "stdin": sys.stdin.read(),
               "path": os.environ.get("PATH")}, f)
print("recorded run", n)
""" % os.path.join(tmp, "runs"))
os.chmod(RECORD, 0o755)
HANG = os.path.join(tmp, "hang-hook")
HANG_PIDS = os.path.join(tmp, "hang.pids")
with open(HANG, "w") as f:
    f.write("#!/bin/sh\necho $$ >> %s\nsleep 600 &\necho $! >> %s\nwait\n"
            % (HANG_PIDS, HANG_PIDS))
os.chmod(HANG, 0o755)

HTTP_PORT = h.free_port()
broker = h.Broker(tmp)
recv = h.Receiver()
sub = h.Subscriber(tmp, broker)
with open(CONF, "w") as f:
    f.write("""trust_anchor: %(anchor)s
root_hints: %(hints)s
resolvers: [%(resolver)s]
database: %(db)s
interval: 1s
timeout: 1s
retries: 1
alerts: {fire_after_checks: 2, repeat: 24h}
instance: walk
mqtt: {host: 127.0.0.1, port: %(port)d, reconnect_max: 1s, client_id: walk}
webhooks:
  - url: http://127.0.0.1:%(http)d/hook
    retry_max: 1s
    headers: {Authorization: Bearer s3cret}
  - {url: "http://127.0.0.1:%(http)d/api/v2/alerts", format: alertmanager,
     retry_max: 1s, name: am}
exec:
  - {command: [%(record)s, --zone, "%(zone)s"], on: [firing, escalated, resolved]}
  - {command: [%(hang)s], on: [firing], timeout: 2s, name: hang}
http: {listen: "127.0.0.1:%(api)d"}
domains: [%(zone)s]
""" % {"api": HTTP_PORT, "anchor": env["TESTBED_ANCHOR"], "hints": env["TESTBED_HINTS"],
       "resolver": env["TESTBED_RESOLVER"], "db": DB, "port": broker.port,
       "http": recv.port, "record": RECORD, "hang": HANG, "zone": ZONE})
daemon = h.Daemon(BIN, CONF, os.path.join(tmp, "daemon.log"))

want_ds, a = [], {}
try:
    p = subprocess.run([BIN, "run", "-c", CONF, "-n"], capture_output=True,
                       text=True)
    t.is_(p.stdout.strip(), "configuration OK", "the sink configuration checks OK")
    t.ok(broker.start(), "mosquitto started on 127.0.0.1:%d" % broker.port)
    sub.start()
    switch("healthy")

    # ---- T: healthy, then rollstart.
    daemon.start(T)
    t.ok(h.wait_for(lambda: any(json.loads(m["payload"])["state"] == "stable"
                                for m in sub.messages(STATE)), 60),
         "T: the state topic says %s is stable" % ZONE)
    # fire_after_checks is 2: by the third check an alert would be recorded.
    t.ok(h.wait_for(lambda: checks() >= 3, 60, 0.2, "three checks of " + ZONE),
         "T: three healthy checks recorded")
    t.is_([x["code"] for x in h.alerts_json(BIN, DB)["alerts"]
           if x["domain"] == ZONE], [], "T: healthy: no alert recorded")
    t.is_(alerts_on(sub), [], "T: healthy: no alert published")
    if switch("rollstart"):
        want_ds = expected_ds()
        t.is_(len(want_ds), 1, "rollstart: the testbed computed one DS to publish")
        t.ok(h.wait_for(lambda: alerts_on(sub), 60), "T: an alert arrives")
        a = (alerts_on(sub) or [{}])[0]
        if a:
            t.is_((a["code"], a["transition"], a["severity"], a["state"]),
                  ("rotation_pending", "firing", "warning", "rotation_pending"),
                  "T: rotation_pending firing, warning")
            t.is_((a["_qos"], a["_retain"]), (1, False),
                  "T: on %s with QoS 1, not retained" % ALERTS)
            t.is_(a["ds_to_publish"], want_ds,
                  "T: the DS to publish is the one the testbed computed")
            rot = a.get("rotation") or {}
            t.ok(a["deadline"] == rot.get("registrar_deadline") and
                 a["seconds_left"] == rot.get("seconds_left") and
                 6 * DAY < a["seconds_left"] <= 7 * DAY,
                 "T: registrar deadline and the time left (%s, %s s)"
                 % (a["deadline"], a["seconds_left"]))
            t.ok(all(k in a for k in ("message", "validation", "ds_to_remove",
                                      "failing_resolvers", "time", "id",
                                      "alert_id", "first_fired")),
                 "T: the payload has every field")
            t.is_(a.get("instance"), "walk",
                  "T: the payload names the instance that sent it")
            t.ok(want_ds and want_ds[0] in a["message"],
                 "T: the message itself names the DS record")
            # One rotation encoder: the alert payload, the API and
            # `check --db` give the same object, byte for byte (the
            # check adds its own view: state, ambiguous, readings).
            ar = json.dumps(rot, sort_keys=True)
            api = api_rotation()
            t.is_(json.dumps(api, sort_keys=True), ar,
                  "T: the API's rotation is the alert payload's")
            cr = check_rotation(T)
            t.ok(set(rot) and set(rot) <= set(cr) and
                 set(cr) - set(rot) <= {"state", "ambiguous", "readings"},
                 "T: check --db has the rotation's fields and its own view only",
                 sorted(set(cr) ^ set(rot)))
            t.is_(json.dumps({k: cr.get(k) for k in rot}, sort_keys=True), ar,
                  "T: check --db's rotation is the alert payload's")
            t.is_(sorted(rot), sorted(ROTATION_FIELDS),
                  "T: the rotation has the documented fields, no more")
            t.ok(rot.get("domain") == ZONE and rot.get("kind") == "ksk" and
                 rot.get("new_key_tag") and rot.get("start"),
                 "T: the rotation names its domain, kind, new key and start")
        # Retained: what a subscriber arriving now is given.
        r = h.retained(broker)
        st = json.loads(r.get(STATE, {}).get("payload", "{}"))
        t.ok(r.get(STATE, {}).get("retain") and st.get("state") == "rotation_pending"
             and st.get("ds_to_publish") == want_ds and st.get("deadline"),
             "T: the retained state follows: rotation_pending, DS, deadline")
        t.ok(r.get("dnssecmon/status/walk", {}).get("payload") == "online" and
             r["dnssecmon/status/walk"]["retain"], "T: status online, retained")
        # The webhook got the same bytes.
        t.ok(h.wait_for(lambda: recv.delivered("/hook"), 60), "T: the webhook got it")
        raw = [r for r in recv.raw("/hook") if r["status"] == 200]
        t.ok(raw and a and raw[0]["body"] == a["_raw"],
             "T: the webhook body is byte for byte the MQTT payload")
        t.ok(raw and raw[0]["headers"].get("Authorization") == "Bearer s3cret" and
             raw[0]["headers"].get("Content-Type") == "application/json",
             "T: configured headers are sent")
        am = recv.delivered("/api/v2/alerts")
        t.ok(am and isinstance(am[0], list) and
             am[0][0]["labels"] == {"alertname": "dnssecmon_rotation_pending",
                                    "domain": ZONE, "zone": ZONE,
                                    "severity": "warning",
                                    "code": "rotation_pending"} and
             want_ds[0] in am[0][0]["annotations"]["description"] and
             am[0][0]["annotations"].get("dnssecmon_instance") == "walk" and
             am[0][0]["startsAt"] and am[0][0]["endsAt"] > am[0][0]["startsAt"],
             "T: Alertmanager v2: labels, annotations with the DS, startsAt/endsAt",
             am[:1])
        # The exec hook: argv, environment, the payload on stdin.
        t.ok(h.wait_for(lambda: hook_runs(), 60), "T: the exec hook ran")
        runs = hook_runs()
        if runs:
            e = runs[0]["env"]
            t.is_(runs[0]["argv"], ["--zone", ZONE], "exec: argv as configured")
            t.is_((e.get("DNSSECMON_DOMAIN"), e.get("DNSSECMON_CODE"),
                   e.get("DNSSECMON_TRANSITION"), e.get("DNSSECMON_SEVERITY"),
                   e.get("DNSSECMON_STATE")),
                  (ZONE, "rotation_pending", "firing", "warning",
                   "rotation_pending"), "exec: the alert in the environment")
            t.is_(e.get("DNSSECMON_DS_ADD"), "\n".join(want_ds),
                  "exec: DNSSECMON_DS_ADD is the DS to publish")
            t.ok(e.get("DNSSECMON_DEADLINE") == (a or {}).get("deadline") and
                 e.get("DNSSECMON_DS_REMOVE") == "" and e.get("DNSSECMON_MESSAGE"),
                 "exec: deadline, DS to remove, message")
            t.ok(a and runs[0]["stdin"] == a["_raw"], "exec: the payload on stdin")
        # The hook that hangs: killed at its 2 s timeout, its child too.
        d = h.wait_for(lambda: (h.delivery(h.alerts_json(BIN, DB), "rotation_pending",
                                           "firing", "hang") or {}).get("status")
                       == "failed" and h.delivery(h.alerts_json(BIN, DB),
                                                  "rotation_pending", "firing", "hang"), 60)
        t.ok(d and "timed out after 2 s" in (d.get("last_error") or ""),
             "exec: the hanging hook is killed at its timeout and recorded",
             d)
        pids = open(HANG_PIDS).read().split() if os.path.exists(HANG_PIDS) else []
        t.ok(len(pids) == 2 and h.wait_for(lambda: not any(
            os.path.exists("/proc/%s" % x) and "zombie" not in
            open("/proc/%s/status" % x).read().lower() for x in pids), 30),
            "exec: the hook and its child are gone (%s)" % " ".join(pids))
    t.is_(daemon.stop(), 0, "T: SIGTERM: exit 0")

    # ---- T+2d: still pending: a reminder.
    daemon.start(T + 2 * DAY)
    t.ok(h.wait_for(lambda: [x for x in alerts_on(sub) if x["transition"] == "reminder"],
                    60), "T+2d: a reminder arrives")
    t.is_(daemon.stop(), 0, "T+2d: SIGTERM: exit 0")
    t.is_(len(hook_runs()), 1, "exec: not run for a reminder (not in its on:)")

    # ---- T+5d: broker down, webhook failing.
    broker.stop()
    recv.status = 500
    daemon.start(T + 5 * DAY)
    esc = h.wait_for(lambda: h.delivery(h.alerts_json(BIN, DB), "rotation_pending",
                                        "escalated", "mqtt"), 60)
    t.ok(esc and esc["status"] == "pending",
         "T+5d, broker down: the escalation waits in the outbox for mqtt")
    w = h.wait_for(lambda: (h.delivery(h.alerts_json(BIN, DB), "rotation_pending",
                                       "escalated", "webhook:127.0.0.1/hook") or {})
                   .get("attempts", 0) >= 2 and
                   h.delivery(h.alerts_json(BIN, DB), "rotation_pending", "escalated",
                              "webhook:127.0.0.1/hook"), 60)
    t.ok(w and w["status"] == "pending" and "HTTP 500" in (w["last_error"] or ""),
         "T+5d, webhook 500: retried (%s attempts), still pending"
         % (w or {}).get("attempts"))
    if switch("dsupdated"):
        res = h.wait_for(lambda: h.delivery(h.alerts_json(BIN, DB), "rotation_pending",
                                            "resolved", "mqtt"), 60)
        t.ok(res and res["status"] == "pending",
             "dsupdated: resolved, waiting for the broker")
    before = len(alerts_on(sub))
    t.ok(broker.start(), "the broker is back on the same port")
    recv.status = 200
    t.ok(h.wait_for(lambda: len(alerts_on(sub)) >= before + 2, 60),
         "the missed transitions arrive")
    seq = [(x["transition"], x["severity"]) for x in alerts_on(sub)]
    t.is_(seq, [("firing", "warning"), ("reminder", "warning"),
                ("escalated", "critical"), ("resolved", "critical")],
          "MQTT: firing, reminder, escalated, resolved: none lost, in order")
    ids = [x["id"] for x in alerts_on(sub)]
    t.ok(ids == sorted(ids), "MQTT: outbox ids increase (%s)" % ids)
    esc_msg = [x for x in alerts_on(sub) if x["transition"] == "escalated"]
    t.ok(esc_msg and esc_msg[0]["seconds_left"] < 3 * DAY and
         esc_msg[0]["ds_to_publish"] == want_ds,
         "escalated: inside critical_before, still naming the DS")
    t.ok(h.wait_for(lambda: len(recv.delivered("/hook")) >= 4, 60),
         "the webhook catches up")
    t.is_([x["transition"] for x in recv.delivered("/hook")],
          ["firing", "reminder", "escalated", "resolved"],
          "webhook: firing, reminder, escalated, resolved, in order")
    t.ok(len([r for r in recv.raw("/hook") if r["status"] == 500]) >= 2,
         "webhook: the 500 answers were retried")
    t.ok(h.wait_for(lambda: len(recv.delivered("/api/v2/alerts")) >= 4, 15),
         "Alertmanager catches up")
    t.is_([x[0]["labels"]["severity"] for x in recv.delivered("/api/v2/alerts")],
          ["warning", "warning", "critical", "critical"],
          "Alertmanager: every transition, severity as it stood")
    am = recv.delivered("/api/v2/alerts")
    t.ok(am and am[-1][0]["endsAt"] <= time.strftime(
        "%Y-%m-%dT%H:%M:%SZ", time.gmtime(T + 5 * DAY + 3600)),
        "Alertmanager: the resolution ends the alert (endsAt)")
    t.ok(h.wait_for(lambda: [r["env"]["DNSSECMON_TRANSITION"] for r in hook_runs()]
                    == ["firing", "escalated", "resolved"], 60),
         "exec: ran for firing, escalated, resolved",
         [r["env"]["DNSSECMON_TRANSITION"] for r in hook_runs()])
    st = json.loads(h.retained(broker).get(STATE, {}).get("payload", "{}"))
    t.is_((st.get("state"), st.get("ds_to_publish")), ("ds_updated", []),
          "the retained state follows the zone: ds_updated")

    def settled():
        """(state, [(transition, sink, status)]) once nothing is pending."""
        mine = [x for x in h.alerts_json(BIN, DB)["alerts"] if x["domain"] == ZONE]
        if not mine:
            return None
        got = [(tr["transition"], d["sink"], d["status"])
               for tr in mine[0]["transitions"] for d in tr["deliveries"]]
        return (mine[0]["state"], got) if all(x[2] != "pending" for x in got) else None
    state, got = h.wait_for(settled, 60, 0.2, "no delivery pending") or (None, [])
    # Only "delivered" counts: a delivery given up ("failed") is a lost
    # alert. The one exception is the hook that hangs on purpose, whose
    # failure is asserted above.
    lost = [x for x in got if x[2] != "delivered" and x[:2] != ("firing", "hang")]
    t.ok(state == "resolved" and not lost and
         ("firing", "hang", "failed") in got and
         all((tr, "mqtt", "delivered") in got
             for tr in ("firing", "reminder", "escalated", "resolved")),
         "dnssecmon alerts: resolved, every transition delivered, none failed",
         {"state": state, "not delivered": lost, "all": got})
    p = subprocess.run([BIN, "alerts", "--db", DB], capture_output=True, text=True)
    t.ok(p.returncode == 0 and "rotation_pending: resolved" in p.stdout and
         "mqtt" in p.stdout, "dnssecmon alerts (text) lists it")
    t.diag(p.stdout)
    t.is_(daemon.stop(), 0, "SIGTERM: exit 0")
    r = h.retained(broker)
    t.is_((r.get("dnssecmon/status/walk") or {}).get("payload"), "offline",
          "after stop: status offline, retained")
finally:
    if daemon.proc is not None:
        daemon.stop()
    sub.stop() if sub.proc else None
    broker.stop()
    recv.stop()
    subprocess.run([TB, "switch", "healthy"], capture_output=True, timeout=180)
    if t.failed:
        with open(os.path.join(tmp, "daemon.log")) as f:
            t.diag(f.read()[-4000:])
    shutil.rmtree(tmp, ignore_errors=True)

sys.exit(t.done())
