/* `berth lint` as a user runs it (BERTH_BINARY): exit statuses, file
 * discovery, parse errors with file:line:col, --diff, --fix and the formats. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <json-c/json.h>

#include "common/proc.h"
#include "tests/unit/lint/util.h"
#include "common/banned.h"

struct run {
	int status;
	struct strbuf out, err;
};

static void run_lint(struct run *r, const char *cwd, ...) __attribute__((sentinel));
static void run_lint(struct run *r, const char *cwd, ...)
{
	const char *bin = getenv("BERTH_BINARY");
	if (!bin || !*bin)
		skip();
	struct proc p;
	struct berth_error err = BERTH_ERROR_INIT;
	proc_init(&p);
	strvec_pushl(&p.argv, bin, "lint", NULL);
	va_list ap;
	va_start(ap, cwd);
	for (const char *a; (a = va_arg(ap, const char *));)
		strvec_push(&p.argv, a);
	va_end(ap);
	p.clean_env = true;
	strvec_pushl(&p.env, "HOME=/home/lint-test", "PATH=/usr/bin:/bin", NULL);
	p.cwd = cwd;
	p.in.mode = PROC_NULL;
	strbuf_init(&r->out, 0);
	strbuf_init(&r->err, 0);
	p.out.mode = PROC_PIPE;
	p.out.buf = &r->out;
	p.err.mode = PROC_PIPE;
	p.err.buf = &r->err;
	p.deadline_ms = proc_deadline_in(60000);
	assert_int_equal(proc_run(&p, &err), 0);
	r->status = p.exit_code;
	proc_release(&p);
}

static void run_release(struct run *r)
{
	strbuf_release(&r->out);
	strbuf_release(&r->err);
}

static bool starts_with(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

static char *project(const char *compose)
{
	char *dir = make_tmpdir();
	assert_non_null(dir);
	char *path = xstrfmt("%s/compose.yaml", dir);
	assert_int_equal(spit(path, compose, strlen(compose)), 0);
	free(path);
	return dir;
}

static const char clean[] = "services:\n  web:\n    image: nginx:1.27\n    ports: [\"8080:80\"]\n";
static const char warned[] = "services:\n  web:\n    image: nginx:1.27\n    ports:\n      - 5432\n";
static const char info_only[] = "services:\n  web:\n    image: nginx:1.27\n    expose: [\"80\"]\n";
static const char fixable[] = "version: \"3.8\"\n\nservices:\n  # the shell\n  sh:\n    image: alpine:3\n"
			      "    tty: true   # colours\n    command: sh\n";

static void test_exit_status_follows_fail_on(void **state)
{
	struct run r;
	char *d = project(clean);
	run_lint(&r, d, NULL);
	assert_int_equal(r.status, 0);
	assert_int_equal(r.out.len, 0);
	run_release(&r);
	remove_tree(d);
	free(d);

	d = project(warned);
	run_lint(&r, d, NULL);
	assert_int_equal(r.status, 1);
	assert_true(starts_with(r.out.buf, "compose.yaml:5:9: warning[BL001]: services.web.ports: "));
	assert_non_null(strstr(r.out.buf, "\n    help: "));
	assert_non_null(strstr(r.err.buf, "0 errors, 1 warning, 0 info"));
	run_release(&r);
	run_lint(&r, d, "--fail-on", "error", NULL);
	assert_int_equal(r.status, 0);
	run_release(&r);
	run_lint(&r, d, "--ignore", "BL001", NULL);
	assert_int_equal(r.status, 0);
	assert_int_equal(r.out.len, 0);
	run_release(&r);
	run_lint(&r, d, "--target", "docker", NULL);
	assert_int_equal(r.status, 0);
	run_release(&r);
	remove_tree(d);
	free(d);

	d = project(info_only);
	run_lint(&r, d, NULL);
	assert_int_equal(r.status, 0); /* infos do not fail by default */
	assert_non_null(strstr(r.out.buf, "info[BL027]"));
	run_release(&r);
	run_lint(&r, d, "--fail-on", "info", NULL);
	assert_int_equal(r.status, 1);
	run_release(&r);
	remove_tree(d);
	free(d);
}

static void test_usage_errors_exit_2(void **state)
{
	struct run r;
	char *d = project(clean);
	static const char *const bad[][3] = {
		{ "--bogus", NULL, NULL },        { "--target", "kubernetes", NULL }, { "--format", "xml", NULL },
		{ "--select", "BL999", NULL },    { "--engine-version", "latest", NULL },
		{ "--fail-on", "fatal", NULL },   { "-f", "-", NULL },                { "--target", NULL, NULL },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		run_lint(&r, d, bad[i][0], bad[i][1], NULL);
		if (r.status != 2)
			fail_msg("berth lint %s %s: exit %d, want 2", bad[i][0], bad[i][1] ? bad[i][1] : "", r.status);
		assert_true(r.err.len > 0);
		run_release(&r);
	}
	run_lint(&r, d, "--list-rules", NULL);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out.buf, "BL045"));
	run_release(&r);
	remove_tree(d);
	free(d);
}

static void test_bad_input_exits_2_with_position(void **state)
{
	struct run r;
	char *d = project("services:\n  web:\n    image: nginx\n    ports: [\"80\"\n");
	run_lint(&r, d, NULL);
	assert_int_equal(r.status, 2);
	assert_true(starts_with(r.err.buf, "compose.yaml:5:1: error: yaml: "));
	run_release(&r);
	remove_tree(d);
	free(d);

	d = project("services:\n  web:\n    image: nginx\n    ports: 80\n");
	run_lint(&r, d, NULL);
	assert_int_equal(r.status, 2); /* parses, but is not a compose file */
	assert_true(starts_with(r.err.buf, "compose.yaml:4:12: error:"));
	run_release(&r);
	remove_tree(d);
	free(d);

	d = make_tmpdir();
	run_lint(&r, d, NULL);
	assert_int_equal(r.status, 2);
	assert_non_null(strstr(r.err.buf, "no configuration file provided"));
	run_release(&r);
	remove_tree(d);
	free(d);
}

static void test_discovery_and_files(void **state)
{
	struct run r;
	char *d = project(warned);
	char *sub = xstrfmt("%s/src/deep", d);
	char *src = xstrfmt("%s/src", d);
	assert_int_equal(mkdir(src, 0755), 0);
	assert_int_equal(mkdir(sub, 0755), 0);
	/* found in a parent directory, shown by its path */
	run_lint(&r, sub, NULL);
	assert_int_equal(r.status, 1);
	char *want = xstrfmt("%s/compose.yaml:5:9: warning[BL001]", d);
	assert_non_null(strstr(r.out.buf, want));
	free(want);
	run_release(&r);
	/* the override file is part of the project, findings point into it */
	char *ov = xstrfmt("%s/compose.override.yaml", d);
	const char *override = "services:\n  web:\n    expose: [\"9000\"]\n";
	assert_int_equal(spit(ov, override, strlen(override)), 0);
	run_lint(&r, d, "--format", "json", NULL);
	json_object *doc = json_tokener_parse(r.out.buf), *files;
	assert_non_null(doc);
	assert_true(json_object_object_get_ex(doc, "files", &files));
	assert_int_equal(json_object_array_length(files), 2);
	json_object_put(doc);
	assert_non_null(strstr(r.out.buf, "\"file\": \"compose.override.yaml\""));
	run_release(&r);
	/* -f picks files explicitly */
	run_lint(&r, sub, "-f", "../../compose.yaml", "-f", "../../compose.override.yaml", "--format", "github",
		 "--select", "BL027", NULL);
	assert_int_equal(r.status, 0);
	assert_true(starts_with(r.out.buf, "::notice file="));
	run_release(&r);
	remove_tree(d);
	free(d);
	free(sub);
	free(src);
	free(ov);
}

static void test_diff_and_fix(void **state)
{
	struct run r;
	char *d = project(fixable);
	char *path = xstrfmt("%s/compose.yaml", d);
	struct strbuf before = STRBUF_INIT, after = STRBUF_INIT;
	run_lint(&r, d, "--diff", NULL);
	assert_int_equal(r.status, 1);
	assert_string_equal(r.out.buf, "--- a/compose.yaml\n"
				       "+++ b/compose.yaml\n"
				       "@@ -1,8 +1,7 @@\n"
				       "-version: \"3.8\"\n"
				       "-\n"
				       " services:\n"
				       "   # the shell\n"
				       "   sh:\n"
				       "     image: alpine:3\n"
				       "     tty: true   # colours\n"
				       "+    stdin_open: true\n"
				       "     command: sh\n");
	slurp(&before, path);
	assert_string_equal(before.buf, fixable); /* --diff writes nothing */
	run_release(&r);

	run_lint(&r, d, "--fix", NULL);
	assert_int_equal(r.status, 0); /* everything was fixed */
	assert_non_null(strstr(r.err.buf, "fixed 2 findings in compose.yaml"));
	run_release(&r);
	slurp(&after, path);
	assert_string_equal(after.buf, "services:\n  # the shell\n  sh:\n    image: alpine:3\n"
				       "    tty: true   # colours\n    stdin_open: true\n    command: sh\n");
	/* a second run changes nothing */
	run_lint(&r, d, "--fix", NULL);
	assert_int_equal(r.status, 0);
	assert_null(strstr(r.err.buf, "fixed"));
	run_release(&r);
	strbuf_reset(&before);
	slurp(&before, path);
	assert_string_equal(before.buf, after.buf);
	run_lint(&r, d, "--diff", NULL);
	assert_int_equal(r.status, 0);
	assert_int_equal(r.out.len, 0);
	run_release(&r);
	strbuf_release(&before);
	strbuf_release(&after);
	remove_tree(d);
	free(d);
	free(path);
}

static void test_formats_parse(void **state)
{
	struct run r;
	char *d = project(fixable);
	run_lint(&r, d, "--format", "sarif", NULL);
	assert_int_equal(r.status, 1);
	json_object *doc = json_tokener_parse(r.out.buf), *v;
	assert_non_null(doc);
	assert_true(json_object_object_get_ex(doc, "version", &v));
	assert_string_equal(json_object_get_string(v), "2.1.0");
	json_object_put(doc);
	run_release(&r);
	run_lint(&r, d, "--format", "github", NULL);
	assert_non_null(strstr(r.out.buf, "::error file=compose.yaml,line=7,col=10,title=BL026::"));
	run_release(&r);
	remove_tree(d);
	free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exit_status_follows_fail_on),
		cmocka_unit_test(test_usage_errors_exit_2),
		cmocka_unit_test(test_bad_input_exits_2_with_position),
		cmocka_unit_test(test_discovery_and_files),
		cmocka_unit_test(test_diff_and_fix),
		cmocka_unit_test(test_formats_parse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
