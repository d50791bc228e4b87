/* Split parsing (compose/yaml_load.c) gives exactly the whole-file tree. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#include "common/strbuf.h"
#include "compose/emit.h"
#include "compose/yaml_load.h"
#include "tests/unit/compose/yaml_split_check.h"

static void expect_same(const char *text, bool want_split)
{
	struct strbuf why = STRBUF_INIT;
	bool split = false;
	int bad = split_check(text, strlen(text), &split, &why);
	if (bad || split != want_split)
		print_error("split %d (want %d): %s\n--- text ---\n%.2000s\n", split, want_split, why.buf, text);
	assert_int_equal(bad, 0);
	assert_int_equal(split, want_split);
	strbuf_release(&why);
}

/* n services shaped like real ones: every value style compose files use. */
static void gen_services(struct strbuf *sb, int n, int indent, const char *extra)
{
	for (int i = 0; i < n; i++) {
		strbuf_addf(sb, "%*ssvc%04d:\n", indent, "", i);
		strbuf_addf(sb, "%*simage: ${IMAGE:-busybox}\n", 2 * indent, "");
		strbuf_addf(sb, "%*scommand: [\"serve\", \"--id\", \"%d\"]\n", 2 * indent, "", i);
		if (i % 3 == 0)
			strbuf_addf(sb, "%*sentrypoint: |\n%*ssh -c 'a && b'\n%*s  more: text\n\n", 2 * indent, "",
				    3 * indent, "", 3 * indent, "");
		if (i % 4 == 1)
			strbuf_addf(sb, "# a comment at column 0\n%*s# and an indented one\n", indent, "");
		if (i % 5 == 2)
			strbuf_addf(sb, "%*senvironment: {A: \"1\",\n%*s  B: '2'}\n", 2 * indent, "", 2 * indent, "");
		if (i % 7 == 3)
			strbuf_addf(sb, "%*slabels:\n%*s- \"x=y\"\n%*s- plain multi\n%*s  line scalar\n", 2 * indent,
				    "", 2 * indent, "", 2 * indent, "", 2 * indent, "");
		if (i % 11 == 4)
			strbuf_addf(sb, "%*sdepends_on: !reset []\n", 2 * indent, "");
		if (extra && i % 13 == 6)
			strbuf_addf(sb, "%*s%s", 2 * indent, "", extra);
		if (i % 2)
			strbuf_addf(sb, "%*sports:\n%*s  - \"127.0.0.1:%d:80\"\n", 2 * indent, "", 2 * indent, "",
				    20000 + i);
	}
}

static void test_split_matches_whole(void **state)
{
	(void)state;
	const char *heads[] = {"", "name: demo\nx-note: |\n  services: inside a block scalar\n",
			       "version: \"3.8\"\n\n# services below\n"};
	const char *tails[] = {"", "networks:\n  default: {}\nvolumes:\n  data:\n",
			       "# trailing comment\nx-end: \"quoted\"\n"};
	int indents[] = {2, 4, 1};
	for (size_t h = 0; h < 3; h++) {
		for (size_t t = 0; t < 3; t++) {
			for (size_t k = 0; k < 3; k++) {
				struct strbuf sb = STRBUF_INIT;
				strbuf_addf(&sb, "%sservices:   # the services\n\n", heads[h]);
				gen_services(&sb, 60, indents[k], NULL);
				strbuf_addstr(&sb, tails[t]);
				expect_same(sb.buf, true);
				strbuf_release(&sb);
			}
		}
	}
}

/* Text that could change meaning across the cut is parsed whole (or split
 * and still the same). */
static void test_split_declined(void **state)
{
	(void)state;
	struct strbuf sb = STRBUF_INIT;
	/* anchors and aliases in the services block */
	strbuf_addstr(&sb, "x-base: &base\n  image: busybox\nservices:\n");
	gen_services(&sb, 40, 2, "<<: *base\n");
	expect_same(sb.buf, false);
	strbuf_reset(&sb);
	strbuf_addstr(&sb, "services:\n");
	gen_services(&sb, 40, 2, "x-a: &anchor here\n");
	expect_same(sb.buf, false);
	/* several documents */
	strbuf_reset(&sb);
	strbuf_addstr(&sb, "services:\n");
	gen_services(&sb, 40, 2, NULL);
	strbuf_addstr(&sb, "---\nservices:\n  late:\n    image: x\n");
	expect_same(sb.buf, false);
	/* CRLF line ends */
	strbuf_reset(&sb);
	strbuf_addstr(&sb, "services:\r\n  a:\r\n    image: x\r\n  b:\r\n    image: y\r\n");
	expect_same(sb.buf, false);
	/* a flow-style services block */
	strbuf_reset(&sb);
	strbuf_addstr(&sb, "services: {\n  a: {image: x},\n  b: {image: y},\n  c: {image: z}\n}\n");
	expect_same(sb.buf, false);
	strbuf_release(&sb);
}

/* Every service is followed by a construct whose later lines look like a
 * service key at the service indent: wherever the cut lands, it is either
 * declined, or checked and found the same. */
static void test_split_tricky_continuations(void **state)
{
	(void)state;
	const char *tricks[] = {
		/* a double-quoted scalar whose next line is at the service indent */
		"command: \"echo\n  fake: key\"\n",
		/* a flow sequence spanning lines back at the service indent */
		"command: [a,\n  fake: b]\n",
		/* a single-quoted scalar */
		"command: 'echo\n  fake: key'\n",
	};
	const char *tails[] = {"", "volumes:\n  v: {}\n"};
	for (size_t i = 0; i < 3; i++) {
		for (size_t t = 0; t < 2; t++) {
			for (int n = 3; n < 12; n++) {
				struct strbuf sb = STRBUF_INIT;
				strbuf_addstr(&sb, "services:\n");
				gen_services(&sb, n, 2, NULL);
				/* put the trick in the middle service */
				strbuf_addf(&sb, "  trick:\n");
				strbuf_addf(&sb, "    %s", tricks[i]);
				gen_services(&sb, n, 2, NULL);
				strbuf_addstr(&sb, tails[t]);
				/* duplicate svcNNNN keys make both ways fail: compare the errors */
				struct strbuf why = STRBUF_INIT;
				bool split;
				int bad = split_check(sb.buf, sb.len, &split, &why);
				if (bad)
					print_error("%s\n%s\n", why.buf, sb.buf);
				assert_int_equal(bad, 0);
				strbuf_release(&why);
				strbuf_release(&sb);
			}
		}
	}
}

/* A quote opened in the services block and closed after it: the text after
 * the block must not be taken for top-level keys. */
static void test_split_suffix_closes_quote(void **state)
{
	(void)state;
	for (int n = 2; n < 10; n++) {
		struct strbuf sb = STRBUF_INIT;
		strbuf_addstr(&sb, "services:\n");
		gen_services(&sb, 1, 2, NULL);
		strbuf_addstr(&sb, "  trick:\n    command: \"abc\n");
		for (int i = 0; i < 4 * n; i++)
			strbuf_addf(&sb, "  late%d:\n    image: y\n", i);
		strbuf_addstr(&sb, "x-end: 1\"\nname: z\n");
		expect_same(sb.buf, false);
		strbuf_release(&sb);
	}
}

static void test_split_duplicate_across_halves(void **state)
{
	(void)state;
	struct strbuf sb = STRBUF_INIT;
	strbuf_addstr(&sb, "services:\n");
	gen_services(&sb, 30, 2, NULL);
	strbuf_addstr(&sb, "  svc0001:\n    image: again\n");
	struct strbuf why = STRBUF_INIT;
	bool split;
	assert_int_equal(split_check(sb.buf, sb.len, &split, &why), 0);
	assert_false(split);
	struct arena a = ARENA_INIT;
	struct berth_error err = BERTH_ERROR_INIT;
	struct node *root;
	compose_yaml_split_min = 0;
	assert_int_not_equal(compose_yaml_parse(&root, &a, "d.yaml", sb.buf, sb.len, &err), 0);
	compose_yaml_split_min = SIZE_MAX;
	assert_non_null(strstr(err.msg, "\"svc0001\" already defined"));
	berth_error_release(&err);
	arena_release(&a);
	strbuf_release(&why);
	strbuf_release(&sb);
}

/* Every compose file of the fixtures and the conformance corpus. */
static int check_dir_files(const char *dir, int depth)
{
	int n = 0;
	DIR *d = opendir(dir);
	if (!d)
		return 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char path[4096];
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		size_t l = strlen(e->d_name);
		if (depth > 0 && e->d_type == DT_DIR) {
			n += check_dir_files(path, depth - 1);
		} else if (l > 5 && (!strcmp(e->d_name + l - 5, ".yaml") || !strcmp(e->d_name + l - 4, ".yml"))) {
			struct strbuf sb = STRBUF_INIT, why = STRBUF_INIT;
			struct berth_error err = BERTH_ERROR_INIT;
			assert_int_equal(read_file_capped(&sb, path, YAML_MAX_BYTES, &err), 0);
			bool split;
			int bad = split_check(sb.buf, sb.len, &split, &why);
			if (bad)
				print_error("%s: %s\n", path, why.buf);
			assert_int_equal(bad, 0);
			n++;
			strbuf_release(&sb);
			strbuf_release(&why);
		}
	}
	closedir(d);
	return n;
}

static void test_split_corpus(void **state)
{
	(void)state;
	const char *src = getenv("BERTH_SOURCE_DIR");
	if (!src)
		src = ".";
	char dir[4096];
	snprintf(dir, sizeof(dir), "%s/fixtures/compose", src);
	int n = check_dir_files(dir, 2);
	snprintf(dir, sizeof(dir), "%s/../shared/conformance/cases", src);
	n += check_dir_files(dir, 2);
	assert_true(n > 40);
}

/* JSON printing of a big map in two threads gives the same text. */
static void test_json_split_matches(void **state)
{
	(void)state;
	for (int n = 2; n < 700; n = n * 3 + 1) {
		struct strbuf sb = STRBUF_INIT, one = STRBUF_INIT, two = STRBUF_INIT;
		strbuf_addstr(&sb, "name: p\nservices:\n");
		gen_services(&sb, n, 2, NULL);
		strbuf_addstr(&sb, "volumes:\n  v: {}\n");
		struct arena a = ARENA_INIT;
		struct berth_error err = BERTH_ERROR_INIT;
		struct node *root;
		assert_int_equal(compose_yaml_parse(&root, &a, "j.yaml", sb.buf, sb.len, &err), 0);
		struct emit_options eo = {.escape_dollar = true};
		size_t saved = compose_emit_json_split_min;
		compose_emit_json_split_min = SIZE_MAX;
		compose_emit_json(&one, root, &eo);
		compose_emit_json_split_min = 2;
		compose_emit_json(&two, root, &eo);
		compose_emit_json_split_min = saved;
		assert_true(one.len > (size_t)n * 20);
		assert_string_equal(one.buf, two.buf);
		arena_release(&a);
		strbuf_release(&sb);
		strbuf_release(&one);
		strbuf_release(&two);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split_matches_whole),
		cmocka_unit_test(test_split_declined),
		cmocka_unit_test(test_split_tricky_continuations),
		cmocka_unit_test(test_split_suffix_closes_quote),
		cmocka_unit_test(test_split_duplicate_across_halves),
		cmocka_unit_test(test_split_corpus),
		cmocka_unit_test(test_json_split_matches),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
