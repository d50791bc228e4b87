/* model: the runtime's view of a loaded compose project: per service its
 * replicas, image, dependencies with their conditions, config hash and the
 * labels Docker Compose puts on containers, networks and volumes, so that a
 * project berth started is recognised by `docker compose ps` and the reverse. */
#ifndef BERTH_RUNTIME_MODEL_H
#define BERTH_RUNTIME_MODEL_H

#include <stdbool.h>
#include <stddef.h>

#include "common/strbuf.h"
#include "common/strvec.h"

struct compose_project;
struct node;
struct berth_error;

#define LABEL_PROJECT      "com.docker.compose.project"
#define LABEL_SERVICE      "com.docker.compose.service"
#define LABEL_NUMBER       "com.docker.compose.container-number"
#define LABEL_ONEOFF       "com.docker.compose.oneoff"
#define LABEL_HASH         "com.docker.compose.config-hash"
#define LABEL_IMAGE        "com.docker.compose.image"
#define LABEL_WORKDIR      "com.docker.compose.project.working_dir"
#define LABEL_CONFIG_FILES "com.docker.compose.project.config_files"
#define LABEL_DEPENDS      "com.docker.compose.depends_on"
#define LABEL_VERSION      "com.docker.compose.version"
#define LABEL_NETWORK      "com.docker.compose.network"
#define LABEL_VOLUME       "com.docker.compose.volume"

enum rt_condition {
	RT_COND_STARTED = 0, /* service_started */
	RT_COND_HEALTHY,     /* service_healthy */
	RT_COND_COMPLETED,   /* service_completed_successfully */
};

struct rt_dep {
	const char *service; /* borrowed from the model */
	enum rt_condition cond;
	bool required;
	bool restart;
	int index; /* into rt_model.svcs, -1 when not in the project */
};

struct rt_service {
	const char *name;        /* borrowed from the model */
	const struct node *node; /* canonical service mapping */
	int replicas;            /* deploy.replicas / scale, default 1 */
	const char *image;       /* image: or <project>-<service> when only build: */
	bool has_build;
	const char *container_name; /* container_name:, or NULL */
	const char *pull_policy;    /* "missing" unless set */
	struct rt_dep *deps;
	size_t deps_nr;
	char *hash;           /* owned: com.docker.compose.config-hash */
	char *depends_label;  /* owned: "db:service_healthy:false,..." */
	bool health_disabled; /* healthcheck.disable or test ["NONE"] */
	bool has_healthcheck; /* a healthcheck: test in the compose file */
};

struct rt_model {
	const struct compose_project *p;
	const char *project; /* borrowed */
	struct rt_service *svcs;
	size_t nr;
	char *config_files; /* owned: comma-joined */
	/* top-level networks and volumes: compose key, engine name, external */
	struct strvec net_keys, net_names, vol_keys, vol_names;
	bool *net_external, *vol_external;
};

/* Builds the view of p (borrowed until rt_model_release). Fails on a
 * dependency cycle, naming it ("dependency cycle detected: a -> b -> a"). */
int rt_model_init(struct rt_model *out, const struct compose_project *p, struct berth_error *err);
void rt_model_release(struct rt_model *m);
/* Index of a service, or -1. */
int rt_model_find(const struct rt_model *m, const char *service);

/* Appends the container name of replica n of s: container_name, or
 * <project>-<service>-<n>. */
void rt_container_name(struct strbuf *out, const struct rt_model *m, const struct rt_service *s, int n);

/* Appends the config hash: sha256 (hex) of the service's canonical JSON
 * (keys sorted, compact) without the keys that do not change a container
 * (build, pull_policy, scale, deploy.replicas, depends_on, profiles), as
 * Docker Compose's ServiceHash leaves them out. */
void rt_config_hash(struct strbuf *out, const struct node *service);
/* Canonical compact JSON of a node, map keys sorted (byte order). Appends. */
void rt_canonical_json(struct strbuf *out, const struct node *n);

/* The engine name of a top-level network/volume key (its name:, else
 * <project>_<key>); NULL when the key is not declared. Borrowed. */
const char *rt_network_name(const struct rt_model *m, const char *key);
const char *rt_volume_name(const struct rt_model *m, const char *key);
bool rt_network_external(const struct rt_model *m, const char *key);
bool rt_volume_external(const struct rt_model *m, const char *key);

/* Orders the services so that each comes after its dependencies (stable
 * otherwise, by name). out gets indices; caller frees. */
size_t *rt_model_order(const struct rt_model *m);

/* Marks in sel (m->nr bools) the services named in names (all when names is
 * empty) and, unless no_deps, everything they depend on. An unknown name is
 * BERTH_E_NOTFOUND ("no such service: x"). */
int rt_model_select(const struct rt_model *m, const struct strvec *names, bool no_deps, bool *sel,
		    struct berth_error *err);

#endif
