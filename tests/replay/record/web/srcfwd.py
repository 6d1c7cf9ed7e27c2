#!/usr/bin/python3
"""srcfwd.py - a tiny TCP forwarder that makes a client appear from another
loopback address.

Tools such as hydra cannot choose their source address. Point them at
LISTEN_PORT on 127.0.0.1 instead of the server; each connection is relayed
to TARGET from a socket bound to BIND_ADDR, so the server (nginx) sees a real
TCP peer at BIND_ADDR and logs it as $remote_addr.

    srcfwd.py LISTEN_PORT TARGET_HOST:TARGET_PORT BIND_ADDR MAX_SECONDS

Loopback only; the forwarder exits after MAX_SECONDS (or on SIGTERM).
Stdlib only.
"""
import ipaddress
import signal
import socket
import sys
import threading
import time


def loopback(addr):
    return ipaddress.ip_address(addr).is_loopback


def pump(src, dst):
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
    except OSError:
        pass
    finally:
        for s in (dst,):
            try:
                s.shutdown(socket.SHUT_WR)
            except OSError:
                pass


def relay(client, target, bind_addr):
    upstream = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        upstream.bind((bind_addr, 0))
        upstream.settimeout(10)
        upstream.connect(target)
        upstream.settimeout(None)
    except OSError:
        client.close()
        upstream.close()
        return
    t = threading.Thread(target=pump, args=(upstream, client), daemon=True)
    t.start()
    pump(client, upstream)
    t.join(30)
    client.close()
    upstream.close()


def main():
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    port = int(sys.argv[1])
    host, tport = sys.argv[2].rsplit(":", 1)
    target = (host, int(tport))
    bind_addr = sys.argv[3]
    deadline = time.monotonic() + float(sys.argv[4])
    if not (loopback(host) and loopback(bind_addr)):
        sys.exit("srcfwd: loopback addresses only")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))

    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", port))
    ls.listen(64)
    ls.settimeout(0.5)
    while time.monotonic() < deadline:
        try:
            client, _ = ls.accept()
        except socket.timeout:
            continue
        threading.Thread(target=relay, args=(client, target, bind_addr),
                         daemon=True).start()
    ls.close()


if __name__ == "__main__":
    main()
