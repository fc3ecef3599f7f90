#!/usr/bin/env python3
"""Alert sinks that authenticate: a mosquitto broker that wants a
username and password, one that wants TLS with a client certificate, and
an HTTPS webhook, each with a throwaway CA made here with openssl. The
daemon runs `--once` on the testbed's broken zone (chain_broken fires at
once), so each run also shows that a one-shot run delivers before it
exits. Wrong credentials, a missing client certificate and an untrusted
server certificate are refused, and say so."""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "../alerts"))
from tap import Tap  # noqa: E402
import harness as h  # noqa: E402
from tap import wait_for  # noqa: E402

t = Tap()
BIN = os.environ["DNSSECMON_BIN"]
TOP = os.environ["DNSSECMON_TOP"]
env = h.testbed_env(TOP)
ZONE = "broken." + env["TESTBED_TLD"]
tmp = tempfile.mkdtemp(prefix="dnssecmon-alerts-brokers.")
tls = h.certs(tmp)
procs = []


def run_once(name, sinks, wrap=()):
    """One `dnssecmon run --once` with these sink settings; its log."""
    conf = os.path.join(tmp, name + ".yaml")
    db = os.path.join(tmp, name + ".db")
    with open(conf, "w") as f:
        f.write("trust_anchor: %s\nroot_hints: %s\nresolvers: [%s]\n"
                "database: %s\ntimeout: 1s\nretries: 1\n%sdomains: [%s]\n"
                % (env["TESTBED_ANCHOR"], env["TESTBED_HINTS"],
                   env["TESTBED_RESOLVER"], db, sinks, ZONE))
    p = subprocess.run([BIN, "run", "-c", conf, "-n"], capture_output=True,
                       text=True)
    t.is_((p.returncode, p.stdout.strip()), (0, "configuration OK"),
          "%s: configuration OK" % name)
    if p.returncode != 0:
        t.diag(p.stderr)
    p = subprocess.run([*wrap, BIN, "run", "-c", conf, "--once", "-v"],
                       capture_output=True, text=True, timeout=120)
    t.is_(p.returncode, 0, "%s: run --once exits 0" % name)
    return p.stderr, db


def alerts_topic(broker, **kw):
    r = h.retained(broker, "dnssecmon/domain/%s/state" % ZONE, **kw)
    return r


try:
    # ---- username / password
    pwfile = os.path.join(tmp, "passwd")
    subprocess.run(["mosquitto_passwd", "-b", "-c", pwfile, "monitor", "s3cret"],
                   check=True, capture_output=True)
    auth = h.Broker(tmp, "auth", "allow_anonymous false\npassword_file %s\n"
                    % pwfile)
    t.ok(auth.start(), "a broker that wants a password")
    procs.append(auth)
    sub = h.Subscriber(tmp, auth, user=("monitor", "s3cret"), name="authsub")
    sub.start()
    procs.append(sub)
    # The HTTPS receiver, trusted through the test CA.
    https = h.Receiver(tls)
    log, db = run_once("password", """mqtt:
  host: 127.0.0.1
  port: %d
  username: monitor
  password: s3cret
webhooks:
  - {url: "https://127.0.0.1:%d/hook", ca_file: %s}
""" % (auth.port, https.port, tls["ca.crt"]))
    t.ok("mqtt: connected to 127.0.0.1:%d" % auth.port in log,
         "password: connected with username and password")
    codes = sorted(json.loads(m["payload"])["code"]
                   for m in sub.messages("dnssecmon/alerts"))
    t.is_(codes, ["chain_broken", "validation_bogus"],
          "password: chain_broken and validation_bogus fire at once and arrive")
    st = alerts_topic(auth, user=("monitor", "s3cret"))
    t.ok(st and list(st.values())[0]["retain"] and
         json.loads(list(st.values())[0]["payload"])["state"] == "broken",
         "password: the retained state says broken")
    t.is_(sorted(x["code"] for x in https.delivered("/hook")),
          ["chain_broken", "validation_bogus"],
          "https: the webhook over TLS, verified against ca_file, got both")

    n = len(sub.messages())
    log, db = run_once("badpassword", """mqtt: {host: 127.0.0.1, port: %d,
       username: monitor, password: wrong}
""" % auth.port)
    t.ok("not authorised" in log, "wrong password: the broker's refusal is logged")
    t.is_(len(sub.messages("dnssecmon/alerts")), 2,
          "wrong password: nothing published")
    d = h.delivery(h.alerts_json(BIN, db), "chain_broken", "firing", "mqtt")
    t.is_((d or {}).get("status"), "pending",
          "wrong password: the alert stays pending for the next start")
    sub.stop()
    procs.remove(sub)

    # ---- TLS with a client certificate
    tlsb = h.Broker(tmp, "tls", "allow_anonymous true\ncafile %s\ncertfile %s\n"
                    "keyfile %s\nrequire_certificate true\n"
                    % (tls["ca.crt"], tls["server.crt"], tls["server.key"]))
    t.ok(tlsb.start(), "a broker that wants TLS and a client certificate")
    procs.append(tlsb)
    sub = h.Subscriber(tmp, tlsb, tls=tls, name="tlssub")
    sub.start()
    procs.append(sub)
    log, db = run_once("tls", """instance: brokers-tls
mqtt:
  host: 127.0.0.1
  port: %d
  ca_file: %s
  cert_file: %s
  key_file: %s
webhooks:
  - {url: "https://127.0.0.1:%d/other", ca_file: %s, retry_max: 1s}
""" % (tlsb.port, tls["ca.crt"], tls["client.crt"], tls["client.key"],
       https.port, tls["other.crt"]))
    t.ok("mqtt: connected to 127.0.0.1:%d" % tlsb.port in log,
         "tls: connected with the CA and a client certificate")
    t.is_(sorted(json.loads(m["payload"])["code"]
                 for m in sub.messages("dnssecmon/alerts")),
          ["chain_broken", "validation_bogus"], "tls: both alerts arrive")
    r = h.retained(tlsb, tls=tls)
    t.is_((r.get("dnssecmon/status/brokers-tls") or {}).get("payload"), "offline",
          "tls: after --once the status is offline (retained)")
    d = h.delivery(h.alerts_json(BIN, db), "chain_broken", "firing",
                   "webhook:127.0.0.1/other")
    t.ok(d and d["status"] == "pending" and "certificate verify failed" in
         (d["last_error"] or ""), "https with an untrusted certificate: refused, "
         "recorded, pending", d)
    t.is_(https.raw("/other"), [], "https: nothing reached the untrusted side")

    log, db = run_once("nocert", "mqtt: {host: 127.0.0.1, port: %d, ca_file: %s}\n"
                       % (tlsb.port, tls["ca.crt"]))
    t.ok("mqtt: connected" not in log, "tls without a client certificate: "
         "not connected")
    t.is_(len(sub.messages("dnssecmon/alerts")), 2,
          "tls without a client certificate: nothing published")

    # ---- every sink at once, under valgrind (the plain build only: an
    # ASan build already turned any leak into a non-zero exit above).
    if not os.environ.get("DNSSECMON_VARIANT", "").endswith("-san"):
        hook = os.path.join(tmp, "hook")
        with open(hook, "w") as f:
            f.write("#!/bin/sh\ncat >/dev/null\necho ran\n")
        os.chmod(hook, 0o755)
        log, db = run_once("valgrind", """mqtt: {host: 127.0.0.1, port: %d,
       ca_file: %s, cert_file: %s, key_file: %s}
webhooks:
  - {url: "https://127.0.0.1:%d/vg", ca_file: %s}
  - {url: "http://127.0.0.1:%d/down", retry_max: 1s}
exec:
  - {command: [%s]}
""" % (tlsb.port, tls["ca.crt"], tls["client.crt"], tls["client.key"],
            https.port, tls["ca.crt"], h.free_port(), hook),
            wrap=("valgrind", "--leak-check=full", "--show-leak-kinds=definite",
                  "--errors-for-leak-kinds=definite", "--error-exitcode=99",
                  "--log-file=" + os.path.join(tmp, "vg.log")))
        doc = h.alerts_json(BIN, db)
        t.ok(all((h.delivery(doc, "chain_broken", "firing", s) or {}).get("status")
                 == "delivered" for s in ("mqtt", "webhook:127.0.0.1/vg",
                                          "exec:hook")),
             "valgrind: MQTT over TLS, HTTPS and exec delivered")
        if "ERROR SUMMARY: 0 errors" not in open(os.path.join(tmp, "vg.log")).read():
            t.diag(open(os.path.join(tmp, "vg.log")).read()[-3000:])
    # ---- Home Assistant discovery, and one notification per check
    plain = h.Broker(tmp, "plain")
    t.ok(plain.start(), "an anonymous broker")
    procs.append(plain)
    every = h.Subscriber(tmp, plain, topic="#", name="hasub")
    every.start()
    procs.append(every)
    hook = h.Receiver()
    log, db = run_once("grouped", """instance: wall-test
alerts: {group: check}
mqtt:
  host: 127.0.0.1
  port: %d
  homeassistant: yes
webhooks:
  - {url: "http://127.0.0.1:%d/json"}
  - {url: "http://127.0.0.1:%d/am", format: alertmanager}
""" % (plain.port, hook.port, hook.port))
    state_t = "dnssecmon/domain/%s/state" % ZONE
    wait_for(lambda: any(m["topic"] == "dnssecmon/alerts"
                         for m in every.messages()), 30,
             what="the grouped alert on dnssecmon/alerts")
    al = [json.loads(m["payload"]) for m in every.messages("dnssecmon/alerts")]
    t.is_(len(al), 1, "group: check: one MQTT notification for the check "
          "(not one per alert)")
    g = al[0] if al else {}
    t.is_(sorted(x.get("code") for x in g.get("grouped", [])),
          ["chain_broken", "validation_bogus"],
          "group: check: it carries chain_broken and validation_bogus")
    t.ok(sorted(g.get("codes", [])) == ["chain_broken", "validation_bogus"] and
         "chain_broken firing (critical)" in g.get("message", "") and
         "validation_bogus firing (critical)" in g.get("message", ""),
         "group: check: codes and a message that names both", g.get("message"))
    doc = h.alerts_json(BIN, db)
    t.ok(all((h.delivery(doc, c, "firing", s) or {}).get("status") ==
             "delivered" for c in ("chain_broken", "validation_bogus")
             for s in ("mqtt", "webhook:127.0.0.1/json",
                       "webhook:127.0.0.1/am")),
         "group: check: each alert is recorded delivered on every sink",
         json.dumps(doc)[:1500])
    js = hook.delivered("/json")
    t.ok(len(js) == 1 and sorted(x["code"] for x in js[0]["grouped"]) ==
         ["chain_broken", "validation_bogus"],
         "group: check: one JSON webhook POST with both", js)
    am = hook.delivered("/am")
    t.ok(len(am) == 1 and sorted(a["labels"]["code"] for a in am[0]) ==
         ["chain_broken", "validation_bogus"],
         "group: check: one Alertmanager POST with an alert for each", am)
    slug = ZONE.replace(".", "_").lower()
    ha = h.retained(plain, "homeassistant/#")
    want = ["homeassistant/sensor/dnssecmon_wall-test/%s_%s/config" % (slug, k)
            for k in ("deadline", "severity", "state")]
    t.is_(sorted(ha), want, "homeassistant: yes: three retained discovery "
          "configs for the domain")
    cfgs = {k: json.loads(v["payload"]) for k, v in ha.items()}
    sev = cfgs.get(want[1], {})
    t.ok(all(c.get("state_topic") == state_t and
             c.get("json_attributes_topic") == state_t and
             c.get("availability_topic") == "dnssecmon/status/wall-test" and
             c.get("device", {}).get("name") == ZONE and
             c.get("unique_id", "").startswith("dnssecmon_wall-test_" + slug)
             for c in cfgs.values()) and
         sev.get("value_template") == "{{ value_json.severity }}" and
         cfgs.get(want[0], {}).get("device_class") == "timestamp",
         "homeassistant: each sensor reads the retained state topic, with "
         "availability on the status topic", sev)
    order = [m["topic"] for m in every.messages()]
    t.ok(state_t in order and all(w in order and order.index(w) <
                                  order.index(state_t) for w in want),
         "homeassistant: the discovery configs come before the first state",
         order[:8])
    st = json.loads(h.retained(plain, state_t).get(state_t, {}).get(
        "payload", "{}"))
    t.is_(st.get("severity"), "critical",
          "homeassistant: the state its severity sensor reads says critical")
    every.stop()
    procs.remove(every)
    hook.stop()

    # ---- Home Assistant: a domain removed by a reload leaves no ghost
    # entities: its retained discovery configs are emptied (the way HA is
    # told to remove an entity); the kept domain's stay.
    GONE = "nsec3." + env["TESTBED_TLD"]
    gslug = GONE.replace(".", "_").lower()
    node = "homeassistant/sensor/dnssecmon_ha-reload/"
    keep_t = [node + "%s_%s/config" % (slug, k)
              for k in ("deadline", "severity", "state")]
    gone_t = [node + "%s_%s/config" % (gslug, k)
              for k in ("deadline", "severity", "state")]
    watch = h.Subscriber(tmp, plain, topic="homeassistant/#", name="hareload")
    watch.start()
    procs.append(watch)
    conf = os.path.join(tmp, "ha-reload.yaml")

    # interval 2s: first checks are spread over min(interval, 60 s), and
    # the discovery configs come with a domain's first check; an hour's
    # interval cost up to a minute's wait here for nothing.
    def ha_conf(domains):
        with open(conf, "w") as f:
            f.write("trust_anchor: %s\nroot_hints: %s\nresolvers: [%s]\n"
                    "database: %s\ntimeout: 1s\nretries: 1\ninterval: 2s\n"
                    "instance: ha-reload\nmqtt: {host: 127.0.0.1, port: %d, "
                    "homeassistant: yes}\ndomains: [%s]\n"
                    % (env["TESTBED_ANCHOR"], env["TESTBED_HINTS"],
                       env["TESTBED_RESOLVER"],
                       os.path.join(tmp, "ha-reload.db"), plain.port,
                       ", ".join(domains)))
    ha_conf([ZONE, GONE])
    daemon = h.Daemon(BIN, conf, os.path.join(tmp, "ha-reload.log"))
    daemon.start()
    procs.append(daemon)
    both = wait_for(lambda: set(keep_t + gone_t) <=
                    set(h.retained(plain, "homeassistant/#")), 120,
                    what="the discovery configs of both domains")
    t.ok(both, "reload: both domains' discovery configs retained at first")
    ha_conf([ZONE])
    daemon.proc.send_signal(signal.SIGHUP)
    cleared = wait_for(lambda: all(
        any(m["topic"] == x and m["payload"] == "" for m in watch.messages())
        for x in gone_t), 60, what="empty discovery configs for " + GONE)
    t.ok(cleared, "reload: the removed domain's three discovery topics are "
         "emptied", [m for m in watch.messages() if gslug in m["topic"]])
    left = h.retained(plain, "homeassistant/#")
    t.ok(not set(gone_t) & set(left),
         "reload: no discovery config of the removed domain stays retained "
         "(no ghost entities in Home Assistant)", sorted(left))
    t.ok(set(keep_t) <= set(left),
         "reload: the kept domain's discovery configs stay", sorted(left))
    t.is_(daemon.stop(), 0, "reload: the daemon stops cleanly")
    procs.remove(daemon)

    https.stop()
finally:
    for p in procs:
        p.stop()
    shutil.rmtree(tmp, ignore_errors=True)

sys.exit(t.done())
