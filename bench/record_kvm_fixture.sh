#!/bin/sh
# Records the measurements `virtlab eli validate --from FILE` reads: six
# `virtlab kvm bench --json` runs of 10 repetitions each, one JSON array.
# The first run calibrates the model (open loop, xAPIC, 5 k/s, sender on the
# vCPU's CPU); the others validate it: other rates, the other EOI mode, and
# paced closed loops that separate the kick of a running vCPU (sender on its
# own CPU) from injection at VM entry (sender on the vCPU's CPU).
# Usage: bench/record_kvm_fixture.sh [OUT]   (default:
# tests/fixtures/kvm-bench-<host>-<UTC>.json). Needs /dev/kvm; exits 77 if not.
set -e
V=${VIRTLAB:-build/virtlab}
host=$(hostname)
utc=$(date -u +%Y-%m-%dT%H%MZ)
out=${1:-tests/fixtures/kvm-bench-$host-$utc.json}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
run() { # name, args...
	n=$1
	shift
	rc=0
	"$V" kvm bench --reps 10 --json --quiet "$@" >"$tmp/$n.json" || rc=$?
	[ "$rc" = 77 ] && exit 77
	[ "$rc" = 0 ] || exit "$rc"
}
run 0 --eoi xapic --rate 5000 --interrupts 2000 --sender vcpu-cpu
run 1 --eoi xapic --rate 2000 --interrupts 2000 --sender vcpu-cpu
run 2 --eoi xapic --rate 20000 --interrupts 4000 --sender vcpu-cpu
run 3 --eoi x2apic --rate 5000 --interrupts 2000 --sender vcpu-cpu
run 4 --eoi xapic --gap 1ms --interrupts 200 --sender own-cpu
run 5 --eoi xapic --gap 1ms --interrupts 200 --sender vcpu-cpu
python3 -c 'import json,sys; print(json.dumps([json.load(open(f)) for f in sys.argv[1:]], indent=1))' \
	"$tmp"/0.json "$tmp"/1.json "$tmp"/2.json "$tmp"/3.json "$tmp"/4.json "$tmp"/5.json >"$out"
echo "$out"
