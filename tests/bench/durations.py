#!/usr/bin/env python3
"""durations.py DB [STATES] - how long each check of a bench cycle took.

Reads every stored observation's duration_ms from the daemon's database
(the first check of a domain is a state change, so its whole observation
is kept) and prints one line per planted state (STATES: genzones.py's
zones.state, "NAME STATE" per line), or one for all domains without it:

    bench: check duration of STATE (N zones): median M ms, p90 P ms, max X ms

A zone that waits on a silent server should cost about one backoff of our
own (timeout x (1 + 2 + 4)), not hold the others: these lines show it.
"""
import json
import sqlite3
import sys


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit("usage: durations.py DB [STATES]")
    states = {}
    if len(sys.argv) == 3:
        with open(sys.argv[2]) as f:
            for line in f:
                p = line.split()
                if len(p) >= 2:
                    states[p[0]] = p[1]
    db = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True)
    by = {}
    for name, js in db.execute(
            "SELECT d.name, o.json FROM observations o JOIN domains d "
            "ON d.id = o.domain_id WHERE o.json IS NOT NULL"):
        ms = json.loads(js).get("duration_ms")
        if ms is None:
            continue
        key = states.get(name, "?") if states else "every domain"
        by.setdefault(key, []).append(ms)
    for key in sorted(by):
        v = sorted(by[key])
        print("bench: check duration of %s (%d zones): median %.0f ms, p90 %.0f ms, "
              "max %.0f ms" % (key, len(v), v[len(v) // 2], v[min(len(v) - 1, len(v) * 9 // 10)],
                               v[-1]))


if __name__ == "__main__":
    main()
