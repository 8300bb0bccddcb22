#!/usr/bin/env bash
# Runs each libFuzzer harness given for SECONDS seconds (`make fuzz`), two at a
# time (FUZZ_JOBS), and prints one line each: executions, corpus size,
# findings. A harness starts from its checked-in seeds and regression inputs
# in fuzz/corpus/<name>/ (read only: every input there is replayed first) plus
# what earlier runs found in build-fuzz/corpus/<name>/. Any finding — a crash,
# a leak, a sanitizer report, a broken contract (abort), an input slower than
# FUZZ_TIMEOUT s or a run over FUZZ_RSS_MB — fails the run, naming the harness
# and the saved input under build-fuzz/findings/; add it to
# fuzz/corpus/<name>/ once fixed.
set -u
secs=${1:?usage: fuzz.sh SECONDS HARNESS...}
shift
[[ $secs =~ ^[0-9]+$ ]] && [ "$secs" -gt 0 ] || { echo "fuzz.sh: SECONDS '$secs': expected a whole number > 0" >&2; exit 2; }
jobs=${FUZZ_JOBS:-2}
tmo=${FUZZ_TIMEOUT:-10}
rss=${FUZZ_RSS_MB:-2048}
out=build-fuzz
mkdir -p "$out/findings" "$out/logs"

run_one() {
	local bin=$1 name
	name=$(basename "$bin")
	mkdir -p "$out/corpus/$name"
	local seeds=fuzz/corpus/$name
	[ -d "$seeds" ] || { echo "fuzz.sh: $name: no seed corpus $seeds" > "$out/logs/$name.log"; return 1; }
	"$bin" -max_total_time="$secs" -timeout="$tmo" -rss_limit_mb="$rss" -print_final_stats=1 \
		-artifact_prefix="$out/findings/$name-" "$out/corpus/$name" "$seeds" \
		> "$out/logs/$name.log" 2>&1
}

start=$(date +%s)
pids=() names=()
for bin in "$@"; do
	while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n; done
	run_one "$bin" &
	pids+=($!) names+=("$(basename "$bin")")
done
fail=0 total=0
for i in "${!pids[@]}"; do
	wait "${pids[$i]}"
	rc=$?
	name=${names[$i]} log=$out/logs/${names[$i]}.log
	runs=$(awk '/stat::number_of_executed_units:/ { print $2 }' "$log")
	corp=$(ls "$out/corpus/$name" 2>/dev/null | wc -l)
	total=$((total + ${runs:-0}))
	if [ "$rc" -eq 0 ]; then
		printf 'fuzz: %-22s %10s runs in %s s, corpus %s, 0 findings\n' "$name" "${runs:-?}" "$secs" "$corp"
	else
		fail=1
		art=$(grep -o "Test unit written to [^ ]*" "$log" | tail -1 | sed 's/Test unit written to //')
		printf 'fuzz: %-22s FINDING (exit %d) %s\n' "$name" "$rc" "${art:-see $log}"
		grep -E "ERROR|contract broken|SUMMARY|runtime error|timeout|out-of-memory" "$log" | head -5 | sed 's/^/fuzz:     /'
	fi
done
echo "fuzz: ${#pids[@]} harnesses, $total executions in $(( $(date +%s) - start )) s; $([ $fail -eq 0 ] && echo "no findings" || echo "FINDINGS (logs in $out/logs/)")"
exit $fail
