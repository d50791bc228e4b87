/* exec: runs a plan. A bounded pool of worker threads takes actions whose
 * dependencies have succeeded; the first failure (or Ctrl-C) stops new
 * actions from starting while those in flight finish, as Docker Compose's
 * errgroup does. Engine commands that change state are never killed half
 * way (nerdctl keeps a name store that a killed `run` can leave stale); only
 * waits are interrupted. Containers already started keep running: the next
 * `up` converges from whatever state is left. */
#ifndef BERTH_RUNTIME_EXEC_H
#define BERTH_RUNTIME_EXEC_H

#include <stdbool.h>
#include <stdint.h>

#include "common/strvec.h"

struct engine;
struct rt_model;
struct plan;
struct progress;
struct berth_error;
struct node;
struct strbuf;

/* A service's healthcheck as berth needs it when the engine does not run it
 * (ENGINE_HEALTH_BERTH) or must be nudged (ENGINE_HEALTH_TRIGGERED). */
struct rt_health_cfg {
	bool known;         /* filled in (from the compose file or the image) */
	bool has;           /* the service has a healthcheck */
	struct strvec test; /* ["CMD-SHELL", "..."] or ["CMD", ...] */
	int64_t interval_ms, timeout_ms, start_period_ms;
	int retries;
};

void rt_health_cfg_release(struct rt_health_cfg *h);
/* From the compose healthcheck mapping (defaults as Docker's: 30s, 30s, 0s, 3). */
void rt_health_cfg_from_node(struct rt_health_cfg *out, const struct node *healthcheck);

struct rt_exec {
	const struct engine *e;
	const struct rt_model *m;
	struct progress *progress;
	int parallel;             /* worker threads, >= 1 */
	int cancel_fd;            /* -1, or readable once the user interrupted */
	int stop_timeout;         /* -t seconds; < 0: the container's own */
	int64_t wait_deadline_ms; /* proc_now_ms() clock; 0 = none */
	int wait_timeout_s;       /* for the message */
	bool no_start;
	char *const *image_ids;       /* per service, may be NULL */
	struct rt_health_cfg *health; /* per service, may be NULL */
	bool hosts_aliases;           /* write network aliases into /etc/hosts (nerdctl) */
	bool create_host_paths;       /* make missing bind sources (done in preflight) */
	/* results */
	bool cancelled;
	struct strvec warnings;
};

/* Runs p. Returns 0, BERTH_E_INTERRUPTED when cancel_fd fired, or the first
 * failure, with the service and the engine's message. */
int rt_exec_plan(struct rt_exec *x, struct plan *p, struct berth_error *err);

/* One healthcheck probe of a running container the way berth runs them for
 * ENGINE_HEALTH_BERTH engines: `exec` the test within timeout. 1 healthy, 0
 * unhealthy (out gets the check's output), < 0 when it could not run. */
int rt_health_probe(const struct engine *e, const char *container, const struct rt_health_cfg *h, struct strbuf *out,
		    struct berth_error *err);

/* True once fd (-1 = never) is readable. */
bool rt_cancelled(int fd);
/* Sleeps ms, or less when fd becomes readable. */
void rt_sleep(int fd, int ms);

/* nerdctl: writes each container's network aliases (and its service name
 * when its hostname differs) into the /etc/hosts of the project's running
 * containers on the same networks, outside nerdctl's managed block. */
int rt_hosts_sync(const struct engine *e, const struct rt_model *m, struct strvec *warnings, struct berth_error *err);
/* True when the project has any alias that --hostname alone does not give. */
bool rt_model_needs_hosts(const struct rt_model *m);

#endif
