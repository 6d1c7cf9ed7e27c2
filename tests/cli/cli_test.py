#!/usr/bin/python3
"""cli_test.py - breachwatch, the operator's command, against a real
notifier on 127.0.0.1.

    cli_test.py CLI NOTIFIER SENDER AGENT SOURCE_DIR

CLI is breachwatch, NOTIFIER breachwatch-notifier, SENDER the test sender
of tests/notifier (it puts incidents into the notifier as an agent would),
AGENT breachwatch-agent (for check-config of agent configs and rule
files), SOURCE_DIR the project. The notifier harness is
tests/notifier/harness.py. Checked:

- keygen: the two files and their modes, no overwrite without --force,
  an invalid name is a usage error;
- check-config: a notifier config, an agent config, a rule file (told
  apart by their contents), a bad one with file:line and status 2;
- incidents, show, contain, note, aware, close, report (md, json), verify
  and status, in person and --json output: aligned columns, times in RFC
  3339 UTC, severity words, the operator recorded as the caller's user
  name, text from agents shown with control characters escaped;
- notify ID --reason (an incident whose rule does not notify customers):
  recorded with the caller's name, in show, notify-status, report and
  the audit chain; refused for an incident naming no customer, a second
  time, --update while the first notices wait (the e-mails themselves
  are tests/notifier/mail_test.py's decide and update);
- exit codes: 0 ok, 1 runtime (the notifier refused, or is not there), 2
  bad usage, 3 no such incident.

Exit status 0 when all pass, 1 on a failure, 2 on a usage error. Stdlib
only; run it with /usr/bin/python3.
"""
import json
import os
import pwd
import re
import stat
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "notifier"))
import harness  # noqa: E402
from harness import (Failure, Notifier, Sender, check, incident,  # noqa
                     keygen, run)

ID1 = "bw-00000000000000a1"
ID2 = "bw-00000000000000a2"
ID3 = "bw-00000000000000a3"
ID4 = "bw-00000000000000a4"
ID5 = "bw-00000000000000a5"
ME = pwd.getpwuid(os.getuid()).pw_name


class Test:
    def __init__(self, cli, notifier, sender, agent, src, tmp):
        self.cli, self.agent, self.src, self.tmp = cli, agent, src, tmp
        self.sender_bin = sender
        self.db1 = keygen(cli, os.path.join(tmp, "db1"))
        self.n = Notifier(notifier, cli, tmp, [self.db1])

    def bw(self, *args, env=None):
        return run([self.cli, "--socket", self.n.socket] + list(args),
                   env=env)

    def expect(self, want, *args):
        rc, out, err = self.bw(*args)
        check(rc == want, "breachwatch %s: status %d, want %d\n%s%s" %
              (" ".join(args), rc, want, out, err))
        return out, err

    # --- local commands ---

    def keygen(self):
        prefix = os.path.join(self.tmp, "k", "agent7")
        os.mkdir(os.path.dirname(prefix))
        rc, out, err = run([self.cli, "keygen", "--out", prefix])
        check(rc == 0, "keygen: %d %s" % (rc, err))
        check(stat.S_IMODE(os.stat(prefix + ".key").st_mode) == 0o600,
              "secret key mode")
        check(stat.S_IMODE(os.stat(prefix + ".pub").st_mode) == 0o644,
              "public key mode")
        with open(prefix + ".pub") as f:
            line = [x for x in f.read().splitlines()
                    if x and not x.startswith("#")][0]
        check(re.fullmatch(r"\S{40} agent7", line), "pub line %r" % line)
        check(line.split()[0] in out, "keygen did not print the key")
        rc, out, err = run([self.cli, "keygen", "--out", prefix])
        check(rc == 1 and "--force" in err, "overwrite: %d %s" % (rc, err))
        rc, out, err = run([self.cli, "--json", "keygen", "--out", prefix,
                            "--force", "--name", "db-7.example"])
        check(rc == 0, "--force: %d %s" % (rc, err))
        j = json.loads(out)
        check(j["name"] == "db-7.example" and len(j["public_key"]) == 40,
              "keygen --json %s" % j)
        rc, out, err = run([self.cli, "keygen", "--out", prefix, "--force",
                            "--name", "bad name"])
        check(rc == 2, "invalid name: %d" % rc)
        rc, out, err = run([self.cli, "keygen"])
        check(rc == 2 and "--out" in err, "keygen without --out: %d" % rc)

    def check_config(self):
        env = dict(os.environ, BREACHWATCH_AGENT=self.agent)
        ex = os.path.join(self.src, "examples")
        rc, out, err = run([self.cli, "check-config", self.n.conf], env=env)
        check(rc == 0 and "ok (notifier config)" in out,
              "notifier config: %d %s" % (rc, err))
        rules = os.path.join(self.src, "rules", "sets")
        rc, out, err = run([self.cli, "check-config",
                            os.path.join(ex, "agent.conf"), "--rules", rules],
                           env=env)
        check(rc == 0 and "agent.conf: ok" in out,
              "agent config: %d %s %s" % (rc, out, err))
        rc, out, err = run([self.cli, "check-config",
                            os.path.join(self.src, "rules", "sets",
                                         "esp-web.conf"),
                            "--agent-config", os.path.join(ex, "agent.conf")],
                           env=env)
        check(rc == 0 and "ok" in out, "rule file: %d %s %s" % (rc, out, err))
        bad = os.path.join(self.tmp, "bad-agent.conf")
        with open(bad, "w") as f:
            f.write("agent: {\n  name = \"x\";\n  nmae = \"y\";\n};\n")
        rc, out, err = run([self.cli, "check-config", bad], env=env)
        check(rc == 2 and "bad-agent.conf:3" in err,
              "bad agent config: %d %s" % (rc, err))
        bad = os.path.join(self.tmp, "bad-notifier.conf")
        with open(self.n.conf) as f, open(bad, "w") as g:
            g.write(f.read().replace('mode = "0660"', 'mode = "0666"'))
        rc, out, err = run([self.cli, "check-config", bad], env=env)
        check(rc == 2 and "bad-notifier.conf:10" in err and "0666" in err,
              "bad notifier config: %d %s" % (rc, err))
        rc, out, err = run([self.cli, "--json", "check-config", bad],
                           env=env)
        j = json.loads(out)
        check(rc == 2 and j["type"] == "notifier" and not j["ok"],
              "check-config --json: %s" % j)
        other = os.path.join(self.tmp, "other.conf")
        with open(other, "w") as f:
            f.write("something = 1;\n")
        rc, out, err = run([self.cli, "check-config", other], env=env)
        check(rc == 2 and "--type" in err, "unknown kind: %d %s" % (rc, err))

    # --- against the notifier ---

    def feed(self):
        s = Sender(self.sender_bin, self.n.endpoint, self.n.key + ".pub",
                   os.path.join(self.tmp, "db1.key"))
        try:
            check(s.connect().get("event") == "connected", "no connection")
            texts = [
                incident(ID1, 1, "db1", severity="critical",
                         containment=[{
                             "action": "block-ip",
                             "started": "2026-11-23T08:01:00Z",
                             "finished": "2026-11-23T08:01:01Z",
                             "status": "ok", "detail": "exit 0"}]),
                incident(ID2, 1, "db1", severity="low",
                         title="Odd \x1b[31mred\x1b[0m title",
                         customers=["c3001"]),
                incident(ID3, 1, "db1", severity="medium"),
            ]
            for t in texts:
                seq = s.send(t)
                check(s.ack(seq)["status"] == 0, "not stored: %s" % t[:40])
        finally:
            s.close()

    def incidents(self):
        out, _ = self.expect(0, "incidents")
        lines = out.splitlines()
        check(re.match(r"ID +STATE +SEVERITY +DETECTED +LAST SEEN +CUSTOMERS"
                       r" +HOST +TITLE$", lines[0]), "header %r" % lines[0])
        check(len(lines) == 4, "incidents: %d lines" % len(lines))
        # aligned: every row has its STATE where the header has it
        col = lines[0].index("STATE")
        for line in lines[1:]:
            check(line[col:].split()[0] in ("detected", "contained"),
                  "misaligned: %r" % line)
            check(re.search(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", line),
                  "no RFC 3339 time: %r" % line)
        check("\x1b" not in out and "\\x1b[31mred" in out,
              "control characters reached the terminal: %r" % out)
        row = [x for x in lines if x.startswith(ID1)][0]
        check(" critical " in row and " contained " in row,
              "ID1 row %r" % row)
        j = self.n.ctl_json("incidents")
        check(j["count"] == 3 and not j["truncated"], "json %s" % j)
        ids = [i["id"] for i in j["incidents"]]
        check(sorted(ids) == [ID1, ID2, ID3], "ids %s" % ids)
        j = self.n.ctl_json("incidents", "--severity", "medium")
        check(sorted(i["id"] for i in j["incidents"]) == [ID1, ID3],
              "--severity medium: %s" % j)
        j = self.n.ctl_json("incidents", "--state", "contained")
        check([i["id"] for i in j["incidents"]] == [ID1],
              "--state contained: %s" % j)
        j = self.n.ctl_json("incidents", "--limit", "1")
        check(j["count"] == 1 and j["truncated"], "--limit 1: %s" % j)
        out, _ = self.expect(0, "incidents", "--limit", "1")
        check("raise --limit" in out, "truncation not said")
        j = self.n.ctl_json("incidents", "--since", "2099-01-01T00:00:00Z")
        check(j["count"] == 0, "--since future: %s" % j)
        j = self.n.ctl_json("incidents", "--since", "1h")
        check(j["count"] == 3, "--since 1h: %s" % j)
        out, _ = self.expect(0, "incidents", "--since", "2099-01-01T00:00:00Z")
        check(out.strip() == "no incidents", "empty list: %r" % out)

    def show(self):
        out, _ = self.expect(0, "show", ID1)
        for section in ("Incident %s" % ID1, "\nClocks\n", "\nCustomers (2)",
                        "\nEvidence (1 kept", "\nContainment\n",
                        "\nNotes\n", "\nTimeline\n"):
            check(section in out, "show: no %r in\n%s" % (section, out))
        check(re.search(r"Severity +critical", out), "severity word")
        check(re.search(r"Deadline +\S+Z \(GDPR 72 h: (in|passed) ", out),
              "deadline line:\n%s" % out)
        check(re.search(r"block-ip +ok", out), "agent step not shown")
        rec = self.n.ctl_json("show", ID1)["record"]
        check(rec["id"] == ID1 and rec["facts"]["severity"] == "critical",
              "show --json facts %s" % rec["facts"])
        check(len(rec["effects"]["affected_customers"]) == 2,
              "customers %s" % rec["effects"])
        check(rec["audit"]["verified"] is None, "show claims a verify")
        out, _ = self.expect(0, "show", ID2)
        check("\x1b" not in out and "\\x1b[31mred" in out,
              "show let control characters through")

    def writes(self):
        out, _ = self.expect(0, "contain", ID3, "--note",
                             "blocked 203.0.113.9 at the edge")
        check("recorded as %s" % ME in out, "contain output %r" % out)
        rec = self.n.ctl_json("show", ID3)["record"]
        steps = [x for x in rec["remedial_action"] if x["origin"] == "manual"]
        check(len(steps) == 1 and steps[0]["operator"] == ME and
              steps[0]["detail"] == "blocked 203.0.113.9 at the edge",
              "manual step %s" % steps)
        check(rec["facts"]["state"] == "contained", "state after contain")
        j = self.n.ctl_json("note", ID3, "called the customer\nno answer")
        check(j == {"id": ID3, "operator": ME}, "note --json %s" % j)
        j = self.n.ctl_json("aware", ID3, "2026-11-23T07:00:00Z",
                            "--reason", "support ticket came first")
        check(j["operator"] == ME, "aware %s" % j)
        rec = self.n.ctl_json("show", ID3)["record"]
        check(rec["facts"]["aware"] == "2026-11-23T07:00:00Z" and
              rec["facts"]["deadline"] == "2026-11-26T07:00:00Z",
              "aware/deadline %s" % rec["facts"])
        out, _ = self.expect(0, "show", ID3)
        check(re.search(r"%s:\n    called the customer\n    no answer\n"
                        % re.escape(ME), out), "note not shown:\n%s" % out)
        out, _ = self.expect(0, "close", ID3, "--resolution",
                             "false positive: a support export")
        check("closed" in out, "close output %r" % out)
        rec = self.n.ctl_json("show", ID3)["record"]
        check(rec["facts"]["state"] == "closed" and
              rec["facts"]["closed_by"] == ME and
              rec["facts"]["resolution"] ==
              "false positive: a support export", "closed %s" % rec["facts"])
        _, err = self.expect(1, "close", ID3, "--resolution", "again")
        check("already closed" in err, "second close: %r" % err)
        # nobody can be someone else: the store has the uid's name
        rows = self.n.db("SELECT author FROM notes WHERE incident_id = ?",
                         ID3)
        check(rows == [(ME,)], "note author in the store %s" % rows)

    def report_verify(self):
        out, _ = self.expect(0, "report", ID3)
        check("| Aware | 2026-11-23T07:00:00Z (set: support ticket came "
              "first) |" in out, "report md: awareness time")
        for text in ("blocked 203.0.113.9 at the edge", "called the customer",
                     "false positive: a support export",
                     "support ticket came first", ME):
            check(text in out, "report md lacks %r" % text)
        out, _ = self.expect(0, "report", ID3, "--format", "json")
        j = json.loads(out)
        check(j["format"] == "breachwatch-breach-record" and
              j["audit"]["verified"] is True and j["id"] == ID3,
              "report json %s" % {k: j.get(k) for k in ("format", "id")})
        kinds = sorted({d["kind"] for d in j["decisions"]})
        check(kinds == ["awareness", "closure", "note"],
              "decisions %s" % kinds)
        out, _ = self.expect(0, "verify")
        check(re.match(r"audit chain verified: \d+ entries, head [0-9a-f]{64}",
                       out), "verify %r" % out)
        j = self.n.ctl_json("verify")["verify"]
        check(j["ok"] and j["entries"] > 0, "verify json %s" % j)

    def status(self):
        out, _ = self.expect(0, "status")
        check(re.search(r"^breachwatch-notifier \S+, up ", out, re.M),
              "status head %r" % out[:80])
        check(re.search(r"^AGENT +ADDRESS +LAST MESSAGE", out, re.M),
              "agents table:\n%s" % out)
        check(re.search(r"^db1 +127\.0\.0\.1 +\S+Z +INCIDENT +0 +3 ", out,
                        re.M), "db1 row:\n%s" % out)
        j = self.n.ctl_json("status")["status"]
        check(j["inbox"]["stored"] == 3 and j["you"] == ME,
              "status json %s" % j["inbox"])

    def exit_codes(self):
        for args in (("show", "bw-nope"), ("report", "bw-nope"),
                     ("contain", "bw-nope", "--note", "x"),
                     ("note", "bw-nope", "x"),
                     ("close", "bw-nope", "--resolution", "x")):
            _, err = self.expect(3, *args)
            check("no incident bw-nope" in err, "%s: %r" % (args, err))
        for args in (("show",), ("show", "a", "b"), ("frobnicate",),
                     ("incidents", "--limit", "0"),
                     ("incidents", "--severity", "bogus"),
                     ("incidents", "--state", "gone"),
                     ("incidents", "--since", "yesterday-ish"),
                     ("contain", ID1), ("contain", ID1, "--note", ""),
                     ("aware", ID1, "not-a-time", "--reason", "x"),
                     ("report", ID1, "--format", "pdf"),
                     ("incidents", "--wat")):
            self.expect(2, *args)
        rc, out, err = run([self.cli, "--socket",
                            os.path.join(self.tmp, "nothing.sock"),
                            "incidents"])
        check(rc == 1 and "cannot reach the notifier" in err,
              "no notifier: %d %r" % (rc, err))
        rc, out, _ = run([self.cli, "--help"])
        check(rc == 0 and "Exit status: 0 ok; 1 runtime error" in out,
              "--help")
        rc, out, _ = run([self.cli, "show", "--help"])
        check(rc == 0 and "usage: breachwatch show ID" in out, "show --help")

    def notify(self):
        s = Sender(self.sender_bin, self.n.endpoint, self.n.key + ".pub",
                   os.path.join(self.tmp, "db1.key"))
        try:
            check(s.connect().get("event") == "connected", "no connection")
            for t in (incident(ID4, 1, "db1", customers=["c4001"],
                               notify_customers=False),
                      incident(ID5, 1, "db1", customers=[],
                               notify_customers=False)):
                seq = s.send(t)
                check(s.ack(seq)["status"] == 0, "not stored: %s" % t[:40])
        finally:
            s.close()
        out, _ = self.expect(0, "notify-status", ID4)
        check("\n  1 affected customer; notices:" in out,
              "notify-status: one customer, singular:\n%s" % out)
        out, _ = self.expect(0, "report", ID4)
        check("| severity high, 1 customer, 3 events |" in out,
              "report: one customer, singular:\n%s" % out)
        # a heading after a paragraph has a blank line before it
        check("\nNone recorded yet.\n\n## Audit trail\n" in out,
              "report: no blank line before a heading:\n%s" % out)
        out, _ = self.expect(0, "notify-status", ID4)
        check("notices: not asked for by the rule" in out and
              "breachwatch notify %s --reason" % ID4 in out,
              "notify-status before:\n%s" % out)
        _, err = self.expect(2, "notify", ID4)
        check("--reason is required" in err, "no reason: %r" % err)
        self.expect(2, "notify", ID4, "--reason", "")
        self.expect(2, "notify", ID4, "--reason", "x", "--bogus")
        _, err = self.expect(3, "notify", "bw-nope", "--reason", "x")
        check("no incident bw-nope" in err, "unknown: %r" % err)
        _, err = self.expect(1, "notify", ID5, "--reason", "x")
        check("names no affected customer" in err, "no customer: %r" % err)
        out, _ = self.expect(0, "notify", ID4, "--reason",
                             "ticket 12: staff read it without a ticket")
        check(out == "%s: the customers are to be told (recorded as %s): "
              "each of the 1 affected customer is sent a notice, and each "
              "one named later\n" % (ID4, ME), "notify output %r" % out)
        _, err = self.expect(1, "notify", ID4, "--reason", "again")
        check("already" in err, "second notify: %r" % err)
        # the grouping wait (30 s here) is not over: no update yet
        _, err = self.expect(1, "notify", ID4, "--update", "--reason", "x")
        check("have not been sent their first notice yet" in err,
              "update: %r" % err)
        j = self.n.ctl_json("notify", ID3, "--reason", "the scope is known")
        check(j["decision"] == "notify" and j["operator"] == ME and
              j["customers"] == 2 and j["rule_asks"] is False,
              "notify --json %s" % j)
        out, _ = self.expect(0, "show", ID4)
        check(re.search(r"customers to be told: decided \S+Z by %s "
                        r"\(0 released\): ticket 12" % re.escape(ME), out),
              "show lacks the decision:\n%s" % out)
        out, _ = self.expect(0, "notify-status", ID4)
        check("notices: yes, an operator's decision" in out,
              "notify-status after:\n%s" % out)
        rep = self.n.ctl_json("report", ID4, "--format", "json")
        dec = [d for d in rep["decisions"] if d["kind"] == "notify"]
        check(len(dec) == 1 and dec[0]["by"] == ME, "decisions %s" %
              rep["decisions"])
        rows = self.n.db("SELECT decision, operator FROM approvals WHERE "
                         "incident_id = ?", ID4)
        check(rows == [("notify", ME)], "approvals %s" % rows)
        out, _ = self.expect(0, "verify")
        check(out.startswith("audit chain verified"), "verify %r" % out)
        rc, out, _ = run([self.cli, "--help"])
        check("notify ID --reason TEXT" in out and
              "notify ID --update --reason TEXT" in out, "--help: notify")

    def run(self):
        self.keygen()
        self.check_config()
        self.n.start()
        try:
            self.feed()
            self.incidents()
            self.show()
            self.writes()
            self.report_verify()
            self.status()
            self.exit_codes()
            self.notify()
            check(self.n.stop() == 0, "notifier did not stop cleanly")
            _, err = self.expect(1, "status")
            check("cannot reach the notifier" in err, "after stop: %r" % err)
        finally:
            self.n.kill()


if __name__ == "__main__":
    sys.exit(harness.main(sys.argv, 5, __doc__,
                          lambda args, tmp: Test(*args, tmp), "cli_test"))
