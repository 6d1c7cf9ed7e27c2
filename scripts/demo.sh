#!/usr/bin/env bash
# Install what is missing, build, and run breachwatch end to end on the
# bundled sample data (an e-mail service provider's nginx, sshd and
# PostgreSQL logs, recorded from real servers on loopback): the agent
# follows the logs and delivers its incidents to the notifier, which keeps
# the breach record and writes the security team's alerts and each affected
# customer's notice as .eml files (the file: transport: nothing is sent).
# Shows the incidents, where the e-mails are, a team alert and a notice
# (examples/demo/demo.py; everything is kept in build/release/demo).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh release >/dev/null
exec /usr/bin/python3 examples/demo/demo.py build/release
