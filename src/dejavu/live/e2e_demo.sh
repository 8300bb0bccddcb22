#!/bin/sh
# e2e_demo.sh — the shell-driven end-to-end test of the live DejaVu,
# run by tests/test_dejavu_e2e.c under `make test`:
#   1. runs a short `virtlab dejavu demo` (DUR, default 36s) into OUT;
#   2. checks it exited 0 and printed JSON with an "events" list;
#   3. checks that nothing it started outlived it: no process carrying
#      this run's tag in its environment, no cgroup named after its pid.
# Usage: sh src/dejavu/live/e2e_demo.sh OUT.json   (VIRTLAB = the binary)
set -u
V=${VIRTLAB:-build/virtlab}
OUT=${1:?usage: e2e_demo.sh OUT.json}
TAG="virtlab-e2e-$$"
VL_E2E_TAG=$TAG "$V" dejavu demo --duration "${DUR:-36s}" --json --quiet >"$OUT" &
P=$!
wait $P
rc=$?
if [ $rc -ne 0 ]; then
	echo "e2e: demo exited $rc" >&2
	exit 1
fi
grep -q '"events"' "$OUT" || { echo "e2e: no events in $OUT" >&2; exit 1; }
sleep 0.5
for e in /proc/[0-9]*/environ; do
	if { tr "\0" "\n" <"$e"; } 2>/dev/null | grep -qx "VL_E2E_TAG=$TAG"; then
		echo "e2e: process ${e%/environ} outlived the demo" >&2
		exit 1
	fi
done
for d in /sys/fs/cgroup/*/virtlab-*-"$P" /sys/fs/cgroup/unified/virtlab-*-"$P"; do
	if [ -e "$d" ]; then
		echo "e2e: cgroup $d left behind" >&2
		exit 1
	fi
done
echo "e2e: ok ($OUT)"
