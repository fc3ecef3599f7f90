#!/usr/bin/env bash
# The whole suite, as `make test` runs it.
#
# Every test is a program that prints one line per assertion, `ok - ...` or
# `not ok - ...`, and exits non-zero when one failed. This runner counts the
# lines, keeps each test's full output in build/test-logs/, and ends with
# `N passed, N failed`. A test that dies without saying `not ok` still counts
# as one failure, so a crash can never pass for green.
#
# Order matters: the testbed lifecycle test needs port 53 free, so it runs
# before the shared testbed comes up; everything after it shares one testbed.
# One test that needs neither DNS nor the testbed (BACKGROUND below) runs
# beside the others from the command-line tests to the testbed's selftest.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
: "${DNSSECMON_BIN:?set by make test}"
: "${DNSSECMON_UNIT_DIR:?set by make test}"
variant=${DNSSECMON_VARIANT:-default}
logdir=$top/build/test-logs/$variant
rm -rf "$logdir"
mkdir -p "$logdir"

export DNSSECMON_BIN DNSSECMON_TOP=$top
# Shared testbed for this run, away from the one `make demo` may have up,
# and one per variant: `make test` and `make SANITIZE=1 test` can run at
# once (.ci/run does) when the second is given its own TESTBED_* addresses.
export TESTBED_DIR=$top/build/testbed-test/$variant
# A TLD the code has never seen, different on every run: nothing may
# depend on the names of the bundled hierarchy (fresh keys come with `up`).
if [ -z "${TESTBED_TLD:-}" ]; then
	TESTBED_TLD=t$(tr -dc 'a-z' </dev/urandom | head -c 7)
	export TESTBED_TLD
fi
testbed=$top/tests/testbed/testbed.sh

passed=0
failed=0
failures=()

# run_test NAME CMD...: run one test program, count its assertions.
run_test() {
	local name=$1; shift
	local start
	start=$(date +%s)
	"$@" >"$(log_of "$name")" 2>&1 </dev/null
	count_test "$name" $? "$start"
}

log_of() { echo "$logdir/$(echo "$1" | tr '/ ' '__').log"; }

# count_test NAME RC START: count the assertions of a test that ended.
count_test() {
	local name=$1 rc=$2 start=$3
	local log end p f
	log=$(log_of "$name")
	end=$(date +%s)
	p=$(grep -c '^ok - ' "$log")
	f=$(grep -c '^not ok - ' "$log")
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "not ok - $name exited with status $rc without a failed assertion" >>"$log"
		f=1
	fi
	passed=$((passed + p))
	failed=$((failed + f))
	printf '%-40s %4d passed %3d failed  (%ss)\n' "$name" "$p" "$f" $((end - start))
	if [ "$f" -gt 0 ]; then
		failures+=("$name")
		grep -E '^(not ok - |# )' "$log" | head -n 40 | sed 's/^/    /'
		echo "    (full output: $log)"
	fi
}

# run_test_bg NAME CMD...: start a test that shares nothing with what runs
# beside it; wait_bg counts it. Only for a test that is mostly waiting on
# its own daemon's clocks (see BACKGROUND below).
bg_pid=()
bg_name=()
bg_start=()
run_test_bg() {
	local name=$1; shift
	bg_start+=("$(date +%s)")
	"$@" >"$(log_of "$name")" 2>&1 </dev/null &
	bg_pid+=("$!")
	bg_name+=("$name")
}
wait_bg() {
	local i rc
	for i in "${!bg_pid[@]}"; do
		wait "${bg_pid[$i]}"
		rc=$?
		count_test "${bg_name[$i]}" "$rc" "${bg_start[$i]}"
	done
	bg_pid=()
	bg_name=()
	bg_start=()
}

cleanup() {
	local pid
	# Interrupted: SIGINT lets a Python test's finally stop its daemons.
	for pid in "${bg_pid[@]}"; do kill -INT "$pid" 2>/dev/null; wait "$pid"; done
	bg_pid=()
	if [ -n "${testbed_up:-}" ]; then
		"$testbed" down >>"$logdir/testbed.log" 2>&1 || echo "testbed down failed: see $logdir/testbed.log" >&2
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "== dnssecmon test suite ($variant): $DNSSECMON_BIN, testbed TLD '$TESTBED_TLD'"

# 1. Unit tests: real module sources, no network beyond loopback.
for t in "$DNSSECMON_UNIT_DIR"/test_*; do
	[ -x "$t" ] || continue
	run_test "unit/$(basename "$t")" "$t"
done

# 2. Fuzz targets, bounded in time (built by `make fuzz` with clang).
# FUZZ_SHARE=K/N runs the K-th of every N targets (in name order): .ci/run
# splits them between its two suites, which would otherwise both run the
# same clang binaries. Unset: every target.
fuzz_share=${FUZZ_SHARE:-1/1}
fuzz_k=${fuzz_share%%/*} fuzz_n=${fuzz_share#*/}
if ! [[ $fuzz_k =~ ^[1-9][0-9]*$ && $fuzz_n =~ ^[1-9][0-9]*$ ]] ||
    [ "$fuzz_k" -gt "$fuzz_n" ]; then
	echo "run.sh: FUZZ_SHARE '$fuzz_share': want K/N with 1 <= K <= N" >&2
	exit 2
fi
if [ -d "$top/build/fuzz" ]; then
	i=0
	for t in "$top"/build/fuzz/fuzz_*; do
		[ -x "$t" ] || continue
		i=$((i + 1))
		[ $(((i - 1) % fuzz_n + 1)) -eq "$fuzz_k" ] || continue
		run_test "fuzz/$(basename "$t")" "$here/fuzz/run-one.sh" "$t" "${FUZZ_SECONDS:-10}"
	done
fi

# 3. Command-line behaviour that needs no DNS.
# BACKGROUND: cli tests that run beside the rest of the cli tests, the
# testbed's life cycle, the shared testbed's start and its selftest (about
# 70 s of waiting on the HTTP listener's own clocks: its 60 s log window,
# request deadlines). Safe because http_limits needs no DNS server and binds no
# port 53: its daemons listen on an ephemeral port of .1 in
# TESTBED_RESOLVER's /24 (unused by the testbed), and its clients connect
# from ephemeral ports; its files are in a mktemp directory of its own.
BACKGROUND=" http_limits.py "
for t in "$here"/cli/*; do
	[ -f "$t" ] && [ -x "$t" ] || continue
	case $BACKGROUND in
	*" $(basename "$t") "*) run_test_bg "cli/$(basename "$t")" "$t" ;;
	esac
done
for t in "$here"/cli/*; do
	[ -f "$t" ] && [ -x "$t" ] || continue
	case $BACKGROUND in
	*" $(basename "$t") "*) ;;
	*) run_test "cli/$(basename "$t")" "$t" ;;
	esac
done

# 4. The testbed's own life cycle (needs its addresses free).
run_test "testbed/lifecycle" "$here/testbed/lifecycle.sh"

# 5. Everything that runs against the shared private hierarchy.
if "$testbed" up >"$logdir/testbed.log" 2>&1; then
	testbed_up=1
	run_test "testbed/selftest" "$here/testbed/selftest.sh"
	# The background tests end before the e2e tests start: those wait on
	# daemons' timers and need no company on the machine's two cores.
	wait_bg
	for t in "$here"/e2e/*; do
		[ -f "$t" ] && [ -x "$t" ] || continue
		run_test "e2e/$(basename "$t")" "$t"
	done
else
	wait_bg
	echo "not ok - testbed up failed: $(tail -n 5 "$logdir/testbed.log" | tr '\n' ' ')"
	failed=$((failed + 1))
	failures+=("testbed up")
fi

cleanup
testbed_up=

echo
if [ "${#failures[@]}" -gt 0 ]; then
	echo "failed: ${failures[*]}"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
