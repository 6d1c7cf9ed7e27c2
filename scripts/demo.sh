#!/usr/bin/env bash
# Install what is missing, build, and replay the bundled sample data (an
# e-mail service provider's nginx, sshd and PostgreSQL logs, recorded from
# real servers on loopback) through the default ruleset, printing each
# incident found for a person.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh release >/dev/null
demo=examples/demo
# TYPE:PATH per line, PATH relative to the top of the tree.
inputs=()
while read -r input; do
	case "$input" in '' | '#'*) continue ;; esac
	inputs+=("$input")
done <"$demo/inputs"
echo "breachwatch demo: replaying ${inputs[*]}"
echo
build/release/agent/breachwatch-agent --replay --format text \
	--config "$demo/agent.conf" --rules rules/sets "${inputs[@]}"
