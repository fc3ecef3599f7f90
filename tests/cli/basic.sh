#!/usr/bin/env bash
# Command-line contract that needs no DNS: version, help, usage errors.
. "$(dirname "$0")/../lib.sh"
bin=$DNSSECMON_BIN

out=$("$bin" --version); rc=$?
is "$rc" 0 "--version exits 0"
like "$out" '^dnssecmon [0-9]+\.[0-9]+\.[0-9]+$' "--version prints 'dnssecmon X.Y.Z'"

out=$("$bin" --help); rc=$?
is "$rc" 0 "--help exits 0"
for c in check run rotations history keys alerts export; do
	like "$out" "^  $c " "--help lists the $c command"
done

err=$("$bin" 2>&1 >/dev/null); rc=$?
is "$rc" 3 "no command exits 3"
like "$err" '^usage: dnssecmon' "no command prints usage on stderr"

err=$("$bin" frobnicate 2>&1 >/dev/null); rc=$?
is "$rc" 3 "unknown command exits 3"
like "$err" "unknown command 'frobnicate'" "unknown command is named in the error"

err=$("$bin" --frob 2>&1 >/dev/null); rc=$?
is "$rc" 3 "unknown option exits 3"
like "$err" "unknown option '--frob'" "unknown option is named in the error"

# Every command --help lists: its own --help works, and the man page
# documents it (usage() and dnssecmon(8) must not drift apart).
cmds=$("$bin" --help | awk '/^  [a-z]/ {print $1}')
is "$(echo $cmds)" "check run rotations history keys alerts export problems" "--help lists every command"
for c in $cmds; do
	out=$("$bin" "$c" --help); rc=$?
	is "$rc" 0 "$c --help exits 0"
	like "$out" "^usage: dnssecmon $c " "$c --help prints its synopsis"
	grep -q "^\.Cm $c\$" "$DNSSECMON_TOP/man/dnssecmon.8"; ok $? "dnssecmon(8) has a synopsis for $c"
done
done_testing
