#!/usr/bin/env bash
# Runs every test binary given, one after the other, each under a timeout;
# shows cmocka's output and ends with one summary line. Exit status is
# non-zero if any binary failed, crashed or timed out.
#
# Timeouts (so a hung test cannot hang `make test`):
#   VL_TEST_TIMEOUT   seconds a program may run (default 300);
#   VL_TEST_TIMEOUTS  a file of per-program overrides, lines "test_name seconds"
#                     and # comments (default: tests/timeouts beside this script);
#   VL_TEST_GRACE     seconds between SIGTERM and SIGKILL (default 10).
# Memory (so a runaway input fails by name instead of taking the machine down):
#   VL_TEST_MEM_MB    MiB of resident memory a program's whole process group may
#                     hold (default 6144: room for ASan's shadow on this 24 GiB
#                     machine); over it the group is SIGKILLed and the program
#                     fails with "exceeded N MiB". Sampled from ps, first every
#                     20 ms, backing off to every 0.5 s.
# timeout(1) runs each program in a process group of its own and signals the
# whole group, so the helpers a test forked go with it. Output goes to a file,
# not a pipe: a stray process still holding the pipe cannot stall the script.
set -u
here=$(cd "$(dirname "$0")" && pwd)
default=${VL_TEST_TIMEOUT:-300}
grace=${VL_TEST_GRACE:-10}
mem_mb=${VL_TEST_MEM_MB:-6144}
table=${VL_TEST_TIMEOUTS:-$here/../tests/timeouts}

is_secs() { [[ $1 =~ ^[0-9]+$ ]] && [ "$1" -gt 0 ]; }
for v in "VL_TEST_TIMEOUT=$default" "VL_TEST_GRACE=$grace" "VL_TEST_MEM_MB=$mem_mb"; do
	is_secs "${v#*=}" || { echo "run_tests.sh: ${v%%=*}='${v#*=}': not a whole number of seconds > 0" >&2; exit 2; }
done
if [ -e "$table" ]; then
	bad_line=$(awk '!/^[[:space:]]*(#|$)/ && !(NF == 2 && $2 ~ /^[0-9]+$/ && $2 > 0) \
		{ print FILENAME ":" NR ": " $0; exit }' "$table")
	if [ -n "$bad_line" ]; then
		echo "run_tests.sh: $bad_line: expected \"test_name seconds\"" >&2
		exit 2
	fi
fi

# The timeout for program $1: its line in the table, else the default.
limit_for() {
	local s=""
	[ -e "$table" ] && s=$(awk -v n="$1" '$1 == n { s = $2 } END { print s }' "$table")
	echo "${s:-$default}"
}

# Whether pid $1 runs (a zombie is not running: it waits for our wait).
running() {
	local st
	st=$(sed -n 's/^.*) \(.\).*/\1/p' "/proc/$1/stat" 2>/dev/null)
	[ -n "$st" ] && [ "$st" != Z ]
}

# Resident KiB of every process in group $1.
group_rss() { ps -eo pgid=,rss= | awk -v g="$1" '$1 == g { s += $2 } END { print s + 0 }'; }
# True while a process of group $1 is still alive (zombies are gone).
group_alive() { ps -eo pgid=,stat= | awk -v g="$1" '$1 == g && $2 !~ /^Z/ { n++ } END { exit !n }'; }

# Waits for the timeout(1) process $1 (the leader of the test's group) while
# sampling the group's memory; kills the group past the limit. Sets over_kib.
watch() {
	local nap=0.02 kib
	over_kib=0
	while running "$1"; do
		kib=$(group_rss "$1")
		if [ "$kib" -gt $((mem_mb * 1024)) ]; then
			over_kib=$kib
			kill -KILL -- "-$1" 2>/dev/null
			# a killed process may take a while to free a large heap
			# (and its parent is not ours to wait for): report only once
			# the whole group is gone, up to 20 s
			for _ in $(seq 200); do group_alive "$1" || break; sleep 0.1; done
			break
		fi
		sleep "$nap"
		case $nap in 0.02) nap=0.05 ;; 0.05) nap=0.1 ;; 0.1) nap=0.2 ;; *) nap=0.5 ;; esac
	done
}

log=$(mktemp /tmp/vl-run-tests.XXXXXX) || exit 2
cur=""
# Ctrl-C or a kill of make: take the running test (its whole group) down too.
# timeout's group is not the terminal's foreground group, so it would not get
# the terminal's SIGINT by itself.
stop() {
	[ -n "$cur" ] && kill -TERM "$cur" 2>/dev/null && wait "$cur" 2>/dev/null
	rm -f "$log"
	exit 130
}
trap stop INT TERM HUP
trap 'rm -f "$log"' EXIT

pass=0 fail=0 skip=0 bad=() times=()
for t in "$@"; do
	name=$(basename "$t")
	secs=$(limit_for "$name")
	start=$(date +%s%N)
	timeout --kill-after="$grace" "$secs" "$t" </dev/null >"$log" 2>&1 &
	cur=$!
	# bash reports a killed background job on its own stderr whenever it
	# reaps it (during watch's sleeps): we say it better below
	exec 3>&2 2>/dev/null
	watch "$cur"
	wait "$cur"
	rc=$?
	exec 2>&3 3>&-
	cur=""
	ms=$((($(date +%s%N) - start) / 1000000))
	cat "$log"
	secs_run=$(printf '%d.%01d' $((ms / 1000)) $((ms % 1000 / 100)))
	echo "$name: $secs_run s"
	times+=("$ms $name")
	out=$(cat "$log")
	p=$(printf '%s\n' "$out" | sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' | tail -1)
	f=$(printf '%s\n' "$out" | sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' | tail -1)
	s=$(printf '%s\n' "$out" | sed -n 's/^\[  SKIPPED \] \([0-9]*\) test.*/\1/p' | tail -1)
	pass=$((pass + ${p:-0})); fail=$((fail + ${f:-0})); skip=$((skip + ${s:-0}))
	# 124: timed out (TERM was enough); 137: KILLed after the grace period
	# (or killed by someone else: only a timeout if the time was up).
	if [ "$over_kib" -gt 0 ]; then
		echo "$name: exceeded $mem_mb MiB of memory ($((over_kib / 1024)) MiB resident); killed"
		bad+=("$name (exceeded $mem_mb MiB)")
	elif [ $rc -eq 124 ] || { [ $rc -eq 137 ] && [ $ms -ge $((secs * 1000)) ]; }; then
		echo "$name: timed out after $secs s"
		bad+=("$name (timed out after $secs s)")
	elif [ $rc -ne 0 ]; then
		bad+=("$name (exit $rc)")
	fi
done
echo "=============================================================="
echo "cmocka summary: $pass passed, $fail failed, $skip skipped, in $# test programs"
if [ ${#times[@]} -gt 1 ]; then
	# the slowest programs, against the ~60 s a program should stay under
	printf '%s\n' "${times[@]}" | sort -rn | head -5 |
		awk '{ printf "%s%s %.1f s", (NR > 1 ? ", " : "slowest: "), $2, $1 / 1000 } END { print "" }'
fi
if [ ${#bad[@]} -gt 0 ]; then
	echo "FAILED programs: ${bad[*]}"
	exit 1
fi
