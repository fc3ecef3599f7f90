#!/usr/bin/env python3
"""The store's batches, seen from outside: what the daemon has said about
a check survives kill -9.

`run` records the checks that finish in one loop turn in one SQLite
transaction and says nothing about them (log, /metrics, the API, alerts)
before that transaction commits. So, with every testbed zone checked
every second and the daemon killed with SIGKILL at a random moment right
after a look at what it says, five times on the same database:

  - every check the API reported (a domain's checked_at) is in the
    database once the next daemon opens it;
  - the database holds at least as many observations of that life as
    /metrics counted checks (dnssecmon_checks_total);
  - afterwards PRAGMA integrity_check is ok and a daemon started on the
    file becomes ready.
"""
import calendar
import os
import random
import signal
import sqlite3
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.dirname(__file__))
from tap import Tap  # noqa: E402
import dash_common as dc  # noqa: E402

LIVES = 5

t = Tap()
env = dc.testbed_env()
ZONES = env["TESTBED_ZONES"].split()


def epoch(rfc3339):
    return calendar.timegm(time.strptime(rfc3339, "%Y-%m-%dT%H:%M:%SZ"))


def max_observation(db):
    if not os.path.exists(db):
        return 0
    with sqlite3.connect(db) as c:
        return c.execute("SELECT COALESCE(MAX(id), 0) FROM observations"
                         ).fetchone()[0]


def claims(d):
    """{domain: checked_at} as the API says, and the metrics' count."""
    status, body = dc.get_json(d.port, "/api/v1/domains")
    out = {}
    if status == 200 and body:
        for x in body.get("domains", []):
            if x.get("checked_at"):
                out[x["domain"]] = epoch(x["checked_at"])
    return out, dc.checks_total(d)


d = dc.Daemon(env, ZONES, interval="1s", prefix="batchkill")
seed = int(time.time()) ^ os.getpid()
random.seed(seed)
t.diag("seed %d, %d zones" % (seed, len(ZONES)))
missing, short, lives = 0, 0, 0
try:
    for life in range(LIVES):
        before = max_observation(d.db)
        want = random.randint(len(ZONES), 4 * len(ZONES))
        d.start()
        got = dc.wait_for(lambda: d.proc.poll() is not None or
                          dc.checks_total(d) >= want, 120,
                          what="%d checks" % want)
        if not got or d.proc.poll() is not None:
            t.ok(False, "life %d: %d checks counted" % (life, want))
            break
        said, counted = claims(d)
        d.proc.send_signal(signal.SIGKILL)
        d.proc.wait()
        d.logf.close()
        d.proc = None
        lives += 1
        # A writer's connection, as the next start: recovers the WAL.
        with sqlite3.connect(d.db) as c:
            for dom, at in said.items():
                # checked_at is when the check started, the record's
                # time when it ended: the same second or a later one.
                # A later check of the domain committed means this one
                # was too (the kill ends them all at once).
                n = c.execute("SELECT count(*) FROM observations o JOIN "
                              "domains d ON d.id = o.domain_id WHERE "
                              "d.name = ? AND o.time >= ?", (dom, at)
                              ).fetchone()[0]
                if n == 0:
                    missing += 1
                    t.diag("life %d: %s reported checked at %d, not in "
                           "the database" % (life, dom, at))
            kept = c.execute("SELECT count(*) FROM observations WHERE "
                             "id > ?", (before,)).fetchone()[0]
        if kept < counted:
            short += 1
            t.diag("life %d: /metrics counted %d checks, the database "
                   "kept %d" % (life, counted, kept))
        t.diag("life %d: killed after %d checks counted, %d domains "
               "reported, %d observations kept" % (life, counted,
                                                   len(said), kept))
    t.is_(lives, LIVES, "the daemon was killed with SIGKILL %d times" %
          LIVES)
    t.is_(missing, 0, "every check the API reported is in the database")
    t.is_(short, 0, "every life kept at least the checks /metrics counted")
    with sqlite3.connect(d.db) as c:
        t.is_(c.execute("PRAGMA integrity_check").fetchone()[0], "ok",
              "PRAGMA integrity_check is ok after the kills")
    d.start()
    t.ok(dc.ready_or_exit(d), "a daemon started on the file becomes ready")
    t.is_(d.stop(), 0, "and stops cleanly")
finally:
    d.cleanup()
sys.exit(t.done())
