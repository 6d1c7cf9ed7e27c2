#!/usr/bin/env bash
# Replay every capture of the shared corpus (pcaps/) through the agent with
# the default ruleset, one agent per file: the agent must not crash (no
# sanitizer report: the asan preset aborts on one), must read as many
# packets as libpcap does (the corpus README's "pkts libpcap" column),
# and must say clearly why when it cannot:
#   - a link type the decoder does not read: exit 1, "is not supported";
#   - a file libpcap cannot open: exit 1, "cannot read as a capture";
#   - a file that ends mid-record (or that libpcap stops reading): exit 0,
#     its packets up to there, and a warning "... the rest of the file is
#     not read".
# The compiled rules are kept in a temporary state directory, so only the
# first run compiles them. It prints one line per file and a closing
# "N passed, N failed".
#
#   run_pcap_corpus.sh AGENT RULES_DIR CONFIG CORPUS_DIR
set -uo pipefail
agent=$1 rules=$2 conf=$3 corpus=$4
readme="$corpus/README.md"
[ -d "$corpus/pcaps" ] || { echo "corpus not found at $corpus/pcaps" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
# The link types the agent reads, by libpcap's names (capture.c).
supported=" EN10MB LINUX_SLL LINUX_SLL2 RAW IPV4 IPV6 NULL LOOP "

# README rows: | `dir/file` | bytes | N / M | LINKTYPE (...) | ...
expect_row() {
	grep -F "| \`$1\` |" "$readme" | head -n 1
}

while IFS= read -r -d '' f; do
	rel=${f#"$corpus/pcaps/"}
	row=$(expect_row "$rel")
	if [ -z "$row" ]; then
		echo "FAIL $rel: not in the corpus README"
		fail=$((fail + 1))
		continue
	fi
	want=$(awk -F'|' '{ gsub(/ /, "", $4); split($4, a, "/"); print a[1] }' <<<"$row")
	link=$(awk -F'|' '{ sub(/^ +/, "", $5); split($5, a, " "); print a[1] }' <<<"$row")
	timeout 300 "$agent" --replay --config "$conf" --rules "$rules" \
		--state-dir "$tmp" "pcap:$f" \
		>"$tmp/out" 2>"$tmp/err"
	rc=$?
	got=$(sed -nE "s|.*: pcap:$f: ([0-9]+) packets .*|\1|p" "$tmp/err" | head -n 1)
	why=""
	if [ $rc -gt 1 ]; then
		why="exit status $rc (crash or sanitizer report)"
	elif [ $rc -eq 1 ]; then
		if grep -q "is not supported" "$tmp/err"; then
			case "$supported" in
			*" $link "*) why="refused a supported link type $link" ;;
			esac
		elif grep -q "cannot read as a capture" "$tmp/err"; then
			[ "$want" = "-" ] || why="libpcap reads it, the agent did not"
		else
			why="exit 1 without a clear reason"
		fi
	elif [ "$want" = "-" ]; then
		why="read a file libpcap cannot open"
	elif [ "$got" != "$want" ]; then
		why="read ${got:-no} packets, libpcap reads $want"
	fi
	if [ -n "$why" ]; then
		echo "FAIL $rel: $why"
		tail -n 5 "$tmp/err"
		fail=$((fail + 1))
		continue
	fi
	pass=$((pass + 1))
	if [ $rc -eq 0 ]; then
		note=""
		grep -q "the rest of the file is not read" "$tmp/err" &&
			note=" (cut short: $(grep -m1 -o 'after packet.*' "$tmp/err" | cut -c1-90))"
		echo "ok   $rel: $got packets, $(wc -l <"$tmp/out") incidents$note"
	else
		echo "ok   $rel: refused: $(grep -m1 -oE '(link type|cannot read).*' "$tmp/err" | cut -c1-100)"
	fi
done < <(find "$corpus/pcaps" -type f \( -name '*.pcap' -o -name '*.pcapng' -o -name '*.cap' \) -print0 | sort -z)
echo "$pass passed, $fail failed"
[ $fail -eq 0 ] && [ $pass -gt 0 ]
