#!/usr/bin/env bash
# Domains from where they already are: domains_file: (one name a line, the
# reader of `check -f`), include: (conf.d drop-ins) and catalog: entries,
# all checked by `run -n` (and listed by `run -n -v`), errors naming the
# file and line where the mistake is.
. "$(dirname "$0")/../lib.sh"
bin=$DNSSECMON_BIN
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

printf '. 3600 IN DNSKEY 257 3 13 %s\n' \
	"mdsswUyr3DPW132mOi8V9xESWE8jTo0dxCjjnopKl+GqJxpVXckHAeF+KkxLbxILfDLUT0rAK9iUzy1L53eKGQ==" > "$tmp/anchor"
mkdir -p "$tmp/etc/conf.d"
cfg=$tmp/etc/c.yaml
head="trust_anchor: $tmp/anchor
database: $tmp/db.sqlite"

check() {	# check -> $out $err $rc from run -n -v
	out=$("$bin" run -c "$cfg" -n -v 2>"$tmp/err"); rc=$?
	err=$(cat "$tmp/err")
}

printf '%s\n' "$head
domains:
  - example.com
  - name: settings.example
    interval: 60
domains_file: [zones.txt]
include: conf.d/*.yaml" > "$cfg"
printf '# exported from the DNS host\nexample.org   # a comment\nExample.NET.\n\nsettings.example\n' \
	> "$tmp/etc/zones.txt"
printf 'domains: [team.example]\ndomains_file: team.txt\n' > "$tmp/etc/conf.d/10-team.yaml"
printf 'a.example b.example\nexample.org\n' > "$tmp/etc/conf.d/team.txt"
printf '' > "$tmp/etc/conf.d/20-empty.yaml"
check
is "$rc" 0 "domains_file + include: exit 0"
is "$err" "" "domains_file + include: nothing on stderr"
like "$out" "^configuration OK" "domains_file + include: OK"
like "$out" "7 domains from 5 files, 0 catalogs" \
	"7 names: each once, file names relative to the file that names them"
like "$out" "domain example\.net $tmp/etc/zones\.txt:3" \
	"a listed name is normalised (case, final dot) and keeps its file:line"
like "$out" "domain team\.example $tmp/etc/conf\.d/10-team\.yaml:1" \
	"a drop-in's domains: are monitored"
like "$out" "domain b\.example $tmp/etc/conf\.d/team\.txt:1" \
	"a drop-in's domains_file: is read relative to the drop-in"
like "$out" "domain settings\.example $tmp/etc/c\.yaml:5" \
	"a name both in domains: and in a list keeps its domains: entry"
is "$(grep -c '^domain example\.org ' <<<"$out")" 1 "a name in two lists is monitored once"

# An empty conf.d is normal; a named file that is not there is not.
rm "$tmp"/etc/conf.d/*
check
is "$rc" 0 "include: a pattern that matches nothing is fine (empty conf.d)"
printf '%s\ndomains: [example.com]\ninclude: /nonexistent/extra.yaml\n' "$head" > "$cfg"
check
[ "$rc" -ne 0 ]; ok $? "include: a missing named file: exit non-zero"
like "$err" "c\.yaml:4: include: /nonexistent/extra\.yaml: No such file or directory" \
	"include: a missing named file is named with the line that includes it"

printf '%s\ndomains: [example.com]\ninclude: conf.d/*.yaml\n' "$head" > "$cfg"
printf 'domains:\n  - fine.example\n  - example.com\n' > "$tmp/etc/conf.d/dup.yaml"
check
[ "$rc" -ne 0 ]; ok $? "a name in domains: of two files: exit non-zero"
like "$err" "conf\.d/dup\.yaml:3: domains: 'example\.com' is listed twice \(first at $tmp/etc/c\.yaml:3\)" \
	"a name in two domains: lists: both places named"
rm "$tmp/etc/conf.d/dup.yaml"
printf 'retries: 5\n' > "$tmp/etc/conf.d/global.yaml"
check
like "$err" "conf\.d/global\.yaml:1: retries: not allowed in an included file" \
	"a global setting in a drop-in is refused, with file and line"
printf 'domains: [ok.example\n' > "$tmp/etc/conf.d/global.yaml"
check
like "$err" "conf\.d/global\.yaml:[0-9]+: not valid YAML" "a drop-in that is not YAML: named"
rm "$tmp/etc/conf.d/global.yaml"

printf '%s\ndomains_file: zones.txt\n' "$head" > "$cfg"
printf 'good.example\n\nbad..example  # typo\n' > "$tmp/etc/zones.txt"
check
[ "$rc" -ne 0 ]; ok $? "a bad name in a list: exit non-zero"
like "$err" "zones\.txt:3: 'bad\.\.example' is not a valid domain name" \
	"a bad name in a list: the list's file and line"
printf '.\n' > "$tmp/etc/zones.txt"
check
like "$err" "zones\.txt:1: domains_file: '\.': the root zone has no parent" \
	"the root in a list: refused with file and line"
rm "$tmp/etc/zones.txt"
check
like "$err" "zones\.txt: No such file or directory" "a missing list: named"
printf '# nothing yet\n' > "$tmp/etc/zones.txt"
check
like "$err" "no domain to monitor" "an empty list and nothing else: no domain to monitor"

# catalog: entries (the transfer itself: tests/e2e/catalog.py).
secret=$(printf 'sixteen byte key' | base64)
printf '%s
catalog:
  - zone: Catalog.Example.
    primary: 192.0.2.53
    tsig: {name: xfr-key, algorithm: hmac-sha512, secret: "%s"}
    max_members: 500
    refresh: 1m
  - zone: other.example
    primary: 192.0.2.54@5353
' "$head" "$secret" > "$cfg"
check
is "$rc" 0 "catalog: exit 0 with only catalogs as domain sources"
like "$out" "catalog catalog\.example primary 192\.0\.2\.53 tsig xfr-key max_members 500 refresh 60s" \
	"catalog: zone normalised, settings read"
like "$out" "catalog other\.example primary 192\.0\.2\.54@5353 max_members 10000 refresh 300s" \
	"catalog: no TSIG, defaults 10000 members and 5 minutes"

bad_catalog() {	# DESCRIPTION REGEX ENTRY
	printf '%s\ncatalog:\n%s\n' "$head" "$3" > "$cfg"
	check
	[ "$rc" -ne 0 ]; ok $? "$1: exit non-zero"
	like "$err" "$2" "$1: named"
	unlike "$err" "c2l4dGVlbi" "$1: the secret is not echoed"
}
bad_catalog "catalog without primary" "c\.yaml:4: catalog: an entry without a valid 'primary'" \
"  - zone: cat.example"
bad_catalog "catalog with a bad primary" "c\.yaml:5: catalog\.primary: .*not-an-address" \
"  - zone: cat.example
    primary: not-an-address"
bad_catalog "catalog with a bad secret" "c\.yaml:6: catalog\.tsig\.secret: not a base64 key" \
"  - zone: cat.example
    primary: 192.0.2.1
    tsig: {name: k, secret: 'c2l4dGVlbi!!'}"
bad_catalog "catalog with an unknown algorithm" "catalog\.tsig\.algorithm: 'hmac-sha3': expected" \
"  - zone: cat.example
    primary: 192.0.2.1
    tsig: {name: k, algorithm: hmac-sha3, secret: '$secret'}"
bad_catalog "catalog tsig without a name" "catalog\.tsig: needs both name and secret" \
"  - zone: cat.example
    primary: 192.0.2.1
    tsig: {secret: '$secret'}"
bad_catalog "catalog twice" "c\.yaml:6: catalog: 'cat\.example' is listed twice \(first at .*c\.yaml:4\)" \
"  - zone: cat.example
    primary: 192.0.2.1
  - zone: CAT.example.
    primary: 192.0.2.2"
bad_catalog "catalog max_members 0" "catalog\.max_members: '0' is not a whole number" \
"  - zone: cat.example
    primary: 192.0.2.1
    max_members: 0"
done_testing
