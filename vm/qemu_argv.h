/* qemu_argv: the QEMU command line for an instance, built from a plain
 * description so that it can be checked word for word (tests/unit/vm/
 * test_qemu_argv.c). Direct kernel boot (-kernel/-initrd/-append) of the
 * berth image, a virtio disk, user-mode networking with only SSH forwarded
 * to 127.0.0.1, 9p shares (the per-boot seed and the user's mounts), the
 * serial console to a file, QMP on a unix socket, and -daemonize with a
 * -pidfile: QEMU's parent process exits once the VM is set up (so a failure
 * such as a taken port is an exit status with a message on stderr) and QEMU
 * keeps a lock on the pid file for as long as it runs. */
#ifndef BERTH_VM_QEMU_ARGV_H
#define BERTH_VM_QEMU_ARGV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct strvec;
struct strbuf;
struct vm_mount;

#define VM_SEED_TAG      "berth-seed"
#define VM_MOUNT_TAG_FMT "berth-m%zu" /* mount i's 9p tag */

struct vm_qemu_spec {
	const char *qemu;  /* the binary, e.g. "qemu-system-x86_64" */
	const char *name;  /* instance name */
	const char *accel; /* "tcg", "kvm" or "hvf" */
	int cpus;
	int64_t memory_mib;
	const char *kernel, *initrd, *cmdline;
	const char *disk; /* qcow2 */
	int ssh_port;     /* host side of the forward to the guest's port 22 */
	const char *seed_dir;
	const struct vm_mount *mounts;
	size_t mounts_nr;
	const char *serial_log, *qmp, *pidfile;
	bool daemonize;
};

/* Appends the argv (argv[0] = spec->qemu) to out. */
void vm_qemu_argv(struct strvec *out, const struct vm_qemu_spec *spec);
/* Appends s with every ',' doubled, as QEMU's option parser wants inside a
 * value (a path with a comma would otherwise start a new option). */
void vm_qemu_escape(struct strbuf *out, const char *s);
/* The lines of the guest's seed "mounts" file: "TAG PATH ro|rw" per mount. */
void vm_qemu_seed_mounts(struct strbuf *out, const struct vm_mount *mounts, size_t nr);

#endif
