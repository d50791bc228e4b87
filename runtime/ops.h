/* ops: the compose commands that change or show a project's containers
 * (up, down, start, stop, restart, ps, logs), one core function each; the CLI
 * parses flags, takes the project lock, calls one of these and prints the
 * error. Every function reads the project's state back from the engine
 * (labels), never from a side file. */
#ifndef BERTH_RUNTIME_OPS_H
#define BERTH_RUNTIME_OPS_H

#include <stdbool.h>
#include <stdint.h>

#include "common/strbuf.h"
#include "common/strvec.h"
#include "runtime/plan.h"

struct engine;
struct rt_model;
struct progress;
struct berth_error;
struct lock;

struct rt_ctx {
	struct engine *e; /* its version may still be pending: rt_* resolve it */
	const struct rt_model *m;
	struct progress *progress;
	int parallel;  /* --parallel; 0 = default */
	int cancel_fd; /* readable once per Ctrl-C/SIGTERM, or -1 */
};

#define RT_PARALLEL_DEFAULT 16

struct rt_up_options {
	const struct strvec *services; /* selected (empty = all) */
	bool no_deps;
	bool no_start;
	bool wait;
	int wait_timeout_s; /* 0 = none */
	enum plan_recreate recreate;
	bool remove_orphans;
	bool dry_run;
	bool offline;     /* dry run without an engine: plan from nothing */
	int stop_timeout; /* -t, or -1 */
	bool (*known_service)(void *data, const char *service);
	void *known_data;
};

struct rt_up_result {
	struct strvec started; /* containers created, started or restarted by this up */
	bool nothing_to_do;
};
void rt_up_result_release(struct rt_up_result *r);

/* up: preflight (images present, bind sources, external resources: a failure
 * here creates nothing), plan, execute. With dry_run the plan is appended to
 * dry_out and nothing changes. */
int rt_up(const struct rt_ctx *c, const struct rt_up_options *o, struct rt_up_result *res, struct strbuf *dry_out,
	  struct berth_error *err);

struct rt_down_options {
	bool volumes;
	bool remove_orphans;
	const char *rmi;
	int stop_timeout;
};
int rt_down(const struct rt_ctx *c, const struct rt_down_options *o, struct berth_error *err);

/* start/stop/restart of the selected services' existing containers. */
int rt_stop(const struct rt_ctx *c, const struct strvec *services, int stop_timeout, struct berth_error *err);
int rt_start(const struct rt_ctx *c, const struct strvec *services, int wait_timeout_s, struct berth_error *err);
int rt_restart(const struct rt_ctx *c, const struct strvec *services, int stop_timeout, struct berth_error *err);

/* ps */
struct rt_ps_options {
	const struct strvec *services;
	bool all;                    /* -a: stopped ones too */
	bool quiet;                  /* -q: IDs */
	bool services_only;          /* --services */
	const struct strvec *status; /* --status values */
	const char *format;          /* "table" (default) or "json" */
};
int rt_ps(const struct rt_ctx *c, const struct rt_ps_options *o, struct strbuf *out, struct berth_error *err);

/* logs and attached up share the multiplexer */
struct rt_logs_options {
	const struct strvec *services;
	bool follow;
	const char *tail; /* NULL = all */
	bool timestamps;
	bool no_color;
	bool no_log_prefix;
	int out_fd; /* where lines go (1) */
};
int rt_logs(const struct rt_ctx *c, const struct rt_logs_options *o, struct berth_error *err);

struct rt_attach_options {
	const struct strvec *services;
	const struct strvec *fresh; /* containers this up started: their whole log is shown */
	bool no_color;
	bool no_log_prefix;
	bool timestamps;
	bool abort_on_exit; /* --abort-on-container-exit (or --exit-code-from) */
	const char *exit_code_from;
	int stop_timeout;
	int out_fd;
};
/* Follows the logs of the selected services' containers until they all
 * exit, or until Ctrl-C (first: stop gracefully, second: kill; returns
 * BERTH_E_INTERRUPTED). *exit_code is what `up` exits with otherwise. */
int rt_attach(const struct rt_ctx *c, const struct rt_attach_options *o, int *exit_code, struct berth_error *err);

/* The per-project lock under $XDG_RUNTIME_DIR/berth/locks (or
 * /tmp/berth-<uid>/locks): a second up/down on the same project waits,
 * on_wait saying so once. */
int rt_project_lock(struct lock *lk, const char *project, int cancel_fd,
		    void (*on_wait)(void *data, const char *path, int pid), void *data, struct berth_error *err);

#endif
