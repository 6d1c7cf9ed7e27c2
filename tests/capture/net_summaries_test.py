#!/usr/bin/python3
"""net_summaries_test.py - what the network rules' incidents say.

    net_summaries_test.py AGENT PROJECT_DIR

Replays the recorded captures of tests/replay/cases/net-* through the real
agent with rules/sets and compares each network rule's incident summary,
word for word, with what a person should read: the numbers in it true of
the capture (a `distinct` threshold's ${count} is the events gathered, not
the distinct values: the sweep of 31 hosts took 219 attempts), who did
what to whom. The replay cases check rules, customers and actors; this
checks the text. Stdlib only.
"""
import json
import os
import subprocess
import sys

# case -> {rule: summary}; rules of esp-web.conf/esp-db.conf not listed
# here are not compared.
EXPECTED = {
    "net-nmap-scan": {
        "net-port-scan": "127.0.0.66 tried 50 or more distinct ports within "
        "a minute (50 connection attempts, the last to 127.1.0.66 port 161)",
        "net-host-sweep": "127.0.0.66 tried 20 or more distinct hosts within "
        "a minute (219 connection attempts, the last to 127.2.0.22 port 5432)",
    },
    "net-dns-tunnel": {
        "net-dns-tunnel": "127.0.0.30 asked for 100 or more distinct names "
        "under exfil-c2.net within 10 minutes (100 queries)",
        "net-dns-long-labels": "127.0.0.30 sent 10 queries for names whose "
        "first label has 40 or more characters, under exfil-c2.net within "
        "10 minutes",
    },
    "net-pg-untrusted": {
        "net-db-connection-unexpected-host": "127.0.0.66 held a session with "
        "the database port 5432 of 127.1.0.66; it is not an app server or "
        "staff host",
        "net-sql-customer-data-unexpected-client": "dba_dave from 127.0.0.66 "
        "sent a statement on customer data (contact_list) straight to the "
        "database",
    },
    "net-upload": {
        "net-bulk-egress": "127.0.0.1 sent 100 MB or more to 127.0.0.70 "
        "(port 80) within an hour",
    },
    "net-http-export": {
        "net-cleartext-cards-served": "127.0.0.77 received payment card "
        "numbers in cleartext from 127.0.0.1 port 80",
        "net-cleartext-email-bulk-served": "127.0.0.77 received 50 or more "
        "e-mail addresses in cleartext from 127.0.0.1 within an hour",
    },
    "net-http-post-pii": {
        "net-cleartext-cards-sent": "127.0.0.1 sent payment card numbers in "
        "cleartext to 127.0.0.70 port 80",
        "net-cleartext-email-bulk-sent": "127.0.0.1 sent 50 or more e-mail "
        "addresses in cleartext to 127.0.0.70 within an hour",
    },
}


def summaries(agent, top, case):
    case_dir = os.path.join(top, "tests", "replay", "cases", case)
    with open(os.path.join(case_dir, "inputs"), encoding="utf-8") as f:
        inputs = [
            line.split(":", 1)[0] + ":" + os.path.join(case_dir, line.split(":", 1)[1])
            for line in f.read().split("\n")
            if line.strip() and not line.startswith("#")
        ]
    cmd = [agent, "--replay", "--format", "json", "--config",
           os.path.join(case_dir, "agent.conf"), "--rules",
           os.path.join(top, "rules", "sets")] + inputs
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=120,
                         check=False)
    if out.returncode != 0:
        sys.exit(f"{case}: the agent exited {out.returncode}: {out.stderr}")
    got = {}
    for line in out.stdout.splitlines():
        inc = json.loads(line)
        got[inc["rule"]] = inc["summary"]
    return got


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    agent, top = sys.argv[1], sys.argv[2]
    bad = 0
    seen_rules = set()
    for case, want in EXPECTED.items():
        got = summaries(agent, top, case)
        for rule, text in want.items():
            seen_rules.add(rule)
            if got.get(rule) != text:
                bad += 1
                print(f"{case} {rule}:\n  want {text!r}\n  got  {got.get(rule)!r}")
    # every network rule is looked at
    with open(os.path.join(top, "rules", "sets", "esp-net.conf"),
              encoding="utf-8") as f:
        ids = [l.split('"')[1] for l in f if l.strip().startswith("id = ")]
    for rid in ids:
        if rid not in seen_rules:
            bad += 1
            print(f"{rid}: no case here shows its summary")
    if bad:
        sys.exit(f"{bad} summaries differ")
    print(f"{len(seen_rules)} network rules' summaries as expected")


if __name__ == "__main__":
    main()
