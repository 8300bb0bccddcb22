# src/kvm needs the kernel UAPI headers (linux/kvm.h: KVM_GET_STATS_FD, KVM_IRQFD, ...).
DEB_DEPS += linux-libc-dev
