#!/bin/sh
# bigout.sh - a containment action that writes about 130 KB (more than a
# pipe holds) and succeeds: the agent must keep reading, keep only an
# excerpt, and count the rest.
i=0
while [ $i -lt 2000 ]; do
	echo "line $i of output that goes on and on and on and on and on"
	i=$((i + 1))
done
