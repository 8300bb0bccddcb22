#!/usr/bin/env bash
# Runs the measurements quoted in src/kvm/README.md and prints one line per
# number, with the host's load average next to each (this machine has 2
# shared cores; every timing depends on what else runs).
#   usage: bench/kvm_measure.sh [path/to/virtlab]   (default build/virtlab)
# Writes the this-host profile into a temporary VIRTLAB_CONFIG_DIR, so the
# user's own profile is left alone.
set -eu
V=${1:-build/virtlab}
export VIRTLAB_CONFIG_DIR=$(mktemp -d /tmp/vlkvmXXXXXX)
trap 'rm -rf "$VIRTLAB_CONFIG_DIR"' EXIT
py() { python3 -c "import json,sys; d=json.load(sys.stdin); $1"; }
load() { cut -d' ' -f1 /proc/loadavg; }

$V kvm probe --json | py 'g=d["guest_code"]; print("probe: module", d["host"]["module"], "long_mode", d["modes"]["long_mode"], "xapic", d["modes"]["xapic"], "x2apic", d["modes"]["x2apic"], "cpl0_emulated", g["cpl0_emulated"], "cpl0_ns_per_insn %.0f" % g["cpl0_ns_per_insn"], "cpl3_ns_per_iter %.2f" % g["cpl3_ns_per_loop_iteration"])'
$V kvm probe --json | py 'print("probe: interrupt latency", d["interrupt_latency"], "load %s" % open("/proc/loadavg").read().split()[0])'
for eoi in xapic x2apic; do
	for del in msi irqfd; do
		$V kvm bench --interrupts 10k --eoi $eoi --delivery $del --exits 2000 --json |
			py 'l=d["latency_ns"]; s=d["exits_by_stat"]; print("bench closed %-6s %-5s sender %s handled %d exits/irq %.3f insn_emulation/irq %.1f lat p50 %.1f us p99 %.1f us mean %.1f us vcpu_ns/irq %.0f send %.0f ns raw_exit %.1f us load %.2f" % (d["eoi"], d["delivery"], d["sender_cpu"], d["handled"], d["exits_per_interrupt"], s.get("insn_emulation",0), l["p50"]/1e3, l["p99"]/1e3, l["mean"]/1e3, d["guest_stolen_ns_per_interrupt"], d["send_syscall_ns"], d["raw_exit"]["round_trip_ns"]/1e3, d["host_loadavg_1min"]))'
	done
done
for rate in 5k 20k; do for snd in vcpu-cpu own-cpu; do
	$V kvm bench --interrupts 10k --rate $rate --sender $snd --exits 200 --json |
		py 'print("bench open %s/s sender %s handled %d coalesced %d exits/irq %.3f vcpu_ns/irq %.0f load %.2f" % (d["rate"], d["sender_cpu"], d["handled"], d["coalesced"], d["exits_per_interrupt"], d["guest_stolen_ns_per_interrupt"], d["host_loadavg_1min"]))'
done; done
$V bench kvm --json | py 'print("bench kvm raw %.1f us vmm %.1f us overhead %.2f %% load %.2f" % (d["raw_exit_ns"]/1e3, d["vmm_exit_ns"]/1e3, d["overhead_pct"], d["host_loadavg_1min"]))'
$V eli calibrate --json | py 'm=d["measured"]; print("calibrate:", {k: round(v,3) if isinstance(v,float) else v for k,v in m.items()}, "load %.2f" % d["host_loadavg_1min"]); print("profile:", d["profile"])'
$V eli validate --json | py '[print("validate %-20s model %.3f measured %.3f error %.1f %%" % (r["metric"], r["model"], r["measured"], r["error_pct"])) for r in d["rows"]]; print("validate on", d["validated_on"], "load %.2f" % d["host_loadavg_1min"])'
