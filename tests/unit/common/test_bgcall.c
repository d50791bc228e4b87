#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/bgcall.h"

struct counter {
	int runs;
	pthread_t ran_on;
};

static void *count(void *arg)
{
	struct counter *c = arg;
	c->runs++;
	c->ran_on = pthread_self();
	return NULL;
}

/* Each call runs exactly once, and its writes are seen after the wait. */
static void test_runs_once_and_is_seen_after_wait(void **state)
{
	struct counter cs[8] = {{0}};
	struct bg_call bc[8];
	for (int i = 0; i < 8; i++)
		bg_call_start(&bc[i], count, &cs[i]);
	for (int i = 0; i < 8; i++)
		bg_call_wait(&bc[i]);
	for (int i = 0; i < 8; i++) {
		assert_int_equal(cs[i].runs, 1);
		if (bc[i].threaded)
			fail_msg("threaded still set after the wait");
	}
	/* a second wait is harmless */
	bg_call_wait(&bc[0]);
	assert_int_equal(cs[0].runs, 1);
}

/* With a thread, the function ran on another thread than the caller's. */
static void test_runs_on_another_thread(void **state)
{
	struct counter c = {0};
	struct bg_call bc;
	bg_call_start(&bc, count, &c);
	bool threaded = bc.threaded;
	bg_call_wait(&bc);
	assert_int_equal(c.runs, 1);
	assert_true(threaded);
	assert_false(pthread_equal(c.ran_on, pthread_self()));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_runs_once_and_is_seen_after_wait),
		cmocka_unit_test(test_runs_on_another_thread),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
