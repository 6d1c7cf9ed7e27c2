#!/bin/bash
# postgres.sh - record real PostgreSQL 15 logs for the db-* replay cases.
#
# Re-record (as root, Debian 12; nothing leaves the machine):
#   apt-get install postgresql-15 postgresql-client-15 hydra iproute2
#   tests/replay/record/postgres.sh
# This rewrites tests/replay/cases/db-*/postgres.log only; agent.conf and
# expected.json are kept by hand: check them against the new recording.
#
# How it works:
# - The run lives in a network namespace of its own (unshare --net). The
#   server listens on 127.0.0.1:5433 and on one "gateway" address 127.1.0.N
#   per client host; a route in the namespace's local table makes the kernel
#   pick 127.0.0.N as the source of every connection to 127.1.0.N. libpq
#   cannot choose its source address, but this way psql, pg_dump and hydra,
#   run unchanged, reach the server from the hosts of
#   tests/replay/site.conf (127.0.0.10-11 app servers, 127.0.0.20-29 staff
#   hosts, 127.0.0.64 and up the Internet), and the server logs them.
# - A cluster is made with initdb (as the postgres OS user) in a temp dir,
#   with postgres/postgresql.conf.in appended (log_connections,
#   log_statement = 'all', log_line_prefix '%m [%p] %q%u@%d from %h ',
#   logging_collector) and postgres/pg_hba.conf; postgres/schema.sql makes
#   the database `mail` (customers, contacts, messages; c1001..c1040) and the
#   roles app, svc-backup, dba_dave and mallory.
# - Each case starts the server with its own log_filename, drives it with
#   the clients, and stops it (SIGINT to the postmaster's PID, a fast
#   shutdown), so each postgres.log holds one server run, start and stop
#   lines included.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
CASES=$(cd "$HERE/../cases" && pwd)
PGBIN=/usr/lib/postgresql/15/bin

if [ "$(id -u)" != 0 ]; then
	echo "postgres.sh: run as root (namespaces, the postgres OS user)" >&2
	exit 1
fi
if [ -z "${BW_RECORD_NETNS:-}" ]; then
	exec unshare --net env BW_RECORD_NETNS=1 "$0" "$@"
fi

# Client hosts (last octet): app servers, staff hosts, the Internet.
CLIENTS="10 11 21 22 25 66"
APP_PW='app-6fe1b2c09d'
BACKUP_PW='backup-3a9c51e7'
DAVE_PW='Dave-Rocks-2026'
MALLORY_PW='mallory-report-q3'

ip link set lo up
LISTEN=127.0.0.1
for n in $CLIENTS; do
	ip route add local "127.1.0.$n/32" dev lo table local src "127.0.0.$n"
	LISTEN="$LISTEN,127.1.0.$n"
done

T=$(mktemp -d /tmp/bw-pg.XXXXXX)
chmod 755 "$T"
PG_PID=

stop_server() {
	if [ -n "$PG_PID" ]; then
		kill -INT "$PG_PID" 2>/dev/null || true
		wait "$PG_PID" 2>/dev/null || true
		PG_PID=
	fi
}
cleanup() {
	set +e
	stop_server
	rm -rf "$T"
}
trap cleanup EXIT

as_postgres() {
	setpriv --reuid=postgres --regid=postgres --init-groups "$@"
}

wait_for() { # what, test command...
	local what=$1
	shift
	for _ in $(seq 1 300); do
		if "$@"; then
			return 0
		fi
		sleep 0.1
	done
	echo "postgres.sh: timed out waiting for $what" >&2
	exit 1
}

# The cluster.
mkdir -p "$T/data" "$T/log" "$T/sock"
chown postgres: "$T/data" "$T/log" "$T/sock"
chmod 700 "$T/data"
as_postgres "$PGBIN/initdb" -D "$T/data" -U postgres --no-locale -E UTF8 \
	--auth-local=peer --auth-host=scram-sha-256 >/dev/null
sed -e "s|@DIR@|$T|g" -e "s|@LISTEN@|$LISTEN|" \
	"$HERE/postgres/postgresql.conf.in" >>"$T/data/postgresql.conf"
install -o postgres -g postgres -m 600 "$HERE/postgres/pg_hba.conf" \
	"$T/data/pg_hba.conf"

# Start the server logging to log/NAME. setpriv (a plain command, not a
# function, so no subshell) execs, so $! is the postmaster's PID.
start_server() { # log name
	setpriv --reuid=postgres --regid=postgres --init-groups \
		"$PGBIN/postgres" -D "$T/data" -c "log_filename=$1" \
		>>"$T/server.stderr" 2>&1 &
	PG_PID=$!
	wait_for "the server" "$PGBIN/pg_isready" -q -h 127.0.0.1 -p 5433
}

# Schema, data and roles, over the Unix socket (the setup log is dropped).
start_server setup.log
as_postgres "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$T/sock" -p 5433 \
	-d postgres -v app_pw="$APP_PW" -v backup_pw="$BACKUP_PW" \
	-v dave_pw="$DAVE_PW" -v mallory_pw="$MALLORY_PW" \
	-f "$HERE/postgres/schema.sql" >/dev/null
stop_server

# Clients. Every run is bounded by timeout.
pg() { # client-octet role password psql-args...
	local n=$1 role=$2 pw=$3
	shift 3
	PGPASSWORD=$pw timeout 60 "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 \
		"host=127.1.0.$n port=5433 dbname=mail user=$role" "$@"
}
pg_app() { # client-octet psql-args... (the application's own name)
	local n=$1
	shift
	PGPASSWORD=$APP_PW PGAPPNAME=mailweb pg "$n" app "$APP_PW" "$@"
}

case_begin() {
	start_server "$1.log"
}
case_end() { # case
	stop_server
	mkdir -p "$CASES/$1"
	cp "$T/log/$1.log" "$CASES/$1/postgres.log"
	chmod 644 "$CASES/$1/postgres.log"
	echo "recorded $1: $(wc -l <"$CASES/$1/postgres.log") lines"
}

# db-benign-app: the application on both app servers, one or two
# customers per statement; the nightly pg_dump as svc-backup from an app
# server.
case_begin db-benign-app
pg_app 10 -f "$HERE/postgres/benign-app-10.sql" >/dev/null
pg_app 11 -f "$HERE/postgres/benign-app-11.sql" >/dev/null
PGPASSWORD=$BACKUP_PW timeout 60 "$PGBIN/pg_dump" -h 127.1.0.11 -p 5433 \
	-U svc-backup -d mail --data-only >/dev/null
case_end db-benign-app

# db-benign-admin: dba_dave on his workstation mistypes his password once,
# then does routine work and looks at one customer for a support ticket.
case_begin db-benign-admin
pg 21 dba_dave 'Dave-Rocks-2062' -c 'SELECT 1' 2>/dev/null || true
pg 21 dba_dave "$DAVE_PW" -f "$HERE/postgres/benign-admin-21.sql" >/dev/null
case_end db-benign-admin

# db-login-untrusted: dba_dave's password used from the Internet.
case_begin db-login-untrusted
pg 66 dba_dave "$DAVE_PW" -f "$HERE/postgres/login-untrusted-66.sql" >/dev/null
case_end db-login-untrusted

# db-login-staff-host: the app's role used from a staff workstation.
case_begin db-login-staff-host
pg 25 app "$APP_PW" -f "$HERE/postgres/login-staff-host-25.sql" >/dev/null
case_end db-login-staff-host

# db-sqli: SQL injection through the app's contact search.
case_begin db-sqli
pg_app 10 -f "$HERE/postgres/sqli-10.sql" >/dev/null
case_end db-sqli

# db-bulk-select: the app's role, from a compromised app server, dumps the
# customer tables with psql.
case_begin db-bulk-select
pg 11 app "$APP_PW" -f "$HERE/postgres/bulk-select-11.sql" >/dev/null
case_end db-bulk-select

# db-admin-dump: dba_dave's account takes a data dump of the whole database
# to his workstation with pg_dump (COPY ... TO stdout per table).
case_begin db-admin-dump
PGPASSWORD=$DAVE_PW timeout 60 "$PGBIN/pg_dump" -h 127.1.0.21 -p 5433 \
	-U dba_dave -d mail --data-only >/dev/null
case_end db-admin-dump

# db-many-customers: dba_dave reads the mail of 12 customers, one after
# the other.
case_begin db-many-customers
for i in $(seq 1001 1012); do
	echo "SELECT subject, body FROM messages WHERE customer_id = 'c$i' ORDER BY received_at;"
done >"$T/many.sql"
pg 21 dba_dave "$DAVE_PW" -f "$T/many.sql" >/dev/null
case_end db-many-customers

# db-unexpected-role: the analyst account reads a customer's mail.
case_begin db-unexpected-role
pg 22 mallory "$MALLORY_PW" -f "$HERE/postgres/unexpected-role-22.sql" >/dev/null
case_end db-unexpected-role

# db-auth-bruteforce: an Internet host guesses passwords of two roles with
# hydra (2 x 8 tries, none right).
case_begin db-auth-bruteforce
printf '%s\n' postgres dba_dave >"$T/users"
printf '%s\n' postgres 123456 password admin dba changeme 'P@ssw0rd' \
	qwerty >"$T/pw8"
# hydra's postgres module checks the port with a bare TCP connect (logged as
# a connection received with no login) and then leaves the port out of
# libpq's connection string: PGPORT gives it.
(cd "$T" && PGPORT=5433 timeout 120 hydra -I -t 4 -L "$T/users" \
	-P "$T/pw8" -s 5433 postgres://127.1.0.66) || true
case_end db-auth-bruteforce

echo "postgres.sh: done"
