#!/usr/bin/python3
"""e2e_test.py - breachwatch end to end: the real agent following a log,
the real notifier, the real CLI, on 127.0.0.1.

    e2e_test.py [-j JOBS] AGENT NOTIFIER CLI SOURCE_DIR [SCENARIO...]

Keys come from `breachwatch keygen`; the notifier listens on a port the OS
chooses (and is restarted on the same one); the agent follows a log file in
the scenario's temporary directory with the rules of tests/e2e/rules.conf
(one incident per principal, opened by its first line) and delivers to the
notifier through its spool. What the notifier stored is read from its store
(read-only, sqlite3) and with the CLI. Scenarios:

  flow        lines appended to the followed file become incidents in the
              store (CLI incidents and show agree); at SIGTERM the agent
              closes them, and the closing revisions reach the store before
              it exits (its figures: all spooled were acknowledged)
  notifier_kill
              kill -9 of the notifier during a stream of 1,200 incident
              revisions, restart: once the spool drains, the store holds
              exactly the revisions the agent spooled, each once
  agent_kill  kill -9 of the agent mid-stream (1,000 incidents), restart:
              every revision that was in its spool, and every incident of
              the log, is stored once
  agent_rerun one incident gets revisions from several lines, kill -9 of
              the agent before its read positions cover them, restart:
              the rebuilt incident (same id) gets revisions numbered above
              the first run's (agent/run_counter.h), the notifier stores
              them all (no conflict, no quarantine), its customers are
              both runs', and the new run's closing revision is current
  outage      the notifier down while 200 revisions are made: they wait in
              the spool; when it is back, the spool drains into the store
  spool_full  a spool of 5 revisions and 10 held in memory with the
              notifier down: the refusals are logged, a newer revision of a
              held incident replaces the held one, the inputs pause at the
              bound; when the notifier is back everything gets through
              (the superseded revision never does), and a stop's closing
              revisions too
  unknown_key an agent whose key the notifier does not know is refused
              (the notifier logs its address and key, the agent the
              refusal), nothing is stored, its spool keeps the revisions;
              once its key is authorised (SIGHUP), they are delivered
  hang        a containment action that hangs is killed at its timeout;
              the notifier's `breachwatch report` shows the step as timeout
  report      a finished incident (steps ok, failed, timeout, the agent's
              closing revision, an operator's step, closed by an operator):
              `breachwatch report` (md and json) has every step

Every wait polls with a deadline; every loop is bounded; processes are
stopped by their PID (kill -9 where the scenario says so) and killed in a
finally block whatever happens. With no SCENARIO all run, JOBS (default 4)
at a time. Exit status 0 when all pass, 1 when one fails, 2 on a usage
error. Stdlib only; run it with /usr/bin/python3.
"""
import concurrent.futures
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "notifier"))
from harness import Failure, Notifier, check, keygen, run  # noqa: E402

START_TIMEOUT = 30.0  # an agent or notifier under ASan starts in seconds
WAIT = 15.0           # something that happens at once shows up by then
DRAIN = 90.0          # a spool of 1,200 revisions drains (fsync-bound)
STOP = 30.0           # SIGTERM to exit (the agent waits up to 10 s)
POLL = 0.05
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep",
          "Oct", "Nov", "Dec")

SPOOLED = re.compile(r"spooled revision (\d+) of (bw-[0-9a-f]+) as (\d+)")
RUN_BLOCK = 65536     # revision n of an agent's run r is r * RUN_BLOCK + n


def rev(n, run=1):
    """The number of an incident's nth revision in the agent's run (a new
    state directory: the first run is 1)."""
    return run * RUN_BLOCK + n


def wait_until(pred, timeout, what, on_fail=None):
    """Poll pred() every POLL s until it is true (returned) or timeout."""
    until = time.monotonic() + timeout
    while True:
        got = pred()
        if got:
            return got
        if time.monotonic() > until:
            extra = on_fail() if on_fail else ""
            raise Failure("timed out after %.0f s waiting for %s%s" %
                          (timeout, what, extra))
        time.sleep(POLL)


def clf_now():
    t = time.gmtime()
    return "%02d/%s/%04d:%02d:%02d:%02d +0000" % (
        t.tm_mday, MONTHS[t.tm_mon - 1], t.tm_year, t.tm_hour, t.tm_min,
        t.tm_sec)


def web_line(principal, customer, what="contacts", stamp=None):
    """One nginx combined line: principal reads customer's contacts (rule
    e2e-read) or messages (e2e-hang, e2e-steps), now or at stamp."""
    return ('127.0.0.69 - %s [%s] "GET /api/v1/customers/%s/%s HTTP/1.1" '
            '200 203 "-" "e2e"' % (principal, stamp or clf_now(), customer,
                                   what))


def z85_of(pub):
    """The key of a public key file's text (its first line that is not a
    comment)."""
    for line in pub.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            return line.split()[0]
    raise Failure("no key in %r" % pub)


class Agent:
    """breachwatch-agent in live mode, delivering to a notifier."""

    def __init__(self, binary, src, tmp, name, endpoint, notifier_pub,
                 key, incidents="", notifier=""):
        self.binary, self.tmp, self.name = binary, tmp, name
        self.rules = os.path.join(src, "tests", "e2e", "rules.conf")
        self.log = os.path.join(tmp, name + "-access.log")
        self.state = os.path.join(tmp, name + "-state")
        self.spool = os.path.join(self.state, "spool")
        self.conf = os.path.join(tmp, name + ".conf")
        self.stdout = os.path.join(tmp, name + ".stdout")
        open(self.log, "a").close()
        with open(self.conf, "w") as f:
            f.write("""agent = { name = "%s"; state_dir = "%s"; };
inputs = ( { type = "nginx"; path = "%s"; start = "beginning"; } );
site = { customer_data = { http = (
  { path = "^/api/v1/customers/(?<customer>c[0-9]+)/contacts";
    data = "contact_list"; },
  { path = "^/api/v1/customers/(?<customer>c[0-9]+)/messages";
    data = "message_content"; } ); }; };
actions = (
  { id = "quick"; type = "exec"; argv = [ "/bin/true" ]; },
  { id = "broken"; type = "exec"; argv = [ "/bin/false" ]; },
  { id = "hang"; type = "exec"; argv = [ "/bin/sleep", "60" ];
    timeout = "1s"; grace = "1s"; }
);
incidents = { %s };
notifier = { endpoint = "%s"; notifier_key = "%s"; key = "%s";
             ack_timeout = "2s"; heartbeat = "1s"; %s };
""" % (name, self.state, self.log, incidents, endpoint, notifier_pub,
                key, notifier))
        self.proc = None
        self.lines = []
        self.lock = threading.Lock()

    def start(self):
        with self.lock:
            self.lines = []
        with open(self.stdout, "a") as out:
            self.proc = subprocess.Popen(
                [self.binary, "--config", self.conf, "--rules", self.rules,
                 "-v"], stdin=subprocess.DEVNULL, stdout=out,
                stderr=subprocess.PIPE, text=True)
        threading.Thread(target=self._read, args=(self.proc,),
                         daemon=True).start()
        self.wait_log(r"following 1 inputs", START_TIMEOUT)
        return self

    def _read(self, proc):
        for line in proc.stderr:
            with self.lock:
                self.lines.append(line.rstrip("\n"))

    def log_lines(self):
        with self.lock:
            return list(self.lines)

    def tail(self, n=25):
        return "\n".join(self.log_lines()[-n:])

    def wait_log(self, pattern, timeout=WAIT):
        rx = re.compile(pattern)

        def pred():
            for line in self.log_lines():
                m = rx.search(line)
                if m:
                    return m
            if self.proc.poll() is not None:
                raise Failure("agent %s exited (%s) before logging /%s/:\n%s"
                              % (self.name, self.proc.returncode, pattern,
                                 self.tail()))
            return None
        return wait_until(pred, timeout, "agent log /%s/" % pattern,
                          lambda: "\n" + self.tail())

    def spooled(self):
        """(id, revision) of every revision this run logged as spooled."""
        out = set()
        for line in self.log_lines():
            m = SPOOLED.search(line)
            if m:
                out.add((m.group(2), int(m.group(1))))
        return out

    def append(self, lines):
        with open(self.log, "a") as f:
            f.write("".join(line + "\n" for line in lines))

    def spool_files(self):
        """(id, revision) of each revision in the spool directory, read from
        the files (agent/spool.c: a header line, then the id)."""
        out = set()
        try:
            names = os.listdir(self.spool)
        except FileNotFoundError:
            return out
        for name in names:
            if not name.endswith(".rev"):
                continue
            try:
                with open(os.path.join(self.spool, name), "rb") as f:
                    header = f.readline().split()
                    iid = f.readline().decode().rstrip("\n")
            except FileNotFoundError:
                continue  # acknowledged meanwhile
            out.add((iid, int(header[3])))
        return out

    def quarantined(self):
        q = os.path.join(self.spool, "quarantine")
        return sorted(os.listdir(q)) if os.path.isdir(q) else []

    def stop(self, sig=signal.SIGTERM):
        """Signal by PID and wait (bounded); returns the exit status."""
        check(self.proc.poll() is None,
              "agent %s exited early (%s):\n%s" %
              (self.name, self.proc.returncode, self.tail()))
        os.kill(self.proc.pid, sig)
        try:
            return self.proc.wait(timeout=STOP)
        except subprocess.TimeoutExpired:
            raise Failure("agent %s did not stop on signal %d" %
                          (self.name, sig))

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=STOP)


class Scenario:
    def __init__(self, bins, tmp, say):
        self.agent_bin, self.notifier_bin, self.cli, self.src = bins
        self.tmp, self.say = tmp, say
        self.agents = []
        self.n = None
        self.db_errors = []

    def notifier(self, agent_names):
        pubs = [keygen(self.cli, os.path.join(self.tmp, a))
                for a in agent_names]
        self.n = Notifier(self.notifier_bin, self.cli, self.tmp, pubs,
                          max_incident_bytes=1 << 20)
        self.n.start()
        return self.n

    def pin_port(self):
        """Make the notifier listen on the port it has now at its next
        start (the agents' endpoint)."""
        with open(self.n.conf) as f:
            text = f.read()
        text = text.replace('listen = "tcp://127.0.0.1:*";',
                            'listen = "%s";' % self.n.endpoint)
        with open(self.n.conf, "w") as f:
            f.write(text)

    def restart_notifier(self):
        """Start the notifier again on its pinned port (the old listener
        may take a moment to go)."""
        endpoint = self.n.endpoint
        for _ in range(20):
            try:
                self.n.start()
                check(self.n.endpoint == endpoint,
                      "restarted on %s, not %s" % (self.n.endpoint,
                                                   endpoint))
                return
            except Failure:
                if "Address already in use" not in self.n.tail():
                    raise
                self.n.kill()
                time.sleep(0.2)
        raise Failure("the notifier's port %s stayed busy" % endpoint)

    def agent(self, name, incidents="", notifier=""):
        a = Agent(self.agent_bin, self.src, self.tmp, name,
                  self.n.endpoint,
                  os.path.join(self.tmp, "notifier.pub"),
                  os.path.join(self.tmp, name + ".key"), incidents,
                  notifier)
        self.agents.append(a)
        return a

    # The store, read directly.
    def db(self, sql, *params):
        try:
            return self.n.db(sql, *params)
        except sqlite3.OperationalError as e:
            self.db_errors.append(str(e))
            return None  # not made yet, or busy: ask again

    def stored(self):
        """Every (id, revision) in the store's revisions table, and the
        number of rows."""
        rows = self.db("SELECT incident_id, revision FROM revisions")
        if rows is None:
            return set(), 0
        return {(r[0], r[1]) for r in rows}, len(rows)

    def cleanup(self):
        for a in self.agents:
            a.kill()
        if self.n is not None:
            self.n.kill()

    def dump(self):
        for a in self.agents:
            self.say("  --- agent %s log (tail)\n%s" % (a.name, a.tail(40)))
        if self.n is not None:
            self.say("  --- notifier log (tail)\n%s" % self.n.tail())


def check_exactly(sc, a, want):
    """The store holds exactly the revisions in want, each once."""
    got, rows = sc.stored()
    check(rows == len(got), "%d rows for %d (id, revision) pairs: "
          "duplicates" % (rows, len(got)))
    missing = want - got
    extra = got - want
    check(not missing, "%d revisions spooled but not stored, e.g. %s" %
          (len(missing), sorted(missing)[:3]))
    check(not extra, "%d revisions stored that the agent did not spool, "
          "e.g. %s" % (len(extra), sorted(extra)[:3]))


def drained(sc, a, n_want):
    """The agent spooled n_want revisions, its spool is empty, and the
    store has as many rows."""
    def pred():
        _, rows = sc.stored()
        return (len(a.spooled()) >= n_want and not a.spool_files() and
                rows >= n_want)
    return pred


def progress(sc, a):
    return lambda: "\n(%d spooled, %d in the spool, %d stored)\n%s" % (
        len(a.spooled()), len(a.spool_files()), sc.stored()[1], a.tail())


def appender(a, lines, chunk, pause):
    """Append lines in chunks from a thread (the stream); returns it."""
    def run_it():
        for i in range(0, len(lines), chunk):
            a.append(lines[i:i + chunk])
            time.sleep(pause)
    t = threading.Thread(target=run_it, daemon=True)
    t.start()
    return t


# --- scenarios ------------------------------------------------------------

def sc_flow(sc):
    n = sc.notifier(["db1"])
    a = sc.agent("db1").start()
    a.wait_log(r"notifier: connected to tcp://127\.0\.0\.1:\d+")
    users = ["c1101", "c1102", "c1103"]
    a.append([web_line(u, "c20%s" % u[3:]) for u in users])

    def incidents():
        rows = sc.db("SELECT incident_id, json_extract(actor, '$.user'), "
                     "host FROM incidents WHERE rule = 'e2e-read'")
        return rows if rows is not None and len(rows) == 3 else None
    rows = wait_until(incidents, WAIT, "3 incidents in the store",
                      progress(sc, a))
    check(sorted(r[1] for r in rows) == users,
          "actors %s" % sorted(r[1] for r in rows))
    check(all(r[2] == "db1" for r in rows), "hosts %s" % rows)
    agents = sc.db("SELECT DISTINCT agent FROM revisions")
    check(agents == [("db1",)], "revisions from %s" % agents)
    # The CLI sees what the store has.
    listed = n.ctl_json("incidents")
    ids = sorted(i["id"] for i in listed["incidents"]) \
        if isinstance(listed, dict) else sorted(i["id"] for i in listed)
    check(ids == sorted(r[0] for r in rows), "CLI lists %s" % ids)
    rc, out, err = n.ctl("show", rows[0][0])
    check(rc == 0 and "c20%s" % rows[0][1][3:] in out,
          "show %s: %d %s%s" % (rows[0][0], rc, out, err))
    # A clean stop closes every incident: the closing revisions (2) are
    # spooled and acknowledged before the agent exits.
    status = a.stop()
    check(status == 0, "agent exited %s" % status)
    want = a.spooled()
    check(len(want) == 6, "spooled %s" % sorted(want))
    check_exactly(sc, a, want)
    closed = sc.db("SELECT count(*) FROM incidents WHERE revision = ? "
                   "AND quiet = 1", rev(2))
    check(closed == [(3,)], "closing revisions stored: %s" % closed)
    check(not a.spool_files(), "spool not empty after a clean stop")
    a.wait_log(r"notifier: 6 revisions spooled, 6 sent, 0 sent again, "
               r"6 acknowledged, 0 rejected; 0 pending")
    with open(a.stdout) as f:
        check(f.read() == "", "the agent printed on stdout")


def sc_notifier_kill(sc):
    total = 1200
    n = sc.notifier(["db1"])
    sc.pin_port()
    a = sc.agent("db1").start()
    a.wait_log(r"notifier: connected")
    lines = [web_line("k%05d" % i, "c%d" % (3000 + i)) for i in range(total)]
    t = appender(a, lines, 100, 0.05)
    wait_until(lambda: sc.stored()[1] >= 200, DRAIN,
               "200 revisions stored", progress(sc, a))
    os.kill(n.proc.pid, signal.SIGKILL)
    n.proc.wait(timeout=STOP)
    killed_at = sc.stored()[1]
    sc.say("  notifier killed with %d stored, %d spooled" %
           (killed_at, len(a.spooled())))
    check(killed_at < total, "the stream was over before the kill")
    time.sleep(0.3)
    sc.restart_notifier()
    t.join(timeout=WAIT)
    wait_until(drained(sc, a, total), DRAIN, "the spool to drain",
               progress(sc, a))
    want = a.spooled()
    check(len(want) == total, "the agent spooled %d revisions, not %d" %
          (len(want), total))
    check_exactly(sc, a, want)
    check(not a.quarantined(), "quarantined: %s" % a.quarantined()[:4])
    a.kill()


def sc_agent_kill(sc):
    total = 1000
    sc.notifier(["db1"])
    a = sc.agent("db1").start()
    a.wait_log(r"notifier: connected")
    users = ["a%05d" % i for i in range(total)]
    t = appender(a, [web_line(u, "c%d" % (4000 + i))
                     for i, u in enumerate(users)], 100, 0.05)
    wait_until(lambda: len(a.spooled()) >= 300, DRAIN, "300 spooled",
               progress(sc, a))
    a.kill()
    in_spool = a.spool_files()
    before = a.spooled()
    sc.say("  agent killed with %d spooled, %d in its spool, %d stored %s" %
           (len(before), len(in_spool), sc.stored()[1], sc.db_errors[-3:]))
    check(len(before) < total, "the stream was over before the kill")
    t.join(timeout=WAIT)
    a.start()  # the same spool, positions and config

    def all_incidents():
        rows = sc.db("SELECT json_extract(actor, '$.user') FROM incidents "
                     "WHERE rule = 'e2e-read'")
        return rows is not None and len(rows) >= total and \
            not a.spool_files()
    wait_until(all_incidents, DRAIN, "every incident stored",
               progress(sc, a))
    got, rows = sc.stored()
    check(rows == len(got), "duplicate rows: %d for %d" % (rows, len(got)))
    lost = in_spool - got
    check(not lost, "%d revisions in the killed agent's spool were not "
          "stored: %s" % (len(lost), sorted(lost)[:3]))
    lost = before - got
    check(not lost, "%d revisions spooled before the kill were not "
          "stored: %s" % (len(lost), sorted(lost)[:3]))
    actors = sorted(r[0] for r in sc.db(
        "SELECT json_extract(actor, '$.user') FROM incidents"))
    check(actors == users, "%d incidents for %d principals" %
          (len(actors), len(users)))
    # Lines read again after the kill rebuild their incidents with the
    # second run's revision numbers (no conflict with the first run's):
    # stored are exactly what both runs spooled, one per run at most.
    want = before | in_spool | a.spooled()
    check(got == want, "stored %d revisions, the two runs spooled %d" %
          (len(got), len(want)))
    per_run = {}
    for iid, r in got:
        per_run.setdefault((iid, r // RUN_BLOCK), []).append(r)
    check(all(len(v) == 1 for v in per_run.values()) and
          {k[1] for k in per_run} <= {1, 2},
          "revisions per incident and run: %s" %
          sorted(v for v in per_run.values() if len(v) > 1)[:3])
    check(not a.quarantined(), "quarantined: %s" % a.quarantined()[:4])
    a.kill()


def sc_agent_rerun(sc):
    """Issue 4: a restart rebuilds an incident from re-read lines with the
    same id; its revisions must not reuse the numbers of the first run's
    (the notifier would reject them as conflicts: other contents)."""
    n = sc.notifier(["db1"])
    a = sc.agent("db1", incidents='revision_interval = "1s";').start()
    a.wait_log(r"run 1: revisions numbered from %d" % rev(1))
    a.wait_log(r"notifier: connected")
    positions = os.path.join(a.state, "positions")
    wait_until(lambda: os.path.exists(positions), WAIT,
               "the first read positions")
    with open(positions, "rb") as f:
        saved = f.read()  # before any line: the log is empty
    # Every line at one time stamp: the first run makes a revision per
    # line (the idle clock passes the 1 s interval between appends); a
    # run reading them all at once makes fewer, with other contents.
    stamp = clf_now()
    customers = ["c9101", "c9102", "c9103"]
    iid = None
    for i, c in enumerate(customers):
        a.append([web_line("rr1", c, stamp=stamp)])

        def stored_rev(k=i + 1):
            rows = sc.db("SELECT incident_id FROM revisions WHERE "
                         "revision = ?", rev(k))
            return rows[0][0] if rows else None
        iid = wait_until(stored_rev, WAIT, "revision %d stored" % rev(i + 1),
                         progress(sc, a))
    first_run = a.spooled()
    check(len(first_run) == 3 and all(r[0] == iid for r in first_run),
          "first run spooled %s" % sorted(first_run))
    a.kill()
    # The crash came before a checkpoint covered the lines: the positions
    # are those saved before them (rewound here, the agent being dead, as
    # a kill within the checkpoint interval would have left them).
    with open(positions, "wb") as f:
        f.write(saved)
    a.start()
    a.wait_log(r"run 2: revisions numbered from %d" % rev(1, 2))
    # A customer only the second run sees.
    a.append([web_line("rr1", "c9104", stamp=stamp)])
    customers.append("c9104")

    def all_customers():
        rows = sc.db("SELECT customer_id FROM customers WHERE "
                     "incident_id = ?", iid)
        return rows is not None and sorted(r[0] for r in rows) == customers
    wait_until(all_customers, WAIT, "the second run's customer stored",
               progress(sc, a))
    check(a.stop() == 0, "agent stop")
    second_run = a.spooled()
    check(second_run and all(r[0] == iid and r[1] > rev(RUN_BLOCK - 1)
                             for r in second_run),
          "second run spooled %s" % sorted(second_run))
    got, rows = sc.stored()
    check(rows == len(got), "duplicate rows")
    check(got == first_run | second_run,
          "stored %s, spooled %s then %s" % (sorted(got), sorted(first_run),
                                             sorted(second_run)))
    top = max(r[1] for r in second_run)
    cur = sc.db("SELECT revision, i.quiet, json_array_length(json, "
                "'$.affected_customers') FROM incidents i JOIN revisions "
                "USING (incident_id, revision) WHERE incident_id = ?", iid)
    check(cur == [(top, 1, 4)], "current revision (number, closed, "
          "customers): %s, want (%d, 1, 4)" % (cur, top))
    check(not a.quarantined(), "quarantined: %s" % a.quarantined()[:4])
    for line in a.log_lines():
        check("rejected revision" not in line, "agent: %s" % line)
    rc, out, err = n.ctl("show", iid)
    check(rc == 0 and str(top) in out and "c9104" in out,
          "show %s: %d %s%s" % (iid, rc, out, err))
    check(n.stop() == 0, "notifier stop")
    n.wait_log(r"counters .*\(malformed 0, mismatch 0, host 0, conflict 0,")
    with open(os.path.join(a.state, "run")) as f:
        check(f.read() == "2\n", "the run file after two runs")


def sc_outage(sc):
    total = 200
    n = sc.notifier(["db1"])
    sc.pin_port()
    check(n.stop() == 0, "notifier stop")
    a = sc.agent("db1").start()
    a.append([web_line("o%04d" % i, "c%d" % (5000 + i))
              for i in range(total)])
    wait_until(lambda: len(a.spool_files()) == total, DRAIN,
               "%d revisions in the spool" % total, progress(sc, a))
    # A while without the notifier: the agent keeps them.
    time.sleep(1.0)
    check(len(a.spool_files()) == total, "the spool lost revisions")
    check(not any("connected to" in l for l in a.log_lines()),
          "connected to a notifier that is down")
    sc.restart_notifier()
    a.wait_log(r"notifier: connected", DRAIN)
    wait_until(drained(sc, a, total), DRAIN, "the spool to drain",
               progress(sc, a))
    check_exactly(sc, a, a.spooled())
    a.kill()


def sc_unknown_key(sc):
    n = sc.notifier(["db1"])
    stranger_pub = keygen(sc.cli, os.path.join(sc.tmp, "stranger"))
    a = sc.agent("stranger").start()
    a.append([web_line("u%d" % i, "c%d" % (6000 + i)) for i in range(5)])
    n.wait_log(r"refused a peer from 127\.0\.0\.1 .*%s" %
               re.escape(z85_of(stranger_pub)), WAIT)
    a.wait_log(r"refused this agent's key \(ZAP status 400\)")
    wait_until(lambda: len(a.spool_files()) == 5, WAIT,
               "5 revisions in the spool", progress(sc, a))
    time.sleep(0.5)
    check(sc.stored()[1] == 0, "the store took revisions of a stranger")
    check(len(a.spool_files()) == 5, "the refused agent lost revisions")
    # Once authorised (and the notifier told), what it kept is delivered.
    with open(os.path.join(sc.tmp, "db1.pub")) as f:
        db1_pub = f.read()
    n.write_agents([db1_pub, stranger_pub])
    n.send_signal(signal.SIGHUP)
    n.wait_log(r"reloaded .*: 2 agents authorised")
    wait_until(drained(sc, a, 5), DRAIN, "the spool to drain",
               progress(sc, a))
    check_exactly(sc, a, a.spooled())
    a.kill()


def sc_spool_full(sc):
    """The spool takes 5 revisions, memory holds 10 more (newest per
    incident), then the inputs pause; when the notifier comes back every
    incident gets through, a superseded revision never does, and the
    closing revisions of a stop arrive too."""
    n = sc.notifier(["db1"])
    sc.pin_port()
    check(n.stop() == 0, "notifier stop")
    a = sc.agent("db1", incidents='revision_interval = "1s";',
                 notifier="spool_max_revisions = 5; "
                 "held_max_revisions = 10;").start()
    users = ["f%02d" % i for i in range(30)]
    line = {u: web_line(u, "c%d" % (9000 + i)) for i, u in enumerate(users)}
    a.append([line[u] for u in users[:8]])
    a.wait_log(r"spool full: 5 revisions, .*; held in memory until the "
               r"notifier's acknowledgements make room \(1 held\)")
    wait_until(lambda: len(a.spooled()) == 5, WAIT, "5 spooled",
               progress(sc, a))
    # f06 is held (revision 1); a second line of it makes revision 2 (a
    # revision interval later), which replaces the held one.
    a.append([web_line("f06", "c9999")])
    a.wait_log(r"holding revision %d of bw-[0-9a-f]+ in memory \(replaces "
               r"revision %d\)" % (rev(2), rev(1)))
    a.append([line[u] for u in users[8:]])
    # At the bound (or past it by the lines of the read in progress).
    m = a.wait_log(r"inputs paused: the spool is full and (\d+) revisions")
    check(int(m.group(1)) >= 10, "paused at %s held" % m.group(1))
    spooled_while_paused = a.spooled()
    time.sleep(0.5)
    check(a.spooled() == spooled_while_paused and
          len(a.spool_files()) == 5, "the agent went on while paused")
    sc.restart_notifier()
    a.wait_log(r"inputs resumed")
    a.wait_log(r"every held revision is spooled now", DRAIN)

    def all_in():
        rows = sc.db("SELECT count(*) FROM incidents")
        return rows == [(len(users),)] and not a.spool_files()
    wait_until(all_in, DRAIN, "every incident stored", progress(sc, a))
    got, rows = sc.stored()
    check(rows == len(got), "duplicate rows")
    f06 = sc.db("SELECT incident_id FROM incidents WHERE "
                "json_extract(actor, '$.user') = 'f06'")[0][0]
    check((f06, rev(2)) in got and (f06, rev(1)) not in got,
          "f06: revision 2 stored, the superseded 1 not: %s" %
          sorted(r for r in got if r[0] == f06))
    check(got == a.spooled(), "stored and spooled differ")
    # A stop closes all 30: the closing revisions reach the store.
    check(a.stop() == 0, "agent stop")
    closed = sc.db("SELECT count(*) FROM incidents WHERE quiet = 1")
    check(closed == [(len(users),)], "closed in the store: %s" % closed)
    a.wait_log(r"spool: refused \d+ times at its bound, 0 I/O errors; "
               r"(\d+) revisions held in memory \(1 superseded by newer "
               r"ones, \d+ spooled later\), 0 lost")
    check(not any("LOST" in l for l in a.log_lines()), "LOST in the log")


def report_json(n, iid):
    rc, out, err = n.ctl("report", iid, "--format", "json")
    check(rc == 0, "report %s: %d %s" % (iid, rc, err))
    return json.loads(out), out


def report_md(n, iid):
    rc, out, err = n.ctl("report", iid, "--format", "md")
    check(rc == 0, "report %s: %d %s" % (iid, rc, err))
    return out


def step_rows(sc, iid):
    return sc.db("SELECT action, status, started_us, finished_us, detail, "
                 "origin FROM steps WHERE incident_id = ? ORDER BY id", iid)


def find_steps(report):
    """The containment steps of a JSON report, wherever they are."""
    for key in ("containment", "steps", "remedial_action"):
        v = report.get(key)
        if isinstance(v, list):
            return v
        if isinstance(v, dict):
            for k2 in ("steps", "containment"):
                if isinstance(v.get(k2), list):
                    return v[k2]
    raise Failure("no steps in the report: %s" % sorted(report))


def sc_hang(sc):
    n = sc.notifier(["db1"])
    a = sc.agent("db1").start()
    a.append([web_line("h1", "c7001", "messages")])

    def timed_out():
        rows = sc.db("SELECT incident_id FROM steps WHERE action = 'hang' "
                     "AND status = 'timeout'")
        return rows[0][0] if rows else None
    iid = wait_until(timed_out, WAIT, "a step with status timeout",
                     progress(sc, a))
    rows = step_rows(sc, iid)
    check(len(rows) == 1, "steps %s" % rows)
    action, status, started, finished, detail, origin = rows[0]
    check(origin == "agent", "origin %s" % origin)
    took = (finished - started) / 1e6
    check(0.9 <= took < 3.0, "the hanging action ran %.2f s, timeout 1 s"
          % took)
    check("timeout after 1 s" in detail, "detail %r" % detail)
    rep, text = report_json(n, iid)
    steps = find_steps(rep)
    check(len(steps) == 1 and steps[0].get("status") == "timeout" and
          steps[0].get("action") == "hang",
          "report steps %s" % json.dumps(steps))
    md = report_md(n, iid)
    check("hang" in md and "timeout" in md, "md report:\n%s" % md)
    a.kill()


def sc_report(sc):
    n = sc.notifier(["db1"])
    a = sc.agent("db1", incidents='quiet_period = "2s";').start()
    a.append([web_line("s1", "c8001", "messages")])

    def closed():
        rows = sc.db("SELECT incident_id FROM incidents WHERE "
                     "rule = 'e2e-steps' AND quiet = 1")
        return rows[0][0] if rows else None
    iid = wait_until(closed, WAIT + 5, "the agent's closing revision",
                     progress(sc, a))
    rows = step_rows(sc, iid)
    got = sorted((r[0], r[1]) for r in rows)
    check(got == [("broken", "failed"), ("hang", "timeout"),
                  ("quick", "ok")], "agent steps %s" % got)
    rc, out, err = n.ctl("contain", iid, "--note",
                         "blocked 127.0.0.69 at the edge firewall")
    check(rc == 0, "contain: %d %s%s" % (rc, out, err))
    rc, out, err = n.ctl("close", iid, "--resolution",
                         "scraper blocked, key revoked")
    check(rc == 0, "close: %d %s%s" % (rc, out, err))
    rep, text = report_json(n, iid)
    steps = find_steps(rep)
    check(len(steps) == 4, "report has %d steps: %s" %
          (len(steps), json.dumps(steps)))
    by_action = {s.get("action"): s for s in steps}
    for action, status in (("quick", "ok"), ("broken", "failed"),
                           ("hang", "timeout")):
        check(by_action.get(action, {}).get("status") == status,
              "step %s in the report: %s" % (action, by_action.get(action)))
    check("blocked 127.0.0.69 at the edge firewall" in text,
          "the operator's step is not in the JSON report")
    check("scraper blocked, key revoked" in text,
          "the resolution is not in the JSON report")
    md = report_md(n, iid)
    for want in ("quick", "broken", "hang", "ok", "failed", "timeout",
                 "blocked 127.0.0.69 at the edge firewall",
                 "scraper blocked, key revoked"):
        check(want in md, "%r not in the Markdown report:\n%s" % (want, md))
    a.kill()


SCENARIOS = {
    "flow": sc_flow,
    "notifier_kill": sc_notifier_kill,
    "agent_kill": sc_agent_kill,
    "agent_rerun": sc_agent_rerun,
    "outage": sc_outage,
    "spool_full": sc_spool_full,
    "unknown_key": sc_unknown_key,
    "hang": sc_hang,
    "report": sc_report,
}


def run_one(name, bins):
    out = []
    tmp = tempfile.mkdtemp(prefix="bw-e2e-%s-" % name)
    sc = Scenario(bins, tmp, out.append)
    t0 = time.monotonic()
    ok = False
    try:
        SCENARIOS[name](sc)
        ok = True
    except Failure as e:
        out.append("  FAIL: %s" % e)
        sc.dump()
    except Exception:  # a bug in the test: say where
        out.append("  ERROR:\n" + traceback.format_exc())
        sc.dump()
    finally:
        sc.cleanup()
        shutil.rmtree(tmp, ignore_errors=True)
    head = "%s %s (%.1f s)" % ("ok  " if ok else "FAIL", name,
                               time.monotonic() - t0)
    return ok, "\n".join([head] + out)


def main(argv):
    jobs = 4
    args = argv[1:]
    if len(args) >= 2 and args[0] == "-j":
        jobs = int(args[1])
        args = args[2:]
    if len(args) < 4:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    bins = tuple(os.path.abspath(p) for p in args[:4])
    names = args[4:] or list(SCENARIOS)
    unknown = [n for n in names if n not in SCENARIOS]
    if unknown:
        print("unknown scenarios: %s" % ", ".join(unknown), file=sys.stderr)
        return 2
    failed = 0
    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as ex:
        futs = [ex.submit(run_one, n, bins) for n in names]
        for f in futs:
            ok, text = f.result()
            print(text, flush=True)
            failed += not ok
    print("%d of %d scenarios passed" % (len(names) - failed, len(names)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
