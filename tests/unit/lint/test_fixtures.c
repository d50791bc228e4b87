/* Runs every fixture under fixtures/lint: each rule has <code>-<name>/positive
 * (lint finds the rule: `expected` holds the text output) and negative (no
 * finding of that rule); fixable rules have positive/fixed/ with the files as
 * --fix must leave them, and a second fix must change nothing.
 * BERTH_UPDATE_FIXTURES=1 rewrites `expected` and fixed/ from the output. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "lint/rules.h"
#include "tests/unit/lint/util.h"
#include "common/banned.h"

static bool updating(void)
{
	const char *u = getenv("BERTH_UPDATE_FIXTURES");
	return u && *u && strcmp(u, "0");
}

/* Lints dir; fills out with the text output (paths relative to dir, dir
 * itself shown as @DIR@). Returns the number of findings, or -1. */
static int lint_dir(struct strbuf *out, struct lint_result *res, const char *dir, const char *code)
{
	struct fixture_opts fo;
	struct berth_error err = BERTH_ERROR_INIT;
	if (fixture_opts_load(&fo, dir, code)) {
		print_error("%s: bad options file\n", dir);
		return -1;
	}
	int rc = lint_run(res, &fo.lo, &err);
	if (rc) {
		struct strbuf e = STRBUF_INIT;
		berth_error_format(&err, &e);
		print_error("%s: lint failed: %s\n", dir, e.buf);
		strbuf_release(&e);
		berth_error_release(&err);
		fixture_opts_release(&fo);
		return -1;
	}
	lint_format_text(out, res);
	replace_all(out, dir, "@DIR@");
	fixture_opts_release(&fo);
	return (int)res->nr;
}

static int compare_expected(const char *dir, const struct strbuf *got)
{
	char *path = xstrfmt("%s/expected", dir);
	struct strbuf want = STRBUF_INIT;
	int bad = 0;
	if (updating()) {
		spit(path, got->buf, got->len);
	} else {
		if (exists(path))
			slurp(&want, path);
		if (strcmp(want.buf, got->buf)) {
			print_error("%s: output differs\n--- expected\n%s--- got\n%s", dir, want.buf, got->buf);
			bad = 1;
		}
	}
	strbuf_release(&want);
	free(path);
	return bad;
}

/* Applies the fixes in a copy of dir and compares with dir/fixed/. */
static int check_fix(const char *dir, const char *code)
{
	char *fixed = xstrfmt("%s/fixed", dir);
	char *tmp = make_tmpdir();
	int bad = 0;
	assert_non_null(tmp);
	char *work = xstrfmt("%s/case", tmp);
	assert_int_equal(copy_tree(dir, work), 0);
	/* the options file names paths relative to the fixture: lint the copy with them */
	char *opts = xstrfmt("%s/options", dir);
	if (exists(opts)) {
		struct strbuf sb = STRBUF_INIT;
		char *to = xstrfmt("%s/options", work);
		slurp(&sb, opts);
		spit(to, sb.buf, sb.len);
		strbuf_release(&sb);
		free(to);
	}
	free(opts);
	for (int round = 0; round < 2 && !bad; round++) {
		struct lint_result res = LINT_RESULT_INIT;
		struct strbuf out = STRBUF_INIT;
		struct berth_error err = BERTH_ERROR_INIT;
		struct lint_file_change *ch = NULL;
		size_t nr = 0, changed = 0;
		if (lint_dir(&out, &res, work, code) < 0 || lint_fix_plan(&ch, &nr, &res, &err)) {
			bad = 1;
		} else {
			for (size_t i = 0; i < nr; i++) {
				if (ch[i].before.len == ch[i].after.len && !memcmp(ch[i].before.buf, ch[i].after.buf, ch[i].before.len))
					continue;
				changed++;
				if (lint_fix_write(&ch[i], &err)) {
					print_error("%s: writing the fix failed: %s\n", dir, err.msg);
					bad = 1;
				}
			}
			if (round == 0 && !changed) {
				print_error("%s: --fix changed nothing\n", dir);
				bad = 1;
			}
			if (round == 1 && changed) {
				print_error("%s: a second --fix changed %zu file(s) again\n", dir, changed);
				bad = 1;
			}
		}
		lint_file_changes_free(ch, nr);
		berth_error_release(&err);
		strbuf_release(&out);
		lint_result_release(&res);
	}
	struct strvec names = STRVEC_INIT;
	if (updating()) {
		if (!is_dir(fixed))
			mkdir(fixed, 0755);
		list_dir(&names, work);
		for (size_t i = 0; i < names.nr; i++) {
			char *p = xstrfmt("%s/%s", work, names.v[i]);
			char *golden = xstrfmt("%s/%s", fixed, names.v[i]);
			struct strbuf sb = STRBUF_INIT;
			if (!is_dir(p) && strcmp(names.v[i], "options")) {
				slurp(&sb, p);
				spit(golden, sb.buf, sb.len);
			}
			strbuf_release(&sb);
			free(p);
			free(golden);
		}
	} else {
		list_dir(&names, fixed);
		if (!names.nr) {
			print_error("%s: fixed/ is missing or empty\n", dir);
			bad = 1;
		}
		for (size_t i = 0; i < names.nr; i++) {
			char *p = xstrfmt("%s/%s", work, names.v[i]);
			char *golden = xstrfmt("%s/%s", fixed, names.v[i]);
			struct strbuf a = STRBUF_INIT, b = STRBUF_INIT;
			slurp(&a, golden);
			slurp(&b, p);
			if (strcmp(a.buf, b.buf)) {
				print_error("%s: fixed %s differs\n--- expected\n%s--- got\n%s", dir, names.v[i], a.buf, b.buf);
				bad = 1;
			}
			strbuf_release(&a);
			strbuf_release(&b);
			free(p);
			free(golden);
		}
	}
	strvec_clear(&names);
	remove_tree(tmp);
	free(tmp);
	free(work);
	free(fixed);
	return bad;
}

static int run_case(const struct lint_rule *r, const char *dir, bool positive)
{
	struct strbuf out = STRBUF_INIT;
	struct lint_result res = LINT_RESULT_INIT;
	int bad = 0;
	if (!is_dir(dir)) {
		print_error("%s: missing\n", dir);
		return 1;
	}
	int n = lint_dir(&out, &res, dir, r->code);
	if (n < 0) {
		bad = 1;
	} else {
		size_t mine = 0, fixable = 0;
		for (size_t i = 0; i < res.nr; i++)
			if (res.findings[i].rule == r) {
				mine++;
				fixable += res.findings[i].edits_nr > 0;
			}
		if (positive && !mine) {
			print_error("%s: expected %s findings, got none\n%s", dir, r->code, out.buf);
			bad = 1;
		}
		if (!positive && mine) {
			print_error("%s: expected no %s finding, got\n%s", dir, r->code, out.buf);
			bad = 1;
		}
		bad |= compare_expected(dir, &out);
		char *fixed = xstrfmt("%s/fixed", dir);
		if (positive && r->fixable) {
			if (!fixable) {
				print_error("%s: %s is fixable but no finding carries a fix\n", dir, r->code);
				bad = 1;
			}
			bad |= check_fix(dir, r->code);
		} else if (is_dir(fixed)) {
			print_error("%s: fixed/ for a rule or case without fixes\n", dir);
			bad = 1;
		}
		free(fixed);
	}
	lint_result_release(&res);
	strbuf_release(&out);
	return bad;
}

static void test_every_rule_has_passing_fixtures(void **state)
{
	int failures = 0;
	for (size_t i = 0; i < R_COUNT; i++) {
		const struct lint_rule *r = &lint_rules[i];
		char *base = xstrfmt("%s/fixtures/lint/%s-%s", source_dir(), r->code, r->name);
		char *pos = xstrfmt("%s/positive", base), *neg = xstrfmt("%s/negative", base);
		failures += run_case(r, pos, true);
		failures += run_case(r, neg, false);
		free(base);
		free(pos);
		free(neg);
	}
	if (failures)
		fail_msg("%d fixture case(s) failed", failures);
}

static void test_no_stray_fixture_directories(void **state)
{
	struct strvec names = STRVEC_INIT;
	char *dir = xstrfmt("%s/fixtures/lint", source_dir());
	assert_int_equal(list_dir(&names, dir), 0);
	int stray = 0;
	for (size_t i = 0; i < names.nr; i++) {
		if (names.v[i][0] == '_')
			continue; /* shared inputs of other tests */
		bool known = false;
		for (size_t k = 0; k < R_COUNT && !known; k++) {
			char *want = xstrfmt("%s-%s", lint_rules[k].code, lint_rules[k].name);
			known = !strcmp(want, names.v[i]);
			free(want);
		}
		if (!known) {
			print_error("fixtures/lint/%s matches no rule (code-name)\n", names.v[i]);
			stray++;
		}
	}
	strvec_clear(&names);
	free(dir);
	assert_int_equal(stray, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_rule_has_passing_fixtures),
		cmocka_unit_test(test_no_stray_fixture_directories),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
