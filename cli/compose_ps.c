/* berth compose ps: the project's containers, read back from the engine. */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli/args.h"
#include "cli/compose_cmds.h"
#include "cli/compose_session.h"
#include "common/error.h"
#include "runtime/ops.h"
#include "common/banned.h"

static void ps_usage(FILE *f)
{
	fputs("usage: berth compose ps [-a] [-q] [--services] [--status STATUS]... [--format table|json] "
	      "[SERVICE...]\n",
	      f);
}

static const char *const statuses[] = {"paused", "restarting", "removing", "running",
				       "dead",   "created",    "exited",   NULL};

int compose_cmd_ps(struct compose_cli *cc, int argc, char **argv)
{
	struct strvec services = STRVEC_INIT, status = STRVEC_INIT;
	struct rt_ps_options o = {.services = &services, .status = &status, .format = "table"};
	const char *v;
	int rc = 2;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		int m;
		if (a[0] != '-') {
			strvec_push(&services, a);
		} else if (cli_flag(a, "-a", "--all")) {
			o.all = true;
		} else if (cli_flag(a, "-q", "--quiet")) {
			o.quiet = true;
		} else if (cli_flag(a, NULL, "--services")) {
			o.services_only = true;
		} else if ((m = cli_flag_value(argc, argv, &i, NULL, "--status", &v))) {
			if (m < 0)
				goto out;
			bool ok = false;
			for (const char *const *s = statuses; *s; s++)
				ok |= !strcmp(*s, v);
			if (!ok) {
				fprintf(stderr,
					"berth compose ps: invalid --status \"%s\" (paused, restarting, removing, "
					"running, dead, created or exited)\n",
					v);
				goto out;
			}
			strvec_push(&status, v);
		} else if ((m = cli_flag_value(argc, argv, &i, NULL, "--format", &v))) {
			if (m < 0)
				goto out;
			if (strcmp(v, "table") && strcmp(v, "json")) {
				fprintf(stderr, "berth compose ps: unsupported --format \"%s\" (table or json)\n", v);
				goto out;
			}
			o.format = v;
		} else if (cli_flag(a, "-h", "--help")) {
			ps_usage(stdout);
			rc = 0;
			goto out;
		} else {
			fprintf(stderr, "berth compose ps: unknown flag: %s\n", a);
			ps_usage(stderr);
			goto out;
		}
	}
	struct compose_session s;
	rc = compose_session_open(&s, cc, false);
	if (!rc) {
		/* ps changes nothing: Ctrl-C may simply end it */
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		s.ctx.cancel_fd = -1;
		struct berth_error err = BERTH_ERROR_INIT;
		struct strbuf out = STRBUF_INIT;
		rc = rt_ps(&s.ctx, &o, &out, &err);
		if (rc)
			rc = compose_session_fail(rc, &err);
		else
			fputs(out.buf, stdout);
		strbuf_release(&out);
	}
	compose_session_close(&s);
out:
	strvec_clear(&services);
	strvec_clear(&status);
	return rc;
}
