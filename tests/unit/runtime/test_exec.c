/* The executor against a fake engine (a shell script that logs its argv):
 * order, the parallelism bound, and what a failure stops. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sys/stat.h>
#include <unistd.h>

#include "runtime/exec.h"
#include "runtime/plan.h"
#include "runtime/progress.h"
#include "util.h"
#include "common/banned.h"

static char fake_dir[64];
static char fake_bin[128];
static char fake_log[128];

/* run and rm: sleep a little so that overlaps show; run fails for $FAKE_FAIL's name */
static const char fake_script[] = "#!/bin/sh\n"
				  "echo \"start $$ $*\" >> \"$FAKE_LOG\"\n"
				  "case \"$1\" in\n"
				  "run)\n"
				  "  for a in \"$@\"; do case $a in --name=*) n=${a#--name=} ;; esac; done\n"
				  "  sleep 0.2\n"
				  "  if [ \"$n\" = \"$FAKE_FAIL\" ]; then echo \"end $$\" >> \"$FAKE_LOG\"; "
				  "echo 'docker: Error response from daemon: boom' >&2; exit 125; fi\n"
				  "  echo \"id-$n\" ;;\n"
				  "rm) sleep 0.3 ;;\n"
				  "esac\n"
				  "echo \"end $$\" >> \"$FAKE_LOG\"\n";

static int setup(void **state)
{
	snprintf(fake_dir, sizeof(fake_dir), "/tmp/berth-fake-engine-XXXXXX");
	if (!mkdtemp(fake_dir))
		return -1;
	snprintf(fake_bin, sizeof(fake_bin), "%s/docker", fake_dir);
	snprintf(fake_log, sizeof(fake_log), "%s/log", fake_dir);
	FILE *f = fopen(fake_bin, "w");
	if (!f)
		return -1;
	fputs(fake_script, f);
	fclose(f);
	chmod(fake_bin, 0755);
	/* before any thread exists: proc reads environ */
	setenv("FAKE_LOG", fake_log, 1);
	return 0;
}

static int teardown(void **state)
{
	unlink(fake_bin);
	unlink(fake_log);
	rmdir(fake_dir);
	return 0;
}

static char *read_log(void)
{
	struct strbuf sb = STRBUF_INIT;
	FILE *f = fopen(fake_log, "r");
	if (f) {
		char buf[4096];
		size_t n;
		while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
			strbuf_add(&sb, buf, n);
		fclose(f);
	}
	unlink(fake_log);
	return strbuf_detach(&sb, NULL);
}

/* The most engine commands running at once, from start/end lines. */
static int max_overlap(const char *log)
{
	int cur = 0, max = 0;
	for (const char *l = log; *l;) {
		if (!strncmp(l, "start ", 6))
			cur++;
		else if (!strncmp(l, "end ", 4))
			cur--;
		if (cur > max)
			max = cur;
		const char *nl = strchr(l, '\n');
		if (!nl)
			break;
		l = nl + 1;
	}
	return max;
}

/* Runs plan p on engine e (then releases p, e and f) and returns the fake engine's log. */
static int exec_plan(struct engine *e, struct fx *f, struct plan *p, int parallel, char **log_out,
		     struct berth_error *err)
{
	struct progress *pr = progress_new(PROGRESS_QUIET, 2);
	struct rt_exec x;
	memset(&x, 0, sizeof(x));
	x.e = e;
	x.m = &f->m;
	x.progress = pr;
	x.parallel = parallel;
	x.cancel_fd = -1;
	x.stop_timeout = -1;
	int rc = rt_exec_plan(&x, p, err);
	strvec_clear(&x.warnings);
	progress_free(pr);
	plan_release(p);
	engine_release(e);
	fx_release(f);
	*log_out = read_log();
	return rc;
}

static int run(const char *yaml, int parallel, const char *fail, char **log_out, struct berth_error *err)
{
	struct fx f;
	assert_int_equal(fx_load(&f, yaml, err), 0);
	if (fail)
		setenv("FAKE_FAIL", fail, 1);
	else
		unsetenv("FAKE_FAIL");
	struct engine e;
	engine_init_static(&e, &engine_dialect_docker, "20.10.24", NULL);
	e.binary = fake_bin;
	bool sel[16];
	for (size_t i = 0; i < f.m.nr; i++)
		sel[i] = true;
	struct engine_container_list state = {0};
	struct strvec nets = STRVEC_INIT, vols = STRVEC_INIT;
	struct plan_up_options po = {
		.selected = sel,
		.networks_existing = &nets,
		.volumes_existing = &vols,
		.split_create_start = true,
	};
	struct plan p = PLAN_INIT;
	assert_int_equal(plan_up(&p, &f.m, &state, &po, err), 0);
	return exec_plan(&e, &f, &p, parallel, log_out, err);
}

static const char four[] = "services:\n  a: {image: x}\n  b: {image: x}\n  c: {image: x}\n  d: {image: x}\n";

static void test_order_and_bound(void **state)
{
	struct berth_error err = BERTH_ERROR_INIT;
	char *log = NULL;
	assert_int_equal(run(four, 1, NULL, &log, &err), 0);
	/* one at a time; the network before any container */
	assert_int_equal(max_overlap(log), 1);
	char *net = strstr(log, "network create");
	char *first_run = strstr(log, " run -d ");
	assert_non_null(net);
	assert_non_null(first_run);
	assert_true(net < first_run);
	assert_non_null(strstr(log, "--name=p-d-1"));
	free(log);

	assert_int_equal(run(four, 4, NULL, &log, &err), 0);
	/* independent services overlap, within the bound */
	int m = max_overlap(log);
	assert_true(m >= 2 && m <= 4);
	free(log);
}

static void test_failure_stops_dependents(void **state)
{
	struct berth_error err = BERTH_ERROR_INIT;
	char *log = NULL;
	int rc = run("services:\n  db: {image: x}\n  api: {image: x, depends_on: [db]}\n  other: {image: x}\n", 4,
		     "p-db-1", &log, &err);
	assert_int_equal(rc, BERTH_E_ENGINE);
	/* names the service and quotes the engine */
	assert_non_null(strstr(err.msg, "service \"db\""));
	assert_non_null(strstr(err.msg, "Error response from daemon: boom"));
	/* api may have been created (creation does not wait for db) but was
	 * never started: its dependency failed */
	assert_null(strstr(log, "start p-api-1"));
	assert_null(strstr(log, "run -d --name=p-api-1"));
	berth_error_release(&err);
	free(log);
}

/* Removal of many containers: one command on docker (its CLI works in
 * parallel), a few commands on nerdctl (its CLI removes one after the other),
 * each container in exactly one of them. */
static int count_rm(const char *log, int *ids_seen)
{
	int cmds = 0;
	for (const char *l = log; (l = strstr(l, "start ")); l++) {
		const char *nl = strchr(l, '\n');
		if (!nl)
			break;
		if (strstr(l, " rm -f ") && strstr(l, " rm -f ") < nl) {
			cmds++;
			for (const char *q = l; (q = strstr(q, " id")) && q < nl; q++)
				(*ids_seen)++;
		}
	}
	return cmds;
}

static int run_remove(const struct engine_dialect *d, int n, int parallel, char **log_out, struct berth_error *err)
{
	struct fx f;
	assert_int_equal(fx_load(&f, four, err), 0);
	struct engine e;
	engine_init_static(&e, d, d == &engine_dialect_docker ? "20.10.24" : "1.7.7", NULL);
	e.binary = fake_bin;
	struct plan p = PLAN_INIT;
	size_t a = plan_add(&p, PLAN_CONTAINER_REMOVE, -1, 0, "batch");
	p.v[a].already_stopped = true;
	for (int i = 0; i < n; i++) {
		strvec_pushf(&p.v[a].batch_ids, "id%d", i);
		strvec_pushf(&p.v[a].batch_names, "p-s%d-1", i);
	}
	return exec_plan(&e, &f, &p, parallel, log_out, err);
}

static void test_remove_batch_split(void **state)
{
	struct berth_error err = BERTH_ERROR_INIT;
	char *log = NULL;
	int seen = 0;
	assert_int_equal(run_remove(&engine_dialect_docker, 9, 16, &log, &err), 0);
	assert_int_equal(count_rm(log, &seen), 1);
	assert_int_equal(seen, 9);
	free(log);

	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	int want = cpus > 0 ? (int)(2 * cpus) : 2;
	seen = 0;
	assert_int_equal(run_remove(&engine_dialect_nerdctl, 9, 16, &log, &err), 0);
	assert_int_equal(count_rm(log, &seen), want < 9 ? want : 9);
	assert_int_equal(seen, 9);
	assert_true(max_overlap(log) >= 2);
	free(log);

	/* --parallel bounds it */
	seen = 0;
	assert_int_equal(run_remove(&engine_dialect_nerdctl, 9, 1, &log, &err), 0);
	assert_int_equal(count_rm(log, &seen), 1);
	assert_int_equal(seen, 9);
	free(log);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order_and_bound),
		cmocka_unit_test(test_failure_stops_dependents),
		cmocka_unit_test(test_remove_batch_split),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
