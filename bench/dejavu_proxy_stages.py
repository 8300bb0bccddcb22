#!/usr/bin/env python3
"""dejavu_proxy_stages.py — where a proxied request's time goes, from the
per-request stage times the proxy writes when VIRTLAB_DEJAVU_STAGES names a
file (src/dejavu/live/proxy_trace.c; bench/dejavu_proxy_tail.sh STAGES=DIR).

For each CSV: every stage's p50 / p99 / max over all requests, and its mean
and median over the slowest 1 % (by the proxy-side total, first byte's
arrival to the answer's last byte handed to the kernel); how often the slow
1 % were a connection's first request, needed a new upstream connection, or
were copied to the profiler; and the proxy's own share (total minus the
backend stage) at p50 / p99 / p99.9. Times in microseconds.

Usage: python3 bench/dejavu_proxy_stages.py FILE.csv...
"""
import csv, sys
def pct(v, p):
    v = sorted(v)
    return v[min(len(v)-1, int(p/100*len(v)))] if v else float('nan')
names = ['wake (arrive->turn)', 'turn->parsed', 'parsed->upstream sent', 'backend (sent->resp arrive)',
         'resp wake (arrive->turn)', 'resp turn->read', 'read->client sent']
for fn in sys.argv[1:]:
    rows = [r for r in csv.DictReader(open(fn))]
    recs = []
    for r in rows:
        t = [float(r[k]) for k in ['arrive','turn','parsed','upstream_sent','resp_arrive','resp_turn','resp_read','client_sent']]
        if min(t) <= 0: continue
        st = [t[i+1]-t[i] for i in range(7)]
        recs.append((t[7]-t[0], st, r))
    recs.sort(key=lambda x: x[0])
    n = len(recs); tail = recs[int(n*0.99):]
    print(fn, 'n', n, 'total p50 %.0f p99 %.0f us' % (recs[n//2][0]*1e6, recs[int(n*.99)][0]*1e6))
    print('%-28s %8s %8s %8s | %10s %10s' % ('stage', 'p50', 'p99', 'max', 'tail mean', 'tail p50'))
    for i, nm in enumerate(names):
        allv = [x[1][i]*1e6 for x in recs]; tv = [x[1][i]*1e6 for x in tail]
        print('%-28s %8.0f %8.0f %8.0f | %10.0f %10.0f' % (nm, pct(allv,50), pct(allv,99), max(allv), sum(tv)/len(tv), pct(tv,50)))
    for f in ['new_client','new_upstream','duplicated']:
        a = sum(int(x[2][f]) for x in recs)/n; b = sum(int(x[2][f]) for x in tail)/len(tail)
        print('  %s: all %.3f tail %.3f' % (f, a, b))
    # proxy's own share: total minus backend
    own = sorted((x[0]-x[1][3])*1e6 for x in recs)
    print('  proxy-own (total - backend) p50 %.0f p99 %.0f p99.9 %.0f' % (pct(own,50), pct(own,99), pct(own,99.9)))
