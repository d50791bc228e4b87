/* The lint rule table: one entry per rule with its stable code, severity,
 * title, the targets (and engine versions) it applies to, the explanation and
 * suggested fix that docs/lint-rules.md repeats, and the check that finds it.
 * Codes are never reused or renumbered: a retired rule keeps its slot. */
#ifndef BERTH_LINT_RULES_H
#define BERTH_LINT_RULES_H

#include <stdbool.h>
#include <stddef.h>

#include "lint/lint.h"

struct lint_ctx;
struct node;

/* Runs once per service (name, canonical service mapping). */
typedef void lint_service_fn(struct lint_ctx *c, const char *name, const struct node *svc);
/* Runs once per project (top-level keys, files). */
typedef void lint_project_fn(struct lint_ctx *c);

#define LINT_T(t) (1u << LINT_TARGET_##t)
#define LINT_T_NERDCTL_FINCH (LINT_T(NERDCTL) | LINT_T(FINCH))

struct lint_rule {
	const char *code;  /* "BL001" */
	const char *name;  /* "ephemeral-host-port": the fixture directory's slug */
	enum lint_severity severity;
	const char *title; /* short, lowercase, no final period */
	unsigned targets;  /* LINT_T(...) bits */
	/* Per target: the first engine version without the problem. The rule
	 * then applies only when --engine-version is given and older. NULL: it
	 * applies to every version. */
	const char *fixed_in[LINT_TARGET_COUNT];
	bool fixable;      /* some findings carry a safe edit */
	const char *explanation;
	const char *help;  /* the default suggested fix */
	lint_service_fn *service;
	lint_project_fn *project;
};

/* Indexes into lint_rules[]; lint_rules[R_X].code is "BL%03d" of R_X + 1. */
enum lint_rule_id {
	R_EPHEMERAL_HOST_PORT,
	R_PORT_MODE_HOST,
	R_LARGE_PORT_RANGE,
	R_PORT_FIELD_IGNORED,
	R_PROJECT_OUTSIDE_VM_SHARE,
	R_BIND_OUTSIDE_VM_SHARE,
	R_HOME_IN_BIND_SOURCE,
	R_DATABASE_BIND_MOUNT,
	R_DOCKER_SOCKET_MOUNT,
	R_UNSUPPORTED_MOUNT_TYPE,
	R_MOUNT_OPTION_IGNORED,
	R_VOLUME_DRIVER_IGNORED,
	R_HOST_DOCKER_INTERNAL,
	R_HOST_GATEWAY,
	R_NETWORK_ALIASES,
	R_NETWORK_MODE_SERVICE,
	R_EMBEDDED_DNS_RESOLVER,
	R_NETWORK_OPTION_IGNORED,
	R_DEPENDS_ON_CONDITION,
	R_DEPENDS_ON_OPTION_IGNORED,
	R_HEALTHCHECK_EXEC_FORM,
	R_HEALTHCHECK_NOT_RUN,
	R_HEALTHCHECK_START_INTERVAL,
	R_RESTART_POLICY_REJECTED,
	R_RESTART_POLICY_IGNORED,
	R_TTY_STDIN_MISMATCH,
	R_EXPOSE_IGNORED,
	R_LINKS_UNSUPPORTED,
	R_EXTERNAL_LINKS_UNSUPPORTED,
	R_VOLUMES_FROM_UNSUPPORTED,
	R_LIFECYCLE_HOOKS_IGNORED,
	R_DEVELOP_WATCH_UNSUPPORTED,
	R_SERVICE_KEY_IGNORED,
	R_DEPLOY_RESOURCE_IGNORED,
	R_SECRET_CONFIG_OWNERSHIP,
	R_SECRET_FROM_ENVIRONMENT,
	R_CONFIG_CONTENT_OR_ENVIRONMENT,
	R_CONFIGS_UNSUPPORTED,
	R_REMOTE_BUILD_CONTEXT,
	R_BUILD_OPTION_IGNORED,
	R_PLATFORM_EMULATION,
	R_PULL_POLICY_REJECTED,
	R_OBSOLETE_VERSION,
	R_HOST_VARIABLE_NOT_FORWARDED,
	R_REPLICAS_WITHOUT_DEPLOY_MODE,
	R_COUNT
};

extern const struct lint_rule lint_rules[R_COUNT];

/* The rule with this code, or NULL. */
const struct lint_rule *lint_rule_find(const char *code);
/* Index of r in lint_rules. */
size_t lint_rule_index(const struct lint_rule *r);
/* True if the rule applies to the target and (optional) engine version. */
bool lint_rule_applies(const struct lint_rule *r, enum lint_target t, const struct lint_version *v);

#endif
