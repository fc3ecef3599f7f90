#!/usr/bin/env bash
# Hostile input to the HTTP API that needs no DNS server (issue 13,
# item 8): a percent-encoded NUL in /api/v1/domains/NAME is refused with
# 400 instead of answering for the name before the NUL.
. "$(dirname "$0")/../lib.sh"
bin=$DNSSECMON_BIN
tmp=$(mktemp -d)
daemon=""
cleanup() {
	local i
	if [ -n "$daemon" ] && kill "$daemon" 2>/dev/null; then
		for i in $(seq 100); do
			kill -0 "$daemon" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$daemon" 2>/dev/null
		wait "$daemon" 2>/dev/null
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT

printf '. 3600 IN DNSKEY 257 3 13 %s\n' \
	"mdsswUyr3DPW132mOi8V9xESWE8jTo0dxCjjnopKl+GqJxpVXckHAeF+KkxLbxILfDLUT0rAK9iUzy1L53eKGQ==" > "$tmp/anchor"
# Nothing listens at 127.0.3.250: checks fail, the API still answers.
printf '. 3600 IN NS a.root-servers.net.\na.root-servers.net. 3600 IN A 127.0.3.250\n' > "$tmp/hints"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat > "$tmp/c.yaml" <<CONF
trust_anchor: $tmp/anchor
root_hints: $tmp/hints
resolvers: []
database: $tmp/db.sqlite
interval: 1h
http: {listen: 127.0.0.1:$port}
domains: [healthy.example]
CONF
"$bin" run -c "$tmp/c.yaml" >"$tmp/daemon.log" 2>&1 &
daemon=$!
url=http://127.0.0.1:$port
up=1
for i in $(seq 600); do	# hang guard: 60 s
	curl -s -f -m 10 "$url/healthz" >/dev/null && { up=0; break; }
	sleep 0.1
done
ok $up "daemon up: /healthz answers"
code() { curl -s -o "$tmp/body" -w '%{http_code}' -m 10 "$url$1"; }
is "$(code /api/v1/domains/healthy.example)" 200 "a monitored name: 200"
is "$(code /api/v1/domains/healthy.example%00.evil)" 400 "a decoded NUL: 400"
like "$(cat "$tmp/body")" "NUL" "a decoded NUL: the body says why"
is "$(code /api/v1/domains/%00)" 400 "a lone NUL: 400"
is "$(code /api/v1/domains/other.example)" 404 "a name not monitored: 404"
done_testing
