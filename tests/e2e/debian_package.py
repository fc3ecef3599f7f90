#!/usr/bin/env python3
"""The Debian package, built, linted, installed and run.

  - `dpkg-buildpackage -us -uc -b` builds a .deb from a copy of the tree
    (never in place: dh_auto_clean would wipe the suite's own build/);
  - it holds the binary in /usr/bin, both man pages, the unit in
    /usr/lib/systemd/system with /usr/bin in it, the sysusers.d entry, and
    /etc/dnssecmon/dnssecmon.yaml as a conffile;
  - lintian finds no error and no warning (overrides say why);
  - installed: the dnssecmon user exists, the configuration is 0640
    root:dnssecmon, that user can read it and another cannot,
    `systemd-analyze verify` accepts the installed unit (and refuses a
    broken one), and /usr/bin/dnssecmon checks the testbed;
  - purged: the binary is gone.
"""
import fcntl
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from tap import Tap, testbed_env  # noqa: E402

t = Tap()
TOP = os.environ["DNSSECMON_TOP"]
env = testbed_env()
TLD = env["TESTBED_TLD"]
tmp = tempfile.mkdtemp(prefix="dnssecmon-deb-")
installed = False


def run(*cmd, **kw):
    kw.setdefault("timeout", 900)
    return subprocess.run(list(cmd), capture_output=True, text=True, **kw)


try:
    # A copy of the tree as git sees it (tracked and new files).
    src = os.path.join(tmp, "src")
    os.makedirs(src)
    files = run("git", "ls-files", "-co", "--exclude-standard",
                cwd=TOP).stdout.split("\n")
    files = [f for f in files if f and f != "dnssecmon" and
             os.path.isfile(os.path.join(TOP, f))]
    for f in files:
        os.makedirs(os.path.dirname(os.path.join(src, f)) or src,
                    exist_ok=True)
        shutil.copy2(os.path.join(TOP, f), os.path.join(src, f))
    # The package is built as a user would: not with the make flags of
    # the suite that runs this test (make SANITIZE=1 test passes
    # SANITIZE=1 down through MAKEFLAGS).
    e = {k: v for k, v in os.environ.items() if k not in (
        "MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES", "SANITIZE",
        "CC", "CFLAGS", "LDFLAGS", "LSAN_OPTIONS", "ASAN_OPTIONS")}
    e["DEB_BUILD_OPTIONS"] = "nocheck parallel=2"
    p = run("dpkg-buildpackage", "-us", "-uc", "-b", cwd=src, env=e)
    deb = os.path.join(tmp, "dnssecmon_0.1.0_amd64.deb")
    t.ok(p.returncode == 0 and os.path.exists(deb),
         "dpkg-buildpackage -us -uc -b builds the .deb",
         (p.stdout + p.stderr)[-1500:])
    if not os.path.exists(deb):
        raise SystemExit(t.done())

    listing = run("dpkg-deb", "-c", deb).stdout
    for path in ("./usr/bin/dnssecmon", "./usr/share/man/man8/dnssecmon.8.gz",
                 "./usr/share/man/man5/dnssecmon.conf.5.gz",
                 "./usr/lib/systemd/system/dnssecmon.service",
                 "./usr/lib/sysusers.d/dnssecmon.conf",
                 "./etc/dnssecmon/dnssecmon.yaml"):
        t.ok(" " + path + "\n" in listing, "the package holds %s" % path)
    t.ok(re.search(r"^drwxr-x--- root/root .* \./etc/dnssecmon/conf\.d/$",
                   listing, re.M),
         "the package holds /etc/dnssecmon/conf.d/, 0750")
    conffiles = run("dpkg-deb", "-I", deb, "conffiles").stdout.split()
    t.is_(conffiles, ["/etc/dnssecmon/dnssecmon.yaml"],
          "the configuration is a conffile")
    p = run("lintian", "--fail-on", "error,warning",
            os.path.join(tmp, "dnssecmon_0.1.0_amd64.changes"))
    t.ok(p.returncode == 0 and "\nE: " not in "\n" + p.stdout and
         "\nW: " not in "\n" + p.stdout,
         "lintian: no error, no warning", p.stdout[-1500:])

    # The package is the machine's, not this suite's: another suite
    # running at once (.ci/run runs two) must not install or purge it
    # under us, and tests/cli/run_config.sh looks at its configuration
    # file under the same lock (shared). Released when we exit, after
    # the purge below.
    lock = open("/run/lock/dnssecmon-package.lock", "a+")
    fcntl.flock(lock, fcntl.LOCK_EX)
    p = run("dpkg", "-i", deb)
    installed = p.returncode == 0
    t.ok(installed, "dpkg -i installs it", (p.stdout + p.stderr)[-800:])
    t.ok(run("getent", "passwd", "dnssecmon").returncode == 0,
         "postinst created the dnssecmon system user")
    st = os.stat("/etc/dnssecmon/dnssecmon.yaml")
    grp = run("getent", "group", str(st.st_gid)).stdout.split(":")[0]
    t.ok(stat.S_IMODE(st.st_mode) == 0o640 and st.st_uid == 0 and
         grp == "dnssecmon",
         "the configuration is 0640 root:dnssecmon (%o, group %s)" %
         (stat.S_IMODE(st.st_mode), grp))
    st = os.stat("/etc/dnssecmon/conf.d")
    grp = run("getent", "group", str(st.st_gid)).stdout.split(":")[0]
    t.ok(stat.S_IMODE(st.st_mode) == 0o750 and st.st_uid == 0 and
         grp == "dnssecmon",
         "the drop-in directory is 0750 root:dnssecmon (%o, group %s)" %
         (stat.S_IMODE(st.st_mode), grp))
    with open("/usr/lib/systemd/system/dnssecmon.service") as f:
        unit = f.read()
    t.ok("ExecStart=/usr/bin/dnssecmon run -c /etc/dnssecmon/dnssecmon.yaml"
         in unit and "User=dnssecmon" in unit and "@BINDIR@" not in unit and
         "@SYSCONFDIR@" not in unit,
         "the installed unit names /usr/bin, the configuration and the user")
    p = run("systemd-analyze", "verify",
            "/usr/lib/systemd/system/dnssecmon.service")
    t.ok(p.returncode == 0 and "dnssecmon.service" not in p.stderr,
         "systemd-analyze verify: the installed unit is clean", p.stderr)
    bad = os.path.join(tmp, "dnssecmon.service")
    with open(bad, "w") as f:
        f.write(unit.replace("/usr/bin/dnssecmon", "/nonexistent/dnssecmon"))
    p = run("systemd-analyze", "verify", bad)
    t.ok(p.returncode != 0 and "nonexistent" in p.stderr,
         "systemd-analyze verify refuses a unit whose binary is missing")

    # The service's user reads its configuration; nobody else does.
    state = os.path.join(tmp, "state")
    os.makedirs(state)
    shutil.chown(state, "dnssecmon", "dnssecmon")
    conf = os.path.join(tmp, "user.yaml")
    with open("/etc/dnssecmon/dnssecmon.yaml") as f:
        text = f.read().replace("/var/lib/dnssecmon/dnssecmon.db",
                                state + "/db.sqlite")
    os.chmod(tmp, 0o755)
    with open(conf, "w") as f:
        f.write(text)
    shutil.chown(conf, "root", "dnssecmon")
    os.chmod(conf, 0o640)
    p = run("runuser", "-u", "dnssecmon", "--", "/usr/bin/dnssecmon", "run",
            "-n", "-c", conf)
    t.ok(p.returncode == 0, "as dnssecmon, run -n reads a 0640 "
         "root:dnssecmon configuration", p.stdout + p.stderr)
    # A drop-in in the shipped conf.d, as an administrator writes it
    # (0644 by umask): the service's user reads it through the 0750
    # directory, and run -n -v says where its domain comes from.
    dropin = "/etc/dnssecmon/conf.d/50-test.yaml"
    with open(dropin, "w") as f:
        f.write("domains: [dropin.example]\n")
    os.chmod(dropin, 0o644)
    p = run("runuser", "-u", "dnssecmon", "--", "/usr/bin/dnssecmon", "run",
            "-n", "-v", "-c", conf)
    os.unlink(dropin)
    t.ok(p.returncode == 0 and "domain dropin.example %s:1" % dropin in
         p.stdout, "as dnssecmon, a drop-in in /etc/dnssecmon/conf.d is "
         "read", p.stdout + p.stderr)
    p = run("runuser", "-u", "nobody", "--", "/usr/bin/dnssecmon", "run",
            "-n", "-c", conf)
    t.ok(p.returncode != 0 and "Permission denied" in p.stderr,
         "as nobody it cannot", p.stderr)

    p = run("/usr/bin/dnssecmon", "check", "--trust-anchor",
            env["TESTBED_ANCHOR"], "--root-hints", env["TESTBED_HINTS"],
            "--resolver", env["TESTBED_RESOLVER"], "--format", "nagios",
            "healthy." + TLD, timeout=120)
    t.ok(p.returncode == 0 and p.stdout.startswith(
        "DNSSEC OK - healthy.%s: stable" % TLD),
        "the installed binary checks the testbed", p.stdout + p.stderr)
finally:
    if installed:
        p = run("dpkg", "--purge", "dnssecmon")
        t.ok(p.returncode == 0 and not os.path.exists("/usr/bin/dnssecmon"),
             "dpkg --purge removes it", p.stderr[-500:])
    shutil.rmtree(tmp, ignore_errors=True)

t.done()
