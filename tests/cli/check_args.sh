#!/usr/bin/env bash
# `dnssecmon check` on bad input: one clear line on stderr that names the
# problem and where it is, exit 3, nothing on stdout, no packet needed.
. "$(dirname "$0")/../lib.sh"
bin=$DNSSECMON_BIN
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

printf '. 3600 IN DNSKEY 257 3 13 %s\n' \
	"mdsswUyr3DPW132mOi8V9xESWE8jTo0dxCjjnopKl+GqJxpVXckHAeF+KkxLbxILfDLUT0rAK9iUzy1L53eKGQ==" > "$tmp/anchor"
printf '. 3600 IN NS a.root-servers.net.\na.root-servers.net. 3600 IN A 127.0.0.11\n' > "$tmp/hints"
printf 'this is ( not a zone file\n' > "$tmp/garbage"
printf 'example. 3600 IN A 192.0.2.1\n' > "$tmp/noroot"
: > "$tmp/empty"
ok_args=(--trust-anchor "$tmp/anchor" --root-hints "$tmp/hints" --resolver none --timeout 0.2 --retries 0)

# expect_error DESCRIPTION REGEX ARGS...
expect_error() {
	local desc=$1 re=$2; shift 2
	local out err rc lines
	out=$("$bin" check --resolver none "$@" 2>"$tmp/err"); rc=$?
	err=$(cat "$tmp/err")
	lines=$(grep -c . "$tmp/err")
	is "$rc" 3 "$desc: exit 3"
	like "$err" "$re" "$desc: the error names the problem"
	is "$out" "" "$desc: nothing on stdout"
	is "$lines" 1 "$desc: exactly one line on stderr"
}

expect_error "no domain" "no domain given" "${ok_args[@]}"
expect_error "empty label" "'a\.\.b' \(argument 1\) is not a valid domain name: label 2 is empty" "${ok_args[@]}" a..b
expect_error "label over 63 octets" "argument 2.*label 1 is 64 octets, the limit is 63" \
	"${ok_args[@]}" ok.lab "$(printf 'a%.0s' $(seq 64)).lab"
expect_error "name over 255 octets" "argument 1.*255" "${ok_args[@]}" \
	"$(for i in $(seq 9); do printf '%s.' "$(printf 'b%.0s' $(seq 30))"; done)com"
expect_error "space in a name" "argument 1.*offset 1: byte 0x20 .*escape it as .032" "${ok_args[@]}" "a b.lab"
expect_error "the root itself" "root zone has no parent" "${ok_args[@]}" .
expect_error "unknown option" "unknown option '--frobnicate'" "${ok_args[@]}" --frobnicate x.lab
expect_error "option without value" "option '--timeout' needs a value" x.lab --timeout
expect_error "bad format" "--format 'xml': expected text, json or nagios" --format xml x.lab
expect_error "bad timeout" "--timeout 'soon'" --timeout soon x.lab
expect_error "negative timeout" "--timeout '-1'" --timeout -1 x.lab
expect_error "bad retries" "--retries '99': expected 0 to 10" --retries 99 x.lab
expect_error "bad resolver address" "--resolver: '1\.2\.3' is not an IPv4 or IPv6 address" --resolver 1.2.3 x.lab
expect_error "bad resolver port" "--resolver: '127\.0\.0\.1@99999': port must be 1-65535" --resolver 127.0.0.1@99999 x.lab
expect_error "bad signature threshold" "--sig-warning 'tomorrow'" --sig-warning tomorrow x.lab
expect_error "bad multi-signer mode" "--multi-signer 'both': expected auto, yes or no" \
	--multi-signer both x.lab
expect_error "empty zone in --cds-parents" "--cds-parents 'ch,,li': expected zones" \
	--cds-parents ch,,li x.lab
expect_error "missing trust anchor" "$tmp/nonexistent: No such file or directory" \
	--trust-anchor "$tmp/nonexistent" --root-hints "$tmp/hints" x.lab
expect_error "trust anchor without a root key" "$tmp/noroot: no DS or key-signing DNSKEY for the root" \
	--trust-anchor "$tmp/noroot" --root-hints "$tmp/hints" x.lab
expect_error "empty trust anchor" "$tmp/empty: " --trust-anchor "$tmp/empty" --root-hints "$tmp/hints" x.lab
expect_error "garbage trust anchor" "$tmp/garbage: " --trust-anchor "$tmp/garbage" --root-hints "$tmp/hints" x.lab
expect_error "unreadable root hints" "$tmp/nope: No such file or directory" \
	--trust-anchor "$tmp/anchor" --root-hints "$tmp/nope" x.lab
expect_error "root hints without addresses" "$tmp/noroot: no NS record for the root zone" \
	--trust-anchor "$tmp/anchor" --root-hints "$tmp/noroot" x.lab
printf '# zones\nok.lab other.lab\nbad..name  # line 3\n' >"$tmp/names"
expect_error "-f: a bad name names the file and line" "$tmp/names:3: 'bad..name' is not a valid domain name: label 2 is empty" \
	-f "$tmp/names"
expect_error "-f: a directory" "-f: $tmp: is a directory" -f "$tmp"
expect_error "-f: a missing file" "-f: $tmp/none: No such file or directory" -f "$tmp/none"
printf '# nothing\n\n' >"$tmp/nonames"
expect_error "-f: a file without names" "no domain in the -f file" -f "$tmp/nonames"
out=$(printf 'ok.lab\nx y..z\n' | "$bin" check -f - 2>&1); rc=$?
is "$rc" 3 "-f -: a bad name on standard input exits 3"
like "$out" "standard input:2: 'y\.\.z' is not a valid domain name" "-f -: the error names standard input and the line"
expect_error "--db in a missing directory" "--db: $tmp/nodir/x.db: unable to open" --db "$tmp/nodir/x.db" x.lab

out=$("$bin" check --help); rc=$?
is "$rc" 0 "check --help exits 0"
like "$out" "^usage: dnssecmon check \[--trust-anchor FILE\]" "check --help prints the synopsis"
# ... and every option on a line of its own with what it does.
for o in trust-anchor root-hints resolver format timeout retries ipv6 \
    sig-warning sig-critical rotation-window critical-before \
    insecure-is-problem multi-signer cds-parents time-limit db domains-file \
    verbose version; do
	like "$out" "^  (-[a-zA-Z], )?--$o([ ,][^ ]*)* {2,}[a-z(]" "check --help explains --$o"
done
done_testing
