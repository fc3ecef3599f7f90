#!/usr/bin/env python3
"""The shipped Icinga 2 CheckCommand and Nagios command, in the real tools.

  - `icinga2 daemon -C` accepts etc/icinga2/dnssecmon.conf, and a running
    icinga2 executes the CheckCommand against the testbed: its perfdata
    writer records the plugin's state, first line and parsed performance
    data, which this test reads back;
  - `nagios4 -v` accepts etc/nagios/dnssecmon.cfg (and refuses a service
    whose command it does not define, so the check is a real one).
"""
import glob
import os
import shutil
import signal
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from tap import Tap, testbed_env, wait_for  # noqa: E402

t = Tap()
BIN = os.environ["DNSSECMON_BIN"]
TOP = os.environ["DNSSECMON_TOP"]
env = testbed_env()
TLD = env["TESTBED_TLD"]
ZONE = "rollstart." + TLD
tmp = tempfile.mkdtemp(prefix="dnssecmon-noc-")
procs = []


def icinga_conf(d):
    return """include <itl>
include "%(top)s/etc/icinga2/dnssecmon.conf"
object CheckerComponent "checker" { }
object PerfdataWriter "perfdata" {
  service_perfdata_path = "%(d)s/perf/service"
  host_perfdata_path = "%(d)s/perf/host"
  service_temp_path = "%(d)s/perf/service.tmp"
  host_temp_path = "%(d)s/perf/host.tmp"
  service_format_template = "SERVICE\\t$service.name$\\t$service.state$\\t$service.perfdata$\\t$service.output$"
  rotation_interval = 1s
}
object Host "testbed" {
  check_command = "dummy"
  vars.dummy_state = 0
  check_interval = 1h
}
object Service "rollstart" {
  host_name = "testbed"
  check_command = "dnssecmon"
  check_interval = 2s
  retry_interval = 2s
  vars.dnssecmon_binary = "%(bin)s"
  vars.dnssecmon_trust_anchor = "%(anchor)s"
  vars.dnssecmon_root_hints = "%(hints)s"
  vars.dnssecmon_resolvers = [ "%(resolver)s" ]
  vars.dnssecmon_db = "%(d)s/icinga.db"
  vars.dnssecmon_domains = [ "%(zone)s" ]
}
""" % {"top": TOP, "d": d, "bin": BIN, "anchor": env["TESTBED_ANCHOR"],
       "hints": env["TESTBED_HINTS"], "resolver": env["TESTBED_RESOLVER"],
       "zone": ZONE}


def icinga_defs(d):
    return ["-DInitRunDir=%s/run" % d, "-DCacheDir=%s/cache" % d,
            "-DLogDir=%s/log" % d, "-DDataDir=%s/data" % d,
            "-DSpoolDir=%s/spool" % d, "-DZonesDir=%s/zones" % d,
            "-DRunAsUser=root", "-DRunAsGroup=root"]


def perf_lines(d):
    out = []
    for f in sorted(glob.glob(os.path.join(d, "perf", "service.*"))):
        if f.endswith(".tmp"):
            continue
        with open(f) as fh:
            out += [line.rstrip("\n").split("\t") for line in fh
                    if line.startswith("SERVICE\trollstart\t")]
    return out


try:
    # --- Icinga 2
    d = os.path.join(tmp, "icinga2")
    for sub in ("run/icinga2", "cache", "log", "data", "spool", "perf"):
        os.makedirs(os.path.join(d, sub))
    conf = os.path.join(d, "icinga2.conf")
    with open(conf, "w") as f:
        f.write(icinga_conf(d))
    p = subprocess.run(["icinga2", "daemon", "-C", "-c", conf,
                        *icinga_defs(d)], capture_output=True, text=True,
                       timeout=120)
    t.is_(p.returncode, 0, "icinga2 daemon -C accepts the CheckCommand")
    if p.returncode != 0:
        t.diag(p.stdout[-1500:] + p.stderr[-1500:])
    ic = subprocess.Popen(["icinga2", "daemon", "-c", conf, *icinga_defs(d)],
                          stdout=open(os.path.join(d, "daemon.log"), "w"),
                          stderr=subprocess.STDOUT, start_new_session=True)
    procs.append(ic)
    got = wait_for(lambda: [x for x in perf_lines(d) if len(x) >= 5
                            and x[4].startswith("DNSSEC ")], timeout=180,
                   what="icinga2 to record a dnssecmon check result")
    # The output has the long output after its first line: the record's
    # first line is name, state, perfdata and the plugin's first line.
    row = got[-1] if got else ["", "", "", "", ""]
    t.is_(row[2], "WARNING", "icinga2: the service state is WARNING")
    t.ok(row[4].startswith("DNSSEC WARNING - %s: add DS " % ZONE) and
         " before " in row[4] and " left)" in row[4],
         "icinga2: the plugin output, with the registrar deadline", row[4])
    t.ok("registrar_deadline=" in row[3] and "sig_expiry=" in row[3] and
         "s;259200:;86400:;0" in row[3],
         "icinga2: parsed the performance data with units and thresholds",
         row[3])

    # --- Nagios 4
    n = os.path.join(tmp, "nagios")
    os.makedirs(os.path.join(n, "results"))
    shutil.copy(os.path.join(TOP, "etc/nagios/dnssecmon.cfg"), n)
    with open(os.path.join(n, "objects.cfg"), "w") as f:
        f.write("""define timeperiod {
    timeperiod_name always
    alias           always
    sunday          00:00-24:00
    monday          00:00-24:00
    tuesday         00:00-24:00
    wednesday       00:00-24:00
    thursday        00:00-24:00
    friday          00:00-24:00
    saturday        00:00-24:00
}
define command {
    command_name    notify-none
    command_line    /bin/true
}
define contact {
    contact_name                    noc
    host_notification_period        always
    service_notification_period     always
    host_notification_options       n
    service_notification_options    n
    host_notification_commands      notify-none
    service_notification_commands   notify-none
}
define host {
    host_name               testbed
    address                 127.0.0.1
    max_check_attempts      1
    check_period            always
    contacts                noc
    notification_period     always
}
define service {
    host_name               testbed
    service_description     DNSSEC %s
    check_command           CHECK!%s!--resolver %s
    max_check_attempts      1
    check_interval          5
    retry_interval          1
    check_period            always
    contacts                noc
    notification_period     always
}
""" % (ZONE, ZONE, env["TESTBED_RESOLVER"]))

    def nagios_v(command):
        with open(os.path.join(n, "objects.cfg")) as f:
            text = f.read()
        with open(os.path.join(n, "objects-now.cfg"), "w") as f:
            f.write(text.replace("CHECK!", command + "!"))
        with open(os.path.join(n, "nagios.cfg"), "w") as f:
            f.write("cfg_file=%s/dnssecmon.cfg\ncfg_file=%s/objects-now.cfg\n"
                    "check_result_path=%s/results\nlock_file=%s/nagios.lock\n"
                    "nagios_user=root\nnagios_group=root\n"
                    "illegal_macro_output_chars=`~$&|'\"<>\n" % (n, n, n, n))
        return subprocess.run(["nagios4", "-v", os.path.join(n, "nagios.cfg")],
                              capture_output=True, text=True, timeout=120)

    p = nagios_v("check_dnssecmon")
    t.ok(p.returncode == 0 and "Total Errors:   0" in p.stdout and
         "Total Warnings: 0" in p.stdout,
         "nagios4 -v accepts the shipped command definition",
         p.stdout[-800:])
    p = nagios_v("check_dnssecmon_typo")
    t.ok(p.returncode != 0 and "not defined anywhere" in p.stdout,
         "nagios4 -v refuses a service whose command is not defined")
finally:
    for pr in procs:
        if pr.poll() is None:
            os.killpg(pr.pid, signal.SIGTERM)
            try:
                pr.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(pr.pid, signal.SIGKILL)
                pr.wait()
    if not os.environ.get("KEEP"):
        shutil.rmtree(tmp, ignore_errors=True)

t.done()
