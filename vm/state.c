#include "vm/state.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/lock.h"
#include "common/parse.h"
#include "common/strbuf.h"
#include "vm/config.h"
#include "vm/fsutil.h"
#include "vm/instance.h"
#include "vm/qmp.h"
#include "common/banned.h"

#define BOOT_STATE_CAP        4096
#define QMP_STATUS_TIMEOUT_MS 3000
#define SERIAL_SCAN_CAP       (64u << 20) /* a console log past 64 MiB is scanned no further */

void vm_boot_release(struct vm_boot *b)
{
	free(b->boot_id);
	free(b->accel);
	memset(b, 0, sizeof(*b));
}

int vm_boot_load(struct vm_boot *out, const char *path, struct berth_error *err)
{
	struct strbuf sb = STRBUF_INIT;
	int rc = vm_fs_read(&sb, path, BOOT_STATE_CAP, err);
	if (rc) {
		strbuf_release(&sb);
		return rc;
	}
	struct vm_boot b;
	memset(&b, 0, sizeof(b));
	int64_t v;
	char *save = NULL;
	for (char *l = strtok_r(sb.buf, "\n", &save); l && !rc; l = strtok_r(NULL, "\n", &save)) {
		char *eq = strchr(l, '=');
		if (!eq || l[0] == '#')
			continue;
		*eq = '\0';
		const char *val = eq + 1;
		if (!strcmp(l, "boot_id") && !b.boot_id)
			b.boot_id = xstrdup(val);
		else if (!strcmp(l, "accel") && !b.accel)
			b.accel = xstrdup(val);
		else if (!strcmp(l, "ssh_port") && !parse_int64(&v, val, 1, 65535))
			b.ssh_port = (int)v;
		else if (!strcmp(l, "pid") && !parse_int64(&v, val, 1, INT32_MAX))
			b.pid = (pid_t)v;
		else if (!strcmp(l, "started") && !parse_int64(&v, val, 0, INT64_MAX))
			b.started = v;
	}
	strbuf_release(&sb);
	if (!b.boot_id || !b.ssh_port || !b.accel) {
		vm_boot_release(&b);
		return berth_error_set(err, BERTH_E_PARSE, "\"%s\" is damaged (boot_id, ssh_port or accel missing)",
				       path);
	}
	*out = b;
	return 0;
}

int vm_boot_save(const struct vm_boot *b, const char *path, struct berth_error *err)
{
	struct strbuf sb = STRBUF_INIT;
	strbuf_addf(&sb, "boot_id=%s\nssh_port=%d\naccel=%s\npid=%d\nstarted=%lld\n", b->boot_id, b->ssh_port, b->accel,
		    (int)b->pid, (long long)b->started);
	int rc = vm_fs_write_atomic(path, sb.buf, sb.len, 0644, err);
	strbuf_release(&sb);
	return rc;
}

int vm_pidfile_read(pid_t *pid, pid_t *holder, const char *path, struct berth_error *err)
{
	char eb[128];
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return berth_error_set(err, errno == ENOENT ? BERTH_E_NOTFOUND : BERTH_E_IO, "cannot open \"%s\": %s",
				       path, strerror_r(errno, eb, sizeof(eb)));
	char buf[32];
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	int64_t v;
	*pid = 0;
	if (n > 0) {
		buf[n] = '\0';
		char *nl = strchr(buf, '\n');
		if (nl)
			*nl = '\0';
		if (!parse_int64(&v, buf, 1, INT32_MAX))
			*pid = (pid_t)v;
	}
	/* QEMU takes an fcntl write lock on the whole file and keeps it until
	 * it exits (qemu_write_pidfile); F_GETLK names the holder. A pid number
	 * alone could belong to an unrelated process after a reboot. */
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0};
	*holder = 0;
	if (fcntl(fd, F_GETLK, &fl) == 0 && fl.l_type != F_UNLCK)
		*holder = fl.l_pid;
	return 0;
}

void vm_observation_release(struct vm_observation *o)
{
	free(o->config_error);
	free(o->accel);
	free(o->boot_id);
	free(o->qmp_status);
	free(o->qmp_error);
	free(o->guest_error);
	free(o->last_error);
	free(o->serial_log);
	memset(o, 0, sizeof(*o));
}

static char *one_line(const char *s)
{
	struct strbuf sb = STRBUF_INIT;
	strbuf_addstr(&sb, s);
	strbuf_trim(&sb);
	for (size_t i = 0; i < sb.len; i++)
		if (sb.buf[i] == '\n' || sb.buf[i] == '\r')
			sb.buf[i] = ' ';
	return strbuf_detach(&sb, NULL);
}

/* True when /proc/<pid>/cmdline has arg as one of its words: the process
 * with that pid is this instance's QEMU, not another that reused the pid.
 * False where there is no /proc (macOS): berth then trusts the pid file alone. */
static bool cmdline_has(pid_t pid, const char *arg)
{
	struct strbuf sb = STRBUF_INIT;
	char *path = xstrfmt("/proc/%d/cmdline", (int)pid);
	bool found = false;
	if (!vm_fs_read(&sb, path, 1u << 20, NULL))
		for (size_t i = 0; i < sb.len && !found; i += strlen(sb.buf + i) + 1)
			found = !strcmp(sb.buf + i, arg);
	free(path);
	strbuf_release(&sb);
	return found;
}

void vm_state_observe(struct vm_observation *o, const struct vm_paths *p, bool query_qmp, bool check_lock)
{
	struct berth_error err = BERTH_ERROR_INIT;
	memset(o, 0, sizeof(*o));
	o->serial_log = xstrdup(p->serial_log);

	struct vm_config c;
	if (vm_config_load(&c, p->config, &err)) {
		struct strbuf sb = STRBUF_INIT;
		berth_error_format(&err, &sb);
		o->config_error = strbuf_detach(&sb, NULL);
		berth_error_release(&err);
	} else {
		vm_config_release(&c);
	}
	o->disk_present = vm_fs_exists(p->disk);

	if (!vm_pidfile_read(&o->pidfile_pid, &o->lock_holder, p->pidfile, &err))
		o->pidfile_present = true;
	berth_error_release(&err);

	struct vm_boot b;
	if (!vm_boot_load(&b, p->state, &err)) {
		o->boot_present = true;
		o->boot_pid = b.pid;
		o->boot_pid_alive =
			b.pid > 0 && (kill(b.pid, 0) == 0 || errno == EPERM) && cmdline_has(b.pid, p->pidfile);
		o->ssh_port = b.ssh_port;
		o->accel = xstrdup(b.accel);
		o->boot_id = xstrdup(b.boot_id);
		vm_boot_release(&b);
	} else if (err.code != BERTH_E_NOTFOUND) {
		o->boot_present = true; /* damaged: a boot happened */
	}
	berth_error_release(&err);

	o->qmp_skipped = !query_qmp;
	if (o->lock_holder && query_qmp) {
		struct strbuf st = STRBUF_INIT;
		if (!vm_qmp_query_status(&st, p->qmp, QMP_STATUS_TIMEOUT_MS, &err)) {
			o->qmp_ok = true;
			o->qmp_status = strbuf_detach(&st, NULL);
		} else {
			o->qmp_error = xstrdup(err.msg ? err.msg : "?");
		}
		strbuf_release(&st);
		berth_error_release(&err);
	}

	if (o->boot_id) {
		struct vm_serial_scan s;
		vm_serial_scan_init(&s, o->boot_id);
		if (!vm_serial_scan_file(&s, p->serial_log, SERIAL_SCAN_CAP, &err)) {
			o->ready = s.ready;
			o->stage = s.stage;
			if (s.error)
				o->guest_error = xstrdup(s.error);
		}
		berth_error_release(&err);
		vm_serial_scan_release(&s);
	}

	struct strbuf le = STRBUF_INIT;
	if (!vm_fs_read(&le, p->last_error, 4096, &err) && le.len)
		o->last_error = one_line(le.buf);
	berth_error_release(&err);
	strbuf_release(&le);

	if (check_lock) {
		struct lock lk = LOCK_INIT;
		int r = lock_try(&lk, p->dir, VM_LOCK_NAME, &err);
		if (r == LOCK_BUSY)
			o->starting = true;
		lock_release(&lk);
		berth_error_release(&err);
	}
}

void vm_status_release(struct vm_status *s)
{
	free(s->detail);
	free(s->accel);
	free(s->boot_id);
	memset(s, 0, sizeof(*s));
}

const char *vm_state_name(enum vm_state s)
{
	switch (s) {
	case VM_STATE_STOPPED: return "Stopped";
	case VM_STATE_RUNNING: return "Running";
	case VM_STATE_BROKEN: return "Broken";
	}
	return "Broken";
}

static void broken(struct vm_status *out, char *detail)
{
	out->state = VM_STATE_BROKEN;
	out->detail = detail;
}

/* What QMP's run states mean to a user (qapi/run-state.json). */
static const char *qmp_state_reason(const char *st)
{
	if (!strcmp(st, "paused") || !strcmp(st, "suspended"))
		return "the VM is paused";
	if (!strcmp(st, "guest-panicked"))
		return "the guest kernel panicked";
	if (!strcmp(st, "io-error"))
		return "a disk write failed (is the host's disk full?)";
	if (!strcmp(st, "internal-error"))
		return "QEMU hit an internal error";
	if (!strcmp(st, "shutdown"))
		return "the guest shut down but QEMU did not exit";
	return NULL;
}

void vm_state_decide(struct vm_status *out, const struct vm_observation *o)
{
	memset(out, 0, sizeof(*out));
	const char *log = o->serial_log ? o->serial_log : "serial.log";
	if (o->config_error) {
		broken(out, xstrfmt("cannot read the instance config: %s", o->config_error));
		out->qemu_alive = o->lock_holder > 0;
		out->pid = o->lock_holder;
		return;
	}
	if (o->pidfile_present) {
		if (!o->lock_holder) {
			broken(out, xstrfmt("qemu exited unexpectedly (pid %d is gone, its pid file is left); see %s",
					    (int)o->pidfile_pid, log));
			return;
		}
		out->qemu_alive = true;
		out->pid = o->lock_holder;
		out->ssh_port = o->ssh_port;
		out->accel = o->accel ? xstrdup(o->accel) : NULL;
		out->boot_id = o->boot_id ? xstrdup(o->boot_id) : NULL;
		if (!o->boot_id) {
			broken(out,
			       xstrfmt("qemu (pid %d) runs but boot.state is missing or damaged: it was not started by "
				       "this berth, or its start was cut short; `berth vm stop` stops it",
				       (int)o->lock_holder));
			return;
		}
		if (!o->qmp_ok && !o->qmp_skipped) {
			broken(out,
			       xstrfmt("qemu (pid %d) runs but does not answer on QMP (%s); `berth vm stop --force` "
				       "kills it",
				       (int)o->lock_holder, o->qmp_error ? o->qmp_error : "not asked"));
			return;
		}
		const char *why = o->qmp_ok ? qmp_state_reason(o->qmp_status) : NULL;
		if (why) {
			broken(out, xstrfmt("%s (QMP status \"%s\"); see %s", why, o->qmp_status, log));
			return;
		}
		if (o->guest_error) {
			broken(out, xstrfmt("the guest reported an error: %s; see %s", o->guest_error, log));
			return;
		}
		out->state = VM_STATE_RUNNING;
		if (o->ready) {
			out->ready = true;
			out->detail = xstrdup("ready");
		} else {
			out->detail = xstrfmt("%s: waiting for the guest: %s (serial log: %s)",
					      o->starting ? "starting" : "booting, no berth is waiting for it",
					      vm_stage_name(o->stage), log);
		}
		return;
	}
	if (o->boot_present && o->boot_pid_alive && o->boot_pid > 0 && !o->starting) {
		/* The pid file is gone but the process it named is there. It may be
		 * an unrelated process that reused the pid: say so rather than guess. */
		broken(out, xstrfmt("qemu.pid is missing but pid %d from boot.state exists; if it is this VM's qemu, "
				    "stop it by hand",
				    (int)o->boot_pid));
		out->pid = o->boot_pid;
		return;
	}
	if (!o->disk_present) {
		broken(out, xstrdup("the instance disk disk.qcow2 is missing"));
		return;
	}
	if (o->last_error) {
		broken(out, xstrfmt("the last start failed: %s", o->last_error));
		return;
	}
	out->state = VM_STATE_STOPPED;
	if (o->starting)
		out->detail = xstrdup("another berth is working on it (starting, stopping or removing)");
	else if (o->boot_present)
		out->detail = xstrdup("the guest powered off");
}
