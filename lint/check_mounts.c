/* Checks on mounts and the paths the Finch VM can see (BL005-BL012). Bind
 * sources in the canonical model are absolute; the text as written (with its
 * ~ or $HOME) is read back from the source. */
#include <stdlib.h>
#include <string.h>

#include "lint/internal.h"
#include "common/banned.h"

/* Directories Finch's VM mounts from the Mac (finch.yaml.d/mac.yaml), besides ~. */
static const char *const finch_shares[] = { "/tmp/lima", "/private", "/var/folders" };

static const struct node *volumes_of(const struct node *svc)
{
	const struct node *v = node_map_get(svc, "volumes");
	return v && v->kind == NODE_SEQ ? v : NULL;
}

static bool same_pos(const struct node *a, const struct node *b)
{
	return a && b && a->file == b->file && a->line == b->line && a->col == b->col;
}

/* Short syntax: the entry was made from one string and its fields share its position. */
static bool vol_is_short(const struct node *v)
{
	return same_pos(node_map_get(v, "type"), v);
}

static bool is_bind(const struct node *v)
{
	return v->kind == NODE_MAP && !strcmp(lint_str(node_map_get(v, "type")), "bind");
}

/* Appends dir made absolute (~ and relative paths) without a trailing slash. */
static void norm_dir(struct lint_ctx *c, const char *dir, struct strbuf *out)
{
	if (dir[0] == '~' && (dir[1] == '/' || !dir[1]) && c->home)
		strbuf_addf(out, "%s%s", c->home, dir + 1);
	else if (dir[0] != '/' && c->res->cwd)
		strbuf_addf(out, "%s/%s", c->res->cwd, dir);
	else
		strbuf_addstr(out, dir);
	while (out->len > 1 && out->buf[out->len - 1] == '/')
		strbuf_setlen(out, out->len - 1);
}

/* Paths that name the VM's own system files on purpose (/etc/localtime,
 * /var/run/docker.sock): they exist in the VM and are not shared from the Mac. */
static const char *const vm_system[] = { "/dev", "/proc", "/sys", "/run", "/var/run", "/etc", "/usr", "/lib",
					 "/lib64", "/bin", "/sbin" };

static bool vm_shared(struct lint_ctx *c, const char *path)
{
	if (c->home && *c->home && lint_path_under(path, c->home))
		return true;
	for (size_t i = 0; i < sizeof(vm_system) / sizeof(vm_system[0]); i++)
		if (lint_path_under(path, vm_system[i]))
			return true;
	for (size_t i = 0; i < sizeof(finch_shares) / sizeof(finch_shares[0]); i++)
		if (lint_path_under(path, finch_shares[i]))
			return true;
	bool ok = false;
	struct strbuf d = STRBUF_INIT;
	for (size_t i = 0; i < c->opt->mounts.nr && !ok; i++) {
		strbuf_reset(&d);
		norm_dir(c, c->opt->mounts.v[i], &d);
		ok = lint_path_under(path, d.buf);
	}
	strbuf_release(&d);
	return ok;
}

static void shares_list(struct lint_ctx *c, struct strbuf *out)
{
	strbuf_addstr(out, "~");
	for (size_t i = 0; i < sizeof(finch_shares) / sizeof(finch_shares[0]); i++)
		strbuf_addf(out, ", %s", finch_shares[i]);
	for (size_t i = 0; i < c->opt->mounts.nr; i++)
		strbuf_addf(out, ", %s", c->opt->mounts.v[i]);
}

void check_project_outside_vm_share(struct lint_ctx *c)
{
	const char *dir = c->proj->dir;
	if (!dir || !c->proj->config_files.nr || vm_shared(c, dir))
		return;
	struct node at = { .kind = NODE_NULL, .file = c->proj->config_files.v[0], .line = 1, .col = 1 };
	struct strbuf list = STRBUF_INIT;
	shares_list(c, &list);
	lint_emit(c, &at, NULL, "project directory \"%s\" is outside the directories the Finch VM shares (%s)", dir,
		  list.buf);
	strbuf_release(&list);
}

static void outside(struct lint_ctx *c, const struct node *at, const char *key, const char *what, const char *path)
{
	struct strbuf list = STRBUF_INIT;
	shares_list(c, &list);
	lint_emit(c, at, key, "%s \"%s\" is outside the directories the Finch VM shares (%s)", what, path, list.buf);
	strbuf_release(&list);
}

void check_bind_outside_vm_share(struct lint_ctx *c, const char *name, const struct node *svc)
{
	const struct node *vols = volumes_of(svc);
	for (size_t i = 0; vols && i < vols->nr; i++) {
		const struct node *v = vols->items[i];
		const struct node *src = is_bind(v) ? node_map_get(v, "source") : NULL;
		if (src && *lint_str(src) == '/' && !vm_shared(c, src->str))
			outside(c, src, "volumes", "bind source", src->str);
	}
	const struct node *build = node_map_get(svc, "build");
	const struct node *ctx = build ? node_map_get(build, "context") : NULL;
	if (ctx && *lint_str(ctx) == '/' && !vm_shared(c, ctx->str))
		outside(c, ctx, "build.context", "build context", ctx->str);
}

void check_bind_outside_vm_share_top(struct lint_ctx *c)
{
	static const char *const kinds[] = { "secrets", "configs" };
	for (size_t k = 0; k < 2; k++) {
		const struct node *defs = node_map_get(c->proj->model, kinds[k]);
		for (size_t i = 0; defs && defs->kind == NODE_MAP && i < defs->nr; i++) {
			const struct node *file = node_map_get(defs->kvs[i].value, "file");
			if (!file || *lint_str(file) != '/' || vm_shared(c, file->str))
				continue;
			struct strbuf key = STRBUF_INIT;
			strbuf_addf(&key, "%s.%s.file", kinds[k], defs->kvs[i].key->str);
			outside(c, file, key.buf, k ? "config file" : "secret file", file->str);
			strbuf_release(&key);
		}
	}
}

/* The source part of a short volume spec as written: up to the first ':'
 * outside ${...}. */
static void spec_source(const char *spec, struct strbuf *out)
{
	int depth = 0;
	for (const char *p = spec; *p; p++) {
		if (p[0] == '$' && p[1] == '{')
			depth++;
		else if (*p == '}' && depth)
			depth--;
		else if (*p == ':' && !depth)
			break;
		strbuf_addch(out, *p);
	}
}

/* Which of ~, $HOME, $PWD the text depends on, or NULL. */
static const char *home_dependency(const char *s)
{
	if (s[0] == '~' && (s[1] == '/' || !s[1]))
		return "~";
	static const char *const vars[] = { "HOME", "PWD" };
	for (size_t i = 0; i < 2; i++) {
		size_t n = strlen(vars[i]);
		for (const char *p = strchr(s, '$'); p; p = strchr(p + 1, '$')) {
			const char *name = p[1] == '{' ? p + 2 : p + 1;
			if (!strncmp(name, vars[i], n) && !(name[n] == '_' || (name[n] >= 'A' && name[n] <= 'Z') ||
							   (name[n] >= 'a' && name[n] <= 'z') || (name[n] >= '0' && name[n] <= '9')))
				return i ? "$PWD" : "$HOME";
		}
	}
	return NULL;
}

void check_home_in_bind_source(struct lint_ctx *c, const char *name, const struct node *svc)
{
	const struct node *vols = volumes_of(svc);
	bool flow = vols && lint_is_flow(c, vols);
	for (size_t i = 0; vols && i < vols->nr; i++) {
		const struct node *v = vols->items[i];
		if (!is_bind(v))
			continue;
		struct lint_scalar s = LINT_SCALAR_INIT;
		struct strbuf src = STRBUF_INIT;
		const struct node *at = v;
		if (vol_is_short(v)) {
			if (lint_scalar_at(lint_src(c, v), v, flow, &s))
				spec_source(s.value.buf, &src);
		} else {
			at = node_map_get(v, "source");
			if (at && lint_scalar_at(lint_src(c, at), at, lint_is_flow(c, v), &s))
				strbuf_add(&src, s.value.buf, s.value.len);
		}
		const char *dep = src.len ? home_dependency(src.buf) : NULL;
		if (dep) {
			const char *who = c->target == LINT_TARGET_FINCH
						  ? "Finch expands it inside the VM, where it is not your Mac's"
						  : "under sudo nerdctl it is root's or unset";
			struct lint_finding *f = lint_emit(c, at, "volumes", "bind source \"%s\" depends on %s: %s", src.buf,
							   dep, who);
			if (!strcmp(dep, "$PWD"))
				lint_help(f, "use a path relative to the project instead of $PWD (\"./...\")");
		}
		strbuf_release(&src);
		lint_scalar_release(&s);
	}
}

/* Data directories of database images that chown them on start. */
static const char *const db_dirs[] = {
	"/var/lib/postgresql/data", "/var/lib/postgresql", "/var/lib/mysql", "/var/lib/mariadb", "/data/db",
	"/data/configdb", "/var/lib/mongodb", "/var/opt/mssql", "/var/lib/rabbitmq", "/var/lib/cassandra",
	"/usr/share/elasticsearch/data", "/usr/share/opensearch/data", "/var/lib/clickhouse", "/var/lib/couchdb",
	"/opt/couchdb/data", "/bitnami/postgresql", "/bitnami/mysql", "/bitnami/mariadb", "/bitnami/mongodb",
	"/var/lib/influxdb", "/var/lib/influxdb2", "/var/lib/neo4j/data",
};

void check_database_bind_mount(struct lint_ctx *c, const char *name, const struct node *svc)
{
	const struct node *vols = volumes_of(svc);
	for (size_t i = 0; vols && i < vols->nr; i++) {
		const struct node *v = vols->items[i];
		const struct node *tgt = is_bind(v) ? node_map_get(v, "target") : NULL;
		if (!tgt)
			continue;
		for (size_t k = 0; k < sizeof(db_dirs) / sizeof(db_dirs[0]); k++) {
			if (!lint_path_under(lint_str(tgt), db_dirs[k]))
				continue;
			struct lint_finding *f = lint_emit(
				c, tgt, "volumes",
				"bind mount onto \"%s\": the database's chown of its data directory fails on folders shared "
				"from the Mac (finch#81)",
				tgt->str);
			lint_help(f, "use a named volume, such as \"%s-data:%s\"", name, tgt->str);
			break;
		}
	}
}

void check_docker_socket_mount(struct lint_ctx *c, const char *name, const struct node *svc)
{
	const struct node *vols = volumes_of(svc);
	for (size_t i = 0; vols && i < vols->nr; i++) {
		const struct node *v = vols->items[i];
		const struct node *src = is_bind(v) ? node_map_get(v, "source") : NULL;
		const char *s = lint_str(src);
		if (strcmp(s, "/var/run/docker.sock") && strcmp(s, "/run/docker.sock"))
			continue;
		struct lint_finding *f;
		if (c->target == LINT_TARGET_PODMAN) {
			f = lint_emit(c, src, "volumes",
				      "mounts \"%s\": Podman serves a Docker-compatible API only through podman.socket", s);
			lint_help(f, "enable podman.socket and mount /run/podman/podman.sock (rootless: "
				     "$XDG_RUNTIME_DIR/podman/podman.sock) instead");
		} else {
			f = lint_emit(c, src, "volumes",
				      "mounts \"%s\": there is no Docker daemon, nerdctl drives containerd whose socket does "
				      "not speak the Docker API",
				      s);
		}
	}
}

void check_unsupported_mount_type(struct lint_ctx *c, const char *name, const struct node *svc)
{
	const struct node *vols = volumes_of(svc);
	for (size_t i = 0; vols && i < vols->nr; i++) {
		const struct node *v = vols->items[i];
		const struct node *type = v->kind == NODE_MAP ? node_map_get(v, "type") : NULL;
		const char *t = lint_str(type);
		if (!strcmp(t, "image") || !strcmp(t, "npipe") || !strcmp(t, "cluster"))
			lint_emit(c, type, "volumes",
				  "mount of type \"%s\" onto \"%s\" is rejected by nerdctl compose (\"unsupported volume "
				  "type\")",
				  t, lint_str(node_map_get(v, "target")));
	}
}

void check_mount_option_ignored(struct lint_ctx *c, const char *name, const struct node *svc)
{
	const struct node *vols = volumes_of(svc);
	for (size_t i = 0; vols && i < vols->nr; i++) {
		const struct node *v = vols->items[i];
		if (v->kind != NODE_MAP)
			continue;
		const char *target = lint_str(node_map_get(v, "target"));
		struct {
			const char *sub, *key;
		} opts[] = { { NULL, "consistency" }, { "bind", "selinux" }, { "volume", "nocopy" }, { "volume", "subpath" } };
		for (size_t k = 0; k < sizeof(opts) / sizeof(opts[0]); k++) {
			const struct node *m = opts[k].sub ? node_map_get(v, opts[k].sub) : v;
			const struct node *val = m && m->kind == NODE_MAP ? node_map_get(m, opts[k].key) : NULL;
			if (!val || (val->kind == NODE_BOOL && !val->v.b))
				continue;
			const struct node *key = lint_key(m, opts[k].key);
			const struct node *at = key && key->line && !vol_is_short(v) ? key : v;
			lint_emit(c, at, "volumes", "mount onto \"%s\": \"%s%s%s: %s\" is ignored by nerdctl compose", target,
				  opts[k].sub ? opts[k].sub : "", opts[k].sub ? "." : "", opts[k].key, lint_str(val));
		}
	}
}

void check_volume_driver_ignored(struct lint_ctx *c)
{
	const struct node *vols = node_map_get(c->proj->model, "volumes");
	for (size_t i = 0; vols && vols->kind == NODE_MAP && i < vols->nr; i++) {
		const struct node *v = vols->kvs[i].value;
		const char *vname = vols->kvs[i].key->str;
		if (!v || v->kind != NODE_MAP || lint_is_true(node_map_get(v, "external")))
			continue;
		const struct node *driver = node_map_get(v, "driver");
		const struct node *opts = node_map_get(v, "driver_opts");
		struct strbuf key = STRBUF_INIT;
		if (driver && *lint_str(driver) && strcmp(driver->str, "local")) {
			strbuf_addf(&key, "volumes.%s.driver", vname);
			lint_emit(c, driver, key.buf,
				  "volume driver \"%s\" is ignored: nerdctl compose creates a local volume", driver->str);
		} else if (opts && opts->kind == NODE_MAP && opts->nr) {
			strbuf_addf(&key, "volumes.%s.driver_opts", vname);
			const struct node *type = node_map_get(opts, "type");
			lint_emit(c, lint_key(v, "driver_opts"), key.buf,
				  "driver_opts%s%s%s are ignored: nerdctl compose creates a plain local volume",
				  type ? " (type \"" : "", type ? lint_str(type) : "", type ? "\")" : "");
		}
		strbuf_release(&key);
	}
}
