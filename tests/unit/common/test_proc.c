#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/error.h"
#include "common/proc.h"
#include "common/strbuf.h"
#include "common/strvec.h"
#include "common/banned.h"

/* Runs argv with stdin from /dev/null and stdout/stderr captured. */
static int run_sh(struct proc *p, struct strbuf *out, struct strbuf *errb, const char *script,
		  struct berth_error *err)
{
	strvec_pushl(&p->argv, "sh", "-c", script, NULL);
	if (p->in.mode == PROC_INHERIT)
		p->in.mode = PROC_NULL;
	p->out.mode = PROC_PIPE;
	p->out.buf = out;
	p->err.mode = PROC_PIPE;
	p->err.buf = errb;
	return proc_run(p, err);
}

static void test_exit_code(void **state)
{
	struct proc p;
	struct strbuf out = STRBUF_INIT, eb = STRBUF_INIT;
	struct berth_error err = BERTH_ERROR_INIT;
	proc_init(&p);
	assert_int_equal(run_sh(&p, &out, &eb, "echo out; echo err >&2; exit 3", &err), 0);
	assert_int_equal(p.exit_code, 3);
	assert_int_equal(p.term_signal, 0);
	assert_false(p.timed_out);
	assert_true(p.pid > 0);
	assert_string_equal(out.buf, "out\n");
	assert_string_equal(eb.buf, "err\n");
	assert_null(err.msg);
	proc_release(&p);
	strbuf_release(&out);
	strbuf_release(&eb);
}

static void test_signal(void **state)
{
	struct proc p;
	struct strbuf out = STRBUF_INIT, eb = STRBUF_INIT;
	proc_init(&p);
	assert_int_equal(run_sh(&p, &out, &eb, "kill -USR1 $$", NULL), 0);
	assert_int_equal(p.exit_code, -1);
	assert_int_equal(p.term_signal, SIGUSR1);
	proc_release(&p);
	strbuf_release(&out);
	strbuf_release(&eb);
}

static void test_not_found(void **state)
{
	struct berth_error err = BERTH_ERROR_INIT;
	struct proc p;

	/* PATH search, before fork */
	proc_init(&p);
	strvec_push(&p.argv, "berth-no-such-program");
	assert_int_equal(proc_run(&p, &err), BERTH_E_NOTFOUND);
	assert_string_equal(err.msg, "cannot run \"berth-no-such-program\": No such file or directory");
	assert_int_equal(p.pid, 0);
	proc_release(&p);
	berth_error_release(&err);

	/* execve failure, reported by the child through the pipe */
	proc_init(&p);
	strvec_push(&p.argv, "/nonexistent/nerdctl");
	assert_int_equal(proc_run(&p, &err), BERTH_E_NOTFOUND);
	assert_string_equal(err.msg, "cannot run \"/nonexistent/nerdctl\": No such file or directory");
	proc_release(&p);
	berth_error_release(&err);

	proc_init(&p);
	strvec_push(&p.argv, "/etc/passwd");
	assert_int_equal(proc_run(&p, &err), BERTH_E_IO);
	assert_string_equal(err.msg, "cannot run \"/etc/passwd\": Permission denied");
	proc_release(&p);
	berth_error_release(&err);

	/* no zombie left behind by the failed execs */
	assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
	assert_int_equal(errno, ECHILD);
}

static void test_cwd(void **state)
{
	struct proc p;
	struct strbuf out = STRBUF_INIT, eb = STRBUF_INIT;
	struct berth_error err = BERTH_ERROR_INIT;
	proc_init(&p);
	p.cwd = "/tmp";
	assert_int_equal(run_sh(&p, &out, &eb, "pwd", &err), 0);
	assert_string_equal(out.buf, "/tmp\n");
	proc_release(&p);

	proc_init(&p);
	p.cwd = "/nonexistent-berth-dir";
	assert_int_equal(run_sh(&p, &out, &eb, "pwd", &err), BERTH_E_NOTFOUND);
	assert_string_equal(err.msg, "cannot run \"sh\": cannot change to directory "
				     "\"/nonexistent-berth-dir\": No such file or directory");
	proc_release(&p);
	berth_error_release(&err);
	strbuf_release(&out);
	strbuf_release(&eb);
}

static void test_env(void **state)
{
	struct proc p;
	struct strbuf out = STRBUF_INIT, eb = STRBUF_INIT;
	setenv("BERTH_TEST_KEEP", "kept", 1);
	setenv("BERTH_TEST_OVER", "old", 1);
	setenv("BERTH_TEST_DROP", "dropped", 1);

	proc_init(&p);
	strvec_pushl(&p.env, "BERTH_TEST_OVER=new", "BERTH_TEST_DROP", "BERTH_TEST_ADD=a=b", NULL);
	assert_int_equal(run_sh(&p, &out, &eb,
				"echo \"$BERTH_TEST_KEEP $BERTH_TEST_OVER ${BERTH_TEST_DROP-unset} $BERTH_TEST_ADD\"",
				NULL),
			 0);
	assert_string_equal(out.buf, "kept new unset a=b\n");
	proc_release(&p);

	/* clean environment: only what we pass; "env" is still found in berth's PATH */
	strbuf_reset(&out);
	proc_init(&p);
	p.clean_env = true;
	strvec_pushl(&p.argv, "env", NULL);
	strvec_pushl(&p.env, "ONLY=1", "DROPPED=x", "DROPPED", NULL);
	p.out.mode = PROC_PIPE;
	p.out.buf = &out;
	assert_int_equal(proc_run(&p, NULL), 0);
	assert_string_equal(out.buf, "ONLY=1\n");
	proc_release(&p);

	unsetenv("BERTH_TEST_KEEP");
	unsetenv("BERTH_TEST_OVER");
	unsetenv("BERTH_TEST_DROP");
	strbuf_release(&out);
	strbuf_release(&eb);
}

static void test_stdin_string(void **state)
{
	static const char data[] = "hello\0world\n\xff\x01 no trailing newline";
	struct proc p;
	struct strbuf out = STRBUF_INIT;
	proc_init(&p);
	strvec_push(&p.argv, "cat");
	p.in.mode = PROC_STRING;
	p.in.data = data;
	p.in.len = sizeof(data) - 1;
	p.out.mode = PROC_PIPE;
	p.out.buf = &out;
	assert_int_equal(proc_run(&p, NULL), 0);
	assert_int_equal(p.exit_code, 0);
	assert_int_equal(out.len, sizeof(data) - 1);
	assert_memory_equal(out.buf, data, sizeof(data) - 1);
	proc_release(&p);

	/* empty string: EOF at once */
	strbuf_reset(&out);
	proc_init(&p);
	strvec_pushl(&p.argv, "wc", "-c", NULL);
	p.in.mode = PROC_STRING;
	p.out.mode = PROC_PIPE;
	p.out.buf = &out;
	assert_int_equal(proc_run(&p, NULL), 0);
	assert_string_equal(out.buf, "0\n");
	proc_release(&p);
	strbuf_release(&out);
}

/* 4 MiB in, 4 MiB out on stdout and again on stderr: deadlocks unless stdin
 * feeding and both captures are multiplexed. */
static void test_large_both_ways(void **state)
{
	const size_t n = 4u << 20;
	char *data = malloc(n);
	for (size_t i = 0; i < n; i++)
		data[i] = (char)('a' + (i * 7 + i / 4096) % 26);
	struct proc p;
	struct strbuf out = STRBUF_INIT, eb = STRBUF_INIT;
	struct berth_error err = BERTH_ERROR_INIT;
	proc_init(&p);
	p.in.mode = PROC_STRING;
	p.in.data = data;
	p.in.len = n;
	p.deadline_ms = proc_deadline_in(10000);
	int64_t t0 = proc_now_ms();
	assert_int_equal(run_sh(&p, &out, &eb, "tee /dev/stderr", &err), 0);
	assert_true(proc_now_ms() - t0 < 5000);
	assert_int_equal(p.exit_code, 0);
	assert_int_equal(out.len, n);
	assert_int_equal(eb.len, n);
	assert_memory_equal(out.buf, data, n);
	assert_memory_equal(eb.buf, data, n);
	proc_release(&p);
	strbuf_release(&out);
	strbuf_release(&eb);
	free(data);
}

/* The child stops reading stdin early: no SIGPIPE kills berth, no error. */
static void test_stdin_child_stops_reading(void **state)
{
	const size_t n = 1u << 20;
	char *data = calloc(1, n);
	struct proc p;
	struct strbuf out = STRBUF_INIT;
	proc_init(&p);
	strvec_pushl(&p.argv, "head", "-c", "10", NULL);
	p.in.mode = PROC_STRING;
	p.in.data = data;
	p.in.len = n;
	p.out.mode = PROC_PIPE;
	p.out.buf = &out;
	assert_int_equal(proc_run(&p, NULL), 0);
	assert_int_equal(p.exit_code, 0);
	assert_int_equal(out.len, 10);
	proc_release(&p);
	strbuf_release(&out);
	free(data);
}

static void test_capture_cap(void **state)
{
	struct proc p;
	struct strbuf out = STRBUF_INIT;
	struct berth_error err = BERTH_ERROR_INIT;

	proc_init(&p);
	strvec_pushl(&p.argv, "head", "-c", "100000", "/dev/zero", NULL);
	p.out.mode = PROC_PIPE;
	p.out.buf = &out;
	p.out.cap = 1000;
	assert_int_equal(proc_run(&p, &err), BERTH_E_LIMIT);
	assert_string_equal(err.msg, "stdout of \"head -c 100000 /dev/zero\" exceeds the 1000-byte cap");
	assert_int_equal(out.len, 1000);
	assert_true(p.out.truncated);
	assert_int_equal(p.exit_code, 0); /* drained, not killed, and reaped */
	proc_release(&p);
	berth_error_release(&err);

	strbuf_reset(&out);
	proc_init(&p);
	strvec_pushl(&p.argv, "head", "-c", "100000", "/dev/zero", NULL);
	p.out.mode = PROC_PIPE;
	p.out.buf = &out;
	p.out.cap = 1000;
	p.out.truncate = true;
	assert_int_equal(proc_run(&p, &err), 0);
	assert_int_equal(out.len, 1000);
	assert_true(p.out.truncated);
	proc_release(&p);

	/* exactly the cap is fine */
	strbuf_reset(&out);
	proc_init(&p);
	strvec_pushl(&p.argv, "head", "-c", "1000", "/dev/zero", NULL);
	p.out.mode = PROC_PIPE;
	p.out.buf = &out;
	p.out.cap = 1000;
	assert_int_equal(proc_run(&p, &err), 0);
	assert_int_equal(out.len, 1000);
	assert_false(p.out.truncated);
	proc_release(&p);
	strbuf_release(&out);
}

static void check_deadline(bool no_pidfd)
{
	struct proc p;
	struct berth_error err = BERTH_ERROR_INIT;
	proc_init(&p);
	strvec_pushl(&p.argv, "sleep", "10", NULL);
	p.no_pidfd = no_pidfd;
	int64_t t0 = proc_now_ms();
	p.deadline_ms = t0 + 200;
	assert_int_equal(proc_run(&p, &err), BERTH_E_TIMEOUT);
	int64_t took = proc_now_ms() - t0;
	assert_true(took >= 200);
	assert_true(took < 5000); /* sleep 10 would take 10000 ms: the deadline ended it */
	assert_true(p.timed_out);
	assert_int_equal(p.term_signal, SIGTERM);
	/* the message counts from proc_start, a little after the test's t0 */
	int ms = -1;
	char unit[8] = "";
	assert_int_equal(sscanf(err.msg, "\"sleep 10\" timed out after %dm%7s", &ms, unit), 2);
	assert_string_equal(unit, "s");
	assert_true(ms > 150 && ms <= 200);
	proc_release(&p);
	berth_error_release(&err);
}

static void test_deadline(void **state)
{
	check_deadline(false);
}

static void test_deadline_without_pidfd(void **state)
{
	check_deadline(true);
	struct proc p;
	struct strbuf out = STRBUF_INIT, eb = STRBUF_INIT;
	proc_init(&p);
	p.no_pidfd = true;
	assert_int_equal(run_sh(&p, &out, &eb, "echo hi; exit 7", NULL), 0);
	assert_int_equal(p.exit_code, 7);
	assert_string_equal(out.buf, "hi\n");
	proc_release(&p);
	strbuf_release(&out);
	strbuf_release(&eb);
}

/* A child that ignores SIGTERM gets SIGKILL after the grace period; with a
 * process group, so do its children (else they would hold the pipe open). */
static void test_sigterm_ignored(void **state)
{
	struct proc p;
	struct strbuf out = STRBUF_INIT, eb = STRBUF_INIT;
	struct berth_error err = BERTH_ERROR_INIT;
	proc_init(&p);
	p.new_pgroup = true;
	p.grace_ms = 300;
	p.wait_delay_ms = 20000;
	int64_t t0 = proc_now_ms();
	/* 1.5 s lets the shell install its trap first, even under valgrind on a loaded machine */
	p.deadline_ms = t0 + 1500;
	assert_int_equal(run_sh(&p, &out, &eb, "trap '' TERM; sleep 30 & sleep 30; wait", &err),
			 BERTH_E_TIMEOUT);
	int64_t took = proc_now_ms() - t0;
	assert_true(took >= 1800); /* deadline + the 300 ms grace: SIGTERM was ignored */
	assert_true(took < 9000);  /* the grandchild died with the group: no 20 s wait_delay */
	assert_int_equal(p.term_signal, SIGKILL);
	assert_true(p.timed_out);
	assert_non_null(strstr(err.msg, "\" timed out after "));
	/* the duration counts from proc_start (a little after t0): checked above by value */
	assert_non_null(strstr(err.msg, "\" timed out after 1."));
	assert_non_null(strstr(err.msg, "s; killed with SIGKILL after the grace period"));
	proc_release(&p);
	berth_error_release(&err);
	strbuf_release(&out);
	strbuf_release(&eb);
}

/* The child exits but a grandchild keeps stdout open: wait_delay bounds it. */
static void test_grandchild_holds_pipe(void **state)
{
	struct proc p;
	struct strbuf out = STRBUF_INIT, eb = STRBUF_INIT;
	proc_init(&p);
	p.wait_delay_ms = 100;
	p.err.mode = PROC_NULL;
	int64_t t0 = proc_now_ms();
	assert_int_equal(run_sh(&p, &out, &eb, "sleep 20 & echo hi", NULL), 0);
	assert_true(proc_now_ms() - t0 < 8000); /* not the grandchild's 20 s */
	assert_int_equal(p.exit_code, 0);
	assert_string_equal(out.buf, "hi\n");
	proc_release(&p);
	strbuf_release(&out);
	strbuf_release(&eb);
}

struct lines {
	struct strvec seen;
	int stop_after;
};

static int on_line(void *data, int fd, const char *line, size_t len)
{
	struct lines *l = data;
	assert_int_equal(strlen(line), len); /* NUL-terminated at len */
	if (len > 20)
		strvec_pushf(&l->seen, "%d:%zu*%c", fd, len, line[0]);
	else
		strvec_pushf(&l->seen, "%d:%s", fd, line);
	return l->stop_after && (int)l->seen.nr >= l->stop_after;
}

static void test_line_callback(void **state)
{
	struct lines l = {STRVEC_INIT, 0};
	struct proc p;
	proc_init(&p);
	strvec_pushl(&p.argv, "sh", "-c",
		     "printf ab; sleep 0.05; printf 'c\\nde'; sleep 0.05; printf 'f\\n\\ng'; "
		     "sleep 0.05; printf 'E1\\nE' >&2; sleep 0.05; printf '2\\n' >&2; sleep 0.05",
		     NULL);
	p.out.mode = PROC_LINES;
	p.out.line_fn = on_line;
	p.out.line_data = &l;
	p.err.mode = PROC_LINES;
	p.err.line_fn = on_line;
	p.err.line_data = &l;
	assert_int_equal(proc_run(&p, NULL), 0);
	struct strbuf all = STRBUF_INIT;
	strvec_join(&l.seen, "|", &all);
	/* "g" has no newline: delivered at EOF, which comes after stderr's lines */
	assert_string_equal(all.buf, "1:abc|1:def|1:|2:E1|2:E2|1:g");
	proc_release(&p);
	strvec_clear(&l.seen);
	strbuf_release(&all);

	/* a line longer than PROC_LINE_MAX comes in pieces */
	proc_init(&p);
	strvec_pushl(&p.argv, "sh", "-c",
		     "for n in 200000 65536 131073; do head -c $n /dev/zero | tr '\\0' a; echo; done; echo end",
		     NULL);
	p.out.mode = PROC_LINES;
	p.out.line_fn = on_line;
	p.out.line_data = &l;
	assert_int_equal(proc_run(&p, NULL), 0);
	strvec_join(&l.seen, "|", &all);
	assert_string_equal(all.buf, "1:65536*a|1:65536*a|1:65536*a|1:3392*a|"
				     "1:65536*a|"
				     "1:65536*a|1:65536*a|1:a|"
				     "1:end");
	proc_release(&p);
	strvec_clear(&l.seen);
	strbuf_release(&all);
}

static void test_line_callback_stops(void **state)
{
	struct lines l = {STRVEC_INIT, 10};
	struct proc p;
	struct berth_error err = BERTH_ERROR_INIT;
	proc_init(&p);
	strvec_push(&p.argv, "yes");
	p.out.mode = PROC_LINES;
	p.out.line_fn = on_line;
	p.out.line_data = &l;
	assert_int_equal(proc_run(&p, &err), BERTH_E_INTERRUPTED);
	assert_int_equal(l.seen.nr, 10);
	assert_true(p.cancelled);
	assert_false(p.timed_out);
	assert_int_equal(p.term_signal, SIGTERM);
	assert_string_equal(err.msg, "\"yes\" was interrupted");
	proc_release(&p);
	strvec_clear(&l.seen);
	berth_error_release(&err);
}

static void test_cancel_fd(void **state)
{
	int fds[2];
	struct proc p;
	assert_int_equal(pipe2(fds, O_CLOEXEC), 0);
	assert_int_equal(write(fds[1], "x", 1), 1);
	proc_init(&p);
	strvec_pushl(&p.argv, "sleep", "10", NULL);
	p.cancel_fd = fds[0];
	int64_t t0 = proc_now_ms();
	assert_int_equal(proc_run(&p, NULL), BERTH_E_INTERRUPTED);
	assert_true(proc_now_ms() - t0 < 5000); /* not sleep's 10 s */
	assert_int_equal(p.term_signal, SIGTERM);
	proc_release(&p);
	close(fds[0]);
	close(fds[1]);
}

static void test_kill_and_release(void **state)
{
	struct proc p;
	proc_init(&p);
	strvec_pushl(&p.argv, "sleep", "10", NULL);
	assert_int_equal(proc_start(&p, NULL), 0);
	assert_int_equal(proc_kill(&p, SIGKILL, NULL), 0);
	assert_int_equal(proc_wait(&p, NULL), 0);
	assert_int_equal(p.term_signal, SIGKILL);
	assert_int_equal(proc_kill(&p, SIGKILL, NULL), 0); /* reaped: a no-op */
	proc_release(&p);

	/* released while running: killed and reaped, no zombie */
	proc_init(&p);
	strvec_pushl(&p.argv, "sleep", "10", NULL);
	assert_int_equal(proc_start(&p, NULL), 0);
	pid_t pid = p.pid;
	int64_t t0 = proc_now_ms();
	proc_release(&p);
	assert_true(proc_now_ms() - t0 < 5000); /* not sleep's 10 s */
	assert_int_equal(waitpid(pid, NULL, WNOHANG), -1);
	assert_int_equal(errno, ECHILD);
}

static unsigned long long status_field(const char *status, const char *field)
{
	const char *at = strstr(status, field);
	assert_non_null(at);
	return strtoull(at + strlen(field), NULL, 16);
}

/* berth may ignore SIGPIPE and block signals in its threads; children must
 * start with SIGPIPE at its default and nothing blocked. */
static void test_child_signals(void **state)
{
	struct sigaction ign = {.sa_handler = SIG_IGN}, old_pipe;
	sigset_t usr1, old_mask;
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	sigaction(SIGPIPE, &ign, &old_pipe);
	pthread_sigmask(SIG_BLOCK, &usr1, &old_mask);

	struct strbuf out = STRBUF_INIT;
	const char *const argv[] = {"cat", "/proc/self/status", NULL};
	assert_int_equal(proc_capture(&out, argv, 5000, 0, NULL), 0);
	assert_int_equal(status_field(out.buf, "\nSigIgn:") & (1ull << (SIGPIPE - 1)), 0);
	assert_int_equal(status_field(out.buf, "\nSigBlk:"), 0);

	sigaction(SIGPIPE, &old_pipe, NULL);
	pthread_sigmask(SIG_SETMASK, &old_mask, NULL);
	strbuf_release(&out);
}

static const char ls_fds[] = "0\n1\n2\n3\n"; /* 3 is ls's own directory fd */

static int run_ls_fd(struct strbuf *out)
{
	struct proc p;
	proc_init(&p);
	strvec_pushl(&p.argv, "ls", "/proc/self/fd", NULL);
	p.in.mode = PROC_STRING;
	p.in.data = "";
	p.out.mode = PROC_PIPE;
	p.out.buf = out;
	p.err.mode = PROC_NULL;
	int rc = proc_run(&p, NULL);
	proc_release(&p);
	return rc;
}

static void test_no_fd_leak(void **state)
{
	struct strbuf out = STRBUF_INIT;
	/* not close-on-exec, as a careless library would leave it */
	int leaky = open("/dev/null", O_RDONLY);
	assert_true(leaky > 2);
	assert_int_equal(run_ls_fd(&out), 0);
	assert_string_equal(out.buf, ls_fds);
	close(leaky);
	strbuf_release(&out);
}

#define THREADS 4
#define ROUNDS 15

static void *thread_main(void *arg)
{
	long id = (long)arg;
	long failures = 0;
	struct strbuf in = STRBUF_INIT, out = STRBUF_INIT;
	for (int r = 0; r < ROUNDS; r++) {
		strbuf_reset(&in);
		for (int i = 0; i < 5000; i++)
			strbuf_addf(&in, "thread %ld round %d line %d\n", id, r, i);
		struct proc p;
		proc_init(&p);
		strvec_push(&p.argv, "cat");
		p.in.mode = PROC_STRING;
		p.in.data = in.buf;
		p.in.len = in.len;
		p.out.mode = PROC_PIPE;
		p.out.buf = &out;
		strbuf_reset(&out);
		p.deadline_ms = proc_deadline_in(20000);
		if (proc_run(&p, NULL) || p.exit_code || out.len != in.len || memcmp(out.buf, in.buf, in.len))
			failures++;
		proc_release(&p);

		/* while the other threads hold pipes open, none reach this child */
		strbuf_reset(&out);
		if (run_ls_fd(&out) || strcmp(out.buf, ls_fds))
			failures++;
	}
	strbuf_release(&in);
	strbuf_release(&out);
	return (void *)failures;
}

static void test_parallel_threads(void **state)
{
	pthread_t t[THREADS];
	for (long i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, thread_main, (void *)i), 0);
	long failures = 0;
	for (int i = 0; i < THREADS; i++) {
		void *r;
		pthread_join(t[i], &r);
		failures += (long)r;
	}
	assert_int_equal(failures, 0);
}

static void test_capture(void **state)
{
	struct strbuf out = STRBUF_INIT;
	struct berth_error err = BERTH_ERROR_INIT;
	strbuf_addstr(&out, "x");

	const char *const ok[] = {"echo", "hi", NULL};
	assert_int_equal(proc_capture(&out, ok, 5000, 0, &err), 0);
	assert_string_equal(out.buf, "xhi\n");

	const char *const fail[] = {"sh", "-c", "echo partial; echo '  oops  ' >&2; exit 2", NULL};
	assert_int_equal(proc_capture(&out, fail, 5000, 0, &err), BERTH_E_ENGINE);
	assert_string_equal(err.msg, "\"sh -c 'echo partial; echo '\\''  oops  '\\'' >&2; exit 2'\" "
				     "exited with status 2: oops");
	assert_string_equal(out.buf, "xhi\n"); /* untouched on failure */
	berth_error_release(&err);

	const char *const many[] = {"sh", "-c", "for i in $(seq 1 30); do echo line$i >&2; done; exit 1", NULL};
	assert_int_equal(proc_capture(&out, many, 5000, 0, &err), BERTH_E_ENGINE);
	assert_non_null(strstr(err.msg, ": line1\nline2\n"));
	assert_non_null(strstr(err.msg, "\nline20\n[10 more lines]"));
	assert_null(strstr(err.msg, "line21"));
	berth_error_release(&err);

	const char *const quiet[] = {"false", NULL};
	assert_int_equal(proc_capture(&out, quiet, 5000, 0, &err), BERTH_E_ENGINE);
	assert_string_equal(err.msg, "\"false\" exited with status 1");
	berth_error_release(&err);

	const char *const sig[] = {"sh", "-c", "kill -KILL $$", NULL};
	assert_int_equal(proc_capture(&out, sig, 5000, 0, &err), BERTH_E_ENGINE);
	assert_string_equal(err.msg, "\"sh -c 'kill -KILL $$'\" was killed by signal 9 (SIGKILL)");
	berth_error_release(&err);

	const char *const missing[] = {"nerdctl-berth-missing", "ps", NULL};
	assert_int_equal(proc_capture(&out, missing, 5000, 0, &err), BERTH_E_NOTFOUND);
	assert_string_equal(err.msg, "cannot run \"nerdctl-berth-missing\": No such file or directory");
	berth_error_release(&err);

	const char *const slow[] = {"sleep", "5", NULL};
	assert_int_equal(proc_capture(&out, slow, 100, 0, &err), BERTH_E_TIMEOUT);
	berth_error_release(&err);

	const char *const big[] = {"head", "-c", "5000", "/dev/zero", NULL};
	assert_int_equal(proc_capture(&out, big, 5000, 4096, &err), BERTH_E_LIMIT);
	assert_non_null(strstr(err.msg, "4096-byte cap"));
	assert_string_equal(out.buf, "xhi\n");
	berth_error_release(&err);
	strbuf_release(&out);
}

static void test_fd_and_describe(void **state)
{
	char path[] = "/tmp/berth-proc-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	struct proc p;
	proc_init(&p);
	strvec_pushl(&p.argv, "echo", "to a file", NULL);
	p.out.mode = PROC_FD;
	p.out.fd = fd;
	assert_int_equal(proc_run(&p, NULL), 0);
	struct strbuf d = STRBUF_INIT;
	proc_describe(&p, &d);
	assert_string_equal(d.buf, "echo 'to a file'");
	proc_release(&p);

	char buf[64] = {0};
	assert_int_equal(pread(fd, buf, sizeof(buf) - 1, 0), 10);
	assert_string_equal(buf, "to a file\n");
	assert_true(fcntl(fd, F_GETFD) >= 0); /* borrowed: still open */
	close(fd);
	unlink(path);

	proc_init(&p);
	strvec_pushl(&p.argv, "a", "", "it's", NULL);
	strbuf_reset(&d);
	proc_describe(&p, &d);
	assert_string_equal(d.buf, "a '' 'it'\\''s'");
	for (int i = 0; i < 100; i++)
		strvec_push(&p.argv, "word");
	strbuf_reset(&d);
	proc_describe(&p, &d);
	assert_int_equal(d.len, 203);
	assert_string_equal(d.buf + 200, "...");
	proc_release(&p);
	strbuf_release(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exit_code),
		cmocka_unit_test(test_signal),
		cmocka_unit_test(test_not_found),
		cmocka_unit_test(test_cwd),
		cmocka_unit_test(test_env),
		cmocka_unit_test(test_stdin_string),
		cmocka_unit_test(test_large_both_ways),
		cmocka_unit_test(test_stdin_child_stops_reading),
		cmocka_unit_test(test_capture_cap),
		cmocka_unit_test(test_deadline),
		cmocka_unit_test(test_deadline_without_pidfd),
		cmocka_unit_test(test_sigterm_ignored),
		cmocka_unit_test(test_grandchild_holds_pipe),
		cmocka_unit_test(test_line_callback),
		cmocka_unit_test(test_line_callback_stops),
		cmocka_unit_test(test_cancel_fd),
		cmocka_unit_test(test_kill_and_release),
		cmocka_unit_test(test_child_signals),
		cmocka_unit_test(test_no_fd_leak),
		cmocka_unit_test(test_parallel_threads),
		cmocka_unit_test(test_capture),
		cmocka_unit_test(test_fd_and_describe),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
