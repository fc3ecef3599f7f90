#!/usr/bin/env python3
"""Domains from where they already are, against the testbed: a catalog
zone (RFC 9432) served by the testbed's NSD (server a) with TSIG drives the
monitored set: its members are monitored, a member added to the catalog
(new serial, NSD reloaded) is monitored, a member removed stops being
checked and keeps its history; a domains_file: list edited and re-read on
SIGHUP, a bad list keeping the running set; and a wrong TSIG secret gives
an error that says so, the members of the last transfer staying
monitored."""
import json
import os
import re
import signal
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
import dash_common as dc  # noqa: E402
from tap import Tap  # noqa: E402

t = Tap()
env = dc.testbed_env()
TLD = env["TESTBED_TLD"]
CATZ = env["TESTBED_CATALOG_ZONE"]
with open(env["TESTBED_CATALOG_KEY"]) as f:
    KEY, ALG, SECRET = f.read().split()


def tb(*args):
    p = subprocess.run([dc.TB, *args], capture_output=True, text=True,
                       timeout=120)
    if p.returncode != 0:
        t.diag("testbed.sh %s: %s" % (" ".join(args), p.stderr))
    return p


# The catalog as `up` made it; a test before this one may have changed it.
members = set(tb("catalog").stdout.split())
start_set = {"healthy." + TLD, "rolldone." + TLD, "broken." + TLD}
extra = members - start_set
if extra:
    tb("catalog", "remove", *sorted(extra))
missing = start_set - members
if missing:
    tb("catalog", "add", *sorted(missing))
t.is_(set(tb("catalog").stdout.split()), start_set,
      "the testbed's catalog holds healthy, rolldone and broken")
ADDED, REMOVED = "expired." + TLD, "broken." + TLD
LISTED, LATER = "rollstart." + TLD, "staleds." + TLD

d = dc.Daemon(env, [], prefix="catalog")
LIST = os.path.join(d.tmp, "zones.txt")


def write_conf(secret=SECRET, bound=""):
    with open(d.conf, "w") as f:
        f.write("trust_anchor: %s\nroot_hints: %s\nresolvers: [%s]\n"
                "database: %s\ninterval: 2s\ntimeout: 1s\nretries: 1\n"
                "http:\n  listen: 127.0.0.1:%d\n"
                "domains_file: zones.txt\n"
                "catalog:\n"
                "  - zone: %s\n    primary: %s\n"
                "    tsig: {name: %s, algorithm: %s, secret: \"%s\"}\n"
                "    refresh: 1s\n%s"
                # A primary where nothing answers (the interceptor's
                # address; no test runs it now): its own error, and no
                # harm to the other catalog.
                "  - zone: dead.invalid\n    primary: %s\n"
                "    refresh: 1s\n"
                % (env["TESTBED_ANCHOR"], env["TESTBED_HINTS"],
                   env["TESTBED_RESOLVER"], d.db, d.port, CATZ,
                   env["TESTBED_NS_A"], KEY, ALG, secret, bound,
                   env["TESTBED_INTERCEPTOR"]))


def api_names():
    status, j = dc.get_json(d.port, "/api/v1/domains")
    return {x["domain"] for x in j["domains"]} if status == 200 else None


def api_catalog(zone=CATZ):
    status, j = dc.get_json(d.port, "/api/v1/domains")
    cats = [c for c in j.get("catalogs", []) if c["zone"] == zone]
    return cats[0] if status == 200 and cats else None


def metric(name):
    status, _, body = dc.request(d.port, "GET", "/metrics")
    m = re.search(r'^%s\{catalog="%s"\} (\S+)$' % (name, re.escape(CATZ)),
                  body.decode(), re.M)
    return m.group(1) if m else None


def checks(domain):
    """Observations of domain in the database (the store, not the API,
    whose history is bounded)."""
    p = subprocess.run([dc.BIN, "history", domain, "--db", d.db, "--format",
                        "json"], capture_output=True, text=True, timeout=30)
    return len(json.loads(p.stdout)["observations"]) if p.returncode == 0 \
        else 0


with open(LIST, "w") as f:
    f.write("# a registrar export\n%s\n" % LISTED)
write_conf()
p = subprocess.run([dc.BIN, "run", "-c", d.conf, "-n", "-v"],
                   capture_output=True, text=True)
t.ok(p.returncode == 0 and "catalog %s primary %s tsig %s" % (
    CATZ, env["TESTBED_NS_A"], KEY) in p.stdout,
    "run -n -v: the configuration checks OK and shows the catalog",
    p.stdout + p.stderr)
t.ok(SECRET not in p.stdout + p.stderr, "run -n -v: the TSIG secret is not shown")

d.logf = open(d.log, "w")
d.proc = subprocess.Popen([dc.BIN, "run", "-c", d.conf, "-v"],
                          stdout=d.logf, stderr=d.logf)
try:
    # 1. The catalog's members and the listed domain are monitored.
    want = start_set | {LISTED}
    t.is_(dc.wait_for(lambda: api_names() == want and api_names(), 60,
                      what="the catalog's members in the API"), want,
          "the API lists the catalog's three members and the listed domain")
    t.is_(metric("dnssecmon_catalog_members"), "3",
          "metrics: dnssecmon_catalog_members 3")
    t.is_(metric("dnssecmon_catalog_transfer_ok"), "1",
          "metrics: dnssecmon_catalog_transfer_ok 1")
    serial = metric("dnssecmon_catalog_serial")
    t.ok(serial is not None and int(serial) > 0,
         "metrics: the catalog's serial (%s)" % serial)
    c = api_catalog() or {}
    t.ok(c.get("members") == 3 and c.get("ok") is True and
         c.get("error") is None and str(c.get("serial")) == serial and
         c.get("primary") == env["TESTBED_NS_A"] and c.get("last_success"),
         "the API's catalogs: 3 members, ok, the serial, no error", c)
    dead = dc.wait_for(lambda: (api_catalog("dead.invalid") or {}).get(
        "last_attempt") and api_catalog("dead.invalid"), 60,
        what="a poll of dead.invalid") or {}
    t.ok(dead.get("ok") is False and dead.get("members") == 0 and
         env["TESTBED_INTERCEPTOR"] in (dead.get("error") or ""),
         "a catalog whose primary does not answer: not ok, its error names "
         "the primary, the other catalog is not held up", dead)
    status, j = dc.get_json(d.port, "/api/v1/domains")
    by = {x["domain"]: x.get("catalog", "missing") for x in j["domains"]}
    t.ok(all(by[z] == CATZ for z in start_set) and by[LISTED] is None,
         "the API says which catalog each member comes from (null for a "
         "configured domain)", by)
    t.ok(dc.wait_for(lambda: all(checks(z) for z in want), 120,
                     what="a check of every member"),
         "every member is checked")
    log = d.log_text()
    t.ok("catalog %s: serial %s, 3 members (3 added, 0 removed)" % (
        CATZ, serial) in log, "the log says what the catalog brought")

    # 2. A member added to the catalog (new serial, NSD reloaded).
    tb("catalog", "add", ADDED)
    t.ok(dc.wait_for(lambda: ADDED in (api_names() or ()), 60,
                     what="%s in the API" % ADDED),
         "a zone added to the catalog appears in the API")
    t.ok(dc.wait_for(lambda: checks(ADDED) > 0, 120, what="a check of " + ADDED),
         "... and is checked")
    t.ok(int(metric("dnssecmon_catalog_serial") or 0) > int(serial),
         "metrics: the serial moved on")
    t.ok("%s: added by catalog %s" % (ADDED, CATZ) in d.log_text(),
         "the log names the zone the catalog added")

    # 3. A member removed: no longer monitored, its history kept.
    before = checks(REMOVED)
    tb("catalog", "remove", REMOVED)
    t.ok(dc.wait_for(lambda: REMOVED not in (api_names() or {REMOVED}), 60,
                     what="%s gone from the API" % REMOVED),
         "a zone removed from the catalog leaves the API")
    t.is_(metric("dnssecmon_catalog_members"), "3",
          "metrics: still 3 members (one in, one out)")
    n_removed = checks(REMOVED)
    t.ok(n_removed >= before > 0,
         "the removed zone's history is kept (%d observations)" % n_removed)
    base = checks("healthy." + TLD)
    t.ok(dc.wait_for(lambda: checks("healthy." + TLD) >= base + 3, 120,
                     what="three more checks of healthy"),
         "the other members are checked on")
    n_after = checks(REMOVED)
    t.ok(n_after <= n_removed + 1,
         "the removed zone is no longer checked (%d observations, %d at "
         "the removal; at most the one in flight more)" % (n_after, n_removed))
    t.ok("%s: removed by catalog; its history is kept" % REMOVED in
         d.log_text(), "the log names the zone the catalog removed")

    # 4. domains_file: edited and re-read on SIGHUP; a bad list is refused.
    with open(LIST, "a") as f:
        f.write("%s   # added later\n" % LATER)
    d.proc.send_signal(signal.SIGHUP)
    t.ok(dc.wait_for(lambda: LATER in (api_names() or ()), 60,
                     what="%s in the API" % LATER),
         "SIGHUP: a name added to the domains_file is monitored")
    t.ok(ADDED in api_names(), "SIGHUP: the catalog's members stay monitored")
    with open(LIST, "a") as f:
        f.write("not..a..name\n")
    d.proc.send_signal(signal.SIGHUP)
    t.ok(dc.wait_for(lambda: "zones.txt:4: 'not..a..name' is not a valid "
                     "domain name" in d.log_text(), 60,
                     what="the bad list's error in the log"),
         "SIGHUP with a bad list: the error names the list's file and line")
    t.ok(dc.wait_for(lambda: "keeping the running configuration" in
                     d.log_text(), 30, what="the reload refused"),
         "SIGHUP with a bad list: the running configuration stays")
    t.ok(LATER in api_names() and ADDED in api_names(),
         "SIGHUP with a bad list: everything stays monitored")
    with open(LIST, "w") as f:
        f.write("%s\n%s\n" % (LISTED, LATER))

    # 5. A wrong TSIG secret: a clear error; the members stay.
    wrong = "c2l4dGVlbiBieXRlcyBvZiB3cm9uZyBrZXkh"
    write_conf(wrong)
    d.proc.send_signal(signal.SIGHUP)
    t.ok(dc.wait_for(lambda: "BADSIG" in d.log_text(), 60,
                     what="the TSIG error in the log"),
         "a wrong TSIG secret: the primary's BADSIG is in the log")
    line = [x for x in d.log_text().splitlines() if "BADSIG" in x][0]
    t.ok("catalog %s" % CATZ in line and "key '%s' refused" % KEY in line and
         "secret" in line, "... naming the catalog, the key and the secret: "
         + line)
    t.ok(wrong not in d.log_text() and SECRET not in d.log_text(),
         "no secret in the log")
    t.ok(dc.wait_for(lambda: metric("dnssecmon_catalog_transfer_ok") == "0",
                     30, what="transfer_ok 0"),
         "metrics: dnssecmon_catalog_transfer_ok 0")
    c = dc.wait_for(lambda: (api_catalog() or {}).get("ok") is False and
                    api_catalog(), 30, what="the API's catalog not ok") or {}
    t.ok("BADSIG" in (c.get("error") or "") and c.get("members") == 3,
         "the API's catalogs: not ok, the BADSIG error, the members kept", c)
    t.ok("keeping the members of the last transfer" in line and
         ADDED in api_names() and "healthy." + TLD in api_names(),
         "the members of the last transfer stay monitored")
    # And the right secret again: it works again.
    write_conf()
    d.proc.send_signal(signal.SIGHUP)
    t.ok(dc.wait_for(lambda: "transfer from %s works again" %
                     env["TESTBED_NS_A"] in d.log_text(), 60,
                     what="the catalog working again"),
         "the right secret again: the log says the catalog works again")
    t.ok(dc.wait_for(lambda: metric("dnssecmon_catalog_transfer_ok") == "1",
                     30, what="transfer_ok 1"),
         "metrics: dnssecmon_catalog_transfer_ok 1 again")

    # 6. max_members: the alphabetically first members, the rest counted.
    #    The catalog is expired, healthy, rolldone now.
    write_conf(bound="    max_members: 2\n")
    d.proc.send_signal(signal.SIGHUP)
    t.ok(dc.wait_for(lambda: metric("dnssecmon_catalog_members_excess") ==
                     "1", 60, what="one member over max_members"),
         "max_members 2 of 3: metrics say one member is not monitored")
    names = api_names() or set()
    t.ok({ADDED, "healthy." + TLD} <= names and
         "rolldone." + TLD not in names,
         "the alphabetically first two stay, the last one goes (%s)" %
         sorted(names))
    t.ok(dc.wait_for(lambda: "1 members more than max_members 2 are not "
                     "monitored" in d.log_text(), 30, what="the warning"),
         "the log says how many members are over the bound")
    t.is_(d.stop(), 0, "SIGTERM: exit 0")
finally:
    if t.failed:
        t.diag("daemon log:\n" + d.log_text()[-6000:])
    d.stop()
    d.cleanup()
    # Leave the testbed's catalog as `up` made it.
    tb("catalog", "remove", ADDED)
    tb("catalog", "add", REMOVED)
sys.exit(t.done())
