#!/usr/bin/env python3
"""A scripted hostile DNS server for the transport tests (stdlib only).

    hostile_dns.py [--addr 127.0.0.1] [--port 0] --pidfile FILE [--lifetime S]
                   [--default KIND]

Listens on UDP and TCP on the same loopback port, prints that port on
stdout once both are bound, writes its pid to FILE, and exits by itself
after --lifetime seconds (default 300). Refuses non-loopback addresses.

Behaviour is chosen by the rightmost label of the query name, so
"n17.ok." behaves like "ok."; a name whose rightmost label is none of
these behaves as --default says (default refused), so that a zone
delegated to this server (x.lab) can be made to behave as one of them:

  ok         A 192.0.2.1, AA=1
  refused    rcode REFUSED
  tc         TC=1 over UDP, the full answer over TCP
  wrongid    an answer with another ID, then nothing
  qr0        QR=0
  qd0        QDCOUNT=0, no question section
  wrongq     answers the question "other."
  fwdptr     answer owner is a compression pointer past the end
  fwdptrin   answer owner is a compression pointer forward, in bounds
  ptrloop    answer owner leads into two pointers pointing at each other
  longname   owner built by backward pointers, 324 bytes long
  trunc      the message ends in the middle of the answer RR
  silent     never answers
  slow       answers after 1.5 s
  garbage    three datagrams of random bytes (the second, 12 bytes or
             more, with the right ID)
  tcpclose   TC=1 over UDP, TCP connection closed at once
  tcpslow    TC=1 over UDP, TCP answer dribbled 1 byte per 100 ms
  tcpbad     TC=1 over UDP, TCP answer with a wrong ID
  big        TC=1 over UDP, 4000-byte answer over TCP
  otherport  the answer comes from another UDP port (spoofing)
  hold       answers after 300 ms; counts queries outstanding at once
  maxhold    TXT: the most hold queries outstanding at once so far
  resethold  resets that count, answers like ok
  signed     2 DNSKEY + RRSIG in the answer, 2 NS in authority, glue and
             OPT in additional (fake keys: for parsing, not validation)
  nxdomain   NXDOMAIN with SOA, NSEC3 (empty salt), NSEC and RRSIGs
  mixcase    answers with the question name's letters in the other case
  flags      TXT describing the query received: "rd=0 do=1 bufsize=1232
             qdcount=1 arcount=1 udp=1"
"""

import argparse
import asyncio
import ipaddress
import os
import random
import socket
import struct
import sys

HOLD = {"now": 0, "max": 0}


def parse_query(data):
    """Return (id, flags, qname_labels, qtype, qclass, opt) or None."""
    if len(data) < 12:
        return None
    qid, flags, qd, an, ns, ar = struct.unpack("!HHHHHH", data[:12])
    if qd != 1:
        return None
    pos = 12
    labels = []
    while True:
        if pos >= len(data):
            return None
        n = data[pos]
        if n == 0:
            pos += 1
            break
        if n & 0xC0:
            return None
        labels.append(data[pos + 1:pos + 1 + n])
        pos += 1 + n
    if pos + 4 > len(data):
        return None
    qtype, qclass = struct.unpack("!HH", data[pos:pos + 4])
    pos += 4
    opt = None
    # the first additional RR, if it is an OPT with the root owner
    if ar >= 1 and an == 0 and ns == 0 and pos + 11 <= len(data) \
            and data[pos] == 0:
        rtype, size, ttl = struct.unpack("!HHI", data[pos + 1:pos + 9])
        if rtype == 41:
            opt = {"size": size, "do": (ttl >> 15) & 1}
    return {"id": qid, "flags": flags, "labels": labels, "qtype": qtype,
            "qclass": qclass, "opt": opt, "qd": qd, "ar": ar}


def wire_name(labels):
    out = b""
    for lab in labels:
        out += bytes([len(lab)]) + lab
    return out + b"\0"


def header(qid, qr=1, aa=1, tc=0, rd=0, rcode=0, qd=1, an=0, ns=0, ar=0):
    flags = (qr << 15) | (aa << 10) | (tc << 9) | (rd << 8) | rcode
    return struct.pack("!HHHHHH", qid, flags, qd, an, ns, ar)


def question(q, labels=None):
    return wire_name(q["labels"] if labels is None else labels) + \
        struct.pack("!HH", q["qtype"], q["qclass"])


def rr(owner, rtype, rdata, ttl=60):
    return owner + struct.pack("!HHIH", rtype, 1, ttl, len(rdata)) + rdata


def opt_rr(q):
    do = q["opt"]["do"] if q["opt"] else 0
    return b"\0" + struct.pack("!HHIH", 41, 1232, do << 15, 0)


def a_answer(q, tc=0, qid=None, qr=1, with_answer=True):
    rd = (q["flags"] >> 8) & 1
    an = 1 if with_answer else 0
    ar = 1 if q["opt"] else 0
    msg = header(q["id"] if qid is None else qid, qr=qr, tc=tc, rd=rd,
                 an=an, ar=ar)
    msg += question(q)
    if with_answer:
        msg += rr(b"\xc0\x0c", 1, bytes([192, 0, 2, 1]))
    if q["opt"]:
        msg += opt_rr(q)
    return msg


def txt_answer(q, texts):
    rdata = b"".join(bytes([len(t)]) + t for t in texts)
    msg = header(q["id"], an=1, ar=1 if q["opt"] else 0)
    msg += question(q) + rr(b"\xc0\x0c", 16, rdata)
    if q["opt"]:
        msg += opt_rr(q)
    return msg


def big_answer(q):
    rrs = b""
    n = 0
    while len(rrs) < 3900:
        t = (b"x%03d-" % n) + b"y" * 190
        rrs += rr(b"\xc0\x0c", 16, bytes([len(t)]) + t)
        n += 1
    msg = header(q["id"], an=n, ar=1 if q["opt"] else 0)
    msg += question(q) + rrs
    if q["opt"]:
        msg += opt_rr(q)
    return msg


def rrsig(q, covered, labels_n):
    signer = wire_name(q["labels"])          # uncompressed (RFC 4034 3.1.7)
    return struct.pack("!HBBIIIH", covered, 13, labels_n, 3600,
                       0x70000000, 0x60000000, 12345) + signer + \
        os.urandom(64)


def signed_answer(q):
    """DNSKEY RRset with its RRSIG, NS and glue: the shape the probe sees."""
    body = b""
    for flags in (257, 256):
        body += rr(b"\xc0\x0c", 48,
                   struct.pack("!HBB", flags, 3, 13) + os.urandom(64), 3600)
    body += rr(b"\xc0\x0c", 46, rrsig(q, 48, len(q["labels"])), 3600)
    ns_start = 12 + len(question(q)) + len(body)
    ns1 = rr(b"\xc0\x0c", 2, b"\x03ns1\xc0\x0c", 3600)
    ns2 = rr(b"\xc0\x0c", 2, b"\x03ns2\xc0\x0c", 3600)
    ns1_name = ns_start + 12              # where "ns1" sits in the first NS
    glue = rr(bytes([0xC0 | (ns1_name >> 8), ns1_name & 0xFF]), 1,
              bytes([192, 0, 2, 53]), 3600)
    ar = 2 if q["opt"] else 1
    msg = header(q["id"], an=3, ns=2, ar=ar) + question(q) + body + ns1 + \
        ns2 + glue
    if q["opt"]:
        msg += opt_rr(q)
    return msg


def nxdomain_answer(q):
    n = len(q["labels"])
    soa = b"\x02ns\xc0\x0c" + b"\x0ahostmaster\xc0\x0c" + \
        struct.pack("!IIIII", 2024010101, 7200, 3600, 1209600, 300)
    nsec3 = struct.pack("!BBHB", 1, 0, 0, 0) + bytes([20]) + os.urandom(20) \
        + b"\x00\x06\x62\x01\x80\x08\x00\x03"
    nsec = b"\x01a\xc0\x0c" + b"\x00\x06\x40\x01\x00\x00\x00\x03"
    owner3 = b"\x20" + b"0p9mhaveqvm6t7vbl5lop2u3t2rp3tom" + b"\xc0\x0c"
    auth = rr(b"\xc0\x0c", 6, soa, 300) + \
        rr(b"\xc0\x0c", 46, rrsig(q, 6, n), 300) + \
        rr(owner3, 50, nsec3, 300) + \
        rr(b"\xc0\x0c", 47, nsec, 300)
    ar = 1 if q["opt"] else 0
    msg = header(q["id"], rcode=3, ns=4, ar=ar) + question(q) + auth
    if q["opt"]:
        msg += opt_rr(q)
    return msg


def special_answer(q, kind):
    """Answers that are broken on purpose."""
    hdr_q = question(q)
    if kind == "qd0":
        owner = wire_name(q["labels"])
        return header(q["id"], qd=0, an=1) + \
            rr(owner, 1, bytes([192, 0, 2, 1]))
    if kind == "wrongq":
        return header(q["id"], an=1) + question(q, [b"other"]) + \
            rr(b"\xc0\x0c", 1, bytes([192, 0, 2, 1]))
    if kind == "fwdptr":
        body = header(q["id"], an=1) + hdr_q
        ptr = len(body) + 200           # past the end of a ~45-byte message
        return body + rr(bytes([0xC0 | (ptr >> 8), ptr & 0xFF]), 1,
                         bytes([192, 0, 2, 1]))
    if kind == "fwdptrin":
        # owner points forward to a name in the rdata of a second RR
        body = header(q["id"], an=2) + hdr_q
        first = rr(b"\0\0", 1, bytes([192, 0, 2, 1]))   # owner patched below
        target = len(body) + len(first) + 2 + 10       # rdata of 2nd RR
        first = bytes([0xC0 | (target >> 8), target & 0xFF]) + first[2:]
        second = rr(b"\xc0\x0c", 12, wire_name([b"fwd", b"example"]))
        return body + first + second
    if kind == "ptrloop":
        # RR 1 (NULL type) carries two pointers at P1 and P2 pointing at
        # each other; RR 2's owner points at P1.
        body = header(q["id"], an=2) + hdr_q
        p1 = len(body) + 2 + 10
        p2 = p1 + 2
        loop = bytes([0xC0 | (p2 >> 8), p2 & 0xFF,
                      0xC0 | (p1 >> 8), p1 & 0xFF])
        body += rr(b"\xc0\x0c", 10, loop)
        return body + rr(bytes([0xC0 | (p1 >> 8), p1 & 0xFF]), 1,
                         bytes([192, 0, 2, 1]))
    if kind == "longname":
        body = header(q["id"], an=2) + hdr_q
        start = len(body) + 2 + 10
        chain = b""
        prev = 12
        last = 0
        for _ in range(5):
            last = start + len(chain)
            chain += bytes([63]) + b"a" * 63 + \
                bytes([0xC0 | (prev >> 8), prev & 0xFF])
            prev = last
        body += rr(b"\xc0\x0c", 10, chain)
        return body + rr(bytes([0xC0 | (last >> 8), last & 0xFF]), 1,
                         bytes([192, 0, 2, 1]))
    if kind == "trunc":
        full = header(q["id"], an=1) + hdr_q + \
            rr(b"\xc0\x0c", 1, bytes([192, 0, 2, 1]))
        return full[:-7]                # inside TTL / rdlength
    raise ValueError(kind)


def garbage(q):
    out = []
    for i in range(3):
        # The one with the ID is never a runt: a client that shares its
        # UDP sockets between questions can put a datagram down to a
        # question only by its ID (or question); runts are only counted.
        n = random.choice([12, 40, 300, 600] if i == 1 else
                          [0, 1, 11, 12, 40, 300, 600])
        b = bytearray(os.urandom(n))
        if i == 1:
            b[0:2] = struct.pack("!H", q["id"])
        out.append(bytes(b))
    return out


KINDS = {"ok", "refused", "tc", "wrongid", "qr0", "qd0", "wrongq", "fwdptr",
         "fwdptrin", "ptrloop", "longname", "trunc", "silent", "slow",
         "garbage", "tcpclose", "tcpslow", "tcpbad", "big", "otherport",
         "hold", "maxhold", "resethold", "signed", "nxdomain", "mixcase",
         "flags"}
DEFAULT = {"kind": "refused"}


def kind_of(q):
    if not q["labels"]:
        return DEFAULT["kind"]
    kind = q["labels"][-1].decode("ascii", "replace").lower()
    return kind if kind in KINDS else DEFAULT["kind"]


def refused(q):
    msg = header(q["id"], aa=0, rcode=5, ar=1 if q["opt"] else 0) + \
        question(q)
    if q["opt"]:
        msg += opt_rr(q)
    return msg


def flags_answer(q, udp):
    rd = (q["flags"] >> 8) & 1
    o = q["opt"]
    desc = "rd=%d do=%d bufsize=%d qdcount=%d arcount=%d udp=%d" % (
        rd, o["do"] if o else -1, o["size"] if o else -1, q["qd"], q["ar"],
        1 if udp else 0)
    return txt_answer(q, [desc.encode()])


class UDPServer(asyncio.DatagramProtocol):
    def __init__(self, loop):
        self.loop = loop
        self.tr = None

    def connection_made(self, transport):
        self.tr = transport

    def send(self, data, addr):
        if self.tr is not None and not self.tr.is_closing():
            self.tr.sendto(data, addr)

    def datagram_received(self, data, addr):
        q = parse_query(data)
        if q is None:
            return
        kind = kind_of(q)
        if kind == "ok":
            self.send(a_answer(q), addr)
        elif kind == "mixcase":
            q2 = dict(q)
            q2["labels"] = [lab.swapcase() for lab in q["labels"]]
            self.send(a_answer(q2), addr)
        elif kind in ("tc", "tcpclose", "tcpslow", "tcpbad", "big"):
            self.send(a_answer(q, tc=1, with_answer=False), addr)
        elif kind == "wrongid":
            self.send(a_answer(q, qid=q["id"] ^ 0x5A5A), addr)
        elif kind == "qr0":
            self.send(a_answer(q, qr=0), addr)
        elif kind in ("qd0", "wrongq", "fwdptr", "fwdptrin", "ptrloop",
                      "longname", "trunc"):
            self.send(special_answer(q, kind), addr)
        elif kind == "silent":
            pass
        elif kind == "slow":
            self.loop.call_later(1.5, self.send, a_answer(q), addr)
        elif kind == "garbage":
            for g in garbage(q):
                self.send(g, addr)
        elif kind == "otherport":
            fam = socket.AF_INET6 if ":" in addr[0] else socket.AF_INET
            s = socket.socket(fam, socket.SOCK_DGRAM)
            try:
                s.sendto(a_answer(q), addr)
            finally:
                s.close()
        elif kind == "hold":
            HOLD["now"] += 1
            HOLD["max"] = max(HOLD["max"], HOLD["now"])
            self.loop.call_later(0.3, self.hold_done, a_answer(q), addr)
        elif kind == "maxhold":
            self.send(txt_answer(q, [str(HOLD["max"]).encode()]), addr)
        elif kind == "resethold":
            HOLD["max"] = HOLD["now"]
            self.send(a_answer(q), addr)
        elif kind == "flags":
            self.send(flags_answer(q, True), addr)
        elif kind == "signed":
            self.send(signed_answer(q), addr)
        elif kind == "nxdomain":
            self.send(nxdomain_answer(q), addr)
        else:
            self.send(refused(q), addr)

    def hold_done(self, data, addr):
        HOLD["now"] -= 1
        self.send(data, addr)


async def tcp_client(reader, writer):
    try:
        while True:
            try:
                lb = await reader.readexactly(2)
                data = await reader.readexactly(struct.unpack("!H", lb)[0])
            except (asyncio.IncompleteReadError, ConnectionError):
                return
            q = parse_query(data)
            if q is None:
                return
            kind = kind_of(q)
            if kind == "tcpclose":
                return
            if kind == "tcpslow":
                msg = a_answer(q)
                out = struct.pack("!H", len(msg)) + msg
                for i in range(len(out)):
                    writer.write(out[i:i + 1])
                    await writer.drain()
                    await asyncio.sleep(0.1)
                continue
            if kind == "big":
                msg = big_answer(q)
            elif kind == "tcpbad":
                msg = a_answer(q, qid=q["id"] ^ 0x5A5A)
            elif kind in ("ok", "tc"):
                msg = a_answer(q)
            elif kind == "flags":
                msg = flags_answer(q, False)
            elif kind == "signed":
                msg = signed_answer(q)
            elif kind == "nxdomain":
                msg = nxdomain_answer(q)
            elif kind in ("qd0", "wrongq", "fwdptr", "fwdptrin", "ptrloop",
                          "longname", "trunc"):
                msg = special_answer(q, kind)
            elif kind == "wrongid":
                msg = a_answer(q, qid=q["id"] ^ 0x5A5A)
            elif kind == "qr0":
                msg = a_answer(q, qr=0)
            elif kind == "silent":
                continue
            else:
                msg = refused(q)
            writer.write(struct.pack("!H", len(msg)) + msg)
            await writer.drain()
    except ConnectionError:
        pass
    finally:
        try:
            writer.close()
        except Exception:
            pass


def bind_pair(addr, port):
    """UDP and TCP sockets on the same port; port 0 picks a free one."""
    fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
    for _ in range(50):
        u = socket.socket(fam, socket.SOCK_DGRAM)
        u.bind((addr, port))
        p = u.getsockname()[1]
        t = socket.socket(fam, socket.SOCK_STREAM)
        t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            t.bind((addr, p))
        except OSError:
            u.close()
            t.close()
            if port != 0:
                raise
            continue
        t.listen(1024)
        u.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        u.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
        u.setblocking(False)
        t.setblocking(False)
        return u, t, p
    raise OSError("no free port pair")


async def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--addr", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--pidfile", required=True)
    ap.add_argument("--lifetime", type=float, default=300)
    ap.add_argument("--default", default="refused", choices=sorted(KINDS))
    a = ap.parse_args()
    DEFAULT["kind"] = a.default
    if not ipaddress.ip_address(a.addr).is_loopback:
        sys.exit("hostile_dns: loopback addresses only")
    loop = asyncio.get_running_loop()
    u, t, port = bind_pair(a.addr, a.port)
    await loop.create_datagram_endpoint(lambda: UDPServer(loop), sock=u)
    server = await asyncio.start_server(tcp_client, sock=t)
    with open(a.pidfile + ".tmp", "w") as f:
        f.write("%d\n" % os.getpid())
    os.rename(a.pidfile + ".tmp", a.pidfile)
    print(port, flush=True)
    async with server:
        await asyncio.sleep(a.lifetime)


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
