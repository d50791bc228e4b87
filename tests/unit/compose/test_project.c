#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/strbuf.h"
#include "compose/project.h"

static char *env[] = {"HOME=/home/tester", NULL};

static int load_fixture(struct compose_project *p, const char *name, struct berth_error *err)
{
	struct compose_options opt = COMPOSE_OPTIONS_INIT;
	struct strbuf path = STRBUF_INIT;
	strbuf_addf(&path, "%s/fixtures/compose/%s/compose.yaml", getenv("BERTH_SOURCE_DIR"), name);
	strvec_push(&opt.files, path.buf);
	opt.environ = env;
	int rc = compose_project_load(p, &opt, err);
	compose_options_release(&opt);
	strbuf_release(&path);
	return rc;
}

static void test_service_order_follows_dependencies(void **state)
{
	struct compose_project p = COMPOSE_PROJECT_INIT;
	struct berth_error err = BERTH_ERROR_INIT;
	assert_int_equal(load_fixture(&p, "network-modes", &err), 0);
	struct strvec order = STRVEC_INIT;
	compose_service_order(&p, &order);
	struct strbuf joined = STRBUF_INIT;
	strvec_join(&order, " ", &joined);
	/* legacy needs db, cache, data and vpn (ipc: service:vpn); app needs vpn */
	assert_string_equal(joined.buf, "cache data db hostnet vpn app legacy");
	strbuf_release(&joined);
	strvec_clear(&order);
	compose_project_release(&p);
}

static void test_implicit_dependencies(void **state)
{
	struct compose_project p = COMPOSE_PROJECT_INIT;
	struct berth_error err = BERTH_ERROR_INIT;
	assert_int_equal(load_fixture(&p, "network-modes", &err), 0);
	struct node *legacy = node_map_get(compose_services(&p), "legacy");
	struct node *deps = node_map_get(legacy, "depends_on");
	assert_non_null(node_map_get(deps, "db"));   /* links: db:database */
	assert_non_null(node_map_get(deps, "data")); /* volumes_from */
	assert_null(node_map_get(deps, "other"));    /* container:other is not a service */
	assert_false(node_map_get(node_map_get(deps, "data"), "restart")->v.b);
	assert_true(node_map_get(node_map_get(deps, "db"), "restart")->v.b);
	compose_project_release(&p);
}

static void test_deprecation_warning(void **state)
{
	struct compose_project p = COMPOSE_PROJECT_INIT;
	struct berth_error err = BERTH_ERROR_INIT;
	assert_int_equal(load_fixture(&p, "volumes-long", &err), 0);
	assert_int_equal(p.warnings.nr, 1);
	assert_string_equal(p.warnings.v[0],
			    "volumes.named_ext: external.name is deprecated. Please set name and external: true");
	compose_project_release(&p);
}

static void test_error_location(void **state)
{
	struct compose_project p = COMPOSE_PROJECT_INIT;
	struct berth_error err = BERTH_ERROR_INIT;
	assert_int_not_equal(load_fixture(&p, "errors-nested-unknown-key", &err), 0);
	assert_int_equal(err.line, 6);
	assert_int_equal(err.col, 9);
	assert_string_equal(err.path, "services.web.deploy.resources");
	assert_string_equal(err.msg, "unknown key \"limitz\"");
	assert_non_null(strstr(err.file, "errors-nested-unknown-key/compose.yaml"));
	berth_error_release(&err);
	compose_project_release(&p);
}

static void test_project_name_rules(void **state)
{
	struct arena a = ARENA_INIT;
	assert_string_equal(compose_normalize_project_name(&a, "My_Project-1"), "my_project-1");
	assert_string_equal(compose_normalize_project_name(&a, "__Déjà vu!"), "djvu");
	assert_string_equal(compose_normalize_project_name(&a, "-_-"), "");
	arena_release(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_service_order_follows_dependencies),
		cmocka_unit_test(test_implicit_dependencies),
		cmocka_unit_test(test_deprecation_warning),
		cmocka_unit_test(test_error_location),
		cmocka_unit_test(test_project_name_rules),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
