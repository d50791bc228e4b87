/* vm/dynlib.c: libcurl and libssh2 load and resolve every function berth
 * uses on this machine (and only on first use: berth itself links neither);
 * a missing library or symbol gives the error that says what to install, and
 * gives it again on every later call without a second attempt. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dlfcn.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "vm/dynlib.h"
#include "vm/http.h"
#include "vm/ssh.h"
#include "common/banned.h"

/* RTLD_NOLOAD: is it in the process already (without loading it)? */
static bool loaded(const char *soname)
{
	void *h = dlopen(soname, RTLD_NOW | RTLD_NOLOAD);
	if (h)
		dlclose(h);
	return h != NULL;
}

static void test_real_libraries(void **state)
{
	struct berth_error err = BERTH_ERROR_INIT;
	/* The test binary links berthcore as berth does: nothing loaded yet. */
	assert_false(loaded("libcurl.so.4"));
	assert_false(loaded("libssh2.so.1"));

	/* vm_dynlib_load() fails unless every symbol of the table resolved.
	 * libssh2 first: Debian's libcurl depends on it, not the reverse. */
	int rc = vm_ssh_load(&err);
	if (rc)
		fail_msg("%s", err.msg);
	assert_true(loaded("libssh2.so.1"));
	assert_false(loaded("libcurl.so.4"));
	rc = vm_http_load(&err);
	if (rc)
		fail_msg("%s", err.msg);
	assert_true(loaded("libcurl.so.4"));

	/* Again: already loaded, no error. */
	assert_int_equal(vm_http_load(&err), 0);
	assert_int_equal(vm_ssh_load(&err), 0);
	assert_int_equal(err.code, 0);
	assert_null(err.msg);
}

struct fake_api {
	void (*fn)(void);
	void (*other)(void);
};

static int init_calls;

static int count_init(struct berth_error *err)
{
	init_calls++;
	return 0;
}

static void test_missing_library(void **state)
{
	struct berth_error err = BERTH_ERROR_INIT;
	struct fake_api api = {NULL, NULL};
	static const struct vm_dynlib_sym syms[] = {{"curl_easy_init", offsetof(struct fake_api, fn)}};
	struct vm_dynlib lib = {
		.soname = "libberth-no-such-library.so.4",
		.purpose = "to download images",
		.package = "libcurl4",
		.syms = syms,
		.syms_nr = ARRAY_SIZE(syms),
		.table = &api,
		.table_size = sizeof(api),
		.init = count_init,
		VM_DYNLIB_STATE_INIT,
	};
	init_calls = 0;
	assert_int_equal(vm_dynlib_load(&lib, &err), BERTH_E_IO);
	assert_non_null(err.msg);
	const char *want = "cannot load libberth-no-such-library.so.4 (needed by berth vm to download images): ";
	assert_memory_equal(err.msg, want, strlen(want));
	assert_non_null(strstr(err.msg, "cannot open shared object file"));
	const char *tail = "; install libcurl4 (apt-get install libcurl4)";
	assert_true(strlen(err.msg) > strlen(tail));
	assert_string_equal(err.msg + strlen(err.msg) - strlen(tail), tail);
	assert_null(api.fn);
	assert_int_equal(init_calls, 0);

	/* Every later call: the same error, without trying again. */
	struct berth_error again = BERTH_ERROR_INIT;
	assert_int_equal(vm_dynlib_load(&lib, &again), BERTH_E_IO);
	assert_string_equal(again.msg, err.msg);
	assert_int_equal(vm_dynlib_load(&lib, NULL), BERTH_E_IO);
	berth_error_release(&again);
	berth_error_release(&err);
	berth_error_release(&lib.error);
}

static void test_missing_symbol(void **state)
{
	struct berth_error err = BERTH_ERROR_INIT;
	struct fake_api api = {NULL, NULL};
	/* libc is there; its second symbol is not: nothing of the table is written. */
	static const struct vm_dynlib_sym syms[] = {
		{"getpid", offsetof(struct fake_api, fn)},
		{"berth_no_such_function", offsetof(struct fake_api, other)},
	};
	struct vm_dynlib lib = {
		.soname = "libc.so.6",
		.purpose = "for SSH to the VM",
		.package = "libssh2-1",
		.syms = syms,
		.syms_nr = ARRAY_SIZE(syms),
		.table = &api,
		.table_size = sizeof(api),
		.init = count_init,
		VM_DYNLIB_STATE_INIT,
	};
	init_calls = 0;
	assert_int_equal(vm_dynlib_load(&lib, &err), BERTH_E_IO);
	const char *want = "cannot load libc.so.6 (needed by berth vm for SSH to the VM): ";
	assert_memory_equal(err.msg, want, strlen(want));
	assert_non_null(strstr(err.msg, "berth_no_such_function"));
	assert_non_null(strstr(err.msg, "; install libssh2-1 (apt-get install libssh2-1)"));
	assert_null(api.fn);
	assert_null(api.other);
	assert_int_equal(init_calls, 0);
	berth_error_release(&err);
	berth_error_release(&lib.error);
}

static int fail_init(struct berth_error *err)
{
	init_calls++;
	return berth_error_set(err, BERTH_E_INTERNAL, "libfake_init failed (-1)");
}

static void test_init_once(void **state)
{
	struct berth_error err = BERTH_ERROR_INIT;
	struct fake_api api = {NULL, NULL}, api2 = {NULL, NULL};
	static const struct vm_dynlib_sym syms[] = {{"getpid", offsetof(struct fake_api, fn)}};
	struct vm_dynlib ok = {
		.soname = "libc.so.6",
		.purpose = "for tests",
		.package = "libc6",
		.syms = syms,
		.syms_nr = ARRAY_SIZE(syms),
		.table = &api,
		.table_size = sizeof(api),
		.init = count_init,
		VM_DYNLIB_STATE_INIT,
	};
	init_calls = 0;
	for (int i = 0; i < 3; i++)
		assert_int_equal(vm_dynlib_load(&ok, &err), 0);
	assert_int_equal(init_calls, 1);
	assert_non_null(api.fn);
	assert_int_equal(((pid_t(*)(void))api.fn)(), getpid());

	/* A failing init: its own error, every time, init called once. */
	struct vm_dynlib bad = {
		.soname = "libc.so.6",
		.purpose = "for tests",
		.package = "libc6",
		.syms = syms,
		.syms_nr = ARRAY_SIZE(syms),
		.table = &api2,
		.table_size = sizeof(api2),
		.init = fail_init,
		VM_DYNLIB_STATE_INIT,
	};
	init_calls = 0;
	assert_int_equal(vm_dynlib_load(&bad, &err), BERTH_E_INTERNAL);
	assert_string_equal(err.msg, "libfake_init failed (-1)");
	assert_int_equal(vm_dynlib_load(&bad, &err), BERTH_E_INTERNAL);
	assert_string_equal(err.msg, "libfake_init failed (-1)");
	assert_int_equal(init_calls, 1);
	berth_error_release(&err);
	berth_error_release(&bad.error);
}

static void *load_in_thread(void *lib)
{
	struct berth_error err = BERTH_ERROR_INIT;
	intptr_t rc = vm_dynlib_load(lib, &err);
	berth_error_release(&err);
	return (void *)rc;
}

/* Threads racing for the first load (the SSH transport's sessions do): one load, one init. */
static void test_threads(void **state)
{
	struct fake_api api = {NULL, NULL};
	static const struct vm_dynlib_sym syms[] = {{"getpid", offsetof(struct fake_api, fn)}};
	struct vm_dynlib lib = {
		.soname = "libc.so.6",
		.purpose = "for tests",
		.package = "libc6",
		.syms = syms,
		.syms_nr = ARRAY_SIZE(syms),
		.table = &api,
		.table_size = sizeof(api),
		.init = count_init,
		VM_DYNLIB_STATE_INIT,
	};
	pthread_t th[8];
	init_calls = 0;
	for (size_t i = 0; i < ARRAY_SIZE(th); i++)
		assert_int_equal(pthread_create(&th[i], NULL, load_in_thread, &lib), 0);
	for (size_t i = 0; i < ARRAY_SIZE(th); i++) {
		void *rc = NULL;
		assert_int_equal(pthread_join(th[i], &rc), 0);
		assert_null(rc);
	}
	assert_int_equal(init_calls, 1);
	assert_non_null(api.fn);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_real_libraries), cmocka_unit_test(test_missing_library),
		cmocka_unit_test(test_missing_symbol), cmocka_unit_test(test_init_once),
		cmocka_unit_test(test_threads),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
