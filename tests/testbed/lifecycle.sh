#!/usr/bin/env bash
# shellcheck disable=SC2317  # helpers are called indirectly, through check/fails/trap
# lifecycle.sh - prove testbed.sh's process discipline: up, refusal when running or when a
# port is taken, clean teardown after a failed start, down leaves nothing behind.
#
# Run it when NO testbed is up: it needs port 53 of the default addresses for itself. It
# works in a scratch TESTBED_DIR and removes it. One line per assertion, "ok - ..." or
# "not ok - ...", details on stderr; exit 1 if any failed.
set -uo pipefail
export LC_ALL=C

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TB=$HERE/testbed.sh
SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/testbed-lifecycle.XXXXXX")
LISTENER_DIR=$(mktemp -d "${TMPDIR:-/tmp}/testbed-squatter.XXXXXX")
export TESTBED_DIR=$SCRATCH/tb
FAILED=0
LISTENERS=()   # pids of the python3 port squatters we started
LPID=""

ok()     { echo "ok - $*"; }
not_ok() { echo "not ok - $*"; FAILED=1; }
diag()   { echo "#   $*" >&2; }
check()  { local d=$1; shift; if "$@" >/dev/null 2>&1; then ok "$d"; else not_ok "$d"; fi; }
fails()  { local d=$1; shift; if "$@" >/dev/null 2>&1; then not_ok "$d"; else ok "$d"; fi; }

eval "$("$TB" env)"
ADDRS="$TESTBED_ROOT_NS_A $TESTBED_ROOT_NS_B $TESTBED_TLD_NS_A $TESTBED_TLD_NS_B $TESTBED_NS_A $TESTBED_NS_B $TESTBED_RESOLVER"

# Pids of live processes whose command line mentions the scratch directory (our daemons
# carry their config path there): a read-only scan proving nothing was left behind. Read
# with builtins, so that no helper process (grep) shows up with the path in its arguments.
procs_in_dir() {
    local f pid out="" argv
    for f in /proc/[0-9]*/cmdline; do
        pid=${f#/proc/}; pid=${pid%/cmdline}
        [ "$pid" = "$$" ] && continue
        mapfile -d '' -t argv <"$f" 2>/dev/null || continue
        [[ " ${argv[*]} " == *"$SCRATCH"* ]] && out="$out $pid"
    done
    echo "${out# }"
}
recorded_pids() { cat "$TESTBED_DIR"/run/*.pid 2>/dev/null | xargs; }
# all_gone PID...: every process has exited and been reaped. pid 1 of some VMs reaps
# orphans only every few seconds, so an exited daemon may linger as a zombie that briefly;
# wait for that (bounded) rather than accept what ps would still show.
all_gone() {
    local p
    for _ in $(seq 200); do
        for p in "$@"; do [ -d "/proc/$p" ] && break; done
        [ -d "/proc/${p:-0}" ] || return 0
        sleep 0.05
    done
    for p in "$@"; do [ -d "/proc/$p" ] && diag "pid $p still present: $(ps -o stat=,args= -p "$p")"; done
    return 1
}
all_ours() { # pids... : six of them (nsd root, tld, tld2, a, b; unbound), each alive and an nsd/unbound with our config
    local p
    [ $# -eq 6 ] || return 1
    for p in "$@"; do
        tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null |
            grep -E "^/usr/sbin/(nsd|unbound) .*$TESTBED_DIR/" >/dev/null || return 1
    done
}
port_busy() { { ss -Hlnu; ss -Hlnt; } | awk -v a="$1:53" '$4 == a { f = 1 } END { exit !f }'; }
# No grep -q after a pipe here: under pipefail, grep quitting early can SIGPIPE the writer
# and turn a match into a failure.
env_has() { "$TB" env | grep -xF "$1" >/dev/null; }
validates() { # name: the testbed resolver answers with AD
    dig @"$TESTBED_RESOLVER" +dnssec +time=2 +tries=2 "$1" SOA | grep -E '^;; flags:[^;]* ad[ ;]' >/dev/null
}

# start_listener KIND: a python3 socket on $TESTBED_RESOLVER:53, its pid in LPID.
# udp: a bound UDP socket, which ss -l shows. tcp-bound: a TCP socket bound but not
# listening, which ss -l does not show but which still makes unbound's bind() fail: the
# way to make `up` fail midway, after the NSD instances are already running.
start_listener() {
    # the ready file lives outside $SCRATCH: the squatter must not look like a testbed process
    local kind=$1 ready=$LISTENER_DIR/ready
    rm -f "$ready"
    python3 - "$kind" "$TESTBED_RESOLVER" "$ready" >/dev/null 2>&1 <<'EOF' &
import socket, sys, time
kind, addr, ready = sys.argv[1:4]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM if kind == "udp" else socket.SOCK_STREAM)
s.bind((addr, 53))          # no SO_REUSEADDR: the daemon's bind must collide
open(ready, "w").close()
time.sleep(120)             # bounded: a crashed test does not leave it behind for long
EOF
    LPID=$!
    LISTENERS+=("$LPID")
    for _ in $(seq 150); do [ -e "$ready" ] && return 0; sleep 0.02; done
    diag "python3 listener ($kind) did not bind $TESTBED_RESOLVER:53"
    return 1
}
stop_listener() { # by pid, and only if that pid is still our python3
    local pid=$1
    [ -d "/proc/$pid" ] || return 0
    grep -qa python3 "/proc/$pid/cmdline" 2>/dev/null || return 0
    kill "$pid" 2>/dev/null
    for _ in $(seq 100); do [ -d "/proc/$pid" ] || break; sleep 0.02; done
    wait "$pid" 2>/dev/null || true
}

cleanup() {
    local pid
    for pid in "${LISTENERS[@]}"; do stop_listener "$pid"; done
    "$TB" down >/dev/null 2>&1 || true
    # remove the scratch directory only once nothing of ours can still write to it
    [ -z "$(procs_in_dir)" ] && rm -rf "$SCRATCH"
    rm -rf "$LISTENER_DIR"
}
trap cleanup EXIT

# --- precondition
busy=""
for a in $ADDRS; do port_busy "$a" && busy="$busy $a"; done
if [ -n "$busy" ]; then
    not_ok "port 53 is free on all testbed addresses (busy:$busy; run 'testbed.sh down')"
    exit 1
fi
ok "port 53 is free on all testbed addresses"

# --- not root
if id nobody >/dev/null 2>&1 && command -v setpriv >/dev/null; then
    out=$(setpriv --reuid=nobody --regid=nogroup --clear-groups "$TB" up 2>&1); rc=$?
    check "up as non-root exits 1" test "$rc" -eq 1
    check "up as non-root says it needs root" grep -q 'must run as root' <<<"$out"
    check "up as non-root started nothing" test -z "$(procs_in_dir)"
fi

# --- a busy address is refused before anything starts
start_listener udp; lpid=$LPID
check "python3 squatter holds $TESTBED_RESOLVER:53/udp" port_busy "$TESTBED_RESOLVER"
out=$("$TB" up 2>&1); rc=$?
check "up with $TESTBED_RESOLVER:53 taken is refused (non-zero)" test "$rc" -ne 0
check "the refusal names the busy address $TESTBED_RESOLVER" grep -qF "$TESTBED_RESOLVER" <<<"$out"
check "nothing was started for the refused up" test -z "$(procs_in_dir)"
fails "status exits non-zero after the refused up" "$TB" status
stop_listener "$lpid"
check "the udp squatter is gone (killed by pid)" all_gone "$lpid"

# --- a start that fails midway (unbound cannot bind after the NSDs are up) is rolled back
start_listener tcp-bound; lpid=$LPID
fails "a bound, non-listening TCP socket is invisible to the port check" port_busy "$TESTBED_RESOLVER"
out=$("$TB" up 2>&1); rc=$?
check "up fails when unbound cannot bind (non-zero)" test "$rc" -ne 0
check "the failure shows unbound's log tail (can't bind)" grep -q "can't bind" <<<"$out"
check "the NSD instances had been started before the failure" grep -q 'nsd starting' "$TESTBED_DIR/nsd-root/nsd.log"
check "no process refers to the testbed directory after the failed up" test -z "$(procs_in_dir)"
check "no pidfiles remain after the failed up" bash -c '! ls "$1"/run/*.pid' _ "$TESTBED_DIR"
for a in $ADDRS; do
    [ "$a" = "$TESTBED_RESOLVER" ] || fails "port 53 on $a is free after the failed up" port_busy "$a"
done
stop_listener "$lpid"
check "the tcp squatter is gone (killed by pid)" all_gone "$lpid"
check "down after a failed up is fine" "$TB" down

# --- up, status, second up, with the TLD knob: unbound's built-in "test." local zone must
# not swallow the hierarchy (testbed.sh declares it nodefault). One full cycle, after the
# failed starts above: a testbed that failed to start comes up cleanly next time. (Each
# full `up` costs fresh keys for every zone, the bulk of this test's time, so the failed
# starts and the TLD knob share this one; the shared testbed of `make test` comes up with
# a random TLD right after this test.)
start=$(date +%s%N)
out=$(env TESTBED_TLD=test "$TB" up 2>&1); rc=$?
ms=$(( ($(date +%s%N) - start) / 1000000 ))
# How long up took is printed, not asserted (a loaded machine is slower, not wrong);
# `make bench` reports it too. testbed.sh's own bounded waits fail a hung start.
diag "up took $ms ms: $(grep 'up in' <<<"$out")"
check "up with TESTBED_TLD=test succeeds" test "$rc" -eq 0
[ "$rc" -eq 0 ] || diag "$out"
check "status exits 0 when up" "$TB" status
pids=$(recorded_pids)
# shellcheck disable=SC2086
check "six daemon pids recorded, each an nsd/unbound with this testbed's config" all_ours $pids
check "env describes the scratch testbed" env_has "TESTBED_DIR='$TESTBED_DIR'"
check "with TLD test, healthy.test validates (ad)" validates healthy.test
check "env reports the saved TLD (test) without the knob" env_has "TESTBED_TLD='test'"
out=$("$TB" up 2>&1); rc=$?
check "second up is refused (non-zero)" test "$rc" -ne 0
check "second up names the reason (already running)" grep -q 'already running' <<<"$out"
check "second up left the daemons alone" test "$(recorded_pids)" = "$pids"
check "status still 0 after the refused up" "$TB" status
check "switch works in the scratch testbed" "$TB" switch rollstart

# --- down
check "down succeeds" "$TB" down
# shellcheck disable=SC2086
check "every recorded pid is gone after down" all_gone $pids
check "no process refers to the testbed directory after down" test -z "$(procs_in_dir)"
check "down removed our pidfiles" bash -c '! ls "$1"/run/*.pid' _ "$TESTBED_DIR"
check "down removed the daemons' own pidfiles" \
    bash -c '! ls "$1"/nsd-*/nsd.pid "$1"/unbound/unbound.pid' _ "$TESTBED_DIR"
fails "status exits non-zero after down" "$TB" status
check "down twice is fine" "$TB" down
for a in $ADDRS; do fails "port 53 on $a is free after down" port_busy "$a"; done
check "no process refers to the testbed directory at the end" test -z "$(procs_in_dir)"

exit $FAILED
