#!/usr/bin/env python3
"""A DNS responder that answers every question itself, the way a middlebox
that intercepts port 53 does, or a lame server: for tests of a monitor
that must not turn such answers into verdicts.

    interceptor.py ADDRESS MODE [PORT]

MODE:
  nxdomain  NXDOMAIN without AA and without SOA, to everything (a firewall
            that "blocks" DNS, or a resolver behind one)
  forged    AA, and for ". DNSKEY" a made-up root key (no RRSIG); NXDOMAIN
            with AA and a root SOA to everything else: it claims to be the
            root, but its DNSKEY does not validate against the trust anchor
  refused   REFUSED to everything

UDP and TCP on ADDRESS:PORT (53 by default). It prints "ready" on stdout
once both sockets listen, and runs until killed. Wire format by hand
(RFC 1035 4.1), standard library only.
"""
import os
import socket
import struct
import sys
import threading

T_SOA, T_DNSKEY = 6, 48


def parse_question(msg):
    """(id, flags, qname wire, qtype, qclass, end offset) or None."""
    if len(msg) < 12:
        return None
    qid, flags, qd = struct.unpack("!HHH", msg[:6])
    if qd != 1 or flags & 0x8000:
        return None
    i = 12
    while True:
        if i >= len(msg):
            return None
        n = msg[i]
        if n == 0:
            i += 1
            break
        if n & 0xC0:
            return None
        i += 1 + n
    if i + 4 > len(msg):
        return None
    qtype, qclass = struct.unpack("!HH", msg[i:i + 4])
    return qid, flags, msg[12:i], qtype, qclass, i + 4


def name_wire(text):
    out = b""
    for label in text.strip(".").split("."):
        if label:
            out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def rr(owner, rtype, ttl, rdata):
    return owner + struct.pack("!HHIH", rtype, 1, ttl, len(rdata)) + rdata


def root_soa():
    rdata = (name_wire("a.root-servers.net") + name_wire("nstld.example") +
             struct.pack("!IIIII", 2026120101, 1800, 900, 604800, 86400))
    return rr(b"\0", T_SOA, 86400, rdata)


def forged_dnskey():
    # flags 257 (KSK), protocol 3, algorithm 13, 64 octets of key: a key
    # nobody holds the private half of, fresh on every start.
    return rr(b"\0", T_DNSKEY, 3600,
              struct.pack("!HBB", 257, 3, 13) + os.urandom(64))


def answer(msg, mode):
    q = parse_question(msg)
    if q is None:
        return None
    qid, qflags, qname, qtype, qclass, end = q
    rd = qflags & 0x0100
    opcode = qflags & 0x7800
    an = ns = b""
    ancount = nscount = 0
    if mode == "refused":
        aa, rcode = 0, 5
    elif mode == "nxdomain":
        aa, rcode = 0, 3
    elif qname == b"\0" and qtype == T_DNSKEY:
        aa, rcode = 0x0400, 0
        an, ancount = forged_dnskey(), 1
    else:
        aa, rcode = 0x0400, 3
        ns, nscount = root_soa(), 1
    flags = 0x8000 | opcode | aa | rd | rcode
    head = struct.pack("!HHHHHH", qid, flags, 1, ancount, nscount, 0)
    return head + msg[12:end] + an + ns


def serve_udp(sock, mode):
    while True:
        msg, peer = sock.recvfrom(4096)
        out = answer(msg, mode)
        if out is not None:
            sock.sendto(out, peer)


def serve_tcp_conn(conn, mode):
    with conn:
        conn.settimeout(10)
        try:
            while True:
                head = conn.recv(2)
                if len(head) < 2:
                    return
                n = struct.unpack("!H", head)[0]
                msg = b""
                while len(msg) < n:
                    part = conn.recv(n - len(msg))
                    if not part:
                        return
                    msg += part
                out = answer(msg, mode)
                if out is None:
                    return
                conn.sendall(struct.pack("!H", len(out)) + out)
        except OSError:
            return


def serve_tcp(sock, mode):
    while True:
        conn, _ = sock.accept()
        threading.Thread(target=serve_tcp_conn, args=(conn, mode),
                         daemon=True).start()


def main():
    if len(sys.argv) not in (3, 4) or sys.argv[2] not in (
            "nxdomain", "forged", "refused"):
        sys.stderr.write(__doc__)
        return 2
    addr, mode = sys.argv[1], sys.argv[2]
    port = int(sys.argv[3]) if len(sys.argv) == 4 else 53
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind((addr, port))
    t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    t.bind((addr, port))
    t.listen(16)
    threading.Thread(target=serve_tcp, args=(t, mode), daemon=True).start()
    print("ready", flush=True)
    serve_udp(u, mode)
    return 0


if __name__ == "__main__":
    sys.exit(main())
