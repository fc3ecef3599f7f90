#!/usr/bin/env python3
"""The DNS host webhook (POST /hooks/dnsimple/SECRET) on a live daemon
over the testbed, walking the switchable zone:

  - healthy, then the host's dnssec.rotation_start (the shipped fixture,
    pointed at the zone and the testbed's next KSK) opens a rotation with
    the host's time, visible in `dnssecmon rotations`; its DS is not in
    DNS yet, so the API reports host_ds_mismatch;
  - the same delivery again changes nothing; a wrong secret gets 404 and a
    log line without the secret; a body over 64 KiB 413; malformed JSON
    400 with the reason;
  - `switch rollstart` publishes the key: the next check confirms the DS
    (no mismatch), and the checks do not open a second rotation;
  - `switch dsupdated`, then dnssec.rotation_complete closes the rotation
    at the host's time.
The switchable zone is left healthy."""
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.dirname(__file__))
from tap import Tap  # noqa: E402
import dash_common as dc  # noqa: E402

t = Tap()
env = dc.testbed_env()
ZONE = env["TESTBED_SWITCH_ZONE"]
SECRET = "e2e-%s-Q8v3XkP2" % os.getpid()
d = dc.Daemon(env, [ZONE], interval="2s", prefix="dash-hook",
              extra="hooks:\n  dnsimple:\n    secret: %s\n" % SECRET)


def utc(ts):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


def switch(state):
    p = subprocess.run([dc.TB, "switch", state], capture_output=True,
                       text=True, timeout=180)
    t.is_(p.returncode, 0, "testbed switch %s" % state)
    return p.returncode == 0



def event(which, request_id, updated_at, ds):
    return dc.host_event(which, ZONE, request_id, updated_at, ds)


def post(body, secret=SECRET):
    return dc.post_webhook(d, secret, body)


def rotations():
    p = subprocess.run([dc.BIN, "rotations", "--db", d.db, "--format", "json"],
                       capture_output=True, text=True, timeout=30)
    if p.returncode != 0:
        t.diag(p.stderr)
        return []
    j = json.loads(p.stdout)
    rows = j["rotations"] if isinstance(j, dict) else j
    return [r for r in rows if r["domain"] == ZONE and r["kind"] == "ksk"]


def domain():
    return dc.get_json(d.port, "/api/v1/domains/" + ZONE)[1] or {}


def observations():
    p = subprocess.run([dc.BIN, "history", ZONE, "--db", d.db, "--format",
                        "json"], capture_output=True, text=True, timeout=30)
    return json.loads(p.stdout)["observations"] if p.returncode == 0 else []


def codes(dom):
    return [p["code"] for p in dom.get("problems", [])]


try:
    if not switch("healthy"):
        raise SystemExit(1)
    d.start()
    t.ok(d.ready(), "the daemon is ready")
    t.is_(domain().get("state"), "stable", "%s is stable before the event" % ZONE)
    ds = dc.new_ksk_ds(env, ZONE)
    host_start = int(time.time()) - 86400

    # Start: opens a rotation with the host's time.
    start = event("rotation_start", "e2e-start-%d" % os.getpid(),
                  utc(host_start), ds)
    status, j = post(start)
    t.is_(status, 200, "start: 200 once stored")
    t.is_(j.get("result") if isinstance(j, dict) else j, "opened",
          "start: a rotation opened")
    t.ok(isinstance(j, dict) and j.get("ds_matches_dns") is False,
         "start: the new key is not in DNS yet, so its DS matches nothing")
    rots = rotations()
    t.is_(len(rots), 1, "dnssecmon rotations: one rotation for %s" % ZONE)
    r0 = rots[0] if rots else {}
    t.is_((r0.get("source"), r0.get("start"), r0.get("new_key_tag")),
          ("dnsimple", utc(host_start), int(ds[0])),
          "dnssecmon rotations: from dnsimple, with the host's start and key")
    t.ok(r0.get("outcome") is None and r0.get("registrar_deadline"),
         "dnssecmon rotations: open, with a registrar deadline")
    # The event makes the daemon check the zone at once; that check
    # judges the host's DS against DNS.
    dom = dc.wait_for(lambda: (lambda x: x if "host_ds_mismatch" in codes(x)
                               else None)(domain()), 30) or domain()
    t.ok("host_ds_mismatch" in codes(dom), "api: host_ds_mismatch reported")

    def recorded_mismatch():
        obs = observations()
        return obs and "host_ds_mismatch" in codes(obs[-1])
    t.ok(dc.wait_for(recorded_mismatch, 60),
         "history: the next check records host_ds_mismatch (so alerts see it)")
    t.is_((dom.get("rotation") or {}).get("start"), utc(host_start),
          "api: the open rotation with the host's start")
    _, _, m = dc.request(d.port, "GET", "/metrics")
    t.ok(('dnssecmon_host_ds_mismatch{zone="%s"} 1' % ZONE).encode() in m and
         ('dnssecmon_registrar_deadline_timestamp_seconds{zone="%s"}' %
          ZONE).encode() in m, "metrics: the mismatch and the deadline")

    # The host retries: nothing changes.
    status, j = post(start)
    t.is_((status, j.get("result") if isinstance(j, dict) else j),
          (200, "duplicate"), "duplicate delivery: 200, duplicate")
    t.is_(len(rotations()), 1, "duplicate delivery: still one rotation")

    # Refusals.
    status, _ = post(start, secret="not-the-secret-at-all")
    t.is_(status, 404, "wrong secret: 404")
    log = d.log_text()
    t.ok("wrong secret" in log, "wrong secret: logged")
    t.ok(SECRET not in log and "not-the-secret-at-all" not in log,
         "the log never carries a secret, right or wrong")
    status, _ = post(b'{"name": "dnssec.rotation_start"' + b" " * 70000 + b"}")
    t.is_(status, 413, "a body over 64 KiB: 413")
    status, j = post(b'{"name": "dnssec.rotation_start", "data": {')
    t.is_(status, 400, "malformed JSON: 400")
    t.ok(isinstance(j, dict) and "malformed JSON" in j.get("error", ""),
         "malformed JSON: the reason in the answer", j)
    status, _, _ = dc.request(d.port, "GET", "/hooks/dnsimple/" + SECRET)
    t.is_(status, 405, "GET on the webhook: 405")
    t.is_(len(rotations()), 1, "nothing refused changed the store")

    # The key appears in DNS: the next check confirms the host's DS.
    if switch("rollstart"):
        ok = dc.wait_for(lambda: (lambda x: x if x.get("state") ==
                                  "rotation_pending" and
                                  (x.get("host_event") or {}).get("ds_matches_dns")
                                  is True else None)(domain()), 60)
        t.ok(ok, "rollstart seen: the host's DS now matches a published key")
        dom = domain()
        t.ok("host_ds_mismatch" not in codes(dom), "api: no mismatch any more")
        t.is_([x["key_tag"] for x in dom.get("ds_to_publish", [])],
              [int(ds[0])], "api: the DS to publish is the host's key")
        # Two more checks of the zone with the key published: each had
        # its chance to open a rotation of its own.
        n = len(observations())
        t.ok(dc.wait_for(lambda: len(observations()) >= n + 2, 60, 0.25,
                         "two more checks of " + ZONE),
             "rollstart: two more checks recorded")
        rots = rotations()
        t.is_(len(rots), 1, "the checks did not open a second rotation")
        t.is_(rots[0].get("start") if rots else None, utc(host_start),
              "the rotation keeps the host's start")

    # DS updated at the parent; the host says the rotation is complete.
    if switch("dsupdated"):
        t.ok(dc.wait_for(lambda: domain().get("state") == "ds_updated", 60),
             "dsupdated seen by the daemon")
        host_done = int(time.time()) - 60
        status, j = post(event("rotation_complete", "e2e-done-%d" % os.getpid(),
                               utc(host_done), ds))
        t.is_((status, j.get("result") if isinstance(j, dict) else j),
              (200, "closed"), "complete: 200, closed")
        rots = rotations()
        t.is_([(r["outcome"], r["completed_at"]) for r in rots],
              [("completed", utc(host_done))],
              "dnssecmon rotations: completed at the host's time")
        t.ok(domain().get("rotation") is None, "api: no open rotation")
        status, j = post(event("rotation_complete", "e2e-done-%d" % os.getpid(),
                               utc(host_done), ds))
        t.is_(status, 200, "complete delivered again: 200")
        t.is_(len(rotations()), 1, "complete delivered again: one rotation")
    t.is_(d.stop(), 0, "the daemon stops with exit 0")

    # Every endpoint and every webhook path once more under valgrind:
    # no memory error, nothing definitely lost.
    if os.environ.get("DNSSECMON_VARIANT", "").endswith("-san"):
        t.diag("valgrind left to the plain build; ASan/LSan ran the above")
    else:
        vlog = os.path.join(d.tmp, "valgrind.log")
        d.start(wrapper=("valgrind", "--leak-check=full",
                         "--show-leak-kinds=definite",
                         "--errors-for-leak-kinds=definite",
                         "--error-exitcode=99", "--log-file=" + vlog))
        t.ok(d.ready(120), "valgrind: the daemon gets ready")
        for path in ("/", "/metrics", "/api/v1/domains",
                     "/api/v1/domains/" + ZONE, "/healthz", "/readyz",
                     "/nothing"):
            dc.request(d.port, "GET", path, timeout=30)
        post(event("rotation_start", "vg-%d" % os.getpid(), utc(host_start), ds))
        post(event("rotation_start", "vg-%d" % os.getpid(), utc(host_start), ds))
        post(event("rotation_complete", "vg-done-%d" % os.getpid(),
                   utc(host_start + 3600), ds))
        post(b"{", secret=SECRET)
        post(b"{}", secret="wrong-wrong-wrong-wrong")
        post(b"x" * 70000)
        rc = d.stop(timeout=60)
        t.is_(rc, 0, "valgrind: exit 0, no memory error, nothing definitely lost")
        if rc != 0:
            with open(vlog) as f:
                t.diag(f.read()[-3000:])
finally:
    d.cleanup()
    subprocess.run([dc.TB, "switch", "healthy"], capture_output=True, timeout=180)
sys.exit(t.done())
