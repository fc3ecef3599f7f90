#!/usr/bin/env python3
"""`dnssecmon check` against every testbed scenario, through the real binary.

Asserts the JSON field by field, the exit status, and that `ds_to_publish`
is exactly what the signing tool (dnssec-dsfromkey, run by the testbed on
its own key files) computes for the key the registrar needs.
"""
import json
import os
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.dirname(__file__))
from tap import Tap, testbed_env  # noqa: E402
import scenario_common as sc  # noqa: E402
from scenario_common import codes  # noqa: E402

t = Tap()
BIN = os.environ["DNSSECMON_BIN"]
TOP = os.environ["DNSSECMON_TOP"]
env = testbed_env()
TLD = env["TESTBED_TLD"]


def check(*args, fmt="json", timeout=60):
    return sc.check_doc(t, env, *args, fmt=fmt, timeout=timeout)


def expected_ds(zone):
    return sc.expected_ds(env, zone)


def dig_size(server, zone, tcp):
    """The DNSKEY answer's size as dig measures it, asked the way the
    monitor asks (DO, no RD, 1232-byte EDNS buffer, no cookie)."""
    out = subprocess.run(["dig", "+tcp" if tcp else "+notcp", "+dnssec",
                          "+norec", "+nocookie", "+bufsize=1232", "+ignore",
                          "+tries=3", "@" + server, zone, "DNSKEY"],
                         capture_output=True, text=True, timeout=60).stdout
    for line in out.split("\n"):
        if "MSG SIZE" in line:
            return int(line.split()[-1])
    return None


# zone label -> (validation, state, severity, exit, problem codes that
# must be present, ds_to_publish: "expect" (the testbed's file) or [])
SCENARIOS = {
    "healthy":     ("secure", "stable", "ok", 0, set(), []),
    "rollstart":   ("secure", "rotation_pending", "warning", 1,
                    {"rotation_pending", "dnskey_answer_large"}, "expect"),
    "dsupdated":   ("secure", "ds_updated", "ok", 0,
                    {"old_key_published"}, []),
    "rolldone":    ("secure", "stable", "ok", 0, set(), []),
    "broken":      ("bogus", "broken", "critical", 2,
                    {"chain_broken", "validation_bogus"}, "expect"),
    "staleds":     ("secure", "stale_ds", "warning", 1, {"stale_ds"}, []),
    # A pre-published DS looks stale to a single check; history (the
    # store) tells the two apart.
    "doubleds":    ("secure", "stale_ds", "warning", 1, {"stale_ds"}, []),
    "expired":     ("bogus", "stable", "critical", 2,
                    {"signature_expired", "validation_bogus"}, []),
    "notyet":      ("bogus", "stable", "critical", 2,
                    {"signature_not_yet_valid", "validation_bogus"}, []),
    "expiring":    ("secure", "stable", "warning", 1,
                    {"signature_expiring"}, []),
    "algmismatch": ("bogus", "broken", "critical", 2,
                    {"chain_broken", "ds_algorithm_mismatch"}, "expect"),
    "split":       ("secure", "stable", "warning", 1,
                    {"servers_disagree"}, []),
    "unsigned":    ("insecure", "insecure", "ok", 0, set(), []),
    "zskroll":     ("secure", "stable", "ok", 0, {"zsk_rotation"}, []),
    # Deprecated crypto: still secure at unbound 1.17 (measured), a warning
    # with what to do. sha1ds's SHA-256 DS is the one to publish.
    "sha1ds":      ("secure", "stable", "warning", 1,
                    {"ds_digest_deprecated"}, "expect"),
    "rsasha1":     ("secure", "stable", "warning", 1,
                    {"key_algorithm_deprecated"}, []),
    "rsa1024":     ("secure", "stable", "warning", 1, {"rsa_key_short"}, []),
    "longttl":     ("secure", "rotation_pending", "warning", 1,
                    {"rotation_pending", "ttl_exceeds_window"}, "expect"),
    # Signed without a DS: the DS to add, and whether the parent could add
    # it by itself (RFC 9615 signals under both name servers, or nothing).
    "dsboot":      ("insecure", "insecure", "ok", 0,
                    {"ds_missing", "ds_bootstrap_ready"}, "expect"),
    "nodsboot":    ("insecure", "insecure", "ok", 0,
                    {"ds_missing", "ds_bootstrap_incomplete"}, "expect"),
    # The right signals in an unsigned zone (plainhost): they prove nothing.
    "dsbootinsecure": ("insecure", "insecure", "ok", 0,
                       {"ds_missing", "ds_bootstrap_incomplete"}, "expect"),
    # ECDSAP384SHA384 waiting for its DS: SHA-256 and SHA-384 to publish.
    "p384":        ("secure", "rotation_pending", "warning", 1,
                    {"rotation_pending"}, "expect"),
    # Validated signals for a key the zone does not publish: not ready.
    "dsbootwrong": ("insecure", "insecure", "ok", 0,
                    {"ds_missing", "ds_bootstrap_incomplete"}, "expect"),
    # No CDS, no history: the two mirror images (tests/e2e/ambiguous.py).
    "nocdsstart":  ("secure", "rotation_pending", "warning", 1,
                    {"rotation_ambiguous"}, "expect"),
    "nocdsswap":   ("secure", "rotation_pending", "warning", 1,
                    {"rotation_ambiguous"}, "expect"),
    # CDS that passes by key tags and fails the cryptography (the TLD is
    # not a CDS-applying parent here: a warning; cds_crypto.py has more).
    "cdsbogusdigest": ("secure", "stable", "warning", 1, {"cds_bogus"}, []),
    "cdsbadsig":   ("secure", "stable", "warning", 1, {"cds_bogus"}, []),
    "cdsbadcdssig": ("secure", "stable", "warning", 1, {"cds_bogus"}, []),
    "switch":      ("secure", "stable", "ok", 0, set(), []),
    # Denial of existence (tests/e2e/denial.py has the details).
    "nsec3":       ("secure", "stable", "warning", 1,
                    {"nsec3_iterations", "nsec3_salt"}, []),
    "denialbad":   ("secure", "stable", "warning", 1, {"denial_bogus"}, []),
    # Algorithm rollover 8 -> 13, one check each without history (the
    # stages themselves: tests/e2e/algroll_walk.py, with the store).
    "algsigs":     ("secure", "stable", "ok", 0, {"algorithm_rollover_stage"}, []),
    "algkeys":     ("secure", "rotation_pending", "warning", 1,
                    {"algorithm_rollover_stage", "rotation_pending"}, "expect"),
    "algds":       ("secure", "ds_updated", "ok", 0, {"algorithm_rollover_stage"}, []),
    "algoldkeys":  ("secure", "stable", "ok", 0, {"algorithm_rollover_stage"}, []),
    "algdone":     ("secure", "stable", "ok", 0, set(), []),
    "algdsearly":  ("bogus", "broken", "critical", 2,
                    {"chain_broken", "algorithm_rollover_order"}, "expect"),
}

# Codes a scenario must NOT report: the rules that would fire wrongly.
DEPRECATED = {"ds_digest_deprecated", "key_algorithm_deprecated"}
BOOTSTRAP = {"ds_bootstrap_ready", "ds_bootstrap_incomplete"}
MUST_NOT = {
    "healthy": DEPRECATED | BOOTSTRAP | {"ttl_exceeds_window", "cds_bogus"},
    "rollstart": DEPRECATED | {"ttl_exceeds_window", "cds_bogus"},
    "cdsbogusdigest": {"cds_unknown_key", "cds_breaks_chain", "cds_mismatch"},
    "cdsbadsig": {"cds_breaks_chain", "cds_unknown_key", "cds_mismatch"},
    "cdsbadcdssig": {"cds_signer_not_in_ds"},
    "unsigned": BOOTSTRAP | {"ds_missing"},
    "dsboot": {"ds_bootstrap_incomplete"} | DEPRECATED,
    "nodsboot": {"ds_bootstrap_ready"} | DEPRECATED,
    "dsbootwrong": {"ds_bootstrap_ready"} | DEPRECATED,
    "dsbootinsecure": {"ds_bootstrap_ready"} | DEPRECATED,
    "rolldone": DEPRECATED | {"rsa_key_short"},
    "sha1ds": {"key_algorithm_deprecated", "rsa_key_short", "stale_ds"},
    "rsasha1": {"ds_digest_deprecated"},
    "rsa1024": DEPRECATED,
    "longttl": DEPRECATED,
}

# One run over all zones: they are probed concurrently on one loop.
zones = ["%s.%s" % (z, TLD) for z in SCENARIOS]
p, doc = check(*zones)
t.is_(p.returncode, 2, "all scenarios at once: exit 2 (the worst is critical)")
t.ok(doc is not None and len(doc["domains"]) == len(zones),
     "one JSON object per domain")
by_name = {d["domain"]: d for d in (doc or {"domains": []})["domains"]}
t.is_([d["domain"] for d in doc["domains"]] if doc else [], zones,
      "domains come back in argument order")

for label, (val, state, sev, rc, must, publish) in SCENARIOS.items():
    zone = "%s.%s" % (label, TLD)
    d = by_name.get(zone)
    if d is None:
        t.ok(False, "%s: present in the output" % zone)
        continue
    t.is_(d["validation"], val, "%s: validation %s" % (zone, val))
    t.is_(d["rotation"]["state"], state, "%s: state %s" % (zone, state))
    t.is_(d["severity"], sev, "%s: severity %s" % (zone, sev))
    missing = must - codes(d)
    t.ok(not missing, "%s: problems include %s" % (zone, sorted(must)),
         "missing %s; got %s" % (sorted(missing), sorted(codes(d))))
    got = sorted(x["record"] for x in d["ds_to_publish"])
    want = expected_ds(zone) if publish == "expect" else []
    t.is_(got, want, "%s: ds_to_publish is %s" % (
        zone, "what dnssec-dsfromkey computed" if want else "empty"))
    bad = MUST_NOT.get(label, set()) & codes(d)
    t.ok(not bad, "%s: problems exclude %s" % (zone, sorted(MUST_NOT.get(label, []))),
         "got %s" % sorted(bad))
    # SHA-1 or a deprecated algorithm is never proposed, in any scenario.
    t.ok(all(x["digest_type"] != 1 and x["algorithm"] not in (1, 3, 5, 6, 7, 12)
             for x in d["ds_to_publish"]),
         "%s: no SHA-1 or deprecated-algorithm DS to publish" % zone)
    for x in d["ds_to_publish"]:
        t.ok(x["digest_type"] in (2, 4) and x["digest"] == x["digest"].upper()
             and x["record"].endswith(x["digest"])
             and x["record"].startswith(zone + ". IN DS %d %d %d " % (
                 x["key_tag"], x["algorithm"], x["digest_type"])),
             "%s: DS to publish %d has consistent fields" % (zone, x["key_tag"]))
    # Facts that hold for every delegated zone of the testbed.
    t.is_(d["parent"], TLD, "%s: parent zone is %s" % (zone, TLD))
    t.is_(len(d["nameservers"]), 2, "%s: both server addresses asked" % zone)
    # DNSKEY over TCP from every address, and its size (the testbed has no
    # IPv6: nothing is skipped for want of a route).
    t.ok(all(ns["tcp"] == "ok" and ns["family"] == "ipv4"
             for ns in d["nameservers"]),
         "%s: every server asked and answered over TCP" % zone,
         [(ns["address"], ns["tcp"], ns["tcp_error"]) for ns in d["nameservers"]])
    t.is_(d["ipv6_unrouted"], 0, "%s: no IPv6 address skipped" % zone)
    if state != "insecure":
        ns = d["nameservers"][0]
        want = dig_size(ns["address"], zone, True)
        t.is_(ns["dnskey_tcp_bytes"], want,
              "%s: DNSKEY answer size over TCP is dig's (%s B)" % (zone, want))
        trunc = want is not None and want > 1232
        t.is_(ns["dnskey_udp_truncated"], trunc,
              "%s: DNSKEY over UDP truncated: %s" % (zone, trunc))
        t.is_(ns["dnskey_udp_bytes"], dig_size(ns["address"], zone, False),
              "%s: DNSKEY answer size over UDP is dig's" % zone)
        if label != "rollstart":
            t.ok("dnskey_answer_large" not in codes(d),
                 "%s: no dnskey_answer_large outside a pending rotation" % zone)
    t.ok(all(ns["status"] == "ok" and isinstance(ns["soa_serial"], int)
             for ns in d["nameservers"]),
         "%s: every server answered with a SOA serial" % zone)
    t.is_(len(d["resolvers"]), 1, "%s: one resolver result" % zone)
    r = d["resolvers"][0]
    want_rcode = "SERVFAIL" if val == "bogus" else "NOERROR"
    t.is_(r["rcode"], want_rcode, "%s: resolver answers %s" % (zone, want_rcode))
    t.is_(r["ad"], val == "secure", "%s: resolver AD flag %s" % (zone, val == "secure"))
    t.ok(isinstance(r["latency_ms"], (int, float)) and r["latency_ms"] >= 0,
         "%s: resolver latency is a number" % zone)
    if state != "insecure":
        t.ok(len(d["ds"]) >= 1 and isinstance(d["ds_ttl"], int),
             "%s: DS RRset and its TTL read from the parent" % zone)
        t.ok(d["earliest_signature_expiry"] is not None and
             d["earliest_signature_expiry"].endswith("Z"),
             "%s: earliest signature expiry in RFC 3339 UTC" % zone)
    # Each scenario alone gives its own exit status.
    p1, _ = check(zone)
    t.is_(p1.returncode, rc, "%s: exit status %d alone" % (zone, rc))

# Scenario-specific facts.
d = by_name.get("rollstart." + TLD)
if d:
    t.ok(all(ns["dnskey_udp_truncated"] and ns["dnskey_tcp_bytes"] > 1232
             for ns in d["nameservers"]),
         "rollstart: the DNSKEY answer exceeds 1232 B and comes truncated over UDP")
    big = [p for p in d["problems"] if p["code"] == "dnskey_answer_large"]
    t.ok(big and big[0]["severity"] == "info" and
         str(d["nameservers"][0]["dnskey_tcp_bytes"]) in big[0]["message"],
         "rollstart: dnskey_answer_large is a note naming the size (every "
         "server answers over TCP)", big)
    ksks = [k for k in d["dnskeys"] if k["role"] == "ksk"]
    t.is_(len(ksks), 2, "rollstart: two KSKs published")
    t.ok(all(k["signs_dnskey_rrset"] for k in ksks), "rollstart: both sign the DNSKEY RRset")
    t.is_(sorted(k["has_ds"] for k in ksks), [False, True], "rollstart: exactly one has a DS")
    new = [k for k in ksks if not k["has_ds"]][0]
    t.ok(new["needs_ds"] and new["in_cds"], "rollstart: the new key is in CDS and needs a DS")
    t.ok(any(x["key_tag"] == new["key_tag"] for x in d["cds"]),
         "rollstart: the CDS names the new key")
d = by_name.get("staleds." + TLD)
if d:
    stale = [x for x in d["ds"] if not x["matches_key"]]
    t.is_(len(stale), 1, "staleds: one DS matches no key")
    t.is_([x["key_tag"] for x in d["ds_to_remove"]], [x["key_tag"] for x in stale],
          "staleds: ds_to_remove names the stale DS")
d = by_name.get("split." + TLD)
if d:
    tags = [tuple(sorted(ns["dnskey_tags"])) for ns in d["nameservers"]]
    t.ok(tags[0] != tags[1], "split: the two servers list different DNSKEY tags")
    serials = {ns["soa_serial"] for ns in d["nameservers"]}
    t.is_(len(serials), 2, "split: the two servers serve different serials")
d = by_name.get("zskroll." + TLD)
if d:
    t.is_(len([k for k in d["dnskeys"] if k["role"] == "zsk"]), 2, "zskroll: two ZSKs published")
d = by_name.get("sha1ds." + TLD)
if d:
    t.is_([(x["digest_type"], x["matches_key"], x["digest_deprecated"]) for x in d["ds"]],
          [(1, True, True)], "sha1ds: one SHA-1 DS, matching the KSK, marked deprecated")
    t.is_(d["ds_to_remove"], [], "sha1ds: the only DS is not to remove before its successor")
    p = [x for x in d["problems"] if x["code"] == "ds_digest_deprecated"]
    t.ok(p and p[0]["severity"] == "warning" and
         d["ds_to_publish"] and d["ds_to_publish"][0]["record"] in p[0]["message"],
         "sha1ds: the warning carries the SHA-256 DS to publish")
d = by_name.get("rsasha1." + TLD)
if d:
    t.ok(d["dnskeys"] and all(k["algorithm"] == 5 and k["algorithm_deprecated"]
                              for k in d["dnskeys"]),
         "rsasha1: every key is algorithm 5, marked deprecated")
    t.is_(sorted(k["rsa_bits"] for k in d["dnskeys"]), [1280, 2048],
          "rsasha1: RSA sizes read from the keys (ZSK 1280, KSK 2048)")
d = by_name.get("rsa1024." + TLD)
if d:
    ksk = [k for k in d["dnskeys"] if k["role"] == "ksk"]
    t.is_([k["rsa_bits"] for k in ksk], [1024], "rsa1024: the KSK is 1024 bits")
    p = [x for x in d["problems"] if x["code"] == "rsa_key_short"]
    t.ok(p and p[0]["severity"] == "warning" and str(ksk[0]["key_tag"]) in p[0]["message"],
         "rsa1024: a warning naming the KSK")
d = by_name.get("healthy." + TLD)
if d:
    p = [x for x in d["problems"] if x["code"] == "rsa_key_short"]
    t.ok(p and p[0]["severity"] == "info", "healthy: its 1280-bit ZSK is a note, not a warning")
d = by_name.get("longttl." + TLD)
if d:
    t.is_((d["ds_ttl"], d["dnskey_ttl"]), (259200, 172800),
          "longttl: DS and DNSKEY TTLs read from the servers")
d = by_name.get("dsboot." + TLD)
if d:
    b = d.get("ds_bootstrap") or {}
    sig = b.get("signals", [])
    t.ok(b.get("ready") and b.get("cds") and b.get("cdnskey"),
         "dsboot: CDS, CDNSKEY, and ready to bootstrap", json.dumps(b)[:300])
    t.is_(sorted(s["ns"] for s in sig), ["ns1.dnshost." + TLD, "ns2.dnshost." + TLD],
          "dsboot: one signal per NS name")
    zone_cds = sorted(x["digest"] for x in d["cds"])
    t.ok(sig and all(s["status"] == "secure" and
                     sorted(x["digest"] for x in s["cds"]) == zone_cds for s in sig),
         "dsboot: both signals validate and carry the zone's CDS")
d = by_name.get("nodsboot." + TLD)
if d:
    b = d.get("ds_bootstrap") or {}
    t.ok(b and not b["ready"] and not b["cds"] and
         [s["status"] for s in b["signals"]] == ["nodata", "nodata"],
         "nodsboot: no CDS, and both signal names validate as absent", json.dumps(b)[:300])
    p = [x for x in d["problems"] if x["code"] == "ds_bootstrap_incomplete"]
    t.ok(p and "no CDS/CDNSKEY" in p[0]["message"] and
         "no CDS at _dsboot.nodsboot.%s._signal.ns1.dnshost.%s" % (TLD, TLD) in p[0]["message"],
         "nodsboot: the message says what is missing", p[0]["message"] if p else "")
d = by_name.get("dsbootinsecure." + TLD)
if d:
    b = d.get("ds_bootstrap") or {}
    sig = b.get("signals", [])
    p = [x for x in d["problems"] if x["code"] == "ds_bootstrap_incomplete"]
    zone_cds = sorted(x["digest"] for x in d["cds"])
    t.ok(b and not b["ready"] and b["cds"] and
         sorted(s["ns"] for s in sig) == ["ns1.plainhost." + TLD, "ns2.plainhost." + TLD] and
         all(s["status"] == "insecure" and sorted(x["digest"] for x in s["cds"]) == zone_cds
             for s in sig),
         "dsbootinsecure: the zone's own CDS under both NS names, but not validated",
         json.dumps(b)[:300])
    t.ok(p and "does not validate" in p[0]["message"],
         "dsbootinsecure: the message says the signals do not validate",
         p[0]["message"] if p else "")
d = by_name.get("p384." + TLD)
if d:
    t.is_(sorted((x["algorithm"], x["digest_type"], len(x["digest"])) for x in d["ds_to_publish"]),
          [(14, 2, 64), (14, 4, 96)], "p384: SHA-256 and SHA-384 DS of the new key")
    t.is_(len({x["key_tag"] for x in d["ds_to_publish"]}), 1, "p384: both for the same key")
d = by_name.get("dsbootwrong." + TLD)
if d:
    b = d.get("ds_bootstrap") or {}
    p = [x for x in d["problems"] if x["code"] == "ds_bootstrap_incomplete"]
    t.ok(b and not b["ready"] and b["cds"] and
         [s["status"] for s in b["signals"]] == ["secure", "secure"] and p and
         "differs from the zone's CDS" in p[0]["message"],
         "dsbootwrong: validated signals for another key are not enough",
         json.dumps(b)[:300])
for label in ("healthy", "sha1ds", "rollstart"):
    d = by_name.get("%s.%s" % (label, TLD))
    if d:
        t.is_(d.get("ds_bootstrap", "absent"), None,
              "%s: has a DS, so no signal was asked" % label)
d = by_name.get("unsigned." + TLD)
if d:
    t.ok(d["ds"] == [] and d["dnskeys"] == [], "unsigned: no DS and no DNSKEY")

# A correct rollover step is not a DS algorithm mismatch.
for label in ("algsigs", "algkeys", "algds", "algoldkeys"):
    d = by_name.get("%s.%s" % (label, TLD))
    if d:
        t.ok("ds_algorithm_mismatch" not in codes(d) and
             "algorithm_rollover_order" not in codes(d) and
             d["algorithm_rollover"]["stage"] != "unclear",
             "%s: a rollover stage, not a mismatch" % label, sorted(codes(d)))
d = by_name.get("algkeys." + TLD)
if d:
    t.is_((d["algorithm_rollover"]["from"], d["algorithm_rollover"]["to"],
           d["algorithm_rollover"]["stage"]), (8, 13, "keys_published"),
          "algkeys: 8 -> 13, new keys published (the CDS names 13)")
    t.ok(all(ns["rrsig_algorithms"] == [8, 13] for ns in d["nameservers"]),
         "algkeys: every server signs with 8 and 13")
d = by_name.get("algsigs." + TLD)
if d:
    t.ok(all(13 in ns["rrsig_algorithms"] for ns in d["nameservers"]) and
         all(k["algorithm"] == 8 for k in d["dnskeys"]),
         "algsigs: 13 signs on every server, yet no 13 key is published")
d = by_name.get("algdone." + TLD)
if d:
    t.is_(d["algorithm_rollover"], None, "algdone: one algorithm, no rollover")

# Text and Nagios formats say the same thing.
p, _ = check("rollstart." + TLD, fmt="text")
t.ok("rotation_pending" in p.stdout and "publish  rollstart.%s. IN DS" % TLD in p.stdout,
     "text format names the state and the DS to publish")
t.ok("DNSKEY answer %d B (UDP: truncated), TCP ok" % dig_size(
     env["TESTBED_NS_A"], "rollstart." + TLD, True) in p.stdout,
     "text format gives the DNSKEY answer size and the TCP outcome", p.stdout)
p, _ = check("healthy." + TLD, "broken." + TLD, fmt="nagios")
lines = p.stdout.strip().split("\n")
# tests/e2e/nagios_plugin.py holds the plugin conventions; here, the basics.
t.ok(lines[0].startswith("DNSSEC CRITICAL - broken.%s: " % TLD),
     "nagios line leads with the critical domain", lines[0][:120])
t.ok("| 'ok'=1;;;0;2 'warning'=0;;;0;2 'critical'=1;;;0;2 'unknown'=0;;;0;2"
     in lines[0], "nagios perfdata counts domains", lines[0])
t.ok(len(lines) > 1 and lines[1].startswith("broken.%s: critical" % TLD),
     "nagios long output: the critical domain's detail", p.stdout[:400])
t.is_(p.returncode, 2, "nagios: exit 2")
p, _ = check("sha1ds." + TLD, fmt="text")
t.ok("DEPRECATED DIGEST" in p.stdout and "ds_digest_deprecated" in p.stdout and
     "publish  sha1ds.%s. IN DS" % TLD in p.stdout,
     "text format marks the SHA-1 DS and gives the SHA-256 one to publish")
p, _ = check("rsasha1." + TLD, fmt="nagios")
t.ok(p.stdout.startswith("DNSSEC WARNING - rsasha1.%s" % TLD), "nagios: rsasha1 is a warning",
     p.stdout[:120])
t.is_(p.returncode, 1, "nagios: rsasha1 exits 1")
p, doc = check("sha1ds." + TLD)
tag = doc["domains"][0]["ds_to_publish"][0]["key_tag"] if doc else None
p, _ = check("sha1ds." + TLD, fmt="nagios")
t.ok(p.stdout.startswith("DNSSEC WARNING - sha1ds.%s: the only DS is SHA-1: add the SHA-256 "
                         "DS %s at the registrar" % (TLD, tag)),
     "nagios: sha1ds's status line says what to add", p.stdout[:160])

# A resolver where nothing answers is a resolver problem, not the domain's.
sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sink.bind(("127.0.0.1", 0))
port = sink.getsockname()[1]
start = time.monotonic()
try:
    # timeout=120: a hang guard; the check's own timeout (0.5 s) must end it
    p = subprocess.run([BIN, "check", "--trust-anchor", env["TESTBED_ANCHOR"],
                        "--root-hints", env["TESTBED_HINTS"], "--resolver",
                        "127.0.0.1@%d" % port, "--timeout", "0.5", "--retries", "0",
                        "--format", "json", "healthy." + TLD],
                       capture_output=True, text=True, timeout=120)
except subprocess.TimeoutExpired as e:
    p = subprocess.CompletedProcess(e.cmd, None, "", "")
t.ok(p.returncode is not None, "silent resolver: the check ends by itself (%.1f s)"
     % (time.monotonic() - start))
sink.close()
d = json.loads(p.stdout)["domains"][0] if p.stdout else {}
t.is_(d.get("validation"), "secure", "silent resolver: the domain still validates in-process")
t.is_(d.get("severity"), "warning", "silent resolver: warning, never critical")
t.is_(p.returncode, 1, "silent resolver: exit 1")
t.ok("resolver_unreachable" in codes(d) if d else False, "silent resolver: resolver_unreachable reported")
t.is_(d.get("resolvers", [{}])[0].get("status"), "timeout", "silent resolver: status timeout")

# A name that does not exist under the TLD.
p, doc = check("nosuchzone." + TLD)
d = doc["domains"][0] if doc else {}
t.ok("not_delegated" in codes(d) if d else False, "nonexistent domain: not_delegated")
t.is_(p.returncode, 2, "nonexistent domain: exit 2")

sys.exit(t.done())
