#!/usr/bin/env python3
"""Fault: the store's filesystem turns read-only under a running daemon
(issue 13: "the store directory made read-only ... while running").

Linux refuses `mount -o remount,ro` while a file is open for writing, so
this is done the way it happens in production: the database lives on a
small ext4 filesystem (a loop device) mounted `errors=remount-ro`, and
the test makes ext4 report an error (/sys/fs/ext4/DEV/trigger_fs_error,
what a failing disk or a corrupt block does). The kernel then forces the
filesystem read-only under the daemon's open database. What the user
must see:

  - a webhook acknowledged before the failure is on disk (the daemon
    makes an acknowledged DNS-host event durable before it answers 200,
    since the host will never send it again);
  - while read-only: /readyz 503 naming the store's error, the
    store_error problem on the domains, a DNS host's webhook answered
    503 (never 200), and the daemon still answering /healthz and
    /metrics and still checking (it is the disk that failed, not DNS);
  - SIGTERM: it exits, without hanging on the dead filesystem;
  - after fsck and a remount, a restart finds every acknowledged
    rotation and a database that passes integrity_check.

The filesystem is unmounted and its loop device released whatever
happens.
"""
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
SECRET = "fault-ro-%s-Qx9" % os.getpid()
GUARD = 120


def sh(*args):
    return subprocess.run(args, capture_output=True, text=True, timeout=120)


def mount_options(path):
    r = sh("findmnt", "-n", "-o", "OPTIONS", "--target", path)
    return r.stdout.strip().split(",")


d = dc.Daemon(env, [HEALTHY, ROLLED], interval="2s", prefix="fault-ro")
img = os.path.join(d.tmp, "store.ext4")
mnt = os.path.join(d.tmp, "store")
os.mkdir(mnt)
d.db = os.path.join(mnt, "db.sqlite")
d.extra = "hooks:\n  dnsimple:\n    secret: %s\n" % SECRET
mounted = []
signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
try:
    with open(img, "wb") as f:
        f.truncate(16 << 20)
    r = sh("mkfs.ext4", "-q", "-F", img)
    if not t.ok(r.returncode == 0, "mkfs.ext4 on a 16 MB image", r.stderr):
        raise SystemExit(t.done())
    r = sh("mount", "-o", "loop,errors=remount-ro", img, mnt)
    if not t.ok(r.returncode == 0, "the image mounted on a loop device, "
                "errors=remount-ro", r.stderr):
        raise SystemExit(t.done())
    mounted.append(mnt)
    dev = sh("findmnt", "-n", "-o", "SOURCE", mnt).stdout.strip()
    trigger = "/sys/fs/ext4/%s/trigger_fs_error" % os.path.basename(dev)
    t.ok(os.path.exists(trigger), "ext4 offers %s" % trigger)

    # ---- 1. running, a rotation acknowledged
    d.start()
    if not t.ok(dc.ready_or_exit(d, GUARD), "the daemon is ready on ext4"):
        t.diag(d.log_text()[-2000:])
        raise SystemExit(t.done())
    rid1 = "fault-ro-1-%d" % os.getpid()
    status, body = dc.post_start(d, SECRET, HEALTHY, rid1)
    t.is_((status, body.get("result") if isinstance(body, dict) else body),
          (200, "opened"), "a rotation_start before the failure: 200 opened")

    # ---- 2. the filesystem fails and turns read-only under the daemon
    with open(trigger, "w") as f:
        f.write("dnssecmon fault test\n")
    # Kernels before 6.x say "ro"; later ones "emergency_ro".
    opts = mount_options(mnt)
    t.ok("ro" in opts or "emergency_ro" in opts, "the kernel made the "
         "filesystem read-only (%s)" % ",".join(opts))
    down = dc.wait_for(lambda: dc.readyz(d)[0] == 503 and dc.readyz(d),
                       GUARD, what="/readyz 503")
    st, why = down if down else (None, {})
    t.is_(st, 503, "read-only: /readyz 503")
    t.ok(d.db in why.get("store_write_error", "") and "Read-only file "
         "system" in why.get("store_write_error", ""), "read-only: /readyz "
         "names the database and the system's reason", why)
    rid2 = "fault-ro-2-%d" % os.getpid()
    status, body = dc.post_start(d, SECRET, ROLLED, rid2)
    t.is_(status, 503, "read-only: a rotation_start is not acknowledged "
          "(503, the host sends it again)")

    def codes():
        status, api = dc.get_json(d.port, "/api/v1/domains/" + HEALTHY)
        return [p.get("code") for p in (api or {}).get("problems", [])]
    t.ok(dc.wait_for(lambda: "store_error" in codes(), GUARD,
                     what="store_error on " + HEALTHY),
         "read-only: the domain shows the store_error problem", codes())
    n0 = dc.checks_total(d)
    t.ok(dc.wait_for(lambda: dc.checks_total(d) >= n0 + 4, GUARD,
                     what="4 more checks"), "read-only: the daemon keeps "
         "checking, /metrics answers")
    status, _, _ = dc.request(d.port, "GET", "/healthz", timeout=30)
    t.is_(status, 200, "read-only: /healthz answers (alive, not ready)")
    rc = d.stop(timeout=GUARD)
    t.ok(rc is not None, "SIGTERM on a dead filesystem: the daemon exits "
         "(status %s), it does not hang" % rc)

    # ---- 3. repaired: what was acknowledged is there
    r = sh("umount", mnt)
    t.ok(r.returncode == 0, "the failed filesystem unmounts", r.stderr)
    if r.returncode == 0:
        mounted.remove(mnt)
    r = sh("e2fsck", "-f", "-y", img)
    t.ok(r.returncode in (0, 1), "e2fsck repairs the image (exit %d)"
         % r.returncode, r.stdout[-400:])
    r = sh("mount", "-o", "loop", img, mnt)
    t.ok(r.returncode == 0, "the repaired image mounts again", r.stderr)
    if r.returncode == 0:
        mounted.append(mnt)
    d.start()
    t.ok(dc.ready_or_exit(d, GUARD), "restarted on the repaired "
         "filesystem: ready")
    t.is_(d.stop(), 0, "and stops cleanly")
    rots = dc.external_ids(d.db)
    t.ok(rid1 in rots, "after the repair: the rotation acknowledged "
         "before the failure is there", sorted(rots))
    p = subprocess.run(["sqlite3", d.db, "PRAGMA integrity_check"],
                       capture_output=True, text=True, timeout=60)
    t.is_(p.stdout.strip(), "ok", "after the repair: integrity_check ok")
finally:
    d.stop()
    for m in reversed(mounted):
        r = sh("umount", m)
        if r.returncode != 0:
            sh("umount", "-l", m)
    d.cleanup()
sys.exit(t.done())
