/* The nerdctl dialect, the primary engine. Quirks by version:
 * - no --network-alias in any version: names resolve through nerdctl's
 *   /etc/hosts store (hostname and container name per network), so berth sets
 *   --hostname to the service name and writes other aliases itself;
 * - healthchecks: none before 2.1.5 (no --health-* flags; berth runs the test
 *   with `exec`); from 2.1.5 the flags exist and `container healthcheck` runs
 *   one check, but the timers need systemd, so berth triggers checks as for
 *   podman;
 * - `run -d -i` fails ("currently flag -i and -d cannot be specified
 *   together"): a service with stdin_open is created, then started.
 *   (nerdctl compose's own "-i and -t should be same", nerdctl#1960, is not
 *   a limit of `run`: -t alone works with -d);
 * - `network connect` does not exist: every network is given at create;
 * - image HEALTHCHECKs are dropped from `image inspect`; berth reads them from
 *   the build history (`image inspect --mode=native`). */
#include "runtime/engine.h"

#include <json-c/json.h>
#include <string.h>

#include "common/error.h"
#include "common/banned.h"

static int nerdctl_parse_version(struct engine *e, const char *json, struct berth_error *err)
{
	json_object *o = json_tokener_parse(json), *client = NULL, *server = NULL, *v = NULL;
	if (!o || !json_object_object_get_ex(o, "Client", &client) ||
	    !json_object_object_get_ex(client, "Version", &v)) {
		json_object_put(o);
		return berth_error_set(err, BERTH_E_ENGINE, "nerdctl did not report its version");
	}
	if (!json_object_object_get_ex(o, "Server", &server) || json_object_is_type(server, json_type_null)) {
		json_object_put(o);
		return berth_error_set(err, BERTH_E_ENGINE, "containerd is not answering nerdctl");
	}
	free(e->version);
	const char *s = json_object_get_string(v);
	e->version = xstrdup(s && *s == 'v' ? s + 1 : s ? s : "0");
	engine_parse_semver(e->ver, e->version);
	json_object_put(o);
	return 0;
}

static void nerdctl_version_caps(struct engine *e)
{
	if (engine_version_at_least(e, 2, 1, 5)) {
		e->caps.health = ENGINE_HEALTH_TRIGGERED;
		e->caps.health_flags = true;
	} else {
		e->caps.health = ENGINE_HEALTH_BERTH;
		e->caps.health_flags = false;
	}
}

static void nerdctl_health_run(struct strvec *out, const char *container)
{
	strvec_pushl(out, "container", "healthcheck", container, NULL);
}

const struct engine_dialect engine_dialect_nerdctl = {
	.kind = ENGINE_NERDCTL,
	.name = "nerdctl",
	.binary = "nerdctl",
	.caps =
		{
			.health = ENGINE_HEALTH_BERTH,
			.aliases = ENGINE_ALIASES_HOSTS,
			.multi_network_create = true,
			.health_flags = false,
			.run_d_no_stdin = true,
			.network_connect = false,
			.image_health_in_history = true,
			.pull_never = "--pull=never",
			.split_create_start = false,
			.batch_serial = true,
		},
	.parse_version = nerdctl_parse_version,
	.version_caps = nerdctl_version_caps,
	.health_run_argv = nerdctl_health_run,
};
