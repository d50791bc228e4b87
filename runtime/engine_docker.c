/* The docker dialect. Docker runs healthchecks and has network aliases; what
 * varies is the API version: before 1.44 (Engine 25) `run`/`create` take a
 * single --network, so further networks are attached with `network connect`
 * before the container starts (as Docker Compose does). */
#include "runtime/engine.h"

#include <json-c/json.h>
#include <string.h>

#include "common/error.h"
#include "common/banned.h"

static const char *str_at(json_object *o, const char *a, const char *b)
{
	json_object *v = NULL, *w = NULL;
	if (!json_object_object_get_ex(o, a, &v))
		return NULL;
	if (!json_object_object_get_ex(v, b, &w) || !json_object_is_type(w, json_type_string))
		return NULL;
	return json_object_get_string(w);
}

static int docker_parse_version(struct engine *e, const char *json, struct berth_error *err)
{
	json_object *o = json_tokener_parse(json);
	json_object *server = NULL, *comps = NULL;
	if (!o || !json_object_object_get_ex(o, "Server", &server) || !server ||
	    json_object_is_type(server, json_type_null)) {
		json_object_put(o);
		return berth_error_set(err, BERTH_E_ENGINE, "the docker daemon is not answering");
	}
	const char *ver = NULL, *api = NULL;
	if (json_object_object_get_ex(server, "Components", &comps) && json_object_is_type(comps, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(comps); i++) {
			json_object *c = json_object_array_get_idx(comps, i), *n = NULL, *v = NULL, *d = NULL,
				    *a = NULL;
			if (json_object_object_get_ex(c, "Name", &n) && !strcmp(json_object_get_string(n), "Engine")) {
				if (json_object_object_get_ex(c, "Version", &v))
					ver = json_object_get_string(v);
				if (json_object_object_get_ex(c, "Details", &d) &&
				    json_object_object_get_ex(d, "ApiVersion", &a))
					api = json_object_get_string(a);
			}
		}
	}
	if (!ver)
		ver = str_at(o, "Server", "Version");
	/* the client negotiates down to the daemon's API: that is what counts */
	const char *client_api = str_at(o, "Client", "ApiVersion");
	if (client_api)
		api = client_api;
	free(e->version);
	e->version = xstrdup(ver ? ver : "0");
	engine_parse_semver(e->ver, e->version);
	free(e->api_version);
	e->api_version = api ? xstrdup(api) : NULL;
	json_object_put(o);
	return 0;
}

static void docker_version_caps(struct engine *e)
{
	int api[3];
	engine_parse_semver(api, e->api_version ? e->api_version : "1.41");
	e->caps.multi_network_create = api[0] > 1 || (api[0] == 1 && api[1] >= 44);
}

const struct engine_dialect engine_dialect_docker = {
	.kind = ENGINE_DOCKER,
	.name = "docker",
	.binary = "docker",
	.caps =
		{
			.health = ENGINE_HEALTH_NATIVE,
			.aliases = ENGINE_ALIASES_FLAG,
			.multi_network_create = false,
			.health_flags = true,
			.run_d_no_stdin = false,
			.network_connect = true,
			.image_health_in_history = false,
			.pull_never = "--pull=never",
			.split_create_start = true,
		},
	.parse_version = docker_parse_version,
	.version_caps = docker_version_caps,
	.health_run_argv = NULL,
};
