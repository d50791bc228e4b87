/* lint/source.c: positions as libyaml counts them, scalars read back from
 * their position and decoded, the verification every fix relies on. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "compose/node.h"
#include "compose/yaml_load.h"
#include "lint/source.h"
#include "tests/unit/lint/util.h"
#include "common/banned.h"

struct parsed {
	struct arena a;
	struct node *root;
	struct lint_source src;
};

static void parse(struct parsed *p, const char *text)
{
	struct berth_error err = BERTH_ERROR_INIT;
	p->a = (struct arena)ARENA_INIT;
	if (compose_yaml_parse(&p->root, &p->a, "t.yaml", text, strlen(text), &err))
		fail_msg("parse: %s", err.msg);
	lint_source_init_text(&p->src, "t.yaml", text, strlen(text));
}

static void release(struct parsed *p)
{
	lint_source_release(&p->src);
	arena_release(&p->a);
}

/* Reads the value of key in the root map and checks it decodes to want and
 * spans exactly span in the text. */
static void check_scalar(struct parsed *p, const char *key, bool flow, const char *want, const char *span)
{
	const struct node *n = node_map_get(p->root, key);
	assert_non_null(n);
	struct lint_scalar s = LINT_SCALAR_INIT;
	assert_true(lint_scalar_at(&p->src, n, flow, &s));
	assert_string_equal(s.value.buf, want);
	char *got = xstrndup(p->src.text.buf + s.start, s.end - s.start);
	assert_string_equal(got, span);
	free(got);
	assert_true(lint_scalar_verified(&p->src, n, flow, &s));
	lint_scalar_release(&s);
}

static void test_scalars_read_back(void **state)
{
	struct parsed p;
	parse(&p, "plain: hello world   # comment\n"
		  "colon: a:b:c\n"
		  "dq: \"a \\\"q\\\" \\u00e9\\t\\\\\"\n"
		  "sq: 'it''s'\n"
		  "anchored: &x !!str 42\n"
		  "folded: \"one\n  two\n\n  three\"\n"
		  "esc: \"a\\\n   b\"\n"
		  "empty: \"\"\n");
	check_scalar(&p, "plain", false, "hello world", "hello world");
	check_scalar(&p, "colon", false, "a:b:c", "a:b:c");
	check_scalar(&p, "dq", false, "a \"q\" \xc3\xa9\t\\", "\"a \\\"q\\\" \\u00e9\\t\\\\\"");
	check_scalar(&p, "sq", false, "it's", "'it''s'");
	check_scalar(&p, "anchored", false, "42", "42");
	check_scalar(&p, "folded", false, "one two\nthree", "\"one\n  two\n\n  three\"");
	check_scalar(&p, "esc", false, "ab", "\"a\\\n   b\"");
	check_scalar(&p, "empty", false, "", "\"\"");
	release(&p);
}

static void test_flow_context(void **state)
{
	struct parsed p;
	parse(&p, "l: [a b, 'c', \"d,e\"]\nm: {k: v, w: x}\n");
	const struct node *l = node_map_get(p.root, "l");
	assert_int_equal(lint_source_char_at(&p.src, l), '[');
	struct lint_scalar s = LINT_SCALAR_INIT;
	const char *want[] = { "a b", "c", "d,e" };
	for (size_t i = 0; i < 3; i++) {
		assert_true(lint_scalar_verified(&p.src, l->items[i], true, &s));
		assert_string_equal(s.value.buf, want[i]);
	}
	/* read as block context, a plain item runs to the end of the line: no match */
	assert_false(lint_scalar_verified(&p.src, l->items[0], false, &s));
	const struct node *m = node_map_get(p.root, "m");
	assert_true(lint_scalar_verified(&p.src, node_map_get(m, "k"), true, &s));
	assert_string_equal(s.value.buf, "v");
	lint_scalar_release(&s);
	release(&p);
}

static void test_columns_count_characters(void **state)
{
	struct parsed p;
	/* libyaml counts characters: "é" is one column, two bytes */
	parse(&p, "k\xc3\xa9\xc3\xa9: v\xc3\xa9rit\xc3\xa9 # x\nnext: 1\n");
	const struct node *v = node_map_get(p.root, "k\xc3\xa9\xc3\xa9");
	assert_int_equal(v->col, 6);
	size_t off;
	assert_true(lint_source_offset(&p.src, v->line, v->col, &off));
	assert_int_equal(off, 7); /* bytes: k, é(2), é(2), :, space */
	int line, col;
	lint_source_linecol(&p.src, off, &line, &col);
	assert_int_equal(line, 1);
	assert_int_equal(col, 6);
	struct lint_scalar s = LINT_SCALAR_INIT;
	assert_true(lint_scalar_verified(&p.src, v, false, &s));
	lint_scalar_release(&s);
	assert_false(lint_source_offset(&p.src, 1, 80, &off));
	assert_false(lint_source_offset(&p.src, 9, 1, &off));
	release(&p);
}

static void test_bom_and_crlf(void **state)
{
	struct parsed p;
	parse(&p, "\xEF\xBB\xBFversion: '3'\r\nservices: {}\r\n");
	const struct node *v = node_map_get(p.root, "version");
	struct lint_scalar s = LINT_SCALAR_INIT;
	assert_true(lint_scalar_verified(&p.src, v, false, &s));
	assert_string_equal(s.value.buf, "3");
	lint_scalar_release(&s);
	const struct node *sv = node_map_get(p.root, "services");
	assert_int_equal(lint_source_char_at(&p.src, sv), '{');
	release(&p);
}

static void test_block_scalars_are_not_verified(void **state)
{
	struct parsed p;
	parse(&p, "a: |\n  line one\n  line two\nb: x\n");
	const struct node *a = node_map_get(p.root, "a");
	struct lint_scalar s = LINT_SCALAR_INIT;
	assert_true(lint_scalar_at(&p.src, a, false, &s));
	assert_int_equal(s.style, LINT_SCALAR_BLOCK);
	assert_non_null(strstr(s.value.buf, "line two"));
	assert_false(lint_scalar_verified(&p.src, a, false, &s));
	lint_scalar_release(&s);
	release(&p);
}

static void test_quoting_helpers(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	lint_yaml_quote(&sb, "a \"b\" \\ \n\t\x01");
	assert_string_equal(sb.buf, "\"a \\\"b\\\" \\\\ \\n\\t\\x01\"");
	strbuf_release(&sb);
	assert_true(lint_yaml_plain_ok("ingress"));
	assert_true(lint_yaml_plain_ok("CMD-SHELL"));
	assert_false(lint_yaml_plain_ok("true"));
	assert_false(lint_yaml_plain_ok("no"));
	assert_false(lint_yaml_plain_ok("1.0"));
	assert_false(lint_yaml_plain_ok("a: b"));
	assert_false(lint_yaml_plain_ok(""));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scalars_read_back),
		cmocka_unit_test(test_flow_context),
		cmocka_unit_test(test_columns_count_characters),
		cmocka_unit_test(test_bom_and_crlf),
		cmocka_unit_test(test_block_scalars_are_not_verified),
		cmocka_unit_test(test_quoting_helpers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
