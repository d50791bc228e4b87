/* The rule table is data and docs/lint-rules.md documents it: both must list
 * the same codes with the same severity and title, each rule with its own
 * section. Also checks the table itself (codes in order, names unique). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ctype.h>

#include "lint/rules.h"
#include "tests/unit/lint/util.h"
#include "common/banned.h"

static char *trimmed(const char *s, size_t n)
{
	while (n && isspace((unsigned char)*s)) {
		s++;
		n--;
	}
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	return xstrndup(s, n);
}

struct doc_row {
	char *code, *severity, *title;
};

/* Rows of the summary table: "| BL001 | warning | title | targets | fix |". */
static size_t doc_rows(struct doc_row **out, const char *text)
{
	struct doc_row *rows = NULL;
	size_t nr = 0, alloc = 0;
	for (const char *line = text; line && *line;) {
		const char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) : strlen(line);
		if (len > 4 && !strncmp(line, "| BL", 4)) {
			const char *cells[4];
			size_t lens[4], k = 0;
			const char *p = line + 1, *end = line + len;
			while (k < 4 && p < end) {
				const char *bar = memchr(p, '|', (size_t)(end - p));
				if (!bar)
					break;
				cells[k] = p;
				lens[k] = (size_t)(bar - p);
				k++;
				p = bar + 1;
			}
			if (k >= 3) {
				ALLOC_GROW(rows, nr + 1, alloc);
				rows[nr].code = trimmed(cells[0], lens[0]);
				rows[nr].severity = trimmed(cells[1], lens[1]);
				rows[nr].title = trimmed(cells[2], lens[2]);
				nr++;
			}
		}
		line = nl ? nl + 1 : NULL;
	}
	*out = rows;
	return nr;
}

static void test_doc_and_table_agree(void **state)
{
	struct strbuf doc = STRBUF_INIT;
	char *path = xstrfmt("%s/docs/lint-rules.md", source_dir());
	assert_int_equal(slurp(&doc, path), 0);
	struct doc_row *rows;
	size_t nr = doc_rows(&rows, doc.buf);
	int bad = 0;
	for (size_t i = 0; i < R_COUNT; i++) {
		const struct lint_rule *r = &lint_rules[i];
		const struct doc_row *row = NULL;
		for (size_t k = 0; k < nr && !row; k++)
			if (!strcmp(rows[k].code, r->code))
				row = &rows[k];
		if (!row) {
			print_error("%s is in lint/rules.c but not in docs/lint-rules.md\n", r->code);
			bad++;
			continue;
		}
		if (strcmp(row->severity, lint_severity_name(r->severity))) {
			print_error("%s: severity \"%s\" in the doc, \"%s\" in the code\n", r->code, row->severity,
				    lint_severity_name(r->severity));
			bad++;
		}
		if (strcmp(row->title, r->title)) {
			print_error("%s: title \"%s\" in the doc, \"%s\" in the code\n", r->code, row->title, r->title);
			bad++;
		}
		char *heading = xstrfmt("\n### %s %s\n", r->code, r->name);
		if (!strstr(doc.buf, heading)) {
			print_error("docs/lint-rules.md has no section \"### %s %s\"\n", r->code, r->name);
			bad++;
		}
		free(heading);
	}
	for (size_t k = 0; k < nr; k++) {
		if (!lint_rule_find(rows[k].code)) {
			print_error("%s is in docs/lint-rules.md but not in lint/rules.c\n", rows[k].code);
			bad++;
		}
		for (size_t j = 0; j < k; j++)
			if (!strcmp(rows[j].code, rows[k].code)) {
				print_error("%s is listed twice in docs/lint-rules.md\n", rows[k].code);
				bad++;
			}
	}
	for (size_t k = 0; k < nr; k++) {
		free(rows[k].code);
		free(rows[k].severity);
		free(rows[k].title);
	}
	free(rows);
	free(path);
	strbuf_release(&doc);
	assert_int_equal(bad, 0);
}

static void test_table_is_well_formed(void **state)
{
	assert_true(R_COUNT >= 25);
	for (size_t i = 0; i < R_COUNT; i++) {
		const struct lint_rule *r = &lint_rules[i];
		char code[16];
		snprintf(code, sizeof(code), "BL%03zu", i + 1);
		assert_string_equal(r->code, code); /* codes follow the enum, never renumbered */
		assert_non_null(r->name);
		for (const char *p = r->name; *p; p++)
			assert_true(islower((unsigned char)*p) || isdigit((unsigned char)*p) || *p == '-');
		for (size_t k = 0; k < i; k++)
			assert_string_not_equal(lint_rules[k].name, r->name);
		assert_non_null(r->title);
		assert_non_null(r->explanation);
		assert_non_null(r->help);
		assert_true(r->targets != 0);
		assert_true(r->service || r->project);
		assert_true(r->title[strlen(r->title) - 1] != '.');
		assert_true(r->help[strlen(r->help) - 1] != '.');
		assert_ptr_equal(lint_rule_find(r->code), r);
		assert_int_equal(lint_rule_index(r), i);
		for (int t = 0; t < LINT_TARGET_COUNT; t++) {
			struct lint_version v;
			if (r->fixed_in[t])
				assert_int_equal(lint_version_parse(&v, r->fixed_in[t]), 0);
		}
	}
}

static void test_rules_apply_by_target_and_version(void **state)
{
	struct lint_version old, v215;
	assert_int_equal(lint_version_parse(&old, "v2.0.3"), 0);
	assert_int_equal(lint_version_parse(&v215, "2.1.5"), 0);
	const struct lint_rule *hc = &lint_rules[R_HEALTHCHECK_NOT_RUN];
	assert_false(lint_rule_applies(hc, LINT_TARGET_NERDCTL, NULL)); /* the newest release is assumed */
	assert_true(lint_rule_applies(hc, LINT_TARGET_NERDCTL, &old));
	assert_false(lint_rule_applies(hc, LINT_TARGET_NERDCTL, &v215));
	assert_false(lint_rule_applies(hc, LINT_TARGET_DOCKER, &old));
	const struct lint_rule *cond = &lint_rules[R_DEPENDS_ON_CONDITION];
	assert_true(lint_rule_applies(cond, LINT_TARGET_NERDCTL, NULL));
	assert_false(lint_rule_applies(cond, LINT_TARGET_PODMAN, NULL));
	struct lint_version p45;
	assert_int_equal(lint_version_parse(&p45, "4.5.1"), 0);
	assert_true(lint_rule_applies(cond, LINT_TARGET_PODMAN, &p45));
	/* docker: only what Docker itself warns about */
	size_t docker = 0;
	for (size_t i = 0; i < R_COUNT; i++)
		docker += lint_rule_applies(&lint_rules[i], LINT_TARGET_DOCKER, NULL);
	assert_int_equal(docker, 1);
	assert_true(lint_rule_applies(&lint_rules[R_OBSOLETE_VERSION], LINT_TARGET_DOCKER, NULL));
}

static void test_versions(void **state)
{
	struct lint_version a, b;
	assert_int_equal(lint_version_parse(&a, "1.14"), 0);
	assert_int_equal(lint_version_parse(&b, "1.14.0-rc.1"), 0);
	assert_int_equal(lint_version_cmp(&a, &b), 0);
	assert_int_equal(lint_version_parse(&b, "1.9.9"), 0);
	assert_int_equal(lint_version_cmp(&b, &a), -1);
	assert_int_not_equal(lint_version_parse(&a, "latest"), 0);
	assert_int_not_equal(lint_version_parse(&a, "1.x"), 0);
	assert_int_not_equal(lint_version_parse(&a, ""), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_doc_and_table_agree),
		cmocka_unit_test(test_table_is_well_formed),
		cmocka_unit_test(test_rules_apply_by_target_and_version),
		cmocka_unit_test(test_versions),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
