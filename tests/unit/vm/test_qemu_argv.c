/* vm/qemu_argv.c: the exact QEMU command line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "common/strbuf.h"
#include "common/strvec.h"
#include "vm/config.h"
#include "vm/qemu_argv.h"
#include "common/banned.h"

static void assert_argv(const struct strvec *got, const char *const *want)
{
	size_t n = 0;
	while (want[n])
		n++;
	for (size_t i = 0; i < n && i < got->nr; i++)
		if (strcmp(got->v[i], want[i]))
			fail_msg("argv[%zu]: got \"%s\", want \"%s\"", i, got->v[i], want[i]);
	assert_int_equal(got->nr, n);
	assert_null(got->v[n]);
}

static void test_tcg_with_mounts(void **state)
{
	struct vm_mount mounts[] = {{"/home/ann", false}, {"/data/a,b", true}};
	struct vm_qemu_spec s = {
		.qemu = "qemu-system-x86_64",
		.name = "default",
		.accel = "tcg",
		.cpus = 2,
		.memory_mib = 2048,
		.kernel = "/i/vmlinuz",
		.initrd = "/i/initrd.img",
		.cmdline = "root=/dev/vda rw console=ttyS0,115200",
		.disk = "/i/disk.qcow2",
		.ssh_port = 41234,
		.seed_dir = "/i/seed",
		.mounts = mounts,
		.mounts_nr = 2,
		.serial_log = "/i/serial.log",
		.qmp = "/i/qmp.sock",
		.pidfile = "/i/qemu.pid",
		.daemonize = true,
	};
	struct strvec v = STRVEC_INIT;
	vm_qemu_argv(&v, &s);
	const char *const want[] = {
		"qemu-system-x86_64",
		"-name",
		"berth-default,process=berth-default",
		"-machine",
		"q35,vmport=off",
		"-accel",
		"tcg,thread=multi,tb-size=512",
		"-cpu",
		"max",
		"-smp",
		"2",
		"-m",
		"2048",
		"-nodefaults",
		"-display",
		"none",
		"-no-reboot",
		"-kernel",
		"/i/vmlinuz",
		"-initrd",
		"/i/initrd.img",
		"-append",
		"root=/dev/vda rw console=ttyS0,115200",
		"-drive",
		"file=/i/disk.qcow2,if=virtio,format=qcow2,discard=on",
		"-netdev",
		"user,id=net0,hostfwd=tcp:127.0.0.1:41234-:22",
		"-device",
		"virtio-net-pci,netdev=net0",
		"-device",
		"virtio-rng-pci",
		"-virtfs",
		"local,path=/i/seed,mount_tag=berth-seed,security_model=none,readonly=on",
		"-virtfs",
		"local,path=/home/ann,mount_tag=berth-m0,security_model=none",
		"-virtfs",
		"local,path=/data/a,,b,mount_tag=berth-m1,security_model=none,readonly=on",
		"-chardev",
		"file,id=serial0,path=/i/serial.log",
		"-serial",
		"chardev:serial0",
		"-chardev",
		"socket,id=qmp0,path=/i/qmp.sock,server=on,wait=off",
		"-mon",
		"chardev=qmp0,mode=control",
		"-pidfile",
		"/i/qemu.pid",
		"-daemonize",
		NULL,
	};
	assert_argv(&v, want);
	strvec_clear(&v);
}

static void test_kvm_no_mounts_no_daemonize(void **state)
{
	struct vm_qemu_spec s = {
		.qemu = "/opt/q/qemu",
		.name = "ci-1",
		.accel = "kvm",
		.cpus = 4,
		.memory_mib = 4096,
		.kernel = "/k",
		.initrd = "/r",
		.cmdline = "root=/dev/vda",
		.disk = "/d,1.qcow2",
		.ssh_port = 2222,
		.seed_dir = "/s",
		.serial_log = "/l",
		.qmp = "/q",
		.pidfile = "/p",
	};
	struct strvec v = STRVEC_INIT;
	vm_qemu_argv(&v, &s);
	const char *const want[] = {
		"/opt/q/qemu",
		"-name",
		"berth-ci-1,process=berth-ci-1",
		"-machine",
		"q35,vmport=off",
		"-accel",
		"kvm",
		"-cpu",
		"host",
		"-smp",
		"4",
		"-m",
		"4096",
		"-nodefaults",
		"-display",
		"none",
		"-no-reboot",
		"-kernel",
		"/k",
		"-initrd",
		"/r",
		"-append",
		"root=/dev/vda",
		"-drive",
		"file=/d,,1.qcow2,if=virtio,format=qcow2,discard=on",
		"-netdev",
		"user,id=net0,hostfwd=tcp:127.0.0.1:2222-:22",
		"-device",
		"virtio-net-pci,netdev=net0",
		"-device",
		"virtio-rng-pci",
		"-virtfs",
		"local,path=/s,mount_tag=berth-seed,security_model=none,readonly=on",
		"-chardev",
		"file,id=serial0,path=/l",
		"-serial",
		"chardev:serial0",
		"-chardev",
		"socket,id=qmp0,path=/q,server=on,wait=off",
		"-mon",
		"chardev=qmp0,mode=control",
		"-pidfile",
		"/p",
		NULL,
	};
	assert_argv(&v, want);
	strvec_clear(&v);
}

static void test_seed_mounts(void **state)
{
	struct vm_mount mounts[] = {{"/home/ann", false}, {"/srv/data", true}};
	struct strbuf sb = STRBUF_INIT;
	vm_qemu_seed_mounts(&sb, mounts, 2);
	assert_string_equal(sb.buf, "berth-m0 /home/ann rw\nberth-m1 /srv/data ro\n");
	strbuf_reset(&sb);
	vm_qemu_seed_mounts(&sb, mounts, 0);
	assert_string_equal(sb.buf, "");
	vm_qemu_escape(&sb, ",a,,b,");
	assert_string_equal(sb.buf, ",,a,,,,b,,");
	strbuf_release(&sb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tcg_with_mounts),
		cmocka_unit_test(test_kvm_no_mounts_no_daemonize),
		cmocka_unit_test(test_seed_mounts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
