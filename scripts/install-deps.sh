#!/usr/bin/env bash
# Install the Debian packages breachwatch needs, non-interactively and only
# when something is missing (so it is cheap to run every time).
#
#   scripts/install-deps.sh           build + tests
#   scripts/install-deps.sh --record  also what re-recording test inputs needs
set -euo pipefail

# Build: compiler, CMake, and the libraries of ARCHITECTURE.md.
build_pkgs=(gcc make cmake pkg-config libc6-dev
	libconfig-dev libjansson-dev libpcre2-dev libhyperscan-dev
	libzmq3-dev libsodium-dev libsqlite3-dev libcurl4-openssl-dev libpcap-dev)
# Tests: Check for unit tests, Debian's python3 (stdlib only) for the replay
# runner, bzip2 for a compressed corpus log, nginx and curl for the live
# capture test.
test_pkgs=(check python3 bzip2 nginx-light curl python3-aiosmtpd openssl) # aiosmtpd, openssl: the notifier's mail tests
# Re-recording replay inputs with real servers and clients.
record_pkgs=(nginx-light curl hydra openssh-server openssh-client sshpass
	postgresql postgresql-client faketime rsyslog apache2-utils tcpdump nmap dnsutils tshark)

pkgs=("${build_pkgs[@]}" "${test_pkgs[@]}")
if [ "${1:-}" = "--record" ]; then
	pkgs+=("${record_pkgs[@]}")
fi

missing=()
for p in "${pkgs[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing+=("$p")
	fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "install-deps: installing ${missing[*]}" >&2
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
