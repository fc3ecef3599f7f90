#!/usr/bin/env python3
"""One snapshot cannot tell a rotation that starts from one that finishes.

The testbed's nocdsstart (new key, old DS) and nocdsswap (new DS, old key
still published) zones publish no CDS: seen once, each is the other's
mirror image. Asserts that every output says so and gives both readings
(JSON, text, Nagios), that no countdown opens on a guess, and that history
(`check --db`) ends the doubt as soon as it can: on the switch zone, a key
that appears after the first check is the new one.
"""
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.dirname(__file__))
from tap import Tap, testbed_env  # noqa: E402
import scenario_common as sc  # noqa: E402

t = Tap()
BIN = os.environ["DNSSECMON_BIN"]
env = testbed_env()
TLD = env["TESTBED_TLD"]


def check(*args, fmt="json", now=None):
    """(process, the domain's JSON or None): the name last in args."""
    return sc.check_json(t, env, args[-1], *args[:-1], fmt=fmt, now=now)


def codes(d):
    return {x["code"] for x in d["problems"]}


def expected_ds(zone):
    return sc.expected_ds(env, zone)


for label in ("nocdsstart", "nocdsswap"):
    zone = "%s.%s" % (label, TLD)
    p, d = check(zone)
    if d is None:
        t.ok(False, "%s: JSON output (%s)" % (zone, p.stderr.strip()))
        continue
    t.is_(p.returncode, 1, "%s: exit 1 (WARNING)" % zone)
    t.is_(d["rotation"]["state"], "rotation_pending",
          "%s: state rotation_pending (the cautious reading)" % zone)
    t.is_(d["rotation"]["ambiguous"], True, "%s: rotation.ambiguous" % zone)
    t.ok("rotation_ambiguous" in codes(d) and
         "rotation_pending" not in codes(d),
         "%s: problem rotation_ambiguous, not rotation_pending" % zone,
         "got %s" % sorted(codes(d)))
    want = expected_ds(zone)
    got = sorted(x["record"] for x in d["ds_to_publish"])
    t.is_(got, want, "%s: the DS offered is the key without DS "
          "(dnssec-dsfromkey)" % zone)
    t.ok(d["ds_to_publish"] and
         all(x["conditional"] is True for x in d["ds_to_publish"]),
         "%s: every DS to publish is marked conditional" % zone)
    rd = d["rotation"].get("readings") or []
    t.is_(len(rd), 2, "%s: two readings" % zone)
    if len(rd) == 2:
        t.ok(rd[0]["records"] == got and "new key" in rd[0]["if"],
             "%s: reading 1: if the key is new, add its DS" % zone)
        t.ok(rd[1]["records"] == [] and "retiring" in rd[1]["if"] and
             "nothing" in rd[1]["then"],
             "%s: reading 2: if the key is retiring, nothing to do" % zone)
    msg = " ".join(x["message"] for x in d["problems"]
                   if x["code"] == "rotation_ambiguous")
    t.ok("nothing is needed" in msg and want and want[0] in msg,
         "%s: the message itself gives both readings and the DS" % zone,
         msg)

    p, _ = check(zone, fmt="text")
    t.ok("publish? " + want[0] in p.stdout and "only if key" in p.stdout,
         "%s: text output marks the DS as conditional" % zone, p.stdout)
    p, _ = check(zone, fmt="nagios")
    t.ok(p.returncode == 1 and "rotation_ambiguous" in p.stdout,
         "%s: Nagios says rotation_ambiguous, exit 1" % zone, p.stdout)

# A zone with CDS is not ambiguous: the host said which key is new.
p, d = check("rollstart.%s" % TLD)
d = d or {"rotation": {}, "problems": []}
t.ok(d["rotation"].get("ambiguous") is False and
     "rotation_pending" in codes(d),
     "rollstart (CDS names the new key): not ambiguous, rotation_pending")

# History: first observation of the mirror image stays ambiguous (both keys
# were seen together); a key that appears after the first check is new.
SW = env["TESTBED_SWITCH_ZONE"]


def switch(state):
    sc.testbed(t, "switch", state, timeout=120)


with tempfile.TemporaryDirectory() as tmp:
    db = os.path.join(tmp, "h.db")
    p, d = check("--db", db, "nocdsswap.%s" % TLD)
    d = d or {"rotation": {}}
    t.ok(d["rotation"].get("ambiguous") is True,
         "check --db, first observation of nocdsswap: still ambiguous")
    p = subprocess.run([BIN, "rotations", "--db", db, "--format", "json"],
                       capture_output=True, text=True, timeout=60)
    t.ok(p.returncode == 0 and "nocdsswap" not in p.stdout,
         "no rotation (no countdown) is opened on a guess", p.stdout[:300])

    # The second check an hour "later" (DNSSECMON_NOW): history keeps
    # whole seconds, and two checks within one second see keys "together".
    t0 = int(time.time())
    switch("healthy")
    p, _ = check("--db", db, SW, now=t0)
    t.is_(p.returncode, 0, "switch zone healthy, recorded")
    switch("nocdsstart")
    p, d = check("--db", db, SW, now=t0 + 3600)
    d = d or {"rotation": {}, "problems": []}
    t.ok(d["rotation"].get("ambiguous") is False and
         "rotation_pending" in codes(d) and
         "rotation_deadline" in codes(d),
         "with history the new key is known: rotation_pending with its "
         "deadline, not ambiguous", sorted(codes(d)))
    t.ok(d["ds_to_publish"] and
         all(x["conditional"] is False for x in d["ds_to_publish"]),
         "with history the DS to publish is no longer conditional")
    switch("healthy")

t.done()
