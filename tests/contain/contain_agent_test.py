#!/usr/bin/python3
"""contain_agent_test.py - containment with the real agent, end to end.

    contain_agent_test.py AGENT SOURCE_DIR

Each scenario gets a temporary directory with an agent config whose
actions run the scripts of SOURCE_DIR/tests/contain (record-argv.sh writes
its arguments to a file; hang.sh never ends), a rule file naming them, and
an nginx log:

  replay_default_runs_nothing  --replay without --contain: no action runs,
                               the incident has no containment step
  replay_contain_runs          --replay --contain: the action runs with its
                               placeholders filled, and the final incident
                               carries the finished step
  replay_contain_hang          --replay --contain with an action that hangs:
                               killed at its timeout, recorded as
                               "timeout", the agent exits in bounded time
  replay_recorded_takeover     --replay --contain of a recorded account
                               takeover (tests/replay/cases) with the site
                               rules of examples/contain/rules.conf: the
                               address is blocked once and the one
                               customer's account locked
  check_config_undefined       --check-config refuses a rule naming an
                               action the config does not define, at the
                               rule's file:line (exit status 2)
  live_step_goes_out_at_once   live mode: an appended line opens an incident
                               whose first revision shows the step running;
                               the step's end is a new revision at once
                               (the revision interval is an hour)
  live_stop_waits_for_action   live mode: SIGTERM while an action runs; the
                               agent waits for it (bounded by its timeout)
                               and the closed revision carries "timeout"

Every wait is bounded; agents are stopped by PID (SIGTERM, then SIGKILL in
a finally block). Exit status 0 when all pass, 1 when one fails. Stdlib
only; run it with /usr/bin/python3.
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

RUN_TIMEOUT = 60.0  # a replay (ASan builds start slowly)
START_TIMEOUT = 30.0  # live: following the inputs
EVENT_TIMEOUT = 15.0  # live: a revision shows up
RULE_LINE = 4  # the line of the rule naming "nope" in bad_rules()

NGINX_LINE = ('203.0.113.7 - alice [%s] "GET /admin/panel HTTP/1.1" 200 35 '
              '"-" "curl/8.0"\n')


def clf_now():
    return time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime())


class Fail(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise Fail(msg)


def rules(action):
    return ('rules = (\n'
            '  { id = "admin-probe"; title = "Probe of the admin panel";\n'
            '    category = "probe"; severity = "high"; kinds = "http";\n'
            '    match = ( { field = "resource"; regex = "^/admin"; } );\n'
            '    actions = [ "%s" ]; }\n'
            ');\n' % action)


def bad_rules():
    return ('rules = (\n'
            '  { id = "fine"; title = "t"; category = "probe";\n'
            '    severity = "low"; kinds = "http"; actions = "record"; },\n'
            '  { id = "broken"; title = "t"; category = "probe";\n'
            '    severity = "low"; kinds = "http"; actions = [ "nope" ]; }\n'
            ');\n')


def config(d, src, log=None):
    inputs = ""
    if log is not None:
        inputs = 'inputs = ( { type = "nginx"; path = "%s"; } );\n' % log
    return ('agent = { name = "contain-test"; state_dir = "%s/state"; };\n'
            '%s'
            'incidents = { revision_interval = "1h"; };\n'
            'actions = (\n'
            '  { id = "record"; type = "exec"; timeout = "10s";\n'
            '    argv = [ "%s/record-argv.sh", "%s/argv",\n'
            '             "${src_ip}", "${user}", "${incident_id}" ]; },\n'
            '  { id = "hang"; type = "exec"; timeout = "500ms";\n'
            '    argv = [ "%s/hang.sh", "%s/hang.pid" ]; },\n'
            '  { id = "slow-hang"; type = "exec"; timeout = "2s";\n'
            '    argv = [ "%s/hang.sh", "%s/hang.pid" ]; }\n'
            ');\n' % (d, inputs, src, d, src, d, src, d))


def write(path, text):
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def setup(d, src, action, log=None):
    os.mkdir(os.path.join(d, "state"))
    write(os.path.join(d, "agent.conf"), config(d, src, log))
    write(os.path.join(d, "rules.conf"), rules(action))


def replay(agent, d, *extra):
    log = os.path.join(d, "access.log")
    write(log, NGINX_LINE % clf_now())
    args = [agent, "--replay", "--config", os.path.join(d, "agent.conf"),
            "--rules", os.path.join(d, "rules.conf")] + list(extra) + [
                "nginx:" + log]
    t = time.monotonic()
    p = subprocess.run(args, capture_output=True, text=True,
                       timeout=RUN_TIMEOUT)
    took = time.monotonic() - t
    check(p.returncode == 0, "exit %d: %s" % (p.returncode, p.stderr))
    incs = [json.loads(x) for x in p.stdout.splitlines() if x.strip()]
    check(len(incs) == 1, "want one incident, got %d" % len(incs))
    check(incs[0]["closed"], "the incident is not closed")
    return incs[0], p.stderr, took


def replay_default_runs_nothing(agent, src, d):
    setup(d, src, "record")
    inc, _, _ = replay(agent, d)
    check(inc["containment"] == [], "steps: %r" % inc["containment"])
    check(not os.path.exists(os.path.join(d, "argv")), "the action ran")


def replay_contain_runs(agent, src, d):
    setup(d, src, "record")
    inc, err, _ = replay(agent, d, "--contain")
    steps = inc["containment"]
    check(len(steps) == 1, "steps: %r" % steps)
    s = steps[0]
    check(s["action"] == "record" and s["status"] == "ok", "step: %r" % s)
    check(s["started"] is not None and s["finished"] is not None,
          "step times: %r" % s)
    check("exit 0; output: recorded 3 arguments" in s["detail"],
          "detail: %r" % s["detail"])
    with open(os.path.join(d, "argv"), encoding="utf-8") as f:
        got = f.read()
    want = "203.0.113.7\nalice\n%s\n" % inc["id"]
    check(got == want, "argv %r, want %r" % (got, want))
    check("containment: 1 started, 1 ok" in err, "summary: %s" % err)


def replay_contain_hang(agent, src, d):
    setup(d, src, "hang")
    inc, _, took = replay(agent, d, "--contain")
    s = inc["containment"][0]
    check(s["status"] == "timeout", "step: %r" % s)
    check("timeout after 0.5 s: killed by SIGTERM" in s["detail"],
          "detail: %r" % s["detail"])
    check(took < 20.0, "the replay took %.1f s" % took)


def replay_recorded_takeover(agent, src, d):
    root = os.path.dirname(os.path.dirname(src))
    case = os.path.join(root, "tests", "replay", "cases",
                        "web-account-takeover")
    site = os.path.relpath(os.path.join(root, "tests", "replay",
                                        "site.conf"), d)
    write(os.path.join(d, "agent.conf"),
          '@include "%s"\n'
          'agent = { name = "contain-test"; };\n'
          'actions = (\n'
          '  { id = "block-src"; type = "exec";\n'
          '    argv = [ "%s/record-argv.sh", "%s/block", "${src_ip}" ]; },\n'
          '  { id = "lock-account"; type = "exec";\n'
          '    argv = [ "%s/record-argv.sh", "%s/lock", "${customer}",\n'
          '             "${user}" ]; }\n'
          ');\n' % (site, src, d, src, d))
    p = subprocess.run(
        [agent, "--replay", "--contain", "--config",
         os.path.join(d, "agent.conf"), "--rules",
         os.path.join(root, "examples", "contain", "rules.conf"),
         "nginx:" + os.path.join(case, "access.log")],
        capture_output=True, text=True, timeout=RUN_TIMEOUT)
    check(p.returncode == 0, "exit %d: %s" % (p.returncode, p.stderr))
    incs = [json.loads(x) for x in p.stdout.splitlines() if x.strip()]
    takeover = [i for i in incs if i["rule"] == "site-account-takeover-contain"]
    check(len(takeover) == 1, "incidents: %r" % [i["rule"] for i in incs])
    steps = {s["action"]: s for s in takeover[0]["containment"]}
    check(sorted(steps) == ["block-src", "lock-account"], "steps %r" % steps)
    for s in steps.values():
        check(s["status"] == "ok", "step %r" % s)
    with open(os.path.join(d, "block"), encoding="utf-8") as f:
        check(f.read() == "127.0.0.68\n", "block argv")
    with open(os.path.join(d, "lock"), encoding="utf-8") as f:
        check(f.read() == "c1009\nc1009\n", "lock argv")


def check_config_undefined(agent, src, d):
    setup(d, src, "record")
    write(os.path.join(d, "bad.conf"), bad_rules())
    p = subprocess.run([agent, "--check-config",
                        os.path.join(d, "agent.conf"), "--rules",
                        os.path.join(d, "bad.conf")],
                       capture_output=True, text=True, timeout=RUN_TIMEOUT)
    check(p.returncode == 2, "exit %d" % p.returncode)
    want = ('%s:%d: rule "broken": action "nope" is not defined in the '
            "agent config's actions" % (os.path.join(d, "bad.conf"),
                                        RULE_LINE))
    check(want in p.stderr, "stderr %r, want %r" % (p.stderr, want))


class Live:
    """The agent in live mode, its output read by threads."""

    def __init__(self, agent, d):
        self.lines, self.err = [], []
        self.cv = threading.Condition()
        self.p = subprocess.Popen(
            [agent, "--config", os.path.join(d, "agent.conf"), "--rules",
             os.path.join(d, "rules.conf")],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True)
        for stream, sink in ((self.p.stdout, self.lines),
                             (self.p.stderr, self.err)):
            threading.Thread(target=self._read, args=(stream, sink),
                             daemon=True).start()

    def _read(self, stream, sink):
        for line in stream:
            with self.cv:
                sink.append(line)
                self.cv.notify_all()

    def wait(self, pred, timeout, what):
        end = time.monotonic() + timeout
        with self.cv:
            while not pred():
                left = end - time.monotonic()
                check(left > 0, "timed out waiting for %s; stderr: %s" %
                      (what, "".join(self.err)))
                self.cv.wait(left)

    def revisions(self):
        with self.cv:
            return [json.loads(x) for x in self.lines if x.strip()]

    def stop(self, sig=signal.SIGTERM, timeout=20.0):
        self.p.send_signal(sig)
        return self.p.wait(timeout)

    def kill(self):
        if self.p.poll() is None:
            self.p.kill()
            self.p.wait(10)


def live_with_line(agent, src, d, action):
    """The agent following a log, once it has a line for the rule."""
    log = os.path.join(d, "access.log")
    write(log, "")
    setup(d, src, action, log)
    lv = Live(agent, d)
    try:
        lv.wait(lambda: any("following" in x for x in lv.err),
                START_TIMEOUT, "the agent to follow its input")
        with open(log, "a", encoding="utf-8") as f:
            f.write(NGINX_LINE % clf_now())
    except BaseException:
        lv.kill()
        raise
    return lv


def live_step_goes_out_at_once(agent, src, d):
    lv = live_with_line(agent, src, d, "record")
    try:
        lv.wait(lambda: len(lv.revisions()) >= 2, EVENT_TIMEOUT,
                "two revisions")
        r1, r2 = lv.revisions()[:2]
        # The agent's first run numbers from 65537 (agent/aggregate.h).
        check(r1["revision"] == 65537 and r2["revision"] == 65538,
              "revisions %d, %d" % (r1["revision"], r2["revision"]))
        check(r1["containment"][0]["status"] == "running",
              "revision 1: %r" % r1["containment"])
        check(r2["containment"][0]["status"] == "ok",
              "revision 2: %r" % r2["containment"])
        check(not r2["closed"], "closed too early")
        check(lv.stop() == 0, "exit status")
        last = lv.revisions()[-1]
        check(last["closed"] and last["containment"][0]["status"] == "ok",
              "last revision: %r" % last)
    finally:
        lv.kill()


def live_stop_waits_for_action(agent, src, d):
    lv = live_with_line(agent, src, d, "slow-hang")
    try:
        lv.wait(lambda: len(lv.revisions()) >= 1, EVENT_TIMEOUT,
                "revision 1")
        check(lv.revisions()[0]["containment"][0]["status"] == "running",
              "revision 1: %r" % lv.revisions()[0])
        t = time.monotonic()
        check(lv.stop() == 0, "exit status")
        took = time.monotonic() - t
        last = lv.revisions()[-1]
        check(last["closed"], "no closed revision: %r" % last)
        s = last["containment"][0]
        check(s["status"] == "timeout", "step: %r" % s)
        check(took < 15.0, "the stop took %.1f s" % took)
        check(any("waiting for 1 containment runs" in x for x in lv.err),
              "stderr: %s" % "".join(lv.err))
    finally:
        lv.kill()


SCENARIOS = [replay_default_runs_nothing, replay_contain_runs,
             replay_contain_hang, replay_recorded_takeover,
             check_config_undefined,
             live_step_goes_out_at_once, live_stop_waits_for_action]


def main():
    if len(sys.argv) != 3:
        sys.stderr.write(__doc__)
        return 2
    agent, src = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    scripts = os.path.join(src, "tests", "contain")
    passed = failed = 0
    for sc in SCENARIOS:
        d = tempfile.mkdtemp(prefix="bw-contain-agent.")
        try:
            sc(agent, scripts, d)
            print("PASS %s" % sc.__name__)
            passed += 1
        except (Fail, subprocess.TimeoutExpired, OSError, ValueError,
                KeyError, IndexError) as e:
            print("FAIL %s: %s" % (sc.__name__, e))
            failed += 1
        finally:
            shutil.rmtree(d, ignore_errors=True)
    print("%d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
