#!/usr/bin/env bash
# The store's commands (rotations, history, keys, check --db) without DNS:
# reading the kept version 1 database back, and every error a person can
# make: one line on stderr naming the problem and the file, exit 3,
# nothing on stdout, and no database created or changed by a reader.
. "$(dirname "$0")/../lib.sh"
bin=$DNSSECMON_BIN
top=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

db=$tmp/fixture.db
sqlite3 "$db" <"$top/tests/store/schema_v1.sql"
sum_before=$(md5sum <"$db")

# expect_error DESCRIPTION REGEX COMMAND ARGS...
expect_error() {
	local desc=$1 re=$2; shift 2
	local out err rc lines
	out=$("$bin" "$@" 2>"$tmp/err"); rc=$?
	err=$(cat "$tmp/err")
	lines=$(grep -c . "$tmp/err")
	is "$rc" 3 "$desc: exit 3"
	like "$err" "$re" "$desc: the error names the problem"
	is "$out" "" "$desc: nothing on stdout"
	is "$lines" 1 "$desc: exactly one line on stderr"
}

# --- reading back (the fixture: fixture.test, healthy then rollstart)
out=$("$bin" rotations --db "$db" --format json); rc=$?
is "$rc" 0 "rotations --format json exits 0"
got=$(printf '%s' "$out" | python3 -c '
import json, sys
r = json.load(sys.stdin)["rotations"]
print(len(r), r[0]["domain"], r[0]["kind"], r[0]["start"], r[0]["deadline"],
      r[0]["registrar_deadline"], r[0]["ds_updated_at"], r[0]["completed_at"],
      r[0]["outcome"], r[0]["new_key_tag"], r[0]["old_key_tags"])')
is "$got" "1 fixture.test ksk 2025-12-01T01:00:00Z 2025-12-08T01:00:00Z 2025-12-08T00:00:00Z None None None 25729 [832]" \
	"rotations JSON: every field of the open rotation"
out=$("$bin" rotations --db "$db" --open); rc=$?
is "$rc" 0 "rotations --open (text) exits 0"
like "$out" '^fixture\.test +ksk +25729 +2025-12-01T01:00:00Z +2025-12-08T00:00:00Z' "rotations text: one row per rotation"

out=$("$bin" history fixture.test --db "$db" --format json); rc=$?
is "$rc" 0 "history --format json exits 0"
got=$(printf '%s' "$out" | python3 -c '
import json, sys
d = json.load(sys.stdin)
print(d["domain"], " ".join("%s/%s/%s/%s/%s" % (o["time"], o["severity"], o["state"],
      o["validation"], ",".join("%s:%s" % (p["code"], p["severity"]) for p in o["problems"]))
      for o in d["observations"]))')
is "$got" "fixture.test 2025-12-01T00:00:00Z/ok/stable/secure/ 2025-12-01T01:00:00Z/warning/rotation_pending/secure/rotation_pending:warning,rotation_deadline:warning" \
	"history JSON: time, severity, state, validation, problems as {code, severity, message}"
out=$("$bin" history FIXTURE.test. --db "$db"); rc=$?
is "$rc" 0 "history text exits 0 (name in any case, with a final dot)"
is "$(printf '%s\n' "$out" | wc -l)" 2 "history text: one line per observation"
for since in 2025-12-01T00:30:00Z 1764549000; do
	out=$("$bin" history fixture.test --db "$db" --since "$since" --format json)
	is "$(printf '%s' "$out" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["observations"]))')" 1 \
		"history --since $since"
done
out=$(DNSSECMON_NOW=2025-12-01T01:10:00Z "$bin" history fixture.test --db "$db" --since 30m --format json)
is "$(printf '%s' "$out" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["observations"]))')" 1 \
	"history --since 30m counts back from DNSSECMON_NOW"
out=$(DNSSECMON_NOW=2025-12-05T00:00:00Z "$bin" history fixture.test --db "$db" --since 7d --format json)
is "$(printf '%s' "$out" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["observations"]))')" 2 \
	"history --since 7d"

out=$("$bin" keys fixture.test --db "$db" --format json); rc=$?
is "$rc" 0 "keys --format json exits 0"
got=$(printf '%s' "$out" | python3 -c '
import json, sys
d = json.load(sys.stdin)
print(sorted((k["key_tag"], k["role"], k["first_seen"], k["published"]) for k in d["dnskeys"]),
      [(x["key_tag"], x["matches_key_tag"], x["at_parent"]) for x in d["ds"]])')
is "$got" "[(832, 'ksk', '2025-12-01T00:00:00Z', True), (25729, 'ksk', '2025-12-01T01:00:00Z', True), (50370, 'zsk', '2025-12-01T00:00:00Z', True)] [(832, 832, True)]" \
	"keys JSON: every key with first seen, the DS and its key"
# One encoder (store_keys_json) for keys and the API: one spelling.
got=$(printf '%s' "$out" | python3 -c '
import json, sys
d = json.load(sys.stdin)
print(sorted(set().union(*(k.keys() for k in d["dnskeys"]))), sorted(set().union(*(x.keys() for x in d["ds"]))))')
is "$got" "['algorithm', 'ds_first_seen', 'first_seen', 'flags', 'key_tag', 'last_seen', 'published', 'role', 'signing_first_seen'] ['algorithm', 'arrived_after_first_check', 'at_parent', 'digest', 'digest_type', 'first_seen', 'key_tag', 'last_seen', 'matches_key_tag', 'record']" \
	"keys JSON: the fields of the key and DS timeline, as documented"
out=$("$bin" keys fixture.test --db "$db"); rc=$?
is "$rc" 0 "keys text exits 0"
like "$out" 'DNSKEY +25729 +8 KSK +2025-12-01T01:00:00Z' "keys text: the new key with its first sight"

is "$(md5sum <"$db")" "$sum_before" "readers left the database file unchanged"

# --- errors
for c in rotations "history x.test" "keys x.test"; do
	# shellcheck disable=SC2086
	expect_error "$c: no such database" "$tmp/none.db: no such database" $c --db "$tmp/none.db"
	ok "$([ ! -e "$tmp/none.db" ]; echo $?)" "$c: did not create the database"
	# shellcheck disable=SC2086
	expect_error "$c: --db missing" "--db FILE is required" $c
	# shellcheck disable=SC2086
	expect_error "$c: unknown option" "unknown option '--frob'" $c --db "$db" --frob
	# shellcheck disable=SC2086
	expect_error "$c: bad format" "--format 'xml': expected text or json" $c --db "$db" --format xml
done
printf 'this is not a database, nor anything like one, but long enough to have a header..........' >"$tmp/garbage.db"
expect_error "rotations: corrupt database" "$tmp/garbage.db: file is not a database" rotations --db "$tmp/garbage.db"
expect_error "history: corrupt database" "$tmp/garbage.db: file is not a database" history x.test --db "$tmp/garbage.db"
expect_error "check --db: corrupt database" "$tmp/garbage.db: file is not a database" check --resolver none --db "$tmp/garbage.db" x.test
sqlite3 "$tmp/newer.db" 'PRAGMA application_id = 1684960109; PRAGMA user_version = 99; CREATE TABLE t (x);'
expect_error "rotations: database from a newer version" "$tmp/newer.db: schema version 99 is newer" rotations --db "$tmp/newer.db"
expect_error "check --db: database from a newer version" "$tmp/newer.db: schema version 99 is newer" check --resolver none --db "$tmp/newer.db" x.test
is "$(sqlite3 "$tmp/newer.db" 'PRAGMA user_version')" 99 "the newer database is left alone"
sqlite3 "$tmp/foreign.db" 'CREATE TABLE t (x);'
expect_error "keys: somebody else's database" "$tmp/foreign.db: not a dnssecmon database" keys x.test --db "$tmp/foreign.db"
: >"$tmp/empty.db"
expect_error "rotations: empty file" "$tmp/empty.db: empty, not a dnssecmon database yet" rotations --db "$tmp/empty.db"
expect_error "rotations: a directory" "$tmp: is a directory" rotations --db "$tmp"
expect_error "history: bad time" "--since 'yesterday': expected RFC 3339 UTC" history fixture.test --db "$db" --since yesterday
expect_error "history: bad age" "--since '7x': expected RFC 3339 UTC" history fixture.test --db "$db" --since 7x
expect_error "history: unknown domain" "other.test: never recorded in $db" history other.test --db "$db"
expect_error "keys: not a domain name" "'a..b' is not a valid domain name" keys a..b --db "$db"
expect_error "history: two domains" "one domain at a time" history a.test b.test --db "$db"
expect_error "rotations: stray argument" "unexpected argument 'x.test'" rotations x.test --db "$db"

for c in rotations history keys; do
	out=$("$bin" "$c" --help); rc=$?
	is "$rc" 0 "$c --help exits 0"
	like "$out" "^usage: dnssecmon $c " "$c --help prints its synopsis"
done
like "$("$bin" history --help)" "unix seconds" "history --help says what TIME may be"
done_testing
