#!/usr/bin/python3
"""Transport speed: incident revisions from a line appended to a followed
log to the revision committed in the notifier's store, beside the floor of
the same durable writes done by a plain Python loop, in the same run.

    bench/transport_bench.py [--build DIR] [--burst N] [--repeat K]
                             [--latency N] [--rate R] [--keep]

Starts the real breachwatch-notifier (its store in a temporary directory
under DIR/bench) and the real breachwatch-agent following a log file and
delivering to it over CURVE on 127.0.0.1 (keys from `breachwatch keygen`),
with one rule that opens one incident per principal
(bench/transport-rules.conf): N lines by N principals make N incident
revisions. Then:

- burst: N lines (default 5,000) appended in one write; revisions per
  second from the append to the last of them committed (many incidents at
  once: what the agent spools and the notifier commits back to back);
  best of K bursts (default 3), each followed by the baselines below on
  its revisions, so that both see the disk in the same state (fsync times
  on a shared machine vary several-fold from one minute to the next);
- latency: N lines (default 1,000), one at a time at R lines/s (default
  100), each by a new principal; for each, the time from just before its
  write() to its revision committed, observed two ways:
    * commit: the notifier logs "stored incident ID revision 1" right
      after the store's COMMIT returns (and before the ACK); the bench
      reads its stderr through a pipe in a thread and stamps each line
      with time.monotonic() as it arrives (an upper bound: the pipe and
      the thread's wake-up are in it);
    * receipt: the store's revisions.received_us, the notifier's wall
      clock as it took the message, before the commit (a lower bound);
  p50, p90, p99 and max of each;
- baselines, on the same file system and the same revisions (the JSON the
  store holds for the burst), with the daemons idle: a Python loop writing one
  file per revision the way the spool does (temporary file, write, fsync,
  link, fsync of the directory), a Python sqlite3 loop with WAL and
  synchronous=FULL committing one revision per transaction (what the
  notifier's store does), and both one after the other per revision (the
  two durable writes a revision needs on its way, without any transport):
  revisions/s (best of K) and the per-revision time (of that run).

Not a test: it asserts nothing but prints figures. Build the release
preset first (cmake --preset release && cmake --build build/release).
Stdlib only; run with /usr/bin/python3.
"""
import argparse
import math
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

SRC = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STORED = re.compile(r"stored incident (bw-[0-9a-f]+) revision (\d+) from")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep",
          "Oct", "Nov", "Dec")
START_TIMEOUT = 30.0


class Daemon:
    """A child whose stderr a thread reads, each line stamped with
    time.monotonic() as it arrives."""

    def __init__(self, argv, name):
        self.name = name
        self.lines = []  # (monotonic, text)
        self.lock = threading.Lock()
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, text=True)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stderr:
            t = time.monotonic()
            with self.lock:
                self.lines.append((t, line.rstrip("\n")))

    def since(self, start):
        with self.lock:
            return self.lines[start:]

    def count(self):
        with self.lock:
            return len(self.lines)

    def wait_for(self, pattern, timeout=START_TIMEOUT):
        rx = re.compile(pattern)
        until = time.monotonic() + timeout
        while time.monotonic() < until:
            for _, text in self.since(0):
                m = rx.search(text)
                if m:
                    return m
            if self.proc.poll() is not None:
                break
            time.sleep(0.01)
        sys.exit("%s: no /%s/ in its log:\n%s" % (
            self.name, pattern,
            "\n".join(t for _, t in self.since(0)[-20:])))

    def stop(self, sig=signal.SIGTERM):
        if self.proc.poll() is None:
            os.kill(self.proc.pid, sig)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


def keygen(cli, prefix):
    subprocess.run([cli, "keygen", "--out", prefix], check=True,
                   capture_output=True)
    with open(prefix + ".pub") as f:
        return f.read()


def clf_now():
    t = time.gmtime()
    return "%02d/%s/%04d:%02d:%02d:%02d +0000" % (
        t.tm_mday, MONTHS[t.tm_mon - 1], t.tm_year, t.tm_hour, t.tm_min,
        t.tm_sec)


def line(principal, customer):
    return ('127.0.0.69 - %s [%s] "GET /api/v1/customers/%s/contacts '
            'HTTP/1.1" 200 203 "-" "bench"\n' % (principal, clf_now(),
                                                  customer))


def pct(values, p):
    """Nearest-rank percentile of a non-empty list."""
    v = sorted(values)
    return v[max(0, math.ceil(p / 100.0 * len(v)) - 1)]


def wait_stored(notifier, start, n, timeout):
    """Wait for n "stored" lines of first revisions (new incidents) after
    log index start; returns them as (monotonic, id, revision)."""
    until = time.monotonic() + timeout
    while True:
        got = [(t, m.group(1), int(m.group(2)))
               for t, m in ((t, STORED.search(x))
                            for t, x in notifier.since(start))
               if m and m.group(2) == "1"]
        if len(got) >= n:
            return got
        if time.monotonic() > until or notifier.proc.poll() is not None:
            sys.exit("only %d of %d revisions stored in %.0f s" %
                     (len(got), n, timeout))
        time.sleep(0.01)


def setup(build, tmp):
    cli = os.path.join(build, "cli", "breachwatch")
    notifier_bin = os.path.join(build, "notifier", "breachwatch-notifier")
    agent_bin = os.path.join(build, "agent", "breachwatch-agent")
    for b in (cli, notifier_bin, agent_bin):
        if not os.access(b, os.X_OK):
            sys.exit("%s: not built (build the release preset)" % b)
    keygen(cli, os.path.join(tmp, "notifier"))
    agent_pub = keygen(cli, os.path.join(tmp, "bench-agent"))
    auth = os.path.join(tmp, "agents")
    with open(auth, "w") as f:
        f.write(agent_pub)
    os.chmod(auth, 0o644)
    store = os.path.join(tmp, "record.db")
    with open(os.path.join(tmp, "notifier.conf"), "w") as f:
        f.write("""notifier: { listen = "tcp://127.0.0.1:*";
  key = "%s/notifier.key"; authorized_agents = "%s"; store = "%s";
  log_level = "info"; };
inbox: { max_incident_bytes = 1048576; };
control: { socket = "%s/ctl.sock"; };
""" % (tmp, auth, store, tmp))
    notifier = Daemon([notifier_bin, "--config",
                       os.path.join(tmp, "notifier.conf")], "notifier")
    endpoint = notifier.wait_for(r"listening on (tcp://127\.0\.0\.1:\d+)"
                                 ).group(1)
    log = os.path.join(tmp, "access.log")
    open(log, "w").close()
    with open(os.path.join(tmp, "agent.conf"), "w") as f:
        f.write("""agent = { name = "bench-agent"; state_dir = "%s/state"; };
inputs = ( { type = "nginx"; path = "%s"; } );
# every incident stays open: none is closed early (a closing revision each)
incidents = { max_incidents = 1000000; };
site = { customer_data = { http = (
  { path = "^/api/v1/customers/(?<customer>c[0-9]+)/contacts";
    data = "contact_list"; } ); }; };
notifier = { endpoint = "%s"; notifier_key = "%s/notifier.pub";
             key = "%s/bench-agent.key"; };
""" % (tmp, log, endpoint, tmp, tmp))
    agent = Daemon([agent_bin, "--config", os.path.join(tmp, "agent.conf"),
                    "--rules", os.path.join(SRC, "bench",
                                            "transport-rules.conf")],
                   "agent")
    agent.wait_for(r"following 1 inputs")
    agent.wait_for(r"notifier: connected")
    return notifier, agent, log, store


def run_burst(notifier, log, n, prefix):
    lines = "".join(line("%s%06d" % (prefix, i), "c%d" % (100000 + i))
                    for i in range(n))
    start = notifier.count()
    with open(log, "a") as f:
        t0 = time.monotonic()
        f.write(lines)
        f.flush()
    got = wait_stored(notifier, start, n, 60 + n / 50.0)
    return n / (got[-1][0] - t0)


def run_latency(notifier, log, store, n, rate):
    appended = {}  # principal -> (monotonic, wall)
    start = notifier.count()
    t_start = time.monotonic() + 0.05
    with open(log, "a") as f:
        for i in range(n):
            principal = "lat%06d" % i
            text = line(principal, "c%d" % (200000 + i))
            delay = t_start + i / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            appended[principal] = (time.monotonic(), time.time())
            f.write(text)
            f.flush()
    got = wait_stored(notifier, start, n, 60 + n / rate)
    seen = {iid: t for t, iid, rev in got if rev == 1}
    con = sqlite3.connect("file:%s?mode=ro" % store, uri=True, timeout=10)
    rows = con.execute(
        "SELECT r.incident_id, json_extract(i.actor, '$.user'), "
        "r.received_us FROM revisions r JOIN incidents i "
        "USING (incident_id) WHERE r.revision = 1 AND "
        "json_extract(i.actor, '$.user') LIKE 'lat%'").fetchall()
    con.close()
    if len(rows) != n:
        missing = sorted(set(appended) - {r[1] for r in rows})
        print("warning: %d of %d latency lines have no stored incident: "
              "%s" % (len(missing), n, missing[:5]), file=sys.stderr)
    commit, receipt = [], []
    for iid, user, received_us in rows:
        t_mono, t_wall = appended[user]
        commit.append((seen[iid] - t_mono) * 1000.0)
        receipt.append((received_us / 1e6 - t_wall) * 1000.0)
    return commit, receipt


def revisions_json(store, prefix):
    """The stored revisions of the principals named prefix..., in order."""
    con = sqlite3.connect("file:%s?mode=ro" % store, uri=True, timeout=10)
    rows = con.execute(
        "SELECT r.incident_id, r.revision, r.json FROM revisions r "
        "JOIN incidents i USING (incident_id) WHERE "
        "substr(json_extract(i.actor, '$.user'), 1, ?) = ? ORDER BY r.id",
        (len(prefix), prefix)).fetchall()
    con.close()
    return rows


def spool_write(dirfd, d, i, iid, text):
    """One revision the way the spool writes it (common/file.c)."""
    tmp = os.path.join(d, "%020d.rev.tmp.x" % i)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.write(fd, ("bw-spool 1 %d %s\n%s\n" % (i, iid, text)).encode())
    os.fsync(fd)
    os.close(fd)
    os.link(tmp, os.path.join(d, "%020d.rev" % i))
    os.unlink(tmp)
    os.fsync(dirfd)


def store_open(path):
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute("CREATE TABLE revisions (id INTEGER PRIMARY KEY, "
               "incident_id TEXT NOT NULL, revision INTEGER NOT NULL, "
               "received_us INTEGER NOT NULL, json TEXT NOT NULL, "
               "UNIQUE (incident_id, revision))")
    return db


def store_write(db, iid, rev, text):
    db.execute("BEGIN IMMEDIATE")
    db.execute("INSERT INTO revisions (incident_id, revision, received_us, "
               "json) VALUES (?, ?, ?, ?)",
               (iid, rev, int(time.time() * 1e6), text))
    db.execute("COMMIT")


def baselines(tmp, revs, tag):
    """revisions/s and per-revision ms for the three Python loops."""
    out = {}
    spool = os.path.join(tmp, "base-spool-" + tag)
    os.mkdir(spool, 0o700)
    dirfd = os.open(spool, os.O_RDONLY)
    db = store_open(os.path.join(tmp, "base-store-%s.db" % tag))
    both = os.path.join(tmp, "base-both-" + tag)
    os.mkdir(both, 0o700)
    bothfd = os.open(both, os.O_RDONLY)
    db2 = store_open(os.path.join(tmp, "base-both-%s.db" % tag))
    for name, fn in (
            ("spool", lambda i, r: spool_write(dirfd, spool, i, r[0], r[2])),
            ("store", lambda i, r: store_write(db, r[0], r[1], r[2])),
            ("both", lambda i, r: (spool_write(bothfd, both, i, r[0], r[2]),
                                   store_write(db2, r[0], r[1], r[2])))):
        per = []
        t0 = time.monotonic()
        for i, r in enumerate(revs, 1):
            t = time.monotonic()
            fn(i, r)
            per.append((time.monotonic() - t) * 1000.0)
        out[name] = (len(revs) / (time.monotonic() - t0), per)
    os.close(dirfd)
    os.close(bothfd)
    db.close()
    db2.close()
    return out


def fs_of(path):
    st = os.statvfs(path)
    with open("/proc/mounts") as f:
        best = ("?", "?")
        for ln in f:
            dev, mnt, fstype = ln.split()[:3]
            if path.startswith(mnt) and len(mnt) >= len(best[1]):
                best = (fstype, mnt)
    return "%s on %s, %d-byte blocks" % (best[0], best[1], st.f_bsize)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default=os.path.join(SRC, "build", "release"))
    ap.add_argument("--burst", type=int, default=5000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--latency", type=int, default=1000)
    ap.add_argument("--rate", type=float, default=100.0)
    ap.add_argument("--keep", action="store_true",
                    help="keep the temporary directory")
    a = ap.parse_args()
    build = os.path.abspath(a.build)
    os.makedirs(os.path.join(build, "bench"), exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="transport-",
                           dir=os.path.join(build, "bench"))
    notifier = agent = None
    fs = fs_of(tmp)
    try:
        notifier, agent, log, store = setup(build, tmp)
        # warm up: connections made, pages cached, caches filled
        run_burst(notifier, log, 50, "warm")
        bursts, base = [], {}
        for r in range(a.repeat):
            prefix = "b%d-" % r
            bursts.append(run_burst(notifier, log, a.burst, prefix))
            for k, v in baselines(tmp, revisions_json(store, prefix),
                                  str(r)).items():
                if k not in base or v[0] > base[k][0]:
                    base[k] = v
        burst = max(bursts)
        commit, receipt = run_latency(notifier, log, store, a.latency,
                                      a.rate)
        agent.stop(signal.SIGKILL)  # its closing revisions are not timed
        notifier.stop()
    finally:
        for d in (agent, notifier):
            if d is not None:
                d.stop(signal.SIGKILL)
        if not a.keep:
            shutil.rmtree(tmp, ignore_errors=True)

    print("transport bench: %s; %s" % (build, fs))
    print("burst of %d incident revisions (one write of %d lines), best "
          "of %d (all: %s/s); latency over %d lines appended one at a time "
          "at %g/s" % (a.burst, a.burst, a.repeat,
                       ", ".join("%.0f" % b for b in bursts), len(commit),
                       a.rate))
    print()
    print("%-58s %12s %8s %8s %8s %8s" % ("", "revisions/s", "p50 ms",
                                         "p90 ms", "p99 ms", "max ms"))

    def row(name, rate, per):
        print("%-58s %12s %8.2f %8.2f %8.2f %8.2f" % (
            name, "%.0f" % rate if rate else "", pct(per, 50), pct(per, 90),
            pct(per, 99), max(per)))
    print("%-58s %12.0f" % ("breachwatch: line appended -> committed "
                            "(burst)", burst))
    row("breachwatch: line appended -> commit logged by notifier", None,
        commit)
    row("breachwatch: line appended -> received (store's clock)", None,
        receipt)
    row("baseline: python, a spool file per revision (2 fsyncs)",
        base["spool"][0], base["spool"][1])
    row("baseline: python sqlite3 WAL synchronous=FULL, 1 per txn",
        base["store"][0], base["store"][1])
    row("baseline: python, both one after the other", base["both"][0],
        base["both"][1])
    return 0


if __name__ == "__main__":
    sys.exit(main())
