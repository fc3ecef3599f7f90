#!/usr/bin/env python3
"""The status page in a real browser (headless Chromium) against a daemon
over the testbed: domains worst first, the pending rotation's countdown to
its registrar deadline and the DS record to publish, the key timeline, no
external request. The screenshot stays in build/test-logs/VARIANT/ for a
person to look at. Every process started is stopped, by pid."""
import html
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.dirname(__file__))
from tap import Tap  # noqa: E402
import dash_common as dc  # noqa: E402

t = Tap()
env = dc.testbed_env()
TLD = env["TESTBED_TLD"]
ZONES = ["%s.%s" % (z, TLD) for z in (
    "healthy", "rollstart", "broken", "staleds", "expiring", "unsigned",
    "nocdsswap")]
SHOT = os.path.join(dc.LOGDIR, "dash_statuspage.png")
tmp = tempfile.mkdtemp(prefix="dnssecmon-chromium-")
d = dc.Daemon(env, ZONES, interval="8s", prefix="dash-page")


def chromium(*args):
    """Run headless Chromium to the end; (rc, stdout)."""
    cmd = ["chromium", "--headless", "--no-sandbox", "--disable-gpu",
           "--disable-quic", "--no-first-run", "--disable-background-networking",
           "--disable-dev-shm-usage",
           "--disable-component-update", "--disable-sync",
           "--user-data-dir=" + os.path.join(tmp, "profile"), *args]
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                         start_new_session=True)
    try:
        out, _ = p.communicate(timeout=90)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, 9)
        out, _ = p.communicate()
    return p.returncode, out.decode(errors="replace")


def leftovers():
    """Pids of processes still using our profile directory."""
    pids = []
    for e in os.listdir("/proc"):
        if not e.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % e, "rb") as f:
                if tmp.encode() in f.read():
                    pids.append(int(e))
        except OSError:
            pass
    return pids


try:
    d.start()
    t.ok(d.ready(), "the daemon is ready")
    url = "http://127.0.0.1:%d/" % d.port
    _, api = dc.get_json(d.port, "/api/v1/domains/rollstart." + TLD)
    deadline = (api or {}).get("rotation", {}).get("registrar_deadline")
    with open(os.path.join(env["TESTBED_EXPECT"], "rollstart.%s.ds" % TLD)) as f:
        want_ds = f.read().strip()

    rc, dom = chromium("--virtual-time-budget=3000", "--dump-dom", url)
    t.is_(rc, 0, "chromium --dump-dom exits 0")
    t.ok("<h1>dnssecmon</h1>" in dom, "the page rendered in Chromium")
    cards = re.findall(r'<article class="card (\w+)" id="d-([^"]+)"', dom)
    t.ok(cards and cards[0] == ("critical", "broken." + TLD),
         "the critical domain comes first", cards)
    sev_rank = {"critical": 0, "unknown": 1, "warning": 2, "ok": 3}
    t.is_([sev_rank[c[0]] for c in cards], sorted(sev_rank[c[0]] for c in cards),
          "cards worst first")
    top = dom[:dom.find("<article")]
    m = re.search(r'Registrar deadlines \(1\).*?href="#d-rollstart\.%s".*?'
                  r'data-deadline="\d+">(\d+d \d+h \d+m \d\ds left)<.*?'
                  r'value="([^"]+)"' % TLD, top, re.S)
    t.ok(m is not None and html.unescape(m.group(2)) == want_ds,
         "above the cards: rollstart's deadline, countdown and DS record",
         m.groups() if m else top[-1500:])
    card = dom[dom.find('id="d-rollstart.%s"' % TLD):]
    card = card[:card.find("</article>")]
    m = re.search(r'<span class="countdown" data-deadline="(\d+)">([^<]+)</span>', card)
    t.ok(m is not None, "rollstart: a countdown to the registrar deadline")
    if m:
        t.ok(re.fullmatch(r"6d \d+h \d+m \d\ds left", m.group(2)) is not None,
             "rollstart: the countdown reads '6d ..h ..m ..s left' (%s)" % m.group(2))
        t.is_(time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(m.group(1)))),
              deadline, "rollstart: counting down to the API's registrar deadline")
    m = re.search(r'<input readonly[^>]*value="([^"]+)"', card)
    t.is_(html.unescape(m.group(1)) if m else None, want_ds,
          "rollstart: the DS record to publish, in a copyable field")
    t.ok("data-copy" in card, "rollstart: with a copy button")
    t.ok("only if this key is the new one" not in card,
         "rollstart (CDS): the DS to publish is not conditional")
    card = dom[dom.find('id="d-nocdsswap.%s"' % TLD):]
    card = card[:card.find("</article>")]
    t.ok("only if this key is the new one" in card and
         'class="countdown"' not in card,
         "nocdsswap (no CDS, first seen): the DS is conditional, no countdown",
         card[:1500])
    t.ok("Key timeline" in card and card.count('class="bar key') >= 3,
         "rollstart: the key timeline shows its three keys")
    t.ok(re.search(r'<td class="sev ok">ok</td>', dom) is not None and
         "healthy." + TLD in dom, "the healthy domains are in the table")
    t.ok(not re.search(r'(src|href)="https?://', dom),
         "no external asset is referenced")

    os.makedirs(dc.LOGDIR, exist_ok=True)
    if os.path.exists(SHOT):
        os.unlink(SHOT)
    rc, _ = chromium("--virtual-time-budget=3000", "--hide-scrollbars",
                     "--window-size=1280,1000", "--screenshot=" + SHOT, url)
    with open(SHOT, "rb") as f:
        png = f.read() if rc == 0 else b""
    t.ok(png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 20000,
         "screenshot kept: %s (%d bytes)" % (os.path.relpath(SHOT, dc.TOP), len(png)))

    # Chromium's own children (zygote, renderer, GPU) outlive its main
    # process by a moment, longer on a loaded machine: wait for them to go.
    dc.wait_for(lambda: not leftovers(), 60, what="Chromium's processes "
                "to exit")
    left = leftovers()
    t.is_(left, [], "no Chromium process left behind")
    for pid in left:
        try:
            os.kill(pid, 9)
        except OSError:
            pass
    t.is_(d.stop(), 0, "the daemon stops with exit 0")
finally:
    d.cleanup()
    shutil.rmtree(tmp, ignore_errors=True)
sys.exit(t.done())
