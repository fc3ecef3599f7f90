#!/usr/bin/env bash
# `dnssecmon export` and the http:/hooks: configuration keys,
# without DNS: the exports are the shipped files, usage errors exit 3, and
# every http/hooks mistake is named with file, line and key, never with
# the secret's value.
. "$(dirname "$0")/../lib.sh"
bin=$DNSSECMON_BIN
top=$DNSSECMON_TOP
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$bin" export grafana >"$tmp/g.json"; rc=$?
is "$rc" 0 "export grafana: exit 0"
cmp -s "$tmp/g.json" "$top/dashboard-export/grafana-dashboard.json"
ok $? "export grafana: the shipped dashboard, byte for byte"
python3 -m json.tool "$tmp/g.json" >/dev/null 2>&1
ok $? "export grafana: valid JSON"
"$bin" export prometheus-rules >"$tmp/r.yml"; rc=$?
is "$rc" 0 "export prometheus-rules: exit 0"
cmp -s "$tmp/r.yml" "$top/dashboard-export/prometheus-rules.yml"
ok $? "export prometheus-rules: the shipped rules, byte for byte"
out=$("$bin" export --help); rc=$?
is "$rc" 0 "export --help: exit 0"
like "$out" "^usage: dnssecmon export grafana\|prometheus-rules" "export --help: synopsis"
err=$("$bin" export 2>&1 >/dev/null); rc=$?
is "$rc" 3 "export without a name: exit 3"
like "$err" "usage: dnssecmon export" "export without a name: usage"
err=$("$bin" export kibana 2>&1 >/dev/null); rc=$?
is "$rc" 3 "export kibana: exit 3"
like "$err" "unknown export 'kibana'" "export kibana: named"

printf '. 3600 IN DNSKEY 257 3 13 %s\n' \
	"mdsswUyr3DPW132mOi8V9xESWE8jTo0dxCjjnopKl+GqJxpVXckHAeF+KkxLbxILfDLUT0rAK9iUzy1L53eKGQ==" > "$tmp/anchor"
head="trust_anchor: $tmp/anchor
domains: [example.com]"

good() {	# good DESCRIPTION CONFIG
	printf '%s\n' "$2" > "$tmp/c.yaml"
	# run -n checks that the database's directory exists and is writable.
	grep -q '^database:' "$tmp/c.yaml" ||
		printf 'database: %s\n' "$tmp/db.sqlite" >> "$tmp/c.yaml"
	out=$("$bin" run -c "$tmp/c.yaml" -n 2>"$tmp/err"); rc=$?
	is "$rc:$out" "0:configuration OK" "$1: configuration OK"
	is "$(cat "$tmp/err")" "" "$1: nothing on stderr"
}
bad() {	# bad DESCRIPTION REGEX CONFIG
	printf '%s\n' "$3" > "$tmp/c.yaml"
	out=$("$bin" run -c "$tmp/c.yaml" -n 2>"$tmp/err"); rc=$?
	[ "$rc" -ne 0 ]; ok $? "$1: exit non-zero (got $rc)"
	like "$(cat "$tmp/err")" "$2" "$1: the error names file, line and key"
}

good "http with every key" "$head
http:
  listen: 127.0.0.1:19470
  max_connections: 10
  max_connections_per_client: 4
  timeout: 5s
  request_timeout: 20s
  refresh: 1m"
good "http listen in [v6]:port" "$head
http: {listen: \"[::1]:9470\"}"
good "http alone (the default 127.0.0.1:9470)" "$head
http:"
good "hooks alone (the default listener)" "$head
hooks:
  dnsimple:
    secret: abcdefghijklmnopqrstuvwxyz012345"
bad "listen not an address" "c\.yaml:4: http\.listen: 'localhost:80' is not ADDR:PORT" "$head
http:
  listen: localhost:80"
bad "unknown http key" "c\.yaml:4: http: unknown key 'port'" "$head
http:
  port: 80"
bad "max_connections 0" "c\.yaml:4: http\.max_connections" "$head
http:
  max_connections: 0"
bad "timeout too long" "c\.yaml:4: http\.timeout" "$head
http:
  timeout: 1h"
bad "max_connections_per_client 0" "c\.yaml:4: http\.max_connections_per_client" "$head
http:
  max_connections_per_client: 0"
bad "request_timeout too long" "c\.yaml:4: http\.request_timeout" "$head
http:
  request_timeout: 10m"
bad "secret too short" "c\.yaml:5: hooks\.dnsimple\.secret: must be 16 to 128 characters" "$head
hooks:
  dnsimple:
    secret: s3cr3t-short"
unlike "$(cat "$tmp/err")" "s3cr3t-short" "secret too short: the value is not echoed"
bad "secret with a slash" "c\.yaml:5: hooks\.dnsimple\.secret" "$head
hooks:
  dnsimple:
    secret: abcdefgh/ijklmnopqrstu"
bad "dnsimple without a secret" "c\.yaml:4: hooks\.dnsimple: needs a secret" "$head
hooks:
  dnsimple: {}"
bad "an unknown host" "c\.yaml:4: hooks: unknown key 'github'" "$head
hooks:
  github: {secret: abcdefghijklmnopqrstu}"
done_testing
