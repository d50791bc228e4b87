/* berth compose logs: the containers' output, prefixed "web-1  | ". */
#include <stdio.h>
#include <string.h>

#include "cli/args.h"
#include "cli/compose_cmds.h"
#include "cli/compose_session.h"
#include "common/error.h"
#include "runtime/ops.h"
#include "common/banned.h"

static void logs_usage(FILE *f)
{
	fputs("usage: berth compose logs [-f] [--tail N|all] [-t] [--no-color] [--no-log-prefix] [SERVICE...]\n", f);
}

int compose_cmd_logs(struct compose_cli *cc, int argc, char **argv)
{
	struct strvec services = STRVEC_INIT;
	struct rt_logs_options o = {.services = &services, .out_fd = 1};
	const char *v;
	int rc = 2;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		int m;
		if (a[0] != '-') {
			strvec_push(&services, a);
		} else if (cli_flag(a, "-f", "--follow")) {
			o.follow = true;
		} else if (cli_flag(a, "-t", "--timestamps")) {
			o.timestamps = true;
		} else if (cli_flag(a, NULL, "--no-color")) {
			o.no_color = true;
		} else if (cli_flag(a, NULL, "--no-log-prefix")) {
			o.no_log_prefix = true;
		} else if ((m = cli_flag_value(argc, argv, &i, "-n", "--tail", &v))) {
			int n;
			if (m < 0)
				goto out;
			if (strcmp(v, "all") && !compose_parse_uint("logs", "--tail", v, &n))
				goto out;
			o.tail = strcmp(v, "all") ? v : NULL;
		} else if (cli_flag(a, "-h", "--help")) {
			logs_usage(stdout);
			rc = 0;
			goto out;
		} else {
			fprintf(stderr, "berth compose logs: unknown flag: %s\n", a);
			logs_usage(stderr);
			goto out;
		}
	}
	struct compose_session s;
	rc = compose_session_open(&s, cc, false);
	if (!rc) {
		struct berth_error err = BERTH_ERROR_INIT;
		fflush(stdout);
		rc = rt_logs(&s.ctx, &o, &err);
		if (rc)
			rc = compose_session_fail(rc, &err);
	}
	compose_session_close(&s);
out:
	strvec_clear(&services);
	return rc;
}
