#!/usr/bin/env python3
"""`check --format nagios` as Nagios/Icinga run it (monitoring-plugins
development guidelines), against the testbed:

  - line 1 carries the action: "DNSSEC WARNING - rollstart.TLD: add DS
    TAG ..." (with --db: "before TIME (6d ..h left)"), then long output;
  - performance data is well formed, with units, thresholds and min, and
    a label is unique when a domain is given twice;
  - 238 domains stay under Nagios core's 8 KB of plugin output;
  - every error is a "DNSSEC UNKNOWN - ..." line on stdout, exit 3;
  - -t ends the whole check with UNKNOWN; -V; -w/-c; inverted thresholds
    are refused; --rotation-window/--critical-before move the verdict.
"""
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from tap import Tap, testbed_env  # noqa: E402

t = Tap()
BIN = os.environ["DNSSECMON_BIN"]
env = testbed_env()
TLD = env["TESTBED_TLD"]
BASE = ["--trust-anchor", env["TESTBED_ANCHOR"], "--root-hints",
        env["TESTBED_HINTS"], "--resolver", env["TESTBED_RESOLVER"]]
# 'label'=value[UOM];[warn];[crit];[min];[max], trailing empties dropped
PERF = re.compile(r"^'(?:[^']|'')+'=-?[0-9.]+(s|%|B|KB|MB|TB|c)?"
                  r"(;[0-9.:@~-]*){0,4}$")


def nagios(*args):
    p = subprocess.run([BIN, "check", *BASE, "--format", "nagios", *args],
                       capture_output=True, text=True, timeout=300)
    return p


def perf_of(first_line):
    if " | " not in first_line:
        return []
    return re.findall(r"'(?:[^']|'')+'=\S+", first_line.split(" | ", 1)[1])


def new_key_tag(zone):
    with open(os.path.join(env["TESTBED_EXPECT"], zone + ".ds")) as f:
        return f.read().split()[3]


rs = "rollstart." + TLD
p = nagios(rs)
line1 = p.stdout.split("\n")[0]
tag = new_key_tag(rs)
t.is_(p.returncode, 1, "rollstart: exit 1 (WARNING)")
t.ok(line1.startswith("DNSSEC WARNING - %s: add DS %s at the registrar" %
                      (rs, tag)),
     "rollstart: line 1 says which DS to add", line1)
t.ok(line1.count("WARNING") == 1, "line 1 says WARNING once", line1)
perf = perf_of(line1)
t.ok(perf and all(PERF.match(x) for x in perf),
     "performance data is well formed", perf)
t.ok(any(x.startswith("'sig_expiry'=") and x.endswith(";259200:;86400:;0")
         for x in perf),
     "sig_expiry with its unit, thresholds (seconds left: N:) and min", perf)
t.ok("\n  publish %s. IN DS %s " % (rs, tag) in p.stdout,
     "long output: the DS record to publish", p.stdout)

with tempfile.TemporaryDirectory() as tmp:
    db = os.path.join(tmp, "n.db")
    p = nagios("--db", db, rs)
    line1 = p.stdout.split("\n")[0]
    m = re.match(r"DNSSEC WARNING - %s: add DS %s before "
                 r"\d{4}-\d\d-\d\dT\d\d:\d\dZ \(6d \d+h left\) \| " %
                 (re.escape(rs), tag), line1)
    t.ok(m is not None, "--db: line 1 gives the registrar deadline and the "
         "time left", line1)
    dl = [x for x in perf_of(line1) if x.startswith("'registrar_deadline'=")]
    secs = int(re.match(r"'registrar_deadline'=(-?\d+)s", dl[0]).group(1)) \
        if dl else None
    t.ok(secs is not None and 6 * 86400 < secs <= 7 * 86400 and
         dl[0].endswith(";;259200:"),
         "--db: registrar_deadline perfdata in seconds with the critical "
         "threshold", dl)
    # A window so short that the deadline is inside critical_before.
    p = nagios("--db", os.path.join(tmp, "w.db"), "--rotation-window", "3d",
               "--critical-before", "259199", rs)
    t.is_(p.returncode, 2, "--rotation-window 3d --critical-before 3d-1s: "
          "CRITICAL")

# Names from a file and from standard input, with the command line's.
with tempfile.TemporaryDirectory() as tmp:
    lst = os.path.join(tmp, "zones")
    with open(lst, "w") as f:
        f.write("# the zones\nhealthy.%s  rollstart.%s\n\n" % (TLD, TLD))
    p = nagios("-f", lst, "unsigned." + TLD)
    t.ok(p.returncode == 1 and p.stdout.startswith(
        "DNSSEC WARNING - %s: add DS " % rs) and
        "'ok'=2;;;0;3" in p.stdout,
        "-f FILE: its names and the command line's are checked", p.stdout[:300])
    p = subprocess.run([BIN, "check", *BASE, "--format", "nagios", "-f", "-"],
                       input="healthy.%s\n" % TLD, capture_output=True,
                       text=True, timeout=120)
    t.ok(p.returncode == 0 and p.stdout.startswith(
        "DNSSEC OK - healthy.%s: stable" % TLD),
        "-f -: names from standard input", p.stdout[:200])

p = nagios("healthy." + TLD, "healthy." + TLD)
labels = [x.split("=")[0] for x in perf_of(p.stdout.split("\n")[0])]
t.ok(labels and len(labels) == len(set(labels)) and
     "'healthy.%s#2 duration'" % TLD in labels,
     "a domain given twice: unique labels", labels)
t.ok(p.stdout.startswith("DNSSEC OK - 2 domains OK | "), "two OK domains",
     p.stdout)

zones = env["TESTBED_ZONES"].split() * 14
p = nagios(*zones)
line1 = p.stdout.split("\n")[0]
t.is_(p.returncode, 2, "%d domains: CRITICAL" % len(zones))
t.ok(len(p.stdout.encode()) < 8192,
     "%d domains: the output stays under Nagios core's 8 KB (%d bytes)" %
     (len(zones), len(p.stdout.encode())))
t.ok(re.match(r"DNSSEC CRITICAL - \d+ of %d domains need attention: " %
              len(zones), line1) is not None,
     "many domains: line 1 is a summary", line1[:200])
t.ok(re.search(r"\n\(\d+ more domains that need someone are not shown",
               p.stdout) is not None,
     "many domains: the long output says what it left out")
t.ok(all(PERF.match(x) for x in perf_of(line1)),
     "many domains: performance data well formed")

# Errors are the plugin's UNKNOWN line on stdout, whatever the option.
with tempfile.TemporaryDirectory() as tmp:
    p = nagios("--trust-anchor", tmp, "healthy." + TLD)
    t.ok(p.returncode == 3 and p.stdout.startswith(
        "DNSSEC UNKNOWN - --trust-anchor: %s: is a directory" % tmp),
        "a bad trust anchor: UNKNOWN on stdout, exit 3", p.stdout)
p = subprocess.run([BIN, "check", "--sig-warning", "x", "--format", "nagios",
                    "a.example"], capture_output=True, text=True, timeout=30)
t.ok(p.returncode == 3 and p.stdout.startswith("DNSSEC UNKNOWN - "),
     "a bad option before --format nagios: UNKNOWN on stdout", p.stdout)
p = nagios("-w", "1d", "-c", "2d", "healthy." + TLD)
t.ok(p.returncode == 3 and "must be shorter than the warning" in p.stdout,
     "-c longer than -w is refused", p.stdout)
p = nagios("-w", "40d", "-c", "20d", "healthy." + TLD)
t.ok(p.returncode == 1 and "signature_expiring" in p.stdout,
     "-w/-c move the signature thresholds", p.stdout[:300])
p = subprocess.run([BIN, "check", "-V"], capture_output=True, text=True,
                   timeout=30)
t.ok(p.returncode == 0 and re.match(r"dnssecmon \d", p.stdout),
     "-V prints the version", p.stdout)

# -t: root hints that lead nowhere (an address nothing listens on); the
# check ends with UNKNOWN on its own instead of being killed.
with tempfile.TemporaryDirectory() as tmp:
    hints = os.path.join(tmp, "dead.hints")
    dead = env["TESTBED_RESOLVER"].rsplit(".", 1)[0] + ".250"
    with open(hints, "w") as f:
        f.write(". 3600 IN NS a.dead.\na.dead. 3600 IN A %s\n" % dead)
    p = subprocess.run([BIN, "check", "--trust-anchor", env["TESTBED_ANCHOR"],
                        "--root-hints", hints, "--resolver", "none",
                        "--format", "nagios", "--timeout", "2", "-t", "1",
                        "healthy." + TLD], capture_output=True, text=True,
                       timeout=120)
    t.ok(p.returncode == 3 and p.stdout.startswith(
        "DNSSEC UNKNOWN - time limit of 1 s reached with 0 of 1 domains"),
        "-t 1 against a dead root: UNKNOWN with the time limit", p.stdout)

t.done()
