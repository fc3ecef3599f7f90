#!/usr/bin/env python3
"""Walk the testbed's switchable zone through a whole KSK rotation, live:
re-signed, servers reloaded, resolver flushed between checks. After each
step the real binary must report the state a NOC would expect."""
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.dirname(__file__))
from tap import Tap, testbed_env  # noqa: E402
import scenario_common as sc  # noqa: E402
from scenario_common import ksk_tags  # noqa: E402

t = Tap()
env = testbed_env()
ZONE = env["TESTBED_SWITCH_ZONE"]


def switch(state):
    sc.testbed(t, "switch", state, timeout=120)


def check():
    p, d = sc.check_json(t, env, ZONE, timeout=60)
    return p.returncode, d


def expect_file():
    return sc.expected_ds(env, ZONE)


try:
    switch("healthy")
    rc, d = check()
    t.is_((d["rotation"]["state"], d["severity"], rc), ("stable", "ok", 0),
          "healthy: stable, ok, exit 0")
    old = ksk_tags(d)
    t.is_(len(old), 1, "healthy: one KSK")

    switch("rollstart")
    rc, d = check()
    t.is_((d["rotation"]["state"], d["severity"], rc),
          ("rotation_pending", "warning", 1), "rollstart: rotation_pending, warning, exit 1")
    new = [k for k in ksk_tags(d) if k not in old]
    t.is_(len(new), 1, "rollstart: one new KSK beside the old one")
    t.is_(sorted(x["record"] for x in d["ds_to_publish"]), expect_file(),
          "rollstart: DS to publish equals dnssec-dsfromkey for the new key")
    t.is_([x["key_tag"] for x in d["ds_to_publish"]], new,
          "rollstart: the DS to publish is for the new key")

    switch("dsupdated")
    rc, d = check()
    t.is_((d["rotation"]["state"], d["severity"], rc), ("ds_updated", "ok", 0),
          "dsupdated: ds_updated, ok, exit 0")
    t.is_(ksk_tags(d, has_ds=True), new, "dsupdated: the parent's DS is for the new key")
    t.is_(d["ds_to_publish"], [], "dsupdated: nothing left to publish")

    switch("rolldone")
    rc, d = check()
    t.is_((d["rotation"]["state"], d["severity"], rc), ("stable", "ok", 0),
          "rolldone: stable again, exit 0")
    t.is_(ksk_tags(d), new, "rolldone: only the new KSK is published")

    switch("broken")
    rc, d = check()
    t.is_((d["rotation"]["state"], d["validation"], d["severity"], rc),
          ("broken", "bogus", "critical", 2), "broken: broken, bogus, critical, exit 2")
    t.is_([x["key_tag"] for x in d["ds_to_publish"]], new,
          "broken: the fix is the new key's DS")
    t.is_(d["resolvers"][0]["rcode"], "SERVFAIL", "broken: the resolver already fails")

    switch("staleds")
    rc, d = check()
    t.is_((d["rotation"]["state"], rc), ("stale_ds", 1), "staleds: stale_ds, exit 1")
    t.is_([x["key_tag"] for x in d["ds_to_remove"]], old, "staleds: remove the old key's DS")

    switch("rekey")
    rc, d = check()
    t.is_((d["rotation"]["state"], rc), ("stable", 0), "rekey: back to a stable zone")
    t.ok(ksk_tags(d) == new, "rekey: the former new key is now the only KSK")
    switch("rollstart")
    rc, d = check()
    newer = [k for k in ksk_tags(d) if k not in new]
    t.ok(len(newer) == 1 and newer[0] not in old,
         "rekey then rollstart: a fresh key, never seen before, waits for its DS")
finally:
    subprocess.run([sc.TB, "switch", "healthy"], capture_output=True, timeout=120)

sys.exit(t.done())
