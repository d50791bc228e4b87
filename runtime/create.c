/* Service config -> engine argv for one container. One code path for the
 * three CLIs, steered by the dialect's caps; every normalisation of a Docker
 * vs containerd difference adds a one-line notice. */
#include "runtime/create.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/parse.h"
#include "common/strbuf.h"
#include "compose/node.h"
#include "compose/project.h"
#include "runtime/engine.h"
#include "runtime/model.h"
#include "common/banned.h"

void rt_create_cmds_release(struct rt_create_cmds *c)
{
	strvec_clear(&c->argv);
	for (size_t i = 0; i < c->connect_nr; i++)
		strvec_clear(&c->connect[i]);
	free(c->connect);
	strvec_clear(&c->notices);
	strvec_clear(&c->warnings);
	c->connect = NULL;
	c->connect_nr = 0;
}

/* Scalar text as Go prints it. Returns a pointer into sb or the node. */
static const char *text(struct strbuf *sb, const struct node *n)
{
	strbuf_reset(sb);
	if (!n)
		return "";
	switch (n->kind) {
	case NODE_INT: strbuf_addf(sb, "%" PRId64, n->v.i); return sb->buf;
	case NODE_FLOAT: format_double(sb, n->v.f); return sb->buf;
	case NODE_BOOL: return n->v.b ? "true" : "false";
	case NODE_NULL: return "";
	case NODE_STR: return n->str;
	default: return "";
	}
}

static bool truthy(const struct node *n)
{
	return n && n->kind == NODE_BOOL && n->v.b;
}

static void flag_val(struct strvec *argv, const char *flag, const char *val)
{
	strvec_pushf(argv, "%s=%s", flag, val);
}

bool rt_target_looks_like_file(const char *target)
{
	const char *base = strrchr(target, '/');
	base = base ? base + 1 : target;
	if (!*base)
		return false;
	if (base[0] == '.' && base[1] && strcmp(base, ".."))
		return true;
	const char *dot = strrchr(base, '.');
	if (!dot || dot == base || !dot[1])
		return false;
	size_t ext = strlen(dot + 1);
	/* "app-1.2" is a version, not an extension */
	if (ext > 5 || !((dot[1] >= 'a' && dot[1] <= 'z') || (dot[1] >= 'A' && dot[1] <= 'Z')))
		return false;
	for (const char *c = dot + 1; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9')))
			return false;
	return true;
}

/* Keys this file, the planner or the loader consume. Anything else in a
 * service is reported once as ignored. */
static const char *const known_keys[] = {
	"annotations",
	"blkio_config",
	"build",
	"cap_add",
	"cap_drop",
	"cgroup",
	"cgroup_parent",
	"command",
	"configs",
	"container_name",
	"cpu_shares",
	"cpus",
	"cpuset",
	"depends_on",
	"deploy",
	"devices",
	"dns",
	"dns_opt",
	"dns_search",
	"domainname",
	"entrypoint",
	"env_file",
	"environment",
	"expose",
	"extends",
	"external_links",
	"extra_hosts",
	"group_add",
	"healthcheck",
	"hostname",
	"image",
	"init",
	"ipc",
	"labels",
	"links",
	"logging",
	"mac_address",
	"mem_limit",
	"mem_reservation",
	"memswap_limit",
	"network_mode",
	"networks",
	"oom_kill_disable",
	"oom_score_adj",
	"pid",
	"pids_limit",
	"platform",
	"ports",
	"privileged",
	"profiles",
	"pull_policy",
	"read_only",
	"restart",
	"runtime",
	"scale",
	"secrets",
	"security_opt",
	"shm_size",
	"stdin_open",
	"stop_grace_period",
	"stop_signal",
	"sysctls",
	"tmpfs",
	"tty",
	"ulimits",
	"user",
	"userns_mode",
	"uts",
	"volumes",
	"volumes_from",
	"working_dir",
	NULL,
};

/* scalar key -> flag */
static const struct {
	const char *key, *flag;
} scalar_flags[] = {
	{"user", "--user"},
	{"working_dir", "--workdir"},
	{"domainname", "--domainname"},
	{"ipc", "--ipc"},
	{"pid", "--pid"},
	{"uts", "--uts"},
	{"cgroup", "--cgroupns"},
	{"platform", "--platform"},
	{"runtime", "--runtime"},
	{"stop_signal", "--stop-signal"},
	{"cgroup_parent", "--cgroup-parent"},
	{"userns_mode", "--userns"},
	{"mac_address", "--mac-address"},
	{"shm_size", "--shm-size"},
	{"mem_limit", "--memory"},
	{"memswap_limit", "--memory-swap"},
	{"mem_reservation", "--memory-reservation"},
	{"cpu_shares", "--cpu-shares"},
	{"cpuset", "--cpuset-cpus"},
	{"cpus", "--cpus"},
	{"pids_limit", "--pids-limit"},
	{"oom_score_adj", "--oom-score-adj"},
};

static const struct {
	const char *key, *flag;
} list_flags[] = {
	{"cap_add", "--cap-add"},       {"cap_drop", "--cap-drop"},  {"dns", "--dns"},
	{"dns_search", "--dns-search"}, {"dns_opt", "--dns-option"}, {"security_opt", "--security-opt"},
	{"group_add", "--group-add"},   {"expose", "--expose"},      {"tmpfs", "--tmpfs"},
};

static void add_labels(struct strvec *argv, const struct rt_create_spec *sp)
{
	const struct rt_model *m = sp->m;
	const struct rt_service *s = sp->s;
	struct strbuf sb = STRBUF_INIT;
	strvec_pushf(argv, "--label=%s=%s", LABEL_PROJECT, m->project);
	strvec_pushf(argv, "--label=%s=%s", LABEL_SERVICE, s->name);
	strvec_pushf(argv, "--label=%s=%d", LABEL_NUMBER, sp->number);
	strvec_pushf(argv, "--label=%s=False", LABEL_ONEOFF);
	strvec_pushf(argv, "--label=%s=%s", LABEL_HASH, s->hash);
	if (sp->image_id)
		strvec_pushf(argv, "--label=%s=%s", LABEL_IMAGE, sp->image_id);
	strvec_pushf(argv, "--label=%s=%s", LABEL_WORKDIR, m->p->dir);
	strvec_pushf(argv, "--label=%s=%s", LABEL_CONFIG_FILES, m->config_files);
	strvec_pushf(argv, "--label=%s=%s", LABEL_DEPENDS, s->depends_label);
	strvec_pushf(argv, "--label=%s=%s", LABEL_VERSION, BERTH_VERSION);
	const struct node *labels = node_map_get(s->node, "labels");
	for (size_t i = 0; labels && labels->kind == NODE_MAP && i < labels->nr; i++) {
		const char *k = labels->kvs[i].key->str;
		if (!strncmp(k, "com.docker.compose.", 19))
			continue;
		strvec_pushf(argv, "--label=%s=%s", k, text(&sb, labels->kvs[i].value));
	}
	strbuf_release(&sb);
}

static void add_env(struct strvec *argv, const struct node *svc)
{
	struct strbuf sb = STRBUF_INIT;
	const struct node *env = node_map_get(svc, "environment");
	for (size_t i = 0; env && env->kind == NODE_MAP && i < env->nr; i++) {
		const struct node *v = env->kvs[i].value;
		/* `environment: [FOO]` with FOO unset in berth's environment:
		 * the variable is not set in the container, as with Docker */
		if (!v || v->kind == NODE_NULL)
			continue;
		strvec_push(argv, "-e");
		strvec_pushf(argv, "%s=%s", env->kvs[i].key->str, text(&sb, v));
	}
	strbuf_release(&sb);
}

static void add_ports(struct strvec *argv, struct rt_create_cmds *out, const struct rt_service *s)
{
	struct strbuf sb = STRBUF_INIT, spec = STRBUF_INIT;
	const struct node *ports = node_map_get(s->node, "ports");
	for (size_t i = 0; ports && ports->kind == NODE_SEQ && i < ports->nr; i++) {
		const struct node *p = ports->items[i];
		const struct node *hip = node_map_get(p, "host_ip"), *pub = node_map_get(p, "published");
		const struct node *proto = node_map_get(p, "protocol");
		strbuf_reset(&spec);
		const char *ip = hip ? text(&sb, hip) : "";
		if (*ip) {
			if (strchr(ip, ':'))
				strbuf_addf(&spec, "[%s]:", ip);
			else
				strbuf_addf(&spec, "%s:", ip);
		}
		const char *published = pub ? text(&sb, pub) : "";
		if (*published)
			strbuf_addf(&spec, "%s:", published);
		else if (*ip)
			strbuf_addch(&spec, ':');
		strbuf_addstr(&spec, text(&sb, node_map_get(p, "target")));
		const char *pr = proto ? text(&sb, proto) : "tcp";
		if (*pr && strcmp(pr, "tcp"))
			strbuf_addf(&spec, "/%s", pr);
		strvec_push(argv, "-p");
		strvec_push(argv, spec.buf);
		if (!*published)
			strvec_pushf(&out->notices,
				     "service \"%s\": ports[%zu]: no host port given: the engine picks one "
				     "(\"berth compose ps\" shows it)",
				     s->name, i);
		const struct node *mode = node_map_get(p, "mode");
		if (mode && mode->str && !strcmp(mode->str, "host"))
			strvec_pushf(&out->notices, "service \"%s\": ports[%zu]: mode host published as ingress",
				     s->name, i);
	}
	strbuf_release(&sb);
	strbuf_release(&spec);
}

static void add_volumes(struct strvec *argv, struct rt_create_cmds *out, const struct engine *e,
			const struct rt_create_spec *sp)
{
	struct strbuf sb = STRBUF_INIT, spec = STRBUF_INIT;
	const struct rt_service *s = sp->s;
	const struct node *vols = node_map_get(s->node, "volumes");
	for (size_t i = 0; vols && vols->kind == NODE_SEQ && i < vols->nr; i++) {
		const struct node *v = vols->items[i];
		const struct node *type = node_map_get(v, "type"), *src = node_map_get(v, "source");
		const struct node *tgt = node_map_get(v, "target");
		const char *t = type && type->str ? type->str : "volume";
		const char *target = tgt ? text(&sb, tgt) : "";
		strbuf_reset(&spec);
		if (!strcmp(t, "tmpfs")) {
			const struct node *tm = node_map_get(v, "tmpfs");
			const struct node *size = tm ? node_map_get(tm, "size") : NULL;
			const struct node *mode = tm ? node_map_get(tm, "mode") : NULL;
			strbuf_addstr(&spec, target);
			struct strbuf tmp = STRBUF_INIT;
			if (size)
				strbuf_addf(&spec, ":size=%s", text(&tmp, size));
			if (mode) {
				strbuf_addstr(&spec, size ? ",mode=" : ":mode=");
				if (mode->kind == NODE_INT)
					strbuf_addf(&spec, "%" PRIo64, (uint64_t)mode->v.i);
				else
					strbuf_addstr(&spec, text(&tmp, mode));
			}
			strbuf_release(&tmp);
			strvec_push(argv, "--tmpfs");
			strvec_push(argv, spec.buf);
			continue;
		}
		if (strcmp(t, "bind") && strcmp(t, "volume")) {
			strvec_pushf(&out->warnings,
				     "service \"%s\": volumes[%zu]: type \"%s\" is not supported; ignored", s->name, i,
				     t);
			continue;
		}
		const char *source = src ? src->str : NULL;
		struct strbuf opts = STRBUF_INIT;
		if (truthy(node_map_get(v, "read_only")))
			strbuf_addstr(&opts, "ro");
		if (!strcmp(t, "bind")) {
			const struct node *bind = node_map_get(v, "bind");
			const struct node *prop = bind ? node_map_get(bind, "propagation") : NULL;
			const struct node *sel = bind ? node_map_get(bind, "selinux") : NULL;
			if (prop && prop->str && *prop->str)
				strbuf_addf(&opts, "%s%s", opts.len ? "," : "", prop->str);
			if (sel && sel->str && *sel->str)
				strbuf_addf(&opts, "%s%s", opts.len ? "," : "", sel->str);
		} else if (source) {
			const char *name = rt_volume_name(sp->m, source);
			if (name)
				source = name;
			const struct node *vo = node_map_get(v, "volume");
			if (vo && truthy(node_map_get(vo, "nocopy"))) {
				if (e->d->kind == ENGINE_NERDCTL)
					strvec_pushf(
						&out->notices,
						"service \"%s\": volumes[%zu]: nocopy is not supported by nerdctl; "
						"the volume is populated from the image",
						s->name, i);
				else
					strbuf_addf(&opts, "%snocopy", opts.len ? "," : "");
			}
		}
		if (source && *source)
			strbuf_addf(&spec, "%s:%s", source, target);
		else
			strbuf_addstr(&spec, target);
		if (opts.len)
			strbuf_addf(&spec, ":%s", opts.buf);
		strbuf_release(&opts);
		strvec_push(argv, "-v");
		strvec_push(argv, spec.buf);
	}
	strbuf_release(&sb);
	strbuf_release(&spec);
}

/* secrets and configs from files: read-only binds, as Docker Compose does
 * without swarm. */
static void add_file_refs(struct strvec *argv, struct rt_create_cmds *out, const struct rt_create_spec *sp,
			  const char *kind)
{
	const struct node *refs = node_map_get(sp->s->node, kind);
	const struct node *top = node_map_get(sp->m->p->model, kind);
	bool secrets = !strcmp(kind, "secrets");
	for (size_t i = 0; refs && refs->kind == NODE_SEQ && i < refs->nr; i++) {
		const struct node *r = refs->items[i];
		const struct node *src = node_map_get(r, "source"), *tgt = node_map_get(r, "target");
		if (!src || !src->str)
			continue;
		const struct node *def = top ? node_map_get(top, src->str) : NULL;
		const struct node *file = def ? node_map_get(def, "file") : NULL;
		if (!file || !file->str) {
			strvec_pushf(&out->warnings,
				     "service \"%s\": %s \"%s\": only file-based %s are supported; ignored",
				     sp->s->name, secrets ? "secret" : "config", src->str, kind);
			continue;
		}
		struct strbuf target = STRBUF_INIT;
		if (tgt && tgt->str && tgt->str[0] == '/')
			strbuf_addstr(&target, tgt->str);
		else if (secrets)
			strbuf_addf(&target, "/run/secrets/%s", tgt && tgt->str ? tgt->str : src->str);
		else
			strbuf_addf(&target, "/%s", tgt && tgt->str ? tgt->str : src->str);
		strvec_push(argv, "-v");
		strvec_pushf(argv, "%s:%s:ro", file->str, target.buf);
		strbuf_release(&target);
		if (node_map_get(r, "uid") || node_map_get(r, "gid") || node_map_get(r, "mode"))
			strvec_pushf(&out->notices, "service \"%s\": %s \"%s\": uid/gid/mode are not applied to a bind",
				     sp->s->name, secrets ? "secret" : "config", src->str);
	}
}

static void add_duration_secs(struct strvec *argv, const char *flag, const struct node *n)
{
	int64_t ns;
	if (!n || !n->str || parse_duration(&ns, n->str))
		return;
	int64_t secs = (ns + 999999999) / 1000000000;
	strvec_pushf(argv, "%s=%" PRId64, flag, secs);
}

static void shell_quote(struct strbuf *out, const char *s)
{
	bool plain = *s != 0;
	for (const char *c = s; *c; c++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:,@%+", *c))
			plain = false;
	if (plain) {
		strbuf_addstr(out, s);
		return;
	}
	strbuf_addch(out, '\'');
	for (const char *c = s; *c; c++) {
		if (*c == '\'')
			strbuf_addstr(out, "'\\''");
		else
			strbuf_addch(out, *c);
	}
	strbuf_addch(out, '\'');
}

static void add_healthcheck(struct strvec *argv, struct rt_create_cmds *out, const struct engine *e,
			    const struct rt_service *s)
{
	const struct node *hc = node_map_get(s->node, "healthcheck");
	if (!e->caps.health_flags) {
		if (hc && !s->health_disabled)
			strvec_pushf(&out->notices,
				     "service \"%s\": healthcheck: %s %s runs no healthchecks: berth runs the test "
				     "itself with exec while it waits, and for ps",
				     s->name, e->d->name, e->version);
		return;
	}
	if (!hc)
		return;
	if (s->health_disabled) {
		strvec_push(argv, "--no-healthcheck");
		return;
	}
	struct strbuf sb = STRBUF_INIT;
	const struct node *test = node_map_get(hc, "test");
	if (test && test->kind == NODE_SEQ && test->nr) {
		const char *kind = test->items[0]->str;
		struct strbuf cmd = STRBUF_INIT;
		if (!strcmp(kind, "CMD-SHELL") && test->nr > 1) {
			strbuf_addstr(&cmd, test->items[1]->str);
		} else if (!strcmp(kind, "CMD")) {
			if (e->d->kind == ENGINE_PODMAN) {
				/* podman keeps exec form when given a JSON array */
				strbuf_addch(&cmd, '[');
				for (size_t i = 1; i < test->nr; i++) {
					if (i > 1)
						strbuf_addch(&cmd, ',');
					strbuf_add_json_string(&cmd, test->items[i]->str, test->items[i]->len);
				}
				strbuf_addch(&cmd, ']');
			} else {
				/* docker's --health-cmd is always CMD-SHELL: quote the words */
				for (size_t i = 1; i < test->nr; i++) {
					if (i > 1)
						strbuf_addch(&cmd, ' ');
					shell_quote(&cmd, test->items[i]->str);
				}
				strvec_pushf(&out->notices,
					     "service \"%s\": healthcheck: exec-form test passed to %s as a shell "
					     "command (quoted)",
					     s->name, e->d->name);
			}
		}
		if (cmd.len)
			flag_val(argv, "--health-cmd", cmd.buf);
		strbuf_release(&cmd);
	}
	static const struct {
		const char *key, *flag;
	} durs[] = {
		{"interval", "--health-interval"},
		{"timeout", "--health-timeout"},
		{"start_period", "--health-start-period"},
	};
	for (size_t i = 0; i < sizeof(durs) / sizeof(durs[0]); i++) {
		const struct node *d = node_map_get(hc, durs[i].key);
		if (d)
			flag_val(argv, durs[i].flag, text(&sb, d));
	}
	const struct node *r = node_map_get(hc, "retries");
	if (r)
		flag_val(argv, "--health-retries", text(&sb, r));
	if (node_map_get(hc, "start_interval"))
		strvec_pushf(&out->notices, "service \"%s\": healthcheck.start_interval is not passed to %s", s->name,
			     e->d->name);
	strbuf_release(&sb);
}

struct net_ref {
	const char *key, *name;
	int64_t priority;
	const struct node *cfg;
};

static int cmp_net(const void *a, const void *b)
{
	const struct net_ref *x = a, *y = b;
	if (x->priority != y->priority)
		return x->priority > y->priority ? -1 : 1;
	return strcmp(x->key, y->key);
}

static void alias_list(struct strvec *out, const struct rt_service *s, const struct node *cfg)
{
	strvec_push(out, s->name);
	const struct node *al = cfg && cfg->kind == NODE_MAP ? node_map_get(cfg, "aliases") : NULL;
	for (size_t i = 0; al && al->kind == NODE_SEQ && i < al->nr; i++)
		if (strvec_find(out, al->items[i]->str) < 0)
			strvec_push(out, al->items[i]->str);
}

static void add_networks(struct strvec *argv, struct rt_create_cmds *out, const struct engine *e,
			 const struct rt_create_spec *sp)
{
	const struct rt_service *s = sp->s;
	const struct node *mode = node_map_get(s->node, "network_mode");
	if (mode && mode->str && *mode->str) {
		if (!strncmp(mode->str, "service:", 8)) {
			int idx = rt_model_find(sp->m, mode->str + 8);
			struct strbuf name = STRBUF_INIT;
			if (idx >= 0)
				rt_container_name(&name, sp->m, &sp->m->svcs[idx], 1);
			else
				strbuf_addf(&name, "%s-%s-1", sp->m->project, mode->str + 8);
			strvec_pushf(argv, "--network=container:%s", name.buf);
			strvec_pushf(&out->notices, "service \"%s\": network_mode \"%s\" run as \"container:%s\"",
				     s->name, mode->str, name.buf);
			strbuf_release(&name);
		} else {
			strvec_pushf(argv, "--network=%s", mode->str);
		}
		return;
	}
	const struct node *nets = node_map_get(s->node, "networks");
	size_t n = nets && nets->kind == NODE_MAP ? nets->nr : 0;
	if (!n)
		return;
	struct net_ref *refs = xcalloc(n, sizeof(*refs));
	for (size_t i = 0; i < n; i++) {
		refs[i].key = nets->kvs[i].key->str;
		refs[i].name = rt_network_name(sp->m, refs[i].key);
		if (!refs[i].name)
			refs[i].name = refs[i].key;
		refs[i].cfg = nets->kvs[i].value;
		const struct node *pr =
			refs[i].cfg && refs[i].cfg->kind == NODE_MAP ? node_map_get(refs[i].cfg, "priority") : NULL;
		refs[i].priority = pr && pr->kind == NODE_INT ? pr->v.i : 0;
	}
	qsort(refs, n, sizeof(*refs), cmp_net);
	for (size_t i = 0; i < n; i++) {
		struct strvec aliases = STRVEC_INIT;
		alias_list(&aliases, s, refs[i].cfg);
		const struct node *ip4 =
			refs[i].cfg && refs[i].cfg->kind == NODE_MAP ? node_map_get(refs[i].cfg, "ipv4_address") : NULL;
		const struct node *ip6 =
			refs[i].cfg && refs[i].cfg->kind == NODE_MAP ? node_map_get(refs[i].cfg, "ipv6_address") : NULL;
		switch (e->caps.aliases) {
		case ENGINE_ALIASES_INLINE: {
			struct strbuf v = STRBUF_INIT;
			strbuf_addf(&v, "%s:", refs[i].name);
			for (size_t k = 0; k < aliases.nr; k++)
				strbuf_addf(&v, "%salias=%s", k ? "," : "", aliases.v[k]);
			if (ip4 && ip4->str)
				strbuf_addf(&v, ",ip=%s", ip4->str);
			if (ip6 && ip6->str)
				strbuf_addf(&v, ",ip6=%s", ip6->str);
			strvec_pushf(argv, "--network=%s", v.buf);
			strbuf_release(&v);
			break;
		}
		case ENGINE_ALIASES_FLAG:
			if (i == 0 || e->caps.multi_network_create) {
				if (i == 0) {
					strvec_pushf(argv, "--network=%s", refs[i].name);
					for (size_t k = 0; k < aliases.nr; k++)
						strvec_pushf(argv, "--network-alias=%s", aliases.v[k]);
					if (ip4 && ip4->str)
						strvec_pushf(argv, "--ip=%s", ip4->str);
					if (ip6 && ip6->str)
						strvec_pushf(argv, "--ip6=%s", ip6->str);
				} else {
					/* docker >= 25: --network name=x,alias=y */
					struct strbuf v = STRBUF_INIT;
					strbuf_addf(&v, "name=%s", refs[i].name);
					for (size_t k = 0; k < aliases.nr; k++)
						strbuf_addf(&v, ",alias=%s", aliases.v[k]);
					if (ip4 && ip4->str)
						strbuf_addf(&v, ",ip=%s", ip4->str);
					strvec_pushf(argv, "--network=%s", v.buf);
					strbuf_release(&v);
				}
			} else {
				out->connect = xrealloc(out->connect, (out->connect_nr + 1) * sizeof(*out->connect));
				struct strvec *c = &out->connect[out->connect_nr++];
				strvec_init(c);
				strvec_pushl(c, "network", "connect", NULL);
				for (size_t k = 0; k < aliases.nr; k++)
					strvec_pushf(c, "--alias=%s", aliases.v[k]);
				if (ip4 && ip4->str)
					strvec_pushf(c, "--ip=%s", ip4->str);
				if (ip6 && ip6->str)
					strvec_pushf(c, "--ip6=%s", ip6->str);
				strvec_push(c, refs[i].name);
				strvec_push(c, sp->name);
			}
			break;
		case ENGINE_ALIASES_HOSTS:
			strvec_pushf(argv, "--network=%s", refs[i].name);
			if (ip4 && ip4->str && n == 1)
				strvec_pushf(argv, "--ip=%s", ip4->str);
			if (aliases.nr > 1)
				strvec_pushf(&out->notices,
					     "service \"%s\": networks.%s.aliases: %s has no network aliases: berth "
					     "writes them into the /etc/hosts of the project's containers on %s",
					     s->name, refs[i].key, e->d->name, refs[i].name);
			break;
		}
		strvec_clear(&aliases);
	}
	free(refs);
}

int rt_create_argv(struct rt_create_cmds *out, const struct engine *e, const struct rt_create_spec *sp,
		   struct berth_error *err)
{
	const struct rt_service *s = sp->s;
	const struct node *svc = s->node;
	struct strbuf sb = STRBUF_INIT;
	struct strvec tail = STRVEC_INIT; /* image and command */
	memset(out, 0, sizeof(*out));
	strvec_init(&out->argv);

	/* networks first: whether one command can do it all depends on them */
	struct strvec netargs = STRVEC_INIT;
	add_networks(&netargs, out, e, sp);
	bool stdin_open = truthy(node_map_get(svc, "stdin_open"));
	out->runs = sp->start && !out->connect_nr && !(stdin_open && e->caps.run_d_no_stdin);
	if (sp->start && stdin_open && e->caps.run_d_no_stdin)
		strvec_pushf(&out->notices,
			     "service \"%s\": stdin_open: %s refuses -i with run -d: the container is created, then "
			     "started",
			     s->name, e->d->name);
	if (out->runs)
		strvec_pushl(&out->argv, "run", "-d", NULL);
	else
		strvec_push(&out->argv, "create");
	strvec_pushf(&out->argv, "--name=%s", sp->name);
	if (e->caps.pull_never)
		strvec_push(&out->argv, e->caps.pull_never);
	add_labels(&out->argv, sp);
	for (size_t i = 0; i < netargs.nr; i++)
		strvec_push(&out->argv, netargs.v[i]);
	strvec_clear(&netargs);

	const struct node *hn = node_map_get(svc, "hostname");
	const struct node *nm = node_map_get(svc, "network_mode");
	if (hn && hn->str && *hn->str) {
		strvec_pushf(&out->argv, "--hostname=%s", hn->str);
		if (e->caps.aliases == ENGINE_ALIASES_HOSTS && strcmp(hn->str, s->name))
			strvec_pushf(&out->notices,
				     "service \"%s\": hostname \"%s\": the service name is written into /etc/hosts by "
				     "berth (%s has no network aliases)",
				     s->name, hn->str, e->d->name);
	} else if (e->caps.aliases == ENGINE_ALIASES_HOSTS && !(nm && nm->str && *nm->str)) {
		/* nerdctl's hosts store lists each container's hostname: this is
		 * what makes the service name resolve, as nerdctl compose does */
		strvec_pushf(&out->argv, "--hostname=%s", s->name);
	}

	for (size_t i = 0; i < sizeof(scalar_flags) / sizeof(scalar_flags[0]); i++) {
		const struct node *v = node_map_get(svc, scalar_flags[i].key);
		if (v && v->kind != NODE_NULL && v->kind != NODE_MAP && v->kind != NODE_SEQ)
			flag_val(&out->argv, scalar_flags[i].flag, text(&sb, v));
	}
	add_duration_secs(&out->argv, "--stop-timeout", node_map_get(svc, "stop_grace_period"));
	for (size_t i = 0; i < sizeof(list_flags) / sizeof(list_flags[0]); i++) {
		const struct node *v = node_map_get(svc, list_flags[i].key);
		for (size_t k = 0; v && v->kind == NODE_SEQ && k < v->nr; k++)
			flag_val(&out->argv, list_flags[i].flag, text(&sb, v->items[k]));
	}
	if (truthy(node_map_get(svc, "privileged")))
		strvec_push(&out->argv, "--privileged");
	if (truthy(node_map_get(svc, "read_only")))
		strvec_push(&out->argv, "--read-only");
	if (truthy(node_map_get(svc, "init")))
		strvec_push(&out->argv, "--init");
	if (truthy(node_map_get(svc, "oom_kill_disable")))
		strvec_push(&out->argv, "--oom-kill-disable");

	/* restart: restart: wins over deploy.restart_policy */
	const struct node *restart = node_map_get(svc, "restart");
	const struct node *deploy = node_map_get(svc, "deploy");
	if (restart && restart->str && *restart->str) {
		flag_val(&out->argv, "--restart", restart->str);
	} else if (deploy) {
		const struct node *rp = node_map_get(deploy, "restart_policy");
		const struct node *cond = rp ? node_map_get(rp, "condition") : NULL;
		if (cond && cond->str) {
			const struct node *max = node_map_get(rp, "max_attempts");
			if (!strcmp(cond->str, "none") || !strcmp(cond->str, "no"))
				flag_val(&out->argv, "--restart", "no");
			else if (!strcmp(cond->str, "on-failure") && max)
				strvec_pushf(&out->argv, "--restart=on-failure:%s", text(&sb, max));
			else if (!strcmp(cond->str, "on-failure"))
				flag_val(&out->argv, "--restart", "on-failure");
			else
				flag_val(&out->argv, "--restart", "always");
		}
	}
	if (deploy) {
		const struct node *res = node_map_get(deploy, "resources");
		const struct node *lim = res ? node_map_get(res, "limits") : NULL;
		const struct node *rsv = res ? node_map_get(res, "reservations") : NULL;
		if (lim && node_map_get(lim, "cpus") && !node_map_get(svc, "cpus"))
			flag_val(&out->argv, "--cpus", text(&sb, node_map_get(lim, "cpus")));
		if (lim && node_map_get(lim, "memory") && !node_map_get(svc, "mem_limit"))
			flag_val(&out->argv, "--memory", text(&sb, node_map_get(lim, "memory")));
		if (lim && node_map_get(lim, "pids") && !node_map_get(svc, "pids_limit"))
			flag_val(&out->argv, "--pids-limit", text(&sb, node_map_get(lim, "pids")));
		if (rsv && node_map_get(rsv, "memory") && !node_map_get(svc, "mem_reservation"))
			flag_val(&out->argv, "--memory-reservation", text(&sb, node_map_get(rsv, "memory")));
		if (rsv && node_map_get(rsv, "devices"))
			strvec_pushf(&out->warnings,
				     "service \"%s\": deploy.resources.reservations.devices is not "
				     "supported; ignored",
				     s->name);
	}

	bool tty = truthy(node_map_get(svc, "tty")), in = truthy(node_map_get(svc, "stdin_open"));
	if (in)
		strvec_push(&out->argv, "--interactive");
	if (tty)
		strvec_push(&out->argv, "--tty");

	const struct node *eh = node_map_get(svc, "extra_hosts");
	for (size_t i = 0; eh && eh->kind == NODE_SEQ && i < eh->nr; i++) {
		const char *h = eh->items[i]->str;
		const char *eq = strchr(h, '=');
		if (eq)
			strvec_pushf(&out->argv, "--add-host=%.*s:%s", (int)(eq - h), h, eq + 1);
		else
			flag_val(&out->argv, "--add-host", h);
	}
	for (size_t i = 0; eh && eh->kind == NODE_MAP && i < eh->nr; i++)
		strvec_pushf(&out->argv, "--add-host=%s:%s", eh->kvs[i].key->str, text(&sb, eh->kvs[i].value));
	const struct node *sys = node_map_get(svc, "sysctls");
	for (size_t i = 0; sys && sys->kind == NODE_MAP && i < sys->nr; i++)
		strvec_pushf(&out->argv, "--sysctl=%s=%s", sys->kvs[i].key->str, text(&sb, sys->kvs[i].value));
	const struct node *ul = node_map_get(svc, "ulimits");
	for (size_t i = 0; ul && ul->kind == NODE_MAP && i < ul->nr; i++) {
		const struct node *v = ul->kvs[i].value;
		if (v->kind == NODE_MAP) {
			struct strbuf soft = STRBUF_INIT;
			strvec_pushf(&out->argv, "--ulimit=%s=%s:%s", ul->kvs[i].key->str,
				     text(&soft, node_map_get(v, "soft")), text(&sb, node_map_get(v, "hard")));
			strbuf_release(&soft);
		} else {
			strvec_pushf(&out->argv, "--ulimit=%s=%s", ul->kvs[i].key->str, text(&sb, v));
		}
	}
	const struct node *dev = node_map_get(svc, "devices");
	for (size_t i = 0; dev && dev->kind == NODE_SEQ && i < dev->nr; i++) {
		const struct node *d = dev->items[i];
		if (d->kind == NODE_MAP) {
			struct strbuf v = STRBUF_INIT;
			strbuf_addstr(&v, text(&sb, node_map_get(d, "source")));
			if (node_map_get(d, "target"))
				strbuf_addf(&v, ":%s", text(&sb, node_map_get(d, "target")));
			if (node_map_get(d, "permissions"))
				strbuf_addf(&v, ":%s", text(&sb, node_map_get(d, "permissions")));
			flag_val(&out->argv, "--device", v.buf);
			strbuf_release(&v);
		} else {
			flag_val(&out->argv, "--device", text(&sb, d));
		}
	}
	const struct node *logging = node_map_get(svc, "logging");
	if (logging) {
		const struct node *drv = node_map_get(logging, "driver");
		const struct node *lo = node_map_get(logging, "options");
		if (drv && drv->str)
			flag_val(&out->argv, "--log-driver", drv->str);
		for (size_t i = 0; lo && lo->kind == NODE_MAP && i < lo->nr; i++)
			strvec_pushf(&out->argv, "--log-opt=%s=%s", lo->kvs[i].key->str, text(&sb, lo->kvs[i].value));
	}
	const struct node *vf = node_map_get(svc, "volumes_from");
	for (size_t i = 0; vf && vf->kind == NODE_SEQ && i < vf->nr; i++) {
		const char *v = vf->items[i]->str;
		if (!strncmp(v, "container:", 10)) {
			flag_val(&out->argv, "--volumes-from", v + 10);
			continue;
		}
		const char *colon = strchr(v, ':');
		char *svcname = colon ? xstrndup(v, (size_t)(colon - v)) : xstrdup(v);
		int idx = rt_model_find(sp->m, svcname);
		struct strbuf name = STRBUF_INIT;
		if (idx >= 0)
			rt_container_name(&name, sp->m, &sp->m->svcs[idx], 1);
		else
			strbuf_addstr(&name, svcname);
		if (colon)
			strbuf_addstr(&name, colon);
		flag_val(&out->argv, "--volumes-from", name.buf);
		strbuf_release(&name);
		free(svcname);
	}
	const struct node *ann = node_map_get(svc, "annotations");
	for (size_t i = 0; ann && ann->kind == NODE_MAP && i < ann->nr; i++) {
		if (e->d->kind == ENGINE_DOCKER) {
			strvec_pushf(&out->warnings,
				     "service \"%s\": annotations are not supported by docker's CLI; "
				     "ignored",
				     s->name);
			break;
		}
		strvec_pushf(&out->argv, "--annotation=%s=%s", ann->kvs[i].key->str, text(&sb, ann->kvs[i].value));
	}
	if (node_map_get(svc, "links") || node_map_get(svc, "external_links"))
		strvec_pushf(&out->notices,
			     "service \"%s\": links: services reach each other by name on shared "
			     "networks; link aliases are not created",
			     s->name);

	add_env(&out->argv, svc);
	add_ports(&out->argv, out, s);
	add_volumes(&out->argv, out, e, sp);
	add_file_refs(&out->argv, out, sp, "secrets");
	add_file_refs(&out->argv, out, sp, "configs");
	add_healthcheck(&out->argv, out, e, s);

	/* entrypoint: the CLI takes one word; the rest go before the command */
	const struct node *ep = node_map_get(svc, "entrypoint");
	const struct node *cmd = node_map_get(svc, "command");
	if (ep && ep->kind == NODE_SEQ) {
		flag_val(&out->argv, "--entrypoint", ep->nr ? ep->items[0]->str : "");
		for (size_t i = 1; i < ep->nr; i++)
			strvec_push(&tail, ep->items[i]->str);
	}
	if (cmd && cmd->kind == NODE_SEQ) {
		for (size_t i = 0; i < cmd->nr; i++)
			strvec_push(&tail, text(&sb, cmd->items[i]));
	}
	strvec_push(&out->argv, s->image);
	for (size_t i = 0; i < tail.nr; i++)
		strvec_push(&out->argv, tail.v[i]);
	strvec_clear(&tail);

	for (size_t i = 0; i < svc->nr; i++) {
		const char *k = svc->kvs[i].key->str;
		bool known = !strncmp(k, "x-", 2);
		for (const char *const *kk = known_keys; *kk && !known; kk++)
			known = !strcmp(k, *kk);
		if (!known)
			strvec_pushf(&out->warnings, "service \"%s\": %s is not supported by berth yet; ignored",
				     s->name, k);
	}
	strbuf_release(&sb);
	(void)err;
	return 0;
}

void rt_health_exec_argv(struct strvec *out, const char *container, const struct strvec *test)
{
	if (!test->nr || !strcmp(test->v[0], "NONE"))
		return;
	strvec_pushl(out, "exec", container, NULL);
	if (!strcmp(test->v[0], "CMD-SHELL")) {
		strvec_pushl(out, "/bin/sh", "-c", test->nr > 1 ? test->v[1] : "true", NULL);
	} else if (!strcmp(test->v[0], "CMD")) {
		for (size_t i = 1; i < test->nr; i++)
			strvec_push(out, test->v[i]);
	} else {
		/* a bare string list: shell form, as Docker treats it */
		strvec_pushl(out, "/bin/sh", "-c", test->v[0], NULL);
	}
}
