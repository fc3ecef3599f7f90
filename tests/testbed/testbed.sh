#!/usr/bin/env bash
# testbed.sh - a private DNSSEC hierarchy on loopback for dnssecmon's end-to-end tests.
#
#   root "."            NSD "nsd-root"  127.0.0.11, 127.0.0.12
#   TLD  "lab."         NSD "nsd-tld"   127.0.0.21   (ns1.nic.lab.)
#                       NSD "nsd-tld2"  127.0.0.22   (ns2.nic.lab.)
#   Two daemons, so that one TLD server can lag behind the other on a DS change
#   (`switch STATE --tld-lag`, then `tld-catchup`), as anycast TLD servers do.
#   dnshost.lab. and every scenario zone under lab.
#                       NSD "nsd-a"     127.0.0.31   (ns1.dnshost.lab.)
#                       NSD "nsd-b"     127.0.0.32   (ns2.dnshost.lab.)
#   validating resolver unbound         127.0.0.41
#
# Every `up` generates fresh keys, so a test can never come to depend on a fixed key, tag
# or digest: it must read them from the servers or from $TESTBED_DIR.
# Run `testbed.sh --help` for the commands; the scenario table is state_def() below.
set -euo pipefail

SELF=$(readlink -f "${BASH_SOURCE[0]}")
REPO=$(cd "$(dirname "$SELF")/../.." && pwd)

# Everything below $TESTBED_DIR is ours; the marker file is what lets `up` wipe it safely.
MARKER=.dnssecmon-testbed
DAEMONS="nsd-root nsd-tld nsd-tld2 nsd-a nsd-b unbound"
TTL=3600
SCENARIOS="healthy rollstart dsupdated rolldone broken staleds doubleds expired notyet expiring algmismatch split unsigned zskroll nocdsstart nocdsswap cdsdiffer cdsmismatch cdsdelete multisigner multisignerbad"
# Denial of existence: NSEC3 with a salt and 100 iterations; an NSEC chain broken on server b.
SCENARIOS="$SCENARIOS nsec3 denialbad"
# An algorithm rollover 8 -> 13 (RFC 6781 4.1.4), stage by stage, and one step taken too early.
SCENARIOS="$SCENARIOS algsigs algkeys algds algoldkeys algdone algdsearly"
# Deprecated crypto, TTLs that outlast the window, RFC 9615 bootstrapping, an algorithm-14 KSK.
SCENARIOS="$SCENARIOS sha1ds rsasha1 rsa1024 longttl dsboot nodsboot dsbootwrong dsbootinsecure p384"
# CDS that passes a check by key tag and algorithm and fails the cryptographic one.
SCENARIOS="$SCENARIOS cdsbogusdigest cdsbadsig cdsbadcdssig"
# Every role the switchable zone may need in some state; its keys live as long as the testbed.
SWITCH_ROLES="ksk ksk_new zsk zsk2 alt_ksk alt_zsk"
# Bounded waits (seconds). Generous: a loaded CI machine is slower than a laptop.
READY_TIMEOUT=10
SERIAL_TIMEOUT=10
STOP_TIMEOUT=5

die() { echo "testbed: error: $*" >&2; exit 1; }
log() { echo "testbed: $*" >&2; }

usage() {
    cat <<EOF
usage: testbed.sh up | down | status | env [--export] |
                  switch [STATE|rekey] [--tld-lag] | tld-catchup | tld-unsigned-ds |
                  pause NAME | resume NAME | catalog [add|remove ZONE...] | --help

  up        generate fresh keys, sign all zones, start 5 NSD instances and unbound,
            wait until every server answers; refuses if already running or if a port is taken
  down      stop every daemon of this testbed (by pid), remove pidfiles; idempotent
  status    list the daemons; exit 0 only if all are alive
  env       print shell assignments (TESTBED_DIR=... ) for eval "\$(testbed.sh env)";
            --export prefixes them with 'export'
  switch    without STATE: print the state of switch.\$TESTBED_TLD
            with STATE: re-sign switch.\$TESTBED_TLD and the TLD, reload, wait for the new
            serials on every server and flush the resolver. STATE is one of:
              $SCENARIOS
            or 'rekey' (K_new becomes K_old, a fresh K_new is made, then 'healthy')
            --tld-lag: only the first TLD server (\$TESTBED_TLD_NS_A) takes the new TLD
            zone (and so the new DS); the second keeps serving the old one until
            'tld-catchup' (or the next switch without --tld-lag)
  tld-catchup  the second TLD server takes the TLD zone the first one serves; waits for it
  tld-unsigned-ds  the second TLD server serves switch.\$TESTBED_TLD's DS without its RRSIG
            (a broken parent server); 'tld-catchup' or the next switch undoes it
  pause     SIGSTOP one daemon (root, tld, tld2, a, b or resolver): it keeps its address but
            stops answering, like a hung server; 'resume' sends SIGCONT. 'down' resumes
            paused daemons before stopping them.
  catalog   without arguments: print the members of the catalog zone (RFC 9432) that
            server a (\$TESTBED_NS_A) serves as \$TESTBED_CATALOG_ZONE, transfer only with
            the TSIG key in \$TESTBED_DIR/catalog.key ("NAME ALGORITHM SECRET");
            add/remove ZONE...: rewrite it with a new serial, reload, wait for the serial

Scenario zones (<label>.\$TESTBED_TLD): $SCENARIOS, switch

Environment (defaults):
  TESTBED_DIR=$REPO/build/testbed   state: keys, zones, configs, pidfiles, logs
  TESTBED_TLD=lab
  TESTBED_ROOT_NS_A=127.0.0.11  TESTBED_ROOT_NS_B=127.0.0.12
  TESTBED_TLD_NS_A=127.0.0.21   TESTBED_TLD_NS_B=127.0.0.22
  TESTBED_NS_A=127.0.0.31       TESTBED_NS_B=127.0.0.32
  TESTBED_RESOLVER=127.0.0.41
  TESTBED_SPECIAL_TLD=test      a second, special-use TLD (RFC 6761) on the TLD servers
                                (invalid when TESTBED_TLD is test)
  TESTBED_INTERCEPTOR=127.0.0.60
                                where tests run an intercepting responder (not started here;
                                lamed.\$TESTBED_TLD is delegated to it)
  TESTBED_HOSTILE=127.0.0.61    where tests run tests/hostile/hostile_dns.py (not started
                                here; dripped.\$TESTBED_TLD is delegated to it)
  TESTBED_NS_A6= TESTBED_NS_B6=  IPv6 of ns1/ns2.dnshost.\$TESTBED_TLD (default: none). When
                                set, published as AAAA (and TLD glue) beside the IPv4 ones;
                                nothing here listens on them: a test runs its own server there
                                (tests/e2e/dnsrelay.py). Must be an address of this host
                                (::1, or one the test put on lo in its network namespace).
  TESTBED_BENCH_ZONES=0         N > 0: also serve N signed zones b000001.\$TESTBED_TLD ...
                                on servers a and b, delegated with DS in the TLD (make bench)
  TESTBED_BENCH_CACHE=$REPO/build/bench-cache
                                where those zones are kept between runs, in <tld>-<N>/
  TESTBED_BENCH_MIXED=0         1: the bench zones in mixed states (tests/bench/genzones.py
                                --mixed), kept in <tld>-<N>-mixed/
  TESTBED_BENCH_DEAD=127.0.0.33 with MIXED: the address of deadns.\$TESTBED_TLD, a third
                                name server of 3% of those zones; nothing here starts a
                                server there (the bench runs one that never answers)
All addresses must be in 127.0.0.0/8; everything listens on port 53 (iterating resolvers
cannot be told another port for a delegation), so up/down/switch need root.

Files for clients (in TESTBED_DIR): root.key (trust anchor, DNSKEY format), root.anchor.conf
(BIND trust-anchors for delv -a), root.hints, libunbound.conf (ub_ctx_config, unbound-host -C,
tests/testbed/ubcheck.py: a validator iterating from the private root without the resolver),
expect/<zone>.{ds,parent-ds,cds,state,verdict}, keys/<zone>/ (BIND key files; 'roles' maps
role -> key file). Logs: nsd-*/nsd.log, unbound/unbound.log, run/*.console.
EOF
}

# ---------------------------------------------------------------------------------------
# Configuration

# The variables a test may need; `env` prints exactly these.
ENV_VARS="TESTBED_DIR TESTBED_TLD TESTBED_ROOT_NS_A TESTBED_ROOT_NS_B TESTBED_TLD_NS_A
TESTBED_TLD_NS_B TESTBED_NS_A TESTBED_NS_B TESTBED_RESOLVER TESTBED_PORT TESTBED_ANCHOR
TESTBED_ANCHOR_CONF TESTBED_HINTS TESTBED_LIBUNBOUND_CONF TESTBED_UNBOUND_CONF
TESTBED_CONTROL TESTBED_EXPECT TESTBED_KEYS TESTBED_ZONES TESTBED_SWITCH_ZONE
TESTBED_DNSHOST_ZONE TESTBED_SCRIPT TESTBED_SPECIAL_TLD TESTBED_INTERCEPTOR TESTBED_NS_A6
TESTBED_NS_B6 TESTBED_CATALOG_ZONE TESTBED_CATALOG_KEY TESTBED_HOSTILE"

# Addresses and TLD come from the environment for `up`; afterwards from the copy saved in
# TESTBED_DIR, so `env`/`switch`/`down` describe the testbed that runs, not today's shell.
# shellcheck disable=SC2034  # the TESTBED_* variables are read by name in cmd_env
load_config() {
    TESTBED_DIR=$(realpath -m "${TESTBED_DIR:-$REPO/build/testbed}")
    if [ "${1:-}" != fresh ] && [ -f "$TESTBED_DIR/testbed.conf" ]; then
        # shellcheck disable=SC1091
        . "$TESTBED_DIR/testbed.conf"
    fi
    : "${TESTBED_TLD:=lab}"
    : "${TESTBED_ROOT_NS_A:=127.0.0.11}" "${TESTBED_ROOT_NS_B:=127.0.0.12}"
    : "${TESTBED_TLD_NS_A:=127.0.0.21}" "${TESTBED_TLD_NS_B:=127.0.0.22}"
    : "${TESTBED_NS_A:=127.0.0.31}" "${TESTBED_NS_B:=127.0.0.32}"
    : "${TESTBED_RESOLVER:=127.0.0.41}"
    # A second TLD with a special-use name (RFC 6761): resolvers answer it from built-in
    # local zones unless told not to (invalid when the main TLD is test itself). And the
    # address where tests run an intercepting responder (never started by this script;
    # lamed.$TLD is delegated there).
    if [ -z "${TESTBED_SPECIAL_TLD:-}" ]; then
        if [ "$TESTBED_TLD" = test ]; then TESTBED_SPECIAL_TLD=invalid; else TESTBED_SPECIAL_TLD=test; fi
    fi
    : "${TESTBED_INTERCEPTOR:=127.0.0.60}"
    : "${TESTBED_HOSTILE:=127.0.0.61}"
    : "${TESTBED_NS_A6:=}" "${TESTBED_NS_B6:=}"
    : "${TESTBED_BENCH_ZONES:=0}"
    : "${TESTBED_BENCH_MIXED:=0}" "${TESTBED_BENCH_DEAD:=127.0.0.33}"
    TESTBED_BENCH_CACHE=$(realpath -m "${TESTBED_BENCH_CACHE:-$REPO/build/bench-cache}")
    TESTBED_PORT=53
    TESTBED_TLD=${TESTBED_TLD%.}
    TESTBED_SPECIAL_TLD=${TESTBED_SPECIAL_TLD%.}
    D=$TESTBED_DIR
    TLD=$TESTBED_TLD
    SPECIAL=$TESTBED_SPECIAL_TLD
    DNSHOST=dnshost.$TLD
    TESTBED_ANCHOR=$D/root.key
    TESTBED_ANCHOR_CONF=$D/root.anchor.conf
    TESTBED_HINTS=$D/root.hints
    TESTBED_LIBUNBOUND_CONF=$D/libunbound.conf
    TESTBED_UNBOUND_CONF=$D/unbound/unbound.conf
    TESTBED_CONTROL=$D/unbound/unbound.ctl
    TESTBED_EXPECT=$D/expect
    TESTBED_KEYS=$D/keys
    TESTBED_SWITCH_ZONE=switch.$TLD
    TESTBED_DNSHOST_ZONE=$DNSHOST
    # A catalog zone (RFC 9432) on server a, transferred with TSIG only. Not delegated
    # anywhere (a special-use name): consumers ask the primary they are told of.
    TESTBED_CATALOG_ZONE=catalog.invalid
    TESTBED_CATALOG_KEY=$D/catalog.key
    TESTBED_SCRIPT=$SELF
    TESTBED_ZONES=""
    local s
    for s in $SCENARIOS switch; do TESTBED_ZONES="$TESTBED_ZONES $s.$TLD"; done
    TESTBED_ZONES=${TESTBED_ZONES# }
}

validate_config() {
    [[ $TLD =~ ^[a-z0-9]([a-z0-9-]*[a-z0-9])?$ ]] ||
        die "TESTBED_TLD='$TLD' must be one lower-case label"
    [[ $SPECIAL =~ ^[a-z0-9]([a-z0-9-]*[a-z0-9])?$ ]] && [ "$SPECIAL" != "$TLD" ] ||
        die "TESTBED_SPECIAL_TLD='$SPECIAL' must be one lower-case label other than TESTBED_TLD"
    local v a seen=" "
    for v in TESTBED_ROOT_NS_A TESTBED_ROOT_NS_B TESTBED_TLD_NS_A TESTBED_TLD_NS_B \
             TESTBED_NS_A TESTBED_NS_B TESTBED_RESOLVER TESTBED_INTERCEPTOR \
             TESTBED_HOSTILE; do
        a=${!v}
        # The testbed must never send a packet off the machine.
        [[ $a =~ ^127\.([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})$ ]] ||
            die "$v=$a is not an IPv4 address in 127.0.0.0/8"
        case $seen in *" $a "*) die "$v=$a is used twice; every role needs its own address";; esac
        seen="$seen$a "
    done
    for v in TESTBED_NS_A6 TESTBED_NS_B6; do
        a=${!v}
        [ -z "$a" ] && continue
        # Local only: a packet to an address of this host never leaves it.
        if ! [[ $a =~ ^[0-9a-f:]+$ && $(ip -o -6 addr show) == *" inet6 $a/"* ]]; then
            die "$v=$a is not an IPv6 address of this host (::1, or one put on lo)"
        fi
        case $seen in *" $a "*) die "$v=$a is used twice; every role needs its own address";; esac
        seen="$seen$a "
    done
    [[ $TESTBED_BENCH_ZONES =~ ^(0|[1-9][0-9]{0,5})$ ]] ||
        die "TESTBED_BENCH_ZONES='$TESTBED_BENCH_ZONES' must be a number from 0 to 999999"
    # A unix socket path longer than sun_path (108) fails with an obscure unbound error.
    [ ${#TESTBED_CONTROL} -lt 100 ] ||
        die "TESTBED_DIR is too long for unbound's control socket: $TESTBED_CONTROL"
}

save_config() {
    local v
    { echo "# written by testbed.sh up; read back by the other commands"
      for v in TESTBED_TLD TESTBED_ROOT_NS_A TESTBED_ROOT_NS_B TESTBED_TLD_NS_A \
               TESTBED_TLD_NS_B TESTBED_NS_A TESTBED_NS_B TESTBED_RESOLVER \
               TESTBED_SPECIAL_TLD TESTBED_INTERCEPTOR TESTBED_NS_A6 TESTBED_NS_B6 \
               TESTBED_HOSTILE; do
          printf '%s=%q\n' "$v" "${!v}"
      done
      # Only when set, so that a testbed without bench zones writes what it always did.
      if [ "$TESTBED_BENCH_ZONES" != 0 ]; then
          for v in TESTBED_BENCH_ZONES TESTBED_BENCH_CACHE TESTBED_BENCH_MIXED \
                   TESTBED_BENCH_DEAD; do printf '%s=%q\n' "$v" "${!v}"; done
      fi; } >"$D/testbed.conf"
}

require_root() {
    [ "$(id -u)" -eq 0 ] ||
        die "must run as root: the daemons bind port 53 on 127.0.0.0/8 addresses"
}

# Serialises up/down/switch on one TESTBED_DIR: a switch racing a down would SIGHUP a
# dying daemon, two switches would interleave serials.
take_lock() {
    mkdir -p "$D"
    exec 9>"$D/.lock"
    flock -w 60 9 || die "another testbed.sh holds $D/.lock for more than 60 s"
}

# ---------------------------------------------------------------------------------------
# Scenario definitions: the one place that says what each state means.
#
# A state is expressed in key roles, so the same definition serves the static zone
# <state>.$TLD and the switchable zone switch.$TLD:
#   ksk      K_old, the KSK the parent knew first     ksk_new  K_new, the KSK rolled to
#   zsk      the signing ZSK                           zsk2     a pre-published ZSK
#   alt_ksk, alt_zsk  ECDSAP256SHA256 keys for algmismatch (the zone's main algorithm is 8)
# Outputs:
#   PUB_A/PUB_B  roles whose DNSKEY server a / b publishes (empty: zone unsigned)
#   SIGN_KSK     roles signing the DNSKEY/CDS/CDNSKEY RRsets    SIGN_ZSK  roles signing the rest
#   DS           roles whose DS (SHA-256) the TLD publishes (may be unpublished keys)
#   CDS          roles announced in CDS/CDNSKEY (what the parent should hold next)
#   WINDOW       RRSIG validity: normal|expired|notyet|expiring
#   B_AHEAD      1: server b serves serial+1 (split)
#   VERDICT      what a validating resolver must conclude: secure|bogus|insecure|either
#                (either: it depends on which server the resolver asked)
#   NSEC3_ITER   empty: NSEC; else NSEC3 with this many iterations and a fresh random salt
#   B_DENIAL     broken: server b's copy has every RRSIG over an NSEC altered
#   XSIG_KSK/XSIG_ZSK  roles whose RRSIGs (over every RRset but DNSKEY/CDS/CDNSKEY) are added
#                while their DNSKEYs stay unpublished: a rollover's signatures-only stages
# Per server, for CDS scanners and multi-signer providers (default: as server a):
#   CDS_B        roles server b announces in CDS; the word 'delete' is the RFC 8078
#                delete record (CDS 0 0 0 00, CDNSKEY 0 3 0 AA==)
#   CDNSKEY, CDNSKEY_B   roles announced in CDNSKEY on a / b (default: their CDS)
#   SIGN_KSK_B, SIGN_ZSK_B   server b signs with these (a second provider's keys)
#   NS_B         server b's NS name: ns2.dnshost, or ns.signer2 (another provider's
#                domain, an A record in the TLD zone) where b is a second provider
#   DS_DIGEST    digest type of the TLD's DS (2 SHA-256; 1 SHA-1)
#   DS_TTL       TTL of the TLD's DS          KEY_TTL  TTL of the zone's DNSKEY RRset
#   SIGNAL       roles whose CDS+CDNSKEY dnshost.$TLD publishes as RFC 9615 signals
#                (_dsboot.<zone>._signal.ns1/ns2.NSHOST); static zones only
#   NSHOST       the zone holding the name servers' names: dnshost.$TLD (signed, DS at
#                the TLD) or plainhost.$TLD (unsigned, no DS: the same servers)
#   CDS_DIGEST   bogus: every CDS keeps its key tag and algorithm but one hex digit of its
#                digest is altered (before signing: the RRSIG over the CDS verifies)
#   BAD_SIG      "TYPES:role": the RRSIGs by role's key over each of the comma-separated
#                TYPES (DNSKEY, CDS, CDNSKEY) are altered after signing, on both servers:
#                its key tag is there, its signature verifies nothing
state_def() {
    PUB_A="" PUB_B="" SIGN_KSK="" SIGN_ZSK="zsk" DS="" CDS="" WINDOW=normal B_AHEAD=0 VERDICT=secure
    CDS_B=- CDNSKEY=- CDNSKEY_B=- SIGN_KSK_B=- SIGN_ZSK_B=- NS_B=ns2.$DNSHOST
    NSEC3_ITER="" B_DENIAL=ok XSIG_KSK="" XSIG_ZSK="" CDS_DIGEST=ok BAD_SIG=""
    DS_DIGEST=2 DS_TTL=$TTL KEY_TTL=$TTL SIGNAL="" NSHOST=$DNSHOST
    case $1 in
    healthy)     PUB_A="ksk zsk";         SIGN_KSK="ksk";         DS="ksk";         CDS="ksk" ;;
    rollstart)   PUB_A="ksk ksk_new zsk"; SIGN_KSK="ksk ksk_new"; DS="ksk";         CDS="ksk_new" ;;
    dsupdated)   PUB_A="ksk ksk_new zsk"; SIGN_KSK="ksk ksk_new"; DS="ksk_new";     CDS="ksk_new" ;;
    rolldone)    PUB_A="ksk_new zsk";     SIGN_KSK="ksk_new";     DS="ksk_new";     CDS="ksk_new" ;;
    # The old KSK was withdrawn before the parent's DS moved: nothing chains to the DS.
    broken)      PUB_A="ksk_new zsk";     SIGN_KSK="ksk_new";     DS="ksk";         CDS="ksk_new"
                 VERDICT=bogus ;;
    # ksk is no longer published but its DS lingers next to the good one: still secure.
    staleds)     PUB_A="ksk_new zsk";     SIGN_KSK="ksk_new";     DS="ksk_new ksk"; CDS="ksk_new" ;;
    # Double-DS rollover (RFC 6781 4.1.2): the new key's DS is at the parent before the key
    # itself is published. One check cannot tell it from a stale DS; history can.
    doubleds)    PUB_A="ksk zsk";         SIGN_KSK="ksk";         DS="ksk ksk_new"; CDS="ksk" ;;
    # Expiration 36 h ago rather than "1 day": validators forgive clock skew of 10% of the
    # signature lifetime capped at 24 h (unbound val-sig-skew-max), so exactly 1 day ago
    # would flip between bogus and secure within seconds.
    expired)     PUB_A="ksk zsk";         SIGN_KSK="ksk";         DS="ksk";         CDS="ksk"
                 WINDOW=expired;  VERDICT=bogus ;;
    notyet)      PUB_A="ksk zsk";         SIGN_KSK="ksk";         DS="ksk";         CDS="ksk"
                 WINDOW=notyet;   VERDICT=bogus ;;
    expiring)    PUB_A="ksk zsk";         SIGN_KSK="ksk";         DS="ksk";         CDS="ksk"
                 WINDOW=expiring ;;
    # Signed only with algorithm 13; the parent's only DS is for the (unpublished)
    # algorithm-8 ksk, so no DS matches any DNSKEY. Measured with unbound 1.17: SERVFAIL,
    # EDE 9 "DNSKEY Missing" with "no keys have a DS with algorithm RSASHA256 ... while
    # building chain of trust" on a fresh lookup; a repeat while the failure is cached
    # says EDE 6 "DNSSEC Bogus" instead (libunbound's code for the same failure changes with cache state: assert the verdict, not the code).
    algmismatch) PUB_A="alt_ksk alt_zsk"; SIGN_KSK="alt_ksk";     SIGN_ZSK="alt_zsk"
                 DS="ksk";                CDS="alt_ksk";          VERDICT=bogus ;;
    # Server b already publishes ksk_new (serial+1), server a lags; the DS is for ksk,
    # which signs on both, so both answers validate.
    split)       PUB_A="ksk zsk";         PUB_B="ksk ksk_new zsk"
                 SIGN_KSK="ksk";          DS="ksk";               CDS="ksk";        B_AHEAD=1 ;;
    unsigned)    SIGN_ZSK="";             VERDICT=insecure ;;
    zskroll)     PUB_A="ksk zsk zsk2";    SIGN_KSK="ksk";         DS="ksk";         CDS="ksk" ;;
    # Deprecated crypto, signed the way real signers do it (zone_alg, keygen). Measured
    # with unbound 1.17.1 / OpenSSL 3.0 on Debian 12: all three validate secure; RHEL 9's
    # DEFAULT crypto policy would call the SHA-1 ones insecure.
    # sha1ds: the parent's only DS for ksk is SHA-1 (digest type 1).
    sha1ds)      PUB_A="ksk zsk";         SIGN_KSK="ksk";         DS="ksk";         CDS="ksk"
                 DS_DIGEST=1 ;;
    # rsasha1: every key is algorithm 5 (RSASHA1); rsa1024: the KSK is RSA-1024.
    rsasha1)     PUB_A="ksk zsk";         SIGN_KSK="ksk";         DS="ksk";         CDS="ksk" ;;
    rsa1024)     PUB_A="ksk zsk";         SIGN_KSK="ksk";         DS="ksk";         CDS="ksk" ;;
    # A KSK rotation whose TTLs eat the 7-day window: DNSKEY TTL 2 days + DS TTL 3 days
    # leave 2 days to act, under critical_before (72 h). Each TTL alone looks harmless.
    longttl)     PUB_A="ksk ksk_new zsk"; SIGN_KSK="ksk ksk_new"; DS="ksk";         CDS="ksk_new"
                 DS_TTL=259200;           KEY_TTL=172800 ;;
    # Signed zones without a DS at the parent (RFC 9615 bootstrapping). dsboot has CDS and
    # CDNSKEY and its DNS host signs the signals under both name servers in dnshost.$TLD;
    # nodsboot has neither: the parent has nothing to bootstrap from. dsbootwrong's signals
    # name a key the zone does not publish (a DNS host that signalled for the wrong key):
    # a parent must not act on them.
    dsboot)      PUB_A="ksk zsk";         SIGN_KSK="ksk";         DS="";            CDS="ksk"
                 SIGNAL="ksk";            VERDICT=insecure ;;
    dsbootwrong) PUB_A="ksk zsk";         SIGN_KSK="ksk";         DS="";            CDS="ksk"
                 SIGNAL="ksk_new";        VERDICT=insecure ;;
    # The right signals, but the name servers' own zone is unsigned: nothing vouches for
    # them, so a parent must not act (RFC 9615 needs the signal zone secure).
    dsbootinsecure) PUB_A="ksk zsk";      SIGN_KSK="ksk";         DS="";            CDS="ksk"
                 SIGNAL="ksk";            NSHOST=plainhost.$TLD;  NS_B=ns2.plainhost.$TLD
                 VERDICT=insecure ;;
    nodsboot)    PUB_A="ksk zsk";         SIGN_KSK="ksk";         DS="";            CDS=""
                 VERDICT=insecure ;;
    # ECDSAP384SHA384 (zone_alg 14) in a KSK rotation: its DS to publish is SHA-256 and
    # SHA-384 (expect/<zone>.ds lists both).
    p384)        PUB_A="ksk ksk_new zsk"; SIGN_KSK="ksk ksk_new"; DS="ksk";         CDS="ksk_new" ;;
    # Hosts that publish no CDS. A rotation that starts (new key, old DS) and one that
    # finishes (new DS, old key still published) are mirror images: one check cannot
    # tell which key is new; history (the key seen first is the old one) can.
    nocdsstart)  PUB_A="ksk ksk_new zsk"; SIGN_KSK="ksk ksk_new"; DS="ksk";         CDS="" ;;
    nocdsswap)   PUB_A="ksk ksk_new zsk"; SIGN_KSK="ksk ksk_new"; DS="ksk_new";     CDS="" ;;
    # CDS as registries read it (RFC 7344, 8078): every server asked, over TCP. A KSK
    # rollover where server b still announces the old key: a scanner sees two answers.
    cdsdiffer)   PUB_A="ksk ksk_new zsk"; SIGN_KSK="ksk ksk_new"; DS="ksk";         CDS="ksk_new"
                 CDS_B="ksk" ;;
    # CDS for the new key, CDNSKEY still for the old one: scanners cancel the update.
    cdsmismatch) PUB_A="ksk ksk_new zsk"; SIGN_KSK="ksk ksk_new"; DS="ksk";         CDS="ksk_new"
                 CDNSKEY="ksk" ;;
    # None of the three opens a KSK rotation (no key waits for its DS).
    # The CDS for ksk has the right key tag and algorithm and a wrong digest (a DS typed
    # or templated by hand); CDNSKEY names ksk correctly. By tags CDS and CDNSKEY agree
    # and ksk signs: a registry that applies the CDS replaces the good DS with one that
    # matches no key.
    cdsbogusdigest) PUB_A="ksk zsk";      SIGN_KSK="ksk";         DS="ksk";         CDS="ksk"
                 CDS_DIGEST=bogus ;;
    # Both KSKs have a DS; the CDS names ksk_new alone (drop ksk's DS), and ksk_new's
    # RRSIG over the DNSKEY RRset carries its tag but does not verify (a signer that
    # changed the key set and kept a stale signature). ksk's RRSIG verifies, so the zone
    # validates today; the DS set the CDS asks for would make it bogus.
    cdsbadsig)   PUB_A="ksk ksk_new zsk"; SIGN_KSK="ksk ksk_new"; DS="ksk ksk_new"; CDS="ksk_new"
                 BAD_SIG=DNSKEY:ksk_new ;;
    # The RRSIGs over CDS and CDNSKEY by ksk, the key the DS covers and the only one that
    # signs them, carry its tag and do not verify. A registry ignores this CDS (RFC 7344
    # 4.1); by tags, ksk signs it.
    cdsbadcdssig) PUB_A="ksk zsk";        SIGN_KSK="ksk";         DS="ksk";         CDS="ksk"
                 BAD_SIG=CDS,CDNSKEY:ksk ;;
    # RFC 8078 4: the zone asks its parent to remove every DS (turn DNSSEC off).
    cdsdelete)   PUB_A="ksk zsk";         SIGN_KSK="ksk";         DS="ksk";         CDS="delete" ;;
    # Multi-signer, RFC 8901 model 2: provider a signs with ksk/zsk, provider b with
    # ksk_new/zsk2 and its own serial; each publishes its own KSK and every provider's
    # ZSK, the parent holds both KSKs' DS, both announce both KSKs in CDS.
    multisigner) PUB_A="ksk zsk zsk2";    PUB_B="ksk_new zsk2 zsk"
                 SIGN_KSK="ksk";          SIGN_KSK_B="ksk_new";   SIGN_ZSK_B="zsk2"
                 DS="ksk ksk_new";        CDS="ksk ksk_new";      B_AHEAD=1
                 NS_B=ns.signer2.$TLD ;;
    # The same, but provider a never imported provider b's ZSK: a resolver holding a's
    # DNSKEY RRset cannot validate b's answers, so the verdict depends on which server
    # the resolver asked (VERDICT=either).
    multisignerbad) PUB_A="ksk zsk";      PUB_B="ksk_new zsk2 zsk"
                 SIGN_KSK="ksk";          SIGN_KSK_B="ksk_new";   SIGN_ZSK_B="zsk2"
                 DS="ksk ksk_new";        CDS="ksk ksk_new";      B_AHEAD=1; VERDICT=either
                 NS_B=ns.signer2.$TLD ;;
    # NSEC3 the way older signer defaults made it (RFC 9276 says 0 iterations, no salt).
    nsec3)       PUB_A="ksk zsk";         SIGN_KSK="ksk";         DS="ksk";         CDS="ksk"
                 NSEC3_ITER=100 ;;
    # Both servers serve the same signed zone, but b's NSEC signatures are corrupt: the apex
    # validates everywhere, a name that does not exist is bogus when b answers it.
    denialbad)   PUB_A="ksk zsk";         SIGN_KSK="ksk";         DS="ksk";         CDS="ksk"
                 B_DENIAL=broken ;;
    # Algorithm rollover from 8 (ksk, zsk) to 13 (alt_ksk, alt_zsk), conservative approach of
    # RFC 6781 4.1.4: new signatures, new keys, DS swap, old keys out, old signatures out.
    algsigs)     PUB_A="ksk zsk";         SIGN_KSK="ksk";         DS="ksk";         CDS="ksk"
                 XSIG_KSK="alt_ksk";      XSIG_ZSK="alt_zsk" ;;
    algkeys)     PUB_A="ksk zsk alt_ksk alt_zsk"; SIGN_KSK="ksk alt_ksk"; SIGN_ZSK="zsk alt_zsk"
                 DS="ksk";                CDS="alt_ksk" ;;
    algds)       PUB_A="ksk zsk alt_ksk alt_zsk"; SIGN_KSK="ksk alt_ksk"; SIGN_ZSK="zsk alt_zsk"
                 DS="alt_ksk";            CDS="alt_ksk" ;;
    algoldkeys)  PUB_A="alt_ksk alt_zsk"; SIGN_KSK="alt_ksk";     SIGN_ZSK="alt_zsk"
                 DS="alt_ksk";            CDS="alt_ksk";          XSIG_KSK="ksk"; XSIG_ZSK="zsk" ;;
    algdone)     PUB_A="alt_ksk alt_zsk"; SIGN_KSK="alt_ksk";     SIGN_ZSK="alt_zsk"
                 DS="alt_ksk";            CDS="alt_ksk" ;;
    # Wrong order: the DS swapped to 13 while 13 only has signatures, no published key.
    algdsearly)  PUB_A="ksk zsk";         SIGN_KSK="ksk";         DS="alt_ksk";     CDS="alt_ksk"
                 XSIG_KSK="alt_ksk";      XSIG_ZSK="alt_zsk";     VERDICT=bogus ;;
    *) return 1 ;;
    esac
    [ "$B_AHEAD" = 1 ] || PUB_B=$PUB_A
    [ "$CDNSKEY" != - ] || CDNSKEY=$CDS
    if [ "$CDS_B" = - ]; then CDS_B=$CDS; [ "$CDNSKEY_B" != - ] || CDNSKEY_B=$CDNSKEY; fi
    [ "$CDNSKEY_B" != - ] || CDNSKEY_B=$CDS_B
    [ "$SIGN_KSK_B" != - ] || SIGN_KSK_B=$SIGN_KSK
    [ "$SIGN_ZSK_B" != - ] || SIGN_ZSK_B=$SIGN_ZSK
}

is_state() { local s; for s in $SCENARIOS; do [ "$s" = "$1" ] && return 0; done; return 1; }

# Main algorithm of a zone's ksk/ksk_new/zsk/zsk2. The big DNS host signs with 8 (RSASHA256),
# and RSA makes rollstart's DNSKEY answer exceed 1232 bytes. algmismatch's main key is the
# unpublished algorithm-8 KSK behind the parent's DS; its published keys are the alt_ ones.
zone_alg() {
    case $1 in
    algsigs|algkeys|algds|algoldkeys|algdone|algdsearly) echo 8 ;; # alt_ keys: 13
    healthy|rollstart|dsupdated|algmismatch|switch) echo 8 ;;
    rsasha1) echo 5 ;;
    rsa1024) echo 8 ;;
    p384) echo 14 ;;
    *) echo 13 ;;
    esac
}

# Roles the static zone <state> needs: exactly those its definition mentions.
roles_for_state() {
    state_def "$1"
    echo "$PUB_A $PUB_B $SIGN_KSK $SIGN_ZSK $DS $CDS $CDS_B $CDNSKEY $CDNSKEY_B $SIGN_KSK_B $SIGN_ZSK_B $XSIG_KSK $XSIG_ZSK $SIGNAL" |
        tr ' ' '\n' | awk 'NF && $0 != "delete" && !seen[$0]++' |
        tr '\n' ' '
}

is_ksk_role() { case $1 in ksk|ksk_new|alt_ksk) return 0;; *) return 1;; esac; }

# ---------------------------------------------------------------------------------------
# Keys: $D/keys/<zone>/K<zone>.+alg+tag.{key,private}, and 'roles' lines "role Kname".

keydir() { echo "$D/keys/$1"; }

keygen() { # zone role main-alg -> appends to roles
    local zone=$1 role=$2 alg=$3 dir args name
    dir=$(keydir "$zone")
    mkdir -p "$dir"
    case $role in alt_*) alg=13 ;; esac
    is_ksk_role "$role" && args=(-f KSK) || args=()
    # rsa1024's KSK is RSA-1024: what a zone signed years ago still carries.
    local ksk_bits=2048
    [ "$zone" = "rsa1024.$TLD" ] && ksk_bits=1024
    case $alg in
    8)  if is_ksk_role "$role"; then args+=(-a RSASHA256 -b "$ksk_bits"); else args+=(-a RSASHA256 -b 1280); fi ;;
    # BIND 9.18 on Debian 12 still makes and signs with RSASHA1 (it warns "deprecated").
    5)  if is_ksk_role "$role"; then args+=(-a RSASHA1 -b 2048); else args+=(-a RSASHA1 -b 1280); fi ;;
    13) args+=(-a ECDSAP256SHA256) ;;
    14) args+=(-a ECDSAP384SHA384) ;;
    *)  die "unsupported algorithm $alg" ;;
    esac
    # Keygens of one zone run one after the other in the same directory, which lets
    # dnssec-keygen avoid key-tag collisions within the zone.
    name=$(dnssec-keygen -q -K "$dir" -L "$TTL" -n ZONE "${args[@]}" "$zone")
    [ -f "$dir/$name.private" ] || die "dnssec-keygen made no key for $zone ($role)"
    sed -i "/^$role /d" "$dir/roles" 2>/dev/null || true
    echo "$role $name" >>"$dir/roles"
}

key_of() { # zone role -> path prefix of the key files
    local dir name
    dir=$(keydir "$1")
    name=$(awk -v r="$2" '$1 == r { print $2 }' "$dir/roles" 2>/dev/null || true)
    [ -n "$name" ] || die "zone $1 has no key for role $2"
    echo "$dir/$name"
}

dnskey_rr() { # zone role [TYPE] -> the DNSKEY (or CDNSKEY) record on one line
    local f
    f=$(key_of "$1" "$2").key
    awk -v t="${3:-DNSKEY}" '!/^;/ && NF {
        printf "%s %s %s %s %s %s %s ", $1, $2, $3, t, $5, $6, $7
        for (i = 8; i <= NF; i++) printf "%s", $i; printf "\n" }' "$f"
}

ds_rr() { # zone role [-C] -> DS (or CDS) record, SHA-256, with the TLD's TTL
    dnssec-dsfromkey -2 -T "$TTL" ${3:+"$3"} "$(key_of "$1" "$2").key"
}

ds_plain() { # zone role [digest 1|2|4] -> `dnssec-dsfromkey -2` (or that digest) output as is
    local d=(-2)
    case ${3:-2} in 1) d=(-1) ;; 4) d=(-a SHA-384) ;; esac
    # 2>/dev/null: dnssec-dsfromkey -1 warns that SHA-1 is deprecated, which is the point.
    dnssec-dsfromkey "${d[@]}" "$(key_of "$1" "$2").key" 2>/dev/null
}

ds_parent() { # zone role -> the DS the TLD publishes, with the state's DS_DIGEST and DS_TTL
    dnssec-dsfromkey "-$DS_DIGEST" -T "$DS_TTL" "$(key_of "$1" "$2").key" 2>/dev/null
}

# ---------------------------------------------------------------------------------------
# Zone building

utc() { date -u -d "$1" +%Y%m%d%H%M%S; }

# sign_zone zone in out window "ksk roles" "zsk roles"
# Only the keys that must sign are linked into a private key directory: dnssec-signzone
# also looks for private keys of every DNSKEY in the zone, and a pre-published key must
# stay published-but-silent.
sign_zone() {
    local zone=$1 in=$2 out=$3 window=$4 ksks=$5 zsks=$6 nsec3_iter=${7:-} tmp r k args=()
    tmp=$(mktemp -d "$D/work/sign.XXXXXX")
    for r in $ksks $zsks; do
        k=$(key_of "$zone" "$r")
        ln -s "$k.key" "$tmp/"; ln -s "$k.private" "$tmp/"
    done
    for r in $ksks; do args+=(-k "$tmp/$(basename "$(key_of "$zone" "$r")")"); done
    case $window in
    normal)   ;;
    # -P: the post-sign check rejects signatures that are not valid now, which is the point.
    expired)  args+=(-P -s "$(utc '30 days ago')" -e "$(utc '36 hours ago')") ;;
    notyet)   args+=(-P -s "$(utc '10 days')" -e "$(utc '40 days')") ;;
    expiring) args+=(-s "$(utc '1 day ago')" -e "$(utc '2 days')") ;;
    *) die "unknown signature window $window" ;;
    esac
    # -3 SALT -H N: NSEC3 with a fresh 8-byte salt, as dnssec-signzone users set it.
    [ -z "$nsec3_iter" ] || args+=(-3 "$(od -An -tx1 -N8 /dev/urandom | tr -d ' \n')" -H "$nsec3_iter")
    set -- # zsk files as positional arguments
    for r in $zsks; do set -- "$@" "$tmp/$(basename "$(key_of "$zone" "$r")")"; done
    # -x: only KSKs sign DNSKEY/CDS/CDNSKEY, so "who signs the DNSKEY RRset" is exact.
    # -O full: one record per line; easy to grep when a test fails.
    (cd "$tmp" && dnssec-signzone -q -x -N keep -O full -d "$tmp" -K "$tmp" "${args[@]}" \
        -o "$zone" -f "$out" "$in" "$@") >"$tmp/signzone.log" 2>&1 ||
        { cat "$tmp/signzone.log" >&2; die "dnssec-signzone failed for $zone"; }
    rm -rf "$tmp"
}

# Move a zone file into a server's zone directory. NSD notices changes by mtime on SIGHUP;
# two switches within one second would otherwise leave the mtime unchanged and the
# reload would be skipped (we would then time out waiting for the serial).
install_zone() {
    local src=$1 dst=$2 old=0 new
    [ -e "$dst" ] && old=$(stat -c %Y "$dst")
    # copy then rename in the same directory: NSD never reads a half-written file
    cp "$src" "$dst.tmp"
    mv -f "$dst.tmp" "$dst"
    new=$(stat -c %Y "$dst")
    [ "$new" -gt "$old" ] || touch -d "@$((old + 1))" "$dst"
}

# build_child zone state serial
# Writes the zone for servers a and b, the zone's delegation for the TLD (work/tld-parts)
# and the expectation files. Does not touch the TLD zone or the daemons.
build_child() {
    local zone=$1 state=$2 serial=$3 label=${1%."$TLD"} srv pub ser r src out signed_a=""
    state_def "$state" || die "unknown state $state"
    mkdir -p "$D/work/$zone"
    local cds cdnskey sksk szsk copied
    for srv in a b; do
        if [ "$srv" = a ]; then
            pub=$PUB_A; ser=$serial; cds=$CDS; cdnskey=$CDNSKEY; sksk=$SIGN_KSK; szsk=$SIGN_ZSK
        else
            pub=$PUB_B; ser=$((serial + B_AHEAD)); cds=$CDS_B; cdnskey=$CDNSKEY_B
            sksk=$SIGN_KSK_B; szsk=$SIGN_ZSK_B
        fi
        src=$D/work/$zone/$srv.zone
        out=$D/work/$zone/$srv.signed
        copied=""
        {
            echo "\$TTL $TTL"
            echo "$zone. IN SOA ns1.$NSHOST. hostmaster.$zone. $ser 3600 900 604800 300"
            echo "$zone. IN NS ns1.$NSHOST."
            echo "$zone. IN NS $NS_B."
            echo "www.$zone. IN A 127.0.0.80"
            for r in $pub; do dnskey_rr "$zone" "$r" | awk -v t="$KEY_TTL" '{ $2 = t; print }'; done
            if [ -n "$pub" ]; then
                for r in $cds; do
                    if [ "$r" = delete ]; then echo "$zone. $TTL IN CDS 0 0 0 00"
                    else ds_rr "$zone" "$r" -C | cds_digest_filter; fi
                done
                for r in $cdnskey; do
                    if [ "$r" = delete ]; then echo "$zone. $TTL IN CDNSKEY 0 3 0 AA=="
                    else dnskey_rr "$zone" "$r" CDNSKEY; fi
                done
            fi
        } >"$src"
        if [ -z "$pub" ]; then
            cp "$src" "$out"
        elif [ "$srv" = b ] && [ "$PUB_B" = "$PUB_A" ] && [ "$B_AHEAD" = 0 ] &&
             [ "$CDS_B $CDNSKEY_B" = "$CDS $CDNSKEY" ]; then
            cp "$signed_a" "$out" # same content: one signing is enough
            copied=1
        else
            sign_zone "$zone" "$src" "$out" "$WINDOW" "$sksk" "$szsk" "$NSEC3_ITER"
            [ -z "$XSIG_ZSK" ] || add_foreign_sigs "$zone" "$src" "$out"
        fi
        [ "$srv" = b ] && [ "$B_DENIAL" = broken ] && break_nsec_sigs "$out"
        # A copy of a's file already has the altered signature.
        [ -z "$BAD_SIG" ] || [ -n "$copied" ] || break_sig "$zone" "$BAD_SIG" "$out"
        [ "$srv" = a ] && signed_a=$out
        install_zone "$out" "$D/nsd-$srv/zones/$zone.zone"
    done

    mkdir -p "$D/work/tld-parts"
    { echo "$zone. IN NS ns1.$NSHOST."
      echo "$zone. IN NS $NS_B."
      for r in $DS; do ds_parent "$zone" "$r"; done; } >"$D/work/tld-parts/$label.part"

    write_expect "$zone" "$state"
    write_expect_denial "$zone" "$D/work/$zone/a.signed"
}

# Sign a copy of the zone that also publishes the XSIG_ keys, and add that copy's RRSIGs of
# their algorithm to the zone, except over DNSKEY, CDS and CDNSKEY (which cover a different
# key set): the signatures are everywhere, their keys are not published.
add_foreign_sigs() {
    local zone=$1 src=$2 out=$3 r alg
    { cat "$src"; for r in $XSIG_KSK $XSIG_ZSK; do dnskey_rr "$zone" "$r"; done; } >"$src.both"
    sign_zone "$zone" "$src.both" "$out.both" "$WINDOW" "$SIGN_KSK $XSIG_KSK" "$SIGN_ZSK $XSIG_ZSK"
    alg=$(awk '!/^;/ && NF { print $7; exit }' "$(key_of "$zone" "$XSIG_ZSK").key")
    awk -v a="$alg" '$4 == "RRSIG" && $6 == a && $5 != "DNSKEY" && $5 != "CDS" &&
        $5 != "CDNSKEY"' "$out.both" >>"$out"
    rm -f "$src.both" "$out.both"
}

# Alter one base64 character in every RRSIG over an NSEC (one record per line, -O full):
# the records still load, and their signatures no longer verify.
break_nsec_sigs() {
    # $13: the first chunk of the signature (owner TTL IN RRSIG NSEC alg labels TTL
    # expiration inception tag signer signature...).
    awk '$4 == "RRSIG" && $5 == "NSEC" && length($13) > 10 {
            c = substr($13, 10, 1); r = (c == "A") ? "B" : "A"
            $13 = substr($13, 1, 9) r substr($13, 11) }
         { print }' "$1" >"$1.tmp" && mv -f "$1.tmp" "$1"
}

# CDS_DIGEST=bogus: flip the last hex digit of each CDS digest (the last field).
cds_digest_filter() {
    if [ "$CDS_DIGEST" = bogus ]; then
        awk '{ d = $NF; c = substr(d, length(d), 1); r = (c == "0") ? "1" : "0"
               $NF = substr(d, 1, length(d) - 1) r; print }'
    else
        cat
    fi
}

# Alter one base64 character of each RRSIG over TYPES made by the key of role (BAD_SIG;
# with -O full the covered type is field 5, the key tag field 11, the signature starts at
# field 13).
break_sig() { # zone TYPES:role signed-file
    local tag
    tag=$(basename "$(key_of "$1" "${2#*:}")" | sed 's/.*+//; s/^0*//')
    awk -v t="$tag" -v types=",${2%%:*}," '$4 == "RRSIG" && index(types, "," $5 ",") &&
            $11 == t && length($13) > 10 {
            c = substr($13, 10, 1); r = (c == "A") ? "B" : "A"
            $13 = substr($13, 1, 9) r substr($13, 11) }
         { print }' "$3" >"$3.tmp" && mv -f "$3.tmp" "$3"
}

# expect/<zone>.denial: "nsec", "nsec3 ITERATIONS SALT" (read back from the signed zone's
# NSEC3PARAM) or "none"; then "b-broken" when server b's NSEC signatures were altered.
write_expect_denial() {
    local zone=$1 signed=$2 e=$D/expect
    if [ ! -e "$signed" ] || ! grep -q RRSIG "$signed"; then
        echo none
    elif awk '$4 == "NSEC3PARAM" { found = 1 } END { exit !found }' "$signed"; then
        awk '$4 == "NSEC3PARAM" { print "nsec3", $7, toupper($8); exit }' "$signed"
    else
        echo nsec
    fi >"$e/$zone.denial"
    [ "$B_DENIAL" != broken ] || echo b-broken >>"$e/$zone.denial"
}

# Topology zones beside the scenarios (not in TESTBED_ZONES; tests name them). All signed
# (algorithm 13, keys ksk zsk), DS at the parent:
#   cohosted.$TLD     served by the TLD's own servers: asked about it, the parent's server
#                     answers with authority (the child's NS set) instead of a referral
#   inside.$SPECIAL   under the special-use TLD, its servers named in that TLD
#   viaspecial.$TLD   its server names are under the special-use TLD, so the TLD has no glue
#                     for them: their addresses must be looked up there
# And lamed.$TLD (unsigned): delegated to ns.lamed.$TLD at $TESTBED_INTERCEPTOR, where a
# test may run a responder that answers without authority; dripped.$TLD (unsigned): to
# ns.dripped.$TLD at $TESTBED_HOSTILE, where a test may run tests/hostile/hostile_dns.py.
extra_zones() { echo "cohosted.$TLD inside.$SPECIAL viaspecial.$TLD"; }

build_extra() { # zone serial
    local zone=$1 serial=$2 ns servers parts srv n src=$D/work/$1.zone out=$D/work/$1.signed
    case $zone in
    cohosted.*)   ns="ns1.nic.$TLD ns2.nic.$TLD"; servers="tld tld2"; parts=tld-parts ;;
    inside.*)     ns="ns1.hosting.$SPECIAL ns2.hosting.$SPECIAL"; servers="a b"; parts=special-parts ;;
    viaspecial.*) ns="ns1.hosting.$SPECIAL ns2.hosting.$SPECIAL"; servers="a b"; parts=tld-parts ;;
    *) die "no topology zone $zone" ;;
    esac
    {
        echo "\$TTL $TTL"
        echo "$zone. IN SOA ${ns%% *}. hostmaster.$zone. $serial 3600 900 604800 300"
        for n in $ns; do echo "$zone. IN NS $n."; done
        echo "www.$zone. IN A 127.0.0.80"
        dnskey_rr "$zone" ksk; dnskey_rr "$zone" zsk
    } >"$src"
    sign_zone "$zone" "$src" "$out" normal ksk zsk
    for srv in $servers; do install_zone "$out" "$D/nsd-$srv/zones/$zone.zone"; done
    mkdir -p "$D/work/$parts"
    { for n in $ns; do echo "$zone. IN NS $n."; done
      ds_rr "$zone" ksk; } >"$D/work/$parts/${zone%%.*}.part"
}

lamed_part() {
    mkdir -p "$D/work/tld-parts"
    { echo "lamed.$TLD. IN NS ns.lamed.$TLD."
      echo "ns.lamed.$TLD. IN A $TESTBED_INTERCEPTOR"; } >"$D/work/tld-parts/lamed.part"
    { echo "dripped.$TLD. IN NS ns.dripped.$TLD."
      echo "ns.dripped.$TLD. IN A $TESTBED_HOSTILE"; } >"$D/work/tld-parts/dripped.part"
}

# expect/<zone>.ds: DS (dnssec-dsfromkey -2) of every KSK published on any server whose
# SHA-256 DS is not at the parent: what a monitor should report as "DS to publish". Literal
# reading: in dsupdated that is the outgoing K_old; in split it is server b's new KSK; in
# sha1ds the KSK whose only DS is SHA-1. For an algorithm 14/16 key its SHA-384 DS follows.
write_expect() {
    local zone=$1 state=$2 e=$D/expect r
    mkdir -p "$e"
    state_def "$state"
    : >"$e/$zone.ds.tmp"
    for r in $(echo "$PUB_A $PUB_B" | tr ' ' '\n' | awk 'NF && !seen[$0]++'); do
        is_ksk_role "$r" || continue
        case " $DS " in *" $r "*) [ "$DS_DIGEST" = 2 ] && continue ;; esac
        ds_plain "$zone" "$r" >>"$e/$zone.ds.tmp"
        # A P-384 or Ed448 key warrants a SHA-384 DS beside the SHA-256 one.
        case $(awk '!/^;/ && NF { print $7; exit }' "$(key_of "$zone" "$r").key") in
        14|16) ds_plain "$zone" "$r" 4 >>"$e/$zone.ds.tmp" ;;
        esac
    done
    mv -f "$e/$zone.ds.tmp" "$e/$zone.ds"
    : >"$e/$zone.parent-ds"
    for r in $DS; do ds_plain "$zone" "$r" "$DS_DIGEST" >>"$e/$zone.parent-ds"; done
    : >"$e/$zone.cds"
    if [ -n "$PUB_A" ]; then
        for r in $CDS; do
            if [ "$r" = delete ]; then echo "$zone. IN CDS 0 0 0 00" >>"$e/$zone.cds"
            else ds_plain "$zone" "$r" | cds_digest_filter >>"$e/$zone.cds"; fi
        done
    fi
    echo "$state" >"$e/$zone.state"
    echo "$VERDICT" >"$e/$zone.verdict"
}

# RFC 9615 signals of the scenarios that ask for them (SIGNAL roles): CDS and CDNSKEY owned
# by _dsboot.<zone>._signal.<ns> in the name servers' own zone HOST.
signal_rrs() { # host
    local s ns r
    for s in $SCENARIOS; do
        state_def "$s"
        [ -n "$SIGNAL" ] && [ "$NSHOST" = "$1" ] || continue
        for ns in ns1 ns2; do
            for r in $SIGNAL; do
                { ds_rr "$s.$TLD" "$r" -C; dnskey_rr "$s.$TLD" "$r" CDNSKEY; } |
                    awk -v o="_dsboot.$s.$TLD._signal.$ns.$1." '{ $1 = o; print }'
            done
        done
    done
}

# AAAA of ns1/ns2 when TESTBED_NS_A6/B6 are set (dual-stack name servers).
ns_aaaa() {
    [ -z "$TESTBED_NS_A6" ] || echo "ns1.$1. IN AAAA $TESTBED_NS_A6"
    [ -z "$TESTBED_NS_B6" ] || echo "ns2.$1. IN AAAA $TESTBED_NS_B6"
}

build_dnshost() {
    local serial=$1 z=$DNSHOST src=$D/work/dnshost.zone
    {
        echo "\$TTL $TTL"
        echo "$z. IN SOA ns1.$z. hostmaster.$z. $serial 3600 900 604800 300"
        echo "$z. IN NS ns1.$z."
        echo "$z. IN NS ns2.$z."
        echo "ns1.$z. IN A $TESTBED_NS_A"
        echo "ns2.$z. IN A $TESTBED_NS_B"
        ns_aaaa "$z"
        dnskey_rr "$z" ksk; dnskey_rr "$z" zsk
        signal_rrs "$z"
    } >"$src"
    sign_zone "$z" "$src" "$D/work/dnshost.signed" normal ksk zsk
    install_zone "$D/work/dnshost.signed" "$D/nsd-a/zones/$z.zone"
    install_zone "$D/work/dnshost.signed" "$D/nsd-b/zones/$z.zone"
}

# plainhost.$TLD: the same two servers under names in an unsigned zone, delegated without
# DS, carrying signals nothing can validate (dsbootinsecure).
build_plainhost() {
    local serial=$1 z=plainhost.$TLD src=$D/work/plainhost.zone
    {
        echo "\$TTL $TTL"
        echo "$z. IN SOA ns1.$z. hostmaster.$z. $serial 3600 900 604800 300"
        echo "$z. IN NS ns1.$z."
        echo "$z. IN NS ns2.$z."
        echo "ns1.$z. IN A $TESTBED_NS_A"
        echo "ns2.$z. IN A $TESTBED_NS_B"
        signal_rrs "$z"
    } >"$src"
    install_zone "$src" "$D/nsd-a/zones/$z.zone"
    install_zone "$src" "$D/nsd-b/zones/$z.zone"
    mkdir -p "$D/work/tld-parts"
    { echo "$z. IN NS ns1.$z."
      echo "$z. IN NS ns2.$z."
      echo "ns1.$z. IN A $TESTBED_NS_A"
      echo "ns2.$z. IN A $TESTBED_NS_B"; } >"$D/work/tld-parts/plainhost.part"
}

build_tld() {
    local serial=$1 src=$D/work/tld.zone
    {
        echo "\$TTL $TTL"
        echo "$TLD. IN SOA ns1.nic.$TLD. hostmaster.nic.$TLD. $serial 3600 900 604800 300"
        echo "$TLD. IN NS ns1.nic.$TLD."
        echo "$TLD. IN NS ns2.nic.$TLD."
        echo "ns1.nic.$TLD. IN A $TESTBED_TLD_NS_A"
        echo "ns2.nic.$TLD. IN A $TESTBED_TLD_NS_B"
        dnskey_rr "$TLD" ksk; dnskey_rr "$TLD" zsk
        echo "$DNSHOST. IN NS ns1.$DNSHOST."
        echo "$DNSHOST. IN NS ns2.$DNSHOST."
        ds_rr "$DNSHOST" ksk
        echo "ns1.$DNSHOST. IN A $TESTBED_NS_A"
        echo "ns2.$DNSHOST. IN A $TESTBED_NS_B"
        ns_aaaa "$DNSHOST"
        # A second provider's name for server b (multi-signer zones): its own domain,
        # so the NS set spans two providers; authoritative data of the TLD, no zone.
        echo "ns.signer2.$TLD. IN A $TESTBED_NS_B"
        [ -z "$TESTBED_NS_B6" ] || echo "ns.signer2.$TLD. IN AAAA $TESTBED_NS_B6"
        cat "$D"/work/tld-parts/*.part
    } >"$src"
    sign_zone "$TLD" "$src" "$D/work/tld.signed" normal ksk zsk
    install_zone "$D/work/tld.signed" "$D/nsd-tld/zones/$TLD.zone"
    # The second TLD server lags when asked to: it keeps its old zone.
    [ "${TLD_LAG:-0}" = 1 ] || install_zone "$D/work/tld.signed" "$D/nsd-tld2/zones/$TLD.zone"
}

# The special-use TLD, on the TLD's servers beside $TLD.
build_special_tld() {
    local serial=$1 src=$D/work/special.zone
    {
        echo "\$TTL $TTL"
        echo "$SPECIAL. IN SOA ns1.nic.$SPECIAL. hostmaster.nic.$SPECIAL. $serial 3600 900 604800 300"
        echo "$SPECIAL. IN NS ns1.nic.$SPECIAL."
        echo "$SPECIAL. IN NS ns2.nic.$SPECIAL."
        echo "ns1.nic.$SPECIAL. IN A $TESTBED_TLD_NS_A"
        echo "ns2.nic.$SPECIAL. IN A $TESTBED_TLD_NS_B"
        echo "ns1.hosting.$SPECIAL. IN A $TESTBED_NS_A"
        echo "ns2.hosting.$SPECIAL. IN A $TESTBED_NS_B"
        dnskey_rr "$SPECIAL" ksk; dnskey_rr "$SPECIAL" zsk
        cat "$D"/work/special-parts/*.part
    } >"$src"
    sign_zone "$SPECIAL" "$src" "$D/work/special.signed" normal ksk zsk
    install_zone "$D/work/special.signed" "$D/nsd-tld/zones/$SPECIAL.zone"
    install_zone "$D/work/special.signed" "$D/nsd-tld2/zones/$SPECIAL.zone"
}

build_root() {
    local serial=$1 src=$D/work/root.zone
    {
        echo "\$TTL $TTL"
        echo ". IN SOA a.root-servers.net. hostmaster.root-servers.net. $serial 1800 900 604800 300"
        echo ". IN NS a.root-servers.net."
        echo ". IN NS b.root-servers.net."
        echo "a.root-servers.net. IN A $TESTBED_ROOT_NS_A"
        echo "b.root-servers.net. IN A $TESTBED_ROOT_NS_B"
        dnskey_rr . ksk; dnskey_rr . zsk
        echo "$TLD. IN NS ns1.nic.$TLD."
        echo "$TLD. IN NS ns2.nic.$TLD."
        ds_rr "$TLD" ksk
        echo "ns1.nic.$TLD. IN A $TESTBED_TLD_NS_A"
        echo "ns2.nic.$TLD. IN A $TESTBED_TLD_NS_B"
        echo "$SPECIAL. IN NS ns1.nic.$SPECIAL."
        echo "$SPECIAL. IN NS ns2.nic.$SPECIAL."
        ds_rr "$SPECIAL" ksk
        echo "ns1.nic.$SPECIAL. IN A $TESTBED_TLD_NS_A"
        echo "ns2.nic.$SPECIAL. IN A $TESTBED_TLD_NS_B"
    } >"$src"
    sign_zone . "$src" "$D/work/root.signed" normal ksk zsk
    install_zone "$D/work/root.signed" "$D/nsd-root/zones/root.zone"
}

write_client_files() {
    local key
    key=$(dnskey_rr . ksk | awk '{ print $5, $6, $7, $8 }')
    echo ". $TTL IN DNSKEY $key" >"$TESTBED_ANCHOR"
    { echo "# The private root KSK, for delv -a (testbed.sh writes this at every up)."
      echo "trust-anchors {"
      echo "    . static-key $(echo "$key" | awk '{ printf "%s %s %s \"%s\"", $1, $2, $3, $4 }');"
      echo "};"; } >"$TESTBED_ANCHOR_CONF"
    { echo ".                     $TTL NS a.root-servers.net."
      echo ".                     $TTL NS b.root-servers.net."
      echo "a.root-servers.net.   $TTL A  $TESTBED_ROOT_NS_A"
      echo "b.root-servers.net.   $TTL A  $TESTBED_ROOT_NS_B"; } >"$TESTBED_HINTS"
    # For validating clients that iterate themselves (unbound-host -C, ub_ctx_config):
    # an independent path that does not go through the testbed's resolver.
    cat >"$TESTBED_LIBUNBOUND_CONF" <<EOF
server:
    root-hints: "$TESTBED_HINTS"
    trust-anchor-file: "$TESTBED_ANCHOR"
    do-not-query-localhost: no
    # The special-use TLD is served by this root: ask it, do not answer it locally.
    local-zone: "$SPECIAL." nodefault
    do-ip6: no
    username: ""
    chroot: ""
    val-log-level: 2
EOF
}

# ---------------------------------------------------------------------------------------
# Bench zones (TESTBED_BENCH_ZONES=N > 0, for `make bench`): N signed zones
# b000001.$TLD ... b<N>.$TLD on servers a and b, delegated with DS in the TLD. They share
# one KSK/ZSK pair (algorithm 13) and are made by tests/bench/genzones.py, which signs in
# one process (~0.2 ms a zone; dnssec-signzone costs ~21 ms a zone, mostly start-up).
# They are kept in $TESTBED_BENCH_CACHE/<tld>-<N>/ and reused while their signatures have
# more than BENCH_MIN_LEFT_DAYS of their 90 days left: only the TLD, whose keys are fresh
# at every up, is signed again. NSD reads the zone files from the cache directly.

BENCH_MIN_LEFT_DAYS=30

bench_dir() {
    if [ "$TESTBED_BENCH_MIXED" = 1 ]; then
        echo "$TESTBED_BENCH_CACHE/$TLD-$TESTBED_BENCH_ZONES-mixed"
    else
        echo "$TESTBED_BENCH_CACHE/$TLD-$TESTBED_BENCH_ZONES"
    fi
}
# What the stamp says of the states: "no", or the dead server's address.
bench_mixed() { if [ "$TESTBED_BENCH_MIXED" = 1 ]; then echo "$TESTBED_BENCH_DEAD"; else echo no; fi; }

bench_cache_ok() { # dir -> 0 if complete, for this TLD and count, and not near expiry
    local st=$1/stamp
    [ -f "$st" ] && [ -f "$1/tld.part" ] && [ -f "$1/zones.list" ] || return 1
    awk -F= -v tld="$TLD" -v n="$TESTBED_BENCH_ZONES" -v now="$(date +%s)" \
        -v left=$((BENCH_MIN_LEFT_DAYS * 86400)) -v mixed="$(bench_mixed)" '
        { v[$1] = $2 }
        END { if (v["mixed"] == "") v["mixed"] = "no"
              exit !(v["version"] == 1 && v["tld"] == tld && v["count"] == n &&
                     v["expires"] - now > left && v["mixed"] == mixed) }' "$st"
}

# Make (or reuse) the cache; prints nothing, logs what it did.
ensure_bench_zones() {
    local dir tmp t0 n=$TESTBED_BENCH_ZONES z
    dir=$(bench_dir)
    mkdir -p "$TESTBED_BENCH_CACHE"
    # One generator per cache directory at a time (two benches of the same N racing).
    exec 8>"$TESTBED_BENCH_CACHE/.lock-$(basename "$dir")"
    flock -w 600 8 || die "another testbed.sh is generating $dir for more than 600 s"
    if bench_cache_ok "$dir"; then
        log "bench: reusing $n signed zones from $dir"
        exec 8>&-
        return 0
    fi
    python3 -c 'import cryptography' 2>/dev/null ||
        die "bench zones need python3-cryptography (make deps installs it)"
    t0=$(date +%s%N)
    tmp=$dir.tmp.$$
    rm -rf "$tmp"
    local mixed=()
    [ "$TESTBED_BENCH_MIXED" = 1 ] && mixed=(--mixed --dead-addr "$TESTBED_BENCH_DEAD")
    python3 "$REPO/tests/bench/genzones.py" --tld "$TLD" --count "$n" --out "$tmp" "${mixed[@]}" ||
        { rm -rf "$tmp"; die "generating $n bench zones failed"; }
    # BIND checks a sample: every signature, the NSEC chain, the key roles.
    for z in $(sed -n "1p;$(( (n + 1) / 2 ))p;\$p" "$tmp/zones.list" | sort -u); do
        dnssec-verify -q -o "$z" "$tmp/zones/$z.zone" >"$tmp/verify.log" 2>&1 ||
            { cat "$tmp/verify.log" >&2; rm -rf "$tmp"; die "dnssec-verify rejects generated zone $z"; }
    done
    rm -f "$tmp/verify.log"
    rm -rf "$dir"
    mv "$tmp" "$dir"
    exec 8>&-
    log "bench: $n zones generated and signed in $(( ($(date +%s%N) - t0) / 1000000 )) ms: $dir"
}

# nsd.conf entries for the bench zones, read straight from the cache.
bench_nsd_zones() {
    local dir
    dir=$(bench_dir)
    awk -v d="$dir/zones" 'NF { printf "zone:\n    name: \"%s\"\n    zonefile: \"%s/%s.zone\"\n", $1, d, $1 }' \
        "$dir/zones.list"
}

# ---------------------------------------------------------------------------------------
# Daemon configuration

nsd_conf() { # name addresses... ; zones from $D/nsd-<name>/zones
    local name=$1 dir=$D/nsd-$1 a f z
    shift
    mkdir -p "$dir/xfr"
    {
        echo "# generated by testbed.sh; regenerated at every up"
        echo "server:"
        for a in "$@"; do echo "    ip-address: $a"; done
        # The bench's cycle opens up to 3,000 TCP connections at once (500
        # domains in flight, DNSKEY, CDS, CDNSKEY over TCP to both servers):
        # past NSD's default tcp-count of 100 it closes them unanswered, and
        # the verdicts ("no TCP") would be the bench's, not the zones'.
        [ "$TESTBED_BENCH_ZONES" = 0 ] || echo "    tcp-count: 4000"
        cat <<EOF
    port: 53
    do-ip6: no
    server-count: 1
    username: ""
    chroot: ""
    database: ""
    zonesdir: "$dir/zones"
    zonelistfile: "$dir/zone.list"
    xfrdfile: "$dir/xfrd.state"
    xfrdir: "$dir/xfr"
    pidfile: "$dir/nsd.pid"
    logfile: "$dir/nsd.log"
    verbosity: 1
    hide-version: yes
    identity: "testbed-$name"
    # RRL is on by default and caps a loopback client at ~600 q/s.
    rrl-ratelimit: 0
    rrl-whitelist-ratelimit: 0
    # SIGHUP re-reads zone files whose mtime changed; that is how switch reloads.
    zonefiles-check: yes
    zonefiles-write: 0
remote-control:
    control-enable: no
EOF
        for f in "$dir"/zones/*.zone; do
            z=$(basename "$f" .zone)
            [ "$z" = root ] && z=.
            printf 'zone:\n    name: "%s"\n    zonefile: "%s"\n' "$z" "$(basename "$f")"
        done
        case $name in a|b) [ "$TESTBED_BENCH_ZONES" = 0 ] || bench_nsd_zones ;; esac
        if [ "$name" = a ]; then catalog_nsd_conf; fi
    } >"$dir/nsd.conf"
    nsd-checkconf "$dir/nsd.conf" || die "nsd-checkconf rejected $dir/nsd.conf"
}

# The catalog zone's stanza for server a: AXFR only with the key, from anywhere (loopback).
catalog_nsd_conf() {
    local kname alg secret
    read -r kname alg secret <"$TESTBED_CATALOG_KEY"
    cat <<EOF
key:
    name: "$kname"
    algorithm: $alg
    secret: "$secret"
zone:
    name: "$TESTBED_CATALOG_ZONE"
    zonefile: "$D/catalog/$TESTBED_CATALOG_ZONE.zone"
    provide-xfr: 0.0.0.0/0 $kname
EOF
}

# The catalog zone from $D/catalog/members (one zone a line) with serial $1. Member node
# labels are a hash of the zone name (RFC 9432 4.1 leaves them to the producer).
build_catalog() {
    local serial=$1 z f=$D/catalog/$TESTBED_CATALOG_ZONE.zone
    {
        echo "\$TTL 0"
        echo "$TESTBED_CATALOG_ZONE. IN SOA invalid. invalid. $serial 3600 600 2147483646 0"
        echo "$TESTBED_CATALOG_ZONE. IN NS invalid."
        echo "version.$TESTBED_CATALOG_ZONE. IN TXT \"2\""
        while read -r z; do
            [ -n "$z" ] || continue
            echo "$(printf '%s' "$z" | sha1sum | cut -c1-16).zones.$TESTBED_CATALOG_ZONE. IN PTR $z."
        done <"$D/catalog/members"
    } >"$f.tmp"
    # NSD reloads by mtime: never the same second as the previous file.
    if [ -f "$f" ]; then touch -d "@$(( $(stat -c %Y "$f") + 1 ))" "$f.tmp"; fi
    mv "$f.tmp" "$f"
    echo "$serial" >"$D/catalog/serial"
}

init_catalog() {
    local secret
    mkdir -p "$D/catalog"
    # A fresh key on every up; tests read it from catalog.key, never hard-code it.
    secret=$(head -c 32 /dev/urandom | base64)
    echo "catalog-xfr. hmac-sha256 $secret" >"$TESTBED_CATALOG_KEY"
    printf '%s\n' "healthy.$TLD" "rolldone.$TLD" "broken.$TLD" >"$D/catalog/members"
    build_catalog 1
}

cmd_catalog() {
    local op=${1:-} z serial
    [ -f "$D/catalog/members" ] || die "no catalog in $D (testbed not up?)"
    if [ -z "$op" ]; then cat "$D/catalog/members"; return 0; fi
    shift
    [ $# -gt 0 ] || die "catalog $op: name at least one zone"
    require_root
    take_lock
    for z in "$@"; do
        z=${z%.}
        case $op in
        add)    grep -qxF "$z" "$D/catalog/members" || echo "$z" >>"$D/catalog/members" ;;
        remove) grep -vxF "$z" "$D/catalog/members" >"$D/catalog/members.tmp" || true
                mv "$D/catalog/members.tmp" "$D/catalog/members" ;;
        *)      die "catalog: add or remove, not '$op'" ;;
        esac
    done
    serial=$(( $(cat "$D/catalog/serial") + 1 ))
    build_catalog "$serial"
    hup_daemon nsd-a
    wait_serials "$TESTBED_NS_A $TESTBED_CATALOG_ZONE $serial"
    log "catalog $TESTBED_CATALOG_ZONE: serial $serial, $(wc -l <"$D/catalog/members") members"
}

unbound_conf() {
    local dir=$D/unbound
    mkdir -p "$dir"
    cat >"$dir/unbound.conf" <<EOF
# generated by testbed.sh; regenerated at every up
server:
    interface: $TESTBED_RESOLVER
    port: 53
    do-ip4: yes
    do-ip6: no
    do-udp: yes
    do-tcp: yes
    access-control: 127.0.0.0/8 allow
    username: ""
    chroot: ""
    directory: "$dir"
    pidfile: "$dir/unbound.pid"
    logfile: "$dir/unbound.log"
    use-syslog: no
    log-time-ascii: yes
    verbosity: 1
    num-threads: 1
    so-reuseport: no
    # Every server of the hierarchy is on 127.0.0.0/8, which unbound skips by default.
    do-not-query-localhost: no
    local-zone: "$SPECIAL." nodefault
    root-hints: "$TESTBED_HINTS"
    trust-anchor-file: "$TESTBED_ANCHOR"
    # Short caches: a test sees a switch within seconds even without a flush.
    cache-max-ttl: 5
    cache-max-negative-ttl: 5
    val-bogus-ttl: 5
    infra-host-ttl: 5
    prefetch: no
    serve-expired: no
    # The reasons tests and humans want when a scenario SERVFAILs.
    val-log-level: 2
    log-servfail: yes
    ede: yes
    qname-minimisation: yes
    # RFC 8145 key-tag signalling would send _ta-XXXX queries to the root every few
    # seconds: noise in the logs and in any query count a test takes.
    trust-anchor-signaling: no
    # '$TLD' is not one of unbound's built-in local zones (test., invalid., onion., ...);
    # nodefault keeps it that way if someone sets TESTBED_TLD=test.
    local-zone: "$TLD." nodefault
remote-control:
    control-enable: yes
    control-interface: "$TESTBED_CONTROL"
    control-use-cert: no
EOF
    if [ "$TESTBED_BENCH_ZONES" != 0 ]; then
        # Bench only: the probe engine opens hundreds of domains at once, and their
        # resolver questions arrive in one burst. With the kernel's default receive
        # buffer (net.core.rmem_default, 208 KiB) unbound lost ~14% of them
        # (/proc/net/snmp RcvbufErrors) at 1,000 domains. 4m is unbound's own advice
        # for a busy resolver; the kernel caps it at net.core.rmem_max.
        sed -i 's/^remote-control:$/    so-rcvbuf: 4m\n&/' "$dir/unbound.conf"
    fi
    unbound-checkconf "$dir/unbound.conf" >/dev/null || die "unbound-checkconf rejected $dir/unbound.conf"
}

# ---------------------------------------------------------------------------------------
# Processes. A daemon runs in the foreground under setsid (own session: a test harness
# killing its process group does not take the testbed with it, and no daemon holds the
# caller's stdout open), its pid is $! and goes to $D/run/<name>.pid.

daemon_prog() { case $1 in nsd-*) echo nsd ;; unbound) echo unbound ;; esac; }
daemon_conf() { case $1 in nsd-*) echo "$D/$1/nsd.conf" ;; unbound) echo "$D/unbound/unbound.conf" ;; esac; }
daemon_log() { case $1 in nsd-*) echo "$D/$1/nsd.log" ;; unbound) echo "$D/unbound/unbound.log" ;; esac; }
daemon_own_pidfile() { case $1 in nsd-*) echo "$D/$1/nsd.pid" ;; unbound) echo "$D/unbound/unbound.pid" ;; esac; }

# True if PID is the daemon NAME of this testbed: the right program with our config. A
# recycled pid (other program or another testbed's daemon) must never be signalled.
pid_is() {
    local pid=$1 name=$2 prog conf
    # no command substitutions: this runs in polling loops
    case $name in nsd-*) prog=nsd; conf=$D/$name/nsd.conf ;; *) prog=unbound; conf=$D/unbound/unbound.conf ;; esac
    [[ $pid =~ ^[0-9]+$ ]] && [ -r "/proc/$pid/cmdline" ] || return 1
    local -a argv
    mapfile -d '' -t argv <"/proc/$pid/cmdline" 2>/dev/null || return 1
    [ "${#argv[@]}" -gt 0 ] && [ "${argv[0]##*/}" = "$prog" ] || return 1
    local a
    for a in "${argv[@]}"; do [ "$a" = "$conf" ] && return 0; done
    return 1
}

daemon_pid() { # name -> pid recorded for it (may be dead)
    local f=$D/run/$1.pid
    if [ -s "$f" ]; then cat "$f"; fi
}

daemon_alive() { local pid; pid=$(daemon_pid "$1"); [ -n "$pid" ] && pid_is "$pid" "$1"; }

start_daemon() {
    local name=$1 prog conf pid i
    prog=$(daemon_prog "$name"); conf=$(daemon_conf "$name")
    mkdir -p "$D/run"
    # 9>&-: the daemon must not inherit the lock on $D/.lock, or it would hold it forever.
    setsid "$(command -v "$prog")" -d -c "$conf" </dev/null >>"$D/run/$name.console" 2>&1 9>&- &
    pid=$!
    echo "$pid" >"$D/run/$name.pid"
    # setsid execs in place (we are never a process-group leader here), so $! becomes the
    # daemon once the exec happened; wait for it, or for an early death.
    for i in $(seq 100); do
        pid_is "$pid" "$name" && return 0
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.02
    done
    pid_is "$pid" "$name" || { log "$name did not start"; return 1; }
}

# Every live process of daemon NAME: the main pid and the helpers NSD forks (xfrd, main,
# server), which carry the same command line. Needed because the main pid can exit before
# its helpers have released the sockets, and a SIGKILLed main orphans them.
family_of() {
    local name=$1 pid
    for pid in $(grep -lszxF -- "$(daemon_conf "$name")" /proc/[0-9]*/cmdline | cut -d/ -f3); do
        pid_is "$pid" "$name" && echo "$pid"
    done
    return 0
}

wait_family_gone() { # name seconds
    local i
    for i in $(seq $(($2 * 20))); do
        [ -z "$(family_of "$1")" ] && return 0
        sleep 0.05
    done
    [ -z "$(family_of "$1")" ]
}

# Stop by pid: SIGTERM to the recorded pid, wait for the whole family, SIGKILL (each pid
# re-verified) as the last resort. An exited process counts as gone even while it waits
# to be reaped by pid 1 (a zombie has no cmdline, so pid_is no longer matches).
stop_daemon() {
    local name=$1 pid own fam p
    pid=$(daemon_pid "$name")
    own=$(daemon_own_pidfile "$name")
    if [ -z "$pid" ] && [ -s "$own" ]; then pid=$(cat "$own"); fi
    if [ -n "$pid" ] && [ -d "/proc/$pid" ] && ! pid_is "$pid" "$name"; then
        log "$name: pid $pid now belongs to another program; not signalling it"
        pid=""
    fi
    fam=$(family_of "$name" | xargs)
    if [ -n "$fam" ]; then
        # A paused (SIGSTOPped) daemon would sit on SIGTERM forever: wake it first.
        for p in $fam; do pid_is "$p" "$name" && kill -CONT "$p" 2>/dev/null; done
        if [ -n "$pid" ] && pid_is "$pid" "$name"; then
            kill -TERM "$pid" 2>/dev/null || true
        else
            log "$name: main process gone, stopping leftover pids $fam"
            # shellcheck disable=SC2086
            kill -TERM $fam 2>/dev/null || true
        fi
        if ! wait_family_gone "$name" "$STOP_TIMEOUT"; then
            fam=$(family_of "$name" | xargs)
            log "$name: pids $fam ignored SIGTERM for ${STOP_TIMEOUT}s; sending SIGKILL"
            # shellcheck disable=SC2086
            [ -z "$fam" ] || kill -KILL $fam 2>/dev/null || true
            wait_family_gone "$name" 2 || { log "$name: pids $(family_of "$name" | xargs) survived SIGKILL"; return 1; }
        fi
    fi
    rm -f "$D/run/$name.pid" "$own"
}

# All daemons at once: they are independent, and a serial shutdown would add up the waits.
stop_all() {
    local name pid rc=0 pids=()
    for name in $DAEMONS; do stop_daemon "$name" & pids+=($!); done
    for pid in "${pids[@]}"; do wait "$pid" || rc=1; done
    return $rc
}

any_running() { local n; for n in $DAEMONS; do daemon_alive "$n" && return 0; done; return 1; }

# Refuse a port that is taken: a daemon would fail later with a less helpful message.
# A wildcard listener on :53 also blocks binding the specific address.
check_ports_free() {
    local a busy=""
    for a in "$TESTBED_ROOT_NS_A" "$TESTBED_ROOT_NS_B" "$TESTBED_TLD_NS_A" "$TESTBED_TLD_NS_B" \
             "$TESTBED_NS_A" "$TESTBED_NS_B" "$TESTBED_RESOLVER"; do
        if { ss -Hlnu; ss -Hlnt; } | awk -v a="$a" '
                { split($4, p, ":"); port = p[length(p)]; host = substr($4, 1, length($4) - length(port) - 1)
                  sub(/%.*/, "", host)
                  if (port == 53 && (host == a || host == "0.0.0.0" || host == "*")) found = 1 }
                END { exit !found }'; then
            busy="$busy $a"
        fi
    done
    [ -z "$busy" ] || die "port 53 already in use on:$busy (see: ss -Hlnup; ss -Hlntp)"
}

dig_q() { dig +time=1 +tries=1 "$@" 2>/dev/null || true; }

# soa_serial server zone -> serial, empty if no authoritative answer
soa_serial() { dig_q @"$1" +norec +short "$2" SOA | awk 'NF >= 7 { print $3; exit }'; }

wait_servers_ready() {
    local deadline=$((SECONDS + READY_TIMEOUT + TESTBED_BENCH_ZONES / 1000)) name a zones n want got
    local bench=""
    # NSD reads every zone file before it answers; the first and last bench zones stand
    # for all of them (asking 2 x N SOAs here would cost more than the load itself).
    [ "$TESTBED_BENCH_ZONES" = 0 ] || bench=$(sed -n '1p;$p' "$(bench_dir)/zones.list" | xargs)
    local -A zones_of=(
        [nsd-root]=". "
        [nsd-tld]="$TLD $SPECIAL cohosted.$TLD "
        [nsd-tld2]="$TLD $SPECIAL cohosted.$TLD "
        [nsd-a]="$DNSHOST plainhost.$TLD $TESTBED_ZONES inside.$SPECIAL viaspecial.$TLD $bench"
        [nsd-b]="$DNSHOST plainhost.$TLD $TESTBED_ZONES inside.$SPECIAL viaspecial.$TLD $bench"
    )
    local -A addrs_of=(
        [nsd-root]="$TESTBED_ROOT_NS_A $TESTBED_ROOT_NS_B"
        [nsd-tld]="$TESTBED_TLD_NS_A"
        [nsd-tld2]="$TESTBED_TLD_NS_B"
        [nsd-a]="$TESTBED_NS_A"
        [nsd-b]="$TESTBED_NS_B"
    )
    for name in nsd-root nsd-tld nsd-tld2 nsd-a nsd-b; do
        for a in ${addrs_of[$name]}; do
            zones=()
            for n in ${zones_of[$name]}; do zones+=("$n" SOA); done
            want=$((${#zones[@]} / 2))
            while :; do
                daemon_alive "$name" || { log "$name exited during start-up"; return 1; }
                # one dig process asks for every zone of the server
                got=$(dig_q @"$a" +norec +noall +answer "${zones[@]}" | awk '$4 == "SOA"' | wc -l)
                [ "$got" -eq "$want" ] && break
                [ $SECONDS -lt $deadline ] || { log "$name on $a answers $got of $want SOA queries after $((READY_TIMEOUT + TESTBED_BENCH_ZONES / 1000))s"; return 1; }
                sleep 0.05
            done
        done
    done
}

wait_resolver_ready() {
    local deadline=$((SECONDS + READY_TIMEOUT)) out
    while :; do
        daemon_alive unbound || { log "unbound exited during start-up"; return 1; }
        # AD on the TLD's SOA proves the whole chain: hints, root anchor, DS, glue.
        out=$(dig_q @"$TESTBED_RESOLVER" +dnssec "$TLD." SOA)
        if grep -q 'status: NOERROR' <<<"$out" && grep -qE '^;; flags:[^;]* ad[ ;]' <<<"$out"; then
            return 0
        fi
        [ $SECONDS -lt $deadline ] || { log "resolver $TESTBED_RESOLVER does not validate $TLD. after ${READY_TIMEOUT}s"; echo "$out" >&2; return 1; }
        sleep 0.05
    done
}

log_tails() {
    local name f
    for name in $DAEMONS; do
        for f in "$D/run/$name.console" "$(daemon_log "$name")"; do
            [ -s "$f" ] || continue
            echo "---- tail $f" >&2
            tail -n 15 "$f" >&2
        done
    done
}

resolver_flush() {
    local c
    # flush_zone . drops rrsets, messages and validated keys; the others drop what it does
    # not cover: bogus marks, negative answers and server (lameness/EDNS) knowledge.
    for c in "flush_zone ." flush_bogus flush_negative "flush_infra all" flush_requestlist; do
        # shellcheck disable=SC2086
        unbound-control -c "$TESTBED_UNBOUND_CONF" $c >/dev/null ||
            die "unbound-control $c failed (socket $TESTBED_CONTROL)"
    done
}

hup_daemon() {
    local name=$1 pid
    pid=$(daemon_pid "$name")
    if [ -z "$pid" ] || ! pid_is "$pid" "$name"; then die "$name is not running (testbed down?)"; fi
    kill -HUP "$pid"
}

# wait_serials "addr zone serial" ... : every server must serve its new serial.
wait_serials() {
    local deadline=$((SECONDS + SERIAL_TIMEOUT)) spec addr zone want got pending
    while :; do
        pending=""
        for spec in "$@"; do
            read -r addr zone want <<<"$spec"
            got=$(soa_serial "$addr" "$zone")
            [ "$got" = "$want" ] || pending="$pending $zone@$addr (serves '${got:-nothing}', want $want);"
        done
        [ -z "$pending" ] && return 0
        [ $SECONDS -lt $deadline ] || die "after ${SERIAL_TIMEOUT}s still stale:$pending see $D/nsd-*/nsd.log"
        sleep 0.05
    done
}

next_serial() {
    local s
    s=$(cat "$D/serial")
    s=$((s + 2)) # +2: split serves serial+1 on server b
    echo "$s" >"$D/serial"
    echo "$s"
}

# ---------------------------------------------------------------------------------------
# Commands

cmd_env() {
    local v prefix=""
    [ "${1:-}" = --export ] && prefix="export "
    # single quotes rather than %q: readable, and still safe to eval
    for v in $ENV_VARS; do printf "%s%s='%s'\n" "$prefix" "$v" "${!v//\'/\'\\\'\'}"; done
}

cmd_status() {
    local name pid rc=0
    for name in $DAEMONS; do
        pid=$(daemon_pid "$name")
        if [ -n "$pid" ] && pid_is "$pid" "$name"; then
            echo "$name: running (pid $pid)"
        else
            echo "$name: not running"; rc=1
        fi
    done
    [ -f "$D/switch.state" ] && echo "switch.$TLD: $(cat "$D/switch.state")"
    return $rc
}

cmd_down() {
    require_root
    [ -d "$D" ] || { log "nothing to stop: $D does not exist"; return 0; }
    take_lock
    stop_all
    rm -f "$D"/run/*.pid
    log "down"
}

UP_DONE=0
ZONE_JOBS=()
up_abort() {
    local rc=$? j
    [ "$UP_DONE" = 1 ] && return
    [ $rc -ne 0 ] || rc=1
    trap - EXIT INT TERM
    log "up failed; stopping whatever was started"
    # Zone builders still running (interrupted during generation) would keep writing keys
    # into $D after we return. They are our unreaped children, so their pids cannot have
    # been reused; their own children (dnssec-keygen, -signzone) are found by ppid.
    for j in "${ZONE_JOBS[@]}"; do
        # shellcheck disable=SC2046
        kill $(descendants "$j") "$j" 2>/dev/null || true
    done
    wait "${ZONE_JOBS[@]}" 2>/dev/null || true
    log_tails
    stop_all || true
    exit $rc
}

prepare_dir() {
    mkdir -p "$D"
    local f
    if [ ! -e "$D/$MARKER" ]; then
        for f in "$D"/* "$D"/.[!.]*; do
            [ -e "$f" ] || continue
            [ "${f##*/}" = .lock ] && continue
            die "$D exists and was not made by testbed.sh (no $MARKER); refusing to wipe it"
        done
    fi
    find "$D" -mindepth 1 -maxdepth 1 ! -name .lock ! -name "$MARKER" -exec rm -rf {} +
    touch "$D/$MARKER"
    mkdir -p "$D/run" "$D/work" "$D/keys" "$D/expect" \
             "$D"/nsd-{root,tld,tld2,a,b}/zones "$D/unbound"
}

# Generate a zone's keys and, for scenario zones, its signed content. Runs in parallel
# (one job per zone): RSA keygen and signing dominate the time of `up`.
zone_job() {
    local zone=$1 kind=$2 serial=$3 roles r alg
    case $kind in
    infra|extra) roles="ksk zsk"; alg=13 ;;
    switch)   roles=$SWITCH_ROLES; alg=$(zone_alg switch) ;;
    scenario) roles=$(roles_for_state "${zone%."$TLD"}"); alg=$(zone_alg "${zone%."$TLD"}") ;;
    esac
    for r in $roles; do keygen "$zone" "$r" "$alg"; done
    case $kind in
    switch)   build_child "$zone" healthy "$serial" ;;
    extra)    build_extra "$zone" "$serial" ;;
    scenario) build_child "$zone" "${zone%."$TLD"}" "$serial" ;;
    esac
}

descendants() { # pid -> pids of all its descendants, read from /proc/*/stat (ppid field)
    local f st pid fields
    for f in /proc/[0-9]*/stat; do
        { read -r st <"$f"; } 2>/dev/null || continue
        read -r -a fields <<<"${st##*) }"   # after "pid (comm) ": state ppid ...
        [ "${fields[1]:-}" = "$1" ] || continue
        pid=${f#/proc/}; pid=${pid%/stat}
        echo "$pid"; descendants "$pid"
    done
}

zone_job_log() { if [ "$1" = . ]; then echo "$D/work/job.root.log"; else echo "$D/work/job.$1.log"; fi; }
start_zone_job() { # zone kind serial; appends to ZONE_JOBS and names (cmd_up's locals)
    zone_job "$@" >"$(zone_job_log "$1")" 2>&1 &
    ZONE_JOBS+=($!)
    names+=("$1")
}

cmd_up() {
    local t0 t1 t2 serial z names=() i failed=0 name
    require_root
    validate_config
    take_lock
    if any_running; then
        die "a testbed is already running in $D (pids: $(for n in $DAEMONS; do daemon_pid "$n"; done | xargs)); run 'testbed.sh down' first"
    fi
    check_ports_free
    t0=$(date +%s%N)
    prepare_dir
    save_config
    trap up_abort EXIT
    trap 'exit 130' INT TERM

    serial=$(date +%s)
    echo "$serial" >"$D/serial"
    echo "$serial" >"$D/tld2.serial"
    # One job per zone, each with its own log ($D/work/job.<zone>.log, root: job.root.log).
    for z in . "$TLD" "$DNSHOST" "$SPECIAL"; do start_zone_job "$z" infra "$serial"; done
    for z in $(extra_zones); do start_zone_job "$z" extra "$serial"; done
    for z in $SCENARIOS; do start_zone_job "$z.$TLD" scenario "$serial"; done
    start_zone_job "switch.$TLD" switch "$serial"
    for i in "${!ZONE_JOBS[@]}"; do
        if ! wait "${ZONE_JOBS[$i]}"; then
            log "building ${names[$i]} failed:"
            cat "$(zone_job_log "${names[$i]}")" >&2 2>/dev/null || true
            failed=1
        fi
    done
    [ $failed = 0 ] || exit 1
    echo healthy >"$D/switch.state"
    if [ "$TESTBED_BENCH_ZONES" != 0 ]; then
        ensure_bench_zones
        mkdir -p "$D/work/tld-parts"
        # Not a scenario label, so it can never overwrite one's part.
        cp "$(bench_dir)/tld.part" "$D/work/tld-parts/zz-bench.part"
    fi
    t1=$(date +%s%N)

    build_dnshost "$serial"
    build_plainhost "$serial"
    lamed_part
    build_tld "$serial"
    build_special_tld "$serial"
    build_root "$serial"
    write_client_files
    init_catalog

    nsd_conf root "$TESTBED_ROOT_NS_A" "$TESTBED_ROOT_NS_B"
    nsd_conf tld "$TESTBED_TLD_NS_A"
    nsd_conf tld2 "$TESTBED_TLD_NS_B"
    nsd_conf a "$TESTBED_NS_A"
    nsd_conf b "$TESTBED_NS_B"
    unbound_conf

    t2=$(date +%s%N)
    for name in nsd-root nsd-tld nsd-tld2 nsd-a nsd-b; do start_daemon "$name"; done
    wait_servers_ready
    start_daemon unbound
    wait_resolver_ready

    UP_DONE=1
    trap - EXIT INT TERM
    log "up in $(( ($(date +%s%N) - t0) / 1000000 )) ms (keys+child zones $(( (t1 - t0) / 1000000 )),"\
        "root/TLD/configs $(( (t2 - t1) / 1000000 )), daemons $(( ($(date +%s%N) - t2) / 1000000 ))): $D"
}

cmd_switch() {
    local state=${1:-} serial sa sb zone=switch.$TLD old name tld_b
    TLD_LAG=0
    case ${2:-} in
    "") ;;
    --tld-lag) TLD_LAG=1 ;;
    *) die "switch: unknown option '$2' (only --tld-lag)" ;;
    esac
    if [ -z "$state" ]; then
        [ -f "$D/switch.state" ] || die "no testbed state in $D (not up?)"
        cat "$D/switch.state"
        return 0
    fi
    require_root
    [ "$state" = rekey ] || is_state "$state" ||
        die "unknown state '$state'; one of: $SCENARIOS rekey"
    take_lock
    for name in nsd-tld nsd-tld2 nsd-a nsd-b unbound; do
        daemon_alive "$name" || die "$name is not running; run 'testbed.sh up' first"
    done
    if [ "$state" = rekey ]; then
        # K_new becomes K_old; the retired K_old's files move aside so roles stay exact.
        local dir
        dir=$(keydir "$zone")
        old=$(key_of "$zone" ksk)
        mkdir -p "$dir/retired"
        mv "$old.key" "$old.private" "$dir/retired/"
        sed -i '/^ksk /d; s/^ksk_new /ksk /' "$dir/roles"
        keygen "$zone" ksk_new "$(zone_alg switch)"
        state=healthy
    fi
    serial=$(next_serial)
    build_child "$zone" "$state" "$serial"
    build_tld "$serial"
    hup_daemon nsd-a; hup_daemon nsd-b; hup_daemon nsd-tld
    tld_b=$(cat "$D/tld2.serial" 2>/dev/null || echo "$serial")
    if [ "$TLD_LAG" = 0 ]; then hup_daemon nsd-tld2; tld_b=$serial; fi
    echo "$tld_b" >"$D/tld2.serial"
    state_def "$state"
    sa=$serial; sb=$((serial + B_AHEAD))
    wait_serials "$TESTBED_NS_A $zone $sa" "$TESTBED_NS_B $zone $sb" \
                 "$TESTBED_TLD_NS_A $TLD $serial" "$TESTBED_TLD_NS_B $TLD $tld_b"
    resolver_flush
    echo "$state" >"$D/switch.state"
    if [ "$sa" = "$sb" ]; then
        log "switch.$TLD is now $state (serial $sa)"
    else
        log "switch.$TLD is now $state (serial a: $sa, b: $sb)"
    fi
    [ "$TLD_LAG" = 0 ] || log "$TESTBED_TLD_NS_B still serves $TLD serial $tld_b (the old DS) until tld-catchup"
}

# A parent server that lost the RRSIG over one DS RRset: the second TLD server serves
# switch.$TLD's DS unsigned. NSD serves the zone file as it is; the serial stays, so wait
# for the answer itself.
cmd_tld_unsigned_ds() {
    local f=$D/nsd-tld2/zones/$TLD.zone deadline=$((SECONDS + SERIAL_TIMEOUT))
    require_root
    take_lock
    daemon_alive nsd-tld2 || die "nsd-tld2 is not running; run 'testbed.sh up' first"
    awk -v o="switch.$TLD." '!($1 == o && $4 == "RRSIG" && $5 == "DS")' "$f" >"$D/work/tld2-unsigned.zone"
    install_zone "$D/work/tld2-unsigned.zone" "$f"
    hup_daemon nsd-tld2
    while dig_q @"$TESTBED_TLD_NS_B" +norec +dnssec +noall +answer "switch.$TLD" DS | grep -q 'RRSIG'; do
        [ $SECONDS -lt $deadline ] || die "$TESTBED_TLD_NS_B still signs switch.$TLD's DS after ${SERIAL_TIMEOUT}s"
        sleep 0.05
    done
    resolver_flush
    log "$TESTBED_TLD_NS_B serves switch.$TLD's DS without RRSIG until tld-catchup"
}

# The lagging second TLD server takes the zone the first one serves.
cmd_tld_catchup() {
    local serial
    require_root
    take_lock
    daemon_alive nsd-tld2 || die "nsd-tld2 is not running; run 'testbed.sh up' first"
    serial=$(soa_serial "$TESTBED_TLD_NS_A" "$TLD")
    [ -n "$serial" ] || die "$TESTBED_TLD_NS_A does not answer for $TLD"
    install_zone "$D/nsd-tld/zones/$TLD.zone" "$D/nsd-tld2/zones/$TLD.zone"
    hup_daemon nsd-tld2
    wait_serials "$TESTBED_TLD_NS_B $TLD $serial"
    # After tld-unsigned-ds the serial was already equal: wait for the answer itself.
    local deadline=$((SECONDS + SERIAL_TIMEOUT)) q=(+norec +dnssec +noall +answer "switch.$TLD" DS)
    until [ "$(dig_q @"$TESTBED_TLD_NS_B" "${q[@]}")" = "$(dig_q @"$TESTBED_TLD_NS_A" "${q[@]}")" ]; do
        [ $SECONDS -lt $deadline ] || die "$TESTBED_TLD_NS_B still answers for switch.$TLD DS unlike $TESTBED_TLD_NS_A"
        sleep 0.05
    done
    echo "$serial" >"$D/tld2.serial"
    resolver_flush
    log "$TESTBED_TLD_NS_B serves $TLD serial $serial, as $TESTBED_TLD_NS_A does"
}

# pause/resume: SIGSTOP/SIGCONT every process of one daemon, by pid. The address stays
# bound but nothing answers: what a hung server looks like from outside (queries time
# out, no ICMP error), for tests of "a server that stops answering".
cmd_signal_daemon() { # SIGNAL name
    local sig=$1 name=${2:-} pid fam
    case $name in
    root|tld|tld2|a|b) name=nsd-$name ;;
    resolver)     name=unbound ;;
    *) die "pause/resume: name one of root, tld, tld2, a, b, resolver" ;;
    esac
    daemon_alive "$name" || die "$name is not running"
    fam=$(family_of "$name")
    for pid in $fam; do
        pid_is "$pid" "$name" && kill -"$sig" "$pid"
    done
    log "$name: sent SIG$sig to $(echo $fam | wc -w) processes"
}

main() {
    local cmd=${1:-}
    [ $# -gt 0 ] && shift
    case $cmd in
    up)     load_config fresh; cmd_up ;;
    down)   load_config; cmd_down ;;
    status) load_config; cmd_status ;;
    env)    load_config; cmd_env "$@" ;;
    switch) load_config; cmd_switch "$@" ;;
    tld-catchup) load_config; cmd_tld_catchup ;;
    tld-unsigned-ds) load_config; cmd_tld_unsigned_ds ;;
    pause)  load_config; require_root; cmd_signal_daemon STOP "$@" ;;
    resume) load_config; require_root; cmd_signal_daemon CONT "$@" ;;
    catalog) load_config; cmd_catalog "$@" ;;
    -h|--help|help) usage ;;
    *) usage >&2; exit 2 ;;
    esac
}

main "$@"
