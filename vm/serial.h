/* serial: reads the guest's serial console log (QEMU -serial file:...) for
 * the boot contract of the berth image (vm/image/guest/usr/local/libexec/berth):
 *   BERTH-HOSTKEY <boot-id> <type> <base64>   one per SSH host key
 *   BERTH-READY <boot-id>                      sshd, containerd and the network are up
 *   BERTH-ERROR <boot-id|unknown> <reason>     the guest gave up
 * Only lines carrying the current boot's id count (a line left from an
 * earlier boot never matches). The rest of the console output tells how far
 * the boot got, for "waiting for the guest: <stage>" messages. */
#ifndef BERTH_VM_SERIAL_H
#define BERTH_VM_SERIAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/strbuf.h"
#include "common/strvec.h"

struct berth_error;

#define VM_SERIAL_LINE_MAX     4096 /* longer console lines are cut for matching */
#define VM_SERIAL_HOSTKEYS_MAX 8

enum vm_stage {
	VM_STAGE_FIRMWARE = 0, /* nothing on the console yet */
	VM_STAGE_KERNEL,       /* kernel and initramfs */
	VM_STAGE_SYSTEMD,      /* systemd starting units */
	VM_STAGE_SEED,         /* berth-seed: host keys, boot id, mounts */
	VM_STAGE_SERVICES,     /* berth-ready: network, sshd, containerd */
	VM_STAGE_READY,
};

struct vm_serial_scan {
	char *boot_id;         /* owned */
	uint64_t offset;       /* bytes of the file consumed so far */
	struct strbuf partial; /* the last line, not yet ended by '\n' */
	enum vm_stage stage;
	bool ready;
	char *error;            /* owned; the BERTH-ERROR reason, NULL when none */
	struct strvec hostkeys; /* "TYPE BASE64" for this boot, in order */
};

void vm_serial_scan_init(struct vm_serial_scan *s, const char *boot_id);
void vm_serial_scan_release(struct vm_serial_scan *s);
/* Feeds console bytes (any split). */
void vm_serial_scan_feed(struct vm_serial_scan *s, const char *data, size_t len);
/* Feeds what the file gained since the last call (at most cap bytes per call:
 * a looping guest cannot make berth read without end). A missing file is
 * nothing new. */
int vm_serial_scan_file(struct vm_serial_scan *s, const char *path, size_t cap, struct berth_error *err);

/* "kernel booting", "seed", ... for messages. */
const char *vm_stage_name(enum vm_stage st);

/* Appends the last `lines` lines of the log at path, without control
 * characters and terminal escapes, each prefixed with prefix. Reads at most
 * the last 64 KiB. Nothing is appended when the file is missing or empty. */
void vm_serial_tail(struct strbuf *out, const char *path, int lines, const char *prefix);

#endif
