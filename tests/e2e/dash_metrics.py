#!/usr/bin/env python3
"""The daemon's HTTP side against the testbed:

  1. /metrics of a live daemon over every scenario zone is clean under
     `promtool check metrics`, with a series per zone and the values each
     scenario should have;
  2. a real Prometheus server on loopback scrapes the daemon every second
     with the shipped rules loaded; the series and a firing alert are read
     back through Prometheus's HTTP API;
  3. the JSON API: /api/v1/domains worst first with the DS to publish and
     the open rotation, /api/v1/domains/NAME with history and keys,
     /healthz, /readyz, 404 and 405;
  4. the limits: a slow client is dropped after the timeout, the listener
     stops at max_connections and takes clients again once they go,
     oversized headers are refused, and no socket is left behind;
  5. the exports: `dnssecmon export grafana|prometheus-rules` equal the
     shipped files, the dashboard is valid JSON, `promtool check rules`
     and `promtool test rules` pass, and every metric they use is one the
     daemon serves;
  6. SIGHUP moves the listener to a new address, and closes it when the
     configuration no longer has http.
Every process it starts is stopped by pid."""
import gzip
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.dirname(__file__))
from tap import Tap  # noqa: E402
import dash_common as dc  # noqa: E402
from dash_common import sample  # noqa: E402

t = Tap()
env = dc.testbed_env()
TLD = env["TESTBED_TLD"]
EXPECT = {  # label -> (state, severity metric: 0 ok 1 warning 2 critical)
    "healthy": ("stable", 0), "rollstart": ("rotation_pending", 1),
    "dsupdated": ("ds_updated", 0), "broken": ("broken", 2),
    "staleds": ("stale_ds", 1), "expired": ("stable", 2),
    "expiring": ("stable", 1), "split": ("stable", 1),
    "unsigned": ("insecure", 0), "nocdsswap": ("rotation_pending", 1),
    "nsec3": ("stable", 1), "denialbad": ("stable", 1),
    "sha1ds": ("stable", 1), "rsa1024": ("stable", 1), "dsboot": ("insecure", 0),
}
ZONES = ["%s.%s" % (z, TLD) for z in EXPECT]
RULES = os.path.join(dc.TOP, "dashboard-export/prometheus-rules.yml")
RULES_TEST = os.path.join(dc.TOP, "dashboard-export/prometheus-rules.test.yml")
DASH = os.path.join(dc.TOP, "dashboard-export/grafana-dashboard.json")

d = dc.Daemon(env, ZONES, extra="  max_connections: 6\n  timeout: 2s\n",
              prefix="dash-metrics")
prom = None
tmp = tempfile.mkdtemp(prefix="dnssecmon-prom-")


def metrics_text():
    status, _, body = dc.request(d.port, "GET", "/metrics")
    return body.decode() if status == 200 else ""


def http_sockets(pid, port):
    """Connected TCP sockets on the HTTP port that the daemon holds open
    (its other sockets come and go with the checks)."""
    inodes = set()
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            link = os.readlink("/proc/%d/fd/%s" % (pid, fd))
        except OSError:
            continue
        if link.startswith("socket:["):
            inodes.add(link[8:-1])
    n = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                rows = f.read().split("\n")[1:]
        except OSError:
            continue
        for row in rows:
            c = row.split()
            if len(c) > 9 and int(c[1].split(":")[1], 16) == port and \
                    c[3] != "0A" and c[9] in inodes:
                n += 1
    return n


try:
    d.start()
    t.ok(d.ready(), "the daemon is ready (every zone checked once)")
    text = metrics_text()

    # 1. promtool on the live page.
    p = subprocess.run(["promtool", "check", "metrics"], input=text,
                       capture_output=True, text=True)
    t.is_(p.returncode, 0, "promtool check metrics: clean")
    if p.returncode != 0 or p.stdout.strip() or p.stderr.strip():
        t.diag(p.stdout[-2000:] + p.stderr[-2000:])
    t.is_(p.stdout.strip() + p.stderr.strip(), "",
          "promtool check metrics: not even a lint warning")
    for label, (state, sev) in EXPECT.items():
        z = "%s.%s" % (label, TLD)
        t.is_(sample(text, "dnssecmon_domain_severity", zone=z), float(sev),
              "metrics: %s severity %d" % (z, sev))
        t.is_(sample(text, "dnssecmon_rotation_state", zone=z, state=state),
              1.0, "metrics: %s rotation_state %s" % (z, state))
    # The text format forbids a series twice; promtool does not see it.
    series = [ln.rsplit(" ", 1)[0] for ln in text.split("\n")
              if ln and not ln.startswith("#")]
    dups = sorted({x for x in series if series.count(x) > 1})
    t.ok(series and not dups, "metrics: every series once (%d)" % len(series),
         dups[:5])
    # gzip when asked (Prometheus asks), the same page once decoded.
    status, hdrs, raw = dc.request(d.port, "GET", "/metrics", headers={
        "Accept-Encoding": "gzip"})
    try:
        plain = gzip.decompress(raw).decode() if hdrs.get(
            "Content-Encoding") == "gzip" else ""
    except (OSError, EOFError):
        plain = ""
    t.ok(status == 200 and hdrs.get("Vary") == "Accept-Encoding" and
         "\ndnssecmon_domains %d\n" % len(ZONES) in plain and
         len(raw) * 3 < len(plain),
         "metrics: gzip on Accept-Encoding: gzip (%d bytes for %d)" % (
             len(raw), len(plain)), hdrs)
    status, hdrs, raw = dc.request(d.port, "GET", "/metrics", headers={
        "Accept-Encoding": "gzip;q=0, identity"})
    t.ok(status == 200 and "Content-Encoding" not in hdrs and
         b"dnssecmon_domains" in raw, "metrics: no gzip for gzip;q=0")
    again = metrics_text()
    t.ok((sample(again, "dnssecmon_http_requests_total", handler="metrics",
                 code="200") or 0) >= 3,
         "metrics: http_requests_total by handler and code")
    t.ok(all(sample(again, m) is not None for m in (
        "process_cpu_seconds_total", "process_resident_memory_bytes",
        "process_open_fds", "process_max_fds",
        "process_start_time_seconds")) and
        sample(again, "process_resident_memory_bytes") > 1e6,
        "metrics: the standard process_* families")
    per_zone = set(re.findall(r'^dnssecmon_last_check_timestamp_seconds\{zone="([^"]+)"\}',
                              text, re.M))
    t.is_(per_zone, set(ZONES), "metrics: a last-check series per zone")
    left = sample(text, "dnssecmon_registrar_deadline_seconds",
                  zone="rollstart." + TLD)
    t.ok(left is not None and 6 * 86400 < left <= 7 * 86400,
         "metrics: rollstart's registrar deadline in 6-7 days (%s s)" % left)
    t.is_(sample(text, "dnssecmon_registrar_deadline_seconds", zone="healthy." + TLD),
          None, "metrics: no registrar deadline without a rotation")
    t.is_(sample(text, "dnssecmon_rotation_ambiguous", zone="nocdsswap." + TLD),
          1.0, "metrics: nocdsswap (no CDS, keys seen together) is ambiguous")
    t.is_(sample(text, "dnssecmon_rotation_ambiguous", zone="rollstart." + TLD),
          0.0, "metrics: rollstart (CDS) is not ambiguous")
    t.is_(sample(text, "dnssecmon_registrar_deadline_seconds", zone="nocdsswap." + TLD),
          None, "metrics: no registrar deadline on a guess (nocdsswap)")
    t.is_(sample(text, "dnssecmon_resolver_rcode", zone="broken." + TLD,
                 resolver=env["TESTBED_RESOLVER"], rcode="SERVFAIL"), 1.0,
          "metrics: the resolver answers SERVFAIL for broken")
    t.is_(sample(text, "dnssecmon_resolver_ad", zone="healthy." + TLD,
                 resolver=env["TESTBED_RESOLVER"]), 1.0,
          "metrics: the resolver sets AD for healthy")
    # DNSKEY over TCP from every server (tcp_every defaults to 1), and
    # the answer's size: rollstart's is over 1232 (truncated over UDP).
    for z, big in (("rollstart." + TLD, True), ("healthy." + TLD, False)):
        for srv in (env["TESTBED_NS_A"], env["TESTBED_NS_B"]):
            t.is_(sample(text, "dnssecmon_server_tcp_answering", zone=z, server=srv),
                  1.0, "metrics: %s at %s answers over TCP" % (z, srv))
            b = sample(text, "dnssecmon_server_dnskey_answer_bytes", zone=z, server=srv)
            t.ok(b is not None and (b > 1232) == big,
                 "metrics: %s's DNSKEY answer at %s is %s 1232 B (%s)"
                 % (z, srv, "over" if big else "within", b))
    t.is_(sample(text, "dnssecmon_servers_agree", zone="split." + TLD), 0.0,
          "metrics: split's servers disagree")
    t.is_(sample(text, "dnssecmon_servers_agree", zone="healthy." + TLD), 1.0,
          "metrics: healthy's servers agree")
    # Denial of existence: per server, and the NSEC3 iterations.
    for srv, want in ((env["TESTBED_NS_A"], 1.0), (env["TESTBED_NS_B"], 0.0)):
        t.is_(sample(text, "dnssecmon_server_denial_valid", zone="denialbad." + TLD,
                     server=srv), want,
              "metrics: denialbad's denial proofs from %s: %d" % (srv, want))
    t.is_(sample(text, "dnssecmon_server_denial_valid", zone="unsigned." + TLD,
                 server=env["TESTBED_NS_A"]), None,
          "metrics: no denial series for an unsigned zone")
    t.is_(sample(text, "dnssecmon_nsec3_iterations", zone="nsec3." + TLD), 100.0,
          "metrics: nsec3 uses 100 NSEC3 iterations")
    t.is_(sample(text, "dnssecmon_nsec3_iterations", zone="healthy." + TLD), None,
          "metrics: no NSEC3 iterations for an NSEC zone")
    status, one = dc.get_json(d.port, "/api/v1/domains/nsec3.%s" % TLD)
    den = (one or {}).get("denial") or {}
    t.is_((status, den.get("proof"), den.get("validation"),
           (den.get("nsec3") or {}).get("iterations"),
           (den.get("nsec3") or {}).get("salt_length")),
          (200, "nsec3", "secure", 100, 8), "api: nsec3's denial facts")
    status, one = dc.get_json(d.port, "/api/v1/domains/denialbad.%s" % TLD)
    t.is_(sorted((ns["address"], ns["denial_valid"])
                 for ns in (one or {}).get("nameservers", [])),
          sorted([(env["TESTBED_NS_A"], True), (env["TESTBED_NS_B"], False)]),
          "api: denialbad's servers, b's denial bogus")
    status, _, page = dc.request(d.port, "GET", "/")
    page = page.decode("utf-8", "replace")
    t.ok(status == 200 and "nsec3 (100 iterations)" in page and
         "bogus on 1 of 2 servers" in page,
         "status page: the denial column shows NSEC3 iterations and the bogus server")
    exp = sample(text, "dnssecmon_rrsig_expiry_timestamp_seconds",
                 zone="expiring." + TLD)
    t.ok(exp is not None and 0 < exp - time.time() < 3 * 86400,
         "metrics: expiring's RRSIGs expire within 3 days")
    t.is_(sample(text, "dnssecmon_ds_to_publish_records", zone="rollstart." + TLD),
          1.0, "metrics: one DS to publish for rollstart")
    # Deprecated crypto and bootstrapping, per zone.
    t.is_(sample(text, "dnssecmon_ds_deprecated_digest_records", zone="sha1ds." + TLD),
          1.0, "metrics: sha1ds has one SHA-1 DS")
    t.is_(sample(text, "dnssecmon_ds_deprecated_digest_records", zone="healthy." + TLD),
          0.0, "metrics: healthy has none")
    t.is_(sample(text, "dnssecmon_rsa_key_modulus_size", zone="rsa1024." + TLD),
          1024.0, "metrics: rsa1024's smallest RSA key is 1024 bits")
    t.is_(sample(text, "dnssecmon_rsa_key_modulus_size", zone="healthy." + TLD),
          1280.0, "metrics: healthy's smallest RSA key is its 1280-bit ZSK")
    t.is_(sample(text, "dnssecmon_rsa_key_modulus_size", zone="sha1ds." + TLD),
          None, "metrics: no RSA size for an ECDSA zone")
    t.is_(sample(text, "dnssecmon_dnskey_deprecated_algorithm_records",
                 zone="healthy." + TLD), 0.0, "metrics: healthy has no deprecated key")
    t.is_(sample(text, "dnssecmon_dnskey_ttl_seconds", zone="healthy." + TLD),
          3600.0, "metrics: healthy's DNSKEY TTL")
    t.is_(sample(text, "dnssecmon_ds_bootstrap_ready", zone="dsboot." + TLD),
          1.0, "metrics: dsboot can be bootstrapped")
    t.is_(sample(text, "dnssecmon_ds_bootstrap_ready", zone="healthy." + TLD),
          None, "metrics: no bootstrap series for a zone with a DS")
    t.is_(sample(text, "dnssecmon_ds_bootstrap_ready", zone="unsigned." + TLD),
          None, "metrics: no bootstrap series for an unsigned zone")
    t.ok((sample(text, "dnssecmon_probe_duration_seconds_count") or 0) >= len(ZONES),
         "metrics: the probe duration histogram counts the checks")
    t.ok((sample(text, "dnssecmon_resolver_latency_seconds_count",
                 resolver=env["TESTBED_RESOLVER"]) or 0) >= 1,
         "metrics: the resolver latency histogram has answers")
    # The engine's own counters: every zone was checked, so each kind of
    # question was asked at least once per zone (TCP: tcp_every 1).
    t.ok(all((sample(text, name, **lab) or 0) >= len(ZONES) for name, lab in (
        ("dnssecmon_dns_queries_total", {"transport": "udp"}),
        ("dnssecmon_dns_queries_total", {"transport": "tcp"}),
        ("dnssecmon_validations_total", {}),
        ("dnssecmon_resolver_queries_total", {}))),
         "metrics: the engine's questions counted (UDP, TCP, validations, resolvers)")
    t.is_(sample(text, "dnssecmon_dns_silent_addresses"), 0.0,
          "metrics: no silent name server address on the testbed")
    t.is_(sample(text, "dnssecmon_build_info", version=re.search(
        r'version="([^"]+)"', text).group(1)), 1.0, "metrics: build info")

    # 2. A real Prometheus scraping every second, with our rules.
    pport = dc.free_port()
    pconf = os.path.join(tmp, "prometheus.yml")
    with open(pconf, "w") as f:
        f.write("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                "rule_files: ['%s']\nscrape_configs:\n  - job_name: dnssecmon\n"
                "    static_configs:\n      - targets: ['127.0.0.1:%d']\n"
                % (RULES, d.port))
    plog = open(os.path.join(tmp, "prometheus.log"), "w")
    prom = subprocess.Popen(["prometheus", "--config.file=" + pconf,
                             "--storage.tsdb.path=" + os.path.join(tmp, "tsdb"),
                             "--web.listen-address=127.0.0.1:%d" % pport],
                            stdout=plog, stderr=plog)

    def pq(expr):
        u = "http://127.0.0.1:%d/api/v1/query?%s" % (
            pport, urllib.parse.urlencode({"query": expr}))
        with urllib.request.urlopen(u, timeout=5) as r:
            j = json.load(r)
        return j["data"]["result"] if j.get("status") == "success" else None

    def papi(path):
        with urllib.request.urlopen("http://127.0.0.1:%d%s" % (pport, path),
                                    timeout=5) as r:
            return json.load(r)

    res = dc.wait_for(lambda: (lambda r: r if r and len(r) == len(ZONES) else None)(
        pq("dnssecmon_domain_severity")), 60, 0.5)
    t.ok(res is not None, "prometheus: dnssecmon_domain_severity for every zone")
    got = {r["metric"]["zone"]: float(r["value"][1]) for r in res or []}
    t.is_(got, {"%s.%s" % (k, TLD): float(v[1]) for k, v in EXPECT.items()},
          "prometheus: each zone's severity as the daemon serves it")
    up = pq('up{job="dnssecmon"}')
    t.ok(up and up[0]["value"][1] == "1", "prometheus: up{job=\"dnssecmon\"} == 1")
    r = pq('dnssecmon_registrar_deadline_seconds{zone="rollstart.%s"}' % TLD)
    t.ok(r and 6 * 86400 < float(r[0]["value"][1]) <= 7 * 86400,
         "prometheus: rollstart's registrar deadline reads back")
    r = pq('count(dnssecmon_resolver_rcode{rcode="SERVFAIL"} == 1)')
    t.ok(r and float(r[0]["value"][1]) >= 2,
         "prometheus: SERVFAIL series for the broken zones")
    r = pq("sum(rate(dnssecmon_checks_total[10s]))")
    t.ok(dc.wait_for(lambda: (lambda x: x and float(x[0]["value"][1]) > 0)(
        pq("sum(rate(dnssecmon_checks_total[10s]))")), 60),
         "prometheus: the checks counter rises")
    rules = papi("/api/v1/rules")
    names = {ru["name"]: ru.get("health") for g in rules["data"]["groups"]
             for ru in g["rules"]}
    t.ok(len(names) == 14 and all(h == "ok" for h in names.values()),
         "prometheus: the shipped rules load and evaluate (%d rules)" % len(names),
         names)

    def firing():
        a = papi("/api/v1/alerts")["data"]["alerts"]
        return [x for x in a if x["labels"].get("alertname") ==
                "DnssecRegistrarDeadlineApproaching" and
                x["labels"].get("zone") == "rollstart." + TLD and
                x["state"] == "firing"]
    t.ok(dc.wait_for(firing, 60), "prometheus: DnssecRegistrarDeadlineApproaching "
         "fires for rollstart")
    prom.send_signal(signal.SIGTERM)
    try:
        prom.wait(timeout=20)
    except subprocess.TimeoutExpired:
        prom.kill()
        prom.wait()
    prom = None
    plog.close()

    # 3. The JSON API.
    status, j = dc.get_json(d.port, "/api/v1/domains")
    t.is_(status, 200, "api: /api/v1/domains 200")
    doms = j["domains"] if j else []
    t.is_(sorted(x["domain"] for x in doms), sorted(ZONES), "api: every domain")
    order = {"critical": 0, "unknown": 1, "warning": 2, "ok": 3}
    sevs = [order[x["severity"]] for x in doms]
    t.is_(sevs, sorted(sevs), "api: worst first")
    rs = next((x for x in doms if x["domain"] == "rollstart." + TLD), {})
    with open(os.path.join(env["TESTBED_EXPECT"], "rollstart.%s.ds" % TLD)) as f:
        want_ds = f.read().strip()
    t.is_([x["record"] for x in rs.get("ds_to_publish", [])], [want_ds],
          "api: rollstart's DS to publish is the testbed's new key")
    rot = rs.get("rotation") or {}
    t.ok(rot.get("kind") == "ksk" and rot.get("registrar_deadline") and
         rot.get("seconds_left", 0) > 6 * 86400,
         "api: rollstart's open rotation with its registrar deadline")
    t.ok(any(p["code"] == "rotation_pending" for p in rs.get("problems", [])),
         "api: rollstart's problems")
    by = {x["domain"]: x for x in doms}
    t.is_((by.get("dsboot." + TLD) or {}).get("bootstrap_ready"), True,
          "api: dsboot is ready to bootstrap")
    t.is_((by.get("healthy." + TLD) or {}).get("bootstrap_ready", "absent"), None,
          "api: healthy has no bootstrap verdict")
    t.is_(sorted(k["rsa_bits"] for k in (by.get("rsa1024." + TLD) or {}).get("dnskeys", [])),
          [1024, 1280], "api: rsa1024's key sizes")
    t.is_((by.get("sha1ds." + TLD) or {}).get("ds_deprecated_digest_records"), 1,
          "api: sha1ds has one SHA-1 DS")
    t.is_(rs.get("ambiguous_rotation"), False, "api: rollstart is not ambiguous")
    ns = next((x for x in doms if x["domain"] == "nocdsswap." + TLD), {})
    t.ok(ns.get("ambiguous_rotation") is True and ns.get("rotation") is None
         and any(p["code"] == "rotation_ambiguous" for p in ns.get("problems", [])),
         "api: nocdsswap is ambiguous, with no rotation countdown", str(ns)[:400])
    status, one = dc.get_json(d.port, "/api/v1/domains/ROLLSTART.%s." % TLD)
    t.is_(status, 200, "api: one domain, any case, final dot")
    t.ok(one and len(one.get("history", [])) >= 1 and
         one["history"][0]["state"] == "rotation_pending",
         "api: recent history from the store, newest first")
    t.ok(one and len((one.get("keys") or {}).get("dnskeys", [])) == 3,
         "api: the key timeline (3 keys)")
    status, _ = dc.get_json(d.port, "/api/v1/domains/nowhere." + TLD)
    t.is_(status, 404, "api: an unknown domain is 404")
    status, _, body = dc.request(d.port, "GET", "/healthz")
    t.is_((status, body.strip()), (200, b"ok"), "/healthz")
    status, j = dc.get_json(d.port, "/readyz")
    t.ok(status == 200 and j["ready"] and j["checked"] == len(ZONES), "/readyz")
    raw = socket.create_connection(("127.0.0.1", d.port))
    raw.sendall(b"HEAD /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    data = b""
    raw.settimeout(5)
    while True:
        chunk = raw.recv(65536)
        if not chunk:
            break
        data += chunk
    raw.close()
    head, _, rest = data.partition(b"\r\n\r\n")
    t.ok(head.startswith(b"HTTP/1.1 200") and rest == b"" and
         b"Content-Length: " in head, "HEAD /metrics: the length, no body")
    status, _, _ = dc.request(d.port, "POST", "/metrics", body=b"x")
    t.is_(status, 405, "POST /metrics: 405 (only the webhook takes POST)")
    status, _, _ = dc.request(d.port, "DELETE", "/api/v1/domains")
    t.ok(status in (405, 501), "DELETE: refused (%d)" % status)
    status, _, _ = dc.request(d.port, "GET", "/nothing")
    t.is_(status, 404, "an unknown path: 404")
    status, _, _ = dc.request(d.port, "POST", "/hooks/dnsimple/whatever",
                              body=b"{}")
    t.is_(status, 404, "the webhook when not configured: 404")

    # 4. Limits.
    slow = socket.create_connection(("127.0.0.1", d.port))
    slow.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")   # and then nothing
    slow.settimeout(60)     # a hang guard: the daemon's timeout is 2 s
    t0 = time.monotonic()
    try:
        data = slow.recv(100)
    except OSError as e:
        data = repr(e).encode()
    took = time.monotonic() - t0
    # b"": the daemon closed it (not our 60 s guard, not an answer); after
    # a second at least: at its timeout, not at once.
    t.ok(data == b"" and took > 1.0, "a client that stops sending is dropped "
         "at the 2 s timeout (%.1f s, %r)" % (took, data[:60]))
    slow.close()
    status, _, _ = dc.request(d.port, "GET", "/healthz",
                              headers={"X-Big": "a" * 9000})
    t.ok(status in (400, 413, 431), "headers over 8 KiB refused (%d)" % status)
    # From six addresses: one address may not take every slot (the last
    # is kept for a client that holds none; tests/cli/http_limits.py).
    # .201-.206 of the testbed's own /24, like every address a test uses.
    net = env["TESTBED_RESOLVER"].rsplit(".", 1)[0]
    idle = [socket.create_connection(("127.0.0.1", d.port),
                                     source_address=("%s.%d" % (net, 201 + i),
                                                     0))
            for i in range(6)]
    dc.wait_for(lambda: http_sockets(d.proc.pid, d.port) >= 6, 60, 0.02,
                "the daemon to accept six connections")
    t.is_(http_sockets(d.proc.pid, d.port), 6, "six idle connections held")
    t0 = time.monotonic()
    status, _, _ = dc.request(d.port, "GET", "/healthz", timeout=10)
    took = time.monotonic() - t0
    t.ok(status == 200 and took > 1.0, "at max_connections (6) a new client "
         "waits until idle ones are dropped (%.1f s)" % took)
    for s in idle:
        s.close()
    for _ in range(30):
        dc.request(d.port, "GET", "/healthz")
    t.ok(dc.wait_for(lambda: http_sockets(d.proc.pid, d.port) == 0, 60),
         "no HTTP connection left open after many (%d)" %
         http_sockets(d.proc.pid, d.port))
    t.ok("connections open, the limit" in d.log_text(),
         "the log says when the connection limit is reached")

    # 5. Exports.
    served = set(re.findall(r"^# TYPE (\S+) ", metrics_text(), re.M))
    for what, path in (("grafana", DASH), ("prometheus-rules", RULES)):
        p = subprocess.run([dc.BIN, "export", what], capture_output=True)
        with open(path, "rb") as f:
            t.ok(p.returncode == 0 and p.stdout == f.read(),
                 "export %s: byte for byte the shipped %s" % (what,
                                                               os.path.basename(path)))
    with open(DASH) as f:
        try:
            dash = json.load(f)
        except ValueError as e:
            dash = {}
            t.diag(str(e))
    t.ok(dash.get("panels") and dash.get("uid") == "dnssecmon",
         "grafana: valid JSON with panels")
    exprs = [tg["expr"] for pnl in dash.get("panels", []) for tg in pnl.get("targets", [])]
    t.ok(all(tg.get("datasource", {}).get("uid") == "${datasource}"
             for pnl in dash.get("panels", []) for tg in pnl.get("targets", [])),
         "grafana: every query uses the datasource variable")
    with open(RULES) as f:
        rules_text = f.read()
    used = set(re.findall(r"\b(dnssecmon_[a-z_]+)", " ".join(exprs) + rules_text))
    base_names = {re.sub(r"_(bucket|sum|count)$", "", n) if re.sub(
        r"_(bucket|sum|count)$", "", n) in served else n for n in used}
    t.is_(sorted(base_names - served), [], "dashboard and rules use only "
          "metrics the daemon serves")
    rf = os.path.join(tmp, "rules.yml")
    with open(rf, "wb") as f:
        f.write(subprocess.run([dc.BIN, "export", "prometheus-rules"],
                               capture_output=True).stdout)
    p = subprocess.run(["promtool", "check", "rules", rf], capture_output=True,
                       text=True)
    t.ok(p.returncode == 0 and "SUCCESS: 14 rules found" in p.stdout,
         "promtool check rules on the export", p.stdout + p.stderr)
    p = subprocess.run(["promtool", "test", "rules", RULES_TEST],
                       capture_output=True, text=True)
    t.ok(p.returncode == 0 and "SUCCESS" in p.stdout,
         "promtool test rules", p.stdout + p.stderr)

    # 5b. http.metrics_enum_zeros: no keeps only the 1 of each enum gauge
    # (6 rotation states and 3 validation statuses less a zone), on SIGHUP.
    def per_zone(txt, z):
        return [ln for ln in txt.split("\n") if ln and
                not ln.startswith("#") and 'zone="%s"' % z in ln]
    z0 = "healthy." + TLD
    full = per_zone(metrics_text(), z0)
    d.extra += "  metrics_enum_zeros: no\n"
    d.reload()
    lean = []

    def lean_page():
        lean[:] = [metrics_text()]
        return lean[0] and sample(lean[0], "dnssecmon_rotation_state", zone=z0,
                                  state="broken") is None
    t.ok(dc.wait_for(lean_page, 60),
         "metrics_enum_zeros: no (SIGHUP): the zero enum series are gone")
    text2 = lean[0] if lean else ""
    enums = [ln for ln in text2.split("\n") if
             ln.startswith(("dnssecmon_rotation_state{",
                            "dnssecmon_validation_status{"))]
    t.ok(enums and all(ln.endswith(" 1") for ln in enums) and
         len(enums) == 2 * len(ZONES),
         "metrics_enum_zeros: no: one series of value 1 per enum and zone "
         "(%d)" % len(enums), enums[:4])
    for label, (state, sev) in EXPECT.items():
        z = "%s.%s" % (label, TLD)
        if sample(text2, "dnssecmon_rotation_state", zone=z, state=state) != 1:
            t.ok(False, "metrics_enum_zeros: no: %s keeps state %s" % (z, state))
            break
    else:
        t.ok(True, "metrics_enum_zeros: no: every zone keeps its state's 1")
    t.is_(len(full) - len(per_zone(text2, z0)), 9,
          "metrics_enum_zeros: no: a zone costs 9 series less "
          "(%d -> %d)" % (len(full), len(per_zone(text2, z0))))
    p = subprocess.run(["promtool", "check", "metrics"], input=text2,
                       capture_output=True, text=True)
    t.is_((p.returncode, p.stdout.strip() + p.stderr.strip()), (0, ""),
          "metrics_enum_zeros: no: promtool check metrics clean")
    series = [ln.rsplit(" ", 1)[0] for ln in text2.split("\n")
              if ln and not ln.startswith("#")]
    t.is_(len(series), len(set(series)),
          "metrics_enum_zeros: no: every series once")

    # 6. SIGHUP moves the listener, and closes it when http goes.
    def answers(port):
        try:
            return dc.request(port, "GET", "/healthz", timeout=2)[0] == 200
        except OSError:
            return False
    old_port = d.port
    d.port = dc.free_port()
    d.reload()
    t.ok(dc.wait_for(lambda: answers(d.port) and not answers(old_port), 60),
         "SIGHUP with a new http.listen: the new port answers, the old not")
    t.ok(dc.wait_for(lambda: dc.get_json(d.port, "/readyz")[0] == 200, 60),
         "SIGHUP: the table is kept (still ready)")
    d.http = False
    d.reload()
    t.ok(dc.wait_for(lambda: not answers(d.port), 60),
         "SIGHUP without http: the listener is closed")
    t.ok("listener closed" in d.log_text(), "SIGHUP without http: logged")
    rc = d.stop()
    t.is_(rc, 0, "SIGTERM: the daemon exits 0")
finally:
    if prom is not None and prom.poll() is None:
        prom.kill()
        prom.wait()
    d.cleanup()
    subprocess.run(["rm", "-rf", tmp])
sys.exit(t.done())
