#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include <stdlib.h>

#include "common/strbuf.h"
#include "common/strvec.h"
#include "common/error.h"

static void test_addf_grows(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	for (int i = 0; i < 1000; i++)
		strbuf_addf(&sb, "%d,", i);
	assert_int_equal(sb.len, strlen(sb.buf));
	assert_memory_equal(sb.buf, "0,1,2,", 6);
	assert_string_equal(sb.buf + sb.len - 4, "999,");
	strbuf_release(&sb);
	assert_int_equal(sb.len, 0);
	assert_string_equal(sb.buf, "");
}

static void test_json_string(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	const char in[] = "a\"b\\c\n<&>\x01";
	strbuf_add_json_string(&sb, in, sizeof(in) - 1);
	assert_string_equal(sb.buf, "\"a\\\"b\\\\c\\n\\u003c\\u0026\\u003e\\u0001\"");
	strbuf_release(&sb);
}

static void test_detach_and_insert(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	char *empty = strbuf_detach(&sb, NULL);
	assert_string_equal(empty, "");
	free(empty);
	strbuf_addstr(&sb, "world");
	strbuf_insertstr(&sb, 0, "hello ");
	strbuf_addstr(&sb, "  \n");
	strbuf_trim(&sb);
	assert_string_equal(sb.buf, "hello world");
	size_t len;
	char *s = strbuf_detach(&sb, &len);
	assert_int_equal(len, 11);
	free(s);
}

static void test_strvec(void **state)
{
	struct strvec sv = STRVEC_INIT;
	strvec_pushl(&sv, "a", "b", NULL);
	strvec_pushf(&sv, "%s=%d", "c", 3);
	assert_int_equal(sv.nr, 3);
	assert_null(sv.v[3]);
	assert_int_equal(strvec_find(&sv, "c=3"), 2);
	assert_int_equal(strvec_find(&sv, "x"), -1);
	struct strbuf sb = STRBUF_INIT;
	strvec_join(&sv, " ", &sb);
	assert_string_equal(sb.buf, "a b c=3");
	strvec_pop(&sv);
	assert_int_equal(sv.nr, 2);
	strvec_clear(&sv);
	strbuf_release(&sb);
}

static void test_error_format(void **state)
{
	struct berth_error err = BERTH_ERROR_INIT;
	int rc = berth_error_set_at(&err, BERTH_E_INVALID, "compose.yaml", 12, 7, "services.web.ports[0]",
				    "invalid port \"%s\"", "80:abc");
	assert_int_equal(rc, BERTH_E_INVALID);
	berth_error_prefix(&err, "loading service '%s'", "web");
	struct strbuf sb = STRBUF_INIT;
	berth_error_format(&err, &sb);
	assert_string_equal(
		sb.buf,
		"compose.yaml:12:7: error: services.web.ports[0]: loading service 'web': invalid port \"80:abc\"");
	strbuf_release(&sb);
	berth_error_release(&err);
	assert_int_equal(err.code, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_addf_grows),        cmocka_unit_test(test_json_string),
		cmocka_unit_test(test_detach_and_insert), cmocka_unit_test(test_strvec),
		cmocka_unit_test(test_error_format),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
