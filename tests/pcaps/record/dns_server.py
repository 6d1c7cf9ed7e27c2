#!/usr/bin/python3
"""dns_server.py - a small authoritative DNS server for recording captures.

    dns_server.py ADDRESS PORT SECONDS

Answers every query on UDP ADDRESS:PORT: A queries for names under
example.com with 127.0.0.1, TXT queries under example.com with "v=spf1 -all",
anything else NXDOMAIN. It stops by itself after SECONDS (or on SIGTERM).
Stdlib only; nothing here leaves the loopback interface.
"""
import socket
import struct
import sys
import time


def parse_question(msg):
    """The question's name labels, type, and the offset past it."""
    off, labels = 12, []
    while True:
        n = msg[off]
        off += 1
        if n == 0:
            break
        labels.append(msg[off:off + n])
        off += n
    qtype, _ = struct.unpack(">HH", msg[off:off + 4])
    return labels, qtype, off + 4


def answer(msg):
    ident, flags, qd = struct.unpack(">HHH", msg[:6])
    if qd != 1:
        return None
    labels, qtype, end = parse_question(msg)
    name = b".".join(labels).lower()
    question = msg[12:end]
    rr = b""
    rcode = 3
    if name == b"example.com" or name.endswith(b".example.com"):
        rcode = 0
        if qtype == 1:
            rr = b"\xc0\x0c" + struct.pack(">HHIH", 1, 1, 300, 4) + bytes([127, 0, 0, 1])
        elif qtype == 16:
            txt = b"v=spf1 -all"
            rr = b"\xc0\x0c" + struct.pack(">HHIH", 16, 1, 300, len(txt) + 1) + bytes([len(txt)]) + txt
    hdr = struct.pack(">HHHHHH", ident, 0x8400 | (flags & 0x0100) | rcode, 1,
                      1 if rr else 0, 0, 0)
    return hdr + question + rr


def main():
    addr, port, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((addr, port))
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        s.settimeout(max(0.1, deadline - time.monotonic()))
        try:
            msg, peer = s.recvfrom(4096)
        except socket.timeout:
            continue
        try:
            out = answer(msg)
        except (IndexError, struct.error):
            out = None
        if out:
            s.sendto(out, peer)


if __name__ == "__main__":
    main()
