/* plan: what `up` (and down, start, stop, restart) will do, as a graph of
 * actions with dependencies, computed from the model and the state read back
 * from the engine. Networks and volumes come first; a service's containers
 * wait for the conditions of its depends_on (started, healthy, completed
 * successfully); independent actions run in parallel (exec.c). The config
 * hash decides keep or recreate, so a second `up` with no change plans
 * nothing. `up --dry-run` prints the plan. */
#ifndef BERTH_RUNTIME_PLAN_H
#define BERTH_RUNTIME_PLAN_H

#include <stdbool.h>
#include <stddef.h>

#include "common/strbuf.h"
#include "common/strvec.h"

struct rt_model;
struct engine_container_list;
struct berth_error;

enum plan_op {
	PLAN_NETWORK_CREATE = 0,
	PLAN_VOLUME_CREATE,
	PLAN_CONTAINER_CREATE,   /* a new container, started unless no_start */
	PLAN_CONTAINER_RECREATE, /* config or image changed: stop and remove the old one, create anew */
	PLAN_CONTAINER_START,    /* exists but is not running */
	PLAN_CONTAINER_RESTART,  /* a dependency with restart: true was recreated */
	PLAN_CONTAINER_STOP,
	PLAN_CONTAINER_REMOVE,  /* stop, then remove (scale down, orphans, down) */
	PLAN_SERVICE_STARTED,   /* gate: all of the service's containers handled */
	PLAN_SERVICE_HEALTHY,   /* wait until healthy */
	PLAN_SERVICE_COMPLETED, /* wait until every container exited 0 */
	PLAN_SERVICE_RUNNING,   /* --wait: running, or healthy when it has a healthcheck */
	PLAN_NETWORK_REMOVE,
	PLAN_VOLUME_REMOVE,
	PLAN_IMAGE_REMOVE,
};

struct plan_action {
	enum plan_op op;
	int service;        /* index into the model, -1 for networks, volumes, orphans */
	int number;         /* container replica number, 0 otherwise */
	char *name;         /* network, volume, image or container name (owned) */
	char *old_id;       /* existing container (owned), for recreate/start/stop/remove */
	const char *reason; /* static text: "config changed", "scale down"... */
	size_t *deps;       /* indices of actions that must succeed first */
	size_t deps_nr, deps_alloc;
	/* A wait reached only through `required: false` dependencies: its
	 * failure is a warning, and what depends on it goes on. */
	bool optional;
	bool remove_volumes;  /* REMOVE: also anonymous volumes (down -v) */
	bool create_only;     /* CREATE: a START action (after the dependencies) starts it */
	bool already_stopped; /* REMOVE: stopped by earlier STOP actions: rm only */
	/* STOP/REMOVE of several containers in one engine command (down, stop:
	 * one per reverse-dependency level); empty for a single container */
	struct strvec batch_ids, batch_names;
};

struct plan {
	struct plan_action *v;
	size_t nr, alloc;
	struct strvec warnings; /* orphans found, optional dependencies missing */
	struct strvec orphans;  /* orphan container names (not removed) */
};

#define PLAN_INIT                                                                                                      \
	{                                                                                                              \
		NULL, 0, 0, STRVEC_INIT, STRVEC_INIT                                                                   \
	}

void plan_release(struct plan *p);
/* Appends an action; returns its index. name is copied. */
size_t plan_add(struct plan *p, enum plan_op op, int service, int number, const char *name);
void plan_add_dep(struct plan *p, size_t action, size_t dep);

enum plan_recreate {
	PLAN_RECREATE_DIVERGED = 0, /* the default: when the config hash or image changed */
	PLAN_RECREATE_FORCE,        /* --force-recreate */
	PLAN_RECREATE_NEVER,        /* --no-recreate */
};

struct plan_up_options {
	const bool *selected; /* per model service: part of this up */
	enum plan_recreate recreate;
	bool no_start;
	bool remove_orphans;
	bool wait;    /* --wait: add a running/healthy wait per service */
	bool no_deps; /* --no-deps: do not wait for dependencies outside the selection */
	/* New containers that wait for dependencies are created at once and
	 * started when the dependencies are ready (engine_caps.split_create_start) */
	bool split_create_start;
	char *const *image_ids;                 /* per model service: the image's current ID, or NULL */
	const struct strvec *networks_existing; /* engine names */
	const struct strvec *volumes_existing;
	/* Services disabled by profiles are not orphans: returns true for a
	 * service name the project declares under any profile. May be NULL. */
	bool (*known_service)(void *data, const char *service);
	void *known_data;
};

/* Plans `up`. state is every container of the project. */
int plan_up(struct plan *out, const struct rt_model *m, const struct engine_container_list *state,
	    const struct plan_up_options *o, struct berth_error *err);

struct plan_down_options {
	bool remove_orphans;
	bool volumes;    /* -v */
	const char *rmi; /* NULL, "local" or "all" */
	const struct strvec *networks_existing;
	const struct strvec *volumes_existing;
};
/* Plans `down`: containers in reverse dependency order, then networks,
 * volumes and images. */
int plan_down(struct plan *out, const struct rt_model *m, const struct engine_container_list *state,
	      const struct plan_down_options *o, struct berth_error *err);

/* Plans `stop` (reverse dependency order) or `start` (dependency order,
 * waiting for depends_on conditions) of the selected services. */
int plan_stop(struct plan *out, const struct rt_model *m, const struct engine_container_list *state,
	      const bool *selected);
int plan_start(struct plan *out, const struct rt_model *m, const struct engine_container_list *state,
	       const bool *selected, struct berth_error *err);

/* Prints the plan for --dry-run: actions by stage (everything in a stage can
 * run at once), each with what it waits for. */
void plan_print(const struct plan *p, const struct rt_model *m, struct strbuf *out);
/* "Container p-web-1  Create" style description of one action. */
void plan_describe(const struct plan *p, const struct rt_model *m, size_t i, struct strbuf *out);

#endif
