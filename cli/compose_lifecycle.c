/* berth compose start / stop / restart of existing containers: start in
 * dependency order (waiting for depends_on conditions), stop in reverse. */
#include <stdio.h>
#include <string.h>

#include "cli/args.h"
#include "cli/compose_cmds.h"
#include "cli/compose_session.h"
#include "common/error.h"
#include "runtime/ops.h"
#include "common/banned.h"

enum which { START, STOP, RESTART };

static int lifecycle(struct compose_cli *cc, int argc, char **argv, enum which w)
{
	static const char *const names[] = {"start", "stop", "restart"};
	struct strvec services = STRVEC_INIT;
	int timeout = -1, wait_timeout = 0;
	const char *v;
	int rc = 2;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		int m;
		if (a[0] != '-') {
			strvec_push(&services, a);
		} else if (w != START && (m = cli_flag_value(argc, argv, &i, "-t", "--timeout", &v))) {
			if (m < 0 || !compose_parse_uint(names[w], "--timeout", v, &timeout))
				goto out;
		} else if (w == START && (m = cli_flag_value(argc, argv, &i, NULL, "--wait-timeout", &v))) {
			if (m < 0 || !compose_parse_uint(names[w], "--wait-timeout", v, &wait_timeout))
				goto out;
		} else if (cli_flag(a, "-h", "--help")) {
			printf("usage: berth compose %s%s [SERVICE...]\n", names[w], w == START ? "" : " [-t N]");
			rc = 0;
			goto out;
		} else {
			fprintf(stderr, "berth compose %s: unknown flag: %s\n", names[w], a);
			goto out;
		}
	}
	struct compose_session s;
	rc = compose_session_open(&s, cc, false);
	if (!rc)
		rc = compose_session_lock(&s);
	if (!rc) {
		struct berth_error err = BERTH_ERROR_INIT;
		if (w == START)
			rc = rt_start(&s.ctx, &services, wait_timeout, &err);
		else if (w == STOP)
			rc = rt_stop(&s.ctx, &services, timeout, &err);
		else
			rc = rt_restart(&s.ctx, &services, timeout, &err);
		if (rc)
			rc = compose_session_fail(rc, &err);
	}
	compose_session_close(&s);
out:
	strvec_clear(&services);
	return rc;
}

int compose_cmd_start(struct compose_cli *cc, int argc, char **argv)
{
	return lifecycle(cc, argc, argv, START);
}

int compose_cmd_stop(struct compose_cli *cc, int argc, char **argv)
{
	return lifecycle(cc, argc, argv, STOP);
}

int compose_cmd_restart(struct compose_cli *cc, int argc, char **argv)
{
	return lifecycle(cc, argc, argv, RESTART);
}
