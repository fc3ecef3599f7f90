#!/usr/bin/env python3
"""The status page as a NOC wall screen, in a real headless Chromium at
1920x1080, with 1,000 monitored domains: a daemon over every testbed
scenario zone plus generated names under the testbed TLD (not delegated:
each is one cheap critical check, so 1,000 are ready in seconds).

Chromium is driven over its DevTools protocol on a pipe
(--remote-debugging-pipe: no port, no websocket library), which lets the
test read the laid-out page:

  1. 20 needing-attention cards lie wholly inside the 1920x1080
     viewport, and so would any 20 of the cards drawn (the tallest card
     times the rows 20 cards take still fits below the cards' top);
  2. no text overflows its box anywhere in a card, the deadline table or
     the header, and no word is broken (no hyphenation, no break-anywhere
     except in a domain name);
  3. times are relative ("signatures expire in 29d 23h", "checked 5s
     ago"), the deadline counts down;
  4. no full-page reload: a mark set in the page survives while the
     script re-reads /api/v1/domains (the "updated" time moves on, the
     counts match the API).
The screenshot stays in build/test-logs/VARIANT/dash_wall.png. Every
process started is stopped, by pid."""
import base64
import json
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
TOTAL = 1000
SCEN = sorted(f[:-len(".verdict")] for f in os.listdir(env["TESTBED_EXPECT"])
              if f.endswith(".verdict"))
# zz-: after the scenario zones among equals, so that the first cards
# are the scenario zones' (the largest ones) and the generated ones fill
# up the rest.
GEN = ["zz-wall-%04d.%s" % (i, TLD) for i in range(TOTAL - len(SCEN))]
SHOT = os.path.join(dc.LOGDIR, "dash_wall.png")
W, H = 1920, 1080
tmp = tempfile.mkdtemp(prefix="dnssecmon-wall-")
# interval 6s: first checks are spread over the interval, and readiness
# waits for all 1,000 of them (20 s cost as long for nothing).
d = dc.Daemon(env, SCEN + GEN, interval="6s", extra="  refresh: 5s\n",
              prefix="dash-wall")


class Chromium:
    """Headless Chromium with the DevTools protocol on fds 3 and 4."""

    def __init__(self):
        to_c, self.w = os.pipe()      # Chromium reads fd 3
        self.r, from_c = os.pipe()    # Chromium writes fd 4

        def fds():
            os.dup2(to_c, 3)
            os.dup2(from_c, 4)
        self.p = subprocess.Popen(
            ["chromium", "--headless", "--no-sandbox", "--disable-gpu",
             "--remote-debugging-pipe", "--no-first-run",
             "--disable-background-networking", "--disable-dev-shm-usage",
             "--disable-component-update", "--disable-sync",
             "--hide-scrollbars", "--user-data-dir=" +
             os.path.join(tmp, "profile"), "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            preexec_fn=fds, close_fds=False, start_new_session=True)
        os.close(to_c)
        os.close(from_c)
        self.buf = b""
        self.id = 0
        self.events = []
        self.session = None

    def _read(self, deadline):
        while b"\0" not in self.buf:
            if time.time() > deadline:
                raise TimeoutError("no answer from Chromium")
            chunk = os.read(self.r, 1 << 16)
            if not chunk:
                raise EOFError("Chromium closed its pipe")
            self.buf += chunk
        msg, self.buf = self.buf.split(b"\0", 1)
        return json.loads(msg)

    def call(self, method, timeout=60, **params):
        self.id += 1
        m = {"id": self.id, "method": method, "params": params}
        if self.session and not method.startswith("Target."):
            m["sessionId"] = self.session
        os.write(self.w, json.dumps(m).encode() + b"\0")
        deadline = time.time() + timeout
        while True:
            r = self._read(deadline)
            if r.get("id") == self.id:
                if "error" in r:
                    raise RuntimeError("%s: %s" % (method, r["error"]))
                return r.get("result", {})
            self.events.append(r)

    def wait_event(self, name, timeout=60):
        deadline = time.time() + timeout
        while True:
            for i, e in enumerate(self.events):
                if e.get("method") == name:
                    return self.events.pop(i)
            self.events.append(self._read(deadline))

    def eval(self, expr):
        r = self.call("Runtime.evaluate", expression=expr,
                      returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in r:
            raise RuntimeError(json.dumps(r["exceptionDetails"])[:500])
        return r["result"].get("value")

    def open(self, url):
        tid = self.call("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.call("Target.attachToTarget", targetId=tid,
                                 flatten=True)["sessionId"]
        self.call("Emulation.setDeviceMetricsOverride", width=W, height=H,
                  deviceScaleFactor=1, mobile=False)
        self.call("Page.enable")
        self.call("Page.navigate", url=url)
        self.wait_event("Page.loadEventFired", timeout=90)

    def close(self):
        try:
            self.call("Browser.close", timeout=10)
        except (OSError, RuntimeError, TimeoutError, EOFError, ValueError):
            pass
        try:
            self.p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.p.pid, 9)
            self.p.wait()
        os.close(self.w)
        os.close(self.r)


# What the page looks like from inside: every card's box, and every
# element whose text does not fit its box. An <input> counts too: a DS
# record cut at the field's edge is cut text.
GEOMETRY = r"""
(function(){
function box(e){var r=e.getBoundingClientRect();
 return {top:r.top,left:r.left,bottom:r.bottom,right:r.right,
  width:r.width,height:r.height}}
var cards=[].slice.call(document.querySelectorAll('#need .card'));
var grid=document.querySelector('#need .cards');
var cols=getComputedStyle(grid).gridTemplateColumns.split(' ').length;
var over=[];
var scope=cards.concat([].slice.call(document.querySelectorAll(
 'header, #deadlines')));
scope.forEach(function(c){
 [c].concat([].slice.call(c.querySelectorAll('*'))).forEach(function(e){
  if(e.closest('details:not([open])')&&e.tagName!=='SUMMARY'&&
     e.tagName!=='DETAILS')return;
  if(e.offsetParent===null&&e.tagName!=='BODY')return;
  var s=getComputedStyle(e);
  if(e.scrollWidth>e.clientWidth+1&&s.overflowX!=='visible'||
     e.tagName==='INPUT'&&e.scrollWidth>e.clientWidth+1)
   over.push(e.tagName+'.'+e.className+': '+(e.value||e.textContent).slice(0,80));
  var cb=c.getBoundingClientRect(),r=e.getBoundingClientRect();
  if(r.width>0&&(r.right>cb.right+1||r.left<cb.left-1))
   over.push('outside its card: '+e.tagName+'.'+e.className+': '+
    (e.value||e.textContent).slice(0,80));
  if(e.children.length===0&&e.tagName!=='INPUT'&&
     (s.hyphens==='auto'||s.wordBreak==='break-all'||
      (s.overflowWrap==='anywhere'&&!e.classList.contains('name'))))
   over.push('may break a word: '+e.tagName+'.'+e.className);
 });
 // Nothing drawn over anything else on a card's face.
 var parts=[].slice.call(c.querySelectorAll(
  '.badge,.name,.tag,.facts,.dsline,ul.codes li,summary')),rs=[];
 parts.forEach(function(e){[].slice.call(e.getClientRects()).forEach(
  function(r){if(r.width>0&&r.height>0)rs.push([e,r])})});
 for(var i=0;i<rs.length;i++)for(var j=i+1;j<rs.length;j++){
  var a=rs[i][1],b=rs[j][1];
  if(rs[i][0].contains(rs[j][0])||rs[j][0].contains(rs[i][0]))continue;
  if(a.left<b.right-1&&b.left<a.right-1&&a.top<b.bottom-1&&b.top<a.bottom-1)
   over.push('overlap in '+c.id+': '+rs[i][0].className+'/'+
    rs[j][0].tagName+'.'+rs[j][0].className);
 }
});
return {cols:cols, gridTop:grid.getBoundingClientRect().top,
 gap:parseFloat(getComputedStyle(grid).rowGap)||0,
 cards:cards.map(function(c){var b=box(c);b.id=c.id;
  b.sev=c.className.replace('card ','');return b}),
 over:over.slice(0,20),
 vw:window.innerWidth, vh:window.innerHeight,
 cardText:cards.map(function(c){return c.id+'|'+c.querySelector('.facts').textContent}),
 tableRows:document.querySelectorAll('#all > tbody > tr').length,
 counts:[].slice.call(document.querySelectorAll('.counts span')).map(
  function(e){return e.textContent}),
 updated:document.getElementById('updated').textContent,
 h2:document.querySelector('#need h2').textContent};
})()
"""


def leftovers():
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


c = None
try:
    t.is_(len(SCEN + GEN), TOTAL, "%d domains monitored (%d testbed "
          "scenario zones)" % (TOTAL, len(SCEN)))
    d.start()
    t.ok(d.ready(300), "the daemon is ready: all %d domains checked" % TOTAL)
    _, api = dc.get_json(d.port, "/api/v1/domains")
    doms = api["domains"]
    need_api = [x["domain"] for x in doms if x["severity"] != "ok" or
                x["ds_to_publish"] or x["ds_to_remove"] or
                (x["rotation"] or {}).get("seconds_left") is not None]
    t.ok(len(need_api) >= 20, "the API has %d domains that need someone"
         % len(need_api))
    t.is_({x.get("critical_before") for x in doms}, {259200},
          "the API gives each domain's critical_before (the page's 'near')")

    c = Chromium()
    c.open("http://127.0.0.1:%d/" % d.port)
    g = c.eval(GEOMETRY)
    t.is_((g["vw"], g["vh"]), (W, H), "the viewport is 1920x1080")
    cards = g["cards"]
    t.ok(len(cards) >= 20, "%d cards drawn (%s)" % (len(cards), g["h2"]))
    first = cards[:20]
    outside = [x["id"] for x in first if x["top"] < 0 or x["left"] < 0 or
               x["bottom"] > H or x["right"] > W]
    t.is_(outside, [], "the first 20 cards are wholly inside 1920x1080 "
          "(last one's bottom at %.0f px)" % (first[-1]["bottom"] if first
                                                else -1))
    tallest = max(cards, key=lambda x: x["height"])
    rows = -(-20 // g["cols"])
    need_h = g["gridTop"] + rows * tallest["height"] + (rows - 1) * g["gap"]
    t.ok(need_h <= H, "any 20 cards fit: %d columns, %d rows of the tallest "
         "card (%s, %.0f px) end at %.0f px" % (
             g["cols"], rows, tallest["id"], tallest["height"], need_h))
    t.is_(g["over"], [], "no text overflows or is cut, no word broken")
    t.is_(g["tableRows"], TOTAL, "every domain has a row in the table")
    sev_rank = {"critical": 0, "unknown": 1, "warning": 2, "ok": 3}
    t.is_([sev_rank[x["sev"]] for x in cards],
          sorted(sev_rank[x["sev"]] for x in cards), "cards worst first")

    facts = dict(x.split("|", 1) for x in g["cardText"])
    br = facts.get("d-broken." + TLD, "")
    t.ok(re.fullmatch(r"signatures expire in \d+d \d+h \xb7 checked "
                      r"\d+(s|m) ago", br.strip()),
         "broken's card: 'signatures expire in ..d ..h' and 'checked .. ago'",
         br)
    ex = facts.get("d-expired." + TLD, "")
    t.ok(re.search(r"signatures expired \d+d \d+h ago", ex),
         "expired's card: 'signatures expired ..d ..h ago'", ex)
    rs = c.eval("document.querySelector('#deadlines a[href=\"#d-rollstart.%s\"]')"
                ".closest('tr').cells[1].textContent" % TLD)
    t.ok(re.fullmatch(r"6d \d+h \d+m \d\ds left", rs or ""),
         "rollstart's deadline counts down in the table above the cards", rs)
    t.ok(not re.search(r"\d{4}-\d\d-\d\dT", " ".join(facts.values())),
         "no absolute timestamp on a card's face")

    os.makedirs(dc.LOGDIR, exist_ok=True)
    png = base64.b64decode(c.call("Page.captureScreenshot",
                                  format="png")["data"])
    with open(SHOT, "wb") as f:
        f.write(png)
    t.ok(png[:8] == b"\x89PNG\r\n\x1a\n" and
         png[16:24] == W.to_bytes(4, "big") + H.to_bytes(4, "big"),
         "screenshot 1920x1080 kept: %s (%d bytes)" % (
             os.path.relpath(SHOT, dc.TOP), len(png)))

    # 4. No full-page reload: a mark in the page survives updates.
    c.eval("window.__wallMark = 42")
    before = g["updated"]
    t.ok(dc.wait_for(lambda: c.eval(
        "document.getElementById('updated').textContent") != before, 60),
        "the page updated itself from the JSON API (was %s)" % before)
    t.is_(c.eval("window.__wallMark"), 42,
          "no full-page reload: the page's state survived the update")
    g2 = c.eval(GEOMETRY)
    _, api = dc.get_json(d.port, "/api/v1/domains")
    n = {}
    for x in api["domains"]:
        n[x["severity"]] = n.get(x["severity"], 0) + 1
    want = ["%d %s" % (n.get(k, 0), k) for k in
            ("critical", "unknown", "warning", "ok")]
    t.is_(g2["counts"], want, "after the update the counts are the API's")
    t.is_((g2["tableRows"], len(g2["cards"])), (TOTAL, len(cards)),
          "after the update: the same table and cards")
    t.is_(g2["over"], [], "after the update: still no text overflows")
    kept = c.eval("document.querySelectorAll('#need .card .keys').length")
    t.ok(kept > 0, "the key timelines drawn by the server are kept (%d)"
         % kept)

    c.close()
    c = None
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
    if c is not None:
        try:
            os.killpg(c.p.pid, 9)
            c.p.wait()
        except OSError:
            pass
    d.cleanup()
    shutil.rmtree(tmp, ignore_errors=True)
sys.exit(t.done())
