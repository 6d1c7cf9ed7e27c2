#!/bin/bash
# ssh.sh - record real OpenSSH logs for the ssh-* replay cases.
#
# Re-record (as root, Debian 12; nothing leaves the machine):
#   apt-get install openssh-server openssh-client hydra sshpass rsyslog iproute2
#   tests/replay/record/ssh.sh
# This rewrites tests/replay/cases/ssh-*/auth.log only. agent.conf (the
# `year` of the sshd input!) and expected.json are kept by hand: check them
# against the new recording.
#
# How it works:
# - The whole run lives in a network namespace of its own (unshare --net), so
#   its loopback and routes are private. A real sshd (OpenSSH, PAM, password
#   and public-key logins) listens on 127.0.0.1:2222 and on one "gateway"
#   address 127.1.0.N per client host; a route in the namespace's local table
#   makes the kernel pick 127.0.0.N as the source of any connection to
#   127.1.0.N. So hydra, ssh and sshpass, run unchanged, reach sshd from the
#   client addresses of tests/replay/site.conf (127.0.0.20-29 staff hosts,
#   127.0.0.64 and up the Internet), and sshd logs those addresses.
# - sshd logs through syslog(3) to /dev/log. A private rsyslogd (config in
#   ssh/rsyslog.conf.in) listens on a socket in the temp dir, and sshd runs in
#   a mount namespace of its own whose /dev holds that socket as /dev/log;
#   rsyslogd writes the auth facilities in the traditional format
#   (`Mon DD HH:MM:SS host sshd[pid]: ...`, local time = UTC here). Each case's
#   log is closed with a SIGHUP to rsyslogd (as logrotate does).
# - A throwaway user `alice` (the staff admin of site.conf) is created for the
#   run and removed at the end. Host keys are generated into the temp dir.
# Every server is stopped by its PID; every client run is bounded by timeout.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
CASES=$(cd "$HERE/../cases" && pwd)

if [ "$(id -u)" != 0 ]; then
	echo "ssh.sh: run as root (creates a user, namespaces)" >&2
	exit 1
fi
if [ -z "${BW_RECORD_NETNS:-}" ]; then
	exec unshare --net env BW_RECORD_NETNS=1 "$0" "$@"
fi

# Client hosts (last octet): staff workstations and Internet hosts.
CLIENTS="20 21 66 70 77"
SSH_USER=alice
SSH_PASS='Winter-Harbour-1987'

ip link set lo up
LISTEN="ListenAddress 127.0.0.1:2222"
for n in $CLIENTS; do
	ip route add local "127.1.0.$n/32" dev lo table local src "127.0.0.$n"
	LISTEN="$LISTEN
ListenAddress 127.1.0.$n:2222"
done

T=$(mktemp -d /tmp/bw-ssh.XXXXXX)
chmod 755 "$T"
RSYSLOG_PID=
SSHD_PID=
USER_MADE=

cleanup() {
	set +e
	if [ -n "$SSHD_PID" ]; then
		kill "$SSHD_PID" 2>/dev/null
		wait "$SSHD_PID" 2>/dev/null
	fi
	if [ -n "$RSYSLOG_PID" ]; then
		kill "$RSYSLOG_PID" 2>/dev/null
		wait "$RSYSLOG_PID" 2>/dev/null
	fi
	[ -n "$USER_MADE" ] && userdel "$SSH_USER"
	rm -rf "$T"
}
trap cleanup EXIT

# The test user.
if getent passwd "$SSH_USER" >/dev/null; then
	echo "ssh.sh: a user $SSH_USER exists already; not touching it" >&2
	exit 1
fi
mkdir -p "$T/home"
useradd -M -d "$T/home" -s /bin/sh -c "breachwatch recording" "$SSH_USER"
USER_MADE=1
chown "$SSH_USER:" "$T/home"
echo "$SSH_USER:$SSH_PASS" | chpasswd

# Keys: host keys, and alice's client key (authorized in a root-owned file).
ssh-keygen -q -t ed25519 -N '' -f "$T/ssh_host_ed25519_key"
ssh-keygen -q -t rsa -b 2048 -N '' -f "$T/ssh_host_rsa_key"
ssh-keygen -q -t ed25519 -N '' -C "alice@ws21" -f "$T/alice_key"
mkdir -p "$T/authorized_keys"
cp "$T/alice_key.pub" "$T/authorized_keys/$SSH_USER"
chmod 644 "$T/authorized_keys/$SSH_USER"

# Configs from the templates.
fill() {
	local listen_esc=${LISTEN//$'\n'/\\n}
	sed -e "s|@DIR@|$T|g" -e "s|@LISTEN@|$listen_esc|" "$1" >"$2"
}
fill "$HERE/ssh/sshd_config.in" "$T/sshd_config"
fill "$HERE/ssh/rsyslog.conf.in" "$T/rsyslog.conf"
# sshd -t wants its privilege separation dir: give it a private /run.
unshare --mount --propagation private /bin/sh -ec '
	mount -t tmpfs -o mode=755 tmpfs /run
	mkdir -m 755 /run/sshd
	exec /usr/sbin/sshd -t -f "$1"
' sh "$T/sshd_config"

wait_for() { # what, test command...
	local what=$1
	shift
	for _ in $(seq 1 600); do
		if "$@"; then
			return 0
		fi
		sleep 0.1
	done
	echo "ssh.sh: timed out waiting for $what" >&2
	exit 1
}

# rsyslogd, in the foreground as our child.
mkdir -p "$T/dev" "$T/rsyslog"
rsyslogd -n -f "$T/rsyslog.conf" -i "$T/rsyslog.pid" &
RSYSLOG_PID=$!
wait_for "rsyslogd's socket" test -S "$T/dev/log"

# sshd in a mount namespace whose /dev is the temp dir's (its /dev/log is
# rsyslogd's socket) and whose /run/sshd (the privilege separation dir) is
# private. unshare and sh exec, so $! is sshd's PID.
unshare --mount --propagation private /bin/sh -ec '
	D=$1
	for n in null zero full random urandom tty; do
		touch "$D/dev/$n"
		mount --bind "/dev/$n" "$D/dev/$n"
	done
	mkdir -p "$D/dev/pts"
	mount --bind /dev/pts "$D/dev/pts"
	ln -sf pts/ptmx "$D/dev/ptmx"
	mount --rbind "$D/dev" /dev
	mount -t tmpfs -o mode=755 tmpfs /run
	mkdir -m 755 /run/sshd
	exec /usr/sbin/sshd -D -f "$D/sshd_config"
' sh "$T" &
SSHD_PID=$!
listening() { ss -Hltn 'sport = :2222' | grep -q 127.1.0.77; }
wait_for "sshd" listening

SSH_OPTS=(-p 2222 -T -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null
	-o LogLevel=ERROR -o ConnectTimeout=10)
ssh_key() { # client-octet command...
	local n=$1
	shift
	timeout 30 ssh "${SSH_OPTS[@]}" -i "$T/alice_key" -o IdentitiesOnly=yes \
		-o BatchMode=yes -o PasswordAuthentication=no \
		"$SSH_USER@127.1.0.$n" "$@"
}
ssh_pass() { # client-octet password command...
	local n=$1 pw=$2
	shift 2
	timeout 30 sshpass -p "$pw" ssh "${SSH_OPTS[@]}" \
		-o PubkeyAuthentication=no -o NumberOfPasswordPrompts=1 \
		-o PreferredAuthentications=password \
		"$SSH_USER@127.1.0.$n" "$@"
}
hydra_run() { # client-octet hydra-args...
	local n=$1
	shift
	(cd "$T" && timeout 300 hydra -I -t 4 -w 10 "$@" -s 2222 \
		"ssh://127.1.0.$n") || true
}

# Close the current log and move it into a case dir, once every client
# connection is gone (hydra leaves some behind after -f) and logged.
no_clients() {
	[ -z "$(ss -Htn state all exclude listening exclude time-wait \
		'sport = :2222')" ]
}
save_log() { # case
	wait_for "clients to leave" no_clients
	sleep 2
	mkdir -p "$CASES/$1"
	mv "$T/auth.log" "$CASES/$1/auth.log"
	kill -HUP "$RSYSLOG_PID"
	sleep 1
	chmod 644 "$CASES/$1/auth.log"
	echo "recorded $1: $(wc -l <"$CASES/$1/auth.log") lines"
}

# Password lists: common passwords, bounded. The brute force that succeeds
# has alice's password as its 17th entry.
printf '%s\n' 123456 password admin root qwerty letmein 12345678 \
	welcome changeme P@ssw0rd >"$T/pw10"
printf '%s\n' root admin oracle test >"$T/users4"
printf '%s\n' 123456 password alice qwerty letmein 12345678 welcome \
	changeme 'P@ssw0rd' iloveyou dragon monkey sunshine 'Alice2024!' \
	football princess "$SSH_PASS" trustno1 >"$T/pw18"

# ssh-bruteforce: an Internet host (127.0.0.66) tries 4 users x 10
# passwords; none works (root may not log in, the others do not exist).
hydra_run 66 -L "$T/users4" -P "$T/pw10"
save_log ssh-bruteforce

# ssh-login-untrusted: alice's key used from an Internet host (127.0.0.70).
ssh_key 70 'id; uname -n' >/dev/null
save_log ssh-login-untrusted

# ssh-bruteforce-success: an Internet host (127.0.0.77) guesses alice's
# password, then logs in with it and looks around.
hydra_run 77 -l "$SSH_USER" -P "$T/pw18" -f
ssh_pass 77 "$SSH_PASS" 'id; cat /etc/hostname; ls -la' >/dev/null
save_log ssh-bruteforce-success

# ssh-benign-admin: alice from her workstation (127.0.0.21) mistypes her
# password once, then logs in; later she uses her key from 127.0.0.20.
ssh_pass 21 'Winter-Harbor-1987' true || true
ssh_pass 21 "$SSH_PASS" 'uptime' >/dev/null
ssh_key 20 'df -h /' >/dev/null
save_log ssh-benign-admin

echo "ssh.sh: done"
