/* The exact argv each dialect gets for the same service. The integration
 * suite (tests/integration/compose/run) proves the same vectors work on the
 * real engines. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "runtime/create.h"
#include "util.h"
#include "common/banned.h"

static const char svc_yaml[] =
	"services:\n"
	"  web:\n"
	"    image: berth-test/web:1\n"
	"    command: [\"httpd\", \"-f\"]\n"
	"    environment: {A: \"1\", UNSET: null}\n"
	"    ports: [\"127.0.0.1:8080:80\", \"5432\", \"53:53/udp\"]\n"
	"    volumes: [\"data:/data:ro\", \"/srv:/srv\"]\n"
	"    healthcheck: {test: [\"CMD\", \"wget\", \"-q\", \"http://x/a b\"], interval: 2s, retries: 3}\n"
	"    tty: true\n"
	"    networks:\n"
	"      front: {aliases: [www]}\n"
	"      back: {}\n"
	"volumes: {data: {}}\n"
	"networks: {front: {}, back: {}}\n";

/* Labels are long and the same everywhere: checked on their own below. */
static char *join_without_labels(const struct strvec *v)
{
	struct strbuf sb = STRBUF_INIT;
	for (size_t i = 0; i < v->nr; i++) {
		if (!strncmp(v->v[i], "--label=", 8))
			continue;
		if (sb.len)
			strbuf_addch(&sb, ' ');
		strbuf_addstr(&sb, v->v[i]);
	}
	return strbuf_detach(&sb, NULL);
}

static void build(struct fx *f, const struct engine_dialect *d, const char *ver, const char *yaml,
		  struct rt_create_cmds *c, bool start)
{
	const char *svc = "web";
	struct berth_error err = BERTH_ERROR_INIT;
	assert_int_equal(fx_load(f, yaml, &err), 0);
	struct engine e;
	engine_init_static(&e, d, ver, NULL);
	int si = rt_model_find(&f->m, svc);
	assert_true(si >= 0);
	struct rt_create_spec spec = {&f->m, &f->m.svcs[si], 1, "p-web-1", "sha256:abc", start};
	assert_int_equal(rt_create_argv(c, &e, &spec, &err), 0);
	engine_release(&e);
}

static void test_docker(void **state)
{
	struct fx f;
	struct rt_create_cmds c;
	build(&f, &engine_dialect_docker, "20.10.24", svc_yaml, &c, true);
	char *s = join_without_labels(&c.argv);
	/* API 1.41: one network at create, the other connected before start */
	assert_false(c.runs);
	assert_string_equal(s, "create --name=p-web-1 --pull=never --network=p_back --network-alias=web "
			       "--tty -e A=1 -p 127.0.0.1:8080:80 -p 5432 -p 53:53/udp -v p_data:/data:ro -v /srv:/srv "
			       "--health-cmd=wget -q 'http://x/a b' --health-interval=2s --health-retries=3 "
			       "berth-test/web:1 httpd -f");
	assert_int_equal(c.connect_nr, 1);
	char *conn = join_without_labels(&c.connect[0]);
	assert_string_equal(conn, "network connect --alias=web --alias=www p_front p-web-1");
	free(conn);
	free(s);
	rt_create_cmds_release(&c);
	fx_release(&f);
}

static void test_podman(void **state)
{
	struct fx f;
	struct rt_create_cmds c;
	build(&f, &engine_dialect_podman, "4.3.1", svc_yaml, &c, true);
	char *s = join_without_labels(&c.argv);
	assert_true(c.runs);
	assert_string_equal(s,
			    "run -d --name=p-web-1 --pull=never --network=p_back:alias=web "
			    "--network=p_front:alias=web,alias=www --tty -e A=1 -p 127.0.0.1:8080:80 -p 5432 "
			    "-p 53:53/udp -v p_data:/data:ro -v /srv:/srv "
			    "--health-cmd=[\"wget\",\"-q\",\"http://x/a b\"] --health-interval=2s --health-retries=3 "
			    "berth-test/web:1 httpd -f");
	assert_int_equal(c.connect_nr, 0);
	free(s);
	rt_create_cmds_release(&c);
	fx_release(&f);
}

static void test_nerdctl_17(void **state)
{
	struct fx f;
	struct rt_create_cmds c;
	build(&f, &engine_dialect_nerdctl, "1.7.7", svc_yaml, &c, true);
	char *s = join_without_labels(&c.argv);
	/* no aliases (hostname = service name), -t alone is fine with -d, no health flags */
	assert_true(c.runs);
	assert_string_equal(s, "run -d --name=p-web-1 --pull=never --network=p_back --network=p_front "
			       "--hostname=web --tty -e A=1 -p 127.0.0.1:8080:80 -p 5432 -p 53:53/udp "
			       "-v p_data:/data:ro -v /srv:/srv berth-test/web:1 httpd -f");
	bool tty_notice = true, alias_notice = false, health_notice = false, port_notice = false;
	for (size_t i = 0; i < c.notices.nr; i++) {
		alias_notice |= strstr(c.notices.v[i], "networks.front.aliases") != NULL;
		health_notice |= strstr(c.notices.v[i], "runs no healthchecks") != NULL;
		port_notice |= strstr(c.notices.v[i], "ports[1]: no host port") != NULL;
	}
	assert_true(tty_notice && alias_notice && health_notice && port_notice);
	free(s);
	rt_create_cmds_release(&c);
	fx_release(&f);
}

static void test_nerdctl_2_health(void **state)
{
	struct fx f;
	struct rt_create_cmds c;
	build(&f, &engine_dialect_nerdctl, "2.1.5", svc_yaml, &c, false);
	char *s = join_without_labels(&c.argv);
	assert_false(c.runs);
	assert_non_null(strstr(s, "create --name=p-web-1 "));
	assert_non_null(strstr(s, " --health-cmd=wget -q 'http://x/a b' --health-interval=2s"));
	free(s);
	rt_create_cmds_release(&c);
	fx_release(&f);
}

static void test_labels(void **state)
{
	struct fx f;
	struct rt_create_cmds c;
	build(&f, &engine_dialect_docker, "20.10.24",
	      "services:\n  web:\n    image: x\n    labels: {team: a}\n"
	      "    depends_on: {db: {condition: service_healthy}}\n"
	      "  db: {image: x}\n",
	      &c, true);
	struct strvec labels = STRVEC_INIT;
	for (size_t i = 0; i < c.argv.nr; i++)
		if (!strncmp(c.argv.v[i], "--label=", 8))
			strvec_push(&labels, c.argv.v[i] + 8);
	int web = rt_model_find(&f.m, "web");
	struct strbuf want = STRBUF_INIT;
	strbuf_addf(&want, "com.docker.compose.config-hash=%s", f.m.svcs[web].hash);
	assert_int_equal(labels.nr, 11);
	assert_string_equal(labels.v[0], "com.docker.compose.project=p");
	assert_string_equal(labels.v[1], "com.docker.compose.service=web");
	assert_string_equal(labels.v[2], "com.docker.compose.container-number=1");
	assert_string_equal(labels.v[3], "com.docker.compose.oneoff=False");
	assert_true(strvec_find(&labels, "com.docker.compose.image=sha256:abc") >= 0);
	assert_true(!strncmp(labels.v[6], "com.docker.compose.project.working_dir=/tmp/berth-rt-test-", 58));
	assert_true(!strncmp(labels.v[7], "com.docker.compose.project.config_files=/tmp/berth-rt-test-", 59));
	assert_string_equal(labels.v[4], want.buf);
	assert_string_equal(labels.v[8], "com.docker.compose.depends_on=db:service_healthy:false");
	assert_string_equal(labels.v[10], "team=a");
	assert_true(!strncmp(labels.v[9], "com.docker.compose.version=", 27));
	strbuf_release(&want);
	strvec_clear(&labels);
	rt_create_cmds_release(&c);
	fx_release(&f);
}

static void test_depends_label_and_network_mode(void **state)
{
	struct fx f;
	struct berth_error err = BERTH_ERROR_INIT;
	assert_int_equal(fx_load(&f,
				 "services:\n  vpn: {image: x}\n"
				 "  app:\n    image: x\n    network_mode: \"service:vpn\"\n"
				 "    stdin_open: true\n    entrypoint: [\"/bin/sh\", \"-c\"]\n"
				 "    command: \"echo hi\"\n",
				 &err),
			 0);
	int app = rt_model_find(&f.m, "app");
	assert_string_equal(f.m.svcs[app].depends_label, "vpn:service_started:true");
	struct engine e;
	engine_init_static(&e, &engine_dialect_nerdctl, "1.7.7", NULL);
	struct rt_create_spec spec = {&f.m, &f.m.svcs[app], 1, "p-app-1", NULL, true};
	struct rt_create_cmds c;
	assert_int_equal(rt_create_argv(&c, &e, &spec, &err), 0);
	char *s = join_without_labels(&c.argv);
	/* no --hostname with a network mode; service:vpn as container:p-vpn-1;
	 * stdin_open: nerdctl 1.7 refuses `run -d -i`, so create (then start) */
	assert_false(c.runs);
	assert_string_equal(s, "create --name=p-app-1 --pull=never --network=container:p-vpn-1 --interactive "
			       "--entrypoint=/bin/sh x -c echo hi");
	free(s);
	rt_create_cmds_release(&c);
	engine_release(&e);
	fx_release(&f);
}

static void test_misc_keys(void **state)
{
	struct fx f;
	struct rt_create_cmds c;
	build(&f, &engine_dialect_docker, "20.10.24",
	      "services:\n  web:\n    image: x\n    restart: on-failure:3\n    stop_grace_period: 1500ms\n"
	      "    extra_hosts: [\"h1=1.2.3.4\"]\n    ulimits: {nofile: {soft: 10, hard: 20}}\n"
	      "    tmpfs: [/run]\n    cap_add: [NET_ADMIN]\n    user: \"1000\"\n    init: true\n"
	      "    logging: {driver: json-file, options: {max-size: 1m}}\n"
	      "    volumes: [{type: tmpfs, target: /t, tmpfs: {size: 1000}}]\n",
	      &c, true);
	char *s = join_without_labels(&c.argv);
	assert_string_equal(
		s, "run -d --name=p-web-1 --pull=never --network=p_default --network-alias=web "
		   "--user=1000 --stop-timeout=2 --cap-add=NET_ADMIN --tmpfs=/run --init --restart=on-failure:3 "
		   "--add-host=h1:1.2.3.4 --ulimit=nofile=10:20 --log-driver=json-file --log-opt=max-size=1m "
		   "--tmpfs /t:size=1000 x");
	(void)s;
	free(s);
	rt_create_cmds_release(&c);
	fx_release(&f);
}

static void test_health_exec_argv(void **state)
{
	struct strvec t = STRVEC_INIT, out = STRVEC_INIT;
	strvec_pushl(&t, "CMD-SHELL", "wget -q x || exit 1", NULL);
	rt_health_exec_argv(&out, "c1", &t);
	struct strbuf sb = STRBUF_INIT;
	strvec_join(&out, "|", &sb);
	assert_string_equal(sb.buf, "exec|c1|/bin/sh|-c|wget -q x || exit 1");
	strvec_clear(&t);
	strvec_clear(&out);
	strbuf_reset(&sb);
	strvec_pushl(&t, "CMD", "pg_isready", "-U", "a b", NULL);
	rt_health_exec_argv(&out, "c1", &t);
	strvec_join(&out, "|", &sb);
	assert_string_equal(sb.buf, "exec|c1|pg_isready|-U|a b");
	strvec_clear(&t);
	strvec_clear(&out);
	strvec_push(&t, "NONE");
	rt_health_exec_argv(&out, "c1", &t);
	assert_int_equal(out.nr, 0);
	strvec_clear(&t);
	strbuf_release(&sb);
}

static void test_file_like_targets(void **state)
{
	assert_true(rt_target_looks_like_file("/root/.gitconfig"));
	assert_true(rt_target_looks_like_file("/etc/nginx/nginx.conf"));
	assert_true(rt_target_looks_like_file("/app/config.json"));
	assert_false(rt_target_looks_like_file("/data"));
	assert_false(rt_target_looks_like_file("/var/lib/postgresql/data"));
	assert_false(rt_target_looks_like_file("/opt/app-1.2"));
	assert_false(rt_target_looks_like_file("/"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_docker),
		cmocka_unit_test(test_podman),
		cmocka_unit_test(test_nerdctl_17),
		cmocka_unit_test(test_nerdctl_2_health),
		cmocka_unit_test(test_labels),
		cmocka_unit_test(test_depends_label_and_network_mode),
		cmocka_unit_test(test_misc_keys),
		cmocka_unit_test(test_health_exec_argv),
		cmocka_unit_test(test_file_like_targets),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
