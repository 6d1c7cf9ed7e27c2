#!/usr/bin/env bash
# Replay every log of the shared corpus through every parser type with the
# default ruleset and tests/corpus/agent.conf: the agent must exit 0 (no
# crash, no sanitizer report), read every line of every file (its count must
# equal the file's), and print its counts of parsed and rejected lines.
#
#   run_corpus.sh AGENT RULES_DIR CONFIG CORPUS_DIR
set -uo pipefail
agent=$1 rules=$2 site=$3 corpus=$4
[ -d "$corpus/logs" ] || { echo "corpus not found at $corpus/logs" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0 runs=0

# Lines as the agent counts them: newline-terminated lines, plus a last
# unterminated one.
count_lines() {
	local n
	n=$(wc -l <"$1")
	if [ -s "$1" ] && [ "$(tail -c 1 "$1" | od -An -c | tr -d ' ')" != '\n' ]; then
		n=$((n + 1))
	fi
	echo "$n"
}

files=()
while IFS= read -r -d '' f; do files+=("$f"); done < <(find "$corpus/logs" -type f -name '*.log' -print0 | sort -z)
# The one compressed log: PostgreSQL through syslog.
if [ -f "$corpus/logs/db/pgbadger-pg-syslog.1.bz2" ]; then
	bzip2 -dc "$corpus/logs/db/pgbadger-pg-syslog.1.bz2" >"$tmp/pgbadger-pg-syslog.1.log"
	files+=("$tmp/pgbadger-pg-syslog.1.log")
fi

# One agent per parser type reads every file (each file one input); its
# summary has a line per input, which is checked against the file.
for type in nginx apache json sshd postgres; do
	out="$tmp/out" err="$tmp/err"
	args=()
	for f in "${files[@]}"; do args+=("$type:$f"); done
	"$agent" --replay --config "$site" --rules "$rules" "${args[@]}" >"$out" 2>"$err"
	rc=$?
	if [ $rc -ne 0 ]; then
		echo "FAIL $type: exit status $rc"
		tail -n 20 "$err"
		fail=$((fail + ${#files[@]}))
		runs=$((runs + ${#files[@]}))
		continue
	fi
	for f in "${files[@]}"; do
		runs=$((runs + 1))
		want=$(count_lines "$f")
		summary=$(grep -F "breachwatch-agent: $type:$f: " "$err" | head -n 1)
		got=$(sed -nE 's/.*: ([0-9]+) lines,.*/\1/p' <<<"$summary")
		if [ "$got" != "$want" ]; then
			echo "FAIL $type:$f: read ${got:-no} lines, the file has $want"
			fail=$((fail + 1))
			continue
		fi
		echo "ok   ${summary#breachwatch-agent: }"
	done
	echo "     $type: $(wc -l <"$out") incidents; $(tail -n 1 "$err")"
done
echo "$((runs - fail)) passed, $fail failed"
[ $fail -eq 0 ]
