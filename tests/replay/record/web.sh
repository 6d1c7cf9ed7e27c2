#!/usr/bin/env bash
# web.sh - record the web replay cases: a real nginx serving a fake e-mail
# service provider API on loopback, driven by curl and hydra.
#
# To re-record (as root or any user, from anywhere):
#
#   scripts/install-deps.sh --record          # nginx-light curl hydra faketime
#   tests/replay/record/web.sh                # every web case
#   tests/replay/record/web.sh web-brute-force benign-web-mix   # some
#   tests/replay/record/web.sh --list         # the case names
#
# Then check the cases against the agent: ctest -R replay_ (the recorded
# traffic is fixed per case, so expected.json stays valid; a case whose
# traffic is changed here needs its expected.json reasoned again).
#
# How: each case gets a fresh nginx (web/nginx.conf.in, its own prefix in a
# temporary directory, 127.0.0.1:8080, master + one worker) and only that
# case's traffic; nginx is then stopped by its PID (SIGQUIT, graceful) and
# its access log copied to tests/replay/cases/<case>/access.log (the
# combined format), or api.json for the one case logged with
# "log_format ... escape=json". nginx runs with TZ=Europe/Berlin. Cases that
# need a time of day (staff) run nginx under libfaketime from a fixed start
# (the clock ticks from there); the others carry the real clock.
#
# Clients play the hosts of tests/replay/site.conf: curl binds its source
# with --interface 127.0.0.X (127.0.0.20-23 staff workstations, 127.0.0.10-11
# app servers, 127.0.0.64 and up the Internet: customer c10NN at
# 127.0.0.1NN, attackers at 127.0.0.66-99). hydra cannot choose its source,
# so it talks to web/srcfwd.py, which relays each connection from the
# attacker's address: nginx sees and logs a real TCP peer there.
#
# Accounts and passwords (all made up): web/accounts.txt (API customers and
# service accounts), web/staff.txt (back office). Response bodies are
# generated fake JSON.
#
# Bounded: fixed request counts, hydra with short lists (-t 4 or -t 1) under
# `timeout`, curl --max-time, the relay exits on its own after 300 s, and
# every started process is stopped by its PID on exit.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
WEB=$HERE/web
REPO=$(cd "$HERE/../../.." && pwd)
CASES=$REPO/tests/replay/cases
PORT=8080
FWD_PORT=18080
BASE=http://127.0.0.1:$PORT
FAKETIME_LIB=/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1

UA_BROWSER="Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0"
UA_MAC="Mozilla/5.0 (Macintosh; Intel Mac OS X 14_1) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15"
UA_CLIENT="esp-client/2.3.1 (python-requests/2.31.0)"
UA_INTEGRATION="crm-sync/4.0 (+https://crm.example/bot)"
UA_SCRIPT="python-requests/2.31.0"
UA_CURL="curl/7.88.1"
UA_INDEXER="esp-indexer/1.8"
UA_BACKUP="esp-backup/3.2"
UA=$UA_BROWSER

RUN=""
NGINX_PID=""
FWD_PID=""

die() { echo "web.sh: $*" >&2; exit 1; }

stop_fwd() {
	if [ -n "$FWD_PID" ]; then
		kill "$FWD_PID" 2>/dev/null || true
		wait "$FWD_PID" 2>/dev/null || true
		FWD_PID=""
	fi
}

stop_nginx() {
	if [ -n "$NGINX_PID" ]; then
		kill -QUIT "$NGINX_PID" 2>/dev/null || true
		wait "$NGINX_PID" 2>/dev/null || true
		NGINX_PID=""
	fi
}

cleanup() {
	stop_fwd
	stop_nginx
	if [ -n "$RUN" ]; then
		rm -rf "$RUN"
	fi
}

# The password of an account, from web/accounts.txt or web/staff.txt.
pw() {
	local u=$1
	awk -F: -v u="$u" '$1 == u { print $2; exit }' \
		"$WEB/accounts.txt" "$WEB/staff.txt"
}

htpasswd_from() {
	local u p
	while IFS=: read -r u p; do
		case $u in '' | \#*) continue ;; esac
		printf '%s:%s\n' "$u" "$(openssl passwd -apr1 "$p")"
	done <"$1"
}

# The document root: public pages, the back office page, and fake customer
# data (contacts, messages, profile) for c1001..c1020.
make_site() {
	local w=$RUN/www i id
	mkdir -p "$w/static" "$w/docs" "$w/admin" "$w/api/v1" "$w/data" "$RUN/tmp"
	htpasswd_from "$WEB/accounts.txt" >"$RUN/api.htpasswd"
	htpasswd_from "$WEB/staff.txt" >"$RUN/staff.htpasswd"

	printf '<!doctype html><title>ESP</title><link rel="stylesheet" href="/static/app.css"><script src="/static/app.js"></script><h1>Mail that arrives</h1>\n' >"$w/index.html"
	printf '<!doctype html><title>Pricing</title><h1>Pricing</h1><p>Starter, Pro, Enterprise.</p>\n' >"$w/pricing.html"
	printf '<!doctype html><title>Contact</title><h1>Contact us</h1>\n' >"$w/contact.html"
	printf '<!doctype html><title>API</title><h1>API v1</h1><p>/api/v1/customers/{id}/contacts</p>\n' >"$w/docs/api.html"
	printf 'body{font-family:sans-serif;margin:2em}h1{color:#246}\n' >"$w/static/app.css"
	printf 'document.addEventListener("DOMContentLoaded",function(){});\n' >"$w/static/app.js"
	printf '\0\0\1\0' >"$w/favicon.ico"
	printf 'User-agent: *\nDisallow: /admin/\n' >"$w/robots.txt"
	printf '<!doctype html><title>Back office</title><h1>Back office</h1>\n' >"$w/admin/index.html"
	printf '{"session":"ok","expires_in":3600}\n' >"$w/api/session.json"
	printf '{"status":"ok","version":"1.42.0"}\n' >"$w/api/v1/status.json"

	for i in $(seq 1001 1020); do
		id=c$i
		mkdir -p "$w/data/$id"
		printf '{"id":"%s","company":"Customer %s GmbH","plan":"pro","owner":"owner@%s.example","phone":"+49 30 5550%s"}\n' \
			"$id" "$i" "$id" "$i" >"$w/data/$id/profile.json"
		printf '{"customer":"%s","contacts":[{"email":"anna.schmidt@%s.example","name":"Anna Schmidt"},{"email":"ben.okafor@%s.example","name":"Ben Okafor"},{"email":"chen.li@%s.example","name":"Chen Li"}]}\n' \
			"$id" "$id" "$id" "$id" >"$w/data/$id/contacts.json"
		printf 'email,name\nanna.schmidt@%s.example,Anna Schmidt\nben.okafor@%s.example,Ben Okafor\n' \
			"$id" "$id" >"$w/data/$id/contacts.csv"
		printf '{"customer":"%s","messages":[{"id":"m%s-1","subject":"Your invoice","body":"Dear Anna, please find attached"},{"id":"m%s-2","subject":"Newsletter","body":"Our November offers"}]}\n' \
			"$id" "$i" "$i" >"$w/data/$id/messages.json"
	done
}

# start_nginx FAKE_START LOG: a fresh nginx. FAKE_START is "" for the real
# clock or a local Europe/Berlin time ("2026-11-17 10:15:00") the clock
# starts from; LOG is "combined" (access.log) or "json" (api.json).
start_nginx() {
	local fake=$1 kind=$2 logs i
	rm -f "$RUN/access.log" "$RUN/api.json" "$RUN/error.log" "$RUN/nginx.pid"
	case $kind in
	combined) logs="		access_log @RUN@/access.log combined;" ;;
	json) logs="		access_log @RUN@/api.json apijson;" ;;
	*) die "start_nginx: log kind $kind" ;;
	esac
	sed -e "s|@LOGS@|$logs|" -e "s|@RUN@|$RUN|g" \
		"$WEB/nginx.conf.in" >"$RUN/nginx.conf"
	if [ -n "$fake" ]; then
		[ -r "$FAKETIME_LIB" ] || die "libfaketime missing (apt-get install faketime)"
		env TZ=Europe/Berlin LD_PRELOAD="$FAKETIME_LIB" \
			FAKETIME="@$fake" FAKETIME_DONT_RESET=1 \
			DONT_FAKE_MONOTONIC=1 \
			nginx -p "$RUN" -c "$RUN/nginx.conf" -g 'daemon off;' &
	else
		env TZ=Europe/Berlin \
			nginx -p "$RUN" -c "$RUN/nginx.conf" -g 'daemon off;' &
	fi
	NGINX_PID=$!
	# nginx writes its pid file once the listening socket is open.
	for i in $(seq 100); do
		[ -s "$RUN/nginx.pid" ] && return 0
		kill -0 "$NGINX_PID" 2>/dev/null || die "nginx did not start: $(cat "$RUN/error.log" 2>/dev/null)"
		sleep 0.1
	done
	die "nginx did not start in 10 s"
}

# get FROM CRED PATH: one request (GET, or $METHOD) from loopback address
# FROM with user agent $UA. CRED is an account name (its password is looked
# up), "user:password", or "-" for none. Extra curl options in CURL_EXTRA.
get() {
	local from=$1 cred=$2 path=$3
	local -a auth=()
	case $cred in
	-) ;;
	*:*) auth=(-u "$cred") ;;
	*) auth=(-u "$cred:$(pw "$cred")") ;;
	esac
	curl -s -o /dev/null --max-time 5 --interface "$from" -A "$UA" \
		-X "${METHOD:-GET}" ${CURL_EXTRA:-} "${auth[@]}" "$BASE$path" || true
}

# hydra_from FROM HYDRA-ARGS...: run hydra against /api/v1/session, its
# connections relayed from loopback address FROM.
hydra_from() {
	local from=$1 i
	shift
	/usr/bin/python3 "$WEB/srcfwd.py" "$FWD_PORT" "127.0.0.1:$PORT" "$from" 300 &
	FWD_PID=$!
	for i in $(seq 50); do
		if /usr/bin/python3 -c "import socket,sys; s=socket.socket(); sys.exit(s.connect_ex(('127.0.0.1', $FWD_PORT)))" 2>/dev/null; then
			break
		fi
		sleep 0.1
	done
	(cd "$RUN" && timeout 240 hydra -I -q -s "$FWD_PORT" "$@" \
		127.0.0.1 http-get /api/v1/session >"$RUN/hydra.out" 2>&1) || true
	stop_fwd
}

# A customer's usual session from its own address: log in, read its own
# data. own_session ID [EXTRA-PATHS...]
own_session() {
	local id=$1 n=${1#c10}
	local from=127.0.0.1$n
	shift
	get "$from" "$id" /api/v1/session
	get "$from" "$id" "/api/v1/customers/$id/profile"
	get "$from" "$id" "/api/v1/customers/$id/contacts"
	get "$from" "$id" "/api/v1/customers/$id/messages?folder=inbox&page=1"
	local p
	for p in "$@"; do
		get "$from" "$id" "$p"
	done
}

# A visitor browsing the public site: browse FROM PAGE...
browse() {
	local from=$1 p
	shift
	for p in "$@"; do
		get "$from" - "$p"
		if [ "$p" = / ]; then
			get "$from" - /static/app.css
			get "$from" - /static/app.js
			get "$from" - /favicon.ico
		fi
	done
}

# ---------------------------------------------------------------------------
# The cases. Each function drives the running nginx; the table below says
# which clock and which log each one uses.

# c1013's key enumerates every customer's contact list through the API's
# missing object check: bulk read and customer mismatch.
case_web_bulk_read_idor() {
	local i
	UA=$UA_SCRIPT
	get 127.0.0.69 c1013 /api/v1/session
	get 127.0.0.69 c1013 /api/v1/customers/c1013/profile
	for i in $(seq 1001 1020); do
		get 127.0.0.69 c1013 "/api/v1/customers/c$i/contacts"
	done
}

# Staff member bob, with a ticket reference and in business hours, reads
# the account records of twelve customers within minutes: bulk read only.
case_web_bulk_read_staff() {
	local i
	UA=$UA_BROWSER
	get 127.0.0.22 bob /admin/session
	get 127.0.0.22 bob /admin/
	for i in $(seq 1001 1012); do
		get 127.0.0.22 bob "/admin/customers/c$i?ticket=T-48213"
		get 127.0.0.22 bob "/admin/customers/c$i/contacts?ticket=T-48213"
	done
}

# Customer c1005 reads its own data, then customer c1007's messages and
# contacts: customer mismatch.
case_web_customer_mismatch() {
	UA=$UA_CLIENT
	own_session c1005
	get 127.0.0.105 c1005 /api/v1/customers/c1007/messages
	get 127.0.0.105 c1005 /api/v1/customers/c1007/contacts
	get 127.0.0.105 c1005 /api/v1/customers/c1005/contacts
}

# The same as a JSON access log: c1011 reads c1012's account and messages.
case_web_mismatch_json() {
	UA=$UA_INTEGRATION
	own_session c1011
	get 127.0.0.111 c1011 /api/v1/customers/c1012
	get 127.0.0.111 c1011 "/api/v1/customers/c1012/messages?folder=sent"
	UA=$UA_CLIENT
	own_session c1012
}

# Credential stuffing from 127.0.0.66: 20 accounts x 3 leaked passwords,
# none right.
case_web_credential_stuffing() {
	seq -f 'c%g' 1001 1020 >"$RUN/users.txt"
	printf '%s\n' 123456 Password1 welcome2024 >"$RUN/pass.txt"
	hydra_from 127.0.0.66 -L "$RUN/users.txt" -P "$RUN/pass.txt" -t 4
}

# Brute force from 127.0.0.67 against c1004: 40 common passwords, none right.
case_web_brute_force() {
	hydra_from 127.0.0.67 -l c1004 -P "$WEB/common-passwords.txt" -t 4
}

# Account takeover from 127.0.0.68: hydra guesses c1009's weak password
# (the tenth of twelve, one task so the failures come first), then the
# attacker logs in and reads c1009's data.
case_web_account_takeover() {
	printf '%s\n' 123456 password qwerty letmein welcome abc123 Password1 \
		iloveyou summer2023 summer2024 winter2024 autumn2024 >"$RUN/pass.txt"
	hydra_from 127.0.0.68 -l c1009 -P "$RUN/pass.txt" -t 1 -f
	sleep 2
	UA=$UA_SCRIPT
	get 127.0.0.68 c1009:summer2024 /api/v1/session
	get 127.0.0.68 c1009:summer2024 /api/v1/customers/c1009/profile
	get 127.0.0.68 c1009:summer2024 /api/v1/customers/c1009/contacts
	get 127.0.0.68 c1009:summer2024 /api/v1/customers/c1009/messages
	get 127.0.0.68 c1009:summer2024 "/api/v1/customers/c1009/messages?page=2"
}

# SQL injection probes without credentials from 127.0.0.70: all refused
# (401), so attempts only.
case_web_sqli_attempt() {
	UA=$UA_SCRIPT
	get 127.0.0.70 - "/api/v1/customers/c1002/messages?q=%27%20OR%20%271%27=%271"
	get 127.0.0.70 - "/api/v1/customers/c1002/messages?q=x%27%20UNION%20SELECT%20id,password%20FROM%20users--"
	get 127.0.0.70 - "/api/v1/customers/c1002/contacts?sort=name;DROP%20TABLE%20contacts--"
	get 127.0.0.70 - "/api/v1/customers/c1002/contacts?id=1%20AND%20SLEEP(5)"
	get 127.0.0.70 - "/api/v1/customers/c1002%27%20OR%201=1--/profile"
}

# SQL injection by a logged-in customer (c1003's key, from 127.0.0.72)
# against its own message search: the API answers 200.
case_web_sqli_success() {
	UA=$UA_SCRIPT
	get 127.0.0.72 c1003 /api/v1/session
	get 127.0.0.72 c1003 "/api/v1/customers/c1003/messages?q=invoice"
	get 127.0.0.72 c1003 "/api/v1/customers/c1003/messages?q=x%27%20UNION%20SELECT%20customer_id,body%20FROM%20messages--"
	get 127.0.0.72 c1003 "/api/v1/customers/c1003/messages?q=x%27%20UNION%20ALL%20SELECT%20NULL,table_name%20FROM%20information_schema.tables--"
}

# Path traversal probes from 127.0.0.71 without credentials: refused (400,
# 401, 404).
case_web_traversal_attempt() {
	UA=$UA_SCRIPT
	CURL_EXTRA=--path-as-is get 127.0.0.71 - "/api/v1/customers/c1002/../../../../etc/passwd"
	get 127.0.0.71 - "/api/v1/customers/c1002/messages/..%2f..%2f..%2f..%2fetc%2fpasswd"
	get 127.0.0.71 - "/api/v1/customers/c1002/messages?attachment=../../../../etc/shadow"
	get 127.0.0.71 - "/admin/customers/c1002/..%252f..%252f..%252fetc%252fpasswd"
	CURL_EXTRA=--path-as-is get 127.0.0.71 - "/api/v1/export/%2e%2e/%2e%2e/%2e%2e/etc/passwd"
}

# Path traversal by a logged-in customer (c1006's key, from 127.0.0.74) in
# the attachment parameter of its own messages: answered 200.
case_web_traversal_success() {
	UA=$UA_SCRIPT
	get 127.0.0.74 c1006 /api/v1/session
	get 127.0.0.74 c1006 "/api/v1/customers/c1006/messages?attachment=invoice.pdf"
	get 127.0.0.74 c1006 "/api/v1/customers/c1006/messages?attachment=../../../../etc/passwd"
	get 127.0.0.74 c1006 "/api/v1/customers/c1006/messages?attachment=..%2f..%2f..%2fvar%2flib%2fesp%2fkeys.json"
}

# Staff member alice reads c1002's messages at 23:10 on a Tuesday (with a
# ticket): outside business hours.
case_web_staff_after_hours() {
	UA=$UA_BROWSER
	get 127.0.0.21 alice /admin/session
	get 127.0.0.21 alice /admin/
	get 127.0.0.21 alice "/admin/customers/c1002?ticket=T-48177"
	get 127.0.0.21 alice "/admin/customers/c1002/messages?ticket=T-48177"
	get 127.0.0.21 alice "/admin/customers/c1002/messages?ticket=T-48177&page=2"
}

# Staff member carol reads two customers' data in business hours without a
# ticket reference.
case_web_staff_no_ticket() {
	UA=$UA_MAC
	get 127.0.0.23 carol /admin/session
	get 127.0.0.23 carol /admin/
	get 127.0.0.23 carol "/admin/customers/c1011?ticket=T-50021"
	get 127.0.0.23 carol /admin/customers/c1011/contacts
	get 127.0.0.23 carol /admin/customers/c1014
	get 127.0.0.23 carol "/admin/customers/c1014/messages?page=1"
}

# The backup service account used from the Internet (127.0.0.99): its key
# leaked.
case_web_service_account_outside() {
	UA=$UA_SCRIPT
	get 127.0.0.99 svc-backup /api/v1/session
	get 127.0.0.99 svc-backup /api/v1/customers/c1001/profile
	get 127.0.0.99 svc-backup /api/v1/customers/c1002/profile
	get 127.0.0.99 svc-backup /api/v1/customers/c1003/contacts
}

# An unauthenticated scraper (127.0.0.76) pulls fifteen customers' contact
# lists from the unprotected legacy CSV export.
case_web_anonymous_export() {
	local i
	UA=$UA_SCRIPT
	get 127.0.0.76 - /api/v1/status
	for i in $(seq 1001 1015); do
		get 127.0.0.76 - "/api/v1/customers/c$i/contacts.csv"
	done
}

# Staff member carol's account used from the Internet (127.0.0.88) in
# business hours, with a ticket reference: her password leaked.
case_web_staff_untrusted_source() {
	UA=$UA_BROWSER
	get 127.0.0.88 carol /admin/session
	get 127.0.0.88 carol /admin/
	get 127.0.0.88 carol "/admin/customers/c1005?ticket=T-50090"
	get 127.0.0.88 carol "/admin/customers/c1005/contacts?ticket=T-50090"
}

# Twelve customer accounts (leaked credentials) used one after the other
# from one Internet address, each reading only its own contact list.
case_web_many_accounts_one_source() {
	local i
	UA=$UA_SCRIPT
	for i in $(seq 1001 1012); do
		get 127.0.0.75 "c$i" /api/v1/session
		get 127.0.0.75 "c$i" "/api/v1/customers/c$i/contacts"
	done
}

# Benign: eight customers read their own data from their own addresses.
case_benign_web_own_data() {
	local i
	UA=$UA_CLIENT
	for i in $(seq 1001 1008); do
		own_session "c$i" "/api/v1/customers/c$i/messages?folder=sent&page=2"
	done
	UA=$UA_INTEGRATION
	own_session c1001 "/api/v1/customers/c1001/contacts?page=2"
	# An agency office (127.0.0.90) that manages four client accounts:
	# several customer accounts from one address, below the threshold.
	UA=$UA_MAC
	for i in 1017 1018 1019 1020; do
		get 127.0.0.90 "c$i" /api/v1/session
		get 127.0.0.90 "c$i" "/api/v1/customers/c$i/contacts"
		get 127.0.0.90 "c$i" "/api/v1/customers/c$i/messages?folder=sent"
	done
}

# Benign: customers who mistype their password a few times, then log in
# and read their own data.
case_benign_web_mistyped_passwords() {
	UA=$UA_BROWSER
	get 127.0.0.102 c1002:quiet-falcon-7731 /api/v1/session
	get 127.0.0.102 c1002:quiet-falcon-773 /api/v1/session
	own_session c1002
	get 127.0.0.115 c1015:brave-quoka-6618 /api/v1/session
	get 127.0.0.115 c1015:Brave-quokka-6618 /api/v1/session
	get 127.0.0.115 c1015:brave-quokka-6681 /api/v1/session
	own_session c1015
	UA=$UA_MAC
	get 127.0.0.117 c1017:noble-fjord-7349 /api/v1/session
	own_session c1017
	get 127.0.0.118 c1018:dusty-walnut-4816 /api/v1/session
	get 127.0.0.118 c1018:dusty-walnut-4816 /api/v1/session
	# A shared office address (127.0.0.91): three people mistype once.
	UA=$UA_BROWSER
	get 127.0.0.91 c1011:rapid-juniper-9152 /api/v1/session
	get 127.0.0.91 c1011 /api/v1/session
	get 127.0.0.91 c1012:gentle-basalt-378 /api/v1/session
	get 127.0.0.91 c1012 /api/v1/session
	get 127.0.0.91 c1014:misty-pioneer-1024 /api/v1/session
	get 127.0.0.91 c1014 /api/v1/session
	get 127.0.0.91 c1014 /api/v1/customers/c1014/messages
}

# Benign: support staff with ticket references in business hours.
case_benign_web_staff_ticket() {
	UA=$UA_BROWSER
	get 127.0.0.21 alice /admin/session
	get 127.0.0.21 alice /admin/
	get 127.0.0.21 alice "/admin/customers/c1004?ticket=T-50102"
	get 127.0.0.21 alice "/admin/customers/c1004/messages?ticket=T-50102"
	get 127.0.0.21 alice "/admin/customers/c1004/contacts?ticket=T-50102&page=1"
	UA=$UA_MAC
	get 127.0.0.23 carol /admin/session
	get 127.0.0.23 carol "/admin/customers/c1016?ticket=T-50107"
	get 127.0.0.23 carol "/admin/customers/c1016/messages?page=1&ticket=T-50107"
	get 127.0.0.23 carol "/admin/customers/c1019/contacts?ticket=T-50111"
	# bob works through a queue of five tickets in the hour.
	UA=$UA_BROWSER
	get 127.0.0.22 bob /admin/session
	get 127.0.0.22 bob "/admin/customers/c1003?ticket=T-50114"
	get 127.0.0.22 bob "/admin/customers/c1007/contacts?ticket=T-50115"
	get 127.0.0.22 bob "/admin/customers/c1010?ticket=T-50116"
	get 127.0.0.22 bob "/admin/customers/c1010/messages?ticket=T-50116"
	get 127.0.0.22 bob "/admin/customers/c1012?ticket=T-50118"
	get 127.0.0.22 bob "/admin/customers/c1018/contacts?ticket=T-50119"
}

# Benign: searches and parameters that look a little like attacks.
case_benign_web_search_queries() {
	UA=$UA_BROWSER
	get 127.0.0.104 c1004 /api/v1/session
	get 127.0.0.104 c1004 "/api/v1/customers/c1004/messages?q=O%27Brien"
	get 127.0.0.104 c1004 "/api/v1/customers/c1004/messages?q=union+meeting+select+committee"
	get 127.0.0.104 c1004 "/api/v1/customers/c1004/messages?q=drop+shipping+order"
	get 127.0.0.104 c1004 "/api/v1/customers/c1004/messages?q=it%27s+done+--+final"
	get 127.0.0.104 c1004 "/api/v1/customers/c1004/contacts?sort=name&order=desc"
	get 127.0.0.104 c1004 "/api/v1/customers/c1004/messages?attachment=report..final.pdf"
	get 127.0.0.104 c1004 "/api/v1/customers/c1004/messages?q=sleep+well+newsletter"
	get 127.0.0.104 c1004 "/api/v1/customers/c1004/messages?q=1%3D1+offer"
	get 127.0.0.110 - /docs/api
	get 127.0.0.110 - "/pricing?plan=pro&ref=..%2Fnewsletter"
}

# Benign: the service accounts at work from the app servers, and the app
# servers calling the API with many customers' own keys.
case_benign_web_service_accounts() {
	local i
	UA=$UA_INDEXER
	for i in $(seq 1001 1020); do
		get 127.0.0.10 svc-indexer "/api/v1/customers/c$i/messages?since=2026-11-16"
	done
	UA=$UA_BACKUP
	for i in $(seq 1001 1020); do
		get 127.0.0.11 svc-backup "/api/v1/customers/c$i/profile"
		get 127.0.0.11 svc-backup "/api/v1/customers/c$i/contacts"
	done
	UA=$UA_CLIENT
	for i in $(seq 1001 1014); do
		get 127.0.0.10 "c$i" "/api/v1/customers/c$i/contacts"
	done
}

# Benign: a morning's mix — visitors on the public site, customers reading
# their own data, a mistyped password, a support agent with a ticket, the
# indexer from an app server, a few 404s.
case_benign_web_mix() {
	local i r
	for r in 1 2 3; do
		UA=$UA_BROWSER
		for i in 64 65 76 77 78; do
			browse "127.0.0.$i" / /pricing /docs/api
		done
		UA=$UA_MAC
		for i in 80 81 82; do
			browse "127.0.0.$i" / /contact /robots.txt /wp-login.php
		done
		UA=$UA_CLIENT
		for i in $(seq 1001 1010); do
			own_session "c$i"
		done
		get 127.0.0.10 svc-indexer "/api/v1/customers/c100$r/messages?since=2026-11-16"
		get 127.0.0.10 - /api/v1/status
	done
	UA=$UA_BROWSER
	get 127.0.0.116 c1016:scarlet-mango-2975 /api/v1/session
	own_session c1016
	get 127.0.0.22 bob /admin/session
	get 127.0.0.22 bob "/admin/customers/c1008?ticket=T-50120"
	get 127.0.0.22 bob "/admin/customers/c1008/messages?ticket=T-50120"
	UA=$UA_INTEGRATION
	own_session c1012 "/api/v1/customers/c1012/contacts?page=2"
	get 127.0.0.112 c1012 /api/v1/customers/c1012/nonexistent
}

# name | nginx clock (a Europe/Berlin start, or "real") | log
CASE_TABLE='
web-bulk-read-idor|real|combined
web-bulk-read-staff|2026-11-17 14:05:00|combined
web-customer-mismatch|real|combined
web-mismatch-json|real|json
web-credential-stuffing|real|combined
web-brute-force|real|combined
web-account-takeover|real|combined
web-sqli-attempt|real|combined
web-sqli-success|real|combined
web-traversal-attempt|real|combined
web-traversal-success|real|combined
web-staff-after-hours|2026-11-17 23:10:00|combined
web-staff-no-ticket|2026-11-18 11:20:00|combined
web-service-account-outside|real|combined
web-many-accounts-one-source|real|combined
web-anonymous-export|real|combined
web-staff-untrusted-source|2026-11-18 15:30:00|combined
benign-web-own-data|real|combined
benign-web-mistyped-passwords|real|combined
benign-web-staff-ticket|2026-11-19 09:40:00|combined
benign-web-search-queries|real|combined
benign-web-service-accounts|real|combined
benign-web-mix|2026-11-17 10:15:00|combined
'

record() {
	local name=$1 clock=$2 kind=$3 fn out
	fn=case_${name//-/_}
	declare -F "$fn" >/dev/null || die "no function $fn"
	[ "$clock" = real ] && clock=""
	echo "web.sh: recording $name" >&2
	start_nginx "$clock" "$kind"
	UA=$UA_BROWSER
	"$fn"
	stop_nginx
	mkdir -p "$CASES/$name"
	if [ "$kind" = json ]; then
		out=api.json
	else
		out=access.log
	fi
	[ -s "$RUN/$out" ] || die "$name: nginx logged nothing"
	cp "$RUN/$out" "$CASES/$name/$out"
	echo "web.sh: $name: $(wc -l <"$RUN/$out") lines" >&2
}

main() {
	local want=("$@") line name clock kind found
	if [ "${1:-}" = --list ]; then
		echo "$CASE_TABLE" | awk -F'|' 'NF { print $1 }'
		return 0
	fi
	for t in nginx curl hydra openssl /usr/bin/python3; do
		command -v "$t" >/dev/null || die "$t is missing (scripts/install-deps.sh --record)"
	done
	RUN=$(mktemp -d /tmp/bw-webrec.XXXXXX)
	# nginx's worker runs as nobody when started by root: it must read the
	# document root and the password files.
	chmod 755 "$RUN"
	trap cleanup EXIT
	trap 'exit 130' INT TERM
	make_site
	found=0
	while IFS='|' read -r name clock kind; do
		[ -n "$name" ] || continue
		if [ ${#want[@]} -gt 0 ]; then
			case " ${want[*]} " in *" $name "*) ;; *) continue ;; esac
		fi
		found=$((found + 1))
		record "$name" "$clock" "$kind"
	done <<<"$CASE_TABLE"
	if [ ${#want[@]} -gt 0 ] && [ "$found" -ne ${#want[@]} ]; then
		die "unknown case among: ${want[*]} (see --list)"
	fi
}

main "$@"
