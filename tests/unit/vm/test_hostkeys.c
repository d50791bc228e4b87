/* vm/hostkeys.c: pinning at first boot, refusing a changed key later. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/error.h"
#include "common/strbuf.h"
#include "common/strvec.h"
#include "vm/fsutil.h"
#include "vm/hostkeys.h"
#include "common/banned.h"

static void test_pin_then_check(void **state)
{
	char dir[] = "/tmp/berth-vm-hostkeys-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char *path = xstrfmt("%s/known_hosts", dir);
	struct strvec first = STRVEC_INIT, same = STRVEC_INIT, changed = STRVEC_INIT, other_type = STRVEC_INIT,
		      none = STRVEC_INIT, loaded = STRVEC_INIT;
	strvec_pushl(&first, "ssh-ed25519 AAAAED1", "ecdsa-sha2-nistp256 AAAAEC1", NULL);
	strvec_pushl(&same, "ecdsa-sha2-nistp256 AAAAEC1", "ssh-ed25519 AAAAED1", NULL);
	strvec_pushl(&changed, "ssh-ed25519 AAAAED2", "ecdsa-sha2-nistp256 AAAAEC1", NULL);
	strvec_pushl(&other_type, "ssh-rsa AAAARSA", NULL);
	struct berth_error err = BERTH_ERROR_INIT;
	bool pinned = false;

	assert_int_equal(vm_hostkeys_check_or_pin(path, "berth-x", &none, &pinned, &err), BERTH_E_INVALID);
	berth_error_release(&err);
	assert_false(vm_fs_exists(path));

	assert_int_equal(vm_hostkeys_check_or_pin(path, "berth-x", &first, &pinned, &err), 0);
	assert_true(pinned);
	struct strbuf text = STRBUF_INIT;
	assert_int_equal(vm_fs_read(&text, path, 4096, &err), 0);
	assert_non_null(strstr(text.buf, "\nberth-x ssh-ed25519 AAAAED1\nberth-x ecdsa-sha2-nistp256 AAAAEC1\n"));
	assert_int_equal(vm_hostkeys_load(&loaded, path, &err), 0);
	assert_int_equal(loaded.nr, 2);
	assert_true(vm_hostkeys_contains(&loaded, "ssh-ed25519", "AAAAED1"));
	assert_false(vm_hostkeys_contains(&loaded, "ssh-ed25519", "AAAAED2"));
	assert_false(vm_hostkeys_contains(&loaded, "ssh-ed2551", "9 AAAAED1"));

	assert_int_equal(vm_hostkeys_check_or_pin(path, "berth-x", &same, &pinned, &err), 0);
	assert_false(pinned);
	assert_int_equal(vm_hostkeys_check_or_pin(path, "berth-x", &changed, &pinned, &err), BERTH_E_INVALID);
	assert_non_null(strstr(err.msg, "ssh-ed25519 host key is not the one pinned"));
	berth_error_release(&err);
	assert_int_equal(vm_hostkeys_check_or_pin(path, "berth-x", &other_type, &pinned, &err), BERTH_E_INVALID);
	berth_error_release(&err);
	/* The pinned file is unchanged by the refusals. */
	strbuf_reset(&text);
	assert_int_equal(vm_fs_read(&text, path, 4096, &err), 0);
	assert_non_null(strstr(text.buf, "AAAAED1"));
	assert_null(strstr(text.buf, "AAAAED2"));

	const char *bad = "berth-x ssh-ed25519\n";
	assert_int_equal(vm_fs_write_atomic(path, bad, strlen(bad), 0644, &err), 0);
	strvec_clear(&loaded);
	assert_int_equal(vm_hostkeys_load(&loaded, path, &err), BERTH_E_PARSE);
	assert_int_equal(err.line, 1);
	berth_error_release(&err);

	unlink(path);
	rmdir(dir);
	free(path);
	strbuf_release(&text);
	strvec_clear(&first);
	strvec_clear(&same);
	strvec_clear(&changed);
	strvec_clear(&other_type);
	strvec_clear(&loaded);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pin_then_check),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
