#!/usr/bin/python3
"""run_case.py - run one replay case and compare its incidents.

    run_case.py CASE_DIR AGENT RULES_DIR [--show]

A case directory holds:
  agent.conf     the agent config (it @includes ../../site.conf)
  inputs         one input per line, TYPE:relative/path ("nginx:access.log");
                 blank lines and lines starting with # are skipped
  the recorded logs named in inputs
  expected.json  a JSON array of the incidents the replay must yield

The runner replays the inputs through the real agent:

    AGENT --replay --config CASE/agent.conf --rules RULES_DIR TYPE:CASE/path...

The agent prints each incident's final revision as one JSON line on stdout
(if it prints several revisions of one incident, the highest counts) and a
summary on stderr.

An expected incident is an object with:
  rule, category       required; equal
  actor                optional object; each member given must be equal
  customers            optional list; equal as sets to affected_customers
  affected_unknown     optional bool; equal
  severity             optional; equal
  notify_customers     optional bool; equal
  data_kinds           optional list; equal as sets
  event_count          optional integer; equal (the final revision's count
                       of matching events: for cases about event time)
Any other member is an error (so a typo cannot weaken a test).

The comparison is semantic: the same number of incidents, and each expected
incident matched by exactly one actual incident (a one-to-one assignment).
On a mismatch the runner prints expected and actual readably and exits 1.
Exit 2: the case or the agent could not be run. --show prints the actual
incidents even when the case passes.

Stdlib only; run it with /usr/bin/python3.
"""
import json
import os
import subprocess
import sys

TIMEOUT = 120
EXPECT_KEYS = {
    "rule", "category", "actor", "customers", "affected_unknown",
    "severity", "notify_customers", "data_kinds", "event_count",
}


class CaseError(Exception):
    """The case itself is broken or the agent could not run (exit 2)."""


def read_inputs(case_dir):
    path = os.path.join(case_dir, "inputs")
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except OSError as e:
        raise CaseError(f"{path}: {e.strerror}")
    inputs = []
    for n, line in enumerate(lines, 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        typ, sep, rel = line.partition(":")
        if not sep or not typ or not rel:
            raise CaseError(f"{path}:{n}: want TYPE:relative/path, got {line!r}")
        if os.path.isabs(rel):
            raise CaseError(f"{path}:{n}: the path must be relative to the case")
        full = os.path.join(case_dir, rel)
        if not os.path.isfile(full):
            raise CaseError(f"{path}:{n}: no such file {full}")
        inputs.append(f"{typ}:{full}")
    if not inputs:
        raise CaseError(f"{path}: no inputs")
    return inputs


def read_expected(case_dir):
    path = os.path.join(case_dir, "expected.json")
    try:
        with open(path, encoding="utf-8") as f:
            exp = json.load(f)
    except OSError as e:
        raise CaseError(f"{path}: {e.strerror}")
    except json.JSONDecodeError as e:
        raise CaseError(f"{path}: bad JSON: {e}")
    if not isinstance(exp, list):
        raise CaseError(f"{path}: must be a JSON array")
    for i, e in enumerate(exp):
        where = f"{path}: [{i}]"
        if not isinstance(e, dict):
            raise CaseError(f"{where}: must be an object")
        unknown = set(e) - EXPECT_KEYS
        if unknown:
            raise CaseError(f"{where}: unknown member(s) {sorted(unknown)}")
        for k in ("rule", "category"):
            if not isinstance(e.get(k), str):
                raise CaseError(f"{where}: {k} must be a string")
        if "actor" in e and not isinstance(e["actor"], dict):
            raise CaseError(f"{where}: actor must be an object")
        for k in ("customers", "data_kinds"):
            if k in e and not (isinstance(e[k], list) and
                               all(isinstance(x, str) for x in e[k])):
                raise CaseError(f"{where}: {k} must be a list of strings")
        if "event_count" in e and (not isinstance(e["event_count"], int)
                                   or isinstance(e["event_count"], bool)):
            raise CaseError(f"{where}: event_count must be an integer")
        for k in ("affected_unknown", "notify_customers"):
            if k in e and not isinstance(e[k], bool):
                raise CaseError(f"{where}: {k} must be true or false")
    return exp


def run_agent(agent, case_dir, rules_dir, inputs):
    conf = os.path.join(case_dir, "agent.conf")
    if not os.path.isfile(conf):
        raise CaseError(f"{conf}: missing")
    argv = [agent, "--replay", "--config", conf, "--rules", rules_dir] + inputs
    try:
        p = subprocess.run(argv, stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=TIMEOUT)
    except OSError as e:
        raise CaseError(f"cannot run {agent}: {e.strerror}")
    except subprocess.TimeoutExpired:
        raise CaseError(f"the agent ran longer than {TIMEOUT} s: {' '.join(argv)}")
    stderr = p.stderr.decode("utf-8", "replace")
    if p.returncode != 0:
        raise CaseError(f"the agent exited with {p.returncode}:\n"
                        f"  {' '.join(argv)}\n{indent(stderr)}")
    latest = {}
    order = []
    for n, line in enumerate(p.stdout.decode("utf-8", "replace").splitlines(), 1):
        if not line.strip():
            continue
        try:
            inc = json.loads(line)
        except json.JSONDecodeError as e:
            raise CaseError(f"agent stdout line {n} is not JSON ({e}): {line[:200]}")
        if not isinstance(inc, dict) or "id" not in inc or "rule" not in inc:
            raise CaseError(f"agent stdout line {n} is not an incident: {line[:200]}")
        iid = inc["id"]
        if iid not in latest:
            order.append(iid)
            latest[iid] = inc
        elif inc.get("revision", 0) >= latest[iid].get("revision", 0):
            latest[iid] = inc
    return [latest[i] for i in order], stderr


def indent(text, pad="    "):
    return "\n".join(pad + l for l in text.rstrip("\n").splitlines())


def differences(exp, act):
    """The ways act fails exp, as readable strings (empty: it matches)."""
    d = []
    for k in ("rule", "category", "severity"):
        if k in exp and act.get(k) != exp[k]:
            d.append(f"{k}: expected {exp[k]!r}, got {act.get(k)!r}")
    actor = act.get("actor") or {}
    for k, v in exp.get("actor", {}).items():
        if actor.get(k) != v:
            d.append(f"actor.{k}: expected {v!r}, got {actor.get(k)!r}")
    if "customers" in exp:
        want = set(exp["customers"])
        got = set(act.get("affected_customers") or [])
        if want != got:
            parts = []
            if want - got:
                parts.append(f"missing {sorted(want - got)}")
            if got - want:
                parts.append(f"unexpected {sorted(got - want)}")
            d.append("customers: " + ", ".join(parts))
    if "data_kinds" in exp:
        if set(exp["data_kinds"]) != set(act.get("data_kinds") or []):
            d.append(f"data_kinds: expected {sorted(exp['data_kinds'])}, "
                     f"got {sorted(act.get('data_kinds') or [])}")
    for k in ("affected_unknown", "notify_customers", "event_count"):
        if k in exp and act.get(k) != exp[k]:
            d.append(f"{k}: expected {exp[k]}, got {act.get(k)}")
    return d


def assign(expected, actual):
    """A one-to-one assignment of expected to matching actual incidents
    (augmenting paths). Returns {expected index: actual index}."""
    ok = [[not differences(e, a) for a in actual] for e in expected]
    owner = {}  # actual index -> expected index

    def try_place(i, seen):
        for j in range(len(actual)):
            if ok[i][j] and j not in seen:
                seen.add(j)
                if j not in owner or try_place(owner[j], seen):
                    owner[j] = i
                    return True
        return False

    for i in range(len(expected)):
        try_place(i, set())
    return {i: j for j, i in owner.items()}


def brief(inc):
    """The compared part of an actual incident, for people."""
    out = {k: inc.get(k) for k in ("rule", "category", "severity", "actor",
                                   "affected_customers", "affected_unknown",
                                   "notify_customers", "data_kinds",
                                   "event_count")}
    cust = out["affected_customers"] or []
    if len(cust) > 30:
        out["affected_customers"] = sorted(cust)[:30] + [f"... {len(cust)} in all"]
    else:
        out["affected_customers"] = sorted(cust)
    out["summary"] = inc.get("summary")
    ev = inc.get("evidence") or []
    out["evidence"] = [e.get("excerpt", "")[:160] for e in ev[:3]]
    if len(ev) > 3:
        out["evidence"].append(f"... {len(ev)} kept")
    return out


def report(name, expected, actual, match, stderr):
    print(f"replay {name}: MISMATCH "
          f"({len(expected)} expected, {len(actual)} actual, "
          f"{len(match)} matched)")
    matched_actual = set(match.values())
    for i, e in enumerate(expected):
        if i in match:
            continue
        print(f"\n  expected [{i}], not matched:")
        print(indent(json.dumps(e, indent=2, sort_keys=True), "      "))
        near = [(differences(e, a), j) for j, a in enumerate(actual)
                if j not in matched_actual and a.get("rule") == e["rule"]]
        if not near:
            print(f"    no unmatched actual incident of rule {e['rule']}")
        for diffs, j in near:
            print(f"    actual [{j}] of the same rule differs:")
            for d in diffs:
                print(f"      - {d}")
    for j, a in enumerate(actual):
        if j in matched_actual:
            continue
        print(f"\n  actual [{j}], not expected:")
        print(indent(json.dumps(brief(a), indent=2, sort_keys=True), "      "))
    print("\n  agent stderr:")
    print(indent(stderr or "(empty)", "      "))


def main(argv):
    args = [a for a in argv[1:] if not a.startswith("--")]
    show = "--show" in argv[1:]
    if len(args) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    case_dir, agent, rules_dir = (os.path.abspath(a) for a in args)
    name = os.path.basename(case_dir.rstrip("/"))
    try:
        inputs = read_inputs(case_dir)
        expected = read_expected(case_dir)
        actual, stderr = run_agent(agent, case_dir, rules_dir, inputs)
    except CaseError as e:
        print(f"replay {name}: ERROR: {e}", file=sys.stderr)
        return 2
    match = assign(expected, actual)
    if len(expected) != len(actual) or len(match) != len(expected):
        report(name, expected, actual, match, stderr)
        return 1
    print(f"replay {name}: ok ({len(actual)} incident"
          f"{'' if len(actual) == 1 else 's'})")
    if show:
        for a in actual:
            print(json.dumps(brief(a), sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
