#!/usr/bin/python3
"""demo.py - breachwatch end to end on the bundled sample data (run by
scripts/demo.sh after the build).

    examples/demo/demo.py BUILD_DIR

Starts breachwatch-notifier and breachwatch-agent together on 127.0.0.1
(keys from `breachwatch keygen`, the notifier on a port the OS chooses),
the agent following the sample logs of examples/demo/inputs from their
first line with the default ruleset, delivering each incident to the
notifier, which keeps the breach record and writes every e-mail as an .eml
file (the file: transport: nothing leaves the machine). The customer
directory is examples/demo/customers.csv; one affected customer (c1020) is
missing from it on purpose. Then it shows, for a person: the incidents,
where the e-mails were written, an operator having the customers of an
incident that the rules leave to the team told (`breachwatch notify`),
the security team's alert and a customer's notice, and stops both
daemons. Everything is kept in BUILD_DIR/demo.

Every wait is bounded; the daemons are stopped by their PID.
"""
import email
import email.policy
import glob
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(os.path.dirname(HERE))
GROUPING_WAIT = 2.0


def fail(msg):
    print("demo: %s" % msg, file=sys.stderr)
    sys.exit(1)


class Daemon:
    """A daemon whose stderr goes to a log file and to memory."""

    def __init__(self, argv, log):
        self.log_path = log
        self.lines = []
        self.lock = threading.Lock()
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, text=True)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        with open(self.log_path, "w") as f:
            for line in self.proc.stderr:
                f.write(line)
                f.flush()
                with self.lock:
                    self.lines.append(line.rstrip("\n"))

    def wait_log(self, pattern, timeout):
        rx = re.compile(pattern)
        until = time.monotonic() + timeout
        while time.monotonic() < until:
            with self.lock:
                for line in self.lines:
                    m = rx.search(line)
                    if m:
                        return m
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        fail("no /%s/ from %s (see %s):\n%s" %
             (pattern, os.path.basename(self.proc.args[0]), self.log_path,
              "\n".join(self.lines[-10:])))

    def stop(self, timeout=20):
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        return self.proc.returncode


def run(argv):
    p = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    if p.returncode != 0:
        fail("%s: %s" % (" ".join(argv), p.stderr.strip()))
    return p.stdout


def inputs():
    out = []
    with open(os.path.join(HERE, "inputs")) as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith("#"):
                kind, path = line.split(":", 1)
                out.append((kind, os.path.join(SRC, path)))
    return out


INPUT_OPTIONS = {
    "nginx": 'format = "combined";',
    "sshd": 'timezone = "UTC"; year = 2026;',
    "postgres": 'prefix = "%m [%p] %q%u@%d from %h "; timezone = "UTC";',
}


def configure(build, d):
    cli = os.path.join(build, "cli", "breachwatch")
    run([cli, "keygen", "--out", os.path.join(d, "notifier")])
    run([cli, "keygen", "--out", os.path.join(d, "mail-db-1")])
    with open(os.path.join(d, "mail-db-1.pub")) as f:
        pub = f.read()
    with open(os.path.join(d, "authorized_agents"), "w") as f:
        f.write(pub)
    with open(os.path.join(d, "notifier.conf"), "w") as f:
        f.write("""# The demo's notifier: written by examples/demo/demo.py.
notifier: {
  listen = "tcp://127.0.0.1:*";
  key = "%(d)s/notifier.key";
  public_key = "%(d)s/notifier.pub";
  authorized_agents = "%(d)s/authorized_agents";
  store = "%(d)s/breach-record.db";
};
control: { socket = "%(d)s/notifier.sock"; mode = "0600"; };
organisation: {
  name = "Example Mail";
  contact = "privacy@example.com or +44 20 7946 0000";
  dpo = "Dana Protector, Data Protection Officer, dpo@example.com";
  website = "https://example.com/security";
};
directory: { type = "csv"; path = "%(src)s/examples/demo/customers.csv"; };
mail: {
  transport = "file:%(d)s/mail";
  from = "security-notices@example.com";
  from_name = "Example Mail Security";
  reply_to = "privacy@example.com";
};
notify: {
  team = [ "security-team@example.com" ];
  grouping_wait = "%(wait)gs";
};
""" % {"d": d, "src": SRC, "wait": GROUPING_WAIT})


def agent_conf(d, endpoint):
    ins = ",\n".join(
        '  { type = "%s"; path = "%s"; start = "beginning"; %s }' %
        (kind, path, INPUT_OPTIONS.get(kind, "")) for kind, path in inputs())
    path = os.path.join(d, "agent.conf")
    with open(path, "w") as f:
        f.write("""# The demo's agent: written by examples/demo/demo.py. (libconfig 1.5
# resolves an @include against this file's directory, absolute or not.)
@include "%(site)s"
agent: { name = "mail-db-1"; state_dir = "%(d)s/agent-state"; };
inputs = (
%(ins)s
);
notifier = { endpoint = "%(ep)s"; notifier_key = "%(d)s/notifier.pub";
             key = "%(d)s/mail-db-1.key"; };
""" % {"site": os.path.relpath(os.path.join(SRC, "tests", "replay",
                                             "site.conf"), d),
       "d": d, "ins": ins, "ep": endpoint})
    os.makedirs(os.path.join(d, "agent-state"), exist_ok=True)
    return path


def db(d, sql):
    con = sqlite3.connect("file:%s/breach-record.db?mode=ro" % d, uri=True,
                          timeout=5)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def settled(d):
    """Every incident alerted, every customer due a notice has one, nothing
    left to write."""
    try:
        alerts = db(d, "SELECT COUNT(*) FROM incidents i WHERE NOT EXISTS "
                       "(SELECT 1 FROM notifications n WHERE n.incident_id "
                       "= i.incident_id AND n.kind = 'team_alert' AND "
                       "n.state = 'sent')")[0][0]
        todo = db(d, "SELECT COUNT(*) FROM customers c JOIN incidents i "
                     "ON i.incident_id = c.incident_id WHERE "
                     "i.notify_customers AND NOT EXISTS (SELECT 1 FROM "
                     "notifications n WHERE n.customer_row = c.id)")[0][0]
        busy = db(d, "SELECT COUNT(*) FROM notifications WHERE state IN "
                     "('pending', 'sending')")[0][0]
        problems = db(d, "SELECT COUNT(*) FROM notifications WHERE kind = "
                         "'customer_notice' AND state = 'unresolved' AND "
                         "team_told_us IS NULL")[0][0]
        unnotified = db(d, "SELECT COUNT(*) FROM incidents i WHERE "
                           "notified_us IS NULL AND EXISTS (SELECT 1 FROM "
                           "notifications n WHERE n.incident_id = "
                           "i.incident_id AND n.kind = 'customer_notice' "
                           "AND n.state = 'sent')")[0][0]
    except sqlite3.Error:
        return False
    return (alerts == 0 and todo == 0 and busy == 0 and problems == 0 and
            unnotified == 0)


def wait_for(fn, timeout, what):
    until = time.monotonic() + timeout
    while time.monotonic() < until:
        if fn():
            return
        time.sleep(0.1)
    fail("timed out waiting for %s" % what)


def text_of(path):
    with open(path, "rb") as f:
        msg = email.message_from_bytes(f.read(), policy=email.policy.default)
    part = msg.get_body(preferencelist=("plain",))
    return msg, part.get_content() if part is not None else ""


def rel(path):
    """A path as a person would type it from the top of the tree."""
    r = os.path.relpath(path, SRC)
    return path if r.startswith("..") else r


def show(title, path, body, limit):
    msg, text = text_of(path)
    print("=" * 78)
    print("%s\n  %s" % (title, rel(path)))
    print("=" * 78)
    for h in ("From", "To", "Subject", "Date", "Message-ID"):
        print("%s: %s" % (h, msg[h]))
    print()
    lines = text.rstrip("\n").split("\n")
    print("\n".join(lines[:limit]))
    if len(lines) > limit:
        print("  [... %d more lines in the file]" % (len(lines) - limit))
    print()


def operator_decides(cli, d):
    """Some rules leave the customers to the team (the alert says how to
    have them told): play the operator who looked into the largest such
    incident and decided its customers must be told."""
    rows = db(d, "SELECT i.incident_id, i.title, COUNT(c.id) FROM incidents "
                 "i JOIN customers c ON c.incident_id = i.incident_id "
                 "WHERE NOT i.notify_customers GROUP BY i.incident_id "
                 "ORDER BY COUNT(c.id) DESC, i.incident_id LIMIT 1")
    if not rows:
        return
    inc, title, n = rows[0]
    reason = "its statements read the contact lists of these customers"
    print("%s (\"%s\", %d customers):\nits rule leaves it to the team to "
          "decide whether the customers are told.\nHaving looked, an "
          "operator runs:\n  breachwatch notify %s --reason '%s'" %
          (inc, title, n, inc, reason))
    out = run([cli, "--socket", os.path.join(d, "notifier.sock"), "notify",
               inc, "--reason", reason])
    print("  " + out.strip().replace("\n", "\n  "))

    def told():
        sent = db(d, "SELECT COUNT(*) FROM notifications WHERE incident_id "
                     "= '%s' AND kind = 'customer_notice' AND state IN "
                     "('sent', 'unresolved')" % inc)[0][0]
        busy = db(d, "SELECT COUNT(*) FROM notifications WHERE state IN "
                     "('pending', 'sending')")[0][0]
        return sent >= n and busy == 0
    wait_for(told, GROUPING_WAIT + 30, "the notices of %s" % inc)
    sent = db(d, "SELECT COUNT(*) FROM notifications WHERE incident_id = "
                 "'%s' AND kind = 'customer_notice' AND state = 'sent'" %
              inc)[0][0]
    print("  %d more customer notices written under %s/\n" %
          (sent, rel(os.path.join(d, "mail", inc))))


def main():
    if len(sys.argv) != 2:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    build = os.path.abspath(sys.argv[1])
    cli = os.path.join(build, "cli", "breachwatch")
    d = os.path.join(build, "demo")
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    configure(build, d)

    notifier = Daemon([os.path.join(build, "notifier",
                                    "breachwatch-notifier"),
                       "--config", os.path.join(d, "notifier.conf")],
                      os.path.join(d, "notifier.log"))
    agent = None
    try:
        ep = notifier.wait_log(r"listening on (tcp://127\.0\.0\.1:\d+)",
                               30).group(1)
        notifier.wait_log(r"control socket", 30)
        conf = agent_conf(d, ep)
        print("breachwatch demo: the agent follows %d sample logs (%s) and "
              "delivers\nits incidents to the notifier on %s, which writes "
              "the e-mails to\n%s/ instead of sending them.\n" %
              (len(inputs()), rel(os.path.join(HERE, "inputs")), ep,
               rel(os.path.join(d, "mail"))))
        agent = Daemon([os.path.join(build, "agent", "breachwatch-agent"),
                        "--config", conf, "--rules",
                        os.path.join(SRC, "rules", "sets")],
                       os.path.join(d, "agent.log"))
        agent.wait_log(r"following \d+ inputs", 30)

        # the logs are read when the stored revisions stop coming
        last, same_since = -1, time.monotonic()
        until = time.monotonic() + 60
        while time.monotonic() < until:
            try:
                n = db(d, "SELECT COUNT(*) FROM revisions")[0][0]
            except sqlite3.Error:
                n = 0
            if n != last:
                last, same_since = n, time.monotonic()
            elif n > 0 and time.monotonic() - same_since > 1.5:
                break
            time.sleep(0.1)
        # a clean stop closes every open incident and delivers it
        agent.stop(timeout=30)
        wait_for(lambda: settled(d), GROUPING_WAIT + 30,
                 "the e-mails to be written")

        print(run([cli, "--socket", os.path.join(d, "notifier.sock"),
                   "incidents"]))
        rows = db(d, "SELECT n.incident_id, n.kind, n.customer_id, "
                     "n.recipient, n.recipient_kind, n.state, n.smtp_text, "
                     "n.id FROM notifications n ORDER BY n.id")
        files = sorted(glob.glob(os.path.join(d, "mail", "*", "*.eml")))
        team = [r for r in rows if r[1] == "team_alert"]
        cust = [r for r in rows if r[1] == "customer_notice"]
        print("E-mails written: %d (%d team alerts, %d customer notices, "
              "%d to the team about customers who could not be told) under "
              "%s/" %
              (len(files), len(team),
               len([r for r in cust if r[5] == "sent"]),
               len(rows) - len(team) - len(cust),
               rel(os.path.join(d, "mail"))))
        for inc in sorted({r[0] for r in rows}):
            mine = [r for r in rows if r[0] == inc]
            sent = [r for r in mine
                    if r[1] == "customer_notice" and r[5] == "sent"]
            problems = [r for r in mine if r[1] == "team_problem"]
            print("  %s/  team alert%s%s" %
                  (inc, ", %d customer notice%s" %
                   (len(sent), "" if len(sent) == 1 else "s")
                   if sent else "",
                   ", the team told who could not be" if problems else ""))
        unresolved = [r for r in cust if r[5] == "unresolved"]
        alternate = [r for r in cust if r[4] == "alternate"]
        print()
        if unresolved:
            print("Not in the directory, so recorded unresolved and the team "
                  "told: %s" % ", ".join(r[2] for r in unresolved))
        if alternate:
            print("Their own mailbox was breached, so told at their "
                  "alternate address: %s" %
                  ", ".join("%s (%s)" % (r[2], r[3]) for r in alternate))
        print()

        operator_decides(cli, d)

        # the biggest incident with notices: its team alert, one notice
        with_notices = sorted({r[0] for r in cust},
                              key=lambda i: -len([r for r in cust
                                                  if r[0] == i]))
        if not with_notices:
            fail("no customer notice was written")
        inc = with_notices[0]
        alert = [f for f in files if os.path.basename(
            os.path.dirname(f)) == inc and "-team-alert-" in f]
        notice = [f for f in files if os.path.basename(
            os.path.dirname(f)) == inc and "-customer-" in f]
        show("The security team's alert for %s" % inc, alert[0], "", 60)
        show("One customer's notice (of %d; each has only its own "
             "customer in To:)" % len(notice), notice[0], "", 80)
        print("Everything is in %s/: the breach record (breach-record.db), "
              "the\nconfigs, the logs and the e-mails. To look around:\n"
              "  %s --config %s/notifier.conf &\n"
              "  %s --socket %s/notifier.sock show %s\n"
              "  %s --socket %s/notifier.sock notify-status %s\n"
              "  %s --socket %s/notifier.sock report %s" %
              (rel(d),
               rel(os.path.join(build, "notifier",
                                            "breachwatch-notifier")),
               rel(d), rel(cli),
               rel(d), inc, rel(cli),
               rel(d), inc, rel(cli),
               rel(d), inc))
    finally:
        if agent is not None:
            agent.stop()
        rc = notifier.stop()
    if rc != 0:
        fail("the notifier stopped with status %s (see %s)" %
             (rc, notifier.log_path))
    return 0


if __name__ == "__main__":
    sys.exit(main())
