#include "vm/vm.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/lock.h"
#include "common/proc.h"
#include "common/strbuf.h"
#include "common/strvec.h"
#include "vm/accel.h"
#include "vm/config.h"
#include "vm/fsutil.h"
#include "vm/hostkeys.h"
#include "vm/image.h"
#include "vm/instance.h"
#include "vm/port.h"
#include "vm/qemu_argv.h"
#include "vm/qmp.h"
#include "vm/serial.h"
#include "vm/ssh.h"
#include "vm/sshkey.h"
#include "common/banned.h"

#define READY_POLL_MS          200
#define STILL_WAITING_EVERY_MS 30000
#define QEMU_LAUNCH_TIMEOUT_MS 120000 /* -daemonize returns once the VM is set up */
#define QEMU_IMG_TIMEOUT_MS    120000
#define KILL_WAIT_MS           10000
#define SSH_CHECK_TIMEOUT_MS   60000
#define SERIAL_TAIL_LINES      20
#define SERIAL_SCAN_STEP       (8u << 20)

/* --- small helpers -------------------------------------------------------------------------- */

static void step(const struct vm_env *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void step(const struct vm_env *e, const char *fmt, ...)
{
	if (!e->ui || !e->ui->step)
		return;
	struct strbuf sb = STRBUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	e->ui->step(e->ui->data, sb.buf);
	strbuf_release(&sb);
}

static const char *qemu_bin(const struct vm_env *e)
{
	return e->qemu && *e->qemu ? e->qemu : "qemu-system-x86_64";
}

static const char *qemu_img_bin(const struct vm_env *e)
{
	return e->qemu_img && *e->qemu_img ? e->qemu_img : "qemu-img";
}

static void sleep_ms(int64_t ms)
{
	struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static void on_lock_wait(void *data, const char *path, pid_t holder)
{
	const struct vm_env *e = data;
	(void)path;
	if (holder)
		step(e, "waiting for another berth (pid %d) working on this VM...", (int)holder);
	else
		step(e, "waiting for another berth working on this VM...");
}

static int lock_instance(const struct vm_env *e, const struct vm_paths *p, struct lock *lk, struct berth_error *err)
{
	int rc =
		lock_acquire(lk, p->dir, VM_LOCK_NAME, proc_deadline_in(VM_LOCK_WAIT_MS), on_lock_wait, (void *)e, err);
	if (rc)
		berth_error_prefix(err, "locking VM directory \"%s\"", p->dir);
	return rc;
}

/* Loads paths for name and fails with BERTH_E_NOTFOUND when the instance does not exist. */
static int open_instance(const struct vm_env *e, const char *name, struct vm_paths *p, struct berth_error *err)
{
	int rc = vm_paths_init(p, e->home, name ? name : VM_DEFAULT_NAME, err);
	if (rc)
		return rc;
	if (!vm_fs_exists(p->config)) {
		rc = berth_error_set(err, BERTH_E_NOTFOUND, "no VM named \"%s\" (create it with `berth vm init%s%s`)",
				     name ? name : VM_DEFAULT_NAME, name && strcmp(name, VM_DEFAULT_NAME) ? " " : "",
				     name && strcmp(name, VM_DEFAULT_NAME) ? name : "");
		vm_paths_release(p);
	}
	return rc;
}

/* Signals the process holding QEMU's lock on the pid file (never a bare pid
 * number that may have been reused) and waits up to wait_ms for it to go.
 * Returns true when QEMU is gone. */
static bool signal_qemu(const struct vm_paths *p, int sig, int64_t wait_ms)
{
	pid_t pid = 0, holder = 0;
	if (vm_pidfile_read(&pid, &holder, p->pidfile, NULL) || !holder)
		return true;
	if (sig)
		kill(holder, sig);
	int64_t dl = proc_now_ms() + wait_ms;
	while (proc_now_ms() < dl) {
		if (vm_pidfile_read(&pid, &holder, p->pidfile, NULL) || !holder)
			return true;
		sleep_ms(100);
	}
	return false;
}

/* Removes what a QEMU that is gone left behind (as Lima removes .pid and .sock files). */
static int clean_runtime_files(const struct vm_paths *p, struct berth_error *err)
{
	int rc = vm_fs_unlink(p->pidfile, err);
	if (!rc)
		rc = vm_fs_unlink(p->qmp, err);
	if (!rc)
		rc = vm_fs_unlink(p->state, err);
	return rc;
}

static void record_failure(const struct vm_paths *p, const struct berth_error *err)
{
	struct strbuf sb = STRBUF_INIT;
	strbuf_addstr(&sb, err->msg ? err->msg : "unknown failure");
	strbuf_addch(&sb, '\n');
	vm_fs_write_atomic(p->last_error, sb.buf, sb.len, 0644, NULL);
	strbuf_release(&sb);
}

static void show_serial_tail(const struct vm_env *e, const struct vm_paths *p)
{
	struct strbuf tail = STRBUF_INIT;
	vm_serial_tail(&tail, p->serial_log, SERIAL_TAIL_LINES, "  | ");
	if (tail.len) {
		step(e, "last lines of the serial log %s:", p->serial_log);
		strbuf_setlen(&tail, tail.len - 1);
		step(e, "%s", tail.buf);
	} else {
		step(e, "the serial log %s is empty", p->serial_log);
	}
	strbuf_release(&tail);
}

/* --- start ---------------------------------------------------------------------------------- */

static int write_seed(const struct vm_paths *p, const struct vm_config *c, const char *boot_id, struct berth_error *err)
{
	struct strbuf sb = STRBUF_INIT;
	char *f;
	int rc = vm_fs_mkdir_p(p->seed_dir, 0700, err);
	if (!rc) {
		strbuf_addf(&sb, "%s\n", boot_id);
		f = xstrfmt("%s/boot-id", p->seed_dir);
		rc = vm_fs_write_atomic(f, sb.buf, sb.len, 0644, err);
		free(f);
	}
	if (!rc) {
		strbuf_reset(&sb);
		rc = vm_fs_read(&sb, p->pubkey, 16384, err);
		f = xstrfmt("%s/authorized_keys", p->seed_dir);
		if (!rc)
			rc = vm_fs_write_atomic(f, sb.buf, sb.len, 0644, err);
		free(f);
	}
	if (!rc) {
		strbuf_reset(&sb);
		vm_qemu_seed_mounts(&sb, c->mounts, c->mounts_nr);
		f = xstrfmt("%s/mounts", p->seed_dir);
		rc = vm_fs_write_atomic(f, sb.buf, sb.len, 0644, err);
		free(f);
	}
	strbuf_release(&sb);
	return rc;
}

static int new_boot_id(struct strbuf *out, struct berth_error *err)
{
	unsigned char r[4];
	int rc = vm_random_bytes(r, sizeof(r), err);
	if (!rc)
		strbuf_addf(out, "%lld-%02x%02x%02x%02x", (long long)time(NULL), r[0], r[1], r[2], r[3]);
	return rc;
}

static void on_probe(void *data, int64_t timeout_ms)
{
	step(data, "checking whether KVM works: a test boot under -accel kvm (once per host, up to %lld s)...",
	     (long long)(timeout_ms / 1000));
}

static bool port_race(const char *qemu_stderr)
{
	return strstr(qemu_stderr, "host forwarding") || strstr(qemu_stderr, "hostfwd") ||
	       strstr(qemu_stderr, "Address already in use");
}

/* Runs QEMU (-daemonize) with a fresh port until it starts or fails for
 * another reason than a port taken in the meantime. */
static int launch_qemu(const struct vm_env *e, const struct vm_paths *p, const struct vm_config *c, const char *accel,
		       int *port_out, struct berth_error *err)
{
	for (int attempt = 1; attempt <= VM_LAUNCH_ATTEMPTS; attempt++) {
		int port = 0;
		int rc = vm_port_pick(&port, err);
		if (rc)
			return rc;
		struct vm_qemu_spec spec = {
			.qemu = qemu_bin(e),
			.name = c->name,
			.accel = accel,
			.cpus = c->cpus,
			.memory_mib = c->memory_mib,
			.kernel = p->kernel,
			.initrd = p->initrd,
			.cmdline = c->cmdline,
			.disk = p->disk,
			.ssh_port = port,
			.seed_dir = p->seed_dir,
			.mounts = c->mounts,
			.mounts_nr = c->mounts_nr,
			.serial_log = p->serial_log,
			.qmp = p->qmp,
			.pidfile = p->pidfile,
			.daemonize = true,
		};
		struct proc q;
		struct strbuf qerr = STRBUF_INIT, qout = STRBUF_INIT;
		proc_init(&q);
		vm_qemu_argv(&q.argv, &spec);
		q.in.mode = PROC_NULL;
		q.out.mode = PROC_PIPE;
		q.out.buf = &qout;
		q.out.cap = 65536;
		q.out.truncate = true;
		q.err.mode = PROC_PIPE;
		q.err.buf = &qerr;
		q.err.cap = 65536;
		q.err.truncate = true;
		q.cwd = p->dir;
		q.deadline_ms = proc_deadline_in(QEMU_LAUNCH_TIMEOUT_MS);
		rc = proc_run(&q, err);
		int code = q.exit_code;
		proc_release(&q);
		strbuf_trim(&qerr);
		if (!rc && code == 0) {
			*port_out = port;
			strbuf_release(&qerr);
			strbuf_release(&qout);
			return 0;
		}
		if (!rc && port_race(qerr.buf) && attempt < VM_LAUNCH_ATTEMPTS) {
			step(e, "port %d was taken before QEMU could bind it; trying another (attempt %d of %d)", port,
			     attempt + 1, VM_LAUNCH_ATTEMPTS);
			strbuf_release(&qerr);
			strbuf_release(&qout);
			continue;
		}
		if (!rc)
			rc = berth_error_set(err, BERTH_E_ENGINE, "%s exited with status %d: %s", qemu_bin(e), code,
					     qerr.len ? qerr.buf : "(no message)");
		else
			berth_error_prefix(err, "running %s", qemu_bin(e));
		strbuf_release(&qerr);
		strbuf_release(&qout);
		return rc;
	}
	return berth_error_set(err, BERTH_E_IO, "no free port for SSH after %d attempts", VM_LAUNCH_ATTEMPTS);
}

/* Waits for BERTH-READY <boot id>, saying what it waits for. */
static int wait_ready(const struct vm_env *e, const struct vm_paths *p, const char *boot_id, int64_t timeout_ms,
		      struct vm_serial_scan *scan, struct berth_error *err)
{
	int64_t t0 = proc_now_ms(), deadline = t0 + timeout_ms, last_note = t0;
	enum vm_stage shown = (enum vm_stage) - 1;
	/* Bounded by the deadline: one iteration per READY_POLL_MS. */
	for (;;) {
		int rc = vm_serial_scan_file(scan, p->serial_log, SERIAL_SCAN_STEP, err);
		if (rc)
			return rc;
		if (scan->ready)
			return 0;
		if (scan->error)
			return berth_error_set(err, BERTH_E_ENGINE, "the guest reported an error: %s (see %s)",
					       scan->error, p->serial_log);
		int64_t now = proc_now_ms();
		if (scan->stage != shown) {
			shown = scan->stage;
			last_note = now;
			step(e, "waiting for the guest: %s (%.0f s; serial log: %s)", vm_stage_name(scan->stage),
			     (double)(now - t0) / 1000.0, p->serial_log);
		} else if (now - last_note >= STILL_WAITING_EVERY_MS) {
			last_note = now;
			step(e, "still waiting for the guest: %s (%.0f s of %lld s)", vm_stage_name(scan->stage),
			     (double)(now - t0) / 1000.0, (long long)(timeout_ms / 1000));
		}
		pid_t pid = 0, holder = 0;
		if (vm_pidfile_read(&pid, &holder, p->pidfile, NULL) || !holder) {
			/* One more look: the guest may have printed its last words. */
			vm_serial_scan_file(scan, p->serial_log, SERIAL_SCAN_STEP, NULL);
			if (scan->error)
				return berth_error_set(err, BERTH_E_ENGINE,
						       "the guest reported an error: %s, and qemu exited", scan->error);
			return berth_error_set(err, BERTH_E_ENGINE,
					       "qemu exited while the guest was booting (%s); see %s",
					       vm_stage_name(scan->stage), p->serial_log);
		}
		if (now >= deadline)
			return berth_error_set(err, BERTH_E_TIMEOUT,
					       "the guest was not ready after %lld s (still at: %s); see %s, or raise "
					       "BERTH_VM_READY_TIMEOUT",
					       (long long)(timeout_ms / 1000), vm_stage_name(scan->stage),
					       p->serial_log);
		sleep_ms(READY_POLL_MS);
	}
}

static void write_ssh_config(const struct vm_paths *p, const struct vm_config *c, int port)
{
	struct strbuf sb = STRBUF_INIT;
	strbuf_addf(&sb,
		    "# Written by `berth vm start` for this boot (berth itself uses libssh2, not this file).\n"
		    "# Usage: ssh -F \"%s\" berth-%s\n"
		    "Host berth-%s\n"
		    "  HostName 127.0.0.1\n"
		    "  Port %d\n"
		    "  User %s\n"
		    "  IdentityFile \"%s\"\n"
		    "  IdentitiesOnly yes\n"
		    "  UserKnownHostsFile \"%s\"\n"
		    "  HostKeyAlias berth-%s\n"
		    "  StrictHostKeyChecking yes\n"
		    "  BatchMode yes\n",
		    p->ssh_config, c->name, c->name, port, c->user, p->key, p->known_hosts, c->name);
	vm_fs_write_atomic(p->ssh_config, sb.buf, sb.len, 0644, NULL);
	strbuf_release(&sb);
}

static int ssh_check(const struct vm_paths *p, const struct vm_config *c, int port, struct berth_error *err)
{
	struct vm_ssh_target t = {.host = "127.0.0.1",
				  .port = port,
				  .user = c->user,
				  .key = p->key,
				  .pubkey = p->pubkey,
				  .known_hosts = p->known_hosts};
	struct vm_ssh *s = NULL;
	int64_t dl = proc_deadline_in(SSH_CHECK_TIMEOUT_MS);
	int rc = vm_ssh_connect(&s, &t, dl, err);
	if (!rc) {
		struct proc q;
		proc_init(&q);
		strvec_push(&q.argv, "true");
		q.in.mode = PROC_NULL;
		q.out.mode = PROC_NULL;
		q.err.mode = PROC_NULL;
		q.deadline_ms = dl;
		rc = vm_ssh_run(s, &q, err);
		if (!rc && q.exit_code != 0)
			rc = berth_error_set(err, BERTH_E_ENGINE, "`true` over SSH exited with status %d", q.exit_code);
		proc_release(&q);
	}
	vm_ssh_free(s);
	if (rc)
		berth_error_prefix(err, "checking SSH");
	return rc;
}

static int check_mount_dirs(const struct vm_config *c, struct berth_error *err)
{
	for (size_t i = 0; i < c->mounts_nr; i++) {
		struct stat st;
		if (stat(c->mounts[i].path, &st) < 0 || !S_ISDIR(st.st_mode))
			return berth_error_set(err, BERTH_E_NOTFOUND, "mount \"%s\": not a directory on this host",
					       c->mounts[i].path);
	}
	return 0;
}

/* Boots (or keeps waiting for) the instance; the caller holds the lock. */
static int start_locked(const struct vm_env *e, const struct vm_paths *p, struct berth_error *err)
{
	/* the readiness check talks SSH: fail before booting when libssh2 cannot load */
	int rc = vm_ssh_load(err);
	if (rc)
		return rc;
	struct vm_config c;
	rc = vm_config_load(&c, p->config, err);
	if (rc)
		return rc;
	struct vm_observation o;
	struct vm_status st;
	vm_state_observe(&o, p, true, false);
	vm_state_decide(&st, &o);
	char *resume_boot = NULL;
	int resume_port = 0;
	if (st.state == VM_STATE_RUNNING && st.ready) {
		step(e, "VM \"%s\" is already running (ssh 127.0.0.1:%d)", c.name, st.ssh_port);
		goto out;
	}
	if (st.state == VM_STATE_RUNNING) {
		step(e, "VM \"%s\" is already booting; waiting for it", c.name);
		resume_boot = xstrdup(st.boot_id);
		resume_port = st.ssh_port;
	} else if (st.qemu_alive) {
		rc = berth_error_set(err, BERTH_E_ENGINE,
				     "VM \"%s\" is broken: %s; run `berth vm stop --force%s%s` first", c.name,
				     st.detail ? st.detail : "?", strcmp(c.name, VM_DEFAULT_NAME) ? " " : "",
				     strcmp(c.name, VM_DEFAULT_NAME) ? c.name : "");
		goto out;
	} else {
		if (o.pidfile_present)
			step(e, "removing the files of a qemu that exited (pid %d)", (int)o.pidfile_pid);
		if ((rc = clean_runtime_files(p, err)) || (rc = vm_fs_unlink(p->last_error, err)))
			goto out;
	}

	int64_t t0 = proc_now_ms();
	struct strbuf boot_id = STRBUF_INIT, accel = STRBUF_INIT, why = STRBUF_INIT;
	struct vm_serial_scan scan;
	int port = resume_port;
	bool launched = false;
	if (resume_boot) {
		strbuf_addstr(&boot_id, resume_boot);
		strbuf_addstr(&accel, st.accel ? st.accel : "tcg");
	} else {
		static const char *const need[] = {"disk", "kernel", "initrd", "key", "pubkey"};
		const char *paths[] = {p->disk, p->kernel, p->initrd, p->key, p->pubkey};
		for (size_t i = 0; !rc && i < ARRAY_SIZE(need); i++)
			if (!vm_fs_exists(paths[i]))
				rc = berth_error_set(err, BERTH_E_NOTFOUND, "the instance's %s \"%s\" is missing",
						     need[i], paths[i]);
		if (!rc)
			rc = check_mount_dirs(&c, err);
		if (!rc) {
			struct vm_accel_opts ao = {.qemu = qemu_bin(e),
						   .kernel = p->kernel,
						   .cache_dir = e->cache,
						   .override = e->accel,
						   .before_probe = on_probe,
						   .data = (void *)e};
			rc = vm_accel_choose(&accel, &why, &ao, err);
		}
		if (!rc) {
			step(e, "accelerator: %s (%s)", accel.buf, why.buf);
			rc = new_boot_id(&boot_id, err);
		}
		if (!rc)
			rc = write_seed(p, &c, boot_id.buf, err);
		if (!rc && vm_fs_exists(p->serial_log) && rename(p->serial_log, p->serial_prev) < 0)
			rc = berth_error_set(err, BERTH_E_IO, "cannot rotate \"%s\": %s", p->serial_log,
					     strerror(errno));
		if (!rc) {
			step(e, "starting qemu (%s, %d CPUs, %lld MiB)", accel.buf, c.cpus, (long long)c.memory_mib);
			rc = launch_qemu(e, p, &c, accel.buf, &port, err);
		}
		if (!rc) {
			launched = true;
			pid_t pid = 0, holder = 0;
			vm_pidfile_read(&pid, &holder, p->pidfile, NULL);
			struct vm_boot b = {.boot_id = boot_id.buf,
					    .ssh_port = port,
					    .accel = accel.buf,
					    .pid = holder ? holder : pid,
					    .started = (int64_t)time(NULL)};
			rc = vm_boot_save(&b, p->state, err);
		}
	}
	vm_serial_scan_init(&scan, boot_id.buf);
	if (!rc) {
		int64_t timeout = e->ready_timeout_ms > 0     ? e->ready_timeout_ms
				  : !strcmp(accel.buf, "tcg") ? VM_READY_TIMEOUT_TCG_MS
							      : VM_READY_TIMEOUT_HW_MS;
		launched = true;
		rc = wait_ready(e, p, boot_id.buf, timeout, &scan, err);
	}
	if (!rc) {
		bool pinned_now = false;
		char *alias = xstrfmt("berth-%s", c.name);
		rc = vm_hostkeys_check_or_pin(p->known_hosts, alias, &scan.hostkeys, &pinned_now, err);
		free(alias);
		if (!rc && pinned_now)
			step(e, "pinned the guest's SSH host keys in %s", p->known_hosts);
	}
	if (!rc) {
		write_ssh_config(p, &c, port);
		rc = ssh_check(p, &c, port, err);
	}
	if (!rc)
		step(e, "VM \"%s\" is ready in %.1f s: `berth vm ssh%s%s`, or ssh -F %s berth-%s", c.name,
		     (double)(proc_now_ms() - t0) / 1000.0, strcmp(c.name, VM_DEFAULT_NAME) ? " " : "",
		     strcmp(c.name, VM_DEFAULT_NAME) ? c.name : "", p->ssh_config, c.name);
	if (rc && launched) {
		show_serial_tail(e, p);
		record_failure(p, err);
		/* Leave nothing running behind a failed start. */
		if (!signal_qemu(p, SIGKILL, KILL_WAIT_MS))
			step(e, "warning: qemu did not exit after SIGKILL");
		clean_runtime_files(p, NULL);
	} else if (rc) {
		record_failure(p, err);
	}
	vm_serial_scan_release(&scan);
	strbuf_release(&boot_id);
	strbuf_release(&accel);
	strbuf_release(&why);
out:
	free(resume_boot);
	vm_status_release(&st);
	vm_observation_release(&o);
	vm_config_release(&c);
	return rc;
}

int vm_start(const struct vm_env *e, const char *name, struct berth_error *err)
{
	struct vm_paths p;
	struct lock lk = LOCK_INIT;
	int rc = open_instance(e, name, &p, err);
	if (rc)
		return rc;
	rc = lock_instance(e, &p, &lk, err);
	if (!rc)
		rc = start_locked(e, &p, err);
	lock_release(&lk);
	vm_paths_release(&p);
	return rc;
}

/* --- stop, status, rm, connect ---------------------------------------------------------------- */

static int stop_locked(const struct vm_env *e, const struct vm_paths *p, const char *name, int64_t timeout_ms,
		       bool force, struct berth_error *err)
{
	pid_t pid = 0, holder = 0;
	bool present = !vm_pidfile_read(&pid, &holder, p->pidfile, NULL);
	if (!holder) {
		if (present)
			step(e, "qemu (pid %d) had already exited; removed its stale files", (int)pid);
		else
			step(e, "VM \"%s\" is not running", name);
		return clean_runtime_files(p, err);
	}
	if (timeout_ms <= 0)
		timeout_ms = VM_STOP_TIMEOUT_MS;
	bool gone = false;
	if (force) {
		step(e, "killing qemu (pid %d)", (int)holder);
		gone = signal_qemu(p, SIGKILL, KILL_WAIT_MS);
	} else {
		struct vm_qmp q = VM_QMP_INIT;
		struct berth_error qerr = BERTH_ERROR_INIT;
		int64_t dl = proc_deadline_in(5000);
		int rc = vm_qmp_connect(&q, p->qmp, dl, &qerr);
		if (!rc)
			rc = vm_qmp_execute(&q, "system_powerdown", NULL, dl, &qerr);
		vm_qmp_close(&q);
		if (rc) {
			step(e, "QMP did not take the power-down request (%s); terminating qemu",
			     qerr.msg ? qerr.msg : "?");
		} else {
			step(e, "sent ACPI power-down; waiting up to %lld s for the guest to power off",
			     (long long)(timeout_ms / 1000));
			gone = signal_qemu(p, 0, timeout_ms);
			if (!gone)
				step(e, "the guest did not power off in %lld s; terminating qemu",
				     (long long)(timeout_ms / 1000));
		}
		berth_error_release(&qerr);
		if (!gone)
			gone = signal_qemu(p, SIGTERM, 5000);
		if (!gone)
			gone = signal_qemu(p, SIGKILL, KILL_WAIT_MS);
	}
	if (!gone)
		return berth_error_set(err, BERTH_E_ENGINE, "qemu (pid %d) did not exit even after SIGKILL",
				       (int)holder);
	step(e, "VM \"%s\" stopped", name);
	return clean_runtime_files(p, err);
}

int vm_stop(const struct vm_env *e, const char *name, int64_t timeout_ms, bool force, struct berth_error *err)
{
	struct vm_paths p;
	struct lock lk = LOCK_INIT;
	int rc = open_instance(e, name, &p, err);
	if (rc)
		return rc;
	rc = lock_instance(e, &p, &lk, err);
	if (!rc)
		rc = stop_locked(e, &p, name ? name : VM_DEFAULT_NAME, timeout_ms, force, err);
	lock_release(&lk);
	vm_paths_release(&p);
	return rc;
}

int vm_status(const struct vm_env *e, const char *name, struct vm_status *out, struct berth_error *err)
{
	struct vm_paths p;
	int rc = open_instance(e, name, &p, err);
	if (rc)
		return rc;
	struct vm_observation o;
	vm_state_observe(&o, &p, true, true);
	vm_state_decide(out, &o);
	vm_observation_release(&o);
	vm_paths_release(&p);
	return 0;
}

int vm_remove(const struct vm_env *e, const char *name, bool force, struct berth_error *err)
{
	struct vm_paths p;
	struct lock lk = LOCK_INIT;
	int rc = vm_paths_init(&p, e->home, name ? name : VM_DEFAULT_NAME, err);
	if (rc)
		return rc;
	if (!vm_fs_exists(p.dir)) {
		rc = berth_error_set(err, BERTH_E_NOTFOUND, "no VM named \"%s\"", name ? name : VM_DEFAULT_NAME);
		vm_paths_release(&p);
		return rc;
	}
	rc = lock_instance(e, &p, &lk, err);
	if (!rc) {
		pid_t pid = 0, holder = 0;
		vm_pidfile_read(&pid, &holder, p.pidfile, NULL);
		if (holder && !force)
			rc = berth_error_set(err, BERTH_E_USAGE,
					     "VM \"%s\" is running (qemu pid %d): stop it first, or use rm -f",
					     name ? name : VM_DEFAULT_NAME, (int)holder);
		else if (holder && !signal_qemu(&p, SIGKILL, KILL_WAIT_MS))
			rc = berth_error_set(err, BERTH_E_ENGINE, "qemu (pid %d) did not exit after SIGKILL",
					     (int)holder);
	}
	/* The lock file goes with the directory: a berth waiting on it then finds
	 * no instance, which is the truth. */
	if (!rc)
		rc = vm_fs_remove_tree(p.dir, err);
	if (!rc)
		step(e, "removed VM \"%s\" (%s)", name ? name : VM_DEFAULT_NAME, p.dir);
	lock_release(&lk);
	vm_paths_release(&p);
	return rc;
}

int vm_connect(const struct vm_env *e, const char *name, struct vm_ssh **out, struct berth_error *err)
{
	struct vm_paths p;
	int rc = open_instance(e, name, &p, err);
	if (rc)
		return rc;
	struct vm_config c;
	struct vm_status st;
	struct vm_observation o;
	memset(&st, 0, sizeof(st));
	rc = vm_config_load(&c, p.config, err);
	if (!rc) {
		/* No QMP: it serves one client at a time, and the transport opens
		 * connections from several threads. The pid-file lock says QEMU lives. */
		vm_state_observe(&o, &p, false, false);
		vm_state_decide(&st, &o);
		vm_observation_release(&o);
		if (st.state != VM_STATE_RUNNING || !st.ready)
			rc = berth_error_set(err, BERTH_E_USAGE, "VM \"%s\" is not ready: %s%s%s", c.name,
					     vm_state_name(st.state), st.detail ? ": " : "",
					     st.detail ? st.detail : "");
	}
	if (!rc) {
		struct vm_ssh_target t = {.host = "127.0.0.1",
					  .port = st.ssh_port,
					  .user = c.user,
					  .key = p.key,
					  .pubkey = p.pubkey,
					  .known_hosts = p.known_hosts};
		rc = vm_ssh_connect(out, &t, proc_deadline_in(VM_SSH_CONNECT_TIMEOUT_MS), err);
		vm_config_release(&c);
	}
	vm_status_release(&st);
	vm_paths_release(&p);
	return rc;
}

/* --- init ----------------------------------------------------------------------------------- */

static int image_virtual_size(const struct vm_env *e, const char *image, int64_t *out, struct berth_error *err)
{
	struct strbuf js = STRBUF_INIT;
	const char *const argv[] = {qemu_img_bin(e), "info", "--output=json", image, NULL};
	int rc = proc_capture(&js, argv, QEMU_IMG_TIMEOUT_MS, 1u << 20, err);
	if (!rc) {
		json_object *o = json_tokener_parse(js.buf), *v;
		if (o && json_object_object_get_ex(o, "virtual-size", &v))
			*out = json_object_get_int64(v);
		else
			rc = berth_error_set(err, BERTH_E_PARSE, "qemu-img info %s: no virtual-size", image);
		json_object_put(o);
	}
	strbuf_release(&js);
	return rc;
}

static void on_note(void *data, const char *msg)
{
	step(data, "%s", msg);
}

static void on_progress(void *data, const char *what, int64_t now, int64_t total, bool done)
{
	const struct vm_env *e = data;
	if (e->ui && e->ui->progress)
		e->ui->progress(e->ui->data, what, now, total, done);
}

/* Everything but the lock file: what a failed init left. */
static int clear_dir(const struct vm_paths *p, struct berth_error *err)
{
	const char *files[] = {p->config,      p->base,    p->disk,        p->kernel,     p->initrd,
			       p->key,         p->pubkey,  p->known_hosts, p->ssh_config, p->serial_log,
			       p->serial_prev, p->pidfile, p->qmp,         p->state,      p->last_error};
	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		int rc = vm_fs_unlink(files[i], err);
		if (rc)
			return rc;
	}
	return vm_fs_remove_tree(p->seed_dir, err);
}

static int create_instance(const struct vm_env *e, const struct vm_init_opts *o, const struct vm_paths *p,
			   const struct vm_image *img, struct vm_config *c, struct berth_error *err)
{
	int rc = vm_fs_link_or_copy(img->qcow2, p->base, 0444, err);
	if (!rc)
		rc = vm_fs_copy(img->kernel, p->kernel, 0644, NULL, err);
	if (!rc)
		rc = vm_fs_copy(img->initrd, p->initrd, 0644, NULL, err);
	int64_t vsize = 0;
	if (!rc)
		rc = image_virtual_size(e, p->base, &vsize, err);
	if (!rc && o->disk_bytes && o->disk_bytes < vsize)
		rc = berth_error_set(err, BERTH_E_USAGE,
				     "--disk %lld bytes is smaller than the image (%lld bytes): "
				     "disks can grow, not shrink",
				     (long long)o->disk_bytes, (long long)vsize);
	if (!rc) {
		/* The backing path is relative, so the instance directory can move. */
		struct strvec argv = STRVEC_INIT;
		struct strbuf out = STRBUF_INIT;
		strvec_pushl(&argv, qemu_img_bin(e), "create", "-q", "-f", "qcow2", "-b", "base.qcow2", "-F", "qcow2",
			     "disk.qcow2", NULL);
		if (o->disk_bytes)
			strvec_pushf(&argv, "%lld", (long long)o->disk_bytes);
		struct proc q;
		proc_init(&q);
		strvec_pushv(&q.argv, (const char *const *)argv.v);
		q.cwd = p->dir;
		q.in.mode = PROC_NULL;
		q.out.mode = PROC_NULL;
		q.err.mode = PROC_PIPE;
		q.err.buf = &out;
		q.err.cap = 16384;
		q.err.truncate = true;
		q.deadline_ms = proc_deadline_in(QEMU_IMG_TIMEOUT_MS);
		rc = proc_run(&q, err);
		if (!rc && q.exit_code != 0) {
			strbuf_trim(&out);
			rc = berth_error_set(err, BERTH_E_ENGINE, "qemu-img create exited with status %d: %s",
					     q.exit_code, out.buf);
		}
		proc_release(&q);
		strvec_clear(&argv);
		strbuf_release(&out);
	}
	if (!rc) {
		char *comment = xstrfmt("berth-vm-%s", c->name);
		rc = vm_sshkey_write_new(p->key, p->pubkey, comment, err);
		free(comment);
	}
	if (!rc) {
		c->disk_bytes = o->disk_bytes ? o->disk_bytes : vsize;
		rc = vm_config_save(c, p->config, err);
	}
	return rc;
}

int vm_init(const struct vm_env *e, const struct vm_init_opts *o, struct berth_error *err)
{
	const char *name = o->name ? o->name : VM_DEFAULT_NAME;
	struct vm_paths p;
	struct vm_config c;
	struct vm_image img;
	struct lock lk = LOCK_INIT;
	struct strbuf src = STRBUF_INIT;
	memset(&img, 0, sizeof(img));
	vm_config_init(&c);
	int rc = vm_paths_init(&p, e->home, name, err);
	if (rc)
		return rc;
	if (vm_fs_exists(p.config)) {
		rc = berth_error_set(err, BERTH_E_USAGE, "VM \"%s\" already exists (%s); `berth vm rm%s%s` first", name,
				     p.dir, strcmp(name, VM_DEFAULT_NAME) ? " " : "",
				     strcmp(name, VM_DEFAULT_NAME) ? name : "");
		goto out;
	}
	/* The settings first: a typo fails before any download. */
	c.name = xstrdup(name);
	c.cpus = o->cpus ? o->cpus : VM_DEFAULT_CPUS;
	c.memory_mib = o->memory_mib ? o->memory_mib : VM_DEFAULT_MEMORY_MIB;
	c.user = xstrdup("root");
	c.created = (int64_t)time(NULL);
	for (size_t i = 0; !rc && i < o->mounts_nr; i++)
		rc = vm_config_add_mount(&c, o->mounts[i], err);
	if (!rc && !o->mounts_nr) {
		const char *home = getenv("HOME");
		struct berth_error merr = BERTH_ERROR_INIT;
		if (home && vm_config_add_mount(&c, home, &merr))
			step(e, "not sharing the home directory: %s", merr.msg);
		berth_error_release(&merr);
	}
	if (!rc)
		rc = check_mount_dirs(&c, err);
	if (!rc && (c.cpus < 1 || c.cpus > VM_CPUS_MAX))
		rc = berth_error_set(err, BERTH_E_USAGE, "--cpus %d: expected 1..%d", c.cpus, VM_CPUS_MAX);
	if (!rc && (c.memory_mib < VM_MEMORY_MIB_MIN || c.memory_mib > VM_MEMORY_MIB_MAX))
		rc = berth_error_set(err, BERTH_E_USAGE, "--memory %lld MiB: expected %d MiB..%d MiB",
				     (long long)c.memory_mib, VM_MEMORY_MIB_MIN, VM_MEMORY_MIB_MAX);
	if (!rc && o->image)
		strbuf_addstr(&src, o->image);
	else if (!rc)
		rc = vm_image_default_source(&src, err);
	if (rc)
		goto out;

	step(e, "image: %s", src.buf);
	struct vm_image_opts io = {.source = src.buf,
				   .sha256 = o->sha256,
				   .cache_dir = e->cache,
				   .attempts = e->download_attempts,
				   .progress = on_progress,
				   .note = on_note,
				   .data = (void *)e};
	rc = vm_image_fetch(&img, &io, err);
	if (rc) {
		berth_error_prefix(err, "fetching the image");
		goto out;
	}
	step(e, "image sha256 %s verified%s", img.sha256, img.cached ? " (cached)" : "");
	c.image = xstrdup(img.source);
	c.image_sha256 = xstrdup(img.sha256);
	c.cmdline = xstrdup(img.cmdline);

	rc = vm_fs_mkdir_p(p.dir, 0700, err);
	if (!rc)
		rc = lock_instance(e, &p, &lk, err);
	if (rc)
		goto out;
	if (vm_fs_exists(p.config)) {
		rc = berth_error_set(err, BERTH_E_USAGE, "VM \"%s\" already exists (%s)", name, p.dir);
		goto unlock;
	}
	rc = clear_dir(&p, err);
	if (!rc)
		rc = create_instance(e, o, &p, &img, &c, err);
	if (rc) {
		struct berth_error cerr = BERTH_ERROR_INIT;
		clear_dir(&p, &cerr);
		berth_error_release(&cerr);
		berth_error_prefix(err, "creating VM \"%s\"", name);
		goto unlock;
	}
	step(e, "created VM \"%s\" in %s", name, p.dir);
	if (!o->no_start)
		rc = start_locked(e, &p, err);
unlock:
	lock_release(&lk);
out:
	vm_image_release(&img);
	vm_config_release(&c);
	strbuf_release(&src);
	vm_paths_release(&p);
	return rc;
}
