/*
 * vcpu_stats.c — KVM binary statistics by name (see vcpu_stats.h).
 * Format: struct kvm_stats_header, then num_desc descriptors of
 * sizeof(struct kvm_stats_desc) + name_size bytes at desc_offset, values at
 * data_offset + desc->offset (linux/kvm.h, api.rst §4.133).
 */
#include "kvm/vcpu_stats.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define STATS_NAME_MAX 96

struct kvm_stats {
	int fd;
	size_t n;
	uint64_t data_offset, data_size;
	char (*names)[STATS_NAME_MAX];
	uint32_t *offset; /* of the first value, in bytes from data_offset */
	uint32_t *flags;
	uint8_t *buf; /* data_size bytes for snapshots */
};

int kvm_stats_open(int vcpu_fd, kvm_stats **out, vl_errbuf *eb)
{
	*out = NULL;
	int fd = ioctl(vcpu_fd, KVM_GET_STATS_FD, NULL);
	if (fd < 0)
		return vl_fail(eb, VL_ENOTSUP, "KVM_GET_STATS_FD: %s", strerror(errno));
	struct kvm_stats_header h;
	int err;
	kvm_stats *st = calloc(1, sizeof(*st));
	if (!st)
		goto err_fd;
	st->fd = fd;
	if (pread(fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h)) {
		err = vl_fail(eb, VL_EIO, "reading the KVM stats header failed");
		goto err_st;
	}
	size_t dsz = sizeof(struct kvm_stats_desc) + h.name_size;
	uint8_t *descs = malloc(dsz * h.num_desc);
	st->n = h.num_desc;
	st->names = calloc(st->n ? st->n : 1, sizeof(*st->names));
	st->offset = calloc(st->n ? st->n : 1, sizeof(*st->offset));
	st->flags = calloc(st->n ? st->n : 1, sizeof(*st->flags));
	if (!descs || !st->names || !st->offset || !st->flags) {
		free(descs);
		err = vl_fail(eb, VL_ENOMEM, "out of memory");
		goto err_st;
	}
	if (pread(fd, descs, dsz * st->n, h.desc_offset) != (ssize_t)(dsz * st->n)) {
		free(descs);
		err = vl_fail(eb, VL_EIO, "reading the KVM stats descriptors failed");
		goto err_st;
	}
	uint64_t end = 0;
	for (size_t i = 0; i < st->n; i++) {
		const struct kvm_stats_desc *d = (const void *)(descs + i * dsz);
		size_t nl = strnlen(d->name, h.name_size);
		if (nl >= STATS_NAME_MAX)
			nl = STATS_NAME_MAX - 1;
		memcpy(st->names[i], d->name, nl);
		st->offset[i] = d->offset;
		st->flags[i] = d->flags;
		uint64_t e = (uint64_t)d->offset + 8ull * (d->size ? d->size : 1);
		if (e > end)
			end = e;
	}
	free(descs);
	st->data_offset = h.data_offset;
	st->data_size = end;
	st->buf = malloc(end ? end : 1);
	if (!st->buf) {
		err = vl_fail(eb, VL_ENOMEM, "out of memory");
		goto err_st;
	}
	*out = st;
	return 0;
err_st:
	kvm_stats_close(st);
	return err;
err_fd:
	close(fd);
	return vl_fail(eb, VL_ENOMEM, "out of memory");
}

void kvm_stats_close(kvm_stats *st)
{
	if (!st)
		return;
	close(st->fd);
	free(st->names);
	free(st->offset);
	free(st->flags);
	free(st->buf);
	free(st);
}

size_t kvm_stats_count(const kvm_stats *st)
{
	return st->n;
}

const char *kvm_stats_name(const kvm_stats *st, size_t i)
{
	return i < st->n ? st->names[i] : NULL;
}

int kvm_stats_cumulative(const kvm_stats *st, size_t i)
{
	return i < st->n && (st->flags[i] & KVM_STATS_TYPE_MASK) == KVM_STATS_TYPE_CUMULATIVE;
}

int kvm_stats_find(const kvm_stats *st, const char *name)
{
	for (size_t i = 0; i < st->n; i++)
		if (strcmp(st->names[i], name) == 0)
			return (int)i;
	return VL_ENOENT;
}

int kvm_stats_read(const kvm_stats *st, const char *name, uint64_t *val)
{
	int i = kvm_stats_find(st, name);
	if (i < 0)
		return i;
	if (pread(st->fd, val, sizeof(*val), (off_t)(st->data_offset + st->offset[i])) !=
	    (ssize_t)sizeof(*val))
		return VL_EIO;
	return 0;
}

int kvm_stats_snapshot(const kvm_stats *st, uint64_t *vals)
{
	if (pread(st->fd, st->buf, st->data_size, (off_t)st->data_offset) != (ssize_t)st->data_size)
		return VL_EIO;
	for (size_t i = 0; i < st->n; i++)
		memcpy(&vals[i], st->buf + st->offset[i], sizeof(vals[i]));
	return 0;
}
