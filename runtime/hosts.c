/* Network aliases for engines without them (nerdctl, every version so far).
 *
 * nerdctl resolves names through an /etc/hosts file per container that it
 * regenerates whenever a container on a shared network starts or stops; each
 * entry is a container's hostname and name (and <name>.<network>). berth
 * sets --hostname to the service name, which covers the common case; network
 * aliases (and the service name when hostname: is set) are written here, by
 * `exec` into each running container of the project, as lines ending in
 * "# berth-alias" after nerdctl's "# <nerdctl>" block: nerdctl keeps lines
 * outside its block when it rewrites the file (hostsstore/updater.go,
 * parseHostsButSkipMarkedRegion, since 1.x). It needs /bin/sh and grep in the
 * image; where they are missing, a warning names the container. */
#include <string.h>

#include "common/error.h"
#include "compose/node.h"
#include "compose/project.h"
#include "runtime/engine.h"
#include "runtime/exec.h"
#include "runtime/model.h"
#include "common/banned.h"

/* Rewrites /etc/hosts in place (it is a bind mount: no rename), keeping
 * every line but berth's own, then appends "$@" as berth lines. */
static const char hosts_script[] =
	"f=/etc/hosts; keep=$(grep -v ' # berth-alias$' \"$f\"); "
	"{ printf '%s\\n' \"$keep\"; for l in \"$@\"; do printf '%s # berth-alias\\n' \"$l\"; done; } > \"$f\"";

/* The names other containers should find c by on network key, beyond
 * its hostname and container name. */
static void extra_names(struct strvec *out, const struct rt_service *s, const char *key)
{
	const struct node *hn = node_map_get(s->node, "hostname");
	if (hn && hn->str && *hn->str && strcmp(hn->str, s->name))
		strvec_push(out, s->name);
	const struct node *nets = node_map_get(s->node, "networks");
	const struct node *cfg = nets ? node_map_get(nets, key) : NULL;
	const struct node *al = cfg && cfg->kind == NODE_MAP ? node_map_get(cfg, "aliases") : NULL;
	for (size_t i = 0; al && al->kind == NODE_SEQ && i < al->nr; i++)
		if (strcmp(al->items[i]->str, s->name) && strvec_find(out, al->items[i]->str) < 0)
			strvec_push(out, al->items[i]->str);
}

bool rt_model_needs_hosts(const struct rt_model *m)
{
	for (size_t i = 0; i < m->nr; i++) {
		const struct node *nm = node_map_get(m->svcs[i].node, "network_mode");
		if (nm && nm->str && *nm->str)
			continue;
		const struct node *nets = node_map_get(m->svcs[i].node, "networks");
		for (size_t k = 0; nets && nets->kind == NODE_MAP && k < nets->nr; k++) {
			struct strvec names = STRVEC_INIT;
			extra_names(&names, &m->svcs[i], nets->kvs[k].key->str);
			bool any = names.nr > 0;
			strvec_clear(&names);
			if (any)
				return true;
		}
	}
	return false;
}

int rt_hosts_sync(const struct engine *e, const struct rt_model *m, struct strvec *warnings, struct berth_error *err)
{
	struct engine_container_list cl = {0};
	int rc = engine_list_containers(e, m->project, &cl, err);
	if (rc)
		return rc;
	/* lines per container: "IP name" for every alias on its networks */
	for (size_t t = 0; t < cl.nr; t++) {
		const struct engine_container *target = &cl.v[t];
		if (!engine_container_running(target))
			continue;
		struct strvec lines = STRVEC_INIT;
		for (size_t c = 0; c < cl.nr; c++) {
			const struct engine_container *src = &cl.v[c];
			int si = src->service ? rt_model_find(m, src->service) : -1;
			if (si < 0 || !engine_container_running(src))
				continue;
			for (size_t n = 0; n < src->networks.nr; n++) {
				if (strvec_find(&target->networks, src->networks.v[n]) < 0 || !*src->ips.v[n])
					continue;
				long ki = strvec_find(&m->net_names, src->networks.v[n]);
				if (ki < 0)
					continue;
				struct strvec names = STRVEC_INIT;
				extra_names(&names, &m->svcs[si], m->net_keys.v[ki]);
				for (size_t a = 0; a < names.nr; a++) {
					struct strbuf l = STRBUF_INIT;
					strbuf_addf(&l, "%s %s", src->ips.v[n], names.v[a]);
					if (strvec_find(&lines, l.buf) < 0)
						strvec_push(&lines, l.buf);
					strbuf_release(&l);
				}
				strvec_clear(&names);
			}
		}
		if (lines.nr) {
			struct strvec args = STRVEC_INIT;
			strvec_pushl(&args, "exec", target->name, "/bin/sh", "-c", hosts_script, "berth-hosts", NULL);
			for (size_t i = 0; i < lines.nr; i++)
				strvec_push(&args, lines.v[i]);
			struct berth_error xerr = BERTH_ERROR_INIT;
			if (engine_run(e, NULL, &args, 30000, false, &xerr))
				strvec_pushf(warnings, "cannot write network aliases into %s's /etc/hosts: %s",
					     target->name, xerr.msg ? xerr.msg : "exec failed");
			berth_error_release(&xerr);
			strvec_clear(&args);
		}
		strvec_clear(&lines);
	}
	engine_container_list_release(&cl);
	return 0;
}
