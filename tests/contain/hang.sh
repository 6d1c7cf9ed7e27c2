#!/bin/sh
# hang.sh PIDFILE [ignore-term] - a containment action that never ends by
# itself: it starts /bin/sleep (which holds the output pipe too), writes
# the sleep's PID to PIDFILE and waits for it, so a timeout must reach the
# whole process group. With ignore-term, SIGTERM is ignored (by the sleep
# too), and only SIGKILL ends them.
if [ "$2" = ignore-term ]; then
	trap '' TERM
fi
echo "hanging"
/bin/sleep 60 &
echo $! > "$1"
wait
echo "not reached"
