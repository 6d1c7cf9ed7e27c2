#!/usr/bin/python3
"""live_test.py - the agent's live mode, end to end, with the real agent.

    live_test.py [-j JOBS] AGENT SOURCE_DIR [SCENARIO...]

Each scenario gets its own temporary directory (logs/, state/, agent.conf
including SOURCE_DIR/tests/replay/site.conf), starts AGENT in live mode
with the shipped rules (--rules SOURCE_DIR/rules/sets), writes to the
followed files the way nginx, logrotate and friends do, and checks what the
agent prints: incident revisions on stdout (one JSON object per line),
warnings and notices on stderr. The agent is stopped by its PID with
SIGTERM; a clean stop prints the last revision (closed) of every incident,
a summary line per input, and writes state/positions.

How lines are told apart: every web line is one request by a customer's
principal (c11xx..) for another customer's contact list (c2xxx), which the
shipped rule web-customer-data-mismatch reports, one incident per
principal. A principal is used for one purpose only, so an incident's
affected customers say exactly which lines were read, and its event_count
says how often: a line read twice counts twice. The line format is that of
the recorded case tests/replay/cases/web-bulk-read-idor/access.log, with
the time stamp of now (the aggregator runs on event time and live mode
ticks on the wall clock when idle, so stamps older than the quiet period
would close incidents at once).

Every wait is bounded (the agent's output is read by threads, and waits
poll it with a deadline); the agent is killed in a finally block whatever
happens. With no SCENARIO, every scenario runs, JOBS (default 3) at a
time (an agent under ASan takes seconds to start; the waits are bounded
generously for that). Exit status 0 when all pass, 1 when one fails, 2 on
a usage error.

Stdlib only; run it with /usr/bin/python3.
"""
import concurrent.futures
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

# Bounds of the waits, generous: a test that passes waits for events, not
# for these. An ASan build takes seconds to start (or reload), more on a
# busy machine.
START_TIMEOUT = 30.0  # the agent follows its inputs; a reload is done
EVENT_TIMEOUT = 10.0  # a line appended shows up as an incident (at once)
ROTATE_TIMEOUT = 12.0  # rotate_wait (2 s) + a tick + slack
STOP_TIMEOUT = 10.0  # SIGTERM to exit
START_SIGNAL_CPU_MS = 150  # see signal_while_starting
QUIET = 1.5  # "nothing happens": longer than the agent's 1 s tick

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep",
          "Oct", "Nov", "Dec")
MISMATCH = "web-customer-data-mismatch"


class Failure(Exception):
    """A check failed."""


def check(cond, msg):
    if not cond:
        raise Failure(msg)


def clf_now(ago=0):
    t = time.gmtime(time.time() - ago)
    return "%02d/%s/%04d:%02d:%02d:%02d +0000" % (
        t.tm_mday, MONTHS[t.tm_mon - 1], t.tm_year, t.tm_hour, t.tm_min,
        t.tm_sec)


def web_line(principal, customer, ip="127.0.0.69",
             resource=None, status=200, ago=0):
    """One nginx combined line (no newline): principal reads customer's
    contact list, or GETs resource; stamped now, or ago seconds ago."""
    if resource is None:
        resource = f"/api/v1/customers/{customer}/contacts"
    return (f'{ip} - {principal} [{clf_now(ago)}] "GET {resource} HTTP/1.1" '
            f'{status} 203 "-" "python-requests/2.31.0"')


def append(path, text, mode="a"):
    with open(path, mode, encoding="utf-8", newline="") as f:
        f.write(text)


def append_lines(path, lines):
    append(path, "".join(line + "\n" for line in lines))


def user_of(inc):
    return (inc.get("actor") or {}).get("user")


def ip_of(inc):
    return (inc.get("actor") or {}).get("ip")


class Agent:
    """The agent as a child process; its stdout and stderr are read by two
    threads into lists that the wait_* methods poll with a deadline."""

    def __init__(self, binary, conf, rules, log):
        self.binary = binary
        self.conf = conf
        self.rules = rules
        self.log = log  # where to tell the story on failure
        self.proc = None
        self.lock = threading.Lock()
        self.revisions = []  # parsed JSON objects, in order
        self.bad_stdout = []  # lines that were not JSON objects
        self.stderr = []
        self.threads = []
        self.status = None

    def spawn(self):
        argv = [self.binary, "--config", self.conf]
        for r in self.rules:
            argv += ["--rules", r]
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)
        self.threads = [
            threading.Thread(target=self._read, args=(self.proc.stdout, True),
                             daemon=True),
            threading.Thread(target=self._read, args=(self.proc.stderr, False),
                             daemon=True),
        ]
        for t in self.threads:
            t.start()

    def wait_ready(self):
        return self.wait_stderr(r"following \d+ inputs with \d+ rules",
                                START_TIMEOUT, "the agent to start")

    def _read(self, stream, is_stdout):
        for raw in iter(stream.readline, b""):
            text = raw.decode("utf-8", "replace").rstrip("\n")
            with self.lock:
                if not is_stdout:
                    self.stderr.append(text)
                    continue
                try:
                    obj = json.loads(text)
                except ValueError:
                    obj = None
                if isinstance(obj, dict):
                    self.revisions.append(obj)
                else:
                    self.bad_stdout.append(text)
        stream.close()

    def _wait(self, pred, timeout, what):
        deadline = time.monotonic() + timeout
        while True:
            with self.lock:
                got = pred()
            if got:
                return got
            if time.monotonic() >= deadline:
                raise Failure(f"timed out after {timeout} s waiting for "
                              f"{what}")
            if self.proc.poll() is not None:
                # Let the readers drain what the agent said last.
                for t in self.threads:
                    t.join(timeout=1.0)
                with self.lock:
                    got = pred()
                if got:
                    return got
                raise Failure(f"the agent exited ({self.proc.returncode}) "
                              f"while waiting for {what}")
            time.sleep(0.05)

    def wait_stderr(self, pattern, timeout=EVENT_TIMEOUT, what=None):
        rx = re.compile(pattern)

        def pred():
            return next((l for l in self.stderr if rx.search(l)), None)
        return self._wait(pred, timeout, what or f"stderr /{pattern}/")

    def wait_incident(self, pred, timeout=EVENT_TIMEOUT, what="an incident"):
        return self._wait(
            lambda: next((r for r in self.revisions if pred(r)), None),
            timeout, what)

    def wait_user(self, user, timeout=EVENT_TIMEOUT):
        return self.wait_incident(
            lambda r: r.get("rule") == MISMATCH and user_of(r) == user,
            timeout, f"an incident of {MISMATCH} for {user}")

    def snapshot(self):
        with self.lock:
            return list(self.revisions), list(self.stderr)

    def stop(self, sig=signal.SIGTERM):
        """Signal the agent by its PID, wait for it (bounded), and return
        its exit status; the readers are joined so that every line it wrote
        is in."""
        # Our child, not reaped yet (poll() reaps): its PID is its own.
        check(self.proc.poll() is None,
              f"the agent exited early ({self.proc.returncode})")
        os.kill(self.proc.pid, sig)
        try:
            self.status = self.proc.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            raise Failure(f"the agent did not stop within {STOP_TIMEOUT} s "
                          f"of signal {sig}")
        for t in self.threads:
            t.join(timeout=5.0)
        return self.status

    def stop_clean(self):
        self.stop()
        self.check_clean()

    def stop_clean_after_signal(self):
        """The agent was signalled already: wait for its exit (bounded)."""
        try:
            self.status = self.proc.wait(timeout=STOP_TIMEOUT + START_TIMEOUT)
        except subprocess.TimeoutExpired:
            raise Failure("the agent did not stop after its signal")
        for t in self.threads:
            t.join(timeout=5.0)
        self.check_clean()

    def check_clean(self):
        status = self.status
        check(status == 0, f"the agent exited with status {status} after "
              f"SIGTERM, not 0")
        with self.lock:
            check(not self.bad_stdout,
                  f"stdout lines that are not JSON objects: "
                  f"{self.bad_stdout[:3]}")

    def kill(self):
        """The last resort, for the finally block: SIGKILL if still up."""
        if self.proc is None or self.proc.poll() is not None:
            return
        try:
            os.kill(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        try:
            self.proc.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            pass

    def dump(self):
        revs, err = self.snapshot()
        self.log(f"  --- agent stderr ({len(err)} lines)")
        for l in err:
            self.log("  | " + l)
        self.log(f"  --- agent stdout ({len(revs)} revisions)")
        for r in revs:
            self.log("  | " + json.dumps(
                {k: r.get(k) for k in ("rule", "revision", "closed", "actor",
                                       "affected_customers", "event_count")}))
            for e in r.get("evidence", []):
                self.log("  |     " + str(e.get("ref")))


def final_incidents(agent):
    """The last revision of each incident (by id). After a clean stop each
    must be closed."""
    last = {}
    for r in agent.snapshot()[0]:
        prev = last.get(r["id"])
        if prev is None or r["revision"] > prev["revision"]:
            last[r["id"]] = r
    for r in last.values():
        check(r.get("closed") is True,
              f"incident {r['id']} ({r['rule']}) has no closing revision "
              f"after SIGTERM")
    return list(last.values())


def one_for_user(incs, user):
    found = [i for i in incs if i["rule"] == MISMATCH and user_of(i) == user]
    check(len(found) == 1,
          f"want one {MISMATCH} incident for {user}, got {len(found)}")
    return found[0]


def check_read(incs, user, customers, refs=None):
    """user's incident stands for exactly these lines, each read once."""
    inc = one_for_user(incs, user)
    got = sorted(inc.get("affected_customers", []))
    check(got == sorted(customers),
          f"{user}: affected customers {got}, want {sorted(customers)} "
          f"(lines read)")
    check(inc.get("event_count") == len(customers),
          f"{user}: event_count {inc.get('event_count')}, want "
          f"{len(customers)} (a line read twice counts twice)")
    if refs is not None:
        got_refs = [e.get("ref") for e in inc.get("evidence", [])]
        check(got_refs == refs, f"{user}: evidence refs {got_refs}, want "
              f"{refs}")
    return inc


def check_not_read(incs, users):
    for u in users:
        check(not any(user_of(i) == u for i in incs),
              f"lines of {u} were read but should not have been")


def summary_line(agent, path):
    """The agent's summary numbers for input path, logged at its stop."""
    rx = re.compile(r":" + re.escape(path) + r": (\d+) lines, (\d+) events, "
                    r"(\d+) ignored, (\d+) rejected, (\d+) cut; (\d+) "
                    r"rotations, (\d+) truncations$")
    for l in agent.snapshot()[1]:
        m = rx.search(l)
        if m:
            keys = ("lines", "events", "ignored", "rejected", "cut",
                    "rotations", "truncations")
            return dict(zip(keys, map(int, m.groups())))
    raise Failure(f"no summary line for {path} on stderr")


class Scenario:
    """A temporary directory with logs/, state/ and agent.conf, and the
    agents started in it (killed at the end, whatever happens)."""

    def __init__(self, name, binary, srcdir, log):
        self.name = name
        self.binary = binary
        self.srcdir = srcdir
        self.log = log
        self.dir = tempfile.mkdtemp(prefix=f"bw-live-{name}-")
        self.logs = os.path.join(self.dir, "logs")
        self.state = os.path.join(self.dir, "state")
        os.mkdir(self.logs)
        self.agents = []

    def path(self, name):
        return os.path.join(self.logs, name)

    def write_conf(self, inputs):
        """inputs: (type, file name in logs/, extra keys text)."""
        site = os.path.join(self.srcdir, "tests", "replay", "site.conf")
        # libconfig 1.5 (Debian 12) puts its include dir in front of every
        # @include path, an absolute one too: name it relative to here.
        site_rel = os.path.relpath(site, self.dir)
        items = ",\n".join(
            f'  {{ type = "{t}"; path = "{self.path(p)}"; {x} }}'
            for t, p, x in inputs)
        conf = os.path.join(self.dir, "agent.conf")
        append(conf, f'@include "{site_rel}"\n'
               f'agent = {{ name = "live-test"; '
               f'state_dir = "{self.state}"; }};\n'
               f'inputs = (\n{items}\n);\n', mode="w")
        return conf

    def agent(self, conf, extra_rules=(), ready=True):
        """Start an agent; with ready, wait until it follows its inputs."""
        rules = [os.path.join(self.srcdir, "rules", "sets"), *extra_rules]
        a = Agent(self.binary, conf, rules, self.log)
        self.agents.append(a)
        a.spawn()
        if ready:
            a.wait_ready()
        return a

    def cleanup(self, ok):
        for a in self.agents:
            a.kill()
        if ok:
            shutil.rmtree(self.dir, ignore_errors=True)
        else:
            self.log(f"  (kept {self.dir})")


# --- scenarios ------------------------------------------------------------
#
# Principals: c11SN, S the scenario, N the purpose; customers: c2xxx.


def sc_start_end(s):
    """start = "end" (default): lines already there are skipped, lines
    appended after the start are read at once."""
    log = s.path("access.log")
    append_lines(log, [web_line("c1101", "c2001"), web_line("c1101", "c2002")])
    # Ends in a partial line: "end" means after the last complete line,
    # so the line being written is read whole once its newline comes.
    partial = web_line("c1103", "c2005")
    append(log, partial[:40])
    a = s.agent(s.write_conf([("nginx", "access.log", "")]))
    append(log, partial[40:] + "\n")
    append_lines(log, [web_line("c1102", "c2003"), web_line("c1102", "c2004")])
    a.wait_user("c1102")
    a.wait_user("c1103")
    a.stop_clean()
    incs = final_incidents(a)
    check_read(incs, "c1102", ["c2003", "c2004"],
               refs=[f"{log}:4", f"{log}:5"])
    check_read(incs, "c1103", ["c2005"], refs=[f"{log}:3"])
    check_not_read(incs, ["c1101"])
    check(summary_line(a, log)["lines"] == 3,
          "the agent should have read 3 lines")


def sc_start_beginning(s):
    """start = "beginning": the lines already there are read too."""
    log = s.path("access.log")
    append_lines(log, [web_line("c1111", "c2001"), web_line("c1111", "c2002")])
    a = s.agent(s.write_conf([("nginx", "access.log",
                               'start = "beginning";')]))
    a.wait_user("c1111")
    append_lines(log, [web_line("c1112", "c2003")])
    a.wait_user("c1112")
    a.stop_clean()
    incs = final_incidents(a)
    check_read(incs, "c1111", ["c2001", "c2002"],
               refs=[f"{log}:1", f"{log}:2"])
    check_read(incs, "c1112", ["c2003"], refs=[f"{log}:3"])


def sc_partial_line(s):
    """A line without its newline yet is not parsed, however long the
    writer takes; its newline makes it whole."""
    log = s.path("access.log")
    append(log, "")
    a = s.agent(s.write_conf([("nginx", "access.log", "")]))
    line = web_line("c1121", "c2001")
    # Cut inside the user agent: the first part alone is a line the nginx
    # parser would refuse (a warning) or misread (an incident).
    cut = line.index("python-requests")
    append(log, line[:cut])
    time.sleep(QUIET)
    append(log, line[cut:cut + 5])
    time.sleep(QUIET)
    revs, err = a.snapshot()
    check(not revs, f"a partial line gave {len(revs)} revisions")
    check(not any("rejected" in l for l in err),
          "a partial line was parsed (and rejected)")
    append(log, line[cut + 5:] + "\n")
    inc = a.wait_user("c1121")
    ev = inc["evidence"]
    check(len(ev) == 1 and ev[0].get("excerpt") == line
          and ev[0].get("ref") == f"{log}:1",
          f"the completed line should be the evidence, whole, as {log}:1; "
          f"got {ev}")
    a.stop_clean()
    check_read(final_incidents(a), "c1121", ["c2001"])


def sc_rotate_create(s):
    """logrotate create: access.log renamed to access.log.1, then a new
    access.log. The old file is read on while no new file exists, and for
    2 s after its last data once one does (a late writer, its unterminated
    last line); then the new file from its start; nothing twice."""
    log = s.path("access.log")
    old = s.path("access.log.1")
    append(log, "")
    a = s.agent(s.write_conf([("nginx", "access.log", "")]))
    append_lines(log, [web_line("c1131", "c2001"), web_line("c1131", "c2002")])
    a.wait_user("c1131")
    os.rename(log, old)
    append_lines(old, [web_line("c1132", "c2003")])  # no new file yet
    a.wait_user("c1132")
    append(log, "", mode="w")  # the new file
    append_lines(log, [web_line("c1133", "c2011"), web_line("c1133", "c2012")])
    # The agent has seen the new file (inotify wakes it at once) and
    # waits for writers of the old one to be done.
    time.sleep(0.5)
    append_lines(old, [web_line("c1132", "c2004")])  # a late writer
    time.sleep(0.5)
    append(old, web_line("c1132", "c2005"))  # no newline: the file's end
    a.wait_user("c1133", timeout=ROTATE_TIMEOUT)
    a.wait_stderr(re.escape(log) + ": rotated", timeout=1.0)
    # After the switch: c2013 is read in before the stop because the line
    # after it, a new principal's, shows up.
    append_lines(log, [web_line("c1133", "c2013"), web_line("c1134", "c2021")])
    a.wait_user("c1134")
    a.stop_clean()
    incs = final_incidents(a)
    check_read(incs, "c1131", ["c2001", "c2002"])
    check_read(incs, "c1132", ["c2003", "c2004", "c2005"],
               refs=[f"{log}:3", f"{log}:4", f"{log}:5"])
    check_read(incs, "c1133", ["c2011", "c2012", "c2013"],
               refs=[f"{log}:1", f"{log}:2", f"{log}:3"])
    check_read(incs, "c1134", ["c2021"], refs=[f"{log}:4"])
    sm = summary_line(a, log)
    check(sm["lines"] == 9 and sm["rotations"] == 1,
          f"summary {sm}: want 9 lines, 1 rotation")


def sc_copytruncate(s):
    """logrotate copytruncate: the file is copied, truncated in place and
    written again: the new lines are read, from line 1."""
    log = s.path("access.log")
    append(log, "")
    a = s.agent(s.write_conf([("nginx", "access.log", "")]))
    append_lines(log, [web_line("c1141", f"c200{i}") for i in range(1, 5)])
    a.wait_user("c1141")
    shutil.copyfile(log, s.path("access.log.1"))
    with open(log, "r+", encoding="utf-8") as f:
        f.truncate(0)
    append_lines(log, [web_line("c1142", "c2011")])
    a.wait_user("c1142")
    a.wait_stderr(re.escape(log) + ": truncated", timeout=1.0)
    a.stop_clean()
    incs = final_incidents(a)
    check_read(incs, "c1141", ["c2001", "c2002", "c2003", "c2004"])
    check_read(incs, "c1142", ["c2011"], refs=[f"{log}:1"])
    sm = summary_line(a, log)
    check(sm["lines"] == 5 and sm["truncations"] == 1,
          f"summary {sm}: want 5 lines, 1 truncation")


def sc_appears_later(s):
    """A file missing at the start is followed once it appears, from its
    start (whatever start says)."""
    log = s.path("later.log")
    a = s.agent(s.write_conf([("nginx", "later.log", "")]))
    a.wait_stderr(re.escape(log) + ": missing", timeout=1.0)
    append_lines(log, [web_line("c1151", "c2001"), web_line("c1151", "c2002")])
    a.wait_user("c1151")
    append_lines(log, [web_line("c1152", "c2003")])
    a.wait_user("c1152")
    a.stop_clean()
    incs = final_incidents(a)
    check_read(incs, "c1151", ["c2001", "c2002"],
               refs=[f"{log}:1", f"{log}:2"])
    check_read(incs, "c1152", ["c2003"], refs=[f"{log}:3"])


def read_positions(path):
    with open(path, encoding="utf-8") as f:
        lines = f.read().splitlines()
    check(lines and lines[0] == "breachwatch-positions 1",
          f"{path}: bad first line {lines[:1]}")
    return {urllib.parse.unquote(l.split(" ")[0]):
            [int(x) for x in l.split(" ")[1:]] for l in lines[1:]}


def sc_restart(s):
    """A restart resumes at the checkpoint (state/positions): lines
    written while the agent was down are read once, lines read before are
    not read again, and a line partial at the stop is read whole. The file
    name has a space and a %, which the positions file escapes."""
    log = s.path("access 100%.log")
    append(log, "")
    conf = s.write_conf([("nginx", "access 100%.log", "")])
    a = s.agent(conf)
    first = [web_line("c1161", "c2001"), web_line("c1161", "c2002")]
    append_lines(log, first)
    a.wait_user("c1161")
    partial = web_line("c1163", "c2005")
    append(log, partial[:50])
    time.sleep(0.3)  # let the agent hold it
    a.stop_clean()
    check_read(final_incidents(a), "c1161", ["c2001", "c2002"])
    sm = summary_line(a, log)
    check(sm["lines"] == 2, f"first run summary {sm}: want 2 lines")
    pos = read_positions(os.path.join(s.state, "positions"))
    st = os.stat(log)
    want = [st.st_dev, st.st_ino, sum(len(l) + 1 for l in first), 2]
    check(pos.get(log) == want,
          f"positions for {log}: {pos.get(log)}, want {want} "
          f"(dev ino offset lineno, the partial line not counted)")

    # Down: the partial line is finished, more lines come.
    append(log, partial[50:] + "\n")
    append_lines(log, [web_line("c1162", "c2003"), web_line("c1162", "c2004"),
                       web_line("c1161", "c2009")])
    b = s.agent(conf)
    b.wait_stderr(re.escape(log) + ": resumed at the saved position",
                  timeout=1.0)
    b.wait_user("c1162")
    b.wait_user("c1163")
    b.wait_user("c1161")
    b.stop_clean()
    incs = final_incidents(b)
    check_read(incs, "c1163", ["c2005"], refs=[f"{log}:3"])
    check(one_for_user(incs, "c1163")["evidence"][0]["excerpt"] == partial,
          "the line partial at the stop was not read whole")
    check_read(incs, "c1162", ["c2003", "c2004"],
               refs=[f"{log}:4", f"{log}:5"])
    check_read(incs, "c1161", ["c2009"], refs=[f"{log}:6"])
    sm = summary_line(b, log)
    check(sm["lines"] == 4, f"second run summary {sm}: want 4 lines")


def sc_restart_backlog(s):
    """After a long stop, the lines written meanwhile (stamped an hour ago;
    over 2.5 MiB, more than the agent reads before its first tick: 1 MiB
    per file and call) are read once each and detected as if read live:
    no window expired and no incident closed by the wall clock while the
    backlog is being read."""
    log = s.path("access.log")
    append(log, "")
    conf = s.write_conf([("nginx", "access.log", "")])
    a = s.agent(conf)
    append_lines(log, [web_line("c1165", "c2001")])
    a.wait_user("c1165")
    a.stop_clean()

    hour = 3600
    guess = ('127.0.0.67 - c1004 [%s] "GET /api/v1/session HTTP/1.1" 401 '
             '172 "-" "Mozilla/4.0 (Hydra)"' % clf_now(hour))
    filler = [web_line("-", None, ip="127.0.0.30", ago=hour,
                       resource=f"/static/app.js?v={i}") for i in range(24000)]
    down = ([guess] * 10 + [web_line("c1166", "c2011", ago=hour)] + filler +
            [guess] * 10 + [web_line("c1166", "c2012", ago=hour)] +
            [web_line("c1167", "c2021")])
    append_lines(log, down)
    check(os.path.getsize(log) > 5 << 19, "the backlog is too small")
    b = s.agent(conf)
    b.wait_user("c1167", timeout=START_TIMEOUT)
    b.stop_clean()
    incs = final_incidents(b)
    bf = [i for i in incs if i["rule"] == "web-brute-force"]
    check(len(bf) == 1 and bf[0].get("event_count") == 20,
          f"20 failed logins within a minute, split by the backlog: want "
          f"one web-brute-force incident of 20 events, got "
          f"{[(i['rule'], i.get('event_count')) for i in bf]}")
    check_read(incs, "c1166", ["c2011", "c2012"])
    check_read(incs, "c1167", ["c2021"], refs=[f"{log}:{len(down) + 1}"])
    check_not_read(incs, ["c1165"])
    sm = summary_line(b, log)
    check(sm["lines"] == len(down),
          f"summary {sm}: want {len(down)} lines")


def sc_lagging_bursts(s):
    """A log whose stamps lag the wall clock by an hour, written in two
    bursts with idle seconds between (idle ticks run): the ten failed logins
    of each burst are one window of the brute-force rule, since time runs
    on from the latest stamp, not from the wall clock."""
    log = s.path("access.log")
    append(log, "")
    conf = s.write_conf([("nginx", "access.log", "")])
    a = s.agent(conf)
    hour = 3600

    def guess(ago):
        return ('127.0.0.67 - c1004 [%s] "GET /api/v1/session HTTP/1.1" 401 '
                '172 "-" "Mozilla/4.0 (Hydra)"' % clf_now(ago))

    append_lines(log, [guess(hour)] * 10)
    time.sleep(2.5)  # idle: at least two ticks of the idle clock
    append_lines(log, [guess(hour - 2)] * 10 +
                 [web_line("c1171", "c2071")])
    a.wait_user("c1171")
    a.stop_clean()
    bf = [i for i in final_incidents(a) if i["rule"] == "web-brute-force"]
    check(len(bf) == 1 and bf[0].get("event_count") == 20,
          f"20 failed logins an hour old in two bursts: want one "
          f"web-brute-force incident of 20 events, got "
          f"{[(i['rule'], i.get('event_count')) for i in bf]}")


RULE = """# a rule of the live test
rules = (
  {
    id = "test-reload-%(x)s";
    title = "test rule %(x)s";
    category = "test";
    severity = "low";%(bad)s
    kinds = [ "http" ];
    sources = [ "nginx" ];
    match = ( { field = "resource"; prefix = "/test/reload-%(x)s"; } );
    aggregate = { type = "threshold"; key = "src_ip"; window = "1h";
                  min = 1; };
  }
);
"""
BAD_LINE = 8  # the line of %(bad)s


def rule_ip(rule, ip):
    return lambda r: r.get("rule") == rule and ip_of(r) == ip


def sc_reload(s):
    """SIGHUP with a broken rule file keeps the running rules (an error at
    file:line); SIGHUP with a good file loads it."""
    log = s.path("access.log")
    append(log, "")
    extra = os.path.join(s.dir, "extra.conf")
    append(extra, RULE % {"x": "a", "bad": ""}, mode="w")
    a = s.agent(s.write_conf([("nginx", "access.log", "")]), [extra])
    n_rules = int(re.search(r"with (\d+) rules",
                            a.wait_stderr(r"following")).group(1))

    def probe(x, ip):
        append_lines(log, [web_line("-", None, ip=ip,
                                    resource=f"/test/reload-{x}", status=404)])

    probe("a", "127.0.0.81")
    a.wait_incident(rule_ip("test-reload-a", "127.0.0.81"))

    append(extra, RULE % {"x": "b", "bad": '\n    colour = "red";'},
           mode="w")
    a.proc.send_signal(signal.SIGHUP)
    a.wait_stderr(re.escape(f"reload: {extra}:{BAD_LINE}:") +
                  r".*keeping the running rules", START_TIMEOUT)
    probe("a", "127.0.0.82")
    probe("b", "127.0.0.83")
    append_lines(log, [web_line("c1171", "c2001")])
    a.wait_incident(rule_ip("test-reload-a", "127.0.0.82"),
                    what="the old rule after a failed reload")
    a.wait_user("c1171")

    append(extra, RULE % {"x": "b", "bad": ""}, mode="w")
    a.proc.send_signal(signal.SIGHUP)
    a.wait_stderr(rf"reload: {n_rules} rules$", START_TIMEOUT)
    probe("a", "127.0.0.84")
    probe("b", "127.0.0.85")
    a.wait_incident(rule_ip("test-reload-b", "127.0.0.85"),
                    what="the new rule after a good reload")
    append_lines(log, [web_line("c1172", "c2002")])
    a.wait_user("c1172")
    a.stop_clean()
    incs = final_incidents(a)
    check(not any(rule_ip("test-reload-b", "127.0.0.83")(i) for i in incs),
          "the broken file's rule ran")
    check(not any(rule_ip("test-reload-a", "127.0.0.84")(i) for i in incs),
          "the replaced rule still ran after a good reload")
    errs = [l for l in a.snapshot()[1] if "reload:" in l and "keeping" in l]
    check(len(errs) == 1, f"want one failed reload, got {errs}")


def sc_malformed(s):
    """Malformed lines in a followed file: a warning naming file:line for
    each, and the agent goes on with the next lines."""
    log = s.path("access.log")
    append(log, "")
    a = s.agent(s.write_conf([("nginx", "access.log", "")]))
    with open(log, "ab") as f:
        f.write(b"this is not an access log line\n")
        f.write(web_line("c1181", "c2001").encode() + b"\n")
        f.write(b"\x00\xff\xfe binary \x1b[31m junk\r\n")
        f.write(b"127.0.0.69 - c1181 [99/Nov/2026:10:59:27 +0100] "
                b"\"GET / HTTP/1.1\" 200 1 \"-\" \"x\"\n")
        f.write(web_line("c1182", "c2002").encode() + b"\n")
    a.wait_user("c1182")
    for n in (1, 3, 4):
        a.wait_stderr(re.escape(f"{log}:{n}: nginx line rejected"),
                      timeout=1.0)
    a.stop_clean()
    incs = final_incidents(a)
    check_read(incs, "c1181", ["c2001"], refs=[f"{log}:2"])
    check_read(incs, "c1182", ["c2002"], refs=[f"{log}:5"])
    sm = summary_line(a, log)
    check(sm["lines"] == 5 and sm["rejected"] == 3,
          f"summary {sm}: want 5 lines, 3 rejected")


def proc_state(pid):
    """(blocks SIGHUP, CPU time used in ms) of process pid, from /proc;
    None when it is gone."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as f:
            status = f.read()
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            stat = f.read()
    except OSError:
        return None
    blk = next(int(l.split()[1], 16) for l in status.splitlines()
               if l.startswith("SigBlk:"))
    fields = stat[stat.rindex(")") + 2:].split()
    ticks = int(fields[11]) + int(fields[12])  # utime, stime
    return (bool(blk & (1 << (signal.SIGHUP - 1))),
            ticks * 1000 // os.sysconf("SC_CLK_TCK"))


def signal_while_starting(a, sig):
    """Send sig to a while it is still starting: as soon as it blocks
    SIGHUP, or once it has used START_SIGNAL_CPU_MS of CPU time without
    doing so. CPU time, not wall time, so that a busy machine changes
    nothing: the agent blocks its signals within ~40 ms of CPU (ASan),
    and its start takes ~400 ms (debug) to seconds (ASan), mostly compiling
    the rules."""
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        st = proc_state(a.proc.pid)
        if st is None or st[0] or st[1] >= START_SIGNAL_CPU_MS:
            break
        time.sleep(0.002)
    a.proc.send_signal(sig)
    if any("following" in l for l in a.snapshot()[1]):
        a.log(f"  (note: signal {sig} came after the start, a weak check)")


def sc_signals_at_start(s):
    """A reload or a stop asked for while the agent is still starting is
    carried out once it runs; SIGHUP's default action (death, a clean exit
    to systemd, which then does not restart it) never happens."""
    log = s.path("access.log")
    append(log, "")
    conf = s.write_conf([("nginx", "access.log", "")])
    a = s.agent(conf, ready=False)
    signal_while_starting(a, signal.SIGHUP)
    a.wait_ready()
    a.wait_stderr(r"reload: \d+ rules$", START_TIMEOUT)
    append_lines(log, [web_line("c1191", "c2001")])
    a.wait_user("c1191")
    a.stop_clean()
    check_read(final_incidents(a), "c1191", ["c2001"])

    b = s.agent(conf, ready=False)
    signal_while_starting(b, signal.SIGTERM)
    b.stop_clean_after_signal()
    b.wait_stderr(r"signal 15: stopping", timeout=0)


SCENARIOS = {
    "start-end": sc_start_end,
    "start-beginning": sc_start_beginning,
    "partial-line": sc_partial_line,
    "rotate-create": sc_rotate_create,
    "copytruncate": sc_copytruncate,
    "appears-later": sc_appears_later,
    "restart": sc_restart,
    "restart-backlog": sc_restart_backlog,
    "lagging-bursts": sc_lagging_bursts,
    "reload": sc_reload,
    "malformed": sc_malformed,
    "signals-at-start": sc_signals_at_start,
}


def run_scenario(name, binary, srcdir):
    """Run one scenario. Returns (ok, the lines of its report)."""
    out = []
    s = Scenario(name, binary, srcdir, out.append)
    t0 = time.monotonic()
    ok = False
    try:
        SCENARIOS[name](s)
        ok = True
    except Failure as e:
        out.append(f"FAIL {name}: {e}")
    except Exception as e:  # a bug in the test, or an OS error
        out.append(f"FAIL {name}: {type(e).__name__}: {e}")
    finally:
        if not ok:
            for a in s.agents:
                a.dump()
        s.cleanup(ok)
    if ok:
        out.append(f"ok   {name} ({time.monotonic() - t0:.1f} s)")
    return ok, out


def main(argv):
    args = argv[1:]
    jobs = 3
    if len(args) >= 2 and args[0] == "-j" and args[1].isdigit():
        jobs = max(1, int(args[1]))
        args = args[2:]
    if len(args) < 2:
        print("usage: " + __doc__.strip().splitlines()[2].strip(),
              file=sys.stderr)
        return 2
    binary, srcdir = os.path.abspath(args[0]), os.path.abspath(args[1])
    names = args[2:] or list(SCENARIOS)
    unknown = [n for n in names if n not in SCENARIOS]
    if unknown:
        print(f"unknown scenario {unknown}; have {list(SCENARIOS)}",
              file=sys.stderr)
        return 2

    failed = []

    def report(name, result):
        ok, out = result
        print("\n".join(out), flush=True)
        if not ok:
            failed.append(name)

    t0 = time.monotonic()
    # Side by side: each mostly waits for its agent.
    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = {pool.submit(run_scenario, n, binary, srcdir): n
                   for n in names}
        for f in concurrent.futures.as_completed(futures):
            report(futures[f], f.result())
    print(f"{len(names) - len(failed)} of {len(names)} scenarios passed "
          f"in {time.monotonic() - t0:.1f} s"
          + (f"; failed: {' '.join(failed)}" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
