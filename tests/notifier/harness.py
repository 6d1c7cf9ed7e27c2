"""harness.py - a real breachwatch-notifier for process tests.

Used by tests/notifier/notifier_test.py and tests/cli/cli_test.py (stdlib
only; run with /usr/bin/python3):

- keys are written by the real `breachwatch keygen`;
- the notifier listens on 127.0.0.1 with a port the OS chooses (its log
  says which), its control socket in the test's temporary directory;
- a Sender is tests/notifier/test_sender.c, a CURVE DEALER driven one JSON
  line at a time;
- every wait is bounded, and processes are stopped by their PID.
"""
import grp
import json
import os
import re
import select
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time

START_TIMEOUT = 20.0  # an ASan build takes a while to start
WAIT = 10.0           # something that happens at once shows up within this
# A stop: after its last log line an ASan build runs LeakSanitizer's scan
# of the whole heap at exit, seconds on a loaded machine (seen once past
# 10 s with mail_bulk beside it); a real hang still fails.
STOP_WAIT = 30.0
QUIET = 0.4           # "no answer comes": longer than any answer takes


class Failure(Exception):
    """A check failed."""


def check(cond, msg):
    if not cond:
        raise Failure(msg)


# What a sanitizer says when it finds something (ASan, LSan, UBSan).
SANITIZER = re.compile(r"Sanitizer|runtime error:")


def run(argv, env=None, timeout=30):
    """Run argv; returns (exit status, stdout, stderr). A sanitizer's
    report in its stderr fails the test, whatever the exit status."""
    p = subprocess.run(argv, capture_output=True, text=True, env=env,
                       timeout=timeout)
    check(not SANITIZER.search(p.stderr),
          "%s: sanitizer report:\n%s" % (" ".join(argv), p.stderr))
    return p.returncode, p.stdout, p.stderr


def keygen(cli, prefix, name=None):
    argv = [cli, "keygen", "--out", prefix]
    if name:
        argv += ["--name", name]
    rc, out, err = run(argv)
    check(rc == 0, "keygen %s: %d %s" % (prefix, rc, err))
    with open(prefix + ".pub") as f:
        return f.read()


def incident(iid, revision, host, **kw):
    """An incident revision as JSON text (common/incident.h)."""
    inc = {
        "id": iid,
        "revision": revision,
        "rule": kw.get("rule", "web-customer-data-mismatch"),
        "category": "unauthorised-access",
        "severity": kw.get("severity", "high"),
        "title": kw.get("title", "Customer data read by another customer"),
        "summary": "test incident %s" % iid,
        "first_seen": "2026-11-23T08:00:00Z",
        "last_seen": kw.get("last_seen", "2026-11-23T08:%02d:00Z" %
                            min(revision, 59)),
        "host": host,
        "actor": {"ip": "203.0.113.9", "user": "c1101"},
        "affected_customers": kw.get("customers", ["c2001", "c2002"]),
        "affected_unknown": kw.get("affected_unknown", False),
        "data_kinds": ["contact_list"],
        "event_count": kw.get("event_count", revision * 3),
        "evidence": [{"ts": "2026-11-23T08:00:00Z", "source": "nginx",
                      "ref": "/var/log/nginx/access.log:%d" % revision,
                      "excerpt": kw.get("excerpt",
                                        "GET /api/contacts/c2001")}],
        "evidence_omitted": 0,
        "notify_customers": kw.get("notify_customers", True),
        "containment": kw.get("containment", []),
    }
    if "pad" in kw:
        inc["summary"] = "x" * kw["pad"]
    return json.dumps(inc)


class Notifier:
    """breachwatch-notifier in dir, with its own config."""

    def __init__(self, binary, cli, tmp, agents, max_incident_bytes=8192,
                 extra=""):
        self.binary, self.cli, self.tmp = binary, cli, tmp
        self.key = os.path.join(tmp, "notifier")
        if not os.path.exists(self.key + ".key"):
            keygen(cli, self.key)
        self.auth = os.path.join(tmp, "authorized_agents")
        self.write_agents(agents)
        self.socket = os.path.join(tmp, "ctl.sock")
        self.store = os.path.join(tmp, "record.db")
        self.group = grp.getgrgid(os.getgid()).gr_name
        self.conf = os.path.join(tmp, "notifier.conf")
        with open(self.conf, "w") as f:
            f.write("""notifier: {
  listen = "tcp://127.0.0.1:*";
  key = "%s.key";
  public_key = "%s.pub";
  authorized_agents = "%s";
  store = "%s";
  log_level = "debug";
};
inbox: { heartbeat = "1s"; max_incident_bytes = %d; };
control: { socket = "%s"; mode = "0660"; group = "%s"; };
%s""" % (self.key, self.key, self.auth, self.store, max_incident_bytes,
         self.socket, self.group, extra))
        self.proc = None
        self.lines = []
        self.lock = threading.Lock()
        self.endpoint = None

    def write_agents(self, pubs):
        """The authorised-agents file: the given .pub lines."""
        tmp = self.auth + ".new"
        with open(tmp, "w") as f:
            f.write("# test agents\n" + "".join(pubs))
        os.chmod(tmp, 0o644)
        os.replace(tmp, self.auth)

    def start(self):
        self.lines = []
        self.proc = subprocess.Popen([self.binary, "--config", self.conf],
                                     stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, text=True)
        threading.Thread(target=self._read, daemon=True).start()
        m = self.wait_log(r"listening on (tcp://127\.0\.0\.1:\d+)",
                          START_TIMEOUT)
        self.endpoint = m.group(1)
        self.wait_log(r"control socket", START_TIMEOUT)
        return self

    def _read(self):
        for line in self.proc.stderr:
            with self.lock:
                self.lines.append(line.rstrip("\n"))

    def log(self):
        with self.lock:
            return list(self.lines)

    def wait_log(self, pattern, timeout=WAIT, start=0):
        """The first log line from index start matching pattern."""
        rx = re.compile(pattern)
        until = time.monotonic() + timeout
        exited = None
        while True:
            for line in self.log()[start:]:
                m = rx.search(line)
                if m:
                    return m
            now = time.monotonic()
            if self.proc.poll() is not None:
                exited = exited or now  # let the reader catch up
                if now - exited > 0.5:
                    raise Failure("notifier exited (%s) without logging "
                                  "/%s/:\n%s" % (self.proc.returncode,
                                                 pattern, self.tail()))
            if now > until:
                raise Failure("no log line /%s/ in %.0fs:\n%s" %
                              (pattern, timeout, self.tail()))
            time.sleep(0.02)

    def tail(self):
        return "\n".join(self.log()[-20:])

    def send_signal(self, sig):
        os.kill(self.proc.pid, sig)

    def stop(self, sig=signal.SIGTERM):
        """Stop by PID; returns the exit status."""
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        os.kill(self.proc.pid, sig)
        try:
            return self.proc.wait(timeout=STOP_WAIT)
        except subprocess.TimeoutExpired:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
            raise Failure("notifier did not stop on %s" % sig)

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def ctl(self, *args):
        """Run the CLI against this notifier: (status, stdout, stderr)."""
        return run([self.cli, "--socket", self.socket] + list(args))

    def ctl_json(self, *args):
        rc, out, err = self.ctl("--json", *args)
        check(rc == 0, "breachwatch %s: %d %s" % (" ".join(args), rc, err))
        return json.loads(out)

    def db(self, sql, *params):
        """Read the store directly (read-only), as a second opinion."""
        con = sqlite3.connect("file:%s?mode=ro" % self.store, uri=True,
                              timeout=5)
        try:
            return con.execute(sql, params).fetchall()
        finally:
            con.close()

    def revisions(self, iid, revision=None):
        if revision is None:
            return self.db("SELECT count(*) FROM revisions WHERE "
                           "incident_id = ?", iid)[0][0]
        return self.db("SELECT count(*) FROM revisions WHERE incident_id = ?"
                       " AND revision = ?", iid, revision)[0][0]


class Sender:
    """tests/notifier/test_sender.c: one agent's DEALER."""

    def __init__(self, binary, endpoint, server_pub, secret):
        self.proc = subprocess.Popen([binary, endpoint, server_pub, secret],
                                     stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True)
        self.seq = 0

    def cmd(self, **c):
        self.proc.stdin.write(json.dumps(c) + "\n")
        self.proc.stdin.flush()
        wait = c.get("timeout_ms", 0) / 1000.0 + WAIT
        r, _, _ = select.select([self.proc.stdout], [], [], wait)
        check(r, "test_sender gave no answer to %s" % c.get("op"))
        line = self.proc.stdout.readline()
        check(line, "test_sender exited")
        return json.loads(line)

    def connect(self, timeout=WAIT):
        return self.cmd(op="wait_connect", timeout_ms=int(timeout * 1000))

    def send(self, text, iid=None, revision=None, seq=None):
        """Send an INCIDENT with the JSON's own id/revision unless given."""
        inc = json.loads(text) if (iid is None or revision is None) else {}
        if seq is None:
            self.seq += 1
            seq = self.seq
        r = self.cmd(op="incident", seq=seq,
                     id=iid if iid is not None else inc["id"],
                     revision=revision if revision is not None
                     else inc["revision"], json=text)
        check(r.get("sent"), "not sent: %s" % r)
        return seq

    def recv(self, timeout=WAIT):
        return self.cmd(op="recv", timeout_ms=int(timeout * 1000))

    def ack(self, seq, timeout=WAIT):
        """The next message must be the ACK of seq; returns it."""
        m = self.recv(timeout)
        while m.get("type") == "HEARTBEAT":
            m = self.recv(timeout)
        check(m.get("type") == "ACK", "no ACK: %s" % m)
        check(m["seq"] == seq, "ACK for seq %s, want %s" % (m["seq"], seq))
        return m

    def quiet(self):
        """Nothing but heartbeats arrives for QUIET seconds."""
        until = time.monotonic() + QUIET
        while True:
            left = until - time.monotonic()
            if left <= 0:
                return
            m = self.recv(left)
            check(m.get("type") in ("none", "HEARTBEAT"),
                  "unexpected answer: %s" % m)
            if m.get("type") == "none":
                return

    def close(self):
        if self.proc.poll() is None:
            try:
                self.cmd(op="quit")
            except (Failure, OSError, ValueError):
                pass
            try:
                self.proc.wait(timeout=WAIT)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


def main(argv, nargs, doc, make_test, name):
    """The scripts' main: make_test(args, tmp) builds a test object with
    run() and a Notifier n; its temporary directory is removed after.
    Returns the exit status: 0 passed, 1 failed, 2 usage."""
    if len(argv) != nargs + 1:
        print(doc.split("\n\n")[1], file=sys.stderr)
        return 2
    tmp = tempfile.mkdtemp(prefix="bw-%s-" % name)
    t = None
    try:
        t = make_test(argv[1:], tmp)
        t.run()
        bad = [x for x in t.n.log() if SANITIZER.search(x)]
        check(not bad, "sanitizer report from the notifier:\n%s" %
              "\n".join(bad))
    except Failure as e:
        print("FAIL: %s" % e, file=sys.stderr)
        if t is not None:
            print("notifier log (tail):\n%s" % t.n.tail(), file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("%s: all passed" % name)
    return 0
