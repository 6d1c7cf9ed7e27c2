#!/usr/bin/python3
"""corpus_events_test.py - what the decoders and extractors make of real
captures written by others (../shared/corpus/pcaps), checked event by event.

    corpus_events_test.py PCAP_EVENTS CORPUS_DIR

For each capture in the table below, pcap_events (tests/capture) prints its
events; the test checks the packets decoded and the drops by reason on the
counts line, and that each expected event is there: every needle of an
expectation must be on one event line, and each expectation says how many
such lines there must be. The captures cover every link type the agent
reads (Linux SLL and SLL2, raw IPv4/IPv6, BSD null, 802.1Q up to three
tags, big-endian and nanosecond pcap, pcapng with two interfaces), IPv4 and
IPv6 fragments, TCP segmentation offload, and each protocol extractor on
traffic from real clients and servers. The expected values were read off
tshark and the corpus README, not off the agent.

Prints one line per capture and "N passed, N failed". Stdlib only.
"""
import os
import subprocess
import sys

# (file, {counts line: value}, [(count, [needles...]), ...])
CASES = [
    ("linktypes/lw-simple_http_sll2.pcap", {"packets": 24, "decoded": 24},
     [(1, ["kind=http", "action=GET", "resource=/ ", "host=localhost:8000",
           "status=200", "dst_port=8000"]),
      (1, ["kind=http", "resource=/favicon.ico", "status=404"])]),
    ("linktypes/zeek-http-basic-auth-rawipv4.pcap", {"decoded": 12},
     [(1, ["kind=http", "principal=test", "action=GET", "status=200"])]),
    ("linktypes/sv-http-ipv6-null.pcap", {"decoded": 14},
     [(1, ["kind=http", "src_ip=::1", "dst_ip=::1", "host=[::1]:8000",
           "user_agent=curl/7.54.0", "status=200"])]),
    ("linktypes/zeek-http-vlan0-pcp-dei.pcap", {"decoded": 14},
     [(1, ["kind=http", "resource=/download/CHANGES.bro-aux.txt",
           "host=bro.org", "status=200", "bytes_out=4705"])]),
    ("linktypes/zeek-vlan-qinqinq-http.pcap", {"decoded": 14},
     [(1, ["kind=http", "resource=/download/CHANGES.bro-aux.txt",
           "status=200"])]),
    ("linktypes/zeek-nanosecond-get-to-ssh-server.pcap", {"decoded": 9},
     [(1, ["1770126425.899407 kind=http", "dst_port=22", "action=GET"])]),
    ("linktypes/zeek-bigendian-smb-dssetup.pcap", {"decoded": 9},
     [(1, ["kind=flow", "action=close", "dst_port=445"])]),
    ("linktypes/sv-decode-sll2-02-tso.pcap", {"decoded": 159},
     [(1, ["kind=http", "resource=/testing", "status=200",
           "user_agent=curl/8.5.0"])]),
    ("linktypes/zeek-linuxsll-arp.pcap", {"decoded": 0, "not_ip": 12}, []),
    ("linktypes/sv-defrag-ipv6-tcp-rawipv6.pcap", {"packets": 3,
                                                   "decoded": 1}, []),
    ("linktypes/sv-vlan-ipv6-frag-tcp.pcap", {"packets": 3, "decoded": 1},
     []),
    ("pcapng/zeek-pcapng-multi-interface.pcapng", {"decoded": 6},
     [(1, ["kind=dns", "action=query", "resource=www.apple.com",
           "detail=A"]),
      (1, ["kind=dns", "action=answer", "resource=google.com",
           "text=answers=6", "status=0"])]),
    ("http/zeek-http-pipelined-requests.pcap", {"decoded": 49},
     [(5, ["kind=http", "action=GET", "host=www.mozilla.org", "status=200"])]),
    ("tls/sv-tls-clienthello-fragmented-mtu300.pcap", {"decoded": 62},
     [(1, ["kind=tls", "action=client_hello", "resource=www.google.com",
           "detail=h2"])]),
    ("tls/zeek-tls13-ech.pcap", {"decoded": 69},
     [(2, ["kind=tls", "resource=cloudflare-ech.com"])]),
    ("ipv6/sv-tls-over-ipv6.pcap", {"decoded": 70},
     [(1, ["kind=tls", "resource=ipv6.google.com"]),
      (1, ["kind=tls", "resource=dns.google"])]),
    ("db/zeek-pgsql-login-fail.pcap", {"decoded": 14},
     [(1, ["kind=auth", "principal=postgres", "action=connect",
           "outcome=failure", "detail=28P01"])]),
    ("db/sv-pgsql-copy-out.pcap", {"decoded": 24},
     [(1, ["kind=auth", "principal=rules", "outcome=success"]),
      (1, ["kind=sql", "principal=rules", "action=COPY", "resource=rules"])]),
    ("db/zeek-pgsql-create-insert-select-delete-drop.pcap", {"decoded": 29},
     [(2, ["kind=sql", "principal=postgres", "action=INSERT",
           "resource=t "]),
      (1, ["kind=sql", "action=SELECT", "resource=t "])]),
    ("ssh/zeek-ssh-on-port-80.pcap", {"decoded": 70},
     [(1, ["action=banner", "user_agent=SSH-2.0-OpenSSH_5.8p1",
           "dst_port=80"]),
      (1, ["action=banner", "user_agent=SSH-2.0-OpenSSH_5.2"])]),
    ("ssh/zeek-ssh-password-guessing.pcap", {"decoded": 431},
     [(11, ["action=banner", "detail=client"]),
      (11, ["action=close", "detail=ssh"])]),
    ("dns/sv-dns-tcp-google.pcap", {"decoded": 10},
     [(1, ["kind=dns", "action=query", "resource=www.google.com",
           "resource=www.google.com detail=A"]),
      (1, ["kind=dns", "action=answer", "text=answers=12"]),
      (1, ["action=close", "resource=tcp", "detail=dns"])]),
    ("frag/zeek-ipv6-fragmented-dns.pcap", {"packets": 8, "decoded": 5},
     [(1, ["kind=dns", "action=answer",
           "resource=txtpadding_3230.n1.netalyzr.icsi.berkeley.edu"])]),
    ("frag/zeek-ipv4-fragmented-4.pcap", {"fragment_overlap": 1}, []),
    ("scan/esnet-masscan-tcp-0-1000.pcap", {},
     [(1001, ["kind=flow", "action=open", "resource=tcp"])]),
    ("attack/elastic-dns-tunnel-iodine.pcap", {},
     [(1, ["kind=dns", "action=query", "detail=NULL"])]),
]


def counts(line):
    """The counts line: "packets N decoded N flows N events N reason N..."."""
    words = line.split()
    return {words[i]: int(words[i + 1]) for i in range(0, len(words) - 1, 2)}


def check(tool, corpus, name, want_counts, expects):
    path = os.path.join(corpus, "pcaps", name)
    out = subprocess.run([tool, path], capture_output=True, text=True,
                         timeout=120)
    if out.returncode != 0:
        return f"pcap_events exit status {out.returncode}: {out.stdout[-300:]}"
    lines = out.stdout.splitlines()
    got = counts(lines[-1])
    for k, v in want_counts.items():
        if got.get(k, 0) != v:
            return f"{k} {got.get(k, 0)}, want {v} ({lines[-1]})"
    events = lines[:-1]
    for n, needles in expects:
        have = sum(1 for ln in events if all(s in ln for s in needles))
        if (n == 1 and have < 1) or (n != 1 and have != n):
            return (f"{have} events with {needles}, want "
                    f"{'at least 1' if n == 1 else n}")
    return None


def main(argv):
    if len(argv) != 3:
        print(__doc__)
        return 2
    tool, corpus = argv[1], argv[2]
    passed = failed = 0
    for name, want_counts, expects in CASES:
        why = check(tool, corpus, name, want_counts, expects)
        if why:
            failed += 1
            print(f"FAIL {name}: {why}")
        else:
            passed += 1
            print(f"ok   {name}")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
