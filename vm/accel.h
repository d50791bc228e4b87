/* accel: which QEMU accelerator an instance boots with.
 *
 *   BERTH_VM_ACCEL=tcg|kvm|hvf   used as given
 *   macOS                        hvf when sysctl kern.hv_support is 1 (as Lima)
 *   Linux                        kvm when /dev/kvm opens read-write AND a probe
 *                                boot passes; tcg otherwise
 *   anything else / non-x86_64   tcg (the berth image is x86_64)
 *
 * The probe exists because /dev/kvm can open and still be useless: on this
 * project's CI hosts (themselves VMs) a KVM guest gets through the real-mode
 * boot code and then hangs for good. So the probe boots the image's own
 * kernel with no root filesystem under -accel kvm and waits, with a deadline,
 * for the kernel to panic at "VFS: Unable to mount root fs" (about a second
 * on working KVM): reaching that point proves protected mode, paging,
 * interrupts and timers work. The outcome is remembered per host in
 * <cache>/accel-probe, keyed by the host name, kernel and QEMU binary, so
 * the probe runs once. */
#ifndef BERTH_VM_ACCEL_H
#define BERTH_VM_ACCEL_H

#include <stdint.h>

struct strbuf;
struct berth_error;

#define VM_ACCEL_PROBE_TIMEOUT_MS 30000

struct vm_accel_opts {
	const char *qemu;         /* the QEMU binary */
	const char *kernel;       /* a kernel to probe with */
	const char *cache_dir;    /* where the per-host result is kept; NULL = no memory */
	const char *override;     /* BERTH_VM_ACCEL, or NULL */
	int64_t probe_timeout_ms; /* 0 = VM_ACCEL_PROBE_TIMEOUT_MS */
	/* Called just before a probe boot runs (it takes seconds): may be NULL. */
	void (*before_probe)(void *data, int64_t timeout_ms);
	void *data;
};

/* Appends "tcg", "kvm" or "hvf" to accel and one line on why to why. Fails
 * only on a bad override (BERTH_E_USAGE). */
int vm_accel_choose(struct strbuf *accel, struct strbuf *why, const struct vm_accel_opts *o, struct berth_error *err);

/* The probe itself (no cache): 0 when KVM booted the kernel to its root
 * mount; otherwise BERTH_E_TIMEOUT or another code with the reason in err. */
int vm_accel_probe_kvm(const char *qemu, const char *kernel, int64_t timeout_ms, struct berth_error *err);

/* Appends the path at which PATH finds name (or name itself when it has a
 * '/' and is executable). -1 when not found. */
int vm_find_program(struct strbuf *out, const char *name);

#endif
