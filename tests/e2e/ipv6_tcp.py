#!/usr/bin/env python3
"""IPv6 and TCP at the domain's servers, in a network namespace of its own.

The shared testbed has no IPv6. This test creates a namespace (private
loopback: its ::1 and 127.x collide with nobody, and no packet can leave
it), gives lo two IPv6 addresses, brings up a second testbed inside with
ns1/ns2.dnshost.<tld> dual-stack (TESTBED_NS_A6/B6: AAAA + TLD glue), and
puts a relay (dnsrelay.py) on each IPv6 address that forwards to that
server's NSD. Then, through the real binary run inside the namespace:

  1. ns1 relays UDP and TCP, ns2 relays UDP only: four addresses asked;
     ns2's IPv6 address is server_tcp_failed (and its truncated rollstart
     DNSKEY answer cannot be fetched at all); ns1's is fine.
  2. ns2 relays TCP too: all four answer over both transports, ok.
  3. ns2's IPv6 relay killed: server_family_unreachable naming IPv6, not
     server_unreachable; --no-ipv6 asks the two IPv4 addresses only.
  4. the IPv6 addresses removed from lo (no route to the AAAA glue): the
     checks pass on IPv4 and the log says "no IPv6 route" once, not once
     per domain.
  5. a route to them that leads nowhere (IPv6 routed, not connected): no
     IPv6 server ever answered, so the failures are the host's: the checks
     pass and the log says so once.

The namespace, its testbed and the relays are removed at the end, every
process by its pid.
"""
import json
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from tap import Tap, testbed_env, wait_for  # noqa: E402
sys.path.insert(0, os.path.dirname(__file__))
from scenario_common import codes  # noqa: E402

t = Tap()
BIN = os.environ["DNSSECMON_BIN"]
TOP = os.environ["DNSSECMON_TOP"]
TB = os.path.join(TOP, "tests/testbed/testbed.sh")
RELAY = os.path.join(TOP, "tests/e2e/dnsrelay.py")
outer = testbed_env()
NS = "dnssecmon6-%d" % os.getpid()
A6, B6 = "fd00:53::31", "fd00:53::32"   # on the namespace's lo only
# The outer testbed's addresses and TLD: inside the namespace they are
# private, and whoever runs this (the suite, a helper on 127.0.N.x) keeps
# to its own numbers anyway.
TBENV = {k: outer[k] for k in ("TESTBED_ROOT_NS_A", "TESTBED_ROOT_NS_B",
                               "TESTBED_TLD_NS_A", "TESTBED_TLD_NS_B",
                               "TESTBED_NS_A", "TESTBED_NS_B",
                               "TESTBED_RESOLVER", "TESTBED_TLD")}
TBENV.update(TESTBED_DIR=os.path.join(TOP, "build", "tb6-%d" % os.getpid()),
             TESTBED_NS_A6=A6, TESTBED_NS_B6=B6)
TLD = TBENV["TESTBED_TLD"]
relays = {}


def nsexec(*cmd, **kw):
    return subprocess.run(["ip", "netns", "exec", NS, *cmd], **kw)


def tb(cmd):
    e = dict(os.environ, **TBENV)
    return nsexec(TB, cmd, env=e, capture_output=True, text=True, timeout=300)


def relay_start(name, listen, upstream, tcp):
    args = ["ip", "netns", "exec", NS, sys.executable, RELAY, listen, upstream]
    if tcp:
        args.append("--tcp")
    p = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
    relays[name] = p
    line = p.stdout.readline()   # "ready" once bound; "" if it died
    return line.strip() == "ready"


def relay_stop(name):
    p = relays.pop(name, None)
    if p is not None and p.poll() is None:
        # ip netns exec execs the command: this pid is the relay itself
        p.send_signal(signal.SIGTERM)
        p.wait(timeout=30)


def check(*args):
    env = testbed_files()
    p = nsexec(BIN, "check", "--trust-anchor", env["TESTBED_ANCHOR"],
               "--root-hints", env["TESTBED_HINTS"], "--resolver",
               TBENV["TESTBED_RESOLVER"], "--timeout", "1", "--retries", "1",
               "--format", "json", *args, capture_output=True, text=True,
               timeout=120)
    doc = None
    try:
        doc = json.loads(p.stdout)
    except ValueError:
        t.diag("no JSON: %s %s" % (p.stdout[:300], p.stderr[-300:]))
    return p, {d["domain"]: d for d in (doc or {"domains": []})["domains"]}


_files = {}


def testbed_files():
    if not _files:
        out = tb("env").stdout
        _files.update(k_v.split("=", 1) for k_v in out.split("\n") if "=" in k_v)
        for k in _files:
            _files[k] = _files[k].strip("'")
    return _files


def server(d, name, family):
    for ns in d.get("nameservers", []):
        if ns["name"].startswith(name + ".") and ns["family"] == family:
            return ns
    return {}


def cleanup():
    for name in list(relays):
        relay_stop(name)
    if subprocess.run(["ip", "netns", "pids", NS], capture_output=True).returncode == 0:
        tb("down")
        subprocess.run(["ip", "netns", "del", NS])


try:
    r = subprocess.run(["ip", "netns", "add", NS], capture_output=True, text=True)
    t.is_(r.returncode, 0, "network namespace %s created" % NS)
    subprocess.run(["ip", "-n", NS, "link", "set", "lo", "up"], check=True)
    for a in (A6, B6):
        subprocess.run(["ip", "-n", NS, "addr", "add", a + "/128", "dev", "lo",
                        "nodad"], check=True)
    up = tb("up")
    t.is_(up.returncode, 0, "a dual-stack testbed up inside the namespace")
    if up.returncode != 0:
        t.diag(up.stderr[-800:])
        raise SystemExit
    healthy, roll = "healthy." + TLD, "rollstart." + TLD

    # 1. ns2's IPv6 address answers UDP, refuses TCP.
    t.ok(relay_start("a6", A6, TBENV["TESTBED_NS_A"], True) and
         relay_start("b6", B6, TBENV["TESTBED_NS_B"], False),
         "relays on %s (UDP+TCP) and %s (UDP only)" % (A6, B6))
    p, res = check(healthy, roll)
    d = res.get(healthy, {})
    t.is_(len(d.get("nameservers", [])), 4, "healthy: four addresses asked "
          "(IPv4 and IPv6 of ns1 and ns2)")
    t.is_(sorted(ns["family"] for ns in d.get("nameservers", [])),
          ["ipv4", "ipv4", "ipv6", "ipv6"], "healthy: two of each family")
    b6 = server(d, "ns2", "ipv6")
    t.is_(b6.get("status"), "ok", "healthy: ns2 over IPv6 answers UDP")
    t.ok(b6.get("tcp") == "network error" and "refused" in (b6.get("tcp_error") or ""),
         "healthy: ns2 over IPv6 fails TCP (%s: %s)" % (b6.get("tcp"), b6.get("tcp_error")))
    t.is_(server(d, "ns1", "ipv6").get("tcp"), "ok", "healthy: ns1 over IPv6 answers TCP")
    t.ok("server_tcp_failed" in codes(d) and "server_unreachable" not in codes(d),
         "healthy: server_tcp_failed, not server_unreachable", sorted(codes(d)))
    msg = [x["message"] for x in d.get("problems", []) if x["code"] == "server_tcp_failed"]
    t.ok(msg and B6 in msg[0], "healthy: server_tcp_failed names %s" % B6, msg)
    t.is_((d.get("rotation", {}).get("state"), d.get("severity")), ("stable", "warning"),
          "healthy: stable, warning")
    d = res.get(roll, {})
    b6 = server(d, "ns2", "ipv6")
    t.ok(b6.get("dnskey_udp_truncated") is True and b6.get("status") != "ok",
         "rollstart: ns2 over IPv6 truncates DNSKEY over UDP and cannot give it over TCP")
    msg = [x["message"] for x in d.get("problems", []) if x["code"] == "server_tcp_failed"]
    t.ok(msg and "does not fit in 1232 bytes there (TC)" in msg[0] and B6 in msg[0],
         "rollstart: server_tcp_failed says the keys cannot be fetched there", msg)
    t.ok("server_unreachable" not in codes(d) and "dnskey_answer_large" in codes(d),
         "rollstart: no server_unreachable; dnskey_answer_large", sorted(codes(d)))
    t.is_((d.get("rotation", {}).get("state"), d.get("severity"), p.returncode),
          ("rotation_pending", "warning", 1), "rollstart: rotation_pending, warning, exit 1")

    # 2. ns2 relays TCP too: a healthy dual-stack domain.
    relay_stop("b6")
    t.ok(relay_start("b6", B6, TBENV["TESTBED_NS_B"], True), "relay on %s with TCP" % B6)
    p, res = check(healthy)
    d = res.get(healthy, {})
    t.ok(len(d.get("nameservers", [])) == 4 and
         all(ns["status"] == "ok" and ns["tcp"] == "ok" and ns["dnskey_tcp_bytes"]
             for ns in d.get("nameservers", [])),
         "dual stack: four addresses answer over UDP and TCP, each with its DNSKEY size")
    # Notes (severity info) say nothing about the servers: healthy's
    # 1280-bit ZSK is one (rsa_key_short).
    t.is_((d.get("severity"), p.returncode,
           sorted(x["code"] for x in d.get("problems", []) if x["severity"] != "info")),
          ("ok", 0, []), "dual stack: ok, exit 0, no problem above a note")

    # 3. ns2 dead over IPv6 only.
    relay_stop("b6")
    p, res = check(healthy)
    d = res.get(healthy, {})
    t.ok("server_family_unreachable" in codes(d) and "server_unreachable" not in codes(d),
         "ns2 silent over IPv6: server_family_unreachable, not server_unreachable",
         sorted(codes(d)))
    msg = [x["message"] for x in d.get("problems", [])
           if x["code"] == "server_family_unreachable"]
    t.ok(msg and msg[0].startswith("ns2.dnshost.%s does not answer over IPv6 (%s"
                                   % (TLD, B6)) and "over IPv4 (%s)" % TBENV["TESTBED_NS_B"]
         in msg[0], "the problem names the server, the family and the addresses", msg)
    t.is_((d.get("severity"), p.returncode), ("warning", 1), "one family down: warning, exit 1")
    p, res = check("--no-ipv6", healthy)
    d = res.get(healthy, {})
    t.is_(([ns["family"] for ns in d.get("nameservers", [])], d.get("severity"), p.returncode),
          (["ipv4", "ipv4"], "ok", 0), "--no-ipv6: the IPv4 addresses only, ok")

    # 4. No route to any IPv6 server address.
    for a in (A6, B6):
        subprocess.run(["ip", "-n", NS, "addr", "del", a + "/128", "dev", "lo"], check=True)
    zones = [z + "." + TLD for z in ("healthy", "rolldone", "zskroll")]
    p, res = check(*zones)
    t.is_(p.returncode, 0, "no IPv6 route: the checks still pass (exit 0)")
    t.ok(all(len(res.get(z, {}).get("nameservers", [])) == 2 and
             res[z]["ipv6_unrouted"] == 2 and res[z]["severity"] == "ok" for z in zones),
         "no IPv6 route: each domain asks its two IPv4 addresses, counts two skipped")
    n = p.stderr.count("no IPv6 route")
    t.is_(n, 1, "no IPv6 route: said once for %d domains, not per domain" % len(zones))
    t.diag(p.stderr.strip()[:300])

    # 5. A route to the IPv6 servers that goes nowhere (a host with an
    # IPv6 default route and no IPv6 connectivity): every IPv6 address
    # fails, none ever answered, so the host is suspect, not the domains.
    # (a veth pair inside the namespace; nobody answers for the gateway
    # fd00:54::2, so packets to fd00:53::/64 are never delivered)
    for cmd in (["link", "add", "v0", "type", "veth", "peer", "name", "v1"],
                ["link", "set", "v0", "up"], ["link", "set", "v1", "up"],
                ["addr", "add", "fd00:54::1/64", "dev", "v0", "nodad"],
                ["-6", "route", "add", "fd00:53::/64", "via", "fd00:54::2", "dev", "v0"]):
        subprocess.run(["ip", "-n", NS, *cmd], check=True)
    p, res = check(*zones)
    t.is_(p.returncode, 0, "IPv6 routed into nothing: the checks still pass (exit 0)")
    t.ok(all(len(res.get(z, {}).get("nameservers", [])) == 4 and
             res[z]["ipv6_unproven"] is True and res[z]["severity"] == "ok" and
             not codes(res[z]) & {"server_family_unreachable", "server_unreachable"}
             for z in zones),
         "IPv6 routed into nothing: IPv6 asked, failures not blamed on the domains",
         [(z, sorted(codes(res.get(z, {})))) for z in zones])
    t.ok(all(ns["status"] != "ok" for z in zones
             for ns in res.get(z, {}).get("nameservers", []) if ns["family"] == "ipv6"),
         "IPv6 routed into nothing: every IPv6 address did fail")
    t.is_(p.stderr.count("no IPv6 name server has answered"), 1,
          "IPv6 routed into nothing: said once for %d domains" % len(zones))
    t.diag(p.stderr.strip()[:300])
finally:
    cleanup()
    gone = subprocess.run(["ip", "netns", "pids", NS], capture_output=True).returncode != 0
    t.ok(gone, "the namespace is gone")
    # Nothing of the inner testbed is left running anywhere.
    left = wait_for(lambda: subprocess.run(["pgrep", "-f", TBENV["TESTBED_DIR"]],
                                           capture_output=True).returncode != 0,
                    timeout=30, what="the inner testbed's processes to exit")
    t.ok(left, "no process of the inner testbed is left")
    subprocess.run(["rm", "-rf", TBENV["TESTBED_DIR"]])

sys.exit(t.done())
