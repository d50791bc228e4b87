/* vm/serial.c: the readiness protocol on the serial console. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/error.h"
#include "common/strbuf.h"
#include "vm/fsutil.h"
#include "vm/serial.h"
#include "common/banned.h"

/* What a real boot printed (ttyS0, CRLF, systemd's colours), cut down. */
static const char *const BOOT =
	"Loading, please wait...\r\n"
	"Starting systemd-udevd version 252.39-1~deb12u2\r\n"
	"\r\n\x1b[0;1;39mWelcome to \x1b[0m\x1b[1mDebian GNU/Linux 12 (bookworm)\x1b[0m!\r\n"
	"[\x1b[0;32m  OK  \x1b[0m] Reached target \x1b[0;1;39mbasic.target\x1b[0m - Basic System.\r\n"
	"         Starting \x1b[0;1;39mberth-seed.servic\xe2\x80\xa6r-boot seed (9p tag berth-seed)...\r\n"
	"berth login: [   89.203999] seed[222]: berth-seed: boot id b1\r\n"
	"\r\nBERTH-HOSTKEY b1 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMR5\r\n"
	"\r\nBERTH-HOSTKEY b1 ecdsa-sha2-nistp256 AAAAE2VjZHNh\r\n"
	"\r\nBERTH-READY b1\r\n";

static void test_whole_boot_any_split(void **state)
{
	size_t n = strlen(BOOT);
	/* Every chunk size from 1 byte to the whole log gives the same result. */
	for (size_t chunk = 1; chunk <= n; chunk += (chunk < 16 ? 1 : 37)) {
		struct vm_serial_scan s;
		vm_serial_scan_init(&s, "b1");
		enum vm_stage seen_seed = VM_STAGE_FIRMWARE;
		for (size_t off = 0; off < n; off += chunk) {
			vm_serial_scan_feed(&s, BOOT + off, off + chunk < n ? chunk : n - off);
			if (s.stage == VM_STAGE_SEED)
				seen_seed = VM_STAGE_SEED;
		}
		assert_true(s.ready);
		assert_int_equal(s.stage, VM_STAGE_READY);
		assert_null(s.error);
		assert_int_equal(s.hostkeys.nr, 2);
		assert_string_equal(s.hostkeys.v[0], "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMR5");
		assert_string_equal(s.hostkeys.v[1], "ecdsa-sha2-nistp256 AAAAE2VjZHNh");
		if (chunk < 64)
			assert_int_equal(seen_seed, VM_STAGE_SEED);
		vm_serial_scan_release(&s);
	}
}

static void test_stages(void **state)
{
	struct vm_serial_scan s;
	vm_serial_scan_init(&s, "b1");
	assert_int_equal(s.stage, VM_STAGE_FIRMWARE);
	vm_serial_scan_feed(&s, "Loading, please wait...\r\n", 25);
	assert_int_equal(s.stage, VM_STAGE_KERNEL);
	vm_serial_scan_feed(&s, "Welcome to Debian\n", 18);
	assert_int_equal(s.stage, VM_STAGE_SYSTEMD);
	vm_serial_scan_feed(&s, "Starting berth-seed.service\n", 28);
	assert_int_equal(s.stage, VM_STAGE_SEED);
	vm_serial_scan_feed(&s, "berth-seed: boot id b1\n", 23);
	assert_int_equal(s.stage, VM_STAGE_SERVICES);
	/* Stages never go back. */
	vm_serial_scan_feed(&s, "Loading, please wait...\n", 24);
	assert_int_equal(s.stage, VM_STAGE_SERVICES);
	assert_string_equal(vm_stage_name(VM_STAGE_KERNEL), "kernel booting");
	vm_serial_scan_release(&s);
}

static void test_other_boots_and_errors(void **state)
{
	struct vm_serial_scan s;
	vm_serial_scan_init(&s, "b2");
	const char *t = "BERTH-READY b1\nBERTH-READY b22\nBERTH-READY b2 extra\nBERTH-HOSTKEY b1 ssh-ed25519 AAAA\n"
			"BERTH-ERROR b1 sshd-not-ready\nxBERTH-READY b2\n";
	vm_serial_scan_feed(&s, t, strlen(t));
	assert_false(s.ready);
	assert_null(s.error);
	assert_int_equal(s.hostkeys.nr, 0);
	vm_serial_scan_feed(&s, "BERTH-ERROR b2 containerd-not-ready\n", 36);
	assert_string_equal(s.error, "containerd-not-ready");
	/* The first error is kept. */
	vm_serial_scan_feed(&s, "BERTH-ERROR b2 other\n", 21);
	assert_string_equal(s.error, "containerd-not-ready");
	vm_serial_scan_release(&s);

	/* No seed at all: the guest cannot know the boot id. */
	vm_serial_scan_init(&s, "b3");
	vm_serial_scan_feed(&s, "\nBERTH-ERROR unknown seed-missing (no 9p share with mount tag berth-seed)\n", 74);
	assert_string_equal(s.error, "seed-missing (no 9p share with mount tag berth-seed)");
	vm_serial_scan_release(&s);
}

static void test_long_lines_and_file(void **state)
{
	char dir[] = "/tmp/berth-vm-serial-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char *path = xstrfmt("%s/serial.log", dir);
	struct strbuf big = STRBUF_INIT;
	for (int i = 0; i < 3 * VM_SERIAL_LINE_MAX; i++)
		strbuf_addch(&big, 'x');
	strbuf_addstr(&big, "\nBERTH-READY b9\n");
	assert_int_equal(vm_fs_write_atomic(path, big.buf, big.len - 8, 0644, NULL), 0);

	struct vm_serial_scan s;
	struct berth_error err = BERTH_ERROR_INIT;
	vm_serial_scan_init(&s, "b9");
	assert_int_equal(vm_serial_scan_file(&s, path, 1u << 20, &err), 0);
	assert_false(s.ready); /* "BERTH-RE" so far */
	assert_int_equal(vm_fs_write_atomic(path, big.buf, big.len, 0644, NULL), 0);
	assert_int_equal(vm_serial_scan_file(&s, path, 1u << 20, &err), 0);
	assert_true(s.ready);
	assert_int_equal(s.offset, big.len);
	/* The per-call cap: reads stop there and go on next time. */
	vm_serial_scan_release(&s);
	vm_serial_scan_init(&s, "b9");
	assert_int_equal(vm_serial_scan_file(&s, path, 100, &err), 0);
	assert_int_equal(s.offset, 100);
	vm_serial_scan_release(&s);

	/* A missing file is nothing new. */
	unlink(path);
	vm_serial_scan_init(&s, "b9");
	assert_int_equal(vm_serial_scan_file(&s, path, 100, &err), 0);
	assert_int_equal(s.offset, 0);
	vm_serial_scan_release(&s);

	/* tail: last lines, escapes and CRs removed, blank lines skipped. */
	const char *t = "one\r\n\x1b[0;32mtwo\x1b[0m\r\n\r\nthree\r\nfour";
	assert_int_equal(vm_fs_write_atomic(path, t, strlen(t), 0644, NULL), 0);
	struct strbuf out = STRBUF_INIT;
	vm_serial_tail(&out, path, 3, "| ");
	assert_string_equal(out.buf, "| two\n| three\n| four\n");
	unlink(path);
	strbuf_reset(&out);
	vm_serial_tail(&out, path, 3, "| ");
	assert_string_equal(out.buf, "");
	rmdir(dir);
	free(path);
	strbuf_release(&out);
	strbuf_release(&big);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_whole_boot_any_split),
		cmocka_unit_test(test_stages),
		cmocka_unit_test(test_other_boots_and_errors),
		cmocka_unit_test(test_long_lines_and_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
