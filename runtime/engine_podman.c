/* The podman dialect. Podman 4 takes aliases inline (--network n:alias=a) and
 * several --network flags at create. Its healthchecks run from systemd timers:
 * without systemd (containers, CI sandboxes) they never fire and the state
 * stays "starting", so berth triggers `podman healthcheck run` itself while it
 * waits; podman records the result, so `ps` shows it. */
#include "runtime/engine.h"

#include <json-c/json.h>
#include <string.h>

#include "common/error.h"
#include "common/banned.h"

static int podman_parse_version(struct engine *e, const char *json, struct berth_error *err)
{
	json_object *o = json_tokener_parse(json), *part = NULL, *v = NULL;
	/* a remote podman has a Server; a local one only a Client */
	if (!o || (!json_object_object_get_ex(o, "Server", &part) && !json_object_object_get_ex(o, "Client", &part)) ||
	    !json_object_object_get_ex(part, "Version", &v)) {
		json_object_put(o);
		return berth_error_set(err, BERTH_E_ENGINE, "podman did not report its version");
	}
	free(e->version);
	e->version = xstrdup(json_object_get_string(v));
	engine_parse_semver(e->ver, e->version);
	json_object_put(o);
	return 0;
}

static void podman_version_caps(struct engine *e)
{
	/* podman 3 (CNI) had no per-network aliases in --network */
	if (e->ver[0] < 4)
		e->caps.aliases = ENGINE_ALIASES_FLAG;
}

static void podman_health_run(struct strvec *out, const char *container)
{
	strvec_pushl(out, "healthcheck", "run", container, NULL);
}

const struct engine_dialect engine_dialect_podman = {
	.kind = ENGINE_PODMAN,
	.name = "podman",
	.binary = "podman",
	.caps =
		{
			.health = ENGINE_HEALTH_TRIGGERED,
			.aliases = ENGINE_ALIASES_INLINE,
			.multi_network_create = true,
			.health_flags = true,
			.run_d_no_stdin = false,
			.network_connect = true,
			.image_health_in_history = false,
			.pull_never = "--pull=never",
			.split_create_start = false,
		},
	.parse_version = podman_parse_version,
	.version_caps = podman_version_caps,
	.health_run_argv = podman_health_run,
};
