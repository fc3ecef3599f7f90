#!/usr/bin/env python3
"""CDS as registries read it, and multi-signer zones, through the real binary.

The testbed serves each scenario from two NSD instances; in cdsdiffer they
announce different CDS, in cdsmismatch CDS and CDNSKEY name different keys,
in cdsdelete both carry the RFC 8078 delete record. In multisigner each
server is a provider signing with its own KSK and ZSK (serials differ) and
publishing the other's ZSK; in multisignerbad server a lacks b's ZSK. Key
tags come from the testbed's key files (fresh on every `up`).
"""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.dirname(__file__))
from tap import Tap, testbed_env  # noqa: E402
import dash_common as dc  # noqa: E402
from dash_common import sample  # noqa: E402
import scenario_common as sc  # noqa: E402
from scenario_common import codes, problem, server  # noqa: E402

t = Tap()
BIN = os.environ["DNSSECMON_BIN"]
env = testbed_env()
TLD = env["TESTBED_TLD"]
SC = sc.Scenarios(t, env, BIN)
check, tag = SC.check, SC.tag
A, B = env["TESTBED_NS_A"], env["TESTBED_NS_B"]


# --- CDS that differs between servers -------------------------------------
p, d = check("cdsdiffer")
t.ok("cds_servers_disagree" in codes(d), "cdsdiffer: cds_servers_disagree",
     sorted(codes(d)))
sa, sb = server(d, A), server(d, B)
t.is_(sa and sa["cds"]["cds"], [tag("cdsdiffer", "ksk_new")],
      "cdsdiffer: server a announces the new KSK")
t.is_(sb and sb["cds"]["cds"], [tag("cdsdiffer", "ksk")],
      "cdsdiffer: server b still announces the old KSK")
t.ok(sa and sb and all(x["cds"]["status"] == "ok" and x["cds"]["over_tcp"]
                      for x in (sa, sb)),
     "cdsdiffer: both servers answered CDS/CDNSKEY over TCP")
t.is_(d and d["cds_scan"]["consistent"], False,
      "cdsdiffer: cds_scan.consistent is false")
m = problem(d, "cds_servers_disagree")
t.ok(m and A in m["message"] and B in m["message"] and
     str(tag("cdsdiffer", "ksk")) in m["message"],
     "cdsdiffer: the message names both servers and what each serves",
     m and m["message"])
t.is_(p.returncode, 1, "cdsdiffer: exit 1 (warning)")
# Under a CDS-applying parent the registry would not act on CDS that
# differs between servers: the registrar is still asked, no pickup time.
p, d = check("cdsdiffer", "--cds-parents", TLD)
m = problem(d, "rotation_pending")
t.ok(m is not None and "add at the registrar" in m["message"] and
     "should pick this up" not in m["message"] and
     d["cds_scan"]["pickup_by"] is None,
     "cdsdiffer under a CDS-applying parent: the registry will not act",
     m and m["message"])

# --- CDS not matching CDNSKEY ---------------------------------------------
p, d = check("cdsmismatch")
t.ok("cds_cdnskey_mismatch" in codes(d), "cdsmismatch: cds_cdnskey_mismatch",
     sorted(codes(d)))
t.ok("cds_servers_disagree" not in codes(d),
     "cdsmismatch: the servers agree with each other")
sa = server(d, A)
t.is_(sa and (sa["cds"]["cds"], sa["cds"]["cdnskey"]),
      ([tag("cdsmismatch", "ksk_new")], [tag("cdsmismatch", "ksk")]),
      "cdsmismatch: CDS names the new KSK, CDNSKEY the old one")
t.is_(d and d["cds_scan"]["consistent"], True,
      "cdsmismatch: cds_scan.consistent (every server the same)")
# The healthy zone publishes CDS = CDNSKEY: none of the new CDS problems.
p, d = check("healthy")
t.ok(not codes(d) & {"cds_cdnskey_mismatch", "cds_servers_disagree",
                     "cds_signer_not_in_ds", "cds_breaks_chain",
                     "cds_unreachable"},
     "healthy: no CDS problem", sorted(codes(d)))
t.is_(server(d, A) and server(d, A)["cds"]["cds_signers"],
      [tag("healthy", "ksk")], "healthy: the KSK with a DS signs the CDS")

# --- CDS delete ------------------------------------------------------------
p, d = check("cdsdelete")
m = problem(d, "cds_delete")
t.ok(m is not None and "the parent will remove DNSSEC" in m["message"],
     "cdsdelete: cds_delete says the parent will remove DNSSEC",
     m and m["message"])
t.ok(all(s["cds"]["delete_in_cds"] and s["cds"]["delete_in_cdnskey"]
         for s in (d or {"nameservers": [{}]})["nameservers"]),
     "cdsdelete: every server serves the delete record in CDS and CDNSKEY")
t.is_(d and d["cds_scan"]["delete"], True, "cdsdelete: cds_scan.delete")
t.ok("cds_cdnskey_mismatch" not in codes(d),
     "cdsdelete: CDS and CDNSKEY delete records agree")
p, d = check("cdsdelete", "--cds-parents", TLD)
m = problem(d, "cds_delete")
t.ok(m is not None and "reads CDS itself" in m["message"],
     "cdsdelete under a CDS-applying parent: it will act by itself",
     m and m["message"])

# --- a rotation under a parent that applies CDS itself ---------------------
p, d = check("rollstart")
m = problem(d, "rotation_pending")
t.ok(m is not None and "add at the registrar" in m["message"],
     "rollstart: the registrar is asked for the DS", m and m["message"])
t.is_(d and d["cds_scan"]["pickup_by"], None, "rollstart: no pickup time")
p, d = check("rollstart", "--cds-parents", "ch,%s" % TLD.upper())
m = problem(d, "rotation_pending")
t.ok(m is not None and "the registry should pick this up by" in m["message"]
     and "if it has not by then, check" in m["message"],
     "rollstart, parent in --cds-parents: the registry should pick it up",
     m and m["message"])
t.ok(d is not None and d["cds_scan"]["parent_applies_cds"] and
     d["cds_scan"]["pickup_by"] is not None and
     d["cds_scan"]["pickup_by"] in m["message"],
     "rollstart: cds_scan.pickup_by is the time the message gives")
p, _ = check("rollstart", "--cds-parents", "ch,%s" % TLD, fmt="text")
t.ok("applies CDS itself" in p.stdout and "registry should pick" in p.stdout,
     "rollstart: text output says so too")

# --- multi-signer, correct: no warning -------------------------------------
p, d = check("multisigner")
t.is_(sorted(codes(d)), [], "multisigner: no problem at all")
t.is_(d and d["severity"], "ok", "multisigner: severity ok")
t.is_(p.returncode, 0, "multisigner: exit 0")
t.is_(d and d["validation"], "secure", "multisigner: validates")
t.is_(d and d["multi_signer"]["mode"], "detected",
      "multisigner: detected from the servers' keys")
prov = sorted(sorted(x["signing_keys"]) for x in
              (d["multi_signer"]["providers"] if d else []))
t.is_(prov, sorted([sorted([tag("multisigner", "ksk"),
                            tag("multisigner", "zsk")]),
                    sorted([tag("multisigner", "ksk_new"),
                            tag("multisigner", "zsk2")])]),
      "multisigner: two providers, each with its own KSK and ZSK")
# The topology that fools a single-signer check: serials and key sets differ.
sa, sb = server(d, A), server(d, B)
t.ok(sa and sb and sa["soa_serial"] != sb["soa_serial"] and
     sorted(sa["dnskey_tags"]) != sorted(sb["dnskey_tags"]),
     "multisigner: the providers serve different serials and DNSKEY sets")
p, d = check("multisigner", "--multi-signer", "no")
t.ok("servers_disagree" in codes(d),
     "multisigner with --multi-signer no: servers_disagree", sorted(codes(d)))
p, _ = check("multisigner", fmt="text")
t.ok("multi-signer (detected): 2 providers" in p.stdout,
     "multisigner: text output names the providers", p.stdout[:300])

# --- multi-signer, provider a lacks b's ZSK: warning -----------------------
p, d = check("multisignerbad")
m = problem(d, "multi_signer_zsk_missing")
t.ok(m is not None, "multisignerbad: multi_signer_zsk_missing",
     sorted(codes(d)))
t.ok(m and str(tag("multisignerbad", "zsk2")) in m["message"] and
     A in m["message"], "multisignerbad: names b's ZSK and server a",
     m and m["message"])
t.is_(m and m["severity"], "warning", "multisignerbad: a warning")
t.ok("servers_disagree" not in codes(d) and
     "serial_mismatch" not in codes(d),
     "multisignerbad: not reported as servers disagreeing")
t.is_(p.returncode, 1, "multisignerbad: exit 1")

# --- a lagging secondary is not a second provider --------------------------
p, d = check("split")
t.is_(d and d["multi_signer"]["mode"], "none",
      "split: one signer, not detected as multi-signer")
t.ok("servers_disagree" in codes(d), "split: still servers_disagree")

# --- the daemon: configuration, /metrics, the API and the page -------------
# multisignerbad is configured multi_signer: no, so the per-domain switch
# must turn it back into servers_disagree; the TLD is a CDS-applying parent.


Z = {x: "%s.%s" % (x, TLD) for x in
     ("healthy", "cdsdiffer", "multisigner", "multisignerbad", "rollstart")}
d = dc.Daemon(env, [Z["healthy"], Z["cdsdiffer"], Z["multisigner"],
                    Z["rollstart"],
                    "{name: %s, multi_signer: no}" % Z["multisignerbad"]],
              extra="cds_parents: [%s]\n" % TLD, prefix="cds")
try:
    d.start()
    t.ok(d.ready(), "daemon: every domain checked once (/readyz 200)",
         d.log_text()[-500:])
    status, _, body = dc.request(d.port, "GET", "/metrics")
    text = body.decode() if status == 200 else ""
    t.is_(sample(text, "dnssecmon_signers", zone=Z["multisigner"]), 2.0,
          "metrics: multisigner has 2 signers")
    t.is_(sample(text, "dnssecmon_signers", zone=Z["multisignerbad"]), 1.0,
          "metrics: multisignerbad, multi_signer: no, counts 1 signer")
    t.is_(sample(text, "dnssecmon_signers", zone=Z["healthy"]), 1.0,
          "metrics: healthy has 1 signer")
    t.is_(sample(text, "dnssecmon_cds_consistent", zone=Z["cdsdiffer"]), 0.0,
          "metrics: cdsdiffer's CDS is not consistent")
    t.is_(sample(text, "dnssecmon_cds_consistent", zone=Z["healthy"]), 1.0,
          "metrics: healthy's CDS is consistent")
    status, j = dc.get_json(d.port, "/api/v1/domains")
    by = {x["domain"]: x for x in (j or {"domains": []})["domains"]}
    ms = by.get(Z["multisigner"], {})
    t.is_(ms.get("multi_signer"), {"mode": "detected", "providers": 2},
          "api: multisigner's multi_signer")
    t.is_(ms.get("severity"), "ok", "api: multisigner is ok")
    bad = by.get(Z["multisignerbad"], {})
    t.is_(bad.get("multi_signer", {}).get("mode"), "none",
          "api: multisignerbad with multi_signer: no is judged one signer")
    t.ok("servers_disagree" in {p["code"] for p in bad.get("problems", [])},
         "api: ... so its servers disagree")
    cd = by.get(Z["cdsdiffer"], {})
    t.is_(cd.get("cds"), {"consistent": False, "parent_applies_cds": True,
                          "delete": False, "pickup_by": None},
          "api: cdsdiffer's cds facts (the TLD in cds_parents)")
    # A tracked rotation under a CDS-applying parent: the registry's pickup
    # time is the deadline shown, a warning, in the API and in /metrics.
    rs = by.get(Z["rollstart"], {})
    pick = (rs.get("cds") or {}).get("pickup_by")
    dl = next((p for p in rs.get("problems", [])
               if p["code"] == "rotation_deadline"), None)
    t.ok(pick is not None and dl is not None and pick in dl["message"] and
         "should pick up the CDS" in dl["message"] and
         dl["severity"] == "warning",
         "api: rollstart's deadline is the registry's pickup time",
         (pick, dl))
    v = sample(text, "dnssecmon_cds_pickup_timestamp_seconds",
               zone=Z["rollstart"])
    t.ok(v is not None and v > time.time(),
         "metrics: rollstart's CDS pickup time is in the future", v)
    t.is_(sample(text, "dnssecmon_cds_pickup_timestamp_seconds",
                 zone=Z["healthy"]), None,
          "metrics: no pickup time without a waiting rotation")
    status, _, body = dc.request(d.port, "GET", "/")
    t.ok(status == 200 and b"multi-signer, 2 providers" in body,
         "status page: multisigner shows its providers")
finally:
    t.is_(d.stop(), 0, "daemon: exits 0 on SIGTERM")
    d.cleanup()

sys.exit(t.done())
