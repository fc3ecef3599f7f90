#!/usr/bin/env python3
"""Home Assistant discovery across a restart, with a real mosquitto: a
domain dropped from the configuration while the daemon was stopped leaves
no ghost entity. At its next connection the daemon reads back the
discovery configs it left retained under its own node id and empties
those of domains it no longer monitors:

  - daemon ha-restart monitors A and B, and announces both (three
    retained configs each); it is stopped (SIGTERM), B is taken out of its
    configuration, and it is started again: B's three configs are emptied
    (an empty retained message: Home Assistant removes the entities), A's
    stay;
  - another instance (ha-other, its own node id) that announced B keeps
    its configs, and B's retained state topic, which it publishes too,
    stays;
  - a config under this daemon's node id that another instance published
    (HA-Restart: same node id, another status topic) is not touched;
  - while a catalog has never been transferred the domain set is not
    whole (its members would look dropped): nothing is cleared, and the
    log says so; when a reload removes that catalog, the stale configs go;
  - with the testbed's catalog (TSIG), once transferred: a member that
    was configured before and is now monitored through the catalog keeps
    its configs, a domain in neither loses them;
  - on a reconnect, not only at start: the broker comes back from a
    backup that still holds B's configs, and they are emptied.
The broker listens on the testbed's own /24 (.50), on a free port."""
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
TLD = env["TESTBED_TLD"]
A, B = "healthy." + TLD, "nsec3." + TLD
R = "rolldone." + TLD   # a member of the testbed's catalog
# Extra addresses of a testbed are .50-.99 of its /24: the broker, and a
# catalog primary where nothing listens.
NET = env["TESTBED_RESOLVER"].rsplit(".", 1)[0]
BROKER_HOST, DEAD_PRIMARY = NET + ".50", NET + ".51"
KEYS = ("deadline", "severity", "state")
tmp = tempfile.mkdtemp(prefix="dnssecmon-ha-restart.")
broker = h.Broker(tmp, host=BROKER_HOST)
procs = []


def slug(d):
    return d.replace(".", "_").lower()


def topics(node, domain):
    return ["homeassistant/sensor/%s/%s_%s/config" % (node, slug(domain), k)
            for k in KEYS]


OURS_A, OURS_B = topics("dnssecmon_ha-restart", A), topics(
    "dnssecmon_ha-restart", B)
OURS_R = topics("dnssecmon_ha-restart", R)
OTHER_B = topics("dnssecmon_ha-other", B)
STATE_B = "dnssecmon/domain/%s/state" % B


# interval 2s: a domain's discovery configs come with its first check,
# and first checks are spread over the interval, once per daemon start.
def write_conf(name, domains, extra=""):
    conf = os.path.join(tmp, name + ".yaml")
    with open(conf, "w") as f:
        f.write("trust_anchor: %s\nroot_hints: %s\nresolvers: [%s]\n"
                "database: %s\ntimeout: 1s\nretries: 1\ninterval: 2s\n"
                "instance: %s\nmqtt: {host: %s, port: %d, "
                "homeassistant: yes}\n%sdomains: [%s]\n"
                % (env["TESTBED_ANCHOR"], env["TESTBED_HINTS"],
                   env["TESTBED_RESOLVER"], os.path.join(tmp, name + ".db"),
                   name, BROKER_HOST, broker.port, extra, ", ".join(domains)))
    return conf


def retained():
    return h.retained(broker, "homeassistant/#")


def emptied(watch, tops, since):
    """Every topic of tops got an empty message after the first `since`
    messages of the watcher."""
    got = watch.messages()[since:]
    return all(any(m["topic"] == x and m["payload"] == "" for m in got)
               for x in tops)


def start(name, domains, extra=""):
    d = h.Daemon(BIN, write_conf(name, domains, extra),
                 os.path.join(tmp, name + ".log"))
    d.start()
    procs.append(d)
    return d


def stop(d):
    procs.remove(d)
    return d.stop()


try:
    t.ok(broker.start(), "mosquitto on %s:%d" % (BROKER_HOST, broker.port))
    procs.append(broker)
    watch = h.Subscriber(tmp, broker, topic="homeassistant/#", name="watch")
    watch.start()
    procs.append(watch)

    # ---- another instance announces B under its own node id
    other = start("ha-other", [B])
    t.ok(wait_for(lambda: set(OTHER_B) <= set(retained()), 120,
                  what="ha-other's discovery configs of " + B),
         "another instance's discovery configs of %s are retained" % B)
    t.is_(stop(other), 0, "ha-other stops cleanly")
    # Same node id (HA-Restart and ha-restart make one slug), another
    # daemon: its status topic says so.
    alien = "homeassistant/sensor/dnssecmon_ha-restart/%s_severity/config" \
        % slug("alien." + TLD)
    body = json.dumps({"name": "alien", "availability_topic":
                       "dnssecmon/status/HA-Restart",
                       "state_topic": "dnssecmon/domain/alien.%s/state" % TLD,
                       "device": {"name": "alien." + TLD}})
    p = subprocess.run(["mosquitto_pub", *h.sub_args(broker), "-t", alien,
                        "-r", "-q", "1", "-m", body], capture_output=True,
                       text=True, timeout=30)
    t.ok(p.returncode == 0, "a retained config of HA-Restart published "
         "under the same node id", p.stderr)

    # ---- A and B announced, then the daemon stops
    d = start("ha-restart", [A, B])
    t.ok(wait_for(lambda: set(OURS_A + OURS_B) <= set(retained()), 120,
                  what="the discovery configs of both domains"),
         "both domains' discovery configs are retained")
    t.ok(wait_for(lambda: STATE_B in h.retained(broker, STATE_B), 60,
                  what="the retained state of " + B),
         "%s's state topic is retained" % B)
    t.is_(stop(d), 0, "the daemon stops cleanly (SIGTERM)")

    # ---- B dropped while stopped: the next start empties its configs
    since = len(watch.messages())
    d = start("ha-restart", [A])
    cleared = wait_for(lambda: emptied(watch, OURS_B, since), 120,
                       what="empty discovery configs for " + B)
    t.ok(cleared, "restart: the dropped domain's three discovery topics are "
         "emptied", [(m["topic"], m["payload"][:16])
                     for m in watch.messages()[since:]])
    left = retained()
    t.ok(not set(OURS_B) & set(left),
         "restart: no discovery config of the dropped domain stays retained "
         "(no ghost entities in Home Assistant)", sorted(left))
    t.ok(set(OURS_A) <= set(left),
         "restart: the kept domain's discovery configs stay", sorted(left))
    t.ok(not any(m["topic"] in OURS_A and m["payload"] == ""
                 for m in watch.messages()[since:]),
         "restart: the kept domain's configs were never emptied")
    t.ok(set(OTHER_B) <= set(left),
         "restart: another instance's configs of the dropped domain stay",
         sorted(left))
    t.ok(alien in left and not any(
        m["topic"] == alien and m["payload"] == ""
        for m in watch.messages()),
         "restart: a config under the same node id but of another instance "
         "(its own status topic) is not touched", sorted(left))
    t.ok(STATE_B in h.retained(broker, STATE_B),
         "restart: the dropped domain's retained state topic stays (another "
         "instance publishes it too)")
    t.ok("%s is no longer monitored here" % B in d.text(),
         "restart: the log names the domain whose discovery was cleared")
    t.is_(stop(d), 0, "the daemon stops cleanly")

    # ---- not while a catalog's members are unknown
    d = start("ha-restart", [A, B])
    t.ok(wait_for(lambda: set(OURS_B) <= set(retained()), 120,
                  what="B announced again"),
         "B back in the configuration: announced again")
    t.is_(stop(d), 0, "the daemon stops cleanly")
    dead = ("catalog:\n  - zone: dead.invalid\n    primary: %s\n"
            "    refresh: 1h\n" % DEAD_PRIMARY)
    since = len(watch.messages())
    d = start("ha-restart", [A], dead)
    t.ok(wait_for(lambda: "catalog" in d.text() and DEAD_PRIMARY in d.text()
                  and "the domain set is not whole" in d.text(), 120,
                  what="the failed transfer and the deferral in the log"),
         "a catalog never transferred: the daemon says stale discovery waits",
         d.text()[-2000:])
    t.ok(wait_for(lambda: any(m["topic"] == OURS_A[1]
                              for m in watch.messages()[since:]), 120,
                  what="A announced on this connection"),
         "the daemon is connected and announces A")
    left = retained()
    t.ok(set(OURS_B) <= set(left) and not any(
        m["topic"] in OURS_B and m["payload"] == ""
        for m in watch.messages()[since:]),
         "while the catalog's members are unknown, B's configs stay (it may "
         "be a member)", sorted(left))
    write_conf("ha-restart", [A])
    d.proc.send_signal(signal.SIGHUP)
    t.ok(wait_for(lambda: emptied(watch, OURS_B, since), 120,
                  what="empty discovery configs for B after the reload"),
         "a reload without the catalog makes the set whole: B's configs are "
         "emptied")
    t.ok(set(OURS_A) <= set(retained()),
         "after the reload A's configs stay")
    t.is_(stop(d), 0, "the daemon stops cleanly")

    # ---- a catalog's first transfer makes the set whole: its members
    # stay, what is in neither the catalog nor the configuration goes
    members = subprocess.run([env["TESTBED_SCRIPT"], "catalog"],
                             capture_output=True, text=True,
                             timeout=120).stdout.split()
    t.ok(R in members and B not in members and A in members,
         "the testbed's catalog lists %s and %s, not %s" % (R, A, B), members)
    d = start("ha-restart", [A, B, R])
    t.ok(wait_for(lambda: set(OURS_B + OURS_R) <= set(retained()), 120,
                  what="B and R announced"),
         "B and %s announced (configured)" % R)
    t.is_(stop(d), 0, "the daemon stops cleanly")
    with open(env["TESTBED_CATALOG_KEY"]) as f:
        key, alg, secret = f.read().split()
    cat = ("catalog:\n  - zone: %s\n    primary: %s\n"
           "    tsig: {name: %s, algorithm: %s, secret: \"%s\"}\n"
           "    refresh: 1h\n" % (env["TESTBED_CATALOG_ZONE"],
                                 env["TESTBED_NS_A"], key, alg, secret))
    since = len(watch.messages())
    d = start("ha-restart", [A], cat)
    t.ok(wait_for(lambda: emptied(watch, OURS_B, since), 120,
                  what="empty discovery configs for B with the catalog"),
         "with a catalog transferred, B (in neither) is emptied")
    left = retained()
    t.ok(set(OURS_A + OURS_R) <= set(left) and not any(
        m["topic"] in OURS_A + OURS_R and m["payload"] == ""
        for m in watch.messages()[since:]),
         "%s, now monitored as a catalog member, keeps its configs" % R,
         sorted(left))
    t.is_(stop(d), 0, "the daemon stops cleanly")

    # ---- on a reconnect too: the broker comes back from a backup that
    # still holds B's configs (another broker's database, made here)
    d = start("ha-restart", [A])
    t.ok(wait_for(lambda: "connected to %s" % BROKER_HOST in d.text(), 60,
                  what="the daemon connected"), "the daemon is connected")
    inject = h.Broker(tmp, "inject", host=BROKER_HOST)
    t.ok(inject.start(), "a second broker to make the backup")
    procs.append(inject)
    stale = json.dumps({"availability_topic": "dnssecmon/status/ha-restart",
                        "device": {"name": B},
                        "state_topic": STATE_B})
    pubs = [subprocess.run(["mosquitto_pub", *h.sub_args(inject), "-t", x,
                            "-r", "-q", "1", "-m", stale],
                           capture_output=True, timeout=30).returncode
            for x in OURS_B]
    t.is_(pubs, [0, 0, 0], "B's configs retained on it")
    procs.remove(inject)
    t.is_(inject.stop(), 0, "it stops and saves them")
    procs.remove(broker)
    broker.stop()
    shutil.copy(os.path.join(inject.dir, "mosquitto.db"),
                os.path.join(broker.dir, "mosquitto.db"))
    since = len(watch.messages())
    connects = d.text().count("connected to %s" % BROKER_HOST)
    t.ok(broker.start(), "the broker is back, from that backup")
    procs.append(broker)
    t.ok(wait_for(lambda: emptied(watch, OURS_B, since), 120,
                  what="B's configs emptied after the reconnect"),
         "reconnect: the configs the backup brought back are emptied")
    t.ok(d.text().count("connected to %s" % BROKER_HOST) > connects,
         "reconnect: the same daemon process, a new connection")
    t.ok(wait_for(lambda: set(OURS_A) <= set(retained()), 120,
                  what="A announced again"),
         "reconnect: A announced again on the new connection")
    t.ok(not set(OURS_B) & set(retained()),
         "reconnect: none of B's configs stays retained")
    t.is_(stop(d), 0, "the daemon stops cleanly")
    # Under SANITIZE=1 a UBSan report does not change the exit status.
    bad = [ln for n in ("ha-other", "ha-restart")
           for ln in open(os.path.join(tmp, n + ".log")).read().split("\n")
           if "Sanitizer" in ln or "runtime error:" in ln]
    t.ok(not bad, "no sanitizer report in either daemon's log", bad[:5])
finally:
    for p in reversed(procs):
        p.stop()
    shutil.rmtree(tmp, ignore_errors=True)

sys.exit(t.done())
