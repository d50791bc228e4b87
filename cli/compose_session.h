/* What the runtime subcommands (up, down, ps, logs, start, stop, restart)
 * share: the loaded project and its runtime model, the chosen engine, the
 * progress writer, Ctrl-C handling and the per-project lock. */
#ifndef BERTH_CLI_COMPOSE_SESSION_H
#define BERTH_CLI_COMPOSE_SESSION_H

#include <stdbool.h>

#include "cli/compose_cmds.h"
#include "common/lock.h"
#include "compose/project.h"
#include "runtime/engine.h"
#include "runtime/model.h"
#include "runtime/ops.h"

struct compose_session {
	struct compose_cli *cc;
	struct compose_project p;
	struct rt_model m;
	struct engine e;
	bool have_engine;
	struct progress *progress;
	struct rt_ctx ctx;
	struct lock lock;
	/* services of the project under every profile, loaded on demand */
	struct compose_project all;
	int all_state; /* 0 not loaded, 1 loaded, -1 failed */
};

/* Loads the project and the model, picks the engine (unless offline_ok and
 * none answers), installs the SIGINT/SIGTERM handler. Returns 0 or the exit
 * code, having printed why. */
int compose_session_open(struct compose_session *s, struct compose_cli *cc, bool offline_ok);
void compose_session_close(struct compose_session *s);
/* Takes the project lock, telling the user if it has to wait. */
int compose_session_lock(struct compose_session *s);
void compose_session_unlock(struct compose_session *s);
/* plan_up_options.known_service: is name a service under some profile? */
bool compose_session_known_service(void *data, const char *name);
/* Prints err and returns the exit code for rc. */
int compose_session_fail(int rc, struct berth_error *err);
/* Parses a non-negative integer flag value; prints and returns false when bad. */
bool compose_parse_uint(const char *cmd, const char *flag, const char *v, int *out);

#endif
