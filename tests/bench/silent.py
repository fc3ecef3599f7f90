#!/usr/bin/env python3
"""silent.py ADDR - a name server that stops answering, for the mixed bench.

Listens on ADDR port 53 over UDP and TCP and never answers: datagrams are
read and dropped, TCP connections are accepted and held open unread until
the client gives up. So every question to it costs the asker its full
timeout (an address where nothing listens would fail at once, with ICMP).
Runs until killed (tests/bench/bench.sh stops it by pid); holds at most
4096 connections, closing the oldest beyond that.
"""
import collections
import selectors
import socket
import sys


def main():
    addr = sys.argv[1]
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind((addr, 53))
    tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    tcp.bind((addr, 53))
    tcp.listen(1024)
    sel = selectors.DefaultSelector()
    sel.register(udp, selectors.EVENT_READ)
    sel.register(tcp, selectors.EVENT_READ)
    held = collections.deque()
    print("silent: on %s:53" % addr, flush=True)
    while True:
        for key, _ in sel.select():
            if key.fileobj is udp:
                try:
                    udp.recvfrom(65536)
                except OSError:
                    pass
            else:
                try:
                    conn, _ = tcp.accept()
                except OSError:
                    continue
                held.append(conn)
                if len(held) > 4096:
                    held.popleft().close()


if __name__ == "__main__":
    main()
