/* berth compose up: create and start the project's containers, converging
 * from whatever the engine has; attached, follow their logs until they exit
 * or Ctrl-C (first: stop gracefully, second: kill; exit 130). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/args.h"
#include "cli/compose_cmds.h"
#include "cli/compose_session.h"
#include "common/error.h"
#include "common/strbuf.h"
#include "runtime/ops.h"
#include "runtime/progress.h"
#include "common/banned.h"

static void up_usage(FILE *f)
{
	fputs("usage: berth compose up [-d] [--wait] [--wait-timeout N] [--force-recreate | --no-recreate]\n"
	      "                        [--remove-orphans] [--no-deps] [--no-start] [-t N] [--dry-run]\n"
	      "                        [--scale SERVICE=N]...\n"
	      "                        [--abort-on-container-exit] [--exit-code-from SERVICE]\n"
	      "                        [--no-color] [--no-log-prefix] [--timestamps] [SERVICE...]\n",
	      f);
}

static bool env_true(const char *name)
{
	const char *v = getenv(name);
	return v && (!strcasecmp(v, "true") || !strcmp(v, "1"));
}

int compose_cmd_up(struct compose_cli *cc, int argc, char **argv)
{
	bool detach = false, wait = false, force = false, norecreate = false,
	     orphans = env_true("COMPOSE_REMOVE_ORPHANS");
	bool nodeps = false, nostart = false, dry = false, abort_exit = false, nocolor = false, noprefix = false;
	bool timestamps = false;
	int wait_timeout = 0, timeout = -1;
	const char *exit_from = NULL, *v;
	struct strvec services = STRVEC_INIT, scales = STRVEC_INIT;
	int rc = 2;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		int m;
		if (a[0] != '-') {
			strvec_push(&services, a);
		} else if (cli_flag(a, "-d", "--detach")) {
			detach = true;
		} else if (cli_flag(a, NULL, "--wait")) {
			wait = true;
		} else if ((m = cli_flag_value(argc, argv, &i, NULL, "--wait-timeout", &v))) {
			if (m < 0 || !compose_parse_uint("up", "--wait-timeout", v, &wait_timeout))
				goto out;
		} else if ((m = cli_flag_value(argc, argv, &i, "-t", "--timeout", &v))) {
			if (m < 0 || !compose_parse_uint("up", "--timeout", v, &timeout))
				goto out;
		} else if (cli_flag(a, NULL, "--force-recreate")) {
			force = true;
		} else if (cli_flag(a, NULL, "--no-recreate")) {
			norecreate = true;
		} else if (cli_flag(a, NULL, "--remove-orphans")) {
			orphans = true;
		} else if (cli_flag(a, NULL, "--no-deps")) {
			nodeps = true;
		} else if (cli_flag(a, NULL, "--no-start")) {
			nostart = true;
		} else if (cli_flag(a, NULL, "--dry-run")) {
			dry = true;
		} else if (cli_flag(a, NULL, "--abort-on-container-exit")) {
			abort_exit = true;
		} else if ((m = cli_flag_value(argc, argv, &i, NULL, "--exit-code-from", &v))) {
			if (m < 0)
				goto out;
			exit_from = v;
			abort_exit = true;
		} else if ((m = cli_flag_value(argc, argv, &i, NULL, "--scale", &v))) {
			if (m < 0)
				goto out;
			strvec_push(&scales, v);
		} else if (cli_flag(a, NULL, "--no-color")) {
			nocolor = true;
		} else if (cli_flag(a, NULL, "--no-log-prefix")) {
			noprefix = true;
		} else if (cli_flag(a, NULL, "--timestamps")) {
			timestamps = true;
		} else if (cli_flag(a, NULL, "--build") || cli_flag(a, NULL, "--quiet-pull") ||
			   cli_flag(a, NULL, "--no-build") || cli_flag(a, NULL, "-y")) {
			/* images are built or pulled when missing; nothing more to do */
		} else if (cli_flag(a, "-h", "--help")) {
			up_usage(stdout);
			rc = 0;
			goto out;
		} else {
			fprintf(stderr, "berth compose up: unknown flag: %s\n", a);
			up_usage(stderr);
			goto out;
		}
	}
	if (force && norecreate) {
		fprintf(stderr, "berth compose up: --force-recreate and --no-recreate are incompatible\n");
		goto out;
	}
	if (wait)
		detach = true;
	if (detach && abort_exit) {
		fprintf(stderr,
			"berth compose up: --abort-on-container-exit and --exit-code-from cannot be combined with "
			"--detach or --wait\n");
		goto out;
	}
	if (env_true("COMPOSE_IGNORE_ORPHANS") && orphans) {
		fprintf(stderr, "berth compose up: COMPOSE_IGNORE_ORPHANS and --remove-orphans cannot be combined\n");
		goto out;
	}
	struct compose_session s;
	rc = compose_session_open(&s, cc, dry);
	if (rc) {
		compose_session_close(&s);
		goto out;
	}
	/* --scale SERVICE=N overrides deploy.replicas / scale (not in the config hash) */
	for (size_t k = 0; k < scales.nr; k++) {
		const char *eq = strchr(scales.v[k], '=');
		char *name = eq ? xstrndup(scales.v[k], (size_t)(eq - scales.v[k])) : NULL;
		int n = 0, si = name ? rt_model_find(&s.m, name) : -1;
		free(name);
		if (!eq || !compose_parse_uint("up", "--scale", eq + 1, &n) || si < 0) {
			if (eq && si < 0)
				fprintf(stderr, "berth compose up: --scale %s: no such service\n", scales.v[k]);
			else if (!eq)
				fprintf(stderr, "berth compose up: --scale wants SERVICE=NUM, not \"%s\"\n",
					scales.v[k]);
			compose_session_close(&s);
			rc = 2;
			goto out;
		}
		if (n > 1 && s.m.svcs[si].container_name) {
			fprintf(stderr,
				"berth compose up: --scale %s: service has container_name, its name must stay unique\n",
				scales.v[k]);
			compose_session_close(&s);
			rc = 2;
			goto out;
		}
		s.m.svcs[si].replicas = n;
	}
	if (exit_from && rt_model_find(&s.m, exit_from) < 0) {
		fprintf(stderr, "berth compose up: no such service: %s\n", exit_from);
		compose_session_close(&s);
		rc = 1;
		goto out;
	}
	struct rt_up_options o = {
		.services = &services,
		.no_deps = nodeps,
		.no_start = nostart,
		.wait = wait,
		.wait_timeout_s = wait_timeout,
		.recreate = force        ? PLAN_RECREATE_FORCE
			    : norecreate ? PLAN_RECREATE_NEVER
					 : PLAN_RECREATE_DIVERGED,
		.remove_orphans = orphans,
		.dry_run = dry,
		.offline = !s.have_engine,
		.stop_timeout = timeout,
		.known_service = compose_session_known_service,
		.known_data = &s,
	};
	struct berth_error err = BERTH_ERROR_INIT;
	struct rt_up_result res;
	struct strbuf dry_out = STRBUF_INIT;
	if (!dry && (rc = compose_session_lock(&s))) {
		compose_session_close(&s);
		goto out;
	}
	rc = rt_up(&s.ctx, &o, &res, &dry_out, &err);
	progress_finish(s.progress);
	compose_session_unlock(&s);
	if (dry && !rc) {
		printf("dry run: project \"%s\" on %s %s%s\n", s.m.project, s.e.d->name, s.e.version,
		       s.have_engine ? "" : " (no engine answered: planned from an empty state)");
		fputs(dry_out.buf, stdout);
	}
	if (rc) {
		rc = compose_session_fail(rc, &err);
	} else if (!detach && !nostart && !dry) {
		struct rt_attach_options ao = {
			.services = &services,
			.fresh = &res.started,
			.no_color = nocolor,
			.no_log_prefix = noprefix,
			.timestamps = timestamps,
			.abort_on_exit = abort_exit,
			.exit_code_from = exit_from,
			.stop_timeout = timeout,
			.out_fd = 1,
		};
		int code = 0;
		rc = rt_attach(&s.ctx, &ao, &code, &err);
		rc = rc ? compose_session_fail(rc, &err) : code;
	}
	strbuf_release(&dry_out);
	rt_up_result_release(&res);
	compose_session_close(&s);
out:
	strvec_clear(&services);
	strvec_clear(&scales);
	return rc;
}
