/*
 * vcpu_stats.h — a vCPU's binary statistics (KVM_GET_STATS_FD), by name.
 *
 * The kernel describes its counters once (header, then one descriptor per
 * statistic: flags, size, offset, name) and serves their current values at
 * data_offset on every pread (Documentation/virt/kvm/api.rst, "KVM_GET_STATS_FD").
 * We read the descriptors at open and then look values up by name
 * ("exits", "irq_injections", "insn_emulation", "halt_exits", ...).
 *
 * Pitfall on this host (kvm-host-notes.md): KVM_GET_STATS_FD blocks while
 * another thread is inside KVM_RUN on the same vCPU, so open it before the
 * vCPU thread starts; reading the fd afterwards is safe from any thread.
 */
#ifndef VL_KVM_VCPU_STATS_H
#define VL_KVM_VCPU_STATS_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

typedef struct kvm_stats kvm_stats;

/* Opens the stats of vcpu_fd. Returns 0 and *out (caller destroys), or a
 * vl_err with a sentence in eb (VL_ENOTSUP if the kernel has no stats fd). */
int kvm_stats_open(int vcpu_fd, kvm_stats **out, vl_errbuf *eb);
void kvm_stats_close(kvm_stats *st); /* accepts NULL */

/* Number of statistics and the name of the i-th (owned by st). */
size_t kvm_stats_count(const kvm_stats *st);
const char *kvm_stats_name(const kvm_stats *st, size_t i);
/* Whether statistic i is a cumulative counter (deltas make sense). */
int kvm_stats_cumulative(const kvm_stats *st, size_t i);

/* Index of the statistic called name, or VL_ENOENT. */
int kvm_stats_find(const kvm_stats *st, const char *name);

/* The current (first) value of the statistic called name: 0 or VL_ENOENT /
 * VL_EIO. */
int kvm_stats_read(const kvm_stats *st, const char *name, uint64_t *val);

/* The current first value of every statistic, vals[kvm_stats_count()], read
 * with one pread: 0 or VL_EIO. */
int kvm_stats_snapshot(const kvm_stats *st, uint64_t *vals);

#endif
