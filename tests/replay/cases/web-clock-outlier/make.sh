#!/bin/sh
# Derive this case from the recorded web-credential-stuffing case: the same
# hydra run, with one line from a host whose clock was 73 years ahead put
# after the 20th attempt (the incident is open by then). That one stamp
# must not move the agent's clock: no window may expire, the incident must
# not close early and open again, so one incident is expected, as in the
# original case.
set -eu
cd "$(dirname "$0")"
src=../web-credential-stuffing/access.log
{
	head -n 20 "$src"
	echo '127.0.0.9 - - [23/Nov/2099:10:59:30 +0100] "GET /static/app.css HTTP/1.1" 200 5120 "-" "Mozilla/5.0 (X11; Linux x86_64)"'
	tail -n +21 "$src"
} >access.log
