#!/usr/bin/env bash
# Installs the Debian packages named on the command line that are missing.
# As root: `apt-get update` once, then `apt-get install`. Otherwise: names the
# missing packages and fails, so a build never half-works.
# With --check first: never installs; names the missing ones and fails (what a
# plain `make` does: `make deps` installs).
set -euo pipefail
check=0
if [ "${1:-}" = --check ]; then
	check=1
	shift
fi
missing=()
for p in "$@"; do
	st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	[ "$st" = installed ] || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ $check -eq 1 ]; then
	echo "virtlab: missing Debian packages: ${missing[*]}" >&2
	echo "virtlab: 'make deps' installs them (as root: sudo make deps)" >&2
	exit 1
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "virtlab: missing Debian packages: ${missing[*]}" >&2
	echo "virtlab: install them with: sudo apt-get install ${missing[*]}" >&2
	exit 1
fi
echo "virtlab: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
