#!/usr/bin/env bash
# make fuzz-long: every libFuzzer target for SECONDS each, one after the
# other (2 cores: one target and its ASan at a time is what fits). The
# corpus grows in build/fuzz/long/NAME, seeded from tests/fuzz/corpus_NAME;
# a crash, leak or hang is kept as build/fuzz/long/NAME-crash-* (add it to
# the seeds and a regression test). Prints one line of figures per target,
# the lines the README's table records.
set -u
seconds=$1; shift
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
out=$top/build/fuzz/long
mkdir -p "$out"
failed=0
printf '%-14s %10s %8s %6s %6s %s\n' target executions exec/s cov ft result
for t in "$@"; do
	name=$(basename "$t")
	corpus=$out/${name#fuzz_}
	mkdir -p "$corpus"
	[ -d "$here/corpus_${name#fuzz_}" ] && cp -rn "$here/corpus_${name#fuzz_}"/. "$corpus/"
	log=$out/$name.log
	"$t" -max_total_time="$seconds" -timeout=5 -rss_limit_mb=2048 \
	    -print_final_stats=1 -artifact_prefix="$out/$name-crash-" \
	    "$corpus" >"$log" 2>&1
	rc=$?
	runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$')
	rate=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$')
	cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1 | grep -o '[0-9]*$')
	ft=$(grep -o 'ft: [0-9]*' "$log" | tail -n 1 | grep -o '[0-9]*$')
	if [ "$rc" -eq 0 ]; then result=ok; else result="FAILED (exit $rc, see $log)"; failed=1; fi
	printf '%-14s %10s %8s %6s %6s %s\n' "$name" "${runs:-?}" "${rate:-?}" \
	    "${cov:-?}" "${ft:-?}" "$result"
done
exit "$failed"
