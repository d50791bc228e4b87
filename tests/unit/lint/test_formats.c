/* The output formats on fixtures/lint/_formats: text, json and github against
 * goldens there; json validated against docs/lint-json.schema.json and SARIF
 * against the SARIF 2.1.0 schema in ../shared/schemas (read in place, never
 * copied) with python3-jsonschema, run through the child-process API. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <json-c/json.h>

#include "common/proc.h"
#include "lint/rules.h"
#include "tests/unit/lint/util.h"
#include "common/banned.h"

static char *formats_dir(void)
{
	return xstrfmt("%s/fixtures/lint/_formats", source_dir());
}

/* Lints the _formats project (all rules); file NULL: discovery. */
static void lint_formats(struct lint_result *res, const char *file)
{
	char *dir = formats_dir();
	struct lint_options o = LINT_OPTIONS_INIT;
	char *env[] = { "HOME=/home/lint-test", NULL };
	struct berth_error err = BERTH_ERROR_INIT;
	o.compose.cwd = dir;
	o.compose.environ = env;
	o.host_arch = "x86_64";
	if (file)
		strvec_push(&o.compose.files, file);
	int rc = lint_run(res, &o, &err);
	if (rc)
		fail_msg("lint failed: %s", err.msg);
	lint_options_release(&o);
	free(dir);
}

static void check_golden(const char *name, struct strbuf *got)
{
	char *dir = formats_dir();
	char *path = xstrfmt("%s/%s", dir, name);
	replace_all(got, dir, "@DIR@");
	replace_all(got, "\"version\": \"" BERTH_VERSION "\"", "\"version\": \"@VERSION@\"");
	const char *u = getenv("BERTH_UPDATE_FIXTURES");
	if (u && *u && strcmp(u, "0")) {
		spit(path, got->buf, got->len);
	} else {
		struct strbuf want = STRBUF_INIT;
		assert_int_equal(slurp(&want, path), 0);
		if (strcmp(want.buf, got->buf))
			fail_msg("%s differs:\n--- expected\n%s--- got\n%s", name, want.buf, got->buf);
		strbuf_release(&want);
	}
	free(path);
	free(dir);
}

static void test_text_golden(void **state)
{
	struct lint_result res = LINT_RESULT_INIT;
	struct strbuf out = STRBUF_INIT;
	lint_formats(&res, NULL);
	assert_true(res.nr >= 8);
	lint_format_text(&out, &res);
	check_golden("expected.txt", &out);
	strbuf_release(&out);
	lint_result_release(&res);
}

static void test_json_golden(void **state)
{
	struct lint_result res = LINT_RESULT_INIT;
	struct strbuf out = STRBUF_INIT;
	lint_formats(&res, NULL);
	lint_format_json(&out, &res);
	json_object *doc = json_tokener_parse(out.buf);
	assert_non_null(doc);
	json_object *findings, *summary, *fixable;
	assert_true(json_object_object_get_ex(doc, "findings", &findings));
	assert_int_equal(json_object_array_length(findings), res.nr);
	assert_true(json_object_object_get_ex(doc, "summary", &summary));
	assert_true(json_object_object_get_ex(summary, "fixable", &fixable));
	assert_int_equal(json_object_get_int(fixable), (int)lint_count_fixable(&res));
	json_object_put(doc);
	check_golden("expected.json", &out);
	strbuf_release(&out);
	lint_result_release(&res);
}

static void test_github_golden_and_escaping(void **state)
{
	struct lint_result res = LINT_RESULT_INIT;
	struct strbuf out = STRBUF_INIT;
	lint_formats(&res, NULL);
	lint_format_github(&out, &res);
	check_golden("expected.github", &out);
	for (char *line = out.buf; *line;) {
		char *nl = strchr(line, '\n');
		assert_non_null(nl); /* one annotation per line: messages are %0A-escaped */
		assert_true(!strncmp(line, "::error file=", 13) || !strncmp(line, "::warning file=", 15) ||
			    !strncmp(line, "::notice file=", 14));
		line = nl + 1;
	}
	strbuf_release(&out);
	lint_result_release(&res);

	/* properties escape ',' and ':' (a file name may hold them) */
	lint_formats(&res, "odd name, with: colon.yaml");
	lint_format_github(&out, &res);
	assert_non_null(strstr(out.buf, "::notice file=odd name%2C with%3A colon.yaml,line=4,col=5,title=BL027::"));
	strbuf_release(&out);
	lint_result_release(&res);
}

/* A python3 with jsonschema: Debian's first (what ci/install-build-deps installs). */
static const char *python_with_jsonschema(void)
{
	static const char *const candidates[] = { "/usr/bin/python3", "python3" };
	for (size_t i = 0; i < 2; i++) {
		const char *argv[] = { candidates[i], "-c", "import jsonschema", NULL };
		struct strbuf out = STRBUF_INIT;
		struct berth_error err = BERTH_ERROR_INIT;
		int rc = proc_capture(&out, argv, 60000, 0, &err);
		strbuf_release(&out);
		berth_error_release(&err);
		if (!rc)
			return candidates[i];
	}
	return NULL;
}

/* Validates doc against schema; fails the test with python's message. */
static void validate(const char *python, const char *schema, const struct strbuf *doc)
{
	char *tmp = make_tmpdir();
	assert_non_null(tmp);
	char *path = xstrfmt("%s/doc.json", tmp);
	assert_int_equal(spit(path, doc->buf, doc->len), 0);
	static const char script[] =
		"import json, sys, jsonschema\n"
		"schema = json.load(open(sys.argv[1]))\n"
		"doc = json.load(open(sys.argv[2]))\n"
		"cls = jsonschema.validators.validator_for(schema)\n"
		"cls.check_schema(schema)\n"
		"errors = sorted(cls(schema).iter_errors(doc), key=lambda e: list(e.path))\n"
		"for e in errors[:5]:\n"
		"    print('/'.join(map(str, e.path)) + ': ' + e.message)\n"
		"sys.exit(1 if errors else 0)\n";
	struct proc p;
	struct strbuf out = STRBUF_INIT, errb = STRBUF_INIT;
	struct berth_error err = BERTH_ERROR_INIT;
	proc_init(&p);
	strvec_pushl(&p.argv, python, "-c", script, schema, path, NULL);
	p.in.mode = PROC_NULL;
	p.out.mode = PROC_PIPE;
	p.out.buf = &out;
	p.err.mode = PROC_PIPE;
	p.err.buf = &errb;
	p.deadline_ms = proc_deadline_in(120000);
	assert_int_equal(proc_run(&p, &err), 0);
	if (p.exit_code != 0)
		fail_msg("%s does not validate against %s:\n%s%s", path, schema, out.buf, errb.buf);
	proc_release(&p);
	strbuf_release(&out);
	strbuf_release(&errb);
	berth_error_release(&err);
	remove_tree(tmp);
	free(tmp);
	free(path);
}

static void test_sarif_validates_against_the_schema(void **state)
{
	const char *python = python_with_jsonschema();
	if (!python)
		skip(); /* no python3-jsonschema: ci/install-build-deps installs it */
	char *schema = xstrfmt("%s/../shared/schemas/sarif-2.1.0.json", source_dir());
	if (!exists(schema)) {
		free(schema);
		skip();
	}
	struct lint_result res = LINT_RESULT_INIT;
	struct strbuf out = STRBUF_INIT;
	lint_formats(&res, NULL);
	assert_true(lint_count_fixable(&res) > 0); /* fixes are part of what is validated */
	lint_format_sarif(&out, &res);
	validate(python, schema, &out);
	json_object *doc = json_tokener_parse(out.buf), *runs, *run, *results;
	assert_non_null(doc);
	assert_true(json_object_object_get_ex(doc, "runs", &runs));
	run = json_object_array_get_idx(runs, 0);
	assert_true(json_object_object_get_ex(run, "results", &results));
	assert_int_equal(json_object_array_length(results), res.nr);
	json_object_put(doc);
	strbuf_release(&out);
	lint_result_release(&res);

	/* no findings at all is valid SARIF too */
	lint_formats(&res, "odd name, with: colon.yaml");
	lint_result_release(&res);
	struct lint_result empty = LINT_RESULT_INIT;
	lint_format_sarif(&out, &empty);
	validate(python, schema, &out);
	strbuf_release(&out);
	free(schema);
}

static void test_json_validates_against_its_schema(void **state)
{
	const char *python = python_with_jsonschema();
	if (!python)
		skip();
	char *schema = xstrfmt("%s/docs/lint-json.schema.json", source_dir());
	struct lint_result res = LINT_RESULT_INIT;
	struct strbuf out = STRBUF_INIT;
	lint_formats(&res, NULL);
	lint_format_json(&out, &res);
	validate(python, schema, &out);
	strbuf_release(&out);
	lint_result_release(&res);
	free(schema);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text_golden),
		cmocka_unit_test(test_json_golden),
		cmocka_unit_test(test_github_golden_and_escaping),
		cmocka_unit_test(test_sarif_validates_against_the_schema),
		cmocka_unit_test(test_json_validates_against_its_schema),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
