#!/usr/bin/env bash
# Runs every test binary given, shows cmocka's output, and ends with one
# summary line. Exit status is non-zero if any binary failed or crashed.
set -u
pass=0 fail=0 skip=0 bad=()
for t in "$@"; do
	out=$("$t" 2>&1); rc=$?
	printf '%s\n' "$out"
	p=$(printf '%s\n' "$out" | sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' | tail -1)
	f=$(printf '%s\n' "$out" | sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' | tail -1)
	s=$(printf '%s\n' "$out" | sed -n 's/^\[  SKIPPED \] \([0-9]*\) test.*/\1/p' | tail -1)
	pass=$((pass + ${p:-0})); fail=$((fail + ${f:-0})); skip=$((skip + ${s:-0}))
	[ $rc -eq 0 ] || bad+=("$(basename "$t") (exit $rc)")
done
echo "=============================================================="
echo "cmocka summary: $pass passed, $fail failed, $skip skipped, in $# test programs"
if [ ${#bad[@]} -gt 0 ]; then
	echo "FAILED programs: ${bad[*]}"
	exit 1
fi
