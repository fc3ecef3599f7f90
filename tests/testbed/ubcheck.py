#!/usr/bin/env python3
"""ubcheck.py CONF NAME [TYPE] - validate NAME with libunbound, iterating from the
testbed's private root (CONF = $TESTBED_LIBUNBOUND_CONF), and print one line:

    secure rcode=N          the answer validated
    insecure rcode=N        provably unsigned
    bogus: <why_bogus>      validation failed

Why: selftest.sh wants a validator that does not go through the testbed's resolver.
unbound-host would do, but Debian 12 ships it in a separate package that this machine
lacks; libunbound8 is there (dnssecmon links it), so it is called through ctypes.
Exit status: 0 if a verdict was printed, 2 on usage or library errors.
"""
import ctypes
import ctypes.util
import sys

RRTYPES = {"A": 1, "NS": 2, "SOA": 6, "TXT": 16, "AAAA": 28, "DS": 43, "DNSKEY": 48,
           "CDS": 59, "CDNSKEY": 60}


class UbResult(ctypes.Structure):
    # struct ub_result, /usr/include/unbound.h (libunbound 1.17)
    _fields_ = [
        ("qname", ctypes.c_char_p), ("qtype", ctypes.c_int), ("qclass", ctypes.c_int),
        ("data", ctypes.POINTER(ctypes.c_char_p)), ("len", ctypes.POINTER(ctypes.c_int)),
        ("canonname", ctypes.c_char_p), ("rcode", ctypes.c_int),
        ("answer_packet", ctypes.c_void_p), ("answer_len", ctypes.c_int),
        ("havedata", ctypes.c_int), ("nxdomain", ctypes.c_int), ("secure", ctypes.c_int),
        ("bogus", ctypes.c_int), ("why_bogus", ctypes.c_char_p),
        ("was_ratelimited", ctypes.c_int), ("ttl", ctypes.c_int),
    ]


def main(argv):
    if len(argv) not in (3, 4) or argv[3:4] and argv[3].upper() not in RRTYPES:
        print(__doc__.strip().splitlines()[0], file=sys.stderr)
        return 2
    conf, name = argv[1], argv[2]
    rrtype = RRTYPES[argv[3].upper()] if len(argv) == 4 else 1
    path = ctypes.util.find_library("unbound") or "libunbound.so.8"
    lib = ctypes.CDLL(path)
    lib.ub_ctx_create.restype = ctypes.c_void_p
    lib.ub_ctx_config.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
    lib.ub_resolve.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int, ctypes.c_int,
                               ctypes.POINTER(ctypes.POINTER(UbResult))]
    lib.ub_resolve_free.argtypes = [ctypes.POINTER(UbResult)]
    lib.ub_ctx_delete.argtypes = [ctypes.c_void_p]
    lib.ub_strerror.restype = ctypes.c_char_p

    ctx = lib.ub_ctx_create()
    if not ctx:
        print("error: ub_ctx_create failed", file=sys.stderr)
        return 2
    try:
        err = lib.ub_ctx_config(ctx, conf.encode())
        if err != 0:
            print("error: ub_ctx_config(%s): %s" % (conf, lib.ub_strerror(err).decode()),
                  file=sys.stderr)
            return 2
        res = ctypes.POINTER(UbResult)()
        err = lib.ub_resolve(ctx, name.encode(), rrtype, 1, ctypes.byref(res))
        if err != 0:
            print("error: ub_resolve: %s" % lib.ub_strerror(err).decode(), file=sys.stderr)
            return 2
        r = res.contents
        if r.bogus:
            why = r.why_bogus.decode(errors="replace") if r.why_bogus else "?"
            print("bogus: %s" % why)
        elif r.secure:
            print("secure rcode=%d" % r.rcode)
        else:
            print("insecure rcode=%d" % r.rcode)
        lib.ub_resolve_free(res)
        return 0
    finally:
        lib.ub_ctx_delete(ctx)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
