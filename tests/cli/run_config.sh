#!/usr/bin/env bash
# `dnssecmon run -c FILE -n`: "configuration OK" for good files, and for
# bad ones every error on stderr names FILE:LINE and the key, exit non-zero.
. "$(dirname "$0")/../lib.sh"
bin=$DNSSECMON_BIN
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

printf '. 3600 IN DNSKEY 257 3 13 %s\n' \
	"mdsswUyr3DPW132mOi8V9xESWE8jTo0dxCjjnopKl+GqJxpVXckHAeF+KkxLbxILfDLUT0rAK9iUzy1L53eKGQ==" > "$tmp/anchor"
printf '. 3600 IN NS a.root-servers.net.\na.root-servers.net. 3600 IN A 127.0.0.11\n' > "$tmp/hints"
head="trust_anchor: $tmp/anchor
root_hints: $tmp/hints"

good() {	# good DESCRIPTION CONFIG
	printf '%s\n' "$2" > "$tmp/c.yaml"
	# run -n checks that the database's directory exists and is writable.
	grep -q '^database:' "$tmp/c.yaml" ||
		printf 'database: %s\n' "$tmp/db.sqlite" >> "$tmp/c.yaml"
	out=$("$bin" run -c "$tmp/c.yaml" -n 2>"$tmp/err"); rc=$?
	is "$rc" 0 "$1: exit 0"
	is "$out" "configuration OK" "$1: prints 'configuration OK'"
	is "$(cat "$tmp/err")" "" "$1: nothing on stderr"
}
bad() {	# bad DESCRIPTION REGEX CONFIG
	printf '%s\n' "$3" > "$tmp/c.yaml"
	out=$("$bin" run -c "$tmp/c.yaml" -n 2>"$tmp/err"); rc=$?
	[ "$rc" -ne 0 ]; ok $? "$1: exit non-zero (got $rc)"
	like "$(cat "$tmp/err")" "$2" "$1: the error names file, line and key"
	is "$out" "" "$1: nothing on stdout"
}

# The shipped example, with loopback files so it is self-contained.
good "etc/dnssecmon.yaml" "$(sed -e "s#/usr/share/dns/root.key#$tmp/anchor#" \
	-e "s#/usr/share/dns/root.hints#$tmp/hints#" \
	-e "s#/var/lib/dnssecmon/dnssecmon.db#$tmp/db.sqlite#" \
	"$DNSSECMON_TOP/etc/dnssecmon.yaml")"

# The configuration inside the Kubernetes example, as its pods read it.
good "etc/kubernetes/dnssecmon-statefulset.yaml" "$(python3 -c '
import sys, yaml
for d in yaml.safe_load_all(open(sys.argv[1])):
    if d and d["kind"] == "Secret":
        sys.stdout.write(d["stringData"]["dnssecmon.yaml"])
' "$DNSSECMON_TOP/etc/kubernetes/dnssecmon-statefulset.yaml" |
	sed -e "s#/usr/share/dns/root.key#$tmp/anchor#" \
	-e "s#/var/lib/dnssecmon/dnssecmon.db#$tmp/db.sqlite#")"
# The systemd template's command line, for shard 2 of its N.
unit="$DNSSECMON_TOP/etc/dnssecmon@.service.in"
shards=$(sed -n 's/^Environment=DNSSECMON_SHARDS=//p' "$unit")
args=$(sed -n 's/^ExecStart=[^ ]* //p' "$unit" | sed -e 's/%i/2/g' \
	-e "s/\${DNSSECMON_SHARDS}/$shards/" -e "s#-c [^ ]*#-c $tmp/c.yaml#")
printf '%s\ndatabase: %s\ndomains: [example.com]\n' "$head" "$tmp/db.sqlite" > "$tmp/c.yaml"
# shellcheck disable=SC2086
out=$("$bin" $args -n 2>&1); rc=$?
is "$rc:$out" "0:configuration OK" "dnssecmon@.service: '$args' is a valid command line"
like "$args" "--shard 2/[0-9]+$" "dnssecmon@.service: shard %i of DNSSECMON_SHARDS"

good "minimal" "$head
domains: [example.com]"

good "every key" "$head
resolvers: [127.0.0.1, \"::1@5353\"]
database: $tmp/db.sqlite
interval: 90
timeout: 2s
retries: 1
rotation_window: 1w
critical_before: 3d
signature_warning: 4d
signature_critical: 12h
insecure_is_problem: yes
multi_signer: auto
cds_parents: [ch, LI., se]
cds_pickup: 36h
ipv6: no
tcp_every: 6
max_concurrent_domains: 100
max_queries_in_flight: 500
per_server_qps: 200
retention: 30d
log: json
http: {listen: 127.0.0.1:9470}
mqtt: {host: 127.0.0.1, port: 1883, topic_prefix: noc}
domains:
  - Example.COM.
  - name: example.org
    rotation_window: 14d
    critical_before: 5d
    interval: 1m
    multi_signer: yes"

good "cds_parents: [] turns the list off" "$head
cds_parents: []
domains: [example.com]"
bad "bad multi_signer" "c\.yaml:3: multi_signer: 'maybe': expected auto, yes or no" "$head
multi_signer: maybe
domains: [example.com]"
bad "bad per-domain multi_signer" "c\.yaml:5: domains\.multi_signer: 'two': expected auto, yes or no" "$head
domains:
  - name: example.com
    multi_signer: two"
bad "cds_parents not a list" "c\.yaml:3: cds_parents: expected a list of zones" "$head
cds_parents: ch
domains: [example.com]"
bad "bad cds_parents zone" "c\.yaml:3: cds_parents: 'a\.\.b' is not a valid zone name" "$head
cds_parents: [ch, a..b]
domains: [example.com]"
bad "cds_pickup too short" "c\.yaml:3: cds_pickup: '1m' is out of range" "$head
cds_pickup: 1m
domains: [example.com]"

bad "unknown top-level key" "c\.yaml:3: intervall: unknown key" "$head
intervall: 5m
domains: [example.com]"
bad "tcp_every out of range" "c\.yaml:3: tcp_every: '1001' is not a whole number from 0 to 1000" "$head
tcp_every: 1001
domains: [example.com]"
bad "tcp_every not a number" "c\.yaml:3: tcp_every: 'often' is not a whole number" "$head
tcp_every: often
domains: [example.com]"
bad "bad duration" "c\.yaml:3: interval: 'soon' is not a duration" "$head
interval: soon
domains: [example.com]"
bad "duration out of range" "c\.yaml:3: interval: '0' is out of range" "$head
interval: 0
domains: [example.com]"
bad "bad resolver" "c\.yaml:3: resolvers: '8\.8\.8' is not an IPv4 or IPv6 address" "$head
resolvers: [8.8.8]
domains: [example.com]"
bad "bad domain name" "c\.yaml:5: domains: 'bad\.\.name' is not a valid domain name" "$head
domains:
  - example.com
  - bad..name"
bad "domain listed twice" "c\.yaml:5: domains: 'example\.com' is listed twice \(first at line 4\)" "$head
domains:
  - example.com
  - EXAMPLE.com."
bad "unknown domain key" "c\.yaml:6: domains: unknown key 'window'" "$head
domains:
  - example.com
  - name: example.org
    window: 14d"
bad "missing trust anchor file" "c\.yaml:1: trust_anchor: $tmp/none: No such file" "trust_anchor: $tmp/none
root_hints: $tmp/hints
domains: [example.com]"
bad "unknown mqtt key" "c\.yaml:5: mqtt: unknown key 'hots'" "$head
domains: [example.com]
mqtt:
  hots: 127.0.0.1"
bad "bad mqtt port" "c\.yaml:4: mqtt\.port: '70000' is not a whole number" "$head
domains: [example.com]
mqtt: {port: 70000}"
bad "bad log" "c\.yaml:4: log: 'file': expected stderr, syslog or json" "$head
domains: [example.com]
log: file"
bad "key given twice" "c\.yaml:4: interval: given twice" "$head
interval: 5m
interval: 6m
domains: [example.com]"
bad "no domains" "domains: no domain to monitor" "$head
domains: []"
bad "not YAML" "c\.yaml:[0-9]+: not valid YAML" "trust_anchor: [unclosed
domains: example.com"
bad "not a mapping" "c\.yaml:1: the file must be a mapping" "- just
- a list"

# One document, nested at most 32 deep (issue 13, item 6): a second
# document was silently ignored, and libyaml takes time quadratic in depth.
bad "two YAML documents" "c\.yaml:4: a second YAML document: the file must hold exactly one" "$head
domains: [example.com]
---
domains: [example.org]"
bad "a second document after ---" "c\.yaml:5: a second YAML document" "---
$head
domains: [example.com]
---
resolvers: []"
good "one document opened with ---" "---
$head
domains: [example.com]"
bad "nested 33 deep" "c\.yaml:3: nested more than 32 levels deep" "$head
x: $(printf '[%.0s' $(seq 32))$(printf ']%.0s' $(seq 32))
domains: [example.com]"
bad "nested 40,000 deep" "c\.yaml:3: nested more than 32 levels deep" "$head
x: $(head -c 40000 /dev/zero | tr '\0' '[')$(head -c 40000 /dev/zero | tr '\0' ']')
domains: [example.com]"
bad "nested 33 deep, block style" "c\.yaml:[0-9]+: nested more than 32 levels deep" "$head
domains: [example.com]
$(for i in $(seq 0 32); do printf '%*sk%d:\n' $((i * 2)) '' "$i"; done)"

# Large files: every domain and sink name checked against all the others
# (a hash set now; the time is printed by tests/bench/bench.sh, not
# asserted here).
{ printf '%s\ndomains:\n' "$head"
  seq -f '  - d%06g.example' 1 100000
  echo '  - d000007.example'; } > "$tmp/big.yaml"
err=$("$bin" run -c "$tmp/big.yaml" -n 2>&1 >/dev/null); rc=$?
is "$rc" 1 "100,000 domains, one listed twice: exit 1"
like "$err" "big\.yaml:100004: domains: 'd000007\.example' is listed twice \(first at line 10\)" \
	"100,000 domains, one listed twice: both lines named"
{ printf '%s\ndomains: [example.com]\nwebhooks:\n' "$head"
  for i in $(seq 2000); do echo '  - url: http://127.0.0.1:9/hook'; done
  echo '  - {url: http://127.0.0.1:9/hook, name: "webhook:127.0.0.1/hook#7"}'
  echo "database: $tmp/db.sqlite"; } > "$tmp/hooks.yaml"
err=$("$bin" run -c "$tmp/hooks.yaml" -n 2>&1 >/dev/null); rc=$?
is "$rc" 1 "2,000 webhooks on one URL, then a name taken by one: exit 1"
like "$err" "hooks\.yaml:2005: webhooks\.name: 'webhook:127\.0\.0\.1/hook#7' names another sink" \
	"2,000 webhooks on one URL: default names #2, #3, ... are unique and taken"
sed -i '/name: "webhook/d' "$tmp/hooks.yaml"
out=$("$bin" run -c "$tmp/hooks.yaml" -n 2>&1); rc=$?
is "$rc:$out" "0:configuration OK" "2,000 webhooks on one URL: configuration OK"

printf '%s\ninterval: soon\nbogus: 1\ndomains: [a..b]\n' "$head" > "$tmp/multi.yaml"
"$bin" run -c "$tmp/multi.yaml" -n 2>"$tmp/err"
is "$(grep -c 'multi.yaml:' "$tmp/err")" 3 "every error in a file is reported, not just the first"

err=$("$bin" run -c "$tmp/nonexistent.yaml" -n 2>&1); rc=$?
[ "$rc" -ne 0 ]; ok $? "missing config file: exit non-zero"
like "$err" "nonexistent.yaml: No such file or directory" "missing config file: named"
# Without -c: /etc/dnssecmon/dnssecmon.yaml, where the package puts it.
# tests/e2e/debian_package.py installs and purges that package while it
# holds this lock: another suite running at once (.ci/run runs two) must
# not see the file come or go between the run and the look.
exec {pkglock}<>/run/lock/dnssecmon-package.lock && flock -s "$pkglock"
err=$("$bin" run -n 2>&1); rc=$?
if [ -e /etc/dnssecmon/dnssecmon.yaml ]; then
	like "$err$rc" "/etc/dnssecmon/dnssecmon\.yaml|^configuration OK0$" \
	    "run without -c: checks /etc/dnssecmon/dnssecmon.yaml"
else
	is "$rc" 3 "run without -c and no /etc/dnssecmon/dnssecmon.yaml: exit 3"
	like "$err" "no -c FILE given and /etc/dnssecmon/dnssecmon\.yaml does not exist" \
	    "run without -c: names the default path"
fi
[ -n "${pkglock:-}" ] && exec {pkglock}>&-
out=$("$bin" run --help); rc=$?
like "$out" "-c, --config FILE +the configuration \(default /etc/dnssecmon/dnssecmon\.yaml\)" \
    "run --help: -c and its default"

# Inverted thresholds are refused, naming both values.
bad "signature_critical not shorter than signature_warning" \
    "c\.yaml:1: signature_critical: 172800s is not shorter than signature_warning \(86400s\)" "$head
signature_warning: 1d
signature_critical: 2d
domains: [example.com]"
bad "signature_critical equal to signature_warning" \
    "signature_critical: 86400s is not shorter than signature_warning \(86400s\)" "$head
signature_warning: 1d
signature_critical: 1d
domains: [example.com]"
bad "critical_before not shorter than rotation_window" \
    "c\.yaml:1: critical_before: 259200s is not shorter than rotation_window \(172800s\)" "$head
rotation_window: 2d
critical_before: 3d
domains: [example.com]"
bad "a domain's critical_before not shorter than its rotation_window" \
    "c\.yaml:4: domains: example\.org: critical_before \(691200s\) is not shorter than rotation_window \(604800s\)" "$head
domains:
  - name: example.org
    critical_before: 8d"
err=$("$bin" run -c x --shard 5/4 2>&1); rc=$?
is "$rc" 3 "bad --shard: exit 3"
like "$err" "--shard '5/4': expected K/N" "bad --shard: named"
# --shard auto: the host name to shard mapping is tests/unit/test_shard.c;
# here, that the daemon refuses to guess N.
err=$(env -u DNSSECMON_SHARDS "$bin" run -c x --shard auto 2>&1); rc=$?
is "$rc" 3 "--shard auto without DNSSECMON_SHARDS: exit 3"
like "$err" "DNSSECMON_SHARDS is not set" "--shard auto without N: says so"
err=$(DNSSECMON_SHARDS=many "$bin" run -c x --shard auto 2>&1); rc=$?
is "$rc" 3 "--shard auto, DNSSECMON_SHARDS=many: exit 3"
like "$err" "DNSSECMON_SHARDS='many' is not a number" "--shard auto: bad N named"

good "instance" "$head
instance: dnssecmon-a-3
domains: [example.com]"
bad "instance with a slash" "c.yaml:3: instance: 'a/b': expected 1 to 64" "$head
instance: a/b
domains: [example.com]"
bad "instance as a list" "c.yaml:3: instance: expected a single value" "$head
instance: [a, b]
domains: [example.com]"
done_testing
