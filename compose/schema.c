#include "compose/schema.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "common/banned.h"

#define END                                                                                                            \
	{                                                                                                              \
		NULL, KT_ANY, NULL, KM_DEFAULT, 0                                                                      \
	}
#define K(n, t)                                                                                                        \
	{                                                                                                              \
		n, t, NULL, KM_DEFAULT, 0                                                                              \
	}
#define KU(n, t)                                                                                                       \
	{                                                                                                              \
		n, t, NULL, KM_UNIQUE, 0                                                                               \
	}
#define KR(n, t)                                                                                                       \
	{                                                                                                              \
		n, t, NULL, KM_REPLACE, 0                                                                              \
	}
#define KS(n, sub, t)                                                                                                  \
	{                                                                                                              \
		n, t, sub, KM_DEFAULT, 0                                                                               \
	}
#define SP(n, which, m)                                                                                                \
	{                                                                                                              \
		n, KT_SPECIAL, NULL, m, which                                                                          \
	}
#define SPS(n, sub, which, m)                                                                                          \
	{                                                                                                              \
		n, KT_SPECIAL, sub, m, which                                                                           \
	}

static const struct key_spec ulimit_obj[] = {K("soft", KT_INT), K("hard", KT_INT), END};

static const struct key_spec file_mount[] = {K("source", KT_STR), K("target", KT_STR),   K("uid", KT_STR),
					     K("gid", KT_STR),    K("mode", KT_SPECIAL), END};

static const struct key_spec build_keys[] = {K("context", KT_STR),
					     K("dockerfile", KT_STR),
					     K("dockerfile_inline", KT_STR),
					     K("entitlements", KT_STRLIST),
					     K("args", KT_ENV),
					     K("ssh", KT_SPECIAL),
					     K("labels", KT_KV),
					     K("cache_from", KT_STRLIST),
					     K("cache_to", KT_STRLIST),
					     K("no_cache", KT_BOOL),
					     K("no_cache_filter", KT_STR_OR_LIST),
					     K("additional_contexts", KT_KV),
					     K("network", KT_STR),
					     K("provenance", KT_STR),
					     K("sbom", KT_STR),
					     K("pull", KT_BOOL),
					     K("target", KT_STR),
					     K("shm_size", KT_BYTES),
					     SP("extra_hosts", SP_EXTRA_HOSTS, KM_DEFAULT),
					     K("isolation", KT_STR),
					     K("privileged", KT_BOOL),
					     SPS("secrets", file_mount, SP_BUILD_SECRETS, KM_UNIQUE),
					     KU("tags", KT_STRLIST),
					     SPS("ulimits", ulimit_obj, SP_ULIMITS, KM_DEFAULT),
					     KU("platforms", KT_STRLIST),
					     END};

static const struct key_spec blkio_limit[] = {K("path", KT_STR), K("rate", KT_BYTES), END};
static const struct key_spec blkio_weight[] = {K("path", KT_STR), K("weight", KT_INT), END};
static const struct key_spec blkio_keys[] = {KS("device_read_bps", blkio_limit, KT_LIST_OBJ),
					     KS("device_read_iops", blkio_limit, KT_LIST_OBJ),
					     KS("device_write_bps", blkio_limit, KT_LIST_OBJ),
					     KS("device_write_iops", blkio_limit, KT_LIST_OBJ),
					     K("weight", KT_INT),
					     KS("weight_device", blkio_weight, KT_LIST_OBJ),
					     END};

static const struct key_spec credential_keys[] = {K("config", KT_STR), K("file", KT_STR), K("registry", KT_STR), END};

static const struct key_spec depends_obj[] = {K("condition", KT_STR), K("restart", KT_BOOL), K("required", KT_BOOL),
					      END};

static const struct key_spec update_keys[] = {K("parallelism", KT_INT),
					      K("delay", KT_DURATION),
					      K("failure_action", KT_STR),
					      K("monitor", KT_DURATION),
					      K("max_failure_ratio", KT_FLOAT),
					      K("order", KT_STR),
					      END};
static const struct key_spec generic_spec[] = {K("kind", KT_STR), K("value", KT_INT), END};
static const struct key_spec generic_res[] = {KS("discrete_resource_spec", generic_spec, KT_OBJ), END};
static const struct key_spec device_req[] = {K("capabilities", KT_STRLIST), K("driver", KT_STR), K("count", KT_SPECIAL),
					     K("device_ids", KT_STRLIST),   K("options", KT_KV), END};
static const struct key_spec resource_keys[] = {K("cpus", KT_FLOAT),
						K("memory", KT_BYTES),
						K("pids", KT_INT),
						KS("devices", device_req, KT_LIST_OBJ),
						KS("generic_resources", generic_res, KT_LIST_OBJ),
						END};
static const struct key_spec resources_keys[] = {KS("limits", resource_keys, KT_OBJ),
						 KS("reservations", resource_keys, KT_OBJ), END};
static const struct key_spec restart_policy_keys[] = {K("condition", KT_STR), K("delay", KT_DURATION),
						      K("max_attempts", KT_INT), K("window", KT_DURATION), END};
static const struct key_spec spread_keys[] = {K("spread", KT_STR), END};
static const struct key_spec placement_keys[] = {KU("constraints", KT_STRLIST),
						 KS("preferences", spread_keys, KT_LIST_OBJ),
						 K("max_replicas_per_node", KT_INT), END};
static const struct key_spec deploy_keys[] = {K("mode", KT_STR),
					      K("replicas", KT_INT),
					      K("labels", KT_KV),
					      KS("update_config", update_keys, KT_OBJ),
					      KS("rollback_config", update_keys, KT_OBJ),
					      KS("resources", resources_keys, KT_OBJ),
					      KS("restart_policy", restart_policy_keys, KT_OBJ),
					      KS("placement", placement_keys, KT_OBJ),
					      K("endpoint_mode", KT_STR),
					      END};

static const struct key_spec hook_keys[] = {
	K("command", KT_CMD),     K("image", KT_STR),       K("user", KT_STR),         K("privileged", KT_BOOL),
	K("working_dir", KT_STR), K("environment", KT_ENV), K("per_replica", KT_BOOL), END};

static const struct key_spec watch_exec[] = {K("command", KT_CMD),     K("user", KT_STR),
					     K("privileged", KT_BOOL), K("working_dir", KT_STR),
					     K("environment", KT_ENV), END};
static const struct key_spec watch_keys[] = {K("path", KT_STR),
					     K("action", KT_STR),
					     K("target", KT_STR),
					     K("ignore", KT_STR_OR_LIST),
					     K("include", KT_STR_OR_LIST),
					     KS("exec", watch_exec, KT_OBJ),
					     K("initial_sync", KT_BOOL),
					     END};
static const struct key_spec develop_keys[] = {KS("watch", watch_keys, KT_LIST_OBJ), END};

static const struct key_spec device_keys[] = {K("source", KT_STR), K("target", KT_STR), K("permissions", KT_STR), END};

static const struct key_spec env_file_keys[] = {K("path", KT_STR), K("required", KT_BOOL), K("format", KT_STR), END};

static const struct key_spec extends_keys[] = {K("service", KT_STR), K("file", KT_STR), END};

static const struct key_spec gpu_keys[] = {K("capabilities", KT_STRLIST), K("count", KT_SPECIAL),
					   K("device_ids", KT_STRLIST),   K("driver", KT_STR),
					   K("options", KT_KV),           END};

static const struct key_spec healthcheck_keys[] = {SP("test", SP_HEALTH_TEST, KM_REPLACE),
						   K("timeout", KT_DURATION),
						   K("interval", KT_DURATION),
						   K("retries", KT_INT),
						   K("start_period", KT_DURATION),
						   K("start_interval", KT_DURATION),
						   K("disable", KT_BOOL),
						   END};

static const struct key_spec logging_keys[] = {K("driver", KT_STR), K("options", KT_KV), END};

static const struct key_spec service_models_keys[] = {K("endpoint_var", KT_STR), K("model_var", KT_STR), END};

static const struct key_spec service_network_keys[] = {KU("aliases", KT_STRLIST),        K("interface_name", KT_STR),
						       K("ipv4_address", KT_STR),        K("ipv6_address", KT_STR),
						       KU("link_local_ips", KT_STRLIST), K("mac_address", KT_STR),
						       K("driver_opts", KT_KV),          K("priority", KT_INT),
						       K("gw_priority", KT_INT),         END};

static const struct key_spec port_keys[] = {
	K("name", KT_STR),      K("mode", KT_STR),     K("host_ip", KT_STR),      K("target", KT_INT),
	K("published", KT_STR), K("protocol", KT_STR), K("app_protocol", KT_STR), END};

static const struct key_spec provider_keys[] = {K("type", KT_STR), K("options", KT_ANY), END};

static const struct key_spec vol_bind[] = {K("propagation", KT_STR), K("create_host_path", KT_BOOL),
					   K("recursive", KT_STR), K("selinux", KT_STR), END};
static const struct key_spec vol_volume[] = {K("labels", KT_KV), K("nocopy", KT_BOOL), K("subpath", KT_STR), END};
static const struct key_spec vol_tmpfs[] = {K("size", KT_BYTES), K("mode", KT_SPECIAL), END};
static const struct key_spec vol_image[] = {K("subpath", KT_STR), END};
static const struct key_spec service_volume_keys[] = {K("type", KT_STR),
						      K("source", KT_STR),
						      K("target", KT_STR),
						      K("read_only", KT_BOOL),
						      K("consistency", KT_STR),
						      KS("bind", vol_bind, KT_OBJ),
						      KS("volume", vol_volume, KT_OBJ),
						      KS("tmpfs", vol_tmpfs, KT_OBJ),
						      KS("image", vol_image, KT_OBJ),
						      END};

/* compose-go's ServiceConfig field order. */
const struct key_spec schema_service[] = {KU("profiles", KT_STRLIST),
					  K("annotations", KT_KV),
					  SP("attach", SP_ATTACH, KM_DEFAULT),
					  SPS("build", build_keys, SP_BUILD, KM_DEFAULT),
					  KS("develop", develop_keys, KT_OBJ),
					  KS("blkio_config", blkio_keys, KT_OBJ),
					  KU("cap_add", KT_STRLIST),
					  KU("cap_drop", KT_STRLIST),
					  K("cgroup_parent", KT_STR),
					  K("cgroup", KT_STR),
					  K("cpu_count", KT_INT),
					  K("cpu_percent", KT_FLOAT),
					  K("cpu_period", KT_INT),
					  K("cpu_quota", KT_INT),
					  K("cpu_rt_period", KT_INT),
					  K("cpu_rt_runtime", KT_INT),
					  K("cpus", KT_FLOAT),
					  K("cpuset", KT_STR),
					  K("cpu_shares", KT_INT),
					  KR("command", KT_CMD),
					  SPS("configs", file_mount, SP_SERVICE_CONFIGS, KM_UNIQUE),
					  K("container_name", KT_STR),
					  KS("credential_spec", credential_keys, KT_OBJ),
					  SPS("depends_on", depends_obj, SP_DEPENDS_ON, KM_DEFAULT),
					  KS("deploy", deploy_keys, KT_OBJ),
					  KU("device_cgroup_rules", KT_STRLIST),
					  SPS("devices", device_keys, SP_DEVICES, KM_UNIQUE),
					  KU("dns", KT_STR_OR_LIST),
					  KU("dns_opt", KT_STRLIST),
					  KU("dns_search", KT_STR_OR_LIST),
					  K("domainname", KT_STR),
					  KR("entrypoint", KT_CMD),
					  KS("provider", provider_keys, KT_OBJ),
					  K("environment", KT_ENV),
					  SPS("env_file", env_file_keys, SP_ENV_FILE, KM_UNIQUE),
					  SP("expose", SP_EXPOSE, KM_UNIQUE),
					  SPS("extends", extends_keys, SP_EXTENDS, KM_DEFAULT),
					  KU("external_links", KT_STRLIST),
					  SP("extra_hosts", SP_EXTRA_HOSTS, KM_DEFAULT),
					  SPS("gpus", gpu_keys, SP_GPUS, KM_DEFAULT),
					  KU("group_add", KT_STRLIST),
					  K("hostname", KT_STR),
					  KS("healthcheck", healthcheck_keys, KT_OBJ),
					  K("image", KT_STR),
					  K("init", KT_BOOL),
					  K("ipc", KT_STR),
					  K("isolation", KT_STR),
					  K("labels", KT_KV),
					  SP("label_file", SP_LABEL_FILE, KM_UNIQUE),
					  KU("links", KT_STRLIST),
					  {"logging", KT_OBJ, logging_keys, KM_LOGGING, 0},
					  K("mem_limit", KT_BYTES),
					  K("mem_reservation", KT_BYTES),
					  K("memswap_limit", KT_BYTES),
					  K("mem_swappiness", KT_INT),
					  K("mac_address", KT_STR),
					  SPS("models", service_models_keys, SP_MODELS, KM_DEFAULT),
					  K("network_mode", KT_STR),
					  SPS("networks", service_network_keys, SP_SERVICE_NETWORKS, KM_DEFAULT),
					  K("oom_kill_disable", KT_BOOL),
					  K("oom_score_adj", KT_INT),
					  K("pid", KT_STR),
					  K("pids_limit", KT_INT),
					  K("platform", KT_STR),
					  SPS("ports", port_keys, SP_PORTS, KM_UNIQUE),
					  K("privileged", KT_BOOL),
					  K("pull_policy", KT_STR),
					  K("pull_refresh_after", KT_STR),
					  K("read_only", KT_BOOL),
					  K("restart", KT_STR),
					  K("runtime", KT_STR),
					  K("scale", KT_INT),
					  SPS("secrets", file_mount, SP_SERVICE_SECRETS, KM_UNIQUE),
					  KU("security_opt", KT_STRLIST),
					  K("shm_size", KT_BYTES),
					  K("stdin_open", KT_BOOL),
					  K("stop_grace_period", KT_DURATION),
					  K("stop_signal", KT_STR),
					  K("storage_opt", KT_KV),
					  K("sysctls", KT_KV),
					  KU("tmpfs", KT_STR_OR_LIST),
					  K("tty", KT_BOOL),
					  SPS("ulimits", ulimit_obj, SP_ULIMITS, KM_DEFAULT),
					  K("use_api_socket", KT_BOOL),
					  K("user", KT_STR),
					  K("userns_mode", KT_STR),
					  K("uts", KT_STR),
					  SPS("volumes", service_volume_keys, SP_SERVICE_VOLUMES, KM_UNIQUE),
					  KU("volumes_from", KT_STRLIST),
					  K("working_dir", KT_STR),
					  KS("pre_start", hook_keys, KT_LIST_OBJ),
					  KS("post_start", hook_keys, KT_LIST_OBJ),
					  KS("pre_stop", hook_keys, KT_LIST_OBJ),
					  END};

static const struct key_spec external_keys[] = {K("name", KT_STR), END};

static const struct key_spec ipam_config_keys[] = {K("subnet", KT_STR), K("ip_range", KT_STR), K("gateway", KT_STR),
						   K("aux_addresses", KT_KV), END};
static const struct key_spec ipam_keys[] = {K("driver", KT_STR), KS("config", ipam_config_keys, KT_LIST_OBJ),
					    K("options", KT_KV), END};
static const struct key_spec network_keys[] = {K("name", KT_STR),
					       K("driver", KT_STR),
					       K("driver_opts", KT_KV),
					       KS("ipam", ipam_keys, KT_OBJ),
					       KS("external", external_keys, KT_SPECIAL),
					       K("internal", KT_BOOL),
					       K("attachable", KT_BOOL),
					       K("labels", KT_KV),
					       K("enable_ipv4", KT_BOOL),
					       K("enable_ipv6", KT_BOOL),
					       END};
static const struct key_spec volume_keys[] = {K("name", KT_STR),       K("driver", KT_STR),
					      K("driver_opts", KT_KV), KS("external", external_keys, KT_SPECIAL),
					      K("labels", KT_KV),      END};
static const struct key_spec secret_keys[] = {K("name", KT_STR),
					      K("file", KT_STR),
					      K("environment", KT_STR),
					      K("content", KT_STR),
					      KS("external", external_keys, KT_SPECIAL),
					      K("labels", KT_KV),
					      K("driver", KT_STR),
					      K("driver_opts", KT_KV),
					      K("template_driver", KT_STR),
					      END};
static const struct key_spec model_keys[] = {K("name", KT_STR), K("model", KT_STR), K("context_size", KT_INT),
					     KU("runtime_flags", KT_STRLIST), END};
static const struct key_spec include_keys[] = {K("path", KT_STR_OR_LIST), K("env_file", KT_STR_OR_LIST),
					       K("project_directory", KT_STR), END};

const struct key_spec schema_top[] = {K("version", KT_STR),
				      K("name", KT_STR),
				      SPS("include", include_keys, SP_INCLUDE, KM_DEFAULT),
				      KS("services", schema_service, KT_MAP_OBJ),
				      KS("networks", network_keys, KT_MAP_OBJ),
				      KS("volumes", volume_keys, KT_MAP_OBJ),
				      KS("secrets", secret_keys, KT_MAP_OBJ),
				      KS("configs", secret_keys, KT_MAP_OBJ),
				      KS("models", model_keys, KT_MAP_OBJ),
				      END};

/* Sub-tables the converters in canonical.c reach by name. */
const struct key_spec *const schema_port_keys = port_keys;

/* schema_find runs for every key of every service, and tables have up to
 * ~100 entries: lookups go through one hash of (table, name) built once. */
#define SCHEMA_HASH_SIZE 2048
struct schema_slot {
	const struct key_spec *table;
	const struct key_spec *spec;
};
static struct schema_slot schema_hash[SCHEMA_HASH_SIZE];
static pthread_once_t schema_once = PTHREAD_ONCE_INIT;

static uint32_t slot_of(const struct key_spec *table, const char *name)
{
	uint32_t h = 2166136261u ^ (uint32_t)((uintptr_t)table >> 4);
	for (; *name; name++)
		h = (h ^ (unsigned char)*name) * 16777619u;
	return h & (SCHEMA_HASH_SIZE - 1);
}

static void schema_hash_table(const struct key_spec *table, int depth)
{
	if (!table || depth > 16)
		return;
	for (const struct key_spec *k = table; k->name; k++) {
		uint32_t h = slot_of(table, k->name);
		bool seen = false;
		while (schema_hash[h].spec) {
			if (schema_hash[h].table == table && !strcmp(schema_hash[h].spec->name, k->name))
				seen = true;
			h = (h + 1) & (SCHEMA_HASH_SIZE - 1);
		}
		if (seen)
			continue; /* a table reached twice (shared sub-tables) */
		schema_hash[h].table = table;
		schema_hash[h].spec = k;
		schema_hash_table(k->sub, depth + 1);
	}
}

static void schema_hash_init(void)
{
	schema_hash_table(schema_top, 0);
}

const struct key_spec *schema_find(const struct key_spec *table, const char *name)
{
	if (!table)
		return NULL;
	pthread_once(&schema_once, schema_hash_init);
	for (uint32_t h = slot_of(table, name); schema_hash[h].spec; h = (h + 1) & (SCHEMA_HASH_SIZE - 1))
		if (schema_hash[h].table == table && !strcmp(schema_hash[h].spec->name, name))
			return schema_hash[h].spec;
	/* tables not reachable from schema_top (none today) fall back to a scan */
	for (; table->name; table++)
		if (!strcmp(table->name, name))
			return table;
	return NULL;
}

size_t schema_index(const struct key_spec *table, const char *name)
{
	const struct key_spec *k = schema_find(table, name);
	return k ? (size_t)(k - table) : (size_t)-1;
}
