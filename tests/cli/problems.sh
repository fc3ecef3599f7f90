#!/usr/bin/env bash
# `dnssecmon problems` is the problem registry; dnssecmon(8) lists the
# same codes (its section is this command's --format man output), and no
# source outside the registry spells a problem code.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib.sh"
top=$(cd "$here/../.." && pwd)
bin=${DNSSECMON_BIN:?}

out=$("$bin" problems --format json); rc=$?
ok $rc "problems --format json exits 0"
codes=$(printf '%s' "$out" | python3 -c 'import json,sys; print("\n".join(p["code"] for p in json.load(sys.stdin)))')
n=$(printf '%s\n' "$codes" | grep -c .)
ok $([ "$n" -ge 30 ]; echo $?) "the registry lists $n codes"
is "$(printf '%s\n' "$codes" | sort | uniq -d)" "" "every code is listed once"
for c in chain_broken rotation_pending rotation_deadline host_ds_mismatch store_error servers_disagree; do
	like "$codes" "^$c\$" "the registry has $c"
done

# The man page's list is exactly the registry's.
man=$(sed -n '/^\.\\" BEGIN problems/,/^\.\\" END problems/p' "$top/man/dnssecmon.8" | sed '1,2d;$d')
gen=$("$bin" problems --format man)
is "$man" "$gen" "dnssecmon(8) Problem codes = 'dnssecmon problems --format man' (regenerate the section when they differ)"

# Problem codes as string literals live only in the registry.
stray=$(cd "$top" && for c in $codes; do
	grep -rn --include='*.c' --include='*.h' "\"$c\"" probe store alerts dashboard-export cli common |
	    grep -v '^probe/registry.c:'
done)
is "$stray" "" "no source outside probe/registry.c spells a problem code"

"$bin" problems --format yaml >/dev/null 2>"${TMPDIR:-/tmp}/problems.err.$$"; rc=$?
is "$rc" 3 "an unknown --format exits 3"
like "$(cat "${TMPDIR:-/tmp}/problems.err.$$")" "'yaml' is not one of text, json, man" "and says which formats exist"
rm -f "${TMPDIR:-/tmp}/problems.err.$$"
"$bin" problems extra >/dev/null 2>&1; rc=$?
is "$rc" 3 "a stray argument exits 3"
done_testing
