#!/bin/bash
# dejavu_proxy_tail.sh — where the DejaVu proxy's added latency comes from.
# One `dejavu service` (browse mix) behind: nothing (direct), nginx as a
# keep-alive reverse proxy (one worker, as in `virtlab bench proxy`), our
# proxy copying F = 0.1 to a second service (the profiler), our proxy with
# F = 0 (no duplication), and, with OLD=path, another build's proxy at
# F = 0.1 (before/after), and nginx copying 10 % of the requests to the same
# profiler (mirror module; "ng_mirror"). The subjects take turns, in a rotating order, each
# run `dejavu load` at RATE req/s for DUR (open loop, Poisson); ROUNDS
# rounds. Prints every run (subject, p50, p99 in us, errors) and then each
# subject's median p50 and p99 with their min and max, and the median of
# the per-round differences against direct (the added latency).
# RT=1 runs every process (servers, proxies, nginx, generator) at SCHED_FIFO
# priority 10, all alike, so other jobs cannot preempt them (as the latency
# runs of `virtlab bench proxy` do); needs root. STAGES=DIR has our proxies
# write per-request stage times (DIR/px.csv, px0.csv, old.csv; read them
# with bench/dejavu_proxy_stages.py).
# Usage: VIRTLAB=build/virtlab [OLD=/path/virtlab] [RATE=500] [DUR=3s]
#        [ROUNDS=9] [MIX=browse] [RT=1] [STAGES=DIR] bash bench/dejavu_proxy_tail.sh
# Needs nginx (nginx-light). Listens on 127.0.0.1 only, leaves nothing behind.
set -u
B=${VIRTLAB:-build/virtlab}
RATE=${RATE:-500}
DUR=${DUR:-3s}
ROUNDS=${ROUNDS:-9}
MIX=${MIX:-browse}
D=$(mktemp -d /tmp/dvtail-XXXXXX)
RTX=""
[ "${RT:-0}" = 1 ] && RTX="chrt -f 10"
PIDS=""
cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$D"
}
trap cleanup EXIT
# start NAME CMD...: runs CMD (one of our servers) and sets PORT to the port
# it printed in its "listening on" line.
start() {
	local name=$1
	shift
	if [ -n "${STAGES:-}" ]; then
		VIRTLAB_DEJAVU_STAGES="$STAGES/$name.csv" $RTX "$@" 2>"$D/$name.err" >/dev/null &
	else
		$RTX "$@" 2>"$D/$name.err" >/dev/null &
	fi
	PIDS="$PIDS $!"
	for _ in $(seq 1 100); do
		PORT=$(grep -o 'listening on 127.0.0.1:[0-9]*' "$D/$name.err" | cut -d: -f2)
		[ -n "$PORT" ] && return 0
		sleep 0.05
	done
	echo "$name did not start: $(cat "$D/$name.err")" >&2
	exit 1
}
free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
start svc "$B" dejavu service --listen 127.0.0.1:0; SVC=$PORT
start prof "$B" dejavu service --listen 127.0.0.1:0; PROF=$PORT
start px "$B" dejavu proxy --listen 127.0.0.1:0 --backend 127.0.0.1:$SVC \
	--profiler 127.0.0.1:$PROF --fraction 0.1; PX=$PORT
start px0 "$B" dejavu proxy --listen 127.0.0.1:0 --backend 127.0.0.1:$SVC --fraction 0; PX0=$PORT
SUBJ="direct:$SVC nginx:NG ours:$PX ours_f0:$PX0"
if [ -n "${OLD:-}" ]; then
	start old "$OLD" dejavu proxy --listen 127.0.0.1:0 --backend 127.0.0.1:$SVC \
		--profiler 127.0.0.1:$PROF --fraction 0.1; SUBJ="$SUBJ old:$PORT"
fi
NG=$(free_port)
NGM=$(free_port)
mkdir -p "$D/ng"
cat >"$D/nginx.conf" <<EOF
worker_processes 1; user root; daemon off; pid $D/nginx.pid; error_log $D/ng.log;
events { worker_connections 4096; }
http { access_log off; client_body_temp_path $D/ng; proxy_temp_path $D/ng;
  fastcgi_temp_path $D/ng; uwsgi_temp_path $D/ng; scgi_temp_path $D/ng;
  keepalive_requests 1000000;
  upstream sv { server 127.0.0.1:$SVC; keepalive 64; }
  server { listen 127.0.0.1:$NG; location / { proxy_pass http://sv;
    proxy_http_version 1.1; proxy_set_header Connection ""; } }
  upstream pv { server 127.0.0.1:$PROF; keepalive 64; }
  split_clients "\${connection}.\${connection_requests}" \$dup { 10% 1; * ""; }
  server { listen 127.0.0.1:$NGM;
    location / { mirror /__mirror; proxy_pass http://sv;
      proxy_http_version 1.1; proxy_set_header Connection ""; }
    location = /__mirror { internal; if (\$dup = "") { return 204; }
      proxy_pass http://pv\$request_uri; proxy_http_version 1.1;
      proxy_set_header Connection ""; } } }
EOF
$RTX /usr/sbin/nginx -c "$D/nginx.conf" -p "$D" &
PIDS="$PIDS $!"
for _ in $(seq 1 100); do (echo >/dev/tcp/127.0.0.1/$NG) 2>/dev/null && break; sleep 0.05; done
SUBJ="${SUBJ/nginx:NG/nginx:$NG} ng_mirror:$NGM"
read -r -a SA <<<"$SUBJ"
N=${#SA[@]}
echo "# $(date -u +%FT%TZ) load: $(cut -d' ' -f1-3 /proc/loadavg) rate $RATE dur $DUR mix $MIX"
echo "# round subject p50_us p99_us errors"
for r in $(seq 1 "$ROUNDS"); do
	for k in $(seq 0 $((N - 1))); do
		s=${SA[$(((k + r - 1) % N))]} # each round starts one subject later
		name=${s%%:*} port=${s##*:}
		$RTX "$B" dejavu load --target 127.0.0.1:$port --phases "$MIX:$RATE:$DUR" --json --quiet \
			--seed "$r" >"$D/run.json" 2>/dev/null
		python3 - "$D/run.json" "$r" "$name" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
print(sys.argv[2], sys.argv[3], round(j["p50_s"] * 1e6), round(j["p99_s"] * 1e6), j["errors"])
PY
	done
done | tee "$D/runs.txt"
echo "# load at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "$D/runs.txt" <<'PY'
import statistics as st, sys
runs = [l.split() for l in open(sys.argv[1]) if l[0] != "#"]
by = {}
for r, s, p50, p99, e in runs:
    by.setdefault(s, {})[int(r)] = (int(p50), int(p99), int(e))
print("# subject  p50 median [min-max]  p99 median [min-max]  added p50 / p99 vs direct (median of per-round differences)")
for s, d in by.items():
    p50 = [v[0] for v in d.values()]; p99 = [v[1] for v in d.values()]
    a50 = [d[r][0] - by["direct"][r][0] for r in d if r in by["direct"]]
    a99 = [d[r][1] - by["direct"][r][1] for r in d if r in by["direct"]]
    print(f"{s:8s} {st.median(p50):8.0f} [{min(p50)}-{max(p50)}]  {st.median(p99):8.0f} [{min(p99)}-{max(p99)}]"
          f"  {st.median(a50):+.0f} / {st.median(a99):+.0f}  errors {sum(v[2] for v in d.values())}")
PY
