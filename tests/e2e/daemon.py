#!/usr/bin/env python3
"""`dnssecmon run` against the testbed: every scenario zone on a short
interval, SIGHUP adding and removing a domain, an authoritative server and
the resolver that stop answering mid-run (SIGSTOP, so they stay bound but
silent), SIGTERM ending with exit 0, and a valgrind run with no leak."""
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from tap import Tap, testbed_env, wait_for  # noqa: E402

t = Tap()
BIN = os.environ["DNSSECMON_BIN"]
TOP = os.environ["DNSSECMON_TOP"]
TB = os.path.join(TOP, "tests/testbed/testbed.sh")
env = testbed_env()
TLD = env["TESTBED_TLD"]
tmp = tempfile.mkdtemp(prefix="dnssecmon-daemon-")
DB = os.path.join(tmp, "db.sqlite")
CONF = os.path.join(tmp, "dnssecmon.yaml")
LOG = os.path.join(tmp, "daemon.log")

EXPECT = {  # zone label -> (state, severity)
    "healthy": ("stable", "ok"), "rollstart": ("rotation_pending", "warning"),
    "dsupdated": ("ds_updated", "ok"), "rolldone": ("stable", "ok"),
    "broken": ("broken", "critical"), "staleds": ("stale_ds", "warning"),
    "expired": ("stable", "critical"), "notyet": ("stable", "critical"),
    "expiring": ("stable", "warning"), "algmismatch": ("broken", "critical"),
    "split": ("stable", "warning"), "unsigned": ("insecure", "ok"),
    "zskroll": ("stable", "ok"), "nocdsswap": ("rotation_pending", "warning"),
}


# interval 1s: most of this test waits for a number of checks of a domain
# (three, four more, one more, one after an outage), each an interval.
def write_conf(domains, extra=""):
    with open(CONF, "w") as f:
        f.write("trust_anchor: %s\nroot_hints: %s\nresolvers: [%s]\n"
                "database: %s\ninterval: 1s\ntimeout: 1s\nretries: 1\n%s"
                "domains:\n" % (env["TESTBED_ANCHOR"], env["TESTBED_HINTS"],
                                env["TESTBED_RESOLVER"], DB, extra))
        for d in domains:
            f.write("  - %s\n" % d)


def history(domain):
    p = subprocess.run([BIN, "history", domain, "--db", DB, "--format", "json"],
                       capture_output=True, text=True, timeout=30)
    if p.returncode != 0:
        return []
    return json.loads(p.stdout)["observations"]


def codes(obs):
    """The problem codes of one recorded observation."""
    return [p["code"] for p in obs.get("problems", [])]


def tb(*args):
    return subprocess.run([TB, *args], capture_output=True, text=True, timeout=60)


zones = ["%s.%s" % (z, TLD) for z in EXPECT]
write_conf(zones)
p = subprocess.run([BIN, "run", "-c", CONF, "-n"], capture_output=True, text=True)
t.is_(p.stdout.strip(), "configuration OK", "the test configuration checks OK")

logf = open(LOG, "w")
daemon = subprocess.Popen([BIN, "run", "-c", CONF, "-v"], stdout=logf, stderr=logf)
paused = []
try:
    # 1. Every scenario reaches its expected state.
    ok = wait_for(lambda: all(history(z) for z in zones), 120, 0.5,
                  "a first check of every domain")
    t.ok(ok, "every domain has been checked")
    for label, (state, sev) in EXPECT.items():
        obs = history("%s.%s" % (label, TLD))
        last = obs[-1] if obs else {}
        t.is_((last.get("state"), last.get("severity")), (state, sev),
              "daemon: %s.%s is %s/%s" % (label, TLD, state, sev))
    t.ok(wait_for(lambda: len(history("healthy." + TLD)) >= 3, 60, 0.5,
                  "three checks of healthy"),
         "domains are checked again every interval")

    # 2. SIGHUP: add a domain, remove one; history is kept.
    removed, added = "broken." + TLD, "switch." + TLD
    write_conf([z for z in zones if z != removed] + [added])
    daemon.send_signal(signal.SIGHUP)
    t.ok(wait_for(lambda: history(added), 60, 0.5, "a check of " + added),
         "SIGHUP: the added domain gets checked")
    before = len(history(removed))
    t.ok(before > 0, "SIGHUP: the removed domain's history is kept")
    # The reload is in force (the added domain was checked). Wait for
    # healthy's fourth check from now: at least three whole intervals, in
    # which a domain still scheduled would be checked at least twice more.
    # One more is allowed: a check of it may have been under way.
    n = len(history("healthy." + TLD))
    t.ok(wait_for(lambda: len(history("healthy." + TLD)) >= n + 4, 60, 0.5,
                  "four more checks of healthy"),
         "SIGHUP: the other domains are checked on")
    t.ok(len(history(removed)) <= before + 1,
         "SIGHUP: the removed domain is no longer checked (%d observations, "
         "%d at the reload)" % (len(history(removed)), before))
    with open(LOG) as f:
        log = f.read()
    t.ok("%s: added by reload" % added in log and "%s: removed by reload" % removed in log,
         "SIGHUP: the log names what was added and removed")

    # A broken configuration is refused and the running one kept.
    with open(CONF, "a") as f:
        f.write("frobnicate: yes\n")
    daemon.send_signal(signal.SIGHUP)

    def log_text():
        with open(LOG) as f:
            return f.read()
    log = wait_for(lambda: "keeping the running configuration" in log_text() and log_text(),
                   60, 0.2, "the daemon's answer to the bad file in its log") or log_text()
    t.ok("frobnicate: unknown key" in log and "keeping the running configuration" in log,
         "SIGHUP with a bad file: error with its line, old configuration kept")
    t.ok(daemon.poll() is None, "SIGHUP with a bad file: still running")
    n = len(history("healthy." + TLD))
    t.ok(wait_for(lambda: len(history("healthy." + TLD)) > n, 60, 0.5,
                  "another check of healthy"),
         "SIGHUP with a bad file: checks go on")

    # 3. An authoritative server stops answering; the other carries on.
    r = tb("pause", "b")
    t.is_(r.returncode, 0, "testbed: server b paused")
    paused.append("b")
    mark = time.time()

    def b_status_since(since, status):
        """A check of healthy that began after since with b's status."""
        for o in history("healthy." + TLD):
            if o["time"] >= time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(since + 1)):
                s = {x["address"]: x for x in o["servers"]}
                if s.get(env["TESTBED_NS_B"], {}).get("status") == status:
                    return o
        return None
    o = wait_for(lambda: b_status_since(mark, "timeout"), 90, 0.5,
                 "a check with server b timed out")
    t.ok(o is not None, "server b silent: the check records it as timed out")
    if o:
        s = {x["address"]: x for x in o["servers"]}
        t.is_(s.get(env["TESTBED_NS_A"], {}).get("status"), "ok",
              "server b silent: server a still answers")
        t.is_(o["validation"], "secure", "server b silent: the domain still validates")
        t.ok("server_unreachable" in codes(o), "server b silent: server_unreachable reported")
        t.is_(o["severity"], "warning", "server b silent: warning, not critical")
    # Its questions piled up unanswered: the transport asks it once per
    # question from then on (probe/transport.c, SILENT_AFTER) ...
    went = "transport: %s left its last 8 UDP questions unanswered" % env["TESTBED_NS_B"]
    t.ok(wait_for(lambda: went in log_text(), 90, 0.5, "b called silent in the log"),
         "server b silent: the log says its questions are no longer sent again")
    tb("resume", "b")
    paused.remove("b")
    mark = time.time()

    # ... and one answer ends that: b is back in the next checks.
    t.ok(wait_for(lambda: b_status_since(mark, "ok"), 90, 0.5,
                  "a check with server b answering again") is not None,
         "server b back: a later check has its answers")
    t.ok("transport: %s answers again" % env["TESTBED_NS_B"] in log_text(),
         "server b back: the log says its questions get their re-sends again")

    # 4. The resolver stops answering mid-run.
    r = tb("pause", "resolver")
    t.is_(r.returncode, 0, "testbed: resolver paused")
    paused.append("resolver")
    mark = time.time()

    def resolver_silent():
        for o in history("healthy." + TLD):
            if o["time"] >= time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(mark + 1)) \
                    and o["resolvers"] and o["resolvers"][0]["status"] == "timeout":
                return o
        return None
    o = wait_for(resolver_silent, 90, 0.5, "a check with the resolver timed out")
    t.ok(o is not None, "resolver silent: recorded as timed out")
    if o:
        t.is_(o["validation"], "secure", "resolver silent: in-process validation unaffected")
        t.is_(o["severity"], "warning", "resolver silent: warning, never critical")
        t.ok("resolver_unreachable" in codes(o), "resolver silent: resolver_unreachable")
    tb("resume", "resolver")
    paused.remove("resolver")
    t.ok(daemon.poll() is None, "the daemon survived both outages")

    # 5. SIGTERM: graceful, exit 0. The wait is a hang guard (the drain
    # time is 10 s); how long the stop took is only printed.
    start = time.monotonic()
    daemon.send_signal(signal.SIGTERM)
    try:
        rc = daemon.wait(timeout=120)
    except subprocess.TimeoutExpired:
        rc = "still running after 120 s (hung)"
    t.is_(rc, 0, "SIGTERM: stops by itself, exit 0")
    t.diag("SIGTERM: stopped in %.1f s" % (time.monotonic() - start))
    with open(LOG) as f:
        log = f.read()
    t.ok("SIGTERM: stopping" in log and "stopped after" in log, "SIGTERM: logged")
finally:
    for name in paused:
        tb("resume", name)
    if daemon.poll() is None:
        daemon.kill()
        daemon.wait()
    logf.close()

# 6. Under valgrind: a few checks, then SIGTERM: exit 0, nothing leaked.
if os.environ.get("DNSSECMON_VARIANT", "").endswith("-san"):
    # valgrind cannot run an ASan binary; here LeakSanitizer already
    # turned any leak into a non-zero exit, which part 5 asserted.
    t.diag("valgrind run left to the plain build; LeakSanitizer covered part 5")
else:
    write_conf(["healthy." + TLD, "rollstart." + TLD, "broken." + TLD])
    vlog = os.path.join(tmp, "valgrind.log")
    vg = subprocess.Popen(["valgrind", "--leak-check=full", "--show-leak-kinds=definite",
                           "--errors-for-leak-kinds=definite", "--error-exitcode=99",
                           "--log-file=" + vlog, BIN, "run", "-c", CONF],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    seen = len(history("broken." + TLD))
    ok = wait_for(lambda: len(history("broken." + TLD)) >= seen + 2, 180, 1,
                  "two checks under valgrind")
    t.ok(ok, "valgrind: the daemon checks domains")
    vg.send_signal(signal.SIGTERM)
    try:
        rc = vg.wait(timeout=60)
    except subprocess.TimeoutExpired:
        vg.kill()
        rc = vg.wait()
    t.is_(rc, 0, "valgrind: SIGTERM exit 0, no memory error, nothing definitely lost")
    if rc != 0:
        with open(vlog) as f:
            t.diag(f.read()[-3000:])

subprocess.run(["rm", "-rf", tmp])
sys.exit(t.done())
