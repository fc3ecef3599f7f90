#!/usr/bin/env bash
# make demo: the monitor at work on the project's own private DNSSEC
# hierarchy. Brings the testbed up, checks every scenario zone, then walks
# one zone through a whole KSK rotation so you can watch the states change,
# and takes the testbed down again (DEMO_KEEP=1 leaves it running).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
bin=${DNSSECMON_BIN:-$top/dnssecmon}
export TESTBED_DIR=${TESTBED_DIR:-$top/build/testbed-demo}
tb=$here/testbed/testbed.sh

if [ "$(id -u)" != 0 ]; then
	echo "make demo needs root: the testbed's servers listen on port 53 of 127.0.0.x" >&2
	exit 1
fi
started=
cleanup() {
	if [ -n "$started" ] && [ "${DEMO_KEEP:-0}" != 1 ]; then
		echo; echo "== taking the testbed down"; "$tb" down || true
	fi
}
trap cleanup EXIT
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

say "bringing up a private signed root, TLD and scenario zones on loopback"
"$tb" up
started=1
eval "$("$tb" env)"
check() { "$bin" check --trust-anchor "$TESTBED_ANCHOR" --root-hints "$TESTBED_HINTS" \
	--resolver "$TESTBED_RESOLVER" "$@"; }

say "dnssecmon check, every scenario zone at once (Nagios line)"
check --format nagios $TESTBED_ZONES || true

say "the interesting ones in full"
check rollstart.$TESTBED_TLD broken.$TESTBED_TLD staleds.$TESTBED_TLD || true

say "the monitor daemon, watching every zone, while $TESTBED_SWITCH_ZONE rotates its KSK"
demo_dir=$(mktemp -d)
cat >"$demo_dir/dnssecmon.yaml" <<CONF
# What \`make demo\` runs: the daemon against the private hierarchy.
trust_anchor: $TESTBED_ANCHOR
root_hints: $TESTBED_HINTS
resolvers: [$TESTBED_RESOLVER]
database: $demo_dir/dnssecmon.db
interval: 2s
timeout: 1s
rotation_window: 7d
critical_before: 72h
domains:
$(for z in $TESTBED_ZONES; do echo "  - $z"; done)
CONF
echo "(config: $demo_dir/dnssecmon.yaml; the daemon logs below, one line per change)"
"$bin" run -c "$demo_dir/dnssecmon.yaml" &
daemon=$!
stop_daemon() { kill -TERM "$daemon" 2>/dev/null && wait "$daemon" 2>/dev/null; daemon=; }
trap 'stop_daemon; cleanup' EXIT
sleep 5
for state in rollstart dsupdated rolldone; do
	case $state in
	rollstart) what="the DNS host publishes a new KSK; the registrar still has the old DS";;
	dsupdated) what="the customer replaced the DS at the registrar";;
	rolldone)  what="the DNS host removed the old key: rotation complete";;
	esac
	printf '\n\033[1m-- %s: %s\033[0m\n' "$state" "$what"
	"$tb" switch "$state" >/dev/null
	sleep 5
done
printf '\n\033[1m-- and what happens when the old key goes before the DS is replaced\033[0m\n'
"$tb" switch rekey >/dev/null; sleep 4; "$tb" switch rollstart >/dev/null; sleep 4
"$tb" switch broken >/dev/null; sleep 5
stop_daemon
"$tb" switch healthy >/dev/null

say "what the store remembers: the rotations"
"$bin" rotations --db "$demo_dir/dnssecmon.db" || true
rm -rf "$demo_dir"

say "done"
if [ "${DEMO_KEEP:-0}" = 1 ]; then
	echo "The testbed is still up (TESTBED_DIR=$TESTBED_DIR); stop it with:"
	echo "  TESTBED_DIR=$TESTBED_DIR $tb down"
fi
