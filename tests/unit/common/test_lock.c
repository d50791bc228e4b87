#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/error.h"
#include "common/lock.h"
#include "common/proc.h"
#include "common/strbuf.h"
#include "common/banned.h"

static char tmpdir[] = "/tmp/berth-lock-XXXXXX";

static int setup(void **state)
{
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	const char *const rm[] = {"rm", "-rf", tmpdir, NULL};
	struct strbuf out = STRBUF_INIT;
	int rc = proc_capture(&out, rm, 5000, 0, NULL);
	strbuf_release(&out);
	return rc;
}

struct waited {
	int calls;
	pid_t holder;
	char path[256];
};

static void on_wait(void *data, const char *path, pid_t holder)
{
	struct waited *w = data;
	w->calls++;
	w->holder = holder;
	snprintf(w->path, sizeof(w->path), "%s", path);
}

static void test_try_between_fds(void **state)
{
	struct lock a = LOCK_INIT, b = LOCK_INIT;
	struct berth_error err = BERTH_ERROR_INIT;
	char *dir = xstrfmt("%s/nested/locks", tmpdir); /* created on demand */

	assert_int_equal(lock_try(&a, dir, "proj.lock", &err), 0);
	assert_true(a.fd >= 0);
	assert_true(fcntl(a.fd, F_GETFD) & FD_CLOEXEC);
	char *want = xstrfmt("%s/proj.lock", dir);
	assert_string_equal(a.path, want);

	/* the pid of the holder is in the file */
	char buf[32] = {0};
	assert_true(pread(a.fd, buf, sizeof(buf) - 1, 0) > 0);
	char *pid = xstrfmt("%ld\n", (long)getpid());
	assert_string_equal(buf, pid);

	/* a second open file description in the same process is refused */
	assert_int_equal(lock_try(&b, dir, "proj.lock", &err), LOCK_BUSY);
	assert_int_equal(b.fd, -1);
	assert_null(b.path);
	assert_null(err.msg);

	/* another name is another lock */
	assert_int_equal(lock_try(&b, dir, "other.lock", &err), 0);
	lock_release(&b);

	lock_release(&a);
	assert_int_equal(a.fd, -1);
	lock_release(&a); /* twice is fine */
	assert_int_equal(lock_try(&b, dir, "proj.lock", &err), 0);
	lock_release(&b);

	assert_int_equal(lock_try(&b, dir, "../x", &err), BERTH_E_INVALID);
	berth_error_release(&err);
	free(dir);
	free(want);
	free(pid);
}

static void test_deadline(void **state)
{
	struct lock a = LOCK_INIT, b = LOCK_INIT;
	struct berth_error err = BERTH_ERROR_INIT;
	struct waited w = {0};
	assert_int_equal(lock_try(&a, tmpdir, "vm.lock", &err), 0);

	int64_t t0 = proc_now_ms();
	assert_int_equal(lock_acquire(&b, tmpdir, "vm.lock", t0 + 150, on_wait, &w, &err), BERTH_E_TIMEOUT);
	int64_t took = proc_now_ms() - t0;
	assert_true(took >= 150);
	assert_true(took < 600);
	assert_int_equal(w.calls, 1);
	assert_int_equal(w.holder, getpid());
	assert_string_equal(w.path, a.path);
	char *msg = xstrfmt("timed out waiting for lock \"%s\" held by pid %ld", a.path, (long)getpid());
	assert_string_equal(err.msg, msg);
	assert_int_equal(b.fd, -1);

	/* free lock: no waiting, no callback */
	lock_release(&a);
	w.calls = 0;
	assert_int_equal(lock_acquire(&b, tmpdir, "vm.lock", 0, on_wait, &w, &err), 0);
	assert_int_equal(w.calls, 0);
	lock_release(&b);
	berth_error_release(&err);
	free(msg);
}

/* Another process holds the lock for ~300 ms, then exits without unlocking. */
static void test_between_processes(void **state)
{
	int sync[2];
	assert_int_equal(pipe(sync), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct lock lk = LOCK_INIT;
		close(sync[0]);
		int ok = lock_try(&lk, tmpdir, "project-x", NULL) == 0;
		if (write(sync[1], ok ? "y" : "n", 1) != 1)
			_exit(2);
		usleep(300 * 1000);
		_exit(ok ? 0 : 1); /* the kernel drops the lock */
	}
	close(sync[1]);
	char c = 0;
	assert_int_equal(read(sync[0], &c, 1), 1);
	assert_int_equal(c, 'y');
	close(sync[0]);

	struct lock lk = LOCK_INIT;
	struct berth_error err = BERTH_ERROR_INIT;
	struct waited w = {0};
	assert_int_equal(lock_try(&lk, tmpdir, "project-x", &err), LOCK_BUSY);
	int64_t t0 = proc_now_ms();
	assert_int_equal(lock_acquire(&lk, tmpdir, "project-x", t0 + 3000, on_wait, &w, &err), 0);
	int64_t took = proc_now_ms() - t0;
	assert_true(took >= 100);
	assert_true(took < 1500);
	assert_int_equal(w.calls, 1);
	assert_int_equal(w.holder, pid);
	lock_release(&lk);

	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_try_between_fds),
		cmocka_unit_test(test_deadline),
		cmocka_unit_test(test_between_processes),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
