#!/usr/bin/env bash
# `dnssecmon run -c FILE -n` on the alert sinks: every key accepted, and a
# bad URL, port, unknown key, missing certificate, a hook that is not an
# absolute executable path or an unknown transition refused with FILE:LINE.
. "$(dirname "$0")/../lib.sh"
bin=$DNSSECMON_BIN
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

printf '. 3600 IN DNSKEY 257 3 13 %s\n' \
	"mdsswUyr3DPW132mOi8V9xESWE8jTo0dxCjjnopKl+GqJxpVXckHAeF+KkxLbxILfDLUT0rAK9iUzy1L53eKGQ==" > "$tmp/anchor"
printf '. 3600 IN NS a.root-servers.net.\na.root-servers.net. 3600 IN A 127.0.0.11\n' > "$tmp/hints"
printf '#!/bin/sh\nexit 0\n' > "$tmp/hook"; chmod 755 "$tmp/hook"
printf '#!/bin/sh\nexit 0\n' > "$tmp/noexec"; chmod 644 "$tmp/noexec"
: > "$tmp/ca.crt"; : > "$tmp/client.crt"; : > "$tmp/client.key"
head="trust_anchor: $tmp/anchor
root_hints: $tmp/hints
domains: [example.com]"

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

good "every alert key" "$head
alerts: {fire_after_checks: 3, fire_after: 10m, repeat: 12h}
mqtt:
  host: broker.example.net
  port: 8883
  topic_prefix: noc/dns
  client_id: dnssecmon-1
  username: monitor
  password: s3cret
  ca_file: $tmp/ca.crt
  cert_file: $tmp/client.crt
  key_file: $tmp/client.key
  keepalive: 30s
  reconnect_max: 2m
webhooks:
  - https://hooks.example.net/dnssec
  - url: http://127.0.0.1:9093/api/v2/alerts
    name: alertmanager
    format: alertmanager
    timeout: 5s
    retry_max: 10m
    headers: {Authorization: Bearer x, X-Team: dns}
    on: [firing, escalated, resolved]
  - {url: \"https://[::1]:8443/x?token=1\", ca_file: $tmp/ca.crt, on: firing}
exec:
  - command: [$tmp/hook, --zone, example.com]
    on: [firing, escalated, resolved]
    timeout: 30s
    retries: 2
  - {command: $tmp/hook, name: second}"

bad "unknown webhook key" "c\.yaml:6: webhooks: unknown key 'urll'" "$head
webhooks:
  - url: http://127.0.0.1/x
    urll: http://127.0.0.1/y"
bad "not an http URL" "c\.yaml:5: webhooks\.url: 'ftp://example\.net/' is not an http:// or https:// URL" "$head
webhooks:
  - ftp://example.net/"
bad "bad URL port" "c\.yaml:5: webhooks\.url: 'http://127\.0\.0\.1:70000/x': port 70000 is not from 1 to 65535" "$head
webhooks:
  - {url: \"http://127.0.0.1:70000/x\"}"
bad "URL port not a number" "c\.yaml:5: webhooks\.url: .*the port must be a number" "$head
webhooks:
  - http://127.0.0.1:http/x"
good "Home Assistant discovery and grouped alerts" "$head
alerts: {group: check}
mqtt: {host: 127.0.0.1, homeassistant: yes, homeassistant_prefix: ha/disc}"
good "grouping off" "$head
alerts: {group: none}"
bad "unknown alerts.group" "c\.yaml:4: alerts\.group: 'domain': expected check .* or none" "$head
alerts: {group: domain}"
bad "homeassistant not a boolean" "c\.yaml:4: mqtt\.homeassistant: 'maybe' is not yes or no" "$head
mqtt: {host: 127.0.0.1, homeassistant: maybe}"
bad "homeassistant_prefix without homeassistant" "c\.yaml:4: mqtt\.homeassistant_prefix: set, but homeassistant is not yes" "$head
mqtt: {host: 127.0.0.1, homeassistant_prefix: ha}"
bad "homeassistant_prefix with a wildcard" "c\.yaml:4: mqtt\.homeassistant_prefix: 'ha/#': no wildcards" "$head
mqtt: {host: 127.0.0.1, homeassistant: yes, homeassistant_prefix: ha/#}"
bad "unknown format" "c\.yaml:5: webhooks\.format: 'slack': expected json or alertmanager" "$head
webhooks:
  - {url: http://127.0.0.1/x, format: slack}"
bad "ca_file on http" "c\.yaml:5: webhooks\.ca_file: given for an http:// URL" "$head
webhooks:
  - {url: http://127.0.0.1/x, ca_file: $tmp/ca.crt}"
bad "header with a newline" "c\.yaml:5: webhooks\.headers: Host is set by dnssecmon" "$head
webhooks:
  - {url: http://127.0.0.1/x, headers: {Host: evil}}"
bad "bad mqtt port" "c\.yaml:5: mqtt\.port: '0' is not a whole number from 1 to 65535" "$head
mqtt: {host: 127.0.0.1,
  port: 0}"
bad "unknown mqtt key" "c\.yaml:6: mqtt: unknown key 'tls'" "$head
mqtt:
  host: 127.0.0.1
  tls: yes"
bad "mqtt without host" "c\.yaml:5: mqtt\.host: missing" "$head
mqtt:
  port: 1883"
bad "missing CA file" "c\.yaml:6: mqtt\.ca_file: $tmp/nope\.crt: No such file or directory" "$head
mqtt:
  host: 127.0.0.1
  ca_file: $tmp/nope.crt"
bad "client cert without key" "c\.yaml:7: mqtt\.cert_file: a client certificate needs both cert_file and key_file" "$head
mqtt:
  host: 127.0.0.1
  ca_file: $tmp/ca.crt
  cert_file: $tmp/client.crt"
bad "password without username" "c\.yaml:6: mqtt\.password: given without a username" "$head
mqtt:
  host: 127.0.0.1
  password: x"
bad "wildcard topic prefix" "c\.yaml:4: mqtt\.topic_prefix: 'noc/#': no wildcards" "$head
mqtt: {host: 127.0.0.1, topic_prefix: noc/#}"
bad "exec command not absolute" "c\.yaml:6: exec\.command: 'hook' is not an absolute path" "$head
exec:
  - on: [firing]
    command: [hook, arg]"
bad "exec command not executable" "c\.yaml:5: exec\.command: $tmp/noexec: not executable" "$head
exec:
  - {command: [$tmp/noexec]}"
bad "exec command missing" "c\.yaml:5: exec\.command: $tmp/gone: No such file" "$head
exec:
  - {command: [$tmp/gone]}"
bad "exec command as a shell line" "c\.yaml:5: exec\.command: .*as a list" "$head
exec:
  - {command: \"$tmp/hook --flag\"}"
bad "unknown transition" "c\.yaml:7: exec\.on: unknown transition 'fired' \(known: firing, escalated, reminder, resolved\)" "$head
exec:
  - command: [$tmp/hook]
    on:
      - fired"
bad "unknown exec key" "c\.yaml:6: exec: unknown key 'timout'" "$head
exec:
  - command: [$tmp/hook]
    timout: 5s"
bad "bad exec timeout" "c\.yaml:5: exec\.timeout: 'forever' is not a duration" "$head
exec:
  - {command: [$tmp/hook], timeout: forever}"
bad "duplicate sink name" "c\.yaml:7: exec\.name: 'x' names another sink already" "$head
webhooks: [{url: http://127.0.0.1/a, name: x}]
exec:
  - {command: [$tmp/hook],
     name: x}"
good "alertmanager, every key" "$head
alertmanager:
  urls: [http://am1.example:9093, 'https://[::1]:9093/am/']
  resend: 30s
  timeout: 5s
  retry_max: 1m
  ca_file: $tmp/ca.crt
  headers: {Authorization: Bearer x}"
good "alertmanager, one URL" "$head
alertmanager: {urls: http://127.0.0.1:9093/api/v2/alerts}"
bad "alertmanager without urls" "c\.yaml:4: alertmanager\.urls: missing" "$head
alertmanager: {resend: 1m}"
bad "alertmanager bad URL" "c\.yaml:5: alertmanager\.urls: 'am1:9093' is not an http:// or https:// URL" "$head
alertmanager:
  urls: [am1:9093]"
bad "alertmanager URL twice" "c\.yaml:5: alertmanager\.urls: 'http://a:1' is listed twice" "$head
alertmanager:
  urls: [http://a:1, http://a:1]"
bad "alertmanager resend too short" "c\.yaml:4: alertmanager\.resend: " "$head
alertmanager: {urls: [http://a:1], resend: 1s}"
bad "alertmanager unknown key" "c\.yaml:5: alertmanager: unknown key 'url'" "$head
alertmanager:
  url: http://a:1"
bad "alertmanager ca_file without https" "c\.yaml:4: alertmanager\.ca_file: given, but no URL is https://" "$head
alertmanager: {urls: [http://a:1], ca_file: $tmp/ca.crt}"
bad "a webhook named alertmanager beside it" "c\.yaml:6: alertmanager: another sink is named 'alertmanager'" "$head
webhooks: [{url: http://127.0.0.1/a, name: alertmanager}]
alertmanager:
  urls: [http://a:1]"
bad "a webhook named alertmanager after it" "c\.yaml:5: webhooks\.name: 'alertmanager' names another sink already" "$head
alertmanager: {urls: [http://a:1]}
webhooks: [{url: http://127.0.0.1/a, name: alertmanager}]"
bad "unknown alerts key" "c\.yaml:5: alerts: unknown key 'fire_after_check'" "$head
alerts:
  fire_after_check: 2"
bad "bad repeat" "c\.yaml:4: alerts\.repeat: at least 60s" "$head
alerts: {repeat: 5s}"
done_testing
