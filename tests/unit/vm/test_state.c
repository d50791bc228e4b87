/* vm/state.c: the status decision table row by row, then observation of a
 * real instance directory: QEMU's pid-file lock held by another process, a
 * fake QMP socket, the serial log, boot.state and last-error. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/error.h"
#include "common/proc.h"
#include "common/strbuf.h"
#include "vm/fsutil.h"
#include "vm/instance.h"
#include "vm/state.h"
#include "fake_qmp.h"
#include "common/banned.h"

/* --- the table ------------------------------------------------------------------------------ */

static struct vm_observation running_obs(void)
{
	struct vm_observation o;
	memset(&o, 0, sizeof(o));
	o.disk_present = true;
	o.pidfile_present = true;
	o.pidfile_pid = 4242;
	o.lock_holder = 4242;
	o.boot_present = true;
	o.boot_pid = 4242;
	o.ssh_port = 40001;
	o.accel = "tcg";
	o.boot_id = "1795356371-0a0b0c0d";
	o.qmp_ok = true;
	o.qmp_status = "running";
	o.ready = true;
	o.stage = VM_STAGE_READY;
	o.serial_log = "/vm/serial.log";
	return o;
}

static void expect(const struct vm_observation *o, enum vm_state st, bool ready, const char *detail_part)
{
	struct vm_status s;
	vm_state_decide(&s, o);
	if (s.state != st)
		fail_msg("state %s, want %s (%s)", vm_state_name(s.state), vm_state_name(st), s.detail ? s.detail : "");
	assert_int_equal(s.ready, ready);
	if (!detail_part)
		assert_null(s.detail);
	else if (!s.detail || !strstr(s.detail, detail_part))
		fail_msg("detail \"%s\" lacks \"%s\"", s.detail ? s.detail : "(null)", detail_part);
	vm_status_release(&s);
}

static void test_table(void **state)
{
	struct vm_observation o = running_obs();
	expect(&o, VM_STATE_RUNNING, true, "ready");
	struct vm_status s;
	vm_state_decide(&s, &o);
	assert_int_equal(s.pid, 4242);
	assert_int_equal(s.ssh_port, 40001);
	assert_string_equal(s.accel, "tcg");
	assert_true(s.qemu_alive);
	vm_status_release(&s);

	/* Booting: the stage, and whether a berth is waiting. */
	o.ready = false;
	o.stage = VM_STAGE_SEED;
	o.starting = true;
	expect(&o, VM_STATE_RUNNING, false, "starting: waiting for the guest: seed");
	o.starting = false;
	expect(&o, VM_STATE_RUNNING, false, "no berth is waiting");

	/* The guest gave up. */
	o.guest_error = "sshd-not-ready";
	expect(&o, VM_STATE_BROKEN, false, "the guest reported an error: sshd-not-ready; see /vm/serial.log");
	o.guest_error = NULL;

	/* QMP. */
	o.qmp_status = "paused";
	expect(&o, VM_STATE_BROKEN, false, "paused");
	o.qmp_status = "guest-panicked";
	expect(&o, VM_STATE_BROKEN, false, "kernel panicked");
	o.qmp_status = "io-error";
	expect(&o, VM_STATE_BROKEN, false, "disk full");
	o.qmp_status = "running";
	o.qmp_ok = false;
	o.qmp_error = "cannot connect";
	expect(&o, VM_STATE_BROKEN, false, "does not answer on QMP (cannot connect)");
	vm_state_decide(&s, &o);
	assert_true(s.qemu_alive);
	vm_status_release(&s);
	/* Not asked (a new SSH connection): the pid-file lock is enough. */
	o.qmp_skipped = true;
	o.qmp_error = NULL;
	expect(&o, VM_STATE_RUNNING, false, "waiting for the guest: seed");
	o.qmp_skipped = false;
	o.qmp_ok = true;

	/* QEMU runs, but not from a boot this berth recorded. */
	o.boot_id = NULL;
	expect(&o, VM_STATE_BROKEN, false, "boot.state is missing");
	o.boot_id = "1795356371-0a0b0c0d";

	/* The pid file is left, nobody holds its lock: QEMU died (kill -9, crash). */
	o.lock_holder = 0;
	expect(&o, VM_STATE_BROKEN, false,
	       "qemu exited unexpectedly (pid 4242 is gone, its pid file is left); see /vm/serial.log");
	vm_state_decide(&s, &o);
	assert_false(s.qemu_alive);
	vm_status_release(&s);

	/* No pid file. */
	o.pidfile_present = false;
	o.pidfile_pid = 0;
	expect(&o, VM_STATE_STOPPED, false, "the guest powered off"); /* QEMU removed it on a clean exit */
	o.boot_present = false;
	expect(&o, VM_STATE_STOPPED, false, NULL);
	o.starting = true;
	expect(&o, VM_STATE_STOPPED, false, "another berth");
	o.starting = false;
	o.last_error = "the guest was not ready after 300 s";
	expect(&o, VM_STATE_BROKEN, false, "the last start failed: the guest was not ready after 300 s");
	o.last_error = NULL;
	o.disk_present = false;
	expect(&o, VM_STATE_BROKEN, false, "disk.qcow2 is missing");
	o.disk_present = true;

	/* boot.state names a live process whose pid file is gone. */
	o.boot_present = true;
	o.boot_pid_alive = true;
	expect(&o, VM_STATE_BROKEN, false, "qemu.pid is missing but pid 4242");
	o.boot_pid_alive = false;

	/* A config that does not load wins over everything. */
	o.config_error = "config:3: error: cpus: invalid number";
	expect(&o, VM_STATE_BROKEN, false, "cannot read the instance config");
}

/* --- observation ---------------------------------------------------------------------------- */

static char dir[] = "/tmp/berth-vm-state-XXXXXX";

static int setup(void **state)
{
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	return vm_fs_remove_tree(dir, NULL);
}

static void put(const char *path, const char *text)
{
	assert_int_equal(vm_fs_write_atomic(path, text, strlen(text), 0644, NULL), 0);
}

/* A child that takes QEMU's kind of lock on the pid file and waits. */
static pid_t lock_holder_child(const char *pidfile, int *release_fd)
{
	int ready[2], release[2];
	assert_int_equal(pipe(ready), 0);
	assert_int_equal(pipe(release), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(ready[0]);
		close(release[1]);
		int fd = open(pidfile, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
		if (fd < 0 || fcntl(fd, F_SETLK, &fl) < 0)
			_exit(1);
		char b[32];
		int n = snprintf(b, sizeof(b), "%d\n", (int)getpid());
		if (write(fd, b, (size_t)n) != n || write(ready[1], "y", 1) != 1)
			_exit(1);
		char c;
		(void)read(release[0], &c, 1);
		_exit(0);
	}
	close(ready[1]);
	close(release[0]);
	char c;
	assert_int_equal(read(ready[0], &c, 1), 1);
	close(ready[0]);
	*release_fd = release[1];
	return pid;
}

static void test_observe(void **state)
{
	struct vm_paths p;
	struct berth_error err = BERTH_ERROR_INIT;
	assert_int_equal(vm_paths_init(&p, dir, "obs", &err), 0);
	assert_int_equal(vm_fs_mkdir_p(p.dir, 0700, &err), 0);
	put(p.config, "version=1\nname=obs\ncpus=1\nmemory_mib=512\ndisk_bytes=0\nimage=/x\nimage_sha256="
		      "2ab1e0fcda344eaf3879f1df6798ab1bca05378999bf34066afd99d0f5c77b71\ncmdline=root=/dev/vda\n"
		      "user=root\n");
	put(p.disk, "qcow2");

	/* Nothing running. */
	struct vm_observation o;
	struct vm_status s;
	vm_state_observe(&o, &p, true, true);
	vm_state_decide(&s, &o);
	assert_int_equal(s.state, VM_STATE_STOPPED);
	assert_null(s.detail);
	vm_status_release(&s);
	vm_observation_release(&o);

	/* A "QEMU": the pid-file lock, QMP, boot.state, a serial log still booting. */
	int release;
	pid_t child = lock_holder_child(p.pidfile, &release);
	struct fake_qmp f;
	assert_int_equal(fake_qmp_start(&f, p.qmp, 2, "running"), 0);
	struct vm_boot b = {.boot_id = "42-cafe", .ssh_port = 40002, .accel = "tcg", .pid = child, .started = 1};
	assert_int_equal(vm_boot_save(&b, p.state, &err), 0);
	put(p.serial_log, "Loading, please wait...\r\n\x1b[0;32mWelcome to\x1b[0m Debian\r\nBERTH-READY 41-old\r\n");
	vm_state_observe(&o, &p, true, true);
	assert_int_equal(o.lock_holder, child);
	assert_int_equal(o.pidfile_pid, child);
	assert_true(o.qmp_ok);
	assert_string_equal(o.qmp_status, "running");
	assert_false(o.ready); /* another boot's READY does not count */
	assert_int_equal(o.stage, VM_STAGE_SYSTEMD);
	vm_state_decide(&s, &o);
	assert_int_equal(s.state, VM_STATE_RUNNING);
	assert_false(s.ready);
	assert_non_null(strstr(s.detail, "systemd starting services"));
	vm_status_release(&s);
	vm_observation_release(&o);

	/* Ready. */
	FILE *fp = fopen(p.serial_log, "a");
	fputs("\nBERTH-HOSTKEY 42-cafe ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMR5\nBERTH-READY 42-cafe\n", fp);
	fclose(fp);
	vm_state_observe(&o, &p, true, true);
	vm_state_decide(&s, &o);
	assert_int_equal(s.state, VM_STATE_RUNNING);
	assert_true(s.ready);
	assert_int_equal(s.ssh_port, 40002);
	vm_status_release(&s);
	vm_observation_release(&o);
	fake_qmp_join(&f);

	/* QEMU dies without cleaning up: Broken, with the serial log named. */
	close(release);
	int wst;
	assert_int_equal(waitpid(child, &wst, 0), child);
	vm_state_observe(&o, &p, true, true);
	assert_true(o.pidfile_present);
	assert_int_equal(o.lock_holder, 0);
	vm_state_decide(&s, &o);
	assert_int_equal(s.state, VM_STATE_BROKEN);
	assert_non_null(strstr(s.detail, "qemu exited unexpectedly"));
	assert_non_null(strstr(s.detail, p.serial_log));
	vm_status_release(&s);
	vm_observation_release(&o);

	/* A failed start is remembered until the next one. */
	unlink(p.pidfile);
	unlink(p.state);
	put(p.last_error, "the guest was not ready after 300 s\n");
	vm_state_observe(&o, &p, true, true);
	vm_state_decide(&s, &o);
	assert_int_equal(s.state, VM_STATE_BROKEN);
	assert_string_equal(s.detail, "the last start failed: the guest was not ready after 300 s");
	vm_status_release(&s);
	vm_observation_release(&o);

	/* A damaged config. */
	unlink(p.last_error);
	put(p.config, "version=1\ncpus=lots\n");
	vm_state_observe(&o, &p, false, false);
	vm_state_decide(&s, &o);
	assert_int_equal(s.state, VM_STATE_BROKEN);
	assert_non_null(strstr(s.detail, "invalid number"));
	vm_status_release(&s);
	vm_observation_release(&o);
	vm_paths_release(&p);
}

static void test_boot_state_file(void **state)
{
	char *path = xstrfmt("%s/boot.state", dir);
	struct vm_boot b = {.boot_id = "1-ab", .ssh_port = 2222, .accel = "kvm", .pid = 77, .started = 99}, c;
	struct berth_error err = BERTH_ERROR_INIT;
	assert_int_equal(vm_boot_save(&b, path, &err), 0);
	assert_int_equal(vm_boot_load(&c, path, &err), 0);
	assert_string_equal(c.boot_id, "1-ab");
	assert_int_equal(c.ssh_port, 2222);
	assert_string_equal(c.accel, "kvm");
	assert_int_equal(c.pid, 77);
	assert_int_equal(c.started, 99);
	vm_boot_release(&c);
	put(path, "boot_id=x\n");
	assert_int_equal(vm_boot_load(&c, path, &err), BERTH_E_PARSE);
	berth_error_release(&err);
	unlink(path);
	assert_int_equal(vm_boot_load(&c, path, &err), BERTH_E_NOTFOUND);
	berth_error_release(&err);
	free(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_observe),
		cmocka_unit_test(test_boot_state_file),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
