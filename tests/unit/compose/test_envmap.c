#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/strbuf.h"
#include "compose/envmap.h"
#include "common/banned.h"

static void test_set_get_order(void **state)
{
	struct envmap m = ENVMAP_INIT;
	assert_null(envmap_find(&m, "A"));
	assert_null(envmap_get(&m, "A"));
	envmap_set(&m, "B", "1");
	envmap_set(&m, "A", "2");
	envmap_set(&m, "C", NULL);
	envmap_set(&m, "B", "3"); /* replaced in place */
	assert_int_equal(m.nr, 3);
	assert_string_equal(m.items[0].key, "B");
	assert_string_equal(m.items[0].value, "3");
	assert_string_equal(m.items[1].key, "A");
	assert_string_equal(m.items[2].key, "C");
	assert_string_equal(envmap_get(&m, "B"), "3");
	/* declared but unset: found, no value */
	assert_non_null(envmap_find(&m, "C"));
	assert_null(envmap_find(&m, "C")->value);
	assert_null(envmap_get(&m, "C"));
	envmap_set(&m, "C", "");
	assert_string_equal(envmap_get(&m, "C"), "");
	envmap_set(&m, "A", NULL);
	assert_null(envmap_get(&m, "A"));
	assert_non_null(envmap_find(&m, "A"));
	envmap_set(&m, "", "empty key");
	assert_string_equal(envmap_get(&m, ""), "empty key");
	envmap_release(&m);
	assert_int_equal(m.nr, 0);
	assert_null(envmap_get(&m, "B"));
	envmap_set(&m, "again", "x"); /* reusable after release */
	assert_string_equal(envmap_get(&m, "again"), "x");
	envmap_release(&m);
}

static void test_remove_keeps_order(void **state)
{
	struct envmap m;
	envmap_init(&m);
	envmap_remove(&m, "nothing");
	for (int i = 0; i < 50; i++) {
		char k[16], v[16];
		snprintf(k, sizeof(k), "K%d", i);
		snprintf(v, sizeof(v), "%d", i);
		envmap_set(&m, k, v);
	}
	envmap_remove(&m, "K0");
	envmap_remove(&m, "K25");
	envmap_remove(&m, "K49");
	envmap_remove(&m, "K25");
	assert_int_equal(m.nr, 47);
	assert_string_equal(m.items[0].key, "K1");
	assert_string_equal(m.items[46].key, "K48");
	assert_null(envmap_find(&m, "K25"));
	for (int i = 1; i < 49; i++) {
		char k[16], v[16];
		snprintf(k, sizeof(k), "K%d", i);
		snprintf(v, sizeof(v), "%d", i);
		if (i == 25)
			continue;
		assert_string_equal(envmap_get(&m, k), v);
	}
	envmap_set(&m, "K25", "back");
	assert_string_equal(m.items[47].key, "K25");
	envmap_release(&m);
}

static void test_many_keys(void **state)
{
	struct envmap m = ENVMAP_INIT;
	char k[32], v[32];
	for (int i = 0; i < 20000; i++) {
		snprintf(k, sizeof(k), "SERVICE_%d_PORT", i);
		snprintf(v, sizeof(v), "%d", 1000 + i);
		envmap_set(&m, k, v);
	}
	assert_int_equal(m.nr, 20000);
	for (int i = 0; i < 20000; i++) {
		snprintf(k, sizeof(k), "SERVICE_%d_PORT", i);
		snprintf(v, sizeof(v), "%d", 1000 + i);
		assert_string_equal(envmap_get(&m, k), v);
		assert_ptr_equal(envmap_find(&m, k), &m.items[i]);
	}
	assert_null(envmap_get(&m, "SERVICE_20000_PORT"));
	envmap_release(&m);
}

static void test_from_environ_and_copy(void **state)
{
	char *env[] = { "PATH=/bin", "EMPTY=", "EQ=a=b", "NOEQUALS", "PATH=/usr/bin", "=odd", NULL };
	struct envmap m = ENVMAP_INIT, c = ENVMAP_INIT;
	envmap_from_environ(&m, env);
	assert_int_equal(m.nr, 4);
	assert_string_equal(envmap_get(&m, "PATH"), "/usr/bin"); /* last wins, first position */
	assert_string_equal(m.items[0].key, "PATH");
	assert_string_equal(envmap_get(&m, "EMPTY"), "");
	assert_string_equal(envmap_get(&m, "EQ"), "a=b");
	assert_null(envmap_find(&m, "NOEQUALS"));
	assert_string_equal(envmap_get(&m, ""), "odd");
	envmap_from_environ(&m, NULL);

	envmap_set(&c, "STALE", "x");
	envmap_set(&m, "UNSET", NULL);
	envmap_copy(&c, &m);
	assert_int_equal(c.nr, m.nr);
	assert_null(envmap_find(&c, "STALE"));
	for (size_t i = 0; i < m.nr; i++) {
		assert_string_equal(c.items[i].key, m.items[i].key);
		assert_ptr_not_equal(c.items[i].key, m.items[i].key);
	}
	assert_non_null(envmap_find(&c, "UNSET"));
	assert_null(envmap_get(&c, "UNSET"));
	envmap_copy(&c, &c);
	assert_int_equal(c.nr, m.nr);
	assert_string_equal(envmap_lookup(&c, "EQ"), "a=b");
	assert_null(envmap_lookup(&c, "nope"));
	envmap_release(&m);
	envmap_release(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_set_get_order),
		cmocka_unit_test(test_remove_keeps_order),
		cmocka_unit_test(test_many_keys),
		cmocka_unit_test(test_from_environ_and_copy),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
