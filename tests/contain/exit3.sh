#!/bin/sh
# exit3.sh - a containment action that fails: a line on stdout, one on
# stderr, exit status 3.
echo "going to fail"
echo "no such account" >&2
exit 3
