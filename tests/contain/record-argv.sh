#!/bin/sh
# record-argv.sh OUT ARG... - a containment action for the tests: writes
# its exported environment to OUT.env and each ARG on a line of its own to
# OUT, and says so on stdout. Only shell builtins are used: the action runs
# with the allow-listed environment alone, maybe without PATH.
out=$1
shift
export -p > "$out.env"
printf '%s\n' "$@" > "$out"
echo "recorded $# arguments"
