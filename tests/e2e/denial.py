#!/usr/bin/env python3
"""Denial of existence, through the real binary against the testbed.

Each server is asked for a random name below the domain and for a type the
apex lacks; dnssecmon checks each proof itself (ldns) and asks libunbound
for its verdict on the same name. The testbed's expect/<zone>.denial says
what the signer made (read back from the signed zone file: NSEC or NSEC3
with its iterations and salt, and whether server b's NSEC signatures were
altered), so nothing here is hard-coded but the scenario names.
"""
import json
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from tap import Tap, testbed_env  # noqa: E402

t = Tap()
BIN = os.environ["DNSSECMON_BIN"]
env = testbed_env()
TLD = env["TESTBED_TLD"]
BASE = ["--trust-anchor", env["TESTBED_ANCHOR"], "--root-hints",
        env["TESTBED_HINTS"], "--resolver", env["TESTBED_RESOLVER"]]


def check(*args, fmt="json"):
    p = subprocess.run([BIN, "check", *BASE, "--format", fmt, *args],
                       capture_output=True, text=True, timeout=120)
    if fmt != "json":
        return p, None
    try:
        return p, {d["domain"]: d for d in json.loads(p.stdout)["domains"]}
    except (ValueError, KeyError) as e:
        t.diag("bad JSON (%s): %s" % (e, p.stdout[:300]))
        return p, {}


def expect(zone):
    with open(os.path.join(env["TESTBED_EXPECT"], zone + ".denial")) as f:
        return f.read().split("\n")


def problems(d, code):
    return [p for p in d.get("problems", []) if p["code"] == code]


def server(d, address):
    return [s for s in d["nameservers"] if s["address"] == address][0]


healthy, nsec3, bad, unsigned = ("%s.%s" % (z, TLD) for z in
                                 ("healthy", "nsec3", "denialbad", "unsigned"))
p, doc = check(healthy, nsec3, bad, unsigned)
t.ok(set(doc) == {healthy, nsec3, bad, unsigned}, "one result per domain")

# The signer's own word on what each zone uses.
t.is_(expect(healthy)[0], "nsec", "testbed: healthy is signed with NSEC")
exp3 = expect(nsec3)[0].split()
t.is_(exp3[:2], ["nsec3", "100"], "testbed: nsec3 is signed with NSEC3, 100 iterations")
t.ok(len(exp3) == 3 and re.fullmatch(r"[0-9A-F]{16}", exp3[2]),
     "testbed: with an 8-byte salt", exp3)
t.ok("b-broken" in expect(bad), "testbed: denialbad's server b has broken NSEC signatures")

# A healthy NSEC zone: every server proves both, the validator agrees.
d = doc.get(healthy, {})
den = d.get("denial") or {}
t.ok(re.fullmatch(r"dnssecmon-[0-9a-f]{12}\." + re.escape(healthy), den.get("name", "")),
     "healthy: a random name below the domain was asked", den.get("name"))
t.is_(den.get("proof"), "nsec", "healthy: proof kind nsec")
t.is_(den.get("validation"), "secure", "healthy: libunbound validates the NXDOMAIN")
t.is_(den.get("nsec3"), None, "healthy: no NSEC3 parameters")
for ns in d.get("nameservers", []):
    t.is_((ns["nxdomain"]["rcode"], ns["nxdomain"]["proof"], ns["nxdomain"]["valid"]),
          ("NXDOMAIN", "nsec", True), "healthy: %s proves the random name absent" % ns["address"])
    t.is_((ns["nodata"]["rcode"], ns["nodata"]["proof"], ns["nodata"]["valid"]),
          ("NOERROR", "nsec", True), "healthy: %s proves the apex type absent" % ns["address"])
t.ok(not problems(d, "denial_bogus") and not problems(d, "nsec3_iterations"),
     "healthy: no denial problem")

# The random label is new on every check (no cache can answer it).
_, again = check(healthy)
t.ok(again.get(healthy, {}).get("denial", {}).get("name") not in (None, den.get("name")),
     "a second check asks another random name")

# NSEC3 with a salt and 100 iterations: valid proofs, parameters reported.
d = doc.get(nsec3, {})
den = d.get("denial") or {}
t.is_(den.get("proof"), "nsec3", "nsec3: proof kind nsec3")
t.is_(den.get("validation"), "secure", "nsec3: libunbound validates it (100 <= unbound's 150)")
n3 = den.get("nsec3") or {}
t.is_((n3.get("iterations"), n3.get("salt"), n3.get("opt_out"), n3.get("algorithm")),
      (100, exp3[2] if len(exp3) == 3 else None, False, 1),
      "nsec3: iterations, salt, opt-out and hash algorithm as signed")
for ns in d.get("nameservers", []):
    t.ok(ns["nxdomain"]["valid"] is True and ns["nodata"]["valid"] is True and
         ns["nxdomain"]["proof"] == "nsec3",
         "nsec3: %s proves both with NSEC3" % ns["address"])
it = problems(d, "nsec3_iterations")
t.ok(len(it) == 1 and it[0]["severity"] == "warning" and "100" in it[0]["message"]
     and "150" in it[0]["message"] and "RFC 9276" in it[0]["message"],
     "nsec3: nsec3_iterations warns, with RFC 9276 and the validators' limit",
     it)
salt = problems(d, "nsec3_salt")
t.ok(len(salt) == 1 and salt[0]["severity"] == "info" and
     len(exp3) == 3 and exp3[2] in salt[0]["message"],
     "nsec3: nsec3_salt is a note naming the salt")
t.ok(not problems(d, "nsec3_opt_out") and not problems(d, "denial_bogus"),
     "nsec3: no opt-out, no bogus denial")

# Server b's NSEC signatures are corrupt; a still proves everything.
d = doc.get(bad, {})
t.is_(d.get("validation"), "secure", "denialbad: the apex validates")
a, b = env["TESTBED_NS_A"], env["TESTBED_NS_B"]
sa, sb = server(d, a), server(d, b)
t.ok(sa["nxdomain"]["valid"] is True and sa["nodata"]["valid"] is True,
     "denialbad: server a's proofs hold")
t.ok(sb["nxdomain"]["valid"] is False and sb["nodata"]["valid"] is False,
     "denialbad: server b's NXDOMAIN and NODATA proofs are bogus")
t.ok("signature" in (sb["nxdomain"]["error"] or ""),
     "denialbad: b's error says the signature fails", sb["nxdomain"]["error"])
db = problems(d, "denial_bogus")
t.ok(len(db) == 1 and b in db[0]["message"] and a not in db[0]["message"],
     "denialbad: denial_bogus names server b only", db)
t.is_(db[0]["severity"] if db else None, "warning",
      "denialbad: a warning while server a still proves it (resolvers retry)")
t.is_(p.returncode, 1, "the worst of these is a warning: exit 1")

# Unsigned: nothing to prove, nothing reported.
d = doc.get(unsigned, {})
t.ok(all(ns["nxdomain"]["valid"] is None for ns in d.get("nameservers", [])),
     "unsigned: proofs not judged")
t.is_(d.get("denial", {}).get("proof"), "none", "unsigned: proof kind none")

# The text format shows the same facts.
p, _ = check(bad, nsec3, fmt="text")
t.ok(re.search(r"denial +%s name NXDOMAIN nsec BOGUS" % re.escape(b), p.stdout),
     "text: server b's bogus NXDOMAIN proof is shown", p.stdout[-800:])
t.ok("NSEC3 iterations 100, salt %s" % (exp3[2] if len(exp3) == 3 else "?") in p.stdout,
     "text: NSEC3 parameters are shown")

sys.exit(t.done())
