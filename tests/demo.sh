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

say "a KSK rotation on $TESTBED_SWITCH_ZONE, step by step"
for state in healthy rollstart dsupdated rolldone; do
	case $state in
	healthy)   what="one KSK, its DS at the parent";;
	rollstart) what="the DNS host publishes a new KSK; the registrar still has the old DS";;
	dsupdated) what="the customer replaced the DS at the registrar";;
	rolldone)  what="the DNS host removed the old key";;
	esac
	echo; echo "-- $state: $what"
	"$tb" switch "$state" >/dev/null
	check "$TESTBED_SWITCH_ZONE" || true
done
echo; echo "-- broken: what happens when the old key goes before the DS is replaced"
"$tb" switch rekey >/dev/null; "$tb" switch broken >/dev/null
check "$TESTBED_SWITCH_ZONE" || true
"$tb" switch healthy >/dev/null

say "done"
if [ "${DEMO_KEEP:-0}" = 1 ]; then
	echo "The testbed is still up (TESTBED_DIR=$TESTBED_DIR); stop it with:"
	echo "  TESTBED_DIR=$TESTBED_DIR $tb down"
fi
