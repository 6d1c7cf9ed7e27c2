#!/usr/bin/python3
"""notifier_test.py - the real breachwatch-notifier on 127.0.0.1.

    notifier_test.py NOTIFIER CLI SENDER

NOTIFIER is breachwatch-notifier, CLI is breachwatch (for keygen and a
look at the record), SENDER is test_sender (a CURVE DEALER with an agent's
keys, tests/notifier/test_sender.c). Keys are made by `breachwatch keygen`;
the notifier listens on a port the OS chooses. Checked:

- the config checks pass (notifier --check-config, breachwatch
  check-config), the control socket is made with mode 0660 and the group;
- an incident revision is acknowledged only once committed: when its ACK
  arrives, the store (read directly) has it; sent again it is stored once
  and acknowledged each time; revisions out of order are all kept;
- revisions the notifier will never take get a rejection with a reason
  (malformed JSON, id/revision differing from the frames, a host that is
  not the agent, other contents for a stored pair, over
  max_incident_bytes), and nothing is stored for them;
- messages that do not decode (bad magic, too few frames, frames out of
  order, trailing bytes, an unknown type) and an ACK from an agent get no
  answer, are counted, and the notifier keeps serving (a HEARTBEAT is
  answered after them, with the agent's pending count kept for status);
- a peer with an unknown key is refused at the handshake, the refusal
  logged with its key, nothing stored;
- SIGHUP re-reads the authorised agents: a new agent gets in, an agent
  taken out has its messages dropped (logged, counted, no ACK);
- SIGUSR1 logs the counters; SIGTERM stops cleanly (status 0, counters,
  socket removed); after a restart a resent revision is still stored once.

Exit status 0 when all pass, 1 on a failure, 2 on a usage error. Stdlib
only; run it with /usr/bin/python3.
"""
import json
import os
import signal
import stat
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import (Failure, Notifier, Sender, check, incident,  # noqa
                     keygen, run)

OK, MALFORMED, MISMATCH, HOST, CONFLICT, LIMIT = 0, 1, 2, 3, 4, 5


def hexframe(b):
    return b.hex()


def header(t):
    return hexframe(bytes([0x42, 0x57, 1, t]))


def u64(v):
    return hexframe(v.to_bytes(8, "big"))


def u32(v):
    return hexframe(v.to_bytes(4, "big"))


class Test:
    def __init__(self, notifier_bin, cli, sender_bin, tmp):
        self.cli, self.sender_bin, self.tmp = cli, sender_bin, tmp
        self.pub = {}
        for name in ("db1", "db2", "db3", "stranger"):
            self.pub[name] = keygen(cli, os.path.join(tmp, name))
        self.n = Notifier(notifier_bin, cli, tmp,
                          [self.pub["db1"], self.pub["db2"]])
        self.senders = []

    def sender(self, name, connect=True):
        s = Sender(self.sender_bin, self.n.endpoint,
                   self.n.key + ".pub", os.path.join(self.tmp,
                                                     name + ".key"))
        self.senders.append(s)
        if connect:
            r = s.connect()
            check(r.get("event") == "connected",
                  "%s did not connect: %s" % (name, r))
        return s

    def status(self):
        return self.n.ctl_json("status")["status"]

    def agent(self, name):
        for a in self.status()["agents"]:
            if a["name"] == name:
                return a
        raise Failure("no agent %s in status" % name)

    # --- the scenarios ---

    def config_checks(self):
        rc, out, err = run([self.n.binary, "--check-config", self.n.conf])
        check(rc == 0 and "ok" in out, "--check-config: %d %s %s" %
              (rc, out, err))
        rc, out, err = run([self.cli, "check-config", self.n.conf])
        check(rc == 0 and "ok (notifier config)" in out,
              "breachwatch check-config: %d %s %s" % (rc, out, err))
        bad = os.path.join(self.tmp, "bad.conf")
        with open(self.n.conf) as f, open(bad, "w") as g:
            g.write(f.read().replace("log_level", "log_levle"))
        rc, out, err = run([self.n.binary, "--check-config", bad])
        check(rc == 2 and "bad.conf:7:" in err and "log_levle" in err,
              "bad config: %d %s" % (rc, err))
        rc, out, err = run([self.n.binary, "--config", bad])
        check(rc == 2 and "log_levle" in err, "start with a bad config: %d"
              % rc)

    def socket_mode(self):
        st = os.lstat(self.n.socket)
        check(stat.S_ISSOCK(st.st_mode), "control socket is not a socket")
        check(stat.S_IMODE(st.st_mode) == 0o660,
              "control socket mode %o" % stat.S_IMODE(st.st_mode))
        check(st.st_gid == os.getgid(), "control socket group %d" %
              st.st_gid)

    def stored_once_acked_after_commit(self):
        s = self.sender("db1")
        text = incident("bw-0000000000000001", 1, "db1")
        seq = s.send(text)
        a = s.ack(seq)
        check(a["status"] == OK and a["reason"] == "",
              "rev 1 not acked ok: %s" % a)
        check(a["id"] == "bw-0000000000000001" and a["revision"] == 1,
              "ACK echoes %s" % a)
        # the ACK came: the commit is there for anyone who reads the store
        check(self.n.revisions("bw-0000000000000001", 1) == 1,
              "revision 1 not in the store when its ACK arrived")
        # the same revision again, three times: acked each time, stored once
        for _ in range(3):
            seq = s.send(text)
            check(s.ack(seq)["status"] == OK, "resend not acked ok")
        check(self.n.revisions("bw-0000000000000001") == 1,
              "revision 1 stored %d times" %
              self.n.revisions("bw-0000000000000001"))
        # out of order: 3 before 2, both kept, the incident at 3
        for rev in (3, 2):
            seq = s.send(incident("bw-0000000000000001", rev, "db1",
                                  customers=["c2001", "c200%d" % (rev + 1)]))
            check(s.ack(seq)["status"] == OK, "rev %d not acked" % rev)
        check(self.n.revisions("bw-0000000000000001") == 3,
              "revisions stored: %d" %
              self.n.revisions("bw-0000000000000001"))
        row = self.n.db("SELECT revision FROM incidents WHERE incident_id = ?",
                        "bw-0000000000000001")
        check(row == [(3,)], "incident at revision %s" % row)
        st = self.status()["inbox"]
        check(st["stored"] == 3 and st["duplicates"] == 3 and
              st["acks"] == 6, "inbox counters: %s" % st)
        self.db1 = s

    def rejections(self):
        s = self.db1
        cases = [
            ("malformed JSON", '{"id": "bw-bad", "revision": 1',
             "bw-bad", 1, MALFORMED),
            ("not an incident", json.dumps({"id": "bw-bad", "revision": 1}),
             "bw-bad", 1, MALFORMED),
            ("frames differ from the JSON",
             incident("bw-0000000000000002", 1, "db1"),
             "bw-0000000000000099", 1, MISMATCH),
            ("revision differs",
             incident("bw-0000000000000002", 1, "db1"),
             "bw-0000000000000002", 2, MISMATCH),
            ("another host", incident("bw-0000000000000003", 1, "db2"),
             "bw-0000000000000003", 1, HOST),
            ("other contents for a stored pair",
             incident("bw-0000000000000001", 1, "db1", title="Changed"),
             "bw-0000000000000001", 1, CONFLICT),
            ("over max_incident_bytes",
             incident("bw-0000000000000004", 1, "db1", pad=10000),
             "bw-0000000000000004", 1, LIMIT),
        ]
        for what, text, iid, rev, code in cases:
            seq = s.send(text, iid=iid, revision=rev)
            a = s.ack(seq)
            check(a["status"] == code, "%s: status %s, want %s (%s)" %
                  (what, a["status"], code, a["reason"]))
            check(a["reason"] != "", "%s: no reason" % what)
        for iid in ("bw-bad", "bw-0000000000000002", "bw-0000000000000003",
                    "bw-0000000000000004", "bw-0000000000000099"):
            check(self.n.revisions(iid) == 0, "%s was stored" % iid)
        check(self.n.revisions("bw-0000000000000001", 1) == 1,
              "the conflicting revision changed the store")
        title = self.n.db("SELECT title FROM incidents WHERE incident_id = "
                          "?", "bw-0000000000000001")[0][0]
        check(title != "Changed", "the first arrival did not win")
        by = self.status()["inbox"]["rejected_by"]
        check(by == {"malformed": 2, "mismatch": 2, "host": 1,
                     "conflict": 1, "limit": 1}, "rejected_by %s" % by)
        self.n.wait_log(r"rejected incident bw-0000000000000004 revision 1 "
                        r"from db1 .*limit: .*max_incident_bytes")

    def bad_frames(self):
        s = self.db1
        before = self.status()["inbox"]
        json_hex = hexframe(incident("bw-0000000000000005", 1,
                                     "db1").encode())
        id_hex = hexframe(b"bw-0000000000000005")
        bad = [
            ["58580101", u64(1), id_hex, u32(1), json_hex],  # magic
            [header(1), u64(1), id_hex],                     # too few
            [header(1), u64(1), u32(1), id_hex, json_hex],   # out of order
            [header(1), u64(1) + "00", id_hex, u32(1), json_hex],  # trailing
            [header(9), u64(1)],                             # unknown type
            [hexframe(b"BW\x02\x01"), u64(1), id_hex, u32(1), json_hex],
        ]
        for frames in bad:
            check(s.cmd(op="raw", frames=frames).get("sent"), "raw not sent")
        check(s.cmd(op="ack", seq=5, id="bw-x", revision=1).get("sent"),
              "ACK not sent")
        s.quiet()  # no answer to any of them
        check(self.n.revisions("bw-0000000000000005") == 0,
              "a malformed message was stored")
        # still serving: a HEARTBEAT is answered, and the pending count kept
        check(s.cmd(op="heartbeat", pending=7).get("sent"), "no heartbeat")
        m = s.recv()
        check(m.get("type") == "HEARTBEAT" and m["pending"] == 0,
              "heartbeat answer: %s" % m)
        after = self.status()["inbox"]
        check(after["bad"] - before["bad"] == len(bad),
              "bad counted %d, want %d" % (after["bad"] - before["bad"],
                                           len(bad)))
        check(after["unexpected"] - before["unexpected"] == 1,
              "unexpected ACK not counted")
        check(self.agent("db1")["pending"] == 7, "pending not kept")
        self.n.wait_log(r"dropped a message from db1 \(127\.0\.0\.1\): "
                        r"INCIDENT frame")
        # and a good revision still goes through
        seq = s.send(incident("bw-0000000000000005", 1, "db1"))
        check(s.ack(seq)["status"] == OK, "not served after bad frames")

    def unknown_key(self):
        key = [line for line in self.pub["stranger"].splitlines()
               if line and not line.startswith("#")][0].split()[0]
        incidents = self.n.db("SELECT count(*) FROM incidents")[0][0]
        s = self.sender("stranger", connect=False)
        r = s.connect()
        check(r == {"event": "auth_failed", "code": 400},
              "stranger: %s" % r)
        m = self.n.wait_log(r"refused a peer from 127\.0\.0\.1 \(CURVE key "
                            r"(\S+)\)")
        check(m.group(1) == key, "refusal logged key %s, want %s" %
              (m.group(1), key))
        # it cannot send: nothing stored from it
        r = s.cmd(op="incident", seq=1, id="bw-0000000000000006",
                  revision=1, json=incident("bw-0000000000000006", 1,
                                            "stranger"))
        check(not r.get("sent"), "a refused peer could queue a message")
        check(self.n.db("SELECT count(*) FROM incidents")[0][0] ==
              incidents, "something was stored")
        check(self.n.db("SELECT count(*) FROM revisions WHERE agent = "
                        "'stranger'")[0][0] == 0, "stored from stranger")
        check(self.status()["auth"]["refused"] >= 1, "refusal not counted")
        s.close()

    def reload(self):
        db2 = self.sender("db2")  # connected before the reload
        s = self.sender("db3", connect=False)
        check(s.connect()["event"] == "auth_failed", "db3 let in early")
        s.close()
        self.n.write_agents([self.pub["db1"], self.pub["db2"],
                             self.pub["db3"]])
        mark = len(self.n.log())
        self.n.send_signal(signal.SIGHUP)
        self.n.wait_log(r"reloaded .*: 3 agents authorised", start=mark)
        s = self.sender("db3")
        seq = s.send(incident("bw-0000000000000007", 1, "db3"))
        check(s.ack(seq)["status"] == OK, "db3 not served after reload")
        check(self.n.db("SELECT agent FROM revisions WHERE incident_id = ?",
                        "bw-0000000000000007") == [("db3",)],
              "db3's revision not recorded as db3's")
        # db2 taken out: its connection stays, its messages are dropped
        self.n.write_agents([self.pub["db1"], self.pub["db3"]])
        mark = len(self.n.log())
        self.n.send_signal(signal.SIGHUP)
        self.n.wait_log(r"reloaded .*: 2 agents authorised", start=mark)
        db2.send(incident("bw-0000000000000008", 1, "db2"))
        db2.quiet()
        check(self.n.revisions("bw-0000000000000008") == 0,
              "stored from an agent no longer authorised")
        self.n.wait_log(r'dropped a message from "db2" .*not in the '
                        r"authorised-agents file", start=mark)
        check(self.status()["inbox"]["unauthorised"] == 1,
              "unauthorised not counted")
        # a bad file keeps the set in force
        with open(self.n.auth, "a") as f:
            f.write("not a key line\n")
        mark = len(self.n.log())
        self.n.send_signal(signal.SIGHUP)
        self.n.wait_log(r"reload of the authorised agents failed.*"
                        r"authorized_agents:\d+", start=mark)
        seq = s.send(incident("bw-0000000000000007", 2, "db3"))
        check(s.ack(seq)["status"] == OK, "db3 lost after a bad reload")
        self.n.write_agents([self.pub["db1"], self.pub["db3"]])

    def signals_and_restart(self):
        mark = len(self.n.log())
        self.n.send_signal(signal.SIGUSR1)
        self.n.wait_log(r"counters \(SIGUSR1\): inbox: \d+ messages",
                        start=mark)
        for s in self.senders:
            s.close()
        rc = self.n.stop()
        check(rc == 0, "SIGTERM: exit status %s" % rc)
        self.n.wait_log(r"counters \(stop\): inbox:")
        self.n.wait_log(r"counters \(stop\): auth:")
        check(not os.path.exists(self.n.socket),
              "control socket left behind")
        # the record survives; a resend after the restart is stored once
        self.n.start()
        s = self.sender("db1")
        seq = s.send(incident("bw-0000000000000001", 1, "db1"))
        check(s.ack(seq)["status"] == OK, "resend after restart not acked")
        check(self.n.revisions("bw-0000000000000001") == 3,
              "revisions after restart: %d" %
              self.n.revisions("bw-0000000000000001"))
        check(self.status()["inbox"]["duplicates"] == 1,
              "the resend was not a duplicate")
        s.close()

    def run(self):
        self.config_checks()
        self.n.start()
        try:
            self.socket_mode()
            self.stored_once_acked_after_commit()
            self.rejections()
            self.bad_frames()
            self.unknown_key()
            self.reload()
            self.signals_and_restart()
            v = self.n.ctl_json("verify")["verify"]
            check(v["ok"], "audit chain: %s" % v)
        finally:
            for s in self.senders:
                s.close()
            self.n.kill()


if __name__ == "__main__":
    sys.exit(harness.main(sys.argv, 3, __doc__,
                          lambda args, tmp: Test(*args, tmp), "notifier_test"))
