/* vm/qmp.c against a fake QMP server: greeting, capabilities, events skipped, errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/error.h"
#include "common/proc.h"
#include "common/strbuf.h"
#include "vm/qmp.h"
#include "fake_qmp.h"
#include "common/banned.h"

static char dir[] = "/tmp/berth-vm-qmp-XXXXXX";

static int setup(void **state)
{
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char *p = xstrfmt("%s/qmp.sock", dir);
	unlink(p);
	free(p);
	return rmdir(dir);
}

static void test_session(void **state)
{
	char *path = xstrfmt("%s/qmp.sock", dir);
	struct fake_qmp f;
	assert_int_equal(fake_qmp_start(&f, path, 1, "running"), 0);
	struct vm_qmp q = VM_QMP_INIT;
	struct berth_error err = BERTH_ERROR_INIT;
	struct strbuf ret = STRBUF_INIT;
	int64_t dl = proc_deadline_in(5000);
	assert_int_equal(vm_qmp_connect(&q, path, dl, &err), 0);
	assert_int_equal(vm_qmp_execute(&q, "query-status", &ret, dl, &err), 0);
	assert_non_null(strstr(ret.buf, "\"status\":\"running\""));
	strbuf_reset(&ret);
	assert_int_equal(vm_qmp_execute(&q, "system_powerdown", &ret, dl, &err), 0);
	assert_string_equal(ret.buf, "{}");
	assert_int_equal(vm_qmp_execute(&q, "nope", NULL, dl, &err), BERTH_E_ENGINE);
	assert_non_null(strstr(err.msg, "has not been found"));
	berth_error_release(&err);
	vm_qmp_close(&q);
	fake_qmp_join(&f);
	assert_int_equal(f.powerdowns, 1);
	strbuf_release(&ret);
	free(path);
}

static void test_query_status(void **state)
{
	char *path = xstrfmt("%s/qmp.sock", dir);
	struct fake_qmp f;
	assert_int_equal(fake_qmp_start(&f, path, 1, "guest-panicked"), 0);
	struct strbuf st = STRBUF_INIT;
	struct berth_error err = BERTH_ERROR_INIT;
	assert_int_equal(vm_qmp_query_status(&st, path, 5000, &err), 0);
	assert_string_equal(st.buf, "guest-panicked");
	fake_qmp_join(&f);
	strbuf_release(&st);
	free(path);
}

static void test_no_server(void **state)
{
	char *path = xstrfmt("%s/absent.sock", dir);
	struct strbuf st = STRBUF_INIT;
	struct berth_error err = BERTH_ERROR_INIT;
	assert_int_equal(vm_qmp_query_status(&st, path, 1000, &err), BERTH_E_NOTFOUND);
	assert_string_equal(st.buf, "");
	berth_error_release(&err);
	strbuf_release(&st);
	free(path);
}

/* A socket that accepts but never greets: the deadline ends the wait. */
static void test_silent_server(void **state)
{
	char *path = xstrfmt("%s/qmp.sock", dir);
	struct sockaddr_un sa;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	unlink(path);
	int l = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_int_equal(bind(l, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(l, 4), 0);
	struct vm_qmp q = VM_QMP_INIT;
	struct berth_error err = BERTH_ERROR_INIT;
	int64_t t0 = proc_now_ms();
	assert_int_equal(vm_qmp_connect(&q, path, t0 + 300, &err), BERTH_E_TIMEOUT);
	assert_true(proc_now_ms() - t0 < 3000);
	assert_int_equal(q.fd, -1);
	berth_error_release(&err);
	close(l);
	unlink(path);
	free(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_session),
		cmocka_unit_test(test_query_status),
		cmocka_unit_test(test_no_server),
		cmocka_unit_test(test_silent_server),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
