#!/usr/bin/env bash
# selftest.sh - prove that every scenario of a running testbed is what it claims to be.
#
# Needs a testbed that is up (tests/testbed/testbed.sh up); leaves it up, with
# switch.$TESTBED_TLD back in 'healthy'. Prints one line per assertion,
# "ok - ..." or "not ok - ..."; details of a failure go to stderr. Exit 1 if any failed.
#
# Independence: the verdicts come from three validators that share no code path with the
# testbed's own bookkeeping: the testbed resolver (unbound, AD bit / SERVFAIL), delv with
# +cdflag (BIND's validator; +cdflag makes the resolver hand over even bogus data, so delv
# validates it itself instead of relaying the SERVFAIL), and libunbound iterating from the
# private root without the resolver (ubcheck.py). Structure is read from the authoritative
# servers with dig; key tags come from dig's own key-id computation, DS digests from
# dnssec-dsfromkey over the *served* DNSKEYs. The only testbed file trusted is
# keys/<zone>/roles, to know which tag plays which role. getdns is used once, to show that
# root.key is also readable by dnssecmon's stub library.
set -uo pipefail
export LC_ALL=C

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TB=$HERE/testbed.sh
UBCHECK=$HERE/ubcheck.py
eval "$("$TB" env)"
TLD=$TESTBED_TLD
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
FAILED=0

ok()     { echo "ok - $*"; }
not_ok() { echo "not ok - $*"; FAILED=1; }
diag()   { echo "#   $*" >&2; }

# is DESC EXPECTED GOT: assert two strings are equal.
is() {
    if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1"; diag "expected: '$2'"; diag "     got: '$3'"; fi
}
# check DESC CMD...: assert a command succeeds.
check() { local d=$1; shift; if "$@" >/dev/null 2>&1; then ok "$d"; else not_ok "$d"; fi; }

setof() { tr ' ' '\n' | awk 'NF' | sort -u | xargs; }   # words -> sorted unique set

# ---------------------------------------------------------------------------------------
# What each state must look like, restated from the testbed brief ON PURPOSE rather than
# sourced from testbed.sh: a mistake in its state_def() must show up here, not be copied.
#   E_KSK_A/E_KSK_B  KSK roles served by server a / b     E_ZSK     ZSK roles served
#   E_SIGNERS        roles whose RRSIG covers DNSKEY       E_ZSIGNER role signing the SOA
#   E_DS             roles with a DS at the TLD            E_CDS     roles in CDS
#   E_VERDICT        secure|bogus|insecure                 E_WINDOW  RRSIG validity
#   E_DS_DIGEST      digest type of every DS at the TLD
#   E_KEY_TTL/E_DS_TTL  TTL of the served DNSKEY RRset / of the TLD's DS
expect_state() {
    E_KSK_A="ksk" E_KSK_B="" E_ZSK="zsk" E_SIGNERS="ksk" E_ZSIGNER="zsk" E_DS="ksk" E_CDS="ksk"
    E_VERDICT=secure E_WINDOW=normal
    E_DS_DIGEST=2 E_KEY_TTL=3600 E_DS_TTL=3600
    case $1 in
    healthy) ;;
    rollstart)   E_KSK_A="ksk ksk_new"; E_SIGNERS="ksk ksk_new"; E_CDS="ksk_new" ;;
    dsupdated)   E_KSK_A="ksk ksk_new"; E_SIGNERS="ksk ksk_new"; E_DS="ksk_new"; E_CDS="ksk_new" ;;
    rolldone)    E_KSK_A="ksk_new"; E_SIGNERS="ksk_new"; E_DS="ksk_new"; E_CDS="ksk_new" ;;
    broken)      E_KSK_A="ksk_new"; E_SIGNERS="ksk_new"; E_DS="ksk"; E_CDS="ksk_new"; E_VERDICT=bogus ;;
    staleds)     E_KSK_A="ksk_new"; E_SIGNERS="ksk_new"; E_DS="ksk_new ksk"; E_CDS="ksk_new" ;;
    doubleds)    E_DS="ksk ksk_new" ;;
    expired)     E_VERDICT=bogus; E_WINDOW=expired ;;
    notyet)      E_VERDICT=bogus; E_WINDOW=notyet ;;
    expiring)    E_WINDOW=expiring ;;
    algmismatch) E_KSK_A="alt_ksk"; E_ZSK="alt_zsk"; E_SIGNERS="alt_ksk"; E_ZSIGNER="alt_zsk"
                 E_CDS="alt_ksk"; E_VERDICT=bogus ;;
    split)       E_KSK_B="ksk ksk_new" ;;
    unsigned)    E_KSK_A="" E_ZSK="" E_SIGNERS="" E_ZSIGNER="" E_DS="" E_CDS="" E_VERDICT=insecure ;;
    zskroll)     E_ZSK="zsk zsk2" ;;
    # Deprecated crypto still validates at unbound 1.17 / OpenSSL 3.0 (measured).
    sha1ds)      E_DS_DIGEST=1 ;;
    rsasha1|rsa1024) ;;
    p384)        E_KSK_A="ksk ksk_new"; E_SIGNERS="ksk ksk_new"; E_CDS="ksk_new" ;;
    longttl)     E_KSK_A="ksk ksk_new"; E_SIGNERS="ksk ksk_new"; E_CDS="ksk_new"
                 E_KEY_TTL=172800; E_DS_TTL=259200 ;;
    # Signed, no DS at the parent; dsboot also has CDS and RFC 9615 signals.
    dsboot|dsbootwrong|dsbootinsecure) E_DS=""; E_VERDICT=insecure ;;
    nodsboot)    E_DS=""; E_CDS=""; E_VERDICT=insecure ;;
    nocdsstart)  E_KSK_A="ksk ksk_new"; E_SIGNERS="ksk ksk_new"; E_CDS="" ;;
    nocdsswap)   E_KSK_A="ksk ksk_new"; E_SIGNERS="ksk ksk_new"; E_DS="ksk_new"; E_CDS="" ;;
    *) echo "selftest: unknown state $1" >&2; exit 2 ;;
    esac
    [ -n "$E_KSK_B" ] || E_KSK_B=$E_KSK_A
}

# The zone's signing algorithm as the brief fixes it: healthy, rollstart, dsupdated and
# the switch zone use 8; algmismatch is signed with 13 whatever the zone.
expect_alg() { # zone state
    case $2 in unsigned) echo ""; return ;; algmismatch) echo 13; return ;; esac
    case ${1%%.*} in healthy|rollstart|dsupdated|switch|rsa1024) echo 8 ;; rsasha1) echo 5 ;; p384) echo 14 ;; *) echo 13 ;; esac
}

# role -> key tag, from the BIND key file name K<zone>.+<alg>+<tag>
tags_of() { # zone roles...
    local zone=$1 r name out=""
    shift
    for r in "$@"; do
        name=$(awk -v r="$r" '$1 == r { print $2 }' "$TESTBED_KEYS/$zone/roles")
        [ -n "$name" ] && out="$out $((10#${name##*+}))" || out="$out MISSING-$r"
    done
    echo "$out" | setof
}

# ---------------------------------------------------------------------------------------
# Independent verdicts

resolver_verdict() { # name type -> secure | insecure | servfail | <status>
    local out status
    out=$(dig @"$TESTBED_RESOLVER" +dnssec +time=3 +tries=2 "$1" "$2" 2>&1)
    status=$(sed -n 's/.*status: \([A-Z]*\),.*/\1/p' <<<"$out")
    case $status in
    NOERROR) if grep -qE '^;; flags:[^;]* ad[ ;]' <<<"$out"; then echo secure; else echo insecure; fi ;;
    SERVFAIL) echo servfail ;;
    *) echo "${status:-noanswer}" ;;
    esac
}

delv_verdict() { # name type -> secure | insecure | bogus | other
    local out
    out=$(timeout 20 delv @"$TESTBED_RESOLVER" -a "$TESTBED_ANCHOR_CONF" +root=. +cdflag "$1" "$2" 2>&1)
    if grep -q '^; fully validated' <<<"$out"; then echo secure
    elif grep -q '^; unsigned answer' <<<"$out"; then echo insecure
    elif grep -q 'resolution failed: broken trust chain' <<<"$out"; then echo bogus
    else echo "other: $(grep '^;' <<<"$out" | tail -1)"; fi
}

ub_verdict() { # name type -> secure | insecure | bogus
    timeout 20 "$UBCHECK" "$TESTBED_LIBUNBOUND_CONF" "$1" "$2" 2>&1 | awk '{ sub(/:$/, "", $1); print $1 }'
}

check_verdicts() { # label zone expected-verdict
    local label=$1 zone=$2 want=$3 r_want
    case $want in secure) r_want=secure ;; insecure) r_want=insecure ;; bogus) r_want=servfail ;; esac
    is "$label: resolver $zone SOA is $r_want" "$r_want" "$(resolver_verdict "$zone" SOA)"
    is "$label: resolver www.$zone A is $r_want" "$r_want" "$(resolver_verdict "www.$zone" A)"
    if [ "$want" != bogus ]; then
        is "$label: resolver www.$zone A is 127.0.0.80" 127.0.0.80 \
            "$(dig @"$TESTBED_RESOLVER" +short +time=3 +tries=2 "www.$zone" A)"
    fi
    is "$label: delv +cdflag validates $zone SOA as $want" "$want" "$(delv_verdict "$zone" SOA)"
    is "$label: libunbound (own iteration) validates $zone SOA as $want" "$want" "$(ub_verdict "$zone" SOA)"
}

# ---------------------------------------------------------------------------------------
# Structure, read from the authoritative servers

# fetch server zone -> $TMP/<server>.ans: DNSKEY, SOA, CDS, CDNSKEY with RRSIGs; one record
# per line. dig retries over TCP by itself when an answer is truncated (rollstart).
fetch() {
    dig @"$1" +norec +dnssec +noall +answer +nosplit +rrcomments +time=2 +tries=2 \
        "$2" DNSKEY "$2" SOA "$2" CDS "$2" CDNSKEY >"$TMP/$1.ans" 2>&1
}
served_tags() { # file flags -> key tags of DNSKEYs with those flags (dig's "key id = N")
    awk -v f="$2" '$4 == "DNSKEY" && $5 == f { print $NF }' "$1" | setof
}
signer_tags() { # file covered-type -> key tags of RRSIGs over that type
    awk -v t="$2" '$4 == "RRSIG" && $5 == t { print $11 }' "$1" | setof
}
ds_norm() { # DS/CDS lines on stdin -> "tag alg digesttype DIGEST" lines, sorted
    awk '{ for (i = 1; i <= NF; i++) if ($i == "DS" || $i == "CDS") {
               d = ""; for (j = i + 4; j <= NF; j++) d = d $j
               print $(i+1), $(i+2), $(i+3), toupper(d); next } }' | sort -u
}
ds_of_served() { # file zone -> SHA-1 and SHA-256 DS of every served KSK, from the served keys
    awk '$4 == "DNSKEY"' "$1" | sed 's/;.*//' >"$1.keys"
    [ -s "$1.keys" ] || return 0
    { dnssec-dsfromkey -1 -f "$1.keys" "$2" 2>/dev/null; dnssec-dsfromkey -2 -f "$1.keys" "$2"; } | ds_norm
}
parent_ds() { # server zone -> normalised DS set at that TLD server
    dig @"$1" +norec +noall +answer +nosplit +time=2 +tries=2 "$2" DS | ds_norm
}
soa_serial() { awk '$4 == "SOA" { print $7; exit }' "$1"; }
lines() { awk 'NF' | sort -u | tr '\n' '|'; }

check_structure() { # label zone state
    local label=$1 zone=$2 state=$3 s srv f want_ksk now pds pub_ds stale expect_ds
    expect_state "$state"
    local -A addr=([a]=$TESTBED_NS_A [b]=$TESTBED_NS_B)
    now=$(date -u +%Y%m%d%H%M%S)
    : >"$TMP/served-ds"
    for srv in a b; do
        s=${addr[$srv]}
        fetch "$s" "$zone"
        f=$TMP/$s.ans
        [ $srv = a ] && want_ksk=$E_KSK_A || want_ksk=$E_KSK_B
        # shellcheck disable=SC2086
        is "$label: server $srv serves KSKs (257) = roles [$want_ksk]" \
            "$(tags_of "$zone" $want_ksk)" "$(served_tags "$f" 257)"
        # shellcheck disable=SC2086
        is "$label: server $srv serves ZSKs (256) = roles [$E_ZSK]" \
            "$(tags_of "$zone" $E_ZSK)" "$(served_tags "$f" 256)"
        # shellcheck disable=SC2086
        is "$label: server $srv: DNSKEY RRset signed by roles [$E_SIGNERS]" \
            "$(tags_of "$zone" $E_SIGNERS)" "$(signer_tags "$f" DNSKEY)"
        # shellcheck disable=SC2086
        is "$label: server $srv: SOA signed by role [$E_ZSIGNER] only" \
            "$(tags_of "$zone" $E_ZSIGNER)" "$(signer_tags "$f" SOA)"
        # shellcheck disable=SC2086
        is "$label: server $srv: CDS for roles [$E_CDS]" \
            "$(tags_of "$zone" $E_CDS)" \
            "$(awk '$4 == "CDS"' "$f" | ds_norm | awk '{ print $1 }' | setof)"
        is "$label: server $srv: CDNSKEY count equals CDS count" \
            "$(awk '$4 == "CDS"' "$f" | wc -l)" "$(awk '$4 == "CDNSKEY"' "$f" | wc -l)"
        ds_of_served "$f" "$zone" >"$TMP/ds.$srv"
        cat "$TMP/ds.$srv" >>"$TMP/served-ds"
        if [ -n "$E_CDS" ]; then
            awk '$4 == "CDS"' "$f" | ds_norm >"$TMP/cds.$srv"
            check "$label: server $srv: every CDS digest matches a served DNSKEY" \
                bash -c '[ -s "$1" ] && [ -z "$(comm -23 "$1" "$2")" ]' _ "$TMP/cds.$srv" "$TMP/ds.$srv"
        fi
        case $E_WINDOW in
        expired)
            check "$label: server $srv: every RRSIG expired (expiration < now)" \
                awk -v n="$now" '$4 == "RRSIG" { c++; if ($9 >= n) bad = 1 } END { exit bad || !c }' "$f" ;;
        notyet)
            check "$label: server $srv: no RRSIG valid yet (inception > now)" \
                awk -v n="$now" '$4 == "RRSIG" { c++; if ($10 <= n) bad = 1 } END { exit bad || !c }' "$f" ;;
        expiring)
            check "$label: server $srv: RRSIGs valid now and expire within 3 days" \
                awk -v n="$now" -v l="$(date -u -d '3 days' +%Y%m%d%H%M%S)" \
                '$4 == "RRSIG" { c++; if ($10 > n || $9 <= n || $9 > l) bad = 1 } END { exit bad || !c }' "$f" ;;
        normal)
            [ -z "$E_SIGNERS" ] ||
            check "$label: server $srv: RRSIGs valid now" \
                awk -v n="$now" '$4 == "RRSIG" { c++; if ($10 > n || $9 <= n) bad = 1 } END { exit bad || !c }' "$f" ;;
        esac
    done
    sort -u -o "$TMP/served-ds" "$TMP/served-ds"

    # The parent side, at both TLD addresses.
    for s in "$TESTBED_TLD_NS_A" "$TESTBED_TLD_NS_B"; do
        parent_ds "$s" "$zone" >"$TMP/pds.$s"
        # shellcheck disable=SC2086
        is "$label: TLD server $s: DS key tags = roles [$E_DS]" \
            "$(tags_of "$zone" $E_DS)" "$(awk '{ print $1 }' "$TMP/pds.$s" | setof)"
    done
    pds=$TMP/pds.$TESTBED_TLD_NS_A
    is "$label: both TLD servers publish the same DS set" \
        "$(lines <"$pds")" "$(lines <"$TMP/pds.$TESTBED_TLD_NS_B")"
    [ -s "$pds" ] && check "$label: every DS at the parent has digest type $E_DS_DIGEST" \
        awk -v t="$E_DS_DIGEST" '$3 != t { bad = 1 } END { exit bad }' "$pds"
    if [ -s "$pds" ]; then
        is "$label: DS TTL at the TLD is $E_DS_TTL" "$E_DS_TTL" \
            "$(dig @"$TESTBED_TLD_NS_A" +norec +noall +answer "$zone" DS | awk '{ print $2 }' | setof)"
    fi

    # Which parent DS digests match a key that is actually served, and which dangle.
    pub_ds=$(comm -12 "$pds" "$TMP/served-ds" | awk '{ print $1 }' | setof)
    stale=$(comm -23 "$pds" "$TMP/served-ds" | awk '{ print $1 }' | setof)
    local want_match="" want_stale="" r
    for r in $E_DS; do
        case " $E_KSK_A $E_KSK_B " in
        *" $r "*) want_match="$want_match $r" ;;
        *) want_stale="$want_stale $r" ;;
        esac
    done
    # shellcheck disable=SC2086
    is "$label: DS digests matching a served KSK (dnssec-dsfromkey -f) = roles [${want_match# }]" \
        "$(tags_of "$zone" $want_match)" "$pub_ds"
    # shellcheck disable=SC2086
    is "$label: DS at the parent matching no served key = roles [${want_stale# }]" \
        "$(tags_of "$zone" $want_stale)" "$stale"

    # expect/<zone>.ds must be exactly the SHA-256 DS of served KSKs the parent lacks.
    expect_ds=$(ds_norm <"$TESTBED_EXPECT/$zone.ds" | awk '$3 == 2' | lines)
    is "$label: expect/$zone.ds = served KSKs without SHA-256 DS at the parent" \
        "$(comm -13 "$pds" "$TMP/served-ds" | awk '$3 == 2' | lines)" "$expect_ds"
    # ... and their SHA-384 DS, for algorithm 14 and 16 keys only.
    awk '$4 == "DNSKEY" && ($7 == 14 || $7 == 16)' "$TMP/$TESTBED_NS_A.ans" |
        sed 's/;.*//' >"$TMP/p384.keys"
    local want384=""
    if [ -s "$TMP/p384.keys" ]; then
        want384=$(dnssec-dsfromkey -a SHA-384 -f "$TMP/p384.keys" "$zone" | ds_norm |
            awk -v have=" $(awk '{ print $1 }' "$pds" | xargs) " 'index(have, " " $1 " ") == 0' | lines)
    fi
    is "$label: expect/$zone.ds SHA-384 lines = algorithm 14/16 KSKs without DS" \
        "$want384" "$(ds_norm <"$TESTBED_EXPECT/$zone.ds" | awk '$3 == 4' | lines)"
    is "$label: expect/$zone.state says $state" "$state" "$(cat "$TESTBED_EXPECT/$zone.state")"
    is "$label: expect/$zone.verdict says $E_VERDICT" "$E_VERDICT" "$(cat "$TESTBED_EXPECT/$zone.verdict")"

    # Algorithm and key sizes: the DNS host signs with 8 (RSASHA256), 2048-bit KSKs.
    local alg
    alg=$(expect_alg "$zone" "$state")
    is "$label: served DNSKEY algorithm(s) = [$alg]" "$alg" \
        "$(awk '$4 == "DNSKEY" { print $7 }' "$TMP/$TESTBED_NS_A.ans" "$TMP/$TESTBED_NS_B.ans" | setof)"
    if [ "$alg" = 8 ] || [ "$alg" = 5 ]; then
        # RSA public key: 1 length byte + 3-byte exponent + modulus (256 bytes at 2048 bits,
        # 128 at 1024)
        local kbytes=260 kbits=2048
        [ "${zone%%.*}" = rsa1024 ] && kbytes=132 kbits=1024
        is "$label: every RSA KSK is $kbits bits" $kbytes \
            "$(awk '$4 == "DNSKEY" && $5 == 257 { k = ""; for (i = 8; i < NF; i++) if ($i != ";") k = k $i; else break; print k }' \
                "$TMP/$TESTBED_NS_A.ans" | while read -r k; do base64 -d <<<"$k" | wc -c; done | sort -u | xargs)"
    fi

    # Per-state facts that the generic checks above do not spell out.
    local sa sb
    sa=$(soa_serial "$TMP/$TESTBED_NS_A.ans"); sb=$(soa_serial "$TMP/$TESTBED_NS_B.ans")
    case $state in
    split)
        is "$label: server b is one serial ahead of a" "$((sa + 1))" "$sb"
        check "$label: servers a and b serve different DNSKEY sets" \
            test "$(served_tags "$TMP/$TESTBED_NS_A.ans" 257)" != "$(served_tags "$TMP/$TESTBED_NS_B.ans" 257)" ;;
    *)
        is "$label: servers a and b serve the same serial" "$sa" "$sb" ;;
    esac
    case $state in
    algmismatch)
        is "$label: parent DS algorithm is 8" "8" "$(awk '{ print $2 }' "$pds" | setof)"
        is "$label: served DNSKEYs are algorithm 13 only" "13" \
            "$(awk '$4 == "DNSKEY" { print $7 }' "$TMP/$TESTBED_NS_A.ans" | setof)" ;;
    rollstart|dsupdated)
        local size
        size=$(dig @"$TESTBED_NS_A" +norec +dnssec +bufsize=65535 +tcp "$zone" DNSKEY | sed -n 's/.*MSG SIZE  rcvd: //p')
        diag "$label: DNSKEY answer with RRSIGs over TCP: ${size:-?} bytes"
        check "$label: DNSKEY answer with RRSIGs is larger than 1232 bytes" test "${size:-0}" -gt 1232
        check "$label: over UDP with a 1232-byte buffer the DNSKEY answer is truncated (TC)" \
            bash -c 'dig @"$1" +norec +dnssec +bufsize=1232 +ignore "$2" DNSKEY | grep -qE "^;; flags:[^;]* tc[ ;]"' _ \
            "$TESTBED_NS_A" "$zone" ;;
    sha1ds)
        is "$label: no SHA-256 DS at the parent" "" "$(awk '$3 == 2' "$pds")" ;;
    dsboot|nodsboot|dsbootwrong|dsbootinsecure)
        local ns sig host=$TESTBED_DNSHOST_ZONE
        [ "$state" = dsbootinsecure ] && host=plainhost.$TLD
        is "$label: NS names are in $host" "ns1.$host. ns2.$host." \
            "$(dig @"$TESTBED_TLD_NS_A" +norec +noall +authority "$zone" NS | awk '$4 == "NS" { print $5 }' | setof)"
        for ns in ns1 ns2; do
            sig=_dsboot.$zone._signal.$ns.$host
            if [ "$state" = dsbootinsecure ]; then
                is "$label: the signal $sig is there but insecure" insecure "$(resolver_verdict "$sig" CDS)"
                is "$label: the signal under $ns carries the zone's CDS" \
                    "$(awk '$4 == "CDS"' "$TMP/$TESTBED_NS_A.ans" | ds_norm | lines)" \
                    "$(dig @"$TESTBED_RESOLVER" +noall +answer +nosplit "$sig" CDS | ds_norm | lines)"
            elif [ "$state" = dsboot ]; then
                is "$label: resolver validates the signal $sig CDS" secure "$(resolver_verdict "$sig" CDS)"
                is "$label: the signal under $ns carries the zone's CDS" \
                    "$(awk '$4 == "CDS"' "$TMP/$TESTBED_NS_A.ans" | ds_norm | lines)" \
                    "$(dig @"$TESTBED_RESOLVER" +noall +answer +nosplit "$sig" CDS | ds_norm | lines)"
                is "$label: the signal under $ns has a CDNSKEY too" 1 \
                    "$(dig @"$TESTBED_RESOLVER" +noall +answer "$sig" CDNSKEY | awk '$4 == "CDNSKEY"' | wc -l)"
            elif [ "$state" = dsbootwrong ]; then
                is "$label: resolver validates the signal $sig CDS" secure "$(resolver_verdict "$sig" CDS)"
                is "$label: the signal under $ns names role ksk_new, which the zone does not publish" \
                    "$(tags_of "$zone" ksk_new)" \
                    "$(dig @"$TESTBED_RESOLVER" +noall +answer +nosplit "$sig" CDS | ds_norm | awk '{ print $1 }' | setof)"
            else
                is "$label: no signal at $sig (NXDOMAIN)" NXDOMAIN "$(resolver_verdict "$sig" CDS)"
            fi
        done ;;
    unsigned)
        is "$label: no DNSKEY served" "0" "$(awk '$4 == "DNSKEY"' "$TMP/$TESTBED_NS_A.ans" | wc -l)"
        is "$label: no DS at the parent" "0" "$(wc -l <"$pds")" ;;
    esac
    [ -z "$E_SIGNERS" ] || is "$label: DNSKEY TTL on both servers is $E_KEY_TTL" "$E_KEY_TTL" \
        "$(awk '$4 == "DNSKEY" { print $2 }' "$TMP/$TESTBED_NS_A.ans" "$TMP/$TESTBED_NS_B.ans" | setof)"
}

check_zone() { # label zone state
    expect_state "$3"
    check_verdicts "$1" "$2" "$E_VERDICT"
    check_structure "$1" "$2" "$3"
}

# ---------------------------------------------------------------------------------------

if ! "$TB" status >/dev/null 2>&1; then
    not_ok "testbed is up ($TB status)"
    exit 1
fi
ok "testbed is up"

# The infrastructure around the scenarios.
is "resolver: $TLD. SOA is secure" secure "$(resolver_verdict "$TLD." SOA)"
is "resolver: $TESTBED_DNSHOST_ZONE SOA is secure" secure "$(resolver_verdict "$TESTBED_DNSHOST_ZONE" SOA)"
is "delv: $TESTBED_DNSHOST_ZONE SOA fully validated" secure "$(delv_verdict "$TESTBED_DNSHOST_ZONE" SOA)"
is "root.key is the KSK the root serves" \
    "$(awk '{ print $5, $6, $7, $8 }' "$TESTBED_ANCHOR")" \
    "$(dig @"$TESTBED_ROOT_NS_A" +norec +noall +answer +nosplit . DNSKEY | awk '$5 == 257 { k = ""; for (i = 8; i <= NF; i++) k = k $i; print $5, $6, $7, k }')"
is "root.key is algorithm 13" 13 "$(awk '{ print $7 }' "$TESTBED_ANCHOR")"
check "root.anchor.conf holds the same key for delv" \
    grep -qF "$(awk '{ print $8 }' "$TESTBED_ANCHOR")" "$TESTBED_ANCHOR_CONF"
is "root.hints lists both root servers" \
    "$(echo "$TESTBED_ROOT_NS_A $TESTBED_ROOT_NS_B" | setof)" \
    "$(awk '$3 == "A" { print $4 }' "$TESTBED_HINTS" | setof)"
is "root servers agree with the hints on . NS" "a.root-servers.net. b.root-servers.net." \
    "$(dig @"$TESTBED_ROOT_NS_B" +norec +short . NS | setof)"
# root.key must also be usable by getdns (dnssecmon's stub side): stub mode through the
# resolver with getdns' own validation against the private anchor. The timeout:
# getdns' validator can spin forever on a malformed answer.
getdns_status() {
    timeout 10 getdns_query -s @"$TESTBED_RESOLVER" -f "$TESTBED_ANCHOR" +dnssec_return_status "$1" SOA 2>&1 |
        grep -oE 'GETDNS_DNSSEC_[A-Z]+' | sort -u | xargs
}
if command -v getdns_query >/dev/null; then
    is "getdns with root.key: healthy.$TLD is GETDNS_DNSSEC_SECURE" GETDNS_DNSSEC_SECURE "$(getdns_status "healthy.$TLD")"
    is "getdns with root.key: unsigned.$TLD is GETDNS_DNSSEC_INSECURE" GETDNS_DNSSEC_INSECURE "$(getdns_status "unsigned.$TLD")"
fi
check "resolver has no local zone covering $TLD." \
    bash -c '! unbound-control -c "$1" list_local_zones | awk "{ print \$1 }" | grep -qxF "$2."' _ \
    "$TESTBED_UNBOUND_CONF" "$TLD"

for state in healthy rollstart dsupdated rolldone broken staleds doubleds expired notyet expiring algmismatch split unsigned zskroll nocdsstart nocdsswap \
             sha1ds rsasha1 rsa1024 longttl dsboot nodsboot dsbootwrong dsbootinsecure p384; do
    check_zone "$state.$TLD" "$state.$TLD" "$state"
done

# CDS as registries read it and multi-signer zones: per-server facts the generic checks
# above do not model (each server its own CDS, CDNSKEY or signing keys). Restated here
# from the brief, read from the servers over TCP (as registries' scanners ask).
srv_cds() { dig @"$1" +norec +tcp +short "$2" CDS | awk '{ print $1 }' | setof; }
srv_cdnskey() { dig @"$1" +norec +tcp +short "$2" CDNSKEY |
    awk '{ k = ""; for (i = 4; i <= NF; i++) k = k $i; print $1, $2, $3, k }' | lines; }
role_cdnskey() { # zone roles... -> the CDNSKEY lines those keys make
    local zone=$1 r name
    shift
    for r in "$@"; do
        name=$(awk -v r="$r" '$1 == r { print $2 }' "$TESTBED_KEYS/$zone/roles")
        awk '!/^;/ && NF { k = ""; for (i = 8; i <= NF; i++) k = k $i; print $5, $6, $7, k }' \
            "$TESTBED_KEYS/$zone/$name.key"
    done | lines
}
srv_signers() { # server zone type -> key tags of the RRSIGs over type
    dig @"$1" +norec +dnssec +noall +answer "$2" "$3" |
        awk -v t="$3" '$4 == "RRSIG" && $5 == t { print $11 }' | setof; }
srv_keys() { dig @"$1" +norec +noall +answer +rrcomments "$2" DNSKEY |
    sed -n 's/.*key id = \([0-9]*\).*/\1/p' | setof; }
srv_serial() { dig @"$1" +norec +short "$2" SOA | awk '{ print $3 }'; }
A=$TESTBED_NS_A B=$TESTBED_NS_B
z=cdsdiffer.$TLD
is "cdsdiffer: server a announces ksk_new in CDS" "$(tags_of "$z" ksk_new)" "$(srv_cds "$A" "$z")"
is "cdsdiffer: server b announces ksk in CDS" "$(tags_of "$z" ksk)" "$(srv_cds "$B" "$z")"
is "cdsdiffer: both serve the same serial" "$(srv_serial "$A" "$z")" "$(srv_serial "$B" "$z")"
check_verdicts cdsdiffer "$z" secure
z=cdsmismatch.$TLD
for s in "$A" "$B"; do
    is "cdsmismatch@$s: CDS names ksk_new" "$(tags_of "$z" ksk_new)" "$(srv_cds "$s" "$z")"
    is "cdsmismatch@$s: CDNSKEY is ksk's key" "$(role_cdnskey "$z" ksk)" "$(srv_cdnskey "$s" "$z")"
done
z=cdsdelete.$TLD
for s in "$A" "$B"; do
    is "cdsdelete@$s: CDS is the delete record" "0 0 0 00" \
        "$(dig @"$s" +norec +tcp +short "$z" CDS | xargs)"
    is "cdsdelete@$s: CDNSKEY is the delete record" "0 3 0 AA==" \
        "$(dig @"$s" +norec +tcp +short "$z" CDNSKEY | xargs)"
    is "cdsdelete@$s: ksk signs the CDS" "$(tags_of "$z" ksk)" "$(srv_signers "$s" "$z" CDS)"
done
check_verdicts cdsdelete "$z" secure
for z in multisigner.$TLD multisignerbad.$TLD; do
    is "$z: provider a signs DNSKEY with ksk" "$(tags_of "$z" ksk)" "$(srv_signers "$A" "$z" DNSKEY)"
    is "$z: provider b signs DNSKEY with ksk_new" "$(tags_of "$z" ksk_new)" "$(srv_signers "$B" "$z" DNSKEY)"
    is "$z: provider a signs SOA with zsk" "$(tags_of "$z" zsk)" "$(srv_signers "$A" "$z" SOA)"
    is "$z: provider b signs SOA with zsk2" "$(tags_of "$z" zsk2)" "$(srv_signers "$B" "$z" SOA)"
    is "$z: provider b serves ksk_new, zsk, zsk2" "$(tags_of "$z" ksk_new zsk zsk2)" "$(srv_keys "$B" "$z")"
    is "$z: provider b is one serial ahead" "$(( $(srv_serial "$A" "$z") + 1 ))" "$(srv_serial "$B" "$z")"
    is "$z: the parent holds DS for ksk and ksk_new" "$(tags_of "$z" ksk ksk_new)" \
        "$(dig @"$TESTBED_TLD_NS_A" +norec +short "$z" DS | awk '{ print $1 }' | setof)"
    for s in "$A" "$B"; do
        is "$z@$s: CDS names both KSKs" "$(tags_of "$z" ksk ksk_new)" "$(srv_cds "$s" "$z")"
        is "$z@$s: the NS set spans two providers' domains" \
            "ns.signer2.$TLD. ns1.$TESTBED_DNSHOST_ZONE." "$(dig @"$s" +norec +short "$z" NS | setof)"
    done
    is "$z: the TLD delegates to both providers" "ns.signer2.$TLD. ns1.$TESTBED_DNSHOST_ZONE." \
        "$(dig @"$TESTBED_TLD_NS_A" +norec +noall +authority "$z" NS | awk '$4 == "NS" { print $5 }' | setof)"
done
is "multisigner: provider a serves ksk, zsk, zsk2" "$(tags_of multisigner.$TLD ksk zsk zsk2)" \
    "$(srv_keys "$A" multisigner.$TLD)"
is "multisignerbad: provider a serves ksk, zsk only" "$(tags_of multisignerbad.$TLD ksk zsk)" \
    "$(srv_keys "$A" multisignerbad.$TLD)"
check_verdicts multisigner "multisigner.$TLD" secure
is "multisignerbad: expect/verdict says either" either "$(cat "$TESTBED_EXPECT/multisignerbad.$TLD.verdict")"

# The switchable zone: walk a full KSK rotation, then every other state.
SW=$TESTBED_SWITCH_ZONE
STEP=1
prev_serial=$(dig @"$TESTBED_NS_A" +norec +short "$SW" SOA | awk '{ print $3 }')
walk() {
    local state=$1 serial
    if "$TB" switch "$state" >/dev/null 2>"$TMP/switch.err"; then
        ok "switch $STEP:$state succeeds"
    else
        not_ok "switch $STEP:$state succeeds"; diag "$(cat "$TMP/switch.err")"
    fi
    is "switch $STEP:$state: 'switch' without argument prints $state" "$state" "$("$TB" switch 2>&1)"
    serial=$(dig @"$TESTBED_NS_A" +norec +short "$SW" SOA | awk '{ print $3 }')
    check "switch $STEP:$state raised the serial" test "${serial:-0}" -gt "$prev_serial"
    prev_serial=$serial
    check_zone "${SW}[$STEP:$state]" "$SW" "$state"
    STEP=$((STEP + 1))
}
for state in healthy rollstart dsupdated rolldone broken healthy \
             staleds doubleds expired notyet expiring algmismatch split unsigned zskroll \
             nocdsstart nocdsswap healthy; do
    walk "$state"
done

# rekey: K_new becomes K_old and a fresh K_new appears, so a second rotation can be walked.
old_new=$(tags_of "$SW" ksk_new); old_old=$(tags_of "$SW" ksk)
if "$TB" switch rekey >/dev/null 2>"$TMP/switch.err"; then ok "switch rekey succeeds"; else not_ok "switch rekey succeeds"; diag "$(cat "$TMP/switch.err")"; fi
is "after rekey the state is healthy" healthy "$("$TB" switch 2>&1)"
is "after rekey K_old is the former K_new" "$old_new" "$(tags_of "$SW" ksk)"
check "after rekey K_new is a fresh key" \
    test "$(tags_of "$SW" ksk_new)" != "$old_new" -a "$(tags_of "$SW" ksk_new)" != "$old_old"
prev_serial=$(dig @"$TESTBED_NS_A" +norec +short "$SW" SOA | awk '{ print $3 }')
check_zone "${SW}[rekey:healthy]" "$SW" healthy
for state in rollstart dsupdated rolldone healthy; do walk "$state"; done
is "switch.$TLD ends in healthy" healthy "$("$TB" switch 2>&1)"

# --tld-lag: the new DS reaches the first TLD server only; tld-catchup brings the second level.
ds_tags_at() { parent_ds "$1" "$SW" | awk '{ print $1 }' | setof; }
"$TB" switch rollstart >/dev/null 2>"$TMP/switch.err" || diag "$(cat "$TMP/switch.err")"
if "$TB" switch dsupdated --tld-lag >/dev/null 2>"$TMP/switch.err"; then
    ok "switch dsupdated --tld-lag succeeds"
else
    not_ok "switch dsupdated --tld-lag succeeds"; diag "$(cat "$TMP/switch.err")"
fi
is "tld-lag: $TESTBED_TLD_NS_A serves the new DS" "$(tags_of "$SW" ksk_new)" "$(ds_tags_at "$TESTBED_TLD_NS_A")"
is "tld-lag: $TESTBED_TLD_NS_B still serves the old DS" "$(tags_of "$SW" ksk)" "$(ds_tags_at "$TESTBED_TLD_NS_B")"
is "tld-lag: the resolver still validates (both keys sign)" secure "$(resolver_verdict "$SW" SOA)"
if "$TB" tld-catchup >/dev/null 2>"$TMP/switch.err"; then ok "tld-catchup succeeds"; else not_ok "tld-catchup succeeds"; diag "$(cat "$TMP/switch.err")"; fi
is "tld-catchup: $TESTBED_TLD_NS_B serves the new DS" "$(tags_of "$SW" ksk_new)" "$(ds_tags_at "$TESTBED_TLD_NS_B")"
"$TB" switch rollstart --tld-lag >/dev/null 2>&1
"$TB" switch healthy >/dev/null 2>"$TMP/switch.err" || diag "$(cat "$TMP/switch.err")"
is "a switch without --tld-lag brings both TLD servers level" "$(ds_tags_at "$TESTBED_TLD_NS_A")" "$(ds_tags_at "$TESTBED_TLD_NS_B")"
if "$TB" tld-unsigned-ds >/dev/null 2>"$TMP/switch.err"; then ok "tld-unsigned-ds succeeds"; else not_ok "tld-unsigned-ds succeeds"; diag "$(cat "$TMP/switch.err")"; fi
is "tld-unsigned-ds: $TESTBED_TLD_NS_B serves the DS without RRSIG" 0 \
    "$(dig @"$TESTBED_TLD_NS_B" +norec +dnssec +noall +answer "$SW" DS | grep -c RRSIG)"
is "tld-unsigned-ds: $TESTBED_TLD_NS_A still signs it" 1 \
    "$(dig @"$TESTBED_TLD_NS_A" +norec +dnssec +noall +answer "$SW" DS | grep -c RRSIG)"
"$TB" tld-catchup >/dev/null 2>&1
is "tld-catchup: $TESTBED_TLD_NS_B signs it again" 1 \
    "$(dig @"$TESTBED_TLD_NS_B" +norec +dnssec +noall +answer "$SW" DS | grep -c RRSIG)"
# shellcheck disable=SC2016  # $1 expands in the inner shell
check "switch with an unknown option fails" bash -c '! "$1" switch healthy --no-such >/dev/null 2>&1' _ "$TB"

# The catalog zone (RFC 9432) on server a: AXFR with the key only, version 2, its members.
read -r CAT_KEY CAT_ALG CAT_SECRET <"$TESTBED_CATALOG_KEY"
CAT_AXFR=$(dig @"$TESTBED_NS_A" -y "$CAT_ALG:$CAT_KEY:$CAT_SECRET" +noall +answer \
    "$TESTBED_CATALOG_ZONE" AXFR 2>&1)
is "catalog: AXFR with the key gives version \"2\"" 1 \
    "$(grep -c "^version\.$TESTBED_CATALOG_ZONE\..*TXT.*\"2\"" <<<"$CAT_AXFR")"
is "catalog: its PTR members are what 'testbed.sh catalog' lists" \
    "$("$TB" catalog | sort | xargs)" \
    "$(awk '$4 == "PTR" && $1 ~ /\.zones\./ { sub(/\.$/, "", $5); print $5 }' <<<"$CAT_AXFR" | sort | xargs)"
check "catalog: AXFR without the key is refused" bash -c \
    '! dig @"$1" +noall +answer "$2" AXFR 2>&1 | grep -q SOA' _ "$TESTBED_NS_A" "$TESTBED_CATALOG_ZONE"
check "catalog: AXFR with a wrong secret fails with BADSIG" bash -c \
    'dig @"$1" -y "$3:$4:c2l4dGVlbiBieXRlIGtleQ==" "$2" AXFR 2>&1 | grep -q BADSIG' \
    _ "$TESTBED_NS_A" "$TESTBED_CATALOG_ZONE" "$CAT_ALG" "$CAT_KEY"

# bad input must not change anything
check "switch to an unknown state fails" bash -c '! "$1" switch no-such-state >/dev/null 2>&1' _ "$TB"
is "state unchanged after a refused switch" healthy "$("$TB" switch 2>&1)"

# Process facts: a second up is refused and leaves the running testbed alone.
pids_before=$(cat "$TESTBED_DIR"/run/*.pid 2>/dev/null | sort | xargs)
if "$TB" up >"$TMP/up2.out" 2>&1; then
    not_ok "second 'up' while running is refused"
else
    ok "second 'up' while running is refused"
fi
check "the refusal says a testbed is already running" grep -q 'already running' "$TMP/up2.out"
check "testbed still up after the refused up" "$TB" status
is "daemon pids unchanged after the refused up" "$pids_before" "$(cat "$TESTBED_DIR"/run/*.pid 2>/dev/null | sort | xargs)"
is "resolver still validates after the refused up" secure "$(resolver_verdict "healthy.$TLD" SOA)"

exit $FAILED
