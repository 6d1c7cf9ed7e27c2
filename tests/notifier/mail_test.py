#!/usr/bin/python3
"""mail_test.py - breachwatch-notifier's e-mails against a real SMTP server.

    mail_test.py NOTIFIER CLI SENDER SCENARIO...

NOTIFIER is breachwatch-notifier, CLI breachwatch, SENDER the CURVE test
sender (tests/notifier/test_sender.c). The SMTP server is Debian's aiosmtpd
(tests/notifier/smtp_server.py) on 127.0.0.1, with STARTTLS (a certificate
made for the test with openssl) and AUTH; each message it accepts is parsed
back with Python's email package. Scenarios (all when "all"):

  basic      the team alert and one notice per customer: one recipient
             each, To = the envelope, the headers, text and HTML parts,
             the title and headings, this customer's facts and no one
             else's, HTML escaped, the Message-ID the record holds, TLS and
             AUTH used; a customer not in the directory is recorded
             unresolved and the team told; the notified milestone; show,
             notify-status and report list every message; the chain holds
  retry      421 at EHLO and 451 after the data, then accepted: each
             message delivered once, the failures counted as attempts
  refused    550 for one customer: failed (550 kept), the team told
  down       no server at start: retried, delivered once when it comes up
  ambiguous  no answer after the final dot: ambiguous, the team told, not
             sent again
  rate       a rate limit of 10 messages a second holds; at most 4
             connections, reused
  kill       the notifier killed (SIGKILL) mid-batch: after a restart every
             customer has a notice, and only those that were being sent
             at the kill have two
  bulk       10,000 affected customers in one incident: 10,000 notices,
             one each, plus the team alert, over at most 4 connections
  injection  CR/LF in a directory name and in an incident's title and
             evidence: no header and no recipient added, the customer
             recorded unresolved and the team told
  approve    policy approve: notices held, the team reminded, nothing sent
             to customers until `breachwatch approve`, then each once
  credentials the customers' own mailbox credentials: the notice goes to
             the alternate contact, or is held and the team told
  growth     a revision that adds customers: notices for the new ones
             only, and an escalation alert
  decide     `breachwatch notify ID --reason`: an incident whose rule does
             not notify customers (its alert says how to have them told)
             gets no notice before the command and one per customer after
             it, also for a customer a later revision names; under policy
             approve without a further approval; on a closed incident; a
             second notify refused; show, notify-status and report list
             the decision
  update     `breachwatch notify ID --update --reason`: refused while
             notices are held; then version 2 to exactly the customers
             sent version 1 ("Update to our Notice of Data Breach", another
             Message-ID, In-Reply-To the first, what changed: the
             containment since, a new kind of data, the incident closed),
             the unresolved customer left out and listed to the operator
             and the team; a second update makes version 3
  refusals   notify and --update refused with notify.customers = false,
             for an incident that names no customer (accepted when its
             scope is unknown), --update before any notice was sent; the
             exit codes and messages

Exit status 0 when all pass, 1 on a failure, 2 on a usage error. Bounded
waits, OS-chosen ports, processes stopped by PID; run with /usr/bin/python3.
"""
import email
import email.policy
import glob
import json
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import Failure, Notifier, Sender, check, keygen  # noqa: E402

ME = pwd.getpwuid(os.getuid()).pw_name

HERE = os.path.dirname(os.path.abspath(__file__))
SERVER = os.path.join(HERE, "smtp_server.py")
TEAM = "soc@example.com"
USER, PASSWORD = "bw-relay", "relay s3cret"
HEADINGS = ["What Happened", "What Information Was Involved",
            "What We Are Doing", "What You Can Do", "For More Information"]


def wait_until(fn, timeout, what):
    """fn() until it returns something true; bounded."""
    until = time.monotonic() + timeout
    while True:
        v = fn()
        if v:
            return v
        if time.monotonic() > until:
            raise Failure("timed out (%.0fs) waiting for %s" %
                          (timeout, what))
        time.sleep(0.05)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Smtp:
    """smtp_server.py, one per scenario."""

    def __init__(self, tmp, name, tls=True, auth=True, script=None,
                 port=0):
        self.dir = os.path.join(tmp, name + "-received")
        os.makedirs(self.dir, exist_ok=True)
        argv = ["/usr/bin/python3", SERVER, "--dir", self.dir,
                "--port", str(port)]
        if tls:
            argv += ["--cert", os.path.join(tmp, "cert.pem"),
                     "--key", os.path.join(tmp, "key.pem")]
        if auth:
            argv += ["--auth", "%s:%s" % (USER, PASSWORD)]
        if script is not None:
            path = os.path.join(tmp, name + "-script.json")
            with open(path, "w") as f:
                json.dump(script, f)
            argv += ["--script", path]
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        m = re.match(r"listening (\d+)", line)
        if not m:
            raise Failure("smtp server did not start: %s %s" %
                          (line, self.proc.stderr.read()))
        self.port = int(m.group(1))

    def stop(self):
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait()

    def messages(self):
        """[(meta, message)] in the order received."""
        out = []
        for meta in sorted(glob.glob(os.path.join(self.dir, "*.json"))):
            eml = meta[:-5] + ".eml"
            if not os.path.exists(eml):
                continue
            with open(meta) as f:
                m = json.load(f)
            with open(eml, "rb") as f:
                raw = f.read()
            msg = email.message_from_bytes(raw, policy=email.policy.default)
            m["raw"] = raw
            out.append((m, msg))
        return out

    def count(self):
        return len(glob.glob(os.path.join(self.dir, "*.eml")))


def text_of(msg):
    part = msg.get_body(preferencelist=("plain",))
    return part.get_content() if part is not None else ""


def html_of(msg):
    part = msg.get_body(preferencelist=("html",))
    return part.get_content() if part is not None else ""


def flat(text):
    return re.sub(r"\s+", " ", text)


def inc_json(iid, revision, customers, **kw):
    inc = json.loads(harness.incident(iid, revision, "db1",
                                      customers=customers,
                                      severity=kw.get("severity", "high"),
                                      title=kw.get("title",
                                                   "Contact lists read "
                                                   "in bulk"),
                                      excerpt=kw.get("excerpt",
                                                     "GET /api/contacts")))
    inc["category"] = kw.get("category", "bulk-read")
    inc["credentials"] = kw.get("credentials", False)
    inc["notify_customers"] = kw.get("notify_customers", True)
    inc["affected_unknown"] = kw.get("affected_unknown", False)
    if "data_kinds" in kw:
        inc["data_kinds"] = kw["data_kinds"]
    if "containment" in kw:
        inc["containment"] = kw["containment"]
    return json.dumps(inc)


class Test:
    def __init__(self, args, tmp):
        self.notifier_bin, self.cli, self.sender_bin = args[:3]
        self.scenarios = args[3:]
        self.tmp = tmp
        self.n = None
        self.servers = []
        self.senders = []
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048",
                        "-nodes", "-keyout", os.path.join(tmp, "key.pem"),
                        "-out", os.path.join(tmp, "cert.pem"), "-days", "2",
                        "-subj", "/CN=127.0.0.1",
                        "-addext", "subjectAltName=IP:127.0.0.1"],
                       check=True, capture_output=True, timeout=60)
        pw = os.path.join(tmp, "relay-password")
        with open(pw, "w") as f:
            f.write(PASSWORD + "\n")
        os.chmod(pw, 0o600)

    # --- set-up ---------------------------------------------------------

    def directory(self, name, rows):
        """A CSV directory: rows of (id, name, email, alt, locale)."""
        path = os.path.join(self.tmp, name + "-customers.csv")
        with open(path, "w", newline="") as f:
            f.write("id,name,email,alt_email,locale\r\n")
            for r in rows:
                f.write(",".join('"%s"' % str(v).replace('"', '""')
                                 for v in r) + "\r\n")
        return path

    def notifier(self, name, smtp_port, csv, tls=True, auth=True,
                 mail="", notify="", keep=None):
        """A fresh notifier (or, with keep, the same one restarted)."""
        if keep is not None:
            self.n = keep
            return keep.start()
        d = os.path.join(self.tmp, name)
        os.makedirs(d, exist_ok=True)
        pub = keygen(self.cli, os.path.join(d, "db1"))
        mail_conf = 'transport = "smtp://127.0.0.1:%d"; ' % smtp_port
        if tls:
            mail_conf += 'ca_file = "%s/cert.pem"; ' % self.tmp
        else:
            mail_conf += 'tls = "none"; '
        if auth:
            mail_conf += ('username = "%s"; password_file = '
                          '"%s/relay-password"; ' % (USER, self.tmp))
        extra = """
organisation: { name = "Example Mail"; contact = "privacy@example.com";
  dpo = "Dana Protector, dpo@example.com"; };
directory: { type = "csv"; path = "%s"; };
mail: { %s from = "security-notices@example.com";
  from_name = "Example Mail Security"; retry_min = "200ms";
  retry_max = "1s"; %s %s };
notify: { team = [ "%s" ]; %s
  escalation_interval = "0s"; problem_interval = "0s"; %s };
""" % (csv, mail_conf, 'timeout = "10s";' if "timeout" not in mail else "",
       mail, TEAM,
       'grouping_wait = "300ms";' if "grouping_wait" not in notify else "",
       notify)
        self.n = Notifier(self.notifier_bin, self.cli, d, [pub],
                          max_incident_bytes=4 << 20, extra=extra)
        self.n.agent_key = os.path.join(d, "db1.key")
        return self.n.start()

    def sender(self):
        s = Sender(self.sender_bin, self.n.endpoint, self.n.key + ".pub",
                   self.n.agent_key)
        self.senders.append(s)
        r = s.connect()
        check(r.get("event") == "connected", "not connected: %s" % r)
        return s

    def send(self, s, text):
        seq = s.send(text)
        s.ack(seq)

    def server(self, name, **kw):
        srv = Smtp(self.tmp, name, **kw)
        self.servers.append(srv)
        return srv

    def rows(self, iid, kind=None):
        q = ("SELECT kind, customer_id, recipient, state, attempts, "
             "smtp_code, smtp_text, message_id, hold, detail, "
             "recipient_kind FROM notifications WHERE incident_id = ?")
        args = [iid]
        if kind:
            q += " AND kind = ?"
            args.append(kind)
        return self.n.db(q + " ORDER BY id", *args)

    def done(self):
        for s in self.senders:
            s.close()
        self.senders = []
        if self.n is not None:
            rc = self.n.stop()
            check(rc == 0, "notifier exited %s" % rc)
            bad = [x for x in self.n.log() if harness.SANITIZER.search(x)]
            check(not bad, "sanitizer report:\n%s" % "\n".join(bad))
        for srv in self.servers:
            srv.stop()
        self.servers = []

    def verify(self):
        rc, out, err = self.n.ctl("verify")
        check(rc == 0 and "verified" in out, "verify: %s %s" % (out, err))

    def by_rcpt(self, srv):
        got = {}
        for meta, msg in srv.messages():
            check(len(meta["rcpt_tos"]) == 1,
                  "a message to several recipients: %s" % meta["rcpt_tos"])
            got.setdefault(meta["rcpt_tos"][0], []).append((meta, msg))
        return got

    # --- scenarios ------------------------------------------------------

    def basic(self):
        people = [("c1001", "Zoë Müller", "zoe@example.org", "", "de-AT"),
                  ("c1002", 'Bob "B" <Smith>', "bob@example.org", "",
                   "en")]
        csv = self.directory("basic", people)
        srv = self.server("basic")
        self.notifier("basic", srv.port, csv)
        s = self.sender()
        steps = [{"action": "block-src", "started": "2026-11-23T08:00:01Z",
                  "finished": "2026-11-23T08:00:02Z", "status": "ok",
                  "detail": "exit 0"}]
        self.send(s, inc_json("bw-basic", 1, ["c1001", "c1002", "c1003"],
                              containment=steps))
        wait_until(lambda: srv.count() >= 4, 20, "4 messages")
        got = self.by_rcpt(srv)
        check(set(got) == {TEAM, "zoe@example.org", "bob@example.org"},
              "recipients: %s" % sorted(got))
        for rcpt, msgs in got.items():
            check(len(msgs) == 1 or rcpt == TEAM,
                  "%s got %d messages" % (rcpt, len(msgs)))
        rows = {r[1]: r for r in self.rows("bw-basic", "customer_notice")}
        check(rows["c1003"][3] == "unresolved" and
              "not in" in rows["c1003"][9],
              "c1003: %s" % (rows["c1003"],))
        for cid, _, addr, _, _ in people:
            meta, msg = got[addr][0]
            check(meta["tls"] and meta["auth"] == USER,
                  "%s: not over TLS with AUTH: %s" % (addr, meta))
            check(meta["mail_from"] == "security-notices@example.com",
                  "MAIL FROM %s" % meta["mail_from"])
            check(msg["To"].addresses[0].addr_spec == addr,
                  "To %s for envelope %s" % (msg["To"], addr))
            check(len(msg["To"].addresses) == 1 and msg["Cc"] is None and
                  msg["Bcc"] is None, "%s: more than one recipient" % addr)
            check(str(msg["Subject"]) == "Notice of Data Breach",
                  "Subject %s" % msg["Subject"])
            check(msg["Auto-Submitted"] == "auto-generated",
                  "Auto-Submitted %s" % msg["Auto-Submitted"])
            check(msg["Date"].datetime is not None, "no Date")
            check(msg["Message-ID"] == rows[cid][7],
                  "Message-ID %s, the record has %s" %
                  (msg["Message-ID"], rows[cid][7]))
            check(rows[cid][3] == "sent" and rows[cid][5] == 250,
                  "%s: %s" % (cid, rows[cid]))
            check(msg.get_content_type() == "multipart/alternative",
                  "%s: %s" % (addr, msg.get_content_type()))
            check(b"\r\n" in meta["raw"] and
                  not re.search(rb"[^\r]\n", meta["raw"]),
                  "bare LF in the message")
            text, html = flat(text_of(msg)), flat(html_of(msg))
            check("NOTICE OF DATA BREACH" in text and
                  "Notice of Data Breach" in html, "no title")
            pos = 0
            for h in HEADINGS:
                i = text.find(h, pos)
                check(i >= 0, "%s: heading %s missing or out of order" %
                      (addr, h))
                pos = i
                check("<h2>%s</h2>" % h in html, "HTML lacks %s" % h)
            check("c1001" not in text or cid == "c1001", "c1001 leaked")
            check("c1002" not in text or cid == "c1002", "c1002 leaked")
            check("c1003" not in text and "c1003" not in html,
                  "another customer's id in %s's notice" % cid)
            check("GET /api/contacts" not in text, "evidence leaked")
            check("203.0.113.9" not in text, "the actor leaked")
            check("privacy@example.com" in text and "Dana Protector" in
                  text, "no contact point or DPO")
            check("We blocked the network address" in text,
                  "containment not told: %s" % text)
            check("%s / %s" % ("bw-basic", cid) in text, "no reference")
        bob = html_of(got["bob@example.org"][0][1])
        check("Bob &quot;B&quot; &lt;Smith&gt;" in bob,
              "the name not escaped in HTML")
        check("Dear Bob \"B\" <Smith>" in text_of(got["bob@example.org"][0][1]),
              "the name in the text part")
        zoe = got["zoe@example.org"][0][1]
        check(str(zoe["To"]) == "Zoë Müller <zoe@example.org>",
              "To %s" % zoe["To"])
        check(b"=?UTF-8?B?" in got["zoe@example.org"][0][0]["raw"],
              "a non-ASCII name not RFC 2047-encoded")
        # the team: alert, and told about c1003
        team = [m for _, m in got[TEAM]]
        alert = [m for m in team if "[breachwatch] high" in str(m["Subject"])]
        check(len(alert) == 1, "team alerts: %s" % [str(m["Subject"])
                                                    for m in team])
        body = text_of(alert[0])
        for want in ("AFFECTED CUSTOMERS: 3", "c1001", "c1003",
                     "GET /api/contacts", "breachwatch show bw-basic",
                     "72 hours", "block-src: ok", "Rule"):
            check(want in body, "team alert lacks %r" % want)
        wait_until(lambda: any("could not be told" in text_of(m)
                               for _, m in self.by_rcpt(srv).get(TEAM, [])),
                   10, "the team told about c1003")
        # the record: notified; show, notify-status, report
        wait_until(lambda: self.n.db("SELECT notified_us FROM incidents "
                                     "WHERE incident_id = 'bw-basic'")
                   [0][0], 10, "the notified milestone")
        st = self.n.ctl_json("notify-status", "bw-basic")["notify_status"]
        counts = st["notifications"]["counts"]
        check(counts["customer_notice"] == {"sent": 2, "unresolved": 1},
              "counts %s" % counts)
        rc, out, _ = self.n.ctl("notify-status", "bw-basic")
        check(rc == 0 and "zoe@example.org" in out and "unresolved" in out,
              "notify-status: %s" % out)
        rc, out, _ = self.n.ctl("show", "bw-basic")
        check(rc == 0 and "Notifications" in out and "bob@example.org" in out,
              "show: %s" % out)
        rep = self.n.ctl_json("report", "bw-basic", "--format", "json")
        msgs = rep["notifications"]["messages"]
        check(len(msgs) >= 4 and all(m["message_id"] for m in msgs
                                     if m["state"] == "sent"),
              "report: %s" % msgs)
        rc, out, _ = self.n.ctl("report", "bw-basic")
        check("## Notifications" in out and "customer notice" in out,
              "Markdown report without notifications")
        self.verify()
        self.done()

    def retry(self):
        csv = self.directory("retry", [("c1", "Ann", "ann@example.org", "",
                                         "")])
        srv = self.server("retry", script={"ehlo_421": 1, "data_451": 1})
        self.notifier("retry", srv.port, csv)
        s = self.sender()
        self.send(s, inc_json("bw-retry", 1, ["c1"]))
        wait_until(lambda: srv.count() >= 2, 20, "2 messages")
        time.sleep(1.0)  # nothing more comes
        got = self.by_rcpt(srv)
        check(len(got.get("ann@example.org", [])) == 1 and
              len(got.get(TEAM, [])) == 1,
              "each once: %s" % {k: len(v) for k, v in got.items()})
        rows = self.rows("bw-retry")
        check(all(r[3] == "sent" for r in rows), "states %s" % rows)
        check(sum(r[4] for r in rows) == len(rows) + 2,
              "two failures counted as attempts: %s" % rows)
        self.verify()
        self.done()

    def refused(self):
        csv = self.directory("refused", [
            ("c1", "Ann", "ann@example.org", "", ""),
            ("c2", "Ben", "ben@example.org", "", "")])
        srv = self.server("refused", script={"rcpt_550": ["ann@example.org"]})
        self.notifier("refused", srv.port, csv)
        s = self.sender()
        self.send(s, inc_json("bw-refused", 1, ["c1", "c2"]))
        wait_until(lambda: any(r[3] == "failed" for r in
                               self.rows("bw-refused", "customer_notice")),
                   20, "the failure")
        rows = {r[1]: r for r in self.rows("bw-refused", "customer_notice")}
        check(rows["c1"][5] == 550 and "550" in rows["c1"][6],
              "c1: %s" % (rows["c1"],))
        wait_until(lambda: any("c1" in text_of(m) and "550" in text_of(m)
                               for _, m in self.by_rcpt(srv).get(TEAM, [])),
                   10, "the team told about the 550")
        check(len(self.by_rcpt(srv).get("ben@example.org", [])) == 1,
              "c2 not delivered")
        check(any("FAILED" in x for x in self.n.log()), "not logged")
        self.done()

    def down(self):
        csv = self.directory("down", [("c1", "Ann", "ann@example.org", "",
                                        "")])
        port = free_port()
        self.notifier("down", port, csv)
        s = self.sender()
        self.send(s, inc_json("bw-down", 1, ["c1"]))
        wait_until(lambda: sum(r[4] for r in self.rows("bw-down")) >= 2,
                   20, "failed attempts while the server is down")
        check(all(r[3] == "pending" for r in self.rows("bw-down")),
              "states %s" % (self.rows("bw-down"),))
        srv = self.server("down", port=port)
        wait_until(lambda: srv.count() >= 2, 20, "delivery once it is up")
        time.sleep(1.0)
        got = self.by_rcpt(srv)
        check(len(got.get("ann@example.org", [])) == 1 and
              len(got.get(TEAM, [])) == 1, "each once: %s" % sorted(got))
        self.done()

    def kill(self):
        ids = ["k%03d" % i for i in range(200)]
        csv = self.directory("kill", [(c, "Cust " + c, c + "@example.org",
                                       "", "") for c in ids])
        srv = self.server("kill", script={"delay_ms": 20})
        self.notifier("kill", srv.port, csv, mail="connections = 2;")
        n = self.n
        s = self.sender()
        self.send(s, inc_json("bw-kill", 1, ids))
        wait_until(lambda: srv.count() >= 60, 60, "60 messages")
        n.kill()
        for x in self.senders:
            x.close()
        self.senders = []
        sending = {r[1] for r in self.rows("bw-kill", "customer_notice")
                   if r[3] == "sending"}
        sent_before = srv.count()
        check(sent_before < 201, "all sent before the kill")
        self.notifier("kill", srv.port, csv, keep=n)
        wait_until(lambda: len({m["rcpt_tos"][0] for m, _ in srv.messages()})
                   >= 201, 120, "every customer after the restart")
        time.sleep(1.0)
        got = self.by_rcpt(srv)
        twice = {a.split("@")[0] for a, v in got.items()
                 if len(v) > 1 and a != TEAM}
        check(all(len(v) <= 2 for v in got.values()), "three times")
        check(twice <= sending,
              "sent twice but not taken at the kill: %s (taken: %s)" %
              (sorted(twice - sending), sorted(sending)))
        # taken rows wait in the mailer's queue; on the wire are at most
        # as many as connections (2): only those can go twice
        check(len(twice) <= 2, "%d sent twice with 2 connections: %s" %
              (len(twice), sorted(twice)))
        rows = self.rows("bw-kill", "customer_notice")
        check(len(rows) == 200 and all(r[3] == "sent" for r in rows),
              "not all sent: %s" % [r for r in rows if r[3] != "sent"][:3])
        self.verify()
        self.log("kill: %d sent before the kill, %d taken, %d twice" %
                 (sent_before, len(sending), len(twice)))
        self.done()

    def bulk(self):
        ids = ["b%05d" % i for i in range(10000)]
        csv = self.directory("bulk", [(c, "Customer " + c, c + "@example.org",
                                       "", "") for c in ids])
        srv = self.server("bulk", tls=False, auth=False)
        self.notifier("bulk", srv.port, csv, tls=False, auth=False,
                      notify='grouping_wait = "0s";')
        s = self.sender()
        t0 = time.monotonic()
        self.send(s, inc_json("bw-bulk", 1, ids))
        wait_until(lambda: srv.count() >= 10001, 600, "10,001 messages")
        took = time.monotonic() - t0
        time.sleep(1.0)
        # the envelopes of all, the messages of a sample
        rcpts = {}
        for path in glob.glob(os.path.join(srv.dir, "*.json")):
            with open(path) as f:
                meta = json.load(f)
            check(len(meta["rcpt_tos"]) == 1, "several recipients")
            rcpts[meta["rcpt_tos"][0]] = rcpts.get(meta["rcpt_tos"][0],
                                                   0) + 1
        check(len(rcpts) == 10001, "%d recipients" % len(rcpts))
        peers = set()
        for path in glob.glob(os.path.join(srv.dir, "*.json")):
            with open(path) as f:
                peers.add(json.load(f)["peer"][1])
        check(len(peers) <= 4, "%d connections for 10,001 messages (4 "
              "allowed, each reused)" % len(peers))
        check(all(v == 1 for v in rcpts.values()), "a customer told twice")
        for path in sorted(glob.glob(os.path.join(srv.dir, "*.eml")))[::997]:
            with open(path, "rb") as f:
                msg = email.message_from_bytes(f.read(),
                                               policy=email.policy.default)
            to = msg["To"].addresses[0].addr_spec
            if to != TEAM:
                cid = to.split("@")[0]
                check("%s / %s" % ("bw-bulk", cid) in flat(text_of(msg)),
                      "%s: not its own notice" % to)
        check(all(self.n.db("SELECT COUNT(*) FROM notifications WHERE "
                            "state <> 'sent'")[0][0] == 0 for _ in [0]),
              "not all sent")
        self.log("bulk: 10,000 notices accepted in %.1f s" % took)
        self.done()

    def injection(self):
        csv = self.directory("inj", [
            ("c1", "Eve\r\nBcc: all@evil.example", "eve@example.org", "",
             ""),
            ("c2", "=?UTF-8?B?QmNjOiB4?= Ann", "ann@example.org", "", ""),
            ("c3", "Carl", "carl@example.org\r\nBcc: all@evil.example", "",
             "")])
        srv = self.server("inj")
        self.notifier("inj", srv.port, csv)
        check(any("customers.csv:2" in x and "line break" in x
                  for x in self.n.log()), "the refused row not logged")
        s = self.sender()
        self.send(s, inc_json("bw-inj", 1, ["c1", "c2", "c3"],
                              title="Bulk read\r\nBcc: all@evil.example",
                              excerpt="GET /x\r\nBcc: all@evil.example\r\n"
                                      "\r\n.\r\nMAIL FROM:<x@evil.example>"))
        wait_until(lambda: srv.count() >= 3, 20, "3 messages")
        time.sleep(0.5)
        for meta, msg in srv.messages():
            check(meta["rcpt_tos"] in ([TEAM], ["ann@example.org"]),
                  "a recipient was added: %s" % meta["rcpt_tos"])
            check(msg["Bcc"] is None, "a Bcc header was added")
            check(b"\r\nBcc:" not in meta["raw"].split(b"\r\n\r\n")[0],
                  "Bcc in the headers")
            check("\n" not in str(msg["Subject"]), "a multi-line subject")
        ann = self.by_rcpt(srv)["ann@example.org"][0][1]
        check(str(ann["To"]).startswith("=?UTF-8?B?QmNjOiB4?= Ann") or
              "QmNjOiB4" in str(ann["To"]) or "Bcc: x" in str(ann["To"]),
              "To: %s" % ann["To"])
        rows = {r[1]: r for r in self.rows("bw-inj", "customer_notice")}
        check(rows["c1"][3] == "unresolved" and "line break" in rows["c1"][9],
              "c1: %s" % (rows["c1"],))
        check(rows["c3"][3] == "unresolved", "c3: %s" % (rows["c3"],))
        wait_until(lambda: any("c1" in text_of(m) and "c3" in text_of(m)
                               for _, m in self.by_rcpt(srv).get(TEAM, [])),
                   10, "the team told about c1 and c3")
        self.done()

    def approve(self):
        csv = self.directory("appr", [
            ("c1", "Ann", "ann@example.org", "", ""),
            ("c2", "Ben", "ben@example.org", "", "")])
        srv = self.server("appr")
        self.notifier("appr", srv.port, csv,
                      notify='policy_severity = { critical = "approve"; }; '
                             'reminder_interval = "1s";')
        s = self.sender()
        self.send(s, inc_json("bw-appr", 1, ["c1", "c2"],
                              severity="critical"))
        wait_until(lambda: len(self.by_rcpt(srv).get(TEAM, [])) >= 3, 20,
                   "the alert and two reminders")
        team = [m for _, m in self.by_rcpt(srv)[TEAM]]
        check(any("await approval" in str(m["Subject"]) for m in team),
              "no reminder: %s" % [str(m["Subject"]) for m in team])
        check("breachwatch approve bw-appr" in text_of(team[0]),
              "the alert does not say how to approve")
        rows = self.rows("bw-appr", "customer_notice")
        check(len(rows) == 2 and all(r[3] == "held" and r[8] == "approval"
                                     for r in rows), "held: %s" % rows)
        check(set(self.by_rcpt(srv)) == {TEAM}, "a customer was told early")
        rc, out, err = self.n.ctl("approve", "bw-appr", "--reason",
                                  "checked with legal")
        check(rc == 0 and "2 held customer notices released" in out,
              "approve: %d %s %s" % (rc, out, err))
        wait_until(lambda: {"ann@example.org", "ben@example.org"} <=
                   set(self.by_rcpt(srv)), 20, "the notices after approval")
        time.sleep(1.2)
        got = self.by_rcpt(srv)
        check(len(got["ann@example.org"]) == 1 and
              len(got["ben@example.org"]) == 1, "each once")
        ap = self.n.db("SELECT operator, reason, released FROM approvals")
        check(len(ap) == 1 and ap[0][1] == "checked with legal" and
              ap[0][2] == 2, "approvals: %s" % ap)
        rc, out, _ = self.n.ctl("approve", "bw-nope")
        check(rc == 3, "approve of an unknown incident: %d" % rc)
        self.verify()
        self.done()

    def credentials(self):
        csv = self.directory("cred", [
            ("c1", "Ann", "ann@example.org", "ann.private@example.net", ""),
            ("c2", "Ben", "ben@example.org", "", "")])
        srv = self.server("cred")
        self.notifier("cred", srv.port, csv)
        s = self.sender()
        self.send(s, inc_json("bw-cred", 1, ["c1", "c2"], credentials=True,
                              category="credential-attack"))
        wait_until(lambda: "ann.private@example.net" in self.by_rcpt(srv),
                   20, "the notice to the alternate contact")
        wait_until(lambda: any("reach them another way" in text_of(m) and
                               "c2" in text_of(m)
                               for _, m in self.by_rcpt(srv).get(TEAM, [])),
                   10, "the team told to reach c2 another way")
        got = self.by_rcpt(srv)
        check("ann@example.org" not in got and "ben@example.org" not in got,
              "a notice went to the breached mailbox: %s" % sorted(got))
        check("alternate contact" in flat(text_of(
            got["ann.private@example.net"][0][1])), "not said why")
        rows = {r[1]: r for r in self.rows("bw-cred", "customer_notice")}
        check(rows["c1"][10] == "alternate" and rows["c2"][3] == "held" and
              rows["c2"][8] == "credentials", "rows %s" % rows)
        self.done()

    def growth(self):
        csv = self.directory("grow", [(c, c.upper(), c + "@example.org", "",
                                       "") for c in ("g1", "g2", "g3")])
        srv = self.server("grow")
        self.notifier("grow", srv.port, csv)
        s = self.sender()
        self.send(s, inc_json("bw-grow", 1, ["g1", "g2"]))
        wait_until(lambda: srv.count() >= 3, 20, "alert and 2 notices")
        self.send(s, inc_json("bw-grow", 2, ["g1", "g2", "g3"]))
        wait_until(lambda: "g3@example.org" in self.by_rcpt(srv), 20,
                   "g3's notice")
        wait_until(lambda: len(self.by_rcpt(srv).get(TEAM, [])) >= 2, 10,
                   "the escalation alert")
        time.sleep(1.0)
        got = self.by_rcpt(srv)
        for g in ("g1", "g2", "g3"):
            check(len(got[g + "@example.org"]) == 1, "%s told %d times" %
                  (g, len(got[g + "@example.org"])))
        check(any("Escalation" in text_of(m) and "3 affected" in text_of(m)
                  for _, m in got[TEAM]), "no escalation alert")
        self.done()

    def ambiguous(self):
        csv = self.directory("amb", [
            ("c1", "Ann", "ann@example.org", "", ""),
            ("c2", "Ben", "ben@example.org", "", "")])
        srv = self.server("amb", script={"hang": ["ann@example.org"]})
        self.notifier("amb", srv.port, csv, mail='timeout = "2s";')
        s = self.sender()
        self.send(s, inc_json("bw-amb", 1, ["c1", "c2"]))
        wait_until(lambda: any(r[3] == "ambiguous" for r in
                               self.rows("bw-amb", "customer_notice")),
                   20, "the ambiguous delivery")
        rows = {r[1]: r for r in self.rows("bw-amb", "customer_notice")}
        check(rows["c1"][4] == 1 and "may have been delivered" in
              rows["c1"][9], "c1: %s" % (rows["c1"],))
        wait_until(lambda: any(r[1] == "c2" and r[3] == "sent" for r in
                               self.rows("bw-amb", "customer_notice")),
                   20, "c2 sent")
        wait_until(lambda: any("c1" in text_of(m) and "ambiguous" in
                               text_of(m)
                               for _, m in self.by_rcpt(srv).get(TEAM, [])),
                   10, "the team told about c1")
        time.sleep(3.0)  # past the back-off and the timeout: not again
        rows = {r[1]: r for r in self.rows("bw-amb", "customer_notice")}
        check(rows["c1"][3] == "ambiguous" and rows["c1"][4] == 1,
              "an ambiguous notice was tried again: %s" % (rows["c1"],))
        check(any("AMBIGUOUS" in x for x in self.n.log()), "not logged")
        self.done()

    def rate(self):
        ids = ["r%02d" % i for i in range(30)]
        csv = self.directory("rate", [(c, c, c + "@example.org", "", "")
                                      for c in ids])
        srv = self.server("rate")
        self.notifier("rate", srv.port, csv, mail="rate = 10;")
        s = self.sender()
        self.send(s, inc_json("bw-rate", 1, ids))
        wait_until(lambda: srv.count() >= 31, 30, "31 messages")
        at = sorted(m["at"] for m, _ in srv.messages())
        # 31 messages at 10 a second, a burst of one second's worth:
        # about 2 s at least from the first to the last
        check(at[-1] - at[0] >= 1.7, "31 messages in %.2f s at 10/s" %
              (at[-1] - at[0]))
        # each message on one of at most 4 connections, kept and reused
        peers = {m["peer"][1] for m, _ in srv.messages()}
        check(1 <= len(peers) <= 4, "%d connections for 31 messages" %
              len(peers))
        self.log("rate: 31 messages in %.2f s over %d connections" %
                 (at[-1] - at[0], len(peers)))
        self.done()

    def decide(self):
        people = [(c, c.upper(), c + "@example.org", "", "")
                  for c in ("d1", "d2", "d4", "p1", "p2", "x1")]
        csv = self.directory("decide", people)
        srv = self.server("decide")
        self.notifier("decide", srv.port, csv,
                      notify='policy_severity = { critical = "approve"; }; '
                             'reminder_interval = "1s";')
        s = self.sender()
        self.send(s, inc_json("bw-dec", 1, ["d1", "d2", "d3"],
                              notify_customers=False,
                              title="Staff read customer data"))
        wait_until(lambda: TEAM in self.by_rcpt(srv), 20, "the team alert")
        alert = text_of(self.by_rcpt(srv)[TEAM][0][1])
        check("does not ask for customer notices" in alert and
              "breachwatch notify bw-dec --reason" in alert,
              "the alert does not say how to have the customers told:\n%s"
              % alert)
        time.sleep(1.5)  # well past the grouping wait: nothing is made
        check(set(self.by_rcpt(srv)) == {TEAM},
              "a customer was told before the command: %s" %
              sorted(self.by_rcpt(srv)))
        check(self.rows("bw-dec", "customer_notice") == [],
              "notices made before the command")
        rc, out, err = self.n.ctl("notify", "bw-dec", "--reason",
                                  "ticket 4711: no reason to read them")
        check(rc == 0 and "each of the 3 affected customers" in out and
              "recorded as %s" % ME in out,
              "notify: %d %s %s" % (rc, out, err))
        wait_until(lambda: {"d1@example.org", "d2@example.org"} <=
                   set(self.by_rcpt(srv)), 20, "d1's and d2's notices")
        rows = {r[1]: r for r in self.rows("bw-dec", "customer_notice")}
        check(rows["d3"][3] == "unresolved", "d3: %s" % (rows["d3"],))
        # a customer a later revision names is told too
        self.send(s, inc_json("bw-dec", 2, ["d1", "d2", "d3", "d4"],
                              notify_customers=False,
                              title="Staff read customer data"))
        wait_until(lambda: "d4@example.org" in self.by_rcpt(srv), 20,
                   "d4's notice")
        time.sleep(1.0)
        got = self.by_rcpt(srv)
        for c in ("d1", "d2", "d4"):
            check(len(got[c + "@example.org"]) == 1, "%s told %d times" %
                  (c, len(got[c + "@example.org"])))
            check(str(got[c + "@example.org"][0][1]["Subject"]) ==
                  "Notice of Data Breach", "%s: subject" % c)
        rc, out, err = self.n.ctl("notify", "bw-dec", "--reason", "again")
        check(rc == 1 and "already" in err, "second notify: %d %s" %
              (rc, err))
        ap = self.n.db("SELECT decision, operator, reason, customers FROM "
                       "approvals WHERE incident_id = 'bw-dec'")
        check(ap == [("notify", ME, "ticket 4711: no reason to read them",
                      3)], "approvals %s" % ap)
        rc, out, _ = self.n.ctl("show", "bw-dec")
        check("customers to be told: decided" in out and
              "ticket 4711" in out, "show lacks the decision:\n%s" % out)
        rc, out, _ = self.n.ctl("notify-status", "bw-dec")
        check("notices: yes, an operator's decision" in out and
              "customers to be told: decided" in out,
              "notify-status:\n%s" % out)
        rep = self.n.ctl_json("report", "bw-dec", "--format", "json")
        dec = [d for d in rep["decisions"] if d["kind"] == "notify"]
        check(len(dec) == 1 and dec[0]["by"] == ME and
              dec[0]["reason"] == "ticket 4711: no reason to read them",
              "report decisions %s" % rep["decisions"])
        check(rep["effects"]["notify_decided"] is True and
              rep["effects"]["notify_customers"] is False, "effects")
        check(any(t["kind"] == "approval" and "customers to be told" in
                  t["event"] for t in rep["timeline"]), "timeline")
        rc, out, _ = self.n.ctl("report", "bw-dec")
        check("**notify** by %s" % ME in out and
              "yes (an operator's decision)" in out,
              "Markdown report:\n%s" % out)
        # policy approve: the decision is the approval
        self.send(s, inc_json("bw-decp", 1, ["p1", "p2"], severity="critical",
                              notify_customers=False))
        wait_until(lambda: len(self.by_rcpt(srv)[TEAM]) >= 2, 20,
                   "bw-decp's alert")
        rc, out, err = self.n.ctl("notify", "bw-decp", "--reason", "legal")
        check(rc == 0, "notify bw-decp: %d %s" % (rc, err))
        wait_until(lambda: {"p1@example.org", "p2@example.org"} <=
                   set(self.by_rcpt(srv)), 20, "bw-decp's notices")
        rows = self.rows("bw-decp", "customer_notice")
        check(all(r[3] == "sent" and r[8] is None for r in rows),
              "held although decided: %s" % rows)
        check(not any("await approval" in str(m["Subject"])
                      for _, m in self.by_rcpt(srv)[TEAM]),
              "a reminder to approve what was decided")
        # a closed incident: the decision is allowed and holds
        self.send(s, inc_json("bw-decc", 1, ["x1"], notify_customers=False))
        rc, _, err = self.n.ctl("close", "bw-decc", "--resolution",
                                "investigated: the customer must know")
        check(rc == 0, "close: %s" % err)
        rc, out, err = self.n.ctl("notify", "bw-decc", "--reason", "after")
        check(rc == 0, "notify on a closed incident: %d %s" % (rc, err))
        wait_until(lambda: "x1@example.org" in self.by_rcpt(srv), 20,
                   "x1's notice (closed incident)")
        self.verify()
        self.done()

    def update(self):
        people = [("u1", "Una", "u1@example.org", "", ""),
                  ("u2", "Udo", "u2@example.org", "", "")]
        csv = self.directory("update", people)
        srv = self.server("update")
        self.notifier("update", srv.port, csv,
                      notify='policy_severity = { critical = "approve"; };')
        s = self.sender()
        self.send(s, inc_json("bw-upd", 1, ["u1", "u2", "u3"],
                              severity="critical"))
        wait_until(lambda: len([r for r in self.rows("bw-upd",
                                                     "customer_notice")
                                if r[3] == "held"]) == 2, 20,
                   "the notices held for approval")
        rc, out, err = self.n.ctl("notify", "bw-upd", "--update", "--reason",
                                  "too early")
        check(rc == 1 and "still waiting to be sent" in err and
              "held for approval" in err,
              "update while held: %d %s" % (rc, err))
        check(self.n.db("SELECT COUNT(*) FROM approvals")[0][0] == 0,
              "a refused update was recorded")
        rc, out, err = self.n.ctl("approve", "bw-upd")
        check(rc == 0, "approve: %s" % err)
        wait_until(lambda: all(r[3] in ("sent", "unresolved") for r in
                               self.rows("bw-upd", "customer_notice")),
                   20, "version 1 sent")
        v1 = {r[1]: r for r in self.rows("bw-upd", "customer_notice")}
        # the investigation goes on: a step succeeds, a new kind of data,
        # then the incident is closed
        step = [{"action": "block-src", "started": "2026-11-23T09:00:00Z",
                 "finished": "2026-11-23T09:00:01Z", "status": "ok",
                 "detail": "exit 0"}]
        self.send(s, inc_json("bw-upd", 2, ["u1", "u2", "u3"],
                              severity="critical", containment=step,
                              data_kinds=["contact_list", "message"]))
        rc, _, err = self.n.ctl("close", "bw-upd", "--resolution", "done")
        check(rc == 0, "close: %s" % err)
        rc, out, err = self.n.ctl("notify", "bw-upd", "--update", "--reason",
                                  "containment done; messages were read")
        check(rc == 0 and "2 customers sent a notice get the next version"
              in out and "not included: 1 customer" in out and
              "u3  unresolved" in out, "update: %d %s %s" % (rc, out, err))
        wait_until(lambda: all(len(self.by_rcpt(srv).get(a, [])) == 2
                               for a in ("u1@example.org", "u2@example.org")),
                   20, "the updates")
        time.sleep(1.0)
        got = self.by_rcpt(srv)
        rows = self.rows("bw-upd", "customer_notice")
        v2 = {r[1]: r for r in rows if r[7] and ".2@" in r[7]}
        check(sorted(v2) == ["u1", "u2"], "version 2 rows: %s" % rows)
        check(self.n.db("SELECT customer_id, version FROM notifications "
                        "WHERE kind = 'customer_notice' AND version > 1 "
                        "ORDER BY customer_id") == [("u1", 2), ("u2", 2)],
              "versions")
        for c in ("u1", "u2"):
            msgs = [m for _, m in got[c + "@example.org"]]
            check(len(msgs) == 2, "%s got %d" % (c, len(msgs)))
            upd = msgs[1]
            check(str(upd["Subject"]) == "Update to our Notice of Data "
                  "Breach", "subject %s" % upd["Subject"])
            check(upd["Message-ID"] == v2[c][7] and
                  upd["Message-ID"] != v1[c][7], "Message-ID %s (v1 %s)" %
                  (upd["Message-ID"], v1[c][7]))
            check(upd["In-Reply-To"] == v1[c][7], "In-Reply-To %s" %
                  upd["In-Reply-To"])
            text = flat(text_of(upd))
            for want in ("with an update to the notice of data breach we "
                         "sent you on", "What has changed since then",
                         "We blocked the network address",
                         "also involved the contents of e-mail messages",
                         "We completed our investigation of the incident",
                         "bw-upd / %s" % c):
                check(want in text, "%s's update lacks %r:\n%s" %
                      (c, want, text))
            pos = 0
            for h in HEADINGS:
                i = text.find(h, pos)
                check(i >= 0, "update: heading %s missing" % h)
                pos = i
            check("What has changed" in html_of(upd), "HTML part")
            mine = text.replace("bw-upd / %s" % c, "")
            for other in {"u1", "u2", "u3"} - {c}:
                check(other not in mine, "%s in %s's update" % (other, c))
        wait_until(lambda: any("update" in text_of(m) and "u3" in text_of(m)
                               and "get none" in flat(text_of(m))
                               for _, m in self.by_rcpt(srv)[TEAM]),
                   10, "the team told u3 gets no update")
        rc, out, _ = self.n.ctl("notify-status", "bw-upd")
        check("update v2" in out and "update asked for" in out,
              "notify-status:\n%s" % out)
        # a second update: version 3, to the same customers
        rc, out, err = self.n.ctl("notify", "bw-upd", "--update", "--reason",
                                  "final word")
        check(rc == 0 and "2 customers" in out, "second update: %s %s" %
              (out, err))
        wait_until(lambda: all(len(self.by_rcpt(srv).get(a, [])) == 3
                               for a in ("u1@example.org", "u2@example.org")),
                   20, "version 3")
        time.sleep(0.5)
        v3 = self.n.db("SELECT customer_id, message_id FROM notifications "
                       "WHERE version = 3 AND kind = 'customer_notice' "
                       "ORDER BY customer_id")
        check([c for c, _ in v3] == ["u1", "u2"], "version 3: %s" % v3)
        third = self.by_rcpt(srv)["u1@example.org"][2][1]
        check(third["In-Reply-To"] == v2["u1"][7] and
              "has not changed since then" in flat(text_of(third)),
              "version 3 text:\n%s" % text_of(third))
        rep = self.n.ctl_json("report", "bw-upd", "--format", "json")
        kinds = [d["kind"] for d in rep["decisions"]]
        check(kinds.count("update") == 2 and "approval" in kinds,
              "decisions %s" % kinds)
        rc, out, _ = self.n.ctl("report", "bw-upd")
        check("customer notice (update, version 2)" in out and
              "**update** by %s" % ME in out, "Markdown report:\n%s" % out)
        self.verify()
        self.done()

    def refusals(self):
        csv = self.directory("refu", [("r1", "R", "r1@example.org", "", "")])
        srv = self.server("refu")
        self.notifier("refu", srv.port, csv)
        s = self.sender()
        self.send(s, inc_json("bw-none", 1, [], notify_customers=False))
        self.send(s, inc_json("bw-unk", 1, [], notify_customers=False,
                              affected_unknown=True))
        self.send(s, inc_json("bw-quiet", 1, ["r1"], notify_customers=False))
        rc, _, err = self.n.ctl("notify", "bw-none", "--reason", "x")
        check(rc == 1 and "names no affected customer" in err,
              "no customers: %d %s" % (rc, err))
        rc, out, err = self.n.ctl("notify", "bw-unk", "--reason", "x")
        check(rc == 0 and "no customer is named yet" in out,
              "scope unknown: %d %s %s" % (rc, out, err))
        rc, _, err = self.n.ctl("notify", "bw-quiet", "--update", "--reason",
                                "x")
        check(rc == 1 and "nothing to update" in err,
              "update before any notice: %d %s" % (rc, err))
        rc, _, err = self.n.ctl("notify", "bw-nope", "--reason", "x")
        check(rc == 3 and "no incident bw-nope" in err, "unknown: %d %s" %
              (rc, err))
        for args in (("notify", "bw-quiet"), ("notify", "bw-quiet",
                                              "--reason", ""),
                     ("notify", "--reason", "x")):
            rc, _, err = self.n.ctl(*args)
            check(rc == 2, "%s: %d %s" % (args, rc, err))
        check(self.n.db("SELECT decision FROM approvals") == [("notify",)],
              "refusals recorded: %s" % self.n.db("SELECT * FROM approvals"))
        self.done()
        # customer notices turned off in the configuration
        srv = self.server("refu-off")
        self.notifier("refu-off", srv.port, csv, notify="customers = false;")
        s = self.sender()
        self.send(s, inc_json("bw-off", 1, ["r1"], notify_customers=False))
        wait_until(lambda: TEAM in self.by_rcpt(srv), 20, "the alert")
        alert = text_of(self.by_rcpt(srv)[TEAM][0][1])
        check("notify.customers = false" in alert and
              "breachwatch notify bw-off --reason" not in alert,
              "alert:\n%s" % alert)
        for extra in ([], ["--update"]):
            rc, _, err = self.n.ctl("notify", "bw-off", "--reason", "x",
                                    *extra)
            check(rc == 1 and "notify.customers = false" in err,
                  "notify %s with customers off: %d %s" % (extra, rc, err))
        self.verify()
        self.done()

    def log(self, line):
        print(line, flush=True)

    def run(self):
        order = ["basic", "retry", "refused", "down", "ambiguous", "rate",
                 "approve", "credentials", "growth", "injection", "kill",
                 "decide", "update", "refusals", "bulk"]
        todo = []
        for name in self.scenarios:
            todo += order[:-1] if name == "all" else [name]
        for name in todo:
            check(name in order, "unknown scenario %s" % name)
            t0 = time.monotonic()
            try:
                getattr(self, name)()
            finally:
                try:
                    for srv in self.servers:
                        srv.stop()
                    self.servers = []
                except Exception:  # noqa: BLE001
                    pass
            self.log("%s: passed (%.1fs)" % (name, time.monotonic() - t0))


def main(argv):
    if len(argv) < 5:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    tmp = tempfile.mkdtemp(prefix="bw-mail-")
    t = None
    try:
        t = Test(argv[1:], tmp)
        t.run()
    except Failure as e:
        print("FAIL: %s" % e, file=sys.stderr)
        if t is not None and t.n is not None:
            print("notifier log (tail):\n%s" % t.n.tail(), file=sys.stderr)
        return 1
    finally:
        if t is not None:
            for s in t.senders:
                s.close()
            if t.n is not None:
                t.n.kill()
            for srv in t.servers:
                srv.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    print("mail_test: all passed")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
