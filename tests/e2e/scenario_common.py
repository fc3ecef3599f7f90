"""What the scenario tests share: `dnssecmon check` of one testbed zone
read as JSON, the testbed's key tag of a role, and look-ups in a
domain's JSON (problems, keys, name servers)."""
import json
import os
import re
import subprocess


class Scenarios:
    """`check` and `tag` against one testbed (env), diagnostics to t."""

    def __init__(self, t, env, binary=None):
        self.t = t
        self.env = env
        self.bin = binary or os.environ["DNSSECMON_BIN"]
        self.tld = env["TESTBED_TLD"]
        self.base = ["--trust-anchor", env["TESTBED_ANCHOR"], "--root-hints",
                     env["TESTBED_HINTS"], "--resolver",
                     env["TESTBED_RESOLVER"]]

    def check(self, zone, *opts, fmt="json"):
        """(completed process, the domain's JSON or None) of
        `dnssecmon check` of zone.TLD."""
        p = subprocess.run([self.bin, "check", *self.base, "--format", fmt,
                            *opts, "%s.%s" % (zone, self.tld)],
                           capture_output=True, text=True, timeout=120)
        d = None
        if fmt == "json":
            try:
                d = json.loads(p.stdout)["domains"][0]
            except (ValueError, KeyError, IndexError) as e:
                self.t.diag("%s: bad JSON (%s): %s %s" % (
                    zone, e, p.stdout[:200], p.stderr[:200]))
        return p, d

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
