#!/bin/bash
# dejavu_neighbour.sh — how hard the demo's noisy neighbour hits.
# The production service on CPU 0 under a 0.2-core quota (20 ms CFS period)
# serves browse at 600 req/s (open loop, no proxy) alone, beside one
# default-weight CPU hog, beside two, and beside two with weight 8192.
# Prints p50 and p95 in ms and the error count for each. Needs root and
# cgroup v1 (cpu, cpuset); leaves nothing behind.
# Usage: VIRTLAB=build/virtlab bash bench/dejavu_neighbour.sh
set -u
B=${VIRTLAB:-build/virtlab}
CG=/sys/fs/cgroup
PORT=${PORT:-19500}
mk() { for c in cpu cpuset; do mkdir -p $CG/$c/dvexp-$1; done
	echo 0 >$CG/cpuset/dvexp-$1/cpuset.mems; echo "$2" >$CG/cpuset/dvexp-$1/cpuset.cpus; }
att() { for c in cpu cpuset; do echo "$2" >$CG/$c/dvexp-$1/cgroup.procs; done; }
mk svc 0; mk hog 0; mk load 1
echo 20000 >$CG/cpu/dvexp-svc/cpu.cfs_period_us
echo 4000 >$CG/cpu/dvexp-svc/cpu.cfs_quota_us
"$B" dejavu service --listen 127.0.0.1:$PORT --duration 40 --quiet >/dev/null & S=$!
att svc $S
sleep 0.3
echo $$ >$CG/cpuset/dvexp-load/cgroup.procs
run() { "$B" dejavu load --target 127.0.0.1:$PORT --phases browse:600:4s --json --quiet |
	python3 -c "import json,sys;d=json.load(sys.stdin);print('$1', round(d['p50_s']*1e3,2), round(d['p95_s']*1e3,2), d['errors'])"; }
echo "case p50_ms p95_ms errors"
run alone
H1=$(bash -c 'yes >/dev/null & echo $!'); att hog "$H1"; run hog-weight1024
H2=$(bash -c 'yes >/dev/null & echo $!'); att hog "$H2"; run 2hogs-weight1024
echo 8192 >$CG/cpu/dvexp-hog/cpu.shares; run 2hogs-weight8192
kill "$H1" "$H2" "$S"; wait 2>/dev/null
echo $$ >$CG/cpuset/cgroup.procs
sleep 0.5
for c in cpu cpuset; do rmdir $CG/$c/dvexp-svc $CG/$c/dvexp-hog $CG/$c/dvexp-load; done
