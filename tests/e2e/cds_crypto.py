#!/usr/bin/env python3
"""CDS that looks right by key tag and algorithm and fails the cryptography.

The testbed serves three zones that validate today and whose CDS a check
by key tags accepts:
  cdsbogusdigest  the CDS has the KSK's tag and algorithm and a wrong
                  digest; CDNSKEY names the KSK correctly: a registry that
                  applies it replaces the good DS with one matching no key
  cdsbadsig       both KSKs have a DS; the CDS names ksk_new alone, whose
                  RRSIG over the DNSKEY RRset carries its tag and does not
                  verify: the DS set it asks for makes the zone bogus (the
                  old check even said "update the DS at the registrar to
                  match")
  cdsbadcdssig    the RRSIGs over CDS/CDNSKEY by the key the DS covers
                  carry its tag and do not verify: a registry ignores it
and rollstart, signed right, as the control. Key tags come from the
testbed's key files (fresh on every `up`).
"""
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.dirname(__file__))
from tap import Tap, testbed_env  # noqa: E402
import dash_common as dc  # noqa: E402
import scenario_common as sc  # noqa: E402
from scenario_common import codes, problem, key  # noqa: E402

t = Tap()
BIN = os.environ["DNSSECMON_BIN"]
env = testbed_env()
TLD = env["TESTBED_TLD"]
SC = sc.Scenarios(t, env, BIN)
check, tag = SC.check, SC.tag


# --- the control: the same rollover, signed right --------------------------
p, d = check("rollstart", "--cds-parents", TLD)
t.ok(d is not None and "cds_bogus" not in codes(d),
     "rollstart: no cds_bogus", sorted(codes(d)))
t.ok(d is not None and all(k.get("dnskey_rrsig_verified") is True
                           for k in d["dnskeys"] if k["signs_dnskey_rrset"]),
     "rollstart: every KSK's RRSIG over the DNSKEY RRset verifies",
     d and d["dnskeys"])
t.ok(d is not None and d["cds_scan"]["pickup_by"] is not None,
     "rollstart: the registry is expected to pick the CDS up")
t.ok(d is not None and all(
    sorted(s["cds"].get("cds_signers_verified") or []) ==
    sorted([tag("rollstart", "ksk"), tag("rollstart", "ksk_new")])
    for s in d["nameservers"]),
    "rollstart: both KSKs' RRSIGs over the CDS verify on every server",
    d and [s["cds"] for s in d["nameservers"]])

# --- a CDS with the right tag and algorithm and a wrong digest -------------
zone = "cdsbogusdigest"
p, d = check(zone)
t.is_(d and (d["validation"], d["rotation"]["state"]), ("secure", "stable"),
      "%s: validates today, no rotation" % zone)
m = problem(d, "cds_bogus")
t.ok(m is not None and m["severity"] == "warning" and
     "digest is not that key's" in m["message"] and
     str(tag(zone, "ksk")) in m["message"],
     "%s: cds_bogus names the key whose tag the CDS carries" % zone,
     m and m["message"])
t.ok("cds_unknown_key" not in codes(d) and "cds_mismatch" not in codes(d),
     "%s: not called an unknown key (it is published), no 'update the DS "
     "to match'" % zone, sorted(codes(d)))
t.is_(p.returncode, 1, "%s: exit 1 (warning)" % zone)
p, d = check(zone, "--cds-parents", TLD)
m = problem(d, "cds_bogus")
t.ok(m is not None and m["severity"] == "critical" and
     "would break validation" in m["message"],
     "%s under a CDS-applying parent: critical" % zone, m and m["message"])
t.is_(p.returncode, 2, "%s under a CDS-applying parent: exit 2" % zone)

# --- a CDS for a key whose RRSIG over the DNSKEY RRset does not verify -----
zone = "cdsbadsig"
p, d = check(zone, "--cds-parents", TLD)
t.is_(d and d["validation"], "secure",
      "%s: validates today (the old KSK's RRSIG verifies)" % zone)
kn, ko = key(d, tag(zone, "ksk_new")), key(d, tag(zone, "ksk"))
t.ok(kn is not None and kn["signs_dnskey_rrset"] and
     kn.get("dnskey_rrsig_verified") is False,
     "%s: the new KSK's tag signs, its RRSIG does not verify" % zone, kn)
t.ok(ko is not None and ko.get("dnskey_rrsig_verified") is True,
     "%s: the old KSK's RRSIG verifies" % zone, ko)
m = problem(d, "cds_bogus")
t.ok(m is not None and m["severity"] == "critical" and
     "RRSIG over the DNSKEY RRset" in m["message"] and
     env["TESTBED_NS_A"] in m["message"] and
     env["TESTBED_NS_B"] in m["message"],
     "%s: cds_bogus, critical, names both servers" % zone, m and m["message"])
t.ok("cds_breaks_chain" not in codes(d),
     "%s: by key tags the chain holds (cds_breaks_chain stays quiet)" % zone)
t.ok("cds_mismatch" not in codes(d),
     "%s: no advice to make the DS match this CDS" % zone, sorted(codes(d)))
p, _ = check(zone, "--cds-parents", TLD, fmt="text")
t.ok(re.search(r"DNSKEY +%d .*DOES NOT VERIFY" % tag(zone, "ksk_new"),
               p.stdout) is not None,
     "%s: text output marks the key whose RRSIG does not verify" % zone,
     p.stdout[:600])

# --- a CDS whose RRSIG by the DS key does not verify -----------------------
zone = "cdsbadcdssig"
p, d = check(zone, "--cds-parents", TLD)
m = problem(d, "cds_bogus")
t.ok(m is not None and m["severity"] == "warning" and
     "RRSIG over the CDS or CDNSKEY RRset" in m["message"] and
     "ignores this CDS" in m["message"],
     "%s: cds_bogus, a warning (a registry ignores the CDS)" % zone,
     m and m["message"])
t.ok(d is not None and all(
    s["cds"].get("cds_signers_verified") == [] and
    s["cds"]["cds_signers"] == [tag(zone, "ksk")]
    for s in d["nameservers"]),
    "%s: the DS key's tag signs the CDS, its RRSIG does not verify"
    % zone, d and [s["cds"] for s in d["nameservers"]])
t.ok("cds_signer_not_in_ds" not in codes(d),
     "%s: by key tags the CDS signer is in the DS" % zone)

# --- the daemon: the API and /metrics carry it -----------------------------
Z = {x: "%s.%s" % (x, TLD) for x in ("cdsbadsig", "rollstart")}
dmn = dc.Daemon(env, [Z["cdsbadsig"], Z["rollstart"]],
                extra="cds_parents: [%s]\n" % TLD, prefix="cdscrypto")
try:
    dmn.start()
    t.ok(dmn.ready(), "daemon: every domain checked once (/readyz 200)",
         dmn.log_text()[-500:])
    status, j = dc.get_json(dmn.port, "/api/v1/domains")
    by = {x["domain"]: x for x in (j or {"domains": []})["domains"]}
    bs = by.get(Z["cdsbadsig"], {})
    pb = next((p for p in bs.get("problems", []) if p["code"] == "cds_bogus"),
              None)
    t.ok(pb is not None and pb["severity"] == "critical",
         "api: cdsbadsig has cds_bogus, critical", bs.get("problems"))
    kn = next((k for k in bs.get("dnskeys", [])
               if k["key_tag"] == tag("cdsbadsig", "ksk_new")), None)
    t.ok(kn is not None and kn.get("dnskey_rrsig_verified") is False,
         "api: cdsbadsig's new KSK: its RRSIG does not verify", kn)
    rs = by.get(Z["rollstart"], {})
    t.ok(rs.get("dnskeys") and all(k.get("dnskey_rrsig_verified") is True
                                   for k in rs["dnskeys"]
                                   if k["signs_dnskey_rrset"]),
         "api: rollstart's signing keys verify", rs.get("dnskeys"))
    status, _, body = dc.request(dmn.port, "GET", "/metrics")
    text = body.decode() if status == 200 else ""
    t.ok(re.search(r'^dnssecmon_problem_info\{[^}]*zone="%s"[^}]*'
                   r'code="cds_bogus"|^dnssecmon_problem_info\{[^}]*'
                   r'code="cds_bogus"[^}]*zone="%s"'
                   % (re.escape(Z["cdsbadsig"]), re.escape(Z["cdsbadsig"])),
                   text, re.M) is not None,
         "metrics: cdsbadsig's cds_bogus in dnssecmon_problem_info",
         "\n".join(ln for ln in text.split("\n") if "cds_bogus" in ln))
finally:
    t.is_(dmn.stop(), 0, "daemon: exits 0 on SIGTERM")
    dmn.cleanup()

sys.exit(t.done())
