#!/usr/bin/python3
"""Notification speed: from an incident committed in the notifier's store to
the last customer notice accepted by a local SMTP server, for 1, 100 and
10,000 affected customers, beside the same messages sent by a plain Python
smtplib loop to the same server, in the same run.

    bench/notify_bench.py [--build DIR] [--sizes 1,100,10000] [--wait S]
                          [--connections N] [--keep]

For each size, a fresh breachwatch-notifier (release build, its store in a
temporary directory under DIR/bench) with a CSV customer directory of that
many customers, mail to Debian's aiosmtpd on 127.0.0.1
(tests/notifier/smtp_server.py, plain SMTP: a relay on the same host) over
N connections (default 4), and a grouping wait of S seconds (default 2);
an agent stand-in (the CURVE test sender) sends one incident naming every
customer. Then, from the store's revisions.received_us (the revision
committed) and the server's time of acceptance of each message:

- team alert: from the revision received to the team's alert accepted
  (not delayed by the grouping wait);
- grouping wait: printed apart; the notices are due at received + S;
- first notice: from the end of the grouping wait to the first customer
  notice accepted (target: under 1 s);
- last notice: from the end of the grouping wait to the last one accepted
  (target for 10,000: under 60 s), and notices/s over that time;
- baseline: the same messages (read back from the outbox: the bytes that
  were sent) sent by a Python smtplib loop, over one connection and over N
  threads with a connection each, to a fresh server of the same kind:
  messages/s. It is what the server and the loopback allow without any of
  the notifier's work (directory look-up, rendering, the audited outbox,
  its state written before and after each message).

Not a test: it prints figures. Build the release preset first (cmake
--preset release && cmake --build build/release). Run with /usr/bin/python3
(Debian's python3-aiosmtpd).
"""
import argparse
import glob
import json
import os
import shutil
import signal
import smtplib
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time

SRC = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(SRC, "tests", "notifier"))
import harness  # noqa: E402
from harness import Notifier, Sender, keygen  # noqa: E402

SERVER = os.path.join(SRC, "tests", "notifier", "smtp_server.py")
TEAM = "soc@example.com"


class Smtp:
    def __init__(self, d):
        self.dir = d
        os.makedirs(d, exist_ok=True)
        self.proc = subprocess.Popen(["/usr/bin/python3", SERVER, "--dir", d],
                                     stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, text=True)
        line = self.proc.stdout.readline()
        if not line.startswith("listening "):
            raise SystemExit("smtp server did not start")
        self.port = int(line.split()[1])

    def metas(self):
        out = []
        for p in glob.glob(os.path.join(self.dir, "*.json")):
            with open(p) as f:
                out.append(json.load(f))
        return out

    def count(self):
        return len(glob.glob(os.path.join(self.dir, "*.eml")))

    def stop(self):
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


def wait_for(fn, timeout, what):
    until = time.monotonic() + timeout
    while not fn():
        if time.monotonic() > until:
            raise SystemExit("timed out waiting for %s" % what)
        time.sleep(0.02)


def incident(n):
    inc = json.loads(harness.incident("bw-bench-%d" % n, 1, "db1",
                                      customers=["c%06d" % i
                                                 for i in range(n)]))
    inc["category"] = "bulk-read"
    return json.dumps(inc)


def run_notifier(args, tmp, n):
    d = os.path.join(tmp, "n%d" % n)
    os.makedirs(d)
    csv = os.path.join(d, "customers.csv")
    with open(csv, "w") as f:
        f.write("id,name,email\n")
        for i in range(n):
            f.write("c%06d,Customer %d,c%06d@example.org\n" % (i, i, i))
    srv = Smtp(os.path.join(d, "received"))
    pub = keygen(args.cli, os.path.join(d, "db1"))
    extra = """
organisation: { name = "Bench Mail"; contact = "privacy@example.com"; };
directory: { type = "csv"; path = "%s"; };
mail: { transport = "smtp://127.0.0.1:%d"; tls = "none";
  from = "notices@example.com"; connections = %d; };
notify: { team = [ "%s" ]; grouping_wait = "%gs"; };
""" % (csv, srv.port, args.connections, TEAM, args.wait)
    nt = Notifier(args.notifier, args.cli, d, [pub],
                  max_incident_bytes=16 << 20, extra=extra)
    nt.start()
    s = Sender(args.sender, nt.endpoint, nt.key + ".pub",
               os.path.join(d, "db1.key"))
    try:
        if s.connect().get("event") != "connected":
            raise SystemExit("the sender did not connect")
        seq = s.send(incident(n))
        s.ack(seq, timeout=60)
        wait_for(lambda: srv.count() >= n + 1, 600, "%d messages" % (n + 1))
        time.sleep(0.3)
        received = nt.db("SELECT received_us FROM revisions")[0][0] / 1e6
        metas = srv.metas()
        team = [m["at"] for m in metas if m["rcpt_tos"] == [TEAM]]
        cust = sorted(m["at"] for m in metas if m["rcpt_tos"] != [TEAM])
        msgs = nt.db("SELECT recipient, message FROM notifications WHERE "
                     "kind = 'customer_notice' ORDER BY id")
        due = received + args.wait
        res = {
            "n": n,
            "team": min(team) - received,
            "first": cust[0] - due,
            "last": cust[-1] - due,
            "rate": (n / (cust[-1] - cust[0])) if n > 1 and
            cust[-1] > cust[0] else None,
            "messages": msgs,
        }
    finally:
        s.close()
        nt.stop()
        srv.stop()
    return res


def smtplib_send(port, msgs, threads):
    """The same messages by smtplib: one connection per thread."""
    chunks = [msgs[i::threads] for i in range(threads)]
    errors = []

    def worker(chunk):
        try:
            with smtplib.SMTP("127.0.0.1", port, timeout=60) as c:
                for rcpt, text in chunk:
                    c.sendmail("notices@example.com", [rcpt],
                               text.encode())
        except Exception as e:  # noqa: BLE001
            errors.append(e)
    t0 = time.monotonic()
    ts = [threading.Thread(target=worker, args=(c,)) for c in chunks]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    took = time.monotonic() - t0
    if errors:
        raise SystemExit("baseline: %s" % errors[0])
    return took


def baseline(tmp, n, msgs, threads):
    srv = Smtp(os.path.join(tmp, "base-%d-%d" % (n, threads)))
    try:
        took = smtplib_send(srv.port, msgs, threads)
        if srv.count() != len(msgs):
            raise SystemExit("baseline: %d of %d accepted" %
                             (srv.count(), len(msgs)))
    finally:
        srv.stop()
    return took


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(SRC, "build", "release"))
    ap.add_argument("--sizes", default="1,100,10000")
    ap.add_argument("--wait", type=float, default=2.0)
    ap.add_argument("--connections", type=int, default=4)
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    # the notifier's config wants absolute paths
    args.build = os.path.abspath(args.build)
    args.notifier = os.path.join(args.build, "notifier",
                                 "breachwatch-notifier")
    args.cli = os.path.join(args.build, "cli", "breachwatch")
    args.sender = os.path.join(args.build, "tests", "notifier",
                               "notifier_test_sender")
    for p in (args.notifier, args.cli, args.sender):
        if not os.access(p, os.X_OK):
            raise SystemExit("%s: not built (cmake --preset release && "
                             "cmake --build build/release)" % p)
    os.makedirs(os.path.join(args.build, "bench"), exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="notify-", dir=os.path.join(args.build,
                                                              "bench"))
    rows = []
    try:
        for n in [int(x) for x in args.sizes.split(",")]:
            r = run_notifier(args, tmp, n)
            r["base1"] = baseline(tmp, n, r["messages"], 1)
            r["baseN"] = baseline(tmp, n, r["messages"], args.connections)
            del r["messages"]
            rows.append(r)
            print("  %d customers done" % n, file=sys.stderr)
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    print("grouping wait: %.1f s from the revision committed, excluded "
          "below; %d connections to aiosmtpd on 127.0.0.1, no TLS" %
          (args.wait, args.connections))
    print()
    print("| customers | team alert | first notice after the wait | "
          "last notice after the wait | notices/s | smtplib, 1 connection "
          "| smtplib, %d connections |" % args.connections)
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print("| %d | %.3f s | %.3f s | %.3f s | %s | %.3f s (%d/s) | "
              "%.3f s (%d/s) |" %
              (r["n"], r["team"], r["first"], r["last"],
               "%d" % r["rate"] if r["rate"] else "-", r["base1"],
               r["n"] / r["base1"], r["baseN"], r["n"] / r["baseN"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
