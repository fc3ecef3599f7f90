#!/usr/bin/env python3
"""--shard K/N: N instances with one configuration split the domain list,
each domain checked by exactly one of them, the same one every time."""
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from tap import Tap, testbed_env  # noqa: E402

t = Tap()
BIN = os.environ["DNSSECMON_BIN"]
TOP = os.environ["DNSSECMON_TOP"]
env = testbed_env()
zones = env["TESTBED_ZONES"].split()
tmp = tempfile.mkdtemp(prefix="dnssecmon-shard-")


def run(shard, n, db):
    conf = os.path.join(tmp, "c.yaml")
    with open(conf, "w") as f:
        f.write("trust_anchor: %s\nroot_hints: %s\nresolvers: [%s]\ndatabase: %s\n"
                "timeout: 1s\ndomains:\n%s" % (
                    env["TESTBED_ANCHOR"], env["TESTBED_HINTS"], env["TESTBED_RESOLVER"],
                    db, "".join("  - %s\n" % z for z in zones)))
    p = subprocess.run([BIN, "run", "-c", conf, "--once", "--shard", "%d/%d" % (shard, n), "-v"],
                       capture_output=True, text=True, timeout=120)
    checked = set(re.findall(r"^dnssecmon: ([a-z0-9.-]+): ", p.stderr, re.M)) & set(zones)
    m = re.search(r"round: (\d+) checks", p.stderr)
    return p.returncode, checked, int(m.group(1)) if m else -1


results = {}
for k in (1, 2, 3):
    rc, checked, n = run(k, 3, os.path.join(tmp, "s%d.db" % k))
    t.is_(rc, 0, "shard %d/3: exit 0" % k)
    t.is_(n, len(checked), "shard %d/3: its round counts the domains it logged" % k)
    results[k] = checked
union = results[1] | results[2] | results[3]
t.is_(sorted(union), sorted(zones), "shards 1-3 of 3 together check every domain")
t.ok(not (results[1] & results[2] or results[1] & results[3] or results[2] & results[3]),
     "no domain is checked by two shards")
t.ok(all(results[k] for k in results), "the hash spreads %d domains over all 3 shards" % len(zones))
rc, again, _ = run(2, 3, os.path.join(tmp, "again.db"))
t.is_(sorted(again), sorted(results[2]), "the same shard gets the same domains on a second run")
subprocess.run(["rm", "-rf", tmp])
sys.exit(t.done())
