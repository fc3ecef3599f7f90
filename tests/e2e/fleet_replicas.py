#!/usr/bin/env python3
"""Two replicas of one shard on one MQTT broker (a real mosquitto), each
with its own database and HTTP port, checking the testbed's switchable
zone, and an instance of the other shard of the same configuration:

  - each says who it is: /readyz and /api/v1/domains name its instance,
    and its retained status topic dnssecmon/status/INSTANCE is its own
    ("online" while it runs, "offline" after it stops; the other's stays);
  - the host's dnssec.rotation_start (the shipped fixture, pointed at the
    zone) posted to replica A appears in replica B's `dnssecmon rotations`
    with the host's start and key, relayed on dnssecmon/host-events/ZONE;
    A's own echo changes nothing (one rotation in each store), and the
    same event posted to B is a duplicate there;
  - with B stopped, dnssec.rotation_complete posted to C, the other
    shard, is relayed (200 "relayed", nothing in C's store): it closes
    the rotation in A's store at once, and waits at the broker (B's
    persistent session) to close it in B's store when B comes back;
  - with the broker stopped, a new start posted to A reaches B once the
    broker is back;
  - a second daemon with A's instance name: the broker keeps dropping one
    of the two, and the log says why.
The broker listens on the testbed's own /24 (.50), on a free port."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "../alerts"))
from tap import Tap  # noqa: E402
import dash_common as dc  # noqa: E402
import harness as h  # noqa: E402

t = Tap()
env = dc.testbed_env()
ZONE = env["TESTBED_SWITCH_ZONE"]
SECRET = "e2e-fleet-%s-Zr7u" % os.getpid()
# Extra addresses of a testbed are .50-.99 of its /24.
BROKER_HOST = env["TESTBED_RESOLVER"].rsplit(".", 1)[0] + ".50"
tmp = tempfile.mkdtemp(prefix="dnssecmon-fleet-")
broker = h.Broker(tmp, host=BROKER_HOST)


def replica(name):
    return dc.Daemon(env, [ZONE], interval="2s", prefix="fleet-" + name,
                     extra="instance: %s\nmqtt: {host: %s, port: %d, "
                     "reconnect_max: 1s}\nhooks:\n  dnsimple:\n    secret: %s\n"
                     % (name, BROKER_HOST, broker.port, SECRET))


def shard_of(name, n):
    """The daemon's shard of a domain: FNV-1a 64 of its name, mod n."""
    x = 1469598103934665603
    for c in name.encode():
        x = ((x ^ c) * 1099511628211) & 0xFFFFFFFFFFFFFFFF
    return x % n + 1


a, b, c = replica("replica-a"), replica("replica-b"), replica("other-shard")
K = shard_of(ZONE, 2)
OURS, OTHER = ["--shard", "%d/2" % K], ["--shard", "%d/2" % (3 - K)]


def utc(ts):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))



def event(which, request_id, updated_at, ds):
    return dc.host_event(which, ZONE, request_id, updated_at, ds)


def post(d, body):
    return dc.post_webhook(d, SECRET, body)


def rotations(d):
    p = subprocess.run([dc.BIN, "rotations", "--db", d.db, "--format", "json"],
                       capture_output=True, text=True, timeout=30)
    if p.returncode != 0:
        return []
    j = json.loads(p.stdout)
    rows = j["rotations"] if isinstance(j, dict) else j
    return [r for r in rows if r["domain"] == ZONE and r["kind"] == "ksk"]


def status_topics():
    r = h.retained(broker, "dnssecmon/status/#")
    return {k: v["payload"] for k, v in r.items() if v["retain"]}


try:
    t.ok(broker.start(), "mosquitto on %s:%d" % (BROKER_HOST, broker.port))
    sw = subprocess.run([dc.TB, "switch", "healthy"], capture_output=True,
                        text=True, timeout=180)
    t.is_(sw.returncode, 0, "testbed switch healthy")
    a.start(args=OURS)
    b.start(args=OURS)
    c.start(args=OTHER)
    t.ok(a.ready() and b.ready() and c.ready(),
         "both replicas and the other shard are ready")

    # ---- identity
    for d, name in ((a, "replica-a"), (b, "replica-b")):
        status, j = dc.get_json(d.port, "/readyz")
        t.is_((status, j.get("instance"), j.get("shard")),
              (200, name, {"index": K, "count": 2}),
              "%s: /readyz names the instance and shard" % name)
        status, j = dc.get_json(d.port, "/api/v1/domains")
        t.is_(j.get("instance"), name, "%s: /api/v1/domains names it" % name)
    want = {"dnssecmon/status/replica-a": "online",
            "dnssecmon/status/replica-b": "online",
            "dnssecmon/status/other-shard": "online"}
    t.ok(dc.wait_for(lambda: status_topics() == want, 60),
         "each instance has its own retained status topic, all online")
    t.is_(status_topics(), want, "... and no other status topic")

    # ---- a start posted to A reaches B's store
    ds = dc.new_ksk_ds(env, ZONE)
    host_start = int(time.time()) - 86400
    start = event("rotation_start", "e2e-fleet-start-%d" % os.getpid(),
                  utc(host_start), ds)
    status, j = post(a, start)
    t.is_((status, j.get("result") if isinstance(j, dict) else j),
          (200, "opened"), "start posted to A: 200, a rotation opened")

    def in_b():
        rots = rotations(b)
        return rots if rots and rots[0].get("source") == "dnsimple" else None
    rots = dc.wait_for(in_b, 60, what="the rotation in B's store") or []
    t.is_(len(rots), 1, "B's dnssecmon rotations: one rotation for %s" % ZONE)
    r0 = rots[0] if rots else {}
    t.is_((r0.get("source"), r0.get("start"), r0.get("new_key_tag"),
           r0.get("outcome")), ("dnsimple", utc(host_start), int(ds[0]), None),
          "B's dnssecmon rotations: open, from dnsimple, the host's start "
          "and key")
    t.ok(r0.get("registrar_deadline") and r0.get("registrar_deadline") ==
         (rotations(a) or [{}])[0].get("registrar_deadline"),
         "B's registrar deadline is A's")
    t.ok(dc.wait_for(lambda: "host event relayed by another replica: opened"
                     in b.log_text(), 30), "B's log says it was relayed")
    status, j = post(b, start)
    t.is_((status, j.get("result") if isinstance(j, dict) else j),
          (200, "duplicate"), "the same event posted to B: a duplicate there")
    t.is_(len(rotations(a)), 1, "A's own echo opened nothing more")

    # ---- B away: the completion waits at the broker for it
    t.is_(b.stop(), 0, "B stops: exit 0")
    t.ok(dc.wait_for(lambda: status_topics() == {
        "dnssecmon/status/replica-a": "online",
        "dnssecmon/status/replica-b": "offline",
        "dnssecmon/status/other-shard": "online"}, 30),
        "B's status is offline, the others' still online")
    done_at = int(time.time()) - 60
    status, j = post(c, event("rotation_complete",
                              "e2e-fleet-done-%d" % os.getpid(),
                              utc(done_at), ds))
    t.is_((status, j.get("result") if isinstance(j, dict) else j),
          (200, "relayed"), "completion posted to the other shard: relayed")
    t.is_(rotations(c), [], "the other shard's store holds no rotation")
    status, _, raw = dc.request(c.port, "GET", "/metrics")
    t.ok(status == 200 and 'dnssecmon_webhook_events_total{source="dnsimple",'
         'result="relayed"} 1\n' in raw.decode(),
         "the other shard's /metrics counts one relayed event")

    def closed_in_a():
        rots = rotations(a)
        return rots if rots and rots[0].get("outcome") else None
    rots = dc.wait_for(closed_in_a, 60, what="the completion in A") or [{}]
    t.is_((len(rots), rots[0].get("outcome"), rots[0].get("completed_at")),
          (1, "completed", utc(done_at)),
          "A: the relayed completion closes the rotation at the host's time")
    t.is_((rotations(b) or [{}])[0].get("outcome"), None,
          "B's store has not heard of it yet")
    b.start()

    def closed_in_b():
        rots = rotations(b)
        return rots if rots and rots[0].get("outcome") else None
    rots = dc.wait_for(closed_in_b, 60, what="the completion in B") or [{}]
    t.is_((len(rots), rots[0].get("outcome"), rots[0].get("completed_at")),
          (1, "completed", utc(done_at)),
          "B back: its persistent session delivers the completion, closed "
          "at the host's time")

    # ---- the broker away: A keeps the event and sends it when it is back
    t.is_(broker.stop(), 0, "the broker stops")
    t.ok(dc.wait_for(lambda: "mqtt: " in a.log_text() and
                     "reconnecting" in a.log_text(), 30),
         "A notices the broker is gone")
    again = event("rotation_start", "e2e-fleet-again-%d" % os.getpid(),
                  utc(int(time.time()) - 3600), ds)
    status, j = post(a, again)
    t.is_((status, j.get("result") if isinstance(j, dict) else j),
          (200, "opened"), "a new start posted to A while the broker is "
          "down: opened")
    t.ok(broker.start(), "the broker is back (its sessions persisted)")

    def two_in_b():
        rots = rotations(b)
        return rots if len(rots) == 2 else None
    rots = dc.wait_for(two_in_b, 60, what="the second rotation in B") or []
    t.is_(sorted(r.get("outcome") or "open" for r in rots),
          ["completed", "open"],
          "B: the event A took while the broker was down reaches B")

    # ---- a second daemon named like A: the two take the broker's
    # connection from each other, and one of them says why
    twin = replica("replica-a")
    twin.start(args=OURS)
    warning = "is another daemon using client id dnssecmon-replica-a"
    t.ok(dc.wait_for(lambda: warning in a.log_text() + twin.log_text(), 90),
         "two daemons with one instance name: the flapping connection is "
         "explained in the log")
    t.is_(twin.stop(), 0, "the twin stops: exit 0")
    twin.cleanup()

    t.is_(a.stop(), 0, "A stops: exit 0")
    t.is_(b.stop(), 0, "B stops: exit 0")
    t.is_(c.stop(), 0, "the other shard stops: exit 0")
    t.is_(status_topics(), {"dnssecmon/status/replica-a": "offline",
                            "dnssecmon/status/replica-b": "offline",
                            "dnssecmon/status/other-shard": "offline"},
          "after all stop: each status offline, retained")
finally:
    for d in (a, b, c):
        if d.proc is not None:
            t.diag("--- %s log\n%s" % (d.tmp, d.log_text()[-3000:]))
        d.cleanup()
    broker.stop()
    shutil.rmtree(tmp, ignore_errors=True)
    subprocess.run([dc.TB, "switch", "healthy"], capture_output=True,
                   timeout=180)
sys.exit(t.done())
