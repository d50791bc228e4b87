#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "runtime/plan.h"
#include "util.h"
#include "common/banned.h"

static const char app[] = "services:\n"
			  "  db:\n"
			  "    image: web\n"
			  "    healthcheck: {test: [\"CMD\", \"true\"], interval: 1s}\n"
			  "    volumes: [\"data:/data\"]\n"
			  "  migrate:\n"
			  "    image: busybox\n"
			  "    depends_on: {db: {condition: service_healthy}}\n"
			  "  api:\n"
			  "    image: web\n"
			  "    environment: {MODE: one}\n"
			  "    depends_on:\n"
			  "      db: {condition: service_healthy, restart: true}\n"
			  "      migrate: {condition: service_completed_successfully}\n"
			  "  web:\n"
			  "    image: web\n"
			  "    ports: [\"127.0.0.1:8080:80\"]\n"
			  "    depends_on: [api]\n"
			  "volumes: {data: {}}\n";

static long find(const struct plan *p, enum plan_op op, const char *name)
{
	for (size_t i = 0; i < p->nr; i++)
		if (p->v[i].op == op && !strcmp(p->v[i].name, name))
			return (long)i;
	return -1;
}

static bool has_dep(const struct plan *p, long a, long b)
{
	assert_true(a >= 0 && b >= 0);
	for (size_t k = 0; k < p->v[a].deps_nr; k++)
		if ((long)p->v[a].deps[k] == b)
			return true;
	return false;
}

static size_t count_real(const struct plan *p)
{
	size_t n = 0;
	for (size_t i = 0; i < p->nr; i++)
		if (p->v[i].op != PLAN_SERVICE_STARTED)
			n++;
	return n;
}

struct up {
	struct fx f;
	bool sel[16];
	struct strvec nets, vols;
	struct engine_container_list state;
	struct plan plan;
	struct plan_up_options o;
};

static void up_init(struct up *u, const char *yaml)
{
	struct berth_error err = BERTH_ERROR_INIT;
	memset(u, 0, sizeof(*u));
	assert_int_equal(fx_load(&u->f, yaml, &err), 0);
	for (size_t i = 0; i < u->f.m.nr; i++)
		u->sel[i] = true;
	u->plan = (struct plan)PLAN_INIT;
	u->o.selected = u->sel;
	u->o.split_create_start = true; /* docker's way; see test_create_after_dependencies */
	u->o.networks_existing = &u->nets;
	u->o.volumes_existing = &u->vols;
}

static int up_plan(struct up *u)
{
	struct berth_error err = BERTH_ERROR_INIT;
	plan_release(&u->plan);
	int rc = plan_up(&u->plan, &u->f.m, &u->state, &u->o, &err);
	berth_error_release(&err);
	return rc;
}

static void up_release(struct up *u)
{
	plan_release(&u->plan);
	engine_container_list_release(&u->state);
	strvec_clear(&u->nets);
	strvec_clear(&u->vols);
	fx_release(&u->f);
}

static const char *hash_of(struct up *u, const char *svc)
{
	return u->f.m.svcs[rt_model_find(&u->f.m, svc)].hash;
}

/* Everything converged: each service has its container, running. */
static void converge(struct up *u)
{
	strvec_push(&u->nets, "p_default");
	strvec_push(&u->vols, "p_data");
	fx_container(&u->state, "db", 1, hash_of(u, "db"), "running");
	fx_container(&u->state, "migrate", 1, hash_of(u, "migrate"), "exited");
	fx_container(&u->state, "api", 1, hash_of(u, "api"), "running");
	fx_container(&u->state, "web", 1, hash_of(u, "web"), "running");
}

static void test_cold_plan_order(void **state)
{
	struct up u;
	up_init(&u, app);
	assert_int_equal(up_plan(&u), 0);
	const struct plan *p = &u.plan;
	long net = find(p, PLAN_NETWORK_CREATE, "p_default"), vol = find(p, PLAN_VOLUME_CREATE, "p_data");
	long db = find(p, PLAN_CONTAINER_CREATE, "p-db-1"), mig = find(p, PLAN_CONTAINER_CREATE, "p-migrate-1");
	long api = find(p, PLAN_CONTAINER_CREATE, "p-api-1"), web = find(p, PLAN_CONTAINER_CREATE, "p-web-1");
	long migs = find(p, PLAN_CONTAINER_START, "p-migrate-1"), apis = find(p, PLAN_CONTAINER_START, "p-api-1");
	long webs = find(p, PLAN_CONTAINER_START, "p-web-1");
	long dbh = find(p, PLAN_SERVICE_HEALTHY, "db"), migc = find(p, PLAN_SERVICE_COMPLETED, "migrate");
	long api_started = find(p, PLAN_SERVICE_STARTED, "api");
	assert_true(net >= 0 && vol >= 0 && db >= 0 && mig >= 0 && api >= 0 && web >= 0);
	/* networks and volumes first */
	assert_int_equal(p->v[net].deps_nr, 0);
	assert_true(has_dep(p, db, net));
	assert_true(has_dep(p, db, vol));
	assert_false(has_dep(p, api, vol)); /* api mounts nothing */
	/* db has no dependency: one `run -d`; the others are created at once
	 * and started when their conditions hold, as Compose does */
	assert_false(p->v[db].create_only);
	assert_int_equal(find(p, PLAN_CONTAINER_START, "p-db-1"), -1);
	assert_true(p->v[mig].create_only && p->v[api].create_only && p->v[web].create_only);
	assert_false(has_dep(p, mig, dbh));
	assert_true(has_dep(p, migs, mig));
	assert_true(has_dep(p, migs, dbh));
	assert_true(has_dep(p, apis, dbh));
	assert_true(has_dep(p, apis, migc));
	assert_true(has_dep(p, webs, api_started));
	assert_true(has_dep(p, api_started, apis));
	assert_int_equal(find(p, PLAN_SERVICE_HEALTHY, "api"), -1);
	up_release(&u);
}

static void test_create_after_dependencies(void **state)
{
	struct up u;
	up_init(&u, app);
	/* podman, nerdctl: one `run -d` once the conditions hold */
	u.o.split_create_start = false;
	assert_int_equal(up_plan(&u), 0);
	long mig = find(&u.plan, PLAN_CONTAINER_CREATE, "p-migrate-1");
	assert_false(u.plan.v[mig].create_only);
	assert_true(has_dep(&u.plan, mig, find(&u.plan, PLAN_SERVICE_HEALTHY, "db")));
	assert_int_equal(find(&u.plan, PLAN_CONTAINER_START, "p-migrate-1"), -1);
	up_release(&u);
}

static void test_second_up_touches_nothing(void **state)
{
	struct up u;
	up_init(&u, app);
	converge(&u);
	assert_int_equal(up_plan(&u), 0);
	/* the one-shot job runs again, as Docker Compose starts exited
	 * containers; nothing is created or recreated */
	for (size_t i = 0; i < u.plan.nr; i++) {
		assert_int_not_equal(u.plan.v[i].op, PLAN_CONTAINER_CREATE);
		assert_int_not_equal(u.plan.v[i].op, PLAN_CONTAINER_RECREATE);
		assert_int_not_equal(u.plan.v[i].op, PLAN_NETWORK_CREATE);
		assert_int_not_equal(u.plan.v[i].op, PLAN_VOLUME_CREATE);
	}
	assert_true(find(&u.plan, PLAN_CONTAINER_START, "p-migrate-1") >= 0);
	assert_int_equal(find(&u.plan, PLAN_CONTAINER_START, "p-db-1"), -1);
	up_release(&u);
}

static void test_no_change_is_empty_without_jobs(void **state)
{
	struct up u;
	up_init(&u, "services:\n  a: {image: x}\n  b: {image: x, depends_on: [a]}\n");
	strvec_push(&u.nets, "p_default");
	fx_container(&u.state, "a", 1, hash_of(&u, "a"), "running");
	fx_container(&u.state, "b", 1, hash_of(&u, "b"), "running");
	assert_int_equal(up_plan(&u), 0);
	assert_int_equal(count_real(&u.plan), 0);
	struct strbuf out = STRBUF_INIT;
	plan_print(&u.plan, &u.f.m, &out);
	assert_string_equal(out.buf, "nothing to do: project \"p\" is up to date\n");
	strbuf_release(&out);
	up_release(&u);
}

static void test_change_recreates_one_and_restart_dependents(void **state)
{
	struct up u;
	up_init(&u, app);
	converge(&u);
	/* api's environment changed: only api is recreated */
	free(u.state.v[2].config_hash);
	u.state.v[2].config_hash = xstrdup("old");
	assert_int_equal(up_plan(&u), 0);
	long api = find(&u.plan, PLAN_CONTAINER_RECREATE, "p-api-1");
	assert_true(api >= 0);
	assert_string_equal(u.plan.v[api].reason, "config changed");
	assert_string_equal(u.plan.v[api].old_id, "id-api-1");
	assert_int_equal(find(&u.plan, PLAN_CONTAINER_RECREATE, "p-db-1"), -1);
	assert_int_equal(find(&u.plan, PLAN_CONTAINER_RECREATE, "p-web-1"), -1);
	/* web depends on api without restart: true: left alone */
	assert_int_equal(find(&u.plan, PLAN_CONTAINER_RESTART, "p-web-1"), -1);

	/* db changed: api (restart: true on db) is restarted, web is not */
	free(u.state.v[2].config_hash);
	u.state.v[2].config_hash = xstrdup(hash_of(&u, "api"));
	free(u.state.v[0].config_hash);
	u.state.v[0].config_hash = xstrdup("old");
	assert_int_equal(up_plan(&u), 0);
	assert_true(find(&u.plan, PLAN_CONTAINER_RECREATE, "p-db-1") >= 0);
	long r = find(&u.plan, PLAN_CONTAINER_RESTART, "p-api-1");
	assert_true(r >= 0);
	assert_true(has_dep(&u.plan, r, find(&u.plan, PLAN_SERVICE_HEALTHY, "db")));
	assert_int_equal(find(&u.plan, PLAN_CONTAINER_RESTART, "p-web-1"), -1);
	up_release(&u);
}

static void test_image_change_and_policies(void **state)
{
	struct up u;
	up_init(&u, "services:\n  a: {image: x}\n");
	strvec_push(&u.nets, "p_default");
	fx_container(&u.state, "a", 1, hash_of(&u, "a"), "running");
	u.state.v[0].image_label = xstrdup("sha256:old");
	char *ids[] = {"sha256:new", NULL};
	u.o.image_ids = ids;
	assert_int_equal(up_plan(&u), 0);
	long a = find(&u.plan, PLAN_CONTAINER_RECREATE, "p-a-1");
	assert_true(a >= 0);
	assert_string_equal(u.plan.v[a].reason, "image changed");
	u.o.recreate = PLAN_RECREATE_NEVER;
	assert_int_equal(up_plan(&u), 0);
	assert_int_equal(count_real(&u.plan), 0);
	u.o.recreate = PLAN_RECREATE_FORCE;
	u.o.image_ids = NULL;
	assert_int_equal(up_plan(&u), 0);
	a = find(&u.plan, PLAN_CONTAINER_RECREATE, "p-a-1");
	assert_true(a >= 0);
	assert_string_equal(u.plan.v[a].reason, "forced");
	up_release(&u);
}

static void test_scale(void **state)
{
	struct up u;
	up_init(&u, "services:\n  a: {image: x, deploy: {replicas: 3}}\n  b: {image: x, scale: 1}\n");
	strvec_push(&u.nets, "p_default");
	const char *h = hash_of(&u, "a");
	fx_container(&u.state, "a", 1, h, "running");
	fx_container(&u.state, "b", 1, hash_of(&u, "b"), "running");
	fx_container(&u.state, "b", 2, hash_of(&u, "b"), "running");
	assert_int_equal(up_plan(&u), 0);
	assert_true(find(&u.plan, PLAN_CONTAINER_CREATE, "p-a-2") >= 0);
	assert_true(find(&u.plan, PLAN_CONTAINER_CREATE, "p-a-3") >= 0);
	assert_int_equal(find(&u.plan, PLAN_CONTAINER_CREATE, "p-a-1"), -1);
	long rm = find(&u.plan, PLAN_CONTAINER_REMOVE, "p-b-2");
	assert_true(rm >= 0);
	assert_string_equal(u.plan.v[rm].reason, "scale down");
	/* replicas do not change the hash */
	struct fx other;
	struct berth_error err = BERTH_ERROR_INIT;
	assert_int_equal(fx_load(&other, "services:\n  a: {image: x}\n", &err), 0);
	assert_string_equal(other.m.svcs[0].hash, h);
	fx_release(&other);
	up_release(&u);
}

static void test_cycle_refused(void **state)
{
	struct fx f;
	struct berth_error err = BERTH_ERROR_INIT;
	int rc = fx_load(&f,
			 "services:\n  a: {image: x, depends_on: [b]}\n  b: {image: x, depends_on: [c]}\n"
			 "  c: {image: x, depends_on: [a]}\n",
			 &err);
	assert_int_not_equal(rc, 0);
	assert_non_null(strstr(err.msg, "cycle"));
	berth_error_release(&err);
	compose_project_release(&f.p);
	rmdir(f.dir);
}

static void test_optional_dependency_and_no_deps(void **state)
{
	struct up u;
	up_init(&u, "services:\n  a: {image: x}\n"
		    "  b:\n    image: x\n    depends_on: {a: {condition: service_healthy, required: false}}\n");
	assert_int_equal(up_plan(&u), 0);
	long h = find(&u.plan, PLAN_SERVICE_HEALTHY, "a");
	assert_true(h >= 0);
	assert_true(u.plan.v[h].optional);
	/* --no-deps b: a is not selected, b waits for nothing */
	u.sel[rt_model_find(&u.f.m, "a")] = false;
	u.o.no_deps = true;
	assert_int_equal(up_plan(&u), 0);
	assert_int_equal(find(&u.plan, PLAN_CONTAINER_CREATE, "p-a-1"), -1);
	long b = find(&u.plan, PLAN_CONTAINER_CREATE, "p-b-1");
	assert_true(b >= 0);
	for (size_t k = 0; k < u.plan.v[b].deps_nr; k++)
		assert_int_equal(u.plan.v[u.plan.v[b].deps[k]].op, PLAN_NETWORK_CREATE);
	up_release(&u);
}

static bool known(void *data, const char *name)
{
	return !strcmp(name, "disabled");
}

static void test_orphans(void **state)
{
	struct up u;
	up_init(&u, "services:\n  a: {image: x}\n");
	strvec_push(&u.nets, "p_default");
	fx_container(&u.state, "a", 1, hash_of(&u, "a"), "running");
	fx_container(&u.state, "gone", 1, "h", "running");
	fx_container(&u.state, "disabled", 1, "h", "running");
	u.o.known_service = known;
	assert_int_equal(up_plan(&u), 0);
	assert_int_equal(u.plan.orphans.nr, 1);
	assert_string_equal(u.plan.orphans.v[0], "p-gone-1");
	assert_int_equal(find(&u.plan, PLAN_CONTAINER_REMOVE, "p-gone-1"), -1);
	u.o.remove_orphans = true;
	assert_int_equal(up_plan(&u), 0);
	assert_int_equal(u.plan.orphans.nr, 0);
	long rm = find(&u.plan, PLAN_CONTAINER_REMOVE, "p-gone-1");
	assert_true(rm >= 0);
	assert_string_equal(u.plan.v[rm].reason, "orphan");
	assert_int_equal(find(&u.plan, PLAN_CONTAINER_REMOVE, "p-disabled-1"), -1);
	up_release(&u);
}

static void test_wait_conditions(void **state)
{
	struct up u;
	up_init(&u, app);
	u.o.wait = true;
	assert_int_equal(up_plan(&u), 0);
	/* migrate is someone's completed_successfully dependency: --wait
	 * waits for its completion, not for it to run */
	assert_int_equal(find(&u.plan, PLAN_SERVICE_RUNNING, "migrate"), -1);
	assert_true(find(&u.plan, PLAN_SERVICE_COMPLETED, "migrate") >= 0);
	assert_true(find(&u.plan, PLAN_SERVICE_RUNNING, "web") >= 0);
	assert_true(find(&u.plan, PLAN_SERVICE_RUNNING, "db") >= 0);
	up_release(&u);
}

static void test_external_network_missing(void **state)
{
	struct up u;
	up_init(&u, "services:\n  a: {image: x, networks: [ext]}\nnetworks:\n  ext: {external: true}\n");
	struct berth_error err = BERTH_ERROR_INIT;
	assert_int_not_equal(plan_up(&u.plan, &u.f.m, &u.state, &u.o, &err), 0);
	assert_non_null(strstr(err.msg, "declared as external"));
	berth_error_release(&err);
	strvec_push(&u.nets, "ext");
	assert_int_equal(up_plan(&u), 0);
	assert_int_equal(find(&u.plan, PLAN_NETWORK_CREATE, "ext"), -1);
	up_release(&u);
}

static long find_batch(const struct plan *p, enum plan_op op, const char *name)
{
	for (size_t i = 0; i < p->nr; i++)
		if (p->v[i].op == op && strvec_find(&p->v[i].batch_names, name) >= 0)
			return (long)i;
	return -1;
}

static void test_down_reverse_order(void **state)
{
	struct up u;
	up_init(&u, app);
	converge(&u);
	fx_container(&u.state, "gone", 1, "h", "running");
	struct plan p = PLAN_INIT;
	struct plan_down_options o = {.volumes = true, .networks_existing = &u.nets, .volumes_existing = &u.vols};
	struct berth_error err = BERTH_ERROR_INIT;
	assert_int_equal(plan_down(&p, &u.f.m, &u.state, &o, &err), 0);
	/* one `stop` per reverse-dependency level (running ones: web, then api,
	 * then db; migrate has exited), then one `rm` of all of them */
	long sweb = find_batch(&p, PLAN_CONTAINER_STOP, "p-web-1"),
	     sapi = find_batch(&p, PLAN_CONTAINER_STOP, "p-api-1");
	long sdb = find_batch(&p, PLAN_CONTAINER_STOP, "p-db-1");
	long rm = find_batch(&p, PLAN_CONTAINER_REMOVE, "p-db-1");
	long net = find(&p, PLAN_NETWORK_REMOVE, "p_default"), vol = find(&p, PLAN_VOLUME_REMOVE, "p_data");
	assert_true(sweb >= 0 && sapi >= 0 && sdb >= 0 && rm >= 0);
	assert_int_equal(find_batch(&p, PLAN_CONTAINER_STOP, "p-migrate-1"), -1);
	assert_true(has_dep(&p, sapi, sweb));
	assert_true(has_dep(&p, sdb, sapi));
	assert_false(has_dep(&p, sweb, sapi));
	assert_int_equal(find_batch(&p, PLAN_CONTAINER_REMOVE, "p-migrate-1"), rm);
	assert_int_equal(p.v[rm].batch_ids.nr, 4);
	assert_true(p.v[rm].already_stopped);
	assert_true(has_dep(&p, rm, sdb));
	assert_true(has_dep(&p, net, rm));
	assert_true(has_dep(&p, vol, rm));
	assert_true(p.v[rm].remove_volumes);
	/* orphans stay without --remove-orphans */
	assert_int_equal(find_batch(&p, PLAN_CONTAINER_REMOVE, "p-gone-1"), -1);
	plan_release(&p);
	o.remove_orphans = true;
	assert_int_equal(plan_down(&p, &u.f.m, &u.state, &o, &err), 0);
	/* an orphan stops with the first level */
	assert_int_equal(find_batch(&p, PLAN_CONTAINER_STOP, "p-gone-1"),
			 find_batch(&p, PLAN_CONTAINER_STOP, "p-web-1"));
	assert_true(find_batch(&p, PLAN_CONTAINER_REMOVE, "p-gone-1") >= 0);
	plan_release(&p);
	o.rmi = "bogus";
	assert_int_not_equal(plan_down(&p, &u.f.m, &u.state, &o, &err), 0);
	berth_error_release(&err);
	plan_release(&p);

	/* stop: running ones only, same levels */
	bool sel[4] = {true, true, true, true};
	assert_int_equal(plan_stop(&p, &u.f.m, &u.state, sel), 0);
	assert_int_equal(find_batch(&p, PLAN_CONTAINER_STOP, "p-migrate-1"), -1);
	assert_true(has_dep(&p, find_batch(&p, PLAN_CONTAINER_STOP, "p-db-1"),
			    find_batch(&p, PLAN_CONTAINER_STOP, "p-api-1")));
	plan_release(&p);
	up_release(&u);
}

static void test_dry_run_text(void **state)
{
	struct up u;
	up_init(&u, "services:\n  db: {image: x, healthcheck: {test: [\"CMD\", \"true\"]}}\n"
		    "  app: {image: x, depends_on: {db: {condition: service_healthy}}}\n");
	assert_int_equal(up_plan(&u), 0);
	struct strbuf out = STRBUF_INIT;
	plan_print(&u.plan, &u.f.m, &out);
	assert_string_equal(out.buf, "stage 1\n"
				     "  Network p_default  Create\n"
				     "stage 2\n"
				     "  Container p-db-1  Create  (after network p_default)\n"
				     "  Container p-app-1  Create  (after network p_default)\n"
				     "stage 3\n"
				     "  Service db  Wait healthy  (after db started)\n"
				     "stage 4\n"
				     "  Container p-app-1  Start  (after p-app-1 created, db healthy)\n");
	strbuf_release(&out);
	up_release(&u);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cold_plan_order),
		cmocka_unit_test(test_create_after_dependencies),
		cmocka_unit_test(test_second_up_touches_nothing),
		cmocka_unit_test(test_no_change_is_empty_without_jobs),
		cmocka_unit_test(test_change_recreates_one_and_restart_dependents),
		cmocka_unit_test(test_image_change_and_policies),
		cmocka_unit_test(test_scale),
		cmocka_unit_test(test_cycle_refused),
		cmocka_unit_test(test_optional_dependency_and_no_deps),
		cmocka_unit_test(test_orphans),
		cmocka_unit_test(test_wait_conditions),
		cmocka_unit_test(test_external_network_missing),
		cmocka_unit_test(test_down_reverse_order),
		cmocka_unit_test(test_dry_run_text),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
