/* Keys nerdctl compose (or podman-compose) ignores or rejects (BL027-BL038,
 * BL045). The service-key list follows nerdctl's serviceparser allowlist:
 * what is not mapped to a `nerdctl run` flag is dropped with "Ignoring". */
#include <stdlib.h>
#include <string.h>

#include "lint/internal.h"
#include "common/banned.h"

/* Reports key when the service sets it: "\"<key>\" <what>". */
static void key_rule(struct lint_ctx *c, const struct node *svc, const char *key, const char *what)
{
	const struct node_kv *kv = node_map_find(svc, key);
	const struct node *k = kv ? kv->key : NULL, *v = kv ? kv->value : NULL;
	if (!k || !v || v->kind == NODE_NULL || ((v->kind == NODE_SEQ || v->kind == NODE_MAP) && !v->nr))
		return;
	lint_emit(c, k, key, "\"%s\" %s", key, what);
}

void check_expose_ignored(struct lint_ctx *c, const char *name, const struct node *svc)
{
	key_rule(c, svc, "expose", "is ignored by nerdctl compose (containers on a network reach each other's "
				   "ports anyway)");
}

void check_links_unsupported(struct lint_ctx *c, const char *name, const struct node *svc)
{
	const struct node *links = node_map_get(svc, "links");
	if (!links || links->kind != NODE_SEQ || !links->nr)
		return;
	const char *alias = NULL;
	for (size_t i = 0; i < links->nr && !alias; i++) {
		const char *colon = strchr(lint_str(links->items[i]), ':');
		if (colon)
			alias = colon + 1;
	}
	if (alias)
		lint_emit(c, lint_key(svc, "links"), "links",
			  "links are not implemented by nerdctl compose: the link alias \"%s\" does not resolve", alias);
	else
		lint_emit(c, lint_key(svc, "links"), "links",
			  "links are not implemented by nerdctl compose: only the start order they imply is kept");
}

void check_external_links_unsupported(struct lint_ctx *c, const char *name, const struct node *svc)
{
	key_rule(c, svc, "external_links", "is not implemented by nerdctl compose: the linked names do not resolve");
}

void check_volumes_from_unsupported(struct lint_ctx *c, const char *name, const struct node *svc)
{
	key_rule(c, svc, "volumes_from",
		 c->target == LINT_TARGET_PODMAN
			 ? "is not implemented by podman-compose: the service starts without those volumes"
			 : "is ignored by nerdctl compose: the service starts without those volumes");
}

void check_lifecycle_hooks_ignored(struct lint_ctx *c, const char *name, const struct node *svc)
{
	static const char *const hooks[] = { "pre_start", "post_start", "pre_stop" };
	for (size_t i = 0; i < 3; i++)
		key_rule(c, svc, hooks[i],
			 c->target == LINT_TARGET_PODMAN ? "hooks are not run by podman-compose"
							 : "hooks are not run by nerdctl compose");
}

void check_develop_watch_unsupported(struct lint_ctx *c, const char *name, const struct node *svc)
{
	key_rule(c, svc, "develop",
		 c->target == LINT_TARGET_PODMAN ? "is ignored: podman-compose has no watch"
						 : "is ignored: nerdctl compose has no watch");
}

/* Service keys without a nerdctl run flag, not covered by a rule of their own. */
static const char *const ignored_keys[] = {
	"cgroup", "cgroup_parent", "cpu_count", "cpu_percent", "cpu_period", "cpu_quota", "cpu_rt_period",
	"cpu_rt_runtime", "credential_spec", "device_cgroup_rules", "domainname", "gpus", "ipc", "isolation",
	"mem_reservation", "mem_swappiness", "memswap_limit", "models", "oom_kill_disable", "oom_score_adj",
	"provider", "pull_refresh_after", "storage_opt", "use_api_socket", "userns_mode", "uts",
};

static int str_cmp(const void *a, const void *b)
{
	return strcmp(a, *(const char *const *)b);
}

void check_service_key_ignored(struct lint_ctx *c, const char *name, const struct node *svc)
{
	for (size_t i = 0; i < svc->nr; i++) {
		const char *k = svc->kvs[i].key->str;
		if (!bsearch(k, ignored_keys, sizeof(ignored_keys) / sizeof(ignored_keys[0]), sizeof(ignored_keys[0]),
			     str_cmp))
			continue;
		const struct node *v = svc->kvs[i].value;
		if (!v || v->kind == NODE_NULL || (v->kind == NODE_BOOL && !v->v.b))
			continue;
		lint_emit(c, svc->kvs[i].key, k, "\"%s\" is ignored by nerdctl compose: the container runs without it", k);
	}
}

void check_deploy_resource_ignored(struct lint_ctx *c, const char *name, const struct node *svc)
{
	const struct node *d = node_map_get(svc, "deploy");
	const struct node *res = d && d->kind == NODE_MAP ? node_map_get(d, "resources") : NULL;
	if (!res || res->kind != NODE_MAP)
		return;
	struct {
		const char *part, *key;
	} ignored[] = { { "reservations", "cpus" }, { "reservations", "memory" }, { "limits", "pids" } };
	for (size_t i = 0; i < sizeof(ignored) / sizeof(ignored[0]); i++) {
		const struct node *m = node_map_get(res, ignored[i].part);
		const struct node *k = m && m->kind == NODE_MAP ? lint_key(m, ignored[i].key) : NULL;
		if (!k)
			continue;
		struct strbuf path = STRBUF_INIT;
		strbuf_addf(&path, "deploy.resources.%s.%s", ignored[i].part, ignored[i].key);
		struct strbuf shown = STRBUF_INIT;
		struct lint_finding *f = lint_emit(c, k, path.buf, "%s.%s %s is ignored by nerdctl compose",
						   ignored[i].part, ignored[i].key,
						   lint_shown(c, node_map_get(m, ignored[i].key), &shown));
		strbuf_release(&shown);
		if (!strcmp(ignored[i].key, "pids"))
			lint_help(f, "use the service-level pids_limit: %s", lint_str(node_map_get(m, "pids")));
		strbuf_release(&path);
	}
}

void check_secret_config_ownership(struct lint_ctx *c, const char *name, const struct node *svc)
{
	static const char *const kinds[] = { "secrets", "configs" };
	static const char *const fields[] = { "uid", "gid", "mode" };
	for (size_t k = 0; k < 2; k++) {
		const struct node *refs = node_map_get(svc, kinds[k]);
		for (size_t i = 0; refs && refs->kind == NODE_SEQ && i < refs->nr; i++) {
			const struct node *r = refs->items[i];
			if (r->kind != NODE_MAP)
				continue;
			for (size_t f = 0; f < 3; f++) {
				const struct node *key = lint_key(r, fields[f]);
				if (!key)
					continue;
				lint_emit(c, key, kinds[k], "%s \"%s\" sets %s, which nerdctl rejects (it mounts the file read-only "
							    "as it is on the host)",
					  k ? "config" : "secret", lint_str(node_map_get(r, "source")), fields[f]);
			}
		}
	}
}

void check_secret_from_environment(struct lint_ctx *c)
{
	const struct node *defs = node_map_get(c->proj->model, "secrets");
	for (size_t i = 0; defs && defs->kind == NODE_MAP && i < defs->nr; i++) {
		const struct node *env = lint_key(defs->kvs[i].value, "environment");
		if (!env)
			continue;
		struct strbuf key = STRBUF_INIT;
		strbuf_addf(&key, "secrets.%s.environment", defs->kvs[i].key->str);
		lint_emit(c, env, key.buf, "secret \"%s\" comes from the environment variable %s, but %s supports file "
					   "secrets only%s",
			  defs->kvs[i].key->str, lint_str(node_map_get(defs->kvs[i].value, "environment")),
			  c->target == LINT_TARGET_PODMAN ? "podman-compose" : "nerdctl",
			  c->target == LINT_TARGET_PODMAN ? "" : " (\"lacks file path\")");
		strbuf_release(&key);
	}
}

void check_config_content_or_environment(struct lint_ctx *c)
{
	const struct node *defs = node_map_get(c->proj->model, "configs");
	for (size_t i = 0; defs && defs->kind == NODE_MAP && i < defs->nr; i++) {
		const char *cname = defs->kvs[i].key->str;
		static const char *const how[] = { "content", "environment" };
		for (size_t k = 0; k < 2; k++) {
			const struct node *key = lint_key(defs->kvs[i].value, how[k]);
			if (!key)
				continue;
			struct strbuf path = STRBUF_INIT;
			strbuf_addf(&path, "configs.%s.%s", cname, how[k]);
			lint_emit(c, key, path.buf, "config \"%s\" uses %s: nerdctl supports file configs only%s", cname,
				  how[k], k ? " (\"lacks file path\")" : " and leaves the file out (nerdctl#3098)");
			strbuf_release(&path);
		}
	}
}

void check_configs_unsupported(struct lint_ctx *c, const char *name, const struct node *svc)
{
	key_rule(c, svc, "configs", "are not supported by podman-compose: the files are not mounted");
}

void check_replicas_without_deploy_mode(struct lint_ctx *c, const char *name, const struct node *svc)
{
	const struct node *d = node_map_get(svc, "deploy");
	const struct node *rep = d && d->kind == NODE_MAP ? node_map_get(d, "replicas") : NULL;
	if (!rep || node_map_get(d, "mode") || node_map_get(svc, "scale"))
		return;
	if (rep->kind == NODE_INT && rep->v.i == 1)
		return;
	lint_emit(c, rep, "deploy.replicas",
		  "replicas: %s is ignored by podman-compose unless deploy.mode is \"replicated\": one container starts",
		  lint_str(rep));
}
