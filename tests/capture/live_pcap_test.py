#!/usr/bin/python3
"""live_pcap_test.py - live capture, end to end, with the real agent.

    live_pcap_test.py AGENT SOURCE_DIR

In a network namespace of its own (so the capture sees only this test's
traffic and nginx can use port 80), the test starts nginx on 127.0.0.1
serving a customer export with card numbers and e-mail addresses, starts
AGENT in live mode with a `pcap` input on `lo` (filter "tcp port 80") and
the shipped rules, fetches the export with curl from 127.0.0.77 (the
Internet in tests/replay/site.conf), and waits for the incidents the live
path must print: net-cleartext-cards-served and
net-cleartext-email-bulk-served (the client that took them as the actor),
from the packets captured on `lo`. Then it stops the agent with SIGTERM and checks a
clean exit and the capture's summary line.

Needs root (a network namespace, CAP_NET_RAW), nginx and curl. Every wait
is bounded; every process is stopped by its PID. Stdlib only.
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

DEADLINE = 60  # seconds for the incidents (an agent under ASan is slow)


def fail(msg):
    print(f"FAIL: {msg}")
    sys.exit(1)


class Reader(threading.Thread):
    """Collects a pipe's lines."""

    def __init__(self, pipe):
        super().__init__(daemon=True)
        self.pipe = pipe
        self.lines = []
        self.lock = threading.Lock()

    def run(self):
        for raw in self.pipe:
            with self.lock:
                self.lines.append(raw.decode(errors="replace").rstrip("\n"))

    def snapshot(self):
        with self.lock:
            return list(self.lines)


def wait_until(what, pred, timeout):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return
        time.sleep(0.1)
    fail(f"timed out waiting for {what}")


def write_site(tmp, src):
    nginx = os.path.join(tmp, "nginx")
    os.makedirs(os.path.join(nginx, "www"))
    os.makedirs(os.path.join(nginx, "tmp"))
    with open(os.path.join(nginx, "nginx.conf"), "w") as f:
        f.write(f"""worker_processes 1;
pid {nginx}/nginx.pid;
error_log {nginx}/error.log;
events {{ worker_connections 64; }}
http {{
  client_body_temp_path {nginx}/tmp;
  proxy_temp_path {nginx}/tmp;
  fastcgi_temp_path {nginx}/tmp;
  uwsgi_temp_path {nginx}/tmp;
  scgi_temp_path {nginx}/tmp;
  access_log off;
  default_type text/csv;
  server {{ listen 127.0.0.1:80; root {nginx}/www; }}
}}
""")
    with open(os.path.join(nginx, "www", "export.csv"), "w") as f:
        f.write("id,email,card\n")
        for i in range(1001, 1061):
            f.write(f"c{i},owner{i}@example.org,\n")
        f.write("c1061,owner1061@example.org,4111 1111 1111 1111\n")
    shutil.copy(os.path.join(src, "tests", "replay", "site.conf"), tmp)
    state = os.path.join(tmp, "state")
    with open(os.path.join(tmp, "agent.conf"), "w") as f:
        f.write(f"""@include "site.conf"
agent = {{ name = "live-pcap-test"; state_dir = "{state}"; }};
inputs = ( {{ type = "pcap"; interface = "lo"; filter = "tcp port 80";
             snaplen = 65535; }} );
""")
    return nginx


def main(argv):
    if len(argv) != 3:
        print(__doc__)
        return 2
    agent, src = os.path.abspath(argv[1]), os.path.abspath(argv[2])
    if os.environ.get("BW_LIVE_PCAP_NETNS") != "1":
        if os.geteuid() != 0:
            fail("needs root: a network namespace and CAP_NET_RAW")
        env = dict(os.environ, BW_LIVE_PCAP_NETNS="1")
        return subprocess.call(["unshare", "--net", sys.executable,
                                os.path.abspath(__file__), agent, src],
                               env=env)
    for tool in ("nginx", "curl", "ip"):
        if shutil.which(tool) is None:
            fail(f"{tool} is not installed (scripts/install-deps.sh)")
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    procs = []
    with tempfile.TemporaryDirectory() as tmp:
        os.chmod(tmp, 0o755)
        nginx = write_site(tmp, src)
        try:
            ng = subprocess.Popen(["nginx", "-p", nginx, "-c",
                                   os.path.join(nginx, "nginx.conf"),
                                   "-g", "daemon off;"],
                                  stdin=subprocess.DEVNULL)
            procs.append(ng)
            wait_until("nginx", lambda: subprocess.call(
                ["curl", "-s", "-o", "/dev/null", "--max-time", "1",
                 "http://127.0.0.1/export.csv"]) == 0, 20)
            ag = subprocess.Popen([agent, "--config",
                                   os.path.join(tmp, "agent.conf"),
                                   "--rules",
                                   os.path.join(src, "rules", "sets")],
                                  stdin=subprocess.DEVNULL,
                                  stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE)
            procs.append(ag)
            out, err = Reader(ag.stdout), Reader(ag.stderr)
            out.start()
            err.start()
            wait_until("the agent to start following",
                       lambda: any("following" in ln
                                   for ln in err.snapshot())
                       or ag.poll() is not None, DEADLINE)
            if ag.poll() is not None:
                fail("the agent exited at start:\n" +
                     "\n".join(err.snapshot()))
            rc = subprocess.call(["curl", "-s", "-o", "/dev/null",
                                  "--max-time", "10", "--interface",
                                  "127.0.0.77", "http://127.0.0.1/export.csv"])
            if rc != 0:
                fail(f"curl exit status {rc}")

            def rules_seen():
                seen = set()
                for ln in out.snapshot():
                    try:
                        seen.add(json.loads(ln)["rule"])
                    except (ValueError, KeyError):
                        pass
                return seen

            want = {"net-cleartext-cards-served",
                    "net-cleartext-email-bulk-served"}
            wait_until(f"incidents {sorted(want)} from the live capture",
                       lambda: want <= rules_seen(), DEADLINE)
            ag.send_signal(signal.SIGTERM)
            try:
                code = ag.wait(timeout=DEADLINE)
            except subprocess.TimeoutExpired:
                fail("the agent did not stop on SIGTERM")
            out.join(timeout=5)
            err.join(timeout=5)
            if code != 0:
                fail(f"agent exit status {code}:\n" +
                     "\n".join(err.snapshot()))
            incs = [json.loads(ln) for ln in out.snapshot() if ln]
            cards = [i for i in incs
                     if i["rule"] == "net-cleartext-cards-served"]
            if cards[-1]["actor"].get("ip") != "127.0.0.77":
                fail(f"actor of the card incident: {cards[-1]['actor']}")
            if not cards[-1].get("closed"):
                fail("the stop gave the card incident no closing revision")
            if cards[-1]["host"] != "live-pcap-test":
                fail(f"host {cards[-1]['host']}")
            summary = [ln for ln in err.snapshot() if "pcap:lo:" in ln]
            if not summary or " 0 packets" in summary[0]:
                fail(f"no capture summary: {err.snapshot()}")
            unexpected = rules_seen() - want
            if unexpected:
                fail(f"unexpected incidents: {sorted(unexpected)}")
            print("ok: live capture on lo gave "
                  f"{sorted(rules_seen())}; {summary[0].split(': ', 1)[1]}")
            print("1 passed, 0 failed")
            return 0
        finally:
            for p in reversed(procs):
                if p.poll() is None:
                    p.send_signal(signal.SIGTERM if p is not procs[0]
                                  else signal.SIGQUIT)
                    try:
                        p.wait(timeout=10)
                    except subprocess.TimeoutExpired:
                        p.kill()
                        p.wait()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
