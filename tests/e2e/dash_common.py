"""Helpers for the dashboard tests (tests/e2e/dash_*.py): the testbed's
addresses, a free loopback port, a `dnssecmon run` with an HTTP listener
started and stopped by pid, and small HTTP calls. Not a test itself (not
executable)."""
import http.client
import json
import os
import re
import sys
import signal
import socket
import sqlite3
import subprocess
import tempfile

BIN = os.environ["DNSSECMON_BIN"]
sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from tap import testbed_env  # noqa: E402,F401  (the dash tests use it from here)
import tap  # noqa: E402

TOP = os.environ["DNSSECMON_TOP"]
TB = os.path.join(TOP, "tests/testbed/testbed.sh")
LOGDIR = os.path.join(TOP, "build/test-logs",
                      os.environ.get("DNSSECMON_VARIANT", "default"))


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


# tap.wait_for, with the errors of a listener not up yet (or just moved)
# counted as "not yet".
HTTP_ERRORS = (OSError, ValueError, KeyError, http.client.HTTPException)


def wait_for(predicate, timeout=60, interval=0.25, what=None):
    return tap.wait_for(predicate, timeout, interval, what, ignore=HTTP_ERRORS)


def request(port, method, path, body=None, headers=None, timeout=10):
    """(status, headers dict, body bytes)"""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        return r.status, dict(r.getheaders()), r.read()
    finally:
        c.close()


def host_event(which, zone, request_id, updated_at=None, ds=None):
    """A DNS host (dnsimple) webhook body: the shipped fixture of event
    `which` (rotation_start, rotation_complete) on zone, with its request
    id, and when given the host's time and its DS (keytag, algorithm,
    digest_type, digest); the fixture's own made-up DS otherwise."""
    with open(os.path.join(TOP, "tests/fixtures",
                           "dnsimple-dnssec.%s.json" % which)) as f:
        e = json.load(f)
    e["request_identifier"] = request_id
    e["data"]["zone"]["name"] = zone
    if updated_at is not None:
        e["data"]["dnssec"]["updated_at"] = updated_at
    if ds is not None:
        dsr = e["data"]["delegation_signer_record"]
        dsr["keytag"], dsr["algorithm"], dsr["digest_type"], dsr["digest"] = ds
    return json.dumps(e).encode()


def post_webhook(d, secret, body, timeout=10):
    """(status, the reply as JSON, or its raw bytes when it is not JSON)
    of a DNS host webhook body POSTed to daemon d with secret."""
    status, _, raw = request(d.port, "POST", "/hooks/dnsimple/" + secret,
                             body=body,
                             headers={"Content-Type": "application/json"},
                             timeout=timeout)
    try:
        return status, json.loads(raw)
    except ValueError:
        return status, raw


def sample(text, name, **labels):
    """The value of name{labels...} (exact label set, in that order) in
    Prometheus text, or None."""
    want = ",".join('%s="%s"' % kv for kv in labels.items())
    line = "%s{%s} " % (name, want) if labels else name + " "
    for ln in text.split("\n"):
        if ln.startswith(line):
            return float(ln[len(line):])
    return None


def post_start(d, secret, zone, rid, timeout=30):
    """post_webhook() of the host's rotation_start for zone, request id
    rid."""
    return post_webhook(d, secret, host_event("rotation_start", zone, rid),
                        timeout=timeout)


def external_ids(db):
    """The DNS host request ids the rotations of store db carry (read
    only, beside the daemon that writes it)."""
    c = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
    try:
        return {r[0] for r in c.execute(
            "SELECT external_id FROM rotations WHERE external_id "
            "IS NOT NULL")}
    finally:
        c.close()


def new_ksk_ds(env, zone):
    """(tag, alg, digest type, HEX) of zone's ksk_new in the testbed, as
    a DNS host announces it: its SHA-256 DS from dnssec-dsfromkey."""
    with open(os.path.join(env["TESTBED_KEYS"], zone, "roles")) as f:
        roles = dict(line.split() for line in f if line.strip())
    key = os.path.join(env["TESTBED_KEYS"], zone, roles["ksk_new"] + ".key")
    out = subprocess.run(["dnssec-dsfromkey", "-2", key], capture_output=True,
                         text=True, check=True).stdout.split()
    # ZONE. IN DS TAG ALG TYPE HEX
    return out[3], out[4], out[5], out[6]


def readyz(d, timeout=10):
    """(status, parsed body) of d's /readyz."""
    status, _, body = request(d.port, "GET", "/readyz", timeout=timeout)
    return status, json.loads(body)


def ready_or_exit(d, guard=120):
    """Waits for d's /readyz 200; False at once if the daemon exits."""
    return wait_for(lambda: d.proc.poll() is not None or
                    readyz(d)[0] == 200, guard, what="/readyz 200") \
        and d.proc.poll() is None


def checks_total(d):
    """d's dnssecmon_checks_total, 0 while /metrics has none."""
    status, _, body = request(d.port, "GET", "/metrics", timeout=10)
    m = re.search(r"^dnssecmon_checks_total (\d+)", body.decode(), re.M)
    return int(m.group(1)) if status == 200 and m else 0


def get_json(port, path):
    status, _, body = request(port, "GET", path)
    return status, json.loads(body) if body else None


class Daemon:
    """`dnssecmon run` on the testbed with http on a free port."""

    def __init__(self, env, domains, extra="", interval="2s", prefix="dash",
                 top=""):
        self.env = env
        self.tmp = tempfile.mkdtemp(prefix="dnssecmon-%s-" % prefix)
        self.db = os.path.join(self.tmp, "db.sqlite")
        self.conf = os.path.join(self.tmp, "dnssecmon.yaml")
        self.log = os.path.join(self.tmp, "daemon.log")
        self.port = free_port()
        self.domains = domains
        self.extra = extra
        self.top = top          # more top-level keys, one per line
        self.interval = interval
        self.proc = None
        self.logf = None
        self.http = True        # False: a configuration without http:

    def write_conf(self):
        with open(self.conf, "w") as f:
            f.write("trust_anchor: %s\nroot_hints: %s\nresolvers: [%s]\n"
                    "database: %s\ninterval: %s\ntimeout: 1s\nretries: 1\n"
                    % (self.env["TESTBED_ANCHOR"], self.env["TESTBED_HINTS"],
                       self.env["TESTBED_RESOLVER"], self.db, self.interval))
            f.write(self.top)
            if self.http:
                f.write("http:\n  listen: 127.0.0.1:%d\n%s" % (self.port,
                                                              self.extra))
            f.write("domains:\n")
            for d in self.domains:
                f.write("  - %s\n" % d)

    def start(self, wrapper=(), args=()):
        self.write_conf()
        self.logf = open(self.log, "w")
        self.proc = subprocess.Popen([*wrapper, BIN, "run", "-c", self.conf,
                                      *args],
                                     stdout=self.logf, stderr=self.logf)
        return self

    def ready(self, seconds=120):
        """Wait for /readyz 200 (every domain checked once)."""
        def ok():
            status, _, _ = request(self.port, "GET", "/readyz", timeout=2)
            return status == 200
        return wait_for(ok, seconds, what="/readyz 200")

    def reload(self):
        """Rewrite the configuration and send SIGHUP."""
        self.write_conf()
        self.proc.send_signal(signal.SIGHUP)

    def log_text(self):
        with open(self.log) as f:
            return f.read()

    def stop(self, timeout=30):
        """SIGTERM, wait; the exit status (None if it had to be killed)."""
        if self.proc is None:
            return None
        rc = None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                rc = self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        else:
            rc = self.proc.returncode
        self.logf.close()
        self.proc = None
        return rc

    def cleanup(self):
        self.stop()
        subprocess.run(["rm", "-rf", self.tmp])
