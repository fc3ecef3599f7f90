"""Helpers for the alert tests: a real mosquitto broker, mosquitto_sub as
the subscriber, a local HTTP(S) receiver, throwaway certificates and the
daemon itself. Every process is started here and stopped by its pid;
every port is a free ephemeral one on 127.0.0.1, picked at run time."""
import http.server
import json
import os
import sys
import signal
import socket
import ssl
import subprocess
import threading

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from tap import wait_for  # noqa: E402,F401  (the alert tests use it from here)


def free_port(host="127.0.0.1"):
    s = socket.socket()
    s.bind((host, 0))
    port = s.getsockname()[1]
    s.close()
    return port


def stop_pid(proc, sig=signal.SIGTERM, timeout=10):
    """Stop a Popen we started, by its pid; returns its exit status."""
    if proc is None:
        return None
    if proc.poll() is None:
        try:
            os.kill(proc.pid, sig)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
    return proc.returncode


def testbed_env(top):
    """The running testbed's settings; see tests/tap.py."""
    sys.path.insert(0, os.path.join(top, "tests"))
    from tap import testbed_env as env  # noqa: E402
    return env()


def certs(d):
    """A throwaway CA, a server certificate for 127.0.0.1/localhost and a
    client certificate, with the openssl command line."""
    def run(*a):
        subprocess.run(["openssl", *a], cwd=d, check=True,
                       capture_output=True)
    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key",
        "-out", "ca.crt", "-days", "2", "-subj", "/CN=dnssecmon test CA")
    with open(os.path.join(d, "san.ext"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    for name in ("server", "client"):
        run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", name + ".key",
            "-out", name + ".csr", "-subj", "/CN=" + name)
        run("x509", "-req", "-in", name + ".csr", "-CA", "ca.crt", "-CAkey",
            "ca.key", "-CAcreateserial", "-out", name + ".crt", "-days", "2",
            *(["-extfile", "san.ext"] if name == "server" else []))
    # A second CA nobody trusts, to see verification fail.
    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
        "other.key", "-out", "other.crt", "-days", "2", "-subj", "/CN=other")
    return {k: os.path.join(d, k) for k in (
        "ca.crt", "server.crt", "server.key", "client.crt", "client.key",
        "other.crt")}


class Broker:
    """mosquitto on host:port (127.0.0.1 unless told), with a config of our
    own."""

    def __init__(self, d, name="broker", extra="allow_anonymous true\n",
                 port=None, host="127.0.0.1"):
        self.dir = os.path.join(d, name)
        os.makedirs(self.dir, exist_ok=True)
        self.host = host
        self.port = port or free_port(host)
        self.conf = os.path.join(self.dir, "mosquitto.conf")
        with open(self.conf, "w") as f:
            f.write("listener %d %s\n" % (self.port, host))
            # As root mosquitto would become user mosquitto, who cannot
            # read our private temporary directory.
            if os.geteuid() == 0:
                f.write("user root\n")
            f.write("persistence true\npersistence_location %s/\n" % self.dir)
            f.write(extra)
        self.proc = None

    def start(self):
        self.log = open(os.path.join(self.dir, "mosquitto.log"), "a")
        self.proc = subprocess.Popen(["mosquitto", "-c", self.conf],
                                     stdout=self.log, stderr=self.log)

        def listening():
            if self.proc.poll() is not None:
                return True
            try:
                socket.create_connection((self.host, self.port), 0.5).close()
                return True
            except OSError:
                return False
        wait_for(listening, 60, 0.05, "mosquitto listening on %d" % self.port)
        return self.proc.poll() is None

    def stop(self):
        rc = stop_pid(self.proc)
        self.proc = None
        if getattr(self, "log", None):
            self.log.close()
        return rc


def sub_args(broker, tls=None, user=None):
    a = ["-h", broker.host, "-p", str(broker.port)]
    if tls:
        a += ["--cafile", tls["ca.crt"], "--cert", tls["client.crt"],
              "--key", tls["client.key"]]
    if user:
        a += ["-u", user[0], "-P", user[1]]
    return a


class Subscriber:
    """mosquitto_sub on TOPIC, every message as `retain qos topic payload`.
    A persistent session (-c, QoS 1): while the broker is down and comes
    back, nothing published in between is missed."""

    def __init__(self, d, broker, topic="dnssecmon/#", tls=None, user=None,
                 name="sub"):
        self.path = os.path.join(d, name + ".log")
        self.args = ["mosquitto_sub", *sub_args(broker, tls, user), "-t",
                     topic, "-q", "1", "-c", "-i", "dnssecmon-test-" + name,
                     "-F", "%r %q %t %p"]
        self.proc = None

    def start(self):
        self.out = open(self.path, "a")
        self.proc = subprocess.Popen(self.args, stdout=self.out,
                                     stderr=subprocess.STDOUT)

    def messages(self, topic=None):
        out = []
        with open(self.path) as f:
            for line in f:
                parts = line.rstrip("\n").split(" ", 3)
                if len(parts) < 4 or parts[0] not in ("0", "1"):
                    continue
                if topic is None or parts[2] == topic:
                    out.append({"retain": parts[0] == "1",
                                "qos": int(parts[1]), "topic": parts[2],
                                "payload": parts[3]})
        return out

    def stop(self):
        stop_pid(self.proc)
        self.proc = None
        self.out.close()


def retained(broker, topic="dnssecmon/#", tls=None, user=None, wait=1):
    """What a new subscriber is given at once: the retained messages."""
    p = subprocess.run(["mosquitto_sub", *sub_args(broker, tls, user), "-t",
                        topic, "--retained-only", "-W", str(wait), "-F",
                        "%r %q %t %p"], capture_output=True, text=True,
                       timeout=wait + 10)
    out = {}
    for line in p.stdout.splitlines():
        parts = line.split(" ", 3)
        if len(parts) == 4:
            out[parts[2]] = {"retain": parts[0] == "1", "qos": int(parts[1]),
                             "payload": parts[3]}
    return out


class Receiver:
    """A local HTTP(S) server recording every POST; `status` says what it
    answers (500 to play an outage)."""

    def __init__(self, tls=None):
        self.requests = []
        self.status = 200
        self.lock = threading.Lock()
        rec = self

        class H(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                n = int(self.headers.get("Content-Length", 0))
                body = self.rfile.read(n).decode()
                with rec.lock:
                    status = rec.status
                    rec.requests.append({"path": self.path, "body": body,
                                         "status": status,
                                         "headers": dict(self.headers)})
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *a):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        if tls:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(tls["server.crt"], tls["server.key"])
            self.httpd.socket = ctx.wrap_socket(self.httpd.socket,
                                                server_side=True)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever,
                                       daemon=True)
        self.thread.start()

    def delivered(self, path):
        """Bodies answered 2xx on path, in arrival order, parsed."""
        with self.lock:
            return [json.loads(r["body"]) for r in self.requests
                    if r["path"] == path and r["status"] < 300]

    def raw(self, path):
        with self.lock:
            return [r for r in self.requests if r["path"] == path]

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


class Daemon:
    """`dnssecmon run -c CONF` with DNSSECMON_NOW fixed for its life."""

    def __init__(self, binary, conf, log):
        self.binary, self.conf, self.logpath = binary, conf, log
        self.proc = None

    def start(self, now=None, *extra):
        env = dict(os.environ)
        if now is not None:
            env["DNSSECMON_NOW"] = str(now)
        self.log = open(self.logpath, "a")
        self.log.write("--- start, DNSSECMON_NOW=%s\n" % now)
        self.log.flush()
        self.proc = subprocess.Popen([self.binary, "run", "-c", self.conf,
                                      "-v", *extra], stdout=self.log,
                                     stderr=self.log, env=env)

    def stop(self):
        rc = stop_pid(self.proc, timeout=30)
        self.proc = None
        self.log.close()
        return rc

    def text(self):
        with open(self.logpath) as f:
            return f.read()


def alerts_json(binary, db):
    p = subprocess.run([binary, "alerts", "--db", db, "--format", "json"],
                       capture_output=True, text=True, timeout=30)
    if p.returncode != 0:
        return {"alerts": [], "error": p.stderr}
    return json.loads(p.stdout)


def delivery(doc, code, transition, sink):
    """Where one transition of an alert stands for one sink, or None."""
    for a in doc.get("alerts", []):
        if a["code"] != code:
            continue
        for t in a["transitions"]:
            if t["transition"] != transition:
                continue
            for d in t["deliveries"]:
                if d["sink"] == sink:
                    return d
    return None
