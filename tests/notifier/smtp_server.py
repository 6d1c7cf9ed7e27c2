#!/usr/bin/python3
"""smtp_server.py - a real SMTP server for the notifier's mail tests.

    smtp_server.py --dir OUT [--port N] [--cert C --key K] [--auth USER:PASS]
                   [--script FILE]

Debian's aiosmtpd on 127.0.0.1 (port 0: the OS chooses; the first line on
stdout is "listening PORT"). With --cert/--key it offers STARTTLS and
requires it before MAIL; with --auth it requires AUTH (PLAIN or LOGIN,
over TLS). Every message it accepts is written to OUT as N.eml (the bytes
received) and N.json (mail_from, rcpt_tos, tls, auth, peer, at). The
optional script (JSON) makes it misbehave, each rule counting down:

    {"ehlo_421": 1,            first N EHLOs answered 421 (service down)
     "data_451": 1,            first N messages answered 451 after the dot
     "rcpt_550": ["a@b.c"],    these recipients refused for good (550)
     "hang": ["a@b.c"],        no answer after the dot for these (the
                               client times out after the whole message)
     "delay_ms": 0}            a pause before accepting each message

Stopped with SIGTERM (by PID). Stdlib and aiosmtpd only; run it with
/usr/bin/python3.
"""
import argparse
import asyncio
import json
import os
import signal
import ssl
import sys
import threading
import time

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Handler:
    def __init__(self, out, script):
        self.out = out
        self.script = script
        self.n = 0
        self.lock = threading.Lock()

    def _take(self, key):
        """Count a rule down; True while it applies."""
        with self.lock:
            left = self.script.get(key, 0)
            if left > 0:
                self.script[key] = left - 1
                return True
            return False

    async def handle_EHLO(self, server, session, envelope, hostname,
                          responses):
        if self._take("ehlo_421"):
            return ["421 4.3.2 service not available, closing"]
        session.host_name = hostname
        return responses

    async def handle_RCPT(self, server, session, envelope, address,
                          rcpt_options):
        if address in self.script.get("rcpt_550", []):
            return "550 5.1.1 <%s>: no such user here" % address
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        for a in envelope.rcpt_tos:
            if a in self.script.get("hang", []):
                await asyncio.sleep(3600)
        delay = self.script.get("delay_ms", 0)
        if delay:
            await asyncio.sleep(delay / 1000.0)
        if self._take("data_451"):
            return "451 4.3.0 try again later"
        with self.lock:
            self.n += 1
            n = self.n
        base = os.path.join(self.out, "%06d" % n)
        with open(base + ".eml.tmp", "wb") as f:
            f.write(envelope.original_content or envelope.content)
        meta = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "tls": session.ssl is not None,
            "auth": (session.auth_data.login.decode()
                     if session.authenticated and
                     isinstance(session.auth_data, LoginPassword)
                     else None),
            "peer": list(session.peer)[:2],
            "at": time.time(),
        }
        with open(base + ".json.tmp", "w") as f:
            json.dump(meta, f)
        os.rename(base + ".json.tmp", base + ".json")
        os.rename(base + ".eml.tmp", base + ".eml")
        return "250 2.0.0 Ok: queued as %06d" % n


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--auth")
    ap.add_argument("--script")
    a = ap.parse_args()
    script = {}
    if a.script:
        with open(a.script) as f:
            script = json.load(f)
    handler = Handler(a.dir, script)
    kw = {}
    if a.cert:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(a.cert, a.key)
        kw.update(tls_context=ctx, require_starttls=True)
    if a.auth:
        user, password = a.auth.split(":", 1)

        def authenticator(server, session, envelope, mechanism, data):
            ok = (isinstance(data, LoginPassword) and
                  data.login.decode() == user and
                  data.password.decode() == password)
            return AuthResult(success=ok, auth_data=data)
        kw.update(authenticator=authenticator, auth_required=True,
                  auth_require_tls=bool(a.cert))
    port = a.port
    if port == 0:
        import socket
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
    ctl = Controller(handler, hostname="127.0.0.1", port=port,
                     server_hostname="smtp.test", ready_timeout=10,
                     data_size_limit=64 << 20, **kw)
    ctl.start()
    print("listening %d" % port, flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    while not stop.is_set():
        stop.wait(0.2)
    ctl.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
