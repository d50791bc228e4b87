/* What the lint checks share: the context of one run (project, target,
 * version, sources, findings), the reporting calls and small helpers over
 * the canonical node tree. Private to lint/. */
#ifndef BERTH_LINT_INTERNAL_H
#define BERTH_LINT_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "common/strbuf.h"
#include "compose/envmap.h"
#include "compose/node.h"
#include "compose/project.h"
#include "lint/lint.h"
#include "lint/rules.h"
#include "lint/source.h"

struct lint_ctx {
	const struct lint_options *opt;
	struct compose_project *proj;
	struct lint_result *res;
	struct lint_sources sources;
	enum lint_target target;
	bool have_version;
	struct lint_version version;
	const char *home;             /* may be NULL */
	const struct lint_rule *rule; /* the rule whose check is running */
	const char *svc_name;         /* the service being checked, or NULL */
	const struct node *svc_key;   /* its key in services: the fallback position */
	struct envmap dotenv;         /* the project's .env, read on first use */
	bool dotenv_loaded;
	/* bind-mounted files already searched for 127.0.0.11: path -> line or 0 */
	struct envmap scanned_files;
};

/* Reports a finding of c->rule at node at (or, when at has no position, at
 * the service's key, else at the first compose file). key is relative to the
 * service during a service check ("ports", "depends_on.db"), else absolute
 * ("volumes.data.driver"); NULL for the service itself. Returns the finding so
 * that the caller can set a specific help or add edits. */
struct lint_finding *lint_emit(struct lint_ctx *c, const struct node *at, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Replaces the rule's default help on this finding. */
void lint_help(struct lint_finding *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Adds a replacement of [start, end) in the finding's file. */
void lint_add_edit(struct lint_finding *f, size_t start, size_t end, const char *text);

/* The source of the file n came from, or NULL. */
struct lint_source *lint_src(struct lint_ctx *c, const struct node *n);
/* True when the container node n (a sequence or mapping) is written in flow style. */
bool lint_is_flow(struct lint_ctx *c, const struct node *n);

/* The scalar as written in the source (quotes dropped): "256M" rather than
 * the canonical 268435456. Falls back to its value. Borrowed from buf. */
const char *lint_shown(struct lint_ctx *c, const struct node *n, struct strbuf *buf);
/* Scalar text, "" for NULL nodes and collections. */
const char *lint_str(const struct node *n);
bool lint_is_true(const struct node *n);
/* The key node of key in map, or NULL. */
const struct node *lint_key(const struct node *map, const char *key);
/* path equals dir or lies below it (both absolute, lexically clean). */
bool lint_path_under(const char *path, const char *dir);
/* --engine-version was given and is older than v. */
bool lint_version_before(const struct lint_ctx *c, const char *v);
/* Replaces the scalar n with text when the source there reads exactly n's value;
 * keeps the quoting style of the original where it can. False when unsafe. */
bool lint_fix_scalar(struct lint_ctx *c, struct lint_finding *f, const struct node *n, bool flow, const char *text);
/* The same, writing token as it is: a YAML literal such as true. */
bool lint_fix_token(struct lint_ctx *c, struct lint_finding *f, const struct node *n, bool flow, const char *token);

/* The checks, by file. */
lint_service_fn check_ephemeral_host_port, check_port_mode_host, check_large_port_range, check_port_field_ignored;
lint_project_fn check_project_outside_vm_share, check_volume_driver_ignored, check_bind_outside_vm_share_top;
lint_service_fn check_bind_outside_vm_share, check_home_in_bind_source, check_database_bind_mount,
	check_docker_socket_mount, check_unsupported_mount_type, check_mount_option_ignored;
lint_service_fn check_host_docker_internal, check_host_gateway, check_network_aliases, check_network_mode_service,
	check_embedded_dns_resolver, check_network_option_ignored_svc;
lint_project_fn check_network_option_ignored;
lint_service_fn check_depends_on_condition, check_depends_on_option_ignored, check_healthcheck_exec_form,
	check_healthcheck_not_run, check_healthcheck_start_interval, check_restart_policy_rejected,
	check_restart_policy_ignored, check_tty_stdin_mismatch;
lint_service_fn check_expose_ignored, check_links_unsupported, check_external_links_unsupported,
	check_volumes_from_unsupported, check_lifecycle_hooks_ignored, check_develop_watch_unsupported,
	check_service_key_ignored, check_deploy_resource_ignored, check_secret_config_ownership,
	check_configs_unsupported, check_replicas_without_deploy_mode;
lint_project_fn check_secret_from_environment, check_config_content_or_environment;
lint_service_fn check_remote_build_context, check_build_option_ignored, check_platform_emulation,
	check_pull_policy_rejected;
lint_project_fn check_obsolete_version, check_host_variable_not_forwarded;

#endif
