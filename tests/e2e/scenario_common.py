"""What the scenario tests share: `dnssecmon check` of one testbed zone
read as JSON, the testbed's key tag of a role, its expected DS lines,
switching its switchable zone, and look-ups in a domain's JSON (problems,
keys, name servers). A helper module, not a test: tests/run.sh runs only
the executable files."""
import json
import os
import re
import subprocess
import time

TB = os.path.join(os.environ["DNSSECMON_TOP"], "tests/testbed/testbed.sh")


def utc(ts):
    """RFC 3339 UTC, as dnssecmon prints a time."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


def testbed(t, *args, timeout=180):
    """`testbed.sh ARGS` (switch STATE, parents ..., ...), asserted to
    succeed; True when it did."""
    p = subprocess.run([TB, *args], capture_output=True, text=True,
                       timeout=timeout)
    t.is_(p.returncode, 0, "testbed %s" % " ".join(args))
    if p.returncode != 0:
        t.diag(p.stderr[-500:])
    return p.returncode == 0


def check_doc(t, env, *args, fmt="json", now=None, hints=None, anchor=None,
              binary=None, timeout=120):
    """`dnssecmon check ARGS` against the testbed env (its trust anchor,
    root hints and resolver unless anchor or hints say otherwise), with
    DNSSECMON_NOW=now when given: (completed process, the whole JSON
    document, None when fmt is not json or the output is not JSON).
    timeout is a hang guard only."""
    e = dict(os.environ)
    if now is not None:
        e["DNSSECMON_NOW"] = str(now)
    p = subprocess.run([binary or os.environ["DNSSECMON_BIN"], "check",
                        "--trust-anchor", anchor or env["TESTBED_ANCHOR"],
                        "--root-hints", hints or env["TESTBED_HINTS"],
                        "--resolver", env["TESTBED_RESOLVER"], "--format",
                        fmt, *args], capture_output=True, text=True,
                       timeout=timeout, env=e)
    doc = None
    if fmt == "json" and p.stdout:
        try:
            doc = json.loads(p.stdout)
        except ValueError as x:
            t.diag("bad JSON: %s: %s" % (x, p.stdout[:300]))
    return p, doc


def check_json(t, env, name, *opts, fmt="json", now=None, binary=None,
               timeout=120):
    """check_doc() of one domain name, options before it: (completed
    process, the domain's JSON, None when there is none)."""
    p, doc = check_doc(t, env, *opts, name, fmt=fmt, now=now, binary=binary,
                       timeout=timeout)
    d = None
    if fmt == "json":
        try:
            d = doc["domains"][0]
        except (TypeError, KeyError, IndexError):
            t.diag("%s: no domain in the output: %s %s" % (
                name, p.stdout[:300], p.stderr[:300]))
    return p, d


def expected_ds(env, zone):
    """DS lines the testbed computed with dnssec-dsfromkey for the keys of
    zone (a full name) published without a DS at the parent."""
    with open(os.path.join(env["TESTBED_EXPECT"], zone + ".ds")) as f:
        return sorted(line.strip() for line in f if line.strip())


def ksk_tags(d, **cond):
    """Tags of the KSKs of a check's JSON whose fields equal cond."""
    return sorted(k["key_tag"] for k in d["dnskeys"] if k["role"] == "ksk"
                  and all(k[c] == v for c, v in cond.items()))


class Scenarios:
    """`check` and `tag` against one testbed (env), diagnostics to t."""

    def __init__(self, t, env, binary=None):
        self.t = t
        self.env = env
        self.bin = binary or os.environ["DNSSECMON_BIN"]
        self.tld = env["TESTBED_TLD"]

    def check(self, zone, *opts, fmt="json"):
        """(completed process, the domain's JSON or None) of
        `dnssecmon check` of zone.TLD."""
        return check_json(self.t, self.env, "%s.%s" % (zone, self.tld),
                          *opts, fmt=fmt, binary=self.bin)

    def tag(self, zone, role):
        """Key tag of a role, from the testbed's roles file
        (K<zone>.+alg+tag)."""
        with open(os.path.join(self.env["TESTBED_KEYS"],
                               "%s.%s" % (zone, self.tld), "roles")) as f:
            for line in f:
                r, name = line.split()
                if r == role:
                    return int(re.search(r"\+(\d+)$", name).group(1))
        raise KeyError(role)


def codes(d):
    return {p["code"] for p in d["problems"]} if d else set()


def problem(d, code):
    return next((p for p in d["problems"] if p["code"] == code), None) \
        if d else None


def key(d, ktag):
    return next((k for k in d["dnskeys"] if k["key_tag"] == ktag), None) \
        if d else None


def server(d, addr):
    return next((s for s in d["nameservers"] if s["address"] == addr), None) \
        if d else None
