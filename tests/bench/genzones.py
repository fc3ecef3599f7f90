#!/usr/bin/env python3
"""genzones.py - N small DNSSEC-signed zones for the benchmark, fast.

    genzones.py --tld bench --count 10000 --out DIR [--jobs 2]
                [--mixed --dead-addr ADDR]

Writes into DIR (which must not exist; it is created, filled and only then
renamed into place by the caller):

  zones/b000001.<tld>.zone ...  one signed zone file per zone, for NSD
  zones.list                    the zone names, one a line
  tld.part                      their delegations for the TLD zone: NS and DS
  stamp                         generator version, signing time, expiry

With --mixed (the bench's mixed-state run), zones are planted in states by
their number (zones.state lists each zone's): 84% healthy, 4% broken (the DS
at the TLD matches no key), 3% stale (a second DS for a key that is gone),
3% insecure (no DS), 3% expired (every signature expired 10 days ago) and 3%
"deadns": a third name server deadns.<tld> (ADDR, where the bench runs a
server that never answers). The zones BIND checks (first, middle, last)
are always healthy.

Every zone has the shape of the testbed's scenario zones (SOA, NS
ns1/ns2.dnshost.<tld>., www A 127.0.0.80, DNSKEY, CDS, CDNSKEY) and is signed
with ONE shared pair of keys, algorithm 13 (ECDSAP256SHA256): the KSK signs
DNSKEY, CDS and CDNSKEY, the ZSK everything else; NSEC for denial.

Why not dnssec-signzone: it costs ~21 ms a zone, nearly all of it process
start-up and key loading (measured on the 2-core machine: 7 ms for `-V`
alone), so 10,000 zones took ~110 s on both cores and 100,000 about 18
minutes. Signing in one process costs ~8 ECDSA signatures a zone, ~0.2 ms:
10,000 zones in a few seconds. The caller checks a sample of the output with
BIND's dnssec-verify, so this signer is not trusted blindly.
"""
import argparse
import base64
import hashlib
import multiprocessing
import os
import struct
import sys
import time

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

VERSION = 1
TTL = 3600
NEG_TTL = 300          # SOA minimum: the NSEC TTL
T_A, T_NS, T_SOA, T_RRSIG, T_NSEC, T_DNSKEY, T_CDS, T_CDNSKEY = 1, 2, 6, 46, 47, 48, 59, 60
TYPE_NAMES = {T_A: "A", T_NS: "NS", T_SOA: "SOA", T_RRSIG: "RRSIG", T_NSEC: "NSEC",
              T_DNSKEY: "DNSKEY", T_CDS: "CDS", T_CDNSKEY: "CDNSKEY"}
ALG = 13
VALIDITY_DAYS = 90     # the cache is rebuilt well before (see testbed.sh)


def wire_name(name):
    """Presentation name (lower case, absolute) -> uncompressed wire form."""
    out = bytearray()
    for label in name.rstrip(".").split("."):
        if label:
            out.append(len(label))
            out += label.encode("ascii")
    out.append(0)
    return bytes(out)


def key_tag(rdata):
    """RFC 4034 appendix B."""
    acc = 0
    for i, b in enumerate(rdata):
        acc += b if i & 1 else b << 8
    acc += (acc >> 16) & 0xFFFF
    return acc & 0xFFFF


def dnskey_rdata(flags, pub):
    nums = pub.public_numbers()
    return struct.pack("!HBB", flags, 3, ALG) + nums.x.to_bytes(32, "big") + nums.y.to_bytes(32, "big")


def nsec_bitmap(types):
    """Type bitmap, window 0 only (every type here is below 256)."""
    top = max(types)
    bits = bytearray(top // 8 + 1)
    for t in types:
        bits[t // 8] |= 0x80 >> (t % 8)
    return bytes([0, len(bits)]) + bytes(bits)


def utc(ts):
    return time.strftime("%Y%m%d%H%M%S", time.gmtime(ts))


class Signer:
    def __init__(self, ksk_pem, zsk_pem, inception, expiration):
        self.ksk = serialization.load_pem_private_key(ksk_pem, password=None)
        self.zsk = serialization.load_pem_private_key(zsk_pem, password=None)
        self.ksk_rdata = dnskey_rdata(257, self.ksk.public_key())
        self.zsk_rdata = dnskey_rdata(256, self.zsk.public_key())
        self.ksk_tag = key_tag(self.ksk_rdata)
        self.zsk_tag = key_tag(self.zsk_rdata)
        self.inception = inception
        self.expiration = expiration

    def rrsig(self, owner, labels, rtype, ttl, rdatas, key, tag, zone, zone_wire):
        """One RRSIG over the RRset (owner, rtype, ttl, rdatas): its text line."""
        head = struct.pack("!HBBIIIH", rtype, ALG, labels, ttl, self.expiration,
                           self.inception, tag) + zone_wire
        owner_wire = wire_name(owner)
        data = bytearray(head)
        for rd in sorted(rdatas):              # canonical order: RDATA octets
            data += owner_wire + struct.pack("!HHIH", rtype, 1, ttl, len(rd)) + rd
        der = key.sign(bytes(data), ec.ECDSA(hashes.SHA256()))
        r, s = decode_dss_signature(der)
        sig = base64.b64encode(r.to_bytes(32, "big") + s.to_bytes(32, "big")).decode()
        return "%s %d IN RRSIG %s %d %d %d %s %s %d %s %s" % (
            owner, ttl, TYPE_NAMES[rtype], ALG, labels, ttl, utc(self.expiration),
            utc(self.inception), tag, zone, sig)

    def zone(self, zone, tld, serial, state="healthy"):
        """(zone file text, TLD delegation text) for one zone."""
        if state == "expired":
            saved = self.inception, self.expiration
            self.inception, self.expiration = serial - 40 * 86400, serial - 10 * 86400
            try:
                return self._zone(zone, tld, serial, state)
            finally:
                self.inception, self.expiration = saved
        return self._zone(zone, tld, serial, state)

    def _zone(self, zone, tld, serial, state):
        zw = wire_name(zone)
        www = "www." + zone
        ns = ["ns1.dnshost.%s." % tld, "ns2.dnshost.%s." % tld]
        if state == "deadns":
            ns = ["ns1.dnshost.%s." % tld, "deadns.%s." % tld]
        soa_rd = (wire_name(ns[0]) + wire_name("hostmaster." + zone) +
                  struct.pack("!IIIII", serial, 3600, 900, 604800, NEG_TTL))
        ns_rd = [wire_name(n) for n in ns]
        ds_digest = hashlib.sha256(zw + self.ksk_rdata).digest()
        ds_rd = struct.pack("!HBB", self.ksk_tag, ALG, 2) + ds_digest
        ds_text = "%d %d 2 %s" % (self.ksk_tag, ALG, ds_digest.hex().upper())
        apex_types = [T_NS, T_SOA, T_RRSIG, T_NSEC, T_DNSKEY, T_CDS, T_CDNSKEY]
        nsec_apex = wire_name(www) + nsec_bitmap(apex_types)
        nsec_www = zw + nsec_bitmap([T_A, T_RRSIG, T_NSEC])
        a_rd = bytes([127, 0, 0, 80])
        b64 = lambda b: base64.b64encode(b).decode()
        ksk_text = "257 3 %d %s" % (ALG, b64(self.ksk_rdata[4:]))
        zsk_text = "256 3 %d %s" % (ALG, b64(self.zsk_rdata[4:]))
        K, Z = (self.ksk, self.ksk_tag), (self.zsk, self.zsk_tag)
        lines = [
            "; generated by tests/bench/genzones.py; shared keys, algorithm %d" % ALG,
            "%s %d IN SOA %s hostmaster.%s %d 3600 900 604800 %d" % (zone, TTL, ns[0], zone, serial, NEG_TTL),
            self.rrsig(zone, 2, T_SOA, TTL, [soa_rd], *Z, zone, zw),
            "%s %d IN NS %s" % (zone, TTL, ns[0]),
            "%s %d IN NS %s" % (zone, TTL, ns[1]),
            self.rrsig(zone, 2, T_NS, TTL, ns_rd, *Z, zone, zw),
            "%s %d IN DNSKEY %s" % (zone, TTL, ksk_text),
            "%s %d IN DNSKEY %s" % (zone, TTL, zsk_text),
            self.rrsig(zone, 2, T_DNSKEY, TTL, [self.ksk_rdata, self.zsk_rdata], *K, zone, zw),
            "%s %d IN CDS %s" % (zone, TTL, ds_text),
            self.rrsig(zone, 2, T_CDS, TTL, [ds_rd], *K, zone, zw),
            "%s %d IN CDNSKEY %s" % (zone, TTL, ksk_text),
            self.rrsig(zone, 2, T_CDNSKEY, TTL, [self.ksk_rdata], *K, zone, zw),
            "%s %d IN NSEC %s %s" % (zone, NEG_TTL, www, " ".join(TYPE_NAMES[t] for t in apex_types)),
            self.rrsig(zone, 2, T_NSEC, NEG_TTL, [nsec_apex], *Z, zone, zw),
            "%s %d IN A 127.0.0.80" % (www, TTL),
            self.rrsig(www, 3, T_A, TTL, [a_rd], *Z, zone, zw),
            "%s %d IN NSEC %s A RRSIG NSEC" % (www, NEG_TTL, zone),
            self.rrsig(www, 3, T_NSEC, NEG_TTL, [nsec_www], *Z, zone, zw),
        ]
        deleg = "%s %d IN NS %s\n%s %d IN NS %s\n" % (zone, TTL, ns[0], zone, TTL, ns[1])
        if state == "broken":       # a DS that matches no key
            bad = bytearray(ds_digest)
            bad[-1] ^= 0xFF
            deleg += "%s %d IN DS %d %d 2 %s\n" % (zone, TTL, self.ksk_tag, ALG, bad.hex().upper())
        elif state != "insecure":
            deleg += "%s %d IN DS %s\n" % (zone, TTL, ds_text)
        if state == "stale":        # and one for a key that is gone
            gone = hashlib.sha256(zw + b"gone").digest()
            deleg += "%s %d IN DS %d %d 2 %s\n" % (zone, TTL, (self.ksk_tag + 1) & 0xFFFF,
                                                    ALG, gone.hex().upper())
        return "\n".join(lines) + "\n", deleg


_signer = None


def _init(ksk_pem, zsk_pem, inception, expiration):
    global _signer
    _signer = Signer(ksk_pem, zsk_pem, inception, expiration)


def state_of(i, count, mixed):
    """The planted state of zone number i (see the module's text)."""
    if not mixed or i in (1, (count + 1) // 2, count):
        return "healthy"
    k = i % 100
    for limit, state in ((84, "healthy"), (88, "broken"), (91, "stale"),
                         (94, "insecure"), (97, "expired")):
        if k < limit:
            return state
    return "deadns"


def _work(args):
    """Sign zones [lo, hi): write their files, return their delegations."""
    lo, hi, tld, serial, zdir, count, mixed = args
    parts = []
    for i in range(lo, hi):
        zone = "b%06d.%s." % (i, tld)
        text, deleg = _signer.zone(zone, tld, serial, state_of(i, count, mixed))
        with open(os.path.join(zdir, zone[:-1] + ".zone"), "w") as f:
            f.write(text)
        parts.append(deleg)
    return "".join(parts)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tld", required=True)
    ap.add_argument("--count", type=int, required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--mixed", action="store_true")
    ap.add_argument("--dead-addr", default="")
    a = ap.parse_args()
    if a.mixed and not a.dead_addr:
        sys.exit("genzones: --mixed needs --dead-addr")
    if a.count < 1 or a.count > 999999:
        sys.exit("genzones: --count must be 1..999999")
    t0 = time.time()
    zdir = os.path.join(a.out, "zones")
    os.makedirs(zdir)
    pem = lambda k: k.private_bytes(serialization.Encoding.PEM,
                                    serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
    ksk_pem = pem(ec.generate_private_key(ec.SECP256R1()))
    zsk_pem = pem(ec.generate_private_key(ec.SECP256R1()))
    now = int(t0)
    inception, expiration = now - 86400, now + VALIDITY_DAYS * 86400
    serial = now
    chunk = 500
    tasks = [(lo, min(lo + chunk, a.count + 1), a.tld, serial, zdir, a.count, a.mixed)
             for lo in range(1, a.count + 1, chunk)]
    initargs = (ksk_pem, zsk_pem, inception, expiration)
    if a.jobs > 1 and len(tasks) > 1:
        with multiprocessing.Pool(a.jobs, _init, initargs) as pool:
            parts = pool.map(_work, tasks)
    else:
        _init(*initargs)
        parts = [_work(t) for t in tasks]
    with open(os.path.join(a.out, "tld.part"), "w") as f:
        f.write("; %d bench delegations, generated by tests/bench/genzones.py\n" % a.count)
        if a.mixed:
            f.write("deadns.%s. %d IN A %s\n" % (a.tld, TTL, a.dead_addr))
        f.writelines(parts)
    with open(os.path.join(a.out, "zones.state"), "w") as f:
        f.writelines("b%06d.%s %s\n" % (i, a.tld, state_of(i, a.count, a.mixed))
                     for i in range(1, a.count + 1))
    with open(os.path.join(a.out, "zones.list"), "w") as f:
        f.writelines("b%06d.%s\n" % (i, a.tld) for i in range(1, a.count + 1))
    with open(os.path.join(a.out, "stamp"), "w") as f:
        f.write("version=%d\ntld=%s\ncount=%d\nsigned=%d\nexpires=%d\nksk_tag=%d\nzsk_tag=%d\n"
                "mixed=%s\n" % (
                    VERSION, a.tld, a.count, now, expiration, _signer_tags(initargs)[0],
                    _signer_tags(initargs)[1], a.dead_addr if a.mixed else "no"))
    print("genzones: %d zones signed in %.1f s" % (a.count, time.time() - t0), file=sys.stderr)


def _signer_tags(initargs):
    s = Signer(*initargs)
    return s.ksk_tag, s.zsk_tag


if __name__ == "__main__":
    main()
