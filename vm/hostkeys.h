/* hostkeys: the guest's SSH host keys, pinned at the instance's first boot.
 * The guest generates its keys on first boot and prints them on the serial
 * console (BERTH-HOSTKEY lines, vm/serial.h), which only the host can read:
 * that is the trusted channel. The first boot's keys are written to
 * <instance>/known_hosts as OpenSSH known_hosts lines for the alias
 * "berth-<name>" (ssh.config sets HostKeyAlias to it); every later boot must
 * print the same keys, and every SSH connection must present one of them.
 * A change is refused: the disk was replaced or someone else answers on the
 * forwarded port. */
#ifndef BERTH_VM_HOSTKEYS_H
#define BERTH_VM_HOSTKEYS_H

#include <stdbool.h>

struct strvec;
struct strbuf;
struct berth_error;

/* Appends "TYPE BASE64" for each key line in the file. BERTH_E_NOTFOUND when
 * the file does not exist; BERTH_E_PARSE for a malformed line. */
int vm_hostkeys_load(struct strvec *out, const char *path, struct berth_error *err);

/* Compares the keys a boot offered ("TYPE BASE64" each) with the pinned
 * ones, pinning them when nothing is pinned yet (*pinned_now set). A key of a
 * pinned type with other bytes, or no offered key of a pinned type, is
 * BERTH_E_INVALID naming both fingerprints' types and the file. */
int vm_hostkeys_check_or_pin(const char *path, const char *alias, const struct strvec *offered, bool *pinned_now,
			     struct berth_error *err);

/* True when "TYPE BASE64" (as the SSH session presents it) is pinned. */
bool vm_hostkeys_contains(const struct strvec *pinned, const char *type, const char *b64);

#endif
