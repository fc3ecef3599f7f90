#!/usr/bin/env python3
"""The HTTP listener under hostile clients (issue 13, items 5 and 8); no
DNS server needed.

A slowloris of 128 connections (2 x the default http.max_connections)
dripping a header byte a second from four addresses must not keep a
Prometheus scrape from a fifth out; a client over
http.max_connections_per_client gets a 503 at once; a client that never
finishes its request is closed (408) after http.request_timeout however
it spreads its bytes; the last slots are kept for clients that hold none;
a waiting client is served once a slot frees; 128 slow clients from 128
addresses still let a scrape through, once the request deadline has freed
their slots; CONNECT gets its 501 and the end of the connection at once;
wrong webhook secrets log one line, then a sum.

http.timeout is 300 s in every daemon here, so the read timeout and the
age limit (six timeouts) cannot rescue a client within the hang guards:
only the limits under test can. Every wait is a hang guard, never a
speed requirement. Listener and client source addresses are loopback
addresses in HTTP_TEST_NET (default: the /24 of TESTBED_RESOLVER when set,
as in a suite run on other addresses, else 127.0.0; loopback needs no setup
for them).
"""
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
import tap  # noqa: E402

BIN = os.environ["DNSSECMON_BIN"]
NET = (os.environ.get("HTTP_TEST_NET") or
       os.environ.get("TESTBED_RESOLVER", "127.0.0.41").rsplit(".", 1)[0])
GUARD = 120     # seconds: hang guard for anything the server should do
SECRET = "s3cret-hook-token-0123456789"
ANCHOR = (". 3600 IN DNSKEY 257 3 13 mdsswUyr3DPW132mOi8V9xESWE8jTo0dxCjj"
          "nopKl+GqJxpVXckHAeF+KkxLbxILfDLUT0rAK9iUzy1L53eKGQ==\n")

t = tap.Tap()


def addr(n):
    return "%s.%d" % (NET, n)


class Daemon:
    """`dnssecmon run` with only an HTTP listener worth talking to."""

    def __init__(self, http_extra):
        self.tmp = tempfile.mkdtemp(prefix="dnssecmon-httplimits-")
        self.host = addr(1)
        s = socket.socket()
        s.bind((self.host, 0))
        self.port = s.getsockname()[1]
        s.close()
        for name, text in (
                ("anchor", ANCHOR),
                # Nothing answers there: checks fail, HTTP still serves.
                ("hints", ". 3600 IN NS a.root-servers.net.\n"
                          "a.root-servers.net. 3600 IN A %s\n" % addr(250))):
            with open(os.path.join(self.tmp, name), "w") as f:
                f.write(text)
        self.log = os.path.join(self.tmp, "daemon.log")
        conf = os.path.join(self.tmp, "c.yaml")
        with open(conf, "w") as f:
            f.write("trust_anchor: %s/anchor\nroot_hints: %s/hints\n"
                    "resolvers: []\ndatabase: %s/db.sqlite\ninterval: 1h\n"
                    "http:\n  listen: %s:%d\n  timeout: 300s\n%s"
                    "hooks:\n  dnsimple:\n    secret: %s\n"
                    "domains: [healthy.example]\n"
                    % (self.tmp, self.tmp, self.tmp, self.host, self.port,
                       http_extra, SECRET))
        self.logf = open(self.log, "w")
        self.proc = subprocess.Popen([BIN, "run", "-c", conf],
                                     stdout=self.logf, stderr=self.logf)

    def up(self):
        def healthz():
            if self.proc.poll() is not None:
                return "exited"
            return get(self.host, self.port, "/healthz", addr(9),
                       timeout=5)[0] == 200
        return tap.wait_for(healthz, 60, what="/healthz",
                            ignore=(OSError,)) is True

    def log_text(self):
        with open(self.log) as f:
            return f.read()

    def stop(self):
        """SIGTERM; a clean exit is asserted (a sanitizer build reports
        through the exit status), the log shown when not."""
        rc = self.proc.poll()
        if rc is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                rc = self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.logf.close()
        if not t.is_(rc, 0, "the daemon exits cleanly on SIGTERM"):
            t.diag(self.log_text()[-3000:])
        subprocess.run(["rm", "-rf", self.tmp])


def connect(host, port, source, timeout):
    s = socket.socket()
    s.settimeout(timeout)
    s.bind((source, 0))
    s.connect((host, port))
    return s


def read_all(s):
    """Everything until the server closes: (bytes, how it ended)."""
    data = b""
    while True:
        try:
            x = s.recv(65536)
        except socket.timeout:
            return data, "timeout"
        except ConnectionResetError:
            return data, "reset"
        if not x:
            return data, "eof"
        data += x


def get(host, port, path, source, timeout=GUARD, method="GET", body=b""):
    """One request on a fresh connection from `source`: (status or None,
    response bytes, how the connection ended)."""
    s = connect(host, port, source, timeout)
    try:
        s.sendall(b"%s %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                  b"Content-Length: %d\r\n\r\n%s"
                  % (method.encode(), path.encode(), len(body), body))
        data, end = read_all(s)
    finally:
        s.close()
    status = None
    if data.startswith(b"HTTP/1.1 "):
        status = int(data[9:12])
    return status, data, end


def metric(body, series):
    """The value of one series on a /metrics page, None when absent."""
    for line in body.decode(errors="replace").split("\n"):
        if line.startswith(series + " "):
            return float(line.split()[-1])
    return None


class Slowloris:
    """`per_addr` connections from each source address, each sending a
    request line and then one header byte a second, never the end of the
    head. What the server answers before closing one is kept; with
    `reconnect`, a closed one is opened again on the next tick, as a real
    attacker would."""

    def __init__(self, host, port, sources, per_addr, reconnect):
        self.host, self.port = host, port
        self.slots = [[src, None] for src in sources for _ in range(per_addr)]
        self.reconnect = reconnect
        self.opened = 0         # connections opened, in all
        self.answers = []       # what the server sent before closing
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def open(self, slot):
        try:
            s = connect(self.host, self.port, slot[0], 10)
            s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            s.setblocking(False)
        except OSError:
            return
        slot[1] = s
        with self.lock:
            self.opened += 1

    def drip(self, slot):
        s = slot[1]
        try:
            got = s.recv(4096)
        except BlockingIOError:
            got = None
        except OSError:
            got = b""
        if got is None:
            try:
                s.send(b"a")
                return
            except OSError:
                got = b""
        with self.lock:
            self.answers.append(got)
        s.close()
        slot[1] = None

    def run(self):
        first = True
        while not self.stopping.is_set():
            for slot in self.slots:
                if slot[1] is not None:
                    self.drip(slot)
                elif first or self.reconnect:
                    self.open(slot)
            first = False
            self.stopping.wait(1)

    def start(self):
        self.thread.start()
        return self

    def count(self, what):
        with self.lock:
            return sum(1 for a in self.answers if what in a)

    def stop(self):
        self.stopping.set()
        self.thread.join()
        for slot in self.slots:
            if slot[1] is not None:
                slot[1].close()


def part_a():
    """Defaults (64 connections, 16 per client, 10 s per request)."""
    d = Daemon("")
    attack = None
    try:
        t.ok(d.up(), "daemon up: /healthz answers")

        # CONNECT: the 501, then the end, not the read timeout.
        s = connect(d.host, d.port, addr(9), GUARD)
        s.sendall(b"CONNECT example.com:443 HTTP/1.1\r\n"
                  b"Host: example.com:443\r\n\r\n")
        data, end = read_all(s)
        s.close()
        t.ok(data.startswith(b"HTTP/1.1 501 "), "CONNECT: 501",
             data[:80])
        t.is_(end, "eof", "CONNECT: the server closes at once")

        # Wrong webhook secrets: every one answered and counted, one
        # line in the log.
        codes = [get(d.host, d.port, "/hooks/dnsimple/wrong-%02d-secret-xx" % i,
                     addr(8), method="POST", body=b"{}")[0]
                 for i in range(30)]
        t.is_(codes, [404] * 30, "30 wrong-secret webhooks: each a 404")
        t.is_(d.log_text().count("a wrong secret"), 1,
              "30 wrong-secret webhooks: one log line")

        # The slowloris: 128 connections from four addresses.
        attackers = [addr(101 + i) for i in range(4)]
        attack = Slowloris(d.host, d.port, attackers, 32, True).start()
        t.ok(tap.wait_for(lambda: attack.opened >= 128, GUARD,
                          what="128 slow connections open"),
             "slowloris: 128 connections open, a header byte a second")

        t0 = time.monotonic()
        status, body, end = get(d.host, d.port, "/metrics", addr(2))
        t.is_(status, 200, "during the slowloris a /metrics scrape from "
              "another address is answered (%s)" % end)
        t.diag("answered in %.0f ms" % ((time.monotonic() - t0) * 1000))
        t.ok(b"dnssecmon_http_requests_total" in body,
             "the scrape is the metrics page")
        t.ok(b'result="rejected"} 30' in body,
             "the metric counts every wrong-secret webhook")

        def busy_503():
            r = get(d.host, d.port, "/healthz", attackers[0], timeout=30)
            return r if r[0] == 503 else None
        r = tap.wait_for(busy_503, GUARD, what="503 for an address at its "
                         "limit", ignore=(OSError,))
        t.ok(r is not None and r[0] == 503, "an address holding "
             "max_connections_per_client more gets a 503 at once")
        t.ok(r is not None and b"too many connections from your address"
             in r[1], "the 503 says why")
        t.ok(tap.wait_for(lambda: attack.count(b" 503 ") > 0, GUARD,
                          what="a 503 to the attack"),
             "the attack's extra connections are refused with 503")

        # One more slow client: closed for want of a whole request.
        slow = Slowloris(d.host, d.port, [addr(120)], 1, False).start()
        t.ok(tap.wait_for(lambda: slow.answers, GUARD,
                          what="the slow client closed"),
             "a client dribbling its request head is closed")
        t.ok(slow.count(b"HTTP/1.1 408 ") == 1,
             "with a 408", slow.answers)
        slow.stop()
        t.ok("sent no whole request in 10 s" in d.log_text(),
             "the log says why")
        t.ok(attack.count(b" 408 ") > 0, "the attack's connections are "
             "closed with 408 as well")

        # /metrics counts what the server closed, and why.
        status, body, _ = get(d.host, d.port, "/metrics", addr(2))
        for reason in ("per_client", "reserve", "request_timeout"):
            n = metric(body, 'dnssecmon_http_connections_closed_total'
                       '{reason="%s"}' % reason)
            t.ok(n is not None and n > 0, "metric: connections closed "
                 "for %s counted (%s)" % (reason, n))
        n = metric(body, "dnssecmon_http_connections")
        t.ok(n is not None and 1 <= n <= 64, "metric: connections open "
             "(%s)" % n)

        # Log lines a client causes are summed up, not one each.
        refused = attack.count(b" 503 ")
        lines = d.log_text().count(" refused (503): ")
        t.ok(1 <= lines <= 3 and refused > lines, "%d refused connections, "
             "%d log lines" % (refused, lines))
        t.ok(tap.wait_for(lambda: "29 more dnsimple webhook deliveries "
                          "refused (404)" in d.log_text(), GUARD,
                          what="the webhook sum"),
             "the other 29 wrong-secret webhooks: one line that sums them")
    finally:
        if attack is not None:
            attack.stop()
        d.stop()


def part_b():
    """The reserve: four addresses with 16 each could take all 64 slots;
    the last 8 go only to a client that holds none. Nothing here is
    closed by a deadline (request_timeout 300 s)."""
    d = Daemon("  request_timeout: 300s\n")
    attack = None
    try:
        t.ok(d.up(), "reserve: daemon up")
        attackers = [addr(111 + i) for i in range(4)]
        attack = Slowloris(d.host, d.port, attackers, 16, False).start()
        t.ok(tap.wait_for(lambda: attack.opened >= 64, GUARD,
                          what="64 slow connections open"),
             "reserve: 4 x 16 slow connections open")
        status, _, end = get(d.host, d.port, "/metrics", addr(3))
        t.is_(status, 200, "reserve: a new client is answered (%s)" % end)
        tap.wait_for(lambda: attack.count(b"try again later") >= 8, GUARD,
                     what="8 refusals")
        t.is_(attack.count(b"try again later"), 8, "reserve: the 4th "
              "address gets 8 slots and a 503 for its other 8")
    finally:
        if attack is not None:
            attack.stop()
        d.stop()


def part_c():
    """A client waiting at the limit is served once a slot frees."""
    d = Daemon("  max_connections: 2\n")
    holders = []
    try:
        t.ok(d.up(), "limit: daemon up")
        for n in (121, 122):
            s = connect(d.host, d.port, addr(n), GUARD)
            s.sendall(b"GET / HTTP/1.1\r\n")
            holders.append(s)
        waiting = connect(d.host, d.port, addr(123), GUARD)
        waiting.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n"
                        b"Connection: close\r\n\r\n")
        t0 = time.monotonic()
        holders.pop(0).close()
        data, end = read_all(waiting)
        t.ok(data.startswith(b"HTTP/1.1 200 "), "limit: once one closes, "
             "the waiting client is served (%s)" % end, data[:80])
        t.diag("served %.0f ms after the slot freed"
               % ((time.monotonic() - t0) * 1000))
        waiting.close()
    finally:
        for s in holders:
            s.close()
        d.stop()


def part_d():
    """128 slow connections from 128 addresses: every one is a new client,
    so neither the per-client limit nor the reserve holds them back. The
    request deadline frees their slots, and the scrape, queued in the
    kernel's backlog behind 64 of them but before their reconnections,
    gets one: after two rounds of http.request_timeout, not at once (the
    time is printed, not asserted)."""
    d = Daemon("")
    attack = None
    try:
        t.ok(d.up(), "many addresses: daemon up")
        sources = ([addr(130 + i) for i in range(120)] +
                   [addr(10 + i) for i in range(8)])
        attack = Slowloris(d.host, d.port, sources, 1, True).start()
        t.ok(tap.wait_for(lambda: attack.opened >= 128, GUARD,
                          what="128 slow connections open"),
             "many addresses: 128 slow connections open")
        t0 = time.monotonic()
        status, _, end = get(d.host, d.port, "/metrics", addr(20))
        t.is_(status, 200, "many addresses: a scrape is answered (%s)" % end)
        t.diag("answered in %.0f ms" % ((time.monotonic() - t0) * 1000))
    finally:
        if attack is not None:
            attack.stop()
        d.stop()


PARTS = (("a", part_a), ("b", part_b), ("c", part_c), ("d", part_d))


def run_parts(names):
    """Each part in a process of its own, all at once: they share nothing
    (a daemon each; their client addresses differ, and every limit is per
    daemon), and most of their time is waiting for the server's clocks
    (part a for its 60 s log window). Their output is printed part by
    part, in order; a part that dies without a failed assertion fails."""
    procs = [(n, subprocess.Popen([sys.executable, __file__, n],
                                  stdout=subprocess.PIPE, text=True))
             for n in names]
    rc = 0
    for n, p in procs:
        out = p.stdout.read()
        p.wait()
        sys.stdout.write(out)
        sys.stdout.flush()
        if p.returncode != 0:
            rc = 1
            if "\nnot ok - " not in "\n" + out:
                print("not ok - part %s exited with status %d" %
                      (n, p.returncode))
    return rc


# `http_limits.py b` runs part b alone, here; without arguments every
# part runs, each in its own process. A part that raises (a daemon that
# did not start) fails, and the others still run.
if len(sys.argv) == 1:
    sys.exit(run_parts([n for n, _ in PARTS]))
for name, part in PARTS:
    if name not in sys.argv[1:]:
        continue
    try:
        part()
    except Exception as e:  # noqa: BLE001 (any failure is a failure)
        t.ok(False, "part %s: %r" % (name, e))
sys.exit(t.done())
