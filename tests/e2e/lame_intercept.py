#!/usr/bin/env python3
"""Lame and intercepted answers are never a verdict on a domain, and no
name is answered from libunbound's built-in local zones, through the real
binary against the testbed.

Topologies (tests/testbed/README.md): cohosted.TLD (parent and child on one
server), inside.SPECIAL and viaspecial.TLD (a special-use TLD such as
test.), lamed.TLD (a parent whose server answers without authority) and an
intercepting responder (tests/testbed/interceptor.py on
TESTBED_INTERCEPTOR) that root hints point at.
"""
import json
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from tap import Tap, testbed_env  # noqa: E402
from dash_common import Daemon, get_json, request, wait_for  # noqa: E402
import scenario_common as sc  # noqa: E402

t = Tap()
BIN = os.environ["DNSSECMON_BIN"]
TOP = os.environ["DNSSECMON_TOP"]
env = testbed_env()
TLD = env["TESTBED_TLD"]
SPECIAL = env["TESTBED_SPECIAL_TLD"]
ICPT = env["TESTBED_INTERCEPTOR"]
ANCHOR = env["TESTBED_ANCHOR"]
TMP = tempfile.mkdtemp(prefix="dnssecmon-lame.")


def check(*args, hints=None, anchor=None, fmt="json", timeout=120):
    """Runs `dnssecmon check`; returns (process, JSON doc or None,
    seconds). timeout is a hang guard only."""
    start = time.monotonic()
    p, doc = sc.check_doc(t, env, *args, fmt=fmt, hints=hints,
                          anchor=anchor, timeout=timeout)
    return p, doc, time.monotonic() - start


def domains(doc):
    return {d["domain"]: d for d in (doc or {"domains": []})["domains"]}


def codes(d):
    return sorted(p["code"] for p in (d or {}).get("problems", []))


def hints_file(name, addrs):
    path = os.path.join(TMP, name)
    with open(path, "w") as f:
        for i, _ in enumerate(addrs):
            f.write(". 3600 NS r%d.root-servers.net.\n" % i)
        for i, a in enumerate(addrs):
            f.write("r%d.root-servers.net. 3600 A %s\n" % (i, a))
    return path


class Interceptor:
    """tests/testbed/interceptor.py on TESTBED_INTERCEPTOR, killed by pid."""

    def __init__(self, mode):
        self.p = subprocess.Popen(
            [sys.executable, os.path.join(TOP, "tests/testbed/interceptor.py"),
             ICPT, mode], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True)
        # The first line is "ready" once it listens; '' if it died.
        line = self.p.stdout.readline().strip()
        t.is_(line, "ready", "interceptor (%s) listens on %s" % (mode, ICPT))

    def stop(self):
        self.p.kill()
        self.p.wait()


# ------------------------------------------------------- topologies
# Parent and child on one server; zones under (and served from) a
# special-use TLD. Each is healthy: any problem is the monitor's mistake.
for zone, parent, nsnames in (
        ("cohosted." + TLD, TLD, ["ns1.nic." + TLD, "ns2.nic." + TLD]),
        ("inside." + SPECIAL, SPECIAL,
         ["ns1.hosting." + SPECIAL, "ns2.hosting." + SPECIAL]),
        ("viaspecial." + TLD, TLD,
         ["ns1.hosting." + SPECIAL, "ns2.hosting." + SPECIAL])):
    p, doc, _ = check(zone)
    d = domains(doc).get(zone, {})
    t.is_(p.returncode, 0, "%s: exit 0" % zone)
    t.is_((d.get("validation"), d.get("rotation", {}).get("state"),
           d.get("severity")), ("secure", "stable", "ok"),
          "%s: secure, stable, ok" % zone)
    t.is_(codes(d), [], "%s: no problem" % zone)
    t.is_(d.get("parent"), parent, "%s: parent zone %s" % (zone, parent))
    t.ok(len(d.get("ds", [])) == 1 and d["ds"][0]["matches_key"],
         "%s: the DS read from %s matches a key" % (zone, parent))
    ns = d.get("nameservers", [])
    t.is_(sorted(n["name"] for n in ns), nsnames,
          "%s: both servers found by name" % zone)
    t.ok(len(ns) == 2 and all(n["status"] == "ok" and n["authoritative"]
                              for n in ns),
         "%s: both answer with authority" % zone,
         json.dumps(ns)[:400])
d = domains(check("viaspecial." + TLD)[1]).get("viaspecial." + TLD, {})
t.is_(sorted(n["address"] for n in d.get("nameservers", [])),
      sorted([env["TESTBED_NS_A"], env["TESTBED_NS_B"]]),
      "viaspecial: server addresses looked up under %s. (no glue)" % SPECIAL)

# No default local zone of libunbound answers: a name under each is
# denied by the private root, and only the root's signed denial validates
# as secure (a local zone's NXDOMAIN is insecure).
special_names = ["x.onion", "x.invalid", "x.localhost", "x.home.arpa",
                 "x.resolver.arpa", "x.service.arpa", "x.local",
                 "127.in-addr.arpa", "x.10.in-addr.arpa", "x.0.in-addr.arpa",
                 "x.168.192.in-addr.arpa", "x.254.169.in-addr.arpa",
                 "x.2.0.192.in-addr.arpa", "x.100.51.198.in-addr.arpa",
                 "x.113.0.203.in-addr.arpa", "255.255.255.255.in-addr.arpa",
                 "x.d.f.ip6.arpa", "x.8.e.f.ip6.arpa", "x.9.e.f.ip6.arpa",
                 "x.a.e.f.ip6.arpa", "x.b.e.f.ip6.arpa",
                 "x.8.b.d.0.1.0.0.2.ip6.arpa",
                 "1." + "0." * 31 + "ip6.arpa", "0." * 32 + "ip6.arpa"]
special_names += ["x.%d.172.in-addr.arpa" % n for n in range(16, 32)]
special_names += ["x.%d.100.in-addr.arpa" % n for n in range(64, 128)]
if SPECIAL != "test":
    special_names.append("x.test")
p, doc, _ = check(*special_names)
by = domains(doc)
local = [n for n in special_names
         if by.get(n, {}).get("validation") != "secure"
         or "not_delegated" not in codes(by.get(n))]
t.is_(local, [], "%d special-use names: each denied by the root, validated "
      "secure (none answered from a local zone)" % len(special_names))

# The root check validates the root's DNSKEY RRset against the anchor in
# either form: the testbed's DNSKEY, or its DS (as root.ds files hold it,
# computed here by dnssec-dsfromkey from the testbed's anchor).
ds = subprocess.run(["dnssec-dsfromkey", "-2", "-f", ANCHOR, "."],
                    capture_output=True, text=True).stdout.strip()
ds_anchor = os.path.join(TMP, "root.ds")
with open(ds_anchor, "w") as f:
    f.write(ds + "\n")
p, doc, _ = check("healthy." + TLD, anchor=ds_anchor)
t.ok(ds.startswith(". IN DS ") and p.returncode == 0 and
     domains(doc).get("healthy." + TLD, {}).get("validation") == "secure",
     "a DS trust anchor: the root check passes, healthy is ok",
     ds + " / " + p.stderr[:300])
last = ds[-1]
bad_anchor = os.path.join(TMP, "bad.ds")
with open(bad_anchor, "w") as f:
    f.write(ds[:-1] + ("0" if last != "0" else "1") + "\n")
p, doc, _ = check("healthy." + TLD, anchor=bad_anchor)
t.ok(p.returncode == 3 and "does not validate against the trust anchor "
     + bad_anchor in p.stderr and codes(domains(doc).get("healthy." + TLD))
     == ["dns_intercepted"],
     "a DS anchor the root's keys do not match: exit 3, and it says so",
     p.stderr[:300])

# ------------------------------------------------------- interception
# The must-show: root hints that point at an intercepting responder.
icpt_hints = hints_file("intercepted.hints", [ICPT])
mixed_hints = hints_file("mixed.hints", [ICPT, env["TESTBED_ROOT_NS_A"]])

for mode, why in (("nxdomain", "answered NXDOMAIN to the root's DNSKEY"),
                  ("forged", "does not validate against the trust anchor"),
                  ("refused", "answered REFUSED to the root's DNSKEY")):
    ic = Interceptor(mode)
    try:
        zone = "healthy." + TLD
        p, _, took = check(zone, hints=icpt_hints, fmt="text")
        t.diag("%s: check against intercepting hints took %.3f s"
               % (mode, took))
        t.is_(p.returncode, 3, "%s: intercepted network: exit 3 (UNKNOWN)"
              % mode)
        t.ok("the network intercepts DNS" in p.stderr,
             "%s: says once, on stderr, that the network intercepts DNS"
             % mode, p.stderr[:400])
        t.ok(why in p.stderr, "%s: and why (%s)" % (mode, why),
             p.stderr[:400])
        t.ok("dns_intercepted: The network intercepts DNS" in p.stdout
             and "not_delegated" not in p.stdout,
             "%s: the domain shows dns_intercepted, never not_delegated"
             % mode, p.stdout[:400])

        zones = ["healthy." + TLD, "nosuch." + TLD, "example.com"]
        p, doc, took = check(*zones, hints=icpt_hints)
        t.diag("%s: 3 domains against intercepting hints took %.3f s"
               % (mode, took))
        t.is_(p.returncode, 3, "%s: three domains: exit 3" % mode)
        t.is_(p.stderr.count("the network intercepts DNS"), 1,
              "%s: the network's problem is logged once, not per domain"
              % mode)
        got = [(d["severity"], d["rotation"]["state"], codes(d),
                d.get("network_intercepts_dns"))
               for d in (doc or {"domains": []})["domains"]]
        t.is_(got, [("unknown", "unknown", ["dns_intercepted"], True)] * 3,
              "%s: every domain unknown with dns_intercepted only" % mode)
        t.is_([d["queries"] for d in doc["domains"]] if doc else None,
              [0, 0, 0], "%s: nothing asked for any domain" % mode)

        p, _, _ = check(zone, hints=icpt_hints, fmt="nagios")
        t.ok(p.returncode == 3 and p.stdout.startswith("DNSSEC UNKNOWN")
             and "dns_intercepted" in p.stdout,
             "%s: nagios: UNKNOWN, dns_intercepted" % mode, p.stdout[:200])

        # One intercepting hint beside a real root is a lame server,
        # not an intercepted network: it is skipped, and a real denial
        # stays a verdict. healthy.TLD must look as it does through the
        # real hints alone (its notes, e.g. rsa_key_short for its 1280-bit
        # ZSK, included).
        _, ref, _ = check("healthy." + TLD)
        ref = domains(ref).get("healthy." + TLD)
        t.is_(ref and ref["severity"], "ok", "%s: healthy.%s through the real "
              "hints: ok" % (mode, TLD))
        for run in range(3):
            p, doc, _ = check("healthy." + TLD, "inside." + SPECIAL,
                              "nosuch." + TLD, "x.onion", hints=mixed_hints)
            by = domains(doc)
            got = {z: (d["severity"], codes(d)) for z, d in by.items()}
            want = {"healthy." + TLD: ("ok", codes(ref)),
                    "inside." + SPECIAL: ("ok", []),
                    "nosuch." + TLD: ("critical", ["not_delegated"]),
                    "x.onion": ("critical", ["not_delegated"])}
            t.is_(got, want, "%s: a lame root hint beside a real one is "
                  "skipped (run %d)" % (mode, run + 1))

        # A parent whose only server answers without authority.
        zone = "sub.lamed." + TLD
        p, doc, _ = check(zone)
        d = domains(doc).get(zone, {})
        t.is_(p.returncode, 3, "%s: %s: exit 3" % (mode, zone))
        t.ok("parent_lame" in codes(d) and "not_delegated" not in codes(d)
             and d.get("severity") == "unknown" and
             d.get("parent_answers_lame") is True,
             "%s: %s: parent_lame, unknown, never not_delegated"
             % (mode, zone), json.dumps(codes(d)))
        t.is_(d.get("parent"), "lamed." + TLD, "%s: its parent is lamed.%s"
              % (mode, TLD))

        # A zone whose only server answers without authority: the
        # server's problem, no verdict on the zone.
        zone = "lamed." + TLD
        p, doc, _ = check(zone)
        d = domains(doc).get(zone, {})
        t.is_((p.returncode, d.get("severity"),
               d.get("rotation", {}).get("state")),
              (3, "unknown", "unknown"), "%s: %s: unknown" % (mode, zone))
        t.ok("lame_delegation" in codes(d) and
             "no_server_answers" not in codes(d),
             "%s: %s: lame_delegation, never no_server_answers"
             % (mode, zone), json.dumps(codes(d)))
    finally:
        ic.stop()

# The daemon: the interception is the monitor's fact, on /readyz and
# /metrics, logged once however many checks meet it; it clears after a
# reload with hints that reach the real root.
ic = Interceptor("nxdomain")
denv = dict(env, TESTBED_HINTS=icpt_hints)
dm = Daemon(denv, ["healthy." + TLD, "cohosted." + TLD], interval="1s",
            prefix="lame")
try:
    dm.start()

    def metrics():
        _, _, body = request(dm.port, "GET", "/metrics", timeout=2)
        vals = {}
        for line in body.decode().split("\n"):
            if line.startswith(("dnssecmon_network_intercepts_dns ",
                                "dnssecmon_checks_total ")):
                k, v = line.split()
                vals[k] = float(v)
        return vals

    got = wait_for(lambda: metrics().get("dnssecmon_checks_total", 0) >= 6
                   and metrics(), what="six checks behind the interceptor")
    t.is_((got or {}).get("dnssecmon_network_intercepts_dns"), 1.0,
          "daemon: dnssecmon_network_intercepts_dns 1")
    status, body = get_json(dm.port, "/readyz")
    t.ok(status == 503 and body.get("network_intercepts_dns") is True and
         "NXDOMAIN" in body.get("network_error", ""),
         "daemon: /readyz 503, network_intercepts_dns, and why",
         json.dumps(body)[:300])
    t.is_(dm.log_text().count("the network intercepts DNS"), 1,
          "daemon: logged once over %d checks"
          % (got or {}).get("dnssecmon_checks_total", 0))
    status, body = get_json(dm.port, "/api/v1/domains/healthy." + TLD)
    t.ok(status == 200 and [p["code"] for p in body.get("problems", [])]
         == ["dns_intercepted"], "daemon: the domain API shows "
         "dns_intercepted only", json.dumps(body)[:300])
    dm.env = env
    dm.reload()
    t.ok(dm.ready(), "daemon: ready after a reload with the real root hints")
    t.is_(wait_for(lambda: metrics().get(
        "dnssecmon_network_intercepts_dns") == 0.0, what="metric 0"), True,
        "daemon: dnssecmon_network_intercepts_dns back to 0")
finally:
    dm.cleanup()
    ic.stop()

t.ok(subprocess.run(["rm", "-rf", TMP]).returncode == 0, "temporary files removed")
sys.exit(t.done())
