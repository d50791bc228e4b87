/* Reading engine state back: inspect JSON as docker 20.10, podman 4.3 and
 * nerdctl 1.7.7 print it (trimmed captures), list output, versions and the
 * caps they imply, and image HEALTHCHECKs from build history. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <json-c/json.h>

#include "runtime/engine.h"
#include "util.h"
#include "common/banned.h"

static const char docker_inspect[] =
	"[{\"Id\":\"93630b6d6cff6e50\",\"Created\":\"2026-11-22T13:30:41.6Z\",\"Path\":\"/bin/serve\",\"Args\":[],"
	"\"State\":{\"Status\":\"running\",\"Running\":true,\"ExitCode\":0,\"StartedAt\":\"2026-11-22T13:30:41.88Z\","
	"\"FinishedAt\":\"0001-01-01T00:00:00Z\",\"Health\":{\"Status\":\"healthy\",\"FailingStreak\":0}},"
	"\"Name\":\"/p-web-1\",\"Config\":{\"Image\":\"berth-test/web:1\",\"Labels\":{\"a\":\"b,c\","
	"\"com.docker.compose.project\":\"p\",\"com.docker.compose.service\":\"web\","
	"\"com.docker.compose.container-number\":\"2\",\"com.docker.compose.oneoff\":\"False\","
	"\"com.docker.compose.config-hash\":\"h1\"}},"
	"\"NetworkSettings\":{\"Ports\":{\"5433/tcp\":[{\"HostIp\":\"0.0.0.0\",\"HostPort\":\"32768\"},"
	"{\"HostIp\":\"::\",\"HostPort\":\"32768\"}],\"80/tcp\":null},"
	"\"Networks\":{\"p_default\":{\"IPAddress\":\"172.18.0.2\"}}}}]";

static const char podman_inspect[] =
	"[{\"Id\":\"1f1243fc28a6\",\"Created\":\"2026-11-22T13:30:42.35Z\",\"Path\":\"/bin/serve\","
	"\"Args\":[\"/bin/serve\"],\"State\":{\"Status\":\"exited\",\"Running\":false,\"ExitCode\":3,"
	"\"Health\":{\"Status\":\"starting\"}},\"Name\":\"p-job-1\",\"Config\":{\"Image\":\"localhost/x:1\","
	"\"Labels\":{\"com.docker.compose.project\":\"p\",\"com.docker.compose.service\":\"job\","
	"\"com.docker.compose.container-number\":\"1\",\"com.docker.compose.oneoff\":\"True\"}},"
	"\"NetworkSettings\":{\"Ports\":{\"80/tcp\":[{\"HostIp\":\"\",\"HostPort\":\"34887\"}]},"
	"\"Networks\":{\"p_default\":{\"IPAddress\":\"10.89.0.2\"}}}}]";

static const char nerdctl_inspect[] =
	"[{\"Id\":\"ab463b125618\",\"Created\":\"2026-11-22T13:30:42.5Z\",\"Path\":\"sh\",\"Args\":[\"-c\",\"echo a "
	"b\"],"
	"\"State\":{\"Status\":\"running\",\"Running\":true,\"ExitCode\":0,\"FinishedAt\":\"0001-01-01T00:00:00Z\"},"
	"\"Name\":\"p-db-1\",\"Config\":{\"Hostname\":\"db\",\"Labels\":{\"com.docker.compose.project\":\"p\","
	"\"com.docker.compose.service\":\"db\",\"nerdctl/networks\":\"[\\\"p_back\\\",\\\"p_front\\\"]\"}},"
	"\"NetworkSettings\":{\"Ports\":{},\"Networks\":{\"unknown-eth0\":{\"IPAddress\":\"10.4.0.14\"},"
	"\"unknown-eth1\":{\"IPAddress\":\"10.4.1.3\"}}}},"
	"{\"Id\":\"notacontainer\"}]";

static void test_inspect_docker(void **state)
{
	struct engine e;
	engine_init_static(&e, &engine_dialect_docker, "20.10.24", NULL);
	struct engine_container_list l = {0};
	struct berth_error err = BERTH_ERROR_INIT;
	assert_int_equal(engine_parse_inspect(&e, &l, docker_inspect, &err), 0);
	assert_int_equal(l.nr, 1);
	const struct engine_container *c = &l.v[0];
	assert_string_equal(c->name, "p-web-1");
	assert_string_equal(c->project, "p");
	assert_string_equal(c->service, "web");
	assert_int_equal(c->number, 2);
	assert_false(c->oneoff);
	assert_string_equal(c->config_hash, "h1");
	assert_string_equal(c->state, "running");
	assert_string_equal(c->health, "healthy");
	assert_string_equal(engine_container_label(c, "a"), "b,c");
	assert_string_equal(c->command, "/bin/serve");
	/* 0.0.0.0 and :: for one binding are one port */
	assert_int_equal(c->ports_nr, 2);
	assert_int_equal(c->ports[0].target, 5433);
	assert_int_equal(c->ports[0].host_port, 32768);
	assert_int_equal(c->ports[1].target, 80);
	assert_int_equal(c->ports[1].host_port, 0);
	assert_string_equal(c->networks.v[0], "p_default");
	assert_string_equal(c->ips.v[0], "172.18.0.2");
	engine_container_list_release(&l);
	engine_release(&e);
}

static void test_inspect_podman(void **state)
{
	struct engine e;
	engine_init_static(&e, &engine_dialect_podman, "4.3.1", NULL);
	struct engine_container_list l = {0};
	struct berth_error err = BERTH_ERROR_INIT;
	assert_int_equal(engine_parse_inspect(&e, &l, podman_inspect, &err), 0);
	const struct engine_container *c = &l.v[0];
	assert_string_equal(c->name, "p-job-1");
	assert_true(c->oneoff);
	assert_string_equal(c->state, "exited");
	assert_int_equal(c->exit_code, 3);
	assert_false(engine_container_running(c));
	/* podman repeats Path in Args */
	assert_string_equal(c->command, "/bin/serve");
	assert_string_equal(c->ports[0].host_ip, "0.0.0.0");
	assert_int_equal(c->ports[0].host_port, 34887);
	assert_null(c->config_hash);
	engine_container_list_release(&l);
	engine_release(&e);
}

static void test_inspect_nerdctl(void **state)
{
	struct engine e;
	engine_init_static(&e, &engine_dialect_nerdctl, "1.7.7", NULL);
	struct engine_container_list l = {0};
	struct berth_error err = BERTH_ERROR_INIT;
	assert_int_equal(engine_parse_inspect(&e, &l, nerdctl_inspect, &err), 0);
	assert_int_equal(l.nr, 1);
	const struct engine_container *c = &l.v[0];
	assert_string_equal(c->health, "");
	assert_string_equal(c->command, "sh -c \"echo a b\"");
	/* interface names mapped back to network names */
	assert_int_equal(c->networks.nr, 2);
	assert_int_not_equal(strvec_find(&c->networks, "p_back"), -1);
	assert_string_equal(c->ips.v[strvec_find(&c->networks, "p_front")], "10.4.1.3");
	engine_container_list_release(&l);
	assert_int_not_equal(engine_parse_inspect(&e, &l, "{not json", &err), 0);
	berth_error_release(&err);
	engine_release(&e);
}

static void test_names(void **state)
{
	struct strvec v = STRVEC_INIT;
	struct berth_error err = BERTH_ERROR_INIT;
	/* docker / nerdctl: one object per line */
	assert_int_equal(
		engine_parse_names(&v, "{\"Name\":\"bridge\",\"Labels\":\"\"}\n{\"Name\":\"p_default\"}\n", &err), 0);
	/* podman: an array, lower-case keys */
	assert_int_equal(engine_parse_names(&v, "[\n {\"name\": \"podman\"},\n {\"name\": \"p_x\"}\n]\n", &err), 0);
	assert_int_equal(engine_parse_names(&v, "", &err), 0);
	assert_int_equal(v.nr, 4);
	assert_string_equal(v.v[1], "p_default");
	assert_string_equal(v.v[3], "p_x");
	strvec_clear(&v);
}

static void test_versions_and_caps(void **state)
{
	struct engine e;
	struct berth_error err = BERTH_ERROR_INIT;
	engine_init_static(&e, &engine_dialect_docker, "0", NULL);
	assert_int_equal(
		engine_dialect_docker.parse_version(
			&e,
			"{\"Client\":{\"Version\":\"28.2.2\",\"ApiVersion\":\"1.41\"},\"Server\":{\"Components\":"
			"[{\"Name\":\"Engine\",\"Version\":\"20.10.24+dfsg1\",\"Details\":{\"ApiVersion\":\"1.41\"}}]}"
			"}",
			&err),
		0);
	engine_dialect_docker.version_caps(&e);
	assert_string_equal(e.version, "20.10.24+dfsg1");
	assert_int_equal(e.ver[0], 20);
	assert_false(e.caps.multi_network_create);
	assert_int_equal(e.caps.health, ENGINE_HEALTH_NATIVE);
	assert_int_not_equal(
		engine_dialect_docker.parse_version(&e, "{\"Client\":{\"Version\":\"28\"},\"Server\":null}", &err), 0);
	berth_error_release(&err);
	engine_release(&e);

	engine_init_static(&e, &engine_dialect_nerdctl, "0", NULL);
	assert_int_equal(engine_dialect_nerdctl.parse_version(
				 &e, "{\"Client\":{\"Version\":\"v1.7.7\"},\"Server\":{\"Components\":[]}}", &err),
			 0);
	engine_dialect_nerdctl.version_caps(&e);
	assert_string_equal(e.version, "1.7.7");
	assert_int_equal(e.caps.health, ENGINE_HEALTH_BERTH);
	assert_int_equal(e.caps.aliases, ENGINE_ALIASES_HOSTS);
	assert_true(e.caps.run_d_no_stdin);
	engine_release(&e);
	engine_init_static(&e, &engine_dialect_nerdctl, "2.1.5", NULL);
	assert_int_equal(e.caps.health, ENGINE_HEALTH_TRIGGERED);
	assert_true(e.caps.health_flags);
	engine_release(&e);

	engine_init_static(&e, &engine_dialect_podman, "0", NULL);
	assert_int_equal(engine_dialect_podman.parse_version(
				 &e, "{\"Client\":{\"APIVersion\":\"4.3.1\",\"Version\":\"4.3.1\"}}", &err),
			 0);
	assert_int_equal(e.ver[1], 3);
	engine_release(&e);

	assert_null(engine_dialect_by_name("containerd"));
	assert_ptr_equal(engine_dialect_by_name("podman"), &engine_dialect_podman);
	assert_int_equal(engine_detect(&e, "rkt", NULL, NULL, &err), BERTH_E_USAGE);
	assert_non_null(strstr(err.msg, "unknown engine"));
	berth_error_release(&err);
}

static void test_history_healthcheck(void **state)
{
	struct engine_healthcheck h;
	const char *line = "/bin/sh -c #(nop)  HEALTHCHECK &{[\"CMD-SHELL\" \"wget -q -O /dev/null "
			   "\\\"http://127.0.0.1:${PORT}/health.txt\\\" || exit 1\"] \"2s\" \"2s\" \"10s\" '\\x03'}";
	assert_int_equal(engine_parse_history_healthcheck(&h, line), 0);
	assert_int_equal(h.test.nr, 2);
	assert_string_equal(h.test.v[0], "CMD-SHELL");
	assert_string_equal(h.test.v[1], "wget -q -O /dev/null \"http://127.0.0.1:${PORT}/health.txt\" || exit 1");
	assert_int_equal(h.interval_ns, 2000000000LL);
	assert_int_equal(h.start_period_ns, 10000000000LL);
	assert_int_equal(h.retries, 3);
	engine_healthcheck_release(&h);
	/* newer builders add StartInterval before Retries */
	assert_int_equal(engine_parse_history_healthcheck(
				 &h, "HEALTHCHECK &{[\"CMD\" \"true\"] \"1s\" \"3s\" \"0s\" \"0s\" '\\x05'}"),
			 0);
	assert_int_equal(h.retries, 5);
	assert_int_equal(h.timeout_ns, 3000000000LL);
	engine_healthcheck_release(&h);
	assert_int_not_equal(engine_parse_history_healthcheck(&h, "HEALTHCHECK &{[\"CMD\" \"unterminated]"), 0);
	assert_int_not_equal(engine_parse_history_healthcheck(&h, "RUN true"), 0);
}

static void test_semver(void **state)
{
	int v[3];
	engine_parse_semver(v, "v2.1.5-beta");
	assert_int_equal(v[0], 2);
	assert_int_equal(v[1], 1);
	assert_int_equal(v[2], 5);
	engine_parse_semver(v, "20.10");
	assert_int_equal(v[2], 0);
	engine_parse_semver(v, "x");
	assert_int_equal(v[0], 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_inspect_docker),
		cmocka_unit_test(test_inspect_podman),
		cmocka_unit_test(test_inspect_nerdctl),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_versions_and_caps),
		cmocka_unit_test(test_history_healthcheck),
		cmocka_unit_test(test_semver),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
