#!/usr/bin/env bash
# Run one libFuzzer target for a bounded time and report it as one assertion.
# -timeout catches hangs (getdns 1.6.0 spins forever on some malformed
# answers, e.g. forward compression pointers), not only crashes.
set -u
target=$1 seconds=${2:-10}
name=$(basename "$target")
corpus=$(dirname "$0")/corpus_${name#fuzz_}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
args=(-max_total_time="$seconds" -timeout=5 -rss_limit_mb=1024 -print_final_stats=1
      -artifact_prefix="$work/")
if [ -d "$corpus" ]; then
	cp -r "$corpus"/. "$work/" 2>/dev/null
fi
"$target" "${args[@]}" "$work" 2>"$work.log"
rc=$?
runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$work.log" | grep -o '[0-9]*$')
echo "# $name: ${runs:-?} executions in ${seconds}s"
if [ "$rc" -eq 0 ]; then
	echo "ok - $name survives ${runs:-?} fuzzed inputs without crash, leak or hang"
else
	tail -n 30 "$work.log" | sed 's/^/# /'
	echo "not ok - $name found a crash, leak or hang (exit $rc)"
fi
rm -f "$work.log"
exit "$rc"
