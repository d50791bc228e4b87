/* state: what an instance is doing, from what its directory and QEMU say.
 *
 *   Running  QEMU holds its pid-file lock and answers QMP with "running";
 *            ready when the serial log has BERTH-READY for this boot.
 *   Stopped  no QEMU (no pid file, or QEMU removed it on a clean exit).
 *   Broken   anything else, always with the reason: the pid file is there
 *            but QEMU is gone (a crash, a kill -9), QEMU runs but QMP does
 *            not answer or reports paused/panicked/io-error, the guest
 *            printed BERTH-ERROR, the last start failed, the config or the
 *            disk is missing. Never "unknown" (Finch's gap, research F4).
 *
 * vm_state_observe() gathers the facts (files, fcntl lock, kill(0), QMP,
 * serial log); vm_state_decide() is a pure function of them, so that every
 * row of the table is unit-tested. */
#ifndef BERTH_VM_STATE_H
#define BERTH_VM_STATE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "vm/serial.h"

struct vm_paths;
struct berth_error;

/* boot.state: the current boot, written once QEMU has daemonized. */
struct vm_boot {
	char *boot_id; /* owned */
	int ssh_port;
	char *accel; /* owned */
	pid_t pid;
	int64_t started; /* unix seconds */
};

void vm_boot_release(struct vm_boot *b);
/* BERTH_E_NOTFOUND when the file is missing; BERTH_E_PARSE when it is damaged. */
int vm_boot_load(struct vm_boot *b, const char *path, struct berth_error *err);
int vm_boot_save(const struct vm_boot *b, const char *path, struct berth_error *err);

/* Reads QEMU's pid file. *pid is 0 when the contents are not a pid; *holder
 * is the pid holding QEMU's fcntl write lock on it (0 when none: QEMU is gone,
 * whatever process now has that pid). BERTH_E_NOTFOUND when the file is missing. */
int vm_pidfile_read(pid_t *pid, pid_t *holder, const char *path, struct berth_error *err);

enum vm_state {
	VM_STATE_STOPPED = 0,
	VM_STATE_RUNNING,
	VM_STATE_BROKEN,
};

struct vm_observation {
	char *config_error; /* NULL when the config loaded */
	bool disk_present;
	bool pidfile_present;
	pid_t pidfile_pid;   /* 0 when the pid file is unreadable or absent */
	pid_t lock_holder;   /* holder of QEMU's lock on the pid file; 0 = none */
	bool boot_present;   /* boot.state exists */
	pid_t boot_pid;      /* from boot.state */
	bool boot_pid_alive; /* boot_pid runs and its command line names this instance's pid file */
	int ssh_port;
	char *accel, *boot_id;
	bool qmp_skipped; /* QMP was not asked: QEMU's pid-file lock is trusted alone */
	bool qmp_ok;      /* query-status answered */
	char *qmp_status; /* its "status" */
	char *qmp_error;  /* why QMP did not answer */
	bool ready;       /* BERTH-READY <boot id> in the serial log */
	enum vm_stage stage;
	char *guest_error; /* BERTH-ERROR reason for this boot */
	bool starting;     /* another berth holds the instance lock */
	char *last_error;  /* contents of last-error */
	char *serial_log;  /* path, for messages */
};

void vm_observation_release(struct vm_observation *o);
/* Fills o from the instance's files. query_qmp: ask QEMU (up to 3 s) when it
 * runs; otherwise a QEMU holding its pid-file lock counts as running (for
 * callers that only need the boot and its port, such as a new SSH connection:
 * QMP serves one client at a time). check_lock: see whether another berth holds the instance lock (only
 * when the caller does not hold it itself). Never fails: what cannot be read
 * is itself an observation. */
void vm_state_observe(struct vm_observation *o, const struct vm_paths *p, bool query_qmp, bool check_lock);

struct vm_status {
	enum vm_state state;
	bool ready;      /* Running and BERTH-READY seen */
	bool qemu_alive; /* a QEMU process exists (Running, or Broken with a live QEMU) */
	char *detail;    /* owned; one line: the reason when Broken, the boot stage when
			      * Running, NULL or a note when Stopped */
	pid_t pid;
	int ssh_port;
	char *accel, *boot_id; /* owned; NULL when not running */
};

void vm_status_release(struct vm_status *s);
/* The decision table above. out is overwritten. */
void vm_state_decide(struct vm_status *out, const struct vm_observation *o);
const char *vm_state_name(enum vm_state s);

#endif
