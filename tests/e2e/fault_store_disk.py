#!/usr/bin/env python3
"""Fault: the store's disk fills up under a running daemon, and its
directory is read-only when the daemon starts (issue 13, items 2 to 4).

The database lives on a 2 MB tmpfs of its own. An exec hook (retries: 2,
always exit 1) fills that disk the first time it runs, so the daemon can
no longer record that it ran: the moment the registrar-API hook of the
bug ran 985 times in 20 s. What the user must see:

  - while the disk is full: /readyz 503 naming the store's error, the
    store_error problem on the domains, a DNS host's webhook answered 503
    (never 200: the host would not send it again), and the hook run at
    most 1 + retries times however many checks go by (no tight loop);
  - once space returns: ready again by itself, the webhook the host sends
    again is acknowledged, and the hook's retries go on with their backoff
    to exactly 1 + retries runs;
  - after a restart, everything that was acknowledged is still there: the
    rotations both webhooks opened and the checks recorded before the
    disk filled;
  - started on a read-only store directory, `run -n` and `run` refuse
    with the path and the reason, exit non-zero, and the file is
    unchanged; a running daemon told by SIGHUP to record there refuses
    the reload, answers /healthz within 1 s and stays ready.

A running daemon's open database cannot be made read-only from outside
(Linux refuses `mount -o remount,ro` while a file is open for writing),
so the read-only case is the start-up after such a failure.
The tmpfs and the read-only bind mount are unmounted whatever happens.
"""
import json
import os
import signal
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
BROKEN = "broken." + TLD
SECRET = "fault-disk-%s-Qx9" % os.getpid()
GUARD = 120


def sh(*args):
    return subprocess.run(args, capture_output=True, text=True, timeout=60)


def hook_runs(path):
    """outbox id -> how many times the hook ran for it."""
    runs = {}
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                runs[line.strip()] = runs.get(line.strip(), 0) + 1
    return runs


def cli_json(*args):
    p = subprocess.run([dc.BIN, *args, "--format", "json"],
                       capture_output=True, text=True, timeout=60)
    return json.loads(p.stdout) if p.returncode == 0 else None


d = dc.Daemon(env, [HEALTHY, ROLLED], interval="2s", prefix="fault-disk")
mnt = os.path.join(d.tmp, "store")
os.mkdir(mnt)
d.db = os.path.join(mnt, "db.sqlite")
runs_file = os.path.join(d.tmp, "hook-runs")
filled = os.path.join(d.tmp, "filled")
filler = os.path.join(mnt, "filler")
hook = os.path.join(d.tmp, "hook.sh")
with open(hook, "w") as f:
    # Its first run fills the store's disk: the daemon can run it but
    # cannot record that it did.
    f.write("#!/bin/sh\necho \"$DNSSECMON_ID\" >> %s\n"
            "if [ ! -e %s ]; then : > %s; cat /dev/zero > %s 2>/dev/null; fi\n"
            "exit 1\n" % (runs_file, filled, filled, filler))
os.chmod(hook, 0o755)
d.extra = "hooks:\n  dnsimple:\n    secret: %s\n" % SECRET
d.top = ("alerts: {fire_after_checks: 2}\n"
         "exec:\n  - {command: [%s], on: [firing], retries: 2"
         "}\n" % hook)
mounted = []
# A runner that stops the test with SIGTERM still gets the mounts undone
# (the finally below), as with an exception.
signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
try:
    r = sh("mount", "-t", "tmpfs", "-o", "size=2m,mode=0755", "fault-store",
           mnt)
    if not t.ok(r.returncode == 0, "a 2 MB tmpfs for the store", r.stderr):
        raise SystemExit(t.done())
    mounted.append(mnt)

    # ---- 1. running, everything recorded
    d.start()
    if not t.ok(dc.ready_or_exit(d, GUARD), "the daemon is ready on the small disk"):
        t.diag(d.log_text()[-2000:])
        raise SystemExit(t.done())
    status, body = dc.post_start(d, SECRET, HEALTHY,
                                 "fault-disk-1-%d" % os.getpid())
    t.is_((status, body.get("result") if isinstance(body, dict) else body),
          (200, "opened"), "a rotation_start before the disk fills: 200 "
          "opened (acknowledged)")
    seen = {z: len((cli_json("history", z, "--db", d.db) or {}).get(
        "observations", [])) for z in (HEALTHY, ROLLED)}
    t.ok(all(seen.values()), "checks recorded before the disk fills: %s"
         % seen)

    # ---- 2. the disk fills: a new domain's alert runs the hook
    d.domains = [HEALTHY, ROLLED, BROKEN]
    d.reload()
    full = dc.wait_for(lambda: not dc.readyz(d)[1].get("store_writes", True)
                       and dc.readyz(d), GUARD, what="/readyz: store write "
                       "failed")
    t.ok(os.path.exists(filled), "the hook ran and filled the disk")
    st, why = full if full else (None, {})
    t.is_(st, 503, "disk full: /readyz 503")
    t.ok("full" in why.get("store_write_error", ""),
         "disk full: /readyz names the store's error", why)
    n0 = dc.checks_total(d)
    # Checks go on (and fail to record): the hook must not run again
    # while its attempt cannot be recorded.
    t.ok(dc.wait_for(lambda: dc.checks_total(d) >= n0 + 6, GUARD,
                     what="6 more checks"), "disk full: the daemon keeps "
         "checking")
    runs = hook_runs(runs_file)
    t.ok(sum(runs.values()) <= 3, "disk full: the hook ran %d time(s) "
         "over 6 checks, at most 1 + retries (no tight loop)"
         % sum(runs.values()), runs)
    def codes():
        status, api = dc.get_json(d.port, "/api/v1/domains/" + HEALTHY)
        return [p.get("code") for p in (api or {}).get("problems", [])]
    t.ok(dc.wait_for(lambda: "store_error" in codes(), GUARD,
                     what="store_error on " + HEALTHY),
         "disk full: the domain shows the store_error problem", codes())
    rid2 = "fault-disk-2-%d" % os.getpid()
    status, body = dc.post_start(d, SECRET, ROLLED, rid2)
    t.is_(status, 503, "disk full: a rotation_start is not acknowledged "
          "(503, the host sends it again)")
    t.ok("full" in json.dumps(body), "disk full: the 503 says why", body)
    log = d.log_text()
    t.ok("delivering nothing until it is recorded" in log,
         "disk full: the log says the hook's sink is held", log[-800:])

    # ---- 3. space returns
    os.unlink(filler)
    t.ok(dc.ready_or_exit(d, GUARD), "space back: ready again")
    status, body = dc.post_start(d, SECRET, ROLLED, rid2)
    t.is_((status, body.get("result") if isinstance(body, dict) else body),
          (200, "opened"), "space back: the webhook sent again is "
          "acknowledged (200 opened)")
    # The hook's first outcome is written, then its 2 retries run.
    t.ok(dc.wait_for(lambda: sum(hook_runs(runs_file).values()) >= 3,
                     GUARD, what="3 hook runs"), "space back: the hook's "
         "retries run")
    want = hook_runs(runs_file)
    first = next(iter(want))

    n1 = dc.checks_total(d)
    dc.wait_for(lambda: dc.checks_total(d) >= n1 + 6, GUARD,
                what="6 more checks")
    t.is_(hook_runs(runs_file).get(first), 3, "space back: the hook ran "
          "exactly 1 + retries times for its transition")
    rc = d.stop()
    t.is_(rc, 0, "SIGTERM: a clean exit")

    # ---- 4. what was acknowledged survived a restart
    d.start()
    t.ok(dc.ready_or_exit(d, GUARD), "restarted on the same file: ready")
    t.is_(d.stop(), 0, "and stops cleanly")
    rots = dc.external_ids(d.db)
    t.ok("fault-disk-1-%d" % os.getpid() in rots, "after the restart: "
         "the rotation acknowledged before the disk filled is there")
    t.ok(rid2 in rots, "after the restart: the rotation acknowledged "
         "after space returned is there")
    after = {z: len((cli_json("history", z, "--db", d.db) or {}).get(
        "observations", [])) for z in (HEALTHY, ROLLED)}
    t.ok(all(after[z] >= seen[z] for z in seen), "after the restart: no "
         "recorded check is lost (%s then %s)" % (seen, after))
    p = subprocess.run(["sqlite3", d.db, "PRAGMA integrity_check"],
                       capture_output=True, text=True, timeout=60)
    t.is_(p.stdout.strip(), "ok", "after the restart: integrity_check ok")

    # ---- 5. a read-only store directory at start
    r = sh("mount", "--bind", mnt, mnt)
    if r.returncode == 0:
        mounted.append(mnt)
        r = sh("mount", "-o", "remount,bind,ro", mnt)
    t.ok(r.returncode == 0, "the store directory made read-only", r.stderr)
    before = os.stat(d.db)
    d.write_conf()
    p = subprocess.run([dc.BIN, "run", "-n", "-c", d.conf],
                       capture_output=True, text=True, timeout=GUARD)
    t.is_(p.returncode, 1, "read-only: run -n exits 1")
    t.ok(d.db in p.stderr and ("not writable" in p.stderr or
                               "Read-only file system" in p.stderr),
         "read-only: run -n names the database and why", p.stderr)
    d.start()
    exited = dc.wait_for(lambda: d.proc.poll() is not None, GUARD,
                         what="the daemon to exit")
    t.ok(exited, "read-only: the daemon does not start")
    t.ok(d.proc.returncode is not None and d.proc.returncode > 0,
         "read-only: a non-zero exit status (%s), for the service manager"
         % d.proc.returncode)
    log = d.log_text()
    t.ok(d.db in log and "read-only" in log.lower(),
         "read-only: the log names the database and why", log[-600:])
    t.is_(os.stat(d.db).st_mtime_ns, before.st_mtime_ns,
          "read-only: the database is untouched")
    d.stop()

    # ---- 6. a running daemon told to move to the read-only directory
    ro_db = d.db
    d.db = os.path.join(d.tmp, "elsewhere.sqlite")
    d.start()
    t.ok(dc.ready_or_exit(d, GUARD), "on a writable database elsewhere: ready")
    d.db = ro_db
    d.reload()
    status, _, _ = dc.request(d.port, "GET", "/healthz", timeout=1)
    t.is_(status, 200, "reload to the read-only directory: /healthz "
          "answers within 1 s")
    t.ok(dc.wait_for(lambda: "keeping the running configuration" in
                     d.log_text(), GUARD, what="the reload refused"),
         "reload to the read-only directory: refused, the running "
         "configuration kept")
    t.ok(ro_db in d.log_text(), "reload: the log names the database")
    t.is_(dc.readyz(d)[0], 200, "reload refused: still ready, recording "
          "where it was")
    t.is_(d.stop(), 0, "SIGTERM: a clean exit")
finally:
    d.stop()
    for m in reversed(mounted):
        r = sh("umount", m)
        if r.returncode != 0:
            sh("umount", "-l", m)
    d.cleanup()
sys.exit(t.done())
