#!/usr/bin/env python3
"""A DNS relay for test topologies the testbed's NSD cannot play by itself:
a name server address that answers over UDP but has no TCP listener, or an
IPv6 address of a server that NSD only serves over IPv4.

    dnsrelay.py LISTEN_ADDR UPSTREAM_ADDR [--tcp] [--drop-first N]
                [--log FILE]

Relays every UDP query on LISTEN_ADDR:53 to UPSTREAM_ADDR:53 and the answer
back, byte for byte (so sizes, TC bits and signatures are the real
server's). With --tcp it also accepts TCP on LISTEN_ADDR:53 and relays each
length-prefixed message over TCP; without it nothing listens on TCP, so a
connection is refused, as with a server whose TCP port is closed.

--drop-first N loses the first N UDP queries for each name and type (the
name's case ignored), as a lossy path would, and relays the ones after:
the client gets the real answer only if it asks again. --log FILE gets one
line per UDP query, in arrival order, written before the next is read:
"drop NAME TYPE" or "relay NAME TYPE" (NAME lower case, no final dot,
TYPE a number; "- -" for what is not a query).
Prints "ready" on stdout once bound. Runs until killed.
"""
import argparse
import socket
import struct
import threading


def family(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def query_key(data):
    """(name, qtype) of a query's question, or None."""
    pos, labels = 12, []
    try:
        while data[pos] != 0:
            n = data[pos]
            if n & 0xC0:
                return None
            labels.append(data[pos + 1:pos + 1 + n].decode("ascii").lower())
            pos += 1 + n
        qtype = struct.unpack("!H", data[pos + 1:pos + 3])[0]
    except (IndexError, UnicodeDecodeError, struct.error):
        return None
    return ".".join(labels), qtype


def udp_loop(listen, upstream, drop_first=0, log=None):
    s = socket.socket(family(listen), socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((listen, 53))

    def relay(data, peer):
        u = socket.socket(family(upstream), socket.SOCK_DGRAM)
        u.settimeout(5)
        try:
            u.sendto(data, (upstream, 53))
            answer, _ = u.recvfrom(65535)
            s.sendto(answer, peer)
        except OSError:
            pass  # the client times out, as with a lost packet
        finally:
            u.close()

    seen = {}

    def serve():
        while True:
            data, peer = s.recvfrom(65535)
            key = query_key(data)
            n = seen[key] = seen.get(key, 0) + 1
            drop = key is not None and n <= drop_first
            if log is not None:
                log.write("%s %s %s\n" % ("drop" if drop else "relay",
                                          *(key or ("-", "-"))))
                log.flush()
            if not drop:
                threading.Thread(target=relay, args=(data, peer),
                                 daemon=True).start()

    return s, serve


def read_exact(c, n):
    buf = b""
    while len(buf) < n:
        chunk = c.recv(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return buf


def tcp_conn(c, upstream):
    try:
        c.settimeout(10)
        while True:
            hdr = read_exact(c, 2)
            if hdr is None:
                return
            msg = read_exact(c, struct.unpack("!H", hdr)[0])
            if msg is None:
                return
            u = socket.create_connection((upstream, 53), timeout=5)
            try:
                u.sendall(hdr + msg)
                ahdr = read_exact(u, 2)
                answer = read_exact(u, struct.unpack("!H", ahdr)[0]) if ahdr else None
            finally:
                u.close()
            if answer is None:
                return
            c.sendall(ahdr + answer)
    except OSError:
        pass
    finally:
        c.close()


def tcp_loop(listen, upstream):
    s = socket.socket(family(listen), socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((listen, 53))
    s.listen(64)

    def serve():
        while True:
            c, _ = s.accept()
            threading.Thread(target=tcp_conn, args=(c, upstream), daemon=True).start()

    return s, serve


def main():
    ap = argparse.ArgumentParser(usage="dnsrelay.py LISTEN_ADDR UPSTREAM_ADDR "
                                 "[--tcp] [--drop-first N] [--log FILE]")
    ap.add_argument("listen")
    ap.add_argument("upstream")
    ap.add_argument("--tcp", action="store_true")
    ap.add_argument("--drop-first", type=int, default=0)
    ap.add_argument("--log")
    a = ap.parse_args()
    log = open(a.log, "a") if a.log else None
    loops = [udp_loop(a.listen, a.upstream, a.drop_first, log)]
    if a.tcp:
        loops.append(tcp_loop(a.listen, a.upstream))
    print("ready", flush=True)
    threads = [threading.Thread(target=serve, daemon=True) for _, serve in loops]
    for th in threads:
        th.start()
    for th in threads:
        th.join()


if __name__ == "__main__":
    main()
