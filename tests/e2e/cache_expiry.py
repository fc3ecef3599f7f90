#!/usr/bin/env python3
"""The engine's shared cache expiring under jobs in flight.

Zone cuts ("lab. is delegated to these servers") and name-server addresses
are shared by every domain in flight and expire after an hour. A job keeps
pointing at the cut it walks through; when a parent server times out, its
retry reads that cut again, possibly after another job found the entry
expired. The entry used to be freed there: a use-after-free about once an
hour in production. DNSSECMON_CACHE_TTL=1 makes the hour a second; one TLD
server paused makes every retry come after a timeout. Under the sanitizer
build (make SANITIZE=1 test) any use after free aborts the daemon.

Asserts: the daemon keeps checking through it, every domain gets a
verdict, nothing in the log from ASan or UBSan, and a clean exit.
"""
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.dirname(__file__))
from tap import Tap  # noqa: E402
import dash_common as dc  # noqa: E402

t = Tap()
env = dc.testbed_env()
ZONES = env["TESTBED_ZONES"].split()


def tb(*args):
    return subprocess.run([dc.TB, *args], capture_output=True, text=True,
                          timeout=120).returncode == 0


def checks_total(d):
    try:
        status, _, body = dc.request(d.port, "GET", "/metrics", timeout=5)
    except OSError:
        return 0
    m = re.search(r"^dnssecmon_checks_total (\d+)", body.decode(), re.M)
    return int(m.group(1)) if status == 200 and m else 0


d = dc.Daemon(env, ZONES, interval="1s", prefix="cache")
paused = False
try:
    paused = tb("pause", "tld2")
    t.ok(paused, "the second TLD server is paused: parent retries after "
         "timeouts")
    d.start(wrapper=("env", "DNSSECMON_CACHE_TTL=1"))
    want = 6 * len(ZONES)
    t.ok(dc.wait_for(lambda: d.proc.poll() is not None or
                     checks_total(d) >= want, 300,
                     what="%d checks" % want) and d.proc.poll() is None,
         "%d checks with the cache expiring every second, the daemon "
         "still running" % want)
    if paused:
        paused = not tb("resume", "tld2")
    status, api = dc.get_json(d.port, "/api/v1/domains") if \
        d.proc.poll() is None else (None, None)
    doms = (api or {}).get("domains", [])
    t.is_(sorted(x["domain"] for x in doms), sorted(ZONES),
          "every domain is in the API")
    t.ok(doms and all(x.get("checked_at") for x in doms),
         "every domain was checked")
finally:
    if paused:
        tb("resume", "tld2")
    rc = d.stop()
    log = d.log_text() if os.path.exists(d.log) else ""
    t.is_(rc, 0, "SIGTERM: a clean exit")
    bad = [ln for ln in log.split("\n") if "AddressSanitizer" in ln or
           "runtime error:" in ln or "LeakSanitizer" in ln]
    if not t.ok(not bad, "no sanitizer report in the daemon's log",
                bad[:5]):
        i = max(0, log.find("Sanitizer") - 200)
        t.diag(log[i:i + 4000])
    d.cleanup()

t.done()
