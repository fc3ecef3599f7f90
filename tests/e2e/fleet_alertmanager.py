#!/usr/bin/env python3
"""Replicas deduplicated by a real Alertmanager cluster.

Three dnssecmon processes against the testbed: replicas A and B of the
shard of the switchable zone, and C, the other shard of the same domain
list (the switch zone and testbed zones that are broken by design). Each
posts to both peers of a two-peer prometheus-alertmanager cluster (gossip
on the testbed's own /24, .51 and .52), which notifies a webhook receiver
run here, grouping by zone and code:

  - every (zone, code) open in the three stores reaches the receiver in
    exactly one firing notification, though A and B both post it, and
    both peers run their notification pipeline;
  - no label names the replica (Alertmanager would hold two alerts):
    the daemon's name is the dnssecmon_instance annotation;
  - one Prometheus scrapes the three with the shipped rules and alerts
    to the same cluster: a zone both replicas export fires one rule
    alert, without instance, and the dashboard's Critical panel counts
    each domain once;
  - kill -9 A (by pid) and the first Alertmanager peer: B's resends keep
    the alerts alive in the surviving peer (endsAt past what A could
    have set) and nothing is resolved; a new rotation on the switch zone
    (rotation_pending) reaches the receiver once, through the peer left;
  - nothing was ever notified twice;
  - B restarted, with the first peer back empty: the alerts open in B's
    store are posted again, from their last payload;
  - no peer up: B's resolution of the rotation waits in the outbox,
    retried, and is delivered when a peer is back;
  - the three share one mosquitto broker: each keeps its own retained
    status topic, and a DNS host's rotation_start posted to A (restarted
    after its kill) reaches B's `dnssecmon rotations` through it.
"""
import json
import os
import shutil
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
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "../alerts"))
from tap import Tap  # noqa: E402
import dash_common as dc  # noqa: E402
import harness as h  # noqa: E402

t = Tap()
env = dc.testbed_env()
TLD = env.get("TESTBED_TLD", "lab")
ZONE = env["TESTBED_SWITCH_ZONE"]
NET = env["TESTBED_RESOLVER"].rsplit(".", 1)[0]
AM_HOSTS = [NET + ".51", NET + ".52"]
AM_BIN = "/usr/bin/prometheus-alertmanager"
RESEND = 5          # dnssecmon's alertmanager.resend, seconds
# Zones the testbed breaks by design: their alerts fire at the first check.
BAD = ["broken", "expired", "notyet", "algmismatch", "algdsearly"]
# Zones in a KSK rotation by design: a registrar deadline at once.
ROTATING = ["rollstart", "longttl", "p384", "nocdsstart", "cdsdiffer"]
RULES = os.path.join(os.environ["DNSSECMON_TOP"],
                     "dashboard-export/prometheus-rules.yml")
DASH = os.path.join(os.environ["DNSSECMON_TOP"],
                    "dashboard-export/grafana-dashboard.json")
tmp = tempfile.mkdtemp(prefix="dnssecmon-fleet-am-")
recv = h.Receiver()
SECRET = "e2e-fleet-am-%s-Qw9p" % os.getpid()
HOST_ID = "e2e-fleet-am-%d" % os.getpid()
broker = h.Broker(tmp, host=NET + ".50")


def shard_of(name, n):
    """The daemon's shard of a domain: FNV-1a 64 of its name, mod n."""
    x = 1469598103934665603
    for c in name.encode():
        x = ((x ^ c) * 1099511628211) & 0xFFFFFFFFFFFFFFFF
    return x % n + 1


K = shard_of(ZONE, 2)
bad = ["%s.%s" % (z, TLD) for z in BAD]
ours = [z for z in bad if shard_of(z, 2) == K]
theirs = [z for z in bad if shard_of(z, 2) != K]
RZ = next(z for z in ("%s.%s" % (r, TLD) for r in ROTATING)
          if shard_of(z, 2) == K)
DOMAINS = [ZONE, RZ] + bad


def port_free(host, port):
    """Whether port is free on host for TCP and for UDP."""
    for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
        x = socket.socket(socket.AF_INET, kind)
        try:
            x.bind((host, port))
        except OSError:
            return False
        finally:
            x.close()
    return True


def free_tcp_udp(host):
    """A port free for TCP and UDP on host: the cluster's gossip uses
    both, and resolvers' random UDP ports on 0.0.0.0 take some."""
    while True:
        port = h.free_port(host)
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            u.bind((host, port))
            return port
        except OSError:
            continue
        finally:
            u.close()


class Peer:
    """One prometheus-alertmanager of the cluster, stopped by pid."""

    def __init__(self, i):
        self.host = AM_HOSTS[i]
        self.port = h.free_port(self.host)
        self.cport = free_tcp_udp(self.host)
        self.dir = os.path.join(tmp, "am%d" % i)
        os.makedirs(self.dir)
        self.proc = None

    def start(self, peers):
        """Starts it and waits until it answers. A restart takes a new
        gossip port when its old one was taken meanwhile (a resolver's
        random UDP port on 0.0.0.0: CI saw "bind: address already in
        use" and a peer that never came back), and again when the port
        is lost between that look and the bind."""
        for _ in range(5):
            if not port_free(self.host, self.cport):
                self.cport = free_tcp_udp(self.host)
            self.spawn(peers)
            state = dc.wait_for(self.up_or_dead, 60,
                                what="alertmanager on %s up" % self.host)
            if state != "dead" or "address already in use" not in \
                    open(os.path.join(self.dir, "log")).read():
                return
            self.cport = free_tcp_udp(self.host)

    def up_or_dead(self):
        if self.proc.poll() is not None:
            return "dead"
        try:
            self.get("/-/healthy")
            return "up"
        except OSError:
            return None

    def spawn(self, peers):
        self.log = open(os.path.join(self.dir, "log"), "w")
        args = [AM_BIN, "--config.file=" + os.path.join(tmp, "am.yml"),
                "--storage.path=" + self.dir,
                "--web.listen-address=%s:%d" % (self.host, self.port),
                "--cluster.listen-address=%s:%d" % (self.host, self.cport),
                "--cluster.advertise-address=%s:%d" % (self.host, self.cport),
                # The second peer waits this long for the first one's
                # notification log before it would send itself.
                "--cluster.peer-timeout=3s",
                "--cluster.gossip-interval=100ms",
                "--cluster.pushpull-interval=2s"]
        for p in peers:
            if p is not self:
                args.append("--cluster.peer=%s:%d" % (p.host, p.cport))
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=self.log)

    def get(self, path):
        u = "http://%s:%d%s" % (self.host, self.port, path)
        with urllib.request.urlopen(u, timeout=5) as r:
            return r.read().decode()

    def metric(self, name, having=""):
        """The sum of a metric's series (those whose line has `having`)."""
        total = 0.0
        for line in self.get("/metrics").splitlines():
            if (line.startswith(name + " ") or line.startswith(name + "{")) \
                    and having in line:
                total += float(line.rsplit(" ", 1)[1])
        return total

    def heard(self):
        """Notifications this peer sent plus notification-log updates it
        received from the other: grows by one on each peer for each
        notification the cluster sends, once the other peer knows it."""
        return self.metric("alertmanager_notifications_total") + \
            self.metric("alertmanager_cluster_messages_received_total",
                        'msg_type="update"')

    def members(self):
        return len(json.loads(self.get("/api/v2/status"))["cluster"]
                   .get("peers") or [])

    def alerts(self):
        return json.loads(self.get("/api/v2/alerts"))

    def log_text(self):
        with open(os.path.join(self.dir, "log")) as f:
            return f.read()

    def stop(self, sig=signal.SIGTERM):
        rc = h.stop_pid(self.proc, sig)
        self.proc = None
        return rc


am = [Peer(0), Peer(1)]
with open(os.path.join(tmp, "am.yml"), "w") as f:
    f.write("""route:
  receiver: noc
  group_by: [alertname, zone, code]
  group_wait: 1s
  group_interval: 2s
  repeat_interval: 24h
receivers:
  - name: noc
    webhook_configs:
      - url: http://127.0.0.1:%d/notify
        send_resolved: true
""" % recv.port)


def replica(name, extra=""):
    urls = ", ".join("http://%s:%d" % (p.host, p.port) for p in am)
    d = dc.Daemon(env, DOMAINS, interval="2s", prefix="fleet-am-" + name,
                  extra="instance: %s\nalertmanager: {urls: [%s], "
                  "resend: %ds, retry_max: 1s, timeout: 2s}\n"
                  "mqtt: {host: %s, port: %d, reconnect_max: 1s}\n"
                  "hooks:\n  dnsimple:\n    secret: %s\n%s"
                  % (name, urls, RESEND, broker.host, broker.port, SECRET,
                     extra))
    return d


# C sends each check's transitions as one notification (alerts.group:
# check): one POST, an alert for each, as Alertmanager tracks them.
a, b = replica("replica-a"), replica("replica-b")
c = replica("other-shard", "alerts: {group: check}\n")
OURS, OTHER = ["--shard", "%d/2" % K], ["--shard", "%d/2" % (3 - K)]


class Prometheus:
    """One Prometheus scraping the three daemons with the shipped rules,
    sending its alerts to both Alertmanager peers."""

    def __init__(self):
        self.host = NET + ".53"
        self.port = h.free_port(self.host)
        self.dir = os.path.join(tmp, "prom")
        os.makedirs(self.dir)
        self.proc = None

    def start(self, daemons):
        conf = os.path.join(self.dir, "prometheus.yml")
        with open(conf, "w") as f:
            f.write("global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
                    "rule_files: ['%s']\nalerting:\n  alertmanagers:\n"
                    "    - static_configs: [{targets: [%s]}]\n"
                    "scrape_configs:\n  - job_name: dnssecmon\n"
                    "    static_configs: [{targets: [%s]}]\n"
                    % (RULES, ", ".join("'%s:%d'" % (p.host, p.port)
                                        for p in am),
                       ", ".join("'127.0.0.1:%d'" % d.port for d in daemons)))
        self.log = open(os.path.join(self.dir, "log"), "w")
        self.proc = subprocess.Popen(
            ["prometheus", "--config.file=" + conf,
             "--storage.tsdb.path=" + os.path.join(self.dir, "tsdb"),
             "--web.listen-address=%s:%d" % (self.host, self.port)],
            stdout=self.log, stderr=self.log)

    def query(self, expr):
        u = "http://%s:%d/api/v1/query?%s" % (
            self.host, self.port, urllib.parse.urlencode({"query": expr}))
        with urllib.request.urlopen(u, timeout=5) as r:
            j = json.load(r)
        return j["data"]["result"] if j.get("status") == "success" else None

    def log_text(self):
        with open(os.path.join(self.dir, "log")) as f:
            return f.read()

    def stop(self):
        rc = h.stop_pid(self.proc, timeout=20)
        self.proc = None
        return rc


prom = Prometheus()


def dash_expr(title):
    """The dashboard's query of a panel, for every instance."""
    with open(DASH) as f:
        d = json.load(f)
    for pnl in d["panels"]:
        if pnl.get("title") == title:
            return pnl["targets"][0]["expr"].replace("$instance", ".*") \
                .replace("$zone", ".*")
    return None


def api_severities(d):
    status, j = dc.get_json(d.port, "/api/v1/domains")
    return {x["domain"]: x["severity"] for x in j["domains"]}


def open_alerts(d):
    """{(zone, code)} open in a daemon's store."""
    try:
        j = h.alerts_json(dc.BIN, d.db)
    except (ValueError, subprocess.SubprocessError):
        return set()
    rows = j.get("alerts", []) if isinstance(j, dict) else j
    return {(r["domain"], r["code"]) for r in rows
            if r.get("state") != "resolved"}


def notified():
    """{(zone, code): [status of each notification naming it]}; a
    Prometheus rule's alert has its alertname for code."""
    out = {}
    for n in recv.delivered("/notify"):
        for al in n.get("alerts", []):
            lb = al["labels"]
            k = (lb.get("zone"), lb.get("code") or lb.get("alertname"))
            out.setdefault(k, []).append(al["status"])
    return out


def firing_counts():
    return {k: v.count("firing") for k, v in notified().items()}


def status_topics():
    r = h.retained(broker, "dnssecmon/status/#")
    return {k: v["payload"] for k, v in r.items() if v["retain"]}


def host_rotations(d):
    """The switch zone's rotations that carry the DNS host's event (its
    request id), in d's store: a rotation the replica had already seen
    in the DNS keeps its source and takes the host's id and start."""
    p = subprocess.run([dc.BIN, "rotations", "--db", d.db, "--format",
                        "json"], capture_output=True, text=True, timeout=30)
    if p.returncode != 0:
        return []
    j = json.loads(p.stdout)
    rows = j["rotations"] if isinstance(j, dict) else j
    return [r for r in rows if r["domain"] == ZONE and
            r.get("external_id") == HOST_ID]



try:
    t.ok(os.access(AM_BIN, os.X_OK), "prometheus-alertmanager is installed")
    shipped = os.path.join(dc.TOP, "etc/alertmanager/alertmanager.yml")
    p = subprocess.run(["amtool", "check-config", shipped],
                       capture_output=True, text=True, timeout=30)
    t.is_(p.returncode, 0, "amtool check-config: the shipped "
          "etc/alertmanager/alertmanager.yml" + (p.stdout + p.stderr
                                                 if p.returncode else ""))
    with open(shipped) as f:
        g = [line for line in f if line.strip().startswith("group_by:")]
    t.is_([x.split(":", 1)[1].strip() for x in g], ["[alertname, zone, code]"],
          "the shipped route groups by zone and code, no replica label")
    t.ok(ours and theirs, "the broken zones fall in both shards (%s | %s)"
         % (" ".join(ours), " ".join(theirs)))
    sw = subprocess.run([dc.TB, "switch", "healthy"], capture_output=True,
                        text=True, timeout=180)
    t.is_(sw.returncode, 0, "testbed switch healthy")
    t.ok(broker.start(), "mosquitto on %s:%d" % (broker.host, broker.port))
    for p in am:
        p.start(am)
    t.ok(dc.wait_for(lambda: all(p.members() == 2 for p in am), 60,
                     what="a two-peer cluster"),
         "two Alertmanager peers, each sees both members")

    a.write_conf()
    p = subprocess.run([dc.BIN, "run", "-n", "-c", a.conf],
                       capture_output=True, text=True, timeout=30)
    t.is_(p.returncode, 0, "dnssecmon run -n takes the alertmanager: block")
    a.start(args=OURS)
    b.start(args=OURS)
    c.start(args=OTHER)
    t.ok(a.ready() and b.ready() and c.ready(),
         "replicas A, B and the other shard C are ready")
    want_st = {"dnssecmon/status/replica-a": "online",
               "dnssecmon/status/replica-b": "online",
               "dnssecmon/status/other-shard": "online"}
    t.ok(dc.wait_for(lambda: status_topics() == want_st, 60,
                     what="three retained status topics"),
         "one broker: each instance has its own retained status topic")

    # ---- every open alert, once, though two replicas post it
    want = set()

    def all_open():
        sa, sb, sc = open_alerts(a), open_alerts(b), open_alerts(c)
        zones_a = {z for z, _ in sa}
        if not (set(ours) <= zones_a and set(theirs) <= {z for z, _ in sc}
                and sa == sb):
            return None
        want.clear()
        want.update(sa | sc)
        return True
    t.ok(dc.wait_for(all_open, 90, what="alerts open for every broken zone"),
         "A and B hold the same open alerts; C holds its shard's")
    t.ok(dc.wait_for(lambda: want <= set(firing_counts()), 90,
                     what="one notification per open alert"),
         "every open (zone, code) reached the receiver (%d of them)"
         % len(want))
    # Both peers have run their pipeline on each group: the second one
    # after its peer timeout, finding the first one's entry in the
    # notification log. Only then can a duplicate be ruled out.
    groups = len(want)
    t.ok(dc.wait_for(lambda: all(p.metric("alertmanager_nflog_queries_total")
                                 >= groups for p in am), 60,
                     what="both peers' notification logs consulted"),
         "both peers consulted the notification log for every group")
    fc = firing_counts()
    t.is_({k: fc.get(k) for k in want}, {k: 1 for k in want},
          "each (zone, code) notified exactly once")
    sent = [p.metric('alertmanager_notifications_total') for p in am]
    t.is_(sum(sent), float(len(recv.delivered("/notify"))),
          "the peers' notification counts add up to what the receiver got")

    al = am[1].alerts()
    t.ok(al and all("dnssecmon_instance" not in x["labels"] and
                    "instance" not in x["labels"] and
                    "replica" not in x["labels"] for x in al),
         "no label names the replica")
    keys = [(x["labels"]["zone"], x["labels"]["code"]) for x in al]
    t.is_(sorted(keys), sorted(set(keys)),
          "one Alertmanager alert per (zone, code), not one per replica")
    t.ok(all(x["annotations"].get("dnssecmon_instance") in
             ("replica-a", "replica-b", "other-shard") for x in al),
         "the daemon's name is an annotation")

    # ---- one Prometheus over the three: one alert, one count per domain
    heard = [p.heard() for p in am]
    prom.start([a, b, c])
    t.ok(dc.wait_for(lambda: len(prom.query(
        'dnssecmon_registrar_deadline_seconds{zone="%s"}' % RZ) or []) == 2,
        60, what="both replicas' series"),
        "Prometheus holds %s's deadline twice: once per replica" % RZ)
    rule_alerts = 'ALERTS{zone="%s",alertstate="firing",' \
        'alertname=~"DnssecRegistrarDeadline.*"}' % RZ
    fired = dc.wait_for(lambda: prom.query(rule_alerts), 60,
                        what="the deadline rule firing")
    t.is_(len(fired or []), 1, "the shipped rule fires once for %s" % RZ)
    t.ok(fired and "instance" not in fired[0]["metric"],
         "... with no instance label", fired)
    rname = fired[0]["metric"]["alertname"] if fired else None
    sev = {}
    sev.update(api_severities(a))
    sev.update(api_severities(c))
    crit = sum(1 for v in sev.values() if v == "critical")
    ours_crit = sum(1 for z in DOMAINS if shard_of(z, 2) == K and
                    sev.get(z) == "critical")
    t.ok(ours_crit > 0, "the replicated shard has critical domains (%d)"
         % ours_crit)
    t.ok(dc.wait_for(lambda: (lambda r: r and int(r[0]["value"][1]) ==
                              crit + ours_crit)(prom.query(
                                  "count(dnssecmon_domain_severity == 2)")),
                     30, what="every daemon scraped"),
         "the raw series count the replicated shard's critical domains "
         "twice (%d + %d)" % (crit, ours_crit))
    expr = dash_expr("Critical")
    t.ok(dc.wait_for(lambda: (lambda r: r and int(float(r[0]["value"][1]))
                              == crit)(prom.query(expr)), 30),
         "the dashboard's Critical panel counts each domain once (%d)" % crit)
    t.ok(dc.wait_for(lambda: firing_counts().get((RZ, rname), 0) >= 1, 60,
                     what="the rule's notification"),
         "the rule's alert reaches the receiver through Alertmanager")
    want.add((RZ, rname))
    groups = len(want)
    # Before a peer is killed, the other must know of this notification
    # (gossip): a peer killed first takes it along, and the survivor
    # would send it again. Alertmanager's own at-least-once, not ours.
    t.ok(dc.wait_for(lambda: all(p.heard() >= h0 + 1
                                 for p, h0 in zip(am, heard)), 60,
                     what="the notification log gossiped"),
         "both peers know the rule's notification (sent or gossiped)")

    # ---- lose a replica and a peer
    os.kill(a.proc.pid, signal.SIGKILL)
    a.proc.wait()
    t.is_(a.proc.returncode, -signal.SIGKILL, "replica A killed (-9)")
    a.proc = None
    a.logf.close()
    t.is_(am[0].stop(signal.SIGKILL), -signal.SIGKILL,
          "the first Alertmanager peer killed (-9)")
    killed = time.time()

    def refreshed():
        """B has re-posted its shard's alerts since A died: their endsAt
        lies past anything A could have set."""
        horizon = time.strftime("%Y-%m-%dT%H:%M:%S",
                                time.gmtime(killed + RESEND * 4 + 1))
        mine = [x for x in am[1].alerts()
                if x["labels"]["zone"] in ours]
        return mine and all(x["endsAt"][:19] > horizon and
                            x["status"]["state"] == "active" for x in mine)
    t.ok(dc.wait_for(refreshed, 60, what="B's resends"),
         "B keeps A's alerts alive in the surviving peer")

    sw = subprocess.run([dc.TB, "switch", "rollstart"], capture_output=True,
                        text=True, timeout=180)
    t.is_(sw.returncode, 0, "testbed switch rollstart: a new KSK rotation")
    new = (ZONE, "rotation_pending")
    t.ok(dc.wait_for(lambda: new in open_alerts(b), 90,
                     what="rotation_pending in B"),
         "B opens rotation_pending")
    t.ok(dc.wait_for(lambda: firing_counts().get(new, 0) >= 1, 90,
                     what="its notification"),
         "the new rotation reaches the receiver through the peer left")
    t.ok(dc.wait_for(lambda: am[1].metric(
        "alertmanager_nflog_queries_total") >= groups + 1, 60),
        "the surviving peer has consulted its log for the new group")
    t.ok(dc.wait_for(lambda: "taken by 1 of 2 peers" in b.log_text(), 60),
         "B's log: the row was taken by 1 of 2 peers")

    fc = firing_counts()
    if not t.is_({k: fc.get(k) for k in want | {new}},
                 {k: 1 for k in want | {new}},
                 "nothing notified twice: one firing notification per "
                 "(zone, code)"):
        for n in recv.delivered("/notify"):
            if any(fc.get((al["labels"].get("zone"), al["labels"].get("code")
                           or al["labels"].get("alertname")), 0) > 1
                   for al in n.get("alerts", [])):
                t.diag(json.dumps(n)[:1500])
    resolved = {k for k, v in notified().items() if "resolved" in v}
    t.is_(resolved, set(), "nothing resolved: A's death ended no alert")

    # ---- a restart: what the store holds open is posted again
    t.is_(prom.stop(), 0, "Prometheus stops: exit 0")
    t.is_(b.stop(), 0, "B stops: exit 0")
    t.is_(am[1].stop(), 0, "the second Alertmanager peer stops")
    am[0].start([am[0]])    # alone: Alertmanager keeps no alerts on disk
    shard_k = set(ours) | {ZONE, RZ}
    t.ok(dc.wait_for(lambda: not any(x["labels"]["zone"] in shard_k
                                     for x in am[0].alerts()), 60,
                     what="a fresh peer"),
         "the first peer back, without the alerts of B's shard (it keeps "
         "none on disk, and no replica of the shard runs)")
    b.start(args=OURS)

    def reposted():
        got = {(x["labels"]["zone"], x["labels"]["code"]): x
               for x in am[0].alerts() if x["labels"].get("code")}
        mine = {k for k in open_alerts(b)}
        return got if mine and mine <= set(got) else None
    got = dc.wait_for(reposted, 60, what="B's open alerts re-posted")
    t.ok(got, "B restarted: every alert open in its store is posted again "
         "(a peer that lost them learns them)")
    x = (got or {}).get(new, {})
    t.ok(x.get("annotations", {}).get("dnssecmon_instance") == "replica-b"
         and "Add at the registrar" in x.get("annotations", {})
         .get("description", ""),
         "... from the last payload: the DS to add, the instance", x)

    # ---- no peer up: a transition waits in the outbox, in order
    t.is_(am[0].stop(), 0, "the first peer stops: no Alertmanager is up")
    sw = subprocess.run([dc.TB, "switch", "dsupdated"], capture_output=True,
                        text=True, timeout=180)
    t.is_(sw.returncode, 0, "testbed switch dsupdated: the DS is in place")

    def resolved_row():
        return h.delivery(h.alerts_json(dc.BIN, b.db), "rotation_pending",
                          "resolved", "alertmanager")
    d0 = dc.wait_for(lambda: (lambda d: d if d and d["attempts"] >= 2
                              else None)(resolved_row()), 90,
                     what="the resolution retried") or {}
    t.ok(d0.get("status") == "pending" and "connection" in
         (d0.get("last_error") or ""),
         "B resolves rotation_pending: pending, retried, every peer down",
         d0)
    am[1].start([am[1]])
    d1 = dc.wait_for(lambda: (lambda d: d if d and d["status"] ==
                              "delivered" else None)(resolved_row()), 90,
                     what="the resolution delivered") or {}
    t.is_(d1.get("status"), "delivered",
          "a peer back: the waiting resolution is delivered")
    ends = [y["endsAt"] for y in am[1].alerts()
            if (y["labels"]["zone"], y["labels"]["code"]) == new]
    t.ok(not ends or all(e_ < time.strftime("%Y-%m-%dT%H:%M:%S",
                                            time.gmtime(time.time() + 1))
                         for e_ in ends),
         "... and Alertmanager holds it as ended", ends)
    # ---- a DNS host's event posted to one replica reaches the other
    a.start(args=OURS)
    t.ok(a.ready(), "A restarted after its kill -9 is ready")
    t.ok(dc.wait_for(lambda: status_topics().get(
        "dnssecmon/status/replica-a") == "online", 60),
        "A's own status topic is online again")
    ds = dc.new_ksk_ds(env, ZONE)
    host_start = int(time.time()) - 3600
    body = dc.host_event("rotation_start", ZONE, HOST_ID,
                         time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                       time.gmtime(host_start)), ds)
    status, _, raw = dc.request(a.port, "POST", "/hooks/dnsimple/" + SECRET,
                                body=body, headers={"Content-Type":
                                                    "application/json"})
    t.is_(status, 200, "rotation_start posted to A: 200")
    if status != 200:
        t.diag(raw[:300])
    rots = dc.wait_for(lambda: host_rotations(b), 60,
                       what="the host's rotation in B's store") or []
    t.is_([(r.get("new_key_tag"), r.get("start")) for r in rots],
          [(int(ds[0]), time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                      time.gmtime(host_start)))],
          "B's dnssecmon rotations: the host's rotation, start and key, "
          "relayed through the broker")
    t.is_(host_rotations(c), [], "C, the other shard, records nothing")
    for d, name in ((a, "A"), (b, "B"), (c, "C")):
        rc = d.stop()
        t.is_(rc, 0, "%s stops: exit 0" % name)
        if rc != 0:
            t.diag(d.log_text()[-4000:])
finally:
    for d in (a, b, c):
        if d.proc is not None:
            t.diag("--- %s log\n%s" % (d.tmp, d.log_text()[-3000:]))
        d.cleanup()
    for p in am + [prom]:
        if p.proc is not None:
            t.diag("--- %s\n%s" % (p.dir, p.log_text()[-2000:]))
        p.stop()
    recv.stop()
    broker.stop()
    shutil.rmtree(tmp, ignore_errors=True)
    subprocess.run([dc.TB, "switch", "healthy"], capture_output=True,
                   timeout=180)
sys.exit(t.done())
