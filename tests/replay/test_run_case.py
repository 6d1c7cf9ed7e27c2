#!/usr/bin/python3
"""test_run_case.py - checks run_case.py against a stub agent.

The stub stands in for breachwatch-agent: it checks the command line the
runner gives it (--replay --config CASE/agent.conf --rules DIR TYPE:PATH,
with PATH an existing file) and prints the incident lines it is told to.
Each check builds a case, runs the runner, and asserts its exit status.
Stdlib only; exits 1 on the first failed check.
"""
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
RUNNER = os.path.join(HERE, "run_case.py")

STUB = r'''#!/usr/bin/python3
import os, sys
a = sys.argv[1:]
ok = (len(a) >= 6 and a[0] == "--replay" and a[1] == "--config"
      and os.path.isfile(a[2]) and a[3] == "--rules" and os.path.isdir(a[4])
      and all(":" in x and os.path.isfile(x.split(":", 1)[1]) for x in a[5:]))
if not ok:
    print("stub: bad command line: %r" % a, file=sys.stderr)
    sys.exit(3)
with open(os.environ["STUB_OUT"]) as f:
    sys.stdout.write(f.read())
print("stub: done", file=sys.stderr)
sys.exit(int(os.environ.get("STUB_RC", "0")))
'''


def incident(iid, rule, rev=1, customers=(), ip="127.0.0.66", user=None,
             unknown=False, category="cat"):
    actor = {"ip": ip}
    if user:
        actor["user"] = user
    return json.dumps({
        "id": iid, "revision": rev, "rule": rule, "category": category,
        "severity": "high", "title": "t", "summary": "s",
        "first_seen": "2026-11-17T09:15:00Z",
        "last_seen": "2026-11-17T09:16:00Z", "host": "h", "actor": actor,
        "affected_customers": list(customers), "affected_unknown": unknown,
        "data_kinds": [], "event_count": 1, "evidence": [],
        "notify_customers": False, "containment": [],
    })


def run(tmp, expected, lines, rc=0, inputs="nginx:access.log\n"):
    case = os.path.join(tmp, "case")
    os.makedirs(case, exist_ok=True)
    with open(os.path.join(case, "agent.conf"), "w") as f:
        f.write("# stub\n")
    with open(os.path.join(case, "access.log"), "w") as f:
        f.write("x\n")
    with open(os.path.join(case, "inputs"), "w") as f:
        f.write(inputs)
    with open(os.path.join(case, "expected.json"), "w") as f:
        f.write(expected if isinstance(expected, str) else json.dumps(expected))
    out = os.path.join(tmp, "stub.out")
    with open(out, "w") as f:
        f.write("".join(l + "\n" for l in lines))
    env = dict(os.environ, STUB_OUT=out, STUB_RC=str(rc))
    p = subprocess.run([sys.executable, RUNNER, case,
                        os.path.join(tmp, "stub"), tmp],
                       env=env, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=60)
    return p.returncode, p.stdout.decode("utf-8", "replace")


def main():
    failures = 0
    exp_a = {"rule": "r-a", "category": "cat", "actor": {"ip": "127.0.0.66"},
             "customers": ["c1", "c2"], "affected_unknown": False}
    exp_b = {"rule": "r-a", "category": "cat", "customers": ["c3"]}
    checks = [
        # (name, expected, stub lines, stub rc, inputs, wanted runner status)
        ("match, customers as a set", [exp_a],
         [incident("1", "r-a", customers=["c2", "c1"])], 0, None, 0),
        ("benign, nothing printed", [], [], 0, None, 0),
        ("benign, one incident", [], [incident("1", "r-a")], 0, None, 1),
        ("missing customer", [exp_a],
         [incident("1", "r-a", customers=["c1"])], 0, None, 1),
        ("extra customer", [exp_a],
         [incident("1", "r-a", customers=["c1", "c2", "c9"])], 0, None, 1),
        ("wrong actor ip", [exp_a],
         [incident("1", "r-a", customers=["c1", "c2"], ip="127.0.0.67")],
         0, None, 1),
        ("wrong affected_unknown", [exp_a],
         [incident("1", "r-a", customers=["c1", "c2"], unknown=True)],
         0, None, 1),
        ("wrong category", [exp_a],
         [incident("1", "r-a", customers=["c1", "c2"], category="x")],
         0, None, 1),
        ("one expected, two actual", [exp_a],
         [incident("1", "r-a", customers=["c1", "c2"]),
          incident("2", "r-a", customers=["c1", "c2"])], 0, None, 1),
        # The first expectation fits both incidents, exp_b (customers c3)
        # only the first: a greedy first fit would give the first incident
        # away and fail; the assignment gives it to exp_b.
        ("assignment, not first fit", [{"rule": "r-a", "category": "cat"}, exp_b],
         [incident("1", "r-a", customers=["c3"]),
          incident("2", "r-a", customers=["c4"])], 0, None, 0),
        ("no assignment", [{"rule": "r-a", "category": "cat"}, exp_b],
         [incident("1", "r-a", customers=["c4"]),
          incident("2", "r-a", customers=["c5"])], 0, None, 1),
        ("highest revision counts", [exp_a],
         [incident("1", "r-a", rev=1, customers=["c1"]),
          incident("1", "r-a", rev=2, customers=["c1", "c2"])], 0, None, 0),
        ("agent fails", [], [], 1, None, 2),
        ("unknown expectation member", [{"rule": "r-a", "category": "c",
                                         "custommers": []}], [], 0, None, 2),
        ("bad expected JSON", "[{", [], 0, None, 2),
        ("non-JSON agent output", [], ["hello"], 0, None, 2),
        ("input file missing", [], [], 0, "nginx:nope.log\n", 2),
    ]
    with tempfile.TemporaryDirectory() as tmp:
        stub = os.path.join(tmp, "stub")
        with open(stub, "w") as f:
            f.write(STUB)
        os.chmod(stub, 0o755)
        for name, exp, lines, rc, inputs, want in checks:
            got, out = run(tmp, exp, lines, rc, inputs or "nginx:access.log\n")
            if got != want:
                failures += 1
                print(f"FAIL {name}: runner exited {got}, wanted {want}\n{out}")
            else:
                print(f"ok   {name}")
    print(f"{len(checks) - failures}/{len(checks)} checks passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
