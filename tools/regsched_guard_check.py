#!/usr/bin/env python3
"""How well region's guard estimates what steering gains: its estimate
against the counterfactual.

For each case (workload, topology, seed) three `virtlab regsched run`s with
the same seed and duration: credit; region with --epochs (the guard's
per-epoch record); and region --no-steer --epochs (the same sampling, never
steering: the run the guard's baseline stands for). Over the epochs region
spent steering:

  est_gain    = the guard's baseline - region's mean sampled latency
  actual_gain = the no-steer run's mean sampled latency in those same
                epochs - region's

both in cycles per access (means weighted by samples). est - actual is the
baseline's error: what the guard believed minus what was so. The guard's
own standard error for the same window (last judged epoch) is printed
beside it.

  tools/regsched_guard_check.py [--virtlab build/virtlab] [--duration 0.5s]
      [--seeds 1-6] [--cases split-vm/westmere-2llc,...] [--jobs 2] [--json F]

Exit 0 when every run succeeded, 1 otherwise.
"""
import argparse
import concurrent.futures as cf
import json
import math
import subprocess
import sys

DEFAULT_CASES = "split-vm/westmere-2llc,fits-all/westmere-2llc,phase-swap/westmere-2llc"


def run(args, workload, topo, seed, extra):
    cmd = [args.virtlab, "regsched", "run", "--workload", workload, "--topology", topo,
           "--duration", args.duration, "--seed", str(seed), "--json", "--quiet"] + extra
    p = subprocess.run(["nice", "-n", "5"] + cmd, capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError("%s: exit %d: %s" % (" ".join(cmd), p.returncode, p.stderr.strip()))
    return json.loads(p.stdout)


def weighted_mean(epochs, idx):
    n = sum(epochs[i]["samples"] for i in idx)
    return sum(epochs[i]["mean_latency_cycles"] * epochs[i]["samples"] for i in idx) / n


def one(args, workload, topo, seed):
    c = run(args, workload, topo, seed, ["--sched", "credit"])
    r = run(args, workload, topo, seed, ["--epochs"])
    n = run(args, workload, topo, seed, ["--epochs", "--no-steer"])
    ep, nep = r["epochs"], n["epochs"]
    steer = [i for i, e in enumerate(ep) if e["mode"] == "steer" and e["samples"] > 0]
    row = {"workload": workload, "topology": topo, "seed": seed,
           "region_vs_credit": r["throughput"] / c["throughput"],
           "no_steer_vs_credit": n["throughput"] / c["throughput"],
           "steering_fraction": r["steering_fraction"], "fallbacks": r["fallbacks"],
           "est_gain": None, "actual_gain": None, "guard_se": None}
    if steer:
        mine = weighted_mean(ep, steer)
        row["est_gain"] = ep[steer[0]]["baseline_latency_cycles"] - mine
        row["actual_gain"] = weighted_mean(nep, steer) - mine
        judged = [e for e in ep if e["judged"]]
        row["guard_se"] = judged[-1]["gain_se_cycles"] if judged else None
    return row


def seeds_of(text):
    """'3' or '1-6' -> the seeds; ValueError naming --seeds otherwise."""
    lo, _, hi = text.partition("-")
    try:
        a, b = int(lo), int(hi or lo)
    except ValueError:
        raise ValueError("--seeds %r: expected N or LO-HI (whole numbers)" % text)
    if a < 0 or b < a:
        raise ValueError("--seeds %r: expected 0 <= LO <= HI" % text)
    return range(a, b + 1)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--virtlab", default="build/virtlab")
    ap.add_argument("--duration", default="0.5s")
    ap.add_argument("--seeds", default="1-6")
    ap.add_argument("--cases", default=DEFAULT_CASES)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--json")
    args = ap.parse_args()
    try:
        seeds = seeds_of(args.seeds)
        cases = [c.split("/") for c in args.cases.split(",")]
        if any(len(c) != 2 for c in cases):
            raise ValueError("--cases: expected WORKLOAD/TOPOLOGY[,...]")
    except ValueError as e:
        sys.exit("regsched_guard_check: %s" % e)
    jobs = [(w, t, s) for w, t in cases for s in seeds]
    rows, failed = [], 0
    with cf.ThreadPoolExecutor(args.jobs) as ex:
        futs = [ex.submit(one, args, *j) for j in jobs]
        for j, f in zip(jobs, futs):
            try:
                rows.append(f.result())
            except RuntimeError as e:
                print("ERROR %s: %s" % ("/".join(map(str, j)), e), file=sys.stderr)
                failed += 1

    def fmt(x, f="%6.2f"):
        return "   -  " if x is None else f % x

    print("%-11s %-14s %4s %7s %8s %5s %3s %7s %7s %7s %6s" % (
        "workload", "topology", "seed", "region", "nosteer", "steer", "fb",
        "est", "actual", "est-act", "se"))
    errs = []
    for r in rows:
        d = None if r["est_gain"] is None else r["est_gain"] - r["actual_gain"]
        if d is not None:
            errs.append(d)
        print("%-11s %-14s %4d %7.4f %8.4f %5.2f %3d %7s %7s %7s %6s" % (
            r["workload"], r["topology"], r["seed"], r["region_vs_credit"],
            r["no_steer_vs_credit"], r["steering_fraction"], r["fallbacks"],
            fmt(r["est_gain"]), fmt(r["actual_gain"]), fmt(d), fmt(r["guard_se"])))
    if len(errs) > 1:
        m = sum(errs) / len(errs)
        sd = math.sqrt(sum((e - m) ** 2 for e in errs) / (len(errs) - 1))
        ses = [r["guard_se"] for r in rows if r["guard_se"] is not None]
        print("baseline error (est - actual) over %d runs that steered: mean %.2f, SD %.2f "
              "cycles; the guard's own SE: median %.2f" % (
                  len(errs), m, sd, sorted(ses)[len(ses) // 2] if ses else float("nan")))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"duration": args.duration, "rows": rows}, f, indent=1)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
