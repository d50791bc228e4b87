/* instance: where a VM instance lives and what its files are called.
 *
 *   <home>/<name>/          home = $BERTH_HOME/vm, else $XDG_DATA_HOME/berth/vm,
 *                           else ~/.local/share/berth/vm
 *     config                settings (vm/config.h); its presence marks a complete init
 *     base.qcow2            the verified image, hard-linked from the cache (read-only)
 *     disk.qcow2            qcow2 overlay on base.qcow2 (relative backing path)
 *     vmlinuz initrd.img    the image's kernel and initrd (direct kernel boot)
 *     id_ed25519{,.pub}     the instance's SSH client key (vm/sshkey.h)
 *     known_hosts           guest host keys pinned at first boot ("berth-<name> TYPE BASE64")
 *     ssh.config            for `ssh -F`, rewritten at each start (berth itself uses libssh2)
 *     seed/                 the per-boot 9p seed share: boot-id, authorized_keys, mounts
 *     serial.log            the guest's serial console (serial.log.1 from the boot before)
 *     qemu.pid              written and fcntl-locked by QEMU (-pidfile)
 *     qmp.sock              QMP control socket
 *     boot.state            this boot: id, SSH port, accelerator, pid (removed at stop)
 *     last-error            why the last start failed (removed by the next start)
 *     lock                  flock(2) held by lifecycle commands (common/lock.h)
 *
 * The pid, socket and state files are stale after a crash: vm/state.c tells
 * stale from live by QEMU's lock on qemu.pid, and start/stop remove them. */
#ifndef BERTH_VM_INSTANCE_H
#define BERTH_VM_INSTANCE_H

struct strbuf;
struct strvec;
struct berth_error;

#define VM_DEFAULT_NAME "default"
#define VM_NAME_MAX     48
#define VM_LOCK_NAME    "lock"

struct vm_paths {
	char *home, *dir;
	char *config, *base, *disk, *kernel, *initrd;
	char *key, *pubkey, *known_hosts, *ssh_config;
	char *seed_dir, *serial_log, *serial_prev;
	char *pidfile, *qmp, *state, *last_error;
};

/* Names are [a-z0-9], then [a-z0-9._-], ending in [a-z0-9], at most
 * VM_NAME_MAX bytes (they become directory names and the QEMU -name). */
int vm_name_check(const char *name, struct berth_error *err);

/* Fills p for instance name under home. BERTH_E_LIMIT when qmp.sock's path
 * would not fit a unix socket address (108 bytes on Linux, 104 on macOS):
 * choose a shorter $BERTH_HOME. */
int vm_paths_init(struct vm_paths *p, const char *home, const char *name, struct berth_error *err);
void vm_paths_release(struct vm_paths *p);

/* The instances' parent directory from the environment (see above). HOME
 * unset and no override is BERTH_E_INVALID. Appends to out. */
int vm_home_dir(struct strbuf *out, struct berth_error *err);
/* berth's download cache: $XDG_CACHE_HOME/berth, else ~/.cache/berth. */
int vm_cache_dir(struct strbuf *out, struct berth_error *err);

/* Appends the names of home's subdirectories that hold a config file, sorted. */
int vm_instance_names(struct strvec *out, const char *home, struct berth_error *err);

#endif
