#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/error.h"
#include "common/log.h"
#include "common/strbuf.h"
#include "common/banned.h"

static int log_file = -1;

static int setup(void **state)
{
	char path[] = "/tmp/berth-log-XXXXXX";
	log_file = mkstemp(path);
	if (log_file < 0)
		return -1;
	unlink(path);
	log_set_fd(log_file);
	return 0;
}

static int teardown(void **state)
{
	log_set_fd(2);
	close(log_file);
	return 0;
}

/* Everything logged since the last call. */
static void take_output(struct strbuf *out)
{
	strbuf_reset(out);
	off_t end = lseek(log_file, 0, SEEK_CUR);
	strbuf_grow(out, (size_t)end);
	ssize_t n = pread(log_file, out->buf, (size_t)end, 0);
	assert_int_equal(n, end);
	strbuf_setlen(out, (size_t)n);
	assert_int_equal(ftruncate(log_file, 0), 0);
	lseek(log_file, 0, SEEK_SET);
}

static int evaluated;

static int count(void)
{
	return ++evaluated;
}

static void test_levels(void **state)
{
	struct strbuf out = STRBUF_INIT;
	log_set_color(LOG_COLOR_AUTO); /* a file: no colour */
	log_set_verbosity(0);
	assert_int_equal(log_get_level(), LOG_LEVEL_WARN);
	log_error("bad %s", "thing");
	log_warn("careful\n"); /* the newline is not doubled */
	log_notice("services.web.ports[0]: normalised");
	log_info("info");
	log_debug("debug %d", count());
	take_output(&out);
	assert_string_equal(out.buf, "error: bad thing\nwarning: careful\n");
	assert_int_equal(evaluated, 0); /* disabled levels do not evaluate their arguments */

	log_set_verbosity(1);
	log_notice("n");
	log_info("i");
	take_output(&out);
	assert_string_equal(out.buf, "notice: n\n");

	log_set_verbosity(9);
	assert_int_equal(log_get_level(), LOG_LEVEL_DEBUG);
	log_debug("d%d", count());
	log_msg(LOG_LEVEL_INFO, "via %s", "log_msg");
	take_output(&out);
	assert_string_equal(out.buf, "debug: d1\ninfo: via log_msg\n");

	log_set_verbosity(-1);
	assert_false(log_enabled(LOG_LEVEL_WARN));
	assert_true(log_enabled(LOG_LEVEL_ERROR));
	log_warn("hidden");
	log_error("shown");
	take_output(&out);
	assert_string_equal(out.buf, "error: shown\n");
	log_set_verbosity(-5);
	assert_int_equal(log_get_level(), LOG_LEVEL_ERROR);
	log_set_verbosity(0);
	strbuf_release(&out);
}

static void test_color_and_report(void **state)
{
	struct strbuf out = STRBUF_INIT;
	struct berth_error err = BERTH_ERROR_INIT;
	log_set_color(LOG_COLOR_ALWAYS);
	log_warn("w");
	berth_error_set_at(&err, BERTH_E_INVALID, "compose.yaml", 12, 7, "services.web.ports[0]",
			   "invalid port \"%s\"", "80:abc");
	log_report_error(&err);
	take_output(&out);
	assert_string_equal(out.buf, "\033[1;33mwarning:\033[0m w\n"
				     "compose.yaml:12:7: \033[1;31merror:\033[0m services.web.ports[0]: "
				     "invalid port \"80:abc\"\n");

	log_set_color(LOG_COLOR_NEVER);
	log_report_error(&err);
	take_output(&out);
	struct strbuf want = STRBUF_INIT;
	berth_error_format(&err, &want);
	strbuf_addch(&want, '\n');
	assert_string_equal(out.buf, want.buf); /* same text as berth_error_format */
	log_set_color(LOG_COLOR_AUTO);
	berth_error_release(&err);
	strbuf_release(&out);
	strbuf_release(&want);
}

/* AUTO colours a terminal unless NO_COLOR is set (and not empty). */
static void test_color_auto_tty(void **state)
{
	int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (master < 0 || grantpt(master) || unlockpt(master)) {
		if (master >= 0)
			close(master);
		skip();
	}
	char name[128];
	assert_int_equal(ptsname_r(master, name, sizeof(name)), 0);
	int slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
	assert_true(slave >= 0);
	char buf[256];

	unsetenv("NO_COLOR");
	log_set_fd(slave);
	log_warn("tty");
	ssize_t n = read(master, buf, sizeof(buf) - 1);
	assert_true(n > 0);
	buf[n] = '\0';
	assert_non_null(strstr(buf, "\033[1;33mwarning:"));

	setenv("NO_COLOR", "1", 1);
	log_set_fd(slave); /* re-decides */
	log_warn("tty");
	n = read(master, buf, sizeof(buf) - 1);
	assert_true(n > 0);
	buf[n] = '\0';
	assert_null(strchr(buf, '\033'));
	unsetenv("NO_COLOR");

	log_set_fd(log_file);
	close(slave);
	close(master);
}

#define THREADS 4
#define LINES 500

static void *writer(void *arg)
{
	long id = (long)arg;
	char pad[301];
	memset(pad, 'a' + (char)id, 300);
	pad[300] = '\0';
	for (int i = 0; i < LINES; i++)
		log_warn("t%ld %d %s", id, i, pad);
	return NULL;
}

/* Lines from several threads never interleave. */
static void test_threads(void **state)
{
	pthread_t t[THREADS];
	struct strbuf out = STRBUF_INIT;
	for (long i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, writer, (void *)i), 0);
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	take_output(&out);

	int seen[THREADS] = {0};
	size_t lines = 0;
	for (char *line = out.buf; *line;) {
		char *nl = strchr(line, '\n');
		assert_non_null(nl);
		*nl = '\0';
		long id;
		int i, off = 0;
		assert_int_equal(sscanf(line, "warning: t%ld %d %n", &id, &i, &off), 2);
		assert_true(id >= 0 && id < THREADS);
		assert_int_equal(i, seen[id]); /* in order within a thread */
		seen[id]++;
		assert_int_equal(strlen(line + off), 300);
		for (int k = 0; k < 300; k++)
			assert_int_equal(line[off + k], 'a' + id);
		lines++;
		line = nl + 1;
	}
	assert_int_equal(lines, THREADS * LINES);
	strbuf_release(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_levels),
		cmocka_unit_test(test_color_and_report),
		cmocka_unit_test(test_color_auto_tty),
		cmocka_unit_test(test_threads),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
