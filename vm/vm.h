/* vm: `berth vm` lifecycle on top of the pieces in vm/: init (fetch the
 * image, make the instance directory, key and overlay disk), start (choose
 * the accelerator and the SSH port, launch QEMU, wait for the guest's
 * BERTH-READY, pin or check its host keys), stop (ACPI power-down over QMP,
 * a deadline, then SIGTERM/SIGKILL), status, rm, list, and SSH sessions.
 * Lifecycle commands hold the instance's lock (common/lock.h); status and
 * list only read. Nothing here prints: progress goes through vm_ui. */
#ifndef BERTH_VM_VM_H
#define BERTH_VM_VM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vm/http.h"
#include "vm/state.h"

struct berth_error;
struct vm_ssh;

#define VM_DEFAULT_CPUS         2
#define VM_DEFAULT_MEMORY_MIB   2048
#define VM_READY_TIMEOUT_TCG_MS (300LL * 1000)
#define VM_READY_TIMEOUT_HW_MS  (180LL * 1000)
#define VM_STOP_TIMEOUT_MS      (90LL * 1000)
#define VM_LAUNCH_ATTEMPTS      5 /* SSH port taken between pick and QEMU's bind */
#define VM_LOCK_WAIT_MS         (15LL * 60 * 1000)

struct vm_ui {
	/* One line about what is happening ("waiting for the guest: sshd ..."). */
	void (*step)(void *data, const char *msg);
	vm_http_progress_fn *progress; /* downloads */
	void *data;
};

struct vm_env {
	const char *home;         /* instances' parent dir (vm_home_dir) */
	const char *cache;        /* berth's cache dir (vm_cache_dir) */
	const char *qemu;         /* NULL = "qemu-system-x86_64" */
	const char *qemu_img;     /* NULL = "qemu-img" */
	const char *accel;        /* BERTH_VM_ACCEL, or NULL */
	int64_t ready_timeout_ms; /* 0 = by accelerator (above) */
	int download_attempts;    /* 0 = default */
	const struct vm_ui *ui;   /* may be NULL */
};

struct vm_init_opts {
	const char *name;          /* NULL = "default" */
	int cpus;                  /* 0 = VM_DEFAULT_CPUS */
	int64_t memory_mib;        /* 0 = VM_DEFAULT_MEMORY_MIB */
	int64_t disk_bytes;        /* 0 = the image's size */
	const char *image;         /* URL or path; NULL = vm_image_default_source() */
	const char *sha256;        /* NULL = the image's sibling .sha256 */
	const char *const *mounts; /* "DIR[:ro]"; none = the home directory, writable */
	size_t mounts_nr;
	bool no_start;
};

int vm_init(const struct vm_env *e, const struct vm_init_opts *o, struct berth_error *err);
/* Boots a stopped instance (or waits for one that is booting) until ready. */
int vm_start(const struct vm_env *e, const char *name, struct berth_error *err);
/* timeout_ms 0 = VM_STOP_TIMEOUT_MS; force: SIGKILL at once. Stopping a
 * stopped instance only cleans stale files. */
int vm_stop(const struct vm_env *e, const char *name, int64_t timeout_ms, bool force, struct berth_error *err);
/* BERTH_E_NOTFOUND when there is no such instance. */
int vm_status(const struct vm_env *e, const char *name, struct vm_status *out, struct berth_error *err);
/* A running instance needs force (it is then killed). */
int vm_remove(const struct vm_env *e, const char *name, bool force, struct berth_error *err);
/* An SSH session to a running, ready instance. Caller frees with vm_ssh_free(). */
int vm_connect(const struct vm_env *e, const char *name, struct vm_ssh **out, struct berth_error *err);

#endif
