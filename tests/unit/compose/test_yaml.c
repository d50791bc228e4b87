#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "common/strbuf.h"

#include "common/error.h"
#include "compose/node.h"
#include "compose/yaml_load.h"

static struct node *parse(struct arena *a, const char *text, struct berth_error *err)
{
	struct node *root = NULL;
	int rc = compose_yaml_parse(&root, a, "t.yaml", text, strlen(text), err);
	return rc ? NULL : root;
}

static void test_scalars_resolve_like_yaml_v3(void **state)
{
	struct arena a = ARENA_INIT;
	struct berth_error err = BERTH_ERROR_INIT;
	struct node *r = parse(
		&a, "i: 42\no: 0400\nh: 0x1F\nf: 1.5\nb: true\nB: yes\nn: ~\ne:\ns: \"42\"\nv: 3.8\nneg: -7\n", &err);
	assert_non_null(r);
	assert_int_equal(node_map_get(r, "i")->kind, NODE_INT);
	assert_int_equal(node_map_get(r, "i")->v.i, 42);
	assert_int_equal(node_map_get(r, "o")->v.i, 256); /* leading zero is octal, as Go's ParseInt(s, 0) */
	assert_int_equal(node_map_get(r, "h")->v.i, 31);
	assert_int_equal(node_map_get(r, "f")->kind, NODE_FLOAT);
	assert_int_equal(node_map_get(r, "b")->kind, NODE_BOOL);
	assert_int_equal(node_map_get(r, "B")->kind, NODE_STR); /* YAML 1.2: yes is a string */
	assert_int_equal(node_map_get(r, "n")->kind, NODE_NULL);
	assert_int_equal(node_map_get(r, "e")->kind, NODE_NULL);
	assert_int_equal(node_map_get(r, "s")->kind, NODE_STR);
	assert_true(node_map_get(r, "s")->quoted);
	assert_int_equal(node_map_get(r, "neg")->v.i, -7);
	/* positions are 1-based */
	assert_int_equal(node_map_get(r, "f")->line, 4);
	assert_int_equal(node_map_get(r, "f")->col, 4);
	arena_release(&a);
}

static void test_anchors_and_merge_keys(void **state)
{
	struct arena a = ARENA_INIT;
	struct berth_error err = BERTH_ERROR_INIT;
	struct node *r = parse(&a,
			       "x: &c {image: a, restart: always}\n"
			       "y:\n  <<: *c\n  image: b\n"
			       "z:\n  <<: [*c, {tty: true}]\n"
			       "w: *c\n",
			       &err);
	assert_non_null(r);
	struct node *y = node_map_get(r, "y");
	assert_string_equal(node_map_get(y, "image")->str, "b"); /* explicit key wins */
	assert_string_equal(node_map_get(y, "restart")->str, "always");
	assert_null(node_map_get(y, "<<"));
	struct node *z = node_map_get(r, "z");
	assert_int_equal(node_map_get(z, "tty")->kind, NODE_BOOL);
	/* an alias is a copy: changing it leaves the anchor alone */
	struct node *w = node_map_get(r, "w");
	node_map_set(&a, w, "image", node_new_str(&a, "changed", NULL));
	assert_string_equal(node_map_get(node_map_get(r, "x"), "image")->str, "a");
	arena_release(&a);
}

static void test_tags_kept(void **state)
{
	struct arena a = ARENA_INIT;
	struct berth_error err = BERTH_ERROR_INIT;
	struct node *r = parse(&a, "p: !reset []\nq: !override [1]\nr: !!str 12\n", &err);
	assert_non_null(r);
	assert_int_equal(node_map_get(r, "p")->tag, NODE_TAG_RESET);
	assert_int_equal(node_map_get(r, "q")->tag, NODE_TAG_OVERRIDE);
	assert_int_equal(node_map_get(r, "r")->kind, NODE_STR);
	arena_release(&a);
}

static void test_errors_have_positions(void **state)
{
	struct arena a = ARENA_INIT;
	struct berth_error err = BERTH_ERROR_INIT;
	assert_null(parse(&a, "a: 1\na: 2\n", &err));
	assert_int_equal(err.line, 2);
	assert_int_equal(err.col, 1);
	assert_non_null(strstr(err.msg, "already defined at line 1"));
	berth_error_release(&err);

	assert_null(parse(&a, "services:\n  web:\n    image: nginx\n   ports: [\n", &err));
	assert_int_equal(err.code, BERTH_E_PARSE);
	assert_non_null(strstr(err.msg, "yaml"));
	assert_true(err.line > 0);
	berth_error_release(&err);

	assert_null(parse(&a, "a: *nope\n", &err));
	assert_non_null(strstr(err.msg, "unknown anchor"));
	berth_error_release(&err);

	assert_null(parse(&a, "a: \"x\xff\"\n", &err));
	assert_int_equal(err.line, 1);
	berth_error_release(&err);
	arena_release(&a);
}

static void test_billion_laughs_refused(void **state)
{
	struct arena a = ARENA_INIT;
	struct berth_error err = BERTH_ERROR_INIT;
	const char *doc = "a: &a [x,x,x,x,x,x,x,x,x,x]\n"
			  "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
			  "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
			  "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
			  "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
			  "f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
			  "g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f,*f]\n"
			  "h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g,*g]\n";
	assert_null(parse(&a, doc, &err));
	assert_int_equal(err.code, BERTH_E_LIMIT);
	assert_non_null(strstr(err.msg, "aliases"));
	berth_error_release(&err);
	arena_release(&a);
}

static void test_depth_limit(void **state)
{
	struct arena a = ARENA_INIT;
	struct berth_error err = BERTH_ERROR_INIT;
	char doc[2 * (YAML_MAX_DEPTH + 10) + 8];
	size_t n = 0;
	doc[n++] = 'a';
	doc[n++] = ':';
	doc[n++] = ' ';
	for (int i = 0; i < YAML_MAX_DEPTH + 5; i++)
		doc[n++] = '[';
	for (int i = 0; i < YAML_MAX_DEPTH + 5; i++)
		doc[n++] = ']';
	doc[n] = '\0';
	assert_null(parse(&a, doc, &err));
	assert_int_equal(err.code, BERTH_E_LIMIT);
	assert_non_null(strstr(err.msg, "nesting"));
	berth_error_release(&err);
	arena_release(&a);
}

static void test_empty_document(void **state)
{
	struct arena a = ARENA_INIT;
	struct berth_error err = BERTH_ERROR_INIT;
	struct node *r = parse(&a, "", &err);
	assert_non_null(r);
	assert_int_equal(r->kind, NODE_NULL);
	arena_release(&a);
}

/* Inputs over 128 KiB are parsed in a second thread: the same results,
 * the same errors, and an early stop that leaves nothing behind. */
static char *big_doc(size_t services, const char *tail)
{
	struct strbuf sb = STRBUF_INIT;
	strbuf_addstr(&sb, "services:\n");
	for (size_t i = 0; i < services; i++)
		strbuf_addf(&sb, "  svc%05zu:\n    image: img:%zu\n    environment: {A: \"%zu\", B: x}\n", i, i, i);
	strbuf_addstr(&sb, tail);
	return strbuf_detach(&sb, NULL);
}

static void test_threaded_parse_matches(void **state)
{
	struct arena a = ARENA_INIT;
	struct berth_error err = BERTH_ERROR_INIT;
	char *doc = big_doc(4000, "");
	assert_true(strlen(doc) > (256u << 10));
	struct node *r = parse(&a, doc, &err);
	assert_non_null(r);
	struct node *svcs = node_map_get(r, "services");
	assert_int_equal(svcs->nr, 4000);
	struct node *last = node_map_get(svcs, "svc03999");
	assert_string_equal(node_map_get(last, "image")->str, "img:3999");
	assert_int_equal(node_map_get(last, "image")->line, 2 + 3 * 3999 + 1);
	free(doc);
	arena_release(&a);
}

static void test_threaded_parse_errors(void **state)
{
	struct arena a = ARENA_INIT;
	struct berth_error err = BERTH_ERROR_INIT;
	/* a syntax error at the very end */
	char *doc = big_doc(4000, "   bad: [\n");
	assert_null(parse(&a, doc, &err));
	assert_int_equal(err.code, BERTH_E_PARSE);
	assert_true(err.line >= 3 * 4000);
	berth_error_release(&err);
	free(doc);
	/* a duplicate key early: the builder stops while the parser thread runs on */
	struct strbuf sb = STRBUF_INIT;
	strbuf_addstr(&sb, "x: 1\nx: 2\n");
	char *rest = big_doc(4000, "");
	strbuf_addstr(&sb, rest);
	free(rest);
	assert_null(parse(&a, sb.buf, &err));
	assert_int_equal(err.line, 2);
	assert_non_null(strstr(err.msg, "already defined"));
	berth_error_release(&err);
	strbuf_release(&sb);
	arena_release(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scalars_resolve_like_yaml_v3),
		cmocka_unit_test(test_anchors_and_merge_keys),
		cmocka_unit_test(test_tags_kept),
		cmocka_unit_test(test_errors_have_positions),
		cmocka_unit_test(test_billion_laughs_refused),
		cmocka_unit_test(test_depth_limit),
		cmocka_unit_test(test_empty_document),
		cmocka_unit_test(test_threaded_parse_matches),
		cmocka_unit_test(test_threaded_parse_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
