/* The config hash: the convergence key stored in com.docker.compose.config-hash. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "util.h"
#include "common/banned.h"

static char *hash_of(const char *yaml, const char *svc)
{
	struct fx f;
	struct berth_error err = BERTH_ERROR_INIT;
	assert_int_equal(fx_load(&f, yaml, &err), 0);
	int i = rt_model_find(&f.m, svc);
	assert_true(i >= 0);
	char *h = xstrdup(f.m.svcs[i].hash);
	fx_release(&f);
	return h;
}

static void test_stable_and_order_free(void **state)
{
	char *a = hash_of("services:\n  s: {image: x, environment: {A: \"1\", B: \"2\"}, user: u}\n", "s");
	char *b = hash_of("services:\n  s: {user: u, environment: {B: \"2\", A: \"1\"}, image: x}\n", "s");
	assert_string_equal(a, b);
	assert_int_equal(strlen(a), 64);
	free(a);
	free(b);
}

static void test_what_counts(void **state)
{
	char *base = hash_of("services:\n  s: {image: x}\n  d: {image: y}\n", "s");
	/* scale, replicas, depends_on, profiles, pull_policy, build: not a new container */
	const char *same[] = {
		"services:\n  s: {image: x, scale: 3}\n  d: {image: y}\n",
		"services:\n  s: {image: x, deploy: {replicas: 2}}\n  d: {image: y}\n",
		"services:\n  s: {image: x, depends_on: [d]}\n  d: {image: y}\n",
		"services:\n  s: {image: x, pull_policy: never}\n  d: {image: y}\n",
		"services:\n  s: {image: x, build: .}\n  d: {image: y}\n",
	};
	for (size_t i = 0; i < sizeof(same) / sizeof(same[0]); i++) {
		char *h = hash_of(same[i], "s");
		assert_string_equal(h, base);
		free(h);
	}
	const char *differ[] = {
		"services:\n  s: {image: x, environment: [A=1]}\n  d: {image: y}\n",
		"services:\n  s: {image: x2}\n  d: {image: y}\n",
		"services:\n  s: {image: x, ports: [\"80\"]}\n  d: {image: y}\n",
		("services:\n  s: {image: x, deploy: {replicas: 2, resources: {limits: {cpus: \"1\"}}}}\n  d: {image: "
		 "y}\n"),
	};
	for (size_t i = 0; i < sizeof(differ) / sizeof(differ[0]); i++) {
		char *h = hash_of(differ[i], "s");
		assert_string_not_equal(h, base);
		free(h);
	}
	free(base);
}

static void test_canonical_json(void **state)
{
	struct fx f;
	struct berth_error err = BERTH_ERROR_INIT;
	assert_int_equal(fx_load(&f,
				 "services:\n  s: {image: x, cpus: 0.5, tty: true, environment: {Z: \"1\", A: null}}\n",
				 &err),
			 0);
	struct strbuf sb = STRBUF_INIT;
	rt_canonical_json(&sb, f.m.svcs[0].node);
	assert_string_equal(sb.buf, "{\"cpus\":0.5,\"environment\":{\"A\":null,\"Z\":\"1\"},\"image\":\"x\","
				    "\"networks\":{\"default\":null},\"tty\":true}");
	strbuf_release(&sb);
	fx_release(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stable_and_order_free),
		cmocka_unit_test(test_what_counts),
		cmocka_unit_test(test_canonical_json),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
