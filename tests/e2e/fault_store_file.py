#!/usr/bin/env python3
"""Fault: the database file deleted, or replaced, under a running daemon.

SQLite would go on writing into the unlinked inode: every check, alert and
webhook "recorded" into a file nobody will ever read again, and a restart
finds history, outbox and rotations gone. What the user must see instead:

  - a DNS host's webhook is never acknowledged (200) once the file is gone:
    503 (the host retries) or no answer at all (the daemon has exited);
  - the daemon logs why, naming the file, and exits with status 1 so that
    the service manager restarts it;
  - restarted on the replacement file, it runs again (ready).
"""
import os
import shutil
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.dirname(__file__))
from tap import Tap  # noqa: E402
import dash_common as dc  # noqa: E402

t = Tap()
env = dc.testbed_env()
TLD = env["TESTBED_TLD"]
ZONE = "healthy." + TLD
SECRET = "fault-%s-Zt5qW" % os.getpid()


def start_event():
    return dc.host_event("rotation_start", ZONE, "fault-%d" % os.getpid())


def post(d):
    try:
        status, _, _ = dc.request(d.port, "POST", "/hooks/dnsimple/" + SECRET,
                                  body=start_event(), headers={
                                      "Content-Type": "application/json"},
                                  timeout=10)
    except OSError:
        return None             # the daemon has gone: not acknowledged
    return status


def exited(d):
    return dc.wait_for(lambda: d.proc.poll() is not None, 120,
                       what="the daemon to exit")


def scenario(label, damage, needle):
    # 5 s: first checks are spread over min(interval, 60 s), so readiness
    # comes within 5 s of each of the four starts (at 20 s it was half
    # of the test's time, waiting); the next check comes 5 s after the
    # first, and the webhook is posted the moment the file is damaged. A
    # check in between would stop the daemon too (the store refuses it),
    # which the assertions allow.
    d = dc.Daemon(env, [ZONE], interval="5s", prefix="fault-" + label,
                  extra="hooks:\n  dnsimple:\n    secret: %s\n" % SECRET)
    try:
        d.start()
        if not t.ok(d.ready(), "%s: the daemon is ready" % label):
            t.diag(d.log_text()[-1500:])
            return
        damage(d.db)
        status = post(d)
        t.ok(status in (503, None),
             "%s: the webhook is not acknowledged once the file is lost "
             "(got %s)" % (label, status))
        t.ok(exited(d), "%s: the daemon exits by itself" % label)
        t.is_(d.proc.returncode, 1, "%s: exit status 1" % label)
        log = d.log_text()
        t.ok(needle in log and d.db in log and "exiting with status 1" in log,
             "%s: the log says the database was %s and names it" % (
                 label, needle.split()[-1]), log[-600:])
        d.stop()
        # The service manager restarts it: it runs on the file as it is.
        d.start()
        t.ok(d.ready(), "%s: restarted, it is ready again" % label)
        t.ok(d.proc.poll() is None, "%s: and keeps running" % label)
    finally:
        d.cleanup()


def delete(db):
    os.unlink(db)


def replace(db):
    shutil.copyfile(db, db + ".new")
    os.replace(db + ".new", db)


scenario("deleted", delete, "was deleted")
scenario("replaced", replace, "was replaced")
t.done()
