#!/usr/bin/env python3
"""Fault: a malformed page in the database, at start and while running
(issue 13, items 3 and 4).

Garbage over the first bytes of the `domains` table's root page makes
every read of it fail with "database disk image is malformed": no check
can read its history, so none is recorded. What the user must see:

  - /readyz 503 naming the store's error (it said ready: the check fails
    on the read before it ever writes, and readiness only looked at
    writes);
  - the store_error problem on each domain, in the API;
  - a DNS host's webhook answered 503, never 200 (the host sends it again);
  - once the page is whole again, ready again by itself and the webhook
    the host sends again acknowledged; what was acknowledged before is
    still in the file.

`run -n` (systemd's ExecStartPre) says the same before a start: exit 1,
naming the file and the damage, and it reads only: no byte of the file
changes and no -wal or -shm is left behind (a read-only SQLite
connection would otherwise create both, owned by whoever ran -n).

At start the damage is in a copy of a database a daemon wrote; while
running, the page is damaged in place under the daemon (after a
checkpoint, so that the file holds the page, and with a write from
another connection so that the daemon reads it from the file again).
"""
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.dirname(__file__))
from tap import Tap  # noqa: E402
import dash_common as dc  # noqa: E402

t = Tap()
env = dc.testbed_env()
TLD = env["TESTBED_TLD"]
HEALTHY = "healthy." + TLD
ROLLED = "rolldone." + TLD
SECRET = "fault-corrupt-%s-Wm4" % os.getpid()
GUARD = 120
GARBAGE = bytes([0x0d, 0xff, 0xff, 0x7f, 0xff, 0x42]) + b"\xa5" * 58


def result(reply):
    status, body = reply
    return status, body.get("result") if isinstance(body, dict) else body


def db(path):
    return sqlite3.connect(path, timeout=30, isolation_level=None)


def domains_root(path):
    """(offset, the page's first bytes) of the domains table's root."""
    c = db(path)
    try:
        size = c.execute("PRAGMA page_size").fetchone()[0]
        root = c.execute("SELECT rootpage FROM sqlite_schema WHERE "
                         "name = 'domains'").fetchone()[0]
    finally:
        c.close()
    off = size * (root - 1)
    with open(path, "rb") as f:
        f.seek(off)
        return off, f.read(len(GARBAGE))


def overwrite(path, off, data):
    with open(path, "r+b") as f:
        f.seek(off)
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def touch_schema(path):
    """A write from another connection: the daemon's page cache is stale
    after it, so its next transaction reads pages from the file."""
    c = db(path)
    try:
        c.execute("CREATE TABLE IF NOT EXISTS fault_touch (x)")
        c.execute("DROP TABLE fault_touch")
    finally:
        c.close()


def files_of(d):
    """{name: (size, sha256)} of the database and its -wal/-shm."""
    out = {}
    for suffix in ("", "-wal", "-shm"):
        path = d.db + suffix
        if os.path.exists(path):
            with open(path, "rb") as f:
                out[os.path.basename(path)] = hashlib.sha256(
                    f.read()).hexdigest()
    return out


def check_config(d):
    """`run -n` on the daemon's configuration: (exit, stdout, stderr)."""
    p = subprocess.run([dc.BIN, "run", "-c", d.conf, "-n"],
                       capture_output=True, text=True, timeout=GUARD)
    return p.returncode, p.stdout, p.stderr


def config_check_reads_only(d, label, want_ok):
    """-n judges the file (exit 0 when whole, 1 when damaged, naming the
    file) and never writes it, nor leaves a -wal or -shm behind."""
    before = files_of(d)
    rc, out, err = check_config(d)
    if want_ok:
        t.ok((rc, out.strip()) == (0, "configuration OK"),
             "%s: run -n says configuration OK" % label, (rc, out, err))
    else:
        t.ok(rc == 1, "%s: run -n exits 1" % label, (rc, out, err))
        t.ok(d.db in err and "damaged" in err and "quick_check" in err,
             "%s: run -n names the file and the damage" % label, err)
        t.ok("configuration OK" not in out,
             "%s: run -n does not say OK" % label, out)
    t.is_(files_of(d), before, "%s: run -n changed no file, created no "
          "-wal or -shm" % label)


def malformed(d, label):
    """What the user sees while the page is bad."""
    got = dc.wait_for(lambda: (lambda r: r if r[0] == 503 and "malformed"
                               in r[1].get("store_write_error", "")
                               else None)(dc.readyz(d)), GUARD,
                      what="/readyz 503 malformed")
    t.ok(got, "%s: /readyz 503, naming the malformed database" % label,
         dc.readyz(d))
    def codes():
        status, api = dc.get_json(d.port, "/api/v1/domains/" + HEALTHY)
        return [p.get("code") for p in (api or {}).get("problems", [])]
    # /readyz may have turned on the other domain's check: wait for this
    # one's.
    t.ok(dc.wait_for(lambda: "store_error" in codes(), GUARD,
                     what="store_error on " + HEALTHY),
         "%s: the domain shows the store_error problem" % label, codes())
    rid = "fault-corrupt-%s-%d" % (label.replace(" ", "-"), os.getpid())
    status, body = dc.post_start(d, SECRET, ROLLED, rid)
    t.is_(status, 503, "%s: a rotation_start is not acknowledged (503)"
          % label)
    t.ok("malformed" in json.dumps(body if isinstance(body, dict) else
                                   body.decode(errors="replace")),
         "%s: the 503 says why" % label, body)
    t.ok("database disk image is malformed" in d.log_text() and
         d.db in d.log_text(), "%s: the log names the file and the "
         "error" % label)
    return rid


d = dc.Daemon(env, [HEALTHY, ROLLED], interval="2s", prefix="fault-corrupt",
              extra="hooks:\n  dnsimple:\n    secret: %s\n" % SECRET)
try:
    # ---- a database with something acknowledged in it
    d.start()
    if not t.ok(dc.ready_or_exit(d, GUARD), "the daemon is ready"):
        t.diag(d.log_text()[-2000:])
        raise SystemExit(t.done())
    rid0 = "fault-corrupt-0-%d" % os.getpid()
    t.is_(result(dc.post_start(d, SECRET, HEALTHY, rid0)), (200, "opened"),
          "a rotation_start is acknowledged (200 opened)")
    t.is_(d.stop(), 0, "SIGTERM: a clean exit")
    good = d.db + ".good"
    shutil.copyfile(d.db, good)

    # ---- at start: a damaged copy
    off, orig = domains_root(d.db)
    overwrite(d.db, off, GARBAGE)
    p = subprocess.run(["sqlite3", d.db, "PRAGMA quick_check"],
                       capture_output=True, text=True, timeout=60)
    t.ok(p.stdout.strip() != "ok", "the copy is malformed (quick_check: %s)"
         % p.stdout.strip().split("\n")[-1])
    config_check_reads_only(d, "damaged, at rest", want_ok=False)
    d.start()
    rid1 = malformed(d, "at start")
    t.ok(d.proc.poll() is None, "at start: the daemon keeps running")
    t.is_(d.stop(), 0, "at start: SIGTERM, a clean exit")
    t.ok(rid0 in dc.external_ids(good), "the undamaged database still has "
         "the acknowledged rotation")

    # ---- while running: the page damaged in place
    shutil.copyfile(good, d.db)
    config_check_reads_only(d, "whole, at rest", want_ok=True)
    d.start()
    t.ok(dc.ready_or_exit(d, GUARD), "running on the whole file: ready")
    # The daemon writes the -wal meanwhile: only the verdict is compared.
    rc, out, err = check_config(d)
    t.ok((rc, out.strip()) == (0, "configuration OK"), "whole, the daemon "
         "running: run -n says configuration OK", (rc, out, err))
    n0 = dc.checks_total(d)
    t.ok(dc.wait_for(lambda: dc.checks_total(d) > n0, GUARD,
                     what="a check"), "a check is recorded")
    c = db(d.db)
    try:
        c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        c.close()
    overwrite(d.db, off, GARBAGE)
    touch_schema(d.db)
    rid2 = malformed(d, "while running")
    t.ok(d.proc.poll() is None, "while running: the daemon keeps running")
    # The daemon holds the -wal and -shm: -n reads through them.
    rc, out, err = check_config(d)
    t.ok(rc == 1, "while running: run -n exits 1", (rc, out, err))
    t.ok(d.db in err and "damaged" in err, "while running: run -n names "
         "the file and the damage", err)

    # ---- the page whole again
    overwrite(d.db, off, orig)
    touch_schema(d.db)
    t.ok(dc.ready_or_exit(d, GUARD), "page restored: ready again by itself")
    t.is_(result(dc.post_start(d, SECRET, ROLLED, rid2)), (200, "opened"),
          "page restored: the webhook sent again is acknowledged")
    t.is_(d.stop(), 0, "SIGTERM: a clean exit")
    ids = dc.external_ids(d.db)
    t.ok(rid0 in ids and rid2 in ids, "every acknowledged rotation is in "
         "the file", ids)
    t.ok(rid1 not in ids, "the one refused at start is not (the host "
         "sends it again)")
    p = subprocess.run(["sqlite3", d.db, "PRAGMA integrity_check"],
                       capture_output=True, text=True, timeout=60)
    t.is_(p.stdout.strip(), "ok", "integrity_check ok")
finally:
    d.cleanup()
sys.exit(t.done())
