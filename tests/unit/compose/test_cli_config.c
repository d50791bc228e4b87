/* `berth compose config` as a user runs it: the real binary (BERTH_BINARY),
 * its flags, standard input, exit codes and messages. */
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
#include "common/proc.h"
#include "common/strbuf.h"

struct result {
	int code;
	struct strbuf out, err;
};

static void run(struct result *r, const char *stdin_text, const char *cwd, ...)
{
	struct proc p;
	struct berth_error err = BERTH_ERROR_INIT;
	va_list ap;
	proc_init(&p);
	strvec_push(&p.argv, getenv("BERTH_BINARY"));
	strvec_push(&p.argv, "compose");
	va_start(ap, cwd);
	for (const char *a; (a = va_arg(ap, const char *));)
		strvec_push(&p.argv, a);
	va_end(ap);
	strvec_push(&p.env, "HOME=/home/tester");
	strvec_push(&p.env, "COMPOSE_FILE");
	strvec_push(&p.env, "COMPOSE_PROFILES");
	strvec_push(&p.env, "COMPOSE_PROJECT_NAME");
	p.cwd = cwd;
	strbuf_init(&r->out, 0);
	strbuf_init(&r->err, 0);
	if (stdin_text) {
		p.in.mode = PROC_STRING;
		p.in.data = stdin_text;
		p.in.len = strlen(stdin_text);
	} else {
		p.in.mode = PROC_NULL;
	}
	p.out.mode = PROC_PIPE;
	p.out.buf = &r->out;
	p.err.mode = PROC_PIPE;
	p.err.buf = &r->err;
	p.deadline_ms = proc_deadline_in(20000);
	assert_int_equal(proc_run(&p, &err), 0);
	r->code = p.exit_code;
	proc_release(&p);
}

static void result_release(struct result *r)
{
	strbuf_release(&r->out);
	strbuf_release(&r->err);
}

static char *fixture(const char *name)
{
	static char path[4096];
	snprintf(path, sizeof(path), "%s/fixtures/compose/%s", getenv("BERTH_SOURCE_DIR"), name);
	return path;
}

static void test_stdin_file(void **state)
{
	struct result r;
	run(&r, "services:\n  web:\n    image: nginx\n    ports: [\"8080:80\"]\n", "/tmp", "-p", "fromstdin", "-f", "-",
	    "config", "--format", "json", NULL);
	assert_int_equal(r.code, 0);
	assert_non_null(strstr(r.out.buf, "\"name\": \"fromstdin\""));
	assert_non_null(strstr(r.out.buf, "\"published\": \"8080\""));
	result_release(&r);
}

static void test_listing_flags(void **state)
{
	struct result r;
	run(&r, NULL, fixture("network-modes"), "config", "--services", NULL);
	assert_int_equal(r.code, 0);
	assert_string_equal(r.out.buf, "cache\ndata\ndb\nhostnet\nvpn\napp\nlegacy\n");
	result_release(&r);

	run(&r, NULL, fixture("volumes-long"), "config", "--volumes", NULL);
	assert_string_equal(r.out.buf, "data\nnamed_ext\n");
	assert_non_null(strstr(r.err.buf, "external.name is deprecated"));
	result_release(&r);

	run(&r, NULL, fixture("profiles-env"), "config", "--profiles", NULL);
	assert_string_equal(r.out.buf, "dev\ntest\n");
	result_release(&r);

	run(&r, NULL, fixture("build-advanced"), "config", "--images", NULL);
	assert_string_equal(r.out.buf, "myapp:latest\n");
	result_release(&r);

	run(&r, NULL, fixture("wordpress-mysql"), "config", "-q", NULL);
	assert_int_equal(r.code, 0);
	assert_string_equal(r.out.buf, "");
	result_release(&r);
}

static void test_no_interpolate_and_output_file(void **state)
{
	struct result r;
	char out[] = "/tmp/berth-test-config-XXXXXX";
	int fd = mkstemp(out);
	assert_true(fd >= 0);
	close(fd);
	run(&r, NULL, fixture("interpolation-edge"), "config", "--no-interpolate", "-o", out, NULL);
	assert_int_equal(r.code, 0);
	assert_string_equal(r.out.buf, "");
	FILE *f = fopen(out, "r");
	assert_non_null(f);
	char buf[8192];
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	unlink(out);
	/* not interpolated, and $ not doubled */
	assert_non_null(strstr(buf, "${REGISTRY:-docker.io}"));
	result_release(&r);
}

static void test_usage_and_errors(void **state)
{
	struct result r;
	run(&r, NULL, "/tmp", "config", "--format", "toml", NULL);
	assert_int_equal(r.code, 2);
	assert_non_null(strstr(r.err.buf, "toml"));
	result_release(&r);

	run(&r, NULL, "/tmp", "--bogus", "config", NULL);
	assert_int_equal(r.code, 2);
	assert_non_null(strstr(r.err.buf, "--bogus"));
	result_release(&r);

	run(&r, NULL, "/tmp", "-f", "/nonexistent/compose.yaml", "config", NULL);
	assert_int_equal(r.code, 1);
	assert_non_null(strstr(r.err.buf, "/nonexistent/compose.yaml"));
	result_release(&r);

	run(&r, NULL, fixture("errors-nested-unknown-key"), "config", NULL);
	assert_int_equal(r.code, 1);
	assert_non_null(
		strstr(r.err.buf, "compose.yaml:6:9: error: services.web.deploy.resources: unknown key \"limitz\""));
	result_release(&r);

	run(&r, NULL, "/tmp", "-p", "Bad Name", "-f", "-", "config", NULL);
	assert_int_equal(r.code, 2);
	assert_non_null(strstr(r.err.buf, "invalid project name"));
	result_release(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stdin_file),
		cmocka_unit_test(test_listing_flags),
		cmocka_unit_test(test_no_interpolate_and_output_file),
		cmocka_unit_test(test_usage_and_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
