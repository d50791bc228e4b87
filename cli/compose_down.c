/* berth compose down: stop and remove the project's containers (dependents
 * first), its networks, and with -v its volumes, with --rmi its images. */
#include <stdio.h>
#include <string.h>

#include "cli/args.h"
#include "cli/compose_cmds.h"
#include "cli/compose_session.h"
#include "common/error.h"
#include "runtime/ops.h"
#include "common/banned.h"

static void down_usage(FILE *f)
{
	fputs("usage: berth compose down [-v] [--remove-orphans] [-t N] [--rmi local|all]\n", f);
}

int compose_cmd_down(struct compose_cli *cc, int argc, char **argv)
{
	struct rt_down_options o = {.stop_timeout = -1};
	const char *v;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		int m;
		if (cli_flag(a, "-v", "--volumes")) {
			o.volumes = true;
		} else if (cli_flag(a, NULL, "--remove-orphans")) {
			o.remove_orphans = true;
		} else if ((m = cli_flag_value(argc, argv, &i, "-t", "--timeout", &v))) {
			if (m < 0 || !compose_parse_uint("down", "--timeout", v, &o.stop_timeout))
				return 2;
		} else if ((m = cli_flag_value(argc, argv, &i, NULL, "--rmi", &v))) {
			if (m < 0)
				return 2;
			if (strcmp(v, "local") && strcmp(v, "all")) {
				fprintf(stderr, "berth compose down: invalid value for --rmi: %s (local or all)\n", v);
				return 2;
			}
			o.rmi = v;
		} else if (cli_flag(a, "-h", "--help")) {
			down_usage(stdout);
			return 0;
		} else {
			fprintf(stderr, "berth compose down: unknown argument: %s\n", a);
			down_usage(stderr);
			return 2;
		}
	}
	struct compose_session s;
	int rc = compose_session_open(&s, cc, false);
	if (!rc)
		rc = compose_session_lock(&s);
	if (!rc) {
		struct berth_error err = BERTH_ERROR_INIT;
		rc = rt_down(&s.ctx, &o, &err);
		if (rc)
			rc = compose_session_fail(rc, &err);
	}
	compose_session_close(&s);
	return rc;
}
