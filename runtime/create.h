/* create: the argv that creates (or runs) one service container, built from
 * the canonical service config for a given engine dialect, plus the
 * `network connect` commands some engines need before start. Pure: it runs
 * nothing and touches no file, so unit tests assert the exact vectors. */
#ifndef BERTH_RUNTIME_CREATE_H
#define BERTH_RUNTIME_CREATE_H

#include <stdbool.h>

#include "common/strvec.h"

struct engine;
struct rt_model;
struct rt_service;
struct berth_error;

struct rt_create_spec {
	const struct rt_model *m;
	const struct rt_service *s;
	int number;           /* replica number, from 1 */
	const char *name;     /* container name */
	const char *image_id; /* for com.docker.compose.image; may be NULL */
	bool start;           /* start it now (`run -d`) when the engine allows one command */
};

struct rt_create_cmds {
	struct strvec argv;     /* `run -d ...` or `create ...`, without the binary */
	bool runs;              /* argv also starts the container */
	struct strvec *connect; /* `network connect ...` to run after create, before start */
	size_t connect_nr;
	struct strvec notices;  /* one-line normalisation notices (shown with -v) */
	struct strvec warnings; /* keys berth ignores, shown always */
};

void rt_create_cmds_release(struct rt_create_cmds *c);

/* Fills out (zeroed by the callee) for spec on e. */
int rt_create_argv(struct rt_create_cmds *out, const struct engine *e, const struct rt_create_spec *spec,
		   struct berth_error *err);

/* The command an engine runs for a healthcheck test as `exec` argv (without
 * the binary): ["CMD", a...] -> exec C a...; ["CMD-SHELL", s] -> exec C
 * /bin/sh -c s. Empty out when test is empty or NONE. */
void rt_health_exec_argv(struct strvec *out, const char *container, const struct strvec *test);

/* True when a bind target's last component looks like a file (an extension,
 * or a dotfile such as .gitconfig): a missing source must not become an empty
 * directory there. */
bool rt_target_looks_like_file(const char *target);

#endif
