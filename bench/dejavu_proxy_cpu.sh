#!/bin/bash
# dejavu_proxy_cpu.sh — what a request costs each reverse proxy in CPU, a
# figure other jobs on a shared machine barely move (unlike req/s): nginx
# (one worker, keep-alive upstream, as in `virtlab bench proxy`), our proxy
# at F = 0.1 (copies to a second service) and F = 0, and, with OLD=path,
# another build's proxy at F = 0.1. Each takes turns under
# `wrk -t1 -c32 -dW s` with the bench's browse script against one
# `dejavu service`; per run: req/s and the proxy process's user+system CPU
# per request (us, from /proc/PID/stat). R rounds, rotating order; prints
# every run, then per subject the median [min-max] of both.
# Usage: VIRTLAB=build/virtlab [OLD=/path/virtlab] [W=2] [R=7] bash bench/dejavu_proxy_cpu.sh
# Needs nginx and wrk. Listens on 127.0.0.1 only, leaves nothing behind.
set -u
B=${VIRTLAB:-build/virtlab}
W=${W:-2}
R=${R:-7}
D=$(mktemp -d /tmp/dvcpu-XXXXXX)
PIDS=""
trap 'for p in $PIDS; do kill $p 2>/dev/null; done; wait 2>/dev/null; rm -rf $D' EXIT
start() {
	local n=$1
	shift
	"$@" 2>"$D/$n.err" >/dev/null &
	PIDS="$PIDS $!"
	LAST=$!
	for _ in $(seq 1 100); do
		PORT=$(grep -o 'listening on 127.0.0.1:[0-9]*' "$D/$n.err" | cut -d: -f2)
		[ -n "$PORT" ] && return
		sleep 0.05
	done
	echo "$n did not start" >&2
	exit 1
}
start svc "$B" dejavu service --listen 127.0.0.1:0; SVC=$PORT
start prof "$B" dejavu service --listen 127.0.0.1:0; PROF=$PORT
start px "$B" dejavu proxy --listen 127.0.0.1:0 --backend 127.0.0.1:$SVC \
	--profiler 127.0.0.1:$PROF --fraction 0.1; SA=("ours:$PORT:$LAST")
start px0 "$B" dejavu proxy --listen 127.0.0.1:0 --backend 127.0.0.1:$SVC --fraction 0
SA+=("ours_f0:$PORT:$LAST")
if [ -n "${OLD:-}" ]; then
	start old "$OLD" dejavu proxy --listen 127.0.0.1:0 --backend 127.0.0.1:$SVC \
		--profiler 127.0.0.1:$PROF --fraction 0.1; SA+=("old:$PORT:$LAST")
fi
NG=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
mkdir -p "$D/ng"
cat >"$D/nginx.conf" <<E2
worker_processes 1; user root; daemon off; pid $D/nginx.pid; error_log $D/ng.log;
events { worker_connections 4096; }
http { access_log off; client_body_temp_path $D/ng; proxy_temp_path $D/ng;
  fastcgi_temp_path $D/ng; uwsgi_temp_path $D/ng; scgi_temp_path $D/ng;
  keepalive_requests 1000000; upstream sv { server 127.0.0.1:$SVC; keepalive 64; }
  server { listen 127.0.0.1:$NG; location / { proxy_pass http://sv;
    proxy_http_version 1.1; proxy_set_header Connection ""; } } }
E2
/usr/sbin/nginx -c "$D/nginx.conf" -p "$D" &
NGM=$!
PIDS="$PIDS $NGM"
for _ in $(seq 1 100); do (echo >/dev/tcp/127.0.0.1/$NG) 2>/dev/null && break; sleep 0.05; done
SA+=("nginx:$NG:$(pgrep -P $NGM | head -1)") # the worker
printf 'math.randomseed(1)\nrequest = function()\n  if math.random() < 0.8 then return wrk.format(nil, "/r/page") end\n  return wrk.format(nil, "/r/static")\nend\n' >"$D/b.lua"
cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }
N=${#SA[@]}
TCK=$(getconf CLK_TCK)
echo "# $(date -u +%FT%TZ) load $(cut -d' ' -f1-3 /proc/loadavg); round subject rps cpu_us_per_req"
for r in $(seq 1 "$R"); do
	for k in $(seq 0 $((N - 1))); do
		IFS=: read -r name port pid <<<"${SA[$(((k + r - 1) % N))]}"
		c0=$(cpu "$pid")
		out=$(wrk -t1 -c32 -d"${W}s" -s "$D/b.lua" "http://127.0.0.1:$port/")
		c1=$(cpu "$pid")
		n=$(echo "$out" | awk '/requests in/{print $1}')
		rps=$(echo "$out" | awk '/Requests\/sec/{print $2}')
		echo "$out" | grep -q -E 'Socket errors|Non-2xx' && rps=ERR
		echo "$r $name $rps $(awk -v a="$c0" -v b="$c1" -v n="$n" -v t="$TCK" 'BEGIN{printf "%.1f", (b-a)/t/n*1e6}')"
	done
done | tee "$D/runs.txt"
echo "# $(date -u +%FT%TZ) load $(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "$D/runs.txt" <<'PY'
import statistics as st, sys
by = {}
for l in open(sys.argv[1]):
    f = l.split()
    if f[2] != "ERR":
        by.setdefault(f[1], []).append((float(f[2]), float(f[3])))
for s, v in by.items():
    rps = [a for a, _ in v]; cpu = [b for _, b in v]
    print(f"{s:8s} rps {st.median(rps):7.0f} [{min(rps):.0f}-{max(rps):.0f}]  "
          f"cpu/req {st.median(cpu):6.1f} us [{min(cpu):.1f}-{max(cpu):.1f}]  runs {len(v)}")
PY
